"""Import paths of taafs-sk 0.1, kept for one release so that old code and old pickles load.

0.2 moved the modules into one folder per family (see CONTRIBUTING.md). Importing an old path,
for example ``taafs_sk.regressor``, still works, warns with a :class:`FutureWarning` naming the
new path, and gives the *same* module object, so classes pickled under the old path unpickle to
today's classes. The top-level ``featurizers`` package of 0.1 is now
:mod:`taafs_sk.featurizers`; its old name resolves once :mod:`taafs_sk` has been imported.
These aliases go away in 0.3.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import warnings

__all__ = ["MOVED", "install"]

#: Old module name -> new module name.
MOVED: dict[str, str] = {
    "taafs_sk.bases": "taafs_sk.nn.bases",
    "taafs_sk._fused": "taafs_sk.nn._fused",
    "taafs_sk.activations": "taafs_sk.nn.activations",
    "taafs_sk.network": "taafs_sk.nn.network",
    "taafs_sk.tabulated": "taafs_sk.nn.tabulated",
    "taafs_sk.regressor": "taafs_sk.taafs.regressor",
    "taafs_sk.callbacks": "taafs_sk.taafs.callbacks",
    "taafs_sk._iterators": "taafs_sk.taafs._iterators",
    "taafs_sk.additive_kernel": "taafs_sk.additive.estimator",
    "taafs_sk.kernels1d": "taafs_sk.additive.kernels",
    "taafs_sk._additive_likelihood": "taafs_sk.additive._likelihood",
    "taafs_sk._additive_solvers": "taafs_sk.additive._solvers",
    "taafs_sk._direction_search": "taafs_sk.additive._directions",
    "featurizers": "taafs_sk.featurizers",
}


def _new_name(fullname: str) -> str | None:
    if fullname in MOVED:
        return MOVED[fullname]
    head, _, tail = fullname.partition(".")
    if head == "featurizers" and tail:
        return f"taafs_sk.featurizers.{tail}"
    return None


def _is_ours(fullname: str) -> bool:
    """Whether an old ``featurizers`` name means ours: never shadow a user's own package."""
    if fullname == "featurizers":
        return importlib.machinery.PathFinder.find_spec(fullname) is None
    if fullname.startswith("featurizers."):
        parent = sys.modules.get("featurizers")
        return getattr(parent, "__name__", None) == "taafs_sk.featurizers"
    return True


class _Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds an old module name and loads it as the module at its new name."""

    def find_spec(self, fullname, path=None, target=None):
        new = _new_name(fullname)
        if new is None or not _is_ours(fullname):
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec):
        new = _new_name(spec.name)
        warnings.warn(
            f"{spec.name} moved to {new} in taafs-sk 0.2; the old path goes away in 0.3.",
            FutureWarning,
            stacklevel=2,
        )
        return importlib.import_module(new)

    def exec_module(self, module) -> None:  # the module is already executed at its new name
        return None


def install() -> None:
    """Put the alias finder first on :data:`sys.meta_path` (once).

    First, so that ``featurizers.hydrocarbons`` resolves to the one module at its new name
    rather than to a second copy found through the aliased package's ``__path__``.
    """
    if not any(isinstance(f, _Alias) for f in sys.meta_path):
        sys.meta_path.insert(0, _Alias())
