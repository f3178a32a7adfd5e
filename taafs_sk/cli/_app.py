"""The ``taafs-sk`` command: parser, study runner, dataset listing, error reporting."""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from collections.abc import Sequence
from contextlib import contextmanager
from pathlib import Path

from ..datasets import STUDY_DATASETS
from ._studies import STUDIES, Study

__all__ = ["main", "UsageError", "PROG"]

PROG = "taafs-sk"
HEARTBEAT_S = 30.0
# Missing files, bad values, missing optional packages: the user can fix these.
_USER_ERRORS = (OSError, ValueError, ImportError)


class UsageError(Exception):
    """A problem with what the user asked for: reported in one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line on stderr (status 2), with a pointer to --help."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _log(message: str) -> None:
    print(f"[{PROG}] {message}", file=sys.stderr, flush=True)


def _silent(message: str) -> None:
    """The log of --quiet."""


@contextmanager
def _heartbeat(what: str, every: float = HEARTBEAT_S, log=None):
    """Print ``what ... still running`` to stderr every ``every`` seconds until the block ends."""
    done = threading.Event()
    start = time.perf_counter()

    def beat() -> None:
        while not done.wait(every):
            (log or _log)(f"{what}: still running ({time.perf_counter() - start:.0f} s)")

    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


@contextmanager
def _data_home(path: str | None):
    """Point ``TAAFS_SK_DATA`` at ``path`` (when given) and check that the folder exists."""
    old = os.environ.get("TAAFS_SK_DATA")
    if path is not None:
        os.environ["TAAFS_SK_DATA"] = str(Path(path).expanduser().resolve())
    try:
        where = os.environ.get("TAAFS_SK_DATA")
        if where is not None and not Path(where).is_dir():
            source = "--data-home" if path is not None else "TAAFS_SK_DATA"
            raise UsageError(
                f"data folder {where} (from {source}) does not exist; point TAAFS_SK_DATA "
                "or --data-home at the folder that holds the dataset folders"
            )
        yield where
    finally:
        if path is not None:
            if old is None:
                os.environ.pop("TAAFS_SK_DATA", None)
            else:
                os.environ["TAAFS_SK_DATA"] = old


# -------------------------------------------------------------------- commands
def _run_study(args: argparse.Namespace) -> int:
    study: Study = STUDIES[args.kind]
    try:
        options = study.kwargs(args)
    except argparse.ArgumentTypeError as exc:
        args.parser.error(str(exc))
    out = Path(args.out or Path("results") / f"{args.kind}-{args.dataset}")
    mode = "quick" if args.quick else "full"
    log = _log if not args.quiet else _silent
    with _data_home(args.data_home) as where:
        from .. import studies

        func = getattr(studies, study.function)
        kwargs = {"quick": args.quick, "random_state": args.seed, **options}
        if args.n_jobs is not None:
            kwargs["n_jobs"] = args.n_jobs
        if args.data_home is not None:
            kwargs["data_home"] = where
        if not args.quiet:
            kwargs["verbose"] = 1
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"cannot create the output folder {out}: {exc}") from exc
        chosen = "".join(f", {k}={v}" for k, v in options.items())
        log(f"running the {args.kind} study on {args.dataset} ({mode}, seed {args.seed}"
             f"{chosen}, data from {where or 'the default location'})")
        start = time.perf_counter()
        with _heartbeat(f"{args.kind} study", log=log):
            df = func(args.dataset, **kwargs)
        elapsed = time.perf_counter() - start
    log(f"{args.kind} study finished in {elapsed:.1f} s ({len(df)} rows)")
    _print_table(df, study)
    _save_study(df, study, args.dataset, out / f"{study.stem}_{args.dataset}")
    return 0


def _save_study(df, study: Study, dataset: str, prefix: Path) -> None:
    """Write the table as ``<prefix>.csv`` and its plots as ``<prefix><suffix>.png``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..plotting import plot_study

    csv = prefix.with_name(prefix.name + ".csv")
    df.to_csv(csv, index=False)
    pngs = []
    for suffix, kwargs in study.plots(df):
        ax = plot_study(study.plot_kind, df, **kwargs)
        ax.set_title(f"{dataset}: {ax.get_title()}".rstrip(": "), fontsize="medium")
        png = prefix.with_name(f"{prefix.name}{suffix}.png")
        ax.figure.savefig(png, dpi=120)
        plt.close(ax.figure)
        pngs.append(png)
    print(f"\nResults in {prefix.parent.resolve()}:")
    print(f"  table: {csv.name}")
    for png in pngs:
        print(f"  plot:  {png.name}")


def _print_table(df, study: Study) -> None:
    shown = [c for c in study.shown if c in df.columns]
    view = df[shown] if len(shown) >= 2 else df
    with _pandas_display():
        print(view.to_string(index=False))
    if view.shape[1] < df.shape[1]:
        print(f"({view.shape[1]} of {df.shape[1]} columns shown; the CSV has them all)")


@contextmanager
def _pandas_display():
    import pandas as pd

    with pd.option_context("display.width", 120, "display.max_rows", 200,
                           "display.float_format", "{:.4g}".format):
        yield


def _run_datasets(args: argparse.Namespace) -> int:
    with _data_home(args.data_home) as where:
        from .. import datasets

        table = datasets.list_datasets()
    import pandas as pd

    table = pd.DataFrame(table)
    if {"file", "where"} <= set(table.columns):
        table = table.drop(columns="file")  # "where" holds the full path
    print(f"data folder: {where or '(TAAFS_SK_DATA not set: the loaders default)'}")
    with _pandas_display():
        print(table.to_string(index=False, formatters=_DATASET_FORMATS))
    if "found" in table.columns and not table["found"].all():
        missing = int((~table["found"].astype(bool)).sum())
        print(f"\n{missing} file(s) missing: point TAAFS_SK_DATA or --data-home at the data "
              "folder, or let the loaders download them from the addresses shown.")
    return 0


_DATASET_FORMATS = {
    "rows": lambda n: f"{n:,}",
    "found": lambda found: "yes" if found else "MISSING",
}


# ---------------------------------------------------------------------- parser
def _build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show the full traceback when something fails")
    common.add_argument("--data-home", metavar="DIR", default=argparse.SUPPRESS,
                        help="folder holding the dataset folders (default: $TAAFS_SK_DATA)")

    parser = _Parser(
        prog=PROG, parents=[common],
        description="Trainable activation functions for scikit-learn: run a study on real "
        "data, or list the datasets.",
        epilog=f"Run '{PROG} COMMAND --help' for the options of a command.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    _add_study_command(sub, common)

    data = sub.add_parser(
        "datasets", parents=[common], help="list the datasets, their sizes and files",
        description="List the datasets, their sizes and where their files are.",
    )
    data.set_defaults(handler=_run_datasets)
    return parser


def _add_study_command(sub, common: argparse.ArgumentParser) -> None:
    """``study`` and one subcommand per entry of :data:`STUDIES`."""
    study = sub.add_parser(
        "study", parents=[common], help="run a study, print its table, save CSV and PNG plots",
        description="Run a study on a real dataset, print its table, write it as CSV and "
        "draw its plots as PNG files.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="studies:\n" + "\n".join(f"  {k:<6} {s.help}" for k, s in STUDIES.items())
        + f"\n\nRun '{PROG} study STUDY --help' for the options of a study.",
    )
    kinds = study.add_subparsers(dest="kind", metavar="{" + ",".join(STUDIES) + "}",
                                 parser_class=_Parser)
    kinds.required = True
    study_common = _study_common(common)
    for name, spec in STUDIES.items():
        one = kinds.add_parser(
            name, parents=[study_common], help=spec.help, description=spec.help[0].upper()
            + spec.help[1:] + ".", formatter_class=argparse.RawDescriptionHelpFormatter,
            epilog=f"example:\n{_wrap_command(spec.example)}\n\nOptions left out keep the "
            "study's defaults (shown as 'default:'); --quick changes some of them.",
        )
        spec.add_options(one)
        one.set_defaults(handler=_run_study, parser=one)


def _wrap_command(command: str, width: int = 76) -> str:
    """A shell command over several lines (continued with backslashes), indented."""
    lines, line = [], "  "
    for word in command.split(" --"):  # an option and its value stay together
        word = word if line == "  " else "--" + word
        if len(line) + len(word) > width:
            lines.append(line.rstrip() + " \\")
            line = "      "
        line += word + " "
    return "\n".join([*lines, line.rstrip()])


def _study_common(common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Options every study takes."""
    from . import _options as opt

    parent = argparse.ArgumentParser(add_help=False, parents=[common])
    parent.add_argument("--dataset", required=True, choices=STUDY_DATASETS,
                        metavar="{" + ",".join(STUDY_DATASETS) + "}", help="which real dataset")
    parent.add_argument("--quick", action="store_true",
                        help="small subsample, few epochs and draws: minutes on a laptop")
    parent.add_argument("--out", metavar="DIR", default=None,
                        help="output folder (default: results/STUDY-DATASET)")
    parent.add_argument("--seed", metavar="N", type=int, default=0,
                        help="random seed of splits, weights and noise draws (default: 0)")
    parent.add_argument("--n-jobs", metavar="N", type=opt.n_jobs, default=None,
                        help="fits run in parallel (joblib; -1: every core; default: 1)")
    parent.add_argument("--quiet", action="store_true",
                        help="no progress lines on stderr (the table is still printed)")
    return parent


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``taafs-sk`` command line.

    Parameters
    ----------
    argv : sequence of str, default=None
        The arguments after the program name; ``None`` reads ``sys.argv[1:]``.

    Returns
    -------
    status : int
        0 on success, 2 for a usage or data error (reported in one line on stderr), 1 for an
        unexpected failure, 130 when interrupted.

    Examples
    --------
    >>> from taafs_sk.cli import main
    >>> main(["--version"])  # doctest: +ELLIPSIS
    taafs-sk ...
    0
    """
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # --help, --version, or a parse error already reported
        return int(stop.code or 0)
    args.debug = getattr(args, "debug", False)
    args.data_home = getattr(args, "data_home", None)
    args.n_jobs = getattr(args, "n_jobs", None)
    try:
        return args.handler(args)
    except SystemExit as stop:  # a bad combination of options, reported by the parser
        return int(stop.code or 0)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.debug:
            raise
        user = isinstance(exc, (UsageError, *_USER_ERRORS))
        kind = "error" if user else f"internal error ({type(exc).__name__})"
        hint = "" if user else "; run again with --debug for the traceback"
        print(f"{PROG}: {kind}: {_one_line(exc)}{hint}", file=sys.stderr)
        return 2 if user else 1
