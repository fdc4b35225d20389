"""Run-length mask kernels with pycocotools' ``maskApi.c`` semantics (Numba only, no validation).

A set of masks is stored column-major, one run-length list per mask, in one flat
``int64`` array: mask ``i`` is ``runs[start[i]:start[i] + count[i]]`` (CSR
offsets ``roff`` give ``start = roff[:-1]``, ``count = diff(roff)``). Runs
alternate background / foreground and start with background (a first run of 0
when pixel 0 is set); they are kept exactly as given, empty runs included,
because pycocotools' outputs depend on them. Per-mask sizes are ``int64``
arrays ``h`` and ``w``. Compressed ``counts`` strings are concatenated into one
``uint8`` buffer with CSR byte offsets ``soff``.

Batch kernels are :class:`~fastdet._kernels.ChunkedKernel` objects: their
first two arguments ``lo, hi`` bound the masks (or groups, or rows) they
process, and a call ``k(n, *args)`` spreads ``[0, n)`` over threads; the
wrappers call ``k.serial(n, *args)`` for small inputs, where starting threads
costs more than it saves. Every iteration writes only its own mask's (or
group's, or row's) slice of the outputs.
"""

from __future__ import annotations

import numpy as np

from fastdet._kernels import kernel
from fastdet._kernels.rlestring import (
    _UINT32,
    STORE_ENDS,
    STORE_RUNS,
    _advance,
    _bad_bytes,
    _bbox_add,
    _bbox_finish,
    _scan_fast,
    _scan_one,
)


# ----------------------------------------------------------------------------- compressed strings
@kernel()
def _string_length(runs, a, n):
    """Bytes rleToString writes for runs[a:a+n]."""
    out = 0
    for j in range(n):
        x = runs[a + j] - runs[a + j - 2] if j > 2 else runs[a + j]
        more = True
        while more:
            c = x & 0x1F
            x >>= 5
            more = x != -1 if (c & 0x10) != 0 else x != 0
            out += 1
    return out


@kernel()
def _encode_one(runs, a, n, buf, p):
    """rleToString of runs[a:a+n] into buf[p:]; returns where it ends (at most 7 bytes a run)."""
    for j in range(n):
        x = runs[a + j] - runs[a + j - 2] if j > 2 else runs[a + j]
        more = True
        while more:
            c = x & 0x1F
            x >>= 5
            more = x != -1 if (c & 0x10) != 0 else x != 0
            if more:
                c |= 0x20
            buf[p] = c + 48
            p += 1
    return p


@kernel(chunked=True)
def string_lengths(lo, hi, runs, start, count, out):
    """``out[i]``: bytes in mask i's compressed string (rleToString), for masks ``lo:hi``."""
    for i in range(lo, hi):
        out[i] = _string_length(runs, start[i], count[i])


@kernel(chunked=True)
def encode_strings(lo, hi, runs, start, count, soff, buf):
    """rleToString of masks ``lo:hi`` into ``buf[soff[i]:soff[i + 1]]`` (``soff``: :func:`string_lengths`)."""
    for i in range(lo, hi):
        _encode_one(runs, start[i], count[i], buf, soff[i])


# ----------------------------------------------------------------------------- statistics of runs
@kernel()
def _stats_one(i, runs, start, count, h, w, ends, area, bbox, canon):
    hi, wi = h[i], w[i]
    xs, ys, xe, ye = wi, hi, 0, 0
    cx, cy = 0, 0
    total, fg, is_canon = 0, 0, 1
    a, n = start[i], count[i]
    for j in range(n):
        x = runs[a + j]
        if x == 0 and j > 0:
            is_canon = 0
        if hi > 0:
            ex, ey = _advance(cx, cy, x, hi)
            if (j & 1) == 1 and x > 0:
                xs, ys, xe, ye = _bbox_add(cx, cy, ex, ey, hi, xs, ys, xe, ye)
            cx, cy = ex, ey
        if (j & 1) == 1:
            fg += x
        total += x
        ends[a + j] = total
    area[i] = fg % _UINT32
    canon[i] = is_canon
    _bbox_finish(n, xs, ys, xe, ye, bbox, i)


@kernel(chunked=True)
def run_stats(lo, hi, runs, start, count, h, w, ends, area, bbox, canon):
    """rleArea, rleToBbox and the run ends (prefix sums, same layout as ``runs``) of masks ``lo:hi``.

    ``canon[i]`` is 1 when no run after the first is empty: only then do rleIou's
    and rleMerge's walks visit every run (they stop where both inputs reach an
    empty run at once).
    """
    for i in range(lo, hi):
        _stats_one(i, runs, start, count, h, w, ends, area, bbox, canon)


# ----------------------------------------------------------------------------- IoU
@kernel()
def _first_fg_ending_after(ends, a, nfg, lo):
    """Smallest k < nfg with ends[a + 2k + 1] > lo (nfg when none): binary search."""
    left, right = 0, nfg
    while left < right:
        mid = (left + right) // 2
        if ends[np.uint64(a + 2 * mid + 1)] > lo:
            right = mid
        else:
            left = mid + 1
    return left


@kernel()
def _intersection(ea, a, na, eb, b, nb, lo, hi):
    """Pixels in both masks (given their run ends), all of which lie in [lo, hi)."""
    nfa, nfb = na // 2, nb // 2
    ka = _first_fg_ending_after(ea, a, nfa, lo)
    kb = _first_fg_ending_after(eb, b, nfb, lo)
    inter = 0
    while ka < nfa and kb < nfb:
        sa, fa = ea[np.uint64(a + 2 * ka)], ea[np.uint64(a + 2 * ka + 1)]  # foreground run ka is [sa, fa)
        sb, fb = eb[np.uint64(b + 2 * kb)], eb[np.uint64(b + 2 * kb + 1)]
        if sa >= hi or sb >= hi:
            break
        overlap = min(fa, fb) - max(sa, sb)
        if overlap > 0:
            inter += overlap
        if fa < fb:
            ka += 1
        else:
            kb += 1
    return inter


@kernel()
def _walk(ea, a, na, eb, b, nb):
    """rleIou's own walk over both run lists (given their run ends): (intersection, union).

    Like pycocotools it stops as soon as both current runs are empty at once, so
    masks with empty runs after the first get pycocotools' (partial) counts.
    """
    ca = ea[a] if na > 0 else 0
    cb = eb[b] if nb > 0 else 0
    va, vb = False, False
    ka, kb, inter, union, ct = 1, 1, 0, 0, 1
    while ct > 0:
        c = min(ca, cb)
        if va or vb:
            union += c
            if va and vb:
                inter += c
        ca -= c
        if ca == 0 and ka < na:
            ca = ea[a + ka] - ea[a + ka - 1]
            ka += 1
            va = not va
        cb -= c
        if cb == 0 and kb < nb:
            cb = eb[b + kb] - eb[b + kb - 1]
            kb += 1
            vb = not vb
        ct = ca + cb
    return inter, union


@kernel(inline=True)
def _iou_columns(d_ends, a, na, dh, dw, dx, dy, dbw, dbh, darea, dcanon, g_ends, g_start, g_count,
                 g_h, g_w, g_box, g_area, g_canon, g_sel, g_crowd, g0, g1, out, base):  # fmt: skip
    """One detection's IoUs with ground truths ``g_sel[g0:g1]``, to ``out[base:]`` (:func:`iou_groups`)."""
    for jj in range(g0, g1):
        j = g_sel[jj]
        gx, gy, gw, gh = g_box[j, 0], g_box[j, 1], g_box[j, 2], g_box[j, 3]
        value = 0.0
        iw = min(dbw + dx, gw + gx) - max(dx, gx)
        ih = min(dbh + dy, gh + gy) - max(dy, gy)
        if iw > 0 and ih > 0:
            if dh != g_h[j] or dw != g_w[j]:
                value = -1.0
            elif dcanon == 0 or g_canon[j] == 0:
                inter, union = _walk(d_ends, a, na, g_ends, g_start[j], g_count[j])
                if inter > 0:
                    value = inter / (darea if g_crowd[jj] != 0 else union)
            elif darea > 0 and g_area[j] > 0:
                lo = np.int64(max(dx, gx)) * dh  # first pixel of the shared columns
                hi = np.int64(min(dbw + dx, gw + gx)) * dh  # one past the last
                inter = _intersection(d_ends, a, na, g_ends, g_start[j], g_count[j], lo, hi)
                if inter > 0:
                    value = inter / (darea if g_crowd[jj] != 0 else darea + g_area[j] - inter)
        out[base + jj - g0] = value


@kernel()
def _iou_row(r, d_ends, d_start, d_count, d_h, d_w, d_box, d_area, d_canon, d_sel,
             g_ends, g_start, g_count, g_h, g_w, g_box, g_area, g_canon, g_sel, g_crowd,
             row_group, dt_first, gt_first, out_off, out):  # fmt: skip
    g = row_group[r]
    g0, g1 = gt_first[g], gt_first[g + 1]
    if g0 == g1:  # no columns: ``d_sel[r]`` need not name a mask
        return
    d = d_sel[r]
    base = out_off[g] + (r - dt_first[g]) * (g1 - g0)
    _iou_columns(d_ends, d_start[d], d_count[d], d_h[d], d_w[d], d_box[d, 0], d_box[d, 1], d_box[d, 2],
                 d_box[d, 3], d_area[d], d_canon[d], g_ends, g_start, g_count, g_h, g_w, g_box, g_area,
                 g_canon, g_sel, g_crowd, g0, g1, out, base)  # fmt: skip


@kernel(chunked=True)
def iou_groups(lo, hi, d_ends, d_start, d_count, d_h, d_w, d_box, d_area, d_canon, d_sel,
               g_ends, g_start, g_count, g_h, g_w, g_box, g_area, g_canon, g_sel, g_crowd,
               row_group, dt_first, gt_first, out_off, out):  # fmt: skip
    """rleIou for many independent (dt set, gt set) groups: detection rows ``lo:hi``.

    ``*_ends`` are run ends (:func:`run_stats`), ``*_box`` rleToBbox boxes,
    ``*_area`` areas, ``*_canon`` canonical flags. Row ``r`` is mask ``d_sel[r]``
    of group ``g = row_group[r]``, whose rows start at ``dt_first[g]``; its columns
    are the masks ``g_sel[gt_first[g]:gt_first[g + 1]]`` with crowd flags
    ``g_crowd`` alike (a group without columns reads no mask: its ``d_sel``
    entries may be anything); block ``(D_g, G_g)`` starts at ``out[out_off[g]]``,
    row-major. A pair whose boxes do not overlap is 0 (bbIou's ``w <= 0`` /
    ``h <= 0`` tests on the float boxes); different sizes give -1; else ``i / u``
    with ``u`` the union, or the detection's area against a crowd ground truth,
    and 0 when ``i == 0``. Canonical pairs skip to the columns both boxes share;
    others take rleIou's walk, which may stop early.
    """
    for r in range(lo, hi):
        _iou_row(r, d_ends, d_start, d_count, d_h, d_w, d_box, d_area, d_canon, d_sel,
                 g_ends, g_start, g_count, g_h, g_w, g_box, g_area, g_canon, g_sel, g_crowd,
                 row_group, dt_first, gt_first, out_off, out)  # fmt: skip


@kernel(chunked=True)
def iou_strings(lo, hi, buf, d_first, d_stop, d_esc, d_h, d_w, d_sel,
                g_ends, g_start, g_count, g_h, g_w, g_box, g_area, g_canon, g_sel, g_crowd,
                row_group, dt_first, gt_first, out_off, out, status):  # fmt: skip
    """:func:`iou_groups` with detections given as compressed strings, decoded row by row.

    Row ``r``'s detection is ``buf[d_first[d]:d_stop[d]]`` for ``d = d_sel[r]``
    (JSON text where ``d_esc[d]`` is 1: backslashes written twice), decoded into
    one scratch array per call, so run ends never go to memory; ``status[r]`` is
    1 for a string that is not valid (the caller decodes it again to name the
    problem), and that row's IoUs are not written.
    """
    longest = 1
    for r in range(lo, hi):
        g = row_group[r]
        if gt_first[g] < gt_first[g + 1]:
            d = d_sel[r]
            longest = max(longest, d_stop[d] - d_first[d])
    ends = np.empty(longest, np.int64)
    n_runs, area, canon, st = np.zeros((4, 1), np.int64)
    box = np.zeros((1, 4))
    for r in range(lo, hi):
        g = row_group[r]
        g0, g1 = gt_first[g], gt_first[g + 1]
        if g0 == g1:  # no columns: not decoded (pycocotools reads no mask there either)
            continue
        d = d_sel[r]
        st[0] = -1
        ok = _bad_bytes(buf, d_first[d], d_stop[d]) == 0 and _scan_fast(
            0, buf, d_first[d], d_stop[d], d_h[d], d_w[d], d_esc[d], STORE_ENDS, True, ends, 0,
            n_runs, area, box, canon, st)  # fmt: skip
        if not ok or st[0] != 0:
            status[r] = 1
            continue
        base = out_off[g] + (r - dt_first[g]) * (g1 - g0)
        _iou_columns(ends, 0, n_runs[0], d_h[d], d_w[d], box[0, 0], box[0, 1], box[0, 2], box[0, 3], area[0],
                     canon[0], g_ends, g_start, g_count, g_h, g_w, g_box, g_area, g_canon, g_sel, g_crowd,
                     g0, g1, out, base)  # fmt: skip


@kernel()
def _box_iou_row(g, dt, gt, crowd, out):
    gx, gy, gw, gh = gt[g, 0], gt[g, 1], gt[g, 2], gt[g, 3]
    ga = gw * gh
    for d in range(dt.shape[0]):
        dx, dy, dw, dh = dt[d, 0], dt[d, 1], dt[d, 2], dt[d, 3]
        value = 0.0
        iw = min(dw + dx, gw + gx) - max(dx, gx)
        if iw > 0:
            ih = min(dh + dy, gh + gy) - max(dy, gy)
            if ih > 0:
                inter = iw * ih
                da = dw * dh
                value = inter / (da if crowd[g] != 0 else da + ga - inter)
        out[g, d] = value


@kernel(chunked=True)
def box_iou_xywh(lo, hi, dt, gt, crowd, out):
    """bbIou: ``out[g, d]`` for xywh boxes ``dt`` (D, 4) and rows ``lo:hi`` of ``gt`` (G, 4).

    Against a crowd ground truth the IoU is i / area(dt).
    """
    for g in range(lo, hi):
        _box_iou_row(g, dt, gt, crowd, out)


# ----------------------------------------------------------------------------- merge
@kernel()
def _merge_pair(ra, a0, na, rb, b0, nb, intersect, out, o0):
    """rleMerge's loop for one pair (A = ra[a0:a0+na], B = rb[b0:b0+nb]) into out[o0:]: (m, pixels).

    Kept step for step (a run is emitted when the merged value changes or both
    current runs are spent), so empty runs in the input give pycocotools' output.
    The loop stops once both current runs are empty, even if runs remain: the
    caller checks that the output still covers the image.
    """
    ca = ra[a0] if na > 0 else 0
    cb = rb[b0] if nb > 0 else 0
    v, va, vb = False, False, False
    m, a, b, cc, ct, covered = 0, 1, 1, 0, 1, 0
    steps = 0
    while ct > 0 and steps <= na + nb:  # every step but the last loads a run, unless inputs disagree
        steps += 1
        c = min(ca, cb)
        cc += c
        ca -= c
        if ca == 0 and a < na:
            ca = ra[a0 + a]
            a += 1
            va = not va
        cb -= c
        if cb == 0 and b < nb:
            cb = rb[b0 + b]
            b += 1
            vb = not vb
        ct = ca + cb
        vp = v
        v = (va and vb) if intersect else (va or vb)
        if v != vp or ct == 0:
            out[o0 + m] = cc
            m += 1
            covered += cc
            cc = 0
    return m, covered


@kernel()
def _copy(src, s0, dst, d0, n):
    """dst[d0:d0+n] = src[s0:s0+n], as a loop (slice assignment is slow to compile)."""
    for j in range(n):
        dst[d0 + j] = src[s0 + j]


@kernel()
def _to_intervals(runs, a, n, dst):
    """Foreground runs of runs[a:a+n] as [start, end) intervals, interleaved in dst; returns how many."""
    pos, k = 0, 0
    for j in range(n):
        x = runs[a + j]
        if (j & 1) == 1 and x > 0:
            dst[2 * k] = pos
            dst[2 * k + 1] = pos + x
            k += 1
        pos += x
    return k


@kernel()
def _first_interval(iv, k, bound, by_end, strict):
    """Smallest i < k whose end (``by_end``) or start exceeds ``bound`` (or reaches it unless ``strict``)."""
    lo, hi = 0, k
    off = 1 if by_end else 0
    while lo < hi:
        mid = (lo + hi) // 2
        v = iv[2 * mid + off]
        if v > bound or (v == bound and not strict):
            hi = mid
        else:
            lo = mid + 1
    return lo


@kernel()
def _emit(out, t, s, e):
    """Append [s, e) to the interval list out[:t], joining it to the last one if they touch or overlap."""
    if t > 0 and s <= out[t - 1]:
        if e > out[t - 1]:
            out[t - 1] = e
        return t
    out[t] = s
    out[t + 1] = e
    return t + 2


@kernel()
def _merge_windowed(runs, start, count, first, last, intersect, out, o, cap):
    """Union / intersection of canonical masks first..last-1 into out[o:] (room for ``cap``); returns m.

    Canonical masks (no empty run after the first) make pycocotools' pairwise
    walk return the canonical runs of the union / intersection, so this folds
    foreground intervals instead, touching only the part of the running result
    that overlaps the next mask's interval span (the rest is copied, or dropped
    when intersecting).
    """
    total, longest = 0, 0
    for j in range(count[first]):
        total += runs[start[first] + j]
    for i in range(first, last):
        longest = max(longest, count[i])
    size = min(cap, 4 * longest + 2)  # grown on demand: fresh pages cost more than the merging
    acc = np.empty(size, np.int64)
    nxt = np.empty(size, np.int64)
    mem = np.empty(longest + 1, np.int64)
    ka = _to_intervals(runs, start[first], count[first], acc)
    for i in range(first + 1, last):
        kb = _to_intervals(runs, start[i], count[i], mem)
        if 2 * (ka + kb) > len(nxt):
            size = min(cap, max(2 * (ka + kb), 2 * len(nxt)))
            grown = np.empty(size, np.int64)
            _copy(acc, 0, grown, 0, 2 * ka)
            acc = grown
            nxt = np.empty(size, np.int64)
        if intersect:
            if kb == 0 or ka == 0:
                ka = 0
                break
            p = _first_interval(acc, ka, mem[0], True, True)  # ends after the span's start
            p_end = _first_interval(acc, ka, mem[2 * kb - 1], False, False)  # starts at or after its end
            t, q = 0, 0
            while p < p_end and q < kb:
                s, e = max(acc[2 * p], mem[2 * q]), min(acc[2 * p + 1], mem[2 * q + 1])
                if s < e:
                    t = _emit(nxt, t, s, e)
                if acc[2 * p + 1] < mem[2 * q + 1]:
                    p += 1
                else:
                    q += 1
        else:
            if kb == 0:
                continue
            p0 = _first_interval(acc, ka, mem[0], True, False)  # ends at or after the span's start
            p1 = _first_interval(acc, ka, mem[2 * kb - 1], False, True)  # starts after its end
            _copy(acc, 0, nxt, 0, 2 * p0)
            t, p, q = 2 * p0, p0, 0
            while p < p1 or q < kb:
                if q >= kb or (p < p1 and acc[2 * p] <= mem[2 * q]):
                    t = _emit(nxt, t, acc[2 * p], acc[2 * p + 1])
                    p += 1
                else:
                    t = _emit(nxt, t, mem[2 * q], mem[2 * q + 1])
                    q += 1
            rest = 2 * (ka - p1)
            _copy(acc, 2 * p1, nxt, t, rest)
            t += rest
        ka = t // 2
        acc, nxt = nxt, acc
    m, prev = 0, 0
    for k in range(ka):
        out[o + m] = acc[2 * k] - prev
        out[o + m + 1] = acc[2 * k + 1] - acc[2 * k]
        prev = acc[2 * k + 1]
        m += 2
    if prev < total or m == 0:
        out[o + m] = total - prev
        m += 1
    return m


@kernel()
def _ctz(v):
    """Trailing zero bits of a non-zero uint64."""
    n = 0
    if (v & np.uint64(0xFFFFFFFF)) == 0:
        n += 32
        v >>= np.uint64(32)
    if (v & np.uint64(0xFFFF)) == 0:
        n += 16
        v >>= np.uint64(16)
    if (v & np.uint64(0xFF)) == 0:
        n += 8
        v >>= np.uint64(8)
    if (v & np.uint64(0xF)) == 0:
        n += 4
        v >>= np.uint64(4)
    if (v & np.uint64(0x3)) == 0:
        n += 2
        v >>= np.uint64(2)
    if (v & np.uint64(0x1)) == 0:
        n += 1
    return n


@kernel()
def _set_bits(bits, s, e):
    """Set bits [s, e) of the bitmap ``bits`` (uint64 words, bit j of word k is pixel 64k + j)."""
    ones = np.uint64(0xFFFFFFFFFFFFFFFF)
    ks, ke = s >> 6, (e - 1) >> 6
    lo = ones << np.uint64(s & 63)
    hi = ones >> np.uint64(63 - ((e - 1) & 63))
    if ks == ke:
        bits[ks] |= lo & hi
    else:
        bits[ks] |= lo
        for k in range(ks + 1, ke):
            bits[k] = ones
        bits[ke] |= hi


@kernel()
def _union_bitmap(runs, start, count, first, last, total, out, o):
    """Union of masks first..last-1 through a bitmap of their ``total`` pixels into out[o:]; returns m.

    Gives the canonical runs of the union, as pycocotools' walk does for canonical
    masks: (background, foreground) pairs, then the trailing background run if
    any (a single run for an empty union).
    """
    nw = (total + 63) >> 6
    bits = np.zeros(nw, np.uint64)
    for i in range(first, last):
        a, pos = start[i], 0
        for j in range(count[i]):
            x = runs[a + j]
            if (j & 1) == 1 and x > 0:
                _set_bits(bits, pos, pos + x)
            pos += x
    ones = np.uint64(0xFFFFFFFFFFFFFFFF)
    m, prev, fg = 0, 0, False  # prev: end of the last foreground run (or its start while in one)
    for k in range(nw):
        v = bits[k]
        b = 0
        while b < 64:
            # the next 0 bit in a foreground run, else the next 1 bit
            rest = ((v ^ ones) if fg else v) >> np.uint64(b)
            if rest == 0:
                break
            b += _ctz(rest)
            pos = 64 * k + b
            if pos >= total:
                break
            out[o + m] = pos - prev
            m += 1
            prev = pos
            fg = not fg
    if fg:  # a foreground run reaching the last pixel
        out[o + m] = total - prev
        m += 1
    elif prev < total or m == 0:
        out[o + m] = total - prev
        m += 1
    return m


@kernel()
def _merge_group(g, runs, start, count, goff, intersect, bitmap_ratio, cap_off, out, out_m):
    first, last = goff[g], goff[g + 1]
    o, cap = cap_off[g], cap_off[g + 1] - cap_off[g]
    if last - first <= 1:
        m = count[first] if last > first else 0
        _copy(runs, start[first] if last > first else 0, out, o, m)
        out_m[g] = m
        return
    total, n_runs = 0, 0
    for j in range(count[first]):
        total += runs[start[first] + j]
    for i in range(first, last):
        n_runs += count[i]
    if not intersect and total > 0 and (total + 63) >> 6 <= bitmap_ratio * n_runs:
        out_m[g] = _union_bitmap(runs, start, count, first, last, total, out, o)
    else:
        out_m[g] = _merge_windowed(runs, start, count, first, last, intersect, out, o, cap)


@kernel(chunked=True)
def merge_groups(lo, hi, runs, start, count, goff, groups, intersect, bitmap_ratio, cap_off, out, out_m):
    """rleMerge (union, or intersection) of each group ``g`` in ``groups[lo:hi]`` into ``out[cap_off[g]:]``.

    Group g is members ``goff[g]:goff[g + 1]`` (mask i = ``runs[start[i]:][:count[i]]``),
    canonical unless the group has one member, which is copied. ``cap_off[g + 1] -
    cap_off[g]`` must be at least the group's total runs + 1 (a merge emits at
    most ``mA + mB`` runs); ``out_m[g]``: runs written. A union whose image has at
    most ``bitmap_ratio`` 64-pixel words per member run is painted into a bitmap
    (time linear in runs and pixels / 64); other groups fold foreground intervals.
    """
    for k in range(lo, hi):
        _merge_group(groups[k], runs, start, count, goff, intersect, bitmap_ratio, cap_off, out, out_m)


@kernel()
def merge_groups_exact(runs, start, count, goff, groups, intersect, cap_off, out, out_m):
    """pycocotools' own rleMerge walk, one member after the other, for groups with empty runs.

    Two buffers take turns as the running result. ``out_m[g]`` is -1 when a
    step's output no longer covers the image: pycocotools' walk stopped at empty
    runs of both inputs (and its next step would never end). Rare: one thread.
    """
    for k in range(len(groups)):
        g = groups[k]
        first, last = goff[g], goff[g + 1]
        o, cap = cap_off[g], cap_off[g + 1] - cap_off[g]
        m, total = count[first], 0
        for j in range(m):
            out[o + j] = runs[start[first] + j]
            total += runs[start[first] + j]
        other = np.empty(cap, np.int64)
        in_out = True  # the running result is in out[o:] (else in other)
        for i in range(first + 1, last):
            if in_out:
                m, covered = _merge_pair(out, o, m, runs, start[i], count[i], intersect, other, 0)
            else:
                m, covered = _merge_pair(other, 0, m, runs, start[i], count[i], intersect, out, o)
            in_out = not in_out
            if covered != total:
                m = -1
                break
        if m >= 0 and not in_out:
            _copy(other, 0, out, o, m)
        out_m[g] = m


@kernel()
def canonical_flags(runs, start, count, out):
    """``out[i]`` = 1 when mask i has no empty run after the first."""
    for i in range(len(start)):
        flag = 1
        for j in range(1, count[i]):
            if runs[start[i] + j] == 0:
                flag = 0
                break
        out[i] = flag


@kernel()
def canonicalize(runs, start, count, out, out_m):
    """The same pixels without empty runs after the first, into ``out[start[i]:]``; count ``out_m[i]``.

    An empty run is dropped and the run after it joins the one before (the value
    flips twice), as rleFrPoly does. Rare (input with empty runs): one thread.
    """
    for i in range(len(start)):
        a, n = start[i], count[i]
        if n == 0:
            out_m[i] = 0
            continue
        out[a] = runs[a]
        m, j = 1, 1
        while j < n:
            if runs[a + j] > 0:
                out[a + m] = runs[a + j]
                m += 1
                j += 1
            else:
                j += 1
                if j < n:
                    out[a + m - 1] += runs[a + j]
                    j += 1
        out_m[i] = m


@kernel(chunked=True)
def gather(lo, hi, src, start, count, dst_off, dst):
    """Copy ``src[start[i]:start[i] + count[i]]`` to ``dst[dst_off[i]:]`` for i in ``lo:hi``."""
    for i in range(lo, hi):
        a, b = start[i], dst_off[i]
        for j in range(count[i]):
            dst[b + j] = src[a + j]


# ----------------------------------------------------------------------------- small calls
@kernel()
def merge_strings(buf, soff, hgt, wid, intersect, bitmap_ratio):
    """pycocotools.mask.merge of a few compressed strings of one ``hgt`` x ``wid`` image in one call:
    ``(0, merged string)``.

    ``buf``/``soff`` as for :func:`~fastdet._kernels.rlestring.scan_strings`. Returns ``(1, empty)``
    when a string is invalid or (with 2+ strings) has empty runs after the first: the caller then
    takes the general path, which reports the error or walks as pycocotools.
    """
    n = len(soff) - 1
    none = np.empty(0, np.uint8)
    h, w = np.full(n, hgt, np.int64), np.full(n, wid, np.int64)
    runs = np.empty(len(buf), np.int64)
    n_runs, area, canon, status = np.empty((4, n), np.int64)
    bbox = np.empty((n, 4))
    total = 0
    checked = _bad_bytes(buf, 0, len(buf)) == 0
    for i in range(n):
        _scan_one(i, buf, soff, h, w, STORE_RUNS, False, runs, n_runs, area, bbox, canon, status, checked)
        if status[i] != 0 or (n > 1 and canon[i] == 0):
            return 1, none
        total += n_runs[i]
    out = np.empty(total + 1, np.int64)
    if n == 2:  # rleMerge's own walk: linear for a pair, and canonical pairs give canonical runs
        m = _merge_pair(runs, soff[0], n_runs[0], runs, soff[1], n_runs[1], intersect, out, 0)[0]
    else:
        start = soff[:n].copy()
        goff = np.zeros(2, np.int64)
        goff[1] = n
        cap_off = np.zeros(2, np.int64)
        cap_off[1] = total + 1
        out_m = np.empty(1, np.int64)
        _merge_group(0, runs, start, n_runs, goff, intersect, bitmap_ratio, cap_off, out, out_m)
        m = out_m[0]
    text = np.empty(7 * m, np.uint8)
    return 0, text[: _encode_one(out, 0, m, text, 0)]
