# Stage 0: the calibration gate (profiles with "calibration": true). Every metric whose weights are here scores
# IQA-PyTorch's calibration pairs; a drifting metric stops the DAG before anything is scored (one line: metric,
# image, expected and measured value). Every evaluation depends on its record.
CALIBRATION = [L.check_file("calibration")] if CFG.get("calibration") else []
# Golden checks: the DAG's own scores of a method whose authors published a per-image log (OSEDiff on RealSR and
# DRealSR) against that log; the report's "Metric checks" shows each (lgcaa metrics compare-log).
GOLDEN = {f"golden-{d}-{m}": (d, m) for d, m in published_log_pairs(CFG)}


rule calibrate:
    """The calibration gate: every metric whose weights are here scores IQA-PyTorch's calibration pairs; a
    drifting metric stops the DAG before anything is scored."""
    output:
        L.check_file("calibration"),
    params:
        metrics=",".join(CFG["metrics"]),  # not passed (the job reads them from the profile): rerun when they change
    priority: 100
    resources:
        **LIGHT_RES,
    log:
        L.log("calibrate"),
    shell:
        "{LGCAA} metrics calibrate --config {CONFIG_ARG} --cache {CACHE} --out {output} > {log} 2>&1 " + FAIL


rule compare_log:
    """Golden check: the evaluation of a method whose outputs are published, image by image against the authors' own
    per-image log (PSNR/SSIM to 1e-4, NIQE to 0.02; weight-bound metrics where their weights are here)."""
    input:
        aggregate=lambda wc: L.aggregate(*GOLDEN[f"golden-{wc.dataset}-{wc.method}"]),
        per_image=lambda wc: L.per_image(*GOLDEN[f"golden-{wc.dataset}-{wc.method}"]),
    output:
        L.check_file("golden-{dataset}-{method}"),
    resources:
        **LIGHT_RES,
    log:
        L.log("compare_log", "{dataset}-{method}"),
    shell:
        "{LGCAA} metrics compare-log --config {CONFIG_ARG} --dataset {wildcards.dataset} --method {wildcards.method}"
        " --out {output} > {log} 2>&1 " + FAIL
