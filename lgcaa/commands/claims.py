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
    from lgcaa.claims.profile import evaluate_profile, paper_verdicts, write_claims_record
    from lgcaa.claims.render import summary, to_markdown
    from lgcaa.claims.spec import load_claims

    files = load_claims(args.claims)
    paper = paper_verdicts(files, args.paper)
    if args.action == "paper":
        print(to_markdown(paper, title="Claims of §IV on the paper's own numbers"), end="")
        return 0

    from lgcaa.config import load_config

    cfg = load_config(args.config)
    checked = evaluate_profile(cfg, files, args.paper, paper)
    print(summary(checked.results, checked.comparable))
    if args.record:
        write_claims_record(args.record, cfg, args.claims, checked, args.experiment)
    return 0
