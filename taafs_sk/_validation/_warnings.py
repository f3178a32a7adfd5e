"""Warnings that point at the user's line, however deep in the library they are raised."""

from __future__ import annotations

import os
import sys
import warnings

__all__ = ["user_stacklevel", "warn_user"]

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# frames in these packages are skipped too: sklearn's fit wrappers, skorch's loop, torch's
# Module.__call__ sit between the user's call and the line that warns
_THIRD_PARTY = ("sklearn", "skorch", "torch", "joblib")


def _internal_dirs() -> tuple[str, ...]:
    dirs = [_PACKAGE_DIR]
    for name in _THIRD_PARTY:
        module = sys.modules.get(name)  # a package that is not loaded has no frames
        origin = getattr(module, "__file__", None)
        if origin:
            dirs.append(os.path.dirname(os.path.abspath(origin)))
    return tuple(d + os.sep for d in dirs)


def user_stacklevel() -> int:
    """The ``stacklevel`` that makes a warning raised by the caller point at the user's line.

    It counts the frames, from the function that calls ``warnings.warn`` outwards, that lie in
    ``taafs_sk`` (or in scikit-learn, skorch, torch, joblib, which call back into it).

    Examples
    --------
    >>> from taafs_sk._validation import user_stacklevel
    >>> user_stacklevel()  # called from outside the package: its own caller
    1
    """
    internal = _internal_dirs()
    frame = sys._getframe(1)
    level = 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(internal):
        frame = frame.f_back
        level += 1
    return level


def warn_user(message: str, category: type[Warning] = UserWarning) -> None:
    """``warnings.warn(message, category)`` pointing at the first frame outside the library.

    Parameters
    ----------
    message : str
        The warning's text.
    category : Warning subclass, default=UserWarning
        Its category.

    Examples
    --------
    >>> import warnings
    >>> from taafs_sk._validation import warn_user
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_user("careful")
    >>> str(caught[0].message), caught[0].filename.endswith("_warnings.py")
    ('careful', False)
    """
    internal = _internal_dirs()
    frame = sys._getframe(1)
    level = 2  # 1 would be this line
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(internal):
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)
