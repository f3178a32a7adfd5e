"""
A TAAFS interatomic potential for copper, checked in molecular dynamics
=======================================================================

Fit a :class:`~taafs_sk.atomistic.TAAFSPotential` (one atomic network per element on ANI
descriptors, trained on DFT energies and forces) with Chebyshev trainable activations and the
same network with ``tanh``, on fcc Cu72 frames from a 300 K DFT trajectory; test on frames
from the 500 K trajectory (a split by temperature, never at random: consecutive MD frames are
nearly identical). Then look at the activation shapes each element network learned and run a
short constant-energy MD with the fitted potential as an ASE calculator.

This is a small, fast version (25 training frames, few epochs); the full comparison is in
:doc:`/potential_results`.
"""

# %%
# Load the DFT frames, split by temperature
# -----------------------------------------
import matplotlib.pyplot as plt
import numpy as np
import torch

from taafs_sk.atomistic import TAAFSPotential
from taafs_sk.atomistic.md import energy_drift, run_nve
from taafs_sk.datasets import load_pwmlff
from taafs_sk.nn.activations import activation_grid

torch.set_num_threads(1)
train = load_pwmlff("cu", "train")[::4]  # 300 K run
test = load_pwmlff("cu", "test")[::4]  # 500 K run
print(f"{len(train)} training frames (300 K), {len(test)} test frames (500 K), "
      f"{len(train[0])} atoms each")

# %%
# Fit tanh and a TAAF basis
# -------------------------
# Same architecture, seed and epochs; only the activations differ. Energies and forces are
# read from each frame's calculator (the ASE convention).
e_ref = np.array([a.get_potential_energy() for a in test])
f_ref = np.concatenate([a.get_forces() for a in test])
models = {}
for basis in ["tanh", "chebyshev1"]:
    pot = TAAFSPotential((16, 16), basis=basis, n_basis=8, max_epochs=15, batch_size=4,
                         lr=2e-3, early_stopping=False, random_state=0).fit(train)
    energies, forces = pot.predict_energies_and_forces(test)
    e_rmse = 1e3 * np.sqrt(np.mean(((energies - e_ref) / 72) ** 2))
    f_rmse = np.sqrt(np.mean((np.concatenate(forces) - f_ref) ** 2))
    print(f"{basis:10s} energy RMSE {e_rmse:5.2f} meV/atom, force RMSE {f_rmse:.3f} eV/Å, "
          f"{pot.n_params_} parameters ({pot.n_activation_params_} in activations)")
    models[basis] = pot

# %%
# The learned activation shapes
# -----------------------------
# One trainable activation per hidden layer of each element network (``sharing="layer"``);
# they start as least-squares fits of tanh and move away from it in training.
pot = models["chebyshev1"]
z = np.linspace(-3, 3, 200)
fig, axes = plt.subplots(1, len(pot.elements_), figsize=(4.5 * len(pot.elements_), 3.5),
                         squeeze=False, layout="constrained")
for ax, element, net in zip(axes[0], pot.elements_, pot.module_.nets, strict=True):
    for layer, act in enumerate(net.activations):
        ax.plot(z, activation_grid(act, z)[:, 0], label=f"layer {layer}")
    ax.plot(z, np.tanh(z), "k--", lw=1, label="tanh")
    ax.set(title=f"{element} network", xlabel="pre-activation z", ylabel="activation")
    ax.legend()

# %%
# Constant-energy molecular dynamics with the potential
# -----------------------------------------------------
# ``as_calculator()`` gives an ASE calculator; here 100 velocity-Verlet steps of 1 fs from
# frame 20 of the 500 K run (that run starts near the ideal lattice; frame 20's DFT potential
# energy is about that of a 225 K crystal) with 300 K Maxwell-Boltzmann velocities, so the
# run stays near the 300 K of the training data. A good potential conserves the total energy
# (small drift) and keeps atoms apart.
fig, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
for basis, pot in models.items():
    trace = run_nve(test[5], pot.as_calculator(), n_steps=100, temperature_K=300,
                    random_state=0, log_interval=5)
    print(f"{basis:10s} drift {energy_drift(trace):+.2f} meV/atom/ps, closest pair "
          f"{trace['min_distance'].min():.2f} Å, T {trace['temperature'].min():.0f}-"
          f"{trace['temperature'].max():.0f} K")
    ax.plot(trace["time_ps"], 1e3 * (trace["total"] - trace["total"][0]) / 72, label=basis)
ax.set(xlabel="time (ps)", ylabel="total energy - E(0) (meV/atom)")
ax.legend()
plt.show()
