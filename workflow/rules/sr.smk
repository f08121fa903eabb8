# Stage 2: SR methods -> results/sr/<dataset>/<method>/*.png (+ settings and job record)


from baselines.registry import BASELINES as BASELINE_REGISTRY


rule sr:
    wildcard_constraints:
        method=one_of(METHODS),
    input:
        manifest=f"{DATA}/{{dataset}}/manifest.json",
    output:
        images=directory(f"{RES}/sr/{{dataset}}/{{method}}"),
        record=f"{RES}/sr/{{dataset}}/{{method}}.run.json",
    params:
        settings=lambda wc: json.dumps(CFG.get("baselines", {}).get(wc.method, {})),
        seed=CFG["seed"],
        experiment=f"{CFG['profile']}/sr",
    threads: 1
    resources:
        gpu=lambda wc: int(BASELINE_REGISTRY[wc.method].requires_gpu),
    log:
        f"{LOGS}/sr/{{dataset}}/{{method}}.log",
    shell:
        "OMP_NUM_THREADS={threads} {LGCAA} sr --method {wildcards.method} --dataset {wildcards.dataset}"
        " --lr-dir {DATA}/{wildcards.dataset}/lr --out-dir {output.images} --settings '{params.settings}'"
        " --threads {threads} --seed {params.seed} --experiment {params.experiment} --record {output.record}"
        " --cache-dir {CACHE} --imports {RES}/imports"
        " > {log} 2>&1 " + FAIL
