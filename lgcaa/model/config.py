"""Typed, validated settings for the LGCAA model, its training and its sampling.

A profile's free-form `"model"` object has this shape (every key optional, defaults below):

    {"prepare": {...PrepareConfig...},  (tiny only: pre-train the backbone into model.pretrained)
     "model": {...ModelConfig...}, "train": {...TrainConfig...}, "sample": {...SampleConfig...},
     "runs": {"<run>": {"model": {...}, "train": {...}, "sample": {...},
                        "label": "...", "datasets": ["..."], "sample_steps": [40]}}}

`resolve_run(section, run)` merges the base settings with one run's overrides into an `LGCAAConfig`.
Unknown keys and bad values raise `UserError` naming the field and the allowed values.

The backbones' constructor configs (`ARCH_PRESETS`) live in `lgcaa.model.presets`.

Why one module (about 450 lines): the dataclasses are the model section's schema and the parsing below walks
exactly their fields, so a setting's type, default, check, merge and override are read in one place.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lgcaa.data.lowres import LR_KINDS
from lgcaa.data.photos import HELD_OUT_PHOTOS, PHOTOS
from lgcaa.errors import UserError
from lgcaa.layout import Layout
from lgcaa.model.presets import ARCH_PRESETS, ARCHS, DINO_HUB_ID, ArchPreset
from lgcaa.model.variants import (
    ATTENTION_VARIANTS,
    CLAMP_BOUNDS,
    DEFAULT_ATTENTION,
    DEFAULT_LGCAA_OUTPUT,
    DEFAULT_NORM_INIT,
    LGCAA_OUTPUTS,
    NORM_INITS,
    default_clamp,
)

DPACM_VARIANTS = ("none", "perceptual", "wasserstein", "dpacm")
LPIPS_BACKBONES = ("pretrained", "random (offline)")
COLOR_FIXES = ("none", "adain", "wavelet")
MIXED_PRECISIONS = ("no", "fp16", "bf16")
SAMPLE_PRECISIONS = ("fp32", "fp16", "bf16")
DEGRADATIONS = tuple(LR_KINDS)  # train.degradation: the LR kinds of the test sets (lgcaa.data.lowres)
LR_SCHEDULES = ("constant", "constant_with_warmup", "cosine", "linear")
# Readings of the paper that a switch selects (docs/interpretation.md gives the sentences behind each default)
W1_SPACES = ("embedding", "latent")  # model.w1_on: projected embedding vs HR | W1 between x̂₀ and z₀ latents
UNET_TRAINABLE = ("attention", "added")  # III-A: UNet attention layers train | IV-A: existing UNet modules frozen
DINO_INPUTS = ("lr", "hr")  # what DINO sees while training (sampling always has only the LR)
CROPS = ("ldm", "random")  # train.crop: LDM's ImageNetSR crop | a fixed-size crop at native resolution
START_POINTS = ("lr", "noise")  # sample.start_point: SeeSR's noised LR latent | pure noise

# ----------------------------------------------------------------------------------------------------------
# User-facing settings
# ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelConfig:
    """What network is built.

    pretrained: a local diffusers folder (unet/, vae/, scheduler/) or, for sd2-base, a hub id; None = random
        init from `init_seed` (sd2-base: benchmarks only). For tiny, the folder written by
        `lgcaa prepare-backbone` (a VAE and UNet pre-trained on held-out offline photos).
    dino: a local transformers folder or hub id of a DINO ViT; None = random init of the preset's ViT.
    attention: LGCAA variant (Table II rows, `lgcaa.model.variants`); window: local window side in latent tokens;
    clamp: |value| bound after global attention (null: the arch's measured bound, `variants.CLAMP_BOUNDS`;
        a parsed config holds the number); mlp_ratio: hidden width of the LGCAA MLP / channels;
    lgcaa_output: "mlp" (Y = U + MLP(U), U = LayerNorm(clamp(G)); paper) or "residual" (Y = G + MLP(U));
    norm_init: "pretrained" = the post-merge LayerNorm's (γ, β) fitted, per layer and channel, to reproduce the
        pretrained self-attention output on held-out photos (only with a pretrained backbone; keeps the prior at
        step 0, `lgcaa.model.calibrate`); "unit" = LayerNorm's default (1, 0).
    attention_checkpointing: recompute LGCAA's local stage and MLP in backward (memory for time);
    compile_attention: torch.compile the LGCAA processors (speed only; numerics within tolerance).
    dpacm: loss variant (Table II rows); lambda_w: Wasserstein-1 weight; lambda_p: LPIPS weight (Table III).
    w1_on: "embedding" = W1 between the RGB projection of ControlNet's conditioning embedding and the HR image
        (default: the "conditioning mechanism in the pixel space"); "latent" = per-channel W1 between the
        predicted x̂₀ latent and z₀ (its error grows with √(1−ᾱ)/√ᾱ, 14.6 at t = 999). LPIPS always compares
        the projection with the HR image (it needs RGB; the paper never decodes x̂₀). Defaults (λ_w, λ_p) =
        (2.0, 0.3): Table III's printed (2.0, 0.3) cell read as (λ_w, λ_p) (`tables.table3.columns`).
    unet_trainable: "attention" = the UNet's attention layers train (III-A); "added" = every existing UNet
        module is frozen and only LGCAA's own parameters train in the UNet (IV-A, "We freeze the existing
        modules of the UNet").
    dino_input: "lr" = DINO sees the bicubic-upsampled LR in training and sampling; "hr" = the HR crop in
        training ("meaningful high-quality features"), the LR at sampling (the only input there is).
    lpips_backbone: "pretrained" = torchvision ImageNet AlexNet (paper); "random (offline)" = seeded random
        AlexNet trunk with the wheel's calibrated linear heads (mini profile only; flagged in every output).
    """

    arch: str = "tiny"
    pretrained: str | None = None
    dino: str | None = None
    attention: str = DEFAULT_ATTENTION
    window: int = 8
    clamp: float | None = None
    mlp_ratio: float = 1.0
    lgcaa_output: str = DEFAULT_LGCAA_OUTPUT
    norm_init: str = DEFAULT_NORM_INIT
    attention_checkpointing: bool = True
    compile_attention: bool = False
    attention_in_controlnet: bool = False
    dpacm: str = "dpacm"
    lambda_w: float = 2.0
    lambda_p: float = 0.3
    w1_on: str = "embedding"
    unet_trainable: str = "attention"
    dino_input: str = "lr"
    lpips_backbone: str = "pretrained"
    init_seed: int = 0

    @property
    def preset(self) -> ArchPreset:
        return ARCH_PRESETS[self.arch]

    def attention_settings(self) -> dict[str, Any]:
        """Keyword arguments of `lgcaa.model.attention.install_attention` besides the variant."""
        clamp = default_clamp(self.arch) if self.clamp is None else self.clamp
        return {"window": self.window, "clamp": clamp, "mlp_ratio": self.mlp_ratio, "output": self.lgcaa_output,
                "checkpointing": self.attention_checkpointing, "compile": self.compile_attention}

    @property
    def uses_wasserstein(self) -> bool:
        return self.dpacm in ("wasserstein", "dpacm")

    @property
    def uses_perceptual(self) -> bool:
        return self.dpacm in ("perceptual", "dpacm")

    @property
    def uses_projection(self) -> bool:
        """Whether a loss term compares the RGB projection of the conditioning embedding (the DPACM conv)."""
        return self.uses_perceptual or (self.uses_wasserstein and self.w1_on == "embedding")

    def validate(self, where: str) -> None:
        _enum(self.arch, ARCHS, f"{where}.arch")
        _enum(self.attention, tuple(ATTENTION_VARIANTS), f"{where}.attention")  # live: registry additions count
        _enum(self.lgcaa_output, LGCAA_OUTPUTS, f"{where}.lgcaa_output")
        _enum(self.norm_init, NORM_INITS, f"{where}.norm_init")
        _enum(self.dpacm, DPACM_VARIANTS, f"{where}.dpacm")
        _enum(self.lpips_backbone, LPIPS_BACKBONES, f"{where}.lpips_backbone")
        _enum(self.w1_on, W1_SPACES, f"{where}.w1_on")
        _enum(self.unet_trainable, UNET_TRAINABLE, f"{where}.unet_trainable")
        _enum(self.dino_input, DINO_INPUTS, f"{where}.dino_input")
        _check(self.window >= 1, f"{where}.window must be >= 1, got {self.window}")
        _check(self.clamp is None or self.clamp > 0, f"{where}.clamp must be > 0, got {self.clamp}")
        _check(self.mlp_ratio > 0, f"{where}.mlp_ratio must be > 0, got {self.mlp_ratio}")
        _check(self.lambda_w >= 0 and self.lambda_p >= 0, f"{where}.lambda_w/lambda_p must be >= 0")
        if self.arch == "sd2-base" and self.pretrained is not None:  # a real (paper-scale) model: no random stand-ins
            _check(self.dino is not None, f"{where}.dino: set the DINO ViT ('{DINO_HUB_ID}' or a local folder); "
                   "a random DINO is only for benchmarks (pretrained: null)")
            _check(self.lpips_backbone == "pretrained", f"{where}.lpips_backbone: must be 'pretrained' with "
                   "pretrained SD2-base weights; the random AlexNet trunk is for the offline mini profile only")


@dataclass(frozen=True)
class TrainConfig:
    """How it is trained. batch_size is the effective batch (micro_batch x processes x accumulation).

    data: "photos" (the packaged offline photos named in `photos`; default: the held-out ones, never the mini
        test photos) or a folder of HR images (ImageNet train).
    hr_size: side of the HR training crops (256: LDM's ImageNetSR size; see docs/interpretation.md).
    crop: "ldm" = LDM's ImageNetSR (side c × short side, c ~ U(min_crop_f, max_crop_f), area-resized to
        hr_size, c raised so that nothing is upsampled); "random" = an hr_size crop at native resolution.
        Either way images with a short side under hr_size are skipped. hflip: random left-right flip (LDM's
        ImageNetSR has none).
    pair_pool: 0 = a fresh random crop + degradation for every sample (paper); N > 0 = a fixed pool of N
        pairs drawn once (mini profile: degradation costs ~30 ms per crop on 2 CPU cores).
    preview_images / preview_steps: held-out crops sampled at the end into samples/ (and MLflow).
    """

    steps: int = 150_000
    batch_size: int = 192
    micro_batch: int = 8
    lr: float = 5.0e-5
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1.0e-8
    weight_decay: float = 0.0
    lr_schedule: str = "constant"
    warmup_steps: int = 0
    grad_clip: float = 1.0
    hr_size: int = 256
    crop: str = "ldm"
    min_crop_f: float = 0.5
    max_crop_f: float = 1.0
    hflip: bool = False
    scale: int = 4
    degradation: str = "realesrgan"
    data: str = "photos"
    photos: tuple[str, ...] = HELD_OUT_PHOTOS
    pair_pool: int = 0
    num_workers: int = 0
    mixed_precision: str = "no"
    gradient_checkpointing: bool = False
    checkpoint_every: int = 1000
    keep_checkpoints: int = 2
    log_every: int = 10
    preview_images: int = 2
    preview_steps: int = 20
    seed: int = 0

    def validate(self, where: str) -> None:
        _check(1 <= self.steps <= MAX_TRAIN_STEPS, f"{where}.steps must be in 1..{MAX_TRAIN_STEPS}")
        _check(self.preview_images >= 0 and self.preview_steps >= 1, f"{where}.preview_images/preview_steps out of range")
        _check(self.micro_batch >= 1, f"{where}.micro_batch must be >= 1")
        _check(
            self.batch_size % self.micro_batch == 0,
            f"{where}.batch_size ({self.batch_size}) must be a multiple of micro_batch ({self.micro_batch})",
        )
        _check(0 < self.lr <= MAX_LR, f"{where}.lr must be in (0, {MAX_LR}] (a finite learning rate)")
        _check(len(self.betas) == 2 and all(0 <= b < 1 for b in self.betas), f"{where}.betas must be two values in [0,1)")
        _enum(self.lr_schedule, LR_SCHEDULES, f"{where}.lr_schedule")
        _enum(self.degradation, DEGRADATIONS, f"{where}.degradation")
        if self.degradation == "realesrgan":  # its blur kernels need a minimum image size (lgcaa.data.degrade)
            from lgcaa.data.degrade.config import load_degradation_config, min_hr_size  # here: yaml, numpy

            need = min_hr_size(load_degradation_config(None), self.scale)
            _check(self.hr_size >= need, f"{where}.hr_size ({self.hr_size}) is below {need} px, the smallest HR crop the "
                   "Real-ESRGAN degradation supports; raise train.hr_size or use degradation 'bicubic'")
        _enum(self.crop, CROPS, f"{where}.crop")
        _check(0 < self.min_crop_f <= self.max_crop_f <= 1, f"{where}.min_crop_f/max_crop_f: need 0 < min <= max <= 1")
        _check(all(p in PHOTOS for p in self.photos), f"{where}.photos: unknown photo(s) "
               f"{[p for p in self.photos if p not in PHOTOS]} (known: {', '.join(PHOTOS)})")
        _enum(self.mixed_precision, MIXED_PRECISIONS, f"{where}.mixed_precision")
        _check(self.scale in (2, 4), f"{where}.scale must be 2 or 4")
        _check(self.hr_size % (8 * self.scale) == 0, f"{where}.hr_size must be a multiple of {8 * self.scale}")
        _check(self.checkpoint_every >= 1 and self.keep_checkpoints >= 1, f"{where}.checkpoint_every/keep_checkpoints must be >= 1")
        _check(self.log_every >= 1, f"{where}.log_every must be >= 1")
        _check(self.pair_pool >= 0 and self.num_workers >= 0, f"{where}.pair_pool/num_workers must be >= 0")


@dataclass(frozen=True)
class SampleConfig:
    """How SR outputs are sampled.

    tile / tile_overlap: output-pixel size of the square tiles in which latents are denoised (and the VAE
    decodes) when the output is larger than `tile`; None = the training crop size (`train.hr_size`).
    start_point: "lr" = SeeSR's start (`--start_point lr`): the VAE latent of the bicubic-upsampled LR, noised
        to timestep `start_step` (999); DDPM timesteps above `start_step` are skipped. "noise" = N(0, I).
    """

    steps: int = 40
    seed: int = 0
    color_fix: str = "none"
    tile: int | None = None
    tile_overlap: int = 64
    batch_size: int = 4
    precision: str = "fp32"
    start_point: str = "lr"
    start_step: int = 999

    def validate(self, where: str) -> None:
        _check(1 <= self.steps <= MAX_SAMPLE_STEPS, f"{where}.steps must be in 1..{MAX_SAMPLE_STEPS}")
        _enum(self.start_point, START_POINTS, f"{where}.start_point")
        _check(0 <= self.start_step, f"{where}.start_step must be >= 0")
        _enum(self.color_fix, COLOR_FIXES, f"{where}.color_fix")
        _enum(self.precision, SAMPLE_PRECISIONS, f"{where}.precision")
        _check(self.tile is None or self.tile % 8 == 0, f"{where}.tile must be a multiple of 8")
        _check(self.tile_overlap % 8 == 0 and self.tile_overlap >= 0, f"{where}.tile_overlap must be a multiple of 8")
        _check(self.tile is None or self.tile_overlap < self.tile, f"{where}.tile_overlap must be < tile")
        _check(self.batch_size >= 1, f"{where}.batch_size must be >= 1")


@dataclass(frozen=True)
class LGCAAConfig:
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    sample: SampleConfig = field(default_factory=SampleConfig)

    def validate(self, where: str = "model") -> LGCAAConfig:
        self.model.validate(f"{where}.model")
        self.train.validate(f"{where}.train")
        self.sample.validate(f"{where}.sample")
        multiple = self.model.preset.pixel_multiple
        _check(
            self.train.hr_size % multiple == 0,
            f"{where}.train.hr_size ({self.train.hr_size}) must be a multiple of {multiple} for arch {self.model.arch}",
        )
        return self

    def to_dict(self) -> dict[str, Any]:
        return json.loads(json.dumps(dataclasses.asdict(self)))


@dataclass(frozen=True)
class PrepareConfig:
    """How `lgcaa prepare-backbone` pre-trains the tiny backbone (the profile's `model.prepare`), the stand-in
    for the pretrained weights SD2-base comes with; the runs then load it as `model.pretrained`. Trained on
    `photos` (default: held-out, never the mini test photos), on LDM crops of side `size`.

    vae_*: AutoencoderKL as an autoencoder, `vae_loss` (mse | l1) reconstruction of the posterior sample +
        kl_weight × KL.
    unet_*: UNet2DConditionModel as an unconditional denoiser (ε-MSE on the frozen VAE's latents, no encoder
        states: zeros), SD2-base's noise schedule; 0 steps keeps the UNet at its random init.
    """

    photos: tuple[str, ...] = HELD_OUT_PHOTOS
    size: int = 64
    vae_steps: int = 600
    vae_batch: int = 8
    vae_lr: float = 1.0e-3
    vae_loss: str = "mse"
    kl_weight: float = 1.0e-6
    unet_steps: int = 300
    unet_batch: int = 16
    unet_lr: float = 1.0e-3
    seed: int = 0

    def validate(self, where: str) -> PrepareConfig:
        _check(all(p in PHOTOS for p in self.photos), f"{where}.photos: unknown photo(s) "
               f"{[p for p in self.photos if p not in PHOTOS]} (known: {', '.join(PHOTOS)})")
        _check(self.size % ARCH_PRESETS["tiny"].pixel_multiple == 0,
               f"{where}.size must be a multiple of {ARCH_PRESETS['tiny'].pixel_multiple}")
        _check(1 <= self.vae_steps <= MAX_TRAIN_STEPS and 0 <= self.unet_steps <= MAX_TRAIN_STEPS,
               f"{where}.vae_steps must be in 1..{MAX_TRAIN_STEPS}, unet_steps in 0..{MAX_TRAIN_STEPS}")
        _check(min(self.vae_batch, self.unet_batch) >= 1, f"{where}.vae_batch/unet_batch must be >= 1")
        _check(0 < min(self.vae_lr, self.unet_lr) and max(self.vae_lr, self.unet_lr) <= MAX_LR
               and 0 <= self.kl_weight <= 1, f"{where}: learning rates must be in (0, {MAX_LR}], kl_weight in [0, 1]")
        _enum(self.vae_loss, ("mse", "l1"), f"{where}.vae_loss")
        return self

    def to_dict(self) -> dict[str, Any]:
        return json.loads(json.dumps(dataclasses.asdict(self)))


# ----------------------------------------------------------------------------------------------------------
# Parsing
# ----------------------------------------------------------------------------------------------------------

_SECTIONS = {"model": ModelConfig, "train": TrainConfig, "sample": SampleConfig}
_OPTIONAL: dict[str, type] = {"pretrained": str, "dino": str, "tile": int, "clamp": float}
RUN_KEYS = ("model", "train", "sample", "label", "datasets", "sample_steps", "table")


# bounds that catch typos and absurd values (`lr: .inf`, `steps: 1e9`), far above any sensible setting: the paper
# trains 150k steps and samples 40 of a 1000-step schedule
MAX_TRAIN_STEPS = 10_000_000
MAX_SAMPLE_STEPS = 1000
MAX_LR = 1.0


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise UserError(message)


def _enum(value: Any, allowed: tuple[str, ...], where: str) -> None:
    if value not in allowed:
        raise UserError(f"{where}: {value!r} is not one of {', '.join(repr(a) for a in allowed)}")


def _coerce(cls: type, values: dict[str, Any], where: str) -> Any:
    """Build dataclass `cls` from a dict, type-checking each field; unknown keys are errors."""
    known = {f.name: f for f in dataclasses.fields(cls)}
    for key in values:
        if key not in known:
            raise UserError(f"{where}: unknown key '{key}' (known: {', '.join(known)})")
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        default = getattr(cls(), key)
        if key in _OPTIONAL:
            ok_type = (int, float) if _OPTIONAL[key] is float else _OPTIONAL[key]
            _check(value is None or isinstance(value, ok_type) and not isinstance(value, bool),
                   f"{where}.{key}: expected {_OPTIONAL[key].__name__} or null, got {value!r}")
            kwargs[key] = float(value) if _OPTIONAL[key] is float and value is not None else value
        elif value is None:
            raise UserError(f"{where}.{key}: null is not allowed")
        elif isinstance(default, bool):
            _check(isinstance(value, bool), f"{where}.{key}: expected true/false, got {value!r}")
            kwargs[key] = value
        elif isinstance(default, int):
            _check(isinstance(value, int) and not isinstance(value, bool), f"{where}.{key}: expected an integer, got {value!r}")
            kwargs[key] = value
        elif isinstance(default, float):
            _check(isinstance(value, (int, float)) and not isinstance(value, bool), f"{where}.{key}: expected a number, got {value!r}")
            kwargs[key] = float(value)
        elif isinstance(default, tuple):
            _check(isinstance(value, (list, tuple)), f"{where}.{key}: expected a list, got {value!r}")
            kwargs[key] = tuple(value)
        else:
            _check(isinstance(value, type(default)), f"{where}.{key}: expected {type(default).__name__}, got {value!r}")
            kwargs[key] = value
    if cls is ModelConfig and kwargs.get("lpips_backbone") == "random":
        kwargs["lpips_backbone"] = "random (offline)"
    if cls is ModelConfig and kwargs.get("clamp") is None and kwargs.get("arch", "tiny") in CLAMP_BOUNDS:
        kwargs["clamp"] = default_clamp(kwargs.get("arch", "tiny"))  # the run record holds the bound it used
    return cls(**kwargs)


def config_from_dict(values: dict[str, Any], where: str = "model") -> LGCAAConfig:
    """`{"model": {...}, "train": {...}, "sample": {...}}` -> validated LGCAAConfig."""
    parts = {}
    for name, cls in _SECTIONS.items():
        sub = values.get(name, {})
        _check(isinstance(sub, dict), f"{where}.{name}: expected an object")
        parts[name] = _coerce(cls, sub, f"{where}.{name}")
    return LGCAAConfig(**parts).validate(where)


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = {k: dict(v) if isinstance(v, dict) else v for k, v in base.items()}
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    return out


def run_names(section: dict[str, Any]) -> list[str]:
    return list(section.get("runs", {}))


SECTION_KEYS = ("prepare", "model", "train", "sample", "runs")


def prepare_config(section: dict[str, Any], where: str = "model") -> PrepareConfig | None:
    """The profile's backbone-preparation recipe (`model.prepare`), or None when the profile has none. The
    prepared folder (lgcaa.layout's `backbone_dir`) becomes the runs' `model.pretrained`: tiny arch only."""
    if "prepare" not in section:
        return None
    values = section["prepare"]
    _check(isinstance(values, dict), f"{where}.prepare: expected an object")
    base = section.get("model", {})
    _check(base.get("arch", ModelConfig.arch) == "tiny" and base.get("pretrained") is None,
           f"{where}.prepare: only the tiny backbone is prepared, into <results>/backbone; set model.model.arch to "
           "'tiny' and leave model.model.pretrained unset (or remove model.prepare)")
    return _coerce(PrepareConfig, values, f"{where}.prepare").validate(f"{where}.prepare")


def prepare_recipe(profile: dict[str, Any], overrides: list[str], source: str) -> PrepareConfig:
    """The profile's backbone-preparation recipe (`model.prepare`) with `--set KEY=VALUE` `overrides` (VALUE as
    JSON, else a bare string); a UserError naming `source` when the profile prepares no backbone."""
    section = dict(profile.get("model", {}))
    if "prepare" not in section:
        raise UserError(f"{source}: the profile has no model.prepare section (only the tiny backbone is prepared; "
                        "SD2-base comes pretrained)")
    recipe = dict(section["prepare"])
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep:
            raise UserError(f"--set {item!r}: expected KEY=VALUE, e.g. vae_steps=10")
        try:
            recipe[key] = json.loads(raw)
        except json.JSONDecodeError:
            recipe[key] = raw
    return prepare_config({**section, "prepare": recipe}, f"{source}: model")  # type: ignore[return-value]


def resolve_run(section: dict[str, Any], run: str | None, where: str = "model") -> LGCAAConfig:
    """Merge the base settings of a profile's "model" section with the overrides of run `run`."""
    for key in section:
        _check(key in SECTION_KEYS, f"{where}: unknown key '{key}' (known: {', '.join(SECTION_KEYS)})")
    prepare_config(section, where)
    base = {k: section.get(k, {}) for k in _SECTIONS}
    if run is None:
        return config_from_dict(base, where)
    runs = section.get("runs", {})
    if run not in runs:
        raise UserError(f"{where}.runs: no run named '{run}' (runs: {', '.join(runs) or 'none'})")
    spec = runs[run]
    for key in spec:
        _check(key in RUN_KEYS, f"{where}.runs.{run}: unknown key '{key}' (known: {', '.join(RUN_KEYS)})")
    return config_from_dict(_merge(base, {k: spec[k] for k in _SECTIONS if k in spec}), f"{where}.runs.{run}")


def train_configs(profile: dict[str, Any], runs: list[str | None], overrides: list[str],
                  source: str) -> Iterator[tuple[str | None, LGCAAConfig]]:
    """(run, config) of each of `runs` of the profile's "model" section (None: its base settings), with the
    `--set` `overrides` (`apply_overrides`), each resolved as it is reached. A profile that prepares its tiny
    backbone (`model.prepare`) trains on the folder `prepare-backbone` wrote (lgcaa.layout's `backbone_dir`). A
    profile without a model section is refused at the call; `source` names the profile in the messages."""
    section = profile.get("model")
    if section is None:
        raise UserError(f"{source}: the profile has no 'model' section; add one (see lgcaa/model/config.py)")
    backbone = Layout.of(profile).backbone_dir() if prepare_config(section) else None

    def config(name: str | None) -> LGCAAConfig:
        cfg = resolve_run(section, name)
        if backbone and cfg.model.pretrained is None:
            cfg = dataclasses.replace(cfg, model=dataclasses.replace(cfg.model, pretrained=backbone))
        if overrides:
            cfg = config_from_dict(apply_overrides(cfg.to_dict(), overrides), where=f"{source} --set")
        return cfg

    return ((name, config(name)) for name in runs)


def train_run_dir(name: str | None, out: Path | None, out_root: Path | None) -> Path:
    """Where run `name` (None: the base settings) trains: `out` (one run), else `<out_root>/<name>`
    (`<out_root>/base` for the base settings)."""
    if out is not None:
        return out
    if out_root is None:
        raise UserError("give --out (one run) or --out-root (a folder per run)")
    return out_root / (name or "base")


def apply_overrides(values: dict[str, Any], assignments: list[str]) -> dict[str, Any]:
    """Apply `section.key=JSON` strings (e.g. `train.steps=10`, `model.attention="local"`) to a config dict."""
    out = _merge(values, {})
    for item in assignments:
        if "=" not in item or "." not in item.split("=", 1)[0]:
            raise UserError(f"--set {item!r}: expected SECTION.KEY=VALUE, e.g. train.steps=10")
        path, raw = item.split("=", 1)
        section, key = path.split(".", 1)
        _check(section in _SECTIONS, f"--set {item!r}: section must be one of {', '.join(_SECTIONS)}")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw  # bare strings: model.attention=local
        out.setdefault(section, {})
        out[section] = {**out[section], key: value}
    return out
