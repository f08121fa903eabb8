"""Figs. 10-11 from trained LGCAA runs: re-sample a few images with the run's own settings and seeds while
capturing what the figures show (imports torch; the figure CLI loads this module only for those figures).

  attention (Fig. 10)  the processor's documented capture hook (`lgcaa.model.attention.set_capture`) on the
                       UNet's first LGCAA layer (highest resolution), kept at the last DDPM step: each stage's
                       output tokens and the attention weights of one query token (the grid token with the
                       most LR structure); sampled as one tile covering the whole image, so the layer sees
                       all of it (equal to the run's output whenever the run's tile already covers the image)
  latents (Fig. 11)    x̂₀ = the latent handed to the VAE decoder after the last step (the sampler's
                       `net.decode` call, wrapped for the duration), z₀ = the VAE posterior mean of the HR
                       image (`net.encode` with zero noise), both scaled as in training
The sampled output equals the run's own SR output for that image (same seed per image, same steps).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch

from lgcaa.figures.attention_maps import AttentionCapture, StageCapture
from lgcaa.figures.crops import resize, structure
from lgcaa.figures.latents import LatentPair
from lgcaa.figures.spec import CaptureRun


def _load(run: CaptureRun):
    from lgcaa.model.sampler import load_trained

    net, cfg = load_trained(Path(run.run_dir))
    return net, cfg


def _tensor(img: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(img).permute(2, 0, 1)[None].float() / 255.0


@contextlib.contextmanager
def decoded_latents(net) -> Iterator[list[torch.Tensor]]:
    """Collect every latent passed to `net.decode` inside the block (float32, CPU)."""
    seen: list[torch.Tensor] = []
    original = net.decode

    def decode(latents: torch.Tensor) -> torch.Tensor:
        seen.append(latents.detach().float().cpu())
        return original(latents)

    net.decode = decode
    try:
        yield seen
    finally:
        del net.decode  # the instance attribute shadowed the method


def _sample(net, cfg, lrs: list[np.ndarray], names: list[str], steps: int, whole: bool = False) -> torch.Tensor:
    """The run's own sampling of same-size images as one batch (their seeds, steps, tiling, colour fix, start point);
    `whole`: one tile covering the whole image, so that a captured layer sees all of it (Fig. 10)."""
    from lgcaa.model.sampler import image_seed, super_resolve

    s = cfg.sample
    tile = s.tile or cfg.train.hr_size
    if whole:
        multiple = net.cfg.preset.pixel_multiple
        side = max(lrs[0].shape[:2]) * cfg.train.scale
        tile = max(tile, -(-side // multiple) * multiple)
    batch = torch.cat([_tensor(lr) for lr in lrs])
    return super_resolve(net, batch, cfg.train.scale, [image_seed(s.seed, n) for n in names], steps, tile,
                         s.tile_overlap, s.color_fix, s.start_point, s.start_step)


def capture_latents(run: CaptureRun, lr_dir: str, hr_dir: str, names: list[str]) -> LatentPair:
    """Predicted and initial latents of `names`, pooled per channel: (C, n) each; the images in pooling order."""
    from lgcaa.io import read_rgb

    net, cfg = _load(run)
    groups: dict[tuple[int, ...], list[str]] = {}
    lrs = {n: read_rgb(Path(lr_dir) / n) for n in names}
    for n in names:  # one batch per image size, like the sample job
        groups.setdefault(lrs[n].shape, []).append(n)
    pred, init = [], []
    with torch.no_grad():
        for group in groups.values():
            with decoded_latents(net) as seen:
                _sample(net, cfg, [lrs[n] for n in group], group, run.steps)
            hr = torch.cat([_tensor(read_rgb(Path(hr_dir) / n)) for n in group])
            z0 = net.encode(hr, torch.zeros(seen[-1].shape)).float().cpu()
            pred += [x.flatten(1) for x in seen[-1]]  # (C, h*w) per image
            init += [x.flatten(1) for x in z0]
    return LatentPair(run.label, run.run, torch.cat(pred, 1).numpy(), torch.cat(init, 1).numpy(),
                      tuple(n for group in groups.values() for n in group))


def _query_token(lr: np.ndarray, grid: tuple[int, int]) -> int:
    """Row-major index of the grid cell with the most LR structure (ties: first), away from the border (an
    eighth of the grid) so that its window and its global context are both in view."""
    st = structure(resize(lr, (grid[0] * 8, grid[1] * 8)))
    cells = st.reshape(grid[0], 8, grid[1], 8).mean(axis=(1, 3))
    my, mx = (max(0, min(g // 8, (g - 1) // 2)) for g in grid)
    inner = np.full_like(cells, -np.inf)
    inner[my : grid[0] - my, mx : grid[1] - mx] = cells[my : grid[0] - my, mx : grid[1] - mx]
    return int(np.argmax(inner))


def capture_attention(run: CaptureRun, lr_dir: str, name: str) -> AttentionCapture:
    """Stage outputs and query attention of the UNet's first LGCAA layer at the last DDPM step for `name`."""
    from lgcaa.errors import UserError
    from lgcaa.io import read_rgb
    from lgcaa.model.attention import attention_map, set_capture
    from lgcaa.model.backbone import scheduler_from_config
    from lgcaa.model.sampler import to_uint8

    net, cfg = _load(run)
    lr = read_rgb(Path(lr_dir) / name)
    records: dict[str, dict] = {}
    chosen: list[str] = []
    calls = {"n": 0}

    def keep(layer: str, stage: str, record: dict) -> None:
        if not chosen:
            chosen.append(layer)
        if layer != chosen[0]:
            return
        if stage == "output":
            calls["n"] += 1
        records[stage] = record  # overwritten every step: the last step's record remains

    if set_capture(net.unet, keep) == 0:
        raise UserError(f"{run.run_dir}: run '{run.run}' has no LGCAA layer to capture (attention 'standard'); "
                        "Fig. 10 needs the full LGCAA run (tables.table2 row LGCAA/lgcaa)")
    try:
        with torch.no_grad():
            sr = _sample(net, cfg, [lr], [name], run.steps, whole=True)
    finally:
        set_capture(net.unet, None)
    sched = scheduler_from_config(net.scheduler_config)
    sched.set_timesteps(run.steps)
    first = next(iter(records.values()))
    grid = tuple(int(g) for g in first["grid"])
    query = _query_token(lr, grid)
    stages = []
    for stage in ("local", "global", "output"):
        if stage not in records:
            continue
        rec = records[stage]
        att = attention_map(rec, query)[0].mean(0).float().cpu().numpy() if "q" in rec else None
        stages.append(StageCapture(stage, rec["output"][0].float().cpu().numpy(), grid, att))
    sr_img = to_uint8(sr[0])
    return AttentionCapture(chosen[0], calls["n"] - 1, int(sched.timesteps[-1]), query, name,
                            resize(lr, sr_img.shape[:2]), sr_img, stages)
