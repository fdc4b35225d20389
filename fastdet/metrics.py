"""Classification metrics with scikit-learn's numbers: confusion matrix, PRF, ROC, PR, AP.

Every function returns what the scikit-learn function of the same family
returns (to 1e-12, tied scores included) for integer class labels, without
``sample_weight``. Differences from scikit-learn are listed in each Notes
section; the main ones:

- labels must be integers (or bool); strings are not accepted;
- the ranking metrics (``roc_curve``, ``roc_auc``, ``precision_recall_curve``,
  ``average_precision``) take ``y_true`` in {0, 1} only (1 is positive);
- ``roc_auc`` raises ``ValueError`` when ``y_true`` holds a single class
  (scikit-learn 1.9 warns and returns NaN; older releases raised);
- rates, curves and thresholds are float64 whatever the dtype of the scores
  (scikit-learn keeps float32 or integer thresholds in
  ``precision_recall_curve``; the values are the same).

Speed: the ranking metrics never argsort. Scores are split by label, each
half is sorted by value with ``np.sort`` (SIMD in NumPy), and a Numba kernel
merges the halves from the top, consuming each tied group at once.
"""

from __future__ import annotations

import warnings
from typing import Any, Literal, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fastdet._kernels import ranking as _k
from fastdet._validate import (
    as_float_array,
    as_labels,
    check_bool,
    check_choice,
    check_dense_size,
    to_numeric_array,
)

__all__ = [
    "UndefinedMetricWarning",
    "accuracy",
    "average_precision",
    "confusion_matrix",
    "precision_recall_curve",
    "precision_recall_f1",
    "roc_auc",
    "roc_curve",
]

Average = Literal["binary", "micro", "macro", "weighted"]
Normalize = Literal["true", "pred", "all"]
ZeroDivision = Literal["warn"] | float

_AVERAGES = ("binary", "micro", "macro", "weighted")
_NORMALIZE = ("true", "pred", "all")

#: Largest label span (max - min + 1) per sample counted through a dense lookup table;
#: wider label ranges go through ``np.unique`` / ``np.searchsorted`` instead.
_LUT_SPAN_PER_SAMPLE = 4
_LUT_MIN_SPAN = 1 << 16


class UndefinedMetricWarning(UserWarning):
    """A metric is ill-defined for the input (0/0); the documented fallback was used.

    A subclass of ``UserWarning`` raised in the same situations as
    scikit-learn's ``UndefinedMetricWarning``.
    """


# --------------------------------------------------------------------------- validation


def _as_class_labels(x: ArrayLike, name: str) -> NDArray[np.int64]:
    """Return 1-D integer class labels as int64 (bool accepted as 0/1)."""
    arr = np.asarray(x) if not isinstance(x, np.ndarray) else x
    if arr.dtype == np.bool_:
        arr = arr.astype(np.int64)
    arr = to_numeric_array(arr, name)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-dimensional, got shape {arr.shape}")
    return as_labels(arr, arr.shape[0], name)


def _check_same_length(a: NDArray[Any], b: NDArray[Any], name_a: str, name_b: str) -> None:
    if a.shape[0] != b.shape[0]:
        raise ValueError(
            f"{name_a} and {name_b} must have the same length, got {a.shape[0]} and {b.shape[0]}"
        )


def _as_binary_target(y_true: ArrayLike, n: int) -> NDArray[Any]:
    """Return ``y_true`` as a contiguous integer 0/1 array of length ``n``, or raise."""
    arr = y_true if isinstance(y_true, np.ndarray) else np.asarray(y_true)
    if arr.dtype == np.bool_:
        arr = np.asarray(arr, order="C").view(np.uint8)  # keeps a 0-d array 0-d
    arr = to_numeric_array(arr, "y_true")
    if arr.ndim != 1:
        raise ValueError(f"y_true must be 1-dimensional, got shape {arr.shape}")
    if arr.shape[0] != n:
        raise ValueError(f"y_true and y_score must have the same length, got {arr.shape[0]} and {n}")
    if n == 0:
        return np.zeros(0, np.uint8)
    if arr.dtype.kind == "f":
        ok = (arr == 0) | (arr == 1)
        if not ok.all():
            bad = arr[~ok][0]
            raise ValueError(f"y_true must hold only 0 and 1 (1 = positive), found {bad!r}")
        return (arr == 1).view(np.uint8)
    lo, hi = arr.min(), arr.max()
    if lo < 0 or hi > 1:
        bad = lo if lo < 0 else hi
        raise ValueError(f"y_true must hold only 0 and 1 (1 = positive), found {bad!r}")
    return np.ascontiguousarray(arr)


def _ranked(y_true: ArrayLike, y_score: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Validate a binary ranking problem; return ascending-sorted positive and negative scores."""
    scores = to_numeric_array(y_score, "y_score")
    if scores.ndim != 1:
        raise ValueError(f"y_score must be 1-dimensional, got shape {scores.shape}")
    n = scores.shape[0]
    y = _as_binary_target(y_true, n)
    if n == 0:
        raise ValueError("y_true and y_score are empty; at least one sample is required")
    s = as_float_array(scores, "y_score", dtype=np.float64)
    n_pos = int(np.count_nonzero(y))
    pos = np.empty(n_pos, np.float64)
    neg = np.empty(n - n_pos, np.float64)
    _k._split_by_label(y, s, pos, neg)
    pos.sort()
    neg.sort()
    return pos, neg


def _curve_counts(
    y_true: ArrayLike, y_score: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Return (thresholds descending, cumulative tps, cumulative fps), one entry per distinct score."""
    pos, neg = _ranked(y_true, y_score)
    n = pos.shape[0] + neg.shape[0]
    thresholds = np.empty(n, np.float64)
    tps = np.empty(n, np.float64)
    fps = np.empty(n, np.float64)
    m = _k._threshold_counts(pos, neg, thresholds, tps, fps)
    return thresholds[:m], tps[:m], fps[:m]


# --------------------------------------------------------------------------- ranking


def roc_curve(
    y_true: ArrayLike, y_score: ArrayLike, *, drop_intermediate: bool = True
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Receiver operating characteristic: false and true positive rates per threshold.

    Parameters
    ----------
    y_true : array_like of shape (n_samples,)
        Binary ground truth in {0, 1} (or bool); 1 is the positive class.
    y_score : array_like of shape (n_samples,)
        Finite scores; higher means more likely positive.
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
        Empty input, different lengths, NaN/inf scores, or ``y_true`` values
        other than 0 and 1.
    TypeError
        Non-numeric input.

    Warns
    -----
    UndefinedMetricWarning
        When ``y_true`` has no negatives (``fpr`` is all NaN) or no positives
        (``tpr`` is all NaN), as scikit-learn.

    Notes
    -----
    Tied scores form one threshold. Identical to
    ``sklearn.metrics.roc_curve(y_true, y_score, drop_intermediate=...)``.

    Examples
    --------
    >>> fpr, tpr, thr = roc_curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> fpr, tpr
    (array([0. , 0. , 0.5, 0.5, 1. ]), array([0. , 0.5, 0.5, 1. , 1. ]))
    >>> thr
    array([ inf, 0.8 , 0.4 , 0.35, 0.1 ])
    """
    drop_intermediate = check_bool(drop_intermediate, "drop_intermediate")
    thresholds, tps, fps = _curve_counts(y_true, y_score)
    if drop_intermediate and fps.shape[0] > 2:
        corner = (np.diff(fps, 2) != 0) | (np.diff(tps, 2) != 0)
        keep = np.flatnonzero(np.concatenate(([True], corner, [True])))
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
    tps = np.concatenate(([0.0], tps))
    fps = np.concatenate(([0.0], fps))
    thresholds = np.concatenate(([np.inf], thresholds))
    if fps[-1] <= 0:
        warnings.warn(
            "No negative samples in y_true; the false positive rate is undefined (NaN)",
            UndefinedMetricWarning,
            stacklevel=2,
        )
        fpr = np.full(fps.shape, np.nan)
    else:
        fpr = fps / fps[-1]
    if tps[-1] <= 0:
        warnings.warn(
            "No positive samples in y_true; the true positive rate is undefined (NaN)",
            UndefinedMetricWarning,
            stacklevel=2,
        )
        tpr = np.full(tps.shape, np.nan)
    else:
        tpr = tps / tps[-1]
    return fpr, tpr, thresholds


def roc_auc(y_true: ArrayLike, y_score: ArrayLike) -> float:
    """Area under the ROC curve (binary), with tied scores counted as half.

    Parameters
    ----------
    y_true : array_like of shape (n_samples,)
        Binary ground truth in {0, 1} (or bool); 1 is the positive class.
    y_score : array_like of shape (n_samples,)
        Finite scores; higher means more likely positive.

    Returns
    -------
    float
        The trapezoidal area under ``roc_curve``, in [0, 1].

    Raises
    ------
    ValueError
        Only one class present in ``y_true`` (AUC is undefined), empty input,
        different lengths, NaN/inf scores, ``y_true`` outside {0, 1}.
    TypeError
        Non-numeric input.

    Notes
    -----
    With P positives and N negatives, ``AUC = sum_g dN_g (2 TP_{g-1} + dP_g) /
    (2 P N)`` over groups g of tied scores in decreasing order, which is the
    trapezoid rule on the ROC curve (equivalently the Mann-Whitney U statistic
    over P N with ties counted one half). The sum is accumulated exactly in
    integers, so the only rounding is the final division; scikit-learn's
    ``roc_auc_score`` integrates the float curve and agrees to about 1e-15.
    scikit-learn 1.9 returns NaN with a warning for a single class; fastdet
    raises, as older scikit-learn releases did.

    Examples
    --------
    >>> roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    """
    pos, neg = _ranked(y_true, y_score)
    n_pos, n_neg = pos.shape[0], neg.shape[0]
    if n_pos == 0 or n_neg == 0:
        raise ValueError(
            "Only one class is present in y_true "
            f"({n_pos} positives, {n_neg} negatives); ROC AUC is not defined"
        )
    area = _k._roc_auc_twice_area(pos, neg)
    return float(area) / (2.0 * n_pos * n_neg)


def precision_recall_curve(
    y_true: ArrayLike, y_score: ArrayLike, *, drop_intermediate: bool = False
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Precision and recall for every distinct score threshold, as scikit-learn.

    Parameters
    ----------
    y_true : array_like of shape (n_samples,)
        Binary ground truth in {0, 1} (or bool); 1 is the positive class.
    y_score : array_like of shape (n_samples,)
        Finite scores; higher means more likely positive.
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
        Empty input, different lengths, NaN/inf scores, ``y_true`` outside {0, 1}.
    TypeError
        Non-numeric input.

    Warns
    -----
    UndefinedMetricWarning
        When ``y_true`` has no positives; recall is then 1 at every threshold,
        as scikit-learn (which warns with a plain ``UserWarning``).

    Notes
    -----
    ``precision = TP / (TP + FP)`` and ``recall = TP / P`` at each threshold;
    the final point (precision 1, recall 0) has no threshold. Identical to
    ``sklearn.metrics.precision_recall_curve`` 1.9.

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
    thresholds, tps, fps = _curve_counts(y_true, y_score)
    if drop_intermediate and fps.shape[0] > 2:
        changes = (np.diff(tps[:-1]) != 0) | (np.diff(tps[1:]) != 0)
        keep = np.flatnonzero(np.concatenate(([True], changes, [True])))
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
    precision = tps / (tps + fps)  # every threshold holds at least one sample
    if tps[-1] == 0:
        warnings.warn(
            "No positive samples in y_true; recall is set to 1 for all thresholds",
            UndefinedMetricWarning,
            stacklevel=2,
        )
        recall = np.ones(tps.shape)
    else:
        recall = tps / tps[-1]
    return (
        np.concatenate((precision[::-1], [1.0])),
        np.concatenate((recall[::-1], [0.0])),
        np.ascontiguousarray(thresholds[::-1]),
    )


def average_precision(y_true: ArrayLike, y_score: ArrayLike) -> float:
    """Average precision: the step-wise area under the precision-recall curve.

    Parameters
    ----------
    y_true : array_like of shape (n_samples,)
        Binary ground truth in {0, 1} (or bool); 1 is the positive class.
    y_score : array_like of shape (n_samples,)
        Finite scores; higher means more likely positive.

    Returns
    -------
    float
        ``AP = sum_k (R_k - R_{k-1}) P_k`` over thresholds k in decreasing order
        (no interpolation), in [0, 1].

    Raises
    ------
    ValueError
        Empty input, different lengths, NaN/inf scores, ``y_true`` outside {0, 1}.
    TypeError
        Non-numeric input.

    Warns
    -----
    UndefinedMetricWarning
        When ``y_true`` has no positives; the result is then 0.0, which is
        what scikit-learn's ``average_precision_score`` returns (with a warning).

    Notes
    -----
    The definition of ``sklearn.metrics.average_precision_score`` for binary
    input: tied scores form one threshold; unlike the VOC AP (``fastdet.voc``)
    precision is not made monotone. With all samples positive the AP is 1.

    Examples
    --------
    >>> round(average_precision([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 4)
    0.8333
    """
    pos, neg = _ranked(y_true, y_score)
    if pos.shape[0] == 0:
        warnings.warn(
            "No positive samples in y_true; average precision is set to 0.0",
            UndefinedMetricWarning,
            stacklevel=2,
        )
        return 0.0
    return max(0.0, float(_k._average_precision(pos, neg)))


# --------------------------------------------------------------------------- confusion family


def _class_pair(y_true: ArrayLike, y_pred: ArrayLike) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    t = _as_class_labels(y_true, "y_true")
    p = _as_class_labels(y_pred, "y_pred")
    _check_same_length(t, p, "y_true", "y_pred")
    return t, p


def _check_labels(labels: ArrayLike) -> NDArray[np.int64]:
    lab = _as_class_labels(labels, "labels")
    if lab.shape[0] == 0:
        raise ValueError("labels must contain at least one label")
    if np.unique(lab).shape[0] != lab.shape[0]:
        raise ValueError(f"labels must not repeat a label, got {lab.tolist()}")
    return lab


def _count_matrix(
    t: NDArray[np.int64], p: NDArray[np.int64], labels: NDArray[np.int64] | None
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Count (true, pred) pairs over ``labels`` (None: the sorted labels present).

    Returns (matrix (K, K) int64, labels (K,)). Pairs with a label outside
    ``labels`` are not counted. Requires len(t) == len(p) > 0.
    """
    n = t.shape[0]
    if labels is not None:
        _check_matrix_size(labels.shape[0])
    lo = int(min(t.min(), p.min()))
    hi = int(max(t.max(), p.max()))
    span = hi - lo + 1
    if span <= max(_LUT_MIN_SPAN, _LUT_SPAN_PER_SAMPLE * n):
        if labels is None:
            present = np.zeros(span, np.bool_)
            _k._mark_present(t, lo, present)
            _k._mark_present(p, lo, present)
            where = np.flatnonzero(present)
            _check_matrix_size(where.shape[0])
            labels = where.astype(np.int64) + lo
            lut = np.full(span, -1, np.int64)
            lut[where] = np.arange(where.shape[0])
        else:
            lut = np.full(span, -1, np.int64)
            inside = (labels >= lo) & (labels <= hi)
            lut[labels[inside] - lo] = np.flatnonzero(inside)
        out = np.zeros((labels.shape[0], labels.shape[0]), np.int64)
        _k._confusion_lut(t, p, lut, lo, out)
        return out, labels
    # A very wide label range: map labels to indices by binary search.
    if labels is None:
        labels = np.unique(np.concatenate((t, p)))
        _check_matrix_size(labels.shape[0])
    order = np.argsort(labels, kind="stable")
    sorted_labels = labels[order]
    out = np.zeros((labels.shape[0], labels.shape[0]), np.int64)
    _k._confusion_index(_index_of(t, sorted_labels, order), _index_of(p, sorted_labels, order), out)
    return out, labels


def _check_matrix_size(k: int) -> None:
    """Refuse a (k, k) count matrix that would not fit (one class per distinct label)."""
    check_dense_size((k, k), f"the confusion matrix of {k} distinct labels")


def _index_of(
    values: NDArray[np.int64], sorted_labels: NDArray[np.int64], order: NDArray[np.intp]
) -> NDArray[np.int64]:
    """Position of each value in the original ``labels`` order, -1 when absent."""
    pos = np.searchsorted(sorted_labels, values)
    pos_c = np.minimum(pos, sorted_labels.shape[0] - 1)
    found = sorted_labels[pos_c] == values
    return np.where(found, order[pos_c], -1).astype(np.int64)


def confusion_matrix(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    labels: ArrayLike | None = None,
    normalize: Normalize | None = None,
) -> NDArray[Any]:
    """Confusion matrix: ``C[i, j]`` counts samples of true class i predicted as class j.

    Parameters
    ----------
    y_true, y_pred : array_like of shape (n_samples,)
        Integer class labels (floats holding whole numbers and bool accepted).
    labels : array_like of shape (n_classes,), optional
        The classes to index the matrix by, in this order. Samples whose true
        or predicted class is not listed are not counted. Default: the sorted
        union of the classes in ``y_true`` and ``y_pred``.
    normalize : {"true", "pred", "all"}, optional
        Divide by the row sums ("true"), the column sums ("pred") or the total
        ("all"); 0/0 gives 0. Default: raw counts.

    Returns
    -------
    ndarray of shape (n_classes, n_classes)
        int64 counts, or float64 when ``normalize`` is given.

    Raises
    ------
    ValueError
        Different lengths, non-integer labels, ``labels`` empty, repeated, or
        with no label present in ``y_true`` (as scikit-learn), unknown
        ``normalize``, or so many distinct labels that the matrix would not fit
        in memory (``fastdet._config.MAX_DENSE_ELEMENTS``).
    TypeError
        Non-numeric input.

    Notes
    -----
    Equal to ``sklearn.metrics.confusion_matrix`` for integer labels. Empty
    input gives an all-zero ``(K, K)`` matrix (``K = len(labels)``, 0 without
    ``labels``), where scikit-learn raises; scikit-learn's warning for a 1x1
    result is not issued. The counting kernel maps labels through a dense
    lookup table when the label range is not much larger than the input
    (one pass over the data, no sort).

    Examples
    --------
    >>> confusion_matrix([2, 0, 2, 2, 0, 1], [0, 0, 2, 2, 0, 2])
    array([[2, 0, 0],
           [0, 0, 1],
           [1, 0, 2]])
    """
    if normalize is not None:
        check_choice(normalize, "normalize", _NORMALIZE)
    t, p = _class_pair(y_true, y_pred)
    lab = None if labels is None else _check_labels(labels)
    if t.shape[0] == 0:
        k = 0 if lab is None else lab.shape[0]
        _check_matrix_size(k)
        return np.zeros((k, k), np.int64 if normalize is None else np.float64)
    if lab is not None and not np.isin(lab, t).any():
        raise ValueError("At least one label in labels must be present in y_true")
    cm, _ = _count_matrix(t, p, lab)
    if normalize is None:
        return cm
    with np.errstate(all="ignore"):
        if normalize == "true":
            out = cm / cm.sum(axis=1, keepdims=True)
        elif normalize == "pred":
            out = cm / cm.sum(axis=0, keepdims=True)
        else:
            out = cm / cm.sum()
    return np.nan_to_num(out)


def accuracy(y_true: ArrayLike, y_pred: ArrayLike, *, normalize: bool = True) -> float:
    """Fraction (or number) of samples whose predicted class equals the true class.

    Parameters
    ----------
    y_true, y_pred : array_like of shape (n_samples,)
        Integer class labels (floats holding whole numbers and bool accepted).
    normalize : bool, default True
        Return the fraction; if False, the number of correct samples.

    Returns
    -------
    float
        ``mean(y_true == y_pred)``, or the count as a float.

    Raises
    ------
    ValueError
        Empty input (as scikit-learn), different lengths, non-integer labels.
    TypeError
        Non-numeric input.

    Notes
    -----
    ``sklearn.metrics.accuracy_score`` for 1-D labels.

    Examples
    --------
    >>> accuracy([0, 1, 2, 3], [0, 2, 1, 3])
    0.5
    """
    normalize = check_bool(normalize, "normalize")
    t, p = _class_pair(y_true, y_pred)
    if t.shape[0] == 0:
        raise ValueError("y_true and y_pred are empty; at least one sample is required")
    correct = int(np.count_nonzero(t == p))
    return correct / t.shape[0] if normalize else float(correct)


@overload
def precision_recall_f1(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    average: None,
    pos_label: int = ...,
    labels: ArrayLike | None = ...,
    zero_division: ZeroDivision = ...,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]: ...
@overload
def precision_recall_f1(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    average: Average = ...,
    pos_label: int = ...,
    labels: ArrayLike | None = ...,
    zero_division: ZeroDivision = ...,
) -> tuple[float, float, float]: ...
def precision_recall_f1(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    average: Average | None = "binary",
    pos_label: int = 1,
    labels: ArrayLike | None = None,
    zero_division: ZeroDivision = "warn",
) -> tuple[Any, Any, Any]:
    """Precision, recall and F1 score, per class or averaged, as scikit-learn.

    Parameters
    ----------
    y_true, y_pred : array_like of shape (n_samples,)
        Integer class labels (floats holding whole numbers and bool accepted).
    average : {"binary", "micro", "macro", "weighted"} or None, default "binary"
        ``"binary"``: the scores of class ``pos_label`` (at most two classes
        may appear in ``y_true`` and ``y_pred``). ``"micro"``: from the total
        TP, FP and FN over the classes. ``"macro"``: the unweighted mean of the
        per-class scores. ``"weighted"``: the mean weighted by each class's
        number of true samples. ``None``: per-class arrays.
    pos_label : int, default 1
        The positive class for ``average="binary"``; ignored otherwise.
    labels : array_like of shape (n_classes,), optional
        The classes to report and average over (default: the sorted union of
        the classes present). A listed class that never occurs scores 0/0.
    zero_division : {"warn", 0.0, 1.0, nan}, default "warn"
        The value of a 0/0 score. ``"warn"`` gives 0.0 and an
        ``UndefinedMetricWarning``; with ``nan`` the undefined scores are left
        out of the averages.

    Returns
    -------
    precision, recall, f1 : float, or ndarray of shape (n_classes,) if ``average`` is None
        In the order of ``labels``.

    Raises
    ------
    ValueError
        Empty input, different lengths, non-integer labels, an unknown
        ``average`` or ``zero_division``, ``average="binary"`` with more than
        two classes or with ``pos_label`` absent while two classes are present,
        or so many distinct labels that their confusion matrix would not fit in
        memory.
    TypeError
        Non-numeric input.

    Warns
    -----
    UndefinedMetricWarning
        With ``zero_division="warn"``, when a precision has no predicted
        samples, a recall no true samples, or an F1 neither.

    Notes
    -----
    Per class, ``precision = TP / (TP + FP)``, ``recall = TP / (TP + FN)`` and
    ``F1 = 2 TP / (2 TP + FP + FN)`` (the harmonic mean of precision and
    recall, defined through counts so that it is 0, not 0/0, when only one
    of them is undefined). This is ``sklearn.metrics.precision_recall_fscore_support``
    without the support, including its zero-division rules.

    Examples
    --------
    >>> precision_recall_f1([0, 1, 1, 0], [0, 1, 0, 0])
    (1.0, 0.5, 0.6666666666666666)
    >>> p, r, f = precision_recall_f1([0, 1, 2, 2], [0, 2, 2, 2], average=None, zero_division=0.0)
    >>> p, r
    (array([1.        , 0.        , 0.66666667]), array([1., 0., 1.]))
    """
    if average is not None:
        check_choice(average, "average", _AVERAGES)
    zero_value = _check_zero_division(zero_division)
    t, p = _class_pair(y_true, y_pred)
    if t.shape[0] == 0:
        raise ValueError("y_true and y_pred are empty; at least one sample is required")
    cm, present = _count_matrix(t, p, None)
    if average == "binary":
        if isinstance(pos_label, (bool, np.bool_)) or not isinstance(pos_label, (int, np.integer)):
            raise TypeError(f"pos_label must be an integer, got {type(pos_label).__name__}")
        if present.shape[0] > 2:
            raise ValueError(
                f"average='binary' needs at most two classes, found {present.shape[0]} "
                f"({present.tolist()}); choose average='micro', 'macro', 'weighted' or None"
            )
        if present.shape[0] == 2 and pos_label not in present:
            raise ValueError(
                f"pos_label={pos_label} is not a valid label; it should be one of {present.tolist()}"
            )
        lab = np.array([pos_label], np.int64)
    elif labels is not None:
        lab = _check_labels(labels)
    else:
        lab = present
    # Per-class counts for the requested labels (a class absent from the data counts 0).
    tp_all = np.diag(cm)
    pred_all = cm.sum(axis=0)
    true_all = cm.sum(axis=1)
    idx = np.minimum(np.searchsorted(present, lab), present.shape[0] - 1)
    found = present[idx] == lab
    tp_sum = np.where(found, tp_all[idx], 0)
    pred_sum = np.where(found, pred_all[idx], 0)
    true_sum = np.where(found, true_all[idx], 0)
    if average == "micro":
        tp_sum, pred_sum, true_sum = (np.array([x.sum()]) for x in (tp_sum, pred_sum, true_sum))

    warn = zero_division == "warn"
    precision = _prf_divide(tp_sum, pred_sum, zero_value, warn, "Precision", "predicted")
    recall = _prf_divide(tp_sum, true_sum, zero_value, warn, "Recall", "true")
    f1 = _prf_divide(
        2.0 * tp_sum, 1.0 * true_sum + pred_sum, zero_value, warn, "F-score", "true nor predicted"
    )
    if average is None:
        return precision, recall, f1
    weights = true_sum if average == "weighted" else None
    return (
        _nanaverage(precision, weights),
        _nanaverage(recall, weights),
        _nanaverage(f1, weights),
    )


def _check_zero_division(value: Any) -> float:
    if isinstance(value, str):
        if value == "warn":
            return 0.0
    elif isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        if np.isnan(value):
            return float("nan")
        if value in (0, 1):
            return float(value)
    raise ValueError(f"zero_division must be 'warn', 0.0, 1.0 or nan; got {value!r}")


def _prf_divide(
    num: NDArray[Any], den: NDArray[Any], zero_value: float, warn: bool, what: str, modifier: str
) -> NDArray[np.float64]:
    """num / den with 0/0 replaced by ``zero_value`` (and a warning when asked)."""
    mask = den == 0
    out = np.asarray(num, np.float64) / np.where(mask, 1.0, den)
    if mask.any():
        out[mask] = zero_value
        if warn:
            where = "due to" if out.shape[0] == 1 else "in labels with"
            warnings.warn(
                f"{what} is ill-defined and being set to 0.0 {where} no {modifier} samples. "
                "Use the zero_division parameter to control this behavior.",
                UndefinedMetricWarning,
                stacklevel=3,
            )
    return out


def _nanaverage(a: NDArray[np.float64], weights: NDArray[Any] | None) -> float:
    """Mean (weighted when given) ignoring NaN; NaN if nothing is left; equal weights if all 0."""
    keep = ~np.isnan(a)
    if not keep.any():
        return float("nan")
    a = a[keep]
    if weights is not None:
        w = weights[keep]
        if w.sum() != 0:
            return float(np.average(a, weights=w))
    return float(np.mean(a))
