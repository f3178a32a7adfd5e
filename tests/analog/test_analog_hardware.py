"""Hardware activation shapes (NAFDispersion, MeasuredNAF) and HardwareNAFRegressor."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.interpolate import PchipInterpolator
from sklearn.model_selection import GroupShuffleSplit
from sklearn.neural_network import MLPRegressor
from sklearn.preprocessing import StandardScaler

from taafs_sk.analog import (
    HardwareNAFRegressor,
    MeasuredNAF,
    NAFDispersion,
    as_torch_model,
    realize_network,
    retrain_weights,
)
from taafs_sk.analog.naf import pchip_slopes
from taafs_sk.exceptions import TrainingDivergedError


# ------------------------------------------------------------------------ dispersion
def test_dispersion_parameter_statistics():
    act = NAFDispersion("tanh", spread=0.1, random_state=0).realize(20000)
    n = 20000
    for name, mean, std in (("gain", 1, 0.1), ("shift", 0, 0.1), ("scale", 1, 0.1),
                            ("offset", 0, 0.2)):  # tanh output span 2 -> offset std 0.2
        values = getattr(act, name).double()
        assert abs(values.mean().item() - mean) < 5 * std / np.sqrt(n), name
        assert abs(values.std().item() - std) < 5 * std / np.sqrt(2 * n), name


def test_dispersion_only_listed_params_vary():
    act = NAFDispersion("sigmoid", spread=0.2, params=("gain",), random_state=0).realize(64)
    assert act.gain.std() > 0.1
    assert torch.equal(act.shift, torch.zeros(64)) and torch.equal(act.offset, torch.zeros(64))
    assert torch.equal(act.scale, torch.ones(64))


def test_zero_spread_is_the_nominal_activation():
    z = torch.linspace(-4, 4, 50).reshape(10, 5)
    act = NAFDispersion("tanh", spread=0.0).realize(5)
    torch.testing.assert_close(act(z), torch.tanh(z), rtol=0, atol=0)


def test_dispersion_is_reproducible_and_elementwise():
    a = NAFDispersion("tanh", 0.1, random_state=3).realize(8)
    b = NAFDispersion("tanh", 0.1, random_state=3).realize(8)
    assert torch.equal(a.gain, b.gain)
    z = torch.randn(4, 6, 8, generator=torch.Generator().manual_seed(0))
    out = a(z)  # leading (n_draws, n) dims
    expected = a.scale[3] * torch.tanh(a.gain[3] * (z[..., 3] - a.shift[3])) + a.offset[3]
    torch.testing.assert_close(out[..., 3], expected)


def test_dispersion_rejects_unknown_base():
    with pytest.raises(ValueError, match="base must be one of"):
        NAFDispersion("swish-ish").realize(4)


# -------------------------------------------------------------------------- measured
@pytest.fixture(scope="module")
def curves():
    rng = np.random.RandomState(0)
    x = np.sort(rng.uniform(-3, 3, 15))
    gains = 1 + 0.2 * rng.normal(size=6)
    ys = np.stack([np.tanh(g * x) + 0.05 * g * x for g in gains])
    return x, ys


def test_measured_naf_interpolates_and_stays_monotone(curves):
    x, ys = curves
    act = MeasuredNAF(x, ys).realize(6)
    nodes = torch.as_tensor(np.repeat(x[:, None], 6, axis=1))
    torch.testing.assert_close(act(nodes), torch.as_tensor(ys.T))
    dense = torch.linspace(-5, 5, 2001, dtype=torch.float64)[:, None].repeat(1, 6)
    out = act(dense)
    assert bool((out.diff(dim=0) >= -1e-12).all())


def test_measured_naf_matches_pchip_and_extrapolates_linearly(curves):
    x, ys = curves
    act = MeasuredNAF(x, ys).realize(6)
    z = np.linspace(x[0], x[-1], 300)
    out = act(torch.as_tensor(np.repeat(z[:, None], 6, axis=1))).numpy()
    for k in range(6):
        np.testing.assert_allclose(out[:, k], PchipInterpolator(x, ys[k])(z), atol=1e-12)
    far = torch.as_tensor(np.repeat(np.array([[5.0], [6.0], [7.0]]), 6, axis=1))
    second_diff = act(far).diff(n=2, dim=0)
    torch.testing.assert_close(second_diff, torch.zeros_like(second_diff))


def test_pchip_slopes_zero_at_local_extremum():
    x = torch.tensor([0.0, 1.0, 2.0, 3.0], dtype=torch.float64)
    y = torch.tensor([[0.0, 1.0, 0.5, 0.7]], dtype=torch.float64)
    assert pchip_slopes(x, y)[0, 1] == 0.0


def test_measured_naf_assignment(curves):
    x, ys = curves
    with pytest.raises(ValueError, match="per_neuron.*6 curves for 10 neurons"):
        MeasuredNAF(x, ys).realize(10)
    act = MeasuredNAF(x, ys, assignment="sample", random_state=0).realize(10)
    rows = {tuple(np.round(v, 12)) for v in act.values.numpy()}
    assert rows <= {tuple(np.round(v, 12)) for v in ys}
    assert len(rows) > 1


# ------------------------------------------------------------------------- regressor
@pytest.fixture(scope="module")
def perovskites(data_home):
    raw = np.loadtxt(data_home / "manzhos-double-perovskites" / "perovskite_ML_data.dat")
    X, y, groups = raw[:, :31], raw[:, 31], np.arange(len(raw)) % 270
    train, test = next(GroupShuffleSplit(1, test_size=0.25, random_state=0)
                       .split(X, y, groups))
    scaler = StandardScaler().fit(X[train])
    return scaler.transform(X[train]), scaler.transform(X[test]), y[train], y[test]


@pytest.fixture(scope="module")
def hardware(perovskites):
    X_tr, _, y_tr, _ = perovskites
    est = MLPRegressor(hidden_layer_sizes=(32,), activation="tanh", max_iter=2000,
                       early_stopping=True, random_state=0)
    hw = HardwareNAFRegressor(est, NAFDispersion("tanh", spread=0.2), retrain_epochs=60,
                              random_state=0)
    return hw.fit(X_tr, y_tr)


def test_hardware_keeps_all_four_models(hardware, perovskites):
    _, X_te, _, _ = perovskites
    for name in ("ideal_", "degraded_", "retrained_", "control_"):
        assert getattr(hardware, name).predict(X_te).shape == (len(X_te),)
    np.testing.assert_array_equal(hardware.predict(X_te), hardware.retrained_.predict(X_te))
    assert hardware.n_features_in_ == X_te.shape[1]


def test_ideal_model_is_untouched_by_retraining(hardware, perovskites):
    X_tr, X_te, _, _ = perovskites
    np.testing.assert_allclose(as_torch_model(hardware.ideal_).predict(X_te),
                               hardware.ideal_.predict(X_te), atol=1e-12)
    assert not np.allclose(hardware.control_.predict(X_te), hardware.ideal_.predict(X_te))


def test_retraining_recovers_dispersion_loss_on_real_data(hardware, perovskites):
    _, X_te, _, y_te = perovskites
    scores = hardware.recovery_score(X_te, y_te)
    assert scores["rmse_degraded"] > 1.1 * scores["rmse_ideal"]
    assert scores["rmse_retrained"] < scores["rmse_degraded"]
    assert scores["recovery"] > 0.5
    assert np.isfinite(scores["recovery_vs_control"])


def test_no_retrain_no_control(perovskites):
    X_tr, X_te, y_tr, _ = perovskites
    est = MLPRegressor(hidden_layer_sizes=(8,), activation="tanh", max_iter=50, random_state=0)
    hw = HardwareNAFRegressor(est, NAFDispersion("tanh", 0.1), retrain=False, control=False,
                              random_state=0).fit(X_tr, y_tr)
    assert hw.retrained_ is None and hw.control_ is None
    np.testing.assert_array_equal(hw.predict(X_te), hw.degraded_.predict(X_te))
    scores = hw.recovery_score(X_te, hw.ideal_.predict(X_te))
    assert np.isnan(scores["recovery"]) and np.isnan(scores["rmse_control"])


def test_nominal_activation_must_match(perovskites):
    X_tr, _, y_tr, _ = perovskites
    est = MLPRegressor(hidden_layer_sizes=(8,), activation="relu", max_iter=20)
    with pytest.raises(ValueError, match="'relu' differs from the NAFs' nominal base 'tanh'"):
        HardwareNAFRegressor(est, NAFDispersion("tanh")).fit(X_tr, y_tr)


# ------------------------------------------------------------------------ retraining
@pytest.fixture(scope="module")
def toy():
    X = np.random.RandomState(0).normal(size=(200, 3))
    y = np.tanh(X).sum(1)
    est = MLPRegressor(hidden_layer_sizes=(8,), activation="tanh", max_iter=2000, random_state=0)
    return X, y, est.fit(X, y)


def test_retraining_that_diverges_raises(toy):
    X, y, est = toy
    hw = HardwareNAFRegressor(est, NAFDispersion("tanh", 0.1), retrain_epochs=3,
                              retrain_lr=1e30, random_state=0)
    with pytest.raises(TrainingDivergedError, match="diverged at epoch 1.*retrain_lr"):
        hw.fit(X, y)


@pytest.mark.parametrize("verbose", [0, 1])
def test_retraining_prints_only_when_verbose(toy, capsys, verbose):
    X, y, est = toy
    capsys.readouterr()
    HardwareNAFRegressor(est, NAFDispersion("tanh", 0.1), retrain_epochs=2, verbose=verbose,
                         random_state=0).fit(X, y)
    out = capsys.readouterr()
    if verbose:
        assert "valid_loss" in out.out  # skorch's epoch table, once per run
    else:
        assert out.out == "" and out.err == ""


def test_retrain_weights_early_stopping_and_best_epoch(toy):
    X, y, est = toy
    model = realize_network(as_torch_model(est).copy(), NAFDispersion("tanh", 0.2), 0)
    stalled = retrain_weights(model.copy(), X, y, epochs=20, lr=1e-12, patience=2,
                              random_state=0)
    assert len(stalled) == 3  # no improvement: stops after `patience` more epochs
    full = retrain_weights(model.copy(), X, y, epochs=20, lr=1e-12, random_state=0)
    assert len(full) == 20  # patience=None: every epoch runs (a control trains as long)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_retraining_changes_only_the_weights():
    from taafs_sk import TAAFSRegressor

    X = np.random.RandomState(1).uniform(-1, 1, size=(150, 2))
    y = np.sin(3 * X[:, 0]) + X[:, 1]
    est = TAAFSRegressor((6,), basis="chebyshev1", n_basis=4, max_epochs=5,
                         random_state=0).fit(X, y)
    model = as_torch_model(est).copy()
    acts = [p.detach().clone() for p in model.mlp.activations.parameters()]
    weights = [p.detach().clone() for p in model.mlp.hidden.parameters()]
    assert acts, "the TAAF activations should have trainable coefficients"
    retrain_weights(model, X, y, epochs=3, lr=1e-2, validation_fraction=None, random_state=0)
    after = list(model.mlp.activations.parameters())
    for before, now in zip(acts, after, strict=True):
        torch.testing.assert_close(now, before, rtol=0, atol=0)
        assert now.requires_grad  # frozen for the run only
    assert any(not torch.equal(b, a) for b, a in zip(weights, model.mlp.hidden.parameters(),
                                                      strict=True))


def test_retrain_weights_runs_skorch_callbacks(toy):
    from skorch.callbacks import Callback

    class CountEpochs(Callback):
        def initialize(self):
            self.epochs = 0
            return self

        def on_epoch_end(self, net, **kwargs):
            self.epochs += 1

    X, y, est = toy
    counter = CountEpochs()
    retrain_weights(as_torch_model(est).copy(), X, y, epochs=4, callbacks=[counter],
                    random_state=0)
    assert counter.epochs == 4
