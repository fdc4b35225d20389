"""pycocotools' wider surface in fastdet.coco (fastdet/coco/dropin.py) against pycocotools itself.

Per-image methods (``_prepare``, ``computeIoU``, ``computeOks``, ``evaluateImg``), the slow
path for subclasses that override them, ``accumulate`` over ``evalImgs``, ``Params``'
presets, ``COCO.annToRLE`` / ``annToMask`` / ``showAnns`` / ``download`` and
``install_as_pycocotools``. Every comparison is bit-equal (``np.array_equal``, same dtype).
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import st_polygons, st_runs
from test_coco import CASES, apply, coco_pairs

from fastdet.coco import COCO, COCOeval, Params, install_as_pycocotools, uninstall_pycocotools

pc_coco = pytest.importorskip("pycocotools.coco")
pc_eval = pytest.importorskip("pycocotools.cocoeval")
pc_mask = pytest.importorskip("pycocotools.mask")

ROOT = Path(__file__).resolve().parent.parent
FAKE_GT, FAKE_DT = CASES[0][1:]


def quiet(fn: Any, *args: Any, **kwargs: Any) -> Any:
    with contextlib.redirect_stdout(io.StringIO()):
        return fn(*args, **kwargs)


def coco_from(cls: Any, dataset: dict[str, Any]) -> Any:
    """A COCO object of ``cls`` over a deep copy of ``dataset`` (as detectron2 builds one)."""
    obj = quiet(cls)
    obj.dataset = copy.deepcopy(dataset)
    quiet(obj.createIndex)
    return obj


class PassThrough(COCOeval):
    """Overrides ``evaluateImg`` without changing it: forces the slow path."""

    def evaluateImg(self, imgId: Any, catId: Any, aRng: Any, maxDet: int) -> Any:
        return super().evaluateImg(imgId, catId, aRng, maxDet)


def assert_same_value(mine: Any, theirs: Any, what: str) -> None:
    if isinstance(theirs, np.ndarray):
        assert isinstance(mine, np.ndarray), what
        assert mine.dtype == theirs.dtype, (what, mine.dtype, theirs.dtype)
        np.testing.assert_array_equal(mine, theirs, err_msg=what)
    else:
        assert mine == theirs, what


def filled(cells: Any) -> dict[Any, Any]:
    """The non-empty cells of ``_gts`` / ``_dts`` (look-ups add empty ones to the defaultdict)."""
    return {key: value for key, value in cells.items() if value}


def assert_records_equal(mine: Any, theirs: Any) -> None:
    assert len(mine) == len(theirs)
    for n, (a, b) in enumerate(zip(mine, theirs, strict=True)):
        assert (a is None) == (b is None), n
        if b is None:
            continue
        assert list(a) == list(b)
        for key in b:
            assert_same_value(a[key], b[key], f"evalImgs[{n}][{key!r}]")


def assert_ious_equal(mine: Any, theirs: Any) -> None:
    assert list(mine) == list(theirs)
    for key, value in theirs.items():
        assert_same_value(mine[key], value, f"ious[{key}]")


def assert_eval_equal(mine: Any, theirs: Any) -> None:
    for key in ("precision", "recall", "scores"):
        assert_same_value(mine.eval[key], theirs.eval[key], key)
    assert mine.eval["counts"] == theirs.eval["counts"]


def run(E: Any, setup: Any = None, summarize: bool = True) -> Any:
    if setup is not None:
        setup(E.params)
    quiet(E.evaluate)
    quiet(E.accumulate)
    if summarize and len(E.params.maxDets) >= 3:
        quiet(E.summarize)
    return E


@pytest.fixture(scope="module")
def fake100() -> tuple[Any, Any, Any, Any]:
    """fastdet and pycocotools ground truth and bbox results of cocoapi's 100-image set."""
    gt, dt = (str(ROOT / "data" / p) for p in (FAKE_GT, FAKE_DT))
    pg = quiet(pc_coco.COCO, gt)
    fg = COCO(gt, verbose=False)
    return fg, fg.loadRes(dt, verbose=False), pg, quiet(pg.loadRes, dt)


# ----------------------------------------------------------------------------- the slow path
def test_slow_path_equals_pycocotools_on_fake100(fake100: Any) -> None:
    fg, fd, pg, pd = fake100
    oracle = run(pc_eval.COCOeval(pg, pd, "bbox"))
    fast = run(COCOeval(fg, fd, "bbox", verbose=False))
    slow = run(PassThrough(fg, fd, "bbox", verbose=False))
    assert slow._overrides() == ["evaluateImg"]
    assert fast._overrides() == []
    assert slow._ev is None  # it really took the Python loop
    assert_eval_equal(slow, oracle)
    np.testing.assert_array_equal(slow.stats, oracle.stats)
    np.testing.assert_array_equal(fast.stats, oracle.stats)
    assert_ious_equal(slow.ious, oracle.ious)
    assert_records_equal(slow.evalImgs, oracle.evalImgs)
    assert slow._paramsEval.imgIds == oracle._paramsEval.imgIds


def test_per_image_methods_after_a_fast_evaluate(fake100: Any) -> None:
    """``_gts``/``_dts`` (built on first access), computeIoU and evaluateImg on every cell."""
    fg, fd, pg, pd = fake100
    oracle = pc_eval.COCOeval(pg, pd, "bbox")
    quiet(oracle.evaluate)
    fast = COCOeval(fg, fd, "bbox", verbose=False)
    fast.evaluate()
    assert filled(fast._gts) == filled(oracle._gts)
    assert filled(fast._dts) == filled(oracle._dts)
    p = oracle.params
    for img in p.imgIds:
        for cat in p.catIds:
            assert_same_value(fast.computeIoU(img, cat), oracle.computeIoU(img, cat), f"computeIoU{img, cat}")
            for rng in p.areaRng:
                mine = fast.evaluateImg(img, cat, rng, p.maxDets[-1])
                assert_records_equal([mine], [oracle.evaluateImg(img, cat, rng, p.maxDets[-1])])


def test_prepare_sets_pycocotools_flags() -> None:
    gt = {
        "images": [{"id": 1}, {"id": 2}],
        "categories": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 4, 4], "area": 16, "iscrowd": 1},
            {"id": 2, "image_id": 1, "category_id": 2, "bbox": [0, 0, 4, 4], "area": 16, "ignore": 1},
            {"id": 3, "image_id": 2, "category_id": 1, "bbox": [1, 0, 4, 4], "area": 16, "iscrowd": 0,
             "ignore": 1},
        ],
    }  # fmt: skip
    dt = [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 4, 3], "score": 0.5}]
    fg, pg = coco_from(COCO, gt), coco_from(pc_coco.COCO, gt)
    mine = COCOeval(fg, fg.loadRes(copy.deepcopy(dt)), "bbox", verbose=False)
    theirs = pc_eval.COCOeval(pg, quiet(pg.loadRes, copy.deepcopy(dt)), "bbox")
    mine.evalImgs = [None]
    mine._prepare()
    theirs._prepare()
    assert filled(mine._gts) == filled(theirs._gts)
    assert filled(mine._dts) == filled(theirs._dts)
    assert [g["ignore"] for g in fg.dataset["annotations"]] == [1, False, 0]  # pycocotools' values
    assert not mine.evalImgs
    assert mine.eval == {}


def test_accumulate_reads_assigned_eval_imgs(fake100: Any) -> None:
    """evalImgs edited after a fast evaluate(): accumulate() uses them, as pycocotools does."""
    fg, fd, pg, pd = fake100
    oracle = pc_eval.COCOeval(pg, pd, "bbox")
    quiet(oracle.evaluate)
    fast = COCOeval(fg, fd, "bbox", verbose=False)
    fast.evaluate()
    records = [copy.deepcopy(e) for e in oracle.evalImgs]
    for e in records[::3]:
        if e is not None:
            e["dtScores"] = [s * 0.5 for s in e["dtScores"]]  # an outside edit
            e["dtMatches"][:, ::2] = 0
    fast.evalImgs = records
    oracle.evalImgs = copy.deepcopy(records)
    quiet(oracle.accumulate)
    fast.accumulate()
    assert_eval_equal(fast, oracle)


def test_accumulate_without_evaluate_raises() -> None:
    gt = COCO(
        {"images": [{"id": 1}], "categories": [{"id": 1, "name": "a"}], "annotations": []}, verbose=False
    )
    with pytest.raises(RuntimeError, match="evaluate"):
        COCOeval(gt, gt, verbose=False).accumulate()


# A box convention that differs from COCO's: legacy "+1 pixel" widths (inclusive pixel indices).
def plus_one_iou(dts: list[Any], gts: list[Any]) -> Any:
    if not dts or not gts:
        return []
    d = np.array([x["bbox"] for x in dts], np.float64)
    g = np.array([x["bbox"] for x in gts], np.float64)
    d[:, 2:] += d[:, :2] + 1
    g[:, 2:] += g[:, :2] + 1
    lt = np.maximum(d[:, None, :2], g[None, :, :2])
    rb = np.minimum(d[:, None, 2:], g[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=2)
    area_d = np.prod(d[:, 2:] - d[:, :2], axis=1)
    area_g = np.prod(g[:, 2:] - g[:, :2], axis=1)
    crowd = np.array([bool(x["iscrowd"]) for x in gts])
    union = np.where(crowd[None, :], area_d[:, None], area_d[:, None] + area_g[None, :] - inter)
    return inter / union


class PlusOneMixin:
    def computeIoU(self: Any, imgId: Any, catId: Any) -> Any:
        p = self.params
        if p.useCats:
            gts, dts = self._gts[imgId, catId], self._dts[imgId, catId]
        else:
            gts = [g for c in p.catIds for g in self._gts[imgId, c]]
            dts = [d for c in p.catIds for d in self._dts[imgId, c]]
        order = np.argsort([-d["score"] for d in dts], kind="mergesort")[: p.maxDets[-1]]
        return plus_one_iou([dts[i] for i in order], gts)


class FastPlusOne(PlusOneMixin, COCOeval):
    pass


class PycocoPlusOne(PlusOneMixin, pc_eval.COCOeval):
    pass


def test_subclass_with_its_own_iou_keeps_its_numbers(fake100: Any) -> None:
    fg, fd, pg, pd = fake100
    oracle = run(PycocoPlusOne(pg, pd, "bbox"))
    mine = run(FastPlusOne(fg, fd, "bbox", verbose=False))
    plain = run(COCOeval(fg, fd, "bbox", verbose=False))
    assert mine._overrides() == ["computeIoU"]
    assert not np.array_equal(plain.stats, mine.stats)  # the override changed the numbers...
    np.testing.assert_array_equal(mine.stats, oracle.stats)  # ...to the subclass's own
    assert_eval_equal(mine, oracle)
    assert_records_equal(mine.evalImgs, oracle.evalImgs)


class SkipCategory:
    """computeIoU gives ``[]`` for category 1: pycocotools then matches nothing there."""

    def computeIoU(self: Any, imgId: Any, catId: Any) -> Any:
        return [] if catId == 1 else super().computeIoU(imgId, catId)  # type: ignore[misc]


class FastSkip(SkipCategory, COCOeval):
    pass


class PycocoSkip(SkipCategory, pc_eval.COCOeval):
    pass


class AllRows:
    """computeIoU over every detection of the cell (not only the best maxDets[-1]): evaluateImg reads the top rows."""

    def computeIoU(self: Any, imgId: Any, catId: Any) -> Any:
        gts, dts = self._gts[imgId, catId], self._dts[imgId, catId]
        order = np.argsort([-d["score"] for d in dts], kind="mergesort")
        return plus_one_iou([dts[i] for i in order], gts)


class FastAllRows(AllRows, COCOeval):
    pass


class PycocoAllRows(AllRows, pc_eval.COCOeval):
    pass


def few_dets(p: Any) -> None:
    p.maxDets = [1, 2, 3]


@pytest.mark.parametrize(
    ("mine_cls", "their_cls", "setup", "kernels"),
    [(FastPlusOne, PycocoPlusOne, None, True), (FastAllRows, PycocoAllRows, few_dets, True),
     (FastSkip, PycocoSkip, None, False)],
    ids=["plus-one", "all-rows", "empty-block"],
)  # fmt: skip
def test_compute_iou_override_kernels_or_loop(
    fake100: Any, mine_cls: Any, their_cls: Any, setup: Any, kernels: bool
) -> None:
    """A bbox computeIoU override: its blocks go to the matching kernels, or to the loop when they cannot."""
    fg, fd, pg, pd = fake100
    oracle = run(their_cls(pg, pd, "bbox"), setup)
    mine = run(mine_cls(fg, fd, "bbox", verbose=False), setup)
    assert (mine._ev is not None) == kernels
    assert_eval_equal(mine, oracle)
    np.testing.assert_array_equal(mine.stats, oracle.stats)
    assert_ious_equal(mine.ious, oracle.ious)
    assert_records_equal(mine.evalImgs, oracle.evalImgs)


class DropLowScores:
    def evaluateImg(self: Any, imgId: Any, catId: Any, aRng: Any, maxDet: int) -> Any:
        rec = super().evaluateImg(imgId, catId, aRng, maxDet)  # type: ignore[misc]
        if rec is not None:
            keep = np.array([s >= 0.3 for s in rec["dtScores"]], bool).reshape(-1)
            rec = dict(rec, dtScores=[s for s, k in zip(rec["dtScores"], keep, strict=True) if k])
            rec["dtIds"] = [i for i, k in zip(rec["dtIds"], keep, strict=True) if k]
            for key in ("dtMatches", "dtIgnore"):
                rec[key] = rec[key][:, keep]
        return rec


class FastDrop(DropLowScores, COCOeval):
    pass


class PycocoDrop(DropLowScores, pc_eval.COCOeval):
    pass


def test_subclass_overriding_evaluate_img(fake100: Any) -> None:
    fg, fd, pg, pd = fake100
    oracle = run(PycocoDrop(pg, pd, "bbox"))
    mine = run(FastDrop(fg, fd, "bbox", verbose=False))
    assert_eval_equal(mine, oracle)
    np.testing.assert_array_equal(mine.stats, oracle.stats)


def test_instance_override_takes_the_slow_path(fake100: Any) -> None:
    fg, fd, pg, pd = fake100
    oracle = run(PycocoPlusOne(pg, pd, "bbox"))
    mine = COCOeval(fg, fd, "bbox", verbose=False)
    mine.computeIoU = lambda i, c: PlusOneMixin.computeIoU(mine, i, c)  # type: ignore[method-assign]
    run(mine)
    np.testing.assert_array_equal(mine.stats, oracle.stats)


def test_slow_path_prints_pycocotools_lines(fake100: Any) -> None:
    fg, fd, pg, pd = fake100
    out_p, out_f = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out_p):
        E = PycocoPlusOne(pg, pd, "bbox")
        E.evaluate()
        E.accumulate()
    with contextlib.redirect_stdout(out_f):
        F = FastPlusOne(fg, fd, "bbox")
        F.evaluate()
        F.accumulate()
    strip = [line.split("(t=")[0] for line in out_p.getvalue().splitlines()]
    assert [line.split("(t=")[0] for line in out_f.getvalue().splitlines()] == strip


class IouPassThrough(COCOeval):
    """Overrides ``computeIoU`` without changing it: its IoUs go to the matching kernels."""

    def computeIoU(self, imgId: Any, catId: Any) -> Any:
        return super().computeIoU(imgId, catId)


class OwnEvaluate:
    """An evaluate() of its own (as custom evaluators write them) built on the per-image methods."""

    def evaluate(self: Any) -> None:
        p = self.params
        p.imgIds = list(np.unique(p.imgIds))
        p.catIds = list(np.unique(p.catIds))
        p.maxDets = sorted(p.maxDets)
        self._prepare()
        self.ious = {(i, c): self.computeIoU(i, c) for i in p.imgIds for c in p.catIds}
        self.evalImgs = [
            self.evaluateImg(i, c, a, p.maxDets[-1]) for c in p.catIds for a in p.areaRng for i in p.imgIds
        ]
        self._paramsEval = copy.deepcopy(p)


class FastOwn(OwnEvaluate, COCOeval):
    pass


class PycocoOwn(OwnEvaluate, pc_eval.COCOeval):
    pass


def test_subclass_with_its_own_evaluate(fake100: Any) -> None:
    """accumulate() reads the evalImgs such an evaluate() assigns."""
    fg, fd, pg, pd = fake100
    oracle = run(PycocoOwn(pg, pd, "bbox"))
    mine = run(FastOwn(fg, fd, "bbox", verbose=False))
    assert mine._ev is None
    assert_eval_equal(mine, oracle)
    np.testing.assert_array_equal(mine.stats, oracle.stats)


@settings(deadline=None, max_examples=50)
@given(case=coco_pairs(), cls=st.sampled_from([PassThrough, IouPassThrough]), subset=st.data())
def test_hypothesis_slow_path_equals_pycocotools(case: Any, cls: Any, subset: Any) -> None:
    """Loop (evaluateImg override) and kernels (computeIoU override), with test_coco's edge cases."""
    gt, results, params = case
    if not results:  # pycocotools' loadRes cannot take an empty list
        results = [
            {"image_id": 1, "category_id": gt["categories"][0]["id"], "bbox": [0, 0, 5, 5], "score": 0.4}
        ]
    if subset.draw(st.booleans()):  # id subsets, unknown images and (without categories) repeated catIds
        img_ids = [i["id"] for i in gt["images"]]
        cats = [c["id"] for c in gt["categories"]]
        params["imgIds"] = subset.draw(st.lists(st.sampled_from([*img_ids, 99]), min_size=1, max_size=5))
        params["catIds"] = subset.draw(st.lists(st.sampled_from(cats), min_size=1, max_size=4))
    pg, fg = coco_from(pc_coco.COCO, gt), coco_from(COCO, gt)
    oracle = run(pc_eval.COCOeval(pg, quiet(pg.loadRes, copy.deepcopy(results)), "bbox"), apply(params))
    mine = run(cls(fg, fg.loadRes(copy.deepcopy(results)), "bbox", verbose=False), apply(params))
    assert (mine._ev is not None) == (cls is IouPassThrough)  # the kernels match the subclass's IoUs
    assert_eval_equal(mine, oracle)
    assert_ious_equal(mine.ious, oracle.ious)
    assert_records_equal(mine.evalImgs, oracle.evalImgs)
    if len(oracle.params.maxDets) >= 3:
        np.testing.assert_array_equal(mine.stats, oracle.stats)


# ----------------------------------------------------------------------------- keypoints (OKS)
@st.composite
def keypoint_sets(draw: Any) -> tuple[dict[str, Any], dict[str, Any], np.ndarray | None, int]:
    """Ground truth (all visibility flags, zero-keypoint and crowd regions) and results as datasets."""
    k = draw(st.sampled_from([17, 17, 4]))
    sigmas = None
    if k != 17 or draw(st.booleans()):
        sigmas = np.array(
            draw(st.lists(st.sampled_from([0.025, 0.05, 0.079, 0.107, 0.5]), min_size=k, max_size=k))
        )
    coord = st.integers(0, 60).map(float)
    area = st.sampled_from([0.0, 40.0, 900.0, 1500.0, 9300.0, 12000.0])
    images = [{"id": i, "height": 64, "width": 64} for i in range(1, draw(st.integers(1, 3)) + 1)]
    cats = [{"id": 1, "name": "person", "skeleton": [[1, 2]]}, {"id": 2, "name": "other", "skeleton": []}]
    gts: list[dict[str, Any]] = []
    for img in images:
        for _ in range(draw(st.integers(0, 4))):
            flags = draw(st.lists(st.sampled_from([0, 0, 1, 2]), min_size=k, max_size=k))
            kps: list[float] = []
            for v in flags:
                kps += [draw(coord), draw(coord), v] if v else [0, 0, 0]
            n_kp = sum(v > 0 for v in flags)
            gts.append({
                "id": len(gts) + 1, "image_id": img["id"], "category_id": draw(st.sampled_from([1, 1, 2])),
                "keypoints": kps, "num_keypoints": n_kp if draw(st.integers(0, 5)) else 0,
                "bbox": [draw(coord), draw(coord), draw(coord), draw(coord)], "area": draw(area),
                "iscrowd": int(draw(st.integers(0, 6)) == 0),
            })  # fmt: skip
    dts: list[dict[str, Any]] = []
    for img in images:
        near = [g for g in gts if g["image_id"] == img["id"]]
        for _ in range(draw(st.integers(0, 5))):
            if near and draw(st.booleans()):
                base = draw(st.sampled_from(near))["keypoints"]
                jitter = st.sampled_from([0.0, 0.5, 1.0, 3.0, -2.25])
                kps = [base[i] + (draw(jitter) if i % 3 != 2 else 0) for i in range(3 * k)]
            else:
                kps = [c for _ in range(k) for c in (draw(coord) + 0.5, draw(coord), 1)]
            dts.append({
                "id": len(dts) + 1, "image_id": img["id"], "category_id": draw(st.sampled_from([1, 1, 2])),
                "keypoints": kps, "score": draw(st.sampled_from([0.2, 0.5, 0.5, 0.9])),
                "bbox": [0.0, 0.0, 10.0, 10.0], "area": draw(area), "iscrowd": 0,
            })  # fmt: skip
    gt = {"images": images, "categories": cats, "annotations": gts}
    dt = {"images": images, "categories": cats, "annotations": dts}
    return gt, dt, sigmas, draw(st.sampled_from([1, 1, 0]))


def keypoint_pair(case: Any) -> tuple[Any, Any]:
    """pycocotools' keypoint evaluator and fastdet's slow-path one over the same data."""
    gt, dt, sigmas, use_cats = case
    theirs = pc_eval.COCOeval(coco_from(pc_coco.COCO, gt), coco_from(pc_coco.COCO, dt), "keypoints")
    mine = PassThrough(coco_from(COCO, gt), coco_from(COCO, dt), "bbox", verbose=False)
    mine.params = Params("keypoints")  # COCOeval(..., "keypoints") itself belongs to the keypoints work
    mine.params.imgIds, mine.params.catIds = list(theirs.params.imgIds), list(theirs.params.catIds)
    for E in (mine, theirs):
        E.params.useCats = use_cats
        if sigmas is not None:
            E.params.kpt_oks_sigmas = sigmas.copy()
    return mine, theirs


@settings(deadline=None, max_examples=60)
@given(case=keypoint_sets())
def test_hypothesis_compute_oks_and_keypoint_records(case: Any) -> None:
    mine, theirs = keypoint_pair(case)
    mine._prepare()
    theirs._prepare()
    assert filled(mine._gts) == filled(theirs._gts)  # the ignore flags with num_keypoints == 0
    for img in theirs.params.imgIds:
        for cat in theirs.params.catIds:
            assert_same_value(mine.computeOks(img, cat), theirs.computeOks(img, cat), f"computeOks{img, cat}")
    run(mine, summarize=False)
    quiet(theirs.evaluate)
    quiet(theirs.accumulate)
    assert_ious_equal(mine.ious, theirs.ious)
    assert_records_equal(mine.evalImgs, theirs.evalImgs)
    assert_eval_equal(mine, theirs)


# ----------------------------------------------------------------------------- segm
@st.composite
def segm_sets(draw: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Images of different sizes; polygons (several parts), uncompressed and compressed RLEs, crowd RLEs."""
    images = [
        {"id": i, "height": draw(st.integers(1, 12)), "width": draw(st.integers(1, 12))}
        for i in range(1, draw(st.integers(1, 3)) + 1)
    ]
    cats = [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]

    def segmentation(img: dict[str, Any], kinds: list[str]) -> Any:
        h, w = img["height"], img["width"]
        kind = draw(st.sampled_from(kinds))
        if kind == "polygon":
            return draw(st_polygons(h, w))
        runs = draw(st_runs(h, w))
        if kind == "rle":
            return {"size": [h, w], "counts": runs}
        rle = pc_mask.frPyObjects({"size": [h, w], "counts": runs}, h, w)
        return {"size": [h, w], "counts": rle["counts"].decode()}  # compressed, as json stores it

    area = st.sampled_from([0.0, 5.0, 20.0, 50.0, 1e5])
    gts: list[dict[str, Any]] = []
    dts: list[dict[str, Any]] = []
    for img in images:
        for _ in range(draw(st.integers(0, 4))):
            crowd = int(draw(st.integers(0, 4)) == 0)
            gts.append({
                "id": len(gts) + 1, "image_id": img["id"], "category_id": draw(st.sampled_from([1, 2])),
                "segmentation": segmentation(img, ["rle"] if crowd else ["polygon", "polygon", "rle", "compressed"]),
                "area": draw(area), "bbox": [0, 0, 1, 1], "iscrowd": crowd,
            })  # fmt: skip
        for _ in range(draw(st.integers(0, 5))):
            dts.append({
                "id": len(dts) + 1, "image_id": img["id"], "category_id": draw(st.sampled_from([1, 2])),
                "segmentation": segmentation(img, ["compressed", "compressed", "polygon"]),
                "score": draw(st.sampled_from([0.1, 0.5, 0.5, 0.8])), "area": draw(area),
                "bbox": [0, 0, 1, 1], "iscrowd": 0,
            })  # fmt: skip
    return (
        {"images": images, "categories": cats, "annotations": gts},
        {"images": images, "categories": cats, "annotations": dts},
    )


@settings(deadline=None, max_examples=60)
@given(case=segm_sets(), use_cats=st.sampled_from([1, 1, 0]))
def test_hypothesis_segm_compute_iou_and_records(case: Any, use_cats: int) -> None:
    """computeIoU (masks via fastdet.mask), _prepare's RLEs and the slow path, without COCOeval('segm')."""
    gt, dt = case
    theirs = pc_eval.COCOeval(coco_from(pc_coco.COCO, gt), coco_from(pc_coco.COCO, dt), "segm")
    mine = PassThrough(coco_from(COCO, gt), coco_from(COCO, dt), "bbox", verbose=False)
    mine.params = Params("segm")
    mine.params.imgIds, mine.params.catIds = list(theirs.params.imgIds), list(theirs.params.catIds)
    mine.params.useCats = theirs.params.useCats = use_cats
    mine._prepare()
    theirs._prepare()
    assert filled(mine._gts) == filled(theirs._gts)  # segmentation as RLE: counts byte-identical
    assert dict(mine._dts) == dict(theirs._dts)
    cats = theirs.params.catIds if use_cats else [-1]
    for img in theirs.params.imgIds:
        for cat in cats:
            assert_same_value(mine.computeIoU(img, cat), theirs.computeIoU(img, cat), f"computeIoU{img, cat}")
    run(mine, summarize=False)  # summarize() for segm belongs to the segm work
    quiet(theirs.evaluate)
    quiet(theirs.accumulate)
    assert_ious_equal(mine.ious, theirs.ious)
    assert_records_equal(mine.evalImgs, theirs.evalImgs)
    assert_eval_equal(mine, theirs)


def fakesegm() -> tuple[str, str]:
    return (
        str(ROOT / "data" / FAKE_GT),
        str(ROOT / "data/coco-val2014-fake100/instances_val2014_fakesegm100_results.json"),
    )


def test_segm_subclass_on_fakesegm100() -> None:
    """A subclass of a segm evaluator runs the slow path with pycocotools' numbers (AP 0.3195452758576433)."""
    gt, dt = fakesegm()
    pg = quiet(pc_coco.COCO, gt)
    oracle = run(pc_eval.COCOeval(pg, quiet(pg.loadRes, dt), "segm"))
    fg = COCO(gt, verbose=False)
    mine = run(PassThrough(fg, fg.loadRes(dt, verbose=False), "segm", verbose=False))
    assert_eval_equal(mine, oracle)
    np.testing.assert_array_equal(mine.stats, oracle.stats)


def test_segm_compute_iou_on_fakesegm100_cells() -> None:
    """computeIoU on cocoapi's fake segm results (polygon ground truth, crowd RLEs), cell by cell."""
    gt, dt = fakesegm()
    pg = quiet(pc_coco.COCO, gt)
    theirs = pc_eval.COCOeval(pg, quiet(pg.loadRes, dt), "segm")
    res = json.loads(Path(dt).read_text())
    fg = COCO(gt, verbose=False)
    dt_set = copy.deepcopy(theirs.cocoDt.dataset)  # pycocotools' loadRes fields (area, bbox, id)
    mine = COCOeval(fg, coco_from(COCO, dt_set), "bbox", verbose=False)
    mine.params = Params("segm")
    img_ids = sorted({r["image_id"] for r in res})[:30]
    mine.params.imgIds = theirs.params.imgIds = img_ids
    mine.params.catIds = theirs.params.catIds = sorted(pg.getCatIds())
    mine._prepare()
    quiet(theirs._prepare)
    for img in img_ids:
        for cat in theirs.params.catIds:
            assert_same_value(mine.computeIoU(img, cat), theirs.computeIoU(img, cat), f"computeIoU{img, cat}")


# ----------------------------------------------------------------------------- Params
PYCOCO_DECODE_WARNING = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)  # pycocotools.mask.decode under NumPy 2


@pytest.mark.parametrize("iou_type", ["bbox", "segm", "keypoints"])
def test_params_presets_equal_pycocotools(iou_type: str) -> None:
    mine, theirs = Params(iou_type), pc_eval.Params(iou_type)
    assert set(vars(mine)) == set(vars(theirs))
    for key, value in vars(theirs).items():
        assert_same_value(getattr(mine, key), value, key)
    mine.maxDets = [5]
    mine.setDetParams()
    theirs.setDetParams()
    for key in ("maxDets", "areaRng", "areaRngLbl", "iouThrs", "recThrs", "useCats"):
        assert_same_value(getattr(mine, key), getattr(theirs, key), key)
    mine.setKpParams()
    theirs.setKpParams()
    for key, value in vars(theirs).items():
        assert_same_value(getattr(mine, key), value, key)


# ----------------------------------------------------------------------------- COCO methods
@PYCOCO_DECODE_WARNING
def test_ann_to_rle_and_mask_equal_pycocotools(fake100: Any) -> None:
    fg, _, pg, _ = fake100
    anns = pg.dataset["annotations"]
    assert {type(a["segmentation"]).__name__ for a in anns} == {"list", "dict"}  # polygons and crowd RLEs
    for ann in anns:
        mine, theirs = fg.annToRLE(copy.deepcopy(ann)), pg.annToRLE(copy.deepcopy(ann))
        assert mine == theirs, ann["id"]
    for ann in anns[:40]:
        assert_same_value(fg.annToMask(ann), pg.annToMask(ann), str(ann["id"]))


@PYCOCO_DECODE_WARNING
def test_ann_to_rle_forms() -> None:
    gt = {
        "images": [{"id": 1, "height": 5, "width": 7}],
        "categories": [{"id": 1, "name": "a"}],
        "annotations": [],
    }
    fg, pg = coco_from(COCO, gt), coco_from(pc_coco.COCO, gt)
    compressed = pc_mask.frPyObjects({"size": [5, 7], "counts": [3, 4, 10, 18]}, 5, 7)
    for segm in (
        [[0, 0, 6, 0, 6, 4], [1, 1, 2, 1, 2, 3]],
        {"size": [5, 7], "counts": [3, 4, 10, 18]},
        {"size": [5, 7], "counts": compressed["counts"].decode()},
        compressed,
    ):
        ann = {"image_id": 1, "segmentation": segm}
        assert fg.annToRLE(ann) == pg.annToRLE(ann)
        assert_same_value(fg.annToMask(ann), pg.annToMask(ann), str(segm))


def test_ann_to_rle_errors_name_the_annotation() -> None:
    """A bad segmentation (here a coordinate beyond 4e8, an odd count) is reported with the
    annotation's id and image, not with the internal frPyObjects argument names."""
    gt = {
        "images": [{"id": 1, "height": 5, "width": 7}],
        "categories": [{"id": 1, "name": "a"}],
        "annotations": [],
    }
    fg = coco_from(COCO, gt)
    for segm in ([[0, 0, 6e9, 0, 6, 4]], [[0, 0, 6, 0, 6]]):
        with pytest.raises(ValueError, match=r"annotation id=7 \(image_id=1\): bad segmentation"):
            fg.annToRLE({"id": 7, "image_id": 1, "segmentation": segm})


def test_show_anns_draws_on_an_agg_figure(fake100: Any) -> None:
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fg, _, _, _ = fake100
    anns = fg.loadAnns(fg.getAnnIds(imgIds=fg.getImgIds()[:5]))
    crowd = [a for a in fg.dataset["annotations"] if a["iscrowd"]][:1]
    assert crowd
    assert isinstance(crowd[0]["segmentation"], dict)
    kp_gt = COCO({
        "images": [{"id": 1, "height": 20, "width": 20}],
        "categories": [{"id": 1, "name": "person", "skeleton": [[1, 2], [2, 3]]}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 9, 9], "area": 81,
                         "iscrowd": 0, "keypoints": [2, 2, 2, 5, 5, 1, 0, 0, 0]}],
    }, verbose=False)  # fmt: skip
    state = np.random.get_state()  # noqa: NPY002 (showAnns must not draw from the global state)
    fig = plt.figure()
    try:
        plt.imshow(np.zeros((480, 640)))
        fg.showAnns(anns, draw_bbox=True)
        fg.showAnns(crowd)
        kp_gt.showAnns(kp_gt.dataset["annotations"], draw_bbox=True)
        fg.showAnns([])
        ax = fig.gca()
        assert len(ax.collections) == 6  # two patch collections per call
        assert len(ax.images) >= 2  # the background and the crowd mask(s)
        assert len(ax.lines) >= 2  # skeleton and keypoints
        fig.canvas.draw()
    finally:
        plt.close(fig)
    assert np.array_equal(state[1], np.random.get_state()[1])  # noqa: NPY002
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        fg.showAnns([{"caption": "a cat"}])
    assert out.getvalue() == "a cat\n"
    with pytest.raises(ValueError, match="datasetType"):
        fg.showAnns([{"bbox": [0, 0, 1, 1]}])


def test_download(tmp_path: Path) -> None:
    src = tmp_path / "src.jpg"
    src.write_bytes(b"\xff\xd8 not really a jpeg")
    gt = COCO({
        "images": [{"id": 1, "file_name": "a.jpg", "coco_url": src.as_uri()},
                   {"id": 2, "file_name": "b.jpg", "coco_url": "http://127.0.0.1:9/b.jpg"}],
        "categories": [], "annotations": [],
    }, verbose=False)  # fmt: skip
    out = tmp_path / "images"
    gt.download(out, [1])
    assert (out / "a.jpg").read_bytes() == src.read_bytes()
    with pytest.raises(OSError, match=r"http://127\.0\.0\.1:9/b\.jpg.*network"):
        gt.download(out, [2], timeout=5)
    assert sorted(os.listdir(out)) == ["a.jpg"]  # no partial file left
    (out / "b.jpg").write_bytes(b"x")
    gt.download(out)  # both present: nothing fetched
    with pytest.raises(ValueError, match="tarDir"):
        gt.download()


# ----------------------------------------------------------------------------- install_as_pycocotools
def run_python(code: str) -> str:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_install_as_pycocotools_in_this_process() -> None:
    import fastdet.mask
    from fastdet.coco import dropin

    before = {name: sys.modules.get(name) for name in dropin._NAMES}
    try:
        saved = install_as_pycocotools()
        assert saved == before
        assert install_as_pycocotools() == saved  # idempotent
        import pycocotools.coco
        import pycocotools.cocoeval
        import pycocotools.mask

        assert pycocotools.coco.COCO is COCO
        assert pycocotools.mask is fastdet.mask
        assert issubclass(pycocotools.cocoeval.COCOeval, COCOeval)
        assert pycocotools.cocoeval.Params().iouType == "segm"  # pycocotools' default
        from pycocotools.cocoeval import COCOeval as Shim

        assert Shim is pycocotools.cocoeval.COCOeval
    finally:
        uninstall_pycocotools()
    assert {name: sys.modules.get(name) for name in dropin._NAMES} == before
    uninstall_pycocotools()  # a second call does nothing


SHIM_SCRIPT = """
import importlib.util, sys
from fastdet.coco import install_as_pycocotools, uninstall_pycocotools
saved = install_as_pycocotools()
assert all(v is None for v in saved.values()), saved
import pycocotools, pycocotools.coco
assert importlib.util.find_spec("pycocotools") is not None
assert pycocotools.coco.COCO.__module__ == "fastdet.coco.dataset"
uninstall_pycocotools()
import pycocotools.coco
assert pycocotools.coco.COCO.__module__ == "pycocotools.coco"
print("ok")
"""


def test_install_and_uninstall_in_a_fresh_process() -> None:
    assert run_python(SHIM_SCRIPT).strip() == "ok"


TORCHMETRICS_SCRIPT = """
import json, sys
import numpy as np
INSTALL = {install}
if INSTALL:
    from fastdet.coco import install_as_pycocotools
    install_as_pycocotools()
import torch
from torchmetrics.detection import MeanAveragePrecision

rng = np.random.default_rng(7)
preds, target = [], []
for _ in range(25):
    n_g = int(rng.integers(0, 6))
    xy = rng.integers(0, 60, (n_g, 2)) * 2.0
    wh = rng.integers(2, 40, (n_g, 2)) * 2.0
    gb = np.concatenate([xy, xy + wh], 1)
    n_d = int(rng.integers(0, 9))
    pick = rng.integers(0, max(n_g, 1), n_d)
    db = gb[pick] + rng.integers(-6, 7, (n_d, 4)) if n_g else rng.integers(0, 100, (n_d, 4)) * 1.0
    db = np.concatenate([np.minimum(db[:, :2], db[:, 2:]), np.maximum(db[:, :2], db[:, 2:]) + 1], 1)
    target.append(dict(boxes=torch.tensor(gb, dtype=torch.float32), labels=torch.tensor(rng.integers(0, 3, n_g)),
                       iscrowd=torch.tensor((rng.random(n_g) < 0.1).astype(np.int64))))
    preds.append(dict(boxes=torch.tensor(db, dtype=torch.float32),
                      scores=torch.tensor(rng.choice([0.3, 0.5, 0.9], n_d), dtype=torch.float32),
                      labels=torch.tensor(rng.integers(0, 3, n_d))))
metric = MeanAveragePrecision(backend="pycocotools", iou_type="bbox", class_metrics=True)
metric.update(preds, target)
out = {{"bbox": {{k: v.tolist() for k, v in metric.compute().items()}}}}


def masks(boxes):
    m = np.zeros((len(boxes), 128, 128), bool)
    for i, (x1, y1, x2, y2) in enumerate(np.clip(boxes, 0, 128).astype(int)):
        m[i, y1:y2, x1:x2] = True
        m[i, (y1 + y2) // 2, x1:(x1 + x2) // 2] = False  # not a plain box
    return torch.tensor(m)


for p, t in zip(preds, target):
    p["masks"], t["masks"] = masks(p.pop("boxes").numpy()), masks(t.pop("boxes").numpy())
metric = MeanAveragePrecision(backend="pycocotools", iou_type="segm")
metric.update(preds, target)
out["segm"] = {{k: v.tolist() for k, v in metric.compute().items()}}
mods = sys.modules
if INSTALL:
    assert mods["pycocotools.coco"].COCO.__module__ == "fastdet.coco.dataset"
    assert "pycocotools._mask" not in mods  # pycocotools' own package never loaded
else:
    assert mods["pycocotools.coco"].COCO.__module__ == "pycocotools.coco"
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def torchmetrics_runs() -> tuple[dict[str, Any], dict[str, Any]]:
    """torchmetrics' MeanAveragePrecision(backend="pycocotools") with and without the install, in subprocesses."""
    pytest.importorskip("torchmetrics")
    pytest.importorskip("torch")
    via_fastdet = json.loads(run_python(TORCHMETRICS_SCRIPT.format(install=True)).splitlines()[-1])
    via_pycocotools = json.loads(run_python(TORCHMETRICS_SCRIPT.format(install=False)).splitlines()[-1])
    return via_fastdet, via_pycocotools


def test_torchmetrics_bbox_through_install_gets_pycocotools_numbers(torchmetrics_runs: Any) -> None:
    via_fastdet, via_pycocotools = torchmetrics_runs
    assert via_fastdet["bbox"] == via_pycocotools["bbox"]
    assert 0 < via_fastdet["bbox"]["map"] < 1
    assert len(via_fastdet["bbox"]["map_per_class"]) == 3


def test_torchmetrics_segm_through_install(torchmetrics_runs: Any) -> None:
    via_fastdet, via_pycocotools = torchmetrics_runs
    assert 0 < via_pycocotools["segm"]["map"] < 1
    assert via_fastdet["segm"] == via_pycocotools["segm"]


# ----------------------------------------------------------------------------- keypoints data set
KP_GT, KP_DT = (ROOT / "data/coco-keypoints-small" / f for f in ("gt_dataset.json", "dt_dataset.json"))


def test_keypoints_small_oks_and_slow_path_equal_pycocotools() -> None:
    """faster-coco-eval's keypoint set (crowd and num_keypoints == 0 ground truths), 128 detections."""
    pg = quiet(pc_coco.COCO, str(KP_GT))
    theirs = pc_eval.COCOeval(pg, quiet(pg.loadRes, str(KP_DT)), "keypoints")
    # fastdet's keypoint loadRes belongs to the keypoints work: take pycocotools' result dataset
    mine = PassThrough(
        COCO(str(KP_GT), verbose=False), coco_from(COCO, theirs.cocoDt.dataset), "bbox", verbose=False
    )
    mine.params = Params("keypoints")
    mine.params.imgIds, mine.params.catIds = list(theirs.params.imgIds), list(theirs.params.catIds)
    mine._prepare()
    quiet(theirs._prepare)
    assert filled(mine._gts) == filled(theirs._gts)
    (key,) = filled(theirs._gts)
    oks = mine.computeOks(*key)
    assert oks.shape == (20, 14)  # maxDets=[20] of the 128 detections
    assert_same_value(oks, theirs.computeOks(*key), "computeOks")
    run(mine, summarize=False)
    quiet(theirs.evaluate)
    quiet(theirs.accumulate)
    assert_ious_equal(mine.ious, theirs.ious)
    assert_records_equal(mine.evalImgs, theirs.evalImgs)
    assert_eval_equal(mine, theirs)
    precision = mine.eval["precision"]
    assert float(precision[precision > -1].sum()) == 1738.9333333333334  # PROVENANCE.md's checksum


def test_keypoints_subclass_end_to_end() -> None:
    gt = COCO(str(KP_GT), verbose=False)
    mine = run(PassThrough(gt, gt.loadRes(str(KP_DT), verbose=False), "keypoints", verbose=False))
    quiet(mine.summarize)  # run() summarizes only pycocotools' 3-maxDets layout
    published = [0.5048844884488449, 0.7227722772277227, 0.6336633663366337, 0.46633663366336636, 0.7504950495049505,
                 0.5181818181818182, 0.7272727272727273, 0.6363636363636364, 0.4666666666666666, 0.75]  # fmt: skip
    assert mine.stats.tolist() == published  # PROVENANCE.md: faster-coco-eval's test, pycocotools 2.0.11
