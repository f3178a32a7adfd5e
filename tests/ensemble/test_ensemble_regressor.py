"""EnsembleRegressor: the spread of constructed members, shapes, the calibration split and
its rows, parameters refused by name, pickling, Pipeline and GridSearchCV."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.model_selection import GridSearchCV
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

from taafs_sk import EnsembleRegressor, TAAFSRegressor

from ._helpers import NoSeed, Offset, data


def test_identical_members_have_zero_std():
    # Ridge's random_state changes nothing with its default solver: identical members
    X, y = data()
    ens = EnsembleRegressor(Ridge(), n_members=3, random_state=0).fit(X, y)
    assert np.all(ens.predict(X, return_std=True)[1] == 0)


def test_identical_members_cannot_be_calibrated():
    X, y = data()
    with pytest.raises(ValueError, match="agree exactly.*calibration sample"):
        EnsembleRegressor(Ridge(), n_members=3, calibrate="scale", random_state=0).fit(X, y)


def test_std_grows_with_member_disagreement():
    X, y = data()
    stds = [EnsembleRegressor(Offset(spread=s), n_members=4, random_state=0)
            .fit(X, y).predict(X, return_std=True)[1] for s in (0.5, 1.0, 2.0)]
    offsets = [m.offset_ for m in EnsembleRegressor(Offset(spread=1.0), n_members=4,
                                                    random_state=0).fit(X, y).estimators_]
    np.testing.assert_allclose(stds[1], np.std(offsets))  # the members' spread, ddof=0
    np.testing.assert_allclose(stds[0] * 2, stds[1])
    np.testing.assert_allclose(stds[1] * 2, stds[2])
    assert stds[0].min() > 0


def test_members_get_distinct_seeds_from_random_state():
    X, y = data()
    seeds = [m.random_state for m in EnsembleRegressor(Offset(), n_members=5, random_state=3)
             .fit(X, y).estimators_]
    again = [m.random_state for m in EnsembleRegressor(Offset(), n_members=5, random_state=3)
             .fit(X, y).estimators_]
    assert len(set(seeds)) == 5 and seeds == again


@pytest.mark.parametrize("n_outputs", [None, 2])
@pytest.mark.parametrize("calibrate", [None, "scale", "isotonic"])
def test_return_std_and_interval_shapes(n_outputs, calibrate):
    X, y = data(n_outputs=n_outputs)
    ens = EnsembleRegressor(Offset(), n_members=3, calibrate=calibrate, random_state=0)
    mean, std = ens.fit(X, y).predict(X[:7], return_std=True)
    shape = (7,) if n_outputs is None else (7, n_outputs)
    assert mean.shape == std.shape == shape
    assert ens.predict(X[:7]).shape == shape
    lower, upper = ens.predict_interval(X[:7], coverage=0.9)
    assert lower.shape == upper.shape == shape and np.all(lower < upper)
    lower, upper = ens.predict_interval(X[:7], coverage=[0.5, 0.9])
    assert lower.shape == (2, *shape)
    assert np.all(upper[1] - lower[1] > upper[0] - lower[0])  # wider at 90 %
    assert ens.predict_members(X[:7]).shape == (3, *shape)


def test_calibration_never_sees_the_rows_it_is_scored_on():
    X, y = data(n=50)
    ens = EnsembleRegressor(Offset(), n_members=4, calibrate="scale", random_state=0)
    ens.fit(X, y)
    held_out = ens.calibration_indices_
    assert len(held_out) == math.ceil(0.2 * 50)
    for member in ens.estimators_:  # column 0 of X is the row id
        assert not set(member.rows_.astype(int)) & set(held_out)
        assert len(member.rows_) == 50 - len(held_out)
    # the factor is the one of the held-out rows' standardised errors
    members = ens.predict_members(X[held_out])
    z = (y[held_out] - members.mean(0)) / members.std(0)
    np.testing.assert_allclose(ens.calibrator_.std_factor_, np.sqrt(np.mean(z**2)))
    raw = ens.predict(X, return_std=True, calibrated=False)[1]
    np.testing.assert_allclose(ens.predict(X, return_std=True)[1],
                               raw * ens.calibrator_.std_factor_[0])


@pytest.mark.parametrize("calibrate", ["scale", "isotonic"])
def test_refit_keeps_the_calibration_and_refits_the_members_on_every_row(calibrate):
    X, y = data(n=50)
    params = dict(n_members=4, calibrate=calibrate, random_state=0)
    held = EnsembleRegressor(Offset(), **params).fit(X, y)
    refit = EnsembleRegressor(Offset(), refit=True, **params).fit(X, y)
    # the calibration is the one fitted on the held-out rows, before the refit
    np.testing.assert_array_equal(refit.calibration_indices_, held.calibration_indices_)
    np.testing.assert_allclose(refit.calibrator_.std_factor_, held.calibrator_.std_factor_)
    # the final members (same seeds) trained on every row: those of calibrate=None
    for member in refit.estimators_:
        assert sorted(member.rows_.astype(int)) == list(range(50))
    full = EnsembleRegressor(Offset(), n_members=4, random_state=0).fit(X, y)
    np.testing.assert_allclose(refit.predict_members(X), full.predict_members(X))
    raw = refit.predict(X, return_std=True, calibrated=False)[1]
    np.testing.assert_allclose(refit.predict(X, return_std=True)[1],
                               raw * refit.calibrator_.std_factor_[0])


def test_refit_with_bootstrap_draws_from_every_row():
    X, y = data(n=40)
    ens = EnsembleRegressor(Offset(), n_members=3, calibrate="scale", bootstrap=True,
                            refit=True, random_state=0).fit(X, y)
    seen = set().union(*(set(m.rows_.astype(int)) for m in ens.estimators_))
    assert seen & set(ens.calibration_indices_)  # the refitted members drew held-out rows


def test_refit_without_calibration_is_refused():
    X, y = data()
    with pytest.raises(ValueError, match="refit=True.*calibrate=None"):
        EnsembleRegressor(Offset(), refit=True).fit(X, y)


def test_copies_of_a_held_out_row_are_all_held_out():
    X, y = data(n=30)
    X, y = np.repeat(X, 3, axis=0), np.repeat(y, 3)  # every row three times
    ens = EnsembleRegressor(Offset(), n_members=2, calibrate="scale", random_state=0)
    held_out = ens.fit(X, y).calibration_indices_
    assert len(held_out) == 3 * math.ceil(0.2 * 30)
    for member in ens.estimators_:
        assert not set(member.rows_) & set(X[held_out, 0])


def test_weights_equal_repeated_rows_with_calibration_and_bootstrap():
    X, y = data(n=40)
    w = np.random.RandomState(1).randint(0, 4, size=40)
    params = dict(n_members=3, calibrate="isotonic", bootstrap=True, random_state=0)
    weighted = EnsembleRegressor(Offset(), **params).fit(X, y, sample_weight=w)
    repeated = EnsembleRegressor(Offset(), **params).fit(np.repeat(X, w, axis=0),
                                                         np.repeat(y, w))
    for a, b in zip(weighted.predict(X, return_std=True), repeated.predict(X, return_std=True),
                    strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10)


def test_bootstrap_members_differ_without_random_state():
    X, y = data()
    ens = EnsembleRegressor(LinearRegression(), n_members=3, bootstrap=True,
                            random_state=0).fit(X, y)
    assert ens.predict(X, return_std=True)[1].min() > 0
    # a member without sample_weight trains on repeated rows
    ens = EnsembleRegressor(NoSeed(), n_members=3, bootstrap=True, random_state=0).fit(X, y)
    assert max(len(m.rows_) for m in ens.estimators_) == len(X)


def test_estimator_without_random_state_is_refused_without_bootstrap():
    X, y = data()
    with pytest.raises(ValueError, match="LinearRegression has no random_state.*bootstrap"):
        EnsembleRegressor(LinearRegression(), n_members=3).fit(X, y)


def test_sample_weight_for_an_estimator_without_it_is_refused():
    X, y = data()
    with pytest.raises(TypeError, match="sample_weight: NoSeed.fit takes no sample_weight"):
        EnsembleRegressor(NoSeed(), bootstrap=True).fit(X, y, sample_weight=np.ones(len(y)))


@pytest.mark.parametrize("param, value", [
    ("n_members", 0), ("n_members", -2), ("n_members", 2.5), ("n_members", 1),
    ("calibrate", "platt"), ("calibrate", 1), ("calibration_fraction", 0.0),
    ("calibration_fraction", 1.5), ("bootstrap", "yes"), ("estimator", "mlp"),
    ("refit", "yes"),
])
def test_bad_parameters_are_named(param, value):
    X, y = data()
    ens = EnsembleRegressor(Offset()).set_params(**{param: value})
    with pytest.raises(InvalidParameterError, match=f"'{param}' parameter.*Got {value!r}"):
        ens.fit(X, y)


def test_too_few_rows_to_calibrate():
    X, y = data(n=4)
    with pytest.warns(UserWarning, match="fitted on 1 held-out samples only"):
        EnsembleRegressor(Offset(), calibrate="scale").fit(X, y)
    with pytest.raises(ValueError, match="calibration_fraction=0.8 of the 4 distinct.*none"):
        EnsembleRegressor(Offset(), calibrate="scale", calibration_fraction=0.8).fit(X, y)


def test_calibrate_needs_y():
    X, _ = data()
    with pytest.raises(ValueError, match="requires y to be passed.*calibrate='scale'"):
        EnsembleRegressor(Offset(), calibrate="scale").fit(X)


@pytest.mark.parametrize("coverage", [0.0, 1.0, [0.5, 1.2], "wide"])
def test_bad_coverage_is_named(coverage):
    X, y = data()
    ens = EnsembleRegressor(Offset(), n_members=2, random_state=0).fit(X, y)
    with pytest.raises((ValueError, TypeError), match="coverage"):
        ens.predict_interval(X, coverage=coverage)


def test_pickle_and_n_jobs_give_the_same_predictions():
    X, y = data()
    ens = EnsembleRegressor(Offset(), n_members=3, calibrate="isotonic", random_state=0)
    ens.fit(X, y)
    loaded = pickle.loads(pickle.dumps(ens))
    np.testing.assert_array_equal(loaded.predict(X, return_std=True)[1],
                                  ens.predict(X, return_std=True)[1])
    parallel = EnsembleRegressor(Offset(), n_members=3, calibrate="isotonic", n_jobs=2,
                                 random_state=0).fit(X, y)
    np.testing.assert_array_equal(parallel.predict(X, return_std=True)[1],
                                  ens.predict(X, return_std=True)[1])


def test_pipeline_member_gets_nested_seeds_and_grid_search_reaches_it():
    X, y = data(n=80)
    member = make_pipeline(StandardScaler(), MLPRegressor(hidden_layer_sizes=(4,),
                                                          max_iter=20))
    ens = EnsembleRegressor(member, n_members=2, random_state=0)
    search = GridSearchCV(ens, {"estimator__mlpregressor__alpha": [1e-4, 1e-1]}, cv=2)
    with pytest.warns(Warning):  # MLPRegressor's ConvergenceWarning at 20 iterations
        search.fit(X, y)
    seeds = {m[-1].random_state for m in search.best_estimator_.estimators_}
    assert len(seeds) == 2
    assert search.best_estimator_.n_features_in_ == 3


def test_ensemble_in_a_pipeline_with_feature_names():
    pd = pytest.importorskip("pandas")
    X, y = data()
    frame = pd.DataFrame(X, columns=["id", "a", "b"])
    model = make_pipeline(StandardScaler().set_output(transform="pandas"),
                          EnsembleRegressor(Offset(), n_members=2, random_state=0))
    model.fit(frame, y)
    assert list(model[-1].feature_names_in_) == ["id", "a", "b"]
    assert model.predict(frame).shape == (len(y),)


def test_default_member_is_taafs_regressor():
    X, y = data(n=40)
    assert type(EnsembleRegressor()._estimator_or_default()) is TAAFSRegressor
    tiny = TAAFSRegressor((4,), max_epochs=3, early_stopping=False)
    mean, std = EnsembleRegressor(tiny, n_members=2, random_state=0).fit(X, y).predict(
        X[:5], return_std=True)
    assert mean.shape == std.shape == (5,) and std.min() > 0
    assert not hasattr(EnsembleRegressor(), "predict_forces")
