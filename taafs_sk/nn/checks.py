"""Input checks that need torch (the torch-free ones are in ``taafs_sk._validation``)."""

from __future__ import annotations

from typing import Any

import torch

from .._validation._text import short

__all__ = ["InvalidTypeError", "check_device", "check_finite_tensor", "check_torch_module"]


class InvalidTypeError(TypeError, ValueError):
    """An argument of the wrong type.

    A ``TypeError``, as every wrong type in the library is; also a ``ValueError`` because
    these checks of :mod:`taafs_sk.nn` raised ``ValueError`` before taafs-sk 0.3, so code that
    catches that keeps working (scikit-learn's ``InvalidParameterError`` does the same).

    Examples
    --------
    >>> from taafs_sk.nn import TAAF
    >>> try:
    ...     TAAF(sharing=True)
    ... except TypeError as exc:
    ...     print(exc)
    sharing of TAAF must be one of ['shared', 'neuron'], got True (bool).
    """


def check_device(name: str, device: Any) -> torch.device:
    """Check that ``device`` names a torch device usable here; return it as ``torch.device``.

    Parameters
    ----------
    name : str
        The parameter's name (used in the message).
    device : str or torch.device
        For example ``'cpu'``, ``'cuda'``, ``'cuda:1'``, ``'mps'``.

    Returns
    -------
    torch.device

    Raises
    ------
    TypeError
        If ``device`` is neither a string nor a ``torch.device``.
    ValueError
        If torch does not know the name, or the device is not available in this torch build
        or on this machine (``'cuda'`` on a CPU-only torch, a GPU index that does not exist).

    Examples
    --------
    >>> from taafs_sk.nn.checks import check_device
    >>> check_device("device", "cpu")
    device(type='cpu')
    >>> check_device("device", "gpu0")
    Traceback (most recent call last):
    ...
    ValueError: device='gpu0' is not a torch device name (for example 'cpu', 'cuda', 'cuda:0').
    """
    if not isinstance(device, (str, torch.device)):
        raise TypeError(f"{name} must be a str or torch.device, got {device!r} "
                        f"({type(device).__name__}).")
    try:
        dev = torch.device(device)
    except (RuntimeError, ValueError, TypeError):
        raise ValueError(f"{name}={device!r} is not a torch device name "
                         "(for example 'cpu', 'cuda', 'cuda:0').") from None
    if dev.type == "cpu":
        return dev
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"{name}={device!r}: CUDA is not available (this torch "
                             f"{torch.__version__} build or machine has no usable GPU); "
                             "use device='cpu'.")
        count = torch.cuda.device_count()
        if dev.index is not None and dev.index >= count:
            raise ValueError(f"{name}={device!r}: this machine has {count} CUDA device(s) "
                             f"(indices 0-{count - 1}).")
        return dev
    if dev.type == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise ValueError(f"{name}={device!r}: MPS is not available here; use device='cpu'.")
        return dev
    if dev.type == "meta":
        raise ValueError(f"{name}={device!r}: the meta device holds no data; use device='cpu'.")
    try:  # any other backend: it is usable iff a tensor can be put on it
        torch.ones(1, device=dev)
    except Exception as exc:  # noqa: BLE001 - torch raises many kinds for a missing backend
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"{name}={device!r} is not available here ({reason[:120]}); "
                         "use device='cpu'.") from None
    return dev


def check_torch_module(name: str, obj: Any, owner: str | None = None) -> torch.nn.Module:
    """Check that ``obj`` is a ``torch.nn.Module``; for an estimator, say what to pass instead.

    Parameters
    ----------
    name : str
        The parameter's name (used in the message).
    obj : object
        The value given.
    owner : str or None, default=None
        The function taking it, named in the message (``"module of replace_activations"``).

    Returns
    -------
    torch.nn.Module
        ``obj`` itself.

    Raises
    ------
    TypeError
        If ``obj`` is not a torch module. When it is a fitted estimator with a ``module_``
        attribute or a ``to_module()`` method, the message names it.

    Examples
    --------
    >>> import torch
    >>> from taafs_sk.nn.checks import check_torch_module
    >>> check_torch_module("module", torch.nn.Linear(2, 1))
    Linear(in_features=2, out_features=1, bias=True)
    >>> check_torch_module("module", 3)
    Traceback (most recent call last):
    ...
    TypeError: module must be a torch.nn.Module, got 3 (int).
    """
    if isinstance(obj, torch.nn.Module):
        return obj
    kind = type(obj).__name__
    hint = ""
    if hasattr(obj, "fit") and hasattr(obj, "get_params"):
        if hasattr(obj, "to_module"):
            hint = f" For a {kind}, pass estimator.to_module()."
        else:
            hint = f" For a fitted {kind}, pass its module: estimator.module_."
    where = f"{name} of {owner}" if owner else name
    raise TypeError(f"{where} must be a torch.nn.Module, got {short(obj)} ({kind}).{hint}")


def _first_where(name: str, tensor: torch.Tensor, bad: torch.Tensor, what: str) -> None:
    if bool(bad.any()):  # the index is looked for only on the way to the error
        index = tuple(torch.nonzero(bad)[0].tolist())
        value = tensor[index].item() if tensor.dim() else tensor.item()
        where = f" at index {index[0] if len(index) == 1 else index}" if index else ""
        raise ValueError(f"{name} must be {what}, got {value}{where}.")


def check_finite_tensor(name: str, tensor: torch.Tensor,
                        nonnegative: bool = False) -> torch.Tensor:
    """Check that every entry of ``tensor`` is finite (and ``>= 0`` if ``nonnegative``).

    One scan of the values (two with ``nonnegative``); the first bad entry and its index are
    looked for only when there is one. The tensor is read without its autograd graph.

    Parameters
    ----------
    name : str
        The argument's name (used in the message).
    tensor : torch.Tensor
        The values.
    nonnegative : bool, default=False
        Refuse negative entries too.

    Returns
    -------
    torch.Tensor
        ``tensor`` itself.

    Raises
    ------
    ValueError
        Naming ``name``, the first bad value and its index.

    Examples
    --------
    >>> import torch
    >>> from taafs_sk.nn.checks import check_finite_tensor
    >>> check_finite_tensor("target", torch.tensor([[1.0], [float("nan")]]))
    Traceback (most recent call last):
    ...
    ValueError: target must be finite, got nan at index (1, 0).
    """
    values = tensor.detach()
    _first_where(name, values, ~torch.isfinite(values), "finite")
    if nonnegative:
        _first_where(name, values, values < 0, "non-negative")
    return tensor
