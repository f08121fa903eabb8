"""A loopback HTTP file server for download tests (not a test module): Range requests, 416 past the end,
transfers cut mid-file on demand, bodies without a length or chunked, redirects. Only 127.0.0.1 is ever
contacted."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Handler(BaseHTTPRequestHandler):
    server: LoopbackFiles

    def log_message(self, *args):  # keep pytest output clean
        pass

    def do_GET(self):
        srv = self.server
        rng = self.headers.get("Range")
        srv.requests.append((self.path, rng))
        if self.path in srv.redirects:
            self.send_response(302)
            self.send_header("Location", srv.redirects[self.path])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        data = srv.files.get(self.path)
        if data is None:
            self.send_error(404)
            return
        start = 0
        if rng and srv.honour_range:
            start = int(rng.split("=")[1].split("-")[0])
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        cuts = srv.cuts.get(self.path)
        if self.path in srv.chunked:
            self._send_chunked(body, cuts.pop(0) if cuts else None)
            return
        if self.path not in srv.no_length:
            self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        if self.path in srv.drip:
            self._send_drip(body, *srv.drip[self.path])
            return
        if cuts:
            self.wfile.write(body[: cuts.pop(0)])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)
        if self.path in srv.no_length:
            self.close_connection = True

    def _send_drip(self, body: bytes, fast: int, delay: float) -> None:
        """The first `fast` bytes at once, then one byte every `delay` seconds while the path stays in `drip`."""
        import time

        try:
            self.wfile.write(body[:fast])
            self.wfile.flush()
            sent = fast
            while sent < len(body) and self.path in self.server.drip:
                time.sleep(delay)
                self.wfile.write(body[sent:sent + 1])
                self.wfile.flush()
                sent += 1
            self.wfile.write(body[sent:])
        except (BrokenPipeError, ConnectionResetError):  # the client gave up
            pass
        self.close_connection = True

    def _send_chunked(self, body: bytes, cut: int | None) -> None:
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        sent = 0
        for i in range(0, len(body), 4096):
            part = body[i:i + 4096]
            if cut is not None and sent + len(part) > cut:
                self.wfile.write(f"{len(part):x}\r\n".encode() + part[: cut - sent])  # chunk cut short, no final chunk
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
            sent += len(part)
        self.wfile.write(b"0\r\n\r\n")


class LoopbackFiles(ThreadingHTTPServer):
    """Serves `files` {path: bytes}. `cuts` {path: [n, ...]}: the next transfers of that path stop after n bytes
    each; `honour_range=False` answers a Range request with the whole file (200); paths in `no_length` are sent
    without Content-Length (the end of the body is the connection closing), paths in `chunked` with chunked
    encoding (a cut one never sends the final chunk); `drip` {path: (n, delay)}: the first n bytes at once, then
    one byte every `delay` seconds (a server too slow for any per-read timeout); `redirects` {path: location} answer 302; `requests` logs
    every (path, Range header). Use as a context manager."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.files: dict[str, bytes] = {}
        self.cuts: dict[str, list[int]] = {}
        self.honour_range = True
        self.no_length: set[str] = set()
        self.chunked: set[str] = set()
        self.drip: dict[str, tuple[int, float]] = {}
        self.redirects: dict[str, str] = {}
        self.requests: list[tuple[str, str | None]] = []
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"

    def paths(self) -> list[str]:
        return [p for p, _ in self.requests]

    def ranges(self) -> list[str | None]:
        return [r for _, r in self.requests]

    def __enter__(self) -> LoopbackFiles:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
        self.server_close()
