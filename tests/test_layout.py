"""The house map of CONTRIBUTING.md, checked against the code: which folder may import which.

Every import counts, including those inside functions (a lazy import is still a dependency).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "taafs_sk"

# Layer -> the layers (besides itself) it may import. Data flows one way:
# loader -> featurizer -> estimator -> analog wrapper -> study -> plot -> cli.
ALLOWED = {
    "exceptions": set(),
    "_registry": set(),
    "_validation": set(),
    "featurizers": {"exceptions", "_validation"},
    "_data_files": {"_validation"},
    "datasets": {"_data_files", "_validation"},
    "nn": {"exceptions", "_registry", "_validation"},
    "taafs": {"nn", "exceptions", "_registry", "_validation"},
    "additive": {"nn", "exceptions", "_registry", "_validation"},
    "analog": {"nn", "taafs", "additive", "exceptions", "_validation"},
    "atomistic": {"nn", "taafs", "exceptions", "_registry", "_validation"},
    "ensemble": {"taafs", "exceptions", "_validation"},
    "integrations": {"nn", "atomistic", "exceptions", "_validation"},
    "studies": {"analog", "taafs", "additive", "nn", "featurizers", "datasets", "exceptions",
                "_validation"},
    "plotting": {"nn", "_validation"},
    "cli": {"studies", "plotting", "datasets", "exceptions", "_validation"},
}
# Third-party packages a layer must not import (nn is torch only; featurizers and the
# loaders never need torch).
FORBIDDEN = {
    "nn": {"sklearn", "skorch"},
    "featurizers": {"torch", "skorch"},
    "datasets": {"torch", "skorch"},
    "_data_files": {"torch", "skorch"},
    "_registry": {"torch", "skorch", "sklearn"},
    "_validation": {"torch", "skorch"},
}
ROOT_MODULES = {"__init__", "_legacy"}  # the package's front door may import anything


def _layer(path: Path) -> str:
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


def _imports(path: Path):
    """(line, absolute module name) of every import in the file."""
    package = ".".join(("taafs_sk", *path.relative_to(PACKAGE).with_suffix("").parts))
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module
            if name == "taafs_sk" or (node.level and not node.module):
                yield from ((node.lineno, f"{name}.{alias.name}") for alias in node.names)
            else:
                yield node.lineno, name


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if _layer(p) not in ROOT_MODULES)


def test_every_module_has_a_layer():
    assert {_layer(p) for p in MODULES} <= set(ALLOWED)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_module_imports_only_layers_below_it(path):
    layer = _layer(path)
    bad = []
    for line, name in _imports(path):
        top, _, rest = name.partition(".")
        if top == "taafs_sk":
            target = rest.partition(".")[0]
            if target not in (layer, "__version__") and target not in ALLOWED[layer]:
                bad.append(f"line {line}: {name}")
        elif top in FORBIDDEN.get(layer, ()):
            bad.append(f"line {line}: {name} (third-party, forbidden in {layer})")
    assert not bad, f"{path.relative_to(PACKAGE)} ({layer}) imports above its layer: {bad}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_module_is_small(path):
    # STYLE.md: one job per module, <= ~400 lines
    n_lines = len(path.read_text().splitlines())
    assert n_lines <= 420, f"{path.relative_to(PACKAGE)} has {n_lines} lines"


def test_featurizers_import_without_torch():
    code = ("import sys, taafs_sk.featurizers, taafs_sk.datasets; "
            "heavy = {'torch', 'skorch'} & set(sys.modules); "
            "assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_third_party_force_fields_are_never_imported_by_the_package():
    # taafs_sk.integrations loads mace/chgnet/e3nn only when one of its functions is called
    code = ("import sys, taafs_sk, taafs_sk.atomistic, taafs_sk.nn, taafs_sk.integrations; "
            "heavy = {'mace', 'chgnet', 'e3nn'} & {m.split('.')[0] for m in sys.modules}; "
            "assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True)


# Subpackages whose private modules every layer may use (the shared checks and the registry).
SHARED_PRIVATE = {"_validation", "_registry"}


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_private_module_of_another_subpackage_is_imported(path):
    layer = _layer(path)
    bad = []
    for line, name in _imports(path):
        parts = name.split(".")
        if parts[0] != "taafs_sk" or len(parts) < 3 or parts[1] in (layer, *SHARED_PRIVATE):
            continue
        if any(part.startswith("_") for part in parts[2:]):
            bad.append(f"line {line}: {name}")
    assert not bad, (f"{path.relative_to(PACKAGE)} imports private modules of another "
                     f"subpackage (use its public module): {bad}")


def _code_lines(node: ast.AST, lines: list[str]) -> int:
    """Lines of ``node`` that are neither blank, comments, nor its docstring."""
    doc = node.body[0] if ast.get_docstring(node) is not None else None
    skip = range(doc.lineno, doc.end_lineno + 1) if doc is not None else range(0)
    return sum(1 for n in range(node.lineno, node.end_lineno + 1)
               if n not in skip and lines[n - 1].strip()
               and not lines[n - 1].strip().startswith("#"))


def _only_stores_arguments(node: ast.FunctionDef) -> bool:
    """An estimator's ``__init__``: ``self.<name> = <name>`` for each argument, nothing else."""
    body = node.body[1:] if ast.get_docstring(node) is not None else node.body
    return node.name == "__init__" and all(
        isinstance(s, ast.Assign) and isinstance(s.value, ast.Name)
        and len(s.targets) == 1 and isinstance(s.targets[0], ast.Attribute)
        and s.targets[0].attr == s.value.id for s in body)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_functions_are_short(path):
    # STYLE.md: functions <= ~40 code lines; an estimator's __init__ that only stores its
    # parameters (scikit-learn's rule) is as long as its parameter list
    lines = path.read_text().splitlines()
    long = [f"{node.name} (line {node.lineno}): {_code_lines(node, lines)}"
            for node in ast.walk(ast.parse("\n".join(lines)))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and _code_lines(node, lines) > 40 and not _only_stores_arguments(node)]
    assert not long, f"{path.relative_to(PACKAGE)} has long functions: {long}"
