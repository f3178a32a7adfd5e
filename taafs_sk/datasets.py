"""Loaders for the real datasets: checksummed, scikit-learn style (``Bunch``, ``return_X_y``,
``as_frame``).

Data location: the ``data_home`` argument, else the ``TAAFS_SK_DATA`` environment variable,
else ``~/taafs_sk_data``. Each dataset lives in its own folder there (the layout of the
project's shared data folder). Every file is checked against its sha256 before it is read.
A missing file is downloaded from its canonical source (:data:`DATA_URLS`) when
``download_if_missing=True``; tests point :data:`DATA_URLS` at ``file://`` copies.
"""

from __future__ import annotations

import functools
import io

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from ._data_files import DATA_URLS, FILES, fetch, get_data_home, list_datasets  # noqa: F401
from ._validation import check_choice, check_count

__all__ = ["DATA_URLS", "STUDY_DATASETS", "get_data_home", "list_datasets",
           "load_double_perovskites", "load_element_lumo", "load_hydrocarbons", "load_pwmlff",
           "load_qm9"]

HARTREE_IN_EV = 27.211386245988  # CODATA 2018
#: The datasets that :mod:`taafs_sk.studies` and the ``taafs-sk study`` command run on.
STUDY_DATASETS = ("hydrocarbons", "perovskites", "qm9")


def _check_option(name: str, value, allowed) -> None:
    check_choice(name, value, sorted(allowed))


# ---------------------------------------------------------------------- hydrocarbons
def load_hydrocarbons(level: str = "xtb", *, data_home=None, return_X_y: bool = False,
                      as_frame: bool = False, energy_unit: str = "eV",
                      download_if_missing: bool = True):
    """Load COMPAS-3 peri-condensed polybenzenoid hydrocarbons (SMILES -> relative energy).

    ===========  ======================================================
    Samples      39,482 (``level='xtb'``, GFN2-xTB) or 8,844 (``'dft'``)
    Input        one SMILES string per molecule
    Target       energy relative to the lowest isomer of the same formula
    Groups       molecular formula (24 in xtb, 19 in dft)
    ===========  ======================================================

    Parameters
    ----------
    level : {'xtb', 'dft'}, default='xtb'
        COMPAS-3x (GFN2-xTB) or COMPAS-3D (CAM-B3LYP-D3BJ/cc-pVDZ).
    data_home : str or path-like, default=None
        Data folder (see :func:`get_data_home`).
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.
    as_frame : bool, default=False
        Data as a one-column DataFrame (``smiles``) and target as a Series.
    energy_unit : {'eV', 'meV'}, default='eV'
        Unit of the target.
    download_if_missing : bool, default=True
        Download a missing file from :data:`DATA_URLS`.

    Returns
    -------
    data : Bunch
        ``data`` (SMILES, ndarray of str objects or DataFrame), ``target``, ``groups``
        (formula, e.g. ``'C32H16'``), ``ids`` (molecule names), ``feature_names``,
        ``target_names``, ``target_units`` (``[energy_unit]``), ``frame`` (when
        ``as_frame``) and ``DESCR``.
    (data, target) : tuple if ``return_X_y`` is True

    Notes
    -----
    COMPAS is licensed CC BY-NC-SA; cite A. Wahab and R. Gershoni-Poranne, Phys. Chem.
    Chem. Phys. 26, 15344 (2024), doi:10.1039/D4CP01027B.

    Examples
    --------
    >>> from taafs_sk.datasets import load_hydrocarbons
    >>> smiles, y = load_hydrocarbons(return_X_y=True)  # doctest: +SKIP
    >>> smiles.shape, float(y.min())  # doctest: +SKIP
    ((39482,), 0.0)
    """
    _check_option("level", level, {"xtb", "dft"})
    _check_option("energy_unit", energy_unit, {"eV", "meV"})
    key = "compas-3x" if level == "xtb" else "compas-3D"
    raw = fetch(key, data_home, download_if_missing)
    frame = pd.read_csv(io.BytesIO(raw), usecols=[0, 1, 2])
    formula = frame["molecule"].str.extract(r"^hc_(c\d+h\d+)_", expand=False).str.upper()
    target_name = f"Erel_{energy_unit}"
    frame = pd.DataFrame({
        "molecule": frame["molecule"], "smiles": frame["smiles"], "formula": formula,
        target_name: frame["Erel_eV"] * (1000.0 if energy_unit == "meV" else 1.0),
    })
    descr = (f"COMPAS-3{'x' if level == 'xtb' else 'D'}: {len(frame)} peri-condensed "
             f"polybenzenoid hydrocarbons; target: energy relative to the lowest isomer of the "
             f"same formula ({energy_unit}). Licence CC BY-NC-SA; doi:10.1039/D4CP01027B.")
    return _bunch(frame, ["smiles"], target_name, frame["formula"].to_numpy(dtype=object),
                  frame["molecule"].to_numpy(dtype=object), descr, return_X_y, as_frame,
                  target_unit=energy_unit)


def _bunch(frame, feature_names, target_name, groups, ids, descr, return_X_y, as_frame,
           target_unit=""):
    data = frame[feature_names]
    target = frame[target_name]
    if not as_frame:
        data = data.to_numpy(dtype=object if data.dtypes.eq(object).any() else np.float64)
        data = data[:, 0] if feature_names == ["smiles"] else data
        target = target.to_numpy(dtype=np.float64)
    if return_X_y:
        return data, target
    return Bunch(data=data, target=target, groups=groups, ids=ids,
                 feature_names=list(feature_names), target_names=[target_name],
                 target_units=[target_unit], frame=frame if as_frame else None, DESCR=descr)


# ---------------------------------------------------------------------- perovskites
_SITES = ("A", "BI", "BIII", "X")
#: Columns 1-31 of the seed authors' table (see the folder's SOURCE.md; meanings inferred).
MANZHOS_FEATURES = (
    ["d_A_X", "d_BI_X", "d_BIII_X"]
    + [f"electronegativity_{s}" for s in _SITES]
    + [f"orbital_energy_{s}" for s in _SITES]
    + [f"ionization_energy_{s}" for s in _SITES]
    + [f"orbital_energy_copy_{s}" for s in _SITES]
    + [f"descriptor20_{s}" for s in _SITES]
    + [f"size1_{s}" for s in _SITES]
    + [f"size2_{s}" for s in _SITES]
)


def load_double_perovskites(source: str = "manzhos", target: str = "band_gap", *,
                            data_home=None, return_X_y: bool = False, as_frame: bool = False,
                            download_if_missing: bool = True):
    """Load a double-perovskite dataset.

    ``source='manzhos'``: the seed authors' table of 270 halide double perovskites
    A2 B(I) B(III) X6 (A in Cs, K, Rb; B(I) in Ag, Au, Cu, In, Tl; B(III) in Al, As, Bi, Ga,
    In, Sb; X in Br, Cl, I), each present twice (rows ``i`` and ``i + 270``, two
    calculations). ``data`` holds 31 descriptor columns (:data:`MANZHOS_FEATURES`; meanings
    inferred from the values): 1-3 A-X, B(I)-X and B(III)-X distances (Angstrom);
    4-7 Pauling electronegativity of A, B(I), B(III), X; 8-11 an atomic orbital energy (eV);
    12-15 first ionisation energy (eV); 16-19 a copy of 8-11; 20-23 an unknown per-element
    descriptor; 24-27 and 28-31 two size-like descriptors (probably Angstrom). Targets:
    column 32 band gap or column 33 heat of formation (units not stated upstream, presumably
    eV and eV/atom). ``groups`` is the composition id (0-269): split by it.

    ``source='pilania'``: 1,306 oxides A1 B1 A2 B2 O6 (Pilania et al. 2016), ``data`` the site
    elements ``a_1, b_1, a_2, b_2`` (object array in that order, or a DataFrame), target the
    GLLB-SC band gap (eV), ``groups`` the formula. It has no formation energy. Its bunch also
    holds ``element_lumo``: Pilania's per-element LUMO energies (eV, a :class:`pandas.Series`
    indexed by symbol, also from :func:`load_element_lumo`), for
    ``DoublePerovskiteFeaturizer(element_lumo=...)``.

    Parameters
    ----------
    source : {'manzhos', 'pilania'}, default='manzhos'
        Which table.
    target : {'band_gap', 'formation_energy'}, default='band_gap'
        Target column (``'formation_energy'`` exists only for ``'manzhos'``).
    data_home, return_X_y, as_frame, download_if_missing
        As in :func:`load_hydrocarbons`.

    Returns
    -------
    data : Bunch
        ``data``, ``target``, ``groups``, ``ids`` (row number), ``feature_names``,
        ``target_names``, ``target_units`` (``['eV']``; ``['eV/atom']`` for the formation
        energy), ``frame`` (when ``as_frame``; the manzhos frame also has ``block``, 0 or 1),
        ``DESCR``, and for ``'pilania'`` ``element_lumo`` (see above).
    (data, target) : tuple if ``return_X_y`` is True
        Only the features and the target, as in scikit-learn; the ``'pilania'`` features
        then need :func:`load_element_lumo` for the LUMO table.

    Examples
    --------
    >>> from taafs_sk.datasets import load_double_perovskites
    >>> bunch = load_double_perovskites("manzhos", "band_gap")  # doctest: +SKIP
    >>> bunch.data.shape, len(set(bunch.groups))  # doctest: +SKIP
    ((540, 31), 270)
    """
    _check_option("source", source, {"manzhos", "pilania"})
    _check_option("target", target, {"band_gap", "formation_energy"})
    if source == "pilania" and target != "band_gap":
        raise ValueError("the 'pilania' double-perovskite set has only target='band_gap'; "
                         "use source='manzhos' for target='formation_energy'.")
    raw = fetch(source, data_home, download_if_missing)
    if source == "manzhos":
        table = pd.read_csv(io.BytesIO(raw), sep="\t", header=None).to_numpy(np.float64)
        frame = pd.DataFrame(table[:, :31], columns=MANZHOS_FEATURES)
        frame[target] = table[:, 31 if target == "band_gap" else 32]
        groups = pd.factorize(pd.MultiIndex.from_arrays(table[:, 3:31].T))[0]
        frame["block"] = np.arange(len(frame)) // (len(frame) // 2)
        features = list(MANZHOS_FEATURES)
        descr = ("Seed authors' (Manzhos, optGPRNN) double-perovskite table: 540 rows = 270 "
                 f"halide compositions x 2 calculations; target {target}.")
    else:
        table = pd.read_csv(io.BytesIO(raw), index_col=0)
        frame = table[["formula", "a_1", "b_1", "a_2", "b_2"]].copy()
        frame[target] = table["gap gllbsc"].astype(np.float64)
        groups = frame["formula"].to_numpy(dtype=object)
        features = ["a_1", "b_1", "a_2", "b_2"]
        descr = ("Pilania et al. (2016) double perovskite oxides, 1306 rows; GLLB-SC band gap "
                 "(eV). doi:10.1038/srep19375")
    bunch = _bunch(frame, features, target, groups, np.arange(len(frame)), descr,
                   return_X_y, as_frame,
                   target_unit="eV/atom" if target == "formation_energy" else "eV")
    if source == "pilania" and not return_X_y:
        bunch.element_lumo = load_element_lumo(data_home=data_home,
                                               download_if_missing=download_if_missing)
    return bunch


def load_element_lumo(*, data_home=None, download_if_missing: bool = True) -> pd.Series:
    """Pilania et al.'s per-element LUMO energies (eV), for the oxide double perovskites.

    Parameters
    ----------
    data_home, download_if_missing
        As in :func:`load_hydrocarbons`.

    Returns
    -------
    element_lumo : pandas.Series
        LUMO energy (eV) indexed by element symbol, named ``'lumo'``: the
        ``element_lumo`` of :class:`~taafs_sk.featurizers.DoublePerovskiteFeaturizer` and of
        ``load_double_perovskites('pilania')``.

    Examples
    --------
    >>> from taafs_sk.datasets import load_element_lumo
    >>> load_element_lumo()["Ti"] < 0  # doctest: +SKIP
    True
    """
    lumo = pd.read_csv(io.BytesIO(fetch("pilania-lumo", data_home, download_if_missing)),
                       index_col=0)
    return lumo.set_index("atom")["lumo"].astype(np.float64)


# ---------------------------------------------------------------------- QM9
_QM9_ENERGIES = {"zpve", "homo", "lumo", "gap", "u0", "u298", "h298", "g298"}
_QM9_OTHER = {"A": "GHz", "B": "GHz", "C": "GHz", "mu": "D", "alpha": "bohr^3",
              "r2": "bohr^2", "cv": "cal/(mol K)"}


@functools.lru_cache(maxsize=2)
def _qm9_frame(raw: bytes) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(raw))


def load_qm9(target: str = "zpve", *, n_samples: int | None = None, random_state=None,
             data_home=None, return_X_y: bool = False, as_frame: bool = False,
             energy_unit: str = "eV", download_if_missing: bool = True):
    """Load QM9 molecules (SMILES) with one property: a uniform random 63,768-molecule subset.

    Parameters
    ----------
    target : str, default='zpve'
        A QM9 column: the energies ``zpve, homo, lumo, gap, u0, u298, h298, g298`` (converted
        to ``energy_unit``), or ``A, B, C`` (GHz), ``mu`` (Debye), ``alpha`` (bohr^3), ``r2``
        (bohr^2), ``cv`` (cal/(mol K)) in their own units.
    n_samples : int, default=None
        Return a random subset of this many molecules (sorted by ``mol_id``); all if None.
    random_state : int, RandomState instance or None, default=None
        Seeds the subset.
    energy_unit : {'eV', 'meV', 'hartree'}, default='eV'
        Unit of an energy target (the file stores Hartree).
    data_home, return_X_y, as_frame, download_if_missing
        As in :func:`load_hydrocarbons`.

    Returns
    -------
    data : Bunch
        ``data`` (SMILES), ``target``, ``groups`` (None), ``ids`` (``mol_id``),
        ``feature_names``, ``target_names`` (e.g. ``['zpve_eV']``), ``target_units`` (e.g.
        ``['eV']``), ``frame`` and ``DESCR``.
    (data, target) : tuple if ``return_X_y`` is True

    Examples
    --------
    >>> from taafs_sk.datasets import load_qm9
    >>> smiles, y = load_qm9(n_samples=100, random_state=0, return_X_y=True)  # doctest: +SKIP
    >>> smiles.shape  # doctest: +SKIP
    (100,)
    """
    _check_option("target", target, _QM9_ENERGIES | set(_QM9_OTHER))
    _check_option("energy_unit", energy_unit, {"eV", "meV", "hartree"})
    raw = fetch("qm9", data_home, download_if_missing)
    table = _qm9_frame(raw)
    if n_samples is not None:
        n_samples = check_count("n_samples", n_samples, minimum=1, maximum=len(table))
        rng = np.random.RandomState(random_state) if not isinstance(
            random_state, np.random.RandomState) else random_state
        table = table.iloc[np.sort(rng.choice(len(table), n_samples, replace=False))]
    table = table.reset_index(drop=True)
    if target in _QM9_ENERGIES:
        scale = {"hartree": 1.0, "eV": HARTREE_IN_EV, "meV": 1000 * HARTREE_IN_EV}[energy_unit]
        target_name, unit = f"{target}_{energy_unit}", energy_unit
    else:
        scale, target_name, unit = 1.0, target, _QM9_OTHER[target]
    frame = pd.DataFrame({"mol_id": table["mol_id"], "smiles": table["smiles"],
                          target_name: table[target].astype(np.float64) * scale})
    descr = (f"QM9 (uniform random 47.6% subset, {len(frame)} molecules); target {target} "
             f"({unit}). Ramakrishnan et al., Sci. Data 1, 140022 (2014).")
    return _bunch(frame, ["smiles"], target_name, None, frame["mol_id"].to_numpy(dtype=object),
                  descr, return_X_y, as_frame, target_unit=unit)


# ---------------------------------------------------------------------- PWMLFF MD
#: System of :func:`load_pwmlff` -> its file key.
PWMLFF_SYSTEMS = {"cu": "pwmlff-cu", "hfo2": "pwmlff-hfo2", "ec": "pwmlff-ec"}
#: The test frames of each system's split (the rest is the training set).
_PWMLFF_TEST = {"cu": lambda a, k: a.info["source"] == "1_500_MOVEMENT",
                "hfo2": lambda a, k: a.info["source"] == "mvm_init_002_50",
                "ec": lambda a, k: k >= 150}


def load_pwmlff(system: str = "cu", split: str = "all", *, data_home=None,
                download_if_missing: bool = True):
    """Load a DFT (PWmat) molecular-dynamics trajectory from the PWMLFF examples.

    ==========  =====================================================================
    ``'cu'``    fcc Cu72, 200 frames: 100 at 300 K then 100 at 500 K (1 fs steps)
    ``'hfo2'``  monoclinic Hf32O64, 150 frames from three MD runs of 50 frames
    ``'ec'``    one ethylene carbonate molecule C3H4O3 in a periodic box, 200 frames
    ==========  =====================================================================

    Each frame is an ``ase.Atoms`` (``pbc=True``, the DFT cell) whose calculator holds the
    potential energy (eV, PWmat's absolute scale: about -4967.8 eV/atom for Cu) and forces
    (eV/Å); ``info["source"]`` names the MD run and ``info["frame"]`` the frame in it.

    Frames are consecutive MD steps, so never split them at random (neighbouring frames are
    nearly identical). ``split`` gives the training/test split used in this project's
    benchmarks: Cu, train on the 300 K run (``source == '0_300_MOVEMENT'``, 100 frames) and
    test on the 500 K run (100); HfO2, train on runs ``mvm_init_000_50`` and ``_001_50``
    (100), test on ``_002_50`` (50); EC (one run), train on the first 150 frames and test on
    the last 50 (contiguous blocks).

    Parameters
    ----------
    system : {'cu', 'hfo2', 'ec'}, default='cu'
        Which trajectory.
    split : {'all', 'train', 'test'}, default='all'
        All frames in file order, or the training or test part of the split above.
    data_home : str or path-like, default=None
        Data folder (see :func:`get_data_home`); the file is ``pwmlff_md/<system>.extxyz.gz``.
    download_if_missing : bool, default=True
        Download a missing file from :data:`DATA_URLS` (no public URL by default).

    Returns
    -------
    frames : list of ase.Atoms

    Notes
    -----
    Needs ``ase`` (``pip install taafs-sk[atomistic]``). From PWMLFF (LonxunQuantum,
    github.com/LonxunQuantum/PWMLFF, commit d3cb359): ``example/Cu/*_MOVEMENT``,
    ``example/HfO2/mvms/*``, ``example/EC/EC_MOVEMENT``, converted with ``dpdata``
    (``fmt="pwmat/movement"``) to extended XYZ.

    Examples
    --------
    >>> from taafs_sk.datasets import load_pwmlff
    >>> frames = load_pwmlff("cu")
    >>> len(frames), frames[0].get_chemical_formula()
    (200, 'Cu72')
    >>> len(load_pwmlff("cu", split="train")), frames[0].info["source"]
    (100, '0_300_MOVEMENT')
    """
    _check_option("system", system, set(PWMLFF_SYSTEMS))
    _check_option("split", split, {"all", "train", "test"})
    try:
        import ase.io
    except ImportError as exc:
        raise ImportError("load_pwmlff needs ase: pip install taafs-sk[atomistic]") from exc
    key = PWMLFF_SYSTEMS[system]
    try:
        raw = fetch(key, data_home, download_if_missing)
    except FileNotFoundError as exc:
        raise FileNotFoundError(
            f"{exc} The file is the PWMLFF example trajectory for {system!r} converted to "
            "extended XYZ (see the Notes of taafs_sk.datasets.load_pwmlff for how to make it)."
        ) from exc
    frames = ase.io.read(io.StringIO(raw.decode()), index=":", format="extxyz")
    if split == "all":
        return frames
    is_test = _PWMLFF_TEST[system]
    return [a for k, a in enumerate(frames) if is_test(a, k) == (split == "test")]
