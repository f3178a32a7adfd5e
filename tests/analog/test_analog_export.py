"""Hardware export: weights and activation lookup tables, and the model rebuilt from them."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from taafs_sk import TAAFSRegressor
from taafs_sk.additive import AdditiveKernelNN
from taafs_sk.analog import export_hardware, load_hardware

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 3))
    return X, np.tanh(X).sum(1) + X[:, 0] * X[:, 1]


@pytest.fixture(scope="module")
def taaf(data):
    return TAAFSRegressor((12, 12), basis="legendre", n_basis=6, skip_connection=True,
                          max_epochs=40, random_state=0).fit(*data)


@pytest.fixture(scope="module")
def akn(data):
    return AdditiveKernelNN(n_neurons=6, n_restarts_optimizer=0, random_state=0).fit(*data)


def _max_err(est, path, X, **kw):
    return float(np.abs(load_hardware(path, **kw).predict(X) - est.predict(X)).max())


@pytest.mark.parametrize("fmt", ["npz", "csv"])
@pytest.mark.parametrize("which", ["taaf", "akn"])
def test_round_trip(which, fmt, request, data, tmp_path):
    est, X = request.getfixturevalue(which), data[0]
    path = export_hardware(est, tmp_path / f"net.{fmt}", X, n_points=1025, format=fmt)
    scale = np.ptp(est.predict(X))
    assert _max_err(est, path, X) < 1e-5 * max(scale, 1.0)


@pytest.mark.parametrize("which", ["taaf", "akn"])
def test_interpolation_error_falls_with_the_table_size(which, request, data, tmp_path):
    est, X = request.getfixturevalue(which), data[0]
    errs = {}
    for n in (65, 257):
        path = export_hardware(est, tmp_path / f"n{n}.npz", X, n_points=n)
        errs[n, "pchip"] = _max_err(est, path, X)
        errs[n, "linear"] = _max_err(est, path, X, interpolation="linear")
    assert errs[257, "pchip"] < errs[65, "pchip"] / 8  # at least third order in h
    assert errs[257, "linear"] < errs[65, "linear"] / 3  # second order, with margin
    assert errs[257, "pchip"] < errs[257, "linear"]


def test_npz_and_csv_hold_the_same_tables(taaf, data, tmp_path):
    X = data[0]
    a = load_hardware(export_hardware(taaf, tmp_path / "a.npz", X, n_points=33))
    b = load_hardware(export_hardware(taaf, tmp_path / "b", X, n_points=33, format="csv"))
    np.testing.assert_allclose(a.predict(X), b.predict(X), rtol=0, atol=1e-12)
    table = np.loadtxt(tmp_path / "b" / "activation_0.csv", delimiter=",", skiprows=1)
    assert table.shape == (12 * 33, 3)
    w = np.loadtxt(tmp_path / "b" / "hidden_weight_0.csv", delimiter=",")
    np.testing.assert_allclose(w, taaf.module_.hidden[0].weight.detach().numpy(), atol=1e-7)


def test_tables_span_the_training_pre_activations(taaf, data, tmp_path):
    import torch

    X = data[0]
    path = export_hardware(taaf, tmp_path / "t.npz", X, n_points=9, margin=0.0)
    z = taaf.module_.hidden_pre_activations(torch.as_tensor(X, dtype=torch.float32))[0]
    grid = np.load(path)["grid_0"]
    np.testing.assert_allclose(grid[:, 0], z.amin(0).detach().double().numpy(), atol=1e-5)
    np.testing.assert_allclose(grid[:, -1], z.amax(0).detach().double().numpy(), atol=1e-5)


def test_sklearn_mlp_round_trip(data, tmp_path):
    X, y = data
    est = MLPRegressor(hidden_layer_sizes=(10,), activation="relu", max_iter=200,
                       random_state=0).fit(X, y)
    path = export_hardware(est, tmp_path / "m.npz", X, n_points=513)
    # linear interpolation of relu errs only in the cell holding the kink, by at most h/4
    a = np.load(path)
    h = a["grid_0"][:, 1] - a["grid_0"][:, 0]
    bound = float(np.abs(a["output_weight"][0]) @ (h / 4))
    err = _max_err(est, path, X, interpolation="linear")
    assert 0 < err <= bound * (1 + 1e-9)


def test_bad_input_leaves_no_file(taaf, data, tmp_path):
    X = data[0].copy()
    X[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        export_hardware(taaf, tmp_path / "bad.npz", X)
    with pytest.raises(ValueError, match="n_points must be an integer >= 2, got 1"):
        export_hardware(taaf, tmp_path / "bad.npz", data[0], n_points=1)
    with pytest.raises(ValueError, match="format must be"):
        export_hardware(taaf, tmp_path / "bad.npz", data[0], format="xlsx")
    assert list(tmp_path.iterdir()) == []


def test_refusals(data, tmp_path):
    X, y = data
    pipe = make_pipeline(StandardScaler(), MLPRegressor(hidden_layer_sizes=(4,),
                                                        max_iter=20)).fit(X, y)
    with pytest.raises(ValueError, match="Pipeline with preprocessing steps"):
        export_hardware(pipe, tmp_path / "p.npz", X)
    with pytest.raises(TypeError, match="does not support"):
        export_hardware(object(), tmp_path / "p.npz", X)
    with pytest.raises(ValueError, match="does not exist"):
        load_hardware(tmp_path / "missing.npz")
    with pytest.raises(ValueError, match="interpolation must be"):
        load_hardware(tmp_path / "missing.npz", interpolation="cubic")


def test_extrapolation_beyond_the_tables(taaf, data, tmp_path):
    import torch

    X = data[0]
    path = export_hardware(taaf, tmp_path / "e.npz", X, n_points=65)
    table = np.load(path)["table_0"]
    clamp = load_hardware(path, extrapolation="clamp")
    far = torch.as_tensor(10 * X, dtype=torch.float64)
    z = clamp.mlp.hidden[0](far)
    h = clamp.mlp.activations[0](z).detach().numpy()
    assert (h >= table.min(1) - 1e-12).all() and (h <= table.max(1) + 1e-12).all()
    linear = load_hardware(path)
    assert not np.allclose(linear.predict(10 * X), clamp.predict(10 * X))
    with pytest.raises(ValueError, match="extrapolation must be"):
        load_hardware(path, extrapolation="nearest")
