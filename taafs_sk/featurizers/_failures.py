"""How the featurizers report entries they could not featurize: a ``ValueError`` naming the
first failed row and its value, or (when the user opted for rows of NaN) one
:class:`FeaturizationWarning` saying how many rows failed."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from .._validation import warn_user

__all__ = ["FeaturizationWarning", "describe_error", "report_failures"]


class FeaturizationWarning(UserWarning):
    """Some entries could not be featurized and were returned as rows of NaN."""


def report_failures(owner: str, entries: Sequence, failures: dict[int, Exception], *,
                    as_nan: bool, opt_out: str = "") -> None:
    """Raise a ``ValueError`` naming the first failed row, or warn when the rows are NaN.

    Parameters
    ----------
    owner : str
        The featurizer's class name (used in the message).
    entries : sequence
        The batch that was featurized.
    failures : dict of int to Exception
        Position in ``entries`` of each failed entry, and its error.
    as_nan : bool
        The failed rows were set to NaN: warn instead of raising.
    opt_out : str, default=''
        Appended to the advice ``pass on_error='nan'`` of the error.

    Examples
    --------
    >>> from taafs_sk.featurizers._failures import report_failures
    >>> report_failures("Featurizer", ["C", "Xx"], {1: KeyError("Xx")}, as_nan=False)
    Traceback (most recent call last):
    ...
    ValueError: Featurizer could not featurize row 1 ('Xx'): 'Xx'. Fix the input, or pass \
on_error='nan' to get rows of NaN instead.
    """
    if not failures:
        return
    first = min(failures)
    value = entries[first]
    value = value.to_dict() if isinstance(value, pd.Series) else value
    what = f"row {first} ({value!r}): {failures[first]}"
    if not as_nan:
        more = f" ({len(failures) - 1} more rows failed too)" if len(failures) > 1 else ""
        raise ValueError(
            f"{owner} could not featurize {what}{more}. Fix the input, or "
            f"pass on_error='nan'{opt_out} to get rows of NaN instead."
        ) from failures[first]
    warn_user(
        f"{owner}: {len(failures)} of {len(entries)} rows could not be "
        f"featurized and were set to NaN; first: {what}",
        FeaturizationWarning,
    )


def describe_error(exc: BaseException) -> str:
    """``'ValueError: ...'``: how matminer's ``return_errors`` shows an entry's error."""
    return f"{type(exc).__name__}: {exc}"
