"""The claims checked on a profile: the verdicts on the paper's own numbers and on the profile's reproduced
ones, written to <results>/claims/claims.{csv,md,html} (`lgcaa.layout`).

`paper_verdicts` checks the paper's table against its own text exactly (no tolerance: a shortfall there is a
fact, not noise); `evaluate_profile` tests each claim on the profile's Tables I-II and Fig. 8 numbers (paired
bootstrap over images and seeds, `tables.bootstrap`) and writes the three files beside the paper's verdicts;
`write_claims_record` is that job's record (`lgcaa claims evaluate --record`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lgcaa.claims.evaluate import EXACT, Result, claims_bootstrap, evaluate_all
from lgcaa.claims.render import record_metrics, record_params, to_csv, to_html, to_markdown
from lgcaa.claims.scores import claim_tolerances, paper_scores, reproduced_scores
from lgcaa.claims.spec import ClaimsFile
from lgcaa.io import write_text
from lgcaa.layout import Layout
from lgcaa.report.style import standalone
from lgcaa.tables.spec import build_curve_spec, build_spec


@dataclass(frozen=True)
class ProfileClaims:
    results: list[Result]  # on the profile's numbers
    boot: dict[str, Any]  # n, seed, alpha
    comparable: bool  # the profile is comparable to the paper (else every verdict is a pipeline check)
    files: dict[str, str]  # csv, md, html: what was written


def paper_verdicts(files: ClaimsFile, paper_dir: str | Path) -> list[Result]:
    """The verdicts on the paper's own printed numbers (exact: no tolerance)."""
    return evaluate_all(files, paper_scores(paper_dir), absent_why="the paper prints no numbers for", tolerances=EXACT)


def evaluate_profile(cfg: dict[str, Any], files: ClaimsFile, paper_dir: str | Path,
                     paper: list[Result]) -> ProfileClaims:
    """The verdicts on profile `cfg`'s reproduced numbers, written (csv, md, html) beside `paper`'s."""
    by_id = {r.claim.id: r for r in paper}
    boot = claims_bootstrap(cfg)
    curve = build_curve_spec(cfg)
    specs = [build_spec(cfg, "table1"), build_spec(cfg, "table2")]
    scores = reproduced_scores(specs, curve if curve.series else None)
    results = evaluate_all(files, scores, boot, tolerances=claim_tolerances(specs, paper_dir))
    comparable = bool(cfg.get("comparable_to_paper"))
    note = ("" if comparable else
            f"{cfg['profile']} profile — not comparable to the paper: every verdict below is a pipeline check of "
            "the harness, not a verdict on the paper's claim, and none is counted as one.")
    out = Layout.of(cfg).claims_files()
    write_text(out["csv"], to_csv(results, by_id, comparable))
    write_text(out["md"], to_markdown(results, by_id, title=f"Claims of §IV ({cfg['profile']} profile)",
                                      comparable=comparable))
    html = to_html(results, by_id, note, collapsed=not comparable, comparable=comparable)
    write_text(out["html"], standalone(html, f"Claims of §IV ({cfg['profile']} profile)"))
    return ProfileClaims(results, boot, comparable, out)


def write_claims_record(dest: str | Path, cfg: dict[str, Any], claims_file: str | Path, checked: ProfileClaims,
                        experiment: str | None = None) -> Path:
    """The job record of the claims checked on profile `cfg` (`evaluate_profile`): the profile, the claims file,
    the bootstrap's size and level, each claim's verdict and numbers; the three files as artifacts."""
    from lgcaa.tracking import experiment_name, write_record

    return write_record(dest, experiment=experiment_name("claims", experiment), run_name="claims:§IV",
                        params={"profile": cfg["profile"], "claims_file": str(claims_file), "n_boot": checked.boot["n"],
                                "alpha": checked.boot["alpha"], **record_params(checked.results, checked.comparable)},
                        metrics=record_metrics(checked.results, checked.comparable),
                        artifacts=list(checked.files.values()))
