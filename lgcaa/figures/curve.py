"""Fig. 8, the perception-distortion curves: PSNR (x) vs LPIPS (y) over sampling steps, one series per method.

The paper plots LGCAA and SeeSR at 30/40/50 DDPM steps. Each point is one step count of one method: its mean
score over the test set's images, with the 95% percentile bootstrap interval of that mean over the images as
error bars on both axes (`lgcaa.tables.cells`: the evaluation's per-image scores, `tables.bootstrap` resamples,
seed and level). With k > 1 seeds each image's score is averaged over the seeds first, so the bars cover which
images were drawn, not seed-to-seed variation (the seed t-interval stays in the CSV); the caption says so.

Axes never blow a tiny spread into a trend: each spans at least its metric's tolerance (the tables' caps, e.g.
PSNR 0.5 dB; `axis_limits`), and the caption names the series whose points' intervals overlap (`overlap`): their
differences are within the intervals. The perceptual axis is LPIPS whenever every point has it. When LPIPS is
missing (offline: its AlexNet weights are absent) and every point has NIQE, NIQE is plotted *as a stand-in*, and
the title and the y axis say so; the CSV always carries both columns. If neither can be drawn, the figure holds
the reasons — never an empty box.
"""

from __future__ import annotations

import csv
import io
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from lgcaa.metrics.lock import require_same_lock
from lgcaa.tables.cells import Cell, entry_cells, read_aggregate
from lgcaa.tables.spec import CurveSpec, TableSpec

PERCEPTUAL = "lpips"
STAND_IN = "niqe"
AXIS = {"lpips": "LPIPS ↓  better perception", "niqe": "NIQE ↓ — stand-in for LPIPS (unavailable)"}
NAMES = {"psnr": "PSNR", "lpips": "LPIPS", "niqe": "NIQE"}
UNITS = {"psnr": " dB"}
AXIS_MARGIN = 0.08  # of the data's span, on each side of an axis


def axis_limits(lows: Sequence[float], highs: Sequence[float], min_span: float,
                margin: float = AXIS_MARGIN) -> tuple[float, float]:
    """One axis's range: every [low, high] (a point's interval, or the point itself) plus `margin` of their span on
    each side, never narrower than `min_span` and centred on the data — so a 0.04 dB spread is drawn as the small
    difference it is, not stretched over the whole axis."""
    lo, hi = float(min(lows)), float(max(highs))
    span = max((hi - lo) * (1 + 2 * margin), float(min_span))
    if span <= 0:  # one point without an interval and no minimum: any non-empty range
        span = 1.0
    mid = (lo + hi) / 2
    return mid - span / 2, mid + span / 2


def overlap(intervals: Sequence[tuple[float, float] | None]) -> bool | None:
    """True when one value lies inside every interval (the points' differences are within their intervals), False
    when not; None with fewer than two intervals or a point without one."""
    if len(intervals) < 2 or any(iv is None for iv in intervals):
        return None
    return max(lo for lo, _ in intervals) <= min(hi for _, hi in intervals)  # type: ignore[misc]


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

    def groups(self) -> list[tuple[str, list[Point]]]:
        """Each series' drawable points, then all of them together when several series are drawn."""
        out = [(label, ok) for label, pts in self.series if (ok := [p for p in pts if self.drawable(p)])]
        return out + ([("all points", [p for _, ok in out for p in ok])] if len(out) > 1 else [])

    def within(self, pts: Sequence[Point], metric: str) -> bool | None:
        """Whether the differences of `pts` on `metric` are within their intervals (`overlap`)."""
        return overlap([p.cell(metric).boot for p in pts])

    def interval_note(self) -> str:
        """What the error bars are: the bootstrap's settings, the image count and what the seeds contribute."""
        pts = [p for p in self.points() if self.drawable(p)]
        if not pts:
            return ""
        b = self.spec.bootstrap
        ns = "/".join(str(n) for n in sorted({p.psnr.n for p in pts}))
        ks = sorted({len(p.psnr.seed_means) for p in pts})
        text = (f"Error bars: {float(b['level']):.0%} percentile bootstrap interval of each point's mean over its "
                f"N = {ns} test images ({int(b['n'])} resamples, seed {int(b['seed'])}; tables.bootstrap)")
        if ks[-1] > 1:
            text += (f"; with k = {'/'.join(map(str, ks))} seeds each image's score is averaged over the seeds "
                     "first, so the bars cover the images drawn, not seed-to-seed variation (the seed t-interval is in "
                     "the CSV)")
        else:
            text += "; one seed per point"
        bare = [f"{label} @ {p.steps} ({c.metric}: {c.boot_note})" for label, ps in self.series for p in ps
                if self.drawable(p) for c in (p.psnr, p.cell(self.y_metric)) if c.boot is None]
        return text + (f"; no interval at {', '.join(bare)}" if bare else "")

    def span_note(self) -> str:
        tol = self.spec.tolerances
        spans = ", ".join(f"{NAMES[m]} {float(tol.get(m, 0.0)):g}{UNITS.get(m, '')}" for m in ("psnr", self.y_metric))
        return (f"Each axis spans at least its metric's tolerance ({spans}; the tables' caps), so a smaller spread is "
                "not drawn as a trend.")

    def within_notes(self) -> list[str]:
        """One line per group of points whose differences lie within their intervals, naming the metrics."""
        level = f"{float(self.spec.bootstrap['level']):.0%}"
        out = []
        for label, pts in self.groups():
            same = [NAMES[m] for m in ("psnr", self.y_metric) if self.within(pts, m)]
            if same:
                what = "between the series" if label == "all points" else \
                    f"over steps {'/'.join(str(p.steps) for p in pts)}"
                out.append(f"{label}: the {' and '.join(same)} differences {what} are within the points' {level} "
                           "intervals (the intervals share a value): no difference is resolved there.")
        return out

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
    table = TableSpec("curves", "curves", "rows", metrics, (), profile=spec.profile, bootstrap=dict(spec.bootstrap))
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


def _flag(v: bool | None) -> str:
    return "" if v is None else ("yes" if v else "no")


def to_csv(curves: Curves) -> str:
    """Long CSV: series, steps, dataset, method, psnr, lpips, niqe (+ seed half-widths), N images, k seeds, each
    metric's bootstrap interval (low, high), whether the series' differences are within the intervals on PSNR and
    on the plotted y metric (yes / no / empty: no interval), plotted y, status."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["series", "steps", "dataset", "method", "psnr", "lpips", "niqe", "psnr_half", "lpips_half",
                "niqe_half", "n_images", "k_seeds", "psnr_low", "psnr_high", "lpips_low", "lpips_high", "niqe_low",
                "niqe_high", "psnr_within_intervals", "y_within_intervals", "y_metric", "status"])
    ym = curves.y_metric
    for label, pts in curves.series:
        ok = [p for p in pts if curves.drawable(p)]
        within = (curves.within(ok, "psnr"), curves.within(ok, ym))
        for p in pts:
            status = "ok" if curves.drawable(p) else "; ".join(
                f"{c.metric} missing" for c in (p.psnr, p.cell(ym)) if not c.ok)
            bounds = [_num(c.boot[i] if c.boot else None) for c in (p.psnr, p.lpips, p.niqe) for i in (0, 1)]
            drawn = curves.drawable(p)
            w.writerow([label, p.steps, p.psnr.dataset, p.psnr.method, _num(p.psnr.mean), _num(p.lpips.mean),
                        _num(p.niqe.mean), _num(p.psnr.half), _num(p.lpips.half), _num(p.niqe.half), p.psnr.n,
                        len(p.psnr.seed_means), *bounds, _flag(within[0] if drawn else None),
                        _flag(within[1] if drawn else None), ym, status])
    return buf.getvalue()


def _errors(cells: list[Cell]) -> list[list[float]]:
    """matplotlib's asymmetric error bars [[below], [above]] from each cell's bootstrap interval (0 without one;
    never negative, should seeds scored on different images put the mean outside the images' interval)."""
    return [[max(0.0, c.mean - c.boot[0]) if c.boot else 0.0 for c in cells],
            [max(0.0, c.boot[1] - c.mean) if c.boot else 0.0 for c in cells]]


def _limits(curves: Curves, metric: str) -> tuple[float, float]:
    cells = [p.cell(metric) for p in curves.points() if curves.drawable(p)]
    return axis_limits([min(c.boot[0], c.mean) if c.boot else c.mean for c in cells],
                       [max(c.boot[1], c.mean) if c.boot else c.mean for c in cells],
                       float(curves.spec.tolerances.get(metric, 0.0)))


FOOTER_LINE_IN = 0.12  # height of one 6-pt footer line, with its spacing


def make_figure(curves: Curves):  # -> matplotlib.figure.Figure
    """One line per series with drawable points and their intervals on both axes; under the plot, what the bars are,
    the axes' minimum spans, which differences are within the intervals, the stand-in and whatever could not be
    drawn."""
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
    caption: list[str] = []
    step_labels = []
    if curves.any_drawable:
        for label, pts in curves.series:
            ok = [p for p in pts if curves.drawable(p)]
            if not ok:
                continue
            xs = [p.psnr.mean for p in ok]
            ys = [p.cell(ym).mean for p in ok]
            steps = " → ".join(str(p.steps) for p in ok)
            line = ax.errorbar(xs, ys, xerr=_errors([p.psnr for p in ok]), yerr=_errors([p.cell(ym) for p in ok]),
                               marker="o", capsize=3, elinewidth=0.8, label=f"{label} (steps {steps})")
            for p, x, y in zip(ok, xs, ys):
                step_labels.append(ax.annotate(f"{p.steps}", (x, y), textcoords="offset points", xytext=(5, 4),
                                               fontsize=8, color=line.lines[0].get_color()))
        ax.set_xlim(*_limits(curves, "psnr"))
        ax.set_ylim(*_limits(curves, ym))
        ax.ticklabel_format(useOffset=False)  # an offset would hide how small the span is
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
        caption = [curves.interval_note(), curves.span_note(), *curves.within_notes()]
    else:
        ax.set_xticks([])
        ax.set_yticks([])
        if not messages:
            messages = ["nothing to plot: no series configured"]
        text = "\n".join(textwrap.fill(m, 80) for m in messages)
        ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", fontsize=8, color="#8b0000",
                bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "#8b0000"})
        messages = []  # said in the box
    if curves.lock:
        caption.append(f"protocol lock {curves.lock}")
    fig.tight_layout()
    warn = [ln for m in messages for ln in textwrap.wrap(m, 110)]
    notes = [ln for m in caption for ln in textwrap.wrap(m, 110)]
    if warn or notes:  # below the plot, never over the points: the caption (grey), the warnings (red) above it
        extra = FOOTER_LINE_IN * (len(warn) + len(notes)) + 0.1
        h = fig.get_figheight()
        fig.set_figheight(h + extra)
        fig.subplots_adjust(bottom=(fig.subplotpars.bottom * h + extra) / (h + extra),
                            top=1 - (1 - fig.subplotpars.top) * h / (h + extra))
        bottom = 0.05 / (h + extra)
        if notes:
            fig.text(0.01, bottom, "\n".join(notes), ha="left", va="bottom", fontsize=6, color="#444444")
        if warn:
            fig.text(0.01, bottom + FOOTER_LINE_IN * len(notes) / (h + extra), "\n".join(warn), ha="left",
                     va="bottom", fontsize=6, color="#8b0000")
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
