r"""PaiNN, the polarizable atom interaction network, as a learned descriptor.

Schütt, Unke and Gastegger, "Equivariant message passing for the prediction of tensorial
properties and molecular spectra", ICML 2021. Written from the paper's equations (the blocks
are in ``_painn_blocks.py``); its SiLU nonlinearities are asked of the potential, so they are
trainable activations (TAAFs) or the SiLU baseline as the potential's ``basis`` says.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from .._validation import check_count, check_real
from ._painn_blocks import PaiNNModule
from .learned import LearnedDescriptor

__all__ = ["PaiNN"]


class PaiNN(LearnedDescriptor):
    r"""PaiNN (polarizable atom interaction network): a learned, equivariant descriptor.

    Each atom :math:`i` carries scalar features :math:`\mathbf s_i \in \mathbb R^F` (started
    from an embedding of its element) and vector features
    :math:`\vec{\mathbf v}_i \in \mathbb R^{3 \times F}` (started at zero). Each of the
    ``n_interactions`` interactions adds a *message* (continuous filters of the radial basis
    :math:`\sin(n \pi r / r_c) / r`, :math:`n = 1 .. N`, times a cosine cutoff, on the
    neighbours' scalars, vectors and unit pair vectors) and an *update* (channel mixing of
    each atom's own scalars and vectors):

    .. math::

        \Delta \mathbf s_i^{m} = \sum_j \phi_s(\mathbf s_j) \circ \mathcal W_s(r_{ij}),
        \qquad
        \Delta \vec{\mathbf v}_i^{m} = \sum_j \vec{\mathbf v}_j \circ \phi_{vv}(\mathbf s_j)
            \circ \mathcal W_{vv}(r_{ij})
            + \phi_{vs}(\mathbf s_j) \circ \mathcal W_{vs}(r_{ij})
            \frac{\vec r_{ij}}{r_{ij}},

    .. math::

        \Delta \vec{\mathbf v}_i^{u} = \mathbf a_{vv} \circ \mathbf U \vec{\mathbf v}_i,
        \qquad
        \Delta \mathbf s_i^{u} = \mathbf a_{sv} \circ
            \langle \mathbf U \vec{\mathbf v}_i, \mathbf V \vec{\mathbf v}_i \rangle
            + \mathbf a_{ss}, \qquad
        \mathbf a = \mathbf a(\mathbf s_i, \lVert \mathbf V \vec{\mathbf v}_i \rVert).

    :math:`\phi` and :math:`\mathbf a` are two-layer networks of width :math:`F` whose
    nonlinearity (SiLU in the paper) comes from the potential's ``activation(width,
    network)`` under the network names ``"message.<t>"`` and ``"update.<t>"``: a TAAF, or
    the fixed activation the potential's ``basis`` names (``basis='silu'`` is the paper's
    model). The TAAFs (of the readout too) take the residual form
    :math:`\sigma(z) = \mathrm{SiLU}(z) + \sum_k c_k B_k(\tanh z) + b` (``taaf_init``;
    :math:`c = b = 0` at the start, so training starts from the SiLU model): a TAAF without
    the SiLU term is bounded, and PaiNN trained with it stalled on Cu (see
    :doc:`/potential_results`). The descriptor :math:`G_i` is
    the final :math:`\mathbf s_i`; the potential's per-element networks are the atomwise
    readout. Energies are invariant and the vector features equivariant under rotations
    (tested); norms of vector features carry a small :math:`\epsilon` under the square root,
    so forces and their gradients stay finite where a vector feature is zero.

    The object holds only its hyperparameters (it is picklable and deep-copyable; a
    :class:`~taafs_sk.atomistic.learned.LearnedDescriptor`, so ``GridSearchCV`` reaches them
    as ``descriptor__n_atom_basis``...); :meth:`build` makes the torch module, whose
    parameters train with the readout in :class:`~taafs_sk.atomistic.TAAFSPotential`.

    Parameters
    ----------
    n_atom_basis : int, default=128
        Channels :math:`F` of the scalar and vector features (the descriptor's length).
    n_interactions : int, default=2
        Message and update blocks.
    n_rbf : int, default=16
        Radial basis functions :math:`N`.
    cutoff : float, default=5.0
        Cutoff radius :math:`r_c` (Å) of the neighbour list and the cosine cutoff.
    lr_scale : float, default=1.0
        Learning rate of PaiNN's parameters relative to the potential's ``lr`` (optimisers
        with a learning rate; see :mod:`~taafs_sk.atomistic.learned`: the readout standardises
        its inputs with the spread of the untrained descriptor, small in a crystal). The
        measurements in :doc:`/potential_results` are at 1.0.

    Attributes
    ----------
    cutoff : float
        As given (the potential builds its neighbour list with it).

    See Also
    --------
    taafs_sk.atomistic.TAAFSPotential : the potential that trains it.

    References
    ----------
    K. T. Schütt, O. T. Unke and M. Gastegger, "Equivariant message passing for the
    prediction of tensorial properties and molecular spectra", Proceedings of the 38th
    International Conference on Machine Learning (ICML), PMLR 139, 9377-9388 (2021).

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from taafs_sk.atomistic import PaiNN
    >>> spec = PaiNN(n_atom_basis=8, n_interactions=1, n_rbf=4, cutoff=3.0)
    >>> spec
    PaiNN(n_atom_basis=8, n_interactions=1, n_rbf=4, cutoff=3.0, lr_scale=1.0)
    >>> net = spec.build(2, lambda width, network: nn.SiLU(), torch.float64)
    >>> vec = torch.tensor([[1.5, 0.0, 0.0], [-1.5, 0.0, 0.0]], dtype=torch.float64)
    >>> net(torch.tensor([0, 1]), torch.tensor([0, 1]), torch.tensor([1, 0]), vec).shape
    torch.Size([2, 8])
    >>> net.n_features
    8
    """

    #: The TAAFs take the residual form with SiLU as :math:`\phi_0` (see
    #: :class:`taafs_sk.nn.TAAF`): exactly the paper's SiLU at step 0, never saturating.
    taaf_init = staticmethod(F.silu)
    cutoff: float = 5.0  # a plain hyperparameter here (the base class declares a property)

    def __init__(self, n_atom_basis: int = 128, n_interactions: int = 2, n_rbf: int = 16,
                 cutoff: float = 5.0, lr_scale: float = 1.0) -> None:
        self.n_atom_basis = n_atom_basis
        self.n_interactions = n_interactions
        self.n_rbf = n_rbf
        self.cutoff = cutoff
        self.lr_scale = lr_scale

    def check(self) -> None:
        """Refuse counts below 1 and a non-positive or non-finite cutoff or lr_scale,
        naming them.

        Examples
        --------
        >>> from taafs_sk.atomistic import PaiNN
        >>> PaiNN(n_interactions=0).check()
        Traceback (most recent call last):
        ...
        ValueError: n_interactions of PaiNN must be an integer >= 1, got 0.
        """
        for name in ("n_atom_basis", "n_interactions", "n_rbf"):
            check_count(f"{name} of PaiNN", getattr(self, name))
        check_real("cutoff of PaiNN", self.cutoff, minimum=0.0, include_minimum=False)
        check_real("lr_scale of PaiNN", self.lr_scale, minimum=0.0, include_minimum=False)

    def build(self, n_species: int, activation: Callable[[int, str], nn.Module],
              dtype: torch.dtype = torch.float32) -> PaiNNModule:
        """The PaiNN network for ``n_species`` elements, in ``dtype``.

        Parameters
        ----------
        n_species : int
            Number of elements.
        activation : callable ``(width, network) -> nn.Module``
            The nonlinearity of each two-layer network (``network`` is ``"message.<t>"``
            or ``"update.<t>"``, ``t`` the interaction from 0).
        dtype : torch.dtype, default=torch.float32
            Floating dtype of the parameters.

        Returns
        -------
        module : nn.Module
            ``forward(species, pair_i, pair_j, vectors) -> G`` of shape
            ``(n_atoms, n_atom_basis)`` on a directed full neighbour list; its attribute
            ``n_features`` is ``n_atom_basis``; ``features(...)`` also returns the vector
            features ``(n_atoms, 3, n_atom_basis)``.
        """
        n_species = self._check_build(n_species, activation, dtype)
        module = PaiNNModule(n_species, int(self.n_atom_basis), int(self.n_interactions),
                             int(self.n_rbf), float(self.cutoff), activation)
        module.lr_scale = float(self.lr_scale)
        return module.to(dtype)
