"""Naive, obviously-correct references for every fastdet kernel: plain loops, no vectorisation tricks.

Each section mirrors one package module; tests compare the Numba kernels with these.
"""

from __future__ import annotations

import math
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
    gts: list[dict[str, Any]], dts: list[dict[str, Any]], area_rng: tuple[float, float], thr: float
) -> list[str]:
    """Status of each detection (already sorted by score, truncated) at one IoU threshold."""
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
            iou = box_iou_xywh(d["bbox"], gts[g]["bbox"], crowd)
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
) -> tuple[np.ndarray, np.ndarray]:
    """(precision [T, R, K, A, M], recall [T, K, A, M]) over every image of ``gt``."""
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
                    per_t = [match_image(gts, dts, rng, t) for t in iou_thrs]
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


def threshold_counts(y_true, y_score):
    """Distinct thresholds (descending) with TP and FP counts of ``score >= threshold``."""
    thresholds = sorted(set(float(s) for s in y_score), reverse=True)
    tps, fps = [], []
    for t in thresholds:
        tps.append(float(sum(1 for y, s in zip(y_true, y_score, strict=True) if s >= t and y == 1)))
        fps.append(float(sum(1 for y, s in zip(y_true, y_score, strict=True) if s >= t and y == 0)))
    return np.array(thresholds), np.array(tps), np.array(fps)


def roc_curve(y_true, y_score, drop_intermediate=True):
    thresholds, tps, fps = threshold_counts(y_true, y_score)
    keep = list(range(len(thresholds)))
    if drop_intermediate and len(thresholds) > 2:
        keep = [0]
        for i in range(1, len(thresholds) - 1):
            # a point is kept unless it lies on a straight run (equal second differences = 0)
            d2f = fps[i + 1] - 2 * fps[i] + fps[i - 1]
            d2t = tps[i + 1] - 2 * tps[i] + tps[i - 1]
            if d2f != 0 or d2t != 0:
                keep.append(i)
        keep.append(len(thresholds) - 1)
    tps = [0.0] + [tps[i] for i in keep]
    fps = [0.0] + [fps[i] for i in keep]
    thr = [math.inf] + [thresholds[i] for i in keep]
    n_pos, n_neg = tps[-1], fps[-1]
    fpr = [f / n_neg if n_neg > 0 else math.nan for f in fps]
    tpr = [t / n_pos if n_pos > 0 else math.nan for t in tps]
    return np.array(fpr), np.array(tpr), np.array(thr)


def roc_auc(y_true, y_score):
    """Mann-Whitney: P(score of a positive > score of a negative), ties counting 1/2."""
    pos = [s for y, s in zip(y_true, y_score, strict=True) if y == 1]
    neg = [s for y, s in zip(y_true, y_score, strict=True) if y == 0]
    total = 0.0
    for a in pos:
        for b in neg:
            total += 1.0 if a > b else 0.5 if a == b else 0.0
    return total / (len(pos) * len(neg))


def precision_recall_curve(y_true, y_score):
    thresholds, tps, fps = threshold_counts(y_true, y_score)
    n_pos = tps[-1]
    precision = [t / (t + f) for t, f in zip(tps, fps, strict=True)]
    recall = [t / n_pos if n_pos > 0 else 1.0 for t in tps]
    return (
        np.array([*precision[::-1], 1.0]),
        np.array([*recall[::-1], 0.0]),
        np.array(list(thresholds[::-1])),
    )


def average_precision(y_true, y_score):
    """sum_k (R_k - R_{k-1}) P_k over distinct thresholds in decreasing order."""
    _, tps, fps = threshold_counts(y_true, y_score)
    n_pos = tps[-1]
    if n_pos == 0:
        return 0.0
    ap, prev = 0.0, 0.0
    for t, f in zip(tps, fps, strict=True):
        ap += (t / n_pos - prev) * (t / (t + f))
        prev = t / n_pos
    return ap


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


def per_class_counts(y_true, y_pred, label):
    tp = sum(1 for t, p in zip(y_true, y_pred, strict=True) if t == label and p == label)
    fp = sum(1 for t, p in zip(y_true, y_pred, strict=True) if t != label and p == label)
    fn = sum(1 for t, p in zip(y_true, y_pred, strict=True) if t == label and p != label)
    return tp, fp, fn


def precision_recall_f1_per_class(y_true, y_pred, labels, zero_division=0.0):
    out = []
    for lab in labels:
        tp, fp, fn = per_class_counts(y_true, y_pred, lab)
        p = tp / (tp + fp) if tp + fp else zero_division
        r = tp / (tp + fn) if tp + fn else zero_division
        f = 2 * tp / (2 * tp + fp + fn) if 2 * tp + fp + fn else zero_division
        out.append((p, r, f))
    return [np.array(col, dtype=float) for col in zip(*out, strict=True)]


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
                iou = box_iou_offset(d["bbox"], g["bbox"], pixel_offset)
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
            # and it starts inside the input or the left padding
            keep = fits or (o > 0 and (o - 1) * s + eff < length and start - p < size)
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
