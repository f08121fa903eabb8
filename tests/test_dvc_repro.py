"""`dvc repro` runs the Snakemake DAG (one DAG definition) on a 2-image config: tables, curve, report, MLflow
artifacts; `dvc metrics show` / `dvc plots show` work; a metrics-only config change reruns no SR job; a second
run has nothing to do. Real DVC, Snakemake, pyiqa and MLflow."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lgcaa.config import load_config

pytestmark = pytest.mark.slow


def _run(cwd: Path, *cmd: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "DVC_NO_ANALYTICS": "1"}
    return subprocess.run(list(cmd), cwd=cwd, check=False, capture_output=True, text=True, env=env, timeout=600)


def _config(ws: Path, metrics: list[str]) -> dict:
    cfg = copy.deepcopy(load_config(None))
    cfg["mini"].update(photos=["astronaut", "chelsea"], hr_size=128)
    cfg["datasets"] = {"mini-bicubic": {**cfg["datasets"]["mini-bicubic"], "expected_count": 2}}
    cfg["methods"] = ["bicubic", "lanczos"]
    cfg.pop("model")  # no LGCAA training in this wiring test
    cfg["metrics"] = metrics
    cfg["tables"] = {
        "table1": {"datasets": ["mini-bicubic"], "methods": ["bicubic", "lanczos"]},
        # wiring check only: two baselines stand in for a sampling-step sweep
        "curves": {
            "dataset": "mini-bicubic",
            "series": [
                {
                    "label": "stand-in",
                    "points": [{"steps": 30, "method": "bicubic"}, {"steps": 40, "method": "lanczos"}],
                }
            ],
        },
    }
    return cfg


@pytest.fixture(scope="module")
def workspace(repo_root, tmp_path_factory):
    ws = tmp_path_factory.mktemp("dvc")
    for name in ("Snakefile", "dvc.yaml", "params.yaml"):
        shutil.copy(repo_root / name, ws / name)
    shutil.copytree(repo_root / "workflow", ws / "workflow")
    shutil.copytree(repo_root / "results" / "paper", ws / "results" / "paper")
    (ws / "config.json").write_text(json.dumps(_config(ws, ["psnr", "ssim", "lpips"])))
    params = (ws / "params.yaml").read_text().replace('args: ""', 'args: "--configfile config.json"')
    (ws / "params.yaml").write_text(params)
    assert _run(ws, "dvc", "init", "--no-scm", "-q").returncode == 0
    assert _run(ws, "dvc", "config", "core.analytics", "false").returncode == 0
    res = _run(ws, "dvc", "repro")
    assert res.returncode == 0, (res.stdout + res.stderr)[-4000:]
    return ws


def test_dvc_repro_builds_tables_curve_and_report(workspace):
    res = workspace / "results"
    for name in ("table1", "table2", "table3"):
        for suffix in ("md", "tex", "csv", "compare.md", "metrics.json"):
            assert (res / "tables" / f"{name}.{suffix}").is_file()
    md = (res / "tables/table1.md").read_text()
    assert "N = 2 images" in md and "Protocol lock" in md and "mini profile — not comparable" in md
    assert "270 not comparable" in (res / "tables/table1.compare.md").read_text()
    html = (res / "report/index.html").read_text()
    assert "http://127.0.0.1:5000/#/experiments/" in html  # numbers link to their MLflow runs
    assert (res / "report/pd_curve.png").is_file() and (res / "report/pd_curve.pdf").is_file()
    from lgcaa.metrics.availability import missing_reason
    from lgcaa.metrics.registry import get

    curve = (res / "report/pd_curve.csv").read_text().splitlines()
    assert len(curve) == 3
    if missing_reason(get("lpips")) is not None:  # offline machines: no AlexNet weights -> NIQE stands in
        assert all(line.endswith(",niqe,ok") for line in curve[1:])
        assert "LPIPS unavailable" in (res / "logs/figures/fig8.log").read_text()
    else:
        assert all(line.endswith(",lpips,ok") for line in curve[1:])
    for fig in ("fig4", "fig5", "fig6", "fig7", "fig9", "fig10", "fig11", "per_image", "training"):
        assert (res / "figures" / f"{fig}.png").is_file() and (res / "figures" / f"{fig}.csv").is_file()
    assert (res / "claims/claims.md").is_file() and 'id="fig11"' in html
    published = json.loads((res / "mlflow/published.json").read_text())["runs"]
    assert len(published) == 3 + 10 + 1 + 1  # tables, figures, claims, report: nested runs with their files


def test_dvc_metrics_and_plots_show(workspace):
    out = _run(workspace, "dvc", "metrics", "show")
    assert out.returncode == 0, out.stderr
    assert "mini-bicubic.bicubic.psnr" in out.stdout and "compare.not comparable" in out.stdout
    plots = _run(workspace, "dvc", "plots", "show", "-o", "plots_html")
    assert plots.returncode == 0, plots.stderr
    page = (workspace / "plots_html" / "index.html").read_text()
    assert "results_report_pd_curve_png" in page and "results_report_pd_curve_csv" in page


def test_second_run_has_nothing_to_do_and_is_fast(workspace):
    t0 = time.perf_counter()
    res = _run(workspace, sys.executable, "-m", "snakemake", "--cores", "8", "tables", "--configfile", "config.json")
    elapsed = time.perf_counter() - t0
    assert res.returncode == 0 and "Nothing to be done" in res.stdout + res.stderr
    print(f"no-op snakemake tables: {elapsed:.2f} s")
    assert elapsed < 10  # ~1.5 s measured; generous for a shared 2-core machine
    again = _run(workspace, "dvc", "repro")
    assert again.returncode == 0 and "Nothing to be done" in again.stdout + again.stderr


def test_metrics_only_change_reruns_no_sr_job(workspace):
    (workspace / "config2.json").write_text(json.dumps(_config(workspace, ["psnr", "ssim"])))
    res = _run(
        workspace, sys.executable, "-m", "snakemake", "--cores", "8", "tables", "-n", "--configfile", "config2.json"
    )
    assert res.returncode == 0, res.stderr[-2000:]
    stats = res.stdout.split("Job stats:")[1].split("\n\n")[0]
    jobs = {line.split()[0] for line in stats.splitlines()[3:] if line.strip()}
    assert "evaluate" in jobs and "table" in jobs
    assert not jobs & {"sr", "data_mini"}, stats
