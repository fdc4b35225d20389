"""TIDE: the share of missing AP due to each kind of detection error (Bolya et al., ECCV 2020).

:func:`tide` gives the numbers of tidecv 1.0.1 (``TIDE().evaluate(gt, dt,
mode=TIDE.BOX)``, ``get_main_errors()``, ``get_special_errors()``) on COCO
ground truth and results, to 1e-9 (only the order in which per-class APs are
summed differs), quirks included:

Matching (one IoU threshold ``pos_threshold``, default 0.5). Per image, the
detections sorted by descending score (stable) and cut to ``max_detections``
(100) take, in turn, the unmatched ground truth of their class with the
highest IoU (first on ties) when that IoU is ``>= pos_threshold``. A crowd
region (``iscrowd``) is not ground truth: an unmatched detection of its class
whose intersection over the detection's area is ``> pos_threshold`` (strictly)
is ignored. The IoU is pycocotools' ``maskUtils.iou`` of the boxes, or of the masks with ``iou_type='segm'``.

Errors, tested in this order for each unmatched or ignored detection (``bg``
= ``background_threshold``, default 0.1; "max IoU" is over all ground truth of
the image, matched or not): no ground truth in the image: Bkg; max same-class
IoU in ``[bg, pos_threshold]``: Loc; max other-class IoU ``>= pos_threshold``:
Cls; max IoU with a matched same-class box ``>= pos_threshold``: Dupe; max IoU
``<= bg``: Bkg; else Both. Ground truth left unmatched and not the target of
a Cls or Loc error is Miss.

dAP of a main error type: the AP after fixing every error of that type alone,
minus the AP, clipped at 0. Fixing a Cls (Loc) error turns it into a true
positive of the ground truth's (its own) class if the ground truth is
unmatched and this detection has the highest score (first on ties) among the
Cls and Loc errors pointing at it; otherwise the detection is removed. Fixing
Both, Dupe or Bkg removes the detection; fixing Miss removes the ground truth.
FalsePos: AP with every false positive scored 0 and every true positive 1.
FalseNeg: AP with the unmatched ground truth removed. Neither is clipped.

AP is tidecv's own: per class, precision made non-increasing from the right,
then the mean over recall ``k / 100`` (k = 0..100) of the precision at the
first detection whose recall reaches it, x 100; mAP is the mean over classes.

Quirks of tidecv kept here (they change numbers, so a user comparing with
tidecv sees the same): a class with detections but no ground truth counts
with AP 0 in the mean, and drops out of a fixed mean once no detection is
left in it; tied scores are ordered by image and input order for the AP but,
in every fixed AP, false positives come before true positives of equal score
(so a fix can move the AP through tie order alone); a detection inside a crowd
region still gets an error and, if it is the best Cls/Loc candidate of a
ground truth, becomes a true positive when fixed; crowd regions with category
-1 match every class; unlike COCO, ``area`` and the ``ignore`` flag are not used.

Where tidecv fails, fastdet answers: no class to average (tidecv divides by
zero) gives AP 0; a Cls/Loc target whose best candidate score is <= -1 (tidecv
raises ``KeyError``) is removed when fixed; results on images that are not in
the ground truth raise ``ValueError`` (tidecv drops them); ground truth on
images missing from ``images`` is not used (tidecv raises ``KeyError``); no
``segmentation`` field is needed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from fastdet._kernels import analysis as _k
from fastdet._kernels.coco import _radix_argsort_desc
from fastdet._validate import check_choice, check_int, check_threshold
from fastdet.analysis._inputs import Detections, GroundTruth, read_detections, read_ground_truth

__all__ = ["ERROR_TYPES", "SPECIAL_ERROR_TYPES", "TideResult", "tide"]

#: The six main error types, in tidecv's order: classification, localisation, both,
#: duplicate, background, missed ground truth.
ERROR_TYPES = ("Cls", "Loc", "Both", "Dupe", "Bkg", "Miss")
#: The two special error types: perfect precision, perfect recall.
SPECIAL_ERROR_TYPES = ("FalsePos", "FalseNeg")

#: Largest number of IoU values held at once; bigger inputs are processed in chunks of images.
_CHUNK_ELEMENTS = 1 << 22


@dataclass(frozen=True)
class TideResult:
    """TIDE's numbers for one set of detections (AP and dAP in points, 0 to 100, as tidecv).

    Attributes
    ----------
    ap : float
        AP at ``pos_threshold`` as TIDE computes it.
    main_errors : dict of str to float
        dAP of each of :data:`ERROR_TYPES`.
    special_errors : dict of str to float
        dAP of ``"FalsePos"`` and ``"FalseNeg"``.
    counts : dict of str to int
        Number of errors of each main type.
    per_class_ap : dict of int to float
        AP of each category counted in the mean.
    dt_error : ndarray of shape (N,), int8
        Per detection (input order): index into :data:`ERROR_TYPES`, -1 for a
        true positive, -2 for a detection past ``max_detections``.
    dt_ignored : ndarray of shape (N,), bool
        The detection lies in a crowd region of its class.
    dt_gt : ndarray of shape (N,), int64
        Index (in the ground-truth annotation list) of the box a detection
        matched, or that its Cls / Loc / Dupe error refers to; -1 otherwise.
    gt_missed : ndarray of shape (M,), bool
        Per ground-truth annotation: a Miss error.
    """

    ap: float
    main_errors: dict[str, float]
    special_errors: dict[str, float]
    counts: dict[str, int]
    per_class_ap: dict[int, float]
    pos_threshold: float
    background_threshold: float
    iou_type: str
    name: str
    dt_error: NDArray[np.int8] = field(repr=False)
    dt_ignored: NDArray[np.bool_] = field(repr=False)
    dt_gt: NDArray[np.int64] = field(repr=False)
    gt_missed: NDArray[np.bool_] = field(repr=False)

    def summary(self) -> str:
        """The tables tidecv's ``TIDE.summarize()`` prints, as one string (``print`` it)."""
        mode = "bbox" if self.iou_type == "bbox" else "mask"
        lines = [
            f"-- {self.name} --",
            "",
            f"{mode} AP @ {int(self.pos_threshold * 100):d}: {self.ap:.2f}",
            "",
        ]
        lines += _table(
            [["Type", *ERROR_TYPES], [" dAP", *(f"{self.main_errors[k]:6.2f}" for k in ERROR_TYPES)]],
            "Main Errors",
        )
        lines.append("")
        lines += _table(
            [
                ["Type", *SPECIAL_ERROR_TYPES],
                [" dAP", *(f"{self.special_errors[k]:6.2f}" for k in SPECIAL_ERROR_TYPES)],
            ],
            "Special Error",
        )
        lines.append("")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def to_dict(self) -> dict[str, Any]:
        """The numbers as plain Python objects (JSON-ready)."""
        return {
            "ap": self.ap,
            "main_errors": dict(self.main_errors),
            "special_errors": dict(self.special_errors),
            "counts": dict(self.counts),
            "per_class_ap": {str(k): v for k, v in self.per_class_ap.items()},
            "pos_threshold": self.pos_threshold,
            "background_threshold": self.background_threshold,
            "iou_type": self.iou_type,
        }

    def plot(self, path: str | os.PathLike[str], *, title: str | None = None) -> Path:
        """Draw TIDE's summary figure (pie of error shares, dAP bars) into a PNG; returns its path.

        Needs matplotlib (``pip install "fastdet[plot]"``).
        """
        from fastdet.analysis._plot import plot_tide

        return plot_tide(self, path, title=title)


def _table(rows: list[list[str]], title: str) -> list[str]:
    """tidecv's ``print_table`` layout: right-aligned columns between '=' rules, '-' under the header."""
    widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
    divider = "--" + "---".join("-" * w for w in widths) + "-"
    left_pad = (len(divider) - len(title)) // 2
    out = [title.rjust(left_pad + len(title)), divider.replace("-", "=")]
    for i, row in enumerate(rows):
        out.append("  " + "   ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)) + "  ")
        if i == 0:
            out.append(divider)
    out.append(divider.replace("-", "="))
    return out


def tide(
    gt: Any,
    dt: Any,
    *,
    iou_type: Literal["bbox", "segm"] = "bbox",
    pos_threshold: float = 0.5,
    background_threshold: float = 0.1,
    max_detections: int = 100,
    name: str | None = None,
) -> TideResult:
    """TIDE's error breakdown of COCO detections, equal to tidecv 1.0.1.

    Parameters
    ----------
    gt : COCO, str, path-like or dict
        Ground truth: a ``fastdet.COCO`` (or pycocotools ``COCO``) object, a
        COCO json path or a dataset dict.
    dt : COCO, str, path-like or list of dict
        Detections: a result object from ``loadRes``, a results json path or a
        list of ``{"image_id", "category_id", "bbox": [x, y, w, h], "score"}``.
        A path or a list is fastest (a result object's dicts are built first).
    iou_type : {"bbox", "segm"}
        ``"segm"``: mask IoU (tidecv's ``mode=TIDE.MASK``): ground-truth
        ``segmentation`` through COCO's ``annToRLE`` on the image's ``height`` /
        ``width``, each result's ``segmentation`` (``bbox`` not needed); a
        missing segmentation or image size raises ``ValueError``.
    pos_threshold : float, default 0.5
        IoU for a true positive (``>=``) and for a crowd region to ignore a detection (``>``), in (0, 1].
    background_threshold : float, default 0.1
        IoU at or below which a detection is background, in [0, 1].
    max_detections : int, default 100
        Detections kept per image, by descending score.
    name : str, optional
        Run name in :meth:`TideResult.summary`; default: the results file name
        without extension, else ``"detections"``.

    Returns
    -------
    TideResult

    Raises
    ------
    ValueError
        A threshold out of range, malformed input (naming the file, entry and
        field), or a result on an image that is not in the ground truth.
    TypeError
        ``gt`` or ``dt`` of an unsupported type.

    Notes
    -----
    Bolya, Foley, Hays, Hoffman, "TIDE: A General Toolbox for Identifying
    Object Detection Errors", ECCV 2020. The exact rules, and tidecv's quirks
    that are kept, are in this module's docstring.

    Examples
    --------
    >>> gt = {"images": [{"id": 1}], "categories": [{"id": 1}, {"id": 2}],
    ...       "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10]},
    ...                       {"id": 2, "image_id": 1, "category_id": 2, "bbox": [20, 0, 10, 10]}]}
    >>> dt = [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "score": 0.9},
    ...       {"image_id": 1, "category_id": 1, "bbox": [20, 0, 10, 10], "score": 0.8}]
    >>> r = tide(gt, dt)
    >>> round(r.ap, 2), r.counts["Cls"], r.counts["Miss"]
    (50.0, 1, 0)
    >>> round(r.main_errors["Cls"], 2)
    50.0
    """
    check_choice(iou_type, "iou_type", ("bbox", "segm"))
    pos = check_threshold(pos_threshold, "pos_threshold")
    if pos == 0.0:
        raise ValueError("pos_threshold must be in (0, 1]: at 0 every detection would match")
    bg = check_threshold(background_threshold, "background_threshold")
    max_det = check_int(max_detections, "max_detections", minimum=1)
    g = read_ground_truth(gt, need_anns=iou_type != "bbox")
    d = read_detections(dt, g, name, need_bbox=iou_type == "bbox")
    return _tide(g, d, pos, bg, max_det, iou_type)


def _offsets(image: NDArray[np.int64], n_images: int) -> NDArray[np.int64]:
    off = np.zeros(n_images + 1, np.int64)
    np.cumsum(np.bincount(image, minlength=n_images), out=off[1:])
    return off


def _image_score_order(image: NDArray[np.int64], score: NDArray[np.float64]) -> NDArray[np.int64] | None:
    """Stable order by image position, then descending score; None when the input is in it already
    (detector output often is)."""
    if len(image) <= 1:
        return None
    step = np.diff(image)
    if (step >= 0).all() and (score[1:][step == 0] <= score[:-1][step == 0]).all():
        return None
    return np.lexsort((-score, image)).astype(np.int64)


def _class_codes(
    g_cat: NDArray[np.int64], d_cat: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """The sorted distinct category ids of both columns, and each entry's index among them."""
    both = np.concatenate([g_cat, d_cat])
    if not len(both):
        return both, g_cat.copy(), d_cat.copy()
    lo, hi = int(both.min()), int(both.max())
    if hi - lo < max(1 << 16, 2 * len(both)):  # a table over the id range: no sort
        present = np.zeros(hi - lo + 1, np.bool_)
        present[both - lo] = True
        classes = np.flatnonzero(present) + lo
        rank = np.cumsum(present) - 1
        codes = rank[both - lo]
    else:
        classes, codes = np.unique(both, return_inverse=True)
    codes = codes.astype(np.int64, copy=False).reshape(-1)
    return classes.astype(np.int64, copy=False), codes[: len(g_cat)], codes[len(g_cat) :]


def _take(values: NDArray[np.int64], index: NDArray[np.int64]) -> NDArray[np.int64]:
    """``values[index]`` where ``index >= 0``, else -1."""
    if not len(values):
        return np.full(len(index), -1, np.int64)
    return np.where(index >= 0, values[np.maximum(index, 0)], -1).astype(np.int64)


def _box_ious(
    d_box: NDArray[np.float64],
    dt_off: NDArray[np.int64],
    g_box: NDArray[np.float64],
    g_crowd: NDArray[np.int64],
    gt_off: NDArray[np.int64],
    i0: int,
    i1: int,
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """IoU blocks (detections x ground truth) of images i0..i1-1, and their offsets."""
    sizes = np.diff(dt_off[i0 : i1 + 1]) * np.diff(gt_off[i0 : i1 + 1])
    iou_off = np.zeros(i1 - i0 + 1, np.int64)
    np.cumsum(sizes, out=iou_off[1:])
    out = np.empty(int(iou_off[-1]), np.float64)
    _k.coco_box_iou_blocks(d_box, dt_off, g_box, g_crowd, gt_off, i0, i1, iou_off, out)
    return out, iou_off


def _mask_ious(g: GroundTruth, g_order: NDArray[np.int64], d: Detections, d_order: NDArray[np.int64]) -> Any:
    """``_box_ious``'s contract on the masks (pycocotools' ``maskUtils.iou``, as tidecv's mask mode).

    Ground truth: COCO's ``annToRLE`` on the image's height and width (tidecv's ``toRLE``);
    detections: their ``segmentation`` (an RLE of the image's size, or polygons).
    """
    from fastdet import _rle
    from fastdet.coco.segm import segment_masks

    def measured(
        anns: list[Any] | None, rows: NDArray[np.int64], image: NDArray[np.int64], where: str
    ) -> Any:
        assert anns is not None
        assert g.image_hw is not None
        entries = rows.tolist()
        segs = []
        for e in entries:
            a = anns[e]
            if not isinstance(a, dict) or "segmentation" not in a:
                raise ValueError(f"{where}: entry {e} has no 'segmentation' (needed for iou_type 'segm')")
            segs.append(a["segmentation"])
        hw = g.image_hw[image]
        if len(hw) and (hw < 0).any():
            e = entries[int(np.flatnonzero((hw < 0).any(axis=1))[0])]
            raise ValueError(f"{where}: entry {e} is on an image without integer 'height' and 'width'")
        return segment_masks(segs, hw, where, entries)

    gm = measured(g.anns, g_order, g.image[g_order], g.where)
    dm = measured(d.rows, d_order, d.image[d_order], d.where)

    def blocks(
        d_box: Any, dt_off: NDArray[np.int64], g_box: Any, g_crowd: NDArray[np.int64],
        gt_off: NDArray[np.int64], i0: int, i1: int,
    ) -> tuple[NDArray[np.float64], NDArray[np.int64]]:  # fmt: skip
        d_off = np.ascontiguousarray(dt_off[i0 : i1 + 1] - dt_off[i0])
        g_off = np.ascontiguousarray(gt_off[i0 : i1 + 1] - gt_off[i0])
        d_sel = np.arange(dt_off[i0], dt_off[i1], dtype=np.int64)
        g_sel = np.arange(gt_off[i0], gt_off[i1], dtype=np.int64)
        crowd = np.ascontiguousarray(g_crowd[gt_off[i0] : gt_off[i1]])
        values, off = _rle._iou(dm, gm, crowd, d_sel, g_sel, d_off, g_off)
        return values, off

    return blocks


def _chunks(dt_off: NDArray[np.int64], gt_off: NDArray[np.int64]) -> list[tuple[int, int]]:
    """Image ranges whose IoU blocks hold at most about ``_CHUNK_ELEMENTS`` values together."""
    sizes = np.diff(dt_off) * np.diff(gt_off)
    ends = np.cumsum(sizes)
    out = []
    i0, done = 0, 0
    n = len(sizes)
    while i0 < n:
        i1 = int(np.searchsorted(ends, done + _CHUNK_ELEMENTS, side="right"))
        i1 = max(i1, i0 + 1)
        out.append((i0, i1))
        done = int(ends[i1 - 1])
        i0 = i1
    return out


def _tide(g: GroundTruth, d: Detections, pos: float, bg: float, max_det: int, iou_type: str) -> TideResult:
    n_img = len(g.image_ids)
    classes, g_code, d_code = _class_codes(g.category, d.category)
    n_cls = len(classes)

    # ground truth of listed images, per image: ordinary boxes first, then crowd regions, input order
    listed = np.flatnonzero(g.image >= 0)
    g_order = listed[np.lexsort((g.crowd[listed], g.image[listed]))]
    g_img = g.image[g_order]
    g_crowd = g.crowd[g_order]
    gt_off = _offsets(g_img, n_img)
    n_real = np.bincount(g_img[~g_crowd], minlength=n_img).astype(np.int64)
    g_cls = g_code[g_order]
    g_cls_kernel = np.where(g_crowd & (g.category[g_order] == -1), -1, g_cls)  # -1: a region of any class
    g_box = np.ascontiguousarray(g.bbox[g_order])

    # detections per image by descending score (stable), the first max_det of each
    d_order = _image_score_order(d.image, d.score)
    in_order = d_order is None  # detector output: already by image, then by descending score
    if d_order is None:
        d_order = np.arange(len(d.image), dtype=np.int64)
    d_img = d.image[d_order] if not in_order else d.image
    rank = np.arange(len(d_order)) - _offsets(d_img, n_img)[d_img]
    kept = rank < max_det
    if in_order and kept.all():  # nothing to reorder or drop: no gathers
        dt_off = _offsets(d_img, n_img)
        d_cls = d_code
        d_score = np.ascontiguousarray(d.score)
        d_box = np.ascontiguousarray(d.bbox)
    else:
        d_order = d_order[kept]
        d_img = d.image[d_order]
        dt_off = _offsets(d_img, n_img)
        d_cls = d_code[d_order]
        d_score = np.ascontiguousarray(d.score[d_order])
        d_box = np.ascontiguousarray(d.bbox[d_order])

    n_dt, n_gt = len(d_order), len(g_order)
    state = np.empty(n_dt, np.int64)
    err = np.empty(n_dt, np.int64)
    target = np.empty(n_dt, np.int64)
    fix = np.empty(n_dt, np.int64)
    used = np.zeros(n_gt, np.int64)
    usable = np.zeros(n_gt, np.int64)
    best = np.full(n_gt, -1, np.int64)
    best_score = np.full(n_gt, -1.0)
    crowd_i64 = g_crowd.astype(np.int64)
    # the only box-specific step; masks keep its contract (per image a detections x ground truth
    # block, crowd columns as intersection / detection area)
    iou_blocks = _box_ious if iou_type == "bbox" else _mask_ious(g, g_order, d, d_order)
    for i0, i1 in _chunks(dt_off, gt_off):
        iou, iou_off = iou_blocks(d_box, dt_off, g_box, crowd_i64, gt_off, i0, i1)
        _k.tide_match(
            iou, iou_off, i0, i1, dt_off, d_cls, d_score, gt_off, n_real, g_cls_kernel, pos, bg,
            state, err, target, fix, used, usable, best, best_score,
        )  # fmt: skip

    # data points: every detection that is not ignored, with its class and true/false flag
    tp = (state == _k.TP).astype(np.int64)
    base_cls = np.where(state != _k.IGNORED, d_cls, -1).astype(np.int64)
    real = ~g_crowd
    gt_count = np.bincount(g_cls[real], minlength=n_cls).astype(np.int64)
    in_k = ((gt_count > 0) | (np.bincount(base_cls[base_cls >= 0], minlength=n_cls) > 0)).astype(np.int64)
    class_ap = np.empty(n_cls, np.float64)
    order = _radix_argsort_desc(d_score)  # stable: ties in tidecv's insertion order (image, then score)
    ap = _k.tide_map(base_cls[order], tp[order], gt_count, in_k, class_ap)
    per_class_ap = {int(classes[c]): float(class_ap[c]) for c in np.flatnonzero(~np.isnan(class_ap))}

    # every fixed AP: errors are re-inserted before the true positives, which decides score ties
    fixed_order = np.empty_like(order)
    _k.false_first_in_ties(order, d_score, tp, fixed_order)
    f_cls, f_tp, f_err = base_cls[fixed_order], tp[fixed_order], err[fixed_order]
    f_fix = np.ascontiguousarray(fix[fixed_order])
    f_target = target[fixed_order]
    # a fixed Cls error becomes a true positive of the ground truth's class, a Loc error of its own
    f_fixed_cls = np.where(f_err == _k.CLS, _take(g_cls, f_target), d_cls[fixed_order])

    def fixed_ap(cls: NDArray[np.int64], is_tp: NDArray[np.int64], n_gt: NDArray[np.int64]) -> float:
        return float(_k.tide_map(cls, is_tp, n_gt, in_k, np.empty(n_cls, np.float64)))

    fixed = np.empty(5, np.float64)
    _k.tide_fixed_maps(f_cls, f_tp, f_err, f_fix, f_fixed_cls, gt_count, in_k, fixed)
    main = {key: max(float(fixed[code]) - ap, 0.0) for code, key in enumerate(ERROR_TYPES[:5])}
    missed = real & (used == 0) & (usable == 0)
    missed_count = np.bincount(g_cls[missed], minlength=n_cls).astype(np.int64)
    main["Miss"] = max(fixed_ap(f_cls, f_tp, gt_count - missed_count) - ap, 0.0)
    tp_first = np.concatenate([np.flatnonzero(f_tp == 1), np.flatnonzero(f_tp == 0)])  # scores 1 and 0
    matched_count = np.bincount(g_cls[real & (used == 1)], minlength=n_cls).astype(np.int64)
    special = {
        "FalsePos": fixed_ap(f_cls[tp_first], f_tp[tp_first], gt_count) - ap,
        "FalseNeg": fixed_ap(f_cls, f_tp, matched_count) - ap,
    }
    counts = {key: int((err == code).sum()) for code, key in enumerate(ERROR_TYPES[:5])}
    counts["Miss"] = int(missed.sum())

    n_in = len(d.score)
    dt_error = np.full(n_in, -2, np.int8)
    dt_error[d_order] = np.where(state == _k.TP, -1, err)
    dt_ignored = np.zeros(n_in, bool)
    dt_ignored[d_order] = state == _k.IGNORED
    dt_gt = np.full(n_in, -1, np.int64)
    dt_gt[d_order] = _take(g_order, target)
    gt_missed = np.zeros(len(g.category), bool)
    gt_missed[g_order] = missed
    return TideResult(
        ap=float(ap),
        main_errors=main,
        special_errors=special,
        counts=counts,
        per_class_ap=per_class_ap,
        pos_threshold=pos,
        background_threshold=bg,
        iou_type=iou_type,
        name=d.name,
        dt_error=dt_error,
        dt_ignored=dt_ignored,
        dt_gt=dt_gt,
        gt_missed=gt_missed,
    )
