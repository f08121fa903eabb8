"""Datasets: canonical layout `<root>/<name>/{hr,lr}/*.png` + `manifest.json`, DVC-tracked under `data/`.

Modules, top-down:
  registry    the explicit table of datasets (URLs, digests, sizes, counts, licences, LR released/generated)
  fetch       obtain a released set: DVC if recorded there, else download (resume, sha256) + atomic unpack
  dvc         granular, atomic `dvc pull` of one dataset folder (never touches sibling datasets)
  archive     safe extraction of one folder of a zip/tar
  manifest    per-file sha256 manifests, pair checks (names, scale x size), atomic publishing
  degrade     seeded, batched Real-ESRGAN second-order degradation from basicsr's functions (package:
              config + seeds, plan = the random choices, ops, pipeline)
  generate    LR for a folder of HR images (batches, worker processes; order/worker independent)
  regenerate  test sets whose LR we generate from a source's HR (or ImageNet val for ImageNet-Test)
  imagenet    ResShift's ImageNet-Test HR selection and crops
  compare     per-image PSNR of regenerated vs released LR
  mini, photos  the offline mini sets from photos packaged in installed wheels
"""
