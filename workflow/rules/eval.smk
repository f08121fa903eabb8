# Stage 3: metrics -> results/metrics/<dataset>/<method>/{per_image.csv,lock.json,aggregate.json,run.json}
from lgcaa.config import expected_pairs

EVAL_RES = planned("evaluate", pair)


rule evaluate:
    """Score one SR folder against its HR with the pinned metric protocol: per-image CSV, aggregate, job record."""
    input:
        sr=L.sr_dir("{dataset}", "{method}"),
        manifest=L.manifest("{dataset}"),
        calibration=CALIBRATION,  # the calibration gate first (profiles with "calibration": true)
    output:
        aggregate=L.aggregate("{dataset}", "{method}"),
        per_image=L.per_image("{dataset}", "{method}"),
        record=L.eval_record("{dataset}", "{method}"),
    params:
        # not passed (the job reads them from the profile): rerun the job when they change
        metrics=",".join(CFG["metrics"]),
        expected=lambda wc: expected_pairs(DATASETS[wc.dataset]),
        experiment=f"{CFG['profile']}/eval",
    threads: EVAL_RES["cpus_per_task"]
    resources:
        **EVAL_RES,
    benchmark:
        L.benchmark("eval", "{dataset}", "{method}")
    log:
        L.log("eval", "{dataset}", "{method}"),
    shell:
        "OMP_NUM_THREADS={threads} {LGCAA} eval --config {CONFIG_ARG} --dataset {wildcards.dataset}"
        " --method {wildcards.method} --device cpu --max-memory {resources.mem_mb}M"  # the job's allocation
        " --experiment {params.experiment} --record {output.record} > {log} 2>&1 " + FAIL
