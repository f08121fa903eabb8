"""Profile configs: one JSON-schema-validated dict per profile.

`load_config(None)` returns the embedded default profile `mini`. Scripts receive the validated dict (or
values unpacked from it) as arguments; nothing reads module-level globals.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from lgcaa.errors import UserError

DEFAULT_PROFILE = "mini"


def schema() -> dict[str, Any]:
    return json.loads(resources.files("lgcaa.profiles").joinpath("schema.json").read_text())


def profile_names() -> list[str]:
    return sorted(
        p.name[: -len(".json")]
        for p in resources.files("lgcaa.profiles").iterdir()
        if p.name.endswith(".json") and p.name != "schema.json"
    )


def validate(config: dict[str, Any], source: str = "<config>") -> dict[str, Any]:
    """Validate against the schema and cross-references; raise UserError naming `source` and the field."""
    import jsonschema

    try:
        jsonschema.validate(config, schema())
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "<top level>"
        raise UserError(f"{source}: invalid config at '{where}': {exc.message}") from None
    for table, spec in config.get("tables", {}).items():
        for ds in spec.get("datasets", []):
            if ds not in config["datasets"]:
                raise UserError(f"{source}: tables/{table} names dataset '{ds}' that is not in 'datasets'")
        for m in spec.get("methods", []):
            if m not in config["methods"]:
                raise UserError(f"{source}: tables/{table} names method '{m}' that is not in 'methods'")
    if any(d["source"] == "mini" for d in config["datasets"].values()) and "mini" not in config:
        raise UserError(f"{source}: a dataset uses source 'mini' but the 'mini' section is missing")
    return config


def load_config(path_or_profile: str | Path | None = None) -> dict[str, Any]:
    """Load a profile by name (`mini`, `paper`) or a JSON/YAML file path; validate it."""
    if path_or_profile is None:
        path_or_profile = DEFAULT_PROFILE
    name = str(path_or_profile)
    if name in profile_names():
        text = resources.files("lgcaa.profiles").joinpath(f"{name}.json").read_text()
        return validate(json.loads(text), source=f"profile '{name}'")
    path = Path(name)
    if not path.is_file():
        raise UserError(f"{path}: no such config file and no profile of that name (profiles: {', '.join(profile_names())})")
    if path.suffix in (".yaml", ".yml"):
        import yaml

        data = yaml.safe_load(path.read_text())
    else:
        data = json.loads(path.read_text())
    return validate(data, source=str(path))


def cache_dir(config: dict[str, Any]) -> Path:
    paths = config["paths"]
    return Path(paths.get("cache") or Path(paths["results"]) / "cache")
