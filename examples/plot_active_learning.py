"""
Active learning of a copper potential with committee uncertainty
================================================================

A committee of :class:`~taafs_sk.atomistic.TAAFSPotential` (an
:class:`~taafs_sk.EnsembleRegressor` of potentials that differ only in their seed) tells
where it does not know: the per-atom force std of its members. Starting from 10 frames of
a 300 K DFT trajectory of Cu72, we add frames from a pool holding both the 300 K and the
500 K trajectories, either the frames where the committee disagrees most (the largest
per-atom force std, DeePMD-kit's ``max_devi_f``) or frames drawn at random, and follow the
force error on held-out frames of both temperatures.

This is a small, fast version (tiny networks, few epochs, a subsampled pool); the full-size
run and its numbers are in :doc:`/uncertainty_results`.
"""

# %%
# Pool, test frames and the starting set
# --------------------------------------
# Consecutive MD frames are nearly identical, so the test frames are the *last* block of
# each run (frames 80-99), kept apart from the pool (frames 0-74) by a gap.
import matplotlib.pyplot as plt
import numpy as np
import torch

from taafs_sk import EnsembleRegressor
from taafs_sk.atomistic import TAAFSPotential
from taafs_sk.datasets import load_pwmlff

torch.set_num_threads(1)
runs = {"300 K": load_pwmlff("cu", "train"), "500 K": load_pwmlff("cu", "test")}
pool = [a for frames in runs.values() for a in frames[:75:5]]  # 15 frames per run
test = [a for frames in runs.values() for a in frames[80::5]]  # 4 frames per run
start = list(range(10))  # the first 10 pool frames: all from the 300 K run
f_test = np.concatenate([a.get_forces() for a in test])
print(f"pool {len(pool)} frames, test {len(test)} frames, start {len(start)} (300 K)")

# %%
# One round: fit a committee, score the test frames and the rest of the pool
# --------------------------------------------------------------------------
member = TAAFSPotential((16, 16), basis="chebyshev1", max_epochs=8, batch_size=4, lr=3e-3,
                       early_stopping=False)


def fit_round(chosen):
    committee = EnsembleRegressor(member, n_members=3, random_state=0)
    committee.fit([pool[i] for i in chosen])
    forces = np.concatenate(committee.predict_forces(test))
    rmse = float(np.sqrt(np.mean((forces - f_test) ** 2)))
    rest = [i for i in range(len(pool)) if i not in chosen]
    stds = committee.predict_forces([pool[i] for i in rest], return_std=True)[1]
    return rmse, rest, np.array([s.max() for s in stds])  # max per-atom std per frame


# %%
# Largest committee force std against random choice
# -------------------------------------------------
rng = np.random.RandomState(0)
per_round, n_rounds = 4, 3
curves = {}
for strategy in ("committee std", "random"):
    chosen, curve = list(start), []
    for _ in range(n_rounds + 1):
        rmse, rest, max_std = fit_round(chosen)
        curve.append((len(chosen), rmse))
        if strategy == "committee std":
            picks = [rest[k] for k in np.argsort(max_std)[::-1][:per_round]]
        else:
            picks = list(rng.choice(rest, per_round, replace=False))
        chosen += picks
    curves[strategy] = np.array(curve)
    n_hot = sum(i >= 15 for i in chosen[len(start):])  # pool frames 15-29: the 500 K run
    print(f"{strategy:14s} test force RMSE "
          + " -> ".join(f"{r:.3f}" for _, r in curve)
          + f" eV/Å; {n_hot} of the {len(chosen) - len(start)} added frames are 500 K")

# %%
# The learning curves
# -------------------
# Both strategies start from the same committee. The starting set covers only 300 K, so
# the frames where the committee disagrees most are mostly 500 K ones; at this tiny size
# (a few frames per round, 3 members, 8 epochs) the two curves differ by little more than
# the seed noise of one fit: the full-size comparison, and whether selecting by the
# committee std saves frames, is in :doc:`/uncertainty_results`.
fig, ax = plt.subplots(figsize=(5.5, 3.8), layout="constrained")
for strategy, curve in curves.items():
    ax.plot(curve[:, 0], curve[:, 1], marker="o", label=strategy)
ax.set(xlabel="training frames", ylabel="test force RMSE (eV/Å)",
       title="Cu72 active learning, committee of 3")
ax.legend()
plt.show()
