"""The ranking metrics: ROC curve and AUC, precision-recall curve, average precision."""

from __future__ import annotations

from collections.abc import Callable
from itertools import combinations
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fastdet._kernels import ranking as _k
from fastdet._validate import as_float_array, check_bool, check_choice, check_real, to_numeric_array
from fastdet.metrics._common import (
    as_label_array,
    as_sample_weight,
    check_pos_label,
    distinct_upto_two,
    is_str,
    label_list,
    label_matches,
    warn,
    writable,
)

__all__ = ["average_precision", "precision_recall_curve", "roc_auc", "roc_curve"]

RankingAverage = Literal["micro", "macro", "samples", "weighted"]
MultiClass = Literal["raise", "ovr", "ovo"]
Curve = tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]
Weights = NDArray[np.float64] | None
BinaryMetric = Callable[[NDArray[Any], NDArray[np.float64], Weights], float]

_RANKING_AVERAGES = ("micro", "macro", "samples", "weighted")


# --------------------------------------------------------------------------- validation


def _as_scores(y_score: ArrayLike, *, two_d: bool = False) -> NDArray[np.float64]:
    """Finite float64 scores: (n,) (a column (n, 1) too) or, with ``two_d``, also (n, k)."""
    arr = to_numeric_array(y_score, "y_score")
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1 and not (two_d and arr.ndim == 2):
        expected = "1-dimensional (or (n_samples, n_classes))" if two_d else "1-dimensional"
        raise ValueError(f"y_score must be {expected}, got shape {arr.shape}")
    return writable(as_float_array(arr, "y_score", dtype=np.float64))


def _check_lengths(n_true: int, n_score: int) -> None:
    if n_true != n_score:
        raise ValueError(f"y_true and y_score must have the same length, got {n_true} and {n_score}")
    if n_true == 0:
        raise ValueError("y_true and y_score are empty; at least one sample is required")


def _binary_input(
    y_true: ArrayLike, y_score: ArrayLike, sample_weight: ArrayLike | None
) -> tuple[NDArray[Any], NDArray[np.float64], Weights]:
    """Validate a binary ranking problem: labels (1-D), finite float64 scores, weights."""
    scores = _as_scores(y_score)
    y = as_label_array(y_true, "y_true", keep_dtype=True)
    _check_lengths(y.shape[0], scores.shape[0])
    w, _ = as_sample_weight(sample_weight, y.shape[0])
    return y, scores, w


def _positives(y: NDArray[Any], pos_label: Any) -> NDArray[np.uint8]:
    """The 0/1 indicator of the positive class for the curves (``pos_label=None``: {0, 1} or {-1, 1})."""
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


def _check_average(average: Any) -> None:
    if average is not None:
        check_choice(average, "average", _RANKING_AVERAGES)


def _multilabel_target(y_true: ArrayLike) -> NDArray[np.uint8] | None:
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
    _k._radix_sort(pos, scratch[:n_pos])
    _k._radix_sort(neg, scratch[: n - n_pos])
    return pos, neg


def _counts(mask: NDArray[np.uint8], scores: NDArray[np.float64], w: Weights) -> Curve:
    """(thresholds descending, cumulative TP, cumulative FP): one entry per distinct score.

    With weights, zero-weight samples are left out (their scores are no
    thresholds, as in scikit-learn) and the counts are sums of weights.
    """
    n = scores.shape[0]
    if w is None:
        pos, neg = _halves(mask, scores)
        thresholds = np.empty(n, np.float64)
        tps = np.empty(n, np.float64)
        fps = np.empty(n, np.float64)
        m = _k._threshold_counts(pos, neg, thresholds, tps, fps)
        return thresholds[:m], tps[:m], fps[:m]
    n_pos = int(np.count_nonzero(mask))
    pos, pos_w = np.empty(n_pos, np.float64), np.empty(n_pos, np.float64)
    neg, neg_w = np.empty(n - n_pos, np.float64), np.empty(n - n_pos, np.float64)
    ip, ineg = _k._split_weighted(mask, scores, w, pos, pos_w, neg, neg_w)
    pos, pos_w, neg, neg_w = pos[:ip], pos_w[:ip], neg[:ineg], neg_w[:ineg]
    scratch_k = np.empty(max(ip, ineg), np.uint64)
    scratch_v = np.empty(max(ip, ineg), np.float64)
    _k._radix_sort_pairs(pos, pos_w, scratch_k[:ip], scratch_v[:ip])
    _k._radix_sort_pairs(neg, neg_w, scratch_k[:ineg], scratch_v[:ineg])
    thresholds = np.empty(ip + ineg, np.float64)
    tps = np.empty(ip + ineg, np.float64)
    fps = np.empty(ip + ineg, np.float64)
    m = _k._weighted_threshold_sums(pos, pos_w, neg, neg_w, thresholds, tps, fps)
    return thresholds[:m], tps[:m], fps[:m]


def _roc_from_counts(counts: Curve, drop_intermediate: bool) -> Curve:
    thresholds, tps, fps = counts
    if drop_intermediate and fps.shape[0] > 2:
        corner = (np.diff(fps, 2) != 0) | (np.diff(tps, 2) != 0)
        keep = np.flatnonzero(np.concatenate(([True], corner, [True])))
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
    tps = np.concatenate(([0.0], tps))
    fps = np.concatenate(([0.0], fps))
    thresholds = np.concatenate(([np.inf], thresholds))
    if fps[-1] <= 0:
        warn("No negative samples in y_true; the false positive rate is undefined (NaN)")
        fpr = np.full(fps.shape, np.nan)
    else:
        fpr = fps / fps[-1]
    if tps[-1] <= 0:
        warn("No positive samples in y_true; the true positive rate is undefined (NaN)")
        tpr = np.full(tps.shape, np.nan)
    else:
        tpr = tps / tps[-1]
    return fpr, tpr, thresholds


def _pr_from_counts(counts: Curve, drop_intermediate: bool) -> Curve:
    thresholds, tps, fps = counts
    if drop_intermediate and fps.shape[0] > 2:
        changes = (np.diff(tps[:-1]) != 0) | (np.diff(tps[1:]) != 0)
        keep = np.flatnonzero(np.concatenate(([True], changes, [True])))
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
    ps = tps + fps
    with np.errstate(divide="ignore", invalid="ignore"):  # ps == 0 only with negative weights
        precision = np.where(ps != 0, tps / ps, 0.0)
    if tps[-1] == 0:
        warn("No positive samples in y_true; recall is set to 1 for all thresholds")
        recall = np.ones(tps.shape)
    else:
        recall = tps / tps[-1]
    return (
        np.concatenate((precision[::-1], [1.0])),
        np.concatenate((recall[::-1], [0.0])),
        np.ascontiguousarray(thresholds[::-1]),
    )


# --------------------------------------------------------------------------- binary scores


def _auc(x: NDArray[np.float64], y: NDArray[np.float64]) -> float:
    """Trapezoidal area under (x, y), x monotone (scikit-learn's ``auc``)."""
    dx = np.diff(x)
    direction = 1.0
    if np.any(dx < 0):
        if not np.all(dx <= 0):
            raise ValueError(
                "the ROC curve's false positive rate is not monotone (negative sample_weight); "
                "its area is not defined"
            )
        direction = -1.0
    return float(direction * np.sum(dx * (y[1:] + y[:-1]) / 2.0))


def _binary_roc_auc(
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
        pos, neg = _halves(mask, scores)
        return float(_k._roc_auc_twice_area(pos, neg)) / (2.0 * n_pos * n_neg)
    fpr, tpr, _ = _roc_from_counts(_counts(mask, scores, w), True)
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


def _binary_ap(mask: NDArray[Any], scores: NDArray[np.float64], w: Weights) -> float:
    mask = np.ascontiguousarray(mask).view(np.uint8)
    scores = np.ascontiguousarray(scores)
    if w is None:
        if not mask.any():
            warn("No positive samples in y_true; average precision is set to 0.0")
            return 0.0
        pos, neg = _halves(mask, scores)
        return max(0.0, float(_k._average_precision(pos, neg)))
    precision, recall, _ = _pr_from_counts(_counts(mask, scores, w), False)
    return max(0.0, float(-np.sum(np.diff(recall) * precision[:-1])))


# --------------------------------------------------------------------------- several classes


def _average_columns(
    metric: BinaryMetric,
    y: NDArray[np.uint8],
    scores: NDArray[np.float64],
    w: Weights,
    average: str | None,
) -> float | NDArray[np.float64]:
    """A binary metric per column of an (n, k) indicator, averaged.

    scikit-learn's ``_average_binary_score``: "micro" scores the flattened
    matrix, "samples" each row, the others each column.
    """
    if y.shape != scores.shape:
        raise ValueError(
            f"y_score must have the shape of the label indicator matrix {y.shape}, got {scores.shape}"
        )
    if average == "micro":
        ww = None if w is None else np.repeat(w, y.shape[1])
        return metric(y.ravel(), scores.ravel(), ww)
    average_weight: NDArray[Any] | None = None
    if average == "weighted":
        average_weight = y.sum(axis=0) if w is None else (y * w[:, None]).sum(axis=0)
        if np.isclose(average_weight.sum(), 0.0):
            return 0.0
    if average == "samples":
        score = np.array([metric(y[i], scores[i], None) for i in range(y.shape[0])])
        average_weight = w
    else:
        score = np.array([metric(y[:, c], scores[:, c], w) for c in range(y.shape[1])])
    return _combine(score, average_weight, average)


def _combine(score: NDArray[np.float64], average_weight: NDArray[Any] | None, average: str | None) -> Any:
    """Per-class scores averaged as scikit-learn does (the array itself for ``average=None``)."""
    if average is None:
        return score
    if average_weight is not None:
        if average == "weighted" and np.isclose(average_weight.sum(), 0.0):
            return 0.0
        score = np.where(average_weight == 0, 0.0, score)  # a 0-weight NaN must not spoil the average
    return float(np.average(score, weights=average_weight))


def _class_codes(y: NDArray[Any], labels: ArrayLike | None, k: int) -> tuple[NDArray[np.int64], NDArray[Any]]:
    """Codes 0..k-1 of ``y`` among the classes (``labels``, or the sorted classes of ``y``)."""
    if labels is None:
        classes, codes = _unique_codes(y)
        if classes.shape[0] != k:
            raise ValueError(
                f"y_true has {classes.shape[0]} classes but y_score has {k} columns; pass labels "
                "to name the classes of the columns"
            )
        return codes, classes
    lab = as_label_array(labels, "labels")
    if lab.shape[0] and is_str(lab) != is_str(y):
        raise ValueError("Mix of label input types (string and number): labels and y_true")
    classes = np.unique(lab)
    if classes.shape[0] != lab.shape[0]:
        raise ValueError("labels must be unique")
    if not np.array_equal(classes, lab):
        raise ValueError("labels must be ordered (sorted), as the columns of y_score")
    if lab.shape[0] != k:
        raise ValueError(f"labels has {lab.shape[0]} labels but y_score has {k} columns")
    codes = np.searchsorted(lab, y)
    inside = codes < k
    if not inside.all() or not np.array_equal(lab[codes[inside]], y[inside]):
        raise ValueError("y_true contains labels not in labels")
    return codes.astype(np.int64), lab


class _ClassBlocks:
    """Sorted score blocks of a multiclass problem: ``block(c, j)`` is column j over the samples of class c.

    The scores are regrouped by class once (one pass); each block is then a
    contiguous slice, radix-sorted in place on first use. The unweighted
    AUC of class a against class b on column j is then one merge of
    ``block(a, j)`` and ``block(b, j)``, and AUC counts add up over classes,
    so one-vs-rest and one-vs-one need no masks and no sort of all samples.
    """

    def __init__(self, codes: NDArray[np.int64], scores: NDArray[np.float64]) -> None:
        k = scores.shape[1]
        self.counts = np.bincount(codes, minlength=k)
        self._starts = np.concatenate(([0], np.cumsum(self.counts)))
        self._grouped = np.empty((scores.shape[1], codes.shape[0]), np.float64)
        _k._group_columns(codes, self._starts[:-1].copy(), scores, self._grouped)
        self._scratch = np.empty(int(self.counts.max(initial=0)), np.uint64)
        self._blocks: dict[tuple[int, int], NDArray[np.float64]] = {}

    def block(self, c: int, j: int) -> NDArray[np.float64]:
        out = self._blocks.get((c, j))
        if out is None:
            out = self._grouped[j, self._starts[c] : self._starts[c + 1]]  # sorted in place
            _k._radix_sort(out, self._scratch[: out.shape[0]])
            self._blocks[(c, j)] = out
        return out

    def twice_u(self, a: int, b: int, j: int) -> int:
        """2 U of class a (positive) against class b on column j, ties counted one half."""
        return int(_k._roc_auc_twice_area(self.block(a, j), self.block(b, j)))


def _unique_codes(y: NDArray[Any]) -> tuple[NDArray[Any], NDArray[np.int64]]:
    """``np.unique(y, return_inverse=True)``, through a lookup table for integers of a narrow range."""
    if y.dtype.kind in "iub" and y.shape[0]:
        lo, hi = int(y.min()), int(y.max())
        if hi - lo <= 4 * y.shape[0] + 1024:
            shifted = y.astype(np.int64) - lo
            present = np.flatnonzero(np.bincount(shifted, minlength=hi - lo + 1))
            lut = np.zeros(hi - lo + 1, np.int64)
            lut[present] = np.arange(present.shape[0])
            return (present + lo).astype(y.dtype), lut[shifted]
    classes, codes = np.unique(y, return_inverse=True)
    return classes, codes.reshape(-1).astype(np.int64)


def _ovo_roc_auc(codes: NDArray[np.int64], scores: NDArray[np.float64], average: str) -> float:
    """Hand & Till (2001): the mean over class pairs of the two one-vs-one AUCs' mean."""
    blocks = _ClassBlocks(codes, scores)
    present = np.flatnonzero(blocks.counts).tolist()
    if len(present) < 2:
        warn("Only one class is present in y_true. ROC AUC score is not defined in that case.")
        return float("nan")
    n = codes.shape[0]
    pair_scores = []
    prevalence = []
    for a, b in combinations(present, 2):
        n_a, n_b = int(blocks.counts[a]), int(blocks.counts[b])
        prevalence.append((n_a + n_b) / n)
        auc_a = blocks.twice_u(a, b, a) / (2.0 * n_a * n_b)
        auc_b = blocks.twice_u(b, a, b) / (2.0 * n_a * n_b)
        pair_scores.append((auc_a + auc_b) / 2)
    return float(np.average(pair_scores, weights=prevalence if average == "weighted" else None))


def _ovr_roc_auc(codes: NDArray[np.int64], scores: NDArray[np.float64], average: str | None) -> Any:
    """Unweighted one-vs-rest AUCs from the class blocks: U(c vs rest) = sum over b != c of U(c vs b)."""
    blocks = _ClassBlocks(codes, scores)
    k = scores.shape[1]
    n = codes.shape[0]
    score = np.empty(k)
    for c in range(k):
        n_pos = int(blocks.counts[c])
        if n_pos in (0, n):
            warn("Only one class is present in y_true. ROC AUC score is not defined in that case.")
            score[c] = np.nan
            continue
        twice = sum(blocks.twice_u(c, b, c) for b in range(k) if b != c and blocks.counts[b])
        score[c] = float(twice) / (2.0 * n_pos * (n - n_pos))
    return _combine(score, blocks.counts if average == "weighted" else None, average)


def _multiclass_roc_auc(
    y: NDArray[Any],
    scores: NDArray[np.float64],
    labels: ArrayLike | None,
    multi_class: str,
    average: str | None,
    w: Weights,
) -> float | NDArray[np.float64]:
    if scores.ndim != 2:
        raise ValueError(
            "y_score must have shape (n_samples, n_classes) since y_true holds more than two "
            f"classes, got shape {scores.shape}"
        )
    if not np.allclose(1, scores.sum(axis=1)):
        raise ValueError("y_score must hold probabilities for a multiclass roc_auc: each row must sum to 1")
    options = ("micro", "macro", "weighted", None) if multi_class == "ovr" else ("macro", "weighted")
    if average not in options:
        raise ValueError(
            f"average must be one of {options} for a multiclass roc_auc with "
            f"multi_class={multi_class!r}, got {average!r}"
        )
    codes, _ = _class_codes(y, labels, scores.shape[1])
    if multi_class == "ovo":
        if w is not None:
            raise ValueError("sample_weight is not supported with multi_class='ovo'")
        return _ovo_roc_auc(codes, scores, str(average))
    if w is None and average != "micro":
        return _ovr_roc_auc(codes, scores, average)
    indicator = np.zeros(scores.shape, np.uint8)
    indicator[np.arange(codes.shape[0]), codes] = 1
    return _average_columns(_roc_metric(None), indicator, scores, w, average)


def _roc_metric(max_fpr: float | None) -> BinaryMetric:
    return lambda m, s, w: _binary_roc_auc(m, s, w, max_fpr)


# --------------------------------------------------------------------------- public API


def roc_curve(
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    pos_label: Any = None,
    sample_weight: ArrayLike | None = None,
    drop_intermediate: bool = True,
) -> Curve:
    """Receiver operating characteristic: false and true positive rates per threshold.

    Parameters
    ----------
    y_true : array_like of shape (n_samples,)
        Class labels (numbers, bool or strings).
    y_score : array_like of shape (n_samples,)
        Finite scores; higher means more likely positive.
    pos_label : int, float, bool or str, optional
        The positive class; the other labels are negatives (``y_true`` may then
        hold more than two classes). Default: 1, and ``y_true`` must then take
        values in {0, 1} or {-1, 1}, as in scikit-learn.
    sample_weight : array_like of shape (n_samples,), optional
        Per-sample weights (finite, not all zero; negative accepted, as
        scikit-learn). Zero-weight samples are left out, thresholds included.
    drop_intermediate : bool, default True
        Drop thresholds whose point is collinear with its neighbours (they do
        not change the curve's shape or area), as scikit-learn does.

    Returns
    -------
    fpr : ndarray of shape (n_thresholds + 1,)
        False positive rate of ``score >= thresholds[i]``; starts at 0.
    tpr : ndarray of shape (n_thresholds + 1,)
        True positive rate of ``score >= thresholds[i]``; starts at 0.
    thresholds : ndarray of shape (n_thresholds + 1,)
        Distinct scores in decreasing order (float64), preceded by ``inf``.

    Raises
    ------
    ValueError
        Empty input, different lengths, NaN/inf scores, labels other than
        {0, 1} / {-1, 1} without ``pos_label``, a string ``pos_label`` for
        number labels (or the reverse), bad ``sample_weight``.
    TypeError
        Non-numeric scores, labels that are neither numbers nor strings.

    Warns
    -----
    UndefinedMetricWarning
        When ``y_true`` has no negatives (``fpr`` is all NaN) or no positives
        (``tpr`` is all NaN), as scikit-learn.

    Notes
    -----
    Tied scores form one threshold. With weights the rates are cumulative
    sums of weights over the samples sorted by decreasing score, ties in input
    order, added in that order: the same floating-point sums as scikit-learn's
    (a stable argsort and ``cumsum``), here from a stable radix sort. Identical
    to ``sklearn.metrics.roc_curve``.

    Examples
    --------
    >>> fpr, tpr, thr = roc_curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> fpr, tpr
    (array([0. , 0. , 0.5, 0.5, 1. ]), array([0. , 0.5, 0.5, 1. , 1. ]))
    >>> thr
    array([ inf, 0.8 , 0.4 , 0.35, 0.1 ])
    >>> fpr, tpr, thr = roc_curve(["a", "a", "b", "b"], [0.1, 0.4, 0.35, 0.8], pos_label="b")
    >>> tpr
    array([0. , 0.5, 0.5, 1. , 1. ])
    """
    drop_intermediate = check_bool(drop_intermediate, "drop_intermediate")
    y, scores, w = _binary_input(y_true, y_score, sample_weight)
    return _roc_from_counts(_counts(_positives(y, pos_label), scores, w), drop_intermediate)


def precision_recall_curve(
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    pos_label: Any = None,
    sample_weight: ArrayLike | None = None,
    drop_intermediate: bool = False,
) -> Curve:
    """Precision and recall for every distinct score threshold, as scikit-learn.

    Parameters
    ----------
    y_true : array_like of shape (n_samples,)
        Class labels (numbers, bool or strings).
    y_score : array_like of shape (n_samples,)
        Finite scores; higher means more likely positive.
    pos_label : int, float, bool or str, optional
        The positive class (see :func:`roc_curve`). Default: 1, with ``y_true``
        in {0, 1} or {-1, 1}.
    sample_weight : array_like of shape (n_samples,), optional
        Per-sample weights (see :func:`roc_curve`).
    drop_intermediate : bool, default False
        Keep only the first and last threshold of each run of equal recall
        (scikit-learn's option of the same name, default off there too).

    Returns
    -------
    precision : ndarray of shape (n_thresholds + 1,)
        Precision of ``score >= thresholds[i]``; the last entry is 1.
    recall : ndarray of shape (n_thresholds + 1,)
        Recall of ``score >= thresholds[i]``, decreasing; the last entry is 0.
    thresholds : ndarray of shape (n_thresholds,)
        Distinct scores in increasing order (float64).

    Raises
    ------
    ValueError
        As :func:`roc_curve`.
    TypeError
        As :func:`roc_curve`.

    Warns
    -----
    UndefinedMetricWarning
        When ``y_true`` has no positives; recall is then 1 at every threshold,
        as scikit-learn (which warns with a plain ``UserWarning``, of which
        this is a subclass).

    Notes
    -----
    ``precision = TP / (TP + FP)`` (0 where TP + FP is 0, possible only with
    negative weights) and ``recall = TP / P`` at each threshold; the final
    point (precision 1, recall 0) has no threshold. Identical to
    ``sklearn.metrics.precision_recall_curve`` 1.9, except that thresholds are
    float64 where scikit-learn keeps the dtype of ``y_score`` (same values).

    Examples
    --------
    >>> p, r, t = precision_recall_curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> p
    array([0.5       , 0.66666667, 0.5       , 1.        , 1.        ])
    >>> r
    array([1. , 1. , 0.5, 0.5, 0. ])
    >>> t
    array([0.1 , 0.35, 0.4 , 0.8 ])
    """
    drop_intermediate = check_bool(drop_intermediate, "drop_intermediate")
    y, scores, w = _binary_input(y_true, y_score, sample_weight)
    return _pr_from_counts(_counts(_positives(y, pos_label), scores, w), drop_intermediate)


def roc_auc(
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    average: RankingAverage | None = "macro",
    sample_weight: ArrayLike | None = None,
    max_fpr: float | None = None,
    multi_class: MultiClass = "raise",
    labels: ArrayLike | None = None,
) -> Any:
    """Area under the ROC curve: binary, multiclass (one-vs-rest, one-vs-one) or multilabel.

    Parameters
    ----------
    y_true : array_like of shape (n_samples,) or (n_samples, n_classes)
        Class labels (numbers, bool or strings), or a multilabel 0/1 indicator
        matrix. With two classes the greater label (sorted order) is positive.
    y_score : array_like of shape (n_samples,) or (n_samples, n_classes)
        Binary: the score of the positive class. Multiclass: probabilities,
        each row summing to 1, columns in the order of ``labels`` (default: the
        sorted classes of ``y_true``). Multilabel: one score column per label.
    average : {"macro", "weighted", "micro", "samples"} or None, default "macro"
        How per-class AUCs are combined (ignored for binary ``y_true``):
        unweighted mean, mean weighted by each class's (weighted) number of
        true samples, one AUC over all (sample, class) pairs, mean over
        samples (multilabel only), or None for the per-class array. Multiclass
        allows "macro", "weighted", "micro" and None with ``multi_class="ovr"``,
        "macro" and "weighted" with ``"ovo"``.
    sample_weight : array_like of shape (n_samples,), optional
        Per-sample weights (not with ``multi_class="ovo"``).
    max_fpr : float in (0, 1], optional
        Return the standardized partial AUC over false positive rates in
        [0, max_fpr] (McClish correction); binary and multilabel only.
    multi_class : {"raise", "ovr", "ovo"}, default "raise"
        For multiclass ``y_true``: one-vs-rest, or one-vs-one averaged as
        Hand & Till (2001). The default raises, as scikit-learn.
    labels : array_like of shape (n_classes,), optional
        Multiclass only: the sorted classes that index the columns of ``y_score``.

    Returns
    -------
    float, or ndarray of shape (n_classes,) if ``average`` is None
        The (averaged) AUC; NaN when it is undefined.

    Raises
    ------
    ValueError
        Empty input, different lengths or shapes, NaN/inf scores, an unknown
        ``average`` or ``multi_class`` or an average the case does not
        support, ``max_fpr`` outside (0, 1] (or with multiclass), multiclass
        scores that are not probabilities, a class count that does not match
        the columns, bad ``labels`` or ``sample_weight``.
    TypeError
        Non-numeric scores, labels that are neither numbers nor strings.

    Warns
    -----
    UndefinedMetricWarning
        When ``y_true`` holds a single class (in a column, row or class pair):
        that AUC is NaN, as scikit-learn 1.9.

    Notes
    -----
    Binary, unweighted: with P positives and N negatives, ``AUC = sum_g dN_g
    (2 TP_{g-1} + dP_g) / (2 P N)`` over groups g of tied scores in decreasing
    order: the trapezoid rule on the ROC curve (the Mann-Whitney U statistic
    over P N with ties counted one half), accumulated exactly in integers, so
    the only rounding is the final division; scikit-learn integrates the float
    curve and agrees to about 1e-15. With weights or ``max_fpr`` the area is
    the trapezoid rule on :func:`roc_curve`'s points, as scikit-learn; the
    partial AUC ``A`` up to ``max_fpr = m`` (the curve cut by linear
    interpolation) is reported as ``(1 + (A - m^2/2) / (m - m^2/2)) / 2``
    (McClish, 1989). One-vs-one (Hand & Till, 2001): for every pair of classes
    present, the mean of the AUC of a against b and of b against a (each on
    the samples of a and b, scored by its own column); "weighted" weights the
    pairs by their share of the samples. Single-class pairs of ``"ovo"`` give
    NaN with a warning where scikit-learn fails; a non-monotone curve from
    negative weights raises ``ValueError``, as scikit-learn's ``auc``.

    Examples
    --------
    >>> roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    >>> roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], max_fpr=0.5)
    0.6666666666666666
    >>> probs = [[0.7, 0.2, 0.1], [0.2, 0.5, 0.3], [0.1, 0.3, 0.6],
    ...          [0.3, 0.4, 0.3], [0.5, 0.2, 0.3], [0.2, 0.3, 0.5]]
    >>> roc_auc([0, 1, 2, 1, 2, 0], probs, multi_class="ovr")
    0.8125
    """
    _check_average(average)
    check_choice(multi_class, "multi_class", ("raise", "ovr", "ovo"))
    if max_fpr is not None:
        max_fpr = check_real(max_fpr, "max_fpr")
        if not 0 < max_fpr <= 1:
            raise ValueError(f"max_fpr must be in (0, 1], got {max_fpr}")
    indicator = _multilabel_target(y_true)
    scores = _as_scores(y_score, two_d=True)
    if indicator is not None:
        _check_lengths(indicator.shape[0], scores.shape[0])
        w, _ = as_sample_weight(sample_weight, indicator.shape[0])
        return _average_columns(_roc_metric(max_fpr), indicator, scores, w, average)
    y = as_label_array(y_true, "y_true", keep_dtype=True)
    _check_lengths(y.shape[0], scores.shape[0])
    w, _ = as_sample_weight(sample_weight, y.shape[0])
    classes = distinct_upto_two(y)
    if classes is None or (scores.ndim == 2 and scores.shape[1] > 2):
        if max_fpr is not None and max_fpr != 1:
            raise ValueError("max_fpr (a partial AUC) is not available for multiclass y_true")
        if multi_class == "raise":
            raise ValueError(
                "y_true holds more than two classes (or y_score more than two columns): "
                "pass multi_class='ovr' or 'ovo'"
            )
        return _multiclass_roc_auc(y, scores, labels, multi_class, average, w)
    if scores.ndim != 1:
        raise ValueError(f"y_score must be 1-dimensional for binary y_true, got shape {scores.shape}")
    if classes.shape[0] == 1:
        warn("Only one class is present in y_true. ROC AUC score is not defined in that case.")
        return float("nan")
    return _binary_roc_auc(np.asarray(y == classes[1]), scores, w, max_fpr)


def average_precision(
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    average: RankingAverage | None = "macro",
    pos_label: Any = 1,
    sample_weight: ArrayLike | None = None,
) -> Any:
    """Average precision: the step-wise area under the precision-recall curve.

    Parameters
    ----------
    y_true : array_like of shape (n_samples,) or (n_samples, n_classes)
        Class labels (numbers, bool or strings), or a multilabel 0/1 indicator matrix.
    y_score : array_like of shape (n_samples,) or (n_samples, n_classes)
        Finite scores; higher means more likely positive. One column per class
        (sorted order) for multiclass ``y_true``, per label for multilabel.
    average : {"macro", "weighted", "micro", "samples"} or None, default "macro"
        How per-class APs are combined (ignored for binary ``y_true``), as in
        :func:`roc_auc`.
    pos_label : int, float, bool or str, default 1
        The positive class of binary ``y_true``; must be 1 for multiclass and
        multilabel ``y_true``.
    sample_weight : array_like of shape (n_samples,), optional
        Per-sample weights (finite, not all zero).

    Returns
    -------
    float, or ndarray of shape (n_classes,) if ``average`` is None
        ``AP = sum_k (R_k - R_{k-1}) P_k`` over thresholds k in decreasing order
        (no interpolation), in [0, 1].

    Raises
    ------
    ValueError
        Empty input, different lengths or shapes, NaN/inf scores, two classes
        in ``y_true`` neither of which is ``pos_label``, ``pos_label`` other
        than 1 for multiclass or multilabel ``y_true``, bad ``sample_weight``.
    TypeError
        Non-numeric scores, labels that are neither numbers nor strings.

    Warns
    -----
    UndefinedMetricWarning
        When ``y_true`` has no positives; the result is then 0.0, which is
        what scikit-learn's ``average_precision_score`` returns (with a
        ``UserWarning``).

    Notes
    -----
    The definition of ``sklearn.metrics.average_precision_score``: tied scores
    form one threshold; unlike the VOC AP (``fastdet.voc``) precision is not
    made monotone. With all samples positive the AP is 1. Multiclass
    ``y_true`` is scored one-vs-rest, as scikit-learn.

    Examples
    --------
    >>> round(average_precision([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 4)
    0.8333
    >>> round(average_precision(["n", "n", "y", "y"], [0.1, 0.4, 0.35, 0.8], pos_label="y"), 4)
    0.8333
    """
    _check_average(average)
    pos_label = check_pos_label(pos_label)
    indicator = _multilabel_target(y_true)
    scores = _as_scores(y_score, two_d=True)
    if indicator is not None:
        _check_pos_label_one(pos_label, "multilabel-indicator")
        _check_lengths(indicator.shape[0], scores.shape[0])
        w, _ = as_sample_weight(sample_weight, indicator.shape[0])
        return _average_columns(_binary_ap, indicator, scores, w, average)
    y = as_label_array(y_true, "y_true", keep_dtype=True)
    _check_lengths(y.shape[0], scores.shape[0])
    w, _ = as_sample_weight(sample_weight, y.shape[0])
    classes = distinct_upto_two(y)
    if classes is None:
        _check_pos_label_one(pos_label, "multiclass")
        if scores.ndim != 2:
            raise ValueError(
                "y_score must have shape (n_samples, n_classes) since y_true holds more than two "
                f"classes, got shape {scores.shape}"
            )
        codes, _ = _class_codes(y, None, scores.shape[1])
        indicator = np.zeros(scores.shape, np.uint8)
        indicator[np.arange(codes.shape[0]), codes] = 1
        return _average_columns(_binary_ap, indicator, scores, w, average)
    if scores.ndim != 1:
        raise ValueError(f"y_score must be 1-dimensional for binary y_true, got shape {scores.shape}")
    mask = label_matches(y, pos_label, "y_true")
    if classes.shape[0] == 2 and not mask.any():
        raise ValueError(
            f"pos_label={pos_label!r} is not a valid label; it should be one of {label_list(classes)}"
        )
    return _binary_ap(mask, scores, w)


def _check_pos_label_one(pos_label: Any, kind: str) -> None:
    if isinstance(pos_label, str) or pos_label != 1:
        raise ValueError(f"pos_label is fixed to 1 for {kind} y_true; got pos_label={pos_label!r}")
