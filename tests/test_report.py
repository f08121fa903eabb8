"""Perception-distortion curves, visual-comparison crops, MLflow links and the HTML report, rendered in a real
headless browser (Debian's chromium) with a screenshot taken in the test."""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from test_tables import GAN, LGCAA_SEEDS, LPIPS_MISSING, PAPER, synth_config, write_eval

from lgcaa.report.crops import best_window, disagreement
from lgcaa.report.curves import load_curves, make_figure, plot, to_csv
from lgcaa.tables.spec import build_curve_spec

REPO = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------------------------------------ crops


def test_crop_lands_where_the_methods_disagree_most():
    rng = np.random.default_rng(0)
    hr = rng.integers(0, 256, size=(64, 64, 3), dtype=np.uint8)
    a, b, c = hr.copy(), hr.copy(), hr.copy()
    b[40:52, 20:30] = 0  # methods differ only inside this patch
    c[40:52, 20:30] = 255
    d = disagreement([a, b, c])
    assert d[45, 25] > 50 and d[:40].max() < 1e-9
    y, x = best_window(d, 16, align=4)
    assert (y, x) == (36, 16) or (y <= 40 and y + 16 >= 52 and x <= 20 and x + 16 >= 30)
    assert y % 4 == 0 and x % 4 == 0  # aligned so that the LR crop maps exactly
    assert best_window(np.zeros((8, 8)), 4) == (0, 0)  # ties: top-left


# ------------------------------------------------------------------------------------------------ curves


def _curve_config(results: Path, lpips: bool) -> dict:
    cfg = synth_config(results)
    cfg["tables"]["curves"] = {
        "dataset": "ds-b",
        "series": [
            {"label": "LGCAA", "points": [{"steps": s, "method": f"lgcaa-s{s}"} for s in (50, 30, 40)]},
            {"label": "SeeSR", "points": [{"steps": s, "method": f"seesr-s{s}"} for s in (30, 40, 50)]},
        ],
    }
    cfg["seeds"] = {"k": 1, "methods": []}
    for i, s in enumerate((30, 40, 50)):
        vals = copy.deepcopy(LGCAA_SEEDS[0])
        vals["psnr"] = [v + 0.2 * i for v in vals["psnr"]]
        vals["lpips"] = [v + 0.01 * i for v in vals["lpips"]] if lpips else LPIPS_MISSING
        write_eval(results, "ds-b", f"lgcaa-s{s}", vals)
        write_eval(results, "ds-b", f"seesr-s{s}", {**GAN, "lpips": GAN["lpips"] if lpips else LPIPS_MISSING})
    return cfg


def test_curve_without_lpips_says_so_and_plots_no_substitute(tmp_path):
    curves = load_curves(build_curve_spec(_curve_config(tmp_path / "results", lpips=False)))
    assert not curves.drawable
    fig = make_figure(curves)
    ax = fig.axes[0]
    assert not ax.lines and not ax.collections  # nothing plotted
    text = " ".join(t.get_text() for t in ax.texts).replace("\n", " ")
    assert "LPIPS unavailable: weights absent: LPIPS_v0.1_alex.pth" in text and "No substitute metric" in text
    assert "LGCAA @ 30" in text and "SeeSR @ 50" in text
    rows = to_csv(curves).splitlines()
    assert rows[1].split(",")[-1] == "lpips missing" and rows[1].split(",")[5] == ""


def test_curve_plots_every_series_over_steps_as_png_and_pdf(tmp_path):
    curves = load_curves(build_curve_spec(_curve_config(tmp_path / "results", lpips=True)))
    assert curves.drawable and [label for label, _ in curves.series] == ["LGCAA", "SeeSR"]
    assert [p.steps for p in curves.series[0][1]] == [30, 40, 50]  # sorted by steps
    fig = make_figure(curves)
    ax = fig.axes[0]
    xs = [list(line.get_xdata()) for line in ax.lines]
    assert xs[0] == pytest.approx([27.0, 27.2, 27.4])  # LGCAA PSNR at 30/40/50 steps, on x
    assert list(ax.lines[0].get_ydata()) == pytest.approx([0.27, 0.28, 0.29])  # LPIPS on y
    assert sorted(t.get_text() for t in ax.texts)[:3] == ["30", "30", "40"]
    png, pdf = tmp_path / "c.png", tmp_path / "c.pdf"
    plot(curves, png, pdf)
    first = (png.read_bytes(), pdf.read_bytes())
    plot(curves, png, pdf)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and pdf.read_bytes()[:5] == b"%PDF-"
    assert (png.read_bytes(), pdf.read_bytes()) == first  # no timestamps: reruns are byte-identical


# ------------------------------------------------------------------------------------------------ report


def _images(tmp: Path, cfg: dict) -> None:
    """LR/HR folders and SR outputs for the visual comparison: methods differ in one patch."""
    from lgcaa.io import write_png

    rng = np.random.default_rng(1)
    data, res = Path(cfg["paths"]["data"]), Path(cfg["paths"]["results"])
    for ds in ("ds-a", "ds-b"):
        for name in ("a.png", "b.png"):
            hr = np.kron(rng.integers(0, 256, size=(16, 16, 3)), np.ones((4, 4, 1))).astype(np.uint8)
            write_png(data / ds / "hr" / name, hr)
            write_png(data / ds / "lr" / name, hr[::4, ::4].copy())
            for i, m in enumerate(("base", "gan", "lgcaa")):
                sr = hr.copy()
                sr[8:24, 40:56] = (60 * i, 255 - 60 * i, 128)
                write_png(res / "sr" / ds / m / name, sr)


@pytest.fixture()
def report(tmp_path) -> Path:
    """Tables, curve and report rendered by the CLI from synthetic outputs (no MLflow: links absent)."""
    from lgcaa.cli import main
    from lgcaa.report.visual import build_visual_spec
    from lgcaa.tables.spec import TABLE_NAMES, build_spec

    results = tmp_path / "results"
    cfg = _curve_config(results, lpips=True)
    cfg["seeds"] = {"k": 3, "methods": ["lgcaa"]}
    for ds in ("ds-a", "ds-b"):
        write_eval(results, ds, "base", {"psnr": [25.0] * 4})
        write_eval(results, ds, "gan", GAN)
        for i, inst in enumerate(("lgcaa", "lgcaa@seed1", "lgcaa@seed2")):
            write_eval(results, ds, inst, {**LGCAA_SEEDS[i], "clipiqa": [0.66] * 4, "musiq": [69.0] * 4})
    for m in ("v-std", "v-none", "v-l1"):
        write_eval(results, "ds-b", m, {**LGCAA_SEEDS[0], "clipiqa": [0.6] * 4, "musiq": [66.0] * 4})
    cfg["report"] = {"images": 2, "crop": 16}
    _images(tmp_path, cfg)
    tables, out = results / "tables", results / "report"
    for name in TABLE_NAMES:
        assert (
            main(
                [
                    "table",
                    "render",
                    name,
                    "--spec",
                    build_spec(cfg, name).to_json(),
                    "--out-dir",
                    str(tables),
                    "--paper",
                    str(PAPER),
                ]
            )
            == 0
        )
    assert main(["report", "curves", "--spec", build_curve_spec(cfg).to_json(), "--out-dir", str(out)]) == 0
    assert (
        main(
            [
                "report",
                "html",
                "--tables-dir",
                str(tables),
                "--curves-dir",
                str(out),
                "--visual",
                build_visual_spec(cfg).to_json(),
                "--profile",
                "synthetic",
                "--comparable",
                "--out",
                str(out / "index.html"),
            ]
        )
        == 0
    )
    return out / "index.html"


def test_report_is_one_self_contained_file(report):
    html = report.read_text()
    assert html.startswith("<!DOCTYPE html>") and "<script" not in html and "<link" not in html
    assert not re.search(r'src="(?!data:)', html)  # every image is inline
    for table in ("table1", "table2", "table3"):
        assert f'id="{table}"' in html and f'id="{table}-compare"' in html
    assert html.count('class="crop"') == 2 * 2 * (1 + 3 + 1)  # 2 datasets x 2 images x (LR, 3 methods, HR)
    assert "crop at (40, 8), 16×16" in html  # where the synthetic methods disagree
    assert "data:image/png;base64," in html and "Perception–distortion" in html
    assert "synthetic profile — not comparable to the paper." not in html  # this profile is comparable


def _chromium() -> str:
    exe = shutil.which("chromium")
    if exe is None:
        pytest.fail("Debian's chromium is needed for the browser test: apt-get install -y chromium")
    return exe


def _headless(exe: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            exe,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            *args,
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_report_renders_in_headless_chromium(report, tmp_path):
    from PIL import Image

    from lgcaa.report.html import HEADER_RGB

    exe = _chromium()
    shot = tmp_path / "report.png"
    res = _headless(exe, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1280,1600", report.as_uri())
    assert shot.is_file(), res.stderr[-2000:]
    img = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    assert img.shape[:2] == (1600, 1280)
    assert img.std() > 20  # not blank
    header = np.abs(img - np.array(HEADER_RGB)).sum(axis=2) <= 6  # table header cells
    rows = np.where(header.sum(axis=1) > 150)[0]
    assert len(rows) > 10 and rows.min() < 800  # Table I's header is drawn near the top of the page
    dom = _headless(exe, tmp_path / "profile2", "--dump-dom", report.as_uri()).stdout
    assert "Table I (synthetic profile)" in dom and "27.05 ± 0.12" in dom


# ------------------------------------------------------------------------------------------------ MLflow


def test_numbers_link_to_mlflow_runs_and_datasets_are_logged_as_inputs(tmp_path, monkeypatch):
    from mlflow.tracking import MlflowClient

    from lgcaa.io import write_json
    from lgcaa.report.links import mlflow_links
    from lgcaa.tracking import sync_records, tracking_uri, write_record

    monkeypatch.chdir(tmp_path)
    results = tmp_path / "results"
    manifest = tmp_path / "data/ds-a/manifest.json"
    write_json(manifest, {"dataset": "ds-a", "count": 4})
    data_rec = write_record(
        results / "data/ds-a.run.json", "t/data", "data:ds-a", {"dataset": "ds-a"}, artifacts=[str(manifest)]
    )  # manifest artifact -> logged as a dataset input
    eval_rec = write_record(
        results / "metrics/ds-a/gan/run.json",
        "t/eval",
        "eval:gan:ds-a",
        {"dataset": "ds-a"},
        metrics={"psnr": 24.0},
        inputs=[{"name": "ds-a", "source": str(manifest), "context": "evaluation"}],
    )
    ids = sync_records([data_rec, eval_rec], results)
    runs = results / "mlflow/runs.json"
    write_json(runs, {"tracking_uri": tracking_uri(results), "runs": ids})
    links = mlflow_links(runs, "http://127.0.0.1:5000")
    client = MlflowClient(tracking_uri(results))
    for rec in (data_rec, eval_rec):
        run = client.get_run(ids[str(rec)])
        assert links[str(rec)] == f"http://127.0.0.1:5000/#/experiments/{run.info.experiment_id}/runs/{run.info.run_id}"
        (inp,) = run.inputs.dataset_inputs
        assert inp.dataset.name == "ds-a" and manifest.name in inp.dataset.source
        assert run.data.tags["mlflow.parentRunId"]  # nested under the sync's parent run
    contexts = {client.get_run(ids[str(r)]).inputs.dataset_inputs[0].tags[0].value for r in (data_rec, eval_rec)}
    assert contexts == {"build", "evaluation"}
    assert sync_records([data_rec, eval_rec], results) == ids  # idempotent: nothing logged twice
