"""Neural-network interatomic potentials with trainable activations (TAAFS), for ASE.

- :class:`TAAFSPotential`: per-element atomic networks on atom-centred descriptors, fitted to
  energies and forces, scikit-learn style; ``as_calculator()`` gives an ASE calculator;
- :mod:`~taafs_sk.atomistic.descriptors`: the fixed-descriptor contract and the ANI-1x AEV;
- :mod:`~taafs_sk.atomistic.learned`: the learned-descriptor contract (a module trained with
  the networks, forces by autograd), and :class:`DeepPotSE` (DeePMD's ``se_e2_a``);
- :mod:`~taafs_sk.atomistic.training`: the module, loss and callback with which the potential
  trains in the library's one skorch loop (:func:`taafs_sk.taafs.training.build_net`);
- :mod:`~taafs_sk.atomistic.md`: NVE molecular dynamics checks (energy drift, stability);
- :func:`as_torchsim_model`: the potential as a torch-sim model, for batched MD of many
  systems (needs the ``torchsim`` extra, imported only when called).

Needs the ``atomistic`` extra (ase, torchani): ``pip install taafs-sk[atomistic]``.
"""

from ._deps import require

require("ase")

from .deeppot import DeepPotSE  # noqa: E402
from .descriptors import ANIDescriptor, AtomicDescriptor  # noqa: E402
from .learned import LearnedDescriptor  # noqa: E402
from .painn import PaiNN  # noqa: E402
from .potential import TAAFSPotential  # noqa: E402
from .torchsim import as_torchsim_model  # noqa: E402
from .training import register_training_step  # noqa: E402

__all__ = ["ANIDescriptor", "AtomicDescriptor", "DeepPotSE", "LearnedDescriptor", "PaiNN",
           "TAAFSPotential", "as_torchsim_model", "register_training_step"]
