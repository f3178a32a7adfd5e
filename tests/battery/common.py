"""What every case table of the battery shares: the :class:`Case` record, the bad values and
the tiny fitted models the cases call (each built once, on first use, and cached)."""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from sklearn.exceptions import NotFittedError

BAD = (ValueError, TypeError)
UNFITTED = (NotFittedError,)
NAN = float("nan")
INF = float("inf")


@dataclass(frozen=True)
class Case:
    """One public callable called with one bad argument.

    ``name`` is the callable as the coverage rule names it: a public name (``"TAAF"``,
    ``"noise_sweep"``) or ``"Class.method"``. ``param`` must appear in the message as a word,
    ``value`` (the bad value) as text. ``known_bug`` (the owner's file:line and what is
    wrong) marks a case that fails today in a file this battery's author does not own: it
    runs as a strict ``xfail``, so that the fix turns it into an error until the mark is
    removed.
    """

    name: str  # the public callable
    label: str  # what is wrong
    call: Callable[[], object]
    param: str  # must appear in the message
    value: str | None = None  # must appear in the message too
    errors: tuple = BAD
    known_bug: str = ""

    @property
    def id(self) -> str:
        return f"{self.name}-{self.label}"


def lazy(path: str):
    """The object at the dotted ``path`` (imported on call, so that listing the cases stays
    cheap and an import error is one case's failure)."""
    module, _, attr = path.rpartition(".")
    return getattr(importlib.import_module(module), attr)


def table(**columns) -> pd.DataFrame:
    return pd.DataFrame(columns)


# ------------------------------------------------------------------ data and fitted models
@functools.cache
def toy():
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, (40, 3))
    return X, np.sin(2 * X[:, 0]) + X[:, 1]


def nan_X():
    X, _ = toy()
    X = X.copy()
    X[3, 1] = NAN
    return X


def fit(est_path, X=None, y=None, **params):
    """A call that fits the estimator at ``est_path`` with ``params`` on the toy data."""

    def call():
        Xd, yd = toy()
        est = lazy(est_path)(**params)
        return est.fit(Xd if X is None else X, yd if y is None else y)

    return call


@functools.cache
def taafs_fitted():
    from taafs_sk import TAAFSRegressor

    X, y = toy()
    return TAAFSRegressor((4,), basis="legendre", n_basis=4, max_epochs=2,
                          early_stopping=False, random_state=0).fit(X, y)


@functools.cache
def akn_fitted():
    from taafs_sk import AdditiveKernelNN

    X, y = toy()
    return AdditiveKernelNN(n_neurons=3, weights="sobol", optimize=False, optimize_weights=0,
                            random_state=0).fit(X, y)


def tanh_mlp(in_features: int = 2, width: int = 3):
    """A tiny ``MLP`` with tanh activations."""
    from taafs_sk.nn import MLP, make_activation_factory

    return MLP(in_features, (width,), 1, make_activation_factory("tanh"))


def torch_model():
    """The fitted TAAFSRegressor as a ``TorchModel`` (its own network, not a copy)."""
    return lazy("taafs_sk.analog.as_torch_model")(taafs_fitted())


@functools.cache
def tiny_atoms():
    """Two H atoms with a DFT-like energy and forces (one structure, no cell)."""
    from ase import Atoms
    from ase.calculators.singlepoint import SinglePointCalculator

    atoms = Atoms("H2", positions=[[0.0, 0.0, 0.0], [0.74, 0.0, 0.0]])
    atoms.calc = SinglePointCalculator(atoms, energy=-1.0, forces=np.zeros((2, 3)))
    return atoms


def atoms_with(positions, symbols: str = "H2"):
    """A copy of a structure of ``symbols`` at ``positions``, with zero energy and forces."""
    from ase import Atoms
    from ase.calculators.singlepoint import SinglePointCalculator

    atoms = Atoms(symbols, positions=positions)
    atoms.calc = SinglePointCalculator(atoms, energy=-1.0,
                                       forces=np.zeros((len(atoms), 3)))
    return atoms


@functools.cache
def potential_fitted():
    """A TAAFSPotential fitted for one epoch on the one tiny structure (hidden (4,))."""
    from taafs_sk.atomistic import TAAFSPotential

    return TAAFSPotential((4,), basis="tanh", max_epochs=1, early_stopping=False,
                          random_state=0).fit([tiny_atoms()])


def float_tensor(*shape: int) -> torch.Tensor:
    return torch.zeros(*shape)
