"""The registry of basis families by name: :data:`BASES`, :func:`register_basis`,
:func:`make_basis`, and :func:`resolve_basis` (a name or an instance -> a new module)."""

from __future__ import annotations

import copy
import inspect

from ..._registry import Registry
from ..fixed import FIXED_ACTIVATIONS
from . import grid, polynomial
from ._base import Basis

__all__ = [
    "BASES", "BASIS_REGISTRY", "BUILTIN_BASES", "available_bases", "make_basis",
    "register_basis", "resolve_basis", "user_bases", "unregister_basis",
]

BASIS_REGISTRY = Registry(
    Basis,
    {cls.name: cls
     for cls in (grid.BSplineBasis, grid.FourierBasis, grid.GaussianRBFBasis,
                 polynomial.LegendreBasis, polynomial.HermiteBasis, polynomial.Chebyshev1Basis,
                 polynomial.Chebyshev2Basis, polynomial.BesselBasis, polynomial.JacobiBasis)},
    what="basis", register_name="register_basis", base_path="taafs_sk.nn.Basis",
    reserved={name: "a fixed activation, which basis= already means"
              for name in FIXED_ACTIVATIONS},
)
#: Name -> class of every basis family known now: the built-in ones, in the TAAFS paper's
#: order, then those added by :func:`register_basis`.
BASES: dict[str, type[Basis]] = BASIS_REGISTRY.classes
#: Names of the built-in families.
BUILTIN_BASES: frozenset[str] = frozenset(BASIS_REGISTRY.builtin)


def available_bases() -> list[str]:
    """Names of the registered basis families, built-in ones first (the TAAFS paper's order).

    Examples
    --------
    >>> from taafs_sk.nn.bases import available_bases
    >>> available_bases()[:3]
    ['bspline', 'fourier', 'grbf']
    """
    return BASIS_REGISTRY.names()


def register_basis(name: str, cls: type[Basis], *, overwrite: bool = False) -> type[Basis]:
    """Make the basis family ``cls`` available by ``name`` everywhere a basis name is accepted.

    After registration, ``TAAF(n, name)``, ``make_basis(name, ...)`` and
    ``TAAFSRegressor(basis=name)`` use ``cls`` (estimators read the registry when they are
    fitted). A fitted or unfitted ``TAAFSRegressor`` whose ``basis`` is a registered name
    carries ``(name, cls)`` in its pickled state and registers it again where it is unpickled,
    so the name also works in the worker processes of ``GridSearchCV(n_jobs=...)``. The class
    itself is pickled by reference: it must be importable there (or defined in ``__main__``,
    which loky/cloudpickle sends by value).

    Parameters
    ----------
    name : str
        The new name. It may not be a fixed activation name (``'tanh'``, ...).
    cls : subclass of Basis
        The family; see :class:`Basis` for the contract.
    overwrite : bool, default=False
        Allow replacing a built-in family or another class registered under ``name``.
        Registering the same class again (or a re-run of its definition) is always allowed.

    Returns
    -------
    cls : subclass of Basis
        ``cls`` itself.

    Raises
    ------
    TypeError
        When ``cls`` is not a subclass of :class:`Basis` or ``name`` is not a string.
    ValueError
        When ``name`` is empty, a fixed activation, or taken and ``overwrite`` is False.

    Notes
    -----
    The rules are those of every plug-in family of taafs-sk (:mod:`taafs_sk._registry`):
    kernels of :class:`~taafs_sk.AdditiveKernelNN` register the same way.

    Examples
    --------
    >>> import torch
    >>> from taafs_sk.nn import Basis, TAAF, register_basis, unregister_basis
    >>> class Cosines(Basis):
    ...     def values(self, u):
    ...         k = torch.arange(self.n_basis, dtype=u.dtype)
    ...         return torch.cos(torch.pi * k * u[..., None] / 2)
    >>> _ = register_basis("cosines", Cosines)
    >>> TAAF(4, "cosines", n_basis=5)(torch.zeros(2, 4)).shape
    torch.Size([2, 4])
    >>> unregister_basis("cosines")
    """
    return BASIS_REGISTRY.register(name, cls, overwrite=overwrite)


def unregister_basis(name: str) -> None:
    """Remove a family added by :func:`register_basis`; a replaced built-in name gets its
    built-in family back.

    Raises
    ------
    ValueError
        For a name that is not a user registration.
    """
    BASIS_REGISTRY.unregister(name)


def user_bases() -> dict[str, type[Basis]]:
    """Name -> class of the families added by :func:`register_basis` (not the built-in ones).

    Examples
    --------
    >>> from taafs_sk.nn.bases import user_bases
    >>> user_bases()
    {}
    """
    return BASIS_REGISTRY.user()


def make_basis(name: str, n_basis: int, **kwargs) -> Basis:
    """Build the basis family ``name`` with ``n_basis`` functions.

    Parameters
    ----------
    name : str
        One of :func:`available_bases`.
    n_basis : int
        Number of basis functions.
    **kwargs
        Family options: ``order`` (bspline), ``period`` (fourier), ``width`` (grbf),
        ``alpha`` and ``beta`` (jacobi), or those of a registered family.

    Returns
    -------
    basis : Basis
        The module.

    Raises
    ------
    ValueError
        For an unknown name, an impossible ``n_basis`` or an unknown or invalid option.

    Examples
    --------
    >>> import torch
    >>> from taafs_sk.nn.bases import make_basis
    >>> make_basis("jacobi", 5, alpha=0.5, beta=0.5)(torch.zeros(7, 3)).shape
    torch.Size([7, 3, 5])
    """
    if not isinstance(name, str) or name not in BASES:
        raise ValueError(f"Unknown basis {name!r}; valid names are {available_bases()} (or "
                         "register one with taafs_sk.nn.register_basis).")
    cls = BASES[name]
    params = inspect.signature(cls.__init__).parameters
    if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
        allowed = [p for p in params if p not in ("self", "n_basis")]
        unknown = sorted(set(kwargs) - set(allowed))
        if unknown:
            raise ValueError(f"Unknown option(s) {unknown} for basis {name!r}; it accepts "
                             f"{allowed or 'no options'}.")
    return cls(n_basis, **kwargs)


def check_basis_kwargs(basis: object, basis_kwargs: dict | None, owner: str) -> None:
    """Refuse ``basis_kwargs`` given together with a :class:`Basis` instance, whose options are
    its own (a ValueError naming ``owner``).

    Examples
    --------
    >>> from taafs_sk.nn.bases import LegendreBasis, check_basis_kwargs
    >>> check_basis_kwargs("legendre", {"x": 1}, "TAAF")  # a name takes options: fine
    >>> check_basis_kwargs(LegendreBasis(4), {"x": 1}, "TAAF")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: basis_kwargs of TAAF must be None when basis is a Basis instance ...
    """
    if isinstance(basis, Basis) and basis_kwargs:
        raise ValueError(
            f"basis_kwargs of {owner} must be None when basis is a Basis instance "
            f"({type(basis).__name__}), got {basis_kwargs!r}; pass the options to the "
            "instance instead."
        )


def resolve_basis(basis: str | Basis, n_basis: int, basis_kwargs: dict | None = None,
                  owner: str = "TAAF") -> Basis:
    """A new basis module from a registered name or a :class:`Basis` instance.

    A name is built with ``n_basis`` and ``basis_kwargs``. An instance is deep-copied (the
    caller's object is never changed): its own ``n_basis`` and options win, so ``n_basis``
    is ignored and ``basis_kwargs`` must be empty.

    Raises
    ------
    ValueError
        For an unknown name, or ``basis_kwargs`` given with an instance.
    TypeError
        For anything else than a str or a Basis.
    """
    if isinstance(basis, Basis):
        check_basis_kwargs(basis, basis_kwargs, owner)
        return copy.deepcopy(basis)
    if isinstance(basis, str):
        return make_basis(basis, n_basis, **(basis_kwargs or {}))
    raise TypeError(f"basis of {owner} must be a basis name ({available_bases()}) or a "
                    f"taafs_sk.nn.Basis instance, got {basis!r}.")
