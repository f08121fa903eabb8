"""Render a `Grid` as CSV, Markdown, LaTeX (booktabs) or an HTML fragment.

All four show the same cells: the mean, "± half-width" when k > 1 seeds, best in bold and second
underlined (in Markdown: in _italics_, which every Markdown viewer renders), missing cells as "missing" with a numbered note (reason and fix), and cells with a flagged
image count with a note. The footer (protocol lock, N, seeds, comparability) goes under every table.
"""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Callable

from lgcaa.metrics.registry import get as metric_spec
from lgcaa.report.links import check_link
from lgcaa.tables.cells import Cell
from lgcaa.tables.grid import Grid


def fmt(value: float, metric: str) -> str:
    """The value with the metric's registry decimals (PSNR 26.07, SSIM 0.7466)."""
    return f"{value:.{metric_spec(metric).decimals}f}"


def cell_text(c: Cell, pm: str = "±") -> str:
    """'26.07' or '26.07 ± 0.31'; '' for a missing cell."""
    if not c.ok or c.mean is None:
        return ""
    s = fmt(c.mean, c.metric)
    return f"{s} {pm} {fmt(c.half, c.metric)}" if c.half is not None else s


def cell_notes(c: Cell) -> list[str]:
    notes = []
    if not c.ok:
        notes.append(f"{c.reason} — fix: {c.fix}" if c.fix else c.reason)
    if c.n_flag:
        notes.append(f"image count flagged: {c.n_flag}; not ranked and not compared")
    return notes


class Notes:
    """Numbered notes, each text numbered once, in order of first use."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}

    def refs(self, texts: list[str]) -> list[int]:
        return [self.index.setdefault(t, len(self.index) + 1) for t in texts]

    def items(self) -> list[tuple[int, str]]:
        return [(i, t) for t, i in self.index.items()]


def _walk(
    grid: Grid, on_cell: Callable[[Cell, str, list[int]], str], notes: Notes
) -> list[tuple[tuple[str, ...], list[str]]]:
    out = []
    for r in grid.rows:
        out.append((r.labels, [on_cell(c, mk, notes.refs(cell_notes(c))) for c, mk in zip(r.cells, r.marks)]))
    return out


# ---------------------------------------------------------------------------------------------- CSV


def to_csv(grid: Grid) -> str:
    """Wide CSV of the means. Table I: dataset, metric, direction, <methods>, best, second.
    Tables II/III: <keys>, method, <metrics>. Intervals, N and marks per cell are in the long CSV."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    grid_layout = grid.key_headers == ("dataset", "metric")
    if grid_layout:
        w.writerow([*grid.key_headers, "direction", *grid.column_keys, "best", "second"])
    else:
        w.writerow([*grid.key_headers, *grid.column_keys])
    for r in grid.rows:
        vals = ["" if (not c.ok or c.mean is None) else repr(c.mean) for c in r.cells]
        if grid_layout:
            direction = "lower" if metric_spec(r.keys[1]).lower_better else "higher"
            best = ";".join(k for k, m in zip(grid.column_keys, r.marks) if m == "best")
            second = ";".join(k for k, m in zip(grid.column_keys, r.marks) if m == "second")
            w.writerow([*r.keys, direction, *vals, best, second])
        else:
            w.writerow([*r.keys, *vals])
    return buf.getvalue()


# ---------------------------------------------------------------------------------------------- Markdown


def _md_escape(s: str) -> str:
    return s.replace("|", "\\|")


def to_markdown(grid: Grid) -> str:
    notes = Notes()

    def on_cell(c: Cell, mark: str, refs: list[int]) -> str:
        s = cell_text(c) or "missing"
        if mark == "best":
            s = f"**{s}**"
        elif mark == "second":
            s = f"_{s}_"  # markdown-native (an HTML <u> shows literally in MLflow's artifact viewer and plain text)
        return s + "".join(f"[^{i}]" for i in refs)

    body = _walk(grid, on_cell, notes)
    lines = [
        (
            f"**{grid.title}** — best in **bold**, second in _italics_ "
            "(by each metric's direction: ↑ higher is better, ↓ lower is better)."
        ),
        "",
    ]
    if grid.rows:
        lines.append("| " + " | ".join(_md_escape(h) for h in (*grid.label_headers, *grid.column_labels)) + " |")
        lines.append("|" + "---|" * len(grid.label_headers) + "---:|" * len(grid.column_labels))
        for labels, cells in body:
            lines.append("| " + " | ".join(_md_escape(x) for x in (*labels, *cells)) + " |")
        lines.append("")
    lines += list(grid.footer)
    if notes.index:
        lines.append("")
        lines += [f"[^{i}]: {_md_escape(t)}" for i, t in notes.items()]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------- LaTeX

_TEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "↑": r"$\uparrow$",
    "↓": r"$\downarrow$",
    "±": r"$\pm$",
    "—": "---",
    "–": "--",
    "λ": r"$\lambda$",
    "×": r"$\times$",
    "≠": r"$\neq$",
}


_TEX_WORDS = {"λ_w": r"$\lambda_w$", "λ_p": r"$\lambda_p$"}


def tex_escape(s: str) -> str:
    out, i = [], 0
    while i < len(s):
        word = next((w for w in _TEX_WORDS if s.startswith(w, i)), None)
        if word:
            out.append(_TEX_WORDS[word])
            i += len(word)
        else:
            out.append(_TEX_SPECIAL.get(s[i], s[i]))
            i += 1
    return "".join(out)


def _letter(i: int) -> str:
    return "abcdefghijklmnopqrstuvwxyz"[(i - 1) % 26] * ((i - 1) // 26 + 1)


def to_latex(grid: Grid) -> str:
    notes = Notes()

    def on_cell(c: Cell, mark: str, refs: list[int]) -> str:
        text = cell_text(c)
        s = tex_escape(text) if text else "--"
        if mark == "best":
            s = rf"\textbf{{{s}}}"
        elif mark == "second":
            s = rf"\underline{{{s}}}"
        if refs:
            s += r"\textsuperscript{" + ",".join(_letter(i) for i in refs) + "}"
        return s

    body = _walk(grid, on_cell, notes)
    ncol = len(grid.label_headers) + len(grid.column_labels)
    lines = [
        f"% {grid.title}: generated by `lgcaa table render`; do not edit by hand. Needs \\usepackage{{booktabs}}.",
        r"\begin{table}[t]",
        r"\centering",
        r"\caption{" + tex_escape(grid.title) + r". Best in \textbf{bold}, second \underline{underlined}.}",
        r"\label{tab:" + grid.name + "}",
        r"\begin{tabular}{" + "l" * len(grid.label_headers) + "r" * len(grid.column_labels) + "}",
        r"\toprule",
        " & ".join(tex_escape(h) for h in (*grid.label_headers, *grid.column_labels)) + r" \\",
        r"\midrule",
    ]
    if not grid.rows:
        lines.append(r"\multicolumn{" + str(max(ncol, 1)) + r"}{l}{\emph{not run}} \\")
    previous = None
    for labels, cells in body:
        first = labels[0]
        if grid.key_headers[:1] == ("dataset",) and previous is not None and first != previous:
            lines.append(r"\midrule")
        shown = (
            "" if first == previous and grid.key_headers[:1] == ("dataset",) else tex_escape(first),
            *(tex_escape(x) for x in labels[1:]),
        )
        lines.append(" & ".join((*shown, *cells)) + r" \\")
        previous = first
    lines += [r"\bottomrule", r"\end{tabular}", r"\par\smallskip", r"{\footnotesize"]
    lines += [tex_escape(f) + r"\par" for f in grid.footer]
    lines += [rf"\textsuperscript{{{_letter(i)}}}~{tex_escape(t)}\par" for i, t in notes.items()]
    lines += ["}", r"\end{table}"]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------- HTML


def to_html(grid: Grid, links: dict[str, str] | None = None) -> str:
    """An HTML fragment (<table> + footer + notes). `links`: job record path -> URL of its MLflow run;
    each number links to the run of its first seed's evaluation."""
    links = links or {}
    notes = Notes()
    e = html.escape

    def on_cell(c: Cell, mark: str, refs: list[int]) -> str:
        text = cell_text(c)
        if text:
            url = links.get(c.records[0]) if c.records else None
            title = f"N={c.n}" + (
                f"; bootstrap 95% CI [{fmt(c.boot[0], c.metric)}, {fmt(c.boot[1], c.metric)}]" if c.boot else ""
            )
            s = e(text)
            s = (f'<a href="{e(check_link(url, "links"))}" title="{e(title)}">{s}</a>' if url
                 else f'<span title="{e(title)}">{s}</span>')
        else:
            s = f'<span class="missing" title="{e(c.reason)}">missing</span>'
        if mark == "best":
            s = f"<b>{s}</b>"
        elif mark == "second":
            s = f"<u>{s}</u>"
        cls = f' class="{mark}"' if mark else ""
        sup = "".join(f'<sup><a href="#{grid.name}-note-{i}">{i}</a></sup>' for i in refs)
        return f"<td{cls}>{s}{sup}</td>"

    body = _walk(grid, on_cell, notes)
    out = [f'<table class="results" id="{grid.name}">', f"<caption>{e(grid.title)}</caption>", "<thead><tr>"]
    out += [f"<th>{e(h)}</th>" for h in (*grid.label_headers, *grid.column_labels)]
    out.append("</tr></thead><tbody>")
    for labels, cells in body:
        out.append("<tr>" + "".join(f'<th scope="row">{e(x)}</th>' for x in labels) + "".join(cells) + "</tr>")
    if not grid.rows:
        out.append(
            f'<tr><td colspan="{len(grid.label_headers) + len(grid.column_labels) or 1}"><em>not run</em></td></tr>'
        )
    out.append("</tbody></table>")
    out.append('<div class="footer">' + "".join(f"<p>{e(f)}</p>" for f in grid.footer) + "</div>")
    if notes.index:
        out.append(
            '<ol class="notes">'
            + "".join(f'<li id="{grid.name}-note-{i}" value="{i}">{e(t)}</li>' for i, t in notes.items())
            + "</ol>"
        )
    return "\n".join(out) + "\n"
