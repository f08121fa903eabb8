"""Per-image scores of Table I: every method's per-image PSNR against bicubic's (a plot), and a table.

One panel per dataset: x = the reference method's PSNR on an image (bicubic; else the first method), y = each
other method's PSNR on the same image; points above the diagonal beat the reference on that image. Values
are the mean over the entry's seeds (k > 1). Rows of the table: every image when there are few, else the
images where the last method (LGCAA) gains most and least over the reference.
"""

from __future__ import annotations

import csv
import html
import io
from dataclasses import dataclass

import numpy as np

from lgcaa.figures.draw import header, new_figure
from lgcaa.layout import per_image_of
from lgcaa.tables.cells import read_per_image
from lgcaa.tables.spec import TableSpec

REFERENCE = "bicubic"


@dataclass(frozen=True)
class PerImage:
    dataset: str
    dataset_label: str
    metric: str
    methods: tuple[tuple[str, str], ...]  # (method, label)
    values: dict[str, dict[str, float]]  # method -> image -> value (mean over seeds)

    @property
    def images(self) -> list[str]:
        sets = [set(v) for v in self.values.values() if v]
        return sorted(set.intersection(*sets)) if sets else []

    @property
    def reference(self) -> str | None:
        present = [m for m, _ in self.methods if self.values.get(m)]
        if not present:
            return None
        return REFERENCE if REFERENCE in present else present[0]


def load_per_image(spec: TableSpec, metric: str = "psnr") -> list[PerImage]:
    """One `PerImage` per dataset of a grid table (Table I), from the entries' per_image.csv files."""
    out = []
    for ds in spec.datasets:
        entries = [e for e in spec.entries if e.dataset == ds]
        values: dict[str, dict[str, float]] = {}
        for e in entries:
            cols = [read_per_image(per_image_of(a)).get(metric, {}) for a in e.aggregates]
            if not all(cols):
                values[e.method] = {}
                continue
            common = set.intersection(*(set(c) for c in cols))
            values[e.method] = {i: float(np.mean([c[i] for c in cols])) for i in sorted(common)}
        out.append(PerImage(ds, spec.dataset_labels.get(ds, ds), metric, tuple((e.method, e.label) for e in entries),
                            values))
    return out


def to_csv(data: list[PerImage]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["dataset", "image", "method", "metric", "value", "reference", "minus_reference"])
    for d in data:
        ref = d.reference
        for img in d.images:
            for m, _ in d.methods:
                if img in d.values.get(m, {}):
                    v = d.values[m][img]
                    diff = "" if ref is None else f"{v - d.values[ref][img]:.6f}"
                    w.writerow([d.dataset, img, m, d.metric, f"{v:.6f}", ref or "", diff])
    return buf.getvalue()


def make_figure(data: list[PerImage], title: str, note: str = "", profile: str = ""):
    drawable = [d for d in data if d.reference and d.images]
    entries = max([len(d.methods) - 1 for d in drawable] or [0])
    legend_in = 0.15 + 0.13 * entries  # each panel's legend sits under its axes, never over the points or clipped
    fig = new_figure(4.2 * max(1, len(drawable)), 4.4 + legend_in)
    header(fig, title, note, profile)
    if not drawable:
        ax = fig.add_axes((0.05, 0.05, 0.9, 0.75))
        ax.set_axis_off()
        ax.text(0.5, 0.5, "no per-image values (Table I is empty or its metric is missing)", ha="center",
                color="#8b0000")
        return fig
    axes = fig.subplots(1, len(drawable), squeeze=False)[0]
    for ax, d in zip(axes, drawable):
        ref = d.reference
        x = np.array([d.values[ref][i] for i in d.images])
        for m, label in d.methods:
            if m == ref or not d.values.get(m):
                continue
            y = np.array([d.values[m].get(i, np.nan) for i in d.images])
            wins = int(np.sum(y > x))
            ax.scatter(x, y, s=12, alpha=0.8, label=f"{label} ({wins}/{len(x)} above)")
        lo = float(np.nanmin([x.min(), *[min(v.values()) for v in d.values.values() if v]]))
        hi = float(np.nanmax([x.max(), *[max(v.values()) for v in d.values.values() if v]]))
        ax.plot([lo, hi], [lo, hi], color="gray", lw=0.8, ls="--")
        ref_label = dict(d.methods)[ref]
        ax.set_xlabel(f"{ref_label} {d.metric.upper()} per image (dB)", fontsize=8)
        ax.set_ylabel(f"method {d.metric.upper()} (dB)", fontsize=8)
        ax.set_title(f"{d.dataset_label} (N = {len(x)})", fontsize=8)
        ax.legend(fontsize=6, loc="upper center", bbox_to_anchor=(0.5, -0.12), frameon=False)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=7)
    height = fig.get_figheight()
    fig.subplots_adjust(left=0.08, right=0.98, bottom=(0.53 + legend_in) / height, top=1 - 0.66 / height, wspace=0.3)
    return fig


def shown_images(d: PerImage, limit: int) -> list[str]:
    """All images when there are at most `limit`, else the limit/2 with the largest and smallest gain of the
    last method over the reference."""
    imgs = d.images
    if len(imgs) <= limit or not d.reference:
        return imgs
    last = d.methods[-1][0]
    if not d.values.get(last):
        return imgs[:limit]
    gain = sorted(imgs, key=lambda i: d.values[last][i] - d.values[d.reference][i])
    half = limit // 2
    return sorted(set(gain[-half:] + gain[:half]), key=gain.index)[::-1]


def to_html(data: list[PerImage], limit: int = 12) -> str:
    """One table per dataset: images x methods, best per row in bold; gains over the reference in the last column."""
    e = html.escape
    out = []
    for d in data:
        imgs = shown_images(d, limit)
        if not imgs:
            continue
        ref, last = d.reference, d.methods[-1][0]
        cols = [(m, lab) for m, lab in d.methods if d.values.get(m)]
        note = "" if len(imgs) == len(d.images) else (
            f" — {len(imgs)} of {len(d.images)} images: where {e(dict(d.methods)[last])} gains most and least over "
            f"{e(dict(d.methods)[ref])}; all in the CSV")
        out.append(f'<table class="results per-image"><caption>{e(d.dataset_label)}: per-image '
                   f"{e(d.metric.upper())}{note}</caption><thead><tr><th>image</th>"
                   + "".join(f"<th>{e(lab)}</th>" for _, lab in cols)
                   + f"<th>{e(dict(d.methods)[last])} − {e(dict(d.methods)[ref])}</th></tr></thead><tbody>")
        for img in imgs:
            vals = {m: d.values[m].get(img) for m, _ in cols}
            best = max(v for v in vals.values() if v is not None)
            cells = "".join(
                f'<td class="best"><b>{v:.2f}</b></td>' if v == best else f"<td>{'—' if v is None else f'{v:.2f}'}</td>"
                for v in vals.values())
            gain = (vals.get(last) or 0) - (vals.get(ref) or 0) if vals.get(last) is not None else None
            out.append(f"<tr><th>{e(img)}</th>{cells}<td>{'—' if gain is None else f'{gain:+.2f}'}</td></tr>")
        out.append("</tbody></table>")
    return "\n".join(out) + "\n"
