"""TAAFSPotential: a neural-network interatomic potential with trainable activations."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.metrics import r2_score
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._validation import RegisteredNames
from ..nn._checks import check_device
from ..nn.activations import make_activation_factory
from ..taafs._constraints import ACTIVATION_CONSTRAINTS
from ..taafs._params import (
    check_basis,
    check_hidden_layer_sizes,
    pop_registered_basis,
    registered_basis_state,
)
from ._frames import as_atoms_list, build_frames, check_structures, read_targets
from .descriptors import DESCRIPTORS, AtomicDescriptor, make_descriptor
from .network import ElementNetworks, energies_and_forces
from .training import TRAINING_STEPS, Objective, train

__all__ = ["TAAFSPotential"]

_DTYPES = {"float32": torch.float32, "float64": torch.float64}
_PREDICT_CHUNK = 64  # structures per descriptor evaluation in predict


class TAAFSPotential(RegressorMixin, BaseEstimator):
    r"""Interatomic potential: per-element atomic networks with trainable activations (TAAFS).

    A Behler-Parrinello / ANI style model. Each atom :math:`i` of element :math:`Z_i` gets an
    energy from its element's network applied to its atom-centred descriptor :math:`G_i`:

    .. math::

        E = \sum_i \varepsilon_{Z_i}(G_i) + \sum_i e^{\mathrm{ref}}_{Z_i}, \qquad
        \mathbf F = -\partial E / \partial \mathbf R,

    with per-element reference energies :math:`e^{\mathrm{ref}}` fitted by least squares on
    the training energies (this removes the DFT code's absolute energy scale), and forces by
    automatic differentiation. Training minimises
    ``energy_weight * mean((ΔE / n_atoms)²) + force_weight * mean(ΔF²)`` in eV and Å.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(32, 32)
        Hidden widths of every element network.
    basis : str or taafs_sk.nn.Basis, default='bspline'
        Activation of the hidden layers: a TAAF basis family (see
        :func:`taafs_sk.nn.available_bases`), a :class:`taafs_sk.nn.Basis` instance, or a
        fixed activation name (``'tanh'``, ``'silu'``, ...) for the ordinary baseline.
    n_basis : int, default=8
        Basis functions per activation.
    sharing : {'global', 'network', 'layer', 'neuron'}, default='layer'
        Coefficient sharing: one activation for all element networks, one per element
        network, one per hidden layer of each network, or per neuron.
    normalization : str, default='tanh'
        Map from pre-activation to the basis domain (see :class:`taafs_sk.nn.TAAF`).
    basis_kwargs : dict, default=None
        Options of a basis given by name.
    descriptor : str or AtomicDescriptor, default='ani1x'
        Atom-centred descriptor: ``'ani1x'`` (:class:`ANIDescriptor`, the ANI-1x AEV,
        cutoff 5.2 Å) or an :class:`~taafs_sk.atomistic.descriptors.AtomicDescriptor`.
    energy_weight, force_weight : float, default=1.0, 1.0
        Weights of the per-atom energy and force mean squared errors in the loss.
    max_epochs : int, default=200
        Maximum passes over the training structures.
    batch_size : int, default=8
        Structures per minibatch.
    lr : float, default=1e-3
        Learning rate.
    optimizer : str, default='adam'
        Training step by name (:data:`taafs_sk.atomistic.training.TRAINING_STEPS`: 'adam',
        'adamw', 'sgd', 'rmsprop', 'rlekf', and those added with ``register_training_step``).
        ``'rlekf'`` is the Kalman filter of :class:`taafs_sk.nn.rlekf.RLEKF` (energy and
        force measurements, no ``lr``; use ``batch_size=1`` as in its paper).
    optimizer_kwargs : dict, default=None
        Options of the training step: the torch optimizer's (e.g. ``{'betas': (0.9, 0.99)}``
        for 'adam'), or for 'rlekf' ``block_size``, ``lambda1``, ``nu``, ``p0``, ``noise``,
        ``max_memory_mb``, ``atoms_per_group`` (6) and ``force_groups`` (4).
    weight_decay : float, default=0.0
        L2 penalty of the optimiser.
    early_stopping : bool, default=True
        Hold out the *last* ``validation_fraction`` of the training structures (a contiguous
        block: consecutive MD frames are correlated, so a random split would leak) and stop
        when its loss has not improved for ``patience`` epochs; the best weights are kept.
    validation_fraction : float, default=0.1
        Size of the held-out block.
    patience : int, default=20
        Epochs without improvement before stopping.
    dtype : {'float32', 'float64'}, default='float32'
        Precision of the networks and descriptors (reference energies are always float64).
    device : str, default='cpu'
        Torch device.
    random_state : int, RandomState instance or None, default=None
        Seeds the weights and the minibatch order.
    verbose : int, default=0
        Print one line per epoch when positive.

    Attributes
    ----------
    module_ : ElementNetworks
        The trained networks (``module_.nets[e]`` serves ``elements_[e]``).
    elements_ : list of str
        Elements seen in fit, sorted.
    reference_energies_ : ndarray of shape (n_elements,)
        Per-element reference energies (eV).
    descriptor_ : AtomicDescriptor
        The descriptor used.
    n_features_in_ : int
        Descriptor length (the input width of each element network).
    history_ : list of dict
        Per-epoch record (``train_loss``, ``valid_loss``, ``valid_energy_rmse`` in meV/atom,
        ``valid_force_rmse`` in eV/Å, ``dur`` in s).
    n_iter_ : int
        Epochs run.
    n_params_ : int
        Trainable parameters.
    n_activation_params_ : int
        Of which in trainable activations.

    See Also
    --------
    taafs_sk.TAAFSRegressor : The same activations in an MLP on fixed features.

    References
    ----------
    .. [1] L. Zhang et al., "Trainable Adaptive Activation Function Structure (TAAFS)
       Enhances Neural Network Force Field Performance with Only Dozens of Additional
       Parameters", arXiv:2412.14655 (2024).
    .. [2] J. Behler and M. Parrinello, Phys. Rev. Lett. 98, 146401 (2007).
    .. [3] J. S. Smith, O. Isayev and A. E. Roitberg, Chem. Sci. 8, 3192 (2017).

    Examples
    --------
    >>> from ase.build import bulk
    >>> from ase.calculators.emt import EMT
    >>> from taafs_sk.atomistic import TAAFSPotential
    >>> frames = []
    >>> for k in range(4):
    ...     atoms = bulk("Cu", cubic=True).repeat(2)
    ...     atoms.rattle(0.05, seed=k)
    ...     atoms.calc = EMT()
    ...     frames.append(atoms)
    >>> pot = TAAFSPotential((8,), basis="chebyshev1", max_epochs=3, early_stopping=False,
    ...                      random_state=0).fit(frames)
    >>> pot.predict(frames).shape, pot.predict_forces(frames)[0].shape
    ((4,), (32, 3))
    """

    _parameter_constraints: dict = {
        **ACTIVATION_CONSTRAINTS,
        "descriptor": [StrOptions(set(DESCRIPTORS)), AtomicDescriptor],
        "energy_weight": [Interval(Real, 0, None, closed="left")],
        "force_weight": [Interval(Real, 0, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "optimizer": [RegisteredNames(lambda: list(TRAINING_STEPS),
                                      hint="add one with register_training_step")],
        "optimizer_kwargs": [dict, None],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "patience": [Interval(Integral, 1, None, closed="left")],
        "dtype": [StrOptions(set(_DTYPES))],
        "device": [str],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(self, hidden_layer_sizes=(32, 32), *, basis="bspline", n_basis=8,
                 sharing="layer", normalization="tanh", basis_kwargs=None, descriptor="ani1x",
                 energy_weight=1.0, force_weight=1.0, max_epochs=200, batch_size=8, lr=1e-3,
                 optimizer="adam", optimizer_kwargs=None, weight_decay=0.0, early_stopping=True,
                 validation_fraction=0.1, patience=20, dtype="float32", device="cpu",
                 random_state=None, verbose=0):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.basis = basis
        self.n_basis = n_basis
        self.sharing = sharing
        self.normalization = normalization
        self.basis_kwargs = basis_kwargs
        self.descriptor = descriptor
        self.energy_weight = energy_weight
        self.force_weight = force_weight
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.optimizer_kwargs = optimizer_kwargs
        self.weight_decay = weight_decay
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.dtype = dtype
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, energies=None, forces=None):
        """Fit on structures with their DFT energies and forces.

        Parameters
        ----------
        X : list of ase.Atoms
            Training structures (a list, tuple or object array).
        energies : array-like of shape (n_structures,), default=None
            Total energies (eV); by default each structure's ``atoms.calc`` results.
        forces : list of array-like of shape (n_atoms, 3), default=None
            Forces (eV/Å); by default from each structure's calculator.

        Returns
        -------
        self : TAAFSPotential
        """
        hidden = check_hidden_layer_sizes(self.hidden_layer_sizes, "TAAFSPotential")
        check_device("device", self.device)
        check_basis(self)
        atoms_list = as_atoms_list(X, "X")
        descriptor = make_descriptor(self.descriptor)
        check_structures(atoms_list, None, float(descriptor.cutoff))
        energies, force_list = read_targets(atoms_list, energies, forces)
        dtype = _DTYPES[self.dtype]
        self.elements_ = sorted({s for a in atoms_list for s in a.get_chemical_symbols()})
        self.descriptor_ = descriptor
        self.dtype_ = dtype
        counts = self._composition(atoms_list)
        self.reference_energies_ = np.linalg.lstsq(counts, energies, rcond=None)[0]
        frames = build_frames(atoms_list, self.elements_, descriptor, dtype, self.device)
        frames.energy = torch.as_tensor(energies - counts @ self.reference_energies_,
                                        dtype=dtype, device=self.device)
        frames.forces = torch.as_tensor(np.concatenate(force_list), dtype=dtype,
                                        device=self.device)
        n = len(atoms_list)
        n_valid = int(round(self.validation_fraction * n)) if self.early_stopping else 0
        n_valid = n_valid if 0 < n_valid < n else 0
        train_frames = frames.subset(np.arange(n - n_valid)) if n_valid else frames
        valid_frames = frames.subset(np.arange(n - n_valid, n)) if n_valid else None
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        self.n_features_in_ = descriptor.n_features(len(self.elements_))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            module = ElementNetworks(self.n_features_in_, self.elements_, hidden,
                                     self._activation_factory())
        module = module.to(device=self.device, dtype=dtype)
        scale = float(train_frames.forces.pow(2).mean().sqrt()) or 1.0
        module.set_scaling(train_frames.G, train_frames.species, scale)
        options = {"lr": self.lr, "weight_decay": self.weight_decay,
                   "n_train": train_frames.n_structures, "random_state": seed,
                   "optimizer_kwargs": dict(self.optimizer_kwargs or {})}
        step = TRAINING_STEPS[self.optimizer](module, options)
        objective = Objective(self.energy_weight, self.force_weight)
        self.history_ = train(module, objective, step, train_frames, valid_frames,
                              max_epochs=self.max_epochs, batch_size=self.batch_size,
                              patience=self.patience, rng=np.random.RandomState(seed),
                              verbose=self.verbose)
        module.eval()
        self.module_ = module
        self.n_iter_ = len(self.history_)
        self.n_params_ = sum(p.numel() for p in module.parameters() if p.requires_grad)
        self.n_activation_params_ = self._unique_activation_params(module)
        return self

    @staticmethod
    def _unique_activation_params(module) -> int:
        seen = {id(p): p for net in module.nets for act in net.activations
                for p in act.parameters()}
        return sum(p.numel() for p in seen.values())

    def _activation_factory(self):
        return make_activation_factory(self.basis, self.n_basis, self.sharing,
                                       self.normalization, self.basis_kwargs)

    def _composition(self, atoms_list) -> np.ndarray:
        symbols = [np.asarray(a.get_chemical_symbols()) for a in atoms_list]
        return np.array([[np.count_nonzero(s == el) for el in self.elements_] for s in symbols],
                        dtype=float)

    # ------------------------------------------------------------------ predict
    def _evaluate(self, X, forces: bool):
        check_is_fitted(self, "module_")
        atoms_list = as_atoms_list(X, "X")
        check_structures(atoms_list, self.elements_, float(self.descriptor_.cutoff))
        energies, force_list = [], []
        for b in range(0, len(atoms_list), _PREDICT_CHUNK):
            chunk = atoms_list[b:b + _PREDICT_CHUNK]
            frames = build_frames(chunk, self.elements_, self.descriptor_, self.dtype_,
                                  self.device)
            e, f = energies_and_forces(self.module_, frames, create_graph=False, forces=forces)
            energies.append(e.double().cpu().numpy() + self._composition(chunk)
                            @ self.reference_energies_)
            if forces:
                f = f.double().cpu().numpy()
                force_list.extend(np.split(f, np.cumsum([len(a) for a in chunk])[:-1]))
        return np.concatenate(energies), force_list

    def predict(self, X) -> np.ndarray:
        """Total energies (eV) of the structures ``X``, shape ``(n_structures,)``."""
        return self._evaluate(X, forces=False)[0]

    def predict_forces(self, X) -> list[np.ndarray]:
        """Forces (eV/Å) of the structures ``X``: a list of ``(n_atoms, 3)`` arrays."""
        return self._evaluate(X, forces=True)[1]

    def predict_energies_and_forces(self, X) -> tuple[np.ndarray, list[np.ndarray]]:
        """Energies and forces in one pass (see :meth:`predict`, :meth:`predict_forces`)."""
        return self._evaluate(X, forces=True)

    def score(self, X, y=None, sample_weight=None) -> float:
        """R² of the total energies (``y``, or each structure's calculator energy)."""
        atoms_list = as_atoms_list(X, "X")
        if y is None:
            y = read_targets(atoms_list, None, [np.zeros((len(a), 3)) for a in atoms_list])[0]
        return float(r2_score(y, self.predict(atoms_list), sample_weight=sample_weight))

    def as_calculator(self):
        """An ASE calculator (energy, forces) backed by this fitted potential.

        Returns
        -------
        calc : taafs_sk.atomistic.calculator.TAAFSCalculator
        """
        check_is_fitted(self, "module_")
        from .calculator import TAAFSCalculator

        return TAAFSCalculator(self)

    def __getstate__(self):
        return registered_basis_state(super().__getstate__())

    def __setstate__(self, state):
        super().__setstate__(pop_registered_basis(state))
        module = self.__dict__.get("module_")
        if module is not None:  # derived caches of the fused kernels are rebuilt, not trusted
            for sub in module.modules():
                sub.__dict__.pop("_fused_plans", None)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.target_tags.required = False
        tags.non_deterministic = self.device != "cpu"
        return tags
