"""Bad and unusual inputs: a defined behaviour for each (convert, or fail naming the file)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lgcaa.errors import UserError
from lgcaa.metrics.decode import decode
from lgcaa.metrics.evaluate import MetricError, evaluate


def _photo(h: int = 128, w: int = 160) -> np.ndarray:
    import skimage.data

    return np.ascontiguousarray(skimage.data.astronaut()[100:100 + h, 150:150 + w])


def _save(path: Path, arr: np.ndarray, mode: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr, mode=mode).save(path) if mode else Image.fromarray(arr).save(path)
    return path


# --- decoding rules ---------------------------------------------------------------------------------------


def test_rgb_is_unchanged_and_grey_is_replicated(tmp_path):
    rgb = _photo()
    assert np.array_equal(decode(_save(tmp_path / "rgb.png", rgb)), rgb)
    grey = rgb[..., 1].copy()
    out = decode(_save(tmp_path / "grey.png", grey))
    assert out.shape == (*grey.shape, 3) and all(np.array_equal(out[..., c], grey) for c in range(3))


def test_palette_is_converted(tmp_path):
    rgb = _photo()
    p = tmp_path / "pal.png"
    Image.fromarray(rgb).quantize(64).save(p)
    assert np.array_equal(decode(p), np.asarray(Image.open(p).convert("RGB")))


def test_opaque_alpha_is_dropped_transparent_fails(tmp_path):
    rgb = _photo()
    rgba = np.concatenate([rgb, np.full((*rgb.shape[:2], 1), 255, np.uint8)], axis=2)
    assert np.array_equal(decode(_save(tmp_path / "opaque.png", rgba, "RGBA")), rgb)
    rgba[3, 4, 3] = 200
    bad = _save(tmp_path / "holey.png", rgba, "RGBA")
    with pytest.raises(UserError, match=r"holey\.png: 1 pixels are not fully opaque"):
        decode(bad)
    la = np.stack([rgb[..., 0], np.full(rgb.shape[:2], 255, np.uint8)], axis=2)
    assert decode(_save(tmp_path / "la.png", la, "LA")).shape == rgb.shape


def test_16bit_is_rounded_to_8bit(tmp_path):
    import cv2

    rgb = _photo()
    jitter = np.random.default_rng(0).integers(-128, 129, rgb.shape)
    v16 = np.clip(rgb.astype(np.int64) * 257 + jitter, 0, 65535).astype(np.uint16)
    v16[0, 0] = [65535, 128, 129]  # 255, round(0.498)=0, round(0.502)=1
    expected = np.clip(np.round(v16 / 257.0), 0, 255).astype(np.uint8)
    p = tmp_path / "rgb16.png"
    assert cv2.imwrite(str(p), v16[..., ::-1].copy())
    assert np.array_equal(decode(p), expected) and tuple(decode(p)[0, 0]) == (255, 0, 1)
    g = tmp_path / "grey16.png"
    assert cv2.imwrite(str(g), v16[..., 0].copy())
    assert np.array_equal(decode(g)[..., 2], expected[..., 0])
    a = tmp_path / "rgba16.png"
    alpha = np.full((*rgb.shape[:2], 1), 65535, np.uint16)
    assert cv2.imwrite(str(a), np.concatenate([v16[..., ::-1], alpha], axis=2))
    assert np.array_equal(decode(a), expected)


def test_undecodable_file_fails_naming_it(tmp_path):
    p = tmp_path / "broken.png"
    p.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    with pytest.raises(UserError, match=r"broken\.png: cannot decode image"):
        decode(p)
    q = tmp_path / "text.png"
    q.write_text("not an image")
    with pytest.raises(UserError, match=r"text\.png: cannot decode image"):
        decode(q)


# --- evaluator-level behaviour -----------------------------------------------------------------------------


def _pair(root: Path, name: str, hr: np.ndarray, sr: np.ndarray, hr_mode=None, sr_mode=None) -> tuple[Path, Path]:
    _save(root / "hr" / name, hr, hr_mode)
    _save(root / "sr" / name, sr, sr_mode)
    return root / "sr", root / "hr"


def test_grey_and_opaque_rgba_score_like_their_rgb(tmp_path):
    hr = _photo()
    sr = np.clip(hr.astype(int) + 6, 0, 255).astype(np.uint8)
    grey_hr, grey_sr = hr[..., 0].copy(), sr[..., 0].copy()
    a = evaluate(*_pair(tmp_path / "g", "x.png", grey_hr, grey_sr), ["psnr", "ssim", "niqe"])
    b = evaluate(*_pair(tmp_path / "g3", "x.png", np.repeat(grey_hr[..., None], 3, 2),
                        np.repeat(grey_sr[..., None], 3, 2)), ["psnr", "ssim", "niqe"])
    assert a.rows == b.rows
    op = np.full((*hr.shape[:2], 1), 255, np.uint8)
    c = evaluate(*_pair(tmp_path / "a", "x.png", np.concatenate([hr, op], 2), np.concatenate([sr, op], 2),
                        "RGBA", "RGBA"), ["psnr", "ssim"])
    d = evaluate(*_pair(tmp_path / "rgb", "x.png", hr, sr), ["psnr", "ssim"])
    assert c.rows == d.rows


def test_odd_sizes_are_scored_as_they_are(tmp_path):
    hr = _photo(97, 131)
    sr = np.clip(hr.astype(int) - 5, 0, 255).astype(np.uint8)
    ev = evaluate(*_pair(tmp_path, "odd.png", hr, sr), ["psnr", "ssim", "niqe"])
    assert [m for _, m, _ in ev.rows] == ["psnr", "ssim", "niqe"]
    assert all(np.isfinite(v) for *_, v in ev.rows)


def test_size_mismatch_fails_naming_file_and_sizes(tmp_path):
    hr = _photo(128, 160)
    sr_dir, hr_dir = _pair(tmp_path, "a.png", hr, hr[:, :-4].copy())
    with pytest.raises(UserError, match=r"sr/a\.png: SR size 128x156 \(HxW\) differs from HR 128x160"):
        evaluate(sr_dir, hr_dir, ["psnr"])


def test_too_small_for_niqe_fails_naming_file(tmp_path):
    small = _photo(80, 90)
    sr_dir, hr_dir = _pair(tmp_path, "tiny.png", small, small)
    with pytest.raises(UserError, match=r"tiny\.png: 80x90 is smaller than 96 px, the minimum side for metric niqe"):
        evaluate(sr_dir, hr_dir, ["psnr", "niqe"])
    assert evaluate(sr_dir, hr_dir, ["psnr", "ssim"]).aggregate["n_images"] == 1  # fine without NIQE


def test_transparent_image_fails_the_job_naming_it(tmp_path):
    hr = _photo()
    rgba = np.concatenate([hr, np.full((*hr.shape[:2], 1), 255, np.uint8)], 2)
    rgba[0, 0, 3] = 0
    _pair(tmp_path, "ok.png", hr, hr)
    sr_dir, hr_dir = _pair(tmp_path, "glass.png", hr, rgba, None, "RGBA")
    with pytest.raises(UserError, match=r"sr/glass\.png: 1 pixels are not fully opaque"):
        evaluate(sr_dir, hr_dir, ["psnr"])


class _PickyMetric:
    """Plumbing stand-in: mean |SR - HR| per image; raises or returns NaN on images whose SR mean is `bad`."""

    def __init__(self, bad: float, nan: bool = False):
        self.bad, self.nan, self.calls = bad, nan, []

    def __call__(self, sr, hr):
        import torch

        self.calls.append(sr.shape[0])
        means = sr.mean(dim=(1, 2, 3))
        hit = (means - self.bad).abs() < 1e-6
        if hit.any() and not self.nan:
            raise ValueError("boom")
        out = (sr - hr).abs().mean(dim=(1, 2, 3)).double()
        return torch.where(hit, torch.full_like(out, float("nan")), out)


@pytest.mark.parametrize("nan", [False, True])
def test_metric_failing_on_one_image_fails_the_job_naming_it(tmp_path, monkeypatch, nan):
    from lgcaa.metrics import build, registry

    names = ["a.png", "b.png", "c.png", "d.png"]
    for i, n in enumerate(names):
        img = np.full((32, 32, 3), 40 * (i + 1), np.uint8)
        _pair(tmp_path, n, img, img)
    model = _PickyMetric(bad=120 / 255, nan=nan)  # c.png
    monkeypatch.setitem(registry.METRICS, "picky", registry.MetricSpec(name="picky", pyiqa_name="picky", options={}, mode="FR", lower_better=True, label="Picky"))
    from lgcaa.metrics.availability import hub_dir

    monkeypatch.setitem(build._MODELS, ("picky", "cpu", str(hub_dir())), model)
    with pytest.raises(MetricError, match=r"metric picky (failed on|returned nan on) .*sr/c\.png"):
        evaluate(tmp_path / "sr", tmp_path / "hr", ["picky"], workers=1)
    assert model.calls[0] == 4  # it was a batched call first
    model.bad = -1.0  # now nothing fails
    ev = evaluate(tmp_path / "sr", tmp_path / "hr", ["picky"], workers=2)
    assert [n for n, _, _ in ev.rows] == names and all(v == 0 for *_, v in ev.rows)
