"""A tiny constructed member for the ensemble tests: least squares plus a seeded offset.

Its offset is ``spread`` times a standard normal drawn from ``random_state``, so the spread
of an ensemble of them is known exactly; it records the rows it trained on (column 0 of X
holds a row id in the tests) and the weights it was given.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data


class Offset(RegressorMixin, BaseEstimator):
    def __init__(self, spread=1.0, random_state=None):
        self.spread = spread
        self.random_state = random_state

    def fit(self, X, y, sample_weight=None):
        X, y = validate_data(self, X, y, multi_output=True, y_numeric=True)
        w = np.ones(len(X)) if sample_weight is None else np.asarray(sample_weight, float)
        A = np.column_stack([X, np.ones(len(X))]) * np.sqrt(w)[:, None]
        self.coef_ = np.linalg.lstsq(A, y * np.sqrt(w).reshape(-1, *[1] * (y.ndim - 1)),
                                     rcond=None)[0]
        self.offset_ = self.spread * check_random_state(self.random_state).standard_normal()
        self.rows_, self.weights_ = X[:, 0].copy(), sample_weight
        return self

    def predict(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        return np.column_stack([X, np.ones(len(X))]) @ self.coef_ + self.offset_


class NoSeed(Offset):
    """The same member without a random_state parameter (and without sample_weight)."""

    def __init__(self, spread=1.0):
        self.spread = spread

    def fit(self, X, y):
        self.random_state = None
        return super().fit(X, y)


def data(n=60, n_features=3, seed=0, n_outputs=None):
    """Rows whose column 0 is the row id; y linear plus noise."""
    rng = np.random.RandomState(seed)
    X = np.column_stack([np.arange(n, dtype=float), rng.standard_normal((n, n_features - 1))])
    coef = rng.standard_normal((n_features,) if n_outputs is None else (n_features, n_outputs))
    noise = rng.standard_normal((n,) if n_outputs is None else (n, n_outputs))
    return X, X @ coef + 0.1 * noise
