"""fastdet.coco against pycocotools (the oracle), the naive reference and the published numbers."""

from __future__ import annotations

import contextlib
import copy
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import reference as ref
from conftest import PYCOCOTOOLS_ATOL
from hypothesis import given, settings
from hypothesis import strategies as st

from fastdet.coco import COCO, COCOeval, CocoEvalResult, Params, evaluate_coco

pc_coco = pytest.importorskip("pycocotools.coco")
pc_eval = pytest.importorskip("pycocotools.cocoeval")

# every float comparison with pycocotools (and the naive reference): see conftest.PYCOCOTOOLS_ATOL
TEST_RTOL = PYCOCOTOOLS_ATOL

# (name, ground truth, results) under data/
CASES = [
    ("fake100", "coco-val2014-fake100/instances_val2014_100.json",
     "coco-val2014-fake100/instances_val2014_fakebbox100_results.json"),
    ("fake100-bboxarea", "coco-val2014-fake100-bboxarea/sampled_gts_bbox_area.json",
     "coco-val2014-fake100-bboxarea/cocoapi_results.json"),
    ("img2299-crowd", "coco-val2017-img2299-crowd/gt_ignore_test_intids.json",
     "coco-val2017-img2299-crowd/dt_ignore_test.json"),
    ("d2-tiny", "d2-coco-tiny/gt_annotations.json", "d2-coco-tiny/detections.json"),
    ("fce-synthetic3", "coco-fce-synthetic3/gt_dataset.json", "coco-fce-synthetic3/dt_dataset.json"),
]  # fmt: skip

# Published / recorded pycocotools 2.0.11 bbox stats (data/*/PROVENANCE.md), independent of this run.
PUBLISHED = {
    "fake100": [0.5045806987249628, 0.6969727247299577, 0.5729816669904824, 0.5856257209410443,
                0.5193996948036719, 0.5013978986347466, 0.38681277964578054, 0.5936795762842003,
                0.595352982877607, 0.6398109626113442, 0.5664205978994309, 0.5642905982905982],
    "fake100-bboxarea": [0.5036473243630208, 0.6969727247299577, 0.5716670593726122, 0.593252103002719,
                         0.5579906676111427, 0.48936321019618756, 0.38681277964578054, 0.5936795762842003,
                         0.595352982877607, 0.6547641893777741, 0.6031300236406619, 0.5537444355958507],
    "img2299-crowd": [0.7099009900990099, 1.0, 0.8415841584158416, -1.0, 0.7099009900990099, -1.0, 0.0,
                      0.45384615384615384, 0.7153846153846154, -1.0, 0.7153846153846154, -1.0],
    "d2-tiny": [0.7504950495049505, 1.0, 1.0, 0.6999999999999998, 0.7999999999999999, -1.0, 0.4, 0.75, 0.75,
                0.7, 0.8, -1.0],
    "fce-synthetic3": [0.6947194719471946, 0.6947194719471946, 0.6947194719471946, -1.0, 0.7920792079207921,
                       0.0, 0.6666666666666666, 0.75, 0.75, -1.0, 0.7916666666666666, 0.0],
}  # fmt: skip


def quiet(fn: Any, *args: Any, **kwargs: Any) -> Any:
    with contextlib.redirect_stdout(io.StringIO()):
        return fn(*args, **kwargs)


def run_eval(cls_coco: Any, cls_eval: Any, gt: Any, dt: Any, setup: Any = None) -> tuple[Any, str]:
    """Load, evaluate, accumulate, summarize; return the evaluator and the summary text."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        if isinstance(gt, dict):  # pycocotools' COCO takes a path only; build it as detectron2 does
            cg = cls_coco()
            cg.dataset = copy.deepcopy(gt)
            cg.createIndex()
        else:
            cg = cls_coco(gt)
        cd = cg.loadRes(copy.deepcopy(dt) if isinstance(dt, list) else dt)
        e = cls_eval(cg, cd, "bbox")
        if setup is not None:
            setup(e.params)
        e.evaluate()
        e.accumulate()
        start = len(out.getvalue())
        if len(e.params.maxDets) >= 3:
            e.summarize()
    return e, out.getvalue()[start:]


def assert_same(fast: Any, oracle: Any, label: str = "") -> None:
    """Stats and the full precision / recall / scores arrays equal to 1e-12."""
    fs, os_ = np.asarray(fast.stats, float), np.asarray(oracle.stats, float)
    msg = f"{label}\nfastdet     {fs.tolist()}\npycocotools {os_.tolist()}\ndiff        {(fs - os_).tolist() if fs.shape == os_.shape else 'shape'}"
    assert fs.shape == os_.shape, msg
    np.testing.assert_allclose(fs, os_, rtol=0, atol=TEST_RTOL, err_msg=msg)
    for key in ("precision", "recall", "scores"):
        np.testing.assert_allclose(
            fast.eval[key], oracle.eval[key], rtol=0, atol=TEST_RTOL, err_msg=f"{label} {key}\n{msg}"
        )
    assert fast.eval["counts"] == oracle.eval["counts"]


# ----------------------------------------------------------------- data sets


@pytest.mark.parametrize(("name", "gt", "dt"), CASES, ids=[c[0] for c in CASES])
def test_data_sets_match_pycocotools(data_dir: Path, name: str, gt: str, dt: str) -> None:
    oracle, text_o = run_eval(pc_coco.COCO, pc_eval.COCOeval, str(data_dir / gt), str(data_dir / dt))
    fast, text_f = run_eval(COCO, COCOeval, str(data_dir / gt), str(data_dir / dt))
    assert_same(fast, oracle, name)
    assert text_f == text_o  # the printed summary, character for character
    assert fast.stats.tolist() == PUBLISHED[name]


def test_d2_tiny_keeps_floating_point_average(data_dir: Path) -> None:
    fast, _ = run_eval(COCO, COCOeval, str(data_dir / CASES[3][1]), str(data_dir / CASES[3][2]))
    assert fast.stats[3] == 0.6999999999999998
    assert fast.stats[4] == 0.7999999999999999


def test_img2299_iou_matrix_and_score_filter(data_dir: Path) -> None:
    base = data_dir / "coco-val2017-img2299-crowd"
    dets = [d for d in json.loads((base / "dt_ignore_test.json").read_text()) if d["score"] >= 0.1]
    assert len(dets) == 36
    fast, _ = run_eval(COCO, COCOeval, str(base / "gt_ignore_test_intids.json"), dets)
    expected = json.loads((base / "ious_img2299_cat1.json").read_text())
    assert fast.cocoGt.getAnnIds(imgIds=[2299]) == expected["gt_ids"]  # columns in file order
    np.testing.assert_array_equal(fast.ious[(2299, 1)], np.array(expected["ious"]))  # exactly
    assert fast.stats.tolist() == PUBLISHED["img2299-crowd"]


def test_pycocotools_objects_accepted(data_dir: Path) -> None:
    gt, dt = (str(data_dir / p) for p in CASES[0][1:])
    oracle, _ = run_eval(pc_coco.COCO, pc_eval.COCOeval, gt, dt)
    pg = quiet(pc_coco.COCO, gt)
    pd = quiet(pg.loadRes, dt)
    fast = COCOeval(pg, pd, "bbox", verbose=False)
    fast.evaluate()
    fast.accumulate()
    quiet(fast.summarize)
    assert_same(fast, oracle, "pycocotools objects")
    res = evaluate_coco(pg, dt)
    assert list(res.stats.values()) == oracle.stats.tolist()


def test_load_res_forms_agree(data_dir: Path) -> None:
    gt, dt = (str(data_dir / p) for p in CASES[0][1:])
    anns = json.loads(Path(dt).read_text())
    arr = np.array([[a["image_id"], *a["bbox"], a["score"], a["category_id"]] for a in anns])
    snapshot = copy.deepcopy(anns)
    stats = []
    for form in (dt, anns, arr):
        fast, _ = run_eval(COCO, COCOeval, gt, form)
        stats.append(fast.stats.tolist())
    assert stats[0] == stats[1] == stats[2] == PUBLISHED["fake100"]
    assert anns == snapshot  # the caller's dicts are not modified


def test_lazy_tables_match_pycocotools(data_dir: Path) -> None:
    gt, dt = (str(data_dir / p) for p in CASES[0][1:])
    pg = quiet(pc_coco.COCO, gt)
    pd = quiet(pg.loadRes, dt)
    fg = COCO(gt, verbose=False)
    fd = fg.loadRes(dt)
    assert not {"anns", "imgToAnns", "catToImgs"} & set(fg._index)  # no per-annotation dicts built yet
    assert fd._dataset is None
    assert not {"anns", "imgToAnns"} & set(fd._index)
    assert fg.anns == pg.anns
    assert fg.imgs == pg.imgs
    assert fg.cats == pg.cats
    assert fg.imgToAnns == pg.imgToAnns
    assert fg.catToImgs == pg.catToImgs
    assert fd.dataset["annotations"] == pd.dataset["annotations"]
    assert fd.anns == pd.anns
    assert fd.imgs == pd.imgs
    assert fd.cats == pd.cats
    for kwargs in ({}, {"imgIds": [139, 42]}, {"catIds": [1, 3]}, {"areaRng": [100, 5000]},
                   {"imgIds": 139, "iscrowd": False}, {"catIds": 1, "iscrowd": True}):  # fmt: skip
        assert fg.getAnnIds(**kwargs) == pg.getAnnIds(**kwargs), kwargs
    assert sorted(fg.getImgIds(catIds=[1, 3])) == sorted(pg.getImgIds(catIds=[1, 3]))
    assert fg.getCatIds(catNms=["person", "dog"]) == pg.getCatIds(catNms=["person", "dog"])
    assert fg.getCatIds(supNms="animal") == pg.getCatIds(supNms="animal")
    ids = fg.getAnnIds(imgIds=[139])
    assert fg.loadAnns(ids) == pg.loadAnns(ids)
    assert fg.loadImgs([139]) == pg.loadImgs([139])
    assert fg.loadCats(1) == pg.loadCats(1)


def test_eval_imgs_and_ious_match_pycocotools(data_dir: Path) -> None:
    gt, dt = (str(data_dir / p) for p in CASES[0][1:])
    oracle, _ = run_eval(pc_coco.COCO, pc_eval.COCOeval, gt, dt)
    fast, _ = run_eval(COCO, COCOeval, gt, dt)
    assert set(fast.ious) == set(oracle.ious)
    for key, value in oracle.ious.items():
        np.testing.assert_array_equal(np.asarray(fast.ious[key]), np.asarray(value), err_msg=str(key))
    assert len(fast.evalImgs) == len(oracle.evalImgs)
    for mine, theirs in zip(fast.evalImgs, oracle.evalImgs, strict=False):
        assert (mine is None) == (theirs is None)
        if theirs is None:
            continue
        for key in ("image_id", "category_id", "maxDet", "dtIds", "gtIds", "dtScores"):
            assert mine[key] == theirs[key], key
        assert list(mine["aRng"]) == list(theirs["aRng"])
        for key in ("dtMatches", "gtMatches", "gtIgnore", "dtIgnore"):
            np.testing.assert_array_equal(mine[key], theirs[key], err_msg=key)


# ------------------------------------------------------ hypothesis data sets


@st.composite
def coco_pairs(draw: Any) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]]:
    """A tiny ground truth, results and evaluation parameters covering the edge cases."""
    n_img = draw(st.integers(1, 4))
    cat_ids = draw(st.lists(st.integers(1, 6), min_size=1, max_size=3, unique=True))
    first_id = draw(st.sampled_from([1, 1, 0]))  # id 0: pycocotools' "unmatched" sentinel
    coords = st.integers(0, 12).map(lambda v: v * 2.5)
    sizes = st.integers(0, 8).map(lambda v: v * 2.5)
    areas = st.sampled_from([0.0, 50.0, 1024.0, 3000.0, 9216.0, 20000.0, 1e10])
    anns: list[dict[str, Any]] = []
    boxes_by_img: dict[int, list[list[float]]] = {}
    for img in range(1, n_img + 1):
        for _ in range(draw(st.integers(0, 5))):  # images may have no ground truth
            box = [draw(coords), draw(coords), draw(sizes), draw(sizes)]
            boxes_by_img.setdefault(img, []).append(box)
            ann = {
                "id": first_id + len(anns),
                "image_id": img,
                "category_id": draw(st.sampled_from(cat_ids)),
                "bbox": box,
                "area": draw(areas),
                "iscrowd": int(draw(st.integers(0, 5)) == 0),
            }
            if draw(st.booleans()):
                ann["ignore"] = draw(st.integers(0, 1))  # pycocotools never reads it
            anns.append(ann)
    extra_cat = max(cat_ids) + 1  # a category without ground truth, detections allowed
    results: list[dict[str, Any]] = []
    scores = st.sampled_from([0.1, 0.5, 0.5, 0.9, 0.9, 0.3, 1.0])  # ties on purpose
    for img in range(1, n_img + 1):
        for _ in range(draw(st.integers(0, 8))):
            near = boxes_by_img.get(img)
            if near and draw(st.booleans()):
                b = draw(st.sampled_from(near))
                box = [
                    b[0] + draw(st.sampled_from([0, 0, 1.25, -2.5])),
                    b[1],
                    b[2] + draw(st.sampled_from([0, 2.5])),
                    b[3],
                ]
            else:
                box = [draw(coords), draw(coords), draw(sizes), draw(sizes)]
            cat = draw(st.sampled_from([*cat_ids, extra_cat]))
            results.append({"image_id": img, "category_id": cat, "bbox": box, "score": draw(scores)})
    gt = {
        "images": [{"id": i} for i in range(1, n_img + 1)],
        "categories": [{"id": c, "name": str(c)} for c in [*cat_ids, extra_cat]],
        "annotations": anns,
    }
    params: dict[str, Any] = {"useCats": draw(st.sampled_from([1, 1, 0]))}
    if draw(st.booleans()):
        params["maxDets"] = sorted(draw(st.lists(st.integers(1, 5), min_size=3, max_size=3, unique=True)))
    if draw(st.booleans()):
        thr = draw(
            st.lists(
                st.sampled_from([0.1, 0.3, 0.5, 0.6, 0.75, 0.9, 1.0]), min_size=1, max_size=4, unique=True
            )
        )
        params["iouThrs"] = np.array(sorted(thr))
    if draw(st.booleans()):
        params["recThrs"] = draw(
            st.sampled_from(
                [
                    np.linspace(0, 1, 11),
                    np.array([0.5, 0.0, 1.0, 0.25]),
                    np.array([-0.1, 0.0, 1 / 3, 2 / 3, 1.0]),
                ]
            )
        )  # unsorted thresholds: pycocotools stops at the first unreachable one
    if draw(st.booleans()):
        params["areaRng"] = [[0, 1e10], [0, 1024], [1024, 9216], [9216, 1e10], [40.0, 5000.0]]
        params["areaRngLbl"] = ["all", "small", "medium", "large", "custom"]
    return gt, results, params


def apply(params: dict[str, Any]) -> Any:
    def setup(p: Any) -> None:
        for key, value in params.items():
            setattr(p, key, copy.deepcopy(value))

    return setup


@settings(deadline=None)
@given(case=coco_pairs())
def test_hypothesis_matches_pycocotools(case: Any) -> None:
    gt, results, params = case
    if not results:  # pycocotools' loadRes cannot take an empty list
        results = [
            {"image_id": 1, "category_id": gt["categories"][0]["id"], "bbox": [0, 0, 5, 5], "score": 0.4}
        ]
    oracle, text_o = run_eval(pc_coco.COCO, pc_eval.COCOeval, gt, results, apply(params))
    fast, text_f = run_eval(COCO, COCOeval, gt, results, apply(params))
    assert_same(fast, oracle, json.dumps(params, default=str))
    assert text_f == text_o
    if "recThrs" in params and np.any(np.diff(params["recThrs"]) < 0):
        return  # the naive reference reads thresholds independently; pycocotools stops early
    # the naive reference agrees on the arrays too
    res = [dict(d, id=i + 1, area=d["bbox"][2] * d["bbox"][3]) for i, d in enumerate(results)]
    p = Params("bbox")
    apply(params)(p)
    precision, recall = ref.evaluate(
        gt, res, iou_thrs=list(p.iouThrs), rec_thrs=list(p.recThrs), max_dets=p.maxDets,
        area_rngs=[tuple(r) for r in p.areaRng], use_cats=bool(p.useCats),
    )  # fmt: skip
    np.testing.assert_allclose(fast.eval["precision"], precision, rtol=0, atol=TEST_RTOL)
    np.testing.assert_allclose(fast.eval["recall"], recall, rtol=0, atol=TEST_RTOL)


@settings(deadline=None, max_examples=25)
@given(case=coco_pairs(), subset=st.data())
def test_hypothesis_subsets_and_duplicates_in_params(case: Any, subset: Any) -> None:
    """imgIds / catIds subsets (and, without categories, repeated catIds) as pycocotools reads them."""
    gt, results, params = case
    if not results:
        return
    img_ids = [i["id"] for i in gt["images"]]
    cats = [c["id"] for c in gt["categories"]]
    params["imgIds"] = subset.draw(st.lists(st.sampled_from([*img_ids, 99]), min_size=1, max_size=5))
    params["catIds"] = subset.draw(st.lists(st.sampled_from(cats), min_size=1, max_size=4))
    oracle, text_o = run_eval(pc_coco.COCO, pc_eval.COCOeval, gt, results, apply(params))
    fast, text_f = run_eval(COCO, COCOeval, gt, results, apply(params))
    assert_same(fast, oracle, json.dumps(params, default=str))
    assert text_f == text_o


# ----------------------------------------------------------- evaluate_coco


def test_evaluate_coco_default_keys_equal_pycocotools(data_dir: Path) -> None:
    gt, dt = (str(data_dir / p) for p in CASES[1][1:])
    res = evaluate_coco(gt, dt)
    assert isinstance(res, CocoEvalResult)
    assert list(res.stats) == [
        "AP",
        "AP50",
        "AP75",
        "APs",
        "APm",
        "APl",
        "AR1",
        "AR10",
        "AR100",
        "ARs",
        "ARm",
        "ARl",
    ]
    assert list(res.stats.values()) == PUBLISHED["fake100-bboxarea"]
    assert res.precision.shape == (10, 101, 80, 4, 3)
    assert res.recall.shape == (10, 80, 4, 3)
    with pytest.raises(AttributeError):
        res.stats = {}  # type: ignore[misc]


def test_evaluate_coco_per_class_and_custom_max_dets(data_dir: Path) -> None:
    gt, dt = (str(data_dir / p) for p in CASES[0][1:])
    oracle, _ = run_eval(pc_coco.COCO, pc_eval.COCOeval, gt, dt, apply({"maxDets": [1, 10, 300]}))
    res = evaluate_coco(gt, dt, max_detections=(300, 1, 10))
    assert list(res.stats) == ["AP@300", "AP50@300", "AP75@300", "APs@300", "APm@300", "APl@300",
                               "AR1", "AR10", "AR300", "ARs@300", "ARm@300", "ARl@300"]  # fmt: skip
    prec = oracle.eval["precision"]
    top = prec[:, :, :, 0, 2]
    assert res.stats["AP@300"] == np.mean(top[top > -1])  # pycocotools' stats[0] would be -1 here
    assert oracle.stats[0] == -1
    assert res.stats["AP50@300"] == oracle.stats[1]
    assert res.stats["AR300"] == oracle.stats[8]
    cats = quiet(pc_coco.COCO, gt).getCatIds()
    for k, cat in enumerate(sorted(cats)):
        s = prec[:, :, k, 0, 2]
        expected = np.mean(s[s > -1]) if (s > -1).any() else -1.0
        assert res.per_class_ap[cat] == expected
    assert min(res.per_class_ap.values()) == -1.0  # fake100 has categories without ground truth


def test_evaluate_coco_use_cats_and_areas(data_dir: Path) -> None:
    gt, dt = (str(data_dir / p) for p in CASES[0][1:])
    areas = {"all": (0.0, 1e10), "tiny": (0.0, 256.0), "large": (9216.0, 1e10)}
    oracle, _ = run_eval(
        pc_coco.COCO, pc_eval.COCOeval, gt, dt,
        apply({"useCats": 0, "areaRng": [list(v) for v in areas.values()], "areaRngLbl": list(areas)}),
    )  # fmt: skip
    res = evaluate_coco(gt, dt, use_cats=False, area_ranges=areas)
    assert list(res.stats) == [
        "AP",
        "AP50",
        "AP75",
        "AP_tiny",
        "APl",
        "AR1",
        "AR10",
        "AR100",
        "AR_tiny",
        "ARl",
    ]
    np.testing.assert_array_equal(res.precision, oracle.eval["precision"])
    assert res.stats["APl"] == oracle.stats[5]
    assert res.stats["AP"] == oracle.stats[0]
    assert res.cat_ids == [-1]


def test_no_detections(data_dir: Path) -> None:
    gt = str(data_dir / CASES[3][1])
    res = evaluate_coco(gt, [])
    assert res.stats["AP"] == 0.0
    assert res.stats["AR100"] == 0.0
    assert res.stats["APl"] == -1.0


def test_empty_ground_truth_gives_minus_one() -> None:
    gt = {"images": [{"id": 1}], "categories": [{"id": 1, "name": "a"}], "annotations": []}
    res = evaluate_coco(gt, [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 0.5}])
    assert set(res.stats.values()) == {-1.0}


# ------------------------------------------------------------------ errors

GT = {
    "images": [{"id": 1}, {"id": 2}],
    "categories": [{"id": 1, "name": "a"}],
    "annotations": [
        {"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 4, 4], "area": 16, "iscrowd": 0}
    ],
}
DT = {"image_id": 1, "category_id": 1, "bbox": [0, 0, 4, 4], "score": 0.5}


def gt_coco() -> COCO:
    return COCO(copy.deepcopy(GT), verbose=False)


@pytest.mark.parametrize(
    ("entry", "match"),
    [
        ({"image_id": 1, "category_id": 1, "score": 0.5}, r"results list: entry 1 has no 'bbox' field"),
        (dict(DT, bbox=[0, 0, 4]), r"entry 1 has bbox=\[0, 0, 4\]; expected 4 numbers"),
        (dict(DT, bbox=[0, 0, "4", 4]), r"entry 1 has bbox=.*expected 4 numbers"),
        (dict(DT, bbox=[0, 0, float("inf"), 4]), r"entry 1 has bbox=.*4 finite numbers"),
        (dict(DT, score=float("nan")), r"entry 1 has score=nan"),
        (dict(DT, score=None), r"entry 1 has score=None; expected a number"),
        (dict(DT, image_id=7), r"entry 1 is on image_id 7, which is not in the ground truth"),
        (dict(DT, image_id=1.5), r"entry 1 has image_id=1.5; expected an integer"),
        (dict(DT, category_id=[1]), r"entry 1 has category_id=\[1\]; expected an integer or a string id"),
        (dict(DT, image_id=2**64), r"entry 1 has image_id=18446744073709551616, outside int64's range"),
        ("not a dict", r"entry 1 must be an object"),
    ],
)
def test_load_res_errors_name_the_entry(entry: Any, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        gt_coco().loadRes([dict(DT), entry])


def test_file_errors_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "broken.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match=r"broken\.json: not valid JSON"):
        COCO(bad, verbose=False)
    with pytest.raises(ValueError, match=r"broken\.json: not valid JSON"):
        gt_coco().loadRes(str(bad))
    lst = tmp_path / "list.json"
    lst.write_text("[1, 2]")
    with pytest.raises(ValueError, match=r"list\.json: annotation file format list not supported"):
        COCO(str(lst), verbose=False)
    res = tmp_path / "res.json"
    res.write_text(json.dumps([DT, dict(DT, bbox=[1, 2, 3, float("nan")])]).replace("NaN", "null"))
    with pytest.raises(ValueError, match=r"res\.json: entry 1 has bbox=\[1, 2, 3, None\]"):
        gt_coco().loadRes(str(res))
    obj = tmp_path / "obj.json"
    obj.write_text("{}")
    with pytest.raises(ValueError, match=r"obj\.json: results must be a list"):
        gt_coco().loadRes(str(obj))
    with pytest.raises(ValueError, match=r"missing\.json: file does not exist"):
        COCO(tmp_path / "missing.json", verbose=False)


def test_ground_truth_errors_name_the_file(tmp_path: Path) -> None:
    data = copy.deepcopy(GT)
    data["annotations"].append({"id": 2, "image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "area": 1})
    path = tmp_path / "gt.json"
    path.write_text(json.dumps(data))
    gt = COCO(path, verbose=False)  # loading alone does not need iscrowd
    e = COCOeval(gt, gt.loadRes([DT]), verbose=False)
    with pytest.raises(ValueError, match=r"gt\.json \(ground truth annotations\): entry 1 has no 'iscrowd'"):
        e.evaluate()
    data["annotations"][1]["iscrowd"] = 0
    data["annotations"][1]["id"] = 1
    gt = COCO(data, verbose=False)
    with pytest.raises(ValueError, match=r"entries 0 and 1 share annotation id 1"):
        COCOeval(gt, gt.loadRes([DT]), verbose=False).evaluate()
    data["annotations"][1].update(id=2, iscrowd=0.5 + 300)
    gt = COCO(data, verbose=False)
    with pytest.raises(ValueError, match=r"entry 1 has iscrowd=300.5"):
        COCOeval(gt, gt.loadRes([DT]), verbose=False).evaluate()


def test_array_results_validated() -> None:
    with pytest.raises(ValueError, match=r"resFile must have shape \(N, 7\)"):
        gt_coco().loadRes(np.zeros((2, 6)))
    with pytest.raises(ValueError, match=r"resFile row 1 contains NaN"):
        gt_coco().loadRes(np.array([[1, 0, 0, 1, 1, 0.5, 1], [1, 0, 0, 1, 1, np.nan, 1]]))
    with pytest.raises(ValueError, match=r"entry 0 is on image_id 9"):
        gt_coco().loadRes(np.array([[9, 0, 0, 1, 1, 0.5, 1]]))


def test_other_errors() -> None:
    with pytest.raises(ValueError, match="iouType must be 'bbox'"):
        COCOeval(gt_coco(), gt_coco(), "boxes")
    with pytest.raises(ValueError, match=r"results list: entry 0 has a 'segmentation' dict whose 'counts'"):
        gt_coco().loadRes([{"image_id": 1, "category_id": 1, "segmentation": {}, "score": 1.0}])
    e = COCOeval(gt_coco(), gt_coco().loadRes([DT]), verbose=False)
    with pytest.raises(RuntimeError, match=r"run evaluate\(\) first"):
        e.accumulate()
    with pytest.raises(RuntimeError, match=r"run accumulate\(\) first"):
        e.summarize()
    e.params.maxDets = [1]
    e.evaluate()
    e.accumulate()
    with pytest.raises(IndexError, match=r"params.maxDets is \[1\]"):  # pycocotools raises IndexError too
        e.summarize()
    e.params.maxDets = [1, -1, 5]
    with pytest.raises(ValueError, match=r"params\.maxDets must be non-negative integers"):
        e.evaluate()
    with pytest.raises(TypeError, match="cocoDt must be a COCO object"):
        COCOeval(gt_coco(), [DT], verbose=False).evaluate()
    with pytest.raises(ValueError, match="area_ranges must contain an 'all' range"):
        evaluate_coco(GT, [DT], area_ranges={"small": (0, 10)})
    with pytest.raises(ValueError, match="max_detections must be non-negative"):
        evaluate_coco(GT, [DT], max_detections=())
    with pytest.raises(TypeError, match="gt must be a COCO object"):
        evaluate_coco(42, [DT])


def test_verbose_output_matches_pycocotools_lines() -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        gt = COCO(copy.deepcopy(GT))
        e = COCOeval(gt, gt.loadRes([DT]), "bbox")
        e.evaluate()
        e.accumulate()
    text = out.getvalue()
    for line in ("creating index...", "index created!", "Loading and preparing results...",
                 "Running per image evaluation...", "Evaluate annotation type *bbox*",
                 "Accumulating evaluation results..."):  # fmt: skip
        assert line in text
    assert "Average Precision" in str(e.__class__.__str__(e)) if e.eval else True


# ------------------------------------------------------------- kernels, cache


@pytest.mark.parametrize("seed", range(4))
def test_radix_argsort_is_a_stable_descending_sort(seed: int) -> None:
    from fastdet._kernels.coco import _radix_argsort_desc

    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 20_000))
    pools = [
        np.round(rng.random(n), 3),  # many ties
        rng.normal(size=n) * 10.0 ** rng.integers(-5, 5, n),
        rng.choice(np.array([0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, 5e-324, -5e-324]), n),
        np.full(n, 0.25),
    ]
    for score in pools:
        np.testing.assert_array_equal(_radix_argsort_desc(score), np.argsort(-score, kind="mergesort"))


def test_large_category_matches_pycocotools() -> None:
    """Over 4096 detections in one category: the accumulation's radix-sort path."""
    rng = np.random.default_rng(7)
    images, anns, dets = [], [], []
    for img in range(1, 151):
        images.append({"id": img})
        boxes = rng.uniform(0, 200, (4, 2))
        for b in boxes:
            w, h = rng.uniform(5, 120, 2)
            anns.append({"id": len(anns) + 1, "image_id": img, "category_id": 1, "bbox": [*b, w, h],
                         "area": float(w * h * rng.uniform(0.5, 1)), "iscrowd": int(rng.random() < 0.05)})  # fmt: skip
            for _ in range(6):
                j = rng.normal(0, 0.15, 4) * [w, h, w, h]
                dets.append({"image_id": img, "category_id": 1, "bbox": [b[0] + j[0], b[1] + j[1], w + j[2], h + j[3]],
                             "score": float(np.round(rng.random(), 2))})  # fmt: skip
        for _ in range(15):
            dets.append({"image_id": img, "category_id": 1, "bbox": [*rng.uniform(0, 250, 2), *rng.uniform(5, 60, 2)],
                         "score": float(np.round(rng.random() * 0.5, 2))})  # fmt: skip
    gt = {"images": images, "categories": [{"id": 1, "name": "a"}], "annotations": anns}
    assert len(dets) > 4096
    oracle, text_o = run_eval(pc_coco.COCO, pc_eval.COCOeval, gt, dets)
    fast, text_f = run_eval(COCO, COCOeval, gt, dets)
    assert_same(fast, oracle, "large category")
    assert text_f == text_o


def test_chunked_kernels_load_from_cache_in_a_fresh_process(data_dir: Path) -> None:
    """The cached COCO kernels are reused by a new interpreter (no recompilation)."""
    import subprocess
    import sys

    import numba

    if numba.config.DISABLE_JIT:
        pytest.skip("kernels run as Python with NUMBA_DISABLE_JIT")

    gt, dt = (str(data_dir / p) for p in CASES[3][1:])
    run_eval(COCO, COCOeval, gt, dt)  # make sure this process compiled (and cached) them
    script = (
        "import contextlib, io, sys\n"
        "from fastdet.coco import COCO, COCOeval\n"
        "from fastdet._kernels import coco as k\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    g = COCO(sys.argv[1]); e = COCOeval(g, g.loadRes(sys.argv[2]), 'bbox')\n"
        "    e.evaluate(); e.accumulate()\n"
        "fns = [f.dispatcher for f in (k.match_cells, k.accumulate, k.sort_cells)]\n"
        "print(sum(sum(f.stats.cache_hits.values()) for f in fns), sum(len(f.stats.cache_misses) for f in fns))\n"
    )
    out = subprocess.run([sys.executable, "-c", script, gt, dt], capture_output=True, text=True, check=True)
    hits, misses = map(int, out.stdout.split())
    assert hits == 3
    assert misses == 0


def test_json_fallback_without_orjson(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Without orjson the standard library parses the files the scanner hands over."""
    import fastdet._io as fio

    monkeypatch.setattr(fio, "_orjson", None)
    gt, dt = (str(data_dir / p) for p in CASES[3][1:])
    fast, _ = run_eval(COCO, COCOeval, gt, dt)
    assert fast.stats.tolist() == PUBLISHED["d2-tiny"]
    assert COCO(gt, verbose=False).dataset["images"][0]["id"] == 285  # lazily parsed by json
    bad = tmp_path / "bad.json"
    bad.write_text('[{"image_id": 139, "category_id": 1, "bbox": [1, 2, 3, 4], "score": NaN}]')
    with pytest.raises(ValueError, match=r"bad\.json: entry 0 has score=nan"):  # json accepts NaN
        COCO(gt, verbose=False).loadRes(str(bad))


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_two_half_parallel_scan_equals_serial_scan(
    case: tuple[str, str, str], data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Big arrays are scanned in chunks on several threads at once; the result must not change.

    The bundled files are below the real 1 MiB chunk size, so it is lowered here (and three
    workers are claimed) to force the split.
    """
    import fastdet.coco.reading as fc

    gt, dt = (str(data_dir / p) for p in case[1:])
    serial = evaluate_coco(COCO(gt, verbose=False), dt)
    calls = []
    run_threads = fc._run_threads

    def counting(jobs: Any) -> Any:
        calls.append(len(jobs))
        return run_threads(jobs)

    monkeypatch.setattr(fc, "_SPLIT_BYTES", 256)
    monkeypatch.setattr(fc, "_workers", lambda: 3)
    monkeypatch.setattr(fc, "_run_threads", counting)
    halves = evaluate_coco(COCO(gt, verbose=False), dt)
    assert calls, "the chunked scan did not run"
    assert max(calls) == 3
    assert halves.stats == serial.stats
    np.testing.assert_array_equal(halves.precision, serial.precision)
    np.testing.assert_array_equal(halves.recall, serial.recall)
    np.testing.assert_array_equal(halves.scores, serial.scores)


@pytest.mark.parametrize("threads", [1, 3, 7])
def test_chunked_kernels_agree_whatever_the_threads(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, threads: int
) -> None:
    """One thread, or chunks spread over several (uneven bounds), give the same bits."""
    import fastdet._kernels as kernels

    gt, dt = (str(data_dir / p) for p in CASES[0][1:])
    default, text_d = run_eval(COCO, COCOeval, gt, dt)
    monkeypatch.setattr(kernels, "_threads", lambda: threads)
    chunked, text_c = run_eval(COCO, COCOeval, gt, dt)
    assert_same(chunked, default, f"{threads} threads")
    assert text_c == text_d


def test_accumulation_without_scores_gives_the_same_precision_and_recall(data_dir: Path) -> None:
    """Streaming and LVIS skip ``scores`` (``want_scores=False``); precision and recall do not change."""
    from fastdet.coco.evaluation import _accumulate

    gt = COCO(str(data_dir / "coco-val2014-fake100" / "instances_val2014_100.json"), verbose=False)
    dt = gt.loadRes(str(data_dir / "coco-val2014-fake100" / "instances_val2014_fakebbox100_results.json"))
    ev = COCOeval(gt, dt, "bbox", verbose=False)
    ev.evaluate()
    ev.accumulate()
    p = ev.params
    shape = (len(p.iouThrs), len(p.recThrs), len(p.catIds), len(p.areaRng), len(p.maxDets))
    args = (range(shape[2]), range(shape[3]), range(len(p.imgIds)), list(p.maxDets), p.recThrs, shape)
    precision, recall, scores = _accumulate(ev._ev, *args, want_scores=False)
    assert scores is None
    np.testing.assert_array_equal(precision, ev.eval["precision"])
    np.testing.assert_array_equal(recall, ev.eval["recall"])
    assert (ev.eval["precision"] > 0).any()
