"""DPACM losses: closed-form Wasserstein-1 against scipy, LPIPS construction, the total loss of Eq. 4."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.stats import wasserstein_distance

from lgcaa.errors import UserError
from lgcaa.model.config import ModelConfig
from lgcaa.model.dpacm import DPACM_TERMS, DPACMProjection, build_lpips, dpacm_losses, total_loss, wasserstein1

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_w1_equals_scipy_per_channel(seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(1, 1, 13, 17))
    y = rng.gamma(2.0, size=(1, 1, 13, 17)) - 1.5
    got = wasserstein1(torch.from_numpy(x), torch.from_numpy(y)).item()
    assert got == pytest.approx(wasserstein_distance(x.ravel(), y.ravel()), rel=1e-6, abs=1e-7)


def test_w1_averages_images_and_channels_and_is_a_distribution_distance():
    rng = np.random.default_rng(3)
    x, y = rng.uniform(-1, 1, size=(2, 3, 8, 8)), rng.uniform(-1, 1, size=(2, 3, 8, 8))
    expected = np.mean([wasserstein_distance(x[b, c].ravel(), y[b, c].ravel()) for b in range(2) for c in range(3)])
    assert wasserstein1(torch.from_numpy(x), torch.from_numpy(y)).item() == pytest.approx(expected, rel=1e-6)
    t = torch.from_numpy(x)
    shuffled = t.flatten(2)[..., torch.randperm(64)].view_as(t)
    assert wasserstein1(t, shuffled).item() == pytest.approx(0.0, abs=1e-12)  # permutation-invariant
    assert wasserstein1(t, t + 0.25).item() == pytest.approx(0.25, abs=1e-9)  # a shift costs its size


def test_w1_gradient_flows():
    x = torch.randn(1, 3, 8, 8, requires_grad=True)
    wasserstein1(x, torch.zeros(1, 3, 8, 8)).backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_lpips_random_trunk_is_seeded_and_frozen():
    from lgcaa.model import dpacm

    a = build_lpips("random (offline)", seed=0)
    dpacm._LPIPS_CACHE.clear()
    b = build_lpips("random (offline)", seed=0)
    x, y = torch.rand(1, 3, 64, 64) * 2 - 1, torch.rand(1, 3, 64, 64) * 2 - 1
    assert torch.equal(a(x, y), b(x, y))
    assert not any(p.requires_grad for p in a.parameters())


def test_lpips_pretrained_missing_weights_names_file_and_fix(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    with pytest.raises(UserError) as err:
        build_lpips("pretrained")
    msg = str(err.value)
    assert str(tmp_path / "checkpoints" / "alexnet-owt-7be5be79.pth") in msg and "download.pytorch.org" in msg


@pytest.mark.parametrize("w1_on", ["latent", "embedding"])
@pytest.mark.parametrize("variant", list(DPACM_TERMS))
def test_dpacm_variants_and_eq4(variant, w1_on):
    cfg = ModelConfig(dpacm=variant, w1_on=w1_on)
    lp = build_lpips("random (offline)") if "lpips" in DPACM_TERMS[variant] else None
    proj = DPACMProjection(8)
    rgb = proj(torch.randn(2, 8, 8, 8), (64, 64))
    assert rgb.shape == (2, 3, 64, 64)
    hr = torch.rand(2, 3, 64, 64) * 2 - 1
    x0, z0 = torch.randn(2, 4, 16, 16), torch.randn(2, 4, 16, 16)
    terms = dpacm_losses(cfg, hr, rgb, (x0, z0), lp)
    assert set(terms) == set(DPACM_TERMS[variant])
    if "wasserstein" in terms:  # between the latents or between the projection and the HR image
        expected_w1 = wasserstein1(x0, z0) if w1_on == "latent" else wasserstein1(rgb, hr)
        assert torch.equal(terms["wasserstein"], expected_w1)
    terms["mse"] = torch.tensor(0.5)
    expected = 0.5 + 0.3 * float(terms.get("wasserstein", torch.tensor(0.0)).detach()) + 2.0 * float(terms.get("lpips", torch.tensor(0.0)).detach())
    assert total_loss(terms, 0.3, 2.0).detach().item() == pytest.approx(float(expected), rel=1e-6)
    assert (ModelConfig().lambda_w, ModelConfig().lambda_p) == (2.0, 0.3)  # Table III's (2.0, 0.3) cell, λ_w first


def test_latent_w1_magnifies_the_prediction_error_by_the_schedule():
    """x̂₀ − z₀ = −√(1−ᾱ)/√ᾱ · (ε̂ − ε): the latent reading of W1 weighs the denoiser's error by this gain (printed),
    14.6 at t = 999 on SD2-base's schedule, so Table III's λ cannot mean the same under both readings."""
    from lgcaa.model.backbone import scheduler_from_config
    from lgcaa.model.dpacm import x0_error_gain
    from lgcaa.model.presets import ARCH_PRESETS

    abar = scheduler_from_config(ARCH_PRESETS["sd2-base"].scheduler).alphas_cumprod
    gains = {t: round(float(x0_error_gain(abar, t)), 3) for t in (0, 250, 500, 750, 999)}
    mean = float(x0_error_gain(abar, torch.arange(1000)).mean())
    print({"gain_by_t": gains, "mean_over_uniform_t": round(mean, 3)})
    assert 14.5 < gains[999] < 14.7 and gains[0] < 0.05 and 2.5 < mean < 3.5
    z0, eps, err = torch.randn(1, 4, 8, 8), torch.randn(1, 4, 8, 8), 0.01 * torch.randn(1, 4, 8, 8)
    t = 999
    z_t = abar[t].sqrt() * z0 + (1 - abar[t]).sqrt() * eps
    x0_hat = (z_t - (1 - abar[t]).sqrt() * (eps + err)) / abar[t].sqrt()
    assert torch.allclose((x0_hat - z0).abs().mean(), x0_error_gain(abar, t).float() * err.abs().mean(), rtol=1e-3)
