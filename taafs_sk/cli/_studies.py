"""The table of ``taafs-sk study`` subcommands: one :class:`Study` entry per study.

A new study plugs in with one entry: write ``taafs_sk/studies/<name>.py`` (a function
returning a tidy DataFrame, taking ``quick``, ``random_state``, ``n_jobs``, ``data_home`` and
``verbose``), describe its options here (or in a module of this package) as a :class:`Study`,
and add it to :data:`STUDIES`. The common options (``--dataset --quick --out --seed --n-jobs
--data-home --quiet --debug``) come with every study; an option's ``dest`` is the keyword
argument of the study function, and ``None`` (the default of every study option) means "the
study function's own default", so the defaults stay in one place.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from . import _options as opt

__all__ = ["Study", "Option", "STUDIES"]


@dataclass(frozen=True)
class Option:
    """One command-line option: ``parser.add_argument(*flags, dest=dest, **kwargs)``."""

    flags: tuple[str, ...]
    dest: str
    kwargs: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Study:
    """A ``taafs-sk study NAME`` subcommand.

    Attributes
    ----------
    name : str
        The subcommand.
    function : str
        Name of the study function in :mod:`taafs_sk.studies`.
    stem : str
        File stem of the CSV and PNG files (``<stem>_<dataset>.csv``).
    help : str
        One line for ``taafs-sk study --help``.
    example : str
        A command shown in ``taafs-sk study NAME --help``.
    options : tuple of Option
        The study's own options.
    plot_kind : str
        The ``kind`` of :func:`taafs_sk.plotting.plot_study`.
    plots : callable
        ``plots(table) -> iterable of (file suffix, plot_study keyword arguments)``.
    shown : tuple of str
        Columns printed on the console (the CSV has them all).
    to_kwargs : callable, default=None
        ``to_kwargs(kwargs) -> kwargs``: turns options into function arguments when they are
        not one to one (e.g. the noise study's kind/site/scale into ``noise=``).
    """

    name: str
    function: str
    stem: str
    help: str
    example: str
    options: tuple[Option, ...]
    plot_kind: str
    plots: Callable[[object], Iterable[tuple[str, dict]]]
    shown: tuple[str, ...]
    to_kwargs: Callable[[dict], dict] | None = None

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        group = parser.add_argument_group(f"{self.name} study options")
        for option in self.options:
            group.add_argument(*option.flags, dest=option.dest, default=None, **option.kwargs)

    def kwargs(self, args: argparse.Namespace) -> dict:
        """The study function's keyword arguments the user set (others keep its defaults)."""
        out = {o.dest: getattr(args, o.dest) for o in self.options
               if getattr(args, o.dest, None) is not None}
        return self.to_kwargs(out) if self.to_kwargs else out


def _epochs(what: str = "network", default: str = "2000, 40 with --quick") -> Option:
    return Option(("--epochs",), "max_epochs", dict(
        type=opt.positive_int, metavar="N",
        help=f"most training epochs of the {what} (early stopping may end sooner; "
             f"default: {default})"))


def _architecture(default: str = "32", example: str = ", e.g. 64-32") -> Option:
    return Option(("--architecture",), "architecture", dict(
        type=opt.architecture, metavar="H[-H...]",
        help=f"hidden layer sizes joined by '-'{example} (default: {default})"))


def _base() -> Option:
    return Option(("--base",), "base", dict(
        metavar="NAME", help="nominal (fixed) activation of the ideal network "
                             "(default: tanh)"))


def _draws(what: str) -> Option:
    return Option(("--draws",), "n_draws", dict(
        type=opt.positive_int, metavar="N", help=f"noise draws {what}"))


def _absolute_and_relative(df):
    """The plots of the noise and chips studies: in target units, and relative to the ideal."""
    yield "", {}
    yield "_relative", {"relative": True}


# --------------------------------------------------------------------------- noise
_NOISE_PARTS = {"noise_kind": "kind", "noise_where": "where", "noise_scale": "scale"}


def _noise_kwargs(kwargs: dict) -> dict:
    """--noise-kind/--noise-where/--noise-scale -> ``noise=`` (every combination)."""
    if "sizes" in kwargs and "architectures" in kwargs:
        raise argparse.ArgumentTypeError("--sizes and --architectures exclude each other")
    if "depths" in kwargs and "sizes" not in kwargs:
        raise argparse.ArgumentTypeError("--depths needs --sizes")
    parts = {key: kwargs.pop(opt_name) for opt_name, key in _NOISE_PARTS.items()
             if opt_name in kwargs}
    if parts:
        models = [{}]
        for key, values in parts.items():
            models = [{**m, key: v} for m in models for v in values]
        kwargs["noise"] = [{"kind": "additive", "where": "post_activation", **m}
                           for m in models]
    return kwargs


NOISE = Study(
    name="noise", function="noise_tolerance", stem="noise_tolerance",
    help="test RMSE against analog circuit noise, by architecture and size",
    example="taafs-sk study noise --dataset perovskites --quick --sizes 8,16 --depths 1,2 "
            "--levels 0,0.05,0.1 --noise-kind additive,multiplicative "
            "--noise-where post_activation,weights --draws 16 --epochs 30 --n-jobs 2",
    options=(
        Option(("--levels",), "levels", dict(
            type=opt.floats, metavar="L,L,...",
            help="noise levels, fractions of the reference scale "
                 "(default: 0,0.01,0.02,0.05,0.1)")),
        Option(("--noise-kind",), "noise_kind", dict(
            type=opt.names, metavar="KIND[,KIND]",
            help="additive and/or multiplicative (default: additive)")),
        Option(("--noise-where",), "noise_where", dict(
            type=opt.names, metavar="SITE[,SITE]",
            help="where the noise enters: post_activation, pre_activation, weights, inputs, "
                 "output (default: post_activation); with several kinds or sites every "
                 "combination is swept")),
        Option(("--noise-scale",), "noise_scale", dict(
            type=opt.names, metavar="SCALE[,SCALE]",
            help="reference scale of the level: range, std or absolute (default: range)")),
        Option(("--sizes",), "sizes", dict(
            type=opt.ints, metavar="W,W,...",
            help="hidden-layer widths; with --depths, replaces --architectures")),
        Option(("--depths",), "depths", dict(
            type=opt.ints, metavar="D,D,...",
            help="numbers of hidden layers used with --sizes (default: 1,2)")),
        Option(("--architectures",), "architectures", dict(
            type=opt.architectures, metavar="H-H,...",
            help="networks to compare, sizes joined by '-' (default: 32,32-32)")),
        Option(("--basis",), "basis", dict(
            metavar="NAME", help="activation of the trained networks (default: tanh)")),
        _draws("per level (default: 32, 8 with --quick)"),
        _epochs("networks"),
    ),
    plot_kind="noise", plots=_absolute_and_relative, to_kwargs=_noise_kwargs,
    shown=("architecture", "n_params", "test_rmse", "kind", "where", "level", "rmse_mean",
           "rmse_p5", "rmse_p95", "rmse_ratio"),
)


# ----------------------------------------------------------------------------- naf
def _naf_plots(df):
    yield "", {}
    if "recovery" in df.columns or "recovery_vs_control" in df.columns:
        yield "_recovery", {"recovery": True}


NAF = Study(
    name="naf", function="naf_inhomogeneity", stem="naf_inhomogeneity",
    help="cost of per-neuron activation-shape spread, and what retraining wins back",
    example="taafs-sk study naf --dataset perovskites --quick --spreads 0,0.1,0.3 "
            "--realizations 4 --common-draws --architecture 16 --retrain-epochs 20 "
            "--retrain-lr 2e-3",
    options=(
        Option(("--spreads",), "spreads", dict(
            type=opt.floats, metavar="S,S,...",
            help="relative spreads of the activation shapes between neurons "
                 "(default: 0,0.05,0.1,0.2)")),
        Option(("--realizations",), "n_realizations", dict(
            type=opt.positive_int, metavar="N",
            help="independent draws of the shapes per spread (default: 3, 1 with --quick)")),
        _architecture(),
        _base(),
        Option(("--retrain-epochs",), "retrain_epochs", dict(
            type=opt.positive_int, metavar="N",
            help="epochs of retraining on the realised shapes (default: 200, 10 with --quick)")),
        Option(("--retrain-lr",), "retrain_lr", dict(
            type=opt.positive_float, metavar="LR", help="retraining learning rate "
                                                         "(default: 1e-3)")),
        Option(("--common-draws",), "common_draws", dict(
            action="store_const", const=True,
            help="realisation r uses the same deviations at every spread, scaled (smoother "
                 "curves with few realisations)")),
        Option(("--no-retrain",), "retrain", dict(
            action="store_const", const=False,
            help="only the ideal and degraded networks (no retraining, no control)")),
        _epochs("ideal network"),
    ),
    plot_kind="naf", plots=_naf_plots,
    shown=("architecture", "spread", "realization", "test_rmse_ideal", "test_rmse_degraded",
           "test_rmse_retrained", "test_rmse_control", "recovery", "recovery_vs_control"),
)


# --------------------------------------------------------------------------- bases
def _bases_plots(df):
    yield "", {}
    for col in ("fit_time", "fit_time_s", "train_time"):
        if col in df.columns:
            yield "_fit_time", {"metric": col}
            break
    if "noise_ratio" in df.columns:
        yield "_noise_ratio", {"metric": "noise_ratio"}


BASES = Study(
    name="bases", function="basis_comparison", stem="basis_comparison",
    help="test RMSE of each activation basis on the same splits",
    example="taafs-sk study bases --dataset perovskites --quick --bases tanh,bspline,chebyshev1 "
            "--repeats 2 --architecture 16-16 --noise-level 0.1 --epochs 30",
    options=(
        Option(("--bases",), "bases", dict(
            type=opt.names, metavar="NAME,...",
            help="bases to compare (default: every trainable basis and tanh)")),
        Option(("--repeats",), "repeats", dict(
            type=opt.positive_int, metavar="N",
            help="training seeds per basis (default: 3, 1 with --quick)")),
        _architecture(),
        Option(("--noise-level",), "noise_level", dict(
            type=opt.non_negative_float, metavar="L",
            help="post-activation noise level of the noise_ratio column (default: 0.05)")),
        _draws("behind noise_ratio (default: 16)"),
        _epochs("networks"),
    ),
    plot_kind="bases", plots=_bases_plots,
    shown=("basis", "repeat", "n_params", "n_epochs", "fit_time_s", "test_rmse", "noise_ratio"),
)

#: Subcommand name -> Study. A new study adds its entry here.
STUDIES: dict[str, Study] = {s.name: s for s in (NOISE, NAF, BASES)}

from ._chips import CHIPS  # noqa: E402  (it imports Study and Option from here)

STUDIES["chips"] = CHIPS
