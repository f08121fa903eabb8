"""`lgcaa weights list|fetch|verify [TARGET ...]`: the weight files of the nine metrics (and the model).

TARGET: a metric name (lpips, dists, fid, musiq, clipiqa, niqe, maniqa), `model`, a file from `list`
(e.g. `pyiqa/MANIQA_PIPAL-ae6d356b.pth`), or `all` (default). Files live under `torch.hub.get_dir()`.
A baseline name (`lgcaa baselines list`) selects that baseline's files instead; they live under the
baselines cache dir (`--cache-dir`, default $LGCAA_CACHE_DIR or results/cache) and are handled by
`baselines.weights`.

- list: where each file stands (present / missing), its pinned sha256 (or UNPINNED), and which metrics can run.
- fetch: make each file present and verified: offline producers first (NIQE, LPIPS heads), then the mirrors
  with resume + sha256 check. Offline (no network, HF_HUB_OFFLINE=1 or LGCAA_OFFLINE=1) every file that cannot
  be made is listed with its destination and URL. Exit 1 if any file is still missing.
- verify: hash every present file against the manifest (or the local record for unpinned files). Exit 1 if
  any requested file is missing or corrupt.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    for action, text in (("list", "show files, states and which metrics can run"),
                         ("fetch", "make files present and verified (download with resume + sha256)"),
                         ("verify", "hash present files against their pinned or recorded sha256")):
        sp = sub.add_parser(action, help=text)
        sp.add_argument("targets", nargs="*", default=["all"], help="metric names, 'model', files, or 'all'")
        sp.add_argument("--json", action="store_true", help="print the states as JSON")
        sp.add_argument("--cache-dir", default=None, help="baselines cache dir (baseline targets only)")
        if action == "fetch":
            sp.add_argument("--timeout", type=float, default=60.0, help="seconds per network read")
            sp.add_argument("--retries", type=int, default=3, help="extra attempts per mirror (each resumes)")


def select(targets: list[str]) -> list[Any]:
    from lgcaa.weights.manifest import FILES, files_for

    if not targets or "all" in targets:
        return list(FILES)
    return files_for(targets)


def run(args: argparse.Namespace) -> int:
    import json

    from baselines.registry import BASELINES
    from lgcaa.weights import manager

    baseline_targets = [t for t in args.targets if t in BASELINES]
    if baseline_targets:
        if len(baseline_targets) != len(args.targets):
            from lgcaa.errors import UserError

            raise UserError("give either baseline names or metric/model/file targets, not both, in one call")
        return run_baselines(args.action, baseline_targets, args.cache_dir)
    files = select(args.targets)
    hub = manager.hub_dir()
    if args.action == "list":
        states = [manager.inspect(f, hub) for f in files]
    elif args.action == "verify":
        states = [manager.inspect(f, hub, deep=True) for f in files]
    else:
        states = []
        for f in files:
            s = manager.fetch(f, hub, timeout=args.timeout, retries=args.retries, progress=_progress(f.dest))
            states.append(s)
            if not args.json:
                _line(s)
            if s.warning:
                print(f"  warning: {s.warning}", file=sys.stderr)
    if args.json:
        print(json.dumps({"hub": str(hub), "files": [s.as_dict() for s in states],
                          "metrics": metric_availability(hub)}, indent=2))
    elif args.action != "fetch":
        for s in states:
            _line(s)
    if args.action == "list" and not args.json:
        _footer(hub)
    bad = [s for s in states if s.state in (manager.MISSING, manager.CORRUPT)]
    if bad and not args.json:
        print(f"\n{len(bad)} of {len(states)} files not usable; put each at its path (then `lgcaa weights verify`):",
              file=sys.stderr)
        for s in bad:
            print(f"  {s.state:8s} {s.path}\n           <- {s.file.urls[0]}", file=sys.stderr)
    if args.action == "list":
        return 0
    return 1 if bad else 0


def run_baselines(action: str, names: list[str], cache_dir: str | None) -> int:
    """list/verify/fetch the declared weight files of baselines (see baselines.weights)."""
    from baselines.cache import cache_dir as resolve_cache
    from baselines.registry import BASELINES
    from baselines.weights import fetch, missing_weights, weight_path
    from lgcaa.io import sha256_file

    cache = resolve_cache(cache_dir)
    bad = 0
    for name in names:
        weights = list(BASELINES[name].weights)
        if action == "fetch":
            fetch(weights, cache)  # raises UserError naming manual files still missing
        missing = set(missing_weights(weights, cache))
        for w in weights:
            path = weight_path(w, cache)
            state = "missing" if w in missing else "present"
            if state == "present" and action == "verify" and w.sha256 and path.is_file():
                state = "present" if sha256_file(path) == w.sha256 else "corrupt"
            bad += state != "present"
            pin = (w.sha256[:12] + "…") if w.sha256 else "UNPINNED"
            print(f"{state:10s} {name}: {w.dest:55s} sha256 {pin}" + (f"\n           <- {w.url}" if state != "present" else ""))
    return 0 if action == "list" or not bad else 1


def metric_availability(hub) -> dict[str, list[str]]:
    """{metric: [paths of absent files]} for the nine metrics ([] = runnable here)."""
    from lgcaa.metrics.registry import METRICS, TABLE_ORDER
    from lgcaa.weights.manager import inspect
    from lgcaa.weights.manifest import BY_DEST

    out = {}
    for m in TABLE_ORDER:
        states = [inspect(BY_DEST[w], hub) for w in METRICS[m].weights]
        out[m] = [str(s.path) for s in states if not s.usable]
    return out


def _line(s: Any) -> None:
    pin = (s.file.sha256[:12] + "…") if s.file.sha256 else "UNPINNED"
    offline = " (offline producer)" if s.file.offline else ""
    print(f"{s.state:10s} {s.file.dest:45s} sha256 {pin:13s} used by {','.join(s.file.used_by)}{offline}"
          + (f"\n           {s.detail}" if s.state not in ("present", "missing") or "not fetched" in s.detail
             else ""))


def _footer(hub) -> None:
    from lgcaa.weights.manifest import EXTERNAL, NOT_NEEDED

    avail = metric_availability(hub)
    ready = [m for m, miss in avail.items() if not miss]
    print(f"\nhub: {hub}")
    print(f"metrics runnable here: {', '.join(ready) or 'none'}; missing weights: "
          f"{', '.join(m for m in avail if m not in ready) or 'none'} (fix: lgcaa weights fetch METRIC)")
    for what, why in NOT_NEEDED.items():
        print(f"not needed: {what} — {why}")
    for repo, how in EXTERNAL.items():
        print(f"model (hub snapshot, not managed here): {repo}: {how}")


def _progress(label: str):
    """Progress on stderr every 10% (only when stderr is a terminal)."""
    if not sys.stderr.isatty():
        return None
    last = [-1]

    def report(done: int, total: int | None) -> None:
        if total:
            pct = int(100 * done / total) // 10 * 10
            if pct != last[0]:
                last[0] = pct
                print(f"  {label}: {pct}% of {total / 1e6:.0f} MB", file=sys.stderr)

    return report
