"""What the battery must cover, found by walking the package (a new public name is seen at
once):

- every callable that takes arguments in the ``__all__`` of ``taafs_sk`` and of each public
  subpackage, and in the ``__all__`` of each public module of :data:`MODULE_PACKAGES` (the
  torch and atomistic halves: ``taafs_sk.atomistic.md``, ``taafs_sk.nn.optimizers``, ...);
- every public method that our code defines (not one inherited from torch, scikit-learn,
  skorch or ASE) and that takes arguments besides ``self``, ``forward`` included, of each
  public class found there in :data:`METHOD_PACKAGES` and those modules; a method is named
  ``"Class.method"`` and one case covers it for every public class that inherits it.

Exceptions, warnings, constants, typing aliases and protocols are not callables with input
to check. :data:`LIBRARY_HOOKS` lists the methods only the library (or torch, skorch, ASE)
calls, with arguments it made itself; a method whose body only raises
``NotImplementedError`` is a contract for subclasses (their implementations need cases).
"""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import pkgutil
import textwrap

import taafs_sk

#: Packages whose public classes' methods need cases.
METHOD_PACKAGES = ("taafs_sk.nn", "taafs_sk.nn.bases", "taafs_sk.atomistic", "taafs_sk.analog")
#: Packages whose public modules' ``__all__`` need cases too (not only what they re-export).
MODULE_PACKAGES = ("taafs_sk.nn", "taafs_sk.nn.bases", "taafs_sk.atomistic")

#: ``"Class.method"`` -> why it has no case: hooks of a plug-in contract or of a framework,
#: called by the library with arguments it built and checked. Overrides in subclasses are
#: hooks too.
LIBRARY_HOOKS: dict[str, str] = {
    "Basis.values": "called by Basis.forward on u already clamped to [-1, 1]",
    "Basis.features": "fused-kernel hook: called by the fused TAAF on clamped u",
    "Basis.second_derivatives": "fused-kernel hook: called by the fused backward",
    "Basis.curvature_features": "fused-kernel hook: called by the fused backward",
    "Basis.cast": "helper of features(): called with the basis' own table names",
    "ValidationRMSE.on_epoch_begin": "skorch callback hook",
    "ValidationRMSE.on_batch_end": "skorch callback hook",
    "EnergyForceLoss.measurements": "called by TrainingNet with the criterion's own outputs",
}


def public_packages() -> list[str]:
    names = ["taafs_sk", "taafs_sk.datasets", "taafs_sk.exceptions"]
    for info in pkgutil.iter_modules(taafs_sk.__path__, "taafs_sk."):
        if info.ispkg and not info.name.rpartition(".")[2].startswith("_"):
            names.append(info.name)
            sub = importlib.import_module(info.name)
            for inner in pkgutil.iter_modules(sub.__path__, info.name + "."):
                if inner.ispkg and not inner.name.rpartition(".")[2].startswith("_"):
                    names.append(inner.name)
    return names


def public_modules() -> list[str]:
    """The public (non-package, non-underscore) modules of :data:`MODULE_PACKAGES`."""
    names = []
    for package in MODULE_PACKAGES:
        path = importlib.import_module(package).__path__
        for info in pkgutil.iter_modules(path, package + "."):
            if not info.ispkg and not info.name.rpartition(".")[2].startswith("_"):
                names.append(info.name)
    return names


def _takes_arguments(obj, skip_first: bool = False) -> bool:
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):
        return True
    return len(signature.parameters) > int(skip_first)


def _is_api_callable(obj) -> bool:
    """A function or a class with input to check (not an exception, a protocol, a typing
    alias or a class built without arguments that is not an estimator)."""
    if inspect.isclass(obj):
        if issubclass(obj, BaseException) or getattr(obj, "_is_protocol", False):
            return False
        return _takes_arguments(obj) or hasattr(obj, "fit")
    return inspect.isfunction(obj) and _takes_arguments(obj)


def _exported(module_names, keep=_is_api_callable) -> dict[str, tuple[str, object]]:
    found: dict[str, tuple[str, object]] = {}
    for module_name in module_names:
        module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            if callable(obj) and keep(obj):
                found.setdefault(name, (module_name, obj))
    return found


def _is_class(obj) -> bool:
    return (inspect.isclass(obj) and not issubclass(obj, BaseException)
            and not getattr(obj, "_is_protocol", False))


@functools.cache
def public_callables() -> dict[str, str]:
    """name -> where it is public, for every public function and class with input."""
    found = _exported(public_packages()) | _exported(public_modules())
    return {name: where for name, (where, _) in sorted(found.items())}


@functools.cache
def public_classes() -> dict[str, type]:
    """name -> class, for the classes whose methods need cases (those built without
    arguments included)."""
    found = _exported([*METHOD_PACKAGES, *public_modules()], keep=_is_class)
    return {name: obj for name, (_, obj) in sorted(found.items())}


def own_method(cls: type, name: str):
    """The function our code defines for ``cls.name`` (found along the MRO), or None when
    there is none, it comes from another library, or it is not a method with arguments."""
    for klass in cls.__mro__:
        if name in vars(klass):
            raw = vars(klass)[name]
            break
    else:
        return None
    static = isinstance(raw, staticmethod)
    fn = raw.__func__ if isinstance(raw, (classmethod, staticmethod)) else raw
    if not inspect.isfunction(fn) or not fn.__module__.startswith("taafs_sk."):
        return None
    return fn if _takes_arguments(fn, skip_first=not static) else None


def _is_stub(fn) -> bool:
    """Whether ``fn``'s body (after its docstring) is one ``raise NotImplementedError``."""
    source = textwrap.dedent(inspect.getsource(inspect.unwrap(fn)))
    body = ast.parse("if True:\n" + textwrap.indent(source, "    ")).body[0].body[0].body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    if len(body) != 1 or not isinstance(body[0], ast.Raise) or body[0].exc is None:
        return False
    exc = body[0].exc.func if isinstance(body[0].exc, ast.Call) else body[0].exc
    return isinstance(exc, ast.Name) and exc.id == "NotImplementedError"


def is_library_hook(cls: type, name: str) -> bool:
    return any(f"{klass.__name__}.{name}" in LIBRARY_HOOKS for klass in cls.__mro__)


@functools.cache
def public_methods() -> dict[str, str]:
    """``"Class.method"`` -> the qualified name of the function our code defines, for each
    method that needs a case (one entry per function: the defining class' name where it is
    public, else the first public class that inherits it)."""
    classes = public_classes()
    by_function: dict[object, list[str]] = {}
    for cls_name, cls in classes.items():
        for name in dir(cls):
            if name.startswith("_") or is_library_hook(cls, name):
                continue
            fn = own_method(cls, name)
            if fn is not None and not _is_stub(fn):
                by_function.setdefault(fn, []).append(f"{cls_name}.{name}")
    out = {}
    for fn, names in by_function.items():
        owner = fn.__qualname__.split(".")[0]
        name = next((n for n in names if n.split(".")[0] == owner), sorted(names)[0])
        out[name] = f"{fn.__module__}.{fn.__qualname__}"
    return dict(sorted(out.items()))


def method_of(case_name: str):
    """The function a case named ``"Class.method"`` calls, or None if that is not a public
    method (any public class, of any subpackage, may be named)."""
    cls_name, _, method = case_name.partition(".")
    cls = public_classes().get(cls_name) or _any_public_class(cls_name)
    return None if cls is None or not method else own_method(cls, method)


def _any_public_class(name: str):
    where = public_callables().get(name)
    obj = getattr(importlib.import_module(where), name) if where else None
    return obj if inspect.isclass(obj) else None
