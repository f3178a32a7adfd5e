"""Parameter constraints shared by the estimators that take plug-in names."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sklearn.utils._param_validation import StrOptions

__all__ = ["RegisteredNames"]


class RegisteredNames(StrOptions):
    """A ``StrOptions`` whose options are the names valid *when it is checked* (in ``fit``).

    So a basis or kernel registered after the estimator class was imported, or after the
    estimator was made, is accepted, and the error message lists it.

    Parameters
    ----------
    names : callable
        Returns the valid names, in the order the message lists them.
    hint : str, default=''
        Appended to the description in error messages (how to add a name).

    Examples
    --------
    >>> from taafs_sk._validation import RegisteredNames
    >>> valid = ["a"]
    >>> constraint = RegisteredNames(lambda: valid)
    >>> valid.append("b")
    >>> constraint.is_satisfied_by("b"), str(constraint)
    (True, "a str among {'a', 'b'}")
    """

    def __init__(self, names: Callable[[], Iterable[str]], hint: str = "") -> None:
        # not StrOptions.__init__: the options are read, never stored
        self.hidden = False
        self.type = str
        self.deprecated = set()
        self._names = names
        self.hint = hint

    @property
    def options(self) -> list[str]:
        return list(self._names())

    def __str__(self) -> str:
        return f"{super().__str__()}{f' ({self.hint})' if self.hint else ''}"
