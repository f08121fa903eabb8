"""What each table is made of: entries (a dataset x method evaluated with k seeds) and their paper cells.

`build_spec(cfg, name)` turns a validated profile config into a `TableSpec`. Snakemake uses it to declare
the rule's inputs, and the CLI reads it back from JSON to render the table, so the DAG and the renderer
agree by construction. Config fields read here (all optional except `tables.table1`):

    seeds:  {"k": 3, "methods": ["lgcaa", ...]}          # diffusion methods run with k seeds
    tables.table1: {"datasets": [...], "methods": [...]}
    tables.table2: {"dataset": D, "rows": [{"module": "LGCAA", "variant": "local", "method": M}, ...],
                    "paper_dataset": "RealSR"}    # optional; default: tables.compare.datasets[D]
    tables.table3: {"dataset": D, "rows": [{"lambda_1": 2.0, "lambda_2": 0.1, "method": M}, ...],
                    "columns": ["lambda_w", "lambda_p"]}  # rows as printed; which weight each column is
                    (the runs train with the weights the reading gives their row: lgcaa.config)
    tables.curves: {"dataset": D, "series": [{"label": "LGCAA", "points": [{"steps": 30, "method": M}, ...]}]}
    tables.compare: {"datasets": {ours: paper dataset}, "methods": {ours: paper method}, "tolerances": {...},
                     "spread_fraction": 0.25}
                    (methods default: a Table I baseline's own paper key; tolerances: the metric registry's —
                    caps: see lgcaa.tables.compare)
    tables.<table>.tolerances: {metric: value}        # this table's own tolerances, used as given
    tables.bootstrap: {"n": 1000, "seed": 0, "level": 0.95}
    tables.labels: {method: column label}   (default: a Table I baseline's paper label, else the name)

Seed instances (`lgcaa.instances.seed_instances`): with k seeds, method M is run as `M` (the profile seed s) and
`M@seed<s+i>` for i = 1..k-1; an entry reads one aggregate per instance.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from baselines.registry import BASELINES, paper_key
from lgcaa.config import expected_pairs
from lgcaa.data.registry import DATASETS
from lgcaa.errors import UserError
from lgcaa.instances import model_sample_jobs, seed_instances
from lgcaa.layout import Layout, per_image_of
from lgcaa.metrics.registry import DEFAULT_TOLERANCES
from lgcaa.model.variants import ATTENTION_VARIANTS
from lgcaa.tables.paper import PAPER_TABLES, TABLE3_COLUMNS
from lgcaa.tables.section import AblationRow, Grid, RowTable, WeightRow, ablation_row, tables_of

TABLE_NAMES = tuple(PAPER_TABLES)  # table1, table2, table3
DEFAULT_BOOTSTRAP = {"n": 1000, "seed": 0, "level": 0.95}
DEFAULT_SPREAD_FRACTION = 0.25  # a derived tolerance is at most this share of the paper table's own spread


@dataclass(frozen=True)
class Entry:
    """One reproduced row/column: `method` on `dataset`, one aggregate per seed."""

    dataset: str
    method: str
    label: str
    aggregates: tuple[str, ...]
    seeds: tuple[int, ...]
    paper: dict[str, str] | None = None  # paper key columns (e.g. {"dataset": "RealSR", "method": "lgcaa"})
    row: tuple[str, ...] = ()  # "rows" layout: displayed leading cells (e.g. ("LGCAA", "Local"))
    key: tuple[str, ...] = ()  # "rows" layout: machine keys of the row (e.g. ("LGCAA", "local"))
    group: str = ""  # best/second are ranked within a group ("rows" layout)
    shared: str = ""  # the Table I method whose run this row reads (Table III's full-model cell), else ""


@dataclass(frozen=True)
class TableSpec:
    name: str
    title: str
    layout: str  # "grid": rows = dataset x metric, columns = entries | "rows": rows = entries, columns = metrics
    metrics: tuple[str, ...]
    entries: tuple[Entry, ...]
    row_headers: tuple[str, ...] = ()  # "rows" layout: headers of the displayed leading cells
    key_headers: tuple[str, ...] = ()  # "rows" layout: names of the machine keys (CSV columns)
    dataset_labels: dict[str, str] = field(default_factory=dict)
    expected: dict[str, int] = field(default_factory=dict)  # dataset -> expected image count
    profile: str = ""
    comparable: bool = False
    note: str = ""  # shown under the table (e.g. "not configured")
    bootstrap: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_BOOTSTRAP))
    tolerances: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_TOLERANCES))  # caps (all tables)
    # this table's own tolerances (`tables.<name>.tolerances`), used as given; other metrics get
    # min(cap, spread_fraction x the metric's spread in the paper's table) (lgcaa.tables.compare)
    tolerance_overrides: dict[str, float] = field(default_factory=dict)
    spread_fraction: float = DEFAULT_SPREAD_FRACTION
    subsets: dict[str, str] = field(default_factory=dict)  # dataset -> "first N of M pairs by file name" (limit)
    # dataset -> the paper's name of the set it *is* (a registry set with its released LR: `paper_set`); only these
    # are ever set beside the paper's cells (lgcaa.tables.compare), never a stand-in mapped by tables.compare
    paper_sets: dict[str, str] = field(default_factory=dict)

    @property
    def aggregates(self) -> list[str]:
        return [a for e in self.entries for a in e.aggregates]

    @property
    def inputs(self) -> list[str]:
        """Every evaluation file the table's readers open (aggregates and per-image scores): its rule's inputs."""
        return eval_inputs(self.aggregates)

    @property
    def datasets(self) -> list[str]:
        return list(dict.fromkeys(e.dataset for e in self.entries))

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))


def eval_inputs(aggregates: list[str]) -> list[str]:
    """The aggregates and, beside each, the per-image scores (lgcaa.layout.per_image_of): what tables, curves,
    figures, claims and the report read of an evaluation, so their rules depend on all of it — a rerun after a
    kill that left an evaluation folder incomplete reruns that evaluation, never builds on what is missing."""
    return [*aggregates, *(str(per_image_of(a)) for a in aggregates)]


def _entry(cfg: dict[str, Any], dataset: str, method: str, label: str, **kw: Any) -> Entry:
    inst = seed_instances(cfg, method)
    layout = Layout.of(cfg)
    return Entry(
        dataset=dataset,
        method=method,
        label=label,
        aggregates=tuple(layout.aggregate(dataset, i) for _, i in inst),
        seeds=tuple(s for s, _ in inst),
        **kw,
    )


def method_label(cfg: dict[str, Any], method: str) -> str:
    """A method's column label: `tables.labels`, else its paper label (Table I baselines), else its name."""
    label = tables_of(cfg).labels.get(method)
    if label is None and method in BASELINES:
        label = BASELINES[method].paper_label or BASELINES[method].label
    return label or method


def paper_method(cfg: dict[str, Any], method: str) -> str | None:
    """The paper's Table I key of a method: `tables.compare.methods`, else a Table I baseline's own key."""
    key = tables_of(cfg).compare_methods.get(method)
    if key is None and method in BASELINES:
        key = paper_key(BASELINES[method])
    return key


def _require_dataset(cfg: dict[str, Any], where: str, dataset: Any) -> str:
    if dataset not in cfg["datasets"]:
        raise UserError(
            f"config tables/{where}: dataset {dataset!r} is not in 'datasets' "
            f"({', '.join(cfg['datasets'])}); fix the profile"
        )
    return str(dataset)


def _registry_paper_label(cfg: dict[str, Any], dataset: str) -> str | None:
    """The paper's name of a profile dataset that is a released registry set (regenerated LR is not the paper's)."""
    entry = cfg["datasets"][dataset]
    spec = DATASETS.get(entry["source"])
    return spec.paper_label if spec is not None and entry["lr"] == "released" else None


def paper_set(cfg: dict[str, Any], dataset: str) -> str | None:
    """The paper's name of the set a profile dataset is: a registry set with its released LR, whole or cut to its
    first N pairs (`limit`); None for anything else (generated or regenerated LR, a folder, chosen images)."""
    entry = cfg["datasets"][dataset]
    return None if entry.get("subset") or entry.get("lr_only") else _registry_paper_label(cfg, dataset)


def dataset_label(cfg: dict[str, Any], dataset: str) -> str:
    """A dataset's label: its profile `label`, else its paper name (released registry sets), else its name."""
    return cfg["datasets"][dataset].get("label") or _registry_paper_label(cfg, dataset) or dataset


def _paper_dataset(cfg: dict[str, Any], dataset: str) -> str | None:
    """The paper's dataset a profile dataset is compared with: `tables.compare.datasets`, else its registry's."""
    mapped = tables_of(cfg).compare_datasets
    return mapped[dataset] if dataset in mapped else _registry_paper_label(cfg, dataset)


def subsets(cfg: dict[str, Any]) -> dict[str, str]:
    """{dataset: "the first N of M pairs sorted by file name"} for the profile's datasets with a `limit`."""
    out = {}
    for d, v in cfg["datasets"].items():
        if v.get("limit"):
            spec = DATASETS.get(v["source"])
            of = f" of {spec.expected_count}" if spec is not None else ""
            out[d] = f"the first {v['limit']}{of} pairs sorted by file name"
    return out


def subset_note(cfg: dict[str, Any]) -> str:
    """The footer line stating the subsets (`datasets.<d>.limit`): which sets hold only their first N pairs."""
    parts = [f"{dataset_label(cfg, d)}: {what}" for d, what in subsets(cfg).items()]
    return ("Subset (datasets.<name>.limit; not comparable to the paper's full-set means): " + "; ".join(parts)
            if parts else "")


def row_label(row: AblationRow | dict[str, Any]) -> str:
    """A Table II row's label: the profile's, else the attention variant's registry label, else the variant."""
    if not isinstance(row, AblationRow):
        row = ablation_row(row)
    if row.label is not None:
        return str(row.label)
    if row.module == "LGCAA" and row.variant in ATTENTION_VARIANTS:
        return ATTENTION_VARIANTS[row.variant].label
    return str(row.variant)


def _tolerance_fields(cfg: dict[str, Any], name: str) -> dict[str, Any]:
    tables = tables_of(cfg)
    table = {"table1": tables.table1, "table2": tables.table2, "table3": tables.table3}[name]
    spread = tables.spread_fraction
    return {
        "tolerance_overrides": dict(table.tolerances if table is not None else {}),
        "spread_fraction": float(DEFAULT_SPREAD_FRACTION if spread is None else spread),
    }


def _common(cfg: dict[str, Any]) -> dict[str, Any]:
    tables = tables_of(cfg)
    return {
        "dataset_labels": {d: dataset_label(cfg, d) for d in cfg["datasets"]},
        "expected": {d: expected_pairs(v) for d, v in cfg["datasets"].items() if "expected_count" in v or "limit" in v},
        "profile": cfg["profile"],
        "comparable": bool(cfg.get("comparable_to_paper", False)),
        "bootstrap": {**DEFAULT_BOOTSTRAP, **tables.bootstrap},
        "subsets": subsets(cfg),
        "paper_sets": {d: p for d in cfg["datasets"] if (p := paper_set(cfg, d))},
        "tolerances": {**DEFAULT_TOLERANCES, **tables.compare_tolerances},
    }


def _table1_entries(cfg: dict[str, Any], t: Grid) -> list[Entry]:
    """Grid entries: every (dataset, method) of `tables.table1`, mapped to the paper's cell where one exists."""
    entries = []
    for ds in t.datasets:
        _require_dataset(cfg, "table1", ds)
        pds = _paper_dataset(cfg, ds)
        for m in t.methods:
            pm = paper_method(cfg, m)
            paper = {"dataset": pds, "method": pm} if pds and pm else None
            entries.append(_entry(cfg, ds, m, method_label(cfg, m), paper=paper))
    return entries


def _table2_entry(cfg: dict[str, Any], ds: str, pds: str | None, r: AblationRow) -> Entry:
    label = row_label(r)
    paper = {"dataset": pds, "module": r.module, "variant": r.variant} if pds else None
    return _entry(cfg, ds, r.method, label, paper=paper, row=(r.module, label), key=(r.module, r.variant),
                  group=r.module)


_LAMBDA_NAMES = {"lambda_w": "λ_w", "lambda_p": "λ_p"}


def _table3_columns(cfg: dict[str, Any]) -> tuple[str, str]:
    """Which weight each of the paper's two printed Table III columns is (`tables.table3.columns`)."""
    return tables_of(cfg).columns


SHARED_MARK = "†"  # Table III's row read from the Table I run


def _table1_run_methods(cfg: dict[str, Any]) -> dict[str, str]:
    """run -> the Table I method it produces (the full model: one training serves Tables I, II and III)."""
    if not cfg.get("model", {}).get("runs"):
        return {}
    run_of = {j.method: j.run for j in model_sample_jobs(cfg["model"])}
    return {run_of[m]: m for m in reversed(tables_of(cfg).table1.methods) if m in run_of}


def _table3_entry(cfg: dict[str, Any], ds: str, pds: str | None, r: WeightRow) -> Entry:
    columns = _table3_columns(cfg)
    first, second = repr(r.lambda_1), repr(r.lambda_2)
    paper = {"dataset": pds, "lambda_1": first, "lambda_2": second} if pds else None
    label = f"{_LAMBDA_NAMES[columns[0]]}={first}, {_LAMBDA_NAMES[columns[1]]}={second}"
    run_of = {j.method: j.run for j in model_sample_jobs(cfg["model"])} if cfg.get("model", {}).get("runs") else {}
    shared = _table1_run_methods(cfg).get(run_of.get(r.method, ""), "")
    row = (first, f"{second} {SHARED_MARK}") if shared else (first, second)
    return _entry(cfg, ds, r.method, label, paper=paper, row=row, key=(first, second), shared=shared)


_ROW_ENTRY = {"table2": _table2_entry, "table3": _table3_entry}


def _rows_entries(cfg: dict[str, Any], name: str, t: RowTable | None) -> list[Entry]:
    """Row entries of Table II/III: one per configured row, on the table's dataset."""
    if t is None:
        return []
    ds = _require_dataset(cfg, name, t.dataset)
    pds = t.paper_dataset or _paper_dataset(cfg, ds)
    return [_ROW_ENTRY[name](cfg, ds, pds, r) for r in t.rows]


# name -> (title, layout, row headers, key headers, what an empty table says)
_TABLES = {
    "table1": ("Table I", "grid", (), (), "tables.table1 is empty in profile '{profile}'"),
    "table2": ("Table II: ablations", "rows", ("Module", "Variant"), ("module", "variant"),
               "tables.table2 is not configured in profile '{profile}': no ablation variant was run"),
    "table3": ("Table III: loss weights", "rows", ("λ_w", "λ_p"), TABLE3_COLUMNS,
               "tables.table3 is not configured in profile '{profile}': no λ variant was run"),
}


def build_spec(cfg: dict[str, Any], name: str) -> TableSpec:
    """The `TableSpec` of table `name` ("table1" | "table2" | "table3") for config `cfg`."""
    if name not in _TABLES:
        raise UserError(f"unknown table {name!r}; known: {', '.join(TABLE_NAMES)}")
    title, layout, row_headers, key_headers, empty = _TABLES[name]
    if name == "table3":  # the headers follow the reading of the paper's columns
        key_headers = _table3_columns(cfg)
        row_headers = tuple(_LAMBDA_NAMES[c] for c in key_headers)
    tables = tables_of(cfg)
    profile = cfg["profile"]
    if name == "table1":  # the paper's columns, then any other metric the profile evaluates (a registry addition)
        paper = PAPER_TABLES[name].metrics
        entries, metrics = _table1_entries(cfg, tables.table1), (*paper, *(m for m in cfg["metrics"] if m not in paper))
    else:
        t = tables.table2 if name == "table2" else tables.table3
        metrics = t.metrics if t is not None and t.metrics is not None else tuple(PAPER_TABLES[name].metrics)
        entries = _rows_entries(cfg, name, t)
    return TableSpec(
        name,
        f"{title} ({profile} profile)",
        layout,
        metrics,
        tuple(entries),
        row_headers=row_headers,
        key_headers=key_headers,
        note=(subset_note(cfg) if entries else empty.format(profile=profile)),
        **_common(cfg),
        **_tolerance_fields(cfg, name),
    )


@dataclass(frozen=True)
class CurveSpec:
    """Fig. 8: per series, one point per sampling-step count; each point = an entry (k seeds)."""

    dataset: str
    dataset_label: str
    series: tuple[tuple[str, tuple[tuple[int, Entry], ...]], ...]  # (label, ((steps, entry), ...))
    profile: str
    note: str = ""
    keys: tuple[str, ...] = ()  # per series, the paper's method key (claims: "lgcaa", "seesr")
    bootstrap: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_BOOTSTRAP))  # each point's interval
    tolerances: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_TOLERANCES))  # the axes' minimum spans

    @property
    def aggregates(self) -> list[str]:
        return [a for _, pts in self.series for _, e in pts for a in e.aggregates]

    @property
    def inputs(self) -> list[str]:
        """Every evaluation file the curve's readers open: its rule's inputs."""
        return eval_inputs(self.aggregates)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))


def build_curve_spec(cfg: dict[str, Any]) -> CurveSpec:
    c = tables_of(cfg).curves
    profile = cfg["profile"]
    if c is None or not c.series:
        return CurveSpec(
            "",
            "",
            (),
            profile,
            note=f"tables.curves is not configured in profile '{profile}': no sampling-step sweep was run",
        )
    ds = _require_dataset(cfg, "curves", c.dataset)
    series = []
    for s in c.series:
        pts = tuple(
            (p.steps, _entry(cfg, ds, p.method, f"{s.label} {p.steps} steps"))
            for p in sorted(s.points, key=lambda p: p.steps)
        )
        series.append((s.label, pts))
    keys = tuple(s.key.lower() for s in c.series)
    common = _common(cfg)
    return CurveSpec(ds, dataset_label(cfg, ds), tuple(series), profile, keys=keys, bootstrap=common["bootstrap"],
                     tolerances=common["tolerances"])
