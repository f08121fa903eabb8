"""The one exception type for bad input.

Raised with a single line that names the offending file and the fix; the CLI prints it and exits 2.
"""

from __future__ import annotations

from collections.abc import Iterable


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
