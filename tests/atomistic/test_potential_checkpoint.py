"""Checkpoint and resume of TAAFSPotential fits: a crashed fit, fitted again with the same
directory, ends with the weights of an uninterrupted fit (Adam and RLEKF)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

import taafs_sk.atomistic.potential as potential_module
from taafs_sk.atomistic import TAAFSPotential
from taafs_sk.datasets import load_pwmlff
from taafs_sk.taafs.checkpoint import CHECKPOINT_FILE

#: Epoch at which Crash ends the fit (read at each epoch, not saved in the checkpoint).
CRASH: dict = {"at": None}


class Crash(Callback):
    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == CRASH["at"]:
            raise RuntimeError("simulated crash")


@pytest.fixture(scope="module")
def frames(data_home):
    return load_pwmlff("cu", data_home=data_home)[:6]


def _potential(**params):
    options = {"hidden_layer_sizes": (6,), "n_basis": 5, "max_epochs": 6, "batch_size": 2,
               "lr": 3e-3, "validation_fraction": 0.34, "patience": 10, "random_state": 0,
               "dtype": "float64", **params}
    return TAAFSPotential(**options)


@pytest.mark.parametrize("params", [{}, {"optimizer": "rlekf", "max_epochs": 3}],
                         ids=["adam", "rlekf"])
def test_crashed_fit_resumes_to_the_uninterrupted_weights(frames, tmp_path, params,
                                                          monkeypatch):
    whole = _potential(**params).fit(frames)
    crash_at = whole.n_iter_ - 1
    built = potential_module.potential_net

    def net_that_crashes(*args, **kwargs):  # the potential has no callbacks parameter
        net = built(*args, **kwargs)
        net.callbacks = [*(net.callbacks or []), ("crash", Crash())]
        return net

    with monkeypatch.context() as patch:
        patch.setattr(potential_module, "potential_net", net_that_crashes)
        patch.setitem(CRASH, "at", crash_at)
        with pytest.raises(RuntimeError, match="simulated crash"):
            _potential(checkpoint=tmp_path, **params).fit(frames)
    with open(tmp_path / CHECKPOINT_FILE, "rb") as f:
        assert pickle.load(f)["epoch"] == crash_at - 1
    resumed = _potential(checkpoint=tmp_path, **params).fit(frames)
    assert resumed.n_iter_ == whole.n_iter_
    for a, b in zip(resumed.module_.parameters(), whole.module_.parameters(), strict=True):
        assert torch.equal(a, b)
    np.testing.assert_array_equal(resumed.predict(frames[:2]), whole.predict(frames[:2]))


def test_another_fit_in_the_directory_is_refused(frames, tmp_path):
    _potential(checkpoint=tmp_path, max_epochs=1).fit(frames)
    with pytest.raises(ValueError, match="another fit"):
        _potential(checkpoint=tmp_path, max_epochs=1).fit(frames[:5])
