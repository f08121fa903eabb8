"""Reported vs reproduced: every cell the paper prints next to ours, with delta and verdict.

Only like is compared with like. A profile that is not comparable (`comparable_to_paper` false, e.g. mini) is never
set beside the paper: `compare` gives no rows and every rendering says so in one sentence (`not_comparable_sentence`).
In a comparable profile one of our cells is set beside a paper cell only where our dataset *is* the paper's set (the
same registry set with its released LR: `TableSpec.paper_sets`); a stand-in mapped to a paper set by
`tables.compare.datasets` (or a table's `paper_dataset`) is never set beside it.

Verdicts, in the order they are decided:
  not comparable  our dataset stands in for the paper's set but is not it (ours is not shown)
  missing         nothing of ours corresponds to the paper cell, or our metric is missing (the reason says why)
  not comparable  a stated subset (`datasets.<d>.limit`: the same set, fewer images; Δ shown, never judged), the
                  Table I run read by Table III (`shared_run_notes`), or our image count is flagged
  no tolerance    no tolerance configured for the metric
  within/outside  |ours - paper| <= tolerance (per table and metric, in the metric's units)

Tolerances are per table and never wider than the table's own spread: a metric's tolerance is the table's own
value when the profile gives one (`tables.<table>.tolerances`), else min(cap, f x spread), where the cap is
`tables.compare.tolerances` (or the default), f is `tables.compare.spread_fraction` (0.25) and spread is the
smallest range (max - min) of the metric among the paper's values within one group of the table (Table I: a
dataset; Table II: a module; Table III: the whole grid). Example: Table II's LPIPS range is 0.0127 in the DPACM
block, so its tolerance is 0.0032, not the 0.02 cap. The basis of each tolerance is written beside it.

Renderings: the long per-cell table (every paper cell: `to_csv`, `to_markdown`) and the compact one the tables
and the report show first (`beside`: our cells with a paper counterpart, paper | ours | Δ | verdict, coloured by
verdict with the palette of `lgcaa.report.style`).
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
from lgcaa.report.links import check_link
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
    entry: int = -1  # the index of our entry in the table's spec (-1: none)


# the profile that sets Table I's RealSR and DRealSR cells beside the paper's on a CPU (lgcaa/profiles)
REAL_PROFILE = "real"


def not_comparable_sentence(profile: str) -> str:
    """What every comparison of a profile that is not comparable to the paper says instead of numbers."""
    return (f"Profile {profile} is a pipeline check, not comparable to the paper (comparable_to_paper: false): its "
            "numbers are not set beside the paper's (run "
            f"`snakemake --cores 8 tables --config profile={REAL_PROFILE}` for the paper's RealSR and DRealSR cells "
            "beside ours).")


def is_paper_set(spec: Any, e: Any) -> bool:
    """Whether entry `e`'s dataset is the very set of the paper cell it is mapped to (not a stand-in)."""
    return bool(e.paper) and spec.paper_sets.get(e.dataset) == e.paper["dataset"]


def _unmapped(t: LoadedTable, keys: dict[str, str]) -> tuple[str, str]:
    """(verdict, reason) of a paper cell no entry of ours is set beside."""
    spec = t.spec
    stand_ins = sorted({spec.dataset_labels.get(e.dataset, e.dataset) for e in spec.entries
                        if e.paper and e.paper["dataset"] == keys["dataset"] and not is_paper_set(spec, e)})
    if stand_ins:
        return "not comparable", (f"{', '.join(stand_ins)} is mapped to the paper's {keys['dataset']} but is not "
                                  "that set (another source or LR): a stand-in is never set beside the paper's numbers")
    mapped = {e.paper["dataset"] for e in spec.entries if e.paper}
    if keys["dataset"] not in mapped:
        return "missing", (
            f"no dataset of profile '{spec.profile}' is mapped to the paper's {keys['dataset']} "
            "(tables.compare.datasets)"
        )
    what = ", ".join(f"{k}={v}" for k, v in keys.items() if k != "dataset")
    return "missing", f"not run in profile '{spec.profile}' ({what})"


def shared_run_notes(spec: Any, paper_dir: str | Path) -> dict[tuple[int, str], str]:
    """{(entry index, metric): note} for Table III rows read from the Table I run (`Entry.shared`): the paper
    prints that grid cell apart from its Table I value, so ours cannot match both; the note says by how much the
    paper's own two numbers differ (computed from results/paper/, never typed)."""
    shared = [(i, e) for i, e in enumerate(spec.entries) if getattr(e, "shared", "") and e.paper]
    if not shared:
        return {}
    if not spec.comparable:  # the mark's note without the paper's numbers (never set beside ours)
        return {(i, m): f"the Table I run ({e.shared}, as in the paper: one training)" for i, e in shared
                for m in spec.metrics}
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
    """Every paper cell beside ours; no rows at all for a profile that is not comparable. `shared`: (entry index,
    metric) -> note for cells our run shares with another table (`shared_run_notes`): shown with Δ, verdict "not
    comparable" (never a miss), the note as reason."""
    shared = shared or {}
    spec = t.spec
    if not spec.comparable:
        return []
    ptable = PAPER_TABLES[spec.name]
    index: dict[tuple[str, ...], int] = {}
    for i, e in enumerate(spec.entries):
        if is_paper_set(spec, e):
            index.setdefault(tuple(norm_key(e.paper[k]) for k in ptable.keys), i)
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
                "entry": i,
            }
        if cell is None or not cell.ok or cell.mean is None:
            if i is None:
                verdict, why = _unmapped(t, keys)
            elif cell is None:
                verdict, why = "missing", f"metric '{metric}' is not a column of our {spec.name}"
            else:
                verdict, why = "missing", f"{cell.reason} — fix: {cell.fix}"
            rows.append(
                CompareRow(ours=None, ours_half=None, delta=None, verdict=verdict, reason=why, **ours, **base)
            )  # type: ignore[arg-type]
            continue
        delta = cell.mean - base["paper_score"]
        tol = base["tolerance"]
        if e.dataset in spec.subsets:
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


def _ours_text(r: CompareRow) -> str:
    """Our mean ("± half-width" over seeds when k > 1), "—" when we have none."""
    if r.ours is None:
        return "—"
    return fmt(r.ours, r.metric) + (f" ± {fmt(r.ours_half, r.metric)}" if r.ours_half else "")


def _delta_text(r: CompareRow) -> str:
    return "—" if r.delta is None else _signed(r.delta, r.metric)


def display_rows(rows: list[CompareRow]) -> list[list[str]]:
    out = []
    for r in rows:
        out.append(
            [
                *r.keys,
                metric_spec(r.metric).label,
                r.paper,
                _ours_text(r),
                _delta_text(r),
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


def beside(rows: list[CompareRow], spec: Any) -> tuple[tuple[str, ...], list[tuple[tuple[str, ...], CompareRow]]]:
    """The compact comparison: (label headers, [(label cells, row)]) for each of our cells that has a paper
    counterpart (the paper's order). Labels come from the spec: our dataset, then Table I's method column and the
    paper's method it is compared with, or a Table II/III row's own cells (its keys are the paper's)."""
    grid = spec.layout == "grid"
    headers = ("Dataset", "Method", "Paper's method") if grid else ("Dataset", *spec.row_headers)
    out = []
    for r in rows:
        if r.entry < 0:
            continue
        e = spec.entries[r.entry]
        labels = (e.label, " / ".join(r.keys[1:])) if grid else e.row
        out.append(((spec.dataset_labels.get(e.dataset, e.dataset), *labels), r))
    return headers, out


def _beside_cells(r: CompareRow) -> tuple[str, str, str, str, str]:
    """Metric, paper, ours, Δ, verdict as text."""
    return metric_spec(r.metric).label, r.paper, _ours_text(r), _delta_text(r), r.verdict


BESIDE_HEAD = ("Metric", "Paper", "Ours", "Δ", "Verdict")


def _beside_title(spec: Any, shown: list[tuple[tuple[str, ...], CompareRow]]) -> str:
    s = summary([r for _, r in shown])
    return (f"{spec.title} beside the paper: {len(shown)} cells, "
            + ", ".join(f"{n} {v}" for v, n in s.items() if n))


def beside_markdown(rows: list[CompareRow], spec: Any, long_name: str) -> str:
    """The table's .md section: paper | ours | Δ | verdict for each of our cells with a paper counterpart, or the
    one sentence of a profile that is not comparable. `long_name`: the file of every paper cell (CSV)."""
    if not spec.comparable:
        return "\n" + not_comparable_sentence(spec.profile) + "\n"
    headers, shown = beside(rows, spec)
    if not shown:
        return f"\nNo cell of ours has a counterpart in the paper's {spec.name} (every paper cell: {long_name}).\n"
    head = (*headers, *BESIDE_HEAD)
    lines = ["", (f"**{_beside_title(spec, shown)}** (Δ = ours − paper; the verdict uses the table's tolerance; "
                  f"every paper cell with its tolerance and reason: {long_name})"), "",
             "| " + " | ".join(head) + " |", "|" + "---|" * (len(headers) + 1) + "---:|" * 3 + "---|"]
    for labels, r in shown:
        lines.append("| " + " | ".join(str(x).replace("|", "\\|") for x in (*labels, *_beside_cells(r))) + " |")
    return "\n".join(lines) + "\n"


def beside_html(rows: list[CompareRow], spec: Any, links: dict[str, str] | None = None) -> str:
    """An HTML fragment: paper | ours | Δ | verdict for each of our cells with a paper counterpart, each row coloured
    by its verdict (CSS class = verdict; palette `lgcaa.report.style.VERDICT_RGB`); our numbers link to their MLflow
    run, the tolerance and reason show on hover. Not comparable: the one sentence, no number."""
    import html

    e = html.escape
    anchor = f'id="{spec.name}-compare"'
    if not spec.comparable:
        return f'<p class="pipeline-check" {anchor}>{e(not_comparable_sentence(spec.profile))}</p>\n'
    headers, shown = beside(rows, spec)
    if not shown:
        return f'<p class="note" {anchor}>No cell of ours has a counterpart in the paper\'s {e(spec.name)}.</p>\n'
    links = links or {}
    out = [f'<table class="beside" {anchor}><caption>{e(_beside_title(spec, shown))}</caption>',
           "<thead><tr>" + "".join(f"<th>{e(h)}</th>" for h in (*headers, *BESIDE_HEAD)) + "</tr></thead><tbody>"]
    for labels, r in shown:
        metric, paper, ours, delta, verdict = (e(x) for x in _beside_cells(r))
        url = links.get(r.record) if r.ours is not None else None
        if url:
            ours = f'<a href="{e(check_link(url, "links"))}">{ours}</a>'
        tol = "" if r.tolerance is None else f"tolerance ±{r.tolerance:.3g} ({r.tolerance_basis})"
        why = "; ".join(x for x in (tol, r.reason) if x)
        cells = [*(f'<td class="label">{e(x)}</td>' for x in (*labels, metric)), f"<td>{paper}</td>",
                 f"<td>{ours}</td>", f"<td>{delta}</td>", f'<td class="verdict" title="{e(why)}">{verdict}</td>']
        out.append(f'<tr class="{r.verdict.replace(" ", "-")}">' + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "\n".join(out) + "\n"


def download_html(href: str) -> str:
    """The link to the long per-cell comparison (every paper cell with its tolerance and reason: a CSV download);
    `href` relative to the page that shows it."""
    import html

    name = html.escape(href.rsplit("/", 1)[-1])
    return (f'<p class="note">Every paper cell, with its tolerance and reason (CSV): <a href="{html.escape(href)}" '
            f"download>{name}</a></p>\n")
