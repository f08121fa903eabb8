"""Shared test fixtures. Tests run on CPU, offline, with real libraries (no mocks of Snakemake/MLflow/DVC)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def python_bin() -> str:
    return sys.executable
