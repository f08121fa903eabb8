# Stage 2: SR methods -> results/sr/<dataset>/<method>/*.png (+ settings and job record)


from baselines.registry import BASELINES as BASELINE_REGISTRY
from lgcaa.plan.resources import sr_resources


def sr_settings(wc):
    """The profile's settings of the base method; an extra seed instance overrides an authors' fixed seed."""
    job = SR_JOBS[(wc.dataset, wc.method)]
    settings = dict(job.settings)
    if job.extra_seed and "seed" in BASELINE_REGISTRY[job.base].defaults:
        settings["seed"] = job.seed
    return json.dumps(settings)


def _sr_res(key):
    def get(wc):
        job = SR_JOBS[(wc.dataset, wc.method)]
        b = BASELINE_REGISTRY[job.base]
        settings = {**b.defaults, **job.settings}
        res = sr_resources(b.family, b.requires_gpu, job.base, settings, b.fixed, *dataset_size(CFG, wc.dataset))
        return getattr(res, key)

    return get


rule sr:
    wildcard_constraints:
        method=one_of(BASELINE_INSTANCES),
    input:
        manifest=L.manifest("{dataset}"),
    output:
        images=directory(L.sr_dir("{dataset}", "{method}")),
        record=L.sr_record("{dataset}", "{method}"),
    params:
        base=lambda wc: SR_JOBS[(wc.dataset, wc.method)].base,
        settings=sr_settings,
        seed=lambda wc: SR_JOBS[(wc.dataset, wc.method)].seed,
        lr_dir=L.lr_dir("{dataset}"),
        imports=L.imports_dir(),
        experiment=f"{CFG['profile']}/sr",
    threads: _sr_res("cpus_per_task")
    resources:
        gpu=_sr_res("gpu"),
        cpus_per_task=_sr_res("cpus_per_task"),
        mem_mb=_sr_res("mem_mb"),
        runtime=_sr_res("runtime"),
    log:
        L.log("sr", "{dataset}", "{method}"),
    shell:
        "OMP_NUM_THREADS={threads} {LGCAA} sr --method {params.base} --dataset {wildcards.dataset}"
        " --lr-dir {params.lr_dir} --out-dir {output.images} --settings '{params.settings}'"
        " --threads {threads} --seed {params.seed} --experiment {params.experiment} --record {output.record}"
        " --cache-dir {CACHE} --imports {params.imports}"
        " > {log} 2>&1 " + FAIL
