"""Cost of one force-training step: tanh vs fused TAAF vs eager TAAF, per basis, side by side.

The step of an interatomic potential trained on energies and forces: a small atomic MLP
(16 descriptors -> 32 -> 32 -> 1, ``n_basis=8``, ``sharing='layer'``) on ``frames x atoms``
descriptor rows ``x`` (requires grad); energy per frame = sum of the atomic outputs; forces
``F = -dE/dx`` with ``create_graph=True``; loss = MSE(E) + MSE(F); ``backward()`` (the second
derivatives of every activation); one Adam step. Every model is timed in one process, a batch
of steps at a time, interleaved (the order rotates every round), on one torch thread; the
table shows the median time per step and the median over rounds of the per-round ratio
model / tanh.

Run from the project root::

    .venv/bin/python benchmarks/bench_force_step.py [--frames 8] [--atoms 32] [--repeats 7]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from taafs_sk.nn.activations import make_activation_factory
from taafs_sk.nn.bases import available_bases
from taafs_sk.nn.network import MLP

N_DESCRIPTORS, HIDDEN = 16, (32, 32)


class ForceStep:
    """One model and its optimizer; ``run(k)`` times ``k`` force-training steps."""

    def __init__(self, basis: str, fused: bool, frames: int, atoms: int) -> None:
        torch.manual_seed(0)
        factory = make_activation_factory(basis, n_basis=8, sharing="layer", fused=fused)
        self.model = MLP(N_DESCRIPTORS, HIDDEN, 1, factory)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=1e-3)
        gen = torch.Generator().manual_seed(1)
        self.frames, self.atoms = frames, atoms
        self.x = torch.randn(frames * atoms, N_DESCRIPTORS, generator=gen)
        self.e_ref = torch.randn(frames, generator=gen)
        self.f_ref = torch.randn(frames * atoms, N_DESCRIPTORS, generator=gen)

    def step(self) -> float:
        self.opt.zero_grad()
        x = self.x.detach().requires_grad_(True)
        energy = self.model(x).view(self.frames, self.atoms).sum(1)
        (grad,) = torch.autograd.grad(energy.sum(), x, create_graph=True)
        loss = (energy - self.e_ref).square().mean() + (-grad - self.f_ref).square().mean()
        loss.backward()
        self.opt.step()
        return float(loss)

    def run(self, k: int) -> float:
        start = time.perf_counter()
        for _ in range(k):
            self.step()
        return (time.perf_counter() - start) / k


def interleaved(runners: dict, repeats: int, steps: int) -> dict[str, list[float]]:
    names = list(runners)
    for name in names:  # warm-up
        runners[name].run(2)
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(repeats):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            times[name].append(runners[name].run(steps))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--atoms", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--steps", type=int, default=10, help="steps per timed batch")
    parser.add_argument("--bases", nargs="*", default=available_bases())
    args = parser.parse_args()
    torch.set_num_threads(1)
    runners = {"tanh": ForceStep("tanh", True, args.frames, args.atoms)}
    for basis in args.bases:
        for fused in (True, False):
            runners[f"{basis}/{'fused' if fused else 'eager'}"] = ForceStep(
                basis, fused, args.frames, args.atoms)
    times = interleaved(runners, args.repeats, args.steps)
    base = times["tanh"]
    print(f"force-training step, {args.frames} frames x {args.atoms} atoms = "
          f"{args.frames * args.atoms} rows, MLP {N_DESCRIPTORS}-{'-'.join(map(str, HIDDEN))}-1, "
          f"{args.repeats} rounds x {args.steps} steps, 1 thread")
    print(f"{'model':<22}{'ms/step':>9}{'x tanh':>8}{'fused/eager':>13}")
    for name, t in times.items():
        ratio = statistics.median(a / b for a, b in zip(t, base, strict=True))
        extra = ""
        if name.endswith("/fused"):
            eager = times[name.replace("/fused", "/eager")]
            extra = f"{statistics.median(a / b for a, b in zip(t, eager, strict=True)):13.2f}"
        print(f"{name:<22}{1e3 * statistics.median(t):9.3f}{ratio:8.2f}{extra}")


if __name__ == "__main__":
    main()
