"""What the analog half does with unusual input beyond a refusal (issue 29): files and
folders it must not touch, bad shapes found before any training, and that the checks leave
valid input alone."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from sklearn.neural_network import MLPRegressor

from taafs_sk.analog import (
    DispersionAwareRegressor,
    NAFDispersion,
    as_torch_model,
    export_hardware,
    load_hardware,
    train_dispersion_aware,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(30, 2))
    return X, np.tanh(X).sum(1)


@pytest.fixture(scope="module")
def est(data):
    return MLPRegressor(hidden_layer_sizes=(3,), activation="tanh", max_iter=20,
                        random_state=0).fit(*data)


def test_csv_export_never_replaces_a_folder_that_is_not_an_export(est, data, tmp_path):
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me")
    with pytest.raises(ValueError, match="not a CSV export"):
        export_hardware(est, folder, data[0], format="csv")
    assert (folder / "notes.txt").read_text() == "keep me"


def test_csv_export_replaces_an_earlier_export(est, data, tmp_path):
    path = export_hardware(est, tmp_path / "net", data[0], n_points=9, format="csv")
    (path / "output_bias.csv").write_text("123\n")  # an earlier, different export
    export_hardware(est, path, data[0], n_points=9, format="csv")
    np.testing.assert_allclose(load_hardware(path).predict(data[0]), est.predict(data[0]),
                               atol=1e-2)


def test_load_hardware_never_unpickles(tmp_path):
    class Bomb:
        def __reduce__(self):
            return (pytest.fail, ("load_hardware unpickled a file",))

    path = tmp_path / "net.npz"
    path.write_bytes(pickle.dumps(Bomb()))
    with pytest.raises(ValueError, match="not an export written by export_hardware") as info:
        load_hardware(path)
    assert "allow_pickle" not in str(info.value)  # no advice to unpickle an unknown file


def test_npz_with_an_object_array_is_refused_without_unpickling(tmp_path):
    path = tmp_path / "net.npz"
    np.savez(path, format_version=np.array(1), output_weight=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="Python objects"):
        load_hardware(path)


@pytest.mark.parametrize("spread", [float("nan"), -0.1, float("inf")])
def test_bad_spread_is_refused_before_the_ideal_model_is_fitted(spread, data):
    est = MLPRegressor(hidden_layer_sizes=(3,), activation="tanh", max_iter=20)
    aware = DispersionAwareRegressor(est, NAFDispersion("tanh", spread=spread), train_epochs=1)
    with pytest.raises(ValueError, match="spread"):
        aware.fit(*data)
    assert not hasattr(aware, "ideal_")
    assert not hasattr(est, "coefs_")


def test_misspelt_params_string_is_refused_not_read_letter_by_letter(est, data):
    # 'offsets' contains 'offset' as a substring: it once silently dispersed the offsets only
    with pytest.raises(TypeError, match="params"):
        train_dispersion_aware(as_torch_model(est).copy(), *data,
                               NAFDispersion("tanh", params="offsets"), epochs=1)


def test_checked_torch_model_predicts_as_before(est, data):
    model = as_torch_model(est)
    X = data[0]
    out = model(torch.as_tensor(X))
    np.testing.assert_allclose(model.to_target(out), est.predict(X), atol=1e-12)
    np.testing.assert_allclose(model.target_to_network(data[1])[:, 0], data[1])
