"""What a fit prints and warns: quiet by default, one line per epoch, one progress bar."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning

from taafs_sk import TAAFSRegressor


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 3))
    return X, X @ [1.0, -0.5, 0.2]


def _fit(data, **params):
    X, y = data
    kw = dict(hidden_layer_sizes=(4,), max_epochs=3, early_stopping=False, random_state=0)
    return TAAFSRegressor(**{**kw, **params}).fit(X, y)


def test_verbose_0_prints_nothing(data, capfd):
    _fit(data)
    assert capfd.readouterr() == ("", "")


def test_verbose_1_one_line_per_epoch_and_no_reinitialisation(data, capfd):
    _fit(data, verbose=1)
    out, err = capfd.readouterr()
    lines = out.strip("\n").splitlines()
    assert "epoch" in lines[0] and set(lines[1].strip()) <= {"-", " "}
    assert len(lines) == 2 + 3 and "Re-initializing" not in out + err
    assert err == ""


def test_verbose_2_one_progress_bar_and_nothing_else(data, capfd):
    _fit(data, verbose=2)
    out, err = capfd.readouterr()
    assert out == "" and "Re-initializing" not in err
    assert "3/3" in err and "epoch" in err and "train_loss=" in err


def test_capped_epochs_without_early_stopping_do_not_warn(data):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _fit(data, max_epochs=2)


def test_early_stopping_that_never_triggers_warns(data):
    with pytest.warns(ConvergenceWarning, match="max_epochs=2"):
        _fit(data, max_epochs=2, early_stopping=True)


def test_basis_options_with_a_fixed_activation_warn(data):
    with pytest.warns(UserWarning, match=r"n_basis=5, sharing='neuron' ignored"):
        _fit(data, basis="tanh", n_basis=5, sharing="neuron")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _fit(data, basis="tanh")


def test_pre_activation_ranges_are_those_of_the_training_rows(data):
    X, _ = data
    model = _fit(data, hidden_layer_sizes=(4, 3))
    with torch.no_grad():
        zs = model.module_.hidden_pre_activations(torch.as_tensor(X, dtype=torch.float32))
    for rng, z in zip(model.pre_activation_ranges_, zs, strict=True):
        np.testing.assert_allclose(rng[:, 0], z.amin(0).numpy(), rtol=1e-6)
        np.testing.assert_allclose(rng[:, 1], z.amax(0).numpy(), rtol=1e-6)
