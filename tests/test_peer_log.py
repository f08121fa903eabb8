"""The parser of OSEDiff's published `test_METRICS_*.log` and the golden comparison, on synthetic logs (every
refusal) and on the two published logs (counts, and every printed average equal to the mean of the per-image
values it parsed: a value misread or an image dropped would move a mean)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lgcaa.errors import UserError
from lgcaa.metrics.peer_log import GOLDEN_TOLERANCES, compare_with_log, drift_lines, parse_peer_log

HEAD = """24-10-23 17:28:54.191 - INFO: ===== Configuration =====
24-10-23 17:28:54.191 - INFO:   inp_imgs: ['preset/datasets/benchmark_realsr/results_osediff']
  gt_imgs: ['preset/datasets/benchmark_realsr/test_HR']

24-10-23 17:29:02.211 - INFO: Directory [results_osediff]: {n} GT images vs {n} SR images.
24-10-23 17:29:02.221 - INFO: Testing Directory: [results_osediff]
"""
LINE = ("24-10-23 17:29:03.278 - INFO: results_osediff/{name} | PSNR: {psnr}; SSIM: 0.851268; NIQE: 5.673670 "
        "| Runtime: 1.06 sec\n")
TAIL = """24-10-23 17:29:51.394 - INFO: 
===== Average Metrics for [results_osediff] =====
PSNR: 25.0000; SSIM: 0.8513; NIQE: 5.6737 | FID: 123.493817 | FID Runtime: 6.79 sec

24-10-23 17:29:51.394 - INFO: ===== Evaluation Completed =====
"""


def _log(tmp_path: Path, lines: list[str] | None = None, n: int | None = None, tail: str = TAIL) -> Path:
    lines = lines if lines is not None else [LINE.format(name="a_LR4.png", psnr="24.5"),
                                             LINE.format(name="b_LR4.png", psnr="25.5")]
    p = tmp_path / "test_METRICS_x.log"
    p.write_text(HEAD.format(n=len(lines) if n is None else n) + "".join(lines) + tail)
    return p


def test_parses_images_and_averages(tmp_path):
    log = parse_peer_log(_log(tmp_path))
    assert list(log.images) == ["a_LR4.png", "b_LR4.png"]
    assert log.images["a_LR4.png"] == {"psnr": 24.5, "ssim": 0.851268, "niqe": 5.67367}
    assert log.metrics == ["psnr", "ssim", "niqe"]
    assert log.means == {"psnr": 25.0, "ssim": 0.8513, "niqe": 5.6737, "fid": 123.493817}
    assert log.n_declared == 2


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"n": 3}, "2 per-image lines, but the log says it scored 3"),
        ({"lines": [LINE.format(name="a.png", psnr="1")] * 2}, "image a.png listed twice"),
        ({"lines": [LINE.format(name="a.png", psnr="x1")]}, "cannot read 'PSNR: x1'"),
        ({"lines": [LINE.format(name="a.png", psnr="1").replace("NIQE", "BRISQUE")]}, "unknown metric 'BRISQUE'"),
        ({"lines": [LINE.format(name="a.png", psnr="1"), LINE.format(name="b.png", psnr="1").replace("; NIQE: 5.673670", "")]},
         "b.png has metrics"),
        ({"tail": ""}, "no '===== Average Metrics for ...' section"),
    ],
)
def test_a_broken_log_is_refused_naming_it(tmp_path, kwargs, message):
    with pytest.raises(UserError, match=message) as exc:
        parse_peer_log(_log(tmp_path, **kwargs))
    assert "test_METRICS_x.log" in str(exc.value)


def test_a_file_that_is_not_such_a_log_is_refused(tmp_path):
    p = tmp_path / "other.log"
    p.write_text("hello\n")
    with pytest.raises(UserError, match="no 'Directory"):
        parse_peer_log(p)


def test_comparison_passes_within_and_fails_beyond_tolerance(tmp_path):
    log = parse_peer_log(_log(tmp_path))
    ours = {"psnr": {"a_LR4.png": 24.50005, "b_LR4.png": 25.49996}, "ssim": {"a_LR4.png": 0.851268, "b_LR4.png": 0.851268},
            "niqe": {"a_LR4.png": 5.67367, "b_LR4.png": 5.67367}}
    check = compare_with_log(ours, log)
    assert check["ok"], check
    assert check["metrics"]["psnr"]["max_abs_diff"] == pytest.approx(5e-5)
    assert check["metrics"]["psnr"]["tolerance_per_image"] == GOLDEN_TOLERANCES["psnr"][0]
    assert drift_lines(check) == []

    ours["psnr"]["b_LR4.png"] = 25.5002  # one image off by 2e-4 > 1e-4
    check = compare_with_log(ours, log)
    assert not check["ok"] and check["metrics"]["psnr"]["over_tolerance"] == ["b_LR4.png"]
    assert any("psnr: 1 of 2 images off by more than 0.0001; worst b_LR4.png: log 25.500000, ours 25.500200" in line
               for line in drift_lines(check))

    ours["psnr"]["b_LR4.png"] = 25.5
    ours["niqe"] = {"a_LR4.png": 5.68767, "b_LR4.png": 5.68767}  # per image within 0.02, mean off by 0.014 > 1e-3
    check = compare_with_log(ours, log)
    assert not check["ok"] and check["metrics"]["niqe"]["over_tolerance"] == []
    assert any(line.startswith("niqe: mean log 5.6737, ours 5.6877") for line in drift_lines(check))


def test_a_metric_missing_here_is_skipped_with_its_reason_and_one_not_scored_fails(tmp_path):
    log = parse_peer_log(_log(tmp_path))
    ours = {"psnr": {"a_LR4.png": 24.5, "b_LR4.png": 25.5}, "ssim": {"a_LR4.png": 0.851268, "b_LR4.png": 0.851268}}
    check = compare_with_log(ours, log, missing={"niqe": "weights absent: x"})
    assert check["ok"] and check["metrics"]["niqe"] == {"status": "skipped", "reason": "weights absent: x"}
    check = compare_with_log(ours, log)
    assert not check["ok"] and check["metrics"]["niqe"]["status"] == "not scored"
    del ours["psnr"]["b_LR4.png"]
    check = compare_with_log(ours, log, missing={"niqe": "weights absent: x"})
    assert not check["ok"] and "1 images of the log not scored" in check["metrics"]["psnr"]["reason"]


@pytest.mark.parametrize("dataset,n", [("realsr", 100), ("drealsr", 93)])
def test_the_published_logs_parse_and_their_averages_are_the_means_of_their_images(shared_data, dataset, n):
    (path,) = sorted((shared_data / "osediff-outputs" / dataset / "metrics").glob("test_METRICS_*.log"))
    log = parse_peer_log(path)
    assert len(log.images) == log.n_declared == n
    assert log.metrics == ["psnr", "ssim", "lpips", "dists", "clipiqa", "niqe", "musiq", "maniqa"]
    pngs = {p.name for p in (shared_data / "osediff-outputs" / dataset).glob("*.png")}
    assert set(log.images) == pngs  # the outputs the log scored are the published ones, by name
    for m in log.metrics:
        mean = sum(v[m] for v in log.images.values()) / n
        assert round(mean, 4) == pytest.approx(log.means[m], abs=1e-12), m  # printed with 4 decimals
    assert set(log.means) == {*log.metrics, "fid"}


def _aggregate(metrics: dict[str, str]) -> dict:
    return {"lock": "L", "n_images": 2, "metrics": {m: {"status": s, "reason": f"{m} weights absent", "fix": f"f {m}"}
                                                    for m, s in metrics.items()}}


def test_compare_scores_reads_a_dag_evaluation_whole_or_as_a_subset(tmp_path):
    """The DAG's golden check (`lgcaa metrics compare-log`): scores already computed against the log, the log cut
    to the images scored (a `limit` subset compares per image only, never its means), metrics the evaluation
    reports missing skipped with its reason, a value beyond tolerance a drift, an image not in the log refused."""
    from lgcaa.metrics.peer_log import compare_scores

    log = _log(tmp_path)
    agg = _aggregate({"psnr": "ok", "ssim": "ok", "niqe": "missing"})
    ours = {"psnr": {"a_LR4.png": 24.5, "b_LR4.png": 25.5}, "ssim": {"a_LR4.png": 0.851268, "b_LR4.png": 0.851268}}
    whole = compare_scores(ours, agg, log)
    assert whole["ok"] and not whole["subset"] and whole["means_compared"] and whole["lock"] == "L"
    assert whole["metrics"]["psnr"]["mean_abs_diff"] == 0.0 and whole["metrics"]["niqe"]["status"] == "skipped"
    cut = compare_scores({m: {"b_LR4.png": v["b_LR4.png"]} for m, v in ours.items()}, agg, log)
    assert cut["ok"] and cut["subset"] and cut["n_images"] == 1 and cut["n_log_images"] == 2
    assert "mean_log" not in cut["metrics"]["psnr"]  # the log's mean covers both images: not compared
    ours["psnr"]["a_LR4.png"] += 2e-4
    bad = compare_scores(ours, agg, log)
    assert not bad["ok"] and bad["metrics"]["psnr"]["over_tolerance"] == ["a_LR4.png"]
    with pytest.raises(UserError, match="not in the peer's log"):
        compare_scores({"psnr": {"c_LR4.png": 1.0}}, agg, log)


def test_golden_check_of_a_folder_never_passes_on_a_subset_of_the_log(tmp_path):
    """`golden_check` scores a folder against the whole log: a folder holding only some of the log's images fails
    ("images of the log not scored", a drift) though every image it holds matches the log, while `compare_scores`
    (the DAG's check of scores it already has) passes the same scores as a stated subset, per image only."""
    import numpy as np

    from lgcaa.io import write_png
    from lgcaa.metrics.evaluate import evaluate
    from lgcaa.metrics.peer_log import compare_scores, golden_check

    rng = np.random.default_rng(0)
    names = ("a_LR4.png", "b_LR4.png")
    for name in names:
        hr = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
        sr = np.clip(hr.astype(int) + rng.integers(-8, 9, hr.shape), 0, 255).astype(np.uint8)
        for root, image in (("hr", hr), ("sr", sr)):
            write_png(tmp_path / root / name, image)
            if name == names[0]:
                write_png(tmp_path / f"{root}-1" / name, image)
    psnr = {image: v for image, _, v in evaluate(tmp_path / "sr", tmp_path / "hr", ["psnr"], device="cpu").rows}
    lines = [f"24-10-23 17:29:03.278 - INFO: results_osediff/{n} | PSNR: {psnr[n]:.6f} | Runtime: 1.06 sec\n"
             for n in names]
    mean = sum(psnr.values()) / len(psnr)
    log = _log(tmp_path, lines, tail=f"===== Average Metrics for [results_osediff] =====\nPSNR: {mean:.4f} | FID: 1.0 "
                                     "| FID Runtime: 1 sec\n")
    whole = golden_check(tmp_path / "sr", tmp_path / "hr", log)
    assert whole["ok"] and whole["metrics"]["psnr"]["status"] == "ok", whole  # the log matches the folder
    part = golden_check(tmp_path / "sr-1", tmp_path / "hr-1", log)
    assert not part["ok"] and part["metrics"]["psnr"]["status"] == "drift"
    assert "1 images of the log not scored" in part["metrics"]["psnr"]["reason"]
    assert drift_lines(part) == [f"psnr: {part['metrics']['psnr']['reason']}"]
    ev = evaluate(tmp_path / "sr-1", tmp_path / "hr-1", ["psnr"], device="cpu")
    cut = compare_scores({"psnr": {image: v for image, _, v in ev.rows}}, ev.aggregate, log)
    assert cut["ok"] and cut["subset"] and cut["n_images"] == 1 and "mean_log" not in cut["metrics"]["psnr"]
