"""The report's "Metric checks" section: the calibration gate and the golden comparisons, one table each.

Records are the JSON files of `<results>/checks/` (`lgcaa metrics calibrate`, `lgcaa metrics golden --out`),
each with a "check" key ("calibration" or "golden"). Pure: dict in, HTML fragment out.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from lgcaa.errors import UserError


def load_checks(folder: str | Path) -> list[dict[str, Any]]:
    """Every check record of `folder` (sorted by file name; none when the folder is absent)."""
    out = []
    for p in sorted(Path(folder).glob("*.json")) if Path(folder).is_dir() else []:
        try:
            rec = json.loads(p.read_text())
        except (OSError, ValueError) as exc:
            raise UserError(f"{p}: unreadable check record ({exc}); delete it and rerun the check") from exc
        if isinstance(rec, dict) and rec.get("check") in ("calibration", "golden"):
            out.append({**rec, "file": str(p)})
    return out


def _num(v: Any, fmt: str = ".4g") -> str:
    return "—" if v is None else format(v, fmt)


def _status(s: str) -> str:
    cls = {"ok": "ok", "drift": "bad", "not scored": "bad"}.get(s, "note")
    return f'<span class="{cls}">{html.escape(s)}</span>'


def golden_html(rec: dict[str, Any]) -> str:
    e = html.escape
    where = Path(rec["sr_dir"])  # <results>/sr/<dataset>/<method>: name both
    head = (f"<h3>Golden check: {e(where.parent.name)}/{e(where.name)} vs the peer's own log — "
            f"{'passed' if rec['ok'] else 'FAILED'}</h3>"
            f"<p class=\"note\">{rec['n_images']} images; log <code>{e(rec['log'])}</code>; "
            f"protocol lock {e(rec['lock'])}; file <code>{e(rec['file'])}</code></p>")
    rows = [("<tr><th>metric</th><th>status</th><th>max |Δ| per image</th><th>tolerance</th><th>worst image</th>"
             "<th>mean (ours)</th><th>mean (log)</th><th>|Δ| mean</th><th>tolerance</th></tr>")]
    for m, r in rec["metrics"].items():
        if "max_abs_diff" not in r:
            rows.append(f"<tr><td>{e(m)}</td><td>{_status(r['status'])}</td><td colspan=\"7\">{e(r['reason'])}</td></tr>")
            continue
        rows.append(
            f"<tr><td>{e(m)}</td><td>{_status(r['status'])}</td><td>{_num(r['max_abs_diff'], '.2g')}</td>"
            f"<td>{_num(r['tolerance_per_image'], 'g')}</td><td>{e(r['worst_image'])}</td>"
            f"<td>{_num(r['mean_ours'], '.4f')}</td><td>{_num(r.get('mean_log'), '.4f')}</td>"
            f"<td>{_num(r.get('mean_abs_diff'), '.2g')}</td><td>{_num(r['tolerance_mean'], 'g')}</td></tr>")
    return head + "<table class=\"compare\">" + "".join(rows) + "</table>"


def calibration_html(rec: dict[str, Any]) -> str:
    e = html.escape
    images = rec.get("images", [])
    head = (f"<h3>Calibration gate (IQA-PyTorch's calibration pairs) — {'passed' if rec['ok'] else 'FAILED'}</h3>"
            f"<p class=\"note\">{len(images)} pairs from <code>{e(rec.get('source', ''))}</code>; "
            f"pyiqa {e(str(rec.get('pyiqa', '')))}; file <code>{e(rec['file'])}</code></p>")
    rows = ["<tr><th>metric</th><th>status</th><th>reference</th><th>tolerance</th>"
            + "".join(f"<th>{e(i)}<br>ours / reference</th>" for i in images) + "</tr>"]
    for m, r in rec["metrics"].items():
        if r["status"] not in ("ok", "drift"):
            rows.append(f"<tr><td>{e(m)}</td><td>{_status(r['status'])}</td>"
                        f"<td colspan=\"{2 + len(images)}\">{e(r.get('reason', ''))}</td></tr>")
            continue
        cells = "".join(f"<td>{_num(r['measured'][i], '.4f')} / {_num(r['expected'][i], '.4f')}</td>" for i in images)
        rows.append(f"<tr><td>{e(m)}</td><td>{_status(r['status'])}</td><td>{e(r['reference'])}</td>"
                    f"<td>{e(r['tolerance_text'])}</td>{cells}</tr>")
    return head + "<table class=\"compare\">" + "".join(rows) + "</table>"


def checks_html(records: list[dict[str, Any]]) -> str:
    if not records:
        return ('<p class="note">No metric checks recorded (<code>lgcaa metrics calibrate</code>, '
                '<code>lgcaa metrics golden --out</code> write them to &lt;results&gt;/checks/).</p>')
    parts = [calibration_html(r) for r in records if r["check"] == "calibration"]
    parts += [golden_html(r) for r in records if r["check"] == "golden"]
    return "\n".join(parts)
