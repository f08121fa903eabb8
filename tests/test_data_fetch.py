"""Fetching registry datasets over HTTP (a loopback server, no external network): download + resume,
checksum failures naming file/expected/got, trust-on-first-use digests, atomic unpack, pair checks."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from loopback import LoopbackFiles

from lgcaa.data.fetch import LOCK_NAME, obtain_released, read_lock
from lgcaa.data.manifest import verify_manifest
from lgcaa.data.registry import get_spec
from lgcaa.errors import UserError

ROOT = "StableSR_testsets/RealSRVal_crop128"


# --- a loopback server (tests/loopback.py) with proxies disabled ------------------------------------------


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    for var in ("LGCAA_OFFLINE", "HF_HUB_OFFLINE", "http_proxy", "HTTP_PROXY"):
        monkeypatch.delenv(var, raising=False)
    with LoopbackFiles() as srv:
        yield srv


# --- archives shaped like StableSR_testsets.zip ------------------------------------------------------------


def _png(side: int, seed: int) -> bytes:
    from PIL import Image

    ramp = np.linspace(0, 255, side, dtype=np.float64)
    flat = np.full((side, side), 37.0 * seed % 255)
    img = np.stack([np.add.outer(ramp, ramp) / 2, np.tile(ramp, (side, 1)), flat], -1)
    buf = io.BytesIO()
    Image.fromarray(img.astype(np.uint8), "RGB").save(buf, format="PNG")
    return buf.getvalue()


def make_zip(names=("a", "b", "c"), lr_names=None, lr_side=128, extra_sets=True) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for i, n in enumerate(names):
            zf.writestr(f"{ROOT}/test_HR/{n}.png", _png(512, i))
        for i, n in enumerate(lr_names or names):
            zf.writestr(f"{ROOT}/test_LR/{n}.png", _png(lr_side if n != "bad" else 100, i))
        if extra_sets:  # the other sets of the same archive must not leak into this one
            zf.writestr("StableSR_testsets/DIV2K_V2_val/gt/0000.png", _png(512, 9))
            zf.writestr("StableSR_testsets/DIV2K_V2_val/lq/0000.png", _png(128, 9))
    return buf.getvalue()


def _spec(url: str, **kw):
    return dataclasses.replace(get_spec("realsr"), urls=(url,), expected_count=kw.pop("count", 3), file_set=None, **kw)


def _leftovers(data_root: Path) -> list[str]:
    return sorted(p.name for p in data_root.iterdir() if p.name.startswith(".") and not p.name.endswith(".lock"))


# --- tests ------------------------------------------------------------------------------------------------


def test_fetch_unpins_records_digest_and_warns(server, tmp_path, capsys):
    blob = make_zip()
    server.files["/t.zip"] = blob
    data, cache = tmp_path / "data", tmp_path / "cache"
    got = obtain_released(_spec(server.url("/t.zip")), data, cache, try_dvc=False)
    assert got.how == "fetch" and got.manifest["count"] == 3
    out = data / "realsr"
    assert sorted(p.name for p in (out / "hr").iterdir()) == ["a.png", "b.png", "c.png"]
    assert (out / "lr/a.png").read_bytes() == _png(128, 0)
    assert verify_manifest(out)["source"]["archive_sha256"] == hashlib.sha256(blob).hexdigest()
    lock = read_lock(data)
    assert lock["StableSR_testsets.zip"]["sha256"] == hashlib.sha256(blob).hexdigest()
    assert "not pinned" in capsys.readouterr().err
    assert _leftovers(data) == []
    again = obtain_released(_spec(server.url("/t.zip")), data, cache, try_dvc=False)
    assert again.how == "present" and len(server.requests) == 1


def test_resume_after_a_cut_connection(server, tmp_path):
    blob = make_zip()
    server.files["/t.zip"] = blob
    server.cuts["/t.zip"] = [len(blob) // 2]
    got = obtain_released(_spec(server.url("/t.zip")), tmp_path / "data", tmp_path / "cache", try_dvc=False)
    assert got.manifest["count"] == 3
    ranges = [r for _, r in server.requests if r]
    assert ranges and int(ranges[0].split("=")[1].rstrip("-")) == len(blob) // 2  # resumed, not restarted
    assert (tmp_path / "cache/downloads/StableSR_testsets.zip").read_bytes() == blob


def test_pinned_checksum_mismatch_names_file_expected_and_got(server, tmp_path):
    blob = make_zip()
    server.files["/t.zip"] = blob
    wrong = "0" * 64
    data = tmp_path / "data"
    with pytest.raises(UserError) as err:
        obtain_released(_spec(server.url("/t.zip"), archive_sha256=wrong), data, tmp_path / "cache", try_dvc=False)
    msg = str(err.value)
    assert "StableSR_testsets.zip" in msg and wrong in msg and hashlib.sha256(blob).hexdigest() in msg
    assert not (data / "realsr").exists()
    assert not (tmp_path / "cache/downloads/StableSR_testsets.zip").exists()


def test_recorded_digest_guards_later_downloads(server, tmp_path):
    server.files["/t.zip"] = make_zip()
    data, cache = tmp_path / "data", tmp_path / "cache"
    obtain_released(_spec(server.url("/t.zip")), data, cache, try_dvc=False)
    # upstream changes; the user wipes the dataset and the cached archive
    import shutil

    shutil.rmtree(data / "realsr")
    (cache / "downloads/StableSR_testsets.zip").unlink()
    server.files["/t.zip"] = make_zip(names=("a", "b", "d"))
    with pytest.raises(UserError, match=LOCK_NAME):
        obtain_released(_spec(server.url("/t.zip")), data, cache, try_dvc=False)
    assert not (data / "realsr").exists()


def _corrupt_middle(blob: bytes) -> bytes:
    mid = len(blob) // 3
    return blob[:mid] + bytes(b ^ 0xFF for b in blob[mid : mid + 64]) + blob[mid + 64 :]


@pytest.mark.parametrize("damage", [lambda b: b[:-700], _corrupt_middle], ids=["truncated", "corrupt"])
def test_broken_archive_never_leaves_a_dataset(server, tmp_path, damage):
    server.files["/t.zip"] = damage(make_zip())  # served completely, but the file itself is broken
    data, cache = tmp_path / "data", tmp_path / "cache"
    with pytest.raises(UserError, match="truncated or corrupt"):
        obtain_released(_spec(server.url("/t.zip")), data, cache, try_dvc=False)
    assert not (data / "realsr").exists() and _leftovers(data) == []
    assert LOCK_NAME not in [p.name for p in data.iterdir()]  # a broken download is never trusted
    assert not (cache / "downloads/StableSR_testsets.zip").exists()  # deleted, so a rerun fetches afresh
    server.files["/t.zip"] = make_zip()
    assert obtain_released(_spec(server.url("/t.zip")), data, cache, try_dvc=False).manifest["count"] == 3


def test_existing_dataset_survives_a_failed_refetch(server, tmp_path):
    data, cache = tmp_path / "data", tmp_path / "cache"
    server.files["/t.zip"] = make_zip()
    obtain_released(_spec(server.url("/t.zip")), data, cache, try_dvc=False)
    (data / "realsr/manifest.json").write_text("{}")  # damaged manifest -> refetch
    (cache / "downloads/StableSR_testsets.zip").write_bytes(b"garbage")
    with pytest.raises(UserError):
        obtain_released(_spec(server.url("/t.zip")), data, cache, try_dvc=False)
    assert (data / "realsr/hr/a.png").is_file()  # the old folder was not half-replaced


@pytest.mark.parametrize(
    "kwargs, pattern",
    [
        ({"lr_names": ("a", "b")}, r"1 unpaired image\(s\).*first: c\.png"),
        ({"lr_names": ("a", "b", "bad"), "names": ("a", "b", "bad")}, r"1 pair\(s\) whose HR size.*bad\.png"),
        ({"lr_side": 64}, r"3 pair\(s\) whose HR size is not 4x.*a\.png"),
    ],
)
def test_mismatched_pairs_fail_naming_offenders_and_count(server, tmp_path, kwargs, pattern):
    server.files["/t.zip"] = make_zip(**kwargs)
    data = tmp_path / "data"
    with pytest.raises(UserError, match=pattern):
        obtain_released(_spec(server.url("/t.zip")), data, tmp_path / "cache", try_dvc=False)
    assert not (data / "realsr").exists() and _leftovers(data) == []


def test_pair_count_must_match(server, tmp_path):
    server.files["/t.zip"] = make_zip()
    with pytest.raises(UserError, match=r"3 pairs, expected 100"):
        obtain_released(dataclasses.replace(get_spec("realsr"), urls=(server.url("/t.zip"),), file_set=None),
                        tmp_path / "data", tmp_path / "cache", try_dvc=False)


def test_http_error_and_missing_url_are_clear(server, tmp_path):
    with pytest.raises(UserError, match="HTTP 404"):
        obtain_released(_spec(server.url("/absent.zip")), tmp_path / "data", tmp_path / "cache", try_dvc=False)
    with pytest.raises(UserError, match="no download URL"):
        obtain_released(dataclasses.replace(get_spec("realsr"), urls=(), file_set=None), tmp_path / "data", tmp_path / "cache",
                        try_dvc=False)


def test_imagenet_test_is_a_manual_download_used_once_saved_in_the_cache(tmp_path):
    spec = get_spec("imagenet-test")
    assert spec.manual and spec.lr == "released" and "drive.google.com" in spec.urls[0]
    data, cache = tmp_path / "data", tmp_path / "cache"
    dest = cache / "downloads" / spec.archive
    with pytest.raises(UserError, match=r"downloaded by hand: open https://drive\.google\.com/.* save the file as "
                                        + str(dest).replace(".", r"\.") + r".*regenerate"):
        obtain_released(spec, data, cache, try_dvc=False)
    buf = io.BytesIO()  # an archive laid out as ResShift's (gt/ and lq/ under one top folder; layout undocumented)
    with zipfile.ZipFile(buf, "w") as zf:
        for i, n in enumerate(("x", "y")):
            zf.writestr(f"imagenet256/gt/{n}.png", _png(256, i))
            zf.writestr(f"imagenet256/lq/{n}.png", _png(64, i))
    dest.parent.mkdir(parents=True)
    dest.write_bytes(buf.getvalue())
    got = obtain_released(spec, data, cache, expected_count=2, try_dvc=False)
    assert got.how == "fetch" and got.manifest["count"] == 2 and got.manifest["source"]["url"] == spec.urls[0]
    assert read_lock(data)[spec.archive]["sha256"] == hashlib.sha256(buf.getvalue()).hexdigest()


def test_cli_fetch_verify_list(server, tmp_path, capsys):
    from lgcaa.cli import main

    server.files["/mirror/StableSR_testsets.zip"] = make_zip()
    data, record = tmp_path / "data", tmp_path / "rec.json"
    rc = main(["data", "fetch", "realsr", "--url", server.url("/mirror/StableSR_testsets.zip"), "--expected-count",
               "3", "--data-root", str(data), "--cache", str(tmp_path / "cache"), "--no-dvc", "--record", str(record)])
    assert rc == 0
    params = json.loads(record.read_text())["params"]
    assert params["obtained"] == "fetch" and params["archive_pinned"] is False
    assert main(["data", "verify", "--data-root", str(data)]) == 0
    capsys.readouterr()
    assert main(["data", "list", "--json", "--data-root", str(data)]) == 0
    listing = json.loads(capsys.readouterr().out)
    rows = {r["name"]: r for r in listing["registry"]}
    assert set(rows) == {"div2k-val", "realsr", "drealsr", "imagenet-test", "mini"}
    assert listing["on_disk"] == {"realsr": {"pairs": 3, "lr": "released", "from": "realsr"}}
    assert rows["realsr"]["on_disk"] == "realsr (3 pairs)" and rows["realsr"]["digest"] == "recorded"
    assert rows["mini"]["on_disk"] == "absent"
    # a set built by `lgcaa data build-mini` under the profile's name counts as the registry's mini entry
    (data / "mini-bicubic").mkdir()
    (data / "mini-bicubic/manifest.json").write_text(json.dumps(
        {"dataset": "mini-bicubic", "count": 2, "files": {}, "lr_kind": "bicubic", "crop": "centre",
         "provenance": {"astronaut": "skimage"}}))
    assert main(["data", "list", "--json", "--data-root", str(data)]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)["registry"]}
    assert rows["mini"]["on_disk"] == "mini-bicubic (2 pairs)" and rows["realsr"]["on_disk"] == "realsr (3 pairs)"
    (data / "mini-bicubic/manifest.json").unlink()
    (data / "mini-bicubic").rmdir()
    assert rows["div2k-val"]["on_disk"] == "absent" and rows["div2k-val"]["pairs"] == 3000
    (data / "realsr/lr/a.png").write_bytes(b"x")
    assert main(["data", "verify", "realsr", "--data-root", str(data)]) == 2
    assert "a.png" in capsys.readouterr().err


def test_registry_lines_are_the_table_the_notes_and_what_is_on_disk(tmp_path):
    from lgcaa.data.fetch import registry_lines, registry_listing
    from lgcaa.data.registry import DATASETS

    rows, local = registry_listing(tmp_path)
    lines = registry_lines(rows, local, tmp_path)
    assert lines[0].split() == ["name", "pairs", "sizes", "lr", "digest", "on_disk", "url"]
    table = lines[1:1 + len(rows)]
    assert [line.split()[0] for line in table] == [r["name"] for r in rows] == list(DATASETS)
    for col in ("pairs", "digest", "url"):  # every column starts where its header does
        at = lines[0].index(col)
        assert all(line[at - 2:at] == "  " and line[at] != " " for line in table), col
    notes = [n for n in DATASETS if not DATASETS[n].urls]
    assert notes and lines[1 + len(rows):-2] == [f"\n{n}: {DATASETS[n].notes}" for n in notes]
    assert lines[-2:] == [f"\non disk under {tmp_path}/ (archive digests: {tmp_path / LOCK_NAME}):",
                          "  (none): - pairs, LR -, from registry entry '-'"]
    local = {"realsr": {"pairs": 3, "lr": "released", "from": "realsr"}}
    assert registry_lines(rows, local, tmp_path)[-1] == "  realsr: 3 pairs, LR released, from registry entry 'realsr'"


def test_verify_names_each_dataset_or_says_there_is_none(tmp_path):
    from lgcaa.data.manifest import build_manifest, verify_datasets, write_manifest

    with pytest.raises(UserError, match="no datasets with a manifest.json; fetch or build one first"):
        list(verify_datasets(tmp_path, []))
    for name in ("b", "a"):
        (tmp_path / name / "hr").mkdir(parents=True)
        (tmp_path / name / "lr").mkdir()
        (tmp_path / name / "hr" / "x.png").write_bytes(_png(8, 0))
        (tmp_path / name / "lr" / "x.png").write_bytes(_png(2, 0))
        write_manifest(tmp_path / name, build_manifest(tmp_path / name, name, 4))
    assert list(verify_datasets(tmp_path, [])) == [f"{tmp_path / n}: 1 pairs, 2 files verified" for n in ("a", "b")]
    assert list(verify_datasets(tmp_path, ["b"])) == [f"{tmp_path / 'b'}: 1 pairs, 2 files verified"]
