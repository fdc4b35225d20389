"""Naive NMS references: plain Python loops over boxes, no sweep, no vectorisation.

Each function mirrors a public function of ``fastdet.nms`` on valid input and is
written to be obviously correct rather than fast. IoU is torchvision's formula in
the working dtype (float32 when boxes and scores are float32, else float64),
compared with the threshold in float64; a zero union gives IoU 0.
"""

from __future__ import annotations

import math

import numpy as np


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
        if all(
            idxs[k] != idxs[i] or float(iou(boxes[k], boxes[i], dtype)) <= iou_threshold
            for k in keep
        ):
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
