"""Ground truth and detections as NumPy columns.

Accepted ground truth: a ``COCO`` object (fastdet's or pycocotools'; anything
with a ``dataset`` dict), a COCO json path, or a dataset dict. Accepted
detections: a result ``COCO`` object (from ``loadRes``), a results json path,
or a list of result dicts ``{"image_id", "category_id", "bbox", "score"}``.
Every field used is validated; errors name the source, the entry and the key.

Files (and fastdet ``COCO`` objects read from files, not yet parsed) are read
with ``fastdet.coco``'s Numba JSON scanner: columns of numbers, no Python
object per annotation. Where the scanner cannot take a file, or the columns
are not the plain case (string ids, a negative width, a missing field, ...),
the file is parsed with the JSON parser and read from the dicts, which gives
the same columns or names the bad entry.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fastdet._io import loads
from fastdet.coco.columns import _Columns
from fastdet.coco.dataset import COCO
from fastdet.coco.reading import _read_annotations, _read_results, _Scan


@dataclass
class GroundTruth:
    """Ground-truth columns; ``image`` is the position of the image in ``image_ids`` (-1: not listed)."""

    image_ids: NDArray[np.int64]
    category_names: dict[int, str]
    ann_ids: NDArray[np.int64]
    image: NDArray[np.int64]
    category: NDArray[np.int64]
    bbox: NDArray[np.float64]
    crowd: NDArray[np.bool_]
    anns: list[Any] | None = None  # the annotation dicts (for masks)
    image_hw: NDArray[np.int64] | None = None  # (height, width) of each image, -1 where not given
    where: str = "ground truth"


@dataclass
class Detections:
    """Detection columns in input order; ``image`` is the position of the image in the ground truth."""

    image: NDArray[np.int64]
    category: NDArray[np.int64]
    bbox: NDArray[np.float64]
    score: NDArray[np.float64]
    name: str
    rows: list[Any] | None = None  # the result dicts (for masks)
    where: str = "detections"


def _column(rows: list[Any], key: str, where: str, default: Any = None) -> list[Any]:
    try:
        try:
            return list(map(itemgetter(key), rows))
        except KeyError:
            if default is None:
                raise
            return [r.get(key, default) for r in rows]
    except (KeyError, TypeError, AttributeError, IndexError):
        for i, row in enumerate(rows):
            if not isinstance(row, dict):
                raise ValueError(
                    f"{where}: entry {i} must be an object (dict), got {type(row).__name__}"
                ) from None
            if key not in row:
                raise ValueError(f"{where}: entry {i} has no {key!r} field") from None
        raise  # pragma: no cover - the loop always finds the bad entry


def _is_real(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


def _first_bad(values: list[Any], ok: Any) -> int:
    return next(i for i, v in enumerate(values) if not ok(v))


def _as_array(values: list[Any], dtype: Any) -> NDArray[Any] | None:
    if not values:
        return np.empty(0, dtype)
    try:
        return np.array(values)
    except (ValueError, TypeError, OverflowError):
        return None


def int_column(values: list[Any], key: str, where: str) -> NDArray[np.int64]:
    """Integers (floats holding whole numbers accepted), else ``ValueError`` naming the entry."""
    arr = _as_array(values, np.int64)
    if arr is not None and arr.ndim == 1:
        if arr.dtype.kind == "i" or (arr.dtype.kind == "u" and (not arr.size or arr.max() < 2**63)):
            return arr.astype(np.int64, copy=False)
        if arr.dtype.kind == "f":
            with np.errstate(invalid="ignore"):
                whole = np.isfinite(arr) & (arr == np.round(arr)) & (np.abs(arr) < 2**53)
            if whole.all():
                return arr.astype(np.int64)

    def ok(v: Any) -> bool:
        return _is_real(v) and np.isfinite(float(v)) and float(v) == int(v) and abs(int(v)) < 2**63

    idx = _first_bad(values, ok)
    raise ValueError(f"{where}: entry {idx} has {key}={values[idx]!r}; expected an integer")


def _float_column(values: list[Any], key: str, where: str) -> NDArray[np.float64]:
    arr = _as_array(values, np.float64)
    if arr is not None and arr.ndim == 1 and arr.dtype.kind in "iuf":
        arr = arr.astype(np.float64, copy=False)
        if np.isnan(arr).any():
            idx = int(np.flatnonzero(np.isnan(arr))[0])
            raise ValueError(f"{where}: entry {idx} has {key}={values[idx]!r}; expected a number, not NaN")
        return arr
    idx = _first_bad(values, _is_real)
    raise ValueError(f"{where}: entry {idx} has {key}={values[idx]!r}; expected a number")


def _bbox_column(values: list[Any], where: str) -> NDArray[np.float64]:
    if not values:
        return np.empty((0, 4), np.float64)
    try:
        arr = np.array(values)
    except (ValueError, TypeError, OverflowError):
        arr = None
    if arr is None or arr.shape != (len(values), 4) or arr.dtype.kind not in "iuf":

        def ok(b: Any) -> bool:
            return isinstance(b, (list, tuple, np.ndarray)) and len(b) == 4 and all(map(_is_real, b))

        idx = _first_bad(values, ok)
        raise ValueError(f"{where}: entry {idx} has bbox={values[idx]!r}; expected 4 numbers [x, y, w, h]")
    arr = arr.astype(np.float64, copy=False)
    finite = np.isfinite(arr).all(axis=1)
    if not finite.all():
        idx = int(np.flatnonzero(~finite)[0])
        raise ValueError(f"{where}: entry {idx} has bbox={values[idx]!r}; expected 4 finite numbers")
    return np.ascontiguousarray(arr)


def _list_field(dataset: dict[str, Any], key: str, where: str) -> list[Any]:
    value = dataset.get(key, [])
    if not isinstance(value, list):
        raise ValueError(f"{where}: '{key}' must be a JSON list, got {type(value).__name__}")
    return value


def _category_names(cats: list[Any], where: str) -> dict[int, str]:
    w = f"{where} (categories)"
    cat_ids = int_column(_column(cats, "id", w), "id", w)
    return {int(c): str(cat.get("name", c)) for c, cat in zip(cat_ids.tolist(), cats, strict=True)}


def _plain_ints(ids: list[Any]) -> bool:
    return all(type(v) is int for v in ids)


def _scanned_ground_truth(raw: bytes, scan: _Scan, where: str) -> GroundTruth | None:
    """Ground truth from the scanner's columns, or None where the dicts must be read instead."""
    cols = scan.cols
    if cols is None or cols.image_keys is not None or cols.category_keys is not None or cols.ignore is None:
        return None
    if not _plain_ints(scan.img_ids):
        return None
    image_ids = np.asarray(list(dict.fromkeys(scan.img_ids)), dtype=np.int64)  # first occurrence
    cats: Any = []
    if scan.categories_span is not None:
        start, stop = scan.categories_span
        cats = loads(raw[start:stop], where)
    if not isinstance(cats, list):  # pragma: no cover - the scanner read an array there
        return None
    names = _category_names(cats, where)
    image = image_positions(cols.image_id, image_ids)
    # ``ignore`` is ``iscrowd != 0``, the flag tidecv and the dict reader use
    return GroundTruth(image_ids, names, cols.ids, image, cols.category_id, cols.bbox, cols.ignore)


def read_ground_truth(gt: Any, need_anns: bool = False) -> GroundTruth:
    """Columns of a ground-truth ``COCO`` object, json path or dataset dict.

    ``need_anns`` (masks): keep the annotation dicts and image sizes (the scanner's columns do not).
    """
    where = "ground truth"
    if isinstance(gt, (str, os.PathLike)):
        where = os.fspath(gt)
        raw, scan, dataset = _read_annotations(gt)
        if scan is not None and need_anns:
            dataset = loads(raw, where)
        elif scan is not None:
            got = _scanned_ground_truth(raw, scan, where)
            if got is not None:
                return got
            dataset = loads(raw, where)
        if not isinstance(dataset, dict):
            raise ValueError(f"{where}: expected a JSON object with 'images' and 'annotations'")
    elif isinstance(gt, dict):
        dataset = gt
    else:
        if isinstance(gt, COCO) and not need_anns:
            scanned = gt._scanned_ground_truth()
            if scanned is not None:
                got = _scanned_ground_truth(scanned[0], scanned[1], gt._source)
                if got is not None:
                    return got
        dataset = getattr(gt, "dataset", None)
        if not isinstance(dataset, dict):
            raise TypeError(
                f"gt must be a COCO object, a COCO json path or a dataset dict, got {type(gt).__name__}"
            )
    images = _list_field(dataset, "images", where)
    image_ids = int_column(_column(images, "id", f"{where} (images)"), "id", f"{where} (images)")
    image_ids = np.asarray(list(dict.fromkeys(image_ids.tolist())), dtype=np.int64)  # first occurrence
    names = _category_names(_list_field(dataset, "categories", where), where)
    anns = _list_field(dataset, "annotations", where)
    w = f"{where} (annotations)"
    ann_ids = int_column(_column(anns, "id", w, default=-1), "id", w)
    category = int_column(_column(anns, "category_id", w), "category_id", w)
    bbox = _bbox_column(_column(anns, "bbox", w), w)
    crowd_values = _column(anns, "iscrowd", w, default=0)
    crowd_arr = _as_array(crowd_values, np.float64)
    if crowd_arr is None or crowd_arr.ndim != 1 or crowd_arr.dtype.kind not in "biuf":
        idx = _first_bad(crowd_values, lambda v: _is_real(v) or isinstance(v, bool))
        raise ValueError(f"{w}: entry {idx} has iscrowd={crowd_values[idx]!r}; expected 0 or 1")
    image = image_positions(int_column(_column(anns, "image_id", w), "image_id", w), image_ids)
    hw = np.full((len(image_ids), 2), -1, np.int64)
    pos = image_positions(int_column(_column(images, "id", f"{where} (images)"), "id", where), image_ids)
    for k, img in reversed(list(enumerate(images))):  # the first occurrence of an id wins
        if isinstance(img.get("height"), int) and isinstance(img.get("width"), int):
            hw[pos[k]] = img["height"], img["width"]
    return GroundTruth(image_ids, names, ann_ids, image, category, bbox, crowd_arr != 0, anns, hw, w)


def image_positions(ids: NDArray[np.int64], image_ids: NDArray[np.int64]) -> NDArray[np.int64]:
    """Position of each id in ``image_ids`` (-1 where absent)."""
    if not len(image_ids):
        return np.full(len(ids), -1, np.int64)
    order = np.argsort(image_ids, kind="stable")
    sorted_ids = image_ids[order]
    at = np.minimum(np.searchsorted(sorted_ids, ids), len(sorted_ids) - 1)
    return np.where(sorted_ids[at] == ids, order[at], -1).astype(np.int64)


def _detections(
    image_id: NDArray[np.int64],
    category: NDArray[np.int64],
    bbox: NDArray[np.float64],
    score: NDArray[np.float64],
    gt: GroundTruth,
    where: str,
    name: str,
    rows: list[Any] | None = None,
) -> Detections:
    image = image_positions(image_id, gt.image_ids)
    if (image < 0).any():
        idx = int(np.flatnonzero(image < 0)[0])
        raise ValueError(
            f"{where}: entry {idx} is on image_id {int(image_id[idx])}, which is not in the ground truth "
            f"({int((image < 0).sum())} results in all)"
        )
    return Detections(image, category, bbox, score, name, rows, where)


def _plain_columns(cols: _Columns | None) -> bool:
    if cols is None or cols.score is None:
        return False
    return cols.image_keys is None and cols.category_keys is None


def read_detections(dt: Any, gt: GroundTruth, name: str | None = None, need_bbox: bool = True) -> Detections:
    """Columns of detections given as a result ``COCO`` object, a results json path or a list of dicts.

    ``need_bbox=False`` (masks): results may have no ``bbox`` (the column is then zeros), and the
    result dicts are kept in ``rows``.
    """
    if isinstance(dt, (str, os.PathLike)):
        where = os.fspath(dt)
        default_name = Path(where).stem
        raw, cols, rows = _read_results(dt)
        if need_bbox and cols is not None and _plain_columns(cols):
            assert cols.score is not None
            out_name = default_name if name is None else name
            return _detections(cols.image_id, cols.category_id, cols.bbox, cols.score, gt, where, out_name)
        if cols is not None:  # scanned, but string ids: the dicts give the error
            rows = loads(raw, where)
    elif isinstance(dt, (list, tuple)):
        where, rows, default_name = "detections", list(dt), "detections"
    else:
        res_cols = dt._result_columns() if isinstance(dt, COCO) else None
        if need_bbox and res_cols is not None and _plain_columns(res_cols):
            assert res_cols.score is not None
            return _detections(
                res_cols.image_id, res_cols.category_id, res_cols.bbox, res_cols.score, gt, "detections",
                "detections" if name is None else name,
            )  # fmt: skip
        dataset = getattr(dt, "dataset", None)
        if not isinstance(dataset, dict):
            raise TypeError(
                "dt must be a result COCO object (from loadRes), a results json path or a list of result "
                f"dicts, got {type(dt).__name__}"
            )
        where, rows, default_name = (
            "detections",
            _list_field(dataset, "annotations", "detections"),
            "detections",
        )
    if not isinstance(rows, list):
        raise ValueError(f"{where}: results must be a list of objects, got {type(rows).__name__}")
    image_id = int_column(_column(rows, "image_id", where), "image_id", where)
    category = int_column(_column(rows, "category_id", where), "category_id", where)
    if need_bbox:
        bbox = _bbox_column(_column(rows, "bbox", where), where)
    else:
        bbox = np.zeros((len(rows), 4), np.float64)
    score = _float_column(_column(rows, "score", where), "score", where)
    return _detections(
        image_id, category, bbox, score, gt, where, default_name if name is None else name, rows
    )
