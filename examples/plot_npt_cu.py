"""
Stress, cell relaxation and NPT dynamics with a TAAFS potential
===============================================================

:class:`~taafs_sk.atomistic.TAAFSPotential` gives the stress (the energy's derivative under a
strain of the cell, in ASE's convention), so its ASE calculator runs cell relaxations and
constant-pressure MD. Here a tiny potential is fitted to copper structures labelled by ASE's
EMT potential at several volumes (a stand-in for DFT data, so that the example is fast and
has an exact reference), then: its equation of state against EMT's, a cell relaxation
(``FrechetCellFilter``), and Berendsen NPT at 300 K and 0 GPa.
"""

# %%
# Training structures at several volumes
# --------------------------------------
import matplotlib.pyplot as plt
import numpy as np
import torch
from ase import units
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.filters import FrechetCellFilter
from ase.md.nptberendsen import NPTBerendsen
from ase.md.velocitydistribution import MaxwellBoltzmannDistribution
from ase.optimize import BFGS

from taafs_sk.atomistic import TAAFSPotential

torch.set_num_threads(1)
frames = []
for k, scale in enumerate(np.linspace(0.96, 1.04, 12)):
    atoms = bulk("Cu", "fcc", a=3.59 * scale, cubic=True).repeat(2)  # Cu32
    atoms.rattle(0.05, seed=k)
    atoms.calc = EMT()
    frames.append(atoms)

pot = TAAFSPotential((16,), basis="chebyshev1", max_epochs=60, early_stopping=False,
                      lr=3e-3, random_state=0).fit(frames)

# %%
# Equation of state and stress against EMT
# ----------------------------------------
lattice = np.linspace(3.45, 3.75, 13)
cells = [bulk("Cu", "fcc", a=a, cubic=True).repeat(2) for a in lattice]
e_model = pot.predict(cells) / 32
for c in cells:
    c.calc = EMT()
e_emt = np.array([c.get_potential_energy() for c in cells]) / 32
p_model = -pot.predict_stress(cells)[:, :3].mean(1) / units.GPa
p_emt = np.array([-c.get_stress()[:3].mean() for c in cells]) / units.GPa
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8, 3.2))
ax1.plot(lattice, e_emt - e_emt.min(), "k.-", label="EMT")
ax1.plot(lattice, e_model - e_model.min(), "C0-", label="TAAFS")
ax1.set(xlabel="lattice constant (Å)", ylabel="E - min (eV/atom)")
ax1.legend()
ax2.plot(lattice, p_emt, "k.-", label="EMT")
ax2.plot(lattice, p_model, "C0-", label="TAAFS")
ax2.axhline(0, color="0.7", lw=0.8)
ax2.set(xlabel="lattice constant (Å)", ylabel="pressure (GPa)")
fig.tight_layout()

# %%
# Relax the cell, then NPT at 300 K and 0 GPa
# -------------------------------------------
atoms = bulk("Cu", "fcc", a=3.50, cubic=True).repeat(2)  # compressed start
atoms.calc = pot.as_calculator()
BFGS(FrechetCellFilter(atoms), logfile=None).run(fmax=0.01, steps=100)
print(f"relaxed lattice constant {atoms.cell.lengths()[0] / 2:.3f} Å "
      f"(EMT's minimum on the scan: {lattice[np.argmin(e_emt)]:.3f} Å)")

MaxwellBoltzmannDistribution(atoms, temperature_K=300, rng=np.random.default_rng(0))
dyn = NPTBerendsen(atoms, timestep=2 * units.fs, temperature_K=300, pressure_au=0.0,
                   taut=100 * units.fs, taup=500 * units.fs,
                   compressibility_au=1 / (140 * units.GPa))
volumes = []
dyn.attach(lambda: volumes.append(atoms.get_volume() / len(atoms)), interval=5)
dyn.run(200)
fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(np.arange(len(volumes)) * 10 * 1e-3, volumes)
ax.set(xlabel="time (ps)", ylabel="volume (Å³/atom)", title="Berendsen NPT, 300 K, 0 GPa")
fig.tight_layout()
plt.show()
