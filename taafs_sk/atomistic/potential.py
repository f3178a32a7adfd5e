"""TAAFSPotential: a neural-network interatomic potential with trainable activations."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.metrics import r2_score
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ..taafs.architecture import (
    ARCHITECTURE_CONSTRAINTS,
    add_registrations,
    check_architecture,
    restore_registrations,
)
from ..taafs.training import fit_net
from ._evaluation import composition, evaluate, predict_chunk
from ._frames import as_atoms_list, check_structures, read_targets
from ._setup import (
    DTYPES,
    POTENTIAL_CONSTRAINTS,
    SETSTATE_DEFAULTS,
    build_networks,
    cutoff_name,
    fit_descriptor,
    is_learned,
    structure_dataset,
)
from .repulsion import subtract_repulsion
from .training import (
    check_loss_weights,
    potential_checkpoint,
    potential_net,
    potential_net_params,
)

__all__ = ["TAAFSPotential"]



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
    descriptor : str, AtomicDescriptor or LearnedDescriptor, default='ani1x'
        Atom-centred descriptor: ``'ani1x'`` (:class:`ANIDescriptor`, the ANI-1x AEV,
        cutoff 5.2 Å), an :class:`~taafs_sk.atomistic.descriptors.AtomicDescriptor`
        (fixed: computed once with its pair Jacobians), or a learned one
        (:class:`~taafs_sk.atomistic.learned.LearnedDescriptor`, e.g.
        :class:`~taafs_sk.atomistic.DeepPotSE`): a module trained with the networks, with
        ``basis``/``sharing`` shaping its activations too (a fixed ``basis`` name is the
        baseline everywhere), forces by autograd through it. Its hyperparameters are
        searchable as ``descriptor__<name>``.
    repulsion : {None, 'zbl'}, default=None
        A short-range pair repulsion under the networks: ``'zbl'`` is the ZBL universal
        screened Coulomb energy of every pair, switched smoothly to zero between
        ``zbl_inner`` and ``zbl_outer`` (:mod:`~taafs_sk.atomistic.repulsion`); it is
        subtracted from the training targets and added back at every prediction.
    zbl_inner, zbl_outer : float, default=1.0, 2.0
        Switching radii of the repulsion (Å), ``0 <= zbl_inner < zbl_outer < cutoff``: full
        ZBL below ``zbl_inner``, none beyond ``zbl_outer``.
    min_distance : float, default=0.1
        Shortest interatomic distance (Å) accepted in ``fit`` and in every prediction
        (``predict*``, ``score``, the ASE calculator): a structure with a closer pair is
        refused with its index, the two atoms and their distance. The default is a small
        fraction of any chemical bond (the shortest, H₂, is 0.74 Å), so it only catches
        duplicated atoms or positions in the wrong unit; 0 disables the check. Must be below
        the descriptor cutoff.
    energy_weight, force_weight : float, default=1.0, 1.0
        Weights of the per-atom energy and force mean squared errors in the loss (not both
        0).
    max_epochs : int, default=200
        Maximum passes over the training structures.
    batch_size : int, default=8
        Structures per minibatch.
    lr : float, default=1e-3
        Learning rate.
    optimizer : str, default='adam'
        Optimiser by name, from the library's one registry
        (:data:`taafs_sk.nn.optimizers.OPTIMIZER_REGISTRY`: 'adam', 'adamw', 'sgd',
        'rmsprop', 'rlekf', and those added with
        :func:`~taafs_sk.nn.optimizers.register_optimizer`). ``'rlekf'`` is the Kalman
        filter of :class:`taafs_sk.nn.rlekf.RLEKF` (energy and force measurements, see
        :class:`~taafs_sk.atomistic.training.EnergyForceLoss`; no ``lr``; use
        ``batch_size=1`` as in its paper).
    optimizer_kwargs : dict, default=None
        Options of the optimiser (e.g. ``{'betas': (0.9, 0.99)}`` for 'adam'; for 'rlekf'
        ``block_size``, ``lambda1``, ``nu``, ``p0``, ``noise``, ``max_memory_mb``). A
        measurement optimiser also takes ``atoms_per_group`` (6) and ``force_groups`` (4),
        the size and number of its force measurements per minibatch.
    weight_decay : float, default=0.0
        L2 penalty of the optimiser.
    early_stopping : bool, default=True
        Hold out the *last* ``floor(validation_fraction * n_structures)`` training structures
        (a contiguous block: consecutive MD frames are correlated, so a random split would
        leak) and stop when their loss has not improved for ``patience`` epochs; the weights
        of the best epoch are restored. With fewer than 5 structures to hold out, nothing is
        held out and the *training* loss is monitored instead (the rule of
        :class:`~taafs_sk.TAAFSRegressor`).
    validation_fraction : float, default=0.1
        Size of the held-out block.
    patience : int, default=20
        Epochs without improvement before stopping.
    dtype : {'float32', 'float64'}, default='float32'
        Precision of the networks and descriptors (reference energies are always float64).
    device : str, default='cpu'
        Torch device.
    random_state : int, RandomState instance or None, default=None
        Seeds the weights, the minibatch order and the atom groups of 'rlekf'.
    verbose : int, default=0
        0: silent; 1: one line per epoch (skorch's table); 2: a progress bar over the epochs.
    checkpoint : str, os.PathLike or TrainingCheckpoint, default=None
        A directory where ``fit`` saves its training run every epoch (or a
        :class:`~taafs_sk.taafs.checkpoint.TrainingCheckpoint` for every N epochs); a
        ``fit`` killed midway and called again with the same directory, structures and
        parameters resumes and ends with the same weights as an uninterrupted fit. A
        directory holding another fit is refused.

    Attributes
    ----------
    module_ : ElementNetworks
        The trained networks (``module_.nets[e]`` serves ``elements_[e]``).
    elements_ : list of str
        Elements seen in fit, sorted.
    reference_energies_ : ndarray of shape (n_elements,)
        Per-element reference energies (eV).
    descriptor_ : AtomicDescriptor or LearnedDescriptor
        The descriptor used: a copy of ``descriptor`` (the one given is never changed); a
        learned descriptor's trained module is ``module_.descriptor``.
    n_features_in_ : int
        Descriptor length (the input width of each element network).
    net_ : taafs_sk.taafs.net.TrainingNet
        The skorch net that trained ``module_`` (the library's training loop; its
        ``module_`` is an :class:`~taafs_sk.atomistic.training.EnergyForceModule` around
        ``module_``).
    history_ : skorch.History
        ``net_.history``: one dict per epoch with ``train_loss``, ``dur`` (s) and, with a
        held-out block, ``valid_loss``, ``valid_energy_rmse`` (meV/atom) and
        ``valid_force_rmse`` (eV/Å).
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

    _parameter_constraints: dict = {**ARCHITECTURE_CONSTRAINTS, **POTENTIAL_CONSTRAINTS}

    def __init__(self, hidden_layer_sizes=(32, 32), *, basis="bspline", n_basis=8,
                 sharing="layer", normalization="tanh", basis_kwargs=None, descriptor="ani1x",
                 repulsion=None, zbl_inner=1.0, zbl_outer=2.0, min_distance=0.1,
                 energy_weight=1.0, force_weight=1.0, max_epochs=200,
                 batch_size=8, lr=1e-3, optimizer="adam", optimizer_kwargs=None,
                 weight_decay=0.0, early_stopping=True, validation_fraction=0.1, patience=20,
                 dtype="float32", device="cpu",
                 random_state=None, verbose=0, checkpoint=None):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.basis = basis
        self.n_basis = n_basis
        self.sharing = sharing
        self.normalization = normalization
        self.basis_kwargs = basis_kwargs
        self.descriptor = descriptor
        self.repulsion = repulsion
        self.zbl_inner = zbl_inner
        self.zbl_outer = zbl_outer
        self.min_distance = min_distance
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
        self.checkpoint = checkpoint

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, energies=None, forces=None):
        """Fit on structures with their DFT energies and forces.

        Parameters
        ----------
        X : list of ase.Atoms
            Training structures (a list, tuple or object array), in order: with early
            stopping the last ones are the validation block.
        energies : array-like of shape (n_structures,), default=None
            Total energies (eV); by default each structure's ``atoms.calc`` results.
        forces : list of array-like of shape (n_atoms, 3), default=None
            Forces (eV/Å); by default from each structure's calculator.

        Returns
        -------
        self : TAAFSPotential
        """
        hidden = check_architecture(self)
        # the optimiser options are checked before the descriptors are computed
        net_params = potential_net_params(self.optimizer, self.optimizer_kwargs)
        atoms_list = as_atoms_list(X, "X")
        self.descriptor_, cutoff = fit_descriptor(self.descriptor, self.min_distance)
        check_loss_weights(self.energy_weight, self.force_weight)
        check_structures(atoms_list, None, cutoff, cutoff_name(self.descriptor_))
        energies, force_list = read_targets(atoms_list, energies, forces)
        energies, force_list = subtract_repulsion(self, atoms_list, energies, force_list)
        self._seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        self._initialize_module(atoms_list, energies, hidden)
        self._initialize_net(len(atoms_list), net_params)  # checks the device
        dataset = structure_dataset(self, atoms_list, energies, force_list)
        self.net_ = fit_net(self.net_, dataset, None, seed=self._seed,
                            checkpoint=potential_checkpoint(self, atoms_list, energies,
                                                            force_list))
        self.module_ = self.net_.module_.networks  # a resumed run's own copy
        self.module_.eval()
        self.history_ = self.net_.history
        self.n_iter_ = len(self.history_)
        self.n_params_ = sum(p.numel() for p in self.module_.parameters() if p.requires_grad)
        self.n_activation_params_ = self.module_.n_activation_params()
        return self

    def _initialize_module(self, atoms_list, energies, hidden) -> None:
        """``elements_``, ``dtype_``, ``reference_energies_``, ``n_features_in_`` and the
        untrained ``module_`` (weights seeded, on the CPU until the net is built)."""
        self.elements_ = sorted({s for a in atoms_list for s in a.get_chemical_symbols()})
        self.dtype_ = DTYPES[self.dtype]
        counts = composition(atoms_list, self.elements_)
        self.reference_energies_ = np.linalg.lstsq(counts, energies, rcond=None)[0]
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self._seed)
            self.module_, self.n_features_in_ = build_networks(self, self.elements_, hidden,
                                                               self.dtype_)

    def _initialize_net(self, n_structures: int, net_params: dict) -> None:
        """``net_``: the library's skorch net around ``module_`` (not yet initialised)."""
        self.net_ = potential_net(self, self.module_, n_structures, self._seed, net_params,
                                  valid_batch_size=predict_chunk(self.descriptor_))
        self.module_.to(device=self.device)

    # ------------------------------------------------------------------ predict
    def predict(self, X) -> np.ndarray:
        """Total energies (eV) of the structures ``X``, shape ``(n_structures,)``.

        An atom with no neighbour within the cutoff (a zero descriptor) has the energy
        ``reference_energies_[e] + module_.atomic_energies(0, e)`` of its element ``e`` and
        zero force. A structure that ``fit`` would refuse (unknown element, non-finite
        position, a pair closer than ``min_distance``, ...) raises ``ValueError`` naming it,
        as does a non-finite prediction.
        """
        check_is_fitted(self, "module_")
        return evaluate(self, X, forces=False)[0]

    def predict_forces(self, X) -> list[np.ndarray]:
        """Forces (eV/Å) of the structures ``X``: a list of ``(n_atoms, 3)`` arrays."""
        check_is_fitted(self, "module_")
        return evaluate(self, X, forces=True)[1]

    def predict_energies_and_forces(self, X) -> tuple[np.ndarray, list[np.ndarray]]:
        """Energies and forces in one pass (see :meth:`predict`, :meth:`predict_forces`)."""
        check_is_fitted(self, "module_")
        return evaluate(self, X, forces=True)[:2]

    def predict_stress(self, X) -> np.ndarray:
        """Stresses (eV/Å³) ``(n_structures, 6)``, ASE's sign and Voigt order (xx yy zz yz xz
        xy): the energy's derivative under a strain of the cell (:mod:`.stress`); a structure
        not periodic along all three directions is refused (``ValueError``)."""
        check_is_fitted(self, "module_")
        return evaluate(self, X, forces=False, stress=True)[2]

    def score(self, X, y=None, sample_weight=None) -> float:
        """R² of the total energies (``y``, or each structure's calculator energy)."""
        check_is_fitted(self, "module_")
        atoms_list = as_atoms_list(X, "X")
        y = read_targets(atoms_list, y, [np.zeros((len(a), 3)) for a in atoms_list], "y")[0]
        return float(r2_score(y, self.predict(atoms_list), sample_weight=sample_weight))

    def as_calculator(self):
        """An ASE calculator (energy, forces, stress) backed by this fitted potential.

        Returns
        -------
        calc : taafs_sk.atomistic.calculator.TAAFSCalculator
        """
        check_is_fitted(self, "module_")
        from .calculator import TAAFSCalculator

        return TAAFSCalculator(self)

    def export_lammps(self, path) -> str:
        """Write this potential for LAMMPS' ``pair_style mliap unified`` (see
        :func:`taafs_sk.atomistic.lammps.export_lammps`; not run in LAMMPS here); fixed
        descriptors only."""
        from .lammps import export_lammps

        if is_learned(getattr(self, "descriptor_", None)):
            raise ValueError(f"export_lammps supports fixed descriptors only (per-pair "
                             f"Jacobians for mliap); this potential's descriptor is the "
                             f"learned {self.descriptor_!r}.")

        return export_lammps(self, path)

    def __getstate__(self):
        state = super().__getstate__()
        if "net_" in state:  # the networks travel once, inside the net
            state = {k: v for k, v in state.items() if k != "module_"}
        # registered bases and optimisers travel with the estimator (to GridSearchCV workers)
        return add_registrations(state)

    def __setstate__(self, state):
        state = {**SETSTATE_DEFAULTS, **state}  # pickled before these
        super().__setstate__(restore_registrations(state, "TAAFSPotential"))
        net = self.__dict__.get("net_")
        if net is not None and "module_" not in self.__dict__:
            self.module_ = net.module_.networks

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.target_tags.required = False
        tags.non_deterministic = self.device != "cpu"
        return tags
