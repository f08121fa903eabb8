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


@pytest.fixture
def one_torch_thread():
    """Tiny models gain nothing from 2 intra-op threads, and OpenMP spin-waits collapse when other jobs share
    the 2 cores; one thread keeps these tests fast and their timing stable."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
