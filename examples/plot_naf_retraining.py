"""
Neurons that are not alike: activation dispersion and retraining
================================================================

On analog hardware every neuron's activation is the transfer curve of its own devices, and
no two devices are identical. :class:`~taafs_sk.analog.NAFDispersion` draws a realised shape
per neuron around the nominal ``tanh``; :class:`~taafs_sk.analog.HardwareNAFRegressor` trains
the ideal network, swaps the realised shapes in (degraded) and retrains the weights on them
(retrained). The control is the ideal network trained for the same extra epochs: the fair
reference for how much retraining recovers.
"""

# %%
from sklearn.model_selection import GroupShuffleSplit
from sklearn.preprocessing import StandardScaler

from taafs_sk import TAAFSRegressor
from taafs_sk.analog import HardwareNAFRegressor, NAFDispersion
from taafs_sk.datasets import load_double_perovskites
from taafs_sk.plotting import plot_naf_study
from taafs_sk.studies import naf_inhomogeneity

perovskites = load_double_perovskites("manzhos", "band_gap")
X, y, groups = perovskites.data, perovskites.target, perovskites.groups
train, test = next(GroupShuffleSplit(1, test_size=0.2, random_state=0).split(X, y, groups))
scaler = StandardScaler().fit(X[train])
X_train, X_test = scaler.transform(X[train]), scaler.transform(X[test])

# %%
# One spread, four models
# -----------------------
# ``HardwareNAFRegressor`` is a scikit-learn meta-estimator: it trains a clone of the ideal
# model, then builds and retrains the hardware versions.
# 40 epochs on purpose (early stopping off: a cap we chose, so no ConvergenceWarning).
ideal = TAAFSRegressor((32,), basis="tanh", max_epochs=40, early_stopping=False, random_state=0)
hardware = HardwareNAFRegressor(ideal, NAFDispersion("tanh", spread=0.1), retrain_epochs=10,
                                random_state=0).fit(X_train, y[train])
for name, value in hardware.recovery_score(X_test, y[test]).items():
    print(f"{name:20s} {value:.3f}")

# %%
# A sweep over spreads
# --------------------
# :func:`taafs_sk.studies.naf_inhomogeneity` trains the ideal model once and repeats the
# swap-and-retrain for each spread and several shape draws, on the split we pass in.
# Single draws scatter widely (one unlucky neuron can dominate the error), so a readable
# curve needs several of them: 8 realisations per spread, each drawn once and scaled to
# every spread (``common_draws=True``: the same devices, more or less alike). With 2
# independent draws per spread the mean can even fall from 10 % to 20 % spread.
results = naf_inhomogeneity((X_train, X_test, y[train], y[test]), spreads=(0.05, 0.1, 0.2),
                            estimator=ideal, n_realizations=8, common_draws=True,
                            retrain_epochs=10)
results["target_unit"] = perovskites.target_units[0]
columns = ["spread", "realization", "test_rmse_ideal", "test_rmse_degraded",
           "test_rmse_retrained", "test_rmse_control"]
print(results[columns].round(3).to_string(index=False))
degraded = results.groupby("spread")["test_rmse_degraded"].mean()
print("mean degraded RMSE by spread:", degraded.round(3).to_dict())
print("rises with the spread:", bool(degraded.is_monotonic_increasing))

# %%
# Test RMSE against spread
# ------------------------
# Mean over the shape draws; the band is their standard deviation.
ax = plot_naf_study(results)

# %%
# Share of the loss that retraining wins back
# -------------------------------------------
# Against the ideal model, and against the control that had the same extra training.
ax = plot_naf_study(results, recovery=True)
