"""The `lgcaa` entry point: instant help (no heavy imports) and one-line errors for bad input."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("torch", "pyiqa", "basicsr", "diffusers", "mlflow", "transformers", "pandas")


def test_help_imports_nothing_heavy():
    code = (
        "import sys\nfrom lgcaa.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\nprint('HEAVY', heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "HEAVY []" in out
    for cmd in ("data", "sr", "eval", "table", "mlflow-sync", "weights", "baselines", "train", "sample", "bench"):
        assert cmd in out


def test_bad_input_is_one_line_naming_file(tmp_path):
    lr = tmp_path / "lr"
    lr.mkdir()
    (lr / "broken.png").write_bytes(b"not a png at all")
    res = subprocess.run(
        [sys.executable, "-m", "lgcaa", "sr", "--method", "bicubic", "--lr-dir", str(lr), "--out-dir", str(tmp_path / "out")],
        capture_output=True, text=True,
    )
    assert res.returncode == 2
    lines = [l for l in res.stderr.splitlines() if l.strip() and not l.startswith(("bicubic:", "\r"))]
    assert len(lines) == 1, res.stderr
    assert "broken.png" in lines[0] and "cannot decode image" in lines[0]


def test_unknown_metrics_all_named_with_suggestions(tmp_path):
    res = subprocess.run([sys.executable, "-m", "lgcaa", "eval", str(tmp_path), str(tmp_path), "--metrics", "psnrr,ssmi"],
                         check=False, capture_output=True, text=True)
    assert res.returncode == 2
    assert "'psnrr' (did you mean 'psnr'?), 'ssmi' (did you mean 'ssim'?)" in res.stderr, res.stderr


def test_eval_on_missing_sr_folder_names_the_job_that_makes_it(tmp_path):
    res = subprocess.run([sys.executable, "-m", "lgcaa", "eval", "--config", "mini", "--dataset", "mini-bicubic",
                          "--method", "bicubic"], check=False, capture_output=True, text=True, cwd=tmp_path)
    assert res.returncode == 2
    assert "rule `sr`" in res.stderr and "lgcaa sr --config mini --dataset mini-bicubic --method bicubic" in res.stderr
    assert "fetch the dataset" not in res.stderr
