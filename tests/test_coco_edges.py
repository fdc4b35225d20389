"""COCO evaluation at the edges of the area ranges, against pycocotools.

pycocotools ignores a ground truth whose ``area`` lies outside ``[lo, hi]`` and
an *unmatched* detection whose box area ``w * h`` lies outside it: both bounds
are inclusive. These tests put ground truths and detections in every default
range (small, medium, large) and exactly on the 32**2 and 96**2 bounds, and on
the bounds of custom ``areaRng`` lists, so that a ``<`` turned into ``<=`` (or
``>`` into ``>=``) anywhere in the matching or the positive counts changes a
number that is compared with pycocotools.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fastdet.coco import COCO, COCOeval

pc_coco = pytest.importorskip("pycocotools.coco")
pc_eval = pytest.importorskip("pycocotools.cocoeval")

# pycocotools' precision / recall are sums and ratios of small integer counts done in the same
# order by fastdet, so they agree to the last bit; 1e-12 only absorbs a different summation
# order in the 12 stats' means (a mean of at most 101 * 80 terms in [0, 1]).
ATOL = 1e-12

EPS = float(np.spacing(1))  # pycocotools' precision is tp / (tp + fp + eps)

DEFAULT_RANGES = [[0.0, 1e10], [0.0, 1024.0], [1024.0, 9216.0], [9216.0, 1e10]]
CUSTOM_RANGES = [[0.0, 1e10], [0.0, 400.0], [400.0, 2500.0], [2500.0, 1e10], [1024.0, 9216.0]]
CUSTOM_LABELS = ["all", "tiny", "mid", "big", "medium"]

# (w, h) of boxes whose area w * h is exactly a bound (the products are exact in float64) or next
# to one, and boxes well inside each range.
ON_BOUNDS = [(32.0, 32.0), (16.0, 64.0), (96.0, 96.0), (64.0, 144.0), (20.0, 20.0), (50.0, 50.0),
             (10.0, 40.0), (25.0, 100.0)]  # fmt: skip
NEAR_BOUNDS = [(31.0, 33.0), (32.0, 32.5), (95.0, 97.0), (96.0, 96.25), (19.5, 20.0), (50.0, 50.5)]
INSIDE = [(6.0, 8.0), (24.0, 20.0), (60.0, 40.0), (80.0, 100.0), (150.0, 120.0), (300.0, 200.0)]
# ``area`` fields of ground truths: the bounds themselves, values next to them, and the 'all' bound.
GT_AREAS = [1024.0, 9216.0, 400.0, 2500.0, 1023.5, 1024.5, 9215.5, 9216.5, 0.0, 1e10]


def quiet(fn: Any, *args: Any) -> Any:
    with contextlib.redirect_stdout(io.StringIO()):
        return fn(*args)


def run_eval(cls_coco: Any, cls_eval: Any, gt: dict[str, Any], dt: list[dict[str, Any]], params: dict) -> Any:
    with contextlib.redirect_stdout(io.StringIO()):
        cg = cls_coco()
        cg.dataset = copy.deepcopy(gt)
        cg.createIndex()
        e = cls_eval(cg, cg.loadRes(copy.deepcopy(dt)), "bbox")
        for key, value in params.items():
            setattr(e.params, key, copy.deepcopy(value))
        e.evaluate()
        e.accumulate()
        e.summarize()
    return e


def assert_same(gt: dict[str, Any], dt: list[dict[str, Any]], params: dict) -> Any:
    """fastdet's COCOeval equals pycocotools' on every array and statistic; returns pycocotools'."""
    oracle = run_eval(pc_coco.COCO, pc_eval.COCOeval, gt, dt, params)
    fast = run_eval(COCO, COCOeval, gt, dt, params)
    for key in ("precision", "recall", "scores"):
        np.testing.assert_allclose(fast.eval[key], oracle.eval[key], rtol=0, atol=ATOL, err_msg=key)
    np.testing.assert_allclose(fast.stats, oracle.stats, rtol=0, atol=ATOL)
    return oracle


def _ann(ann_id: int, img: int, cat: int, box: list[float], area: float | None = None) -> dict[str, Any]:
    return {"id": ann_id, "image_id": img, "category_id": cat, "bbox": box,
            "area": box[2] * box[3] if area is None else area, "iscrowd": 0}  # fmt: skip


# ------------------------------------------------------------------ explicit cases


def _bounds_case() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One ground truth per range and on each bound, each found; unmatched detections on each bound.

    The unmatched detections score between the found ones, so whether each is a false
    positive or ignored in a range changes that range's precision.
    """
    gts = [
        [10, 10, 6, 8],  # small (48)
        [100, 10, 32, 32],  # exactly 32**2: small and medium
        [200, 10, 60, 40],  # medium (2400)
        [300, 10, 96, 96],  # exactly 96**2: medium and large
        [500, 10, 150, 120],  # large
        [700, 10, 20, 20],  # 400: a custom bound
        [800, 10, 50, 50],  # 2500: a custom bound
    ]
    anns = [_ann(i + 1, 1, 1, [float(v) for v in b]) for i, b in enumerate(gts)]
    dets = []
    for i, b in enumerate(gts):  # every ground truth found exactly, scores 0.95, 0.85, ...
        dets.append({"image_id": 1, "category_id": 1, "bbox": [float(v) for v in b], "score": 0.95 - 0.1 * i})
    for i, (w, h) in enumerate(ON_BOUNDS):  # far from everything: unmatched, on a bound
        dets.append({"image_id": 1, "category_id": 1, "bbox": [2000.0 + 400 * i, 900.0, w, h],
                     "score": 0.9 - 0.1 * i})  # fmt: skip
    gt = {"images": [{"id": 1}], "categories": [{"id": 1, "name": "a"}], "annotations": anns}
    return gt, dets


@pytest.mark.parametrize(
    "params",
    [{}, {"areaRng": CUSTOM_RANGES, "areaRngLbl": CUSTOM_LABELS}, {"iouThrs": np.array([0.5])}],
    ids=["default", "custom", "iou50"],
)
def test_unmatched_detections_exactly_on_area_bounds(params: dict) -> None:
    gt, dt = _bounds_case()
    oracle = assert_same(gt, dt, params)
    # the case is not vacuous: on-bound detections count as false positives in the ranges they bound,
    # so no range with ground truth reaches precision 1 at full recall
    rng = params.get("areaRng", DEFAULT_RANGES)
    top = oracle.eval["precision"][0, :, 0, :, -1]  # IoU 0.5, every recall threshold, each range
    for a in range(len(rng)):
        assert top[0, a] < 1.0


@pytest.mark.parametrize("area", GT_AREAS)
@pytest.mark.parametrize("custom", [False, True])
def test_ground_truth_area_field_on_bounds(area: float, custom: bool) -> None:
    """The ``area`` field (not the box) puts a ground truth on a bound: it counts in both ranges."""
    anns = [_ann(1, 1, 1, [0.0, 0.0, 30.0, 30.0], area), _ann(2, 1, 1, [100.0, 0.0, 40.0, 40.0])]
    dt = [
        {"image_id": 1, "category_id": 1, "bbox": [0.0, 0.0, 30.0, 30.0], "score": 0.6},
        {"image_id": 1, "category_id": 1, "bbox": [300.0, 0.0, 30.0, 30.0], "score": 0.8},  # FP, 900
        {"image_id": 1, "category_id": 1, "bbox": [100.0, 0.0, 40.0, 40.0], "score": 0.7},
    ]
    gt = {"images": [{"id": 1}], "categories": [{"id": 1, "name": "a"}], "annotations": anns}
    params = {"areaRng": CUSTOM_RANGES, "areaRngLbl": CUSTOM_LABELS} if custom else {}
    oracle = assert_same(gt, dt, params)
    assert oracle.eval["recall"][0, 0, 0, -1] == 1.0  # both found in 'all'


# ------------------------------------------------------------------ ties and crowds


@pytest.mark.parametrize("n_ties", [2, 30])  # insertion sort (<= 24 per cell) and merge sort
def test_equal_scores_keep_file_order(n_ties: int) -> None:
    """pycocotools sorts detections with a stable mergesort: equal scores stay in file order."""
    gt = {"images": [{"id": 1}], "categories": [{"id": 1, "name": "a"}],
          "annotations": [_ann(1, 1, 1, [0.0, 0.0, 50.0, 50.0])]}  # fmt: skip
    far = [{"image_id": 1, "category_id": 1, "bbox": [500.0 + 60 * i, 0.0, 50.0, 50.0], "score": 0.5}
           for i in range(n_ties - 1)]  # fmt: skip
    hit = {"image_id": 1, "category_id": 1, "bbox": [0.0, 0.0, 50.0, 50.0], "score": 0.5}
    for dt in ([*far, hit], [hit, *far]):  # the true positive last, then first, among equal scores
        oracle = assert_same(gt, dt, {"maxDets": [1, 10, 100]})
        first = dt[0] is hit
        # precision at recall 1 (IoU 0.5, all areas, 100 detections), pycocotools' tp / (tp + fp + eps):
        # the hit is the first of the equal scores, or the last
        assert oracle.eval["precision"][0, -1, 0, 0, -1] == (1 / (1 + EPS) if first else 1 / (n_ties + EPS))
        assert oracle.eval["recall"][0, 0, 0, 0] == (1.0 if first else 0.0)  # maxDets 1: only the first


def test_a_crowd_region_matches_many_detections() -> None:
    """pycocotools lets every detection match a crowd region (they are ignored, not false positives)."""
    anns = [_ann(1, 1, 1, [0.0, 0.0, 100.0, 100.0]), _ann(2, 1, 1, [300.0, 0.0, 40.0, 40.0])]
    anns[0]["iscrowd"] = 1
    gt = {"images": [{"id": 1}], "categories": [{"id": 1, "name": "a"}], "annotations": anns}
    dt = [
        {"image_id": 1, "category_id": 1, "bbox": [10.0, 10.0, 30.0, 30.0], "score": 0.9},  # in the crowd
        {"image_id": 1, "category_id": 1, "bbox": [50.0, 50.0, 30.0, 30.0], "score": 0.8},  # in the crowd
        {"image_id": 1, "category_id": 1, "bbox": [300.0, 0.0, 40.0, 40.0], "score": 0.7},  # the object
    ]
    oracle = assert_same(gt, dt, {})
    assert oracle.eval["precision"][0, -1, 0, 0, -1] == 1 / (1 + EPS)  # both crowd detections ignored


def test_iou_threshold_one_is_capped_like_pycocotools() -> None:
    """pycocotools matches at ``min(t, 1 - 1e-10)``: at t = 1 an IoU of 1 - 1e-11 still matches."""
    gt = {"images": [{"id": 1}], "categories": [{"id": 1, "name": "a"}],
          "annotations": [_ann(1, 1, 1, [0.0, 0.0, 100.0, 100.0])]}  # fmt: skip
    dt = [{"image_id": 1, "category_id": 1, "bbox": [0.0, 0.0, 100.0 + 1e-9, 100.0], "score": 0.9}]
    iou = 100.0 / (100.0 + 1e-9)
    assert 1 - 1e-10 <= iou < 1.0
    oracle = assert_same(gt, dt, {"iouThrs": np.array([0.5, 0.99, 1.0])})
    assert oracle.eval["recall"][:, 0, 0, -1].tolist() == [1.0, 1.0, 1.0]


def test_eval_imgs_beyond_max_dets_match_pycocotools() -> None:
    """More detections in a cell than ``maxDets[-1]``: only the best ``maxDets[-1]`` are matched."""
    anns = [_ann(i + 1, 1, 1, [100.0 * i, 0.0, 40.0, 40.0]) for i in range(3)]
    gt = {"images": [{"id": 1}, {"id": 2}], "categories": [{"id": 1, "name": "a"}], "annotations": anns}
    dt = [{"image_id": 1, "category_id": 1, "bbox": [100.0 * (i % 3), 0.0, 40.0, 40.0], "score": 0.9 - 0.1 * i}
          for i in range(7)]  # fmt: skip
    dt.append({"image_id": 2, "category_id": 1, "bbox": [0.0, 0.0, 5.0, 5.0], "score": 0.5})
    params = {"maxDets": [1, 2, 4]}
    oracle = run_eval(pc_coco.COCO, pc_eval.COCOeval, gt, dt, params)
    fast = run_eval(COCO, COCOeval, gt, dt, params)
    assert set(fast.ious) == set(oracle.ious)
    for key, value in oracle.ious.items():
        np.testing.assert_array_equal(np.asarray(fast.ious[key]), np.asarray(value), err_msg=str(key))
    assert len(fast.evalImgs) == len(oracle.evalImgs)
    checked = 0
    for mine, theirs in zip(fast.evalImgs, oracle.evalImgs, strict=True):
        assert (mine is None) == (theirs is None)
        if theirs is None:
            continue
        for key in ("image_id", "category_id", "maxDet", "dtIds", "gtIds", "dtScores"):
            assert mine[key] == theirs[key], key
        for key in ("dtMatches", "gtMatches", "gtIgnore", "dtIgnore"):
            np.testing.assert_array_equal(mine[key], theirs[key], err_msg=key)
        checked += 1
    assert checked
    assert max(len(e["dtIds"]) for e in oracle.evalImgs if e) == 4  # 7 detections, 4 kept


@pytest.mark.parametrize("seed", range(3))
def test_files_with_detector_written_floats_match_pycocotools(tmp_path: Any, seed: int) -> None:
    """Numbers as detectors write them: float32 values printed as 16-17 digit Python floats, tiny
    scores in exponent notation (9.99999974737875e-06). Read from files by fastdet's JSON scanner
    and by pycocotools' ``json.load``, they must give the same IoUs and scores, bit for bit."""
    rng = np.random.default_rng(seed)
    f32 = lambda v: float(np.float32(v))  # noqa: E731
    anns, dets = [], []
    for img in range(1, 6):
        for _ in range(4):
            x, y, w, h = (f32(v) for v in (*rng.uniform(0, 400, 2), *rng.uniform(5, 150, 2)))
            anns.append(
                _ann(len(anns) + 1, img, int(rng.integers(1, 3)), [x, y, w, h], w * h * rng.uniform(0.5, 1))
            )
            for _ in range(3):
                j = rng.normal(0, 0.1, 4) * [w, h, w, h]
                score = f32(rng.choice([rng.random(), rng.random() * 1e-5, rng.random() * 1e-9]))
                dets.append({"image_id": img, "category_id": anns[-1]["category_id"],
                             "bbox": [f32(x + j[0]), f32(y + j[1]), f32(w + j[2]), f32(h + j[3])], "score": score})  # fmt: skip
    gt = {
        "images": [{"id": i} for i in range(1, 6)],
        "categories": [{"id": 1}, {"id": 2}],
        "annotations": anns,
    }
    gt_path, dt_path = tmp_path / "gt.json", tmp_path / "dt.json"
    gt_path.write_text(json.dumps(gt))
    dt_path.write_text(json.dumps(dets))
    text = dt_path.read_text()
    assert "e-0" in text  # exponent notation reached the file
    assert (
        max(len(t.strip("[]{} ,")) for t in text.replace(":", ",").split(",") if "." in t) >= 18
    )  # 17 digits

    def evaluate(cls_coco: Any, cls_eval: Any) -> Any:
        with contextlib.redirect_stdout(io.StringIO()):
            cg = cls_coco(str(gt_path))
            e = cls_eval(cg, cg.loadRes(str(dt_path)), "bbox")
            e.evaluate()
            e.accumulate()
        return e

    oracle, fast = evaluate(pc_coco.COCO, pc_eval.COCOeval), evaluate(COCO, COCOeval)
    for key, value in oracle.ious.items():
        np.testing.assert_array_equal(np.asarray(fast.ious[key]), np.asarray(value), err_msg=str(key))
    for mine, theirs in zip(fast.evalImgs, oracle.evalImgs, strict=True):
        if theirs is not None:
            assert mine["dtScores"] == theirs["dtScores"]
            np.testing.assert_array_equal(mine["gtIgnore"], theirs["gtIgnore"])  # areas on the bounds
    np.testing.assert_array_equal(fast.eval["precision"], oracle.eval["precision"])
    np.testing.assert_array_equal(fast.eval["scores"], oracle.eval["scores"])


# ------------------------------------------------------------------ generated cases


@st.composite
def edge_pairs(draw: Any) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]]:
    """Ground truths and detections of every size class and on the bounds, with near and far detections."""
    sizes = st.sampled_from(ON_BOUNDS + NEAR_BOUNDS + INSIDE)
    n_img = draw(st.integers(1, 3))
    cats = [1, 2]
    anns: list[dict[str, Any]] = []
    dets: list[dict[str, Any]] = []
    scores = st.sampled_from([0.95, 0.9, 0.8, 0.8, 0.7, 0.6, 0.5, 0.3])
    for img in range(1, n_img + 1):
        boxes = []
        for k in range(draw(st.integers(0, 5))):
            w, h = draw(sizes)
            box = [400.0 * k, 0.0, w, h]  # side by side: ground truths never overlap
            area = draw(st.one_of(st.just(w * h), st.sampled_from(GT_AREAS)))
            cat = draw(st.sampled_from(cats))
            anns.append(_ann(len(anns) + 1, img, cat, box, area))
            anns[-1]["iscrowd"] = int(draw(st.integers(0, 7)) == 0)
            boxes.append((box, cat))
        for _ in range(draw(st.integers(0, 8))):
            w, h = draw(sizes)
            kind = draw(st.sampled_from(["far", "near", "shifted"])) if boxes else "far"
            if kind == "far":  # unmatched at every threshold: its area decides FP or ignored
                box, cat = [5000.0 + 400 * len(dets), 0.0, w, h], draw(st.sampled_from(cats))
            else:
                (gx, gy, gw, gh), cat = draw(st.sampled_from(boxes))
                if kind == "near":  # a copy: matched at every threshold
                    box = [gx, gy, gw, gh]
                else:  # same size, moved: matched at low thresholds only, unmatched above
                    box = [gx + gw * draw(st.sampled_from([0.05, 0.1, 0.25])), gy, gw, gh]
            dets.append({"image_id": img, "category_id": cat, "bbox": box, "score": draw(scores)})
    if not dets:
        dets.append({"image_id": 1, "category_id": 1, "bbox": [5000.0, 0.0, 32.0, 32.0], "score": 0.5})
    gt = {"images": [{"id": i} for i in range(1, n_img + 1)],
          "categories": [{"id": c, "name": str(c)} for c in cats], "annotations": anns}  # fmt: skip
    params: dict[str, Any] = {"useCats": draw(st.sampled_from([1, 1, 0]))}
    if draw(st.booleans()):
        params["areaRng"] = CUSTOM_RANGES
        params["areaRngLbl"] = CUSTOM_LABELS
    if draw(st.booleans()):
        params["maxDets"] = [1, 3, 100]
    return gt, dets, params


@settings(deadline=None)
@given(case=edge_pairs())
def test_generated_area_edges_match_pycocotools(case: Any) -> None:
    gt, dt, params = case
    assert_same(gt, dt, params)


def test_crowd_regions_without_area_match_pycocotools() -> None:
    """pycocotools reads no ``area`` of a crowd (ignored) ground truth in bbox evaluation: its
    ``g['ignore'] or (g['area'] < lo ...)`` stops at the flag. Such a file evaluates alike; a
    non-crowd ground truth without ``area`` stays a ``ValueError`` naming the entry."""
    anns = [_ann(1, 1, 1, [10.0, 10.0, 20.0, 20.0]), _ann(2, 1, 1, [100.0, 100.0, 50.0, 40.0]),
            _ann(3, 2, 1, [5.0, 5.0, 30.0, 30.0])]  # fmt: skip
    for a in anns[1:]:
        a["iscrowd"] = 1
        del a["area"]
    gt = {"images": [{"id": 1}, {"id": 2}], "categories": [{"id": 1, "name": "a"}], "annotations": anns}
    dets = [{"image_id": 1, "category_id": 1, "bbox": [10.0, 11.0, 20.0, 19.0], "score": 0.9},
            {"image_id": 1, "category_id": 1, "bbox": [101.0, 100.0, 50.0, 40.0], "score": 0.8},
            {"image_id": 2, "category_id": 1, "bbox": [5.0, 5.0, 30.0, 30.0], "score": 0.7},
            {"image_id": 2, "category_id": 1, "bbox": [60.0, 5.0, 3.0, 3.0], "score": 0.6}]  # fmt: skip
    for params in ({}, {"areaRng": CUSTOM_RANGES, "areaRngLbl": CUSTOM_LABELS}):
        assert_same(gt, dets, params)
    gt["annotations"][2]["iscrowd"] = 0
    with pytest.raises(ValueError, match=r"entry 2 has no 'area' field"):
        run_eval(COCO, COCOeval, gt, dets, {})
    # keypoint evaluation (pycocotools' computeOks) reads the area of every ground truth
    kp = [12.0, 12.0, 2] * 17
    for a in gt["annotations"]:
        a.update(keypoints=kp, num_keypoints=17, iscrowd=1)
    gt["annotations"][0]["iscrowd"] = 0
    cg = COCO(gt, verbose=False)
    e = COCOeval(
        cg, cg.loadRes([{"image_id": 1, "category_id": 1, "keypoints": kp, "score": 0.5}]), "keypoints"
    )
    with pytest.raises(ValueError, match=r"entry 1 has no 'area' field \(needed for iouType 'keypoints'\)"):
        quiet(e.evaluate)


@pytest.mark.parametrize("change", ["unknown category", "useCats 0"])
def test_accumulate_with_categories_no_evaluated_one_maps_to(change: str) -> None:
    """``accumulate(p)`` where some of ``p.catIds`` were not evaluated (or ``useCats`` turned 0 after
    a per-category ``evaluate``): pycocotools leaves those precision / scores slots at -1."""
    gt, dt = _bounds_case()
    gt["categories"].append({"id": 2, "name": "b"})
    gt["annotations"].append(_ann(99, 1, 2, [10.0, 300.0, 40.0, 40.0]))
    dt.append({"image_id": 1, "category_id": 2, "bbox": [11.0, 300.0, 40.0, 40.0], "score": 0.5})
    out = []
    for cls_coco, cls_eval in ((pc_coco.COCO, pc_eval.COCOeval), (COCO, COCOeval)):
        e = run_eval(cls_coco, cls_eval, gt, dt, {})
        p = copy.deepcopy(e.params)
        if change == "useCats 0":
            p.useCats = 0
        else:
            p.catIds = [*p.catIds, 7]
        quiet(e.accumulate, p)
        out.append(e.eval)
    oracle, fast = out
    assert fast["counts"] == oracle["counts"]
    for key in ("precision", "recall", "scores"):
        np.testing.assert_array_equal(fast[key], oracle[key], err_msg=key)


def test_max_dets_zero_keeps_records_of_cells_with_detections_only() -> None:
    """``maxDets[-1] == 0`` cuts every detection, but pycocotools' ``evaluateImg`` tests the cell
    before the cut: a cell with detections and no ground truth gives a record, not None."""
    gt, dt = _bounds_case()
    gt["images"].append({"id": 2})
    dt.append({"image_id": 2, "category_id": 1, "bbox": [0.0, 0.0, 5.0, 5.0], "score": 0.3})
    records = []
    for cls_coco, cls_eval in ((pc_coco.COCO, pc_eval.COCOeval), (COCO, COCOeval)):
        with contextlib.redirect_stdout(io.StringIO()):
            cg = cls_coco()
            cg.dataset = copy.deepcopy(gt)
            cg.createIndex()
            e = cls_eval(cg, cg.loadRes(copy.deepcopy(dt)), "bbox")
            e.params.maxDets = [0]
            e.evaluate()
            e.accumulate()
        records.append((e.evalImgs, e.eval))
    (oracle, oracle_eval), (fast, fast_eval) = records
    for key in ("precision", "recall", "scores"):
        np.testing.assert_array_equal(fast_eval[key], oracle_eval[key], err_msg=key)
    assert [r is None for r in fast] == [r is None for r in oracle]
    assert any(r is not None and not r["gtIds"] for r in oracle)
    for mine, theirs in zip(fast, oracle, strict=True):
        if theirs is not None:
            assert (mine["image_id"], mine["dtIds"], mine["gtIds"]) == (
                theirs["image_id"],
                [],
                theirs["gtIds"],
            )


@pytest.mark.parametrize("iou_type", ["bbox", "segm"])
def test_float32_result_array_area_as_pycocotools(iou_type: str) -> None:
    """An ``(N, 7)`` float32 array: pycocotools' ``loadRes`` multiplies the array's own float32
    scalars, so ``w * h`` rounds to float32. Here the next float32s around 32 give exactly 1024
    (in float32) but 1024.00006 in float64: the unmatched result is inside "small" for pycocotools
    (area <= 32 ** 2) and must not be ignored there. The loaded dicts hold float32 scalars too."""
    up, down = np.nextafter(np.float32(32), np.float32(64)), np.nextafter(np.float32(32), np.float32(0))
    gt = {
        "images": [{"id": 1, "height": 200, "width": 200}],
        "categories": [{"id": 1}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [100, 100, 20, 20], "area": 400,
                         "iscrowd": 0, "segmentation": [[100, 100, 120, 100, 120, 120, 100, 120]]}],
    }  # fmt: skip
    rows = np.array([[1, 0, 0, up, down, 0.9, 1], [1, 100, 100, 20, 20, 0.8, 1]], dtype=np.float32)

    def evaluate(cls_coco: Any, cls_eval: Any) -> Any:
        with contextlib.redirect_stdout(io.StringIO()):
            cg = cls_coco()
            cg.dataset = copy.deepcopy(gt)
            cg.createIndex()
            cd = cg.loadRes(rows.copy())
            anns = {k: dict(v) for k, v in cd.anns.items()}
            e = cls_eval(cg, cd, iou_type)
            e.evaluate()
            e.accumulate()
            e.summarize()
        return e, anns

    oracle, oracle_anns = evaluate(pc_coco.COCO, pc_eval.COCOeval)
    fast, fast_anns = evaluate(COCO, COCOeval)
    for key in ("precision", "recall", "scores"):
        np.testing.assert_array_equal(fast.eval[key], oracle.eval[key], err_msg=key)
    assert fast.stats.tolist() == oracle.stats.tolist()
    assert fast_anns[1]["area"] == oracle_anns[1]["area"] == 1024.0
    assert type(fast_anns[1]["area"]) is type(oracle_anns[1]["area"]) is np.float32


def _evaluate_results(
    cls_coco: Any, cls_eval: Any, gt: dict[str, Any], results: list[Any], iou_type: str, sigmas: Any = None
) -> Any:
    """(evaluator after summarize(), the results COCO) of a dataset dict and a results list."""
    with contextlib.redirect_stdout(io.StringIO()):
        cg = cls_coco()
        cg.dataset = copy.deepcopy(gt)
        cg.createIndex()
        cd = cg.loadRes(copy.deepcopy(results))
        e = cls_eval(cg, cd, iou_type)
        if sigmas is not None:
            e.params.kpt_oks_sigmas = sigmas
        e.evaluate()
        e.accumulate()
        e.summarize()
    return e, cd


@pytest.mark.parametrize("form", ["float32 scalars", "mixed", "python floats"])
def test_float32_result_dicts_area_as_pycocotools(form: str) -> None:
    """Result dicts whose bbox holds NumPy float32 values (``list(box)`` of a detector's array):
    pycocotools' ``loadRes`` multiplies them, so ``w * h`` rounds to float32 and
    the result below is "small" (area 1024 in float32, 1024.00006 in float64). With a Python float
    beside a float32 the product is float32 too (NumPy's scalar rules); Python floats stay float64."""
    up, down = np.nextafter(np.float32(32), np.float32(64)), np.nextafter(np.float32(32), np.float32(0))
    gt = {
        "images": [{"id": 1, "height": 200, "width": 200}],
        "categories": [{"id": 1}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [100, 100, 20, 20], "area": 400,
                         "iscrowd": 0}],
    }  # fmt: skip
    box = np.array([0, 0, up, down], np.float32)
    first = {
        "float32 scalars": list(box),
        "mixed": [0.0, 0.0, float(up), box[3]],
        "python floats": [float(v) for v in box],
    }[form]
    results = [
        {"image_id": 1, "category_id": 1, "bbox": first, "score": 0.9},
        {"image_id": 1, "category_id": 1, "bbox": [100.0, 100.0, 20.0, 20.0], "score": 0.8},
    ]

    oracle, oracle_res = _evaluate_results(pc_coco.COCO, pc_eval.COCOeval, gt, results, "bbox")
    fast, fast_res = _evaluate_results(COCO, COCOeval, gt, results, "bbox")
    oracle_area, fast_area = float(oracle_res.anns[1]["area"]), float(fast_res.anns[1]["area"])
    for key in ("precision", "recall", "scores"):
        np.testing.assert_array_equal(fast.eval[key], oracle.eval[key], err_msg=key)
    assert fast.stats.tolist() == oracle.stats.tolist()
    assert fast_area == oracle_area == (float(up) * float(down) if form == "python floats" else 1024.0)


@pytest.mark.parametrize("form", ["float32 scalars", "python floats"])
def test_float32_keypoint_result_dicts_area_as_pycocotools(form: str) -> None:
    """Keypoint results of NumPy float32 values: pycocotools takes ``np.min`` / ``np.max`` of them
    (float32), so the extent's width, height and area round to float32: here (32 + 2**-18) *
    (32 - 2**-18) is exactly 1024 in float32 but just below it in float64, and only the float32
    area keeps the result inside "medium" (32 ** 2 <= area)."""
    up, down = np.float32(32 + 2**-18), np.float32(32 - 2**-18)
    gt = {
        "images": [{"id": 1, "height": 200, "width": 200}],
        "categories": [{"id": 1, "keypoints": ["a", "b", "c"], "skeleton": []}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [100, 100, 40, 40], "area": 1600,
                         "iscrowd": 0, "num_keypoints": 3,
                         "keypoints": [110, 110, 2, 130, 110, 2, 120, 130, 2]}],
    }  # fmt: skip
    far = np.array([1, 1, 2, 1 + up, 1, 2, 1, 1 + down, 2], np.float32)  # x1 - x0 = up, y1 - y0 = down
    kp = list(far) if form == "float32 scalars" else [float(v) for v in far]
    results = [
        {"image_id": 1, "category_id": 1, "keypoints": kp, "score": 0.9},
        {
            "image_id": 1,
            "category_id": 1,
            "keypoints": [110.0, 110, 2, 130, 110, 2, 120, 130, 2],
            "score": 0.8,
        },
    ]

    sigmas = np.array([0.5, 0.6, 0.7]) / 10.0  # three keypoints
    oracle, oracle_res = _evaluate_results(pc_coco.COCO, pc_eval.COCOeval, gt, results, "keypoints", sigmas)
    fast, fast_res = _evaluate_results(COCO, COCOeval, gt, results, "keypoints", sigmas)
    oracle_area, fast_area = float(oracle_res.anns[1]["area"]), float(fast_res.anns[1]["area"])
    oracle_box = [float(v) for v in oracle_res.anns[1]["bbox"]]
    fast_box = [float(v) for v in fast_res.anns[1]["bbox"]]
    for key in ("precision", "recall", "scores"):
        np.testing.assert_array_equal(fast.eval[key], oracle.eval[key], err_msg=key)
    assert fast.stats.tolist() == oracle.stats.tolist()
    assert fast_area == oracle_area
    assert fast_box == oracle_box
