"""The weights manifest: every file the nine metrics (and the model) load, with URL, sha256 and destination.

`WeightFile` is the one declaration of a weight file in the harness: the metrics' files below live under the
torch hub folder (`root=HUB`), the baselines' files (declared in `baselines/registry.py`) under the harness
cache dir (`root=CACHE`); `lgcaa.weights.roots` resolves both, `lgcaa.weights.manager` fetches and verifies
both the same way.

Destinations of the metrics' files are relative to `torch.hub.get_dir()` (where torchvision, pyiqa and CLIP
look for them): `checkpoints/` (torchvision), `pyiqa/` (pyiqa), `clip/` (OpenAI CLIP as loaded by pyiqa).

Digests. A sha256 is pinned only where it is published (the source is recorded in `note`); the
names of torchvision and pyiqa files end in the first 8 hex digits of their sha256, which every pinned digest
below matches. Where no full digest is public, `sha256` is None: `lgcaa weights fetch` then computes it,
records it in the local lock file (`lgcaa-weights.lock.json` in the hub dir) and warns; later `verify` runs
check against that record. Digests are never guessed.

Offline producers (`offline`): a file that can be made without network from something already installed —
NIQE's parameters converted from basicsr's shipped npz, LPIPS' linear heads copied from the `lpips` wheel
(byte-identical: same sha256 as pyiqa's file).
"""

from __future__ import annotations

from dataclasses import dataclass

from lgcaa.errors import UserError

HF_PYIQA = "https://huggingface.co/chaofengc/IQA-PyTorch-Weights/resolve/main/"
GH_PYIQA = "https://github.com/chaofengc/IQA-PyTorch/releases/download/v0.1-weights/"
TORCHVISION = "https://download.pytorch.org/models/"


HUB, CACHE = "hub", "cache"  # the two roots a weight file can live under (lgcaa.weights.roots)


@dataclass(frozen=True)
class WeightFile:
    dest: str  # path relative to its root; also the file's id on the command line
    urls: tuple[str, ...]  # mirrors, tried in order
    sha256: str | None  # pinned digest, or None (unpinned: recorded locally on first fetch, or pinned by the user)
    size: int | None  # bytes, where published together with the digest
    used_by: tuple[str, ...]  # metric names, "model", or the baseline that loads it
    note: str  # where the digest comes from, why it is unpinned, or how to fetch a manual entry
    offline: str | None = None  # key of an offline producer (lgcaa.weights.offline.PRODUCERS)
    root: str = HUB  # HUB: torch.hub.get_dir() (metrics, model); CACHE: the harness cache dir (baselines)
    manual: bool = False  # urls[0] is a web folder or page, not one file: fetched by hand (see `note`)

    @property
    def name(self) -> str:
        return self.dest.rsplit("/", 1)[-1]


def name_hash_prefix(name: str) -> str | None:
    """The sha256 prefix a file name carries by torch hub convention ('vgg16-397923af.pth' -> '397923af')."""
    tag = name.rsplit(".", 1)[0].rsplit("-", 1)[-1]
    if len(tag) >= 8 and all(c in "0123456789abcdef" for c in tag):
        return tag
    return None


def _pyiqa(name: str) -> tuple[str, ...]:
    return (HF_PYIQA + name, GH_PYIQA + name)


FILES: tuple[WeightFile, ...] = (
    WeightFile(
        "checkpoints/alexnet-owt-7be5be79.pth", (TORCHVISION + "alexnet-owt-7be5be79.pth",),
        "7be5be791159472b1fbf3c69796f7cb30dca7ad8466c2df70058c37116cdee02", 244_408_911, ("lpips", "model"),
        "published by several projects pinning torchvision's IMAGENET1K_V1 AlexNet; prefix = torchvision's hash check",
    ),
    WeightFile(
        "pyiqa/LPIPS_v0.1_alex-df73285e.pth", _pyiqa("LPIPS_v0.1_alex-df73285e.pth"),
        "df73285e35b22355a2df87cdb6b70b343713b667eddbda73e1977e0c860835c0", 6_009, ("lpips",),
        "equals lpips==0.1.4's weights/v0.1/alex.pth (checked here) and published digests of LPIPS v0.1 alex",
        offline="lpips-wheel-alex",
    ),
    WeightFile(
        "checkpoints/vgg16-397923af.pth", (TORCHVISION + "vgg16-397923af.pth",),
        "397923af8e79cdbb6a7127f12361acd7a2f83e06b05044ddf496e83de57a5bf0", 553_433_881, ("dists",),
        "published by several projects pinning torchvision's IMAGENET1K_V1 VGG16",
    ),
    WeightFile(
        "pyiqa/DISTS_weights-f5e65c96.pth", _pyiqa("DISTS_weights-f5e65c96.pth"),
        "f5e65c96230b7f6ca995691647d482237e4cab8a50c5c4a5784f219ef0748218", None, ("dists",),
        "published digest of the official DISTS weights.pt (dingkeyan93/DISTS), whose prefix pyiqa's name carries",
    ),
    WeightFile(
        "pyiqa/pt_inception-2015-12-05-6726825d.pth",
        (*_pyiqa("pt_inception-2015-12-05-6726825d.pth"),
         "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth"),
        "6726825d0af5f729cebd5821db510b11b1cfad8faad88a03f1befd49fb9129b2", 95_628_359, ("fid",),
        "published digest and size of pytorch-fid's FID Inception (also torch-fidelity's copy)",
    ),
    WeightFile(
        "pyiqa/musiq_koniq_ckpt-e95806b9.pth", _pyiqa("musiq_koniq_ckpt-e95806b9.pth"),
        "e95806b9eae5f3814c410f574ba8e552362bd5bc63d758ed5b97860f5d6185aa", None, ("musiq",),
        "published digest of pyiqa's musiq_koniq_ckpt",
    ),
    WeightFile(
        "clip/RN50.pt",
        ("https://openaipublic.azureedge.net/clip/models/"
         "afeb0e10f9e5a86da6080e35cf09123aca3b358a0c3e3b6c78a7b63bc04b6762/RN50.pt",),
        "afeb0e10f9e5a86da6080e35cf09123aca3b358a0c3e3b6c78a7b63bc04b6762", None, ("clipiqa",),
        "OpenAI's URL carries the sha256, which the clip loader also checks",
    ),
    WeightFile(
        "pyiqa/MANIQA_PIPAL-ae6d356b.pth", _pyiqa("MANIQA_PIPAL-ae6d356b.pth"),
        None, None, ("maniqa",),
        "UNPINNED: no full sha256 found in public sources offline (name prefix ae6d356b is checked); "
        "recorded locally on first fetch",
    ),
    WeightFile(
        "pyiqa/niqe_modelparameters.mat", _pyiqa("niqe_modelparameters.mat"),
        None, None, ("niqe",),
        "generated offline from basicsr's niqe_pris_params.npz (a .mat header holds a timestamp, so its content "
        "is verified, not its bytes)",
        offline="niqe-from-basicsr",
    ),
)

# Files the metrics do NOT need although pyiqa's code would download them, and why.
NOT_NEEDED: dict[str, str] = {
    "timm/vit_base_patch8_224 (ImageNet, Hugging Face hub)": (
        "MANIQA builds its ViT with timm pretrained=True and then loads MANIQA_PIPAL with strict=True, which "
        "overwrites every ViT parameter; we build the ViT without the ImageNet download (numbers identical)"
    ),
}

# The model's own pretrained sources are Hugging Face repo snapshots, fetched with `hf download` (see the
# messages in lgcaa/model/backbone.py and conditioning.py); AlexNet above is shared with the DPACM loss.
EXTERNAL: dict[str, str] = {
    "stabilityai/stable-diffusion-2-base": ("hf download stabilityai/stable-diffusion-2-base --include 'unet/*' "
                                            "'vae/*' 'scheduler/*' --local-dir weights/sd2-base"),
    "facebook/dino-vitb16": "hf download facebook/dino-vitb16 --local-dir weights/dino-vitb16",
}

BY_DEST: dict[str, WeightFile] = {f.dest: f for f in FILES}


def files_for(names: list[str]) -> list[WeightFile]:
    """Files needed by metric names / 'model', or named directly by dest or file name; [] for none.

    Raises UserError for an unknown name. (Baseline names are resolved by the caller: baselines.registry.)
    """
    out: list[WeightFile] = []
    for n in names:
        hits = [f for f in FILES if n in f.used_by or n in (f.dest, f.name)]
        if not hits and n not in _METRICS_WITHOUT_FILES:
            known = sorted({u for f in FILES for u in f.used_by} | set(_METRICS_WITHOUT_FILES))
            raise UserError(f"unknown weights target '{n}'; use a metric name ({', '.join(known)}), 'all', "
                            "or a file from `lgcaa weights list`")
        out += [f for f in hits if f not in out]
    return out


_METRICS_WITHOUT_FILES = ("psnr", "ssim")
