"""TAAFSRegressor(loss=...): the absolute error is what is trained, monitored and refused."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
import torch

from taafs_sk import TAAFSRegressor
from taafs_sk._validation import repeat_weighted_rows
from taafs_sk.taafs._weights import LOSSES, WeightedLoss, WeightedMSELoss


@pytest.fixture
def outliers():
    """y = x0 plus noise, with 15 % of the rows shifted up by 8 (a skewed contamination)."""
    rng = np.random.RandomState(0)
    X = rng.uniform(-2, 2, size=(400, 2))
    clean = X[:, 0].copy()
    y = clean + 0.05 * rng.randn(400)
    y[rng.rand(400) < 0.15] += 8.0
    return X, y, clean


def _fit(X, y, **params):
    model = TAAFSRegressor((16,), basis="tanh", max_epochs=150, batch_size=400, lr=1e-2,
                           early_stopping=False, random_state=0, **params)
    return model.fit(X, y)


def test_weighted_loss_matches_numpy():
    rng = np.random.RandomState(1)
    pred, y, w = rng.randn(7, 2), rng.randn(7, 2), rng.uniform(0.5, 1.5, 7)
    w = w / w.mean()
    t = [torch.tensor(a) for a in (pred, y, w)]
    for name, fn in (("squared_error", np.square), ("absolute_error", np.abs)):
        loss = WeightedLoss(name)
        assert float(loss(t[0], t[1])) == pytest.approx(fn(pred - y).mean(), rel=1e-12)
        weighted = float(loss(t[0], t[1], sample_weight=t[2]))
        assert weighted == pytest.approx((w * fn(pred - y).mean(1)).mean(), rel=1e-12)
    assert sorted(LOSSES) == ["absolute_error", "squared_error"]
    with pytest.raises(ValueError, match="loss must be one of.*'huber'"):
        WeightedLoss("huber")


def test_a_loss_pickled_without_the_attribute_is_squared_error():
    loss = WeightedMSELoss()
    del loss.loss  # as unpickled from before 0.2, when the class had no `loss`
    restored = pickle.loads(pickle.dumps(loss))
    pred, y = torch.zeros(2, 1), torch.tensor([[1.0], [3.0]])
    assert restored.loss == "squared_error" and float(restored(pred, y)) == 5.0


def test_absolute_error_fits_the_median_not_the_mean(outliers):
    X, y, clean = outliers
    squared = _fit(X, y)
    absolute = _fit(X, y, loss="absolute_error")
    assert absolute.net_.criterion_.loss == "absolute_error"
    # the mean is pulled up by 0.15 * 8 = 1.2; the median stays on the clean line
    shift_squared = np.median(squared.predict(X) - clean)
    shift_absolute = np.median(absolute.predict(X) - clean)
    assert shift_squared > 0.8
    assert abs(shift_absolute) < 0.15


def test_the_history_records_the_absolute_error(outliers):
    X, y, _ = outliers
    model = TAAFSRegressor((8,), basis="tanh", loss="absolute_error", max_epochs=1,
                           batch_size=400, lr=1e-9, early_stopping=False, random_state=0)
    model.fit(X, y)
    scaled = np.abs(model.predict(X) - y) / model.y_scale_[0]
    assert model.loss_curve_[0] == pytest.approx(scaled.mean(), rel=1e-5)


def test_early_stopping_monitors_the_same_loss(outliers):
    X, y, _ = outliers
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = TAAFSRegressor((8,), basis="tanh", loss="absolute_error", max_epochs=1,
                               random_state=0).fit(X, y)
    X, y, _ = repeat_weighted_rows(X, y, None)  # the canonical row order fit trains in
    scaled = ((y - model.y_mean_[0]) / model.y_scale_[0]).astype(np.float32)[:, None]
    _, valid = model.net_.get_split_datasets(X.astype(np.float32), scaled)
    rows = np.asarray(valid.indices)
    assert 0 < len(rows) < len(y)
    mae = np.mean(np.abs(model.predict(X[rows]) - y[rows])) / model.y_scale_[0]
    mse = np.mean((model.predict(X[rows]) - y[rows]) ** 2) / model.y_scale_[0] ** 2
    assert model.validation_loss_curve_[0] == pytest.approx(mae, rel=1e-5)
    assert abs(mse - mae) > 0.1 * mae


def test_rlekf_refuses_the_absolute_error(outliers):
    X, y, _ = outliers
    with pytest.raises(ValueError, match="loss='absolute_error'.*optimizer='rlekf'"):
        TAAFSRegressor(loss="absolute_error", optimizer="rlekf").fit(X, y)


def test_unknown_loss_names_the_parameter(outliers):
    X, y, _ = outliers
    with pytest.raises(ValueError, match="'loss' parameter of TAAFSRegressor"):
        TAAFSRegressor(loss="huber").fit(X, y)


def test_old_state_gets_the_default_loss(outliers):
    X, y, _ = outliers
    model = _fit(X, y, loss="absolute_error")
    state = model.__getstate__()
    del state["loss"]
    restored = TAAFSRegressor.__new__(TAAFSRegressor)
    restored.__setstate__(state)
    assert restored.get_params()["loss"] == "squared_error"
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))
