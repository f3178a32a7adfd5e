"""User-written basis families: the Basis contract, register_basis, and TAAFSRegressor with a
basis given as an object or by a registered name (fused and eager paths, clone, pickle,
GridSearchCV workers, scikit-learn's checks)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import check_estimator

from taafs_sk import TAAFSRegressor
from taafs_sk.nn import TAAF, Basis, register_basis, unregister_basis
from taafs_sk.nn.bases import BASES, BSplineBasis, make_basis

SMALL = dict(hidden_layer_sizes=(6,), max_epochs=8, batch_size=32, random_state=0)


class Cosines(Basis):
    """Eager only: :math:`\\cos(k \\pi (u + 1) / 2)`, k = 0..K-1."""

    name = "test_cosines"

    def __init__(self, n_basis: int, scale: float = 1.0) -> None:
        super().__init__(n_basis)
        self.scale = scale

    def values(self, u):
        k = torch.arange(self.n_basis, dtype=u.dtype, device=u.device)
        return torch.cos(self.scale * torch.pi * k * (u[..., None] + 1) / 2)


class Monomials(Basis):
    """Fused contract: features are the powers themselves."""

    name = "test_monomials"

    def __init__(self, n_basis: int) -> None:
        super().__init__(n_basis)
        k = np.arange(n_basis)
        slopes = np.zeros((n_basis, n_basis))
        slopes[k[1:], k[:-1]] = k[1:]
        self.set_fused_maps(np.eye(n_basis), slopes)

    def values(self, u):
        return u[..., None] ** torch.arange(self.n_basis, dtype=u.dtype, device=u.device)

    def features(self, u):
        return self.values(u).movedim(-1, 0)


class NotABasis(torch.nn.Module):
    pass


@pytest.fixture
def registered():
    """Register the two test families by name for one test only."""
    for cls in (Cosines, Monomials):
        register_basis(cls.name, cls)
    yield
    for cls in (Cosines, Monomials):
        if cls.name in BASES:
            unregister_basis(cls.name)


@pytest.fixture(scope="module")
def toy():
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, size=(120, 3))
    return X, np.sin(2 * X[:, 0]) + X[:, 1] * X[:, 2]


# ------------------------------------------------------------------------- the contract
def test_fused_basis_takes_the_fused_path_and_matches_eager():
    torch.manual_seed(0)
    fused = TAAF(4, Monomials(5), sharing="neuron")
    eager = TAAF(4, Monomials(5), sharing="neuron", fused=False)
    eager.load_state_dict(fused.state_dict())
    fused.double(), eager.double()
    z = torch.randn(7, 4, dtype=torch.float64, requires_grad=True)
    y_f, y_e = fused(z), eager(z)
    assert fused.uses_fused and not eager.uses_fused
    assert "TAAFFunction" in type(y_f.grad_fn).__name__
    g = torch.randn_like(y_f)
    grads_f = torch.autograd.grad(y_f, (z, fused.weight), g)
    grads_e = torch.autograd.grad(y_e, (z, eager.weight), g)
    torch.testing.assert_close(y_f, y_e, rtol=1e-10, atol=1e-12)
    for a, b in zip(grads_f, grads_e, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_basis_without_fused_contract_falls_back_to_eager():
    act = TAAF(3, Cosines(5), fused=True)
    z = torch.randn(4, 3, requires_grad=True)
    y = act(z)
    assert not act.basis.supports_fused and not act.uses_fused
    (dz,) = torch.autograd.grad(y.sum(), z, create_graph=True)
    (d2z,) = torch.autograd.grad(dz.sum(), z)  # eager: twice differentiable
    assert torch.isfinite(d2z).all()


def test_taaf_copies_the_instance_and_its_n_basis_wins():
    inst = Cosines(4, scale=0.5)
    act = TAAF(2, inst, n_basis=9)
    assert act.basis is not inst and act.n_basis == 4 and act.basis.scale == 0.5
    with pytest.raises(ValueError, match="basis_kwargs of TAAF must be None"):
        TAAF(2, inst, basis_kwargs={"scale": 2.0})


def test_set_fused_maps_refuses_inconsistent_maps():
    class Wrong(Monomials):
        def features(self, u):
            return (2 * self.values(u)).movedim(-1, 0)

    with pytest.raises(ValueError, match="must be 1 everywhere"):
        Wrong(3)


class ScaledMonomials(Monomials):
    """``scale * u^k``, with maps that follow ``rescale`` (and, optionally, tanh slopes)."""

    def __init__(self, n_basis: int, tanh: bool = False) -> None:
        self.scale, self.tanh = 1.0, tanh
        super().__init__(n_basis)

    def values(self, u):
        return self.scale * super().values(u)

    def features(self, u):  # powers u^0 .. u^(K+1): two spare ones for (1 - u^2) B'
        return u[None] ** torch.arange(self.n_basis + 2, dtype=u.dtype, device=u.device).view(
            -1, *[1] * u.dim())

    def set_fused_maps(self, values, slopes, curvatures=None, tanh_slopes=None):
        K = self.n_basis
        values, slopes = self.scale * np.eye(K, K + 2), np.zeros((K, K + 2))
        slopes[np.arange(1, K), np.arange(K - 1)] = self.scale * np.arange(1, K)
        folded = slopes.copy()
        folded[:, 2:] -= slopes[:, :-2]
        super().set_fused_maps(values, slopes, tanh_slopes=folded if self.tanh else None)

    def rescale(self, scale: float) -> None:
        self.scale = scale
        self.set_fused_maps(None, None)


def test_default_hooks_of_the_fused_contract():
    basis = Monomials(4)
    assert basis.tanh_slopes is None and basis.curvature_maps is None
    assert basis.representation is None and basis.curvature_on_features
    assert basis.amplification == pytest.approx(1.0)
    plan = basis.fused_plan(torch.float32)
    assert plan.tanh_both is None and plan.curvature is None and plan.joint is None
    eager = Cosines(3)
    assert eager.maps is None and not eager.supports_fused
    with pytest.raises(NotImplementedError, match="set_fused_maps was not called"):
        eager.fused_plan(torch.float32)


@pytest.mark.parametrize("tanh", [False, True])
@pytest.mark.parametrize("normalization", ["tanh", "softsign"])
def test_set_fused_maps_after_a_fused_forward_takes_effect(tanh, normalization):
    torch.manual_seed(0)
    fused = TAAF(3, ScaledMonomials(5, tanh=tanh), normalization=normalization).double()
    eager = TAAF(3, ScaledMonomials(5, tanh=tanh), normalization=normalization,
                 fused=False).double()
    eager.load_state_dict(fused.state_dict())
    z = torch.randn(6, 3, dtype=torch.float64, requires_grad=True)
    fused(z)  # builds and caches the plan
    plan = fused.basis.fused_plan(torch.float64)
    assert (plan.tanh_both is not None) == tanh
    for act in (fused, eager):
        act.basis.rescale(3.0)
    assert fused.basis.fused_plan(torch.float64) is not plan
    y_f, y_e = fused(z), eager(z)
    torch.testing.assert_close(y_f, y_e, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(torch.autograd.grad(y_f.sum(), z)[0],
                               torch.autograd.grad(y_e.sum(), z)[0], rtol=1e-12, atol=1e-12)


def test_custom_tanh_slopes_pass_gradcheck_to_second_order():
    basis = ScaledMonomials(5, tanh=True).double()
    act = TAAF(3, basis, sharing="neuron").double()
    z = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    assert act.basis.fused_plan(torch.float64).tanh_both is not None
    assert torch.autograd.gradcheck(act, (z,))
    assert torch.autograd.gradgradcheck(act, (z,))


# ------------------------------------------------------------------------- registration
def test_registered_name_works_everywhere(registered, toy):
    assert make_basis("test_cosines", 3).n_basis == 3
    assert TAAF(3, "test_monomials", n_basis=4).uses_fused
    X, y = toy
    model = TAAFSRegressor(basis="test_cosines", n_basis=4, **SMALL).fit(X, y)
    assert isinstance(model.module_.activations[0].basis, Cosines)


@pytest.mark.parametrize("cls", [int, NotABasis, Cosines(3)])
def test_registering_a_bad_class_raises_type_error(cls):
    with pytest.raises(TypeError, match="must be a subclass of taafs_sk.nn.Basis"):
        register_basis("bad", cls)


@pytest.mark.parametrize("name", ["bspline", "tanh"])
def test_registering_a_taken_name_raises(name):
    with pytest.raises(ValueError, match=f"name '{name}' of register_basis"):
        register_basis(name, Cosines)


def test_overwrite_replaces_a_builtin_but_never_a_fixed_activation():
    try:
        register_basis("bspline", Cosines, overwrite=True)
        assert BASES["bspline"] is Cosines
    finally:
        register_basis("bspline", BSplineBasis, overwrite=True)
    with pytest.raises(ValueError, match="fixed activation"):
        register_basis("relu", Cosines, overwrite=True)
    with pytest.raises(ValueError, match="not a user-registered basis"):
        unregister_basis("bspline")


def test_unknown_basis_name_lists_the_valid_ones(toy):
    X, y = toy
    with pytest.raises(InvalidParameterError, match=r"'basis'.*'bspline'.*'tanh'.*Got 'nope'"):
        TAAFSRegressor(basis="nope", **SMALL).fit(X, y)


def test_basis_kwargs_with_an_instance_is_refused(toy):
    X, y = toy
    with pytest.raises(ValueError, match="basis_kwargs of TAAFSRegressor must be None"):
        TAAFSRegressor(basis=Cosines(3), basis_kwargs={"scale": 2.0}, **SMALL).fit(X, y)


# ------------------------------------------------------------------------- the estimator
@pytest.mark.parametrize("make", [lambda: Cosines(4), lambda: Monomials(4)],
                         ids=["eager", "fused"])
def test_instance_trains_clones_and_pickles(make, toy):
    X, y = toy
    inst = make()
    model = TAAFSRegressor(basis=inst, **SMALL)
    fitted = model.fit(X, y)
    act = fitted.module_.activations[0]
    assert act.uses_fused == inst.supports_fused
    assert fitted.loss_curve_[-1] < fitted.loss_curve_[0]
    twin = clone(model).fit(X, y)
    np.testing.assert_allclose(twin.predict(X), fitted.predict(X), rtol=1e-6)
    again = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(again.predict(X), fitted.predict(X))
    assert inst.maps is None or inst.maps.dtype == torch.float64  # untouched


def test_pickled_estimator_re_registers_its_basis(registered, toy):
    X, y = toy
    fitted = TAAFSRegressor(basis="test_monomials", n_basis=4, **SMALL).fit(X, y)
    blob = pickle.dumps(fitted)
    unregister_basis("test_monomials")  # as in a fresh process
    again = pickle.loads(blob)
    assert BASES["test_monomials"] is Monomials
    np.testing.assert_array_equal(again.predict(X), fitted.predict(X))
    clone(again).fit(X, y)  # the name validates again


def test_grid_search_workers_know_registered_names_and_instances(registered, toy):
    X, y = toy
    search = GridSearchCV(
        TAAFSRegressor(**SMALL),
        {"basis": ["tanh", "test_monomials", "test_cosines", Cosines(3)]},
        cv=2, n_jobs=2, error_score="raise",
    )
    search.fit(X, y)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    refit = pickle.loads(pickle.dumps(search.best_estimator_))
    np.testing.assert_array_equal(refit.predict(X), search.predict(X))


def test_sklearn_checks_with_a_registered_fused_name(registered):
    check_estimator(TAAFSRegressor((8,), basis="test_monomials", n_basis=4, max_epochs=60, lr=1e-2,
                                   random_state=0))
