"""What each figure of the paper shows in a profile: datasets, methods or trained runs, images, crop size.

`build_figure(cfg, name)` reads the profile's optional `figures` section (shared keys `images`, `crop`,
`min_lr_fit`, then one entry per figure) and returns a JSON-serialisable spec whose `inputs` are the files
the figure's rule depends on:

    fig4   {"datasets": [...], "methods": [...]}        crops with HR (default: Table I's datasets, methods)
    fig5   {"dataset": D, "methods": [...]}             LR-only inputs: no HR shown, none scored
    fig6   {"dataset": D, "methods": [...]}             idem
    fig7   {"dataset": D, "methods": [...]}             crops with HR (the paper: ImageNet-Test)
    fig9   {"dataset": D}                               the DPACM rows of Table II side by side
    fig10  {"dataset": D, "image": NAME, "outputs": ["local", "global"]}  SR outputs of Table II's Local and
           Global runs beside the full LGCAA run's, and that run's captured local / global stage outputs
    fig11  {"dataset": D, "images": N, "variants": [...]}  predicted vs initial latents of Table II's runs
           (LGCAA and DPACM rows; `variants` filters)
                                                        (default: every DPACM row; e.g. ["none", "dpacm"])
    (Fig. 8 is `tables.curves`, see lgcaa.figures.curve)

Any figure entry may also set `images` (a count, or a list of file names), `offset` (skip the first images),
`crop` and `note` (shown under the title: what the figure is in this profile). A figure that is not
configured still renders, saying so. Runs of Figs. 9-11 are read from Table II's rows (module DPACM / the
full LGCAA row), so they follow whatever runs the profile defines for the ablations.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from lgcaa.errors import UserError
from lgcaa.instances import model_sample_jobs, sr_pairs
from lgcaa.layout import Layout
from lgcaa.tables.section import AblationRow, tables_of
from lgcaa.tables.spec import dataset_label, method_label, row_label

PANEL_FIGURES = ("fig4", "fig5", "fig6", "fig7", "fig9")
CAPTURE_FIGURES = ("fig10", "fig11")
FIG10_OUTPUTS = ("local", "global")  # Table II rows whose SR outputs Fig. 10 shows beside the full LGCAA run's
FIGURES = ("fig4", "fig5", "fig6", "fig7", "fig8", "fig9", "fig10", "fig11")
TITLES = {
    "fig4": "Fig. 4 — visual comparison on real-world degradations",
    "fig5": "Fig. 5 — real-world LR inputs without HR",
    "fig6": "Fig. 6 — real-world LR inputs without HR",
    "fig7": "Fig. 7 — ImageNet-Test (severe degradations)",
    "fig8": "Fig. 8 — perception–distortion trade-off over sampling steps",
    "fig9": "Fig. 9 — DPACM: each loss alone and both",
    "fig10": "Fig. 10 — local and global attention outputs",
    "fig11": "Fig. 11 — latent histograms: predicted x̂₀ vs initial z₀",
}
DEFAULTS = {"images": 3, "crop": 64, "min_lr_fit": 0.5}


@dataclass(frozen=True)
class PanelSet:
    dataset: str
    label: str
    lr_dir: str
    hr_dir: str  # "" when the figure shows LR-only inputs
    methods: tuple[tuple[str, str, str], ...]  # (method, label, SR folder)


@dataclass(frozen=True)
class PanelFigure:
    name: str
    title: str
    note: str
    sets: tuple[PanelSet, ...]
    images: int | tuple[str, ...]
    offset: int
    crop: int
    min_lr_fit: float
    manifests: tuple[str, ...] = ()

    @property
    def inputs(self) -> list[str]:
        return [*self.manifests, *(m[2] for s in self.sets for m in s.methods)]

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class CaptureRun:
    label: str
    run: str
    run_dir: str
    steps: int
    method: str  # its SR output folder name (the figure shows the sampled image beside the capture)


@dataclass(frozen=True)
class CaptureFigure:
    name: str
    title: str
    note: str
    dataset: str
    dataset_label: str
    lr_dir: str
    hr_dir: str
    runs: tuple[CaptureRun, ...]
    images: int | tuple[str, ...]
    offset: int = 0
    seed: int = 0
    manifest: str = ""
    trained: tuple[str, ...] = ()  # train.json of every run (the rule's inputs)
    outputs: tuple[tuple[str, str, str], ...] = ()  # Fig. 10: (method, label, SR folder) shown beside the capture

    @property
    def inputs(self) -> list[str]:
        return [*([self.manifest] if self.manifest else []), *self.trained, *(o[2] for o in self.outputs)]

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))


def _section(cfg: dict[str, Any], name: str) -> dict[str, Any]:
    figs = cfg.get("figures", {})
    shared = {k: figs[k] for k in DEFAULTS if k in figs}
    return {**DEFAULTS, **shared, **figs.get(name, {})}


def _images(entry: dict[str, Any]) -> int | tuple[str, ...]:
    v = entry.get("images", DEFAULTS["images"])
    return tuple(str(x) for x in v) if isinstance(v, list) else int(v)


def _dataset(cfg: dict[str, Any], name: str, ds: Any) -> str:
    if ds not in cfg["datasets"]:
        raise UserError(f"config figures/{name}: dataset {ds!r} is not in 'datasets' ({', '.join(cfg['datasets'])}); "
                        "fix the profile")
    return str(ds)


def _panel_set(cfg: dict[str, Any], name: str, ds: str, methods: list[str], with_hr: bool) -> PanelSet:
    L = Layout.of(cfg)
    ds = _dataset(cfg, name, ds)
    return PanelSet(ds, dataset_label(cfg, ds), L.lr_dir(ds), L.hr_dir(ds) if with_hr else "",
                    tuple((m, method_label(cfg, m), L.sr_dir(ds, m)) for m in methods))


def _table2(cfg: dict[str, Any]) -> tuple[list[AblationRow], Any]:
    """Table II's rows (none when it is not configured) and its dataset."""
    table2 = tables_of(cfg).table2
    return (list(table2.rows), table2.dataset) if table2 else ([], None)


def _not_configured(name: str, why: str, cfg: dict[str, Any]) -> PanelFigure:
    return PanelFigure(name, TITLES[name], f"not configured in profile '{cfg['profile']}': {why}", (), 0, 0,
                       DEFAULTS["crop"], DEFAULTS["min_lr_fit"])


def build_panel_figure(cfg: dict[str, Any], name: str) -> PanelFigure:
    """Figs. 4-7 and 9 (image panels) of profile `cfg`."""
    e = _section(cfg, name)
    t1 = tables_of(cfg).table1
    L = Layout.of(cfg)
    if name == "fig9":
        table2, table2_dataset = _table2(cfg)
        rows = [r for r in table2 if r.module == "DPACM"]
        if not rows:
            return _not_configured(name, "Table II has no DPACM rows (tables.table2)", cfg)
        ds = e.get("dataset", table2_dataset)
        s = _panel_set(cfg, name, ds, [], True)
        s = PanelSet(s.dataset, s.label, s.lr_dir, s.hr_dir,
                     tuple((r.method, row_label(r), L.sr_dir(s.dataset, r.method)) for r in rows))
        sets = (s,)
    elif name == "fig4":
        datasets = e.get("datasets", list(t1.datasets))
        methods = e.get("methods", list(t1.methods))
        if not datasets:
            return _not_configured(name, "no dataset (figures.fig4.datasets or tables.table1)", cfg)
        sets = tuple(_panel_set(cfg, name, d, methods, True) for d in datasets)
    else:
        if "dataset" not in e:
            return _not_configured(name, f"figures.{name}.dataset is not set", cfg)
        sets = (_panel_set(cfg, name, e["dataset"], e.get("methods", list(t1.methods)), name != "fig5" and name != "fig6"),)
    produced = set(sr_pairs(cfg))
    absent = [(s.dataset, m[0]) for s in sets for m in s.methods if (s.dataset, m[0]) not in produced]
    if absent:
        d, m = absent[0]
        raise UserError(f"config figures/{name}: shows '{m}' on dataset '{d}', but no job produces it; list the "
                        f"dataset in that baseline's or model run's datasets (model.runs.<run>.datasets) or set "
                        f"figures.{name}.methods")
    return PanelFigure(name, TITLES[name], str(e.get("note", "")), sets, _images(e), int(e.get("offset", 0)),
                       int(e["crop"]), float(e["min_lr_fit"]), tuple(L.manifest(s.dataset) for s in sets))


def _run_of(cfg: dict[str, Any], method: str) -> tuple[str, int] | None:
    """(run, steps) of the LGCAA sampling job that produces `method`, or None (e.g. an imported baseline)."""
    for j in model_sample_jobs(cfg.get("model", {})) if cfg.get("model", {}).get("runs") else []:
        if j.method == method:
            return j.run, j.steps
    return None


def build_capture_figure(cfg: dict[str, Any], name: str) -> CaptureFigure | PanelFigure:
    """Figs. 10-11 (captured from trained runs), or a not-configured placeholder."""
    e = _section(cfg, name)
    table2, table2_dataset = _table2(cfg)
    shown: list[AblationRow] = []
    if name == "fig10":
        rows = [r for r in table2 if r.module == "LGCAA" and r.variant == "lgcaa"]
        why = "Table II has no full LGCAA row (module LGCAA, variant lgcaa)"
        images: int | tuple[str, ...] = (str(e["image"]),) if "image" in e else 1
        # "qualitative comparisons of local and global attention outputs" (the Table II paragraph): the SR outputs
        # of Table II's Local and Global runs beside the full model's, the captured stages as the extra panels
        shown = [r for v in e.get("outputs", FIG10_OUTPUTS) for r in table2 if r.module == "LGCAA"
                 and r.variant == v and r not in rows]
    else:
        # Table II's LGCAA rows as well as its DPACM rows ("the LGCAA module aids in … mitigating color shifts in
        # the latent space"; the full model, in both blocks, once)
        rows = [r for r in table2 if r.variant in e.get("variants", [r.variant])]
        rows = [r for i, r in enumerate(rows) if r.method not in {q.method for q in rows[:i]}]
        why = "Table II has no rows" + (f" among {e['variants']}" if "variants" in e else "")
        images = _images(e) if "images" in cfg.get("figures", {}).get(name, {}) else 2
    if not rows:
        return _not_configured(name, why, cfg)
    not_model = [r.method for r in rows if _run_of(cfg, r.method) is None]
    if not_model:
        return _not_configured(name, f"Table II's {', '.join(not_model)} is not produced by a trained LGCAA run "
                                     "(model.runs), so there is no model to capture from", cfg)
    L = Layout.of(cfg)
    ds = _dataset(cfg, name, e.get("dataset", table2_dataset))
    runs = []
    for r in rows:
        run, steps = _run_of(cfg, r.method)  # type: ignore[misc]
        label = f"{r.module}: {row_label(r)}" if name == "fig11" else row_label(r)
        runs.append(CaptureRun(label, run, L.model_dir(run), steps, r.method))
    produced = set(sr_pairs(cfg))
    absent = [r.method for r in shown if (ds, r.method) not in produced]
    if absent:
        raise UserError(f"config figures/{name}: shows the output of '{absent[0]}' on dataset '{ds}', but no job "
                        f"produces it; add '{ds}' to that run's datasets or set figures.{name}.outputs")
    outputs = tuple((r.method, row_label(r), L.sr_dir(ds, r.method)) for r in shown)
    return CaptureFigure(
        name, TITLES[name], str(e.get("note", "")), ds, dataset_label(cfg, ds), L.lr_dir(ds),
        L.hr_dir(ds), tuple(runs), images, int(e.get("offset", 0)), int(cfg.get("seed", 0)), L.manifest(ds),
        tuple(dict.fromkeys(L.train_done(r.run) for r in runs)), outputs,
    )


def build_figure(cfg: dict[str, Any], name: str) -> PanelFigure | CaptureFigure:
    if name in PANEL_FIGURES:
        return build_panel_figure(cfg, name)
    if name in CAPTURE_FIGURES:
        return build_capture_figure(cfg, name)
    raise UserError(f"unknown figure {name!r}; image figures: {', '.join(PANEL_FIGURES + CAPTURE_FIGURES)} "
                    "(Fig. 8 is the curves rule)")
