"""The profile's `tables` section, read once into typed parts.

`tables_of(cfg)` is the one reader of the section's structure (`lgcaa/profiles/schema.json`, `tables`): the
profile's validation (`lgcaa.config`: the names the tables refer to, the cells no job produces, the runs that
Table II/III rows read), the table specs (`lgcaa.tables.spec`), the figure specs (`lgcaa.figures.spec`: Table I's
grid, Table II's rows) and the claims' bootstrap (`lgcaa.claims.evaluate.claims_bootstrap`) use what it returns,
never the raw dict. It reads; what must hold across sections (a dataset in `datasets`, a method some job
produces) the callers check.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from lgcaa.tables.paper import TABLE3_COLUMNS


@dataclass(frozen=True)
class AblationRow:
    """A Table II row: the module and variant the paper prints, the method (run output) it reads."""

    module: str
    variant: str
    method: str
    label: str | None = None  # the profile's own row label


@dataclass(frozen=True)
class WeightRow:
    """A Table III row: the paper's two printed weight columns (which is which: `Tables.columns`), its method."""

    lambda_1: float
    lambda_2: float
    method: str


@dataclass(frozen=True)
class Point:
    """A point of a Fig. 8 series: the sampling-step count and the method sampled with it."""

    steps: int
    method: str


@dataclass(frozen=True)
class Series:
    label: str
    key: str  # the paper's method key (claims); default its label
    points: tuple[Point, ...]  # as configured


@dataclass(frozen=True)
class Grid:
    """Table I: every dataset x every method."""

    datasets: tuple[str, ...] = ()
    methods: tuple[str, ...] = ()
    tolerances: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class RowTable:
    """Table II or III: one dataset, one row per method."""

    dataset: Any  # a dataset name (the schema requires it; `lgcaa.tables.spec` names what is not one)
    rows: tuple[Any, ...]  # AblationRow (Table II) | WeightRow (Table III)
    paper_dataset: str | None = None
    metrics: tuple[str, ...] | None = None
    tolerances: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Curves:
    """Fig. 8's sampling-step sweep: one dataset, series of points."""

    dataset: Any
    series: tuple[Series, ...]


@dataclass(frozen=True)
class Tables:
    """The `tables` section. An absent (or empty) Table II, III or curve section is None."""

    table1: Grid
    table2: RowTable | None
    table3: RowTable | None
    curves: Curves | None
    columns: tuple[str, ...]  # which weight each printed Table III column is (`tables.table3.columns`)
    compare_datasets: dict[str, str]  # `tables.compare.datasets`: ours -> the paper's
    compare_methods: dict[str, str]  # `tables.compare.methods`
    compare_tolerances: dict[str, float]  # `tables.compare.tolerances`: the caps
    spread_fraction: float | None  # `tables.compare.spread_fraction` (None: the default)
    bootstrap: dict[str, Any]
    labels: dict[str, str]

    def sections(self) -> Iterator[tuple[str, RowTable | Curves]]:
        """(name, section) of the configured one-dataset sections: table2, table3, curves."""
        for name, section in (("table2", self.table2), ("table3", self.table3), ("curves", self.curves)):
            if section is not None:
                yield name, section

    def cells(self) -> Iterator[tuple[str, str, str]]:
        """(where, dataset, method) for every cell a table reads."""
        for ds in self.table1.datasets:
            for m in self.table1.methods:
                yield "tables/table1", ds, m
        for name, section in self.sections():
            for m in _methods(section):
                yield f"tables/{name}", section.dataset, m

    def references(self) -> Iterator[tuple[str, str, str]]:
        """(where, kind, name) for every dataset and method the section names."""
        yield from (("tables/table1", "dataset", ds) for ds in self.table1.datasets)
        yield from (("tables/table1", "method", m) for m in self.table1.methods)
        for name, section in self.sections():
            yield f"tables/{name}", "dataset", section.dataset
            yield from ((f"tables/{name}", "method", m) for m in _methods(section))
        yield from (("tables/compare", "dataset", ds) for ds in self.compare_datasets)
        yield from (("tables/compare", "method", m) for m in self.compare_methods)


def _methods(section: RowTable | Curves) -> list[str]:
    if isinstance(section, Curves):
        return [p.method for s in section.series for p in s.points]
    return [r.method for r in section.rows]


def ablation_row(row: Mapping[str, Any]) -> AblationRow:
    """A configured Table II row."""
    return AblationRow(row["module"], row["variant"], row["method"], row.get("label"))


def _weight_row(row: Mapping[str, Any]) -> WeightRow:
    return WeightRow(float(row["lambda_1"]), float(row["lambda_2"]), row["method"])


def _row_table(section: Mapping[str, Any] | None, read_row: Any) -> RowTable | None:
    if not section:
        return None
    metrics = section.get("metrics")
    return RowTable(section.get("dataset"), tuple(read_row(r) for r in section.get("rows", [])),
                    section.get("paper_dataset"), None if metrics is None else tuple(metrics),
                    dict(section.get("tolerances", {})))


def _curves(section: Mapping[str, Any] | None) -> Curves | None:
    if not section:
        return None
    series = tuple(Series(str(s["label"]), str(s.get("key", s["label"])),
                          tuple(Point(int(p["steps"]), p["method"]) for p in s["points"]))
                   for s in section.get("series", []))
    return Curves(section.get("dataset"), series)


def tables_of(cfg: Mapping[str, Any]) -> Tables:
    """The profile's `tables` section (absent: every table empty), read once."""
    tables = cfg.get("tables", {})
    t1 = tables.get("table1", {})
    compare = tables.get("compare", {})
    return Tables(
        table1=Grid(tuple(t1.get("datasets", [])), tuple(t1.get("methods", [])), dict(t1.get("tolerances", {}))),
        table2=_row_table(tables.get("table2"), ablation_row),
        table3=_row_table(tables.get("table3"), _weight_row),
        curves=_curves(tables.get("curves")),
        columns=tuple((tables.get("table3") or {}).get("columns", TABLE3_COLUMNS)),
        compare_datasets=dict(compare.get("datasets", {})),
        compare_methods=dict(compare.get("methods", {})),
        compare_tolerances=dict(compare.get("tolerances", {})),
        spread_fraction=compare.get("spread_fraction"),
        bootstrap=dict(tables.get("bootstrap", {})),
        labels=dict(tables.get("labels", {})),
    )
