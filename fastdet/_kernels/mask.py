"""Run-length mask kernels with pycocotools' ``maskApi.c`` semantics (Numba only, no validation).

A set of ``n`` masks is stored column-major, one run-length list per mask, all of
them in one flat ``int64`` array ``runs`` with CSR offsets ``roff`` (``n + 1``):
mask ``i`` is ``runs[roff[i]:roff[i + 1]]``, runs alternate background /
foreground and start with background (a first run of 0 when pixel 0 is set).
Per-mask sizes are separate ``int64`` arrays ``h`` and ``w``. Runs are kept
exactly as given (zero-length runs included): pycocotools' outputs depend on them.

Compressed ``counts`` strings are concatenated into one ``uint8`` buffer with
CSR byte offsets ``soff``. Every ``parallel`` kernel writes only the slice of
its own mask (or group), so the ``prange`` loops are race-free.
"""

from __future__ import annotations

import numba
import numpy as np

from fastdet._kernels import kernel

#: ``status`` codes written by :func:`scan_strings` (0 is valid).
BAD_CHAR, TRUNCATED, LONG_VALUE, BAD_RUN, BAD_SUM = 1, 2, 3, 4, 5
_UINT32 = 4294967296  # pycocotools stores counts and box sides as 32-bit unsigned ints
_MAX_CHARS = 7  # a delta in (-2**32, 2**32) never needs more than 7 characters of 5 bits
_INT_MIN = -2147483648  # (int)NaN on x86: what C gives a zero-length edge's 0/0 slope


# ----------------------------------------------------------------------------- bounding boxes
@kernel()
def _bbox_finish(m, xs, ys, xe, ye, out, i):  # writes row i of out (n, 4)
    """rleToBbox's final step, uint32 wrap-around of the sides included (no foreground run)."""
    if m < 2:  # pycocotools rounds m down to even and returns zeros for m == 0
        out[i, 0] = 0.0
        out[i, 1] = 0.0
        out[i, 2] = 0.0
        out[i, 3] = 0.0
    else:
        out[i, 0] = xs
        out[i, 1] = ys
        out[i, 2] = (xe - xs + 1) % _UINT32
        out[i, 3] = (ye - ys + 1) % _UINT32


# ----------------------------------------------------------------------------- compressed strings
@kernel(parallel=True)
def scan_strings(buf, soff, h, w, n_runs, area, bbox, status):
    """Validate compressed strings and measure them without storing the runs.

    ``buf`` uint8 holds the strings (CSR ``soff``); per string ``i`` writes
    ``n_runs[i]``, ``area[i]`` (sum of the odd runs), ``bbox[i]`` (rleToBbox) and
    ``status[i]``: 0, or BAD_CHAR (byte outside 48..111), TRUNCATED (last byte has
    the continuation bit), LONG_VALUE (more than 7 bytes), BAD_RUN (a run outside
    [0, 2**32)) or BAD_SUM (runs do not add up to ``h[i] * w[i]``).
    """
    for i in numba.prange(len(soff) - 1):
        hi, wi = h[i], w[i]
        xs, ys, xe, ye = wi, hi, 0, 0
        m, total, fg, bad = 0, 0, 0, 0
        prev1, prev2 = 0, 0  # runs m-1 and m-2
        p, end = soff[i], soff[i + 1]
        while p < end and bad == 0:
            x, k, more = 0, 0, True
            while more:
                if p >= end:
                    bad = TRUNCATED
                    break
                c = np.int64(buf[p]) - 48
                if c < 0 or c > 63:
                    bad = BAD_CHAR
                    break
                if k == _MAX_CHARS:
                    bad = LONG_VALUE
                    break
                x |= (c & 0x1F) << (5 * k)
                more = (c & 0x20) != 0
                p += 1
                k += 1
                if not more and (c & 0x10) != 0:
                    x |= -1 << (5 * k)
            if bad != 0:
                break
            if m > 2:
                x += prev2
            if x < 0 or x >= _UINT32:
                bad = BAD_RUN
                break
            start = total
            total += x
            if m % 2 == 1:
                fg += x
                if x > 0 and hi > 0:
                    y0, y1 = start % hi, (total - 1) % hi
                    x0, x1 = start // hi, (total - 1) // hi
                    xs, xe = min(xs, x0), max(xe, x1)
                    if x0 < x1:
                        ys, ye = 0, hi - 1
                    else:
                        ys, ye = min(ys, y0), max(ye, y1)
            prev2, prev1 = prev1, x
            m += 1
        if bad == 0 and total != hi * wi:
            bad = BAD_SUM
        status[i] = bad
        n_runs[i] = m
        area[i] = fg % _UINT32
        _bbox_finish(m, xs, ys, xe, ye, bbox, i)


@kernel(parallel=True)
def decode_strings(buf, soff, roff, runs):
    """Decode validated strings (see :func:`scan_strings`) into ``runs`` (CSR ``roff``)."""
    for i in numba.prange(len(soff) - 1):
        p, end = soff[i], soff[i + 1]
        j, base = roff[i], roff[i]
        while p < end:
            x, k, more = 0, 0, True
            while more:
                c = np.int64(buf[p]) - 48
                x |= (c & 0x1F) << (5 * k)
                more = (c & 0x20) != 0
                p += 1
                k += 1
                if not more and (c & 0x10) != 0:
                    x |= -1 << (5 * k)
            if j - base > 2:
                x += runs[j - 2]
            runs[j] = x
            j += 1


@kernel()
def _string_length(runs, a, b):
    """Bytes rleToString writes for runs[a:b]."""
    n = 0
    for j in range(a, b):
        x = runs[j] - runs[j - 2] if j - a > 2 else runs[j]
        more = True
        while more:
            c = x & 0x1F
            x >>= 5
            more = x != -1 if (c & 0x10) != 0 else x != 0
            n += 1
    return n


@kernel(parallel=True)
def string_lengths(runs, roff, out):
    """``out[i]``: length in bytes of mask i's compressed string."""
    for i in numba.prange(len(roff) - 1):
        out[i] = _string_length(runs, roff[i], roff[i + 1])


@kernel(parallel=True)
def encode_strings(runs, roff, soff, buf):
    """rleToString: each delta (against the run two back, from the fourth run on) in 5-bit groups.

    A byte is ``48 + group``, ``| 0x20`` while more groups follow; the last group's
    bit 0x10 is the sign. ``soff`` comes from :func:`string_lengths`.
    """
    for i in numba.prange(len(roff) - 1):
        a, b, p = roff[i], roff[i + 1], soff[i]
        for j in range(a, b):
            x = runs[j] - runs[j - 2] if j - a > 2 else runs[j]
            more = True
            while more:
                c = x & 0x1F
                x >>= 5
                more = x != -1 if (c & 0x10) != 0 else x != 0
                if more:
                    c |= 0x20
                buf[p] = c + 48
                p += 1


# ----------------------------------------------------------------------------- statistics of runs
@kernel(parallel=True)
def run_stats(runs, roff, h, w, area, bbox, canonical):
    """rleArea and rleToBbox of every mask: ``area`` (n,) int64, ``bbox`` (n, 4) float64 xywh.

    ``canonical[i]`` is 1 when no run after the first is empty; only then do
    rleIou's and rleMerge's walks visit every run (they stop where both inputs
    reach an empty run at once).
    """
    for i in numba.prange(len(roff) - 1):
        hi, wi = h[i], w[i]
        xs, ys, xe, ye = wi, hi, 0, 0
        total, fg, canon = 0, 0, 1
        a, b = roff[i], roff[i + 1]
        for j in range(a, b):
            x = runs[j]
            if x == 0 and j > a:
                canon = 0
            start = total
            total += x
            if (j - a) % 2 == 1:
                fg += x
                if x > 0 and hi > 0:
                    y0, y1 = start % hi, (total - 1) % hi
                    x0, x1 = start // hi, (total - 1) // hi
                    xs, xe = min(xs, x0), max(xe, x1)
                    if x0 < x1:
                        ys, ye = 0, hi - 1
                    else:
                        ys, ye = min(ys, y0), max(ye, y1)
        area[i] = fg % _UINT32
        canonical[i] = canon
        _bbox_finish(b - a, xs, ys, xe, ye, bbox, i)


@kernel(parallel=True)
def prefix_ends(runs, roff, out):
    """``out[j]``: end (exclusive pixel index) of run j within its mask: per-mask prefix sums."""
    for i in numba.prange(len(roff) - 1):
        total = 0
        for j in range(roff[i], roff[i + 1]):
            total += runs[j]
            out[j] = total


# ----------------------------------------------------------------------------- IoU
@kernel()
def _first_fg_ending_after(ends, a, nfg, lo):
    """Smallest k < nfg with ends[a + 2k + 1] > lo (nfg when none): binary search."""
    left, right = 0, nfg
    while left < right:
        mid = (left + right) // 2
        if ends[a + 2 * mid + 1] > lo:
            right = mid
        else:
            left = mid + 1
    return left


@kernel()
def _intersection(ea, a, na, eb, b, nb, lo, hi):
    """Pixels in both masks, given prefix ends; all of them lie in [lo, hi)."""
    nfa, nfb = na // 2, nb // 2
    ka = _first_fg_ending_after(ea, a, nfa, lo)
    kb = _first_fg_ending_after(eb, b, nfb, lo)
    inter = 0
    while ka < nfa and kb < nfb:
        sa, fa = ea[a + 2 * ka], ea[a + 2 * ka + 1]  # foreground run ka is [sa, fa)
        sb, fb = eb[b + 2 * kb], eb[b + 2 * kb + 1]
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
    """rleIou's own walk over both run lists (given prefix ends): (intersection, union).

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


@kernel(parallel=True)
def iou_groups(
    d_ends, d_off, d_h, d_w, d_box, d_area, d_canon, d_sel,
    g_ends, g_off, g_h, g_w, g_box, g_area, g_canon, g_sel, g_crowd,
    row_group, dt_first, gt_first, out_off, out,
):  # fmt: skip
    """rleIou for many independent (dt set, gt set) groups; one ``prange`` step per detection row.

    ``*_ends`` are prefix ends (:func:`prefix_ends`) with CSR ``*_off``, ``*_box``
    the rleToBbox boxes, ``*_area`` the areas. Row ``r`` is mask ``d_sel[r]`` of
    group ``g = row_group[r]``, whose rows start at ``dt_first[g]``; its columns
    are masks ``g_sel[gt_first[g]:gt_first[g + 1]]`` with crowd flags
    ``g_crowd[...]`` alike; block ``(D_g, G_g)`` starts at ``out[out_off[g]]``,
    row-major. A pair whose boxes do not overlap is 0 (bbIou's ``w <= 0`` /
    ``h <= 0`` tests on the float boxes); different sizes give -1; else
    ``i / u`` with ``u`` the union, or the detection's area when the ground
    truth is crowd, and 0 when ``i == 0``. Canonical masks (``d_canon``,
    ``g_canon``: see :func:`run_stats`) skip to the columns both boxes share;
    others take rleIou's walk, which may stop early.
    """
    for r in numba.prange(len(row_group)):
        g, d = row_group[r], d_sel[r]
        g0, g1 = gt_first[g], gt_first[g + 1]
        base = out_off[g] + (r - dt_first[g]) * (g1 - g0)
        dx, dy, dw, dh = d_box[d, 0], d_box[d, 1], d_box[d, 2], d_box[d, 3]
        a, na = d_off[d], d_off[d + 1] - d_off[d]
        for jj in range(g0, g1):
            j = g_sel[jj]
            gx, gy, gw, gh = g_box[j, 0], g_box[j, 1], g_box[j, 2], g_box[j, 3]
            value = 0.0
            iw = min(dw + dx, gw + gx) - max(dx, gx)
            ih = min(dh + dy, gh + gy) - max(dy, gy)
            if iw > 0 and ih > 0:
                if d_h[d] != g_h[j] or d_w[d] != g_w[j]:
                    value = -1.0
                elif d_canon[d] == 0 or g_canon[j] == 0:
                    inter, union = _walk(d_ends, a, na, g_ends, g_off[j], g_off[j + 1] - g_off[j])
                    if inter > 0:
                        value = inter / (d_area[d] if g_crowd[jj] != 0 else union)
                elif d_area[d] > 0 and g_area[j] > 0:
                    hh = d_h[d]
                    lo = np.int64(max(dx, gx)) * hh  # first pixel of the shared columns
                    hi = np.int64(min(dw + dx, gw + gx)) * hh  # one past the last
                    inter = _intersection(d_ends, a, na, g_ends, g_off[j], g_off[j + 1] - g_off[j], lo, hi)
                    if inter > 0:
                        union = d_area[d] if g_crowd[jj] != 0 else d_area[d] + g_area[j] - inter
                        value = inter / union
            out[base + jj - g0] = value


@kernel(parallel=True)
def box_iou_xywh(dt, gt, crowd, out):
    """bbIou: ``out[g, d]`` for xywh boxes ``dt`` (D, 4), ``gt`` (G, 4); crowd: i / area(dt)."""
    for g in numba.prange(gt.shape[0]):
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


# ----------------------------------------------------------------------------- merge
@kernel()
def _merge_pair(ra, a0, na, rb, b0, nb, intersect, out, o0):
    """rleMerge's loop for one pair (A = ra[a0:a0+na], B = rb[b0:b0+nb]) into out[o0:]; returns m.

    Kept step for step (a run is emitted when the merged value changes or both
    current runs are spent), so zero-length runs in the input give pycocotools'
    output. The loop stops once both current runs are empty, even if runs remain:
    the caller checks that the output still covers the image.
    """
    ca = ra[a0] if na > 0 else 0
    cb = rb[b0] if nb > 0 else 0
    v, va, vb = False, False, False
    m, a, b, cc, ct = 0, 1, 1, 0, 1
    steps = 0
    while ct > 0 and steps <= na + nb:  # every step but the last loads a run, unless inputs disagree
        steps += 1
        c = min(ca, cb)
        cc += c
        ct = 0
        ca -= c
        if ca == 0 and a < na:
            ca = ra[a0 + a]
            a += 1
            va = not va
        ct += ca
        cb -= c
        if cb == 0 and b < nb:
            cb = rb[b0 + b]
            b += 1
            vb = not vb
        ct += cb
        vp = v
        v = (va and vb) if intersect else (va or vb)
        if v != vp or ct == 0:
            out[o0 + m] = cc
            m += 1
            cc = 0
    return m


@kernel()
def _merge_members(runs, roff, first, last, intersect, out, o0, scratch):
    """Merge masks first..last-1 in order into out[o0:] (scratch: same capacity); returns m.

    Returns -1 when a step's output no longer covers the image (pycocotools' walk
    stopped at empty runs of both inputs; its next step would never end).
    """
    m = roff[first + 1] - roff[first]
    total = 0
    for j in range(m):
        out[o0 + j] = runs[roff[first] + j]
        total += out[o0 + j]
    for i in range(first + 1, last):
        for j in range(m):
            scratch[j] = out[o0 + j]
        m = _merge_pair(scratch, 0, m, runs, roff[i], roff[i + 1] - roff[i], intersect, out, o0)
        covered = 0
        for j in range(m):
            covered += out[o0 + j]
        if covered != total:
            return -1
    return m


@kernel(parallel=True)
def merge_groups(runs, roff, goff, intersect, cap_off, out, out_m):
    """rleMerge of each group of masks ``goff[g]:goff[g + 1]`` into ``out[cap_off[g]:]``.

    ``cap_off[g + 1] - cap_off[g]`` must be at least the group's total runs + 1
    (a merge emits at most ``mA + mB`` runs). ``out_m[g]``: runs written, or -1
    where pycocotools' walk stops early (see :func:`_merge_members`).
    """
    for g in numba.prange(len(goff) - 1):
        first, last = goff[g], goff[g + 1]
        if last == first:
            out_m[g] = 0
            continue
        scratch = np.empty(cap_off[g + 1] - cap_off[g], np.int64)
        out_m[g] = _merge_members(runs, roff, first, last, intersect, out, cap_off[g], scratch)


@kernel(parallel=True)
def canonicalize(runs, roff, out, out_m):
    """The same pixels without empty runs after the first: into ``out[roff[i]:]``, count ``out_m[i]``.

    An empty run is dropped and the run after it joins the one before (the value
    flips twice), as rleFrPoly does.
    """
    for i in numba.prange(len(roff) - 1):
        a, n = roff[i], roff[i + 1] - roff[i]
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


@kernel(parallel=True)
def compact(src, cap_off, m, roff, dst):
    """Copy the first ``m[i]`` values of slot ``src[cap_off[i]:]`` to ``dst[roff[i]:]``."""
    for i in numba.prange(len(m)):
        a, b = cap_off[i], roff[i]
        for j in range(m[i]):
            dst[b + j] = src[a + j]


# ----------------------------------------------------------------------------- polygons
@kernel()
def _scaled(v):
    """``(int)(5 * v + .5)``: C's cast truncates toward zero."""
    return np.int64(5.0 * v + 0.5)


@kernel(parallel=True)
def poly_capacity(xy, poff, w, cap):
    """Upper bound on the runs rleFrPoly gives each polygon (see :func:`poly_to_runs`).

    An edge of L upsampled points crosses at most min(L, w + 1) pixel-column
    boundaries that survive the down-sampling, plus one run for the image end.
    """
    for i in numba.prange(len(poff) - 1):
        a, k = poff[i], poff[i + 1] - poff[i]
        total = 1
        for j in range(k):
            j1 = j + 1 if j + 1 < k else 0
            dx = abs(_scaled(xy[2 * (a + j1)]) - _scaled(xy[2 * (a + j)]))
            dy = abs(_scaled(xy[2 * (a + j1) + 1]) - _scaled(xy[2 * (a + j) + 1]))
            total += min(max(dx, dy) + 1, w[i] + 1)
        cap[i] = total


@kernel()
def _heapsort(a, lo, n):
    """Sort a[lo:lo+n] ascending in place."""
    for start in range(n // 2 - 1, -1, -1):
        _sift(a, lo, start, n)
    for end in range(n - 1, 0, -1):
        a[lo], a[lo + end] = a[lo + end], a[lo]
        _sift(a, lo, 0, end)


@kernel()
def _sift(a, lo, root, n):
    while True:
        child = 2 * root + 1
        if child >= n:
            return
        if child + 1 < n and a[lo + child + 1] > a[lo + child]:
            child += 1
        if a[lo + root] >= a[lo + child]:
            return
        a[lo + root], a[lo + child] = a[lo + child], a[lo + root]
        root = child


@kernel()
def _boundary_point(u, v, pu, pv, h, w):
    """rleFrPoly's down-sampling of the step (pu, pv) -> (u, v): pixel index x*h + y, or -1."""
    xd = np.float64(u if u < pu else u - 1)
    xd = (xd + 0.5) / 5.0 - 0.5
    if np.floor(xd) != xd or xd < 0 or xd > w - 1:
        return -1
    yd = np.float64(v if v < pv else pv)
    yd = (yd + 0.5) / 5.0 - 0.5
    if yd < 0:
        yd = 0.0
    elif yd > h:
        yd = np.float64(h)
    yd = np.ceil(yd)
    return np.int64(xd) * h + np.int64(yd)


@kernel(parallel=True)
def poly_to_runs(xy, poff, h, w, cap_off, out, out_m):
    """rleFrPoly for every polygon: ``xy`` interleaved (x, y) float64, polygon i = points poff[i]:poff[i+1].

    The outline is upsampled by 5 ((int)(5 v + .5) per vertex, then one point per
    unit step along the longer axis of each edge, rounded as C does), the steps
    that cross a pixel-column centre give the column's boundary row (ceil, clipped
    to [0, h]), and the sorted boundary indices x*h + y, with h*w appended, are
    differenced into runs; an empty run merges its neighbours. Runs go to
    ``out[cap_off[i]:]`` (the slot doubles as scratch), their number to ``out_m[i]``.
    """
    for i in numba.prange(len(poff) - 1):
        a, k = poff[i], poff[i + 1] - poff[i]
        hi, wi, o = h[i], w[i], cap_off[i]
        n = 0  # boundary points written to out[o:]
        pu, pv, have_prev = 0, 0, False
        for j in range(k):
            j1 = j + 1 if j + 1 < k else 0
            xs, ys = _scaled(xy[2 * (a + j)]), _scaled(xy[2 * (a + j) + 1])
            xe, ye = _scaled(xy[2 * (a + j1)]), _scaled(xy[2 * (a + j1) + 1])
            dx, dy = abs(xe - xs), abs(ys - ye)
            flip = (dx >= dy and xs > xe) or (dx < dy and ys > ye)
            if flip:
                xs, xe = xe, xs
                ys, ye = ye, ys
            if dx >= dy:
                s = (ye - ys) / np.float64(dx) if dx > 0 else 0.0
                steps = dx
            else:
                s = (xe - xs) / np.float64(dy)
                steps = dy
            for d in range(steps + 1):
                t = steps - d if flip else d
                if dx == 0 and dy == 0:  # zero-length edge: C's slope is 0/0
                    u, v = xs, _INT_MIN
                elif dx >= dy:
                    u, v = t + xs, np.int64(ys + s * t + 0.5)
                else:
                    u, v = np.int64(xs + s * t + 0.5), t + ys
                if have_prev and u != pu:
                    p = _boundary_point(u, v, pu, pv, hi, wi)
                    if p >= 0:
                        out[o + n] = p
                        n += 1
                pu, pv, have_prev = u, v, True
        out[o + n] = hi * wi
        n += 1
        _heapsort(out, o, n)
        prev = 0
        for j in range(n):  # differences
            t = out[o + j]
            out[o + j] = t - prev
            prev = t
        m, j = 1, 1  # an empty run: drop it and add the next run to the previous one
        while j < n:
            if out[o + j] > 0:
                out[o + m] = out[o + j]
                m += 1
                j += 1
            else:
                j += 1
                if j < n:
                    out[o + m - 1] += out[o + j]
                    j += 1
        out_m[i] = m


# ----------------------------------------------------------------------------- dense masks
@kernel(parallel=True)
def mask_run_counts(masks, out):
    """``out[i]``: runs rleEncode gives mask i (``masks`` uint8 (N, P), column-major pixels; nonzero = 1)."""
    for i in numba.prange(masks.shape[0]):
        row = masks[i]
        count, p = 1, False
        for j in range(row.shape[0]):
            q = row[j] != 0
            if q != p:
                count += 1
                p = q
        out[i] = count


@kernel(parallel=True)
def mask_to_runs(masks, roff, runs):
    """rleEncode: runs of equal values from pixel 0, starting with background."""
    for i in numba.prange(masks.shape[0]):
        row = masks[i]
        k, c, p = roff[i], 0, False
        for j in range(row.shape[0]):
            q = row[j] != 0
            if q != p:
                runs[k] = c
                k += 1
                c = 0
                p = q
            c += 1
        runs[k] = c


@kernel(parallel=True)
def runs_to_masks(runs, roff, out):
    """rleDecode into ``out`` uint8 (N, P), column-major pixels (validated runs: they sum to P)."""
    for i in numba.prange(out.shape[0]):
        row = out[i]
        pos, v = 0, np.uint8(0)
        for j in range(roff[i], roff[i + 1]):
            row[pos : pos + runs[j]] = v
            pos += runs[j]
            v = np.uint8(1) - v
