"""The featurizers as matminer featurizers: ``featurize_dataframe``, ``featurize_many`` and
``MultipleFeaturizer`` on real rows give what ``transform`` gives, and keep strict errors."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from matminer.featurizers.base import BaseFeaturizer as MatminerBaseFeaturizer
from matminer.featurizers.base import MultipleFeaturizer
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.utils import get_tags

from taafs_sk.datasets import load_double_perovskites, load_hydrocarbons, load_qm9
from taafs_sk.featurizers import (
    BaseFeaturizer,
    DoublePerovskiteFeaturizer,
    FeaturizationWarning,
    HydrocarbonFeaturizer,
    MoleculeFeaturizer,
)

SITES = ["a_1", "b_1", "a_2", "b_2"]


@pytest.fixture(scope="module")
def hydrocarbons(data_home) -> pd.DataFrame:
    """40 real COMPAS-3D hydrocarbons."""
    smiles = load_hydrocarbons("dft", data_home=data_home).data
    return pd.DataFrame({"smiles": smiles[::200][:40]})


@pytest.fixture(scope="module")
def molecules(data_home) -> pd.DataFrame:
    """40 real QM9 molecules."""
    return pd.DataFrame({"smiles": load_qm9(n_samples=40, random_state=0,
                                            data_home=data_home).data})


@pytest.fixture(scope="module")
def oxides(data_home) -> pd.DataFrame:
    """40 real Pilania double perovskite oxides (site columns a_1, b_1, a_2, b_2)."""
    return load_double_perovskites("pilania", data_home=data_home, as_frame=True).data.iloc[:40]


@pytest.fixture(params=["hydrocarbons", "molecules", "oxides"])
def case(request) -> tuple[BaseFeaturizer, pd.DataFrame, str | list[str]]:
    """(unfitted featurizer, real rows, col_id) for each featurizer."""
    frame = request.getfixturevalue(request.param)
    if request.param == "oxides":
        return DoublePerovskiteFeaturizer(), frame, SITES
    featurizer = HydrocarbonFeaturizer() if request.param == "hydrocarbons" else (
        MoleculeFeaturizer())
    return featurizer, frame, "smiles"


def with_bad_row(frame: pd.DataFrame, col_id) -> pd.DataFrame:
    """A copy of ``frame`` whose row 3 is not valid input for the featurizer."""
    bad = frame.copy()
    bad.loc[bad.index[3], SITES[0] if isinstance(col_id, list) else col_id] = "Xx1"
    return bad


@pytest.mark.parametrize("cls", [HydrocarbonFeaturizer, MoleculeFeaturizer,
                                 DoublePerovskiteFeaturizer])
def test_a_matminer_featurizer_and_a_scikit_learn_transformer(cls):
    assert issubclass(cls, MatminerBaseFeaturizer)
    assert issubclass(cls, TransformerMixin) and issubclass(cls, BaseEstimator)
    tags = get_tags(cls())
    assert tags.transformer_tags is not None and tags.transformer_tags.preserves_dtype == []
    assert tags.input_tags.string and not tags.input_tags.two_d_array


@pytest.mark.parametrize("cls", [HydrocarbonFeaturizer, MoleculeFeaturizer,
                                 DoublePerovskiteFeaturizer])
def test_n_jobs_stays_a_plain_parameter(cls):
    featurizer = cls(n_jobs=2)
    assert featurizer.get_params()["n_jobs"] == 2 and clone(featurizer).n_jobs == 2
    assert cls().n_jobs is None  # not matminer's cpu_count() default
    featurizer.set_n_jobs(1)  # matminer's setter (MultipleFeaturizer calls it)
    assert featurizer.get_params()["n_jobs"] == 1


def test_featurize_dataframe_equals_transform(case):
    featurizer, frame, col_id = case
    out = featurizer.fit_featurize_dataframe(frame, col_id, pbar=False)
    labels = featurizer.feature_labels()
    assert list(out.columns) == list(frame.columns) + labels
    assert out.index.equals(frame.index)
    np.testing.assert_array_equal(out[labels].to_numpy(dtype=np.float64),
                                  featurizer.transform(frame[col_id]))


def test_featurize_many_equals_transform(case):
    featurizer, frame, col_id = case
    featurizer.fit(frame[col_id])
    rows = featurizer.featurize_many(frame[col_id].to_numpy(), pbar=False)
    assert len(rows) == len(frame) and all(isinstance(row, list) for row in rows)
    np.testing.assert_array_equal(np.array(rows), featurizer.transform(frame[col_id]))
    assert featurizer.featurize_many([], pbar=False) == []


def test_a_bad_row_raises_naming_row_and_value(case):
    featurizer, frame, col_id = case
    featurizer.fit(frame[col_id])
    with pytest.raises(ValueError, match=r"could not featurize row 3 .*Xx1.*on_error='nan'.*"
                                         r"ignore_errors=True"):
        featurizer.featurize_dataframe(with_bad_row(frame, col_id), col_id, pbar=False)


def test_on_error_nan_gives_a_nan_row_and_a_warning(case):
    featurizer, frame, col_id = case
    featurizer.set_params(on_error="nan").fit(frame[col_id])
    with pytest.warns(FeaturizationWarning, match=r"1 of 40 rows .* row 3"):
        out = featurizer.featurize_dataframe(with_bad_row(frame, col_id), col_id, pbar=False)
    values = out[featurizer.feature_labels()].to_numpy(dtype=np.float64)
    assert np.isnan(values[3]).all()
    np.testing.assert_array_equal(np.delete(values, 3, axis=0),
                                  np.delete(featurizer.transform(frame[col_id]), 3, axis=0))


def test_ignore_errors_true_opts_out_at_the_call_but_still_warns(case):
    featurizer, frame, col_id = case  # on_error='raise'
    featurizer.fit(frame[col_id])
    with pytest.warns(FeaturizationWarning, match="set to NaN"):
        out = featurizer.featurize_dataframe(with_bad_row(frame, col_id), col_id,
                                             ignore_errors=True, return_errors=True, pbar=False)
    errors = out[f"{type(featurizer).__name__} Exceptions"]
    assert errors.iloc[3].startswith("ValueError: ") and "Xx1" in errors.iloc[3]
    assert errors.drop(index=errors.index[3]).isna().all()
    assert np.isnan(out[featurizer.feature_labels()].to_numpy(dtype=np.float64)[3]).all()


def test_return_errors_needs_ignore_errors(hydrocarbons):
    featurizer = HydrocarbonFeaturizer().fit(hydrocarbons["smiles"])
    with pytest.raises(ValueError, match="return_errors=True needs ignore_errors=True"):
        featurizer.featurize_many(hydrocarbons["smiles"], return_errors=True)


def test_only_exceptions_are_caught():
    class Interrupted(DoublePerovskiteFeaturizer):
        def featurize(self, entry):
            raise KeyboardInterrupt

    featurizer = Interrupted(element_fractions=False).fit([("Sr", "Ti", "Sr", "Ti")])
    with pytest.raises(KeyboardInterrupt):
        featurizer.featurize_wrapper((("Sr", "Ti", "Sr", "Ti"),), ignore_errors=True)


@pytest.fixture(scope="module")
def two_featurizers(hydrocarbons):
    smiles = hydrocarbons["smiles"]
    return (HydrocarbonFeaturizer().fit(smiles), MoleculeFeaturizer().fit(smiles),
            np.hstack([HydrocarbonFeaturizer().fit_transform(smiles),
                       MoleculeFeaturizer().fit_transform(smiles)]))


@pytest.mark.parametrize("iterate_over_entries", [True, False])
def test_multiple_featurizer_of_two_of_ours(hydrocarbons, two_featurizers,
                                            iterate_over_entries):
    hydrocarbon, molecule, expected = two_featurizers
    combined = MultipleFeaturizer([hydrocarbon, molecule],
                                  iterate_over_entries=iterate_over_entries)
    combined.set_n_jobs(1)  # matminer's default is a process pool of cpu_count() workers
    assert combined.feature_labels() == hydrocarbon.feature_labels() + molecule.feature_labels()
    rows = combined.featurize_many(hydrocarbons["smiles"], pbar=False)
    np.testing.assert_array_equal(np.array(rows), expected)
    # both have an "n_rings" column: matminer's multiindex keeps them apart (and rewrites
    # the columns of the frame it is given: pass a copy)
    out = combined.featurize_dataframe(hydrocarbons.copy(), "smiles", multiindex=True,
                                       pbar=False)
    np.testing.assert_array_equal(
        out.drop(columns=[("Input Data", "smiles")]).to_numpy(dtype=np.float64), expected)


def test_multiple_featurizer_keeps_strict_errors(hydrocarbons, two_featurizers):
    hydrocarbon, molecule, _ = two_featurizers
    combined = MultipleFeaturizer([hydrocarbon, molecule])
    combined.set_n_jobs(1)
    bad = with_bad_row(hydrocarbons, "smiles")
    with pytest.raises(ValueError, match=r"HydrocarbonFeaturizer could not featurize 'Xx1'"):
        combined.featurize_many(bad["smiles"], pbar=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FeaturizationWarning)
        with pytest.raises(FeaturizationWarning, match="'Xx1' could not be featurized"):
            combined.featurize_many(bad["smiles"], ignore_errors=True, pbar=False)
    with pytest.warns(FeaturizationWarning):
        rows = combined.featurize_many(bad["smiles"], ignore_errors=True, pbar=False)
    assert np.isnan(np.array(rows[3], dtype=np.float64)).all()


def test_sklearn_transform_does_not_take_matminers_ignore_errors(hydrocarbons):
    featurizer = HydrocarbonFeaturizer().fit(hydrocarbons["smiles"])
    bad = with_bad_row(hydrocarbons, "smiles")["smiles"]
    with pytest.raises(ValueError, match=r"row 3 \('Xx1'\).*on_error='nan' to get"):
        featurizer.transform(bad)


@pytest.mark.parametrize("module", ["taafs_sk.featurizers", "matminer.featurizers.base"])
def test_importing_does_not_import_torch(module):
    code = f"import sys, {module}; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, timeout=300)
    assert result.stdout.strip() == "False", result.stderr
