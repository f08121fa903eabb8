"""The dataset registry: one explicit table of every dataset the harness knows, with where it comes from.

Per dataset: source URL(s) of the archive, its sha256 (None = not pinned yet: the first fetch records the
digest in `<data>/archives.lock.json` and warns), the folder inside the archive and the names of its HR/LR
sub-folders, expected pair count, HR/LR sizes, scale, licence note, and whether LR is released or generated.

Sources (checked, not guessed):
- StableSR test sets: "Our test sets associated with the results in our paper are now available at
  [HuggingFace](https://huggingface.co/datasets/Iceclear/StableSR-TestSets)" (IceClear/StableSR README,
  2023-10-08); the repository holds `StableSR_testsets.zip` (3.06 GB) with `StableSR_testsets/DIV2K_V2_val`
  (`lq/`, `gt/`), `RealSRVal_crop128` and `DrealSRVal_crop128` (`test_LR/`, `test_HR/`). Peers' scripts use
  other sub-folder names for the same sets, so several are accepted (exactly one must be present).
- RealSR and DRealSR also come file by file (`file_set`, the default source): the same crops published in
  cswry/OSEDiff at commit fcc4f09 (`preset/datasets/benchmark_{realsr,drealsr}/test_{HR,LR}`, "directly
  copied from StableSR" says its README), each file pinned by sha256 in `lgcaa/data/sources/osediff.json`
  (lgcaa.data.files). HR and LR files carry the same names upstream (RealSR: `*_LR4.png` for both), so the
  pairs are matched by name as in the archive.
- ResShift ImageNet-Test: released on Google Drive. Since zsyOAOA/ResShift commit 94cd0aa (2024-03-12,
  "update readme and environment") its README lists, under "Reproducing the results in our paper" /
  "Prepare data", "Synthetic data for image super-resolution: [Link](https://drive.google.com/file/d/
  1NhmpON2dB2LjManfX6uIj8Pj_Jx6N-6l/view?usp=sharing)". Google Drive serves a confirmation page, not the
  file, to scripts, so it is a *manual* download (like LDL's and DASR's weights): save it by hand under the
  download cache as `archive`; the fetch then verifies and unpacks it. Earlier (issue #23) the maintainer
  pointed to scripts/prepare_testing_imagenet.py instead; regenerating from ImageNet val (`regenerate`)
  stays the fallback. The archive's inner layout is not documented: its `gt`/`lq` folders are found by name.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lgcaa.errors import UserError

STABLESR_ZIP_URL = "https://huggingface.co/datasets/Iceclear/StableSR-TestSets/resolve/main/StableSR_testsets.zip"
STABLESR_LICENCE = ("Published by the StableSR authors on Hugging Face (Iceclear/StableSR-TestSets; see its "
                    "dataset card). The images keep the terms of their original datasets (DIV2K, RealSR, "
                    "DRealSR: research use, see their publishers); do not redistribute them.")
RESSHIFT_IMAGENET_TEST_URL = "https://drive.google.com/file/d/1NhmpON2dB2LjManfX6uIj8Pj_Jx6N-6l/view?usp=sharing"
HR_DIR_NAMES = ("gt", "test_HR", "HR", "hr")
LR_DIR_NAMES = ("lq", "test_LR", "LR", "lr")


@dataclass(frozen=True)
class DatasetSpec:
    """One registry entry. Sizes are square side lengths in pixels."""

    name: str
    title: str
    expected_count: int
    hr_size: int
    lr_size: int
    scale: int
    lr: str  # "released": LR ships with the archive | "generated": only by regeneration
    licence: str
    regenerate_config: str  # degradation config (lgcaa.data.degrade.CONFIGS) that regenerates its LR
    urls: tuple[str, ...] = ()  # where the archive comes from (none: built or regenerated here)
    archive: str | None = None  # file name of the archive in the download cache
    archive_sha256: str | None = None  # None = unpinned (recorded on first fetch, warned about)
    archive_root: str = ""  # folder inside the archive holding the HR/LR sub-folders
    notes: str = ""
    hr_dirs: tuple[str, ...] = HR_DIR_NAMES
    lr_dirs: tuple[str, ...] = LR_DIR_NAMES
    archive_size: int | None = None
    extra: dict[str, str] = field(default_factory=dict)
    paper_label: str | None = None  # its name in the paper's Table I (results/paper/table1.csv); None: not there
    manual: bool = False  # the URL is a web page (Google Drive): the archive must be saved into the cache by hand
    file_set: str | None = None  # per-file source (lgcaa/data/sources/<file_set>.json), preferred to the archive
    file_groups: tuple[str, str] = ("", "")  # its (HR group, LR group)

    @property
    def pinned(self) -> bool:
        return self.archive_sha256 is not None


def _stablesr(name: str, title: str, root: str, count: int, paper_label: str, notes: str,
             file_set: str | None = None) -> DatasetSpec:
    """A test set of StableSR's archive: 128 px LR, 512 px HR, released LR; `file_set`: also file by file."""
    return DatasetSpec(
        name=name, title=title, urls=(STABLESR_ZIP_URL,), archive="StableSR_testsets.zip",
        archive_root=f"StableSR_testsets/{root}", expected_count=count, hr_size=512, lr_size=128, scale=4,
        lr="released", licence=STABLESR_LICENCE, regenerate_config="realesrgan-x4plus", notes=notes,
        paper_label=paper_label, file_set=file_set, file_groups=(f"{name}/hr", f"{name}/lr") if file_set else ("", ""),
    )


DATASETS: dict[str, DatasetSpec] = {
    "div2k-val": _stablesr(
        "div2k-val", "DIV2K validation (StableSR DIV2K_V2_val)", "DIV2K_V2_val", 3000, "DIV2K-Val",
        "3000 512x512 crops of DIV2K valid HR; LR made by StableSR with the Real-ESRGAN degradation "
        "(paper IV-A: 'the same degradation pipeline as in the training dataset').",
    ),
    "realsr": _stablesr(
        "realsr", "RealSR (StableSR RealSRVal_crop128)", "RealSRVal_crop128", 100, "RealSR",
        "Centre crops of RealSR V3 (Cai et al. 2019, Canon+Nikon) test pairs; real LR captured by camera "
        "(regenerating it synthetically only serves the regenerated-vs-released comparison). Default source: "
        "file by file from cswry/OSEDiff@fcc4f09 (sha256 per file); --from archive: StableSR's zip.",
        file_set="osediff",
    ),
    "drealsr": _stablesr(
        "drealsr", "DRealSR (StableSR DrealSRVal_crop128)", "DrealSRVal_crop128", 93, "DRealSR",
        "Centre crops of DRealSR (Wei et al. 2020) x4 test pairs; real LR captured by camera. Default source: "
        "file by file from cswry/OSEDiff@fcc4f09 (sha256 per file); --from archive: StableSR's zip.",
        file_set="osediff",
    ),
    "imagenet-test": DatasetSpec(
        name="imagenet-test",
        title="ImageNet-Test (ResShift)",
        urls=(RESSHIFT_IMAGENET_TEST_URL,),
        archive="ResShift_ImageNet-Test.archive",
        expected_count=3000,
        hr_size=256,
        lr_size=64,
        scale=4,
        lr="released",
        licence="ImageNet (ILSVRC2012) terms of access: non-commercial research and educational use; the "
                "validation images must be obtained from image-net.org by each user.",
        regenerate_config="resshift-testing",
        notes="Released by ResShift's authors on Google Drive (README since commit 94cd0aa, 'Synthetic data for "
              "image super-resolution'): a manual download. Fallback: regenerate it from ImageNet val: "
              "lgcaa data regenerate imagenet-test-regen --source imagenet-test --hr-source /path/to/ILSVRC2012/val.",
        manual=True,
    ),
    "mini": DatasetSpec(
        name="mini",
        title="Mini (packaged photos, offline)",
        expected_count=8,
        hr_size=256,
        lr_size=64,
        scale=4,
        lr="generated",
        licence="Photos shipped inside scikit-image, scikit-learn and matplotlib (public domain / CC0 / "
                "their packages' licences); see lgcaa.data.photos.",
        regenerate_config="realesrgan-x4plus",
        notes="Built offline by `lgcaa data build-mini` from the profile's `mini` section (centre crops; "
              "bicubic or Real-ESRGAN LR); pair count and sizes come from the profile.",
    ),
}


def get_spec(name: str) -> DatasetSpec:
    if name not in DATASETS:
        raise UserError(f"unknown dataset '{name}'; registry datasets: {', '.join(DATASETS)} (lgcaa data list)")
    return DATASETS[name]
