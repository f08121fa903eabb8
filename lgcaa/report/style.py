"""One stylesheet for the report and every standalone HTML file (tables, the tables beside the paper, claims).

Best is bold on green, second-best underlined on yellow — the underline is drawn by the cell's CSS, so it
shows even though numbers are links (links are never underlined, so no number looks "second" by accident).
A standalone file wraps its fragment between FRAGMENT markers; the report embeds the fragment (what a standalone
file shows after the fragment, e.g. a table's comparison with the paper, stays in that file).
Our cells beside the paper's are coloured by verdict (`VERDICT_RGB`: within green, outside red, ...), one palette
for the report, the tables' standalone HTML and the browser test.
"""

from __future__ import annotations

import html

HEADER_RGB = (35, 57, 93)  # table header background; the browser test looks for it in the screenshot
# the background of a comparison row per verdict (lgcaa.tables.compare.VERDICTS; CSS class: spaces as '-')
VERDICT_RGB = {
    "within": (204, 235, 204),
    "outside": (246, 204, 204),
    "not comparable": (226, 231, 240),
    "no tolerance": (255, 243, 191),
    "missing": (242, 242, 242),
}
FRAGMENT_START = "<!-- lgcaa:fragment -->"
FRAGMENT_END = "<!-- /lgcaa:fragment -->"

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px; color: #1b1b1b; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px 0; } h2 { font-size: 18px; margin-top: 28px; border-bottom: 1px solid #ccc; }
h3 { font-size: 15px; margin: 18px 0 6px 0; }
.banner { background: #fff4d6; border: 1px solid #e0b84c; padding: 8px 12px; margin: 12px 0; }
nav.toc { font-size: 13px; margin: 8px 0 16px 0; } nav.toc a { margin-right: 12px; }
table.results, table.beside, table.claims { border-collapse: collapse; margin: 8px 0; font-size: 13px; }
table.results caption, table.beside caption { text-align: left; font-weight: 600; padding: 4px 0; }
p.pipeline-check { font-size: 14px; font-weight: 600; }
table.results th, table.results td, table.beside th, table.beside td, table.claims th, table.claims td {
  border: 1px solid #c8c8c8; padding: 3px 8px; }
table.results thead th, table.beside thead th, table.claims thead th { background: rgb(HEADER_RGB); color: #fff; }
table.results td { text-align: right; font-variant-numeric: tabular-nums; }
table.results tbody th { text-align: left; font-weight: normal; background: #f4f6fa; }
td.best { background: #cfeccf; } td.best b, td.best a { font-weight: 700; }
td.second { background: #fff3bf; }
td.second a, td.second span, td.second u { text-decoration: underline; text-decoration-thickness: 2px;
  text-underline-offset: 2px; }
.missing { color: #8b0000; } a { color: #0b4f9c; text-decoration: none; } a:hover { text-decoration: underline; }
.footer p { margin: 2px 0; font-size: 12px; color: #444; } ol.notes { font-size: 12px; color: #444; }
table.beside td { text-align: right; font-variant-numeric: tabular-nums; } table.beside td.label { text-align: left; }
table.beside td.verdict { text-align: left; font-weight: 600; }
VERDICT_CSS
table.claims td { vertical-align: top; max-width: 420px; }
tr.supported td.verdict { background: #cfeccf; font-weight: 600; } tr.refuted td.verdict { background: #f6caca; font-weight: 600; }
tr.inconclusive td.verdict { background: #fff3bf; } tr.not-evaluable td.verdict, tr.qualitative td.verdict { color: #666; }
figure.fig { margin: 10px 0 24px 0; } figure.fig img { max-width: 100%; height: auto; border: 1px solid #ddd; }
figure.fig figcaption { font-size: 12px; color: #444; margin-bottom: 4px; }
.ok { color: #1d6b1d; font-weight: 600; } .bad { color: #8b0000; font-weight: 600; }
.note { font-size: 12px; color: #555; } code { background: #f2f2f2; padding: 0 3px; }
""".replace("HEADER_RGB", ", ".join(map(str, HEADER_RGB))).replace("VERDICT_CSS", " ".join(
    f"tr.{v.replace(' ', '-')} td {{ background: rgb({', '.join(map(str, rgb))}); }}" for v, rgb in VERDICT_RGB.items()))


def standalone(fragment: str, title: str, after: str = "") -> str:
    """A complete HTML document holding `fragment`, styled like the report; `after`: shown below it in this file
    only (`fragment_of` leaves it out)."""
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{CSS}</style></head><body>\n{FRAGMENT_START}\n{fragment}{FRAGMENT_END}\n{after}</body></html>\n")


def fragment_of(document: str) -> str:
    """The fragment of a `standalone` document (a bare fragment is returned as it is)."""
    if FRAGMENT_START in document and FRAGMENT_END in document:
        return document.split(FRAGMENT_START, 1)[1].split(FRAGMENT_END, 1)[0].strip("\n") + "\n"
    return document
