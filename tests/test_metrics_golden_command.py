"""`lgcaa metrics golden` on three of OSEDiff's published RealSR outputs (a log cut to those three lines, its
averages recomputed as OSEDiff prints them): passes, writes the JSON the report shows, and stops naming the
metric, image and values when an output is not the published one."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from lgcaa.metrics.peer_log import parse_peer_log

NAMES = ("Canon_001_LR4.png", "Canon_002_LR4.png", "Nikon_050_LR4.png")


@pytest.fixture(scope="module")
def three(shared_data, tmp_path_factory):
    """(sr, hr, log) for NAMES: copies of the mirror's files and the log cut to their lines."""
    root = tmp_path_factory.mktemp("golden3")
    src = shared_data / "osediff-outputs" / "realsr"
    (log_path,) = sorted((src / "metrics").glob("test_METRICS_*.log"))
    lines = log_path.read_text().splitlines()
    log = parse_peer_log(log_path)
    kept, skip = [], False
    for i, line in enumerate(lines):
        if skip:
            skip = False
            continue
        if "GT images vs" in line:
            line = line.replace("100 GT images vs 100 SR images", f"{len(NAMES)} GT images vs {len(NAMES)} SR images")
        if ".png | " in line and not any(f"/{n} " in line for n in NAMES):
            continue
        kept.append(line)
        if line.startswith("===== Average Metrics for"):
            means = {m: sum(log.images[n][m] for n in NAMES) / len(NAMES) for m in log.metrics}
            kept.append("; ".join(f"{m.upper()}: {v:.4f}" for m, v in means.items()) + " | FID: 1.0 | FID Runtime: 1 sec")
            skip = True  # the original average line
    (root / "log").mkdir()
    (root / "log" / log_path.name).write_text("\n".join(kept) + "\n")
    for d, folder in (("sr", src), ("hr", shared_data / "stablesr-crops" / "realsr" / "HR")):
        (root / d).mkdir()
        for n in NAMES:
            shutil.copy(folder / n, root / d / n)
    return root / "sr", root / "hr", root / "log" / log_path.name


def test_golden_command_passes_and_writes_the_record_the_report_shows(three, tmp_path, capsys):
    from lgcaa.cli import main
    from lgcaa.report.checks import checks_html, load_checks

    sr, hr, log = three
    out = tmp_path / "results" / "checks" / "golden-realsr.json"
    rc = main(["metrics", "golden", str(sr), str(hr), "--log", str(log), "--metrics", "psnr,ssim,niqe",
               "--out", str(out), "--device", "cpu"])
    text = capsys.readouterr().out
    assert rc == 0, text
    rec = json.loads(out.read_text())
    assert rec["check"] == "golden" and rec["ok"] and rec["n_images"] == 3
    assert set(rec["metrics"]) == {"psnr", "ssim", "niqe"}
    assert all(r["status"] == "ok" for r in rec["metrics"].values())
    assert text.count(" ok ") == 3 and "N=3" in text
    frag = checks_html(load_checks(tmp_path / "results" / "checks"))
    where = Path(rec["sr_dir"])  # the heading names <dataset>/<method> (here: the tmp folder / sr)
    assert f"Golden check: {where.parent.name}/sr vs the peer's own log — passed" in frag
    assert frag.count('<span class="ok">ok</span>') == 3
    from lgcaa.report.html import ReportParts, render_report

    doc = render_report(ReportParts(profile="real", comparable=True, checks=frag))
    assert '<a href="#checks">Metric checks</a>' in doc and '<h2 id="checks">Metric checks</h2>\n' + frag in doc


def test_golden_command_stops_naming_the_drifting_metric(three, tmp_path, capsys):
    from lgcaa.cli import main

    sr, hr, log = three
    bad = tmp_path / "sr"
    shutil.copytree(sr, bad)
    shutil.copy(hr / NAMES[1], bad / NAMES[1])  # one output replaced by its HR image: PSNR inf -> refused
    shutil.copy(sr / NAMES[0], bad / NAMES[1])  # another image's output instead: every metric drifts there
    rc = main(["metrics", "golden", str(bad), str(hr), "--log", str(log), "--metrics", "psnr,ssim",
               "--device", "cpu"])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1, err
    assert "psnr: 1 of 3 images off by more than 0.0001; worst Canon_002_LR4.png: log 24.045864" in err
    assert "ssim: 1 of 3 images off by more than 0.0001" in err


def test_bench_metrics_on_real_pairs_reports_pyiqas_whole_image_numbers_bit_for_bit(shared_data, capsys):
    """`lgcaa bench metrics` on two RealSR HR / OSEDiff pairs: the evaluator (strip-wise SSIM and NIQE) against
    the naive loop of pyiqa's whole-image calls on the files."""
    from lgcaa.cli import main

    rc = main(["bench", "metrics", "--sr", str(shared_data / "osediff-outputs" / "realsr"),
               "--hr", str(shared_data / "stablesr-crops" / "realsr" / "HR"), "--metrics", "psnr,ssim,niqe",
               "--limit", "2", "--repeat", "1", "--no-references", "--device", "cpu"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0 and out["n_images"] == 2 and out["image_sizes"] == ["512x512"]
    assert out["bitwise_equal_to_pyiqa_1thread"] == {"psnr": True, "ssim": True, "niqe": True}, out
    assert all(d < 1e-12 for d in out["max_abs_diff_naive_vs_ours"].values())  # 2 threads: pyiqa's own last bit
    assert len(out["load_average"]["before"]) == 3 and out["source"].endswith("first 2 pairs")
