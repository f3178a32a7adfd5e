"""One set of plug-in rules for basis families, 1-D kernels and optimisers (taafs_sk._registry)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from taafs_sk import TAAFSRegressor
from taafs_sk.additive import RBF1D, Kernel1D
from taafs_sk.additive.kernels import KERNEL_REGISTRY
from taafs_sk.nn import Basis, BSplineBasis
from taafs_sk.nn.bases import BASIS_REGISTRY
from taafs_sk.nn.optimizers import OPTIMIZER_REGISTRY


class MyBasis(BSplineBasis):
    pass


class OtherBasis(BSplineBasis):
    pass


class MyKernel(RBF1D):
    pass


class OtherKernel(RBF1D):
    pass


class MyAdam(torch.optim.Adam):
    pass


class OtherAdam(torch.optim.Adam):
    pass


FAMILIES = {  # registry, a built-in name, its class, two user classes
    "basis": (BASIS_REGISTRY, "bspline", BSplineBasis, MyBasis, OtherBasis),
    "kernel": (KERNEL_REGISTRY, "rbf", RBF1D, MyKernel, OtherKernel),
    "optimizer": (OPTIMIZER_REGISTRY, "adam", torch.optim.Adam, MyAdam, OtherAdam),
}


def _instance(registry, cls):
    if registry is BASIS_REGISTRY:
        return cls(4)
    if registry is OPTIMIZER_REGISTRY:
        return cls([torch.nn.Parameter(torch.zeros(1))])
    return cls()


@pytest.fixture(params=sorted(FAMILIES))
def family(request):
    registry, builtin, builtin_cls, mine, other = FAMILIES[request.param]
    before = dict(registry.classes)
    yield registry, builtin, builtin_cls, mine, other
    registry.classes.clear()
    registry.classes.update(before)


def test_the_families_share_one_registry_class():
    assert type(BASIS_REGISTRY) is type(KERNEL_REGISTRY) is type(OPTIMIZER_REGISTRY)
    assert BASIS_REGISTRY.base is Basis and KERNEL_REGISTRY.base is Kernel1D
    assert OPTIMIZER_REGISTRY.base is torch.optim.Optimizer


def test_same_rules_for_every_family(family):
    registry, builtin, builtin_cls, mine, other = family
    with pytest.raises(ValueError, match=f"{builtin!r} of .* is taken by the built-in"):
        registry.register(builtin, mine)
    assert registry.register("mine", mine) is mine
    assert registry.register("mine", mine) is mine  # the same class again: fine
    taken = "is taken by the (basis|kernel|optimizer) registered as (MyBasis|MyKernel|MyAdam)"
    with pytest.raises(ValueError, match=taken):
        registry.register("mine", other)
    with pytest.raises(TypeError, match="pass the class, not an instance"):
        registry.register("x", _instance(registry, mine))
    registry.register(builtin, mine, overwrite=True)
    assert registry.user() == {"mine": mine, builtin: mine}
    registry.unregister(builtin)  # a replaced built-in gets its class back
    assert registry.classes[builtin] is builtin_cls
    with pytest.raises(ValueError, match="not a user-registered"):
        registry.unregister(builtin)


def test_state_round_trip_registers_replaces_builtins_and_warns_on_conflicts(family):
    registry, builtin, builtin_cls, mine, other = family
    registry.register("mine", mine)
    registry.register(builtin, mine, overwrite=True)
    state = registry.add_to_state({"a": 1}, "_carried")
    registry.unregister("mine")
    registry.unregister(builtin)
    assert registry.restore_from_state(state, "_carried", "Test") == {"a": 1}
    assert registry.classes["mine"] is mine and registry.classes[builtin] is mine
    registry.register("mine", other, overwrite=True)
    with pytest.warns(UserWarning, match="overwrite=True"):
        registry.restore_from_state(state, "_carried", "Test")
    assert registry.classes["mine"] is other  # this process's own registration wins


def test_a_registered_optimizer_trains_and_travels_with_the_pickle():
    import pickle

    registry, *_ = FAMILIES["optimizer"]
    before = dict(registry.classes)
    try:
        registry.register("my-adam", MyAdam)
        rng = np.random.RandomState(0)
        X, y = rng.randn(30, 2), rng.randn(30)
        model = TAAFSRegressor((4,), basis="tanh", optimizer="my-adam", max_epochs=2,
                               early_stopping=False, random_state=0).fit(X, y)
        assert isinstance(model.net_.optimizer_, MyAdam)
        blob = pickle.dumps(model)
        registry.unregister("my-adam")
        restored = pickle.loads(blob)  # the registration comes back with the estimator
        assert registry.classes["my-adam"] is MyAdam
        np.testing.assert_array_equal(restored.predict(X), model.predict(X))
    finally:
        registry.classes.clear()
        registry.classes.update(before)


def test_nothing_carried_when_nothing_is_registered():
    assert KERNEL_REGISTRY.add_to_state({"a": 1}, "_carried") == {"a": 1}


def test_a_kernel_defined_in_main_reaches_grid_search_workers():
    # a notebook user's case: the class exists only in __main__, so it travels by value
    script = textwrap.dedent("""
        import numpy as np
        from sklearn.model_selection import GridSearchCV
        from taafs_sk import AdditiveKernelNN
        from taafs_sk.additive import RBF1D, register_kernel

        class Wide(RBF1D):
            pass

        register_kernel("wide", Wide)
        rng = np.random.RandomState(0)
        X = rng.normal(size=(40, 2)); y = np.sin(X[:, 0]) + X[:, 1]
        search = GridSearchCV(AdditiveKernelNN(n_neurons=4, optimize_weights=0),
                              {"kernel": ["rbf", "wide"]}, cv=2, n_jobs=2,
                              error_score="raise").fit(X, y)
        assert list(search.cv_results_["param_kernel"]) == ["rbf", "wide"]
        print("ok")
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("ok")
