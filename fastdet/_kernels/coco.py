"""Numba kernels for COCO bbox evaluation (pycocotools-exact arithmetic).

Layout shared by the kernels: annotations are grouped into *cells*, one per
(category, image) pair, category-major (cell ``k * I + i``; one cell per image
when categories are not used). A cell ``c`` owns the rows ``off[c]:off[c + 1]``
of the grouped arrays (CSR offsets). Detections inside a cell are sorted by
descending score (stable) and already truncated to the largest ``maxDets``.

Detection status codes written by :func:`match_cells`: 0 false positive,
1 true positive, 2 ignored; its per (detection, area range) summary ``kind``
is FP or IGNORED when that holds at every IoU threshold, else MIXED.

"""

from __future__ import annotations

import numpy as np

from fastdet._kernels import kernel

FP = 0
TP = 1
IGNORED = 2
MIXED = 3  # ``kind``: the status differs between thresholds (or is TP somewhere)
RADIX_MIN = 512  # categories of this many detections or more are sorted by radix


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
    bits = score.view(np.uint64)
    for i in range(n):
        b = bits[i]
        if b == sign:  # -0.0 ties with 0.0
            b = np.uint64(0)
        asc = ~b if (b & sign) != np.uint64(0) else (b | sign)  # ascending in the float order
        key[i] = ~asc  # descending
    perm = np.empty(n, np.int64)
    for i in range(n):
        perm[i] = i
    key2 = np.empty(n, np.uint64)
    perm2 = np.empty(n, np.int64)
    counts = np.empty(2048, np.int64)
    for p in range(6):
        shift = np.uint64(11 * p)
        for d in range(2048):
            counts[d] = 0
        for i in range(n):
            counts[np.int64((key[i] >> shift) & mask)] += 1
        total = 0
        single = False
        for d in range(2048):
            c = counts[d]
            single = single or c == n
            counts[d] = total
            total += c
        if single:  # every key has the same digit here: nothing to reorder
            continue
        for i in range(n):
            d = np.int64((key[i] >> shift) & mask)
            j = counts[d]
            counts[d] = j + 1
            key2[j] = key[i]
            perm2[j] = perm[i]
        key, key2 = key2, key
        perm, perm2 = perm2, perm
    return perm


@kernel(chunked=True)
def sort_cells(lo, hi, order, offsets, score):
    """Sort cells ``lo:hi`` of ``order`` by descending ``score`` (stable), in place.

    ``order`` (N,) holds row indices grouped by cell, ``offsets`` (C + 1,) the cell bounds.
    """
    longest = 0
    for c in range(lo, hi):
        longest = max(longest, offsets[c + 1] - offsets[c])
    buf = np.empty(longest, np.int64)  # one scratch buffer for the chunk
    for c in range(lo, hi):
        if offsets[c + 1] - offsets[c] > 1:
            _stable_sort_desc(order, offsets[c], offsets[c + 1], score, buf)


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
    iou_off,
    cell_iou,
    iou_thrs,
    area_rng,
    status,
    kind,
    match,
):
    """Match one cell (see :func:`match_cells`)."""
    n_area = area_rng.shape[0]
    n_thr = iou_thrs.shape[0]
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
                if match is not None:
                    for t in range(n_thr):
                        status[d, a, t] = code
                        match[d, a, t] = -1
        return
    # scratch: three allocations per cell rather than eight
    fbuf = np.empty(2 * n_d * n_g, np.float64)
    ibuf = np.empty(n_g + n_d + 1 + n_d * n_g, np.int64)
    bbuf = np.empty((2 + n_thr) * n_g, np.bool_)
    ious = fbuf[: n_d * n_g].reshape((n_d, n_g))
    if cell_iou is not None:  # given (masks, keypoints): the cell's (D, G) block, row-major
        i0 = iou_off[c]
        for d in range(n_d):
            for g in range(n_g):
                ious[d, g] = cell_iou[i0 + d * n_g + g]
    else:
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
                if match is not None:
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
                if match is not None:
                    match[row, a, t] = -1 if m == -1 else perm[m]
                if t == 0:
                    first = code
                elif code != first:
                    mixed = True
            # FP or IGNORED at every threshold, else MIXED
            kind[row, a] = MIXED if (mixed or first == TP) else first


@kernel(chunked=True)
def match_cells(
    lo,
    hi,
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
    iou_off,
    cell_iou,
    iou_thrs,
    area_rng,
    status,
    kind,
    match,
):
    """Greedy COCO matching of cells ``lo:hi``, for every area range and IoU threshold.

    Boxes are xywh (C + 1 offsets, rows grouped by cell; detections sorted by
    descending score and truncated). Writes ``kind`` (Nd, A) int8 (FP or IGNORED
    when the status is the same at every threshold, else MIXED), ``status``
    (Nd, A, T) int8 (0 FP, 1 TP, 2 ignored) where ``kind`` is MIXED (everywhere
    when ``match`` is wanted) and, unless ``match`` is None, ``match`` (Nd, A, T)
    int64, the matched ground-truth row within its cell (-1: none). ``cell_iou``
    holds the IoUs per cell (masks, keypoints; see ``iou_off``) or is None (boxes).
    A None argument is a type of its own to Numba: the code that writes ``match``
    or reads ``cell_iou`` is then left out, and compiled only for calls that use it.
    """
    n_area = area_rng.shape[0]
    for c in range(lo, hi):
        if dt_off[c + 1] == dt_off[c]:  # most cells are empty: skip the call
            continue
        if gt_off[c + 1] == gt_off[c] and match is None:
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
            iou_off,
            cell_iou,
            iou_thrs,
            area_rng,
            status,
            kind,
            match,
        )


@kernel(chunked=True)
def iou_cells(lo, hi, gt_off, gt_box, gt_crowd, dt_off, dt_box, iou_off, out):
    """IoU matrix of cells ``lo:hi`` with detections and ground truths, flattened row-major.

    Cell ``c`` writes ``out[iou_off[c]:iou_off[c + 1]]`` as a (D_c, G_c) matrix.
    """
    for c in range(lo, hi):
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


@kernel(chunked=True)
def gather_categories(lo, hi, n_img, dt_off, dt_score, k_list, i_list, cat_off, cat_rows, cat_rank):
    """Rows of categories ``k_list[lo:hi]`` image by image, then stably by descending score.

    Category k's rows go to ``cat_rows[cat_off[k]:cat_off[k + 1]]``, with each
    row's rank inside its cell in ``cat_rank``, so that the accumulation reads
    memory in order. Categories of ``RADIX_MIN`` rows or more are left in image
    order for :func:`radix_sort_categories` (so that small evaluations never
    compile the radix sort); the others are merge-sorted here.
    """
    for k in range(lo, hi):
        j = cat_off[k]
        for ii in range(i_list.shape[0]):
            c = k_list[k] * n_img + i_list[ii]
            for r in range(dt_off[c], dt_off[c + 1]):
                cat_rows[j] = r
                cat_rank[j] = r - dt_off[c]
                j += 1
        n = j - cat_off[k]
        if 1 < n < RADIX_MIN:
            perm = np.empty(n, np.int64)
            keys = np.empty(n, np.float64)
            for q in range(n):
                perm[q] = q
                keys[q] = dt_score[cat_rows[cat_off[k] + q]]
            # np.int64(0), not a literal 0: the signature sort_cells compiles, not a second one
            _stable_sort_desc(perm, np.int64(0), n, keys, np.empty(n, np.int64))
            _permute_rows(cat_off[k], perm, cat_rows, cat_rank)


@kernel(chunked=True)
def radix_sort_categories(lo, hi, big, dt_score, cat_off, cat_rows, cat_rank):
    """Sort the rows of categories ``big[lo:hi]`` stably by descending score (radix sort)."""
    for b in range(lo, hi):
        base = cat_off[big[b]]
        n = cat_off[big[b] + 1] - base
        keys = np.empty(n, np.float64)
        for q in range(n):
            keys[q] = dt_score[cat_rows[base + q]]
        _permute_rows(base, _radix_argsort_desc(keys), cat_rows, cat_rank)


@kernel()
def _permute_rows(base, perm, cat_rows, cat_rank):
    """Reorder ``cat_rows`` and ``cat_rank`` from ``base`` on by ``perm``."""
    n = perm.shape[0]
    rows = np.empty(n, np.int64)
    ranks = np.empty(n, np.int64)
    for q in range(n):
        rows[q] = cat_rows[base + perm[q]]
        ranks[q] = cat_rank[base + perm[q]]
    for q in range(n):
        cat_rows[base + q] = rows[q]
        cat_rank[base + q] = ranks[q]


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
    want_scores = scores.shape[0] > 0
    for a in range(precision.shape[1]):  # -1 stays where there is no ground truth (loops, not a
        for m in range(precision.shape[2]):  # slice assignment: far less code to compile)
            for t in range(precision.shape[3]):
                for r in range(precision.shape[4]):
                    precision[k, a, m, t, r] = -1.0
                    if want_scores:
                        scores[k, a, m, t, r] = -1.0
    base = cat_off[k]
    end = cat_off[k + 1]
    cap = np.int64(1)  # not a literal 1: _fill_curves compiles one signature
    any_pos = False
    for a in range(n_a):
        if n_pos[k, a] > 0:
            any_pos = True
            cap = max(cap, min(end - base, n_pos[k, a]) + 1)
    if not any_pos or n_m == 0:
        return
    # flat scratch, indexed by ``amt = (a * n_m + m) * n_t + t`` (one allocation of each dtype
    # instead of eight arrays of three to four dimensions: less code to compile)
    n_amt = n_a * n_m * n_t
    tp_pr = np.empty(n_amt * cap, np.float64)  # precision at the i-th true positive: [amt * cap + i]
    tp_row = np.empty(n_amt * cap, np.int64)  # its detection row
    # counters: tp [amt], fp [n_amt + amt], first detection a true positive [2 n_amt + amt],
    # false positives at every threshold [3 n_amt + a * n_m + m], detections within limit m
    # [3 n_amt + n_a n_m + m], whether the current detection counts for limit m [... + n_m + m]
    cnt = np.zeros(3 * n_amt + n_a * n_m + 2 * n_m, np.int64)
    fp_all = 3 * n_amt
    nd = fp_all + n_a * n_m
    counted = nd + n_m
    first_row = np.empty(n_m, np.int64)
    max_limit = 0
    for m in range(n_m):
        first_row[m] = -1
        max_limit = max(max_limit, max_dets[m])
    for q in range(base, end):
        rank = cat_rank[q]
        if rank >= max_limit:
            continue
        r = cat_rows[q]
        for m in range(n_m):
            cnt[counted + m] = rank < max_dets[m]
        for a in range(n_a):
            if n_pos[k, a] == 0:
                continue
            a0 = a_list[a]
            kd = kind[r, a0]
            if kd == FP:
                for m in range(n_m):
                    cnt[fp_all + a * n_m + m] += cnt[counted + m]
            elif kd == MIXED:
                for m in range(n_m):
                    if cnt[counted + m] == 0:
                        continue
                    fp_base = cnt[fp_all + a * n_m + m]
                    am = (a * n_m + m) * n_t
                    for t in range(n_t):
                        code = status[r, a0, t]
                        if code == TP:
                            i = cnt[am + t]
                            cnt[am + t] = i + 1
                            tpf = float(i + 1)
                            tp_pr[(am + t) * cap + i] = tpf / (
                                float(cnt[n_amt + am + t] + fp_base) + tpf + eps
                            )
                            tp_row[(am + t) * cap + i] = r
                            if cnt[nd + m] == 0:
                                cnt[2 * n_amt + am + t] = 1
                        elif code == FP:
                            cnt[n_amt + am + t] += 1
        for m in range(n_m):
            if cnt[counted + m]:
                if cnt[nd + m] == 0:
                    first_row[m] = r
                cnt[nd + m] += 1
    for a in range(n_a):
        if n_pos[k, a] == 0:
            continue
        for m in range(n_m):
            _fill_curves(
                k, a, m, (a * n_m + m) * n_t, cap, n_pos[k, a], cnt[nd + m], cnt, tp_pr, tp_row, first_row[m],
                dt_score, rec_thrs, rec_sorted, precision, recall, scores,
            )  # fmt: skip


@kernel()
def _fill_curves(
    k, a, m, am, cap, n_pos, nd, cnt, tp_pr, tp_row, first_row, dt_score, rec_thrs, rec_sorted,
    precision, recall, scores,
):  # fmt: skip
    """Write precision / recall / scores of one (k, a, m) from its true positives.

    Threshold t's true positives are ``tp_pr`` / ``tp_row`` from ``(am + t) * cap``
    on, ``cnt[am + t]`` of them; ``cnt[2 n_amt + am + t]`` says whether the first
    detection is one (layout: :func:`_accumulate_category`).
    """
    n_t = precision.shape[3]
    n_r = rec_thrs.shape[0]
    n_amt = tp_pr.shape[0] // cap
    want_scores = scores.shape[0] > 0  # an empty ``scores``: not wanted
    for t in range(n_t):
        n_tp = cnt[am + t]
        pr = (am + t) * cap
        recall[t, k, a, m] = float(n_tp) / n_pos if nd > 0 else 0.0
        for i in range(n_tp - 1, 0, -1):  # maximum to the right
            if tp_pr[pr + i] > tp_pr[pr + i - 1]:
                tp_pr[pr + i - 1] = tp_pr[pr + i]
        for ri in range(n_r):
            precision[k, a, m, t, ri] = 0.0
            if want_scores:
                scores[k, a, m, t, ri] = 0.0
        if nd == 0:
            continue
        rc0 = (1.0 if cnt[2 * n_amt + am + t] else 0.0) / n_pos  # recall at the first detection
        i = 0
        for ri in range(n_r):
            x = rec_thrs[ri]
            if rc0 >= x:  # the first detection already reaches it
                precision[k, a, m, t, ri] = tp_pr[pr] if n_tp > 0 else 0.0
                if want_scores:
                    scores[k, a, m, t, ri] = dt_score[first_row]
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
            precision[k, a, m, t, ri] = tp_pr[pr + i]
            if want_scores:
                scores[k, a, m, t, ri] = dt_score[tp_row[pr + i]]


@kernel(chunked=True)
def accumulate(
    lo,
    hi,
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
    cat_off,
    cat_rows,
    cat_rank,
    n_pos,
    precision,
    recall,
    scores,
):
    """pycocotools' accumulate of categories ``lo:hi`` (indices into ``k_list``).

    Reads the matched cells (``status`` and ``kind`` from :func:`match_cells`).

    ``k_list``/``a_list``/``i_list`` index the evaluated categories, area ranges
    (rows of ``area_rng``) and images of the matching layout (cell (i, k) is
    ``k * n_img + i``; ground truths ``gt_off``/``gt_area``/``gt_ignore``);
    ``max_dets`` holds the detection limits, ``rec_sorted`` says whether
    ``rec_thrs`` ascends and ``eps`` is ``np.spacing(1)``. Fills ``precision`` /
    ``scores`` (K, A, M, T, R: each curve in consecutive memory; an empty
    ``scores``, (0, 0, 0, 0, 0), is not wanted), which may arrive uninitialised,
    and ``recall`` (T, K, A, M), which arrives set to -1; combinations without
    non-ignored ground truth are -1. Scratch: ``cat_off`` (K + 1,) the
    bounds of each category's detections (summed over ``i_list``),
    ``cat_rows`` and ``cat_rank`` (cat_off[-1],), sorted by :func:`gather_categories`,
    and ``n_pos`` (K, A).
    """
    for k in range(lo, hi):
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
