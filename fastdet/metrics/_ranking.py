"""The ranking metrics: ROC curve and AUC, precision-recall curve, average precision."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike

from fastdet._validate import check_bool, check_choice, check_real
from fastdet.metrics._binary import (
    Curve,
    as_scores,
    binary_ap,
    binary_input,
    binary_roc_auc,
    check_average,
    check_lengths,
    multilabel_target,
    ones_of_binary,
    positives,
    pr_from_counts,
    roc_from_counts,
    threshold_sums,
)
from fastdet.metrics._common import (
    as_label_array,
    as_sample_weight,
    check_pos_label,
    distinct_upto_two,
    label_list,
    label_matches,
    warn,
)
from fastdet.metrics._multiclass import average_columns, class_codes, multiclass_roc_auc, roc_metric

__all__ = ["average_precision", "precision_recall_curve", "roc_auc", "roc_curve"]

RankingAverage = Literal["micro", "macro", "samples", "weighted"]
MultiClass = Literal["raise", "ovr", "ovo"]


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
    y, scores, w = binary_input(y_true, y_score, sample_weight)
    return roc_from_counts(threshold_sums(positives(y, pos_label), scores, w), drop_intermediate)


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
    y, scores, w = binary_input(y_true, y_score, sample_weight)
    return pr_from_counts(threshold_sums(positives(y, pos_label), scores, w), drop_intermediate)


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
    check_average(average)
    check_choice(multi_class, "multi_class", ("raise", "ovr", "ovo"))
    if max_fpr is not None:
        max_fpr = check_real(max_fpr, "max_fpr")
        if not 0 < max_fpr <= 1:
            raise ValueError(f"max_fpr must be in (0, 1], got {max_fpr}")
    indicator = multilabel_target(y_true)
    scores = as_scores(y_score, two_d=True)
    if indicator is not None:
        check_lengths(indicator.shape[0], scores.shape[0])
        w, _ = as_sample_weight(sample_weight, indicator.shape[0])
        return average_columns(roc_metric(max_fpr), indicator, scores, w, average)
    y = as_label_array(y_true, "y_true", keep_dtype=True)
    check_lengths(y.shape[0], scores.shape[0])
    w, _ = as_sample_weight(sample_weight, y.shape[0])
    ones = ones_of_binary(y) if scores.ndim == 1 else None
    if ones is not None:  # labels {0, 1} or {-1, 1}: the classes and the positives in one pass
        return binary_roc_auc(ones, scores, w, max_fpr)
    wide = scores.ndim == 2 and scores.shape[1] > 2  # multiclass whatever y holds: no pass over y
    classes = None if wide else distinct_upto_two(y)
    if classes is None:
        if max_fpr is not None and max_fpr != 1:
            raise ValueError("max_fpr (a partial AUC) is not available for multiclass y_true")
        if multi_class == "raise":
            raise ValueError(
                "y_true holds more than two classes (or y_score more than two columns): "
                "pass multi_class='ovr' or 'ovo'"
            )
        return multiclass_roc_auc(y, scores, labels, multi_class, average, w)
    if scores.ndim != 1:
        raise ValueError(f"y_score must be 1-dimensional for binary y_true, got shape {scores.shape}")
    if classes.shape[0] == 1:
        warn("Only one class is present in y_true. ROC AUC score is not defined in that case.")
        return float("nan")
    return binary_roc_auc(np.asarray(y == classes[1]), scores, w, max_fpr)


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
    check_average(average)
    pos_label = check_pos_label(pos_label)
    indicator = multilabel_target(y_true)
    scores = as_scores(y_score, two_d=True)
    if indicator is not None:
        _check_pos_label_one(pos_label, "multilabel-indicator")
        check_lengths(indicator.shape[0], scores.shape[0])
        w, _ = as_sample_weight(sample_weight, indicator.shape[0])
        return average_columns(binary_ap, indicator, scores, w, average)
    y = as_label_array(y_true, "y_true", keep_dtype=True)
    check_lengths(y.shape[0], scores.shape[0])
    w, _ = as_sample_weight(sample_weight, y.shape[0])
    if scores.ndim == 1 and not isinstance(pos_label, str) and pos_label == 1:
        ones = ones_of_binary(y)
        if ones is not None:  # labels {0, 1} or {-1, 1}: the positives in one pass
            return binary_ap(ones, scores, w)
    classes = distinct_upto_two(y)
    if classes is None:
        _check_pos_label_one(pos_label, "multiclass")
        if scores.ndim != 2:
            raise ValueError(
                "y_score must have shape (n_samples, n_classes) since y_true holds more than two "
                f"classes, got shape {scores.shape}"
            )
        codes, _ = class_codes(y, None, scores.shape[1])
        indicator = np.zeros(scores.shape, np.uint8)
        indicator[np.arange(codes.shape[0]), codes] = 1
        return average_columns(binary_ap, indicator, scores, w, average)
    if scores.ndim != 1:
        raise ValueError(f"y_score must be 1-dimensional for binary y_true, got shape {scores.shape}")
    mask = label_matches(y, pos_label, "y_true")
    if classes.shape[0] == 2 and not mask.any():
        raise ValueError(
            f"pos_label={pos_label!r} is not a valid label; it should be one of {label_list(classes)}"
        )
    return binary_ap(mask, scores, w)


def _check_pos_label_one(pos_label: Any, kind: str) -> None:
    if isinstance(pos_label, str) or pos_label != 1:
        raise ValueError(f"pos_label is fixed to 1 for {kind} y_true; got pos_label={pos_label!r}")
