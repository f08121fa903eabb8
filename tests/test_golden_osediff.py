"""The golden test: OSEDiff's published outputs, scored with our protocol, reproduce OSEDiff's own published log
image by image — PSNR and SSIM to 1e-4, NIQE to 0.02 per image and 1e-3 in the mean, for every image of
StableSR's RealSR (100) and DRealSR (93) crops. The log's weight-bound metrics are checked the same way where
their weights are here, skipped with the reason otherwise.

The scores come from `lgcaa.metrics.peer_log.golden_check`, which runs `lgcaa.metrics.evaluate` (what `lgcaa eval`
runs) on the mirror's files. Changing one line of the protocol (SSIM on RGB, PSNR without `test_y_channel`)
makes this fail: every image drifts by far more than 1e-4.
"""

from __future__ import annotations

import pytest

from lgcaa.metrics.peer_log import drift_lines, parse_peer_log

pytestmark = pytest.mark.slow  # every image of both sets: ~25 s each on one core

SETS = {"realsr": 100, "drealsr": 93}
OFFLINE = ("psnr", "ssim", "niqe")
WEIGHT_BOUND = ("lpips", "dists", "clipiqa", "musiq", "maniqa")


def _paths(shared_data, dataset):
    (log,) = sorted((shared_data / "osediff-outputs" / dataset / "metrics").glob("test_METRICS_*.log"))
    return shared_data / "osediff-outputs" / dataset, shared_data / "stablesr-crops" / dataset / "HR", log


class _Checks(dict):
    """dataset -> golden_check(...) of every metric of its log, scored on first use, once per module."""

    def __init__(self, shared_data):
        super().__init__()
        self.shared_data = shared_data

    def __missing__(self, dataset):
        from lgcaa.metrics.peer_log import golden_check

        self[dataset] = golden_check(*_paths(self.shared_data, dataset), device="cpu")
        return self[dataset]


@pytest.fixture(scope="module")
def checks(shared_data):
    return _Checks(shared_data)


@pytest.mark.parametrize("dataset", list(SETS))
def test_osediff_outputs_reproduce_osediffs_log_for_psnr_ssim_niqe(checks, dataset):
    check = checks[dataset]
    assert check["n_images"] == SETS[dataset]
    bad = drift_lines({"metrics": {m: check["metrics"][m] for m in OFFLINE}})
    assert not bad, "\n".join(bad)
    for m in OFFLINE:
        r = check["metrics"][m]
        assert r["status"] == "ok" and r["n"] == SETS[dataset] and r["over_tolerance"] == []
        assert r["max_abs_diff"] <= r["tolerance_per_image"] and r["mean_abs_diff"] <= r["tolerance_mean"]


@pytest.mark.parametrize("metric", WEIGHT_BOUND)
@pytest.mark.parametrize("dataset", list(SETS))
def test_weight_bound_metrics_reproduce_the_log_where_weights_exist(checks, dataset, metric):
    r = checks[dataset]["metrics"][metric]
    if r["status"] == "skipped":
        pytest.skip(f"{metric} on {dataset}: {r['reason']}")
    assert r["status"] == "ok", "\n".join(drift_lines({"metrics": {metric: r}}))


def test_the_check_scores_exactly_the_logs_images(checks, shared_data):
    for d in SETS:
        log = parse_peer_log(_paths(shared_data, d)[2])
        assert checks[d]["n_images"] == len(log.images)
        assert checks[d]["lock"] and checks[d]["sr_sha256"] != checks[d]["hr_sha256"]
