"""The confusion family: confusion matrix, accuracy, precision / recall / F1."""

from __future__ import annotations

from typing import Any, Literal, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fastdet import _validate
from fastdet._kernels import labels as _k
from fastdet._validate import check_bool, check_choice, check_dense_size
from fastdet.metrics._common import (
    UndefinedMetricWarning,
    as_label_array,
    as_sample_weight,
    check_pos_label,
    check_same_kind,
    codes_of,
    encode_labels,
    is_str,
    label_list,
    nanaverage,
    warn,
)

__all__ = ["accuracy", "confusion_matrix", "precision_recall_f1"]

Average = Literal["binary", "micro", "macro", "weighted"]
Normalize = Literal["true", "pred", "all"]
ZeroDivision = Literal["warn"] | float

_AVERAGES = ("binary", "micro", "macro", "weighted")
_NORMALIZE = ("true", "pred", "all")

#: Largest label span (max - min + 1) per sample counted through a dense lookup table;
#: wider label ranges go through ``np.unique`` / ``np.searchsorted`` instead.
_LUT_SPAN_PER_SAMPLE = 4
_LUT_MIN_SPAN = 1 << 16
#: Without ``labels``, counts go straight into a (span, span) matrix when it has at most
#: max(this, n_samples) cells (one pass, no presence pass before it).
_DENSE_MIN_CELLS = 1 << 12


# --------------------------------------------------------------------------- validation


def _label_pair(y_true: ArrayLike, y_pred: ArrayLike) -> tuple[NDArray[Any], NDArray[Any]]:
    t = as_label_array(y_true, "y_true")
    p = as_label_array(y_pred, "y_pred")
    if t.shape[0] != p.shape[0]:
        raise ValueError(f"y_true and y_pred must have the same length, got {t.shape[0]} and {p.shape[0]}")
    check_same_kind(t, p, "y_true", "y_pred")
    return t, p


def _user_labels(labels: ArrayLike) -> NDArray[Any]:
    """A user's ``labels``: non-empty, no repeats."""
    lab = as_label_array(labels, "labels")
    if lab.shape[0] == 0:
        raise ValueError("labels must contain at least one label")
    if np.unique(lab).shape[0] != lab.shape[0]:
        raise ValueError(f"labels must not repeat a label, got {lab.tolist()}")
    return lab


def _check_labels(labels: ArrayLike, classes: NDArray[Any] | None) -> NDArray[np.int64]:
    """The codes (see ``encode_labels``) of a user's ``labels``."""
    return codes_of(_user_labels(labels), classes, "labels")


def _count_matrix(
    t: NDArray[np.int64],
    p: NDArray[np.int64],
    labels: NDArray[np.int64] | None,
    weights: NDArray[np.float64] | None,
) -> tuple[NDArray[Any], NDArray[np.int64]]:
    """Count (true, pred) pairs over ``labels`` (None: the sorted labels present).

    Returns (matrix (K, K), labels (K,)): int64 counts, or float64 sums of
    ``weights`` (added in input order, as scikit-learn's sparse sum does).
    Pairs with a label outside ``labels`` are not counted. Requires
    len(t) == len(p) > 0.
    """
    n = t.shape[0]
    if labels is not None:
        _check_matrix_size(labels.shape[0])
    lo, hi = (int(v) for v in _k._label_bounds(t, p))
    span = hi - lo + 1
    dtype = np.int64 if weights is None else np.float64
    dense_ok = span * span <= min(max(_DENSE_MIN_CELLS, n), _validate.MAX_DENSE_ELEMENTS)
    if labels is None and dense_ok:
        # a matrix over the whole label range, filled in one pass; the rows and columns of the
        # labels that occur are kept (each cell is the same sum, in the same order)
        full = np.zeros((span, span), dtype)
        present_u8 = np.zeros(span, np.uint8)
        if weights is None:
            _k._confusion_dense(t, p, lo, full, present_u8)
        else:
            _k._confusion_dense_weighted(t, p, weights, lo, full, present_u8)
        where = np.flatnonzero(present_u8)
        return np.ascontiguousarray(full[np.ix_(where, where)]), where.astype(np.int64) + lo
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
        out = np.zeros((labels.shape[0], labels.shape[0]), dtype)
        if weights is None:
            _k._confusion_lut(t, p, lut, lo, out)
        else:
            _k._confusion_lut_weighted(t, p, weights, lut, lo, out)
        return out, labels
    # A very wide label range: map labels to indices by binary search.
    if labels is None:
        labels = np.unique(np.concatenate((t, p)))
        _check_matrix_size(labels.shape[0])
    order = np.argsort(labels, kind="stable")
    sorted_labels = labels[order]
    ti = _index_of(t, sorted_labels, order)
    pi = _index_of(p, sorted_labels, order)
    out = np.zeros((labels.shape[0], labels.shape[0]), dtype)
    if weights is None:
        _k._confusion_index(ti, pi, out)
    else:
        _k._confusion_index_weighted(ti, pi, weights, out)
    return out, labels


def _weighted_class_sums(
    t: NDArray[np.int64], p: NDArray[np.int64], weights: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
    """(true-positive, predicted, true) sums of ``weights`` per label, and the sorted labels of
    ``t`` and ``p`` they are for; each sum in input order, as scikit-learn's ``np.bincount``.
    Requires len(t) == len(p) > 0."""
    lo, hi = (int(v) for v in _k._label_bounds(t, p))
    span = hi - lo + 1
    if span <= max(_LUT_MIN_SPAN, _LUT_SPAN_PER_SAMPLE * t.shape[0]):
        sums = np.zeros((3, span), np.float64)
        present_u8 = np.zeros(span, np.uint8)
        _k._class_sums_weighted(t, p, weights, lo, sums, present_u8)
        where = np.flatnonzero(present_u8)
        _check_matrix_size(where.shape[0])
        return sums[0, where], sums[1, where], sums[2, where], where.astype(np.int64) + lo
    present = np.unique(np.concatenate((t, p)))  # a very wide label range: indices by binary search
    k = present.shape[0]
    _check_matrix_size(k)
    ti = np.searchsorted(present, t)
    pi = np.searchsorted(present, p)
    diag = ti == pi
    tp, pred, true = (
        np.bincount(i, weights=v, minlength=k).astype(np.float64, copy=False)
        for i, v in ((ti[diag], weights[diag]), (pi, weights), (ti, weights))
    )
    return tp, pred, true, present


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


def _integer_sums(cm: NDArray[np.float64], weights: NDArray[np.float64]) -> NDArray[np.int64]:
    """Sums of integer weights (computed in float64) as int64, refusing any that were not exact."""
    if float(np.abs(weights).sum()) >= 2.0**53:
        raise ValueError("sample_weight holds integers whose sum is too large to be exact in float64 (2**53)")
    return cm.astype(np.int64)


# --------------------------------------------------------------------------- confusion matrix


def confusion_matrix(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    labels: ArrayLike | None = None,
    sample_weight: ArrayLike | None = None,
    normalize: Normalize | None = None,
) -> NDArray[Any]:
    """Confusion matrix: ``C[i, j]`` counts samples of true class i predicted as class j.

    Parameters
    ----------
    y_true, y_pred : array_like of shape (n_samples,)
        Class labels: integers (floats holding whole numbers and bool accepted)
        or strings (``str`` or object arrays of ``str``); both of the same kind.
    labels : array_like of shape (n_classes,), optional
        The classes to index the matrix by, in this order. Samples whose true
        or predicted class is not listed are not counted. Default: the sorted
        union of the classes in ``y_true`` and ``y_pred``.
    sample_weight : array_like of shape (n_samples,), optional
        Each sample counts its weight instead of 1 (finite; negative weights
        are accepted, as scikit-learn; not all zero).
    normalize : {"true", "pred", "all"}, optional
        Divide by the row sums ("true"), the column sums ("pred") or the total
        ("all"); 0/0 gives 0. Default: raw counts.

    Returns
    -------
    ndarray of shape (n_classes, n_classes)
        int64 counts (also for integer or bool weights), float64 for float
        weights or when ``normalize`` is given, as scikit-learn.

    Raises
    ------
    ValueError
        Different lengths, non-integer numbers, a mix of string and number
        labels (``labels`` included), ``labels`` empty, repeated, or with no
        label present in ``y_true`` (as scikit-learn), bad ``sample_weight``,
        unknown ``normalize``, or so many distinct labels that the matrix would
        not fit in memory (``fastdet._config.MAX_DENSE_ELEMENTS``).
    TypeError
        Labels that are neither numbers nor strings (bytes included, as
        scikit-learn).

    Warns
    -----
    UserWarning
        When the matrix is 1x1 because a single label occurs and no ``labels``
        were given, as scikit-learn (which also warns for ``labels`` of one label).

    Notes
    -----
    Equal to ``sklearn.metrics.confusion_matrix``; weights are added in input
    order, as its sparse-matrix sum does. Empty input gives an all-zero
    ``(K, K)`` matrix (``K = len(labels)``, 0 without ``labels``), where
    scikit-learn raises. Repeated ``labels`` raise, where scikit-learn
    silently counts the first occurrence only. The counting kernel maps labels
    through a dense lookup table when the label range is not much larger than
    the input (one pass over the data, no sort).

    Examples
    --------
    >>> confusion_matrix([2, 0, 2, 2, 0, 1], [0, 0, 2, 2, 0, 2])
    array([[2, 0, 0],
           [0, 0, 1],
           [1, 0, 2]])
    >>> confusion_matrix(["cat", "dog", "dog"], ["cat", "cat", "dog"], sample_weight=[1.0, 0.5, 2.0])
    array([[1. , 0. ],
           [0.5, 2. ]])
    """
    if normalize is not None:
        check_choice(normalize, "normalize", _NORMALIZE)
    t, p = _label_pair(y_true, y_pred)
    w, w_int = as_sample_weight(sample_weight, t.shape[0])
    float_out = normalize is not None or (w is not None and not w_int)
    if t.shape[0] == 0:  # no data: any labels give an all-zero matrix
        k = 0 if labels is None else _user_labels(labels).shape[0]
        _check_matrix_size(k)
        return np.zeros((k, k), np.float64 if float_out else np.int64)
    tc, pc, classes = encode_labels(t, p)
    lab = None if labels is None else _check_labels(labels, classes)
    if lab is not None and not np.isin(lab, tc).any():
        raise ValueError("At least one label in labels must be present in y_true")
    cm, _ = _count_matrix(tc, pc, lab, w)
    if w is not None and w_int:
        cm = _integer_sums(cm, w)
    if cm.shape == (1, 1) and labels is None:
        warn(
            "A single label was found in 'y_true' and 'y_pred'. For the confusion matrix to have "
            "the correct shape, use the 'labels' parameter to pass all known labels.",
            UserWarning,
        )
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


# --------------------------------------------------------------------------- accuracy


def accuracy(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    normalize: bool = True,
    sample_weight: ArrayLike | None = None,
) -> float:
    """Fraction (or number) of samples whose predicted class equals the true class.

    Parameters
    ----------
    y_true, y_pred : array_like of shape (n_samples,)
        Class labels: integers (floats holding whole numbers and bool accepted)
        or strings; both of the same kind.
    normalize : bool, default True
        Return the fraction; if False, the number (or total weight) of correct samples.
    sample_weight : array_like of shape (n_samples,), optional
        Per-sample weights (finite, not all zero).

    Returns
    -------
    float
        ``sum(w * (y_true == y_pred)) / sum(w)`` (w = 1 without weights), or the
        numerator alone.

    Raises
    ------
    ValueError
        Empty input (as scikit-learn), different lengths, non-integer numbers,
        a mix of string and number labels, bad ``sample_weight``, weights that
        sum to 0 with ``normalize`` (scikit-learn raises ``ZeroDivisionError``).
    TypeError
        Labels that are neither numbers nor strings.

    Notes
    -----
    ``sklearn.metrics.accuracy_score`` for 1-D labels (the weighted mean is
    ``np.average``, as there).

    Examples
    --------
    >>> accuracy([0, 1, 2, 3], [0, 2, 1, 3])
    0.5
    >>> accuracy(["a", "b", "b"], ["a", "a", "b"], sample_weight=[2, 1, 1])
    0.75
    """
    normalize = check_bool(normalize, "normalize")
    t, p = _label_pair(y_true, y_pred)
    n = t.shape[0]
    if n == 0:
        raise ValueError("y_true and y_pred are empty; at least one sample is required")
    w, _ = as_sample_weight(sample_weight, n)
    same = t == p
    if w is None:
        correct = int(np.count_nonzero(same))
        return correct / n if normalize else float(correct)
    if not normalize:
        return float(np.dot(same, w))
    if w.sum() == 0:
        raise ValueError("sample_weight sums to 0; the weighted accuracy is not defined")
    return float(np.average(same, weights=w))


# --------------------------------------------------------------------------- precision, recall, F1


@overload
def precision_recall_f1(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    average: None,
    pos_label: Any = ...,
    labels: ArrayLike | None = ...,
    sample_weight: ArrayLike | None = ...,
    zero_division: ZeroDivision = ...,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]: ...
@overload
def precision_recall_f1(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    average: Average = ...,
    pos_label: Any = ...,
    labels: ArrayLike | None = ...,
    sample_weight: ArrayLike | None = ...,
    zero_division: ZeroDivision = ...,
) -> tuple[float, float, float]: ...
def precision_recall_f1(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    average: Average | None = "binary",
    pos_label: Any = 1,
    labels: ArrayLike | None = None,
    sample_weight: ArrayLike | None = None,
    zero_division: ZeroDivision = "warn",
) -> tuple[Any, Any, Any]:
    """Precision, recall and F1 score, per class or averaged, as scikit-learn.

    Parameters
    ----------
    y_true, y_pred : array_like of shape (n_samples,)
        Class labels: integers (floats holding whole numbers and bool accepted)
        or strings; both of the same kind.
    average : {"binary", "micro", "macro", "weighted"} or None, default "binary"
        ``"binary"``: the scores of class ``pos_label`` (at most two classes
        may appear in ``y_true`` and ``y_pred``). ``"micro"``: from the total
        TP, FP and FN over the classes. ``"macro"``: the unweighted mean of the
        per-class scores. ``"weighted"``: the mean weighted by each class's
        number (total weight) of true samples. ``None``: per-class arrays.
    pos_label : int, float, bool or str, default 1
        The positive class for ``average="binary"``. Otherwise ignored, with a
        ``UserWarning`` when it is not 1 or None (as scikit-learn).
    labels : array_like of shape (n_classes,), optional
        The classes to report and average over (default: the sorted union of
        the classes present). A listed class that never occurs scores 0/0.
    sample_weight : array_like of shape (n_samples,), optional
        Per-sample weights: TP, FP and FN become sums of weights.
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
        Empty input, different lengths, non-integer numbers, a mix of string
        and number labels (``labels`` and ``pos_label`` included), an unknown
        ``average`` or ``zero_division``, ``average="binary"`` with more than
        two classes or with ``pos_label`` absent while two classes are present,
        bad ``sample_weight``, or so many distinct labels that their confusion
        matrix would not fit in memory.
    TypeError
        Labels that are neither numbers nor strings, a ``pos_label`` of another type.

    Warns
    -----
    UndefinedMetricWarning
        With ``zero_division="warn"``, when a precision has no predicted
        samples, a recall no true samples, or an F1 neither.
    UserWarning
        ``pos_label`` other than 1 or None with ``average`` other than "binary".

    Notes
    -----
    Per class, ``precision = TP / (TP + FP)``, ``recall = TP / (TP + FN)`` and
    ``F1 = 2 TP / (2 TP + FP + FN)`` (the harmonic mean of precision and
    recall, defined through counts so that it is 0, not 0/0, when only one
    of them is undefined). This is ``sklearn.metrics.precision_recall_fscore_support``
    without the support, including its zero-division rules; with weights the
    per-class sums are added in input order and combined as scikit-learn
    combines them, so the results are its bits.

    Examples
    --------
    >>> precision_recall_f1([0, 1, 1, 0], [0, 1, 0, 0])
    (1.0, 0.5, 0.6666666666666666)
    >>> p, r, f = precision_recall_f1([0, 1, 2, 2], [0, 2, 2, 2], average=None, zero_division=0.0)
    >>> p, r
    (array([1.        , 0.        , 0.66666667]), array([1., 0., 1.]))
    >>> precision_recall_f1(["no", "yes", "yes"], ["no", "yes", "no"], pos_label="yes")
    (1.0, 0.5, 0.6666666666666666)
    """
    if average is not None:
        check_choice(average, "average", _AVERAGES)
    zero_value = _check_zero_division(zero_division)
    pos_label = check_pos_label(pos_label) if pos_label is not None else None
    t, p = _label_pair(y_true, y_pred)
    if t.shape[0] == 0:
        raise ValueError("y_true and y_pred are empty; at least one sample is required")
    w, _ = as_sample_weight(sample_weight, t.shape[0])
    tc, pc, classes = encode_labels(t, p)
    if w is None:
        cm, present = _count_matrix(tc, pc, None, None)
        tp_all, pred_all, true_all = np.diag(cm), cm.sum(axis=0), cm.sum(axis=1)
    else:
        # scikit-learn's float sums: each class's weights added in input order (its bincounts), then
        # through its multilabel confusion matrix, fp = pred - tp and pred = tp + fp (likewise true)
        tp_all, pred_w, true_w, present = _weighted_class_sums(tc, pc, w)
        pred_all = tp_all + (pred_w - tp_all)
        true_all = tp_all + (true_w - tp_all)
    if average == "binary":
        lab = _binary_label(pos_label, present, classes, is_str(t))
    else:
        if pos_label is not None and not (pos_label == 1 and not isinstance(pos_label, str)):
            warn(
                f"Note that pos_label (set to {pos_label!r}) is ignored when average != 'binary' "
                f"(got {average!r}). You may use labels=[pos_label] to specify a single positive class.",
                UserWarning,
            )
        lab = present if labels is None else _check_labels(labels, classes)
    # Per-class sums for the requested labels (a class absent from the data sums to 0).
    idx = np.minimum(np.searchsorted(present, lab), present.shape[0] - 1)
    found = present[idx] == lab
    tp_sum = np.where(found, tp_all[idx], 0)
    pred_sum = np.where(found, pred_all[idx], 0)
    true_sum = np.where(found, true_all[idx], 0)
    if average == "micro":
        tp_sum, pred_sum, true_sum = (np.array([x.sum()]) for x in (tp_sum, pred_sum, true_sum))

    is_warn = zero_division == "warn"
    precision = _prf_divide(tp_sum, pred_sum, zero_value, is_warn, "Precision", "predicted")
    recall = _prf_divide(tp_sum, true_sum, zero_value, is_warn, "Recall", "true")
    f1 = _prf_divide(
        2.0 * tp_sum, 1.0 * true_sum + pred_sum, zero_value, is_warn, "F-score", "true nor predicted"
    )
    if average is None:
        return precision, recall, f1
    weights = true_sum if average == "weighted" else None
    return nanaverage(precision, weights), nanaverage(recall, weights), nanaverage(f1, weights)


def _binary_label(
    pos_label: Any, present: NDArray[np.int64], classes: NDArray[Any] | None, strings: bool
) -> NDArray[np.int64]:
    """The code of ``pos_label`` for ``average="binary"``.

    A ``pos_label`` absent from the data is accepted when at most one class is
    present (its scores are then 0/0), as scikit-learn; it gets a code that no
    sample has.
    """
    shown = present if classes is None else classes[present]
    if present.shape[0] > 2:
        raise ValueError(
            f"average='binary' needs at most two classes, found {present.shape[0]} "
            f"({label_list(shown)}); choose average='micro', 'macro', 'weighted' or None"
        )
    kind_ok = pos_label is not None and isinstance(pos_label, str) == strings
    code: int | None = None
    if kind_ok and classes is not None:
        code = int(codes_of(np.array([pos_label]), classes, "pos_label")[0])
    elif kind_ok and float(pos_label).is_integer() and abs(float(pos_label)) < 2.0**63:
        code = int(pos_label)
    if code is not None and code in present:
        return np.array([code], np.int64)
    if present.shape[0] == 2 or not kind_ok:
        raise ValueError(
            f"pos_label={pos_label!r} is not a valid label; it should be one of {label_list(shown)}"
        )
    absent = int(present.max()) + 1 if present.max() < np.iinfo(np.int64).max else int(present.min()) - 1
    return np.array([code if code is not None else absent], np.int64)


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
    num: NDArray[Any], den: NDArray[Any], zero_value: float, is_warn: bool, what: str, modifier: str
) -> NDArray[np.float64]:
    """num / den with 0/0 replaced by ``zero_value`` (and a warning when asked)."""
    mask = den == 0
    out = np.asarray(num, np.float64) / np.where(mask, 1.0, den)
    if mask.any():
        out[mask] = zero_value
        if is_warn:
            where = "due to" if out.shape[0] == 1 else "in labels with"
            warn(
                f"{what} is ill-defined and being set to 0.0 {where} no {modifier} samples. "
                "Use the zero_division parameter to control this behavior.",
                UndefinedMetricWarning,
            )
    return out
