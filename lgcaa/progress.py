"""Progress of long steps: a live bar on a terminal, plain periodic lines in log files.

    with Progress("sr bicubic on mini-bicubic", total=len(files), unit="images") as bar:
        for f in files:
            ...
            bar.update()

On a terminal (the stream is a tty) one line is redrawn in place with a carriage return, at most 5 times a
second. Anywhere else (Snakemake log files, pipes, CI) it prints plain lines — never a carriage return — on the
first update, then at most every `interval` seconds (default 10, or $LGCAA_PROGRESS_SECONDS), and a last line
when the step ends:

    sr bicubic on mini-bicubic: 3/8 images (38%), 0.61 images/s, ETA 0:00:08
    sr bicubic on mini-bicubic: 8/8 images (100%) in 0:00:13, 0.61 images/s

Lines go to stderr so stdout keeps a command's result. Updates may come from several threads (the evaluator's
workers). `total` may be set later with `start(total)` when the amount of work is known only inside a step.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Self, TextIO, TypeVar

T = TypeVar("T")
DEFAULT_INTERVAL_S = 10.0
TTY_REFRESH_S = 0.2


def hms(seconds: float) -> str:
    """0:01:05 for 65.2 s; '?' for a negative or non-finite value."""
    if not seconds >= 0 or seconds == float("inf"):
        return "?"
    s = round(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


def default_interval() -> float:
    raw = os.environ.get("LGCAA_PROGRESS_SECONDS", "")
    try:
        return max(0.0, float(raw)) if raw else DEFAULT_INTERVAL_S
    except ValueError:
        return DEFAULT_INTERVAL_S


class Progress:
    """Counts units of work done out of `total`; see the module docstring for what it prints."""

    def __init__(self, label: str, total: int | None = None, unit: str = "items", *, initial: int = 0,
                 stream: TextIO | None = None, interval: float | None = None, tty: bool | None = None,
                 clock=time.monotonic):
        self.label, self.unit, self.total = label, unit, total
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.interval = default_interval() if interval is None else interval
        self.clock = clock
        self.initial = self.done = initial
        self.t0 = clock()
        self._last_print: float | None = None
        self._closed = False
        self._lock = threading.Lock()

    # -- counting ---------------------------------------------------------------------------------------------
    def start(self, total: int) -> None:
        """Set (or reset) the total once it is known; the rate counts from now."""
        with self._lock:
            self.total, self.t0 = total, self.clock()
            self.initial = self.done

    def note(self, text: str) -> None:
        """One plain line about what the step is doing (e.g. loading models before the counting starts)."""
        with self._lock:
            self.stream.write(("\r\x1b[K" if self.tty else "") + f"{self.label}: {text}\n")
            self.stream.flush()

    def update(self, n: int = 1) -> None:
        with self._lock:
            self.done += n
            now = self.clock()
            due = self._last_print is None or now - self._last_print >= (TTY_REFRESH_S if self.tty else self.interval)
            if due and not (self.total is not None and self.done >= self.total):  # the last line comes from close()
                self._emit(self.line(now), now)

    def advance_to(self, done: int) -> None:
        """Report an absolute count (e.g. bytes on disk); closes when it reaches the total."""
        if done > self.done:
            self.update(done - self.done)
        if self.total is not None and done >= self.total:
            self.close()

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            now = self.clock()
            if self.done > self.initial or self._last_print is not None:
                self._emit(self.line(now, final=True), now)
            if self.tty and self._last_print is not None:
                self.stream.write("\n")
                self.stream.flush()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- text ---------------------------------------------------------------------------------------------------
    def line(self, now: float | None = None, final: bool = False) -> str:
        now = self.clock() if now is None else now
        elapsed = max(now - self.t0, 1e-9)
        rate = (self.done - self.initial) / elapsed
        count = f"{self.done}/{self.total}" if self.total else f"{self.done}"
        pct = f" ({100 * self.done / self.total:.0f}%)" if self.total else ""
        text = f"{self.label}: {count} {self.unit}{pct}"
        if final:
            return f"{text} in {hms(elapsed)}, {rate:.3g} {self.unit}/s"
        eta = hms((self.total - self.done) / rate) if self.total and rate > 0 else "?"
        return f"{text}, {rate:.3g} {self.unit}/s" + (f", ETA {eta}" if self.total else "")

    def _emit(self, text: str, now: float) -> None:
        self._last_print = now
        if self.tty:
            self.stream.write("\r" + text + "\x1b[K")
        else:
            self.stream.write(text + "\n")
        self.stream.flush()


def track(items: Iterable[T], label: str, total: int | None = None, unit: str = "items", **kw) -> Iterator[T]:
    """Yield `items`, reporting one unit per item (total: len(items) when it has one)."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    with Progress(label, total, unit, **kw) as bar:
        for item in items:
            yield item
            bar.update()


def byte_progress(label: str, **kw) -> Callable[[int, int | None], None]:
    """A `lgcaa.download` progress callback (bytes so far, total or None) reporting MiB."""
    bar: list[Progress] = []

    def report(done: int, total: int | None) -> None:
        if not bar:
            bar.append(Progress(label, total // 2**20 if total else None, "MiB", **kw))
        bar[0].advance_to(done // 2**20)

    return report
