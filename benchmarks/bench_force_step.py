"""Cost of one force-training step: tanh vs TAAF (compiled, Python fused, eager), per basis.

The step of an interatomic potential trained on energies and forces: a small atomic MLP
(16 descriptors -> 32 -> 32 -> 1, ``n_basis=8``, ``sharing='layer'``) on ``frames x atoms``
descriptor rows ``x`` (requires grad); energy per frame = sum of the atomic outputs; forces
``F = -dE/dx`` with ``create_graph=True``; loss = MSE(E) + MSE(F); ``backward()`` (the second
derivatives of every activation); one Adam step. Each basis runs through the compiled
operator (``basis/compiled``, :mod:`taafs_sk.nn._ops`), the Python fused kernels
(``basis/fused``: the same model with the operator switched off) and the eager path
(``basis/eager``, ``fused=False``; ``--no-eager`` skips it). Every model is timed in one
process, a batch of steps at a time, interleaved (the order rotates every round), on one
torch thread; the table shows the median time per step, the median over rounds of the
per-round ratio model / tanh, the ratio of the best rounds (``best``, the least disturbed on
a shared machine), and the median ratio compiled / Python fused. ``--clock cpu`` times the
thread's CPU time instead of wall time.

Run from the project root::

    .venv/bin/python benchmarks/bench_force_step.py [--frames 8] [--atoms 32] [--repeats 7]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from taafs_sk.nn._ops import is_available, use_compiled
from taafs_sk.nn.activations import make_activation_factory
from taafs_sk.nn.bases import available_bases
from taafs_sk.nn.network import MLP

N_DESCRIPTORS, HIDDEN = 16, (32, 32)
CLOCKS = {"wall": time.perf_counter, "cpu": time.thread_time}


class ForceStep:
    """One model and its optimizer; ``run(k)`` times ``k`` force-training steps."""

    def __init__(self, basis: str, fused: bool, frames: int, atoms: int, compiled: bool = True,
                 clock=time.perf_counter) -> None:
        torch.manual_seed(0)
        self.compiled, self.clock = compiled, clock
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
        return float(loss.detach())

    def run(self, k: int) -> float:
        with use_compiled(self.compiled):
            start = self.clock()
            for _ in range(k):
                self.step()
            return (self.clock() - start) / k


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


def _runners(args) -> dict[str, ForceStep]:
    clock = CLOCKS[args.clock]
    size = (args.frames, args.atoms)
    runners = {"tanh": ForceStep("tanh", True, *size, clock=clock)}
    for basis in args.bases:
        if is_available():
            runners[f"{basis}/compiled"] = ForceStep(basis, True, *size, clock=clock)
        runners[f"{basis}/fused"] = ForceStep(basis, True, *size, compiled=False, clock=clock)
        if args.eager:
            runners[f"{basis}/eager"] = ForceStep(basis, False, *size, clock=clock)
    return runners


def _median_ratio(a: list[float], b: list[float]) -> float:
    return statistics.median(x / y for x, y in zip(a, b, strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--atoms", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--steps", type=int, default=10, help="steps per timed batch")
    parser.add_argument("--bases", nargs="*", default=available_bases())
    parser.add_argument("--no-eager", dest="eager", action="store_false",
                        help="skip the eager path")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall",
                        help="wall time, or the thread's CPU time (for a shared machine)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    times = interleaved(_runners(args), args.repeats, args.steps)
    base = times["tanh"]
    print(f"force-training step, {args.frames} frames x {args.atoms} atoms = "
          f"{args.frames * args.atoms} rows, MLP {N_DESCRIPTORS}-{'-'.join(map(str, HIDDEN))}-1, "
          f"{args.repeats} rounds x {args.steps} steps, 1 thread, {args.clock} clock")
    print(f"{'model':<22}{'ms/step':>9}{'x tanh':>8}{'best':>7}{'compiled/fused':>16}")
    for name, t in times.items():
        extra = ""
        if name.endswith("/compiled"):
            extra = f"{_median_ratio(t, times[name.replace('/compiled', '/fused')]):16.2f}"
        print(f"{name:<22}{1e3 * statistics.median(t):9.3f}{_median_ratio(t, base):8.2f}"
              f"{min(t) / min(base):7.2f}{extra}")


if __name__ == "__main__":
    main()
