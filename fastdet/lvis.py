"""LVIS's federated evaluation: lvis-api's ``LVIS``, ``LVISResults`` and ``LVISEval``, and ``evaluate_lvis``.

LVIS (Gupta et al., "LVIS: A Dataset for Large Vocabulary Instance
Segmentation", CVPR 2019) annotates 1203 categories (1230 in v0.5) federatedly:
on each image only some categories are known to be present (those with
annotations) or absent (``neg_category_ids``). The protocol of lvis-api
(github.com/lvis-dataset/lvis-api, ``lvis/eval.py``), reproduced here with the
same numbers:

1. ``LVISResults`` keeps at most ``max_dets=300`` results per image, across
   categories: the highest scores (ties: file order).
2. A category is evaluated on an image only if it is positive there (has a
   ground truth) or is in the image's ``neg_category_ids``; detections of any
   other category on that image are dropped.
3. An unmatched detection whose category is in the image's
   ``not_exhaustive_category_ids`` is ignored (not a false positive).
4. Matching and accumulation are COCO's (greedy by score, IoU thresholds
   0.50:0.95, 101 recall points, area ranges on the ``area`` field), with no
   crowd regions, a ground-truth ``ignore`` flag read from an optional
   ``ignore`` key, and no per-category detection limit.
5. Only annotations with ``0 < area < inf`` take part (lvis-api filters with
   ``LVIS.get_ann_ids``'s strict bounds); a result's area is ``w * h``.
6. APr / APc / APf average the categories whose ``frequency`` is ``'r'``
   (rare), ``'c'`` (common) or ``'f'`` (frequent).
7. ``params.use_cats = 0`` does not pool the categories: lvis-api's
   ``_get_gt_dt`` reads ``self._gts[img_id, cat_id]`` with ``cat_id`` the
   placeholder -1 for every entry of ``params.cat_ids``, so only a category
   with id -1 takes part (repeated ``len(cat_ids)`` times); otherwise
   precision and recall are all -1. fastdet gives the same numbers.

v0.5 and v1 files are both read (they differ in category and image metadata
only). Matching and accumulation run in fastdet's COCO kernels.

Deviations from lvis-api, all on input it crashes on or does not check: an
empty result list evaluates as "no detections"; files are validated when
loaded (a category without ``frequency``, unknown ids in
``neg_category_ids`` / ``not_exhaustive_category_ids``, annotations on unknown
images or categories, duplicate ids, results on unknown images, negative box
sizes and NaN scores raise ``ValueError`` naming the file, the entry and the
key); the caller's result dicts are not modified.
"""

from __future__ import annotations

import copy
import datetime
import logging
import os
from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fastdet import _lvis_core as _core
from fastdet._io import loads as _loads
from fastdet._io import read_bytes as _read_bytes

__all__ = ["LVIS", "LVISEval", "LVISResults", "LvisEvalResult", "Params", "evaluate_lvis"]

PathLike = str | os.PathLike[str]
_logger = logging.getLogger(__name__)


def _check_iou_type(iou_type: Any) -> None:
    if iou_type == "bbox":
        return
    if iou_type == "segm":
        raise NotImplementedError(
            "iou_type 'segm' is not implemented yet: fastdet evaluates LVIS 'bbox' only for now"
        )
    raise ValueError(f"iou_type must be 'bbox' (or 'segm', not yet implemented); got {iou_type!r}")


class LVIS:
    """lvis-api's ``LVIS`` dataset class, validated on load.

    Parameters
    ----------
    annotation_path : str, path-like or dict
        An LVIS (v0.5 or v1) json file, or its parsed dict (used as is, not copied).

    Attributes
    ----------
    dataset : dict
    anns, cats, imgs, img_ann_map, cat_img_map : dict
        lvis-api's look-up tables, built on first access.

    Raises
    ------
    ValueError
        A file that cannot be read or parsed, or an entry that is malformed: a
        category without ``frequency`` in 'r'/'c'/'f', an image without
        ``neg_category_ids`` / ``not_exhaustive_category_ids`` lists of known
        category ids, an annotation without a valid ``id``, ``image_id``,
        ``category_id``, ``bbox`` or ``area`` or on an unknown image or
        category. The message names the file, the entry and the key.

    Notes
    -----
    After editing ``dataset`` in place, call ``_create_index()`` (as in lvis-api).

    Examples
    --------
    >>> gt = LVIS({"images": [{"id": 1, "neg_category_ids": [2], "not_exhaustive_category_ids": []}],
    ...            "categories": [{"id": 1, "frequency": "f"}, {"id": 2, "frequency": "r"}],
    ...            "annotations": [{"id": 5, "image_id": 1, "category_id": 1,
    ...                             "bbox": [0, 0, 10, 10], "area": 100}]})
    >>> gt.get_img_ids(), gt.get_cat_ids(), gt.get_ann_ids(img_ids=[1])
    ([1], [1, 2], [5])
    """

    def __init__(self, annotation_path: PathLike | dict[str, Any]):
        if isinstance(annotation_path, dict):
            self._source = "<dict>"
            dataset = annotation_path
        elif isinstance(annotation_path, (str, os.PathLike)):
            self._source = os.fspath(annotation_path)
            dataset = _loads(_read_bytes(annotation_path), self._source)
        else:
            raise TypeError(
                f"annotation_path must be a json path or a dataset dict, got {type(annotation_path).__name__}"
            )
        if not isinstance(dataset, dict):
            raise ValueError(
                f"{self._source}: annotation file format {type(dataset).__name__} not supported "
                "(expected a JSON object with 'images', 'annotations', 'categories')"
            )
        for key in ("images", "annotations", "categories"):
            if not isinstance(dataset.get(key), list):
                got = type(dataset[key]).__name__ if key in dataset else "nothing"
                raise ValueError(f"{self._source}: '{key}' must be a JSON list, got {got}")
        self.dataset = dataset
        self._create_index()

    def _create_index(self) -> None:
        self._index: dict[str, Any] = {}
        ds = self.dataset
        self._fed = _core.read_federation(ds["images"], ds["categories"], self._source)
        self._gt = _core.gt_columns(ds["annotations"], self._fed, self._source)

    def _lookup(self, name: str) -> Any:
        if name not in self._index:
            ds = self.dataset
            img_ann_map: defaultdict[Any, list[Any]] = defaultdict(list)
            cat_img_map: defaultdict[Any, list[Any]] = defaultdict(list)
            anns = {}
            for ann in ds["annotations"]:
                img_ann_map[ann["image_id"]].append(ann)
                anns[ann["id"]] = ann
                cat_img_map[ann["category_id"]].append(ann["image_id"])
            self._index.update(
                anns=anns,
                img_ann_map=img_ann_map,
                cat_img_map=cat_img_map,
                imgs={img["id"]: img for img in ds["images"]},
                cats={cat["id"]: cat for cat in ds["categories"]},
            )
        return self._index[name]

    anns = property(lambda self: self._lookup("anns"), doc="annotation id -> annotation")
    imgs = property(lambda self: self._lookup("imgs"), doc="image id -> image")
    cats = property(lambda self: self._lookup("cats"), doc="category id -> category")
    img_ann_map = property(lambda self: self._lookup("img_ann_map"), doc="image id -> annotations")
    cat_img_map = property(lambda self: self._lookup("cat_img_map"), doc="category id -> image ids")

    def get_ann_ids(
        self, img_ids: Iterable[Any] | None = None, cat_ids: Iterable[Any] | None = None, area_rng: Any = None
    ) -> list[Any]:
        """Ids of annotations on ``img_ids`` with ``cat_ids`` and ``area_rng[0] < area < area_rng[1]``.

        As in lvis-api, giving ``cat_ids`` or ``area_rng`` applies the area bounds,
        ``(0, inf)`` by default, so annotations of area 0 are left out.
        """
        if img_ids is not None:
            index = self.img_ann_map
            anns = [a for i in img_ids for a in index.get(i, ())]
        else:
            anns = self.dataset["annotations"]
        if cat_ids is None and area_rng is None:
            return [a["id"] for a in anns]
        lo, hi = (0, float("inf")) if area_rng is None else area_rng
        if cat_ids is not None:
            cats = set(cat_ids)
            anns = [a for a in anns if a["category_id"] in cats]
        return [a["id"] for a in anns if lo < a["area"] < hi]

    def get_cat_ids(self) -> list[Any]:
        """All category ids, in file order."""
        return self._fed.cat_ids.tolist()

    def get_img_ids(self) -> list[Any]:
        """All image ids, in file order."""
        return self._fed.img_ids.tolist()

    def load_anns(self, ids: Iterable[Any] | None = None) -> list[dict[str, Any]]:
        """Annotations with the given ids (all when None)."""
        return _load(self.anns, ids)

    def load_cats(self, ids: Iterable[Any] | None) -> list[dict[str, Any]]:
        """Categories with the given ids (all when None)."""
        return _load(self.cats, ids)

    def load_imgs(self, ids: Iterable[Any] | None) -> list[dict[str, Any]]:
        """Images with the given ids (all when None)."""
        return _load(self.imgs, ids)

    def download(self, save_dir: str, img_ids: Iterable[Any] | None = None) -> None:
        """Not provided: fastdet does not download images (use lvis-api)."""
        raise NotImplementedError("LVIS.download is not provided by fastdet; use lvis-api")

    def ann_to_rle(self, ann: dict[str, Any]) -> Any:
        """Not provided yet (masks come with segmentation evaluation)."""
        raise NotImplementedError("segmentation masks are not supported yet (LVIS bbox evaluation only)")

    ann_to_mask = ann_to_rle


def _load(table: dict[Any, Any], ids: Iterable[Any] | None) -> list[dict[str, Any]]:
    return list(table.values()) if ids is None else [table[i] for i in ids]


class LVISResults(LVIS):
    """lvis-api's ``LVISResults``: detections on an LVIS ground truth, at most ``max_dets`` per image.

    Parameters
    ----------
    lvis_gt : LVIS, str, path-like or dict
        The ground truth (its images and categories are shared).
    results : str, path-like or list of dict
        Results ``{"image_id", "category_id", "bbox": [x, y, w, h], "score"}``.
    max_dets : int, default 300
        Per-image cap, across categories: an image with more results keeps the
        ``max_dets`` highest scores (ties: the earlier result). Negative: no cap.

    Attributes
    ----------
    dataset : dict
        Built on first access: the ground truth's images and categories, and the
        kept results (copies) with ``area = w * h``, ``id = 1..N`` and a box
        polygon ``segmentation``, in lvis-api's order (grouped by image in order
        of first appearance, a capped image's results by descending score).
    max_dets : int

    Raises
    ------
    ValueError
        Malformed results (a missing field, a bbox that is not 4 finite numbers
        with w, h >= 0, a NaN score, a non-integer id) or a result on an image
        that the ground truth does not have; the message names the file, the
        entry and the key.
    NotImplementedError
        Segmentation results without ``bbox``.
    """

    def __init__(self, lvis_gt: LVIS | PathLike | dict[str, Any], results: Any, max_dets: int = 300):
        gt = lvis_gt if isinstance(lvis_gt, LVIS) else LVIS(lvis_gt)
        if isinstance(max_dets, bool) or not isinstance(max_dets, (int, np.integer)):
            raise TypeError(f"max_dets must be an integer, got {max_dets!r}")
        self.max_dets = int(max_dets)
        self._gt_obj = gt
        self._fed = gt._fed
        self._index = {}
        self._raw: bytes | None = None
        self._anns: list[Any] | None = None
        if isinstance(results, (str, os.PathLike)):
            self._source = os.fspath(results)
            raw = _read_bytes(results)
            cols = _core.scan_result_file(raw)
            if cols is None:
                self._anns = _loads(raw, self._source)
            else:
                self._raw = raw
        elif isinstance(results, (list, tuple)):
            self._source = "results list"
            self._anns, cols = list(results), None
        else:
            raise TypeError(f"results must be a json path or a list of dicts, got {type(results).__name__}")
        if cols is None:
            cols = self._columns_of_dicts()
        known = np.unique(self._fed.img_ids)
        found = _core.positions(known, cols.image_id)[1]
        if not found.all():
            j = int(np.flatnonzero(~found)[0])
            raise ValueError(
                f"{self._source}: entry {j} has image_id={int(cols.image_id[j])}, which is not an image of "
                f"the ground truth ({int((~found).sum())} results in all; lvis-api: 'Results do not "
                "correspond to current LVIS set')"
            )
        self._order = _core.cap_order(cols.image_id, cols.score, self.max_dets)
        self._dt = _core.take_rows(cols, self._order)
        self._dataset: dict[str, Any] | None = None

    def _columns_of_dicts(self) -> Any:
        anns = self._anns
        if not isinstance(anns, list):
            raise ValueError(f"{self._source}: results must be a list, got {type(anns).__name__}")
        if anns:
            first = anns[0]
            if not isinstance(first, dict):
                raise ValueError(
                    f"{self._source}: entry 0 must be an object (dict), got {type(first).__name__}"
                )
            if "bbox" not in first:
                if "segmentation" in first:
                    raise NotImplementedError(
                        f"{self._source}: segmentation results are not supported yet (bbox results only)"
                    )
                raise ValueError(f"{self._source}: entry 0 has no 'bbox' field")
        return _core.result_columns(anns, self._source)

    def _create_index(self) -> None:
        self._index = {}

    @property
    def dataset(self) -> dict[str, Any]:
        """The ground truth's images and categories with the kept results as ``annotations``."""
        if self._dataset is None:
            gt_ds = self._gt_obj.dataset
            out = {k: copy.deepcopy(v) for k, v in gt_ds.items() if k != "annotations"}
            if self._anns is None:
                assert self._raw is not None
                self._anns = _loads(self._raw, self._source)
                self._raw = None
            kept = []
            for i, j in enumerate(self._order.tolist()):
                ann = dict(self._anns[j])
                x, y, w, h = ann["bbox"]
                if "segmentation" not in ann:
                    ann["segmentation"] = [[x, y, x, y + h, x + w, y + h, x + w, y]]
                ann["area"] = w * h
                ann["id"] = i + 1
                kept.append(ann)
            out["annotations"] = kept
            self._dataset = out
        return self._dataset

    @dataset.setter
    def dataset(self, value: dict[str, Any]) -> None:
        self._dataset = value
        self._index = {}

    def get_top_results(self, img_id: Any, score_thrs: float) -> list[dict[str, Any]]:
        """Results on ``img_id`` with a score above ``score_thrs``."""
        return [a for a in self.load_anns(self.get_ann_ids(img_ids=[img_id])) if a["score"] > score_thrs]


class Params:
    """lvis-api's evaluation parameters, same names and defaults.

    Attributes
    ----------
    img_ids, cat_ids : list
        Images and categories to evaluate (set from the ground truth, sorted).
    iou_thrs : ndarray
        ``np.linspace(.5, 0.95, 10)``.
    rec_thrs : ndarray
        ``np.linspace(.0, 1.00, 101)``.
    max_dets : int
        300. Only names the AR keys (``AR@300``): the cap itself is
        ``LVISResults``' ``max_dets``, as in lvis-api.
    area_rng, area_rng_lbl : list
        ``[[0, 1e10], [0, 32**2], [32**2, 96**2], [96**2, 1e10]]`` labelled
        ``['all', 'small', 'medium', 'large']`` (inclusive bounds on ``area``).
    use_cats : int
        1: per category. 0: as lvis-api, one pooled cell per image holding the
        annotations of the category with id -1 once per entry of ``cat_ids``
        (lvis-api's ``_get_gt_dt`` looks up its placeholder id -1, not each
        category): precision and recall are all -1 unless -1 is a category.
    img_count_lbl : list of str
        ``['r', 'c', 'f']``: the frequency groups.
    iou_type : str
    """

    def __init__(self, iou_type: str = "bbox"):
        self.img_ids: list[Any] = []
        self.cat_ids: list[Any] = []
        self.iou_thrs = np.linspace(0.5, 0.95, int(np.round((0.95 - 0.5) / 0.05)) + 1, endpoint=True)
        self.rec_thrs = np.linspace(0.0, 1.00, int(np.round((1.00 - 0.0) / 0.01)) + 1, endpoint=True)
        self.max_dets = 300
        self.area_rng: list[list[float]] = [[0**2, 1e5**2], [0**2, 32**2], [32**2, 96**2], [96**2, 1e5**2]]
        self.area_rng_lbl = ["all", "small", "medium", "large"]
        self.use_cats = 1
        self.img_count_lbl = ["r", "c", "f"]
        self.iou_type = iou_type


def _id_array(values: Any, name: str) -> NDArray[np.int64]:
    arr = np.asarray(list(values))
    if arr.size == 0:
        return np.empty(0, np.int64)
    if arr.ndim == 1 and (arr.dtype.kind in "iu" or (arr.dtype.kind == "f" and np.all(arr == np.round(arr)))):
        return arr.astype(np.int64)
    raise ValueError(f"params.{name} must hold integer ids, got {list(values)[:5]!r}")


class LVISEval:
    """lvis-api's ``LVISEval``: federated evaluation with the same numbers.

    Parameters
    ----------
    lvis_gt : LVIS, str, path-like or dict
    lvis_dt : LVISResults, str, path-like or list of dict
        Anything else than ``LVISResults`` is loaded as ``LVISResults(lvis_gt, lvis_dt)``
        (cap 300 per image).
    iou_type : {'bbox'}, default 'bbox'
        ``'segm'`` raises ``NotImplementedError`` for now. (lvis-api's default is ``'segm'``.)

    Attributes
    ----------
    params : Params
    eval : dict
        After ``accumulate()``: ``precision`` [T, R, K, A], ``recall`` [T, K, A]
        (-1 where a category has no ground truth), ``params``, ``counts``, ``date``.
    results : OrderedDict
        After ``summarize()``: ``AP, AP50, AP75, APs, APm, APl, APr, APc, APf,
        AR@300, ARs@300, ARm@300, ARl@300`` (the suffix is ``params.max_dets``).
    freq_groups : list of 3 lists
        Positions in ``params.cat_ids`` of the rare, common and frequent categories.

    Examples
    --------
    >>> gt = {"images": [{"id": 1, "neg_category_ids": [2], "not_exhaustive_category_ids": []}],
    ...       "categories": [{"id": 1, "frequency": "f"}, {"id": 2, "frequency": "r"}],
    ...       "annotations": [{"id": 5, "image_id": 1, "category_id": 1,
    ...                        "bbox": [0, 0, 10, 10], "area": 100}]}
    >>> E = LVISEval(gt, [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 9], "score": 0.9},
    ...                   {"image_id": 1, "category_id": 2, "bbox": [50, 50, 5, 5], "score": 0.8}])
    >>> E.run()
    >>> E.results["AP"], E.results["AP50"], E.results["APr"]  # category 2 has no ground truth: -1
    (np.float64(0.8999999999999999), np.float64(0.9999999999999999), -1)
    """

    def __init__(self, lvis_gt: Any, lvis_dt: Any, iou_type: str = "bbox"):
        _check_iou_type(iou_type)
        if isinstance(lvis_gt, LVISResults):
            raise TypeError("lvis_gt must be the ground truth (LVIS), got an LVISResults")
        if isinstance(lvis_gt, LVIS):
            self.lvis_gt = lvis_gt
        elif isinstance(lvis_gt, (str, os.PathLike, dict)):
            self.lvis_gt = LVIS(lvis_gt)
        else:
            raise TypeError(
                f"lvis_gt must be an LVIS object, a json path or a dict, got {type(lvis_gt).__name__}"
            )
        if isinstance(lvis_dt, LVISResults):
            self.lvis_dt = lvis_dt
        elif isinstance(lvis_dt, (str, os.PathLike, list, tuple)):
            self.lvis_dt = LVISResults(self.lvis_gt, lvis_dt)
        else:
            raise TypeError(
                "lvis_dt must be an LVISResults object, a json path or a list of dicts, "
                f"got {type(lvis_dt).__name__}"
            )
        self.params = Params(iou_type=iou_type)
        self.params.img_ids = sorted(self.lvis_gt.get_img_ids())
        self.params.cat_ids = sorted(self.lvis_gt.get_cat_ids())
        self.eval: dict[str, Any] = {}
        self.results: OrderedDict[str, Any] = OrderedDict()
        self.freq_groups: list[list[int]] = [[] for _ in self.params.img_count_lbl]
        self._run: Any = None
        self._setup: tuple[Any, ...] | None = None

    def evaluate(self) -> None:
        """Match detections to ground truth on every evaluated (category, image) pair."""
        p = self.params
        _check_iou_type(p.iou_type)
        p.img_ids = list(np.unique(p.img_ids))
        img_sorted = _id_array(p.img_ids, "img_ids")
        cat_list = _id_array(p.cat_ids, "cat_ids")
        fed = self.lvis_gt._fed
        for arr, known, name in ((img_sorted, fed.img_ids, "img_ids"), (cat_list, fed.cat_ids, "cat_ids")):
            found = _core.positions(np.unique(known), arr)[1]
            if not found.all():
                raise ValueError(
                    f"params.{name} contains {int(arr[~found][0])}, which the ground truth does not have"
                )
        iou_thrs = np.ascontiguousarray(np.asarray(p.iou_thrs, dtype=np.float64).reshape(-1))
        if len(iou_thrs) == 0 or np.isnan(iou_thrs).any():
            raise ValueError(f"params.iou_thrs must be one or more numbers (no NaN), got {p.iou_thrs!r}")
        area_rng = np.ascontiguousarray(np.asarray(p.area_rng, dtype=np.float64))
        if area_rng.ndim != 2 or area_rng.shape[1] != 2 or np.isnan(area_rng).any():
            raise ValueError(
                f"params.area_rng must be a list of [lo, hi] pairs of numbers, got {p.area_rng!r}"
            )
        by_id = np.argsort(fed.cat_ids, kind="stable")
        freq = fed.frequency[by_id][_core.positions(fed.cat_ids[by_id], cat_list)[0]].tolist()
        self.freq_groups = [[k for k, f in enumerate(freq) if f == g] for g in range(len(_core.FREQUENCIES))]
        use_cats = bool(p.use_cats)
        if len(cat_list):
            layout = _core.federated_layout(
                self.lvis_gt._gt, self.lvis_dt._dt, fed, img_sorted, cat_list, use_cats
            )
            self._run = _core.evaluate(layout, iou_thrs, area_rng)
        else:
            self._run = None
        self._setup = (cat_list.tolist(), use_cats, len(iou_thrs), len(area_rng))
        self.eval = {}

    def accumulate(self) -> None:
        """Precision and recall for every IoU threshold, category and area range."""
        if self._setup is None:
            raise RuntimeError("Please run evaluate() first")
        p = self.params
        cat_list, use_cats, n_t, n_a = self._setup
        if (
            _id_array(p.cat_ids, "cat_ids").tolist() != cat_list
            or bool(p.use_cats) != use_cats
            or len(p.iou_thrs) != n_t
            or len(p.area_rng) != n_a
        ):
            raise ValueError(
                "params changed since evaluate() (categories, use_cats, iou_thrs or area_rng); "
                "run evaluate() again"
            )
        rec_thrs = np.ascontiguousarray(np.asarray(p.rec_thrs, dtype=np.float64).reshape(-1))
        if np.isnan(rec_thrs).any():
            raise ValueError(f"params.rec_thrs must not contain NaN, got {p.rec_thrs!r}")
        n_k = len(cat_list) if use_cats else 1
        if self._run is None:
            precision = np.full((n_t, len(rec_thrs), len(cat_list) if use_cats else 1, n_a), -1.0)
            recall = np.full((n_t, precision.shape[2], n_a), -1.0)
        else:
            precision, recall = _core.accumulate(self._run, rec_thrs)
            if use_cats:  # the core's categories are the sorted unique ids: back to params.cat_ids' order
                pos = _core.positions(np.unique(cat_list), np.asarray(cat_list, np.int64))[0]
                if not np.array_equal(pos, np.arange(len(pos))):
                    precision, recall = precision[:, :, pos], recall[:, pos]
        self.eval = {
            "params": p,
            "counts": [n_t, len(rec_thrs), n_k, n_a],
            "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S"),
            "precision": precision,
            "recall": recall,
        }

    def _summarize(
        self,
        summary_type: str,
        iou_thr: float | None = None,
        area_rng: str = "all",
        freq_group_idx: int | None = None,
    ) -> Any:
        p = self.params
        aidx = [idx for idx, lbl in enumerate(p.area_rng_lbl) if lbl == area_rng]
        s = self.eval["precision"] if summary_type == "ap" else self.eval["recall"]
        if iou_thr is not None:
            s = s[np.where(iou_thr == np.asarray(p.iou_thrs))[0]]
        if summary_type == "ap":
            if freq_group_idx is not None:
                group = self.freq_groups[freq_group_idx]
                if not aidx or (group and max(group) >= s.shape[2]):  # lvis-api raises IndexError here
                    return -1
                s = s[:, :, group, aidx]
            else:
                s = s[:, :, :, aidx]
        else:
            s = s[:, :, aidx]
        valid = s[s > -1]
        return -1 if len(valid) == 0 else np.mean(valid)

    def summarize(self) -> None:
        """Compute lvis-api's 13 summary numbers into ``results``."""
        if not self.eval:
            raise RuntimeError("Please run accumulate() first.")
        m = self.params.max_dets
        r = self.results
        r["AP"] = self._summarize("ap")
        r["AP50"] = self._summarize("ap", iou_thr=0.50)
        r["AP75"] = self._summarize("ap", iou_thr=0.75)
        r["APs"] = self._summarize("ap", area_rng="small")
        r["APm"] = self._summarize("ap", area_rng="medium")
        r["APl"] = self._summarize("ap", area_rng="large")
        r["APr"] = self._summarize("ap", freq_group_idx=0)
        r["APc"] = self._summarize("ap", freq_group_idx=1)
        r["APf"] = self._summarize("ap", freq_group_idx=2)
        r[f"AR@{m}"] = self._summarize("ar")
        for area in ("small", "medium", "large"):
            r[f"AR{area[0]}@{m}"] = self._summarize("ar", area_rng=area)

    def run(self) -> None:
        """``evaluate()``, ``accumulate()``, ``summarize()``."""
        self.evaluate()
        self.accumulate()
        self.summarize()

    def print_results(self) -> None:
        """Print the summary lines as lvis-api prints them."""
        for line in _result_lines(self.results, self.params.iou_thrs, self.params.max_dets):
            print(line)

    def get_results(self) -> OrderedDict[str, Any]:
        """The summary numbers (empty, with a logged warning, before ``run()``)."""
        if not self.results:
            _logger.warning("results is empty. Call run().")
        return self.results


def _result_lines(results: Mapping[str, Any], iou_thrs: Any, max_dets: int) -> list[str]:
    lines = []
    for key, value in results.items():
        title, kind = ("Average Precision", "(AP)") if "AP" in key else ("Average Recall", "(AR)")
        if len(key) > 2 and key[2].isdigit():
            iou = f"{float(key[2:]) / 100:0.2f}"
        else:
            iou = f"{iou_thrs[0]:0.2f}:{iou_thrs[-1]:0.2f}"
        group = key[2] if len(key) > 2 and key[2] in "rcf" else "all"
        area = key[2] if len(key) > 2 and key[2] in "sml" else "all"
        lines.append(
            f" {title:<18} {kind} @[ IoU={iou:<9} | area={area:>6s} | maxDets={max_dets:>3d} "
            f"catIds={group:>3s}] = {value:0.3f}"
        )
    return lines


@dataclass(frozen=True)
class LvisEvalResult:
    """Result of :func:`evaluate_lvis`.

    Attributes
    ----------
    stats : dict of str to float
        lvis-api's 13 numbers: ``AP, AP50, AP75, APs, APm, APl, APr, APc, APf,
        AR@L, ARs@L, ARm@L, ARl@L`` with L = ``max_dets``; -1 where nothing has
        ground truth.
    per_class_ap : dict of int to float
        Category id -> AP over all IoU thresholds, area 'all'; -1.0 without ground truth.
    precision : ndarray of shape (T, R, K, A)
    recall : ndarray of shape (T, K, A)
    iou_thresholds, rec_thresholds : ndarray
    cat_ids : list of int
        Category of each K index.
    area_ranges : dict of str to (float, float)
    max_dets : int
        The per-image cap (negative: none).
    frequency_groups : dict of str to list of int
        ``'r'``, ``'c'``, ``'f'`` -> the category ids of each group.
    """

    stats: dict[str, float]
    per_class_ap: dict[int, float]
    precision: NDArray[np.float64]
    recall: NDArray[np.float64]
    iou_thresholds: NDArray[np.float64]
    rec_thresholds: NDArray[np.float64]
    cat_ids: list[int]
    area_ranges: dict[str, tuple[float, float]]
    max_dets: int
    frequency_groups: dict[str, list[int]]

    def summary(self) -> str:
        """The 13 lines lvis-api's ``print_results`` prints."""
        return "\n".join(_result_lines(self.stats, self.iou_thresholds, self.max_dets))


def evaluate_lvis(
    gt: Any,
    dt: Any,
    *,
    iou_type: str = "bbox",
    max_dets: int | None = None,
    iou_thresholds: ArrayLike | None = None,
    rec_thresholds: ArrayLike | None = None,
    area_ranges: Mapping[str, tuple[float, float]] | None = None,
    use_cats: bool = True,
    img_ids: Iterable[int] | None = None,
    cat_ids: Iterable[int] | None = None,
) -> LvisEvalResult:
    """Evaluate LVIS detections; the functional form of :class:`LVISEval`.

    Parameters
    ----------
    gt : LVIS, str, path-like or dict
    dt : LVISResults, str, path-like or list of dict
    iou_type : {'bbox'}
        'segm' raises ``NotImplementedError`` for now.
    max_dets : int, optional
        Per-image cap applied when loading ``dt`` (default 300, LVIS's official
        value; negative: no cap). For an ``LVISResults``, its own cap (giving
        another value is an error).
    iou_thresholds, rec_thresholds : array_like, optional
        Default ``np.linspace(.5, .95, 10)`` and ``np.linspace(0, 1, 101)``.
    area_ranges : mapping of str to (lo, hi), optional
        Default lvis-api's ``all`` / ``small`` / ``medium`` / ``large``.
    use_cats : bool, default True
        False: lvis-api's ``use_cats = 0`` (see :class:`Params`: only a category with id -1 counts).
    img_ids, cat_ids : iterable of int, optional
        Restrict the evaluation (default: every image / category of ``gt``).

    Returns
    -------
    LvisEvalResult

    Raises
    ------
    ValueError
        Malformed files or parameters.
    NotImplementedError
        ``iou_type='segm'``.

    Examples
    --------
    >>> gt = {"images": [{"id": 1, "neg_category_ids": [], "not_exhaustive_category_ids": []}],
    ...       "categories": [{"id": 1, "frequency": "c"}],
    ...       "annotations": [{"id": 1, "image_id": 1, "category_id": 1,
    ...                        "bbox": [0, 0, 10, 10], "area": 100}]}
    >>> res = evaluate_lvis(gt, [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 9], "score": 0.9}])
    >>> res.stats["AP"], res.stats["APc"], res.stats["AR@300"]
    (0.8999999999999999, 0.8999999999999999, 0.9)
    """
    _check_iou_type(iou_type)
    gt_obj = gt if isinstance(gt, LVIS) else LVIS(gt)
    if isinstance(dt, LVISResults):
        if max_dets is not None and int(max_dets) != dt.max_dets:
            raise ValueError(f"max_dets={max_dets} but dt was loaded with max_dets={dt.max_dets}")
        dt_obj = dt
    else:
        dt_obj = LVISResults(gt_obj, dt, 300 if max_dets is None else max_dets)
    ev = LVISEval(gt_obj, dt_obj, iou_type)
    p = ev.params
    p.max_dets = dt_obj.max_dets
    if iou_thresholds is not None:
        p.iou_thrs = np.asarray(iou_thresholds, dtype=np.float64).reshape(-1)
        if not np.isfinite(p.iou_thrs).all() or len(p.iou_thrs) == 0:
            raise ValueError(f"iou_thresholds must be finite numbers, got {iou_thresholds}")
    if rec_thresholds is not None:
        p.rec_thrs = np.asarray(rec_thresholds, dtype=np.float64).reshape(-1)
        if not np.isfinite(p.rec_thrs).all():
            raise ValueError(f"rec_thresholds must be finite numbers, got {rec_thresholds}")
    if area_ranges is not None:
        p.area_rng = [[float(lo), float(hi)] for lo, hi in area_ranges.values()]
        p.area_rng_lbl = list(area_ranges)
    p.use_cats = 1 if use_cats else 0
    if img_ids is not None:
        p.img_ids = list(img_ids)
    if cat_ids is not None:
        p.cat_ids = list(cat_ids)
    ev.run()
    prec = ev.eval["precision"]
    a_all = p.area_rng_lbl.index("all") if "all" in p.area_rng_lbl else None
    k_ids = [int(c) for c in p.cat_ids] if use_cats else [-1]
    per_class: dict[int, float] = {}
    for k, cat in enumerate(k_ids):
        s = prec[:, :, k, a_all] if a_all is not None else prec[:, :, k, :0]
        valid = s[s > -1]
        per_class[cat] = float(np.mean(valid)) if len(valid) else -1.0
    return LvisEvalResult(
        stats={k: float(v) for k, v in ev.results.items()},
        per_class_ap=per_class,
        precision=prec,
        recall=ev.eval["recall"],
        iou_thresholds=np.asarray(p.iou_thrs, dtype=np.float64),
        rec_thresholds=np.asarray(p.rec_thrs, dtype=np.float64),
        cat_ids=k_ids,
        area_ranges={
            lbl: (float(lo), float(hi)) for lbl, (lo, hi) in zip(p.area_rng_lbl, p.area_rng, strict=True)
        },
        max_dets=dt_obj.max_dets,
        frequency_groups={
            f: [int(p.cat_ids[k]) for k in ev.freq_groups[g]] for g, f in enumerate(_core.FREQUENCIES)
        },
    )
