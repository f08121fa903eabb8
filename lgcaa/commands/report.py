"""`lgcaa report`: MLflow links, perception-distortion curves and the self-contained HTML report.

  lgcaa report links  --runs results/mlflow/runs.json --out results/mlflow/links.json [--ui URL]
  lgcaa report curves --spec JSON|@FILE --out-dir results/report [--record R]
        -> pd_curve.png, pd_curve.pdf, pd_curve.csv
  lgcaa report html --tables-dir results/tables --curves-dir results/report --visual JSON|@FILE
        --profile NAME [--comparable] [--runs runs.json] [--ui URL] --out results/report/index.html [--record R]
        [--input NAME=MANIFEST ...]

Print a spec from a profile: `lgcaa report spec curves|visual [--config PROFILE_OR_FILE]`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

CURVE_FILES = ("pd_curve.png", "pd_curve.pdf", "pd_curve.csv")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["links", "curves", "html", "spec"])
    parser.add_argument("what", nargs="?", choices=["curves", "visual"], help="spec: which spec to print")
    parser.add_argument("--config", default=None, help="spec: profile name or config file (default: mini)")
    parser.add_argument("--runs", type=Path, default=None, help="runs.json written by lgcaa mlflow-sync")
    parser.add_argument("--ui", default="http://127.0.0.1:5000", help="MLflow UI base URL for links")
    parser.add_argument("--spec", default=None, help="curves: the curve spec JSON, or @FILE")
    parser.add_argument("--visual", default=None, help="html: the visual-comparison spec JSON, or @FILE")
    parser.add_argument("--out-dir", type=Path, default=None, help="curves: output folder")
    parser.add_argument("--tables-dir", type=Path, default=None, help="html: folder of rendered tables")
    parser.add_argument("--tables", default="table1,table2,table3", help="html: tables to include, in order")
    parser.add_argument("--curves-dir", type=Path, default=None, help="html: folder holding pd_curve.png")
    parser.add_argument("--profile", default="", help="html: profile name shown in the report")
    parser.add_argument("--comparable", action="store_true", help="html: the profile is comparable to the paper")
    parser.add_argument("--out", type=Path, default=None, help="links/html: output file")
    parser.add_argument(
        "--input",
        action="append",
        default=[],
        metavar="NAME=MANIFEST",
        help="html: dataset manifests logged as MLflow inputs of the report run",
    )
    parser.add_argument("--record", type=Path, default=None, help="write a job record (run.json) here")
    parser.add_argument("--experiment", default="report", help="MLflow experiment of the job record")


def _text(arg: str | None, flag: str) -> str:
    from lgcaa.errors import UserError

    if not arg:
        raise UserError(f"lgcaa report: {flag} is required")
    return Path(arg[1:]).read_text() if arg.startswith("@") else arg


def run(args: argparse.Namespace) -> int:
    from lgcaa.errors import UserError
    from lgcaa.io import write_json, write_text

    if args.action == "spec":
        from lgcaa.config import load_config

        cfg = load_config(args.config)
        if args.what == "curves":
            from lgcaa.tables.spec import build_curve_spec

            print(build_curve_spec(cfg).to_json())
        elif args.what == "visual":
            from lgcaa.report.visual import build_visual_spec

            print(build_visual_spec(cfg).to_json())
        else:
            raise UserError("lgcaa report spec: say which (curves or visual)")
        return 0

    if args.action == "links":
        from lgcaa.report.links import mlflow_links

        if not args.runs or not args.out:
            raise UserError("lgcaa report links needs --runs and --out")
        links = mlflow_links(args.runs, args.ui)
        write_json(args.out, links)
        print(f"{len(links)} links to {args.ui}")
        return 0

    if args.action == "curves":
        from lgcaa.report.curves import load_curves, plot, to_csv
        from lgcaa.tables.spec import CurveSpec

        if not args.out_dir:
            raise UserError("lgcaa report curves needs --out-dir")
        curves = load_curves(CurveSpec.from_json(_text(args.spec, "--spec")))
        png, pdf, csv = (args.out_dir / f for f in CURVE_FILES)
        plot(curves, png, pdf)
        write_text(csv, to_csv(curves))
        notes = ([curves.spec.note] if curves.spec.note else []) + curves.missing_notes()
        for n in notes:
            print(n)
        if args.record:
            from lgcaa.tracking import write_record

            write_record(
                args.record,
                experiment=args.experiment,
                run_name="curves:perception-distortion",
                params={
                    "dataset": curves.spec.dataset or "none",
                    "profile": curves.spec.profile,
                    "lock": curves.lock or "none",
                    "series": ",".join(l for l, _ in curves.series) or "none",
                    "drawn": curves.drawable,
                },
                artifacts=[str(png), str(pdf), str(csv)],
                tags={"lgcaa.lock": curves.lock or "none"},
            )
        return 0

    # html
    import json

    from lgcaa.report.html import ReportParts, render_report
    from lgcaa.report.visual import VisualSpec, comparisons

    if not (args.tables_dir and args.curves_dir and args.out):
        raise UserError("lgcaa report html needs --tables-dir, --curves-dir and --out")
    parts = ReportParts(profile=args.profile, comparable=args.comparable)
    names = [n for n in args.tables.split(",") if n]
    for n in names:
        for suffix, dest in ((".html", parts.tables), (".compare.html", parts.compares)):
            f = args.tables_dir / f"{n}{suffix}"
            if not f.is_file():
                raise UserError(f"{f}: rendered table not found; run `snakemake {f}` first")
            dest.append((n, f.read_text()))
    png = args.curves_dir / CURVE_FILES[0]
    if not png.is_file():
        raise UserError(f"{png}: curve not found; run `snakemake {png}` first")
    parts.curve_png = png.read_bytes()
    parts.curve_notes = [
        f"Also as {args.curves_dir / CURVE_FILES[1]} (PDF) and {args.curves_dir / CURVE_FILES[2]} (data)."
    ]
    if args.visual:
        parts.comparisons = comparisons(VisualSpec.from_json(_text(args.visual, "--visual")))
    if args.runs and args.runs.is_file():
        # the store beside the runs map (<results>/mlflow.db), as a path relative to the project folder the
        # command is run from, so the hint stays right when the tree is moved or copied
        parts.tracking_uri = f"sqlite:///{args.runs.parent.parent / 'mlflow.db'}"
        parts.ui_url = args.ui
    write_text(args.out, render_report(parts))
    print(f"{args.out}: {args.out.stat().st_size // 1024} KiB, {len(parts.comparisons)} visual comparisons")
    if args.record:
        from lgcaa.tracking import write_record

        inputs = []
        for item in args.input:
            name, _, manifest = item.partition("=")
            if not manifest:
                raise UserError(f"--input {item!r}: expected NAME=MANIFEST")
            inputs.append({"name": name, "source": manifest, "context": "report"})
        write_record(
            args.record,
            experiment=args.experiment,
            run_name="report:html",
            params={"profile": args.profile, "tables": ",".join(names), "comparisons": len(parts.comparisons)},
            artifacts=[str(args.out)],
            inputs=inputs,
        )
    return 0
