"""Numba kernels that sort scores for the ranking metrics (:mod:`fastdet._kernels.ranking`).

Scores become unsigned integer keys with the float order (``_to_key``). Without
weights each label's half is sorted by a least-significant-digit radix sort
(``_radix_sort``). With sample weights, ``_bucket_counts`` and ``_bucket_split``
split the samples by label and, in the same pass, into buckets by the leading
bits of the key (a stable counting sort, chunked on threads), as 16-byte
records ``[~key, weight bits]``; ``_sort_buckets`` finishes the buckets on
threads with a most-significant-digit radix sort (``_msd_sort``). Both sorts are
stable, so tied scores keep their input order.
"""

from __future__ import annotations

import numpy as np

from fastdet._kernels import kernel

_SIGN = np.uint64(1 << 63)
_RADIX_BITS = 11  # 6 passes of 11 bits cover 64-bit keys; 2048 buckets stay in L1/L2
_RADIX_PASSES = 6
_WIDE_SORT = 1 << 17  # _radix_sort's first passes take 8-bit digits above this many keys (1 MiB)


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
    """Sort finite float64 ``values`` in place, ascending; scratch: (N,) uint64 work space.

    Least-significant-digit radix sort of the keys (``_to_key``). First passes
    sort by the leading bits of ``key - min``: two of 11 bits, or, above
    ``_WIDE_SORT`` keys, three of 8 bits (256 buckets keep a pass's writes in
    cache where 2048 spread over megabytes miss it: 7 ns a key at 1e6 against
    3 ns at 1e5). If the keys span more bits, an insertion sort finishes the
    keys that share those (scores rarely do), and when it would move more than
    2 N keys, the keys are sorted by all the 11-bit digits of the key from the
    order they are in (any order will do), digits that every key shares skipped.
    """
    n = values.shape[0]
    a = values.view(np.uint64)
    if n < 2:
        if n == 1:
            a[0] = _from_key(_to_key(a[0]))  # -0.0 as +0.0, as for longer inputs
        return
    lo = _to_key(a[0])
    hi = lo
    for i in range(n):
        k = _to_key(a[i])
        a[i] = k
        lo = min(lo, k)
        hi = max(hi, k)
    bits = 8 if n > _WIDE_SORT else _RADIX_BITS
    n_passes = 3 if n > _WIDE_SORT else 2
    mask = np.uint64((1 << bits) - 1)
    span = hi - lo
    n_bits = 0
    while span != 0:
        span >>= np.uint64(1)
        n_bits += 1
    low = max(n_bits - n_passes * bits, 0)  # the bits the first passes leave unsorted
    counts = np.zeros((_RADIX_PASSES, 1 << _RADIX_BITS), np.int64)
    ushift = np.uint64(low)
    ubits = np.uint64(bits)
    for i in range(n):
        k = (a[i] - lo) >> ushift
        counts[0, k & mask] += 1
        counts[1, (k >> ubits) & mask] += 1
        if n_passes == 3:
            counts[2, (k >> (ubits + ubits)) & mask] += 1
    offs = np.empty(1 << _RADIX_BITS, np.int64)
    src = a
    dst = scratch
    base = lo
    while True:
        for p in range(n_passes):
            if not _digit_offsets(counts, p, n, offs):
                continue  # every key has the same digit: the pass would not move anything
            shift = np.uint64(low + p * bits)
            for i in range(n):
                k = src[i]
                d = ((k - base) >> shift) & mask
                j = offs[d]
                offs[d] = j + 1
                dst[j] = k
            src, dst = dst, src
        if low == 0:
            break
        budget = 2 * n
        for i in range(1, n):
            k = src[i]
            j = i - 1
            while j >= 0 and src[j] > k:
                src[j + 1] = src[j]
                j -= 1
            src[j + 1] = k
            budget -= i - 1 - j
            if budget < 0:
                break
        if budget >= 0:
            break
        counts[:] = 0  # too many shared leading bits: every digit of the key
        _key_histograms(src, counts)
        low = 0
        base = np.uint64(0)
        bits = _RADIX_BITS
        mask = np.uint64((1 << _RADIX_BITS) - 1)
        n_passes = _RADIX_PASSES
    for i in range(n):
        a[i] = _from_key(src[i])


# ----------------------------------------------------------------- weighted: bucketed split, MSD sort

_TOP_BITS = 12  # the split distributes each half into up to 4096 buckets by the leading bits of the key
# (12: weighted halves of 1e7 samples, 2-core Zen 5 VM, three alternations in one process:
# float32 sigmoid scores 61-63 ms against 65-66 with 13 bits, rounded 27-28 against 30)
_SMALL_SEGMENT = 24  # segments up to this size are finished by insertion sort
_MAX_WIDTH = 14  # an MSD pass splits by at most 14 bits: 16384 buckets, about one row each
_LAST_WIDTH = 16  # ... or by up to 16 when that leaves one key per bucket (the segment's last pass)


@kernel(chunked=True)
def _key_bounds(lo, hi, scores, bounds, found):
    """The smallest and largest ``_to_key`` of each chunk ``lo:hi`` of scores (N,) float64 (chunk c:
    ``scores[bounds[c]:bounds[c + 1]]``) into ``found[c]`` (an empty chunk: (2**64 - 1, 0));
    found: (C, 2) uint64."""
    bits = scores.view(np.uint64)
    for c in range(lo, hi):
        k_lo = np.uint64(0xFFFFFFFFFFFFFFFF)
        k_hi = np.uint64(0)
        for k in range(np.uint64(bounds[c]), np.uint64(bounds[c + 1])):
            key = _to_key(bits[k])
            k_lo = min(k_lo, key)
            k_hi = max(k_hi, key)
        found[c, 0] = k_lo
        found[c, 1] = k_hi


@kernel(chunked=True)
def _bucket_counts(lo, hi, bounds, y, scores, weights, top, shift, n_buckets, counts):
    """Count the samples of non-zero weight of the chunks ``lo:hi`` per label and bucket.

    Chunk c is the samples ``bounds[c]:bounds[c + 1]``. A sample's bucket is
    ``(top - key) >> shift`` (top: the largest ``_to_key``, so bucket 0 holds the
    highest scores), offset by n_buckets for positives: ``counts[c, bucket] += 1``.
    y: (N,) uint8 0/1 (exactly); scores: (N,) float64; weights: (N,) float64, or
    empty: no weights, every sample counts; top: uint64; shift: int64; counts:
    (C, 2 * n_buckets) int64, zeroed by the caller.
    """
    bits = scores.view(np.uint64)
    ushift = np.uint64(shift)
    weighted = weights.shape[0] != 0
    for c in range(lo, hi):
        row = counts[c]
        for k in range(np.uint64(bounds[c]), np.uint64(bounds[c + 1])):  # unsigned: no index wrap-around
            d = np.int64((top - _to_key(bits[k])) >> ushift) + n_buckets * np.int64(y[k])
            if weighted:
                row[d] += np.int64(weights[k] != 0.0)
            else:
                row[d] += 1


@kernel(chunked=True)
def _bucket_split(lo, hi, bounds, y, scores, weights, top, shift, n_buckets, next_slot, rec):
    """Write the samples of non-zero weight of the chunks ``lo:hi`` into their buckets, in input order.

    Buckets as in ``_bucket_counts``: the negatives' buckets first, then the
    positives'. Records are rows ``[~key, weight bits]`` of rec (M, 2) uint64:
    ``~key`` ascends as the score descends, and the weight is
    ``weights.view(uint64)``, one 16-byte write per sample; with empty weights
    (no weights) every sample is written, as a row ``[~key]`` of rec (N, 1).
    next_slot (C, 2 * n_buckets) int64: the first free row of each (chunk,
    bucket), advanced in place; the rows of a bucket are laid out chunk after
    chunk, so a bucket keeps the input order.
    """
    bits = scores.view(np.uint64)
    wbits = weights.view(np.uint64)
    ushift = np.uint64(shift)
    zero = np.uint64(0)
    for c in range(lo, hi):
        row = next_slot[c]
        if weights.shape[0] == 0:  # no weights: every sample, a one-column row [~key]
            for k in range(np.uint64(bounds[c]), np.uint64(bounds[c + 1])):
                key = _to_key(bits[k])
                d = np.int64((top - key) >> ushift) + n_buckets * np.int64(y[k])
                j = row[d]
                row[d] = j + 1
                rec[j, zero] = ~key
            continue
        for k in range(np.uint64(bounds[c]), np.uint64(bounds[c + 1])):
            if weights[k] == 0.0:
                continue
            key = _to_key(bits[k])
            d = np.int64((top - key) >> ushift) + n_buckets * np.int64(y[k])
            j = row[d]
            row[d] = j + 1
            rec[j, 0] = ~key
            rec[j, 1] = wbits[k]


@kernel()
def _insertion_sort_records(rec, start, stop):
    """Stable ascending insertion sort of the rows rec[start:stop] (N, 2) or (N, 1) uint64 by column 0."""
    last = rec.shape[1] - 1  # the payload's column; 0 (the key again) for one-column rows
    for i in range(start + 1, stop):
        k = rec[i, 0]
        v = rec[i, last]
        j = i - 1
        while j >= start and rec[j, 0] > k:
            rec[j + 1, last] = rec[j, last]
            rec[j + 1, 0] = rec[j, 0]
            j -= 1
        rec[j + 1, last] = v
        rec[j + 1, 0] = k


@kernel()
def _copy_records(src, s_off, dst, d_off, m):
    """dst[d_off + i] = src[s_off + i] for i < m (rows of two uint64, or of one)."""
    last = np.uint64(src.shape[1] - 1)
    for i in range(np.uint64(m)):
        dst[np.uint64(d_off) + i, last] = src[np.uint64(s_off) + i, last]
        dst[np.uint64(d_off) + i, 0] = src[np.uint64(s_off) + i, 0]


@kernel()
def _msd_sort(rec, base, m, tmp, seg, seg_lo, seg_hi, counts):
    """Stable ascending sort of the rows rec[base:base + m] (N, 2) uint64 by their key (column 0);
    rows (N, 1) of a key alone work the same (tmp then (>= m, 1)).

    Most-significant-digit radix sort: a segment is distributed (a stable counting
    sort) by the leading bits of ``key - min`` over its own key range, about log2
    of its size and at most ``_MAX_WIDTH`` at a time, into the other buffer (rec <->
    tmp); each bucket of more than ``_SMALL_SEGMENT`` rows is then sorted the same
    way, a bucket of equal keys is done, and the small buckets between those are
    insertion sorted together (buckets are in key order, about one row each). tmp: (>= m, 2)
    uint64 work space indexed from 0; seg (cap, 3) int64, seg_lo, seg_hi (cap,)
    uint64: the stack of pending segments (cap >= m // _SMALL_SEGMENT + 1);
    counts: (2 ** _LAST_WIDTH + 1,) int64. Rows of equal keys keep their order. Hot loops index
    with unsigned integers: no negative-index wrap-around to compute (about a
    third faster on rows streamed from memory).
    """
    if m <= _SMALL_SEGMENT:
        _insertion_sort_records(rec, base, base + m)
        return
    one = np.uint64(1)
    last = rec.shape[1] - 1
    lo = rec[base, 0]
    hi = lo
    differ = np.uint64(0)  # the bits in which some key differs from the first
    for i in range(np.uint64(base), np.uint64(base + m)):  # unsigned: no negative-index wrap
        key = rec[i, np.uint64(0)]
        lo = min(lo, key)
        hi = max(hi, key)
        differ |= key ^ rec[np.uint64(base), np.uint64(0)]
    if lo == hi:
        return
    # low bits every key shares (29 for float32 scores as float64 keys) are no digits: the
    # differences between keys are multiples of 2 ** shared
    shared = 0
    while (differ >> np.uint64(shared)) & one == 0:
        shared += 1
    # a segment (start, stop relative to base; 1 when its rows are in tmp) and its key range
    seg[0, 0] = 0
    seg[0, 1] = m
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
            src, src_off, dst, dst_off = tmp, 0, rec, base
        else:
            src, src_off, dst, dst_off = rec, base, tmp, 0
        size = s1 - s0
        width = 4
        while width < _MAX_WIDTH and (1 << width) < size:
            width += 1
        n_bits = 0
        x = span >> np.uint64(shared)
        while x != 0:
            x >>= one
            n_bits += 1
        if n_bits <= _LAST_WIDTH and (1 << n_bits) <= 4 * size:
            width = n_bits  # one pass leaves one key per digit: the segment is sorted
        shift = (n_bits - width if n_bits > width else 0) + shared
        ushift = np.uint64(shift)
        n_dig = np.int64(span >> ushift) + 1
        for d in range(n_dig + 1):
            counts[d] = 0
        for i in range(np.uint64(s0 + src_off), np.uint64(s1 + src_off)):
            key = src[i, 0]
            d = np.int64((key - k_lo) >> ushift)
            counts[d + 1] += 1
        for d in range(n_dig):
            counts[d + 1] += counts[d]
        # stable scatter into the other buffer
        if last == 0:
            for i in range(np.uint64(s0 + src_off), np.uint64(s1 + src_off)):
                d = np.int64((src[i, 0] - k_lo) >> ushift)
                j = s0 + counts[d] + dst_off
                counts[d] += 1
                dst[j, 0] = src[i, 0]
        else:
            for i in range(np.uint64(s0 + src_off), np.uint64(s1 + src_off)):
                d = np.int64((src[i, 0] - k_lo) >> ushift)
                j = s0 + counts[d] + dst_off
                counts[d] += 1
                dst[j, 0] = src[i, 0]
                dst[j, 1] = src[i, 1]
        # counts[d] is now the end of bucket d (relative to s0); the buckets are in dst. Buckets
        # of more than _SMALL_SEGMENT rows go on the stack (flagged 2 when they hold one key:
        # done); the rest are sorted by one insertion sort over each stretch between those (the
        # buckets are in key order, so no row moves past its bucket's start, and with about one
        # row per bucket few rows move)
        pushed = top
        b0 = s0
        for d in range(n_dig):
            b1 = s0 + counts[d]
            if b1 - b0 > _SMALL_SEGMENT:
                b_lo = dst[b0 + dst_off, 0]
                b_hi = b_lo
                if shift > shared:  # else the digit is the whole key: one key per bucket
                    for i in range(np.uint64(b0 + dst_off), np.uint64(b1 + dst_off)):
                        key = dst[i, 0]
                        b_lo = min(b_lo, key)
                        b_hi = max(b_hi, key)
                seg[top, 0] = b0
                seg[top, 1] = b1
                seg[top, 2] = 2 if b_lo == b_hi else (0 if in_tmp else 1)
                seg_lo[top] = b_lo
                seg_hi[top] = b_hi
                top += 1
            b0 = b1
        stretch = s0
        kept = pushed
        for q in range(pushed, top + 1):
            stop = seg[q, 0] if q < top else s1
            if stop > stretch:
                _insertion_sort_records(dst, stretch + dst_off, stop + dst_off)
                if not in_tmp:  # finished in tmp: back to rec
                    _copy_records(tmp, stretch, rec, base + stretch, stop - stretch)
            if q == top:
                break
            stretch = seg[q, 1]
            if seg[q, 2] == 2:  # one key: sorted
                if not in_tmp:
                    _copy_records(tmp, stop, rec, base + stop, stretch - stop)
            else:  # to be sorted: keep it on the stack
                seg[kept, 0] = stop
                seg[kept, 1] = stretch
                seg[kept, 2] = seg[q, 2]
                seg_lo[kept] = seg_lo[q]
                seg_hi[kept] = seg_hi[q]
                kept += 1
        top = kept


@kernel()
def _sort_bucket_range(rec, ends, b0, b1):
    """Sort the rows of each bucket b in b0:b1, rec[ends[b - 1]:ends[b]] (ends[-1] = 0), stably by key.

    rec: (N, 2) uint64 rows ``[key, payload]``, or (N, 1) keys; ends: (B,) int64 non-decreasing
    with ends[B - 1] = N. Buckets in key order give a sorted array.
    """
    largest = 0
    start = ends[b0 - 1] if b0 > 0 else 0
    for b in range(b0, b1):
        largest = max(largest, ends[b] - start)
        start = ends[b]
    if largest < 2:
        return
    tmp = np.empty((largest, rec.shape[1]), np.uint64)
    cap = largest // _SMALL_SEGMENT + 2
    seg = np.empty((cap, 3), np.int64)
    seg_lo = np.empty(cap, np.uint64)
    seg_hi = np.empty(cap, np.uint64)
    counts = np.empty((1 << _LAST_WIDTH) + 1, np.int64)
    start = ends[b0 - 1] if b0 > 0 else 0
    for b in range(b0, b1):
        stop = ends[b]
        if stop - start > 1:
            _msd_sort(rec, start, stop - start, tmp, seg, seg_lo, seg_hi, counts)
        start = stop


@kernel(chunked=True)
def _sort_buckets(lo, hi, rec, ends, groups):
    """Sort the buckets of the groups ``lo:hi`` (see ``_sort_bucket_range``); group g holds the
    buckets ``groups[g]:groups[g + 1]``, groups: (G + 1,) int64."""
    for g in range(lo, hi):
        _sort_bucket_range(rec, ends, groups[g], groups[g + 1])
