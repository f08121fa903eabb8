"""Lay a loaded table out as displayed: header, rows of cells, best/second marks, footer lines.

Table I ("grid" layout) has one row per dataset x metric and one column per method, ranked per row.
Tables II and III ("rows" layout) have one row per variant and one column per metric, ranked per column
within each group (Table II: per module). Marks follow each metric's direction. Missing cells and cells
whose image count is flagged are not ranked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from lgcaa.metrics.registry import get as metric_spec
from lgcaa.tables.cells import Cell, LoadedTable


@dataclass(frozen=True)
class GridRow:
    keys: tuple[str, ...]  # machine keys (CSV): dataset, metric | module, variant | lambda_w, lambda_p
    labels: tuple[str, ...]  # displayed leading cells
    cells: tuple[Cell, ...]
    marks: tuple[str, ...]  # "best" | "second" | "" per cell
    metrics: tuple[str, ...]  # metric of each cell


@dataclass(frozen=True)
class Grid:
    name: str
    title: str
    key_headers: tuple[str, ...]
    label_headers: tuple[str, ...]
    column_keys: tuple[str, ...]
    column_labels: tuple[str, ...]
    rows: tuple[GridRow, ...]
    footer: tuple[str, ...]


def rank_marks(values: dict[str, float | None], lower_better: bool) -> dict[str, str]:
    """{key: 'best' | 'second'} by the metric's direction; ties share a mark; None/NaN values are unranked."""
    present = sorted({v for v in values.values() if v is not None and not math.isnan(v)}, reverse=not lower_better)
    marks: dict[str, str] = {}
    for key, v in values.items():
        if v is None or math.isnan(v) or not present:
            continue
        if v == present[0]:
            marks[key] = "best"
        elif len(present) > 1 and v == present[1]:
            marks[key] = "second"
    return marks


def arrow(metric: str) -> str:
    return "↓" if metric_spec(metric).lower_better else "↑"


def _marks(cells: list[Cell], metric: str) -> list[str]:
    vals = {str(i): (c.mean if c.rankable else None) for i, c in enumerate(cells)}
    m = rank_marks(vals, metric_spec(metric).lower_better)
    return [m.get(str(i), "") for i in range(len(cells))]


def footer_lines(t: LoadedTable) -> tuple[str, ...]:
    spec = t.spec
    lines = []
    if spec.note:
        lines.append(spec.note + ".")
    if t.lock:
        per_ds = "; ".join(f"{spec.dataset_labels.get(d, d)}: {n}" for d, n in t.counts.items())
        ns = sorted(set(t.counts.values()))
        lines.append(f"Protocol lock {t.lock}; N = {', '.join(map(str, ns))} images ({per_ds}).")
    ks = sorted({len(e.seeds) for e in spec.entries})
    if any(k > 1 for k in ks):
        lines.append(
            f"Methods run with k > 1 seeds show the mean over seeds ± the half-width of a 95% t-interval "
            f"(k = {', '.join(map(str, ks))})."
        )
    if not spec.comparable:
        lines.append(f"{spec.profile} profile — not comparable to the paper's numbers.")
    return tuple(lines)


def build_grid(t: LoadedTable) -> Grid:
    spec = t.spec
    footer = footer_lines(t)
    if spec.layout == "grid":
        methods = list(dict.fromkeys(e.method for e in spec.entries))
        labels = {e.method: e.label for e in spec.entries}
        index = {(e.dataset, e.method): i for i, e in enumerate(spec.entries)}
        rows = []
        for ds in spec.datasets:
            for metric in spec.metrics:
                cells = [t.cell(index[(ds, m)], metric) for m in methods if (ds, m) in index]
                if len(cells) != len(methods):
                    raise ValueError(f"table {spec.name}: dataset {ds} lacks some methods")
                rows.append(
                    GridRow(
                        (ds, metric),
                        (spec.dataset_labels.get(ds, ds), f"{metric_spec(metric).label} {arrow(metric)}"),
                        tuple(cells),
                        tuple(_marks(cells, metric)),
                        (metric,) * len(cells),
                    )
                )
        return Grid(
            spec.name,
            spec.title,
            ("dataset", "metric"),
            ("Dataset", "Metric"),
            tuple(methods),
            tuple(labels[m] for m in methods),
            tuple(rows),
            footer,
        )
    # "rows": marks per metric within each group
    marks: dict[tuple[int, str], str] = {}
    groups = list(dict.fromkeys(e.group for e in spec.entries))
    for g in groups:
        idx = [i for i, e in enumerate(spec.entries) if e.group == g]
        for metric in spec.metrics:
            for i, mk in zip(idx, _marks([t.cell(i, metric) for i in idx], metric)):
                marks[(i, metric)] = mk
    rows = []
    for i, e in enumerate(spec.entries):
        rows.append(
            GridRow(
                (*e.key, e.method),
                tuple(e.row),
                tuple(t.cell(i, m) for m in spec.metrics),
                tuple(marks[(i, m)] for m in spec.metrics),
                tuple(spec.metrics),
            )
        )
    return Grid(
        spec.name,
        spec.title,
        (*spec.key_headers, "method"),
        spec.row_headers,
        tuple(spec.metrics),
        tuple(f"{metric_spec(m).label} {arrow(m)}" for m in spec.metrics),
        tuple(rows),
        footer,
    )
