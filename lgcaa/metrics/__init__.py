"""Metrics: the nine metrics of Table I under one pinned protocol (pyiqa).

  registry      one entry per metric: pyiqa name/options, direction, Table I order, tolerance, decimals,
                weight files, build hooks — every other place derives from it
  build         pyiqa models from the registry (hooks applied, downloads refused), cached per process
  availability  which metrics can run here (their weight files present)
  evaluate      score a folder pair: decode once, batched forwards, per-image rows + aggregate
  scoring       the evaluator's worker: one chunk of same-size pairs through every metric
  fid           FID from the decoded images (clean mode), equal to pyiqa's folder mode
  decode, lock  the image decoding rules and the protocol lock hash
"""
