"""Profile configs: one JSON-schema-validated dict per profile.

`load_config(None)` returns the embedded default profile `mini`. Scripts receive the validated dict (or
values unpacked from it) as arguments; nothing reads module-level globals.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

from baselines.registry import BASELINES
from lgcaa.data.lowres import LR_KINDS
from lgcaa.data.registry import DATASETS
from lgcaa.errors import UserError, did_you_mean
from lgcaa.instances import baseline_base, model_sample_jobs, sample_jobs, sr_jobs
from lgcaa.instances import model_methods as run_methods
from lgcaa.io import check_name
from lgcaa.layout import manifest_of
from lgcaa.metrics.registry import METRICS
from lgcaa.model.config import DPACM_VARIANTS, ModelConfig
from lgcaa.model.schema import section_schema as model_section_schema
from lgcaa.model.variants import ATTENTION_VARIANTS
from lgcaa.tables.paper import PAPER_TABLES
from lgcaa.tables.section import tables_of

DEFAULT_PROFILE = "mini"


def registry_enums() -> dict[str, list[str]]:
    """The names each registry declares, by the schema slot (`"x-lgcaa-enum": NAME`) they fill."""
    t1, t2 = PAPER_TABLES["table1"], PAPER_TABLES["table2"]
    return {
        "metrics": list(METRICS),
        "dataset-sources": [*DATASETS, "folder"],
        "lr-kinds": [*LR_KINDS, "released"],  # released: the authors' own LR files (lgcaa.data.fetch)  # folder: your own LR images (`lr_dir`), LR-only
        "baselines": list(BASELINES),
        "paper-datasets": list(dict.fromkeys(e[0] for e in t1.entries)),
        "paper-methods": list(dict.fromkeys(e[1] for e in t1.entries)),
        "ablation-modules": list(dict.fromkeys(e[1] for e in t2.entries)),
        "ablation-variants": [*ATTENTION_VARIANTS, *DPACM_VARIANTS],
    }


def _baseline_settings() -> dict[str, Any]:
    """`baselines.<name>`: an object of that baseline's settings (its registry defaults' keys) and nothing else."""
    return {
        name: {"type": "object", "additionalProperties": False, "properties": {k: {} for k in b.defaults}}
        for name, b in BASELINES.items()
    }


def _fill(node: Any, enums: dict[str, list[str]]) -> None:
    if isinstance(node, dict):
        if "x-lgcaa-enum" in node:
            node["enum"] = enums[node["x-lgcaa-enum"]]
        if node.get("x-lgcaa-settings") == "model":
            node.update(model_section_schema())
        if node.get("x-lgcaa-settings") == "baselines":
            node["properties"] = _baseline_settings()
        for value in node.values():
            _fill(value, enums)
    elif isinstance(node, list):
        for value in node:
            _fill(value, enums)


@functools.cache  # registries are complete once imported; tests that add entries call _schema_text.cache_clear()
def _schema_text() -> str:
    raw = json.loads(resources.files("lgcaa.profiles").joinpath("schema.json").read_text())
    _fill(raw, registry_enums())
    return json.dumps(raw)


def schema() -> dict[str, Any]:
    """The profile schema (`lgcaa/profiles/schema.json`) with its registry slots filled: the metric, dataset
    source, baseline, paper-key and ablation-variant names come from their registries, never re-listed."""
    return json.loads(_schema_text())


def profile_names() -> list[str]:
    return sorted(
        p.name[: -len(".json")]
        for p in resources.files("lgcaa.profiles").iterdir()
        if p.name.endswith(".json") and p.name != "schema.json"
    )


def validate(config: dict[str, Any], source: str = "<config>") -> dict[str, Any]:
    """Validate against the schema and cross-references; raise UserError naming `source` and the field."""
    import jsonschema

    full = schema()
    errors = sorted(jsonschema.Draft202012Validator(full).iter_errors(config), key=lambda e: [str(p).zfill(6) for p in e.absolute_path])
    if errors:  # every problem at once; an enum's names listed once
        problems = [_schema_problem(e) for e in errors]
        problems = [p if p.count(" (known: ") == 0 or p.split(" (known: ")[1] not in "".join(problems[:i])
                    else p.split(" (known: ")[0] for i, p in enumerate(problems)]
        raise UserError(f"{source}: invalid config " + "; ".join(problems))
    check_path_names(config, source)
    _check_references(config, source)
    apply_table_rows(config, source)
    check_cross_references(config, source)
    return config


def _schema_problem(exc: Any) -> str:
    """One schema error as `at 'where': what`, with the closest name for an unknown enum value or key."""
    where = "/".join(str(p) for p in exc.absolute_path) or "<top level>"
    if exc.validator == "enum":
        known = [str(v) for v in exc.validator_value]
        return f"at '{where}': '{exc.instance}' is not a known name{did_you_mean(exc.instance, known)} (known: {', '.join(known)})"
    if exc.validator == "additionalProperties" and isinstance(exc.instance, dict):
        allowed = list(exc.schema.get("properties", {}))
        extra = [k for k in exc.instance if k not in allowed and not any(
            re.search(p, k) for p in exc.schema.get("patternProperties", {}))]
        if extra and allowed:
            return (f"at '{where}': unknown key(s) " + ", ".join(f"'{k}'{did_you_mean(k, allowed)}" for k in extra)
                    + f" (known: {', '.join(allowed)})")
    return f"at '{where}': {exc.message}"


# --- Tables II/III rows and the runs they read: one setting, never two --------------------------------------

_MODULE_KEYS = {"LGCAA": "attention", "DPACM": "dpacm"}  # Table II block -> the model setting its rows vary


def _run_of(config: dict[str, Any]) -> dict[str, str]:
    """method produced by a model run (e.g. `lgcaa-20steps`) -> that run."""
    return {j.method: j.run for j in model_sample_jobs(config["model"])} if config.get("model", {}).get("runs") else {}


def _run_setting(config: dict[str, Any], run: str, key: str) -> Any:
    """The value of model setting `key` that run `run` trains with (its override, the base, the default)."""
    section = config["model"]
    over = section["runs"][run].get("model", {})
    return over.get(key, section.get("model", {}).get(key, getattr(ModelConfig(), key)))


def table3_run_weights(config: dict[str, Any], source: str = "<config>") -> dict[str, dict[str, float]]:
    """{run: {"lambda_w": .., "lambda_p": ..}}: the weights each Table III row's run trains with, i.e. the row's
    printed (lambda_1, lambda_2) under the reading `tables.table3.columns`. Two rows of one run must agree."""
    tables = tables_of(config)
    columns = tables.columns
    run_of, out = _run_of(config), {}
    for row in tables.table3.rows if tables.table3 else ():
        run = run_of.get(row.method)
        if run is None:
            raise UserError(f"{source}: tables/table3 row {row.method!r} is not produced by a model run; Table III "
                            "rows are LGCAA runs (model.runs)")
        weights = {columns[0]: row.lambda_1, columns[1]: row.lambda_2}
        if out.setdefault(run, weights) != weights:
            raise UserError(f"{source}: tables/table3 gives run '{run}' two weight pairs ({out[run]} and {weights}); "
                            "one run trains one pair")
    return out


def apply_table_rows(config: dict[str, Any], source: str = "<config>") -> None:
    """Make every Table II/III row read the run it names, in place.

    Table III: each row's run trains with the weights the reading gives its printed (lambda_1, lambda_2) — set
    here into `model.runs.<run>.model`, so switching `tables.table3.columns` switches the runs' λ; a run that
    sets other weights itself is refused. Its attention and DPACM must be the full model's. Table II: a row's
    variant must be its run's `attention` (LGCAA block) or `dpacm` (DPACM block). One line naming the row, the
    run and the fix."""
    if not config.get("model", {}).get("runs"):
        return
    run_of, table2 = _run_of(config), tables_of(config).table2
    for row in table2.rows if table2 else ():
        run, key = run_of.get(row.method), _MODULE_KEYS.get(row.module)
        if run is None or key is None:
            continue
        value = _run_setting(config, run, key)
        if value != row.variant:
            raise UserError(f"{source}: tables/table2 row {row.module}/{row.variant} reads run '{run}', which "
                            f"trains with model.{key} {value!r}; set model.runs.{run}.model.{key} to "
                            f"{row.variant!r} or point the row at another run")
    for run, weights in table3_run_weights(config, source).items():
        for key, full in (("attention", "lgcaa"), ("dpacm", "dpacm")):
            if _run_setting(config, run, key) != full:
                raise UserError(f"{source}: tables/table3 reads run '{run}', which trains with model.{key} "
                                f"{_run_setting(config, run, key)!r}; Table III varies the weights of the full model "
                                f"({key} {full!r})")
        over = config["model"]["runs"][run].setdefault("model", {})
        for key, value in weights.items():
            if key in over and float(over[key]) != value:
                raise UserError(f"{source}: model/runs/{run}/model/{key} is {over[key]}, but its Table III row gives "
                                f"{value} under tables.table3.columns {list(weights)}; remove {key} from the run (the "
                                "row sets it) or fix the row")
            over[key] = value


def _figure_references(figures: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(where, kind, name) for every dataset/method a figure entry refers to."""
    for name, entry in figures.items():
        if not isinstance(entry, dict):
            continue
        for ds in [*entry.get("datasets", []), *([entry["dataset"]] if "dataset" in entry else [])]:
            yield f"figures/{name}", "dataset", ds
        for m in entry.get("methods", []):
            yield f"figures/{name}", "method", m


def model_methods(config: dict[str, Any]) -> list[str]:
    """SR method names produced by the profile's LGCAA runs (`model.runs`), e.g. `lgcaa`, `lgcaa-30steps`."""
    return run_methods(config["model"]) if "model" in config else []


def _check_references(config: dict[str, Any], source: str) -> None:
    overlap = set(config["methods"]) & set(model_methods(config))
    if overlap:
        raise UserError(f"{source}: {sorted(overlap)} listed in 'methods' (baselines) and produced by model.runs")
    known = {"dataset": config["datasets"], "method": [*config["methods"], *model_methods(config)]}
    tables = tables_of(config)
    refs = [*tables.references(), *_figure_references(config.get("figures", {}))]
    refs += [(f"instances/{n}", "dataset", ds) for n, i in config.get("instances", {}).items() for ds in i.get("datasets", [])]
    bad = [f"{where} names {kind} '{name}' that is not in '{kind}s'"
           + (" or produced by model.runs" if kind == "method" else "") + did_you_mean(name, known[kind])
           for where, kind, name in refs if name not in known[kind]]
    if bad:
        raise UserError(f"{source}: " + "; ".join(dict.fromkeys(bad)))
    for run, spec in config.get("model", {}).get("runs", {}).items():
        for ds in spec.get("datasets", []):
            if ds not in config["datasets"]:
                raise UserError(f"{source}: model/runs/{run} samples dataset '{ds}' that is not in 'datasets'")
    lr_only = [n for n, d in config["datasets"].items() if d["source"] == "folder" or d.get("lr_only")]
    for where, kind, name in tables.references():
        if kind == "dataset" and name in lr_only:
            raise UserError(f"{source}: {where} names '{name}', an LR-only dataset (source 'folder' or lr_only): it has no HR to "
                            "score against; use it in figures.fig5/fig6 only")
    for name, ds in config["datasets"].items():
        if ds["source"] == "folder":
            if not ds.get("lr_dir") or ds["lr"] != "released":
                raise UserError(f"{source}: dataset '{name}' (source 'folder') needs 'lr_dir' (your LR images) and "
                                "lr 'released'")
            continue
        if "subset" in ds:
            if ds["source"] not in DATASETS or ds["source"] == "mini":
                raise UserError(f"{source}: subset dataset '{name}' needs a registry dataset as its source "
                                f"({', '.join(sorted(d for d in DATASETS if d != 'mini'))}), not '{ds['source']}'")
            continue
        if ds["source"] == "mini":
            if "mini" not in config:
                raise UserError(f"{source}: dataset '{name}' uses source 'mini' but the 'mini' section is missing")
            if ds["lr"] not in LR_KINDS:
                raise UserError(f"{source}: mini dataset '{name}' needs lr {' or '.join(map(repr, LR_KINDS))}, "
                                f"not '{ds['lr']}'")
        else:
            if ds["source"] not in DATASETS:
                raise UserError(f"{source}: dataset '{name}' has unknown source '{ds['source']}' "
                                f"(known: mini, {', '.join(sorted(DATASETS))})")
            if ds["lr"] != "released" and ds["source"] == name:
                raise UserError(f"{source}: regenerated dataset '{name}' must be named differently from its source")


# --- cross-references a DAG would otherwise find only when a job runs (one line each) ----------------------


def check_path_names(config: dict[str, Any], source: str) -> None:
    """UserError for a dataset, method, instance or model-run name that is not a plain name: each becomes a
    folder name under data/ or results/, so `../x` or `/abs` must never reach a path."""
    named = [("dataset", d) for d in config["datasets"]] + [("method", m) for m in config["methods"]]
    named += [("instance", i) for i in config.get("instances", {})]
    named += [("model run", r) for r in config.get("model", {}).get("runs", {})]
    for what, name in named:
        try:
            check_name(name, what)
        except UserError as exc:
            raise UserError(f"{source}: {exc}") from None


def check_cross_references(config: dict[str, Any], source: str) -> None:
    """UserError (one line naming `source`, the field and the fix) for: a method that is neither a baseline nor
    an `instances` entry; settings a baseline does not take; a table cell (dataset, method) that no job
    produces (e.g. a model method whose step count is not in its run's `sample_steps`); a regenerated dataset
    whose local `hr_source` folder does not exist."""
    from baselines.registry import resolve_settings

    instances = config.get("instances", {})
    bad = [f"'{m}'{did_you_mean(m, [*BASELINES, *instances])}" for m in config["methods"]
           if (instances[m]["method"] if m in instances else m) not in BASELINES]
    if bad:
        raise UserError(f"{source}: methods names {', '.join(bad)}, {'which is' if len(bad) == 1 else 'which are'} neither a baseline (known: {', '.join(BASELINES)}) "
                        "nor an 'instances' entry; fix the name (lgcaa baselines list)")
    for name, inst in instances.items():
        if inst["method"] not in BASELINES:
            raise UserError(f"{source}: instances/{name} runs '{inst['method']}', not a baseline (lgcaa baselines list)")
    for name in config.get("baselines", {}):
        if name not in BASELINES:
            raise UserError(f"{source}: baselines/{name}: not a baseline (known: {', '.join(BASELINES)})")
    for m in config["methods"]:
        base, settings = baseline_base(config, m)
        try:
            resolve_settings(base, settings)
        except UserError as exc:
            raise UserError(f"{source}: settings of method '{m}': {exc}") from None
    _check_table_cells(config, source)
    _check_hr_sources(config, source)


def _check_table_cells(config: dict[str, Any], source: str) -> None:
    produced = {(j.dataset, j.method) for j in sr_jobs(config)}
    samples = sample_jobs(config, seeds=False) if config.get("model", {}).get("runs") else []
    produced |= {(j.dataset, j.method) for j in samples}
    for where, ds, m in tables_of(config).cells():
        if (ds, m) in produced:
            continue
        sampled = sorted({(j.run, j.steps) for j in samples if j.dataset == ds and (m == j.run or m.startswith(j.run + "-"))})
        hint = (f"; on '{ds}' the model runs sample {', '.join(f'{r} at {s} steps' for r, s in sampled)} -- add the "
                "step count to the run's sample_steps or fix the table" if sampled else
                "; add the dataset to the method's job list (model.runs.<run>.datasets) or fix the table")
        raise UserError(f"{source}: {where} reads method '{m}' on dataset '{ds}', which no job produces{hint}")


def _check_hr_sources(config: dict[str, Any], source: str) -> None:
    data = Path(config["paths"]["data"])
    for name, ds in config["datasets"].items():
        hr = ds.get("hr_source")
        if hr and ds["lr"] != "released" and not manifest_of(data / name).is_file() and not Path(hr).is_dir():
            raise UserError(f"{source}: datasets/{name}/hr_source {hr} is not a folder here (and {data / name} is not "
                            "built yet); fix the path or build the dataset where the folder is")


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
        raise UserError(f"{path}: no such config file and no profile of that name{did_you_mean(name, profile_names())} "
                        f"(profiles: {', '.join(profile_names())})")
    return validate(read_config_file(path), source=str(path))


MAX_CONFIG_BYTES = 1 << 20  # a profile is a few KiB; the cap bounds parsing time and memory


def read_config_file(path: str | Path) -> Any:
    """The data of a JSON or YAML config file (YAML: .yaml/.yml), before any validation.

    UserError naming the file and the line for: a file over `MAX_CONFIG_BYTES`, malformed YAML/JSON, and YAML
    anchors or aliases (`&a`, `*a`) — refused while scanning the events, before anything is built, since a few
    nested aliases expand to billions of nodes ("billion laughs") and hang a validator that walks them."""
    path = Path(path)
    size = path.stat().st_size
    if size > MAX_CONFIG_BYTES:
        raise UserError(f"{path}: {size} bytes, over the {MAX_CONFIG_BYTES} bytes a config may have; is this the "
                        "right file?")
    text = path.read_text()
    if path.suffix in (".yaml", ".yml"):
        import yaml

        try:
            for event in yaml.parse(text, Loader=yaml.SafeLoader):
                if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                    raise UserError(f"{path}: line {event.start_mark.line + 1}: YAML anchors and aliases (&name, *name) "
                                    "are not accepted in a config (nested aliases can expand to billions of values); "
                                    "write the values out")
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
            problem = getattr(exc, "problem", None) or str(exc).split("\n")[0]
            raise UserError(f"{path}: not valid YAML ({where}{problem}); fix the syntax there") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); fix the syntax "
                        "there") from None
    except RecursionError:
        raise UserError(f"{path}: nested too deeply to be a config; fix the file") from None


def expected_pairs(entry: dict[str, Any], registry_count: int = 0) -> int:
    """Pairs a profile dataset entry holds: its `expected_count` (else `registry_count`), at most its `limit`
    (the first N pairs by name); 0 when neither is known."""
    count = int(entry.get("expected_count") or registry_count)
    limit = int(entry.get("limit") or 0)
    return min(count, limit) if limit and count else (limit or count)


def cache_dir(config: dict[str, Any]) -> Path:
    paths = config["paths"]
    return Path(paths.get("cache") or Path(paths["results"]) / "cache")
