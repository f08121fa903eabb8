"""Headless Chromium (Debian's `chromium`): screenshots of the report, the gallery, any page.

    screenshot("results/report/gallery.html", "gallery.png", 1400, 900)   # a PNG of the page as drawn

`FLAGS` are the flags every headless run uses (the tests' `--dump-dom` runs too), `find_chromium` the browser.

A page is a URL (http://, https://, file://) or a path to an HTML file, optionally with a `#fragment` (the
gallery reads its selection from it). Chromium runs with a throw-away profile folder, no sandbox (root in
containers), no GPU and no background network. A screenshot is taken over Chromium's DevTools pipe once the page
has loaded and every image in it has finished (a fixed virtual-time budget drew pages before their images). The
tests and `lgcaa report screenshot` use these.
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


FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync")


def _executable(exe: str | None) -> str:
    exe = exe or find_chromium()
    if exe is None:
        raise UserError(INSTALL_HINT)
    return exe


class _DevTools:
    """Chromium's DevTools protocol over `--remote-debugging-pipe` (fd 3: commands in, fd 4: events out; messages
    are JSON ended by a NUL byte): enough to open a page, wait for it, and capture it."""

    def __init__(self, exe: str, profile: str, width: int, height: int) -> None:
        import fcntl
        import os

        to_child, self._w = os.pipe()
        self._r, from_child = os.pipe()

        def fds() -> None:  # in the child: the pipes become its fds 3 and 4
            a, b = fcntl.fcntl(to_child, fcntl.F_DUPFD, 10), fcntl.fcntl(from_child, fcntl.F_DUPFD, 10)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.log = Path(profile) / "chromium.log"  # a file, not a pipe: a chatty browser never blocks on it
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [exe, *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-pipe", "--hide-scrollbars",
                 f"--window-size={width},{height}", "about:blank"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log, pass_fds=(3, 4),
                preexec_fn=fds)  # noqa: PLW1509 -- only dup2 calls, before exec
        os.close(to_child)
        os.close(from_child)
        self._buf = b""
        self._id = 0
        self.session = ""

    def call(self, method: str, params: dict | None = None, timeout: float = 60) -> dict:
        import json
        import os
        import select
        import time

        self._id += 1
        msg = {"id": self._id, "method": method, "params": params or {}}
        if self.session:
            msg["sessionId"] = self.session
        os.write(self._w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            while b"\0" in self._buf:
                raw, self._buf = self._buf.split(b"\0", 1)
                reply = json.loads(raw)
                if reply.get("id") == self._id:
                    if "error" in reply:
                        raise UserError(f"chromium: {method} failed: {reply['error'].get('message')}")
                    return reply.get("result", {})
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._r], [], [], left)[0]:
                raise UserError(f"chromium: no answer to {method} within {timeout:.0f} s")
            chunk = os.read(self._r, 1 << 20)
            if not chunk:
                raise UserError(f"chromium exited during {method}: {self.log.read_text(errors='replace')[-300:]}")
            self._buf += chunk

    def close(self) -> None:
        import os

        try:
            self.session = ""
            self.call("Browser.close", timeout=10)
        except UserError:
            self.proc.kill()
        finally:
            self.proc.wait(timeout=30)
            os.close(self._w)
            os.close(self._r)


# true once the page has loaded and every image in it has finished (loaded or failed) and been decoded
READY = ("document.readyState === 'complete' && Array.from(document.images).every(i => i.complete)")
TWO_FRAMES = "new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))"


def screenshot(page: str | Path, out_png: str | Path, width: int = 1280, height: int = 900,
               timeout: float = 60, wait_for: str = "") -> Path:
    """Draw `page` (URL or HTML path, optional `#fragment`) at `width` x `height` CSS pixels once it has loaded and
    every image in it has finished loading, and write the PNG to `out_png` (atomically). `wait_for`: also wait until
    the page's text contains it (a page that draws itself after loading, e.g. MLflow's UI fetching a run). UserError
    when no browser is installed or the page is not ready within `timeout` seconds."""
    import base64
    import json
    import time

    from lgcaa.io import atomic_path

    url = page_url(page)
    out = Path(out_png)
    with tempfile.TemporaryDirectory(prefix="lgcaa-chromium-") as profile:
        tools = _DevTools(_executable(None), profile, width, height)
        try:
            target = tools.call("Target.createTarget", {"url": "about:blank"})["targetId"]
            tools.session = tools.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            tools.call("Emulation.setDeviceMetricsOverride",
                       {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
            tools.call("Page.navigate", {"url": url})
            deadline = time.monotonic() + timeout
            ready = READY + (f" && document.body.innerText.includes({json.dumps(wait_for)})" if wait_for else "")
            while not tools.call("Runtime.evaluate", {"expression": ready, "returnByValue": True})["result"].get("value"):
                if time.monotonic() > deadline:
                    shown = f" showing {wait_for!r}" if wait_for else ""
                    raise UserError(f"{url}: not loaded{shown} within {timeout:.0f} s (an image that never finishes?); "
                                    "check the page opens in a browser, then rerun")
                time.sleep(0.1)
            tools.call("Runtime.evaluate", {"expression": TWO_FRAMES, "awaitPromise": True})
            data = tools.call("Page.captureScreenshot", {"format": "png"})["data"]
        finally:
            tools.close()
    with atomic_path(out, suffix=".png") as tmp:
        tmp.write_bytes(base64.b64decode(data))
    return out
