"""The HTML report and the perception-distortion curves.

Modules, top-down:
  html     the self-contained report (tables, curves, visual comparisons, reported vs reproduced)
  curves   Fig. 8: PSNR vs LPIPS over sampling steps, PNG + PDF + CSV
  visual   which images/methods are compared visually; the LR | methods | HR panels
  crops    where methods disagree most (the zoomed crop)
  links    record path -> MLflow run URL
"""
