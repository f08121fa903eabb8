# Stage 3: metrics -> results/metrics/<dataset>/<method>/{per_image.csv,lock.json,aggregate.json,run.json}


rule evaluate:
    input:
        sr=L.sr_dir("{dataset}", "{method}"),
        manifest=L.manifest("{dataset}"),
    output:
        aggregate=L.aggregate("{dataset}", "{method}"),
        per_image=L.per_image("{dataset}", "{method}"),
        record=L.eval_record("{dataset}", "{method}"),
    params:
        metrics=",".join(CFG["metrics"]),
        expected=lambda wc: DATASETS[wc.dataset].get("expected_count", 0),
        hr_dir=L.hr_dir("{dataset}"),
        out=L.metrics_dir("{dataset}", "{method}"),
        experiment=f"{CFG['profile']}/eval",
    threads: 1
    log:
        L.log("eval", "{dataset}", "{method}"),
    shell:
        "OMP_NUM_THREADS={threads} {LGCAA} eval {input.sr} {params.hr_dir}"
        " --out {params.out} --metrics {params.metrics}"
        " --dataset {wildcards.dataset} --method {wildcards.method} --expected-count {params.expected}"
        " --device cpu --experiment {params.experiment} --record {output.record} > {log} 2>&1 " + FAIL
