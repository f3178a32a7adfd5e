r"""The torch modules of PaiNN (the spec is :class:`taafs_sk.atomistic.PaiNN`).

Written from the equations of Schütt, Unke and Gastegger, "Equivariant message passing for
the prediction of tensorial properties and molecular spectra", ICML 2021 (eqs. 7-12 and
Fig. 2). Every atom carries scalar features :math:`\mathbf s_i \in \mathbb R^F` and vector
features :math:`\vec{\mathbf v}_i \in \mathbb R^{3 \times F}`; an interaction is a message
block followed by an update block, each adding a residual to both.

Shapes: ``s`` is ``(n_atoms, F)``, ``v`` is ``(n_atoms, 3, F)`` (the spatial axis before the
channel axis, so that every channel-wise map acts on the last axis), pair tensors have
``n_pairs`` rows. Sums over neighbours are ``index_add`` over the directed pairs: no Python
loop over atoms or pairs.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

__all__ = ["PaiNNModule", "RadialBasis"]

#: Added under the square root of a vector feature's norm, so that the norm's first and
#: second derivatives stay finite where the vector is zero (an atom with no neighbour, or
#: every atom before the first message).
NORM_EPS = 1e-8

Activation = Callable[[int, str], nn.Module]


class RadialBasis(nn.Module):
    r"""PaiNN's radial functions with a cosine cutoff.

    .. math::

        e_n(r) = \frac{\sin(n \pi r / r_c)}{r}, \quad n = 1 .. N, \qquad
        f_c(r) = \tfrac12 \left(\cos(\pi r / r_c) + 1\right) \ \ (r < r_c), \ 0 \text{ else}.

    ``forward(r)`` returns ``(e(r), f_c(r))`` of shapes ``(n_pairs, N)`` and ``(n_pairs,)``.
    """

    def __init__(self, n_rbf: int, cutoff: float) -> None:
        super().__init__()
        self.cutoff = float(cutoff)
        self.register_buffer("frequencies",
                             torch.arange(1, n_rbf + 1, dtype=torch.float64) * math.pi / cutoff)

    def forward(self, r: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        e = torch.sin(r[:, None] * self.frequencies) / r[:, None]  # (n_pairs, N)
        fc = 0.5 * (torch.cos(r * (math.pi / self.cutoff)) + 1.0)
        return e, fc * (r < self.cutoff).to(r.dtype)


class _Mlp(nn.Module):
    """``Linear(d_in, F) -> activation -> Linear(F, d_out)``: the two-layer networks
    :math:`\\phi` and :math:`\\mathbf a` of the message and update blocks."""

    def __init__(self, d_in: int, width: int, d_out: int, activation: nn.Module) -> None:
        super().__init__()
        self.hidden = nn.Linear(d_in, width)
        self.activation = activation
        self.out = nn.Linear(width, d_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.activation(self.hidden(x)))


class _Message(nn.Module):
    r"""Message block (eqs. 7-8): continuous filters on the pair distances.

    .. math::

        \mathbf x_{ij} = \phi(\mathbf s_j) \circ \mathcal W(\lVert\vec r_{ij}\rVert)
        = (\mathbf x^{s}_{ij}, \mathbf x^{vv}_{ij}, \mathbf x^{vs}_{ij}), \qquad
        \Delta \mathbf s_i = \sum_j \mathbf x^{s}_{ij}, \qquad
        \Delta \vec{\mathbf v}_i = \sum_j \vec{\mathbf v}_j \circ \mathbf x^{vv}_{ij}
            + \mathbf x^{vs}_{ij} \frac{\vec r_{ij}}{\lVert\vec r_{ij}\rVert},

    with :math:`\phi` a two-layer network on the scalars and :math:`\mathcal W` a linear map
    of the radial basis times the cosine cutoff (so every message vanishes smoothly at
    :math:`r_c`).
    """

    def __init__(self, n_atom_basis: int, n_rbf: int, activation: nn.Module) -> None:
        super().__init__()
        F = n_atom_basis
        self.phi = _Mlp(F, F, 3 * F, activation)
        self.filter = nn.Linear(n_rbf, 3 * F)

    def forward(self, s, v, pair_i, pair_j, rbf, fc, unit):
        F = s.shape[1]
        x = self.phi(s)[pair_j] * (self.filter(rbf) * fc[:, None])  # (n_pairs, 3F)
        x_s, x_vv, x_vs = torch.split(x, F, dim=1)
        dv = v[pair_j] * x_vv[:, None, :] + unit[:, :, None] * x_vs[:, None, :]  # (P, 3, F)
        ds = torch.zeros_like(s).index_add(0, pair_i, x_s)
        dv = torch.zeros_like(v).index_add(0, pair_i, dv)
        return s + ds, v + dv


class _Update(nn.Module):
    r"""Update block (eqs. 9-11): mixes each atom's scalar and vector channels.

    .. math::

        \mathbf a = \mathbf a(\mathbf s_i, \lVert \mathbf V \vec{\mathbf v}_i \rVert)
        = (\mathbf a_{vv}, \mathbf a_{sv}, \mathbf a_{ss}), \qquad
        \Delta \vec{\mathbf v}_i = \mathbf a_{vv} \circ \mathbf U \vec{\mathbf v}_i, \qquad
        \Delta \mathbf s_i = \mathbf a_{sv} \circ
            \langle \mathbf U \vec{\mathbf v}_i, \mathbf V \vec{\mathbf v}_i \rangle
            + \mathbf a_{ss},

    with :math:`\mathbf U, \mathbf V` linear maps over the channels (no bias: they must keep
    vectors vectors) and :math:`\mathbf a` a two-layer network. The norm is
    :math:`\sqrt{\lVert\cdot\rVert^2 + \epsilon}` (:data:`NORM_EPS`).
    """

    def __init__(self, n_atom_basis: int, activation: nn.Module) -> None:
        super().__init__()
        F = n_atom_basis
        self.U = nn.Linear(F, F, bias=False)
        self.V = nn.Linear(F, F, bias=False)
        self.a = _Mlp(2 * F, F, 3 * F, activation)

    def forward(self, s, v):
        F = s.shape[1]
        uv, vv = self.U(v), self.V(v)  # (n_atoms, 3, F)
        norm = torch.sqrt((vv * vv).sum(1) + NORM_EPS)  # (n_atoms, F)
        a_vv, a_sv, a_ss = torch.split(self.a(torch.cat([s, norm], dim=1)), F, dim=1)
        ds = a_sv * (uv * vv).sum(1) + a_ss
        return s + ds, v + a_vv[:, None, :] * uv


class PaiNNModule(nn.Module):
    """The built PaiNN network: element embedding, then ``n_interactions`` message and update
    blocks; ``forward`` returns the final scalar features (the descriptor ``G``).

    Parameters
    ----------
    n_species : int
        Number of elements (rows of the embedding).
    n_atom_basis, n_interactions, n_rbf : int
        Channels :math:`F`, interactions, radial functions.
    cutoff : float
        :math:`r_c` (Å).
    activation : callable ``(width, network) -> nn.Module``
        The nonlinearity of each two-layer network, asked for by the names
        ``"message.<t>"`` and ``"update.<t>"`` (``t`` the interaction, from 0).
    """

    def __init__(self, n_species: int, n_atom_basis: int, n_interactions: int, n_rbf: int,
                 cutoff: float, activation: Activation) -> None:
        super().__init__()
        F = n_atom_basis
        self.n_features = F
        self.lr_scale = 1.0  # the potential's learning-rate factor (set by PaiNN.build)
        self.embedding = nn.Embedding(n_species, F)
        self.radial = RadialBasis(n_rbf, cutoff)
        self.messages = nn.ModuleList(
            _Message(F, n_rbf, activation(F, f"message.{t}")) for t in range(n_interactions))
        self.updates = nn.ModuleList(
            _Update(F, activation(F, f"update.{t}")) for t in range(n_interactions))

    def features(self, species: torch.Tensor, pair_i: torch.Tensor, pair_j: torch.Tensor,
                 vectors: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The final scalar and vector features, ``(n_atoms, F)`` and ``(n_atoms, 3, F)``."""
        r = torch.sqrt((vectors * vectors).sum(1))  # (n_pairs,): pairs are never at r = 0
        unit = vectors / r[:, None]
        rbf, fc = self.radial(r)
        s = self.embedding(species)
        v = s.new_zeros(s.shape[0], 3, s.shape[1])
        for message, update in zip(self.messages, self.updates, strict=True):
            s, v = message(s, v, pair_i, pair_j, rbf, fc, unit)
            s, v = update(s, v)
        return s, v

    def forward(self, species: torch.Tensor, pair_i: torch.Tensor, pair_j: torch.Tensor,
                vectors: torch.Tensor) -> torch.Tensor:
        return self.features(species, pair_i, pair_j, vectors)[0]
