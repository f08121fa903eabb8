# Config resolution and input functions. No logic beyond unpacking the validated config.
import json
import re
import sys
from pathlib import Path

from lgcaa.config import cache_dir, load_config, validate

if not config:
    CFG = load_config(None)  # embedded default: mini
    CONFIG_ARG = "mini"
elif set(config) == {"profile"}:
    CFG = load_config(config["profile"])
    CONFIG_ARG = config["profile"]
else:
    CFG = validate(dict(config), source="--configfile/--config")
    # jobs that read the whole profile (lgcaa train/sample) get the same file
    CONFIG_ARG = str(Path(workflow.configfiles[-1]).resolve()) if workflow.configfiles else "mini"

PY = sys.executable
LGCAA = f"{PY} -m lgcaa"
DATA = CFG["paths"]["data"]
RES = CFG["paths"]["results"]
LOGS = f"{RES}/logs"
CACHE = str(cache_dir(CFG))
DATASETS = CFG["datasets"]
METHODS = CFG["methods"]  # baselines, run on every dataset by rule `sr`
MODEL = CFG.get("model", {})
if MODEL.get("runs"):
    from lgcaa.model.plan import sample_jobs

    MODEL_JOBS = sample_jobs(MODEL)  # (run, dataset, steps, method) sampled by rule `sample_models`
else:
    MODEL_JOBS = []
MODEL_RUNS = list(dict.fromkeys(j.run for j in MODEL_JOBS))
# k seeds (`seeds`): method M runs as M (profile seed) and M@seed<s> for the extra seeds (lgcaa.tables.spec)
from lgcaa.tables.spec import seed_instances

BASELINE_INSTANCES = {inst: (m, seed) for m in METHODS for seed, inst in seed_instances(CFG, m)}
SEED_SAMPLES = {
    (j.dataset, inst): (j, seed) for j in MODEL_JOBS for seed, inst in seed_instances(CFG, j.method) if inst != j.method
}
# every (dataset, method instance) pair that gets SR outputs, metrics and job records
SR_PAIRS = (
    [(d, m) for d in DATASETS for m in BASELINE_INSTANCES]
    + [(j.dataset, j.method) for j in MODEL_JOBS]
    + list(SEED_SAMPLES)
)
# On failure, show the job's last log line (our one-line error naming the file and the fix).
FAIL = "|| {{ tail -n 1 {log} >&2; exit 1; }}"


def one_of(names):
    return "|".join(re.escape(n) for n in names)


wildcard_constraints:
    dataset=one_of(DATASETS),
    method=one_of(sorted({m for _, m in SR_PAIRS})),


def dataset_cfg(wildcards):
    return DATASETS[wildcards.dataset]


def sr_records(wildcards=None):
    return [f"{RES}/sr/{d}/{m}.run.json" for d, m in SR_PAIRS] + [f"{RES}/models/{r}/run.json" for r in MODEL_RUNS]


def eval_aggregates(datasets, methods):
    return expand(f"{RES}/metrics/{{dataset}}/{{method}}/aggregate.json", dataset=datasets, method=methods)


def eval_records(wildcards=None):
    return [f"{RES}/metrics/{d}/{m}/run.json" for d, m in SR_PAIRS]


def data_records(wildcards=None):
    return expand(f"{RES}/data/{{dataset}}.run.json", dataset=list(DATASETS))
