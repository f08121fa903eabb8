"""The HTML report: one self-contained file (inline CSS, images as data: URIs, no scripts, no fetches).

Sections: Tables I-III (each number links to the MLflow run of its evaluation), the perception-distortion
curve, Fig. 4-style visual comparisons, and reported-vs-reproduced tables per paper table.
"""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass, field

import numpy as np

from lgcaa.report.visual import Comparison

HEADER_RGB = (35, 57, 93)  # table header background; the browser test looks for it in the screenshot

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px; color: #1b1b1b; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px 0; } h2 { font-size: 18px; margin-top: 28px; border-bottom: 1px solid #ccc; }
.banner { background: #fff4d6; border: 1px solid #e0b84c; padding: 8px 12px; margin: 12px 0; }
table.results, table.compare { border-collapse: collapse; margin: 8px 0; font-size: 13px; }
table.results caption { text-align: left; font-weight: 600; padding: 4px 0; }
table.results th, table.results td, table.compare th, table.compare td { border: 1px solid #c8c8c8; padding: 3px 8px; }
table.results thead th, table.compare thead th { background: rgb(HEADER_RGB); color: #fff; }
table.results td { text-align: right; font-variant-numeric: tabular-nums; }
table.results tbody th { text-align: left; font-weight: normal; background: #f4f6fa; }
td.best { background: #e3f3e3; } td.second { background: #f3f8e3; }
.missing { color: #8b0000; } a { color: #0b4f9c; text-decoration: none; } a:hover { text-decoration: underline; }
.footer p { margin: 2px 0; font-size: 12px; color: #444; } ol.notes { font-size: 12px; color: #444; }
tr.within td { background: #eaf6ea; } tr.outside td { background: #fbeaea; }
.cmp { margin: 14px 0 22px 0; } .cmp .row { display: flex; gap: 10px; align-items: flex-end; flex-wrap: wrap; }
.cmp figure { margin: 0; text-align: center; font-size: 12px; }
.cmp img.crop { width: 160px; height: 160px; image-rendering: pixelated; border: 1px solid #999; }
.cmp img.overview { max-width: 256px; border: 1px solid #999; }
.note { font-size: 12px; color: #555; } code { background: #f2f2f2; padding: 0 3px; }
""".replace("HEADER_RGB", ", ".join(map(str, HEADER_RGB)))


def png_data_uri(img: np.ndarray | bytes) -> str:
    """A data: URI of an image array (lossless PNG) or of PNG bytes."""
    if isinstance(img, np.ndarray):
        from PIL import Image

        buf = io.BytesIO()
        Image.fromarray(img).save(buf, format="PNG", optimize=True)
        img = buf.getvalue()
    return "data:image/png;base64," + base64.b64encode(img).decode("ascii")


def jpeg_data_uri(img: np.ndarray, quality: int = 85) -> str:
    """A data: URI of an image array as JPEG (overviews only; the compared crops stay lossless PNG)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="JPEG", quality=quality)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


@dataclass
class ReportParts:
    profile: str
    comparable: bool
    tables: list[tuple[str, str]] = field(default_factory=list)  # (name, HTML fragment)
    compares: list[tuple[str, str]] = field(default_factory=list)  # (name, HTML fragment)
    curve_png: bytes | None = None
    curve_notes: list[str] = field(default_factory=list)
    comparisons: list[Comparison] = field(default_factory=list)
    tracking_uri: str = ""
    ui_url: str = ""


def _comparison_html(c: Comparison) -> str:
    e = html.escape
    y, x, s = c.box
    figs = [
        (
            f'<figure><img class="overview" alt="HR {e(c.image)} with crop box" src="{jpeg_data_uri(c.overview)}">'
            f"<figcaption>HR, crop at ({x}, {y}), {s}×{s}</figcaption></figure>"
        )
    ]
    figs += [
        f'<figure><img class="crop" alt="{e(label)}" src="{png_data_uri(img)}">'
        f"<figcaption>{e(label)}</figcaption></figure>"
        for label, img in c.panels
    ]
    notes = "".join(f'<p class="note">{e(n)}</p>' for n in c.notes)
    return (
        f'<div class="cmp"><h3>{e(c.dataset_label)} — {e(c.image)} '
        f'<span class="note">(crop where the methods disagree most: mean luminance s.d. {c.score:.1f})</span></h3>'
        f'<div class="row">{"".join(figs)}</div>{notes}</div>'
    )


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
    if p.ui_url:
        out.append(
            f'<p class="note">Each number links to the MLflow run of its evaluation. Start the UI from the project '
            f"folder with <code>mlflow ui --backend-store-uri {e(p.tracking_uri)} --host 127.0.0.1 --port 5000</code> "
            f"(links point to {e(p.ui_url)}).</p>"
        )
    out.append("<h2>Tables</h2>")
    for _, frag in p.tables:
        out.append(frag)
    out.append("<h2>Perception–distortion trade-off (Fig. 8)</h2>")
    if p.curve_png:
        out.append(
            f'<img alt="PSNR vs LPIPS over sampling steps" style="max-width:640px" src="{png_data_uri(p.curve_png)}">'
        )
    out += [f'<p class="note">{e(n)}</p>' for n in p.curve_notes]
    out.append("<h2>Visual comparison (Fig. 4 style)</h2>")
    if not p.comparisons:
        out.append('<p class="note">No images configured (report.datasets).</p>')
    out += [_comparison_html(c) for c in p.comparisons]
    out.append("<h2>Reported vs reproduced</h2>")
    for _, frag in p.compares:
        out.append(frag)
    out.append("</body></html>")
    return "\n".join(out) + "\n"
