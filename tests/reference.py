"""Naive, obviously-correct references for every fastdet kernel: plain loops, no vectorisation tricks.

Each section mirrors one package module; tests compare the Numba kernels with these.
"""

from __future__ import annotations

import math
import struct
from typing import Any

import numpy as np

# ======================================================================
# boxes: Naive, obviously-correct box references: one pair at a time, in Python floats.
# ======================================================================


# torchvision.ops' formulas, written out pair by pair. Where torch divides 0 by 0 (an empty union,
# the aspect ratio w / h of an empty box) it gets NaN; fastdet defines 0 / 0 as 0 (DESIGN.md), and
# that one rule, in ``_div``, is the only departure from torch here. Every other division follows
# IEEE arithmetic as torch does (w / 0 = inf, so an empty-height box has the angle atan(inf) = pi/2).
# tests/test_golden.py checks this against torch's recorded outputs for degenerate boxes.


def _div(num, den):
    """``num / den`` in IEEE float64 (x / 0 = +-inf), except 0 / 0 = 0."""
    if den == 0:
        return 0.0 if num == 0 else math.copysign(math.inf, num) * math.copysign(1.0, den)
    return num / den


def _inter_union(a, b):
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    return inter, (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter


def iou_pair(a, b):
    """IoU of two xyxy boxes (torchvision's ``box_iou``); 0 when the union is 0."""
    inter, union = _inter_union(a, b)
    return _div(inter, union)


def giou_pair(a, b):
    """``generalized_box_iou``: IoU - (hull - union) / hull."""
    inter, union = _inter_union(a, b)
    hull = (max(a[2], b[2]) - min(a[0], b[0])) * (max(a[3], b[3]) - min(a[1], b[1]))
    return _div(inter, union) - _div(hull - union, hull)


def diou_pair(a, b, eps=1e-7):
    """``distance_box_iou``: IoU - (centre distance)**2 / (hull diagonal**2 + eps)."""
    diag2 = (max(a[2], b[2]) - min(a[0], b[0])) ** 2 + (max(a[3], b[3]) - min(a[1], b[1])) ** 2 + eps
    centre2 = ((a[0] + a[2]) / 2 - (b[0] + b[2]) / 2) ** 2 + ((a[1] + a[3]) / 2 - (b[1] + b[3]) / 2) ** 2
    return iou_pair(a, b) - _div(centre2, diag2)


def _angle(w, h):
    """``torch.atan(w / h)``: pi/2 for an empty height (w / 0 = inf), 0 for an empty box (0 / 0)."""
    return math.atan(_div(w, h))


def ciou_pair(a, b, eps=1e-7):
    """``complete_box_iou``: DIoU - alpha * v, v = 4 / pi**2 * (atan(w1 / h1) - atan(w2 / h2))**2."""
    iou = iou_pair(a, b)
    v = 4 / math.pi**2 * (_angle(a[2] - a[0], a[3] - a[1]) - _angle(b[2] - b[0], b[3] - b[1])) ** 2
    alpha = _div(v, 1 - iou + v + eps)
    return diou_pair(a, b, eps) - alpha * v


def pairwise(fn, boxes1, boxes2):
    """Apply a pair function to every (i, j) in float64."""
    a = np.asarray(boxes1, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(boxes2, dtype=np.float64).reshape(-1, 4)
    out = np.zeros((len(a), len(b)))
    for i in range(len(a)):
        for j in range(len(b)):
            out[i, j] = fn(a[i].tolist(), b[j].tolist())
    return out


def box_convert(boxes, in_fmt, out_fmt):
    rows = []
    for x in np.asarray(boxes, dtype=np.float64).reshape(-1, 4).tolist():
        if in_fmt == "xywh":
            x1, y1, x2, y2 = x[0], x[1], x[0] + x[2], x[1] + x[3]
        elif in_fmt == "cxcywh":
            x1, y1, x2, y2 = x[0] - x[2] / 2, x[1] - x[3] / 2, x[0] + x[2] / 2, x[1] + x[3] / 2
        else:
            x1, y1, x2, y2 = x
        if out_fmt == "xywh":
            rows.append([x1, y1, x2 - x1, y2 - y1])
        elif out_fmt == "cxcywh":
            rows.append([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1])
        else:
            rows.append([x1, y1, x2, y2])
    return np.array(rows, dtype=np.float64).reshape(-1, 4)


# ======================================================================
# nms: Naive NMS references: plain Python loops over boxes, no sweep, no vectorisation.
# ======================================================================


def working_dtype(*arrays):
    """float32 when every input is a float32 array, else float64 (DESIGN.md)."""
    if all(np.asarray(a).dtype == np.float32 for a in arrays):
        return np.float32
    return np.float64


def iou(a, b, dtype):
    """IoU of two xyxy boxes computed step by step in ``dtype`` (a numpy scalar)."""
    ax1, ay1, ax2, ay2 = (dtype(v) for v in a)
    bx1, by1, bx2, by2 = (dtype(v) for v in b)
    area_a = (ax2 - ax1) * (ay2 - ay1)
    area_b = (bx2 - bx1) * (by2 - by1)
    w = max(dtype(0), min(ax2, bx2) - max(ax1, bx1))
    h = max(dtype(0), min(ay2, by2) - max(ay1, by1))
    inter = w * h
    union = area_a + area_b - inter
    if not 0 < union < np.inf:  # zero union, or an area that overflowed
        return dtype(0)
    return inter / union


def descending(scores):
    """Indices by decreasing score, ties by lower index (Python's sort is stable)."""
    return sorted(range(len(scores)), key=lambda i: -float(scores[i]))


def nms(boxes, scores, iou_threshold):
    """Greedy NMS: keep a box unless a kept box overlaps it with IoU > threshold."""
    boxes = np.asarray(boxes)
    scores = np.asarray(scores)
    dtype = working_dtype(boxes, scores)
    keep = []
    for i in descending(scores):
        if all(float(iou(boxes[k], boxes[i], dtype)) <= iou_threshold for k in keep):
            keep.append(i)
    return np.array(keep, dtype=np.int64)


def batched_nms(boxes, scores, idxs, iou_threshold):
    """NMS within each category, merged by decreasing score (ties: lower index)."""
    boxes = np.asarray(boxes)
    scores = np.asarray(scores)
    dtype = working_dtype(boxes, scores)
    keep = []
    for i in descending(scores):
        if all(idxs[k] != idxs[i] or float(iou(boxes[k], boxes[i], dtype)) <= iou_threshold for k in keep):
            keep.append(i)
    return np.array(keep, dtype=np.int64)


def soft_nms(boxes, scores, method="gaussian", sigma=0.5, iou_threshold=0.3, score_threshold=0.001):
    """Soft-NMS as in DESIGN.md: select the best remaining box, decay the others, drop low scores."""
    boxes = np.asarray(boxes)
    scores = np.asarray(scores)
    dtype = working_dtype(boxes, scores)
    cur = {i: dtype(scores[i]) for i in range(len(scores)) if dtype(scores[i]) >= score_threshold}
    keep, kept_scores = [], []
    while cur:
        best = min(cur, key=lambda i: (-float(cur[i]), i))
        keep.append(best)
        kept_scores.append(cur.pop(best))
        for j in list(cur):
            o = float(iou(boxes[best], boxes[j], dtype))
            if method == "gaussian":
                weight = math.exp(-(o * o) / sigma)
            elif method == "linear":
                weight = 1.0 - o if o > iou_threshold else 1.0
            else:
                weight = 0.0 if o > iou_threshold else 1.0
            cur[j] = dtype(float(cur[j]) * weight)
            if cur[j] < score_threshold:
                del cur[j]
    return np.array(keep, dtype=np.int64), np.array(kept_scores, dtype=dtype)


def multiclass_nms(
    boxes, scores, score_threshold=0.05, iou_threshold=0.5, max_detections=100, class_agnostic=False
):
    """Candidates (box, class) with score > threshold, NMS per class, top max_detections."""
    boxes = np.asarray(boxes)
    scores = np.asarray(scores)
    dtype = working_dtype(boxes, scores)
    n, c = scores.shape
    cand = []  # (box, score, label) in (box index, class index) order
    for i in range(n):
        for k in range(c):
            if scores[i, k] > score_threshold:
                box = boxes[i, k] if boxes.ndim == 3 else boxes[i]
                cand.append((np.asarray(box, dtype), dtype(scores[i, k]), k))
    if not cand:
        return np.empty((0, 4), dtype), np.empty(0, dtype), np.empty(0, np.int64)
    cb = np.array([x[0] for x in cand], dtype)
    cs = np.array([x[1] for x in cand], dtype)
    cl = np.array([x[2] for x in cand], np.int64)
    groups = np.zeros(len(cand), np.int64) if class_agnostic else cl
    keep = batched_nms(cb, cs, groups, iou_threshold)
    if max_detections is not None:
        keep = keep[:max_detections]
    return cb[keep], cs[keep], cl[keep]


def postprocess_detections(
    predictions,
    score_threshold=0.25,
    iou_threshold=0.45,
    max_detections=300,
    max_candidates=30000,
    class_agnostic=False,
    multi_label=False,
    has_objectness=False,
    box_format="cxcywh",
):
    """One image at a time: convert, filter, cap candidates, NMS per class, cap detections."""
    pred = np.asarray(predictions)
    dtype = np.float32 if pred.dtype == np.float32 else np.float64
    pred = pred.astype(dtype)
    first = 5 if has_objectness else 4
    out = []
    for image in pred:
        cand = []  # (box xyxy, score, class) in (prediction, class) order
        for row in image:
            a, b, c, d = row[:4]
            if box_format == "xyxy":
                box = [a, b, c, d]
            elif box_format == "xywh":
                box = [a, b, a + c, b + d]
            else:
                box = [a - c / dtype(2), b - d / dtype(2), a + c / dtype(2), b + d / dtype(2)]
            obj = row[4] if has_objectness else None
            conf = [row[k] * obj if has_objectness else row[k] for k in range(first, len(row))]
            if obj is not None and not obj > score_threshold:
                continue
            if multi_label:
                picks = [k for k in range(len(conf)) if conf[k] > score_threshold]
            else:
                best = max(range(len(conf)), key=lambda k: (conf[k], -k))
                picks = [best] if conf[best] > score_threshold else []
            for k in picks:
                cand.append((box, dtype(conf[k]), k))
        order = descending([x[1] for x in cand])
        if max_candidates is not None:
            order = order[:max_candidates]
        cand = [cand[i] for i in order]
        if not cand:
            out.append(np.empty((0, 6), dtype))
            continue
        cb = np.array([x[0] for x in cand], dtype)
        cs = np.array([x[1] for x in cand], dtype)
        cl = np.array([x[2] for x in cand], np.int64)
        groups = np.zeros(len(cand), np.int64) if class_agnostic else cl
        keep = batched_nms(cb, cs, groups, iou_threshold)
        if max_detections is not None:
            keep = keep[:max_detections]
        res = np.empty((len(keep), 6), dtype)
        res[:, :4] = cb[keep]
        res[:, 4] = cs[keep]
        res[:, 5] = cl[keep]
        out.append(res)
    return out


# ======================================================================
# coco: Naive COCO bbox evaluation: plain Python loops, one (image, category) at a time.
# ======================================================================


TP, FP, IGNORED = "tp", "fp", "ignored"


def box_iou_xywh(d: list[float], g: list[float], crowd: bool) -> float:
    """IoU of two xywh boxes; for a crowd ground truth, intersection / detection area."""
    w = min(d[0] + d[2], g[0] + g[2]) - max(d[0], g[0])
    if w <= 0:
        return 0.0
    h = min(d[1] + d[3], g[1] + g[3]) - max(d[1], g[1])
    if h <= 0:
        return 0.0
    inter = w * h
    det_area = d[2] * d[3]
    union = det_area if crowd else det_area + g[2] * g[3] - inter
    return inter / union


def match_image(
    gts: list[dict[str, Any]],
    dts: list[dict[str, Any]],
    area_rng: tuple[float, float],
    thr: float,
    pair_iou: Any = None,
) -> list[str]:
    """Status of each detection (already sorted by score, truncated) at one IoU threshold.

    ``pair_iou(d, g, crowd)`` (default: :func:`box_iou_xywh` of the ``bbox`` fields) gives the IoU.
    """
    lo, hi = area_rng
    ignored = [bool(g["iscrowd"]) or g["area"] < lo or g["area"] > hi for g in gts]
    # regular ground truths are tried before ignored ones (stable)
    gorder = [i for i in range(len(gts)) if not ignored[i]] + [i for i in range(len(gts)) if ignored[i]]
    taken = [False] * len(gts)
    out = []
    for d in dts:
        best, hit = min(thr, 1 - 1e-10), None
        for g in gorder:
            crowd = int(gts[g]["iscrowd"]) != 0
            if taken[g] and not crowd:
                continue
            if hit is not None and not ignored[hit] and ignored[g]:
                break
            if pair_iou is None:
                iou = box_iou_xywh(d["bbox"], gts[g]["bbox"], crowd)
            else:
                iou = pair_iou(d, gts[g], crowd)
            if iou < best:
                continue
            best, hit = iou, g
        outside = d["area"] < lo or d["area"] > hi
        if hit is None:
            out.append(IGNORED if outside else FP)
            continue
        taken[hit] = d["id"] > 0
        if ignored[hit]:
            out.append(IGNORED)
        elif gts[hit]["id"] != 0:
            out.append(TP)
        else:
            out.append(IGNORED if outside else FP)
    return out


def evaluate(
    gt: dict[str, Any],
    results: list[dict[str, Any]],
    *,
    iou_thrs: list[float],
    rec_thrs: list[float],
    max_dets: list[int],
    area_rngs: list[tuple[float, float]],
    use_cats: bool = True,
    pair_iou: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(precision [T, R, K, A, M], recall [T, K, A, M]) over every image of ``gt``.

    ``pair_iou``: see :func:`match_image` (the mask IoU for segm).
    """
    img_ids = sorted({img["id"] for img in gt["images"]})
    cat_ids = sorted({c["id"] for c in gt["categories"]})
    max_dets = sorted(max_dets)
    groups = [[c] for c in cat_ids] if use_cats else [cat_ids]
    T, R, K, A, M = len(iou_thrs), len(rec_thrs), len(groups), len(area_rngs), len(max_dets)
    precision = -np.ones((T, R, K, A, M))
    recall = -np.ones((T, K, A, M))
    for k, cats in enumerate(groups):
        for a, rng in enumerate(area_rngs):
            for m, max_det in enumerate(max_dets):
                n_pos = 0
                entries: list[tuple[float, list[str]]] = []  # (score, status per threshold), image order
                for img in img_ids:
                    gts = [
                        g
                        for c in cats
                        for g in gt["annotations"]
                        if g["image_id"] == img and g["category_id"] == c
                    ]
                    dts = [d for c in cats for d in results if d["image_id"] == img and d["category_id"] == c]
                    dts = sorted(dts, key=lambda d: -d["score"])[: max_dets[-1]]  # sorted() is stable
                    lo, hi = rng
                    n_pos += sum(1 for g in gts if not (g["iscrowd"] or g["area"] < lo or g["area"] > hi))
                    per_t = [match_image(gts, dts, rng, t, pair_iou) for t in iou_thrs]
                    for i, d in enumerate(dts[:max_det]):
                        entries.append((d["score"], [per_t[t][i] for t in range(T)]))
                if n_pos == 0:
                    continue
                entries.sort(key=lambda e: -e[0])
                for t in range(T):
                    tp = fp = 0.0
                    rc, pr = [], []
                    for _, status in entries:
                        tp += status[t] == TP
                        fp += status[t] == FP
                        rc.append(tp / n_pos)
                        pr.append(tp / (fp + tp + np.spacing(1)))
                    recall[t, k, a, m] = rc[-1] if entries else 0.0
                    for i in range(len(pr) - 2, -1, -1):  # precision envelope
                        pr[i] = max(pr[i], pr[i + 1])
                    for r, x in enumerate(rec_thrs):
                        i = next((i for i, v in enumerate(rc) if v >= x), len(rc))
                        precision[t, r, k, a, m] = pr[i] if i < len(rc) else 0.0
    return precision, recall


# ======================================================================
# metrics: Naive, obviously-correct references for fastdet.voc, fastdet.metrics and fastdet.losses.
# ======================================================================


# The ranking references (weighted, any labels) are in the last section of this file.


# --------------------------------------------------------------------------- confusion family


def confusion_matrix(y_true, y_pred, labels=None):
    if labels is None:
        labels = sorted(set(int(v) for v in y_true) | set(int(v) for v in y_pred))
    index = {lab: i for i, lab in enumerate(labels)}
    out = np.zeros((len(labels), len(labels)), np.int64)
    for t, p in zip(y_true, y_pred, strict=True):
        if int(t) in index and int(p) in index:
            out[index[int(t)], index[int(p)]] += 1
    return out


def encode_labels(y_true, y_pred):
    """Codes of two string label arrays: the index of each value among the sorted distinct values."""
    classes = sorted(set(y_true) | set(y_pred))
    index = {v: i for i, v in enumerate(classes)}
    return [index[v] for v in y_true], [index[v] for v in y_pred], classes


def first_seen_numbers(values):
    """Number the distinct values in order of first sight; return (numbers, first index of each)."""
    seen = {}
    firsts = []
    numbers = []
    for i, v in enumerate(values):
        if v not in seen:
            seen[v] = len(firsts)
            firsts.append(i)
        numbers.append(seen[v])
    return numbers, firsts


# --------------------------------------------------------------------------- voc


def voc_ap(recall, precision, use_07_metric=False):
    recall = [float(r) for r in recall]
    precision = [float(p) for p in precision]
    if use_07_metric:
        ap = 0.0
        for k in range(11):
            t = np.arange(0.0, 1.1, 0.1)[k]  # the devkit's points (0.30000000000000004, ...)
            candidates = [p for r, p in zip(recall, precision, strict=True) if r >= t]
            ap += (max(candidates) if candidates else 0.0) / 11.0
        return ap
    mrec = [0.0, *recall, 1.0]
    mpre = [0.0, *precision, 0.0]
    for i in range(len(mpre) - 2, -1, -1):
        mpre[i] = max(mpre[i], mpre[i + 1])
    return sum((mrec[i + 1] - mrec[i]) * mpre[i + 1] for i in range(len(mrec) - 1))


def box_iou_offset(a, b, offset):
    iw = min(a[2], b[2]) - max(a[0], b[0]) + offset
    ih = min(a[3], b[3]) - max(a[1], b[1]) + offset
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    union = (
        (a[2] - a[0] + offset) * (a[3] - a[1] + offset)
        + (b[2] - b[0] + offset) * (b[3] - b[1] + offset)
        - inter
    )
    return inter / union if union > 0 else 0.0


def voc_evaluate(gt, dt, iou_threshold=0.5, use_07_metric=False, pixel_offset=0):
    """Per-label (ap, precision, recall) with the devkit's matching, as plain loops."""
    labels = {g["label"] for g in gt} | {d["label"] for d in dt}
    out = {}
    for label in labels:
        gts = [g for g in gt if g["label"] == label]
        npos = sum(1 for g in gts if not g.get("difficult", False))
        dets = [d for d in dt if d["label"] == label]
        dets = sorted(dets, key=lambda d: -d["score"])  # Python's sort is stable
        used = [False] * len(gts)
        tp, fp = [], []
        for d in dets:
            best, best_j = -math.inf, -1
            for j, g in enumerate(gts):
                if g["image_id"] != d["image_id"]:
                    continue
                a, b = d["bbox"], g["bbox"]
                iw = min(a[2], b[2]) - max(a[0], b[0]) + pixel_offset
                ih = min(a[3], b[3]) - max(a[1], b[1]) + pixel_offset
                if iw <= 0 or ih <= 0:
                    continue  # VOCevaldet.m: a box it does not overlap is no candidate (even at threshold 0)
                iou = box_iou_offset(a, b, pixel_offset)
                if iou > best:
                    best, best_j = iou, j
            if best_j >= 0 and best >= iou_threshold:
                if gts[best_j].get("difficult", False):
                    tp.append(0)
                    fp.append(0)
                elif not used[best_j]:
                    used[best_j] = True
                    tp.append(1)
                    fp.append(0)
                else:
                    tp.append(0)
                    fp.append(1)
            else:
                tp.append(0)
                fp.append(1)
        ctp = np.cumsum(tp, dtype=float)
        cfp = np.cumsum(fp, dtype=float)
        precision = np.array([t / max(t + f, np.finfo(float).eps) for t, f in zip(ctp, cfp, strict=True)])
        if npos == 0:
            out[label] = (math.nan, precision, np.full(len(ctp), math.nan))
            continue
        recall = ctp / npos
        out[label] = (voc_ap(recall, precision, use_07_metric), precision, recall)
    return out


# --------------------------------------------------------------------------- losses


def l1_loss(x, y):
    return np.array([abs(a - b) for a, b in zip(np.ravel(x), np.ravel(y), strict=True)]).reshape(np.shape(x))


def mse_loss(x, y):
    return np.array([(a - b) ** 2 for a, b in zip(np.ravel(x), np.ravel(y), strict=True)]).reshape(
        np.shape(x)
    )


def smooth_l1_loss(x, y, beta):
    out = []
    for a, b in zip(np.ravel(x), np.ravel(y), strict=True):
        z = abs(a - b)
        out.append(0.5 * z * z / beta if z < beta else z - 0.5 * beta)
    return np.array(out).reshape(np.shape(x))


def bce_with_logits(x, t):
    """-(t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))), written to avoid overflow."""
    out = []
    for a, b in zip(np.ravel(x), np.ravel(t), strict=True):
        # log sigmoid(a) = -log(1 + exp(-a)); log(1 - sigmoid(a)) = -a + log sigmoid(a)
        log_sig = -math.log1p(math.exp(-a)) if a >= 0 else a - math.log1p(math.exp(a))
        out.append(-(b * log_sig + (1 - b) * (log_sig - a)))
    return np.array(out).reshape(np.shape(x))


def sigmoid_focal_loss(x, t, alpha, gamma):
    ce = bce_with_logits(x, t).ravel()
    out = []
    for a, b, c in zip(np.ravel(x), np.ravel(t), ce, strict=True):
        p = 1.0 / (1.0 + math.exp(-a)) if a >= 0 else math.exp(a) / (1.0 + math.exp(a))
        p_t = p * b + (1 - p) * (1 - b)
        loss = c * (1 - p_t) ** gamma
        if alpha >= 0:
            loss *= alpha * b + (1 - alpha) * (1 - b)
        out.append(loss)
    return np.array(out).reshape(np.shape(x))


# ======================================================================
# arch: Naive references for fastdet.arch: obvious loops, written independently of the kernels.
# ======================================================================


def window_starts(size, k, s, p, d, ceil_mode):
    """Left ends (in padded coordinates) of the windows along one axis, by enumeration."""
    length = size + 2 * p
    eff = d * (k - 1) + 1
    starts = []
    o = 0
    while True:
        start = o * s
        fits = start + eff <= length
        if ceil_mode:
            # a partial window is kept while the previous one did not reach the end
            # (the first one: while the kernel exceeds the padded input by less than
            # the stride, PyTorch's ceil(span / stride) + 1 >= 1) and it starts inside
            # the input or the left padding
            keep = fits or ((o - 1) * s + eff < length and start - p < size)
        else:
            keep = fits
        if not keep:
            break
        starts.append(start)
        o += 1
    return starts


def conv2d(x, w, b, stride, padding, dilation, groups):
    """Zero-padded cross-correlation by loops over output elements; returns (out, taps)."""
    n, c_in, h, wd = x.shape
    c_out, cin_g, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    xp = np.zeros((n, c_in, h + 2 * ph, wd + 2 * pw))
    xp[:, :, ph : ph + h, pw : pw + wd] = x
    rows = window_starts(h, kh, sh, ph, dh, False)
    cols = window_starts(wd, kw, sw, pw, dw, False)
    out = np.zeros((n, c_out, len(rows), len(cols)))
    cout_g = c_out // groups
    taps = 0
    for i in range(n):
        for oc in range(c_out):
            g = oc // cout_g
            for a, r0 in enumerate(rows):
                for bb, c0 in enumerate(cols):
                    acc = 0.0 if b is None else float(b[oc])
                    for ic in range(cin_g):
                        for u in range(kh):
                            for v in range(kw):
                                acc += w[oc, ic, u, v] * xp[i, g * cin_g + ic, r0 + u * dh, c0 + v * dw]
                                taps += 1
                    out[i, oc, a, bb] = acc
    return out, taps


def _pool(x, kernel, stride, padding, dilation, ceil_mode, reduce):
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    rows = window_starts(h, kh, sh, ph, dh, ceil_mode)
    cols = window_starts(w, kw, sw, pw, dw, ceil_mode)
    out = np.zeros((n, c, len(rows), len(cols)))
    reads = 0
    for i in range(n):
        for ch in range(c):
            for a, r0 in enumerate(rows):
                for bb, c0 in enumerate(cols):
                    values = []
                    in_padded = 0  # taps inside the padded input (for count_include_pad)
                    for u in range(kh):
                        for v in range(kw):
                            r = r0 + u * dh - ph
                            q = c0 + v * dw - pw
                            if -ph <= r < h + ph and -pw <= q < w + pw:
                                in_padded += 1
                            if 0 <= r < h and 0 <= q < w:
                                values.append(x[i, ch, r, q])
                    reads += len(values)
                    out[i, ch, a, bb] = reduce(values, in_padded)
    return out, reads


def max_pool2d(x, kernel, stride, padding, dilation, ceil_mode):
    """Max over the input elements of each window (padding ignored); returns (out, reads)."""
    return _pool(x, kernel, stride, padding, dilation, ceil_mode, lambda v, _: max(v, default=-np.inf))


def avg_pool2d(x, kernel, stride, padding, ceil_mode, count_include_pad):
    """PyTorch-style average pooling (no dilation); returns (out, reads)."""

    def mean(values, in_padded):
        divisor = in_padded if count_include_pad else len(values)
        return sum(values) / divisor

    return _pool(x, kernel, stride, padding, (1, 1), ceil_mode, mean)


def field_1d(layers, unit=0):
    """Input indices (a set) that feed output ``unit`` of a 1-D stack, by backward propagation.

    ``layers`` holds ``(k, s, p, d)`` tuples and ``("res", main, shortcut)``
    entries whose branches are lists of the same form. Padding positions
    (negative or past the end) are kept: this is the theoretical field.
    """
    return _back(list(layers), {unit})


def _back(layers, units):
    for layer in reversed(layers):
        if layer[0] == "res":
            _, main, shortcut = layer
            units = _back(list(main), units) | _back(list(shortcut), units)
        else:
            k, s, p, d = layer
            units = {o * s - p + t * d for o in units for t in range(k)}
    return units


def rf_1d(layers):
    """(size, jump, start) of a 1-D stack from the index sets of units 0 and 1."""
    f0 = field_1d(layers, 0)
    f1 = field_1d(layers, 1)
    c0 = (min(f0) + max(f0)) / 2
    c1 = (min(f1) + max(f1)) / 2
    return max(f0) - min(f0) + 1, c1 - c0, c0


# ======================================================================
# analysis: TIDE as tidecv 1.0.1 computes it (Bolya et al., ECCV 2020), and the
# detection confusion matrix as supervision 0.31 counts it. Plain dicts and loops.
# ======================================================================

TIDE_MAIN = ("Cls", "Loc", "Both", "Dupe", "Bkg", "Miss")


def coco_bbox_iou(d, g, crowd):
    """pycocotools' bbIou of two xywh boxes (crowd: intersection over the detection's area)."""
    w = min(d[0] + d[2], g[0] + g[2]) - max(d[0], g[0])
    if w <= 0:
        return 0.0
    h = min(d[1] + d[3], g[1] + g[3]) - max(d[1], g[1])
    if h <= 0:
        return 0.0
    inter = w * h
    union = d[2] * d[3] if crowd else d[2] * d[3] + g[2] * g[3] - inter
    return inter / union if union > 0 else 0.0


def _first_argmax(values):
    best = 0
    for j, v in enumerate(values):
        if v > values[best]:
            best = j
    return best


def tide_ap(points, n_gt):
    """tidecv's AP of one class: points are (score, is_tp) in insertion order."""
    if n_gt == 0:
        return 0.0
    points = sorted(points, key=lambda p: -p[0])  # stable: ties keep insertion order
    prec, rec, n_true = [], [], 0
    for j, (_, is_tp) in enumerate(points):
        n_true += 1 if is_tp else 0
        prec.append(n_true / (j + 1))
        rec.append(n_true / n_gt)
    for j in range(len(prec) - 1, 0, -1):
        prec[j - 1] = max(prec[j - 1], prec[j])
    total = 0.0
    for k in range(101):
        x = k / 100
        first = next((j for j, r in enumerate(rec) if r >= x), None)
        total += prec[first] if first is not None else 0.0
    return total / 101 * 100


def tide_map(points, gt_count, classes):
    """Mean AP over ``classes`` that have a point or ground truth; points are (class, score, is_tp)."""
    aps = []
    for c in classes:
        pts = [(s, t) for (k, s, t) in points if k == c]
        if pts or gt_count.get(c, 0):
            aps.append(tide_ap(pts, gt_count.get(c, 0)))
    return sum(aps) / len(aps) if aps else 0.0


def tide(images, gts, dts, pos=0.5, bg=0.1, max_dets=100):
    """TIDE's AP, main and special dAP and error counts, written from tidecv's rules.

    images: image ids in order; gts: dicts with image_id, category_id, bbox (xywh),
    iscrowd; dts: dicts with image_id, category_id, bbox, score.
    """
    base = []  # (class, score, is_tp) in insertion order: image, then descending score
    errors = []  # in tidecv's order: image, then descending score
    gt_count, matched_count, missed_count = {}, {}, {}
    classes = []
    for img in images:
        real = [g for g in gts if g["image_id"] == img and not g.get("iscrowd", 0)]
        crowd = [g for g in gts if g["image_id"] == img and g.get("iscrowd", 0)]
        preds = sorted((d for d in dts if d["image_id"] == img), key=lambda d: -d["score"])[:max_dets]
        for g in real:
            gt_count[g["category_id"]] = gt_count.get(g["category_id"], 0) + 1
            classes.append(g["category_id"])
        # matching: each prediction takes the unmatched same-class box of highest IoU, if >= pos
        iou = [[coco_bbox_iou(d["bbox"], g["bbox"], False) for g in real] for d in preds]
        used = [False] * len(real)
        state = ["fp"] * len(preds)
        for p, d in enumerate(preds):
            row = [
                iou[p][j] if real[j]["category_id"] == d["category_id"] and not used[j] else 0.0
                for j in range(len(real))
            ]
            if row and row[_first_argmax(row)] >= pos:
                used[_first_argmax(row)] = True
                state[p] = "tp"
        for r in crowd:
            for p, d in enumerate(preds):
                if (
                    state[p] != "tp"
                    and coco_bbox_iou(d["bbox"], r["bbox"], True) > pos
                    and r["category_id"] in (d["category_id"], -1)
                ):
                    state[p] = "ignored"
        for p, d in enumerate(preds):
            if state[p] != "ignored":
                base.append((d["category_id"], d["score"], state[p] == "tp"))
                classes.append(d["category_id"])
        # errors of the predictions that are not true positives
        image_errors = []
        usable = [False] * len(real)
        best = [None] * len(real)  # the first (highest-scoring) Cls/Loc candidate of an unmatched box
        for p, d in enumerate(preds):
            if state[p] == "tp":
                continue
            e = {"p": p, "cls": d["category_id"], "score": d["score"], "ignored": state[p] == "ignored"}
            if not real:
                e["type"] = "Bkg"
            else:
                same = [
                    iou[p][j] if real[j]["category_id"] == d["category_id"] else 0.0 for j in range(len(real))
                ]
                other = [
                    iou[p][j] if real[j]["category_id"] != d["category_id"] else 0.0 for j in range(len(real))
                ]
                dupe = [same[j] if used[j] else 0.0 for j in range(len(real))]
                a, b, u = _first_argmax(same), _first_argmax(other), _first_argmax(dupe)
                if bg <= same[a] <= pos:
                    e["type"], e["gt"], e["fixed_cls"] = "Loc", a, d["category_id"]
                elif other[b] >= pos:
                    e["type"], e["gt"], e["fixed_cls"] = "Cls", b, real[b]["category_id"]
                elif dupe[u] >= pos:
                    e["type"] = "Dupe"
                elif max(iou[p]) <= bg:
                    e["type"] = "Bkg"
                else:
                    e["type"] = "Both"
                if "gt" in e and not used[e["gt"]]:
                    usable[e["gt"]] = True
                    if best[e["gt"]] is None and d["score"] > -1:
                        best[e["gt"]] = p
            image_errors.append(e)
        for e in image_errors:
            e["fixable"] = "gt" in e and not used[e["gt"]] and best[e["gt"]] == e["p"]
        errors += image_errors
        for j, g in enumerate(real):
            c = g["category_id"]
            if used[j]:
                matched_count[c] = matched_count.get(c, 0) + 1
            elif not usable[j]:
                missed_count[c] = missed_count.get(c, 0) + 1
    classes = list(dict.fromkeys(classes))
    ap = tide_map(base, gt_count, classes)
    tps = [pt for pt in base if pt[2]]

    def fixed(kind=None, rescore=False, counts=gt_count):
        pts = []  # tidecv re-inserts the errors first, then the true positives
        for e in errors:
            if e["type"] == kind:
                if e["fixable"]:
                    pts.append((e["fixed_cls"], e["score"], True))
            elif not e["ignored"]:
                pts.append((e["cls"], e["score"], False))
        pts += tps
        if rescore:
            pts = [(c, 1.0 if t else 0.0, t) for (c, s, t) in pts]
        return tide_map(pts, counts, classes)

    main = {k: max(fixed(k) - ap, 0.0) for k in TIDE_MAIN[:5]}
    main["Miss"] = max(fixed(counts={c: n - missed_count.get(c, 0) for c, n in gt_count.items()}) - ap, 0.0)
    special = {
        "FalsePos": fixed(rescore=True) - ap,
        "FalseNeg": fixed(counts={c: matched_count.get(c, 0) for c in gt_count}) - ap,
    }
    counts = {k: sum(1 for e in errors if e["type"] == k) for k in TIDE_MAIN[:5]}
    counts["Miss"] = sum(missed_count.values())
    return {"ap": ap, "main": main, "special": special, "counts": counts}


def detection_confusion_matrix(
    gt_boxes, gt_labels, dt_boxes, dt_scores, dt_labels, n_classes, iou_thr, score_thr
):
    """supervision's greedy rule, one image at a time (xyxy boxes, float64 IoU)."""
    m = np.zeros((n_classes + 1, n_classes + 1), dtype=np.int64)
    for gb, gl, db, ds, dl in zip(gt_boxes, gt_labels, dt_boxes, dt_scores, dt_labels, strict=True):
        keep = [j for j in range(len(ds)) if ds[j] >= score_thr]
        pairs = []
        for i in range(len(gb)):
            for j in keep:
                v = iou_pair(gb[i], db[j])
                if v > iou_thr:
                    pairs.append((0 if gl[i] == dl[j] else 1, -v, i, j))
        pairs.sort()  # same class first, then higher IoU, then (gt, det) order
        g_used, d_used = set(), set()
        for _, _, i, j in pairs:
            if i not in g_used and j not in d_used:
                g_used.add(i)
                d_used.add(j)
                m[int(gl[i]), int(dl[j])] += 1
        for i in range(len(gb)):
            if i not in g_used:
                m[int(gl[i]), n_classes] += 1
        for j in keep:
            if j not in d_used:
                m[n_classes, int(dl[j])] += 1
    return m


# ======================================================================
# metrics with scikit-learn's signatures: labels of any kind, pos_label, sample_weight, several classes
# ======================================================================


def float_sort_key(x):
    """The unsigned 64-bit key whose order is the float order of ``x`` (-0.0 as +0.0), as an int."""
    bits = struct.unpack("<Q", struct.pack("<d", float(x) + 0.0))[0]
    return bits ^ 0xFFFFFFFFFFFFFFFF if bits >> 63 else bits | (1 << 63)


def stable_sort_pairs(keys, values):
    """(keys, values) sorted by key, equal keys in input order (Python's sort is stable)."""
    order = sorted(range(len(keys)), key=lambda i: int(keys[i]))
    return [int(keys[i]) for i in order], [values[i] for i in order]


def weighted_threshold_sums(positive, y_score, weights=None):
    """Distinct scores (descending) of the samples with non-zero weight, and for each the
    total weight of the positives / negatives scoring at least that much (exactly rounded sums)."""
    if weights is None:
        weights = [1.0] * len(y_score)
    kept = [
        (bool(p), float(s), float(w)) for p, s, w in zip(positive, y_score, weights, strict=True) if w != 0
    ]
    thresholds = sorted({s for _, s, _ in kept}, reverse=True)
    tps = [math.fsum(w for p, s, w in kept if p and s >= t) for t in thresholds]
    fps = [math.fsum(w for p, s, w in kept if not p and s >= t) for t in thresholds]
    return np.array(thresholds), np.array(tps), np.array(fps)


def weighted_roc_curve(positive, y_score, weights=None, drop_intermediate=True):
    thresholds, tps, fps = weighted_threshold_sums(positive, y_score, weights)
    keep = list(range(len(thresholds)))
    if drop_intermediate and len(thresholds) > 2:
        keep = [0]
        for i in range(1, len(thresholds) - 1):
            if fps[i + 1] - 2 * fps[i] + fps[i - 1] != 0 or tps[i + 1] - 2 * tps[i] + tps[i - 1] != 0:
                keep.append(i)
        keep.append(len(thresholds) - 1)
    tp = [0.0] + [tps[i] for i in keep]
    fp = [0.0] + [fps[i] for i in keep]
    thr = [math.inf] + [thresholds[i] for i in keep]
    fpr = [f / fp[-1] if fp[-1] > 0 else math.nan for f in fp]
    tpr = [t / tp[-1] if tp[-1] > 0 else math.nan for t in tp]
    return np.array(fpr), np.array(tpr), np.array(thr)


def weighted_roc_auc(positive, y_score, weights=None):
    """Weighted Mann-Whitney: sum over (positive i, negative j) of w_i w_j ([s_i > s_j] + [s_i == s_j] / 2),
    over the product of the total weights (nan when a class is missing)."""
    if weights is None:
        weights = [1.0] * len(y_score)
    pos = [(s, w) for p, s, w in zip(positive, y_score, weights, strict=True) if p]
    neg = [(s, w) for p, s, w in zip(positive, y_score, weights, strict=True) if not p]
    if not pos or not neg:
        return math.nan
    w_pos, w_neg = math.fsum(w for _, w in pos), math.fsum(w for _, w in neg)
    if w_pos <= 0 or w_neg <= 0:  # no weight left in a class: the rates are 0/0
        return math.nan
    total = math.fsum(wa * wb * (1.0 if a > b else 0.5 if a == b else 0.0) for a, wa in pos for b, wb in neg)
    return total / (w_pos * w_neg)


def partial_roc_auc(positive, y_score, max_fpr, weights=None):
    """McClish-standardized area under the ROC curve for fpr in [0, max_fpr]: the curve's
    segments are integrated one by one, the one crossing max_fpr cut by linear interpolation."""
    fpr, tpr, _ = weighted_roc_curve(positive, y_score, weights, drop_intermediate=False)
    area = 0.0
    for i in range(1, len(fpr)):
        x0, x1, y0, y1 = fpr[i - 1], fpr[i], tpr[i - 1], tpr[i]
        if x0 >= max_fpr:
            break
        if x1 > max_fpr:
            y1 = y0 + (y1 - y0) * (max_fpr - x0) / (x1 - x0)
            x1 = max_fpr
        area += (x1 - x0) * (y0 + y1) / 2
    lo, hi = max_fpr**2 / 2, max_fpr
    return 0.5 * (1 + (area - lo) / (hi - lo))


def weighted_precision_recall_curve(positive, y_score, weights=None):
    thresholds, tps, fps = weighted_threshold_sums(positive, y_score, weights)
    precision = [t / (t + f) if t + f != 0 else 0.0 for t, f in zip(tps, fps, strict=True)]
    recall = [t / tps[-1] if tps[-1] != 0 else 1.0 for t in tps]
    return (
        np.array([*precision[::-1], 1.0]),
        np.array([*recall[::-1], 0.0]),
        np.array(list(thresholds[::-1])),
    )


def weighted_average_precision(positive, y_score, weights=None):
    """sum_k (R_k - R_{k-1}) P_k over the distinct thresholds in decreasing order."""
    _, tps, fps = weighted_threshold_sums(positive, y_score, weights)
    ap, prev = 0.0, 0.0
    for t, f in zip(tps, fps, strict=True):
        recall = t / tps[-1] if tps[-1] != 0 else 1.0
        ap += (recall - prev) * (t / (t + f) if t + f != 0 else 0.0)
        prev = recall
    return max(0.0, ap)


def average_columns(metric, indicator, scores, average, weights=None):
    """A binary metric per column (per row for "samples") of an indicator matrix, then averaged."""
    indicator, scores = np.asarray(indicator), np.asarray(scores)
    n, k = indicator.shape
    w = [1.0] * n if weights is None else [float(v) for v in weights]
    if average == "micro":
        flat_w = [w[i] for i in range(n) for _ in range(k)]
        return metric(indicator.ravel().tolist(), scores.ravel().tolist(), flat_w)
    if average == "samples":
        per = [metric(indicator[i].tolist(), scores[i].tolist(), None) for i in range(n)]
        return math.fsum(p * wi for p, wi in zip(per, w, strict=True)) / math.fsum(w)
    per = [metric(indicator[:, c].tolist(), scores[:, c].tolist(), w) for c in range(k)]
    if average is None:
        return np.array(per)
    if average == "macro":
        return sum(per) / k
    support = [math.fsum(w[i] for i in range(n) if indicator[i, c]) for c in range(k)]
    if math.fsum(support) == 0:
        return 0.0
    return math.fsum(p * s for p, s in zip(per, support, strict=True) if s != 0) / math.fsum(support)


def ovo_roc_auc(codes, scores, average="macro"):
    """Hand & Till (2001): mean over class pairs (a, b) of (AUC(a vs b) + AUC(b vs a)) / 2."""
    present = sorted(set(int(c) for c in codes))
    pairs, weights = [], []
    for ia, a in enumerate(present):
        for b in present[ia + 1 :]:
            rows = [i for i, c in enumerate(codes) if c in (a, b)]
            auc_a = weighted_roc_auc([codes[i] == a for i in rows], [scores[i][a] for i in rows])
            auc_b = weighted_roc_auc([codes[i] == b for i in rows], [scores[i][b] for i in rows])
            pairs.append((auc_a + auc_b) / 2)
            weights.append(len(rows) / len(codes))
    if average == "weighted":
        return math.fsum(p * w for p, w in zip(pairs, weights, strict=True)) / math.fsum(weights)
    return sum(pairs) / len(pairs)


def class_pair_twice_areas(codes, scores, k):
    """areas[j][b] = 2 U of class j against class b on column j (ties count one), for classes
    j != b that both have samples; 0 elsewhere."""
    areas = [[0] * k for _ in range(k)]
    for j in range(k):
        for b in range(k):
            if b == j:
                continue
            for x in [scores[i][j] for i in range(len(codes)) if codes[i] == j]:
                for y in [scores[i][j] for i in range(len(codes)) if codes[i] == b]:
                    areas[j][b] += 2 if y < x else (1 if y == x else 0)
    return areas


def weighted_confusion_matrix(y_true, y_pred, labels=None, weights=None):
    """Labels of any hashable, sortable kind; samples with a label outside ``labels`` are skipped."""
    if labels is None:
        labels = sorted(set(y_true) | set(y_pred))
    if weights is None:
        weights = [1] * len(y_true)
    index = {lab: i for i, lab in enumerate(labels)}
    cells = {}
    for t, p, w in zip(y_true, y_pred, weights, strict=True):
        if t in index and p in index:
            cells.setdefault((index[t], index[p]), []).append(w)
    out = np.zeros((len(labels), len(labels)), np.float64)
    for (i, j), ws in cells.items():
        out[i, j] = math.fsum(ws)
    return out


def weighted_precision_recall_f1(y_true, y_pred, labels, weights=None, zero_division=0.0):
    """Per-label (precision, recall, F1) arrays from weighted TP / FP / FN sums."""
    if weights is None:
        weights = [1.0] * len(y_true)
    rows = []
    for lab in labels:
        tp = math.fsum(w for t, p, w in zip(y_true, y_pred, weights, strict=True) if t == lab and p == lab)
        fp = math.fsum(w for t, p, w in zip(y_true, y_pred, weights, strict=True) if t != lab and p == lab)
        fn = math.fsum(w for t, p, w in zip(y_true, y_pred, weights, strict=True) if t == lab and p != lab)
        rows.append(
            (
                tp / (tp + fp) if tp + fp != 0 else zero_division,
                tp / (tp + fn) if tp + fn != 0 else zero_division,
                2 * tp / (2 * tp + fp + fn) if 2 * tp + fp + fn != 0 else zero_division,
            )
        )
    return [np.array(col, dtype=float) for col in zip(*rows, strict=True)]


# ======================================================================
# mask: naive references for fastdet.mask / fastdet._rle: decode to pixels and count,
# and plain-Python versions of pycocotools' string coding and polygon rasteriser.
# ======================================================================


def rle_encode(mask):
    """Runs of a 2-D 0/1 mask in column-major order, starting with background."""
    pixels = [int(v != 0) for v in np.asarray(mask).flatten(order="F")]
    runs, value, count = [], 0, 0
    for p in pixels:
        if p != value:
            runs.append(count)
            value, count = p, 0
        count += 1
    runs.append(count)
    return runs


def rle_decode(runs, h, w):
    """The (h, w) uint8 mask of ``runs`` (they must add up to h * w)."""
    pixels, value = [], 0
    for r in runs:
        pixels.extend([value] * int(r))
        value = 1 - value
    assert len(pixels) == h * w
    return np.array(pixels, dtype=np.uint8).reshape((h, w), order="F")


def rle_to_string(runs):
    """pycocotools' rleToString: deltas against the run two back (from the fourth run), 5 bits a byte."""
    out = bytearray()
    for i, r in enumerate(runs):
        x = int(r) - (int(runs[i - 2]) if i > 2 else 0)
        while True:
            c = x & 0x1F
            x >>= 5  # Python's >> is arithmetic, as C's on a signed long
            more = x != -1 if c & 0x10 else x != 0
            out.append(48 + (c | 0x20 if more else c))
            if not more:
                break
    return bytes(out)


def rle_from_string(s):
    """Inverse of :func:`rle_to_string`."""
    runs, p = [], 0
    while p < len(s):
        x, k = 0, 0
        while True:
            c = s[p] - 48
            x |= (c & 0x1F) << (5 * k)
            p += 1
            k += 1
            if not c & 0x20:
                if c & 0x10:
                    x -= 1 << (5 * k)
                break
        if len(runs) > 2:
            x += runs[-2]
        runs.append(x)
    return runs


def canonical_runs(runs, h, w):
    """The runs of the same pixels without empty runs (but a leading 0 when pixel 0 is set)."""
    return rle_encode(rle_decode(runs, h, w))


def rle_area(runs, h, w):
    return int(rle_decode(runs, h, w).sum())


def rle_bbox(runs, h, w):
    """[x, y, w, h] of the foreground pixels; rleToBbox's zeros for fewer than 2 runs, and its
    unsigned wrap-around (x = w, y = h, sides 1 - w and 1 - h mod 2**32) when no pixel is set."""
    mask = rle_decode(runs, h, w)
    if len(runs) < 2:
        return [0.0, 0.0, 0.0, 0.0]
    if not mask.any():
        return [float(w), float(h), float((1 - w) % 2**32), float((1 - h) % 2**32)]
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return [float(cols[0]), float(rows[0]), float(cols[-1] - cols[0] + 1), float(rows[-1] - rows[0] + 1)]


def mask_iou(d, g, crowd):
    """IoU of two equal-size 0/1 masks: |d & g| / |d | g|, or / |d| when crowd; 0 when disjoint.

    pycocotools' rleIou gives this for runs without empty runs after the first; on
    other runs its walk may stop early (tests compare those with pycocotools itself).
    """
    inter = int(np.logical_and(d, g).sum())
    if inter == 0:
        return 0.0
    union = int(d.sum()) if crowd else int(np.logical_or(d, g).sum())
    return inter / union


def ann_mask(seg, h, w):
    """COCO's annToMask by pixels: the union of the polygon parts, or the decoded RLE (its own size)."""
    if isinstance(seg, list):
        m = np.zeros((h, w), np.uint8)
        for part in seg:
            m |= rle_decode(poly_to_runs([float(v) for v in part], h, w), h, w)
        return m
    counts = seg["counts"]
    sh, sw = seg["size"]
    if not isinstance(counts, list):
        counts = rle_from_string(counts.encode() if isinstance(counts, str) else counts)
    return rle_decode(counts, sh, sw)


def segm_pair_iou(d, g, crowd):
    """Mask IoU of two annotations carrying their pixel masks in ``"_mask"`` (see :func:`mask_iou`)."""
    return mask_iou(d["_mask"], g["_mask"], crowd)


def _c_int(v):
    """C's (int) cast of a double: truncation toward zero."""
    return int(v)  # Python's int() truncates toward zero too


def poly_to_runs(xy, h, w):
    """pycocotools' rleFrPoly in plain Python: upsample by 5, walk each edge, keep column crossings.

    Every intermediate list is built in full (no streaming), as in the C original.
    """
    points = sorted(poly_boundary_points(xy, h, w))
    diffs = [points[0]] + [points[j] - points[j - 1] for j in range(1, len(points))]
    runs, j = [diffs[0]], 1
    while j < len(diffs):
        if diffs[j] > 0:
            runs.append(diffs[j])
            j += 1
        else:
            j += 1
            if j < len(diffs):
                runs[-1] += diffs[j]
                j += 1
    return runs


def poly_boundary_points(xy, h, w):
    """The pixel indices rleFrPoly keeps on a polygon's outline, unsorted, with ``h * w`` last."""
    k = len(xy) // 2
    xs = [_c_int(5.0 * xy[2 * j] + 0.5) for j in range(k)]
    ys = [_c_int(5.0 * xy[2 * j + 1] + 0.5) for j in range(k)]
    xs.append(xs[0] if k else 0)
    ys.append(ys[0] if k else 0)
    u, v = [], []
    for j in range(k):
        x0, x1, y0, y1 = xs[j], xs[j + 1], ys[j], ys[j + 1]
        dx, dy = abs(x1 - x0), abs(y0 - y1)
        flip = (dx >= dy and x0 > x1) or (dx < dy and y0 > y1)
        if flip:
            x0, x1, y0, y1 = x1, x0, y1, y0
        if dx >= dy:
            for d in range(dx + 1):
                t = dx - d if flip else d
                u.append(t + x0)
                v.append(_c_int(y0 + (y1 - y0) / dx * t + 0.5) if dx else -(2**31))  # 0/0: (int)NaN
        else:
            for d in range(dy + 1):
                t = dy - d if flip else d
                v.append(t + y0)
                u.append(_c_int(x0 + (x1 - x0) / dy * t + 0.5))
    points = []
    for j in range(1, len(u)):
        if u[j] == u[j - 1]:
            continue
        xd = float(u[j] if u[j] < u[j - 1] else u[j] - 1)
        xd = (xd + 0.5) / 5.0 - 0.5
        if math.floor(xd) != xd or xd < 0 or xd > w - 1:
            continue
        yd = float(min(v[j], v[j - 1]))
        yd = (yd + 0.5) / 5.0 - 0.5
        yd = math.ceil(min(max(yd, 0.0), float(h)))
        points.append(int(xd) * h + int(yd))
    points.append(h * w)
    return points


def merge_walk(runs_list, intersect):
    """pycocotools' rleMerge, step for step: ``(runs, longest)``, with ``runs`` None where its walk stops
    before the image is covered (two inputs at empty runs at once; with a third input it would never
    return); ``longest`` is the most runs one step emitted (pycocotools has room for h * w + 1)."""
    acc = list(runs_list[0])
    total, longest = sum(acc), (len(acc) if len(runs_list) > 1 else 0)  # pycocotools copies the first in
    for other in runs_list[1:]:
        a_runs, b_runs = acc, list(other)
        ca, cb = (a_runs[0] if a_runs else 0), (b_runs[0] if b_runs else 0)
        v = va = vb = False
        a = b = 1
        cc, ct, out = 0, 1, []
        while ct > 0:
            c = min(ca, cb)
            cc += c
            ca -= c
            if ca == 0 and a < len(a_runs):
                ca, a, va = a_runs[a], a + 1, not va
            cb -= c
            if cb == 0 and b < len(b_runs):
                cb, b, vb = b_runs[b], b + 1, not vb
            ct = ca + cb
            vp, v = v, (va and vb) if intersect else (va or vb)
            if v != vp or ct == 0:
                out.append(cc)
                cc = 0
        longest = max(longest, len(out))
        if sum(out) != total:
            return None, longest
        acc = out
    return acc, longest


# ======================================================================
# fusion: Naive ensemble-boxes family (WBF, NMW, multi-model NMS and Soft-NMS), one image, plain
# loops over Python lists. Semantics: ensemble-boxes 1.0.9 as documented in fastdet.fusion
# (float32 rounding of fused boxes included), ties in score by input order.
# ======================================================================


def _f32(x):
    return float(np.float32(x))


def _np_sum(values):
    """A sum in NumPy's order (its pairwise summation), as ensemble-boxes' ``.sum()`` calls."""
    return float(np.array(values, dtype=np.float64).sum()) if values else 0.0


def _eb_boxes(boxes_list, scores_list, labels_list, factor, skip=None):
    """Per label (in order of first appearance): rows (ws, model, [x1, y1, x2, y2]) in input order.

    Corners swapped where reversed, coordinates clipped to [0, 1], zero-area boxes dropped;
    ``skip``: drop scores below it first; ``factor[m]`` multiplies model m's scores.
    """
    groups = {}
    for m in range(len(boxes_list)):
        for j in range(len(boxes_list[m])):
            score = float(scores_list[m][j])
            if skip is not None and score < skip:
                continue
            x1, y1, x2, y2 = (float(v) for v in boxes_list[m][j])
            x1, x2 = min(x1, x2), max(x1, x2)
            y1, y2 = min(y1, y2), max(y1, y2)
            x1, y1, x2, y2 = (min(max(v, 0.0), 1.0) for v in (x1, y1, x2, y2))
            if (x2 - x1) * (y2 - y1) == 0.0:
                continue
            groups.setdefault(int(labels_list[m][j]), []).append((score * factor[m], m, [x1, y1, x2, y2]))
    return groups


def _eb_iou(a, b):
    """IoU as ensemble-boxes computes it (no zero-union case: boxes have positive area)."""
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def _f32_mean(members, weight_of):
    """Box of the members weighted by ``weight_of(member)``: float32 running sums, as ensemble-boxes."""
    acc = [np.float32(0.0)] * 4
    total = 0.0
    for mem in members:
        w = weight_of(mem)
        acc = [np.float32(float(acc[d]) + w * mem[2][d]) for d in range(4)]
        total += w
    return [_f32(float(acc[d]) / total) for d in range(4)]


def _sorted_output(rows):
    """rows (score, label_rank, cluster, box, label) -> arrays by decreasing score, then rank, cluster."""
    rows = sorted(rows, key=lambda r: (-r[0], r[1], r[2]))
    boxes = np.array([r[3] for r in rows], dtype=np.float64).reshape(-1, 4)
    return (
        boxes,
        np.array([r[0] for r in rows], dtype=np.float64),
        np.array([r[4] for r in rows], dtype=np.int64),
    )


def weighted_boxes_fusion(
    boxes_list,
    scores_list,
    labels_list,
    weights=None,
    iou_thr=0.55,
    skip_box_thr=0.0,
    conf_type="avg",
    allows_overflow=False,
):
    """WBF: each box (by decreasing weighted score) joins the cluster whose fused box it overlaps most."""
    n_models = len(boxes_list)
    w = [1.0] * n_models if weights is None else [float(x) for x in weights]
    out = []
    for rank, (label, rows) in enumerate(
        _eb_boxes(boxes_list, scores_list, labels_list, w, skip_box_thr).items()
    ):
        rows = sorted(rows, key=lambda r: -r[0])  # stable: ties keep input order
        clusters = []  # [members, fused box]
        for r in rows:
            best, best_iou = -1, iou_thr
            for c, (_, box) in enumerate(clusters):
                o = _eb_iou(box, r[2])
                if o > best_iou:
                    best, best_iou = c, o
            if best < 0:
                clusters.append([[r], list(r[2])])
                continue
            members = clusters[best][0]
            members.append(r)
            if sum(m[0] for m in members) != 0:
                clusters[best][1] = _f32_mean(members, lambda m: m[0])
            else:  # all weighted scores 0: the plain mean (ensemble-boxes: NaN)
                clusters[best][1] = [_f32(sum(m[2][d] for m in members) / len(members)) for d in range(4)]
        for c, (members, box) in enumerate(clusters):
            n = len(members)
            confs = [m[0] for m in members]
            if n == 1:
                score, wrow = confs[0], w[members[0][1]]
            else:
                total = 0.0
                for x in confs:
                    total += x
                score = _f32(max(confs)) if conf_type == "max" else _f32(total / n)
                wsum = 0.0
                for m in members:
                    wsum += w[m[1]]
                wrow = _f32(wsum)
            present = sorted({m[1] for m in members})
            if conf_type == "box_and_model_avg":
                score = score * n / wrow if wrow != 0 else 0.0
                score = score * _np_sum([w[k] for k in present]) / _np_sum(w)
            elif conf_type == "absent_model_aware_avg":
                absent = [w[k] for k in range(n_models) if k not in present]
                score = score * n / (wrow + _np_sum(absent))
            elif conf_type == "max":
                score = score / max(w)
            elif allows_overflow:
                score = score * n / _np_sum(w)
            else:
                score = score * min(n_models, n) / _np_sum(w)
            out.append((score, rank, c, box, label))
    return _sorted_output(out)


def non_maximum_weighted(boxes_list, scores_list, labels_list, weights=None, iou_thr=0.55, skip_box_thr=0.0):
    """NMW: each box joins the cluster whose first box it overlaps most; IoU-and-score-weighted mean."""
    n_models = len(boxes_list)
    w = [1.0] * n_models if weights is None else [float(x) for x in weights]
    w = [x / max(w) for x in w] if w else w
    out = []
    for rank, (label, rows) in enumerate(
        _eb_boxes(boxes_list, scores_list, labels_list, w, skip_box_thr).items()
    ):
        rows = sorted(rows, key=lambda r: -r[0])
        clusters = []
        for r in rows:
            best, best_iou = -1, iou_thr
            for c, members in enumerate(clusters):
                o = _eb_iou(members[0][2], r[2])
                if o > best_iou:
                    best, best_iou = c, o
            if best < 0:
                clusters.append([r])
            else:
                clusters[best].append(r)
        for c, members in enumerate(clusters):
            top = members[0]
            if top[0] != 0:
                box = _f32_mean(members, lambda m, top=top: m[0] * _eb_iou(m[2], top[2]))
            else:  # all weighted scores 0: weight by IoU alone (ensemble-boxes: NaN)
                box = _f32_mean(members, lambda m, top=top: _eb_iou(m[2], top[2]))
            out.append((_f32(top[0]), rank, c, box, label))
    return _sorted_output(out)


def _eb_nms_boxes(boxes, scores, labels, weights):
    """Per label: rows (ws, model, box) in input order; ws = score * w / sum(weights) with weights."""
    total = None if weights is None else _np_sum([float(x) for x in weights])
    groups = {}
    for m in range(len(boxes)):
        for j in range(len(boxes[m])):
            x1, y1, x2, y2 = (min(max(float(v), 0.0), 1.0) for v in boxes[m][j])
            x1, x2 = min(x1, x2), max(x1, x2)
            y1, y2 = min(y1, y2), max(y1, y2)
            if (x2 - x1) * (y2 - y1) == 0.0:
                continue
            ws = float(scores[m][j])
            if weights is not None:
                ws = ws * float(weights[m]) / total
            groups.setdefault(int(labels[m][j]), []).append((ws, m, [x1, y1, x2, y2]))
    return groups


def fusion_nms(boxes, scores, labels, iou_thr=0.5, weights=None):
    """Multi-model NMS: per label (ascending), greedy NMS by decreasing weighted score."""
    rows_out = []
    groups = _eb_nms_boxes(boxes, scores, labels, weights)
    for label in sorted(groups):
        kept = []
        for r in sorted(groups[label], key=lambda r: -r[0]):
            if all(_eb_iou(k[2], r[2]) <= iou_thr for k in kept):
                kept.append(r)
        rows_out += [(k[2], k[0], label) for k in kept]
    return _rows(rows_out)


def fusion_soft_nms(
    boxes, scores, labels, method=2, iou_thr=0.5, sigma=0.5, thresh=0.001, weights=None, decayed_scores=False
):
    """ensemble-boxes' Soft-NMS: per label, the swap loop on boxes in input order; original scores."""
    if method == 3:
        return fusion_nms(boxes, scores, labels, iou_thr, weights)
    rows_out = []
    groups = _eb_nms_boxes(boxes, scores, labels, weights)
    for label in sorted(groups):
        items = [[r[0], r] for r in groups[label]]  # [current score, row]
        for i in range(len(items)):
            rest = [it[0] for it in items[i + 1 :]]
            if rest and items[i][0] < max(rest):
                top = i + 1 + rest.index(max(rest))
                items[i], items[top] = items[top], items[i]
            for k in range(i + 1, len(items)):
                o = _eb_iou(items[i][1][2], items[k][1][2])
                if method == 1:
                    weight = 1.0 - o if o > iou_thr else 1.0
                elif method == 2:
                    weight = math.exp(-(o * o) / sigma)
                else:
                    weight = 0.0 if o > iou_thr else 1.0
                items[k][0] = weight * items[k][0]
        rows_out += [(r[2], cur if decayed_scores else r[0], label) for cur, r in items if cur > thresh]
    return _rows(rows_out)


def _rows(rows):
    boxes = np.array([r[0] for r in rows], dtype=np.float64).reshape(-1, 4)
    return (
        boxes,
        np.array([r[1] for r in rows], dtype=np.float64),
        np.array([r[2] for r in rows], dtype=np.int64),
    )


# ----------------------------------------------------------------------------- DIoU-NMS


def diou_beta(a, b, beta=1.0):
    """DIoU of two boxes, IoU - (rho^2 / c^2) ** beta, in Python floats (0 penalty when c = 0)."""
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    iou = 0.0
    if iw > 0 and ih > 0:
        inter = iw * ih
        iou = inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)
    cw = max(a[2], b[2]) - min(a[0], b[0])
    ch = max(a[3], b[3]) - min(a[1], b[1])
    c2 = cw * cw + ch * ch
    if c2 == 0:
        return iou
    dx = (a[0] + a[2]) / 2.0 - (b[0] + b[2]) / 2.0
    dy = (a[1] + a[3]) / 2.0 - (b[1] + b[3]) / 2.0
    ratio = (dx * dx + dy * dy) / c2
    return iou - (ratio if beta == 1.0 else ratio**beta)


def diou_nms(boxes, scores, iou_threshold, idxs=None, beta=1.0):
    """Greedy DIoU-NMS: keep a box unless a kept box of its category has DIoU > threshold with it."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4).tolist()
    scores = np.asarray(scores, dtype=np.float64)
    keep = []
    for i in descending(scores):
        if all(
            (idxs is not None and idxs[k] != idxs[i]) or diou_beta(boxes[k], boxes[i], beta) <= iou_threshold
            for k in keep
        ):
            keep.append(i)
    return np.array(keep, dtype=np.int64)


def diou_nms_matrix(boxes, scores, iou_threshold, beta=1.0):
    """DIoU-NMS from the paper's formula in matrix form: R = rho^2 / c^2, DIoU = IoU - R**beta."""
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    area = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    iw = np.clip(np.minimum(b[:, None, 2], b[None, :, 2]) - np.maximum(b[:, None, 0], b[None, :, 0]), 0, None)
    ih = np.clip(np.minimum(b[:, None, 3], b[None, :, 3]) - np.maximum(b[:, None, 1], b[None, :, 1]), 0, None)
    inter = iw * ih
    union = area[:, None] + area[None, :] - inter
    iou = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    centre = (b[:, :2] + b[:, 2:]) / 2
    rho2 = ((centre[:, None, :] - centre[None, :, :]) ** 2).sum(-1)
    c2 = (np.maximum(b[:, None, 2], b[None, :, 2]) - np.minimum(b[:, None, 0], b[None, :, 0])) ** 2 + (
        np.maximum(b[:, None, 3], b[None, :, 3]) - np.minimum(b[:, None, 1], b[None, :, 1])
    ) ** 2
    r = np.divide(rho2, c2, out=np.zeros_like(rho2), where=c2 > 0) ** beta
    diou = iou - r
    keep = []
    for i in descending(scores):
        if all(diou[k, i] <= iou_threshold for k in keep):
            keep.append(i)
    return np.array(keep, dtype=np.int64)


# ----------------------------------------------------------------------------- Matrix NMS


def matrix_nms_decay(boxes, scores, labels=None, kernel="gaussian", sigma=2.0):
    """The SOLOv2 decay of every box, from the paper's formula, one box at a time.

    With the boxes in decreasing score (ties: lower index first), box j's decay is the minimum
    over the boxes i before it of its class of f(iou_ij) / f(comp_i), with comp_i box i's
    largest IoU with a box before it of its class (0 if none), and 1 if j is its class's first
    box. A term with f(comp_i) == 0 (linear, comp_i = 1) is infinite (or 0 / 0) and ignored.
    """
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4).tolist()
    order = descending(np.asarray(scores, dtype=np.float64))
    lab = [0] * len(b) if labels is None else [int(x) for x in labels]

    def f(x):
        return math.exp(-sigma * x * x) if kernel == "gaussian" else 1.0 - x

    decay = {}
    comp = {}
    for pos, j in enumerate(order):
        before = [i for i in order[:pos] if lab[i] == lab[j]]
        comp[j] = max((iou_pair(b[i], b[j]) for i in before), default=0.0)
        terms = [f(iou_pair(b[i], b[j])) / f(comp[i]) for i in before if f(comp[i]) != 0]
        decay[j] = min(terms, default=1.0)
    return decay


def matrix_nms(
    boxes,
    scores,
    labels=None,
    kernel="gaussian",
    sigma=2.0,
    score_threshold=None,
    max_candidates=None,
    max_detections=None,
):
    """Matrix NMS from the paper's formula: decayed scores, filter (>=), sort (stable), cap."""
    s = np.asarray(scores, dtype=np.float64)
    order = descending(s)
    if max_candidates is not None:
        order = order[:max_candidates]
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)[order]
    lab = None if labels is None else np.asarray(labels)[order]
    decay = matrix_nms_decay(b, s[order], lab, kernel, sigma)
    rows = [(float(s[order[p]]) * decay[p], p) for p in range(len(order))]
    if score_threshold is not None:
        rows = [r for r in rows if r[0] >= score_threshold]
    rows.sort(key=lambda r: -r[0])
    if max_detections is not None:
        rows = rows[:max_detections]
    return np.array([order[p] for _, p in rows], dtype=np.int64), np.array([v for v, _ in rows])


def matrix_nms_mmdet_form(boxes, scores, labels=None, kernel="gaussian", sigma=2.0):
    """Decayed scores (in input order) by mmdet's ``mask_matrix_nms`` formulation, with box IoU.

    Upper-triangular IoU and same-label matrices over the sorted boxes, compensation = column
    maxima, decay = column minima of the ratio matrix. NaN where mmdet would get 0 / 0.
    """
    s = np.asarray(scores, dtype=np.float64)
    order = np.array(descending(s), dtype=np.int64)
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)[order]
    n = len(b)
    lab = np.zeros(n) if labels is None else np.asarray(labels)[order]
    iou = np.triu(pairwise(iou_pair, b, b), k=1)
    same = np.triu(lab[:, None] == lab[None, :], k=1)
    decay_iou = iou * same
    comp = decay_iou.max(0) if n else np.zeros(0)
    comp = np.broadcast_to(comp[:, None], (n, n))
    with np.errstate(divide="ignore", invalid="ignore"):
        if kernel == "gaussian":
            ratio = np.exp(-sigma * decay_iou**2) / np.exp(-sigma * comp**2)
        else:
            ratio = (1 - decay_iou) / (1 - comp)
    decay = np.min(ratio, axis=0) if n else np.zeros(0)  # NaN propagates, as torch.min
    out = np.empty(n)
    out[order] = s[order] * decay
    return out


# ======================================================================
# streaming: the COCO data sets torchmetrics' MeanAveragePrecision builds, one box at a time
# ======================================================================


def _as_list(x):
    """A NumPy array or a torch tensor as nested Python lists (the host copy torchmetrics makes)."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def xywh_like_torchvision(box, fmt):
    """One box (a NumPy row) in xywh, computed in its own dtype as torchvision's ``box_convert``.

    Integer boxes: torch promotes ``int * 0.5`` to float32 (cxcywh); the other
    formats stay integers, which are exact.
    """
    if fmt == "xywh":
        return [float(v) for v in box]
    if np.issubdtype(box.dtype, np.integer):
        box = box.astype(np.float32) if fmt == "cxcywh" else box.astype(np.int64)
    if fmt == "xyxy":
        x1, y1, x2, y2 = box
        return [float(x1), float(y1), float(x2 - x1), float(y2 - y1)]
    cx, cy, w, h = box
    x1, y1 = cx - w * 0.5, cy - h * 0.5
    x2, y2 = cx + w * 0.5, cy + h * 0.5
    return [float(x1), float(y1), float(x2 - x1), float(y2 - y1)]


def streaming_coco_datasets(preds, target, box_format="xyxy", average="macro"):
    """(ground-truth dataset, results dataset, classes) as torchmetrics 1.9.0 builds them for pycocotools.

    Image ids 0, 1, ... in order; annotation ids from 1; categories the sorted
    labels of both (``[0]`` for 'micro', every label mapped to 0); a target area
    used where given and > 0, else w * h; ``iscrowd`` default 0; detection
    area w * h.
    """
    micro = average == "micro"
    images, gts, dts, labels = [], [], [], set()
    for i, (p, t) in enumerate(zip(preds, target, strict=True)):
        images.append({"id": i})
        boxes, lab = _as_list(t["boxes"]).reshape(-1, 4), _as_list(t["labels"])
        crowd = _as_list(t["iscrowd"]) if "iscrowd" in t else np.zeros(len(lab))
        area = _as_list(t["area"]) if "area" in t else np.zeros(len(lab))
        for k in range(len(lab)):
            box = xywh_like_torchvision(boxes[k], box_format)
            a = float(area[k]) if float(area[k]) > 0 else box[2] * box[3]
            labels.add(int(lab[k]))
            gts.append({"id": len(gts) + 1, "image_id": i, "category_id": 0 if micro else int(lab[k]),
                        "bbox": box, "area": a, "iscrowd": int(crowd[k])})  # fmt: skip
        boxes, lab, sc = _as_list(p["boxes"]).reshape(-1, 4), _as_list(p["labels"]), _as_list(p["scores"])
        for k in range(len(lab)):
            box = xywh_like_torchvision(boxes[k], box_format)
            labels.add(int(lab[k]))
            dts.append({"id": len(dts) + 1, "image_id": i, "category_id": 0 if micro else int(lab[k]),
                        "bbox": box, "area": box[2] * box[3], "score": float(sc[k]), "iscrowd": 0})  # fmt: skip
    classes = sorted(labels)
    cats = [{"id": c, "name": str(c)} for c in ([0] if micro else classes)]
    return (
        {"images": images, "annotations": gts, "categories": cats},
        {"images": list(images), "annotations": dts, "categories": cats},
        classes,
    )


# --------------------------------------------------------------------------- JSON reading (coco/reading.py)


def json_number(text):
    """The double a JSON parser gives for the number ``text``, as evaluation then reads it.

    Integer literals are Python ints for ``json.loads`` (so ``-0`` is the integer
    0, read as +0.0), every other number is ``float(text)``: round to nearest, ties
    to even. Arbitrary-precision integers make the int -> float step exact too.
    """
    if all(c not in text for c in ".eE"):
        try:
            return float(int(text))
        except OverflowError:  # an integer beyond binary64's range is infinite, as float(text) says
            return float(text)
    return float(text)


def object_columns(raw, keys):
    """``{key: [value of each entry]}`` of a JSON array of objects, by the standard library's parser."""
    import json

    entries = json.loads(raw)
    return {k: [e.get(k) for e in entries] for k in keys}


# ======================================================================
# lvis: lvis-api's federated evaluation as its GitHub source (lvis-dataset/lvis-api, HEAD
# 7d7f07d: lvis/results.py, lvis/eval.py) defines it, written as plain loops over dicts.
# ======================================================================

LVIS_IOU_THRS = np.linspace(0.5, 0.95, 10)
LVIS_REC_THRS = np.linspace(0.0, 1.0, 101)
LVIS_AREA_RNG = [[0, 1e10], [0, 32**2], [32**2, 96**2], [96**2, 1e10]]
LVIS_AREA_LBL = ["all", "small", "medium", "large"]


def lvis_results(results, max_dets=300):
    """LVISResults' annotations: at most ``max_dets`` per image (highest scores, ties in order).

    The list is regrouped by image (first appearance) when capping; each kept
    result is a copy with ``area = w * h`` and ``id`` = its position + 1.
    """
    if max_dets >= 0:
        by_image = {}
        for r in results:
            by_image.setdefault(r["image_id"], []).append(r)
        kept = []
        for rs in by_image.values():
            if len(rs) > max_dets:
                rs = sorted(rs, key=lambda r: r["score"], reverse=True)[:max_dets]  # stable
            kept.extend(rs)
    else:
        kept = list(results)
    out = []
    for i, r in enumerate(kept):
        r = dict(r)
        r["area"] = r["bbox"][2] * r["bbox"][3]
        r["id"] = i + 1
        out.append(r)
    return out


def _lvis_match_cell(gts, dts, area_rng, iou_thrs, not_exhaustive):
    """One (category, image, area range): per threshold, [(score, matched, ignored)] and gt ignore flags."""
    lo, hi = area_rng
    gt_ig_of = [1 if (g.get("ignore", 0) or g["area"] < lo or g["area"] > hi) else 0 for g in gts]
    g_order = sorted(range(len(gts)), key=lambda j: gt_ig_of[j])  # stable: regular first
    gts = [gts[j] for j in g_order]
    gt_ig = [gt_ig_of[j] for j in g_order]
    dts = sorted(dts, key=lambda d: -d["score"])  # stable
    ious = [[coco_bbox_iou(d["bbox"], g["bbox"], False) for g in gts] for d in dts]
    rows = []
    for thr in iou_thrs:
        gt_m = [0] * len(gts)
        row = []
        for di, d in enumerate(dts):
            best = min(thr, 1 - 1e-10)
            m = -1
            for j in range(len(gts)):
                if gt_m[j] > 0:
                    continue
                if m > -1 and gt_ig[m] == 0 and gt_ig[j] == 1:
                    break
                if ious[di][j] < best:
                    continue
                best = ious[di][j]
                m = j
            matched_id = 0
            ignored = False
            if m > -1:
                ignored = bool(gt_ig[m])
                matched_id = gts[m]["id"]
                gt_m[m] = d["id"]
            if matched_id == 0 and (d["area"] < lo or d["area"] > hi or not_exhaustive(d)):
                ignored = True
            row.append((d["score"], matched_id != 0, ignored))
        rows.append(row)
    return rows, gt_ig


def lvis_evaluate(
    gt,
    results,
    *,
    img_ids=None,
    cat_ids=None,
    iou_thrs=LVIS_IOU_THRS,
    rec_thrs=LVIS_REC_THRS,
    area_rng=LVIS_AREA_RNG,
    use_cats=True,
):
    """Precision (T, R, K, A) and recall (T, K, A) of capped ``results`` on the LVIS dict ``gt``."""
    images = {img["id"]: img for img in gt["images"]}
    img_ids = sorted(set(images) if img_ids is None else set(img_ids))
    cat_ids = sorted(c["id"] for c in gt["categories"]) if cat_ids is None else list(cat_ids)
    img_set, cat_set = set(img_ids), set(cat_ids)

    def takes_part(a):
        return a["image_id"] in img_set and a["category_id"] in cat_set and 0 < a["area"] < float("inf")

    gts = [a for a in gt["annotations"] if takes_part(a)]
    positive = {}
    for g in gts:
        positive.setdefault(g["image_id"], set()).add(g["category_id"])
    dts = []
    for d in results:
        if not takes_part(d):
            continue
        img = images[d["image_id"]]
        if d["category_id"] in img["neg_category_ids"] or d["category_id"] in positive.get(d["image_id"], ()):
            dts.append(d)

    def not_exhaustive(d):
        return d["category_id"] in images[d["image_id"]]["not_exhaustive_category_ids"]

    g_by, d_by = {}, {}
    for by, anns in ((g_by, gts), (d_by, dts)):
        for x in anns:
            by.setdefault((x["image_id"], x["category_id"]), []).append(x)  # in list order

    def cell(by, img, cat):
        if use_cats:
            return by.get((img, cat), [])
        # lvis-api's _get_gt_dt (lvis/eval.py, 0.5.3 and GitHub 04e89fd) pools
        # ``self._gts[img_id, cat_id] for _cat_id in self.params.cat_ids``: the key is the
        # placeholder cat_id = -1, not the loop variable. Category -1's cell, len(cat_ids) times.
        return [a for _ in cat_ids for a in by.get((img, cat), [])]

    k_ids = cat_ids if use_cats else [-1]
    n_t, n_r, n_k, n_a = len(iou_thrs), len(rec_thrs), len(k_ids), len(area_rng)
    precision = -np.ones((n_t, n_r, n_k, n_a))
    recall = -np.ones((n_t, n_k, n_a))
    eps = np.spacing(1)
    for k, cat in enumerate(k_ids):
        for a, rng in enumerate(area_rng):
            per_t = [[] for _ in range(n_t)]
            gt_ig = []
            seen = False
            for img in img_ids:
                g_cell, d_cell = cell(g_by, img, cat), cell(d_by, img, cat)
                if not g_cell and not d_cell:
                    continue
                seen = True
                rows, ig = _lvis_match_cell(g_cell, d_cell, rng, iou_thrs, not_exhaustive)
                gt_ig += ig
                for t in range(n_t):
                    per_t[t] += rows[t]
            num_gt = sum(1 for v in gt_ig if v == 0)
            if not seen or num_gt == 0:
                continue
            for t in range(n_t):
                dets = sorted(per_t[t], key=lambda r: -r[0])  # stable, images in order
                tp = fp = 0
                rc, pr = [], []
                for _, matched, ignored in dets:
                    tp += matched and not ignored
                    fp += (not matched) and not ignored
                    rc.append(float(tp) / num_gt)
                    pr.append(float(tp) / (float(fp) + float(tp) + eps))
                recall[t, k, a] = rc[-1] if dets else 0
                for i in range(len(pr) - 1, 0, -1):
                    if pr[i] > pr[i - 1]:
                        pr[i - 1] = pr[i]
                # lvis-api (eval.py accumulate) fills [0.0] * R inside ``try: ... except: pass``:
                # the first threshold beyond the curve raises IndexError and leaves every later
                # one at 0, even a lower one when rec_thrs is not ascending
                for r, x in enumerate(rec_thrs):
                    i = next((i for i, v in enumerate(rc) if v >= x), len(rc))
                    if i >= len(pr):
                        precision[t, r:, k, a] = 0.0
                        break
                    precision[t, r, k, a] = pr[i]
    return precision, recall


def lvis_summary(
    precision, recall, gt, *, cat_ids=None, iou_thrs=LVIS_IOU_THRS, area_lbl=LVIS_AREA_LBL, max_dets=300
):
    """lvis-api's 13 numbers: means of the entries > -1 of the selected precision / recall."""
    freq = {c["id"]: c["frequency"] for c in gt["categories"]}
    cat_ids = sorted(freq) if cat_ids is None else list(cat_ids)
    groups = [[k for k, c in enumerate(cat_ids) if freq[c] == f] for f in "rcf"]

    def mean(s):
        s = s[s > -1]
        return -1 if len(s) == 0 else np.mean(s)

    def ap(thr=None, area="all", group=None):
        s = precision if thr is None else precision[np.where(iou_thrs == thr)[0]]
        aidx = [i for i, lbl in enumerate(area_lbl) if lbl == area]
        return mean(s[:, :, groups[group], aidx] if group is not None else s[:, :, :, aidx])

    def ar(area="all"):
        return mean(recall[:, :, [i for i, lbl in enumerate(area_lbl) if lbl == area]])

    out = {"AP": ap(), "AP50": ap(0.5), "AP75": ap(0.75)}
    out.update(APs=ap(area="small"), APm=ap(area="medium"), APl=ap(area="large"))
    out.update(APr=ap(group=0), APc=ap(group=1), APf=ap(group=2))
    out[f"AR@{max_dets}"] = ar()
    for area in ("small", "medium", "large"):
        out[f"AR{area[0]}@{max_dets}"] = ar(area)
    return out


# ======================================================================
# coco.keypoints: object keypoint similarity, one (detection, ground truth) pair at a time.
# ======================================================================


def oks(dt_kpts, gt_kpts, gt_bbox, gt_area, sigmas):
    """COCO's object keypoint similarity (cocodataset.org/#keypoints-eval, pycocotools' computeOks).

    ``mean_k exp(-d_k**2 / (2 * s**2 * kappa_k**2))`` with ``s**2 = area + eps``,
    ``kappa_k = 2 * sigma_k``, over the ground truth's keypoints with v > 0; with
    none visible, over all keypoints, ``d_k`` being the distance from the detected
    keypoint to the ground-truth box grown by its width / height on every side.
    """
    k = len(sigmas)
    visible = [i for i in range(k) if gt_kpts[3 * i + 2] > 0]
    x, y, w, h = gt_bbox
    terms = []
    for i in visible or range(k):
        xd, yd = float(dt_kpts[3 * i]), float(dt_kpts[3 * i + 1])
        if visible:
            dx, dy = xd - gt_kpts[3 * i], yd - gt_kpts[3 * i + 1]
        else:
            dx = max(0.0, (x - w) - xd) + max(0.0, xd - (x + 2 * w))
            dy = max(0.0, (y - h) - yd) + max(0.0, yd - (y + 2 * h))
        kappa = 2 * sigmas[i]
        terms.append(math.exp(-(dx * dx + dy * dy) / (kappa * kappa) / (gt_area + np.spacing(1)) / 2))
    return math.fsum(terms) / len(terms)


# --------------------------------------------------------------------------- sharded COCO (fastdet.dask)


def sort_segments_desc(offsets, score):
    """Each segment offsets[c]:offsets[c + 1] ordered by descending score, ties in input order (sorted is stable)."""
    order = []
    for c in range(len(offsets) - 1):
        order.extend(sorted(range(offsets[c], offsets[c + 1]), key=lambda i: -score[i]))
    return order


# --------------------------------------------------------------------------- ground-truth polygons in a file's text


def gt_polygons(text):
    """Per annotation of a COCO ground-truth text (json.loads): None (no ``segmentation``), "other"
    (not a non-empty list of non-empty lists of numbers), or (numbers per part, the numbers as floats)."""
    import json

    out = []
    for a in json.loads(text)["annotations"]:
        if "segmentation" not in a:
            out.append(None)
            continue
        s = a["segmentation"]
        ok = isinstance(s, list) and len(s) > 0
        ok = ok and all(isinstance(p, list) and len(p) > 0 for p in s)
        ok = ok and all(type(v) in (int, float) for p in s for v in p)
        out.append(([len(p) for p in s], [float(v) for p in s for v in p]) if ok else "other")
    return out
