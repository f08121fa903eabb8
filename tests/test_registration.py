"""Adding a metric, a baseline, an attention variant and a dataset takes one registry entry each.

tests/throwaway.py registers one of each through its registry alone (no other file changes); these tests show
that each one then flows into the profile schema, the DAG's dry run and a rendered table, and that without the
registry entries the same profile is refused, naming them.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import throwaway
from test_tables import write_eval

from lgcaa.config import load_config
from lgcaa.errors import UserError
from lgcaa.metrics.job import eval_job

REPO = Path(__file__).resolve().parents[1]
NEW = (throwaway.METRIC, throwaway.BASELINE, throwaway.VARIANT, throwaway.DATASET)


@pytest.fixture
def registered():
    throwaway.register()
    yield
    throwaway.unregister()


def test_each_addition_reaches_the_schema(tmp_path):
    from lgcaa.config import registry_enums, schema, validate

    cfg = throwaway.profile(tmp_path)
    throwaway.register()
    try:
        enums = registry_enums()
        assert throwaway.METRIC in enums["metrics"] and throwaway.DATASET in enums["dataset-sources"]
        assert throwaway.BASELINE in enums["baselines"] and throwaway.VARIANT in enums["ablation-variants"]
        assert throwaway.BASELINE in schema()["properties"]["baselines"]["properties"]
        validate(cfg, source="throw-away profile")
    finally:
        throwaway.unregister()
    with pytest.raises(UserError, match="throwaway"):
        validate(cfg, source="throw-away profile")


def _dry_run(tmp: Path, cfg: dict, register: bool) -> subprocess.CompletedProcess:
    config = tmp / "config.json"
    config.write_text(json.dumps(cfg))
    setup = "import throwaway; throwaway.register(); " if register else ""
    code = (f"import sys; {setup}from snakemake.cli import main; "
            f"main(['--snakefile', {str(REPO / 'Snakefile')!r}, '--directory', {str(tmp)!r}, '--configfile', "
            f"{str(config)!r}, '--cores', '2', '-n', '-p', 'tables'])")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
           "PYTHONPATH": os.pathsep.join([str(REPO / "tests"), str(REPO), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False,
                          timeout=600)


def _jobs(out: str, rule: str) -> list[str]:
    """The wildcards line of every planned job of `rule`."""
    blocks = re.findall(rf"^rule {re.escape(rule)}:\n(.*?)(?:\n\n|\Z)", out, re.MULTILINE | re.DOTALL)
    return [m.group(1) for b in blocks for m in [re.search(r"wildcards: (.*)", b)] if m]


def test_each_addition_flows_into_the_dag(tmp_path):
    cfg = throwaway.profile(tmp_path)
    res = _dry_run(tmp_path, cfg, register=True)
    assert res.returncode == 0, res.stderr[-3000:]
    out = res.stdout + res.stderr
    assert "dataset=throw-ds" in _jobs(out, "data_fetch")  # the new dataset is fetched from its registry source
    sr = _jobs(out, "sr")
    for ds in cfg["datasets"]:
        assert f"dataset={ds}, method={throwaway.BASELINE}" in sr  # the new baseline runs everywhere
    assert "dataset=throw-ds, method=bicubic" in _jobs(out, "evaluate")
    assert "run=lgcaa-attn-throwaway" in _jobs(out, "train")  # the run with the new attention variant trains
    # the new metric reaches each evaluation job through the profile the job reads (`lgcaa eval --config`)
    assert f"eval --config {tmp_path / 'config.json'} --dataset throw-ds --method {throwaway.BASELINE}" in out
    throwaway.register()
    try:
        job = eval_job(load_config(str(tmp_path / "config.json")), "throw-ds", throwaway.BASELINE, "config.json")
    finally:
        throwaway.unregister()
    assert throwaway.METRIC in job.metrics and job.out == tmp_path / f"results/metrics/throw-ds/{throwaway.BASELINE}"
    without = _dry_run(tmp_path, cfg, register=False)
    assert without.returncode != 0
    assert "throwaway" in without.stdout + without.stderr  # refused at load, naming the unregistered name


def test_each_addition_flows_into_the_tables(tmp_path, registered):
    from lgcaa.config import validate
    from lgcaa.layout import Layout
    from lgcaa.tables.spec import build_spec
    from lgcaa.tables.write import write_table

    cfg = validate(throwaway.profile(tmp_path))
    for ds in cfg["datasets"].values():
        ds["expected_count"] = 4
    results = Path(cfg["paths"]["results"])
    values = {"psnr": [25.0, 25.5, 26.0, 26.5], throwaway.METRIC: [25.0, 25.5, 26.0, 26.5]}
    for name in ("table1", "table2"):
        for entry in build_spec(cfg, name).entries:
            write_eval(results, entry.dataset, entry.method, values)
    out = {name: write_table(build_spec(cfg, name), Layout.of(cfg), REPO / "results" / "paper", None, None, "t")
           for name in ("table1", "table2")}
    csv = out["table1"]["csv"].read_text().splitlines()
    assert throwaway.BASELINE in csv[0].split(",")  # a column for the new baseline
    assert any(line.startswith(f"throw-ds,{throwaway.METRIC},higher,") for line in csv)  # its dataset and metric
    md1 = out["table1"]["md"].read_text()
    assert "| throw-ds | PSNR-T ↑ | **25.750** |" in md1  # the metric's registry label and decimals
    md2 = out["table2"]["md"].read_text()
    assert "| LGCAA | Throw-away | **25.75** | **25.750** |" in md2  # the variant's row under its registry label
