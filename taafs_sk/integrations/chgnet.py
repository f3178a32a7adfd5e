r"""TAAFs in CHGNet: swap the pretrained model's activations, fine-tune it with CHGNet's Trainer.

CHGNet (Deng et al., *Nat. Mach. Intell.* 5, 1031 (2023)) ships a model pretrained on the
Materials Project trajectories (MPtrj). :func:`taaf_chgnet` puts a residual TAAF (the TAAFS
paper, Zhang et al., arXiv:2412.14655)

.. math::

    \sigma(z) = \varphi_0(z) + \sum_{k=1}^{K} c_k\, B_k(\mathrm{norm}(z)) + b,
    \qquad c_k = b = 0 \text{ at the start},

in the place of each SiLU it calls (and, when asked, of the sigmoid gates of its gated MLPs),
with :math:`\varphi_0` the activation it replaces, so that energies, forces, stresses and
magnetic moments are those of the pretrained model until it is trained. The model is then
fine-tuned with ``chgnet.trainer.Trainer``, CHGNet's own training loop, on
:func:`structure_data` built from DFT frames, after :func:`fit_atom_ref` has moved the
per-element reference energies to the new DFT's scale.

Needs the ``chgnet`` extra (``pip install taafs-sk[chgnet]``), imported when a function here is
called; ``import taafs_sk`` never loads it.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Sequence

from .._validation import check_choice, check_count, check_non_empty
from ..nn import TAAF, replace_activations
from ._chgnet_sites import CHGNET_ACTIVATIONS, REASONS, effective_sites, find_sites, is_gate

__all__ = ["fit_atom_ref", "load_taaf_chgnet", "save_taaf_chgnet",
           "structure_data", "taaf_chgnet"]

#: Sharing schemes :func:`taaf_chgnet` accepts (see :func:`taafs_sk.nn.replace_activations`).
CHGNET_SHARING = ("layer", "network", "global")
_TAAF_KEY = "taaf"  # the key of model.model_args that records the swap


def _chgnet():
    """The ``chgnet.model`` module, or an ImportError naming the extra."""
    try:
        import chgnet.model
    except ImportError as exc:
        raise ImportError("taafs_sk.integrations.chgnet needs CHGNet: "
                          "pip install taafs-sk[chgnet]") from exc
    return chgnet.model


def _check_model(name: str, model: object):
    cls = _chgnet().CHGNet
    if not isinstance(model, cls):
        raise TypeError(f"{name} must be a chgnet.model.CHGNet (e.g. CHGNet.load()), got "
                        f"{type(model).__name__}.")
    return model


def _check_bool(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} of taaf_chgnet must be True or False, got {value!r}.")
    return value


def _set_aside(root, paths: list[str]):
    """Put an ``nn.Identity`` at each path; return what to put back."""
    from torch import nn

    held = []
    for path in paths:
        parent_path, _, name = path.rpartition(".")
        parent = root.get_submodule(parent_path)
        held.append((parent, name, getattr(parent, name)))
        setattr(parent, name, nn.Identity())
    return held


def taaf_chgnet(model, basis: str = "bspline", *, n_basis: int = 8, sharing: str = "layer",
                gates: bool = False, inplace: bool = False, report: bool = False):
    """Swap the activations a CHGNet model calls for residual TAAFs that reproduce them.

    Every ``nn.SiLU`` whose output reaches the predicted energy becomes a
    :class:`~taafs_sk.nn.TAAF` with ``base`` a copy of it and zero coefficients (see
    :func:`taafs_sk.nn.replace_activations`, which does the swap). The ``nn.Sigmoid`` of each
    gated MLP, whose output multiplies the core branch, is a gate: it is swapped only with
    ``gates=True``. Sites whose output never reaches the energy or magnetic moments are left
    as they are, so no parameter is added that cannot train: in CHGNet 0.4.2 the
    ``activation`` registered on each ``AtomConv``, ``BondConv`` and ``AngleUpdate`` (never
    called) and the gated MLP of the last ``AngleUpdate`` (its output is read by no later
    layer); they are found by one forward pass on a probe crystal with hooks and autograd.
    The options are recorded in ``model.model_args['taaf']`` so that
    :func:`load_taaf_chgnet` can rebuild the model from a saved file.

    Parameters
    ----------
    model : chgnet.model.CHGNet
        E.g. the pretrained ``CHGNet.load()``; not already swapped.
    basis : str, default='bspline'
        Basis family of the TAAFs, by name (it is stored in the model's arguments).
    n_basis : int, default=8
        Basis functions per TAAF.
    sharing : {'layer', 'network', 'global'}, default='layer'
        One TAAF per activation site, one per convolution block (and one for the readout
        MLP), or one for the whole model. ``'network'`` and ``'global'`` need every swapped
        site of a group to compute the same function, so they refuse ``gates=True``.
        Per-neuron TAAFs are not offered: the core activation of a gated MLP follows a whole
        MLP, whose width :func:`~taafs_sk.nn.replace_activations` cannot read.
    gates : bool, default=False
        Also swap the sigmoid gates.
    inplace : bool, default=False
        Modify ``model`` itself instead of a deep copy.
    report : bool, default=False
        Also return the :class:`~taafs_sk.nn.ReplacementReport` of
        :func:`~taafs_sk.nn.replace_activations`: every site replaced (path, old activation,
        TAAF, parameters added) and every SiLU or Sigmoid module kept, with the reason (a
        gate, or an output that reaches no prediction).

    Returns
    -------
    model : chgnet.model.CHGNet
        The swapped model (``model`` itself when ``inplace=True``).
    report : ReplacementReport
        Only when ``report=True``.

    Raises
    ------
    TypeError
        If ``model`` is not a CHGNet, ``basis`` is not a string, or a flag is not a bool.
    ValueError
        For an unknown ``sharing`` or basis, a bad ``n_basis``, a model already swapped, or
        ``gates=True`` with a shared scheme.

    Notes
    -----
    CHGNet builds its graphs in float32 (``chgnet.graph.converter.TORCH_DTYPE``), so the
    model cannot run in float64 (``model.double()`` fails with "expected m1 and m2 to have
    the same dtype"). In float32 the swapped model's energies, forces, stresses and magnetic
    moments equal the original's bit for bit at step 0: the TAAF adds an exact zero.

    Examples
    --------
    >>> from chgnet.model import CHGNet
    >>> from taafs_sk.integrations.chgnet import taaf_chgnet
    >>> pretrained = CHGNet.load(verbose=False)
    CHGNet v0.3.0 initialized with 412,525 parameters
    >>> model, report = taaf_chgnet(pretrained, "bspline", n_basis=8, report=True)
    >>> len(report.replaced), report.n_params_added, len(report.skipped)
    (26, 234, 21)
    """
    _check_model("model", model)
    if not isinstance(basis, str):
        raise TypeError("basis of taaf_chgnet must be a basis name (e.g. 'bspline'), got "
                        f"{type(basis).__name__}; it is stored in model.model_args.")
    n_basis = check_count("n_basis", n_basis)
    check_choice("sharing", sharing, CHGNET_SHARING)
    gates, inplace, report = (_check_bool(n, v) for n, v in
                              (("gates", gates), ("inplace", inplace), ("report", report)))
    if gates and sharing != "layer":
        raise ValueError(f"sharing={sharing!r} of taaf_chgnet gives one TAAF to SiLU and "
                         "sigmoid sites alike, which one TAAF cannot reproduce; use "
                         "sharing='layer' with gates=True.")
    if _TAAF_KEY in model.model_args or any(isinstance(m, TAAF) for m in model.modules()):
        raise ValueError("model of taaf_chgnet already holds TAAFs (model.model_args['taaf'] "
                         f"= {model.model_args.get(_TAAF_KEY)!r}); swap the original model.")
    root = model if inplace else copy.deepcopy(model)
    sites = find_sites(root)
    used = effective_sites(root, sites)
    kept = {path: "unused" if path not in used else "gate"
            for path, act in sites if path not in used or (is_gate(path, act) and not gates)}
    held = _set_aside(root, list(kept))
    try:  # gates=True: which sites are gates is decided above, from CHGNet's layout
        root, result = replace_activations(root, basis, n_basis=n_basis, sharing=sharing,
                                           types=CHGNET_ACTIVATIONS, gates=True, inplace=True,
                                           report=True)
    finally:
        for parent, name, act in held:
            setattr(parent, name, act)
    for row in result.replaced:
        row["gate"] = is_gate(row["path"], root.get_submodule(row["path"]).base)
    result.skipped += [{"path": path, "old": type(act).__name__, "reason": REASONS[kept[path]]}
                       for path, act in sites if path in kept]
    root.model_args[_TAAF_KEY] = {"basis": basis, "n_basis": n_basis, "sharing": sharing,
                                  "gates": gates}
    return (root, result) if report else root


def structure_data(frames: Sequence, *, shuffle: bool = False):
    """CHGNet's ``StructureData`` from ASE frames with DFT energies and forces.

    Parameters
    ----------
    frames : sequence of ase.Atoms
        Each with a calculator holding the energy (eV) and forces (eV/Å), e.g. from
        :func:`taafs_sk.datasets.load_pwmlff`.
    shuffle : bool, default=False
        Passed to ``StructureData`` (which shuffles with Python's ``random``); leave it off
        and shuffle in the ``DataLoader`` with a seeded generator.

    Returns
    -------
    data : chgnet.data.dataset.StructureData
        pymatgen structures, energies **per atom** (CHGNet's label) and forces.

    Raises
    ------
    TypeError
        If an entry of ``frames`` is not an ``ase.Atoms``.
    ValueError
        If ``frames`` is empty or a frame has no energy or forces.
    """
    _chgnet()
    from ase import Atoms
    from chgnet.data.dataset import StructureData
    from pymatgen.io.ase import AseAtomsAdaptor

    frames = check_non_empty("frames", frames)
    structures, energies, forces = [], [], []
    for i, atoms in enumerate(frames):
        if not isinstance(atoms, Atoms):
            raise TypeError(f"frames[{i}] of structure_data must be an ase.Atoms, got "
                            f"{type(atoms).__name__}.")
        try:
            energy, force = atoms.get_potential_energy(), atoms.get_forces()
        except RuntimeError as exc:
            raise ValueError(f"frames[{i}] of structure_data has no DFT energy and forces "
                             "in its calculator.") from exc
        structures.append(AseAtomsAdaptor.get_structure(atoms))
        energies.append(float(energy) / len(atoms))
        forces.append(force.tolist())
    return StructureData(structures, energies, forces,
                         structure_ids=list(range(len(structures))), shuffle=shuffle)


def fit_atom_ref(model, frames: Sequence, *, batch_size: int = 16) -> dict[str, float]:
    """Move a CHGNet's per-element reference energies onto the scale of new DFT frames.

    CHGNet predicts :math:`E/N = \\sum_e x_e w_e + E_\\mathrm{GNN}/N`, with :math:`x_e` the
    fraction of element :math:`e` and :math:`w_e` the composition model (``AtomRef``, fitted
    on MPtrj and frozen by ``Trainer`` unless ``train_composition_model=True``). Another DFT
    (PWmat here: about -4967.8 eV/atom for Cu against about -4 in MPtrj) differs mostly by a
    per-element constant. As in CHGNet's fine-tuning example ("Extras 2: AtomRef", the
    "more rigorous way": a linear regression of energies per atom on the element fractions,
    which ``AtomRef.fit`` does), this solves by least squares for a shift
    :math:`\\delta_e` of each element, fitted to the difference between the frames' DFT
    energies per atom and the model's predictions, and adds it to :math:`w_e`. The regression
    is solved with ``numpy.linalg.lstsq`` in float64 rather than with ``AtomRef.fit``, whose
    float32 normal equations give wrong shifts (hundreds of eV/atom off on ethylene
    carbonate) when the compositions are collinear. The GNN is untouched and the model's
    mean error on ``frames`` becomes zero. Where every frame has the same composition only
    :math:`\\sum_e x_e \\delta_e` is determined (the minimum-norm split is used).

    Parameters
    ----------
    model : chgnet.model.CHGNet
        Changed in place (its ``composition_model.fc.weight``).
    frames : sequence of ase.Atoms
        The fine-tuning frames, with DFT energies.
    batch_size : int, default=16
        Structures per prediction batch.

    Returns
    -------
    shifts : dict of str to float
        The shift added to each element present (eV/atom).
    """
    _check_model("model", model)
    batch_size = check_count("batch_size", batch_size)
    import numpy as np
    import torch
    from chgnet.model.composition_model import AtomRef

    ref = model.composition_model
    if not isinstance(ref, AtomRef) or not ref.is_intensive:
        raise ValueError("model of fit_atom_ref must have an intensive AtomRef as "
                         f"composition_model, got {type(ref).__name__}.")
    data = structure_data(frames)
    pred = model.predict_structure(data.structures, task="e", batch_size=batch_size)
    pred = [pred] if isinstance(pred, dict) else pred
    residual = np.array([e - float(p["e"]) for e, p in zip(data.energies, pred, strict=True)])
    fractions = np.zeros((len(data.structures), ref.max_num_elements))  # (n_frames, 94)
    for i, structure in enumerate(data.structures):
        for z in (site.specie.Z for site in structure):
            fractions[i, z - 1] += 1.0 / len(structure)
    delta = np.linalg.lstsq(fractions, residual, rcond=None)[0]  # minimum-norm, float64
    with torch.no_grad():
        ref.fc.weight += torch.as_tensor(delta, dtype=ref.fc.weight.dtype).view(1, -1)
    symbols = {site.specie.Z: site.specie.symbol for s in data.structures for site in s}
    return {symbols[z]: float(delta[z - 1]) for z in sorted(symbols)}


def save_taaf_chgnet(model, path: str | os.PathLike) -> None:
    """Save a swapped CHGNet as ``{'model': model.as_dict()}``, the layout of the
    checkpoints ``chgnet.trainer.Trainer`` writes; :func:`load_taaf_chgnet` reads both."""
    _check_model("model", model)
    import torch

    torch.save({"model": model.as_dict()}, path)


def load_taaf_chgnet(path: str | os.PathLike):
    """Load a TAAF-swapped CHGNet saved by :func:`save_taaf_chgnet` or by ``Trainer``.

    ``CHGNet.from_file`` (and ``Trainer.load``) rebuild the model from its constructor
    arguments, which make SiLU modules, so the TAAF weights do not fit it
    (``load_state_dict`` reports them as unexpected keys). This loader rebuilds the model
    from the same arguments, swaps it again with the options recorded in
    ``model_args['taaf']``, and loads the weights (strictly).

    Parameters
    ----------
    path : str or path-like
        A file holding ``{'model': {'state_dict', 'model_args'}}`` (a Trainer checkpoint)
        or ``{'state_dict', 'model_args'}`` (``model.as_dict()``).

    Returns
    -------
    model : chgnet.model.CHGNet
    """
    cls = _chgnet().CHGNet
    import torch

    state = torch.load(path, map_location="cpu", weights_only=True)
    dct = state.get("model", state) if isinstance(state, dict) else None
    if not isinstance(dct, dict) or "model_args" not in dct or "state_dict" not in dct:
        raise ValueError(f"path of load_taaf_chgnet ({os.fspath(path)!r}) holds no CHGNet "
                         "model dict (model_args and state_dict).")
    args = dict(dct["model_args"])
    options = args.pop(_TAAF_KEY, None)
    if options is None:
        raise ValueError(f"path of load_taaf_chgnet ({os.fspath(path)!r}) holds a CHGNet "
                         "without TAAFs; load it with CHGNet.from_file.")
    model = taaf_chgnet(cls(**args), **options, inplace=True)
    model.load_state_dict(dct["state_dict"])
    return model
