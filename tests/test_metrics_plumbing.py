"""PLUMBING ONLY — weight-bound metrics run with weights created locally at random.

The real weights cannot be downloaded here. These tests make files of the right architecture with random
values, in a temporary hub folder that is deleted afterwards, to test the evaluator's path for the metrics
that need weights (availability -> build with no downloads -> batched forward -> rows -> aggregate; FID from
decoded images vs pyiqa's own folder mode). The numbers they produce are meaningless and never reported:
they never leave the temporary folder, and the model cache is keyed by hub folder.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import numpy as np
import pytest

PHOTOS = ("astronaut", "chelsea", "coffee")


@pytest.fixture(scope="module")
def plumbing_hub(tmp_path_factory):
    import dataclasses

    import torch

    from lgcaa.metrics.build import clear_cache
    from lgcaa.weights import manifest

    before = torch.hub.get_dir()
    hub = tmp_path_factory.mktemp("PLUMBING_ONLY_random_weights_hub")
    (hub / "PLUMBING_ONLY_RANDOM_WEIGHTS.txt").write_text("random weights made by tests; never report numbers\n")
    torch.hub.set_dir(str(hub))
    with pytest.MonkeyPatch.context() as mp:
        for f in manifest.FILES:  # random files cannot have the published sizes or digests: they are pinned
            # by the test as a user would pin a file (lgcaa weights pin), see _make_local_weights
            mp.setitem(manifest.BY_DEST, f.dest, dataclasses.replace(f, size=None, sha256=None))
        yield hub
    torch.hub.set_dir(before)
    clear_cache()


@pytest.fixture(scope="module")
def pairs(tmp_path_factory):
    import skimage.data
    from PIL import Image

    from lgcaa.io import write_png

    root = tmp_path_factory.mktemp("plumbing_pairs")
    for name in PHOTOS:
        img = np.ascontiguousarray(getattr(skimage.data, name)()[:192, :224, :3])
        lr = Image.fromarray(img).resize((56, 48), Image.BICUBIC)
        write_png(root / "hr" / f"{name}.png", img)
        write_png(root / "sr" / f"{name}.png", np.asarray(lr.resize((224, 192), Image.BICUBIC)))
    return root / "sr", root / "hr"


@contextlib.contextmanager
def _save_instead_of_load(hub: Path):
    """While pyiqa builds a metric, every load_pretrained_network(net, url_or_path, ...) saves net's own
    (random) state dict where pyiqa would have read it."""
    from unittest import mock

    import torch
    from pyiqa.archs import dists_arch, inception, lpips_arch, maniqa_arch, musiq_arch

    def save(net, model_path, strict=True, weight_keys=None):
        dest = Path(model_path) if not str(model_path).startswith("http") else hub / "pyiqa" / os.path.basename(
            str(model_path))
        dest.parent.mkdir(parents=True, exist_ok=True)
        sd = net.state_dict()
        torch.save({weight_keys: sd} if weight_keys else sd, dest)

    with contextlib.ExitStack() as st:
        for mod in (dists_arch, inception, lpips_arch, maniqa_arch, musiq_arch):
            st.enter_context(mock.patch.object(mod, "load_pretrained_network", save))
        yield


def _make_local_weights(hub: Path, metrics: list[str], real_lpips_heads: bool = True) -> None:
    """Random weights of the right architectures for `metrics` under `hub` (PLUMBING ONLY).

    torchvision trunks (AlexNet, VGG16) are saved from randomly initialised models; pyiqa's own files are
    written by building the metric with pyiqa while its loader saves instead of loading. LPIPS' linear heads
    are the real ones from the lpips wheel unless `real_lpips_heads` is False.
    """
    import pyiqa
    import torch
    import torchvision

    from lgcaa.metrics.registry import get

    torch.manual_seed(0)
    trunks = {"lpips": ("alexnet-owt-7be5be79.pth", torchvision.models.alexnet),
              "dists": ("vgg16-397923af.pth", torchvision.models.vgg16)}
    for m in metrics:
        if m in trunks:
            name, arch = trunks[m]
            dest = hub / "checkpoints" / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            torch.save(arch(weights=None).state_dict(), dest)
        if m == "lpips" and real_lpips_heads:
            from lgcaa.weights.manager import fetch
            from lgcaa.weights.manifest import BY_DEST

            fetch(BY_DEST["pyiqa/LPIPS_v0.1_alex-df73285e.pth"], hub)
            _pin_present(hub, [m])
            continue
        spec = get(m)
        with _save_instead_of_load(hub), spec.build_context():
            pyiqa.create_metric(spec.pyiqa_name, device="cpu", **spec.build_options(spec, hub))
    _pin_present(hub, metrics)


def _pin_present(hub: Path, metrics: list[str]) -> None:
    """Trust the random files explicitly, as a user pins a file without a published digest (recorded directly:
    `pin` would also check the hash prefix in the real file names, which random files cannot match)."""
    from lgcaa.metrics.registry import get
    from lgcaa.weights import manager
    from lgcaa.weights.manifest import BY_DEST

    for m in metrics:
        for rel in get(m).weights:
            f = BY_DEST[rel]
            if (hub / rel).is_file() and manager.inspect(f, hub, deep=True).state == manager.UNRECORDED:
                digest = manager.content_digest(hub / rel)
                manager.record_digest(hub, f, digest, (hub / rel).stat().st_size, manager.USER_PIN)


def test_weight_bound_metrics_run_through_the_evaluator(plumbing_hub, pairs):
    """PLUMBING ONLY (random weights): LPIPS and MUSIQ available -> scored; batched == per image."""
    from lgcaa.metrics.availability import missing_reason
    from lgcaa.metrics.evaluate import evaluate
    from lgcaa.metrics.registry import get

    _make_local_weights(plumbing_hub, ["lpips", "musiq"])
    for m in ("lpips", "musiq"):
        assert missing_reason(get(m)) is None, m
    assert missing_reason(get("dists")) is not None  # still missing: reported, not faked
    sr, hr = pairs
    metrics = ["psnr", "lpips", "musiq", "dists"]
    batched = evaluate(sr, hr, metrics, workers=2)
    single = evaluate(sr, hr, metrics, batch_pixels=1, workers=1)
    agg = batched.aggregate["metrics"]
    assert [agg[m]["status"] for m in metrics] == ["ok", "ok", "ok", "missing"]
    assert len(batched.rows) == 3 * len(PHOTOS) and batched.timing["batches"] == 2
    a = {(n, m): v for n, m, v in batched.rows}
    b = {(n, m): v for n, m, v in single.rows}
    assert a.keys() == b.keys()
    for k in a:
        assert a[k] == pytest.approx(b[k], rel=1e-4, abs=1e-5), k
    assert batched.aggregate["lock"] == single.aggregate["lock"]


@pytest.mark.slow  # one 2048x2048 matrix square root (scipy sqrtm, complex path at rank 2), ~30-50 s on 2 cores
def test_fid_from_decoded_images_equals_pyiqa_folder_mode(plumbing_hub, pairs):
    """PLUMBING ONLY (random Inception weights): our FID (features from the decoded images, batched over two
    workers) is pyiqa's folder mode with the same weights. Both sides end in pyiqa's own `frechet_distance`, so
    what can differ is the features: ours (from decoded images) must equal those of pyiqa's folder mode (which
    re-reads the files) — compared directly, which spares a second 2048x2048 matrix square root."""
    import torch
    from pyiqa.archs.fid_arch import get_folder_features

    from lgcaa.io import read_rgb
    from lgcaa.metrics.build import get_model
    from lgcaa.metrics.evaluate import evaluate
    from lgcaa.metrics.fid import fid_features

    _make_local_weights(plumbing_hub, ["fid"])
    sr, hr = pairs
    ev = evaluate(sr, hr, ["fid"], workers=2)
    fid = ev.aggregate["metrics"]["fid"]
    assert fid["status"] == "ok" and fid["n"] == len(PHOTOS) and fid["scope"] == "folder pair (SR vs HR)"
    assert ev.rows == []  # FID is per folder pair: in the aggregate, not in the per-image CSV
    assert fid["mean"] > 0
    model = get_model("fid", "cpu")
    for folder in (sr, hr):
        ours = fid_features(model, [read_rgb(p) for p in sorted(folder.glob("*.png"))], "cpu")
        theirs = get_folder_features(str(folder), model.net.model, num_workers=0, batch_size=8,
                                     device=torch.device("cpu"), mode="clean", verbose=False)
        assert ours.shape == theirs.shape == (len(PHOTOS), 2048)
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


@pytest.mark.slow
def test_maniqa_builds_offline_and_loads_its_checkpoint_strictly(plumbing_hub):
    """PLUMBING ONLY (random weights): MANIQA's ViT is built without timm's ImageNet download, and the
    MANIQA_PIPAL checkpoint (strict load) covers every ViT parameter."""
    import torch

    from lgcaa.metrics.build import build_metric

    _make_local_weights(plumbing_hub, ["maniqa"])
    ckpt = torch.load(plumbing_hub / "pyiqa" / "MANIQA_PIPAL-ae6d356b.pth", map_location="cpu", weights_only=True)
    model = build_metric("maniqa", "cpu")
    vit_keys = {k for k in model.net.state_dict() if k.startswith("vit.")}
    assert vit_keys and vit_keys <= set(ckpt)
    for k in list(vit_keys)[:5]:
        assert torch.equal(model.net.state_dict()[k], ckpt[k])
