# Stage 0: the calibration gate (profiles with "calibration": true). Every metric whose weights are here scores
# IQA-PyTorch's calibration pairs; a drifting metric stops the DAG before anything is scored (one line: metric,
# image, expected and measured value). Every evaluation depends on its record.
CALIBRATION = [L.check_file("calibration")] if CFG.get("calibration") else []


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
