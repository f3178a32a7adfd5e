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
