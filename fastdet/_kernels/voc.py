"""Numba kernels for PASCAL VOC evaluation: devkit matching and the two AP integrals."""

from __future__ import annotations

import numpy as np

from fastdet._kernels import kernel


@kernel()
def _match_ranked(det_boxes, det_img, gt_boxes, gt_start, gt_difficult, iou_threshold, offset, tp, fp, used):
    """VOC devkit matching of detections, already in decreasing score order, for one class.

    det_boxes: (D, 4) xyxy; det_img: (D,) image index into gt_start; gt_boxes: (G, 4)
    grouped by image, image k owning rows gt_start[k]:gt_start[k + 1]; gt_difficult:
    (G,) bool; offset: 0.0 or 1.0 (the devkit's "+1"); tp, fp: (D,) float64 outputs;
    used: (G,) bool scratch, all False.
    A detection takes its single best-IoU ground truth (first on ties) among those it
    overlaps (iw > 0 and ih > 0, as VOCevaldet.m: a disjoint box is never a candidate,
    even at iou_threshold 0); it is a TP if IoU >= iou_threshold and that box is unused
    and not difficult, nothing if the box is difficult, else an FP.
    """
    for d in range(det_boxes.shape[0]):
        x1, y1, x2, y2 = det_boxes[d, 0], det_boxes[d, 1], det_boxes[d, 2], det_boxes[d, 3]
        d_area = (x2 - x1 + offset) * (y2 - y1 + offset)
        img = det_img[d]
        best = -np.inf
        best_g = -1
        for g in range(gt_start[img], gt_start[img + 1]):
            iw = min(x2, gt_boxes[g, 2]) - max(x1, gt_boxes[g, 0]) + offset
            ih = min(y2, gt_boxes[g, 3]) - max(y1, gt_boxes[g, 1]) + offset
            if iw > 0 and ih > 0:
                inter = iw * ih
                g_area = (gt_boxes[g, 2] - gt_boxes[g, 0] + offset) * (
                    gt_boxes[g, 3] - gt_boxes[g, 1] + offset
                )
                union = d_area + g_area - inter
                iou = inter / union if union > 0 else 0.0  # only an overflow makes union <= 0 or NaN
                if iou > best:
                    best = iou
                    best_g = g
        tp[d] = 0.0
        fp[d] = 0.0
        if best_g >= 0 and best >= iou_threshold:
            if gt_difficult[best_g]:
                continue
            if used[best_g]:
                fp[d] = 1.0
            else:
                used[best_g] = True
                tp[d] = 1.0
        else:
            fp[d] = 1.0


@kernel()
def _ap_all_points(recall, precision, scratch):
    """Area under the monotone precision envelope, VOC2010+ (recall, precision: (N,)).

    scratch: (2, N + 2) float64, overwritten.
    """
    n = recall.shape[0]
    mrec = scratch[0]
    mpre = scratch[1]
    mrec[0] = 0.0
    mpre[0] = 0.0
    mrec[n + 1] = 1.0
    mpre[n + 1] = 0.0
    for i in range(n):
        mrec[i + 1] = recall[i]
        mpre[i + 1] = precision[i]
    for i in range(n + 1, 0, -1):
        if mpre[i] > mpre[i - 1]:
            mpre[i - 1] = mpre[i]
    ap = 0.0
    for i in range(n + 1):
        if mrec[i + 1] != mrec[i]:
            ap += (mrec[i + 1] - mrec[i]) * mpre[i + 1]
    return ap


@kernel()
def _ap_points(recall, precision, points):
    """Mean over ``points`` of the largest precision at recall >= point (VOC2007: 11 points)."""
    ap = 0.0
    for k in range(points.shape[0]):
        p = 0.0
        for i in range(recall.shape[0]):
            if recall[i] >= points[k] and precision[i] > p:
                p = precision[i]
        ap += p / points.shape[0]
    return ap
