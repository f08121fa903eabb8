"""The one exception type for bad input, and the one place that turns an error into the CLI's one line.

Raised with a single line that names the offending file and the fix; the CLI prints it and exits 2.
`one_line` also gives that line for the environment's errors the harness cannot prevent — a full disk, a
read-only or forbidden output folder (an OSError naming its file: the atomic writers name the destination, not
their temporary file), a locked or corrupt sqlite database — and None for anything else (a bug: traceback).
"""

from __future__ import annotations

import errno
from collections.abc import Iterable

# what to do about an OSError, by errno; the line names the file first
_OS_FIXES = {
    errno.ENOSPC: "the disk is full: free space there (or point paths.results / --out elsewhere), then rerun",
    errno.EDQUOT: "the disk quota is exhausted: free space there (or point paths.results / --out elsewhere), then rerun",
    errno.EROFS: "the file system is read-only: pass a writable output folder (paths.results / --out), then rerun",
    errno.EACCES: "permission denied: make the folder writable for this user or pass another one, then rerun",
    errno.EPERM: "operation not permitted: make the folder writable for this user or pass another one, then rerun",
    errno.ENOENT: "no such file or folder (a dangling link?): create it, fix the link or pass another path, then rerun",
    errno.EISDIR: "a folder where a file was expected: move it away or pass another path, then rerun",
    errno.ENOTDIR: "a file where a folder was expected: move it away or pass another path, then rerun",
    errno.ENAMETOOLONG: "the file name is too long: use a shorter path, then rerun",
}


class UserError(Exception):
    """Bad input or missing prerequisite; the message names the file and how to fix it."""


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """` (did you mean 'x'?)` when a known name is close to `name` (difflib), else ''."""
    import difflib

    close = difflib.get_close_matches(str(name), [str(k) for k in known], n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def check_known(kind: str, names: Iterable[str], known: Iterable[str], hint: str = "") -> None:
    """UserError naming every one of `names` that is not in `known` at once, each with its closest known name:
    `unknown metrics 'psnrr' (did you mean 'psnr'?), 'x'; known: a, b, c`."""
    known = list(known)
    unknown = list(dict.fromkeys(n for n in names if n not in known))
    if unknown:
        listed = ", ".join(f"'{n}'{did_you_mean(n, known)}" for n in unknown)
        plural = kind if len(unknown) == 1 else f"{kind}s"
        raise UserError(f"unknown {plural} {listed}; known: {', '.join(known)}{hint}")


def one_line(exc: BaseException) -> str | None:
    """The CLI's one line for `exc` (file first, then the fix), or None when it is not the user's to fix."""
    if isinstance(exc, UserError):
        return " ".join(str(exc).split("\n"))
    if isinstance(exc, OSError) and exc.filename is not None and exc.errno in _OS_FIXES:
        return f"{exc.filename}: {exc.strerror or exc}; {_OS_FIXES[exc.errno]}"
    return _database_line(exc)


def _database_line(exc: BaseException) -> str | None:
    """sqlite (directly or wrapped by SQLAlchemy/MLflow) locked or corrupt: the database file and the fix."""
    db = getattr(exc, "lgcaa_database", None) or "the MLflow database (results/mlflow.db)"
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        mod = type(exc).__module__
        if mod.startswith(("sqlite3", "sqlalchemy")):
            text = str(getattr(exc, "orig", None) or exc).split("\n")[0]
            if "locked" in text:
                return (f"{db}: database is locked (another process holds it); wait for it to finish or stop it, "
                        "then rerun")
            if "not a database" in text or "malformed" in text or "corrupt" in text:
                return (f"{db}: not a valid sqlite database ({text}); move it away (MLflow runs are rebuilt from the "
                        "job records by `lgcaa mlflow-sync`), then rerun")
        exc = exc.__cause__ or exc.__context__
    return None
