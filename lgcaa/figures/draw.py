"""Matplotlib rendering shared by the figures: image-panel grids, message-only figures, reproducible files.

Figures are built on `matplotlib.figure.Figure` (no pyplot state). `save` writes PNG and PDF without
timestamps, so a rerun on the same inputs is byte-identical. No figure is ever blank: a figure that has
nothing to draw holds the reason, in words.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from lgcaa.figures.panels import Row

MESSAGE_COLOR = "#8b0000"


def new_figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=150)


def header(fig, title: str, note: str = "", profile: str = "") -> None:
    """Title line (+ profile) and a wrapped note line under it."""
    fig.suptitle(title + (f"  [{profile} profile]" if profile else ""), fontsize=10, y=0.995, va="top")
    if note:
        fig.text(0.5, 0.995 - 0.22 / fig.get_figheight(), textwrap.fill(note, 150), ha="center", va="top",
                 fontsize=7, color="#444444")


def message_figure(title: str, messages: list[str], profile: str = ""):
    """A figure that says why there is nothing to draw (never an empty box)."""
    fig = new_figure(7.0, 2.6)
    header(fig, title, profile=profile)
    ax = fig.add_axes((0.03, 0.05, 0.94, 0.75))
    ax.set_axis_off()
    ax.text(0.5, 0.5, "\n".join(textwrap.fill(m, 100) for m in messages), ha="center", va="center", fontsize=8,
            color=MESSAGE_COLOR, bbox={"facecolor": "white", "edgecolor": MESSAGE_COLOR})
    return fig


def panel_grid(title: str, note: str, rows: list[Row], footer: list[str], profile: str = ""):
    """One row per image: overview with the crop box, then every crop with its caption (PSNR / LPIPS)."""
    ncols = 1 + max(len(r.tiles) for r in rows)
    cell_w, cell_h = 1.45, 1.75
    top = 0.55 + (0.18 if note else 0.0)
    bottom = 0.15 + 0.12 * len(footer)
    fig = new_figure(max(6.0, ncols * cell_w), len(rows) * cell_h + top + bottom)
    height = fig.get_figheight()
    header(fig, title, note, profile)
    for i, r in enumerate(rows):
        y0 = 1.0 - (top + (i + 1) * cell_h) / height
        h = (cell_h - 0.45) / height
        w = (1.0 / ncols) * 0.92
        panels = [(r.overview, f"{r.dataset_label}\n{r.image}", r.overview_label)]
        panels += [(t.image, t.label, t.caption) for t in r.tiles]
        for j, (img, label, caption) in enumerate(panels):
            ax = fig.add_axes((j / ncols + 0.04 / ncols, y0 + 0.28 / height, w, h))
            ax.imshow(img, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(label, fontsize=6.5, pad=2)
            ax.set_xlabel(caption, fontsize=6, labelpad=2)
            for side in ax.spines.values():
                side.set_linewidth(0.5)
    for k, line in enumerate(footer):
        fig.text(0.01, (bottom - 0.1 - 0.12 * k) / height, textwrap.fill(line, 220), fontsize=5.5, color="#444444",
                 va="top")
    return fig


def save(fig, png: str | Path, pdf: str | Path) -> None:
    """PNG and PDF without timestamps (reruns are byte-identical)."""
    from lgcaa.io import atomic_path

    with atomic_path(png, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", metadata={"Software": None})
    with atomic_path(pdf, suffix=".pdf") as tmp:
        fig.savefig(tmp, format="pdf", metadata={"CreationDate": None, "ModDate": None, "Producer": None,
                                                 "Creator": None})
