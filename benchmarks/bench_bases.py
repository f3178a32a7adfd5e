"""Epoch time of TAAF networks relative to a tanh network, for every basis, side by side.

Architecture 30-64-64-1, 5,000 x 30 random regression data, batch 64, Adam (lr 1e-3), MSE,
``n_basis=8``, ``sharing='layer'`` unless told otherwise. Two settings:

(a) a plain torch training loop over :class:`taafs_sk.nn.network.MLP`: each basis through the
    compiled operator (:mod:`taafs_sk.nn._ops`, the default wherever it is available), through
    the Python fused kernels (rows ``basis (python)``, the same model with the operator
    switched off), and optionally the eager reference path ``fused=False``;
(b) the real skorch fit of :class:`taafs_sk.TAAFSRegressor` (skipped if it cannot be imported),
    timed by skorch's own per-epoch durations (the default path: the compiled operator).

All models are timed in one process, one epoch at a time, interleaved (the order rotates every
round) and repeated; the table shows median epoch times, the median over rounds of the
per-round ratio model / tanh, and the ratio of the best epochs (``best``: the least disturbed
by other jobs on a shared machine). Torch runs on one intra-op thread
(``torch.set_num_threads(1)``); ``--clock cpu`` times the thread's CPU time instead of wall
time (less sensitive to a loaded machine). The target is a ratio of at most 1.2 for every
basis.

The row ``floor`` in (a) is the structural floor of any trainable activation written as a
Python autograd Function: tanh computed inside a :class:`torch.autograd.Function` that also
takes an ``(n_basis + 1,)`` parameter (gradient zero). It costs what a TAAF costs besides
its arithmetic: one Python forward and backward per layer, one more parameter for Adam,
``zero_grad`` and gradient accumulation. The row ``floor (compiled)`` is the same for the
compiled operator: a TAAF with ``n_basis=1`` (a constant activation), whose cost is the
operator's call, its normalisation and memory traffic, and the extra parameter. ``--width``
and ``--batch`` change the network width and the batch size, to show how the ratio falls as
arithmetic grows.

Run from the project root::

    .venv/bin/python benchmarks/bench_bases.py [--repeats 7] [--skorch-epochs 4] [--clock cpu]
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import numpy as np
import torch

from taafs_sk.nn._ops import is_available, use_compiled
from taafs_sk.nn.activations import make_activation_factory
from taafs_sk.nn.bases import available_bases
from taafs_sk.nn.network import MLP

TARGET = 1.2
CLOCKS = {"wall": time.perf_counter, "cpu": time.thread_time}


def make_data(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    X = torch.randn(5000, 30, generator=gen)
    w = torch.randn(30, 3, generator=gen) / 30**0.5
    y = torch.tanh(X @ w).sum(1, keepdim=True) + 0.1 * torch.randn(5000, 1, generator=gen)
    return X, y


class _TanhWithParameter(torch.autograd.Function):
    """tanh in a Python autograd Function that also takes a parameter (its gradient is 0)."""

    @staticmethod
    def forward(ctx, z, weight):
        u = torch.tanh(z)
        ctx.save_for_backward(u, weight)
        return u

    @staticmethod
    def backward(ctx, g):
        u, weight = ctx.saved_tensors
        return g * (1.0 - u * u), torch.zeros_like(weight)


class FloorActivation(torch.nn.Module):
    """The ``floor`` row: what a trainable activation costs besides its arithmetic."""

    def __init__(self, n_basis: int) -> None:
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(n_basis + 1))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return _TanhWithParameter.apply(z, self.weight)


class PlainLoop:
    """One model trained by a minimal torch loop; ``epoch()`` returns its wall time."""

    def __init__(self, basis: str, n_basis: int, sharing: str, fused: bool, data,
                 width: int = 64, batch: int = 64, compiled: bool = True,
                 clock=time.perf_counter) -> None:
        torch.manual_seed(0)
        self.compiled, self.clock = compiled, clock
        if basis == "floor":
            def factory(i, n):
                return FloorActivation(n_basis)
        else:
            factory = make_activation_factory(basis, n_basis=n_basis, sharing=sharing, fused=fused)
        self.model = MLP(30, (width, width), 1, factory)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=1e-3)
        self.X, self.y = data
        self.batch = batch
        self.gen = torch.Generator().manual_seed(1)

    def epoch(self) -> float:
        X, y, model, opt = self.X, self.y, self.model, self.opt
        perm = torch.randperm(len(X), generator=self.gen)
        with use_compiled(self.compiled):
            start = self.clock()
            for i in range(0, len(X), self.batch):
                idx = perm[i: i + self.batch]
                opt.zero_grad()
                loss = torch.nn.functional.mse_loss(model(X[idx]), y[idx])
                loss.backward()
                opt.step()
            return self.clock() - start


def interleaved(runners: dict, repeats: int) -> dict[str, list[float]]:
    """Time one epoch of each runner per round, rotating the order every round."""
    names = list(runners)
    for name in names:  # warm-up round
        runners[name]()
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(repeats):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            times[name].append(runners[name]())
    return times


def summarize(times: dict[str, list[float]],
              base: str) -> dict[str, tuple[float, float, float]]:
    """name -> (median epoch seconds, median of per-round ratios to ``base``, ratio of the
    best epochs)."""
    out = {}
    for name, ts in times.items():
        ratios = [t / b for t, b in zip(ts, times[base], strict=True)]
        out[name] = (statistics.median(ts), statistics.median(ratios), min(ts) / min(times[base]))
    return out


def plain_loop(bases, args, data):
    size = {"width": args.width, "batch": args.batch, "clock": CLOCKS[args.clock]}
    runners = {name: PlainLoop(name, args.n_basis, args.sharing, True, data, **size).epoch
               for name in ("tanh", "floor")}
    if is_available():
        runners["floor (compiled)"] = PlainLoop("legendre", 1, args.sharing, True, data,
                                                **size).epoch
    for b in bases:
        runners[b] = PlainLoop(b, args.n_basis, args.sharing, True, data, **size).epoch
        if args.python:
            runners[b + " (python)"] = PlainLoop(b, args.n_basis, args.sharing, True, data,
                                                 compiled=False, **size).epoch
        if args.eager:
            runners[b + " (eager)"] = PlainLoop(b, args.n_basis, args.sharing, False,
                                                data, **size).epoch
    return interleaved(runners, args.repeats)


def skorch_fit(bases, args, data):
    try:
        from taafs_sk.taafs.regressor import TAAFSRegressor
    except ImportError as exc:  # the regressor is optional for this benchmark
        print(f"(b) skipped: cannot import TAAFSRegressor ({exc})")
        return None
    X, y = (t.numpy().astype(np.float64) for t in data)

    def runner(basis):
        def run():
            model = TAAFSRegressor(
                hidden_layer_sizes=(args.width, args.width), basis=basis, n_basis=args.n_basis,
                sharing=args.sharing, max_epochs=args.skorch_epochs, batch_size=args.batch,
                early_stopping=False, random_state=0)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model.fit(X, y.ravel())
            durations = [float(d) for d in model.history_[:, "dur"]]
            return statistics.median(durations[1:] if len(durations) > 1 else durations)
        return run

    runners = {"tanh": runner("tanh"), **{b: runner(b) for b in bases}}
    return summarize(interleaved(runners, max(3, args.repeats // 2)), "tanh")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="timed rounds (plain loop)")
    parser.add_argument("--skorch-epochs", type=int, default=4, help="epochs per skorch fit")
    parser.add_argument("--n-basis", type=int, default=8)
    parser.add_argument("--sharing", default="layer")
    parser.add_argument("--width", type=int, default=64, help="hidden layer width")
    parser.add_argument("--batch", type=int, default=64, help="batch size")
    parser.add_argument("--bases", nargs="*", default=None, help="default: all")
    parser.add_argument("--no-eager", dest="eager", action="store_false",
                        help="skip the eager reference path in (a)")
    parser.add_argument("--no-python", dest="python", action="store_false",
                        help="skip the rows of the Python fused kernels in (a)")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall",
                        help="wall time, or the thread's CPU time (for a shared machine)")
    parser.add_argument("--no-skorch", dest="skorch", action="store_false", help="skip (b)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    bases = args.bases or available_bases()
    data = make_data()
    print(f"30-{args.width}-{args.width}-1 MLP, 5000x30, batch {args.batch}, Adam, "
          f"n_basis={args.n_basis}, sharing={args.sharing!r}, 1 thread, {args.clock} clock, "
          f"torch {torch.__version__}, compiled operator "
          f"{'available' if is_available() else 'unavailable'}")
    plain_times = plain_loop(bases, args, data)
    plain = summarize(plain_times, "tanh")
    fit = skorch_fit(bases, args, data) if args.skorch else None
    floor = summarize({"floor": plain_times["floor"]} | {
        n: t for n, t in plain_times.items() if n != "floor"}, "floor")
    header = (f"{'activation':22s} {'(a) ms/epoch':>12s} {'(a) ratio':>9s} {'(a) best':>8s} "
              f"{'(a) /floor':>10s}")
    if fit:
        header += f" {'(b) ms/epoch':>12s} {'(b) ratio':>9s} {'(b) best':>8s}"
    print(header)
    for name, (t, ratio, best) in plain.items():
        line = f"{name:22s} {1e3 * t:12.1f} {ratio:9.2f} {best:8.2f} {floor[name][1]:10.2f}"
        if fit and name in fit:
            line += f" {1e3 * fit[name][0]:12.1f} {fit[name][1]:9.2f} {fit[name][2]:8.2f}"
        print(line)
    worst_a = max(plain[b][1] for b in bases)
    verdict = f"worst fused ratio: (a) plain loop {worst_a:.2f}"
    if fit:
        verdict += f", (b) skorch fit {max(fit[b][1] for b in bases):.2f}"
    worst = max(worst_a, max(fit[b][1] for b in bases) if fit else 0.0)
    print(f"{verdict}; target <= {TARGET}: {'met' if worst <= TARGET else 'NOT met'}")


if __name__ == "__main__":
    main()
