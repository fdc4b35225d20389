"""``COCOeval``: pycocotools' evaluator, as a thin shell over the evaluation core."""

from __future__ import annotations

import copy
import datetime
import time
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

import numpy as np

from fastdet._kernels import coco as _k
from fastdet.coco import dropin as _dropin
from fastdet.coco import keypoints as _keypoints
from fastdet.coco.dataset import _columns_of
from fastdet.coco.evaluation import _accumulate, _evaluate, _Evaluation, cell_sizes
from fastdet.coco.params import Params, _check_iou_type


class COCOeval:
    """Drop-in for pycocotools' ``COCOeval`` (bbox, segm, keypoints), with Numba kernels.

    Parameters
    ----------
    cocoGt, cocoDt : COCO
        Ground truth and results, fastdet or pycocotools ``COCO`` objects.
    iouType : {'bbox', 'segm', 'keypoints'}, default 'bbox'
        Box IoU; mask IoU on the ``segmentation`` fields (see :mod:`fastdet.coco.segm`);
        or OKS for ``'keypoints'`` (see :mod:`fastdet.coco.keypoints`; 10 summary lines at
        maxDets=20). (pycocotools' default is ``'segm'``; fastdet's is ``'bbox'``.)
    verbose : bool, default True
        Print pycocotools' progress lines (the summary is always printed).

    Attributes
    ----------
    params : Params
    eval : dict
        After ``accumulate()``: ``precision`` [T, R, K, A, M], ``recall``
        [T, K, A, M], ``scores`` [T, R, K, A, M], ``params``, ``counts``, ``date``.
        -1 marks settings without ground truth.
    stats : ndarray of shape (12,) (keypoints: (10,))
        After ``summarize()``.
    evalImgs, ious
        pycocotools' per-image records and IoU matrices, computed on first access.
    _gts, _dts
        pycocotools' annotation dicts by ``(imgId, catId)``, built by :meth:`_prepare`
        (after a fast ``evaluate()``, on first access).

    Raises
    ------
    ValueError
        An unknown ``iouType``.

    Notes
    -----
    Results equal pycocotools' bit for bit, including the quirks listed in the
    module docstring (crowd IoU over the detection area, repeated crowd matches,
    ``iscrowd`` as the ignore flag, the ``area`` field for area ranges, stable
    ties, stats[0] at maxDets=100, -1 for no ground truth).

    pycocotools' per-image methods are here too, with its outputs:
    :meth:`_prepare`, :meth:`computeIoU`, :meth:`computeOks` and
    :meth:`evaluateImg` (see :mod:`fastdet.coco.dropin`). ``evaluate()`` does
    not call them: it runs Numba kernels over all images at once. **Slow path:**
    when a subclass (or the instance) overrides ``_prepare``, ``evaluateImg`` or
    the IoU method of its ``iouType`` (``computeIoU``; ``computeOks`` for
    keypoints), ``evaluate()`` runs pycocotools' Python loop instead, calling the
    overrides, and ``accumulate()`` then reads ``evalImgs``, so the subclass's
    numbers hold (at pycocotools' speed, not fastdet's). A bbox subclass that
    overrides ``computeIoU`` alone has it called once per cell, as pycocotools
    does, and its matrices matched by the kernels (the loop again if one is not a
    (D, G) array). ``accumulate()`` also reads ``evalImgs`` when they were
    assigned after ``evaluate()``; edits made in place to the records of a fast
    ``evaluate()`` are not seen (assign the list to have them read).

    Examples
    --------
    >>> from fastdet.coco import COCO, COCOeval
    >>> gt = COCO({"images": [{"id": 1}], "categories": [{"id": 1, "name": "a"}],
    ...            "annotations": [{"id": 1, "image_id": 1, "category_id": 1,
    ...                             "bbox": [0, 0, 10, 10], "area": 100, "iscrowd": 0}]},
    ...           verbose=False)
    >>> dt = gt.loadRes([{"image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 9], "score": 0.9}])
    >>> E = COCOeval(gt, dt, "bbox", verbose=False)
    >>> E.evaluate(); E.accumulate(); E.summarize()  # doctest: +ELLIPSIS
     Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.900
    ...
    >>> float(E.stats[1])  # precision is tp / (tp + fp + eps), as in pycocotools
    0.9999999999999999
    """

    def __init__(
        self, cocoGt: Any = None, cocoDt: Any = None, iouType: str = "bbox", *, verbose: bool = True
    ):
        _check_iou_type(iouType)
        self.cocoGt = cocoGt
        self.cocoDt = cocoDt
        self._verbose = verbose
        self.params = Params(iouType=iouType)
        self._paramsEval: Any = {}
        self.eval: dict[str, Any] = {}
        self.stats: Any = []
        self._ev: _Evaluation | None = None
        self._evalImgs: Any = defaultdict(list)
        self._ious: Any = {}
        self._records_given = False  # evalImgs assigned (slow path, or by the caller): accumulate reads them
        self._gts_store: Any = defaultdict(list)  # None: build from _paramsEval on first access
        self._dts_store: Any = defaultdict(list)
        if cocoGt is not None:
            self.params.imgIds = sorted(cocoGt.getImgIds())
            self.params.catIds = sorted(cocoGt.getCatIds())

    def _say(self, text: str) -> None:
        if self._verbose:
            print(text)

    def _overrides(self) -> list[str]:
        """The per-image methods a subclass or the instance overrides (they need the slow path)."""
        iou_method = "computeOks" if self.params.iouType == "keypoints" else "computeIoU"
        cls = type(self)
        return [
            name
            for name in ("_prepare", "evaluateImg", iou_method)
            if name in self.__dict__ or getattr(cls, name) is not getattr(COCOeval, name)
        ]

    def evaluate(self) -> None:
        """Match detections to ground truth on every image and category.

        Runs pycocotools' per-image loop instead (the slow path) when per-image
        methods are overridden; see the class notes.
        """
        overrides = self._overrides()
        p = self.params
        own_iou = overrides == ["computeIoU"] and p.iouType == "bbox" and p.useSegm is None
        if overrides and not own_iou:
            _dropin.evaluate_with_overrides(self)
            return
        tic = time.time()
        self._say("Running per image evaluation...")
        p = self.params
        if p.useSegm is not None:
            p.iouType = "segm" if p.useSegm == 1 else "bbox"
            self._say(f"useSegm (deprecated) is not None. Running {p.iouType} evaluation")
        _check_iou_type(p.iouType)
        self._say(f"Evaluate annotation type *{p.iouType}*")
        p.imgIds = list(np.unique(p.imgIds))
        if p.useCats:
            p.catIds = list(np.unique(p.catIds))
        p.maxDets = sorted(p.maxDets)
        self.params = p
        gt = _columns_of(self.cocoGt, "gt")
        dt = _columns_of(self.cocoDt, "dt")
        if own_iou:  # the subclass's IoUs, cell by cell, matched by the kernels
            self._prepare()
            ious = _dropin.cell_ious(self)
            try:
                self._ev = _evaluate(gt, dt, p, lambda ev: _dropin.iou_blocks(ious, ev))
            except _dropin.NeedsLoop:
                _dropin.finish_with_loop(self, ious, tic)
                return
        else:
            cell_ious = None
            if p.iouType == "segm":  # mask IoU per cell (fastdet.coco.segm)
                from fastdet.coco.segm import cell_ious as segm_cell_ious

                cell_ious = segm_cell_ious(self.cocoGt, self.cocoDt)
            elif p.iouType == "keypoints":  # OKS per cell (fastdet.coco.keypoints)
                gt, cell_ious = _keypoints.prepare(self.cocoGt, self.cocoDt, gt, p)
            self._ev = _evaluate(gt, dt, p, cell_ious)
            self._gts_store = self._dts_store = None  # built on first access
            ious = None
        self._evalImgs = None
        self._ious = ious
        self._records_given = False
        self.eval = {}
        # the id lists hold immutable numbers: copy them shallowly (deepcopy visits every element)
        memo = {id(v): list(v) for v in (p.imgIds, p.catIds) if isinstance(v, list)}
        self._paramsEval = copy.deepcopy(p, memo)
        self._say(f"DONE (t={time.time() - tic:0.2f}s).")

    def accumulate(self, p: Params | None = None) -> None:
        """Precision / recall for every IoU threshold, category, area range and maxDets."""
        self._say("Accumulating evaluation results...")
        tic = time.time()
        if self._ev is None and not (self._records_given and self._evalImgs):
            raise RuntimeError("Please run evaluate() first")
        if p is None:
            p = self.params
        p.catIds = p.catIds if p.useCats == 1 else [-1]
        if self._ev is None or self._records_given:  # pycocotools' accumulate over evalImgs
            arrays = _dropin.accumulate_records(self, p)
            self.eval = {
                "params": p,
                "counts": arrays["counts"],
                "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S"),
                "precision": arrays["precision"],
                "recall": arrays["recall"],
                "scores": arrays["scores"],
            }
            self._say(f"DONE (t={time.time() - tic:0.2f}s).")
            return
        pe = self._paramsEval
        ev = self._ev
        rec_thrs = np.ascontiguousarray(np.asarray(p.recThrs, dtype=np.float64).reshape(-1))
        if np.isnan(rec_thrs).any():
            raise ValueError(f"params.recThrs must not contain NaN, got {rec_thrs}")
        if len(p.iouThrs) != len(ev.iou_thrs):
            raise ValueError(
                f"params.iouThrs has {len(p.iouThrs)} thresholds but evaluate() used {len(ev.iou_thrs)}; "
                "run evaluate() again"
            )
        shape = (
            len(p.iouThrs),
            len(p.recThrs),
            len(p.catIds) if p.useCats else 1,
            len(p.areaRng),
            len(p.maxDets),
        )
        set_k = set(pe.catIds if pe.useCats else [-1])
        set_a = set(map(tuple, pe.areaRng))
        set_m = set(pe.maxDets)
        set_i = set(pe.imgIds)
        k_list = [n for n, k in enumerate(p.catIds) if k in set_k]
        m_list = [m for m in p.maxDets if m in set_m]
        a_list = [n for n, a in enumerate(map(tuple, p.areaRng)) if a in set_a]
        i_list = [n for n, i in enumerate(p.imgIds) if i in set_i]
        if (
            max(k_list, default=-1) >= ev.n_cat_cells
            or max(a_list, default=-1) >= len(ev.area_rng)
            or max(i_list, default=-1) >= len(ev.img_ids)
        ):
            raise ValueError(
                "params differ from those evaluate() used in a way pycocotools mis-indexes; "
                "run evaluate() again"
            )
        precision, recall, scores = _accumulate(ev, k_list, a_list, i_list, m_list, rec_thrs, shape)
        self.eval = {
            "params": p,
            "counts": list(shape),
            "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S"),
            "precision": precision,
            "recall": recall,
            "scores": scores,
        }
        self._say(f"DONE (t={time.time() - tic:0.2f}s).")

    def summarize(self) -> None:
        """Print pycocotools' 12-line summary (keypoints: 10 lines) and set ``stats``."""
        print(self._summarize(), end="")

    def _summarize(self) -> str:
        """Set ``stats`` and return the summary text."""
        if not self.eval:
            raise RuntimeError("Please run accumulate() first")
        p = self.params
        if p.iouType != "bbox":
            _check_iou_type(p.iouType)
        if p.iouType == "keypoints":
            return self._summary_text(_keypoints.SUMMARY_PLAN)
        if len(p.maxDets) < 3:
            raise IndexError(
                f"summarize() reads params.maxDets[0..2] (pycocotools' layout); params.maxDets is {p.maxDets}"
            )
        m = p.maxDets
        plan: list[tuple[int, float | None, str, int]] = [
            (1, None, "all", 100),
            (1, 0.5, "all", m[2]),
            (1, 0.75, "all", m[2]),
            (1, None, "small", m[2]),
            (1, None, "medium", m[2]),
            (1, None, "large", m[2]),
            (0, None, "all", m[0]),
            (0, None, "all", m[1]),
            (0, None, "all", m[2]),
            (0, None, "small", m[2]),
            (0, None, "medium", m[2]),
            (0, None, "large", m[2]),
        ]
        return self._summary_text(plan)

    def _summary_text(self, plan: list[tuple[int, float | None, str, int]]) -> str:
        p = self.params
        stats = np.zeros((len(plan),))
        lines = []
        for i, (ap, thr, area, max_det) in enumerate(plan):
            stats[i], line = _summary_line(self.eval, p, ap, thr, area, max_det)
            lines.append(line)
        self.stats = stats
        return "".join(line + "\n" for line in lines)

    def __str__(self) -> str:
        """The summary text ``summarize()`` prints (computed without printing)."""
        return self._summarize()

    # ---- lazily built pycocotools records
    @property
    def ious(self) -> dict[tuple[Any, Any], Any]:
        """``{(imgId, catId): ndarray (D, G) or []}``: IoU of score-sorted detections (at most
        ``maxDets[-1]``) with the ground truths in file order, as pycocotools stores it."""
        if self._ious is None:
            assert self._ev is not None
            self._ious = _build_ious(self._ev)
        return self._ious

    @ious.setter
    def ious(self, value: Any) -> None:
        self._ious = value

    @property
    def evalImgs(self) -> Any:
        """pycocotools' per (category, area range, image) records, in its order (None: empty)."""
        if self._evalImgs is None:
            assert self._ev is not None
            self._evalImgs = _build_eval_imgs(self._ev)
        return self._evalImgs

    @evalImgs.setter
    def evalImgs(self, value: Any) -> None:
        self._evalImgs = value
        self._records_given = True

    @property
    def _gts(self) -> Any:
        """pycocotools' ground-truth dicts by ``(imgId, catId)`` (see :meth:`_prepare`)."""
        if self._gts_store is None:
            self._gts_store, self._dts_store = _dropin.group_annotations(self, self._paramsEval)
        return self._gts_store

    @_gts.setter
    def _gts(self, value: Any) -> None:
        self._gts_store = value

    @property
    def _dts(self) -> Any:
        """pycocotools' result dicts by ``(imgId, catId)`` (see :meth:`_prepare`)."""
        if self._dts_store is None:
            self._gts_store, self._dts_store = _dropin.group_annotations(self, self._paramsEval)
        return self._dts_store

    @_dts.setter
    def _dts(self, value: Any) -> None:
        self._dts_store = value

    # ---- pycocotools' per-image methods (fastdet.coco.dropin)
    def _prepare(self) -> None:
        """Build ``_gts`` and ``_dts`` from ``params`` (pycocotools' ``_prepare``).

        Sets ``ignore`` on the ground-truth dicts (``iscrowd``; for keypoints also
        ``num_keypoints == 0``) and, for segm, turns every ``segmentation`` into its
        compressed RLE, in place, as pycocotools does; resets ``evalImgs`` and ``eval``.
        """
        self._gts, self._dts = _dropin.group_annotations(self, self.params)
        self._evalImgs = defaultdict(list)
        self._records_given = False
        self.eval = {}

    def computeIoU(self, imgId: Any, catId: Any) -> Any:
        """(D, G) IoU of a cell's detections (by score, at most ``maxDets[-1]``) with its ground truths.

        bbox or segm, with the crowd rule (intersection over the detection's area
        against ``iscrowd`` ground truths); ``[]`` when the cell is empty.
        """
        return _dropin.compute_iou(self, imgId, catId)

    def computeOks(self, imgId: Any, catId: Any) -> Any:
        """(D, G) object keypoint similarity of a cell, pycocotools' formula (``[]`` if a side is empty)."""
        return _dropin.compute_oks(self, imgId, catId)

    def evaluateImg(self, imgId: Any, catId: Any, aRng: Any, maxDet: int) -> dict[str, Any] | None:
        """pycocotools' per-image record of one cell and area range (``None`` for an empty cell).

        Keys ``image_id``, ``category_id``, ``aRng``, ``maxDet``, ``dtIds``,
        ``gtIds`` (non-ignored first), ``dtMatches`` / ``gtMatches`` (T x D / T x G
        matched ids, 0 when unmatched), ``dtScores``, ``gtIgnore``, ``dtIgnore``.
        Reads ``ious[imgId, catId]``.
        """
        return _dropin.evaluate_img(self, imgId, catId, aRng, maxDet)


def _summary_line(
    ev: Mapping[str, Any], p: Any, ap: int, iou_thr: float | None, area: str, max_dets: int
) -> tuple[float, str]:
    """One pycocotools summary number and its printed line."""
    title = "Average Precision" if ap == 1 else "Average Recall"
    kind = "(AP)" if ap == 1 else "(AR)"
    iou_text = f"{p.iouThrs[0]:0.2f}:{p.iouThrs[-1]:0.2f}" if iou_thr is None else f"{iou_thr:0.2f}"
    aind = [i for i, lbl in enumerate(p.areaRngLbl) if lbl == area]
    mind = [i for i, m in enumerate(p.maxDets) if m == max_dets]
    s = ev["precision"] if ap == 1 else ev["recall"]
    if iou_thr is not None:
        s = s[np.where(iou_thr == p.iouThrs)[0]]
    s = s[:, :, :, aind, mind] if ap == 1 else s[:, :, aind, mind]
    valid = s[s > -1]
    value = -1 if len(valid) == 0 else np.mean(valid)
    line = (
        f" {title:<18} {kind} @[ IoU={iou_text:<9} | area={area:>6s} | "
        f"maxDets={max_dets:>3d} ] = {value:0.3f}"
    )
    return value, line


def _build_ious(ev: _Evaluation) -> dict[tuple[Any, Any], Any]:
    n_g = np.diff(ev.gt_off)
    n_d = np.diff(ev.dt_off)
    if ev.extra.get("no_ious"):  # the iouType computed none (keypoints with useCats=0, as pycocotools)
        return {(img, cat): [] for img in ev.img_ids for cat in ev.cat_ids}
    if len(ev.cell_iou):  # given by the iouType (segm, keypoints)
        iou_off, sizes, flat = ev.iou_off, np.diff(ev.iou_off), ev.cell_iou
    else:
        iou_off, sizes = cell_sizes(ev)
        flat = np.zeros(int(iou_off[-1]), np.float64)
        # ground truths in file order within the cell (the matching layout is the same order)
        n_cells = len(ev.gt_off) - 1
        _k.iou_cells(n_cells, ev.gt_off, ev.gt_box, ev.gt_crowd, ev.dt_off, ev.dt_box, iou_off, flat)
    out: dict[tuple[Any, Any], Any] = {}
    n_img = len(ev.img_ids)
    for i, img in enumerate(ev.img_ids):
        for k, cat in enumerate(ev.cat_ids):
            c = k * n_img + i
            if sizes[c] == 0:
                out[img, cat] = []
            else:
                out[img, cat] = flat[iou_off[c] : iou_off[c + 1]].reshape(n_d[c], n_g[c]).copy()
    return out


def _build_eval_imgs(ev: _Evaluation) -> list[dict[str, Any] | None]:
    match = ev.match_rows()
    n_t = len(ev.iou_thrs)
    out: list[dict[str, Any] | None] = []
    gt_ids = ev.gt.ids[ev.gt_rows]
    dt_ids = ev.dt.ids[ev.dt_rows]
    had_dets = ev.extra.get("had_dets")  # maxDets[-1] == 0: cells whose detections were all cut
    for k, cat in enumerate(ev.cat_ids):
        for a, rng in enumerate(ev.area_rng):
            lo, hi = rng
            for i, img in enumerate(ev.img_ids):
                c = k * len(ev.img_ids) + i
                g0, g1 = ev.gt_off[c], ev.gt_off[c + 1]
                d0, d1 = ev.dt_off[c], ev.dt_off[c + 1]
                if g0 == g1 and d0 == d1 and (had_dets is None or not had_dets[c]):
                    out.append(None)
                    continue
                area = ev.gt_area[g0:g1]
                ig = (ev.gt_ignore[g0:g1] | (area < lo) | (area > hi)).astype(np.int64)
                gtind = np.argsort(ig, kind="mergesort")
                inv = np.empty_like(gtind)
                inv[gtind] = np.arange(len(gtind))
                m = match[d0:d1, a, :].T  # (T, D) rows within the cell
                dtm = np.zeros((n_t, d1 - d0))
                gtm = np.zeros((n_t, g1 - g0))
                dt_ig = np.zeros((n_t, d1 - d0), dtype=bool)
                ids_g = gt_ids[g0:g1]
                ids_d = dt_ids[d0:d1]
                for t in range(n_t):
                    for d in range(d1 - d0):
                        g = m[t, d]
                        if g >= 0:
                            dtm[t, d] = ids_g[g]
                            gtm[t, inv[g]] = ids_d[d]
                            dt_ig[t, d] = bool(ig[g])
                out_of = (ev.dt_area[d0:d1] < lo) | (ev.dt_area[d0:d1] > hi)
                dt_ig = np.logical_or(dt_ig, np.logical_and(dtm == 0, np.repeat(out_of[None, :], n_t, 0)))
                out.append(
                    {
                        "image_id": img,
                        "category_id": cat,
                        "aRng": [float(lo), float(hi)],
                        "maxDet": ev.max_det,
                        "dtIds": ids_d.tolist(),
                        "gtIds": ids_g[gtind].tolist(),
                        "dtMatches": dtm,
                        "gtMatches": gtm,
                        "dtScores": ev.dt_score[d0:d1].tolist(),
                        "gtIgnore": ig[gtind] if len(ig) else np.array([]),  # pycocotools: float64 when empty
                        "dtIgnore": dt_ig,
                    }
                )
    return out
