"""The second hardening pass (issue 22), tried as a hostile or careless user would.

One test (or a few) per item; each failed on the code before the fix (350732c):
  1 `lgcaa sr` resumes only images of the same method, settings, weights, seed and LR images (sr.json)
  2 one decode rule for every entry point (eval's): `lgcaa baselines import` refuses RGBA, rounds 16-bit alike
Everything runs on CPU, offline (loopback HTTP only), in seconds.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from lgcaa.cli import main
from lgcaa.io import list_images, write_png


def _lr_set(folder: Path, n: int = 2, seed: int = 0, shape=(8, 10, 3)) -> Path:
    rng = np.random.default_rng(seed)
    for i in range(n):
        write_png(folder / f"im{i}.png", rng.integers(0, 255, shape, dtype=np.uint8))
    return folder


def _pixels(folder: Path) -> dict[str, bytes]:
    from PIL import Image

    return {p.name: np.asarray(Image.open(p)).tobytes() for p in list_images(folder)}


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err, err
    return err


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
