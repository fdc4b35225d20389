"""Numba kernels for COCO bbox evaluation (pycocotools-exact arithmetic).

Layout shared by the kernels: annotations are grouped into *cells*, one per
(image, category) pair (one per image when categories are not used). A cell
``c`` owns the rows ``off[c]:off[c + 1]`` of the grouped arrays (CSR offsets).
Detections inside a cell are sorted by descending score (stable) and already
truncated to the largest ``maxDets``.

Detection status codes written by :func:`match_cells`: 0 false positive,
1 true positive, 2 ignored.
"""

from __future__ import annotations

import numba
import numpy as np

from fastdet._kernels import kernel

FP = 0
TP = 1
IGNORED = 2


@kernel()
def counting_sort(keys, n_keys):
    """Stable counting sort of ``keys`` (N,) in [0, n_keys) -> (order (N,), offsets (n_keys + 1,))."""
    n = keys.shape[0]
    offsets = np.zeros(n_keys + 1, np.int64)
    for i in range(n):
        offsets[keys[i] + 1] += 1
    for k in range(n_keys):
        offsets[k + 1] += offsets[k]
    fill = offsets[:-1].copy()
    order = np.empty(n, np.int64)
    for i in range(n):
        k = keys[i]
        order[fill[k]] = i
        fill[k] += 1
    return order, offsets


@kernel()
def _stable_sort_desc(order, lo, hi, score, buf):
    """Stable in-place sort of ``order[lo:hi]`` by descending ``score[order]``; ``buf`` (>= hi - lo) is scratch."""
    n = hi - lo
    if n <= 24:
        for i in range(lo + 1, hi):
            v = order[i]
            s = score[v]
            j = i - 1
            while j >= lo and score[order[j]] < s:
                order[j + 1] = order[j]
                j -= 1
            order[j + 1] = v
        return
    # bottom-up merge sort, runs alternate between order[lo:hi] and buf; ties keep the left run first
    src = order[lo:hi]
    dst = buf[:n]
    in_buf = False
    width = 1
    while width < n:
        i = 0
        while i < n:
            mid = min(i + width, n)
            end = min(i + 2 * width, n)
            a = i
            b = mid
            k = i
            while a < mid and b < end:
                if score[src[b]] > score[src[a]]:
                    dst[k] = src[b]
                    b += 1
                else:
                    dst[k] = src[a]
                    a += 1
                k += 1
            while a < mid:
                dst[k] = src[a]
                a += 1
                k += 1
            while b < end:
                dst[k] = src[b]
                b += 1
                k += 1
            i += 2 * width
        tmp = src
        src = dst
        dst = tmp
        in_buf = not in_buf
        width *= 2
    if in_buf:
        for i in range(n):
            order[lo + i] = buf[i]


@kernel(parallel=True)
def sort_and_truncate(order, offsets, score, max_det):
    """Sort each cell of ``order`` by descending score (stable) and keep its first ``max_det``.

    ``order`` (N,) holds row indices grouped by cell, ``offsets`` (C + 1,) the cell
    bounds. Returns ``(kept (N',), kept_offsets (C + 1,))``.
    """
    n_cells = offsets.shape[0] - 1
    for c in numba.prange(n_cells):
        lo = offsets[c]
        hi = offsets[c + 1]
        if hi - lo > 1:
            buf = np.empty(hi - lo, np.int64)
            _stable_sort_desc(order, lo, hi, score, buf)
    kept_offsets = np.zeros(n_cells + 1, np.int64)
    for c in range(n_cells):
        kept_offsets[c + 1] = kept_offsets[c] + min(offsets[c + 1] - offsets[c], max_det)
    kept = np.empty(kept_offsets[n_cells], np.int64)
    for c in numba.prange(n_cells):
        lo = offsets[c]
        for j in range(kept_offsets[c + 1] - kept_offsets[c]):
            kept[kept_offsets[c] + j] = order[lo + j]
    return kept, kept_offsets


@kernel()
def bbox_iou_cell(dt_box, d0, d1, gt_box, g0, g1, gt_crowd, out):
    """pycocotools' bbIou for one cell: ``out[d, g]`` for xywh boxes; crowd IoU = inter / det area."""
    for g in range(g1 - g0):
        gx = gt_box[g0 + g, 0]
        gy = gt_box[g0 + g, 1]
        gw = gt_box[g0 + g, 2]
        gh = gt_box[g0 + g, 3]
        ga = gw * gh
        crowd = gt_crowd[g0 + g]
        for d in range(d1 - d0):
            dx = dt_box[d0 + d, 0]
            dy = dt_box[d0 + d, 1]
            dw = dt_box[d0 + d, 2]
            dh = dt_box[d0 + d, 3]
            da = dw * dh
            out[d, g] = 0.0
            w = min(dw + dx, gw + gx) - max(dx, gx)
            if w <= 0:
                continue
            h = min(dh + dy, gh + gy) - max(dy, gy)
            if h <= 0:
                continue
            inter = w * h
            if crowd:
                union = da
            else:
                union = da + ga - inter
            out[d, g] = inter / union


@kernel(parallel=True)
def match_cells(
    n_cells,
    gt_off,
    gt_box,
    gt_area,
    gt_crowd,
    gt_ignore,
    gt_id_nonzero,
    dt_off,
    dt_box,
    dt_area,
    dt_id_positive,
    iou_thrs,
    area_rng,
    status,
    npig,
    match,
):
    """Greedy COCO matching of every cell, for every area range and IoU threshold.

    Writes ``status`` (Nd, A, T) int8 (0 FP, 1 TP, 2 ignored), ``npig`` (A, C) the
    number of non-ignored ground truths per cell, and, when ``match.shape[0] > 0``,
    ``match`` (Nd, A, T) the matched ground-truth row within the cell (-1: none).
    """
    n_area = area_rng.shape[0]
    n_thr = iou_thrs.shape[0]
    want_match = match.shape[0] > 0
    for c in numba.prange(n_cells):
        g0 = gt_off[c]
        g1 = gt_off[c + 1]
        d0 = dt_off[c]
        d1 = dt_off[c + 1]
        n_g = g1 - g0
        n_d = d1 - d0
        for a in range(n_area):
            lo = area_rng[a, 0]
            hi = area_rng[a, 1]
            cnt = 0
            for g in range(g0, g1):
                if not (gt_ignore[g] or gt_area[g] < lo or gt_area[g] > hi):
                    cnt += 1
            npig[a, c] = cnt
        if n_d == 0:
            continue
        if n_g == 0:
            for a in range(n_area):
                lo = area_rng[a, 0]
                hi = area_rng[a, 1]
                for d in range(d0, d1):
                    code = IGNORED if (dt_area[d] < lo or dt_area[d] > hi) else FP
                    for t in range(n_thr):
                        status[d, a, t] = code
                        if want_match:
                            match[d, a, t] = -1
            continue
        ious = np.empty((n_d, n_g), np.float64)
        bbox_iou_cell(dt_box, d0, d1, gt_box, g0, g1, gt_crowd, ious)
        ig = np.empty(n_g, np.bool_)
        perm = np.empty(n_g, np.int64)
        taken = np.empty(n_g, np.bool_)
        for a in range(n_area):
            lo = area_rng[a, 0]
            hi = area_rng[a, 1]
            n_keep = 0
            for g in range(n_g):
                flag = gt_ignore[g0 + g] or gt_area[g0 + g] < lo or gt_area[g0 + g] > hi
                ig[g] = flag
                if not flag:
                    perm[n_keep] = g
                    n_keep += 1
            j = n_keep
            for g in range(n_g):
                if ig[g]:
                    perm[j] = g
                    j += 1
            for t in range(n_thr):
                thr = min(iou_thrs[t], 1 - 1e-10)
                taken[:] = False
                for d in range(n_d):
                    best = thr
                    m = -1
                    for gi in range(n_g):
                        g = perm[gi]
                        if taken[g] and not gt_crowd[g0 + g]:
                            continue
                        if m > -1 and not ig[m] and ig[g]:
                            break
                        if ious[d, g] < best:
                            continue
                        best = ious[d, g]
                        m = g
                    row = d0 + d
                    out_of_range = dt_area[row] < lo or dt_area[row] > hi
                    if m == -1:
                        code = IGNORED if out_of_range else FP
                    else:
                        taken[m] = dt_id_positive[row]
                        if ig[m]:
                            code = IGNORED
                        elif gt_id_nonzero[g0 + m]:
                            code = TP
                        else:
                            code = IGNORED if out_of_range else FP
                    status[row, a, t] = code
                    if want_match:
                        match[row, a, t] = m


@kernel(parallel=True)
def iou_cells(n_cells, gt_off, gt_box, gt_crowd, dt_off, dt_box, iou_off, out):
    """IoU matrix of every cell with both detections and ground truths, flattened row-major.

    Cell ``c`` writes ``out[iou_off[c]:iou_off[c + 1]]`` as a (D_c, G_c) matrix.
    """
    for c in numba.prange(n_cells):
        n_g = gt_off[c + 1] - gt_off[c]
        n_d = dt_off[c + 1] - dt_off[c]
        if n_g == 0 or n_d == 0:
            continue
        block = out[iou_off[c] : iou_off[c + 1]].reshape((n_d, n_g))
        bbox_iou_cell(dt_box, dt_off[c], dt_off[c + 1], gt_box, gt_off[c], gt_off[c + 1], gt_crowd, block)


@kernel(parallel=True)
def accumulate(
    n_cat_cells,
    dt_off,
    dt_score,
    status,
    npig,
    k_list,
    a_list,
    i_list,
    max_dets,
    rec_thrs,
    precision,
    recall,
    scores,
):
    """pycocotools' accumulate over the matched cells.

    ``k_list``/``a_list``/``i_list`` index the evaluated categories, area ranges and
    images; ``max_dets`` holds the detection limits. Cell (i, k) is ``i * n_cat_cells
    + k``. Fills ``precision`` / ``scores`` (T, R, K, A, M) and ``recall``
    (T, K, A, M), which arrive set to -1; combinations without non-ignored ground
    truth stay -1.
    """
    n_k = k_list.shape[0]
    n_i = i_list.shape[0]
    n_a = a_list.shape[0]
    n_m = max_dets.shape[0]
    n_t = status.shape[2]
    n_r = rec_thrs.shape[0]
    # detections of each category, image by image, then stably by descending score
    cat_off = np.zeros(n_k + 1, np.int64)
    for k in range(n_k):
        total = 0
        for ii in range(n_i):
            c = i_list[ii] * n_cat_cells + k_list[k]
            total += dt_off[c + 1] - dt_off[c]
        cat_off[k + 1] = cat_off[k] + total
    cat_rows = np.empty(cat_off[n_k], np.int64)
    cat_rank = np.empty(cat_off[n_k], np.int64)
    for k in numba.prange(n_k):
        base = cat_off[k]
        j = base
        for ii in range(n_i):
            c = i_list[ii] * n_cat_cells + k_list[k]
            for r in range(dt_off[c], dt_off[c + 1]):
                cat_rows[j] = r
                j += 1
        n = j - base
        if n > 1:
            buf = np.empty(n, np.int64)
            _stable_sort_desc(cat_rows, base, base + n, dt_score, buf)
        for q in range(base, base + n):
            r = cat_rows[q]
            # rank of the detection inside its cell: position past the cell start
            cat_rank[q] = r
    # ranks: rows of one cell are contiguous, so rank = row - cell start
    row_rank = np.empty(dt_score.shape[0], np.int64)
    n_cells = dt_off.shape[0] - 1
    for c in numba.prange(n_cells):
        for r in range(dt_off[c], dt_off[c + 1]):
            row_rank[r] = r - dt_off[c]
    n_combo = n_k * n_a * n_m
    for combo in numba.prange(n_combo):
        k = combo // (n_a * n_m)
        a = (combo // n_m) % n_a
        m = combo % n_m
        a0 = a_list[a]
        n_pos = 0
        for ii in range(n_i):
            n_pos += npig[a0, i_list[ii] * n_cat_cells + k_list[k]]
        if n_pos == 0:
            continue
        limit = max_dets[m]
        base = cat_off[k]
        n_all = cat_off[k + 1] - base
        nd = 0
        for q in range(n_all):
            if row_rank[cat_rows[base + q]] < limit:
                nd += 1
        tp_cum = np.empty((n_t, nd), np.float64)
        prec = np.empty((n_t, nd), np.float64)
        sel = np.empty(nd, np.int64)
        tp = np.zeros(n_t, np.float64)
        fp = np.zeros(n_t, np.float64)
        j = 0
        for q in range(n_all):
            r = cat_rows[base + q]
            if row_rank[r] >= limit:
                continue
            sel[j] = r
            for t in range(n_t):
                code = status[r, a0, t]
                if code == TP:
                    tp[t] += 1.0
                elif code == FP:
                    fp[t] += 1.0
                tp_cum[t, j] = tp[t]
                prec[t, j] = tp[t] / (fp[t] + tp[t] + np.spacing(1.0))
            j += 1
        for t in range(n_t):
            if nd > 0:
                recall[t, k, a, m] = tp_cum[t, nd - 1] / n_pos
            else:
                recall[t, k, a, m] = 0.0
            for i in range(nd - 1, 0, -1):
                if prec[t, i] > prec[t, i - 1]:
                    prec[t, i - 1] = prec[t, i]
            for ri in range(n_r):
                precision[t, ri, k, a, m] = 0.0
                scores[t, ri, k, a, m] = 0.0
            for ri in range(n_r):
                x = rec_thrs[ri]
                lo_i = 0
                hi_i = nd
                while lo_i < hi_i:
                    mid = (lo_i + hi_i) >> 1
                    if tp_cum[t, mid] / n_pos < x:
                        lo_i = mid + 1
                    else:
                        hi_i = mid
                if lo_i >= nd:
                    break
                precision[t, ri, k, a, m] = prec[t, lo_i]
                scores[t, ri, k, a, m] = dt_score[sel[lo_i]]
