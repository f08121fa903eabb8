"""What `lgcaa weights list|fetch|verify` prints, as lines (the command prints them).

`state_line` is one file's line; `unusable` says which files count as not usable after an action (missing or
corrupt; after fetch and verify also a file whose digest is known nowhere, which `list` only shows), and
`unusable_lines` the block that says where each goes; `footer_lines` the listing's end when it shows hub files:
the hub, which metrics can run here, what is not needed and the models this package does not manage.
Which metrics miss files (`lgcaa.metrics.availability.absent_weights`) is passed in: this package reads no
metric module.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from lgcaa.weights.manager import CORRUPT, MISSING, UNRECORDED, FileState
from lgcaa.weights.manifest import EXTERNAL, HUB, NOT_NEEDED, WeightFile


def state_line(s: FileState) -> str:
    """One file: state, file, pinned digest (or UNPINNED), the metrics or methods using it, and the detail where
    it says more than the state."""
    pin = (s.file.sha256[:12] + "…") if s.file.sha256 else "UNPINNED"
    offline = " (offline producer)" if s.file.offline else (" (manual)" if s.file.manual else "")
    return (f"{s.state:10s} {s.file.dest:45s} sha256 {pin:13s} used by {','.join(s.file.used_by)}{offline}"
            + (f"\n           {s.detail}" if s.state not in ("present", "missing") or "not fetched" in s.detail
               or s.file.manual else ""))


def unusable(states: Iterable[FileState], action: str) -> list[FileState]:
    """The files not usable after `action` (list, fetch, verify): missing or corrupt, and (but for `list`, which
    does not hash) unrecorded."""
    return [s for s in states if s.state in (MISSING, CORRUPT) or (action != "list" and s.state == UNRECORDED)]


def unusable_lines(bad: list[FileState], total: int) -> list[str]:
    """The block naming every unusable file of `total` with its path and the URL it comes from."""
    return [f"\n{len(bad)} of {total} files not usable; put each at its path (then `lgcaa weights verify`):",
            *(f"  {s.state:8s} {s.path}\n           <- {s.file.urls[0]}" for s in bad)]


def shows_hub(files: Iterable[WeightFile]) -> bool:
    """Whether a listing of `files` ends with the hub's footer (some file lives under the torch hub folder)."""
    return any(f.root == HUB for f in files)


def footer_lines(hub: Path, absent: dict[str, list[str]]) -> list[str]:
    """The listing's footer: the hub folder, the metrics runnable here and those missing weights (`absent`:
    metric -> absent files), what is not needed and why, the hub snapshots not managed here."""
    ready = [m for m, miss in absent.items() if not miss]
    return [f"\nhub: {hub}",
            (f"metrics runnable here: {', '.join(ready) or 'none'}; missing weights: "
             f"{', '.join(m for m in absent if m not in ready) or 'none'} (fix: lgcaa weights fetch METRIC)"),
            *(f"not needed: {what} — {why}" for what, why in NOT_NEEDED.items()),
            *(f"model (hub snapshot, not managed here): {repo}: {how}" for repo, how in EXTERNAL.items())]


def states_json(hub: Path, states: list[FileState], absent: dict[str, list[str]]) -> str:
    """`--json`: the hub, every file's state and the metrics' absent files."""
    return json.dumps({"hub": str(hub), "files": [s.as_dict() for s in states], "metrics": absent}, indent=2)
