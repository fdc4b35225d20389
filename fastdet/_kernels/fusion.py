"""Numba kernels of ``fastdet.fusion``: the ensemble-boxes family over many (image, label) groups.

The input's grouping, the sorts and the output rows are in :mod:`fastdet._kernels.fusion_groups`.
Every kernel walks a list of groups (``gstart``: group ``g`` is ``order[gstart[g]:gstart[g + 1]]``),
so a whole results set (many images, one group per image and label) is one call. Arithmetic
follows ensemble-boxes 1.0.9 operation for operation (see ``fastdet.fusion``), including its
float32 rounding of fused boxes.

Clusters are found through a uniform grid over the centres of the group's boxes: a box whose
IoU with a cluster exceeds ``t`` has its centre within ``(w_box + w_cluster) / 2`` of the
cluster's in x (and likewise in y), and ``w_cluster < w_box / t``, so only the grid cells
around the box can hold a match.
"""

from __future__ import annotations

import numpy as np

from fastdet._kernels import kernel
from fastdet._kernels.fusion_groups import sort_pairs

#: Relative slack on the search window (never on a comparison): covers rounding in IoU.
_SLACK = 1e-7
#: Groups of at most this many boxes are searched without a grid (all clusters in one cell), and
#: so is any group while it has at most this many clusters (a grid pays off only past that).
_SMALL = 16

# _SEARCH: how wbf and nmw find a box's cluster, the one whose row ``(x1, y1, x2, y2, area)``
# (``rows``: fb or lead) has the highest IoU above ``thr`` with the box. A plain scan visits the
# clusters in creation order, so the first of equal IoUs wins, as in ensemble-boxes; the grid
# visits the cells around the box (lists ``head``/``nxt``, newest first), where of equal IoUs
# the oldest cluster wins (the same one). No overlap gives IoU 0, which never exceeds
# ``thr >= 0``: the test needs no branch. The search and the group's sort are written out in
# both kernels: a helper taking arrays costs an atomic reference count increment and decrement
# per array per call, which was about half of nmw's time on groups of a few boxes.


# --------------------------------------------------------------------------- small helpers


@kernel()
def _cell(v, v0, size, g):
    """Grid cell of coordinate v: floor((v - v0) / size) clipped to [0, g - 1] (monotone in v)."""
    t = (v - v0) / size
    if not t >= 1.0:
        return 0
    if t >= g - 1:
        return g - 1
    return np.int64(t)


@kernel()
def _grid(lb, n):
    """Grid over the box centres of one group: ``(x0, y0, size_x, size_y, gx, gy, max_w, max_h, mag)``.

    lb[:n]: the group's boxes. Cells are about one mean box size wide, at most about sqrt(n)
    per axis; ``mag`` is the largest absolute coordinate. Groups of at most ``_SMALL`` boxes
    get a single cell.
    """
    if n <= _SMALL:  # one cell: a plain scan over a handful of clusters is cheaper
        return 0.0, 0.0, 1.0, 1.0, 1, 1, 0.0, 0.0, 0.0
    x0 = np.inf
    y0 = np.inf
    x_hi = -np.inf
    y_hi = -np.inf
    max_w = 0.0
    max_h = 0.0
    sum_w = 0.0
    sum_h = 0.0
    mag = 0.0
    for p in range(n):
        for d in range(4):
            mag = max(mag, abs(lb[p, d]))
        w = lb[p, 2] - lb[p, 0]
        h = lb[p, 3] - lb[p, 1]
        cx = (lb[p, 0] + lb[p, 2]) * 0.5
        cy = (lb[p, 1] + lb[p, 3]) * 0.5
        x0 = min(x0, cx)
        y0 = min(y0, cy)
        x_hi = max(x_hi, cx)
        y_hi = max(y_hi, cy)
        max_w = max(max_w, w)
        max_h = max(max_h, h)
        sum_w += w
        sum_h += h
    cap = max(1, np.int64(np.sqrt(n)))
    gx = 1
    gy = 1
    size_x = 1.0
    size_y = 1.0
    if x_hi > x0 and sum_w > 0.0:
        gx = min(cap, np.int64((x_hi - x0) / (sum_w / n)) + 1)
        size_x = (x_hi - x0) / gx
    if y_hi > y0 and sum_h > 0.0:
        gy = min(cap, np.int64((y_hi - y0) / (sum_h / n)) + 1)
        size_y = (y_hi - y0) / gy
    return x0, y0, size_x, size_y, gx, gy, max_w, max_h, mag


@kernel()
def _half_window(w, max_w, inv_t):
    """Largest centre distance (one axis) at which a box of extent w can exceed the IoU threshold."""
    reach = 0.5 * (w + max_w)
    if inv_t > 0.0:
        reach = min(reach, 0.5 * w * (1.0 + inv_t))
    return reach * (1.0 + _SLACK)


# --------------------------------------------------------------------------- weighted boxes fusion


@kernel(chunked=True)
def wbf(
    jlo,
    jhi,
    boxes,
    ws,
    weights,
    model,
    order,
    gstart,
    gorder,
    slot,
    cap,
    conf_type,
    overflow,
    wdiv,
    thr,
    inv_t,
    out_box,
    out_score,
    out_weight,
    out_count,
    ncl,
    cluster_of,
):
    """Weighted boxes fusion of the groups ``gorder[jlo:jhi]`` (a chunked kernel: any split of
    [0, G) over threads gives the same result, as every group writes only its own slots).

    boxes (N, 4) float64 (clipped, positive area); ws (N,) weighted scores (score x model
    weight, >= 0); weights (M,), model (N,): box i's model weight is weights[model[i]];
    order, gstart, gorder from ``group_order`` (each group is taken by decreasing ws, then
    index, as ``sort_groups`` orders it; gorder[j] the j-th group visited); slot (G + 1,) the
    first output slot of the j-th group (slots of earlier groups: at least their sizes); cap
    the size of the largest group;
    thr the IoU threshold (a match needs IoU > thr); inv_t = 1 / (thr (1 - slack)), or 0 when
    thr is ~0. Writes ncl[j], the number of clusters of the j-th group, and for each of them
    (slots slot[j] + c, c in creation order): out_box the fused box, out_score its confidence
    before ensemble-boxes' rescaling (the mean of its ws, or the max with ``use_max``; float32
    for 2+ boxes) or, for ``conf_type`` 0 (avg; ``overflow``: allows_overflow) and 1 (max),
    its final confidence (rescaled with ``wdiv``: the weights' sum, or their max). For the
    other conf types, also out_weight its weight sum (float32 for 2+ boxes), out_count its
    size and cluster_of (N,) each box's slot, for the caller's rescaling (unused otherwise:
    pass empty arrays). Other slots are left as they are.
    The clusters' state is kept per group (small arrays).
    """
    key, kbuf = np.empty(cap), np.empty(cap)  # the group's ws, sorted
    idx, ibuf = np.empty(cap, np.int64), np.empty(cap, np.int64)  # and box indices
    lb = np.empty((cap, 4))  # and boxes (those of a group with a grid)
    fb = np.empty((cap, 5))  # fused box of each cluster, as ensemble-boxes stores it, and its area
    acc = np.empty((cap, 4), np.float32)  # float32 running sums of ws * coordinate
    plain = np.empty((cap, 4))  # plain coordinate sums (for clusters whose ws sum is 0)
    csum = np.empty(cap)
    cmax = np.empty(cap)
    cw = np.empty(cap)
    cnt = np.empty(cap, np.int64)
    cell = np.empty(cap, np.int64)
    nxt = np.empty(cap, np.int64)
    prv = np.empty(cap, np.int64)
    head = np.empty(cap + 1, np.int64)
    n_models = weights.shape[0]
    x0 = y0 = sx = sy = max_w = max_h = 0.0
    gx = gy = 1
    for j in range(jlo, jhi):
        g = gorder[j]
        lo = gstart[g]
        hi = gstart[g + 1]
        count = slot[j]
        n = hi - lo
        # the group by decreasing ws, then index (``sort_groups``' order): order[lo:hi] is by index,
        # so the insertion sort (what sort_pairs does on 16 or fewer) puts an equal ws after
        for p in range(n):
            v = order[lo + p]
            kv = ws[v]
            i = p - 1
            if n <= 16:
                while i >= 0 and key[i] < kv:
                    key[i + 1] = key[i]
                    idx[i + 1] = idx[i]
                    i -= 1
            key[i + 1] = kv
            idx[i + 1] = v
        if n > 16:
            sort_pairs(key, idx, 0, n, kbuf, ibuf)
        if n > _SMALL:  # the grid's boxes, read contiguously
            for p in range(n):
                for d in range(4):
                    lb[p, d] = boxes[idx[p], d]
        small = n <= _SMALL
        if not small:
            x0, y0, sx, sy, gx, gy, max_w, max_h, mag = _grid(lb, n)
            # a fused box is a weighted mean of its members: no wider than the widest member, up to
            # its float32 rounding (relative 2**-24 of each coordinate)
            max_w = max_w * (1.0 + _SLACK) + 1e-6 * mag
            max_h = max_h * (1.0 + _SLACK) + 1e-6 * mag
            for k in range(gx * gy):
                head[k] = -1
        k_clusters = 0
        for p in range(n):
            b = idx[p]
            bx1 = boxes[b, 0]
            by1 = boxes[b, 1]
            bx2 = boxes[b, 2]
            by2 = boxes[b, 3]
            barea = (bx2 - bx1) * (by2 - by1)
            # the cluster of highest IoU > thr (best_iou; best = -1 when none), see _SEARCH
            best = -1
            best_iou = thr
            if small or k_clusters <= _SMALL:
                for c in range(k_clusters):
                    iw = max(min(fb[c, 2], bx2) - max(fb[c, 0], bx1), 0.0)
                    ih = max(min(fb[c, 3], by2) - max(fb[c, 1], by1), 0.0)
                    inter = iw * ih
                    iou = inter / (fb[c, 4] + barea - inter)
                    take = iou > best_iou
                    best = c if take else best
                    best_iou = iou if take else best_iou
            else:
                hx = _half_window(bx2 - bx1, max_w, inv_t) + _SLACK * (abs(bx1) + abs(bx2))
                hy = _half_window(by2 - by1, max_h, inv_t) + _SLACK * (abs(by1) + abs(by2))
                ky0 = _cell((by1 + by2) * 0.5 - hy, y0, sy, gy)
                ky1 = _cell((by1 + by2) * 0.5 + hy, y0, sy, gy)
                kx0 = _cell((bx1 + bx2) * 0.5 - hx, x0, sx, gx)
                kx1 = _cell((bx1 + bx2) * 0.5 + hx, x0, sx, gx)
                for ky in range(ky0, ky1 + 1):
                    for kx in range(kx0, kx1 + 1):
                        c = head[ky * gx + kx]
                        while c >= 0:
                            iw = max(min(fb[c, 2], bx2) - max(fb[c, 0], bx1), 0.0)
                            ih = max(min(fb[c, 3], by2) - max(fb[c, 1], by1), 0.0)
                            inter = iw * ih
                            iou = inter / (fb[c, 4] + barea - inter)
                            take = iou > best_iou or (iou == best_iou and best >= 0 and c < best)
                            best = c if take else best
                            best_iou = iou if take else best_iou
                            c = nxt[c]
            s = key[p]
            if best < 0:  # a new cluster: its row is the box itself, in float64
                c = k_clusters
                k_clusters += 1
                fb[c, 0] = bx1
                fb[c, 1] = by1
                fb[c, 2] = bx2
                fb[c, 3] = by2
                fb[c, 4] = barea
                acc[c, 0] = np.float32(s * bx1)
                acc[c, 1] = np.float32(s * by1)
                acc[c, 2] = np.float32(s * bx2)
                acc[c, 3] = np.float32(s * by2)
                plain[c, 0] = bx1
                plain[c, 1] = by1
                plain[c, 2] = bx2
                plain[c, 3] = by2
                csum[c] = s
                cmax[c] = s
                cw[c] = weights[model[b]]
                cnt[c] = 1
                if conf_type >= 2:
                    cluster_of[b] = count + c
                if not small:
                    k = _cell((by1 + by2) * 0.5, y0, sy, gy) * gx + _cell((bx1 + bx2) * 0.5, x0, sx, gx)
                    cell[c] = k
                    prv[c] = -1
                    nxt[c] = head[k]
                    if head[k] >= 0:
                        prv[head[k]] = c
                    head[k] = c
                continue
            c = best
            acc[c, 0] = np.float32(np.float64(acc[c, 0]) + s * bx1)
            acc[c, 1] = np.float32(np.float64(acc[c, 1]) + s * by1)
            acc[c, 2] = np.float32(np.float64(acc[c, 2]) + s * bx2)
            acc[c, 3] = np.float32(np.float64(acc[c, 3]) + s * by2)
            plain[c, 0] += bx1
            plain[c, 1] += by1
            plain[c, 2] += bx2
            plain[c, 3] += by2
            csum[c] += s
            cmax[c] = max(cmax[c], s)
            cw[c] += weights[model[b]]
            cnt[c] += 1
            if conf_type >= 2:
                cluster_of[b] = count + c
            if csum[c] != 0.0:
                for d in range(4):
                    fb[c, d] = np.float64(np.float32(np.float64(acc[c, d]) / csum[c]))
            else:  # every member has weighted score 0: the plain mean (ensemble-boxes: 0/0)
                for d in range(4):
                    fb[c, d] = np.float64(np.float32(plain[c, d] / cnt[c]))
            fb[c, 4] = (fb[c, 2] - fb[c, 0]) * (fb[c, 3] - fb[c, 1])
            if small:
                continue
            ky = _cell((fb[c, 1] + fb[c, 3]) * 0.5, y0, sy, gy)
            k = ky * gx + _cell((fb[c, 0] + fb[c, 2]) * 0.5, x0, sx, gx)
            if k != cell[c]:  # the fused box moved to another cell: unlink, then link there
                if prv[c] >= 0:
                    nxt[prv[c]] = nxt[c]
                else:
                    head[cell[c]] = nxt[c]
                if nxt[c] >= 0:
                    prv[nxt[c]] = prv[c]
                cell[c] = k
                prv[c] = -1
                nxt[c] = head[k]
                if head[k] >= 0:
                    prv[head[k]] = c
                head[k] = c
        for c in range(k_clusters):
            if cnt[c] == 1:
                score = csum[c]  # the box's ws and weight, as set when it made the cluster
                weight = cw[c]
            else:
                score = cmax[c] if conf_type == 1 else csum[c] / cnt[c]
                score = np.float64(np.float32(score))
                weight = np.float64(np.float32(cw[c]))
            for d in range(4):
                out_box[count + c, d] = fb[c, d]
            if conf_type == 0:  # ensemble-boxes' rescaling, operation for operation
                score = score * np.float64(cnt[c] if overflow else min(n_models, cnt[c])) / wdiv
            elif conf_type == 1:
                score = score / wdiv
            else:  # rescaled by the caller
                out_weight[count + c] = weight
                out_count[count + c] = cnt[c]
            out_score[count + c] = score
        ncl[j] = k_clusters


# --------------------------------------------------------------------------- non-maximum weighted


@kernel(chunked=True)
def nmw(jlo, jhi, boxes, ws, order, gstart, gorder, slot, cap, thr, inv_t, out_box, out_score, ncl):
    """Non-maximum weighted of the groups ``gorder[jlo:jhi]``.

    Arguments and outputs as for ``wbf`` (ws = score x weight / max weight). A box joins the cluster whose
    first (highest-scoring) box it overlaps most, with IoU > thr; the fused box is the float32
    mean of the members weighted by ws x IoU with that first box; the score is the first box's
    ws, rounded to float32.

    One pass over each group: a box is added to its cluster's sums as soon as it is placed
    (members in join order, as ensemble-boxes accumulates them). Each cluster's first box is
    kept in a row of ``lead`` (x1, y1, x2, y2, area), read contiguously by the search; groups
    of at most ``_SMALL`` boxes, and any group while it has at most ``_SMALL`` clusters, scan
    their clusters in creation order without a grid.
    """
    key, kbuf = np.empty(cap), np.empty(cap)  # the group's ws, sorted
    idx, ibuf = np.empty(cap, np.int64), np.empty(cap, np.int64)  # and box indices
    lb = np.empty((cap, 4))  # and boxes (those of a group with a grid)
    head = np.empty(cap + 1, np.int64)
    nxt = np.empty(cap, np.int64)
    lead = np.empty((cap, 5))
    lws = np.empty(cap)  # the first box's ws
    acc = np.empty((cap, 4), np.float32)
    conf = np.empty(cap)
    x0 = y0 = sx = sy = max_w = max_h = 0.0
    gx = gy = 1
    for j in range(jlo, jhi):
        g = gorder[j]
        lo = gstart[g]
        hi = gstart[g + 1]
        count = slot[j]
        n = hi - lo
        # the group by decreasing ws, then index (``sort_groups``' order): order[lo:hi] is by index,
        # so the insertion sort (what sort_pairs does on 16 or fewer) puts an equal ws after
        for p in range(n):
            v = order[lo + p]
            kv = ws[v]
            i = p - 1
            if n <= 16:
                while i >= 0 and key[i] < kv:
                    key[i + 1] = key[i]
                    idx[i + 1] = idx[i]
                    i -= 1
            key[i + 1] = kv
            idx[i + 1] = v
        if n > 16:
            sort_pairs(key, idx, 0, n, kbuf, ibuf)
        if n > _SMALL:  # the grid's boxes, read contiguously
            for p in range(n):
                for d in range(4):
                    lb[p, d] = boxes[idx[p], d]
        small = n <= _SMALL
        if not small:
            x0, y0, sx, sy, gx, gy, max_w, max_h, _ = _grid(lb, n)
            for k in range(gx * gy):
                head[k] = -1
        k_clusters = 0
        for p in range(n):
            b = idx[p]
            bx1 = boxes[b, 0]
            by1 = boxes[b, 1]
            bx2 = boxes[b, 2]
            by2 = boxes[b, 3]
            barea = (bx2 - bx1) * (by2 - by1)
            # the cluster of highest IoU > thr (best_iou; best = -1 when none), see _SEARCH
            best = -1
            best_iou = thr
            if small or k_clusters <= _SMALL:
                for c in range(k_clusters):
                    iw = max(min(lead[c, 2], bx2) - max(lead[c, 0], bx1), 0.0)
                    ih = max(min(lead[c, 3], by2) - max(lead[c, 1], by1), 0.0)
                    inter = iw * ih
                    iou = inter / (lead[c, 4] + barea - inter)
                    take = iou > best_iou
                    best = c if take else best
                    best_iou = iou if take else best_iou
            else:
                hx = _half_window(bx2 - bx1, max_w, inv_t) + _SLACK * (abs(bx1) + abs(bx2))
                hy = _half_window(by2 - by1, max_h, inv_t) + _SLACK * (abs(by1) + abs(by2))
                ky0 = _cell((by1 + by2) * 0.5 - hy, y0, sy, gy)
                ky1 = _cell((by1 + by2) * 0.5 + hy, y0, sy, gy)
                kx0 = _cell((bx1 + bx2) * 0.5 - hx, x0, sx, gx)
                kx1 = _cell((bx1 + bx2) * 0.5 + hx, x0, sx, gx)
                for ky in range(ky0, ky1 + 1):
                    for kx in range(kx0, kx1 + 1):
                        c = head[ky * gx + kx]
                        while c >= 0:
                            iw = max(min(lead[c, 2], bx2) - max(lead[c, 0], bx1), 0.0)
                            ih = max(min(lead[c, 3], by2) - max(lead[c, 1], by1), 0.0)
                            inter = iw * ih
                            iou = inter / (lead[c, 4] + barea - inter)
                            take = iou > best_iou or (iou == best_iou and best >= 0 and c < best)
                            best = c if take else best
                            best_iou = iou if take else best_iou
                            c = nxt[c]
            s = key[p]
            if best < 0:  # a new cluster, led by this box
                best = k_clusters
                k_clusters += 1
                lead[best, 0] = bx1
                lead[best, 1] = by1
                lead[best, 2] = bx2
                lead[best, 3] = by2
                lead[best, 4] = barea
                lws[best] = s
                for d in range(4):
                    acc[best, d] = np.float32(0.0)
                conf[best] = 0.0
                if not small:
                    k = _cell((by1 + by2) * 0.5, y0, sy, gy) * gx + _cell((bx1 + bx2) * 0.5, x0, sx, gx)
                    nxt[best] = head[k]
                    head[k] = best
                # IoU with itself: inter = area, area + area - area = area exactly, so 1.0
                best_iou = 1.0
            w = s * best_iou  # the IoU is symmetric, bit for bit
            if lws[best] == 0.0:  # all weighted scores 0: weight by IoU alone (ensemble-boxes: 0/0)
                w = best_iou
            acc[best, 0] = np.float32(np.float64(acc[best, 0]) + w * bx1)
            acc[best, 1] = np.float32(np.float64(acc[best, 1]) + w * by1)
            acc[best, 2] = np.float32(np.float64(acc[best, 2]) + w * bx2)
            acc[best, 3] = np.float32(np.float64(acc[best, 3]) + w * by2)
            conf[best] += w
        for c in range(k_clusters):
            for d in range(4):
                out_box[count + c, d] = np.float64(np.float32(np.float64(acc[c, d]) / conf[c]))
            out_score[count + c] = np.float64(np.float32(lws[c]))
        ncl[j] = k_clusters


# --------------------------------------------------------------------------- soft-NMS (ensemble-boxes)


@kernel()
def soft_nms_swap(boxes, ws, order, gstart, method, iou_thr, sigma, thresh, keep, new_scores):
    """ensemble-boxes' Soft-NMS of every group (boxes in input order); returns the number kept.

    At step i the box at position i is swapped with the first box of highest current score
    after it, if that score is strictly higher; then every box after position i is decayed by
    its IoU with box i: method 1 linear (``1 - iou`` where iou > iou_thr), 2 gaussian
    (``exp(-iou^2 / sigma)``), 3 hard (0 where iou > iou_thr). Kept: positions whose final
    score is > thresh, in position order; ``new_scores`` gets those final scores.
    """
    count = 0
    n = boxes.shape[0]
    perm = np.empty(n, np.int64)
    cur = np.empty(n)
    area = np.empty(n)
    for g in range(gstart.shape[0] - 1):
        lo = gstart[g]
        hi = gstart[g + 1]
        for p in range(lo, hi):
            b = order[p]
            perm[p] = b
            cur[p] = ws[b]
            area[p] = (boxes[b, 2] - boxes[b, 0]) * (boxes[b, 3] - boxes[b, 1])
        for i in range(lo, hi):
            if i + 1 < hi:
                top = i + 1
                for k in range(i + 2, hi):
                    if cur[k] > cur[top]:
                        top = k
                if cur[i] < cur[top]:
                    perm[i], perm[top] = perm[top], perm[i]
                    cur[i], cur[top] = cur[top], cur[i]
                    area[i], area[top] = area[top], area[i]
            a = perm[i]
            for k in range(i + 1, hi):
                b = perm[k]
                iw = min(boxes[a, 2], boxes[b, 2]) - max(boxes[a, 0], boxes[b, 0])
                ih = min(boxes[a, 3], boxes[b, 3]) - max(boxes[a, 1], boxes[b, 1])
                if iw <= 0.0 or ih <= 0.0:
                    continue  # IoU 0: weight exactly 1 under every method
                inter = iw * ih
                ovr = inter / (area[i] + area[k] - inter)
                if method == 2:
                    cur[k] = np.exp(-(ovr * ovr) / sigma) * cur[k]
                elif ovr > iou_thr:
                    cur[k] = (1.0 - ovr) * cur[k] if method == 1 else 0.0 * cur[k]
        for p in range(lo, hi):
            if cur[p] > thresh:
                keep[count] = perm[p]
                new_scores[count] = cur[p]
                count += 1
    return count
