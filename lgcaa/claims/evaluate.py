"""One verdict per claim on a set of scores (ours, or the paper's own printed numbers).

A claim is tested on every (dataset, metric) it lists; each gives a statistic T (> 0: holds, `stats`), and the
claim's statistic is the minimum over them (all must hold), computed per bootstrap draw so the conjunction
gets one p-value. Verdicts:
  supported / refuted / inconclusive   from the paired bootstrap (alpha = 0.05, one-sided each way)
  refuted needs more than significance: some part must fall short by more than its table's tolerance (the
  per-table tolerances of `lgcaa.tables.compare`, passed in as `tolerances`), significantly — M = min over the
  parts of (T + tolerance) < 0 with P*(M >= 0) < alpha. A significant shortfall within the tolerance (a
  0.002 dB difference) is inconclusive, with the reason saying so. The paper's own printed numbers are
  checked exactly (`EXACT`: no tolerance): there a shortfall is a fact about the paper, not a measurement.
  not evaluable                        an entity or metric the test needs is missing (the reason says which)
  qualitative                          a visual statement; not machine-checked (see the figure it names)
On point values only (the paper's numbers, set-level metrics) the sign of T (of M for refuted) decides and no
p-value is given.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lgcaa.claims import stats
from lgcaa.claims.scores import Key, Values
from lgcaa.claims.spec import Claim, ClaimsFile
from lgcaa.metrics.registry import get as metric_spec
from lgcaa.tables.section import tables_of

VERDICTS = ("supported", "refuted", "inconclusive", "not evaluable", "qualitative")
DEFAULT_BOOT = {"n": 2000, "seed": 0, "alpha": 0.05}
Tolerances = Mapping[tuple[str, str], float]  # (table, metric) -> tolerance in the metric's units
EXACT: Tolerances = {}  # no tolerance: the paper's own numbers against its own text


def claims_bootstrap(cfg: Mapping[str, Any]) -> dict[str, Any]:
    """The bootstrap of a profile's claims: `tables.bootstrap` (n, seed, level), as n, seed and alpha = 1 - level;
    what it leaves out, `DEFAULT_BOOT`'s n and seed and level 0.95."""
    boot = tables_of(cfg).bootstrap
    return {"n": int(boot.get("n", DEFAULT_BOOT["n"])), "seed": int(boot.get("seed", DEFAULT_BOOT["seed"])),
            "alpha": 1 - float(boot.get("level", 0.95))}


@dataclass(frozen=True)
class SubResult:
    dataset: str
    metric: str
    statistic: float | None
    note: str = ""
    tolerance: float = 0.0  # the table's tolerance for this metric (0: exact)
    ran_on: tuple[str, ...] = ()  # our datasets the numbers come from (the paper's label is `dataset`)


@dataclass(frozen=True)
class Result:
    claim: Claim
    verdict: str
    statistic: float | None = None  # observed T (the minimum over the claim's datasets x metrics)
    p_value: float | None = None
    interval: tuple[float, float] | None = None  # of T
    n_boot: int = 0
    subs: tuple[SubResult, ...] = ()
    reason: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _Sub:
    """One (dataset, metric) test: the keys it reads and T as a function of their oriented means."""

    dataset: str
    metric: str
    keys: tuple[Key, ...]
    fn: Callable[[np.ndarray], np.ndarray]  # (M, ...) oriented means in `keys` order -> T (...)
    oriented: bool = True
    rel: tuple[int, int] | None = None  # beats_nth: (subject index, group start index) for the relative gap


def _subs(c: Claim, files: ClaimsFile, dataset: str, metric: str) -> _Sub:
    t = c.test
    key = lambda e: (c.table, dataset, e, metric)
    if c.kind in ("rank", "at_most"):
        others = [e for e in files.group(t["among"]) if e != t["subject"]]
        keys = (key(t["subject"]), *map(key, others))
        f = stats.t_rank if c.kind == "rank" else stats.t_at_most
        return _Sub(dataset, metric, keys, lambda v: f(v[0], v[1:], int(t["rank"])))
    if c.kind == "top_group":
        among = files.group(t["among"])
        members = [e for e in among if e in files.group(t["group"])]
        rest = [e for e in among if e not in members]
        keys = tuple(map(key, members + rest))
        n = len(members)
        return _Sub(dataset, metric, keys, lambda v: stats.t_top_group(v[:n], v[n:], int(t["k"])))
    if c.kind == "beats_nth":
        group = [e for e in files.group(t["group"]) if e != t["subject"]]
        keys = (key(t["subject"]), *map(key, group))
        return _Sub(dataset, metric, keys, lambda v: stats.t_beats_nth(v[0], v[1:], int(t["n"])), rel=(0, 1))
    if c.kind == "dominates":
        steps = [int(s) for s in t["steps"]]
        keys = tuple(key(f"{e}@{s}") for s in steps for e in (t["subject"], t["other"]))
        return _Sub(dataset, metric, keys, lambda v: (v[0::2] - v[1::2]).min(axis=0))
    if c.kind == "trend":
        sign = 1.0 if t["direction"] == "up" else -1.0
        keys = tuple(key(f"{e}@{s}") for e in t["subjects"] for s in (t["from"], t["to"]))
        return _Sub(dataset, metric, keys, lambda v: (sign * (v[1::2] - v[0::2])).min(axis=0), oriented=False)
    raise ValueError(f"no statistic for kind {c.kind}")


def _missing(sub: _Sub, scores: dict[Key, Values], absent_why: str) -> str:
    absent = [k[2] for k in sub.keys if k not in scores]
    if absent:
        return f"{sub.dataset}/{sub.metric}: {absent_why}: {', '.join(absent)}"
    bad = [(k[2], scores[k].reason) for k in sub.keys if not scores[k].ok]
    if bad:
        return f"{sub.dataset}/{sub.metric}: {bad[0][0]}: {bad[0][1]}" + (f" (+{len(bad) - 1} more)" if len(bad) > 1 else "")
    return ""


def _sign(metric: str, oriented: bool) -> float:
    return -1.0 if oriented and metric_spec(metric).lower_better else 1.0


def _draws(claim_id: str, sub: _Sub, vals: list[Values], boot: dict[str, Any]) -> tuple[np.ndarray | None, str]:
    """(M, B) oriented bootstrap means of the sub's keys, or None when no key has per-image values."""
    live = [v for v in vals if v.resamplable]
    if not live:
        return None, "point values only (no per-image numbers)"
    common = sorted(set.intersection(*(set(v.images) for v in live)))
    if len(common) < 2:
        return None, "fewer than 2 images shared by the entities"
    tag = f"{claim_id}|{sub.dataset}|{sub.metric}"
    idx = stats.draw_images(len(common), int(boot["n"]), int(boot["seed"]), tag)
    sign = _sign(sub.metric, sub.oriented)
    rows = []
    for k, v in zip(sub.keys, vals):
        if v.resamplable:
            pos = {name: i for i, name in enumerate(v.images)}
            arr = v.per_image[[pos[n] for n in common]]
            rows.append(sign * stats.boot_means(arr, idx, int(boot["seed"]), f"{tag}|{k[2]}"))
        else:
            rows.append(np.full(int(boot["n"]), sign * float(v.point)))
    note = "" if len(live) == len(vals) else "set-level values held fixed in the bootstrap"
    if any(len(v.images) != len(common) for v in live):
        note = (note + "; " if note else "") + f"paired on the {len(common)} images all entities share"
    return np.stack(rows), note


def evaluate_claim(c: Claim, files: ClaimsFile, scores: dict[Key, Values], boot: dict[str, Any] | None = None,
                   absent_why: str = "not run in this profile", *, tolerances: Tolerances) -> Result:
    """The verdict of claim `c` on `scores`; `absent_why` explains keys that have no entry at all; `tolerances`
    the per-table tolerances a refutation must exceed (`EXACT` for the paper's own numbers)."""
    boot = {**DEFAULT_BOOT, **(boot or {})}
    if not c.checkable:
        return Result(c, "qualitative", reason=f"visual statement; see {c.test['see']}")
    subs = [_subs(c, files, d, m) for d in c.datasets for m in c.metrics]
    reasons = [r for r in (_missing(s, scores, absent_why) for s in subs) if r]
    why = "; ".join(reasons[:3]) + (f" (+{len(reasons) - 3} more)" if len(reasons) > 3 else "")
    live = [s for s in subs if not _missing(s, scores, absent_why)]
    if not live:
        return Result(c, "not evaluable", reason=why)
    # A claim holds only if every part holds: a refuted part refutes it even when other parts are missing; a
    # part that holds says nothing about the missing ones (then: not evaluable, with the evaluated part's verdict).
    r = _conjunction(c, live, scores, boot, tolerances)
    if not reasons or r.verdict == "refuted":
        return r if not reasons else Result(c, r.verdict, r.statistic, r.p_value, r.interval, r.n_boot, r.subs,
                                            reason=f"refuted on the evaluable part; not evaluable: {why}", extra=r.extra)
    parts = ", ".join(f"{s.dataset}/{s.metric}" for s in live)
    inner = f" ({r.reason})" if r.reason else ""
    return Result(c, "not evaluable", r.statistic, r.p_value, r.interval, r.n_boot, r.subs,
                  reason=f"{why}; on the evaluable part ({parts}): {r.verdict}{inner}", extra=r.extra)


def _conjunction(c: Claim, subs: list[_Sub], scores: dict[Key, Values], boot: dict[str, Any],
                 tolerances: Tolerances) -> Result:
    """The claim's verdict over `subs` (all evaluable): T = min over them, per bootstrap draw; refuted only
    beyond the tolerance (module docstring)."""
    observed, draws_all, results, extra = [], [], [], {}
    for s in subs:
        vals = [scores[k] for k in s.keys]
        sign = _sign(s.metric, s.oriented)
        means = np.array([sign * float(v.point) for v in vals])
        t_obs = float(s.fn(means))
        draws, note = _draws(c.id, s, vals, boot)
        t_draws = s.fn(draws) if draws is not None else None
        observed.append(t_obs)
        draws_all.append(t_draws)
        tol = float(tolerances.get((c.table, s.metric), 0.0))
        ran_on = tuple(sorted({v.dataset for v in vals if v.dataset}))
        results.append(SubResult(s.dataset, s.metric, t_obs, note, tol, ran_on))
        if s.rel:
            extra.update(_relative(c, s, means, draws, boot))
    t = float(min(observed))
    if all(d is None for d in draws_all):
        combined = None
    else:
        n = int(boot["n"])
        combined = np.min(np.stack([d if d is not None else np.full(n, o) for d, o in zip(draws_all, observed)]), axis=0)
    alpha = float(boot["alpha"])
    v, p, interval = stats.verdict(t, combined, alpha)
    reason = ""
    if v == "refuted":
        tols = [r.tolerance for r in results]
        m_obs = float(min(o + tl for o, tl in zip(observed, tols)))
        m_draws = None
        if combined is not None:
            n = int(boot["n"])
            m_draws = np.min(np.stack([(d if d is not None else np.full(n, o)) + tl
                                       for d, o, tl in zip(draws_all, observed, tols)]), axis=0)
        beyond, p_margin = stats.beyond_margin(m_obs, m_draws, alpha)
        if beyond:
            p = p_margin if p_margin is not None else p
        else:
            within = ", ".join(f"{r.dataset}/{r.metric} T = {r.statistic:.4g}, tolerance ±{r.tolerance:.4g}"
                               for r in results if r.statistic is not None and r.statistic < 0)
            sig = "" if p is None else f" (p = {p:.3g})"
            why = "within" if m_obs >= 0 else f"not significantly beyond (p = {p_margin:.3g})"
            v, reason = "inconclusive", (f"falls short{sig} but {why} the table's tolerance ({within}): "
                                         "not refuted on a difference the table cannot resolve")
    return Result(c, v, t, p, interval, int(boot["n"]) if combined is not None else 0, tuple(results),
                  reason=reason, extra=extra)


def _relative(c: Claim, s: _Sub, means: np.ndarray, draws: np.ndarray | None, boot: dict[str, Any]) -> dict[str, Any]:
    """beats_nth: the relative gap |target - subject| / |target| in the better direction, with its interval."""
    n = int(c.test["n"])

    def rel(v: np.ndarray) -> np.ndarray:
        target = stats.nth_best(v[1:], n)
        return (v[0] - target) / np.abs(target)

    out: dict[str, Any] = {f"relative_gap[{s.dataset}/{s.metric}]": float(rel(means))}
    if draws is not None:
        r = rel(draws)
        a = float(boot["alpha"])
        out[f"relative_gap_interval[{s.dataset}/{s.metric}]"] = (float(np.quantile(r, a / 2)), float(np.quantile(r, 1 - a / 2)))
    if "relative" in c.test:
        out["relative_gap_paper"] = float(c.test["relative"])
    return out


def evaluate_all(files: ClaimsFile, scores: dict[Key, Values], boot: dict[str, Any] | None = None,
                 absent_why: str = "not run in this profile", *, tolerances: Tolerances) -> list[Result]:
    return [evaluate_claim(c, files, scores, boot, absent_why, tolerances=tolerances) for c in files.claims]


def counts(results: list[Result]) -> dict[str, int]:
    return {v: sum(r.verdict == v for r in results) for v in VERDICTS}
