# Stage 2: SR methods -> results/sr/<dataset>/<method>/*.png (+ settings and job record)


from baselines.registry import BASELINES as BASELINE_REGISTRY


def sr_settings(wc):
    """The profile's settings of the base method; an extra seed instance overrides an authors' fixed seed."""
    base, seed = BASELINE_INSTANCES[wc.method]
    settings = dict(CFG.get("baselines", {}).get(base, {}))
    if wc.method != base and "seed" in BASELINE_REGISTRY[base].defaults:
        settings["seed"] = seed
    return json.dumps(settings)


rule sr:
    wildcard_constraints:
        method=one_of(BASELINE_INSTANCES),
    input:
        manifest=f"{DATA}/{{dataset}}/manifest.json",
    output:
        images=directory(f"{RES}/sr/{{dataset}}/{{method}}"),
        record=f"{RES}/sr/{{dataset}}/{{method}}.run.json",
    params:
        base=lambda wc: BASELINE_INSTANCES[wc.method][0],
        settings=sr_settings,
        seed=lambda wc: BASELINE_INSTANCES[wc.method][1],
        experiment=f"{CFG['profile']}/sr",
    threads: 1
    resources:
        gpu=lambda wc: int(BASELINE_REGISTRY[BASELINE_INSTANCES[wc.method][0]].requires_gpu),
    log:
        f"{LOGS}/sr/{{dataset}}/{{method}}.log",
    shell:
        "OMP_NUM_THREADS={threads} {LGCAA} sr --method {params.base} --dataset {wildcards.dataset}"
        " --lr-dir {DATA}/{wildcards.dataset}/lr --out-dir {output.images} --settings '{params.settings}'"
        " --threads {threads} --seed {params.seed} --experiment {params.experiment} --record {output.record}"
        " --cache-dir {CACHE} --imports {RES}/imports"
        " > {log} 2>&1 " + FAIL
