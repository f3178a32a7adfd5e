r"""
A basis family of your own
==========================

The built-in basis families (B-splines, Fourier, Gaussian RBFs, the classical polynomials)
are plug-ins like any other: a new family is a subclass of :class:`taafs_sk.nn.Basis` that
evaluates its functions on :math:`[-1, 1]`. Registered by name with
:func:`taafs_sk.nn.register_basis`, it can be searched over in
:class:`~sklearn.model_selection.GridSearchCV` next to ``"tanh"`` and ``"bspline"``, pickled,
and plotted.

Here the family is the Laguerre functions

.. math::

    B_n(u) = e^{-x/2} L_n(x), \qquad x = 2 (u + 1) \in [0, 4],

with the Laguerre polynomials from their three-term recurrence
:math:`(n + 1) L_{n+1} = (2n + 1 - x) L_n - n L_{n-1}`; :math:`|B_n| \le 1` for
:math:`x \ge 0`.
"""

# %%
# The basis: one method, ``values``
# ---------------------------------
# ``values(u)`` receives ``u`` already clamped to :math:`[-1, 1]`, of any shape, and returns
# ``u.shape + (n_basis,)``. That is all a family needs: a TAAF built on it evaluates with
# plain torch operations (autograd does the derivatives). The optional fused contract
# (``features`` and ``set_fused_maps``, see :class:`~taafs_sk.nn.Basis`) would buy speed.
import pickle
import warnings

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import root_mean_squared_error
from sklearn.model_selection import GridSearchCV, GroupKFold, GroupShuffleSplit
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from taafs_sk import TAAFSRegressor
from taafs_sk.datasets import load_double_perovskites
from taafs_sk.nn import Basis, register_basis
from taafs_sk.plotting import plot_activations


class LaguerreBasis(Basis):
    """Laguerre functions exp(-x/2) L_n(x) on x = 2 (u + 1)."""

    name = "laguerre"

    def values(self, u):
        x = 2.0 * (u + 1.0)
        out = [torch.ones_like(x), 1.0 - x][: self.n_basis]
        for n in range(1, self.n_basis - 1):
            out.append(((2 * n + 1 - x) * out[n] - n * out[n - 1]) / (n + 1))
        return torch.stack(out, dim=-1) * torch.exp(-x / 2)[..., None]


register_basis("laguerre", LaguerreBasis)
print(LaguerreBasis(4)(torch.tensor([-1.0, 0.0, 1.0])))

# %%
# Search over the basis, custom family included
# ---------------------------------------------
# The halide double-perovskite band gaps; every composition appears twice, so the folds
# and the test split hold out whole compositions. The registered name travels with the
# estimator to the worker processes of ``n_jobs=2``.
perovskites = load_double_perovskites("manzhos", "band_gap")
X, y, groups = perovskites.data, perovskites.target, perovskites.groups
train, test = next(GroupShuffleSplit(1, test_size=0.2, random_state=0).split(X, y, groups))

# 40 epochs keep the gallery quick; the models are not trained to convergence, and say so.
warnings.filterwarnings("ignore", category=ConvergenceWarning)
pipe = make_pipeline(
    StandardScaler(),
    TAAFSRegressor((16,), n_basis=6, max_epochs=40, patience=5, random_state=0),
)
search = GridSearchCV(pipe, {"taafsregressor__basis": ["tanh", "bspline", "laguerre"]},
                      cv=GroupKFold(3), scoring="neg_root_mean_squared_error", n_jobs=2)
search.fit(X[train], y[train], groups=groups[train])
for basis, score in zip(search.cv_results_["param_taafsregressor__basis"],
                        search.cv_results_["mean_test_score"], strict=True):
    print(f"{basis:9s} cross-validated RMSE {-score:.3f} eV")

# %%
# Fit, pickle and reload the Laguerre model
# -----------------------------------------
# A basis object works as well as a name: ``basis=LaguerreBasis(6)`` (its own ``n_basis``
# is used). Unpickling needs the class importable, as for any pickled Python object.
model = search.best_estimator_ if search.best_params_["taafsregressor__basis"] == "laguerre" \
    else pipe.set_params(taafsregressor__basis="laguerre").fit(X[train], y[train])
reloaded = pickle.loads(pickle.dumps(model))
same = np.array_equal(reloaded.predict(X[test]), model.predict(X[test]))
rmse = root_mean_squared_error(y[test], model.predict(X[test]))
print(f"laguerre test RMSE {rmse:.3f} eV; reloaded model gives the same predictions: {same}")

# %%
# The learned activation
# ----------------------
# It starts as the least-squares fit of ``tanh`` in the Laguerre functions and bends where
# the data ask for it.
fig = plot_activations(model[-1])
