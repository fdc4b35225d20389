"""Binary ranking problems: validation, threshold counts from sorted halves, ROC and PR curves, AUC, AP."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fastdet._kernels import labels as _labels
from fastdet._kernels import ranking as _k
from fastdet._kernels import scoresort as _ks
from fastdet._validate import as_float_array, check_choice, to_numeric_array
from fastdet.metrics._common import (
    as_label_array,
    as_sample_weight,
    check_finite,
    check_pos_label,
    chunk_bounds,
    distinct_upto_two,
    is_str,
    label_list,
    label_matches,
    real_numbers,
    run_chunks,
    warn,
    writable,
)

Curve = tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]
Weights = NDArray[np.float64] | None
BinaryMetric = Callable[[NDArray[Any], NDArray[np.float64], Weights], float]

_RANKING_AVERAGES = ("micro", "macro", "samples", "weighted")


# --------------------------------------------------------------------------- validation


def as_scores(y_score: ArrayLike, *, two_d: bool = False) -> NDArray[np.float64]:
    """Finite float64 scores: (n,) (a column (n, 1) too) or, with ``two_d``, also (n, k).
    Booleans are scores 0 and 1, as scikit-learn takes them."""
    arr = to_numeric_array(real_numbers(y_score, "y_score"), "y_score", bool_as_int=True)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1 and not (two_d and arr.ndim == 2):
        expected = "1-dimensional (or (n_samples, n_classes))" if two_d else "1-dimensional"
        raise ValueError(f"y_score must be {expected}, got shape {arr.shape}")
    out = writable(as_float_array(arr, "y_score", dtype=np.float64, finite=False))
    if out.size:
        bad, _ = check_finite(out.reshape(-1))  # no temporary array
        if bad >= 0:
            where = tuple(int(i) for i in np.unravel_index(bad, out.shape))
            raise ValueError(f"y_score contains NaN or inf (first at index {where})")
    return out


def check_lengths(n_true: int, n_score: int) -> None:
    """Refuse different lengths and empty input."""
    if n_true != n_score:
        raise ValueError(f"y_true and y_score must have the same length, got {n_true} and {n_score}")
    if n_true == 0:
        raise ValueError("y_true and y_score are empty; at least one sample is required")


def binary_input(
    y_true: ArrayLike, y_score: ArrayLike, sample_weight: ArrayLike | None
) -> tuple[NDArray[Any], NDArray[np.float64], Weights]:
    """Validate a binary ranking problem: labels (1-D), finite float64 scores, weights."""
    scores = as_scores(y_score)
    y = as_label_array(y_true, "y_true", keep_dtype=True)
    check_lengths(y.shape[0], scores.shape[0])
    w, _ = as_sample_weight(sample_weight, y.shape[0])
    return y, scores, w


def ones_of_binary(y: NDArray[Any]) -> NDArray[np.uint8] | None:
    """``y == 1`` as uint8 in one pass when y is int64 holding only values of {0, 1} or of {-1, 1}
    (the common case: 1 is then the positive class), else None."""
    n = y.shape[0]
    if y.dtype != np.int64 or not y.flags.c_contiguous or not n:
        return None
    out = np.empty(n, np.uint8)
    bounds = chunk_bounds(n, n >= _THREADED_MIN)
    seen = np.empty((bounds.shape[0] - 1, 3), np.uint8)
    run_chunks(_labels._binary_indicator, bounds, writable(y), bounds, out, seen)
    minus, zero, other = (bool(seen[:, c].any()) for c in range(3))
    return out if not other and not (minus and zero) else None


def positives(y: NDArray[Any], pos_label: Any) -> NDArray[np.uint8]:
    """The 0/1 indicator of the positive class for the curves (``pos_label=None``: {0, 1} or {-1, 1})."""
    if pos_label is None:
        ones = ones_of_binary(y)
        if ones is not None:
            return ones
    if pos_label is None:
        d = None if is_str(y) else distinct_upto_two(y)
        if d is None or {v.item() for v in d} not in ({0, 1}, {-1, 1}, {0}, {-1}, {1}):
            raise ValueError(
                f"y_true takes value in {label_list(np.unique(y))} and pos_label is not specified: "
                "either make y_true take value in {0, 1} or {-1, 1} or pass pos_label explicitly"
            )
        mask = np.asarray(y == 1)
    else:
        mask = label_matches(y, check_pos_label(pos_label), "y_true")
    return np.ascontiguousarray(mask).view(np.uint8)


def check_average(average: Any) -> None:
    """Refuse an ``average`` that no ranking metric knows."""
    if average is not None:
        check_choice(average, "average", _RANKING_AVERAGES)


def multilabel_target(y_true: ArrayLike) -> NDArray[np.uint8] | None:
    """``y_true`` as an (n, k) 0/1 indicator if it is a multilabel matrix (k >= 2), else None."""
    arr = y_true if isinstance(y_true, np.ndarray) else None
    if arr is None:
        try:
            arr = np.asarray(y_true)
        except (ValueError, TypeError):
            return None  # ragged: as_label_array gives the error
    if arr.ndim != 2 or arr.shape[1] < 2:
        return None
    if arr.dtype != np.bool_:
        arr = to_numeric_array(arr, "y_true")
        bad = (arr != 0) & (arr != 1)
        if bad.any():
            first = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValueError(
                f"y_true of shape {arr.shape} is a multilabel indicator matrix and must hold only "
                f"0 and 1; y_true{list(first)} is {arr[first]!r}"
            )
    return np.ascontiguousarray(arr != 0).view(np.uint8)


# --------------------------------------------------------------------------- counting


def _halves(mask: NDArray[np.uint8], scores: NDArray[np.float64]) -> tuple[NDArray[np.float64], ...]:
    """The ascending-sorted scores of the positives and of the negatives."""
    n = scores.shape[0]
    n_pos = int(np.count_nonzero(mask))
    pos = np.empty(n_pos, np.float64)
    neg = np.empty(n - n_pos, np.float64)
    _k._split_by_label(mask, scores, pos, neg)
    scratch = np.empty(max(n_pos, n - n_pos), np.uint64)
    _ks._radix_sort(pos, scratch[:n_pos])
    _ks._radix_sort(neg, scratch[: n - n_pos])
    return pos, neg


def threshold_sums(mask: NDArray[np.uint8], scores: NDArray[np.float64], w: Weights) -> Curve:
    """(thresholds descending, cumulative TP, cumulative FP): one entry per distinct score.

    With weights, zero-weight samples are left out (their scores are no
    thresholds, as in scikit-learn) and the counts are sums of weights.
    """
    n = scores.shape[0]
    if w is None and n < _THREADED_MIN:
        pos, neg = _halves(mask, scores)
        thresholds = np.empty(n, np.float64)
        tps = np.empty(n, np.float64)
        fps = np.empty(n, np.float64)
        m = _k._threshold_counts(pos, neg, thresholds, tps, fps)
        return thresholds[:m], tps[:m], fps[:m]
    pos_rec, neg_rec = _weighted_halves(mask, scores, w)
    thresholds = np.empty(pos_rec.shape[0] + neg_rec.shape[0], np.float64)
    tps = np.empty_like(thresholds)
    fps = np.empty_like(thresholds)
    m = _k._weighted_threshold_sums(pos_rec, neg_rec, thresholds, tps, fps)
    return thresholds[:m], tps[:m], fps[:m]


# below this many samples the weighted split and sort run on the calling thread alone, and
# the unweighted scores are sorted per label by ``_halves``
_THREADED_MIN = 200_000


def _weighted_halves(
    mask: NDArray[np.uint8], scores: NDArray[np.float64], w: Weights
) -> tuple[NDArray[np.uint64], NDArray[np.uint64]]:
    """Rows ``[~sort key, weight bits]`` of the positives and of the negatives (zero weights left
    out), each by descending score, ties in input order; without weights (None), rows ``[~sort
    key]`` of every sample.

    A stable counting sort splits the samples into buckets (label, leading bits
    of the key); with many samples, chunks of the input are counted and
    written by several threads (each chunk's rows of a bucket follow the
    previous chunk's, so input order is kept), and the buckets are sorted on
    several threads.
    """
    n = scores.shape[0]
    threaded = n >= _THREADED_MIN
    bounds = chunk_bounds(n, threaded)
    key_bounds = np.empty((bounds.shape[0] - 1, 2), np.uint64)
    run_chunks(_ks._key_bounds, bounds, scores, bounds, key_bounds)
    lo_key, hi_key = key_bounds[:, 0].min(), key_bounds[:, 1].max()
    top = np.uint64(hi_key)  # a Python int past 2**63 would be typed int64 (and overflow)
    span = int(hi_key) - int(lo_key)
    shift = max(span.bit_length() - _ks._TOP_BITS, 0)
    n_buckets = (span >> shift) + 1
    n_chunks = bounds.shape[0] - 1
    counts = np.zeros((n_chunks, 2 * n_buckets), np.int64)
    if w is None:  # empty weights: the kernels' unweighted mode (the same compiled code)
        w = np.empty(0, np.float64)
    args = (bounds, mask, scores, w, top, shift, n_buckets)
    run_chunks(_ks._bucket_counts, bounds, *args, counts)
    per_chunk = np.cumsum(counts, axis=0)
    ends = np.cumsum(per_chunk[-1])
    next_slot = per_chunk - counts + (ends - per_chunk[-1])
    rec = np.empty((int(ends[-1]), 2 if w.shape[0] else 1), np.uint64)
    run_chunks(_ks._bucket_split, bounds, *args, next_slot, rec)
    if threaded:  # groups of buckets holding about equal numbers of rows
        cuts = np.searchsorted(ends, np.linspace(0, ends[-1], 65)[1:-1], "right")
        groups = np.unique(np.concatenate(([0], cuts, [ends.shape[0]])))
        _ks._sort_buckets(groups.shape[0] - 1, rec, ends, groups)
    else:
        _ks._sort_buckets.serial(1, rec, ends, np.array([0, ends.shape[0]], np.int64))
    n_neg = int(ends[n_buckets - 1])
    return rec[n_neg:], rec[:n_neg]


def roc_from_counts(counts: Curve, drop_intermediate: bool) -> Curve:
    thresholds, tps, fps = (np.ascontiguousarray(a, dtype=np.float64) for a in counts)
    # the rates are the counts over their last value (the origin prepended: 0 with no threshold)
    tp_total = float(tps[-1]) if tps.shape[0] else 0.0
    fp_total = float(fps[-1]) if fps.shape[0] else 0.0
    out = np.empty((3, thresholds.shape[0] + 1), np.float64)
    k = _k._roc_points(thresholds, tps, fps, drop_intermediate, tp_total, fp_total, out[0], out[1], out[2])
    if 2 * k < out.shape[1]:  # most points dropped: do not keep the whole buffer alive
        out = out[:, :k].copy()
    thresholds, tpr, fpr = out[0, :k], out[1, :k], out[2, :k]
    if fp_total <= 0:
        warn(
            "No negative samples in y_true, false positive value should be meaningless "
            "(the false positive rate is NaN)"
        )
        fpr = np.full(k, np.nan)
    if tp_total <= 0:
        warn(
            "No positive samples in y_true, true positive value should be meaningless "
            "(the true positive rate is NaN)"
        )
        tpr = np.full(k, np.nan)
    return fpr, tpr, thresholds


def pr_from_counts(counts: Curve, drop_intermediate: bool) -> Curve:
    thresholds, tps, fps = counts
    if drop_intermediate and fps.shape[0] > 2:
        changes = (np.diff(tps[:-1]) != 0) | (np.diff(tps[1:]) != 0)
        keep = np.flatnonzero(np.concatenate(([True], changes, [True])))
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
    ps = tps + fps
    with np.errstate(divide="ignore", invalid="ignore"):  # ps == 0 only with negative weights
        precision = np.where(ps != 0, tps / ps, 0.0)
    if tps[-1] == 0:
        warn("No positive class found in y_true, recall is set to one for all thresholds.")
        recall = np.ones(tps.shape)
    else:
        recall = tps / tps[-1]
    return (
        np.concatenate((precision[::-1], [1.0])),
        np.concatenate((recall[::-1], [0.0])),
        np.ascontiguousarray(thresholds[::-1]),
    )


# --------------------------------------------------------------------------- binary scores


_NOT_MONOTONE = (
    "the ROC curve's false positive rate is not monotone (negative sample_weight); its area is not defined"
)


def _auc(x: NDArray[np.float64], y: NDArray[np.float64]) -> float:
    """Trapezoidal area under (x, y), x monotone (scikit-learn's ``auc``)."""
    dx = np.diff(x)
    direction = 1.0
    if np.any(dx < 0):
        if not np.all(dx <= 0):
            raise ValueError(_NOT_MONOTONE)
        direction = -1.0
    return float(direction * np.sum(dx * (y[1:] + y[:-1]) / 2.0))


def _weighted_area(
    mask: NDArray[np.uint8], scores: NDArray[np.float64], w: Weights, ap: bool, parts: int = 0
) -> float | None:
    """The weighted ROC AUC (``_auc`` of ``roc_from_counts``), or with ``ap`` the average precision
    before its clip at 0 (``binary_ap``), bit for bit, without the curve's arrays: the kernels
    write the terms of the final NumPy sum only, the sorted rows cut into ``parts`` (0: two with
    many samples, else one) walked on threads. None where the curve is undefined (a class
    without weight): the caller's curve path warns and gives NaN (or the AP of recall 1).
    """
    pos_rec, neg_rec = _weighted_halves(mask, scores, w)
    n_rows = pos_rec.shape[0] + neg_rec.shape[0]
    if pos_rec.shape[0] == 0 or neg_rec.shape[0] == 0:
        return None
    if parts == 0:
        parts = 2 if n_rows >= _THREADED_MIN else 1
    starts = np.empty((parts + 1, 4), np.int64)
    sums = np.zeros((parts, 4), np.float64)
    totals = np.empty(2, np.float64)
    n_cuts = _k._area_parts_plan(pos_rec, neg_rec, starts)
    # the positives' and the negatives' sums on a thread each (the AP needs no fp total)
    sum_args = (pos_rec, neg_rec, starts, n_cuts, not ap, sums, totals)
    if parts > 1:
        _k._weight_sums_at(2, *sum_args)
    else:
        _k._weight_sums_at.serial(2, *sum_args)
    tp_total, fp_total = float(totals[0]), float(totals[1])
    if (tp_total == 0.0) if ap else not (tp_total > 0.0 and fp_total > 0.0):
        return None
    terms = np.empty(n_rows, np.float64)
    res = np.empty((parts, 8), np.float64)
    args = (pos_rec, neg_rec, ap, starts, sums, tp_total, fp_total, terms, res)
    if parts > 1:
        _k._area_term_parts(parts, *args)
    else:
        _k._area_term_parts.serial(parts, *args)
    pieces = np.empty((parts, 2), np.int64)
    dx_neg, dx_pos = _k._join_area_parts(ap, starts, res, terms, pieces)
    total = numpy_sum(terms, pieces, parts > 1)
    if ap:
        return -total
    if dx_neg and dx_pos:
        raise ValueError(_NOT_MONOTONE)
    return (-1.0 if dx_neg else 1.0) * total


def numpy_sum(out: NDArray[np.float64], pieces: NDArray[np.int64], threaded: bool) -> float:
    """``np.sum`` of the pieces of ``out`` joined (``out[first:first + count]`` for each row
    ``[first, count]`` of pieces, in order), bit for bit, without joining them; with
    ``threaded``, NumPy's two halves are summed on a thread each."""
    n = int(pieces[:, 1].sum())
    if n == 0:
        return 0.0
    stack = np.empty((2, 3, 64), np.int64)
    sums = np.empty((2, 64), np.float64)
    gather = np.empty((2, _k._PAIRWISE_BLOCK), np.float64)
    if threaded and n > _k._PAIRWISE_BLOCK:
        halves = np.empty(2, np.float64)
        _k._pairwise_halves(2, out, pieces, n, halves, stack, sums, gather)
        return 0.0 + (float(halves[0]) + float(halves[1]))
    return 0.0 + float(_k._pairwise_sum(out, pieces, 0, n, stack[0], sums[0], gather[0]))


_NO_TERMS = np.empty(0, np.float64)  # ``_key_scores`` computing the AUC alone


def _key_scores(
    pos: NDArray[np.uint64], neg: NDArray[np.uint64], ap: bool, terms: NDArray[np.float64], parts: int = 2
) -> tuple[int, NDArray[np.int64]]:
    """(2 * P * N * AUC as an exact integer, where the AP terms are) of unweighted rows
    (``_weighted_halves`` without weights): the merge cut into ``parts`` at tied groups, walked on
    threads; with ``ap`` the terms are written into ``terms`` and the second value holds the
    ``[first, count]`` of each part's terms, in the order of the sum: ``-numpy_sum(terms, pieces)``
    is the AP."""
    starts = np.empty((parts + 1, 4), np.int64)
    _k._area_parts_plan(pos, neg, starts)  # cuts at tied groups (columns 2, 3 unused here)
    areas = np.empty(parts, np.int64)
    res = np.empty((parts, 8), np.float64)
    _k._key_score_parts(parts, pos, neg, ap, starts, terms, areas, res)
    pieces = np.zeros((parts, 2), np.int64)
    if ap:
        _k._join_area_parts(True, starts, res, terms, pieces)
    return int(areas.sum()), pieces


def binary_roc_auc(
    mask: NDArray[Any], scores: NDArray[np.float64], w: Weights, max_fpr: float | None
) -> float:
    mask = np.ascontiguousarray(mask).view(np.uint8)
    scores = np.ascontiguousarray(scores)
    n_pos = int(np.count_nonzero(mask))
    n_neg = mask.shape[0] - n_pos
    if n_pos == 0 or n_neg == 0:
        warn("Only one class is present in y_true. ROC AUC score is not defined in that case.")
        return float("nan")
    if w is None and (max_fpr is None or max_fpr == 1):
        if mask.shape[0] >= _THREADED_MIN:
            area, _ = _key_scores(*_weighted_halves(mask, scores, None), False, _NO_TERMS)
        else:
            area = _k._roc_auc_twice_area(*_halves(mask, scores))
        return float(area) / (2.0 * n_pos * n_neg)
    if w is not None and (max_fpr is None or max_fpr == 1):
        weighted = _weighted_area(mask, scores, w, False)
        if weighted is not None:
            return weighted
    fpr, tpr, _ = roc_from_counts(threshold_sums(mask, scores, w), True)
    if max_fpr is None or max_fpr == 1:
        return _auc(fpr, tpr)
    if np.isnan(fpr[-1]) or np.isnan(tpr[-1]):
        return float("nan")  # no negative (or positive) weight left: warned above
    # McClish (1989): the partial area up to max_fpr, the curve cut by linear interpolation,
    # rescaled so that chance gives 0.5 and a perfect ranking 1.
    stop = int(np.searchsorted(fpr, max_fpr, "right"))
    y_cut = np.interp(max_fpr, [fpr[stop - 1], fpr[stop]], [tpr[stop - 1], tpr[stop]])
    partial = _auc(np.append(fpr[:stop], max_fpr), np.append(tpr[:stop], y_cut))
    min_area = 0.5 * max_fpr**2
    return 0.5 * (1 + (partial - min_area) / (max_fpr - min_area))


def binary_ap(mask: NDArray[Any], scores: NDArray[np.float64], w: Weights) -> float:
    mask = np.ascontiguousarray(mask).view(np.uint8)
    scores = np.ascontiguousarray(scores)
    if w is None:
        if not mask.any():
            warn(
                "No positive class found in y_true, recall is set to one for all thresholds. "
                "Average precision is 0.0."
            )
            return 0.0
        terms = np.empty(mask.shape[0], np.float64)
        if mask.shape[0] >= _THREADED_MIN:
            _, pieces = _key_scores(*_weighted_halves(mask, scores, None), True, terms)
            return max(0.0, -numpy_sum(terms, pieces, True))  # scikit-learn's sum, bit for bit
        pos, neg = _halves(mask, scores)
        m = _k._average_precision(pos, neg, terms)
        return max(0.0, float(-np.sum(terms[terms.shape[0] - m :])))
    ap = _weighted_area(mask, scores, w, True)
    if ap is not None:
        return max(0.0, ap)
    precision, recall, _ = pr_from_counts(threshold_sums(mask, scores, w), False)
    return max(0.0, float(-np.sum(np.diff(recall) * precision[:-1])))
