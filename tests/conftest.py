"""Shared test fixtures. Tests run on CPU, offline, with real libraries (no mocks of Snakemake/MLflow/DVC).

`dag_run` (session scope) is THE end-to-end run of the whole DAG that every end-to-end assertion shares: add
assertions to it instead of running the DAG again (each run costs minutes). See `DagRun` below for how to use it.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("MPLBACKEND", "Agg")
if os.environ.get("PYTEST_XDIST_WORKER"):  # one worker per core: torch's OpenMP pool spin-waits when it shares a core
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1)
                                                   // int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")))))


# --- parallel runs (pytest-xdist, `-n` in pyproject's addopts) ---------------------------------------------------
# Tests are sent to workers a file at a time, so a module fixture is built once; the files that share an expensive
# session fixture go to one worker together, so that fixture is built once per run, not once per worker. Files
# holding a `slow` test go first, so the long ones start while the short ones fill in. (xdist's own `xdist_group`
# marks do nothing under pytest 9.2: xdist 3.8 writes the group into `item._nodeid`, which pytest 9 no longer reads.)
SHARED_SESSION_FIXTURES = ("dag_run", "tiny_run_dir")


def file_groups(test_files: list[Path], root: Path) -> dict[str, str]:
    """{test file's node ID: its scheduling group}: the files with a function (test or fixture) that takes a
    SHARED_SESSION_FIXTURES entry as an argument share that fixture's group; every other file is its own group."""
    import ast

    groups = {}
    for f in sorted(test_files):
        nodeid = f.relative_to(root).as_posix()
        args = {a.arg for node in ast.walk(ast.parse(f.read_text(encoding="utf-8")))
                if isinstance(node, ast.FunctionDef) for a in node.args.args}
        groups[nodeid] = next((name for name in SHARED_SESSION_FIXTURES if name in args), nodeid)
    return groups


def pytest_xdist_make_scheduler(config, log):
    from xdist.scheduler import LoadScopeScheduling

    groups = file_groups(list(Path(__file__).parent.glob("test_*.py")), Path(config.rootpath))

    class FileGroupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            file = nodeid.split("::")[0]
            return groups.get(file, file)

    return FileGroupScheduling(config, log)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """On a worker: the files holding a slow test first (the scheduler hands out groups in collection order)."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        slow = {item.nodeid.split("::")[0] for item in items if item.get_closest_marker("slow")}
        items.sort(key=lambda item: item.nodeid.split("::")[0] not in slow)  # stable: file order kept


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def python_bin() -> str:
    return sys.executable


# the mirror beside the checkout (CI's clone has it there); $LGCAA_DATA_MIRROR names another copy
SHARED_DATA = Path(os.environ.get("LGCAA_DATA_MIRROR") or REPO.parent / "shared" / "data")


def in_ci() -> bool:
    """CI (`.ci/run` sets LGCAA_CI=1; most CI services set CI): tests that skip elsewhere fail there instead."""
    return bool(os.environ.get("LGCAA_CI") or os.environ.get("CI"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The read-only mirror of the paper's public test data (`../shared/data` beside the checkout: StableSR's
    RealSR/DRealSR crops, OSEDiff's published outputs and logs, IQA-PyTorch's calibration pairs). Absent: a
    failure in CI, a visible skip elsewhere (`pytest -rs` lists the reason)."""
    if not (SHARED_DATA / "SHA256SUMS").is_file():
        why = f"{SHARED_DATA}: the public test-data mirror is not beside this checkout"
        if in_ci():
            pytest.fail(why)
        pytest.skip(why)
    return SHARED_DATA


@pytest.fixture
def one_torch_thread():
    """Tiny models gain nothing from 2 intra-op threads, and OpenMP spin-waits collapse when other jobs share
    the 2 cores; one thread keeps these tests fast and their timing stable."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="session")
def tiny_run_dir(tmp_path_factory) -> Path:
    """A finished tiny LGCAA run (`profile_helpers.TINY_RUN_SECTION`, one thread), trained once per session;
    its users only read it."""
    import torch
    from profile_helpers import TINY_RUN_SECTION

    from lgcaa.model.config import config_from_dict
    from lgcaa.model.trainer import train

    out = tmp_path_factory.mktemp("tiny-run") / "run"
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        train(config_from_dict(TINY_RUN_SECTION), out, cpu=True, preview_count=0, log=lambda s: None)
    finally:
        torch.set_num_threads(n)
    return out


# --------------------------------------------------------------------------------------------------------
# The one end-to-end DAG run
# --------------------------------------------------------------------------------------------------------

DAG_FILES = ("Snakefile", "dvc.yaml", "params.yaml", ".dvcignore")  # copied with workflow/ and results/paper/


def dag_config() -> dict[str, Any]:
    """The mini profile cut to what an end-to-end run needs to touch every stage in ~3 minutes on 2 cores.

    2 photos at 128 px, both mini datasets (bicubic and Real-ESRGAN LR), two baselines (classical and the
    offline ncnn GAN), every metric (those without weights come out 'missing'), one tiny LGCAA run (6 training
    steps, on a 3-step backbone preparation) sampled at 3 steps on both sets with k = 2 seeds for `lgcaa` (seed instances `lgcaa@seed1`); Table I,
    the curve (two baselines standing in for a step sweep) and the figures; Tables II/III unconfigured.
    """
    from lgcaa.config import load_config, validate

    cfg = copy.deepcopy(load_config(None))
    cfg["mini"].update(photos=["astronaut", "chelsea"], hr_size=128)
    for ds in cfg["datasets"].values():
        ds["expected_count"] = 2
    cfg["methods"] = ["bicubic", "realesrgan-x4plus"]
    cfg["seeds"] = {"k": 2, "methods": ["lgcaa"]}
    cfg["model"]["train"].update(steps=6, checkpoint_every=3, log_every=3, pair_pool=8)
    cfg["model"]["prepare"] = {"vae_steps": 2, "unet_steps": 1, "vae_batch": 2, "unet_batch": 2}  # the rule's wiring
    cfg["model"]["runs"] = {
        "lgcaa": {
            "label": "LGCAA",
            "datasets": list(cfg["datasets"]),
            "train": {"preview_images": 0},
            "sample": {"steps": 3},
        }
    }
    for name in ("table2", "table3"):
        cfg["tables"].pop(name, None)
    cfg["tables"]["table1"]["methods"] = [*cfg["methods"], "lgcaa"]
    # wiring check of the curve (Fig. 8): two baselines stand in for a sampling-step sweep (each LGCAA sampling job
    # costs a process start with torch + diffusers)
    cfg["tables"]["curves"] = {
        "dataset": "mini-realesrgan",
        "series": [{"label": "stand-in", "points": [{"steps": 30, "method": "bicubic"},
                                                     {"steps": 40, "method": "realesrgan-x4plus"}]}],
    }
    return validate(cfg, source="tests/conftest.py dag_config()")


def tool_env() -> dict[str, str]:
    """The environment for Snakemake/DVC subprocesses: this interpreter's bin first, no DVC analytics."""
    return {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "DVC_NO_ANALYTICS": "1"}


@dataclass(frozen=True)
class DagRun:
    """A finished `dvc repro` (= `snakemake --cores 2 tables --configfile config.json`) in a workspace.

    How to use it (session-scoped fixture `dag_run`):
      - read anything: `dag_run.path(dag_run.layout.aggregate("mini-bicubic", "bicubic"))`,
        `dag_run.path("results/tables/table1.md")`, `dag_run.cfg` (the validated profile), MLflow at
        `dag_run.path("results/mlflow.db")`;
      - run a tool in it without changing it: `dag_run.snakemake("tables", "-n")`, `dag_run.dvc("metrics", "show")`;
      - anything that writes (forced reruns, corrupted inputs, other configs' real runs, moved trees) works on
        its own copy: `mine = dag_run.copy(tmp_path / "ws")` (a copy keeps mtimes and Snakemake's metadata).
    The workspace holds Snakefile, workflow/, dvc.yaml, params.yaml (args: --configfile config.json, cores 2),
    results/paper/, config.json = `dag_config()` with relative paths (data/, results/), and `.dvc/`.
    """

    root: Path
    cfg: dict[str, Any]

    @property
    def config(self) -> Path:
        return self.root / "config.json"

    @property
    def layout(self):
        from lgcaa.layout import Layout

        return Layout.of(self.cfg)

    def path(self, rel: str) -> Path:
        return self.root / rel

    def run(self, *cmd: str, timeout: int = 900) -> subprocess.CompletedProcess:
        return subprocess.run(list(cmd), cwd=self.root, check=False, capture_output=True, text=True, env=tool_env(),
                              timeout=timeout)

    def snakemake(self, *args: str, configfile: str = "config.json") -> subprocess.CompletedProcess:
        # `--configfile=F` (one value): the flag takes several, so a following target would be read as a file
        return self.run(sys.executable, "-m", "snakemake", "--cores", "2", f"--configfile={configfile}", *args)

    def dvc(self, *args: str) -> subprocess.CompletedProcess:
        return self.run("dvc", *args)

    def copy(self, dest: Path) -> DagRun:
        shutil.copytree(self.root, dest, symlinks=True)
        return DagRun(dest, self.cfg)


def make_workspace(repo: Path, ws: Path, cfg: dict[str, Any]) -> DagRun:
    """A fresh DAG workspace at `ws` (files of `DAG_FILES`, workflow/, results/paper/, config.json, DVC)."""
    ws.mkdir(parents=True, exist_ok=True)
    for name in DAG_FILES:
        shutil.copy(repo / name, ws / name)
    shutil.copytree(repo / "workflow", ws / "workflow")
    shutil.copytree(repo / "results" / "paper", ws / "results" / "paper")
    (ws / "config.json").write_text(json.dumps(cfg))
    params = (ws / "params.yaml").read_text()
    params = params.replace('args: ""', 'args: "--configfile config.json"').replace("cores: 8", "cores: 2")
    (ws / "params.yaml").write_text(params)
    run = DagRun(ws, cfg)
    for cmd in (("init", "--no-scm", "-q"), ("config", "core.analytics", "false")):
        res = run.dvc(*cmd)
        assert res.returncode == 0, res.stderr
    return run


@pytest.fixture(scope="session")
def dag_run(repo_root, tmp_path_factory) -> DagRun:
    """The one end-to-end run of the whole DAG, through `dvc repro` (see `DagRun`)."""
    run = make_workspace(repo_root, tmp_path_factory.mktemp("dag") / "ws", dag_config())
    res = run.dvc("repro")
    assert res.returncode == 0, (res.stdout + res.stderr)[-4000:]
    return run
