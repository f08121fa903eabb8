"""The figures on synthetic images and numbers: where the crop lands, what is scored under it, Fig. 8's stand-in
axis, per-image and training plots, latent W1, attention maps, and every figure of a profile rendered (never
blank) through the CLI."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest
from test_tables import GAN, LGCAA_SEEDS, LPIPS_MISSING, synth_config, write_eval

from lgcaa.config import load_config
from lgcaa.figures import crops
from lgcaa.figures.curve import load_curves, make_figure, plot, to_csv
from lgcaa.figures.panels import compare_row
from lgcaa.figures.spec import PanelSet, build_figure
from lgcaa.io import write_png
from lgcaa.tables.spec import build_curve_spec


def _scene(rng: np.random.Generator) -> np.ndarray:
    """64x64 HR: flat grey except a textured bottom-right quadrant (stripes that survive x4 downscaling)."""
    hr = np.full((64, 64, 3), 128.0)
    yy, xx = np.mgrid[0:32, 0:32]
    phase = rng.uniform(0, 2 * np.pi)
    hr[32:, 32:] = (128 + 110 * np.sin(2 * np.pi * (xx + yy) / 16 + phase))[..., None]
    return hr.astype(np.uint8)


def _blocky(hr: np.ndarray) -> np.ndarray:
    return np.kron(hr[::4, ::4], np.ones((4, 4, 1))).astype(np.uint8)


def _write_set(root: Path, rng: np.random.Generator, name: str = "a.png") -> PanelSet:
    hr = _scene(rng)
    lr = crops.resize(hr, (16, 16))
    write_png(root / "hr" / name, hr)
    write_png(root / "lr" / name, lr)
    good = crops.resize(lr, (64, 64))
    other = good.copy()
    other[40:56, 40:56] = np.clip(other[40:56, 40:56].astype(int) + 45, 0, 255)  # disagree where there is structure
    flat_diff = good.copy()
    flat_diff[4:24, 4:24] = 88  # a larger disagreement area in the flat region: must not win
    noise = rng.integers(0, 256, size=(64, 64, 3), dtype=np.uint8)  # not an image of the scene
    methods = []
    for m, img in (("good", good), ("other", other), ("flat", flat_diff), ("noise", noise)):
        write_png(root / "sr" / m / name, img)
        methods.append((m, m.upper(), str(root / "sr" / m)))
    return PanelSet("ds", "Set", str(root / "lr"), str(root / "hr"), tuple(methods))


def per_image_config(results: Path) -> dict:
    """A synthetic profile whose Table I has three methods on two datasets, with per-image PSNR written under
    `results` (the per-image figure's inputs)."""
    cfg = synth_config(results)
    cfg["seeds"] = {"k": 1, "methods": []}
    cfg["tables"]["table1"]["methods"] = ["bicubic", "gan", "lgcaa"]
    for ds in ("ds-a", "ds-b"):
        write_eval(results, ds, "bicubic", {"psnr": [25.0, 26.0, 27.0, 28.0]})
        write_eval(results, ds, "gan", {"psnr": [25.5, 25.0, 27.5, 27.0]})
        write_eval(results, ds, "lgcaa", {"psnr": [26.0, 26.5, 26.0, 29.0]})
    return cfg


def test_psnr_y_matches_the_metrics_protocol():
    import pyiqa
    import torch

    rng = np.random.default_rng(3)
    a = rng.integers(0, 256, size=(32, 32, 3), dtype=np.uint8)
    b = np.clip(a.astype(int) + rng.integers(-20, 20, size=a.shape), 0, 255).astype(np.uint8)
    to = lambda x: torch.from_numpy(x).permute(2, 0, 1)[None].float() / 255
    ref = pyiqa.create_metric("psnr", test_y_channel=True, color_space="ycbcr", crop_border=0, device="cpu")
    assert crops.psnr_y(a, b) == pytest.approx(float(ref(to(a), to(b))), abs=1e-3)


def test_crop_follows_structure_where_real_outputs_disagree(tmp_path):
    s = _write_set(tmp_path, np.random.default_rng(0))
    row = compare_row(s, "a.png", 16, 0.5)
    y, x, size = row.box
    assert size == 16 and y % 4 == 0 and x % 4 == 0  # on the scale grid: the LR crop maps exactly
    assert y >= 28 and x >= 28  # the textured quadrant, not the flat corner where 'flat' disagrees more
    tiles = {t.label: t for t in row.tiles}
    assert list(tiles) == ["LR", "GOOD", "OTHER", "FLAT", "NOISE", "HR"]
    assert tiles["LR"].image.shape == (4, 4, 3) and tiles["HR"].image.shape == (16, 16, 3)
    assert tiles["NOISE"].real is False and tiles["GOOD"].real is True
    assert set(row.excluded()) == {"NOISE"}
    from lgcaa.figures.panels import excluded_notes

    assert excluded_notes([row, row], 0.5)[0].startswith("NOISE: left out of the crop choice on 2/2 image(s)")
    assert tiles["GOOD"].psnr > tiles["NOISE"].psnr and "dB" in tiles["GOOD"].caption
    # without the structure term the flat corner (larger disagreement) would have won
    real = [crops.resize(crops.resize(_scene(np.random.default_rng(0)), (16, 16)), (64, 64))]
    ys, xs, dis = crops.window_means(crops.disagreement(real + [real[0] * 0]), 16, 4)
    iy, ix = np.unravel_index(int(np.argmax(dis)), dis.shape)
    assert (ys[iy], xs[ix]) != (y, x)


def test_lr_only_rows_have_no_hr_and_no_scores(tmp_path):
    s = _write_set(tmp_path, np.random.default_rng(1))
    lr_only = PanelSet(s.dataset, s.label, s.lr_dir, "", s.methods)
    row = compare_row(lr_only, "a.png", 16, 0.5)
    assert [t.label for t in row.tiles][-1] != "HR" and all(t.psnr is None for t in row.tiles)
    assert row.overview_label.startswith("LR (bicubic ×4)")


def _profile(tmp_path: Path) -> dict:
    """The tables' synthetic profile with images for the panel figures of two datasets."""
    results = tmp_path / "results"
    cfg = synth_config(results)
    cfg["methods"] = ["base", "gan", "lgcaa", "v-std", "v-none", "v-l1"]
    rng = np.random.default_rng(4)
    for ds in ("ds-a", "ds-b"):
        for name in ("a.png", "b.png"):
            s = _write_set(tmp_path / "tmp" / ds, rng, name)
            for m, label, folder in s.methods:
                dest = {"good": "base", "other": "gan", "flat": "lgcaa", "noise": "v-none"}[m]
                write_png(results / "sr" / ds / dest / name, crops_read(Path(folder) / name))
            for sub in ("hr", "lr"):
                write_png(tmp_path / "data" / ds / sub / name, crops_read(tmp_path / "tmp" / ds / sub / name))
        (tmp_path / "data" / ds / "manifest.json").write_text("{}")
    cfg["figures"] = {"images": 2, "crop": 16, "fig5": {"dataset": "ds-a"}, "fig7": {"dataset": "ds-b", "note": "x"}}
    cfg["mini"] = {"photos": ["astronaut"], "hr_size": 64, "scale": 4}  # the datasets' source (validation)
    cfg["metrics"] = ["psnr", "ssim", "lpips", "niqe"]
    return cfg


def crops_read(p: Path) -> np.ndarray:
    from lgcaa.io import read_rgb

    return read_rgb(p)


def test_figure_specs_follow_the_profile(tmp_path):
    cfg = _profile(tmp_path)
    f4 = build_figure(cfg, "fig4")
    assert [s.dataset for s in f4.sets] == ["ds-a", "ds-b"] and [m[0] for m in f4.sets[0].methods] == ["base", "gan", "lgcaa"]
    assert build_figure(cfg, "fig5").sets[0].hr_dir == ""  # LR-only
    f9 = build_figure(cfg, "fig9")
    assert [m[1] for m in f9.sets[0].methods] == ["No DPACM", "DPACM"]  # Table II's DPACM rows
    assert "not configured" in build_figure(cfg, "fig6").note
    f10 = build_figure(cfg, "fig10")  # Table II's methods here are baselines: nothing to capture
    assert "not produced by a trained LGCAA run" in f10.note


def _curve_config(results: Path, lpips: bool, niqe: bool = True, gain: float = 0.2) -> dict:
    """Fig. 8 on synthetic evaluations: LGCAA's PSNR rises by `gain` dB per step count (per-image spread 2 dB),
    SeeSR's points are the GAN's scores at every step count."""
    cfg = synth_config(results)
    cfg["tables"]["curves"] = {
        "dataset": "ds-b",
        "series": [
            {"label": "LGCAA", "points": [{"steps": s, "method": f"lgcaa-s{s}"} for s in (50, 30, 40)]},
            {"label": "SeeSR", "key": "seesr", "points": [{"steps": s, "method": f"seesr-s{s}"} for s in (30, 40, 50)]},
        ],
    }
    cfg["seeds"] = {"k": 1, "methods": []}
    for i, s in enumerate((30, 40, 50)):
        vals = copy.deepcopy(LGCAA_SEEDS[0])
        vals["psnr"] = [v + gain * i for v in vals["psnr"]]
        vals["lpips"] = [v + 0.01 * i for v in vals["lpips"]] if lpips else LPIPS_MISSING
        vals["niqe"] = [5.0 - 0.1 * i] * 4 if niqe else "weights absent: niqe.mat"
        write_eval(results, "ds-b", f"lgcaa-s{s}", vals)
        write_eval(results, "ds-b", f"seesr-s{s}", {**GAN, "lpips": GAN["lpips"] if lpips else LPIPS_MISSING,
                                                     "niqe": [4.0 + 0.1 * i] * 4 if niqe else "weights absent: niqe.mat"})
    return cfg


def test_fig8_plots_niqe_as_a_labelled_stand_in_when_lpips_is_missing(tmp_path):
    curves = load_curves(build_curve_spec(_curve_config(tmp_path / "results", lpips=False)))
    assert curves.y_metric == "niqe" and curves.any_drawable
    fig = make_figure(curves)
    ax = fig.axes[0]
    assert len(ax.lines) >= 2  # both series drawn
    assert "stand-in" in ax.get_ylabel() and "stand-in" in ax.get_title() and "NIQE" in ax.get_title()
    assert list(ax.lines[0].get_ydata()) == pytest.approx([5.0, 4.9, 4.8])
    text = " ".join(t.get_text() for t in fig.texts).replace("\n", " ")  # under the plot, not over the points
    assert "LPIPS unavailable: weights absent" in text and "not what the paper plots" in text
    assert not any("LPIPS unavailable" in t.get_text() for t in ax.texts)
    rows = to_csv(curves).splitlines()
    assert rows[0].split(",")[-2:] == ["y_metric", "status"] and rows[1].split(",")[-2:] == ["niqe", "ok"]


def test_fig8_without_any_perceptual_metric_says_why(tmp_path):
    curves = load_curves(build_curve_spec(_curve_config(tmp_path / "results", lpips=False, niqe=False)))
    assert not curves.any_drawable
    ax = make_figure(curves).axes[0]
    assert not ax.lines
    assert "LPIPS unavailable" in " ".join(t.get_text() for t in ax.texts).replace("\n", " ")


def test_fig8_plots_lpips_when_present_and_reruns_byte_identical(tmp_path):
    curves = load_curves(build_curve_spec(_curve_config(tmp_path / "results", lpips=True)))
    assert curves.y_metric == "lpips" and [label for label, _ in curves.series] == ["LGCAA", "SeeSR"]
    assert curves.spec.keys == ("lgcaa", "seesr")
    ax = make_figure(curves).axes[0]
    assert list(ax.lines[0].get_xdata()) == pytest.approx([27.0, 27.2, 27.4])
    assert list(ax.lines[0].get_ydata()) == pytest.approx([0.27, 0.28, 0.29])
    png, pdf = tmp_path / "c.png", tmp_path / "c.pdf"
    plot(curves, png, pdf)
    first = (png.read_bytes(), pdf.read_bytes())
    plot(curves, png, pdf)
    assert (png.read_bytes(), pdf.read_bytes()) == first


def test_fig8_bootstrap_interval_contains_the_mean_narrows_with_more_images_and_is_seeded(tmp_path):
    from lgcaa.tables.stats import bootstrap_ci

    rng = np.random.default_rng(5)
    few, many = rng.normal(27.0, 1.0, 8), rng.normal(27.0, 1.0, 800)
    for x in (few, many):
        lo, hi = bootstrap_ci(x, 1000, 0, "fig8")
        assert lo < x.mean() < hi
    width = {len(x): np.subtract(*bootstrap_ci(x, 1000, 0, "fig8")[::-1]) for x in (few, many)}
    assert width[800] < width[8] / 5  # ~1/sqrt(N): 10x more images -> ~3x narrower at least
    cfg = _curve_config(tmp_path / "results", lpips=True)
    curves = load_curves(build_curve_spec(cfg))
    points = [p for p in curves.points() if curves.drawable(p)]
    assert len(points) == 6
    for p in points:
        for c in (p.psnr, p.lpips):
            assert c.boot is not None and c.boot[0] <= c.mean <= c.boot[1]
    assert [p.psnr.boot for p in load_curves(build_curve_spec(copy.deepcopy(cfg))).points()] == \
        [p.psnr.boot for p in curves.points()]  # the same seed: the same intervals
    cfg["tables"]["bootstrap"] = {"seed": 1, "n": 200}  # tables.bootstrap sets the resamples and the seed
    other = load_curves(build_curve_spec(cfg))
    assert other.spec.bootstrap["n"] == 200
    assert [p.psnr.boot for p in other.points()] != [p.psnr.boot for p in curves.points()]
    note = curves.interval_note()
    assert "N = 4 test images" in note and "1000 resamples, seed 0" in note and "one seed per point" in note


def test_fig8_axes_never_stretch_a_spread_below_the_tolerance_into_a_trend(tmp_path):
    from lgcaa.figures.curve import axis_limits, overlap

    lo, hi = axis_limits([27.00, 27.04], [27.00, 27.04], 0.5)  # a 0.04 dB spread, no intervals
    assert hi - lo >= 0.5 and (lo + hi) / 2 == pytest.approx(27.02)
    lo, hi = axis_limits([26.0, 27.5], [27.0, 29.0], 0.5)  # intervals wider than the minimum: all of them shown
    assert lo < 26.0 and hi > 29.0 and hi - lo == pytest.approx(3.0 * 1.16)
    assert overlap([(1.0, 2.0), (1.5, 3.0)]) is True and overlap([(1.0, 2.0), (2.5, 3.0)]) is False
    assert overlap([(1.0, 2.0)]) is None and overlap([(1.0, 2.0), None]) is None
    # every image 0.02 dB higher per step count: 0.04 dB from 30 to 50 steps, intervals of zero width
    results = tmp_path / "results"
    cfg = _curve_config(results, lpips=True)
    for i, s in enumerate((30, 40, 50)):
        write_eval(results, "ds-b", f"lgcaa-s{s}", {**LGCAA_SEEDS[0], "psnr": [27.0 + 0.02 * i] * 4})
    curves = load_curves(build_curve_spec(cfg))
    assert curves.spec.tolerances["psnr"] == 0.5
    ax = make_figure(curves).axes[0]
    x0, x1 = ax.get_xlim()
    assert x1 - x0 >= 0.5  # the 0.04 dB and the GAN's 24.0 dB points, not an axis blown up around 0.04 dB
    lgcaa_only = copy.deepcopy(cfg)
    lgcaa_only["tables"]["curves"]["series"] = lgcaa_only["tables"]["curves"]["series"][:1]
    ax = make_figure(load_curves(build_curve_spec(lgcaa_only))).axes[0]
    x0, x1 = ax.get_xlim()
    assert x1 - x0 == pytest.approx(0.5) and x0 < 27.0 and x1 > 27.04


def test_fig8_says_where_differences_are_within_the_intervals(tmp_path):
    flat = load_curves(build_curve_spec(_curve_config(tmp_path / "flat", lpips=True, gain=0.02)))
    steep = load_curves(build_curve_spec(_curve_config(tmp_path / "steep", lpips=True, gain=5.0)))
    rows = {name: [dict(zip(to_csv(c).splitlines()[0].split(","), line.split(",")))
                   for line in to_csv(c).splitlines()[1:]] for name, c in (("flat", flat), ("steep", steep))}
    lgcaa = {name: [r for r in rs if r["series"] == "LGCAA"] for name, rs in rows.items()}
    assert {r["psnr_within_intervals"] for r in lgcaa["flat"]} == {"yes"}
    assert {r["psnr_within_intervals"] for r in lgcaa["steep"]} == {"no"}
    r = lgcaa["flat"][0]
    assert float(r["psnr_low"]) <= float(r["psnr"]) <= float(r["psnr_high"]) and r["n_images"] == "4"
    assert r["k_seeds"] == "1" and r["y_metric"] == "lpips" and r["status"] == "ok"
    flat_notes = " ".join(flat.within_notes())
    assert "LGCAA: the PSNR" in flat_notes and "over steps 30/40/50 are within the points' 95% intervals" in flat_notes
    assert not any(n.startswith("LGCAA: the PSNR") for n in steep.within_notes())
    fig = make_figure(flat)
    caption = " ".join(t.get_text() for t in fig.texts).replace("\n", " ")
    assert "within the points' 95%" in caption and "Error bars: 95% percentile bootstrap" in caption
    assert "at least its metric's tolerance (PSNR 0.5 dB, LPIPS 0.02" in caption
    errorbars = [c for c in fig.axes[0].containers if c.has_xerr and c.has_yerr]
    assert len(errorbars) == 2  # both series, error bars on both axes


def test_fig8_with_seeds_says_what_the_interval_covers(tmp_path):
    results = tmp_path / "results"
    cfg = _curve_config(results, lpips=True)
    cfg["seeds"] = {"k": 2, "methods": ["lgcaa-s30", "lgcaa-s40", "lgcaa-s50"]}
    from lgcaa.instances import seed_instances

    for s in (30, 40, 50):
        for j, (_, inst) in enumerate(seed_instances(cfg, f"lgcaa-s{s}")):
            write_eval(results, "ds-b", inst, LGCAA_SEEDS[j])
    curves = load_curves(build_curve_spec(cfg))
    note = curves.interval_note()
    assert "k = 1/2 seeds each image's score is averaged over the seeds first" in note
    assert "not seed-to-seed variation" in note
    rows = to_csv(curves).splitlines()
    assert rows[1].split(",")[11] == "2"  # LGCAA @ 30: k_seeds


def test_fig11_states_the_image_count_of_its_latents_and_the_readme_agrees(repo_root):
    import re

    from lgcaa.figures.latents import FOOTER, LatentPair, caption, make_figure

    rng = np.random.default_rng(0)
    pairs = [LatentPair(v, v, rng.normal(0, 1, (4, 50)), rng.normal(0, 1, (4, 50)), ("a.png",)) for v in ("A", "B")]
    note = caption("Set B", pairs, "the profile's note")
    assert note == "Set B, 1 image: a.png — the profile's note"
    two = [LatentPair("A", "a", pairs[0].predicted, pairs[0].initial, ("a.png", "b.png"))]
    assert caption("Set B", two).startswith("Set B, 2 images: a.png, b.png")
    fig = make_figure("Fig. 11", note, pairs, FOOTER, "mini")
    assert "1 image: a.png" in " ".join(t.get_text() for t in fig.texts)
    assert all(ax.get_xlabel().startswith("latent value") and ax.get_ylabel() == "density" for ax in fig.axes)
    # the README's Fig. 11 row states the mini profile's image count: the count the figure is drawn from
    row = next(line for line in (repo_root / "README.md").read_text().splitlines() if line.startswith("| Fig. 11 |"))
    stated = re.search(r"(\d+) images?\s*\|\s*$", row)
    assert stated, row
    assert int(stated.group(1)) == build_figure(load_config("mini"), "fig11").images


def test_latent_w1_equals_scipy_and_the_figure_draws_every_channel():
    from scipy.stats import wasserstein_distance

    from lgcaa.figures.latents import LatentPair, make_figure, to_csv, w1

    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 1, 500), rng.normal(0.5, 2, 500)
    assert w1(a, b) == pytest.approx(wasserstein_distance(a, b))
    assert w1(a, rng.normal(0, 1, 300)) == pytest.approx(wasserstein_distance(a, rng.normal(0, 1, 300)), abs=0.1)
    pair = LatentPair("DPACM", "run", rng.normal(0, 1, (4, 200)), rng.normal(0.3, 1, (4, 200)))
    fig = make_figure("t", "n", [pair, LatentPair("None", "r2", pair.initial + 1, pair.initial)])
    assert len(fig.axes) == 8 and "W1" in fig.axes[0].get_title()
    assert to_csv([pair]).count("\n") == 1 + 4


def test_attention_figure_from_a_synthetic_capture():
    from lgcaa.figures.attention_maps import AttentionCapture, StageCapture, make_figure, pca_rgb, to_csv

    rng = np.random.default_rng(0)
    rgb = pca_rgb(rng.normal(size=(64, 16)), (8, 8))
    assert rgb.shape == (8, 8, 3) and 0 <= rgb.min() and rgb.max() <= 1
    att = np.zeros(64)
    att[:16] = 1 / 16
    cap = AttentionCapture("down_blocks.0.attn1", 2, 1, 9, "a.png", np.zeros((32, 32, 3), np.uint8),
                           np.zeros((32, 32, 3), np.uint8),
                           [StageCapture("local", rng.normal(size=(64, 16)), (8, 8), att),
                            StageCapture("global", rng.normal(size=(64, 16)), (8, 8), np.full(64, 1 / 64)),
                            StageCapture("output", rng.normal(size=(64, 16)), (8, 8))])
    fig = make_figure("Fig. 10", "note", cap)
    titles = [a.get_title() for a in fig.axes]
    assert any("16 tokens" in t for t in titles) and any("64 tokens" in t for t in titles)
    assert len(to_csv(cap).splitlines()) == 4


def test_per_image_scatter_and_table(tmp_path):
    from lgcaa.figures.per_image import load_per_image, make_figure, shown_images, to_csv, to_html
    from lgcaa.tables.spec import build_spec

    cfg = per_image_config(tmp_path / "results")
    data = load_per_image(build_spec(cfg, "table1"))
    assert [d.reference for d in data] == ["bicubic", "bicubic"] and len(data[0].images) == 4
    fig = make_figure(data, "t")
    assert len(fig.axes) == 2 and "2/4 above" in fig.axes[0].get_legend().get_texts()[0].get_text()
    assert "minus_reference" in to_csv(data).splitlines()[0]
    assert len(shown_images(data[0], 2)) == 2
    html = to_html(data, limit=2)
    assert html.count("<tr><th>") == 2 * (1 + 2) and "2 of 4 images" in html  # header + 2 rows, 2 datasets


def test_training_curves_from_metrics_jsonl(tmp_path):
    from lgcaa.errors import UserError
    from lgcaa.figures.training import ema, make_figure, read_metrics, to_csv

    p = tmp_path / "metrics.jsonl"
    p.write_text("".join(json.dumps({"step": s, "loss/total": 1.0 / s, "loss/mse": 0.5 / s}) + "\n" for s in range(1, 11)))
    c = read_metrics("run", p)
    assert set(c.terms) == {"loss/total", "loss/mse"} and c.steps.tolist() == list(range(1, 11))
    assert ema(np.array([1.0, np.nan, 3.0]), 1).tolist() == [1.0, 1.0, 3.0]
    fig = make_figure([c], "t")
    assert [a.get_title() for a in fig.axes] == ["loss/total", "loss/mse"]
    assert to_csv([c]).splitlines()[0] == "run,step,loss/total,loss/mse,loss/wasserstein,loss/lpips"
    with pytest.raises(UserError, match="finish `lgcaa train`"):
        read_metrics("x", tmp_path / "absent.jsonl")


def _not_blank(png: Path) -> float:
    from PIL import Image

    return float(np.asarray(Image.open(png).convert("L")).std())


def test_every_panel_figure_renders_through_the_cli(tmp_path):
    from lgcaa.cli import main

    cfg = _profile(tmp_path)
    path = tmp_path / "cfg.json"
    path.write_text(json.dumps(cfg))
    for name in ("fig4", "fig5", "fig6", "fig7", "fig9", "fig10", "fig11"):
        rec = tmp_path / f"{name}.run.json"
        assert main(["figure", "render", name, "--config", str(path), "--record", str(rec)]) == 0
        png = Path(cfg["paths"]["results"]) / "figures" / f"{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.with_suffix(".pdf").is_file()
        assert _not_blank(png) > 5, name  # never an empty box: either crops or the reason in words
        assert json.loads(rec.read_text())["params"]["figure"] == name
    rows = (Path(cfg["paths"]["results"]) / "figures" / "fig4.csv").read_text().splitlines()
    assert len(rows) == 1 + 2 * 2 * 3  # 2 datasets x 2 images x 3 methods
    assert rows[1].split(",")[8]  # the crop's PSNR
    fig5 = (Path(cfg["paths"]["results"]) / "figures" / "fig5.csv").read_text().splitlines()
    assert fig5[1].split(",")[8] == ""  # LR-only: nothing scored


def test_a_subset_dataset_copies_the_chosen_pairs_with_provenance(tmp_path):
    from lgcaa.cli import main
    from lgcaa.data.manifest import build_manifest, verify_manifest, write_manifest
    from lgcaa.data.subset import choose
    from lgcaa.errors import UserError

    src = tmp_path / "data" / "big"
    rng = np.random.default_rng(0)
    for n in ("c.png", "a.png", "b.png"):
        write_png(src / "hr" / n, rng.integers(0, 256, size=(16, 16, 3), dtype=np.uint8))
        write_png(src / "lr" / n, rng.integers(0, 256, size=(4, 4, 3), dtype=np.uint8))
    write_manifest(src, build_manifest(src, "big", 4))
    rec = tmp_path / "sub.run.json"
    assert main(["data", "subset", "sub", "--source", "big", "--images", "2", "--data-root", str(tmp_path / "data"),
                 "--record", str(rec)]) == 0
    m = verify_manifest(tmp_path / "data" / "sub")
    assert m["count"] == 2 and m["subset_of"]["images"] == ["a.png", "b.png"] and m["subset_of"]["dataset"] == "big"
    assert choose(["a", "b"], ["b"], "x") == ["b"]
    with pytest.raises(UserError, match="subset names not in the source: z"):
        choose(["a", "b"], ["z"], "x")
    with pytest.raises(UserError, match="subset of 5 images asked, the source has 2"):
        choose(["a", "b"], 5, "x")


def test_your_own_lr_folder_is_an_lr_only_dataset_for_figs_5_and_6(tmp_path, repo_root):
    import os
    import subprocess
    import sys

    from lgcaa.cli import main
    from lgcaa.config import load_config, validate
    from lgcaa.data.manifest import verify_manifest
    from lgcaa.errors import UserError
    from lgcaa.instances import eval_pairs, sr_pairs

    folder = tmp_path / "mine"
    for n in ("x.png", "y.png"):
        write_png(folder / n, np.random.default_rng(0).integers(0, 256, size=(16, 16, 3), dtype=np.uint8))
    assert main(["data", "folder", "mine", "--lr-dir", str(folder), "--data-root", str(tmp_path / "data")]) == 0
    m = verify_manifest(tmp_path / "data" / "mine")
    assert m["lr_only"] and m["count"] == 2 and set(m["files"]) == {"lr/x.png", "lr/y.png"}
    (folder / "z.jpg").write_bytes(b"x")
    from lgcaa.data.folder import import_lr_folder

    with pytest.raises(UserError, match="1 non-PNG file"):
        import_lr_folder(folder, tmp_path / "data" / "m2")
    (folder / "z.jpg").unlink()
    cfg = load_config("mini")
    cfg["datasets"]["mine"] = {"source": "folder", "lr": "released", "lr_dir": str(folder), "label": "My photos"}
    cfg["figures"]["fig5"] = {"dataset": "mine"}
    with pytest.raises(UserError, match="shows 'lgcaa' on dataset 'mine', but no job produces it"):
        build_figure(validate(json.loads(json.dumps(cfg)), "t"), "fig5")
    cfg["model"]["runs"]["lgcaa"]["datasets"].append("mine")
    cfg = validate(cfg, "t")
    assert ("mine", "bicubic") in sr_pairs(cfg) and not any(d == "mine" for d, _ in eval_pairs(cfg))
    bad = json.loads(json.dumps(cfg))
    bad["tables"]["table1"]["datasets"].append("mine")
    with pytest.raises(UserError, match="LR-only dataset"):
        validate(bad, "t")
    path = tmp_path / "cfg.json"
    path.write_text(json.dumps(cfg))
    import shutil

    shutil.rmtree(tmp_path / "data" / "mine")  # the DAG builds it (rule data_folder)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    res = subprocess.run([sys.executable, "-m", "snakemake", "--snakefile", str(repo_root / "Snakefile"), "--directory",
                          str(tmp_path), "--configfile", str(path), "--cores", "2", "-n", "figures"],
                         capture_output=True, text=True, env=env, check=False)
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-3000:]
    import re

    assert re.search(r"rule data_folder:", out) and "wildcards: dataset=mine, method=realsr-df2k" in out, out[-3000:]
    assert "metrics/mine/" not in out  # SR outputs for the figure, never scored


# --- every figure type the DAG renders: no text past the canvas, no two texts overlapping, no legend over data ---


def test_layout_check_catches_clipped_and_overlapping_text_and_a_legend_over_points():
    from lgcaa.figures.draw import layout_problems, new_figure

    fig = new_figure(3, 2)
    fig.text(0.5, 0.5, "A label")
    fig.text(0.5, 0.5, "A label too")
    fig.text(0.95, 0.5, "runs past the right edge")
    ax = fig.add_axes((0.1, 0.1, 0.3, 0.3))
    ax.plot([0, 1], [1, 1], label="a line")
    ax.legend(loc="upper left")
    problems = layout_problems(fig)
    assert any(p.startswith("overlap: 'A label'") for p in problems), problems
    assert any(p.startswith("clipped: 'runs past") for p in problems), problems
    assert any("covers" in p for p in problems), problems
    assert not layout_problems(new_figure(3, 2))


def test_fig4_note_matches_the_mini_profile():
    cfg = load_config("mini")
    note = cfg["figures"]["fig4"]["note"]
    assert ("prepared backbone" in note) == ("prepare" in cfg["model"]) and "randomly initialised" not in note
    assert f"{cfg['model']['train']['steps']} training steps" in note
    assert f"t = {cfg['model']['sample']['start_step']}" in note


def _many_runs(tmp_path: Path, n: int = 4):
    from lgcaa.figures.training import read_metrics

    rng = np.random.default_rng(1)
    curves = []
    for r in range(n):
        p = tmp_path / f"m{r}.jsonl"
        rows = [{"step": s, "loss/total": 1.0 / s + 0.1 * r + 0.01 * rng.random(), "loss/mse": 0.5 / s + 0.05 * r,
                 "loss/wasserstein": 0.2 + 0.01 * rng.random(), "loss/lpips": 0.3 - 0.001 * s}
                for s in range(1, 41)]
        p.write_text("".join(json.dumps(row) + "\n" for row in rows))
        curves.append(read_metrics(["lgcaa", "lgcaa-attn-standard", "lgcaa-dpacm-none", "lgcaa-lp2-lw0.1"][r], p))
    return curves


def _every_figure(tmp_path: Path, monkeypatch) -> dict[str, object]:
    from lgcaa.figures import attention_maps, latents, per_image, render, training
    from lgcaa.figures.draw import message_figure
    from lgcaa.figures.spec import TITLES
    from lgcaa.tables.spec import build_spec

    figs: dict[str, object] = {}
    write = render._write
    current = {}

    def keep(fig, csv_text, out):
        figs[current["name"]] = fig
        write(fig, csv_text, out)

    monkeypatch.setattr(render, "_write", keep)
    cfg = _profile(tmp_path)
    cfg["figures"]["fig7"]["note"] = load_config("mini")["figures"]["fig4"]["note"] * 2  # a long note: wrapped, sized
    for name in ("fig4", "fig5", "fig6", "fig7", "fig9", "fig10", "fig11"):
        current["name"] = name
        render.render(cfg, name)
    from lgcaa.figures.draw import panel_grid
    from lgcaa.figures.panels import rows_for

    rows = rows_for(build_figure(cfg, "fig4"))
    for r in rows:  # the mini run's long column header and a long dataset label (they collided before)
        r.dataset_label = "Mini (Real-ESRGAN deg. x4)"
        r.tiles[-1].label = "LGCAA (tiny: prepared backbone, 40 steps, sampled from t=500)"
    figs["fig4-long-headers"] = panel_grid("Fig. 4 — visual comparison", "note", rows, ["footer " * 60], "mini")
    for lp in (True, False):
        figs[f"fig8-lpips={lp}"] = make_figure(load_curves(build_curve_spec(_curve_config(tmp_path / f"c{lp}", lp))))
        # differences within the intervals (the caption says so), and points further apart than their intervals
        for gain in (0.02, 5.0):
            cfg8 = _curve_config(tmp_path / f"c{lp}-{gain}", lp, gain=gain)
            figs[f"fig8-lpips={lp}-gain={gain}"] = make_figure(load_curves(build_curve_spec(cfg8)))
    rng = np.random.default_rng(0)
    pair = latents.LatentPair("DPACM", "run", rng.normal(0, 1, (4, 200)), rng.normal(0.3, 1, (4, 200)), ("a.png",))
    note = latents.caption("Mini (Real-ESRGAN deg. x4)", [pair], load_config("mini")["figures"]["fig11"]["note"])
    figs["fig11-drawn"] = latents.make_figure(TITLES.get("fig11", "Fig. 11"), note, [pair, pair], latents.FOOTER,
                                              "mini")
    att = np.full(64, 1 / 64)
    cap = attention_maps.AttentionCapture(
        "down_blocks.0.attn1", 2, 1, 9, "a.png", np.zeros((32, 32, 3), np.uint8), np.zeros((32, 32, 3), np.uint8),
        [attention_maps.StageCapture("local", rng.normal(size=(64, 16)), (8, 8), att),
         attention_maps.StageCapture("global", rng.normal(size=(64, 16)), (8, 8), att),
         attention_maps.StageCapture("output", rng.normal(size=(64, 16)), (8, 8))])
    figs["fig10-drawn"] = attention_maps.make_figure(TITLES.get("fig10", "Fig. 10"), "note", cap, profile="mini")
    pcfg = per_image_config(tmp_path / "pi" / "results")
    figs["per_image"] = per_image.make_figure(per_image.load_per_image(build_spec(pcfg, "table1")),
                                              "Per-image PSNR against the reference method", profile="mini")
    figs["training"] = training.make_figure(_many_runs(tmp_path), "Training curves", profile="mini")
    figs["training-one-run"] = training.make_figure(_many_runs(tmp_path, 1), "Training curves", profile="mini")
    figs["message"] = message_figure("Fig. 6 — real-world LR inputs without HR", ["not configured " * 12], "mini")
    return figs


def test_no_figure_clips_or_overlaps_text(tmp_path, monkeypatch):
    from lgcaa.figures.draw import layout_problems

    found = {name: layout_problems(fig) for name, fig in _every_figure(tmp_path, monkeypatch).items()}
    assert len(found) >= 19
    bad = {name: p for name, p in found.items() if p}
    assert not bad, "\n".join(f"{name}: {line}" for name, p in bad.items() for line in p)


def test_figure_titles_the_rendered_line_and_the_job_record(tmp_path):
    from lgcaa.figures.render import NAMES, TITLES, rendered_line, title, write_figure_record
    from lgcaa.figures.spec import TITLES as PAPER_TITLES

    assert title("fig4") == PAPER_TITLES["fig4"] and title("training") == TITLES["training"]
    assert all(title(n) for n in NAMES)
    files = {"png": "r/figures/fig4.png", "pdf": "r/figures/fig4.pdf", "csv": "r/figures/fig4.csv"}
    assert rendered_line("fig4", files, {"drawn": True}) == "fig4: r/figures/fig4.png (drawn)"
    assert rendered_line("fig4", files, {"drawn": False}) == "fig4: r/figures/fig4.png (message only)"
    write_figure_record(tmp_path / "r.json", "fig4", {"figure": "fig4", "n": 3, "psnr": 21.5}, files, "t/figures")
    rec = json.loads((tmp_path / "r.json").read_text())
    assert rec["run_name"] == "figure:fig4" and rec["experiment"] == "t/figures"
    assert rec["params"]["n"] == 3 and "psnr" not in rec["params"] and rec["metrics"] == {"psnr": 21.5}
    assert rec["artifacts"] == list(files.values())
