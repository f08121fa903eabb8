# LGCAA: train every run of `model.runs` (one process: diffusers' import costs seconds), then sample every
# (run, dataset, steps) job (one process) into results/sr/<dataset>/<method>/, the layout the evaluator reads.


rule train_models:
    output:
        done=[f"{RES}/models/{r}/train.json" for r in MODEL_RUNS],
        records=[f"{RES}/models/{r}/run.json" for r in MODEL_RUNS],
    params:
        runs=" ".join(f"--run {r}" for r in MODEL_RUNS),
        model=json.dumps({k: v for k, v in MODEL.items()}, sort_keys=True),  # rerun when the model section changes
    threads: 2
    resources:
        gpu=1,
    log:
        f"{LOGS}/model/train.log",
    shell:
        "{LGCAA} train --config {CONFIG_ARG} {params.runs} --out-root {RES}/models --threads {threads}"
        " > {log} 2>&1 " + FAIL


rule sample_models:
    input:
        trained=rules.train_models.output.done,
        manifests=sorted({f"{DATA}/{j.dataset}/manifest.json" for j in MODEL_JOBS}),
    output:
        images=[directory(f"{RES}/sr/{j.dataset}/{j.method}") for j in MODEL_JOBS],
        records=[f"{RES}/sr/{j.dataset}/{j.method}.run.json" for j in MODEL_JOBS],
    params:
        model=json.dumps({k: v for k, v in MODEL.items()}, sort_keys=True),
    threads: 2
    resources:
        gpu=1,
    log:
        f"{LOGS}/model/sample.log",
    shell:
        "{LGCAA} sample --config {CONFIG_ARG} --models {RES}/models --data-root {DATA} --out-root {RES}/sr"
        " --threads {threads} > {log} 2>&1 " + FAIL


rule sample_seed:
    """An extra seed of an LGCAA sampling job (`seeds.k` > 1): same trained run and steps, another base seed."""
    wildcard_constraints:
        method=one_of(sorted({inst for _, inst in SEED_SAMPLES}) or ["^$"]),
    input:
        trained=lambda wc: f"{RES}/models/{SEED_SAMPLES[(wc.dataset, wc.method)][0].run}/train.json",
        manifest=f"{DATA}/{{dataset}}/manifest.json",
    output:
        images=directory(f"{RES}/sr/{{dataset}}/{{method}}"),
        record=f"{RES}/sr/{{dataset}}/{{method}}.run.json",
    params:
        run_dir=lambda wc: f"{RES}/models/{SEED_SAMPLES[(wc.dataset, wc.method)][0].run}",
        steps=lambda wc: SEED_SAMPLES[(wc.dataset, wc.method)][0].steps,
        seed=lambda wc: SEED_SAMPLES[(wc.dataset, wc.method)][1],
    threads: 2
    resources:
        gpu=1,
    log:
        f"{LOGS}/model/sample_{{dataset}}_{{method}}.log",
    shell:
        "{LGCAA} sample --run-dir {params.run_dir} --lr-dir {DATA}/{wildcards.dataset}/lr --out {output.images}"
        " --steps {params.steps} --seed {params.seed} --record {output.record} --threads {threads}"
        " > {log} 2>&1 " + FAIL
