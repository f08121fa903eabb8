"""JSON schema of a profile's `model` section, derived from the settings dataclasses (lgcaa.model.config):
field names, types and the allowed values of every switch. `lgcaa.config.schema()` puts it into the profile
schema's `model` slot (`"x-lgcaa-settings": "model"`), so the schema never re-lists a name. Torch-free.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from lgcaa.data.photos import PHOTOS
from lgcaa.model.config import (
    _OPTIONAL,
    _SECTIONS,
    ARCHS,
    COLOR_FIXES,
    CROPS,
    DEGRADATIONS,
    DINO_INPUTS,
    DPACM_VARIANTS,
    LPIPS_BACKBONES,
    LR_SCHEDULES,
    MIXED_PRECISIONS,
    SAMPLE_PRECISIONS,
    START_POINTS,
    UNET_TRAINABLE,
    W1_SPACES,
    ModelConfig,
    PrepareConfig,
    SampleConfig,
    TrainConfig,
)
from lgcaa.model.variants import ATTENTION_VARIANTS, NORM_INITS

_ENUMS: dict[tuple[type, str], tuple[str, ...]] = {
    (ModelConfig, "arch"): ARCHS, (ModelConfig, "dpacm"): DPACM_VARIANTS,
    (ModelConfig, "lpips_backbone"): (*LPIPS_BACKBONES, "random"), (ModelConfig, "w1_on"): W1_SPACES,
    (ModelConfig, "unet_trainable"): UNET_TRAINABLE, (ModelConfig, "norm_init"): NORM_INITS,
    (ModelConfig, "dino_input"): DINO_INPUTS,
    (TrainConfig, "lr_schedule"): LR_SCHEDULES, (TrainConfig, "degradation"): DEGRADATIONS,
    (TrainConfig, "mixed_precision"): MIXED_PRECISIONS, (TrainConfig, "crop"): CROPS,
    (SampleConfig, "color_fix"): COLOR_FIXES, (SampleConfig, "precision"): SAMPLE_PRECISIONS,
    (SampleConfig, "start_point"): START_POINTS,
}


def _field_schema(cls: type, f: dataclasses.Field) -> dict[str, Any]:
    default = getattr(cls(), f.name)
    if f.name in _OPTIONAL:
        return {"type": [{str: "string", int: "integer", float: "number"}[_OPTIONAL[f.name]], "null"]}
    if (cls, f.name) == (ModelConfig, "attention"):  # read live: a variant added to the registry counts
        return {"enum": list(ATTENTION_VARIANTS)}
    if (cls, f.name) in _ENUMS:
        return {"enum": list(_ENUMS[(cls, f.name)])}
    if isinstance(default, bool):
        return {"type": "boolean"}
    if isinstance(default, (int, float)):
        return {"type": "integer" if isinstance(default, int) else "number"}
    if isinstance(default, tuple):
        items = {"enum": list(PHOTOS)} if f.name == "photos" else {"type": "number"}
        return {"type": "array", "items": items}
    return {"type": "string"}


def section_schema() -> dict[str, Any]:
    """JSON schema of a profile's `model` section, derived from the dataclasses above (field names, types, the
    allowed values of every switch): `lgcaa.config.schema()` fills the profile schema's `model` slot with it."""

    def obj(cls: type) -> dict[str, Any]:
        props = {f.name: _field_schema(cls, f) for f in dataclasses.fields(cls)}
        return {"type": "object", "additionalProperties": False, "properties": props}

    parts = {name: obj(cls) for name, cls in _SECTIONS.items()}
    run = {"type": "object", "additionalProperties": False,
           "properties": {**parts, "label": {"type": "string"}, "datasets": {"type": "array", "items": {"type": "string"}},
                          "sample_steps": {"type": ["array", "object"]}, "table": {"type": "array"}}}
    return {"type": "object", "additionalProperties": False, "description": "LGCAA model/training/sampling settings (lgcaa.model.config)",
            "properties": {"prepare": obj(PrepareConfig), **parts,
                           "runs": {"type": "object", "additionalProperties": run}}}
