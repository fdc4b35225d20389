"""What the metrics share: the warning class, class labels, sample weights, averaging."""

from __future__ import annotations

import numbers
import sys
import warnings
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fastdet._kernels import labels as _k
from fastdet._validate import as_labels, to_numeric_array

__all__ = [
    "UndefinedMetricWarning",
    "as_label_array",
    "as_sample_weight",
    "check_pos_label",
    "check_same_kind",
    "distinct_upto_two",
    "encode_labels",
    "label_list",
    "nanaverage",
    "real_numbers",
    "warn",
    "writable",
]


class UndefinedMetricWarning(UserWarning):
    """A metric is ill-defined for the input (0/0); the documented fallback was used.

    A subclass of ``UserWarning`` raised in the same situations as
    scikit-learn's ``UndefinedMetricWarning``.
    """


def warn(message: str, category: type[Warning] = UndefinedMetricWarning) -> None:
    """Warn, attributing the warning to the first caller outside ``fastdet.metrics``."""
    frame = sys._getframe(0)
    level = 1
    while frame is not None and frame.f_globals.get("__name__", "").startswith("fastdet.metrics"):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    warnings.warn(message, category, stacklevel=level)


def writable(arr: NDArray[Any]) -> NDArray[Any]:
    """``arr``, copied if it is read-only: a read-only array is another Numba type (a second compile)."""
    return arr if arr.flags.writeable else arr.copy()


# --------------------------------------------------------------------------- class labels


def _as_array(x: ArrayLike, name: str) -> NDArray[Any]:
    if isinstance(x, np.ndarray):
        return x
    try:
        return np.asarray(x)
    except (ValueError, TypeError) as exc:  # ragged nested lists and the like
        raise ValueError(f"{name} could not be converted to an array: {exc}") from None


def real_numbers(x: ArrayLike, name: str) -> NDArray[Any]:
    """``x`` as an array; an object array holding only real numbers becomes float64.

    scikit-learn takes such arrays (``np.ones(n).astype(object)``, a pandas
    column of Python numbers) as scores and weights, as float64. Anything else
    in an object array (strings and ``None``, which scikit-learn turns into
    numbers or NaN) is a ``TypeError``.
    """
    arr = _as_array(x, name)
    if arr.dtype != object or arr.size == 0:
        return arr
    for value in arr.flat:
        if not isinstance(value, (numbers.Real, np.bool_)):
            raise TypeError(
                f"{name} must hold real numbers, got an object array holding {type(value).__name__}"
            )
    try:
        return arr.astype(np.float64)
    except OverflowError:  # a Python int past float64's range
        raise ValueError(f"{name} holds a number too large for float64") from None


def as_label_array(x: ArrayLike, name: str, *, keep_dtype: bool = False) -> NDArray[Any]:
    """Return 1-D class labels: int64 for numbers, ``str_`` for strings.

    Numbers are integers, bools (as 0/1) or floats holding whole numbers; strings
    are ``str`` arrays or object arrays of ``str`` (scikit-learn accepts both).
    A column vector ``(n, 1)`` counts as 1-D, as in scikit-learn. Bytes are
    refused (``TypeError``, as scikit-learn). With ``keep_dtype``, bool and
    integer arrays are returned as they are (no int64 copy).
    """
    if x is None:
        raise TypeError(f"{name} must be an array of class labels, got None")
    arr = _as_array(x, name)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-dimensional, got shape {arr.shape}")
    kind = arr.dtype.kind
    if kind == "U":
        return arr
    if kind == "O":
        if arr.shape[0] == 0:
            return np.zeros(0, np.int64)
        bad = [v for v in arr if not isinstance(v, str)][:1]
        if not bad:
            return arr.astype(str)
        raise TypeError(
            f"{name} must hold numbers or strings, got an object array holding {type(bad[0]).__name__}"
        )
    if kind == "S":
        raise TypeError(f"{name} holds bytes; decode them to str (labels are numbers or strings)")
    if kind == "b":
        return arr if keep_dtype else arr.astype(np.int64)
    arr = to_numeric_array(arr, name)
    if keep_dtype and kind in "iu" and not (kind == "u" and arr.dtype.itemsize == 8):
        return arr
    return as_labels(arr, arr.shape[0], name, other=name)


def is_str(arr: NDArray[Any]) -> bool:
    """Whether a label array from :func:`as_label_array` holds strings."""
    return arr.dtype.kind == "U"


def check_same_kind(a: NDArray[Any], b: NDArray[Any], name_a: str, name_b: str) -> None:
    """Refuse a mix of string and number labels (``ValueError``, as scikit-learn)."""
    if a.shape[0] and b.shape[0] and is_str(a) != is_str(b):
        s, num = (name_a, name_b) if is_str(a) else (name_b, name_a)
        raise ValueError(f"Mix of label input types (string and number): {s} holds strings and {num} numbers")


def label_list(values: NDArray[Any], limit: int = 10) -> str:
    """``{a, b, ...}`` for messages."""
    items = [repr(v.item() if isinstance(v, np.generic) else v) for v in values[:limit]]
    more = ", ..." if values.shape[0] > limit else ""
    return "{" + ", ".join(items) + more + "}"


# from this many labels, string labels are scanned on threads (numbers validated in chunks on threads)
_THREADED_MIN = 200_000


def chunk_bounds(n: int, threaded: bool) -> NDArray[np.int64]:
    """The ``bounds`` of a chunked kernel's chunks over n items: 8 chunks if ``threaded``, else one."""
    return np.linspace(0, n, 9).astype(np.int64) if threaded else np.array([0, n], np.int64)


def run_chunks(kernel: Any, bounds: NDArray[np.int64], *args: Any) -> None:
    """Call a chunked kernel over the chunks of ``bounds``: on threads if there are several."""
    n_chunks = bounds.shape[0] - 1
    (kernel if n_chunks > 1 else kernel.serial)(n_chunks, *args)


def check_finite(values: NDArray[np.float64]) -> tuple[int, bool]:
    """(index of the first NaN or inf, -1 if none; whether any value is non-zero) of values (N,)
    float64: one vectorized pass, in chunks on threads from ``_THREADED_MIN`` values."""
    bounds = chunk_bounds(values.shape[0], values.shape[0] >= _THREADED_MIN)
    found = np.empty((bounds.shape[0] - 1, 2), np.int64)
    run_chunks(_k._check_weights, bounds, values, bounds, found)
    bad = found[found[:, 0] >= 0, 0]
    return (int(bad[0]) if bad.shape[0] else -1), bool(found[:, 1].any())


def distinct_upto_two(arr: NDArray[Any]) -> NDArray[Any] | None:
    """The sorted distinct values of a non-empty label array if there are at most two, else None.

    Numbers take two or three passes (min, max, then a check for a third value)
    and strings one (a kernel over their code points) instead of a sort.
    """
    if is_str(arr):
        chars = _code_points(arr)
        if not chars.shape[1]:  # only empty strings
            return arr[:1]
        n = chars.shape[0]
        threaded = n >= _THREADED_MIN
        n_blocks = 64 if threaded else 1
        bounds = np.linspace(0, n, n_blocks + 1).astype(np.int64)
        second, many = np.empty(n_blocks, np.int64), np.empty(n_blocks, np.uint8)
        scan = _k._two_distinct_rows if threaded else _k._two_distinct_rows.serial
        scan(n_blocks, chars, bounds, second, many)
        others = second[second >= 0]
        if many.any() or (others.shape[0] and (chars[others] != chars[others[0]]).any()):
            return None  # a third distinct string
        return np.sort(arr[[0, *others[:1]]])
    if arr.dtype == np.bool_:
        found = distinct_upto_two(arr.view(np.uint8))
        assert found is not None
        return found.astype(np.bool_)
    lo, hi = arr.min(), arr.max()
    if lo == hi:
        return np.array([lo])
    # integers: hi - lo == 1 means exactly two values, no third pass needed
    if int(hi) - int(lo) > 1 and np.count_nonzero((arr != lo) & (arr != hi)):
        return None
    return np.array([lo, hi])


def check_pos_label(pos_label: Any, name: str = "pos_label") -> Any:
    """Return ``pos_label`` if it is a number, a bool or a string, else raise ``TypeError``."""
    if isinstance(pos_label, (str, bool, int, float, np.bool_, np.integer, np.floating, np.str_)):
        return pos_label.item() if isinstance(pos_label, np.generic) else pos_label
    raise TypeError(f"{name} must be a number, a bool or a string, got {type(pos_label).__name__}")


def _code_points(arr: NDArray[Any]) -> NDArray[np.uint32]:
    """A non-empty ``str_`` array as (N, L) uint32 code points (NumPy pads shorter strings with 0).

    A read-only input is copied: Numba compiles read-only arrays as a type of their own.
    """
    arr = np.ascontiguousarray(arr) if arr.flags.writeable else arr.copy()
    return arr.view(np.uint32).reshape(arr.shape[0], arr.dtype.itemsize // 4)


def label_matches(arr: NDArray[Any], label: Any, name: str, what: str = "pos_label") -> NDArray[np.bool_]:
    """``arr == label`` for a label array, refusing a string label for numbers and vice versa."""
    if isinstance(label, str) != is_str(arr) and arr.shape[0]:
        kind = "strings" if is_str(arr) else "numbers"
        raise ValueError(f"{what}={label!r} is not a valid label: {name} holds {kind}")
    if is_str(arr) and arr.shape[0]:  # compare code points in one pass, as NumPy's == does
        chars = _code_points(arr)
        if len(label.rstrip("\x00")) > chars.shape[1]:
            return np.zeros(arr.shape[0], np.bool_)
        row = np.zeros(1, arr.dtype)
        row[0] = label
        out = np.empty(arr.shape[0], np.uint8)
        compare = _k._rows_equal if arr.shape[0] >= _THREADED_MIN else _k._rows_equal.serial
        compare(arr.shape[0], chars, row.view(np.uint32), out)
        return out.view(np.bool_)
    return np.asarray(arr == label)


def encode_labels(
    y_true: NDArray[Any], y_pred: NDArray[Any]
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[Any] | None]:
    """Integer codes for a pair of label arrays of the same kind and length.

    Numbers are their own codes (``classes`` is None). Strings get the index of
    their value among the sorted distinct strings of both arrays, returned as
    ``classes``, so that code order is label order, as scikit-learn sorts labels.
    """
    if not (is_str(y_true) or is_str(y_pred)):
        t = writable(np.ascontiguousarray(y_true, dtype=np.int64))
        return t, writable(np.ascontiguousarray(y_pred, dtype=np.int64)), None
    n = y_true.shape[0]
    if not (is_str(y_true) and is_str(y_pred)):  # one of them is empty (int64)
        both = np.concatenate((y_true.astype(str), y_pred.astype(str)))
        classes, codes = np.unique(both, return_inverse=True)
        codes = codes.astype(np.int64).reshape(-1)
        return codes[:n], codes[n:], classes
    # np.unique sorts all the strings; a hash table numbers the distinct ones in one pass
    # instead, and only those (few) are sorted
    dtype = np.dtype(f"<U{max(y_true.dtype.itemsize, y_pred.dtype.itemsize, 4) // 4}")
    t = writable(np.ascontiguousarray(y_true, dtype=dtype))
    p = writable(np.ascontiguousarray(y_pred, dtype=dtype))
    width = dtype.itemsize // 4
    # chunks numbered on threads, each with a hash table of its own; the few distinct
    # strings each chunk found are then sorted together, and every chunk's numbers mapped
    # to their rank among them
    threaded = n >= _THREADED_MIN
    n_chunks = 8 if threaded else 1
    bounds = np.linspace(0, n, n_chunks + 1).astype(np.int64)
    codes_t, codes_p = np.empty(n, np.int64), np.empty(n, np.int64)
    firsts = np.empty(2 * n, np.int64)
    found = np.empty(n_chunks, np.int64)
    factorize = _k._factorize_rows if threaded else _k._factorize_rows.serial
    rows_t, rows_p = t.view(np.uint32).reshape(n, width), p.view(np.uint32).reshape(n, width)
    factorize(n_chunks, rows_t, rows_p, bounds, codes_t, codes_p, firsts, found)
    where = np.concatenate([firsts[2 * bounds[c] : 2 * bounds[c] + found[c]] for c in range(n_chunks)])
    strings = np.where(where < n, t[np.minimum(where, n - 1)], p[np.maximum(where - n, 0)])
    classes, remap = np.unique(strings, return_inverse=True)
    starts = np.concatenate(([0], np.cumsum(found)[:-1])).astype(np.int64)
    renumber = _k._renumber if threaded else _k._renumber.serial
    renumber(n_chunks, bounds, starts, remap.astype(np.int64).reshape(-1), codes_t, codes_p)
    return codes_t, codes_p, classes


def codes_of(
    labels: NDArray[Any], classes: NDArray[Any] | None, name: str, data_name: str = "y_true"
) -> NDArray[np.int64]:
    """Map user-given labels into the code space of :func:`encode_labels`.

    A label that does not occur in the data gets a code of its own (past the
    codes of the data), so it indexes an all-zero row / column.
    """
    if classes is None:
        if is_str(labels) and labels.shape[0]:
            raise ValueError(
                f"Mix of label input types (string and number): {name} holds strings and {data_name} numbers"
            )
        return labels.astype(np.int64, copy=False)
    if not is_str(labels) and labels.shape[0]:
        raise ValueError(
            f"Mix of label input types (string and number): {name} holds numbers and {data_name} strings"
        )
    k = classes.shape[0]
    where = np.minimum(np.searchsorted(classes, labels), max(k - 1, 0))
    found = (classes[where] == labels) if k else np.zeros(labels.shape[0], np.bool_)
    codes = np.where(found, where, 0).astype(np.int64)
    absent = np.flatnonzero(~found)
    codes[absent] = k + np.arange(absent.shape[0])
    return codes


# --------------------------------------------------------------------------- sample weights


def as_sample_weight(
    sample_weight: ArrayLike | None, n: int, other: str = "y_true"
) -> tuple[NDArray[np.float64] | None, bool]:
    """Return ``(weights as contiguous float64, whether they were integers)``, or ``(None, False)``.

    Any real dtype (and bool) is accepted, and object arrays of real numbers
    (as float weights, as scikit-learn); the weights must be finite, one per
    sample (``other`` has ``n``), and not all zero (``ValueError``, as
    scikit-learn). Negative weights are accepted, as scikit-learn does.
    """
    if sample_weight is None:
        return None, False
    arr = real_numbers(sample_weight, "sample_weight")
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.dtype == np.bool_:
        arr = arr.astype(np.float64)
        integer = True
    else:
        arr = to_numeric_array(arr, "sample_weight")
        integer = arr.dtype.kind in "iu"
    if arr.ndim != 1:
        raise ValueError(f"sample_weight must be 1-dimensional, got shape {arr.shape}")
    if arr.shape[0] != n:
        raise ValueError(f"sample_weight has length {arr.shape[0]} but {other} has length {n}")
    w = writable(np.ascontiguousarray(arr, dtype=np.float64))
    bad, nonzero = check_finite(w)
    if bad >= 0:
        raise ValueError(f"sample_weight contains NaN or inf (first at index {bad})")
    if n and not nonzero:
        raise ValueError("sample_weight must contain at least one non-zero weight")
    return w, integer


# --------------------------------------------------------------------------- averaging


def nanaverage(a: NDArray[np.float64], weights: NDArray[Any] | None) -> float:
    """Mean (weighted when given) ignoring NaN; NaN if nothing is left; equal weights if they sum to 0.

    scikit-learn's ``_nanaverage``: ``np.average`` of the non-NaN values.
    """
    keep = ~np.isnan(a)
    if not keep.any():
        return float("nan")
    a = a[keep]
    if weights is not None:
        w = np.asarray(weights)[keep]
        if w.sum() != 0:
            return float(np.average(a, weights=w))
    return float(np.mean(a))
