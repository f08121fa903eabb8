"""The numbers a claim is tested on: per entity and metric, per-image values over seeds, or a point value.

Key: (table, dataset, entity, metric) in the paper's vocabulary — table "table1" | "table2" | "fig8", dataset
the paper's label ("*" for the Fig. 8 dataset), entity a Table I method, a Table II row "MODULE:variant", or a
Fig. 8 point "SERIES@STEPS". Our evaluations become `Values` with an (N images, k seeds) array; the paper's
printed numbers and set-level metrics (FID) are point values only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lgcaa.layout import eval_record_of, per_image_of
from lgcaa.tables.cells import read_aggregate, read_per_image
from lgcaa.tables.spec import CurveSpec, Entry, TableSpec

Key = tuple[str, str, str, str]


@dataclass(frozen=True)
class Values:
    """One entity's numbers for one metric. `point` is the reported mean (over images, then seeds)."""

    point: float | None
    per_image: np.ndarray | None = None  # (N, k): image x seed, images in `images` order
    images: tuple[str, ...] = ()
    reason: str = ""  # why `point` is None
    source: str = ""
    dataset: str = ""  # ours (a profile dataset) where the numbers are ours; "" for the paper's printed numbers

    @property
    def ok(self) -> bool:
        return self.point is not None

    @property
    def resamplable(self) -> bool:
        return self.per_image is not None and self.per_image.shape[0] >= 2


def entity_values(entry: Entry, metric: str) -> Values:
    """Values of `metric` for a table entry (its aggregates, one per seed, with per_image.csv beside them)."""
    aggs = [read_aggregate(p) for p in entry.aggregates]
    stats = [a["metrics"].get(metric) or {} for a in aggs]
    source = str(eval_record_of(entry.aggregates[0]))
    bad = [s for s in stats if s.get("status") != "ok"]
    if bad:
        why = bad[0].get("reason") or f"metric '{metric}' was not evaluated"
        return Values(None, reason=why, source=source, dataset=entry.dataset)
    point = float(np.mean([float(s["mean"]) for s in stats]))
    columns = [read_per_image(per_image_of(p)).get(metric, {}) for p in entry.aggregates]
    if not all(columns):
        return Values(point, source=source, dataset=entry.dataset)
    images = sorted(set.intersection(*(set(c) for c in columns)))
    arr = np.array([[c[i] for c in columns] for i in images], dtype=np.float64).reshape(len(images), len(columns))
    return Values(point, arr, tuple(images), source=source, dataset=entry.dataset)


def reproduced_scores(tables: list[TableSpec], curve: CurveSpec | None, metrics: set[str] | None = None) -> dict[Key, Values]:
    """Our numbers for every entry that maps to a paper key (tables.compare / Table II-III paper keys)."""
    out: dict[Key, Values] = {}
    for spec in tables:
        for e in spec.entries:
            if not e.paper:
                continue
            if spec.name == "table1":
                entity = e.paper["method"]
            elif spec.name == "table2":
                entity = f"{e.paper['module']}:{e.paper['variant']}"
            else:
                continue
            for m in spec.metrics:
                if metrics is None or m in metrics:
                    out.setdefault((spec.name, e.paper["dataset"], entity, m), entity_values(e, m))
    if curve is not None:
        for key, pts in zip(curve.keys, curve.series):
            for steps, e in pts[1]:
                for m in ("psnr", "lpips"):
                    if metrics is None or m in metrics:
                        out[("fig8", "*", f"{key}@{steps}", m)] = entity_values(e, m)
    return out


def paper_scores(paper_dir: str | Path) -> dict[Key, Values]:
    """The paper's printed Tables I and II as point values (Fig. 8 prints no numbers)."""
    from lgcaa.tables.paper import load_paper

    out: dict[Key, Values] = {}
    src = str(paper_dir)
    for r in load_paper("table1", paper_dir).to_dict("records"):
        out[("table1", r["dataset"], r["method"], r["metric"])] = Values(float(r["score"]), source=src)
    for r in load_paper("table2", paper_dir).to_dict("records"):
        key = ("table2", r["dataset"], f"{r['module']}:{r['variant']}", r["metric"])
        out[key] = Values(float(r["score"]), source=src)
    return out


def claim_tolerances(tables: list[TableSpec], paper_dir: str | Path) -> dict[tuple[str, str], float]:
    """{(table, metric): tolerance} a refutation must exceed: each table's own tolerances, exactly as the
    reported-vs-reproduced comparison computes them (`lgcaa.tables.compare.table_tolerances`); Fig. 8 (no printed
    numbers, so no spread) takes the profile's caps (`tables.compare.tolerances`)."""
    from lgcaa.tables.compare import table_tolerances
    from lgcaa.tables.paper import load_paper

    out: dict[tuple[str, str], float] = {}
    for spec in tables:
        tol = table_tolerances(spec.name, load_paper(spec.name, paper_dir), spec.tolerances,
                               spec.tolerance_overrides, spec.spread_fraction)
        out.update({(spec.name, m): t for m, (t, _) in tol.items()})
    if tables:
        out.update({("fig8", m): float(t) for m, t in tables[0].tolerances.items()})
    return out
