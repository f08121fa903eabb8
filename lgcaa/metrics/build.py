"""Building pyiqa metric models from the registry, once per process, from manifest files only.

While a metric is built:
- pyiqa's cache folder is pointed at `torch.hub.get_dir()/pyiqa` (pyiqa computes it once at import; this keeps
  it in step with `torch.hub.set_dir` and `TORCH_HOME`);
- any download pyiqa or torchvision would start is refused with an error naming the URL: every file a metric
  loads must come from the weights manifest (fetched and verified by `lgcaa weights`);
- MANIQA's timm ViT is created without timm's ImageNet download: the MANIQA_PIPAL checkpoint is then loaded
  with strict=True, which overwrites every ViT parameter, so the scores are unchanged.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from lgcaa.errors import UserError

_MODELS: dict[tuple[str, str, str], Any] = {}


class UnmanagedDownload(UserError):
    """pyiqa/torchvision tried to download a file that the weights manifest does not list."""


def get_model(name: str, device: str) -> Any:
    """The pyiqa model for metric `name` on `device`, built on first use and kept for the process (per hub dir,
    so a model built from another weights folder is never reused)."""
    from lgcaa.metrics.availability import hub_dir

    key = (name, str(device), str(hub_dir()))
    if key not in _MODELS:
        _MODELS[key] = build_metric(name, device)
    return _MODELS[key]


def clear_cache() -> None:
    _MODELS.clear()


def build_metric(name: str, device: str) -> Any:
    """A fresh pyiqa InferenceModel for our registry entry (its weight files must be present).

    FID ('SET' mode) is built without options: its protocol options (mode='clean') are applied by the
    evaluator's feature extraction, not by the constructor.
    """
    import pyiqa

    from lgcaa.metrics.availability import hub_dir
    from lgcaa.metrics.registry import get

    spec = get(name)
    options = dict(spec.options) if spec.mode != "SET" else {}
    if name == "niqe":
        options["pretrained_model_path"] = str(hub_dir() / spec.weights[0])
    with _pyiqa_cache_and_no_downloads(name), _maniqa_vit_without_download(name == "maniqa"):
        model = pyiqa.create_metric(spec.pyiqa_name, device=device, as_loss=False, **options)
    model.eval()
    return model


@contextlib.contextmanager
def _pyiqa_cache_and_no_downloads(metric: str) -> Iterator[None]:
    from unittest import mock

    import pyiqa.utils.download_util as du
    import torch.hub

    from lgcaa.metrics.availability import hub_dir

    def refuse(url: str, dst: str, *args: Any, **kwargs: Any) -> None:
        raise UnmanagedDownload(
            f"metric '{metric}' tried to download {url} to {dst}, which is not in the weights manifest; "
            "add it to lgcaa/weights/manifest.py (with its sha256) and run `lgcaa weights fetch`"
        )

    with mock.patch.object(du, "DEFAULT_CACHE_DIR", str(hub_dir() / "pyiqa")), \
            mock.patch.object(du, "download_url_to_file", refuse), \
            mock.patch.object(torch.hub, "download_url_to_file", refuse):
        yield


@contextlib.contextmanager
def _maniqa_vit_without_download(active: bool) -> Iterator[None]:
    if not active:
        yield
        return
    from unittest import mock

    import timm

    original = timm.create_model

    def create_model(model_name: str, *args: Any, **kwargs: Any) -> Any:
        if model_name == "vit_base_patch8_224":
            kwargs["pretrained"] = False
        return original(model_name, *args, **kwargs)

    with mock.patch.object(timm, "create_model", create_model):
        yield
