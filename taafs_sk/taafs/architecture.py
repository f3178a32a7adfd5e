"""The parameters every estimator of TAAF networks shares, declared once.

``hidden_layer_sizes``, ``basis``, ``n_basis``, ``sharing``, ``normalization`` and
``basis_kwargs`` shape the networks of :class:`~taafs_sk.TAAFSRegressor` and
:class:`~taafs_sk.atomistic.TAAFSPotential` alike. This module holds, for both (by name):

- :data:`ARCHITECTURE_CONSTRAINTS`: their scikit-learn ``_parameter_constraints`` (basis and
  optimiser names are read from the registries at each check, so a registration reaches
  estimators made before it);
- :func:`check_architecture`: what the constraints cannot say statically (the widths
  themselves, ``basis_kwargs`` with a :class:`~taafs_sk.nn.Basis` instance, options that a
  fixed activation ignores), returning the hidden widths as a tuple;
- :func:`activation_factory`: the activation factory of an estimator's parameters;
- :func:`architecture` / :func:`check_same_architecture`: what a warm start must keep;
- :func:`add_registrations` / :func:`restore_registrations`: the user-registered basis
  families and optimisers, carried in the estimators' pickles (to ``GridSearchCV`` workers).
"""

from __future__ import annotations

from numbers import Integral

from sklearn.utils._param_validation import Interval, StrOptions

from .._validation import RegisteredNames, warn_user
from ..nn.activations import NORMALIZATIONS, SHARING_SCHEMES, make_activation_factory
from ..nn.bases import BASIS_REGISTRY, Basis, available_bases, check_basis_kwargs
from ..nn.fixed import FIXED_ACTIVATIONS
from ..nn.optimizers import OPTIMIZER_REGISTRY, available_optimizers

__all__ = [
    "ARCHITECTURE_CONSTRAINTS", "activation_factory", "add_registrations", "architecture",
    "basis_names", "check_architecture", "check_same_architecture", "optimizer_names",
    "restore_registrations",
]


def basis_names() -> RegisteredNames:
    """The constraint on ``basis`` names: registered families, then fixed activations."""
    return RegisteredNames(lambda: [*available_bases(), *FIXED_ACTIVATIONS],
                           hint="add one with taafs_sk.nn.register_basis")


def optimizer_names() -> RegisteredNames:
    """The constraint on ``optimizer`` names (the optimiser registry, read at each check)."""
    return RegisteredNames(available_optimizers,
                           hint="add one with taafs_sk.nn.register_optimizer")


#: scikit-learn constraints of the network-shape parameters (both estimators use them).
ARCHITECTURE_CONSTRAINTS: dict = {
    "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
    "basis": [basis_names(), Basis],
    "n_basis": [Interval(Integral, 1, None, closed="left")],
    "sharing": [StrOptions(set(SHARING_SCHEMES))],
    "normalization": [StrOptions(set(NORMALIZATIONS))],
    "basis_kwargs": [dict, None],
}

# Parameters that only shape trainable activations, with their defaults.
_BASIS_ONLY = {"n_basis": 8, "sharing": "layer", "basis_kwargs": None}
_REGISTRIES = {"_registered_basis": BASIS_REGISTRY,
               "_registered_optimizers": OPTIMIZER_REGISTRY}


def check_architecture(estimator) -> tuple[int, ...]:
    """Check what the constraints cannot and return ``hidden_layer_sizes`` as a tuple.

    Refuses non-positive widths and ``basis_kwargs`` together with a Basis instance (its
    options are its own); warns when ``n_basis``, ``sharing`` or ``basis_kwargs`` are set
    with a fixed activation, which has no coefficients for them to shape (a warning, not an
    error, so that one grid may compare trainable bases and fixed activations).
    """
    owner = type(estimator).__name__
    sizes = estimator.hidden_layer_sizes
    seq = (sizes,) if isinstance(sizes, Integral) else tuple(sizes)
    if any(not isinstance(h, Integral) or isinstance(h, bool) or h < 1 for h in seq):
        raise ValueError(f"hidden_layer_sizes of {owner} must be positive integers, got "
                         f"{sizes!r}.")
    basis = estimator.basis
    check_basis_kwargs(basis, estimator.basis_kwargs, owner)
    if isinstance(basis, str) and basis in FIXED_ACTIVATIONS:
        unused = {name: getattr(estimator, name) for name, default in _BASIS_ONLY.items()
                  if getattr(estimator, name) not in (default, {})}
        if unused:
            shown = ", ".join(f"{k}={v!r}" for k, v in unused.items())
            warn_user(f"{owner}: {shown} ignored, because basis={basis!r} is a fixed "
                      "activation without coefficients.")
    return tuple(int(h) for h in seq)


def activation_factory(estimator):
    """The activation factory of ``estimator``'s ``basis``, ``n_basis``, ``sharing``,
    ``normalization`` and ``basis_kwargs`` (see :func:`taafs_sk.nn.make_activation_factory`)."""
    return make_activation_factory(
        estimator.basis, n_basis=estimator.n_basis, sharing=estimator.sharing,
        normalization=estimator.normalization, basis_kwargs=estimator.basis_kwargs,
    )


def architecture(estimator, hidden: tuple[int, ...], **extra) -> dict:
    """The parameters that fix the network's shape (compared by warm starts), plus ``extra``."""
    basis = estimator.basis
    return {
        "hidden_layer_sizes": hidden,
        "basis": basis if isinstance(basis, str) else repr(basis),
        "n_basis": estimator.n_basis,
        "sharing": estimator.sharing,
        "normalization": estimator.normalization,
        "basis_kwargs": repr(estimator.basis_kwargs),
        **extra,
    }


def check_same_architecture(estimator, before: dict | None, now: dict) -> None:
    """Refuse a warm start whose architecture parameters changed since the network was built."""
    changed = [k for k in now if before is not None and before.get(k) != now[k]]
    if changed:
        k = changed[0]
        raise ValueError(
            f"{k} of {type(estimator).__name__} changed from {before.get(k)!r} to {now[k]!r} "
            "since the network was built; warm_start=True and partial_fit continue training "
            "that network. Set warm_start=False (or refit) to build a new one."
        )


def add_registrations(state: dict) -> dict:
    """``state`` plus the user-registered basis families and optimisers."""
    for key, registry in _REGISTRIES.items():
        state = registry.add_to_state(state, key)
    return state


def restore_registrations(state: dict, owner: str) -> dict:
    """Register the families and optimisers a pickled ``state`` carries; return the rest."""
    for key, registry in _REGISTRIES.items():
        state = registry.restore_from_state(state, key, owner)
    return state
