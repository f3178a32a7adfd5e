"""Dispersion-aware training, chip evaluation, and the argument checks of taafs_sk.analog."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.neural_network import MLPRegressor
from sklearn.utils import get_tags

from taafs_sk import TAAFSRegressor
from taafs_sk.additive import AdditiveKernelNN
from taafs_sk.analog import (
    DispersionAwareRegressor,
    HardwareNAFRegressor,
    MeasuredNAF,
    NAFDispersion,
    NoiseInjectedRegressor,
    NoiseModel,
    as_torch_model,
    disperse_network,
    evaluate_on_chips,
    noise_sweep,
    realize_network,
    retrain_weights,
    summarize_chips,
    train_dispersion_aware,
)
from taafs_sk.analog.hardware import recovery_table
from taafs_sk.analog.shapes import RandomShapes

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _data(n, seed):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 3))
    return X, np.tanh(X).sum(1) + 0.3 * X[:, 0] * X[:, 1]


@pytest.fixture(scope="module")
def toy():
    return (*_data(400, 0), *_data(200, 1))


@pytest.fixture(scope="module")
def mlp(toy):
    X, y = toy[:2]
    return MLPRegressor(hidden_layer_sizes=(32,), activation="tanh", max_iter=400,
                        random_state=0).fit(X, y)


@pytest.fixture(scope="module")
def aware(toy):
    X, y = toy[:2]
    est = MLPRegressor(hidden_layer_sizes=(32,), activation="tanh", max_iter=400,
                       random_state=0)
    return DispersionAwareRegressor(est, NAFDispersion("tanh", 0.1), train_epochs=40,
                                    train_batch_size=32, random_state=0).fit(X, y)


# -------------------------------------------------------------- training-time shapes
def test_random_shapes_fresh_per_batch_nominal_in_eval():
    gen = torch.Generator().manual_seed(0)
    layer = RandomShapes(torch.nn.Tanh(), NAFDispersion("tanh", 0.1), 6,
                         torch.full((6,), 2.0), gen)
    z = torch.linspace(-2, 2, 24).reshape(4, 6)
    layer.train()
    a, b = layer(z), layer(z)
    assert not torch.allclose(a, b)  # a new realisation per call
    layer.eval()
    torch.testing.assert_close(layer(z), torch.tanh(z), rtol=0, atol=0)


def test_random_shapes_per_epoch_holds_until_resample():
    gen = torch.Generator().manual_seed(0)
    layer = RandomShapes(torch.nn.Tanh(), NAFDispersion("tanh", 0.1), 6,
                         torch.full((6,), 2.0), gen, per_batch=False).train()
    z = torch.randn(5, 6, generator=torch.Generator().manual_seed(1))
    a = layer(z)
    torch.testing.assert_close(layer(z), a, rtol=0, atol=0)
    layer.resample()
    assert not torch.allclose(layer(z), a)


def test_random_shapes_draw_the_dispersion_distribution():
    # one tensor draw for all neurons: the realised parameters have the NAFDispersion law
    n = 20000
    gen = torch.Generator().manual_seed(0)
    layer = RandomShapes(torch.nn.Identity(), NAFDispersion("tanh", 0.1), n,
                         torch.full((n,), 2.0), gen, dtype=torch.float64)
    shaped = layer.current
    for values, mean, std in ((shaped.gain, 1, 0.1), (shaped.shift, 0, 0.1),
                              (shaped.scale, 1, 0.1), (shaped.offset, 0, 0.2)):
        assert abs(values.mean().item() - mean) < 5 * std / np.sqrt(n)
        assert abs(values.std().item() - std) < 5 * std / np.sqrt(2 * n)


def test_random_shapes_from_a_measured_pool():
    x = np.linspace(-3, 3, 25)
    pool = MeasuredNAF(x, np.stack([np.tanh(x), np.tanh(1.3 * x), 0.9 * np.tanh(x)]))
    layer = RandomShapes(torch.nn.Tanh(), pool, 40, None, torch.Generator().manual_seed(0),
                         dtype=torch.float64).train()
    z = torch.zeros(2, 40, dtype=torch.float64) + 1.0
    out = layer(z)[0]
    candidates = torch.tensor([np.tanh(1.0), np.tanh(1.3), 0.9 * np.tanh(1.0)])
    dist = (out[:, None] - candidates[None]).abs().min(1).values
    assert dist.max() < 1e-3  # every neuron runs one of the pool's curves
    assert len(torch.unique(out.round(decimals=4))) > 1


# ---------------------------------------------------------------------- the wrapper
def test_zero_spread_aware_training_is_the_control(toy):
    # same epochs, same minibatches, no dispersion: the two runs must coincide
    X, y = toy[:2]
    est = TAAFSRegressor((8,), basis="tanh", max_epochs=20, random_state=0)
    aware = DispersionAwareRegressor(est, NAFDispersion("tanh", 0.0), train_epochs=5,
                                     random_state=0).fit(X, y)
    np.testing.assert_allclose(aware.predict(X), aware.control_.predict(X), atol=1e-6)
    assert not np.allclose(aware.predict(X), aware.ideal_.predict(X), atol=1e-6)


def test_aware_weights_beat_ideal_weights_on_unseen_chips(aware, toy):
    table = evaluate_on_chips(aware, *toy[:2], *toy[2:], n_chips=32, n_retrain=2,
                              retrain_epochs=20)
    s = summarize_chips(table)
    assert s.loc["aware", "mean"] < s.loc["degraded", "mean"]
    assert s.loc["aware", "mean"] < s.loc["control_chip", "mean"]
    assert s.loc["retrained", "mean"] < s.loc["degraded", "mean"]
    assert s.loc["degraded", "n_chips"] == 32 and s.loc["retrained", "n_chips"] == 2
    assert np.isclose(s.loc["ideal", "ratio_to_ideal"], 1.0)


def test_chips_are_reproducible_and_distinct(aware, toy):
    X, y, Xt, yt = toy
    a = evaluate_on_chips(aware, X, y, Xt, yt, n_chips=4, n_retrain=0)
    b = evaluate_on_chips(aware, X, y, Xt, yt, n_chips=4, n_retrain=0)
    assert a.equals(b)
    degraded = a[a.model == "degraded"]
    assert degraded.chip_seed.nunique() == 4 and degraded.test_rmse.nunique() == 4
    c = evaluate_on_chips(aware, X, y, Xt, yt, n_chips=4, n_retrain=0, chip_seed=1)
    assert not set(c.chip_seed) & set(a.chip_seed)


def test_chip_equals_realize_network_for_named_base(aware, toy):
    X = toy[0]
    chip = aware.chip(7, model="ideal")
    old = realize_network(as_torch_model(aware.ideal_), aware.nafs, random_state=7)
    np.testing.assert_allclose(chip.predict(X), old.predict(X), rtol=0, atol=0)


@pytest.mark.parametrize("resample", ["batch", "epoch"])
def test_trainable_taaf_with_own_shapes(toy, resample):
    X, y = toy[:2]
    est = TAAFSRegressor((8,), basis="legendre", n_basis=6, max_epochs=15, random_state=0)
    aware = DispersionAwareRegressor(est, NAFDispersion(None, 0.1), train_epochs=3,
                                     resample=resample, random_state=0).fit(X, y)
    assert len(aware.spans_) == 1 and aware.spans_[0].shape == (8,)
    before = [p.clone() for p in aware.ideal_model_.mlp.activations[0].parameters()]
    after = list(aware.model_.mlp.activations[0].parameters())
    assert any(not torch.equal(a, b) for a, b in zip(before, after, strict=True))
    assert np.isfinite(aware.chip(0).predict(X)).all()


def test_named_base_mismatch_is_refused(toy):
    X, y = toy[:2]
    with pytest.raises(ValueError, match="base=None"):
        DispersionAwareRegressor(TAAFSRegressor((4,), basis="legendre", max_epochs=2),
                                 NAFDispersion("tanh", 0.1)).fit(X, y)
    with pytest.raises(ValueError, match="AdditiveKernelNN"):
        HardwareNAFRegressor(AdditiveKernelNN(n_neurons=3), NAFDispersion("sigmoid", 0.0),
                             retrain=False, control=False).fit(X, y)
    model = as_torch_model(TAAFSRegressor((4,), basis="sigmoid", max_epochs=2).fit(X, y))
    with pytest.raises(ValueError, match="not the NAFs' nominal base"):
        train_dispersion_aware(model, X, y, NAFDispersion("tanh", 0.1), epochs=1)


def test_additive_kernel_nn_spread_zero_reproduces_ideal(toy):
    X, y = toy[:2]
    akn = AdditiveKernelNN(n_neurons=4, n_restarts_optimizer=0, random_state=0)
    hw = HardwareNAFRegressor(akn, NAFDispersion(None, spread=0.0), retrain=False,
                              control=False).fit(X, y)
    np.testing.assert_allclose(hw.predict(X), hw.ideal_.predict(X), rtol=0, atol=1e-6)
    hw10 = HardwareNAFRegressor(akn, NAFDispersion(None, spread=0.1), retrain=False,
                                control=False, random_state=0).fit(X, y)
    assert np.abs(hw10.predict(X) - hw10.ideal_.predict(X)).max() > 1e-3


def test_measured_pool_and_noise_train(toy):
    X, y = toy[:2]
    x = np.linspace(-4, 4, 33)
    pool = MeasuredNAF(x, np.stack([np.tanh(g * x) for g in (0.9, 1.0, 1.1)]),
                       assignment="sample")
    est = MLPRegressor(hidden_layer_sizes=(8,), activation="tanh", max_iter=100,
                       random_state=0)
    aware = DispersionAwareRegressor(est, pool, noise=NoiseModel(0.05), train_epochs=2,
                                     control=False, random_state=0).fit(X, y)
    assert aware.control_ is None and len(aware.train_loss_curve_) == 2
    assert np.isfinite(aware.chip(3).predict(X)).all()
    fixed = MeasuredNAF(x, np.stack([np.tanh(x)] * 8))  # assignment='per_neuron'
    with pytest.raises(ValueError, match="assignment='per_neuron'"):
        train_dispersion_aware(as_torch_model(aware.ideal_).copy(), X, y, fixed, epochs=1)


def test_multi_output_tag_follows_the_inner_estimator():
    for est in (MLPRegressor(), TAAFSRegressor()):
        inner = get_tags(est).target_tags.multi_output
        for wrapper in (HardwareNAFRegressor(est, NAFDispersion()),
                        DispersionAwareRegressor(est, NAFDispersion())):
            assert get_tags(wrapper).target_tags.multi_output == inner


# ---------------------------------------------------------------- argument checks
def test_recovery_is_nan_when_little_was_lost():
    assert np.isnan(recovery_table(0.200, 0.201, 0.190)["recovery"])
    assert np.isnan(recovery_table(0.200, 0.190, 0.180)["recovery"])
    assert recovery_table(0.2, 0.3, 0.22)["recovery"] == pytest.approx(0.8)


@pytest.mark.parametrize("spread", [float("nan"), float("inf"), -0.1])
def test_bad_spread(spread):
    with pytest.raises(ValueError, match=r"NAFDispersion: spread must be"):
        NAFDispersion("tanh", spread=spread).realize(4)


@pytest.mark.parametrize("n", [0, -2])
def test_bad_neuron_count(n):
    with pytest.raises(ValueError, match=rf"n_neurons must be an integer >= 1, got {n}"):
        NAFDispersion("tanh").realize(n)
    with pytest.raises(ValueError, match="n_neurons"):
        MeasuredNAF([0.0, 1.0], [[0.0, 1.0]], assignment="sample").realize(n)


def test_measured_naf_bad_curves():
    x = np.linspace(-1, 1, 5)
    with pytest.raises(ValueError, match="strictly increasing.*after index"):
        MeasuredNAF(x[::-1], np.tanh(x)[None]).realize(1)
    with pytest.raises(ValueError, match="x contains non-finite"):
        MeasuredNAF(np.r_[x[:4], np.nan], np.tanh(x)[None]).realize(1)
    with pytest.raises(ValueError, match=r"curves contain non-finite.*\(0, 2\)"):
        MeasuredNAF(x, np.where(x == 0, np.nan, x)[None]).realize(1)


@pytest.mark.parametrize("levels", [[], [0.1, -0.05], [0.1, float("nan")]])
def test_noise_sweep_bad_levels(mlp, toy, levels):
    with pytest.raises(ValueError, match="noise_sweep: levels"):
        noise_sweep(mlp, *toy[2:], levels=levels)


def test_draw_counts_must_be_positive(mlp, toy):
    with pytest.raises(ValueError, match="n_draws must be an integer >= 1, got 0"):
        noise_sweep(mlp, *toy[2:], levels=[0.1], n_draws=0)
    noisy = NoiseInjectedRegressor(mlp, NoiseModel(0.05), random_state=0).fit(*toy[:2])
    with pytest.raises(ValueError, match="n_draws must be an integer >= 1, got 0"):
        noisy.predict_draws(toy[2], n_draws=0)
    with pytest.raises(TypeError, match="n_draws"):
        noisy.predict_draws(toy[2], n_draws=2.5)
    with pytest.raises(ValueError, match="evaluate_on_chips: n_chips must be an integer >= 1"):
        evaluate_on_chips(_fitted_aware(mlp, toy), *toy[:2], *toy[2:], n_chips=0)


def _fitted_aware(mlp, toy):
    return DispersionAwareRegressor(mlp, NAFDispersion("tanh", 0.1), train_epochs=1,
                                    control=False, random_state=0).fit(*toy[:2])


def test_estimator_where_a_torch_model_is_expected(mlp, toy):
    for func in (lambda: realize_network(mlp, NAFDispersion("tanh")),
                 lambda: retrain_weights(mlp, *toy[:2], epochs=1),
                 lambda: disperse_network(mlp, NAFDispersion("tanh")),
                 lambda: train_dispersion_aware(mlp, *toy[:2], NAFDispersion("tanh"))):
        with pytest.raises(TypeError, match=r"model must be a TorchModel \(an estimator: "
                                            r"pass taafs_sk.analog.as_torch_model"):
            func()


def test_base_none_needs_training_inputs(mlp):
    with pytest.raises(ValueError, match="pass X"):
        disperse_network(as_torch_model(mlp), NAFDispersion(None, 0.1))
    with pytest.raises(ValueError, match="disperse_network"):
        NAFDispersion(None, 0.1).realize(4)


def test_chip_study_and_its_plot(toy):
    import matplotlib

    matplotlib.use("Agg")
    from taafs_sk.plotting import plot_chip_study, plot_study
    from taafs_sk.studies import chip_study

    split = (toy[0], toy[2], toy[1], toy[3])  # (X_train, X_test, y_train, y_test)
    table = chip_study(split, architecture=(8,), quick=True)
    assert list(table.columns[:2]) == ["dataset", "target_unit"]
    assert table[table.model == "degraded"].chip.nunique() == 8  # quick: 8 chips
    assert (table.model == "retrained").sum() == 1
    small = chip_study(split, architecture=(4,), quick=True, n_chips=3, n_retrain=0)
    assert small[small.model == "aware"].chip.nunique() == 3
    assert "retrained" not in set(small.model)
    assert plot_chip_study(table, relative=True).get_ylabel() == "test RMSE / ideal"
    assert plot_study("chips", table) is not None
    with pytest.raises(ValueError, match="n_retrain must be an integer in"):
        chip_study(split, n_chips=2, n_retrain=3)
