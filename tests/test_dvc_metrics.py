"""`dvc metrics show` prints the compact headline view (one row per Table I dataset and method, one column per
headline metric, claim verdict rows) within 120 columns for the mini profile. Real DVC on the repo's dvc.yaml."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from lgcaa.config import load_config
from lgcaa.io import write_json
from lgcaa.metrics.registry import TABLE_ORDER
from lgcaa.tables.export import HEADLINE_METRICS, headline_files


def _dvc(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "DVC_NO_ANALYTICS": "1",
           "COLUMNS": "200"}
    return subprocess.run(["dvc", *args], cwd=cwd, capture_output=True, text=True, env=env, check=False, timeout=120)


def test_metrics_show_fits_120_columns_for_the_mini_profile(repo_root, tmp_path):
    table1 = load_config("mini")["tables"]["table1"]
    # worst case: every metric scored (weights fetched), long values, and claims evaluated
    headline = {d: {m: {metric: 123.456789 for metric in TABLE_ORDER} for m in table1["methods"]}
                for d in table1["datasets"]}
    headline["compare"] = {"within tolerance": 3, "not comparable": 270}
    claims = [{"verdict": "supported"}, {"verdict": "refuted"}, {"verdict": "inconclusive"}] * 4
    files = headline_files(headline, claims)
    for rel, content in files.items():
        write_json(tmp_path / "results/headline" / rel, content)
    for name in ("dvc.yaml", "params.yaml"):
        shutil.copy(repo_root / name, tmp_path / name)
    assert _dvc(tmp_path, "init", "--no-scm", "-q").returncode == 0
    out = _dvc(tmp_path, "metrics", "show")
    assert out.returncode == 0, out.stderr
    lines = [ln.rstrip() for ln in out.stdout.splitlines() if ln.strip()]
    print("\n".join(lines))
    assert max(map(len, lines)) <= 120, max(map(len, lines))
    header = lines[0].split()
    assert header == ["Path", "claims", *sorted(HEADLINE_METRICS)]
    rows = {ln.split()[0] for ln in lines[1:]}
    assert {f"results/headline/{d}/{m}.json" for d in table1["datasets"] for m in table1["methods"]} <= rows
    assert "results/headline/claims/refuted.json" in rows
    assert len(lines) == 1 + len(table1["datasets"]) * len(table1["methods"]) + 3
