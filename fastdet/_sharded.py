"""COCO evaluation of results split into shards: the parts a worker and a reduction run.

No Dask here (:mod:`fastdet.dask` schedules these functions on a cluster); every
function takes and returns plain picklable objects, so the same path runs in
one process in the tests.

1. :func:`make_plan` (client): the normalised parameters, the ground truth
   restricted to the evaluated images and categories and sorted by image (so a
   shard picks its images' rows by offsets), and the non-ignored ground-truth
   counts per category and area range (``n_pos``), over all images.
2. :func:`load_shard` (worker): a shard's results as columns, each with its
   image's position in ``params.imgIds`` (-1: not evaluated).
3. :func:`match_shard` (worker): fastdet.coco's own cell layout and matching
   kernel on the shard's images, then per category the kept detections in
   image order and rank within the cell, with score, image position, rank, the
   per-area-range ``kind`` and the per-threshold status of the detections
   whose status differs between thresholds, sorted stably by descending score.
   One :class:`Piece` per group of categories.
4. :func:`reduce_group` (worker): the pieces of one category group from every
   shard, merged into pycocotools' order (descending score, ties by image
   position, then rank in the cell: the stable sort of its per-image
   concatenation) and accumulated by the kernel ``fastdet.coco`` uses: the
   same floats as one process.

An image must be in one shard only, or be split off first (:func:`split_images`
finds those, :func:`take_images` gathers their rows in shard order: the order
one concatenated results list would have).
"""

from __future__ import annotations

import copy
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fastdet._kernels import coco as _kc
from fastdet._kernels import sharded as _ks
from fastdet.coco.columns import (
    _bbox_column,
    _Columns,
    _encode_ids,
    _float_column,
    _get_column,
    _id_column,
    _int_column,
)
from fastdet.coco.dataset import COCO, _check_images, _columns_of, _results_array
from fastdet.coco.evaluation import _cell_keys, _curves, _evaluate, _positions
from fastdet.coco.functional import CocoEvalResult, _configure, _result
from fastdet.coco.params import Params
from fastdet.coco.reading import _read_results


@dataclass
class Plan:
    """What every shard task and reduction needs (shipped to each worker once)."""

    params: Params  # normalised as COCOeval.evaluate() does
    img_ids: list[Any]  # params.imgIds
    img_codes: NDArray[np.int64] | None  # params.imgIds as int64 when none is a string (else None)
    gt: _Columns  # evaluated ground truth, sorted (stably) by image position
    gt_img_off: NDArray[np.int64]  # (I + 1,): image i owns gt rows gt_img_off[i]:gt_img_off[i + 1]
    known_images: Any  # every ground-truth image id (results on other images are an error)
    n_pos: NDArray[np.int64]  # (K, A)
    group_off: NDArray[np.int64]  # category groups: group g is categories group_off[g]:group_off[g + 1]
    max_detections: list[int]
    area_ranges: dict[str, tuple[float, float]]

    @property
    def n_groups(self) -> int:
        return len(self.group_off) - 1


@dataclass
class Shard:
    """A shard's results: columns and each row's image position (-1: not evaluated)."""

    cols: _Columns
    img_pos: NDArray[np.int64]
    where: str


@dataclass
class Piece:
    """One category group of a matched shard: rows by category, then descending score (stable from
    image, then rank in the cell)."""

    counts: NDArray[np.int64]  # (Kg,) rows per category
    img: NDArray[Any]  # image position (int32 when it fits)
    rank: NDArray[np.int32]  # rank in the (category, image) cell
    score: NDArray[np.float64]
    kind: NDArray[np.int8]  # (n, A)
    mixed: NDArray[np.int32]  # rows whose status differs between thresholds somewhere...
    status: NDArray[np.int8]  # ...and their (A, T) status


def _take(cols: _Columns, rows: NDArray[np.int64]) -> _Columns:
    """The rows ``rows`` of ``cols`` (string-id tables kept)."""

    def pick(a: Any) -> Any:
        return None if a is None else a[rows]

    return replace(
        cols,
        ids=cols.ids[rows],
        image_id=cols.image_id[rows],
        category_id=cols.category_id[rows],
        bbox=np.take(cols.bbox, rows, axis=0),
        area=cols.area[rows],
        crowd=pick(cols.crowd),
        ignore=pick(cols.ignore),
        score=pick(cols.score),
    )


def make_plan(
    gt: Any,
    *,
    iou_thresholds: ArrayLike | None,
    rec_thresholds: ArrayLike | None,
    max_detections: Iterable[int],
    area_ranges: Mapping[str, tuple[float, float]] | None,
    use_cats: bool,
    img_ids: Iterable[Any] | None,
    cat_ids: Iterable[Any] | None,
    n_groups: int,
) -> Plan:
    """Parameters, ground truth and positive counts as ``fastdet.coco.evaluate_coco`` would use them."""
    p = Params("bbox")
    p.imgIds = sorted(gt.getImgIds())
    p.catIds = sorted(gt.getCatIds())
    maxd, areas = _configure(
        p, iou_thresholds, rec_thresholds, max_detections, area_ranges, use_cats, img_ids, cat_ids
    )
    # COCOeval.evaluate()'s normalisation
    p.imgIds = list(np.unique(p.imgIds))
    if p.useCats:
        p.catIds = list(np.unique(p.catIds))
    p.maxDets = sorted(p.maxDets)
    cols = _columns_of(gt, "gt")
    img_sorted, (g_img,) = _encode_ids(p.imgIds, "imgIds", (cols.image_id, cols.image_keys))
    cat_list, (g_cat,) = _encode_ids(p.catIds, "catIds", (cols.category_id, cols.category_keys))
    coded = replace(cols, image_id=g_img, category_id=g_cat)
    n_img = len(img_sorted)
    use = bool(p.useCats)
    n_k = len(cat_list) if use else 1
    # positives exactly as the cell layout counts them (an annotation joins a cell once per
    # occurrence of its category in catIds when categories are pooled)
    rows, keys, _, _ = _cell_keys(coded, img_sorted, cat_list, use)
    k_of = keys // n_img if use and n_img else np.zeros(len(rows), np.int64)
    area_rng = np.asarray(p.areaRng, dtype=np.float64).reshape(-1, 2)
    assert cols.ignore is not None
    n_pos = np.zeros((n_k, len(area_rng)), np.int64)
    for a, (lo, hi) in enumerate(area_rng):
        area = cols.area[rows]
        ok = ~(cols.ignore[rows] | (area < lo) | (area > hi))
        n_pos[:, a] = np.bincount(k_of[ok], minlength=n_k)
    # the ground truth a shard may need, by image (file order kept within an image)
    img_pos, img_ok = _positions(img_sorted, g_img)
    cat_ok = _positions(np.sort(cat_list), g_cat)[1]
    keep = np.flatnonzero(img_ok & cat_ok)
    keep = keep[np.argsort(img_pos[keep], kind="stable")]
    gt_img_off = np.zeros(n_img + 1, np.int64)
    np.cumsum(np.bincount(img_pos[keep], minlength=n_img), out=gt_img_off[1:])
    known: Any = list(gt.getImgIds())
    if not any(isinstance(v, str) for v in known):
        known = np.unique(np.asarray(known, dtype=np.int64))  # checked per shard: sort once here
    n_groups = max(1, min(int(n_groups), n_k))
    int_ids = not any(isinstance(v, str) for v in p.imgIds)  # once here, not per shard
    return Plan(
        params=p,
        img_ids=list(p.imgIds),
        img_codes=_encode_ids(p.imgIds, "imgIds")[0] if int_ids else None,
        gt=_take(cols, keep),
        gt_img_off=gt_img_off,
        known_images=known,
        n_pos=n_pos,
        group_off=np.linspace(0, n_k, n_groups + 1).round().astype(np.int64),
        max_detections=maxd,
        area_ranges=areas,
    )


# ---------------------------------------------------------------------------- loading a shard


def _results_from_dicts(anns: Any, where: str) -> _Columns:
    if not isinstance(anns, list):
        raise ValueError(f"{where}: results must be a list of objects, got {type(anns).__name__}")
    image_id, image_keys = _id_column(_get_column(anns, "image_id", where), "image_id", where)
    category_id, category_keys = _id_column(_get_column(anns, "category_id", where), "category_id", where)
    bbox = _bbox_column(_get_column(anns, "bbox", where), where)
    score = _float_column(_get_column(anns, "score", where), "score", where, allow_inf=True)
    return _result_columns(image_id, image_keys, category_id, category_keys, bbox, score)


def _result_columns(
    image_id: NDArray[np.int64],
    image_keys: list[Any] | None,
    category_id: NDArray[np.int64],
    category_keys: list[Any] | None,
    bbox: NDArray[np.float64],
    score: NDArray[np.float64],
) -> _Columns:
    """loadRes' columns: ``id = 1..N`` and ``area = w * h``."""
    return _Columns(
        np.arange(1, len(score) + 1, dtype=np.int64), image_id, category_id, bbox, bbox[:, 2] * bbox[:, 3],
        score=score, image_keys=image_keys, category_keys=category_keys,
    )  # fmt: skip


def _results_from_frame(df: Any, where: str) -> _Columns:
    """Columns of a pandas DataFrame with ``image_id``, ``category_id``, ``score`` and ``bbox`` or x/y/w/h."""
    names = list(df.columns)
    box_cols = ["x", "y", "w", "h"]
    missing = [c for c in ("image_id", "category_id", "score") if c not in names]
    if "bbox" not in names and not all(c in names for c in box_cols):
        missing.append("bbox (or x, y, w, h)")
    if missing:
        raise ValueError(f"{where}: missing column(s) {missing}; have {names}")
    image_id, image_keys = _id_column(df["image_id"].tolist(), "image_id", where)
    category_id, category_keys = _id_column(df["category_id"].tolist(), "category_id", where)
    if "bbox" in names:
        bbox = _bbox_column(df["bbox"].tolist(), where)
    else:
        bbox = _bbox_column(df[box_cols].to_numpy().tolist(), where)
    score = _float_column(df["score"].tolist(), "score", where, allow_inf=True)
    return _result_columns(image_id, image_keys, category_id, category_keys, bbox, score)


def _read_shard(source: Any, where: str) -> _Columns:
    if isinstance(source, (str, os.PathLike)):
        _, scanned, anns = _read_results(source)
        return scanned if scanned is not None else _results_from_dicts(anns, where)
    if isinstance(source, (list, tuple)):
        return _results_from_dicts(list(source), where)
    if isinstance(source, np.ndarray):
        arr = _results_array(source, where)
        return _result_columns(
            _int_column(arr[:, 0].tolist(), "image_id", where), None,
            _int_column(arr[:, 6].tolist(), "category_id", where), None,
            np.ascontiguousarray(arr[:, 1:5]), np.ascontiguousarray(arr[:, 5]),
        )  # fmt: skip
    pandas = sys.modules.get("pandas")
    if pandas is not None and isinstance(source, pandas.DataFrame):
        return _results_from_frame(source, where)
    raise TypeError(
        f"{where}: a shard must be a JSON path, a list of result dicts, an (N, 7) array or a pandas "
        f"DataFrame; got {type(source).__name__}"
    )


def read_shard(source: Any, where: str) -> _Columns:
    """Read one shard's results as columns (no plan needed: a worker may start before the client has one)."""
    return _read_shard(source, where)


def load_shard(source: Any, plan: Plan, where: str) -> Shard:
    """Read one shard (on a worker) and locate its rows' images; bad input names ``where``."""
    return locate_shard(_read_shard(source, where), plan, where)


def locate_shard(cols: _Columns, plan: Plan, where: str) -> Shard:
    """A read shard's rows with their images' positions (-1: not evaluated); bad input names ``where``."""
    _check_images(cols.image_id, cols.image_keys, plan.known_images, where)
    if plan.img_codes is not None and cols.image_keys is None:  # _encode_ids' integer case
        wanted, codes = plan.img_codes, cols.image_id
    else:
        wanted, (codes,) = _encode_ids(plan.img_ids, "imgIds", (cols.image_id, cols.image_keys))
    pos, ok = _positions(wanted, codes)
    return Shard(cols, np.where(ok, pos, -1).astype(np.int64), where)


def shard_images(shard: Shard) -> NDArray[np.int64]:
    """Sorted positions of the evaluated images the shard has results on."""
    return np.unique(shard.img_pos[shard.img_pos >= 0])


def split_images(images: Sequence[NDArray[np.int64]]) -> NDArray[np.int64]:
    """Image positions that occur in more than one shard's :func:`shard_images`."""
    if not images:
        return np.empty(0, np.int64)
    uniq, counts = np.unique(np.concatenate(images), return_counts=True)
    return uniq[counts > 1]


def take_images(shard: Shard, images: NDArray[np.int64]) -> Shard:
    """The rows of ``shard`` on ``images`` (positions), in shard order."""
    rows = np.flatnonzero(np.isin(shard.img_pos, images))
    return Shard(_take(shard.cols, rows), shard.img_pos[rows], shard.where)


def concat_shards(*shards: Shard) -> Shard:
    """Shards one after the other (the order of one concatenated results list)."""
    parts = [s.cols for s in shards]
    keys_img = [c.image_keys for c in parts]
    keys_cat = [c.category_keys for c in parts]

    def joined(ids: list[NDArray[np.int64]], keys: list[list[Any] | None]) -> tuple[Any, Any]:
        if all(k is None for k in keys):
            return np.concatenate(ids), None
        table: dict[Any, int] = {}
        out = []
        for col, k in zip(ids, keys, strict=True):
            values = col.tolist() if k is None else [k[c] for c in col]
            out.append(np.array([table.setdefault(v, len(table)) for v in values], np.int64))
        return np.concatenate(out), list(table)

    image_id, image_keys = joined([c.image_id for c in parts], keys_img)
    category_id, category_keys = joined([c.category_id for c in parts], keys_cat)
    bbox = np.concatenate([c.bbox for c in parts]).reshape(-1, 4)
    score = np.concatenate([c.score for c in parts if c.score is not None])
    cols = _result_columns(image_id, image_keys, category_id, category_keys, bbox, score)
    return Shard(cols, np.concatenate([s.img_pos for s in shards]), "<images split across shards>")


# ---------------------------------------------------------------------------- matching a shard


def match_shard(
    shard: Shard,
    plan: Plan,
    exclude: NDArray[np.int64] | None = None,
    images: NDArray[np.int64] | None = None,
) -> list[Piece]:
    """Match the shard's images (less ``exclude``) and cut the result into category groups.

    ``images``: :func:`shard_images` of ``shard`` when the caller has it already.
    """
    p = plan.params
    images = shard_images(shard) if images is None else images
    if exclude is not None and len(exclude):
        images = np.setdiff1d(images, exclude, assume_unique=True)
    n_loc = len(images)
    n_a = len(p.areaRng)
    if n_loc == 0:
        return [_empty_piece(plan, g, n_a) for g in range(plan.n_groups)]
    sub = copy.copy(p)
    sub.imgIds = [plan.img_ids[j] for j in images]
    lo, hi = plan.gt_img_off[images], plan.gt_img_off[images + 1]
    gt_rows = np.repeat(hi - np.cumsum(hi - lo), hi - lo) + np.arange(int((hi - lo).sum()))
    on = np.zeros(len(plan.img_ids) + 1, np.bool_)
    on[images] = True
    dt_rows = np.flatnonzero(on[shard.img_pos])  # img_pos -1 reads the last slot: False
    # every row (the usual case): no copy (_evaluate reads its inputs only)
    dt = shard.cols if len(dt_rows) == len(shard.img_pos) else _take(shard.cols, dt_rows)
    ev = _evaluate(_take(plan.gt, gt_rows), dt, sub)
    n_cells = len(ev.dt_off) - 1
    cat_off = np.ascontiguousarray(ev.dt_off[::n_loc])  # category k owns rows cat_off[k]:cat_off[k + 1]
    # each category's rows (image order, then rank in the cell) sorted stably by descending score,
    # as pycocotools sorts the category's concatenation: the reduction then only merges shards
    order = _ks.sort_segments_desc(cat_off, np.ascontiguousarray(ev.dt_score))
    cell = np.repeat(np.arange(n_cells), np.diff(ev.dt_off))[order]
    rank = (order - ev.dt_off[cell]).astype(np.int32)
    img_dtype = np.int32 if len(plan.img_ids) < 2**31 else np.int64
    img = images[cell % n_loc].astype(img_dtype)
    score = ev.dt_score[order]
    kind = ev.kind[order]
    is_mixed = (kind == _kc.MIXED).any(axis=1)
    pieces = []
    for g in range(plan.n_groups):
        k0, k1 = plan.group_off[g], plan.group_off[g + 1]
        r0, r1 = cat_off[k0], cat_off[k1]
        mixed = np.flatnonzero(is_mixed[r0:r1]).astype(np.int32)
        pieces.append(
            Piece(
                counts=np.diff(cat_off[k0 : k1 + 1]),
                img=img[r0:r1],
                rank=rank[r0:r1],
                score=score[r0:r1],
                kind=kind[r0:r1],
                mixed=mixed,
                status=ev.status[order[r0 + mixed.astype(np.int64)]],
            )
        )
    return pieces


@dataclass
class Matched:
    """A matched shard: its pieces and the image positions it holds."""

    pieces: list[Piece]
    images: NDArray[np.int64]


def load_and_match(source: Any, plan: Plan, where: str) -> Matched:
    """:func:`load_shard` then :func:`match_shard` in one task (the shard's columns are not kept)."""
    return match_read(_read_shard(source, where), plan, where)


def match_read(cols: _Columns, plan: Plan, where: str) -> Matched:
    """:func:`locate_shard` then :func:`match_shard` of a shard :func:`read_shard` read."""
    shard = locate_shard(cols, plan, where)
    images = shard_images(shard)
    return Matched(match_shard(shard, plan, images=images), images)


def matched_images(matched: Matched) -> NDArray[np.int64]:
    """The image positions of a :class:`Matched` (a named function, run where it lives)."""
    return matched.images


def _empty_piece(plan: Plan, g: int, n_a: int) -> Piece:
    n_t = len(np.asarray(plan.params.iouThrs).reshape(-1))
    return Piece(
        counts=np.zeros(plan.group_off[g + 1] - plan.group_off[g], np.int64),
        img=np.empty(0, np.int32),
        rank=np.empty(0, np.int32),
        score=np.empty(0, np.float64),
        kind=np.empty((0, n_a), np.int8),
        mixed=np.empty(0, np.int32),
        status=np.empty((0, n_a, n_t), np.int8),
    )


def piece(matched: Matched | list[Piece], g: int) -> Piece:
    """Group ``g``'s piece (a named function, so that a scheduler runs it where ``matched`` lives)."""
    return (matched.pieces if isinstance(matched, Matched) else matched)[g]


# ---------------------------------------------------------------------------- the reduction


def reduce_group(plan: Plan, g: int, *pieces: Piece) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Precision, recall and scores of category group ``g`` from every shard's piece (in shard order)."""
    p = plan.params
    k0, k1 = int(plan.group_off[g]), int(plan.group_off[g + 1])
    n_kg = k1 - k0
    iou_thrs = np.asarray(p.iouThrs, dtype=np.float64).reshape(-1)
    rec_thrs = np.ascontiguousarray(np.asarray(p.recThrs, dtype=np.float64).reshape(-1))
    n_t, n_r, n_a, n_m = len(iou_thrs), len(rec_thrs), len(p.areaRng), len(p.maxDets)
    run_off = np.zeros((len(pieces), n_kg + 1), np.int64)
    base = 0
    for s, pc in enumerate(pieces):
        run_off[s, 0] = base
        np.cumsum(pc.counts, out=run_off[s, 1:])
        run_off[s, 1:] += base
        base = int(run_off[s, -1])
    status = np.zeros((base, n_a, n_t), np.int8)
    start = 0
    for pc in pieces:
        status[start + pc.mixed.astype(np.int64)] = pc.status
        start += len(pc.score)

    def cat(name: str, dtype: Any) -> np.ndarray:
        return np.ascontiguousarray(np.concatenate([getattr(pc, name) for pc in pieces]), dtype=dtype)

    precision = np.empty((n_kg, n_a, n_m, n_t, n_r))  # every entry written by the kernel
    recall = np.full((n_t, n_kg, n_a, n_m), -1.0)
    scores = np.empty((n_kg, n_a, n_m, n_t, n_r))
    kind = cat("kind", np.int8).reshape(-1, n_a)
    cat_off = np.zeros(run_off.shape[1], np.int64)
    np.cumsum(np.diff(run_off, axis=1).sum(axis=0), out=cat_off[1:])
    scratch = [np.empty(cat_off[-1], np.int64) for _ in range(3)]  # rows, ranks, merge buffer
    _ks.accumulate_runs(
        run_off.shape[1] - 1,
        run_off, cat("img", np.int64), cat("rank", np.int64), cat("score", np.float64), status, kind,
        np.ascontiguousarray(plan.n_pos[k0:k1]), np.arange(n_a, dtype=np.int64),
        np.asarray(p.maxDets, np.int64), rec_thrs, bool(np.all(np.diff(rec_thrs) >= 0)),
        float(np.spacing(1)), cat_off, *scratch, precision, recall, scores,
    )  # fmt: skip
    return _curves(precision), recall, _curves(scores)


def assemble(plan: Plan, groups: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> CocoEvalResult:
    """Join the groups' arrays along the category axis into ``fastdet.coco.evaluate_coco``'s result."""
    p = plan.params
    e = {
        "precision": np.concatenate([g[0] for g in groups], axis=2),
        "recall": np.concatenate([g[1] for g in groups], axis=1),
        "scores": np.concatenate([g[2] for g in groups], axis=2),
    }
    return _result(e, p, plan.max_detections, plan.area_ranges)


def evaluate_local(plan: Plan, sources: Sequence[Any], names: Sequence[str]) -> CocoEvalResult:
    """Every step in this process, shard by shard, as :mod:`fastdet.dask` schedules them (tests)."""
    matched = [load_and_match(src, plan, name) for src, name in zip(sources, names, strict=True)]
    split = split_images([m.images for m in matched])
    if len(split):  # again, the split images apart
        shards = [load_shard(src, plan, name) for src, name in zip(sources, names, strict=True)]
        pieces = [match_shard(s, plan, split) for s in shards]
        pieces.append(match_shard(concat_shards(*[take_images(s, split) for s in shards]), plan))
    else:
        pieces = [m.pieces for m in matched]
    groups = [reduce_group(plan, g, *[piece(m, g) for m in pieces]) for g in range(plan.n_groups)]
    return assemble(plan, groups)


def as_coco(gt: Any) -> Any:
    """A ground truth as ``fastdet.coco`` takes it (COCO object, json path or dataset dict)."""
    if isinstance(gt, COCO) or (hasattr(gt, "dataset") and hasattr(gt, "getImgIds")):
        return gt
    if isinstance(gt, (str, os.PathLike, dict)):
        return COCO(gt, verbose=False)
    raise TypeError(f"gt must be a COCO object, a json path or a dataset dict; got {type(gt).__name__}")
