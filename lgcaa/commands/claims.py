"""`lgcaa claims ACTION`: the paper's quantitative claims (results/paper/claims.yaml), checked.

    lgcaa claims evaluate --config mini [--claims results/paper/claims.yaml] [--paper results/paper] [--record R]
        -> <results>/claims/claims.{csv,md,html}: one verdict per claim on the profile's reproduced numbers
           (paired bootstrap over images and seeds), beside the verdict on the paper's own printed numbers
    lgcaa claims paper [--claims FILE] [--paper DIR]      the verdicts on the paper's own numbers only
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, text in (("evaluate", "verdicts on a profile's reproduced numbers (and on the paper's)"),
                       ("paper", "verdicts on the paper's own printed numbers")):
        p = sub.add_parser(name, help=text)
        p.add_argument("--claims", type=Path, default=Path("results/paper/claims.yaml"), help="the claims file")
        p.add_argument("--paper", type=Path, default=Path("results/paper"), help="folder of the paper's tables")
        if name == "evaluate":
            p.add_argument("--config", default=None, help="profile name or config file (default: mini)")
            p.add_argument("--record", default=None, help="write a job record (run.json) here")
            p.add_argument("--experiment", default=None,
                           help="MLflow experiment of the job record (default: <profile>/claims)")


def run(args: argparse.Namespace) -> int:
    from lgcaa.claims.evaluate import EXACT, claims_bootstrap, evaluate_all
    from lgcaa.claims.render import record_metrics, record_params, summary, to_csv, to_html, to_markdown
    from lgcaa.claims.scores import claim_tolerances, paper_scores, reproduced_scores
    from lgcaa.claims.spec import load_claims

    files = load_claims(args.claims)
    # the paper's table against its own text: exact (no tolerance), a shortfall there is a fact, not noise
    paper = evaluate_all(files, paper_scores(args.paper), absent_why="the paper prints no numbers for", tolerances=EXACT)
    by_id = {r.claim.id: r for r in paper}
    if args.action == "paper":
        print(to_markdown(paper, title="Claims of §IV on the paper's own numbers"), end="")
        return 0

    from lgcaa.config import load_config
    from lgcaa.io import write_text
    from lgcaa.layout import Layout
    from lgcaa.report.style import standalone
    from lgcaa.tables.spec import build_curve_spec, build_spec

    cfg = load_config(args.config)
    boot = claims_bootstrap(cfg)
    curve = build_curve_spec(cfg)
    specs = [build_spec(cfg, "table1"), build_spec(cfg, "table2")]
    scores = reproduced_scores(specs, curve if curve.series else None)
    results = evaluate_all(files, scores, boot, tolerances=claim_tolerances(specs, args.paper))
    L = Layout.of(cfg)
    comparable = bool(cfg.get("comparable_to_paper"))
    note = ("" if comparable else
            f"{cfg['profile']} profile — not comparable to the paper: every verdict below is a pipeline check of "
            "the harness, not a verdict on the paper's claim, and none is counted as one.")
    out = L.claims_files()
    write_text(out["csv"], to_csv(results, by_id, comparable))
    write_text(out["md"], to_markdown(results, by_id, title=f"Claims of §IV ({cfg['profile']} profile)",
                                      comparable=comparable))
    html = to_html(results, by_id, note, collapsed=not comparable, comparable=comparable)
    write_text(out["html"], standalone(html, f"Claims of §IV ({cfg['profile']} profile)"))
    print(summary(results, comparable))
    if args.record:
        from lgcaa.tracking import experiment_name, write_record

        write_record(args.record, experiment=experiment_name("claims", args.experiment), run_name="claims:§IV",
                     params={"profile": cfg["profile"], "claims_file": str(args.claims), "n_boot": boot["n"],
                             "alpha": boot["alpha"], **record_params(results, comparable)},
                     metrics=record_metrics(results, comparable), artifacts=list(out.values()))
    return 0
