"""The LGCAA model: SD2-base UNet + ControlNet, DINO conditioning, LGCAA attention, DPACM losses.

Modules, top-down:
  config        typed, validated settings (`ModelConfig`, `TrainConfig`, `SampleConfig`, presets `tiny`/`sd2-base`)
  backbone      UNet2DConditionModel, AutoencoderKL, DDPMScheduler, ControlNetModel (random init or pretrained)
  conditioning  DINO ViT image features of the LR input -> projection to the cross-attention width
  variants      Table II's attention variants: names, labels, stages (torch-free registry)
  attention     LGCAA attention processor built from a variant
  dpacm         Wasserstein-1 (closed form) + LPIPS-AlexNet on the projected ControlNet conditioning embedding
  network       `LGCAANet`: assembles the above, the trainable set and the training loss
  data          training pairs: random HR crops + on-the-fly degradation, deterministic per sample index
  checkpoint    atomic safetensors checkpoints (trainable weights, optimizer, scheduler, RNG)
  trainer       accelerate training loop with exact resume, NaN guard, optional live MLflow run
                (lgcaa.mlflow_store.LiveRun, the one MLflow writer)
  tiling        overlapping latent tiles with smooth blending weights
  colorfix      AdaIN and wavelet colour correction
  sampler       seeded DDPM sampling, tiled, writes PNGs
  sample_job    `lgcaa sample`'s jobs: settings over the run's, one model at a time, the job records
  memory        peak memory measurement on CPU and CUDA (for the benchmarks)

Heavy libraries (torch, diffusers, transformers, lpips, accelerate, mlflow) are imported inside functions
or in modules that are themselves only imported when a model is built.
"""
