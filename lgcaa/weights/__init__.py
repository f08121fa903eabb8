"""Weight files, one subsystem for the metrics' and the baselines' files.

- `manifest`: `WeightFile` (the one declaration: root, URLs, pinned sha256, size) and the metrics' files;
  the baselines declare theirs in `baselines/registry.py` with the same class (root = the cache dir).
- `roots`: the one resolution of the torch hub folder and the harness cache dir.
- `manager`: inspect / fetch / verify / pin, and `verify_for_use` — the sha256 check (verdict cached by
  size+mtime) that runs before a metric is built or a baseline runs.
- `report`: what `lgcaa weights` prints (file lines, the unusable files, the listing's footer).
- `offline`: producers that make a file from something installed (NIQE parameters, LPIPS heads).
"""
