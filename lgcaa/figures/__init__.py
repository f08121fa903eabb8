"""The paper's figures (Figs. 4-11) and the report's extra plots, regenerated from a profile's own runs.

Modules, top-down:
  render          one figure of a profile -> <results>/figures/<name>.{png,pdf,csv} (+ its job record's params)
  spec            what each figure shows in a profile (datasets, methods or trained runs, images, crop)
  panels          Figs. 4-7, 9: per image one row of crops (LR | methods | HR) with PSNR / LPIPS under each
  crops           where to zoom: HR structure x disagreement among methods that produce real images
  curve           Fig. 8: PSNR vs LPIPS over sampling steps (NIQE as a labelled stand-in when LPIPS is missing)
  capture         Figs. 10-11: re-sample with a trained run and capture attention stages / latents (torch)
  attention_maps  Fig. 10: stage outputs as PCA images, attention of one query token
  latents         Fig. 11: predicted vs initial latent histograms per channel with W1
  per_image       per-image PSNR of every method against bicubic's (plot + HTML table)
  training        loss terms over steps of every LGCAA run
  draw            matplotlib helpers: panel grids, message figures, byte-identical PNG/PDF
"""
