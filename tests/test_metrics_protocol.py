"""The evaluator on real photos: PSNR/SSIM/NIQE against independent implementations, batching/worker
invariance, outputs, and the protocol lock."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from lgcaa.errors import UserError

PHOTOS = ("astronaut", "chelsea", "coffee", "rocket")


def _photo(name: str) -> np.ndarray:
    import skimage.data

    return getattr(skimage.data, name)()[..., :3]


def _degrade(img: np.ndarray, seed: int) -> np.ndarray:
    """Bicubic x4 down/up plus mild noise: a realistic SR-like output of the same size."""
    from PIL import Image

    h, w = img.shape[:2]
    lr = Image.fromarray(img).resize((w // 4, h // 4), Image.BICUBIC)
    up = np.asarray(lr.resize((w, h), Image.BICUBIC), dtype=np.float64)
    noise = np.random.default_rng(seed).normal(0, 2.0, up.shape)
    return np.clip(np.round(up + noise), 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def photo_pairs(tmp_path_factory) -> tuple[Path, Path]:
    """HR: real photos centre-cropped to 200x248 (not square, not a multiple of 96); SR: degraded copies."""
    from lgcaa.io import write_png

    root = tmp_path_factory.mktemp("photos")
    for i, name in enumerate(PHOTOS):
        img = _photo(name)
        h, w = img.shape[:2]
        img = np.ascontiguousarray(img[(h - 200) // 2:(h - 200) // 2 + 200, (w - 248) // 2:(w - 248) // 2 + 248])
        write_png(root / "hr" / f"{name}.png", img)
        write_png(root / "sr" / f"{name}.png", _degrade(img, i))
    return root / "sr", root / "hr"


@pytest.fixture(scope="module")
def evaluation(photo_pairs):
    from lgcaa.metrics.evaluate import evaluate

    sr, hr = photo_pairs
    return evaluate(sr, hr, ["psnr", "ssim", "niqe"], device="cpu")


def _per_image(ev, metric: str) -> dict[str, float]:
    return {n: v for n, m, v in ev.rows if m == metric}


def _bgr(path: Path) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(path).convert("RGB"))[..., ::-1].copy()


def test_psnr_ssim_equal_basicsr_and_skimage_on_y(photo_pairs, evaluation):
    """Independent references on the same Y (MATLAB YCbCr, BT.601): basicsr and skimage.

    PSNR: Y unrounded (pyiqa's psnr and basicsr's calculate_psnr agree). SSIM: pyiqa rounds Y to integers like
    MATLAB's rgb2ycbcr on uint8 (basicsr's calculate_ssim does not: ~1e-3 apart on these photos), so the
    references get round(Y): basicsr's _ssim and skimage's SSIM (Gaussian sigma 1.5, population covariance).
    """
    from skimage.color import rgb2ycbcr
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    from lgcaa.compat import import_basicsr

    import_basicsr()
    from basicsr.metrics.psnr_ssim import _ssim, calculate_psnr

    sr_dir, hr_dir = photo_pairs
    psnr, ssim = _per_image(evaluation, "psnr"), _per_image(evaluation, "ssim")
    assert set(psnr) == {f"{p}.png" for p in PHOTOS}
    for n in psnr:
        sr, hr = _bgr(sr_dir / n), _bgr(hr_dir / n)
        y_sr, y_hr = rgb2ycbcr(sr[..., ::-1])[..., 0], rgb2ycbcr(hr[..., ::-1])[..., 0]
        assert psnr[n] == pytest.approx(calculate_psnr(sr, hr, 0, test_y_channel=True), abs=1e-4)
        assert psnr[n] == pytest.approx(peak_signal_noise_ratio(y_hr, y_sr, data_range=255), abs=1e-4)
        ry_sr, ry_hr = np.round(y_sr), np.round(y_hr)
        assert ssim[n] == pytest.approx(_ssim(ry_sr, ry_hr), abs=1e-4)
        sk = structural_similarity(ry_hr, ry_sr, data_range=255, gaussian_weights=True, sigma=1.5,
                                   use_sample_covariance=False)
        assert ssim[n] == pytest.approx(sk, abs=1e-4)
        assert 15 < psnr[n] < 40 and 0.3 < ssim[n] < 1  # a real degradation, not a degenerate case


def test_niqe_equals_basicsr(photo_pairs, evaluation):
    """Same luminance on both sides: pyiqa's NIQE default Y is YIQ's Y (0.299R + 0.587G + 0.114B), which is
    basicsr's convert_to='gray'. (basicsr's default 'y' is YCbCr's Y; it moves NIQE by up to ~1 on these
    photos — the protocol keeps pyiqa's default, as the compared methods' scripts do.)"""
    from lgcaa.compat import import_basicsr

    import_basicsr()
    from basicsr.metrics.niqe import calculate_niqe

    sr_dir, _ = photo_pairs
    niqe = _per_image(evaluation, "niqe")
    assert len(niqe) == len(PHOTOS)
    for n, v in niqe.items():
        ref = float(calculate_niqe(_bgr(sr_dir / n), 0, input_order="HWC", convert_to="gray"))
        assert v == pytest.approx(ref, abs=0.1), n
        assert 2 < v < 30
    # and on a full 512x512 photo (the 200x248 crops hold only 2x2 NIQE blocks)
    from lgcaa.metrics.build import get_model
    from lgcaa.metrics.decode import to_batch

    img = _photo("astronaut")
    ours = float(get_model("niqe", "cpu")(to_batch([img])).reshape(-1)[0])
    assert ours == pytest.approx(float(calculate_niqe(img[..., ::-1], 0, convert_to="gray")), abs=0.1)


def test_batched_and_parallel_equal_per_image(photo_pairs, evaluation):
    from lgcaa.metrics.evaluate import evaluate

    sr, hr = photo_pairs
    single = evaluate(sr, hr, ["psnr", "ssim", "niqe"], batch_pixels=1, workers=1)
    assert single.timing["batches"] == len(PHOTOS) and evaluation.timing["batches"] < len(PHOTOS)
    a = {(n, m): v for n, m, v in single.rows}
    b = {(n, m): v for n, m, v in evaluation.rows}
    assert a.keys() == b.keys()
    for k in a:
        assert b[k] == pytest.approx(a[k], rel=1e-9, abs=1e-9), k


def test_aggregate_and_files(photo_pairs, evaluation, tmp_path):
    from lgcaa.metrics.evaluate import write_evaluation

    agg = evaluation.aggregate
    assert agg["n_images"] == len(PHOTOS)
    for m in ("psnr", "ssim", "niqe"):
        vals = list(_per_image(evaluation, m).values())
        assert agg["metrics"][m] == {"status": "ok", "mean": pytest.approx(np.mean(vals)), "n": len(PHOTOS)}
    assert [r[:2] for r in evaluation.rows][:3] == [("astronaut.png", "psnr"), ("astronaut.png", "ssim"),
                                                    ("astronaut.png", "niqe")]
    write_evaluation(tmp_path, evaluation, {"dataset": "d", "method": "m", "expected_count": 4})
    lines = (tmp_path / "per_image.csv").read_text().splitlines()
    assert lines[0] == "image,metric,value" and len(lines) == 1 + 3 * len(PHOTOS)
    lock = json.loads((tmp_path / "lock.json").read_text())
    saved = json.loads((tmp_path / "aggregate.json").read_text())
    assert lock["lock"] == saved["lock"] == agg["lock"] and saved["expected_count"] == 4
    assert saved["protocol"]["metrics"]["psnr"]["options"] == {"test_y_channel": True, "color_space": "ycbcr",
                                                              "crop_border": 0}


def test_eval_cli_end_to_end(photo_pairs, tmp_path, capsys):
    from lgcaa.cli import main

    sr, hr = photo_pairs
    out = tmp_path / "ev"
    rc = main(["eval", str(sr), str(hr), "--out", str(out), "--metrics", "psnr,niqe,musiq", "--device", "cpu",
               "--dataset", "photos", "--method", "bicubic+noise", "--expected-count", "4", "--record",
               str(out / "run.json")])
    assert rc == 0
    printed = capsys.readouterr().out
    agg = json.loads((out / "aggregate.json").read_text())
    assert f"lock={agg['lock']}" in printed and "N=4" in printed
    record = json.loads((out / "run.json").read_text())
    assert record["params"]["lock"] == agg["lock"] and record["tags"]["lgcaa.lock"] == agg["lock"]
    assert set(record["metrics"]) >= {"psnr", "niqe"}
    if agg["metrics"]["musiq"]["status"] == "missing":  # no weights here: reported, never a number
        assert "musiq_koniq_ckpt-e95806b9.pth" in agg["metrics"]["musiq"]["reason"]
        assert agg["metrics"]["musiq"]["fix"] == "lgcaa weights fetch musiq"
        assert "musiq" not in record["metrics"] and "missing.musiq" in record["params"]


def test_unknown_metric_and_name_mismatch(photo_pairs, tmp_path):
    import shutil

    from lgcaa.metrics.evaluate import evaluate

    sr, hr = photo_pairs
    with pytest.raises(UserError, match="unknown metric 'psnrr'"):
        evaluate(sr, hr, ["psnrr"])
    sr2 = tmp_path / "sr"
    shutil.copytree(sr, sr2)
    (sr2 / "coffee.png").rename(sr2 / "coffee2.png")
    with pytest.raises(UserError, match=r"names differ \(1 only in SR, e.g. \['coffee2.png'\]; 1 only in HR, "
                                        r"e.g. \['coffee.png'\]\)"):
        evaluate(sr2, hr, ["psnr"])


# --- the protocol lock --------------------------------------------------------------------------------------


def _all_option_variants():
    from lgcaa.metrics.registry import METRICS

    for name, spec in METRICS.items():
        for key, value in spec.options.items():
            changed = (not value) if isinstance(value, bool) else (value + 1 if isinstance(value, int)
                                                                   else f"{value}-changed")
            yield name, key, changed


@pytest.mark.parametrize("metric,key,changed", list(_all_option_variants()))
def test_lock_changes_with_every_option(monkeypatch, metric, key, changed):
    import dataclasses

    from lgcaa.metrics import registry
    from lgcaa.metrics.lock import lock_hash, protocol

    names = list(registry.METRICS)
    before = lock_hash(protocol(names, pyiqa_version="0.1.16"))
    spec = registry.METRICS[metric]
    monkeypatch.setitem(registry.METRICS, metric, dataclasses.replace(spec, options={**spec.options, key: changed}))
    assert lock_hash(protocol(names, pyiqa_version="0.1.16")) != before


def test_lock_changes_with_version_image_rules_weights_and_name(monkeypatch):
    import dataclasses

    from lgcaa.metrics import decode, registry
    from lgcaa.metrics.lock import lock_hash, protocol
    from lgcaa.weights import manifest

    names = list(registry.METRICS)
    base = lock_hash(protocol(names, pyiqa_version="0.1.16"))
    assert len(base) == 12 and base == lock_hash(protocol(list(reversed(names)), pyiqa_version="0.1.16"))
    assert lock_hash(protocol(names, pyiqa_version="0.1.17")) != base
    assert lock_hash(protocol(names[:-1], pyiqa_version="0.1.16")) != base
    monkeypatch.setitem(decode.DECODE_PROTOCOL, "alpha", "composite on black")
    assert lock_hash(protocol(names, pyiqa_version="0.1.16")) != base
    monkeypatch.undo()
    f = manifest.BY_DEST["pyiqa/musiq_koniq_ckpt-e95806b9.pth"]
    monkeypatch.setitem(manifest.BY_DEST, f.dest, dataclasses.replace(f, sha256="e95806b9" + "0" * 56))
    assert lock_hash(protocol(names, pyiqa_version="0.1.16")) != base
    monkeypatch.undo()
    spec = registry.METRICS["maniqa"]
    monkeypatch.setitem(registry.METRICS, "maniqa", dataclasses.replace(spec, pyiqa_name="maniqa"))
    assert lock_hash(protocol(names, pyiqa_version="0.1.16")) != base


def test_mixing_locks_fails_naming_both():
    from lgcaa.metrics.lock import require_same_lock

    assert require_same_lock([("a", "x1"), ("b", "x1")]) == "x1"
    with pytest.raises(UserError, match="a/aggregate.json has 111111111111 but b/aggregate.json has 222222222222"):
        require_same_lock([("a/aggregate.json", "111111111111"), ("c", "111111111111"),
                           ("b/aggregate.json", "222222222222")])
    with pytest.raises(UserError, match="no results"):
        require_same_lock([])


def test_eval_request_checks_before_any_work_and_the_lines_printed(photo_pairs, evaluation, tmp_path):
    from lgcaa.config import load_config
    from lgcaa.layout import Layout
    from lgcaa.metrics.evaluate import Evaluation
    from lgcaa.metrics.job import eval_lines, eval_request
    from lgcaa.tracking import SR_IMAGES

    sr, hr = photo_pairs
    req = eval_request(None, None, "", "", sr, hr, None, " psnr, ,niqe", None, None)
    assert (req.metrics, req.out, req.expected_count, req.mlflow_images) == (["psnr", "niqe"], None, None, None)
    assert req.label == f"eval {sr.name} on {hr.parent.name}" and req.extra["sr_dir"] == str(sr)
    named = eval_request(None, None, "photos", "m", sr, hr, tmp_path, "psnr", 4, 2)
    assert named.label == "eval m on photos" and named.extra == {"dataset": "photos", "method": "m", "sr_dir": str(sr),
                                                                 "hr_dir": str(hr), "expected_count": 4}
    with pytest.raises(UserError, match="give SR_DIR HR_DIR"):
        eval_request(None, None, "", "", sr, None, None, "psnr", None, None)
    with pytest.raises(UserError, match="--metrics is empty"):
        eval_request(None, None, "", "", sr, hr, None, " , ", None, None)
    with pytest.raises(UserError, match=r"'psnrr' \(did you mean 'psnr'\?\), 'ssmi'"):
        eval_request(None, None, "", "", sr, hr, None, "psnrr,ssmi", None, None)
    with pytest.raises(UserError, match="SR folder not found; it is made by an SR job"):
        eval_request(None, None, "", "", tmp_path / "none", hr, None, "psnr", None, None)
    cfg = load_config("mini")
    cfg["paths"] = {**cfg["paths"], "results": str(tmp_path / "results")}
    with pytest.raises(UserError, match="rule `sr`"):  # the profile's job: its folders, not the ones given
        eval_request(cfg, "mini", "mini-bicubic", "bicubic", sr, hr, None, "psnr", None, None)
    Path(Layout.of(cfg).sr_dir("mini-bicubic", "bicubic")).mkdir(parents=True)
    job = eval_request(cfg, "mini", "mini-bicubic", "bicubic", None, None, None, "psnr", None, None)
    assert job.metrics == list(cfg["metrics"]) and job.out == Path(Layout.of(cfg).metrics_dir("mini-bicubic", "bicubic"))
    assert job.mlflow_images == cfg.get("report", {}).get("mlflow_images", SR_IMAGES)
    assert eval_request(cfg, "mini", "mini-bicubic", "bicubic", None, None, None, "psnr", None, 0).mlflow_images == 0
    ev = Evaluation(evaluation.rows, {**evaluation.aggregate, "metrics": {
        **evaluation.aggregate["metrics"], "musiq": {"status": "missing", "reason": "weights absent", "fix": "F"}}},
        {"total_s": 2.25, "forward_total_s": 1.04})
    lines = eval_lines(ev, "cpu")
    assert lines[0] == f"psnr     {evaluation.aggregate['metrics']['psnr']['mean']:.4f}"
    assert lines[-2] == "musiq    missing: weights absent (fix: F)"
    assert lines[-1] == f"N={len(PHOTOS)} lock={evaluation.aggregate['lock']} device=cpu time=2.2s (metric forward 1.0s)"
