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
        for a in range(n_area):
            lo = area_rng[a, 0]
            hi = area_rng[a, 1]
            for d in range(d0, d0 + n_d):
                code = IGNORED if (dt_area[d] < lo or dt_area[d] > hi) else FP
                for t in range(n_thr):
                    status[d, a, t] = code
                    if want_match:
                        match[d, a, t] = -1
        return
    ious = np.empty((n_d, n_g), np.float64)
    bbox_iou_cell(dt_box, d0, d0 + n_d, gt_box, g0, g0 + n_g, gt_crowd, ious)
    best_iou = np.empty(n_d, np.float64)  # a detection below this at threshold t matches nothing
    for d in range(n_d):
        mx = -np.inf
        for g in range(n_g):
            v = ious[d, g]
            if v > mx:
                mx = v
            elif v != v:  # NaN compares like a match in the greedy loop: never skip it
                mx = np.inf
        best_iou[d] = mx
    perm = np.empty(n_g, np.int64)
    ig = np.empty(n_g, np.bool_)  # by position in perm
    crowd = np.empty(n_g, np.bool_)
    taken = np.empty(n_g, np.bool_)
    rows = np.empty((n_d, n_g), np.float64)  # ious with columns in perm order
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
            for d in range(n_d):
                rows[d, j] = ious[d, perm[j]]
        for t in range(n_thr):
            thr = min(iou_thrs[t], 1 - 1e-10)
            taken[:] = False
            for d in range(n_d):
                m = -1
                if best_iou[d] >= thr:
                    best = thr
                    for j in range(n_g):
                        if taken[j] and not crowd[j]:
                            continue
                        if m > -1 and not ig[m] and ig[j]:
                            break
                        if rows[d, j] < best:
                            continue
                        best = rows[d, j]
                        m = j
                row = d0 + d
                out_of_range = dt_area[row] < lo or dt_area[row] > hi
                if m == -1:
                    code = IGNORED if out_of_range else FP
                else:
                    taken[m] = dt_id_positive[row]
                    if ig[m]:
                        code = IGNORED
                    elif gt_id_nonzero[g0 + perm[m]]:
                        code = TP
                    else:
                        code = IGNORED if out_of_range else FP
                status[row, a, t] = code
                if want_match:
                    match[row, a, t] = -1 if m == -1 else perm[m]


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
    match,
):
    """Greedy COCO matching of every cell, for every area range and IoU threshold.

    Boxes are xywh (C + 1 offsets, rows grouped by cell; detections sorted by
    descending score and truncated). Writes ``status`` (Nd, A, T) int8 (0 FP,
    1 TP, 2 ignored) and, when ``match.shape[0] > 0``, ``match`` (Nd, A, T)
    int64, the matched ground-truth row within its cell (-1: none).
    """
    n_cells = gt_off.shape[0] - 1
    for c in numba.prange(n_cells):
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
def _count_positives(k, n_cat_cells, gt_off, gt_area, gt_ignore, area_rng, a_list, k_list, i_list, n_pos):
    """Non-ignored ground truths of category ``k_list[k]`` per evaluated area range."""
    for a in range(a_list.shape[0]):
        lo = area_rng[a_list[a], 0]
        hi = area_rng[a_list[a], 1]
        cnt = 0
        for ii in range(i_list.shape[0]):
            c = i_list[ii] * n_cat_cells + k_list[k]
            for g in range(gt_off[c], gt_off[c + 1]):
                if not (gt_ignore[g] or gt_area[g] < lo or gt_area[g] > hi):
                    cnt += 1
        n_pos[k, a] = cnt


@kernel()
def _gather_category(k, n_cat_cells, dt_off, dt_score, status, k_list, i_list, cat_off, cat_rows, cat_rank, cat_status):
    """Rows of category ``k_list[k]`` image by image, then stably by descending score.

    Also writes each row's rank inside its cell and copies its status block, so
    that the per-combination passes read memory in order.
    """
    base = cat_off[k]
    j = base
    for ii in range(i_list.shape[0]):
        c = i_list[ii] * n_cat_cells + k_list[k]
        for r in range(dt_off[c], dt_off[c + 1]):
            cat_rows[j] = r
            cat_rank[j] = r - dt_off[c]
            j += 1
    n = j - base
    if n > 1:
        rows = cat_rows[base:j].copy()
        ranks = cat_rank[base:j].copy()
        keys = np.empty(n, np.float64)
        perm = np.empty(n, np.int64)
        for q in range(n):
            keys[q] = dt_score[rows[q]]
            perm[q] = q
        _stable_sort_desc(perm, 0, n, keys, np.empty(n, np.int64))
        for q in range(n):
            cat_rows[base + q] = rows[perm[q]]
            cat_rank[base + q] = ranks[perm[q]]
    for q in range(base, j):
        r = cat_rows[q]
        for a in range(status.shape[1]):
            for t in range(status.shape[2]):
                cat_status[q, a, t] = status[r, a, t]


@kernel()
def _accumulate_combo(
    combo, dt_score, n_pos_table, a_list, max_dets, rec_thrs, rec_sorted,
    eps, cat_off, cat_rows, cat_rank, cat_status, precision, recall, scores,
):
    """Precision/recall of one (category, area range, maxDets) combination.

    pycocotools computes precision ``tp / (fp + tp + eps)`` at every detection,
    takes the running maximum from the right, and reads it where recall first
    reaches each recall threshold. Recall only grows at true positives and
    precision only grows there too, so the same numbers come from the true
    positives alone: the position read for a threshold is the first detection
    (position 0) or a true positive, and the maximum to its right is the
    maximum over the true positives from there on. The divisions are the same
    float operations on the same counts, so the result is bit-identical.
    """
    n_a = a_list.shape[0]
    n_m = max_dets.shape[0]
    n_t = cat_status.shape[2]
    n_r = rec_thrs.shape[0]
    k = combo // (n_a * n_m)
    a = (combo // n_m) % n_a
    m = combo % n_m
    a0 = a_list[a]
    n_pos = n_pos_table[k, a]
    if n_pos == 0:
        return
    limit = max_dets[m]
    base = cat_off[k]
    end = cat_off[k + 1]
    n_all = end - base
    cap = min(n_all, n_pos) + 1
    tp_pr = np.empty((n_t, cap), np.float64)  # precision at the i-th true positive
    tp_row = np.empty((n_t, cap), np.int64)  # its detection row
    tp = np.zeros(n_t, np.int64)
    fp = np.zeros(n_t, np.int64)
    first_tp = np.zeros(n_t, np.bool_)  # is the first detection a true positive?
    first_row = -1
    nd = 0
    for q in range(base, end):
        if cat_rank[q] >= limit:
            continue
        r = cat_rows[q]
        if nd == 0:
            first_row = r
        for t in range(n_t):
            code = cat_status[q, a0, t]
            if code == TP:
                i = tp[t]
                tp[t] = i + 1
                tpf = float(i + 1)
                tp_pr[t, i] = tpf / (float(fp[t]) + tpf + eps)
                tp_row[t, i] = r
                if nd == 0:
                    first_tp[t] = True
            elif code == FP:
                fp[t] += 1
        nd += 1
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
    n_cat_cells, gt_off, gt_area, gt_ignore, area_rng, dt_off, dt_score, status, k_list, a_list, i_list,
    max_dets, rec_thrs, rec_sorted, eps, precision, recall, scores,
):
    """pycocotools' accumulate over the matched cells.

    ``k_list``/``a_list``/``i_list`` index the evaluated categories, area ranges
    (rows of ``area_rng``) and images of the matching layout (cell (i, k) is
    ``i * n_cat_cells + k``; ground truths ``gt_off``/``gt_area``/``gt_ignore``);
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
            c = i_list[ii] * n_cat_cells + k_list[k]
            total += dt_off[c + 1] - dt_off[c]
        cat_off[k + 1] = cat_off[k] + total
    n_rows = cat_off[n_k]
    cat_rows = np.empty(n_rows, np.int64)
    cat_rank = np.empty(n_rows, np.int64)
    cat_status = np.empty((n_rows, status.shape[1], status.shape[2]), np.int8)
    n_pos = np.empty((n_k, a_list.shape[0]), np.int64)
    for k in numba.prange(n_k):
        _gather_category(
            k, n_cat_cells, dt_off, dt_score, status, k_list, i_list, cat_off, cat_rows, cat_rank, cat_status
        )
        _count_positives(k, n_cat_cells, gt_off, gt_area, gt_ignore, area_rng, a_list, k_list, i_list, n_pos)
    n_combo = n_k * a_list.shape[0] * max_dets.shape[0]
    for combo in numba.prange(n_combo):
        _accumulate_combo(
            combo, dt_score, n_pos, a_list, max_dets, rec_thrs, rec_sorted,
            eps, cat_off, cat_rows, cat_rank, cat_status, precision, recall, scores,
        )


# ------------------------------------------------------------------ JSON scanning
# A strict-enough reader for COCO files: it extracts numeric fields of arrays of
# objects into columns without building Python objects. Whenever it meets
# anything it does not handle (escaped keys, non-numeric values in the fields it
# reads, numbers it cannot convert exactly) it reports failure (-1) and the
# caller parses the file with a full JSON parser instead.


@kernel()
def _skip_ws(buf, i):
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
    i = _skip_ws(buf, i)
    if i >= n:
        return -1
    c = buf[i]
    if c == 34:
        return _skip_string(buf, i)
    if c == 123 or c == 91:
        stack = np.empty(256, np.uint8)
        depth = 0
        while i < n:
            c = buf[i]
            if c == 34:
                i = _skip_string(buf, i)
                if i < 0:
                    return -1
                continue
            if c == 123 or c == 91:
                if depth == 256:
                    return -1
                stack[depth] = c
                depth += 1
            elif c == 125 or c == 93:
                if depth == 0 or stack[depth - 1] != c - 2:  # '{' + 2 == '}', '[' + 2 == ']'
                    return -1
                depth -= 1
                if depth == 0:
                    return i + 1
            elif not (
                c == 44 or c == 58 or c == 32 or c == 10 or c == 13 or c == 9 or c == 45 or c == 43 or c == 46
                or (48 <= c <= 57) or c == 101 or c == 69 or (97 <= c <= 122)
            ):
                return -1
            i += 1
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
def _parse_number(buf, i, pow10):
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
                m = m * 10 + (buf[i] - 48)
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
                m = m * 10 + (buf[i] - 48)
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
                e = e * 10 + (buf[i] - 48)
            i += 1
        exp10 += -e if eneg else e
    if big or m > 9007199254740992 or exp10 > 22 or exp10 < -22:
        return 0.0, i, False
    v = float(m)
    if exp10 > 0:
        v = v * pow10[exp10]
    elif exp10 < 0:
        v = v / pow10[-exp10]
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
def scan_object_array(buf, i, keys, key_len, key_slot, key_width, pow10, vals, seen, slow):
    """Read the JSON array of objects at ``buf[i]`` into columns.

    Key ``k`` fills ``vals[:, key_slot[k]:key_slot[k] + key_width[k]]``: width 1
    takes a number, width w > 1 an array of exactly w numbers. ``seen[e]`` gets
    bit k set when entry e has key k. ``slow`` (S, 3) receives (flat index into
    ``vals``, text start, text end) of numbers that need an exact conversion.
    Returns (entries, slow count, index after the array); entries is -1 when
    the input is not in the expected form (or exceeds the capacity of ``vals``).
    """
    n = buf.shape[0]
    cap = vals.shape[0]
    n_slots = vals.shape[1]
    i = _skip_ws(buf, i)
    if i >= n or buf[i] != 91:
        return -1, 0, i
    i = _skip_ws(buf, i + 1)
    count = 0
    n_slow = 0
    if i < n and buf[i] == 93:
        return 0, 0, i + 1
    while True:
        if i >= n or buf[i] != 123 or count >= cap:
            return -1, 0, i
        mask = 0
        i = _skip_ws(buf, i + 1)
        if i < n and buf[i] == 125:
            i += 1
        else:
            while True:
                if i >= n or buf[i] != 34:
                    return -1, 0, i
                ks = i + 1
                ke = _skip_string(buf, i)
                if ke < 0:
                    return -1, 0, i
                i = _skip_ws(buf, ke)
                if i >= n or buf[i] != 58:
                    return -1, 0, i
                i = _skip_ws(buf, i + 1)
                k = _match_key(buf, ks, ke - 1, keys, key_len)
                if k < 0:
                    for j in range(ks, ke - 1):
                        if buf[j] == 92:  # an escaped key might spell a wanted one
                            return -1, 0, i
                    i = _skip_value(buf, i)
                    if i < 0:
                        return -1, 0, 0
                else:
                    width = key_width[k]
                    slot = key_slot[k]
                    if width == 1:
                        v, end, exact = _parse_number(buf, i, pow10)
                        if end < 0:
                            return -1, 0, i
                        vals[count, slot] = v
                        if not exact:
                            slow[n_slow, 0] = count * n_slots + slot
                            slow[n_slow, 1] = i
                            slow[n_slow, 2] = end
                            n_slow += 1
                        i = end
                    else:
                        if buf[i] != 91:
                            return -1, 0, i
                        i = _skip_ws(buf, i + 1)
                        for w in range(width):
                            v, end, exact = _parse_number(buf, i, pow10)
                            if end < 0:
                                return -1, 0, i
                            vals[count, slot + w] = v
                            if not exact:
                                slow[n_slow, 0] = count * n_slots + slot + w
                                slow[n_slow, 1] = i
                                slow[n_slow, 2] = end
                                n_slow += 1
                            i = _skip_ws(buf, end)
                            if w < width - 1:
                                if i >= n or buf[i] != 44:
                                    return -1, 0, i
                                i = _skip_ws(buf, i + 1)
                        if i >= n or buf[i] != 93:
                            return -1, 0, i
                        i += 1
                    mask |= 1 << k
                i = _skip_ws(buf, i)
                if i < n and buf[i] == 44:
                    i = _skip_ws(buf, i + 1)
                    continue
                if i < n and buf[i] == 125:
                    i += 1
                    break
                return -1, 0, i
        seen[count] = mask
        count += 1
        i = _skip_ws(buf, i)
        if i < n and buf[i] == 44:
            i = _skip_ws(buf, i + 1)
            continue
        if i < n and buf[i] == 93:
            return count, n_slow, i + 1
        return -1, 0, i


@kernel()
def scan_top_object(buf, keys, key_len, where):
    """Start of the values of ``keys`` in the top-level JSON object (-1: absent).

    Writes ``where[k]`` (the last occurrence wins, as in JSON parsers); returns
    True when ``buf`` is one object whose values are well formed.
    """
    n = buf.shape[0]
    for k in range(where.shape[0]):
        where[k] = -1
    i = _skip_ws(buf, 0)
    if i >= n or buf[i] != 123:
        return False
    i = _skip_ws(buf, i + 1)
    if i < n and buf[i] == 125:
        return _skip_ws(buf, i + 1) == n
    while True:
        if i >= n or buf[i] != 34:
            return False
        ks = i + 1
        ke = _skip_string(buf, i)
        if ke < 0:
            return False
        i = _skip_ws(buf, ke)
        if i >= n or buf[i] != 58:
            return False
        i = _skip_ws(buf, i + 1)
        k = _match_key(buf, ks, ke - 1, keys, key_len)
        if k >= 0:
            where[k] = i
        else:
            for j in range(ks, ke - 1):
                if buf[j] == 92:
                    return False
        i = _skip_value(buf, i)
        if i < 0:
            return False
        i = _skip_ws(buf, i)
        if i < n and buf[i] == 44:
            i = _skip_ws(buf, i + 1)
            continue
        if i < n and buf[i] == 125:
            return _skip_ws(buf, i + 1) == n
        return False
