# LGCAA reproducibility harness — the whole DAG.
#   snakemake --cores 8 tables                       # embedded default profile `mini` (offline)
#   snakemake --cores 8 tables --config profile=NAME # another packaged profile
#   snakemake --cores 8 tables --configfile my.yaml  # your own config (validated against the schema)
#   snakemake --cores 8 figures                      # only the paper's figures (Figs. 4-11) and the report's plots
# The Snakefile only includes; rules are thin and call `lgcaa` sub-commands (tested functions).

from snakemake.utils import min_version

min_version("9.0")


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/sr.smk"
include: "workflow/rules/model.smk"
include: "workflow/rules/calibrate.smk"
include: "workflow/rules/eval.smk"
include: "workflow/rules/tables.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        rules.tables.input,
