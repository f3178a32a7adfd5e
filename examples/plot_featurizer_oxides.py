"""
From site elements to band gaps: a featurizer in a pipeline
============================================================

The 1,306 double-perovskite oxides A1 B1 A2 B2 O6 of Pilania et al. (2016) are given only by
their four site elements. :class:`~taafs_sk.featurizers.DoublePerovskiteFeaturizer` turns each into
elemental and ionic properties per site (oxidation states, Shannon radii, electronegativity,
...), and, being a scikit-learn transformer, goes first in a pipeline with the scaler and
the network.
"""

# %%
import matplotlib.pyplot as plt
from sklearn.metrics import root_mean_squared_error
from sklearn.model_selection import GroupShuffleSplit
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from taafs_sk import TAAFSRegressor
from taafs_sk.datasets import load_double_perovskites
from taafs_sk.featurizers import DoublePerovskiteFeaturizer

oxides = load_double_perovskites("pilania", as_frame=True)
sites, gap = oxides.data, oxides.target  # columns a_1, b_1, a_2, b_2; GLLB-SC gap in eV
print(sites.head(3))

# %%
# What the featurizer makes of a compound
# ---------------------------------------
featurizer = DoublePerovskiteFeaturizer().set_output(transform="pandas")
features = featurizer.fit_transform(sites.head(3))
print(f"{features.shape[1]} features, e.g.")
print(features.iloc[:, :6].T)

# %%
# Featurizer, scaler and TAAFS network in one pipeline
# ----------------------------------------------------
# The same formula can appear more than once, so the split keeps formulas together.
train, test = next(GroupShuffleSplit(1, test_size=0.2, random_state=0)
                   .split(sites, gap, oxides.groups))
model = make_pipeline(
    DoublePerovskiteFeaturizer(),
    StandardScaler(),
    TAAFSRegressor((32, 32), basis="hermite", n_basis=6, max_epochs=60, patience=10,
                   random_state=0),
)
model.fit(sites.iloc[train], gap.iloc[train])
pred = model.predict(sites.iloc[test])
print(f"test RMSE {root_mean_squared_error(gap.iloc[test], pred):.3f} eV "
      f"(gap std {gap.std():.3f} eV)")

# %%
fig, ax = plt.subplots(figsize=(4.5, 4.5), layout="constrained")
ax.scatter(gap.iloc[test], pred, s=10, alpha=0.6)
lim = [gap.min() - 0.2, gap.max() + 0.2]
ax.plot(lim, lim, color="0.5", linewidth=1)
ax.set(xlim=lim, ylim=lim, xlabel="GLLB-SC gap (eV)", ylabel="predicted gap (eV)")
