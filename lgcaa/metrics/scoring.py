"""The evaluator's worker: score one chunk of same-size SR/HR pairs with every runnable metric.

`ChunkJob` decodes the chunk once, moves it to the device and calls each metric on the whole batch
(`score_batch`; image by image where a metric is not batchable or the batched call fails, so an error names the
image). Folder-level (SET) metrics return their features for `lgcaa.metrics.evaluate` to combine. A failing or
non-finite value raises `MetricError` naming the image, except NaN where the registry declares why the metric
can be undefined (`undefined_reason`).
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lgcaa.errors import UserError
from lgcaa.metrics.fid import fid_features
from lgcaa.metrics.tiled import GPU_TILE_PIXELS
from lgcaa.progress import Progress


class MetricError(UserError):
    """A metric failed or returned a non-finite value on a named image."""


@dataclass
class Chunk:
    """What one chunk yields: per-image values, SET-metric features and where its seconds went."""

    values: dict[tuple[str, str], float]
    fid: dict[str, Any]  # {"sr": feats, "hr": feats} for the SET metric, if any
    decode_s: float
    to_device_s: float
    forward_s: dict[str, float]


@dataclass
class ChunkJob:
    """Decode one chunk of names and run every metric on it (callable from worker threads)."""

    sr_dir: Path
    hr_dir: Path
    device: str
    runnable: list[str]
    specs: dict[str, Any]
    models: dict[str, Any]
    locks: dict[str, Any]
    progress: Progress | None = None

    def __call__(self, batch: list[str]) -> Chunk:
        import torch

        from lgcaa.metrics.decode import decode, to_batch

        t0 = time.perf_counter()
        sr_imgs = [decode(self.sr_dir / n) for n in batch]
        hr_imgs = [decode(self.hr_dir / n) for n in batch]
        decode_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        sr_t, hr_t = to_batch(sr_imgs).to(self.device), to_batch(hr_imgs).to(self.device)
        to_device_s = time.perf_counter() - t0
        values: dict[tuple[str, str], float] = {}
        fid: dict[str, Any] = {}
        forward_s = {m: 0.0 for m in self.runnable}
        with torch.no_grad():  # grad mode is per thread
            for m in self.runnable:
                lock = self.locks[m]
                with lock if lock is not None else contextlib.nullcontext():
                    t0 = time.perf_counter()
                    if self.specs[m].mode == "SET":
                        try:
                            fid = {"sr": fid_features(self.models[m], sr_imgs, self.device),
                                   "hr": fid_features(self.models[m], hr_imgs, self.device)}
                        except Exception as exc:
                            raise MetricError(f"metric {m} failed on a batch of {len(batch)} images starting at "
                                              f"{self.sr_dir / batch[0]}: {exc.__class__.__name__}: {exc}") from exc
                    else:
                        vals = score_batch(m, self.models[m], self.specs[m], sr_t, hr_t, batch, self.sr_dir)
                        values.update({(n, m): v for n, v in zip(batch, vals)})
                    _sync(self.device)
                    forward_s[m] += time.perf_counter() - t0
                if self.progress is not None:
                    self.progress.update(len(batch))
        return Chunk(values, fid, decode_s, to_device_s, forward_s)

def score_batch(m: str, model: Any, spec: Any, sr_t: Any, hr_t: Any, names: list[str], sr_dir: Path) -> list[float]:
    """Per-image values of metric `m` for a batch (B,3,H,W); per image when the metric is not batchable.

    If a batched call fails, the images are scored one by one: the error names the culprit, or (a metric with
    an `undefined_reason`) the images it is undefined on get NaN and the others their values.
    """
    if not spec.batchable or len(names) == 1:
        return [_one(m, model, spec, sr_t[i:i + 1], hr_t[i:i + 1], names[i], sr_dir) for i in range(len(names))]
    try:
        out = _call(model, spec, sr_t, hr_t)
    except Exception:  # noqa: BLE001 -- retried image by image: names the culprit, or marks undefined images
        return [_one(m, model, spec, sr_t[i:i + 1], hr_t[i:i + 1], names[i], sr_dir) for i in range(len(names))]
    if out.numel() != len(names):
        raise MetricError(f"metric {m} returned {out.numel()} values for a batch of {len(names)} images "
                          f"({sr_dir / names[0]} ...); mark it batchable=False in lgcaa/metrics/registry.py")
    vals = [float(v) for v in out.tolist()]
    for n, v in zip(names, vals):
        _check_finite(m, spec, v, sr_dir / n)
    return vals


def _call(model: Any, spec: Any, sr_t: Any, hr_t: Any) -> Any:
    if spec.tiled is not None and (sr_t.device.type == "cpu" or sr_t.shape[2] * sr_t.shape[3] > GPU_TILE_PIXELS):
        out = spec.tiled(model, sr_t, hr_t)  # the same numbers (lgcaa.metrics.tiled); on CPU faster at every size
    else:
        out = model(sr_t, hr_t) if spec.mode == "FR" else model(sr_t)
    return out.detach().reshape(-1).double().cpu()


def _one(m: str, model: Any, spec: Any, sr: Any, hr: Any, name: str, sr_dir: Path) -> float:
    import torch

    try:
        out = _call(model, spec, sr, hr)
    except torch.linalg.LinAlgError as exc:
        if spec.undefined_reason:
            return math.nan
        raise MetricError(f"metric {m} failed on {sr_dir / name}: {exc.__class__.__name__}: {exc}") from exc
    except Exception as exc:
        raise MetricError(f"metric {m} failed on {sr_dir / name}: {exc.__class__.__name__}: {exc}") from exc
    if out.numel() != 1:
        raise MetricError(f"metric {m} returned {out.numel()} values for one image {sr_dir / name}")
    v = float(out[0])
    _check_finite(m, spec, v, sr_dir / name)
    return v


def _check_finite(m: str, spec: Any, v: float, path: Path) -> None:
    """NaN is allowed (= undefined) only for a metric with an `undefined_reason`; inf never."""
    if not math.isfinite(v) and not (math.isnan(v) and spec.undefined_reason):
        raise MetricError(f"metric {m} returned {v} on {path}")


def _sync(device: str) -> None:
    if str(device).startswith("cuda"):
        import torch

        torch.cuda.synchronize()
