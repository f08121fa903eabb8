"""The HTML report. The figures it shows are made by `lgcaa.figures`, the claims by `lgcaa.claims`.

Modules, top-down:
  html     the self-contained report: claims, tables, figures, per-image scores, training curves, reported vs reproduced
  style    one stylesheet for the report and every standalone HTML file (tables, claims)
  links    record path -> MLflow run URL
"""
