# Stage 1: datasets -> data/<name>/{hr,lr}/*.png + manifest.json


rule data_mini:
    output:
        manifest=f"{DATA}/{{dataset}}/manifest.json",
        record=f"{RES}/data/{{dataset}}.run.json",
    params:
        photos=",".join(CFG.get("mini", {}).get("photos", [])),
        hr_size=CFG.get("mini", {}).get("hr_size", 0),
        scale=CFG.get("mini", {}).get("scale", 4),
        lr_kind=lambda wc: DATASETS[wc.dataset]["lr"],
        seed=CFG["seed"],
        experiment=f"{CFG['profile']}/data",
    log:
        f"{LOGS}/data/{{dataset}}.log",
    shell:
        "{LGCAA} data build-mini --dataset {wildcards.dataset} --photos {params.photos}"
        " --hr-size {params.hr_size} --scale {params.scale} --lr-kind {params.lr_kind} --seed {params.seed}"
        " --out {DATA}/{wildcards.dataset} --experiment {params.experiment} --record {output.record}"
        " > {log} 2>&1 " + FAIL
