"""Naive, obviously-correct references for fastdet.voc, fastdet.metrics and fastdet.losses.

Plain Python loops over the definitions, no vectorisation tricks; quadratic
where that is simplest. Only for small inputs.
"""

from __future__ import annotations

import math

import numpy as np

# --------------------------------------------------------------------------- ranking


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
