"""LGCAA reproducibility harness.

Reproduces "Local-Global Context-Aware and Structure-Preserving Image Super-Resolution" end to end:
datasets -> SR methods (LGCAA and the Table I baselines) -> pyiqa metrics -> Tables I-III.
Heavy libraries (torch, diffusers, pyiqa, basicsr, mlflow) are imported lazily inside functions.
Names are declared once, in registries (metrics.registry, data.registry, model.variants, baselines.registry);
every results path, method instance and job plan comes from `layout`.
"""

__version__ = "0.1.0"

from lgcaa.compat import quiet_unused_libraries

quiet_unused_libraries()
