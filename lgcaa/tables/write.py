"""Write a table's outputs and a profile's headline metrics (what `lgcaa table render|headline` runs).

`write_table(spec, layout, ...)` renders one table from the evaluator's aggregates into <results>/tables/NAME.*
(`outputs`): CSV, Markdown and HTML with the paper beside us, LaTeX, long CSV, compare.{csv,md,html} and
metrics.json, and with `record` its job record. `write_headline(cfg)` writes <results>/headline/: Table I's
headline cells per dataset and method and the claims' verdict counts, the compact view `dvc metrics show` prints.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from lgcaa.errors import UserError
from lgcaa.io import atomic_dir, write_json, write_text
from lgcaa.layout import TABLE_SUFFIXES, Layout
from lgcaa.report.links import read_links
from lgcaa.report.style import standalone
from lgcaa.tables import compare, export
from lgcaa.tables import render as rd
from lgcaa.tables.cells import load_table
from lgcaa.tables.grid import build_grid
from lgcaa.tables.paper import PAPER_TABLES, load_paper
from lgcaa.tables.spec import SHARED_MARK, TableSpec
from lgcaa.tracking import experiment_name, write_record

HEADLINE_RECORD = ".headline.json"  # marks the folder as the harness's (lgcaa.io.publish_dir); .dvcignore hides it


def write_headline(cfg: dict) -> Path:
    """Write the compact DVC metrics of a profile from its Table I metrics and (when evaluated) its claims."""
    import csv
    import io

    layout = Layout.of(cfg)
    table1 = Path(layout.table_file("table1", "metrics.json"))
    if not table1.is_file():
        raise UserError(f"{table1}: not found; render Table I first (lgcaa table render table1)")
    claims_csv = Path(layout.claims_file("csv"))
    claims = list(csv.DictReader(io.StringIO(claims_csv.read_text()))) if claims_csv.is_file() else None
    out = Path(layout.headline_dir())
    files = export.headline_files(json.loads(table1.read_text()), claims)
    with atomic_dir(out, HEADLINE_RECORD) as tmp:
        for rel, content in files.items():
            write_json(tmp / rel, content)
        write_json(tmp / HEADLINE_RECORD, {"made_by": "lgcaa table headline", "from": [str(table1), str(claims_csv)]})
    return out


def headline_line(out: Path) -> str:
    """What `lgcaa table headline` prints of the folder `write_headline` wrote: how many JSON files it holds."""
    return f"{out}: {sum(1 for _ in out.rglob('*.json'))} metric files for `dvc metrics show`"


def outputs(layout: Layout, name: str) -> dict[str, Path]:
    return {s: Path(layout.table_file(name, s)) for s in TABLE_SUFFIXES}


def write_table(spec: TableSpec, layout: Layout, paper_dir: Path, links_json: Path | None, record: Path | None,
                experiment: str) -> dict[str, Path]:
    """Write every output of `spec`'s table (paths: `outputs`); returns them."""
    name = spec.name
    table = load_table(spec)
    grid = build_grid(table)
    shared = compare.shared_run_notes(spec, paper_dir)
    rows = compare.compare(table, load_paper(name, paper_dir), shared)
    for (i, metric), note in shared.items():  # the rendered table marks the row and says it (PSNR: the headline)
        if metric == "psnr":
            grid = replace(grid, footer=(*grid.footer, f"{SHARED_MARK} {spec.entries[i].label}: {note}."))
    verdicts = compare.summary(rows)
    out = outputs(layout, name)
    keys, title = PAPER_TABLES[name].keys, PAPER_TABLES[name].title
    links = read_links(links_json) if links_json else {}  # every URL checked: http(s) only
    write_text(out["csv"], rd.to_csv(grid))
    long_csv = out["compare.csv"].name  # every paper cell (a download beside the table)
    write_text(out["md"], rd.to_markdown(grid) + compare.beside_markdown(rows, spec, long_csv))
    write_text(out["tex"], rd.to_latex(grid))
    beside = compare.beside_html(rows, spec, links)
    download = compare.download_html(long_csv) if spec.comparable else ""
    write_text(out["html"], standalone(rd.to_html(grid, links), grid.title, after=beside + download))
    write_text(out["compare.html"], standalone(beside, f"{title} — beside the paper", after=download))
    write_text(out["long.csv"], export.to_long_csv(table, grid))
    write_text(out["compare.csv"], compare.to_csv(rows, keys))
    write_text(out["compare.md"], compare.to_markdown(rows, keys, title) if spec.comparable
               else compare.not_comparable_sentence(spec.profile) + "\n")
    write_json(out["metrics.json"], export.headline(table, verdicts if spec.comparable else None))
    if record:
        write_record(
            record,
            experiment=experiment_name("report", experiment),
            run_name=f"table:{name}",
            params={
                "table": name,
                "profile": spec.profile,
                "lock": table.lock or "none",
                "comparable_to_paper": spec.comparable,
                "entries": len(spec.entries),
                **{f"n.{d}": n for d, n in table.counts.items()},
            },
            metrics={**{f"compare.{k.replace(' ', '_')}": float(v) for k, v in verdicts.items() if spec.comparable},
                     **export.cell_values(table)},  # the values it rendered, cell by cell
            artifacts=[str(p) for p in out.values()],
            tags={"lgcaa.lock": table.lock or "none"},
            upstream=export.cell_upstream(table),
        )
    return out
