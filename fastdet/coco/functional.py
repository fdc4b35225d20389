"""``evaluate_coco``: the functional form, with named statistics and per-class AP."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fastdet.coco.cocoeval import COCOeval, _summary_line
from fastdet.coco.dataset import COCO
from fastdet.coco.params import Params, _check_iou_type


@dataclass(frozen=True)
class CocoEvalResult:
    """Result of :func:`evaluate_coco`.

    Attributes
    ----------
    stats : dict of str to float
        Named statistics (see :func:`evaluate_coco` for the keys); -1 where there
        is no ground truth.
    per_class_ap : dict of int (or str) to float
        Category id -> AP over all IoU thresholds, area 'all', the largest
        detection limit; -1.0 for a category without ground truth. Ids are
        as given (string category ids stay strings).
    precision : ndarray of shape (T, R, K, A, M)
        Interpolated precision at each recall threshold (-1: no ground truth).
    recall : ndarray of shape (T, K, A, M)
        Maximum recall (-1: no ground truth).
    scores : ndarray of shape (T, R, K, A, M)
        Score of the detection at which each precision entry is reached.
    iou_thresholds, rec_thresholds : ndarray
        The T IoU and R recall thresholds.
    cat_ids : list of int (or str)
        Category id of each K index (``[-1]`` when categories are not used).
    area_ranges : dict of str to (float, float)
        Label and bounds of each A index.
    max_detections : tuple of int
        The M detection limits, ascending.
    """

    stats: dict[str, float]
    per_class_ap: dict[Any, float]
    precision: NDArray[np.float64]
    recall: NDArray[np.float64]
    scores: NDArray[np.float64]
    iou_thresholds: NDArray[np.float64]
    rec_thresholds: NDArray[np.float64]
    cat_ids: list[Any]
    area_ranges: dict[str, tuple[float, float]]
    max_detections: tuple[int, ...]


_AREA_SUFFIX = {"small": "s", "medium": "m", "large": "l"}
_DEFAULT_AREAS = {
    "all": (0.0, 1e10),
    "small": (0.0, 1024.0),
    "medium": (1024.0, 9216.0),
    "large": (9216.0, 1e10),
}


def _plain_id(v: Any) -> Any:
    """An id as a plain Python int or str (NumPy scalars from ``np.unique`` unwrapped)."""
    return str(v) if isinstance(v, str) else int(v)


def _as_coco(obj: Any, name: str, *, verbose: bool = False) -> Any:
    if isinstance(obj, COCO) or (hasattr(obj, "dataset") and hasattr(obj, "getImgIds")):
        return obj
    if isinstance(obj, (str, os.PathLike, dict)):
        return COCO(obj, verbose=verbose)
    raise TypeError(f"{name} must be a COCO object, a json path or a dataset dict; got {type(obj).__name__}")


def evaluate_coco(
    gt: Any,
    dt: Any,
    *,
    iou_type: Literal["bbox", "segm", "keypoints"] = "bbox",
    iou_thresholds: ArrayLike | None = None,
    rec_thresholds: ArrayLike | None = None,
    max_detections: Iterable[int] | None = None,
    area_ranges: Mapping[str, tuple[float, float]] | None = None,
    use_cats: bool = True,
    img_ids: Iterable[int] | None = None,
    cat_ids: Iterable[int] | None = None,
    kpt_oks_sigmas: ArrayLike | None = None,
) -> CocoEvalResult:
    """Evaluate COCO-style detections; the functional form of :class:`COCOeval`.

    Parameters
    ----------
    gt : COCO, str, path-like or dict
        Ground truth: a fastdet / pycocotools ``COCO``, a json path or a dataset dict.
    dt : COCO, str, path-like, list of dict or ndarray of shape (N, 7)
        Results: a ``COCO`` result object, or anything ``COCO.loadRes`` accepts.
    iou_type : {'bbox', 'segm', 'keypoints'}
        What is matched: boxes (IoU), masks (IoU of the ``segmentation`` fields) or
        keypoints (OKS, see :mod:`fastdet.coco.keypoints`).
    iou_thresholds : array_like, optional
        Default ``np.linspace(.5, .95, 10)``.
    rec_thresholds : array_like, optional
        Default ``np.linspace(0, 1, 101)``.
    max_detections : iterable of int, optional
        Detection limits per image and category, sorted ascending; default
        (1, 10, 100), for keypoints (20,).
    area_ranges : mapping of str to (lo, hi), optional
        Default COCO's ``all`` / ``small`` / ``medium`` / ``large`` (keypoints:
        ``all`` / ``medium`` / ``large``). Must contain 'all'.
    use_cats : bool, default True
        False pools all categories of an image (pycocotools ``useCats=0``).
    img_ids, cat_ids : iterable of int, optional
        Restrict the evaluation (default: every image / category of ``gt``).
    kpt_oks_sigmas : array_like, optional
        Keypoints only: per-keypoint OKS sigmas (default COCO's 17).

    Returns
    -------
    CocoEvalResult
        ``stats`` keys, with ``L = max(max_detections)``: ``AP``, ``AP50``,
        ``AP75`` (when 0.5 / 0.75 are thresholds), ``APs``, ``APm``, ``APl``
        (per area label: ``small`` -> ``s`` etc., other labels as ``AP_<label>``),
        ``AR<m>`` for each limit m, and ``ARs``, ``ARm``, ``ARl``. AP and the
        area-range AR use the limit L. With the default limits the keys are
        exactly pycocotools' twelve (AP ... ARl) and the values equal its
        ``stats``. When L is not 100, every key except ``AR<m>`` gets the suffix
        ``@L`` (``AP@300``, ``APs@300``, ``ARl@300``) so the name says the limit;
        pycocotools would report stats[0] at 100 regardless (cocoapi #558, #584).
        Keypoints: pycocotools' ten, ``AP``, ``AP50``, ``AP75``, ``APm``, ``APl``,
        ``AR``, ``AR50``, ``AR75``, ``ARm``, ``ARl``, all at the limit L (suffix
        ``@L`` when L is not 20), equal to its keypoint ``stats``.

    Raises
    ------
    ValueError
        Malformed inputs or parameters.

    Notes
    -----
    AP is the mean over IoU thresholds, categories and the R recall thresholds
    of the interpolated precision (precision made monotone from the right),
    counting only entries > -1 (categories with ground truth), as in
    pycocotools' ``summarize``.

    Examples
    --------
    >>> gt = {"images": [{"id": 1}], "categories": [{"id": 1, "name": "a"}],
    ...       "annotations": [{"id": 1, "image_id": 1, "category_id": 1,
    ...                        "bbox": [0, 0, 10, 10], "area": 100, "iscrowd": 0}]}
    >>> res = evaluate_coco(gt, [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 9], "score": 0.9}])
    >>> res.stats["AP"], res.stats["AP50"], res.per_class_ap  # tp / (tp + fp + eps), as pycocotools
    (0.8999999999999999, 0.9999999999999999, {1: 0.8999999999999999})
    """
    _check_iou_type(iou_type)
    gt_coco = _as_coco(gt, "gt")
    if isinstance(dt, (list, np.ndarray, str, os.PathLike)):
        # a pycocotools ground truth loads results through a fastdet view of its dataset
        loader = gt_coco if isinstance(gt_coco, COCO) else COCO(gt_coco.dataset, verbose=False)
        dt_coco = loader.loadRes(dt, verbose=False)
    else:
        if isinstance(dt, dict) and not isinstance(dt.get("annotations"), list):
            raise ValueError(
                "dt given as a dict must be a COCO dataset with an 'annotations' list of results"
            )
        dt_coco = _as_coco(dt, "dt")
    keypoints = iou_type == "keypoints"
    if max_detections is None:
        max_detections = (20,) if keypoints else (1, 10, 100)
    if area_ranges is None and keypoints:
        area_ranges = {k: v for k, v in _DEFAULT_AREAS.items() if k != "small"}
    ev = COCOeval(gt_coco, dt_coco, iou_type, verbose=False)
    if kpt_oks_sigmas is not None:
        if not keypoints:
            raise ValueError("kpt_oks_sigmas is for iou_type='keypoints'")
        ev.params.kpt_oks_sigmas = np.asarray(kpt_oks_sigmas, dtype=np.float64).reshape(-1)
    maxd, areas = _configure(
        ev.params, iou_thresholds, rec_thresholds, max_detections, area_ranges, use_cats, img_ids, cat_ids
    )
    ev.evaluate()
    ev.accumulate()
    return _result(ev.eval, ev.params, maxd, areas)


def _configure(
    p: Params,
    iou_thresholds: ArrayLike | None,
    rec_thresholds: ArrayLike | None,
    max_detections: Iterable[int],
    area_ranges: Mapping[str, tuple[float, float]] | None,
    use_cats: bool,
    img_ids: Iterable[int] | None,
    cat_ids: Iterable[int] | None,
) -> tuple[list[int], dict[str, tuple[float, float]]]:
    """Set ``p`` from :func:`evaluate_coco`'s options; returns the sorted limits and the area ranges."""
    maxd = sorted(int(m) for m in max_detections)
    if not maxd or maxd[0] < 0:
        raise ValueError(f"max_detections must be non-negative integers, got {list(max_detections)}")
    areas = dict(_DEFAULT_AREAS if area_ranges is None else area_ranges)
    if "all" not in areas:
        raise ValueError(f"area_ranges must contain an 'all' range, got labels {list(areas)}")
    if iou_thresholds is not None:
        p.iouThrs = np.asarray(iou_thresholds, dtype=np.float64).reshape(-1)
        if not np.isfinite(p.iouThrs).all() or len(p.iouThrs) == 0:
            raise ValueError(f"iou_thresholds must be finite numbers, got {iou_thresholds}")
    if rec_thresholds is not None:
        p.recThrs = np.asarray(rec_thresholds, dtype=np.float64).reshape(-1)
        if not np.isfinite(p.recThrs).all():
            raise ValueError(f"rec_thresholds must be finite numbers, got {rec_thresholds}")
    p.maxDets = maxd
    p.areaRng = [[float(lo), float(hi)] for lo, hi in areas.values()]
    p.areaRngLbl = list(areas)
    p.useCats = 1 if use_cats else 0
    if img_ids is not None:
        p.imgIds = list(img_ids)
    if cat_ids is not None:
        p.catIds = list(cat_ids)
    return maxd, areas


def _result(
    e: Mapping[str, Any], p: Params, maxd: list[int], areas: dict[str, tuple[float, float]]
) -> CocoEvalResult:
    """The :class:`CocoEvalResult` of an accumulated evaluation (``e``: ``COCOeval.eval``)."""
    keypoints = getattr(p, "iouType", "bbox") == "keypoints"
    limit = maxd[-1]
    tag = "" if limit == (20 if keypoints else 100) else f"@{limit}"

    def stat(ap: int, thr: float | None, area: str, m: int) -> float:
        return float(_summary_line(e, p, ap, thr, area, m)[0])

    labels = [lbl for lbl in areas if lbl != "all"]
    stats: dict[str, float] = {}
    if keypoints:  # pycocotools' keypoint summary: AP and AR alike, all at the limit
        for ap, kind in ((1, "AP"), (0, "AR")):
            stats[f"{kind}{tag}"] = stat(ap, None, "all", limit)
            for thr, name in ((0.5, "50"), (0.75, "75")):
                if np.any(p.iouThrs == thr):
                    stats[f"{kind}{name}{tag}"] = stat(ap, thr, "all", limit)
            for lbl in labels:
                stats[f"{kind}{_AREA_SUFFIX.get(lbl, f'_{lbl}')}{tag}"] = stat(ap, None, lbl, limit)
    else:
        stats[f"AP{tag}"] = stat(1, None, "all", limit)
        for thr, name in ((0.5, "AP50"), (0.75, "AP75")):
            if np.any(p.iouThrs == thr):
                stats[name + tag] = stat(1, thr, "all", limit)
        for lbl in labels:
            suffix = _AREA_SUFFIX.get(lbl, f"_{lbl}")
            stats[f"AP{suffix}{tag}"] = stat(1, None, lbl, limit)
        for m in maxd:
            stats[f"AR{m}"] = stat(0, None, "all", m)
        for lbl in labels:
            suffix = _AREA_SUFFIX.get(lbl, f"_{lbl}")
            stats[f"AR{suffix}{tag}"] = stat(0, None, lbl, limit)
    a_all = p.areaRngLbl.index("all")
    per_class: dict[Any, float] = {}
    for k, cat in enumerate(p.catIds if p.useCats else [-1]):
        s = e["precision"][:, :, k, a_all, -1]
        valid = s[s > -1]
        per_class[_plain_id(cat)] = float(np.mean(valid)) if len(valid) else -1.0
    return CocoEvalResult(
        stats=stats,
        per_class_ap=per_class,
        precision=e["precision"],
        recall=e["recall"],
        scores=e["scores"],
        iou_thresholds=np.asarray(p.iouThrs, dtype=np.float64),
        rec_thresholds=np.asarray(p.recThrs, dtype=np.float64),
        cat_ids=[_plain_id(c) for c in (p.catIds if p.useCats else [-1])],
        area_ranges={
            lbl: (float(lo), float(hi)) for lbl, (lo, hi) in zip(p.areaRngLbl, p.areaRng, strict=True)
        },
        max_detections=tuple(maxd),
    )
