"""The activation training recipe: activation_lr, activation_alpha, activation_warmup,
lr_schedule (taafs_sk/taafs/_recipe.py through TAAFSRegressor)."""

import warnings

import numpy as np
import pytest
import torch

from taafs_sk import TAAFSRegressor
from taafs_sk.nn.activations import make_activation_factory
from taafs_sk.nn.network import MLP
from taafs_sk.taafs._recipe import activation_parameters, recipe_net_params


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, size=(120, 3))
    return X, np.sin(3 * X[:, 0]) + X[:, 1] ** 2


def fit(X, y, **kw):
    kw = {"hidden_layer_sizes": (6,), "max_epochs": 4, "batch_size": 32, "random_state": 0,
          "early_stopping": False, **kw}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return TAAFSRegressor(**kw).fit(X, y)


def shape_change(model, X):
    """Distance of the learned coefficients from the initial ones (deterministic)."""
    start = make_activation_factory(model.basis, n_basis=model.n_basis)(0, 6).weight
    end = activation_parameters(model.module_)
    assert len(end) == 1
    return float((end[0].detach() - start.detach()).norm())


def test_activation_lr_gets_its_own_group(data):
    X, y = data
    groups = fit(X, y, activation_lr=0.05, lr=0.002).net_.optimizer_.param_groups
    assert sorted(g["lr"] for g in groups) == [0.002, 0.05]
    act = next(g for g in groups if g["lr"] == 0.05)
    assert all(p.dim() == 1 and p.numel() == 9 for p in act["params"])
    assert len(fit(X, y).net_.optimizer_.param_groups) == 1
    # a fixed activation has no coefficients: one group, nothing refused
    assert len(fit(X, y, basis="tanh", activation_lr=0.05).net_.optimizer_.param_groups) == 1


def test_activation_lr_zero_like_keeps_shapes(data):
    X, y = data
    slow = fit(X, y, activation_lr=1e-12, lr=1e-2)
    fast = fit(X, y, lr=1e-2)
    assert shape_change(slow, X) < 1e-6 < shape_change(fast, X)


def test_activation_alpha_holds_shapes_near_start(data):
    X, y = data
    free = fit(X, y, lr=3e-2)
    held = fit(X, y, lr=3e-2, activation_alpha=100.0)
    assert shape_change(held, X) < 0.5 * shape_change(free, X)


def test_activation_warmup_freezes_then_trains(data):
    X, y = data
    frozen = fit(X, y, activation_warmup=4, lr=1e-2)
    assert shape_change(frozen, X) == 0.0
    assert all(p.requires_grad for p in activation_parameters(frozen.module_))
    later = fit(X, y, activation_warmup=2, lr=1e-2)
    assert shape_change(later, X) > 0.0
    # partial_fit: one epoch a call, the first two calls keep the shapes
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        inc = TAAFSRegressor((6,), activation_warmup=2, lr=1e-2, batch_size=32, random_state=0)
        inc.partial_fit(X, y).partial_fit(X, y)
        assert shape_change(inc, X) == 0.0
        inc.partial_fit(X, y)
    assert shape_change(inc, X) > 0.0


def test_lr_schedules(data):
    X, y = data
    cosine = fit(X, y, lr_schedule="cosine", lr=1e-2)
    assert cosine.net_.optimizer_.param_groups[0]["lr"] < 1e-4
    assert fit(X, y, lr=1e-2).net_.optimizer_.param_groups[0]["lr"] == 1e-2
    names = dict(fit(X, y, lr_schedule="plateau", early_stopping=True).net_.callbacks_)
    assert names["lr_schedule"].monitor == "valid_loss"
    assert "lr_schedule" not in dict(fit(X, y).net_.callbacks_)


@pytest.mark.parametrize("params, match", [
    ({"lr_schedule": "step"}, "lr_schedule"),
    ({"activation_lr": 0.0}, "activation_lr"),
    ({"activation_alpha": -1.0}, "activation_alpha"),
    ({"activation_warmup": 1.5}, "activation_warmup"),
])
def test_bad_values_name_the_parameter(data, params, match):
    X, y = data
    with pytest.raises(ValueError, match=match):
        TAAFSRegressor(**params).fit(X, y)


def test_rlekf_refuses_the_recipe():
    with pytest.raises(ValueError, match="activation_lr.*rlekf"):
        recipe_net_params(optimizer="rlekf", activation_lr=0.01)
    assert recipe_net_params(optimizer="rlekf") == ({}, [])


def test_activation_parameters_of_a_fixed_network():
    mlp = MLP(3, (4,), 1, make_activation_factory("tanh"))
    assert activation_parameters(mlp) == []
    mlp = MLP(3, (4,), 1, make_activation_factory("fourier", sharing="neuron"))
    assert [tuple(p.shape) for p in activation_parameters(mlp)] == [(4, 9)]
    assert torch.is_tensor(activation_parameters(mlp)[0])


def test_ridge_skip_starts_at_the_ridge_fit_and_stays():
    from sklearn.linear_model import RidgeCV

    from taafs_sk.taafs._recipe import RIDGE_ALPHAS

    rng = np.random.RandomState(1)
    X = rng.normal(size=(150, 20))
    y = X @ rng.normal(size=20) + 0.1 * np.tanh(X[:, 0]) + 3.0
    model = fit(X, y, skip_connection="ridge", lr=1e-12, max_epochs=1)
    ys = (y - y.mean()) / y.std()
    ridge = RidgeCV(alphas=RIDGE_ALPHAS).fit(X, ys)
    skip = model.module_.skip.weight
    assert not skip.requires_grad
    np.testing.assert_allclose(skip.detach().numpy().ravel(), ridge.coef_, atol=1e-4)
    np.testing.assert_allclose(model.predict(X), ridge.predict(X) * y.std() + y.mean(),
                               atol=1e-3 * y.std())
    # a trainable linear path from zero is far from it after the same single epoch
    plain = fit(X, y, skip_connection=True, max_epochs=1)
    assert model.score(X, y) > 0.99 > plain.score(X, y)
    # a warm start keeps the fitted path
    before = skip.detach().clone()
    model.set_params(warm_start=True, lr=1e-2).fit(X[:60], y[:60])
    assert torch.equal(model.module_.skip.weight, before)
    with pytest.raises(ValueError, match="skip_connection"):
        TAAFSRegressor(skip_connection="lasso").fit(X, y)
