"""Turn user input into contiguous arrays for the kernels, or raise a clear error.

Every public entry point funnels its arguments through these helpers, so each
check lives in exactly one place. Messages always name the argument and say
what was received.

Dtype policy (DESIGN.md, Conventions): any real dtype and any memory layout is
accepted; bool, complex, object and string arrays raise ``TypeError``. Floating
point work is done in float32 when every float input is float32, else float64.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fastdet._config import MAX_DENSE_ELEMENTS

__all__ = [
    "as_boxes",
    "as_float_array",
    "as_labels",
    "as_scores",
    "check_bool",
    "check_choice",
    "check_dense_size",
    "check_int",
    "check_real",
    "check_threshold",
    "common_float_dtype",
    "to_numeric_array",
]


def to_numeric_array(x: ArrayLike, name: str) -> NDArray[Any]:
    """Convert ``x`` to a NumPy array of a real numeric dtype, or raise ``TypeError``.

    The dtype is kept (ints stay ints, float32 stays float32); no copy is made
    when ``x`` is already an ndarray.
    """
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError) as exc:  # ragged nested lists and the like
        raise ValueError(f"{name} could not be converted to an array: {exc}") from None
    kind = arr.dtype.kind
    if kind == "b":
        raise TypeError(f"{name} must be a real numeric array, got dtype bool")
    if kind not in "iuf":
        if kind == "O" and arr.size == 0:
            return np.asarray(arr, dtype=np.float64)
        raise TypeError(f"{name} must be a real numeric array, got dtype {arr.dtype}")
    return arr


def common_float_dtype(*arrays: NDArray[Any]) -> type[np.floating[Any]]:
    """Return float32 when every array is float32, otherwise float64."""
    if arrays and all(a.dtype == np.float32 for a in arrays):
        return np.float32
    return np.float64


def as_float_array(
    x: ArrayLike,
    name: str,
    *,
    ndim: int | None = None,
    dtype: type[np.floating[Any]] | None = None,
    finite: bool = True,
) -> NDArray[np.floating[Any]]:
    """Return ``x`` as a C-contiguous float array (float32 stays float32 unless ``dtype``).

    Raises ``ValueError`` for a wrong number of dimensions or non-finite values
    (when ``finite``), ``TypeError`` for non-numeric input.
    """
    arr = to_numeric_array(x, name)
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional, got shape {arr.shape}")
    if dtype is None:
        dtype = np.float32 if arr.dtype == np.float32 else np.float64
    out = np.ascontiguousarray(arr, dtype=dtype)
    if finite and out.size and not np.isfinite(out).all():
        bad = np.argwhere(~np.isfinite(out))[0]
        where = tuple(int(i) for i in bad)
        raise ValueError(f"{name} contains NaN or inf (first at index {where})")
    return out


def as_boxes(
    x: ArrayLike,
    name: str = "boxes",
    *,
    dtype: type[np.floating[Any]] | None = None,
    allow_degenerate: bool = False,
) -> NDArray[np.floating[Any]]:
    """Return ``x`` as a C-contiguous ``(N, 4)`` float array of finite xyxy boxes.

    Unless ``allow_degenerate``, a box with ``x2 < x1`` or ``y2 < y1`` raises
    ``ValueError`` naming the first offending row. Zero-area boxes are valid.
    """
    arr = to_numeric_array(x, name)
    if arr.ndim == 1 and arr.size == 0:
        arr = arr.reshape(0, 4)
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise ValueError(f"{name} must have shape (N, 4), got {arr.shape}")
    boxes = as_float_array(arr, name, dtype=dtype)
    if not allow_degenerate and len(boxes):
        bad = (boxes[:, 2] < boxes[:, 0]) | (boxes[:, 3] < boxes[:, 1])
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"{name} must be xyxy with x1 <= x2 and y1 <= y2; row {row} is "
                f"{boxes[row].tolist()} ({int(bad.sum())} degenerate boxes in all)"
            )
    return boxes


def as_scores(
    x: ArrayLike,
    n: int,
    name: str = "scores",
    *,
    dtype: type[np.floating[Any]] | None = None,
    other: str = "boxes",
) -> NDArray[np.floating[Any]]:
    """Return ``x`` as a contiguous ``(n,)`` finite float array; ``n`` is the length of ``other``."""
    arr = to_numeric_array(x, name)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-dimensional, got shape {arr.shape}")
    if arr.shape[0] != n:
        raise ValueError(f"{name} has length {arr.shape[0]} but {other} has length {n}")
    return as_float_array(arr, name, dtype=dtype)


def as_labels(x: ArrayLike, n: int, name: str = "labels", *, other: str = "boxes") -> NDArray[np.int64]:
    """Return ``x`` as a contiguous ``(n,)`` int64 array.

    Floats holding whole numbers (a YOLO class column) are accepted; 0.5, NaN
    or inf raise ``ValueError``.
    """
    arr = to_numeric_array(x, name)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-dimensional, got shape {arr.shape}")
    if arr.shape[0] != n:
        raise ValueError(f"{name} has length {arr.shape[0]} but {other} has length {n}")
    if arr.dtype.kind == "f":
        if not np.isfinite(arr).all():
            raise ValueError(f"{name} contains NaN or inf")
        if (arr != np.round(arr)).any():
            row = int(np.flatnonzero(arr != np.round(arr))[0])
            raise ValueError(f"{name} must hold integers; entry {row} is {arr[row]!r}")
        if np.abs(arr).max(initial=0) > 2**53:
            raise ValueError(f"{name} holds values too large to be exact integers")
    elif arr.dtype == np.uint64 and arr.size and arr.max() > np.iinfo(np.int64).max:
        raise ValueError(f"{name} holds values that do not fit in int64")
    return np.ascontiguousarray(arr, dtype=np.int64)


def check_real(value: Any, name: str) -> float:
    """Return ``value`` as a Python float, or raise ``TypeError``/``ValueError`` (NaN, inf)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    out = float(value)
    if not math.isfinite(out):
        raise ValueError(f"{name} must be finite, got {out}")
    return out


def check_threshold(value: Any, name: str, lo: float = 0.0, hi: float = 1.0) -> float:
    """Return ``value`` as a float in ``[lo, hi]``, or raise naming ``name``."""
    out = check_real(value, name)
    if not lo <= out <= hi:
        raise ValueError(f"{name} must be in [{lo}, {hi}], got {value}")
    return out


def check_int(value: Any, name: str, *, minimum: int | None = None) -> int:
    """Return ``value`` as a Python int (``>= minimum`` when given), or raise naming ``name``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    out = int(value)
    if minimum is not None and out < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {out}")
    return out


def check_bool(value: Any, name: str) -> bool:
    """Return ``value`` if it is a Python or NumPy bool, else raise ``TypeError`` naming ``name``."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__}")
    return bool(value)


def check_choice(value: Any, name: str, choices: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``choices``, else raise ``ValueError`` listing them."""
    options: Sequence[str] = tuple(choices)
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, options))}; got {value!r}")
    return value


def check_dense_size(shape: tuple[int, ...], what: str, itemsize: int = 8) -> None:
    """Raise ``ValueError`` if a dense array of ``shape`` would be unreasonably large."""
    n = math.prod(shape)
    if n > MAX_DENSE_ELEMENTS:
        gib = n * itemsize / 2**30
        raise ValueError(
            f"{what} of shape {shape} would need {gib:.1f} GiB; "
            "split the input into blocks (this limit is fastdet._config.MAX_DENSE_ELEMENTS)"
        )
