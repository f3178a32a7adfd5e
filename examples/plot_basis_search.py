"""
Choosing the activation basis by grid search
============================================

The best basis family depends on the data, so treat it as a hyperparameter. A
:class:`~sklearn.model_selection.GridSearchCV` over ``basis`` compares them on the same
composition-grouped folds of the double-perovskite band gaps, with the same seed for every
candidate.
"""

# %%
import numpy as np
import pandas as pd
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from taafs_sk import TAAFSRegressor
from taafs_sk.datasets import load_double_perovskites
from taafs_sk.plotting import plot_basis_comparison

perovskites = load_double_perovskites("manzhos", "band_gap")
X, y, groups = perovskites.data, perovskites.target, perovskites.groups

pipe = make_pipeline(
    StandardScaler(),
    TAAFSRegressor((16,), n_basis=6, max_epochs=40, patience=10, random_state=0),
)
bases = ["tanh", "silu", "bspline", "hermite", "chebyshev1", "fourier"]
search = GridSearchCV(pipe, {"taafsregressor__basis": bases}, cv=GroupKFold(3),
                      scoring="neg_root_mean_squared_error", n_jobs=2)
search.fit(X, y, groups=groups)
print("best:", search.best_params_)

# %%
# One bar per basis: mean test RMSE over the folds, error bar over folds
# ----------------------------------------------------------------------
results = pd.DataFrame(search.cv_results_)
folds = pd.DataFrame({
    "basis": np.repeat(results["param_taafsregressor__basis"].to_numpy(), 3),
    "test_rmse": -np.column_stack(
        [results[f"split{i}_test_score"] for i in range(3)]).ravel(),
})
ax = plot_basis_comparison(folds, unit=perovskites.target_units[0])
ax.set_xlabel("test RMSE (eV)")
