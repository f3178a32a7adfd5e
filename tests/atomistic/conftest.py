"""Fixtures shared by the atomistic tests: a tiny float64 HfO2 potential, fitted once."""

from __future__ import annotations

import pytest

from taafs_sk.atomistic import TAAFSPotential
from taafs_sk.datasets import load_pwmlff


@pytest.fixture(scope="session")
def hfo2_frames(data_home):
    return load_pwmlff("hfo2", data_home=data_home)


@pytest.fixture(scope="session")
def tiny_hfo2(hfo2_frames):
    """Hidden (8,), two epochs on two frames, float64 (for finite differences). The frames
    are from the middle of two MD runs (force RMS about 0.2 eV/Å; the first frames of each
    run are relaxed, 0.001 eV/Å), so that its forces are not negligible. Never changed by a
    test: copy it (``copy.deepcopy``) to change it."""
    return TAAFSPotential((8,), basis="chebyshev1", max_epochs=2, batch_size=1, lr=3e-3,
                          early_stopping=False, dtype="float64",
                          random_state=0).fit([hfo2_frames[40], hfo2_frames[90]])
