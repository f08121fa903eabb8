# Stage 2: SR methods -> results/sr/<dataset>/<method>/*.png (+ settings and job record)


from baselines.registry import job_settings

SR_RES = planned("sr", pair)


rule sr:
    """Run one baseline instance (method, settings, seed) on one dataset: SR images and a job record."""
    wildcard_constraints:
        method=one_of(BASELINE_INSTANCES),
    input:
        manifest=L.manifest("{dataset}"),
    output:
        images=directory(L.sr_dir("{dataset}", "{method}")),
        record=L.sr_record("{dataset}", "{method}"),
    params:
        # not passed (the job reads them from the profile): rerun the job when they change
        base=lambda wc: SR_JOBS[(wc.dataset, wc.method)].base,
        settings=lambda wc: json.dumps(job_settings(SR_JOBS[(wc.dataset, wc.method)]), sort_keys=True),
        seed=lambda wc: SR_JOBS[(wc.dataset, wc.method)].seed,
        experiment=f"{CFG['profile']}/sr",
    threads: SR_RES["cpus_per_task"]
    resources:
        **SR_RES,
    benchmark:
        L.benchmark("sr", "{dataset}", "{method}")
    log:
        L.log("sr", "{dataset}", "{method}"),
    shell:
        "OMP_NUM_THREADS={threads} {LGCAA} sr --config {CONFIG_ARG} --dataset {wildcards.dataset}"
        " --method {wildcards.method} --threads {threads} --experiment {params.experiment} --record {output.record}"
        " > {log} 2>&1 " + FAIL
