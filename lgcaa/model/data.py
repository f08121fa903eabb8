"""Training pairs: random HR crops with on-the-fly degradation, a pure function of (seed, sample index).

Sample index i of a run is fully determined by (train.seed, i): which image, crop position, flip, the
degradation's own seed, and the sample's diffusion noise and timestep. Hence resuming at step s regenerates exactly the batches an uninterrupted run would
have seen, with any number of DataLoader workers. The global sample order is
    index(step, micro, rank, j) = ((step * accumulation + micro) * world + rank) * micro_batch + j.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lgcaa.errors import UserError
from lgcaa.model.config import TrainConfig


def sample_seed(seed: int, index: int, purpose: str) -> int:
    digest = hashlib.sha256(f"lgcaa-train\0{seed}\0{index}\0{purpose}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & ((1 << 63) - 1)


def load_training_images(cfg: TrainConfig) -> list[np.ndarray] | list[Path]:
    """The packaged photos as arrays (`data == "photos"`) or the sorted image paths of a folder (ImageNet)."""
    if cfg.data == "photos":
        from lgcaa.data.photos import load_photo

        return [load_photo(name) for name in cfg.photos]
    folder = Path(cfg.data)
    if not folder.is_dir():
        raise UserError(f"{folder}: training image folder not found; set train.data to a folder of HR images or 'photos'")
    suffixes = {".png", ".jpg", ".jpeg", ".JPEG", ".webp"}
    files = sorted(p for p in folder.rglob("*") if p.suffix in suffixes)
    if not files:
        raise UserError(f"{folder}: no .png/.jpg images found for training")
    return files


MAX_HASHED_TRAINING_FILES = 10_000


def training_data_input(cfg: TrainConfig) -> dict[str, Any]:
    """The training images as a job-record dataset input (lgcaa.tracking.dataset_input) with a content digest.

    Packaged photos: the sha256 of each decoded photo's pixels, listed like `sha256sum` (their files live inside
    other packages). A folder: the `sha256sum` listing of its images (relative paths), or — above 10,000 files,
    e.g. ImageNet train — of their sizes ("from": "names+sizes"), which costs seconds instead of reading
    ~140 GB at every training start."""
    from lgcaa.data.manifest import listing_digest
    from lgcaa.io import sha256_file

    items = load_training_images(cfg)
    if cfg.data == "photos":
        entries = {n: hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest() for n, a in zip(cfg.photos, items)}
        return {"name": "train/photos", "path": "photos:" + ",".join(cfg.photos), "context": "training",
                "sha256": listing_digest(entries), "files": len(entries), "from": "decoded pixels"}
    root = Path(cfg.data)
    big = len(items) > MAX_HASHED_TRAINING_FILES
    entries = {p.relative_to(root).as_posix(): (f"size:{p.stat().st_size}" if big else sha256_file(p)) for p in items}
    return {"name": f"train/{root.name}", "path": str(root), "context": "training", "sha256": listing_digest(entries),
            "files": len(entries), "from": "names+sizes" if big else "files"}


def random_crop(img: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """(H,W,3) uint8 -> (size,size,3) uint8; images smaller than `size` are first upscaled (short side = size)."""
    h, w = img.shape[:2]
    if min(h, w) < size:
        from PIL import Image

        f = size / min(h, w)
        img = np.asarray(Image.fromarray(img).resize((max(size, round(w * f)), max(size, round(h * f))), Image.BICUBIC))
        h, w = img.shape[:2]
    top = int(rng.integers(0, h - size + 1))
    left = int(rng.integers(0, w - size + 1))
    crop = img[top : top + size, left : left + size]
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    return np.ascontiguousarray(crop)


def degrade(hr: torch.Tensor, kind: str, scale: int, seed: int) -> torch.Tensor:
    """(3,H,W) in [0,1] -> (3,H/s,W/s) in [0,1]."""
    if kind == "realesrgan":
        from lgcaa.data.degrade import degrade_realesrgan

        return degrade_realesrgan(hr, seed=seed, scale=scale)
    if kind == "bicubic":
        import torch.nn.functional as F

        lr = F.interpolate(hr[None], scale_factor=1 / scale, mode="bicubic", antialias=True, align_corners=False)[0]
        return (lr.clamp(0, 1) * 255).round() / 255
    raise ValueError(f"unknown degradation {kind!r}")


# Pools of fixed pairs shared by the runs of one process (the mini profile trains several runs on the same
# pairs): key = everything a pair depends on.
_POOLS: dict[tuple, dict[int, tuple[torch.Tensor, torch.Tensor]]] = {}


class TrainPairs(torch.utils.data.Dataset):
    """index -> (hr (3,S,S), lr (3,S/s,S/s)) float32 in [0,1]. With pair_pool N > 0, index -> index % N."""

    def __init__(self, cfg: TrainConfig, images: Sequence[np.ndarray] | Sequence[Path] | None = None):
        self.cfg = cfg
        self.images = list(images) if images is not None else load_training_images(cfg)
        key = (cfg.seed, cfg.hr_size, cfg.scale, cfg.degradation, cfg.data, tuple(cfg.photos), images is None)
        self._pool = _POOLS.setdefault(key, {}) if images is None else {}

    def __len__(self) -> int:  # conceptually infinite; the sampler decides
        return 2**62

    def _image(self, k: int) -> np.ndarray:
        item = self.images[k]
        if isinstance(item, np.ndarray):
            return item
        from lgcaa.io import read_rgb

        return read_rgb(item)

    def make(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        cfg = self.cfg
        rng = np.random.default_rng(sample_seed(cfg.seed, index, "crop"))
        img = self._image(int(rng.integers(0, len(self.images))))
        crop = random_crop(img, cfg.hr_size, rng)
        hr = torch.from_numpy(crop).permute(2, 0, 1).float() / 255.0
        lr = degrade(hr, cfg.degradation, cfg.scale, sample_seed(cfg.seed, index, "degrade"))
        return hr, lr.float()

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor, int]:
        """-> (hr, lr, index); the index seeds the sample's diffusion noise (`sample_noise`)."""
        if self.cfg.pair_pool > 0:
            key = index % self.cfg.pair_pool
            if key not in self._pool:
                self._pool[key] = self.make(key)
            return (*self._pool[key], index)
        return (*self.make(index), index)


class StepSampler(torch.utils.data.Sampler):
    """Yields this rank's sample indices for steps [start_step, end_step), micro-batch by micro-batch."""

    def __init__(self, start_step: int, end_step: int, accumulation: int, world: int, rank: int, micro_batch: int):
        self.args = (start_step, end_step, accumulation, world, rank, micro_batch)

    def __iter__(self) -> Iterator[int]:
        start, end, accum, world, rank, micro = self.args
        for step in range(start, end):
            for a in range(accum):
                base = ((step * accum + a) * world + rank) * micro
                yield from range(base, base + micro)

    def __len__(self) -> int:
        start, end, accum, _world, _rank, micro = self.args
        return max(0, end - start) * accum * micro


def micro_batches(pairs: TrainPairs, start_step: int, end_step: int, accumulation: int, world: int, rank: int,
                  num_workers: int = 0) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """(hr (b,3,S,S), lr (b,3,S/s,S/s), indices (b,)) micro-batches in training order."""
    sampler = StepSampler(start_step, end_step, accumulation, world, rank, pairs.cfg.micro_batch)
    loader = torch.utils.data.DataLoader(
        pairs, batch_size=pairs.cfg.micro_batch, sampler=sampler, num_workers=num_workers,
        persistent_workers=False, drop_last=False,
    )
    yield from loader


def sample_noise(seed: int, indices: Sequence[int], latent_shape: tuple[int, int, int], num_timesteps: int
                 ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Diffusion randomness of a micro-batch, per sample index: (latent_noise, noise, timesteps), each sample
    from its own CPU generator seeded by (seed, index). Identical on any device, after resume, and for any
    split of the batch into micro-batches / processes (so accumulation and DDP see the same samples)."""
    latent_noise, noise, timesteps = [], [], []
    for index in indices:
        g = torch.Generator().manual_seed(sample_seed(seed, int(index), "noise"))
        latent_noise.append(torch.randn(latent_shape, generator=g))
        noise.append(torch.randn(latent_shape, generator=g))
        timesteps.append(torch.randint(0, num_timesteps, (1,), generator=g))
    return torch.stack(latent_noise), torch.stack(noise), torch.cat(timesteps)
