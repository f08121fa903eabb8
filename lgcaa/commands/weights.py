"""`lgcaa weights list|fetch|verify [TARGET ...]` and `lgcaa weights pin FILE SHA256`: every weight file.

TARGET: a metric name (lpips, dists, fid, musiq, clipiqa, niqe, maniqa), `model`, a baseline name
(`lgcaa baselines list`), a file from `list` (e.g. `pyiqa/MANIQA_PIPAL-ae6d356b.pth`), or `all` (default: the
metrics' files). The metrics' files live under `torch.hub.get_dir()`, the baselines' under the harness cache
dir (`--cache-dir`, default $LGCAA_CACHE_DIR or results/cache); both are handled by `lgcaa.weights.manager`.

- list: where each file stands (present / missing), its pinned sha256 (or UNPINNED), and which metrics can run.
- fetch: make each file present and verified: offline producers first (NIQE, LPIPS heads), then the mirrors
  with resume + sha256 check. Offline (no network, HF_HUB_OFFLINE=1 or LGCAA_OFFLINE=1) every file that cannot
  be made is listed with its destination and URL. Exit 1 if any file is still missing.
- verify: hash every present file against the manifest (or the local record for unpinned files). Exit 1 if
  any requested file is missing, corrupt, or has a digest known nowhere (unrecorded).
- pin: record the sha256 of a present file that has no published digest, as the user's explicit trust (the
  digest given must match the file). Without a pin or a complete download from its URL such a file is never
  loaded.
"""

from __future__ import annotations

import argparse
import sys

from lgcaa.download import RATE_HELP


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    for action, text in (("list", "show files, states and which metrics can run"),
                         ("fetch", "make files present and verified (download with resume + sha256)"),
                         ("verify", "hash present files against their pinned or recorded sha256")):
        sp = sub.add_parser(action, help=text)
        sp.add_argument("targets", nargs="*", default=["all"],
                        help="metric names, 'model', baseline names, files, or 'all' (the metrics' files)")
        sp.add_argument("--json", action="store_true", help="print the states as JSON")
        _cache_arg(sp)
        if action == "fetch":
            sp.add_argument("--timeout", type=float, default=60.0, help="seconds per network read")
            sp.epilog = f"Downloads resume from their .part; {RATE_HELP}."
            sp.add_argument("--retries", type=int, default=3, help="extra attempts per mirror (each resumes)")
    sp = sub.add_parser("pin", help="trust a present file that has no published sha256 (after checking it)")
    sp.add_argument("file", help="the file as `lgcaa weights list` names it (e.g. pyiqa/MANIQA_PIPAL-ae6d356b.pth)")
    sp.add_argument("sha256", help="its sha256, as compared with a trusted copy; must match the file")
    _cache_arg(sp)


def _cache_arg(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--cache-dir", default=None,
                    help="harness cache dir holding the baselines' files (default $LGCAA_CACHE_DIR or results/cache)")


def run(args: argparse.Namespace) -> int:
    from baselines.registry import weight_files
    from lgcaa.metrics.availability import absent_weights
    from lgcaa.weights import manager, report
    from lgcaa.weights.roots import hub_dir, root_of

    if args.action == "pin":
        found = weight_files([args.file])
        if len(found) != 1:
            from lgcaa.errors import UserError

            raise UserError(f"'{args.file}' names {len(found)} files; pin one file as `lgcaa weights list` names it")
        print(report.state_line(manager.pin(found[0], args.sha256, root_of(found[0], args.cache_dir))))
        return 0
    files = weight_files(args.targets)
    hub = hub_dir()
    if args.action == "fetch":
        states = []
        for s in manager.fetch_all(files, args.cache_dir, args.timeout, args.retries, _progress):
            states.append(s)
            if not args.json:
                print(report.state_line(s))
            if s.warning:
                print(f"  warning: {s.warning}", file=sys.stderr)
    else:
        states = manager.inspect_all(files, args.cache_dir, deep=args.action == "verify")
    if args.json:
        print(report.states_json(hub, states, absent_weights(hub)))
    elif args.action != "fetch":
        for s in states:
            print(report.state_line(s))
    if args.action == "list" and not args.json and report.shows_hub(files):
        for line in report.footer_lines(hub, absent_weights(hub)):
            print(line)
    bad = report.unusable(states, args.action)
    if bad and not args.json:
        for line in report.unusable_lines(bad, len(states)):
            print(line, file=sys.stderr)
    if args.action == "list":
        return 0
    return 1 if bad else 0


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
