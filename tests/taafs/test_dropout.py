"""Dropout after the hidden activations: applied in training only, refused where it cannot be
honoured, and absent from older pickles without changing them."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from taafs_sk import TAAFSRegressor
from taafs_sk.nn.activations import make_activation_factory
from taafs_sk.nn.network import MLP


def _mlp(dropout: float, hidden=(32,)) -> MLP:
    torch.manual_seed(0)
    return MLP(4, hidden, 1, make_activation_factory("bspline", n_basis=6),
               dropout=dropout).double()


def test_eval_mode_is_the_whole_network():
    x = torch.randn(50, 4, dtype=torch.float64)
    with_dropout, without = _mlp(0.4), _mlp(0.0)
    with_dropout.eval()
    with torch.no_grad():
        torch.testing.assert_close(with_dropout(x), without(x))


def test_training_mode_drops_units_and_keeps_the_mean():
    x = torch.randn(1, 4, dtype=torch.float64).expand(40000, 4)
    net = _mlp(0.4)
    torch.manual_seed(1)
    with torch.no_grad():
        draws = net(x)[:, 0]
        net.eval()
        whole = net(x[:1])[0, 0]
    assert draws.std() > 1e-3  # units were dropped, differently from row to row
    # one hidden layer: inverted dropout leaves the expected output unchanged
    assert abs(draws.mean() - whole) < 5 * draws.std() / np.sqrt(len(draws))


def test_hooked_forward_drops_the_same_way():
    x = torch.randn(8, 4, dtype=torch.float64)
    net = _mlp(0.5, hidden=(16, 16))
    with torch.no_grad():
        torch.manual_seed(3)
        plain = net(x)
        torch.manual_seed(3)
        hooked = net(x, hook=lambda site, layer, t: t)
    torch.testing.assert_close(plain, hooked)


@pytest.mark.parametrize("bad", [-0.1, 1.0, 1.5])
def test_mlp_refuses_a_probability_outside_0_1(bad):
    with pytest.raises(ValueError, match=f"dropout must be [<>]=? ?[01].0, got {bad}"):
        _mlp(bad)


@pytest.fixture
def data():
    rng = np.random.RandomState(0)
    X = rng.uniform(-2, 2, size=(300, 3))
    return X, np.sin(X[:, 0]) + X[:, 1] ** 2 + 0.05 * rng.randn(300)


def _fit(X, y, **params):
    return TAAFSRegressor((32, 32), max_epochs=20, early_stopping=False, random_state=0,
                          **params).fit(X, y)


def test_regressor_trains_with_dropout_and_predicts_deterministically(data):
    X, y = data
    dropped, plain = _fit(X, y, dropout=0.3), _fit(X, y)
    np.testing.assert_array_equal(dropped.predict(X), dropped.predict(X))
    assert not np.allclose(dropped.predict(X), plain.predict(X))
    # the training loss is measured on the thinned networks, so it stays above the plain one
    assert dropped.loss_curve_[-1] > plain.loss_curve_[-1]
    assert dropped.module_.dropout == 0.3


@pytest.mark.parametrize("bad", [-0.2, 1.0])
def test_regressor_names_the_parameter(data, bad):
    X, y = data
    with pytest.raises(ValueError, match="'dropout' parameter of TAAFSRegressor"):
        TAAFSRegressor(dropout=bad).fit(X, y)


def test_rlekf_refuses_dropout(data):
    X, y = data
    with pytest.raises(ValueError, match="dropout=0.2.*optimizer='rlekf'"):
        TAAFSRegressor(dropout=0.2, optimizer="rlekf").fit(X, y)


def test_state_pickled_before_dropout_gets_zero(data):
    X, y = data
    model = _fit(X, y)
    state = model.__getstate__()
    del state["dropout"]
    module_state = model.module_.__dict__.copy()
    del module_state["dropout"]
    old_module = MLP.__new__(MLP)
    old_module.__setstate__(module_state)
    state["module_"] = old_module
    restored = TAAFSRegressor.__new__(TAAFSRegressor)
    restored.__setstate__(state)
    assert restored.get_params()["dropout"] == 0.0
    assert old_module.dropout == 0.0
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))
