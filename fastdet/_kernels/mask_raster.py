"""Kernels between run lengths and pixels or polygons: rleFrPoly, rleEncode, rleDecode (Numba only).

Runs follow :mod:`fastdet._kernels.mask`'s layout. Dense masks are ``uint8``
``(N, P)`` arrays, one row of ``P = h * w`` column-major pixels per mask (the
transpose of pycocotools' Fortran ``(h, w, N)`` array), nonzero = foreground.
Batch kernels are ChunkedKernels over the masks (or polygons) ``lo:hi``: a call
``k(n, *args)`` runs on threads, ``k.serial(n, *args)`` (small inputs) in one.
"""

from __future__ import annotations

import numpy as np

from fastdet._kernels import kernel

_INT_MIN = -2147483648  # (int)NaN on x86: what C gives a zero-length edge's 0/0 slope
_LOW7 = np.uint64(0x7F7F7F7F7F7F7F7F)
_HIGH = np.uint64(0x8080808080808080)


# ----------------------------------------------------------------------------- polygons
@kernel()
def _scaled(v):
    """``(int)(5 * v + .5)``: C's cast truncates toward zero."""
    return np.int64(5.0 * v + 0.5)


@kernel()
def _row(vmin, h):
    """rleFrPoly's boundary row for the lower upsampled y of a column crossing."""
    yd = (np.float64(vmin) + 0.5) / 5.0 - 0.5
    if yd < 0:
        yd = 0.0
    elif yd > h:
        yd = np.float64(h)
    return np.int64(np.ceil(yd))


@kernel()
def _joint(u, v, pu, pv, h, w):
    """rleFrPoly's down-sampling of the step (pu, pv) -> (u, v), u != pu: its pixel's
    ``(column, row)``, or column -1 where the step keeps no point."""
    xd = np.float64(u if u < pu else u - 1)
    xd = (xd + 0.5) / 5.0 - 0.5
    if np.floor(xd) != xd or xd < 0 or xd > w - 1:
        return np.int64(-1), np.int64(0)
    return np.int64(xd), _row(v if v < pv else pv, h)


@kernel()
def _edge_point(t, xs, ys, s, dx, dy):
    """Upsampled point t of an edge (after rleFrPoly's flip): one unit step along the longer axis."""
    if dx == 0 and dy == 0:  # zero-length edge: C's slope is 0/0
        return xs, np.int64(_INT_MIN)
    if dx >= dy:
        return t + xs, np.int64(ys + s * t + 0.5)
    return np.int64(xs + s * t + 0.5), t + ys


@kernel()
def _reached(xs, s, t, target, rising):
    u = np.int64(xs + s * t + 0.5)
    return u >= target if rising else u <= target


@kernel()
def _first_t_at(xs, s, steps, target, rising):
    """Smallest t in [1, steps] with u(t) >= target (``rising``) or u(t) <= target.

    u(t) = (int)(xs + s*t + .5) is monotone, u(0) misses the target and u(steps)
    reaches it. The line's own solution is usually right or one off; a binary
    search settles the rest.
    """
    est = (target - 0.5 - xs) / s if rising else (target + 0.5 - xs) / s
    t = min(max(np.int64(np.ceil(est)) if np.abs(est) < 4.0e18 else 0, 1), steps)
    for _ in range(4):
        if _reached(xs, s, t, target, rising):
            if t == 1 or not _reached(xs, s, t - 1, target, rising):
                return t
            t -= 1
        else:
            t += 1
    lo, hi = 1, steps
    while lo < hi:
        mid = (lo + hi) // 2
        if _reached(xs, s, mid, target, rising):
            hi = mid
        else:
            lo = mid + 1
    return lo


@kernel(inline=True)
def _edge(xy, a, j, k):
    """Edge j of polygon ``xy[2a:]`` (k points) upsampled as rleFrPoly does, after its flip:
    ``(xs, ys, s, dx, dy, steps, flip)``, the walk from (xs, ys) with slope ``s``."""
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
    return xs, ys, s, dx, dy, steps, flip


@kernel(inline=True)
def _crossed_columns(xs, s, dx, dy, steps, w):
    """The columns ``q0..q1`` whose centre the edge's walk steps across (none when q1 < q0).

    Along an edge the upsampled x moves monotonically by unit steps, and a step
    survives the down-sampling only between x = 5q + 2 and 5q + 3 (column q, in [0, w)).
    """
    if (dx == 0 and dy == 0) or (dx < dy and s == 0.0):
        return np.int64(0), np.int64(-1)
    if dx >= dy:  # u(t) = xs + t: the step t -> t + 1 crosses 5q + 2 -> 5q + 3 at t = 5q + 2 - xs
        return max(0, -((2 - xs) // 5)), min(w - 1, (xs + steps - 3) // 5)  # ceil((xs - 2) / 5) ..
    ua, ub = np.int64(xs + 0.5), np.int64(xs + s * steps + 0.5)
    lo_u, hi_u = (ua, ub) if s > 0 else (ub, ua)
    return max(0, -((2 - lo_u) // 5)), min(w - 1, (hi_u - 3) // 5)  # 5q + 2 >= lo_u, 5q + 3 <= hi_u


@kernel()
def _edge_crossings(xs, ys, s, dx, dy, steps, q0, q1, h, out, bucket, lb):
    """The boundary rows of the steps inside one edge across columns ``q0..q1`` (its
    :func:`_crossed_columns`), the row in column q to ``out[bucket[q - lb]]``, which moves on.

    The steps are found directly and evaluated with rleFrPoly's own expressions, so
    the points are the ones its point-by-point walk keeps.
    """
    if dx >= dy:
        for q in range(q0, q1 + 1):
            t = 5 * q + 2 - xs
            va = np.int64(ys + s * t + 0.5)
            vb = np.int64(ys + s * (t + 1) + 0.5)
            out[bucket[q - lb]] = _row(min(va, vb), h)
            bucket[q - lb] += 1
        return
    rising = s > 0
    for q in range(q0, q1 + 1):
        target = 5 * q + 3 if rising else 5 * q + 2
        tb = _first_t_at(xs, s, steps, target, rising)
        out[bucket[q - lb]] = _row(tb - 1 + ys, h)  # rows t + ys: the lower one is tb - 1 + ys
        bucket[q - lb] += 1


@kernel()
def _capacity_one(i, xy, poff, w, cap):
    a, k = poff[i], poff[i + 1] - poff[i]
    total = 1  # the end of the image
    for j in range(k):
        xs, _, s, dx, dy, steps, _ = _edge(xy, a, j, k)
        q0, q1 = _crossed_columns(xs, s, dx, dy, steps, w[i])
        total += 1 + max(q1 - q0 + 1, 0)  # the step from the previous edge, the crossings
    cap[i] = total


@kernel(chunked=True)
def poly_capacity(lo, hi, xy, poff, w, cap):
    """Upper bound on the runs rleFrPoly gives each polygon ``lo:hi`` (see :func:`poly_to_runs`).

    An edge keeps one boundary point per pixel column it crosses (counted as
    :func:`_edge_crossings` walks them) plus at most one for the step from the
    previous edge, and one run more ends the image.
    """
    for i in range(lo, hi):
        _capacity_one(i, xy, poff, w, cap)


@kernel()
def _poly_one(i, xy, poff, h, w, cap_off, out, out_m, edges, slope):
    """rleFrPoly of polygon i (see :func:`poly_to_runs`). Scratch for its K edges: ``edges``
    (K, 9) int64 (xs, ys, dx, dy, steps, first and last column crossed, the column and row
    of the step from the previous edge) and ``slope`` (K,)."""
    a, k = poff[i], poff[i + 1] - poff[i]
    hi, wi, o = h[i], w[i], cap_off[i]
    lo_u, hi_u = np.int64(0), np.int64(-1)  # the upsampled x range: every walked point is inside
    for j in range(k):
        u = _scaled(xy[2 * (a + j)])
        lo_u, hi_u = (u, u) if j == 0 else (min(lo_u, u), max(hi_u, u))
    lb = max(0, (lo_u - 3) // 5)  # so are the columns of its boundary points
    marks = np.zeros(max(min(wi - 1, hi_u // 5 + 1) - lb + 2, 1), np.int64)  # indexed by column - lb
    qlo, qhi = wi, np.int64(-1)  # the columns with boundary points
    pu, pv, have_prev = np.int64(0), np.int64(0), False
    for j in range(k):  # each edge walked once: its parameters kept, its points counted per column
        xs, ys, s, dx, dy, steps, flip = _edge(xy, a, j, k)
        u, v = _edge_point(steps if flip else 0, xs, ys, s, dx, dy)  # first point walked
        q, r = np.int64(-1), np.int64(0)
        if have_prev and u != pu:
            q, r = _joint(u, v, pu, pv, hi, wi)
            if q >= 0:
                qlo, qhi = min(qlo, q), max(qhi, q)
                marks[q - lb] += 1
                marks[q - lb + 1] -= 1
        q0, q1 = _crossed_columns(xs, s, dx, dy, steps, wi)
        if q0 <= q1:
            qlo, qhi = min(qlo, q0), max(qhi, q1)
            marks[q0 - lb] += 1
            marks[q1 - lb + 1] -= 1
        edges[j, 0], edges[j, 1], edges[j, 2], edges[j, 3], edges[j, 4] = xs, ys, dx, dy, steps
        edges[j, 5], edges[j, 6], edges[j, 7], edges[j, 8] = q0, q1, q, r
        slope[j] = s
        pu, pv = _edge_point(0 if flip else steps, xs, ys, s, dx, dy)  # last point walked
        have_prev = True
    count, start = np.int64(0), np.int64(o)
    for c in range(qlo - lb, qhi - lb + 2):  # the marks summed: points per column; those summed: buckets
        count += marks[c]
        marks[c] = start
        start += count
    n = start - o
    for j in range(k):  # the rows, each into its column's bucket (rleFrPoly sorts x * h + y)
        q = edges[j, 7]
        if q >= 0:
            out[marks[q - lb]] = edges[j, 8]
            marks[q - lb] += 1
        q0, q1 = edges[j, 5], edges[j, 6]
        if q0 <= q1:
            _edge_crossings(edges[j, 0], edges[j, 1], slope[j], edges[j, 2], edges[j, 3], edges[j, 4],
                            q0, q1, hi, out, marks, lb)  # fmt: skip
    prev, b = np.int64(0), np.int64(o)
    for c in range(qlo, qhi + 1):  # column c's bucket now ends at marks[c - lb]: sort its rows, difference
        e = marks[c - lb]
        for x in range(b + 1, e):  # insertion sort (a column has few points, mostly two)
            r = out[x]
            y = x - 1
            while y >= b and out[y] > r:
                out[y + 1] = out[y]
                y -= 1
            out[y + 1] = r
        base = c * hi
        for x in range(b, e):
            p = base + out[x]
            out[x] = p - prev
            prev = p
        b = e
    out[o + n] = hi * wi - prev
    n += 1
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


@kernel(chunked=True)
def poly_to_runs(lo, hi, xy, poff, h, w, cap_off, out, out_m):
    """rleFrPoly of polygons ``lo:hi``.

    ``xy`` holds interleaved (x, y) float64; polygon i is points poff[i]:poff[i+1].
    The outline is upsampled by 5 ((int)(5 v + .5) per vertex, then one point per
    unit step along the longer axis of each edge, rounded as C does); each step
    across a pixel-column centre gives that column's boundary row (ceil, clipped
    to [0, h]); the boundary indices x*h + y, sorted (bucketed by column, then
    sorted by row), with h*w appended, are differenced into runs, and an empty
    run merges its neighbours. Runs go to
    ``out[cap_off[i]:]`` (the slot doubles as scratch), their number to ``out_m[i]``.
    """
    k_max = np.int64(1)
    for i in range(lo, hi):
        k_max = max(k_max, poff[i + 1] - poff[i])
    edges = np.empty((k_max, 9), np.int64)
    slope = np.empty(k_max)
    for i in range(lo, hi):
        _poly_one(i, xy, poff, h, w, cap_off, out, out_m, edges, slope)


# ----------------------------------------------------------------------------- dense masks
@kernel()
def _next_change(b8, w64, j, end, fg):
    """First index in [j, end) whose pixel is not ``fg`` (nonzero = foreground), else ``end``.

    Between the unaligned ends, whole 8-byte words that are all background (zero)
    or all foreground (no zero byte) are skipped at once.
    """
    while j < end and (j & 7) != 0:
        if (b8[j] != 0) != fg:
            return j
        j += 1
    k, k_end = j >> 3, end >> 3
    if fg:
        while k < k_end:
            v = w64[k]
            if ((((v & _LOW7) + _LOW7) | v) & _HIGH) != _HIGH:  # a zero byte (no carry, no overflow)
                break
            k += 1
    else:
        while k < k_end and w64[k] == 0:
            k += 1
    j = max(j, k << 3)
    while j < end:
        if (b8[j] != 0) != fg:
            return j
        j += 1
    return end


@kernel()
def _count_one(i, b8, w64, p, out):
    j, end, fg, m = i * p, (i + 1) * p, False, 1
    while True:
        j = _next_change(b8, w64, j, end, fg)
        if j >= end:
            break
        m += 1
        fg = not fg
    out[i] = m


@kernel(chunked=True)
def mask_run_counts(lo, hi, b8, w64, p, out):
    """``out[i]``: runs rleEncode gives mask i = ``b8[i*p:(i+1)*p]``, for i in ``lo:hi``.

    ``w64`` is b8's whole 8-byte words.
    """
    for i in range(lo, hi):
        _count_one(i, b8, w64, p, out)


@kernel()
def _encode_mask_one(i, b8, w64, p, roff, runs):
    j, end, fg = i * p, (i + 1) * p, False
    prev, k = j, roff[i]
    while True:
        j = _next_change(b8, w64, j, end, fg)
        runs[k] = j - prev
        k += 1
        if j >= end:
            break
        prev = j
        fg = not fg


@kernel(chunked=True)
def mask_to_runs(lo, hi, b8, w64, p, roff, runs):
    """rleEncode of masks ``lo:hi``: runs of equal pixels from pixel 0, starting with background."""
    for i in range(lo, hi):
        _encode_mask_one(i, b8, w64, p, roff, runs)


@kernel()
def _paint_one(i, runs, start, count, out):
    row = out[i]
    pos = 0
    a = start[i]
    for j in range(count[i]):
        r = runs[a + j]
        if j % 2 == 1:
            for q in range(pos, pos + r):
                row[q] = 1
        pos += r


@kernel(chunked=True)
def runs_to_masks(lo, hi, runs, start, count, out):
    """rleDecode of masks ``lo:hi`` into a zeroed ``out`` uint8 (N, P).

    Only foreground runs are written (a mask's runs sum to P).
    """
    for i in range(lo, hi):
        _paint_one(i, runs, start, count, out)
