"""Hypothesis strategies for box tests: valid xyxy boxes with the awkward cases built in.

Boxes come from a small pool drawn on a coarse grid (or as arbitrary floats), so
that duplicates, shared edges, exactly touching boxes and zero-area boxes (zero
width, zero height or both) are common. Scores come from a few values, so ties
are common, and include negative scores and signed zeros.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st

__all__ = [
    "st_boxes",
    "st_boxes_and_scores",
    "st_coco_case",
    "st_detection_images",
    "st_dtype",
    "st_iou_threshold",
    "st_labels",
    "st_lvis_case",
    "st_scores",
]

_FLOAT_DTYPES = (np.float32, np.float64)


def st_dtype(*, ints: bool = True) -> st.SearchStrategy[Any]:
    """A box/score dtype: float32, float64 and (if ``ints``) int32/int64."""
    choices: tuple[Any, ...] = _FLOAT_DTYPES + ((np.int32, np.int64) if ints else ())
    return st.sampled_from(choices)


@st.composite
def _box_row(draw: Any, grid: bool, max_coord: float) -> tuple[float, float, float, float]:
    if grid:
        coord = st.integers(0, int(max_coord)).map(float)
        size = st.one_of(st.just(0.0), st.integers(1, max(1, int(max_coord) // 2)).map(float))
    else:
        coord = st.floats(0.0, max_coord, allow_nan=False, allow_infinity=False, width=32)
        size = st.one_of(
            st.just(0.0),
            st.floats(0.0, max_coord / 2, allow_nan=False, allow_infinity=False, width=32),
        )
    x, y, w, h = draw(coord), draw(coord), draw(size), draw(size)
    return x, y, x + w, y + h


@st.composite
def st_boxes(
    draw: Any,
    min_n: int = 0,
    max_n: int = 20,
    dtype: Any = np.float64,
    *,
    grid: bool | None = None,
    max_coord: float = 20.0,
) -> np.ndarray:
    """An ``(n, 4)`` array of valid xyxy boxes (x1 <= x2, y1 <= y2), ``min_n <= n <= max_n``.

    ``dtype`` may be a dtype or a strategy for one. Rows are drawn with replacement
    from a pool of at most ``n`` distinct boxes, so duplicates occur; zero-area boxes
    occur. ``grid`` (default: drawn) puts coordinates on the integers, which gives
    exact ties in IoU; integer dtypes always use the grid.
    """
    if isinstance(dtype, st.SearchStrategy):
        dtype = draw(dtype)
    n = draw(st.integers(min_n, max_n))
    if grid is None:
        grid = draw(st.booleans())
    if np.dtype(dtype).kind in "iu":
        grid = True
    if n == 0:
        return np.empty((0, 4), dtype=dtype)
    pool_size = draw(st.integers(1, n))
    pool = draw(st.lists(_box_row(grid, max_coord), min_size=pool_size, max_size=pool_size))
    picks = draw(st.lists(st.integers(0, pool_size - 1), min_size=n, max_size=n))
    rows = np.array([pool[i] for i in picks], dtype=np.float64)
    out = rows.astype(dtype)
    # float32 rounding of x + w can never make x2 < x1 (rounding is monotone), but check.
    assert (out[:, 2] >= out[:, 0]).all()
    assert (out[:, 3] >= out[:, 1]).all()
    return out


@st.composite
def st_scores(draw: Any, n: int, dtype: Any = np.float64, *, ties: bool | None = None) -> np.ndarray:
    """An ``(n,)`` score array; with ``ties`` (default: drawn) values come from a small set."""
    if isinstance(dtype, st.SearchStrategy):
        dtype = draw(dtype)
    if ties is None:
        ties = draw(st.booleans())
    if np.dtype(dtype).kind in "iu":
        values = st.integers(-3, 5)
    elif ties:
        values = st.sampled_from([-0.5, -0.0, 0.0, 0.25, 0.5, 0.5, 0.75, 1.0])
    else:
        values = st.floats(-1.0, 1.0, allow_nan=False, allow_infinity=False, width=32)
    return np.array(draw(st.lists(values, min_size=n, max_size=n)), dtype=dtype).reshape(n)


@st.composite
def st_labels(draw: Any, n: int, n_classes: int = 3) -> np.ndarray:
    """An ``(n,)`` int64 array of class ids in ``[0, n_classes)``."""
    return np.array(
        draw(st.lists(st.integers(0, n_classes - 1), min_size=n, max_size=n)), dtype=np.int64
    ).reshape(n)


@st.composite
def st_boxes_and_scores(
    draw: Any, min_n: int = 0, max_n: int = 20, dtype: Any = None
) -> tuple[np.ndarray, np.ndarray]:
    """Boxes and matching scores; both of ``dtype`` (drawn per example when None)."""
    if dtype is None:
        dtype = draw(st_dtype())
    boxes = draw(st_boxes(min_n, max_n, dtype))
    return boxes, draw(st_scores(len(boxes), dtype))


def st_iou_threshold() -> st.SearchStrategy[float]:
    """Thresholds in [0, 1] with the edges and common values over-represented."""
    return st.one_of(
        st.sampled_from([0.0, 1.0, 0.5, 0.25, 1 / 3, 0.7]),
        st.floats(0.0, 1.0, allow_nan=False),
    )


# --------------------------------------------------------------------------- COCO-like data sets (analysis)


@st.composite
def _coco_box(draw: Any, near: list[float] | None) -> list[float]:
    """A COCO xywh box on a half-unit grid, or a one-step jitter of ``near`` (so IoUs hit 0.5, 0.1, ...)."""
    if near is not None and draw(st.sampled_from([1, 1, 1, 0])):
        x, y, w, h = near
        dx, dy = draw(st.sampled_from([0, 0, 0.5, -0.5, 1, -1])), draw(st.sampled_from([0, 0, 0.5, 1]))
        dw, dh = draw(st.sampled_from([0, 0, 1, -1, 2])), draw(st.sampled_from([0, 0, 1, -1]))
        return [x + dx, y + dy, max(w + dw, 0.0), max(h + dh, 0.0)]
    half = st.integers(0, 24).map(lambda v: v / 2)
    size = st.one_of(st.just(0.0), st.integers(1, 10).map(float))
    return [draw(half), draw(half), draw(size), draw(size)]


@st.composite
def st_coco_case(draw: Any, max_images: int = 4) -> dict[str, Any]:
    """A small COCO ground truth (with crowd regions) and results built to hit TIDE's edge cases.

    Returns ``{"images", "annotations", "results", "pos", "bg", "max_dets"}``: image ids in a
    shuffled order, three categories, boxes on a half-unit grid (exact IoU ties and IoUs equal
    to the thresholds), detections near the ground truth with right or wrong classes, and
    scores from a few values (ties).
    """
    ids = draw(st.permutations(list(range(1, max_images + 3))))[
        : draw(st.sampled_from(range(1, max_images + 1)))
    ]
    cats = st.sampled_from([1, 2, 3])
    anns: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    for img in ids:
        boxes: list[tuple[list[float], int]] = []
        for _ in range(draw(st.sampled_from(range(7)))):
            box = draw(_coco_box(boxes[-1][0] if boxes and draw(st.booleans()) else None))
            cat = draw(cats)
            boxes.append((box, cat))
            anns.append({"id": len(anns) + 1, "image_id": img, "category_id": cat, "bbox": box,
                         "iscrowd": draw(st.sampled_from([0, 0, 0, 0, 0, 1]))})  # fmt: skip
        for _ in range(draw(st.sampled_from(range(11)))):
            near = draw(st.sampled_from(boxes)) if boxes and draw(st.sampled_from([1, 1, 1, 0])) else None
            cat = near[1] if near is not None and draw(st.sampled_from([1, 1, 0])) else draw(cats)
            score = draw(st.one_of(st.sampled_from([0.0, 0.1, 0.5, 0.5, 0.9, 1.0]), st.floats(0, 1)))
            results.append({"image_id": img, "category_id": cat, "score": score,
                            "bbox": draw(_coco_box(near[0] if near is not None else None))})  # fmt: skip
    return {
        "images": ids,
        "annotations": anns,
        "results": draw(st.permutations(results)),
        "pos": draw(st.sampled_from([0.5, 0.5, 0.5, 0.3, 0.75, 1.0])),
        "bg": draw(st.sampled_from([0.1, 0.1, 0.1, 0.0, 0.25, 0.5])),
        "max_dets": draw(st.sampled_from([100, 100, 100, 1, 2, 3])),
    }


# ======================================================================
# masks: binary masks, run-length lists and polygons with the awkward cases built in.
# ======================================================================

MASK_KINDS = ("random", "sparse", "dense", "zeros", "ones", "block", "stripes")


def _mask_pattern(rng: np.random.Generator, kind: str, h: int, w: int) -> np.ndarray:
    if kind == "zeros":
        return np.zeros((h, w), np.uint8)
    if kind == "ones":
        return np.ones((h, w), np.uint8)
    if kind == "block":  # a rectangle, often touching the border
        m = np.zeros((h, w), np.uint8)
        if h and w:
            y0, x0 = rng.integers(0, h), rng.integers(0, w)
            m[y0 : rng.integers(y0, h + 1), x0 : rng.integers(x0, w + 1)] = 1
        return m
    if kind == "stripes":
        return ((np.arange(h)[:, None] + np.arange(w)[None, :]) // 2 % 2).astype(np.uint8)
    p = {"random": 0.5, "sparse": 0.08, "dense": 0.92}[kind]
    return (rng.random((h, w)) < p).astype(np.uint8)


@st.composite
def st_masks(
    draw: Any, max_side: int = 12, max_n: int = 4, min_n: int = 1, h: int | None = None, w: int | None = None
) -> np.ndarray:
    """An ``(h, w, n)`` Fortran-ordered uint8 0/1 array: empty, full, 1xN, Nx1, border blocks, noise.

    ``h`` and ``w`` are drawn unless given.
    """
    if h is None:
        h = draw(st.one_of(st.just(1), st.integers(0, max_side)))
    if w is None:
        w = draw(st.one_of(st.just(1), st.integers(0, max_side)))
    n = draw(st.integers(min_n, max_n))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    kinds = draw(st.lists(st.sampled_from(MASK_KINDS), min_size=n, max_size=n))
    out = np.zeros((h, w, n), np.uint8, order="F")
    for i, kind in enumerate(kinds):
        out[:, :, i] = _mask_pattern(rng, kind, h, w)
    return out


@st.composite
def st_runs(draw: Any, h: int, w: int) -> list[int]:
    """Uncompressed runs adding up to ``h * w``, with zero-length runs anywhere (pycocotools keeps them)."""
    total = h * w
    cuts = sorted(draw(st.lists(st.integers(0, total), max_size=12)))
    runs = [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]
    if draw(st.booleans()):
        runs = [0, *runs]  # foreground first
    return runs


@st.composite
def st_polygons(draw: Any, h: int, w: int, max_parts: int = 3, min_points: int = 3) -> list[list[float]]:
    """Polygons (lists of x0, y0, x1, y1, ...) over an h x w image: inside, crossing the border,
    on the pixel grid or fractional, with repeated and collinear points."""
    parts = []
    grid = draw(st.booleans())
    for _ in range(draw(st.integers(1, max_parts))):
        k = draw(st.integers(min_points, 9))
        if grid:
            xs = st.integers(-3, w + 3).map(float)
            ys = st.integers(-3, h + 3).map(float)
        else:
            xs = st.floats(-3.0, w + 3.0, allow_nan=False).map(lambda v: round(v, 2))
            ys = st.floats(-3.0, h + 3.0, allow_nan=False).map(lambda v: round(v, 2))
        points = draw(st.lists(st.tuples(xs, ys), min_size=k, max_size=k))
        parts.append([c for p in points for c in p])
    return parts


# --------------------------------------------------------------------------- per-image batches (streaming)


@st.composite
def st_detection_images(draw: Any, max_images: int = 6) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """``[(pred, target), ...]`` per image in torchmetrics' format (NumPy, xyxy on an integer grid).

    Detections are ground-truth boxes moved by a grid step or not at all (IoUs
    land exactly on thresholds), or free boxes; scores come from a few values
    (ties within and across images); labels from three classes; some ground
    truth is crowd; images without ground truth or without detections occur.
    """
    images = []
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    for _ in range(draw(st.integers(0, max_images))):
        gt = draw(st_boxes(0, 5, dtype, grid=True, max_coord=12.0))
        gt_label = draw(st_labels(len(gt)))
        rows, labels = [], []
        for _ in range(draw(st.integers(0, 8))):
            if len(gt) and draw(st.booleans()):
                g = draw(st.integers(0, len(gt) - 1))
                d = draw(st.sampled_from([0.0, 0.0, 1.0, -1.0]))
                box = gt[g].astype(np.float64) + np.array(
                    [0.0, 0.0, max(d, 0.0), draw(st.sampled_from([0.0, 1.0]))]
                )
                label = int(gt_label[g]) if draw(st.integers(0, 3)) else draw(st.integers(0, 2))
            else:
                box = draw(st_boxes(1, 1, np.float64, grid=True, max_coord=12.0))[0]
                label = draw(st.integers(0, 2))
            rows.append(box)
            labels.append(label)
        boxes = np.array(rows, dtype=dtype).reshape(-1, 4)
        scores = np.array(draw(st.lists(st.sampled_from([0.1, 0.5, 0.5, 0.9, 1.0]), min_size=len(boxes),
                                        max_size=len(boxes))), dtype=dtype)  # fmt: skip
        crowd = np.array(
            draw(st.lists(st.sampled_from([0, 0, 0, 1]), min_size=len(gt), max_size=len(gt))), np.int64
        )
        pred = {"boxes": boxes, "scores": scores, "labels": np.array(labels, np.int64)}
        images.append((pred, {"boxes": gt, "labels": gt_label, "iscrowd": crowd}))
    return images


# --------------------------------------------------------------------------- LVIS-like data sets


@st.composite
def st_lvis_case(draw: Any, max_images: int = 5, max_cats: int = 5) -> dict[str, Any]:
    """A small federated LVIS ground truth and results built to hit the protocol's edge cases.

    Returns ``{"gt": dataset dict, "results": list, "max_dets": int}``. Images and
    categories in shuffled file order, categories of every frequency, images
    without annotations, ``neg_category_ids`` / ``not_exhaustive_category_ids``
    (which may overlap the positives), annotations of area 0 or inconsistent
    with their box, ``ignore`` flags, a ground truth with id 0, detections near
    the ground truth (right or wrong category), in categories neither positive
    nor negative and in unknown categories, tied scores, and a small per-image cap.
    """
    img_ids = draw(st.permutations(list(range(1, max_images + 3))))[: draw(st.integers(1, max_images))]
    # -1 among the ids: lvis-api's use_cats=0 evaluates only category -1 (see reference.lvis_evaluate)
    cat_ids = draw(st.permutations([-1, *range(1, max_cats + 2)]))[: draw(st.integers(1, max_cats))]
    cats = st.sampled_from(cat_ids)
    categories = [{"id": c, "name": f"c{c}", "frequency": draw(st.sampled_from("rcf"))} for c in cat_ids]
    first_id = draw(
        st.sampled_from([1, 1, 1, 0])
    )  # 0: a ground truth with id 0 (a match that does not count)
    annotations: list[dict[str, Any]] = []
    images: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    for img in img_ids:
        boxes: list[tuple[list[float], int]] = []
        for _ in range(draw(st.sampled_from(range(6)))):
            box = draw(_coco_box(boxes[-1][0] if boxes and draw(st.booleans()) else None))
            cat = draw(cats)
            boxes.append((box, cat))
            area = draw(st.sampled_from(["box", "box", "box", "box", 0.0, 50.0, 2000.0]))
            ann = {"id": first_id + len(annotations), "image_id": img, "category_id": cat, "bbox": box,
                   "area": box[2] * box[3] if area == "box" else area}  # fmt: skip
            if draw(st.sampled_from([0, 0, 0, 0, 0, 1])):
                ann["ignore"] = draw(st.sampled_from([0, 1]))
            annotations.append(ann)
        subsets = st.lists(cats, unique=True, max_size=len(cat_ids))
        images.append({"id": img, "height": 30, "width": 30,
                       "neg_category_ids": draw(subsets), "not_exhaustive_category_ids": draw(subsets)})  # fmt: skip
        for _ in range(draw(st.sampled_from(range(9)))):
            near = draw(st.sampled_from(boxes)) if boxes and draw(st.sampled_from([1, 1, 1, 0])) else None
            if near is not None and draw(st.sampled_from([1, 1, 0])):
                cat = near[1]
            else:
                cat = draw(st.one_of(cats, cats, cats, st.just(99)))  # 99: not a category of the file
            score = draw(st.one_of(st.sampled_from([0.0, 0.1, 0.5, 0.5, 0.9, 1.0]), st.floats(0, 1)))
            results.append({"image_id": img, "category_id": cat, "score": score,
                            "bbox": draw(_coco_box(near[0] if near is not None else None))})  # fmt: skip
    gt = {"images": images, "categories": categories, "annotations": draw(st.permutations(annotations))}
    return {
        "gt": gt,
        "results": draw(st.permutations(results)),
        "max_dets": draw(st.sampled_from([300, 300, 300, -1, 1, 2, 3, 5])),
    }
