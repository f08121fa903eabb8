# Config resolution and input functions. No logic beyond unpacking the validated config.
import json
import sys

from lgcaa.config import cache_dir, load_config, validate

if not config:
    CFG = load_config(None)  # embedded default: mini
elif set(config) == {"profile"}:
    CFG = load_config(config["profile"])
else:
    CFG = validate(dict(config), source="--configfile/--config")

PY = sys.executable
LGCAA = f"{PY} -m lgcaa"
DATA = CFG["paths"]["data"]
RES = CFG["paths"]["results"]
LOGS = f"{RES}/logs"
CACHE = str(cache_dir(CFG))
DATASETS = CFG["datasets"]
METHODS = CFG["methods"]
# On failure, show the job's last log line (our one-line error naming the file and the fix).
FAIL = "|| {{ tail -n 1 {log} >&2; exit 1; }}"


wildcard_constraints:
    dataset="|".join(DATASETS),
    method="|".join(METHODS),


def dataset_cfg(wildcards):
    return DATASETS[wildcards.dataset]


def sr_records(wildcards=None):
    return expand(f"{RES}/sr/{{dataset}}/{{method}}.run.json", dataset=list(DATASETS), method=METHODS)


def eval_aggregates(datasets, methods):
    return expand(f"{RES}/metrics/{{dataset}}/{{method}}/aggregate.json", dataset=datasets, method=methods)


def eval_records(wildcards=None):
    return expand(f"{RES}/metrics/{{dataset}}/{{method}}/run.json", dataset=list(DATASETS), method=METHODS)


def data_records(wildcards=None):
    return expand(f"{RES}/data/{{dataset}}.run.json", dataset=list(DATASETS))
