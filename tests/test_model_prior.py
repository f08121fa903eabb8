"""Step 0 keeps the pretrained prior: on a prepared tiny backbone (VAE and UNet pre-trained on held-out photos,
`lgcaa.model.prepare`), the ε-prediction MSE of the full LGCAA model at initialisation, on held-out pairs (the
mini test photos, which neither preparation nor calibration sees), stays within PRIOR_FACTOR of the standard
model's, and closer than with LayerNorm's default affine (`model.norm_init: "unit"`, the reading before).

Measured (printed by the test): on this test's small backbone (10 VAE + 40 UNet steps, a weak prior: standard
ε-MSE 0.767) the ratio lgcaa/standard was 1.050 with "unit" and 1.0006 with "pretrained"; on a backbone trained
300 + 300 steps (`lgcaa bench prior --arch tiny --pretrained <it> --size 64 --window 4`) 1.626 and 1.002.
"""

from __future__ import annotations

import json

import pytest
import torch

from lgcaa.bench.prior import MEASURE_PHOTOS
from lgcaa.model.calibrate import centre_crops, step0_mse
from lgcaa.model.config import ModelConfig, PrepareConfig
from lgcaa.model.network import build_network
from lgcaa.model.prepare import prepare_backbone

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SIZE = 64
PRIOR_FACTOR = 1.05  # lgcaa's step-0 MSE at most 5% above the pretrained (standard) model's
BACKBONE = PrepareConfig(size=SIZE, vae_steps=10, vae_batch=4, vae_lr=3e-3, unet_steps=40, unet_batch=4)


@pytest.fixture(scope="module")
def backbone(tmp_path_factory):
    out = tmp_path_factory.mktemp("prior-backbone")
    prepare_backbone(BACKBONE, out, log=lambda _: None)
    return str(out)


def _net(backbone: str, attention: str, norm_init: str = "pretrained"):
    cfg = ModelConfig(arch="tiny", window=4, pretrained=backbone, attention=attention, dpacm="none", norm_init=norm_init)
    return build_network(cfg, with_losses=False, calibration_size=SIZE)


def test_lgcaa_step0_stays_within_a_factor_of_the_pretrained_model(backbone):
    hr = centre_crops(MEASURE_PHOTOS, SIZE)
    lr = torch.nn.functional.interpolate(hr, scale_factor=0.25, mode="area")
    standard = step0_mse(_net(backbone, "standard"), hr, lr)
    unit_net, fitted_net = _net(backbone, "lgcaa", "unit"), _net(backbone, "lgcaa", "pretrained")
    unit, fitted = step0_mse(unit_net, hr, lr), step0_mse(fitted_net, hr, lr)
    ratios = {"standard_mse": standard, "unit": unit / standard, "pretrained": fitted / standard}
    print(json.dumps(ratios))
    assert ratios["pretrained"] <= PRIOR_FACTOR, ratios
    assert ratios["unit"] > ratios["pretrained"], ratios  # the fitted affine starts closer than (1, 0)
    # the reading "unit" leaves LayerNorm's default affine; "pretrained" moved it (and nothing else)
    unit_state, fitted_state = unit_net.state_dict(), fitted_net.state_dict()
    moved = {k for k in unit_state if not torch.equal(unit_state[k], fitted_state[k])}
    assert moved and all(".post_norm." in k for k in moved), sorted(moved)[:4]
    assert all(torch.equal(v, torch.ones_like(v)) for k, v in unit_state.items() if k.endswith("post_norm.weight"))


def test_random_backbones_and_sampling_builds_are_not_calibrated(backbone):
    """A random backbone has no prior to keep, and sampling loads the trained affine over it: both keep (1, 0)."""
    for net in (build_network(ModelConfig(arch="tiny", window=4, dpacm="none"), with_losses=False),
                build_network(ModelConfig(arch="tiny", window=4, pretrained=backbone, dpacm="none"),
                              with_losses=False, calibrate=False)):
        weights = [v for k, v in net.state_dict().items() if k.endswith("post_norm.weight")]
        assert weights and all(torch.equal(w, torch.ones_like(w)) for w in weights)
