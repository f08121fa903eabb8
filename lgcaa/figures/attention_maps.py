"""Fig. 10: what the local and the global stage of one LGCAA layer produce, and where one query attends.

Input: the capture of one self-attention layer at one DDPM step (`lgcaa.figures.capture`): per stage
("local", "global", "output") the (N, C) row-major output tokens on an (h, w) grid, and for the local and
global stages the (N,) attention weights of one query token (mean over heads). Tokens are shown as an RGB
image of their first three principal components (shared basis per stage, each component scaled to its
1st-99th percentile), attention as a heat map with the query marked.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

import numpy as np

from lgcaa.figures.draw import header, new_figure

STAGE_LABELS = {"local": "local stage Z (windowed)", "global": "global stage G (clamped)", "output": "layer output Y"}


def pca_rgb(tokens: np.ndarray, grid: tuple[int, int]) -> np.ndarray:
    """(N, C) tokens on an (h, w) grid -> (h, w, 3) float in [0, 1]: the top three principal components."""
    x = tokens.astype(np.float64) - tokens.mean(axis=0, keepdims=True)
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    comps = x @ vt[: min(3, vt.shape[0])].T  # (N, <=3)
    if comps.shape[1] < 3:
        comps = np.concatenate([comps, np.zeros((comps.shape[0], 3 - comps.shape[1]))], axis=1)
    lo, hi = np.percentile(comps, 1, axis=0), np.percentile(comps, 99, axis=0)
    out = np.clip((comps - lo) / np.where(hi > lo, hi - lo, 1.0), 0, 1)
    return out.reshape(grid[0], grid[1], 3)


def entropy(weights: np.ndarray) -> float:
    """Shannon entropy (nats) of a weight vector (zeros ignored)."""
    w = weights[weights > 0].astype(np.float64)
    w = w / w.sum()
    return float(-(w * np.log(w)).sum())


@dataclass
class StageCapture:
    stage: str
    tokens: np.ndarray  # (N, C)
    grid: tuple[int, int]
    attention: np.ndarray | None = None  # (N,) weights of the query token, mean over heads


@dataclass
class AttentionCapture:
    layer: str
    step: int  # DDPM step index (0 = first)
    timestep: int
    query: int  # row-major token index
    image: str
    lr_up: np.ndarray  # (H, W, 3) uint8 bicubic-upsampled LR
    sr: np.ndarray  # (H, W, 3) uint8 sampled output
    stages: list[StageCapture] = field(default_factory=list)


def to_csv(c: AttentionCapture) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["image", "layer", "step", "timestep", "stage", "grid_h", "grid_w", "channels", "token_norm_mean",
                "token_std", "query", "attended_tokens", "attention_entropy", "attention_max"])
    for s in c.stages:
        att = s.attention
        w.writerow([c.image, c.layer, c.step, c.timestep, s.stage, s.grid[0], s.grid[1], s.tokens.shape[1],
                    f"{np.linalg.norm(s.tokens, axis=1).mean():.6f}", f"{s.tokens.std():.6f}", c.query,
                    "" if att is None else int((att > 0).sum()), "" if att is None else f"{entropy(att):.6f}",
                    "" if att is None else f"{att.max():.6f}"])
    return buf.getvalue()


def make_figure(title: str, note: str, c: AttentionCapture, footer: str = "", profile: str = "",
                outputs: list[tuple[str, np.ndarray]] | None = None):
    """First row (with `outputs`): the SR outputs of the runs compared (Table II's Local, Global, LGCAA) on the
    same image; then LR (bicubic), output, each stage's tokens; last row: attention of the query token."""
    outputs = outputs or []
    n = max(2 + len(c.stages), len(outputs))
    fig = new_figure(1.9 * n, 4.6 + (2.1 if outputs else 0))
    header(fig, title, note, profile)
    grid = fig.subplots(3 if outputs else 2, n, squeeze=False)
    if outputs:
        for ax in grid[0]:
            ax.set_axis_off()
        for ax, (label, img) in zip(grid[0], outputs):
            ax.set_axis_on()
            ax.imshow(img, interpolation="nearest")
            ax.set_title(f"SR: {label}", fontsize=7)
            ax.set_xticks([])
            ax.set_yticks([])
    axes = grid[1:] if outputs else grid
    qy, qx = divmod(c.query, c.stages[0].grid[1]) if c.stages else (0, 0)
    top = [(c.lr_up, "LR (bicubic ×4)"), (c.sr, "sampled output")]
    top += [(pca_rgb(s.tokens, s.grid), STAGE_LABELS.get(s.stage, s.stage)) for s in c.stages]
    for ax, (img, label) in zip(axes[0], top):
        ax.imshow(img, interpolation="nearest")
        ax.set_title(label, fontsize=7)
    for ax in axes[1]:
        ax.set_axis_off()
    for j, s in enumerate(c.stages):
        if s.attention is None:
            continue
        ax = axes[1][2 + j]
        ax.set_axis_on()
        att = s.attention.reshape(s.grid)
        ax.imshow(att, cmap="magma", interpolation="nearest")
        ax.plot([qx], [qy], marker="+", color="cyan", markersize=8, mew=1.5)
        ax.set_title(f"{s.stage}: attention of the + token\n{int((s.attention > 0).sum())} tokens, "
                     f"entropy {entropy(s.attention):.2f}", fontsize=6.5)
    axes[1][0].set_axis_on()
    axes[1][0].imshow(c.lr_up, interpolation="nearest")
    h, w = c.lr_up.shape[:2]
    gh, gw = c.stages[0].grid if c.stages else (1, 1)
    axes[1][0].plot([(qx + 0.5) * w / gw], [(qy + 0.5) * h / gh], marker="+", color="cyan", markersize=10, mew=2)
    axes[1][0].set_title("query position", fontsize=7)
    for row in axes:
        for ax in row:
            ax.set_xticks([])
            ax.set_yticks([])
    fig.text(0.01, 0.01, footer or f"layer {c.layer}, DDPM step {c.step + 1} (t = {c.timestep}), image {c.image}",
             fontsize=6, color="#444444")
    fig.subplots_adjust(left=0.01, right=0.99, top=1 - 0.75 / fig.get_figheight(), bottom=0.08, wspace=0.08,
                        hspace=0.35)
    return fig
