# Stage 2: SR methods -> results/sr/<dataset>/<method>/*.png (+ settings and job record)


from baselines.registry import BASELINES as BASELINE_REGISTRY


def sr_settings(wc):
    """The profile's settings of the base method; an extra seed instance overrides an authors' fixed seed."""
    job = SR_JOBS[(wc.dataset, wc.method)]
    settings = dict(job.settings)
    if job.extra_seed and "seed" in BASELINE_REGISTRY[job.base].defaults:
        settings["seed"] = job.seed
    return json.dumps(settings)


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
    threads: 1
    resources:
        gpu=lambda wc: int(BASELINE_REGISTRY[SR_JOBS[(wc.dataset, wc.method)].base].requires_gpu),
    log:
        L.log("sr", "{dataset}", "{method}"),
    shell:
        "OMP_NUM_THREADS={threads} {LGCAA} sr --method {params.base} --dataset {wildcards.dataset}"
        " --lr-dir {params.lr_dir} --out-dir {output.images} --settings '{params.settings}'"
        " --threads {threads} --seed {params.seed} --experiment {params.experiment} --record {output.record}"
        " --cache-dir {CACHE} --imports {params.imports}"
        " > {log} 2>&1 " + FAIL
