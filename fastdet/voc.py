"""PASCAL VOC detection AP: the devkit's matching, all-point and 11-point AP.

``voc_ap`` integrates one precision/recall curve; ``evaluate`` matches
detections to ground truth per class the way the VOC devkit does and returns
per-class AP, mAP and the curves.

Box convention. Boxes are xyxy. With ``pixel_offset=0`` (the default, as
everywhere in fastdet) coordinates are continuous: area = (x2 - x1)(y2 - y1).
``pixel_offset=1`` is the devkit's legacy integer-pixel convention,
area = (x2 - x1 + 1)(y2 - y1 + 1), the intersection likewise "+1". The
convention changes IoU, hence which detections match: on the 7-image example
of Padilla's Object-Detection-Metrics (``data/voc-padilla-7img``), at IoU 0.1
the all-point AP is 0.3372 with "+1" (the published number) and 0.2801
without it; at 0.3, 0.2457 and 0.2254; at 0.5 and 0.75 the two agree
(0.0222 and 0).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fastdet._kernels import voc as _k
from fastdet._validate import as_boxes, as_float_array, check_bool, check_real, check_threshold

__all__ = ["VocResult", "evaluate", "voc_ap"]

#: The VOC2007 recall points, built exactly as the devkit's ``np.arange(0.0, 1.1, 0.1)``
#: (so 0.30000000000000004, not 0.3, is the fourth point).
_VOC07_POINTS = np.arange(0.0, 1.1, 0.1)


def voc_ap(recall: ArrayLike, precision: ArrayLike, *, use_07_metric: bool = False) -> float:
    """Average precision of one precision/recall curve, as the PASCAL VOC devkit.

    Parameters
    ----------
    recall : array_like of shape (N,)
        Recall after each ranked detection (non-decreasing in practice), in [0, 1].
    precision : array_like of shape (N,)
        Precision after each ranked detection, in [0, 1].
    use_07_metric : bool, default False
        False: the all-point AP of VOC2010 and later. True: the 11-point AP of
        VOC2007.

    Returns
    -------
    float
        The AP in [0, 1]; 0.0 for an empty curve.

    Raises
    ------
    ValueError
        Different lengths, not 1-D, NaN/inf, or values outside [0, 1].
    TypeError
        Non-numeric input.

    Notes
    -----
    All-point: with sentinels ``mrec = [0, recall, 1]`` and ``mpre = [0,
    precision, 0]``, make precision monotone from the right
    (``mpre[i] = max(mpre[i:])``) and sum ``(mrec[i+1] - mrec[i]) * mpre[i+1]``
    where recall changes.
    11-point: ``(1/11) sum_{t in 0, 0.1, ..., 1} max(precision[recall >= t])``
    (0 when no recall reaches t). The points are ``np.arange(0.0, 1.1, 0.1)``
    as in the devkit, which matters when a recall equals 0.3, 0.6 or 0.7.
    Everingham et al., "The PASCAL Visual Object Classes (VOC) Challenge",
    IJCV 2010, doi:10.1007/s11263-009-0275-4.

    Examples
    --------
    >>> voc_ap([0.5, 0.5, 1.0], [1.0, 0.5, 0.667])
    0.8335
    >>> round(voc_ap([0.5, 0.5, 1.0], [1.0, 0.5, 0.667], use_07_metric=True), 4)
    0.8486
    """
    use_07_metric = check_bool(use_07_metric, "use_07_metric")
    rec = as_float_array(recall, "recall", ndim=1, dtype=np.float64)
    prec = as_float_array(precision, "precision", ndim=1, dtype=np.float64)
    if rec.shape != prec.shape:
        raise ValueError(
            f"recall and precision must have the same length, got {rec.shape[0]} and {prec.shape[0]}"
        )
    for arr, name in ((rec, "recall"), (prec, "precision")):
        if arr.size and (arr.min() < 0 or arr.max() > 1):
            raise ValueError(f"{name} must lie in [0, 1], got values in [{arr.min()}, {arr.max()}]")
    return _curve_ap(rec, prec, use_07_metric)


def _curve_ap(rec: NDArray[np.floating[Any]], prec: NDArray[np.floating[Any]], use_07_metric: bool) -> float:
    if use_07_metric:
        return float(_k._ap_points(rec, prec, _VOC07_POINTS))
    return float(_k._ap_all_points(rec, prec, np.empty((2, len(rec) + 2))))


@dataclass(frozen=True)
class VocResult:
    """What ``evaluate`` returns: per-class AP, mAP and curves (read-only).

    Attributes
    ----------
    ap : Mapping[label, float]
        AP of each class found in ``gt`` or ``dt``; NaN for a class with no
        non-difficult ground truth (its AP is undefined).
    map : float
        Mean of the finite entries of ``ap`` (classes with ground truth); NaN
        if there are none.
    precision, recall : Mapping[label, ndarray of shape (D_c,)]
        The devkit's curves after each of the class's D_c detections, ranked by
        decreasing score. ``recall`` is all NaN for a class without
        non-difficult ground truth.
    scores : Mapping[label, ndarray of shape (D_c,)]
        The detection scores in that ranked order.
    n_positives : Mapping[label, int]
        Number of non-difficult ground-truth boxes per class.
    iou_threshold, use_07_metric, pixel_offset
        The settings used.
    """

    ap: Mapping[Hashable, float]
    map: float
    precision: Mapping[Hashable, NDArray[np.float64]]
    recall: Mapping[Hashable, NDArray[np.float64]]
    scores: Mapping[Hashable, NDArray[np.float64]]
    n_positives: Mapping[Hashable, int]
    iou_threshold: float
    use_07_metric: bool
    pixel_offset: int


def evaluate(
    gt: Sequence[Mapping[str, Any]],
    dt: Sequence[Mapping[str, Any]],
    *,
    iou_threshold: float = 0.5,
    use_07_metric: bool = False,
    pixel_offset: int = 0,
) -> VocResult:
    """PASCAL VOC detection evaluation: per-class AP with the devkit's matching.

    Parameters
    ----------
    gt : sequence of dict
        Ground truth, one dict per box: ``"image_id"`` (hashable), ``"label"``
        (hashable), ``"bbox"`` ``[x1, y1, x2, y2]`` and optionally
        ``"difficult"`` (bool, default False).
    dt : sequence of dict
        Detections: ``"image_id"``, ``"label"``, ``"bbox"`` and ``"score"``.
    iou_threshold : float, default 0.5
        A detection matches when its IoU with the ground truth is
        ``>= iou_threshold``; at 0 it must still overlap the box (IoU > 0).
    use_07_metric : bool, default False
        The VOC2007 11-point AP instead of the all-point AP (see ``voc_ap``).
    pixel_offset : {0, 1}, default 0
        1 adds the devkit's legacy "+1" to widths and heights in areas and
        intersections (integer pixel boxes); 0 is continuous coordinates.

    Returns
    -------
    VocResult
        ``.ap`` (label -> AP), ``.map``, and per-class ``.precision``,
        ``.recall``, ``.scores`` and ``.n_positives``.

    Raises
    ------
    ValueError
        A missing key, a box that is not 4 finite numbers with x1 <= x2 and
        y1 <= y2, a NaN/inf score, ``iou_threshold`` outside [0, 1], or
        ``pixel_offset`` not 0 or 1.
    TypeError
        An entry that is not a mapping, or a non-numeric box or score.

    Notes
    -----
    Per class, as the devkit's ``voc_eval``: detections are ranked by
    decreasing score (a stable sort, so ties keep their order in ``dt``).
    Each is compared only with the ground-truth box of the same image and
    class that it overlaps most (the first such box on ties); a box it does not
    overlap is never a candidate, so at ``iou_threshold=0`` a detection that
    overlaps nothing is still a false positive, as in both devkits. It is a true
    positive if that IoU is ``>= iou_threshold`` and the box is neither
    difficult nor already matched, and a false positive otherwise, except
    that a best match with a difficult box counts as neither. Then
    ``recall = cumTP / n_positives`` and
    ``precision = cumTP / max(cumTP + cumFP, eps)``, and the AP is
    ``voc_ap(recall, precision)``.

    A class with no non-difficult ground truth (only detections, or only
    difficult boxes) has an undefined AP: the devkit divides by zero there.
    fastdet reports it as NaN in ``.ap`` and leaves it out of ``.map``. A
    class with ground truth but no detections has AP 0 and counts in ``.map``.

    Examples
    --------
    >>> gt = [{"image_id": 1, "label": "cat", "bbox": [0, 0, 10, 10]}]
    >>> dt = [{"image_id": 1, "label": "cat", "bbox": [1, 0, 10, 10], "score": 0.9},
    ...       {"image_id": 1, "label": "cat", "bbox": [50, 50, 60, 60], "score": 0.8}]
    >>> res = evaluate(gt, dt)
    >>> res.ap["cat"], res.map
    (1.0, 1.0)
    >>> res.precision["cat"], res.recall["cat"]
    (array([1. , 0.5]), array([1., 1.]))
    """
    thr = check_threshold(iou_threshold, "iou_threshold")
    use_07_metric = check_bool(use_07_metric, "use_07_metric")
    if isinstance(pixel_offset, (bool, np.bool_)) or pixel_offset not in (0, 1):
        raise ValueError(f"pixel_offset must be 0 or 1, got {pixel_offset!r}")
    offset = float(pixel_offset)

    g_img, g_lab, g_box, g_diff = _read_records(gt, "gt", with_score=False)
    d_img, d_lab, d_box, d_score = _read_records(dt, "dt", with_score=True)
    # Integer codes for image ids and labels, shared by gt and dt.
    image_codes: dict[Hashable, int] = {}
    g_imgc = _encode(g_img, image_codes, "gt", "image_id")
    d_imgc = _encode(d_img, image_codes, "dt", "image_id")
    label_codes: dict[Hashable, int] = {}
    g_labc = _encode(g_lab, label_codes, "gt", "label")
    d_labc = _encode(d_lab, label_codes, "dt", "label")
    labels = _ordered(list(label_codes))
    g_split = _split_by_code(g_labc, len(label_codes))
    d_split = _split_by_code(d_labc, len(label_codes))
    eps = np.finfo(np.float64).eps

    ap: dict[Hashable, float] = {}
    precisions: dict[Hashable, NDArray[np.float64]] = {}
    recalls: dict[Hashable, NDArray[np.float64]] = {}
    scores: dict[Hashable, NDArray[np.float64]] = {}
    n_positives: dict[Hashable, int] = {}
    for label in labels:
        code = label_codes[label]
        g_rows, d_rows = g_split[code], d_split[code]
        # Ground truth of this class grouped by image (CSR over the images that have
        # some); a detection in any other image points at a final empty group.
        g_rows = g_rows[np.argsort(g_imgc[g_rows], kind="stable")]
        images, gt_start = np.unique(g_imgc[g_rows], return_index=True)
        gt_start = np.concatenate((gt_start, [len(g_rows), len(g_rows)])).astype(np.int64)
        gt_boxes = np.ascontiguousarray(g_box[g_rows])
        gt_difficult = np.ascontiguousarray(g_diff[g_rows])
        npos = int(len(g_rows) - np.count_nonzero(gt_difficult))

        ranked = d_rows[np.argsort(-d_score[d_rows], kind="stable")]
        det_imgc = d_imgc[ranked]
        slot = np.minimum(np.searchsorted(images, det_imgc), max(len(images) - 1, 0))
        found = (images[slot] == det_imgc) if len(images) else np.zeros(len(ranked), bool)
        det_img = np.where(found, slot, len(images)).astype(np.int64)
        tp = np.empty(len(ranked))
        fp = np.empty(len(ranked))
        det_boxes = np.ascontiguousarray(d_box[ranked])
        used = np.zeros(len(gt_boxes), np.bool_)
        _k._match_ranked(det_boxes, det_img, gt_boxes, gt_start, gt_difficult, thr, offset, tp, fp, used)
        tp = np.cumsum(tp)
        fp = np.cumsum(fp)
        precision = tp / np.maximum(tp + fp, eps)
        if npos > 0:
            recall = tp / npos
            ap[label] = _curve_ap(recall, precision, use_07_metric)
        else:
            recall = np.full(tp.shape, np.nan)
            ap[label] = math.nan
        ranked_scores = d_score[ranked]
        for arr in (precision, recall, ranked_scores):
            arr.flags.writeable = False
        precisions[label] = precision
        recalls[label] = recall
        scores[label] = ranked_scores
        n_positives[label] = npos

    defined = [v for v in ap.values() if not math.isnan(v)]
    return VocResult(
        ap=MappingProxyType(ap),
        map=float(np.mean(defined)) if defined else math.nan,
        precision=MappingProxyType(precisions),
        recall=MappingProxyType(recalls),
        scores=MappingProxyType(scores),
        n_positives=MappingProxyType(n_positives),
        iou_threshold=thr,
        use_07_metric=use_07_metric,
        pixel_offset=int(pixel_offset),
    )


def _read_records(
    records: Sequence[Mapping[str, Any]], name: str, *, with_score: bool
) -> tuple[list[Any], list[Any], NDArray[np.floating[Any]], NDArray[Any]]:
    """Columns of a list of annotation dicts: image ids, labels, (N, 4) boxes, flags/scores."""
    if isinstance(records, (str, bytes, Mapping)) or not isinstance(records, Iterable):
        raise TypeError(f"{name} must be a sequence of dicts, got {type(records).__name__}")
    records = list(records)
    images: list[Any] = []
    labels: list[Any] = []
    boxes: list[Any] = []
    extra: list[Any] = []
    key = ""
    for i, rec in enumerate(records):
        try:
            key = "image_id"
            images.append(rec[key])
            key = "label"
            labels.append(rec[key])
            key = "bbox"
            boxes.append(rec[key])
            if with_score:
                key = "score"
                extra.append(rec[key])
            else:
                extra.append(rec.get("difficult", False))
        except KeyError:
            raise ValueError(f"{name}[{i}] has no {key!r} key") from None
        except (TypeError, IndexError, AttributeError):
            raise TypeError(f"{name}[{i}] must be a dict, got {type(rec).__name__}") from None
    # Validate whole columns at once; find the offending record only on failure.
    try:
        box_arr = np.array(boxes) if boxes else np.empty((0, 4))
    except (ValueError, TypeError):
        box_arr = None
    if box_arr is None or box_arr.ndim != 2 or box_arr.shape[1] != 4:
        for i, box in enumerate(boxes):
            if np.shape(box) != (4,):
                raise ValueError(f"{name}[{i}]['bbox'] must be [x1, y1, x2, y2], got {box!r}")
    box_arr = as_boxes(cast(ArrayLike, box_arr), f"{name} bbox", dtype=np.float64)
    if with_score:
        try:
            extra_arr = as_float_array(np.array(extra), "score", ndim=1, dtype=np.float64, finite=False)
        except (TypeError, ValueError):
            extra_arr = None
        if extra_arr is None or not np.isfinite(extra_arr).all():
            for i, score in enumerate(extra):
                check_real(score, f"{name}[{i}]['score']")
            # every score is a finite real, but the column was not numeric (e.g. an int past
            # int64 made it an object array): convert one by one
            extra_arr = np.array([float(v) for v in extra], np.float64)
        return images, labels, box_arr, extra_arr
    for i, difficult in enumerate(extra):
        # a scalar 0 / 1 only: `array in (0, 1)` would raise NumPy's "truth value is ambiguous"
        is_flag = isinstance(difficult, (bool, int, float, np.bool_, np.integer, np.floating))
        if not is_flag or difficult not in (0, 1):
            raise ValueError(f"{name}[{i}]['difficult'] must be a bool, got {difficult!r}")
    return images, labels, box_arr, np.array(extra, np.bool_)


def _encode(values: list[Any], codes: dict[Hashable, int], name: str, key: str) -> NDArray[np.int64]:
    """Integer code of each value, adding new values to ``codes``."""
    out = np.empty(len(values), np.int64)
    for i, v in enumerate(values):
        try:
            out[i] = codes.setdefault(v, len(codes))
        except TypeError:
            raise TypeError(f"{name}[{i}][{key!r}] must be hashable, got {type(v).__name__}") from None
    return out


def _split_by_code(codes: NDArray[np.int64], n: int) -> list[NDArray[np.int64]]:
    """Row indices of each code 0..n-1, in input order."""
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(n + 1))
    return [order[bounds[c] : bounds[c + 1]] for c in range(n)]


def _ordered(values: list[Hashable]) -> list[Hashable]:
    """The labels sorted when they are mutually comparable, else in first-seen order."""
    try:
        return sorted(values)  # type: ignore[type-var]
    except TypeError:
        return values
