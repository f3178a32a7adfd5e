"""Where CHGNet holds its activations, which of them run, which are gates, and the report.

CHGNet 0.4.2 registers ``nn.SiLU`` and ``nn.Sigmoid`` modules. Three kinds of site exist:

- activations that ``forward`` calls (the hidden layers of every MLP and the ``activation``
  applied to the core branch of every ``GatedMLP``): swapped;
- the ``sigmoid`` of every ``GatedMLP``, whose output multiplies the core branch
  (:math:`\\mathrm{SiLU}(W_c x) \\odot \\sigma(W_g x)`): a *gate*, swapped only when asked;
- sites whose output never reaches the energy or the magnetic moments: the ``activation``
  registered on each ``AtomConv``, ``BondConv`` and ``AngleUpdate``, which their ``forward``
  never calls, and the gated MLP of the last ``AngleUpdate``, whose updated angle features no
  later layer reads. A TAAF there would add parameters that never train, so they are left as
  they are and reported as unused.

Which sites matter is found by running the model once on a small probe crystal with forward
hooks and asking autograd which site outputs the energy and magmoms depend on, not read from
CHGNet's source, so a later CHGNet version that uses them is followed.
"""

from __future__ import annotations

from torch import nn

from ..nn import TAAF

#: The activation classes a CHGNet model registers.
CHGNET_ACTIVATIONS: tuple[type[nn.Module], ...] = (nn.SiLU, nn.Sigmoid)


#: Why :func:`taaf_chgnet` keeps a site, by status.
REASONS = {
    "gate": "a gate (its output multiplies the gated MLP's core branch); pass gates=True to "
            "replace it",
    "unused": "its output reaches neither the energy nor the magnetic moments (never called, "
              "or read by no later layer), so a TAAF there would never train",
}


def find_sites(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """Every ``(path, module)`` of the model that is a SiLU or Sigmoid module, in order."""
    return [(name, m) for name, m in model.named_modules()
            if name and isinstance(m, CHGNET_ACTIVATIONS) and not isinstance(m, TAAF)]


def is_gate(path: str, act: nn.Module) -> bool:
    """Whether ``path`` holds the sigmoid of a GatedMLP (its output multiplies features)."""
    return isinstance(act, nn.Sigmoid) and path.rsplit(".", 1)[-1] == "sigmoid"


def probe_structure():
    """A three-atom Cu crystal with bonds under CHGNet's 3 Å bond-graph cutoff, so that its
    atom, bond and angle layers all run on it."""
    from pymatgen.core import Lattice, Structure

    return Structure(Lattice.cubic(3.6), ["Cu", "Cu", "Cu"],
                     [[0.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.5, 0.0, 0.5]])


def effective_sites(model: nn.Module, sites: list[tuple[str, nn.Module]]) -> set[str]:
    """Paths of the ``sites`` whose output reaches the predicted energy or magnetic moments.

    One forward pass on :func:`probe_structure` records each site's output; a site that is
    never called, or whose output the energy and magmoms do not depend on (no autograd path),
    is left out. Forces and stress are derivatives of the energy, so they depend on the same
    sites.
    """
    import torch

    outputs: dict[str, torch.Tensor] = {}
    handles = []
    for path, act in sites:
        def hook(module, args, output, path=path):  # noqa: ARG001 - signature of torch hooks
            outputs.setdefault(path, output)
        handles.append(act.register_forward_hook(hook))
    training = model.training
    try:
        model.eval()
        graph = model.graph_converter(probe_structure())
        with torch.enable_grad():
            pred = model([graph], task="em")
            total = pred["e"].sum() + sum(m.sum() for m in pred["m"])
            paths = [p for p, out in outputs.items() if out.requires_grad]
            grads = torch.autograd.grad(total, [outputs[p] for p in paths], allow_unused=True)
    finally:
        for h in handles:
            h.remove()
        model.train(training)
    return {p for p, g in zip(paths, grads, strict=True) if g is not None}
