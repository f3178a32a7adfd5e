"""PaiNN as a learned descriptor: symmetries (energy invariant, vector features equivariant),
forces as exact gradients, smoothness at the cutoff, double backward through every TAAF
basis, parameter checks; all in float64 on small clusters."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
import torch
from torch import nn

from taafs_sk.atomistic import PaiNN
from taafs_sk.nn.activations import make_activation_factory
from taafs_sk.nn.bases import available_bases

CUTOFF = 3.0


def silu(width: int, network: str) -> nn.Module:
    return nn.SiLU()


def taaf(basis: str, sharing: str = "neuron"):
    factory = make_activation_factory(basis, n_basis=4, sharing=sharing)
    return lambda width, network: factory(0, width)


def cluster(n_atoms: int = 7, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Positions (n_atoms, 3) in a 3.5 Å box, no pair closer than 1 Å, two elements."""
    rng = np.random.RandomState(seed)
    pos = []
    while len(pos) < n_atoms:
        x = rng.uniform(0.0, 3.5, 3)
        if all(np.linalg.norm(x - p) > 1.0 for p in pos):
            pos.append(x)
    species = torch.tensor(rng.randint(0, 2, n_atoms))
    return torch.tensor(np.array(pos)), species


def pairs(pos: torch.Tensor, cutoff: float = CUTOFF) -> tuple[torch.Tensor, torch.Tensor]:
    """Directed full neighbour list of a non-periodic cluster."""
    d = torch.cdist(pos.detach(), pos.detach())
    d.fill_diagonal_(float("inf"))
    return (d < cutoff).nonzero(as_tuple=True)


def built(activation=silu, seed: int = 0, **params) -> nn.Module:
    torch.manual_seed(seed)
    spec = PaiNN(**{"n_atom_basis": 8, "n_interactions": 2, "n_rbf": 6, "cutoff": CUTOFF,
                    **params})
    return spec.build(2, activation, torch.float64)


def energy(net: nn.Module, pos: torch.Tensor, species: torch.Tensor,
           pair=None) -> torch.Tensor:
    """A tiny readout on G: a fixed random linear map per element, summed."""
    i, j = pairs(pos) if pair is None else pair
    G = net(species, i, j, pos[j] - pos[i])
    w = torch.linspace(-1.0, 1.0, 2 * G.shape[1], dtype=G.dtype).view(2, -1)
    return (G * w[species]).sum() + (G ** 2).sum() * 0.1


def value(net, pos, species, pair=None) -> float:
    return float(energy(net, pos, species, pair).detach())


def rotation(seed: int = 1) -> torch.Tensor:
    q, _ = np.linalg.qr(np.random.RandomState(seed).normal(size=(3, 3)))
    if np.linalg.det(q) < 0:
        q[:, 0] *= -1
    return torch.tensor(q)


@pytest.fixture(scope="module")
def system():
    return cluster()


def test_energy_is_invariant_to_rotation_translation_permutation(system):
    pos, species = system
    net = built()
    e0 = value(net, pos, species)
    assert abs(e0) > 1e-3  # something to compare
    R = rotation()
    moved = pos @ R.T + torch.tensor([0.3, -1.7, 2.2], dtype=torch.float64)
    assert abs(value(net, moved, species) - e0) < 1e-10
    perm = torch.tensor(np.random.RandomState(2).permutation(len(species)))
    assert abs(value(net, pos[perm], species[perm]) - e0) < 1e-10


@torch.no_grad()
def test_descriptor_rows_follow_the_atoms_under_permutation(system):
    pos, species = system
    net = built()
    i, j = pairs(pos)
    G = net(species, i, j, pos[j] - pos[i])
    perm = torch.tensor(np.random.RandomState(3).permutation(len(species)))
    ip, jp = pairs(pos[perm])
    Gp = net(species[perm], ip, jp, pos[perm][jp] - pos[perm][ip])
    assert float((Gp - G[perm]).abs().max()) < 1e-10


@torch.no_grad()
def test_vector_features_rotate_with_the_structure(system):
    pos, species = system
    net = built()
    i, j = pairs(pos)
    s, v = net.features(species, i, j, pos[j] - pos[i])
    R = rotation()
    rot = pos @ R.T
    s_r, v_r = net.features(species, i, j, rot[j] - rot[i])
    assert float(v.abs().max()) > 1e-3  # the vectors are not trivially zero
    assert float((v_r - torch.einsum("xy,ayf->axf", R, v)).abs().max()) < 1e-10
    assert float((s_r - s).abs().max()) < 1e-10
    # a reflection flips the (polar) vector features too
    P = torch.diag(torch.tensor([-1.0, 1.0, 1.0], dtype=torch.float64))
    ref = pos @ P.T
    v_p = net.features(species, i, j, ref[j] - ref[i])[1]
    assert float((v_p - torch.einsum("xy,ayf->axf", P, v)).abs().max()) < 1e-10


def test_forces_are_central_differences_of_the_energy(system):
    pos, species = system
    net = built()
    pair = pairs(pos)
    x = pos.clone().requires_grad_(True)
    forces = -torch.autograd.grad(energy(net, x, species, pair), x)[0]
    assert float(forces.abs().max()) > 1e-3
    h = 1e-5
    for atom, axis in ((0, 0), (3, 1), (6, 2)):
        plus, minus = pos.clone(), pos.clone()
        plus[atom, axis] += h
        minus[atom, axis] -= h
        fd = -(value(net, plus, species, pair) - value(net, minus, species, pair)) / (2 * h)
        assert abs(fd - float(forces[atom, axis])) < 1e-7


def test_a_pair_at_the_cutoff_contributes_nothing():
    """The cosine cutoff: dropping a pair 1e-6 Å inside the cutoff from the neighbour list
    changes the energy only by O(1e-12) (f_c and its slope vanish at the cutoff)."""
    pos = torch.tensor([[0.0, 0.0, 0.0], [1.5, 0.0, 0.0], [0.0, 1.5, 0.0],
                        [CUTOFF - 1e-6, 0.0, 0.0]], dtype=torch.float64)
    species = torch.tensor([0, 1, 0, 1])
    net = built()
    i, j = pairs(pos)
    keep = ~(((i == 0) & (j == 3)) | ((i == 3) & (j == 0)))
    assert int((~keep).sum()) == 2
    full = value(net, pos, species, (i, j))
    cut = value(net, pos, species, (i[keep], j[keep]))
    assert abs(full - cut) < 1e-10
    far = pos.clone()
    far[3, 0] = CUTOFF - 0.5  # the same pair well inside does contribute
    i2, j2 = pairs(far)
    keep2 = ~(((i2 == 0) & (j2 == 3)) | ((i2 == 3) & (j2 == 0)))
    assert abs(value(net, far, species, (i2, j2))
               - value(net, far, species, (i2[keep2], j2[keep2]))) > 1e-4


def test_an_atom_without_neighbours_has_finite_gradients():
    pos = torch.tensor([[0.0, 0.0, 0.0], [1.5, 0.0, 0.0], [9.0, 9.0, 9.0]],
                       dtype=torch.float64, requires_grad=True)
    species = torch.tensor([0, 1, 1])
    net = built(taaf("bspline"))
    e = energy(net, pos, species)
    (forces,) = torch.autograd.grad(e, pos, create_graph=True)
    (forces ** 2).sum().backward()
    assert all(torch.isfinite(p.grad).all() for p in net.parameters() if p.grad is not None)
    assert float(forces[2].detach().abs().max()) == 0.0


@pytest.mark.parametrize("basis", available_bases())
def test_double_backward_through_every_basis(system, basis):
    pos, species = system
    net = built(taaf(basis))
    x = pos.clone().requires_grad_(True)
    (forces,) = torch.autograd.grad(energy(net, x, species), x, create_graph=True)
    loss = (forces ** 2).sum()
    loss.backward()
    taafs = [m for m in net.modules() if type(m).__name__ == "TAAF"]
    assert len(taafs) == 4  # message and update of each interaction
    for name, p in net.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
    assert any(float(t.weight.grad.abs().max()) > 0 for t in taafs)


@torch.no_grad()
@pytest.mark.parametrize("basis", ["bspline", "chebyshev1"])
def test_taafs_start_as_exactly_silu(system, basis):
    """PaiNN's TAAFs take the residual form around SiLU: at step 0 the network is the SiLU
    one, to rounding."""
    pos, species = system
    i, j = pairs(pos)
    factory = make_activation_factory(basis, n_basis=4, sharing="layer",
                                      init=PaiNN.taaf_init)
    with_taafs = built(lambda width, network: factory(0, width))
    assert sum(type(m).__name__ == "TAAF" for m in with_taafs.modules()) == 4
    G_taaf = with_taafs(species, i, j, pos[j] - pos[i])
    G_silu = built()(species, i, j, pos[j] - pos[i])
    assert float((G_taaf - G_silu).abs().max()) < 1e-12


def test_build_asks_one_activation_per_network_name():
    asked = []

    def record(width, network):
        asked.append((width, network))
        return nn.SiLU()

    net = built(record, n_interactions=2, n_atom_basis=5)
    assert asked == [(5, "message.0"), (5, "message.1"), (5, "update.0"), (5, "update.1")]
    assert net.n_features == 5
    assert all(p.dtype == torch.float64 for p in net.parameters())


def test_spec_is_picklable_and_compares_by_hyperparameters():
    spec = PaiNN(n_atom_basis=8, n_interactions=1, n_rbf=4, cutoff=3.5)
    params = {"n_atom_basis": 8, "n_interactions": 1, "n_rbf": 4, "cutoff": 3.5,
              "lr_scale": 1.0}
    assert spec.get_params() == params
    assert pickle.loads(pickle.dumps(spec)).get_params() == params
    assert copy.deepcopy(spec).get_params() == params
    assert repr(spec) == ("PaiNN(n_atom_basis=8, n_interactions=1, n_rbf=4, cutoff=3.5, "
                          "lr_scale=1.0)")
    assert spec.set_params(n_rbf=5).get_params()["n_rbf"] == 5
    assert spec.cutoff == 3.5 and spec.taaf_init is torch.nn.functional.silu
    with pytest.raises(ValueError, match="PaiNN has no parameter 'width'"):
        spec.set_params(width=3)


def test_built_module_pickles_and_predicts_the_same(system):
    pos, species = system
    net = built(taaf("chebyshev1"))
    again = pickle.loads(pickle.dumps(net))
    assert value(again, pos, species) == value(net, pos, species)


@pytest.mark.parametrize("name", ["n_atom_basis", "n_interactions", "n_rbf"])
@pytest.mark.parametrize("value", [0, -2])
def test_non_positive_counts_are_refused_by_name(name, value):
    with pytest.raises(ValueError, match=f"{name} of PaiNN must be an integer >= 1, got "
                                         f"{value}"):
        PaiNN(**{name: value}).build(1, silu, torch.float64)


def test_a_fractional_count_is_a_type_error():
    with pytest.raises(TypeError, match="n_atom_basis of PaiNN must be an integer, got 2.5"):
        PaiNN(n_atom_basis=2.5).build(1, silu, torch.float64)


@pytest.mark.parametrize("name", ["cutoff", "lr_scale"])
@pytest.mark.parametrize("value", [0.0, -1.0, float("nan"), float("inf")])
def test_a_non_positive_or_non_finite_cutoff_or_lr_scale_is_refused(name, value):
    with pytest.raises(ValueError, match=f"{name} of PaiNN must be"):
        PaiNN(**{name: value}).build(1, silu, torch.float64)


def test_build_refuses_bad_arguments_by_name():
    with pytest.raises(ValueError, match="n_species of PaiNN.build"):
        PaiNN().build(0, silu, torch.float64)
    with pytest.raises(TypeError, match="activation of PaiNN.build must be a callable"):
        PaiNN().build(1, "silu", torch.float64)
    with pytest.raises(TypeError, match="dtype of PaiNN.build must be a floating"):
        PaiNN().build(1, silu, torch.long)


# --- inside TAAFSPotential -------------------------------------------------------------------

@pytest.fixture(scope="module")
def cu_frames(data_home):
    from taafs_sk.datasets import load_pwmlff

    return load_pwmlff("cu", "train", data_home=data_home)


@pytest.fixture(scope="module")
def painn_potentials(cu_frames):
    """One epoch on two Cu frames, float64, SiLU and a B-spline TAAF."""
    from taafs_sk.atomistic import TAAFSPotential

    out = {}
    for basis, taaf_options in (("silu", {}), ("bspline", {"n_basis": 4,
                                                          "sharing": "network"})):
        out[basis] = TAAFSPotential(
            (8,), basis=basis, **taaf_options, max_epochs=1, batch_size=1,
            descriptor=PaiNN(n_atom_basis=8, n_interactions=1, n_rbf=4, cutoff=4.0),
            early_stopping=False, dtype="float64", random_state=0,
        ).fit([cu_frames[10], cu_frames[60]])
    return out


@pytest.mark.parametrize("basis", ["silu", "bspline"])
def test_potential_with_painn_fits_pickles_and_predicts_forces(painn_potentials, cu_frames,
                                                               basis):
    pot = painn_potentials[basis]
    names = {type(m).__name__ for m in pot.module_.descriptor.modules()}
    assert ("TAAF" in names) == (basis != "silu")
    assert pot.descriptor_.get_params()["n_atom_basis"] == 8
    again = pickle.loads(pickle.dumps(pot))
    atoms = cu_frames[70]
    forces = again.predict_forces([atoms])[0]
    assert forces.shape == (72, 3) and np.abs(forces).max() > 1e-3
    np.testing.assert_array_equal(forces, pot.predict_forces([atoms])[0])
    np.testing.assert_array_equal(again.predict([atoms]), pot.predict([atoms]))


def test_potential_forces_are_central_differences_of_its_energy(painn_potentials, cu_frames):
    pot, atoms = painn_potentials["bspline"], cu_frames[70]
    forces = pot.predict_forces([atoms])[0]
    # the energies are absolute (about -3.6e5 eV): rounding (~1e-7 here) limits the step,
    # the curvature of a 1-epoch model the truncation (~100 h^2)
    h = 2e-4
    for atom, axis in ((0, 0), (41, 2)):
        shifted = []
        for sign in (1, -1):
            moved = atoms.copy()
            moved.positions[atom, axis] += sign * h
            shifted.append(moved)
        e_plus, e_minus = pot.predict(shifted)
        assert abs(-(e_plus - e_minus) / (2 * h) - forces[atom, axis]) < 2e-5


def test_grid_search_reaches_painn_hyperparameters():
    from sklearn.base import clone

    from taafs_sk.atomistic import TAAFSPotential

    pot = TAAFSPotential(descriptor=PaiNN(n_atom_basis=8))
    pot.set_params(descriptor__n_atom_basis=4, descriptor__cutoff=4.5)
    assert repr(clone(pot).descriptor) == ("PaiNN(n_atom_basis=4, n_interactions=2, "
                                           "n_rbf=16, cutoff=4.5, lr_scale=1.0)")


def test_potential_refuses_a_bad_painn_by_name(cu_frames):
    from taafs_sk.atomistic import TAAFSPotential

    with pytest.raises(ValueError, match="n_rbf of PaiNN must be an integer >= 1, got 0"):
        TAAFSPotential(descriptor=PaiNN(n_rbf=0), max_epochs=1).fit(cu_frames[:2])


def test_lr_scale_sets_the_learning_rate_of_painn_parameters(cu_frames):
    from taafs_sk.atomistic import TAAFSPotential

    pot = TAAFSPotential((4,), basis="silu", max_epochs=1, lr=1e-3, early_stopping=False,
                         descriptor=PaiNN(n_atom_basis=4, n_interactions=1, n_rbf=2,
                                          cutoff=3.0, lr_scale=0.25),
                         random_state=0).fit(cu_frames[:1])
    groups = pot.net_.optimizer_.param_groups
    painn = {id(p) for p in pot.module_.descriptor.parameters()}
    lrs = {g["lr"] for g in groups if {id(p) for p in g["params"]} <= painn}
    assert lrs == {2.5e-4}
    assert {g["lr"] for g in groups} == {1e-3, 2.5e-4}
