"""The verdicts as a CSV (one row per claim), a Markdown table, an HTML fragment for the report, and the flat
numbers logged to MLflow with the job record."""

from __future__ import annotations

import csv
import html
import io
import json

from lgcaa.claims.evaluate import Result, counts


def _num(x: float | None, digits: int = 4) -> str:
    return "" if x is None else f"{x:.{digits}g}"


def _interval(r: Result) -> str:
    return "" if r.interval is None else f"[{_num(r.interval[0])}, {_num(r.interval[1])}]"


def _extra(r: Result) -> str:
    """Human summary of kind-specific numbers (beats_nth: our relative gap vs the paper's)."""
    parts = []
    for k, v in r.extra.items():
        if k.startswith("relative_gap[") and isinstance(v, float):
            where = k[len("relative_gap[") : -1]
            ci = r.extra.get(f"relative_gap_interval[{where}]")
            parts.append(f"gap {v:.2%}" + (f" [{ci[0]:.2%}, {ci[1]:.2%}]" if ci else "") + f" ({where})")
    if "relative_gap_paper" in r.extra:
        parts.append(f"paper states {r.extra['relative_gap_paper']:.2%}")
    return "; ".join(parts)


def to_csv(results: list[Result], paper: dict[str, Result] | None = None) -> str:
    paper = paper or {}
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["id", "table", "kind", "verdict", "statistic", "p_value", "interval_lo", "interval_hi", "n_boot",
                "in_paper_table", "detail", "reason", "reading", "quote", "test"])
    for r in results:
        p = paper.get(r.claim.id)
        w.writerow([
            r.claim.id, r.claim.table, r.claim.kind, r.verdict,
            "" if r.statistic is None else repr(r.statistic),
            "" if r.p_value is None else repr(r.p_value),
            "" if r.interval is None else repr(r.interval[0]),
            "" if r.interval is None else repr(r.interval[1]),
            r.n_boot, "" if p is None else p.verdict, _extra(r), r.reason, r.claim.reading, r.claim.quote,
            json.dumps(r.claim.test, sort_keys=True),
        ])
    return buf.getvalue()


def _summary(results: list[Result]) -> str:
    return ", ".join(f"{n} {v}" for v, n in counts(results).items() if n)


def to_markdown(results: list[Result], paper: dict[str, Result] | None = None, title: str = "Claims of §IV") -> str:
    paper = paper or {}
    lines = [f"**{title}** ({len(results)} claims: {_summary(results)})", "",
             "| Claim | Verdict | T (95% interval) | p | Paper's own table | Detail |", "|---|---|---|---|---|---|"]
    for r in results:
        p = paper.get(r.claim.id)
        stat = "" if r.statistic is None else f"{_num(r.statistic)} {_interval(r)}".strip()
        detail = "; ".join(x for x in (_extra(r), r.reason) if x)
        lines.append(f"| `{r.claim.id}`: “{r.claim.quote}” | {r.verdict} | {stat} | {_num(r.p_value, 3)} | "
                     f"{'' if p is None else p.verdict} | {detail.replace('|', '/')} |")
    return "\n".join(lines) + "\n"


def to_html(results: list[Result], paper: dict[str, Result] | None = None, note: str = "", collapsed: bool = False) -> str:
    """An HTML fragment: verdict counts, then one row per claim (quote, test, verdict, statistic, reason);
    `collapsed`: the table folded under the counts (profiles not comparable to the paper)."""
    e = html.escape
    paper = paper or {}
    out = [f'<details class="claims"{"" if collapsed else " open"}><summary class="claims-summary">'
           f"{len(results)} claims: {e(_summary(results))}.</summary>"]
    if note:
        out.append(f'<p class="note">{e(note)}</p>')
    out.append('<table class="claims"><thead><tr><th>Claim (quoted)</th><th>Test</th><th>Verdict</th>'
               "<th>T [95% interval]</th><th>p</th><th>Paper's own table</th><th>Detail</th></tr></thead><tbody>")
    for r in results:
        p = paper.get(r.claim.id)
        test = ", ".join(f"{k}={v}" for k, v in r.claim.test.items())
        where = ", ".join(r.claim.datasets) + (" · " + ", ".join(r.claim.metrics) if r.claim.metrics else "")
        stat = "" if r.statistic is None else f"{_num(r.statistic)} {_interval(r)}"
        detail = "; ".join(x for x in (_extra(r), r.reason, r.claim.reading and f"reading: {r.claim.reading}") if x)
        cls = r.verdict.replace(" ", "-")
        out.append(
            f'<tr class="{cls}"><td><code>{e(r.claim.id)}</code> “{e(r.claim.quote)}”</td>'
            f"<td>{e(test)}<br><span class=\"note\">{e(where)}</span></td><td class=\"verdict\">{e(r.verdict)}</td>"
            f"<td>{e(stat)}</td><td>{e(_num(r.p_value, 3))}</td><td>{'' if p is None else e(p.verdict)}</td>"
            f"<td>{e(detail)}</td></tr>"
        )
    out.append("</tbody></table></details>")
    return "\n".join(out) + "\n"


def record_metrics(results: list[Result]) -> dict[str, float]:
    """Flat MLflow metrics: verdict counts and, per evaluated claim, T and its p-value."""
    out: dict[str, float] = {f"claims.{v.replace(' ', '_')}": float(n) for v, n in counts(results).items()}
    for r in results:
        if r.statistic is not None:
            out[f"claim.{r.claim.id}.T"] = float(r.statistic) if r.statistic != float("inf") else 1e30
        if r.p_value is not None:
            out[f"claim.{r.claim.id}.p"] = float(r.p_value)
    return out


def record_params(results: list[Result]) -> dict[str, str]:
    return {f"claim.{r.claim.id}": r.verdict for r in results}

