# Stage 5a: the paper's figures (Figs. 4-11), the report's per-image and training plots, and the paper's claims
# checked on our numbers. Each figure: <results>/figures/<name>.{png,pdf,csv} + a job record (Fig. 8: the
# report's pd_curve.*). Specs come from lgcaa.figures.spec / lgcaa.tables.spec (the same functions the CLI
# uses); the jobs get the profile and the figure's name. Target `figures` = all of them.
from lgcaa.figures.spec import CAPTURE_FIGURES, FIGURES, PANEL_FIGURES, build_figure
from lgcaa.tables.spec import build_curve_spec

FIGURE_SPECS = {n: build_figure(CFG, n) for n in PANEL_FIGURES + CAPTURE_FIGURES}
CURVE_SPEC = build_curve_spec(CFG)
ALL_FIGURES = list(FIGURES) + ["per_image", "training"]
FIGURE_EXPERIMENT = f"{CFG['profile']}/figures"


CAPTURE_RES = planned("figure_capture", lambda wc: wc.fig)  # a GPU when the runs it re-samples use one


rule figure_panels:
    """Figs. 4-7, 9: crops of SR outputs side by side (no model needed)."""
    wildcard_constraints:
        fig=one_of(PANEL_FIGURES),
    input:
        lambda wc: FIGURE_SPECS[wc.fig].inputs,
    output:
        **{**L.figure_files("{fig}"),
           "png": report(L.figure_file("{fig}", "png"), caption="../report/figure.rst", category="Figures")},
        record=L.figure_record("{fig}"),
    params:
        spec=lambda wc: FIGURE_SPECS[wc.fig].to_json(),  # rerun when what the figure shows changes
        experiment=FIGURE_EXPERIMENT,
    resources:
        **LIGHT_RES,
    log:
        L.log("figures", "{fig}"),
    shell:
        "MPLBACKEND=Agg {LGCAA} figure render {wildcards.fig} --config {CONFIG_ARG} --record {output.record}"
        " --experiment {params.experiment} > {log} 2>&1 " + FAIL


rule figure_capture:
    """Figs. 10-11: re-sample a few images with trained runs, capturing attention stages / latents."""
    wildcard_constraints:
        fig=one_of(CAPTURE_FIGURES),
    input:
        lambda wc: FIGURE_SPECS[wc.fig].inputs,
    output:
        **{**L.figure_files("{fig}"),
           "png": report(L.figure_file("{fig}", "png"), caption="../report/figure.rst", category="Figures")},
        record=L.figure_record("{fig}"),
    params:
        spec=lambda wc: FIGURE_SPECS[wc.fig].to_json(),
        experiment=FIGURE_EXPERIMENT,
    threads: CAPTURE_RES["cpus_per_task"]
    resources:
        **CAPTURE_RES,
    benchmark:
        L.benchmark("figures", "{fig}")
    log:
        L.log("figures", "{fig}"),
    shell:
        "MPLBACKEND=Agg OMP_NUM_THREADS={threads} {LGCAA} figure render {wildcards.fig} --config {CONFIG_ARG}"
        " --record {output.record} --experiment {params.experiment} > {log} 2>&1 " + FAIL


rule curves:
    """Fig. 8: PSNR vs LPIPS over sampling steps (NIQE as a labelled stand-in when LPIPS is missing)."""
    input:
        CURVE_SPEC.inputs,
    output:
        **{**L.figure_files("fig8"),
           "png": report(L.figure_file("fig8", "png"), caption="../report/curve.rst", category="Figures")},
        record=L.figure_record("fig8"),
    params:
        spec=CURVE_SPEC.to_json(),
        experiment=FIGURE_EXPERIMENT,
    resources:
        **LIGHT_RES,
    log:
        L.log("figures", "fig8"),
    shell:
        "MPLBACKEND=Agg {LGCAA} figure render fig8 --config {CONFIG_ARG} --record {output.record}"
        " --experiment {params.experiment} > {log} 2>&1 " + FAIL


rule per_image:
    """The report's per-image plot: every Table I method's score on every test image."""
    input:
        TABLE_SPECS["table1"].inputs,
    output:
        **{**L.figure_files("per_image"),
           "png": report(L.figure_file("per_image", "png"), caption="../report/per_image.rst", category="Figures")},
        record=L.figure_record("per_image"),
    params:
        experiment=FIGURE_EXPERIMENT,
    resources:
        **LIGHT_RES,
    log:
        L.log("figures", "per_image"),
    shell:
        "MPLBACKEND=Agg {LGCAA} figure render per_image --config {CONFIG_ARG} --record {output.record}"
        " --experiment {params.experiment} > {log} 2>&1 " + FAIL


rule training_curves:
    """The report's training plot: the loss curves of every trained run."""
    input:
        [L.train_done(r) for r in MODEL_RUNS],
    output:
        **{**L.figure_files("training"),
           "png": report(L.figure_file("training", "png"), caption="../report/training.rst", category="Figures")},
        record=L.figure_record("training"),
    params:
        experiment=FIGURE_EXPERIMENT,
    resources:
        **LIGHT_RES,
    log:
        L.log("figures", "training"),
    shell:
        "MPLBACKEND=Agg {LGCAA} figure render training --config {CONFIG_ARG} --record {output.record}"
        " --experiment {params.experiment} > {log} 2>&1 " + FAIL


rule claims:
    """The paper's §IV claims (results/paper/claims.yaml) on our numbers: paired bootstrap over images and seeds."""
    input:
        claims=f"{PAPER}/claims.yaml",
        evaluations=TABLE_SPECS["table1"].inputs + TABLE_SPECS["table2"].inputs + CURVE_SPEC.inputs,
    output:
        **{**L.claims_files(),
           "html": report(L.claims_file("html"), caption="../report/claims.rst", category="Claims")},
        record=L.claims_record(),
    params:
        paper=PAPER,
        experiment=f"{CFG['profile']}/claims",
    resources:
        **LIGHT_RES,
    log:
        L.log("claims"),
    shell:
        "{LGCAA} claims evaluate --config {CONFIG_ARG} --claims {input.claims} --paper {params.paper}"
        " --record {output.record} --experiment {params.experiment} > {log} 2>&1 " + FAIL


rule figures:
    """Target: every figure (Figs. 4-11) and the report's plots."""
    input:
        [f for n in ALL_FIGURES for f in [*L.figure_files(n).values(), L.figure_record(n)]],
