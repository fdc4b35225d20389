"""LVIS's federated protocol on arrays: reading the files' LVIS fields, the per-image cap, the cells.

What lvis-api (``lvis/lvis.py``, ``results.py``, ``eval.py``) does with Python
dicts, done on NumPy columns:

* ``LVISResults`` keeps, per image with more than ``max_dets`` results, the
  ``max_dets`` highest scores (Python's stable ``sorted(..., reverse=True)``:
  ties keep file order), regrouping the list by image in order of first
  appearance; it then numbers the results ``id = 1..N`` and sets
  ``area = w * h``.
* ``LVISEval._prepare`` takes only annotations with ``0 < area < inf`` (the
  strict bounds of ``LVIS.get_ann_ids``), keeps a detection only where its
  category is positive on its image (has a ground truth there) or is in the
  image's ``neg_category_ids``, and marks those whose category is in the
  image's ``not_exhaustive_category_ids``.

The (category, image) cells that remain are handed to COCO's matching and
accumulation through :mod:`fastdet._lvis_adapter`. With categories, each
category's cells are numbered ``0, 1, ...`` in image order ("slots"), so the
dense cell table has ``K * S`` entries, S the largest number of cells of one
category, instead of ``K * I``: a category is evaluated on few of LVIS's images.
Slots keep image order, which is what accumulation's tie-breaking needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fastdet import _lvis_adapter as _core

FREQUENCIES = ("r", "c", "f")


def positions(
    sorted_ids: NDArray[np.int64], values: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """Index of each value in the sorted unique ``sorted_ids`` (-1 when absent) and whether present."""
    values = np.asarray(values, np.int64)
    if len(sorted_ids) == 0 or len(values) == 0:
        return np.full(len(values), -1, np.int64), np.zeros(len(values), np.bool_)
    hi = int(sorted_ids[-1])
    if sorted_ids[0] >= 0 and hi < max(4 * len(values), 1 << 22):
        # small non-negative ids (the usual case): a look-up table, no binary searches
        table = np.full(hi + 2, -1, np.int64)
        table[sorted_ids] = np.arange(len(sorted_ids))
        pos = table[np.clip(values, -1, hi + 1)]  # out of range -> the last slot or -1 -> the last: -1
        return pos, pos >= 0
    pos = np.searchsorted(sorted_ids, values)
    ok = pos < len(sorted_ids)
    ok[ok] = sorted_ids[pos[ok]] == values[ok]
    return np.where(ok, pos, -1).astype(np.int64), ok


def _member(sorted_keys: NDArray[np.int64], values: NDArray[np.int64]) -> NDArray[np.bool_]:
    """Whether each value is among the sorted unique non-negative ``sorted_keys`` (-1: never)."""
    if len(sorted_keys) and len(values) and sorted_keys[0] >= 0 and sorted_keys[-1] < 1 << 28:
        hi = int(sorted_keys[-1])
        table = np.zeros(hi + 2, np.bool_)
        table[sorted_keys] = True
        return table[np.clip(values, -1, hi + 1)]  # -1 reads the last slot, which is False
    return positions(sorted_keys, values)[1]


# ---------------------------------------------------------------- reading the files' fields


def _where(source: str, part: str) -> str:
    return f"{source} ({part})"


def _id_list_column(
    entries: Sequence[Any], key: str, where: str
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(entry index, id) of every id in the per-entry lists ``entry[key]``."""
    lists = _core.get_column(entries, key, where)
    bad = next((i for i, v in enumerate(lists) if not isinstance(v, (list, tuple))), None)
    if bad is not None:
        raise ValueError(f"{where}: entry {bad} has {key}={lists[bad]!r}; expected a list of category ids")
    lengths = np.fromiter(map(len, lists), np.int64, len(lists))
    flat = list(chain.from_iterable(lists))
    owner = np.repeat(np.arange(len(lists), dtype=np.int64), lengths)
    try:
        ids = _core.int_column(flat, key, where)
    except ValueError:
        j = next(j for j, v in enumerate(flat) if not _is_int(v))
        raise ValueError(
            f"{where}: entry {int(owner[j])} has {flat[j]!r} in {key}; expected integer category ids"
        ) from None
    return owner, ids


def _is_int(v: Any) -> bool:
    if isinstance(v, (bool, np.bool_)):
        return True
    if isinstance(v, (int, np.integer)):
        return abs(int(v)) < 2**63
    return (
        isinstance(v, (float, np.floating))
        and np.isfinite(v)
        and float(v) == int(v)
        and abs(float(v)) < 2**53
    )


@dataclass
class Federation:
    """The LVIS fields of a ground truth: image ids, category frequencies, per-image category lists."""

    img_ids: NDArray[np.int64]  # file order
    cat_ids: NDArray[np.int64]  # file order
    frequency: NDArray[np.int64]  # index into FREQUENCIES, per category (file order)
    neg_img: NDArray[np.int64]  # (image id, category id) pairs of neg_category_ids
    neg_cat: NDArray[np.int64]
    nel_img: NDArray[np.int64]  # ... and of not_exhaustive_category_ids
    nel_cat: NDArray[np.int64]


def _check_unique(ids: NDArray[np.int64], where: str, what: str) -> None:
    if len(ids) > 1:
        uniq, counts = np.unique(ids, return_counts=True)
        if (counts > 1).any():
            dup = uniq[np.argmax(counts > 1)]
            idx = np.flatnonzero(ids == dup)[:2].tolist()
            raise ValueError(f"{where}: entries {idx[0]} and {idx[1]} share {what} id {int(dup)}")


def read_federation(images: Sequence[Any], categories: Sequence[Any], source: str) -> Federation:
    """Validate and extract the LVIS fields; ``ValueError`` names the file, the entry and the key."""
    w_img, w_cat = _where(source, "images"), _where(source, "categories")
    cat_ids = _core.int_column(_core.get_column(categories, "id", w_cat), "id", w_cat)
    _check_unique(cat_ids, w_cat, "category")
    freq_raw = _core.get_column(categories, "frequency", w_cat)
    code = {f: i for i, f in enumerate(FREQUENCIES)}
    frequency = np.empty(len(freq_raw), np.int64)
    for i, f in enumerate(freq_raw):
        if not isinstance(f, str) or f not in code:
            raise ValueError(
                f"{w_cat}: entry {i} (category id {int(cat_ids[i])}) has frequency={f!r}; "
                "expected 'r', 'c' or 'f'"
            )
        frequency[i] = code[f]
    img_ids = _core.int_column(_core.get_column(images, "id", w_img), "id", w_img)
    _check_unique(img_ids, w_img, "image")
    known = np.unique(cat_ids)
    pairs = []
    for key in ("neg_category_ids", "not_exhaustive_category_ids"):
        owner, ids = _id_list_column(images, key, w_img)
        ok = _member(known, ids)
        if not ok.all():
            j = int(np.flatnonzero(~ok)[0])
            raise ValueError(
                f"{w_img}: entry {int(owner[j])} (image id {int(img_ids[owner[j]])}) has {key} "
                f"containing {int(ids[j])}, which is not a category id of this file"
            )
        pairs.append((img_ids[owner], ids))
    (neg_img, neg_cat), (nel_img, nel_cat) = pairs
    return Federation(img_ids, cat_ids, frequency, neg_img, neg_cat, nel_img, nel_cat)


def gt_columns(anns: Sequence[Any], fed: Federation, source: str) -> Any:
    """Validated ground-truth columns; ``ignore`` is the optional ``ignore`` key (lvis-api's flag)."""
    where = _where(source, "annotations")
    g = _core.get_column
    ids = _core.int_column(g(anns, "id", where), "id", where)
    image_id = _core.int_column(g(anns, "image_id", where), "image_id", where)
    category_id = _core.int_column(g(anns, "category_id", where), "category_id", where)
    bbox = _core.bbox_column(g(anns, "bbox", where), where)
    area = _core.float_column(g(anns, "area", where), "area", where, allow_inf=True)
    if any("ignore" in a for a in anns):
        values = [a.get("ignore", 0) for a in anns]
        ignore = _core.float_column(values, "ignore", where) != 0
    else:
        ignore = np.zeros(len(anns), np.bool_)
    _check_unique(ids, where, "annotation")
    for col, key, known in ((image_id, "image_id", fed.img_ids), (category_id, "category_id", fed.cat_ids)):
        ok = _member(np.unique(known), col)
        if not ok.all():
            j = int(np.flatnonzero(~ok)[0])
            what = "an image" if key == "image_id" else "a category"
            raise ValueError(
                f"{where}: entry {j} has {key}={int(col[j])}, which is not {what} id of this file"
            )
    return _core.columns(ids, image_id, category_id, bbox, area, ignore=ignore)


def result_columns(anns: Sequence[Any], where: str) -> Any:
    """Columns of bbox result dicts in input order: ids ``1..N``, ``area = w * h``."""
    g = _core.get_column
    image_id = _core.int_column(g(anns, "image_id", where), "image_id", where)
    category_id = _core.int_column(g(anns, "category_id", where), "category_id", where)
    bbox = _core.bbox_column(g(anns, "bbox", where), where)
    score = _core.float_column(g(anns, "score", where), "score", where, allow_inf=True)
    ids = np.arange(1, len(image_id) + 1, dtype=np.int64)
    return _core.columns(ids, image_id, category_id, bbox, bbox[:, 2] * bbox[:, 3], score=score)


def scan_result_file(raw: bytes) -> Any:
    """Columns of a plain bbox results file (the Numba scanner), or None: parse it in full."""
    return _core.scan_result_file(raw)


def take_rows(cols: Any, order: NDArray[np.int64]) -> Any:
    """Result columns restricted to ``order`` (in that order), renumbered ``1..len(order)``."""
    return _core.columns(
        np.arange(1, len(order) + 1, dtype=np.int64),
        cols.image_id[order],
        cols.category_id[order],
        np.take(cols.bbox, order, axis=0),
        cols.area[order],
        score=cols.score[order],
    )


def cap_order(image_id: NDArray[np.int64], score: NDArray[np.float64], max_dets: int) -> NDArray[np.int64]:
    """Rows kept by ``LVISResults.limit_dets_per_image``, in its output order.

    Images in order of first appearance; within an image, input order when it
    has at most ``max_dets`` results, else the ``max_dets`` best by descending
    score with ties in input order. ``max_dets < 0``: every row, input order.
    """
    n = len(image_id)
    if max_dets < 0 or n == 0:
        return np.arange(n, dtype=np.int64)
    _, first, inverse, counts = np.unique(
        image_id, return_index=True, return_inverse=True, return_counts=True
    )
    appearance = np.empty(len(first), np.int64)
    appearance[np.argsort(first, kind="stable")] = np.arange(len(first))
    group = appearance[inverse.reshape(-1)]
    capped = (counts > max_dets)[inverse.reshape(-1)]
    secondary = np.where(capped, -score, 0.0)  # uncapped images keep input order (stable sort)
    order = np.lexsort((secondary, group))
    sizes = np.zeros(len(first), np.int64)
    sizes[appearance] = counts
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    rank = np.arange(n) - starts[group[order]]
    return order[rank < max_dets].astype(np.int64)


# ---------------------------------------------------------------- the federated cells


@dataclass
class Layout:
    """Cell coordinates of the rows taking part, for :func:`fastdet._lvis_adapter.match`."""

    gt: Any
    dt: Any
    n_imgs: int
    core_cat_ids: list[int]
    use_cats: bool
    dt_not_exhaustive: NDArray[np.bool_]
    n_gt: int  # ground truths taking part
    n_dt: int  # detections taking part


def _keys(
    ids_img: NDArray[np.int64],
    ids_cat: NDArray[np.int64],
    img_sorted: NDArray[np.int64],
    cat_u: NDArray[np.int64],
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.bool_]]:
    i, i_ok = positions(img_sorted, ids_img)
    k, k_ok = positions(cat_u, ids_cat)
    return i, k, i_ok & k_ok


def federated_layout(
    gt: Any,
    dt: Any,
    fed: Federation,
    img_sorted: NDArray[np.int64],
    cat_list: NDArray[np.int64],
    use_cats: bool,
) -> Layout:
    """Which rows take part, in which (category, image) cell, and which detections are not-exhaustive."""
    n_img = len(img_sorted)
    cat_u = np.unique(cat_list)
    n_cat = len(cat_u)
    gi, gk, g_ok = _keys(gt.image_id, gt.category_id, img_sorted, cat_u)
    g_ok &= (gt.area > 0) & (gt.area < np.inf)
    di, dk, d_ok = _keys(dt.image_id, dt.category_id, img_sorted, cat_u)
    d_ok &= (dt.area > 0) & (dt.area < np.inf)
    # keys image-major (image * K + category) for the per-image category sets
    positive = np.unique(gi[g_ok] * n_cat + gk[g_ok])
    ni, nk, n_ok = _keys(fed.neg_img, fed.neg_cat, img_sorted, cat_u)
    allowed = np.union1d(positive, ni[n_ok] * n_cat + nk[n_ok])
    d_key = np.where(d_ok, di * n_cat + dk, -1)
    d_ok &= _member(allowed, d_key)
    ei, ek, e_ok = _keys(fed.nel_img, fed.nel_cat, img_sorted, cat_u)
    not_exhaustive = d_ok & _member(np.unique(ei[e_ok] * n_cat + ek[e_ok]), d_key)
    if use_cats:
        # slots: each category's cells numbered in image order
        g_rows, d_rows = np.flatnonzero(g_ok), np.flatnonzero(d_ok)
        keys = np.concatenate((gk[g_rows] * n_img + gi[g_rows], dk[d_rows] * n_img + di[d_rows]))
        cells, cell_of = np.unique(keys, return_inverse=True)
        first = np.searchsorted(cells, np.arange(n_cat, dtype=np.int64) * n_img)
        n_slots = int(np.diff(np.append(first, len(cells))).max(initial=0))
        slot = cell_of.reshape(-1) - first[np.concatenate((gk[g_rows], dk[d_rows]))]
        g_img = np.full(len(g_ok), -1, np.int64)
        g_img[g_rows] = slot[: len(g_rows)]
        d_img = np.full(len(d_ok), -1, np.int64)
        d_img[d_rows] = slot[len(g_rows) :]
        core_cats = list(range(n_cat))
    else:
        # lvis-api's _get_gt_dt pools ``self._gts[img_id, cat_id]`` once per entry of
        # params.cat_ids, where cat_id is evaluate()'s placeholder -1, not the loop variable:
        # only annotations of a category with id -1 take part, each len(cat_ids) times
        # (none, i.e. precision and recall all -1, unless -1 is one of the categories).
        n_slots = n_img
        minus, has_minus = positions(cat_u, np.array([-1], np.int64))
        g_ok &= (gk == minus[0]) & has_minus[0]
        d_ok &= (dk == minus[0]) & has_minus[0]
        not_exhaustive &= d_ok
        g_img = np.where(g_ok, gi, -1)
        d_img = np.where(d_ok, di, -1)
        core_cats = [int(minus[0]) if has_minus[0] else 0] * len(cat_list)
    gt2 = _core.columns(
        gt.ids, g_img.astype(np.int64), np.where(g_ok, gk, -1), gt.bbox, gt.area, ignore=gt.ignore
    )
    dt2 = _core.columns(
        dt.ids, d_img.astype(np.int64), np.where(d_ok, dk, -1), dt.bbox, dt.area, score=dt.score
    )
    return Layout(gt2, dt2, n_slots, core_cats, use_cats, not_exhaustive, int(g_ok.sum()), int(d_ok.sum()))


def evaluate(layout: Layout, iou_thrs: NDArray[np.float64], area_rng: NDArray[np.float64]) -> Any:
    """Match every cell (COCO's greedy matching plus the not-exhaustive rule)."""
    return _core.match(
        layout.gt, layout.dt, layout.n_imgs, layout.core_cat_ids, layout.use_cats,
        iou_thrs, area_rng, layout.dt_not_exhaustive,
    )  # fmt: skip


def accumulate(run: Any, rec_thrs: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Precision (T, R, K, A) and recall (T, K, A) over the layout's categories (ascending ids)."""
    return _core.accumulate(run, rec_thrs)
