"""The core of ``fastdet.nms``: validation helpers, greedy / per-class / soft / multi-class NMS.

The public names are re-exported by :mod:`fastdet.nms` (see its docstring for the conventions).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fastdet._kernels import NEVER, call_interruptible
from fastdet._kernels import nms as _k
from fastdet._validate import (
    as_boxes,
    as_float_array,
    as_labels,
    as_scores,
    box_magnitude,
    box_magnitude_limit,
    check_bool,
    check_box_magnitude,
    check_choice,
    check_int,
    check_real,
    check_threshold,
    common_float_dtype,
    to_numeric_array,
)

SoftNMSMethod = Literal["gaussian", "linear", "hard"]
_SOFT_METHODS = ("gaussian", "linear", "hard")
PredictionFormat = Literal["cxcywh", "xyxy", "xywh"]
_PRED_FORMATS = ("cxcywh", "xyxy", "xywh")

# At most sqrt(boxes per group) * _BANDS_PER_SQRT horizontal bands per group (see _band_params);
# tests raise it to exercise many bands on small inputs.
_BANDS_PER_SQRT = 0.25


# Inputs at least this large run in a worker thread so that Ctrl-C stops them
# (fastdet._kernels.call_interruptible, about 0.1 ms): greedy NMS of 200k boxes takes
# tens of ms at least, Soft-NMS of 20k boxes as long.
_INTERRUPTIBLE_BOXES = 200_000
# Up to this many boxes greedy NMS compares every pair of a group (greedy_nms_small): cheaper
# than sorting the boxes into the grid, and it compiles in a fraction of the grid's time.
_SMALL_NMS = 200
_INTERRUPTIBLE_SOFT_BOXES = 20_000

# Relative slack on the IoU threshold used only to size the candidate window of
# the candidate windows (never in the comparison itself): they are wide enough for
# every pair whose computed IoU can exceed the threshold.
_WINDOW_SLACK = 1e-3


# --------------------------------------------------------------------------- helpers


def _boxes_and_scores(
    boxes: ArrayLike, scores: ArrayLike
) -> tuple[NDArray[np.floating[Any]], NDArray[np.floating[Any]], type[np.floating[Any]]]:
    """Validate ``boxes`` (N, 4) and ``scores`` (N,); return both in the working dtype.

    Also returns the result dtype (float32 when both come as float32, else float64).
    The working dtype is the result dtype, except for float32 boxes so large that
    an area overflows float32: those are computed in float64, as in fastdet.boxes.
    """
    b = to_numeric_array(boxes, "boxes")
    s = to_numeric_array(scores, "scores")
    dtype = common_float_dtype(b, s)
    out_boxes = as_boxes(b, dtype=dtype)
    out_scores = as_scores(s, len(out_boxes), dtype=dtype)
    work = _working_boxes(out_boxes, "boxes")
    if work.dtype != out_boxes.dtype:
        out_scores = out_scores.astype(work.dtype)
    return work, out_scores, dtype


def _working_boxes(boxes: NDArray[np.floating[Any]], name: str) -> NDArray[np.floating[Any]]:
    """float32 boxes whose areas would overflow float32 -> float64; beyond float64's limit, raise."""
    if boxes.dtype == np.float32 and box_magnitude(boxes) > box_magnitude_limit(np.float32):
        boxes = boxes.astype(np.float64)
    check_box_magnitude(boxes, name)
    return boxes


def _descending(scores: NDArray[np.floating[Any]]) -> NDArray[np.int64]:
    """Stable order by decreasing score: ties keep the lower index first (also for -0.0/0.0).

    NumPy's stable argsort of floats (timsort) is several times slower than its
    SIMD quicksort, so: float32 scores are packed with their index into unique
    uint64 keys and sorted with the fast sort; float64 scores use the fast argsort
    and fall back to the stable one only when there are ties.
    """
    key = -scores
    key += 0.0  # -0.0 -> +0.0, so that signed zeros tie
    n = len(key)
    if key.dtype == np.float32 and n < 2**32:
        bits = key.view(np.uint32)
        # order-preserving map of float32 bit patterns onto unsigned integers
        ordered = np.where(bits >= 0x80000000, ~bits, bits | np.uint32(0x80000000))
        packed = (ordered.astype(np.uint64) << np.uint64(32)) | np.arange(n, dtype=np.uint64)
        packed.sort()
        return (packed & np.uint64(0xFFFFFFFF)).astype(np.int64)
    order = np.argsort(key)
    ranked = key[order]
    if n > 1 and (ranked[1:] == ranked[:-1]).any():
        order = np.argsort(key, kind="stable")
    return order.astype(np.int64, copy=False)


def _compact_groups(groups: NDArray[np.int64]) -> tuple[NDArray[np.int64], int]:
    """Map group ids onto ``0 .. G-1`` (order-preserving); return ``(ids, G)``."""
    lo = int(groups.min())
    hi = int(groups.max())
    if hi - lo <= 4 * len(groups) + 1024:
        return groups - lo, hi - lo + 1
    uniq, inverse = np.unique(groups, return_inverse=True)
    return inverse.astype(np.int64).reshape(-1), len(uniq)


def _band_params(boxes: NDArray[np.floating[Any]], n_groups: int) -> tuple[int, float, float]:
    """``(n_bands, ymin, band_h)``: how the kernels split each group into bands of y1.

    A box can only overlap boxes whose y1 lies within reach of its own, so the
    kernels sort each group's boxes into horizontal bands (``band = floor((y1 -
    ymin) / band_h)``, clipped), each band by x1, and visit only the bands and x1
    windows a box can reach. Bands about one mean box height tall, and only a few
    per group for groups of a few hundred boxes, where they stop paying off.
    """
    n = len(boxes)
    y1 = boxes[:, 1]
    ymin = float(y1.min())
    with np.errstate(over="ignore", invalid="ignore"):  # float64 boxes near 1e308
        yrange = float(y1.max()) - ymin
        band_h = float(np.mean(boxes[:, 3] - y1, dtype=np.float64))
        max_bands = max(1, int(np.sqrt(n / n_groups) * _BANDS_PER_SQRT))
        if not (0 < band_h < np.inf and yrange < np.inf):
            return 1, ymin, 1.0
        n_bands = min(int(yrange / band_h) + 1, max_bands)
        if n_bands == max_bands and yrange > 0:
            band_h = max(band_h, yrange / n_bands)
    return n_bands, ymin, band_h


def _window_params(boxes: NDArray[np.floating[Any]], iou_threshold: float) -> tuple[float, float]:
    """``(span, shrink)`` that bound where a box exceeding the threshold can start.

    For IoU > t (t > 0) with box i, a box j must have x1_j in (x1_i - w_i (1/t - t),
    x2_i - t w_i) and likewise in y. A slightly smaller t is used so that rounding in
    the computed IoU is covered; subnormal areas, where relative rounding bounds fail,
    fall back to the plain overlap condition (span inf, shrink 0).
    """
    t = iou_threshold * (1.0 - _WINDOW_SLACK)
    if t < 1e-6:  # the bound would be far wider than any box anyway
        return np.inf, 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    tiny = 1e-30 if boxes.dtype == np.float32 else 1e-300
    if ((area > 0) & (area < tiny)).any():
        return np.inf, 0.0
    return 1.0 / t - t, t


def _greedy_flags(
    boxes: NDArray[np.floating[Any]],
    order: NDArray[np.int64],
    groups: NDArray[np.int64] | None,
    iou_threshold: float,
) -> NDArray[np.uint8]:
    """Run the greedy kernel over all boxes (one segment per group); return keep flags (N,)."""
    n = len(boxes)
    keep = np.zeros(n, np.uint8)
    t = float(iou_threshold)
    # float32: the exact division-free test (see _float32_midpoint); float64: None, the division
    mid, tie_even = _float32_midpoint(t) if boxes.dtype == np.float32 else (None, False)
    if n <= _SMALL_NMS:
        _small_flags(boxes, order, groups, t, mid, tie_even, keep)
        return keep
    if groups is None:
        g, n_groups = np.zeros(n, np.int64), 1
    else:
        g, n_groups = _compact_groups(groups)
    n_bands, ymin, band_h = _band_params(boxes, n_groups)
    by_x1 = np.argsort(boxes[:, 0]).astype(np.int64, copy=False)
    span, shrink = _window_params(boxes, t)
    work = np.empty(4 * n + n_groups * (n_bands + 1) + 2, np.int64)
    scratch = (work, np.empty((5, n), boxes.dtype), np.empty(n, np.uint8))
    args = (boxes, order, by_x1, g, n_groups, n_bands, ymin, band_h, span, shrink, t, mid, tie_even, keep)
    if n >= _INTERRUPTIBLE_BOXES:
        call_interruptible(_k.greedy_nms, *args, *scratch)
    else:
        _k.greedy_nms(*args, *scratch, NEVER)
    return keep


def _small_flags(
    boxes: NDArray[np.floating[Any]],
    order: NDArray[np.int64],
    groups: NDArray[np.int64] | None,
    t: float,
    mid: float | None,
    tie_even: bool,
    keep: NDArray[np.uint8],
) -> None:
    """``_greedy_flags`` for at most ``_SMALL_NMS`` boxes: every pair of a group, no grid."""
    if groups is not None:  # group by group, each by decreasing score (a stable sort keeps that)
        order = order[np.argsort(groups[order], kind="stable")]
        ranked = groups[order]
        seg = np.flatnonzero(np.concatenate(([True], ranked[1:] != ranked[:-1], [True])))
    else:
        seg = np.array([0, len(order)])
    x1, y1, x2, y2 = np.ascontiguousarray(boxes[order].T)
    flags = np.zeros(len(order), np.uint8)
    _k.greedy_nms_small(
        x1, y1, x2, y2, np.empty(len(order), boxes.dtype), seg.astype(np.int64), t, mid, tie_even,
        np.zeros(len(order), np.uint8), flags,
    )  # fmt: skip
    keep[order] = flags


def _float32_midpoint(t: float) -> tuple[float, bool]:
    """For ``float32(q) > t``: the midpoint ``m`` below the smallest float32 ``s > t``.

    ``float32(q) >= s`` exactly when ``q > m``, or ``q == m`` and ``s`` is even (ties
    round to even). Returns ``(m, s is even)``.
    """
    f = np.float32(t)
    s = f if float(f) > t else np.nextafter(f, np.float32(np.inf))
    p = np.nextafter(s, np.float32(-np.inf))
    mid = (float(p) + float(s)) / 2.0  # exact: both are float32
    return mid, bool((np.asarray(s).view(np.uint32) & 1) == 0)


def _grouped_nms(
    boxes: NDArray[np.floating[Any]],
    scores: NDArray[np.floating[Any]],
    groups: NDArray[np.int64] | None,
    iou_threshold: float,
    order: NDArray[np.int64] | None = None,
) -> NDArray[np.int64]:
    """Greedy NMS per group on validated arrays; kept indices in ``order``.

    ``order`` defaults to decreasing score (stable); any order that is sorted by
    decreasing score (ties: lower index) within each group gives the same kept set.
    """
    if len(boxes) == 0:
        return np.empty(0, np.int64)
    if order is None:
        order = _descending(scores)
    keep = _greedy_flags(boxes, order, groups, iou_threshold)
    return order[keep[order].view(np.bool_)]


# --------------------------------------------------------------------------- public


def nms(boxes: ArrayLike, scores: ArrayLike, iou_threshold: float) -> NDArray[np.int64]:
    """Greedy non-maximum suppression.

    Visits boxes by decreasing score and keeps each box that no kept box
    overlaps with IoU > ``iou_threshold``.

    Parameters
    ----------
    boxes : array_like of shape (N, 4)
        Boxes as (x1, y1, x2, y2) with x1 <= x2 and y1 <= y2; any real dtype.
    scores : array_like of shape (N,)
        Scores; only their order matters (negative scores are fine).
    iou_threshold : float
        In [0, 1]. A box is suppressed when its IoU with a kept box is strictly
        greater than this.

    Returns
    -------
    ndarray of int64, shape (K,)
        Indices of the kept boxes, by decreasing score; equal scores keep the
        lower index first.

    Raises
    ------
    ValueError
        Wrong shapes, mismatched lengths, NaN/inf, a degenerate box (x2 < x1 or
        y2 < y1), or ``iou_threshold`` outside [0, 1].
    TypeError
        Non-numeric input or threshold.

    Notes
    -----
    Same result as ``torchvision.ops.nms``: the IoU is ``inter / (area_i + area_j
    - inter)`` computed in float32 when both ``boxes`` and ``scores`` are float32
    (otherwise float64) and compared with the threshold in float64. A pair with
    zero union (two zero-area boxes) has IoU 0 (torchvision gets NaN, which
    suppresses nothing either). The greedy algorithm is the classic one used
    since Felzenszwalb et al., "Object detection with discriminatively trained
    part-based models", TPAMI 2010. Up to 200 boxes, each kept box is compared
    with every later box. Above that, this implementation sorts the boxes into
    horizontal bands (by y1) and each band by x1, and compares each kept box only
    with the boxes of the bands and x1 windows that can hold a box it suppresses
    (for IoU > t, box j must start within ``(1/t - t)`` widths of box i); the
    result is the same as the all-pairs loop. Each window is scanned with a
    branch-free, vectorized loop; for float32 the test ``float32(inter / union) >
    t`` is evaluated exactly, without a division.

    ``cv2.dnn.NMSBoxes`` gives the same result on ordinary input, with these
    differences: it takes (x, y, w, h) rectangles, a ``score_threshold >= 0``
    and keeps only scores strictly above it; it computes the IoU in double and
    rounds ``1 - IoU`` through float, so a pair within float rounding of the
    threshold can go the other way; two boxes whose areas sum to 0 have IoU 1
    there (one zero-area box suppresses an identical one), 0 here.

    Examples
    --------
    >>> boxes = [[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]]
    >>> nms(boxes, [0.9, 0.8, 0.7], iou_threshold=0.5)
    array([0, 2])
    """
    b, s, _ = _boxes_and_scores(boxes, scores)
    t = check_threshold(iou_threshold, "iou_threshold")
    return _grouped_nms(b, s, None, t)


def batched_nms(
    boxes: ArrayLike, scores: ArrayLike, idxs: ArrayLike, iou_threshold: float
) -> NDArray[np.int64]:
    """Non-maximum suppression independently within each category.

    Boxes with different ``idxs`` never suppress each other.

    Parameters
    ----------
    boxes : array_like of shape (N, 4)
        Boxes as (x1, y1, x2, y2) with x1 <= x2 and y1 <= y2.
    scores : array_like of shape (N,)
        Scores.
    idxs : array_like of shape (N,)
        Integer category of each box (floats holding whole numbers are accepted).
    iou_threshold : float
        In [0, 1]; suppression when IoU is strictly greater.

    Returns
    -------
    ndarray of int64, shape (K,)
        Kept indices over all categories, by decreasing score (ties: lower index first).

    Raises
    ------
    ValueError
        Wrong shapes or lengths, NaN/inf, degenerate boxes, non-integer ``idxs``,
        or a threshold outside [0, 1].
    TypeError
        Non-numeric input.

    Notes
    -----
    The result equals running :func:`nms` on each category separately and
    merging by score: exactly, with no coordinate-offset trick (adding large
    per-class offsets, as torchvision.ops.batched_nms does for small inputs,
    rounds float32 coordinates and can change the result, and with negative
    coordinates lets boxes of different categories overlap and suppress each
    other; ``cv2.dnn.NMSBoxesBatched`` adds its offsets in double, but they are
    multiples of ``max(0, largest coordinate) + 1``, so there too boxes with
    negative coordinates can cross categories). The kept
    set also equals torchvision's per-class path (used above 1000 boxes on
    CPU), whose final unstable sort may order tied scores differently. One
    kernel call groups the boxes by category with a counting sort and walks
    the groups; there is no Python loop over categories.

    Examples
    --------
    >>> boxes = [[0, 0, 10, 10], [1, 1, 11, 11], [1, 1, 11, 11]]
    >>> batched_nms(boxes, [0.9, 0.8, 0.7], [0, 0, 1], iou_threshold=0.5)
    array([0, 2])
    """
    b, s, _ = _boxes_and_scores(boxes, scores)
    labels = as_labels(idxs, len(b), "idxs")
    t = check_threshold(iou_threshold, "iou_threshold")
    if len(b) == 0:
        return np.empty(0, np.int64)
    return _grouped_nms(b, s, labels, t)


def soft_nms(
    boxes: ArrayLike,
    scores: ArrayLike,
    *,
    method: SoftNMSMethod = "gaussian",
    sigma: float = 0.5,
    iou_threshold: float = 0.3,
    score_threshold: float = 0.001,
) -> tuple[NDArray[np.int64], NDArray[np.floating[Any]]]:
    """Soft non-maximum suppression: decay the scores of overlapping boxes instead of removing them.

    Repeatedly selects the remaining box with the highest current score (ties:
    lowest index) and multiplies the score of every other remaining box by a
    weight of its IoU with the selected one.

    Parameters
    ----------
    boxes : array_like of shape (N, 4)
        Boxes as (x1, y1, x2, y2) with x1 <= x2 and y1 <= y2.
    scores : array_like of shape (N,)
        Initial scores.
    method : {"gaussian", "linear", "hard"}
        Weight of a box at IoU ``iou`` with the selected box: ``"gaussian"``
        ``exp(-iou**2 / sigma)`` (for every overlap, whatever ``iou_threshold``);
        ``"linear"`` ``1 - iou`` if ``iou > iou_threshold`` else 1; ``"hard"`` 0 if
        ``iou > iou_threshold`` else 1 (plain NMS plus the score threshold).
    sigma : float
        Width of the gaussian, > 0.
    iou_threshold : float
        In [0, 1]; used by ``"linear"`` and ``"hard"``.
    score_threshold : float
        A box whose current score is below this is dropped: at the start, and as
        soon as a decay brings it below.

    Returns
    -------
    keep : ndarray of int64, shape (K,)
        Indices in selection order.
    new_scores : ndarray of shape (K,)
        ``new_scores[k]`` is the score of ``keep[k]`` when it was selected;
        float32 when boxes and scores are float32, else float64.

    Raises
    ------
    ValueError
        Bad shapes, NaN/inf, degenerate boxes, an unknown ``method``, ``sigma <= 0``,
        or ``iou_threshold`` outside [0, 1].
    TypeError
        Non-numeric input or parameters.

    Notes
    -----
    Bodla, Singh, Chellappa and Davis, "Soft-NMS -- Improving Object Detection
    With One Line of Code", ICCV 2017 (arXiv:1704.04503). Selection, decay and the
    score-threshold rule are those of ``cv2.dnn.softNMSBoxes`` (which, unlike this
    function, takes integer (x, y, w, h) rectangles, requires ``score_threshold >=
    0`` and offers ``top_k``; its ``nms_threshold`` is ``iou_threshold`` here). The
    weight is computed in float64 and the product is rounded to the working dtype,
    so float32 scores can differ from OpenCV's in the last bit (and boxes whose
    decayed scores nearly tie can be selected in the other order); OpenCV also
    rounds ``1 - IoU`` through float, so under ``"linear"`` an IoU exactly at the
    threshold (common with integer boxes) can go either way: 1/10 at 0.1 decays
    there but not here in float64, 3/10 at 0.3 decays here in float32 (the IoU
    rounded up to float32 is above 0.3) but not there. Two boxes whose areas sum
    to 0 have IoU 1 there, 0 here. mmcv's
    ``soft_nms`` differs in two ways: it applies ``min_score`` only after a decay
    (boxes that start below it can still be returned), and its swap-based loop
    breaks score ties differently; ``method="hard"`` is its ``"naive"``. A box
    that does not overlap the selected one has weight exactly 1 under every
    method, so only overlapping boxes are visited (a sweep over boxes sorted by
    x1), and the best remaining box is found from a cached best per block of
    about sqrt(N) boxes, recomputed only for blocks that changed.

    Examples
    --------
    >>> boxes = [[0, 0, 10, 10], [0, 0, 10, 5], [20, 20, 30, 30]]
    >>> keep, new_scores = soft_nms(boxes, [0.9, 0.8, 0.7], method="linear")
    >>> keep
    array([0, 2, 1])
    >>> new_scores.round(3)
    array([0.9, 0.7, 0.4])
    """
    b, s, result_dtype = _boxes_and_scores(boxes, scores)
    m = check_choice(method, "method", _SOFT_METHODS)
    sig = check_real(sigma, "sigma")
    if sig <= 0:
        raise ValueError(f"sigma must be > 0, got {sigma}")
    t = check_threshold(iou_threshold, "iou_threshold")
    st = check_real(score_threshold, "score_threshold")
    n = len(b)
    keep = np.empty(n, np.int64)
    new_scores = np.empty(n, s.dtype)
    if n == 0:
        return keep, new_scores.astype(result_dtype)
    n_bands, ymin, band_h = _band_params(b, 1)
    by_x1 = np.argsort(b[:, 0]).astype(np.int64, copy=False)
    block = max(16, int(np.sqrt(n)))
    n_blocks = (n + block - 1) // block
    args = (b, s, by_x1, n_bands, ymin, band_h, _SOFT_METHODS.index(m), sig, t, st, block, keep, new_scores)
    scratch = (
        np.empty(2 * n + n_bands + 1 + n_blocks, np.int64),
        np.empty((5, n), b.dtype),
        np.empty(n, s.dtype),
        np.empty(n, np.bool_),
        np.empty(n_blocks, np.bool_),
    )
    if n >= _INTERRUPTIBLE_SOFT_BOXES:
        count = call_interruptible(_k.soft_nms, *args, *scratch)
    else:
        count = _k.soft_nms(*args, *scratch, NEVER)
    return keep[:count].copy(), new_scores[:count].astype(result_dtype)


def multiclass_nms(
    boxes: ArrayLike,
    scores: ArrayLike,
    *,
    score_threshold: float = 0.05,
    iou_threshold: float = 0.5,
    max_detections: int | None = 100,
    class_agnostic: bool = False,
) -> tuple[NDArray[np.floating[Any]], NDArray[np.floating[Any]], NDArray[np.int64]]:
    """Multi-class NMS over per-class scores, as at the end of a two-stage detector.

    Every (box, class) pair with score > ``score_threshold`` is a candidate; NMS
    runs within each class (over all candidates when ``class_agnostic``) and the
    best ``max_detections`` survivors are returned.

    Parameters
    ----------
    boxes : array_like of shape (N, 4) or (N, C, 4)
        xyxy boxes shared by all classes, or one box per class.
    scores : array_like of shape (N, C)
        Score of each box for each class.
    score_threshold : float
        Candidates need a score strictly greater than this (mmdet's ``scores >
        score_thr``).
    iou_threshold : float
        In [0, 1]; suppression when IoU is strictly greater.
    max_detections : int or None
        Keep at most this many detections (None: all).
    class_agnostic : bool
        Run NMS across classes: a box then suppresses overlapping boxes of any class.

    Returns
    -------
    boxes : ndarray of shape (K, 4)
    scores : ndarray of shape (K,)
    labels : ndarray of int64, shape (K,)
        Ordered by decreasing score, then box index, then class index. Float
        outputs are float32 when boxes and scores are float32, else float64.

    Raises
    ------
    ValueError
        Bad shapes, NaN/inf, degenerate boxes, thresholds out of range or
        ``max_detections < 0``.
    TypeError
        Non-numeric input or parameters.

    Notes
    -----
    The per-class NMS is exactly :func:`batched_nms` over the candidates, with
    the candidate's class as its category.

    Examples
    --------
    >>> boxes = [[0, 0, 10, 10], [1, 1, 11, 11]]
    >>> scores = [[0.9, 0.1], [0.8, 0.7]]
    >>> b, s, labels = multiclass_nms(boxes, scores, iou_threshold=0.5)
    >>> s, labels
    (array([0.9, 0.7]), array([0, 1]))
    """
    b_raw = to_numeric_array(boxes, "boxes")
    s_raw = to_numeric_array(scores, "scores")
    dtype = common_float_dtype(b_raw, s_raw)
    sc = as_float_array(s_raw, "scores", ndim=2, dtype=dtype)
    n, c = sc.shape
    if b_raw.ndim == 3:
        if b_raw.shape != (n, c, 4):
            raise ValueError(f"boxes of shape (N, C, 4) must match scores {sc.shape}, got {b_raw.shape}")
        bx = as_boxes(b_raw.reshape(n * c, 4), "boxes.reshape(-1, 4)", dtype=dtype)
        bx = _working_boxes(bx, "boxes").reshape(n, c, 4)
    else:
        bx = _working_boxes(as_boxes(b_raw, dtype=dtype), "boxes")
        if len(bx) != n:
            raise ValueError(f"scores has {n} rows but boxes has length {len(bx)}")
    st = check_real(score_threshold, "score_threshold")
    t = check_threshold(iou_threshold, "iou_threshold")
    cap = _check_max_detections(max_detections)
    agnostic = check_bool(class_agnostic, "class_agnostic")

    box_idx, labels = np.nonzero(sc > st)  # row-major: by box, then class
    cand_boxes = bx[box_idx, labels] if bx.ndim == 3 else bx[box_idx]
    cand_scores = sc[box_idx, labels]
    labels = labels.astype(np.int64)
    keep = _grouped_nms(cand_boxes, cand_scores, None if agnostic else labels, t)
    if cap is not None:
        keep = keep[:cap]
    return cand_boxes[keep].astype(dtype, copy=False), cand_scores[keep], labels[keep]


# --------------------------------------------------------------------------- small checks


def _rank_within(sorted_groups: NDArray[Any]) -> NDArray[np.int64]:
    """Position of each element within its run of equal values (input grouped)."""
    n = len(sorted_groups)
    if n == 0:
        return np.empty(0, np.int64)
    starts = np.flatnonzero(np.r_[True, sorted_groups[1:] != sorted_groups[:-1]])
    run_start = np.repeat(starts, np.diff(np.r_[starts, n]))
    return np.arange(n, dtype=np.int64) - run_start


def _to_xyxy(b: NDArray[np.floating[Any]], fmt: str) -> NDArray[np.floating[Any]]:
    """Convert candidate boxes to a contiguous xyxy array and reject negative sizes."""
    if fmt == "xyxy":
        out = np.ascontiguousarray(b)
    elif fmt == "xywh":
        out = np.concatenate([b[:, :2], b[:, :2] + b[:, 2:]], axis=1)
    else:  # cxcywh, as ultralytics' xywh2xyxy: centre -/+ size / 2
        half = b[:, 2:] / 2
        out = np.concatenate([b[:, :2] - half, b[:, :2] + half], axis=1)
    bad = (out[:, 2] < out[:, 0]) | (out[:, 3] < out[:, 1])
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(f"predictions hold a box with negative width or height ({fmt} {b[row].tolist()})")
    return out


def _check_max_detections(value: Any, name: str = "max_detections") -> int | None:
    """``None`` or an int >= 0."""
    if value is None:
        return None
    return check_int(value, name, minimum=0)
