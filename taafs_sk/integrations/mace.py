r"""TAAFs in MACE, trained by MACE's own training code.

MACE (Batatia, Kovács, Simm, Ortner & Csányi, "MACE: Higher order equivariant message passing
neural networks for fast and accurate force fields", NeurIPS 2022) holds its activations as
functions inside e3nn modules: the radial MLP of each interaction is an e3nn
``FullyConnectedNet`` whose layers apply ``normalize2mom(F.silu)`` (SiLU times a constant
that gives it unit second moment under a standard normal input), the non-linear readout is an
e3nn ``Activation`` with the same wrapper, and the gated interaction variants hold a scalar
activation and a sigmoid gate as attributes. :func:`taaf_mace` swaps each for a residual TAAF
whose :math:`\varphi_0` is the wrapper itself, so the constant is kept and the model computes
exactly what it did (bit for bit) until it is trained; :func:`run_train` is MACE's training
command (``mace_run_train``) with that swap applied to the model it builds, before its
optimiser, EMA and SWA see the parameters.

Needs the ``mace`` extra (``pip install taafs-sk[mace]``: mace-torch with e3nn 0.4.4).
Importing mace sets ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1`` for the process (mace-torch does it
so that e3nn and MACE's model files load on torch >= 2.6); this module imports mace only when
one of its functions is called.
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Iterator, Sequence

import torch
from torch import nn

from ..nn import Basis, ReplacementReport, replace_activations
from ._mace_lr import taaf_lr_group

__all__ = ["MACE_SHARING", "run_train", "taaf_mace"]

#: ``sharing`` schemes :func:`taaf_mace` offers (``'global'`` is refused: see its Notes).
MACE_SHARING = ("layer", "neuron", "network")
_EXTRA = "pip install taafs-sk[mace]"


def _mace_modules():
    """``mace.modules``, or an ImportError naming the extra."""
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # its note on cuequivariance
            import mace  # noqa: F401  (sets the torch.load default e3nn needs, first)
            from mace import modules
    except ImportError as exc:
        raise ImportError(f"taafs_sk.integrations.mace needs mace-torch: {_EXTRA}") from exc
    return modules


def _check_sharing(sharing: object) -> str:
    if not isinstance(sharing, str):
        raise TypeError(f"sharing of taaf_mace must be one of {list(MACE_SHARING)}, got "
                        f"{sharing!r} ({type(sharing).__name__}).")
    if sharing == "global":
        raise ValueError("sharing of taaf_mace cannot be 'global': MACE's optimiser puts the "
                         "interactions and the readouts in separate parameter groups, and one "
                         "TAAF in both is refused by torch; use 'network' (one TAAF per "
                         "interaction and per readout) or 'layer'.")
    if sharing not in MACE_SHARING:
        raise ValueError(f"sharing of taaf_mace must be one of {list(MACE_SHARING)}, got "
                         f"{sharing!r}.")
    return sharing


def taaf_mace(
    model: nn.Module,
    basis: str | Basis = "bspline",
    *,
    n_basis: int = 8,
    sharing: str = "layer",
    gates: bool = False,
    inplace: bool = False,
    **taaf_kwargs,
) -> tuple[nn.Module, ReplacementReport]:
    r"""Put residual TAAFs in a MACE model's radial MLPs, readout and (optionally) gates.

    Parameters
    ----------
    model : mace.modules.MACE
        A MACE model (``ScaleShiftMACE`` included), as built by ``mace_run_train`` or by hand.
    basis : str or Basis, default='bspline'
        Basis family of the TAAFs' trainable part.
    n_basis : int, default=8
        Basis functions per TAAF.
    sharing : {'layer', 'neuron', 'network'}, default='layer'
        One TAAF per activation site (each radial-MLP layer, each readout), per-neuron
        coefficients at each site, or one TAAF per interaction block and per readout.
    gates : bool, default=False
        Also swap the sigmoid gates of the gated interaction blocks (none in the default
        ``RealAgnosticResidualInteractionBlock``).
    inplace : bool, default=False
        Modify ``model`` itself instead of a copy.
    **taaf_kwargs
        Options of :class:`~taafs_sk.nn.TAAF` (``normalization``, ``basis_kwargs``,
        ``fused``).

    Returns
    -------
    model : mace.modules.MACE
        The model with TAAFs (a copy unless ``inplace=True``); outputs unchanged at step 0.
    report : ReplacementReport
        Every site replaced and every site kept, with the reason (print it).

    Notes
    -----
    ``sharing='global'`` is refused: ``mace_run_train`` gives the interactions and readouts
    separate parameter groups, and a TAAF shared by both would sit in two groups. The swapped
    model pickles (``torch.save`` of the model, as MACE saves its ``.model`` files) and runs in
    ``mace.calculators.MACECalculator``. It does not compile to TorchScript
    (``e3nn.util.jit.compile``, which ``mace_run_train`` tries for its ``_compiled.model``
    file and skips on failure): a TAAF is not scriptable.

    Examples
    --------
    >>> import contextlib, io
    >>> import numpy as np, torch
    >>> with contextlib.redirect_stdout(io.StringIO()):  # mace prints a note at import
    ...     from mace import modules  # mace before e3nn (see the module docstring)
    >>> from e3nn import o3
    >>> from taafs_sk.integrations.mace import taaf_mace
    >>> block = modules.interaction_classes["RealAgnosticResidualInteractionBlock"]
    >>> model = modules.ScaleShiftMACE(
    ...     r_max=3.0, num_bessel=4, num_polynomial_cutoff=5, max_ell=1,
    ...     interaction_cls=block, interaction_cls_first=block, num_interactions=2,
    ...     num_elements=1, hidden_irreps=o3.Irreps("4x0e"), MLP_irreps=o3.Irreps("4x0e"),
    ...     atomic_energies=np.zeros(1), avg_num_neighbors=8.0, atomic_numbers=[29],
    ...     correlation=2, gate=torch.nn.functional.silu, radial_MLP=[8],
    ...     atomic_inter_scale=1.0, atomic_inter_shift=0.0)
    >>> model, report = taaf_mace(model, "chebyshev1", n_basis=4)
    >>> [row["path"] for row in report.replaced][-2:]
    ['interactions.1.conv_tp_weights.layer0.act', 'readouts.1.non_linearity.acts.0']
    >>> len(report.replaced), report.n_params_added
    (3, 15)
    """
    modules = _mace_modules()
    if not isinstance(model, modules.MACE):
        raise TypeError(f"model of taaf_mace must be a mace.modules.MACE (ScaleShiftMACE "
                        f"included), got {type(model).__name__}.")
    sharing = _check_sharing(sharing)
    return replace_activations(model, basis, n_basis=n_basis, sharing=sharing, gates=gates,
                               inplace=inplace, report=True, **taaf_kwargs)


@contextlib.contextmanager
def _swapping(reports: list, options: dict) -> Iterator[None]:
    """While open, ``mace_run_train`` puts TAAFs in each model it configures."""
    from mace.cli import run_train as cli

    configure = cli.configure_model

    def configure_with_taafs(*args, **kwargs):
        model, output_args = configure(*args, **kwargs)
        model, report = taaf_mace(model, inplace=True, **options)
        logging.info("TAAFs (taafs_sk.integrations.mace):\n%s", report)
        reports.append(report)
        return model, output_args

    cli.configure_model = configure_with_taafs
    try:
        yield
    finally:
        cli.configure_model = configure


def _lr_group(factor: object):
    """:func:`taaf_lr_group` at ``factor`` (nothing at 1), or a ValueError naming it."""
    if (isinstance(factor, bool) or not isinstance(factor, (int, float))
            or not 0 <= factor < float("inf")):
        raise ValueError(f"taaf_lr_factor of run_train must be a finite number >= 0, got "
                         f"{factor!r}.")
    return taaf_lr_group(float(factor)) if factor != 1 else contextlib.nullcontext()


def run_train(
    argv: Sequence[str],
    basis: str | Basis = "bspline",
    *,
    n_basis: int = 8,
    sharing: str = "layer",
    gates: bool = False,
    taaf_lr_factor: float = 1.0,
    **taaf_kwargs,
) -> ReplacementReport:
    """Run MACE's training command (``mace_run_train``) with TAAFs in the model it builds.

    Everything is MACE's: argument parsing, data, E0s, model construction, loss, optimiser
    and parameter groups, EMA, SWA, checkpoints, evaluation and the saved ``.model`` files.
    The one change is that :func:`taaf_mace` is applied to the model right after MACE builds
    it, before the optimiser is made.

    Parameters
    ----------
    argv : sequence of str
        The ``mace_run_train`` command-line arguments (``["--name=cu", "--train_file=...",
        ...]``).
    basis, n_basis, sharing, gates, **taaf_kwargs
        As :func:`taaf_mace`.
    taaf_lr_factor : float, default=1.0
        The TAAF coefficients train at this factor times MACE's learning rate (``--lr``, and
        ``--swa_lr`` in its second stage), in an optimiser group of their own without weight
        decay; 1 leaves MACE's parameter groups as MACE makes them. 0 freezes the TAAFs at
        their starting shape (the original activations).

    Returns
    -------
    report : ReplacementReport
        What was swapped in the trained model (written to MACE's log too).

    Notes
    -----
    ``mace_run_train`` sets torch's default dtype (``--default_dtype``) and adds handlers to
    the root logger; both are restored when it returns.
    """
    if isinstance(argv, str) or not isinstance(argv, Sequence) or not all(
            isinstance(a, str) for a in argv):
        raise TypeError(f"argv of run_train must be a list of strings (mace_run_train's "
                        f"arguments), got {argv!r}.")
    _check_sharing(sharing)
    lr_group = _lr_group(taaf_lr_factor)
    _mace_modules()
    from mace.cli import run_train as cli
    from mace.tools import build_default_arg_parser

    args = build_default_arg_parser().parse_args(list(argv))
    reports: list[ReplacementReport] = []
    options = dict(basis=basis, n_basis=n_basis, sharing=sharing, gates=gates, **taaf_kwargs)
    dtype, root = torch.get_default_dtype(), logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        with _swapping(reports, options), lr_group:
            cli.run(args)
    finally:  # mace_run_train sets the default dtype and adds log handlers for the process
        torch.set_default_dtype(dtype)
        for handler in set(root.handlers) - set(handlers):
            root.removeHandler(handler)
            handler.close()
        root.setLevel(level)
    if not reports:
        raise RuntimeError("mace_run_train finished without building a model (--dry_run?); "
                           "nothing was swapped.")
    return reports[-1]
