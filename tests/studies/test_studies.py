"""Studies on real data: tables, reproducibility and the data preparation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.neural_network import MLPRegressor

from taafs_sk import studies


@pytest.fixture(scope="module")
def perovskites(data_home):
    import os

    old = os.environ.get("TAAFS_SK_DATA")
    os.environ["TAAFS_SK_DATA"] = str(data_home)
    try:
        return studies.load_study_data("perovskites", quick=True, random_state=0)
    finally:
        if old is None:
            del os.environ["TAAFS_SK_DATA"]
        else:
            os.environ["TAAFS_SK_DATA"] = old


def _template(max_iter=400):
    return MLPRegressor(activation="tanh", max_iter=max_iter, early_stopping=True,
                        random_state=0)


def _taafs_available() -> bool:
    from taafs_sk.nn.activations import FIXED_ACTIVATIONS

    return "tanh" in FIXED_ACTIVATIONS


def test_load_study_data_standardises_and_splits_by_composition(perovskites, data_home):
    X_tr, X_te, y_tr, y_te = perovskites
    assert X_tr.shape[1] == X_te.shape[1] and len(X_tr) + len(X_te) == 540
    np.testing.assert_allclose(X_tr.mean(axis=0), 0, atol=1e-10)
    np.testing.assert_allclose(X_tr.std(axis=0), 1, atol=1e-10)
    # every composition appears twice in the table; a group split keeps both copies together
    raw = np.loadtxt(data_home / "manzhos-double-perovskites" / "perovskite_ML_data.dat")
    assert len(X_tr) % 2 == 0 and len(set(np.round(y_te, 6)) & set(raw[:, 31])) > 0


def test_unknown_dataset_name():
    with pytest.raises(ValueError, match="dataset must be one of"):
        studies.load_study_data("zeolites")


def test_noise_tolerance_table(perovskites):
    table = studies.noise_tolerance(perovskites, sizes=(4, 16), levels=(0, 0.05, 0.2),
                                    n_draws=8, estimator=_template(), random_state=0)
    assert len(table) == 4 * 3  # (4,), (16,), (4, 4), (16, 16) x 3 levels
    assert set(table["architecture"]) == {"4", "16", "4-4", "16-16"}
    assert {"train_rmse", "test_rmse", "rmse_mean", "rmse_std", "rmse_ratio", "overfit_ratio",
            "n_hidden_layers", "size", "level"} <= set(table.columns)
    zero = table[table["level"] == 0]
    np.testing.assert_allclose(zero["rmse_mean"], zero["test_rmse"], rtol=1e-12)
    for _, part in table.groupby("architecture"):
        assert part["rmse_mean"].is_monotonic_increasing


def test_noise_tolerance_is_reproducible(perovskites):
    kwargs = dict(architectures=((8,),), levels=(0.05,), n_draws=4, estimator=_template(100))
    a = studies.noise_tolerance(perovskites, random_state=1, **kwargs)
    b = studies.noise_tolerance(perovskites, random_state=1, **kwargs)
    assert a.drop(columns="fit_time_s").equals(b.drop(columns="fit_time_s"))


def test_naf_inhomogeneity_table(perovskites):
    table = studies.naf_inhomogeneity(perovskites, spreads=(0, 0.2), n_realizations=2,
                                      retrain_epochs=15, estimator=_template(), random_state=0)
    assert len(table) == 4
    at_zero = table[table["spread"] == 0].iloc[0]
    # zero spread: degraded is the ideal model, and retraining it is exactly the control
    assert at_zero["test_rmse_degraded"] == pytest.approx(at_zero["test_rmse_ideal"], rel=1e-12)
    assert at_zero["test_rmse_retrained"] == pytest.approx(at_zero["test_rmse_control"],
                                                           rel=1e-9)
    wide = table[table["spread"] == 0.2]
    assert (wide["test_rmse_degraded"] > wide["test_rmse_ideal"]).all()
    assert (wide["test_rmse_retrained"] < wide["test_rmse_degraded"]).all()
    assert wide["realization"].tolist() == [0, 1]
    assert wide["test_rmse_degraded"].nunique() == 2


def test_naf_inhomogeneity_without_retraining(perovskites):
    table = studies.naf_inhomogeneity(perovskites, spreads=(0.1,), retrain=False,
                                      n_realizations=1, estimator=_template(100))
    assert table["test_rmse_retrained"].isna().all() and table["recovery"].isna().all()


@pytest.mark.skipif(not _taafs_available(), reason="fixed activations not available yet")
def test_quick_studies_with_taafs_regressor(perovskites):
    noise = studies.noise_tolerance(perovskites, architectures=((8,),), levels=(0, 0.1),
                                    quick=True)
    assert noise["rmse_ratio"].iloc[1] > 1.0
    bases = studies.basis_comparison(perovskites, bases=("tanh", "chebyshev1"), repeats=1,
                                     quick=True)
    assert set(bases["basis"]) == {"tanh", "chebyshev1"}
    assert (bases["test_rmse"] > 0).all() and (bases["fit_time_s"] > 0).all()


# ------------------------------------------------------------- options of issue 17
def test_studies_take_data_home_and_write_the_target_unit(data_home, monkeypatch):
    monkeypatch.delenv("TAAFS_SK_DATA", raising=False)
    table = studies.noise_tolerance("perovskites", architectures=((4,),), levels=(0, 0.1),
                                    n_draws=2, estimator=_template(50), quick=True,
                                    data_home=data_home)
    assert set(table["dataset"]) == {"perovskites"} and set(table["target_unit"]) == {"eV"}


def test_target_units_are_the_loaders_units(data_home):
    from taafs_sk import datasets

    loaded = {
        "perovskites": datasets.load_double_perovskites("manzhos", data_home=data_home),
        "hydrocarbons": datasets.load_hydrocarbons(data_home=data_home),
        "qm9": datasets.load_qm9(target="zpve", n_samples=5, random_state=0,
                                 data_home=data_home),
    }
    assert {k: b.target_units[0] for k, b in loaded.items()} == studies.TARGET_UNITS


def test_noise_tolerance_sweeps_every_noise_model_and_depth(perovskites):
    noise = [{"kind": "additive", "where": "post_activation"},
             {"kind": "multiplicative", "where": "weights"}]
    table = studies.noise_tolerance(perovskites, sizes=(4,), depths=(1, 3), levels=(0, 0.1),
                                    noise=noise, n_draws=2, estimator=_template(50))
    assert set(table["architecture"]) == {"4", "4-4-4"}
    assert len(table) == 2 * 2 * 2
    pairs = set(zip(table["kind"], table["where"], strict=True))
    assert pairs == {("additive", "post_activation"), ("multiplicative", "weights")}
    assert set(table["target_unit"]) == {""}  # custom arrays: no unit known


def test_a_joblib_context_runs_the_jobs_and_changes_nothing(perovskites):
    from joblib import parallel_config

    kwargs = dict(architectures=((4,), (6,)), levels=(0, 0.1), n_draws=2,
                  estimator=_template(50), random_state=0)
    serial = studies.noise_tolerance(perovskites, **kwargs)
    with parallel_config(backend="threading", n_jobs=2):
        threaded = studies.noise_tolerance(perovskites, **kwargs)
    cols = [c for c in serial.columns if c != "fit_time_s"]
    pd.testing.assert_frame_equal(serial[cols], threaded[cols])


def test_n_jobs_runs_realisations_in_parallel_with_the_same_table(perovskites):
    from joblib import parallel_config

    kwargs = dict(spreads=(0.1, 0.2), n_realizations=2, retrain=False,
                  estimator=_template(50), random_state=0)
    serial = studies.naf_inhomogeneity(perovskites, **kwargs)
    with parallel_config(backend="threading"):  # processes (the default) cost a start-up
        parallel = studies.naf_inhomogeneity(perovskites, n_jobs=2, **kwargs)
    pd.testing.assert_frame_equal(serial, parallel)


def test_explicit_counts_win_over_quick(perovskites):
    table = studies.naf_inhomogeneity(perovskites, spreads=(0.1,), n_realizations=3,
                                      retrain=False, estimator=_template(50), quick=True)
    assert table["realization"].tolist() == [0, 1, 2]


@pytest.mark.parametrize("study, kwargs, words", [
    ("noise_tolerance", {"levels": (0, -0.1)}, "levels"),
    ("noise_tolerance", {"n_draws": 0}, "n_draws must be a positive integer; got 0"),
    ("noise_tolerance", {"basis": "nope"}, "basis got 'nope'"),
    ("noise_tolerance", {"noise": {"where": "wires"}}, "wires"),
    ("noise_tolerance", {"sizes": (8,), "depths": (0,)}, "depths"),
    ("noise_tolerance", {"architectures": ((8, 0),)}, "architectures"),
    ("naf_inhomogeneity", {"base": "bspline"}, "base got 'bspline'"),
    ("naf_inhomogeneity", {"n_realizations": 1.5}, "n_realizations"),
    ("naf_inhomogeneity", {"retrain_lr": 0}, "retrain_lr"),
    ("basis_comparison", {"bases": ("tanh", "nope")}, "bases got 'nope'"),
    ("basis_comparison", {"bases": "tanh"}, "sequence of names"),
    ("basis_comparison", {"noise_level": -1}, "noise_level"),
])
def test_bad_values_fail_before_any_data_is_read(study, kwargs, words, tmp_path):
    # the data folder does not exist: reaching the loader would raise OSError instead
    with pytest.raises(ValueError, match=words.replace("(", r"\(").replace(")", r"\)")):
        getattr(studies, study)("perovskites", data_home=tmp_path / "none", **kwargs)


def test_common_draws_reuse_the_deviations_at_every_spread(perovskites):
    kwargs = dict(spreads=(0.1, 0.1), n_realizations=2, retrain=False,
                  estimator=_template(50), random_state=0)
    common = studies.naf_inhomogeneity(perovskites, common_draws=True, **kwargs)
    own = studies.naf_inhomogeneity(perovskites, **kwargs)
    first, second = (common["test_rmse_degraded"].to_numpy()[i:i + 2] for i in (0, 2))
    np.testing.assert_array_equal(first, second)  # the same devices at the same spread
    assert own["test_rmse_degraded"].nunique() == 4  # each row drew its own
