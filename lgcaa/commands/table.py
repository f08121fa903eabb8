"""`lgcaa table`: render Tables I-III (CSV, Markdown, LaTeX, long CSV, reported-vs-reproduced).

  lgcaa table spec NAME [--config PROFILE_OR_FILE]          print the table's spec (entries, aggregates) as JSON
  lgcaa table render NAME --spec JSON|@FILE --out-dir DIR   render from the evaluator's aggregates
  lgcaa table paper NAME [--paper DIR]                       print the paper's cells of the table (checked)

`render` writes DIR/NAME.{csv,md,tex,html,long.csv,compare.csv,compare.md,compare.html,metrics.json}.
With --record it also writes a job record for MLflow.
"""

from __future__ import annotations

import argparse
from pathlib import Path

TABLES = ("table1", "table2", "table3")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["spec", "render", "paper"])
    parser.add_argument("name", choices=TABLES)
    parser.add_argument("--config", default=None, help="spec: profile name or config file (default: mini)")
    parser.add_argument("--spec", default=None, help="render: the spec JSON, or @FILE holding it")
    parser.add_argument("--out-dir", type=Path, default=None, help="render: output folder")
    parser.add_argument("--paper", type=Path, default=Path("results/paper"), help="folder of the paper's tables")
    parser.add_argument(
        "--links", type=Path, default=None, help="render: JSON {record: MLflow run URL} (lgcaa report links)"
    )
    parser.add_argument("--record", type=Path, default=None, help="render: write a job record (run.json) here")
    parser.add_argument("--experiment", default="tables", help="MLflow experiment of the job record")


def outputs(out_dir: Path, name: str) -> dict[str, Path]:
    return {
        k: out_dir / f"{name}.{k}"
        for k in ("csv", "md", "tex", "html", "long.csv", "compare.csv", "compare.md", "compare.html", "metrics.json")
    }


def run(args: argparse.Namespace) -> int:
    from lgcaa.errors import UserError

    if args.action == "spec":
        from lgcaa.config import load_config
        from lgcaa.tables.spec import build_spec

        print(build_spec(load_config(args.config), args.name).to_json())
        return 0
    if args.action == "paper":
        from lgcaa.tables.paper import load_paper

        df = load_paper(args.name, args.paper)
        print(df.drop(columns=["note"]).to_string(index=False))
        print(f"{len(df)} cells, all present")
        return 0
    if not args.spec or not args.out_dir:
        raise UserError("lgcaa table render needs --spec and --out-dir")
    text = Path(args.spec[1:]).read_text() if args.spec.startswith("@") else args.spec
    render(text, args.name, args.out_dir, args.paper, args.links, args.record, args.experiment)
    print(outputs(args.out_dir, args.name)["md"].read_text())
    return 0


def render(
    spec_json: str,
    name: str,
    out_dir: Path,
    paper_dir: Path,
    links_json: Path | None,
    record: Path | None,
    experiment: str,
) -> None:
    import json

    from lgcaa.errors import UserError
    from lgcaa.io import write_json, write_text
    from lgcaa.report.style import standalone
    from lgcaa.tables import compare, export
    from lgcaa.tables import render as rd
    from lgcaa.tables.cells import load_table
    from lgcaa.tables.grid import build_grid
    from lgcaa.tables.paper import PAPER_TABLES, load_paper
    from lgcaa.tables.spec import TableSpec

    spec = TableSpec.from_json(spec_json)
    if spec.name != name:
        raise UserError(f"--spec describes {spec.name} but {name} was asked for")
    table = load_table(spec)
    grid = build_grid(table)
    rows = compare.compare(table, load_paper(name, paper_dir))
    verdicts = compare.summary(rows)
    out = outputs(out_dir, name)
    keys = PAPER_TABLES[name].keys
    write_text(out["csv"], rd.to_csv(grid))
    write_text(out["md"], rd.to_markdown(grid))
    write_text(out["tex"], rd.to_latex(grid))
    links = json.loads(links_json.read_text()) if links_json else {}
    write_text(out["html"], standalone(rd.to_html(grid, links), grid.title))
    write_text(out["compare.html"], standalone(compare.to_html(rows, keys, PAPER_TABLES[name].title, name, links),
                                               f"{PAPER_TABLES[name].title} — reported vs reproduced"))
    write_text(out["long.csv"], export.to_long_csv(table, grid))
    write_text(out["compare.csv"], compare.to_csv(rows, keys))
    write_text(out["compare.md"], compare.to_markdown(rows, keys, PAPER_TABLES[name].title))
    write_json(out["metrics.json"], export.headline(table, verdicts))
    if record:
        from lgcaa.tracking import write_record

        write_record(
            record,
            experiment=experiment,
            run_name=f"table:{name}",
            params={
                "table": name,
                "profile": spec.profile,
                "lock": table.lock or "none",
                "comparable_to_paper": spec.comparable,
                "entries": len(spec.entries),
                **{f"n.{d}": n for d, n in table.counts.items()},
            },
            metrics={f"compare.{k.replace(' ', '_')}": float(v) for k, v in verdicts.items()},
            artifacts=[str(p) for p in out.values()],
            tags={"lgcaa.lock": table.lock or "none"},
        )
