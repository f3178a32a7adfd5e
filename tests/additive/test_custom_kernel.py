"""A user-defined 1-D kernel in AdditiveKernelNN: as an object and by a registered name."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.utils.estimator_checks import parametrize_with_checks
from threadpoolctl import threadpool_limits

from taafs_sk.additive import KERNELS, AdditiveKernelNN, Kernel1D, make_kernel, register_kernel
from taafs_sk.additive._kernel_base import missing_methods

SMALL = {"n_neurons": 12, "n_restarts_optimizer": 0, "optimize_weights": 2, "random_state": 0}
NAME = "matern32"


class Matern32_1D(Kernel1D):
    r"""Matern kernel with smoothness 3/2: ``(1 + r) exp(-r)``, ``r = sqrt(3) |a - b| / l``,
    spectral density ``S(w) = 4 * 3^(3/2) l / (3 + (l w)^2)^2``."""

    basis_per_inverse_length = 3.0

    def __init__(self, weight_cutoff: float = 1e-3) -> None:
        self.weight_cutoff = weight_cutoff  # the density decays like w^-4: cut features early

    @staticmethod
    def value(s):
        r = np.sqrt(3.0 * s)
        return (1.0 + r) * np.exp(-r)

    @staticmethod
    def value_and_ds(s):
        r = np.sqrt(3.0 * s)
        e = np.exp(-r)
        return (1.0 + r) * e, -1.5 * e  # dk/dr = -r e^-r, dr/ds = 3 / (2 r)

    @staticmethod
    def log_spectral(u):
        v = 3.0 + u * u
        return np.log(4.0 * 3.0**1.5) - 2.0 * np.log(v), -4.0 * u * u / v


class NoSpectrum1D(Kernel1D):
    """Stationary, but without a spectral density or expansion: refused."""

    value = staticmethod(Matern32_1D.value)
    value_and_ds = staticmethod(Matern32_1D.value_and_ds)


@pytest.fixture(scope="module", autouse=True)
def registered():
    # one BLAS thread: the fits are small, and threads only fight over the shared cores
    with threadpool_limits(limits=1, user_api="blas"):
        register_kernel(NAME, Matern32_1D)
        yield
        KERNELS.pop(NAME, None)


@pytest.fixture(scope="module")
def toy():
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, (120, 3))
    y = np.sin(2 * X[:, 0]) + X[:, 1] ** 2 + 0.5 * X[:, 2] + 0.01 * rng.randn(120)
    return X[:90], y[:90], X[90:], y[90:]


@pytest.fixture(scope="module")
def fitted(toy):
    X, y, _, _ = toy
    return {
        kind: AdditiveKernelNN(kernel=kernel, **SMALL).fit(X, y)
        for kind, kernel in (("object", Matern32_1D()), ("name", NAME))
    }


# -- the kernel itself ---------------------------------------------------------------------
def test_kernel_matches_closed_form():
    a, b, ls = np.array([[0.1, 0.7]]), np.array([[0.2, 0.9, 0.0]]), np.array([0.4])
    r = np.sqrt(3.0) * np.abs(a[0, :, None] - b[0, None, :]) / 0.4
    kernel = Matern32_1D()
    np.testing.assert_allclose(kernel(a, b, ls)[0], (1 + r) * np.exp(-r), rtol=1e-12)
    np.testing.assert_allclose(kernel.diag(a, ls), np.ones((1, 2)), rtol=1e-12)
    eps = 1e-6
    numeric = (kernel(a + eps, b, ls) - kernel(a - eps, b, ls)) / (2 * eps)
    np.testing.assert_allclose(kernel.derivative(a, b, ls), numeric, rtol=1e-6, atol=1e-9)


def test_kernel_expansion_approximates_kernel():
    kernel = Matern32_1D()
    z = np.linspace(0, 1, 30)[None]
    ls = np.array([0.3])
    psi = kernel.expansion(z, ls, kernel.n_basis(0.05))[0]
    np.testing.assert_allclose(np.einsum("inq,jnq->nij", psi, psi), kernel(z, z, ls), atol=2e-2)


def test_kernel_meets_the_contract():
    assert missing_methods(Matern32_1D) == []
    assert "log_spectral (or expansion)" in missing_methods(NoSpectrum1D)
    assert repr(Matern32_1D()) == "Matern32_1D(weight_cutoff=0.001)"


# -- in the estimator ----------------------------------------------------------------------
@parametrize_with_checks([AdditiveKernelNN(kernel=NAME, **SMALL)])  # the object: test_common
def test_sklearn_compatible_by_registered_name(estimator, check):
    check(estimator)


def test_object_and_name_fit_identically(fitted, toy):
    _, _, Xt, yt = toy
    np.testing.assert_array_equal(fitted["object"].predict(Xt), fitted["name"].predict(Xt))
    assert isinstance(fitted["name"].kernel_, Matern32_1D)
    assert fitted["object"].score(Xt, yt) > 0.9


@pytest.mark.parametrize("kind", ["object", "name"])
def test_pickle_and_clone_keep_predictions(fitted, toy, kind):
    X, y, Xt, _ = toy
    model = fitted[kind]
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict(Xt), model.predict(Xt))
    refitted = clone(model).fit(X, y)
    np.testing.assert_array_equal(refitted.predict(Xt), model.predict(Xt))


def test_grid_search_in_worker_processes(fitted, toy):
    """loky workers unpickle the estimator; the registration did not run there."""
    X, y, Xt, _ = toy
    grid = {"kernel": [Matern32_1D(), NAME]}
    search = GridSearchCV(AdditiveKernelNN(**SMALL), grid, cv=2, n_jobs=2, error_score="raise")
    search.fit(X, y)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    best = search.best_estimator_
    direct = AdditiveKernelNN(**{**SMALL, **search.best_params_}).fit(X, y)
    np.testing.assert_array_equal(best.predict(Xt), direct.predict(Xt))


def test_unpickling_restores_the_registration():
    blob = pickle.dumps(AdditiveKernelNN(kernel=NAME))
    del KERNELS[NAME]
    try:
        model = pickle.loads(blob)
        assert KERNELS[NAME] is Matern32_1D and model.kernel == NAME
    finally:
        KERNELS[NAME] = Matern32_1D


def test_unpickling_warns_when_the_name_means_another_class():
    blob = pickle.dumps(AdditiveKernelNN(kernel=NAME))
    KERNELS[NAME] = NoSpectrum1D
    try:
        with pytest.warns(UserWarning, match="overwrite=True"):
            pickle.loads(blob)
        assert KERNELS[NAME] is NoSpectrum1D
    finally:
        KERNELS[NAME] = Matern32_1D


def test_names_are_read_when_fit_runs(toy):
    X, y, _, _ = toy
    model = AdditiveKernelNN(kernel="late", optimize=False)  # made before the registration
    with pytest.raises(ValueError, match="'kernel' parameter of AdditiveKernelNN"):
        model.fit(X, y)
    register_kernel("late", Matern32_1D)
    try:
        assert isinstance(model.fit(X, y).kernel_, Matern32_1D)
    finally:
        del KERNELS["late"]


# -- errors --------------------------------------------------------------------------------
def test_bad_name_lists_the_valid_ones(toy):
    X, y, _, _ = toy
    with pytest.raises(ValueError, match="'kernel' parameter of AdditiveKernelNN") as info:
        AdditiveKernelNN(kernel="matern33").fit(X, y)
    message = str(info.value)
    assert all(f"'{name}'" in message for name in ("matern32", "matern52", "polynomial", "rbf"))
    assert "register_kernel" in message and "'matern33'" in message
    with pytest.raises(ValueError, match=r"valid kernels are \[.*'matern32'"):
        make_kernel("matern33")


def test_incomplete_kernel_is_refused_at_fit(toy):
    X, y, _, _ = toy
    with pytest.raises(TypeError, match="NoSpectrum1D does not define log_spectral"):
        AdditiveKernelNN(kernel=NoSpectrum1D()).fit(X, y)
    with pytest.raises(TypeError, match="does not define log_spectral"):
        register_kernel("nospectrum", NoSpectrum1D)
    assert "nospectrum" not in KERNELS


@pytest.mark.parametrize(
    "name, cls, error, match",
    [
        ("rbf", Matern32_1D, ValueError,
         "'rbf' of register_kernel is taken by the built-in kernel RBF1D; pass overwrite=True"),
        ("other", object, TypeError, "must be a subclass of taafs_sk.additive.Kernel1D"),
        ("other", Matern32_1D(), TypeError, "pass the class, not an instance"),
        ("", Matern32_1D, ValueError, "name of register_kernel must be a non-empty word"),
        (3, Matern32_1D, TypeError, "name of register_kernel must be a str"),
    ],
)
def test_register_kernel_refuses(name, cls, error, match):
    with pytest.raises(error, match=match):
        register_kernel(name, cls)


def test_register_kernel_overwrites_a_built_in_when_asked():
    original = KERNELS["rbf"]
    try:
        assert register_kernel("rbf", Matern32_1D, overwrite=True) is Matern32_1D
        assert isinstance(make_kernel("rbf"), Matern32_1D)
    finally:
        KERNELS["rbf"] = original


def test_kernel_class_instead_of_instance_is_refused(toy):
    X, y, _, _ = toy
    with pytest.raises(ValueError, match="instance of 'taafs_sk.additive.Kernel1D'"):
        AdditiveKernelNN(kernel=Matern32_1D).fit(X, y)
