"""Columnar annotations: what evaluation reads, built from a scan or from annotation dicts."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray


@dataclass
class _Columns:
    """Annotations as columns. ``crowd``/``ignore`` for ground truth, ``score`` for results."""

    ids: NDArray[np.int64]
    image_id: NDArray[np.int64]
    category_id: NDArray[np.int64]
    bbox: NDArray[np.float64]  # (N, 4) xywh
    area: NDArray[np.float64]
    crowd: NDArray[np.bool_] | None = None
    ignore: NDArray[np.bool_] | None = None
    score: NDArray[np.float64] | None = None
    # ids that are not all integers (strings): ``image_id`` holds codes, code c standing for image_keys[c]
    image_keys: list[Any] | None = None
    category_keys: list[Any] | None = None
    # the first entry without a ``bbox`` (its row holds NaN), -1 when every entry has
    # one; segm needs no box (pycocotools reads none), bbox evaluation refuses such a ground truth
    missing_bbox: int = -1
    # the first ground truth without an ``area`` (its row holds NaN), -1 when every entry has one;
    # only ignored (crowd) ones may lack it: pycocotools reads no area of an ignored ground truth
    # in bbox and segm evaluation, keypoint evaluation (computeOks) reads every one
    missing_area: int = -1
    where: str = ""

    def __len__(self) -> int:
        return int(self.ids.shape[0])


def _first_bad(values: Sequence[Any], ok: Any) -> int:
    return next(i for i, v in enumerate(values) if not ok(v))


def _get_column(anns: Sequence[Any], key: str, where: str) -> list[Any]:
    try:
        return list(map(itemgetter(key), anns))
    except (KeyError, TypeError, IndexError):
        idx = _first_bad(anns, lambda a: isinstance(a, dict) and key in a)
        if not isinstance(anns[idx], dict):
            raise ValueError(
                f"{where}: entry {idx} must be an object (dict), got {type(anns[idx]).__name__}"
            ) from None
        raise ValueError(f"{where}: entry {idx} has no {key!r} field") from None


def _array(values: list[Any], empty_dtype: type) -> NDArray[Any] | None:
    """``np.array(values)``, or None when the values are ragged or mixed (checked entry by entry then)."""
    if not values:
        return np.empty(0, empty_dtype)
    try:
        return np.array(values)
    except (ValueError, TypeError, OverflowError):
        return None


def _is_real(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


def _as_float(v: Any) -> float:
    """``float(v)``; an integer beyond binary64's range is infinite (then refused as not finite)."""
    try:
        return float(v)
    except OverflowError:
        return math.copysign(math.inf, v)


def _int_column(values: list[Any], key: str, where: str, expected: str = "an integer") -> NDArray[np.int64]:
    arr = _array(values, np.int64)
    if arr is None:
        arr = np.empty((0, 0))
    if arr.ndim == 1 and arr.dtype.kind in "iu" and (arr.dtype.kind == "i" or arr.max() < 2**63):
        return arr.astype(np.int64, copy=False)
    if arr.ndim == 1 and arr.dtype.kind == "b":
        return arr.astype(np.int64)
    if arr.ndim == 1 and arr.dtype.kind == "f":
        with np.errstate(invalid="ignore"):
            whole = np.isfinite(arr) & (arr == np.round(arr)) & (np.abs(arr) < 2**53)
        if whole.all():
            return arr.astype(np.int64)

    def ok(v: Any) -> bool:
        if isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)):
            return -(2**63) <= int(v) < 2**63
        return _is_real(v) or isinstance(v, (bool, np.bool_))

    def exact(v: Any) -> bool:  # a whole float below 2**53 is an exact integer id (7.0 is 7)
        if not isinstance(v, (float, np.floating)):
            return True
        return math.isfinite(v) and v == int(v) and abs(float(v)) < 2**53

    idx = _first_bad(values, lambda v: ok(v) and exact(v))
    v = values[idx]
    if isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)):
        raise ValueError(
            f"{where}: entry {idx} has {key}={int(v)}, outside int64's range; integer ids must be in "
            "[-2**63, 2**63) (or use string ids)"
        )
    if isinstance(v, (float, np.floating)) and math.isfinite(v) and v == int(v):
        raise ValueError(
            f"{where}: entry {idx} has {key}={v!r}, a float beyond 2**53 that no longer holds an exact "
            "integer; write ids as integers"
        )
    raise ValueError(f"{where}: entry {idx} has {key}={v!r}; expected {expected}") from None


def _id_column(values: list[Any], key: str, where: str) -> tuple[NDArray[np.int64], list[Any] | None]:
    """An image or category id column: ``(ids, None)`` for integers, ``(codes, ids)`` when strings occur.

    pycocotools keys its tables by whatever the ids are, so string ids (file
    names, say) work there; here a column holding strings is coded: code c
    stands for ``ids[c]`` (as given: a string stays a string, an integer an int).
    Integers and strings may mix (they never equal each other, as in a dict).
    """
    if not any(isinstance(v, str) for v in values):
        return _int_column(values, key, where, "an integer or a string id"), None

    def ok(v: Any) -> bool:
        return isinstance(v, (str, int, np.integer)) and not isinstance(v, (bool, np.bool_))

    table: dict[Any, int] = {}
    try:
        codes = np.fromiter((table.setdefault(v, len(table)) for v in values), np.int64, len(values))
    except TypeError:  # an unhashable value
        codes = None
    if codes is None or not all(map(ok, table)):
        idx = _first_bad(values, lambda v: ok(v) and (isinstance(v, str) or -(2**63) <= int(v) < 2**63))
        raise ValueError(
            f"{where}: entry {idx} has {key}={values[idx]!r}; expected an integer or a string id"
        ) from None
    ids = [v if isinstance(v, str) else int(v) for v in table]
    bad = [i for i, v in enumerate(ids) if isinstance(v, int) and not -(2**63) <= v < 2**63]
    if bad:
        _int_column([ids[bad[0]]], key, where)  # raises the out-of-range message
    return codes, ids


def _sort_key(v: Any) -> tuple[bool, Any]:
    """Integers before strings, each in their natural order (never compares an int with a str)."""
    return (isinstance(v, str), v)


def _encode_ids(
    wanted: Sequence[Any], name: str, *columns: tuple[NDArray[np.int64], list[Any] | None]
) -> tuple[NDArray[np.int64], list[NDArray[np.int64]]]:
    """int64 codes of ``wanted`` (params.imgIds / catIds, in order) and of each id column, consistently.

    All integers (the usual case): the ids themselves, unchanged. Otherwise each
    distinct id gets its rank among all of them (integers first, then strings),
    so that equal ids get equal codes and sorted ids get ascending codes.
    """
    if all(keys is None for _, keys in columns) and not any(isinstance(v, str) for v in wanted):
        return _as_id_array(wanted, name), [ids for ids, _ in columns]
    distinct: dict[Any, None] = {}
    for v in wanted:
        distinct[v if isinstance(v, str) else _plain_int(v, name)] = None
    for ids, keys in columns:
        distinct.update(dict.fromkeys(keys if keys is not None else np.unique(ids).tolist()))
    order = sorted(distinct, key=_sort_key)
    rank = {v: r for r, v in enumerate(order)}
    wanted_codes = np.array([rank[v if isinstance(v, str) else int(v)] for v in wanted], np.int64)
    coded = []
    for ids, keys in columns:
        if keys is None:
            uniq, inverse = np.unique(ids, return_inverse=True)
            table = np.array([rank[v] for v in uniq.tolist()], np.int64)
            coded.append(table[inverse.reshape(-1)] if len(ids) else np.empty(0, np.int64))
        else:
            coded.append(np.array([rank[v] for v in keys], np.int64)[ids] if len(ids) else ids)
    return wanted_codes, coded


def _plain_int(v: Any, name: str) -> int:
    try:
        if float(v) == int(v):
            return int(v)
    except (TypeError, ValueError, OverflowError):
        pass
    raise ValueError(f"params.{name} must hold integer or string ids, got {v!r}")


def _as_id_array(values: Sequence[Any], name: str) -> NDArray[np.int64]:
    try:
        arr = np.asarray(values)
        if arr.size == 0:
            return np.empty(0, np.int64)
        if arr.dtype.kind in "iu" or (arr.dtype.kind == "f" and np.all(arr == np.round(arr))):
            return arr.astype(np.int64).reshape(-1)
    except (TypeError, ValueError, OverflowError):
        pass
    raise ValueError(f"params.{name} must hold integer or string ids, got {list(values)[:5]!r}")


def _float_column(values: list[Any], key: str, where: str, *, allow_inf: bool = False) -> NDArray[np.float64]:
    arr = _array(values, np.float64)
    if arr is not None and arr.ndim == 1 and arr.dtype.kind in "iuf":
        arr = arr.astype(np.float64, copy=False)
        bad = np.isnan(arr) if allow_inf else ~np.isfinite(arr)
        if not bad.any():
            return arr
        idx = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{where}: entry {idx} has {key}={values[idx]!r}; expected a finite number")
    if all(map(_is_real, values)):  # e.g. Python ints past int64: convert one by one
        return _float_column(list(map(_as_float, values)), key, where, allow_inf=allow_inf)
    idx = _first_bad(values, _is_real)
    raise ValueError(f"{where}: entry {idx} has {key}={values[idx]!r}; expected a number") from None


def _bbox_column(values: list[Any], where: str) -> NDArray[np.float64]:
    n = len(values)
    if n == 0:
        return np.empty((0, 4), np.float64)
    try:
        arr = np.array(values)  # one C pass: shape and dtype tell whether every bbox is 4 numbers
    except (ValueError, TypeError):
        arr = None
    if arr is None or arr.shape != (n, 4) or arr.dtype.kind not in "iuf":

        def ok(b: Any) -> bool:
            return isinstance(b, (list, tuple, np.ndarray)) and len(b) == 4 and all(map(_is_real, b))

        if all(map(ok, values)):  # e.g. Python ints past int64: convert one by one
            return _bbox_column([list(map(_as_float, b)) for b in values], where)
        idx = _first_bad(values, ok)
        raise ValueError(f"{where}: entry {idx} has bbox={values[idx]!r}; expected 4 numbers [x, y, w, h]")
    arr = arr.astype(np.float64, copy=False)
    finite = np.isfinite(arr).all(axis=1)
    if not finite.all():
        idx = int(np.flatnonzero(~finite)[0])
        raise ValueError(f"{where}: entry {idx} has bbox={values[idx]!r}; expected 4 finite numbers")
    negative = (arr[:, 2:] < 0).any(axis=1)
    if negative.any():
        idx = int(np.flatnonzero(negative)[0])
        raise ValueError(f"{where}: entry {idx} has bbox={values[idx]!r}; width and height must be >= 0")
    return arr


def _crowd_flags(values: list[Any], where: str) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """(crowd, ignore) from ``iscrowd`` as pycocotools reads it: ``int(v) != 0`` and ``bool(v)``."""
    arr: Any = _array(values, np.float64)
    ok = arr is not None and arr.ndim == 1 and arr.dtype.kind in "biuf"
    if ok:
        arr = arr.astype(np.float64)
        trunc = np.trunc(arr)
        ok = bool(np.all((trunc >= 0) & (trunc <= 255)))  # NaN fails too
    if not ok:
        idx = _first_bad(values, lambda v: (_is_real(v) or isinstance(v, bool)) and 0 <= float(v) < 256)
        raise ValueError(f"{where}: entry {idx} has iscrowd={values[idx]!r}; expected 0 or 1")
    return trunc != 0, arr != 0


def _columns_from_dicts(anns: Sequence[Any], where: str, role: Literal["gt", "dt"]) -> _Columns:
    """Extract evaluation columns from annotation dicts, validating every field used."""
    ids = _int_column(_get_column(anns, "id", where), "id", where)
    image_id, image_keys = _id_column(_get_column(anns, "image_id", where), "image_id", where)
    category_id, category_keys = _id_column(_get_column(anns, "category_id", where), "category_id", where)
    missing_bbox = -1
    try:
        bbox = _bbox_column(_get_column(anns, "bbox", where), where)
    except ValueError:
        has_box = [isinstance(a, dict) and "bbox" in a for a in anns]
        if all(has_box) or not all(isinstance(a, dict) and "segmentation" in a for a in anns):
            raise
        # segmentations without boxes (torchmetrics builds such data sets for segm)
        missing_bbox = has_box.index(False)
        bbox = np.full((len(anns), 4), np.nan)
        rows = [i for i, h in enumerate(has_box) if h]
        if rows:
            bbox[rows] = _bbox_column([anns[i]["bbox"] for i in rows], where)
    crowd = ignore = None
    if role == "gt":
        crowd, ignore = _crowd_flags(_get_column(anns, "iscrowd", where), where)
    missing_area = -1
    try:
        area = _float_column(_get_column(anns, "area", where), "area", where, allow_inf=True)
    except ValueError:
        has_area = [isinstance(a, dict) and "area" in a for a in anns]
        if ignore is None or all(has_area):
            raise
        needed = [i for i, h in enumerate(has_area) if not h and not ignore[i]]
        if needed:
            raise ValueError(f"{where}: entry {needed[0]} has no 'area' field") from None
        # crowd regions without an area: pycocotools never reads it (its ``ignore`` flag comes first)
        missing_area = has_area.index(False)
        area = np.full(len(anns), np.nan)
        rows = [i for i, h in enumerate(has_area) if h]
        if rows:
            area[rows] = _float_column([anns[i]["area"] for i in rows], "area", where, allow_inf=True)
    cols = _Columns(
        ids, image_id, category_id, bbox, area, crowd, ignore, image_keys=image_keys,
        category_keys=category_keys, missing_bbox=missing_bbox, missing_area=missing_area, where=where,
    )  # fmt: skip
    if role == "dt":
        cols.score = _float_column(_get_column(anns, "score", where), "score", where, allow_inf=True)
    if len(ids) > 1:
        uniq, counts = np.unique(ids, return_counts=True)
        if (counts > 1).any():
            dup = uniq[np.argmax(counts > 1)]
            idx = np.flatnonzero(ids == dup)[:2].tolist()
            raise ValueError(
                f"{where}: entries {idx[0]} and {idx[1]} share annotation id {int(dup)}; ids must be "
                "unique (pycocotools would silently evaluate the last of them twice)"
            )
    return cols


def _image_ids_of(coco: Any) -> list[Any]:
    return list(coco.getImgIds())


def _category_ids_of(coco: Any) -> list[Any]:
    return list(coco.getCatIds())
