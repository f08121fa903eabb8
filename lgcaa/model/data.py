"""Training pairs: random HR crops with on-the-fly degradation, a pure function of (seed, sample index).

HR targets follow LDM's ImageNetSR (`train.crop: ldm`): a square crop whose side is c × the image's short side,
c ~ U(0.5, 1), area-interpolated to `train.hr_size`; a target is never upsampled (see `crop_side`).

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

from lgcaa.data.lowres import make_lr
from lgcaa.data.photos import load_photo
from lgcaa.errors import UserError
from lgcaa.io import read_rgb
from lgcaa.model.config import TrainConfig


def sample_seed(seed: int, index: int, purpose: str) -> int:
    digest = hashlib.sha256(f"lgcaa-train\0{seed}\0{index}\0{purpose}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & ((1 << 63) - 1)


def load_training_images(cfg: TrainConfig) -> list[np.ndarray] | list[Path]:
    """The packaged photos as arrays (`data == "photos"`) or the sorted image paths of a folder (ImageNet)."""
    if cfg.data == "photos":

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


def crop_side(short: int, size: int, mode: str, min_crop_f: float, max_crop_f: float, rng: np.random.Generator
              ) -> int | None:
    """Side of the square crop taken from an image whose short side is `short`, or None when the image is too
    small to give a `size` target without upsampling.

    "ldm" (LDM's ImageNetSR): side = int(c * short), c ~ U(min_crop_f, max_crop_f); the crop is then
        area-resized to `size`. c's lower bound is raised to size / short so that the crop is never smaller
        than `size` (LDM itself would upsample such a crop; we never upsample a training target).
    "random": side = size (a crop at the image's own resolution).
    """
    if short < size:
        return None
    if mode == "random":
        return size
    low = max(min_crop_f, size / short)
    high = max(max_crop_f, low)
    return max(size, min(short, int(short * rng.uniform(low, high))))


def crop_and_resize(img: np.ndarray, size: int, side: int, rng: np.random.Generator, hflip: bool) -> np.ndarray:
    """(H,W,3) uint8 -> (size,size,3) uint8: a random `side`² crop, area-interpolated to `size`² (OpenCV
    INTER_AREA, as LDM's ImageNetSR), optionally flipped left-right with probability 1/2."""
    h, w = img.shape[:2]
    top = int(rng.integers(0, h - side + 1))
    left = int(rng.integers(0, w - side + 1))
    crop = img[top : top + side, left : left + side]
    if side != size:
        import cv2

        crop = cv2.resize(np.ascontiguousarray(crop), (size, size), interpolation=cv2.INTER_AREA)
    if hflip and rng.random() < 0.5:
        crop = crop[:, ::-1]
    return np.ascontiguousarray(crop)


# An image too small for the crop is replaced by another draw of the same sample's generator; after this many
# draws the folder is declared unusable (almost every image smaller than the training size).
MAX_DRAWS = 100


# Pools of fixed pairs shared by the runs of one process (the mini profile trains several runs on the same
# pairs): key = everything a pair depends on.
_POOLS: dict[tuple, dict[int, tuple[torch.Tensor, torch.Tensor]]] = {}


class TrainPairs(torch.utils.data.Dataset):
    """index -> (hr (3,S,S), lr (3,S/s,S/s)) float32 in [0,1]. With pair_pool N > 0, index -> index % N."""

    def __init__(self, cfg: TrainConfig, images: Sequence[np.ndarray] | Sequence[Path] | None = None):
        self.cfg = cfg
        self.images = list(images) if images is not None else load_training_images(cfg)
        key = (cfg.seed, cfg.hr_size, cfg.scale, cfg.degradation, cfg.data, tuple(cfg.photos), cfg.crop,
               cfg.min_crop_f, cfg.max_crop_f, cfg.hflip, images is None)
        self._pool = _POOLS.setdefault(key, {}) if images is None else {}

    def __len__(self) -> int:  # conceptually infinite; the sampler decides
        return 2**62

    def _image(self, k: int) -> np.ndarray:
        item = self.images[k]
        if isinstance(item, np.ndarray):
            return item

        return read_rgb(item)

    def crop(self, index: int) -> np.ndarray:
        """The HR target of sample `index`: (S,S,3) uint8 (`train.crop`, never upsampled)."""
        cfg = self.cfg
        rng = np.random.default_rng(sample_seed(cfg.seed, index, "crop"))
        for _ in range(MAX_DRAWS):
            img = self._image(int(rng.integers(0, len(self.images))))
            side = crop_side(min(img.shape[:2]), cfg.hr_size, cfg.crop, cfg.min_crop_f, cfg.max_crop_f, rng)
            if side is not None:
                return crop_and_resize(img, cfg.hr_size, side, rng, cfg.hflip)
        raise UserError(
            f"{cfg.data}: {MAX_DRAWS} images in a row are smaller than train.hr_size={cfg.hr_size} (training targets "
            "are never upsampled); use a folder of larger images or a smaller train.hr_size"
        )

    def make(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        cfg = self.cfg
        hr = torch.from_numpy(self.crop(index)).permute(2, 0, 1).float() / 255.0
        lr, _ = make_lr(hr[None], cfg.degradation, cfg.scale, [sample_seed(cfg.seed, index, "degrade")])
        return hr, lr[0].float()  # the same LR kinds, kernels and 8-bit levels as the test sets (lgcaa.data.lowres)

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
