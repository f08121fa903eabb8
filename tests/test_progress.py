"""The progress helper: plain periodic lines (count, rate, ETA) in logs, a redrawn line on a terminal."""

from __future__ import annotations

import io
import threading

from lgcaa.progress import Progress, byte_progress, hms, track


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_log_lines_are_plain_periodic_and_end_with_a_summary():
    out, clock = io.StringIO(), Clock()
    bar = Progress("eval bicubic on mini", 8, "images", stream=out, interval=10, tty=False, clock=clock)
    for _ in range(8):
        clock.t += 3  # 3 s per image
        bar.update()
    bar.close()
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue()
    assert lines[0] == "eval bicubic on mini: 1/8 images (12%), 0.333 images/s, ETA 0:00:21"
    # the first update (t=3 s), then at most every 10 s (t=15 s: 5/8), then the summary; the 8th is not repeated
    assert [ln.split(": ")[1].split(" ")[0] for ln in lines] == ["1/8", "5/8", "8/8"]
    assert lines[-1] == "eval bicubic on mini: 8/8 images (100%) in 0:00:24, 0.333 images/s"


def test_terminal_redraws_one_line():
    out, clock = io.StringIO(), Clock()
    with Progress("sr", 3, "images", stream=out, tty=True, clock=clock) as bar:
        for _ in range(3):
            clock.t += 1
            bar.update()
    text = out.getvalue()
    assert text.startswith("\rsr: 1/3") and text.endswith("\n") and text.count("\n") == 1


def test_threads_count_every_update_and_total_can_come_later():
    out = io.StringIO()
    bar = Progress("eval", stream=out, tty=False, interval=1e9)
    bar.note("building 2 metric models")
    bar.start(400)
    threads = [threading.Thread(target=lambda: [bar.update() for _ in range(100)]) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    bar.close()
    assert bar.done == 400 and out.getvalue().splitlines()[0] == "eval: building 2 metric models"
    assert "400/400" in out.getvalue().splitlines()[-1]


def test_track_and_bytes():
    out = io.StringIO()
    assert list(track(range(3), "steps", stream=out, tty=False)) == [0, 1, 2]
    assert out.getvalue().splitlines()[-1].startswith("steps: 3/3 items (100%) in ")
    out = io.StringIO()
    report = byte_progress("download a.zip", stream=out, tty=False, interval=0)
    for done in (0, 2**20, 3 * 2**20, 4 * 2**20):
        report(done, 4 * 2**20)
    assert out.getvalue().splitlines()[-1].startswith("download a.zip: 4/4 MiB (100%)")
    assert hms(3725) == "1:02:05" and hms(float("nan")) == "?"
