"""Numba kernels for ranking and classification metrics (ROC, PR, AP, confusion matrix).

The ranking kernels never sort indices. The wrapper splits the scores by
label and sorts each half with ``np.sort`` (SIMD-accelerated in NumPy,
unstable but values-only, so stability is irrelevant), and the kernels walk
both sorted halves from the top, merging them. Every tied group of scores is
consumed at once, which is how scikit-learn collapses ties into one
threshold, so no tie order can leak into the result.
"""

from __future__ import annotations

from fastdet._kernels import kernel


@kernel()
def _split_by_label(y, scores, pos_out, neg_out):
    """Copy ``scores[y == 1]`` into ``pos_out`` and ``scores[y == 0]`` into ``neg_out``.

    y: (N,) integer 0/1, scores: (N,), pos_out: (P,), neg_out: (N - P,).
    """
    ip = 0
    ineg = 0
    for k in range(y.shape[0]):
        if y[k] != 0:
            pos_out[ip] = scores[k]
            ip += 1
        else:
            neg_out[ineg] = scores[k]
            ineg += 1


@kernel()
def _next_group(pos, neg, i, j):
    """Return (threshold, new i, new j) after consuming the largest remaining tied group.

    pos, neg: ascending sorted; i, j: one past the last unconsumed index of each.
    At least one of i, j must be positive.
    """
    if i > 0 and (j == 0 or pos[i - 1] >= neg[j - 1]):
        t = pos[i - 1]
    else:
        t = neg[j - 1]
    while i > 0 and pos[i - 1] == t:
        i -= 1
    while j > 0 and neg[j - 1] == t:
        j -= 1
    return t, i, j


@kernel()
def _roc_auc_twice_area(pos, neg):
    """Return 2 * P * N * AUC as an exact integer (trapezoids over tied groups).

    pos, neg: (P,), (N,) ascending sorted scores of positives and negatives.
    """
    i = pos.shape[0]
    j = neg.shape[0]
    tp = 0
    area = 0
    while i > 0 or j > 0:
        _, i2, j2 = _next_group(pos, neg, i, j)
        dp = i - i2
        dn = j - j2
        area += dn * (2 * tp + dp)
        tp += dp
        i = i2
        j = j2
    return area


@kernel()
def _average_precision(pos, neg):
    """Return sum over thresholds of (R_k - R_{k-1}) * P_k, scikit-learn's step-wise AP.

    pos, neg: (P,), (N,) ascending sorted scores; requires P > 0.
    """
    n_pos = pos.shape[0]
    i = n_pos
    j = neg.shape[0]
    tp = 0.0
    fp = 0.0
    prev_recall = 0.0
    total = 0.0
    while i > 0 or j > 0:
        _, i2, j2 = _next_group(pos, neg, i, j)
        tp += i - i2
        fp += j - j2
        recall = tp / n_pos
        total += (recall - prev_recall) * (tp / (tp + fp))
        prev_recall = recall
        i = i2
        j = j2
    return total


@kernel()
def _threshold_counts(pos, neg, thresholds, tps, fps):
    """Fill the distinct thresholds (descending) with cumulative TP and FP counts.

    pos, neg: ascending sorted scores; thresholds, tps, fps: (P + N,) outputs.
    Returns the number of distinct thresholds written.
    """
    i = pos.shape[0]
    j = neg.shape[0]
    tp = 0.0
    fp = 0.0
    m = 0
    while i > 0 or j > 0:
        t, i2, j2 = _next_group(pos, neg, i, j)
        tp += i - i2
        fp += j - j2
        thresholds[m] = t
        tps[m] = tp
        fps[m] = fp
        m += 1
        i = i2
        j = j2
    return m


@kernel()
def _mark_present(values, lo, present):
    """Set ``present[v - lo] = True`` for every v in ``values``; present: (hi - lo + 1,)."""
    for k in range(values.shape[0]):
        present[values[k] - lo] = True


@kernel()
def _confusion_lut(y_true, y_pred, lut, lo, out):
    """Count pairs through a lookup table: ``out[lut[t - lo], lut[p - lo]] += 1``.

    y_true, y_pred: (N,) integers within [lo, lo + len(lut)); lut: int64, -1 marks a
    label that is not counted; out: (K, K) int64, zeroed by the caller.
    """
    for k in range(y_true.shape[0]):
        a = lut[y_true[k] - lo]
        b = lut[y_pred[k] - lo]
        if a >= 0 and b >= 0:
            out[a, b] += 1


@kernel()
def _confusion_index(true_idx, pred_idx, out):
    """Count index pairs: ``out[t, p] += 1``, skipping pairs where either is -1.

    true_idx, pred_idx: (N,) int64 in [-1, K); out: (K, K) int64, zeroed by the caller.
    """
    for k in range(true_idx.shape[0]):
        a = true_idx[k]
        b = pred_idx[k]
        if a >= 0 and b >= 0:
            out[a, b] += 1
