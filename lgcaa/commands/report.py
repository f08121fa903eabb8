"""`lgcaa report ACTION`: MLflow links and the self-contained HTML report.

    lgcaa report links --runs results/mlflow/runs.json --out results/mlflow/links.json [--ui URL]
        -> {record: link to its MLflow run}: relative to `lgcaa ui` (MLflow and the report on one port),
           or absolute under --ui URL
    lgcaa report html --config mini [--runs results/mlflow/runs.json] [--ui URL] [--record R]
        -> <results>/report/index.html from the profile's tables, claims and figures
    lgcaa report gallery --config mini
        -> <results>/report/gallery.html: every test image, every method, full resolution, per-image scores
    lgcaa report screenshot PAGE --out PNG [--width W] [--height H] [--wait-for TEXT] [--timeout S]
        -> a PNG of a page (the report, the gallery, `gallery.html#ds=D&img=NAME`) drawn by headless Chromium

The figures themselves: `lgcaa figure render NAME --config PROFILE` (Fig. 8 included).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from lgcaa.commands.args import add_config, add_record
from lgcaa.report.links import DEFAULT_UI

UI_HELP = ("an MLflow UI's base URL for absolute links, http:// or https:// only (default: links relative to "
           "`lgcaa ui`, which serves MLflow and the report on one port)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = sub.add_parser("links", help="record path -> MLflow run URL (JSON) for the tables' links")
    p.add_argument("--runs", type=Path, required=True, help="runs.json written by lgcaa mlflow-sync")
    p.add_argument("--out", type=Path, required=True, help="output JSON")
    p.add_argument("--ui", default=DEFAULT_UI, help=UI_HELP)
    p = sub.add_parser("html", help="the self-contained HTML report of a profile")
    add_config(p)
    p.add_argument("--runs", type=Path, default=None, help="runs.json written by lgcaa mlflow-sync")
    p.add_argument("--ui", default=DEFAULT_UI, help=UI_HELP)
    p.add_argument("--tables", default="table1,table2,table3", help="tables to include, in order")
    add_record(p, "report")
    p = sub.add_parser("gallery", help="the per-image gallery of a profile (every image, every method, synchronised zoom)")
    add_config(p)
    p = sub.add_parser("screenshot", help="a PNG of a page (report, gallery) drawn by headless Chromium")
    p.add_argument("page", help="an HTML file (optionally with #fragment, e.g. gallery.html#img=NAME) or a URL")
    p.add_argument("--out", type=Path, required=True, help="the PNG to write")
    p.add_argument("--width", type=int, default=1400, help="window width in pixels (default 1400)")
    p.add_argument("--height", type=int, default=900, help="window height in pixels (default 900)")
    p.add_argument("--wait-for", default="", metavar="TEXT",
                   help="also wait until the page shows TEXT (pages that draw after loading, e.g. an MLflow run)")
    p.add_argument("--timeout", type=float, default=60, help="seconds to wait for the page (default 60)")


def run(args: argparse.Namespace) -> int:
    from lgcaa.io import write_json
    from lgcaa.report.links import check_url

    if args.action == "screenshot":
        from lgcaa.report.browser import screenshot

        print(screenshot(args.page, args.out, args.width, args.height, args.timeout, args.wait_for))
        return 0
    if args.action == "gallery":
        from lgcaa.config import load_config
        from lgcaa.report.gallery import write_gallery

        out, n = write_gallery(load_config(args.config))
        print(f"{out}: {out.stat().st_size // 1024} KiB, {n} images")
        return 0
    if args.ui:
        check_url(args.ui, "--ui")
    if args.action == "links":
        from lgcaa.report.links import mlflow_links

        links = mlflow_links(args.runs, args.ui)
        write_json(args.out, links)
        print(f"{len(links)} links to {args.ui or 'runs relative to `lgcaa ui`'}")
        return 0

    from lgcaa.config import load_config
    from lgcaa.report.html import write_report, write_report_record

    cfg = load_config(args.config)
    names = tuple(n for n in args.tables.split(",") if n)
    out, parts = write_report(cfg, names, str(args.runs) if args.runs else None, args.ui)
    print(f"{out}: {out.stat().st_size // 1024} KiB, {len(parts.figures)} figures")
    if args.record:
        write_report_record(args.record, args.experiment, cfg, names, parts, out)
    return 0
