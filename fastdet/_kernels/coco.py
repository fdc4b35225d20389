"""Numba kernels for COCO bbox evaluation (pycocotools-exact arithmetic).

Layout shared by the kernels: annotations are grouped into *cells*, one per
(category, image) pair, category-major (cell ``k * I + i``; one cell per image
when categories are not used). A cell ``c`` owns the rows ``off[c]:off[c + 1]``
of the grouped arrays (CSR offsets). Detections inside a cell are sorted by
descending score (stable) and already truncated to the largest ``maxDets``.

Detection status codes written by :func:`match_cells`: 0 false positive,
1 true positive, 2 ignored; its per (detection, area range) summary ``kind``
is FP or IGNORED when that holds at every IoU threshold, else MIXED.

The bottom of the file holds a reader for plain COCO JSON (numbers only).
"""

from __future__ import annotations

import numba
import numpy as np

from fastdet._kernels import kernel

FP = 0
TP = 1
IGNORED = 2
MIXED = 3  # ``kind``: the status differs between thresholds (or is TP somewhere)
# 10**k for k <= 22, every one exact in float64 (Clinger's fast path). A module constant, which
# Numba freezes into the code: as an argument, each call of the number parser paid for reference
# counting the array (a third of the scanning time).
_EXACT_POW10 = np.array([float(10**k) for k in range(23)])
# bytes inside a JSON array or object value, for skipping one: 0 not allowed outside strings,
# 1 number / literal / separator / whitespace, 2 a quote, 3 '{' or '[', 4 '}' or ']'
_VALUE_BYTES = np.zeros(256, np.uint8)
_VALUE_BYTES[np.frombuffer(b",: \n\r\t-+.0123456789eEabcdefghijklmnopqrstuvwxyz", np.uint8)] = 1
_VALUE_BYTES[34] = 2
_VALUE_BYTES[[123, 91]] = 3
_VALUE_BYTES[[125, 93]] = 4


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
    """Stable in-place sort of ``order[lo:hi]`` by descending ``score[order]``; ``buf`` is scratch."""
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


@kernel()
def _radix_argsort_desc(score):
    """Stable permutation ordering ``score`` (no NaN) by descending value: LSD radix, 11-bit digits.

    Ties keep input order and -0.0 ties with 0.0, as in a stable comparison sort.
    Six passes of 2048 buckets (a pass whose digit is the same for every key is
    skipped): small enough tables that a few thousand keys already sort faster
    than with a merge sort.
    """
    n = score.shape[0]
    sign = np.uint64(0x8000000000000000)
    mask = np.uint64(0x7FF)
    key = np.empty(n, np.uint64)
    bits = (score + 0.0).view(np.uint64)  # -0.0 + 0.0 == +0.0
    for i in range(n):
        b = bits[i]
        asc = ~b if (b & sign) != np.uint64(0) else (b | sign)  # ascending in the float order
        key[i] = ~asc  # descending
    perm = np.arange(n)
    key2 = np.empty(n, np.uint64)
    perm2 = np.empty(n, np.int64)
    counts = np.empty(2048, np.int64)
    for p in range(6):
        shift = np.uint64(11 * p)
        counts[:] = 0
        for i in range(n):
            counts[np.int64((key[i] >> shift) & mask)] += 1
        if counts.max() == n:  # every key has the same digit here: nothing to reorder
            continue
        total = 0
        for d in range(2048):
            c = counts[d]
            counts[d] = total
            total += c
        for i in range(n):
            d = np.int64((key[i] >> shift) & mask)
            j = counts[d]
            counts[d] = j + 1
            key2[j] = key[i]
            perm2[j] = perm[i]
        key, key2 = key2, key
        perm, perm2 = perm2, perm
    return perm


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
        if hi - lo > 24:
            _stable_sort_desc(order, lo, hi, score, np.empty(hi - lo, np.int64))
        elif hi - lo > 1:  # insertion sort: no scratch buffer to allocate
            _stable_sort_desc(order, lo, hi, score, order[lo:lo])
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


@kernel()
def _match_cell(
    c,
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
    kind,
    match,
):
    """Match one cell (see :func:`match_cells`)."""
    n_area = area_rng.shape[0]
    n_thr = iou_thrs.shape[0]
    want_match = match.shape[0] > 0
    g0 = gt_off[c]
    d0 = dt_off[c]
    n_g = gt_off[c + 1] - g0
    n_d = dt_off[c + 1] - d0
    if n_d == 0:
        return
    if n_g == 0:
        # FP or IGNORED at every threshold: ``kind`` says it all (``status`` is read for MIXED only)
        for a in range(n_area):
            lo = area_rng[a, 0]
            hi = area_rng[a, 1]
            for d in range(d0, d0 + n_d):
                code = IGNORED if (dt_area[d] < lo or dt_area[d] > hi) else FP
                kind[d, a] = code
                if want_match:
                    for t in range(n_thr):
                        status[d, a, t] = code
                        match[d, a, t] = -1
        return
    # scratch: three allocations per cell rather than eight
    fbuf = np.empty(2 * n_d * n_g, np.float64)
    ibuf = np.empty(n_g + n_d + 1 + n_d * n_g, np.int64)
    bbuf = np.empty((2 + n_thr) * n_g, np.bool_)
    ious = fbuf[: n_d * n_g].reshape((n_d, n_g))
    bbox_iou_cell(dt_box, d0, d0 + n_d, gt_box, g0, g0 + n_g, gt_crowd, ious)
    thr_lo = np.inf
    for t in range(n_thr):
        thr_lo = min(thr_lo, min(iou_thrs[t], 1 - 1e-10))
    perm = ibuf[:n_g]
    ig = bbuf[:n_g]  # by position in perm
    crowd = bbuf[n_g : 2 * n_g]
    taken = bbuf[2 * n_g :]  # (T, G): threshold t owns taken[t * G:(t + 1) * G]
    # per detection, the ground truths (positions in perm, in order) that can match at some
    # threshold: every other one fails "iou >= best" at every threshold, and skipping an
    # ignored one cannot move the "regular match, now ignored ones: stop" rule, because
    # all ground truths after the first ignored one are ignored too
    cand_off = ibuf[n_g : n_g + n_d + 1]
    cand = ibuf[n_g + n_d + 1 :]
    cand_iou = fbuf[n_d * n_g :]
    for a in range(n_area):
        lo = area_rng[a, 0]
        hi = area_rng[a, 1]
        # regular ground truths first, then ignored ones, each in file order (stable)
        j = 0
        for g in range(n_g):
            if not (gt_ignore[g0 + g] or gt_area[g0 + g] < lo or gt_area[g0 + g] > hi):
                perm[j] = g
                j += 1
        n_keep = j
        for g in range(n_g):
            if gt_ignore[g0 + g] or gt_area[g0 + g] < lo or gt_area[g0 + g] > hi:
                perm[j] = g
                j += 1
        for j in range(n_g):
            ig[j] = j >= n_keep
            crowd[j] = gt_crowd[g0 + perm[j]]
        n_c = 0
        for d in range(n_d):
            cand_off[d] = n_c
            for j in range(n_g):
                v = ious[d, perm[j]]
                if not (v < thr_lo):  # NaN stays a candidate, as in the greedy loop
                    cand[n_c] = j
                    cand_iou[n_c] = v
                    n_c += 1
        cand_off[n_d] = n_c
        # detection by detection, every threshold with its own ``taken`` row: the same greedy
        # passes as threshold by threshold, and a detection without candidates is settled once
        taken[:] = False
        for d in range(n_d):
            row = d0 + d
            out_of_range = dt_area[row] < lo or dt_area[row] > hi
            miss = IGNORED if out_of_range else FP
            if cand_off[d] == cand_off[d + 1]:
                kind[row, a] = miss
                if want_match:
                    for t in range(n_thr):
                        status[row, a, t] = miss
                        match[row, a, t] = -1
                continue
            first = miss
            mixed = False
            for t in range(n_thr):
                thr = min(iou_thrs[t], 1 - 1e-10)
                tk = t * n_g
                m = -1
                best = thr
                for c in range(cand_off[d], cand_off[d + 1]):
                    j = cand[c]
                    if taken[tk + j] and not crowd[j]:
                        continue
                    if m > -1 and not ig[m] and ig[j]:
                        break
                    if cand_iou[c] < best:
                        continue
                    best = cand_iou[c]
                    m = j
                if m == -1:
                    code = miss
                else:
                    taken[tk + m] = dt_id_positive[row]
                    if ig[m]:
                        code = IGNORED
                    elif gt_id_nonzero[g0 + perm[m]]:
                        code = TP
                    else:
                        code = miss
                status[row, a, t] = code
                if want_match:
                    match[row, a, t] = -1 if m == -1 else perm[m]
                if t == 0:
                    first = code
                elif code != first:
                    mixed = True
            # FP or IGNORED at every threshold, else MIXED
            kind[row, a] = MIXED if (mixed or first == TP) else first


@kernel(parallel=True)
def match_cells(
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
    kind,
    match,
):
    """Greedy COCO matching of every cell, for every area range and IoU threshold.

    Boxes are xywh (C + 1 offsets, rows grouped by cell; detections sorted by
    descending score and truncated). Writes ``kind`` (Nd, A) int8 (FP or IGNORED
    when the status is the same at every threshold, else MIXED), ``status``
    (Nd, A, T) int8 (0 FP, 1 TP, 2 ignored) where ``kind`` is MIXED (everywhere
    when ``match`` is wanted) and, when ``match.shape[0] > 0``, ``match``
    (Nd, A, T) int64, the matched ground-truth row within its cell (-1: none).
    """
    n_cells = gt_off.shape[0] - 1
    n_area = area_rng.shape[0]
    want_match = match.shape[0] > 0
    for c in numba.prange(n_cells):
        if dt_off[c + 1] == dt_off[c]:  # most cells are empty: skip the call
            continue
        if gt_off[c + 1] == gt_off[c] and not want_match:
            # no ground truth: FP or IGNORED at every threshold, so ``kind`` says it all
            # (``status`` is read for MIXED only); inline, as these cells are many and small
            for d in range(dt_off[c], dt_off[c + 1]):
                for a in range(n_area):
                    out_of_range = dt_area[d] < area_rng[a, 0] or dt_area[d] > area_rng[a, 1]
                    kind[d, a] = IGNORED if out_of_range else FP
            continue
        _match_cell(
            c,
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
            kind,
            match,
        )


@kernel(parallel=True)
def iou_cells(gt_off, gt_box, gt_crowd, dt_off, dt_box, iou_off, out):
    """IoU matrix of every cell with detections and ground truths, flattened row-major.

    Cell ``c`` writes ``out[iou_off[c]:iou_off[c + 1]]`` as a (D_c, G_c) matrix.
    """
    n_cells = gt_off.shape[0] - 1
    for c in numba.prange(n_cells):
        n_g = gt_off[c + 1] - gt_off[c]
        n_d = dt_off[c + 1] - dt_off[c]
        if n_g > 0 and n_d > 0:
            block = np.empty((n_d, n_g), np.float64)
            bbox_iou_cell(dt_box, dt_off[c], dt_off[c + 1], gt_box, gt_off[c], gt_off[c + 1], gt_crowd, block)
            start = iou_off[c]
            for d in range(n_d):
                for g in range(n_g):
                    out[start + d * n_g + g] = block[d, g]


@kernel()
def _count_positives(k, n_img, gt_off, gt_area, gt_ignore, area_rng, a_list, k_list, i_list, n_pos):
    """Non-ignored ground truths of category ``k_list[k]`` per evaluated area range."""
    for a in range(a_list.shape[0]):
        lo = area_rng[a_list[a], 0]
        hi = area_rng[a_list[a], 1]
        cnt = 0
        for ii in range(i_list.shape[0]):
            c = k_list[k] * n_img + i_list[ii]
            for g in range(gt_off[c], gt_off[c + 1]):
                if not (gt_ignore[g] or gt_area[g] < lo or gt_area[g] > hi):
                    cnt += 1
        n_pos[k, a] = cnt


@kernel()
def _gather_category(k, n_img, dt_off, dt_score, k_list, i_list, cat_off, cat_rows, cat_rank):
    """Rows of category ``k_list[k]`` image by image, then stably by descending score.

    Also writes each row's rank inside its cell and copies its status block, so
    that the per-combination passes read memory in order.
    """
    base = cat_off[k]
    j = base
    for ii in range(i_list.shape[0]):
        c = k_list[k] * n_img + i_list[ii]
        for r in range(dt_off[c], dt_off[c + 1]):
            cat_rows[j] = r
            cat_rank[j] = r - dt_off[c]
            j += 1
    n = j - base
    if n > 1:
        rows = cat_rows[base:j].copy()
        ranks = cat_rank[base:j].copy()
        keys = np.empty(n, np.float64)
        for q in range(n):
            keys[q] = dt_score[rows[q]]
        if n >= 512:
            perm = _radix_argsort_desc(keys)
        else:
            perm = np.arange(n)
            _stable_sort_desc(perm, 0, n, keys, np.empty(n, np.int64))
        for q in range(n):
            cat_rows[base + q] = rows[perm[q]]
            cat_rank[base + q] = ranks[perm[q]]


@kernel()
def _accumulate_category(
    k,
    dt_score,
    n_pos,
    a_list,
    max_dets,
    rec_thrs,
    rec_sorted,
    eps,
    cat_off,
    cat_rows,
    cat_rank,
    status,
    kind,
    precision,
    recall,
    scores,
):
    """Precision/recall of category ``k`` for every area range and maxDets limit.

    pycocotools computes precision ``tp / (fp + tp + eps)`` at every detection,
    takes the running maximum from the right, and reads it where recall first
    reaches each recall threshold. Recall only grows at true positives and
    precision only grows there too, so the same numbers come from the true
    positives alone: the position read for a threshold is the first detection
    (position 0) or a true positive, and the maximum to its right is the
    maximum over the true positives from there on. The divisions are the same
    float operations on the same counts, so the result is bit-identical.
    A detection of rank r in its image counts for every limit above r. One pass
    over the category's detections serves every area range (their ``kind`` and
    ``status`` entries share a cache line).
    """
    n_a = a_list.shape[0]
    n_m = max_dets.shape[0]
    n_t = status.shape[2]
    base = cat_off[k]
    end = cat_off[k + 1]
    cap = 1
    any_pos = False
    for a in range(n_a):
        if n_pos[k, a] > 0:
            any_pos = True
            cap = max(cap, min(end - base, n_pos[k, a]) + 1)
    if not any_pos or n_m == 0:
        return
    tp_pr = np.empty((n_a, n_m, n_t, cap), np.float64)  # precision at the i-th true positive
    tp_row = np.empty((n_a, n_m, n_t, cap), np.int64)  # its detection row
    tp = np.zeros((n_a, n_m, n_t), np.int64)
    fp = np.zeros((n_a, n_m, n_t), np.int64)
    first_tp = np.zeros((n_a, n_m, n_t), np.bool_)  # is the first counted detection a true positive?
    fp_all = np.zeros((n_a, n_m), np.int64)  # false positives at every threshold: one counter for all t
    first_row = np.full(n_m, -1, np.int64)
    nd = np.zeros(n_m, np.int64)
    counted = np.empty(n_m, np.bool_)
    max_limit = 0
    for m in range(n_m):
        max_limit = max(max_limit, max_dets[m])
    for q in range(base, end):
        rank = cat_rank[q]
        if rank >= max_limit:
            continue
        r = cat_rows[q]
        for m in range(n_m):
            counted[m] = rank < max_dets[m]
        for a in range(n_a):
            if n_pos[k, a] == 0:
                continue
            a0 = a_list[a]
            kd = kind[r, a0]
            if kd == FP:
                for m in range(n_m):
                    if counted[m]:
                        fp_all[a, m] += 1
            elif kd == MIXED:
                codes = status[r, a0]
                for m in range(n_m):
                    if not counted[m]:
                        continue
                    tp_am = tp[a, m]
                    fp_am = fp[a, m]
                    fp_base = fp_all[a, m]
                    for t in range(n_t):
                        code = codes[t]
                        if code == TP:
                            i = tp_am[t]
                            tp_am[t] = i + 1
                            tpf = float(i + 1)
                            tp_pr[a, m, t, i] = tpf / (float(fp_am[t] + fp_base) + tpf + eps)
                            tp_row[a, m, t, i] = r
                            if nd[m] == 0:
                                first_tp[a, m, t] = True
                        elif code == FP:
                            fp_am[t] += 1
        for m in range(n_m):
            if counted[m]:
                if nd[m] == 0:
                    first_row[m] = r
                nd[m] += 1
    for a in range(n_a):
        if n_pos[k, a] == 0:
            continue
        for m in range(n_m):
            _fill_curves(
                k,
                a,
                m,
                n_pos[k, a],
                nd[m],
                tp[a, m],
                tp_pr[a, m],
                tp_row[a, m],
                first_tp[a, m],
                first_row[m],
                dt_score,
                rec_thrs,
                rec_sorted,
                precision,
                recall,
                scores,
            )


@kernel()
def _fill_curves(
    k,
    a,
    m,
    n_pos,
    nd,
    tp,
    tp_pr,
    tp_row,
    first_tp,
    first_row,
    dt_score,
    rec_thrs,
    rec_sorted,
    precision,
    recall,
    scores,
):
    """Write precision / recall / scores of one (k, a, m) from its true positives."""
    n_t = tp_pr.shape[0]
    n_r = rec_thrs.shape[0]
    for t in range(n_t):
        n_tp = tp[t]
        recall[t, k, a, m] = float(n_tp) / n_pos if nd > 0 else 0.0
        for i in range(n_tp - 1, 0, -1):  # maximum to the right
            if tp_pr[t, i] > tp_pr[t, i - 1]:
                tp_pr[t, i - 1] = tp_pr[t, i]
        for ri in range(n_r):
            precision[t, ri, k, a, m] = 0.0
            scores[t, ri, k, a, m] = 0.0
        if nd == 0:
            continue
        rc0 = (1.0 if first_tp[t] else 0.0) / n_pos  # recall at the first detection
        i = 0
        for ri in range(n_r):
            x = rec_thrs[ri]
            if rc0 >= x:  # the first detection already reaches it
                precision[t, ri, k, a, m] = tp_pr[t, 0] if n_tp > 0 else 0.0
                scores[t, ri, k, a, m] = dt_score[first_row]
                continue
            # first true positive i (0-based) with recall (i + 1) / n_pos >= x
            if rec_sorted:
                while i < n_tp and float(i + 1) / n_pos < x:
                    i += 1
            else:
                lo_i = 0
                hi_i = n_tp
                while lo_i < hi_i:
                    mid = (lo_i + hi_i) >> 1
                    if float(mid + 1) / n_pos < x:
                        lo_i = mid + 1
                    else:
                        hi_i = mid
                i = lo_i
            if i >= n_tp:
                break
            precision[t, ri, k, a, m] = tp_pr[t, i]
            scores[t, ri, k, a, m] = dt_score[tp_row[t, i]]


@kernel(parallel=True)
def accumulate(
    n_img,
    gt_off,
    gt_area,
    gt_ignore,
    area_rng,
    dt_off,
    dt_score,
    status,
    kind,
    k_list,
    a_list,
    i_list,
    max_dets,
    rec_thrs,
    rec_sorted,
    eps,
    precision,
    recall,
    scores,
):
    """pycocotools' accumulate over the matched cells (``status`` and ``kind`` from :func:`match_cells`).

    ``k_list``/``a_list``/``i_list`` index the evaluated categories, area ranges
    (rows of ``area_rng``) and images of the matching layout (cell (i, k) is
    ``k * n_img + i``; ground truths ``gt_off``/``gt_area``/``gt_ignore``);
    ``max_dets`` holds the detection limits, ``rec_sorted`` says whether
    ``rec_thrs`` ascends and ``eps`` is ``np.spacing(1)``. Fills ``precision`` /
    ``scores`` (T, R, K, A, M) and ``recall`` (T, K, A, M), which arrive set to
    -1; combinations without non-ignored ground truth stay -1.
    """
    n_k = k_list.shape[0]
    n_i = i_list.shape[0]
    cat_off = np.zeros(n_k + 1, np.int64)
    for k in range(n_k):
        total = 0
        for ii in range(n_i):
            c = k_list[k] * n_img + i_list[ii]
            total += dt_off[c + 1] - dt_off[c]
        cat_off[k + 1] = cat_off[k] + total
    n_rows = cat_off[n_k]
    cat_rows = np.empty(n_rows, np.int64)
    cat_rank = np.empty(n_rows, np.int64)
    n_pos = np.empty((n_k, a_list.shape[0]), np.int64)
    for k in numba.prange(n_k):
        _gather_category(k, n_img, dt_off, dt_score, k_list, i_list, cat_off, cat_rows, cat_rank)
        _count_positives(k, n_img, gt_off, gt_area, gt_ignore, area_rng, a_list, k_list, i_list, n_pos)
        _accumulate_category(
            k,
            dt_score,
            n_pos,
            a_list,
            max_dets,
            rec_thrs,
            rec_sorted,
            eps,
            cat_off,
            cat_rows,
            cat_rank,
            status,
            kind,
            precision,
            recall,
            scores,
        )


# ------------------------------------------------------------------ JSON scanning
# A strict-enough reader for COCO files: it extracts numeric fields of arrays of
# objects into columns without building Python objects. Whenever it meets
# anything it does not handle (escaped keys, non-numeric values in the fields it
# reads, numbers it cannot convert exactly) it reports failure (-1) and the
# caller parses the file with a full JSON parser instead.


@kernel()
def skip_whitespace(buf, i):
    """Index of the first non-whitespace byte at or after ``i``."""
    n = buf.shape[0]
    while i < n and (buf[i] == 32 or buf[i] == 10 or buf[i] == 13 or buf[i] == 9):
        i += 1
    return i


@kernel()
def _skip_string(buf, i):
    """``buf[i]`` is a quote: index after the closing quote, or -1."""
    n = buf.shape[0]
    i += 1
    while i < n:
        c = buf[i]
        if c == 92:  # backslash escapes the next byte
            i += 2
            continue
        if c == 34:
            return i + 1
        if c < 32:
            return -1
        i += 1
    return -1


@kernel()
def _skip_value(buf, i):
    """Index after the JSON value starting at ``i`` (brackets and strings checked), or -1."""
    n = buf.shape[0]
    i = skip_whitespace(buf, i)
    if i >= n:
        return -1
    c = buf[i]
    if c == 34:
        return _skip_string(buf, i)
    if c == 123 or c == 91:
        braces = 0  # bit d: the bracket opened at depth d is '{' (no allocation per value)
        depth = 0
        while i < n:
            c = buf[i]
            cls = _VALUE_BYTES[c]  # one table look-up per byte (a module constant, see _EXACT_POW10)
            if cls == 1:
                i += 1
            elif cls == 2:
                i = _skip_string(buf, i)
                if i < 0:
                    return -1
            elif cls == 3:
                if depth == 62:  # deeper values go to the full parser
                    return -1
                if c == 123:
                    braces |= 1 << depth
                else:
                    braces &= ~(1 << depth)
                depth += 1
                i += 1
            elif cls == 4:
                if depth == 0 or ((braces >> (depth - 1)) & 1) != (1 if c == 125 else 0):
                    return -1
                depth -= 1
                if depth == 0:
                    return i + 1
                i += 1
            else:
                return -1
        return -1
    start = i
    while i < n:
        c = buf[i]
        if c == 44 or c == 125 or c == 93 or c == 32 or c == 10 or c == 13 or c == 9:
            break
        if not ((48 <= c <= 57) or c == 45 or c == 43 or c == 46 or c == 101 or c == 69 or (97 <= c <= 122)):
            return -1
        i += 1
    return i if i > start else -1


@kernel()
def _parse_number(buf, i):
    """JSON number at ``i`` -> (value, end, exact); end -1 if not a number.

    ``exact`` is True when the value was converted with one correctly rounded
    operation (mantissa <= 2**53, |decimal exponent| <= 22: Clinger's fast
    path); otherwise the caller converts the text itself.
    """
    n = buf.shape[0]
    neg = False
    if i < n and buf[i] == 45:
        neg = True
        i += 1
    if i >= n or not (48 <= buf[i] <= 57):
        return 0.0, -1, False
    m = 0
    exp10 = 0
    big = False
    integer = True  # "-0" is the integer 0 for a JSON parser, not -0.0
    if buf[i] == 48:
        i += 1
    else:
        while i < n and 48 <= buf[i] <= 57:
            if m < 100000000000000000:
                m = m * 10 + (int(buf[i]) - 48)
            else:
                big = True
            i += 1
    if i < n and buf[i] == 46:
        integer = False
        i += 1
        if i >= n or not (48 <= buf[i] <= 57):
            return 0.0, -1, False
        while i < n and 48 <= buf[i] <= 57:
            if m < 100000000000000000:
                m = m * 10 + (int(buf[i]) - 48)
                exp10 -= 1
            else:
                big = True
            i += 1
    if i < n and (buf[i] == 101 or buf[i] == 69):
        integer = False
        i += 1
        eneg = False
        if i < n and (buf[i] == 45 or buf[i] == 43):
            eneg = buf[i] == 45
            i += 1
        if i >= n or not (48 <= buf[i] <= 57):
            return 0.0, -1, False
        e = 0
        while i < n and 48 <= buf[i] <= 57:
            if e < 100000:
                e = e * 10 + (int(buf[i]) - 48)
            i += 1
        exp10 += -e if eneg else e
    if big or m > 9007199254740992 or exp10 > 22 or exp10 < -22:
        return 0.0, i, False
    v = float(m)
    if exp10 > 0:
        v = v * _EXACT_POW10[exp10]
    elif exp10 < 0:
        v = v / _EXACT_POW10[-exp10]
    if neg and not (integer and m == 0):
        v = -v
    return v, i, True


@kernel()
def _match_key(buf, s, e, keys, key_len):
    """Index of the key ``buf[s:e]`` in ``keys`` (rows padded with zeros), or -1."""
    for k in range(keys.shape[0]):
        if key_len[k] != e - s:
            continue
        same = True
        for j in range(e - s):
            if buf[s + j] != keys[k, j]:
                same = False
                break
        if same:
            return k
    return -1


@kernel()
def _scan_objects(
    buf, i, inside, stop, keys, key_len, key_slot, key_width, vals, seen, slow, row0, row1, slow0, slow1
):
    """:func:`scan_object_array` into rows ``row0:row1`` of ``vals``/``seen``, ``slow0:slow1`` of ``slow``.

    ``inside``: ``buf[i]`` is an entry of the array rather than its ``[``.
    ``stop`` >= 0: end when the next entry starts exactly there (an entry that
    starts later, or the end of the array first, is a failure). Returns
    (entries, slow count, end, stopped at ``stop``); entries -1 on failure.
    """
    n = buf.shape[0]
    n_slots = vals.shape[1]
    n_keys = keys.shape[0]
    i = skip_whitespace(buf, i)
    count = 0
    n_slow = 0
    if not inside:
        if i >= n or buf[i] != 91:
            return -1, 0, i, False
        i = skip_whitespace(buf, i + 1)
        if i < n and buf[i] == 93:
            return (0 if stop < 0 else -1), 0, i + 1, False
    while True:
        if stop >= 0 and i >= stop:
            if i == stop:
                return count, n_slow, i, True
            return -1, 0, i, False
        if i >= n or buf[i] != 123 or row0 + count >= row1:
            return -1, 0, i, False
        mask = 0
        i = skip_whitespace(buf, i + 1)
        if i < n and buf[i] == 125:
            i += 1
        else:
            while True:
                if i >= n or buf[i] != 34:
                    return -1, 0, i, False
                ks = i + 1
                # the wanted keys compared in place: one that matches and is followed by the
                # closing quote is that key (no second pass over its bytes)
                k = -1
                ke = -1
                for kk in range(n_keys):
                    length = key_len[kk]
                    if ks + length < n and buf[ks + length] == 34:
                        same = True
                        for j in range(length):
                            if buf[ks + j] != keys[kk, j]:
                                same = False
                                break
                        if same:
                            k = kk
                            ke = ks + length + 1
                            break
                if k < 0:
                    ke = _skip_string(buf, i)
                    if ke < 0:
                        return -1, 0, i, False
                    for j in range(ks, ke - 1):
                        if buf[j] == 92:  # an escaped key might spell a wanted one
                            return -1, 0, i, False
                i = skip_whitespace(buf, ke)
                if i >= n or buf[i] != 58:
                    return -1, 0, i, False
                i = skip_whitespace(buf, i + 1)
                if k < 0:
                    i = _skip_value(buf, i)
                    if i < 0:
                        return -1, 0, 0, False
                else:
                    width = key_width[k]
                    slot = key_slot[k]
                    if width > 1:
                        if i >= n or buf[i] != 91:
                            return -1, 0, i, False
                        i = skip_whitespace(buf, i + 1)
                    for w in range(width):
                        # one JSON number, parsed inline (a call per number costs reference
                        # counting of ``buf``); see _parse_number for the rules
                        start = i
                        neg = False
                        if i < n and buf[i] == 45:
                            neg = True
                            i += 1
                        if i >= n or not (48 <= buf[i] <= 57):
                            return -1, 0, i, False
                        m = 0
                        exp10 = 0
                        big = False
                        integer = True
                        if buf[i] == 48:
                            i += 1
                        else:
                            while i < n and 48 <= buf[i] <= 57:
                                if m < 100000000000000000:
                                    m = m * 10 + (int(buf[i]) - 48)
                                else:
                                    big = True
                                i += 1
                        if i < n and buf[i] == 46:
                            integer = False
                            i += 1
                            if i >= n or not (48 <= buf[i] <= 57):
                                return -1, 0, i, False
                            while i < n and 48 <= buf[i] <= 57:
                                if m < 100000000000000000:
                                    m = m * 10 + (int(buf[i]) - 48)
                                    exp10 -= 1
                                else:
                                    big = True
                                i += 1
                        if i < n and (buf[i] == 101 or buf[i] == 69):
                            v, end, exact = _parse_number(buf, start)  # exponents: the general parser
                            if end < 0:
                                return -1, 0, i, False
                            i = end
                        elif big or m > 9007199254740992 or exp10 < -22:
                            v = 0.0
                            exact = False
                        else:
                            v = float(m)
                            if exp10 < 0:
                                v = v / _EXACT_POW10[-exp10]
                            if neg and not (integer and m == 0):
                                v = -v
                            exact = True
                        vals[row0 + count, slot + w] = v
                        if not exact:
                            if slow0 + n_slow >= slow1:  # (repeated keys can outnumber the slots)
                                return -1, 0, i, False
                            slow[slow0 + n_slow, 0] = (row0 + count) * n_slots + slot + w
                            slow[slow0 + n_slow, 1] = start
                            slow[slow0 + n_slow, 2] = i
                            n_slow += 1
                        if width > 1:
                            i = skip_whitespace(buf, i)
                            if w < width - 1:
                                if i >= n or buf[i] != 44:
                                    return -1, 0, i, False
                                i = skip_whitespace(buf, i + 1)
                    if width > 1:
                        if i >= n or buf[i] != 93:
                            return -1, 0, i, False
                        i += 1
                    mask |= 1 << k
                i = skip_whitespace(buf, i)
                if i < n and buf[i] == 44:
                    i = skip_whitespace(buf, i + 1)
                    continue
                if i < n and buf[i] == 125:
                    i += 1
                    break
                return -1, 0, i, False
        seen[row0 + count] = mask
        count += 1
        i = skip_whitespace(buf, i)
        if i < n and buf[i] == 44:
            i = skip_whitespace(buf, i + 1)
            continue
        if i < n and buf[i] == 93:
            return (count if stop < 0 else -1), n_slow, i + 1, False
        return -1, 0, i, False


@kernel()
def scan_object_array(buf, i, keys, key_len, key_slot, key_width, vals, seen, slow):
    """Read the JSON array of objects at ``buf[i]`` into columns.

    Key ``k`` fills ``vals[:, key_slot[k]:key_slot[k] + key_width[k]]``: width 1
    takes a number, width w > 1 an array of exactly w numbers. ``seen[e]`` gets
    bit k set when entry e has key k. ``slow`` (S, 3) receives (flat index into
    ``vals``, text start, text end) of numbers that need an exact conversion.
    Returns (entries, slow count, index after the array); entries is -1 when
    the input is not in the expected form (or exceeds the capacity of ``vals``).
    """
    count, n_slow, end, _ = _scan_objects(
        buf, i, False, -1, keys, key_len, key_slot, key_width, vals, seen, slow,
        0, vals.shape[0], 0, slow.shape[0],
    )  # fmt: skip
    return count, n_slow, end


@kernel(parallel=True)
def scan_object_array_split(buf, i, split, keys, key_len, key_slot, key_width, vals, seen, slow, row_b, out):
    """:func:`scan_object_array` in two halves at once, the second from the entry at ``split``.

    The first half reads rows ``:row_b`` and must arrive at ``split`` exactly as
    the start of an entry, which proves that ``split`` is one (it might have been
    inside a string); the second reads rows ``row_b:``. ``out[h]`` gets (entries,
    slow count, end) of half h (entries -1: failure; slow rows of half 1 start at
    ``row_b * vals.shape[1]``).
    """
    n_slots = vals.shape[1]
    for h in numba.prange(2):
        if h == 0:
            count, n_slow, end, stopped = _scan_objects(
                buf, i, False, split, keys, key_len, key_slot, key_width, vals, seen, slow,
                0, row_b, 0, row_b * n_slots,
            )  # fmt: skip
            if not stopped:
                count = -1
        else:
            count, n_slow, end, stopped = _scan_objects(
                buf, split, True, -1, keys, key_len, key_slot, key_width, vals, seen, slow,
                row_b, vals.shape[0], row_b * n_slots, slow.shape[0],
            )  # fmt: skip
        out[h, 0] = count
        out[h, 1] = n_slow
        out[h, 2] = end


@kernel()
def _whole(v):
    """Whether ``v`` is a whole number below 2**53 in magnitude (exact as an int64; NaN/inf not)."""
    return abs(v) < 9007199254740992.0 and np.floor(v) == v


@kernel()
def results_columns(vals, seen, count, full):
    """Checked columns of scanned results (image_id, category_id, x, y, w, h, score per row).

    Returns ``(ok, image_id, category_id, bbox (N, 4), area, score)`` with
    ``area = w * h``; ``ok`` is False when an entry lacks a key (``seen != full``)
    or holds a value that the full checks must report (non-integer id, a box
    that is not 4 finite numbers with w, h >= 0, a NaN score).
    """
    img = np.empty(count, np.int64)
    cat = np.empty(count, np.int64)
    bbox = np.empty((count, 4), np.float64)
    area = np.empty(count, np.float64)
    score = np.empty(count, np.float64)
    for e in range(count):
        if seen[e] != full or not (_whole(vals[e, 0]) and _whole(vals[e, 1])):
            return False, img, cat, bbox, area, score
        img[e] = np.int64(vals[e, 0])
        cat[e] = np.int64(vals[e, 1])
        for j in range(4):
            if not np.isfinite(vals[e, 2 + j]):
                return False, img, cat, bbox, area, score
            bbox[e, j] = vals[e, 2 + j]
        if bbox[e, 2] < 0 or bbox[e, 3] < 0 or np.isnan(vals[e, 6]):
            return False, img, cat, bbox, area, score
        area[e] = bbox[e, 2] * bbox[e, 3]
        score[e] = vals[e, 6]
    return True, img, cat, bbox, area, score


@kernel()
def ground_truth_columns(vals, seen, count, full):
    """Checked columns of scanned ground truth (id, image_id, category_id, x, y, w, h, area, iscrowd).

    Returns ``(ok, increasing, ids, image_id, category_id, bbox (N, 4), area,
    crowd, ignore)``: ``crowd`` is ``trunc(iscrowd) != 0`` and ``ignore`` is
    ``iscrowd != 0`` (pycocotools' readings); ``increasing`` says the ids ascend
    strictly (so they are unique). ``ok`` is False when an entry lacks a key or
    holds a value that the full checks must report.
    """
    ids = np.empty(count, np.int64)
    img = np.empty(count, np.int64)
    cat = np.empty(count, np.int64)
    bbox = np.empty((count, 4), np.float64)
    area = np.empty(count, np.float64)
    crowd = np.empty(count, np.bool_)
    ignore = np.empty(count, np.bool_)
    increasing = True
    for e in range(count):
        ok = seen[e] == full and _whole(vals[e, 0]) and _whole(vals[e, 1]) and _whole(vals[e, 2])
        for j in range(4):
            ok = ok and np.isfinite(vals[e, 3 + j])
        ok = ok and vals[e, 5] >= 0 and vals[e, 6] >= 0 and not np.isnan(vals[e, 7])
        t = np.trunc(vals[e, 8])
        if not (ok and t >= 0 and t <= 255):  # NaN fails the comparisons
            return False, increasing, ids, img, cat, bbox, area, crowd, ignore
        ids[e] = np.int64(vals[e, 0])
        img[e] = np.int64(vals[e, 1])
        cat[e] = np.int64(vals[e, 2])
        for j in range(4):
            bbox[e, j] = vals[e, 3 + j]
        area[e] = vals[e, 7]
        crowd[e] = t != 0
        ignore[e] = vals[e, 8] != 0
        if e > 0 and ids[e] <= ids[e - 1]:
            increasing = False
    return True, increasing, ids, img, cat, bbox, area, crowd, ignore


@kernel()
def next_top_key(buf, i, after_value, keys, key_len):
    """Walk the top-level JSON object of ``buf`` to the value of the next key in ``keys``.

    Starts at ``i``: the beginning of ``buf`` (``after_value`` False) or just
    after the value of a key returned before (True); other values are skipped
    (brackets and strings checked). Returns ``(k, start)``: the key's index and
    the start of its value; k = -1 when the object ends (followed only by
    whitespace), -2 when ``buf`` is not such an object or a key has escapes.
    The caller reads each returned value itself and resumes after it, so the
    large arrays are read once (last occurrence wins, as in JSON parsers).
    """
    n = buf.shape[0]
    if after_value:
        i = skip_whitespace(buf, i)
        if i < n and buf[i] == 125:
            return (-1 if skip_whitespace(buf, i + 1) == n else -2), i
        if i >= n or buf[i] != 44:
            return -2, i
        i = skip_whitespace(buf, i + 1)
    else:
        i = skip_whitespace(buf, i)
        if i >= n or buf[i] != 123:
            return -2, i
        i = skip_whitespace(buf, i + 1)
        if i < n and buf[i] == 125:
            return (-1 if skip_whitespace(buf, i + 1) == n else -2), i
    while True:
        if i >= n or buf[i] != 34:
            return -2, i
        ks = i + 1
        ke = _skip_string(buf, i)
        if ke < 0:
            return -2, i
        i = skip_whitespace(buf, ke)
        if i >= n or buf[i] != 58:
            return -2, i
        i = skip_whitespace(buf, i + 1)
        k = _match_key(buf, ks, ke - 1, keys, key_len)
        if k >= 0:
            return k, i
        for j in range(ks, ke - 1):
            if buf[j] == 92:
                return -2, i
        i = _skip_value(buf, i)
        if i < 0:
            return -2, 0
        i = skip_whitespace(buf, i)
        if i < n and buf[i] == 44:
            i = skip_whitespace(buf, i + 1)
            continue
        if i < n and buf[i] == 125:
            return (-1 if skip_whitespace(buf, i + 1) == n else -2), i
        return -2, i
