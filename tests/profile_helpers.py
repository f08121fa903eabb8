"""Helpers shared by tests that write their own profile configs (not a test module)."""

from __future__ import annotations

import json


def mini_profile() -> dict:
    """The packaged mini profile as a dict, with only the tables that do not depend on its `model.runs`,
    so a test may replace the model section and still validate."""
    from lgcaa.config import load_config

    cfg = json.loads(json.dumps(load_config("mini")))
    cfg["tables"] = {"table1": {"datasets": cfg["tables"]["table1"]["datasets"], "methods": cfg["methods"]}}
    return cfg


# A 2-step tiny LGCAA run on one photo: trained once per session by conftest's `tiny_run_dir` fixture.
TINY_RUN_SECTION = {
    "model": {"arch": "tiny", "window": 4, "lpips_backbone": "random (offline)"},
    "train": {"steps": 2, "batch_size": 2, "micro_batch": 2, "hr_size": 64, "degradation": "bicubic",
              "photos": ["astronaut"], "checkpoint_every": 2},
    "sample": {"steps": 3, "batch_size": 2},
}
