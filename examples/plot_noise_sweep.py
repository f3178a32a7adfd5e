"""
How much circuit noise can a trained network take?
==================================================

An analog circuit computes every neuron's output with some noise. Train two networks on the
double-perovskite band gaps, then let :func:`~taafs_sk.analog.noise_sweep` add Gaussian
noise after every activation -- its level relative to each neuron's signal range on the
training data -- and measure the test RMSE over many noise draws.
"""

# %%
import pandas as pd
from sklearn.model_selection import GroupShuffleSplit
from sklearn.preprocessing import StandardScaler

from taafs_sk import TAAFSRegressor
from taafs_sk.analog import NoiseModel, noise_sweep
from taafs_sk.datasets import load_double_perovskites
from taafs_sk.plotting import plot_noise_sweep

perovskites = load_double_perovskites("manzhos", "band_gap")
X, y, groups = perovskites.data, perovskites.target, perovskites.groups
train, test = next(GroupShuffleSplit(1, test_size=0.2, random_state=0).split(X, y, groups))
scaler = StandardScaler().fit(X[train])
X_train, X_test = scaler.transform(X[train]), scaler.transform(X[test])

# %%
# Train a one- and a two-hidden-layer network, sweep the noise level
# -------------------------------------------------------------------
noise = NoiseModel(kind="additive", where="post_activation", scale="range")
levels = [0.0, 0.01, 0.02, 0.05, 0.1]
tables = []
for hidden in [(32,), (32, 32)]:
    model = TAAFSRegressor(hidden, basis="tanh", max_epochs=50, patience=10, random_state=0)
    model.fit(X_train, y[train])
    table = noise_sweep(model, X_test, y[test], levels, noise=noise, n_draws=16,
                        X_calib=X_train, random_state=0)
    table.insert(0, "architecture", "-".join(map(str, hidden)))
    tables.append(table)
results = pd.concat(tables, ignore_index=True)
print(results[["architecture", "level", "rmse_mean", "rmse_p5", "rmse_p95", "rmse_ratio"]])

# %%
# Test RMSE against noise level
# -----------------------------
# The band spans the 5th to 95th percentile over the 16 noise draws.
ax = plot_noise_sweep(results, unit=perovskites.target_units[0])

# %%
# Relative to each network's own noiseless error
# ----------------------------------------------
ax = plot_noise_sweep(results, relative=True)
