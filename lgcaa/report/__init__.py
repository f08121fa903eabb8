"""The HTML report. The figures it shows are made by `lgcaa.figures`, the claims by `lgcaa.claims`.

Modules, top-down:
  html     the self-contained report: Tables I-III beside the paper, claims, figures, tables, per-image scores, ...
  style    one stylesheet for the report and every standalone HTML file (tables, claims)
  links    record path -> MLflow run URL
"""
