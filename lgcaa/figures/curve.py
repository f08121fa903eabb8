"""Fig. 8, the perception-distortion curves: PSNR (x) vs LPIPS (y) over sampling steps, one series per method.

The paper plots LGCAA and SeeSR at 30/40/50 DDPM steps. Each point is one step count evaluated with k seeds
(error bars = the seed 95% t-interval when k > 1). The perceptual axis is LPIPS whenever every point has it.
When LPIPS is missing (offline: its AlexNet weights are absent) and every point has NIQE, NIQE is plotted
*as a stand-in*, and the title and the y axis say so; the CSV always carries both columns. If neither can
be drawn, the figure holds the reasons — never an empty box.
"""

from __future__ import annotations

import csv
import io
import textwrap
from dataclasses import dataclass
from pathlib import Path

from lgcaa.metrics.lock import require_same_lock
from lgcaa.tables.cells import Cell, entry_cells, read_aggregate
from lgcaa.tables.spec import CurveSpec, TableSpec

PERCEPTUAL = "lpips"
STAND_IN = "niqe"
AXIS = {"lpips": "LPIPS ↓  better perception", "niqe": "NIQE ↓ — stand-in for LPIPS (unavailable)"}


@dataclass(frozen=True)
class Point:
    steps: int
    psnr: Cell
    lpips: Cell
    niqe: Cell

    def cell(self, metric: str) -> Cell:
        return {"psnr": self.psnr, "lpips": self.lpips, "niqe": self.niqe}[metric]


@dataclass(frozen=True)
class Curves:
    spec: CurveSpec
    series: tuple[tuple[str, tuple[Point, ...]], ...]
    lock: str

    def points(self) -> list[Point]:
        return [p for _, pts in self.series for p in pts]

    @property
    def y_metric(self) -> str:
        """"lpips" when every point with PSNR has LPIPS; "niqe" (stand-in) when LPIPS is missing but NIQE is not."""
        pts = [p for p in self.points() if p.psnr.ok]
        if pts and any(not p.lpips.ok for p in pts) and all(p.niqe.ok for p in pts):
            return STAND_IN
        return PERCEPTUAL

    def drawable(self, p: Point) -> bool:
        return p.psnr.ok and p.cell(self.y_metric).ok

    @property
    def any_drawable(self) -> bool:
        return any(self.drawable(p) for p in self.points())

    def missing_notes(self) -> list[str]:
        notes: dict[str, list[str]] = {}
        for label, pts in self.series:
            for p in pts:
                for c in (p.psnr, p.lpips):
                    if not c.ok:
                        notes.setdefault(f"{c.metric.upper()} unavailable: {c.reason} (fix: {c.fix})", []).append(
                            f"{label} @ {p.steps}"
                        )
        return [f"{why} — at: {', '.join(where)}" for why, where in notes.items()]


def load_curves(spec: CurveSpec) -> Curves:
    aggs = {p: read_aggregate(p) for p in spec.aggregates}
    lock = require_same_lock((p, a["lock"]) for p, a in aggs.items()) if aggs else ""
    metrics = ("psnr", PERCEPTUAL, STAND_IN)
    table = TableSpec("curves", "curves", "rows", metrics, (), profile=spec.profile)
    series = []
    for label, pts in spec.series:
        points = []
        for steps, e in pts:
            cells = entry_cells(table, e, [aggs[a] for a in e.aggregates], metrics)
            points.append(Point(steps, cells["psnr"], cells["lpips"], cells["niqe"]))
        series.append((label, tuple(points)))
    return Curves(spec, tuple(series), lock)


def _num(x: float | None) -> str:
    return "" if x is None else repr(x)


def to_csv(curves: Curves) -> str:
    """Long CSV: series, steps, dataset, method, psnr, lpips, niqe (+ seed half-widths), plotted y, status."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["series", "steps", "dataset", "method", "psnr", "lpips", "niqe", "psnr_half", "lpips_half",
                "niqe_half", "y_metric", "status"])
    for label, pts in curves.series:
        for p in pts:
            status = "ok" if curves.drawable(p) else "; ".join(
                f"{c.metric} missing" for c in (p.psnr, p.cell(curves.y_metric)) if not c.ok)
            w.writerow([label, p.steps, p.psnr.dataset, p.psnr.method, _num(p.psnr.mean), _num(p.lpips.mean),
                        _num(p.niqe.mean), _num(p.psnr.half), _num(p.lpips.half), _num(p.niqe.half),
                        curves.y_metric, status])
    return buf.getvalue()


def make_figure(curves: Curves):  # -> matplotlib.figure.Figure
    """One line per series with drawable points; the stand-in and whatever could not be drawn, in words."""
    from matplotlib.figure import Figure

    spec = curves.spec
    ym = curves.y_metric
    fig = Figure(figsize=(6.0, 4.6), dpi=150)
    ax = fig.subplots()
    what = "PSNR vs LPIPS" if ym == PERCEPTUAL else "PSNR vs NIQE (stand-in: LPIPS unavailable)"
    ax.set_title(f"Fig. 8 — perception–distortion: {what}\n{spec.dataset_label or 'no dataset'}, "
                 f"{spec.profile} profile, steps annotated", fontsize=9)
    ax.set_xlabel("PSNR (dB) →  less distortion")
    ax.set_ylabel(AXIS[ym])
    messages = ([spec.note] if spec.note else []) + curves.missing_notes()
    if ym == STAND_IN:
        messages.append("NIQE is no-reference: it stands in for LPIPS here and is not what the paper plots.")
    step_labels = []
    if curves.any_drawable:
        for label, pts in curves.series:
            ok = [p for p in pts if curves.drawable(p)]
            if not ok:
                continue
            xs = [p.psnr.mean for p in ok]
            ys = [p.cell(ym).mean for p in ok]
            xerr = [p.psnr.half or 0.0 for p in ok]
            yerr = [p.cell(ym).half or 0.0 for p in ok]
            has_err = any(xerr) or any(yerr)
            steps = " → ".join(str(p.steps) for p in ok)
            line = ax.errorbar(xs, ys, xerr=xerr if has_err else None, yerr=yerr if has_err else None, marker="o",
                               capsize=3, label=f"{label} (steps {steps})")
            for p, x, y in zip(ok, xs, ys):
                step_labels.append(ax.annotate(f"{p.steps}", (x, y), textcoords="offset points", xytext=(5, 4),
                                               fontsize=8, color=line.lines[0].get_color()))
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    else:
        ax.set_xticks([])
        ax.set_yticks([])
        if not messages:
            messages = ["nothing to plot: no series configured"]
    if messages and not curves.any_drawable:
        text = "\n".join(textwrap.fill(m, 80) for m in messages)
        ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", fontsize=8, color="#8b0000",
                bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "#8b0000"})
    fig.tight_layout()
    if messages and curves.any_drawable:  # below the plot, never over the points
        lines = [ln for m in messages for ln in textwrap.wrap(m, 110)]
        extra = 0.12 * len(lines) + 0.1
        h = fig.get_figheight()
        fig.set_figheight(h + extra)
        fig.subplots_adjust(bottom=(fig.subplotpars.bottom * h + extra) / (h + extra),
                            top=1 - (1 - fig.subplotpars.top) * h / (h + extra))
        fig.text(0.01, 0.01, "\n".join(lines), ha="left", va="bottom", fontsize=6, color="#8b0000")
    if curves.lock:
        fig.text(0.99, 0.01, f"lock {curves.lock}", ha="right", va="bottom", fontsize=6, color="gray")
    _drop_colliding(fig, step_labels)
    return fig


def _drop_colliding(fig, labels: list) -> None:
    """Hide a step label that would overlap one already kept (close points); the legend lists each series'
    steps in order, so none is lost."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if not labels:
        return
    FigureCanvasAgg(fig).draw()
    renderer = fig.canvas.get_renderer()
    kept = []
    for a in labels:
        box = a.get_window_extent(renderer)
        if any(box.overlaps(k) for k in kept):
            a.set_visible(False)
        else:
            kept.append(box)


def plot(curves: Curves, png: str | Path, pdf: str | Path) -> None:
    """Write the figure as PNG and PDF (no timestamps in either, so reruns are byte-identical)."""
    from lgcaa.figures.draw import save

    save(make_figure(curves), png, pdf)
