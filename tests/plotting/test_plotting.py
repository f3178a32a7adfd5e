"""taafs_sk.plotting: each plot draws what its table or model holds, under Agg."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import torch
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
    return TAAFSRegressor((8, 6), basis="chebyshev1", n_basis=5, max_epochs=8, early_stopping=False,
                          random_state=0).fit(X, y)


@pytest.fixture(scope="module")
def taafs_neuron(perovskites):
    X, y = perovskites
    return TAAFSRegressor((5,), basis="bspline", sharing="neuron", max_epochs=3,
                          early_stopping=False,
                          random_state=0).fit(X, y)


@pytest.fixture(scope="module")
def aknn(perovskites):
    X, y = perovskites
    return AdditiveKernelNN(n_neurons=6, optimize=False, optimize_weights=0,
                            random_state=0).fit(X[:200, :4], y[:200])


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
    assert ax.get_ylabel() == "test RMSE / noiseless RMSE (ratio)"


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
    assert label == "additive noise at post-activation level (% of signal std)"


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
    assert plot_study("noise_tolerance", noise_table).get_ylabel() == "test RMSE (target units)"
    with pytest.raises(ValueError, match="expected one of"):
        plot_study("nonsense", noise_table)


def test_activations_one_panel_per_layer_matches_the_model(taafs):
    fig = plot_activations(taafs)
    assert len(fig.axes) == 2
    learned = fig.axes[1].lines[0]
    z, values = taafs.activation_functions(1, learned.get_xdata())
    np.testing.assert_allclose(learned.get_ydata(), values[:, 0], rtol=1e-6)


def test_activations_span_the_range_each_layer_saw(taafs, perovskites):
    X, _ = perovskites
    fig = plot_activations(taafs)
    with torch.no_grad():
        zs = taafs.module_.hidden_pre_activations(torch.as_tensor(X, dtype=torch.float32))
    for axis, z in zip(fig.axes, zs, strict=True):
        grid = axis.lines[0].get_xdata()
        assert grid[0] == pytest.approx(float(z.min()), rel=1e-5)
        assert grid[-1] == pytest.approx(float(z.max()), rel=1e-5)
    explicit = plot_activations(taafs, z=np.linspace(-1, 1, 11))
    np.testing.assert_allclose(explicit.axes[0].lines[0].get_xdata(), np.linspace(-1, 1, 11))


def test_activations_draw_the_initial_shape_faded_behind(taafs):
    fig = plot_activations(taafs, layers=0)
    learned, initial = fig.axes[0].lines
    assert initial.get_label() == "initial (tanh)" and learned.get_label() == "learned"
    assert initial.get_alpha() < 1 and initial.get_zorder() < learned.get_zorder()
    # the initial shape is the basis fit of tanh, close to tanh over the range seen
    z = initial.get_xdata()
    np.testing.assert_allclose(initial.get_ydata(), np.tanh(z), atol=0.05)
    assert not np.allclose(learned.get_ydata(), initial.get_ydata(), atol=1e-3)


def test_activations_per_neuron_draws_a_panel_per_neuron(taafs_neuron):
    fig = plot_activations(taafs_neuron, layers=0, max_shapes=3)
    visible = [a for a in fig.axes if a.get_visible()]
    assert len(visible) == 3
    ranges = taafs_neuron.pre_activation_ranges_[0]
    for n, axis in enumerate(visible):
        assert f"neuron {n}" in axis.get_title()
        grid = axis.lines[0].get_xdata()
        np.testing.assert_allclose([grid[0], grid[-1]], ranges[n], rtol=1e-6)
        _, values = taafs_neuron.activation_functions(0, grid)
        np.testing.assert_allclose(axis.lines[0].get_ydata(), values[:, n], rtol=1e-6)


def test_activations_of_a_fixed_activation_draw_it_alone(perovskites):
    X, y = perovskites
    model = TAAFSRegressor((4,), basis="tanh", max_epochs=2, early_stopping=False,
                           random_state=0).fit(X, y)
    (axis,) = plot_activations(model).axes
    assert [line.get_label() for line in axis.lines] == ["tanh (fixed)"]


def test_activations_checks_the_number_of_axes(taafs):
    _, axes = plt.subplots(1, 3)
    with pytest.raises(ValueError, match="3 Axes but 2 layers"):
        plot_activations(taafs, ax=axes)
    with pytest.raises(ValueError, match="layers must be in"):
        plot_activations(taafs, layers=5)


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


# ---------------------------------------------------------------- labels, units, legends
def _labelled(axis, unit_words):
    """Both axis labels present, each naming a unit (in brackets)."""
    for label in (axis.get_xlabel(), axis.get_ylabel()):
        assert label and "(" in label and label.endswith(")"), label
    assert any(word in axis.get_xlabel() + axis.get_ylabel() for word in unit_words)


def _legend_texts(axis):
    legend = axis.get_legend()
    assert legend is not None, axis.get_title()
    return [t.get_text() for t in legend.get_texts()]


def test_noise_plot_has_units_from_the_table_and_a_legend(noise_table):
    table = noise_table.assign(target_unit="eV")
    ax = plot_noise_sweep(table)
    assert ax.get_ylabel() == "test RMSE (eV)"
    assert "% of signal range" in ax.get_xlabel()
    _labelled(ax, ["eV"])
    assert _legend_texts(ax) == ["31-16-1", "31-16-16-1"]
    assert plot_noise_sweep(table, unit="meV").get_ylabel() == "test RMSE (meV)"
    _labelled(plot_noise_sweep(table, relative=True), ["ratio"])


def test_noise_plot_styles_two_hue_columns_apart(noise_table):
    table = pd.concat([noise_table.assign(kind="additive"),
                       noise_table.assign(kind="multiplicative")], ignore_index=True)
    ax = plot_noise_sweep(table)
    assert len(ax.lines) == 4 and len(_legend_texts(ax)) == 4
    styles = {(line.get_color(), line.get_linestyle()) for line in ax.lines}
    assert len(styles) == 4 and len({line.get_color() for line in ax.lines}) == 2


def test_naf_plots_have_units_and_legends():
    table = pd.DataFrame({"spread": [0.0, 0.1, 0.2], "target_unit": "eV",
                          "test_rmse_ideal": 0.3, "test_rmse_degraded": [0.3, 0.6, 0.9],
                          "test_rmse_retrained": [0.3, 0.35, 0.4],
                          "test_rmse_control": 0.29, "recovery": [np.nan, 0.8, 0.9],
                          "recovery_vs_control": [np.nan, 0.7, 0.8]})
    ax = plot_naf_study(table)
    assert ax.get_ylabel() == "test RMSE (eV)" and "%" in ax.get_xlabel()
    _labelled(ax, ["eV"])
    assert _legend_texts(ax) == ["ideal", "degraded", "retrained", "control"]
    rec = plot_naf_study(table, recovery=True)
    _labelled(rec, ["%"])
    assert _legend_texts(rec) == ["against the ideal model", "against the control",
                                  "full recovery"]


def test_basis_plots_have_units_and_a_legend_for_the_colours():
    table = pd.DataFrame({"basis": ["tanh", "bspline"], "test_rmse": [0.4, 0.3],
                          "fit_time_s": [1.0, 2.0], "noise_ratio": [1.1, 1.2], "noise_level": 0.1,
                          "target_unit": "eV"})
    ax = plot_basis_comparison(table)
    assert ax.get_xlabel() == "test RMSE (eV)"
    assert _legend_texts(ax) == ["trainable basis", "fixed activation"]
    assert plot_basis_comparison(table, metric="fit_time_s").get_xlabel() == "fit time (s)"
    assert plot_basis_comparison(table, metric="noise_ratio").get_xlabel() == (
        "noisy / noiseless test RMSE at 10% noise (ratio)")


def test_activation_plots_have_units_and_legends(taafs, taafs_neuron):
    for fig in (plot_activations(taafs), plot_activations(taafs_neuron)):
        for axis in (a for a in fig.axes if a.get_visible()):
            _labelled(axis, ["network units"])
            assert _legend_texts(axis) == ["learned", "initial (tanh)"]


def test_neuron_activation_plot_has_units(aknn):
    ax = plot_neuron_activations(aknn, unit="eV")
    _labelled(ax, ["eV"])
    assert ax.figure.axes[1].get_ylabel() == "neuron importance (eV)"  # the colour legend
