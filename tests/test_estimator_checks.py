"""scikit-learn's estimator checks, with no expected failures."""

from __future__ import annotations

from sklearn.utils.estimator_checks import parametrize_with_checks

from taafs_sk import TAAFSRegressor

ESTIMATORS = [
    TAAFSRegressor(),
    TAAFSRegressor(basis="bspline", sharing="neuron"),
    TAAFSRegressor(basis="chebyshev1", sharing="global"),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
