"""One registry of plug-in classes by name, for every family users extend by name.

The basis families of :mod:`taafs_sk.nn` (:func:`~taafs_sk.nn.register_basis`) and the 1-D
kernels of :mod:`taafs_sk.additive` (:func:`~taafs_sk.additive.register_kernel`) are two
:class:`Registry` objects with the same rules:

- a name is a non-empty string; a class is a subclass of the family's base class (an instance
  is refused, with the hint to pass its class);
- a built-in name, or a name given to another class, is replaced only with
  ``overwrite=True``; registering the same class again, or a re-run of its definition (a
  notebook cell run twice), is always allowed; reserved names are never given;
- estimators read the registry when they are fitted, so a registration reaches estimators
  made before it;
- a pickled estimator carries the user registrations (:meth:`Registry.add_to_state`) and
  makes them again where it is unpickled (:meth:`Registry.restore_from_state`), so names
  work in the worker processes of ``GridSearchCV(n_jobs=...)``. Classes travel by reference
  when importable and by value when defined in ``__main__`` (cloudpickle); a process that
  already gives a name to another class keeps its own, with a warning.

Pure Python: no torch, no scikit-learn, so every layer may use it.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable

try:  # joblib's dependency; sends classes defined in __main__ by value
    import cloudpickle
except ImportError:  # pragma: no cover - plain pickle: importable classes only
    import pickle as cloudpickle

__all__ = ["Registry"]


def _same_definition(a: type, b: type) -> bool:
    """The same class, or a re-execution of its definition."""
    return a is b or (a.__module__, a.__qualname__) == (b.__module__, b.__qualname__)


def _path(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


class Registry:
    """Name -> class of one plug-in family: the built-in classes and the users' ones.

    Parameters
    ----------
    base : type
        Every registered class subclasses it.
    builtin : dict of str to type
        The built-in classes, in the order :meth:`names` lists them.
    what : str
        The family's word in messages (``'basis'``, ``'kernel'``).
    register_name : str
        The public function that registers (named in messages).
    base_path : str
        The public dotted name of ``base`` (named in messages).
    reserved : dict of str to str, default=None
        Names never given, each with the reason (for example the fixed activations, which
        ``basis=`` already means).
    check : callable, default=None
        ``check(cls, owner)`` raises for a class that does not fulfil the family's contract.

    Attributes
    ----------
    classes : dict of str to type
        The registry itself (public as ``taafs_sk.nn.bases.BASES`` and
        ``taafs_sk.additive.KERNELS``).

    Examples
    --------
    >>> from taafs_sk._registry import Registry
    >>> class Shape: ...
    >>> class Square(Shape): ...
    >>> shapes = Registry(Shape, {}, what="shape", register_name="register_shape",
    ...                   base_path="Shape")
    >>> shapes.register("square", Square).__name__, shapes.names()
    ('Square', ['square'])
    """

    def __init__(self, base: type, builtin: dict[str, type], *, what: str, register_name: str,
                 base_path: str, reserved: dict[str, str] | None = None,
                 check: Callable[[type, str], None] | None = None) -> None:
        self.base = base
        self.builtin = dict(builtin)
        self.classes: dict[str, type] = dict(builtin)
        self.what, self.register_name, self.base_path = what, register_name, base_path
        self.reserved = dict(reserved or {})
        self.check = check

    def names(self) -> list[str]:
        """The names known now, built-in ones first."""
        return list(self.classes)

    def user(self) -> dict[str, type]:
        """Name -> class of the registrations that are not the built-in class of their name."""
        return {n: c for n, c in self.classes.items() if self.builtin.get(n) is not c}

    def register(self, name: str, cls: type, *, overwrite: bool = False) -> type:
        """Give ``name`` to ``cls`` (see the module docstring for the rules); return ``cls``."""
        fn = self.register_name
        if not isinstance(name, str):
            raise TypeError(f"name of {fn} must be a str, got {name!r}.")
        if not name or name != name.strip():
            raise ValueError(f"name of {fn} must be a non-empty word, got {name!r}.")
        if not (isinstance(cls, type) and issubclass(cls, self.base)):
            hint = " (pass the class, not an instance)" if isinstance(cls, self.base) else ""
            raise TypeError(
                f"cls of {fn}({name!r}, ...) must be a subclass of {self.base_path}, got "
                f"{cls!r}{hint}."
            )
        if name in self.reserved:
            raise ValueError(f"name {name!r} of {fn} is {self.reserved[name]}; choose another "
                             "name.")
        old = self.classes.get(name)
        if old is not None and not overwrite and not _same_definition(old, cls):
            kind = (f"the built-in {self.what}" if self.builtin.get(name) is old
                    else f"the {self.what} registered as")
            raise ValueError(
                f"name {name!r} of {fn} is taken by {kind} {old.__qualname__}; pass "
                f"overwrite=True to replace it or choose another name (taken: "
                f"{sorted(self.classes)})."
            )
        if self.check is not None:
            self.check(cls, f"{fn}({name!r}, {cls.__name__})")
        self.classes[name] = cls
        return cls

    def unregister(self, name: str) -> None:
        """Remove a user registration; a built-in name gets its built-in class back."""
        if name not in self.user():
            raise ValueError(f"{name!r} is not a user-registered {self.what}; those are "
                             f"{sorted(self.user())}.")
        if name in self.builtin:
            self.classes[name] = self.builtin[name]
        else:
            del self.classes[name]

    def add_to_state(self, state: dict, key: str) -> dict:
        """``state`` (an estimator's pickled ``__dict__``) plus the user registrations, each
        pickled on its own under ``key`` (a class that cannot be pickled is left out)."""
        carried = {}
        for name, cls in self.user().items():
            try:
                carried[name] = cloudpickle.dumps(cls)
            except Exception:  # noqa: BLE001 - e.g. a class defined inside a function
                continue
        return {**state, key: carried} if carried else state

    def restore_from_state(self, state: dict, key: str, owner: str) -> dict:
        """Make the registrations that ``state`` carries under ``key`` and return ``state``
        without them. A class that cannot be restored here (its module is missing) is
        skipped, so ``fit`` names the valid ones; a name this process gives to another user
        class keeps it, with a warning."""
        state = dict(state)
        for name, blob in state.pop(key, {}).items():
            try:
                cls = cloudpickle.loads(blob)
            except Exception:  # noqa: BLE001 - ImportError, AttributeError, ...
                continue
            current = self.classes.get(name)
            if current is None or current is self.builtin.get(name):
                self.classes[name] = cls
            elif not _same_definition(current, cls):
                warnings.warn(
                    f"{owner}: the unpickled estimator knew {self.what} {name!r} as "
                    f"{_path(cls)}, but here it is registered to {_path(current)}, which fit "
                    f"will use. Call {self.register_name}({name!r}, {cls.__qualname__}, "
                    "overwrite=True) to use the former.",
                    UserWarning,
                    stacklevel=3,
                )
        return state

    def known(self, extra: Iterable[str] = ()) -> list[str]:
        """The names known now, then ``extra`` (names the parameter also accepts)."""
        return [*self.classes, *extra]
