"""Input checks shared by the whole library (no torch here: see ``taafs_sk.nn.checks``).

Two kinds of checks live here:

- :class:`RegisteredNames`, a parameter constraint for the estimators that take plug-in names
  (validated the scikit-learn way, in ``fit``);
- the helpers that every public *non-estimator* callable uses on its arguments
  (:func:`check_count`, :func:`check_real`, :func:`check_levels`, :func:`check_finite_array`,
  :func:`check_non_empty`, :func:`check_choice`, :func:`check_estimator_kind`). Each raises
  ``TypeError`` for a wrong type and ``ValueError`` for a bad value, with a message that names
  the parameter and the bad value (and for arrays the row and column), and returns the value
  in a canonical form, so a call site reads ``n = check_count("n_draws", n_draws)``.

The torch-dependent checks (``check_device``, ``check_torch_module``) are in
``taafs_sk.nn.checks``: this module is imported by the layers that must not import torch.
The scalar, array and warning helpers import neither scikit-learn nor torch (the
scikit-learn-based ones load lazily), so every layer, ``nn`` included, may use them.
"""

from ._arrays import check_finite_array, check_levels, check_non_empty
from ._scalars import check_choice, check_count, check_real
from ._warnings import user_stacklevel, warn_user
from ._weights import canonical_order, repeat_weighted_rows

__all__ = [
    "RegisteredNames",
    "canonical_order",
    "check_choice",
    "check_count",
    "check_estimator_kind",
    "check_finite_array",
    "check_levels",
    "check_model",
    "check_non_empty",
    "check_real",
    "check_table",
    "repeat_weighted_rows",
    "user_stacklevel",
    "warn_user",
]

# The checks that need scikit-learn load on first use, so that the torch layer (nn, which
# must not import scikit-learn) can use the others.
_LAZY = {"RegisteredNames", "check_estimator_kind", "check_model", "check_table"}


def __getattr__(name: str):
    if name in _LAZY:
        from . import _kinds

        return getattr(_kinds, name)
    raise AttributeError(f"module 'taafs_sk._validation' has no attribute {name!r}")
