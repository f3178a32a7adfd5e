"""What a circuit designer programs: weights, biases and each neuron's activation as a table.

:func:`export_hardware` writes a fitted network as per-layer weight matrices and bias
vectors plus, for every hidden neuron, its activation sampled on ``n_points`` equally spaced
inputs spanning the range of pre-activations it sees on the training data (widened by
``margin`` on each side): a lookup table, whatever the activation is (a fixed function, a
TAAF, an ``AdditiveKernelNN`` neuron). :func:`load_hardware` rebuilds a
:class:`~taafs_sk.analog.TorchModel` from the file, interpolating each table by monotone
piecewise-cubic Hermite (PCHIP) or piecewise-linear interpolation and continuing linearly
(or flat) outside it. On inputs whose pre-activations stay within the tables the rebuilt model
predicts the original's values up to that interpolation error (the table spacing ``h`` sets
it: ``O(h^2)`` linear, ``O(h^3)`` PCHIP); beyond them the extrapolation error adds (both
measured in ``docs/analog_results.rst``).

Layouts. ``.npz``: arrays ``hidden_weight_<i>`` ``(width_i, n_in_i)``, ``hidden_bias_<i>``,
``grid_<i>`` and ``table_<i>`` ``(width_i, n_points)``, ``output_weight``, ``output_bias``,
optional ``skip_weight``, ``y_mean``, ``y_scale`` and ``format_version``. CSV: a folder with
the same names as ``.csv`` files (weights one row per neuron; ``activation_<i>.csv`` in long
form with columns ``neuron, x, y``).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import torch

from .._validation import check_choice, check_count, check_real
from .._validation._text import short
from ..nn.network import MLP
from ..nn.tabulated import TabulatedActivation
from ._adapters import TorchModel, torch_model_of
from .naf import pchip_slopes

__all__ = ["export_hardware", "load_hardware", "FORMAT_VERSION"]

FORMAT_VERSION = 1


def _arrays(model: TorchModel, X, n_points: int, margin: float) -> dict[str, np.ndarray]:
    mlp = model.mlp
    Xn = model.network_input(X)
    with torch.no_grad():
        zs = mlp.hidden_pre_activations(torch.as_tensor(Xn, dtype=model.dtype))
    out: dict[str, np.ndarray] = {"format_version": np.array(FORMAT_VERSION)}

    def np64(t):
        return t.detach().cpu().double().numpy()

    for i, (layer, act, z) in enumerate(zip(mlp.hidden, mlp.activations, zs, strict=True)):
        lo, hi = z.amin(0).double(), z.amax(0).double()
        pad = margin * torch.clamp(hi - lo, min=1e-3)
        t = torch.linspace(0, 1, n_points, dtype=torch.float64)
        grid = (lo - pad)[:, None] + t[None, :] * (hi - lo + 2 * pad)[:, None]  # (W, P)
        with torch.no_grad():
            table = act(grid.T.contiguous().to(model.dtype)).T  # elementwise: (P, W) -> (W, P)
        out[f"hidden_weight_{i}"], out[f"hidden_bias_{i}"] = np64(layer.weight), np64(layer.bias)
        out[f"grid_{i}"], out[f"table_{i}"] = np64(grid), np64(table)
    out["output_weight"], out["output_bias"] = np64(mlp.output.weight), np64(mlp.output.bias)
    if mlp.skip is not None:
        out["skip_weight"] = np64(mlp.skip.weight)
    out["y_mean"], out["y_scale"] = model.y_mean_np.copy(), model.y_scale_np.copy()
    return out


def export_hardware(model, path, X, *, n_points: int = 257, margin: float = 0.05,
                    format: str = "npz") -> Path:
    """Write ``model``'s weights and per-neuron activation lookup tables to ``path``.

    Parameters
    ----------
    model : fitted estimator or TorchModel
        Anything :func:`~taafs_sk.analog.as_torch_model` accepts, except a ``Pipeline`` with
        preprocessing steps (export its final estimator and apply the steps before the
        circuit).
    path : str or path-like
        The ``.npz`` file (``format='npz'``) or the folder of CSV files (``format='csv'``).
        Written to a temporary name first and renamed, so a failure leaves nothing behind.
    X : array-like of shape (n_samples, n_features)
        Training inputs: each table spans the pre-activations its neuron sees on them.
    n_points : int, default=257
        Points per table (>= 2).
    margin : float, default=0.05
        Widening of each table's range on each side, relative to the range.
    format : {'npz', 'csv'}, default='npz'
        File layout (see the module docstring).

    Returns
    -------
    path : pathlib.Path

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from sklearn.neural_network import MLPRegressor
    >>> from taafs_sk.analog import export_hardware, load_hardware
    >>> X = np.random.RandomState(0).normal(size=(80, 2)); y = np.tanh(X).sum(1)
    >>> est = MLPRegressor(hidden_layer_sizes=(6,), activation="tanh", max_iter=50,
    ...                    random_state=0).fit(X, y)
    >>> path = export_hardware(est, os.path.join(tempfile.mkdtemp(), "net.npz"), X)
    >>> bool(np.abs(load_hardware(path).predict(X) - est.predict(X)).max() < 1e-4)
    True
    """
    torch_model = _exportable(model)
    n_points = check_count("export_hardware: n_points", n_points, minimum=2)
    margin = check_real("export_hardware: margin", margin, minimum=0.0)
    check_choice("export_hardware: format", format, ["npz", "csv"])
    path = _check_target(path, format)
    arrays = _arrays(torch_model, X, n_points, margin)
    path.parent.mkdir(parents=True, exist_ok=True)
    (_write_npz if format == "npz" else _write_csv)(path, arrays)
    return path


def _check_path(path, where: str) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{where}: path must be a str or path-like, got {short(path)} "
                        f"({type(path).__name__}).")
    return Path(path)


def _check_target(path, format: str) -> Path:
    """The path to write: an ``.npz`` path that is not a folder, or a CSV folder path that is
    new or holds an earlier export (never another folder: it would be replaced)."""
    path = _check_path(path, "export_hardware")
    if format == "npz" and path.is_dir():
        raise ValueError(f"export_hardware: path {str(path)!r} is a folder; give a file name "
                         "for format='npz' (e.g. folder / 'net.npz').")
    if format == "csv" and path.exists():
        previous = path.is_dir() and (path / "output_weight.csv").is_file() and all(
            f.suffix == ".csv" for f in path.iterdir())
        if not previous:
            raise ValueError(
                f"export_hardware: path {str(path)!r} exists and is not a CSV export of "
                "export_hardware; with format='csv' the folder is replaced, so give a new "
                "folder name.")
    return path


def _exportable(model) -> TorchModel:
    """``model`` as a :class:`TorchModel` whose network takes the raw inputs (no numpy
    preprocessing, which a circuit table cannot hold)."""
    if hasattr(model, "steps") and len(model.steps) > 1:
        raise ValueError(
            "export_hardware: model is a Pipeline with preprocessing steps "
            f"{[name for name, _ in model.steps[:-1]]}; export its final estimator and "
            "apply the steps before the circuit."
        )
    torch_model = torch_model_of(model, "export_hardware: model")
    if torch_model.transform is not None:
        raise ValueError(
            "export_hardware: the model applies numpy preprocessing before its network (a "
            "Pipeline's steps), which a circuit table cannot hold; export the final estimator "
            "and apply the steps before the circuit."
        )
    return torch_model


def _write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """``arrays`` as one ``.npz`` file, written under a temporary name and renamed."""
    fd, tmp = tempfile.mkstemp(suffix=".npz", dir=path.parent)
    os.close(fd)
    try:
        np.savez(tmp, **arrays)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _write_csv(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """``arrays`` as a folder of CSV files (each table in long form with its grid), written
    in a temporary folder and renamed."""
    tmp_dir = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}."))
    try:
        for key, value in arrays.items():
            if key.startswith("grid_"):
                continue
            if key.startswith("table_"):
                i = key.split("_")[1]
                grid = arrays[f"grid_{i}"]
                neuron = np.repeat(np.arange(grid.shape[0]), grid.shape[1])
                long = np.column_stack([neuron, grid.ravel(), value.ravel()])
                np.savetxt(tmp_dir / f"activation_{i}.csv", long, delimiter=",",
                           header="neuron,x,y", comments="", fmt=["%d", "%.17g", "%.17g"])
            else:
                np.savetxt(tmp_dir / f"{key}.csv", np.atleast_1d(value), delimiter=",",
                           fmt="%.17g")
        if path.exists():
            shutil.rmtree(path)
        os.replace(tmp_dir, path)
    finally:
        if tmp_dir.exists():
            shutil.rmtree(tmp_dir)


def _not_an_export(path: Path, why: str) -> ValueError:
    return ValueError(
        f"load_hardware: {str(path)!r} is not an export written by export_hardware (an .npz "
        f"file or a folder of CSV files, format version {FORMAT_VERSION}): {why}.")


def _read(path: Path) -> dict[str, np.ndarray]:
    """The arrays of an export, or a ValueError saying why ``path`` is not one (never
    unpickled: an export holds numbers only)."""
    if path.is_dir():
        return _read_csv(path)
    try:
        data = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError):
        raise _not_an_export(path, "numpy cannot read it as an .npz archive of numeric "
                                   "arrays") from None
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise _not_an_export(path, f"it holds one array of shape {data.shape} (.npy)")
    try:
        with data:
            return {k: data[k] for k in data.files}
    except ValueError:  # an array of objects: would need unpickling
        raise _not_an_export(path, "it holds arrays of Python objects") from None


def _read_csv(path: Path) -> dict[str, np.ndarray]:
    try:
        return _read_csv_files(path)
    except ValueError as exc:
        raise _not_an_export(path, f"a CSV file cannot be read as numbers ({exc})") from None


def _read_csv_files(path: Path) -> dict[str, np.ndarray]:
    arrays: dict[str, np.ndarray] = {}
    for f in sorted(path.glob("*.csv")):
        if f.stem.startswith("activation_"):
            i = f.stem.split("_")[1]
            long = np.loadtxt(f, delimiter=",", skiprows=1, ndmin=2)
            if long.shape[1] != 3 or not len(long):
                raise ValueError(f"{f.name} must have the columns neuron, x, y")
            n = int(long[:, 0].max()) + 1
            arrays[f"grid_{i}"] = long[:, 1].reshape(n, -1)
            arrays[f"table_{i}"] = long[:, 2].reshape(n, -1)
        else:
            arrays[f.stem] = np.loadtxt(f, delimiter=",", ndmin=1)
    return arrays


def _check_arrays(path: Path, a: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The arrays of an export, refused (naming the file and the array) when they are not
    what :func:`export_hardware` writes: the format version, the arrays of every layer,
    numbers, finite ones."""
    if "format_version" not in a:
        raise _not_an_export(path, f"it has no format_version (it holds {sorted(a)[:8]})")
    version = a["format_version"]
    if (version.size != 1 or not np.issubdtype(version.dtype, np.number)
            or float(version.ravel()[0]) != FORMAT_VERSION):
        raise ValueError(
            f"load_hardware: {str(path)!r} has format_version {short(version.tolist())}; this "
            f"version of taafs-sk reads format version {FORMAT_VERSION} (exported by another "
            "taafs-sk version? load it with that version and export again).")
    n_hidden = sum(k.startswith("hidden_weight_") for k in a)
    required = ["output_weight", "output_bias", "y_mean", "y_scale", *(
        f"{name}_{i}" for i in range(n_hidden)
        for name in ("hidden_weight", "hidden_bias", "grid", "table"))]
    missing = [k for k in required if k not in a]
    if missing:
        raise _not_an_export(path, f"it lacks the arrays {missing}")
    for key in required:
        if not np.issubdtype(a[key].dtype, np.number) or not np.isfinite(a[key]).all():
            raise ValueError(f"load_hardware: array {key!r} of {str(path)!r} must hold finite "
                             f"numbers, got {short(a[key].tolist())}; the file is damaged.")
    return a


def load_hardware(path, *, interpolation: str = "pchip",
                  extrapolation: str = "linear") -> TorchModel:
    """Rebuild the network written by :func:`export_hardware`.

    Parameters
    ----------
    path : str or path-like
        An ``.npz`` file or a CSV folder from :func:`export_hardware`.
    interpolation : {'pchip', 'linear'}, default='pchip'
        How each activation table is interpolated.
    extrapolation : {'linear', 'clamp'}, default='linear'
        Outside a table: continue with the end slope, or hold the end value (closer for
        saturating activations such as a TAAF behind a ``tanh`` normalisation).

    Returns
    -------
    model : TorchModel
        Float64; ``model.predict(X)`` takes the inputs the exported model took.
    """
    check_choice("load_hardware: interpolation", interpolation, ["pchip", "linear"])
    check_choice("load_hardware: extrapolation", extrapolation, ["linear", "clamp"])
    path = _check_path(path, "load_hardware")
    if not path.exists():
        raise ValueError(f"load_hardware: {str(path)!r} does not exist.")
    a = _check_arrays(path, _read(path))
    mlp = _network(a, interpolation, extrapolation)
    y_mean = np.atleast_1d(a["y_mean"])
    model = TorchModel(mlp, y_mean, np.atleast_1d(a["y_scale"]), torch.float64,
                       ravel=len(y_mean) == 1)
    model.owner = "load_hardware"
    return model


def _network(a: dict[str, np.ndarray], interpolation: str, extrapolation: str) -> MLP:
    """The float64 ``MLP`` of the arrays ``a`` written by :func:`export_hardware`."""
    n_hidden = sum(k.startswith("hidden_weight_") for k in a)
    weights = [np.atleast_2d(a[f"hidden_weight_{i}"]) for i in range(n_hidden)]
    out_w = a["output_weight"].reshape(len(np.atleast_1d(a["output_bias"])), -1)
    n_in = weights[0].shape[1] if weights else out_w.shape[1]
    widths = tuple(w.shape[0] for w in weights)
    tables = []
    for i in range(n_hidden):
        grid = torch.as_tensor(a[f"grid_{i}"].reshape(widths[i], -1))
        values = torch.as_tensor(a[f"table_{i}"].reshape(widths[i], -1))
        slopes = pchip_slopes(grid, values) if interpolation == "pchip" else None
        tables.append(TabulatedActivation(grid, values, slopes, extrapolation=extrapolation))
    mlp = MLP(n_in, widths, out_w.shape[0], lambda i, n: tables[i],
              skip_connection="skip_weight" in a).double()
    with torch.no_grad():
        for i, layer in enumerate(mlp.hidden):
            layer.weight.copy_(torch.as_tensor(weights[i].reshape(widths[i], -1)))
            layer.bias.copy_(torch.as_tensor(np.atleast_1d(a[f"hidden_bias_{i}"])))
        mlp.output.weight.copy_(torch.as_tensor(out_w))
        mlp.output.bias.copy_(torch.as_tensor(np.atleast_1d(a["output_bias"])))
        if mlp.skip is not None:
            mlp.skip.weight.copy_(torch.as_tensor(a["skip_weight"].reshape(out_w.shape[0], -1)))
    return mlp
