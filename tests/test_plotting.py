"""taafs_sk.plotting: each plot draws what its table or model holds, under Agg."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.image import imread

from taafs_sk import TAAFSRegressor
from taafs_sk.additive.estimator import AdditiveKernelNN
from taafs_sk.plotting import (
    plot_activations,
    plot_basis_comparison,
    plot_naf_study,
    plot_neuron_activations,
    plot_noise_sweep,
    plot_study,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def perovskites(data_home):
    raw = np.loadtxt(data_home / "manzhos-double-perovskites" / "perovskite_ML_data.dat")
    X = raw[:, :31]
    return (X - X.mean(0)) / X.std(0), raw[:, 31]


@pytest.fixture(scope="module")
def taafs(perovskites):
    X, y = perovskites
    return TAAFSRegressor((8, 6), basis="chebyshev1", n_basis=5, max_epochs=8,
                          random_state=0).fit(X, y)


@pytest.fixture(scope="module")
def taafs_neuron(perovskites):
    X, y = perovskites
    return TAAFSRegressor((5,), basis="bspline", sharing="neuron", max_epochs=3,
                          random_state=0).fit(X, y)


@pytest.fixture(scope="module")
def aknn(perovskites):
    X, y = perovskites
    return AdditiveKernelNN(n_neurons=6, optimize=False, random_state=0).fit(X[:200, :4], y[:200])


@pytest.fixture
def noise_table():
    rng = np.random.RandomState(0)
    rows = []
    for arch, slope in [("31-16-1", 4.0), ("31-16-16-1", 6.0)]:
        for level in [0.0, 0.02, 0.05, 0.1]:
            mean = 0.3 + slope * level ** 2 + 0.01 * rng.rand()
            rows.append(dict(architecture=arch, level=level, rmse_mean=mean,
                             rmse_std=0.1 * mean, rmse_p5=0.9 * mean, rmse_p95=1.2 * mean))
    return pd.DataFrame(rows)


def _png_pixels(fig, path):
    fig.savefig(path, dpi=60)
    image = imread(path)
    return image


def test_noise_sweep_draws_one_line_and_band_per_architecture(noise_table):
    ax = plot_noise_sweep(noise_table)
    assert [line.get_label() for line in ax.lines] == ["31-16-1", "31-16-16-1"]
    assert sum(isinstance(c, PolyCollection) for c in ax.collections) == 2
    np.testing.assert_allclose(ax.lines[1].get_ydata(),
                               noise_table.query("architecture == '31-16-16-1'")["rmse_mean"])


def test_noise_sweep_relative_starts_at_one(noise_table):
    ax = plot_noise_sweep(noise_table, relative=True)
    assert [line.get_ydata()[0] for line in ax.lines] == pytest.approx([1.0, 1.0])
    assert ax.get_ylabel() == "test RMSE / noiseless RMSE"


def test_noise_sweep_names_missing_column(noise_table):
    with pytest.raises(ValueError, match="rmse_mean"):
        plot_noise_sweep(noise_table.drop(columns="rmse_mean"))


@pytest.mark.parametrize("layout", ["wide", "long"])
def test_naf_study_draws_the_four_stages(layout):
    spreads = [0.05, 0.1, 0.2]
    wide = pd.DataFrame({"spread": spreads * 2, "repeat": [0] * 3 + [1] * 3,
                         "rmse_ideal": 0.3, "rmse_degraded": [0.5, 0.8, 1.2, 0.6, 0.9, 1.4],
                         "rmse_retrained": 0.35, "rmse_control": 0.29})
    table = wide
    if layout == "long":
        table = wide.melt(id_vars=["spread", "repeat"], var_name="stage", value_name="rmse")
        table["stage"] = table["stage"].str.removeprefix("rmse_")
    ax = plot_naf_study(table)
    labels = [line.get_label() for line in ax.lines]
    assert labels == ["ideal", "degraded", "retrained", "control"]
    # the degraded line is the mean over the two repeats
    np.testing.assert_allclose(ax.lines[1].get_ydata(), [0.55, 0.85, 1.3])


def test_naf_recovery_skips_zero_spread_and_averages_draws():
    table = pd.DataFrame({"spread": [0.0, 0.1, 0.1, 0.2, 0.2],
                          "recovery": [np.nan, 0.8, 1.0, 0.6, 0.7],
                          "recovery_vs_control": [np.nan, 0.5, 0.7, 0.3, 0.4]})
    ax = plot_naf_study(table, recovery=True)
    recovery, versus_control = ax.lines[:2]
    np.testing.assert_allclose(recovery.get_xdata(), [0.1, 0.2])
    np.testing.assert_allclose(recovery.get_ydata(), [0.9, 0.65])
    np.testing.assert_allclose(versus_control.get_ydata(), [0.6, 0.35])


def test_noise_sweep_names_the_noise_in_the_axis_label(noise_table):
    table = noise_table.assign(kind="additive", where="post_activation", scale="std")
    label = plot_noise_sweep(table).get_xlabel()
    assert label == "additive noise at post-activation level (relative to signal std)"


def test_naf_study_rejects_a_table_without_stages():
    with pytest.raises(ValueError, match="stage"):
        plot_naf_study(pd.DataFrame({"spread": [0.1], "rmse": [0.3]}))


def test_basis_comparison_sorts_best_on_top_with_error_bars():
    table = pd.DataFrame({"basis": ["tanh"] * 3 + ["hermite"] * 3 + ["bspline"] * 3,
                          "test_rmse": [0.40, 0.44, 0.42, 0.30, 0.34, 0.32, 0.36, 0.36, 0.36]})
    ax = plot_basis_comparison(table)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["tanh", "bspline", "hermite"]  # bottom to top
    widths = [patch.get_width() for patch in ax.patches]
    assert widths == pytest.approx([0.42, 0.36, 0.32])
    # the fixed activation is grey, the trainable ones are not
    assert ax.patches[0].get_facecolor() != ax.patches[2].get_facecolor()


def test_plot_study_dispatches_and_rejects_unknown_kind(noise_table):
    assert plot_study("noise_tolerance", noise_table).get_ylabel() == "test RMSE"
    with pytest.raises(ValueError, match="expected one of"):
        plot_study("nonsense", noise_table)


def test_activations_one_panel_per_layer_matches_the_model(taafs):
    fig = plot_activations(taafs)
    assert len(fig.axes) == 2
    z, values = taafs.activation_functions(1)
    learned = fig.axes[1].lines[1]  # lines[0] is the identity reference
    np.testing.assert_allclose(learned.get_xdata(), z)
    np.testing.assert_allclose(learned.get_ydata(), values[:, 0])


def test_activations_per_neuron_draws_each_neuron(taafs_neuron):
    fig = plot_activations(taafs_neuron, layers=0, max_shapes=3)
    assert len(fig.axes[0].lines) == 1 + 3
    assert "3 of 5 neurons" in fig.axes[0].get_title()


def test_activations_checks_the_number_of_axes(taafs):
    _, axes = plt.subplots(1, 3)
    with pytest.raises(ValueError, match="3 Axes but 2 layers"):
        plot_activations(taafs, ax=axes)


def test_neuron_activations_ordered_by_importance(aknn):
    ax = plot_neuron_activations(aknn)
    n = len(aknn.activation_functions_)
    assert len(ax.lines) == n
    top = int(np.argmax(aknn.neuron_importance_))
    z = ax.lines[-1].get_xdata()
    np.testing.assert_allclose(ax.lines[-1].get_ydata(), aknn.activation_functions_[top](z))
    assert len(ax.figure.axes) == 2  # the plot and its importance colour bar


def test_plots_render_to_non_blank_png(tmp_path, taafs, noise_table):
    for i, fig in enumerate([plot_activations(taafs), plot_noise_sweep(noise_table).figure]):
        image = _png_pixels(fig, tmp_path / f"plot{i}.png")
        assert image.shape[0] > 100 and image.shape[1] > 100
        assert image[..., :3].std() > 0.05
