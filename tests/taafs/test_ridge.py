"""ridge_gcv: the same fit and penalty as scikit-learn's RidgeCV, from a p x p eigenproblem."""

import numpy as np
import pytest
from sklearn.linear_model import RidgeCV

from taafs_sk.taafs._recipe import RIDGE_ALPHAS
from taafs_sk.taafs._ridge import ridge_gcv


@pytest.mark.parametrize("n, p, n_targets, noise", [(300, 20, 1, 0.05), (500, 60, 2, 1.0),
                                                    (200, 150, 1, 3.0), (1000, 40, 3, 0.3)])
def test_agrees_with_ridgecv(n, p, n_targets, noise):
    rng = np.random.RandomState(n + p)
    X = rng.normal(size=(n, p)) * rng.uniform(0.1, 10, p) + rng.normal(size=p)
    X[:, 0] = 3.0  # a constant column
    X[:, 1] = X[:, 2]  # two equal columns: a singular Gram matrix
    y = X[:, 3:6] @ rng.normal(size=(3, n_targets)) + noise * rng.normal(size=(n, n_targets))
    ridge = RidgeCV(alphas=RIDGE_ALPHAS).fit(X, y)
    fit = ridge_gcv(X, y, RIDGE_ALPHAS)
    assert fit.alpha == ridge.alpha_
    np.testing.assert_allclose(fit.coef, ridge.coef_.reshape(n_targets, p), atol=1e-9)
    np.testing.assert_allclose(fit.intercept, np.ravel(ridge.intercept_), atol=1e-9)


def test_the_penalty_follows_the_noise():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(400, 30))
    signal = X @ rng.normal(size=30)
    quiet = ridge_gcv(X, signal[:, None], RIDGE_ALPHAS).alpha
    noisy = ridge_gcv(X, (signal + 20 * rng.normal(size=400))[:, None], RIDGE_ALPHAS).alpha
    assert noisy > 100 * quiet


def test_ridge_skip_on_wide_data_keeps_ridgecv():
    """More columns than rows: RidgeSkip hands the fit to RidgeCV (the n x n route)."""
    from taafs_sk import TAAFSRegressor

    rng = np.random.RandomState(2)
    X = rng.normal(size=(40, 60))
    y = X[:, 0] - 2 * X[:, 1] + 0.5
    model = TAAFSRegressor((4,), skip_connection="ridge", lr=1e-12, max_epochs=1,
                           early_stopping=False, random_state=0).fit(X, y)
    ridge = RidgeCV(alphas=RIDGE_ALPHAS).fit(X, (y - y.mean()) / y.std())
    skip = model.module_.skip.weight.detach().numpy().ravel()
    np.testing.assert_allclose(skip, ridge.coef_, atol=1e-5)
