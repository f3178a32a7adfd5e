"""The optional dependencies of :mod:`taafs_sk.atomistic` (ase, torchani), with one clear
error when they are missing."""

from __future__ import annotations

from importlib import import_module
from types import ModuleType

__all__ = ["INSTALL_HINT", "require"]

INSTALL_HINT = "pip install taafs-sk[atomistic]"


def require(name: str) -> ModuleType:
    """Import and return the module ``name`` (``'ase'``, ``'torchani'``, or a submodule).

    Raises
    ------
    ImportError
        Naming the missing package and the install command.

    Examples
    --------
    >>> from taafs_sk.atomistic._deps import require
    >>> require("ase").__name__
    'ase'
    """
    try:
        return import_module(name)
    except ImportError as exc:
        top = name.partition(".")[0]
        raise ImportError(
            f"taafs_sk.atomistic needs the package {top!r}, which is not installed "
            f"({exc}); install the atomistic extra: {INSTALL_HINT}"
        ) from exc
