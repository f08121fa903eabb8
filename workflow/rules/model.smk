# LGCAA: train every run of `model.runs` (one process: diffusers' import costs seconds), then sample every
# (run, dataset, steps) job (one process) into results/sr/<dataset>/<method>/, the layout the evaluator reads.


rule train_models:
    output:
        done=[L.train_done(r) for r in MODEL_RUNS],
        records=[L.train_record(r) for r in MODEL_RUNS],
    params:
        runs=" ".join(f"--run {r}" for r in MODEL_RUNS),
        model=json.dumps({k: v for k, v in MODEL.items()}, sort_keys=True),  # rerun when the model section changes
        out_root=L.models_dir(),
    threads: 2
    resources:
        gpu=1,
    log:
        L.log("model", "train"),
    shell:
        "{LGCAA} train --config {CONFIG_ARG} {params.runs} --out-root {params.out_root} --threads {threads}"
        " > {log} 2>&1 " + FAIL


rule sample_models:
    input:
        trained=rules.train_models.output.done,
        manifests=sorted({L.manifest(j.dataset) for j in MODEL_JOBS}),
    output:
        images=[directory(L.sr_dir(j.dataset, j.instance)) for j in MODEL_JOBS],
        records=[L.sr_record(j.dataset, j.instance) for j in MODEL_JOBS],
    params:
        model=json.dumps({k: v for k, v in MODEL.items()}, sort_keys=True),
        models=L.models_dir(),
        out_root=L.sr_root(),
    threads: 2
    resources:
        gpu=1,
    log:
        L.log("model", "sample"),
    shell:
        "{LGCAA} sample --config {CONFIG_ARG} --models {params.models} --data-root {DATA} --out-root {params.out_root}"
        " --threads {threads} > {log} 2>&1 " + FAIL


rule sample_seed:
    """An extra seed of an LGCAA sampling job (`seeds.k` > 1): same trained run and steps, another base seed."""
    wildcard_constraints:
        method=one_of(sorted({inst for _, inst in SEED_SAMPLES}) or ["^$"]),
    input:
        trained=lambda wc: L.train_done(SEED_SAMPLES[(wc.dataset, wc.method)].run),
        manifest=L.manifest("{dataset}"),
    output:
        images=directory(L.sr_dir("{dataset}", "{method}")),
        record=L.sr_record("{dataset}", "{method}"),
    params:
        run_dir=lambda wc: L.model_dir(SEED_SAMPLES[(wc.dataset, wc.method)].run),
        steps=lambda wc: SEED_SAMPLES[(wc.dataset, wc.method)].steps,
        seed=lambda wc: SEED_SAMPLES[(wc.dataset, wc.method)].seed,
        lr_dir=L.lr_dir("{dataset}"),
    threads: 2
    resources:
        gpu=1,
    log:
        L.log("model", "sample_{dataset}_{method}"),
    shell:
        "{LGCAA} sample --run-dir {params.run_dir} --lr-dir {params.lr_dir} --out {output.images}"
        " --steps {params.steps} --seed {params.seed} --record {output.record} --threads {threads}"
        " > {log} 2>&1 " + FAIL
