r"""Deep Potential's smooth edition descriptor (DeepPot-SE, DeePMD-kit's ``se_e2_a``), learned.

Written from the published equations (Zhang et al., NeurIPS 2018 [1]_, and DeePMD-kit's
documentation of ``se_e2_a`` [2]_ for the switch and the environment-matrix normalisation).
For the directed pair :math:`p = i \to j` with :math:`\mathbf r_p = (x, y, z)`,
:math:`r = |\mathbf r_p|`:

.. math::

    s(r) = \begin{cases} 1/r & r < r_s \\
        \frac{1}{r}\big(u^3(-6u^2 + 15u - 10) + 1\big) & r_s \le r < r_c \\
        0 & r \ge r_c \end{cases}, \qquad u = \frac{r - r_s}{r_c - r_s},

the environment row :math:`\tilde R_p = (s, s x / r, s y / r, s z / r)`, normalised per centre
element :math:`a`: :math:`\hat R_p = ((s - \mu_a) / \sigma_a, (s x / r) / \sigma'_a, \dots)`
with :math:`\mu_a, \sigma_a` the mean and spread of :math:`s` and :math:`\sigma'_a` the root
mean square of the three angular entries over the training block's pairs
(:meth:`DeepPotSEModule.set_statistics`, called by the potential at fit, never on test data).
An embedding network per (centre element, neighbour element) maps :math:`\hat s_p` to
:math:`\mathcal G_p \in \mathbb R^M` (widths ``neuron``; DeePMD's residual connections: a layer
whose width equals its input's adds its input, one of twice the width adds its input twice,
concatenated). Then

.. math::

    T_i = \frac{1}{N_c}\Big(\sum_{p:\, i(p) = i} \mathcal G_p^\top \hat R_p
        + \sum_b (N_b - n_{ib})\, \mathcal G_{ab}(\hat s^0_a)^\top \hat R^0_a\Big), \qquad
    D_i = T_i\, (T_i^{<})^\top \in \mathbb R^{M \times M_<},

flattened to ``n_features = neuron[-1] * axis_neuron``, with :math:`T^<` the first
``axis_neuron`` embedding columns. The second sum is DeePMD's padding written in closed form:
each centre has :math:`N_b` (``sel``) neighbour slots of element :math:`b`, of which
:math:`n_{ib}` are real neighbours and the others hold the row of :math:`s = 0`,
:math:`\hat R^0_a = (-\mu_a / \sigma_a, 0, 0, 0)`. So a neighbour crossing the cutoff
changes nothing (its row is then the padding row) and the energy stays smooth after the
mean is subtracted; :math:`N_c = \sum_b N_b` normalises by the neighbour count, as DeePMD does.
With ``sel=None`` each :math:`N_b` is the largest count of element-:math:`b` neighbours of
a training atom (a test atom with more is still exact: the count term goes negative, no
neighbour is dropped).

References
----------
.. [1] L. Zhang, J. Han, H. Wang, W. A. Saidi, R. Car and W. E, "End-to-end symmetry
   preserving inter-atomic potential energy model for finite and extended systems",
   NeurIPS 31 (2018).
.. [2] DeePMD-kit documentation, "Descriptor se_e2_a",
   https://docs.deepmodeling.com/projects/deepmd/en/latest/model/train-se-e2-a.html
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral, Real

import torch
from torch import nn

from .learned import LearnedDescriptor

# DeepPotSEModule and EmbeddingNet are built only by DeepPotSE.build (its return value is
# documented there), so they are not public names.
__all__ = ["DeepPotSE", "smooth_switch"]

_STD_FLOOR = 1e-2  # smallest normalising spread (a constant column is not amplified)


def smooth_switch(r: torch.Tensor, rcut_smth: float, rcut: float) -> torch.Tensor:
    """:math:`s(r)` of the module docstring, elementwise (twice differentiable).

    Examples
    --------
    >>> import torch
    >>> from taafs_sk.atomistic.deeppot import smooth_switch
    >>> [round(v, 4) for v in smooth_switch(torch.tensor([0.5, 2.0, 6.0]), 1.0, 6.0).tolist()]
    [2.0, 0.471, 0.0]
    """
    if not (isinstance(r, torch.Tensor) and r.dtype.is_floating_point):
        got = f"a tensor of {r.dtype}" if isinstance(r, torch.Tensor) else type(r).__name__
        raise TypeError(f"r of smooth_switch must be a floating torch.Tensor, got {got}.")
    if not (_real(rcut) and 0 < rcut < float("inf")):
        raise ValueError(f"rcut of smooth_switch must be a positive finite number, got "
                         f"{rcut!r}.")
    if not (_real(rcut_smth) and 0 <= rcut_smth < rcut):
        raise ValueError(f"rcut_smth of smooth_switch must be in [0, rcut={rcut!r}), got "
                         f"{rcut_smth!r}.")
    u = ((r - rcut_smth) / (rcut - rcut_smth)).clamp(0.0, 1.0)
    return (u ** 3 * (-6.0 * u ** 2 + 15.0 * u - 10.0) + 1.0) / r


def _real(value) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


class EmbeddingNet(nn.Module):
    """DeePMD's embedding network ``1 -> neuron``, with its residual connections.

    Parameters
    ----------
    neuron : sequence of int
        Layer widths.
    activation : callable ``(width, network) -> nn.Module``
        The activation of each layer (see :mod:`taafs_sk.atomistic.learned`).
    name : str
        The network's name passed to ``activation``.
    dtype : torch.dtype
        Parameter dtype.
    """

    def __init__(self, neuron: Sequence[int], activation, name: str,
                 dtype: torch.dtype) -> None:
        super().__init__()
        widths = [1, *neuron]
        self.linears = nn.ModuleList(nn.Linear(a, b, dtype=dtype)
                                     for a, b in zip(widths[:-1], widths[1:], strict=True))
        self.activations = nn.ModuleList(activation(b, name) for b in widths[1:])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(n, 1) -> (n, neuron[-1])``."""
        for linear, act in zip(self.linears, self.activations, strict=True):
            y = act(linear(x))
            if y.shape[-1] == x.shape[-1]:
                x = x + y
            elif y.shape[-1] == 2 * x.shape[-1]:
                x = torch.cat([x, x], -1) + y
            else:
                x = y
        return x


class DeepPotSEModule(nn.Module):
    """The built DeepPot-SE descriptor (see the module docstring); made by
    :meth:`DeepPotSE.build`.

    Attributes
    ----------
    n_features : int
        ``neuron[-1] * axis_neuron``.
    env_mean, env_std : Tensor of shape (n_species,) and (n_species, 2)
        :math:`\\mu_a` and :math:`(\\sigma_a, \\sigma'_a)` (0 and 1 until
        :meth:`set_statistics`).
    sel : Tensor of shape (n_species,)
        Neighbour slots :math:`N_b` per neighbour element.
    lr_scale : float
        Learning-rate factor of its parameters (see :class:`DeepPotSE`; 1.0 until set).
    """

    def __init__(self, n_species: int, rcut: float, rcut_smth: float, neuron: Sequence[int],
                 axis_neuron: int, sel, activation, dtype: torch.dtype) -> None:
        super().__init__()
        self.n_species, self.rcut, self.rcut_smth = n_species, rcut, rcut_smth
        self.axis_neuron = axis_neuron
        self.lr_scale = 1.0
        self.n_features = neuron[-1] * axis_neuron
        self.embeddings = nn.ModuleList(
            EmbeddingNet(neuron, activation, f"embedding.{a}-{b}", dtype)
            for a in range(n_species) for b in range(n_species))
        self.register_buffer("env_mean", torch.zeros(n_species, dtype=dtype))
        self.register_buffer("env_std", torch.ones(n_species, 2, dtype=dtype))
        self.auto_sel = sel is None
        sel = 1 if sel is None else sel
        sel = [sel] * n_species if isinstance(sel, Integral) else list(sel)
        if len(sel) != n_species:
            raise ValueError(f"sel of DeepPotSE must be an int or one count per element "
                             f"({n_species}), got {sel!r}.")
        self.register_buffer("sel", torch.tensor(sel, dtype=dtype))

    def _environment(self, species, pair_i, vectors):
        """``s`` (P,), the rows (P, 4) and the centre elements (P,)."""
        r = vectors.norm(dim=1)
        s = smooth_switch(r, self.rcut_smth, self.rcut)
        rows = torch.cat([s[:, None], (s / r)[:, None] * vectors], 1)
        return s, rows, species[pair_i]

    def set_statistics(self, species, pair_i, pair_j, vectors) -> None:
        """Normalisation statistics (and ``sel`` if it was None) from training pairs."""
        s, rows, centre = self._environment(species, pair_i, vectors)
        for a in range(self.n_species):
            mask = centre == a
            if bool(mask.any()):
                self.env_mean[a] = s[mask].mean()
                self.env_std[a, 0] = s[mask].std(unbiased=False).clamp_min(_STD_FLOOR)
                self.env_std[a, 1] = rows[mask, 1:].pow(2).mean().sqrt().clamp_min(_STD_FLOOR)
        if self.auto_sel and pair_i.numel():
            counts = self._counts(species, pair_i, pair_j, vectors.dtype)
            self.sel.copy_(counts.amax(0).clamp_min(1.0))

    def _counts(self, species, pair_i, pair_j, dtype) -> torch.Tensor:
        """Neighbours of each element per atom, ``(n_atoms, n_species)``."""
        counts = torch.zeros(species.numel() * self.n_species, dtype=dtype,
                             device=species.device)
        ones = torch.ones(pair_i.numel(), dtype=dtype, device=species.device)
        return counts.index_add(0, pair_i * self.n_species + species[pair_j], ones).reshape(
            species.numel(), self.n_species)

    def forward(self, species, pair_i, pair_j, vectors) -> torch.Tensor:
        """``D`` ``(n_atoms, n_features)`` (see the module docstring)."""
        n_atoms, S, M = species.numel(), self.n_species, self.embeddings[0].linears[-1].out_features
        _, rows, centre = self._environment(species, pair_i, vectors)
        std = self.env_std[centre]  # (P, 2)
        hat = torch.cat([(rows[:, :1] - self.env_mean[centre, None]) / std[:, :1],
                         rows[:, 1:] / std[:, 1:]], 1)  # (P, 4)
        group = centre * S + species[pair_j]  # (P,) embedding network of each pair
        T = rows.new_zeros(n_atoms, M, 4)
        for k, net in enumerate(self.embeddings):  # loop over element pairs only
            idx = (group == k).nonzero().flatten()
            if idx.numel():
                g = net(hat[idx, :1])  # (n, M)
                T = T.index_add(0, pair_i[idx], g[:, :, None] * hat[idx, None, :])
        # the padding slots: s = 0 rows, N_b - n_ib of them per centre and neighbour element
        s0 = -self.env_mean / self.env_std[:, 0]  # (S,)
        g0 = torch.stack([net(s0[k // S].reshape(1, 1))[0]
                          for k, net in enumerate(self.embeddings)]).reshape(S, S, M)
        missing = self.sel - self._counts(species, pair_i, pair_j, rows.dtype)  # (N, S)
        pad = torch.einsum("ns,nsm->nm", missing, g0[species]) * s0[species, None]
        T = torch.cat([T[:, :, :1] + pad[:, :, None], T[:, :, 1:]], 2) / self.sel.sum()
        D = T @ T[:, :self.axis_neuron, :].transpose(1, 2)  # (N, M, axis_neuron)
        return D.reshape(n_atoms, self.n_features)


class DeepPotSE(LearnedDescriptor):
    """DeepPot-SE (``se_e2_a``) as a learned descriptor of
    :class:`~taafs_sk.atomistic.TAAFSPotential` (equations in :mod:`.deeppot`).

    Its embedding networks take the potential's activations (``basis``, ``n_basis``,
    ``sharing``: TAAFs, or the fixed baseline ``basis='tanh'`` of the published model;
    ``sharing='network'`` gives each element pair's embedding network one TAAF); the
    potential's element networks (``hidden_layer_sizes``) are its fitting networks.

    Parameters
    ----------
    rcut : float, default=6.0
        Cutoff radius (Å).
    rcut_smth : float, default=0.5
        Where the switch starts (Å), ``0 <= rcut_smth < rcut``.
    neuron : tuple of int, default=(25, 50, 100)
        Widths of the embedding networks.
    axis_neuron : int, default=16
        Embedding columns of the second factor, ``<= neuron[-1]``.
    sel : int, sequence of int or None, default=None
        Neighbour slots per neighbour element (see :mod:`.deeppot`); None: the largest count
        in the training block.
    lr_scale : float, default=0.1
        Learning rate of the descriptor's parameters relative to the potential's ``lr``
        (optimisers with a learning rate; RLEKF has none and ignores it). The fitting
        networks' inputs are standardised with the spread of the *untrained* descriptor,
        which in a crystal is about 1e-3 of its mean; at the full rate the descriptor drifts
        many spreads within an epoch and the fitting networks saturate (measured on Cu:
        forces stuck at the labels' RMS with 1.0; 0.1 and 0.01 train).

    Examples
    --------
    >>> from ase.build import bulk
    >>> from ase.calculators.emt import EMT
    >>> from taafs_sk.atomistic import DeepPotSE, TAAFSPotential
    >>> frames = []
    >>> for k in range(2):
    ...     atoms = bulk("Cu", cubic=True).repeat(2)
    ...     atoms.rattle(0.05, seed=k)
    ...     atoms.calc = EMT()
    ...     frames.append(atoms)
    >>> dp = DeepPotSE(rcut=3.5, rcut_smth=2.0, neuron=(4, 8), axis_neuron=2)
    >>> pot = TAAFSPotential((8,), descriptor=dp, max_epochs=1, early_stopping=False,
    ...                      random_state=0).fit(frames)
    >>> pot.n_features_in_, pot.predict_forces(frames)[0].shape
    (16, (32, 3))
    """

    def __init__(self, rcut=6.0, rcut_smth=0.5, neuron=(25, 50, 100), axis_neuron=16,
                 sel=None, lr_scale=0.1):
        self.rcut = rcut
        self.rcut_smth = rcut_smth
        self.neuron = neuron
        self.axis_neuron = axis_neuron
        self.sel = sel
        self.lr_scale = lr_scale

    @property
    def cutoff(self) -> float:
        return float(self.rcut)

    @property
    def cutoff_name(self) -> str:
        return f"rcut={self.rcut!r} of DeepPotSE"

    def check(self) -> None:
        """Refuse bad hyperparameters, naming them (``ValueError``)."""
        if not (_real(self.rcut) and 0 < self.rcut < float("inf")):
            raise ValueError(f"rcut of DeepPotSE must be a positive finite number (Å), got "
                             f"{self.rcut!r}.")
        if not (_real(self.rcut_smth) and 0 <= self.rcut_smth < self.rcut):
            raise ValueError(f"rcut_smth of DeepPotSE must be in [0, rcut={self.rcut!r}), "
                             f"got {self.rcut_smth!r}.")
        neuron = self.neuron
        if (not isinstance(neuron, Sequence) or isinstance(neuron, str) or not neuron
                or any(not isinstance(h, Integral) or isinstance(h, bool) or h < 1
                       for h in neuron)):
            raise ValueError(f"neuron of DeepPotSE must be a non-empty sequence of positive "
                             f"integers such as (25, 50, 100), got {neuron!r}.")
        a = self.axis_neuron
        if not (isinstance(a, Integral) and not isinstance(a, bool) and 1 <= a <= neuron[-1]):
            raise ValueError(f"axis_neuron of DeepPotSE must be an integer in [1, "
                             f"neuron[-1]={neuron[-1]}], got {a!r}.")
        sel = self.sel
        counts = [sel] if isinstance(sel, Integral) else sel
        if sel is not None and (isinstance(sel, bool) or not isinstance(counts, Sequence)
                                or not counts
                                or any(not isinstance(c, Integral) or isinstance(c, bool)
                                       or c < 1 for c in counts)):
            raise ValueError(f"sel of DeepPotSE must be None, a positive int or a sequence of "
                             f"them (one per element), got {sel!r}.")
        if not (_real(self.lr_scale) and 0 < self.lr_scale < float("inf")):
            raise ValueError(f"lr_scale of DeepPotSE must be a positive finite number, got "
                             f"{self.lr_scale!r}.")

    def build(self, n_species: int, activation, dtype: torch.dtype) -> DeepPotSEModule:
        """The untrained :class:`DeepPotSEModule` for ``n_species`` elements."""
        n_species = self._check_build(n_species, activation, dtype)
        module = DeepPotSEModule(n_species, float(self.rcut), float(self.rcut_smth),
                                 [int(h) for h in self.neuron], int(self.axis_neuron),
                                 self.sel, activation, dtype)
        module.lr_scale = float(self.lr_scale)
        return module
