"""LGCAA reproducibility harness.

Reproduces "Local-Global Context-Aware and Structure-Preserving Image Super-Resolution" end to end:
datasets -> SR methods (LGCAA and the Table I baselines) -> pyiqa metrics -> Tables I-III.
Heavy libraries (torch, diffusers, pyiqa, basicsr, mlflow) are imported lazily inside functions.
"""

__version__ = "0.1.0"
