"""The HTML report: one self-contained file (inline CSS, images as data: URIs, no scripts, no fetches).

Sections, in reading order: the paper beside us first — for each of Tables I-III, paper | ours | Δ | verdict for
every cell of ours with a paper counterpart, coloured by verdict (`lgcaa.tables.compare.beside_html`; a profile that
is not comparable, e.g. mini, shows one sentence and no paper number), with the long per-cell comparison as a CSV
download; the paper's claims checked on our numbers; the paper's figures (Figs. 4-11) as regenerated; then Tables
I-III (each number links to the MLflow run of its evaluation); per-image scores; training curves of every LGCAA
run; the metric checks (calibration gate, golden comparisons with a peer's published scores) recorded in
`<results>/checks/`; the licences of everything the numbers rest on (`lgcaa.report.licences`, from the registries'
licence fields). `collect_parts` reads everything from the profile's results layout (`lgcaa.layout`);
`render_report` is pure; `write_report` collects, renders and writes it; `write_report_record` is the job record of the report (`lgcaa report html --record`).
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lgcaa.errors import UserError
from lgcaa.figures.per_image import load_per_image, to_html
from lgcaa.figures.render import TITLES as EXTRA_TITLES
from lgcaa.figures.spec import FIGURES, TITLES
from lgcaa.io import png_ihdr
from lgcaa.layout import Layout
from lgcaa.report.checks import checks_html, load_checks
from lgcaa.report.gallery import report_link
from lgcaa.report.licences import licence_rows
from lgcaa.report.licences import to_html as licences_html
from lgcaa.report.links import check_url
from lgcaa.report.style import CSS, HEADER_RGB, fragment_of
from lgcaa.tables.compare import download_html, not_comparable_sentence
from lgcaa.tables.spec import build_spec

__all__ = ["HEADER_RGB", "Figure", "ReportParts", "collect_parts", "render_report", "write_report_record"]


@dataclass
class Figure:
    name: str
    title: str
    png: bytes
    files: dict[str, str]  # pdf, csv paths (shown, not embedded)


@dataclass
class ReportParts:
    profile: str
    comparable: bool
    tables: list[tuple[str, str]] = field(default_factory=list)  # (name, HTML fragment)
    compares: list[tuple[str, str]] = field(default_factory=list)  # (name, HTML fragment): beside the paper
    claims: str = ""  # HTML fragment
    figures: list[Figure] = field(default_factory=list)  # the paper's figures, in order
    per_image: Figure | None = None
    per_image_tables: str = ""
    training: Figure | None = None
    checks: str = ""  # HTML fragment: the metric checks of <results>/checks (lgcaa.report.checks)
    licences: str = ""  # HTML fragment: lgcaa.report.licences
    results: str = ""  # the results folder whose MLflow store the numbers link to (set when there are links)
    data: str = "data"  # the datasets folder (`lgcaa ui --data`, for the gallery's images)
    ui_url: str = ""  # an MLflow UI's base URL (report.mlflow_ui); empty: links relative to `lgcaa ui`


def png_data_uri(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk (`lgcaa.io.png_ihdr`)."""
    hdr = png_ihdr(data)
    if hdr is None:
        raise ValueError("not a PNG")
    return hdr[0], hdr[1]


def _figure_html(f: Figure) -> str:
    """The figure at half its pixel size (figures are drawn at 150 dpi), sized before it decodes so that
    anchors (#fig4 ...) land on it."""
    e = html.escape
    files = " · ".join(f"{k.upper()}: <code>{e(v)}</code>" for k, v in f.files.items())
    w, h = png_size(f.png)
    return (f'<figure class="fig" id="{e(f.name)}"><figcaption>{e(f.title)} — {files}</figcaption>'
            f'<img alt="{e(f.title)}" width="{w * 2 // 3}" height="{h * 2 // 3}" src="{png_data_uri(f.png)}">'
            "</figure>")


def render_report(p: ReportParts) -> str:
    e = html.escape
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>LGCAA reproduction report — {e(p.profile)} profile</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>LGCAA reproduction report — {e(p.profile)} profile</h1>",
    ]
    if not p.comparable:
        out.append(
            f'<div class="banner"><b>{e(p.profile)} profile — not comparable to the paper.</b> '
            "These numbers come from a reduced setting (small data, tiny models, offline metrics); they check "
            "the pipeline, not the paper's claims.</div>"
        )
    toc = [("compare", "Beside the paper"), ("claims", "Claims"), ("figures", "Figures"), ("tables", "Tables"),
           ("per-image", "Per-image"), ("training", "Training"), ("checks", "Metric checks"), ("licences", "Licences")]
    out.append('<nav class="toc">' + "".join(f'<a href="#{a}">{t}</a>' for a, t in toc) + "</nav>")
    if p.results:
        from lgcaa.ui import report_url, ui_command

        where = (f"links point to {e(p.ui_url)} (<code>report.mlflow_ui</code>)" if p.ui_url else
                 f"open this page through <code>{e(ui_command(p.results, p.data))}</code> (then {e(report_url())}): it "
                 "serves MLflow and this report on one port, and the links are relative to it")
        out.append(f'<p class="note">Each number links to the MLflow run of its evaluation, in MLflow\'s '
                   f"<i>Model training</i> view (runs, metrics, datasets); {where}.</p>")
    out.append('<h2 id="compare">The paper beside us: Tables I–III</h2>')
    if p.comparable:
        out.append('<p class="note">Paper | ours | Δ = ours − paper | verdict, for each of our cells with a paper '
                   "counterpart (the same dataset, never a stand-in); colour by verdict; hover a verdict for its "
                   "tolerance (per table, never wider than a quarter of the table's own spread) and reason.</p>")
        out += [frag for _, frag in p.compares]
    else:
        out.append(f'<p class="pipeline-check">{e(not_comparable_sentence(p.profile))}</p>')
    out.append('<h2 id="claims">The paper\'s claims (§IV) on these numbers</h2>')
    out.append(p.claims or '<p class="note">No claims evaluated.</p>')
    out.append('<h2 id="figures">Figures</h2>')
    if not p.figures:
        out.append('<p class="note">No figures rendered.</p>')
    out += [_figure_html(f) for f in p.figures]
    out.append('<h2 id="tables">Tables</h2>')
    out += [frag for _, frag in p.tables]
    out.append('<h2 id="per-image">Per-image scores</h2>')
    if p.per_image:
        out.append(_figure_html(p.per_image))
    out.append(p.per_image_tables)
    out.append('<h2 id="training">Training curves</h2>')
    if p.training:
        out.append(_figure_html(p.training))
    out.append('<h2 id="checks">Metric checks</h2>')
    out.append(p.checks or '<p class="note">No metric checks recorded.</p>')
    out.append('<h2 id="licences">Licences</h2>')
    out.append(p.licences or '<p class="note">No licences collected.</p>')
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def _read(path: str, what: str) -> str:

    f = Path(path)
    if not f.is_file():
        raise UserError(f"{f}: {what} not found; run `snakemake {f}` first")
    return f.read_text()


def _figure(layout: Any, name: str, title: str) -> Figure:

    png = Path(layout.figure_file(name, "png"))
    if not png.is_file():
        raise UserError(f"{png}: figure not found; run `snakemake {png}` first")
    return Figure(name, title, png.read_bytes(), {s: layout.figure_file(name, s) for s in ("pdf", "csv")})


def collect_parts(cfg: dict[str, Any], tables: tuple[str, ...], runs_json: str | None = None, ui: str = "") -> ReportParts:
    """Everything the report shows, read from the profile's results layout."""

    L = Layout.of(cfg)
    parts = ReportParts(profile=cfg["profile"], comparable=bool(cfg.get("comparable_to_paper")))
    for n in tables:
        parts.tables.append((n, fragment_of(_read(L.table_file(n, "html"), "rendered table"))))
        beside = fragment_of(_read(L.table_file(n, "compare.html"), "rendered table"))
        if parts.comparable:  # the long per-cell comparison: a download, not inlined
            beside += download_html(L.from_report(L.table_file(n, "compare.csv")))
        parts.compares.append((n, beside))
    parts.claims = fragment_of(_read(L.claims_file("html"), "claims verdicts"))
    parts.figures = [_figure(L, n, TITLES[n]) for n in FIGURES]
    parts.per_image = _figure(L, "per_image", EXTRA_TITLES["per_image"])
    limit = int(cfg.get("report", {}).get("per_image_rows", 12))
    parts.per_image_tables = to_html(load_per_image(build_spec(cfg, "table1")), limit)
    parts.per_image_tables = report_link(L.from_report(L.gallery_html())) + parts.per_image_tables
    parts.training = _figure(L, "training", EXTRA_TITLES["training"])
    parts.checks = checks_html(load_checks(L.checks_dir()))
    parts.licences = licences_html(licence_rows())
    if runs_json and Path(runs_json).is_file():
        # the results folder of the runs map (<results>/mlflow/runs.json), relative to the project folder the
        # command runs from, so the hint stays right when the tree is moved or copied
        parts.results, parts.data = Path(runs_json).parent.parent.as_posix(), L.data
        parts.ui_url = check_url(ui, "--ui") if ui else ""
    return parts


def write_report(cfg: dict[str, Any], tables: tuple[str, ...], runs_json: str | None = None,
                 ui: str = "") -> tuple[Path, ReportParts]:
    """Collect (`collect_parts`) and write the profile's report at `Layout.report_html` (atomically); returns
    (its path, its parts)."""
    from lgcaa.io import write_text

    parts = collect_parts(cfg, tables, runs_json, ui)
    out = Path(Layout.of(cfg).report_html())
    write_text(out, render_report(parts))
    return out, parts


def write_report_record(dest: str | Path, experiment: str | None, cfg: dict[str, Any], tables: tuple[str, ...],
                        parts: ReportParts, out: str | Path) -> Path:
    """The job record of report `out` of profile `cfg` (showing `tables` and `parts`): the profile's datasets
    whose manifests exist are its inputs."""
    from lgcaa.tracking import dataset_input, experiment_name, write_record

    L = Layout.of(cfg)
    return write_record(
        dest,
        experiment=experiment_name("report", experiment),
        run_name="report:html",
        params={"profile": cfg["profile"], "tables": ",".join(tables), "figures": len(parts.figures)},
        artifacts=[str(out)],
        inputs=[dataset_input(d, L.manifest(d), "report") for d in cfg["datasets"] if Path(L.manifest(d)).is_file()],
    )
