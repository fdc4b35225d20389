"""Whole-batch post-processing (``postprocess_detections``) and NMS of COCO result lists.

Re-exported by :mod:`fastdet.nms`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fastdet._kernels import nms as _k
from fastdet._nms_core import (
    _PRED_FORMATS,
    PredictionFormat,
    SoftNMSMethod,
    _check_max_detections,
    _descending,
    _grouped_nms,
    _rank_within,
    _to_xyxy,
    batched_nms,
    soft_nms,
)
from fastdet._validate import (
    as_float_array,
    box_magnitude,
    box_magnitude_limit,
    check_bool,
    check_box_magnitude,
    check_choice,
    check_real,
    check_threshold,
)

# postprocess_detections reduces the class scores of inputs at least this large
# (B * N * (4 + C) elements: 24 images of 8400 x 84) on all threads. On the 2-core
# development machine, busy with other work, threads were slower at B = 1, 4 and 16
# (a busy core stalls the whole parallel region), hence the high bar.
_PARALLEL_MIN_ELEMENTS = 2**24


def postprocess_detections(
    predictions: ArrayLike,
    *,
    score_threshold: float = 0.25,
    iou_threshold: float = 0.45,
    max_detections: int | None = 300,
    max_candidates: int | None = 30000,
    class_agnostic: bool = False,
    multi_label: bool = False,
    has_objectness: bool = False,
    box_format: PredictionFormat = "cxcywh",
) -> list[NDArray[np.floating[Any]]]:
    """Turn a batch of raw YOLO-style detector outputs into final detections per image.

    Per image: confidence filter, at most ``max_candidates`` best candidates,
    NMS per class (or across classes), at most ``max_detections`` results.

    Parameters
    ----------
    predictions : array_like of shape (B, N, 4 + C) or (B, N, 5 + C)
        For each image and each of N predictions: the box (in ``box_format``),
        then, if ``has_objectness``, an objectness score, then C class scores.
    score_threshold : float
        Candidates need confidence strictly greater than this. The confidence of
        a class is its score, times the objectness if there is one.
    iou_threshold : float
        In [0, 1]; suppression when IoU is strictly greater.
    max_detections : int or None
        At most this many detections per image (None: all).
    max_candidates : int or None
        Before NMS, keep only this many best-scoring candidates per image (None: all).
    class_agnostic : bool
        One NMS over all classes of an image instead of one per class.
    multi_label : bool
        False (default): each prediction is a candidate once, with its best class
        (the lowest class index among equal scores). True: every class above the
        threshold makes a candidate, so one box may be reported for several classes.
    has_objectness : bool
        Column 4 is an objectness score (YOLOv5-style); a candidate then also
        needs objectness > ``score_threshold``.
    box_format : {"cxcywh", "xyxy", "xywh"}
        Format of the first four columns.

    Returns
    -------
    list of B ndarrays of shape (K, 6)
        Rows ``[x1, y1, x2, y2, score, label]`` by decreasing score (ties: lower
        prediction index, then lower class); float32 for float32 input, else float64.

    Raises
    ------
    ValueError
        Wrong shape (not 3-D, or fewer than one class column), NaN/inf, negative
        box width or height, thresholds out of range, negative limits.
    TypeError
        Non-numeric input or parameters.

    Notes
    -----
    Follows ``non_max_suppression`` of ultralytics (YOLOv5/YOLOv8) with its
    defaults (``multi_label=False``, ``max_nms`` = ``max_candidates``), with two
    deliberate differences: per-class NMS is exact rather than the
    coordinate-offset trick, and ties are broken deterministically. The whole
    batch goes through one sort and one NMS kernel call with (image, class) as
    the category, so there is no Python loop over images or classes.

    Examples
    --------
    >>> pred = [[[5, 5, 10, 10, 0.1, 0.9], [6, 5, 10, 10, 0.8, 0.2]]]
    >>> out = postprocess_detections(pred)
    >>> out[0]
    array([[ 0. ,  0. , 10. , 10. ,  0.9,  1. ],
           [ 1. ,  0. , 11. , 10. ,  0.8,  0. ]])
    """
    p = as_float_array(predictions, "predictions", ndim=3)
    st = check_real(score_threshold, "score_threshold")
    t = check_threshold(iou_threshold, "iou_threshold")
    cap = _check_max_detections(max_detections)
    cand_cap = _check_max_detections(max_candidates, "max_candidates")
    agnostic = check_bool(class_agnostic, "class_agnostic")
    multi = check_bool(multi_label, "multi_label")
    has_obj = check_bool(has_objectness, "has_objectness")
    fmt = check_choice(box_format, "box_format", _PRED_FORMATS)
    n_img, n_pred, width = p.shape
    first_class = 5 if has_obj else 4
    n_cls = width - first_class
    if n_cls < 1:
        raise ValueError(
            f"predictions must have shape (B, N, {first_class} + C) with C >= 1 "
            f"(has_objectness={has_obj}), got {p.shape}"
        )
    dtype = p.dtype
    empty = [np.empty((0, 6), dtype) for _ in range(n_img)]
    if n_img == 0 or n_pred == 0:
        return empty

    if multi:
        conf = p[:, :, first_class:]
        if has_obj:
            conf = conf * p[:, :, 4:5]
        mask = conf > st
        if has_obj:
            mask &= p[:, :, 4:5] > st
        img, pred, cls = np.nonzero(mask)  # row-major: image, prediction, class
        scores = conf[img, pred, cls]
    else:
        best_conf = np.empty((n_img, n_pred), dtype)
        best = np.empty((n_img, n_pred), np.int64)
        # lowest class among ties; threads only pay off (and are only worth their
        # sensitivity to a busy machine) for large batches
        if p.size >= _PARALLEL_MIN_ELEMENTS:
            _k.best_class(n_img * n_pred, p, first_class, has_obj, best_conf, best)
        else:
            _k.best_class.serial(n_img * n_pred, p, first_class, has_obj, best_conf, best)
        mask = best_conf > st
        if has_obj:
            mask &= p[:, :, 4] > st
        img, pred = np.nonzero(mask)
        cls = best[img, pred]
        scores = best_conf[img, pred]
    if len(img) == 0:
        return empty
    raw = p[img, pred, :4]
    if dtype == np.float32 and box_magnitude(raw) > box_magnitude_limit(np.float32):
        raw = raw.astype(np.float64)  # areas would overflow float32: work in float64
    boxes = _to_xyxy(raw, fmt)
    check_box_magnitude(boxes, "predictions (as xyxy boxes)")

    # Order every candidate by (image, decreasing score, candidate index) and cap per image.
    order = _descending(scores)
    img = img.astype(np.uint16) if n_img <= 2**16 else img  # NumPy radix-sorts uint16
    order = order[np.argsort(img[order], kind="stable")]
    if cand_cap is not None:
        rank = _rank_within(img[order])
        order = order[rank < cand_cap]
    img, boxes, scores, cls = img[order], boxes[order], scores[order], cls[order]
    groups = img.astype(np.int64) if agnostic else img.astype(np.int64) * n_cls + cls
    # The candidates are now in (image, score) order, which is also score order per group.
    keep = _grouped_nms(boxes, scores, groups, t, order=np.arange(len(img), dtype=np.int64))
    if cap is not None:
        keep = keep[_rank_within(img[keep]) < cap]
    out = np.empty((len(keep), 6), dtype)
    with np.errstate(over="ignore"):
        out[:, :4] = boxes[keep]
    if not np.isfinite(out[:, :4]).all():
        raise ValueError(f"predictions hold boxes whose xyxy corners overflow {dtype}: pass float64")
    out[:, 4] = scores[keep]
    out[:, 5] = cls[keep]
    counts = np.bincount(img[keep], minlength=n_img)
    return list(np.split(out, np.cumsum(counts)[:-1]))


CocoNMSMethod = Literal["nms", "soft-gaussian", "soft-linear"]


def nms_coco_results(
    results: Sequence[Mapping[str, Any]],
    *,
    method: CocoNMSMethod = "nms",
    iou_threshold: float = 0.5,
    sigma: float = 0.5,
    score_threshold: float = 0.001,
    max_detections: int | None = 100,
    class_agnostic: bool = False,
) -> list[dict[str, Any]]:
    """Suppress duplicates in a COCO results list, per image and (by default) per category.

    Parameters
    ----------
    results : sequence of dict
        COCO detection results: ``image_id``, ``category_id``, ``bbox`` as
        ``[x, y, width, height]`` and ``score``; other keys are carried along.
    method : {"nms", "soft-gaussian", "soft-linear"}
        Greedy NMS (:func:`batched_nms`) or Soft-NMS (:func:`soft_nms`), whose
        decayed scores replace ``score`` in the output.
    iou_threshold : float
        In [0, 1]; suppression (or linear decay) when IoU is strictly greater.
    sigma : float
        Gaussian Soft-NMS width (> 0).
    score_threshold : float
        Results scoring below this are dropped (before NMS, and after each decay
        for Soft-NMS).
    max_detections : int or None
        Keep at most this many results per image, the highest scores; None: all.
    class_agnostic : bool
        Suppress across categories within an image.

    Returns
    -------
    list of dict
        New dicts (the input is not modified), grouped by image in order of first
        appearance, each image's results by decreasing score (ties: input order).

    Raises
    ------
    ValueError
        A result that is not a dict with the four keys, a bbox that is not four
        finite numbers with non-negative width and height, a non-finite score,
        or a bad option.
    TypeError
        ``results`` is not a list of dicts.

    Examples
    --------
    >>> dets = [
    ...     {"image_id": 1, "category_id": 3, "bbox": [0, 0, 10, 10], "score": 0.9},
    ...     {"image_id": 1, "category_id": 3, "bbox": [1, 1, 10, 10], "score": 0.8},
    ...     {"image_id": 1, "category_id": 4, "bbox": [1, 1, 10, 10], "score": 0.7},
    ... ]
    >>> [d["score"] for d in nms_coco_results(dets, iou_threshold=0.5)]
    [0.9, 0.7]
    """
    check_choice(method, "method", ("nms", "soft-gaussian", "soft-linear"))
    iou_threshold = check_threshold(iou_threshold, "iou_threshold")
    score_threshold = check_real(score_threshold, "score_threshold")
    sigma = check_real(sigma, "sigma")
    if sigma <= 0:
        raise ValueError(f"sigma must be > 0, got {sigma}")
    cap = _check_max_detections(max_detections)
    agnostic = check_bool(class_agnostic, "class_agnostic")
    if not isinstance(results, (list, tuple)):
        raise TypeError(f"results must be a list of dicts, got {type(results).__name__}")
    n = len(results)
    boxes = np.empty((n, 4), np.float64)
    scores = np.empty(n, np.float64)
    images: dict[Any, int] = {}
    cats: dict[Any, int] = {}
    image_idx = np.empty(n, np.int64)
    cat_idx = np.empty(n, np.int64)
    for i, r in enumerate(results):
        if not isinstance(r, Mapping):
            raise TypeError(f"results[{i}] must be a dict, got {type(r).__name__}")
        try:
            bbox, score, image, cat = r["bbox"], r["score"], r["image_id"], r["category_id"]
        except KeyError as exc:
            raise ValueError(f"results[{i}] has no {exc.args[0]!r} key") from None
        try:
            boxes[i] = bbox
            scores[i] = score
        except (TypeError, ValueError):
            raise ValueError(
                f"results[{i}]: bbox must be 4 numbers and score a number, got {bbox!r}, {score!r}"
            ) from None
        image_idx[i] = images.setdefault(image, len(images))
        cat_idx[i] = 0 if agnostic else cats.setdefault(cat, len(cats))
    if n and not (np.isfinite(boxes).all() and np.isfinite(scores).all()):
        bad = int(np.flatnonzero(~(np.isfinite(boxes).all(axis=1) & np.isfinite(scores)))[0])
        raise ValueError(f"results[{bad}] has a NaN or infinite bbox or score")
    if n and (boxes[:, 2:] < 0).any():
        bad = int(np.flatnonzero((boxes[:, 2:] < 0).any(axis=1))[0])
        raise ValueError(f"results[{bad}] has a negative bbox width or height: {results[bad]['bbox']!r}")
    xyxy = np.concatenate([boxes[:, :2], boxes[:, :2] + boxes[:, 2:]], axis=1)
    group = image_idx * max(len(cats), 1) + cat_idx
    candidates = np.flatnonzero(scores >= score_threshold)
    new_scores = scores.copy()
    if method == "nms":
        kept = candidates[batched_nms(xyxy[candidates], scores[candidates], group[candidates], iou_threshold)]
    else:
        kind: SoftNMSMethod = "gaussian" if method == "soft-gaussian" else "linear"
        order = candidates[np.argsort(group[candidates], kind="stable")]
        starts = (
            np.flatnonzero(np.r_[True, np.diff(group[order]) != 0]) if len(order) else np.empty(0, np.int64)
        )
        parts = []
        for lo, hi in zip(starts, [*starts[1:], len(order)], strict=True):
            rows = order[lo:hi]
            keep, decayed = soft_nms(
                xyxy[rows],
                scores[rows],
                method=kind,
                sigma=sigma,
                iou_threshold=iou_threshold,
                score_threshold=score_threshold,
            )
            new_scores[rows[keep]] = decayed
            parts.append(rows[keep])
        kept = np.concatenate(parts) if parts else np.empty(0, np.int64)
    # group by image (first appearance), then by decreasing score, ties in input order
    kept = kept[np.lexsort((kept, -new_scores[kept], image_idx[kept]))]
    if cap is not None and len(kept):
        img = image_idx[kept]
        first = np.searchsorted(img, img, side="left")
        kept = kept[np.arange(len(kept)) - first < cap]
    out = []
    for i in kept.tolist():
        d = dict(results[i])
        if method != "nms":
            d["score"] = float(new_scores[i])
        out.append(d)
    return out
