"""Reported vs reproduced: every cell the paper prints next to ours, with delta and verdict.

Verdicts, in the order they are decided:
  not comparable  the profile is not meant to be comparable (`comparable_to_paper` false, e.g. mini): every
                  cell, with ours shown where it exists and the reason it is missing where it does not
  missing         nothing of ours corresponds to the paper cell, or our metric is missing (the reason says why)
  not comparable  our image count is flagged (differs from the dataset's expected count)
  no tolerance    no tolerance configured for the metric
  within/outside  |ours - paper| <= tolerance (per table and metric, in the metric's units)

Tolerances are per table and never wider than the table's own spread: a metric's tolerance is the table's own
value when the profile gives one (`tables.<table>.tolerances`), else min(cap, f x spread), where the cap is
`tables.compare.tolerances` (or the default), f is `tables.compare.spread_fraction` (0.25) and spread is the
smallest range (max - min) of the metric among the paper's values within one group of the table (Table I: a
dataset; Table II: a module; Table III: the whole grid). Example: Table II's LPIPS range is 0.0127 in the DPACM
block, so its tolerance is 0.0032, not the 0.02 cap. The basis of each tolerance is written beside it.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from lgcaa.layout import eval_record_of
from lgcaa.metrics.registry import get as metric_spec
from lgcaa.report.links import check_url
from lgcaa.tables.cells import Cell, LoadedTable
from lgcaa.tables.paper import PAPER_TABLES, load_paper, norm_key
from lgcaa.tables.render import fmt

VERDICTS = ("within", "outside", "not comparable", "no tolerance", "missing")


SPREAD_GROUPS = {"table1": ("dataset",), "table2": ("dataset", "module"), "table3": ("dataset",)}


def table_tolerances(spec_name: str, paper: pd.DataFrame, caps: dict[str, float], overrides: dict[str, float],
                     fraction: float) -> dict[str, tuple[float, str]]:
    """{metric: (tolerance, basis)} for one table: the table's own value, else min(cap, fraction x spread)."""
    out: dict[str, tuple[float, str]] = {}
    groups = list(SPREAD_GROUPS.get(spec_name, ("dataset",)))
    for metric, sub in paper.groupby("metric"):
        metric = str(metric)
        if metric in overrides:
            out[metric] = (float(overrides[metric]), f"tables.{spec_name}.tolerances")
            continue
        spread = float(sub.groupby(groups)["score"].agg(lambda x: x.max() - x.min()).min())
        derived = fraction * spread
        cap = caps.get(metric)
        if cap is not None and cap <= derived:
            out[metric] = (float(cap), f"cap (≤ {fraction:g} × spread {spread:.4g})")
        else:
            out[metric] = (derived, f"{fraction:g} × spread {spread:.4g}" + (f" (< cap {cap:g})" if cap is not None else ""))
    return out


@dataclass(frozen=True)
class CompareRow:
    keys: tuple[str, ...]  # the paper's key cells (e.g. dataset, method)
    metric: str
    paper: str  # as printed
    paper_score: float  # printed / scale
    ours: float | None
    ours_half: float | None
    delta: float | None
    tolerance: float | None
    verdict: str
    reason: str
    dataset: str = ""  # ours
    method: str = ""  # ours
    n: int = 0
    record: str = ""
    tolerance_basis: str = ""


def _reason_unmapped(t: LoadedTable, keys: dict[str, str]) -> str:
    spec = t.spec
    mapped = {e.paper["dataset"] for e in spec.entries if e.paper}
    if keys["dataset"] not in mapped:
        return (
            f"no dataset of profile '{spec.profile}' is mapped to the paper's {keys['dataset']} "
            "(tables.compare.datasets)"
        )
    what = ", ".join(f"{k}={v}" for k, v in keys.items() if k != "dataset")
    return f"not run in profile '{spec.profile}' ({what})"


def shared_run_notes(spec: Any, paper_dir: str | Path) -> dict[tuple[int, str], str]:
    """{(entry index, metric): note} for Table III rows read from the Table I run (`Entry.shared`): the paper
    prints that grid cell apart from its Table I value, so ours cannot match both; the note says by how much the
    paper's own two numbers differ (computed from results/paper/, never typed)."""
    shared = [(i, e) for i, e in enumerate(spec.entries) if getattr(e, "shared", "") and e.paper]
    if not shared:
        return {}
    t1 = load_paper("table1", paper_dir)
    t3 = load_paper("table3", paper_dir)
    notes = {}
    for i, e in shared:
        ds = e.paper["dataset"]
        first = {r["metric"]: r for r in t1.to_dict("records") if r["dataset"] == ds and r["method"] == "lgcaa"}
        own = [r for r in t3.to_dict("records") if r["dataset"] == ds
               and norm_key(r["lambda_1"]) == e.paper["lambda_1"] and norm_key(r["lambda_2"]) == e.paper["lambda_2"]]
        for r in own:
            m = r["metric"]
            if m not in first:
                continue
            delta = float(r["score"]) - float(first[m]["score"])
            unit = " dB" if m == "psnr" else ""
            notes[(i, m)] = (f"the Table I run ({e.shared}, as in the paper: one training); the paper's own cell differs "
                             f"from its Table I value by {delta:+.{_decimals(m)}f}{unit} ({r['value']} vs {first[m]['value']})")
    return notes


def _decimals(metric: str) -> int:
    return metric_spec(metric).decimals


def compare(t: LoadedTable, paper: pd.DataFrame, shared: dict[tuple[int, str], str] | None = None
            ) -> list[CompareRow]:
    """Every paper cell beside ours. `shared`: (entry index, metric) -> note for cells our run shares with another
    table (`shared_run_notes`): shown with Δ, verdict "not comparable" (never a miss), the note as reason."""
    shared = shared or {}
    spec = t.spec
    ptable = PAPER_TABLES[spec.name]
    index: dict[tuple[str, ...], int] = {}
    for i, e in enumerate(spec.entries):
        if e.paper:
            index.setdefault(tuple(norm_key(e.paper[k]) for k in ptable.keys), i)
    not_comparable = f"{spec.profile} profile — not comparable"
    tolerances = table_tolerances(spec.name, paper, spec.tolerances, spec.tolerance_overrides, spec.spread_fraction)
    rows = []
    for r in paper.to_dict("records"):
        keys = {k: str(r[k]) for k in ptable.keys}
        metric = str(r["metric"])
        tol, basis = tolerances.get(metric, (None, ""))
        base = {
            "keys": tuple(keys.values()),
            "metric": metric,
            "paper": str(r["value"]),
            "paper_score": float(r["score"]),
            "tolerance": tol,
            "tolerance_basis": basis,
        }
        i = index.get(tuple(norm_key(v) for v in keys.values()))
        cell: Cell | None = t.cells.get((i, metric)) if i is not None else None
        ours: dict[str, object] = {}
        if i is not None:
            e = spec.entries[i]
            ours = {
                "dataset": e.dataset,
                "method": e.method,
                "n": cell.n if cell else 0,
                "record": str(eval_record_of(e.aggregates[0])),
            }
        if cell is None or not cell.ok or cell.mean is None:
            if i is None:
                why = _reason_unmapped(t, keys)
            elif cell is None:
                why = f"metric '{metric}' is not a column of our {spec.name}"
            else:
                why = f"{cell.reason} — fix: {cell.fix}"
            verdict = "missing" if spec.comparable else "not comparable"
            reason = why if spec.comparable else f"{not_comparable}; ours missing: {why}"
            rows.append(
                CompareRow(ours=None, ours_half=None, delta=None, verdict=verdict, reason=reason, **ours, **base)
            )  # type: ignore[arg-type]
            continue
        delta = cell.mean - base["paper_score"]
        tol = base["tolerance"]
        if not spec.comparable:
            verdict, reason = "not comparable", not_comparable
        elif e.dataset in spec.subsets:
            verdict, reason = "not comparable", f"subset: {spec.subsets[e.dataset]} (datasets.{e.dataset}.limit)"
        elif (i, metric) in shared:
            verdict, reason = "not comparable", shared[(i, metric)]
        elif cell.n_flag:
            verdict, reason = "not comparable", f"image count flagged: {cell.n_flag}"
        elif tol is None:
            verdict, reason = "no tolerance", f"no tolerance for {metric} in tables.compare.tolerances"
        else:
            verdict = "within" if abs(delta) <= tol else "outside"
            reason = ""
        rows.append(
            CompareRow(ours=cell.mean, ours_half=cell.half, delta=delta, verdict=verdict, reason=reason, **ours, **base)
        )  # type: ignore[arg-type]
    return rows


def summary(rows: list[CompareRow]) -> dict[str, int]:
    c = Counter(r.verdict for r in rows)
    return {v: c.get(v, 0) for v in VERDICTS}


def to_csv(rows: list[CompareRow], key_names: tuple[str, ...]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(
        [
            *(f"paper_{k}" for k in key_names),
            "metric",
            "paper",
            "paper_score",
            "ours",
            "ours_half",
            "delta",
            "tolerance",
            "verdict",
            "reason",
            "dataset",
            "method",
            "n",
            "record",
            "tolerance_basis",
        ]
    )
    for r in rows:
        w.writerow(
            [
                *r.keys,
                r.metric,
                r.paper,
                repr(r.paper_score),
                "" if r.ours is None else repr(r.ours),
                "" if r.ours_half is None else repr(r.ours_half),
                "" if r.delta is None else repr(r.delta),
                "" if r.tolerance is None else repr(r.tolerance),
                r.verdict,
                r.reason,
                r.dataset,
                r.method,
                r.n,
                r.record,
                r.tolerance_basis,
            ]
        )
    return buf.getvalue()


def _signed(x: float, metric: str) -> str:
    s = fmt(abs(x), metric)
    return ("+" if x >= 0 else "−") + s


def display_rows(rows: list[CompareRow]) -> list[list[str]]:
    out = []
    for r in rows:
        ours = (
            "—"
            if r.ours is None
            else fmt(r.ours, r.metric) + (f" ± {fmt(r.ours_half, r.metric)}" if r.ours_half else "")
        )
        out.append(
            [
                *r.keys,
                metric_spec(r.metric).label,
                r.paper,
                ours,
                "—" if r.delta is None else _signed(r.delta, r.metric),
                "—" if r.tolerance is None else f"±{r.tolerance:.3g}",
                r.verdict,
                r.reason,
            ]
        )
    return out


def _header(key_names: tuple[str, ...]) -> list[str]:
    return [*(k.replace("_", " ") for k in key_names), "Metric", "Paper", "Ours", "Δ", "Tolerance", "Verdict", "Reason"]


def to_markdown(rows: list[CompareRow], key_names: tuple[str, ...], title: str) -> str:
    s = summary(rows)
    head = _header(key_names)
    lines = [
        f"**{title} — reported vs reproduced** ({len(rows)} paper cells: "
        + ", ".join(f"{n} {v}" for v, n in s.items() if n)
        + ")",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for d in display_rows(rows):
        lines.append("| " + " | ".join(x.replace("|", "\\|") for x in d) + " |")
    return "\n".join(lines) + "\n"


def beside_markdown(rows: list[CompareRow], labels: dict[str, str], dataset_labels: dict[str, str]) -> str:
    """A Markdown section for the table's .md: each of our cells beside the paper's printed cell it is compared
    with (only the paper cells one of our columns maps to; "" when there is none). `labels`: our column labels."""
    mine = [r for r in rows if r.method]
    if not mine:
        return ""
    lines = [
        "",
        ("**Beside the paper's printed numbers** (Δ = ours − paper; tolerances, verdicts and the paper cells we do "
         "not reproduce: the .compare.md next to this file)"),
        "",
        "| Dataset | Metric | Ours: column | Ours | Paper: method key | Paper | Δ | Verdict |",
        "|---|---|---|---:|---|---:|---:|---|",
    ]
    for r in mine:
        ours = "—" if r.ours is None else fmt(r.ours, r.metric)
        delta = "—" if r.delta is None else _signed(r.delta, r.metric)
        cells = [dataset_labels.get(r.dataset, r.dataset), metric_spec(r.metric).label, labels.get(r.method, r.method),
                 ours, " / ".join(r.keys[1:]) or r.keys[0], r.paper, delta, r.verdict]
        lines.append("| " + " | ".join(str(x).replace("|", "\\|") for x in cells) + " |")
    return "\n".join(lines) + "\n"


def to_html(
    rows: list[CompareRow], key_names: tuple[str, ...], title: str, name: str, links: dict[str, str] | None = None
) -> str:
    """An HTML fragment: a collapsible table of every paper cell; our numbers link to their MLflow run."""
    import html

    links = links or {}
    e = html.escape
    s = summary(rows)
    head = _header(key_names)
    out = [
        f'<details class="compare" id="{name}-compare"><summary>{e(title)} — reported vs reproduced: '
        + e(", ".join(f"{n} {v}" for v, n in s.items() if n))
        + "</summary>",
        '<table class="compare">',
        "<thead><tr>" + "".join(f"<th>{e(h)}</th>" for h in head) + "</tr></thead><tbody>",
    ]
    for r, d in zip(rows, display_rows(rows)):
        cells = [e(x) for x in d]
        if r.tolerance_basis:
            cells[len(key_names) + 4] = f'<span title="{e(r.tolerance_basis)}">{cells[len(key_names) + 4]}</span>'
        url = links.get(r.record) if r.ours is not None else None
        if url:
            cells[len(key_names) + 2] = f'<a href="{e(check_url(url, "links"))}">{cells[len(key_names) + 2]}</a>'
        cls = r.verdict.replace(" ", "-")
        out.append(f'<tr class="{cls}">' + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    out += ["</tbody></table>", "</details>"]
    return "\n".join(out) + "\n"
