"""Perception-distortion curves (the paper's Fig. 8): PSNR (x) vs LPIPS (y) over sampling steps.

One series per method (LGCAA and every diffusion method whose step sweep ran). Each point is one step count,
evaluated with k seeds (error bars = the seed 95% t-interval when k > 1). LPIPS is never replaced by another
metric: if a point lacks LPIPS (or PSNR), it is not drawn, and the figure says which points are missing and why.
If nothing can be drawn, the figure holds only that message.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from lgcaa.metrics.lock import require_same_lock
from lgcaa.tables.cells import Cell, entry_cells, read_aggregate
from lgcaa.tables.spec import CurveSpec, TableSpec


@dataclass(frozen=True)
class Point:
    steps: int
    psnr: Cell
    lpips: Cell

    @property
    def drawable(self) -> bool:
        return self.psnr.ok and self.lpips.ok


@dataclass(frozen=True)
class Curves:
    spec: CurveSpec
    series: tuple[tuple[str, tuple[Point, ...]], ...]
    lock: str

    def missing_notes(self) -> list[str]:
        notes: dict[str, list[str]] = {}
        for label, pts in self.series:
            for p in pts:
                for c in (p.psnr, p.lpips):
                    if not c.ok:
                        notes.setdefault(f"{c.metric.upper()} unavailable: {c.reason} (fix: {c.fix})", []).append(
                            f"{label} @ {p.steps}"
                        )
        return [f"{why} — not plotted: {', '.join(where)}" for why, where in notes.items()]

    @property
    def drawable(self) -> bool:
        return any(p.drawable for _, pts in self.series for p in pts)


def load_curves(spec: CurveSpec) -> Curves:
    aggs = {p: read_aggregate(p) for p in spec.aggregates}
    lock = require_same_lock((p, a["lock"]) for p, a in aggs.items()) if aggs else ""
    table = TableSpec("curves", "curves", "rows", ("psnr", "lpips"), (), profile=spec.profile)
    series = []
    for label, pts in spec.series:
        points = []
        for steps, e in pts:
            cells = entry_cells(table, e, [aggs[a] for a in e.aggregates], ("psnr", "lpips"))
            points.append(Point(steps, cells["psnr"], cells["lpips"]))
        series.append((label, tuple(points)))
    return Curves(spec, tuple(series), lock)


def to_csv(curves: Curves) -> str:
    """Long CSV: series, steps, method, psnr, lpips (+ seed half-widths, status); `dvc plots` reads it."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["series", "steps", "dataset", "method", "psnr", "lpips", "psnr_half", "lpips_half", "status"])
    for label, pts in curves.series:
        for p in pts:
            status = "ok" if p.drawable else "; ".join(f"{c.metric} missing" for c in (p.psnr, p.lpips) if not c.ok)
            w.writerow(
                [
                    label,
                    p.steps,
                    p.psnr.dataset,
                    p.psnr.method,
                    "" if p.psnr.mean is None else repr(p.psnr.mean),
                    "" if p.lpips.mean is None else repr(p.lpips.mean),
                    "" if p.psnr.half is None else repr(p.psnr.half),
                    "" if p.lpips.half is None else repr(p.lpips.half),
                    status,
                ]
            )
    return buf.getvalue()


def make_figure(curves: Curves):  # -> matplotlib.figure.Figure
    """The figure: one line per series with drawable points; messages for whatever could not be drawn."""
    from matplotlib.figure import Figure

    spec = curves.spec
    fig = Figure(figsize=(6.0, 4.6), dpi=150)
    ax = fig.subplots()
    title = f"Perception–distortion ({spec.dataset_label or 'no dataset'}, {spec.profile} profile)"
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("PSNR (dB) →  less distortion")
    ax.set_ylabel("LPIPS ↓  better perception")
    messages = ([spec.note] if spec.note else []) + curves.missing_notes()
    if any(not p.lpips.ok for _, pts in curves.series for p in pts):
        messages.append("No substitute metric is plotted in place of LPIPS.")
    if curves.drawable:
        for label, pts in curves.series:
            ok = [p for p in pts if p.drawable]
            if not ok:
                continue
            xs = [p.psnr.mean for p in ok]
            ys = [p.lpips.mean for p in ok]
            xerr = [p.psnr.half or 0.0 for p in ok]
            yerr = [p.lpips.half or 0.0 for p in ok]
            has_err = any(xerr) or any(yerr)
            line = ax.errorbar(
                xs,
                ys,
                xerr=xerr if has_err else None,
                yerr=yerr if has_err else None,
                marker="o",
                capsize=3,
                label=label,
            )
            for p in ok:
                ax.annotate(
                    f"{p.steps}",
                    (p.psnr.mean, p.lpips.mean),
                    textcoords="offset points",
                    xytext=(5, 4),
                    fontsize=8,
                    color=line.lines[0].get_color(),
                )
        ax.legend(fontsize=8, title="steps annotated", title_fontsize=7)
        ax.grid(alpha=0.3)
    else:
        ax.set_xticks([])
        ax.set_yticks([])
        if not messages:
            messages = ["nothing to plot"]
    if messages:
        import textwrap

        text = "\n".join(textwrap.fill(m, 70) for m in messages)
        where = (0.5, 0.5) if not curves.drawable else (0.02, 0.02)
        ax.text(
            *where,
            text,
            transform=ax.transAxes,
            ha="center" if not curves.drawable else "left",
            va="center" if not curves.drawable else "bottom",
            fontsize=7 if curves.drawable else 8,
            color="#8b0000",
            wrap=True,
            bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "#8b0000"},
        )
    if curves.lock:
        fig.text(0.99, 0.01, f"lock {curves.lock}", ha="right", va="bottom", fontsize=6, color="gray")
    fig.tight_layout()
    return fig


def plot(curves: Curves, png: str | Path, pdf: str | Path) -> None:
    """Write the figure as PNG and PDF (no timestamps in either, so reruns are byte-identical)."""
    from lgcaa.io import atomic_path

    fig = make_figure(curves)
    with atomic_path(png, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", metadata={"Software": None})
    with atomic_path(pdf, suffix=".pdf") as tmp:
        fig.savefig(
            tmp, format="pdf", metadata={"CreationDate": None, "ModDate": None, "Producer": None, "Creator": None}
        )
