"""The paper's claims as data (results/paper/claims.yaml) and their evaluation: verdicts known by construction on
synthetic numbers, the paper's own table checked against its text, and the file covering §IV's statements."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from lgcaa.claims.evaluate import EXACT, counts, evaluate_all, evaluate_claim
from lgcaa.claims.render import record_metrics, record_params, to_csv, to_html, to_markdown
from lgcaa.claims.scores import Values, claim_tolerances, paper_scores
from lgcaa.claims.spec import load_claims
from lgcaa.errors import UserError

REPO = Path(__file__).resolve().parents[1]
CLAIMS = REPO / "results" / "paper" / "claims.yaml"
PAPER_TEXT = REPO.parent / "shared" / "paper" / "lgcaa-paper.txt"

SYNTHETIC = """
groups:
  all: [a, b, c]
  ab: [a, b]
claims:
  - {id: best, quote: q, table: table1, datasets: [D], metrics: [psnr], test: {kind: rank, subject: a, among: all, rank: 1}}
  - {id: second, quote: q, table: table1, datasets: [D], metrics: [lpips], test: {kind: rank, subject: a, among: all, rank: 2}}
  - {id: top2, quote: q, table: table1, datasets: [D], metrics: [psnr], test: {kind: at_most, subject: b, among: all, rank: 2}}
  - {id: group, quote: q, table: table1, datasets: [D], metrics: [psnr], test: {kind: top_group, among: all, group: ab, k: 2}}
  - {id: gap, quote: q, table: table1, datasets: [D], metrics: [lpips], test: {kind: beats_nth, subject: a, group: all, n: 2, relative: 0.1}}
  - {id: curve, quote: q, table: fig8, datasets: ["*"], metrics: [psnr], test: {kind: dominates, subject: a, other: b, steps: [30, 50]}}
  - {id: trend, quote: q, table: fig8, datasets: ["*"], metrics: [psnr], test: {kind: trend, subjects: [a], from: 30, to: 50, direction: up}}
  - {id: look, quote: q, test: {kind: qualitative, see: fig4}}
"""


def _claims(tmp_path: Path, text: str = SYNTHETIC):
    p = tmp_path / "claims.yaml"
    p.write_text(text)
    return load_claims(p)


def _values(mean: float, n: int = 60, k: int = 1, sd: float = 1.0, seed: int = 0) -> Values:
    rng = np.random.default_rng(seed)
    arr = mean + sd * rng.standard_normal((n, k))
    arr += mean - arr.mean()  # exact mean: the verdicts below depend on the construction, not on luck
    return Values(float(arr.mean()), arr, tuple(f"img{i:03d}.png" for i in range(n)))


def _scores(psnr: dict[str, float], lpips: dict[str, float] | None = None, **kw) -> dict:
    out = {("table1", "D", e, "psnr"): _values(m, seed=i, **kw) for i, (e, m) in enumerate(psnr.items())}
    for i, (e, m) in enumerate((lpips or {}).items()):
        out[("table1", "D", e, "lpips")] = _values(m, seed=10 + i, sd=0.01, **kw)
    return out


# the tolerances a refutation must exceed, per (table, metric): Table I's PSNR 0.30 dB is the mini profile's own
TOL = {("table1", "psnr"): 0.3, ("table1", "lpips"): 0.01, ("fig8", "psnr"): 0.3}


def _one(files, cid, scores, tolerances=TOL):
    return evaluate_claim(next(c for c in files.claims if c.id == cid), files, scores, {"n": 1000},
                          tolerances=tolerances)


def test_rank_verdicts_supported_refuted_inconclusive(tmp_path):
    files = _claims(tmp_path)
    clear = _one(files, "best", _scores({"a": 26.0, "b": 25.0, "c": 24.0}))
    assert clear.verdict == "supported" and clear.p_value < 0.05 and clear.interval[0] > 0
    assert clear.statistic == pytest.approx(1.0)
    wrong = _one(files, "best", _scores({"a": 24.0, "b": 25.0, "c": 23.0}))
    assert wrong.verdict == "refuted" and wrong.interval[1] < 0
    tie = _one(files, "best", _scores({"a": 25.0, "b": 25.0, "c": 20.0}))
    assert tie.verdict == "inconclusive" and tie.p_value >= 0.05 and tie.interval[0] < 0 < tie.interval[1]


def test_second_best_in_a_lower_is_better_metric(tmp_path):
    files = _claims(tmp_path)
    # LPIPS: lower is better; a is second when exactly one method is lower
    ok = _one(files, "second", _scores({"a": 1, "b": 1, "c": 1}, {"a": 0.30, "b": 0.25, "c": 0.40}))
    assert ok.verdict == "supported"
    first = _one(files, "second", _scores({"a": 1, "b": 1, "c": 1}, {"a": 0.20, "b": 0.25, "c": 0.40}))
    assert first.verdict == "refuted"


def test_at_most_and_group_and_relative_gap(tmp_path):
    files = _claims(tmp_path)
    s = _scores({"a": 27.0, "b": 26.0, "c": 24.0}, {"a": 0.27, "b": 0.30, "c": 0.40})
    assert _one(files, "top2", s).verdict == "supported"
    assert _one(files, "group", s).verdict == "supported"
    assert _one(files, "group", _scores({"a": 27.0, "b": 23.0, "c": 26.0})).verdict == "refuted"
    gap = _one(files, "gap", s)  # a's LPIPS 0.27 vs the second best of {a,b,c}\{a} = c? no: group minus a = b, c
    assert gap.verdict == "supported"
    assert gap.extra["relative_gap[D/lpips]"] == pytest.approx((0.40 - 0.27) / 0.40)
    assert gap.extra["relative_gap_paper"] == 0.1
    lo, hi = gap.extra["relative_gap_interval[D/lpips]"]
    assert lo < (0.40 - 0.27) / 0.40 < hi


def test_curves_dominance_and_trend_over_steps(tmp_path):
    files = _claims(tmp_path)

    def pts(a30, a50, b30, b50):
        vals = {"a@30": a30, "a@50": a50, "b@30": b30, "b@50": b50}
        return {("fig8", "*", e, "psnr"): _values(m, seed=i) for i, (e, m) in enumerate(vals.items())}

    assert _one(files, "curve", pts(26, 27, 25, 26)).verdict == "supported"
    assert _one(files, "curve", pts(26, 25, 25, 26)).verdict == "refuted"  # crosses at 50 steps
    assert _one(files, "trend", pts(25, 27, 0, 0)).verdict == "supported"
    assert _one(files, "trend", pts(27, 25, 0, 0)).verdict == "refuted"


def test_seeds_are_resampled_and_widen_the_interval(tmp_path):
    files = _claims(tmp_path)
    one = _one(files, "best", _scores({"a": 25.3, "b": 25.0, "c": 20.0}, k=1))
    rng = np.random.default_rng(5)
    s = _scores({"a": 25.3, "b": 25.0, "c": 20.0}, k=3)
    for key in list(s):  # seeds that disagree: k = 3 columns shifted by -1, 0, +1 dB
        v = s[key]
        arr = v.per_image + rng.permutation([-1.0, 0.0, 1.0])[None, :]
        s[key] = Values(float(arr.mean()), arr, v.images)
    three = _one(files, "best", s)
    width = lambda r: r.interval[1] - r.interval[0]
    assert width(three) > width(one)


def test_missing_entities_and_metrics_are_not_evaluable_with_the_reason(tmp_path):
    files = _claims(tmp_path)
    s = _scores({"a": 26.0, "b": 25.0})
    r = _one(files, "best", s)
    assert r.verdict == "not evaluable" and "not run in this profile: c" in r.reason
    s[("table1", "D", "c", "psnr")] = Values(None, reason="weights absent: x.pth")
    assert "c: weights absent: x.pth" in _one(files, "best", s).reason
    assert _one(files, "look", s).verdict == "qualitative"


def test_point_values_decide_by_sign_without_p_value(tmp_path):
    files = _claims(tmp_path)
    s = {("table1", "D", e, "psnr"): Values(m) for e, m in {"a": 26.0, "b": 25.0, "c": 24.0}.items()}
    r = _one(files, "best", s)
    assert (r.verdict, r.p_value, r.interval) == ("supported", None, None)


def test_the_bootstrap_is_deterministic(tmp_path):
    files = _claims(tmp_path)
    s = _scores({"a": 25.2, "b": 25.0, "c": 20.0})
    assert _one(files, "best", s) == _one(files, "best", s)


@pytest.mark.parametrize(
    "edit,message",
    [
        ("rank: 1}}", "rank: 1, extra: 2}}"),
        ("among: all, rank: 1", "among: nope, rank: 1"),
        ("metrics: [psnr], test: {kind: rank", "metrics: [psnr2], test: {kind: rank"),
    ],
)
def test_a_broken_claims_file_is_refused_naming_the_claim(tmp_path, edit, message):
    with pytest.raises(UserError, match=r"claims.yaml: claim best"):
        _claims(tmp_path, SYNTHETIC.replace(edit, message, 1))


def test_the_papers_own_table_supports_its_text_except_maniqa_on_realsr():
    files = load_claims(CLAIMS)
    results = evaluate_all(files, paper_scores(REPO / "results" / "paper"), absent_why="no numbers printed",
                           tolerances=EXACT)
    by = {r.claim.id: r for r in results}
    assert by["t1-realsr-maniqa-musiq-second"].verdict == "refuted"  # PASD 0.6493, SeeSR 0.6442, LGCAA 0.6433
    refuted = [r.claim.id for r in results if r.verdict == "refuted"]
    assert refuted == ["t1-realsr-maniqa-musiq-second"]
    assert all(r.verdict == "not evaluable" for r in results if r.claim.table == "fig8")
    # the hedged "can/may" remarks of the Fig. 8 paragraph are reported, never refuted
    assert {by[i].verdict for i in ("f8-more-steps-higher-psnr", "f8-more-steps-higher-lpips")} == {"qualitative"}
    assert by["t1-seesr-best-clipiqa-fid-musiq"].claim.datasets == ("RealSR",)
    assert by["t1-realsr-dists-below-second-gan"].extra["relative_gap[RealSR/dists]"] == pytest.approx(0.0113, abs=5e-5)
    assert by["t1-realsr-lpips-below-second-gan"].extra["relative_gap[RealSR/lpips]"] == pytest.approx(0.0044, abs=5e-5)
    c = counts(results)
    assert c["supported"] == 11 and c["qualitative"] == 11


@pytest.mark.skipif(not PAPER_TEXT.is_file(), reason="the paper's extracted text is not beside this checkout")
def test_every_quote_is_verbatim_and_every_ranking_sentence_of_section_iv_is_covered():
    text = PAPER_TEXT.read_text()
    files = load_claims(CLAIMS)
    for c in files.claims:
        assert c.quote in text, c.id
    start = text.index("Quantitative Comparison:")
    para = text[start : text.index("Qualitative Comparison:", start)]
    sentences = [s.strip() for s in re.split(r"(?<=\.)\s+", para) if s.strip()]
    quotes = [c.quote for c in files.claims]
    ranking = [s for s in sentences if re.search(r"best|%|outperform|excels|perform", s)]
    for s in ranking:
        if s.startswith("These results highlight"):  # the paragraph's summary, no checkable content of its own
            continue
        assert any(q in s or s.rstrip(".") in q for q in quotes), s


def test_a_refuted_part_refutes_and_a_supported_part_leaves_the_claim_not_evaluable(tmp_path):
    files = _claims(tmp_path, SYNTHETIC.replace("metrics: [psnr], test: {kind: rank, subject: a, among: all, rank: 1}",
                                                "metrics: [psnr, ssim], test: {kind: rank, subject: a, among: all, rank: 1}"))
    s = _scores({"a": 26.0, "b": 25.0, "c": 24.0})  # PSNR only: SSIM missing for everyone
    half = _one(files, "best", s)
    assert half.verdict == "not evaluable" and "on the evaluable part (D/psnr): supported" in half.reason
    wrong = _one(files, "best", _scores({"a": 24.0, "b": 25.0, "c": 23.0}))
    assert wrong.verdict == "refuted" and "refuted on the evaluable part" in wrong.reason


def _paired(means: dict[str, float], n: int = 60, dataset: str = "") -> dict:
    """Entities with the same per-image noise (a perfectly paired design): every difference of means is exact
    and significant however small, so only the tolerance can keep it from being refuted."""
    noise = np.random.default_rng(3).standard_normal((n, 1))
    noise -= noise.mean()
    return {("table1", "D", e, "psnr"): Values(m, m + noise, tuple(f"img{i:03d}.png" for i in range(n)), dataset=dataset)
            for e, m in means.items()}


def test_a_significant_shortfall_within_the_tolerance_is_not_refuted(tmp_path):
    files = _claims(tmp_path)
    s = _paired({"a": 25.000, "b": 25.002, "c": 20.0})  # a second by 0.002 dB, on every image
    exact = _one(files, "best", s, EXACT)
    assert exact.verdict == "refuted" and exact.p_value < 0.05  # the old rule: significance alone
    r = _one(files, "best", s)
    assert r.verdict == "inconclusive" and r.statistic == pytest.approx(-0.002)
    assert "within the table's tolerance" in r.reason and "±0.3" in r.reason
    # the same on point values (the sign alone decided before)
    pts = {k: Values(v.point) for k, v in s.items()}
    assert _one(files, "best", pts, EXACT).verdict == "refuted"
    assert _one(files, "best", pts).verdict == "inconclusive"


def test_a_shortfall_beyond_the_tolerance_is_refuted_only_when_significantly_beyond(tmp_path):
    files = _claims(tmp_path)
    far = _one(files, "best", _paired({"a": 24.0, "b": 25.0, "c": 20.0}))  # 1 dB > 0.3 dB, on every image
    assert far.verdict == "refuted" and far.p_value < 0.05 and far.interval[1] < -0.3
    # 0.35 dB short on average but noisy: significantly below 0, not significantly below -0.3
    noisy = _one(files, "best", _scores({"a": 24.65, "b": 25.0, "c": 20.0}, n=400, sd=1.5))
    assert noisy.statistic == pytest.approx(-0.35)
    assert noisy.interval[1] < 0, "the construction must be significant by the old rule"
    assert noisy.verdict == "inconclusive" and "not significantly beyond" in noisy.reason


def test_mini_verdicts_are_pipeline_checks_named_by_the_dataset_they_ran_on(tmp_path):
    from lgcaa.tables.export import headline_files

    files = _claims(tmp_path)
    results = [_one(files, "best", _paired({"a": 26.0, "b": 25.0, "c": 20.0}, dataset="mini-realsr"))]
    md = to_markdown(results, comparable=False)
    assert "pipeline check: supported" in md and "D (ran on mini-realsr)" in md
    assert "no claim of the paper tested (1 pipeline checks" in md and "1 claims" not in md
    html_text = to_html(results, comparable=False)
    assert "pipeline check: supported" in html_text and "ran on mini-realsr" in html_text
    metrics = record_metrics(results, comparable=False)
    assert metrics["pipeline_check.supported"] == 1 and not any(k.startswith("claims.") for k in metrics)
    assert record_params(results, comparable=False) == {"claim.best": "pipeline check: supported"}
    rows = list(__import__("csv").DictReader(to_csv(results, comparable=False).splitlines()))
    assert rows[0]["scope"] == "pipeline check" and rows[0]["ran_on"] == "D (ran on mini-realsr)"
    out = headline_files({}, rows)
    assert out["pipeline-checks/supported.json"] == {"claims": 1} and not any(k.startswith("claims/") for k in out)
    # comparable: the verdict itself, counted as a claim
    assert "| supported |" in to_markdown(results) and record_metrics(results)["claims.supported"] == 1
    rows = list(__import__("csv").DictReader(to_csv(results).splitlines()))
    assert headline_files({}, rows)["claims/supported.json"] == {"claims": 1}


def test_claim_tolerances_are_the_tables_own():
    from lgcaa.config import load_config
    from lgcaa.tables.compare import table_tolerances
    from lgcaa.tables.paper import load_paper
    from lgcaa.tables.spec import build_spec

    cfg = load_config("mini")
    specs = [build_spec(cfg, "table1"), build_spec(cfg, "table2")]
    tol = claim_tolerances(specs, REPO / "results" / "paper")
    for spec in specs:
        own = table_tolerances(spec.name, load_paper(spec.name, REPO / "results" / "paper"), spec.tolerances,
                               spec.tolerance_overrides, spec.spread_fraction)
        assert {m: t for (n, m), t in tol.items() if n == spec.name} == {m: t for m, (t, _) in own.items()}
    assert tol[("table1", "psnr")] > 0.002 and ("fig8", "psnr") in tol


def test_the_claims_job_record(tmp_path):
    from lgcaa.claims.profile import ProfileClaims, write_claims_record

    files = _claims(tmp_path)
    results = [_one(files, "best", _paired({"a": 26.0, "b": 25.0, "c": 20.0}, dataset="mini-realsr"))]
    out = {"csv": "c/claims.csv", "md": "c/claims.md", "html": "c/claims.html"}
    checked = ProfileClaims(results, {"n": 200, "seed": 0, "alpha": 0.05}, False, out)
    write_claims_record(tmp_path / "rec.json", {"profile": "mini"}, tmp_path / "claims.yaml", checked, "t/claims")
    rec = json.loads((tmp_path / "rec.json").read_text())
    assert rec["experiment"] == "t/claims" and rec["run_name"] == "claims:§IV" and rec["artifacts"] == list(out.values())
    assert {k: rec["params"][k] for k in ("profile", "claims_file", "n_boot", "alpha", "claim.best")} == {
        "profile": "mini", "claims_file": str(tmp_path / "claims.yaml"), "n_boot": 200, "alpha": 0.05,
        "claim.best": "pipeline check: supported"}
    assert rec["metrics"] == record_metrics(results, comparable=False)
