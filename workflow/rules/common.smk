# Config resolution and input functions. No logic beyond unpacking the validated config.
import json
import os
import re
import sys
from pathlib import Path

from lgcaa.config import cache_dir, load_config, validate
from lgcaa.errors import UserError
from lgcaa.instances import eval_pairs, model_runs, published_log_pairs, sample_jobs, sr_jobs, sr_pairs
from lgcaa.layout import Layout
from lgcaa.model.config import resolve_run
from lgcaa.plan.jobs import job_resources
from lgcaa.plan.resources import LIGHT

if not config:
    CFG = load_config(None)  # embedded default: mini
    CONFIG_ARG = "mini"
elif set(config) == {"profile"}:
    CFG = load_config(config["profile"])
    CONFIG_ARG = config["profile"]
else:
    # Jobs get their settings one way: `--config CONFIG_ARG` (a profile name or this file) + names. Checked before
    # the schema, so `--config seed=1` gets this line, not "'profile' is a required property".
    if not workflow.configfiles:
        raise UserError(f"--config {' '.join(sorted(set(config) - {'profile'}))}: the jobs read their settings from a "
                        "profile or a file; give only --config profile=NAME, or write the setting into a --configfile FILE")
    CFG = validate(dict(config), source="--configfile/--config")
    CONFIG_ARG = str(Path(workflow.configfiles[-1]).resolve())
    if load_config(CONFIG_ARG) != CFG:
        raise UserError(f"{CONFIG_ARG}: --config overrides (or several --configfile) on top of this file would not "
                        "reach the jobs, which read the file; write the settings into one config file")

# Provenance every job record carries (lgcaa.tracking): profile, config digest, protocol lock, the DAG target.
# Handed over in the environment, not as params, so that provenance never makes Snakemake rerun a job.
from lgcaa.metrics.lock import lock_hash, protocol
from lgcaa.tracking import ENV_TARGET, provenance_env

os.environ.update(provenance_env(CFG, lock_hash(protocol(CFG["metrics"]))))


onstart:
    # the targets are known once the DAG is built; MLflow names each sync's parent run by them and the start time
    os.environ[ENV_TARGET] = " ".join(sorted(map(str, workflow.dag_settings.targets))) or "all"


PY = sys.executable
LGCAA = f"{PY} -m lgcaa"
L = Layout.of(CFG)  # every results path (lgcaa.layout)
DATA = CFG["paths"]["data"]
RES = CFG["paths"]["results"]
CACHE = str(cache_dir(CFG))
DATASETS = CFG["datasets"]
METHODS = CFG["methods"]  # baselines, run on every dataset by rule `sr`
MODEL = CFG.get("model", {})
# Method instances and jobs (lgcaa.instances): baselines x seeds x datasets (rule `sr`); LGCAA trainings (rule
# `train`, one job per run) and sampling jobs (rule `sample`, one per (run, dataset, steps, seed)).
SR_JOBS = {(j.dataset, j.instance): j for j in sr_jobs(CFG)}
BASELINE_INSTANCES = sorted({j.instance for j in SR_JOBS.values()})
SAMPLE_JOBS = {(j.dataset, j.instance): j for j in sample_jobs(CFG)}
MODEL_RUNS = model_runs(CFG)
SR_PAIRS = sr_pairs(CFG)  # every (dataset, method instance) that gets SR outputs, metrics and job records
LIGHT_RES = LIGHT.as_dict()  # bookkeeping jobs: one CPU, no GPU (lgcaa.plan.resources)
JOB_RESOURCES = job_resources(CFG)  # the costed jobs' requests (lgcaa.plan.jobs): the cost model once per job
# On failure, show the job's last log line (our one-line error naming the file and the fix).
FAIL = "|| {{ tail -n 1 {log} >&2; exit 1; }}"


def planned(rule, name):
    """The `resources:` of a costed rule, as `lgcaa plan` lists them: `name(wildcards)` names the job as the plan
    does ("<dataset>/<instance>", "<run>", "<figure>"). `planned(...)["cpus_per_task"]` is also the rule's threads."""

    def get(key):
        return lambda wc: getattr(JOB_RESOURCES[(rule, name(wc))], key)

    return {key: get(key) for key in ("gpu", "cpus_per_task", "mem_mb", "runtime")}


def pair(wc):
    return f"{wc.dataset}/{wc.method}"


def one_of(names):
    return "|".join(re.escape(n) for n in names)


wildcard_constraints:
    dataset=one_of(DATASETS),
    method=one_of(sorted({m for _, m in SR_PAIRS})),


def run_settings(run):
    """The resolved settings of one training run (the model section's base settings + the run's overrides)."""
    return resolve_run(MODEL, run).to_dict()


def sr_records(wildcards=None):
    backbone = [L.backbone_record()] if "prepare" in MODEL else []  # the tiny backbone's preparation job
    return [L.sr_record(d, m) for d, m in SR_PAIRS] + backbone + [L.train_record(r) for r in MODEL_RUNS]


def eval_records(wildcards=None):
    return [L.eval_record(d, m) for d, m in eval_pairs(CFG)]  # LR-only datasets (source 'folder') are not scored


def eval_files(records=True):
    """Every evaluation's aggregate.json and per_image.csv (the scores the gallery shows) and, with `records`, its
    job record (the targets' EVAL_FILES, tables.smk), pair by pair."""
    return [f for d, m in eval_pairs(CFG)
            for f in (L.aggregate(d, m), L.per_image(d, m), *([L.eval_record(d, m)] if records else []))]


def data_records(wildcards=None):
    return [L.data_record(d) for d in DATASETS]
