"""Machine-readable outputs of a table: the long CSV (one row per cell, with intervals) and headline metrics.

The long CSV carries everything the displayed tables leave out: per-seed means, the seed t-interval, the
bootstrap-over-images interval, N and its flag, the rank mark, the missing reason, the lock and the job
records. The headline JSON (NAME.metrics.json) holds the means of the cells that are ok, and the compare
verdict counts; `headline_files` turns Table I's into the compact view `dvc metrics show` prints.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from lgcaa.metrics.registry import get as metric_spec
from lgcaa.tables.cells import LoadedTable
from lgcaa.tables.grid import Grid

LONG_COLUMNS = (
    "table",
    "dataset",
    "method",
    "label",
    "keys",
    "metric",
    "direction",
    "status",
    "mean",
    "k",
    "seeds",
    "seed_means",
    "seed_ci_low",
    "seed_ci_high",
    "boot_ci_low",
    "boot_ci_high",
    "boot_note",
    "n",
    "n_flag",
    "mark",
    "reason",
    "fix",
    "lock",
    "records",
)


def _r(x: float | None) -> str:
    return "" if x is None else repr(x)


def to_long_csv(t: LoadedTable, grid: Grid) -> str:
    marks = {}
    for row in grid.rows:
        for c, mk in zip(row.cells, row.marks):
            marks[(c.dataset, c.method, c.metric)] = mk
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(LONG_COLUMNS)
    spec = t.spec
    for i, e in enumerate(spec.entries):
        for metric in spec.metrics:
            c = t.cell(i, metric)
            lo = hi = None
            if c.mean is not None and c.half is not None:
                lo, hi = c.mean - c.half, c.mean + c.half
            w.writerow(
                [
                    spec.name,
                    e.dataset,
                    e.method,
                    e.label,
                    "/".join(e.key),
                    metric,
                    "lower" if metric_spec(metric).lower_better else "higher",
                    c.status,
                    _r(c.mean),
                    len(e.seeds),
                    ";".join(map(str, e.seeds)),
                    ";".join(map(repr, c.seed_means)),
                    _r(lo),
                    _r(hi),
                    _r(c.boot[0] if c.boot else None),
                    _r(c.boot[1] if c.boot else None),
                    c.boot_note,
                    c.n,
                    c.n_flag,
                    marks.get((e.dataset, e.method, metric), ""),
                    c.reason,
                    c.fix,
                    t.lock,
                    ";".join(c.records),
                ]
            )
    return buf.getvalue()


def headline(t: LoadedTable, verdicts: dict[str, int] | None = None) -> dict[str, Any]:
    """{dataset: {method: {metric: mean}}} for ok cells, plus {"compare": verdict counts}."""
    out: dict[str, Any] = {}
    for i, e in enumerate(t.spec.entries):
        for metric in t.spec.metrics:
            c = t.cell(i, metric)
            if c.ok and c.mean is not None:
                out.setdefault(e.dataset, {}).setdefault(e.method, {})[metric] = round(c.mean, 6)
    if verdicts is not None:
        out["compare"] = verdicts
    return out


# ------------------------------------------------------------------------------- compact DVC metrics (headline)

VERDICTS = ("supported", "refuted", "inconclusive")
# The columns of the compact view: the two fidelity metrics the paper's main claims rest on, the two full-reference
# perceptual metrics (LPIPS is Fig. 8's axis) and NIQE, the no-reference metric that runs offline. The full nine
# stay in the tables; five keep `dvc metrics show` within 120 columns.
HEADLINE_METRICS = ("psnr", "ssim", "lpips", "dists", "niqe")


def verdict_counts(claims: Any) -> dict[str, int]:
    """{verdict: count} from a claims result: a list of claims, or {"claims": [...]}, each with a "verdict"."""
    items = claims.get("claims", []) if isinstance(claims, dict) else claims
    counts = {v: 0 for v in VERDICTS}
    for c in items:
        verdict = str(c.get("verdict", "")).lower()
        counts[verdict] = counts.get(verdict, 0) + 1
    return counts


def headline_files(headline_json: dict[str, Any], claims: Any = None, digits: int = 4,
                   metrics: tuple[str, ...] = HEADLINE_METRICS) -> dict[str, dict[str, Any]]:
    """The compact metrics `dvc metrics show` prints: {relative path: content}.

    One `<dataset>/<method>.json` per Table I row ({metric: mean} for the headline metrics that are ok, `digits`
    decimals) and, when claims were evaluated, one `claims/<verdict>.json` ({"claims": count}) per verdict (a
    profile's pipeline checks — `scope` "pipeline check" — under `pipeline-checks/` instead). DVC
    prints one row per file and one column per key, so this reads as a long table — rows dataset/method, columns
    metrics — instead of one ~67-column row per table."""
    out: dict[str, dict[str, Any]] = {}
    for dataset, methods in headline_json.items():
        if dataset == "compare" or not isinstance(methods, dict):
            continue
        for method, values in methods.items():
            kept = {m: round(float(values[m]), digits) for m in metrics if m in values}
            if kept:
                out[f"{dataset}/{method}.json"] = kept
    if claims is not None:
        items = claims.get("claims", []) if isinstance(claims, dict) else claims
        # a pipeline check (mini: not comparable to the paper) is kept out of the claim counts
        checks = [c for c in items if c.get("scope") == "pipeline check"]
        paper = [c for c in items if c.get("scope") != "pipeline check"]
        if paper or not checks:
            out.update({f"claims/{v.replace(' ', '-')}.json": {"claims": n} for v, n in verdict_counts(paper).items()})
        if checks:
            out.update({f"pipeline-checks/{v.replace(' ', '-')}.json": {"claims": n}
                        for v, n in verdict_counts(checks).items()})
    return out


def _mlflow_key(text: str) -> str:
    """A name MLflow accepts as a metric or tag key (letters, digits, _ - . space / :); others become '_'."""
    import re

    return re.sub(r"[^\w.\- :/]", "_", text)


def cell_values(t: LoadedTable) -> dict[str, float]:
    """Every ok cell the table rendered, as flat MLflow metrics `cell.<dataset>.<method>.<metric>` (the mean over
    seeds; `cell.….half` its seed half-width when k > 1)."""
    out: dict[str, float] = {}
    for c in t.cells.values():
        if c.status != "ok" or c.mean is None:
            continue
        key = _mlflow_key(f"cell.{c.dataset}.{c.method}.{c.metric}")
        out[key] = float(c.mean)
        if c.half is not None:
            out[key + ".half"] = float(c.half)
    return out


def cell_upstream(t: LoadedTable) -> dict[str, str]:
    """{role: eval job record} of every evaluation behind a cell: role `eval:<dataset>/<method>` (`#<i>` per seed
    when a cell averages several)."""
    out: dict[str, str] = {}
    for c in t.cells.values():
        for i, rec in enumerate(c.records):
            role = f"eval:{c.dataset}/{c.method}" + (f"#{i}" if len(c.records) > 1 else "")
            out.setdefault(_mlflow_key(role), str(rec))
    return out
