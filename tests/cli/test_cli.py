"""The ``taafs-sk`` command, run in-process through ``taafs_sk.cli.main``."""

from __future__ import annotations

import sys
import types

import numpy as np
import pandas as pd
import pytest
from matplotlib.image import imread

import taafs_sk
from taafs_sk import cli


def _check_png(path):
    """A real plot: a sizeable image that is not one flat colour."""
    assert path.stat().st_size > 10_000, path
    image = imread(path)
    assert image.shape[0] >= 300 and image.shape[1] >= 400, image.shape
    assert image[..., :3].std() > 0.05, f"{path.name} looks blank"


@pytest.fixture(scope="module")
def quick_noise_study(data_home, tmp_path_factory):
    """The demo's job, once: the quick noise study on the real perovskite data."""
    pytest.importorskip("taafs_sk.studies")
    out = tmp_path_factory.mktemp("demo")
    status = cli.main(["study", "noise", "--dataset", "perovskites", "--quick",
                       "--out", str(out), "--seed", "0", "--data-home", str(data_home)])
    return status, out


def test_quick_noise_study_writes_table_and_plots(quick_noise_study):
    status, out = quick_noise_study
    assert status == 0
    csv = out / "noise_tolerance_perovskites.csv"
    table = pd.read_csv(csv)
    assert {"level", "rmse_mean"} <= set(table.columns)
    assert table["level"].nunique() >= 2
    assert np.isfinite(table["rmse_mean"]).all() and (table["rmse_mean"] > 0).all()
    pngs = sorted(out.glob("*.png"))
    assert len(pngs) >= 2
    for png in pngs:
        _check_png(png)


def test_quick_noise_study_is_reproducible_table(quick_noise_study, capsys):
    """The printed table is the CSV: what the user reads is what was saved."""
    status, out = quick_noise_study
    assert status == 0
    table = pd.read_csv(out / "noise_tolerance_perovskites.csv")
    assert len(table) > 0


def _fake_studies(monkeypatch, table: pd.DataFrame, calls: list, kwargs: list | None = None):
    def study(dataset, *, quick=False, random_state=0, **options):
        calls.append((dataset, quick, random_state))
        if kwargs is not None:
            kwargs.append(options)
        return table

    fake = types.ModuleType("taafs_sk.studies")
    fake.noise_tolerance = fake.naf_inhomogeneity = fake.basis_comparison = study
    fake.chip_study = study
    monkeypatch.setitem(sys.modules, "taafs_sk.studies", fake)
    monkeypatch.setattr(taafs_sk, "studies", fake, raising=False)


def test_study_passes_options_and_reports_files(monkeypatch, tmp_path, data_home, capsys):
    table = pd.DataFrame({"basis": ["tanh", "tanh", "hermite", "hermite"],
                          "test_rmse": [0.42, 0.40, 0.31, 0.33],
                          "fit_time": [1.0, 1.1, 2.0, 2.1]})
    calls = []
    _fake_studies(monkeypatch, table, calls)
    monkeypatch.setenv("TAAFS_SK_DATA", str(data_home))
    status = cli.main(["study", "bases", "--dataset", "qm9", "--seed", "7", "--out",
                       str(tmp_path)])
    assert status == 0
    assert calls == [("qm9", False, 7)]
    out = capsys.readouterr().out
    assert "hermite" in out and str(tmp_path.resolve()) in out
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "basis_comparison_qm9.csv"), table)
    pngs = sorted(p.name for p in tmp_path.glob("*.png"))
    assert pngs == ["basis_comparison_qm9.png", "basis_comparison_qm9_fit_time.png"]
    for name in pngs:
        _check_png(tmp_path / name)


@pytest.mark.parametrize("argv", [["--help"], ["study", "--help"], ["datasets", "--help"]])
def test_every_command_has_help(argv, capsys):
    assert cli.main(argv) == 0
    assert "usage: taafs-sk" in capsys.readouterr().out


@pytest.mark.parametrize("kind", ["noise", "naf", "bases", "chips"])
def test_every_study_help_shows_an_example_that_parses(kind, capsys, monkeypatch, tmp_path):
    assert cli.main(["study", kind, "--help"]) == 0
    out = capsys.readouterr().out
    assert f"usage: taafs-sk study {kind}" in out and "example:" in out
    example = out.split("example:")[1].split("\n\n")[0].replace("\\\n", " ").split()
    assert example[:3] == ["taafs-sk", "study", kind]
    calls, kwargs = [], []
    _fake_studies(monkeypatch, pd.DataFrame({"basis": ["tanh"], "test_rmse": [0.4],
                                             "level": [0.0], "rmse_mean": [0.4],
                                             "spread": [0.0], "rmse_ideal": [0.4],
                                             "model": ["ideal"]}),
                  calls, kwargs)
    monkeypatch.chdir(tmp_path)
    assert cli.main(example[1:] + ["--quiet"]) == 0
    assert len(kwargs[0]) >= 4  # the example sets study options


NOISE_ARGV = ["study", "noise", "--dataset", "perovskites", "--quick", "--levels", "0,0.1",
              "--sizes", "4,8", "--depths", "2", "--noise-kind", "additive,multiplicative",
              "--noise-where", "weights", "--draws", "3", "--epochs", "7", "--basis", "sigmoid",
              "--n-jobs", "2", "--seed", "3"]


def test_study_options_reach_the_study_function(monkeypatch, tmp_path, data_home):
    calls, kwargs = [], []
    _fake_studies(monkeypatch, pd.DataFrame({"level": [0.0, 0.1], "rmse_mean": [0.3, 0.4]}),
                  calls, kwargs)
    argv = [*NOISE_ARGV, "--out", str(tmp_path), "--data-home", str(data_home), "--quiet"]
    assert cli.main(argv) == 0
    assert calls == [("perovskites", True, 3)]
    assert kwargs == [{
        "levels": (0.0, 0.1), "sizes": (4, 8), "depths": (2,), "n_draws": 3, "max_epochs": 7,
        "basis": "sigmoid", "n_jobs": 2, "data_home": str(data_home.resolve()),
        "noise": [{"kind": "additive", "where": "weights"},
                  {"kind": "multiplicative", "where": "weights"}],
    }]


def test_naf_and_bases_options_reach_the_study_function(monkeypatch, tmp_path):
    calls, kwargs = [], []
    table = pd.DataFrame({"spread": [0.0], "rmse_ideal": [0.3], "basis": ["tanh"],
                          "test_rmse": [0.3]})
    _fake_studies(monkeypatch, table, calls, kwargs)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["study", "naf", "--dataset", "qm9", "--spreads", "0,0.3",
                     "--realizations", "4", "--architecture", "8-4", "--retrain-epochs", "5",
                     "--retrain-lr", "0.01", "--no-retrain", "--base", "sigmoid", "--quiet"]) == 0
    assert cli.main(["study", "bases", "--dataset", "qm9", "--bases", "tanh,bspline",
                     "--repeats", "2", "--noise-level", "0.1", "--draws", "4", "--quiet"]) == 0
    assert kwargs == [
        {"spreads": (0.0, 0.3), "n_realizations": 4, "architecture": (8, 4),
         "retrain_epochs": 5, "retrain_lr": 0.01, "retrain": False, "base": "sigmoid"},
        {"bases": ("tanh", "bspline"), "repeats": 2, "noise_level": 0.1, "n_draws": 4},
    ]


def test_without_options_the_study_gets_only_the_common_arguments(monkeypatch, tmp_path):
    calls, kwargs = [], []
    _fake_studies(monkeypatch, pd.DataFrame({"level": [0.0], "rmse_mean": [0.3]}), calls,
                  kwargs)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["study", "noise", "--dataset", "qm9"]) == 0
    assert kwargs == [{"verbose": 1}]  # every other default is the study function's own


@pytest.mark.parametrize("argv, words", [
    (["study", "noise", "--dataset", "moon"], "invalid choice: 'moon'"),
    (["study", "colour", "--dataset", "qm9"], "invalid choice: 'colour'"),
    (["study", "noise"], "--dataset"),
    (["study", "noise", "--dataset", "qm9", "--seed", "x"], "invalid int value"),
    ([], "required"),
    (["study", "noise", "--dataset", "qm9", "--levels", "0,-0.1"], "'-0.1' in '0,-0.1'"),
    (["study", "noise", "--dataset", "qm9", "--levels", "0,,1"], "comma-separated"),
    (["study", "noise", "--dataset", "qm9", "--draws", "0"], "--draws: '0'"),
    (["study", "noise", "--dataset", "qm9", "--sizes", "8", "--architectures", "8"],
     "exclude each other"),
    (["study", "noise", "--dataset", "qm9", "--depths", "2"], "--depths needs --sizes"),
    (["study", "noise", "--dataset", "qm9", "--n-jobs", "0"], "number of jobs"),
    (["study", "naf", "--dataset", "qm9", "--architecture", "8-x"], "'x' in architecture"),
    (["study", "naf", "--dataset", "qm9", "--retrain-lr", "-1"], "not a number > 0"),
    (["study", "bases", "--dataset", "qm9", "--repeats", "1.5"], "not an integer"),
])
def test_bad_arguments_are_one_line_with_status_2(argv, words, capsys):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err and "--help" in err


def test_missing_data_folder_is_one_line_with_status_2(tmp_path, capsys):
    missing = tmp_path / "no-such-folder"
    status = cli.main(["study", "noise", "--dataset", "perovskites", "--quick",
                       "--out", str(tmp_path / "out"), "--data-home", str(missing)])
    assert status == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("taafs-sk: error:") and str(missing) in err


def test_missing_data_folder_from_environment(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("TAAFS_SK_DATA", str(tmp_path / "gone"))
    assert cli.main(["datasets"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "TAAFS_SK_DATA" in err


def test_debug_shows_the_traceback(tmp_path):
    with pytest.raises(cli.UsageError, match="does not exist"):
        cli.main(["datasets", "--debug", "--data-home", str(tmp_path / "gone")])


def test_data_home_option_does_not_leak(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("TAAFS_SK_DATA", "/somewhere/else")
    cli.main(["datasets", "--data-home", str(tmp_path / "gone")])
    import os

    assert os.environ["TAAFS_SK_DATA"] == "/somewhere/else"


def test_datasets_lists_names_sizes_and_folder(data_home, capsys):
    pytest.importorskip("taafs_sk.datasets")
    assert cli.main(["datasets", "--data-home", str(data_home)]) == 0
    out = capsys.readouterr().out
    assert str(data_home.resolve()) in out
    for name in ("hydrocarbons", "perovskites", "qm9"):
        assert name in out
    assert "63,768" in out  # the QM9 subset's row count


@pytest.mark.parametrize("argv, words", [
    (["study", "bases", "--bases", "tanh,nope"], "bases got 'nope'"),
    (["study", "naf", "--base", "bspline"], "base got 'bspline'"),
    (["study", "noise", "--noise-where", "wires"], "where"),
])
def test_unknown_names_fail_before_training_in_one_line(argv, words, data_home, tmp_path,
                                                        capsys):
    status = cli.main([*argv, "--dataset", "perovskites", "--quick", "--quiet",
                       "--data-home", str(data_home), "--out", str(tmp_path)])
    assert status == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err and err.startswith("taafs-sk: error:")
    assert not list(tmp_path.glob("*.csv"))
