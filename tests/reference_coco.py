"""Naive COCO bbox evaluation: plain Python loops, one (image, category) at a time.

Written from the COCO evaluation rules, for checking fastdet's kernels; it uses
the same floating-point operations as pycocotools so that results compare at
1e-12. Inputs are plain dicts: a ground-truth dataset and a list of results
that already carry ``id`` and ``area`` (as ``loadRes`` makes them).
"""

from __future__ import annotations

from typing import Any

import numpy as np

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
