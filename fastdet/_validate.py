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
    "MAX_DENSE_ELEMENTS",
    "as_boxes",
    "as_float_array",
    "as_labels",
    "as_scores",
    "box_magnitude",
    "box_magnitude_limit",
    "check_bool",
    "check_box_magnitude",
    "check_choice",
    "check_dense_size",
    "check_int",
    "check_real",
    "check_threshold",
    "common_float_dtype",
    "to_numeric_array",
]


def to_numeric_array(x: ArrayLike, name: str, *, bool_as_int: bool = False) -> NDArray[Any]:
    """Convert ``x`` to a NumPy array of a real numeric dtype, or raise ``TypeError``.

    The dtype is kept (ints stay ints, float32 stays float32); no copy is made
    when ``x`` is already an ndarray. Booleans are refused, or with
    ``bool_as_int`` taken as 0 and 1 (uint8).
    """
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError) as exc:  # ragged nested lists and the like
        raise ValueError(f"{name} could not be converted to an array: {exc}") from None
    kind = arr.dtype.kind
    if kind == "b":
        if bool_as_int:
            return arr.view(np.uint8)
        raise TypeError(f"{name} must be a real numeric array, got dtype bool")
    if kind not in "iuf":
        if kind == "O" and arr.size == 0:
            return np.asarray(arr, dtype=np.float64)
        raise TypeError(f"{name} must be a real numeric array, got dtype {arr.dtype}")
    if not arr.dtype.isnative:  # big-endian data: Numba kernels cannot even be compiled for it
        arr = arr.astype(arr.dtype.newbyteorder("="))
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
    out = np.asarray(arr, dtype=dtype, order="C")  # not ascontiguousarray: it turns 0-d into (1,)
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
    check_magnitude: bool = False,
) -> NDArray[np.floating[Any]]:
    """Return ``x`` as a C-contiguous ``(N, 4)`` float array of finite xyxy boxes.

    Unless ``allow_degenerate``, a box with ``x2 < x1`` or ``y2 < y1`` raises
    ``ValueError`` naming the first offending row. Zero-area boxes are valid.
    With ``check_magnitude``, coordinates too large for areas to be computed in
    the result dtype raise ``ValueError`` (see :func:`check_box_magnitude`).
    """
    arr = to_numeric_array(x, name)
    if arr.ndim == 1 and arr.size == 0:
        arr = arr.reshape(0, 4)
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise ValueError(f"{name} must have shape (N, 4), got {arr.shape}")
    boxes = as_float_array(arr, name, dtype=dtype)
    if check_magnitude:
        check_box_magnitude(boxes, name)
    if not allow_degenerate and len(boxes):
        bad = (boxes[:, 2] < boxes[:, 0]) | (boxes[:, 3] < boxes[:, 1])
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"{name} must be xyxy with x1 <= x2 and y1 <= y2; row {row} is "
                f"{boxes[row].tolist()} ({int(bad.sum())} degenerate boxes in all)"
            )
    return boxes


def box_magnitude_limit(dtype: Any) -> float:
    """Largest ``|coordinate|`` whose box areas, unions and squared diagonals stay finite in ``dtype``.

    A side is at most ``2 * limit``, so an area or a squared diagonal is at most
    ``8 * limit**2 = finfo(dtype).max``: about 6.5e18 for float32, 4.7e153 for float64.
    """
    return math.sqrt(float(np.finfo(dtype).max) / 8)


def box_magnitude(boxes: NDArray[np.floating[Any]]) -> float:
    """Largest ``|coordinate|`` of a finite box array (0.0 when empty)."""
    if not boxes.size:
        return 0.0
    return max(abs(float(boxes.min())), abs(float(boxes.max())))


def check_box_magnitude(boxes: NDArray[np.floating[Any]], name: str) -> None:
    """Raise ``ValueError`` if areas of ``boxes`` would overflow their dtype (inf / inf = NaN IoU)."""
    limit = box_magnitude_limit(boxes.dtype)
    big = box_magnitude(boxes)
    if big > limit:
        hint = "pass float64 boxes or rescale them" if boxes.dtype == np.float32 else "rescale them"
        raise ValueError(
            f"{name} has a coordinate of magnitude {big:.3g}, too large for box areas in "
            f"{boxes.dtype} (limit {limit:.3g}): {hint}"
        )


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
        # float64 comparison: 2**53 does not fit in float16 (a spurious overflow warning)
        if float(np.abs(arr).max(initial=0)) > 2**53:
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
    """Raise ``ValueError`` if a dense array of ``shape`` would be unreasonably large.

    Call it before allocating: the message states the size the array would need,
    instead of the process being killed by the operating system. The limit is
    ``MAX_DENSE_ELEMENTS`` of this module (from ``fastdet._config``).
    """
    n = math.prod(int(s) for s in shape)
    if n > MAX_DENSE_ELEMENTS:
        raise ValueError(
            f"{what} of shape {tuple(int(s) for s in shape)} would need {_human_bytes(n * itemsize)} "
            f"({n:,} elements, more than the limit of {MAX_DENSE_ELEMENTS:,}); split the input into "
            "blocks (the limit is fastdet._config.MAX_DENSE_ELEMENTS)"
        )


def _human_bytes(n: int) -> str:
    """``n`` bytes as B, KiB, MiB, GiB, TiB or PiB."""
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} PiB"
