"""Checks of kinds: registered plug-in names (an estimator constraint) and estimator kinds."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sklearn.utils._param_validation import StrOptions

from ._text import short as _short


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


def check_estimator_kind(
    name: str,
    obj: Any,
    accepted: Sequence[type] | type,
    fitted: bool = True,
    hint: str = "",
) -> Any:
    """Check that ``obj`` is an instance of one of ``accepted`` and, optionally, fitted.

    Parameters
    ----------
    name : str
        The parameter's name (used in the message).
    obj : object
        The estimator (or model) given.
    accepted : type or sequence of type
        The accepted classes; the message lists their names.
    fitted : bool, default=True
        Also require ``obj`` to be fitted (scikit-learn's ``check_is_fitted``).
    hint : str, default=''
        Appended to the ``TypeError`` message (for example what to pass instead).

    Returns
    -------
    object
        ``obj`` itself.

    Raises
    ------
    TypeError
        If ``obj`` is not an instance of an accepted class.
    sklearn.exceptions.NotFittedError
        If ``fitted`` and ``obj`` is not fitted.

    Examples
    --------
    >>> from sklearn.linear_model import Ridge
    >>> from taafs_sk._validation import check_estimator_kind
    >>> check_estimator_kind("model", Ridge(), Ridge)
    Traceback (most recent call last):
    ...
    sklearn.exceptions.NotFittedError: model (Ridge) is not fitted yet: call fit first.
    >>> check_estimator_kind("model", "ridge", Ridge)
    Traceback (most recent call last):
    ...
    TypeError: model must be a Ridge, got 'ridge' (str).
    """
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    classes = (accepted,) if isinstance(accepted, type) else tuple(accepted)
    if not isinstance(obj, classes):
        names = " or ".join(c.__name__ for c in classes)
        raise TypeError(f"{name} must be a {names}, got {_short(obj)} "
                        f"({type(obj).__name__}).{f' {hint}' if hint else ''}")
    if fitted:
        try:
            check_is_fitted(obj)
        except NotFittedError:
            raise NotFittedError(f"{name} ({type(obj).__name__}) is not fitted yet: "
                                 "call fit first.") from None
        except TypeError:  # not an estimator (no fit): nothing to check
            pass
    return obj


def check_model(
    name: str,
    obj: Any,
    methods: Sequence[str] = (),
    fitted_attributes: Sequence[str] = (),
    accepted: str = "",
) -> Any:
    """Check a model by what it offers (for layers that cannot import the estimator classes).

    Parameters
    ----------
    name : str
        The parameter's name (used in the message).
    obj : object
        The model given.
    methods : sequence of str, default=()
        Attributes its class must have (methods such as ``activation_functions``).
    fitted_attributes : sequence of str, default=()
        Attributes that only a fitted model has (such as ``module_``).
    accepted : str, default=''
        What is accepted, in words, for the ``TypeError`` message (e.g. ``'a fitted
        TAAFSRegressor'``).

    Returns
    -------
    object
        ``obj`` itself.

    Raises
    ------
    TypeError
        If ``obj`` lacks one of ``methods``.
    sklearn.exceptions.NotFittedError
        If it lacks one of ``fitted_attributes``.

    Examples
    --------
    >>> from sklearn.linear_model import Ridge
    >>> from taafs_sk._validation import check_model
    >>> check_model("model", Ridge(), ["fit"], ["coef_"], "a linear model")
    Traceback (most recent call last):
    ...
    sklearn.exceptions.NotFittedError: model (Ridge) is not fitted yet: call fit first.
    >>> check_model("model", 3, ["fit"], [], "a linear model")
    Traceback (most recent call last):
    ...
    TypeError: model must be a linear model, got 3 (int), which has no 'fit'.
    """
    from sklearn.exceptions import NotFittedError

    missing = [m for m in methods if not hasattr(type(obj), m) and not hasattr(obj, m)]
    if missing:
        raise TypeError(f"{name} must be {accepted or 'a model with ' + ', '.join(methods)}, "
                        f"got {_short(obj)} ({type(obj).__name__}), which has no "
                        f"{missing[0]!r}.")
    absent = [a for a in fitted_attributes if not hasattr(obj, a)]
    if absent:
        if _is_fitted_estimator(obj):  # fitted, yet without them: the wrong kind of model
            raise TypeError(f"{name} must be {accepted or 'a model with ' + absent[0]}, got a "
                            f"fitted {type(obj).__name__}, which has no {absent[0]!r}.")
        raise NotFittedError(f"{name} ({type(obj).__name__}) is not fitted yet: call fit first.")
    return obj


def _is_fitted_estimator(obj: Any) -> bool:
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    if not hasattr(obj, "fit"):
        return False
    try:
        check_is_fitted(obj)
    except (NotFittedError, TypeError):
        return False
    return True


def check_table(name: str, df: Any, what: str = "") -> Any:
    """Check that ``df`` is a non-empty pandas DataFrame; return it.

    Parameters
    ----------
    name : str
        The parameter's name (used in the message).
    df : object
        The table given.
    what : str, default=''
        The function that needs it, for the message.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    TypeError
        If ``df`` is not a DataFrame.
    ValueError
        If it has no rows.

    Examples
    --------
    >>> import pandas as pd
    >>> from taafs_sk._validation import check_table
    >>> check_table("df", pd.DataFrame({"a": []}), "plot_study")
    Traceback (most recent call last):
    ...
    ValueError: df of plot_study must have at least one row, got an empty table with columns ['a'].
    """
    import pandas as pd

    owner = f" of {what}" if what else ""
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"df{owner} must be a pandas DataFrame, got {_short(df)} "
                        f"({type(df).__name__}).".replace("df", name, 1))
    if len(df) == 0:
        raise ValueError(f"{name}{owner} must have at least one row, got an empty table with "
                         f"columns {list(df.columns)}.")
    return df
