"""Bad input across the whole public API: every public callable (found by walking the
package, so a new public name is seen at once: see :mod:`tests.battery.discovery`), the
public methods of the torch, atomistic and analog classes, the loaders and the command line.

Each case calls one public callable with one bad argument (wrong type, empty, NaN/inf,
negative, out of range, unfitted, wrong kind of model) and requires a ``ValueError`` or
``TypeError`` (or ``NotFittedError``) whose message names the parameter and, where it has
one, the bad value: never another exception type, never a silent NaN, never a partly written
file. :func:`test_every_public_callable_has_a_bad_input_case` fails, listing them, when a
public callable or method has no case in ``tests/battery/`` (and is not in
:data:`NOT_YET_COVERED`, the list of names whose cases their authors are still writing).
A case marked ``known_bug`` fails today in code owned elsewhere: it runs as a strict xfail
while the work is in progress, and :func:`test_no_case_is_left_as_a_known_bug` keeps any from
landing.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.battery import all_cases
from tests.battery.common import BAD, akn_fitted, taafs_fitted
from tests.battery.discovery import (
    LIBRARY_HOOKS,
    method_of,
    public_callables,
    public_classes,
    public_methods,
)

#: Public callables whose bad-input cases are still being written by the helper who owns
#: them (this session). Every entry is a debt: remove it when its cases land below. The test
#: below fails if a name here already has cases (a stale entry) or is no longer public.
NOT_YET_COVERED: dict[str, str] = {}

CASES = all_cases()


# ------------------------------------------------------------------ the tests
def _covered() -> set[str]:
    """Public callables and methods (by their name in :func:`public_methods`) with a case."""
    names = {case.name for case in CASES} | {"main"}  # main: CLI_CASES below
    functions = {method_of(name) for name in names if "." in name} - {None}
    methods = {name for name in public_methods()
               if method_of(name) in functions}
    return names | methods


def test_every_public_callable_has_a_bad_input_case():
    covered = _covered()
    public = public_callables() | {name: "method" for name in public_methods()}
    missing = sorted(set(public) - covered - set(NOT_YET_COVERED))
    assert not missing, (
        "public callables with no bad-input case in tests/battery/: "
        + ", ".join(f"{n} ({public[n]})" for n in missing)
    )
    stale = sorted(set(NOT_YET_COVERED) & covered)
    assert not stale, f"NOT_YET_COVERED lists names that now have cases: {stale}"
    gone = sorted(set(NOT_YET_COVERED) - set(public))
    assert not gone, f"NOT_YET_COVERED lists names that are not public callables: {gone}"


def test_every_case_names_a_public_callable():
    public = public_callables()
    unknown = sorted({case.name for case in CASES
                      if case.name not in public and method_of(case.name) is None})
    assert not unknown, f"cases naming no public callable or method: {unknown}"


def test_every_library_hook_exists():
    classes = public_classes()
    gone = sorted(name for name in LIBRARY_HOOKS
                  if not hasattr(classes.get(name.partition(".")[0]), name.partition(".")[2]))
    assert not gone, f"LIBRARY_HOOKS names methods that do not exist: {gone}"


def _names(message: str, word: str) -> bool:
    """Whether ``word`` appears in ``message`` as a word of its own (``x`` in ``x must``,
    not in ``index``), case-insensitively."""
    return re.search(rf"(?<![\w]){re.escape(word)}(?![\w])", message, re.IGNORECASE) is not None


def test_no_case_is_left_as_a_known_bug():
    """``known_bug`` serves parallel work in progress; what lands on main has none (a known
    bad-input bug is fixed, not carried as an expected failure)."""
    assert not [case.id for case in CASES if case.known_bug]


def _param(case):
    if case.known_bug:
        return pytest.param(case, marks=pytest.mark.xfail(strict=True, reason=case.known_bug))
    return case


@pytest.mark.parametrize("case", [_param(c) for c in CASES], ids=lambda c: c.id)
def test_bad_input_is_refused_with_a_message_naming_it(case, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # anything written by mistake lands here (checked below)
    with pytest.raises(Exception) as info:  # noqa: PT011 - the type is checked just below
        case.call()
    exc = info.value
    assert isinstance(exc, case.errors), (
        f"{case.id}: raised {type(exc).__name__}: {exc} (expected one of "
        f"{[e.__name__ for e in case.errors]})"
    )
    message = str(exc)
    assert _names(message, case.param), f"{case.id}: {message!r} lacks {case.param!r}"
    if case.value is not None:
        assert case.value.lower() in message.lower(), (
            f"{case.id}: {message!r} lacks the bad value {case.value!r}"
        )
    assert not list(tmp_path.iterdir()), f"{case.id} left files: {list(tmp_path.iterdir())}"


# ------------------------------------------------------------------ the command line
CLI_CASES = {
    "unknown-command": (["fit"], "fit"),
    "unknown-study": (["study", "nope", "--dataset", "perovskites"], "nope"),
    "unknown-dataset": (["study", "noise", "--dataset", "mnist"], "mnist"),
    "negative-level": (["study", "noise", "--dataset", "perovskites", "--levels", "0,-0.1"],
                       "-0.1"),
    "nan-level": (["study", "noise", "--dataset", "perovskites", "--levels", "nan"], "nan"),
    "zero-draws": (["study", "noise", "--dataset", "perovskites", "--draws", "0"], "0"),
    "text-epochs": (["study", "noise", "--dataset", "perovskites", "--epochs", "many"],
                    "many"),
    "empty-sizes": (["study", "noise", "--dataset", "perovskites", "--sizes", ""], "sizes"),
    "negative-spread": (["study", "naf", "--dataset", "perovskites", "--spreads", "-1"], "-1"),
}


@pytest.mark.parametrize("argv, bad", CLI_CASES.values(), ids=list(CLI_CASES))
def test_cli_refuses_bad_arguments_in_one_line(argv, bad, tmp_path, capsys, monkeypatch):
    from taafs_sk.cli import main

    monkeypatch.chdir(tmp_path)
    status = main([*argv, "--out", str(tmp_path / "out")] if argv[0] == "study"
                  and len(argv) > 2 else argv)
    err = capsys.readouterr().err
    assert status == 2, err
    assert "Traceback" not in err
    assert bad in err, err
    assert not (tmp_path / "out").exists()  # nothing half written


# ------------------------------------------------------------------ properties
@settings(max_examples=40, deadline=None)
@given(st.one_of(st.integers(max_value=0), st.floats(), st.text(max_size=3), st.none(),
                 st.booleans()))
def test_any_invalid_count_is_refused(value):
    from taafs_sk._validation import check_count

    with pytest.raises(BAD, match="n_draws"):
        check_count("n_draws", value)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=5).filter(
    lambda v: not v or any(not math.isfinite(x) or x < 0 for x in v)))
def test_any_invalid_level_list_is_refused(levels):
    from taafs_sk._validation import check_levels

    with pytest.raises(ValueError, match="levels"):
        check_levels("levels", levels)


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(["legendre", "chebyshev1", "chebyshev2", "hermite", "bessel", "jacobi",
                        "bspline", "fourier", "gaussian_rbf"]),
       st.integers(4, 16),
       st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=8))
def test_any_finite_input_gives_a_finite_activation(basis, n_basis, z):
    from taafs_sk.nn import TAAF, available_bases

    if basis not in available_bases():
        basis = "legendre"
    act = TAAF(basis=basis, n_basis=n_basis)
    out = act(torch.tensor(z, dtype=torch.float32))
    assert torch.isfinite(out).all()


@settings(max_examples=20, deadline=None)
@given(st.lists(st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=3, max_size=3),
                min_size=1, max_size=6))
def test_any_finite_input_gives_finite_predictions(rows):
    X = np.asarray(rows, dtype=float)
    assert np.isfinite(taafs_fitted().predict(X)).all()
    assert np.isfinite(akn_fitted().predict(X)).all()
