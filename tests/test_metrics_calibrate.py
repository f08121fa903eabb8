"""The calibration gate (`lgcaa metrics calibrate`) on IQA-PyTorch's calibration pairs from the mirror: the
offline metrics match the official values within IQA-PyTorch's own tolerances, the others say why they are
missing; a metric built one option away from its reference (SSIM on RGB) stops it with one line naming the
metric, the image, the expected and the measured value."""

from __future__ import annotations

import json

import pytest

from lgcaa.errors import UserError
from lgcaa.metrics.calibrate import REFERENCES, read_official, within
from lgcaa.metrics.registry import names

OFFLINE = ("psnr", "ssim", "niqe")


def test_the_tolerance_rule_is_torch_allclose():
    import torch

    for measured, expected, atol, rtol in [(21.1136, 21.11, 1e-2, 1e-2), (9.0727, 8.6352, 1e-2, 6e-2),
                                           (9.2, 8.6352, 1e-2, 6e-2), (0.7, 0.6993, 1e-2, 1e-2), (0.72, 0.6993, 1e-2, 1e-2)]:
        ref = torch.allclose(torch.tensor([measured], dtype=torch.float64), torch.tensor([expected], dtype=torch.float64),
                             atol=atol, rtol=rtol)
        assert within(measured, expected, atol, rtol) == bool(ref)


def test_every_metric_has_a_reference_and_the_official_csv_is_read(tmp_path):
    assert set(REFERENCES) == set(names())
    assert {m for m, r in REFERENCES.items() if r.row is None} == {"clipiqa", "maniqa", "fid"}
    assert (REFERENCES["niqe"].atol, REFERENCES["niqe"].rtol) == (1e-2, 6e-2)  # IQA-PyTorch's TOL_DICT
    assert (REFERENCES["musiq"].atol, REFERENCES["musiq"].rtol) == (1e-2, 3e-2)
    p = tmp_path / "results_official.csv"
    p.write_text("Method,I03.bmp,I04.bmp\npsnr,21.11,20.99\n")
    assert read_official(p) == {"psnr": {"I03.bmp": 21.11, "I04.bmp": 20.99}}
    p.write_text("Method,I03.bmp,I04.bmp\npsnr,21.11\n")
    with pytest.raises(UserError, match="one number per image"):
        read_official(p)


def test_the_gate_takes_the_profiles_metrics_cache_and_result_file_unless_given(tmp_path):
    from pathlib import Path

    from lgcaa.config import cache_dir, load_config
    from lgcaa.layout import Layout
    from lgcaa.metrics.calibrate import calibration_job

    cfg = load_config("mini")
    job = calibration_job(cfg)
    assert job.metrics == list(cfg["metrics"]) and job.cache == cache_dir(cfg)
    assert job.out == Path(Layout.of(cfg).check_file("calibration"))
    job = calibration_job(cfg, " psnr,,ssim", tmp_path / "c", tmp_path / "o.json")
    assert (job.metrics, job.cache, job.out) == (["psnr", "ssim"], tmp_path / "c", tmp_path / "o.json")
    with pytest.raises(UserError, match="psnrr"):
        calibration_job(cfg, "psnr,psnrr")


@pytest.fixture(scope="module")
def calibrated(shared_data, tmp_path_factory):
    """(return code, stdout, record) of `lgcaa metrics calibrate` with every metric, from the mirror."""
    import contextlib
    import io

    from lgcaa.cli import main

    tmp = tmp_path_factory.mktemp("calibrate")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = main(["metrics", "calibrate", "--metrics", ",".join(names()), "--mirror", str(shared_data),
                   "--cache", str(tmp / "cache"), "--out", str(tmp / "checks" / "calibration.json"), "--device", "cpu"])
    return rc, out.getvalue(), json.loads((tmp / "checks" / "calibration.json").read_text()), tmp / "checks"


def test_offline_metrics_match_the_official_values(calibrated):
    rc, text, rec, _ = calibrated
    assert rc == 0, text
    assert rec["check"] == "calibration" and rec["ok"] and rec["images"] == ["I03.bmp", "I04.bmp", "I06.bmp", "I08.bmp", "I19.bmp"]
    for m in OFFLINE:
        r = rec["metrics"][m]
        assert r["status"] == "ok" and r["drifting_images"] == [], (m, r)
        assert r["reference"] == f"results_official.csv row '{m}'" and set(r["measured"]) == set(rec["images"])
    # IQA-PyTorch's own published "(ours)" values (calibration_summary.csv, 4 decimals): PSNR and SSIM are pyiqa's
    # code on the same pixels; our NIQE parameters are converted from basicsr's (lgcaa weights), within 1e-3
    assert rec["metrics"]["psnr"]["measured"]["I03.bmp"] == pytest.approx(21.1136, abs=5e-5)
    assert rec["metrics"]["ssim"]["measured"]["I19.bmp"] == pytest.approx(0.6522, abs=5e-5)
    assert rec["metrics"]["niqe"]["measured"]["I04.bmp"] == pytest.approx(3.6549, abs=1e-3)


def test_metrics_without_weights_say_so_and_the_report_shows_the_table(calibrated):
    from lgcaa.report.checks import checks_html, load_checks

    _, text, rec, checks_dir = calibrated
    for m in set(names()) - set(OFFLINE):
        r = rec["metrics"][m]
        if r["status"] == "missing":
            assert r["reason"].startswith("weights absent") and f"{m:8s} missing: weights absent" in text
        else:  # weights here: an official value must match, a pinned-less one says so
            assert r["status"] == ("unpinned" if REFERENCES[m].row is None else "ok"), (m, r)
    frag = checks_html(load_checks(checks_dir))
    assert "Calibration gate (IQA-PyTorch's calibration pairs) — passed" in frag
    assert frag.count('<span class="ok">ok</span>') == sum(r["status"] == "ok" for r in rec["metrics"].values())


def test_a_drifting_metric_stops_the_gate_in_one_line(shared_data, tmp_path, capsys, monkeypatch):
    import dataclasses

    from lgcaa.cli import main
    from lgcaa.metrics import calibrate

    # SSIM on RGB instead of pyiqa's Y (one option of the reference changed): I03 0.6993 official -> far off
    monkeypatch.setitem(calibrate.REFERENCES, "ssim",
                        dataclasses.replace(REFERENCES["ssim"], options={**REFERENCES["ssim"].options, "test_y_channel": False}))
    out = tmp_path / "calibration.json"
    rc = main(["metrics", "calibrate", "--metrics", "psnr,ssim", "--mirror", str(shared_data),
               "--cache", str(tmp_path / "cache"), "--out", str(out), "--device", "cpu"])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1, err
    assert "calibration drift: ssim on I" in err and "expected 0." in err and "measured 0." in err
    assert "psnr" not in err.split("calibration drift:")[1]
    assert not out.exists()  # no record: the DAG's calibrate job has no output and stops
