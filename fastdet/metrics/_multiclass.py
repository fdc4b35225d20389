"""Several classes: per-column scores and their averages, one-vs-rest and one-vs-one ROC AUC."""

from __future__ import annotations

from itertools import combinations
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fastdet._kernels import ranking as _k
from fastdet.metrics._binary import _THREADED_MIN, BinaryMetric, Weights, binary_roc_auc
from fastdet.metrics._common import as_label_array, is_str, warn


def average_columns(
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


def class_codes(y: NDArray[Any], labels: ArrayLike | None, k: int) -> tuple[NDArray[np.int64], NDArray[Any]]:
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
    """AUC counts of a multiclass problem from score blocks: ``twice_u(a, b)`` on column a.

    The scores are regrouped by class once (one pass): row j of ``grouped`` holds
    column j, class after class. Each block (class c, column j) is radix-sorted
    in place, and the unweighted AUC of class a against class b on column a is
    one merge of the blocks (a, a) and (b, a); AUC counts add up over classes,
    so one-vs-rest and one-vs-one need no masks and no sort of all samples.
    With ``rest`` (one-vs-rest) the classes other than a are merged as the two
    blocks around class a, and ``twice_u(a, a)`` is the count against all of them.
    The columns are grouped, sorted and merged on threads (``_class_pair_areas``).
    """

    def __init__(self, codes: NDArray[np.int64], scores: NDArray[np.float64], *, rest: bool = False) -> None:
        k = scores.shape[1]
        self.counts = np.bincount(codes, minlength=k)
        starts = np.concatenate(([0], np.cumsum(self.counts))).astype(np.int64)
        grouped = np.empty((k, codes.shape[0]), np.float64)
        self.areas = np.zeros((k, k), np.int64)
        if codes.shape[0] >= _THREADED_MIN:
            _k._group_columns(2, 2, codes, starts[:-1], scores, grouped)
            _k._class_pair_areas(k, grouped, starts, rest, self.areas)
        else:
            _k._group_columns.serial(1, 1, codes, starts[:-1], scores, grouped)
            _k._class_pair_areas.serial(k, grouped, starts, rest, self.areas)

    def twice_u(self, a: int, b: int) -> int:
        """2 U of class a (positive) against class b on column a, ties counted one half
        (with ``rest``, ``twice_u(a, a)`` against every other class)."""
        return int(self.areas[a, b])


def _unique_codes(y: NDArray[Any]) -> tuple[NDArray[Any], NDArray[np.int64]]:
    """``np.unique(y, return_inverse=True)``, through a lookup table for integers of a narrow range."""
    if y.dtype.kind in "iub" and y.shape[0]:
        lo, hi = int(y.min()), int(y.max())
        if hi - lo <= 4 * y.shape[0] + 1024:
            base = 0 if 0 <= lo and hi <= 4 * y.shape[0] + 1024 else lo  # labels from 0: no shift
            shifted = y if base == 0 and y.dtype.kind != "b" else np.subtract(y, base, dtype=np.int64)
            present = np.flatnonzero(np.bincount(shifted, minlength=hi - base + 1))
            lut = np.zeros(hi - base + 1, np.int64)
            lut[present] = np.arange(present.shape[0])
            return (present + base).astype(y.dtype), lut[shifted]
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
        auc_a = blocks.twice_u(a, b) / (2.0 * n_a * n_b)
        auc_b = blocks.twice_u(b, a) / (2.0 * n_a * n_b)
        pair_scores.append((auc_a + auc_b) / 2)
    return float(np.average(pair_scores, weights=prevalence if average == "weighted" else None))


def _ovr_roc_auc(codes: NDArray[np.int64], scores: NDArray[np.float64], average: str | None) -> Any:
    """Unweighted one-vs-rest AUCs from the class blocks: U(c vs rest) from one merge of class c's
    block with the (sorted) blocks before and after it on column c."""
    blocks = _ClassBlocks(codes, scores, rest=True)
    k = scores.shape[1]
    n = codes.shape[0]
    score = np.empty(k)
    for c in range(k):
        n_pos = int(blocks.counts[c])
        if n_pos in (0, n):
            warn("Only one class is present in y_true. ROC AUC score is not defined in that case.")
            score[c] = np.nan
            continue
        score[c] = float(blocks.twice_u(c, c)) / (2.0 * n_pos * (n - n_pos))
    return _combine(score, blocks.counts if average == "weighted" else None, average)


def _rows_sum_to_one(scores: NDArray[np.float64]) -> bool:
    """``np.allclose(1, scores.sum(axis=1))`` (scikit-learn's check), in parts on threads; only rows
    at the tolerance are decided on NumPy's sums."""
    scores = np.ascontiguousarray(scores)
    parts = 8 if scores.shape[0] >= _THREADED_MIN else 1
    found = np.empty(parts, np.int64)
    (_k._rows_near_one if parts > 1 else _k._rows_near_one.serial)(parts, parts, scores, found)
    if (found == 0).any():
        return False
    if (found < 0).any():  # a row sum at the tolerance: decided on NumPy's sums, as scikit-learn
        return bool(_k._all_near_one(np.ascontiguousarray(scores.sum(axis=1), dtype=np.float64)))
    return True


def multiclass_roc_auc(
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
    if not _rows_sum_to_one(scores):
        raise ValueError("y_score must hold probabilities for a multiclass roc_auc: each row must sum to 1")
    options = ("micro", "macro", "weighted", None) if multi_class == "ovr" else ("macro", "weighted")
    if average not in options:
        raise ValueError(
            f"average must be one of {options} for a multiclass roc_auc with "
            f"multi_class={multi_class!r}, got {average!r}"
        )
    codes, _ = class_codes(y, labels, scores.shape[1])
    if multi_class == "ovo":
        if w is not None:
            raise ValueError("sample_weight is not supported with multi_class='ovo'")
        return _ovo_roc_auc(codes, scores, str(average))
    if w is None and average != "micro":
        return _ovr_roc_auc(codes, scores, average)
    indicator = np.zeros(scores.shape, np.uint8)
    indicator[np.arange(codes.shape[0]), codes] = 1
    return average_columns(roc_metric(None), indicator, scores, w, average)


def roc_metric(max_fpr: float | None) -> BinaryMetric:
    return lambda m, s, w: binary_roc_auc(m, s, w, max_fpr)
