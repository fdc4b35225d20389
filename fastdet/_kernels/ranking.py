"""Numba kernels for ranking metrics (ROC, PR, AP): sorting the scores and walking their tied groups.

The ranking kernels never argsort. The wrapper splits the scores by label
(``_split_by_label``), each half is sorted by value with a least-significant-
digit radix sort (``_radix_sort``), and the kernels walk both sorted halves
from the top, merging them. With sample weights, each score becomes an
unsigned integer key with the float order (``_to_key``); ``_bucket_counts`` and
``_bucket_split`` split the samples of non-zero weight by label and, in the
same pass, into up to 4096 buckets by the leading bits of the key (a stable
counting sort) as 16-byte records ``[~key, weight bits]`` (``~key`` ascends as
the score descends); both are chunked kernels: each chunk of the input counts
its own samples, and writes them after the previous chunks' rows of the same
bucket, so a bucket keeps the input order whatever the threads. ``_sort_buckets``
then finishes the buckets on threads, each in cache with a
most-significant-digit radix sort (``_msd_sort``), and
``_weighted_threshold_sums`` adds the weights in one forward pass.
Both sorts are stable: tied
scores keep their input order and their weights are summed in that order, which
is how scikit-learn's stable argsort and ``cumsum`` sum them. Every tied group
of scores is consumed at once, which is how scikit-learn collapses ties into
one threshold, so no tie order can leak into the result.

The sorts are in :mod:`fastdet._kernels.scoresort`; the kernels for weights,
labels and the confusion matrix in :mod:`fastdet._kernels.labels`.
"""

from __future__ import annotations

import numpy as np

from fastdet._kernels import kernel
from fastdet._kernels.scoresort import _from_key, _radix_sort

# --------------------------------------------------------------------------- split


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


@kernel(chunked=True)
def _group_columns(lo, hi, parts, codes, first_slot, scores, out):
    """Transpose ``scores`` grouped by class: the samples of class 0 first, then class 1, ...

    The columns are cut into ``parts`` ranges; one call fills the columns
    ``J * lo // parts`` to ``J * hi // parts`` in one pass over the rows (each
    thread reads every row, writes only its columns). codes: (N,) int64 in
    [0, K); first_slot: (K,) int64, the first slot of each class (exclusive
    prefix sums of the class counts); scores: (N, J) float64; out: (J, N)
    float64, ``out[j, slot] = scores[i, j]``, input order kept within a class.
    """
    n_cols = scores.shape[1]
    j0 = n_cols * lo // parts
    j1 = n_cols * hi // parts
    next_slot = first_slot.copy()
    for i in range(codes.shape[0]):
        c = codes[i]
        slot = next_slot[c]
        next_slot[c] = slot + 1
        for j in range(j0, j1):
            out[j, slot] = scores[i, j]


@kernel()
def _all_near_one(sums):
    """``np.allclose(1, sums)`` without its temporaries: every value finite and within
    1e-8 + 1e-5 * |value| of 1; sums: (N,) float64."""
    for k in range(sums.shape[0]):
        v = sums[k]
        if not np.isfinite(v) or not abs(1.0 - v) <= 1e-8 + 1e-5 * abs(v):
            return False
    return True


@kernel(chunked=True)
def _rows_near_one(lo, hi, parts, scores, out):
    """Whether every row of scores (N, K) float64 sums to about 1, as ``_all_near_one`` of
    ``scores.sum(axis=1)``, without that array: out[c] = 1 yes, 0 no, -1 undecided for the
    rows ``N * c // parts`` to ``N * (c + 1) // parts`` of each part c in ``lo:hi``.

    Each row is summed in order; NumPy's sum may order the additions otherwise,
    which moves the sum by at most 2 K eps sum(|x|). A row whose distance to 1 is
    that far (doubled) from the tolerance is decided here (a non-finite sum is
    out); one closer to it makes the answer -1 (the caller asks NumPy), unless
    another row is out.
    """
    n = scores.shape[0]
    for c in range(lo, hi):
        out[c] = 1
        for i in range(n * c // parts, n * (c + 1) // parts):
            v = 0.0
            v_abs = 0.0
            for j in range(scores.shape[1]):
                v += scores[i, j]
                v_abs += abs(scores[i, j])
            if not np.isfinite(v):
                out[c] = 0
                break
            margin = 4.0 * scores.shape[1] * 2.220446049250313e-16 * v_abs + 1e-300
            tol = 1e-8 + 1e-5 * abs(v)
            d = abs(1.0 - v)
            if d > tol + margin:
                out[c] = 0
                break
            if d >= tol - margin:
                out[c] = -1


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
    """Return 2 * P * N * AUC as an exact integer: the sum over the positives of the negatives
    below them plus those up to them (a tie counts one half).

    pos, neg: (P,), (N,) ascending sorted scores. Both counts come from pointers that
    only move forward, P + 2 N steps in all.
    """
    n_neg = neg.shape[0]
    below = 0
    upto = 0
    total = 0
    for i in range(pos.shape[0]):
        x = pos[i]
        while below < n_neg and neg[below] < x:
            below += 1
        upto = max(upto, below)
        while upto < n_neg and neg[upto] <= x:
            upto += 1
        total += below + upto
    return total


@kernel()
def _average_precision(pos, neg, out):
    """Write the terms of scikit-learn's step-wise AP, ``(R_{k-1} - R_k) * P_k`` for the k-th
    threshold from the top, to ``out[L - 1 - k]`` (L = len(out) >= the number of thresholds); return
    that number m. ``-np.sum(out[L - m:])`` is then scikit-learn's ``-np.sum(np.diff(recall) *
    precision[:-1])``: the same terms, in the same order, summed by NumPy in its pairwise order.

    pos, neg: (P,), (N,) ascending sorted scores; requires P > 0.
    """
    n_pos = pos.shape[0]
    top = out.shape[0] - 1
    i = n_pos
    j = neg.shape[0]
    tp = 0.0
    fp = 0.0
    prev_recall = 0.0
    m = 0
    while i > 0 or j > 0:
        _, i2, j2 = _next_group(pos, neg, i, j)
        tp += i - i2
        fp += j - j2
        recall = tp / n_pos
        out[top - m] = (prev_recall - recall) * (tp / (tp + fp))
        prev_recall = recall
        m += 1
        i = i2
        j = j2
    return m


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


@kernel(inline=True)
def _next_row_group(pos, neg, i, j):
    """Return (key, new i, new j) after the next tied group of two ascending row lists.

    The forward twin of :func:`_next_group` for (P, ...) / (N, ...) uint64 rows whose
    column 0 is the key; i, j: the first unconsumed row of each (at least one left).
    """
    if i < pos.shape[0] and (j == neg.shape[0] or pos[i, 0] <= neg[j, 0]):
        t = pos[i, 0]
    else:
        t = neg[j, 0]
    while i < pos.shape[0] and pos[i, 0] == t:
        i += 1
    while j < neg.shape[0] and neg[j, 0] == t:
        j += 1
    return t, i, j


@kernel()
def _weighted_threshold_sums(pos, neg, thresholds, tps, fps):
    """Like ``_threshold_counts`` with cumulative sums of weights instead of counts.

    pos, neg: (P, 2), (N, 2) uint64 rows ``[~key, weight bits]`` (``_bucket_split``)
    sorted ascending by ``~key``, that is by descending score, ties in input
    order (a stable sort). One forward pass over both merges them: the weights
    are added in that order, so every partial sum is the one of a sequential
    cumulative sum over the samples in (descending score, input index) order.
    thresholds receives the scores (``_from_key``). Rows (P, 1), (N, 1) of a key
    alone (no weights) count 1 each: the sums are those of ``_threshold_counts``.
    Returns the number of distinct thresholds written.
    """
    pos_w = pos.view(np.float64)
    neg_w = neg.view(np.float64)
    weighted = pos.shape[1] == 2
    n_pos = pos.shape[0]
    n_neg = neg.shape[0]
    i = 0
    j = 0
    tp = 0.0
    fp = 0.0
    m = 0
    out = thresholds.view(np.uint64)
    while i < n_pos or j < n_neg:
        t, i2, j2 = _next_row_group(pos, neg, i, j)
        if weighted:
            for q in range(i, i2):
                tp += pos_w[q, 1]
            for q in range(j, j2):
                fp += neg_w[q, 1]
        else:
            tp += i2 - i
            fp += j2 - j
        i = i2
        j = j2
        out[m] = _from_key(~t)
        tps[m] = tp
        fps[m] = fp
        m += 1
    return m


_END = np.uint64(0xFFFFFFFFFFFFFFFF)  # past every row key ``~key`` (no finite score has key 0)


@kernel(inline=True)
def _rows_below(rows, stop, t):
    """The number of the rows ``rows[:stop]`` (ascending by column 0) whose key is below t."""
    lo = 0
    hi = stop
    while lo < hi:
        mid = (lo + hi) // 2
        if rows[mid, 0] < t:
            lo = mid + 1
        else:
            hi = mid
    return lo


@kernel(inline=True)
def _merged_rank_key(pos, neg, k):
    """The key of the row of rank k (0-based, k < P + N) in the merge of two ascending row lists
    (P, *) and (N, *) uint64: the smallest key t with more than k rows <= t, bisected over the
    key range."""
    if pos.shape[0] == 0 or neg.shape[0] == 0:
        return pos[k, 0] if neg.shape[0] == 0 else neg[k, 0]
    lo = min(pos[0, 0], neg[0, 0])
    hi = max(pos[pos.shape[0] - 1, 0], neg[neg.shape[0] - 1, 0])
    one = np.uint64(1)
    while lo < hi:
        mid = lo + (hi - lo) // np.uint64(2)
        if _rows_below(pos, pos.shape[0], mid + one) + _rows_below(neg, neg.shape[0], mid + one) > k:
            hi = mid
        else:
            lo = mid + one
    return lo


@kernel()
def _area_parts_plan(pos, neg, starts):
    """Cut the merge of two ascending row lists into parts at tied-group boundaries; return the
    number of cuts (parts that are not empty).

    pos, neg: (P, 2), (N, 2) uint64 rows ``[~key, weight bits]`` (or (P, 1), (N, 1) rows
    ``[~key]``) sorted ascending, one of them possibly empty. starts: (S + 1, 4) int64,
    filled per part with its first (pos, neg) rows and the first rows of the group before
    it, and (P, N) last.
    A part starts where a group starts, at the group of the merge's row
    p (P + N) / S (about equal rows per part), two groups or more into the merge; a
    cut that cannot be placed so leaves its part empty (it starts where the next
    one does). The weights up to the cuts: :func:`_weight_sums_at`.
    """
    n_pos = pos.shape[0]
    n_neg = neg.shape[0]
    parts = starts.shape[0] - 1
    for p in range(parts + 1):
        for c in range(4):
            starts[p, c] = 0
    starts[parts, 0] = n_pos
    starts[parts, 1] = n_neg
    n_cuts = 1
    for p in range(1, parts):  # cut at the key of the row p / parts into the merge
        t = _merged_rank_key(pos, neg, p * (n_pos + n_neg) // parts)
        i = _rows_below(pos, n_pos, t)  # the rows of keys below t come first
        j = _rows_below(neg, n_neg, t)
        t_prev = max(pos[i - 1, 0] if i > 0 else np.uint64(0), neg[j - 1, 0] if j > 0 else np.uint64(0))
        i_prev = _rows_below(pos, i, t_prev)  # where the group before the cut starts
        j_prev = _rows_below(neg, j, t_prev)
        if i_prev + j_prev > starts[n_cuts - 1, 0] + starts[n_cuts - 1, 1]:  # two groups into the part before
            starts[n_cuts, 0] = i
            starts[n_cuts, 1] = j
            starts[n_cuts, 2] = i_prev
            starts[n_cuts, 3] = j_prev
            n_cuts += 1
    for p in range(n_cuts, parts):  # the parts left empty
        for c in range(4):
            starts[p, c] = starts[parts, c]
    return n_cuts


@kernel(chunked=True)
def _weight_sums_at(lo, hi, pos, neg, starts, n_cuts, fp_total, sums, totals):
    """The weights of each half ``h`` in ``lo:hi`` (0: pos, the tp; 1: neg, the fp) summed in row
    order, as one forward pass has them: at each cut's group start and at the cut
    (``sums[p, h + 2]``, ``sums[p, h]``) and in all (``totals[h]``); without ``fp_total`` (the AP
    needs none) the negatives' sum stops at the last cut and ``totals[1]`` is NaN.

    The halves are independent sums, one per thread. starts: as filled by
    :func:`_area_parts_plan` (its first ``n_cuts`` parts); sums (S, 4) float64,
    zeroed by the caller (empty parts stay 0); totals (2,) float64.
    """
    for h in range(lo, hi):
        rows = pos if h == 0 else neg
        w = rows.view(np.float64)
        total = 0.0
        i = 0
        last = 2 * n_cuts if h == 0 or fp_total else 2 * n_cuts - 1
        for stop in range(1, last):  # each cut's group before it, the cut; last: the end
            p = (stop + 1) // 2
            at_start = stop % 2 == 0 or p == n_cuts
            i1 = starts[p, h] if at_start else starts[p, h + 2]
            for q in range(i, i1):
                total += w[q, 1]
            i = i1
            if p < n_cuts:
                sums[p, h if at_start else h + 2] = total
        totals[h] = total if last == 2 * n_cuts else np.nan


@kernel(chunked=True, vectorize_division=True)
def _area_term_parts(lo, hi, pos, neg, want_ap, starts, sums, tp_total, fp_total, out, res):
    """Write the terms whose NumPy sum is scikit-learn's weighted ROC AUC (or, with ``want_ap``,
    minus its average precision) for the parts ``lo:hi`` of ``_area_parts_plan``; no curve arrays.

    One merge over each part's tied groups adds the weights as
    ``_weighted_threshold_sums`` does (tp, fp: the cumulative sums after group g,
    from the part's ``sums``) and writes, with the operations of
    ``roc_from_counts`` + ``_auc`` in their order (the points of ``_roc_points``
    with ``drop``, the origin first), ``(fpr[k+1] - fpr[k]) * (tpr[k+1] + tpr[k])
    / 2.0`` over the kept points, from ``out[i0 + j0]`` (the part's first rows;
    a later part, which decides on the last group before it too, from one before);
    with ``want_ap``, those of ``pr_from_counts`` + ``binary_ap`` (precision and
    recall reversed, recall 0 appended): ``(recall[g - 1] - recall[g]) *
    precision[g]`` (recall[-1] = 0) for the part's g-th group into
    ``out[L - 1 - (i0 + j0) - g]`` (L = len(out)). A part after the first does not
    know the curve's last point before it: its first ROC term is left for
    ``_join_area_parts``. res (S, 8) float64 per part: terms written, the first
    point's (fpr, tpr), the last point's (fpr, tpr), a negative and a positive
    fpr step seen (1.0 / 0.0, the first term's left out), groups.
    The merge takes each group's first rows without branches on the labels (a
    continuous score's group is one row of either half, which no branch
    predicts), the rest of a tied group in loops.
    """
    pos_w = pos.view(np.float64)
    neg_w = neg.view(np.float64)
    top = out.shape[0] - 1
    for p in range(lo, hi):
        i = starts[p, 0]
        j = starts[p, 1]
        i_end = starts[p + 1, 0]
        j_end = starts[p + 1, 1]
        base = i + j
        for c in range(8):
            res[p, c] = 0.0
        if base == i_end + j_end:
            continue
        if not want_ap and p > 0:  # a later part's first point is the last group of the part before
            base -= 1
        last_p = i_end - 1 if i_end > 0 else 0
        last_n = j_end - 1 if j_end > 0 else 0
        kp = pos[min(i, last_p), 0] if i < i_end else _END
        kn = neg[min(j, last_n), 0] if j < j_end else _END
        tp = sums[p, 0]
        fp = sums[p, 1]
        tp_a = sums[p, 2]  # the cumulative sums after groups g - 2 (a) and g - 1 (b)
        fp_a = sums[p, 3]
        tp_b = tp
        fp_b = fp
        first = p == 0
        g = 0 if first else 2  # a later part starts two groups or more into the curve
        fpr_k = 0.0 / fp_total  # the last kept point (unknown to a later part until it keeps one)
        tpr_k = 0.0 / tp_total
        prev_recall = 0.0 if first else tp / tp_total
        m = 0
        n_groups = 0
        dx_neg = False
        dx_pos = False
        while kp != _END or kn != _END:
            t = min(kp, kn)
            wp = pos_w[min(i, last_p), 1]  # past the end: the last row, not taken (its key is _END now)
            wn = neg_w[min(j, last_n), 1]
            take_p = kp == t
            take_n = kn == t
            tp += wp if take_p else 0.0
            fp += wn if take_n else 0.0
            i += np.int64(take_p)
            j += np.int64(take_n)
            kp = pos[min(i, last_p), 0] if i < i_end else _END
            kn = neg[min(j, last_n), 0] if j < j_end else _END
            # the rest of a tied group, a row at a time (taken for long groups of rounded scores,
            # rarely for continuous ones: either way a branch that is predicted)
            while kp == t:
                tp += pos_w[i, 1]
                i += 1
                kp = pos[min(i, last_p), 0] if i < i_end else _END
            while kn == t:
                fp += neg_w[j, 1]
                j += 1
                kn = neg[min(j, last_n), 0] if j < j_end else _END
            if want_ap:
                recall = tp / tp_total
                ps = tp + fp
                out[top - base - n_groups] = (prev_recall - recall) * (tp / ps if ps != 0.0 else 0.0)
                prev_recall = recall
            elif g >= 1 and (
                g == 1 or (fp - fp_b) - (fp_b - fp_a) != 0.0 or (tp - tp_b) - (tp_b - tp_a) != 0.0
            ):  # group g - 1 is a point of the curve
                fpr = fp_b / fp_total
                tpr = tp_b / tp_total
                if m == 0 and not first:  # its term needs the point before the part
                    res[p, 1] = fpr
                    res[p, 2] = tpr
                else:
                    dx = fpr - fpr_k
                    dx_neg = dx_neg or dx < 0.0
                    dx_pos = dx_pos or dx > 0.0
                    out[base + m] = dx * (tpr + tpr_k) / 2.0
                m += 1
                fpr_k = fpr
                tpr_k = tpr
            tp_a = tp_b
            fp_a = fp_b
            tp_b = tp
            fp_b = fp
            g += 1
            n_groups += 1
        # the last group: a point (the lines above again: as an inlined helper returning a tuple,
        # the whole loop ran at half speed)
        if not want_ap and i_end == pos.shape[0] and j_end == neg.shape[0]:
            fpr = fp_b / fp_total
            tpr = tp_b / tp_total
            if m == 0 and not first:
                res[p, 1] = fpr
                res[p, 2] = tpr
            else:
                dx = fpr - fpr_k
                dx_neg = dx_neg or dx < 0.0
                dx_pos = dx_pos or dx > 0.0
                out[base + m] = dx * (tpr + tpr_k) / 2.0
            m += 1
            fpr_k = fpr
            tpr_k = tpr
        res[p, 0] = m
        res[p, 3] = fpr_k
        res[p, 4] = tpr_k
        res[p, 5] = 1.0 if dx_neg else 0.0
        res[p, 6] = 1.0 if dx_pos else 0.0
        res[p, 7] = n_groups


@kernel()
def _join_area_parts(want_ap, starts, res, out, pieces):
    """Finish ``_area_term_parts``: write each later part's first ROC term (from the last point
    before it) and fill ``pieces`` (S, 2) int64 with each part's terms as ``[first, count]`` of
    out, in the order of the final sum (ROC: the parts in order; AP: in reverse, as its terms
    end at out[L - 1]): ``_pairwise_sum`` adds them as NumPy adds the joined terms, so nothing
    is moved. Return (a negative fpr step seen, a positive one seen)."""
    n_parts = res.shape[0]
    fpr_k = 0.0
    tpr_k = 0.0
    dx_neg = False
    dx_pos = False
    for p in range(n_parts):
        count = np.int64(res[p, 7] if want_ap else res[p, 0])
        base = starts[p, 0] + starts[p, 1] - (0 if want_ap or p == 0 else 1)  # as _area_term_parts
        row = n_parts - 1 - p if want_ap else p
        pieces[row, 0] = out.shape[0] - base - count if want_ap else base
        pieces[row, 1] = count
        if count == 0:
            continue
        if not want_ap:
            if p > 0:
                dx = res[p, 1] - fpr_k
                dx_neg = dx_neg or dx < 0.0
                dx_pos = dx_pos or dx > 0.0
                out[base] = dx * (res[p, 2] + tpr_k) / 2.0
            fpr_k = res[p, 3]
            tpr_k = res[p, 4]
        dx_neg = dx_neg or res[p, 5] != 0.0
        dx_pos = dx_pos or res[p, 6] != 0.0
    return dx_neg, dx_pos


# --------------------------------------------------------------------------- NumPy's sum

_PAIRWISE_BLOCK = 128  # NumPy's PW_BLOCKSIZE: blocks up to this size are summed by 8 accumulators


@kernel(inline=True)
def _block_sum(a, first, n):
    """NumPy's sum of a block a[first:first + n] (n <= 128) as its ``pairwise_sum`` leaf adds it:
    below 8 values one running sum from 0.0; else eight running sums over the multiples of 8,
    added pairwise, then the rest one by one. Unsigned indices (no negative-index wrap-around to
    compute): 7e6 values in blocks of 128 took 1.5 ms against 2.0 ms with signed ones."""
    u = np.uint64(first)
    end = u + np.uint64(n)
    if n < 8:
        res = 0.0
        for i in range(u, end):
            res += a[i]
        return res
    r0, r1, r2, r3 = a[u], a[u + np.uint64(1)], a[u + np.uint64(2)], a[u + np.uint64(3)]
    r4, r5, r6, r7 = a[u + np.uint64(4)], a[u + np.uint64(5)], a[u + np.uint64(6)], a[u + np.uint64(7)]
    i = u + np.uint64(8)
    eights = u + np.uint64(n - n % 8)
    while i < eights:
        r0 += a[i]
        r1 += a[i + np.uint64(1)]
        r2 += a[i + np.uint64(2)]
        r3 += a[i + np.uint64(3)]
        r4 += a[i + np.uint64(4)]
        r5 += a[i + np.uint64(5)]
        r6 += a[i + np.uint64(6)]
        r7 += a[i + np.uint64(7)]
        i += np.uint64(8)
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < end:
        res += a[i]
        i += np.uint64(1)
    return res


@kernel()
def _pairwise_sum(out, pieces, lo, n, stack, sums, gather):
    """NumPy's pairwise sum of x[lo:lo + n], n >= 1, x the pieces joined: the rows ``[first, count]``
    of pieces (S, 2) int64 stand for out[first:first + count], in order. ``0.0 +`` this over all of
    x is ``np.sum(x)`` bit for bit. Work space (passed in: allocating it here compiles a fifth
    longer): stack (3, 64) int64, sums (64,) float64, gather (128,) float64.

    NumPy (``pairwise_sum`` in its ``loops_utils.h``) sums a block of up to 128 values as
    ``_block_sum`` does; a longer one as the sum of its halves, the first half's length rounded
    down to a multiple of 8. The halves are walked here in that order from an explicit stack,
    the blocks read in place (a block across two pieces is gathered first).
    """
    n_lo = stack[0]  # the stack of halves: first, length, state (0: to split, 1: its first half
    n_len = stack[1]  # pending, 2: its second half), and in sums its first half's sum
    n_state = stack[2]
    n_sum = sums
    piece = 0  # the piece holding the next block (blocks come in order)
    piece_lo = 0  # its first index in x
    n_lo[0] = lo
    n_len[0] = n
    n_state[0] = 0
    top = 1
    while True:
        q = top - 1
        if n_len[q] > _PAIRWISE_BLOCK:  # split: the first half first
            half = n_len[q] // 2
            half -= half % 8
            n_state[q] = 1
            n_lo[top] = n_lo[q]
            n_len[top] = half
            n_state[top] = 0
            top += 1
            continue
        b_lo = n_lo[q]
        b_len = n_len[q]
        while piece_lo + pieces[piece, 1] <= b_lo:  # skips empty pieces too
            piece_lo += pieces[piece, 1]
            piece += 1
        block = out
        first = pieces[piece, 0] + b_lo - piece_lo
        if b_lo + b_len > piece_lo + pieces[piece, 1]:  # across pieces: gathered
            p = piece
            p_lo = piece_lo
            for k in range(b_len):
                while p_lo + pieces[p, 1] <= b_lo + k:
                    p_lo += pieces[p, 1]
                    p += 1
                gather[k] = out[pieces[p, 0] + b_lo + k - p_lo]
            block = gather
            first = 0
        value = _block_sum(block, first, b_len)
        top -= 1
        while top > 0:  # hand the value up: a first half waits for its second
            q = top - 1
            if n_state[q] == 1:
                half = n_len[q] // 2
                half -= half % 8
                n_sum[q] = value
                n_state[q] = 2
                n_lo[top] = n_lo[q] + half
                n_len[top] = n_len[q] - half
                n_state[top] = 0
                top += 1
                break
            value = n_sum[q] + value
            top -= 1
        if top == 0:
            return value


@kernel(chunked=True)
def _pairwise_halves(lo, hi, out, pieces, n, halves, stack, sums, gather):
    """``halves[h]`` = ``_pairwise_sum`` of the first (h = 0) or second half of x (n > 128 values),
    as NumPy halves it: ``0.0 + (halves[0] + halves[1])`` is ``np.sum(x)``. halves: (2,) float64;
    work space for each half h: ``stack[h]``, ``sums[h]``, ``gather[h]`` (see ``_pairwise_sum``)."""
    first = n // 2
    first -= first % 8
    for h in range(lo, hi):
        start, count = (0, first) if h == 0 else (first, n - first)
        halves[h] = _pairwise_sum(out, pieces, start, count, stack[h], sums[h], gather[h])


@kernel(chunked=True)
def _key_score_parts(lo, hi, pos, neg, want_ap, starts, out, areas, res):
    """For the parts ``lo:hi`` of the merge of unweighted rows cut at tied groups: each part's share
    of 2 * P * N * AUC (an exact integer), and with ``want_ap`` its AP terms.

    pos, neg: (P, 1), (N, 1) uint64 rows ``[~key]`` (``_bucket_split`` without
    weights) sorted ascending, that is by descending score. Part p walks the
    rows ``starts[p]`` to ``starts[p + 1]`` ((S + 1, 4) int64, columns 0 and 1:
    the first (pos, neg) rows; each cut at the start of a tied group, as
    ``_area_parts_plan`` cuts). Its counts before are the rows before, so each
    part computes what ``_roc_auc_twice_area`` and ``_average_precision``
    compute for its groups, the same operations in the same order. areas (S,)
    int64: the parts' shares. With ``want_ap`` (and P > 0) part p writes its
    g-th term down from ``out[L - 1 - i0 - j0]`` (L = len(out), (i0, j0) its
    first rows) and sets ``res[p, 7]`` to its number of terms: ``_join_area_parts``
    then says where each part's terms are (res (S, 8) float64, the other columns 0).
    """
    n_pos = pos.shape[0]
    top = out.shape[0] - 1
    ap = want_ap and n_pos > 0
    for p in range(lo, hi):
        i = starts[p, 0]
        j = starts[p, 1]
        i_end = starts[p + 1, 0]
        j_end = starts[p + 1, 1]
        base = i + j
        tp = i
        area = 0
        tp_f = np.float64(i)  # the counts before the part: exact in float64, as summed one by one
        fp_f = np.float64(j)
        prev_recall = tp_f / n_pos if ap else 0.0
        g = 0
        while i < i_end or j < j_end:
            _, i2, j2 = _next_row_group(pos, neg, i, j)  # never past the part: its cut starts a group
            dp = i2 - i
            dn = j2 - j
            i = i2
            j = j2
            area += dn * (2 * tp + dp)
            tp += dp
            if ap:
                tp_f += dp
                fp_f += dn
                recall = tp_f / n_pos
                out[top - base - g] = (prev_recall - recall) * (tp_f / (tp_f + fp_f))
                prev_recall = recall
            g += 1
        areas[p] = area
        for c in range(8):
            res[p, c] = 0.0
        res[p, 7] = g if ap else 0


@kernel(chunked=True)
def _class_pair_areas(lo, hi, grouped, starts, rest, areas):
    """Sort the class blocks of the columns ``lo:hi`` in place and fill their AUC counts.

    grouped: (K, N) float64, row j the scores of column j grouped by class
    (``_group_columns``): class c is ``starts[c]:starts[c + 1]``; starts: (K + 1,)
    int64. For each column j whose class j has samples, every block of row j is
    radix-sorted and ``areas[j, b]`` = 2 U of class j (positives) against class b
    on column j (``_roc_auc_twice_area``) for each other class b with samples;
    areas: (K, K) int64, zeroed by the caller (the rest is left 0). One-vs-one
    takes two entries per pair of classes. With ``rest`` (one-vs-rest), only
    ``areas[j, j]`` = 2 U of class j against all the others: the samples before
    and after class j's block are sorted as two blocks and merged with it,
    about N steps a column where the pairs take 2 N (K - 1) / K.
    """
    k = starts.shape[0] - 1
    n = starts[k]
    largest = 0
    for c in range(k):
        largest = max(
            largest, starts[c + 1] - starts[c], starts[c] if rest else 0, n - starts[c + 1] if rest else 0
        )
    scratch = np.empty(largest, np.uint64)
    for j in range(lo, hi):
        first = starts[j]
        end = starts[j + 1]
        if end == first:
            continue
        row = grouped[j]
        if rest:
            for a, b in ((0, first), (first, end), (end, n)):
                if b - a > 1:
                    _radix_sort(row[a:b], scratch[: b - a])
            pos = row[first:end]
            twice = 0
            if first > 0:
                twice += _roc_auc_twice_area(pos, row[:first])
            if end < n:
                twice += _roc_auc_twice_area(pos, row[end:])
            areas[j, j] = twice
            continue
        for c in range(k):
            m = starts[c + 1] - starts[c]
            if m > 1:
                _radix_sort(row[starts[c] : starts[c + 1]], scratch[:m])
        pos = row[first:end]
        for b in range(k):
            if b != j and starts[b + 1] > starts[b]:
                areas[j, b] = _roc_auc_twice_area(pos, row[starts[b] : starts[b + 1]])


# --------------------------------------------------------------------------- curve points


@kernel()
def _roc_points(thresholds, tps, fps, drop, tp_total, fp_total, out_thr, out_tpr, out_fpr):
    """The points of the ROC curve: (inf, 0, 0) first, then every threshold, or with ``drop``
    only the first, the last and those where either count's second difference is not 0.

    thresholds, tps, fps: (M,) float64; out_*: (M + 1,) float64. The second
    difference is NumPy's ``np.diff(x, 2)``, ``(x[i+1] - x[i]) - (x[i] - x[i-1])``,
    evaluated in the same order (scikit-learn's ``drop_intermediate``); nothing is
    dropped when M <= 2. The kept counts are divided by tp_total / fp_total
    (the rates) when that total is > 0, else written as they are. Returns the
    number of points written.
    """
    m = tps.shape[0]
    tp_div = tp_total > 0.0
    fp_div = fp_total > 0.0
    out_thr[0] = np.inf
    out_tpr[0] = 0.0 / tp_total if tp_div else 0.0
    out_fpr[0] = 0.0 / fp_total if fp_div else 0.0
    k = 1
    for i in range(m):
        keep = True
        if drop and m > 2 and 0 < i < m - 1:
            d_f = (fps[i + 1] - fps[i]) - (fps[i] - fps[i - 1])
            d_t = (tps[i + 1] - tps[i]) - (tps[i] - tps[i - 1])
            keep = d_f != 0.0 or d_t != 0.0
        if keep:
            out_thr[k] = thresholds[i]
            out_tpr[k] = tps[i] / tp_total if tp_div else tps[i]
            out_fpr[k] = fps[i] / fp_total if fp_div else fps[i]
            k += 1
    return k


# --------------------------------------------------------------------------- sample weights
