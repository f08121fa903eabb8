"""Result tables (the paper's Tables I-III) rendered from evaluation aggregates, next to the paper's numbers.

Modules, top-down:
  section  the profile's `tables` section read once into typed parts (the profile's validation reads it too)
  spec     what a table is made of (entries = dataset x method x seeds), built from the profile config
  cells    aggregates -> cells: mean over seeds, seed t-interval, bootstrap CI, lock check, N flag
  grid     the displayed layout with best/second marks and footer lines
  render   CSV, Markdown, LaTeX (booktabs) and HTML renderers of a grid
  export   long CSV (every cell with its intervals) and headline metrics (dvc metrics)
  paper    the paper's reported numbers (results/paper/*.csv), shape-checked
  compare  reported vs reproduced per paper cell: delta, tolerance, verdict, reason; paper | ours | Δ | verdict
           beside our cells (like with like only: none in a profile not comparable to the paper)
  stats    seed interval and bootstrap
  write    one table's output files and job record; the profile's headline metrics (dvc metrics)
"""
