"""`dvc repro` runs the Snakemake DAG (one DAG definition): tables, curve, report, MLflow artifacts; `dvc metrics
show` / `dvc plots show` work (offline); a metrics-only config change reruns no SR job; a second run has nothing to
do and `dvc status` says up to date (after a changed input: what changed); `dvc dag` connects data and tables.
Real DVC, Snakemake, pyiqa and MLflow, on the shared DAG run (`dag_run`, tests/conftest.py)."""

from __future__ import annotations

import json
import time

import pytest

from lgcaa.tables.export import HEADLINE_METRICS

pytestmark = pytest.mark.slow


def test_dvc_repro_builds_tables_curve_and_report(dag_run):
    res = dag_run.path("results")
    for name in ("table1", "table2", "table3"):
        for suffix in ("md", "tex", "csv", "compare.md", "metrics.json"):
            assert (res / "tables" / f"{name}.{suffix}").is_file()
    md = (res / "tables/table1.md").read_text()
    assert "N = 2 images" in md and "Protocol lock" in md and "mini profile — not comparable" in md
    assert "not comparable" in (res / "tables/table1.compare.md").read_text()
    html = (res / "report/index.html").read_text()
    assert 'href="../#/experiments/' in html  # numbers link to their MLflow runs, relative to `lgcaa ui`
    assert "lgcaa ui --results results" in html and "http://127.0.0.1:5000/#" not in html
    assert (res / "report/pd_curve.png").is_file() and (res / "report/pd_curve.pdf").is_file()
    from lgcaa.metrics.availability import missing_reason
    from lgcaa.metrics.registry import get

    curve = (res / "report/pd_curve.csv").read_text().splitlines()
    assert len(curve) == 3  # header + the two sampling-step points
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


def test_dvc_metrics_and_plots_show(dag_run, tmp_path):
    out = dag_run.dvc("metrics", "show")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    header = lines[0].split()
    # the compact view: one column per headline metric that was scored, and the claims' verdict counts
    assert header[0] == "Path" and {"psnr", "ssim", "claims"} <= set(header) <= {"Path", "claims", *HEADLINE_METRICS}
    # the mini profile's verdicts are pipeline checks, kept out of the claim counts
    rows = {ln.split()[0] for ln in lines}
    assert "results/headline/pipeline-checks/supported.json" in rows
    assert not any(r.startswith("results/headline/claims/") for r in rows)
    assert any(ln.startswith("results/headline/mini-bicubic/bicubic.json") for ln in lines)
    assert not any("snakemake_timestamp" in ln for ln in lines)  # Snakemake's marker is .dvcignore'd
    assert max(map(len, lines)) <= 120
    plots = dag_run.dvc("plots", "show", "-o", str(tmp_path / "plots_html"))
    assert plots.returncode == 0, plots.stderr
    page = (tmp_path / "plots_html" / "index.html").read_text()
    assert "pd_curve.png" in page  # an image plot: renders offline
    assert "<script" not in page and "cdn." not in page, "a Vega plot would load its scripts from a CDN"


def test_second_run_has_nothing_to_do_and_is_fast(dag_run):
    t0 = time.perf_counter()
    res = dag_run.snakemake("tables")
    elapsed = time.perf_counter() - t0
    assert res.returncode == 0 and "Nothing to be done" in res.stdout + res.stderr
    print(f"no-op snakemake tables: {elapsed:.2f} s")
    assert elapsed < 10  # ~1.5 s measured; generous for a shared 2-core machine
    status = dag_run.dvc("status")  # read-only: the finished `dvc repro` of the fixture
    assert status.returncode == 0 and "Data and pipelines are up to date" in status.stdout, status.stdout


def test_dvc_status_up_to_date_after_snakemake_tables_and_dvc_repro_then_names_a_changed_input(dag_run, tmp_path):
    mine = dag_run.copy(tmp_path / "ws")
    res = mine.snakemake("tables", "--forcerun", "report")  # a real (short) run, so that the end-of-run note prints
    assert res.returncode == 0, res.stderr[-2000:]
    out = res.stdout + res.stderr
    assert "report: results/report/index.html" in out, out[-2000:]
    assert "lgcaa ui --results results  then open http://127.0.0.1:5000/report/" in out
    repro = mine.dvc("repro")
    assert repro.returncode == 0, (repro.stdout + repro.stderr)[-2000:]
    status = mine.dvc("status")
    assert status.returncode == 0 and "Data and pipelines are up to date" in status.stdout, status.stdout
    paper = mine.path("results/paper/table1.csv")
    paper.write_text(paper.read_text() + "\n")
    status = mine.dvc("status")
    assert "tables:" in status.stdout and "results/paper" in status.stdout and "modified" in status.stdout, status.stdout
    assert "data:" not in status.stdout  # the data stage does not read the paper's numbers


def test_dvc_dag_connects_data_and_tables(dag_run):
    res = dag_run.dvc("dag", "--dot")
    assert res.returncode == 0, res.stderr
    assert '"data" -> "tables"' in res.stdout, res.stdout


def test_metrics_only_change_reruns_no_sr_job(dag_run, tmp_path):
    cfg = {**dag_run.cfg, "metrics": ["psnr", "ssim"]}
    other = tmp_path / "config2.json"
    other.write_text(json.dumps(cfg))
    res = dag_run.snakemake("tables", "-n", configfile=str(other))
    assert res.returncode == 0, res.stderr[-2000:]
    stats = res.stdout.split("Job stats:")[1].split("\n\n")[0]
    jobs = {line.split()[0] for line in stats.splitlines()[3:] if line.strip()}
    assert "evaluate" in jobs and "table" in jobs
    assert not jobs & {"sr", "data_mini", "train", "sample"}, stats
