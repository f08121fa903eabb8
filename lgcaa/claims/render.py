"""The verdicts as a CSV (one row per claim), a Markdown table, an HTML fragment for the report, and the flat
numbers logged to MLflow with the job record.

Scope: on a profile that is not comparable to the paper (mini) every verdict is a *pipeline check* — labelled so
in every rendering, counted apart (`pipeline_check.*` in MLflow, the `scope` column of the CSV) and kept out of
the headline claim counts. Every claim names the datasets its numbers ran on (ours, beside the paper's label)."""

from __future__ import annotations

import csv
import html
import io
import json

from lgcaa.claims.evaluate import Result, counts


def _num(x: float | None, digits: int = 4) -> str:
    return "" if x is None else f"{x:.{digits}g}"


PAPER_CLAIM, PIPELINE_CHECK = "paper claim", "pipeline check"


def scope(comparable: bool) -> str:
    """The scope of a profile's verdicts: a check of the paper's claim, or only of the pipeline (mini)."""
    return PAPER_CLAIM if comparable else PIPELINE_CHECK


def _label(r: Result, comparable: bool) -> str:
    return r.verdict if comparable else f"{PIPELINE_CHECK}: {r.verdict}"


def ran_on(r: Result) -> str:
    """The datasets the claim was tested on: the paper's label, and ours where the numbers are ours."""
    ran: dict[str, set[str]] = {}
    for s in r.subs:
        ran.setdefault(s.dataset, set()).update(s.ran_on)
    parts = []
    for d in r.claim.datasets:
        label = "Fig. 8's dataset" if d == "*" else d
        if ran.get(d):
            parts.append(f"{label} (ran on {', '.join(sorted(ran[d]))})")
        else:
            parts.append(f"{label} (the paper's numbers)" if d in ran else f"{label} (not run)")
    return "; ".join(parts)


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


def to_csv(results: list[Result], paper: dict[str, Result] | None = None, comparable: bool = True) -> str:
    paper = paper or {}
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["id", "table", "kind", "verdict", "statistic", "p_value", "interval_lo", "interval_hi", "n_boot",
                "in_paper_table", "detail", "reason", "reading", "quote", "test", "scope", "ran_on"])
    for r in results:
        p = paper.get(r.claim.id)
        w.writerow([
            r.claim.id, r.claim.table, r.claim.kind, r.verdict,
            "" if r.statistic is None else repr(r.statistic),
            "" if r.p_value is None else repr(r.p_value),
            "" if r.interval is None else repr(r.interval[0]),
            "" if r.interval is None else repr(r.interval[1]),
            r.n_boot, "" if p is None else p.verdict, _extra(r), r.reason, r.claim.reading, r.claim.quote,
            json.dumps(r.claim.test, sort_keys=True), scope(comparable), ran_on(r),
        ])
    return buf.getvalue()


def summary(results: list[Result], comparable: bool = True) -> str:
    """The headline line: verdict counts of the paper's claims, or — not comparable — pipeline checks that count
    toward no claim."""
    c = ", ".join(f"{n} {v}" for v, n in counts(results).items() if n)
    if comparable:
        return f"{len(results)} claims: {c}"
    return f"no claim of the paper tested ({len(results)} pipeline checks, not verdicts on the paper: {c})"


def to_markdown(results: list[Result], paper: dict[str, Result] | None = None, title: str = "Claims of §IV",
                comparable: bool = True) -> str:
    paper = paper or {}
    lines = [f"**{title}** ({summary(results, comparable)})", "",
             "| Claim | Verdict | T (95% interval) | p | Paper's own table | Detail |", "|---|---|---|---|---|---|"]
    for r in results:
        p = paper.get(r.claim.id)
        stat = "" if r.statistic is None else f"{_num(r.statistic)} {_interval(r)}".strip()
        detail = "; ".join(x for x in (_extra(r), r.reason) if x)
        where = ran_on(r)
        on = f" — on {where}" if where else ""
        lines.append(f"| `{r.claim.id}`: “{r.claim.quote}”{on} | {_label(r, comparable)} | {stat} | {_num(r.p_value, 3)} | "
                     f"{'' if p is None else p.verdict} | {detail.replace('|', '/')} |")
    return "\n".join(lines) + "\n"


def to_html(results: list[Result], paper: dict[str, Result] | None = None, note: str = "", collapsed: bool = False,
            comparable: bool = True) -> str:
    """An HTML fragment: verdict counts, then one row per claim (quote, test, verdict, statistic, reason);
    `collapsed`: the table folded under the counts (profiles not comparable to the paper)."""
    e = html.escape
    paper = paper or {}
    out = [(f'<details class="claims"{"" if collapsed else " open"}><summary class="claims-summary">'
            f"{e(summary(results, comparable))}.</summary>")]
    if note:
        out.append(f'<p class="note">{e(note)}</p>')
    out.append('<table class="claims"><thead><tr><th>Claim (quoted)</th><th>Test</th><th>Verdict</th>'
               "<th>T [95% interval]</th><th>p</th><th>Paper's own table</th><th>Detail</th></tr></thead><tbody>")
    for r in results:
        p = paper.get(r.claim.id)
        test = ", ".join(f"{k}={v}" for k, v in r.claim.test.items())
        where = ran_on(r) + (" · " + ", ".join(r.claim.metrics) if r.claim.metrics else "")
        stat = "" if r.statistic is None else f"{_num(r.statistic)} {_interval(r)}"
        detail = "; ".join(x for x in (_extra(r), r.reason, r.claim.reading and f"reading: {r.claim.reading}") if x)
        cls = r.verdict.replace(" ", "-")
        out.append(
            f'<tr class="{cls}"><td><code>{e(r.claim.id)}</code> “{e(r.claim.quote)}”</td>'
            f"<td>{e(test)}<br><span class=\"note\">{e(where)}</span></td><td class=\"verdict\">{e(_label(r, comparable))}</td>"
            f"<td>{e(stat)}</td><td>{e(_num(r.p_value, 3))}</td><td>{'' if p is None else e(p.verdict)}</td>"
            f"<td>{e(detail)}</td></tr>"
        )
    out.append("</tbody></table></details>")
    return "\n".join(out) + "\n"


def record_metrics(results: list[Result], comparable: bool = True) -> dict[str, float]:
    """Flat MLflow metrics: verdict counts (`claims.*`; `pipeline_check.*` when not comparable, so no headline
    claim count comes from a pipeline check) and, per evaluated claim, T and its p-value."""
    head = "claims" if comparable else "pipeline_check"
    out: dict[str, float] = {f"{head}.{v.replace(' ', '_')}": float(n) for v, n in counts(results).items()}
    for r in results:
        if r.statistic is not None:
            out[f"claim.{r.claim.id}.T"] = float(r.statistic) if r.statistic != float("inf") else 1e30
        if r.p_value is not None:
            out[f"claim.{r.claim.id}.p"] = float(r.p_value)
    return out


def record_params(results: list[Result], comparable: bool = True) -> dict[str, str]:
    return {f"claim.{r.claim.id}": _label(r, comparable) for r in results}

