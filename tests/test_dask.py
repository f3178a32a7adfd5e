"""A grid search over bases gives the same results through a Dask cluster as through joblib."""

from __future__ import annotations

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")

import joblib  # noqa: E402
from sklearn.model_selection import GridSearchCV, GroupKFold  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from taafs_sk import TAAFSRegressor  # noqa: E402

BASES = ["tanh", "chebyshev1", "bspline"]


@pytest.fixture(scope="module")
def perovskites(data_home):
    raw = np.loadtxt(data_home / "manzhos-double-perovskites" / "perovskite_ML_data.dat")
    rows = np.r_[0:120, 270:390]  # 120 compositions, both calculations of each
    return raw[rows, :31], raw[rows, 31], rows % 270


def _search() -> GridSearchCV:
    pipe = make_pipeline(
        StandardScaler(),
        TAAFSRegressor((8,), n_basis=5, max_epochs=25, batch_size=32, random_state=0),
    )
    return GridSearchCV(pipe, {"taafsregressor__basis": BASES}, cv=GroupKFold(2),
                        scoring="neg_root_mean_squared_error", n_jobs=2)


@pytest.fixture(scope="module")
def local_search(perovskites):
    X, y, groups = perovskites
    return _search().fit(X, y, groups=groups)


@pytest.fixture(scope="module")
def dask_search(perovskites):
    X, y, groups = perovskites
    # Two single-threaded worker processes talking TCP on loopback, as on a real cluster:
    # every task and result is serialised. (joblib needs >= 2 worker threads in all, or it
    # runs the fits in this process; threads of one process would share torch's global RNG.)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  protocol="tcp://", host="127.0.0.1", dashboard_address=None,
                                  env={"OMP_NUM_THREADS": "1"}) as cluster, \
            distributed.Client(cluster) as client:
        with distributed.get_task_stream(client) as stream, joblib.parallel_backend("dask"):
            search = _search().fit(X, y, groups=groups)
    return search, len(stream.data)  # tasks that really ran on the cluster's workers


def test_dask_backend_reproduces_the_default_backend(local_search, dask_search):
    search, _ = dask_search
    for key in ["mean_test_score", "split0_test_score", "split1_test_score"]:
        np.testing.assert_allclose(search.cv_results_[key], local_search.cv_results_[key],
                                   rtol=1e-6)
    assert search.best_params_ == local_search.best_params_
    assert list(search.cv_results_["param_taafsregressor__basis"]) == BASES


def test_dask_search_learned_something(dask_search, perovskites):
    search, n_tasks = dask_search
    _, y, _ = perovskites
    assert n_tasks > 0
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert -search.best_score_ < y.std()
