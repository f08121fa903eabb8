"""Render one figure of a profile into `<results>/figures/<name>.{png,pdf,csv}` (Fig. 8: the report's pd_curve.*).

`render(cfg, name)` is the whole job behind `lgcaa figure render NAME --config PROFILE`: it builds the
figure's spec from the profile (`lgcaa.figures.spec`, `lgcaa.tables.spec`), reads what the figure needs,
draws, writes the three files and returns the parameters of its job record (`write_figure_record` writes it).
Every figure writes its files even when it has nothing to draw; then the picture says why.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lgcaa.figures import draw
from lgcaa.figures.spec import CAPTURE_FIGURES, FIGURES, PANEL_FIGURES, CaptureFigure, PanelFigure, build_figure
from lgcaa.figures.spec import TITLES as PAPER_TITLES
from lgcaa.io import read_rgb, write_text
from lgcaa.layout import Layout

EXTRA = ("per_image", "training")  # report figures that are not in the paper
NAMES = (*FIGURES, *EXTRA)
TITLES = {"per_image": "Per-image PSNR of every Table I method against a reference method (bicubic where it ran)",
          "training": "Training curves of every LGCAA run (loss terms over steps)"}


def title(name: str) -> str:
    """A figure's title: the paper's for its figures, else the report figure's (`lgcaa figure list`)."""
    return PAPER_TITLES.get(name) or TITLES[name]


def paths(cfg: dict[str, Any], name: str) -> dict[str, str]:
    L = Layout.of(cfg)
    return L.figure_files(name)


def _write(fig, csv_text: str, out: dict[str, str]) -> None:
    draw.save(fig, out["png"], out["pdf"])
    write_text(out["csv"], csv_text)


def _panels(cfg: dict[str, Any], spec: PanelFigure, out: dict[str, str]) -> dict[str, Any]:
    from lgcaa.figures.panels import excluded_notes, lpips_scorer, rows_for, to_csv

    profile = cfg["profile"]
    if not spec.sets:
        _write(draw.message_figure(spec.title, [spec.note], profile), "", out)
        return {"drawn": False, "note": spec.note}
    lpips, lp_note = lpips_scorer() if any(s.hr_dir for s in spec.sets) else (None, "")
    rows = rows_for(spec, lpips)
    if not rows:
        _write(draw.message_figure(spec.title, [f"no images in {', '.join(s.lr_dir for s in spec.sets)}"], profile),
               "", out)
        return {"drawn": False}
    scored = "PSNR (Y of YCbCr) and LPIPS of each crop against the HR crop" if lpips else \
        "PSNR (Y of YCbCr) of each crop against the HR crop"
    footer = [scored if any(s.hr_dir for s in spec.sets) else "LR-only inputs: no HR shown, no crop scored",
              "Crop: the window with the most structure (HR; the upsampled LR when there is no HR) where the methods "
              "that produce real images disagree most"]
    footer += [n for n in (lp_note,) if n] + excluded_notes(rows, spec.min_lr_fit)
    footer += list(dict.fromkeys(n for r in rows for n in r.notes))
    _write(draw.panel_grid(spec.title, spec.note, rows, footer, profile), to_csv(spec, rows), out)
    return {"drawn": True, "rows": len(rows), "datasets": ",".join(s.dataset for s in spec.sets),
            "lpips": bool(lpips)}


def _capture(cfg: dict[str, Any], spec: CaptureFigure, out: dict[str, str]) -> dict[str, Any]:
    from lgcaa.figures import attention_maps, capture, latents
    from lgcaa.figures.panels import image_names

    names = image_names(spec.lr_dir, spec.images, spec.offset)
    profile = cfg["profile"]
    if spec.name == "fig10":
        run = spec.runs[0]
        from lgcaa.model import attention

        if not hasattr(attention, "set_capture"):  # the processor's capture hook (lgcaa.model.attention)
            why = ("this build's attention processor has no capture hook (lgcaa.model.attention.set_capture), so the "
                   "local and global stage outputs cannot be recorded; update lgcaa and rerun")
            _write(draw.message_figure(spec.title, [why], profile), "", out)
            return {"drawn": False, "note": why}
        cap = capture.capture_attention(run, spec.lr_dir, names[0])
        note = spec.note or f"run '{run.run}' ({run.label}), {spec.dataset_label}, {run.steps} DDPM steps"
        outputs = [(label, read_rgb(Path(folder) / names[0])) for _, label, folder in spec.outputs]
        outputs.append((f"{run.label} (this sample)", cap.sr))
        fig = attention_maps.make_figure(spec.title, note, cap, profile=profile, outputs=outputs)
        _write(fig, attention_maps.to_csv(cap), out)
        return {"drawn": True, "run": run.run, "layer": cap.layer, "image": cap.image, "stages": len(cap.stages),
                "outputs": ",".join(m for m, _, _ in spec.outputs)}
    pairs = [capture.capture_latents(r, spec.lr_dir, spec.hr_dir, names) for r in spec.runs]
    note = latents.caption(spec.dataset_label, pairs, spec.note)  # the image count the histograms were built from
    _write(latents.make_figure(spec.title, note, pairs, latents.FOOTER, profile), latents.to_csv(pairs), out)
    return {"drawn": True, "runs": ",".join(r.run for r in spec.runs), "images": len(latents.images_used(pairs)),
            **{f"w1_mean.{p.label}": sum(p.w1_per_channel()) / len(p.w1_per_channel()) for p in pairs}}


def _curve(cfg: dict[str, Any], out: dict[str, str]) -> dict[str, Any]:
    from lgcaa.figures.curve import load_curves, make_figure, to_csv
    from lgcaa.tables.spec import build_curve_spec

    curves = load_curves(build_curve_spec(cfg))
    _write(make_figure(curves), to_csv(curves), out)
    return {"drawn": curves.any_drawable, "y_metric": curves.y_metric, "lock": curves.lock or "none",
            "series": ",".join(label for label, _ in curves.series) or "none",
            "notes": ([curves.spec.note] if curves.spec.note else []) + curves.missing_notes()}


def _per_image(cfg: dict[str, Any], out: dict[str, str]) -> dict[str, Any]:
    from lgcaa.figures.per_image import load_per_image, make_figure, to_csv
    from lgcaa.tables.spec import build_spec

    data = load_per_image(build_spec(cfg, "table1"))
    _write(make_figure(data, TITLES["per_image"], profile=cfg["profile"]), to_csv(data), out)
    return {"drawn": any(d.images for d in data), "datasets": ",".join(d.dataset for d in data)}


def _training(cfg: dict[str, Any], out: dict[str, str]) -> dict[str, Any]:
    from lgcaa.figures.training import make_figure, read_metrics, to_csv
    from lgcaa.instances import model_runs

    L = Layout.of(cfg)
    curves = [read_metrics(r, f"{L.model_dir(r)}/metrics.jsonl") for r in model_runs(cfg)]
    _write(make_figure(curves, TITLES["training"], profile=cfg["profile"]), to_csv(curves), out)
    return {"drawn": bool(curves), "runs": len(curves)}


def spec_json(cfg: dict[str, Any], name: str) -> str:
    """What figure `name` shows in profile `cfg`, as JSON: Fig. 8 its curve spec, the report's per-image and
    training figures Table I's spec, the image figures their `lgcaa.figures.spec` entry."""
    if name in ("fig8", *EXTRA):
        from lgcaa.tables.spec import build_curve_spec, build_spec

        return build_curve_spec(cfg).to_json() if name == "fig8" else build_spec(cfg, "table1").to_json()
    return build_figure(cfg, name).to_json()


def render(cfg: dict[str, Any], name: str) -> dict[str, Any]:
    """Draw figure `name` of profile `cfg`; returns the job record's params (files: `paths(cfg, name)`)."""
    from lgcaa.errors import UserError

    out = paths(cfg, name)
    if name == "fig8":
        params = _curve(cfg, out)
    elif name in PANEL_FIGURES or name in CAPTURE_FIGURES:
        spec = build_figure(cfg, name)
        params = _panels(cfg, spec, out) if isinstance(spec, PanelFigure) else _capture(cfg, spec, out)
    elif name == "per_image":
        params = _per_image(cfg, out)
    elif name == "training":
        params = _training(cfg, out)
    else:
        raise UserError(f"unknown figure {name!r}; known: {', '.join(NAMES)}")
    return {"figure": name, "profile": cfg["profile"], **params}


def rendered_line(name: str, files: dict[str, str], params: dict[str, Any]) -> str:
    """The line `lgcaa figure render` prints: the PNG and whether it shows the figure or only why not."""
    return f"{name}: {files['png']} ({'drawn' if params.get('drawn') else 'message only'})"


def write_figure_record(dest: str | Path, name: str, params: dict[str, Any], files: dict[str, str],
                        experiment: str | None = None) -> Path:
    """The job record of figure `name`: `render`'s params (its float values as metrics), its files as artifacts."""
    from lgcaa.tracking import experiment_name, write_record

    return write_record(dest, experiment=experiment_name("figures", experiment),
                        run_name=f"figure:{name}", params={k: v for k, v in params.items() if not isinstance(v, float)},
                        metrics={k: v for k, v in params.items() if isinstance(v, float)},
                        artifacts=list(files.values()))
