"""Training runs with subnormal floats flushed to zero, and the caller's setting survives."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

from taafs_sk import TAAFSRegressor
from taafs_sk.nn.denormals import flush_denormals, flushing_denormals

pytestmark = pytest.mark.skipif(not torch.set_flush_denormal(False),
                                reason="this CPU cannot flush subnormal numbers")


def test_flush_denormals_sets_and_restores_the_state():
    assert not flushing_denormals()
    with flush_denormals():
        assert flushing_denormals()
        assert float(torch.tensor([1e-39]) * 1.0) == 0.0
    assert not flushing_denormals()
    assert float(torch.tensor([1e-39]) * 1.0) > 0.0


def test_a_caller_who_flushes_keeps_flushing():
    torch.set_flush_denormal(True)
    try:
        with flush_denormals():
            pass
        assert flushing_denormals()
    finally:
        torch.set_flush_denormal(False)


class _Probe(Callback):
    def __init__(self):
        self.seen = []

    def on_batch_begin(self, net, **kwargs):
        self.seen.append(flushing_denormals())


def test_fit_flushes_inside_and_restores_after():
    probe = _Probe()
    X = np.random.RandomState(0).randn(40, 3)
    TAAFSRegressor((4,), basis="tanh", max_epochs=2, early_stopping=False, callbacks=[probe],
                   random_state=0).fit(X, X[:, 0])
    assert probe.seen and all(probe.seen)
    assert not flushing_denormals()
