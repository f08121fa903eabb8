"""Table I: rows = dataset x metric, columns = methods; best and second best per row.

Input: `aggregate.json` files written by the evaluator. All aggregates must share one protocol lock.
Missing metrics keep their reason; they are rendered as "missing" with a footnote, never as a number.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lgcaa.metrics.lock import require_same_lock
from lgcaa.metrics.registry import TABLE_ORDER, get


@dataclass
class Cell:
    value: float | None  # None when missing
    reason: str = ""
    fix: str = ""
    n: int = 0


def load_aggregates(paths: list[str | Path]) -> tuple[dict[tuple[str, str, str], Cell], str, dict[tuple[str, str], int]]:
    """Returns ({(dataset, method, metric): Cell}, common lock, {(dataset, method): N}).

    Raises UserError when locks differ or an aggregate's N differs from its expected count.
    """
    from lgcaa.errors import UserError

    cells: dict[tuple[str, str, str], Cell] = {}
    counts: dict[tuple[str, str], int] = {}
    aggs = [(str(p), json.loads(Path(p).read_text())) for p in paths]
    lock = require_same_lock((p, a["lock"]) for p, a in aggs)
    for p, a in aggs:
        ds, method, n = a["dataset"], a["method"], a["n_images"]
        expected = a.get("expected_count")
        if expected is not None and n != expected:
            raise UserError(f"{p}: {n} images evaluated but dataset '{ds}' expects {expected}; rerun the SR job")
        counts[(ds, method)] = n
        for metric, s in a["metrics"].items():
            if s["status"] == "ok":
                cells[(ds, method, metric)] = Cell(s["mean"], n=n)
            else:
                cells[(ds, method, metric)] = Cell(None, s.get("reason", ""), s.get("fix", ""), n)
    return cells, lock, counts


def rank_marks(values: dict[str, float | None], lower_better: bool) -> dict[str, str]:
    """{method: 'best' | 'second'} by the metric's direction; ties share the mark; None values are unranked."""
    present = sorted({v for v in values.values() if v is not None and not math.isnan(v)}, reverse=not lower_better)
    marks = {}
    for method, v in values.items():
        if v is None or not present:
            continue
        if v == present[0]:
            marks[method] = "best"
        elif len(present) > 1 and v == present[1]:
            marks[method] = "second"
    return marks


def metric_rows(cells: dict[tuple[str, str, str], Cell], datasets: list[str], methods: list[str]) -> list[dict[str, Any]]:
    """One dict per (dataset, metric) row present in `cells`, in the paper's metric order."""
    rows = []
    for ds in datasets:
        for metric in TABLE_ORDER:
            row_cells = {m: cells.get((ds, m, metric)) for m in methods}
            if all(c is None for c in row_cells.values()):
                continue
            values = {m: (c.value if c else None) for m, c in row_cells.items()}
            rows.append({"dataset": ds, "metric": metric, "cells": row_cells,
                         "marks": rank_marks(values, get(metric).lower_better)})
    return rows


def fmt(value: float, metric: str) -> str:
    return f"{value:.2f}" if metric in ("psnr", "musiq", "fid") else f"{value:.4f}"


def to_csv(rows: list[dict[str, Any]], methods: list[str]) -> str:
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["dataset", "metric", "direction", *methods, "best", "second"])
    for r in rows:
        vals = ["" if (c is None or c.value is None) else repr(c.value) for c in (r["cells"][m] for m in methods)]
        direction = "lower" if get(r["metric"]).lower_better else "higher"
        best = ";".join(m for m, k in r["marks"].items() if k == "best")
        second = ";".join(m for m, k in r["marks"].items() if k == "second")
        w.writerow([r["dataset"], r["metric"], direction, *vals, best, second])
    return buf.getvalue()


def to_markdown(rows: list[dict[str, Any]], methods: list[str], labels: dict[str, str], lock: str,
                counts: dict[tuple[str, str], int], title: str = "Table I") -> str:
    footnotes: dict[str, int] = {}
    lines = [f"**{title}** — best in **bold**, second <u>underlined</u> (by each metric's direction: ↑ higher, ↓ lower is better).", ""]
    lines.append("| Dataset | Metric | " + " | ".join(methods) + " |")
    lines.append("|---|---|" + "---|" * len(methods))
    for r in rows:
        arrow = "↓" if get(r["metric"]).lower_better else "↑"
        out = []
        for m in methods:
            c = r["cells"][m]
            if c is None:
                out.append("—")
            elif c.value is None:
                note = f"{c.reason} — fix: `{c.fix}`"
                idx = footnotes.setdefault(note, len(footnotes) + 1)
                out.append(f"missing[^{idx}]")
            else:
                s = fmt(c.value, r["metric"])
                mark = r["marks"].get(m)
                out.append(f"**{s}**" if mark == "best" else f"<u>{s}</u>" if mark == "second" else s)
        lines.append(f"| {labels.get(r['dataset'], r['dataset'])} | {get(r['metric']).label} {arrow} | " + " | ".join(out) + " |")
    ns = sorted(set(counts.values()))
    lines += ["", f"Protocol lock `{lock}`; N = {', '.join(map(str, ns))} images per dataset "
              f"({'; '.join(f'{d}: {n}' for d, n in sorted({d: n for (d, _), n in counts.items()}.items()))})."]
    if footnotes:
        lines.append("")
        lines += [f"[^{i}]: {note}" for note, i in footnotes.items()]
    return "\n".join(lines) + "\n"
