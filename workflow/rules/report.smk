# Stage 5b: the HTML report (the paper beside us, claims, figures, tables, per-image scores, training curves),
# the per-image gallery beside it, MLflow artifacts; target `tables` = everything.
REPORT_EXPERIMENT = f"{CFG['profile']}/report"


rule report:
    """The HTML report (Tables I-III beside the paper, claims, figures, tables, per-image scores, training curves)."""
    input:
        # the comparison it opens with, and the long per-cell comparison (CSV) it links to
        tables=[L.table_file(t, s) for t in TABLE_NAMES for s in ("html", "compare.html", "compare.csv")],
        figures=[L.figure_file(n, "png") for n in ALL_FIGURES],
        claims=L.claims_file("html"),
        runs=L.mlflow_file("runs"),
        checks=CALIBRATION + [L.check_file(n) for n in GOLDEN],  # shown in the report's "Metric checks"
        evaluations=TABLE_SPECS["table1"].inputs,  # its per-image score tables
        gallery=L.gallery_html(),  # the report links to it
    output:
        html=L.report_html(),
        record=L.report_record(),
    params:
        tables=",".join(TABLE_NAMES),
        ui=UI_FLAG,
        experiment=REPORT_EXPERIMENT,
    resources:
        **LIGHT_RES,
    log:
        L.log("report", "html"),
    shell:
        "{LGCAA} report html --config {CONFIG_ARG} --tables {params.tables} --runs {input.runs} {params.ui}"
        " --record {output.record} --experiment {params.experiment} > {log} 2>&1 " + FAIL


rule gallery:
    """The per-image gallery beside the report: every test image, every method's output at full resolution (by
    relative paths), synchronised zoom, every metric per image."""
    input:
        manifests=[L.manifest(d) for d in DATASETS],
        images=[L.sr_dir(d, m) for d, m in SR_PAIRS],
        evaluations=eval_files(records=False),
    output:
        L.gallery_html(),
    resources:
        **LIGHT_RES,
    log:
        L.log("report", "gallery"),
    shell:
        "{LGCAA} report gallery --config {CONFIG_ARG} > {log} 2>&1 " + FAIL


rule mlflow_publish:
    """One MLflow parent run for the report stage; nested runs per table/figure/claims/report job with their files
    as artifacts."""
    input:
        [L.table_record(t) for t in TABLE_NAMES],
        [L.figure_record(n) for n in ALL_FIGURES],
        L.claims_record(),
        L.report_record(),
    output:
        L.mlflow_file("published"),
    resources:
        **LIGHT_RES,
    log:
        L.log("mlflow_publish"),
    shell:
        "{LGCAA} mlflow-sync {input} --results {RES} --out {output} > {log} 2>&1 " + FAIL


rule tables:
    """Target: everything (tables, figures, headline metrics, data cache, report, MLflow artifacts)."""
    input:
        [f for name in TABLE_NAMES for f in TABLE_FILES[name]],
        rules.figures.input,
        HEADLINE_DIR,
        rules.data_dvc_cache.output,
        L.report_html(),
        L.mlflow_file("published"),
        # every evaluation file (EVAL_FILES, tables.smk): a target's own inputs are always checked, so one
        # missing after a kill is rebuilt even when the tables built from it look up to date
        EVAL_FILES,


onsuccess:
    # Where to look once the run is done (when the report exists: `snakemake figures` alone makes none).
    if os.path.isfile(L.report_file("index.html")):
        from lgcaa.ui import report_url, ui_command

        print(f"\nreport: {L.report_file('index.html')} (its numbers link to their MLflow runs)\n"
              f"gallery: {L.gallery_html()} (every test image, every method, synchronised zoom)\n"
              f"MLflow and the report: {ui_command(RES, DATA)}  then open {report_url()}"
              + (f" (links point to {MLFLOW_UI})" if MLFLOW_UI else "") + "\n"
              "Snakemake's report (tables and figures with the jobs that made them): snakemake --report report.html"
              + ("" if CONFIG_ARG == "mini" else " (with the same --config/--configfile)"))
