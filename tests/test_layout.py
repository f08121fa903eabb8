"""lgcaa.layout (every results path and file name) and lgcaa.instances (method instances, seeds, job plans)."""

from __future__ import annotations

import ast
import copy
import re
import subprocess
import sys
from pathlib import Path

import pytest

from lgcaa import layout
from lgcaa.config import load_config, validate
from lgcaa.errors import UserError
from lgcaa.instances import find_sr_job, model_runs, sample_jobs, seed_instances, sr_jobs, sr_pairs, steps_name
from lgcaa.layout import Layout, beside, eval_record_of, per_image_of

REPO = Path(__file__).resolve().parents[1]


def test_paths_are_the_profile_roots_joined_as_written():
    lay = Layout("res", "dat")
    assert lay.manifest("d") == "dat/d/manifest.json" and lay.lr_dir("d") == "dat/d/lr"
    assert lay.sr_dir("d", "m@seed1") == "res/sr/d/m@seed1"
    assert lay.sr_record("d", "m") == "res/sr/d/m.run.json"
    assert lay.aggregate("d", "m") == "res/metrics/d/m/aggregate.json"
    assert lay.eval_record("d", "m") == "res/metrics/d/m/run.json"
    assert lay.train_done("r") == "res/models/r/train.json" and lay.train_record("r") == "res/models/r/run.json"
    assert lay.table_files("table1")[0] == "res/tables/table1.csv" and lay.table_record("t") == "res/tables/t.run.json"
    assert lay.log("sr", "d", "m") == "res/logs/sr/d/m.log" and lay.mlflow_file("runs") == "res/mlflow/runs.json"
    assert lay.cache_dir() == "res/cache" and Layout("res", "dat", "/c").cache_dir() == "/c"
    # a rule pattern is the same function called with wildcards
    assert lay.sr_dir("{dataset}", "{method}") == "res/sr/{dataset}/{method}"
    assert str(beside("res/sr/d/m", ".missing.json")) == "res/sr/d/m.missing.json"
    assert lay.figure_files("{fig}") == {s: f"res/figures/{{fig}}.{s}" for s in ("png", "pdf", "csv")}
    assert lay.figure_record("fig8") == "res/report/pd_curve.run.json" and lay.claims_record() == "res/claims/claims.run.json"
    assert (lay.report_html(), lay.report_record()) == ("res/report/index.html", "res/report/index.run.json")
    agg = lay.aggregate("d", "m")
    assert (str(per_image_of(agg)), str(eval_record_of(agg))) == (lay.per_image("d", "m"), lay.eval_record("d", "m"))


# every results file name the layout declares, by its spelling (a bare name, or the suffix beside a folder);
# a dataset folder's manifest.json included: the data package asks the layout for it too
FILE_NAMES = [v for k, v in vars(layout).items() if k.isupper() and isinstance(v, str) and v.endswith((".json", ".csv"))]


def _names_a_results_file(text: str) -> str | None:
    """The layout file name that this string literal spells as a path (its last component), if any."""
    base = text.rsplit("/", 1)[-1]
    for name in FILE_NAMES:
        if base == name or (name.startswith(".") and base.endswith(name) and " " not in base):
            return name
    return None


def _literals(path: Path):
    """(line, text) of every string literal of a Python file except docstrings; of every quoted string of a rule file."""
    source = path.read_text()
    if path.suffix == ".py":
        tree = ast.parse(source)
        docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                      if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and n.body
                      and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                yield node.lineno, node.value
    else:
        for i, line in enumerate(source.splitlines(), 1):
            code = line.split("#", 1)[0] if not line.lstrip().startswith("#") else ""
            for m in re.finditer(r"(['\"])(.*?)\1", code):
                yield i, m.group(2)


def test_results_file_names_are_spelled_only_by_the_layout():
    assert {"aggregate.json", "per_image.csv", "run.json", ".run.json", "train.json", "lock.json",
            "manifest.json"} <= set(FILE_NAMES)
    files = [p for d in ("lgcaa", "baselines") for p in (REPO / d).rglob("*.py")]
    files += [*(REPO / "workflow").rglob("*.smk"), REPO / "Snakefile"]
    found = [f"{p.relative_to(REPO)}:{line}: {text!r} spells {name!r}"
             for p in files if p != REPO / "lgcaa" / "layout.py"
             for line, text in _literals(p) if (name := _names_a_results_file(text))]
    assert not found, "use the names/accessors of lgcaa.layout instead:\n" + "\n".join(found)
    # the check itself finds what it looks for
    assert _names_a_results_file("/aggregate.json") and _names_a_results_file("index.run.json")
    assert _names_a_results_file("*/manifest.json")
    assert not _names_a_results_file("lgcaa-weights.lock.json") and not _names_a_results_file("writes a run.json file")


def test_the_layout_sits_at_the_bottom_of_the_import_graph():
    tree = ast.parse((REPO / "lgcaa" / "layout.py").read_text())
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert {m for m in imported if m.split(".")[0] in ("lgcaa", "baselines")} <= {"lgcaa.io", "lgcaa.errors"}
    # importing it (what every Snakemake parse does first) pulls in no image or tensor library, nor does the profile
    # layer above it (lgcaa.config: every Snakemake parse and every `lgcaa` job validates its profile)
    code = ("import sys\nheavy = lambda: sorted(m for m in ('cv2', 'torch', 'numpy', 'PIL', 'yaml', 'pandas', "
            "'matplotlib', 'lgcaa.data.degrade') if m in sys.modules)\n"
            "import lgcaa.layout\nprint(heavy())\nimport lgcaa.config\nprint(heavy())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.split("\n")[:2] == ["[]", "[]"], out.stdout
    # the weights package reads no metric module (the NIQE parameters it produces live in lgcaa.weights)
    for p in (REPO / "lgcaa" / "weights").glob("*.py"):
        mods = {n.module for n in ast.walk(ast.parse(p.read_text())) if isinstance(n, ast.ImportFrom) and n.module}
        assert not {m for m in mods if m.startswith(("lgcaa.metrics", "lgcaa.model"))}, p


def _cfg(**over):
    cfg = copy.deepcopy(load_config("mini"))
    cfg.update(over)
    return cfg


def test_seed_instances_only_add_jobs():
    cfg = _cfg(seed=5, seeds={"k": 3, "methods": ["bicubic", "lgcaa"]})
    assert seed_instances(cfg, "bicubic") == [(5, "bicubic"), (6, "bicubic@seed6"), (7, "bicubic@seed7")]
    assert seed_instances(cfg, "lanczos") == [(5, "lanczos")]
    k1 = {(j.dataset, j.instance) for j in sr_jobs(_cfg(seed=5))}
    assert k1 < {(j.dataset, j.instance) for j in sr_jobs(cfg)}
    extra = [j for j in sample_jobs(cfg) if j.extra_seed]
    assert {(j.instance, j.seed) for j in extra if j.dataset == "mini-bicubic"} == {("lgcaa@seed6", 6), ("lgcaa@seed7", 7)}
    assert all(j.seed is None and not j.extra_seed for j in sample_jobs(cfg, seeds=False))


def test_named_baseline_instances_carry_their_settings():
    cfg = _cfg()
    cfg["methods"] = [*cfg["methods"], "bicubic-x2"]
    cfg["baselines"] = {"bicubic": {"scale": 4}}
    cfg["instances"] = {"bicubic-x2": {"method": "bicubic", "settings": {"scale": 2}}}
    validate(cfg)
    job = find_sr_job(cfg, "mini-bicubic", "bicubic-x2")
    assert (job.base, job.method, job.settings) == ("bicubic", "bicubic-x2", {"scale": 2})
    assert find_sr_job(cfg, "mini-bicubic", "bicubic").settings == {"scale": 4}
    with pytest.raises(UserError, match="no baseline job for method 'nope'"):
        find_sr_job(cfg, "mini-bicubic", "nope")
    cfg["instances"]["chain"] = {"method": "bicubic-x2", "settings": {}}
    with pytest.raises(UserError, match="instances/chain/method.*is not a known name"):  # a baseline, not an instance
        validate(cfg)


def test_plan_of_the_mini_profile():
    cfg = load_config("mini")
    pairs = sr_pairs(cfg)
    assert len(pairs) == len(set(pairs))
    assert ("mini-realesrgan", steps_name("lgcaa", 30, 40)) in pairs
    assert ("mini-bicubic", "realsr-df2k") in pairs
    assert model_runs(cfg)[0] == "lgcaa" and set(model_runs(cfg)) == set(cfg["model"]["runs"])
