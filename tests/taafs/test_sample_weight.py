"""sample_weight, warm_start and partial_fit of the estimators.

Integer weights are honoured as repeated rows: both estimators train on the repeated rows in
an order set by their values, so a weighted fit equals the fit on the repeated (shuffled)
data exactly, minibatches, validation split and early stopping included. Fractional weights
(and integer weights that would multiply the rows more than ``MAX_REPEAT`` times) scale each
row's loss in the network; that path is compared with repetition on one full batch with no
early stopping and the same seed, where the two losses are equal in exact arithmetic and
differ only by float32 rounding.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from taafs_sk import AdditiveKernelNN, TAAFSRegressor
from taafs_sk.taafs._fitting import MAX_REPEAT
from taafs_sk.taafs.training import build_net, fit_net


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, (40, 3))
    y = np.sin(2 * X[:, 0]) + X[:, 1] * X[:, 2] + 0.05 * rng.randn(40)
    w = rng.randint(0, 4, 40)
    return X, y, w


def _shuffled_repeats(X, y, w, seed=1):
    Xr, yr = np.repeat(X, w, axis=0), np.repeat(y, w)
    order = np.random.RandomState(seed).permutation(len(yr))
    return Xr[order], yr[order]


NET = dict(hidden_layer_sizes=(8,), basis="legendre", n_basis=5, max_epochs=15, batch_size=16,
           lr=1e-2, random_state=0)


def test_network_integer_weights_equal_repeated_rows_exactly(data):
    X, y, w = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # max_epochs reached: irrelevant here
        weighted = TAAFSRegressor(**NET).fit(X, y, sample_weight=w)
        repeated = TAAFSRegressor(**NET).fit(*_shuffled_repeats(X, y, w))
    np.testing.assert_array_equal(weighted.predict(X), repeated.predict(X))
    assert weighted.n_iter_ == repeated.n_iter_


def test_network_loss_weights_match_repetition_on_one_full_batch(data):
    X, y, _ = data
    w = np.random.RandomState(3).randint(1, 40, len(y))  # mean > MAX_REPEAT: weighted loss
    assert w.sum() > MAX_REPEAT * len(w)
    full = dict(NET, batch_size=10_000, early_stopping=False, max_epochs=20)
    weighted = TAAFSRegressor(**full).fit(X, y, sample_weight=w)
    repeated = TAAFSRegressor(**full).fit(np.repeat(X, w, axis=0), np.repeat(y, w))
    np.testing.assert_allclose(weighted.y_mean_, repeated.y_mean_, rtol=1e-12)
    np.testing.assert_allclose(weighted.y_scale_, repeated.y_scale_, rtol=1e-12)
    # float32 sums in another order: measured max difference ~1e-7 of predictions ~1
    np.testing.assert_allclose(weighted.predict(X), repeated.predict(X), atol=2e-6)
    unweighted = TAAFSRegressor(**full).fit(X, y)
    assert np.abs(unweighted.predict(X) - weighted.predict(X)).max() > 1e-3  # weights matter


def test_network_fractional_weights_are_scale_free(data):
    X, y, w = data
    frac = w + 0.25
    full = dict(NET, batch_size=10_000, early_stopping=False, max_epochs=5)
    a = TAAFSRegressor(**full).fit(X, y, sample_weight=frac)
    b = TAAFSRegressor(**full).fit(X, y, sample_weight=2 * frac)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))


def test_rlekf_refuses_fractional_weights(data):
    X, y, w = data
    with pytest.raises(ValueError, match="sample_weight.*rlekf"):
        TAAFSRegressor((4,), optimizer="rlekf", max_epochs=1).fit(X, y, sample_weight=w + 0.5)


AKN = dict(n_neurons=4, weights="sobol", n_restarts_optimizer=0, optimize_weights=3,
           random_state=0)


def test_additive_integer_weights_equal_repeated_rows_exactly(data):
    X, y, w = data
    weighted = AdditiveKernelNN(**AKN).fit(X, y, sample_weight=w)
    repeated = AdditiveKernelNN(**AKN).fit(*_shuffled_repeats(X, y, w))
    np.testing.assert_array_equal(weighted.predict(X), repeated.predict(X))
    assert weighted.alpha_ == repeated.alpha_  # the hyperparameters too
    unweighted = AdditiveKernelNN(**AKN).fit(X, y)
    assert np.abs(unweighted.predict(X) - weighted.predict(X)).max() > 1e-6


def test_additive_refuses_fractional_weights_naming_the_row(data):
    X, y, w = data
    frac = w.astype(float)
    frac[7] = 0.5
    with pytest.raises(ValueError, match=r"sample_weight.*integers.*0\.5 at row 7"):
        AdditiveKernelNN(**AKN).fit(X, y, sample_weight=frac)


# ------------------------------------------------------------------ warm_start, partial_fit
def test_warm_start_continues_from_the_trained_weights(data):
    X, y, _ = data
    kw = dict(NET, early_stopping=False, max_epochs=10)
    warm = TAAFSRegressor(**kw, warm_start=True).fit(X, y)
    first_end = warm.loss_curve_[-1]
    warm.fit(X, y)
    cold = TAAFSRegressor(**kw).fit(X, y)
    assert warm.loss_curve_[0] < cold.loss_curve_[0]  # did not start again
    assert abs(warm.loss_curve_[0] - first_end) < 0.5 * cold.loss_curve_[0]
    cold.fit(X, y)  # warm_start=False: starts again, the same as the first fit
    np.testing.assert_array_equal(cold.predict(X), TAAFSRegressor(**kw).fit(X, y).predict(X))


def test_warm_start_refuses_a_changed_architecture(data):
    X, y, _ = data
    model = TAAFSRegressor(**dict(NET, max_epochs=2, early_stopping=False),
                           warm_start=True).fit(X, y)
    model.set_params(hidden_layer_sizes=(6,))
    with pytest.raises(ValueError, match=r"hidden_layer_sizes.*\(8,\).*\(6,\)"):
        model.fit(X, y)


def test_partial_fit_after_fit_holds_nothing_out():
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, (200, 3))
    y = X[:, 0] - X[:, 1]
    model = TAAFSRegressor((4,), max_epochs=3, random_state=0).fit(X, y)
    assert model.net_.train_split is not None  # fit: 10% held out for early stopping
    model.partial_fit(X, y)
    assert model.net_.train_split is None
    assert "early_stopping" not in dict(model.net_.callbacks_)
    assert "valid_loss" not in model.history_[-1]  # the last epoch saw every row
    rows_seen = model.history_[-1, "batches", -1, "train_batch_size"]
    assert rows_seen == len(y) - 64 * (len(y) // 64)  # the last batch of all 200 rows


# ------------------------------------------------------------------ warnings, device
def test_warnings_point_at_the_users_line():
    X = np.random.RandomState(0).uniform(-1, 1, (30, 2))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        TAAFSRegressor((4,), max_epochs=2, random_state=0).fit(X, X[:, 0])  # ConvergenceWarning
        AdditiveKernelNN(n_neurons=2, optimize=False).fit(X, X[:, 0])  # optimize_weights ignored
    ours = [w for w in caught if "max_epochs" in str(w.message)
            or "optimize_weights" in str(w.message)]
    assert len(ours) == 2
    assert all(w.filename == __file__ for w in ours), [(w.filename, w.lineno) for w in ours]


@pytest.mark.parametrize("device", ["gpu0", "cuda:99", "meta"])
def test_unusable_device_is_refused_at_fit(device):
    X = np.random.RandomState(0).uniform(-1, 1, (30, 2))
    model = TAAFSRegressor((4,), device=device)  # __init__ stores it verbatim
    assert model.device == device
    with pytest.raises(ValueError, match="device"):
        model.fit(X, X[:, 0])


class _SpyLoss(torch.nn.Module):
    """Squared error that records the ``sample_weight`` each call received."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def forward(self, y_pred, y_true, sample_weight=None):
        self.seen.append(None if sample_weight is None else sample_weight.clone())
        per_row = (y_pred - y_true).pow(2).reshape(len(y_pred), -1).mean(1)
        return per_row.mean() if sample_weight is None else (sample_weight * per_row).mean()


class _NoDictModule(torch.nn.Linear):
    def forward(self, x):
        assert isinstance(x, torch.Tensor), "the module must get the inputs alone"
        return super().forward(x)


def test_sample_weight_reaches_the_loss_by_name_and_never_the_module():
    rng = np.random.RandomState(0)
    X = torch.as_tensor(rng.randn(12, 3), dtype=torch.float32)
    y = torch.as_tensor(rng.randn(12, 1), dtype=torch.float32)
    w = torch.as_tensor(rng.uniform(0.5, 2.0, 12), dtype=torch.float32)
    net = build_net(_NoDictModule(3, 1), criterion=_SpyLoss, max_epochs=1, batch_size=12,
                    early_stopping=False, iterator_train__shuffle=False)
    fit_net(net, {"X": X, "sample_weight": w}, y, seed=0)
    assert torch.equal(net.criterion_.seen[0], w)
    fit_net(net, X, y, epochs=1)  # without weights: called without them
    assert net.criterion_.seen[-1] is None


def test_ridge_skip_weighs_rows_by_sample_weight():
    rng = np.random.RandomState(0)
    X = rng.randn(60, 2)
    y = np.where(np.arange(60) < 30, X @ [1.0, 0.0], X @ [0.0, 1.0])  # two regimes
    w = np.where(np.arange(60) < 30, 100.0, 0.01)  # fractional: trained as loss weights
    model = TAAFSRegressor((4,), basis="tanh", skip_connection="ridge", max_epochs=1,
                           early_stopping=False, random_state=0).fit(X, y, sample_weight=w)
    coef = model.module_.skip.weight.detach().numpy().ravel() * model.y_scale_[0]
    np.testing.assert_allclose(coef, [1.0, 0.0], atol=0.02)  # the heavy rows' line


def test_rlekf_names_the_repeat_cap_for_large_integer_weights(data):
    X, y, _ = data
    w = np.full(len(y), MAX_REPEAT + 1)
    w[0] = 1  # unequal integer weights beyond the cap are not repeated rows
    with pytest.raises(ValueError, match=f"at most {MAX_REPEAT}-fold"):
        TAAFSRegressor((4,), optimizer="rlekf", max_epochs=1).fit(X, y, sample_weight=w)
