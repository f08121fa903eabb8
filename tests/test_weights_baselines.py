"""`lgcaa weights list|fetch|verify <baseline>` reaches the baselines' declared weight files."""

from __future__ import annotations

import hashlib

from lgcaa.cli import main


def test_list_names_missing_file_and_url(tmp_path, capsys):
    assert main(["weights", "list", "bsrgan", "--cache-dir", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    assert "missing" in out and "baselines/bsrgan/BSRGAN.pth" in out and "https://" in err


def test_fetch_offline_fails_naming_the_file(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LGCAA_OFFLINE", "1")
    assert main(["weights", "fetch", "bsrgan", "--cache-dir", str(tmp_path)]) == 1
    assert "BSRGAN.pth" in capsys.readouterr().err
    assert not (tmp_path / "baselines/bsrgan/BSRGAN.pth").exists()


def test_verify_detects_a_corrupt_pinned_file(tmp_path, capsys):
    from baselines.registry import BASELINES

    w = next(w for w in BASELINES["bsrgan"].weights if w.sha256)
    dest = tmp_path / w.dest
    dest.parent.mkdir(parents=True)
    dest.write_bytes(b"not the real weights")
    assert hashlib.sha256(dest.read_bytes()).hexdigest() != w.sha256
    assert main(["weights", "verify", "bsrgan", "--cache-dir", str(tmp_path)]) == 1
    assert "corrupt" in capsys.readouterr().out
