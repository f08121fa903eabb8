"""The second hardening pass (issue 22), tried as a hostile or careless user would.

One test (or a few) per item; each failed on the code before the fix (350732c):
  1 `lgcaa sr` resumes only images of the same method, settings, weights, seed and LR images (sr.json)
  2 one decode rule for every entry point (eval's): `lgcaa baselines import` refuses RGBA, rounds 16-bit alike
  3 tables depend on every evaluation file they read (tests/test_tables.py, tests/test_workflow_e2e.py)
  4 an evaluation folder is swapped in whole: a full disk (a real 64 KiB tmpfs where mount is allowed) gives one
    line and leaves the previous result intact
  5 `mlflow-sync` after a kill -9 mid-sync: the next sync deletes the half-logged run, logs it whole, ends the
    parents; a run is found as a record's only once fully logged
  6 a server that trickles bytes is cut at the minimum rate (seconds here: a 1 s window), the .part resumes
  7 a YAML config with anchors/aliases ("billion laughs") is refused at once, before validation
  9 one line, exit 2, for: malformed YAML/JSON, a folder or dangling link named *.png, a read-only output folder
    (a real read-only mount), a corrupt or locked MLflow sqlite database
  10 minors: mlflow-sync from another folder refused (not logged without artifacts), a redirect loop named as
    such, the archive-cap message's grammar, a file/folder clash in an archive, absurd lr/steps bounded
  8 MLflow UI links: http(s) only, in the CLI, the profile schema and every link a table writes
Everything runs on CPU, offline (loopback HTTP only), in seconds.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from lgcaa.cli import main
from lgcaa.io import list_images, read_rgb, write_png
from lgcaa.metrics.decode import decode


def _lr_set(folder: Path, n: int = 2, seed: int = 0, shape=(8, 10, 3)) -> Path:
    rng = np.random.default_rng(seed)
    for i in range(n):
        write_png(folder / f"im{i}.png", rng.integers(0, 255, shape, dtype=np.uint8))
    return folder


def _pixels(folder: Path) -> dict[str, bytes]:
    from PIL import Image

    return {p.name: np.asarray(Image.open(p)).tobytes() for p in list_images(folder)}


def _one_line_error(capsys) -> str:
    """The one error line on stderr (progress lines aside), checked: exactly one, no traceback."""
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if ": error: " in line]
    assert len(errors) == 1 and "Traceback" not in err, err[-2000:]
    return errors[0]


# --- 1. sr resume is keyed ----------------------------------------------------------------------------------


def test_01_sr_resume_never_keeps_another_methods_images(tmp_path, capsys):
    lr = _lr_set(tmp_path / "lr")
    sr = ["sr", "--lr-dir", str(lr), "--out-dir"]
    assert main([*sr, str(tmp_path / "bicubic"), "--method", "bicubic"]) == 0
    assert main([*sr, str(tmp_path / "lanczos"), "--method", "lanczos"]) == 0
    assert _pixels(tmp_path / "bicubic") != _pixels(tmp_path / "lanczos")
    capsys.readouterr()

    # the probe: a copy of the bicubic folder given to lanczos
    shutil.copytree(tmp_path / "bicubic", tmp_path / "x")
    assert main([*sr, str(tmp_path / "x"), "--method", "lanczos"]) == 0
    out = capsys.readouterr()
    assert "2 computed" in out.out and "images of another run (method 'bicubic'" in out.err
    assert _pixels(tmp_path / "x") == _pixels(tmp_path / "lanczos")

    # the same run again resumes (keeps everything)
    assert main([*sr, str(tmp_path / "x"), "--method", "lanczos"]) == 0
    assert "0 computed" in capsys.readouterr().out
    # another seed or other settings: redone
    assert main([*sr, str(tmp_path / "x"), "--method", "lanczos", "--seed", "3"]) == 0
    assert "2 computed" in capsys.readouterr().out
    assert json.loads((tmp_path / "x" / "sr.json").read_text())["seed"] == 3

    # other LR images (same names): redone
    lr2 = _lr_set(tmp_path / "lr2", seed=5)
    assert main(["sr", "--lr-dir", str(lr2), "--out-dir", str(tmp_path / "x"), "--method", "lanczos",
                 "--seed", "3"]) == 0
    assert "2 computed" in capsys.readouterr().out

    # PNGs without a key (a folder the user filled, or an older harness's): refused in one line, nothing touched
    shutil.copytree(tmp_path / "bicubic", tmp_path / "y")
    (tmp_path / "y" / "sr.json").unlink()
    before = _pixels(tmp_path / "y")
    assert main([*sr, str(tmp_path / "y"), "--method", "lanczos"]) == 2
    assert "2 PNG images without sr.json" in _one_line_error(capsys)
    assert _pixels(tmp_path / "y") == before


# --- 2. one decode rule -------------------------------------------------------------------------------------


@pytest.fixture()
def published(tmp_path):
    """A 2-image LR set (8x10) and a folder for published x4 outputs of it."""
    lr = _lr_set(tmp_path / "data" / "ds" / "lr")
    src = tmp_path / "published"
    src.mkdir()
    return lr, src


def _import(tmp_path, lr, src):
    return main(["baselines", "import", "seesr", str(src), "--dataset", "ds", "--lr-dir", str(lr),
                 "--imports", str(tmp_path / "imports")])


def test_02_import_refuses_semi_transparent_rgba_like_eval(tmp_path, published, capsys):
    from PIL import Image

    lr, src = published
    rng = np.random.default_rng(1)
    for p in list_images(lr):
        rgba = rng.integers(0, 255, (32, 40, 4), dtype=np.uint8)
        rgba[..., 3] = 128  # half transparent: on black it would be half as bright
        Image.fromarray(rgba, "RGBA").save(src / p.name)
    with pytest.raises(Exception, match="not fully opaque") as eval_error:
        decode(src / "im0.png")
    assert _import(tmp_path, lr, src) == 2
    err = _one_line_error(capsys)
    assert "im0.png: 1280 pixels are not fully opaque" in err and str(eval_error.value) in err
    assert not (tmp_path / "imports" / "ds" / "seesr").exists()
    with pytest.raises(Exception, match="not fully opaque"):  # every reader, not only the import
        read_rgb(src / "im0.png")


def test_02_import_rounds_16bit_like_eval(tmp_path, published):
    import cv2

    lr, src = published
    rng = np.random.default_rng(2)
    for p in list_images(lr):
        assert cv2.imwrite(str(src / p.name), rng.integers(0, 65536, (32, 40, 3), dtype=np.uint16))
    assert _import(tmp_path, lr, src) == 0
    for p in list_images(lr):
        stored = tmp_path / "imports" / "ds" / "seesr" / p.name
        assert np.array_equal(decode(stored), decode(src / p.name))  # bit for bit what eval scores


# --- 4. eval folder swapped in whole -----------------------------------------------------------------------------


@contextlib.contextmanager
def _small_disk(folder: Path, size: str = "64k", options: str = ""):
    """A real tmpfs of `size` at `folder` (root and mount allowed; `options` e.g. "ro"); None where it cannot be
    mounted."""
    folder.mkdir(parents=True, exist_ok=True)
    opts = ",".join(filter(None, [options, f"size={size}"]))
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(folder)], capture_output=True,
                         check=False) if os.geteuid() == 0 else None
    if res is None or res.returncode != 0:
        yield None
        return
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def _leave_free(folder: Path, free: int) -> None:
    """Fill the file system of `folder` so that `free` bytes stay available."""
    st = os.statvfs(folder)
    (folder / "filler").write_bytes(b"\0" * (st.f_bavail * st.f_frsize - free))


def test_04_disk_full_during_eval_keeps_the_previous_result(tmp_path, capsys, monkeypatch):
    sr, hr = _lr_set(tmp_path / "sr", shape=(16, 16, 3)), _lr_set(tmp_path / "hr", seed=1, shape=(16, 16, 3))
    with _small_disk(tmp_path / "disk") as disk:
        out = (disk or tmp_path / "disk") / "ev"
        ev = ["eval", str(sr), str(hr), "--out", str(out), "--metrics", "psnr", "--workers", "1"]
        assert main([*ev, "--method", "old"]) == 0
        before = {p.name: p.read_bytes() for p in out.iterdir()}
        _lr_set(sr, seed=7, shape=(16, 16, 3))  # new SR images: new per-image scores
        if disk is not None:
            # one page free: the old code's in-place writes fit per_image.csv and lock.json (each replacing its
            # old page) but not the new aggregate.json, which a long method name makes two pages long
            _leave_free(disk, 4096)
        else:  # no mount here: the disk fills while aggregate.json is written, the narrowest point
            import lgcaa.io

            real = lgcaa.io.write_text

            def full(dest, text):
                if Path(dest).name == "aggregate.json":
                    raise OSError(errno.ENOSPC, "No space left on device")
                real(dest, text)

            monkeypatch.setattr(lgcaa.io, "write_text", full)
        capsys.readouterr()
        assert main([*ev, "--method", "new" * 1500]) == 2
        err = _one_line_error(capsys)
        assert str(out) in err and "No space left on device" in err and "disk is full" in err
        assert {p.name: p.read_bytes() for p in out.iterdir()} == before
        assert sorted(p.name for p in out.parent.iterdir() if p.name != "filler") == ["ev"]  # no staging left


# --- 7. YAML aliases refused before validating ----------------------------------------------------------------


def test_07_billion_laughs_config_is_refused_at_once(tmp_path, python_bin):
    levels = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    levels += [f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]" for p, c in zip("abcdefgh", "bcdefghi")]
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("\n".join(levels) + "\nprofile: bomb\nmethods: *i\n")  # 9^9 = 387 M strings once expanded
    res = subprocess.run([python_bin, "-m", "lgcaa", "config", "validate", str(bomb)], capture_output=True, text=True,
                         timeout=60, check=False)  # hung (jsonschema walking the expansion) before
    assert res.returncode == 2, res.stderr[-2000:]
    assert res.stderr.count("\n") == 1 and f"{bomb}: line 1: YAML anchors and aliases" in res.stderr


# --- 8. links: http(s) only ------------------------------------------------------------------------------------


def test_08_mlflow_ui_must_be_http(tmp_path, capsys):
    runs = tmp_path / "runs.json"
    runs.write_text(json.dumps({"tracking_uri": f"sqlite:///{tmp_path / 'mlflow.db'}", "runs": {}}))
    links = ["report", "links", "--runs", str(runs), "--out", str(tmp_path / "links.json")]
    assert main([*links, "--ui", "javascript:alert(document.cookie)//"]) == 2
    assert "--ui: 'javascript:alert(document.cookie)//' is not an http(s) URL" in _one_line_error(capsys)
    assert not (tmp_path / "links.json").exists()
    assert main([*links, "--ui", "https://mlflow.example.org/"]) == 0

    from lgcaa.config import load_config

    cfg = load_config("mini")
    cfg["report"]["mlflow_ui"] = "javascript:alert(1)"
    profile = tmp_path / "p.json"
    profile.write_text(json.dumps(cfg))
    assert main(["config", "validate", str(profile)]) == 2
    assert "report/mlflow_ui" in _one_line_error(capsys)


# --- 6. downloads: a minimum rate, then resume ---------------------------------------------------------------


def test_06_a_trickling_server_is_cut_at_the_minimum_rate_and_the_part_resumes(tmp_path, monkeypatch):
    from loopback import LoopbackFiles

    from lgcaa.download import DownloadError, download, part_path

    for k in ("HF_HUB_OFFLINE", "LGCAA_OFFLINE"):
        monkeypatch.delenv(k, raising=False)
    data = os.urandom(300_000)
    dest = tmp_path / "w.bin"
    with LoopbackFiles() as srv:
        srv.files["/w.bin"] = data
        srv.drip["/w.bin"] = (100_000, 0.2)  # then 5 bytes/s: each read arrives well within any timeout
        t0 = time.monotonic()
        with pytest.raises(DownloadError, match=r"under the minimum rate of 1000 bytes/s") as exc:
            download(srv.url("/w.bin"), dest, size=len(data), retries=1, min_rate=1000, window=1.0)
        assert time.monotonic() - t0 < 20  # hung forever before (the 60 s timeout is per read)
        kept = part_path(dest).stat().st_size
        assert kept >= 100_000 and f"{kept} bytes kept in {part_path(dest)}, rerun to resume" in str(exc.value)
        srv.drip.clear()
        download(srv.url("/w.bin"), dest, size=len(data), min_rate=1000, window=1.0)
        assert dest.read_bytes() == data and srv.ranges()[-1] == f"bytes={kept}-"


def test_06_the_minimum_rate_is_stated_in_help(capsys):
    for argv in (["data", "fetch", "--help"], ["weights", "fetch", "--help"]):
        with pytest.raises(SystemExit):
            main(argv)
        assert "bytes/s over 60 s is cut and retried" in " ".join(capsys.readouterr().out.split())


# --- 5. mlflow-sync after kill -9 ----------------------------------------------------------------------------


def test_05_sync_after_a_kill_replaces_the_half_logged_run(tmp_path, monkeypatch, capsys):
    from mlflow.tracking import MlflowClient

    from lgcaa.mlflow_store import artifact_repo, tracking_uri
    from lgcaa.tracking import write_record

    monkeypatch.chdir(tmp_path)
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "x.settings.json").write_text("{}\n")
    record = write_record("results/x.run.json", experiment="t/sr", run_name="sr:x:ds", params={"method": "x"},
                          metrics={"seconds": 1.5}, artifacts=["results/x.settings.json"])
    # a real SIGKILL of a sync process at its first log call: the run and its parent exist, nothing logged
    killer = ("import os, signal, mlflow.tracking\n"
              "mlflow.tracking.MlflowClient.log_batch = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)\n"
              "from lgcaa.mlflow_store import sync_records\n"
              f"sync_records([{str(record)!r}], 'results')\n")
    res = subprocess.run([sys.executable, "-c", killer], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                         check=False)
    assert res.returncode == -signal.SIGKILL, res.stderr[-2000:]
    client = MlflowClient(tracking_uri(tmp_path / "results"))
    exps = [e.experiment_id for e in client.search_experiments()]
    assert client.search_runs(exps, filter_string="attributes.status = 'RUNNING'")  # what the kill left

    assert main(["mlflow-sync", str(record), "--results", "results", "--out", "results/runs.json"]) == 0
    rid = json.loads((tmp_path / "results" / "runs.json").read_text())["runs"][str(record)]
    run = client.get_run(rid)
    assert run.info.status == "FINISHED" and run.data.params["method"] == "x" and run.data.metrics["seconds"] == 1.5
    assert [a.path for a in artifact_repo("results", run.info.artifact_uri).list_artifacts()] == ["x.settings.json"]
    assert not client.search_runs(exps, filter_string="attributes.status = 'RUNNING'")  # parents ended too
    assert len(client.search_runs(exps, filter_string="tags.`lgcaa.record_key` != ''")) == 1


# --- 9. one line, not a traceback -----------------------------------------------------------------------------


def test_09_bad_configs_and_image_folders_are_one_line(tmp_path, capsys):
    bad_yaml, bad_json = tmp_path / "bad.yaml", tmp_path / "bad.json"
    bad_yaml.write_text("profile: x\nmetrics: [psnr,\n")
    bad_json.write_text('{"profile": ')
    assert main(["config", "validate", str(bad_yaml)]) == 2
    assert f"{bad_yaml}: not valid YAML (line 3, column 1" in _one_line_error(capsys)
    assert main(["config", "validate", str(bad_json)]) == 2
    assert f"{bad_json}: not valid JSON (line 1, column 13: Expecting value)" in _one_line_error(capsys)

    sr, hr = _lr_set(tmp_path / "sr", shape=(16, 16, 3)), _lr_set(tmp_path / "hr", seed=1, shape=(16, 16, 3))
    ev = ["eval", str(sr), str(hr), "--metrics", "psnr", "--workers", "1"]
    (sr / "zz.png").mkdir()
    assert main(ev) == 2
    assert f"{sr / 'zz.png'}: named like an image but a folder" in _one_line_error(capsys)
    (sr / "zz.png").rmdir()
    (sr / "zz.png").symlink_to(tmp_path / "gone.png")
    assert main(ev) == 2
    assert f"{sr / 'zz.png'}: named like an image but a link to nothing" in _one_line_error(capsys)
    (sr / "zz.png").unlink()

    with _small_disk(tmp_path / "ro", options="ro") as ro:
        if ro is None:  # no mount here: a folder without write permission (root would ignore it)
            if os.geteuid() == 0:
                pytest.skip("root without mount: no way to make a read-only folder")
            ro = tmp_path / "ro"
            ro.chmod(0o555)
        assert main([*ev, "--out", str(ro / "ev")]) == 2
        err = _one_line_error(capsys)
        assert f"{ro / 'ev'}: " in err and ("read-only" in err or "permission denied" in err)


def test_09_corrupt_or_locked_mlflow_database_is_one_line(tmp_path, monkeypatch, capsys):
    import sqlite3

    from lgcaa.tracking import write_record

    monkeypatch.chdir(tmp_path)
    record = str(write_record("results/x.run.json", experiment="t/sr", run_name="x", params={"a": 1}))
    sync = ["mlflow-sync", record, "--results", "results", "--out", "results/runs.json"]
    (tmp_path / "results" / "mlflow.db").write_bytes(os.urandom(8192))
    assert main(sync) == 2
    assert "results/mlflow.db: not a valid sqlite database (file is not a database)" in _one_line_error(capsys)

    sync = ["mlflow-sync", record, "--results", "store", "--out", "store/runs.json"]  # a new store (MLflow caches)
    assert main(sync) == 0
    capsys.readouterr()
    lock = sqlite3.connect(tmp_path / "store" / "mlflow.db", isolation_level=None)
    lock.execute("BEGIN EXCLUSIVE")  # another process writing
    monkeypatch.setenv("LGCAA_MLFLOW_BUSY_SECONDS", "0.5")  # the sync waits that long for it (20 s by default)
    try:
        assert main([sync[0], str(write_record("results/y.run.json", experiment="t/sr", run_name="y",
                                               params={"a": 2})), *sync[2:]]) == 2
    finally:
        lock.close()
    assert "store/mlflow.db: database is locked" in _one_line_error(capsys)
    monkeypatch.setenv("LGCAA_MLFLOW_BUSY_SECONDS", "soon")
    assert main(sync) == 2
    assert "$LGCAA_MLFLOW_BUSY_SECONDS='soon': not a number of seconds" in _one_line_error(capsys)


# --- 10. minors ---------------------------------------------------------------------------------------------


def test_10_mlflow_sync_from_another_folder_is_refused(tmp_path, monkeypatch, capsys):
    from lgcaa.tracking import write_record

    project, other = tmp_path / "project", tmp_path / "elsewhere"
    (project / "results").mkdir(parents=True)
    other.mkdir()
    (project / "results" / "x.settings.json").write_text("{}\n")
    monkeypatch.chdir(project)
    record = write_record("results/x.run.json", experiment="t/sr", run_name="x", params={"a": 1},
                          artifacts=["results/x.settings.json"])
    monkeypatch.chdir(other)
    assert main(["mlflow-sync", str(project / record), "--results", str(project / "results"),
                 "--out", str(project / "results" / "runs.json")]) == 2
    assert "its artifact results/x.settings.json is not there from" in _one_line_error(capsys)
    assert not (project / "results" / "runs.json").exists()


def test_10_download_and_archive_messages_say_what_happened(tmp_path, monkeypatch):
    import zipfile

    from loopback import LoopbackFiles

    from lgcaa.data.archive import extract_tree
    from lgcaa.download import DownloadError, download
    from lgcaa.errors import UserError

    for k in ("HF_HUB_OFFLINE", "LGCAA_OFFLINE"):
        monkeypatch.delenv(k, raising=False)
    with LoopbackFiles() as srv:
        srv.redirects.update({"/a": "/b", "/b": "/a"})
        with pytest.raises(DownloadError) as exc:
            download(srv.url("/a"), tmp_path / "a.bin", size=3, retries=0)
    assert "redirects in a loop or too many times" in str(exc.value) and "http(s)" not in str(exc.value)
    assert "\n" not in str(exc.value)

    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("set/zeros.png", b"\0" * 2_000_000)
    with pytest.raises(UserError, match=r"declares 2000000 bytes of content, more than the cap of \d+ bytes \("):
        extract_tree(bomb, "set", tmp_path / "out")

    clash = tmp_path / "clash.zip"
    with zipfile.ZipFile(clash, "w") as zf:
        zf.writestr("set/a", b"file")
        zf.writestr("set/a/b.png", b"inside a folder of the same name")
    with pytest.raises(UserError, match=r"member 'set/a/b.png' clashes with another member"):
        extract_tree(clash, "set", tmp_path / "out2")


def test_10_absurd_training_values_are_refused(tmp_path, capsys):
    import yaml

    from lgcaa.config import load_config

    for key, value, message in (("lr", float("inf"), "lr must be in (0, 1.0]"),
                                ("steps", 10**9, "steps must be in 1..10000000")):
        cfg = load_config("mini")
        cfg["model"]["train"][key] = value
        profile = tmp_path / f"{key}.yaml"
        profile.write_text(yaml.safe_dump(cfg))
        assert main(["config", "validate", str(profile)]) == 2
        assert message in _one_line_error(capsys)
