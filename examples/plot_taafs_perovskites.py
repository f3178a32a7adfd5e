"""
Trainable activations on double-perovskite band gaps
====================================================

Fit a :class:`~taafs_sk.TAAFSRegressor` with Hermite-polynomial activations and the same
network with fixed ``tanh`` activations to the band gaps of 270 halide double perovskites,
then look at the activation shapes the network learned.

Every composition appears twice in the table (two calculations, rows ``i`` and
``i + 270``), so the test set holds out whole compositions.
"""

# %%
# Load the data and split by composition
# --------------------------------------
import matplotlib.pyplot as plt
from sklearn.metrics import root_mean_squared_error
from sklearn.model_selection import GroupShuffleSplit
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from taafs_sk import TAAFSRegressor
from taafs_sk.datasets import load_double_perovskites
from taafs_sk.plotting import plot_activations

perovskites = load_double_perovskites("manzhos", "band_gap")
X, y = perovskites.data, perovskites.target  # 31 descriptors -> band gap (eV)
groups = perovskites.groups  # the composition of each row
train, test = next(GroupShuffleSplit(1, test_size=0.2, random_state=0).split(X, y, groups))
print(f"{len(train)} training rows, {len(test)} test rows, gap std {y.std():.2f} eV")

# %%
# Fit a TAAFS network and the tanh baseline
# -----------------------------------------
# Same architecture, same seed, same epochs: only the activations differ.
models = {}
for basis in ["tanh", "hermite"]:
    model = make_pipeline(
        StandardScaler(),
        TAAFSRegressor((32, 32), basis=basis, n_basis=6, max_epochs=100, patience=15,
                       random_state=0),
    )
    models[basis] = model.fit(X[train], y[train])
    rmse = root_mean_squared_error(y[test], model.predict(X[test]))
    print(f"{basis:8s} test RMSE {rmse:.3f} eV, {model[-1].n_params_} parameters")

# %%
# Predicted against computed gaps
# -------------------------------
fig, ax = plt.subplots(figsize=(4.5, 4.5), layout="constrained")
for basis, model in models.items():
    ax.scatter(y[test], model.predict(X[test]), s=12, alpha=0.7, label=basis)
lim = [y.min() - 0.1, y.max() + 0.1]
ax.plot(lim, lim, color="0.5", linewidth=1)
ax.set(xlim=lim, ylim=lim, xlabel="computed gap (eV)", ylabel="predicted gap (eV)")
ax.legend(title="activation")

# %%
# The learned activation shapes
# -----------------------------
# One shape per hidden layer (``sharing="layer"``). They start close to ``tanh`` and bend
# where the data ask for it.
fig = plot_activations(models["hermite"][-1])
