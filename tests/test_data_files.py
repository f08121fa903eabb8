"""RealSR/DRealSR file by file (cswry/OSEDiff at a pinned commit, lgcaa/data/sources/osediff.json): from a local
mirror and from a loopback HTTP server, every file verified by sha256; a flipped byte is refused naming the file;
a cut transfer resumes. The mirror is ../shared/data beside the repository ($LGCAA_DATA_MIRROR first)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from loopback import LoopbackFiles

from lgcaa.data.fetch import obtain_released
from lgcaa.data.files import MIRROR_ENV, generate_file_set, load_file_set
from lgcaa.data.manifest import verify_manifest
from lgcaa.data.registry import get_spec
from lgcaa.errors import UserError
from lgcaa.io import sha256_file

REPO = Path(__file__).resolve().parents[1]


def shared_mirror() -> Path | None:
    """$LGCAA_DATA_MIRROR, else ../shared/data beside the repository; None when neither holds the crops."""
    for cand in (os.environ.get(MIRROR_ENV, ""), str(REPO.parent / "shared" / "data")):
        if cand and (Path(cand) / "stablesr-crops").is_dir():
            return Path(cand)
    return None


MIRROR = shared_mirror()
needs_mirror = pytest.mark.skipif(MIRROR is None, reason=f"no mirror of the real test data (../shared/data beside the "
                                                         f"repository, or ${MIRROR_ENV}): nothing to fetch offline")


@pytest.fixture
def no_env_mirror(monkeypatch):
    monkeypatch.delenv(MIRROR_ENV, raising=False)
    for var in ("LGCAA_OFFLINE", "HF_HUB_OFFLINE", "http_proxy", "HTTP_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


def _small_mirror(root: Path, dataset: str, n: int) -> list[str]:
    """The first n pairs of `dataset` copied into a mirror laid out like ../shared/data; their names."""
    fs = load_file_set("osediff")
    names = sorted(fs.group(f"{dataset}/hr").files)[:n]
    for sub in ("hr", "lr"):
        g = fs.group(f"{dataset}/{sub}")
        (root / g.mirror).mkdir(parents=True, exist_ok=True)
        for name in names:
            shutil.copyfile(MIRROR / g.mirror / name, root / g.mirror / name)
    return names


def test_file_set_records_upstream_paths_commit_and_every_pair():
    fs = load_file_set("osediff")
    assert fs.repository == "cswry/OSEDiff" and fs.commit == "fcc4f09c7ed66a9bc0ba9433940d76b343142426"
    for ds, count in (("realsr", 100), ("drealsr", 93)):
        hr, lr = fs.group(f"{ds}/hr"), fs.group(f"{ds}/lr")
        assert sorted(hr.files) == sorted(lr.files) and len(hr.files) == count  # paired by name, as upstream
        assert hr.path == f"preset/datasets/benchmark_{ds}/test_HR" and lr.path.endswith("/test_LR")
    name = min(fs.group("realsr/hr").files)
    assert name == "Canon_001_LR4.png"  # RealSR's HR files carry the LR names upstream
    assert fs.url(fs.group("realsr/hr"), name) == ("https://raw.githubusercontent.com/cswry/OSEDiff/"
                                                   f"{fs.commit}/preset/datasets/benchmark_realsr/test_HR/{name}")
    assert len(fs.group("osediff/realsr").files) == 100 and len(fs.group("osediff-metrics/drealsr").files) == 1


@needs_mirror
def test_committed_file_set_is_what_the_generator_makes_from_the_mirror():
    committed = json.loads((REPO / "lgcaa/data/sources/osediff.json").read_text())
    assert generate_file_set("osediff", MIRROR) == committed


def test_pin_files_line_counts_the_files_of_every_group():
    from lgcaa.data.files import file_set_line

    committed = json.loads((REPO / "lgcaa/data/sources/osediff.json").read_text())
    n = sum(len(g["files"]) for g in committed["groups"].values())
    assert n > len(committed["groups"]) > 1
    assert file_set_line(Path("x.json"), committed) == (f"x.json: {n} files in {len(committed['groups'])} groups of "
                                                        f"{committed['repository']}@{committed['commit']}")


def test_generator_refuses_a_mirror_without_the_files(tmp_path):
    with pytest.raises(UserError, match="no \\*.png files for group 'realsr/hr'"):
        generate_file_set("osediff", tmp_path)


@needs_mirror
def test_cli_fetch_from_the_mirror_verifies_every_file(tmp_path, no_env_mirror, capsys):
    from lgcaa.cli import main

    data, cache, record = tmp_path / "data", tmp_path / "cache", tmp_path / "rec.json"
    assert main(["data", "fetch", "realsr", "--mirror", str(MIRROR), "--data-root", str(data), "--cache", str(cache),
                 "--no-dvc", "--record", str(record)]) == 0
    assert "100 pairs, every file verified (sha256), from mirror" in capsys.readouterr().out
    manifest = verify_manifest(data / "realsr")
    fs = load_file_set("osediff")
    for sub in ("hr", "lr"):
        want = {n: sha for n, (sha, _) in fs.group(f"realsr/{sub}").files.items()}
        assert {k[3:]: v["sha256"] for k, v in manifest["files"].items() if k.startswith(f"{sub}/")} == want
    assert manifest["source"]["commit"] == fs.commit and manifest["source"]["hr_path"].endswith("test_HR")
    assert "mirror" not in json.dumps(manifest)  # where the bytes came from is not part of the dataset
    assert json.loads(record.read_text())["params"]["obtained"] == "fetch"


@needs_mirror
def test_env_mirror_and_limit_keep_the_first_pairs_by_name(tmp_path, no_env_mirror, monkeypatch):
    monkeypatch.setenv(MIRROR_ENV, str(MIRROR))
    got = obtain_released(get_spec("drealsr"), tmp_path / "data", tmp_path / "cache", try_dvc=False, limit=4)
    names = sorted(load_file_set("osediff").group("drealsr/hr").files)[:4]
    assert sorted(k[3:] for k in got.manifest["files"] if k.startswith("hr/")) == names
    assert got.manifest["limit"] == {"first": 4, "of": 93, "order": "file name"}


@needs_mirror
def test_flipped_byte_in_the_mirror_is_refused_naming_the_file(tmp_path, no_env_mirror):
    mirror = tmp_path / "mirror"
    names = _small_mirror(mirror, "realsr", 3)
    bad = mirror / "stablesr-crops/realsr/LR" / names[1]
    raw = bytearray(bad.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    bad.write_bytes(bytes(raw))
    with pytest.raises(UserError, match=f"{names[1]}: sha256 mismatch .*{names[1]}"):
        obtain_released(get_spec("realsr"), tmp_path / "data", tmp_path / "cache", mirror=mirror, try_dvc=False, limit=3)
    assert not (tmp_path / "data" / "realsr").exists()
    lr_cache = [p for p in (tmp_path / "cache").rglob(names[1] + "*") if "test_LR" in str(p)]
    assert not lr_cache, "an unverified file (or its .part) stayed in the cache"


@needs_mirror
def test_loopback_http_mirror_verifies_resumes_and_refuses_a_flipped_byte(tmp_path, no_env_mirror):
    fs = load_file_set("osediff")
    with LoopbackFiles() as srv:
        for sub in ("hr", "lr"):
            g = fs.group(f"realsr/{sub}")
            for name in g.files:
                srv.files[f"/m/{g.mirror}/{name}"] = (MIRROR / g.mirror / name).read_bytes()
        first = min(fs.group("realsr/hr").files)
        cut = f"/m/stablesr-crops/realsr/HR/{first}"
        srv.cuts[cut] = [1000]  # the first transfer of this file stops after 1000 bytes
        got = obtain_released(get_spec("realsr"), tmp_path / "data", tmp_path / "cache", mirror=srv.url("/m"),
                              try_dvc=False)
        assert got.manifest["count"] == 100 and verify_manifest(tmp_path / "data/realsr")["count"] == 100
        assert ("bytes=1000-" in [r for p, r in srv.requests if p == cut]), "the cut transfer was not resumed"
        assert sha256_file(tmp_path / "data/realsr/hr" / first) == fs.group("realsr/hr").files[first][0]
        # a server whose copy differs by one byte: refused, naming the file, nothing of it kept
        lr = min(fs.group("drealsr/lr").files)
        g = fs.group("drealsr/lr")
        for sub in ("hr", "lr"):
            gg = fs.group(f"drealsr/{sub}")
            srv.files[f"/m/{gg.mirror}/{lr}"] = (MIRROR / gg.mirror / lr).read_bytes()
        raw = bytearray(srv.files[f"/m/{g.mirror}/{lr}"])
        raw[-20] ^= 0x80
        srv.files[f"/m/{g.mirror}/{lr}"] = bytes(raw)
        with pytest.raises(UserError, match=f"{lr}: sha256 mismatch"):
            obtain_released(get_spec("drealsr"), tmp_path / "data", tmp_path / "cache", mirror=srv.url("/m"),
                            try_dvc=False, limit=1)
        assert not (tmp_path / "data/drealsr").exists()


def test_offline_without_a_mirror_says_how_to_use_one(tmp_path, monkeypatch):
    monkeypatch.delenv(MIRROR_ENV, raising=False)
    monkeypatch.setenv("LGCAA_OFFLINE", "1")
    with pytest.raises(UserError, match=f"offline.*--mirror DIR or \\${MIRROR_ENV}"):
        obtain_released(get_spec("realsr"), tmp_path / "data", tmp_path / "cache", try_dvc=False, limit=1)


def test_missing_mirror_folder_is_one_clear_line(tmp_path, monkeypatch):
    monkeypatch.setenv(MIRROR_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(UserError, match=f"nowhere: mirror folder \\(\\${MIRROR_ENV}\\) does not exist"):
        obtain_released(get_spec("realsr"), tmp_path / "data", tmp_path / "cache", try_dvc=False)
