"""Pins agree across requirements.txt, environment.yml and the lock; the basicsr alias lives in one place."""

from __future__ import annotations

import re
import yaml


def _pins(lines):
    return sorted(l.strip() for l in lines if l.strip() and not l.strip().startswith("#"))


def test_environment_yml_pins_equal_requirements(repo_root):
    reqs = _pins((repo_root / "requirements.txt").read_text().splitlines())
    env = yaml.safe_load((repo_root / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert sorted(pip_section) == reqs
    assert "python=3.11" in env["dependencies"]


def test_lock_agrees_with_requirements(repo_root):
    lock = dict(l.split("==", 1) for l in _pins((repo_root / "requirements.lock").read_text().splitlines()))
    lock = {k.lower().replace("_", "-"): v for k, v in lock.items()}
    for req in _pins((repo_root / "requirements.txt").read_text().splitlines()):
        m = re.fullmatch(r"([A-Za-z0-9_.\-]+)==(\S+)", req)
        if m:
            assert lock[m.group(1).lower().replace("_", "-")] == m.group(2), req


def test_basicsr_alias_in_exactly_one_place(repo_root):
    """Only lgcaa/compat.py may mention the removed torchvision module; everything else calls import_basicsr()."""
    hits = []
    for folder in ("lgcaa", "baselines", "workflow"):
        for path in (repo_root / folder).rglob("*"):
            if path.suffix in (".py", ".smk") and "functional_tensor" in path.read_text():
                hits.append(str(path.relative_to(repo_root)))
    assert hits == ["lgcaa/compat.py"], hits
    direct = []
    for folder in ("lgcaa", "baselines"):
        for path in (repo_root / folder).rglob("*.py"):
            if re.search(r"^\s*import basicsr\b", path.read_text(), re.M) and path.name != "compat.py":
                direct.append(str(path.relative_to(repo_root)))
    assert direct == [], f"import basicsr via lgcaa.compat.import_basicsr(): {direct}"


def test_basicsr_imports_through_compat():
    from lgcaa.compat import import_basicsr

    import_basicsr()
    from basicsr.data.degradations import random_mixed_kernels  # noqa: F401
    from basicsr.archs.rrdbnet_arch import RRDBNet  # noqa: F401


def test_bicubic_runs_basicsr_imresize_without_the_basicsr_package(repo_root):
    """The bicubic baseline and bicubic LR run basicsr's own `imresize` (its file, loaded alone) without importing
    basicsr's package (~2.8 s a process), and give the bytes basicsr's module gives."""
    import subprocess
    import sys

    code = ("import sys\nimport numpy as np\nfrom skimage import data\n"
            "from baselines.classical import bicubic_up\nfrom lgcaa.data.lowres import bicubic_down\n"
            "img = np.ascontiguousarray(data.astronaut()[:96, :80])\n"
            "alone = bicubic_up(bicubic_down(img, 4), 4)\n"
            "print('basicsr' in sys.modules)\n"
            "from lgcaa.compat import import_basicsr\nimport_basicsr()\n"
            "from basicsr.utils.matlab_functions import imresize\n"
            "lr = np.clip(np.round(imresize(img.astype(np.float32) / 255.0, 0.25) * 255.0), 0, 255).astype(np.uint8)\n"
            "sr = np.clip(np.round(imresize(lr.astype(np.float32) / 255.0, 4.0) * 255.0), 0, 255).astype(np.uint8)\n"
            "print(alone.shape == sr.shape == img.shape and np.array_equal(alone, sr) and bicubic_up(lr, 4).tobytes() "
            "== sr.tobytes())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=repo_root)
    assert out.stdout.split() == ["False", "True"], out.stdout + out.stderr[-2000:]


def test_diffusers_is_imported_without_bitsandbytes(repo_root):
    """Every module of lgcaa/ that imports diffusers first calls lgcaa.compat.import_diffusers(); building a model
    then loads no bitsandbytes (~1.3 s a process), diffusers reports it absent, and it stays importable."""
    import subprocess
    import sys

    unguarded = [str(p.relative_to(repo_root)) for p in sorted((repo_root / "lgcaa").rglob("*.py"))
                 if re.search(r"^\s*(from|import) diffusers\b", p.read_text(), re.M)
                 and "import_diffusers()" not in p.read_text()]
    assert unguarded == [], f"call lgcaa.compat.import_diffusers() before importing diffusers in: {unguarded}"
    code = ("import sys, importlib.util\n"
            "from lgcaa.model.backbone import build_random\n"
            "from lgcaa.model.presets import ARCH_PRESETS\n"
            "build_random(ARCH_PRESETS['tiny'])\n"
            "import lgcaa.model.network\n"
            "from diffusers.utils import is_bitsandbytes_available\n"
            "print('bitsandbytes' in sys.modules, is_bitsandbytes_available(), "
            "importlib.util.find_spec('bitsandbytes') is not None)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=repo_root)
    assert out.stdout.split() == ["False", "False", "True"], out.stdout + out.stderr[-2000:]


def test_files_sharing_the_dag_run_go_to_one_xdist_worker(repo_root):
    """The scheduler's groups (tests/conftest.py): the DAG run and the tiny LGCAA run are each built by one worker."""
    from conftest import file_groups

    tests = repo_root / "tests"
    groups = file_groups(list(tests.glob("test_*.py")), repo_root)
    users = {name: sorted(f for f, g in groups.items() if g == name) for name in ("dag_run", "tiny_run_dir")}
    assert users["dag_run"] == ["tests/test_cluster.py", "tests/test_dvc_repro.py", "tests/test_workflow_e2e.py"], users
    assert len(users["tiny_run_dir"]) >= 2, users
    assert groups["tests/test_cli.py"] == "tests/test_cli.py"  # every other file is its own group
