"""lgcaa.download against a loopback HTTP server that honours Range and can cut a transfer mid-file."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from loopback import LoopbackFiles

from lgcaa.download import DownloadError, download, part_path

PAYLOAD = os.urandom(3 * (1 << 20) + 12345)  # > 3 chunks, not chunk-aligned
SHA = hashlib.sha256(PAYLOAD).hexdigest()


@pytest.fixture()
def server(monkeypatch):
    for k in ("HF_HUB_OFFLINE", "LGCAA_OFFLINE"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setattr("lgcaa.download.time.sleep", lambda s: None)
    with LoopbackFiles() as s:
        s.files["/f.bin"] = PAYLOAD
        yield s


def test_fetch_verifies_and_renames(server, tmp_path):
    dest = tmp_path / "sub" / "f.bin"
    assert download(server.url("/f.bin"), dest, sha256=SHA, size=len(PAYLOAD)) == SHA
    assert dest.read_bytes() == PAYLOAD
    assert not part_path(dest).exists()
    # present and correct: no second request
    n = len(server.ranges())
    assert download(server.url("/f.bin"), dest, sha256=SHA) == SHA
    assert len(server.ranges()) == n


def test_cut_mid_file_is_resumed_with_range(server, tmp_path):
    server.cuts["/f.bin"] = [1_000_000, 500_000]  # two cut transfers, then a complete one
    dest = tmp_path / "f.bin"
    assert download(server.url("/f.bin"), dest, sha256=SHA, retries=3) == SHA
    assert dest.read_bytes() == PAYLOAD
    assert server.ranges() == [None, "bytes=1000000-", "bytes=1500000-"]


def test_existing_part_resumes_across_runs(server, tmp_path):
    dest = tmp_path / "f.bin"
    server.cuts["/f.bin"] = [700_000]
    with pytest.raises(DownloadError, match=r"700000 bytes kept in .*f\.bin\.part, rerun to resume"):
        download(server.url("/f.bin"), dest, sha256=SHA, retries=0)
    assert part_path(dest).stat().st_size == 700_000 and not dest.exists()
    assert download(server.url("/f.bin"), dest, sha256=SHA, retries=0) == SHA
    assert server.ranges()[-1] == "bytes=700000-"


def test_server_ignoring_range_restarts_cleanly(server, tmp_path):
    dest = tmp_path / "f.bin"
    part_path(dest).write_bytes(b"garbage that is not the file's prefix")
    server.honour_range = False
    assert download(server.url("/f.bin"), dest, sha256=SHA) == SHA
    assert dest.read_bytes() == PAYLOAD


def test_complete_part_gets_416_and_is_verified(server, tmp_path):
    dest = tmp_path / "f.bin"
    part_path(dest).write_bytes(PAYLOAD)
    assert download(server.url("/f.bin"), dest, sha256=SHA) == SHA
    assert server.ranges() == [f"bytes={len(PAYLOAD)}-"]


def test_bad_checksum_names_file_and_both_digests_and_deletes_part(server, tmp_path):
    dest = tmp_path / "w.pth"
    wrong = "0" * 64
    with pytest.raises(DownloadError) as ei:
        download(server.url("/f.bin"), dest, sha256=wrong)
    msg = str(ei.value)
    assert str(dest) in msg and wrong in msg and SHA in msg
    assert not dest.exists() and not part_path(dest).exists()


def test_bad_size(server, tmp_path):
    dest = tmp_path / "w.pth"
    with pytest.raises(DownloadError, match=f"expected {len(PAYLOAD) + 1} bytes, got {len(PAYLOAD)}"):
        download(server.url("/f.bin"), dest, size=len(PAYLOAD) + 1)
    assert not part_path(dest).exists()


def test_unpinned_returns_computed_digest(server, tmp_path):
    assert download(server.url("/f.bin"), tmp_path / "f.bin") == SHA


def test_404_fails_at_once_naming_file(server, tmp_path):
    dest = tmp_path / "nope.pth"
    with pytest.raises(DownloadError, match=r"nope\.pth: HTTP 404"):
        download(server.url("/nope"), dest, retries=5)
    assert len(server.ranges()) == 1


def test_connection_refused_reports_after_retries(tmp_path, monkeypatch):
    monkeypatch.setattr("lgcaa.download.time.sleep", lambda s: None)
    for k in ("HF_HUB_OFFLINE", "LGCAA_OFFLINE"):
        monkeypatch.delenv(k, raising=False)
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    dest = tmp_path / "x.pth"
    with pytest.raises(DownloadError, match=r"x\.pth: download of .* failed after 2 attempts"):
        download(f"http://127.0.0.1:{port}/x", dest, retries=1, timeout=5)


def test_offline_env_makes_no_request(server, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    dest = tmp_path / "f.bin"
    with pytest.raises(DownloadError, match=r"f\.bin: not downloaded, offline"):
        download(server.url("/f.bin"), dest)
    assert server.ranges() == []


def test_file_url_and_existing_mismatch(tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(PAYLOAD)
    dest = tmp_path / "out" / "dst.bin"
    part_path(dest).parent.mkdir(parents=True)
    part_path(dest).write_bytes(PAYLOAD[:1234])  # resumes from a correct prefix
    assert download(src.as_uri(), dest, sha256=SHA) == SHA
    assert dest.read_bytes() == PAYLOAD
    with pytest.raises(DownloadError, match="exists but sha256 is"):
        download(src.as_uri(), dest, sha256="f" * 64)
    assert dest.exists()  # left for inspection


def test_unsupported_scheme(tmp_path):
    with pytest.raises(DownloadError, match="unsupported URL scheme 'ftp'"):
        download("ftp://example.org/x", Path(tmp_path) / "x")
