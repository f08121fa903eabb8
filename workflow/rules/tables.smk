# Stage 4: MLflow sync of every job record, then Tables I-III (+ reported vs reproduced).
# Table specs (which aggregates, which paper cells) come from lgcaa.tables.spec.build_spec(CFG, name), the same
# function `lgcaa table render NAME --config ...` calls, so the DAG and the tables cannot disagree.
import os

from lgcaa.layout import TABLE_SUFFIXES
from lgcaa.tables.spec import TABLE_NAMES, build_spec

TABLE_SPECS = {name: build_spec(CFG, name) for name in TABLE_NAMES}
# the paper's numbers, committed with the workflow; relative to the working directory, so a moved or copied
# checkout (results included) is the same job to Snakemake and reruns nothing
PAPER = os.path.relpath(os.path.join(workflow.basedir, "results", "paper"))
# an MLflow UI's URL for absolute links (report.mlflow_ui); none: links relative to `lgcaa ui` (MLflow + report, one port)
MLFLOW_UI = CFG.get("report", {}).get("mlflow_ui", "")
UI_FLAG = f"--ui {MLFLOW_UI}" if MLFLOW_UI else ""
HEADLINE_DIR = L.headline_dir()  # declared as the DVC metrics in dvc.yaml
TABLE_FILES = {name: L.table_files(name) for name in TABLE_NAMES}
# Every evaluation's files, inputs of the targets (`tables`, `table1`...): Snakemake does not regenerate a missing
# intermediate file when what was built from it looks up to date ("Nothing to be done" while an evaluation folder
# lacks its per_image.csv, e.g. after a kill between Snakemake removing a job's outputs and marking them
# incomplete), but it always makes a target's inputs exist.
EVAL_FILES = eval_files()


wildcard_constraints:
    table="|".join(TABLE_NAMES),


rule mlflow_sync:
    """Log every finished job record (data, SR, training, eval) into the MLflow store results/mlflow.db."""
    input:
        data_records,
        sr_records,
        eval_records,
    output:
        L.mlflow_file("runs"),
    resources:
        **LIGHT_RES,
    log:
        L.log("mlflow_sync"),
    shell:
        "{LGCAA} mlflow-sync {input} --results {RES} --out {output} > {log} 2>&1 " + FAIL


rule mlflow_links:
    """Map each (dataset, method) cell to the URL of its MLflow eval run, for the tables and the report."""
    input:
        L.mlflow_file("runs"),
    output:
        L.mlflow_file("links"),
    params:
        ui=UI_FLAG,
    resources:
        **LIGHT_RES,
    log:
        L.log("mlflow_links"),
    shell:
        "{LGCAA} report links --runs {input} --out {output} {params.ui} > {log} 2>&1 " + FAIL


rule table:
    """Render one of Tables I-III (md, tex, html, csv) and its reported-vs-reproduced comparison with the paper's
    numbers."""
    input:
        evaluations=lambda wc: TABLE_SPECS[wc.table].inputs,  # aggregates and per-image scores: what it reads
        paper=f"{PAPER}/{{table}}.csv",
        links=L.mlflow_file("links"),
    output:
        # the table itself (html) goes into `snakemake --report`, with its caption
        [report(f, caption="../report/table.rst", category="Tables") if f == L.table_file("{table}", "html") else f
         for f in L.table_files("{table}")],
        record=L.table_record("{table}"),
    params:
        spec=lambda wc: TABLE_SPECS[wc.table].to_json(),  # not passed: reruns the table when its spec changes
        paper=PAPER,
        experiment=f"{CFG['profile']}/report",
    resources:
        **LIGHT_RES,
    log:
        L.log("tables", "{table}"),
    shell:
        "{LGCAA} table render {wildcards.table} --config {CONFIG_ARG}"
        " --paper {params.paper} --links {input.links} --record {output.record} --experiment {params.experiment}"
        " > {log} 2>&1 " + FAIL


rule headline:
    """The compact metrics `dvc metrics show` prints: one small JSON per Table I dataset and method, and the
    number of the paper's claims per verdict (rule claims)."""
    input:
        table=L.table_file("table1", "metrics.json"),
        claims=L.claims_file("csv"),
    output:
        directory(HEADLINE_DIR),
    resources:
        **LIGHT_RES,
    log:
        L.log("tables", "headline"),
    shell:
        "{LGCAA} table headline --config {CONFIG_ARG} > {log} 2>&1 " + FAIL


rule table1:
    """Target: Table I only."""
    input:
        TABLE_FILES["table1"],
        TABLE_SPECS["table1"].inputs,  # its evaluation files: rebuilt when missing (see EVAL_FILES)


rule table2:
    """Target: Table II only."""
    input:
        TABLE_FILES["table2"],
        TABLE_SPECS["table2"].inputs,  # its evaluation files: rebuilt when missing (see EVAL_FILES)


rule table3:
    """Target: Table III only."""
    input:
        TABLE_FILES["table3"],
        TABLE_SPECS["table3"].inputs,  # its evaluation files: rebuilt when missing (see EVAL_FILES)
