"""What this process is, for provenance: its command line, when it started, and which code (git) it runs.

Standard library only, so `lgcaa --help` and `--version` stay instant. `lgcaa.cli.main` calls `note_command`;
`lgcaa.tracking` writes these into every job record.
"""

from __future__ import annotations

import functools
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]  # the checkout holding this package (git metadata comes from here)

_COMMAND: list[str] | None = None
_STARTED: float | None = None
_ADOPTED: dict[str, str] = {}  # provenance of a profile given by --config (the DAG's environment wins)


@functools.lru_cache(maxsize=1)
def git_state(repo: Path = REPO) -> dict[str, Any]:
    """{"commit": sha or "unknown", "dirty": bool or None, "describe": one line} of the code in `repo`.

    Dirty = a tracked file differs from the commit (untracked files, e.g. results/, do not count)."""
    def git(*args: str) -> str | None:
        try:
            res = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=20,
                                 check=False)
        except (OSError, subprocess.SubprocessError):
            return None
        return res.stdout.strip() if res.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return {"commit": "unknown", "dirty": None, "describe": f"{repo} is not a git checkout"}
    status = git("status", "--porcelain", "--untracked-files=no")
    dirty = None if status is None else bool(status)
    changed = len(status.splitlines()) if status else 0
    describe = f"{commit[:12]}" + (f" + {changed} modified file(s)" if dirty else " (clean)")
    return {"commit": commit, "dirty": dirty, "describe": describe}


def note_command(argv: list[str], whole_process: bool) -> None:
    """Called by `lgcaa.cli.main`: remember the command line and when the job started. A whole process (the
    console script, `python -m lgcaa`) started when the interpreter did, imports included."""
    global _COMMAND, _STARTED
    _ADOPTED.clear()
    _COMMAND = ["lgcaa", *argv]
    _STARTED = None if whole_process else time.time()  # None: the process start, looked up when needed


def process_start() -> float:
    try:
        import psutil

        return float(psutil.Process().create_time())
    except Exception:  # noqa: BLE001 -- psutil missing or /proc unreadable: fall back to now
        return time.time()


def job_started() -> float:
    """When this job started: the `lgcaa` process's start, or the `main()` call when run in-process."""
    return _STARTED if _STARTED is not None else process_start()


def command_line() -> str:
    return shlex.join(_COMMAND) if _COMMAND is not None else shlex.join([Path(sys.executable).name, *sys.argv])


def adopt(values: dict[str, str]) -> None:
    """Provenance values (profile, config digest, lock) of the profile this command was given."""
    _ADOPTED.update({k: v for k, v in values.items() if v})


def context(key: str) -> str:
    """A provenance value: from the environment (set by the DAG for every job), else adopted, else ""."""
    import os

    return os.environ.get(key) or _ADOPTED.get(key, "")
