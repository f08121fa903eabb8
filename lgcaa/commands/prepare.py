"""`lgcaa prepare-backbone`: pre-train the tiny backbone (VAE, then UNet) on held-out offline photos.

  lgcaa prepare-backbone --config mini [--out results/backbone] [--threads 2]

Reads the profile's `model.prepare` recipe (lgcaa.model.config.PrepareConfig) and writes a diffusers folder
(vae/, unet/, scheduler/) plus prepare.json (settings, loss curves, reconstruction PSNR, seconds) that every
training run of the profile loads as `model.pretrained`. A no-op when the folder holds the same settings.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", default="mini", help="profile name or config file with a model.prepare section (default: mini)")
    parser.add_argument("--out", type=Path, help="output folder (default: <paths.results>/backbone, where training looks)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a model.prepare setting, e.g. vae_steps=10 (JSON values)")
    parser.add_argument("--threads", type=int, help="torch intra-op CPU threads (Snakemake: pass {threads})")
    parser.add_argument("--record", type=Path, help="write a job record (for `lgcaa mlflow-sync`) here")
    parser.add_argument("--experiment", default="prepare", help="MLflow experiment of the job record")


def run(args: argparse.Namespace) -> int:
    from lgcaa.config import load_config
    from lgcaa.layout import Layout
    from lgcaa.model.config import prepare_recipe

    profile = load_config(args.config)
    cfg = prepare_recipe(profile, args.set, args.config)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    from lgcaa.model.prepare import prepare_backbone, write_prepare_record

    out = args.out or Path(Layout.of(profile).backbone_dir())
    record = prepare_backbone(cfg, out)
    if args.record:
        write_prepare_record(args.record, args.experiment, record, out)
    return 0
