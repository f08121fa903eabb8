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


NOTE_PT, FOOTER_PT = 7.0, 5.5


def wrap_width(width_in: float, points: float) -> int:
    """Characters of `points`-size text that fit in `width_in` inches (a character is ~0.55 em wide)."""
    return max(20, int(width_in * 72 / (points * 0.55)) - 4)


def note_lines(note: str, width_in: float) -> list[str]:
    """The header note as `header` wraps it for a figure `width_in` inches wide."""
    return textwrap.wrap(note, wrap_width(width_in, NOTE_PT)) if note else []


def header(fig, title: str, note: str = "", profile: str = "") -> None:
    """Title line (+ profile) and the note under it, wrapped to the figure's width (`note_lines`)."""
    fig.suptitle(title + (f"  [{profile} profile]" if profile else ""), fontsize=10, y=0.995, va="top")
    if note:
        fig.text(0.5, 0.995 - 0.22 / fig.get_figheight(), "\n".join(note_lines(note, fig.get_figwidth())),
                 ha="center", va="top", fontsize=NOTE_PT, color="#444444")


def message_figure(title: str, messages: list[str], profile: str = ""):
    """A figure that says why there is nothing to draw (never an empty box)."""
    fig = new_figure(7.0, 2.6)
    header(fig, title, profile=profile)
    ax = fig.add_axes((0.03, 0.05, 0.94, 0.75))
    ax.set_axis_off()
    ax.text(0.5, 0.5, "\n".join(textwrap.fill(m, 100) for m in messages), ha="center", va="center", fontsize=8,
            color=MESSAGE_COLOR, bbox={"facecolor": "white", "edgecolor": MESSAGE_COLOR})
    return fig


TITLE_PT, CAPTION_PT = 6.5, 6.0


def _wrap_cell(text: str, width_in: float, points: float) -> str:
    """`text` wrapped (each of its own lines) to a panel `width_in` inches wide."""
    return "\n".join(w for line in text.split("\n") for w in (textwrap.wrap(line, wrap_width(width_in, points)) or [""]))


def panel_grid(title: str, note: str, rows: list[Row], footer: list[str], profile: str = ""):
    """One row per image: overview with the crop box, then every crop with its caption (PSNR / LPIPS). Column
    headers and captions are wrapped to the column's width and the rows spaced by their longest ones, so no two
    headers of a row meet and no caption runs into the next row's headers."""
    ncols = 1 + max(len(r.tiles) for r in rows)
    cell_w, image_h = 1.45, 1.3
    width = max(6.0, ncols * cell_w)
    col_w = width / ncols * 0.92
    grid = [[(r.overview, _wrap_cell(f"{r.dataset_label}\n{r.image}", col_w, TITLE_PT),
              _wrap_cell(r.overview_label, col_w, CAPTION_PT))]
            + [(t.image, _wrap_cell(t.label, col_w, TITLE_PT), _wrap_cell(t.caption, col_w, CAPTION_PT))
               for t in r.tiles] for r in rows]
    title_lines, caption_lines = (max(cell[k].count("\n") + 1 for row in grid for cell in row) for k in (1, 2))
    title_in = title_lines * TITLE_PT * 1.25 / 72 + 0.06
    caption_in = caption_lines * CAPTION_PT * 1.25 / 72 + 0.07
    cell_h = image_h + title_in + caption_in
    footer = [wrapped for line in footer for wrapped in textwrap.wrap(line, wrap_width(width - 0.2, FOOTER_PT))]
    top = 0.35 + 0.14 * len(note_lines(note, width))
    bottom = 0.15 + 0.11 * len(footer)
    fig = new_figure(width, len(rows) * cell_h + top + bottom)
    height = fig.get_figheight()
    header(fig, title, note, profile)
    for i, row in enumerate(grid):
        y0 = 1.0 - (top + (i + 1) * cell_h) / height
        for j, (img, label, caption) in enumerate(row):
            ax = fig.add_axes((j / ncols + 0.04 / ncols, y0 + caption_in / height, col_w / width, image_h / height))
            ax.imshow(img, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(label, fontsize=TITLE_PT, pad=2)
            ax.set_xlabel(caption, fontsize=CAPTION_PT, labelpad=2)
            for side in ax.spines.values():
                side.set_linewidth(0.5)
    for k, line in enumerate(footer):
        fig.text(0.01, (bottom - 0.1 - 0.11 * k) / height, line, fontsize=FOOTER_PT, color="#444444", va="top")
    return fig


def save(fig, png: str | Path, pdf: str | Path) -> None:
    """PNG and PDF without timestamps (reruns are byte-identical)."""
    from lgcaa.io import atomic_path

    with atomic_path(png, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", metadata={"Software": None})
    with atomic_path(pdf, suffix=".pdf") as tmp:
        fig.savefig(tmp, format="pdf", metadata={"CreationDate": None, "ModDate": None, "Producer": None,
                                                 "Creator": None})


def layout_problems(fig, tolerance_px: float = 1.0) -> list[str]:
    """What a reader could not read, one line each: a text artist (title, label, tick label, legend entry,
    footer) reaching past the canvas, two texts overlapping each other, or a legend covering plotted points.
    Draws `fig` once on an Agg canvas and compares the tight bounding boxes (display pixels)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import Collection
    from matplotlib.lines import Line2D
    from matplotlib.text import Text

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    width, height = fig.bbox.width, fig.bbox.height
    drawn_ticks, all_ticks = set(), set()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            for tick in [*axis.majorTicks, *axis.minorTicks]:
                all_ticks |= {id(tick.label1), id(tick.label2)}
            if ax.axison and axis.get_visible():
                for tick in axis._update_ticks():  # the ticks this draw placed (matplotlib keeps spares)
                    drawn_ticks |= {id(t) for t in (tick.label1, tick.label2) if t.get_visible()}
    texts = []
    for t in fig.findobj(Text):
        if not t.get_visible() or not t.get_text().strip() or (id(t) in all_ticks and id(t) not in drawn_ticks):
            continue
        if t.axes is not None and not t.axes.get_visible():
            continue
        texts.append((t, t.get_window_extent(renderer)))
    problems = []
    for t, b in texts:
        if b.x0 < -tolerance_px or b.y0 < -tolerance_px or b.x1 > width + tolerance_px or b.y1 > height + tolerance_px:
            problems.append(f"clipped: {t.get_text()[:60]!r} at ({b.x0:.0f},{b.y0:.0f})-({b.x1:.0f},{b.y1:.0f}) "
                            f"on a {width:.0f}x{height:.0f} canvas")
    for i, (t, b) in enumerate(texts):
        for u, c in texts[i + 1:]:
            dx = min(b.x1, c.x1) - max(b.x0, c.x0)
            dy = min(b.y1, c.y1) - max(b.y0, c.y0)
            if dx > tolerance_px and dy > tolerance_px:
                problems.append(f"overlap: {t.get_text()[:40]!r} and {u.get_text()[:40]!r} ({dx:.0f}x{dy:.0f} px)")
    for ax in fig.axes:
        legend = ax.get_legend()
        if legend is None or not legend.get_visible():
            continue
        box = legend.get_window_extent(renderer)
        for artist in ax.get_children():
            if isinstance(artist, Line2D) and artist.get_visible():
                points = artist.get_transform().transform(artist.get_xydata())
            elif isinstance(artist, Collection) and artist.get_visible() and len(artist.get_offsets()):
                points = artist.get_offset_transform().transform(artist.get_offsets())
            else:
                continue
            inside = [(x, y) for x, y in points if box.x0 < x < box.x1 and box.y0 < y < box.y1]
            if inside:
                problems.append(f"legend of {ax.get_title()[:40]!r} covers {len(inside)} plotted point(s)")
                break
    return problems
