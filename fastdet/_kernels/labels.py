"""Numba kernels for the labels of classification metrics: sample weights, binary labels, string
labels, the confusion matrix.

``_check_weights`` and ``_binary_indicator`` validate in one vectorized pass of
integer ORs (chunked); ``_two_distinct_rows`` and ``_rows_equal`` (chunked) find and match
the classes of a ``str_`` array from its code points without ``np.unique``;
``_factorize_rows`` (chunked, a hash table per chunk) and ``_renumber`` number the
strings of two label arrays; the confusion-matrix kernels count label pairs over a
dense label range, through a lookup table, or by class index, with or without
weights (added in input order).
The ranking kernels (ROC, PR, AP) are in :mod:`fastdet._kernels.ranking`.
"""

from __future__ import annotations

import numpy as np

from fastdet._kernels import kernel

# --------------------------------------------------------------------------- sample weights


@kernel(chunked=True)
def _check_weights(lo, hi, w, bounds, found):
    """For the chunks ``lo:hi`` of w (N,) float64 (chunk c: ``w[bounds[c]:bounds[c + 1]]``), set
    ``found[c, 0]`` to the index of the chunk's first NaN or inf (-1 if none) and ``found[c, 1]``
    to 1 if it holds a non-zero value, else 0; found: (C, 2) int64.

    One pass of integer ORs over the bits (it vectorizes): an all-ones exponent
    marks NaN and inf, any bit but the sign a non-zero weight; the index of a
    bad weight is then searched for.
    """
    bits = w.view(np.uint64)
    exponent = np.uint64(0x7FF0000000000000)
    for c in range(lo, hi):
        bad = np.uint64(0)
        nonzero = np.uint64(0)
        for k in range(np.uint64(bounds[c]), np.uint64(bounds[c + 1])):
            x = bits[k]
            bad |= np.uint64((x & exponent) == exponent)
            nonzero |= x << np.uint64(1)
        found[c, 0] = -1
        found[c, 1] = np.int64(nonzero != 0)
        if bad != 0:
            for k in range(bounds[c], bounds[c + 1]):
                if not np.isfinite(w[k]):
                    found[c, 0] = k
                    break


@kernel(chunked=True)
def _binary_indicator(lo, hi, y, bounds, out, seen):
    """``out = (y == 1)`` as uint8 for the chunks ``lo:hi`` of y (N,) int64 (chunk c:
    ``y[bounds[c]:bounds[c + 1]]``), with ``seen[c]`` = (a -1 in it, a 0, a value outside
    [-1, 1]) as 0/1; seen: (C, 3) uint8. One pass of ORs that vectorizes."""
    for c in range(lo, hi):
        minus = np.uint8(0)
        zero = np.uint8(0)
        other = np.uint8(0)
        for k in range(np.uint64(bounds[c]), np.uint64(bounds[c + 1])):
            v = y[k]
            out[k] = np.uint8(v == 1)
            minus |= np.uint8(v == -1)
            zero |= np.uint8(v == 0)
            other |= np.uint8((v < -1) | (v > 1))
        seen[c, 0] = minus
        seen[c, 1] = zero
        seen[c, 2] = other


# --------------------------------------------------------------------------- string labels


@kernel(inline=True)
def _row_differs(flat, width, i, j):
    """Non-zero when rows i and j (uint64) of flat (N * width,) uint32 differ: their XORs ORed
    together (no branch)."""
    d = np.uint32(0)
    for c in range(width):
        d |= flat[i * width + c] ^ flat[j * width + c]
    return d


@kernel(chunked=True)
def _two_distinct_rows(lo, hi, chars, bounds, second, many):
    """Distinct rows of chars (N, L) uint32 (a ``str_`` array's code points), block by block.

    For blocks ``lo:hi`` (block b: rows ``bounds[b]:bounds[b + 1]``) writes second[b], the
    first row of the block that differs from row 0 (-1: none), and many[b] = 1 when the
    block also holds a row that differs from both (a third distinct row), else 0. Past
    that first row, every row is compared with both without a branch (mixed labels would
    mispredict one per row or so).
    """
    width = np.uint64(chars.shape[1])
    flat = chars.reshape(-1)
    zero = np.uint64(0)
    for b in range(lo, hi):
        s = -1
        m = np.uint32(0)
        start = np.uint64(bounds[b])
        stop = np.uint64(bounds[b + 1])
        for i in range(start, stop):
            if _row_differs(flat, width, i, zero) != 0:
                s = np.int64(i)
                break
        if s >= 0:
            us = np.uint64(s)
            for i in range(us + np.uint64(1), stop):
                m |= np.uint32(_row_differs(flat, width, i, zero) != 0) & np.uint32(
                    _row_differs(flat, width, i, us) != 0
                )
        second[b] = s
        many[b] = np.uint8(m != 0)


@kernel(chunked=True)
def _rows_equal(lo, hi, chars, row, out):
    """out[i] = 1 where row i of chars (N, L) uint32 equals row (L,) uint32, else 0, for i in lo:hi.

    Branch-free: the XORs of a row's code points with ``row`` are ORed together (no
    early exit, whose mispredictions cost about three times the loads on mixed labels).
    """
    width = np.uint64(chars.shape[1])
    flat = chars.reshape(-1)
    for i in range(np.uint64(lo), np.uint64(hi)):  # unsigned: no negative-index wrap-around
        d = np.uint32(0)
        base = i * width
        for c in range(width):
            d |= flat[base + c] ^ row[c]
        out[i] = np.uint8(d == 0)


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
def _class_sums_weighted(t, p, weights, lo, sums, present):
    """Per-label sums of ``weights`` (float64), each added in input order (``np.bincount``'s bits,
    as scikit-learn's per-class sums): ``sums[0]`` over the samples with t == p == label (the
    true positives), ``sums[1]`` over p == label, ``sums[2]`` over t == label; marks
    ``present[t - lo]`` and ``present[p - lo]``.

    t, p: (N,) int64 within [lo, lo + S); sums: (3, S) float64 and present: (S,) uint8, zeroed by
    the caller. A sample off the diagonal adds 0.0 to ``sums[0]``, which leaves a sum started at
    +0.0 unchanged (weights are finite).
    """
    for k in range(t.shape[0]):
        w = weights[k]
        a = t[k] - lo
        b = p[k] - lo
        sums[0, a] += w if a == b else 0.0
        sums[1, b] += w
        sums[2, a] += w
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


@kernel(inline=True)
def _row_hash(chars, i):
    """A 64-bit hash of row i of chars (N, L) uint32 (its code points).

    Each word is multiplied by an odd constant of its own position (no chain of
    dependent multiplies: the products overlap), then the sum is mixed (MurmurHash3's
    finalizer), so that the low bits, which pick the slot, depend on every word.
    """
    h = np.uint64(0)
    m = np.uint64(0x9E3779B97F4A7C15)
    for c in range(np.uint64(chars.shape[1])):
        h += np.uint64(chars[i, c]) * m
        m += np.uint64(0xC6A4A7935BD1E996)  # even: m stays odd
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xFF51AFD7ED558CCD)
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xC4CEB9FE1A85EC53)
    h ^= h >> np.uint64(33)
    return h


@kernel()
def _number_rows(src, codes, r0, r1, table, rows, hashes, k, first_of, firsts):
    """The hot loop of ``_factorize_rows``: number the rows r0:r1 of src (N, L) uint32 into codes.

    table: open-addressing slots (a power of two long, -1: free) holding numbers;
    rows, hashes: the k distinct rows so far and their hashes; a new row gets number
    k, and ``firsts[k] = first_of + r``. Stops after the row that makes k reach half
    the table (or the length of hashes), so that the caller can grow them; no array
    is reassigned in here (that keeps the loop in registers). Returns (next row, k).
    """
    width = np.uint64(src.shape[1])
    one = np.uint64(1)
    mask = np.uint64(table.shape[0] - 1)
    limit = min(table.shape[0] // 2, hashes.shape[0])
    for r in range(np.uint64(r0), np.uint64(r1)):  # unsigned: no negative-index wrap-around
        h = _row_hash(src, r)
        slot = h & mask
        while True:
            e = table[slot]
            if e < 0:
                break
            if hashes[e] == h:
                d = np.uint32(0)
                for c in range(width):  # branch-free compare with the row kept in cache
                    d |= src[r, c] ^ rows[e, c]
                if d == 0:
                    break
            slot = (slot + one) & mask
        if e < 0:
            e = k
            for c in range(width):
                rows[k, c] = src[r, c]
            hashes[k] = h
            table[slot] = k
            firsts[k] = first_of + np.int64(r)
            k += 1
            if k == limit:
                codes[r] = e
                return np.int64(r) + 1, k
        codes[r] = e
    return r1, k


@kernel(chunked=True)
def _factorize_rows(lo, hi, a, b, bounds, codes_a, codes_b, firsts, found):
    """Number the distinct rows of a and b (N, L) uint32 (``str_`` code points) chunk by chunk.

    Chunk c holds the rows ``bounds[c]:bounds[c + 1]`` of a, then the same rows of b;
    its rows are numbered 0, 1, ... as first seen within the chunk (a's rows of the
    chunk first), by an open-addressing hash table of the chunk's own (no sort),
    which keeps a copy of each distinct row (``_number_rows``):
    codes_a[i], codes_b[i] (N,) int64 receive those numbers. The K distinct rows of
    chunk c are written to ``firsts[2 * bounds[c] + q]`` (q < K) as the index of their
    first row in a then b (i for a's row i, N + i for b's), and K to found[c]. A chunk
    of m rows has at most 2m distinct ones, so the chunks' entries never overlap.
    """
    na = a.shape[0]
    for ch in range(lo, hi):
        start = bounds[ch]
        stop = bounds[ch + 1]
        out = firsts[2 * start : 2 * stop]
        table = np.full(1024, -1, np.int64)
        rows = np.empty((512, a.shape[1]), np.uint32)
        hashes = np.empty(512, np.uint64)
        k = 0
        for side in range(2):
            src = a if side == 0 else b
            codes = codes_a if side == 0 else codes_b
            r = start
            while r < stop:
                r, k = _number_rows(src, codes, r, stop, table, rows, hashes, k, side * na, out)
                if 2 * k == table.shape[0]:  # load one half: twice as large a table, rehashed
                    cap = 2 * table.shape[0]
                    table = np.full(cap, -1, np.int64)
                    grown = np.empty((cap // 2, a.shape[1]), np.uint32)
                    grown[:k] = rows
                    rows = grown
                    grown_h = np.empty(cap // 2, np.uint64)
                    grown_h[:k] = hashes
                    hashes = grown_h
                    for q in range(k):
                        s = np.int64(hashes[q] & np.uint64(cap - 1))
                        while table[s] >= 0:
                            s = (s + 1) & (cap - 1)
                        table[s] = q
        found[ch] = k


@kernel(chunked=True)
def _renumber(lo, hi, bounds, starts, remap, codes_a, codes_b):
    """Replace the chunk-local numbers of ``_factorize_rows`` by global ones, for the chunks lo:hi:
    ``codes[i] = remap[starts[c] + codes[i]]`` for the rows i of chunk c in codes_a and codes_b
    (N,) int64; starts: (C,) int64, where chunk c's numbers begin in remap (int64)."""
    for ch in range(lo, hi):
        off = starts[ch]
        for i in range(bounds[ch], bounds[ch + 1]):
            codes_a[i] = remap[off + codes_a[i]]
            codes_b[i] = remap[off + codes_b[i]]
