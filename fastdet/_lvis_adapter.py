"""The one place where LVIS evaluation touches fastdet's COCO internals.

LVIS's federated protocol is COCO's greedy matching and accumulation run on a
subset of (category, image) cells, with one extra per-detection rule (an
unmatched detection in a not-exhaustively annotated category is ignored). This
module hands prepared columns to the COCO evaluation core and reads its output
back; :mod:`fastdet.lvis` and :mod:`fastdet._lvis_core` import nothing from
``fastdet.coco`` or ``fastdet._kernels.coco`` themselves. When the COCO core
changes its internal layout, this file is what needs re-plugging:

* ``_Columns`` and the column helpers of ``fastdet.coco.columns`` (validated
  NumPy columns from annotation dicts, errors naming the file, entry and key);
* ``fastdet.coco.reading._scan_results`` (the Numba JSON scanner for result files);
* ``fastdet.coco.evaluation._evaluate`` / ``_accumulate`` with a ``Params``
  object, the cell status codes ``FP`` / ``IGNORED`` / ``MIXED`` of
  ``fastdet._kernels.coco``, and the ``kind`` (Nd, A) / ``status`` (Nd, A, T)
  tables of the ``_Evaluation`` (flat or shaped: both are reshaped here).

Masks (``iou_type='segm'``) will plug in here: the columns keep one row per
annotation of the ground truth file and of the capped result list, so a mask
IoU ``measure`` built from those annotation lists (``ev.gt_rows`` /
``ev.dt_rows`` index them) can be passed on to ``_evaluate(gt, dt, p, measure)``
once the COCO core takes one. lvis-api's segm quirks to keep then: a result with
a ``bbox`` gets ``area = w * h`` (not its mask area) and, without a
``segmentation``, the box as a polygon.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fastdet._kernels.coco import FP, IGNORED
from fastdet.coco.columns import _bbox_column, _Columns, _float_column, _get_column, _int_column
from fastdet.coco.evaluation import _accumulate, _evaluate
from fastdet.coco.params import Params as _CocoParams
from fastdet.coco.reading import _scan_results

__all__ = [
    "Columns",
    "CoreRun",
    "accumulate",
    "bbox_column",
    "columns",
    "float_column",
    "get_column",
    "int_column",
    "match",
    "scan_result_file",
]

Columns = _Columns
get_column = _get_column
int_column = _int_column
float_column = _float_column
bbox_column = _bbox_column


def columns(
    ids: NDArray[np.int64],
    image_id: NDArray[np.int64],
    category_id: NDArray[np.int64],
    bbox: NDArray[np.float64],
    area: NDArray[np.float64],
    *,
    ignore: NDArray[np.bool_] | None = None,
    score: NDArray[np.float64] | None = None,
) -> _Columns:
    """Columns for the core: ground truth when ``ignore`` is given (never crowd), else results."""
    cols = _Columns(ids, image_id, category_id, bbox, area)
    if ignore is not None:
        cols.crowd = np.zeros(len(ids), np.bool_)  # LVIS has no crowd regions
        cols.ignore = ignore
    else:
        cols.score = score
    return cols


def scan_result_file(raw: bytes) -> _Columns | None:
    """Columns of a plain bbox results file read by the Numba scanner, or None (parse it in full)."""
    got: Any = _scan_results(raw)
    if got is None:
        return None
    return got[0] if isinstance(got, tuple) else got  # (columns, score) on main; columns on newer


@dataclass
class CoreRun:
    """A matched evaluation: the core's state plus what accumulation needs."""

    ev: Any
    n_cats: int  # categories of the core layout (1 when categories are pooled)
    n_imgs: int  # images (or per-category slots) of the core layout
    n_areas: int
    max_det: int


def match(
    gt: _Columns,
    dt: _Columns,
    n_imgs: int,
    cat_ids: Sequence[int],
    use_cats: bool,
    iou_thrs: NDArray[np.float64],
    area_rng: NDArray[np.float64],
    dt_not_exhaustive: NDArray[np.bool_],
) -> CoreRun:
    """Group into cells and run COCO's greedy matching, then LVIS's not-exhaustive rule.

    ``gt`` / ``dt`` carry cell coordinates instead of ids: ``image_id`` is the
    image (or slot) position in ``[0, n_imgs)`` and ``category_id`` the category
    position, -1 for rows that take no part. ``cat_ids`` lists the category
    positions of the layout (every category once, ascending, with ``use_cats``;
    the pooled order, repeats included, without). Rows of ``dt`` flagged in
    ``dt_not_exhaustive`` are ignored wherever they are left unmatched (status
    FP becomes IGNORED), which is lvis-api's ``dt_ig_mask`` rule.
    """
    # LVIS does not truncate within a cell (the per-image cap came earlier). A pooled cell
    # holds each detection once per occurrence of its category in ``cat_ids``: up to
    # len(dt) * len(cat_ids) entries, which a limit of len(dt) would cut.
    max_det = max(len(dt) * (1 if use_cats else len(cat_ids)), 1)
    p = _CocoParams("bbox")
    p.imgIds = list(range(n_imgs))
    p.catIds = list(cat_ids)
    p.useCats = 1 if use_cats else 0
    p.iouThrs = iou_thrs
    p.areaRng = area_rng.tolist()
    p.maxDets = [max_det]
    ev = _evaluate(gt, dt, p)
    n_t, n_a = len(iou_thrs), len(area_rng)
    ne = dt_not_exhaustive[ev.dt_rows]
    if ne.any():
        n_d = len(ev.dt_rows)
        kind = ev.kind.reshape(n_d, n_a)
        status = ev.status.reshape(n_d, n_a, n_t)
        k_sub = kind[ne]
        k_sub[k_sub == FP] = IGNORED
        kind[ne] = k_sub
        s_sub = status[ne]  # entries of rows whose kind is not MIXED are never read: harmless
        s_sub[s_sub == FP] = IGNORED
        status[ne] = s_sub
        ev.kind, ev.status = kind.reshape(ev.kind.shape), status.reshape(ev.status.shape)  # views: no copy
    return CoreRun(ev, len(cat_ids) if use_cats else 1, n_imgs, n_a, max_det)


def accumulate(
    run: CoreRun, rec_thrs: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Precision (T, R, K, A) and recall (T, K, A) of every layout category; -1 without ground truth."""
    n_t = len(run.ev.iou_thrs)
    shape = (n_t, len(rec_thrs), run.n_cats, run.n_areas, 1)
    precision, recall, _ = _accumulate(
        run.ev,
        range(run.n_cats),
        range(run.n_areas),
        range(run.n_imgs),
        [run.max_det],
        np.ascontiguousarray(rec_thrs, dtype=np.float64),
        shape,
        want_scores=False,
    )
    return precision[..., 0], np.ascontiguousarray(recall[..., 0])
