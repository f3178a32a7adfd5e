"""Dataset loaders on the real files: shapes, return types, units, groups, data location,
checksums, missing files and the download path (file:// URLs only, never the network)."""

from __future__ import annotations

import gzip
import shutil

import numpy as np
import pandas as pd
import pytest

from taafs_sk import datasets
from taafs_sk.datasets import (
    DATA_URLS,
    HARTREE_IN_EV,
    MANZHOS_FEATURES,
    get_data_home,
    list_datasets,
    load_double_perovskites,
    load_hydrocarbons,
    load_qm9,
)

#: id -> (file key, loader call taking data_home, rows, data shape, number of groups or None)
LOADERS = {
    "hydrocarbons-xtb": ("compas-3x", lambda **kw: load_hydrocarbons("xtb", **kw), 39482,
                         (39482,), 24),
    "hydrocarbons-dft": ("compas-3D", lambda **kw: load_hydrocarbons("dft", **kw), 8844,
                         (8844,), 19),
    "manzhos-band_gap": ("manzhos", lambda **kw: load_double_perovskites(
        "manzhos", "band_gap", **kw), 540, (540, 31), 270),
    "manzhos-formation_energy": ("manzhos", lambda **kw: load_double_perovskites(
        "manzhos", "formation_energy", **kw), 540, (540, 31), 270),
    "pilania": ("pilania", lambda **kw: load_double_perovskites("pilania", **kw), 1306,
                (1306, 4), 1306),
    "qm9": ("qm9", lambda **kw: load_qm9(**kw), 63768, (63768,), None),
}
IDS = list(LOADERS)
#: one loader per data file
FILE_IDS = ["hydrocarbons-xtb", "hydrocarbons-dft", "manzhos-band_gap", "pilania", "qm9"]


def _path(key: str) -> str:
    return datasets.FILES[key].path


def _copy(data_home, tmp_path, key):
    """Copy one data file into tmp_path with the data folder's layout; return the copy."""
    target = tmp_path / _path(key)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(data_home / _path(key), target)
    target.chmod(0o644)
    return target


def _published(data_home, tmp_path, key):
    """A file:// URL serving the file as published upstream (uncompressed)."""
    raw = (data_home / _path(key)).read_bytes()
    source = tmp_path / "mirror" / _path(key).removesuffix(".gz")
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_bytes(gzip.decompress(raw) if _path(key).endswith(".gz") else raw)
    return source.as_uri()


@pytest.fixture(scope="module")
def bunches(data_home):
    return {name: spec[1](data_home=data_home) for name, spec in LOADERS.items()}


# --------------------------------------------------------------------- shapes and types
@pytest.mark.parametrize("name", IDS)
def test_full_file_loads_with_documented_shapes(bunches, name):
    _, _, rows, shape, _ = LOADERS[name]
    bunch = bunches[name]
    assert bunch.data.shape == shape
    assert bunch.target.shape == (rows,)
    assert bunch.target.dtype == np.float64
    assert np.isfinite(bunch.target).all()
    assert len(bunch.ids) == rows
    assert bunch.frame is None
    assert isinstance(bunch.DESCR, str) and str(rows) in bunch.DESCR.replace(",", "")


@pytest.mark.parametrize("name", IDS)
def test_registered_row_counts_match_the_files(bunches, name):
    key, _, rows, _, _ = LOADERS[name]
    assert datasets.FILES[key].rows == rows == len(bunches[name].target)


@pytest.mark.parametrize("name", IDS)
def test_groups_have_the_documented_count(bunches, name):
    n_groups = LOADERS[name][4]
    groups = bunches[name].groups
    if n_groups is None:
        assert groups is None
    else:
        assert len(groups) == len(bunches[name].target)
        assert not pd.isna(groups).any()
        assert len(set(groups)) == n_groups


@pytest.mark.parametrize("name", IDS)
def test_return_X_y_matches_the_bunch(bunches, data_home, name):
    X, y = LOADERS[name][1](data_home=data_home, return_X_y=True)
    np.testing.assert_array_equal(X, bunches[name].data)
    np.testing.assert_array_equal(y, bunches[name].target)


@pytest.mark.parametrize("name", IDS)
def test_as_frame_gives_dataframe_and_series(bunches, data_home, name):
    bunch = LOADERS[name][1](data_home=data_home, as_frame=True)
    assert isinstance(bunch.data, pd.DataFrame)
    assert isinstance(bunch.target, pd.Series)
    assert list(bunch.data.columns) == bunch.feature_names
    assert bunch.target.name == bunch.target_names[0]
    assert isinstance(bunch.frame, pd.DataFrame) and len(bunch.frame) == LOADERS[name][2]
    np.testing.assert_array_equal(bunch.data.to_numpy().squeeze(), bunches[name].data)
    np.testing.assert_array_equal(bunch.target.to_numpy(), bunches[name].target)


@pytest.mark.parametrize("name", ["hydrocarbons-xtb", "hydrocarbons-dft"])
def test_hydrocarbon_energies_are_zero_at_each_formulas_minimum(bunches, name):
    bunch = bunches[name]
    minima = pd.Series(bunch.target).groupby(bunch.groups).min()
    assert (minima == 0.0).all()
    assert all(g.startswith("C") and "H" in g for g in minima.index)
    assert bunch.data.dtype == object and bunch.data[0] == "c1cc2ccc3cccc4ccc(c1)c2c34"


def test_manzhos_groups_pair_rows_i_and_i_plus_270(bunches):
    bunch = bunches["manzhos-band_gap"]
    np.testing.assert_array_equal(bunch.groups[:270], bunch.groups[270:])
    assert bunch.feature_names == list(MANZHOS_FEATURES) and len(MANZHOS_FEATURES) == 31


@pytest.mark.parametrize(("target", "column"), [("band_gap", 31), ("formation_energy", 32)])
def test_manzhos_targets_are_columns_32_and_33(bunches, data_home, target, column):
    raw = np.loadtxt(data_home / _path("manzhos"))
    bunch = bunches[f"manzhos-{target}"]
    np.testing.assert_array_equal(bunch.target, raw[:, column])
    np.testing.assert_array_equal(bunch.data, raw[:, :31])


def test_pilania_has_only_the_band_gap(data_home):
    with pytest.raises(ValueError, match="formation_energy"):
        load_double_perovskites("pilania", "formation_energy", data_home=data_home)


@pytest.mark.parametrize(("call", "bad"), [
    (lambda h: load_hydrocarbons("b3lyp", data_home=h), "'b3lyp'"),
    (lambda h: load_hydrocarbons(energy_unit="kcal", data_home=h), "'kcal'"),
    (lambda h: load_double_perovskites("oqmd", data_home=h), "'oqmd'"),
    (lambda h: load_double_perovskites(target="gap", data_home=h), "'gap'"),
    (lambda h: load_qm9("enthalpy", data_home=h), "'enthalpy'"),
    (lambda h: load_qm9(energy_unit="kJ/mol", data_home=h), "'kJ/mol'"),
])
def test_unknown_option_raises_with_the_bad_value(data_home, call, bad):
    with pytest.raises(ValueError, match=bad):
        call(data_home)


# --------------------------------------------------------------------------- units
@pytest.mark.parametrize("level", ["xtb", "dft"])
def test_hydrocarbons_in_meV_are_1000_times_eV(bunches, data_home, level):
    bunch = load_hydrocarbons(level, data_home=data_home, energy_unit="meV")
    assert bunch.target_names == ["Erel_meV"]
    np.testing.assert_allclose(bunch.target, 1000 * bunches[f"hydrocarbons-{level}"].target)


@pytest.mark.parametrize(("unit", "factor"), [("hartree", 1.0), ("eV", HARTREE_IN_EV),
                                              ("meV", 1000 * HARTREE_IN_EV)])
def test_qm9_energy_units(data_home, unit, factor):
    raw = pd.read_csv(data_home / _path("qm9"))
    bunch = load_qm9("zpve", data_home=data_home, energy_unit=unit)
    assert bunch.target_names == [f"zpve_{unit}"]
    np.testing.assert_allclose(bunch.target, raw["zpve"].to_numpy() * factor, rtol=1e-15)


def test_qm9_non_energy_target_keeps_its_unit(data_home):
    bunch = load_qm9("mu", data_home=data_home, energy_unit="meV")
    raw = pd.read_csv(data_home / _path("qm9"), usecols=["mu"])
    assert bunch.target_names == ["mu"]
    np.testing.assert_array_equal(bunch.target, raw["mu"].to_numpy())


# ------------------------------------------------------------------------ QM9 subsets
def test_qm9_subsample_is_reproducible(data_home):
    first = load_qm9(n_samples=200, random_state=3, data_home=data_home)
    again = load_qm9(n_samples=200, random_state=3, data_home=data_home)
    other = load_qm9(n_samples=200, random_state=4, data_home=data_home)
    assert first.data.shape == first.target.shape == (200,)
    np.testing.assert_array_equal(first.ids, again.ids)
    np.testing.assert_array_equal(first.target, again.target)
    assert set(first.ids) != set(other.ids)


def test_qm9_subsample_rows_come_from_the_file_in_file_order(bunches, data_home):
    full = bunches["qm9"]
    sub = load_qm9(n_samples=300, random_state=np.random.RandomState(0), data_home=data_home)
    position = {mol: i for i, mol in enumerate(full.ids)}
    rows = np.array([position[mol] for mol in sub.ids])
    assert np.all(np.diff(rows) > 0)
    np.testing.assert_array_equal(sub.data, full.data[rows])
    np.testing.assert_array_equal(sub.target, full.target[rows])


@pytest.mark.parametrize("n_samples", [0, -1, 63769])
def test_qm9_impossible_n_samples_raises(data_home, n_samples):
    with pytest.raises(ValueError, match="n_samples"):
        load_qm9(n_samples=n_samples, data_home=data_home)


# ---------------------------------------------------------------------- data location
def test_data_home_from_environment_variable(monkeypatch, data_home, bunches):
    monkeypatch.setenv("TAAFS_SK_DATA", str(data_home))
    assert get_data_home() == data_home
    X, y = load_double_perovskites(return_X_y=True)
    np.testing.assert_array_equal(y, bunches["manzhos-band_gap"].target)


def test_explicit_data_home_wins_over_environment(monkeypatch, tmp_path, data_home):
    monkeypatch.setenv("TAAFS_SK_DATA", str(tmp_path / "elsewhere"))
    assert get_data_home(data_home) == data_home
    assert len(load_double_perovskites("pilania", data_home=data_home).target) == 1306


def test_default_data_home_is_in_the_home_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("TAAFS_SK_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert get_data_home() == tmp_path / "taafs_sk_data"


def test_list_datasets_reports_found_files_and_urls(data_home, tmp_path):
    present = list_datasets(data_home)
    assert present["found"].all() and len(present) == len(datasets.FILES)
    missing = list_datasets(tmp_path)
    assert not missing["found"].any()
    manzhos = missing.set_index("file").loc[_path("manzhos")]
    assert manzhos["where"] == DATA_URLS[_path("manzhos")]


# ------------------------------------------------------------------------ checksums
@pytest.mark.parametrize("name", FILE_IDS)
def test_tampered_copy_raises_a_checksum_error(data_home, tmp_path, name):
    key, load = LOADERS[name][:2]
    copy = _copy(data_home, tmp_path, key)
    assert len(load(data_home=tmp_path, return_X_y=True)[1]) == LOADERS[name][2]  # intact copy
    content = bytearray(copy.read_bytes())
    content[len(content) // 2] ^= 0x01
    copy.write_bytes(bytes(content))
    with pytest.raises(ValueError, match="checksum mismatch") as info:
        load(data_home=tmp_path, download_if_missing=False)
    assert str(copy) in str(info.value)


def test_recompressed_gzip_with_same_content_is_accepted(data_home, tmp_path):
    copy = _copy(data_home, tmp_path, "compas-3D")
    copy.write_bytes(gzip.compress(gzip.decompress(copy.read_bytes()), compresslevel=1))
    assert load_hydrocarbons("dft", data_home=tmp_path).data.shape == (8844,)


# ------------------------------------------------------------------- missing files
@pytest.mark.parametrize("name", FILE_IDS[:4])
def test_missing_file_error_names_the_file_and_the_url(tmp_path, name):
    key, load = LOADERS[name][:2]
    with pytest.raises(FileNotFoundError) as info:
        load(data_home=tmp_path, download_if_missing=False)
    message = str(info.value)
    assert str(tmp_path / _path(key)) in message
    assert DATA_URLS[_path(key)] in message


def test_missing_qm9_explains_it_has_no_download_url(tmp_path):
    with pytest.raises(FileNotFoundError, match="no public download URL") as info:
        load_qm9(data_home=tmp_path)
    assert str(tmp_path / _path("qm9")) in str(info.value)
    assert "DATA_URLS" in str(info.value)


def test_unreachable_url_raises_oserror_naming_it(monkeypatch, tmp_path):
    url = (tmp_path / "no" / "such.csv").as_uri()
    monkeypatch.setitem(DATA_URLS, _path("pilania"), url)
    with pytest.raises(OSError, match="could not download") as info:
        load_double_perovskites("pilania", data_home=tmp_path / "home")
    assert url in str(info.value)
    assert not (tmp_path / "home" / _path("pilania")).exists()


# ------------------------------------------------------------------------- downloads
@pytest.mark.parametrize("name", ["hydrocarbons-dft", "manzhos-band_gap", "pilania"])
def test_download_from_file_url_saves_and_loads(monkeypatch, data_home, tmp_path, bunches, name):
    key, load = LOADERS[name][:2]
    monkeypatch.setitem(DATA_URLS, _path(key), _published(data_home, tmp_path, key))
    home = tmp_path / "home"
    X, y = load(data_home=home, return_X_y=True)
    np.testing.assert_array_equal(y, bunches[name].target)
    saved = home / _path(key)
    assert saved.is_file()
    assert not saved.with_name(saved.name + ".part").exists()
    if saved.suffix == ".gz":  # stored compressed, as the shared data folder does
        assert saved.read_bytes()[:2] == b"\x1f\x8b"
    # the saved file is then used without downloading again
    monkeypatch.setitem(DATA_URLS, _path(key), (tmp_path / "gone.csv").as_uri())
    np.testing.assert_array_equal(load(data_home=home, return_X_y=True)[1], y)


def test_download_of_a_gzipped_mirror_works_for_qm9(monkeypatch, data_home, tmp_path, bunches):
    monkeypatch.setitem(DATA_URLS, _path("qm9"), (data_home / _path("qm9")).as_uri())
    bunch = load_qm9(data_home=tmp_path)
    np.testing.assert_array_equal(bunch.ids, bunches["qm9"].ids)
    assert (tmp_path / _path("qm9")).is_file()


def test_download_with_wrong_checksum_saves_nothing(monkeypatch, tmp_path):
    source = tmp_path / "fake.csv"
    source.write_text(",formula,a_1,b_1,a_2,b_2,gap gllbsc\n0,X,A,B,C,D,1.0\n")
    monkeypatch.setitem(DATA_URLS, _path("pilania"), source.as_uri())
    home = tmp_path / "home"
    with pytest.raises(ValueError, match="checksum mismatch") as info:
        load_double_perovskites("pilania", data_home=home)
    assert source.as_uri() in str(info.value)
    assert not (home / _path("pilania")).exists()
    assert not list(home.rglob("*.part"))


def test_no_download_when_not_allowed(monkeypatch, data_home, tmp_path):
    monkeypatch.setitem(DATA_URLS, _path("manzhos"), _published(data_home, tmp_path, "manzhos"))
    with pytest.raises(FileNotFoundError, match="download_if_missing=False"):
        load_double_perovskites(data_home=tmp_path / "home", download_if_missing=False)
    assert not (tmp_path / "home").exists()


def test_pilania_bunch_carries_the_element_lumo_table(data_home):
    bunch = load_double_perovskites(source="pilania", data_home=data_home)
    lumo = bunch.element_lumo
    assert len(lumo) == 55 and lumo.index.is_unique
    assert set(np.unique(bunch.data)) <= set(lumo.index)  # every site element has a LUMO
    assert lumo["Li"] == pytest.approx(-1.091181)


# ------------------------------------------------- failed downloads leave nothing behind
class _DroppedConnection:
    """A response whose body breaks off half way (as a reset connection does)."""

    def __init__(self, *args, **kwargs):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def read(self):
        raise ConnectionResetError("connection reset by peer after 512 of 4096 bytes")


def test_download_failing_half_way_leaves_no_file(monkeypatch, tmp_path):
    from taafs_sk import _data_files

    monkeypatch.setattr(_data_files.urllib.request, "urlopen", _DroppedConnection)
    home = tmp_path / "home"
    with pytest.raises(OSError, match="could not download") as info:
        load_double_perovskites("pilania", data_home=home)
    assert "connection reset" in str(info.value)
    assert not home.exists() or not [p for p in home.rglob("*") if p.is_file()]


def test_write_failing_half_way_leaves_no_temporary_file(monkeypatch, data_home, tmp_path):
    from taafs_sk import _data_files

    monkeypatch.setitem(DATA_URLS, _path("manzhos"), _published(data_home, tmp_path, "manzhos"))

    def full_disk(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_data_files.os, "replace", full_disk)
    home = tmp_path / "home"
    with pytest.raises(OSError, match="No space left"):
        load_double_perovskites(data_home=home)
    assert not [p for p in home.rglob("*") if p.is_file()]


def test_damaged_gzip_download_saves_nothing(monkeypatch, tmp_path):
    source = tmp_path / "broken.csv.gz"
    payload = np.random.RandomState(0).bytes(4096)
    source.write_bytes(gzip.compress(payload)[:2000])  # cut off mid-stream
    monkeypatch.setitem(DATA_URLS, _path("compas-3D"), source.as_uri())
    home = tmp_path / "home"
    with pytest.raises(ValueError, match="damaged gzip stream"):
        load_hydrocarbons("dft", data_home=home)
    assert not [p for p in home.rglob("*") if p.is_file()]


def test_corrupt_file_is_reported_with_both_checksums_and_left_alone(
    monkeypatch, data_home, tmp_path
):
    import hashlib

    copy = _copy(data_home, tmp_path, "manzhos")
    content = bytearray(copy.read_bytes())
    content[100] ^= 0x01
    copy.write_bytes(bytes(content))
    # a working mirror is available, yet the corrupt file must not be replaced silently
    monkeypatch.setitem(DATA_URLS, _path("manzhos"), _published(data_home, tmp_path, "manzhos"))
    with pytest.raises(ValueError, match="checksum mismatch") as info:
        load_double_perovskites(data_home=tmp_path, download_if_missing=True)
    message = str(info.value)
    assert str(copy) in message
    assert datasets.FILES["manzhos"].sha256 in message
    assert hashlib.sha256(bytes(content)).hexdigest() in message
    assert copy.read_bytes() == bytes(content)  # nothing overwritten


@pytest.mark.parametrize("bad, error", [(3, TypeError), (["a"], TypeError)])
def test_data_home_of_the_wrong_type_is_refused(bad, error):
    with pytest.raises(error, match="data_home"):
        get_data_home(bad)


def test_data_home_that_is_a_file_is_refused(tmp_path):
    path = tmp_path / "file.txt"
    path.write_text("x")
    with pytest.raises(ValueError, match="data_home must be a folder"):
        load_double_perovskites(data_home=path)
