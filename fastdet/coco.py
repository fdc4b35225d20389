"""COCO json I/O, a drop-in ``COCOeval`` (bbox) and the functional ``evaluate_coco``.

``COCO`` and ``COCOeval`` reproduce pycocotools' classes (same attributes, the
same printed summary and the same numbers, bit for bit), but keep annotations
as columnar NumPy arrays and run matching and accumulation as Numba kernels.
``evaluate_coco`` is the functional form: named statistics, per-class AP and the
precision/recall arrays, honouring custom ``max_detections`` in every statistic.

pycocotools behaviours reproduced on purpose (each is tested against it):

1. Crowd regions (``iscrowd`` != 0): IoU with a crowd ground truth is
   intersection / *detection* area, and a crowd region can be matched by any
   number of detections.
2. The ground-truth ``ignore`` flag is ``iscrowd``. pycocotools sets
   ``gt["ignore"]`` from ``iscrowd`` and so never reads an ``ignore`` key in
   the file; neither does fastdet.
3. Area ranges use the ``area`` field (the mask area for COCO ground truth),
   not the box area; ``loadRes`` sets a bbox result's ``area`` to ``w * h``.
   Unmatched detections outside the range are ignored; bounds are inclusive.
4. Ties in score keep input order (a stable sort, pycocotools' ``mergesort``):
   within an image by file order, across images by image id.
5. Only the best ``maxDets[-1]`` detections per (image, category) are matched.
6. ``summarize()`` reports stats[0] at ``maxDets=100`` literally (-1 when 100
   is not in ``params.maxDets``) and every other AP and the area-range ARs at
   ``params.maxDets[2]``, so it raises ``IndexError`` when ``maxDets`` has fewer
   than three entries. Averages are ``np.mean`` over entries > -1, which gives
   e.g. 0.6999999999999998 rather than 0.7.
7. -1 marks "no ground truth" in precision, recall and the statistics; after a
   category's last reachable recall, precision and scores are 0.
8. Ground-truth annotation id 0 (or a result id <= 0) changes matching exactly
   as it does in pycocotools, which stores ids in its match arrays and tests
   them for zero.

Loading: a JSON file is first read by a Numba scanner that pulls the numeric
fields evaluation needs (ids, ``bbox``, ``area``, ``iscrowd``, ``score``)
straight into arrays, converting numbers exactly (Clinger's fast path, else
Python's ``float``); ``dataset`` and the look-up tables are parsed from the
kept file text only if they are accessed. Whenever a file holds anything the
scanner does not handle (escaped keys, non-numeric or missing fields, ids
beyond 2**53), it is parsed in full with orjson (or ``json`` when orjson is not
installed), and malformed entries raise ``ValueError`` naming the file, the
entry and the field.
"""

from __future__ import annotations

import copy
import datetime
import io
import math
import os
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fastdet._io import loads as _loads
from fastdet._io import read_bytes as _read_bytes
from fastdet._kernels import coco as _k

__all__ = ["COCO", "COCOeval", "CocoEvalResult", "Params", "evaluate_coco"]

PathLike = str | os.PathLike[str]

# --------------------------------------------------------------------------- JSON


def _key_table(names: Sequence[str]) -> tuple[NDArray[np.uint8], NDArray[np.int64]]:
    width = max(len(n) for n in names)
    table = np.zeros((len(names), width), np.uint8)
    for k, name in enumerate(names):
        table[k, : len(name)] = np.frombuffer(name.encode(), np.uint8)
    return table, np.array([len(n) for n in names], np.int64)


def _capacity(span: int, spec: Sequence[tuple[str, int]]) -> int:
    """Most entries that have every key of ``spec`` which ``span`` bytes of JSON array can hold.

    The shortest such entry is ``{"key":0,...,"box":[0,0,0,0]}`` plus a comma. An
    array with more entries than this lacks keys in some of them, and then the
    scan gives up (the full parser handles such files): counting ``{`` instead
    would cost a pass over the bytes.
    """
    shortest = 2 + sum(len(k) + 3 + (1 if w == 1 else 2 * w + 1) + 1 for k, w in spec)
    return span // shortest + 1


_SPLIT_BYTES = 1 << 20  # arrays longer than this are read in two halves at once


def _split_point(raw: bytes, start: int) -> int:
    """A ``{`` after the middle of ``raw[start:]`` right after a comma: likely an entry start, or -1."""
    j = raw.find(b"{", start + (len(raw) - start) // 2)
    for _ in range(16):
        if j < 0:
            return -1
        k = j - 1
        while k > start and raw[k] in b" \t\r\n":
            k -= 1
        if raw[k] == 44:  # ','
            return j
        j = raw.find(b"{", j + 1)
    return -1


def _scan_array(
    raw: bytes, start: int, spec: Sequence[tuple[str, int]], *, whole: bool = False, big: bool = False
) -> tuple[NDArray[np.float64], NDArray[np.int64], int] | None:
    """Columns of the JSON array of objects at ``raw[start]``; None if it is not plain numbers.

    ``spec`` lists (key, width); the result has one column per number, a bit
    mask per entry of the keys present, and the index after the array. A
    ``big`` array (most of the rest of the file) is read in two halves in
    parallel, split after the middle of the rest (the kernel checks the split).
    """
    buf = np.frombuffer(raw, np.uint8)
    keys, key_len = _key_table([k for k, _ in spec])
    widths = np.array([w for _, w in spec], np.int64)
    slots = np.concatenate([[0], np.cumsum(widths)[:-1]]).astype(np.int64)
    n_slots = int(widths.sum())
    split = _split_point(raw, start) if big and len(raw) - start > _SPLIT_BYTES else -1
    counts = None
    if split > 0:
        row_b = _capacity(split - start, spec)
        capacity = row_b + _capacity(len(raw) - split, spec)
        vals = np.empty((capacity, n_slots), np.float64)  # untouched pages cost no memory
        seen = np.empty(capacity, np.int64)
        slow = np.empty((capacity * n_slots, 3), np.int64)
        out = np.empty((2, 3), np.int64)
        _k.scan_object_array_split(
            buf, start, split, keys, key_len, slots, widths, vals, seen, slow, row_b, out
        )
        if out[0, 0] >= 0:  # the split is an entry start: the halves are the whole array
            if out[1, 0] < 0:
                return None
            counts = out
    if counts is None:
        capacity = _capacity(len(raw) - start, spec)
        vals = np.empty((capacity, n_slots), np.float64)
        seen = np.empty(capacity, np.int64)
        slow = np.empty((capacity * n_slots, 3), np.int64)
        count, n_slow, end = _k.scan_object_array(buf, start, keys, key_len, slots, widths, vals, seen, slow)
        if count < 0:
            return None
        row_b = 0
        counts = np.array([[count, n_slow, end], [0, 0, end]])
    end = int(counts[1, 2])
    if whole and _k.skip_whitespace(buf, end) != len(buf):
        return None
    flat = vals.reshape(-1)
    for h, slow0 in ((0, 0), (1, row_b * n_slots)):
        # numbers beyond the exact fast path: Python's correctly rounded float()
        for slot, lo, hi in slow[slow0 : slow0 + counts[h, 1]].tolist():
            flat[slot] = float(buf[lo:hi].tobytes())
    n_a, n_b = int(counts[0, 0]), int(counts[1, 0])
    if n_b == 0:
        return vals[:n_a], seen[:n_a], end
    return (
        np.concatenate((vals[:n_a], vals[row_b : row_b + n_b])),
        np.concatenate((seen[:n_a], seen[row_b : row_b + n_b])),
        end,
    )


def _exact_ints(col: NDArray[np.float64]) -> NDArray[np.int64] | None:
    """``col`` as int64 when every value is a whole number below 2**53 in magnitude."""
    if col.size and not (np.all(col == np.round(col)) and np.abs(col).max() < 2**53):
        return None
    return col.astype(np.int64)


_GT_SPEC = (("id", 1), ("image_id", 1), ("category_id", 1), ("bbox", 4), ("area", 1), ("iscrowd", 1))
_DT_SPEC = (("image_id", 1), ("category_id", 1), ("bbox", 4), ("score", 1))
_ID_SPEC = (("id", 1),)
_TOP_KEYS = _key_table(["annotations", "images", "categories"])


@dataclass
class _Scan:
    """What the fast scan of a ground-truth file found (None: not scanned / not plain)."""

    img_ids: list[Any]
    cat_ids: list[Any]
    cols: _Columns | None


def _scan_ground_truth(raw: bytes) -> _Scan | None:
    buf = np.frombuffer(raw, np.uint8)
    keys, key_len = _TOP_KEYS
    found: list[tuple[NDArray[np.float64], NDArray[np.int64], int] | None] = [None, None, None]
    i, after_value = 0, False
    while True:  # one pass: the walk stops at each wanted key and its array is read in place
        k, start = _k.next_top_key(buf, i, after_value, keys, key_len)
        if k == -2:
            return None
        if k == -1:
            break
        found[k] = got = _scan_array(raw, start, _GT_SPEC if k == 0 else _ID_SPEC, big=k == 0)
        if got is None:
            return None
        i, after_value = got[2], True
    ids: list[list[Any]] = []
    for got in found[1:]:
        if got is None:
            ids.append([])
            continue
        if (got[1] != 1).any():
            return None
        as_int = _exact_ints(got[0][:, 0])
        if as_int is None:
            return None
        ids.append(as_int.tolist())
    if found[0] is None:
        cols = _gt_columns_from_values(np.empty((0, 9)), np.empty(0, np.int64))
    else:
        cols = _gt_columns_from_values(found[0][0], found[0][1])
    return _Scan(ids[0], ids[1], cols)


def _gt_columns_from_values(vals: NDArray[np.float64], seen: NDArray[np.int64]) -> _Columns | None:
    """Ground-truth columns from scanned numbers, or None when an entry needs the full checks."""
    ok, increasing, ids, img, cat, bbox, area, crowd, ignore = _k.ground_truth_columns(
        vals, seen, len(seen), 2 ** len(_GT_SPEC) - 1
    )
    if not ok or (not increasing and len(np.unique(ids)) != len(ids)):
        return None
    return _Columns(ids, img, cat, bbox, area, crowd=crowd, ignore=ignore)


def _scan_results(raw: bytes) -> tuple[_Columns, NDArray[np.float64]] | None:
    """(columns, score) of a plain results file, or None."""
    got = _scan_array(raw, 0, _DT_SPEC, whole=True, big=True)
    if got is None:
        return None
    vals, seen, _ = got
    ok, img, cat, bbox, area, score = _k.results_columns(vals, seen, len(seen), 2 ** len(_DT_SPEC) - 1)
    if not ok:
        return None
    cols = _Columns(np.arange(1, len(score) + 1, dtype=np.int64), img, cat, bbox, area, score=score)
    return cols, score


# ------------------------------------------------------------------ columns


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


def _int_column(values: list[Any], key: str, where: str) -> NDArray[np.int64]:
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
        return _is_real(v) and math.isfinite(float(v)) and float(v) == int(v) and abs(int(v)) < 2**63

    idx = _first_bad(values, ok)
    raise ValueError(f"{where}: entry {idx} has {key}={values[idx]!r}; expected an integer") from None


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
        return _float_column([float(v) for v in values], key, where, allow_inf=allow_inf)
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
            return _bbox_column([[float(v) for v in b] for b in values], where)
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
    arr = _array(values, np.float64)
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
    image_id = _int_column(_get_column(anns, "image_id", where), "image_id", where)
    category_id = _int_column(_get_column(anns, "category_id", where), "category_id", where)
    bbox = _bbox_column(_get_column(anns, "bbox", where), where)
    area = _float_column(_get_column(anns, "area", where), "area", where, allow_inf=True)
    cols = _Columns(ids, image_id, category_id, bbox, area)
    if role == "gt":
        cols.crowd, cols.ignore = _crowd_flags(_get_column(anns, "iscrowd", where), where)
    else:
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


def _columns_of(coco: Any, role: Literal["gt", "dt"]) -> _Columns:
    """Evaluation columns of a fastdet ``COCO`` or of any pycocotools-like object."""
    if isinstance(coco, COCO):
        return coco._eval_columns(role)
    dataset = getattr(coco, "dataset", None)
    if not isinstance(dataset, dict):
        raise TypeError(
            f"{'cocoGt' if role == 'gt' else 'cocoDt'} must be a COCO object (fastdet or pycocotools), "
            f"got {type(coco).__name__}"
        )
    what = "ground truth" if role == "gt" else "results"
    return _columns_from_dicts(dataset.get("annotations", []), f"{what} annotations", role)


def _image_ids_of(coco: Any) -> list[Any]:
    return list(coco.getImgIds())


def _category_ids_of(coco: Any) -> list[Any]:
    return list(coco.getCatIds())


# --------------------------------------------------------------------- COCO


def _is_array_like(obj: Any) -> bool:
    return hasattr(obj, "__iter__") and hasattr(obj, "__len__")


class COCO:
    """pycocotools' ``COCO`` API over columnar annotations.

    Parameters
    ----------
    annotation_file : str, path-like, dict or None
        A COCO json file or an already parsed dataset dict (used as is, not
        copied). ``None`` makes an empty object, as in pycocotools.
    verbose : bool, default True
        Print pycocotools' progress lines.

    Attributes
    ----------
    dataset : dict
        The dataset. For a result object from :meth:`loadRes`, it is built on
        first access with the fields pycocotools adds (``area``, ``id``,
        ``iscrowd``, a box ``segmentation``); the caller's dicts are not mutated.
    anns, imgs, cats, imgToAnns, catToImgs : dict
        pycocotools' look-up tables, built lazily on first access (evaluation
        does not need them).

    Raises
    ------
    ValueError
        The file cannot be read, is not JSON, or is not a JSON object.

    Notes
    -----
    Evaluation reads the annotations as NumPy columns (ids, image ids, category
    ids, ``bbox`` xywh, ``area``, ``iscrowd``, ``score``); those are extracted
    and validated once, on first use, and malformed entries raise ``ValueError``
    naming the file, the entry index and the field. Ids must be integers.

    Examples
    --------
    >>> gt = COCO({"images": [{"id": 1}], "categories": [{"id": 7, "name": "cat"}],
    ...            "annotations": [{"id": 1, "image_id": 1, "category_id": 7,
    ...                             "bbox": [0, 0, 10, 10], "area": 100, "iscrowd": 0}]},
    ...           verbose=False)
    >>> gt.getAnnIds(imgIds=[1]), gt.getCatIds(), gt.loadImgs(1)
    ([1], [7], [{'id': 1}])
    """

    def __init__(self, annotation_file: PathLike | dict[str, Any] | None = None, *, verbose: bool = True):
        self._verbose = verbose
        self._source = "<dict>"
        self._dataset: dict[str, Any] | None = {}
        self._res: _ResultColumns | None = None
        self._cols: dict[str, _Columns] = {}
        self._index: dict[str, Any] = {}
        self._raw: bytes | None = None  # file text, parsed into ``dataset`` on first access
        self._scan: _Scan | None = None
        if annotation_file is None:
            return
        if isinstance(annotation_file, dict):
            dataset = annotation_file
        else:
            self._source = os.fspath(annotation_file)
            self._say("loading annotations into memory...")
            tic = time.time()
            raw = _read_bytes(annotation_file)
            scan = _scan_ground_truth(raw)
            if scan is not None:  # plain COCO: columns now, Python objects only if asked for
                self._raw, self._scan, self._dataset = raw, scan, None
                if scan.cols is not None:
                    self._cols["gt"] = scan.cols
                self._say(f"Done (t={time.time() - tic:0.2f}s)")
                self.createIndex()
                return
            dataset = _loads(raw, self._source)
            self._say(f"Done (t={time.time() - tic:0.2f}s)")
        if not isinstance(dataset, dict):
            raise ValueError(
                f"{self._source}: annotation file format {type(dataset).__name__} not supported "
                "(expected a JSON object with 'images', 'annotations', 'categories')"
            )
        for key in ("images", "annotations", "categories"):
            if key in dataset and not isinstance(dataset[key], list):
                raise ValueError(
                    f"{self._source}: '{key}' must be a JSON list, got {type(dataset[key]).__name__}"
                )
        self._dataset = dataset
        self.createIndex()

    def _say(self, text: str) -> None:
        if self._verbose:
            print(text)

    # ---- dataset and lazy indexes
    @property
    def dataset(self) -> dict[str, Any]:
        """The dataset dict (materialised on first access for result objects)."""
        if self._dataset is None:
            if self._res is not None:
                self._dataset = self._res.materialize()
            else:
                assert self._raw is not None
                self._dataset = _loads(self._raw, self._source)
                self._raw = None
        return self._dataset

    @dataset.setter
    def dataset(self, value: dict[str, Any]) -> None:
        self._dataset = value
        self._res = None
        self._raw = None
        self._scan = None
        self._cols = {}
        self._index = {}

    def createIndex(self) -> None:
        """Reset the look-up tables; they are rebuilt lazily from ``dataset``."""
        self._say("creating index...")
        self._index = {}
        if self._dataset is not None and self._res is None:  # the dict may have been edited in place
            self._cols = {}
        self._say("index created!")

    def _build_index(self) -> None:
        ds = self.dataset
        anns: dict[Any, Any] = {}
        imgs: dict[Any, Any] = {}
        cats: dict[Any, Any] = {}
        img_to_anns: defaultdict[Any, list[Any]] = defaultdict(list)
        cat_to_imgs: defaultdict[Any, list[Any]] = defaultdict(list)
        for ann in ds.get("annotations", []):
            img_to_anns[ann["image_id"]].append(ann)
            anns[ann["id"]] = ann
        for img in ds.get("images", []):
            imgs[img["id"]] = img
        for cat in ds.get("categories", []):
            cats[cat["id"]] = cat
        if "annotations" in ds and "categories" in ds:
            for ann in ds["annotations"]:
                cat_to_imgs[ann["category_id"]].append(ann["image_id"])
        self._index.update(anns=anns, imgs=imgs, cats=cats, imgToAnns=img_to_anns, catToImgs=cat_to_imgs)

    def _lookup(self, name: str) -> Any:
        if name not in self._index:
            if self._res is not None and name in ("imgs", "cats"):  # a result object shares the GT's
                gt = self._res.gt
                self._index[name] = dict(gt.imgs) if name == "imgs" else copy.deepcopy(gt.cats)
            elif name == "imgs":  # cheap, and needed by getImgIds / loadRes: no annotation dicts
                self._index["imgs"] = {img["id"]: img for img in self.dataset.get("images", [])}
            elif name == "cats":
                self._index["cats"] = {cat["id"]: cat for cat in self.dataset.get("categories", [])}
            else:
                imgs, cats = self._index.get("imgs"), self._index.get("cats")
                self._build_index()
                if imgs is not None:
                    self._index["imgs"] = imgs
                if cats is not None:
                    self._index["cats"] = cats
        return self._index[name]

    anns = property(lambda self: self._lookup("anns"), lambda self, v: self._index.__setitem__("anns", v))
    imgs = property(lambda self: self._lookup("imgs"), lambda self, v: self._index.__setitem__("imgs", v))
    cats = property(lambda self: self._lookup("cats"), lambda self, v: self._index.__setitem__("cats", v))
    imgToAnns = property(
        lambda self: self._lookup("imgToAnns"), lambda self, v: self._index.__setitem__("imgToAnns", v)
    )
    catToImgs = property(
        lambda self: self._lookup("catToImgs"), lambda self, v: self._index.__setitem__("catToImgs", v)
    )

    def _eval_columns(self, role: Literal["gt", "dt"]) -> _Columns:
        if self._res is not None:
            return self._res.cols
        if role not in self._cols:
            what = "ground truth" if role == "gt" else "results"
            where = f"{self._source} ({what} annotations)"
            self._cols[role] = _columns_from_dicts(self.dataset.get("annotations", []), where, role)
        return self._cols[role]

    # ---- pycocotools API
    def info(self) -> None:
        """Print the dataset's ``info`` entries."""
        for key, value in self.dataset["info"].items():
            print(f"{key}: {value}")

    def getAnnIds(
        self,
        imgIds: Any = (),
        catIds: Any = (),
        areaRng: Sequence[float] = (),
        iscrowd: bool | None = None,
    ) -> list[Any]:
        """Ids of annotations on ``imgIds`` with ``catIds`` and ``areaRng[0] < area < areaRng[1]``."""
        img_ids = imgIds if _is_array_like(imgIds) else [imgIds]
        cat_ids = catIds if _is_array_like(catIds) else [catIds]
        if len(img_ids) == len(cat_ids) == len(areaRng) == 0:
            anns = self.dataset["annotations"]
        else:
            if len(img_ids):
                index = self.imgToAnns
                anns = [a for i in img_ids if i in index for a in index[i]]
            else:
                anns = self.dataset["annotations"]
            if len(cat_ids):
                anns = [a for a in anns if a["category_id"] in cat_ids]
            if len(areaRng):
                anns = [a for a in anns if areaRng[0] < a["area"] < areaRng[1]]
        if iscrowd is not None:
            return [a["id"] for a in anns if a["iscrowd"] == iscrowd]
        return [a["id"] for a in anns]

    def getCatIds(self, catNms: Any = (), supNms: Any = (), catIds: Any = ()) -> list[Any]:
        """Ids of categories with the given names, supercategories and ids (empty: no filter)."""
        nms = catNms if _is_array_like(catNms) else [catNms]
        sups = supNms if _is_array_like(supNms) else [supNms]
        ids = catIds if _is_array_like(catIds) else [catIds]
        if len(nms) == len(sups) == len(ids) == 0 and self._scan is not None and self._dataset is None:
            return list(self._scan.cat_ids)
        cats = self.dataset.get("categories", [])
        if len(nms):
            cats = [c for c in cats if c["name"] in nms]
        if len(sups):
            cats = [c for c in cats if c["supercategory"] in sups]
        if len(ids):
            cats = [c for c in cats if c["id"] in ids]
        return [c["id"] for c in cats]

    def getImgIds(self, imgIds: Any = (), catIds: Any = ()) -> list[Any]:
        """Ids of images among ``imgIds`` that contain every category in ``catIds``."""
        img_ids = imgIds if _is_array_like(imgIds) else [imgIds]
        cat_ids = catIds if _is_array_like(catIds) else [catIds]
        if len(img_ids) == len(cat_ids) == 0:
            if self._scan is not None and "imgs" not in self._index:
                return list(dict.fromkeys(self._scan.img_ids))
            return list(self.imgs.keys())
        ids = set(img_ids)
        for i, cat in enumerate(cat_ids):
            if i == 0 and len(ids) == 0:
                ids = set(self.catToImgs[cat])
            else:
                ids &= set(self.catToImgs[cat])
        return list(ids)

    def _load(self, table: dict[Any, Any], ids: Any) -> list[Any]:
        if _is_array_like(ids):
            return [table[i] for i in ids]
        if isinstance(ids, (int, np.integer)):
            return [table[ids]]
        return []

    def loadAnns(self, ids: Any = ()) -> list[dict[str, Any]]:
        """Annotations with the given id(s)."""
        return self._load(self.anns, ids)

    def loadCats(self, ids: Any = ()) -> list[dict[str, Any]]:
        """Categories with the given id(s)."""
        return self._load(self.cats, ids)

    def loadImgs(self, ids: Any = ()) -> list[dict[str, Any]]:
        """Images with the given id(s)."""
        return self._load(self.imgs, ids)

    def showAnns(self, anns: Any, draw_bbox: bool = False) -> None:
        """Not provided: use pycocotools for drawing."""
        raise NotImplementedError("COCO.showAnns is not provided by fastdet; use pycocotools to draw")

    def annToRLE(self, ann: Any) -> Any:
        """Not provided yet (segmentation evaluation is a later issue)."""
        raise NotImplementedError("segmentation masks are not supported yet (bbox evaluation only)")

    annToMask = annToRLE

    def loadNumpyAnnotations(self, data: ArrayLike) -> list[dict[str, Any]]:
        """Convert an ``(N, 7)`` array ``[image_id, x, y, w, h, score, category_id]`` to result dicts."""
        arr = _results_array(data, "data")
        return [
            {"image_id": int(r[0]), "bbox": [r[1], r[2], r[3], r[4]], "score": r[5], "category_id": int(r[6])}
            for r in arr
        ]

    def loadRes(self, resFile: PathLike | list[dict[str, Any]] | np.ndarray) -> COCO:
        """Load detection results: a json file, a list of dicts, or an ``(N, 7)`` array.

        Parameters
        ----------
        resFile : str, path-like, list of dict or ndarray of shape (N, 7)
            Results ``{"image_id", "category_id", "bbox": [x, y, w, h], "score"}``;
            array rows are ``[image_id, x, y, w, h, score, category_id]``.

        Returns
        -------
        COCO
            The result object: ``area = w * h``, ``id = 1..N`` and ``iscrowd = 0``
            for every result (pycocotools' semantics); images and categories are
            those of this object.

        Raises
        ------
        ValueError
            Malformed input (not a list, a missing field, a bbox that is not 4
            finite numbers, a NaN score, a non-integer id) or a result on an
            image that is not in this dataset; the message names the file and
            the entry.
        NotImplementedError
            Segmentation, keypoint or caption results.

        Notes
        -----
        Unlike pycocotools, an empty result list is accepted (it evaluates as
        "no detections"), and the caller's dicts are not modified.
        """
        if not isinstance(resFile, (np.ndarray, np.generic, str, os.PathLike, list, tuple)):
            raise TypeError(
                "resFile must be a json path, a list of result dicts or an (N, 7) array; "
                f"got {type(resFile).__name__}"
            )
        self._say("Loading and preparing results...")
        tic = time.time()
        if isinstance(resFile, (np.ndarray, np.generic)):
            where = "resFile array"
            arr = _results_array(resFile, "resFile")
            image_id = _int_column(arr[:, 0].tolist(), "image_id", where)
            category_id = _int_column(arr[:, 6].tolist(), "category_id", where)
            bbox = np.ascontiguousarray(arr[:, 1:5])
            score = np.ascontiguousarray(arr[:, 5])
            anns: list[Any] | None = None
            array_rows: np.ndarray | None = arr
        else:
            raw = None
            if isinstance(resFile, (str, os.PathLike)):
                where = os.fspath(resFile)
                raw = _read_bytes(resFile)
                scanned = _scan_results(raw)
                if scanned is not None:  # plain bbox results: no Python objects at all
                    cols = scanned[0]
                    _check_images(cols.image_id, _image_ids_of(self), where)
                    return self._result_object(cols, None, None, raw, where, tic)
                anns = _loads(raw, where)
            else:
                where = "results list"
                anns = resFile
            if not isinstance(anns, list):
                raise ValueError(f"{where}: results must be a list of objects, got {type(anns).__name__}")
            array_rows = None
            if anns:
                first = anns[0]
                if not isinstance(first, dict):
                    raise ValueError(f"{where}: entry 0 must be an object (dict), got {type(first).__name__}")
                if "bbox" not in first or (isinstance(first["bbox"], (list, tuple)) and not first["bbox"]):
                    kinds = [k for k in ("caption", "segmentation", "keypoints") if k in first]
                    if kinds:
                        raise NotImplementedError(
                            f"{where}: {kinds[0]} results are not supported yet (bbox results only)"
                        )
                    raise ValueError(f"{where}: entry 0 has no 'bbox' field")
            image_id = _int_column(_get_column(anns, "image_id", where), "image_id", where)
            category_id = _int_column(_get_column(anns, "category_id", where), "category_id", where)
            bbox = _bbox_column(_get_column(anns, "bbox", where), where)
            score = _float_column(_get_column(anns, "score", where), "score", where, allow_inf=True)
        _check_images(image_id, _image_ids_of(self), where)
        n = len(image_id)
        cols = _Columns(
            ids=np.arange(1, n + 1, dtype=np.int64),
            image_id=image_id,
            category_id=category_id,
            bbox=bbox,
            area=bbox[:, 2] * bbox[:, 3],
            score=score,
        )
        return self._result_object(cols, anns, array_rows, None, where, tic)

    def _result_object(
        self,
        cols: _Columns,
        anns: list[Any] | None,
        rows: np.ndarray | None,
        raw: bytes | None,
        where: str,
        tic: float,
    ) -> COCO:
        res = COCO(verbose=self._verbose)
        res._source = where
        res._dataset = None
        res._res = _ResultColumns(cols, anns, rows, raw, self)
        self._say(f"DONE (t={time.time() - tic:0.2f}s)")
        res.createIndex()
        return res


def _results_array(data: ArrayLike, name: str) -> NDArray[np.float64]:
    arr = np.asarray(data)
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be a real numeric array, got dtype {arr.dtype}")
    if arr.ndim != 2 or arr.shape[1] != 7:
        raise ValueError(
            f"{name} must have shape (N, 7) [image_id, x, y, w, h, score, category_id], got {arr.shape}"
        )
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    bad = ~np.isfinite(arr).all(axis=1)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{name} row {row} contains NaN or inf: {arr[row].tolist()}")
    ids = arr[:, [0, 6]]
    inexact = ((ids != np.round(ids)) | (np.abs(ids) > 2**53)).any(axis=1)
    if inexact.any():
        row = int(np.flatnonzero(inexact)[0])
        raise ValueError(
            f"{name} row {row}: image_id and category_id must be integers of magnitude <= 2**53 "
            f"(exact in float64), got {arr[row, 0]!r} and {arr[row, 6]!r}"
        )
    negative = (arr[:, 3:5] < 0).any(axis=1)
    if negative.any():
        row = int(np.flatnonzero(negative)[0])
        raise ValueError(f"{name} row {row}: width and height must be >= 0, got {arr[row, 3:5].tolist()}")
    return arr


def _check_images(image_id: NDArray[np.int64], known: list[Any], where: str) -> None:
    if not len(image_id):
        return
    try:
        known_int = np.unique(np.asarray(known, dtype=np.int64))
    except (TypeError, ValueError, OverflowError):
        known_int = np.unique([k for k in known if isinstance(k, (int, np.integer))]).astype(np.int64)
    found = _positions(known_int, image_id)[1]
    if not found.all():
        idx = int(np.flatnonzero(~found)[0])
        raise ValueError(
            f"{where}: entry {idx} is on image_id {int(image_id[idx])}, which is not in the ground truth "
            f"({int((~found).sum())} results in all; pycocotools: "
            "'Results do not correspond to current coco set')"
        )


@dataclass
class _ResultColumns:
    """A loadRes result: validated columns plus what is needed to build pycocotools' dicts lazily."""

    cols: _Columns
    anns: list[Any] | None
    rows: np.ndarray | None
    raw: bytes | None
    gt: COCO

    def materialize(self) -> dict[str, Any]:
        gt_ds = self.gt.dataset
        out: dict[str, Any] = {
            "info": copy.deepcopy(gt_ds.get("info", {})),
            "images": list(gt_ds.get("images", [])),
            "categories": copy.deepcopy(gt_ds.get("categories", [])),
        }
        if self.anns is not None:
            source = [dict(a) for a in self.anns]
        elif self.raw is not None:
            source = _loads(self.raw, "results")
            self.raw = None
        else:
            assert self.rows is not None
            source = [
                {
                    "image_id": int(r[0]),
                    "bbox": [r[1], r[2], r[3], r[4]],
                    "score": r[5],
                    "category_id": int(r[6]),
                }
                for r in self.rows
            ]
        for i, ann in enumerate(source):
            bb = ann["bbox"]
            if "segmentation" not in ann:
                x1, x2, y1, y2 = bb[0], bb[0] + bb[2], bb[1], bb[1] + bb[3]
                ann["segmentation"] = [[x1, y1, x1, y2, x2, y2, x2, y1]]
            ann["area"] = bb[2] * bb[3]
            ann["id"] = i + 1
            ann["iscrowd"] = 0
        out["annotations"] = source
        return out


# ------------------------------------------------------------------- Params


# fmt: off
_KPT_OKS_SIGMAS = np.array([.26, .25, .25, .35, .35, .79, .79, .72, .72, .62, .62, 1.07, 1.07, .87, .87,
                            .89, .89]) / 10.0
# fmt: on


class Params:
    """pycocotools' evaluation parameters, same attribute names and defaults.

    Attributes
    ----------
    imgIds, catIds : list
        Images and categories to evaluate (set by ``COCOeval`` from the ground truth).
    iouThrs : ndarray
        ``np.linspace(.5, 0.95, 10)``.
    recThrs : ndarray
        ``np.linspace(.0, 1.00, 101)``.
    maxDets : list of int
        ``[1, 10, 100]``.
    areaRng : list of [lo, hi]
        ``[[0, 1e10], [0, 32**2], [32**2, 96**2], [96**2, 1e10]]`` (inclusive bounds on ``area``).
    areaRngLbl : list of str
        ``['all', 'small', 'medium', 'large']``.
    useCats : int
        1: per-category evaluation; 0: categories are ignored (one pool per image).
    iouType : str
        ``'bbox'`` (``'segm'`` and ``'keypoints'`` build pycocotools' parameters
        but ``COCOeval`` refuses them for now).
    """

    def __init__(self, iouType: str = "bbox"):
        if iouType not in ("segm", "bbox", "keypoints"):
            raise ValueError(f"iouType must be one of 'bbox', 'segm', 'keypoints'; got {iouType!r}")
        self.imgIds: list[Any] = []
        self.catIds: list[Any] = []
        self.iouThrs = np.linspace(0.5, 0.95, int(np.round((0.95 - 0.5) / 0.05)) + 1, endpoint=True)
        self.recThrs = np.linspace(0.0, 1.00, int(np.round((1.00 - 0.0) / 0.01)) + 1, endpoint=True)
        if iouType == "keypoints":
            self.maxDets = [20]
            self.areaRng = [[0**2, 1e5**2], [32**2, 96**2], [96**2, 1e5**2]]
            self.areaRngLbl = ["all", "medium", "large"]
            self.kpt_oks_sigmas = _KPT_OKS_SIGMAS.copy()
        else:
            self.maxDets = [1, 10, 100]
            self.areaRng = [[0**2, 1e5**2], [0**2, 32**2], [32**2, 96**2], [96**2, 1e5**2]]
            self.areaRngLbl = ["all", "small", "medium", "large"]
        self.useCats = 1
        self.iouType = iouType
        self.useSegm: Any = None  # deprecated in pycocotools; 1 means segm


def _check_iou_type(iou_type: Any) -> None:
    if iou_type == "bbox":
        return
    if iou_type in ("segm", "keypoints"):
        raise NotImplementedError(
            f"iouType {iou_type!r} is not implemented yet: fastdet evaluates 'bbox' only "
            "(use pycocotools for segm / keypoints)"
        )
    raise ValueError(
        f"iouType must be 'bbox' (or 'segm' / 'keypoints', not yet implemented); got {iou_type!r}"
    )


# ------------------------------------------------------------- evaluation core


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
    extra: dict[str, Any] = field(default_factory=dict)

    def match_rows(self) -> NDArray[np.int64]:
        """Matched ground-truth row within the cell, (Nd, A, T); -1 when unmatched."""
        if "match" not in self.extra:
            status = np.empty_like(self.status)
            match = np.empty(self.status.shape, np.int64)
            self._run_match(status, np.empty_like(self.kind), match)
            self.extra["match"] = match
        return self.extra["match"]

    def _run_match(self, status: np.ndarray, kind: np.ndarray, match: np.ndarray) -> None:
        _k.match_cells(
            self.gt_off, self.gt_box, self.gt_area, self.gt_crowd, self.gt_ignore, self.gt_id_nonzero,
            self.dt_off, self.dt_box, self.dt_area, self.dt_id_positive,
            self.iou_thrs, self.area_rng, status, kind, match,
        )  # fmt: skip


def _as_id_array(values: Sequence[Any], name: str) -> NDArray[np.int64]:
    try:
        arr = np.asarray(values)
        if arr.size == 0:
            return np.empty(0, np.int64)
        if arr.dtype.kind in "iu" or (arr.dtype.kind == "f" and np.all(arr == np.round(arr))):
            return arr.astype(np.int64).reshape(-1)
    except (TypeError, ValueError):
        pass
    raise ValueError(f"params.{name} must hold integer ids, got {list(values)[:5]!r}")


def _positions(sorted_ids: NDArray[np.int64], values: NDArray[np.int64]) -> tuple[np.ndarray, np.ndarray]:
    """Index of each value in ``sorted_ids`` and whether it is present."""
    if len(sorted_ids) and len(values) and 0 <= sorted_ids[0] and sorted_ids[-1] < 4 * len(values) + 2**20:
        # small non-negative ids (the usual case): a direct look-up table
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


def _evaluate(gt: _Columns, dt: _Columns, p: Params) -> _Evaluation:
    """Prepare the cell layout and run the matching kernel (``p`` already normalised)."""
    img_sorted = _as_id_array(p.imgIds, "imgIds")
    use_cats = bool(p.useCats)
    cat_list = _as_id_array(p.catIds, "catIds")
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
    kept, dt_off = _k.sort_and_truncate(local, dt_off, np.ascontiguousarray(dt.score[dt_grouped]), max_det)
    dt_rows = dt_grouped[kept]

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
    ev._run_match(ev.status, ev.kind, np.empty((0, 0, 0), np.int64))
    return ev


def _accumulate(
    ev: _Evaluation,
    k_list: Sequence[int],
    a_list: Sequence[int],
    i_list: Sequence[int],
    m_list: Sequence[int],
    rec_thrs: NDArray[np.float64],
    shape: tuple[int, int, int, int, int],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t, r, k, a, m = shape
    precision = np.full((t, r, k, a, m), -1.0)
    recall = np.full((t, k, a, m), -1.0)
    scores = np.full((t, r, k, a, m), -1.0)
    _k.accumulate(
        len(ev.img_ids), ev.gt_off, ev.gt_area, ev.gt_ignore, ev.area_rng,
        ev.dt_off, ev.dt_score, ev.status, ev.kind,
        np.asarray(k_list, np.int64), np.asarray(a_list, np.int64), np.asarray(i_list, np.int64),
        np.asarray(m_list, np.int64), rec_thrs, bool(np.all(np.diff(rec_thrs) >= 0)), float(np.spacing(1)),
        precision, recall, scores,
    )  # fmt: skip
    return precision, recall, scores


# ------------------------------------------------------------------ COCOeval


class COCOeval:
    """Drop-in for pycocotools' ``COCOeval`` (bbox), with Numba kernels.

    Parameters
    ----------
    cocoGt, cocoDt : COCO
        Ground truth and results, fastdet or pycocotools ``COCO`` objects.
    iouType : {'bbox'}, default 'bbox'
        ``'segm'`` and ``'keypoints'`` raise ``NotImplementedError`` for now.
        (pycocotools' default is ``'segm'``; fastdet's is ``'bbox'``.)
    verbose : bool, default True
        Print pycocotools' progress lines (the summary is always printed).

    Attributes
    ----------
    params : Params
    eval : dict
        After ``accumulate()``: ``precision`` [T, R, K, A, M], ``recall``
        [T, K, A, M], ``scores`` [T, R, K, A, M], ``params``, ``counts``, ``date``.
        -1 marks settings without ground truth.
    stats : ndarray of shape (12,)
        After ``summarize()``.
    evalImgs, ious
        pycocotools' per-image records and IoU matrices, computed on first access.

    Raises
    ------
    NotImplementedError
        ``iouType`` 'segm' or 'keypoints'.
    ValueError
        An unknown ``iouType``.

    Notes
    -----
    Results equal pycocotools' bit for bit, including the quirks listed in the
    module docstring (crowd IoU over the detection area, repeated crowd matches,
    ``iscrowd`` as the ignore flag, the ``area`` field for area ranges, stable
    ties, stats[0] at maxDets=100, -1 for no ground truth).

    Examples
    --------
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
        if cocoGt is not None:
            self.params.imgIds = sorted(cocoGt.getImgIds())
            self.params.catIds = sorted(cocoGt.getCatIds())

    def _say(self, text: str) -> None:
        if self._verbose:
            print(text)

    def evaluate(self) -> None:
        """Match detections to ground truth on every image and category."""
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
        self._ev = _evaluate(gt, dt, p)
        self._evalImgs = None
        self._ious = None
        self.eval = {}
        # the id lists hold immutable numbers: copy them shallowly (deepcopy visits every element)
        memo = {id(v): list(v) for v in (p.imgIds, p.catIds) if isinstance(v, list)}
        self._paramsEval = copy.deepcopy(p, memo)
        self._say(f"DONE (t={time.time() - tic:0.2f}s).")

    def accumulate(self, p: Params | None = None) -> None:
        """Precision / recall for every IoU threshold, category, area range and maxDets."""
        self._say("Accumulating evaluation results...")
        tic = time.time()
        if self._ev is None:
            raise RuntimeError("Please run evaluate() first")
        if p is None:
            p = self.params
        p.catIds = p.catIds if p.useCats == 1 else [-1]
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
        """Print pycocotools' 12-line summary and set ``stats``."""
        if not self.eval:
            raise RuntimeError("Please run accumulate() first")
        p = self.params
        if p.iouType != "bbox":
            _check_iou_type(p.iouType)
        if len(p.maxDets) < 3:
            raise IndexError(
                f"summarize() reads params.maxDets[0..2] (pycocotools' layout); params.maxDets is {p.maxDets}"
            )
        m = p.maxDets
        plan = [
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
        stats = np.zeros((len(plan),))
        for i, (ap, thr, area, max_det) in enumerate(plan):
            value, line = _summary_line(self.eval, p, ap, thr, area, max_det)
            print(line)
            stats[i] = value
        self.stats = stats

    def __str__(self) -> str:
        buf = io.StringIO()
        with redirect_stdout(buf):
            self.summarize()
        return buf.getvalue()

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
    n_cells = len(ev.gt_off) - 1
    n_g = np.diff(ev.gt_off)
    n_d = np.diff(ev.dt_off)
    sizes = n_g * n_d
    iou_off = np.zeros(n_cells + 1, np.int64)
    np.cumsum(sizes, out=iou_off[1:])
    flat = np.zeros(int(iou_off[-1]), np.float64)
    # ground truths in file order within the cell (the matching layout is the same order)
    _k.iou_cells(ev.gt_off, ev.gt_box, ev.gt_crowd, ev.dt_off, ev.dt_box, iou_off, flat)
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
    for k, cat in enumerate(ev.cat_ids):
        for a, rng in enumerate(ev.area_rng):
            lo, hi = rng
            for i, img in enumerate(ev.img_ids):
                c = k * len(ev.img_ids) + i
                g0, g1 = ev.gt_off[c], ev.gt_off[c + 1]
                d0, d1 = ev.dt_off[c], ev.dt_off[c + 1]
                if g0 == g1 and d0 == d1:
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
                        "gtIgnore": ig[gtind],
                        "dtIgnore": dt_ig,
                    }
                )
    return out


# ------------------------------------------------------------ evaluate_coco


@dataclass(frozen=True)
class CocoEvalResult:
    """Result of :func:`evaluate_coco`.

    Attributes
    ----------
    stats : dict of str to float
        Named statistics (see :func:`evaluate_coco` for the keys); -1 where there
        is no ground truth.
    per_class_ap : dict of int to float
        Category id -> AP over all IoU thresholds, area 'all', the largest
        detection limit; -1.0 for a category without ground truth.
    precision : ndarray of shape (T, R, K, A, M)
        Interpolated precision at each recall threshold (-1: no ground truth).
    recall : ndarray of shape (T, K, A, M)
        Maximum recall (-1: no ground truth).
    scores : ndarray of shape (T, R, K, A, M)
        Score of the detection at which each precision entry is reached.
    iou_thresholds, rec_thresholds : ndarray
        The T IoU and R recall thresholds.
    cat_ids : list of int
        Category id of each K index (``[-1]`` when categories are not used).
    area_ranges : dict of str to (float, float)
        Label and bounds of each A index.
    max_detections : tuple of int
        The M detection limits, ascending.
    """

    stats: dict[str, float]
    per_class_ap: dict[int, float]
    precision: NDArray[np.float64]
    recall: NDArray[np.float64]
    scores: NDArray[np.float64]
    iou_thresholds: NDArray[np.float64]
    rec_thresholds: NDArray[np.float64]
    cat_ids: list[int]
    area_ranges: dict[str, tuple[float, float]]
    max_detections: tuple[int, ...]


_AREA_SUFFIX = {"small": "s", "medium": "m", "large": "l"}
_DEFAULT_AREAS = {
    "all": (0.0, 1e10),
    "small": (0.0, 1024.0),
    "medium": (1024.0, 9216.0),
    "large": (9216.0, 1e10),
}


def _as_coco(obj: Any, name: str, *, verbose: bool = False) -> Any:
    if isinstance(obj, COCO) or (hasattr(obj, "dataset") and hasattr(obj, "getImgIds")):
        return obj
    if isinstance(obj, (str, os.PathLike, dict)):
        return COCO(obj, verbose=verbose)
    raise TypeError(f"{name} must be a COCO object, a json path or a dataset dict; got {type(obj).__name__}")


def evaluate_coco(
    gt: Any,
    dt: Any,
    *,
    iou_type: Literal["bbox"] = "bbox",
    iou_thresholds: ArrayLike | None = None,
    rec_thresholds: ArrayLike | None = None,
    max_detections: Iterable[int] = (1, 10, 100),
    area_ranges: Mapping[str, tuple[float, float]] | None = None,
    use_cats: bool = True,
    img_ids: Iterable[int] | None = None,
    cat_ids: Iterable[int] | None = None,
) -> CocoEvalResult:
    """Evaluate COCO-style detections; the functional form of :class:`COCOeval`.

    Parameters
    ----------
    gt : COCO, str, path-like or dict
        Ground truth: a fastdet / pycocotools ``COCO``, a json path or a dataset dict.
    dt : COCO, str, path-like, list of dict or ndarray of shape (N, 7)
        Results: a ``COCO`` result object, or anything ``COCO.loadRes`` accepts.
    iou_type : {'bbox'}
        Only 'bbox' for now ('segm' and 'keypoints' raise ``NotImplementedError``).
    iou_thresholds : array_like, optional
        Default ``np.linspace(.5, .95, 10)``.
    rec_thresholds : array_like, optional
        Default ``np.linspace(0, 1, 101)``.
    max_detections : iterable of int, default (1, 10, 100)
        Detection limits per image and category, sorted ascending.
    area_ranges : mapping of str to (lo, hi), optional
        Default COCO's ``all`` / ``small`` / ``medium`` / ``large``. Must contain 'all'.
    use_cats : bool, default True
        False pools all categories of an image (pycocotools ``useCats=0``).
    img_ids, cat_ids : iterable of int, optional
        Restrict the evaluation (default: every image / category of ``gt``).

    Returns
    -------
    CocoEvalResult
        ``stats`` keys, with ``L = max(max_detections)``: ``AP``, ``AP50``,
        ``AP75`` (when 0.5 / 0.75 are thresholds), ``APs``, ``APm``, ``APl``
        (per area label: ``small`` -> ``s`` etc., other labels as ``AP_<label>``),
        ``AR<m>`` for each limit m, and ``ARs``, ``ARm``, ``ARl``. AP and the
        area-range AR use the limit L. With the default limits the keys are
        exactly pycocotools' twelve (AP ... ARl) and the values equal its
        ``stats``. When L is not 100, every key except ``AR<m>`` gets the suffix
        ``@L`` (``AP@300``, ``APs@300``, ``ARl@300``) so the name says the limit;
        pycocotools would report stats[0] at 100 regardless (cocoapi #558, #584).

    Raises
    ------
    ValueError
        Malformed inputs or parameters.
    NotImplementedError
        ``iou_type`` other than 'bbox'.

    Notes
    -----
    AP is the mean over IoU thresholds, categories and the R recall thresholds
    of the interpolated precision (precision made monotone from the right),
    counting only entries > -1 (categories with ground truth), as in
    pycocotools' ``summarize``.

    Examples
    --------
    >>> gt = {"images": [{"id": 1}], "categories": [{"id": 1, "name": "a"}],
    ...       "annotations": [{"id": 1, "image_id": 1, "category_id": 1,
    ...                        "bbox": [0, 0, 10, 10], "area": 100, "iscrowd": 0}]}
    >>> res = evaluate_coco(gt, [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 9], "score": 0.9}])
    >>> res.stats["AP"], res.stats["AP50"], res.per_class_ap  # tp / (tp + fp + eps), as pycocotools
    (0.8999999999999999, 0.9999999999999999, {1: 0.8999999999999999})
    """
    _check_iou_type(iou_type)
    gt_coco = _as_coco(gt, "gt")
    if isinstance(dt, (list, np.ndarray, str, os.PathLike)):
        # a pycocotools ground truth loads results through a fastdet view of its dataset
        loader = gt_coco if isinstance(gt_coco, COCO) else COCO(gt_coco.dataset, verbose=False)
        with redirect_stdout(io.StringIO()):
            dt_coco = loader.loadRes(dt)
    else:
        if isinstance(dt, dict) and not isinstance(dt.get("annotations"), list):
            raise ValueError(
                "dt given as a dict must be a COCO dataset with an 'annotations' list of results"
            )
        dt_coco = _as_coco(dt, "dt")
    maxd = sorted(int(m) for m in max_detections)
    if not maxd or maxd[0] < 0:
        raise ValueError(f"max_detections must be non-negative integers, got {list(max_detections)}")
    areas = dict(_DEFAULT_AREAS if area_ranges is None else area_ranges)
    if "all" not in areas:
        raise ValueError(f"area_ranges must contain an 'all' range, got labels {list(areas)}")
    ev = COCOeval(gt_coco, dt_coco, "bbox", verbose=False)
    p = ev.params
    if iou_thresholds is not None:
        p.iouThrs = np.asarray(iou_thresholds, dtype=np.float64).reshape(-1)
        if not np.isfinite(p.iouThrs).all() or len(p.iouThrs) == 0:
            raise ValueError(f"iou_thresholds must be finite numbers, got {iou_thresholds}")
    if rec_thresholds is not None:
        p.recThrs = np.asarray(rec_thresholds, dtype=np.float64).reshape(-1)
        if not np.isfinite(p.recThrs).all():
            raise ValueError(f"rec_thresholds must be finite numbers, got {rec_thresholds}")
    p.maxDets = maxd
    p.areaRng = [[float(lo), float(hi)] for lo, hi in areas.values()]
    p.areaRngLbl = list(areas)
    p.useCats = 1 if use_cats else 0
    if img_ids is not None:
        p.imgIds = list(img_ids)
    if cat_ids is not None:
        p.catIds = list(cat_ids)
    with redirect_stdout(io.StringIO()):
        ev.evaluate()
        ev.accumulate()
    e = ev.eval
    limit = maxd[-1]
    tag = "" if limit == 100 else f"@{limit}"

    def stat(ap: int, thr: float | None, area: str, m: int) -> float:
        return float(_summary_line(e, p, ap, thr, area, m)[0])

    stats: dict[str, float] = {f"AP{tag}": stat(1, None, "all", limit)}
    for thr, name in ((0.5, "AP50"), (0.75, "AP75")):
        if np.any(p.iouThrs == thr):
            stats[name + tag] = stat(1, thr, "all", limit)
    labels = [lbl for lbl in areas if lbl != "all"]
    for lbl in labels:
        suffix = _AREA_SUFFIX.get(lbl, f"_{lbl}")
        stats[f"AP{suffix}{tag}"] = stat(1, None, lbl, limit)
    for m in maxd:
        stats[f"AR{m}"] = stat(0, None, "all", m)
    for lbl in labels:
        suffix = _AREA_SUFFIX.get(lbl, f"_{lbl}")
        stats[f"AR{suffix}{tag}"] = stat(0, None, lbl, limit)
    a_all = p.areaRngLbl.index("all")
    per_class: dict[int, float] = {}
    for k, cat in enumerate(p.catIds if p.useCats else [-1]):
        s = e["precision"][:, :, k, a_all, -1]
        valid = s[s > -1]
        per_class[int(cat)] = float(np.mean(valid)) if len(valid) else -1.0
    return CocoEvalResult(
        stats=stats,
        per_class_ap=per_class,
        precision=e["precision"],
        recall=e["recall"],
        scores=e["scores"],
        iou_thresholds=np.asarray(p.iouThrs, dtype=np.float64),
        rec_thresholds=np.asarray(p.recThrs, dtype=np.float64),
        cat_ids=[int(c) for c in (p.catIds if p.useCats else [-1])],
        area_ranges={
            lbl: (float(lo), float(hi)) for lbl, (lo, hi) in zip(p.areaRngLbl, p.areaRng, strict=True)
        },
        max_detections=tuple(maxd),
    )
