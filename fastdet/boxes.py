"""Box formats, areas and the IoU family, with torchvision.ops' definitions.

Boxes are ``(N, 4)`` arrays in ``xyxy`` (x1, y1, x2, y2) continuous pixel
coordinates: area = (x2 - x1) * (y2 - y1), no "+1". Results are float32 when
every box input is float32, float64 otherwise.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fastdet._kernels import NEVER, call_interruptible
from fastdet._kernels import iou as _k
from fastdet._validate import (
    as_boxes,
    box_magnitude,
    box_magnitude_limit,
    check_box_magnitude,
    check_choice,
    check_dense_size,
    check_real,
    common_float_dtype,
    to_numeric_array,
)

__all__ = [
    "box_area",
    "box_convert",
    "box_iou",
    "clip_boxes_to_image",
    "complete_box_iou",
    "distance_box_iou",
    "generalized_box_iou",
    "remove_small_boxes",
]

BoxFormat = Literal["xyxy", "xywh", "cxcywh"]
BOX_FORMATS = ("xyxy", "xywh", "cxcywh")


def box_convert(boxes: ArrayLike, in_fmt: BoxFormat, out_fmt: BoxFormat) -> NDArray[np.floating[Any]]:
    """Convert boxes between ``xyxy``, ``xywh`` (COCO) and ``cxcywh`` (YOLO).

    Parameters
    ----------
    boxes : array_like of shape (N, 4)
        Boxes in ``in_fmt``; any real dtype.
    in_fmt, out_fmt : {"xyxy", "xywh", "cxcywh"}
        ``xyxy`` is (x1, y1, x2, y2); ``xywh`` is (x1, y1, width, height);
        ``cxcywh`` is (centre x, centre y, width, height).

    Returns
    -------
    ndarray of shape (N, 4)
        float32 for float32 input, float64 otherwise. A new array, even when
        ``in_fmt == out_fmt`` (then an exact copy of the validated input).

    Raises
    ------
    ValueError
        Wrong shape, NaN/inf, an unknown format, or coordinates so large that a
        converted coordinate overflows the dtype.
    TypeError
        Non-numeric input.

    Notes
    -----
    The same arithmetic as torchvision.ops.box_convert: ``cx = (x1 + x2) / 2``,
    ``x1 = cx - 0.5 * w``, ``x2 = x1 + w``. No orientation check is made here
    (a conversion cannot make a box degenerate that was not already).

    Examples
    --------
    >>> box_convert([[10, 20, 30, 40]], "xywh", "xyxy")
    array([[10., 20., 40., 60.]])
    """
    check_choice(in_fmt, "in_fmt", BOX_FORMATS)
    check_choice(out_fmt, "out_fmt", BOX_FORMATS)
    b = as_boxes(boxes, allow_degenerate=True)
    if in_fmt == out_fmt:  # as torchvision (a clone): a round trip through xyxy would round
        return b.copy()
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported below
        if in_fmt == "xywh":
            x1, y1 = b[:, 0], b[:, 1]
            x2, y2 = x1 + b[:, 2], y1 + b[:, 3]
        elif in_fmt == "cxcywh":
            half_w, half_h = 0.5 * b[:, 2], 0.5 * b[:, 3]
            x1, y1 = b[:, 0] - half_w, b[:, 1] - half_h
            x2, y2 = b[:, 0] + half_w, b[:, 1] + half_h
        else:
            x1, y1, x2, y2 = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
        if out_fmt == "xywh":
            cols = (x1, y1, x2 - x1, y2 - y1)
        elif out_fmt == "cxcywh":
            cols = ((x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1)
        else:
            cols = (x1, y1, x2, y2)
        out = np.stack(cols, axis=1).astype(b.dtype, copy=False)
    if out.size and not np.isfinite(out).all():
        raise ValueError(
            f"boxes has coordinates too large to convert from {in_fmt} to {out_fmt} in {b.dtype} "
            f"(largest magnitude {box_magnitude(b):.3g}; a sum overflows): rescale them"
        )
    return out


def box_area(boxes: ArrayLike) -> NDArray[np.floating[Any]]:
    """Area of each xyxy box, ``(x2 - x1) * (y2 - y1)``.

    Parameters
    ----------
    boxes : array_like of shape (N, 4)
        Boxes as (x1, y1, x2, y2) with x1 <= x2 and y1 <= y2.

    Returns
    -------
    ndarray of shape (N,)
        float32 for float32 input, float64 otherwise.

    Raises
    ------
    ValueError
        Wrong shape, NaN/inf, a degenerate box (x2 < x1 or y2 < y1), or
        coordinates so large that an area overflows the dtype (beyond about
        6.5e18 in float32, 4.7e153 in float64).
    TypeError
        Non-numeric input.

    Examples
    --------
    >>> box_area([[0, 0, 2, 3], [1, 1, 1, 5]])
    array([6., 0.])
    """
    b = as_boxes(boxes, check_magnitude=True)  # a float32 area past ~3.4e38 would be inf
    return (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])


def _box_pair(
    boxes1: ArrayLike, boxes2: ArrayLike
) -> tuple[NDArray[Any], NDArray[Any], type[np.floating[Any]]]:
    """Validate two box sets; return them in the working dtype, and the result dtype.

    Both are float32 only if both come as float32 and their areas fit in float32;
    float32 boxes with coordinates beyond ``box_magnitude_limit(float32)`` (about
    6.5e18, where an area overflows to inf and IoU would be inf / inf = NaN) are
    computed in float64, and the result is still float32.
    """
    a = to_numeric_array(boxes1, "boxes1")
    b = to_numeric_array(boxes2, "boxes2")
    dtype = common_float_dtype(a, b)
    a = as_boxes(a, "boxes1", dtype=dtype)
    b = as_boxes(b, "boxes2", dtype=dtype)
    check_dense_size((len(a), len(b)), "the IoU matrix", np.dtype(dtype).itemsize)
    limit = box_magnitude_limit(dtype)
    if box_magnitude(a) > limit or box_magnitude(b) > limit:
        a, b = a.astype(np.float64), b.astype(np.float64)
    check_box_magnitude(a, "boxes1")
    check_box_magnitude(b, "boxes2")
    return a, b, dtype


def box_iou(boxes1: ArrayLike, boxes2: ArrayLike) -> NDArray[np.floating[Any]]:
    """Pairwise intersection over union of two sets of xyxy boxes.

    Parameters
    ----------
    boxes1 : array_like of shape (N, 4)
        Boxes as (x1, y1, x2, y2) with x1 <= x2 and y1 <= y2.
    boxes2 : array_like of shape (M, 4)
        Boxes in the same format.

    Returns
    -------
    ndarray of shape (N, M)
        ``iou[i, j] = inter / (area1[i] + area2[j] - inter)``. float32 when both
        inputs are float32 (computed in float32, like torchvision), else float64.

    Raises
    ------
    ValueError
        Wrong shape, NaN/inf, a degenerate box, or a result too large for memory.
    TypeError
        Non-numeric input.

    Notes
    -----
    Same definition as ``torchvision.ops.box_iou``, except that a pair with
    zero union (two zero-area boxes) has IoU 0 rather than NaN, and float32
    boxes so large that an area overflows float32 (beyond about 6.5e18, where
    torchvision returns inf / inf = NaN) are computed in float64, the result
    still being float32. Beyond about 4.7e153 even float64 areas overflow:
    ``ValueError``.

    Examples
    --------
    >>> box_iou([[0, 0, 2, 2]], [[1, 1, 3, 3], [0, 0, 2, 2]])
    array([[0.14285714, 1.        ]])
    """
    a, b, dtype = _box_pair(boxes1, boxes2)
    out = np.empty((len(a), len(b)), dtype=a.dtype)
    if out.size:
        bt = np.ascontiguousarray(b.T)
        b_area = (bt[2] - bt[0]) * (bt[3] - bt[1])  # as the kernel computes areas, in b's dtype
        _run_matrix_kernel(_k.iou_matrix, out.size, _PARALLEL_MIN_PAIRS, a, bt, b_area, a.dtype.type(0), out)
    return out.astype(dtype, copy=False)


# Below this many pairs the IoU kernels run in one call on this thread: waking the pool's
# threads costs 60-100 us on the development VM, as much as ~250k plain IoUs (0.7 ns each,
# vectorized) but only ~4k GIoU / DIoU / CIoU pairs (up to 25 ns each: divisions, atan).
_PARALLEL_MIN_PAIRS = 1 << 18
_PARALLEL_MIN_VARIANT_PAIRS = 1 << 14
# From this many pairs on they run in a worker thread, so that Ctrl-C stops them.
_INTERRUPTIBLE_PAIRS = 1 << 24


def _run_matrix_kernel(kern: Any, pairs: int, min_pairs: int, *args: Any) -> None:
    """Call an IoU kernel: on this thread below ``min_pairs``, interruptibly for huge inputs."""
    rows = len(args[0])
    if pairs < min_pairs:
        kern.serial(rows, *args, NEVER)
    elif pairs < _INTERRUPTIBLE_PAIRS:
        kern(rows, *args, NEVER)
    else:
        call_interruptible(kern, rows, *args)


def _iou_variant(boxes1: ArrayLike, boxes2: ArrayLike, variant: int, eps: float) -> NDArray[Any]:
    a, b, dtype = _box_pair(boxes1, boxes2)
    eps = check_real(eps, "eps")
    if eps < 0:
        raise ValueError(f"eps must be >= 0, got {eps}")
    out = np.empty((len(a), len(b)), dtype=np.float64)
    if out.size:
        a64 = np.ascontiguousarray(a, dtype=np.float64)
        b64 = np.ascontiguousarray(b, dtype=np.float64)
        kern, least = _k.iou_variant_matrix, _PARALLEL_MIN_VARIANT_PAIRS
        _run_matrix_kernel(kern, out.size, least, a64, b64, variant, eps, out)
    return out.astype(dtype, copy=False)


def generalized_box_iou(boxes1: ArrayLike, boxes2: ArrayLike) -> NDArray[np.floating[Any]]:
    """Pairwise generalized IoU (Rezatofighi et al., CVPR 2019).

    ``GIoU = IoU - (|C| - |A u B|) / |C|`` where C is the smallest box enclosing
    both. Values lie in [-1, 1].

    Parameters
    ----------
    boxes1 : array_like of shape (N, 4)
        Boxes as (x1, y1, x2, y2) with x1 <= x2 and y1 <= y2.
    boxes2 : array_like of shape (M, 4)
        Boxes in the same format.

    Returns
    -------
    ndarray of shape (N, M)
        Computed in float64; returned as float32 when both inputs are float32.

    Raises
    ------
    ValueError
        Wrong shape, NaN/inf, or a degenerate box.
    TypeError
        Non-numeric input.

    Notes
    -----
    As ``torchvision.ops.generalized_box_iou``. Where torchvision divides 0 by 0
    (two identical zero-area boxes, |C| = 0) the penalty is taken as 0.

    Examples
    --------
    >>> generalized_box_iou([[0, 0, 1, 1]], [[2, 0, 3, 1]])
    array([[-0.33333333]])
    """
    return _iou_variant(boxes1, boxes2, _k.GIOU, 0.0)


def distance_box_iou(boxes1: ArrayLike, boxes2: ArrayLike, eps: float = 1e-7) -> NDArray[np.floating[Any]]:
    """Pairwise distance IoU (Zheng et al., AAAI 2020).

    ``DIoU = IoU - d^2 / (c^2 + eps)`` with d the distance between the box
    centres and c the diagonal of the smallest enclosing box.

    Parameters
    ----------
    boxes1 : array_like of shape (N, 4)
        Boxes as (x1, y1, x2, y2) with x1 <= x2 and y1 <= y2.
    boxes2 : array_like of shape (M, 4)
        Boxes in the same format.
    eps : float, default 1e-7
        Added to c^2 as in torchvision, so coincident points do not divide by 0.

    Returns
    -------
    ndarray of shape (N, M)
        Computed in float64; returned as float32 when both inputs are float32.

    Raises
    ------
    ValueError
        Wrong shape, NaN/inf, a degenerate box, or ``eps < 0``.
    TypeError
        Non-numeric input.

    Examples
    --------
    >>> distance_box_iou([[0, 0, 1, 1]], [[0, 0, 1, 1]])
    array([[1.]])
    """
    return _iou_variant(boxes1, boxes2, _k.DIOU, eps)


def complete_box_iou(boxes1: ArrayLike, boxes2: ArrayLike, eps: float = 1e-7) -> NDArray[np.floating[Any]]:
    """Pairwise complete IoU (Zheng et al., AAAI 2020).

    ``CIoU = DIoU - alpha * v`` with
    ``v = 4 / pi^2 * (atan(w1 / h1) - atan(w2 / h2))^2`` and
    ``alpha = v / (1 - IoU + v + eps)``.

    Parameters
    ----------
    boxes1 : array_like of shape (N, 4)
        Boxes as (x1, y1, x2, y2) with x1 <= x2 and y1 <= y2.
    boxes2 : array_like of shape (M, 4)
        Boxes in the same format.
    eps : float, default 1e-7
        As in torchvision.

    Returns
    -------
    ndarray of shape (N, M)
        Computed in float64; returned as float32 when both inputs are float32.

    Raises
    ------
    ValueError
        Wrong shape, NaN/inf, a degenerate box, or ``eps < 0``.
    TypeError
        Non-numeric input.

    Notes
    -----
    As ``torchvision.ops.complete_box_iou``; for a box of zero height,
    ``atan(w / 0)`` is taken as pi/2 (0 when the width is 0 too) instead of NaN.

    Examples
    --------
    >>> complete_box_iou([[0, 0, 2, 1]], [[0, 0, 2, 1]])
    array([[1.]])
    """
    return _iou_variant(boxes1, boxes2, _k.CIOU, eps)


def clip_boxes_to_image(boxes: ArrayLike, size: tuple[int, int]) -> NDArray[np.floating[Any]]:
    """Clip xyxy boxes to an image of ``size = (height, width)``.

    Parameters
    ----------
    boxes : array_like of shape (N, 4)
        Boxes as (x1, y1, x2, y2). Degenerate boxes (x2 < x1 or y2 < y1) are
        accepted, as by torchvision: each coordinate is clipped on its own.
    size : (int, int)
        Image (height, width), as in torchvision. x is clipped to [0, width],
        y to [0, height].

    Returns
    -------
    ndarray of shape (N, 4)
        A new array; float32 for float32 input, float64 otherwise.

    Raises
    ------
    ValueError
        ``boxes`` of the wrong shape or with NaN/inf, or ``size`` not two
        non-negative finite numbers.
    TypeError
        Non-numeric input.

    Examples
    --------
    >>> clip_boxes_to_image([[-5, 2, 50, 8]], (10, 20))
    array([[ 0.,  2., 20.,  8.]])
    """
    b = as_boxes(boxes, allow_degenerate=True)  # coordinate by coordinate: any finite box is fine
    if not isinstance(size, (tuple, list, np.ndarray)) or len(size) != 2:
        raise ValueError(f"size must be (height, width), got {size!r}")
    height, width = (check_real(v, "size") for v in size)
    if height < 0 or width < 0:
        raise ValueError(f"size must be non-negative, got {tuple(size)}")
    out = b.copy()
    np.clip(out[:, 0::2], 0, width, out=out[:, 0::2])
    np.clip(out[:, 1::2], 0, height, out=out[:, 1::2])
    return out


def remove_small_boxes(boxes: ArrayLike, min_size: float) -> NDArray[np.int64]:
    """Indices of the boxes whose width and height are both at least ``min_size``.

    Parameters
    ----------
    boxes : array_like of shape (N, 4)
        Boxes as (x1, y1, x2, y2). Degenerate boxes (x2 < x1 or y2 < y1) are
        accepted, as by torchvision: their negative width or height is below
        any ``min_size >= 0``, so they are removed.
    min_size : float
        Minimum width and height (inclusive, as torchvision).

    Returns
    -------
    ndarray of int64
        Kept indices in increasing order.

    Raises
    ------
    ValueError
        ``boxes`` of the wrong shape or with NaN/inf, or a non-finite ``min_size``.
    TypeError
        Non-numeric input.

    Examples
    --------
    >>> remove_small_boxes([[0, 0, 1, 5], [0, 0, 4, 4]], 2)
    array([1])
    """
    b = as_boxes(boxes, allow_degenerate=True)  # widths only: any finite box is fine
    min_size = check_real(min_size, "min_size")
    keep = ((b[:, 2] - b[:, 0]) >= min_size) & ((b[:, 3] - b[:, 1]) >= min_size)
    return np.flatnonzero(keep).astype(np.int64)
