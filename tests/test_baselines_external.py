"""Diffusion baselines up to the external call: command line, environment, links, output collection, counts.

The authors' scripts need a GPU, their checkout and multi-GB weights; here each is replaced by a stand-in
script written below, placed where the real one lives in the checkout, run by this interpreter as the
"environment". The stand-in parses the real command line (the input/output flags are read off the registry's
template), writes a nearest-neighbour x4 of every input under the script's output layout, and can skip
images the way PASD's `except Exception: continue` does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from baselines.install import ENV_MARKER, checkout_dir, env_dir
from baselines.registry import BASELINES, get, resolve_settings
from baselines.run import RunContext, run_method
from baselines.status import missing_record
from lgcaa.errors import UserError
from lgcaa.io import list_images, read_rgb, write_png
from lgcaa.weights import manager
from lgcaa.weights.roots import root_of

DIFFUSION = ["ldm", "stablesr", "resshift", "pasd", "seesr"]

STANDIN = r'''
import json, os, sys
from pathlib import Path
from PIL import Image

argv = sys.argv[1:]
def value(flag):
    return argv[argv.index(flag) + 1]

src, out = Path(value(os.environ["STANDIN_IN"])), Path(value(os.environ["STANDIN_OUT"])) / os.environ["STANDIN_SUBDIR"]
out.mkdir(parents=True, exist_ok=True)
config = Path(value("--config")) if "--config" in argv else None
Path(os.environ["STANDIN_LOG"]).write_text(json.dumps(
    {"argv": sys.argv, "cwd": os.getcwd(), "config": config.read_text() if config and config.is_file() else None}))
skip = set(filter(None, os.environ.get("STANDIN_SKIP", "").split(",")))
for name in sorted(os.listdir(src)):
    if name in skip:
        print("CUDA out of memory", name)  # PASD prints the exception and continues
        continue
    im = Image.open(src / name).convert("RGB")
    im.resize((im.width * 4, im.height * 4), Image.NEAREST).save(out / (Path(name).stem + ".png"))
'''


def weight_path(w, cache):
    return root_of(w, cache) / w.dest


def _template_flag(name: str, placeholder: str) -> str:
    argv = list(BASELINES[name].external.argv)
    return argv[argv.index(placeholder) - 1]


@pytest.fixture
def lr_dir(tmp_path) -> Path:
    from skimage import data

    folder = tmp_path / "data" / "ds" / "lr"
    write_png(folder / "a.png", np.ascontiguousarray(data.astronaut()[::16, ::16]))  # 32x32
    write_png(folder / "b.png", np.ascontiguousarray(data.chelsea()[::20, ::20]))  # 15x23
    return folder


def prepare(tmp_path: Path, name: str, monkeypatch, skip: str = "") -> Path:
    """A cache holding a stand-in checkout, this python as the environment, placeholder weight files."""
    b = get(name)
    cache = tmp_path / "cache"
    co = checkout_dir(cache, name, b.external.commit)
    (co / b.external.script).parent.mkdir(parents=True, exist_ok=True)
    (co / b.external.script).write_text(STANDIN)
    if b.external.config_patch:
        rel, overrides = b.external.config_patch
        cfg: dict = {}
        for dotted in overrides:
            node = cfg
            *parents, last = dotted.split(".")
            for key in parents:
                node = node.setdefault(key, {})
            node[last] = "/authors/cluster/path.ckpt"
        (co / rel).parent.mkdir(parents=True, exist_ok=True)
        (co / rel).write_text(json.dumps(cfg))  # JSON is YAML
    env = env_dir(cache, name)
    (env / "bin").mkdir(parents=True)
    (env / "bin" / "python").write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')  # this venv's python
    (env / "bin" / "python").chmod(0o755)
    (env / ENV_MARKER).write_text("stand-in\n")
    for w in b.weights:
        p = weight_path(w, cache)
        if Path(w.name).suffix:  # a file
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(b"placeholder")
        else:  # a model folder
            (p / "unet").mkdir(parents=True)
            (p / "unet" / "config.json").write_text("{}")
        if w.sha256 is None:  # the user's explicit trust in files without a published digest
            manager.pin(w, manager.content_digest(p), cache)
    monkeypatch.setenv("STANDIN_IN", _template_flag(name, "{input}"))
    monkeypatch.setenv("STANDIN_OUT", _template_flag(name, "{output}"))
    monkeypatch.setenv("STANDIN_SUBDIR", b.external.output_subdir)
    monkeypatch.setenv("STANDIN_LOG", str(tmp_path / "standin.json"))
    monkeypatch.setenv("STANDIN_SKIP", skip)
    return cache


@pytest.mark.parametrize("name", DIFFUSION)
def test_external_runner_plumbing(name, tmp_path, lr_dir, monkeypatch):
    cache = prepare(tmp_path, name, monkeypatch)
    out = tmp_path / "results" / "sr" / "ds" / name
    settings = resolve_settings(name)
    ctx = RunContext(cache, tmp_path / "imports", dataset="ds", seed=7, gpu=True)
    summary = run_method(name, lr_dir, out, settings, ctx)

    assert summary["runner"] == "external" and summary["n_images"] == 2
    for lr in sorted(lr_dir.iterdir()):  # dataset names, x4 sizes, collected from the script's layout
        got, want = read_rgb(out / lr.name), read_rgb(lr)
        assert got.shape == (want.shape[0] * 4, want.shape[1] * 4, 3)
        np.testing.assert_array_equal(got[::4, ::4], want)
    assert not (out.parent / f".{name}.external").exists()  # staging removed after collection
    log = json.loads((tmp_path / "standin.json").read_text())
    argv = log["argv"]
    assert argv == summary["command"][1:]  # the stand-in saw exactly the rendered command line
    assert Path(log["cwd"]) == checkout_dir(cache, name, get(name).external.commit).resolve()
    seed = "42" if name in ("ldm", "stablesr") else "12345" if name == "resshift" else "7"
    assert argv[argv.index("--seed") + 1] == seed  # authors' seed where set, the harness seed where unset
    for rel, weight in get(name).external.links:  # hard-coded paths of the authors' code point at our weights
        co = checkout_dir(cache, name, get(name).external.commit)
        assert (co / rel).resolve() == weight_path(next(w for w in get(name).weights if w.name == weight), cache).resolve()
    expected = {
        "ldm": ["--ddim_steps", "200", "--ddim_eta", "1.0", "--color_fix"],
        "stablesr": ["--ddpm_steps", "200", "--dec_w", "0.5", "--colorfix_type", "adain"],
        "resshift": ["--task", "realsrx4", "--chop_size", "512"],
        "pasd": ["--upscale", "4", "--num_inference_steps", "20", "--guidance_scale", "9.0"],
        "seesr": ["--num_inference_steps", "50", "--guidance_scale", "5.5", "--align_method", "adain"],
    }[name]
    joined = " ".join(argv)
    assert all(tok in argv for tok in expected) and " ".join(expected[:2]) in joined
    if name == "seesr":  # empty prompt, not the README's literal 'None' (fixed upstream in bd371a8)
        assert argv[argv.index("--prompt") + 1] == ""
    if name == "ldm":  # the patched copy of the authors' config clears their cluster checkpoint paths
        import yaml

        cfg = yaml.safe_load(log["config"])
        assert cfg["model"]["params"]["ckpt_path"] is None
        assert cfg["model"]["params"]["first_stage_config"]["params"]["ckpt_path"] is None


def test_pasd_skipped_image_fails_the_count_then_resumes(tmp_path, lr_dir, monkeypatch):
    cache = prepare(tmp_path, "pasd", monkeypatch, skip="b.png")
    out = tmp_path / "results" / "sr" / "ds" / "pasd"
    ctx = RunContext(cache, tmp_path / "imports", dataset="ds", seed=0, gpu=True)
    with pytest.raises(UserError, match=r"pasd wrote 1 of 2 images, missing b\.png") as exc:
        run_method("pasd", lr_dir, out, resolve_settings("pasd"), ctx)
    assert "\n" not in str(exc.value)
    assert not out.exists() or not list_images(out)  # nothing collected from a short run (only its resume key)
    assert "CUDA out of memory b.png" in (out.parent / "pasd.external.log").read_text()
    monkeypatch.setenv("STANDIN_SKIP", "")
    assert run_method("pasd", lr_dir, out, resolve_settings("pasd"), ctx)["n_images"] == 2


def test_cli_reports_what_is_missing_in_one_line(tmp_path, lr_dir):
    """This machine: no checkout, no environment, no weights (and no GPU here) -> exit 2, one line, cell missing."""
    results = tmp_path / "results"
    out = results / "sr" / "ds" / "seesr"
    res = subprocess.run(
        [sys.executable, "-m", "lgcaa", "sr", "--method", "seesr", "--dataset", "ds", "--lr-dir", str(lr_dir),
         "--out-dir", str(out), "--cache-dir", str(tmp_path / "cache"), "--imports", str(tmp_path / "imports"),
         "--record", str(results / "sr" / "ds" / "seesr.run.json")],
        capture_output=True, text=True, check=False,
    )
    assert res.returncode == 2
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, res.stderr
    for part in ("seesr cannot run here", "checkout", "DAPE.pth", "lgcaa baselines setup seesr", "lgcaa weights fetch seesr"):
        assert part in lines[0]
    assert not out.exists() and not (out.parent / "seesr.run.json").exists()
    state = json.loads(missing_record(out).read_text())
    assert "DAPE.pth" in state["reason"] and "lgcaa baselines setup seesr" in state["fix"]


def test_a_successful_run_clears_the_missing_record(tmp_path, lr_dir):
    results = tmp_path / "results"
    out = results / "sr" / "ds" / "bicubic"
    (results / "sr" / "ds").mkdir(parents=True)
    (results / "sr" / "ds" / "bicubic.missing.json").write_text('{"reason": "old", "fix": "old"}')
    subprocess.run([sys.executable, "-m", "lgcaa", "sr", "--method", "bicubic", "--dataset", "ds", "--lr-dir", str(lr_dir),
                    "--out-dir", str(out), "--record", str(results / "sr" / "ds" / "bicubic.run.json")],
                   capture_output=True, text=True, check=True)
    assert not missing_record(out).exists() and not (out.parent / "bicubic.missing.json").exists()
    assert len(list(out.glob("*.png"))) == 2
    settings = json.loads((out.parent / "bicubic.settings.json").read_text())
    assert settings["runner"] == "in-process" and settings["settings"] == {"scale": 4}
    record = json.loads((out.parent / "bicubic.run.json").read_text())
    assert record["params"]["setting.scale"] == 4 and record["params"]["runner"] == "in-process"


def test_sr_job_writes_settings_and_its_record_or_the_missing_record(tmp_path, lr_dir):
    from baselines.run import SrRun, run_sr_job, sr_line, write_sr_record

    out = tmp_path / "results" / "sr" / "ds" / "bicubic@seed1"
    r = SrRun("bicubic", "bicubic@seed1", "", lr_dir, out, {}, 3, tmp_path / "cache", tmp_path / "imports")
    summary = run_sr_job(r, 1, tmp_path / "rec.json", "t/sr")
    assert sr_line(r, summary).startswith(f"{out}: 2 images (in-process, 2 computed, ") and sr_line(r, summary)[-1] == ")"
    rec = json.loads((tmp_path / "rec.json").read_text())
    assert rec["experiment"] == "t/sr" and rec["run_name"] == "sr:bicubic@seed1:"
    assert rec["params"]["instance"] == "bicubic@seed1" and rec["params"]["setting.scale"] == 4
    assert rec["params"]["seed"] == json.loads((out.parent / "bicubic@seed1.settings.json").read_text())["seed"]
    assert [i["name"] for i in rec["inputs"]] == ["ds/lr", "ds/sr/bicubic@seed1"]  # no dataset: the LR's parent
    assert set(rec["metrics"]) == {"n_images", "n_computed", "seconds", "seconds_per_image"}
    summary = {"runner": "external", "command": ["python", "infer.py"], "import": {"n_images": 2}, "ok": True,
               "weights": [{"file": "w.pth", "sha256": "ab"}], "n_images": 2}
    write_sr_record(tmp_path / "r2.json", r, get("bicubic"), {"scale": 4}, 7, summary, out.parent / "s.json")
    rec = json.loads((tmp_path / "r2.json").read_text())
    assert rec["params"]["command"] == "python infer.py" and rec["params"]["import.n_images"] == 2
    assert rec["params"]["weights.w.pth.sha256"] == "ab" and rec["params"]["seed"] == 7
    assert rec["metrics"] == {"n_images": 2} and rec["artifacts"] == [str(out.parent / "s.json")]  # no booleans
    seesr = SrRun("seesr", "seesr", "ds", lr_dir, tmp_path / "sr" / "seesr", {}, 0, tmp_path / "cache",
                  tmp_path / "imports")
    with pytest.raises(UserError, match="seesr cannot run here"):
        run_sr_job(seesr, 1, tmp_path / "r3.json")
    assert "lgcaa baselines setup seesr" in json.loads(missing_record(seesr.out_dir).read_text())["fix"]
    assert not (tmp_path / "r3.json").exists() and not (tmp_path / "sr" / "seesr.settings.json").exists()


def _git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=cwd,
                          capture_output=True, text=True, check=True).stdout.strip()


def test_git_checkout_pins_the_commit(tmp_path):
    from baselines.install import COMMIT_FILE, git_checkout

    upstream = tmp_path / "upstream"
    upstream.mkdir()
    _git("init", "-q", cwd=upstream)
    (upstream / "infer.py").write_text("v1\n")
    _git("add", ".", cwd=upstream)
    _git("commit", "-qm", "one", cwd=upstream)
    first = _git("rev-parse", "HEAD", cwd=upstream)
    (upstream / "infer.py").write_text("v2\n")
    _git("commit", "-qam", "two", cwd=upstream)

    dest = tmp_path / "cache" / "src" / "x"
    assert git_checkout(str(upstream), first[:12], dest) == first
    assert (dest / "infer.py").read_text() == "v1\n" and (dest / COMMIT_FILE).read_text().strip() == first
    assert git_checkout(str(upstream), first, dest) == first  # idempotent
    with pytest.raises(UserError, match="not the pinned"):
        git_checkout(str(upstream), "0" * 40, dest)
    with pytest.raises(UserError, match="checkout of"):
        git_checkout(str(upstream), "0" * 40, tmp_path / "other")
    assert not (tmp_path / "other").exists()


def test_setup_without_conda_names_the_fix(tmp_path, monkeypatch):
    from baselines.install import conda_command

    monkeypatch.setenv("PATH", str(tmp_path))  # an empty PATH: no conda, mamba or micromamba
    with pytest.raises(UserError, match="Miniforge"):
        conda_command()


def test_config_patch_refuses_unknown_keys(tmp_path):
    from baselines.external import patch_config

    src = tmp_path / "c.yaml"
    src.write_text("model:\n  params:\n    ckpt_path: /x\n")
    patch_config(src, tmp_path / "out.yaml", {"model.params.ckpt_path": None})
    assert "ckpt_path: null" in (tmp_path / "out.yaml").read_text()
    with pytest.raises(UserError, match="has no 'model.first.ckpt_path'"):
        patch_config(src, tmp_path / "out.yaml", {"model.first.ckpt_path": None})
    assert os.path.exists(src)
