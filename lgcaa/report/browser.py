"""Headless Chromium (Debian's `chromium`): screenshots and DOM dumps of the report, the gallery, any page.

    screenshot("results/report/gallery.html", "gallery.png", 1400, 900)   # a PNG of the page as drawn
    run_headless("--virtual-time-budget=5000", "--dump-dom", page_url("results/report/gallery.html#check")).stdout
                                                                            # the DOM after its scripts ran

A page is a URL (http://, https://, file://) or a path to an HTML file, optionally with a `#fragment` (the
gallery reads its selection from it). Chromium runs with a throw-away profile folder, no sandbox (root in
containers), no GPU and no background network; `wait_ms` of virtual time lets the page's scripts and image loads
finish before the screenshot. The tests and `lgcaa report screenshot` call these functions.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from lgcaa.errors import UserError

EXECUTABLES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
INSTALL_HINT = "headless chromium not found: apt-get install -y chromium (Debian/Ubuntu), then rerun"


def find_chromium() -> str | None:
    """The first Chromium-family browser on PATH, or None."""
    return next((exe for name in EXECUTABLES if (exe := shutil.which(name))), None)


def page_url(page: str | Path) -> str:
    """`page` as a URL: URLs stay as they are; a path (with an optional `#fragment`) becomes a file:// URL."""
    text = str(page)
    if text.startswith(("http://", "https://", "file://")):
        return text
    path, sep, fragment = text.partition("#")
    file = Path(path)
    if not file.is_file():
        raise UserError(f"{file}: page not found; build it first (e.g. `snakemake {file}`) or pass a URL")
    return file.resolve().as_uri() + sep + fragment


def run_headless(*args: str, exe: str | None = None, profile: str | Path | None = None,
                 timeout: float = 120) -> subprocess.CompletedProcess:
    """Run headless Chromium with `args` (e.g. `--dump-dom URL`); `profile`: its user-data folder (default: a
    temporary one, removed afterwards). UserError when no browser is installed."""
    exe = exe or find_chromium()
    if exe is None:
        raise UserError(INSTALL_HINT)
    with tempfile.TemporaryDirectory(prefix="lgcaa-chromium-") as tmp:
        return subprocess.run(
            [
                exe,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={profile or tmp}",
                *args,
            ],
            check=False,
            capture_output=True,
            text=True,
            timeout=timeout,
        )


def screenshot(page: str | Path, out_png: str | Path, width: int = 1280, height: int = 900,
               wait_ms: int = 5000) -> Path:
    """Draw `page` (URL or HTML path, optional `#fragment`) in a `width` x `height` window and write the PNG to
    `out_png` (atomically); UserError with Chromium's last words when it draws nothing."""
    from lgcaa.io import atomic_path

    url = page_url(page)
    out = Path(out_png)
    with atomic_path(out, suffix=".png") as tmp:
        tmp.unlink()  # Chromium writes the file; an empty one left behind means it drew nothing
        res = run_headless(f"--screenshot={tmp}", f"--window-size={width},{height}", "--hide-scrollbars",
                           "--run-all-compositor-stages-before-draw", f"--virtual-time-budget={wait_ms}", url)
        if not tmp.is_file() or tmp.stat().st_size == 0:
            tail = " ".join(res.stderr.strip().splitlines()[-2:])[-300:]
            raise UserError(f"{out}: chromium wrote no screenshot of {url} (exit {res.returncode}: {tail}); "
                            "check the page opens in a browser, then rerun")
    return out

