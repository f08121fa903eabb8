"""Building pyiqa metric models from the registry, once per process, from manifest files only.

While a metric is built:
- pyiqa's cache folder is pointed at `torch.hub.get_dir()/pyiqa` (pyiqa computes it once at import; this keeps
  it in step with `torch.hub.set_dir` and `TORCH_HOME`);
- any download pyiqa or torchvision would start is refused with an error naming the URL: every file a metric
  loads must come from the weights manifest (fetched and verified by `lgcaa weights`);
- per-metric needs (NIQE's parameter path, MANIQA's ViT built without timm's ImageNet download, FID's options
  applied at feature extraction) are hooks of the metric's registry entry (`build_options`, `build_context`);
- every weight file was verified first (`lgcaa.metrics.availability`: sha256 against the manifest's pin or a
  recorded/user-pinned digest), and `torch.load` runs with `weights_only=True` (pyiqa passes False): a
  checkpoint can then hold tensors and plain containers only, never code. Only a file whose format needs more
  AND whose sha256 is pinned in the manifest (and matched) is loaded with the full unpickler.
"""

from __future__ import annotations

import contextlib
import os
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lgcaa.errors import UserError
from lgcaa.metrics.availability import hub_dir, missing_reason, verified_paths
from lgcaa.metrics.registry import get

_MODELS: dict[tuple[str, str, str], Any] = {}


class UnmanagedDownload(UserError):
    """pyiqa/torchvision tried to download a file that the weights manifest does not list."""


def get_model(name: str, device: str) -> Any:
    """The pyiqa model for metric `name` on `device`, built on first use and kept for the process (per hub dir,
    so a model built from another weights folder is never reused)."""
    key = (name, str(device), str(hub_dir()))
    if key not in _MODELS:
        _MODELS[key] = build_metric(name, device)
    return _MODELS[key]


def clear_cache() -> None:
    _MODELS.clear()


def build_metric(name: str, device: str, options: dict[str, Any] | None = None) -> Any:
    """A fresh pyiqa InferenceModel for our registry entry; UserError unless every weight file it loads is
    present and verified. `options` replace the entry's pyiqa options (the calibration gate builds pyiqa's
    defaults); the build hooks' own additions (NIQE's parameter path) are kept."""
    why = missing_reason(get(name))
    if why is not None:
        raise UserError(f"metric {name} cannot be built: {why['reason']}; fix: {why['fix']}")
    return _create(name, device, options)


def _create(name: str, device: str, replace_options: dict[str, Any] | None = None) -> Any:
    """pyiqa.create_metric with the entry's hooks (`build_options` inside `build_context`) and our guards
    (downloads refused, weights-only loads); no verification here."""
    import pyiqa

    spec = get(name)
    options = spec.build_options(spec, hub_dir())
    if replace_options is not None:
        options = {**{k: v for k, v in options.items() if k not in spec.options}, **replace_options}
    with _pyiqa_cache_and_no_downloads(name), spec.build_context(), weights_only_loads(verified_paths(spec)):
        model = pyiqa.create_metric(spec.pyiqa_name, device=device, as_loss=False, **options)
    model.eval()
    return model


@contextlib.contextmanager
def weights_only_loads(full_unpickle_ok: set[Path]) -> Iterator[None]:
    """`torch.load` with `weights_only=True` whatever the caller asks; a file the restricted unpickler refuses
    is loaded in full only when its resolved path is in `full_unpickle_ok` (manifest-pinned, sha256 matched)."""
    from unittest import mock

    import torch

    original = torch.load

    def load(f: Any, *args: Any, **kwargs: Any) -> Any:
        kwargs["weights_only"] = True
        try:
            return original(f, *args, **kwargs)
        except pickle.UnpicklingError:
            path = Path(f).resolve() if isinstance(f, (str, os.PathLike)) else None
            if path is None or path not in full_unpickle_ok:
                raise UserError(f"{f}: refused by torch.load(weights_only=True) (it holds more than tensors) and its "
                                "sha256 is not pinned in lgcaa/weights/manifest.py; it is not loaded") from None
            kwargs["weights_only"] = False
            return original(f, *args, **kwargs)

    with mock.patch.object(torch, "load", load):
        yield


@contextlib.contextmanager
def _pyiqa_cache_and_no_downloads(metric: str) -> Iterator[None]:
    from unittest import mock

    import pyiqa.utils.download_util as du
    import torch.hub

    def refuse(url: str, dst: str, *args: Any, **kwargs: Any) -> None:
        raise UnmanagedDownload(
            f"metric '{metric}' tried to download {url} to {dst}, which is not in the weights manifest; "
            "add it to lgcaa/weights/manifest.py (with its sha256) and run `lgcaa weights fetch`"
        )

    with mock.patch.object(du, "DEFAULT_CACHE_DIR", str(hub_dir() / "pyiqa")), \
            mock.patch.object(du, "download_url_to_file", refuse), \
            mock.patch.object(torch.hub, "download_url_to_file", refuse):
        yield
