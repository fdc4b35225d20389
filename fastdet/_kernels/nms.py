"""Numba kernels for greedy NMS (plain and per group), soft-NMS and the best-class reduction.

No validation happens here: ``fastdet.nms`` passes C-contiguous ``(N, 4)`` xyxy
boxes (float32 or float64, no degenerate rows), int64 permutations and plain
scalars. All IoUs follow torchvision.ops.nms: ``inter / (area_i + area_j - inter)``
in the dtype of the boxes, and a pair whose union is 0 has IoU 0.

Speed comes from never looking at pairs that cannot matter: boxes are sorted
into cells (group, horizontal band of y1) and by x1 inside a cell, so a box visits
only the few bands its neighbours can start in and, in each, the x1 window found
by binary search; the inner loop over a window is branch-free so that LLVM
vectorizes it.
"""

from __future__ import annotations

import numpy as np

from fastdet._kernels import kernel


@kernel()
def _first_at_least(a, lo, hi, v):
    """Smallest k in [lo, hi) with a[k] >= v (hi if none); a is sorted ascending."""
    while lo < hi:
        mid = (lo + hi) >> 1
        if a[mid] < v:
            lo = mid + 1
        else:
            hi = mid
    return lo


@kernel()
def _band(y, ymin, band_h, n_bands):
    """Band index of y: floor((y - ymin) / band_h) clipped to [0, n_bands - 1] (monotone in y).

    Always a valid band, also for y = +-inf or NaN (which gives 0).
    """
    v = (y - ymin) / band_h
    if v >= n_bands - 1:
        return n_bands - 1
    if v >= 0.0:
        return np.int64(v)  # truncation is floor here
    return 0


@kernel()
def _counting_sort(order, key, n_keys, starts, out):
    """Stable sort of ``order`` (M,) by ``key[order[k]]`` in [0, n_keys) into ``out`` (M,).

    ``starts`` (n_keys + 1,) receives where each key's run begins in ``out``.
    """
    for c in range(n_keys + 1):
        starts[c] = 0
    for k in range(order.shape[0]):
        starts[key[order[k]] + 1] += 1
    for c in range(n_keys):
        starts[c + 1] += starts[c]
    for k in range(order.shape[0]):  # starts[c] walks to the end of run c ...
        i = order[k]
        out[starts[key[i]]] = i
        starts[key[i]] += 1
    for c in range(n_keys, 0, -1):  # ... so shift it back by one run
        starts[c] = starts[c - 1]
    starts[0] = 0


@kernel()
def greedy_nms(
    boxes,
    order,
    by_x1,
    groups,
    n_groups,
    n_bands,
    ymin,
    band_h,
    span,
    shrink,
    thr,
    mid,
    tie_even,
    keep,
    work,
    coords,
    sup,
    cancel,
):
    """Greedy NMS within each group of boxes; sets ``keep[i] = 1`` for the kept boxes.

    boxes (N, 4); order (N,) all indices by decreasing score (stable); by_x1 (N,)
    the indices sorted by x1; groups (N,) group ids in [0, n_groups); keep (N,)
    uint8, zeroed by the caller. Scratch: work int64 (4 N + n_groups (n_bands + 1)
    + 2,), coords (5, N) in the boxes' dtype, sup uint8 (N,). ``cancel[0]`` set
    by another thread stops the loop (the result is then incomplete).

    Boxes are sorted into cells (group, band of y1; see ``_band``), by x1 within a
    cell. Box j is suppressed by a kept box i of its group when IoU(i, j) > thr. A
    kept box visits only the bands and x1 windows that can hold such a j: x1_j in
    (x1_i - min(maxw, span w_i), x2_i - shrink w_i), and likewise in y. ``mid`` is
    None for float64 boxes (``inter / union > thr``, see ``_suppress_div``) and a
    float for float32 boxes, where ``float32(inter / union) > thr`` is evaluated
    exactly and without a division (see ``_suppress_f32``); Numba compiles only
    the branch a signature takes.
    """
    n = boxes.shape[0]
    n_cells = n_groups * n_bands
    cell = work[:n]
    by_cell = work[n : 2 * n]
    by_score = work[2 * n : 3 * n]
    pos = work[3 * n : 4 * n]
    cell_start = work[4 * n : 4 * n + n_cells + 1]
    bounds = work[4 * n + n_cells + 1 : 4 * n + n_cells + n_groups + 2]
    for i in range(n):
        cell[i] = groups[i] * n_bands + _band(np.float64(boxes[i, 1]), ymin, band_h, n_bands)
    _counting_sort(by_x1, cell, n_cells, cell_start, by_cell)
    _counting_sort(order, groups, n_groups, bounds, by_score)
    x1 = coords[0]
    y1 = coords[1]
    x2 = coords[2]
    y2 = coords[3]
    area = coords[4]
    for k in range(n):
        b = by_cell[k]
        x1[k] = boxes[b, 0]
        y1[k] = boxes[b, 1]
        x2[k] = boxes[b, 2]
        y2[k] = boxes[b, 3]
        area[k] = (x2[k] - x1[k]) * (y2[k] - y1[k])
        pos[b] = k
        sup[k] = 0
    for g in range(n_groups):
        lo_seg = bounds[g]
        hi_seg = bounds[g + 1]
        cell0 = g * n_bands
        maxw = 0.0
        maxh = 0.0
        for r in range(lo_seg, hi_seg):
            p = pos[by_score[r]]
            maxw = max(maxw, np.float64(x2[p]) - np.float64(x1[p]))
            maxh = max(maxh, np.float64(y2[p]) - np.float64(y1[p]))
        maxw = maxw * 1.001
        maxh = maxh * 1.001
        for r in range(lo_seg, hi_seg):
            b = by_score[r]
            p = pos[b]
            if sup[p]:
                continue
            keep[b] = 1
            if cancel[0]:
                return
            ap = area[p]
            if not (ap > 0 and ap < np.inf):  # IoU 0 (or NaN) with everything: suppresses nothing
                continue
            bx1 = x1[p]
            by1 = y1[p]
            bx2 = x2[p]
            by2 = y2[p]
            w = np.float64(bx2) - np.float64(bx1)
            h = np.float64(by2) - np.float64(by1)
            sx = 1e-7 * (abs(np.float64(bx1)) + abs(np.float64(bx2)))
            sy = 1e-7 * (abs(np.float64(by1)) + abs(np.float64(by2)))
            xlo = np.float64(bx1) - min(maxw, w * span) - sx  # w > 0 here: no NaN
            xhi = np.float64(bx2) - shrink * w + sx
            ylo = np.float64(by1) - min(maxh, h * span) - sy
            yhi = np.float64(by2) - shrink * h + sy
            for kb in range(_band(ylo, ymin, band_h, n_bands), _band(yhi, ymin, band_h, n_bands) + 1):
                c = cell0 + kb
                a = _first_at_least(x1, cell_start[c], cell_start[c + 1], xlo)
                e = _first_at_least(x1, a, cell_start[c + 1], xhi)
                if e == a:
                    continue
                if mid is None:
                    _suppress_div(x1, y1, x2, y2, area, sup, a, e, bx1, by1, bx2, by2, ap, thr)
                else:
                    _suppress_f32(x1, y1, x2, y2, area, sup, a, e, bx1, by1, bx2, by2, ap, mid, tie_even)


@kernel()
def greedy_nms_small(x1, y1, x2, y2, area, seg, thr, mid, tie_even, sup, keep):
    """Greedy NMS over every pair, for small inputs (see ``greedy_nms`` for the rule).

    Boxes come as columns in processing order: group by group (``seg`` (G + 1,)
    bounds), by decreasing score within a group. Sets ``keep[p] = 1`` for the
    kept positions; ``area`` (N,) and ``sup`` (N,) uint8, zeroed, are scratch.
    Each kept box scans the rest of its group with the same suppression test as
    ``greedy_nms`` (so the results are the same), which for a few hundred boxes
    costs less than sorting them into the grid, and compiles in a fraction of
    the time.
    """
    for p in range(x1.shape[0]):
        area[p] = (x2[p] - x1[p]) * (y2[p] - y1[p])
    for g in range(seg.shape[0] - 1):
        end = seg[g + 1]
        for p in range(seg[g], end):
            if sup[p]:
                continue
            keep[p] = 1
            ap = area[p]
            if not (ap > 0 and ap < np.inf):  # IoU 0 (or NaN) with everything: suppresses nothing
                continue
            if mid is None:
                _suppress_div(x1, y1, x2, y2, area, sup, p + 1, end, x1[p], y1[p], x2[p], y2[p], ap, thr)
            else:
                _suppress_f32(
                    x1, y1, x2, y2, area, sup, p + 1, end, x1[p], y1[p], x2[p], y2[p], ap, mid, tie_even
                )


@kernel(inline=True)
def _suppress_f32(x1, y1, x2, y2, area, sup, a, e, bx1, by1, bx2, by2, ap, mid, tie_even):
    """Mark boxes ``a:e`` (SoA) whose IoU with box b exceeds the threshold; float32 path.

    ``float32(inter / union) > thr`` holds exactly when ``inter > mid * union`` (or
    equality and ``tie_even``, round-half-to-even) with the products in float64,
    where they are exact. Branch-free so that LLVM vectorizes it.
    """
    zero = ap - ap
    for k in range(a, e):
        xx1 = x1[k] if x1[k] > bx1 else bx1
        yy1 = y1[k] if y1[k] > by1 else by1
        xx2 = x2[k] if x2[k] < bx2 else bx2
        yy2 = y2[k] if y2[k] < by2 else by2
        iw = xx2 - xx1
        iw = iw if iw > zero else zero
        ih = yy2 - yy1
        ih = ih if ih > zero else zero
        inter = iw * ih
        union = ap + area[k] - inter
        lhs = np.float64(inter)
        rhs = mid * np.float64(union)
        sup[k] |= (lhs > rhs) | ((lhs == rhs) & tie_even & (union > zero))


@kernel(inline=True)
def _suppress_div(x1, y1, x2, y2, area, sup, a, e, bx1, by1, bx2, by2, ap, thr):
    """Mark boxes ``a:e`` (SoA) whose IoU with box b exceeds thr; any float dtype."""
    zero = ap - ap
    for k in range(a, e):
        # min / max written out as Python (and Numba) define them: the second argument only if
        # it compares smaller / larger (a first call of nms then compiles no min / max overloads)
        iw = (bx2 if bx2 < x2[k] else x2[k]) - (bx1 if bx1 > x1[k] else x1[k])
        ih = (by2 if by2 < y2[k] else y2[k]) - (by1 if by1 > y1[k] else y1[k])
        if iw > zero and ih > zero:
            inter = iw * ih
            if inter / (ap + area[k] - inter) > thr:
                sup[k] = 1


@kernel()
def soft_nms(
    boxes,
    scores,
    by_x1,
    n_bands,
    ymin,
    band_h,
    method,
    sigma,
    thr,
    score_thr,
    block,
    keep,
    new_scores,
    work,
    coords,
    cur,
    alive,
    dirty,
    cancel,
):
    """Soft-NMS (Bodla et al., 2017); returns the number of boxes written to keep/new_scores.

    boxes (N, 4), scores (N,) in the working dtype; by_x1 (N,) the indices sorted by
    x1 (the kernel sorts them into n_bands bands of y1, see ``_band``); keep (N,)
    int64 and new_scores (N,) outputs. method: 0 gaussian exp(-iou^2/sigma),
    1 linear (1 - iou if iou > thr), 2 hard (0 if iou > thr). The remaining box with
    the highest current score is selected (ties: lowest index); boxes whose score falls
    below score_thr are dropped. Only boxes that overlap the selected one are decayed
    (the weight at IoU 0 is exactly 1). The best box of each run of ``block`` boxes
    (in by_cell order) is cached and recomputed only when a box in the run changed.
    Scratch: work int64 (2 N + n_bands + 1 + n_blocks,), coords (5, N) and cur (N,)
    in the boxes' dtype, alive and dirty bool (N,) and (n_blocks,). ``cancel[0]``
    set by another thread stops the loop.
    """
    n = by_x1.shape[0]
    n_blocks = (n + block - 1) // block
    cell = work[:n]
    by_cell = work[n : 2 * n]
    cell_start = work[2 * n : 2 * n + n_bands + 1]
    best_in = work[2 * n + n_bands + 1 : 2 * n + n_bands + 1 + n_blocks]
    for i in range(n):
        cell[i] = _band(np.float64(boxes[i, 1]), ymin, band_h, n_bands)
    _counting_sort(by_x1, cell, n_bands, cell_start, by_cell)
    x1 = coords[0]
    y1 = coords[1]
    x2 = coords[2]
    y2 = coords[3]
    area = coords[4]
    maxw = 0.0
    maxh = 0.0
    for k in range(n):
        b = by_cell[k]
        x1[k] = boxes[b, 0]
        y1[k] = boxes[b, 1]
        x2[k] = boxes[b, 2]
        y2[k] = boxes[b, 3]
        area[k] = (x2[k] - x1[k]) * (y2[k] - y1[k])
        cur[k] = scores[b]
        alive[k] = cur[k] >= score_thr
        w = np.float64(x2[k]) - np.float64(x1[k])
        h = np.float64(y2[k]) - np.float64(y1[k])
        maxw = w if w > maxw else maxw
        maxh = h if h > maxh else maxh
    maxw = maxw * 1.001
    maxh = maxh * 1.001
    for blk in range(n_blocks):
        best_in[blk] = -1
        dirty[blk] = True
    zero = boxes[0, 0] - boxes[0, 0]
    count = 0
    while not cancel[0]:
        p = -1
        for blk in range(n_blocks):
            if dirty[blk]:  # the alive box with the highest score in the block (ties: lowest index)
                best = -1
                for k in range(blk * block, (blk + 1) * block if (blk + 1) * block < n else n):
                    if alive[k] and (
                        best < 0 or cur[k] > cur[best] or (cur[k] == cur[best] and by_cell[k] < by_cell[best])
                    ):
                        best = k
                best_in[blk] = best
                dirty[blk] = False
            c = best_in[blk]
            if c >= 0 and (p < 0 or cur[c] > cur[p] or (cur[c] == cur[p] and by_cell[c] < by_cell[p])):
                p = c
        if p < 0:
            break
        keep[count] = by_cell[p]
        new_scores[count] = cur[p]
        count += 1
        alive[p] = False
        dirty[p // block] = True
        ap = area[p]
        if not (ap > 0 and ap < np.inf):  # IoU 0 (or NaN) with everything: decays nothing
            continue
        bx1 = x1[p]
        by1 = y1[p]
        bx2 = x2[p]
        by2 = y2[p]
        sx = 1e-7 * (abs(np.float64(bx1)) + abs(np.float64(bx2)))
        sy = 1e-7 * (abs(np.float64(by1)) + abs(np.float64(by2)))
        xlo = np.float64(bx1) - maxw - sx
        xhi = np.float64(bx2) + sx
        ylo = np.float64(by1) - maxh - sy
        yhi = np.float64(by2) + sy
        for kb in range(_band(ylo, ymin, band_h, n_bands), _band(yhi, ymin, band_h, n_bands) + 1):
            a = _first_at_least(x1, cell_start[kb], cell_start[kb + 1], xlo)
            e = _first_at_least(x1, a, cell_start[kb + 1], xhi)
            for q in range(a, e):
                if not alive[q]:
                    continue
                iw = (bx2 if bx2 < x2[q] else x2[q]) - (bx1 if bx1 > x1[q] else x1[q])
                ih = (by2 if by2 < y2[q] else y2[q]) - (by1 if by1 > y1[q] else y1[q])
                if iw <= zero or ih <= zero:
                    continue
                inter = iw * ih
                union = ap + area[q] - inter
                if not (union > 0 and union < np.inf):  # overflowed area: IoU taken as 0
                    continue
                iou = inter / union
                if method == 0:
                    weight = np.exp(-(np.float64(iou) * np.float64(iou)) / sigma)
                elif iou > thr:
                    weight = 1.0 - np.float64(iou) if method == 1 else 0.0
                else:
                    continue
                cur[q] = cur[q] * weight
                if cur[q] < score_thr:
                    alive[q] = False
                dirty[q // block] = True
    return count


@kernel(chunked=True)
def best_class(lo, hi, pred, first, has_obj, score, label):
    """Best class of every prediction: pred (B, N, D) -> score (B, N), label (B, N) int64.

    Class columns are ``pred[..., first:]``; with ``has_obj`` each class score is first
    multiplied by the objectness ``pred[..., 4]``. Equal scores keep the lowest class.
    Iterations ``lo:hi`` run over image * prediction, each writing only its own
    entry; small batches call ``best_class.serial``.
    """
    n = pred.shape[1]
    n_cls = pred.shape[2] - first
    for r in range(lo, hi):
        i = r // n
        j = r - i * n
        best = pred[i, j, first]
        if has_obj:
            best = best * pred[i, j, 4]
        arg = 0
        for c in range(1, n_cls):
            v = pred[i, j, first + c]
            if has_obj:
                v = v * pred[i, j, 4]
            if v > best:
                best = v
                arg = c
        score[i, j] = best
        label[i, j] = arg


# --------------------------------------------------------------------------- DIoU-NMS


@kernel()
def _diou(ax1, ay1, ax2, ay2, bx1, by1, bx2, by2, beta):
    """``IoU - (rho^2 / c^2) ** beta`` of two boxes with a positive-area overlap (else -1).

    rho is the distance between the box centres, c the diagonal of the smallest box
    enclosing both (Zheng et al. 2020). Pairs that do not overlap return -1: their DIoU is
    <= 0, never above a threshold in [0, 1].
    """
    iw = min(ax2, bx2) - max(ax1, bx1)
    ih = min(ay2, by2) - max(ay1, by1)
    if not (iw > 0.0 and ih > 0.0):
        return -1.0
    inter = iw * ih
    iou = inter / ((ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter)
    cw = max(ax2, bx2) - min(ax1, bx1)
    ch = max(ay2, by2) - min(ay1, by1)
    dx = (ax1 + ax2) / 2.0 - (bx1 + bx2) / 2.0
    dy = (ay1 + ay2) / 2.0 - (by1 + by2) / 2.0
    ratio = (dx * dx + dy * dy) / (cw * cw + ch * ch)
    if beta != 1.0:
        ratio = ratio**beta
    return iou - ratio


@kernel()
def greedy_diou_nms(
    boxes, order, by_x1, groups, n_groups, n_bands, ymin, band_h, span, shrink, thr, beta, keep
):
    """Greedy DIoU-NMS within each group; sets ``keep[i] = 1`` for the kept boxes (float64 boxes).

    Arguments as for ``greedy_nms``. Box j is suppressed by a kept box i of its group when
    ``_diou(i, j) > thr``. DIoU > thr implies IoU > thr, so the same bands and x1 windows
    hold every box that can be suppressed.
    """
    m = boxes.shape[0]
    n_cells = n_groups * n_bands
    cell = np.empty(m, np.int64)
    for i in range(m):
        cell[i] = groups[i] * n_bands + _band(boxes[i, 1], ymin, band_h, n_bands)
    by_cell = np.empty(m, np.int64)
    cell_start = np.empty(n_cells + 1, np.int64)
    _counting_sort(by_x1, cell, n_cells, cell_start, by_cell)
    by_score = np.empty(m, np.int64)
    bounds = np.empty(n_groups + 1, np.int64)
    _counting_sort(order, groups, n_groups, bounds, by_score)
    x1 = np.empty(m)
    y1 = np.empty(m)
    x2 = np.empty(m)
    y2 = np.empty(m)
    area = np.empty(m)
    pos = np.empty(m, np.int64)
    for k in range(m):
        b = by_cell[k]
        x1[k] = boxes[b, 0]
        y1[k] = boxes[b, 1]
        x2[k] = boxes[b, 2]
        y2[k] = boxes[b, 3]
        area[k] = (x2[k] - x1[k]) * (y2[k] - y1[k])
        pos[b] = k
    sup = np.zeros(m, np.uint8)
    for g in range(n_groups):
        cell0 = g * n_bands
        maxw = 0.0
        maxh = 0.0
        for r in range(bounds[g], bounds[g + 1]):
            p = pos[by_score[r]]
            maxw = max(maxw, x2[p] - x1[p])
            maxh = max(maxh, y2[p] - y1[p])
        maxw = maxw * 1.001
        maxh = maxh * 1.001
        for r in range(bounds[g], bounds[g + 1]):
            b = by_score[r]
            p = pos[b]
            if sup[p]:
                continue
            keep[b] = 1
            if not (area[p] > 0 and area[p] < np.inf):
                continue
            bx1 = x1[p]
            by1 = y1[p]
            bx2 = x2[p]
            by2 = y2[p]
            w = bx2 - bx1
            h = by2 - by1
            sx = 1e-7 * (abs(bx1) + abs(bx2))
            sy = 1e-7 * (abs(by1) + abs(by2))
            xlo = bx1 - min(maxw, w * span) - sx
            xhi = bx2 - shrink * w + sx
            ylo = by1 - min(maxh, h * span) - sy
            yhi = by2 - shrink * h + sy
            for kb in range(_band(ylo, ymin, band_h, n_bands), _band(yhi, ymin, band_h, n_bands) + 1):
                c = cell0 + kb
                a = _first_at_least(x1, cell_start[c], cell_start[c + 1], xlo)
                e = _first_at_least(x1, a, cell_start[c + 1], xhi)
                for q in range(a, e):
                    if not sup[q] and _diou(bx1, by1, bx2, by2, x1[q], y1[q], x2[q], y2[q], beta) > thr:
                        sup[q] = 1


# --------------------------------------------------------------------------- Matrix NMS


@kernel()
def matrix_decay(boxes, order, gstart, gaussian, sigma, decay):
    """Matrix NMS decay factor of every box (Wang et al. 2020, SOLOv2), group by group.

    Group g is ``order[gstart[g]:gstart[g + 1]]``, by decreasing score. For the box at
    position j: ``decay = min(1, min over i < j of f(iou_ij) / f(comp_i))`` where ``comp_i``
    is box i's largest IoU with a box before it; f is ``exp(-sigma iou^2)`` (``gaussian``)
    or ``1 - iou``. Writes ``decay[order[j]]``. Pairs that do not overlap give
    ``1 / f(comp_i) >= 1`` and are skipped; a linear term with ``comp_i == 1`` is infinite
    (or 0 / 0) and skipped too.
    """
    n = order.shape[0]
    comp = np.zeros(n)
    for g in range(gstart.shape[0] - 1):
        lo = gstart[g]
        hi = gstart[g + 1]
        for j in range(lo, hi):
            b = order[j]
            bx1 = boxes[b, 0]
            by1 = boxes[b, 1]
            bx2 = boxes[b, 2]
            by2 = boxes[b, 3]
            barea = (bx2 - bx1) * (by2 - by1)
            worst = 0.0
            d = 1.0
            for i in range(lo, j):
                a = order[i]
                iw = min(boxes[a, 2], bx2) - max(boxes[a, 0], bx1)
                ih = min(boxes[a, 3], by2) - max(boxes[a, 1], by1)
                if not (iw > 0.0 and ih > 0.0):
                    continue
                inter = iw * ih
                union = (boxes[a, 2] - boxes[a, 0]) * (boxes[a, 3] - boxes[a, 1]) + barea - inter
                if not union > 0.0:
                    continue
                iou = inter / union
                worst = max(worst, iou)
                if gaussian:
                    r = np.exp(-sigma * iou * iou) / np.exp(-sigma * comp[i] * comp[i])
                elif comp[i] < 1.0:
                    r = (1.0 - iou) / (1.0 - comp[i])
                else:
                    continue
                d = min(d, r)
            comp[j] = worst
            decay[b] = d
