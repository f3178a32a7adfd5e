"""Bad-input cases of the plotting functions, the data loaders and the studies."""

from __future__ import annotations

from .common import (
    NAN,
    UNFITTED,
    Case,
    akn_fitted,
    lazy,
    taafs_fitted,
    table,
    toy,
)


def plotting_cases() -> list[Case]:
    p = "taafs_sk.plotting."
    noise = table(level=[0.0, 0.1], rmse_mean=[0.1, 0.2])
    return [
        Case("plot_activations", "unfitted",
             lambda: lazy(p + "plot_activations")(lazy("taafs_sk.TAAFSRegressor")()),
             "model", "not fitted", UNFITTED),
        Case("plot_activations", "additive-model",
             lambda: lazy(p + "plot_activations")(akn_fitted()), "model", "AdditiveKernelNN"),
        Case("plot_activations", "string", lambda: lazy(p + "plot_activations")("model"),
             "model", "'model'"),
        Case("plot_activations", "zero-max_shapes",
             lambda: lazy(p + "plot_activations")(taafs_fitted(), max_shapes=0), "max_shapes",
             "0"),
        Case("plot_activations", "nan-z",
             lambda: lazy(p + "plot_activations")(taafs_fitted(), z=[0.0, NAN]), "z", "nan"),
        Case("plot_neuron_activations", "unfitted",
             lambda: lazy(p + "plot_neuron_activations")(lazy("taafs_sk.AdditiveKernelNN")()),
             "model", "not fitted", UNFITTED),
        Case("plot_neuron_activations", "taafs-model",
             lambda: lazy(p + "plot_neuron_activations")(taafs_fitted()), "model",
             "TAAFSRegressor"),
        Case("plot_neuron_activations", "ridge",
             lambda: lazy(p + "plot_neuron_activations")(
                 __import__("sklearn.linear_model").linear_model.Ridge().fit(*toy())),
             "model", "Ridge"),
        Case("plot_neuron_activations", "one-point",
             lambda: lazy(p + "plot_neuron_activations")(akn_fitted(), n_points=1),
             "n_points", "1"),
        Case("plot_neuron_activations", "unknown-cmap",
             lambda: lazy(p + "plot_neuron_activations")(akn_fitted(), cmap="nope"), "cmap",
             "nope"),
        Case("plot_noise_sweep", "not-a-table", lambda: lazy(p + "plot_noise_sweep")([1, 2]),
             "df", "[1, 2]"),
        Case("plot_noise_sweep", "empty", lambda: lazy(p + "plot_noise_sweep")(noise.iloc[:0]),
             "df", "empty"),
        Case("plot_noise_sweep", "missing-column",
             lambda: lazy(p + "plot_noise_sweep")(noise.drop(columns="level")), "level"),
        Case("plot_naf_study", "not-a-table", lambda: lazy(p + "plot_naf_study")("table"),
             "df", "table"),
        Case("plot_naf_study", "empty", lambda: lazy(p + "plot_naf_study")(table(spread=[])),
             "df", "empty"),
        Case("plot_basis_comparison", "not-a-table",
             lambda: lazy(p + "plot_basis_comparison")(None), "df", "None"),
        Case("plot_basis_comparison", "empty",
             lambda: lazy(p + "plot_basis_comparison")(table(basis=[], test_rmse=[])), "df",
             "empty"),
        Case("plot_chip_study", "not-a-table", lambda: lazy(p + "plot_chip_study")({"a": 1}),
             "df", "{'a': 1}"),
        Case("plot_chip_study", "empty",
             lambda: lazy(p + "plot_chip_study")(table(model=[], rmse=[])), "df", "empty"),
        Case("plot_study", "unknown-kind", lambda: lazy(p + "plot_study")("nope", noise),
             "kind", "nope"),
        Case("plot_study", "kind-list", lambda: lazy(p + "plot_study")(["noise"], noise),
             "kind", "['noise']"),
    ]


def dataset_cases(tmp_home: str) -> list[Case]:
    d = "taafs_sk.datasets."
    return [
        Case("load_hydrocarbons", "unknown-level",
             lambda: lazy(d + "load_hydrocarbons")("b3lyp"), "level", "b3lyp"),
        Case("load_hydrocarbons", "unknown-unit",
             lambda: lazy(d + "load_hydrocarbons")(energy_unit="kcal"), "energy_unit", "kcal"),
        Case("load_hydrocarbons", "level-list",
             lambda: lazy(d + "load_hydrocarbons")(["xtb"]), "level", "['xtb']"),
        Case("load_hydrocarbons", "data_home-int",
             lambda: lazy(d + "load_hydrocarbons")(data_home=3), "data_home", "3"),
        Case("load_double_perovskites", "unknown-source",
             lambda: lazy(d + "load_double_perovskites")("nope"), "source", "nope"),
        Case("load_double_perovskites", "unknown-target",
             lambda: lazy(d + "load_double_perovskites")(target="gap"), "target", "gap"),
        Case("load_qm9", "zero-samples", lambda: lazy(d + "load_qm9")(n_samples=0),
             "n_samples", "0"),
        Case("load_qm9", "negative-samples", lambda: lazy(d + "load_qm9")(n_samples=-5),
             "n_samples", "-5"),
        Case("load_qm9", "float-samples", lambda: lazy(d + "load_qm9")(n_samples=2.5),
             "n_samples", "2.5"),
        Case("load_qm9", "unknown-target", lambda: lazy(d + "load_qm9")("homo_lumo"),
             "target", "homo_lumo"),
        Case("get_data_home", "int", lambda: lazy(d + "get_data_home")(3), "data_home", "3"),
        Case("list_datasets", "int", lambda: lazy(d + "list_datasets")(3.5), "data_home",
             "3.5"),
        Case("load_element_lumo", "data_home-int",
             lambda: lazy(d + "load_element_lumo")(data_home=3), "data_home", "3"),
    ]


def study_cases() -> list[Case]:
    s = "taafs_sk.studies."
    data = toy()
    return [
        Case("load_study_data", "unknown", lambda: lazy(s + "load_study_data")("nope"),
             "name", "nope"),
        Case("noise_tolerance", "unknown-dataset",
             lambda: lazy(s + "noise_tolerance")("nope"), "dataset", "nope"),
        Case("noise_tolerance", "empty-levels",
             lambda: lazy(s + "noise_tolerance")(data, levels=[]), "levels", "[]"),
        Case("noise_tolerance", "negative-level",
             lambda: lazy(s + "noise_tolerance")(data, levels=[0.0, -0.1]), "levels", "-0.1"),
        Case("noise_tolerance", "nan-level",
             lambda: lazy(s + "noise_tolerance")(data, levels=[NAN]), "levels", "nan"),
        Case("noise_tolerance", "zero-draws",
             lambda: lazy(s + "noise_tolerance")(data, n_draws=0), "n_draws", "0"),
        Case("naf_inhomogeneity", "empty-spreads",
             lambda: lazy(s + "naf_inhomogeneity")(data, spreads=[]), "spreads", "[]"),
        Case("naf_inhomogeneity", "negative-spread",
             lambda: lazy(s + "naf_inhomogeneity")(data, spreads=[-0.1]), "spreads", "-0.1"),
        Case("naf_inhomogeneity", "zero-realizations",
             lambda: lazy(s + "naf_inhomogeneity")(data, n_realizations=0), "n_realizations",
             "0"),
        Case("basis_comparison", "zero-repeats",
             lambda: lazy(s + "basis_comparison")(data, repeats=0), "repeats", "0"),
        Case("basis_comparison", "nan-noise",
             lambda: lazy(s + "basis_comparison")(data, noise_level=NAN), "noise_level", "nan"),
        Case("basis_comparison", "zero-draws",
             lambda: lazy(s + "basis_comparison")(data, n_draws=0), "n_draws", "0"),
        Case("basis_comparison", "empty-bases",
             lambda: lazy(s + "basis_comparison")(data, bases=[]), "bases", "[]"),
    ]
