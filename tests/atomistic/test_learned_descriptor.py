"""The learned-descriptor contract of TAAFSPotential (taafs_sk.atomistic.learned), on a toy
trainable radial descriptor: training reaches the descriptor's parameters, forces and stress
are derivatives of the energy, pickling, checkpoints and refusals."""

import math
import pickle

import numpy as np
import pytest
import torch
from torch import nn

pytest.importorskip("ase")
from ase.build import bulk  # noqa: E402
from ase.calculators.emt import EMT  # noqa: E402

from taafs_sk.atomistic import TAAFSPotential  # noqa: E402
from taafs_sk.atomistic.learned import DescriptorActivation, LearnedDescriptor  # noqa: E402
from taafs_sk.nn import make_activation_factory  # noqa: E402


class ToyRadialModule(nn.Module):
    """G_i = sum_j act(W rbf(r_ij)) fc(r_ij), per neighbour element (a tiny learned radial
    descriptor)."""

    def __init__(self, n_species, rcut, width, activation, dtype):
        super().__init__()
        self.rcut, self.n_species = rcut, n_species
        self.register_buffer("centres", torch.linspace(1.0, rcut, 5, dtype=dtype))
        self.linear = nn.Linear(5, width, dtype=dtype)
        self.act = activation(width, "radial")
        self.n_features = width * n_species
        self.statistics_calls = 0

    def set_statistics(self, species, pair_i, pair_j, vectors):
        self.statistics_calls += 1

    def forward(self, species, pair_i, pair_j, vectors):
        r = vectors.norm(dim=1)
        fc = 0.5 * (torch.cos(math.pi * r / self.rcut) + 1.0)
        rbf = torch.exp(-(r[:, None] - self.centres) ** 2) * fc[:, None]  # (P, 5)
        h = self.act(self.linear(rbf)) * fc[:, None]  # (P, width)
        slot = pair_i * self.n_species + species[pair_j]
        G = h.new_zeros(species.numel() * self.n_species, h.shape[1]).index_add(0, slot, h)
        return G.reshape(species.numel(), -1)


class ToyRadial(LearnedDescriptor):
    def __init__(self, rcut=3.5, width=3):
        self.rcut = rcut
        self.width = width

    @property
    def cutoff(self):
        return float(self.rcut)

    def check(self):
        if not self.width > 0:
            raise ValueError(f"width of ToyRadial must be positive, got {self.width!r}.")

    def build(self, n_species, activation, dtype):
        return ToyRadialModule(n_species, float(self.rcut), int(self.width), activation, dtype)


def _frames(n=3):
    frames = []
    for k in range(n):
        atoms = bulk("Cu", cubic=True).repeat(2)
        atoms.rattle(0.05, seed=k)
        atoms.calc = EMT()
        frames.append(atoms)
    return frames


def _potential(**kwargs):
    params = dict(hidden_layer_sizes=(4,), basis="chebyshev1", n_basis=4,
                  descriptor=ToyRadial(), max_epochs=2, early_stopping=False,
                  dtype="float64", random_state=0)
    return TAAFSPotential(**{**params, **kwargs})


@pytest.fixture(scope="module")
def fitted():
    return _potential().fit(_frames())


def test_descriptor_parameters_train(fitted):
    init = _potential(max_epochs=1, lr=1e-12).fit(_frames())
    trained = fitted.module_.descriptor.linear.weight.detach()
    start = init.module_.descriptor.linear.weight.detach()
    assert not torch.allclose(trained, start)
    assert fitted.module_.descriptor.statistics_calls == 1
    assert fitted.n_features_in_ == 3
    assert fitted.n_activation_params_ > 0
    assert fitted.n_params_ > sum(p.numel() for p in fitted.module_.nets.parameters())


def test_forces_are_minus_energy_gradient(fitted):
    atoms = _frames(1)[0]
    forces = fitted.predict_forces([atoms])[0]
    h, (a, c) = 1e-5, (3, 1)
    plus, minus = atoms.copy(), atoms.copy()
    plus.positions[a, c] += h
    minus.positions[a, c] -= h
    numeric = -(fitted.predict([plus])[0] - fitted.predict([minus])[0]) / (2 * h)
    assert forces[a, c] == pytest.approx(numeric, abs=1e-6)


def test_stress_is_strain_derivative(fitted):
    atoms = _frames(1)[0]
    stress = fitted.predict_stress([atoms])[0]
    h = 1e-5
    energies = []
    for sign in (1, -1):
        strained = atoms.copy()
        strained.set_cell(atoms.cell.array @ (np.eye(3) + sign * h * np.diag([1, 0, 0])),
                          scale_atoms=True)
        energies.append(fitted.predict([strained])[0])
    numeric = (energies[0] - energies[1]) / (2 * h) / atoms.get_volume()
    assert stress[0] == pytest.approx(numeric, abs=1e-7)


def test_pickle_round_trip(fitted):
    atoms = _frames(2)
    again = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(again.predict(atoms), fitted.predict(atoms))
    assert again.module_.descriptor is again.net_.module_.networks.descriptor


def test_params_reach_the_descriptor():
    pot = _potential()
    assert pot.get_params()["descriptor__width"] == 3
    pot.set_params(descriptor__width=2)
    assert pot.descriptor.width == 2


def test_bad_descriptor_parameter_is_refused():
    with pytest.raises(ValueError, match="width of ToyRadial must be positive, got 0"):
        _potential(descriptor=ToyRadial(width=0)).fit(_frames(2))


def test_thin_cell_names_the_cutoff():
    with pytest.raises(ValueError, match=r"descriptor cutoff \(cutoff of ToyRadial\) 9.0"):
        _potential(descriptor=ToyRadial(rcut=9.0)).fit(_frames(2))


def test_export_lammps_is_refused(fitted, tmp_path):
    with pytest.raises(ValueError, match="fixed descriptors only.*ToyRadial"):
        fitted.export_lammps(tmp_path / "pot.pt")


def test_rlekf_trains_the_descriptor():
    pot = _potential(optimizer="rlekf", batch_size=1, max_epochs=1,
                     optimizer_kwargs={"force_groups": 1}).fit(_frames(2))
    start = _potential(max_epochs=1, lr=1e-12).fit(_frames(2))
    assert not torch.allclose(pot.module_.descriptor.linear.weight,
                              start.module_.descriptor.linear.weight)
    assert np.isfinite(pot.predict(_frames(2))).all()


@pytest.mark.parametrize("sharing", ["global", "network", "layer", "neuron"])
def test_activation_sharing(sharing):
    act = DescriptorActivation(make_activation_factory("bspline", sharing=sharing))
    a, b, c = act(4, "x"), act(4, "x"), act(4, "y")
    assert (a is b) == (sharing in ("global", "network"))
    assert (a is c) == (sharing == "global")
