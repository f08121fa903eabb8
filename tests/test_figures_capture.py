"""Figs. 10-11 from a trained (tiny, 2-step) LGCAA run: the captured latents and attention stages, and the image
sampled while capturing equals the run's own SR output for that image."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lgcaa.figures.spec import CaptureRun
from lgcaa.io import read_rgb, write_png

pytestmark = pytest.mark.usefixtures("one_torch_thread")

@pytest.fixture(scope="module")
def run(tiny_run_dir) -> CaptureRun:
    return CaptureRun("LGCAA", "run", str(tiny_run_dir), 3, "run")


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    from lgcaa.data.photos import load_photo

    root = tmp_path_factory.mktemp("data")
    hr = load_photo("astronaut")[:256:4, :256:4][:64, :64]  # a 64x64 HR, 16x16 LR
    from lgcaa.figures.crops import resize

    write_png(root / "hr" / "a.png", np.ascontiguousarray(hr))
    write_png(root / "lr" / "a.png", resize(np.ascontiguousarray(hr), (16, 16)))
    return root


def test_latents_are_captured_per_channel_for_the_same_sample(run, data, tmp_path):
    from lgcaa.figures.capture import capture_latents, decoded_latents
    from lgcaa.figures.latents import w1
    from lgcaa.model.sampler import load_trained, sample_folder

    pair = capture_latents(run, str(data / "lr"), str(data / "hr"), ["a.png"])
    c, n = pair.predicted.shape
    assert pair.initial.shape == (c, n) and c == 4 and n > 0
    assert pair.images == ("a.png",)  # what Fig. 11's subtitle counts
    assert all(np.isfinite(w) and w >= 0 for w in pair.w1_per_channel())
    assert w1(pair.predicted[0], pair.predicted[0]) == 0.0
    net, cfg = load_trained(Path(run.run_dir))
    with decoded_latents(net) as seen:  # the sampler decodes exactly once per batch: that latent is x̂₀
        sample_folder(net, cfg, data / "lr", tmp_path / "sr")
    assert len(seen) == 1 and np.allclose(seen[0][0].flatten(1).numpy(), pair.predicted, atol=1e-5)
    assert not hasattr(net, "__dict__") or "decode" not in net.__dict__  # the wrapper is gone afterwards


def test_attention_stages_are_captured_from_the_processor_hook(run, data, tmp_path):
    from lgcaa.model import attention

    assert hasattr(attention, "set_capture"), "the attention processor's capture hook (Fig. 10) is gone"
    from lgcaa.figures.attention_maps import make_figure
    from lgcaa.figures.capture import capture_attention
    from lgcaa.model.sampler import load_trained, sample_folder

    cap = capture_attention(run, str(data / "lr"), "a.png")
    stages = {s.stage: s for s in cap.stages}
    assert set(stages) == {"local", "global", "output"}
    h, w = stages["local"].grid
    assert stages["local"].tokens.shape[0] == h * w and 0 <= cap.query < h * w
    for name in ("local", "global"):
        att = stages[name].attention
        assert att.shape == (h * w,) and abs(att.sum() - 1) < 1e-4
    assert (stages["local"].attention > 0).sum() <= 4 * 4 < (stages["global"].attention > 0).sum()  # one window
    net, cfg = load_trained(Path(run.run_dir))
    sample_folder(net, cfg, data / "lr", tmp_path / "sr")
    assert np.array_equal(cap.sr, read_rgb(tmp_path / "sr" / "a.png"))  # the figure shows the run's own output
    assert len(make_figure("Fig. 10", "", cap).axes) == 2 * 5
