# Stage 1: datasets -> data/<name>/{hr,lr}/*.png + manifest.json, and results/data/<name>.run.json
#
# One rule per way a dataset comes into being, chosen by the profile entry's `source` and `lr` through
# rule-level wildcard constraints (the three name sets are disjoint):
#   data_mini        source 'mini'                            built offline from the packaged photos
#   data_fetch       registry source, lr 'released'           DVC (if data.dvc records it and the remote has
#                                                             it), else download + sha256 + atomic unpack
#   data_regenerate  registry source, lr realesrgan|bicubic   DVC, else our seeded LR from the source's HR
#                                                             (+ per-image PSNR vs the released LR)
#   data_subset      registry source, key 'subset' (N/names)  a few pairs of the source set (figures: Fig. 7);
#                    with 'lr_only': its LR images only, an LR-only set (Figs. 5-6)
#   data_folder      source 'folder', key 'lr_dir'            your own LR images, LR-only (figures: Figs. 5-6)
# A regenerated set needs its source's released set: it is fetched under the registry name (data/<source>)
# even if the profile does not list it. Optional per-dataset keys: url, sha256 (archive mirror / your copy),
# degradation (config for regenerated LR), hr_source (folder of source HR images, e.g. ImageNet val), limit (the
# first N pairs by name). Offline, per-file sources (realsr, drealsr) read $LGCAA_DATA_MIRROR (lgcaa.data.files).
import re
import shlex

from lgcaa.errors import UserError



def _alternation(names):
    """Anchored-safe regex matching exactly these names (never matches when empty)."""
    return "|".join(re.escape(n) for n in sorted(names)) or "(?!x)x"


SUBSET_SETS = {d: c["source"] for d, c in DATASETS.items() if "subset" in c}
FOLDER_SETS = {d: c["lr_dir"] for d, c in DATASETS.items() if c["source"] == "folder"}
MINI_SETS = [d for d, c in DATASETS.items() if c["source"] == "mini" and d not in SUBSET_SETS]
RELEASED_SETS = {
    d: c["source"]
    for d, c in DATASETS.items()
    if c["source"] not in ("mini", "folder") and c["lr"] == "released" and d not in SUBSET_SETS
}
REGEN_SETS = {
    d: c["source"] for d, c in DATASETS.items() if c["source"] != "mini" and c["lr"] != "released" and d not in SUBSET_SETS
}
for _src in SUBSET_SETS.values():  # a subset's source: the profile's dataset of that name, else the registry's release
    if _src not in DATASETS:
        RELEASED_SETS.setdefault(_src, _src)
for _d, _src in REGEN_SETS.items():
    if DATASETS[_d].get("hr_source"):
        continue
    if _src in DATASETS and (DATASETS[_src]["source"], DATASETS[_src]["lr"]) != (_src, "released"):
        raise UserError(
            f"datasets/{_d}: regenerating from '{_src}' needs the released '{_src}' at {DATA}/{_src}, but the "
            f"profile's dataset '{_src}' is something else; rename that dataset"
        )
    RELEASED_SETS.setdefault(_src, _src)


def _entry(name):
    return DATASETS.get(name, {"source": name, "lr": "released"})


def fetch_options(wildcards):
    c = _entry(wildcards.dataset)
    opts = ["--expected-count", str(c.get("expected_count", 0))]
    if c.get("limit"):  # the first N pairs by name (a stated subset)
        opts += ["--limit", str(c["limit"])]
    for key in ("url", "sha256"):
        if c.get(key):
            opts += [f"--{key}", c[key]]
    return " ".join(shlex.quote(o) for o in opts)


def regenerate_options(wildcards):
    c = DATASETS[wildcards.dataset]
    opts = ["--lr-kind", c["lr"], "--expected-count", str(c.get("expected_count", 0))]
    if c.get("degradation"):
        opts += ["--degradation", c["degradation"]]
    if c.get("hr_source"):
        opts += ["--hr-source", c["hr_source"]]
    return " ".join(shlex.quote(o) for o in opts)


def regenerate_inputs(wildcards):
    src = REGEN_SETS[wildcards.dataset]
    return [L.manifest(src)] if src in RELEASED_SETS else []


rule data_mini:
    """Build one mini dataset (HR photos from the offline packages, LR by bicubic or Real-ESRGAN degradation) with
    its manifest."""
    output:
        manifest=L.manifest("{dataset}"),
        record=L.data_record("{dataset}"),
    wildcard_constraints:
        dataset=_alternation(MINI_SETS),
    params:
        # not passed (the job reads them from the profile): rerun the job when they change
        photos=",".join(CFG.get("mini", {}).get("photos", [])),
        hr_size=CFG.get("mini", {}).get("hr_size", 0),
        scale=CFG.get("mini", {}).get("scale", 4),
        lr_kind=lambda wc: DATASETS[wc.dataset]["lr"],
        seed=CFG["seed"],
        experiment=f"{CFG['profile']}/data",
    resources:
        **LIGHT_RES,
    benchmark:
        L.benchmark("data", "{dataset}")
    log:
        L.log("data", "{dataset}"),
    shell:
        "{LGCAA} data build-mini --config {CONFIG_ARG} --dataset {wildcards.dataset}"
        " --experiment {params.experiment} --record {output.record}"
        " > {log} 2>&1 " + FAIL


rule data_fetch:
    """Fetch one registry dataset (DVC remote when data.dvc records it, else its pinned URL), verify its sha256s,
    write its manifest."""
    output:
        manifest=L.manifest("{dataset}"),
        record=L.data_record("{dataset}"),
    wildcard_constraints:
        dataset=_alternation(RELEASED_SETS),
    params:
        source=lambda wc: RELEASED_SETS[wc.dataset],
        options=fetch_options,
        data_root=DATA,
        cache=CACHE,
        experiment=f"{CFG['profile']}/data",
    resources:
        **LIGHT_RES,
    benchmark:
        L.benchmark("data", "{dataset}")
    log:
        L.log("data", "{dataset}"),
    shell:
        "{LGCAA} data fetch {params.source} --as {wildcards.dataset} --data-root {params.data_root}"
        " --cache {params.cache}"
        " {params.options} --experiment {params.experiment} --record {output.record} > {log} 2>&1 " + FAIL


rule data_regenerate:
    """Regenerate the LR of one dataset from its source's HR (seeded degradation; DVC first when data.dvc
    records it), with its manifest and the per-image PSNR against the released LR."""
    input:
        regenerate_inputs,
    output:
        manifest=L.manifest("{dataset}"),
        record=L.data_record("{dataset}"),
        compare=L.data_compare("{dataset}"),
    wildcard_constraints:
        dataset=_alternation(REGEN_SETS),
    params:
        source=lambda wc: REGEN_SETS[wc.dataset],
        options=regenerate_options,
        seed=CFG["seed"],
        data_root=DATA,
        experiment=f"{CFG['profile']}/data",
    threads: 2
    resources:
        **LIGHT_RES,
    benchmark:
        L.benchmark("data", "{dataset}")
    log:
        L.log("data", "{dataset}"),
    shell:
        "{LGCAA} data regenerate {wildcards.dataset} --source {params.source} {params.options}"
        " --seed {params.seed} --data-root {params.data_root} --workers {threads} --compare-out {output.compare}"
        " --experiment {params.experiment} --record {output.record} > {log} 2>&1 " + FAIL


rule data_subset:
    """A few pairs of a fetched registry dataset (the first N sorted names, or the listed ones), with its
    manifest."""
    input:
        lambda wc: L.manifest(SUBSET_SETS[wc.dataset]),
    output:
        manifest=L.manifest("{dataset}"),
        record=L.data_record("{dataset}"),
    wildcard_constraints:
        dataset=_alternation(SUBSET_SETS),
    params:
        source=lambda wc: SUBSET_SETS[wc.dataset],
        images=lambda wc: (lambda v: str(v) if isinstance(v, int) else ",".join(v))(DATASETS[wc.dataset]["subset"]),
        lr_only=lambda wc: (" --lr-only --offset %d" % DATASETS[wc.dataset].get("offset", 0)) if DATASETS[wc.dataset].get("lr_only") else "",
        data_root=DATA,
        experiment=f"{CFG['profile']}/data",
    resources:
        **LIGHT_RES,
    log:
        L.log("data", "{dataset}"),
    shell:
        "{LGCAA} data subset {wildcards.dataset} --source {params.source} --images {params.images:q}{params.lr_only}"
        " --data-root {params.data_root} --experiment {params.experiment} --record {output.record} > {log} 2>&1 " + FAIL


rule data_folder:
    """Register your own LR folder as an LR-only dataset (nothing to score against; figures only)."""
    output:
        manifest=L.manifest("{dataset}"),
        record=L.data_record("{dataset}"),
    wildcard_constraints:
        dataset=_alternation(FOLDER_SETS),
    params:
        lr_dir=lambda wc: FOLDER_SETS[wc.dataset],
        data_root=DATA,
        experiment=f"{CFG['profile']}/data",
    resources:
        **LIGHT_RES,
    log:
        L.log("data", "{dataset}"),
    shell:
        "{LGCAA} data folder {wildcards.dataset} --lr-dir {params.lr_dir:q} --data-root {params.data_root}"
        " --experiment {params.experiment} --record {output.record} > {log} 2>&1 " + FAIL


rule data_dvc_cache:
    """After the data step: when data/ equals what data.dvc records (the mini sets are rebuilt byte-identically),
    commit it to DVC's local cache so that `dvc status` is clean; otherwise the log says what to run."""
    input:
        [L.manifest(d) for d in DATASETS],
    output:
        L.data_dvc_cache(),
    params:
        data_root=DATA,
    resources:
        **LIGHT_RES,
    log:
        L.log("data", "dvc-cache"),
    shell:
        "{LGCAA} data dvc-cache --data-root {params.data_root} --out {output} > {log} 2>&1 " + FAIL
