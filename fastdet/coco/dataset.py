"""``COCO``: pycocotools' dataset class over columnar annotations, with lazy full parsing."""

from __future__ import annotations

import copy
import functools
import os
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fastdet._io import loads as _loads
from fastdet.coco import dropin as _dropin
from fastdet.coco import keypoints as _keypoints
from fastdet.coco.columns import (
    _bbox_column,
    _Columns,
    _columns_from_dicts,
    _float_column,
    _get_column,
    _id_column,
    _image_ids_of,
    _int_column,
)
from fastdet.coco.evaluation import _positions
from fastdet.coco.reading import PathLike, _read_annotations, _read_results, _Scan


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
    naming the file, the entry index and the field. Image and category ids are
    integers (exact up to int64's range) or strings (file names, say), as in
    pycocotools; string ids come back as given everywhere.

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
            raw, scan, dataset = _read_annotations(annotation_file)
            if scan is not None:  # plain COCO: columns now, Python objects only if asked for
                self._raw, self._scan, self._dataset = raw, scan, None
                if scan.cols is not None:
                    self._cols["gt"] = scan.cols
                self._say(f"Done (t={time.time() - tic:0.2f}s)")
                self.createIndex()
                return
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
                images = self._index.pop("images", None)  # ``imgs`` read from the text: keep its dicts
                if images is not None and isinstance(self._dataset, dict):
                    self._dataset["images"] = images
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
                self._index["imgs"] = {img["id"]: img for img in self._images()}
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

    def _images(self) -> list[Any]:
        """The ``images`` list; from its span of the text while ``dataset`` has not been parsed."""
        raw, scan = self._raw, self._scan  # read once: another thread may be parsing ``dataset``
        span = scan.images_span if scan is not None else None
        if self._dataset is None and self._res is None and raw is not None and span is not None:
            images = _loads(raw[span[0] : span[1]], self._source)
            if isinstance(images, list):
                self._index["images"] = images  # becomes ``dataset["images"]`` when it is parsed
                return images
        return self.dataset.get("images", [])

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

    def _scanned_ground_truth(self) -> tuple[bytes, _Scan] | None:
        """The file's text and its scan while ``dataset`` has not been parsed, else None."""
        if self._dataset is None and self._res is None and self._raw is not None and self._scan is not None:
            return self._raw, self._scan
        return None

    def _result_columns(self) -> _Columns | None:
        """A ``loadRes`` object's columns while its dicts have not been built, else None."""
        if self._res is not None and self._dataset is None:
            return self._res.cols
        return None

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
        """Draw annotations on matplotlib's current axes (pycocotools' ``showAnns``; needs matplotlib).

        Polygons, RLE masks, keypoints with the category's skeleton and, with
        ``draw_bbox``, boxes; caption annotations are printed.
        """
        _dropin.show_anns(self, anns, draw_bbox)

    def annToRLE(self, ann: dict[str, Any]) -> Any:
        """The annotation's segmentation as a compressed RLE (polygon parts merged; :mod:`fastdet.mask`)."""
        return _dropin.ann_to_rle(self, ann)

    def annToMask(self, ann: dict[str, Any]) -> NDArray[np.uint8]:
        """The annotation's segmentation as an ``(height, width)`` uint8 0/1 mask."""
        from fastdet import mask

        return mask.decode(self.annToRLE(ann))

    def download(self, tarDir: PathLike | None = None, imgIds: Any = (), *, timeout: float = 30.0) -> None:
        """Download images (all, or ``imgIds``) from their ``coco_url`` into ``tarDir``.

        Existing files are kept. Raises ``OSError`` naming the URL when it cannot be
        fetched (no network: fastdet does not retry), ``ValueError`` without ``tarDir``
        (pycocotools prints a line and returns -1). ``timeout`` is per request, in seconds.
        """
        _dropin.download(self, tarDir, imgIds, timeout)

    def loadNumpyAnnotations(self, data: ArrayLike) -> list[dict[str, Any]]:
        """Convert an ``(N, 7)`` array ``[image_id, x, y, w, h, score, category_id]`` to result dicts."""
        arr = _results_array(data, "data")
        own = _narrow_float_rows(data)
        return [
            {"image_id": int(r[0]), "bbox": [r[1], r[2], r[3], r[4]], "score": r[5], "category_id": int(r[6])}
            for r in (arr if own is None else own)
        ]

    def loadRes(
        self, resFile: PathLike | list[dict[str, Any]] | np.ndarray, *, verbose: bool | None = None
    ) -> COCO:
        """Load detection results: a json file, a list of dicts, or an ``(N, 7)`` array.

        Parameters
        ----------
        resFile : str, path-like, list of dict or ndarray of shape (N, 7)
            Results ``{"image_id", "category_id", "bbox": [x, y, w, h], "score"}``
            (or, without ``bbox``, ``"keypoints": [x1, y1, v1, ...]``: keypoint
            results, see :mod:`fastdet.coco.keypoints`); array rows are
            ``[image_id, x, y, w, h, score, category_id]``.
        verbose : bool, optional
            Print pycocotools' progress lines (default: as this object does); also the
            result object's setting.

        Returns
        -------
        COCO
            The result object: ``area = w * h``, ``id = 1..N`` and ``iscrowd = 0``
            for every result (keypoint results: ``bbox`` and ``area`` of the
            keypoints' extent, no ``iscrowd``; pycocotools' semantics); images and
            categories are those of this object.

        Raises
        ------
        ValueError
            Malformed input (not a list, a missing field, a bbox that is not 4
            finite numbers, a NaN score, an id that is neither an integer nor a
            string, an integer id beyond int64, keypoints that are not a positive
            multiple of 3 finite numbers) or a result on an
            image that is not in this dataset; the message names the file and
            the entry.
        NotImplementedError
            Caption results.

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
        res_obj = COCO(verbose=self._verbose if verbose is None else verbose)
        res_obj._say("Loading and preparing results...")
        tic = time.time()
        box_area: NDArray[np.float64] | None = None
        if isinstance(resFile, (np.ndarray, np.generic)):
            where = "resFile array"
            arr = _results_array(resFile, "resFile")
            image_id = _int_column(arr[:, 0].tolist(), "image_id", where)
            category_id = _int_column(arr[:, 6].tolist(), "category_id", where)
            image_keys = category_keys = None
            bbox = np.ascontiguousarray(arr[:, 1:5])
            score = np.ascontiguousarray(arr[:, 5])
            anns: list[Any] | None = None
            array_rows: np.ndarray | None = arr
            own = _narrow_float_rows(resFile)
            if own is not None:  # a float32 w * h rounds to float32, which can move a result across
                array_rows = own  # an area range's edge (32 * 32); the dicts hold those scalars too
                box_area = (own[:, 3] * own[:, 4]).astype(np.float64)
            segm = False
        else:
            raw = None
            if isinstance(resFile, (str, os.PathLike)):
                where = os.fspath(resFile)
                raw, scanned, anns = _read_results(
                    resFile, functools.partial(_keypoints.scan_results, where=where)
                )
                if isinstance(scanned, tuple):  # plain keypoint results
                    return self._keypoint_results(None, where, tic, res_obj, scanned, raw)
                if scanned is not None:  # plain bbox results: no Python objects at all
                    _check_images(scanned.image_id, scanned.image_keys, _image_ids_of(self), where)
                    return self._result_object(scanned, None, None, raw, where, tic, res_obj)
            else:
                where = "results list"
                anns = resFile
            if not isinstance(anns, list):
                raise ValueError(f"{where}: results must be a list of objects, got {type(anns).__name__}")
            array_rows = None
            segm = False
            if anns:
                first = anns[0]
                if not isinstance(first, dict):
                    raise ValueError(f"{where}: entry 0 must be an object (dict), got {type(first).__name__}")
                if "bbox" not in first or (isinstance(first["bbox"], (list, tuple)) and not first["bbox"]):
                    if "keypoints" in first and "caption" not in first and "segmentation" not in first:
                        return self._keypoint_results(anns, where, tic, res_obj)
                    segm = "segmentation" in first and "caption" not in first
                    kinds = [k for k in ("caption",) if k in first]
                    if kinds and not segm:
                        raise NotImplementedError(
                            f"{where}: {kinds[0]} results are not supported (bbox, segm, keypoints only)"
                        )
                    if not segm:
                        raise ValueError(f"{where}: entry 0 has no 'bbox' field")
            image_id, image_keys = _id_column(_get_column(anns, "image_id", where), "image_id", where)
            category_id, category_keys = _id_column(
                _get_column(anns, "category_id", where), "category_id", where
            )
            if segm:  # pycocotools' segmentation branch: area and box of the mask
                from fastdet.coco.segm import result_columns

                _check_images(image_id, image_keys, _image_ids_of(self), where)
                mask_area, bbox, has_bbox = result_columns(anns, self.imgs, where)
                if has_bbox.any():
                    rows = np.flatnonzero(has_bbox)
                    bbox[rows] = _bbox_column([anns[r]["bbox"] for r in rows.tolist()], where)
            else:
                boxes = _get_column(anns, "bbox", where)
                bbox = _bbox_column(boxes, where)
                box_area = _scalar_areas(boxes)
            score = _float_column(_get_column(anns, "score", where), "score", where, allow_inf=True)
        _check_images(image_id, image_keys, _image_ids_of(self), where)
        n = len(image_id)
        cols = _Columns(
            ids=np.arange(1, n + 1, dtype=np.int64),
            image_id=image_id,
            category_id=category_id,
            bbox=bbox,
            area=mask_area if segm else box_area if box_area is not None else bbox[:, 2] * bbox[:, 3],
            score=score,
            image_keys=image_keys,
            category_keys=category_keys,
        )
        res = self._result_object(cols, anns, array_rows, None, where, tic, res_obj)
        if segm:
            assert res._res is not None
            res._res.segm = True
        return res

    def _keypoint_results(
        self, anns: list[Any] | None, where: str, tic: float, res: COCO, scanned: Any = None, raw: Any = None
    ) -> COCO:
        """pycocotools' ``loadRes`` for keypoint results (no ``bbox``); see :mod:`fastdet.coco.keypoints`."""
        if scanned is None:
            assert anns is not None
            scanned = _keypoints.result_columns(anns, where)
        cols, kp = scanned
        _check_images(cols.image_id, cols.image_keys, _image_ids_of(self), where)
        out = self._result_object(cols, anns, None, raw, where, tic, res)
        assert out._res is not None
        out._res.kind = "keypoints"
        out._res.keypoints = kp
        return out

    def _result_object(
        self,
        cols: _Columns,
        anns: list[Any] | None,
        rows: np.ndarray | None,
        raw: bytes | None,
        where: str,
        tic: float,
        res: COCO,
    ) -> COCO:
        """Fill ``res`` (an empty COCO with the wanted verbosity) with the result columns."""
        res._source = where
        res._dataset = None
        res._res = _ResultColumns(cols, anns, rows, raw, self)
        res._say(f"DONE (t={time.time() - tic:0.2f}s)")
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


def _check_images(image_id: NDArray[np.int64], keys: list[Any] | None, known: list[Any], where: str) -> None:
    """Every result is on an image of the ground truth (``keys``: the ids behind coded ``image_id``)."""
    if not len(image_id):
        return
    if keys is None:
        # no ``dtype=``: a string id such as "2299" must stay a string, which pycocotools' set
        # comparison never equates with the integer 2299
        known_arr = np.asarray(known) if len(known) else np.empty(0, np.int64)  # a list or an array
        if known_arr.dtype.kind in "iub":
            known_int = np.unique(known_arr.astype(np.int64, copy=False))
        else:  # strings, floats, ids beyond int64 or a mix: those Python's ``==`` equates with an int64
            known_int = np.unique(np.array([int(k) for k in known if _integral_id(k)], np.int64))
        found = _positions(known_int, image_id)[1]
    else:
        known_set = set(known)
        found = np.array([k in known_set for k in keys], np.bool_)[image_id]
    if not found.all():
        idx = int(np.flatnonzero(~found)[0])
        shown = int(image_id[idx]) if keys is None else repr(keys[image_id[idx]])
        raise ValueError(
            f"{where}: entry {idx} is on image_id {shown}, which is not in the ground truth "
            f"({int((~found).sum())} results in all; pycocotools: "
            "'Results do not correspond to current coco set')"
        )


def _narrow_float_rows(data: Any) -> NDArray[Any] | None:
    """A float16/float32 ``(N, 7)`` results array as it is (C order), else None: pycocotools
    computes with the array's own scalars (its dicts hold them, and the area is their product)."""
    arr = np.asarray(data)
    return np.array(arr, order="C") if arr.dtype.kind == "f" and arr.dtype.itemsize < 8 else None


def _scalar_areas(boxes: list[Any]) -> NDArray[np.float64] | None:
    """pycocotools' result area ``bb[2] * bb[3]`` entry by entry, when the first box's w or h is a
    NumPy scalar other than float64 (e.g. np.float32 from a detector's arrays: the product rounds
    to float32, which can move a result across an area range's edge), else None: Python numbers,
    whose product is the float64 one. Decided from the first entry, as a list is built uniformly."""
    first = boxes[0] if boxes else None
    if not isinstance(first, (list, tuple, np.ndarray)) or len(first) != 4:
        return None
    if not any(isinstance(v, np.generic) and not isinstance(v, np.float64) for v in first[2:]):
        return None
    with np.errstate(over="ignore"):  # an int32 product wraps there as it does in pycocotools
        return np.array([b[2] * b[3] for b in boxes], np.float64)


def _integral_id(k: Any) -> bool:
    """Whether the image id ``k`` equals (as Python compares) some int64 value."""
    if isinstance(k, (int, np.integer)):
        return bool(-(2**63) <= k < 2**63)
    return (
        isinstance(k, (float, np.floating))
        and bool(np.isfinite(k))
        and float(k).is_integer()
        and abs(k) < 2.0**63
    )


@dataclass
class _ResultColumns:
    """A loadRes result: validated columns plus what is needed to build pycocotools' dicts lazily."""

    cols: _Columns
    anns: list[Any] | None
    rows: np.ndarray | None
    raw: bytes | None
    gt: COCO
    segm: bool = False  # pycocotools' segmentation branch: area (and a missing bbox) from the mask
    kind: str = "bbox"  # pycocotools' loadRes branch: "bbox" or "keypoints"
    keypoints: Any = None  # keypoints._Keypoints of keypoint results

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
        if self.segm:
            for i, ann in enumerate(source):
                ann["area"] = float(self.cols.area[i])
                if "bbox" not in ann:
                    ann["bbox"] = self.cols.bbox[i].tolist()
                ann["id"] = i + 1
                ann["iscrowd"] = 0
            out["annotations"] = source
            return out
        if self.kind == "keypoints":
            from fastdet.coco.keypoints import materialize_results

            materialize_results(source)
            out["annotations"] = source
            return out
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
