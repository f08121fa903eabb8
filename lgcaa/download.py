"""Resumable, verified downloads: one function, `download(url, dest, sha256, size)`.

The file is streamed to `dest.part` (`dest.with_suffix(dest.suffix + ".part")`). A `.part` left by an
interrupted run is resumed with an HTTP `Range` request (a server that ignores Range restarts it from byte 0).
A connection cut mid-file is retried (`retries` times, resuming each time). At the end the size and sha256
are checked; a mismatch deletes the `.part` and raises `DownloadError` naming the file, the expected and the
computed value. Only a verified file is renamed onto `dest` (atomic `os.replace`), so `dest` existing means
complete and checked.

Completeness. Without a known sha256 or size, a transfer is accepted only when the server said how long it
is (Content-Length / Content-Range) or sent it chunked to its final chunk; a body that just stops (no length,
connection closed) could be cut anywhere, so it fails instead of handing on a half file whose digest a caller
would record. Every download is capped at `max_bytes` (default 32 GiB, `$LGCAA_MAX_DOWNLOAD_BYTES`; the
declared size when one is known): a server announcing or sending more is cut off.

Hangs. An http(s) transfer must keep a minimum rate: fewer than `min_rate` bytes per second (default 1 KiB/s,
`$LGCAA_DOWNLOAD_MIN_RATE`, 0 = no minimum) over any `window` of 60 s cuts it, like a dropped connection (the
60 s timeout alone is per read: a server sending a byte every 20 s would hold a download forever). The cut
transfer is retried and resumes from the `.part`; after the last retry the error says how many bytes are kept
there, and the next run resumes from them.

Schemes: http, https and file (a local mirror: `file:///mnt/mirror/x.pth`); redirects are followed only to
http(s). Standard library only (urllib).

Offline: with `HF_HUB_OFFLINE=1` or `LGCAA_OFFLINE=1` in the environment no network request is made; an
http(s) download raises `DownloadError` at once (file:// still works). Callers that fetch many files catch
`DownloadError` per file and report which ones are missing.

Concurrency: two processes downloading the same `dest` serialise on an advisory lock file
`.<name>.lock` next to `dest` (left in place; hidden so image listings skip it).
"""

from __future__ import annotations

import http.client
import os
import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from lgcaa.errors import UserError
from lgcaa.io import file_lock, sha256_file

CHUNK = 1 << 20
USER_AGENT = "lgcaa-harness/0.1 (+urllib)"
OFFLINE_ENV = ("HF_HUB_OFFLINE", "LGCAA_OFFLINE")
MAX_BYTES_ENV = "LGCAA_MAX_DOWNLOAD_BYTES"
DEFAULT_MAX_BYTES = 32 << 30
MIN_RATE_ENV = "LGCAA_DOWNLOAD_MIN_RATE"
DEFAULT_MIN_RATE = 1024  # bytes per second, averaged over RATE_WINDOW
RATE_WINDOW = 60.0  # seconds
RATE_HELP = (f"a transfer slower than {DEFAULT_MIN_RATE} bytes/s over {RATE_WINDOW:.0f} s is cut and retried, "
             f"resuming from its .part (${MIN_RATE_ENV}: another minimum rate in bytes/s, 0 = none)")

Progress = Callable[[int, "int | None"], None]  # (bytes on disk so far, total bytes or None)


class DownloadError(UserError):
    """A download that failed (network, HTTP status, size or checksum); the message names the file."""


class _Interrupted(Exception):
    """The transfer stopped early; the .part is kept and the next attempt resumes from it."""


def offline() -> bool:
    """True when the environment forbids network access (`HF_HUB_OFFLINE` or `LGCAA_OFFLINE` truthy)."""
    return any(os.environ.get(k, "").strip().lower() in ("1", "true", "yes", "on") for k in OFFLINE_ENV)


def max_bytes_default() -> int:
    value = os.environ.get(MAX_BYTES_ENV, "").strip()
    return int(value) if value.isdigit() else DEFAULT_MAX_BYTES


def min_rate_default() -> float:
    value = os.environ.get(MIN_RATE_ENV, "").strip()
    try:
        return max(0.0, float(value)) if value else float(DEFAULT_MIN_RATE)
    except ValueError:
        raise UserError(f"${MIN_RATE_ENV}={value!r} is not a number of bytes per second; unset it or set e.g. "
                        f"{DEFAULT_MIN_RATE}") from None


def part_path(dest: str | os.PathLike) -> Path:
    """The temporary file a download of `dest` streams into."""
    dest = Path(dest)
    return dest.with_suffix(dest.suffix + ".part")


def download(
    url: str,
    dest: str | os.PathLike,
    sha256: str | None = None,
    size: int | None = None,
    timeout: float = 60,
    retries: int = 3,
    progress: Progress | None = None,
    max_bytes: int | None = None,
    min_rate: float | None = None,
    window: float = RATE_WINDOW,
) -> str:
    """Download `url` to `dest` (resuming, verified, atomic); return the sha256 hex digest of the file.

    If `dest` already exists it is not downloaded again: it is verified against `size`/`sha256` when given
    (a mismatch raises DownloadError and leaves `dest` untouched for inspection) and its digest is returned.
    `retries` = number of extra attempts after a failed/cut transfer (each resumes from the `.part`).
    HTTP 4xx (other than 416 on a resume) fails at once; 5xx and connection errors are retried. A transfer
    of unknown length fails unless `sha256` or `size` is given (module docstring); more than `max_bytes`
    (default `max_bytes_default()`, or `size` when given) fails. An http(s) transfer under `min_rate` bytes/s
    (default `min_rate_default()`; 0 = none) over `window` seconds is cut and retried from the `.part`.
    """
    dest = Path(dest)
    expected_sha = sha256.lower() if sha256 else None
    if dest.is_file():
        return _verify_existing(dest, expected_sha, size)
    scheme = _check_scheme(url, dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = part_path(dest)
    cap = size if size is not None else (max_bytes if max_bytes is not None else max_bytes_default())
    need_length = expected_sha is None and size is None
    with file_lock(dest.parent / f".{dest.name}.lock"):
        if dest.is_file():  # another process finished it while we waited for the lock
            return _verify_existing(dest, expected_sha, size)
        rate = _Rate(min_rate_default() if min_rate is None else min_rate, window)
        _transfer(url, dest, part, scheme, timeout, retries, progress, cap, need_length, rate)
        return _commit(url, dest, part, expected_sha, size)


def _check_scheme(url: str, dest: Path) -> str:
    """The URL's scheme (http, https or file); DownloadError for another one, or for http(s) when offline."""
    scheme = urllib.parse.urlsplit(url).scheme.lower()
    if scheme not in ("http", "https", "file"):
        raise DownloadError(f"{dest}: unsupported URL scheme '{scheme}' in {url} (use http, https or file)")
    if scheme != "file" and offline():
        raise DownloadError(
            f"{dest}: not downloaded, offline ({'/'.join(OFFLINE_ENV)} set); fetch {url} on a machine with "
            f"network and copy it to {dest}"
        )
    return scheme


def _transfer(url: str, dest: Path, part: Path, scheme: str, timeout: float, retries: int,
              progress: Progress | None, cap: int, need_length: bool, rate: _Rate | None = None) -> None:
    """Fill `part` with the whole body, with up to `retries` resumed attempts after a cut or server error
    (backing off 0.5 s, 1 s, 2 s ... up to 8 s); DownloadError at once for what a retry cannot fix."""
    last_error: Exception | None = None
    for attempt in range(retries + 1):
        try:
            if scheme == "file":
                _copy_local(url, part, progress, cap)
            else:
                _fetch_http(url, part, timeout, progress, cap, need_length, rate)
            return
        except _TooBig as exc:
            part.unlink(missing_ok=True)
            raise DownloadError(f"{dest}: {url} {exc}; refusing it (raise {MAX_BYTES_ENV} if the file is "
                                "really that large)") from None
        except _UnknownLength as exc:
            part.unlink(missing_ok=True)
            raise DownloadError(f"{dest}: {url} {exc}, so a cut transfer cannot be told from a complete one; "
                                "nothing kept. Pin its sha256 (or size) to download it anyway") from None
        except (_Interrupted, urllib.error.URLError, ConnectionError, TimeoutError, OSError) as exc:
            _raise_if_final(exc, url, dest)
            last_error = exc
            if attempt < retries:
                time.sleep(min(0.5 * 2**attempt, 8.0))
    have = part.stat().st_size if part.exists() else 0
    raise DownloadError(
        f"{dest}: download of {url} failed after {retries + 1} attempts "
        f"({last_error.__class__.__name__}: {last_error}); {have} bytes kept in {part}, rerun to resume"
    ) from last_error


def _raise_if_final(exc: Exception, url: str, dest: Path) -> None:
    """DownloadError for an error no retry fixes: a redirect not followed, HTTP 4xx, an unresolvable host."""
    if isinstance(exc, urllib.error.HTTPError) and 300 <= exc.code < 400:
        if not isinstance(exc, _RedirectRefused):  # urllib gave up: a redirect loop, or more than 10 redirects
            raise DownloadError(f"{dest}: {url} redirects in a loop or too many times ({' '.join(str(exc.reason).split())}); the server "
                                "is misconfigured or the URL is wrong -- check it, or use a mirror") from exc
        raise DownloadError(f"{dest}: {url} redirects where the harness does not follow ({exc.reason}); "
                            "only http(s) redirects are followed") from exc
    if isinstance(exc, urllib.error.HTTPError) and 400 <= exc.code < 500:
        raise DownloadError(f"{dest}: HTTP {exc.code} {exc.reason} for {url}; check the URL") from exc
    if isinstance(exc, urllib.error.URLError) and isinstance(exc.reason, socket.gaierror):
        raise DownloadError(f"{dest}: cannot resolve the host of {url} ({exc.reason}); no network? "
                            "fetch it elsewhere and copy it there") from exc


def _commit(url: str, dest: Path, part: Path, expected_sha: str | None, size: int | None) -> str:
    """Check the finished `part` against `size` and `expected_sha` (deleting it on a mismatch), move it onto
    `dest` atomically and return its sha256 hex digest."""
    got_size = part.stat().st_size
    if size is not None and got_size != size:
        part.unlink()
        raise DownloadError(f"{dest}: size mismatch for {url}: expected {size} bytes, got {got_size}; "
                            "partial file deleted, rerun (if it persists the upstream file changed)")
    digest = sha256_file(part)
    if expected_sha is not None and digest != expected_sha:
        part.unlink()
        raise DownloadError(f"{dest}: sha256 mismatch for {url}: expected {expected_sha}, got {digest}; "
                            "partial file deleted, rerun (if it persists the upstream file changed)")
    os.replace(part, dest)
    return digest


# --- transfer ------------------------------------------------------------------------------------------


class _TooBig(Exception):
    """More bytes were announced or sent than the cap allows."""


class _UnknownLength(Exception):
    """The server gave no length and no checksum is known: completeness cannot be established."""


class _RedirectRefused(urllib.error.HTTPError):
    """A redirect to a scheme other than http(s), refused."""


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects to http(s) URLs only (urllib's default also follows ftp, and refuses file: itself with a
    plain HTTPError that would read as a redirect loop: the scheme is checked here first)."""

    def http_error_302(self, req, fp, code, msg, headers):
        newurl = headers.get("location") or headers.get("uri")
        if newurl:
            self._check_scheme(req, fp, code, headers, newurl)
        return super().http_error_302(req, fp, code, msg, headers)

    http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        self._check_scheme(req, fp, code, headers, newurl)
        return super().redirect_request(req, fp, code, msg, headers, newurl)

    @staticmethod
    def _check_scheme(req, fp, code, headers, newurl) -> None:
        scheme = urllib.parse.urlsplit(urllib.parse.urljoin(req.full_url, newurl)).scheme.lower()
        if scheme not in ("http", "https"):
            raise _RedirectRefused(req.full_url, code, f"redirect to a {scheme}: URL ({newurl}) refused",
                                   headers, fp)


_OPENER = urllib.request.build_opener(_HttpOnlyRedirects)


def _fetch_http(url: str, part: Path, timeout: float, progress: Progress | None, cap: int,
                need_length: bool, rate: _Rate | None = None) -> None:
    """Append the rest of `url` to `part`; raise _Interrupted if fewer bytes than announced arrived, _TooBig
    past `cap`, _UnknownLength when `need_length` and the server says neither a length nor 'chunked'."""
    offset = part.stat().st_size if part.exists() else 0
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    req = urllib.request.Request(url, headers=headers)
    try:
        resp = _OPENER.open(req, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and offset:  # nothing left to send: the .part is complete, or longer than the file
            m = re.fullmatch(r"\s*bytes\s+\*/(\d+)\s*", exc.headers.get("Content-Range") or "")
            if m and int(m.group(1)) != offset:
                raise _restart(part, f"server has {m.group(1)} bytes but the .part has {offset}") from exc
            if not m and need_length:
                raise _UnknownLength("answered 416 without the file's length") from exc
            return
        raise
    with resp:
        status = getattr(resp, "status", 200)
        if offset and status == 206:
            start, total = _content_range(resp.headers.get("Content-Range"))
            if start != offset:
                raise _restart(part, f"server resumed at byte {start}, expected {offset}")
            mode = "ab"
        else:  # 200: the server sent the whole file (it ignored Range, or there was nothing to resume)
            offset, mode = 0, "wb"
            length = resp.headers.get("Content-Length")
            total = int(length) if length is not None and length.isdigit() else None
        if total is not None and total > cap:
            raise _TooBig(f"is {total} bytes, over the cap of {cap}")
        if total is None and need_length and not getattr(resp, "chunked", False):
            raise _UnknownLength("was sent without Content-Length or chunked encoding")
        with open(part, mode) as f:
            got = _pump(resp, f, offset, total, progress, cap, rate)
    if total is not None and got < total:
        raise _Interrupted(f"connection closed at byte {got} of {total}")


def _copy_local(url: str, part: Path, progress: Progress | None, cap: int) -> None:
    """file:// URL: copy (resuming from the .part's length)."""
    src = Path(urllib.request.url2pathname(urllib.parse.urlsplit(url).path))
    if not src.is_file():
        raise DownloadError(f"{part.with_suffix('')}: source {src} ({url}) does not exist")
    total = src.stat().st_size
    if total > cap:
        raise _TooBig(f"is {total} bytes, over the cap of {cap}")
    offset = part.stat().st_size if part.exists() else 0
    if offset > total:
        offset = 0
    with open(src, "rb") as s, open(part, "ab" if offset else "wb") as f:
        s.seek(offset)
        _pump(s, f, offset, total, progress, cap)


class _Rate:
    """The minimum-rate guard of one transfer: `check` raises _Interrupted when fewer than `min_rate` bytes per
    second arrived over the last `window` seconds (no guard when min_rate is 0)."""

    def __init__(self, min_rate: float, window: float) -> None:
        self.min_rate, self.window = float(min_rate), float(window)
        self.begin(0)

    def begin(self, got: int) -> None:
        """A transfer (attempt) starts with `got` bytes on disk: the window starts now."""
        self.start, self.at = time.monotonic(), got

    def check(self, got: int) -> None:
        if not self.min_rate:
            return
        now = time.monotonic()
        if now - self.start >= self.window:
            done, seconds = got - self.at, now - self.start
            if done < self.min_rate * seconds:
                raise _Interrupted(f"stalled at byte {got}: {done} bytes in {seconds:.1f} s, under the minimum rate "
                                   f"of {self.min_rate:g} bytes/s (${MIN_RATE_ENV})")
            self.start, self.at = now, got


def _pump(src: BinaryIO, dst: BinaryIO, offset: int, total: int | None, progress: Progress | None,
          cap: int, rate: _Rate | None = None) -> int:
    """Copy src to dst in chunks; return bytes now on disk (offset + copied). A chunked body that ends before
    its final chunk raises IncompleteRead, reported as an interruption. With `rate`, each read returns what has
    arrived (read1: a trickle cannot block a whole chunk's read) and a transfer under the minimum rate is cut."""
    got = offset
    read = getattr(src, "read1", src.read) if rate is not None else src.read
    if rate is not None:
        rate.begin(got)
    while True:
        try:
            block = read(CHUNK)
            if rate is not None:
                rate.check(got + len(block))
        except (ConnectionError, TimeoutError, OSError, http.client.IncompleteRead) as exc:
            dst.flush()
            raise _Interrupted(f"{exc.__class__.__name__}: {exc} at byte {got}") from exc
        if not block:
            return got
        if got + len(block) > cap or (total is not None and got + len(block) > total):
            raise _TooBig(f"sent more than {min(cap, total) if total is not None else cap} bytes")
        dst.write(block)
        got += len(block)
        if progress is not None:
            progress(got, total)


def _content_range(value: str | None) -> tuple[int, int | None]:
    """'bytes 100-199/200' -> (100, 200); total None when '*'."""
    m = re.fullmatch(r"\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*", value or "")
    if not m:
        raise _Interrupted(f"unparseable Content-Range {value!r}")
    return int(m.group(1)), (None if m.group(3) == "*" else int(m.group(3)))


def _restart(part: Path, why: str) -> _Interrupted:
    part.unlink(missing_ok=True)
    return _Interrupted(f"{why}; restarting from byte 0")


# --- verification -----------------------------------------------------------------------------------------------


def _verify_existing(dest: Path, expected_sha: str | None, size: int | None) -> str:
    got_size = dest.stat().st_size
    if size is not None and got_size != size:
        raise DownloadError(f"{dest}: exists but has {got_size} bytes, expected {size}; delete it and rerun")
    digest = sha256_file(dest)
    if expected_sha is not None and digest != expected_sha:
        raise DownloadError(f"{dest}: exists but sha256 is {digest}, expected {expected_sha}; delete it and rerun")
    return digest
