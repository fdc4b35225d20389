"""The evaluation core: grouping annotations into (category, image) cells, matching, accumulating."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fastdet._kernels import coco as _k
from fastdet.coco.columns import _Columns, _encode_ids
from fastdet.coco.params import Params


@dataclass
class _Evaluation:
    """Everything ``evaluate()`` computed, in the kernels' cell layout."""

    img_ids: list[Any]
    cat_ids: list[Any]  # category of each cell column ([-1] without categories)
    n_cat_cells: int
    area_rng: NDArray[np.float64]  # (A, 2)
    iou_thrs: NDArray[np.float64]
    max_det: int
    gt_off: NDArray[np.int64]
    gt_rows: NDArray[np.int64]  # rows of the ground-truth columns, cell by cell
    dt_off: NDArray[np.int64]
    dt_rows: NDArray[np.int64]  # rows of the result columns, cell by cell, by score
    gt: _Columns
    dt: _Columns
    gt_box: NDArray[np.float64]
    gt_area: NDArray[np.float64]
    gt_crowd: NDArray[np.bool_]
    gt_ignore: NDArray[np.bool_]
    gt_id_nonzero: NDArray[np.bool_]
    dt_box: NDArray[np.float64]
    dt_area: NDArray[np.float64]
    dt_score: NDArray[np.float64]
    dt_id_positive: NDArray[np.bool_]
    status: NDArray[np.int8]  # (Nd, A, T); only entries whose ``kind`` is MIXED are written
    kind: NDArray[np.int8]  # (Nd, A)
    # IoUs given per cell (segm, keypoints): cell c's (D_c, G_c) block is
    # cell_iou[iou_off[c]:iou_off[c + 1]], row-major; empty for bbox (computed from the boxes)
    iou_off: NDArray[np.int64] = field(default_factory=lambda: np.zeros(1, np.int64))
    cell_iou: NDArray[np.float64] = field(default_factory=lambda: np.empty(0, np.float64))
    extra: dict[str, Any] = field(default_factory=dict)

    def match_rows(self) -> NDArray[np.int64]:
        """Matched ground-truth row within the cell, (Nd, A, T); -1 when unmatched."""
        if "match" not in self.extra:
            status = np.empty_like(self.status)
            match = np.empty(self.status.shape, np.int64)
            self._run_match(status, np.empty_like(self.kind), match)
            self.extra["match"] = match
        return self.extra["match"]

    def _run_match(self, status: np.ndarray, kind: np.ndarray, match: np.ndarray | None) -> None:
        _k.match_cells(
            len(self.gt_off) - 1,
            self.gt_off, self.gt_box, self.gt_area, self.gt_crowd, self.gt_ignore, self.gt_id_nonzero,
            self.dt_off, self.dt_box, self.dt_area, self.dt_id_positive,
            self.iou_off, self.cell_iou if len(self.cell_iou) else None,
            self.iou_thrs, self.area_rng, status, kind, match,
        )  # fmt: skip


def _positions(sorted_ids: NDArray[np.int64], values: NDArray[np.int64]) -> tuple[np.ndarray, np.ndarray]:
    """Index of each value in ``sorted_ids`` and whether it is present."""
    if len(sorted_ids) and len(values) and 0 <= sorted_ids[0] and sorted_ids[-1] < 32 * len(values) + 1024:
        # non-negative ids not much larger than the number of values: a direct look-up table (filling
        # it costs about as much per slot as a binary search per value costs per ten values)
        table = np.full(int(sorted_ids[-1]) + 2, -1, np.int64)
        table[sorted_ids] = np.arange(len(sorted_ids))
        pos = table[np.clip(values, -1, len(table) - 1)]  # -1 -> the last slot, which is -1
        return pos, pos >= 0
    pos = np.searchsorted(sorted_ids, values)
    ok = pos < len(sorted_ids)
    ok[ok] = sorted_ids[pos[ok]] == values[ok]
    return pos, ok


def _cell_keys(
    cols: _Columns, img_sorted: NDArray[np.int64], cat_list: NDArray[np.int64], use_cats: bool
) -> tuple[NDArray[np.int64], NDArray[np.int64], int, int]:
    """(rows, sort keys, number of keys, keys per cell) of the annotations that take part.

    With categories, a key is ``category * I + image`` (one key per cell, category-major
    like pycocotools' per-category concatenation over images). Without,
    an annotation joins its image's cell once per occurrence of its category in
    ``catIds`` and the key ``image * P + position`` orders the pool by that position,
    as pycocotools concatenates the per-category lists.
    """
    n_img = len(img_sorted)
    img_pos, img_ok = _positions(img_sorted, cols.image_id)
    if use_cats:
        cat_pos, cat_ok = _positions(cat_list, cols.category_id)  # cat_list is sorted and unique
        rows = np.flatnonzero(img_ok & cat_ok)
        keys = cat_pos[rows] * n_img + img_pos[rows]  # category-major: cell k * I + i
        return rows, keys, n_img * len(cat_list), 1
    n_pos = len(cat_list)
    by_id = np.argsort(cat_list, kind="stable")
    sorted_cats = cat_list[by_id]
    left = np.searchsorted(sorted_cats, cols.category_id, side="left")
    right = np.searchsorted(sorted_cats, cols.category_id, side="right")
    count = np.where(img_ok, right - left, 0)
    rows = np.repeat(np.arange(len(cols)), count)
    first = np.repeat(np.cumsum(count) - count, count)
    within = np.arange(len(rows)) - first
    cat_pos = by_id[left[rows] + within]
    keys = img_pos[rows] * n_pos + cat_pos
    return rows, keys, n_img * n_pos, n_pos


def _group(
    rows: np.ndarray, keys: np.ndarray, n_keys: int, per_cell: int, n_cells: int
) -> tuple[np.ndarray, np.ndarray]:
    order, key_off = _k.counting_sort(np.ascontiguousarray(keys, dtype=np.int64), n_keys)
    if per_cell == 0:
        return np.empty(0, np.int64), np.zeros(n_cells + 1, np.int64)
    return rows[order], np.ascontiguousarray(key_off[::per_cell])


CellIous = Callable[["_Evaluation"], tuple[NDArray[np.int64], NDArray[np.float64]]]


def cell_sizes(ev: _Evaluation) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """``(iou_off, sizes)``: offsets of each cell's (D_c, G_c) IoU block and its D_c * G_c."""
    sizes = np.diff(ev.dt_off) * np.diff(ev.gt_off)
    iou_off = np.zeros(len(sizes) + 1, np.int64)
    np.cumsum(sizes, out=iou_off[1:])
    return iou_off, sizes


def _evaluate(gt: _Columns, dt: _Columns, p: Params, cell_ious: CellIous | None = None) -> _Evaluation:
    """Prepare the cell layout and run the matching kernel (``p`` already normalised).

    ``cell_ious(ev)``, when given, returns ``(iou_off, cell_iou)`` for the grouped layout
    (detections in ``ev.dt_rows`` order, ground truths in ``ev.gt_rows`` order; see
    :func:`cell_sizes`), replacing the box IoU: this is how masks and keypoints evaluate.
    """
    if cell_ious is None and gt.missing_bbox >= 0:
        raise ValueError(
            f"{gt.where}: entry {gt.missing_bbox} has no 'bbox' field (needed for iouType 'bbox')"
        )
    # string ids (pycocotools accepts them) become int64 codes consistent across params, gt and dt
    img_sorted, (gt_img, dt_img) = _encode_ids(
        p.imgIds, "imgIds", (gt.image_id, gt.image_keys), (dt.image_id, dt.image_keys)
    )
    cat_list, (gt_cat, dt_cat) = _encode_ids(
        p.catIds, "catIds", (gt.category_id, gt.category_keys), (dt.category_id, dt.category_keys)
    )
    if gt_img is not gt.image_id or gt_cat is not gt.category_id:
        gt = replace(gt, image_id=gt_img, category_id=gt_cat)
    if dt_img is not dt.image_id or dt_cat is not dt.category_id:
        dt = replace(dt, image_id=dt_img, category_id=dt_cat)
    use_cats = bool(p.useCats)
    iou_thrs = np.ascontiguousarray(np.asarray(p.iouThrs, dtype=np.float64).reshape(-1))
    if len(iou_thrs) == 0 or np.isnan(iou_thrs).any():
        raise ValueError(f"params.iouThrs must be one or more numbers (no NaN), got {iou_thrs}")
    area_rng = np.ascontiguousarray(np.asarray(p.areaRng, dtype=np.float64))
    if area_rng.ndim != 2 or area_rng.shape[1] != 2 or np.isnan(area_rng).any():
        raise ValueError(f"params.areaRng must be a list of [lo, hi] pairs of numbers, got {p.areaRng!r}")
    max_dets = [int(m) for m in p.maxDets]
    if not max_dets or min(max_dets) < 0 or any(m != d for m, d in zip(max_dets, p.maxDets, strict=True)):
        raise ValueError(f"params.maxDets must be non-negative integers, got {p.maxDets!r}")
    max_det = max_dets[-1]
    n_img = len(img_sorted)
    n_cat_cells = len(cat_list) if use_cats else 1
    n_cells = n_img * n_cat_cells

    g_rows, g_keys, g_nkeys, g_per = _cell_keys(gt, img_sorted, cat_list, use_cats)
    gt_rows, gt_off = _group(g_rows, g_keys, g_nkeys, g_per, n_cells)
    d_rows, d_keys, d_nkeys, d_per = _cell_keys(dt, img_sorted, cat_list, use_cats)
    dt_grouped, dt_off = _group(d_rows, d_keys, d_nkeys, d_per, n_cells)
    assert dt.score is not None
    assert gt.crowd is not None
    assert gt.ignore is not None
    # sort each cell by descending score (stable) and keep its best max_det
    local = np.arange(len(dt_grouped), dtype=np.int64)
    _k.sort_cells(n_cells, local, dt_off, np.ascontiguousarray(dt.score[dt_grouped]))
    # maxDets[-1] == 0 empties cells that had detections; pycocotools' evaluateImg still returns
    # a record (not None) for such a cell without ground truth: keep which cells had any
    had_dets = np.diff(dt_off) > 0 if max_det == 0 else None
    if np.diff(dt_off).max(initial=0) > max_det:  # else no cell holds more than max_det: nothing to cut
        local, dt_off = _truncate_cells(local, dt_off, max_det), _truncated_offsets(dt_off, max_det)
    dt_rows = dt_grouped[local]

    ev = _Evaluation(
        img_ids=list(p.imgIds),
        cat_ids=list(p.catIds) if use_cats else [-1],
        n_cat_cells=n_cat_cells,
        area_rng=area_rng,
        iou_thrs=iou_thrs,
        max_det=max_det,
        gt_off=gt_off,
        gt_rows=gt_rows,
        dt_off=dt_off,
        dt_rows=dt_rows,
        gt=gt,
        dt=dt,
        gt_box=np.take(gt.bbox, gt_rows, axis=0),  # take: ~15x faster than bbox[rows] on (N, 4)
        gt_area=gt.area[gt_rows],
        gt_crowd=gt.crowd[gt_rows],
        gt_ignore=gt.ignore[gt_rows],
        gt_id_nonzero=gt.ids[gt_rows] != 0,
        dt_box=np.take(dt.bbox, dt_rows, axis=0),
        dt_area=dt.area[dt_rows],
        dt_score=dt.score[dt_rows],
        dt_id_positive=dt.ids[dt_rows] > 0,
        status=np.empty((len(dt_rows), len(area_rng), len(iou_thrs)), np.int8),
        kind=np.empty((len(dt_rows), len(area_rng)), np.int8),
    )
    if had_dets is not None:
        ev.extra["had_dets"] = had_dets
    if cell_ious is not None:
        iou_off, flat = cell_ious(ev)
        ev.iou_off = np.ascontiguousarray(iou_off, dtype=np.int64)
        ev.cell_iou = np.ascontiguousarray(flat, dtype=np.float64)
        if len(ev.iou_off) != len(gt_off) or ev.iou_off[-1] != len(ev.cell_iou):
            raise AssertionError("cell_ious returned a layout that does not match the cells")
    ev._run_match(ev.status, ev.kind, None)
    return ev


def _truncated_offsets(offsets: NDArray[np.int64], max_det: int) -> NDArray[np.int64]:
    """Cell bounds after keeping at most ``max_det`` rows of each cell."""
    kept = np.zeros_like(offsets)
    np.cumsum(np.minimum(np.diff(offsets), max_det), out=kept[1:])
    return kept


def _truncate_cells(order: NDArray[np.int64], offsets: NDArray[np.int64], max_det: int) -> NDArray[np.int64]:
    """The first ``max_det`` entries of each cell of ``order`` (cells bounded by ``offsets``)."""
    sizes = np.diff(offsets)
    if sizes.max(initial=0) <= max_det:
        return order
    kept = np.minimum(sizes, max_det)
    starts = np.repeat(offsets[:-1] - _truncated_offsets(offsets, max_det)[:-1], kept)
    return order[starts + np.arange(len(starts))]


def _accumulate(
    ev: _Evaluation,
    k_list: Sequence[int],
    a_list: Sequence[int],
    i_list: Sequence[int],
    m_list: Sequence[int],
    rec_thrs: NDArray[np.float64],
    shape: tuple[int, int, int, int, int],
    want_scores: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """pycocotools' ``eval`` arrays ``precision``, ``recall`` and ``scores`` (None unless ``want_scores``)."""
    t, r, k, a, m = shape
    # the kernel writes every entry, each (k, a, m, t) curve to consecutive memory: the (T, R, K, A, M)
    # arrays returned are views of (K, A, M, T, R) ones (pycocotools' indexing, values and C-order bytes)
    precision = np.empty((k, a, m, t, r))
    recall = np.full((t, k, a, m), -1.0)
    scores = np.empty((k, a, m, t, r) if want_scores else (0, 0, 0, 0, 0))
    ks, as_, is_ = (np.asarray(x, np.int64) for x in (k_list, a_list, i_list))
    n_img = len(ev.img_ids)
    # each category's detections over the images in ``i_list``: bounds of its scratch rows
    cat_off = np.zeros(len(ks) + 1, np.int64)
    if n_img:
        sizes = np.diff(ev.dt_off).reshape(-1, n_img)
        if len(ks) != len(sizes) or np.any(ks != np.arange(len(sizes))):
            sizes = sizes[ks]
        if len(is_) != n_img or np.any(is_ != np.arange(n_img)):
            sizes = sizes[:, is_]
        np.cumsum(sizes.sum(axis=1), out=cat_off[1:])
    cat_rows, cat_rank = np.empty(cat_off[-1], np.int64), np.empty(cat_off[-1], np.int64)
    _k.gather_categories(len(ks), n_img, ev.dt_off, ev.dt_score, ks, is_, cat_off, cat_rows, cat_rank)
    big = np.flatnonzero(np.diff(cat_off) >= _k.RADIX_MIN)
    if len(big):
        _k.radix_sort_categories(len(big), big, ev.dt_score, cat_off, cat_rows, cat_rank)
    _k.accumulate(
        len(ks), n_img, ev.gt_off, ev.gt_area, ev.gt_ignore, ev.area_rng,
        ev.dt_off, ev.dt_score, ev.status, ev.kind, ks, as_, is_,
        np.asarray(m_list, np.int64), rec_thrs, bool(np.all(np.diff(rec_thrs) >= 0)), float(np.spacing(1)),
        cat_off, cat_rows, cat_rank, np.empty((len(ks), len(as_)), np.int64), precision, recall, scores,
    )  # fmt: skip
    if len(ks) < k:  # slots no evaluated category maps to (params.catIds changed after evaluate): -1
        precision[len(ks) :] = -1.0
        if want_scores:
            scores[len(ks) :] = -1.0
    return _curves(precision), recall, _curves(scores) if want_scores else None


def _curves(kamtr: NDArray[np.float64]) -> NDArray[np.float64]:
    """The (T, R, K, A, M) view of a (K, A, M, T, R) array of precision or scores curves."""
    return kamtr.transpose(3, 4, 0, 1, 2)
