"""Naive, obviously-correct box references: one pair at a time, in Python floats."""

from __future__ import annotations

import math

import numpy as np


def iou_pair(a, b):
    """IoU of two xyxy boxes; 0 when the union is 0."""
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def giou_pair(a, b):
    iou = iou_pair(a, b)
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - iw * ih
    hull = (max(a[2], b[2]) - min(a[0], b[0])) * (max(a[3], b[3]) - min(a[1], b[1]))
    return iou - (hull - union) / hull if hull > 0 else iou


def diou_pair(a, b, eps=1e-7):
    iou = iou_pair(a, b)
    diag2 = (max(a[2], b[2]) - min(a[0], b[0])) ** 2 + (max(a[3], b[3]) - min(a[1], b[1])) ** 2
    centre2 = ((a[0] + a[2]) / 2 - (b[0] + b[2]) / 2) ** 2 + ((a[1] + a[3]) / 2 - (b[1] + b[3]) / 2) ** 2
    return iou - centre2 / (diag2 + eps) if diag2 + eps > 0 else iou


def _angle(w, h):
    if h > 0:
        return math.atan(w / h)
    return math.pi / 2 if w > 0 else 0.0


def ciou_pair(a, b, eps=1e-7):
    iou = iou_pair(a, b)
    v = 4 / math.pi**2 * (_angle(a[2] - a[0], a[3] - a[1]) - _angle(b[2] - b[0], b[3] - b[1])) ** 2
    alpha = v / (1 - iou + v + eps) if (1 - iou + v + eps) > 0 else 0.0
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
