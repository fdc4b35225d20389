"""Numba kernels for ranking and classification metrics (ROC, PR, AP, confusion matrix).

The ranking kernels never argsort. The wrapper splits the scores by label
(``_split_by_label``, or ``_split_weighted`` which carries the sample weights
and drops zero weights), each half is sorted by value with a least-significant-
digit radix sort (``_radix_sort`` / ``_radix_sort_pairs``: stable, so tied
scores keep their input order and their weights are summed in that order,
which is how scikit-learn's stable argsort and ``cumsum`` sum them), and the
kernels walk both sorted halves from the top, merging them. Every tied group
of scores is consumed at once, which is how scikit-learn collapses ties into
one threshold, so no tie order can leak into the result.
"""

from __future__ import annotations

import numpy as np

from fastdet._kernels import kernel

# --------------------------------------------------------------------------- split

_SIGN = np.uint64(1 << 63)
_RADIX_BITS = 11  # 6 passes of 11 bits cover 64-bit keys; 2048 buckets stay in L1/L2
_RADIX_PASSES = 6


@kernel()
def _split_by_label(y, scores, pos_out, neg_out):
    """Copy ``scores[y != 0]`` into ``pos_out`` and ``scores[y == 0]`` into ``neg_out``.

    y: (N,) uint8 0/1, scores: (N,) float64, pos_out: (P,), neg_out: (N - P,).
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
def _split_weighted(y, scores, weights, pos_s, pos_w, neg_s, neg_w):
    """Split (score, weight) pairs by label in input order, dropping zero weights.

    y: (N,) uint8 0/1; scores, weights: (N,) float64; pos_*: (>= P,), neg_*: (>= N - P,).
    Returns (number of positives written, number of negatives written).
    """
    ip = 0
    ineg = 0
    for k in range(y.shape[0]):
        w = weights[k]
        if w == 0.0:
            continue
        if y[k] != 0:
            pos_s[ip] = scores[k]
            pos_w[ip] = w
            ip += 1
        else:
            neg_s[ineg] = scores[k]
            neg_w[ineg] = w
            ineg += 1
    return ip, ineg


@kernel()
def _group_columns(codes, next_slot, scores, out):
    """Transpose ``scores`` grouped by class: the samples of class 0 first, then class 1, ...

    codes: (N,) int64 in [0, K); next_slot: (K,) int64, the first slot of each class
    (exclusive prefix sums of the class counts), advanced in place; scores: (N, J)
    float64; out: (J, N) float64, ``out[j, slot] = scores[i, j]``, input order kept
    within a class.
    """
    for i in range(codes.shape[0]):
        c = codes[i]
        slot = next_slot[c]
        next_slot[c] = slot + 1
        for j in range(scores.shape[1]):
            out[j, slot] = scores[i, j]


# --------------------------------------------------------------------------- radix sort


@kernel()
def _to_key(bits):
    """Map float64 bits to a uint64 whose unsigned order is the float order (-0.0 as +0.0)."""
    if bits == _SIGN:  # -0.0 ties with +0.0, as float comparison says
        bits = np.uint64(0)
    if bits & _SIGN:
        return ~bits
    return bits | _SIGN


@kernel()
def _from_key(key):
    """Inverse of ``_to_key`` (-0.0 comes back as +0.0)."""
    if key & _SIGN:
        return key & ~_SIGN
    return ~key


@kernel()
def _key_histograms(keys, counts):
    """Fill ``counts[p, d]`` with the number of keys whose p-th 11-bit digit is d."""
    mask = np.uint64((1 << _RADIX_BITS) - 1)
    for i in range(keys.shape[0]):
        k = keys[i]
        for p in range(_RADIX_PASSES):
            counts[p, (k >> np.uint64(p * _RADIX_BITS)) & mask] += 1


@kernel()
def _digit_offsets(counts, p, n, offs):
    """Exclusive prefix sums of ``counts[p]`` into ``offs``; False if one bucket holds all n keys."""
    total = 0
    useful = True
    for b in range(counts.shape[1]):
        c = counts[p, b]
        if c == n:
            useful = False
        offs[b] = total
        total += c
    return useful


@kernel()
def _radix_sort(values, scratch):
    """Sort finite float64 ``values`` in place, ascending; scratch: (N,) uint64 work space."""
    n = values.shape[0]
    a = values.view(np.uint64)
    for i in range(n):
        a[i] = _to_key(a[i])
    counts = np.zeros((_RADIX_PASSES, 1 << _RADIX_BITS), np.int64)
    _key_histograms(a, counts)
    offs = np.empty(1 << _RADIX_BITS, np.int64)
    mask = np.uint64((1 << _RADIX_BITS) - 1)
    src = a
    dst = scratch
    for p in range(_RADIX_PASSES):
        if not _digit_offsets(counts, p, n, offs):
            continue  # every key has the same digit: the pass would not move anything
        shift = np.uint64(p * _RADIX_BITS)
        for i in range(n):
            k = src[i]
            d = (k >> shift) & mask
            j = offs[d]
            offs[d] = j + 1
            dst[j] = k
        src, dst = dst, src
    for i in range(n):
        a[i] = _from_key(src[i])


@kernel()
def _radix_sort_pairs(values, payload, scratch_k, scratch_v):
    """Stable in-place ascending sort of finite float64 ``values``, moving ``payload`` along.

    values, payload: (N,) float64; scratch_k: (N,) uint64, scratch_v: (N,) float64.
    Equal values keep their input order (least-significant-digit radix sort).
    """
    n = values.shape[0]
    a = values.view(np.uint64)
    for i in range(n):
        a[i] = _to_key(a[i])
    counts = np.zeros((_RADIX_PASSES, 1 << _RADIX_BITS), np.int64)
    _key_histograms(a, counts)
    offs = np.empty(1 << _RADIX_BITS, np.int64)
    mask = np.uint64((1 << _RADIX_BITS) - 1)
    src_k = a
    dst_k = scratch_k
    src_v = payload
    dst_v = scratch_v
    for p in range(_RADIX_PASSES):
        if not _digit_offsets(counts, p, n, offs):
            continue
        shift = np.uint64(p * _RADIX_BITS)
        for i in range(n):
            k = src_k[i]
            d = (k >> shift) & mask
            j = offs[d]
            offs[d] = j + 1
            dst_k[j] = k
            dst_v[j] = src_v[i]
        src_k, dst_k = dst_k, src_k
        src_v, dst_v = dst_v, src_v
    for i in range(n):
        a[i] = _from_key(src_k[i])
        payload[i] = src_v[i]


# --------------------------------------------------------------------------- merging sorted halves


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
def _weighted_threshold_sums(pos, pos_w, neg, neg_w, thresholds, tps, fps):
    """Like ``_threshold_counts`` with cumulative sums of weights instead of counts.

    pos, neg: ascending sorted scores, ties in input order (a stable sort);
    pos_w, neg_w: their weights. Within a tied group the weights are added in
    input order, so every partial sum is the one of a sequential cumulative sum
    over the samples in (descending score, input index) order.
    Returns the number of distinct thresholds written.
    """
    i = pos.shape[0]
    j = neg.shape[0]
    tp = 0.0
    fp = 0.0
    m = 0
    while i > 0 or j > 0:
        t, i2, j2 = _next_group(pos, neg, i, j)
        for k in range(i2, i):
            tp += pos_w[k]
        for k in range(j2, j):
            fp += neg_w[k]
        thresholds[m] = t
        tps[m] = tp
        fps[m] = fp
        m += 1
        i = i2
        j = j2
    return m


# --------------------------------------------------------------------------- confusion matrix


@kernel()
def _mark_present(values, lo, present):
    """Set ``present[v - lo] = True`` for every v in ``values``; present: (hi - lo + 1,)."""
    for k in range(values.shape[0]):
        present[values[k] - lo] = True


@kernel()
def _confusion_lut(y_true, y_pred, lut, lo, out):
    """Count pairs through a lookup table: ``out[lut[t - lo], lut[p - lo]] += 1``.

    y_true, y_pred: (N,) int64 within [lo, lo + len(lut)); lut: int64, -1 marks a
    label that is not counted; out: (K, K) int64, zeroed by the caller.
    """
    for k in range(y_true.shape[0]):
        a = lut[y_true[k] - lo]
        b = lut[y_pred[k] - lo]
        if a >= 0 and b >= 0:
            out[a, b] += 1


@kernel()
def _confusion_lut_weighted(y_true, y_pred, weights, lut, lo, out):
    """``_confusion_lut`` adding ``weights[k]`` (float64) instead of 1, in input order."""
    for k in range(y_true.shape[0]):
        a = lut[y_true[k] - lo]
        b = lut[y_pred[k] - lo]
        if a >= 0 and b >= 0:
            out[a, b] += weights[k]


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


@kernel()
def _confusion_index_weighted(true_idx, pred_idx, weights, out):
    """``_confusion_index`` adding ``weights[k]`` (float64) instead of 1, in input order."""
    for k in range(true_idx.shape[0]):
        a = true_idx[k]
        b = pred_idx[k]
        if a >= 0 and b >= 0:
            out[a, b] += weights[k]
