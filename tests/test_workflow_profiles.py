"""Every packaged profile resolves to a complete DAG (dry run with real Snakemake)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from lgcaa.config import load_config


def _dry_run(repo: Path, tmp: Path, profile: str) -> str:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    res = subprocess.run(
        [sys.executable, "-m", "snakemake", "--snakefile", str(repo / "Snakefile"), "--directory", str(tmp),
         "--config", f"profile={profile}", "--cores", "8", "-n", "tables"],
        capture_output=True, text=True, env=env,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    return res.stdout + res.stderr


def _count(out: str, rule: str) -> int:
    m = re.search(rf"^{re.escape(rule)}\s+(\d+)$", out, re.M)
    return int(m.group(1)) if m else 0


def test_paper_profile_wires_everything(repo_root, tmp_path):
    cfg = load_config("paper")
    out = _dry_run(repo_root, tmp_path, "paper")
    n_sets = len(cfg["datasets"])
    assert _count(out, "data_fetch") == n_sets
    assert _count(out, "sr") == n_sets * 9  # all nine Table I baselines on every test set
    assert _count(out, "train_models") == 1 and _count(out, "sample_models") == 1
    assert _count(out, "table") == 3 and _count(out, "report") == 1 and _count(out, "curves") == 1
    from lgcaa.config import model_methods
    from lgcaa.model.plan import sample_jobs

    assert _count(out, "evaluate") == n_sets * 9 + len(sample_jobs(cfg["model"]))
    assert "lgcaa-30steps" in model_methods(cfg) and "lgcaa-50steps" in model_methods(cfg)


def test_mini_profile_is_the_default(repo_root, tmp_path):
    out = _dry_run(repo_root, tmp_path, "mini")
    assert _count(out, "data_mini") == 2 and _count(out, "sr") == 2 * 4
    assert _count(out, "train_models") == 1
