"""What the harness guarantees (README, "What the harness guarantees"), tried as a hostile or careless user would.

One test (or a few) per item of the hardening issue; each failed on the code before the fix:
  1 path parts are plain names, outputs stay in their root, a folder the harness did not make is never removed
  2 weight files are verified (sha256, cached verdict) before a metric is built; pyiqa loads are weights-only
  3 downloads: completeness known or refused, capped, http(s)-only redirects; nothing unverified recorded
  4 `lgcaa sr` verifies the weights it uses and records the digest of the file actually used
  5 evaluation memory: see tests/test_eval_memory.py
  6 config cross-references checked at load, one line each
  7 settings a method does not take are refused
  8 JPEG data in a .png is refused before scoring
  9 NIQE undefined on a flat image is reported per image, the rest is scored
 10 archives: total size and expansion ratio capped
 11 the first MLflow database creation is serialised
 12 atomic files honour the umask
 13 README: stale Snakemake lock and --rerun-incomplete
 14 --out-dir that is a file: one line; identical safetensors checkpoints are byte-identical
Everything runs on CPU, offline (loopback HTTP only), in seconds.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from loopback import LoopbackFiles

from lgcaa.cli import main
from lgcaa.errors import UserError
from lgcaa.io import atomic_dir, publish_dir, write_json, write_png

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture()
def server():
    with LoopbackFiles() as srv:
        yield srv


@pytest.fixture()
def online(monkeypatch):
    for k in ("HF_HUB_OFFLINE", "LGCAA_OFFLINE"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setattr("lgcaa.download.time.sleep", lambda s: None)


@pytest.fixture()
def tmp_hub(tmp_path, online):
    import torch

    before = torch.hub.get_dir()
    torch.hub.set_dir(str(tmp_path / "hub"))
    yield tmp_path / "hub"
    torch.hub.set_dir(before)


def _lr_set(folder: Path, n: int = 2, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    for i in range(n):
        write_png(folder / f"im{i}.png", rng.integers(0, 255, (8, 10, 3), dtype=np.uint8))
    return folder


# --- 1. path containment -----------------------------------------------------------------------------------


def test_01_import_dataset_name_cannot_escape_or_delete(tmp_path, capsys):
    lr = _lr_set(tmp_path / "data" / "ds" / "lr")
    src = tmp_path / "published"
    for p in lr.iterdir():
        img = np.zeros((32, 40, 3), np.uint8)
        write_png(src / p.name, img)
    imports = tmp_path / "work" / "imports"
    victim = tmp_path / "victim" / "bicubic"
    victim.mkdir(parents=True)
    (victim / "precious.txt").write_text("keep me")
    for dataset in ("../../escape_ds", str(tmp_path / "victim"), "a/b"):
        rc = main(["baselines", "import", "bicubic", str(src), "--dataset", dataset, "--lr-dir", str(lr),
                   "--imports", str(imports)])
        err = capsys.readouterr().err
        assert rc == 2 and "not a plain name" in err and err.count("\n") == 1, err
    assert (victim / "precious.txt").read_text() == "keep me"
    assert not (tmp_path / "escape_ds").exists() and not (tmp_path / "work" / "escape_ds").exists()
    assert main(["baselines", "import", "bicubic", str(src), "--dataset", "ds", "--lr-dir", str(lr),
                 "--imports", str(imports)]) == 0
    assert (imports / "ds" / "bicubic" / "import.json").is_file()


def test_01_atomic_publish_never_removes_a_folder_it_did_not_make(tmp_path):
    foreign = tmp_path / "out"
    foreign.mkdir()
    (foreign / "precious.txt").write_text("keep me")
    with pytest.raises(UserError, match=r"not made by the harness \(no manifest.json\).*never removes"), \
            atomic_dir(foreign, "manifest.json") as tmp:
        (tmp / "manifest.json").write_text("{}")
    staging = tmp_path / "staging"
    staging.mkdir()
    (staging / "manifest.json").write_text("{}")
    with pytest.raises(UserError, match="never removes"):
        publish_dir(staging, foreign, "manifest.json")
    assert (foreign / "precious.txt").read_text() == "keep me" and staging.is_dir()
    with pytest.raises(UserError, match="outside its root"):
        publish_dir(staging, tmp_path / "elsewhere" / "x", "manifest.json", root=tmp_path / "root")
    mine = tmp_path / "mine"  # a folder the harness made (holds its record) is replaced
    for round_ in (1, 2):
        with atomic_dir(mine, "manifest.json") as tmp:
            (tmp / "manifest.json").write_text(str(round_))
    assert (mine / "manifest.json").read_text() == "2" and not list(tmp_path.glob(".mine.*"))


def test_01_profile_names_that_become_paths_are_plain(tmp_path):
    from lgcaa.config import load_config, validate

    cfg = load_config("mini")
    cfg["datasets"]["../evil"] = cfg["datasets"].pop("mini-bicubic")
    with pytest.raises(UserError, match=r"dataset '\.\./evil' is not a plain name"):
        validate(cfg, "t.yaml")


# --- 2. weight files verified before a metric is built ------------------------------------------------------


class _Payload:
    """Unpickling this runs `open(marker, 'w')`: the crafted checkpoint of the probe."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _crafted(path: Path, marker: Path) -> Path:
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"params": _Payload(marker)}, path)
    return path


def test_02_crafted_checkpoint_in_the_hub_is_never_unpickled(tmp_hub, tmp_path):
    from lgcaa.metrics.evaluate import evaluate

    marker = tmp_path / "PAYLOAD_RAN"
    _crafted(tmp_hub / "pyiqa" / "musiq_koniq_ckpt-e95806b9.pth", marker)  # pinned name, wrong content
    _crafted(tmp_hub / "pyiqa" / "MANIQA_PIPAL-ae6d356b.pth", marker)  # unpinned: digest known nowhere
    sr, hr = _lr_set(tmp_path / "sr"), _lr_set(tmp_path / "hr", seed=1)
    ev = evaluate(sr, hr, ["psnr", "musiq", "maniqa"], workers=1)
    agg = ev.aggregate["metrics"]
    assert not marker.exists()
    assert agg["psnr"]["status"] == "ok"
    assert agg["musiq"]["status"] == "missing" and "corrupt" in agg["musiq"]["reason"]
    assert agg["maniqa"]["status"] == "missing" and "unrecorded" in agg["maniqa"]["reason"]
    assert "lgcaa weights pin" in agg["maniqa"]["fix"]


def test_02_loads_inside_the_harness_are_weights_only(tmp_path):
    import torch

    from lgcaa.metrics.build import weights_only_loads

    marker = tmp_path / "PAYLOAD_RAN"
    path = _crafted(tmp_path / "x.pth", marker)
    torch.save({"w": torch.ones(2)}, tmp_path / "ok.pth")
    with weights_only_loads(set()):
        assert torch.equal(torch.load(tmp_path / "ok.pth", weights_only=False)["w"], torch.ones(2))
        with pytest.raises(UserError, match="weights_only=True"):
            torch.load(path, map_location="cpu", weights_only=False)  # what pyiqa passes
    assert not marker.exists()


def test_02_verdict_is_cached_by_size_and_mtime(tmp_path, monkeypatch):
    from lgcaa.weights import manager
    from lgcaa.weights.manifest import CACHE, WeightFile

    data = os.urandom(5000)
    f = WeightFile("w/x.pth", ("https://example.invalid/x.pth",), hashlib.sha256(data).hexdigest(), None, ("t",),
                   "test", root=CACHE)
    (tmp_path / "w").mkdir()
    (tmp_path / "w" / "x.pth").write_bytes(data)
    calls = []
    real = manager.sha256_file
    monkeypatch.setattr(manager, "sha256_file", lambda p: calls.append(p) or real(p))
    assert manager.verify_for_use([f], tmp_path)[0].verified
    assert manager.verify_for_use([f], tmp_path)[0].verified and len(calls) == 1  # second time: cached
    (tmp_path / "w" / "x.pth").write_bytes(os.urandom(5000))  # same size, new content
    state = manager.verify_for_use([f], tmp_path)[0]
    assert state.state == manager.CORRUPT and len(calls) == 2


# --- 3. downloads ---------------------------------------------------------------------------------------------


def test_03_transfer_of_unknown_length_is_refused_and_never_recorded(tmp_hub, server):
    from lgcaa.download import DownloadError, download
    from lgcaa.weights import manager
    from lgcaa.weights.manifest import WeightFile

    data = os.urandom(200_000)
    server.files["/u.pth"] = data
    server.no_length.add("/u.pth")
    with pytest.raises(DownloadError, match="without Content-Length or chunked"):
        download(server.url("/u.pth"), tmp_hub / "u.pth")
    assert not (tmp_hub / "u.pth").exists() and not list(tmp_hub.glob("*.part"))
    f = WeightFile("pyiqa/u.pth", (server.url("/u.pth"),), None, None, ("maniqa",), "test")
    assert manager.fetch(f, tmp_hub).state == manager.MISSING
    assert not (tmp_hub / manager.LOCK_NAME).exists()
    sha = hashlib.sha256(data).hexdigest()  # with a known digest the same server is fine
    assert download(server.url("/u.pth"), tmp_hub / "v.pth", sha256=sha) == sha


def test_03_chunked_transfer_counts_only_when_complete(tmp_path, server, online):
    from lgcaa.download import DownloadError, download

    data = os.urandom(50_000)
    server.files["/c.bin"] = data
    server.chunked.add("/c.bin")
    server.honour_range = False
    assert download(server.url("/c.bin"), tmp_path / "c.bin") == hashlib.sha256(data).hexdigest()
    server.cuts["/c.bin"] = [20_000, 20_000]
    with pytest.raises(DownloadError, match="failed after 2 attempts"):
        download(server.url("/c.bin"), tmp_path / "d.bin", retries=1)
    assert not (tmp_path / "d.bin").exists()


def test_03_bytes_capped_and_redirects_http_only(tmp_path, server, online):
    from lgcaa.download import DownloadError, download

    server.files["/big.bin"] = os.urandom(100_000)
    with pytest.raises(DownloadError, match="over the cap of 1000"):
        download(server.url("/big.bin"), tmp_path / "a.bin", max_bytes=1000)
    server.no_length.add("/big.bin")
    with pytest.raises(DownloadError, match="more than 1000 bytes"):
        download(server.url("/big.bin"), tmp_path / "b.bin", sha256="0" * 64, max_bytes=1000)
    secret = tmp_path / "secret.txt"
    secret.write_text("local file")
    server.redirects["/r"] = secret.as_uri()
    server.redirects["/f"] = "ftp://127.0.0.1:9/secret.txt"
    for path in ("/r", "/f"):
        with pytest.raises(DownloadError, match="only http\\(s\\) redirects are followed"):
            download(server.url(path), tmp_path / "c.bin", retries=3)
    assert server.paths().count("/f") == 1 and not (tmp_path / "c.bin").exists()
    server.files["/ok.bin"] = b"fine"
    server.redirects["/h"] = server.url("/ok.bin")
    assert download(server.url("/h"), tmp_path / "d.bin") == hashlib.sha256(b"fine").hexdigest()


# --- 4. lgcaa sr verifies its weights and records what it used ---------------------------------------------------


def test_04_sr_refuses_a_different_file_and_records_the_digest_it_used(tmp_path, capsys, monkeypatch):
    import dataclasses

    import torch
    from test_baselines_torch import kair_state

    from baselines.registry import BASELINES
    from lgcaa.io import sha256_file
    from lgcaa.weights.roots import root_of

    cache, lr = tmp_path / "cache", _lr_set(tmp_path / "lr", 1)
    w = BASELINES["bsrgan"].weights[0]
    weight = root_of(w, cache) / w.dest
    weight.parent.mkdir(parents=True)
    torch.save(kair_state(), weight)  # a checkpoint that is not the official BSRGAN.pth
    out = tmp_path / "out"
    argv = ["sr", "--method", "bsrgan", "--lr-dir", str(lr), "--out-dir", str(out), "--cache-dir", str(cache),
            "--settings", '{"tile": 8}']
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "corrupt" in err and "expected 67046751" in err and str(weight) in err and err.count("\n") == 1
    assert not out.exists() and not (tmp_path / "out.settings.json").exists()
    digest = sha256_file(weight)  # the same file, now the one the registry pins
    b = BASELINES["bsrgan"]
    monkeypatch.setitem(BASELINES, "bsrgan", dataclasses.replace(
        b, weights=(dataclasses.replace(b.weights[0], sha256=digest, size=None),)))
    assert main(argv) == 0
    used = json.loads((tmp_path / "out.settings.json").read_text())["weights"]
    assert [(w["path"], w["sha256"]) for w in used] == [(str(weight), digest)]


# --- 6. config cross-references ------------------------------------------------------------------------------


@pytest.mark.parametrize("change,message", [
    (lambda c: c["methods"].append("nosuchmethod"), "methods names 'nosuchmethod', which is neither a baseline"),
    (lambda c: c["model"]["runs"]["lgcaa"].update(sample_steps={"mini-realesrgan": [20, 30, 50]}),
     "reads method 'lgcaa' on dataset 'mini-realesrgan', which no job produces; .* lgcaa at 30 steps"),
    (lambda c: c["datasets"].update({"x-regen": {"source": "realsr", "lr": "realesrgan", "hr_source": "/nonexistent"}}),
     "datasets/x-regen/hr_source /nonexistent is not a folder here"),
])
def test_06_config_cross_references_fail_at_load_in_one_line(tmp_path, change, message):
    import yaml

    from lgcaa.config import load_config

    cfg = load_config("mini")
    change(cfg)
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(cfg))
    with pytest.raises(UserError, match=message) as exc:
        load_config(str(path))
    assert str(path) in str(exc.value) and "\n" not in str(exc.value)


# --- 7. settings a method does not take ------------------------------------------------------------------------


def test_07_sr_refuses_settings_the_method_does_not_take(tmp_path, capsys):
    from baselines.registry import BASELINES, resolve_settings, takes_scale

    lr = _lr_set(tmp_path / "lr", 1)
    for settings, message in (('{"scale": 3}', "scale=3 is not one 'realesrgan-x4plus' takes: it is a x4 method"),
                              ('{"tile": "big"}', "tile='big' of 'realesrgan-x4plus' is a str; it takes a int")):
        rc = main(["sr", "--method", "realesrgan-x4plus", "--lr-dir", str(lr), "--out-dir", str(tmp_path / "o"),
                   "--settings", settings])
        err = capsys.readouterr().err
        assert rc == 2 and err.count("\n") == 1 and message in err, err
        assert not (tmp_path / "o").exists()
    assert resolve_settings("bicubic", {"scale": 2})["scale"] == 2  # a resampler takes any scale
    assert {n for n, b in BASELINES.items() if takes_scale(b)} == {"bicubic", "lanczos", "pasd", "seesr"}


# --- 12. umask ------------------------------------------------------------------------------------------------


def test_12_atomic_files_and_folders_honour_the_umask(tmp_path):
    old = os.umask(0o002)
    try:
        write_json(tmp_path / "a.json", {"x": 1})
        with atomic_dir(tmp_path / "d", "manifest.json") as tmp:
            write_json(tmp / "manifest.json", {})
        assert stat.S_IMODE((tmp_path / "a.json").stat().st_mode) == 0o664
        assert stat.S_IMODE((tmp_path / "d" / "manifest.json").stat().st_mode) == 0o664
        assert stat.S_IMODE((tmp_path / "d").stat().st_mode) == 0o775
        os.umask(0o077)
        write_json(tmp_path / "b.json", {})
        assert stat.S_IMODE((tmp_path / "b.json").stat().st_mode) == 0o600
    finally:
        os.umask(old)


# --- 14. --out-dir that is a file; byte-identical checkpoints ------------------------------------------------


def test_14_out_dir_that_is_a_file_is_one_clear_line(tmp_path, capsys):
    lr = _lr_set(tmp_path / "lr", 1)
    blocker = tmp_path / "out"
    blocker.write_text("a file")
    assert main(["sr", "--method", "bicubic", "--lr-dir", str(lr), "--out-dir", str(blocker)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{blocker} is a file, not a folder" in err
    assert blocker.read_text() == "a file"
    hr = _lr_set(tmp_path / "hr", 1, seed=1)
    assert main(["eval", str(lr), str(hr), "--metrics", "psnr", "--out", str(blocker / "m")]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err


def test_14_identical_checkpoints_are_byte_identical(tmp_path):
    import torch

    from lgcaa.model.checkpoint import save_weights

    tensors = {"b": torch.arange(6.0).reshape(2, 3), "a": torch.ones(4, dtype=torch.float16)}
    digests = set()
    for i in range(4):
        meta = {k: str(v) for k, v in ([("step", 3), ("lr", 1e-4), ("z", "x"), ("param_groups", "[]")][::1 - 2 * (i % 2)])}
        save_weights(tmp_path / f"{i}.safetensors", tensors, meta)
        digests.add(hashlib.sha256((tmp_path / f"{i}.safetensors").read_bytes()).hexdigest())
    assert len(digests) == 1
    from safetensors.torch import load_file

    assert torch.equal(load_file(str(tmp_path / "0.safetensors"))["b"], tensors["b"])


# --- 8. JPEG data in a .png ------------------------------------------------------------------------------------


def test_08_jpeg_data_in_a_png_is_refused_before_scoring(tmp_path, capsys):
    from PIL import Image

    sr, hr = _lr_set(tmp_path / "sr", 2), _lr_set(tmp_path / "hr", 2, seed=1)
    Image.open(sr / "im1.png").save(sr / "im1.png", format="JPEG", quality=90)  # JPEG bytes, .png name
    assert main(["eval", str(sr), str(hr), "--metrics", "psnr", "--out", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err
    assert f"{sr / 'im1.png'}: holds JPEG data, not PNG" in err and err.count("\n") == 1
    assert not (tmp_path / "m").exists()


# --- 9. NIQE undefined on a flat image --------------------------------------------------------------------------


def test_09_niqe_undefined_on_a_flat_image_is_reported_and_the_rest_scored(tmp_path):
    import skimage.data

    from lgcaa.metrics.evaluate import evaluate

    photo = np.ascontiguousarray(skimage.data.astronaut()[:192, :192])
    write_png(tmp_path / "hr" / "flat.png", np.full((192, 192, 3), 120, np.uint8))
    write_png(tmp_path / "sr" / "flat.png", np.full((192, 192, 3), 121, np.uint8))
    write_png(tmp_path / "hr" / "photo.png", photo)
    write_png(tmp_path / "sr" / "photo.png", (photo // 2 * 2).astype(np.uint8))
    ev = evaluate(tmp_path / "sr", tmp_path / "hr", ["psnr", "niqe"], workers=1)
    niqe, psnr = ev.aggregate["metrics"]["niqe"], ev.aggregate["metrics"]["psnr"]
    assert psnr["status"] == "ok" and psnr["n"] == 2
    assert niqe["status"] == "ok" and niqe["n"] == 1 and niqe["undefined"]["images"] == ["flat.png"]
    assert "without texture" in niqe["undefined"]["reason"]
    only_photo = evaluate(tmp_path / "sr", tmp_path / "hr", ["niqe"], workers=1)  # same value as alone
    assert niqe["mean"] == next(v for n, m, v in only_photo.rows if n == "photo.png")
    assert [(n, m) for n, m, _ in ev.rows if m == "niqe"] == [("photo.png", "niqe")]


# --- 10. archives ----------------------------------------------------------------------------------------------


def test_10_zip_bomb_is_refused_by_size_and_ratio(tmp_path):
    import zipfile

    from lgcaa.data.archive import ArchiveTooLarge, extract_tree

    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("ds/hr/a.png", b"\0" * (8 << 20))  # 8 MiB of zeros -> ~8 KiB compressed
    assert bomb.stat().st_size < 64 << 10
    with pytest.raises(ArchiveTooLarge, match=r"declares 8388608 bytes .* at most 50x it"):
        extract_tree(bomb, "ds", tmp_path / "out")
    assert not list((tmp_path / "out").rglob("*.png")) if (tmp_path / "out").exists() else True
    with pytest.raises(ArchiveTooLarge, match="cap of 1000 bytes"):
        extract_tree(bomb, "ds", tmp_path / "out2", max_ratio=10_000, max_bytes=1000)
    assert extract_tree(bomb, "ds", tmp_path / "out3", max_ratio=10_000) == 1  # within explicit caps: unpacked


def test_10_lying_zip_header_is_caught_while_writing(tmp_path):
    import zipfile

    from lgcaa.data.archive import ArchiveTooLarge, extract_tree

    bomb = tmp_path / "liar.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("ds/hr/a.png", b"\0" * (4 << 20))
    blob = bytearray(bomb.read_bytes())  # claim 100 bytes in the central directory's uncompressed size
    cd = blob.rfind(b"PK\x01\x02")
    blob[cd + 24:cd + 28] = (100).to_bytes(4, "little")
    bomb.write_bytes(bytes(blob))
    with pytest.raises((ArchiveTooLarge, UserError)):
        extract_tree(bomb, "ds", tmp_path / "out")
    written = sum(p.stat().st_size for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert written <= 50 * bomb.stat().st_size


# --- 11. first MLflow database creation -----------------------------------------------------------------------


def test_11_concurrent_syncs_on_a_new_store_all_succeed(tmp_path):
    results = tmp_path / "results"
    procs = []
    for i in range(3):
        record = tmp_path / f"r{i}" / "run.json"
        write_json(record, {"experiment": "race", "run_name": f"r{i}", "params": {"i": i}, "metrics": {"m": 1.0},
                            "artifacts": [], "tags": {}})
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "lgcaa", "mlflow-sync", str(record), "--results", str(results),
             "--out", str(tmp_path / f"out{i}.json")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    outs = [(p.wait(timeout=300), p.stdout.read()) for p in procs]
    assert all(rc == 0 for rc, _ in outs), [o[-600:] for rc, o in outs if rc]
    assert (results / "mlflow.db").is_file()


def test_11_a_relative_results_folder_is_the_current_folders_store(tmp_path, monkeypatch):
    """MLflow caches stores by URI: two syncs into `results` from two project folders in one process must each
    write their own database (the second once landed in the first folder's)."""
    from mlflow.tracking import MlflowClient

    from lgcaa.mlflow_store import sync_records, tracking_uri

    for name in ("a", "b"):
        project = tmp_path / name
        record = project / "rec" / "run.json"
        write_json(record, {"experiment": f"exp-{name}", "run_name": name, "params": {}, "metrics": {"m": 1.0},
                            "artifacts": [], "tags": {}})
        monkeypatch.chdir(project)
        sync_records(["rec/run.json"], "results")
    for name in ("a", "b"):
        client = MlflowClient(tracking_uri(tmp_path / name / "results"))
        assert {e.name for e in client.search_experiments()} == {f"exp-{name}"}, name


# --- 13. README: resume after a kill ------------------------------------------------------------------------------


def test_13_readme_tells_how_to_resume_after_a_kill():
    text = (REPO / "README.md").read_text()
    section = text[text.index("## What the harness guarantees"):]
    section = " ".join(section[:section.index("\n## ", 5)].split())
    assert "snakemake --unlock" in section and "--rerun-incomplete" in section
    assert "while the first run is still" in section  # the hint is unsafe then
    for item in ("atomic", "resume", "verified", "memory"):
        assert item in section.lower(), item
