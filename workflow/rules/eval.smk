# Stage 3: metrics -> results/metrics/<dataset>/<method>/{per_image.csv,lock.json,aggregate.json,run.json}


rule evaluate:
    input:
        sr=f"{RES}/sr/{{dataset}}/{{method}}",
        manifest=f"{DATA}/{{dataset}}/manifest.json",
    output:
        aggregate=f"{RES}/metrics/{{dataset}}/{{method}}/aggregate.json",
        per_image=f"{RES}/metrics/{{dataset}}/{{method}}/per_image.csv",
        record=f"{RES}/metrics/{{dataset}}/{{method}}/run.json",
    params:
        metrics=",".join(CFG["metrics"]),
        expected=lambda wc: DATASETS[wc.dataset].get("expected_count", 0),
        experiment=f"{CFG['profile']}/eval",
    threads: 1
    log:
        f"{LOGS}/eval/{{dataset}}/{{method}}.log",
    shell:
        "OMP_NUM_THREADS={threads} {LGCAA} eval {input.sr} {DATA}/{wildcards.dataset}/hr"
        " --out {RES}/metrics/{wildcards.dataset}/{wildcards.method} --metrics {params.metrics}"
        " --dataset {wildcards.dataset} --method {wildcards.method} --expected-count {params.expected}"
        " --device cpu --experiment {params.experiment} --record {output.record} > {log} 2>&1 " + FAIL
