"""scikit-learn's estimator checks for every estimator of the library, with no expected failures.

One list, as in scikit-learn's ``sklearn/tests/test_common.py``. Two checks stay beside what
they need: ``nn/test_custom_basis.py`` (a basis registered by a fixture) and
``additive/test_custom_kernel.py`` (a kernel registered by a fixture).
``TAAFSPotential`` takes lists of ASE structures, which these checks cannot build (its tags
say ``two_d_array=False``); its contract is tested in ``atomistic/``.
"""

from __future__ import annotations

import warnings

from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor
from sklearn.utils.estimator_checks import parametrize_with_checks

from taafs_sk import AdditiveKernelNN, EnsembleRegressor, TAAFSRegressor
from taafs_sk.analog import (
    DispersionAwareRegressor,
    HardwareNAFRegressor,
    NAFDispersion,
    NoiseInjectedRegressor,
    NoiseModel,
)

from .additive.test_custom_kernel import SMALL, Matern32_1D
from .nn.test_custom_basis import Cosines


def _mlp(max_iter: int) -> MLPRegressor:
    return MLPRegressor(hidden_layer_sizes=(4,), activation="tanh", max_iter=max_iter,
                        random_state=0)


ESTIMATORS = [
    # taafs
    TAAFSRegressor(),
    TAAFSRegressor(basis="bspline", sharing="neuron"),
    TAAFSRegressor(basis="chebyshev1", sharing="global"),
    TAAFSRegressor((8,), optimizer="rlekf", max_epochs=40, patience=5),
    TAAFSRegressor((8,), basis=Cosines(5), max_epochs=60, lr=1e-2, random_state=0),
    # additive
    AdditiveKernelNN(n_restarts_optimizer=0, random_state=0),
    AdditiveKernelNN(solver="inducing", n_restarts_optimizer=0, random_state=0),
    AdditiveKernelNN(kernel=Matern32_1D(), **SMALL),
    # analog
    NoiseInjectedRegressor(_mlp(30), NoiseModel(0.01), random_state=0),
    HardwareNAFRegressor(_mlp(30), NAFDispersion("tanh", 0.05), retrain_epochs=2,
                         random_state=0),
    DispersionAwareRegressor(_mlp(20), NAFDispersion("tanh", 0.1), train_epochs=1,
                             random_state=0),
    HardwareNAFRegressor(_mlp(20), NAFDispersion("tanh", 0.1), retrain_epochs=1,
                         random_state=0),
    # ensemble (members good enough for check_regressors_train's score > 0.5)
    EnsembleRegressor(MLPRegressor(hidden_layer_sizes=(8,), max_iter=30,
                                   learning_rate_init=0.02, random_state=0), n_members=2),
    EnsembleRegressor(TAAFSRegressor((8,), basis="chebyshev1", max_epochs=60, lr=1e-2),
                      n_members=2, bootstrap=True, calibrate="scale"),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)
