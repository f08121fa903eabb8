# LGCAA: one job per training run (rule `train`) and one job per (run, dataset, steps, seed) sampling job (rule
# `sample`), each depending only on what it needs, so a cluster runs the runs side by side and a Table II
# ablation never waits for the λ grid. Outputs: <results>/models/<run>/ and <results>/sr/<dataset>/<instance>/,
# the layout the evaluator reads (lgcaa.layout). Resources (gpu, cpus_per_task, mem_mb, runtime) come from
# lgcaa.plan.resources, the cost model `lgcaa plan` prints; a multi-GPU train job (`--set-resources
# train:gpu=8`) runs `accelerate launch` with one process per GPU.
from lgcaa.plan.resources import launch_prefix


def backbone_preparation(wildcards):
    """Files a train job needs before it starts, per profile: the tiny backbone pre-trained by rule
    `prepare_backbone` when the profile has `model.prepare` (SD2-base comes pretrained: nothing)."""
    return [L.backbone_done()] if "prepare" in MODEL else []


rule prepare_backbone:
    """Pre-train the tiny backbone (VAE, then UNet) on held-out offline photos: what every training run of
    the profile loads as model.pretrained (lgcaa.model.prepare)."""
    output:
        done=L.backbone_done(),
        record=L.backbone_record(),
    params:
        settings=json.dumps(MODEL.get("prepare", {}), sort_keys=True),  # rerun when the recipe changes
        out=L.backbone_dir(),
        experiment=f"{CFG['profile']}/train",
    threads: 2
    resources:
        gpu=0,
        cpus_per_task=2,
        mem_mb=3000,
        runtime=30,
    benchmark:
        L.benchmark("model", "prepare_backbone")
    log:
        L.log("model", "prepare_backbone"),
    shell:
        "OMP_NUM_THREADS={threads} {LGCAA} prepare-backbone --config {CONFIG_ARG} --out {params.out}"
        " --record {output.record} --experiment {params.experiment} --threads {threads} > {log} 2>&1 " + FAIL


TRAIN_RES = planned("train", lambda wc: wc.run)
SAMPLE_RES = planned("sample", pair)


rule train:
    """Train one LGCAA run (full model or an ablation variant) into its run folder: checkpoints, losses, a job
    record."""
    wildcard_constraints:
        run=one_of(MODEL_RUNS or ["^$"]),
    input:
        backbone_preparation,
    output:
        done=L.train_done("{run}"),
        record=L.train_record("{run}"),
    params:
        # rerun a training when its own resolved settings change, not when another run's do
        settings=lambda wc: json.dumps(run_settings(wc.run), sort_keys=True),
        launch=lambda wc, resources: launch_prefix(PY, resources.gpu, wc.run),
        out=lambda wc: L.model_dir(wc.run),
    threads: TRAIN_RES["cpus_per_task"]
    resources:
        **TRAIN_RES,
    benchmark:
        L.benchmark("model", "train", "{run}")
    log:
        L.log("model", "train", "{run}"),
    shell:
        "OMP_NUM_THREADS={threads} {params.launch} train --config {CONFIG_ARG} --run {wildcards.run}"
        " --out {params.out} --threads {threads} > {log} 2>&1 " + FAIL


rule sample:
    """One LGCAA sampling job: a trained run on one dataset at one step count; an extra seed instance
    (`seeds.k` > 1, M@seed<s>) samples with base seed s, the others with the run's own sample seed."""
    wildcard_constraints:
        method=one_of(sorted({m for _, m in SAMPLE_JOBS}) or ["^$"]),
    input:
        trained=lambda wc: L.train_done(SAMPLE_JOBS[(wc.dataset, wc.method)].run),
        backbone=backbone_preparation,
        manifest=L.manifest("{dataset}"),
    output:
        images=directory(L.sr_dir("{dataset}", "{method}")),
        record=L.sr_record("{dataset}", "{method}"),
    params:
        # not passed (the job reads them from the profile): rerun the job when they change
        steps=lambda wc: SAMPLE_JOBS[(wc.dataset, wc.method)].steps,
        seed=lambda wc: str(SAMPLE_JOBS[(wc.dataset, wc.method)].seed),
        experiment=f"{CFG['profile']}/sr",
    threads: SAMPLE_RES["cpus_per_task"]
    resources:
        **SAMPLE_RES,
    benchmark:
        L.benchmark("model", "sample", "{dataset}", "{method}")
    log:
        L.log("model", "sample", "{dataset}", "{method}"),
    shell:
        "OMP_NUM_THREADS={threads} {LGCAA} sample --config {CONFIG_ARG} --dataset {wildcards.dataset}"
        " --method {wildcards.method} --experiment {params.experiment} --threads {threads}"
        " > {log} 2>&1 " + FAIL
