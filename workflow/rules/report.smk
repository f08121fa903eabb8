# Stage 5: perception-distortion curves (Fig. 8), the HTML report, MLflow artifacts; target `tables` = all.
from lgcaa.report.visual import build_visual_spec
from lgcaa.tables.spec import build_curve_spec

CURVE_SPEC = build_curve_spec(CFG)
VISUAL_SPEC = build_visual_spec(CFG)
REPORT_DIR = f"{RES}/report"
REPORT_EXPERIMENT = f"{CFG['profile']}/report"


rule curves:
    input:
        CURVE_SPEC.aggregates,
    output:
        png=f"{REPORT_DIR}/pd_curve.png",
        pdf=f"{REPORT_DIR}/pd_curve.pdf",
        csv=f"{REPORT_DIR}/pd_curve.csv",
        record=f"{REPORT_DIR}/pd_curve.run.json",
    params:
        spec=CURVE_SPEC.to_json(),
        out_dir=REPORT_DIR,
        experiment=REPORT_EXPERIMENT,
    log:
        f"{LOGS}/report/curves.log",
    shell:
        "MPLBACKEND=Agg {LGCAA} report curves --spec {params.spec:q} --out-dir {params.out_dir}"
        " --record {output.record} --experiment {params.experiment} > {log} 2>&1 " + FAIL


rule report:
    input:
        tables=expand(f"{TABLES_DIR}/{{table}}.{{suffix}}", table=TABLE_NAMES, suffix=("html", "compare.html")),
        curve=f"{REPORT_DIR}/pd_curve.png",
        runs=f"{RES}/mlflow/runs.json",
        sr=[m[2] for d in VISUAL_SPEC.datasets for m in d.methods],
        manifests=[f"{DATA}/{d.name}/manifest.json" for d in VISUAL_SPEC.datasets],
    output:
        html=f"{REPORT_DIR}/index.html",
        record=f"{REPORT_DIR}/index.run.json",
    params:
        tables_dir=TABLES_DIR,
        tables=",".join(TABLE_NAMES),
        report_dir=REPORT_DIR,
        profile=CFG["profile"],
        visual=VISUAL_SPEC.to_json(),
        comparable="--comparable" if CFG.get("comparable_to_paper") else "",
        inputs=" ".join(f"--input {d.name}={DATA}/{d.name}/manifest.json" for d in VISUAL_SPEC.datasets),
        ui=MLFLOW_UI,
        experiment=REPORT_EXPERIMENT,
    log:
        f"{LOGS}/report/html.log",
    shell:
        "{LGCAA} report html --tables-dir {params.tables_dir} --tables {params.tables} --curves-dir {params.report_dir}"
        " --visual {params.visual:q} --profile {params.profile} {params.comparable} --runs {input.runs}"
        " --ui {params.ui} --out {output.html} {params.inputs} --record {output.record}"
        " --experiment {params.experiment} > {log} 2>&1 " + FAIL


rule mlflow_publish:
    # One parent run for this stage; nested runs per table/curve/report job with their files as artifacts.
    input:
        expand(f"{TABLES_DIR}/{{table}}.run.json", table=TABLE_NAMES),
        f"{REPORT_DIR}/pd_curve.run.json",
        f"{REPORT_DIR}/index.run.json",
    output:
        f"{RES}/mlflow/published.json",
    log:
        f"{LOGS}/mlflow_publish.log",
    shell:
        "{LGCAA} mlflow-sync {input} --results {RES} --out {output} > {log} 2>&1 " + FAIL


rule tables:
    input:
        [f for name in TABLE_NAMES for f in TABLE_FILES[name]],
        rules.curves.output,
        f"{REPORT_DIR}/index.html",
        f"{RES}/mlflow/published.json",
