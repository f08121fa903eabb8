"""Tables I-III from synthetic evaluator outputs: rendering (golden files), marks, lock/N checks, intervals,
reported-vs-reproduced verdicts. The aggregates are written by the tests in the evaluator's format."""

from __future__ import annotations

import copy
import json
import os
import re
from pathlib import Path

import numpy as np
import pytest

from lgcaa.errors import UserError
from lgcaa.instances import seed_instances
from lgcaa.tables import compare, export, render
from lgcaa.tables.cells import load_table
from lgcaa.tables.grid import build_grid, rank_marks
from lgcaa.tables.paper import load_paper
from lgcaa.tables.spec import build_spec
from lgcaa.tables.stats import bootstrap_ci

REPO = Path(__file__).resolve().parents[1]
GOLDEN = REPO / "tests" / "golden" / "tables"
PAPER = REPO / "results" / "paper"
LOCK = "testlock0001"
IMAGES = ["a.png", "b.png", "c.png", "d.png"]
LPIPS_MISSING = "weights absent: LPIPS_v0.1_alex.pth"

# per (dataset, method instance): metric -> per-image values (4 images), or a reason string when missing
BASE = {
    "psnr": [24.0, 25.0, 26.0, 27.0],
    "ssim": [0.70, 0.71, 0.72, 0.73],
    "lpips": LPIPS_MISSING,
    "niqe": [6.0, 6.2, 6.4, 6.6],
}
GAN = {
    "psnr": [23.5, 24.0, 24.5, 24.0],
    "ssim": [0.74, 0.75, 0.76, 0.75],
    "lpips": [0.25, 0.27, 0.26, 0.26],
    "niqe": [4.0, 4.1, 4.2, 4.3],
}
LGCAA_SEEDS = [  # three seeds; PSNR means 27.00, 27.10, 27.05 -> 27.05
    {
        "psnr": [26.0, 27.0, 28.0, 27.0],
        "ssim": [0.76, 0.77, 0.78, 0.77],
        "lpips": [0.27, 0.28, 0.26, 0.27],
        "niqe": [5.0, 5.1, 5.2, 5.3],
    },
    {
        "psnr": [26.1, 27.1, 28.1, 27.1],
        "ssim": [0.77, 0.77, 0.78, 0.78],
        "lpips": [0.27, 0.27, 0.27, 0.27],
        "niqe": [5.1, 5.1, 5.1, 5.1],
    },
    {
        "psnr": [26.05, 27.05, 28.05, 27.05],
        "ssim": [0.76, 0.78, 0.78, 0.76],
        "lpips": [0.26, 0.28, 0.27, 0.28],
        "niqe": [5.0, 5.2, 5.0, 5.2],
    },
]
VARIANT = {
    "psnr": [25.0, 25.5, 25.5, 25.0],
    "ssim": [0.74, 0.74, 0.75, 0.75],
    "lpips": [0.29, 0.29, 0.30, 0.30],
    "clipiqa": [0.62, 0.63, 0.64, 0.63],
    "musiq": [66.0, 66.5, 67.0, 66.5],
    "niqe": [5.5, 5.5, 5.6, 5.6],
}


def write_eval(
    results: Path,
    dataset: str,
    method: str,
    values: dict,
    *,
    lock: str = LOCK,
    images: list[str] = IMAGES,
    expected: int | None = 4,
) -> Path:
    """Write aggregate.json + per_image.csv as the evaluator does; returns the aggregate path."""
    d = results / "metrics" / dataset / method
    d.mkdir(parents=True, exist_ok=True)
    rows, metrics = ["image,metric,value"], {}
    for m, v in values.items():
        if isinstance(v, str):
            metrics[m] = {"status": "missing", "reason": v, "fix": f"lgcaa weights fetch {m}"}
            continue
        v = v[: len(images)]
        rows += [f"{img},{m},{x!r}" for img, x in zip(images, v)]
        metrics[m] = {"status": "ok", "mean": float(np.mean(v)), "n": len(v)}
    (d / "per_image.csv").write_text("\n".join(rows) + "\n")
    agg = {
        "dataset": dataset,
        "method": method,
        "lock": lock,
        "n_images": len(images),
        "expected_count": expected,
        "metrics": metrics,
    }
    (d / "aggregate.json").write_text(json.dumps(agg))
    return d / "aggregate.json"


SYNTH_METHODS = ["base", "gan", "lgcaa", "v-std", "v-none", "v-l1"]


def synth_config(results: Path, comparable: bool = True) -> dict:
    return {
        "profile": "synthetic",
        "seed": 0,
        "comparable_to_paper": comparable,
        "paths": {"data": str(results.parent / "data"), "results": str(results)},
        "mini": {"photos": ["astronaut"], "hr_size": 64, "scale": 4},
        "datasets": {
            "ds-a": {"source": "mini", "lr": "bicubic", "label": "Set A", "expected_count": 4},
            # the paper's RealSR itself (its registry set, released LR; 4 synthetic pairs): set beside the paper's cells
            "ds-b": {"source": "realsr", "lr": "released", "label": "Set B", "expected_count": 4},
        },
        "methods": SYNTH_METHODS,
        # synthetic method names are instances of a real baseline: a profile's methods must be runnable
        "instances": {m: {"method": "bicubic", "settings": {}} for m in SYNTH_METHODS},
        "metrics": ["psnr", "ssim", "lpips", "niqe"],
        "seeds": {"k": 3, "methods": ["lgcaa"]},
        "tables": {
            "table1": {"datasets": ["ds-a", "ds-b"], "methods": ["base", "gan", "lgcaa"]},
            "table2": {
                "dataset": "ds-b",
                "rows": [
                    {"module": "LGCAA", "variant": "standard", "label": "No LGCAA", "method": "v-std"},
                    {"module": "LGCAA", "variant": "lgcaa", "label": "LGCAA", "method": "lgcaa"},
                    {"module": "DPACM", "variant": "none", "label": "No DPACM", "method": "v-none"},
                    {"module": "DPACM", "variant": "dpacm", "label": "DPACM", "method": "lgcaa"},
                ],
            },
            "table3": {
                "dataset": "ds-b",
                "rows": [
                    {"lambda_1": 2.0, "lambda_2": 0.3, "method": "lgcaa"},
                    {"lambda_1": 1, "lambda_2": 0.1, "method": "v-l1"},
                ],
            },
            "compare": {"methods": {"gan": "realesrgan", "lgcaa": "lgcaa"}},
            "labels": {"gan": "GAN", "lgcaa": "LGCAA"},
        },
    }


@pytest.fixture()
def synth(tmp_path) -> dict:
    results = tmp_path / "results"
    for ds in ("ds-a", "ds-b"):
        write_eval(results, ds, "base", BASE)
        write_eval(results, ds, "gan", GAN)
        for (seed, inst), vals in zip(seed_instances(synth_config(results), "lgcaa"), LGCAA_SEEDS):
            write_eval(results, ds, inst, {**vals, "clipiqa": [0.66] * 4, "musiq": [69.0] * 4})
    write_eval(results, "ds-b", "v-std", VARIANT)
    write_eval(results, "ds-b", "v-none", {**VARIANT, "psnr": [25.4] * 4})
    write_eval(results, "ds-b", "v-l1", VARIANT)
    return synth_config(results)


def rendered(cfg: dict, name: str):
    t = load_table(build_spec(cfg, name))
    return t, build_grid(t)


# ------------------------------------------------------------------------------------------------ marks


def test_rank_marks_follow_direction_and_share_ties():
    vals = {"a": 1.0, "b": 2.0, "c": 3.0, "d": None}
    assert rank_marks(vals, lower_better=False) == {"c": "best", "b": "second"}
    assert rank_marks(vals, lower_better=True) == {"a": "best", "b": "second"}
    assert rank_marks({"a": 2.0, "b": 2.0, "c": 1.0}, lower_better=False) == {"a": "best", "b": "best", "c": "second"}
    assert rank_marks({"a": float("nan"), "b": 1.0}, lower_better=True) == {"b": "best"}
    assert rank_marks({"a": None}, lower_better=True) == {}


def test_best_bold_and_second_underlined_by_each_metrics_direction(synth):
    _, grid = rendered(synth, "table1")
    rows = {r.keys: r for r in grid.rows}
    # columns: base, gan, lgcaa. PSNR (higher better): lgcaa 27.05 best, base 25.5 second.
    assert rows[("ds-a", "psnr")].marks == ("second", "", "best")
    # LPIPS (lower better): gan 0.26 best, lgcaa 0.2708 second, base missing (unranked).
    assert rows[("ds-a", "lpips")].marks == ("", "best", "second")
    # NIQE (lower better): gan best, lgcaa second.
    assert rows[("ds-a", "niqe")].marks == ("", "best", "second")
    md = render.to_markdown(grid)
    assert "| Set A | PSNR ↑ | _25.50_ | 24.00 | **27.05 ± 0.12** |" in md
    assert "| Set A | LPIPS ↓ | missing[^1] | **0.2600** | _0.2708 ± 0.0036_ |" in md
    assert "<u>" not in md  # markdown-native marks: MLflow's artifact viewer and plain text show HTML literally
    tex = render.to_latex(grid)
    assert r"Set A & PSNR $\uparrow$ & \underline{25.50} & 24.00 & \textbf{27.05 $\pm$ 0.12} \\" in tex
    html = render.to_html(grid)
    assert '<td class="best"><b><span' in html and '<td class="second"><u><span' in html


# ------------------------------------------------------------------------------------------------ golden files


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("LGCAA_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.is_file(), f"{path} missing; create it with LGCAA_UPDATE_GOLDEN=1 pytest {__file__}"
    assert text == path.read_text(), (
        f"{name} differs from its golden file; if intended, rerun with LGCAA_UPDATE_GOLDEN=1"
    )


@pytest.mark.parametrize("name", ["table1", "table2", "table3"])
def test_rendering_matches_golden_files(synth, name):
    _, grid = rendered(synth, name)
    _golden(f"{name}.md", render.to_markdown(grid))
    _golden(f"{name}.tex", render.to_latex(grid))
    _golden(f"{name}.csv", render.to_csv(grid))


def test_table1_csv_keeps_its_wide_layout(synth):
    _, grid = rendered(synth, "table1")
    lines = render.to_csv(grid).splitlines()
    assert lines[0] == "dataset,metric,direction,base,gan,lgcaa,best,second"
    assert lines[1].startswith("ds-a,psnr,higher,25.5,24.0,27.05") and lines[1].endswith(",lgcaa,base")


# ------------------------------------------------------------------------------------------------ lock and N


def test_protocol_lock_mismatch_is_refused(synth):
    results = Path(synth["paths"]["results"])
    other = write_eval(results, "ds-b", "gan", GAN, lock="otherlock999")
    with pytest.raises(UserError) as exc:
        load_table(build_spec(synth, "table1"))
    msg = str(exc.value)
    assert "protocol lock mismatch" in msg and str(other) in msg and "otherlock999" in msg and LOCK in msg


def test_missing_per_image_scores_are_refused_and_are_rule_inputs(synth):
    """Issue 22 item 3: a table built beside an incomplete evaluation (aggregate.json without per_image.csv) was
    rendered without its per-image intervals; the table's rule did not depend on per_image.csv either."""
    results = Path(synth["paths"]["results"])
    gone = results / "metrics" / "ds-a" / "gan" / "per_image.csv"
    gone.unlink()
    with pytest.raises(UserError, match="per-image scores not found") as exc:
        load_table(build_spec(synth, "table1"))
    assert str(gone) in str(exc.value) and "\n" not in str(exc.value)
    spec = build_spec(synth, "table1")
    assert str(gone) in spec.inputs and set(spec.aggregates) <= set(spec.inputs)


def test_table_links_are_http_only(synth, tmp_path):
    """Issue 22 item 8: a `javascript:` URL in links.json became a live script link on every number."""
    t, grid = rendered(synth, "table1")
    record = t.cell(0, "psnr").records[0]
    assert 'href="http://127.0.0.1:5000/#/r"' in render.to_html(grid, {record: "http://127.0.0.1:5000/#/r"})
    for bad in ("javascript:alert(1)", "JAVASCRIPT:alert(1)", "data:text/html,x", "http://x/\" onclick=\"alert(1)"):
        with pytest.raises(UserError, match="not an http"):
            render.to_html(grid, {record: bad})
        rows = compare.compare(t, load_paper("table1", PAPER))
        linked = {r.record: bad for r in rows if r.ours is not None}
        with pytest.raises(UserError, match="not an http"):
            compare.beside_html(rows, t.spec, linked)


def test_image_count_mismatch_is_flagged_and_not_ranked(synth):
    results = Path(synth["paths"]["results"])
    write_eval(results, "ds-a", "gan", {**GAN, "psnr": [40.0] * 3}, images=IMAGES[:3])  # 3 of 4 images
    t, grid = rendered(synth, "table1")
    cell = t.cell(1, "psnr")  # (ds-a, gan)
    assert cell.n == 3 and cell.n_flag == "N = 3 but 4 expected" and not cell.rankable
    row = {r.keys: r for r in grid.rows}[("ds-a", "psnr")]
    assert row.marks == ("second", "", "best")  # gan's 40 dB is not ranked
    md = render.to_markdown(grid)
    assert "40.00[^" in md and "image count flagged: N = 3 but 4 expected" in md
    # ... and never reported as matching the paper (Set B is the paper's RealSR)
    write_eval(results, "ds-b", "gan", {**GAN, "psnr": [25.69] * 3}, images=IMAGES[:3])
    t = load_table(build_spec(synth, "table1"))
    rows = [r for r in compare.compare(t, load_paper("table1", PAPER)) if r.method == "gan" and r.metric == "psnr"]
    assert len(rows) == 1 and rows[0].delta == pytest.approx(0.0, abs=1e-9)
    assert rows[0].verdict == "not comparable" and "N = 3 but 4 expected" in rows[0].reason


# ------------------------------------------------------------------------------------------------ intervals


def test_seed_interval_is_a_student_t_interval(synth):
    t, _ = rendered(synth, "table1")
    c = t.cell(2, "psnr")  # ds-a, lgcaa, k = 3
    assert c.seed_means == pytest.approx((27.0, 27.1, 27.05))
    assert c.mean == pytest.approx(27.05)
    t975_2 = 4.302652729911275  # Student t quantile, 2 degrees of freedom
    assert c.half == pytest.approx(t975_2 * 0.05 / np.sqrt(3))
    assert t.cell(1, "psnr").half is None  # k = 1: no seed interval


def _boot(cfg: dict) -> dict:
    t = load_table(build_spec(cfg, "table1"))
    return {(k, m): t.cells[(k, m)].boot for k, m in t.cells if t.cells[(k, m)].ok}


def test_bootstrap_ci_is_deterministic_under_a_seed(synth):
    first, again = _boot(synth), _boot(copy.deepcopy(synth))
    assert first == again and all(v is not None for v in first.values())
    lo, hi = first[(2, "psnr")]
    assert 26.0 < lo < 27.05 < hi < 28.1  # brackets the mean, inside the per-image range
    other = copy.deepcopy(synth)
    other["tables"]["bootstrap"] = {"seed": 1}
    assert _boot(other) != first  # with 4 images many intervals coincide, but not all
    x = np.random.default_rng(7).normal(size=50)
    assert bootstrap_ci(x, 1000, 0, "k") == bootstrap_ci(x, 1000, 0, "k") != bootstrap_ci(x, 1000, 1, "k")
    # a cell's interval does not depend on the other cells of the table
    fewer = copy.deepcopy(synth)
    fewer["tables"]["table1"]["methods"] = ["lgcaa"]
    assert _boot(fewer)[(0, "psnr")] == first[(2, "psnr")]


def test_long_csv_has_every_cell_with_intervals(synth):
    t, grid = rendered(synth, "table1")
    lines = export.to_long_csv(t, grid).splitlines()
    assert len(lines) == 1 + 2 * 3 * 9  # 2 datasets x 3 methods x 9 metrics
    header = lines[0].split(",")
    row = dict(zip(header, lines[1 + 2 * 9].split(",")))  # ds-a, lgcaa, psnr
    assert row["method"] == "lgcaa" and row["metric"] == "psnr" and row["k"] == "3" and row["seeds"] == "0;1;2"
    assert float(row["seed_ci_low"]) < 27.05 < float(row["seed_ci_high"])
    assert float(row["boot_ci_low"]) < 27.05 < float(row["boot_ci_high"]) and row["mark"] == "best"


# ------------------------------------------------------------------------------------------------ compare


def test_reported_vs_reproduced_verdicts(synth):
    t = load_table(build_spec(synth, "table1"))
    rows = compare.compare(t, load_paper("table1", PAPER))
    assert len(rows) == 270
    by = {(r.keys, r.metric): r for r in rows}
    ours = by[(("RealSR", "lgcaa"), "psnr")]  # paper 27.05, ours 27.05 +- 0.12
    assert ours.verdict == "within" and ours.delta == pytest.approx(0.0, abs=1e-9) and ours.paper == "27.05"
    gan = by[(("RealSR", "realesrgan"), "psnr")]  # paper 25.69, ours 24.00
    assert gan.verdict == "outside" and gan.delta == pytest.approx(24.0 - 25.69)
    assert by[(("RealSR", "lgcaa"), "musiq")].verdict == "within"  # 69.00 vs 68.95, tolerance 2
    gan_musiq = by[(("RealSR", "realesrgan"), "musiq")]  # our GAN aggregate has no MUSIQ
    assert gan_musiq.verdict == "missing" and "'musiq' was not evaluated" in gan_musiq.reason
    unmapped = by[(("DIV2K-Val", "lgcaa"), "psnr")]
    assert unmapped.verdict == "missing" and "mapped to the paper's DIV2K-Val" in unmapped.reason
    not_run = by[(("RealSR", "seesr"), "psnr")]
    assert not_run.verdict == "missing" and "not run in profile 'synthetic' (method=seesr)" in not_run.reason
    md = compare.to_markdown(rows, ("dataset", "method"), "Table I")
    # Table I's smallest PSNR range (DIV2K-Val: 20.77-21.98) is 1.21 dB: tolerance 0.25 x 1.21, under the 0.5 cap
    assert ours.tolerance == pytest.approx(0.25 * (21.98 - 20.77)) and "spread 1.21" in ours.tolerance_basis
    assert "| RealSR | lgcaa | PSNR | 27.05 | 27.05 ± 0.12 | +0.00 | ±0.303 | within |" in md
    assert "| RealSR | realesrgan | PSNR | 25.69 | 24.00 | −1.69 | ±0.303 | outside |" in md
    assert by[(("RealSR", "lgcaa"), "musiq")].tolerance == 2.0  # the cap: below 0.25 x MUSIQ's range (14.11)


def test_tolerances_are_per_table_and_never_wider_than_its_spread(synth):
    t2 = load_table(build_spec(synth, "table2"))
    paper2 = load_paper("table2", PAPER)
    rows = compare.compare(t2, paper2)
    lpips = next(r for r in rows if r.metric == "lpips")
    assert lpips.tolerance == pytest.approx(0.25 * (0.2842 - 0.2715))  # DPACM block's LPIPS range, not the 0.02 cap
    for name in ("table1", "table2", "table3"):
        paper = load_paper(name, PAPER)
        spec = build_spec(synth, name)
        groups = list(compare.SPREAD_GROUPS[name])
        for metric, (tol, _) in compare.table_tolerances(name, paper, spec.tolerances, {}, 0.25).items():
            sub = paper[paper.metric == metric]
            spread = sub.groupby(groups)["score"].agg(lambda x: x.max() - x.min()).min()
            assert 0 < tol <= spread, (name, metric)
    cfg = copy.deepcopy(synth)
    cfg["tables"]["table2"]["tolerances"] = {"lpips": 0.01}  # the table's own value is used as given
    rows = compare.compare(load_table(build_spec(cfg, "table2")), paper2)
    own = next(r for r in rows if r.metric == "lpips")
    assert own.tolerance == 0.01 and own.tolerance_basis == "tables.table2.tolerances"


def test_tables_2_and_3_match_paper_cells_by_variant_and_lambda(synth):
    t2 = load_table(build_spec(synth, "table2"))
    r2 = {(r.keys, r.metric): r for r in compare.compare(t2, load_paper("table2", PAPER))}
    assert r2[(("RealSR", "LGCAA", "lgcaa"), "psnr")].verdict == "within"  # paper 27.05
    assert r2[(("RealSR", "LGCAA", "standard"), "psnr")].ours == pytest.approx(25.25)  # paper 25.25
    assert r2[(("RealSR", "LGCAA", "local"), "psnr")].verdict == "missing"
    t3 = load_table(build_spec(synth, "table3"))
    r3 = {(r.keys, r.metric): r for r in compare.compare(t3, load_paper("table3", PAPER))}
    assert r3[(("RealSR", "1.0", "0.1"), "psnr")].ours == pytest.approx(25.25)  # lambda 1 == "1.0"
    clip = r3[(("RealSR", "2.0", "0.3"), "clipiqa")]
    assert clip.paper == "65.92" and clip.paper_score == pytest.approx(0.6592)  # printed x100
    assert clip.ours == pytest.approx(0.66) and clip.verdict == "within"
    # rows are the printed cells; the reading names the columns (and sets the runs' λ: tests/test_config.py)
    spec = build_spec(synth, "table3")
    assert spec.row_headers == ("λ_w", "λ_p") and spec.entries[0].paper == {"dataset": "RealSR", "lambda_1": "2.0", "lambda_2": "0.3"}
    other = copy.deepcopy(synth)
    other["tables"]["table3"]["columns"] = ["lambda_p", "lambda_w"]
    spec = build_spec(other, "table3")
    assert spec.row_headers == ("λ_p", "λ_w") and spec.entries[0].paper == {"dataset": "RealSR", "lambda_1": "2.0", "lambda_2": "0.3"}


def test_a_profile_not_comparable_sets_no_paper_number_beside_ours(synth):
    """Issue 24: mini (comparable_to_paper false) set every paper cell beside ours as "not comparable"; now no row
    is made and every rendering says so in one sentence."""
    cfg = copy.deepcopy(synth)
    cfg["comparable_to_paper"] = False
    t = load_table(build_spec(cfg, "table1"))
    assert compare.compare(t, load_paper("table1", PAPER)) == []
    sentence = compare.not_comparable_sentence("synthetic")
    assert "Profile synthetic is a pipeline check" in sentence and "--config profile=real" in sentence
    md = compare.beside_markdown([], t.spec, "table1.compare.csv")
    html = compare.beside_html([], t.spec)
    assert sentence in md and html.count("<p") == 1 and "<table" not in html and "27.05" not in md + html
    assert "synthetic profile — not comparable to the paper's numbers." in render.to_markdown(build_grid(t))
    # the profile the sentence names sets the paper's RealSR and DRealSR beside ours
    from lgcaa.config import load_config

    real = build_spec(load_config(compare.REAL_PROFILE), "table1")
    assert real.comparable and {real.dataset_labels[d] for d in real.paper_sets} == {"RealSR", "DRealSR"}


def test_a_stand_in_dataset_is_never_set_beside_the_paper(synth):
    """A set mapped to a paper set by tables.compare.datasets but not that set (Set A is a mini set, not DIV2K-Val;
    the mini profile compared its Real-ESRGAN set with DIV2K-Val) gets no paper number beside it."""
    cfg = copy.deepcopy(synth)
    cfg["tables"]["compare"]["datasets"] = {"ds-a": "DIV2K-Val"}
    spec = build_spec(cfg, "table1")
    assert spec.paper_sets == {"ds-b": "RealSR"} and spec.entries[1].paper == {"dataset": "DIV2K-Val", "method": "realesrgan"}
    rows = compare.compare(load_table(spec), load_paper("table1", PAPER))
    div2k = [r for r in rows if r.keys[0] == "DIV2K-Val"]
    assert div2k and {r.verdict for r in div2k} == {"not comparable"}
    assert all(r.ours is None and r.entry == -1 and "Set A" in r.reason and "stand-in" in r.reason for r in div2k)
    _, shown = compare.beside(rows, spec)
    assert shown and {labels[0] for labels, _ in shown} == {"Set B"}
    # a regenerated LR of the paper's set is not the paper's set either
    cfg["datasets"]["ds-b"]["lr"] = "realesrgan-x4plus"
    assert build_spec(cfg, "table1").paper_sets == {}


def test_table1_beside_the_paper_shows_paper_ours_delta_and_verdict(synth):
    """The compact comparison the tables and the report open with: one row per cell of ours that has a paper
    counterpart, paper | ours | Δ | verdict, each HTML row classed (so coloured) by its verdict."""
    from lgcaa.report.style import CSS, VERDICT_RGB

    spec = build_spec(synth, "table1")
    rows = compare.compare(load_table(spec), load_paper("table1", PAPER))
    headers, shown = compare.beside(rows, spec)
    assert headers == ("Dataset", "Method", "Paper's method")
    assert len(shown) == 2 * 9  # GAN and LGCAA on Set B (RealSR), nine metrics; base has no paper column
    md = compare.beside_markdown(rows, spec, "table1.compare.csv")
    assert "| Dataset | Method | Paper's method | Metric | Paper | Ours | Δ | Verdict |" in md
    assert "| Set B | LGCAA | lgcaa | PSNR | 27.05 | 27.05 ± 0.12 | +0.00 | within |" in md
    assert "| Set B | GAN | realesrgan | PSNR | 25.69 | 24.00 | −1.69 | outside |" in md
    assert "| Set B | GAN | realesrgan | MUSIQ | 60.18 | — | — | missing |" in md and "table1.compare.csv" in md
    html = compare.beside_html(rows, spec)
    body = re.findall(r'<tr class="([\w-]+)">(.*?)</tr>', html)
    assert len(body) == len(shown) and {c for c, _ in body} >= {"within", "outside", "missing"}
    for cls, cells in body:  # the class is the verdict shown in the row's verdict cell
        assert re.search(r'<td class="verdict"[^>]*>([^<]*)</td>', cells).group(1).replace(" ", "-") == cls
    assert set(VERDICT_RGB) == set(compare.VERDICTS)  # one colour per verdict, in the one stylesheet
    for v, rgb in VERDICT_RGB.items():
        assert f"tr.{v.replace(' ', '-')} td {{ background: rgb({', '.join(map(str, rgb))}); }}" in CSS
    assert VERDICT_RGB["within"][1] > VERDICT_RGB["within"][0] and VERDICT_RGB["outside"][0] > VERDICT_RGB["outside"][1]


# ------------------------------------------------------------------------------------------------ spec and CLI


def test_spec_seed_instances_and_json_round_trip(synth):
    assert seed_instances(synth, "lgcaa") == [(0, "lgcaa"), (1, "lgcaa@seed1"), (2, "lgcaa@seed2")]
    assert seed_instances(synth, "gan") == [(0, "gan")]
    spec = build_spec(synth, "table2")
    assert [e.key for e in spec.entries] == [
        ("LGCAA", "standard"),
        ("LGCAA", "lgcaa"),
        ("DPACM", "none"),
        ("DPACM", "dpacm"),
    ]
    own = copy.deepcopy(synth)  # Tables II/III may name their paper dataset themselves
    own["tables"]["compare"]["datasets"] = {"ds-b": "DIV2K-Val"}
    own["tables"]["table2"]["paper_dataset"] = "RealSR"
    assert {e.paper["dataset"] for e in build_spec(own, "table2").entries} == {"RealSR"}
    assert {e.paper["dataset"] for e in build_spec(own, "table3").entries} == {"DIV2K-Val"}
    bad = copy.deepcopy(synth)
    bad["tables"]["table3"]["dataset"] = "nope"
    with pytest.raises(UserError, match="tables/table3: dataset 'nope'"):
        build_spec(bad, "table3")


def test_unconfigured_tables_say_so(synth):
    cfg = copy.deepcopy(synth)
    del cfg["tables"]["table2"]
    t, grid = rendered(cfg, "table2")
    assert not grid.rows and t.lock == ""
    md = render.to_markdown(grid)
    assert "tables.table2 is not configured in profile 'synthetic': no ablation variant was run." in md
    assert r"\emph{not run}" in render.to_latex(grid)


def test_cli_renders_every_output_with_mlflow_links(synth, tmp_path):
    from lgcaa.cli import main

    spec = build_spec(synth, "table1")
    record = str(Path(spec.entries[2].aggregates[0]).with_name("run.json"))
    links = tmp_path / "links.json"
    links.write_text(json.dumps({record: "http://127.0.0.1:5000/#/experiments/3/runs/abc"}))
    config = tmp_path / "config.json"
    config.write_text(json.dumps(synth))
    out = Path(synth["paths"]["results"]) / "tables"
    rc = main(["table", "render", "table1", "--config", str(config), "--paper", str(PAPER), "--links", str(links),
               "--record", str(out / "table1.run.json"), "--experiment", "x/report"])
    assert rc == 0
    for suffix in (
        "csv",
        "md",
        "tex",
        "html",
        "long.csv",
        "compare.csv",
        "compare.md",
        "compare.html",
        "metrics.json",
        "run.json",
    ):
        assert (out / f"table1.{suffix}").is_file(), suffix
    html = (out / "table1.html").read_text()
    assert '<a href="http://127.0.0.1:5000/#/experiments/3/runs/abc"' in html
    metrics = json.loads((out / "table1.metrics.json").read_text())
    assert metrics["ds-a"]["lgcaa"]["psnr"] == pytest.approx(27.05) and metrics["compare"]["within"] >= 1
    rec = json.loads((out / "table1.run.json").read_text())
    assert rec["params"]["lock"] == LOCK and str(out / "table1.tex") in rec["artifacts"]


def test_table3_full_model_cell_is_marked_as_the_table1_run_and_never_a_miss(synth):
    """One run serves Table I and Table III's printed (2.0, 0.3) cell; the paper prints different numbers for the
    two (26.71 vs 27.05 dB), so the rendered row is marked, the difference is computed from the paper's CSVs, and
    the comparison says "not comparable" (with the note) instead of counting a miss."""
    from lgcaa.config import load_config
    from lgcaa.tables.spec import SHARED_MARK

    spec = build_spec(load_config("paper"), "table3")
    shared = [e for e in spec.entries if e.shared]
    assert [(e.key, e.shared, e.row[1]) for e in shared] == [(("2.0", "0.3"), "lgcaa", f"0.3 {SHARED_MARK}")]
    notes = compare.shared_run_notes(spec, PAPER)
    psnr = notes[(spec.entries.index(shared[0]), "psnr")]
    print(psnr)
    assert "the Table I run" in psnr and "by -0.34 dB (26.71 vs 27.05)" in psnr
    quiet = load_config("paper")  # a profile not comparable to the paper: the mark's note without its numbers
    quiet["comparable_to_paper"] = False
    notes = compare.shared_run_notes(build_spec(quiet, "table3"), PAPER)
    assert notes and all(n == "the Table I run (lgcaa, as in the paper: one training)" for n in notes.values())
    # the verdict: a cell that would be outside its tolerance is reported, with Δ, as not comparable
    t3 = load_table(build_spec(synth, "table3"))
    rows = compare.compare(t3, load_paper("table3", PAPER), {(0, "psnr"): "the Table I run"})
    cell = next(r for r in rows if r.keys == ("RealSR", "2.0", "0.3") and r.metric == "psnr")
    assert cell.verdict == "not comparable" and cell.reason == "the Table I run" and cell.delta is not None
    assert next(r for r in compare.compare(t3, load_paper("table3", PAPER))
                if r.keys == ("RealSR", "2.0", "0.3") and r.metric == "psnr").verdict in ("within", "outside")


def test_the_paper_and_headline_lines(tmp_path):
    from lgcaa.tables.paper import paper_lines
    from lgcaa.tables.write import headline_line

    cells = load_paper("table1", PAPER)
    table, count = paper_lines(cells)
    assert count == f"{len(cells)} cells, all present" and len(cells) > 0
    assert "note" not in table.splitlines()[0].split() and len(table.splitlines()) == 1 + len(cells)
    (tmp_path / "h" / "a").mkdir(parents=True)
    for f in ("h/a/psnr.json", "h/b.json", "h/notes.txt"):
        (tmp_path / f).write_text("{}")
    assert headline_line(tmp_path / "h") == f"{tmp_path / 'h'}: 2 metric files for `dvc metrics show`"
