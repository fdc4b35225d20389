"""Numba kernels for COCO keypoint evaluation: object keypoint similarity (OKS), pycocotools-exact.

OKS of a detection d with a ground truth g (pycocotools ``COCOeval.computeOks``)::

    e_k = (dx_k**2 + dy_k**2) / var_k / (area_g + eps) / 2,   var_k = (2 * sigma_k)**2
    OKS = sum_k exp(-e_k) / n

over the n keypoints of g with visibility v > 0 (dx, dy: detection minus ground
truth); when g has none, over all K keypoints with dx, dy the distance of the
detected keypoint outside g's box expanded by its width / height on each side.

The exponential is left to NumPy (whose SIMD ``exp`` may differ from libm's in
the last bit): :func:`oks_exponents` writes every ``-e_k`` of every (d, g) pair of
every cell into one buffer, the caller applies ``np.exp``, and
:func:`oks_reduce` sums each pair's run exactly as ``np.sum`` does (NumPy's
pairwise summation) and divides by n.

Layout: as in :mod:`fastdet._kernels.coco` (cells of rows, CSR offsets;
detections sorted by score). A pair's exponents are at
``e_off[c] + d * S_c + g_start``, ``S_c`` the cell's total count of exponents
per detection and ``g_start`` the running count of the ground truths before g.
"""

from __future__ import annotations

import numpy as np

from fastdet._kernels import kernel

UNDERFLOW = 1.0  # marks a term exp(-e) = 0 (legitimate inputs are <= 0, so their exp is <= 1)


@kernel(chunked=True)
def oks_counts(lo, hi, gt_off, dt_off, g_start, g_values, n_kpt, g_count, e_size):
    """Per ground truth the number of OKS terms, per cell the number of exponents.

    ``g_start`` (Ng,) int64: where each ground truth's ``x, y, v`` triples start in
    ``g_values``; ``g_count`` (Ng,) int64 gets its count of keypoints with v > 0,
    or K when there is none; ``e_size`` (C,) int64 gets D_c * (sum of the cell's
    counts), 0 for a cell without detections or ground truths.
    """
    for c in range(lo, hi):
        e_size[c] = 0
        if gt_off[c] == gt_off[c + 1] or dt_off[c] == dt_off[c + 1]:
            continue
        total = 0
        for g in range(gt_off[c], gt_off[c + 1]):
            visible = 0
            for k in range(n_kpt):
                if g_values[g_start[g] + 3 * k + 2] > 0.0:
                    visible += 1
            g_count[g] = visible if visible > 0 else n_kpt
            total += g_count[g]
        e_size[c] = (dt_off[c + 1] - dt_off[c]) * total


@kernel(chunked=True)
def oks_exponents(
    lo, hi, gt_off, dt_off, g_start, g_values, g_count, g_box, g_area, d_start, d_values, var, eps, shortcut,
    e_off, e_buf,
):  # fmt: skip
    """Write the OKS exponents of every (detection, ground truth) pair of every cell.

    ``g_values``/``d_values``: flat ``x, y, v`` triples, row r's at ``*_start[r]``;
    ``g_count`` from :func:`oks_counts`; ``g_box`` (Ng, 4) xywh, ``g_area`` (Ng,),
    ``var`` (K,), ``eps`` the float added to the area, ``e_off`` (C + 1,) int64;
    ``e_buf`` (e_off[-1],) float64 gets the negated exponents ``-e``; with
    ``shortcut`` (only valid when every exponent is >= 0: positive areas and
    sigmas), those whose exp is 0 get the marker UNDERFLOW instead.
    """
    n_kpt = var.shape[0]
    for c in range(lo, hi):
        g0 = gt_off[c]
        g1 = gt_off[c + 1]
        d0 = dt_off[c]
        d1 = dt_off[c + 1]
        if g0 == g1 or d0 == d1:
            continue
        per_dt = 0
        for g in range(g0, g1):
            per_dt += g_count[g]
        kidx = np.empty(n_kpt, np.int64)  # the ground truth's visible keypoints: no branch per term
        start = 0
        for g in range(g0, g1):
            scale = g_area[g] + eps
            gs = g_start[g]
            n_vis = 0
            for k in range(n_kpt):
                if g_values[gs + 3 * k + 2] > 0.0:
                    kidx[n_vis] = k
                    n_vis += 1
            if n_vis > 0:
                for d in range(d0, d1):
                    pos = e_off[c] + (d - d0) * per_dt + start
                    ds = d_start[d]
                    for j in range(n_vis):
                        k = kidx[j]
                        dx = d_values[ds + 3 * k] - g_values[gs + 3 * k]
                        dy = d_values[ds + 3 * k + 1] - g_values[gs + 3 * k + 1]
                        # pycocotools' order; * 0.5 is / 2 bit for bit; negated as np.exp(-e) reads it
                        e = (dx * dx + dy * dy) / var[k] / scale * 0.5
                        # exp(-e) is exactly 0 for e > 746 (below half the least subnormal, in every
                        # exp); NumPy's slow path for such inputs is skipped: a marker, read as 0
                        e_buf[pos + j] = UNDERFLOW if shortcut and e > 746.0 else -e
            else:  # no visible keypoint: distances outside the box grown by w / h on each side
                x0 = g_box[g, 0] - g_box[g, 2]
                x1 = g_box[g, 0] + g_box[g, 2] * 2.0
                y0 = g_box[g, 1] - g_box[g, 3]
                y1 = g_box[g, 1] + g_box[g, 3] * 2.0
                for d in range(d0, d1):
                    pos = e_off[c] + (d - d0) * per_dt + start
                    ds = d_start[d]
                    for k in range(n_kpt):
                        xd = d_values[ds + 3 * k]
                        yd = d_values[ds + 3 * k + 1]
                        dx = max(0.0, x0 - xd) + max(0.0, xd - x1)
                        dy = max(0.0, y0 - yd) + max(0.0, yd - y1)
                        e = (dx * dx + dy * dy) / var[k] / scale * 0.5
                        e_buf[pos + k] = UNDERFLOW if shortcut and e > 746.0 else -e
            start += g_count[g]


@kernel()
def _term(a, i, clamp):
    """``a[i]``, or 0 for an UNDERFLOW marker's exp (> 1) when ``clamp``."""
    v = a[i]
    return 0.0 if clamp and v > 1.0 else v


@kernel()
def _pairwise_block(a, start, n, clamp):
    """``np.sum`` of ``a[start:start + n]`` for n <= 1024: NumPy's pairwise summation, bit for bit.

    NumPy splits a run over 128 into two, the first part the half rounded down
    to a multiple of 8, down to runs of at most 128 (:func:`_pairwise_leaf`);
    the levels of splitting are written out (Numba compiles no recursion
    cheaply): five cover 1024 values with room to spare.
    """
    if n <= 128:
        return _pairwise_leaf(a, start, n, clamp)
    half = n // 2
    half -= half % 8
    return _pairwise_block2(a, start, half, clamp) + _pairwise_block2(a, start + half, n - half, clamp)


@kernel()
def _pairwise_block2(a, start, n, clamp):
    if n <= 128:
        return _pairwise_leaf(a, start, n, clamp)
    half = n // 2
    half -= half % 8
    return _pairwise_block3(a, start, half, clamp) + _pairwise_block3(a, start + half, n - half, clamp)


@kernel()
def _pairwise_block3(a, start, n, clamp):
    if n <= 128:
        return _pairwise_leaf(a, start, n, clamp)
    half = n // 2
    half -= half % 8
    return _pairwise_block4(a, start, half, clamp) + _pairwise_block4(a, start + half, n - half, clamp)


@kernel()
def _pairwise_block4(a, start, n, clamp):
    if n <= 128:
        return _pairwise_leaf(a, start, n, clamp)
    half = n // 2
    half -= half % 8
    return _pairwise_block5(a, start, half, clamp) + _pairwise_block5(a, start + half, n - half, clamp)


@kernel()
def _pairwise_block5(a, start, n, clamp):
    if n <= 128:
        return _pairwise_leaf(a, start, n, clamp)
    half = n // 2
    half -= half % 8
    return _pairwise_leaf(a, start, half, clamp) + _pairwise_leaf(a, start + half, n - half, clamp)


@kernel()
def _pairwise_leaf(a, start, n, clamp):
    """NumPy's pairwise sum of a run of at most 128 values: sequential below 8, else 8 accumulators."""
    if n < 8:
        res = 0.0
        for i in range(start, start + n):
            res += _term(a, i, clamp)
        return res
    r0 = _term(a, start + 0, clamp)
    r1 = _term(a, start + 1, clamp)
    r2 = _term(a, start + 2, clamp)
    r3 = _term(a, start + 3, clamp)
    r4 = _term(a, start + 4, clamp)
    r5 = _term(a, start + 5, clamp)
    r6 = _term(a, start + 6, clamp)
    r7 = _term(a, start + 7, clamp)
    i = 8
    stop = n - n % 8
    while i < stop:
        j = start + i
        r0 += _term(a, j + 0, clamp)
        r1 += _term(a, j + 1, clamp)
        r2 += _term(a, j + 2, clamp)
        r3 += _term(a, j + 3, clamp)
        r4 += _term(a, j + 4, clamp)
        r5 += _term(a, j + 5, clamp)
        r6 += _term(a, j + 6, clamp)
        r7 += _term(a, j + 7, clamp)
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += _term(a, start + i, clamp)
        i += 1
    return res


@kernel(chunked=True)
def oks_reduce(lo, hi, gt_off, dt_off, g_count, e_off, ex_buf, clamp, iou_off, out):
    """OKS of every pair from ``ex_buf = exp(e_buf)``: pairwise sum over the pair's run / its count.

    ``clamp``: ``e_buf`` was written with the shortcut; values > 1 (UNDERFLOW's exp) count as 0.

    ``out`` (iou_off[-1],) float64 gets each cell's (D_c, G_c) block, row-major.
    """
    for c in range(lo, hi):
        g0 = gt_off[c]
        g1 = gt_off[c + 1]
        d0 = dt_off[c]
        d1 = dt_off[c + 1]
        if g0 == g1 or d0 == d1:
            continue
        n_g = g1 - g0
        pos = e_off[c]
        for d in range(d1 - d0):
            for g in range(n_g):
                n = g_count[g0 + g]
                s = 0.0 + _pairwise_block(ex_buf, pos, n, clamp)  # np.sum adds its sum to the identity 0.0
                out[iou_off[c] + d * n_g + g] = s / n
                pos += n


@kernel()
def keypoint_extent(values, start, width, box):
    """Box ``[x0, y0, x1 - x0, y1 - y0]`` of each entry's keypoints into ``box`` (N, 4).

    Entry i is ``values[start[i]:start[i] + width]`` (x, y, v triples); every x
    and y counts, whatever its visibility (pycocotools' ``loadRes``). Returns
    False when a value is not finite (``box`` is then incomplete).
    """
    for i in range(start.shape[0]):
        s = start[i]
        x0 = values[s]
        x1 = x0
        y0 = values[s + 1]
        y1 = y0
        for j in range(s, s + width, 3):
            x = values[j]
            y = values[j + 1]
            v = values[j + 2]
            if not (abs(x) < np.inf and abs(y) < np.inf and abs(v) < np.inf):
                return False
            x0 = min(x0, x)
            x1 = max(x1, x)
            y0 = min(y0, y)
            y1 = max(y1, y)
        box[i, 0] = x0
        box[i, 1] = y0
        box[i, 2] = x1 - x0
        box[i, 3] = y1 - y0
    return True
