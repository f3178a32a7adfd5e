"""DeepPot-SE (se_e2_a) as a learned descriptor of TAAFSPotential: forces as central
differences, symmetries, smoothness at the cutoff, double backward through every basis,
parameter checks, pickling, checkpoints, grid search and RLEKF."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

pytest.importorskip("ase")
from ase.build import bulk  # noqa: E402
from ase.calculators.emt import EMT  # noqa: E402
from sklearn.model_selection import GridSearchCV, KFold  # noqa: E402

import taafs_sk.atomistic.potential as potential_module  # noqa: E402
from taafs_sk.atomistic import DeepPotSE, TAAFSPotential  # noqa: E402
from taafs_sk.atomistic.deeppot import smooth_switch  # noqa: E402
from taafs_sk.atomistic.learned import DescriptorActivation  # noqa: E402
from taafs_sk.nn import available_bases, make_activation_factory  # noqa: E402
from taafs_sk.taafs.checkpoint import CHECKPOINT_FILE  # noqa: E402

SPEC = {"rcut": 3.6, "rcut_smth": 2.0, "neuron": (3, 6), "axis_neuron": 2}


def _frames(n=2, seed=0):
    """CuAu on a 2x2x2 fcc supercell (32 atoms, two elements), rattled, with EMT."""
    frames = []
    for k in range(n):
        atoms = bulk("Cu", cubic=True).repeat(2)
        atoms.symbols[[1, 6, 11, 20, 27]] = "Au"
        atoms.rattle(0.08, seed=seed + k)
        atoms.calc = EMT()
        frames.append(atoms)
    return frames


def _potential(**kwargs):
    params = dict(hidden_layer_sizes=(5,), basis="chebyshev1", n_basis=4,
                  descriptor=DeepPotSE(**SPEC), max_epochs=2, batch_size=1, lr=1e-2,
                  early_stopping=False, dtype="float64", random_state=0)
    return TAAFSPotential(**{**params, **kwargs})


@pytest.fixture(scope="module")
def fitted():
    return _potential().fit(_frames())


def test_forces_are_central_differences(fitted):
    atoms = _frames(1, seed=5)[0]
    forces = fitted.predict_forces([atoms])[0]
    h = 1e-5
    for a, c in [(0, 0), (6, 2), (13, 1)]:
        plus, minus = atoms.copy(), atoms.copy()
        plus.positions[a, c] += h
        minus.positions[a, c] -= h
        numeric = -(fitted.predict([plus])[0] - fitted.predict([minus])[0]) / (2 * h)
        assert forces[a, c] == pytest.approx(numeric, abs=1e-7)


def test_energy_is_invariant(fitted):
    atoms = _frames(1, seed=7)[0]
    e0 = fitted.predict([atoms])[0]
    rotated = atoms.copy()
    rotated.rotate(37.0, (1.0, 2.0, 0.5), rotate_cell=True)
    shifted = atoms.copy()
    shifted.translate([0.3, -1.1, 2.4])
    shifted.wrap()
    cu = np.flatnonzero(atoms.symbols == "Cu")
    order = np.arange(len(atoms))
    order[cu] = np.random.default_rng(0).permutation(cu)
    permuted = atoms[order]
    for other in (rotated, shifted, permuted):
        assert fitted.predict([other])[0] == pytest.approx(e0, abs=1e-10, rel=0)


def test_statistics_come_from_training_pairs(fitted):
    module = fitted.module_.descriptor
    assert float(module.env_mean[0]) > 0 and float(module.env_std[1, 1]) > 0
    assert module.sel.tolist() == [float(int(v)) for v in module.sel]  # counts
    assert 0 < float(module.sel.sum()) < 32


def test_energy_is_smooth_at_the_cutoff(fitted):
    """A dimer crossing rcut: the padding rows make the descriptor continuous even with the
    normalising mean subtracted."""
    module = fitted.module_.descriptor
    species = torch.tensor([0, 1])
    rcut = SPEC["rcut"]

    def G(r):
        vec = torch.tensor([[r, 0.0, 0.0], [-r, 0.0, 0.0]], dtype=torch.float64)
        if r >= rcut:
            empty = torch.zeros(0, dtype=torch.long)
            return module(species, empty, empty, vec[:0])
        return module(species, torch.tensor([0, 1]), torch.tensor([1, 0]), vec)

    with torch.no_grad():
        inside, outside = G(rcut - 1e-6), G(rcut + 1e-3)
    assert float(module.env_mean.abs().min()) > 0
    torch.testing.assert_close(inside, outside, atol=1e-12, rtol=0)


def test_switch_values():
    r = torch.tensor([1.0, 2.0, 3.0, 4.5, 5.0], dtype=torch.float64)
    s = smooth_switch(r, 2.0, 5.0)
    u = (3.0 - 2.0) / 3.0
    assert s[:2].tolist() == [1.0, 0.5]
    assert float(s[2]) == pytest.approx((u ** 3 * (-6 * u ** 2 + 15 * u - 10) + 1) / 3.0)
    assert float(s[4]) == 0.0 and 0 < float(s[3]) < 1 / 4.5


@pytest.mark.parametrize("basis", available_bases())
def test_double_backward_through_every_basis(basis):
    torch.manual_seed(0)
    act = DescriptorActivation(make_activation_factory(basis, n_basis=4, sharing="layer"))
    module = DeepPotSE(**SPEC).build(2, act, torch.float64)
    atoms = _frames(1)[0]
    from ase.neighborlist import neighbor_list
    i, j, S = neighbor_list("ijS", atoms, SPEC["rcut"])
    vec = atoms.positions[j] - atoms.positions[i] + S @ atoms.cell.array
    vectors = torch.tensor(vec, requires_grad=True)
    species = torch.tensor((atoms.symbols == "Au").astype(int))
    G = module(species, torch.as_tensor(i), torch.as_tensor(j), vectors)
    (dE_dr,) = torch.autograd.grad(G.pow(2).sum(), vectors, create_graph=True)
    dE_dr.pow(2).sum().backward()
    grads = [p.grad for p in module.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert any(float(g.abs().max()) > 0 for g in grads)
    taafs = [p for n, p in module.named_parameters() if "activations" in n]
    assert taafs and any(float(p.grad.abs().max()) > 0 for p in taafs)


@pytest.mark.parametrize(("params", "match"), [
    ({"rcut_smth": 3.6}, r"rcut_smth of DeepPotSE must be in \[0, rcut=3.6\), got 3.6"),
    ({"rcut_smth": 4.0}, "rcut_smth of DeepPotSE"),
    ({"neuron": (3, 0)}, r"neuron of DeepPotSE must be .* got \(3, 0\)"),
    ({"neuron": ()}, "neuron of DeepPotSE"),
    ({"axis_neuron": 0}, "axis_neuron of DeepPotSE must be an integer in .* got 0"),
    ({"axis_neuron": 7}, r"axis_neuron of DeepPotSE .* \[1, neuron\[-1\]=6\], got 7"),
    ({"rcut": -1.0}, "rcut of DeepPotSE must be a positive"),
    ({"sel": 0}, "sel of DeepPotSE"),
    ({"rcut": 8.0}, r"thick .* descriptor cutoff \(rcut=8.0 of DeepPotSE\)"),
])
def test_bad_parameters_are_refused(params, match):
    with pytest.raises(ValueError, match=match):
        _potential(descriptor=DeepPotSE(**{**SPEC, **params})).fit(_frames())


def test_pickle_round_trip(fitted):
    frames = _frames(2, seed=3)
    again = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(again.predict(frames), fitted.predict(frames))
    np.testing.assert_array_equal(again.predict_stress(frames), fitted.predict_stress(frames))


#: Epoch at which _Crash ends the fit (read at each epoch: the checkpoint keeps the callback).
CRASH: dict = {"at": None}


class _Crash(Callback):
    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == CRASH["at"]:
            raise RuntimeError("simulated crash")


def test_checkpoint_resumes_to_the_uninterrupted_weights(tmp_path, monkeypatch):
    frames = _frames(2)
    whole = _potential(max_epochs=3).fit(frames)
    built = potential_module.potential_net

    def net_that_crashes(*args, **kwargs):
        net = built(*args, **kwargs)
        net.callbacks = [*(net.callbacks or []), ("crash", _Crash())]
        return net

    with monkeypatch.context() as patch:
        patch.setattr(potential_module, "potential_net", net_that_crashes)
        patch.setitem(CRASH, "at", 2)
        with pytest.raises(RuntimeError, match="simulated crash"):
            _potential(max_epochs=3, checkpoint=tmp_path).fit(frames)
    assert (tmp_path / CHECKPOINT_FILE).exists()
    resumed = _potential(max_epochs=3, checkpoint=tmp_path).fit(frames)
    for a, b in zip(resumed.module_.parameters(), whole.module_.parameters(), strict=True):
        assert torch.equal(a, b)
    with pytest.raises(ValueError, match="another fit"):  # other descriptor settings
        _potential(max_epochs=3, checkpoint=tmp_path,
                   descriptor=DeepPotSE(**{**SPEC, "axis_neuron": 3})).fit(frames)


def _neg_energy_error(estimator, X, y=None):
    energies = np.array([atoms.get_potential_energy() for atoms in X])
    return -float(np.abs(estimator.predict(X) - energies).mean())


def test_grid_search_over_basis():
    search = GridSearchCV(_potential(max_epochs=1),
                          {"basis": ["tanh", "bspline"], "descriptor__axis_neuron": [2]},
                          cv=KFold(2), scoring=_neg_energy_error, error_score="raise")
    search.fit(_frames(2))
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.best_params_["basis"] in ("tanh", "bspline")
    assert search.best_estimator_.descriptor_.axis_neuron == 2


def test_rlekf_one_epoch():
    start = _potential(max_epochs=1, lr=1e-12).fit(_frames())
    pot = _potential(optimizer="rlekf", max_epochs=1,
                     optimizer_kwargs={"force_groups": 1}).fit(_frames())
    moved = [not torch.equal(a, b) for a, b in zip(pot.module_.descriptor.parameters(),
                                                   start.module_.descriptor.parameters(),
                                                   strict=True)]
    assert any(moved)
    assert np.isfinite(pot.predict_forces(_frames(1))[0]).all()


def test_tanh_baseline_has_no_activation_parameters():
    pot = _potential(basis="tanh", n_basis=8, max_epochs=1).fit(_frames(1))
    assert pot.n_activation_params_ == 0
    assert all(isinstance(a, torch.nn.Tanh)
               for net in pot.module_.descriptor.embeddings for a in net.activations)


def test_calculator_runs_md_with_stress(fitted):
    from taafs_sk.atomistic.md import run_nve

    atoms = _frames(1, seed=9)[0]
    atoms.calc = fitted.as_calculator()
    np.testing.assert_allclose(atoms.get_forces(), fitted.predict_forces([atoms])[0])
    assert atoms.get_stress().shape == (6,)
    trace = run_nve(atoms, fitted.as_calculator(), n_steps=4, log_interval=2,
                    temperature_K=100.0)
    assert np.isfinite(trace["total"]).all() and len(trace["total"]) == 3


def test_torchsim_model_matches_predict(fitted):
    ts = pytest.importorskip("torch_sim")
    from taafs_sk.atomistic import as_torchsim_model

    frames = _frames(2, seed=11)
    state = ts.io.atoms_to_state(frames, torch.device("cpu"), torch.float64)
    out = as_torchsim_model(fitted)(state)
    energies, forces = fitted.predict_energies_and_forces(frames)
    np.testing.assert_allclose(out["energy"].numpy(), energies, rtol=1e-12)
    np.testing.assert_allclose(out["forces"].numpy(), np.concatenate(forces), atol=1e-12)


def test_descriptor_trains_at_its_lr_scale(fitted):
    groups = fitted.net_.optimizer_.param_groups
    rates = sorted(group["lr"] for group in groups)
    assert rates == pytest.approx([1e-3, 1e-2])  # lr=1e-2, lr_scale=0.1
    slow = next(g for g in groups if g["lr"] == pytest.approx(1e-3))
    assert {id(p) for p in slow["params"]} == {
        id(p) for p in fitted.module_.descriptor.parameters()}
