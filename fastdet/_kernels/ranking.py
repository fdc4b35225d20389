"""Numba kernels for ranking and classification metrics (ROC, PR, AP, confusion matrix).

The ranking kernels never argsort. The wrapper splits the scores by label
(``_split_by_label``), each half is sorted by value with a least-significant-
digit radix sort (``_radix_sort``), and the kernels walk both sorted halves
from the top, merging them. With sample weights, ``_split_weighted_keys``
drops zero weights and writes each score as an unsigned integer key with the
float order (``_to_key``) beside its weight, and ``_sort_key_pairs``, a most-
significant-digit radix sort (one pass through memory, the buckets sorted in
cache), sorts each half stably: tied scores keep their input order and their
weights are summed in that order, which is how scikit-learn's stable argsort
and ``cumsum`` sum them. Every tied group
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
def _split_weighted_keys(y, scores, weights, pos_k, pos_w, neg_k, neg_w, bounds):
    """Split (score, weight) pairs by label in input order, dropping zero weights; scores as sort keys.

    y: (N,) uint8 0/1; scores, weights: (N,) float64; pos_k, neg_k: (>= P,), (>= N - P,)
    uint64 receive ``_to_key`` of the scores, pos_w, neg_w float64 the weights;
    bounds: (4,) uint64 receives the smallest and largest key of the positives,
    then of the negatives (unchanged for an empty half). Returns (positives
    written, negatives written).
    """
    bits = scores.view(np.uint64)
    ip = 0
    ineg = 0
    p_lo = np.uint64(0xFFFFFFFFFFFFFFFF)
    p_hi = np.uint64(0)
    n_lo = np.uint64(0xFFFFFFFFFFFFFFFF)
    n_hi = np.uint64(0)
    for k in range(y.shape[0]):
        w = weights[k]
        if w == 0.0:
            continue
        key = _to_key(bits[k])
        if y[k] != 0:
            pos_k[ip] = key
            pos_w[ip] = w
            ip += 1
            p_lo = min(p_lo, key)
            p_hi = max(p_hi, key)
        else:
            neg_k[ineg] = key
            neg_w[ineg] = w
            ineg += 1
            n_lo = min(n_lo, key)
            n_hi = max(n_hi, key)
    bounds[0] = p_lo
    bounds[1] = p_hi
    bounds[2] = n_lo
    bounds[3] = n_hi
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


_SMALL_SEGMENT = 24  # segments up to this size are finished by insertion sort


@kernel()
def _insertion_sort_pairs(keys, vals, start, stop):
    """Stable ascending insertion sort of keys[start:stop], moving vals along."""
    for i in range(start + 1, stop):
        k = keys[i]
        v = vals[i]
        j = i - 1
        while j >= start and keys[j] > k:
            keys[j + 1] = keys[j]
            vals[j + 1] = vals[j]
            j -= 1
        keys[j + 1] = k
        vals[j + 1] = v


@kernel()
def _sort_key_pairs(keys, vals, lo, hi, tmp_k, tmp_v):
    """Stable in-place ascending sort of uint64 ``keys`` moving float64 ``vals`` along.

    keys, tmp_k: (N,) uint64; vals, tmp_v: (N,) float64 (tmp_*: work space);
    lo, hi: the smallest and largest key. Most-significant-digit radix sort:
    a segment is distributed (a stable counting sort) by the leading bits of
    ``key - min`` over its own key range, up to 11 at a time, into buckets
    sorted the same way in turn; runs of equal keys stop there and segments of
    at most ``_SMALL_SEGMENT`` keys are insertion sorted. Only the first pass
    over all keys streams through memory; the buckets below it fit in cache.
    Equal keys keep their input order.
    """
    n = keys.shape[0]
    if n < 2 or lo == hi:
        return
    one = np.uint64(1)
    # pending segments: start, stop, 1 when the segment's data is in tmp, and its key range
    cap = n // _SMALL_SEGMENT + 70
    seg = np.empty((cap, 3), np.int64)
    seg_lo = np.empty(cap, np.uint64)
    seg_hi = np.empty(cap, np.uint64)
    counts = np.empty(2049, np.int64)
    top = 0
    seg[0, 0] = 0
    seg[0, 1] = n
    seg[0, 2] = 0
    seg_lo[0] = lo
    seg_hi[0] = hi
    top = 1
    while top > 0:
        top -= 1
        s0 = seg[top, 0]
        s1 = seg[top, 1]
        in_tmp = seg[top, 2] == 1
        k_lo = seg_lo[top]
        span = seg_hi[top] - k_lo  # > 0
        if in_tmp:
            src_k, src_v, dst_k, dst_v = tmp_k, tmp_v, keys, vals
        else:
            src_k, src_v, dst_k, dst_v = keys, vals, tmp_k, tmp_v
        # digit width: about log2 of the segment size, 4 to 11 bits; shift so that span >> shift fits
        size = s1 - s0
        width = 4
        while width < 11 and (1 << width) < size:
            width += 1
        n_bits = 0
        x = span
        while x != 0:
            x >>= one
            n_bits += 1
        shift = n_bits - width if n_bits > width else 0
        ushift = np.uint64(shift)
        n_dig = np.int64(span >> ushift) + 1
        for d in range(n_dig + 1):
            counts[d] = 0
        for i in range(s0, s1):
            counts[np.int64((src_k[i] - k_lo) >> ushift) + 1] += 1
        for d in range(n_dig):
            counts[d + 1] += counts[d]
        # counts[d]: offset of digit d within the segment; scatter stably into the other buffer
        for i in range(s0, s1):
            d = np.int64((src_k[i] - k_lo) >> ushift)
            j = s0 + counts[d]
            counts[d] += 1
            dst_k[j] = src_k[i]
            dst_v[j] = src_v[i]
        # counts[d] is now the end of bucket d; the buckets are in dst (tmp when the source was keys)
        b0 = s0
        for d in range(n_dig):
            b1 = s0 + counts[d]
            m = b1 - b0
            if m == 0:
                continue
            if shift == 0 or m == 1:  # one key value (or one key): in order already
                if not in_tmp:
                    for i in range(b0, b1):
                        keys[i] = tmp_k[i]
                        vals[i] = tmp_v[i]
            elif m <= _SMALL_SEGMENT:
                if not in_tmp:
                    for i in range(b0, b1):
                        keys[i] = tmp_k[i]
                        vals[i] = tmp_v[i]
                _insertion_sort_pairs(keys, vals, b0, b1)
            else:
                b_lo = np.uint64(0xFFFFFFFFFFFFFFFF)
                b_hi = np.uint64(0)
                for i in range(b0, b1):
                    b_lo = min(b_lo, dst_k[i])
                    b_hi = max(b_hi, dst_k[i])
                if b_lo == b_hi:
                    if not in_tmp:
                        for i in range(b0, b1):
                            keys[i] = tmp_k[i]
                            vals[i] = tmp_v[i]
                else:
                    seg[top, 0] = b0
                    seg[top, 1] = b1
                    seg[top, 2] = 0 if in_tmp else 1
                    seg_lo[top] = b_lo
                    seg_hi[top] = b_hi
                    top += 1
            b0 = b1


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

    pos, neg: ascending sorted uint64 keys (``_to_key`` of the scores), ties in
    input order (a stable sort); pos_w, neg_w: their weights. Within a tied
    group the weights are added in input order, so every partial sum is the
    one of a sequential cumulative sum over the samples in (descending score,
    input index) order. thresholds receives the scores (``_from_key``).
    Returns the number of distinct thresholds written.
    """
    i = pos.shape[0]
    j = neg.shape[0]
    tp = 0.0
    fp = 0.0
    m = 0
    out = thresholds.view(np.uint64)
    while i > 0 or j > 0:
        if i > 0 and (j == 0 or pos[i - 1] >= neg[j - 1]):
            t = pos[i - 1]
        else:
            t = neg[j - 1]
        i2 = i
        while i2 > 0 and pos[i2 - 1] == t:
            i2 -= 1
        j2 = j
        while j2 > 0 and neg[j2 - 1] == t:
            j2 -= 1
        for k in range(i2, i):  # input order within the group
            tp += pos_w[k]
        for k in range(j2, j):
            fp += neg_w[k]
        i = i2
        j = j2
        out[m] = _from_key(t)
        tps[m] = tp
        fps[m] = fp
        m += 1
    return m


# --------------------------------------------------------------------------- sample weights


@kernel()
def _check_weights(w):
    """Return (index of the first NaN or inf, -1 if none; whether any weight is non-zero); w: (N,) float64."""
    nonzero = False
    for k in range(w.shape[0]):
        x = w[k]
        if not np.isfinite(x):
            return k, nonzero
        if x != 0.0:
            nonzero = True
    return -1, nonzero


# --------------------------------------------------------------------------- string labels


@kernel()
def _same_rows(chars, i, j):
    """Whether rows i and j of chars (N, L) uint32 are equal."""
    for c in range(chars.shape[1]):
        if chars[i, c] != chars[j, c]:
            return False
    return True


@kernel()
def _two_distinct_rows(chars, first):
    """Find the distinct rows of chars (N, L) uint32 (a ``str_`` array's code points), N >= 1.

    Writes the index of the first row and of the first row that differs from it
    (-1: none) into first (2,) int64; returns False as soon as a third distinct
    row occurs.
    """
    first[0] = 0
    first[1] = -1
    for i in range(1, chars.shape[0]):
        if not _same_rows(chars, i, 0):
            if first[1] < 0:
                first[1] = i
            elif not _same_rows(chars, i, first[1]):
                return False
    return True


@kernel()
def _rows_equal(chars, row, out):
    """out[i] = 1 where row i of chars (N, L) uint32 equals row (L,) uint32, else 0; out: (N,) uint8."""
    for i in range(chars.shape[0]):
        same = 1
        for c in range(chars.shape[1]):
            if chars[i, c] != row[c]:
                same = 0
                break
        out[i] = same


# --------------------------------------------------------------------------- confusion matrix


@kernel()
def _label_bounds(t, p):
    """Return (smallest, largest) label of t and p together; t, p: (N,) int64, N >= 1."""
    lo = t[0]
    hi = t[0]
    for k in range(t.shape[0]):
        a = t[k]
        b = p[k]
        lo = min(lo, a, b)
        hi = max(hi, a, b)
    return lo, hi


@kernel()
def _confusion_dense(t, p, lo, out, present):
    """Count pairs into a matrix over the whole label range: ``out[t - lo, p - lo] += 1``.

    t, p: (N,) int64 in [lo, lo + S); out: (S, S) int64, zeroed by the caller;
    present: (S,) uint8, set to 1 for every label that occurs.
    """
    for k in range(t.shape[0]):
        a = t[k] - lo
        b = p[k] - lo
        out[a, b] += 1
        present[a] = 1
        present[b] = 1


@kernel()
def _confusion_dense_weighted(t, p, weights, lo, out, present):
    """``_confusion_dense`` adding ``weights[k]`` (float64) instead of 1, in input order."""
    for k in range(t.shape[0]):
        a = t[k] - lo
        b = p[k] - lo
        out[a, b] += weights[k]
        present[a] = 1
        present[b] = 1


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
