"""A throw-away metric, baseline, attention variant and dataset, added through their registries alone.

`register()` adds one entry to each registry (lgcaa.metrics.registry.METRICS, baselines.registry.BASELINES,
lgcaa.model.variants.ATTENTION_VARIANTS, lgcaa.data.registry.DATASETS) and nothing else; `unregister()` takes
them out again. `profile(tmp)` is a mini-based profile that uses all four. Imported by
tests/test_registration.py in-process and, for the DAG's dry run, in the Snakemake subprocess
(`python -c "import throwaway; throwaway.register(); ..."`).
"""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from typing import Any

METRIC, BASELINE, VARIANT, DATASET = "throwaway-psnr", "throwaway-up", "throwaway-attn", "throwaway-set"


def _nearest(settings: dict[str, Any], threads: int, weights: dict[str, Path]):
    s = settings["scale"]
    return lambda lr: lr.repeat(s, axis=0).repeat(s, axis=1)


def register() -> None:
    from baselines.registry import BASELINES, Baseline
    from lgcaa.config import _schema_text
    from lgcaa.data.registry import DATASETS
    from lgcaa.metrics.registry import METRICS
    from lgcaa.model.variants import ATTENTION_VARIANTS

    METRICS[METRIC] = dataclasses.replace(METRICS["psnr"], name=METRIC, label="PSNR-T", decimals=3)
    BASELINES[BASELINE] = Baseline(
        name=BASELINE, family="classical", scale=4, runs="in-process, nearest-neighbour repeat", source={},
        defaults={"scale": 4}, licence="n/a", make_upscaler=_nearest, offline=True,
    )
    ATTENTION_VARIANTS[VARIANT] = dataclasses.replace(ATTENTION_VARIANTS["local"], name=VARIANT, label="Throw-away")
    DATASETS[DATASET] = dataclasses.replace(DATASETS["realsr"], name=DATASET, title="Throw-away set", paper_label=None,
                                            urls=("http://127.0.0.1:9/throwaway.zip",), archive="throwaway.zip")
    _schema_text.cache_clear()


def unregister() -> None:
    from baselines.registry import BASELINES
    from lgcaa.config import _schema_text
    from lgcaa.data.registry import DATASETS
    from lgcaa.metrics.registry import METRICS
    from lgcaa.model.variants import ATTENTION_VARIANTS

    for registry, name in ((METRICS, METRIC), (BASELINES, BASELINE), (ATTENTION_VARIANTS, VARIANT),
                           (DATASETS, DATASET)):
        registry.pop(name, None)
    _schema_text.cache_clear()


def profile(tmp: Path) -> dict[str, Any]:
    """The mini profile plus: dataset `throw-ds` from the registry's throw-away set, the throw-away baseline
    (Table I), the throw-away metric, and an LGCAA run with the throw-away attention variant (Table II)."""
    from lgcaa.config import load_config

    cfg = copy.deepcopy(load_config("mini"))
    cfg["paths"] = {"data": str(tmp / "data"), "results": str(tmp / "results")}
    cfg["datasets"]["throw-ds"] = {"source": DATASET, "lr": "released", "expected_count": 4}
    cfg["model"]["runs"]["lgcaa"]["datasets"].append("throw-ds")  # Table I has an LGCAA column on every dataset
    cfg["methods"] = [*cfg["methods"], BASELINE]
    cfg["metrics"] = [*cfg["metrics"], METRIC]
    cfg["model"]["runs"]["lgcaa-attn-throwaway"] = {
        "model": {"attention": VARIANT}, "train": {"steps": 40}, "sample": {"steps": 20}, "datasets": ["mini-realesrgan"],
    }
    t = cfg["tables"]
    t["table1"]["datasets"] = [*t["table1"]["datasets"], "throw-ds"]
    t["table1"]["methods"] = [*t["table1"]["methods"], BASELINE]
    t["table2"]["rows"].append({"module": "LGCAA", "variant": VARIANT, "method": "lgcaa-attn-throwaway"})
    t["table2"]["metrics"] = ["psnr", METRIC]
    return cfg
