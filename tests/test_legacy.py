"""0.1 import paths and pickles keep working for one release (taafs_sk._legacy)."""

import importlib
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone

from taafs_sk._legacy import MOVED
from taafs_sk.nn._ops import use_compiled

PICKLE = Path(__file__).parent / "data" / "models_0_1.pkl"  # written by taafs-sk 0.1.0


@pytest.mark.parametrize("old", sorted(MOVED))
def test_old_path_warns_and_is_the_new_module(old):
    sys.modules.pop(old, None)  # drop an earlier alias (never reload: that re-runs the module)
    with pytest.warns(FutureWarning, match=f"{old} moved to {MOVED[old]}"):
        module = importlib.import_module(old)
    assert module is importlib.import_module(MOVED[old])


def test_featurizers_submodule_alias():
    import taafs_sk.featurizers.perovskites as new

    sys.modules.pop("featurizers.perovskites", None)
    with pytest.warns(FutureWarning, match="featurizers.perovskites moved"):
        old = importlib.import_module("featurizers.perovskites")
    assert old is new


def test_models_pickled_with_0_1_load_and_predict_the_same():
    for name in [n for n in sys.modules if n in MOVED]:
        del sys.modules[name]
    with pytest.warns(FutureWarning):
        bundle = pickle.loads(PICKLE.read_bytes())
    assert bundle["version"] == "0.1.0"
    for name, model in bundle["models"].items():
        # parameters added since 0.1 get their defaults: get_params/clone work on old models
        assert clone(model).get_params().keys() == model.get_params().keys(), name
        np.testing.assert_allclose(model.predict(bundle["X"]), bundle["predictions"][name],
                                   rtol=1e-6, atol=1e-6, err_msg=name)
    for name, (featurizer, data, features) in bundle["featurizers"].items():
        assert type(featurizer).__module__.startswith("taafs_sk.featurizers"), name
        # Not bit-exact: the hydrocarbon geometry columns (48-49) differ by 1 ulp (7e-15
        # relative) between numpy/rdkit builds (measured after a fresh venv with numpy 2.4.6).
        np.testing.assert_allclose(np.asarray(featurizer.transform(data)), features,
                                   rtol=1e-12, atol=0, err_msg=name)


def test_new_paths_do_not_warn():
    code = ("import warnings; warnings.simplefilter('error'); "
            "from taafs_sk import TAAFSRegressor, AdditiveKernelNN; import taafs_sk.featurizers")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_users_own_featurizers_package_is_not_shadowed(tmp_path):
    (tmp_path / "featurizers.py").write_text("MINE = True\n")
    code = "import taafs_sk, featurizers; assert featurizers.MINE"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=tmp_path)


PICKLE_0_2 = Path(__file__).parent / "data" / "models_0_2.pkl"  # see models_0_2.md


@pytest.fixture(scope="module")
def bundle_0_2():
    return pickle.loads(PICKLE_0_2.read_bytes())


def test_regressors_pickled_with_0_2_predict_the_same_and_train_on(bundle_0_2):
    X = bundle_0_2["X"]
    y = np.sin(2 * X[:, 0]) + X[:, 1] * X[:, 2]
    for name, model in bundle_0_2["models"].items():
        with use_compiled(False):  # the 0.2 predictions came from the Python kernels
            np.testing.assert_array_equal(model.predict(X), bundle_0_2["predictions"][name],
                                          err_msg=name)
        # the compiled operator rounds differently (1e-15 relative measured)
        np.testing.assert_allclose(model.predict(X), bundle_0_2["predictions"][name],
                                   rtol=1e-12, err_msg=name)
        before = model.predict(X)
        weights = None if name == "rlekf" else np.linspace(0.5, 2.0, len(X))
        model.partial_fit(X, y, sample_weight=weights)  # the 0.2 net carried no weights by name
        assert not np.array_equal(model.predict(X), before), name
        assert np.isfinite(model.predict(X)).all(), name


def test_potential_pickled_with_0_2_predicts_the_same(bundle_0_2):
    pot, frames = bundle_0_2["potential"], bundle_0_2["frames"]
    with use_compiled(False):  # the 0.2 predictions came from the Python kernels
        np.testing.assert_allclose(pot.predict(frames), bundle_0_2["energies"], rtol=1e-12)
    # the compiled operator's float32 rounding differs (1.3e-9 of the total energy measured)
    np.testing.assert_allclose(pot.predict(frames), bundle_0_2["energies"], rtol=1e-8)
    for got, want in zip(pot.predict_forces(frames), bundle_0_2["forces"], strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
