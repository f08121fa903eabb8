"""The throughput table behind `lgcaa plan` and the DAG's runtime requests: measured numbers, each with the
device and the command that printed it, and the extrapolations derived from them (marked as such).

A `Rate` is work units per second on one device: training in samples/s (one sample = one HR crop through
forward + backward), LGCAA sampling in image-steps/s (one DDPM step on one output image), SR baselines and
metrics in images/s. Every rate holds at a reference output side (`side`, pixels); `cost.py` scales it by
the pixel count of the job (side² / reference side²).

Measured rates come from JSON files under docs/bench/ (the bench command's own output, copied verbatim) or
from a finished DAG run's job records; extrapolated ones say from what and by which factor. Add a
measurement here (value, device, command, source) and every estimate that used the extrapolation switches to it.
"""

from __future__ import annotations

from dataclasses import dataclass

from lgcaa.errors import UserError


@dataclass(frozen=True)
class Rate:
    key: str  # "<kind>/<what>/<device class>", device class: "gpu" or "cpu"
    per_second: float  # work units per second on one device (one GPU, or the CPU cores named in `device`)
    unit: str  # "samples/s", "image-steps/s", "images/s"
    side: int  # output side (pixels) the rate holds at
    device: str
    measured: bool
    source: str  # the measurement's command + file, or how it was extrapolated

    @property
    def basis(self) -> str:
        return "measured" if self.measured else "extrapolated"


H200_TRAIN = 24.921  # docs/bench/h200-train-step-sd2base-bf16-b8.json: samples_per_second
CPU2_TRAIN_TINY = 2.121  # docs/bench/cpu2-train-step-tiny-fp32-b4.json: samples_per_second
# one training sample = forward + backward of UNet+ControlNet ≈ 3 forward passes (backward ≈ 2× forward);
# one sampling step = one forward pass (no classifier-free guidance in LGCAA)
FORWARD_PER_TRAIN_SAMPLE = 3.0

RATES: dict[str, Rate] = {r.key: r for r in (
    Rate("train/sd2-base/gpu", H200_TRAIN, "samples/s", 512, "NVIDIA H200 (bf16, micro-batch 8)", True,
         "lgcaa bench train-step --arch sd2-base --device cuda --precision bf16 --batch 8 --steps 3 --warmup 1"
         " -> docs/bench/h200-train-step-sd2base-bf16-b8.json"),
    Rate("train/tiny/cpu", CPU2_TRAIN_TINY, "samples/s", 128, "2 x86_64 CPU cores (fp32, micro-batch 4)", True,
         "lgcaa bench train-step --arch tiny --device cpu --batch 4 --steps 5 --warmup 2"
         " -> docs/bench/cpu2-train-step-tiny-fp32-b4.json"),
    Rate("sample/sd2-base/gpu", H200_TRAIN * FORWARD_PER_TRAIN_SAMPLE, "image-steps/s", 512, "NVIDIA H200", False,
         f"extrapolated: train/sd2-base/gpu × {FORWARD_PER_TRAIN_SAMPLE:g} (one sampling step = one forward pass; "
         "one training sample ≈ 3 forward passes)"),
    Rate("sample/tiny/cpu", CPU2_TRAIN_TINY * FORWARD_PER_TRAIN_SAMPLE, "image-steps/s", 128,
         "2 x86_64 CPU cores", False,
         f"extrapolated: train/tiny/cpu × {FORWARD_PER_TRAIN_SAMPLE:g} (same reasoning as sample/sd2-base/gpu)"),
    # diffusion baselines: an SD-sized UNet per step (× 2 with classifier-free guidance), from the LGCAA rate
    Rate("sr/diffusion/gpu", H200_TRAIN * FORWARD_PER_TRAIN_SAMPLE, "image-steps/s", 512, "NVIDIA H200", False,
         "extrapolated: as sample/sd2-base/gpu per UNet evaluation (steps × 2 with CFG > 1); ResShift's smaller "
         "UNet makes its estimate an upper bound"),
)}


# CPU rates of the bookkeeping-free jobs, measured on this project's 2-core machines while shared (load ≈ 8,
# so pessimistic): 8 images of the mini profile (LR 64², HR 256², Real-ESRGAN degradation, built with
# `lgcaa data build-mini --dataset mini-realesrgan --photos <the mini profile's 8> --hr-size 256 --scale 4
# --lr-kind realesrgan --seed 0`), one thread.
CPU2 = "2 x86_64 CPU cores (shared, load ≈ 8), 1 thread"
EVAL_METRICS = 3  # the eval rate was measured with the metrics that run offline: psnr, ssim, niqe
RATES.update({r.key: r for r in (
    Rate("sr/classical/cpu", 8 / 7.0, "images/s", 256, CPU2, True,
         "lgcaa sr --method bicubic --dataset mini-realesrgan --lr-dir data/mini-realesrgan/lr --threads 1 "
         "(8 images, 7.0 s)"),
    Rate("sr/realesrgan-x4plus/cpu", 8 / 7.6, "images/s", 256, CPU2, True,
         "lgcaa sr --method realesrgan-x4plus --dataset mini-realesrgan --lr-dir data/mini-realesrgan/lr --threads 1 "
         "(ncnn, 8 images, 7.6 s)"),
    Rate("sr/gan/cpu", 8 / 7.6, "images/s", 256, CPU2, False,
         "extrapolated: as sr/realesrgan-x4plus/cpu (RRDBNet x4, the network of Real-ESRGAN, BSRGAN and LDL; "
         "DASR is smaller, so an upper bound for it)"),
    Rate("eval/metrics/cpu", 8 / 7.474, "images/s", 256, CPU2, True,
         "lgcaa eval sr/realesrgan-x4plus data/mini-realesrgan/hr --metrics psnr,ssim,lpips,dists,fid,musiq,clipiqa,"
         "niqe,maniqa --device cpu (8 images, 7.474 s; only psnr, ssim, niqe have weights offline: the cost of the "
         "network metrics is extrapolated per metric from these three, a lower bound)"),
)})


# Disk: PNG bytes per output pixel (8 mini SR outputs of realesrgan-x4plus, 256²: 822,861 bytes = 1.57; bicubic
# 1.14), and trainable parameters per arch (the `parameters.trainable` of the two train-step bench files).
PNG_BYTES_PER_PIXEL = 1.6
TRAINABLE_PARAMETERS = {"sd2-base": 539_378_771, "tiny": 232_923}


def rate(key: str) -> Rate:
    if key not in RATES:
        raise UserError(f"lgcaa/plan/throughput.py: no rate '{key}' (known: {', '.join(sorted(RATES))}); add one")
    return RATES[key]
