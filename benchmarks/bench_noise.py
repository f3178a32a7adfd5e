"""Noise-sweep throughput: all draws in one vectorised pass vs a Python loop over draws.

256 noise draws x 10,000 samples through a 30-64-64-1 tanh network (float32), additive
post-activation noise at 5 % of each neuron's range. Both paths use the same calibrated
``NoiseModel`` and the same hook (with the exact output-layer shortcut of
``NoiseModel.make_hook(network=...)``); the loop calls the network once per draw
(``n_draws=1``); a second loop without the shortcut shows what the shortcut alone wins.

Run: ``.venv/bin/python benchmarks/bench_noise.py [--repeats 3] [--threads 2]``
"""

from __future__ import annotations

import argparse
import time
from functools import partial

import numpy as np
import torch

from taafs_sk.analog import NoiseModel, TorchModel
from taafs_sk.analog.noise import _DRAW_ELEMENTS, _noisy_network_draws
from taafs_sk.nn.network import MLP

N_DRAWS, N_SAMPLES, SIZES = 256, 10_000, (30, 64, 64, 1)


def build(n_samples: int = N_SAMPLES) -> tuple[TorchModel, np.ndarray, NoiseModel]:
    torch.manual_seed(0)
    mlp = MLP(SIZES[0], SIZES[1:-1], SIZES[-1], lambda i, n: torch.nn.Tanh()).eval()
    model = TorchModel(mlp, [0.0], [1.0], torch.float32)
    X = np.random.RandomState(0).normal(size=(n_samples, SIZES[0]))
    return model, X, NoiseModel(0.05).fit(model, X)


def gaussian_floor(n_samples: int) -> None:
    """Draw the Gaussian numbers of the first hidden layer's noise, nothing else, in the same
    cache-sized chunks as the batched pass."""
    gen = torch.Generator().manual_seed(0)
    step = max(1, _DRAW_ELEMENTS // (N_DRAWS * SIZES[1]))
    buf = torch.empty(N_DRAWS, step, SIZES[1])
    for _ in range(0, n_samples, step):
        buf.normal_(generator=gen)


def batched(model, X, noise) -> torch.Tensor:
    hook = noise.make_hook(N_DRAWS, torch.Generator().manual_seed(0), model.mlp)
    return _noisy_network_draws(model, hook, X, N_DRAWS)


def looped(model, X, noise, network=None) -> torch.Tensor:
    """One network call per draw; ``network`` switches on the same exact output shortcut."""
    gen = torch.Generator().manual_seed(0)
    x = model.as_tensor(X)
    with torch.no_grad():
        return torch.stack([model.mlp(x, noise.make_hook(1, gen, network))[0]
                            for _ in range(N_DRAWS)])


def best_time(fn, repeats: int) -> tuple[float, torch.Tensor]:
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"{N_DRAWS} draws, network {'-'.join(map(str, SIZES))}, additive post-activation "
          f"noise, {args.threads} threads, best of {args.repeats}")
    print(f"{'samples':>8}{'batched s':>11}{'loop s':>9}{'loop(plain) s':>15}{'Gauss-only s':>14}"
          f"{'batched M/s':>13}{'loop M/s':>10}{'speedup':>9}{'vs plain':>10}{'ceiling':>9}")
    for n_samples in (N_SAMPLES, 1000, 100):
        model, X, noise = build(n_samples)
        batched(model, X, noise)  # warm-up
        t_batch, out_b = best_time(partial(batched, model, X, noise), args.repeats)
        t_loop, out_l = best_time(partial(looped, model, X, noise, model.mlp), args.repeats)
        t_plain, _ = best_time(partial(looped, model, X, noise), args.repeats)
        t_rng, _ = best_time(partial(gaussian_floor, n_samples), args.repeats)
        if tuple(out_b.shape) != tuple(out_l.shape):
            raise RuntimeError("the two paths disagree on the output shape")
        evals = N_DRAWS * n_samples / 1e6
        print(f"{n_samples:>8}{t_batch:>11.3f}{t_loop:>9.3f}{t_plain:>15.3f}{t_rng:>14.3f}"
              f"{evals / t_batch:>13.2f}{evals / t_loop:>10.2f}{t_loop / t_batch:>8.1f}x"
              f"{t_plain / t_batch:>9.1f}x{t_loop / t_rng:>8.1f}x")
    print("speedup = per-draw loop with the same hook / batched; 'vs plain' = loop without the "
          "exact output-layer shortcut / batched. Target >= 20x. 'Gauss-only' draws the noise of "
          "the first hidden layer alone (which no exact path can skip), a floor for any path;\n"
          "'ceiling' = loop / Gauss-only, the largest speedup any batched path could reach.")


if __name__ == "__main__":
    main()
