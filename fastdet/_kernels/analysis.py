"""Numba kernels for error analysis: TIDE (tidecv 1.0.1 semantics) and the detection confusion matrix.

Layout shared by the kernels: rows are grouped by image (CSR offsets, image
``i`` owns rows ``off[i]:off[i + 1]``). Detections of an image are already
sorted (and truncated) by the wrapper. Pairwise overlaps of one image are a
dense row-major block of ``iou`` starting at ``iou_off[i - i0]``, for the
images ``i0 <= i < i1`` of one chunk. The matching kernels read only these
blocks, so a segmentation IoU can replace the box IoU kernels later.

TIDE codes: detection state 0 false positive, 1 true positive, 2 ignored (in
a crowd region); error 0 Cls, 1 Loc, 2 Both, 3 Dupe, 4 Bkg, -1 none.
"""

from __future__ import annotations

import numpy as np

from fastdet._kernels import kernel

FP = 0
TP = 1
IGNORED = 2

CLS = 0
LOC = 1
BOTH = 2
DUPE = 3
BKG = 4


# ------------------------------------------------------------------ TIDE


@kernel()
def coco_box_iou_blocks(dt_box, dt_off, gt_box, gt_crowd, gt_off, i0, i1, iou_off, out):
    """pycocotools' bbox IoU (``maskApi.c`` ``bbIou``) of every (detection, ground truth) pair per image.

    dt_box (N, 4) and gt_box (M, 4) are xywh float64; gt_crowd (M,) int64: 1 gives
    intersection / detection area. Image ``i`` writes an (nd, ng) block at
    ``out[iou_off[i - i0]:]``.
    """
    for i in range(i0, i1):
        d0 = dt_off[i]
        g0 = gt_off[i]
        g1 = gt_off[i + 1]
        ng = g1 - g0
        pos = iou_off[i - i0]
        for d in range(d0, dt_off[i + 1]):
            dx = dt_box[d, 0]
            dy = dt_box[d, 1]
            dw = dt_box[d, 2]
            dh = dt_box[d, 3]
            da = dw * dh
            for g in range(g0, g1):
                gx = gt_box[g, 0]
                gy = gt_box[g, 1]
                gw = gt_box[g, 2]
                gh = gt_box[g, 3]
                val = 0.0
                w = min(dw + dx, gw + gx) - max(dx, gx)
                if w > 0.0:
                    h = min(dh + dy, gh + gy) - max(dy, gy)
                    if h > 0.0:
                        inter = w * h
                        union = da if gt_crowd[g] != 0 else da + gw * gh - inter
                        if union > 0.0:  # only an underflowed area can make it 0
                            val = inter / union
                out[pos + (d - d0) * ng + (g - g0)] = val


@kernel()
def tide_match(
    iou,
    iou_off,
    i0,
    i1,
    dt_off,
    dt_cls,
    dt_score,
    gt_off,
    n_real,
    gt_cls,
    pos_thr,
    bg_thr,
    dt_state,
    dt_err,
    dt_gt,
    dt_fix,
    gt_used,
    gt_usable,
    gt_best,
    gt_best_score,
):
    """Match detections to ground truth and classify every non-true-positive, image by image (tidecv).

    Per image, the first ``n_real[i]`` ground-truth rows are ordinary boxes and
    the rest crowd regions (``gt_cls == -1``: a region of any class). Outputs
    per detection: state, error code, the ground truth the error refers to (the
    match for a true positive) and whether fixing the error turns it into a true
    positive; per ground truth: matched, "usable" (a Cls/Loc error points at it
    while unmatched) and the best such detection. ``gt_best_score`` starts at -1.
    """
    for i in range(i0, i1):
        d0 = dt_off[i]
        nd = dt_off[i + 1] - d0
        g0 = gt_off[i]
        ng = gt_off[i + 1] - g0
        nr = n_real[i]
        base = iou_off[i - i0]
        # greedy matching in score order: the best remaining same-class IoU, >= pos_thr
        for p in range(nd):
            d = d0 + p
            dt_state[d] = FP
            dt_err[d] = -1
            dt_gt[d] = -1
            dt_fix[d] = 0
            row = base + p * ng
            best = 0
            best_v = -1.0
            for g in range(nr):
                v = iou[row + g]
                if gt_cls[g0 + g] != dt_cls[d] or gt_used[g0 + g] != 0:
                    v = 0.0
                if v > best_v:
                    best_v = v
                    best = g
            if nr > 0 and best_v >= pos_thr:
                dt_state[d] = TP
                dt_gt[d] = g0 + best
                gt_used[g0 + best] = 1
        # crowd regions ignore unmatched detections of their class (IoA > pos_thr, strictly)
        for r in range(nr, ng):
            rc = gt_cls[g0 + r]
            for p in range(nd):
                d = d0 + p
                if dt_state[d] != TP and iou[base + p * ng + r] > pos_thr and (rc == -1 or rc == dt_cls[d]):
                    dt_state[d] = IGNORED
        # the error of every other detection, tested in tidecv's order
        for p in range(nd):
            d = d0 + p
            if dt_state[d] == TP:
                continue
            if nr == 0:
                dt_err[d] = BKG
                continue
            row = base + p * ng
            c = dt_cls[d]
            # argmax (first maximum) of four masked rows: same class, other class, same class and used, any
            a_i = 0
            a_v = -1.0
            b_i = 0
            b_v = -1.0
            u_i = 0
            u_v = -1.0
            o_v = -1.0
            for g in range(nr):
                v = iou[row + g]
                same = gt_cls[g0 + g] == c
                va = v if same else 0.0
                vb = 0.0 if same else v
                vu = v if same and gt_used[g0 + g] != 0 else 0.0
                if va > a_v:
                    a_v = va
                    a_i = g
                if vb > b_v:
                    b_v = vb
                    b_i = g
                if vu > u_v:
                    u_v = vu
                    u_i = g
                if v > o_v:
                    o_v = v
            target = -1
            if bg_thr <= a_v <= pos_thr:
                dt_err[d] = LOC
                target = a_i
            elif b_v >= pos_thr:
                dt_err[d] = CLS
                target = b_i
            elif u_v >= pos_thr:
                dt_err[d] = DUPE
                dt_gt[d] = g0 + u_i
            elif o_v <= bg_thr:
                dt_err[d] = BKG
            else:
                dt_err[d] = BOTH
            if target >= 0:
                g = g0 + target
                dt_gt[d] = g
                if gt_used[g] == 0:  # tidecv's BestGTMatch: the highest score (first on ties) wins
                    gt_usable[g] = 1
                    if gt_best_score[g] < dt_score[d]:
                        gt_best_score[g] = dt_score[d]
                        gt_best[g] = d
        for p in range(nd):
            d = d0 + p
            if dt_err[d] == CLS or dt_err[d] == LOC:
                g = dt_gt[d]
                if gt_used[g] == 0 and gt_best[g] == d:
                    dt_fix[d] = 1


@kernel()
def false_first_in_ties(order, score, tp, out):
    """``order`` (by descending score) with the false positives first inside each run of equal scores.

    The order tidecv's fixed APs sort in: it re-inserts the errors before the
    true positives, and its sort is stable. Within a run the order is kept.
    """
    n = order.shape[0]
    start = 0
    k = 0
    while start < n:
        end = start + 1
        while end < n and score[order[end]] == score[order[start]]:
            end += 1
        for flag in range(2):
            for j in range(start, end):
                if tp[order[j]] == flag:
                    out[k] = order[j]
                    k += 1
        start = end


@kernel()
def tide_map(point_cls, point_tp, gt_count, in_k, class_ap):
    """tidecv's mAP of one set of data points: mean over the classes of ``in_k`` that are not empty.

    The points (N,) come in visiting order (descending score, ties in insertion
    order); point_cls is the class of each point (-1: not a data point) and
    point_tp 1 for a true positive. A class with points or ground truth counts;
    its AP is 0 without ground truth, else the 101-point sum over recall
    ``k / 100`` of the right-to-left maximum of precision at the first point
    reaching that recall, / 101 * 100. Writes class_ap (C,) (NaN for classes not
    counted) and returns the mean (0 when no class counts).
    """
    n_cls = gt_count.shape[0]
    start = np.zeros(n_cls + 1, np.int64)
    for j in range(point_cls.shape[0]):
        if point_cls[j] >= 0:
            start[point_cls[j] + 1] += 1
    for c in range(n_cls):
        start[c + 1] += start[c]
    fill = start[:n_cls].copy()
    tp_seq = np.empty(start[n_cls], np.int64)
    for j in range(point_cls.shape[0]):
        c = point_cls[j]
        if c >= 0:
            tp_seq[fill[c]] = point_tp[j]
            fill[c] += 1
    prec = np.empty(start[n_cls], np.float64)
    total = 0.0
    counted = 0
    for c in range(n_cls):
        s0 = start[c]
        n = start[c + 1] - s0
        n_gt = gt_count[c]
        class_ap[c] = np.nan
        if in_k[c] == 0 or (n == 0 and n_gt == 0):
            continue
        counted += 1
        ap = 0.0
        if n_gt != 0:
            n_true = 0
            for j in range(n):
                n_true += tp_seq[s0 + j]
                prec[s0 + j] = n_true / (j + 1)
            for j in range(n - 1, 0, -1):
                if prec[s0 + j] > prec[s0 + j - 1]:
                    prec[s0 + j - 1] = prec[s0 + j]
            # first point whose recall reaches k / 100 (recall never decreases along the points)
            acc = 0.0
            j = 0
            n_true = tp_seq[s0] if n > 0 else 0
            for k in range(101):
                x = k / 100
                while j < n and n_true / n_gt < x:
                    j += 1
                    if j < n:
                        n_true += tp_seq[s0 + j]
                if j < n:
                    acc += prec[s0 + j]
            ap = acc / 101 * 100
        class_ap[c] = ap
        total += ap
    if counted == 0:
        return 0.0
    return total / counted


@kernel()
def tide_fixed_maps(f_cls, f_tp, f_err, f_fix, f_fixed_cls, gt_count, in_k, out):
    """The mAP after fixing every error of one main type, for the types 0..4 (Cls .. Bkg).

    All (N,) int64 in the fixed APs' visiting order: f_cls the class of each
    data point (-1: none), f_tp 1 for a true positive, f_err its error type (-1:
    none), f_fix 1 when the fix makes it a true positive of class f_fixed_cls
    (else the fix removes it). out (5,) float64 receives ``tide_map`` of each.
    """
    n = f_cls.shape[0]
    cls = np.empty(n, np.int64)
    tp = np.empty(n, np.int64)
    class_ap = np.empty(gt_count.shape[0], np.float64)
    for code in range(5):
        for j in range(n):
            if f_err[j] != code:
                cls[j] = f_cls[j]
                tp[j] = f_tp[j]
            elif f_fix[j] == 1:
                cls[j] = f_fixed_cls[j]
                tp[j] = 1
            else:
                cls[j] = -1
                tp[j] = f_tp[j]
        out[code] = tide_map(cls, tp, gt_count, in_k, class_ap)


# ------------------------------------------------------------------ confusion matrix


@kernel()
def xyxy_iou_blocks(gt_box, gt_off, dt_box, dt_off, i0, i1, round_f32, iou_off, out):
    """IoU of every (ground truth, detection) pair per image, supervision's ``box_iou_batch`` arithmetic.

    Boxes are xyxy float64. Image ``i`` writes an (ng, nd) block at
    ``out[iou_off[i - i0]:]``; 0 where the union is not positive. With
    ``round_f32`` the IoU is rounded to float32 (supervision's result dtype).
    """
    for i in range(i0, i1):
        g0 = gt_off[i]
        d0 = dt_off[i]
        d1 = dt_off[i + 1]
        nd = d1 - d0
        pos = iou_off[i - i0]
        for g in range(g0, gt_off[i + 1]):
            ga = (gt_box[g, 2] - gt_box[g, 0]) * (gt_box[g, 3] - gt_box[g, 1])
            for d in range(d0, d1):
                w = min(gt_box[g, 2], dt_box[d, 2]) - max(gt_box[g, 0], dt_box[d, 0])
                h = min(gt_box[g, 3], dt_box[d, 3]) - max(gt_box[g, 1], dt_box[d, 1])
                inter = max(w, 0.0) * max(h, 0.0)
                union = ga + (dt_box[d, 2] - dt_box[d, 0]) * (dt_box[d, 3] - dt_box[d, 1]) - inter
                v = inter / union if union > 0.0 else 0.0
                if round_f32:
                    v = np.float64(np.float32(v))
                out[pos + (g - g0) * nd + (d - d0)] = v


@kernel()
def _merge_by_key(idx, lo, mid, hi, same, val, buf):
    """Stable merge of idx[lo:mid] and idx[mid:hi], each sorted by (same desc, val desc)."""
    a = lo
    b = mid
    k = lo
    while a < mid and b < hi:
        x = idx[a]
        y = idx[b]
        take_b = same[y] > same[x] or (same[y] == same[x] and val[y] > val[x])
        if take_b:
            buf[k] = y
            b += 1
        else:
            buf[k] = x
            a += 1
        k += 1
    while a < mid:
        buf[k] = idx[a]
        a += 1
        k += 1
    while b < hi:
        buf[k] = idx[b]
        b += 1
        k += 1
    for k in range(lo, hi):
        idx[k] = buf[k]


@kernel()
def confusion_match(iou, iou_off, i0, i1, gt_off, gt_cls, dt_off, dt_cls, iou_thr, n_classes, matrix):
    """Add the (C + 1, C + 1) confusion counts of images i0..i1-1 to ``matrix`` (supervision's rule).

    Rows are true classes, columns predicted ones, index ``n_classes`` the
    background. Candidate pairs have IoU > iou_thr; they are taken greedily,
    same-class pairs first, then by descending IoU, ties in (ground truth,
    detection) order, each box at most once. Unmatched ground truth counts as
    (class, background), unmatched detections as (background, class).
    """
    for i in range(i0, i1):
        g0 = gt_off[i]
        ng = gt_off[i + 1] - g0
        d0 = dt_off[i]
        nd = dt_off[i + 1] - d0
        pos = iou_off[i - i0]
        n_cand = 0
        for j in range(ng * nd):
            if iou[pos + j] > iou_thr:
                n_cand += 1
        idx = np.empty(n_cand, np.int64)  # flat (g * nd + d) positions, row-major = tie order
        same = np.empty(ng * nd if n_cand > 0 else 0, np.int64)
        k = 0
        for j in range(ng * nd):
            if iou[pos + j] > iou_thr:
                idx[k] = j
                same[j] = 1 if gt_cls[g0 + j // nd] == dt_cls[d0 + j % nd] else 0
                k += 1
        # bottom-up merge sort (stable), keys read through the flat position
        val = iou[pos : pos + ng * nd]
        buf = np.empty(n_cand, np.int64)
        width = 1
        while width < n_cand:
            lo = 0
            while lo < n_cand - width:
                mid = lo + width
                hi = min(lo + 2 * width, n_cand)
                _merge_by_key(idx, lo, mid, hi, same, val, buf)
                lo += 2 * width
            width *= 2
        gt_taken = np.zeros(ng, np.uint8)
        dt_taken = np.zeros(nd, np.uint8)
        for k in range(n_cand):
            g = idx[k] // nd
            d = idx[k] % nd
            if gt_taken[g] == 0 and dt_taken[d] == 0:
                gt_taken[g] = 1
                dt_taken[d] = 1
                matrix[gt_cls[g0 + g], dt_cls[d0 + d]] += 1
        for g in range(ng):
            if gt_taken[g] == 0:
                matrix[gt_cls[g0 + g], n_classes] += 1
        for d in range(nd):
            if dt_taken[d] == 0:
                matrix[n_classes, dt_cls[d0 + d]] += 1
