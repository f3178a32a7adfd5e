"""The data files behind :mod:`taafs_sk.datasets`: where they live, their checksums, how
they are read (verified, cached) or downloaded, and which of them are present."""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
import tempfile
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

__all__ = ["DATA_URLS", "FILES", "fetch", "get_data_home", "list_datasets"]


@dataclass(frozen=True)
class _DataFile:
    dataset: str
    path: str  # relative to data_home
    sha256: str  # of the content (decompressed for .gz files)
    rows: int


FILES = {
    "compas-3x": _DataFile("hydrocarbons (xtb)", "compas3_peri_pbh/compas-3x.csv.gz",
                           "370eae02b427d1e34e4498d0a9cd038b576df9662fbe8766344da82379b42a34",
                           39482),
    "compas-3D": _DataFile("hydrocarbons (dft)", "compas3_peri_pbh/compas-3D.csv.gz",
                           "23a3d9b91a95aa7d6dc6db28cdd9e3bcb7ff69fdc5f8ddaddfbcda3cc40adc40",
                           8844),
    "manzhos": _DataFile("double perovskites (manzhos)",
                         "manzhos-double-perovskites/perovskite_ML_data.dat",
                         "ae343508454b347734b52d8ec8114bce0fd38c777f2c5eb446f41f8e65ff7292", 540),
    "pilania": _DataFile("double perovskites (pilania)",
                         "double_perovskites_gap/double_perovskites_gap.csv",
                         "dada836df58ea08eb8f724db670324bcb82c355e64677c3fd8d41be16b631c5d", 1306),
    "pilania-lumo": _DataFile("double perovskites (pilania, element LUMO)",
                              "double_perovskites_gap/double_perovskites_gap_lumo.csv",
                              "101582f37cd95070548c70f4a1b6fba647533166ccfe3a9e12895317476dcb3f",
                              55),
    "qm9": _DataFile("qm9", "qm9_zpve/qm9_union.csv.gz",
                     "213d6fe120aa5ee214427fd8e13fc4baab75fbc67147dfd824899527e894effd", 63768),
    # PWMLFF example DFT trajectories (extended XYZ; rows = frames)
    "pwmlff-cu": _DataFile("pwmlff md (cu)", "pwmlff_md/cu.extxyz.gz",
                           "8422fe62a9d217c7e1082009a4ddd0ec79fd62c1c1fd2736a17d1c8257e0832b",
                           200),
    "pwmlff-hfo2": _DataFile("pwmlff md (hfo2)", "pwmlff_md/hfo2.extxyz.gz",
                             "85ea8a6f7940a924fcbcaa88244d549122c4b16aaf7ec18f5bd0740410a8f42e",
                             150),
    "pwmlff-ec": _DataFile("pwmlff md (ec)", "pwmlff_md/ec.extxyz.gz",
                           "6e8d7b846aa95a2bab6992535af483b7d58c9f6b9b57c9c1bc4c541d50f67554",
                           200),
}

_GH = "https://raw.githubusercontent.com"
#: Download URL of each data file (key: path relative to the data folder). The files are
#: fetched as published (uncompressed) and gzipped locally when the local name ends in
#: ``.gz``. Replace an entry to use a mirror, or a ``file://`` URL. The QM9 union has no
#: single public origin (it merges four published samples), so it has no default URL; nor
#: have the PWMLFF trajectories (converted from PWmat MOVEMENT files, see load_pwmlff).
DATA_URLS: dict[str, str | None] = {
    FILES["compas-3x"].path:
        f"{_GH}/Kasigee/web-isomer-app/7a2dff563e3ef4d08c651f6b5277c185fe3bf8e6/compas-3x.csv",
    FILES["compas-3D"].path:
        f"{_GH}/Kasigee/web-isomer-app/7a2dff563e3ef4d08c651f6b5277c185fe3bf8e6/compas-3D.csv",
    FILES["manzhos"].path:
        f"{_GH}/sergeimanzhos/optGPRNN/2a54e1212e124f6399c499fba00b8993dacb0b96/"
        "perovskite_ML_data.dat",
    FILES["pilania"].path:
        f"{_GH}/Zhang-NJ-Lab/Datasets/02c69072520ce5be65e2e51b0d237e8dc90d9a53/"
        "double_perovskites_gap.csv",
    FILES["pilania-lumo"].path:
        f"{_GH}/Zhang-NJ-Lab/Datasets/02c69072520ce5be65e2e51b0d237e8dc90d9a53/"
        "double_perovskites_gap_lumo.csv",
    FILES["qm9"].path: None,
    # converted from PWMLFF's MOVEMENT files (see load_pwmlff); no published extxyz
    FILES["pwmlff-cu"].path: None,
    FILES["pwmlff-hfo2"].path: None,
    FILES["pwmlff-ec"].path: None,
}


# ---------------------------------------------------------------------- files
def get_data_home(data_home: str | os.PathLike | None = None) -> Path:
    """Return the data folder: ``data_home``, else ``$TAAFS_SK_DATA``, else ``~/taafs_sk_data``.

    Examples
    --------
    >>> from taafs_sk.datasets import get_data_home
    >>> str(get_data_home("/tmp/my_data"))
    '/tmp/my_data'
    """
    if data_home is None:
        data_home = os.environ.get("TAAFS_SK_DATA", Path("~") / "taafs_sk_data")
    if not isinstance(data_home, (str, os.PathLike)):
        raise TypeError(f"data_home must be a path (str or os.PathLike) or None, got "
                        f"{data_home!r} ({type(data_home).__name__}).")
    home = Path(data_home).expanduser()
    if home.exists() and not home.is_dir():
        raise ValueError(f"data_home must be a folder, got {str(home)!r}, which is a file.")
    return home


def _content(raw: bytes, path: str) -> bytes:
    return gzip.decompress(raw) if path.endswith(".gz") else raw


@functools.lru_cache(maxsize=16)
def _read_verified(full_path: str, expected: str, mtime_ns: int, size: int) -> bytes:
    """Read a file and check the sha256 of its (decompressed) content; cached per version."""
    raw = Path(full_path).read_bytes()
    try:
        content = _content(raw, full_path)
    except (OSError, EOFError, zlib.error) as exc:  # a damaged gzip stream
        raise ValueError(
            f"checksum mismatch for {full_path}: it does not decompress ({exc}), so its "
            f"content cannot have the expected sha256 {expected}. The file is corrupt: "
            f"delete it to download it again."
        ) from exc
    actual = hashlib.sha256(content).hexdigest()
    if actual != expected:
        raise ValueError(
            f"checksum mismatch for {full_path}: expected sha256 {expected} of its "
            f"{'decompressed ' if full_path.endswith('.gz') else ''}content, got {actual}. "
            f"The file is corrupt or a different version: delete it to download it again."
        )
    return content


def _download(url: str, target: Path, expected: str) -> None:
    """Download ``url`` to ``target``, atomically: the bytes go to a temporary file in the
    target's folder, are verified, and only then renamed to ``target``. On any failure
    (network error half way, a damaged gzip stream, a wrong checksum, a full disk) no file
    is left behind and an existing ``target`` is never touched."""
    try:
        with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 - fixed URLs
            raw = response.read()
    except (urllib.error.URLError, OSError, ValueError, EOFError) as exc:
        raise OSError(
            f"could not download {target.name} from {url} ({exc}). Download it by hand and "
            f"save it as {target}, or set data_home / TAAFS_SK_DATA to a folder that has it."
        ) from exc
    try:
        content = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
    except (OSError, EOFError, zlib.error) as exc:
        raise ValueError(f"the file downloaded from {url} for {target} is a damaged gzip "
                         f"stream ({exc}); nothing was saved.") from exc
    actual = hashlib.sha256(content).hexdigest()
    if actual != expected:
        raise ValueError(f"checksum mismatch for {target.name} downloaded from {url}: "
                         f"expected sha256 {expected}, got {actual}; nothing was saved.")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(gzip.compress(content, mtime=0) if target.suffix == ".gz" else content)
        os.replace(partial, target)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


def fetch(key: str, data_home, download_if_missing: bool) -> bytes:
    """Return the verified content of a registered file, downloading it if allowed."""
    spec = FILES[key]
    full = get_data_home(data_home) / spec.path
    url = DATA_URLS.get(spec.path)
    if not full.is_file():
        if not download_if_missing or url is None:
            how = (f"download it from {url}" if url else
                   "it has no public download URL (set taafs_sk.datasets.DATA_URLS"
                   f"[{spec.path!r}] to a mirror)")
            reason = "download_if_missing=False" if url else "no URL"
            raise FileNotFoundError(
                f"data file {full} not found ({reason}); {how} and save it there, or point "
                f"data_home / TAAFS_SK_DATA at a folder holding {spec.path}."
            )
        _download(url, full, spec.sha256)
    stat = full.stat()
    return _read_verified(str(full), spec.sha256, stat.st_mtime_ns, stat.st_size)


# ---------------------------------------------------------------------- listing
def list_datasets(data_home=None) -> pd.DataFrame:
    """List the datasets, their sizes, files and whether the files are present.

    Returns
    -------
    table : DataFrame
        Columns ``name``, ``rows``, ``file``, ``found`` (bool) and ``where`` (the local
        path, or the download URL when the file is missing).

    Examples
    --------
    >>> from taafs_sk.datasets import list_datasets
    >>> list(list_datasets("/nonexistent").columns)
    ['name', 'rows', 'file', 'found', 'where']
    """
    home = get_data_home(data_home)
    rows = []
    for spec in FILES.values():
        full = home / spec.path
        found = full.is_file()
        rows.append({"name": spec.dataset, "rows": spec.rows, "file": spec.path, "found": found,
                     "where": str(full) if found else (DATA_URLS.get(spec.path) or "no URL")})
    return pd.DataFrame(rows)

