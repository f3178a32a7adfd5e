"""RLEKF: the Kalman filter itself (taafs_sk.nn.rlekf) and its use through TAAFSRegressor."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from skorch.callbacks import Callback

from taafs_sk import TAAFSRegressor
from taafs_sk.nn import MLP, TAAF, make_activation_factory
from taafs_sk.nn.rlekf import RLEKF, SYMMETRIZE_EVERY, block_sizes, covariance_bytes
from taafs_sk.taafs._rlekf_net import RLEKFNet
from taafs_sk.taafs.net import TrainingNet
from taafs_sk.taafs.training import build_net


def _data(n=240, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.uniform(-1, 1, size=(n, 3))
    y = np.sin(3 * X[:, 0]) + X[:, 1] ** 2 - 0.5 * X[:, 2]
    return X, y


def _small(**kw):
    params = dict(basis="chebyshev1", n_basis=4, max_epochs=8, batch_size=16,
                  optimizer="rlekf", random_state=0)
    return TAAFSRegressor((8,), **{**params, **kw})


@pytest.fixture(scope="module")
def fitted():
    X, y = _data()
    return _small(early_stopping=False).fit(X, y), X, y


# ------------------------------------------------------------------ the block layout
@pytest.mark.parametrize("sizes, n_b", [
    ([30, 5, 100, 8, 1], 40), ([7], 7), ([1] * 50, 8), ([5121, 3, 10240], 5120), ([9, 9], 10),
])
def test_block_sizes_partition_every_element_once(sizes, n_b):
    blocks = block_sizes(sizes, n_b)
    assert sum(blocks) == sum(sizes) and max(blocks) <= n_b and min(blocks) >= 1
    # a block boundary falls inside a tensor only where that tensor is bigger than N_b
    edges = set(np.cumsum(blocks)[:-1])
    starts, stops = np.cumsum([0, *sizes[:-1]]), np.cumsum(sizes)
    for start, stop, n in zip(starts, stops, sizes, strict=True):
        inner = [e for e in edges if start < e < stop]
        assert not inner if n <= n_b else len(inner) >= n // n_b - (n % n_b == 0)
    # gathering: two consecutive blocks could never have been merged
    assert all(a + b > n_b for a, b in zip(blocks[:-1], blocks[1:], strict=True))


def test_blocks_cover_every_trainable_parameter_of_a_taaf_network_once():
    torch.manual_seed(0)
    factory = make_activation_factory("bspline", n_basis=6, sharing="layer")
    mlp = MLP(5, (40, 30), 1, factory)
    mlp.hidden[0].bias.requires_grad_(False)  # frozen: not part of the state
    opt = RLEKF(mlp.parameters(), block_size=200)
    trainable = [p for p in mlp.parameters() if p.requires_grad]
    taaf_params = {id(p) for m in mlp.modules() if isinstance(m, TAAF) for p in m.parameters()}
    assert taaf_params and taaf_params <= {id(p) for p in opt._params}
    assert [id(p) for p in opt._params] == [id(p) for p in trainable]
    assert sum(opt.sizes) == sum(p.numel() for p in trainable) and max(opt.sizes) <= 200
    assert [tuple(P.shape) for P in opt.P] == [(n, n) for n in opt.sizes]
    # every element's flat index lands in exactly one block
    owners = np.repeat(np.arange(len(opt.sizes)), opt.sizes)
    assert len(owners) == sum(p.numel() for p in trainable)


def test_memory_budget_is_refused_with_its_name():
    assert covariance_bytes([10, 20]) == 500 * 4
    big = torch.nn.Linear(600, 600)  # 360,600 weights
    with pytest.raises(ValueError, match="max_memory_mb=1"):
        RLEKF(big.parameters(), block_size=5120, max_memory_mb=1)


@pytest.mark.parametrize("kwargs, match", [
    ({"lambda1": 1.5}, "lambda1"), ({"nu": 0.0}, "nu"), ({"block_size": 0}, "block_size"),
    ({"p0": -1.0}, "p0"), ({"weight_decay": 0.1}, "weight_decay"), ({"noise": 0.0}, "noise"),
])
def test_bad_options_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        RLEKF(torch.nn.Linear(2, 1).parameters(), **kwargs)


def test_step_without_errors_is_refused():
    opt = RLEKF(torch.nn.Linear(2, 1).parameters())
    with pytest.raises(TypeError, match="measure"):
        opt.step()


# ------------------------------------------------------------------ the filter
def test_linear_model_with_lambda_one_is_recursive_least_squares():
    """One pass, one measurement at a time, lambda = 1: the exact (ridge-by-1/p0) solution."""
    rng = np.random.RandomState(1)
    X = rng.normal(size=(200, 4))
    y = X @ [0.5, -1.0, 2.0, 0.1] + 0.7 + 0.3 * rng.normal(size=200)  # noisy: not interpolated
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 1).double()
    theta0 = torch.cat([model.weight.detach().ravel(), model.bias.detach()]).numpy()
    p0 = 1e6
    opt = RLEKF(model.parameters(), lambda1=1.0, p0=p0, noise=1.0, block_size=3)
    assert opt.sizes == [3, 2]  # split across blocks: the recursion is exact only per block...
    opt = RLEKF(model.parameters(), lambda1=1.0, p0=p0, noise=1.0)  # ...so one block here
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    for x_i, y_i in zip(Xt, yt, strict=True):
        opt.measure(model(x_i)[0], y_i)
    theta = torch.cat([model.weight.detach().ravel(), model.bias.detach()]).numpy()
    A = np.c_[X, np.ones(len(X))]
    exact = np.linalg.solve(A.T @ A + np.eye(5) / p0, A.T @ y + theta0 / p0)
    np.testing.assert_allclose(theta, exact, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(theta, np.linalg.lstsq(A, y, rcond=None)[0], atol=1e-5)
    assert opt.memory_factor == 1.0


def test_a_weight_counts_as_copies_in_the_fold():
    X = torch.randn(3, 2, dtype=torch.float64)
    y = torch.randn(3, dtype=torch.float64)
    models = []
    for rows, weight in [([0, 0, 1, 2, 2, 2], None), ([0, 1, 2], [2.0, 1.0, 3.0])]:
        torch.manual_seed(0)
        model = torch.nn.Linear(2, 1).double()
        opt = RLEKF(model.parameters())
        w = None if weight is None else torch.tensor(weight, dtype=torch.float64)
        for _ in range(3):
            opt.measure(model(X[rows])[:, 0], y[rows], weight=w)
        models.append(model)
    for a, b in zip(models[0].parameters(), models[1].parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
    assert opt.measure(model(X)[:, 0], y, weight=torch.zeros(3)) == 0.0  # no information


def test_memory_factor_follows_the_schedule(fitted):
    model, _, _ = fitted
    opt = model.net_.optimizer_
    t = opt.n_updates
    assert t == 8 * int(np.ceil(240 / 16))
    assert opt.memory_factor == pytest.approx(1 - (1 - 0.98) * 0.9987 ** t, rel=1e-12)


def test_covariance_stays_symmetric_positive_definite(fitted):
    model, _, _ = fitted
    opt = model.net_.optimizer_
    assert opt.n_updates % SYMMETRIZE_EVERY  # checked between two symmetrisations
    for P in opt.P:  # the rank-one updates keep P symmetric up to float32 rounding
        assert float((P - P.T).abs().max()) <= 1e-6 * float(P.abs().max())
        assert float(torch.linalg.eigvalsh(P.double()).min()) > 0
    snapshot = [P.clone() for P in opt.P]
    opt.symmetrize()
    for P, before in zip(opt.P, snapshot, strict=True):
        assert torch.equal(P, P.T) and torch.allclose(P, before, rtol=1e-5, atol=1e-7)
        assert float(torch.linalg.eigvalsh(P.double()).min()) > 0
    for P, before in zip(opt.P, snapshot, strict=True):
        P.copy_(before)  # leave the shared fixture as it was


def test_taaf_coefficients_are_trained(fitted):
    model, X, y = fitted
    fresh = _small(max_epochs=1, early_stopping=False)
    fresh.fit(X[:16], y[:16])  # one update from the same initialisation
    taaf = [m for m in model.module_.modules() if isinstance(m, TAAF)]
    init = [m for m in fresh.module_.modules() if isinstance(m, TAAF)]
    changed = [not torch.equal(a.coefficients, b.coefficients)
               for a, b in zip(taaf, init, strict=True)]
    assert taaf and any(changed)


# ------------------------------------------------------------------ through the estimator
def test_rlekf_fits_better_than_adam_in_the_same_epochs(fitted):
    model, X, y = fitted
    adam = _small(optimizer="adam", early_stopping=False).fit(X, y)
    assert isinstance(model.net_, TrainingNet) and isinstance(model.net_.optimizer_, RLEKF)
    assert model.score(X, y) > 0.95 > adam.score(X, y)


def test_reproducible_with_random_state(fitted):
    model, X, y = fitted
    again = _small(early_stopping=False).fit(X, y)
    np.testing.assert_array_equal(model.predict(X), again.predict(X))
    other = _small(early_stopping=False, random_state=1).fit(X, y)
    assert not np.array_equal(model.predict(X), other.predict(X))


def test_optimizer_kwargs_route_to_the_filter_and_clone():
    X, y = _data(80)
    model = _small(optimizer_kwargs={"block_size": 20, "lambda1": 0.99}, max_epochs=2,
                   early_stopping=False)
    assert clone(model).get_params()["optimizer_kwargs"] == {"block_size": 20, "lambda1": 0.99}
    opt = model.fit(X, y).net_.optimizer_
    assert max(opt.sizes) <= 20 and opt.param_groups[0]["lambda1"] == 0.99
    with pytest.raises(ValueError, match="optimizer_kwargs of TAAFSRegressor has"):
        _small(optimizer_kwargs={"block_sise": 20}).fit(X, y)
    with pytest.raises(ValueError, match="weight_decay"):
        _small(weight_decay=0.1).fit(X, y)


class _CountBatches(Callback):
    def initialize(self):
        self.n_batches = 0
        return self

    def on_batch_end(self, net, training=False, **kwargs):
        self.n_batches += int(training)


def test_early_stopping_callbacks_partial_fit_and_pickle():
    X, y = _data(200)
    counter = _CountBatches()
    model = _small(max_epochs=60, patience=3, early_stopping=True,
                   callbacks=[("count", counter)]).fit(X, y)
    assert model.n_iter_ < 60 and model.validation_loss_curve_ is not None
    assert counter.n_batches == model.net_.optimizer_.n_updates > 0
    inc = _small()
    inc.partial_fit(X, y)
    t1, lam1 = inc.net_.optimizer_.n_updates, inc.net_.optimizer_.memory_factor
    inc.partial_fit(X, y)  # continues the same filter: P and lambda carry on
    assert inc.net_.optimizer_.n_updates == 2 * t1
    assert inc.net_.optimizer_.memory_factor > lam1
    restored = pickle.loads(pickle.dumps(inc))
    np.testing.assert_array_equal(restored.predict(X), inc.predict(X))
    assert restored.net_.optimizer_.sizes == inc.net_.optimizer_.sizes
    assert torch.equal(restored.net_.optimizer_.P[0], inc.net_.optimizer_.P[0])


def test_build_net_picks_the_kalman_step_and_refuses_param_groups():
    module = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1))
    assert isinstance(build_net(module, optimizer="rlekf"), TrainingNet)
    net = build_net(module, optimizer="rlekf", early_stopping=False,
                    optimizer__param_groups=[("0.*", {"lr": 0.0})])
    with pytest.raises(ValueError, match="one parameter group"):
        net.initialize()


def test_rlekf_net_kept_for_old_pickles_refuses_a_gradient_optimizer():
    net = RLEKFNet(torch.nn.Linear(2, 1), optimizer=torch.optim.SGD, lr=0.1, verbose=0)
    with pytest.raises(TypeError, match="measurement optimiser"):
        net.initialize()


# ------------------------------------------------------------------ the potential
def _cu_frames(n=6):
    from ase.build import bulk
    from ase.calculators.emt import EMT
    from ase.calculators.singlepoint import SinglePointCalculator

    frames = []
    for k in range(n):
        atoms = bulk("Cu", cubic=True).repeat(2)
        atoms.rattle(0.05, seed=k)
        atoms.calc = EMT()
        energy, forces = atoms.get_potential_energy(), atoms.get_forces()
        atoms.calc = SinglePointCalculator(atoms, energy=energy, forces=forces)
        frames.append(atoms)
    return frames


def test_potential_trains_on_energy_and_force_measurements():
    from taafs_sk.atomistic import TAAFSPotential
    from taafs_sk.atomistic.training import EnergyForceLoss

    frames = _cu_frames()

    def fit(optimizer, seed=0):
        return TAAFSPotential((8,), basis="chebyshev1", n_basis=4, max_epochs=3, batch_size=1,
                              optimizer=optimizer, early_stopping=False,
                              random_state=seed).fit(frames)

    pot, again, adam = fit("rlekf"), fit("rlekf"), fit("adam")
    losses = [h["train_loss"] for h in pot.history_]
    assert losses[-1] < 0.5 * losses[0]
    assert losses[-1] < 0.5 * adam.history_[-1]["train_loss"]
    np.testing.assert_array_equal(pot.predict(frames), again.predict(frames))
    assert isinstance(pot.net_.optimizer_, RLEKF)
    assert sum(pot.net_.optimizer_.sizes) == pot.n_params_
    with pytest.raises(ValueError, match="atoms_per_group"):
        EnergyForceLoss(atoms_per_group=0)
    grouped = clone(pot).set_params(optimizer_kwargs={"force_groups": 2}).fit(frames)
    assert grouped.net_.criterion_.force_groups == 2  # routed from optimizer_kwargs
    # the estimator routes the filter's options (a tiny block budget is refused by name)
    tight = clone(pot).set_params(optimizer_kwargs={"block_size": 64, "max_memory_mb": 1e-3})
    with pytest.raises(ValueError, match="max_memory_mb"):
        tight.fit(frames)


class _TwoGroupLoss(torch.nn.Module):
    """MSE whose Kalman measurements are two groups: the first output, then the second one
    from a fresh prediction (as a potential updates on energies, then on forces)."""

    def __init__(self):
        super().__init__()
        self.fresh = 0

    def forward(self, y_pred, y_true):
        return torch.mean((y_pred - y_true) ** 2)

    def measurements(self, y_pred, y_true, sample_weight=None, forward=None):
        yield {"prediction": y_pred[:, 0], "target": y_true[:, 0]}
        self.fresh += 1
        yield {"prediction": forward()[:, 1], "target": y_true[:, 1]}


def test_the_criterion_groups_the_kalman_measurements():
    torch.manual_seed(0)
    X = torch.randn(32, 3)
    y = torch.cat([X[:, :1] - X[:, 1:2], 2 * X[:, 2:]], 1)
    net = build_net(torch.nn.Linear(3, 2), optimizer="rlekf", criterion=_TwoGroupLoss,
                    max_epochs=3, batch_size=8, early_stopping=False)
    net.fit(X, y)
    assert net.optimizer_.n_updates == 2 * 4 * 3  # two groups, 4 batches, 3 epochs
    assert net.criterion_.fresh == 4 * 3
    assert net.history[-1, "train_loss"] < 0.1 * net.history[0, "train_loss"]  # 0.034x
