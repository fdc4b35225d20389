"""``COCOeval(..., "segm")`` against pycocotools (the oracle), the pixel reference and published numbers."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import reference as ref
from conftest import PYCOCOTOOLS_ATOL
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import MASK_KINDS, _mask_pattern, st_polygons, st_runs

from fastdet import mask as fmask
from fastdet.coco import COCO, COCOeval, evaluate_coco

pc_coco = pytest.importorskip("pycocotools.coco")
pc_eval = pytest.importorskip("pycocotools.cocoeval")
pc_mask = pytest.importorskip("pycocotools.mask")

GT100 = "coco-val2014-fake100/instances_val2014_100.json"
SEGM100 = "coco-val2014-fakesegm100/instances_val2014_fakesegm100_results.json"
# pycocotools 2.0.11's segm stats on fakesegm100, from data/coco-val2014-fakesegm100/PROVENANCE.md
# (faster_coco_eval's test asserts the same numbers; cocoapi's published table rounds to them)
PUBLISHED_SEGM100 = [0.3195452758576433, 0.5622883972521636, 0.29892653412086784, 0.3873740315997837,
                     0.31018272403369485, 0.3269339071005138, 0.2682297225711534, 0.41544868114906375,
                     0.4168394992198818, 0.4694498622754236, 0.37675922666197265, 0.3814715099715099]  # fmt: skip


def build_gt(cls: Any, gt: Any) -> Any:
    if isinstance(gt, dict):  # pycocotools' COCO takes a path only; build it as detectron2 does
        c = cls()
        c.dataset = copy.deepcopy(gt)
        c.createIndex()
        return c
    return cls(gt)


def run_eval(cls_coco: Any, cls_eval: Any, gt: Any, dt: Any, setup: Any = None) -> tuple[Any, str]:
    """Load, evaluate (segm), accumulate, summarize; the evaluator and the summary text."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        cg = build_gt(cls_coco, gt)
        cd = cg.loadRes(copy.deepcopy(dt) if isinstance(dt, list) else dt)
        e = cls_eval(cg, cd, "segm")
        if setup is not None:
            setup(e.params)
        e.evaluate()
        e.accumulate()
        start = len(out.getvalue())
        if len(e.params.maxDets) >= 3:
            e.summarize()
    return e, out.getvalue()[start:]


def assert_same(fast: Any, oracle: Any, label: str = "") -> None:
    """Stats to 1e-12; precision / recall / scores, ious and evalImgs bit-equal."""
    fs, os_ = np.asarray(fast.stats, float), np.asarray(oracle.stats, float)
    assert fs.shape == os_.shape, label
    np.testing.assert_allclose(fs, os_, rtol=0, atol=PYCOCOTOOLS_ATOL, err_msg=label)
    for key in ("precision", "recall", "scores"):
        np.testing.assert_array_equal(fast.eval[key], oracle.eval[key], err_msg=f"{label} {key}")
    assert fast.eval["counts"] == oracle.eval["counts"]
    assert set(fast.ious) == set(oracle.ious)
    for key, value in oracle.ious.items():
        np.testing.assert_array_equal(np.asarray(fast.ious[key]), np.asarray(value), err_msg=str(key))
    assert len(fast.evalImgs) == len(oracle.evalImgs)
    for mine, theirs in zip(fast.evalImgs, oracle.evalImgs, strict=True):
        assert (mine is None) == (theirs is None)
        if theirs is None:
            continue
        for key in ("image_id", "category_id", "maxDet", "dtIds", "gtIds", "dtScores"):
            assert mine[key] == theirs[key], key
        assert list(mine["aRng"]) == list(theirs["aRng"])
        for key in ("dtMatches", "gtMatches", "gtIgnore", "dtIgnore"):
            np.testing.assert_array_equal(mine[key], theirs[key], err_msg=key)


# ----------------------------------------------------------------- fakesegm100


def test_fakesegm100_matches_pycocotools_and_published(data_dir: Path) -> None:
    gt, dt = str(data_dir / GT100), str(data_dir / SEGM100)
    oracle, oracle_text = run_eval(pc_coco.COCO, pc_eval.COCOeval, gt, dt)
    fast, fast_text = run_eval(COCO, COCOeval, gt, dt)
    assert_same(fast, oracle, "fakesegm100")
    assert fast_text == oracle_text
    np.testing.assert_allclose(fast.stats, PUBLISHED_SEGM100, rtol=0, atol=PYCOCOTOOLS_ATOL)


def test_fakesegm100_result_forms_agree(data_dir: Path) -> None:
    """A path, a list of dicts, and the results with a ``bbox`` (as Mask R-CNN writes them)."""
    gt_path, dt_path = str(data_dir / GT100), str(data_dir / SEGM100)
    results = json.loads(Path(dt_path).read_text())
    base, _ = run_eval(COCO, COCOeval, gt_path, dt_path)
    from_list, _ = run_eval(COCO, COCOeval, gt_path, results)
    np.testing.assert_array_equal(from_list.eval["precision"], base.eval["precision"])
    # with a bbox, loadRes takes pycocotools' bbox branch: area = w * h
    import pycocotools.mask as pm

    boxed = [dict(r, bbox=pm.toBbox(r["segmentation"]).tolist()) for r in results]
    oracle, _ = run_eval(pc_coco.COCO, pc_eval.COCOeval, gt_path, boxed)
    fast, _ = run_eval(COCO, COCOeval, gt_path, boxed)
    assert_same(fast, oracle, "with bbox")


def test_fakesegm100_load_res_fields_match_pycocotools(data_dir: Path) -> None:
    gt, dt = str(data_dir / GT100), str(data_dir / SEGM100)
    oracle = ref_load = None
    with contextlib.redirect_stdout(io.StringIO()):
        oracle = pc_coco.COCO(gt).loadRes(dt)
    ref_load = COCO(gt, verbose=False).loadRes(dt, verbose=False)
    mine = ref_load.dataset["annotations"]
    theirs = oracle.dataset["annotations"]
    assert len(mine) == len(theirs)
    for a, b in zip(mine, theirs, strict=True):
        assert a["area"] == b["area"]
        assert a["id"] == b["id"]
        assert a["iscrowd"] == b["iscrowd"]
        assert list(a["bbox"]) == list(b["bbox"])


def test_deprecated_use_segm_runs_segm(data_dir: Path) -> None:
    gt, dt = str(data_dir / GT100), str(data_dir / SEGM100)
    fast, _ = run_eval(COCO, COCOeval, gt, dt)
    with contextlib.redirect_stdout(io.StringIO()):
        g = COCO(gt)
        e = COCOeval(g, g.loadRes(dt), "bbox")
        e.params.useSegm = 1
        e.evaluate()
        e.accumulate()
    assert e.params.iouType == "segm"
    np.testing.assert_array_equal(e.eval["precision"], fast.eval["precision"])


def test_evaluate_coco_segm_equals_pycocotools(data_dir: Path) -> None:
    gt, dt = str(data_dir / GT100), str(data_dir / SEGM100)
    oracle, _ = run_eval(pc_coco.COCO, pc_eval.COCOeval, gt, dt)
    res = evaluate_coco(gt, dt, iou_type="segm")
    np.testing.assert_allclose(list(res.stats.values()), oracle.stats, rtol=0, atol=PYCOCOTOOLS_ATOL)
    np.testing.assert_array_equal(res.precision, oracle.eval["precision"])


def test_pycocotools_objects_accepted(data_dir: Path) -> None:
    gt, dt = str(data_dir / GT100), str(data_dir / SEGM100)
    with contextlib.redirect_stdout(io.StringIO()):
        pg = pc_coco.COCO(gt)
        pd = pg.loadRes(dt)
        e = COCOeval(pg, pd, "segm", verbose=False)
        e.evaluate()
        e.accumulate()
    np.testing.assert_allclose(e._summarize() and e.stats, PUBLISHED_SEGM100, rtol=0, atol=PYCOCOTOOLS_ATOL)


# ------------------------------------------------------ hypothesis data sets


def _compressed(mask: np.ndarray) -> str:
    return ref.rle_to_string(ref.rle_encode(mask)).decode()


@st.composite
def segm_cases(draw: Any) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]]:
    """Images of different sizes; polygon (several parts), compressed-RLE and crowd (uncompressed)
    ground truth; results as compressed RLEs (empty, full, border blocks, noise), polygons or boxes."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    images = [
        {"id": i + 1, "height": draw(st.integers(1, 12)), "width": draw(st.integers(1, 12))}
        for i in range(draw(st.integers(1, 3)))
    ]
    cats = [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]
    anns: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    with_bbox = draw(st.booleans())
    for img in images:
        h, w = img["height"], img["width"]
        for _ in range(draw(st.integers(0, 4))):
            kind = draw(st.sampled_from(["poly", "poly", "crowd", "rle"]))
            crowd = 1 if kind == "crowd" else draw(st.sampled_from([0, 0, 0, 1]))
            if kind == "poly":
                seg: Any = draw(st_polygons(h, w))
            elif kind == "crowd":
                seg = {"size": [h, w], "counts": draw(st_runs(h, w))}
            else:
                seg = {
                    "size": [h, w],
                    "counts": _compressed(_mask_pattern(rng, draw(st.sampled_from(MASK_KINDS)), h, w)),
                }
            anns.append({
                "id": len(anns) + 1, "image_id": img["id"], "category_id": draw(st.sampled_from([1, 2])),
                "segmentation": seg, "area": float(draw(st.integers(0, 150))), "iscrowd": crowd,
                "bbox": [0.0, 0.0, float(w), float(h)],
            })  # fmt: skip
        for _ in range(draw(st.integers(0, 5))):
            r: dict[str, Any] = {
                "image_id": img["id"],
                "category_id": draw(st.sampled_from([1, 2])),
                "score": draw(st.sampled_from([0.1, 0.5, 0.5, 0.9, round(float(rng.random()), 3)])),
            }
            form = draw(st.sampled_from(["rle", "rle", "poly", "box"])) if with_bbox else "rle"
            if form == "rle":
                mask = _mask_pattern(rng, draw(st.sampled_from(MASK_KINDS)), h, w)
                r["segmentation"] = {"size": [h, w], "counts": _compressed(mask)}
            elif form == "poly":
                r["segmentation"] = draw(st_polygons(h, w))
            if with_bbox:
                x, y = float(rng.integers(-1, w + 1)), float(rng.integers(-1, h + 1))
                r["bbox"] = [x, y, float(rng.integers(0, w + 1)), float(rng.integers(0, h + 1))]
            results.append(r)
    if not results:  # pycocotools' loadRes needs one result
        img = images[0]
        results.append({"image_id": img["id"], "category_id": 1, "score": 0.3,
                        "segmentation": {"size": [img["height"], img["width"]],
                                         "counts": _compressed(np.ones((img["height"], img["width"])))}})  # fmt: skip
        if with_bbox:
            results[-1]["bbox"] = [0.0, 0.0, 1.0, 1.0]
    params: dict[str, Any] = {"useCats": draw(st.sampled_from([1, 1, 0]))}
    if draw(st.booleans()):
        params["areaRng"] = [[0, 1e10], [0, 20], [20, 60], [60, 1e10]]
    if draw(st.booleans()):
        params["maxDets"] = draw(st.sampled_from([[1, 2, 3], [1, 3, 5], [0, 1, 2]]))
    return {"images": images, "categories": cats, "annotations": anns}, results, params


def apply(params: dict[str, Any]) -> Any:
    def setup(p: Any) -> None:
        for key, value in params.items():
            setattr(p, key, value)

    return setup


def reference_eval(
    gt: dict[str, Any], results: list[dict[str, Any]], p: Any
) -> tuple[np.ndarray, np.ndarray]:
    """The pixel reference: masks decoded, IoU by counting pixels, loadRes's area and box polygon."""
    size = {img["id"]: (img["height"], img["width"]) for img in gt["images"]}
    gt = copy.deepcopy(gt)
    for g in gt["annotations"]:
        g["_mask"] = ref.ann_mask(g["segmentation"], *size[g["image_id"]])
    with_bbox = "bbox" in results[0]
    dts = []
    for i, r in enumerate(results):
        d = dict(r, id=i + 1, iscrowd=0)
        seg = r.get("segmentation")
        if seg is None:
            x, y, w, h = r["bbox"]
            seg = [[x, y, x, y + h, x + w, y + h, x + w, y]]
        d["_mask"] = ref.ann_mask(seg, *size[r["image_id"]])
        d["area"] = r["bbox"][2] * r["bbox"][3] if with_bbox else float(d["_mask"].sum())
        dts.append(d)
    return ref.evaluate(
        gt, dts, iou_thrs=list(p.iouThrs), rec_thrs=list(p.recThrs), max_dets=list(p.maxDets),
        area_rngs=[tuple(a) for a in p.areaRng], use_cats=bool(p.useCats), pair_iou=ref.segm_pair_iou,
    )  # fmt: skip


@settings(max_examples=40)
@given(segm_cases())
def test_hypothesis_matches_pycocotools_and_reference(case: Any) -> None:
    gt, results, params = case
    oracle, oracle_text = run_eval(pc_coco.COCO, pc_eval.COCOeval, gt, results, apply(params))
    fast, fast_text = run_eval(COCO, COCOeval, gt, results, apply(params))
    assert_same(fast, oracle, json.dumps(params))
    assert fast_text == oracle_text
    precision, recall = reference_eval(gt, results, fast.params)
    np.testing.assert_allclose(fast.eval["precision"], precision, rtol=0, atol=PYCOCOTOOLS_ATOL)
    np.testing.assert_allclose(fast.eval["recall"], recall, rtol=0, atol=PYCOCOTOOLS_ATOL)


# ------------------------------------------------------ bad input

IMG = {"id": 1, "height": 4, "width": 5}
POLY = [[0, 0, 4, 0, 4, 3]]


def gt_dataset(segmentation: Any, image: Any = IMG) -> dict[str, Any]:
    return {
        "images": [image], "categories": [{"id": 1, "name": "a"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "segmentation": POLY, "area": 6.0, "iscrowd": 0,
             "bbox": [0, 0, 4, 3]},
            {"id": 2, "image_id": 1, "category_id": 1, "segmentation": segmentation, "area": 6.0, "iscrowd": 1,
             "bbox": [0, 0, 4, 3]},
        ],
    }  # fmt: skip


RESULT = {"image_id": 1, "category_id": 1, "score": 0.5, "segmentation": {"size": [4, 5], "counts": "04<0"}}
BAD_SEGMENTATIONS = [
    ({"size": [4, 5], "counts": [3, 2]}, r"entry 1 'segmentation'\['counts'\]: the runs add up to 5 pixels"),
    ({"size": [4], "counts": [20]}, r"entry 1 has a 'segmentation' whose 'size' is \[4\]; expected \[height"),
    ({"size": [-4, 5], "counts": "04<0"}, r"entry 1 'segmentation' size: the height must be >= 0, got -4"),
    ({"size": [4, 5], "counts": "0!"}, r"entry 1 'segmentation'\['counts'\] is not a valid compressed RLE"),
    ({"size": [4, 5], "counts": "3"}, r"entry 1 'segmentation': the runs of 'counts' add up to 3 pixels"),
    ([[0, 0, 1, 1]], r"entry 1 has an invalid 'segmentation': part 0 has 4 coordinates"),
    ([[0, 0, 1, 1, 2, 2, 3]], r"entry 1 has an invalid 'segmentation': part 0 has an odd number"),
    ([POLY[0], [1, 2]], r"entry 1 has an invalid 'segmentation': part 1 has 2 coordinates"),
    ([], r"entry 1 has an invalid 'segmentation': is an empty list of polygons"),
    ([[0, 0, 1, "a", 2, 2]], r"entry 1 has a polygon coordinate that is not a number"),
    ([[0, 0, 1, 1e9, 2, 2]], r"entry 1 has a polygon coordinate that is not finite or beyond"),
    ({"size": [4, 5]}, r"entry 1 has a 'segmentation' dict whose 'counts' is NoneType"),
    ("abc", r"entry 1 has 'segmentation' of type str"),
]


@pytest.mark.parametrize(("segmentation", "match"), BAD_SEGMENTATIONS)
def test_bad_ground_truth_masks_name_the_file_and_entry(
    tmp_path: Path, segmentation: Any, match: str
) -> None:
    path = tmp_path / "gt.json"
    path.write_text(json.dumps(gt_dataset(segmentation)))
    gt = COCO(str(path), verbose=False)
    e = COCOeval(gt, gt.loadRes([RESULT]), "segm", verbose=False)
    with pytest.raises(ValueError, match=rf"gt\.json \(ground truth annotations\): {match}"):
        e.evaluate()


@pytest.mark.parametrize(("segmentation", "match"), BAD_SEGMENTATIONS)
def test_bad_result_masks_name_the_file_and_entry(tmp_path: Path, segmentation: Any, match: str) -> None:
    path = tmp_path / "dt.json"
    path.write_text(json.dumps([RESULT, dict(RESULT, segmentation=segmentation)]))
    gt = COCO(gt_dataset(POLY), verbose=False)
    with pytest.raises(ValueError, match=rf"dt\.json: {match}"):
        gt.loadRes(str(path))
    # with a bbox the masks are read when evaluating
    boxed = [dict(r, bbox=[0, 0, 1, 1]) for r in json.loads(path.read_text())]
    e = COCOeval(gt, gt.loadRes(boxed), "segm", verbose=False)
    with pytest.raises(ValueError, match=rf"results list \(results annotations\): {match}"):
        e.evaluate()


def test_result_masks_are_read_only_in_cells_with_ground_truth(tmp_path: Path) -> None:
    """As in pycocotools' computeIoU, a result string in a cell without ground truth is never decoded:
    a bad one there changes nothing; in a cell with ground truth it is an error."""
    gt_data = gt_dataset(POLY)
    gt_data["categories"].append({"id": 2, "name": "b"})  # category 2: no ground truth on image 1
    rle = fmask.merge(fmask.frPyObjects(POLY, 4, 5))
    good = dict(RESULT, bbox=[0, 0, 4, 3], segmentation={"size": [4, 5], "counts": rle["counts"].decode()})
    bad = dict(RESULT, bbox=[0, 0, 1, 1], score=0.9, segmentation={"size": [4, 5], "counts": "0!"})
    gt_path = tmp_path / "gt.json"
    gt_path.write_text(json.dumps(gt_data))
    results = [good, dict(bad, category_id=2)]
    dt_path = tmp_path / "dt.json"
    dt_path.write_text(json.dumps(results))
    oracle, _ = run_eval(pc_coco.COCO, pc_eval.COCOeval, str(gt_path), results)
    assert oracle.stats[0] > 0.99
    for dt in (results, str(dt_path)):  # the dict path and the results file's text
        mine, _ = run_eval(COCO, COCOeval, str(gt_path), dt)
        np.testing.assert_array_equal(mine.stats, oracle.stats)
    dt_path.write_text(json.dumps([good, bad]))  # the bad string in the cell with ground truth
    for dt in ([good, bad], str(dt_path)):
        with pytest.raises(
            ValueError, match=r"entry 1 'segmentation'\['counts'\] is not a valid compressed RLE"
        ):
            run_eval(COCO, COCOeval, str(gt_path), dt)


def _rle10(box: tuple[int, int, int, int], size: int = 10) -> dict[str, Any]:
    m = np.zeros((size, size), np.uint8)
    x, y, w, h = box
    m[y : y + h, x : x + w] = 1
    rle = fmask.encode(np.asfortranarray(m))
    assert isinstance(rle, dict)
    return {"size": rle["size"], "counts": rle["counts"].decode()}


@pytest.mark.parametrize("form", ["dict", "file"])
@pytest.mark.parametrize("boxed", [False, True])
def test_rle_of_its_own_size_evaluates_as_pycocotools(tmp_path: Path, form: str, boxed: bool) -> None:
    """mmdetection's CocoMetric test (in faster-coco-eval's tests too) puts 10x10 RLEs on 640x640
    images. pycocotools keeps an RLE's own ``size``: masks of one size compare as usual, a pair of
    different sizes whose boxes overlap gets IoU -1 (never a match)."""
    img = {"id": 1, "height": 640, "width": 640}
    crowd = {"size": [10, 10], "counts": [60, 10, 30]}  # uncompressed: frPyObjects keeps its size
    gt = {
        "images": [img], "categories": [{"id": 1, "name": "a"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "segmentation": _rle10((0, 0, 5, 5)), "area": 25.0,
             "bbox": [0, 0, 5, 5], "iscrowd": 0},
            {"id": 2, "image_id": 1, "category_id": 1, "segmentation": crowd, "area": 10.0,
             "bbox": [6, 0, 1, 10], "iscrowd": 1},
            {"id": 3, "image_id": 1, "category_id": 1, "segmentation": [[0, 0, 6, 0, 6, 6, 0, 6]], "area": 36.0,
             "bbox": [0, 0, 6, 6], "iscrowd": 0},
        ],
    }  # fmt: skip
    segs = [_rle10((0, 0, 5, 4)), _rle10((0, 0, 6, 6), 640), _rle10((5, 0, 3, 10)), _rle10((2, 2, 8, 8), 12)]
    dets = [
        {"image_id": 1, "category_id": 1, "score": 0.9 - 0.1 * k, "segmentation": seg}
        for k, seg in enumerate(segs)
    ]
    if boxed:
        dets = [dict(d, bbox=fmask.toBbox(d["segmentation"]).tolist()) for d in dets]
    gt_in: Any = gt
    dt_in: Any = dets
    if form == "file":
        (tmp_path / "gt.json").write_text(json.dumps(gt))
        (tmp_path / "dt.json").write_text(json.dumps(dets))
        gt_in, dt_in = str(tmp_path / "gt.json"), str(tmp_path / "dt.json")
    oracle, oracle_text = run_eval(pc_coco.COCO, pc_eval.COCOeval, gt_in, dt_in)
    fast, fast_text = run_eval(COCO, COCOeval, gt_in, dt_in)
    assert_same(fast, oracle)
    assert fast_text == oracle_text
    assert (np.asarray(oracle.ious[1, 1]) == -1).any()  # the case is exercised
    # pycocotools' per-cell method, the slow path's
    np.testing.assert_array_equal(fast.computeIoU(1, 1), oracle.computeIoU(1, 1))
    assert oracle.stats[1] > 0
    assert [a["area"] for a in fast.cocoDt.dataset["annotations"]] == [
        a["area"] for a in oracle.cocoDt.dataset["annotations"]
    ]
    fast_gt, oracle_gt = build_gt(COCO, gt), build_gt(pc_coco.COCO, gt)
    for k in (1, 2, 3):
        mine, theirs = fast_gt.annToRLE(fast_gt.anns[k]), oracle_gt.annToRLE(oracle_gt.anns[k])
        assert mine["size"] == theirs["size"]
        assert fmask.area(mine) == pc_mask.area(theirs)


def test_rle_sizes_as_tuples_or_integral_floats_are_read_as_lists_of_ints() -> None:
    gt = COCO(gt_dataset(POLY), verbose=False)
    rle = fmask.merge(fmask.frPyObjects(POLY, 4, 5))  # the first ground truth's mask
    stats = []
    for size in ([4, 5], (4, 5), [4.0, 5.0]):
        segmentation = {"size": size, "counts": rle["counts"].decode()}
        e = COCOeval(gt, gt.loadRes([dict(RESULT, segmentation=segmentation)]), "segm", verbose=False)
        e.evaluate()
        e.accumulate()
        e._summarize()
        stats.append(e.stats)
    assert stats[0][0] > 0.99  # a perfect match (pycocotools divides by tp + fp + eps)
    np.testing.assert_array_equal(stats[1], stats[0])
    np.testing.assert_array_equal(stats[2], stats[0])


def test_missing_image_size_and_segmentation() -> None:
    gt = COCO(gt_dataset(POLY, image={"id": 1}), verbose=False)
    e = COCOeval(gt, gt.loadRes([dict(RESULT, bbox=[0, 0, 1, 1])]), "segm", verbose=False)
    with pytest.raises(ValueError, match=r"entry 0 is on image 1, which has no 'height' and 'width'"):
        e.evaluate()
    ds = gt_dataset(POLY)
    del ds["annotations"][1]["segmentation"]
    gt = COCO(ds, verbose=False)
    e = COCOeval(gt, gt.loadRes([RESULT]), "segm", verbose=False)
    with pytest.raises(ValueError, match=r"entry 1 has no 'segmentation' field"):
        e.evaluate()
    with pytest.raises(ValueError, match=r"results list: entry 0 has no 'bbox' field"):
        gt.loadRes([{"image_id": 1, "category_id": 1, "score": 0.5}])


def test_polygon_and_uncompressed_results_without_bbox() -> None:
    """pycocotools' loadRes crashes on these; fastdet converts them as annToRLE does."""
    gt = COCO(gt_dataset({"size": [4, 5], "counts": [20]}), verbose=False)
    dt = gt.loadRes(
        [dict(RESULT, segmentation=POLY), dict(RESULT, segmentation={"size": [4, 5], "counts": [5, 10, 5]})]
    )
    anns = dt.dataset["annotations"]
    import pycocotools.mask as pm

    poly_rle = pm.merge(pm.frPyObjects(POLY, 4, 5))
    assert anns[0]["area"] == pm.area(poly_rle)
    assert anns[0]["bbox"] == pm.toBbox(poly_rle).tolist()
    assert anns[1]["area"] == 10.0
    e = COCOeval(gt, dt, "segm", verbose=False)
    e.evaluate()
    assert e.ious[1, 1].shape == (2, 2)


def test_results_with_empty_bbox_take_the_segmentation_branch_as_pycocotools() -> None:
    """pycocotools' loadRes takes a first result with ``"bbox": []`` as a segmentation result and keeps
    every ``[]`` (segm evaluation reads no box); a result's own box is kept."""
    pytest.importorskip("pycocotools")
    from pycocotools.coco import COCO as PycocoCOCO
    from pycocotools.cocoeval import COCOeval as PycocoEval

    other = np.zeros((4, 5), np.uint8, order="F")
    other[1:3, 2:5] = 1
    counts = pytest.importorskip("pycocotools.mask").encode(other)["counts"].decode()
    gt = gt_dataset({"size": [4, 5], "counts": [5, 10, 5]})
    dt = [dict(RESULT, bbox=[], score=0.9), dict(RESULT, score=0.8, segmentation={"size": [4, 5], "counts": counts}),
          dict(RESULT, bbox=[0, 0, 1, 1], score=0.7), dict(RESULT, bbox=[], score=0.6)]  # fmt: skip
    fast, fast_text = run_eval(COCO, COCOeval, gt, dt)
    oracle, oracle_text = run_eval(PycocoCOCO, PycocoEval, gt, dt)
    assert_same(fast, oracle)
    assert fast_text == oracle_text
    for mine, theirs in zip(
        fast.cocoDt.dataset["annotations"], oracle.cocoDt.dataset["annotations"], strict=True
    ):
        assert mine.keys() == theirs.keys()
        for key in ("bbox", "area", "id", "score"):
            assert np.asarray(mine[key]).tolist() == np.asarray(theirs[key]).tolist(), key


def test_ann_to_rle_and_mask_match_pycocotools(data_dir: Path) -> None:
    with contextlib.redirect_stdout(io.StringIO()):
        theirs = pc_coco.COCO(str(data_dir / GT100))
    mine = COCO(str(data_dir / GT100), verbose=False)
    anns = theirs.dataset["annotations"]
    picked = [a for a in anns if a["iscrowd"]][:3] + [a for a in anns if not a["iscrowd"]][:20]
    for ann in picked:
        r_mine, r_theirs = mine.annToRLE(ann), theirs.annToRLE(ann)
        assert r_mine["counts"] == r_theirs["counts"]
        assert list(r_mine["size"]) == list(r_theirs["size"])
        with warnings.catch_warnings():  # pycocotools' Cython decode warns under NumPy 2
            warnings.simplefilter("ignore", DeprecationWarning)
            expected = theirs.annToMask(ann)
        np.testing.assert_array_equal(mine.annToMask(ann), expected)


def test_results_file_with_boxes_read_from_text(tmp_path: Path, data_dir: Path) -> None:
    """Mask R-CNN-style files (bbox + compressed RLE) are decoded from the file text: same numbers,
    escaped backslashes (RLE byte 92) included; other files fall back to the JSON parser."""
    import pycocotools.mask as pm

    gt_path = str(data_dir / GT100)
    results = json.loads((data_dir / SEGM100).read_text())
    boxed = [dict(r, bbox=pm.toBbox(r["segmentation"]).tolist()) for r in results]
    assert any("\\" in r["segmentation"]["counts"] for r in boxed)  # json.dumps writes them as \\
    path = tmp_path / "boxed.json"
    path.write_text(json.dumps(boxed))
    oracle, _ = run_eval(pc_coco.COCO, pc_eval.COCOeval, gt_path, str(path))
    fast, _ = run_eval(COCO, COCOeval, gt_path, str(path))
    assert_same(fast, oracle, "boxed file")
    # the results' dicts looked at before the evaluation (the file text is parsed into ``dataset``)
    looked = COCO(gt_path, verbose=False).loadRes(str(path))
    assert len(looked.anns) == len(boxed)
    e = COCOeval(COCO(gt_path, verbose=False), looked, "segm", verbose=False)
    e.evaluate()
    e.accumulate()
    np.testing.assert_array_equal(e.eval["precision"], oracle.eval["precision"])
    # some entries without segmentation (box polygons) and one polygon: the parser's path
    mixed = [dict(r) for r in boxed]
    del mixed[0]["segmentation"]
    mixed[1]["segmentation"] = [[10, 10, 50, 10, 50, 60, 10, 60]]
    path.write_text(json.dumps(mixed, indent=1))
    oracle, _ = run_eval(pc_coco.COCO, pc_eval.COCOeval, gt_path, str(path))
    fast, _ = run_eval(COCO, COCOeval, gt_path, str(path))
    assert_same(fast, oracle, "mixed file")
    # a size its counts do not fill, read from the text (a size other than the image's is kept, as in
    # pycocotools, so the counts are checked against it)
    bad = [dict(r) for r in boxed]
    bad[5] = dict(bad[5], segmentation=dict(bad[5]["segmentation"], size=[1, 2]))
    path.write_text(json.dumps(bad))
    e = COCOeval(
        COCO(gt_path, verbose=False), COCO(gt_path, verbose=False).loadRes(str(path)), "segm", verbose=False
    )
    with pytest.raises(
        ValueError,
        match=r"boxed\.json \(results annotations\): entry 5 'segmentation': the runs of 'counts' add up "
        r"to \d+ pixels, but 'size' \[1, 2\] has 2",
    ):
        e.evaluate()


# ------------------------------------------------------ the results-file scanner

RLE_CHARS = "".join(chr(c) for c in range(48, 112))  # includes the backslash (92), escaped in JSON


@st.composite
def result_files(draw: Any) -> tuple[list[dict[str, Any]], str]:
    entries = []
    for _ in range(draw(st.integers(0, 6))):
        e: dict[str, Any] = {"image_id": draw(st.integers(0, 9)), "score": 0.5}
        if draw(st.booleans()):
            e["bbox"] = [1.5, 2, 3, 4e1]
        if draw(st.integers(0, 5)):
            seg = {"size": [draw(st.integers(0, 5000)), draw(st.integers(0, 5000))],
                   "counts": draw(st.text(RLE_CHARS, max_size=30))}  # fmt: skip
            if draw(st.booleans()):
                seg = {"counts": seg["counts"], "extra": [{"a": "}"}], "size": seg["size"]}
            e["segmentation"] = seg
        if draw(st.booleans()):
            e["note"] = draw(st.text(max_size=5))
        entries.append(e)
    text = json.dumps(entries, indent=draw(st.sampled_from([None, 1])), ensure_ascii=draw(st.booleans()))
    return entries, text


@given(result_files())
def test_find_counts_agrees_with_the_json_parser(case: Any) -> None:
    """Reference: json.loads; every entry's counts string and size, or no segmentation."""
    from fastdet._kernels import segmscan

    entries, text = case
    raw = text.encode()
    buf = np.frombuffer(raw, np.uint8)
    spans = np.empty((len(entries) + 1, 5), np.int64)
    assert segmscan.find_counts(buf, spans) == len(entries)
    for e, (start, stop, h, w, esc) in zip(entries, spans.tolist(), strict=False):
        if "segmentation" not in e:
            assert start == -1
            continue
        seg = e["segmentation"]
        assert [h, w] == seg["size"]
        lengths = np.array([0, stop - start - esc])
        dst = np.empty(int(lengths[-1]), np.uint8)
        segmscan.gather_counts(buf, np.array([[start, stop, h, w, esc]], np.int64), lengths, dst)
        assert dst.tobytes().decode() == seg["counts"]


@pytest.mark.parametrize(
    "text",
    ['[{"segmentation": [[1, 2, 3, 4, 5, 6]]}]', '[{"segmentation": {"size": [1.0, 2], "counts": "0"}}]',
     '[{"segmentation": {"size": [1, 2], "counts": "\\u0030"}}]', '{"a": 1}', '[{"a": 1} 2]',
     '[{"segmentation": {"size": [1, 2]}}]', '[{"segmentation": {"size": [1, 2], "counts": "0", "size": [1, 2]}}]'],
)  # fmt: skip
def test_find_counts_leaves_other_files_to_the_parser(text: str) -> None:
    from fastdet._kernels import segmscan

    spans = np.empty((4, 5), np.int64)
    assert segmscan.find_counts(np.frombuffer(text.encode(), np.uint8), spans) == -1


def test_segmentations_without_boxes_evaluate_as_segm_only() -> None:
    """Data sets without ``bbox`` (torchmetrics builds them for segm) evaluate as segm, as in
    pycocotools, and bbox evaluation of them is a ValueError naming the entry (pycocotools: KeyError)."""
    from pycocotools.coco import COCO as PcCOCO
    from pycocotools.cocoeval import COCOeval as PcCOCOeval

    square = [[2.0, 2.0, 12.0, 2.0, 12.0, 12.0, 2.0, 12.0]]
    shifted = [[3.0, 2.0, 13.0, 2.0, 13.0, 12.0, 3.0, 12.0]]
    gt = {
        "images": [{"id": 1, "height": 20, "width": 20}],
        "categories": [{"id": 1, "name": "a"}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "segmentation": square,
                         "area": 100.0, "iscrowd": 0}],
    }  # fmt: skip
    dt = {
        "images": gt["images"],
        "categories": gt["categories"],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "segmentation": shifted,
                         "area": 100.0, "score": 0.9, "iscrowd": 0}],
    }  # fmt: skip

    def run(coco_cls: Any, eval_cls: Any, iou_type: str) -> Any:
        with contextlib.redirect_stdout(io.StringIO()):
            g, d = coco_cls(), coco_cls()
            g.dataset, d.dataset = json.loads(json.dumps(gt)), json.loads(json.dumps(dt))
            g.createIndex()
            d.createIndex()
            ev = eval_cls(g, d, iou_type)
            ev.evaluate()
            ev.accumulate()
            ev.summarize()
        return ev

    mine, oracle = run(COCO, COCOeval, "segm"), run(PcCOCO, PcCOCOeval, "segm")
    np.testing.assert_array_equal(mine.eval["precision"], oracle.eval["precision"])
    np.testing.assert_array_equal(mine.stats, oracle.stats)
    with pytest.raises(ValueError, match="entry 0 has no 'bbox' field"):
        run(COCO, COCOeval, "bbox")
