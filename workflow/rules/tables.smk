# Stage 4: MLflow sync of every job record, then the tables.


rule mlflow_sync:
    input:
        data_records,
        sr_records,
        eval_records,
    output:
        f"{RES}/mlflow/runs.json",
    log:
        f"{LOGS}/mlflow_sync.log",
    shell:
        "{LGCAA} mlflow-sync {input} --results {RES} --out {output} > {log} 2>&1 " + FAIL


rule table1:
    input:
        aggregates=eval_aggregates(CFG["tables"]["table1"]["datasets"], CFG["tables"]["table1"]["methods"]),
        runs=f"{RES}/mlflow/runs.json",
    output:
        csv=f"{RES}/tables/table1.csv",
        md=f"{RES}/tables/table1.md",
    params:
        datasets=",".join(CFG["tables"]["table1"]["datasets"]),
        methods=",".join(CFG["tables"]["table1"]["methods"]),
        labels=json.dumps({d: DATASETS[d].get("label", d) for d in CFG["tables"]["table1"]["datasets"]}),
        title=f"Table I ({CFG['profile']} profile)",
    log:
        f"{LOGS}/table1.log",
    shell:
        "{LGCAA} table table1 {input.aggregates} --datasets {params.datasets} --methods {params.methods}"
        " --labels '{params.labels}' --title '{params.title}' --csv {output.csv} --md {output.md}"
        " > {log} 2>&1 " + FAIL


rule tables:
    input:
        rules.table1.output,
