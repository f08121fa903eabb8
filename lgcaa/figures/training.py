"""Training curves of every LGCAA run: each loss term over optimiser steps, from the run's `metrics.jsonl`.

One panel per term (`loss/total`, `loss/mse`, `loss/wasserstein`, `loss/lpips`, whichever the runs log), one
line per run: the raw values faint, an exponential moving average on top (span ~ 1/20 of the run).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lgcaa.errors import UserError
from lgcaa.figures.draw import header, new_figure

TERMS = ("loss/total", "loss/mse", "loss/wasserstein", "loss/lpips")


@dataclass(frozen=True)
class RunCurve:
    run: str
    steps: np.ndarray  # (S,)
    terms: dict[str, np.ndarray]  # term -> (S,) (NaN where a line lacks it)


def read_metrics(run: str, path: str | Path) -> RunCurve:
    p = Path(path)
    if not p.is_file():
        raise UserError(f"{p}: training metrics not found; finish `lgcaa train` for run '{run}' first")
    lines = [json.loads(ln) for ln in p.read_text().splitlines() if ln.strip()]
    steps = np.array([int(r["step"]) for r in lines])
    terms = {t: np.array([float(r.get(t, np.nan)) for r in lines]) for t in TERMS if any(t in r for r in lines)}
    return RunCurve(run, steps, terms)


def ema(x: np.ndarray, span: int) -> np.ndarray:
    """Exponential moving average with alpha = 2 / (span + 1); NaNs carry the previous value."""
    a = 2.0 / (max(1, span) + 1.0)
    out = np.empty_like(x, dtype=np.float64)
    acc = np.nan
    for i, v in enumerate(x):
        acc = v if np.isnan(acc) else (acc if np.isnan(v) else a * v + (1 - a) * acc)
        out[i] = acc
    return out


def to_csv(curves: list[RunCurve]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["run", "step", *TERMS])
    for c in curves:
        for i, s in enumerate(c.steps):
            w.writerow([c.run, int(s), *("" if t not in c.terms or np.isnan(c.terms[t][i]) else repr(float(c.terms[t][i]))
                                         for t in TERMS)])
    return buf.getvalue()


def make_figure(curves: list[RunCurve], title: str, note: str = "", profile: str = ""):
    from matplotlib.ticker import NullFormatter

    terms = [t for t in TERMS if any(t in c.terms for c in curves)]
    fig = new_figure(3.3 * max(1, len(terms)), 3.6)
    header(fig, title, note, profile)
    if not terms:
        ax = fig.add_axes((0.05, 0.05, 0.9, 0.75))
        ax.set_axis_off()
        ax.text(0.5, 0.5, "no LGCAA run in this profile (model.runs)" if not curves else "no loss logged",
                ha="center", color="#8b0000")
        return fig
    axes = fig.subplots(1, len(terms), squeeze=False)[0]
    colors = [f"C{i % 10}" for i in range(len(curves))]
    for ax, t in zip(axes, terms):
        for c, col in zip(curves, colors):
            if t not in c.terms:
                continue
            y = c.terms[t]
            ax.plot(c.steps, y, color=col, alpha=0.25, lw=0.6)
            ax.plot(c.steps, ema(y, max(1, len(y) // 20)), color=col, lw=1.2, label=c.run)
        ax.set_title(t, fontsize=8)
        ax.set_xlabel("optimiser step", fontsize=7)
        vals = np.concatenate([c.terms[t][np.isfinite(c.terms[t])] for c in curves if t in c.terms])
        if vals.size and vals.min() > 0 and vals.max() / vals.min() > 20:  # log only when it spans > 1 decade
            ax.set_yscale("log")
            ax.yaxis.set_minor_formatter(NullFormatter())  # labelled minor ticks (3e-2, 4e-2) collide
        ax.tick_params(labelsize=6)
        ax.grid(alpha=0.3)
    # one colour per run, the legend below the plots (never over a curve)
    handles, labels = axes[0].get_legend_handles_labels()
    ncol = min(len(labels), 4)
    rows = -(-len(labels) // ncol) if labels else 0
    legend_in = 0.12 + 0.13 * rows
    fig.set_figheight(fig.get_figheight() + legend_in)
    height = fig.get_figheight()
    if labels:
        fig.legend(handles, labels, loc="lower center", ncol=ncol, fontsize=6, frameon=False,
                   bbox_to_anchor=(0.5, 0.01))
    fig.subplots_adjust(left=0.07, right=0.99, bottom=(0.5 + legend_in) / height, top=1 - 0.72 / height, wspace=0.35)
    return fig
