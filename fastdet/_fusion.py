"""The engine behind ``fastdet.fusion``: validation, the ensemble-boxes prefilter, kernel dispatch.

Private: the public functions, their documentation and the list of ensemble-boxes' quirks
live in ``fastdet.fusion``.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray

from fastdet._kernels import fusion as _k
from fastdet._kernels import fusion_groups as _kg
from fastdet._nms_core import _grouped_nms
from fastdet._validate import (
    as_float_array,
    as_labels,
    check_bool,
    check_choice,
    check_real,
    check_threshold,
    to_numeric_array,
)

Fused = tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]

_CONF_TYPES = ("avg", "max", "box_and_model_avg", "absent_model_aware_avg")
_METHODS = ("wbf", "nmw", "nms", "soft_nms")
_DEFAULT_IOU = {"wbf": 0.55, "nmw": 0.55, "nms": 0.5, "soft_nms": 0.5}
_SOFT_CODES = {"linear": 1, "gaussian": 2, "hard": 3}
#: Boxes from which the batched path sorts, clusters and writes its results on several threads.
_PARALLEL_ROWS = 20_000
#: Largest coordinate accepted without clipping: fused boxes go through float32 (max 3.4e38).
_MAX_COORD = 1e30
_NAMES = {
    "wbf": "weighted_boxes_fusion",
    "nmw": "non_maximum_weighted",
    "nms": "nms",
    "soft_nms": "soft_nms",
}


@dataclass(frozen=True)
class _Options:
    """Validated options of one fusion call."""

    method: str
    iou_thr: float
    skip_box_thr: float = 0.0
    conf_type: int = 0
    allows_overflow: bool = False
    soft_method: int = 2
    sigma: float = 0.5
    thresh: float = 0.001
    decayed_scores: bool = False
    clip: bool = True


# --------------------------------------------------------------------------- validation


def _options(
    method: Any,
    *,
    iou_thr: Any,
    skip_box_thr: Any = 0.0,
    conf_type: Any = "avg",
    allows_overflow: Any = False,
    soft_method: Any = 2,
    sigma: Any = 0.5,
    thresh: Any = 0.001,
    decayed_scores: Any = False,
    clip: Any = True,
) -> _Options:
    m = check_choice(method, "method", _METHODS)
    thr = _DEFAULT_IOU[m] if iou_thr is None else check_threshold(iou_thr, "iou_thr")
    ct = check_choice(conf_type, "conf_type", _CONF_TYPES)
    if isinstance(soft_method, str):
        code = _SOFT_CODES.get(soft_method)
    elif isinstance(soft_method, (int, np.integer)) and not isinstance(soft_method, bool):
        code = int(soft_method) if int(soft_method) in (1, 2, 3) else None
    else:
        code = None
    if code is None:
        raise ValueError(
            f"soft-NMS method must be 1 or 'linear', 2 or 'gaussian', 3 or 'hard'; got {soft_method!r}"
        )
    sig = check_real(sigma, "sigma")
    if sig <= 0:
        raise ValueError(f"sigma must be > 0, got {sigma}")
    return _Options(
        method=m,
        iou_thr=thr,
        skip_box_thr=check_real(skip_box_thr, "skip_box_thr"),
        conf_type=_CONF_TYPES.index(ct),
        allows_overflow=check_bool(allows_overflow, "allows_overflow"),
        soft_method=code,
        sigma=sig,
        thresh=check_real(thresh, "thresh"),
        decayed_scores=check_bool(decayed_scores, "decayed_scores"),
        clip=check_bool(clip, "clip"),
    )


def _model_lists(
    boxes_list: Any, scores_list: Any, labels_list: Any, names: tuple[str, str, str]
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64], NDArray[np.int64], int]:
    """Concatenate per-model lists; return ``(model, boxes (N, 4), scores, labels, n_models)``.

    ``names`` are the three arguments' names, for the messages.
    """
    nb, ns, nl = names
    lists = {nb: boxes_list, ns: scores_list, nl: labels_list}
    for name, value in lists.items():
        if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, (Sequence, np.ndarray)):
            raise TypeError(f"{name} must be a list with one entry per model, got {type(value).__name__}")
    n_models = len(boxes_list)
    for name in (ns, nl):
        if len(lists[name]) != n_models:
            raise ValueError(f"{name} has {len(lists[name])} entries but {nb} has {n_models} (one per model)")
    boxes, scores, labels = [], [], []
    for m in range(n_models):
        b = to_numeric_array(boxes_list[m], f"{nb}[{m}]")
        if b.size == 0:
            b = b.reshape(0, 4)
        if b.ndim != 2 or b.shape[1] != 4:
            raise ValueError(f"{nb}[{m}] must have shape (N, 4), got {b.shape}")
        b = as_float_array(b, f"{nb}[{m}]", dtype=np.float64)
        s = as_float_array(scores_list[m], f"{ns}[{m}]", dtype=np.float64).reshape(-1)
        if len(s) != len(b):
            raise ValueError(f"{ns}[{m}] has length {len(s)} but {nb}[{m}] has length {len(b)}")
        lab = to_numeric_array(labels_list[m], f"{nl}[{m}]").reshape(-1)
        labels.append(as_labels(lab, len(b), f"{nl}[{m}]", other=f"{nb}[{m}]"))
        boxes.append(b)
        scores.append(s)
    model = np.repeat(np.arange(n_models, dtype=np.int64), [len(b) for b in boxes])
    if not n_models:
        return model, np.empty((0, 4)), np.empty(0), np.empty(0, np.int64), 0
    return model, np.concatenate(boxes), np.concatenate(scores), np.concatenate(labels), n_models


def _weights(weights: Any, n_models: int) -> NDArray[np.float64] | None:
    """``None`` or a float64 array of ``n_models`` finite weights >= 0 with a positive sum."""
    if weights is None:
        return None
    w = np.asarray(as_float_array(weights, "weights", dtype=np.float64), np.float64).reshape(-1)
    if len(w) != n_models:
        raise ValueError(f"weights has {len(w)} entries but there are {n_models} models")
    if (w < 0).any():
        raise ValueError(f"weights must be >= 0, got {w.tolist()}")
    if n_models and not w.sum() > 0:
        raise ValueError(f"weights must have a positive sum, got {w.tolist()}")
    return w


def _warn_fixed(method: str, swapped: int, clipped: int, zero: int, stacklevel: int) -> None:
    """One warning for the boxes that were fixed or dropped, as ensemble-boxes warns per box."""
    notes = []
    if swapped:
        notes.append(f"{swapped} with x2 < x1 or y2 < y1 had their corners swapped")
    if clipped:
        notes.append(f"{clipped} with coordinates outside [0, 1] were clipped (normalise boxes to [0, 1])")
    if zero:
        notes.append(f"{zero} of zero area were skipped")
    if notes:
        warnings.warn(
            f"{_NAMES[method]}: of the input boxes, {'; '.join(notes)}",
            UserWarning,
            stacklevel=stacklevel + 1,
        )


# --------------------------------------------------------------------------- the engine


@dataclass
class _Prepared:
    """Boxes after ensemble-boxes' fixes: ``boxes`` fixed, ``ws`` weighted scores, ``keep`` mask."""

    boxes: NDArray[np.float64]
    ws: NDArray[np.float64]
    keep: NDArray[np.bool_]
    n_kept: int
    ids: NDArray[np.int64]
    labels: NDArray[np.int64]


def _prefilter(
    opts: _Options,
    table: NDArray[np.floating[Any]] | Sequence[NDArray[np.floating[Any]]],
    columns: tuple[int, int, int, int],
    model: NDArray[np.int64],
    weights: NDArray[np.float64] | None,
    n_models: int,
    stacklevel: int,
    names: tuple[str, str] = ("", ""),
) -> _Prepared:
    """Fix the boxes of ``table`` (box, score and, optionally, image id and label columns).

    ``table`` may also be a list of tables (one per model, say), read as if concatenated.
    ``columns`` = (first box column, score column, image id column, label column), -1 for an
    absent column; ``names`` name the id and label columns in error messages.
    """
    method = opts.method
    w = np.ones(n_models) if weights is None else weights
    tables = [table] if isinstance(table, np.ndarray) else list(table)
    n = sum(len(t) for t in tables)
    bc, sc, ic, lc = columns
    big = 0.0
    if not opts.clip:  # clipped boxes lie in [0, 1]
        big = max((float(np.abs(t[:, bc : bc + 4]).max()) for t in tables if len(t)), default=0.0)
    if big > _MAX_COORD:
        raise ValueError(
            f"box coordinates reach {big:.3g}; fused boxes are built in float32 (as ensemble-boxes "
            f"builds them), so coordinates must stay below {_MAX_COORD:g}: rescale them"
        )
    if method == "nmw" and n_models:
        wmul, wdiv = w / w.max(), 1.0
    elif method in ("nms", "soft_nms") and weights is not None:
        wmul, wdiv = w, float(w.sum())
    else:
        wmul, wdiv = w, 1.0
    out = _Prepared(
        np.empty((n, 4)),
        np.empty(n),
        np.empty(n, np.bool_),
        0,
        np.empty(n if ic >= 0 else 0, np.int64),
        np.empty(n if lc >= 0 else 0, np.int64),
    )
    use_skip = method in ("wbf", "nmw")
    swapped = clipped = zero = 0
    o = 0
    for t in tables:
        e = o + len(t)
        if not len(t):
            continue
        ids = out.ids[o:e] if ic >= 0 else out.ids
        labs = out.labels[o:e] if lc >= 0 else out.labels
        n_chunks = 8 if len(t) >= _PARALLEL_ROWS else 1
        bounds = np.linspace(0, len(t), n_chunks + 1).astype(np.int64)
        counts = np.empty((n_chunks, 6), np.int64)
        (_kg.prefilter if n_chunks > 1 else _kg.prefilter.serial)(
            n_chunks, bounds, t, bc, sc, ic, lc, model[o:e], wmul, wdiv, opts.skip_box_thr, use_skip,
            opts.clip, out.boxes[o:e], out.ws[o:e], out.keep[o:e], ids, labs, counts,
        )  # fmt: skip
        n_swapped, n_clipped, n_zero, n_kept = counts[:, :4].sum(axis=0).tolist()
        for bads, col, name in ((counts[:, 4], ic, names[0]), (counts[:, 5], lc, names[1])):
            bad = int(bads[bads >= 0][0]) if (bads >= 0).any() else -1
            if bad >= 0:
                raise ValueError(
                    f"{name} must hold integers (within 2**53); entry {o + bad} is {float(t[bad, col])!r}"
                )
        swapped, clipped, zero = swapped + n_swapped, clipped + n_clipped, zero + n_zero
        out.n_kept += n_kept
        o = e
    _warn_fixed(method, swapped, clipped, zero, stacklevel=stacklevel + 1)
    if use_skip and (negative := out.keep & (out.ws < 0)).any():
        bad_ws = float(out.ws[np.flatnonzero(negative)[0]])
        raise ValueError(
            f"scores_list holds a negative score (weighted: {bad_ws}) above skip_box_thr; weighted fusion "
            "needs scores >= 0 (a skip_box_thr >= 0 drops negative scores)"
        )
    return out


def _fuse(
    opts: _Options,
    img: NDArray[np.int64],
    n_img: int,
    model: NDArray[np.int64],
    boxes: NDArray[np.float64],
    scores: NDArray[np.float64],
    labels: NDArray[np.int64],
    weights: NDArray[np.float64] | None,
    n_models: int,
    stacklevel: int,
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
    """Fuse validated, concatenated boxes; return ``(image, boxes, scores, labels)`` of the results.

    Results are ordered by image index, then as ensemble-boxes orders one image's results.
    """
    table = np.empty((len(boxes), 5))
    table[:, :4] = boxes
    table[:, 4] = scores
    prep = _prefilter(opts, table, (0, 4, -1, -1), model, weights, n_models, stacklevel + 1)
    return _cluster(opts, img, n_img, model, prep, labels, weights, n_models)


def _offset_or_rank(
    groups: NDArray[np.int64],
) -> tuple[NDArray[np.int64], int, int, NDArray[np.int64]]:
    """Number group ids 0 .. G-1 in increasing order: ``(idx, lo, G, ids)``, group ``idx[i] - lo``.

    Within a small range (as ``_nms_core._compact_groups`` takes it) ``idx`` is ``groups`` itself (no copy)
    and ``lo`` its minimum, else ``idx`` ranks the ids and ``lo`` is 0; ``ids[g]`` is group
    g's id.
    """
    lo = int(groups.min())
    hi = int(groups.max())
    if hi - lo <= 4 * len(groups) + 1024:
        return groups, lo, hi - lo + 1, np.arange(lo, hi + 1, dtype=np.int64)
    uniq, inverse = np.unique(groups, return_inverse=True)
    return inverse.astype(np.int64).reshape(-1), 0, len(uniq), uniq.astype(np.int64)


def _cluster(
    opts: _Options,
    img: NDArray[np.int64],
    n_img: int,
    model: NDArray[np.int64],
    prep: _Prepared,
    labels: NDArray[np.int64],
    weights: NDArray[np.float64] | None,
    n_models: int,
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
    """Cluster (or suppress) the prefiltered boxes, every (image, label) group in one pass.

    Returns ``(image, boxes, scores, labels)`` of the results.
    """
    out = _cluster_any(opts, img, n_img, model, prep, labels, weights, n_models, None)
    return cast(tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]], out)


def _cluster_table(
    opts: _Options,
    img: NDArray[np.int64],
    n_img: int,
    model: NDArray[np.int64],
    prep: _Prepared,
    weights: NDArray[np.float64] | None,
    n_models: int,
    id_of: NDArray[np.int64],
    img_lo: int = 0,
) -> NDArray[np.float64]:
    """:func:`_cluster` as the ``(K, 7)`` table ``[id_of[image], x1, y1, x2, y2, score, label]``.

    Box i's image is ``img[i] - img_lo`` (see :func:`_offset_or_rank`).
    """
    out = _cluster_any(opts, img, n_img, model, prep, prep.labels, weights, n_models, id_of, img_lo)
    return cast(NDArray[np.float64], out)


def _cluster_any(
    opts: _Options,
    img: NDArray[np.int64],
    n_img: int,
    model: NDArray[np.int64],
    prep: _Prepared,
    labels: NDArray[np.int64],
    weights: NDArray[np.float64] | None,
    n_models: int,
    id_of: NDArray[np.int64] | None,
    img_lo: int = 0,
) -> Any:
    """:func:`_cluster`, or with ``id_of`` (image index -> image id) :func:`_cluster_table`."""
    method = opts.method
    w = np.ones(n_models) if weights is None else weights
    boxes, ws, keep, n_kept = prep.boxes, prep.ws, prep.keep, prep.n_kept
    n = len(boxes)
    if n_kept == 0:
        empty = np.empty(0, np.int64), np.empty((0, 4)), np.empty(0), np.empty(0, np.int64)
        return empty if id_of is None else np.empty((0, 7))
    if img_lo and method in ("nms", "soft_nms"):  # these paths index by image
        img, img_lo = img - img_lo, 0
    if method in ("nms", "soft_nms") and n_kept < n:  # these paths work on the kept boxes only
        img, model, boxes, ws, labels = img[keep], model[keep], boxes[keep], ws[keep], labels[keep]
        keep = np.ones(n_kept, np.bool_)
        n = n_kept
    lab, lab_lo, n_lab, _ = _offset_or_rank(labels)
    fusing = method in ("wbf", "nmw")
    by_score = not (method == "soft_nms" and opts.soft_method != 3)
    order, gstart, gorder, gimg, glab, slot, cap = _kg.group_order(
        img, img_lo, lab, lab_lo, labels, n_img, n_lab, keep
    )
    par = len(order) >= _PARALLEL_ROWS and len(gorder) > 1  # work on several threads
    if by_score and not fusing:  # each group by decreasing score (the fusion kernels sort their own)
        (_kg.sort_groups if par else _kg.sort_groups.serial)(len(gorder), order, gstart, ws)

    if fusing:
        m = len(order)  # at most one cluster per placed box
        n_groups = len(gorder)
        ncl = np.empty(n_groups, np.int64)  # group gorder[j]'s clusters: slot[j] onwards, ncl[j] of them
        out_box = np.empty((m, 4))
        t = opts.iou_thr
        inv_t = 0.0 if t < 1e-6 else 1.0 / (t * (1.0 - 1e-6))
        if method == "wbf":
            ct = opts.conf_type
            by_kernel = ct in (0, 1)  # the kernel rescales avg and max; _rescale the others
            # the slots no cluster fills (a group has fewer clusters than boxes) stay 0 for _rescale
            out_score = np.empty(m) if by_kernel else np.zeros(m)
            out_weight = np.empty(0) if by_kernel else np.zeros(m)
            out_count = np.empty(0, np.int64) if by_kernel else np.zeros(m, np.int64)
            cluster_of = np.empty(0 if by_kernel else n, np.int64)
            wdiv = float(w.max() if ct == 1 else w.sum())
            (_k.wbf if par else _k.wbf.serial)(
                n_groups, boxes, ws, w, model, order, gstart, gorder, slot, cap, ct, opts.allows_overflow,
                wdiv, t, inv_t, out_box, out_score, out_weight, out_count, ncl, cluster_of,
            )  # fmt: skip
            if not by_kernel:
                _rescale(opts, out_score, out_weight, out_count, cluster_of, model, order, w)
        else:
            out_score = np.empty(m)
            (_k.nmw if par else _k.nmw.serial)(
                n_groups, boxes, ws, order, gstart, gorder, slot, cap, t, inv_t, out_box, out_score, ncl
            )
        if id_of is not None:
            jb, rb, rows_cap, span = _kg.image_rows(gimg, slot, ncl)
            table = np.empty((int(rb[-1]), 7))
            finish = _kg.finish_table if par and len(jb) > 2 else _kg.finish_table.serial
            finish(
                len(jb) - 1, id_of[gimg], glab, out_box, out_score, slot, ncl, jb, rb, rows_cap, span, table
            )
            return table
        return _kg.finish(gimg, glab, out_box, out_score, slot, ncl)

    if by_score:  # nms, and soft_nms method 3: greedy NMS per (image, label)
        gid = np.empty(n, np.int64)
        gid[order] = np.repeat(np.arange(len(gstart) - 1, dtype=np.int64), np.diff(gstart))
        kept = _grouped_nms(boxes, ws, gid, opts.iou_thr, order=order)
        out_scores = ws[kept]
    else:
        keep_idx = np.empty(n, np.int64)
        decayed = np.empty(n)
        method_code = opts.soft_method
        count = _k.soft_nms_swap(
            boxes, ws, order, gstart, method_code, opts.iou_thr, opts.sigma, opts.thresh, keep_idx, decayed
        )
        kept = keep_idx[:count]
        out_scores = decayed[:count] if opts.decayed_scores else ws[kept]
    if id_of is not None:
        table = np.empty((len(kept), 7))
        table[:, 0] = id_of[img[kept]]
        table[:, 1:5] = boxes[kept]
        table[:, 5] = out_scores
        table[:, 6] = labels[kept]
        return table
    return img[kept], boxes[kept], out_scores, labels[kept]


def _rescale(
    opts: _Options,
    score: NDArray[np.float64],
    weight: NDArray[np.float64],
    count: NDArray[np.int64],
    cluster_of: NDArray[np.int64],
    model: NDArray[np.int64],
    placed: NDArray[np.int64],
    w: NDArray[np.float64],
) -> None:
    """ensemble-boxes' confidence rescaling of WBF clusters for the conf types box_and_model_avg
    and absent_model_aware_avg, operation for operation, in place (the kernel rescales avg and max).

    ``score`` is each cluster's mean weighted score (rescaled in place), ``weight`` its weight
    sum, ``count`` its size; for the boxes ``placed`` in clusters, ``cluster_of[i]`` is box i's
    cluster and ``model[i]`` its model.
    """
    n_models = len(w)
    # the weights of the models present in each cluster, summed in model order as NumPy sums
    # ensemble-boxes' selections (adding the 0.0 of an absent model changes no partial sum)
    present = np.zeros((len(score), n_models), np.bool_)
    present[cluster_of[placed], model[placed]] = True
    if opts.conf_type == 2:  # box_and_model_avg; a cluster of zero-weight boxes scores 0 (0 / 0 there)
        mean = np.divide(score * count, weight, out=np.zeros_like(score), where=weight != 0)
        score[...] = mean * np.where(present, w, 0.0).sum(axis=1) / w.sum()
        return
    score[...] = score * count / (weight + np.where(present, 0.0, w).sum(axis=1))  # absent_model_aware_avg


def _fuse_lists(opts: _Options, boxes_list: Any, scores_list: Any, labels_list: Any, weights: Any) -> Fused:
    """One image: the per-model lists of ensemble-boxes."""
    lists = opts.method in ("wbf", "nmw")  # ensemble-boxes' argument names differ for nms, soft_nms
    names = ("boxes_list", "scores_list", "labels_list") if lists else ("boxes", "scores", "labels")
    model, boxes, scores, labels, n_models = _model_lists(boxes_list, scores_list, labels_list, names)
    w = _weights(weights, n_models)
    img = np.zeros(len(boxes), np.int64)
    _, b, s, lab = _fuse(opts, img, 1, model, boxes, scores, labels, w, n_models, stacklevel=3)
    return b, s, lab


def _coco_arrays(
    results: Any, name: str, index: dict[Any, int]
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
    """One model's COCO results -> ``(image index, xywh (N, 4), scores, categories)``."""
    if isinstance(results, (str, bytes, Mapping)) or not isinstance(results, Sequence):
        raise TypeError(f"{name} must be a list of COCO result dicts, got {type(results).__name__}")
    try:
        img = [index.setdefault(r["image_id"], len(index)) for r in results]
        cats = [r["category_id"] for r in results]
        scores = [r["score"] for r in results]
        bbox = [r["bbox"] for r in results]
    except (KeyError, TypeError):
        for i, r in enumerate(results):
            if not isinstance(r, Mapping):
                raise TypeError(f"{name}[{i}] must be a dict, got {type(r).__name__}") from None
            for key in ("image_id", "category_id", "bbox", "score"):
                if key not in r:
                    raise ValueError(f"{name}[{i}] has no {key!r} key") from None
        raise
    n = len(img)
    try:  # fromiter over the flattened lists: much faster than np.array on a list of lists
        if any(len(b) != 4 for b in bbox):
            raise ValueError
        boxes = np.fromiter(itertools.chain.from_iterable(bbox), np.float64, count=4 * n).reshape(n, 4)
        score_arr = np.fromiter(scores, np.float64, count=n)
    except (TypeError, ValueError):
        for i, r in enumerate(results):
            try:
                np.array(r["bbox"], dtype=np.float64).reshape(4)
                float(r["score"])
            except (TypeError, ValueError):
                raise ValueError(
                    f"{name}[{i}]: bbox must be 4 numbers and score a number, "
                    f"got {r['bbox']!r}, {r['score']!r}"
                ) from None
        raise
    finite = np.isfinite(boxes).all(axis=1) & np.isfinite(score_arr)
    if not finite.all():
        raise ValueError(f"{name}[{int(np.flatnonzero(~finite)[0])}] has a NaN or infinite bbox or score")
    negative = (boxes[:, 2:] < 0).any(axis=1)
    if negative.any():
        i = int(np.flatnonzero(negative)[0])
        raise ValueError(f"{name}[{i}] has a negative bbox width or height: {bbox[i]!r}")
    try:
        cat_arr = np.array(cats)
    except (TypeError, ValueError):
        cat_arr = np.array([None])
    if cat_arr.dtype.kind not in "iuf" and n:
        raise ValueError(f"{name}: category_id must be an integer in every result")
    labels = as_labels(
        cat_arr.reshape(n) if n else np.empty(0, np.int64), n, f"{name} category_id", other=name
    )
    return np.array(img, dtype=np.int64).reshape(n), boxes, score_arr, labels


def _scales(image_sizes: Mapping[Any, tuple[float, float]], ids: list[Any]) -> NDArray[np.float64]:
    """``(n_img, 4)`` rows ``[width, height, width, height]`` for the images in ``ids``."""
    if not isinstance(image_sizes, Mapping):
        raise TypeError(
            f"image_sizes must be a mapping image_id -> (height, width), got {type(image_sizes).__name__}"
        )
    scale = np.empty((len(ids), 4))
    for k, image_id in enumerate(ids):
        if image_id not in image_sizes:
            raise ValueError(f"image_sizes has no entry for image_id {image_id!r}")
        size = image_sizes[image_id]
        try:
            h, w = (float(v) for v in size)
        except (TypeError, ValueError):
            raise ValueError(f"image_sizes[{image_id!r}] must be (height, width), got {size!r}") from None
        if not (0 < h < np.inf and 0 < w < np.inf):
            raise ValueError(f"image_sizes[{image_id!r}] must be positive and finite, got {size!r}")
        scale[k] = (w, h, w, h)
    return scale
