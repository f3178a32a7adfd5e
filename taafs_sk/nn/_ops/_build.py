"""Build, cache and load the compiled TAAF operator, or say once why it is unavailable.

The C++ source ``taaf_op.cpp`` (one translation unit, ``-O3``, OpenMP, AVX2 and FMA where
the CPU has them, no CUDA) is compiled by :func:`torch.utils.cpp_extension.load` on first use
into a cache folder outside the source tree, named after a digest of the source, the flags,
torch and Python: later processes load the library directly, and a changed source or torch
builds a new one. Concurrent first uses (test workers) wait on torch's lock in that folder, so
the build is paid once per machine. The folder is ``$TAAFS_SK_EXTENSIONS_DIR``, else
``$XDG_CACHE_HOME/taafs_sk/extensions``, else ``~/.cache/taafs_sk/extensions``.

``TAAFS_SK_COMPILED_OP=0`` switches the operator off (the Python kernels run, silently).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import threading
import time
import warnings
from pathlib import Path

import torch

__all__ = ["SOURCE", "OperatorState", "STATE", "cache_dir", "extension_name", "load_library",
           "open_operator"]

SOURCE = Path(__file__).with_name("taaf_op.cpp")
#: A lock file older than this (seconds) is left over from a killed build and is removed.
_STALE_LOCK = 900.0


def _arch_flags() -> list[str]:
    capability = torch.backends.cpu.get_cpu_capability()
    return ["-mavx2", "-mfma"] if capability in ("AVX2", "AVX512") else []


def _flags() -> list[str]:
    return ["-O3", "-fno-trapping-math", "-fopenmp", *_arch_flags()]


def extension_name() -> str:
    """Library name: a digest of the source, flags, torch and Python versions."""
    digest = hashlib.sha256(SOURCE.read_bytes())
    digest.update(" ".join([*_flags(), torch.__version__, sys.version]).encode())
    return f"taafs_sk_taaf_op_{digest.hexdigest()[:12]}"


def cache_dir() -> Path:
    """The folder that holds the built libraries (see the module docstring)."""
    root = os.environ.get("TAAFS_SK_EXTENSIONS_DIR")
    if root:
        return Path(root)
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "taafs_sk" / "extensions"


def _ensure_ninja() -> None:
    """Put the environment's ``ninja`` on PATH (a venv's scripts folder may not be on it)."""
    if shutil.which("ninja"):
        return
    for folder in (os.path.dirname(sys.executable), _ninja_package_dir()):
        if folder and os.path.exists(os.path.join(folder, "ninja")):
            os.environ["PATH"] = folder + os.pathsep + os.environ.get("PATH", "")
            return
    raise RuntimeError("ninja was not found (pip install ninja)")


def _ninja_package_dir() -> str | None:
    try:
        import ninja  # noqa: PLC0415  (optional helper package)
    except ImportError:
        return None
    return getattr(ninja, "BIN_DIR", None)


def _remove_stale_lock(folder: Path) -> None:
    lock = folder / "lock"
    if lock.exists() and time.time() - lock.stat().st_mtime > _STALE_LOCK:
        lock.unlink(missing_ok=True)


def load_library() -> float:
    """Load the operator into torch (``torch.ops.taafs_sk``), building it if needed.

    Returns the seconds spent building (0 when the cached library was loaded)."""
    name = extension_name()
    folder = cache_dir() / name
    library = folder / f"{name}.so"
    if not (folder / "lock").exists() and library.exists():  # built, and no build running
        torch.ops.load_library(str(library))
        return 0.0
    from torch.utils import cpp_extension  # noqa: PLC0415  (slow import, first build only)

    _ensure_ninja()
    folder.mkdir(parents=True, exist_ok=True)
    _remove_stale_lock(folder)
    start = time.perf_counter()
    cpp_extension.load(name=name, sources=[str(SOURCE)], extra_cflags=_flags(),
                       extra_ldflags=["-fopenmp"], build_directory=str(folder),
                       is_python_module=False, verbose=False)
    return time.perf_counter() - start


def open_operator():
    """``torch.ops.taafs_sk.taaf``'s C++ entry point, loading (or building) the library."""
    build_seconds = 0.0
    if not hasattr(torch.ops.taafs_sk, "taaf"):
        build_seconds = load_library()
    return torch.ops.taafs_sk.taaf.default._op, build_seconds


class OperatorState:
    """Whether the compiled operator is usable in this process, loaded on first ask.

    ``op`` is the operator ``torch.ops.taafs_sk.taaf.default`` once loaded (its C++ entry
    point, which skips one Python frame per call), None when it is unavailable
    (then ``reason`` says why, in the warning given once). ``enabled`` is the switch that
    :func:`~taafs_sk.nn._ops.use_compiled` and ``TAAFS_SK_COMPILED_OP`` set."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Forget the outcome of loading (the library itself stays loaded)."""
        self.op = None
        self.tried = False
        self.reason: str | None = None
        self.build_seconds = 0.0
        self.enabled = os.environ.get("TAAFS_SK_COMPILED_OP", "1") != "0"

    def get(self):
        """The operator, loading it on the first call; None when unavailable (warns once)."""
        if self.tried:
            return self.op
        with self._lock:
            if not self.tried:
                self._load()
                self.tried = True
        return self.op

    def _load(self) -> None:
        try:
            self.op, self.build_seconds = open_operator()
        except Exception as exc:  # no compiler, no ninja, a failed build: Python kernels
            self.reason = f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1][:300]}"
            warnings.warn(
                "taafs_sk: the compiled TAAF operator is unavailable, so TAAFs use the slower "
                f"Python kernels ({self.reason}). Install a C++ compiler and ninja to build "
                "it, or set TAAFS_SK_COMPILED_OP=0 to use the Python kernels without this "
                "warning.", UserWarning, stacklevel=4)


#: The one state of this process.
STATE = OperatorState()
