"""TAAFSRegressor behaviour: sklearn citizenship on real data, determinism, errors."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from taafs_sk import TAAFSRegressor
from taafs_sk.exceptions import TrainingDivergedError
from taafs_sk.nn.activations import count_activation_params
from taafs_sk.nn.bases import available_bases
from taafs_sk.taafs.training import build_net, fit_net, loss_curves

ALL_BASES = [*available_bases(), "tanh"]
FAST = dict(hidden_layer_sizes=(16,), max_epochs=25, batch_size=32, random_state=0)


@pytest.fixture(scope="module")
def perovskites(data_home):
    """The seed authors' halide double-perovskite table: 31 descriptors -> heat of formation.

    (The band gap, column 32, is hard to extrapolate to unseen compositions: small networks
    barely beat the mean there, so it would not show whether training works.)
    """
    raw = np.loadtxt(data_home / "manzhos-double-perovskites" / "perovskite_ML_data.dat")
    groups = np.arange(len(raw)) % 270  # rows i and i + 270 are the same composition
    return raw[:, :31], raw[:, 32], groups


@pytest.fixture(scope="module")
def toy():
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, size=(300, 4))
    y = np.sin(2 * X[:, 0]) + X[:, 1] * X[:, 2]
    return X, y


@pytest.fixture(scope="module")
def fitted(toy):
    X, y = toy
    return TAAFSRegressor(basis="chebyshev1", **FAST).fit(X, y)


def test_grid_search_over_all_bases_on_real_data(perovskites):
    X, y, groups = perovskites
    pipe = Pipeline([("scale", StandardScaler()), ("taafsregressor", TAAFSRegressor(**FAST))])
    search = GridSearchCV(
        pipe,
        {"taafsregressor__basis": ALL_BASES},
        cv=GroupKFold(n_splits=2),
        scoring="neg_root_mean_squared_error",
        n_jobs=2,
    )
    search.fit(X, y, groups=groups)
    scores = search.cv_results_["mean_test_score"]
    assert len(scores) == len(ALL_BASES)
    assert np.all(np.isfinite(scores))
    # every basis learns the target on unseen compositions: RMSE well below std(y)
    assert np.all(-scores < 0.7 * y.std())


def test_cross_val_score_in_pipeline(perovskites):
    X, y, groups = perovskites
    pipe = Pipeline([("scale", StandardScaler()), ("m", TAAFSRegressor(basis="hermite", **FAST))])
    scores = cross_val_score(pipe, X, y, groups=groups, cv=GroupKFold(n_splits=3))
    assert scores.shape == (3,)
    assert np.all(scores > 0.5)


def test_same_random_state_gives_identical_predictions(toy):
    X, y = toy
    a = TAAFSRegressor(basis="bspline", **FAST).fit(X, y).predict(X)
    b = TAAFSRegressor(basis="bspline", **FAST).fit(X, y).predict(X)
    np.testing.assert_array_equal(a, b)


def test_different_random_state_gives_different_models(toy):
    X, y = toy
    params = {**FAST, "random_state": 1}
    a = TAAFSRegressor(**FAST).fit(X, y).predict(X)
    b = TAAFSRegressor(**params).fit(X, y).predict(X)
    assert not np.allclose(a, b)


def test_clone_and_pickle_round_trip(fitted, toy):
    X, _ = toy
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict(X), fitted.predict(X))
    cloned = clone(fitted)
    assert cloned.get_params() == fitted.get_params()
    assert not hasattr(cloned, "net_")


def test_fit_learns_the_toy_function(fitted, toy):
    X, y = toy
    assert fitted.score(X, y) > 0.8
    assert fitted.n_iter_ == len(fitted.loss_curve_)
    assert fitted.module_ is fitted.net_.module_


def test_multi_output_and_float32(toy):
    X, y = toy
    Y = np.column_stack([y, -2 * y + 1]).astype(np.float32)
    model = TAAFSRegressor(basis="fourier", **FAST).fit(X.astype(np.float32), Y)
    pred = model.predict(X.astype(np.float32))
    assert pred.shape == (len(X), 2) and pred.dtype == np.float64
    assert model.score(X, Y) > 0.7


@pytest.mark.parametrize("sharing", ["global", "network", "layer", "neuron"])
def test_n_params_matches_the_formula(toy, sharing):
    X, y = toy
    hidden = (8, 6)
    model = TAAFSRegressor(
        hidden, basis="legendre", n_basis=5, sharing=sharing, max_epochs=1, random_state=0
    ).fit(X, y)
    linear = (4 * 8 + 8) + (8 * 6 + 6) + (6 * 1 + 1)
    expected = linear + count_activation_params("legendre", n_basis=5, sharing=sharing,
                                              hidden_layer_sizes=hidden)
    assert model.n_params_ == expected


def test_activation_functions_shapes(toy):
    X, y = toy
    per_neuron = TAAFSRegressor((5,), basis="grbf", sharing="neuron", max_epochs=2).fit(X, y)
    z, values = per_neuron.activation_functions(0)
    assert values.shape == (len(z), 5)
    layer = TAAFSRegressor((5,), basis="grbf", sharing="layer", max_epochs=2).fit(X, y)
    z, values = layer.activation_functions(0, z=np.linspace(-1, 1, 11))
    assert values.shape == (11, 1)
    with pytest.raises(ValueError, match="layer must be in"):
        layer.activation_functions(3)


def test_partial_fit_continues_training(toy):
    X, y = toy
    model = TAAFSRegressor((16,), basis="chebyshev1", random_state=0)
    losses = [model.partial_fit(X, y).loss_curve_[-1] for _ in range(15)]
    assert model.n_iter_ == 15
    assert losses[-1] < 0.7 * losses[0]


def test_skip_connection_fits_a_linear_target():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(400, 10))
    y = X @ rng.normal(size=10)
    params = dict(hidden_layer_sizes=(8,), max_epochs=60, random_state=0, lr=3e-3)
    plain = TAAFSRegressor(basis="tanh", **params).fit(X, y)
    skip = TAAFSRegressor(basis="tanh", skip_connection=True, **params).fit(X, y)
    assert skip.score(X, y) > 0.995
    assert skip.score(X, y) > plain.score(X, y)


def test_divergence_raises_a_clear_error():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(64, 3)) * 1e3
    y = rng.normal(size=64) * 1e6
    model = TAAFSRegressor(
        (8,), basis="identity", optimizer="sgd", lr=1e6, scale_target=False, max_epochs=20
    )
    with pytest.raises(TrainingDivergedError, match="lower `lr`"):
        model.fit(X, y)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"basis": "wavelet"}, "basis"),
        ({"sharing": "per_atom"}, "sharing"),
        ({"n_basis": 0}, "n_basis"),
        ({"hidden_layer_sizes": (8, -1)}, "hidden_layer_sizes"),
        ({"lr": -0.1}, "lr"),
        ({"validation_fraction": 1.5}, "validation_fraction"),
        ({"optimizer": "lbfgs"}, "optimizer"),
    ],
)
def test_bad_parameters_name_the_parameter(toy, params, match):
    X, y = toy
    with pytest.raises(ValueError, match=match):
        TAAFSRegressor(**params).fit(X, y)


def test_bad_input_gets_clear_errors(fitted, toy):
    X, y = toy
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        TAAFSRegressor(**FAST).fit(bad, y)
    bad[3, 1] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        fitted.predict(bad)
    with pytest.raises(ValueError, match="has 3 features, but TAAFSRegressor is expecting 4"):
        fitted.predict(X[:, :3])
    with pytest.raises(ValueError, match="0 sample"):
        TAAFSRegressor(**FAST).fit(X[:0], y[:0])
    with pytest.raises(ValueError, match="could not convert string to float"):
        TAAFSRegressor(**FAST).fit(np.array([["a", "b"]] * 5), np.ones(5))


# ----------------------------------------------------------- shared skorch set-up (training.py)
def _small_module():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))


def _xy(n=120):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(n, 3)).astype(np.float32)
    return X, np.sin(X[:, :1]) + 0.1 * X[:, 1:2]


@pytest.mark.parametrize("optimizer", ["adam", "adamw", "sgd"])
def test_build_net_never_updates_frozen_parameters(optimizer):
    module = _small_module()
    frozen = module[0].weight
    frozen.requires_grad_(False)
    frozen.grad = torch.ones_like(frozen)  # a stale gradient must not leak into a step
    before = frozen.detach().clone()
    X, y = _xy()
    extra = {"optimizer__momentum": 0.9} if optimizer == "sgd" else {}
    net = build_net(module, n_samples=len(X), max_epochs=4, optimizer=optimizer,
                    weight_decay=0.1, random_state=0, **extra)
    trained_before = module[2].weight.detach().clone()
    fit_net(net, X, y, seed=0)
    assert torch.equal(frozen, before)
    assert not torch.equal(module[2].weight, trained_before)


def test_build_net_routes_param_groups_and_early_stops():
    module = _small_module()
    X, y = _xy()
    net = build_net(module, n_samples=len(X), max_epochs=200, patience=2, lr=0.05,
                    optimizer__param_groups=[("0.*", {"lr": 0.0})], random_state=0)
    before = module[0].weight.detach().clone()
    fit_net(net, X, y, seed=0)
    train, valid = loss_curves(net)
    assert torch.equal(module[0].weight, before)  # lr 0 for the first layer
    assert valid is not None and len(train) < 200  # held-out rows, stopped early


def test_build_net_is_reproducible_and_keeps_the_callers_rng():
    X, y = _xy()
    preds = []
    for _ in range(2):
        net = build_net(_small_module(), n_samples=len(X), max_epochs=3, random_state=0)
        torch.manual_seed(123)
        state = torch.random.get_rng_state()
        fit_net(net, X, y, seed=7)
        assert torch.equal(torch.random.get_rng_state(), state)
        preds.append(net.predict(X))
    np.testing.assert_array_equal(*preds)


def test_build_net_divergence_and_bad_optimizer():
    X, y = _xy()
    net = build_net(_small_module(), max_epochs=5, lr=1e12, optimizer="sgd",
                    early_stopping=False, divergence_hint="smaller retrain_lr")
    with pytest.raises(TrainingDivergedError, match="smaller retrain_lr"):
        fit_net(net, X, 1e6 * y, seed=0)
    with pytest.raises(ValueError, match="optimizer must be one of"):
        build_net(_small_module(), optimizer="lbfgs2")
