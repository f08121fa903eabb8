# Stage 5: perception-distortion curves (Fig. 8), the HTML report, MLflow artifacts; target `tables` = all.
from lgcaa.report.visual import build_visual_spec
from lgcaa.tables.spec import build_curve_spec

CURVE_SPEC = build_curve_spec(CFG)
VISUAL_SPEC = build_visual_spec(CFG)
REPORT_DIR = L.report_dir()
REPORT_EXPERIMENT = f"{CFG['profile']}/report"


rule curves:
    input:
        CURVE_SPEC.aggregates,
    output:
        png=L.report_file("pd_curve.png"),
        pdf=L.report_file("pd_curve.pdf"),
        csv=L.report_file("pd_curve.csv"),
        record=L.report_file("pd_curve.run.json"),
    params:
        spec=CURVE_SPEC.to_json(),
        out_dir=REPORT_DIR,
        experiment=REPORT_EXPERIMENT,
    resources:
        **LIGHT_RES,
    log:
        L.log("report", "curves"),
    shell:
        "MPLBACKEND=Agg {LGCAA} report curves --spec {params.spec:q} --out-dir {params.out_dir}"
        " --record {output.record} --experiment {params.experiment} > {log} 2>&1 " + FAIL


rule report:
    input:
        tables=[L.table_file(t, s) for t in TABLE_NAMES for s in ("html", "compare.html")],
        curve=L.report_file("pd_curve.png"),
        runs=L.mlflow_file("runs"),
        sr=[m[2] for d in VISUAL_SPEC.datasets for m in d.methods],
        manifests=[L.manifest(d.name) for d in VISUAL_SPEC.datasets],
    output:
        html=L.report_file("index.html"),
        record=L.report_file("index.run.json"),
    params:
        tables_dir=TABLES_DIR,
        tables=",".join(TABLE_NAMES),
        report_dir=REPORT_DIR,
        profile=CFG["profile"],
        visual=VISUAL_SPEC.to_json(),
        comparable="--comparable" if CFG.get("comparable_to_paper") else "",
        inputs=" ".join(f"--input {d.name}={L.manifest(d.name)}" for d in VISUAL_SPEC.datasets),
        ui=MLFLOW_UI,
        experiment=REPORT_EXPERIMENT,
    resources:
        **LIGHT_RES,
    log:
        L.log("report", "html"),
    shell:
        "{LGCAA} report html --tables-dir {params.tables_dir} --tables {params.tables} --curves-dir {params.report_dir}"
        " --visual {params.visual:q} --profile {params.profile} {params.comparable} --runs {input.runs}"
        " --ui {params.ui} --out {output.html} {params.inputs} --record {output.record}"
        " --experiment {params.experiment} > {log} 2>&1 " + FAIL


rule mlflow_publish:
    # One parent run for this stage; nested runs per table/curve/report job with their files as artifacts.
    input:
        [L.table_record(t) for t in TABLE_NAMES],
        L.report_file("pd_curve.run.json"),
        L.report_file("index.run.json"),
    output:
        L.mlflow_file("published"),
    resources:
        **LIGHT_RES,
    log:
        L.log("mlflow_publish"),
    shell:
        "{LGCAA} mlflow-sync {input} --results {RES} --out {output} > {log} 2>&1 " + FAIL


rule tables:
    input:
        [f for name in TABLE_NAMES for f in TABLE_FILES[name]],
        rules.curves.output,
        L.report_file("index.html"),
        L.mlflow_file("published"),
