"""The LAMMPS ML-IAP adapter against predict, and NPT dynamics on the calculator."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from ase import units
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.md.nptberendsen import NPTBerendsen
from ase.md.velocitydistribution import MaxwellBoltzmannDistribution
from ase.neighborlist import neighbor_list

from taafs_sk.atomistic import TAAFSPotential
from taafs_sk.atomistic.lammps import TAAFSMLIAPUnified, export_lammps


class StandInData:
    """What LAMMPS' MLIAPDataPy gives ``compute_forces``, built from an ASE structure: every
    atom local, neighbours as the atoms themselves (periodic images mapped back), and
    ``update_pair_forces`` adding ``fij`` to atom i and subtracting it from atom j as LAMMPS'
    ``mliap_unified.cpp`` does."""

    def __init__(self, atoms, elements, cutoff):
        i, j, d = neighbor_list("ijD", atoms, cutoff)
        index = {el: k for k, el in enumerate(elements)}
        self.nlistatoms = self.ntotal = len(atoms)
        self.npairs = len(i)
        self.elems = np.array([index[s] for s in atoms.get_chemical_symbols()], dtype=np.int32)
        self.pair_i, self.pair_j = i.astype(np.int32), j.astype(np.int32)
        self.rij = d
        self.f = np.zeros((len(atoms), 3))
        self.eatoms = self.energy = None

    def update_pair_forces(self, fij):
        assert fij.shape == (self.npairs, 3) and fij.flags["C_CONTIGUOUS"]
        np.add.at(self.f, self.pair_i, fij)
        np.add.at(self.f, self.pair_j, -fij)


def _frames(n=2):
    out = []
    for k in range(n):
        atoms = bulk("Cu", cubic=True).repeat(2)
        atoms.rattle(0.1, seed=k)
        atoms.calc = EMT()
        out.append(atoms)
    return out


@pytest.fixture(scope="module", params=[None, "zbl"])
def tiny_cu(request):
    return TAAFSPotential((8,), basis="chebyshev1", max_epochs=2, early_stopping=False,
                          dtype="float64", random_state=0, repulsion=request.param,
                          zbl_inner=1.5, zbl_outer=2.7).fit(_frames())


def test_compute_forces_equals_predict(tiny_cu, tmp_path):
    path = export_lammps(tiny_cu, tmp_path / "cu.pkl")
    with open(path, "rb") as fh:
        unified = pickle.load(fh)
    assert unified.element_types == ["Cu"] and unified.ndescriptors == 48
    assert 2 * unified.rcutfac == pytest.approx(5.2)
    atoms = _frames(3)[2]
    data = StandInData(atoms, unified.element_types, 2 * unified.rcutfac)
    unified.compute_forces(data)
    energy, forces = tiny_cu.predict_energies_and_forces([atoms])
    assert data.energy == pytest.approx(energy[0], rel=1e-12)
    assert data.eatoms.shape == (32,) and data.eatoms.sum() == pytest.approx(energy[0])
    np.testing.assert_allclose(data.f, forces[0], rtol=1e-9, atol=1e-10)


def test_ghost_atoms_carry_no_energy(tiny_cu):
    # a LAMMPS-like list: atom 1 appears again as a ghost (index 32), its pair rerouted
    atoms = _frames()[0]
    unified = TAAFSMLIAPUnified(tiny_cu)
    data = StandInData(atoms, ["Cu"], 5.2)
    data.ntotal = 33
    data.elems = np.append(data.elems, 0).astype(np.int32)
    data.f = np.zeros((33, 3))
    first = int(np.flatnonzero(data.pair_j == 1)[0])
    data.pair_j = data.pair_j.copy()
    data.pair_j[first] = 32
    unified.compute_forces(data)
    assert data.eatoms.shape == (32,)
    assert data.energy == pytest.approx(tiny_cu.predict([atoms])[0], rel=1e-12)
    folded = data.f[:32].copy()
    folded[1] += data.f[32]  # LAMMPS' reverse communication
    np.testing.assert_allclose(folded, tiny_cu.predict_forces([atoms])[0], atol=1e-10)


def test_export_refuses_an_unfitted_potential_and_a_bad_path(tiny_cu, tmp_path):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        export_lammps(TAAFSPotential(), tmp_path / "x.pkl")
    with pytest.raises(TypeError, match="path of export_lammps"):
        export_lammps(tiny_cu, 3)


def test_npt_berendsen_runs_and_moves_the_volume_the_stress_says(tiny_cu):
    atoms = _frames()[0]
    atoms.calc = tiny_cu.as_calculator()
    MaxwellBoltzmannDistribution(atoms, temperature_K=300, rng=np.random.default_rng(0))
    pressure = -atoms.get_stress()[:3].mean()  # eV/Å^3, positive: the cell wants to expand
    volume = atoms.get_volume()
    dyn = NPTBerendsen(atoms, timestep=1 * units.fs, temperature_K=300, pressure_au=0.0,
                       taut=100 * units.fs, taup=200 * units.fs,
                       compressibility_au=1.0 / (140 * units.GPa))
    dyn.run(20)
    change = atoms.get_volume() - volume
    assert np.isfinite(atoms.get_potential_energy()) and abs(pressure) > 1e-4
    assert np.sign(change) == np.sign(pressure) and abs(change) > 1e-6 * volume
