"""Shared fixtures: real data from TAAFS_SK_DATA (../shared/data by default), seeded."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import pytest
import torch

matplotlib.use("Agg")
# Two xdist workers share two cores: one intra-op thread each avoids oversubscription.
torch.set_num_threads(1)

DATA_HOME = Path(
    os.environ.get("TAAFS_SK_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)


@pytest.fixture(scope="session")
def data_home() -> Path:
    if not DATA_HOME.is_dir():
        pytest.fail(f"test data folder {DATA_HOME} is missing; set TAAFS_SK_DATA")
    return DATA_HOME
