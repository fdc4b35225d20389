"""Numba kernels for the labels of classification metrics: sample weights, binary labels, string
labels, the confusion matrix.

``_check_weights`` and ``_binary_indicator`` validate in one vectorized pass of
integer ORs; ``_two_distinct_rows`` and ``_rows_equal`` (chunked) find and match
the classes of a ``str_`` array from its code points without ``np.unique``; the
confusion-matrix kernels count label pairs over a dense label range, through a
lookup table, or by class index, with or without weights (added in input order).
The ranking kernels (ROC, PR, AP) are in :mod:`fastdet._kernels.ranking`.
"""

from __future__ import annotations

import numpy as np

from fastdet._kernels import kernel

# --------------------------------------------------------------------------- sample weights


@kernel()
def _check_weights(w):
    """Return (index of the first NaN or inf, -1 if none; whether any weight is non-zero); w: (N,) float64.

    One pass of integer ORs over the bits (it vectorizes): an all-ones exponent
    marks NaN and inf, any bit but the sign a non-zero weight; the index of a
    bad weight is then searched for.
    """
    bits = w.view(np.uint64)
    exponent = np.uint64(0x7FF0000000000000)
    bad = np.uint64(0)
    nonzero = np.uint64(0)
    for k in range(np.uint64(bits.shape[0])):
        x = bits[k]
        bad |= np.uint64((x & exponent) == exponent)
        nonzero |= x << np.uint64(1)
    if bad != 0:
        for k in range(w.shape[0]):
            if not np.isfinite(w[k]):
                return k, nonzero != 0
    return -1, nonzero != 0


@kernel()
def _binary_indicator(y, out):
    """``out = (y == 1)`` as uint8 for y (N,) int64; return whether y holds only values of {0, 1}
    or of {-1, 1} (one pass of ORs that vectorizes)."""
    minus = np.uint8(0)
    zero = np.uint8(0)
    other = np.uint8(0)
    for k in range(np.uint64(y.shape[0])):
        v = y[k]
        out[k] = np.uint8(v == 1)
        minus |= np.uint8(v == -1)
        zero |= np.uint8(v == 0)
        other |= np.uint8((v < -1) | (v > 1))
    return other == 0 and (minus == 0 or zero == 0)


# --------------------------------------------------------------------------- string labels


@kernel()
def _same_rows(chars, i, j):
    """Whether rows i and j of chars (N, L) uint32 are equal."""
    for c in range(chars.shape[1]):
        if chars[i, c] != chars[j, c]:
            return False
    return True


@kernel(chunked=True)
def _two_distinct_rows(lo, hi, chars, bounds, second, many):
    """Distinct rows of chars (N, L) uint32 (a ``str_`` array's code points), block by block.

    For blocks ``lo:hi`` (block b: rows ``bounds[b]:bounds[b + 1]``) writes second[b], the
    first row of the block that differs from row 0 (-1: none), and many[b] = 1 when the
    block also holds a row that differs from both (a third distinct row), else 0.
    """
    for b in range(lo, hi):
        s = -1
        m = 0
        for i in range(bounds[b], bounds[b + 1]):
            if not _same_rows(chars, i, 0):
                if s < 0:
                    s = i
                elif not _same_rows(chars, i, s):
                    m = 1
                    break
        second[b] = s
        many[b] = m


@kernel(chunked=True)
def _rows_equal(lo, hi, chars, row, out):
    """out[i] = 1 where row i of chars (N, L) uint32 equals row (L,) uint32, else 0, for i in lo:hi."""
    for i in range(lo, hi):
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


@kernel()
def _row_hash(chars, i):
    """A 64-bit hash of row i of chars (N, L) uint32 (its code points).

    Each word is multiplied by an odd constant of its own position (no chain of
    dependent multiplies: the products overlap), then the sum is mixed (MurmurHash3's
    finalizer), so that the low bits, which pick the slot, depend on every word.
    """
    h = np.uint64(0)
    m = np.uint64(0x9E3779B97F4A7C15)
    for c in range(chars.shape[1]):
        h += np.uint64(chars[i, c]) * m
        m += np.uint64(0xC6A4A7935BD1E996)  # even: m stays odd
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xFF51AFD7ED558CCD)
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xC4CEB9FE1A85EC53)
    h ^= h >> np.uint64(33)
    return h


@kernel()
def _factorize_rows(a, b, codes):
    """Number the distinct rows of a (Na, L) then b (Nb, L) uint32 (``str_`` code points) as first seen.

    codes: (Na + Nb,) int64 output, the number of each row (a's rows first, then b's).
    Returns firsts (K,) int64: the index (into a then b) of the first row of each
    number. An open-addressing hash table over the rows: one pass, no sort.
    """
    na = a.shape[0]
    n = na + b.shape[0]
    cap = 1024
    table = np.full(cap, -1, np.int64)
    firsts = np.empty(64, np.int64)
    hashes = np.empty(64, np.uint64)
    k = 0
    for g in range(n):
        src = a if g < na else b
        r = g if g < na else g - na
        h = _row_hash(src, r)
        slot = np.int64(h & np.uint64(cap - 1))
        while True:
            e = table[slot]
            if e < 0:
                break
            if hashes[e] == h:
                f = firsts[e]
                other = a if f < na else b
                fr = f if f < na else f - na
                same = True
                for c in range(a.shape[1]):
                    if src[r, c] != other[fr, c]:
                        same = False
                        break
                if same:
                    break
            slot = (slot + 1) & (cap - 1)
        if e >= 0:
            codes[g] = e
            continue
        if k == firsts.shape[0]:
            grown = np.empty(2 * k, np.int64)
            grown[:k] = firsts
            firsts = grown
            grown_h = np.empty(2 * k, np.uint64)
            grown_h[:k] = hashes
            hashes = grown_h
        firsts[k] = g
        hashes[k] = h
        table[slot] = k
        codes[g] = k
        k += 1
        if 2 * k > cap:  # keep the load at most one half: rehash into a table twice as large
            cap *= 2
            table = np.full(cap, -1, np.int64)
            for q in range(k):
                s = np.int64(hashes[q] & np.uint64(cap - 1))
                while table[s] >= 0:
                    s = (s + 1) & (cap - 1)
                table[s] = q
    return firsts[:k].copy()
