"""fastdet.analysis: TIDE against tidecv 1.0.1 and the reference; the confusion matrix against supervision."""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import reference
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from strategies import st_boxes, st_coco_case

import fastdet
from fastdet.analysis import (
    ERROR_TYPES,
    SPECIAL_ERROR_TYPES,
    detection_confusion_matrix,
    detection_confusion_matrix_coco,
    tide,
)

DATA = Path(__file__).resolve().parent.parent / "data"
FAKE100 = (
    DATA / "coco-val2014-fake100" / "instances_val2014_100.json",
    DATA / "coco-val2014-fake100" / "instances_val2014_fakebbox100_results.json",
)
BUNDLED = {
    "fake100": FAKE100,
    "fake100-bboxarea": (
        DATA / "coco-val2014-fake100-bboxarea" / "sampled_gts_bbox_area.json",
        DATA / "coco-val2014-fake100-bboxarea" / "cocoapi_results.json",
    ),
    "fce-synthetic3": (
        DATA / "coco-fce-synthetic3" / "gt_dataset.json",
        DATA / "coco-fce-synthetic3" / "dt_dataset.json",
    ),
    "img2299-crowd": (
        DATA / "coco-val2017-img2299-crowd" / "gt_ignore_test_intids.json",
        DATA / "coco-val2017-img2299-crowd" / "dt_ignore_test.json",
    ),
    "d2-coco-tiny": (
        DATA / "d2-coco-tiny" / "gt_annotations.json",
        DATA / "d2-coco-tiny" / "detections.json",
    ),
}
# Numbers fastdet and tidecv compute in different summation orders (per-class APs summed in
# another class order): they agree to ~1e-13 in practice; the issue asks for 1e-9.
TOL = 1e-9


# ---------------------------------------------------------------- tidecv, run on the same data


@pytest.fixture(scope="module")
def tidecv(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """tidecv, imported with the NumPy 2 aliases it may need, its side effects contained.

    ``np.float`` / ``np.int`` are put back for tidecv and removed afterwards; ``TIDE_PATH``
    points at a temporary folder (tidecv creates one on construction); its seaborn styling of
    matplotlib's rcParams is undone by running it inside ``rc_context`` (see ``_tidecv_run``).
    """
    added = [name for name, value in (("float", float), ("int", int)) if not hasattr(np, name)]
    for name in added:
        setattr(np, name, {"float": float, "int": int}[name])
    old_path = os.environ.get("TIDE_PATH")
    os.environ["TIDE_PATH"] = str(tmp_path_factory.mktemp("tidecv"))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            module = pytest.importorskip("tidecv")
        yield module
    finally:
        for name in added:
            delattr(np, name)
        if old_path is None:
            os.environ.pop("TIDE_PATH", None)
        else:
            os.environ["TIDE_PATH"] = old_path


def _tidecv_run(tidecv: Any, images, anns, results, pos=0.5, bg=0.1, max_dets=100, name="run"):
    """tidecv's AP, main / special dAP and counts; ground truth built as ``datasets.COCO`` builds it."""
    import matplotlib

    gt = tidecv.Data("gt", max_dets=max_dets)
    for img in images:
        gt.add_image(img, str(img))
    for a in anns:
        if a.get("iscrowd", 0):
            gt.add_ignore_region(a["image_id"], a["category_id"], a["bbox"])
        else:
            gt.add_ground_truth(a["image_id"], a["category_id"], a["bbox"])
    dt = tidecv.Data(name)
    for r in results:
        dt.add_detection(r["image_id"], r["category_id"], r["score"], r["bbox"])
    with matplotlib.rc_context(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = tidecv.TIDE(pos_threshold=pos, background_threshold=bg)
        run = t.evaluate(gt, dt, mode=tidecv.TIDE.BOX)
        main = t.get_main_errors()[name]
        special = t.get_special_errors()[name]
    counts = {err.short_name: len(v) for err, v in run.error_dict.items()}
    return {"ap": run.ap, "main": main, "special": special, "counts": counts, "tide": t}


def _load(gt_path: Path, dt_path: Path) -> tuple[list[int], list[dict], list[dict]]:
    gt = json.loads(gt_path.read_text())
    dt = json.loads(dt_path.read_text())
    if isinstance(dt, dict):  # a dataset dict holding the results as annotations
        dt = dt["annotations"]
    images = list(dict.fromkeys(i["id"] for i in gt["images"]))
    listed = set(images)
    return images, [a for a in gt["annotations"] if a["image_id"] in listed], dt


def _as_dict(r: Any) -> dict[str, Any]:
    return {"ap": r.ap, "main": r.main_errors, "special": r.special_errors, "counts": r.counts}


def _assert_same(got: dict[str, Any], want: dict[str, Any], what: str) -> None:
    assert abs(got["ap"] - want["ap"]) <= TOL, f"{what}: AP {got['ap']} vs {want['ap']}"
    for key in ERROR_TYPES:
        assert abs(got["main"][key] - want["main"][key]) <= TOL, (
            f"{what}: dAP {key} {got['main']} vs {want['main']}"
        )
    for key in SPECIAL_ERROR_TYPES:
        assert abs(got["special"][key] - want["special"][key]) <= TOL, (
            f"{what}: {key} {got['special']} vs {want['special']}"
        )
    assert got["counts"] == want["counts"], f"{what}: counts {got['counts']} vs {want['counts']}"


# ---------------------------------------------------------------- TIDE on the bundled sets


def test_fake100_published_numbers():
    # The table, measured with tidecv 1.0.1 on this pair: AP50 64.20; dAP Cls 22.25,
    # Loc 0.23, Both 0.00, Dupe 0.02, Bkg 0.00, Miss 8.52; FalsePos 6.82, FalseNeg 17.68.
    r = tide(*FAKE100)
    assert round(r.ap, 2) == 64.20
    shown = {k: round(v, 2) for k, v in {**r.main_errors, **r.special_errors}.items()}
    assert shown == {"Cls": 22.25, "Loc": 0.23, "Both": 0.0, "Dupe": 0.02, "Bkg": 0.0, "Miss": 8.52,
                     "FalsePos": 6.82, "FalseNeg": 17.68}  # fmt: skip


@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_bundled_sets_equal_reference(name):
    images, anns, results = _load(*BUNDLED[name])
    got = _as_dict(tide(*BUNDLED[name]))
    _assert_same(got, reference.tide(images, anns, results), name)


@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_bundled_sets_equal_tidecv(tidecv, name):
    images, anns, results = _load(*BUNDLED[name])
    got = _as_dict(tide(*BUNDLED[name]))
    _assert_same(got, _tidecv_run(tidecv, images, anns, results), name)


def test_fake100_with_tidecv_own_loader(tidecv):
    """tidecv's ``datasets.COCO`` / ``COCOResult`` loaders, as a user runs it, give the same numbers."""
    import matplotlib

    with matplotlib.rc_context(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gt = tidecv.datasets.COCO(str(FAKE100[0]))
        dt = tidecv.datasets.COCOResult(str(FAKE100[1]))
        t = tidecv.TIDE()
        t.evaluate(gt, dt, mode=tidecv.TIDE.BOX)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            t.summarize()
    r = tide(*FAKE100)
    name = FAKE100[1].stem
    want = {"ap": t.runs[name].ap, "main": t.get_main_errors()[name], "special": t.get_special_errors()[name],
            "counts": {e.short_name: len(v) for e, v in t.runs[name].error_dict.items()}}  # fmt: skip
    _assert_same(_as_dict(r), want, "fake100")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        print(r.summary())
    assert printed.getvalue() == out.getvalue()


def test_fake100_segm_with_tidecv_mask_mode(tidecv):
    """iou_type='segm' against tidecv's ``TIDE.MASK`` mode on the bundled mask results (tidecv's own
    loaders: polygons / crowd RLEs of the ground truth through ``toRLE``, results' RLEs as given)."""
    import matplotlib

    gt_path, dt_path = FAKE100[0], FAKE100[0].parent / "instances_val2014_fakesegm100_results.json"
    with matplotlib.rc_context(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gt = tidecv.datasets.COCO(str(gt_path))
        dt = tidecv.datasets.COCOResult(str(dt_path))
        t = tidecv.TIDE()
        t.evaluate(gt, dt, mode=tidecv.TIDE.MASK)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            t.summarize()
    r = tide(gt_path, dt_path, iou_type="segm")
    name = dt_path.stem
    want = {"ap": t.runs[name].ap, "main": t.get_main_errors()[name], "special": t.get_special_errors()[name],
            "counts": {e.short_name: len(v) for e, v in t.runs[name].error_dict.items()}}  # fmt: skip
    _assert_same(_as_dict(r), want, "fake100 segm")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        print(r.summary())
    assert printed.getvalue() == out.getvalue()
    with pytest.raises(ValueError, match=r"entry 0 has no 'segmentation'"):
        tide(
            gt_path,
            [
                {"image_id": want_img, "category_id": 1, "score": 0.5, "bbox": [0, 0, 1, 1]}
                for want_img in [json.loads(gt_path.read_text())["images"][0]["id"]]
            ],
            iou_type="segm",
        )


# ---------------------------------------------------------------- TIDE on generated sets


def _dataset(case: dict[str, Any]) -> dict[str, Any]:
    return {"images": [{"id": i} for i in case["images"]], "annotations": case["annotations"],
            "categories": [{"id": c, "name": f"c{c}"} for c in (1, 2, 3)]}  # fmt: skip


def _run_case(case: dict[str, Any]) -> Any:
    return tide(_dataset(case), case["results"], pos_threshold=case["pos"],
                background_threshold=case["bg"], max_detections=case["max_dets"])  # fmt: skip


@settings(deadline=None)
@given(case=st_coco_case())
def test_generated_sets_equal_reference(case):
    want = reference.tide(case["images"], case["annotations"], case["results"], case["pos"], case["bg"],
                          case["max_dets"])  # fmt: skip
    _assert_same(_as_dict(_run_case(case)), want, "generated")


@settings(deadline=None)
@given(case=st_coco_case())
def test_generated_sets_equal_tidecv(tidecv, case):
    try:
        want = _tidecv_run(tidecv, case["images"], case["annotations"], case["results"], case["pos"],
                           case["bg"], case["max_dets"])  # fmt: skip
    except ZeroDivisionError:  # tidecv divides by zero when no class is left to average
        assume(False)
    _assert_same(_as_dict(_run_case(case)), want, "generated")


def _detector_like(seed: int, n_images: int = 25) -> tuple[list[int], list[dict], list[dict]]:
    """Seeded ground truth and detector-like results: hits, duplicates, wrong classes, poor boxes, background."""
    rng = np.random.default_rng(seed)
    anns: list[dict] = []
    results: list[dict] = []
    for img in range(1, n_images + 1):
        for _ in range(int(rng.integers(0, 8))):
            w, h = rng.uniform(8, 120, 2)
            x, y = rng.uniform(0, 400, 2)
            cat = int(rng.integers(1, 6))
            anns.append({"id": len(anns) + 1, "image_id": img, "category_id": cat, "bbox": [x, y, w, h],
                         "iscrowd": int(rng.random() < 0.05)})  # fmt: skip
            for _ in range(int(rng.integers(0, 4))):  # a hit, then duplicates; some wrong class, some loose
                s = rng.choice([0.03, 0.1, 0.3])
                box = [x + rng.normal(0, s * w), y + rng.normal(0, s * h), w * np.exp(rng.normal(0, s)),
                       h * np.exp(rng.normal(0, s))]  # fmt: skip
                c = int(rng.integers(1, 6)) if rng.random() < 0.2 else cat
                results.append({"image_id": img, "category_id": c, "bbox": box,
                                "score": round(float(rng.beta(4, 2)), 2)})  # fmt: skip
        for _ in range(int(rng.integers(0, 6))):
            results.append({"image_id": img, "category_id": int(rng.integers(1, 7)),
                            "bbox": [*rng.uniform(0, 400, 2), *rng.uniform(4, 100, 2)],
                            "score": round(float(rng.beta(1, 5)), 2)})  # fmt: skip
    order = rng.permutation(len(results))
    return list(range(1, n_images + 1)), anns, [results[i] for i in order]


@pytest.mark.parametrize("seed", range(5))
def test_detector_like_sets(seed):
    images, anns, results = _detector_like(seed)
    got = _as_dict(tide({"images": [{"id": i} for i in images], "annotations": anns}, results))
    assert all(got["counts"][k] > 0 for k in ERROR_TYPES)  # every kind of error occurs
    assert sum(v > 0 for v in got["main"].values()) >= 4
    _assert_same(got, reference.tide(images, anns, results), f"seed {seed} vs reference")


@pytest.mark.parametrize("seed", range(5))
def test_detector_like_sets_equal_tidecv(tidecv, seed):
    images, anns, results = _detector_like(seed)
    got = _as_dict(tide({"images": [{"id": i} for i in images], "annotations": anns}, results))
    _assert_same(got, _tidecv_run(tidecv, images, anns, results), f"seed {seed} vs tidecv")


def test_detections_already_in_image_and_score_order():
    """Results written image by image, best first (as detectors write them) skip the sort: same numbers."""
    images, anns, results = _detector_like(3)
    position = {img: k for k, img in enumerate(images)}
    ordered = sorted(results, key=lambda r: (position[r["image_id"]], -r["score"]))
    got = _as_dict(tide({"images": [{"id": i} for i in images], "annotations": anns}, ordered))
    _assert_same(got, reference.tide(images, anns, ordered), "pre-sorted input")
    cut = tide({"images": [{"id": i} for i in images], "annotations": anns}, ordered, max_detections=2)
    assert (cut.dt_error == -2).any()
    _assert_same(_as_dict(cut), reference.tide(images, anns, ordered, max_dets=2), "pre-sorted, cut at 2")


def test_far_apart_category_ids():
    """Category ids spread over int64 (sorted without a table) give the numbers of small ids."""
    images, anns, results = _detector_like(1)
    far = {c: c * 10**15 - 3 * 10**18 for c in range(1, 7)}
    anns_far = [{**a, "category_id": far[a["category_id"]]} for a in anns]
    results_far = [{**r, "category_id": far[r["category_id"]]} for r in results]
    gt = {"images": [{"id": i} for i in images]}
    r = tide({**gt, "annotations": anns}, results)
    r_far = tide({**gt, "annotations": anns_far}, results_far)
    assert (r_far.ap, r_far.main_errors, r_far.special_errors, r_far.counts) == (
        r.ap, r.main_errors, r.special_errors, r.counts
    )  # fmt: skip
    assert r_far.per_class_ap == {far[c]: v for c, v in r.per_class_ap.items()}


def test_crowd_region_of_any_class_and_ties(tidecv):
    """Hand-made: a crowd region with category -1, tied scores across images, a duplicate."""
    images = [7, 3]
    anns = [
        {"id": 1, "image_id": 7, "category_id": 1, "bbox": [0, 0, 10, 10], "iscrowd": 0},
        {"id": 2, "image_id": 7, "category_id": -1, "bbox": [20, 0, 10, 10], "iscrowd": 1},
        {"id": 3, "image_id": 3, "category_id": 2, "bbox": [0, 0, 10, 10], "iscrowd": 0},
    ]
    results = [
        {"image_id": 3, "category_id": 2, "bbox": [0, 0, 10, 10], "score": 0.5},
        {"image_id": 7, "category_id": 1, "bbox": [0, 0, 10, 10], "score": 0.5},
        {"image_id": 7, "category_id": 1, "bbox": [0, 0, 10, 9], "score": 0.5},  # duplicate
        {"image_id": 7, "category_id": 2, "bbox": [21, 1, 5, 5], "score": 0.9},  # in the crowd region
        {"image_id": 3, "category_id": 1, "bbox": [0, 0, 5, 10], "score": 0.5},  # Both? Cls at IoU 0.5
    ]
    gt = {"images": [{"id": i} for i in images], "annotations": anns}
    got = _as_dict(tide(gt, results))
    _assert_same(got, reference.tide(images, anns, results), "hand-made vs reference")
    _assert_same(got, _tidecv_run(tidecv, images, anns, results), "hand-made vs tidecv")


# ---------------------------------------------------------------- TIDE: inputs, outputs, errors


def test_inputs_as_objects_paths_and_lists():
    from fastdet.coco import COCO

    by_path = tide(*FAKE100)
    gt = COCO(FAKE100[0], verbose=False)
    for dt in (gt.loadRes(str(FAKE100[1])), json.loads(FAKE100[1].read_text())):
        other = tide(gt, dt)
        assert other.ap == by_path.ap
        assert other.main_errors == by_path.main_errors
        assert other.special_errors == by_path.special_errors
        assert other.name == "detections"
    assert by_path.name == FAKE100[1].stem


def _assert_identical(a: Any, b: Any, what: str) -> None:
    """Two TideResults: every number and every per-detection / per-GT array equal (not just close)."""
    assert (a.ap, a.main_errors, a.special_errors, a.counts, a.per_class_ap) == (
        b.ap, b.main_errors, b.special_errors, b.counts, b.per_class_ap
    ), what  # fmt: skip
    for field in ("dt_error", "dt_ignored", "dt_gt", "gt_missed"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field), err_msg=f"{what}: {field}")


@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_files_read_by_the_scanner_equal_parsed_dicts(name):
    """A json path (columns from the Numba scanner), fastdet COCO objects and parsed dicts agree exactly."""
    from fastdet.coco import COCO

    gt_path, dt_path = BUNDLED[name]
    gt_dict = json.loads(gt_path.read_text())
    dt_rows = json.loads(dt_path.read_text())
    if isinstance(dt_rows, dict):
        dt_rows = dt_rows["annotations"]
    want = tide(gt_dict, dt_rows)
    _assert_identical(tide(gt_path, dt_path), want, f"{name}: paths")
    gt = COCO(gt_path, verbose=False)
    if isinstance(json.loads(dt_path.read_text()), list):
        _assert_identical(tide(gt, gt.loadRes(str(dt_path))), want, f"{name}: COCO objects")
    _assert_identical(tide(gt, dt_rows), want, f"{name}: COCO object and list")
    cm_path = detection_confusion_matrix_coco(gt_path, dt_rows)
    cm_dict = detection_confusion_matrix_coco(gt_dict, dt_rows)
    assert cm_path.class_names == cm_dict.class_names
    np.testing.assert_array_equal(cm_path.matrix, cm_dict.matrix)


_AWKWARD_GT = {
    # each ground truth makes the scanner's columns unusable: the dicts are read instead, same answer
    "no area, no iscrowd": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10]}],
    "bool iscrowd": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "area": 1,
                      "iscrowd": True}],
    "iscrowd 2.5": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "area": 1,
                     "iscrowd": 2.5}],
    "negative width": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 0, -10, 10], "area": 1,
                        "iscrowd": 0}],
    "repeated id": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "area": 1,
                     "iscrowd": 0}] * 2,
    "float ids": [{"id": 1.0, "image_id": 1.0, "category_id": 1.0, "bbox": [0, 0, 10, 10], "area": 1,
                   "iscrowd": 0}],
    "unlisted image": [{"id": 1, "image_id": 5, "category_id": 1, "bbox": [0, 0, 10, 10], "area": 1,
                        "iscrowd": 0}],
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(_AWKWARD_GT))
def test_awkward_files_equal_parsed_dicts(tmp_path, case):
    gt = {"images": [{"id": 1}, {"id": 2}, {"id": 1}], "categories": [{"id": 1, "name": "a"}],
          "annotations": _AWKWARD_GT[case]}  # fmt: skip
    dt = [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 9], "score": 0.9},
          {"image_id": 2, "category_id": 1, "bbox": [1, 0, 10, 10], "score": 0.8}]  # fmt: skip
    gt_path, dt_path = tmp_path / "gt.json", tmp_path / "dt.json"
    gt_path.write_text(json.dumps(gt))
    dt_path.write_text(json.dumps(dt))
    _assert_identical(tide(gt_path, dt_path), tide(gt, dt), case)


def test_files_with_bad_entries_name_them(tmp_path):
    gt = {"images": [{"id": 1}], "categories": [{"id": 1}], "annotations": []}
    gt_path, dt_path = tmp_path / "gt.json", tmp_path / "dt.json"
    gt_path.write_text(json.dumps(gt))
    for rows, match in [
        ([{"image_id": "a", "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1.0}], "entry 0 has image_id"),
        ([{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1.0},
          {"image_id": 9, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1.0}], "entry 1 is on image_id 9"),
        ([{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1]}], "entry 0 has no 'score'"),
    ]:  # fmt: skip
        dt_path.write_text(json.dumps(rows))
        with pytest.raises(ValueError, match=match):
            tide(gt_path, dt_path)
    gt["images"] = [{"id": "x.jpg"}]
    gt_path.write_text(json.dumps(gt))
    with pytest.raises(ValueError, match=r"images.*entry 0 has id"):
        tide(gt_path, [])


def test_pycocotools_objects_accepted():
    pytest.importorskip("pycocotools")
    from pycocotools.coco import COCO

    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(FAKE100[0]))
        dt = gt.loadRes(str(FAKE100[1]))
    assert tide(gt, dt).ap == tide(*FAKE100).ap


def test_per_detection_and_per_gt_arrays():
    _, anns, results = _load(*FAKE100)
    r = tide(*FAKE100)
    assert r.dt_error.shape == (len(results),)
    assert r.gt_missed.shape == (len(anns),)
    for code, key in enumerate(ERROR_TYPES[:5]):
        assert int((r.dt_error == code).sum()) == r.counts[key]
    assert int(r.gt_missed.sum()) == r.counts["Miss"]
    tp = np.flatnonzero(r.dt_error == -1)
    assert (r.dt_gt[tp] >= 0).all()
    for i in tp[:50]:  # a true positive points at a ground truth of its class on its image
        g = anns[r.dt_gt[i]]
        assert (g["image_id"], g["category_id"]) == (results[i]["image_id"], results[i]["category_id"])
    cls = np.flatnonzero(r.dt_error == ERROR_TYPES.index("Cls"))
    for i in cls[:50]:  # a Cls error points at a box of another class
        assert anns[r.dt_gt[i]]["category_id"] != results[i]["category_id"]
    assert not r.gt_missed[[i for i, a in enumerate(anns) if a["iscrowd"]]].any()
    assert json.loads(json.dumps(r.to_dict()))["ap"] == r.ap


def test_max_detections_marks_dropped_detections():
    gt = {
        "images": [{"id": 1}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 4, 4]}],
    }
    dets = [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 4, 4], "score": s} for s in (0.2, 0.9, 0.5)]
    r = tide(gt, dets, max_detections=2)
    assert r.dt_error.tolist() == [-2, -1, ERROR_TYPES.index("Dupe")]
    _assert_same(_as_dict(r), reference.tide([1], gt["annotations"], dets, max_dets=2), "max_dets")


def test_empty_inputs():
    gt = {"images": [{"id": 1}], "annotations": []}
    r = tide(gt, [])
    assert r.ap == 0.0
    assert all(v == 0.0 for v in r.main_errors.values())
    assert r.dt_error.shape == (0,)
    r = tide(gt, [{"image_id": 1, "category_id": 5, "bbox": [0, 0, 1, 1], "score": 1.0}])
    assert r.ap == 0.0  # a class without ground truth counts with AP 0
    assert r.counts["Bkg"] == 1
    r = tide({"images": [], "annotations": []}, [])
    assert r.ap == 0.0
    assert r.per_class_ap == {}
    r = tide(
        {
            "images": [{"id": 1}],
            "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1]}],
        },
        [],
    )
    assert r.ap == 0.0
    assert r.counts["Miss"] == 1
    assert r.per_class_ap == {1: 0.0}


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"pos_threshold": 0.0}, ValueError, "pos_threshold"),
        ({"pos_threshold": 1.5}, ValueError, "pos_threshold"),
        ({"background_threshold": -0.1}, ValueError, "background_threshold"),
        ({"max_detections": 0}, ValueError, "max_detections"),
        ({"max_detections": 2.5}, TypeError, "max_detections"),
        ({"iou_type": "keypoints"}, ValueError, "iou_type"),
        ({"iou_type": "segm"}, ValueError, "has no 'segmentation'"),  # bbox results
    ],
)
def test_bad_parameters(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        tide(*FAKE100, **kwargs)


def test_bad_inputs(tmp_path):
    gt = {"images": [{"id": 1}], "annotations": []}
    with pytest.raises(ValueError, match="image_id 9"):
        tide(gt, [{"image_id": 9, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1.0}])
    with pytest.raises(ValueError, match="entry 0 has no 'score'"):
        tide(gt, [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1]}])
    with pytest.raises(ValueError, match="bbox"):
        tide(gt, [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1], "score": 1.0}])
    with pytest.raises(ValueError, match="score"):
        tide(gt, [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": float("nan")}])
    with pytest.raises(ValueError, match="category_id"):
        tide(gt, [{"image_id": 1, "category_id": 1.5, "bbox": [0, 0, 1, 1], "score": 1.0}])
    with pytest.raises(TypeError, match="gt must be"):
        tide(42, [])
    with pytest.raises(TypeError, match="dt must be"):
        tide(gt, 42)
    missing = tmp_path / "missing.json"
    with pytest.raises(ValueError, match="does not exist"):
        tide(missing, [])
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2")
    with pytest.raises(ValueError, match="not valid JSON"):
        tide(gt, bad)


def test_summary_layout():
    text = tide(*FAKE100, name="run").summary()
    lines = text.splitlines()
    assert lines[0] == "-- run --"
    assert lines[2] == "bbox AP @ 50: 64.20"
    assert "   dAP    22.25     0.23     0.00     0.02     0.00     8.52  " in lines
    assert str(tide(*FAKE100, name="run")) == text


def test_plot_writes_png(tmp_path):
    pytest.importorskip("matplotlib")
    r = tide(*FAKE100)
    out = r.plot(tmp_path / "sub" / "tide.png")
    assert out == tmp_path / "sub" / "tide.png"
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in out.parent.iterdir()] == ["tide.png"]  # no temporary file left


def test_plot_without_matplotlib(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match="fastdet\\[plot\\]"):
        tide(*FAKE100).plot(tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


def test_import_does_not_load_matplotlib():
    import subprocess

    code = "import sys, fastdet, fastdet.analysis; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parent.parent)  # fmt: skip
    assert out.stdout.strip() == "False"


def test_exported():
    assert fastdet.analysis.tide is tide
    assert "analysis" in fastdet.__all__


# ---------------------------------------------------------------- kernel: tidecv's AP


@settings(deadline=None)
@given(
    data=st.lists(st.tuples(st.sampled_from([0.1, 0.5, 0.5, 0.9]), st.booleans()), max_size=30),
    extra_gt=st.integers(0, 5),
)
def test_ap_kernel_equals_reference(data, extra_gt):
    from fastdet._kernels.analysis import tide_map

    n_gt = sum(t for _, t in data) + extra_gt
    order = np.argsort([-s for s, _ in data], kind="stable").astype(np.int64)
    cls = np.zeros(len(data), np.int64)
    tp = np.array([int(t) for _, t in data], np.int64)[order]
    out = np.empty(1)
    got = tide_map(cls, tp, np.array([n_gt], np.int64), np.array([1], np.int64), out)
    want = reference.tide_ap(data, n_gt) if (data or n_gt) else 0.0
    assert got == pytest.approx(want, abs=1e-12)  # same operations in the same order


@settings(deadline=None)
@given(
    points=st.lists(
        st.tuples(
            st.integers(-1, 2), st.integers(0, 1), st.integers(-1, 4), st.integers(0, 1), st.integers(0, 2)
        ),
        max_size=40,
    ),
    gt_count=st.lists(st.integers(0, 6), min_size=3, max_size=3),
    in_k=st.lists(st.integers(0, 1), min_size=3, max_size=3),
)
def test_fixed_maps_kernel_equals_one_map_per_error_type(points, gt_count, in_k):
    """``tide_fixed_maps`` is ``tide_map`` of each error type's fixed points, built here in plain Python."""
    from fastdet._kernels.analysis import tide_fixed_maps, tide_map

    cols = [np.array([p[k] for p in points], np.int64) for k in range(5)]
    f_cls, f_tp, f_err, f_fix, f_fixed = cols
    counts, k_in = np.array(gt_count, np.int64), np.array(in_k, np.int64)
    got = np.empty(5)
    tide_fixed_maps(f_cls, f_tp, f_err, f_fix, f_fixed, counts, k_in, got)
    for code in range(5):
        cls = [
            (f if x == 1 else -1) if e == code else c
            for c, e, x, f in zip(f_cls, f_err, f_fix, f_fixed, strict=True)
        ]
        tp = [1 if (e == code and x == 1) else t for t, e, x in zip(f_tp, f_err, f_fix, strict=True)]
        want = tide_map(np.array(cls, np.int64), np.array(tp, np.int64), counts, k_in, np.empty(3))
        assert got[code] == want


# ---------------------------------------------------------------- confusion matrix


def _sv_matrix(sv: Any, gt_boxes, gt_labels, dt_boxes, dt_scores, dt_labels, n, iou, conf):
    targets = [sv.Detections(xyxy=np.asarray(b, np.float32).reshape(-1, 4), class_id=np.asarray(c, int))
               for b, c in zip(gt_boxes, gt_labels, strict=True)]  # fmt: skip
    preds = [sv.Detections(xyxy=np.asarray(b, np.float32).reshape(-1, 4), class_id=np.asarray(c, int),
                           confidence=np.asarray(s, np.float32))
             for b, s, c in zip(dt_boxes, dt_scores, dt_labels, strict=True)]  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cm = sv.ConfusionMatrix.from_detections(preds, targets, classes=[str(i) for i in range(n)],
                                                conf_threshold=conf, iou_threshold=iou)  # fmt: skip
    return cm.matrix


def _random_images(rng: np.random.Generator, n_images: int, n_classes: int, grid: bool):
    out: dict[str, list] = {k: [] for k in ("gt_boxes", "gt_labels", "dt_boxes", "dt_scores", "dt_labels")}
    for _ in range(n_images):
        g = int(rng.integers(0, 6))
        if grid:  # small integer boxes: IoUs are ratios of small integers, never closer than float32 can tell
            xy = rng.integers(0, 24, (g, 2))
            gb = np.concatenate([xy, xy + rng.integers(1, 9, (g, 2))], axis=1).astype(np.float32)
        else:
            xy = rng.uniform(0, 100, (g, 2))
            gb = np.concatenate([xy, xy + rng.uniform(1, 40, (g, 2))], axis=1).astype(np.float32)
        d = int(rng.integers(0, 9))
        src = gb[rng.integers(0, max(g, 1), d)] if g else np.zeros((d, 4), np.float32)
        jitter = rng.integers(-2, 3, (d, 4)) if grid else rng.normal(0, 3, (d, 4))
        db = (src + jitter).astype(np.float32)
        db[:, 2:] = np.maximum(db[:, 2:], db[:, :2])
        out["gt_boxes"].append(gb)
        out["gt_labels"].append(rng.integers(0, n_classes, g))
        out["dt_boxes"].append(db)
        out["dt_scores"].append(rng.choice(np.array([0.1, 0.25, 0.3, 0.5, 0.9], np.float32), d))
        out["dt_labels"].append(rng.integers(0, n_classes, d))
    return out


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("thresholds", [(0.5, 0.3), (0.45, 0.25), (0.1, 0.0), (0.75, 0.5)])
def test_confusion_equals_supervision(seed, thresholds):
    sv = pytest.importorskip("supervision")
    iou, conf = thresholds
    rng = np.random.default_rng(seed)
    data = _random_images(rng, 40, 4, grid=seed % 2 == 0)
    got = detection_confusion_matrix(**data, num_classes=4, iou_threshold=iou, score_threshold=conf)
    want = _sv_matrix(sv, *data.values(), 4, iou, conf)
    np.testing.assert_array_equal(got.matrix, want)


def test_confusion_supervision_docstring_example():
    # supervision's ``from_tensors`` docstring: a duplicate, a match, and its expected matrix
    cm = detection_confusion_matrix(
        gt_boxes=[[[0.0, 0.0, 3.0, 3.0], [2.0, 2.0, 5.0, 5.0], [6.0, 1.0, 8.0, 3.0]]], gt_labels=[[0, 0, 1]],
        dt_boxes=[[[0.0, 0.0, 3.0, 3.0], [0.1, 0.1, 3.0, 3.0], [6.0, 1.0, 8.0, 3.0]]], dt_scores=[[0.9, 0.9, 0.8]],
        dt_labels=[[0, 0, 1]], class_names=["person", "dog"],
    )  # fmt: skip
    np.testing.assert_array_equal(cm.matrix, [[1, 0, 1], [0, 1, 0], [1, 0, 0]])


@st.composite
def _st_images(draw: Any, dtype: Any) -> dict[str, list]:
    out: dict[str, list] = {k: [] for k in ("gt_boxes", "gt_labels", "dt_boxes", "dt_scores", "dt_labels")}
    for _ in range(draw(st.integers(0, 4))):
        gb = draw(st_boxes(0, 6, dtype, max_coord=12.0))
        db = draw(st_boxes(0, 8, dtype, max_coord=12.0))
        out["gt_boxes"].append(gb)
        out["gt_labels"].append(
            np.array(draw(st.lists(st.integers(0, 2), min_size=len(gb), max_size=len(gb))), int)
        )
        out["dt_boxes"].append(db)
        scores = draw(st.lists(st.sampled_from([0.0, 0.3, 0.5, 1.0]), min_size=len(db), max_size=len(db)))
        out["dt_scores"].append(np.array(scores, dtype))
        out["dt_labels"].append(
            np.array(draw(st.lists(st.integers(0, 2), min_size=len(db), max_size=len(db))), int)
        )
    return out


@settings(deadline=None)
@given(
    data=_st_images(np.float64),
    iou=st.sampled_from([0.0, 0.1, 0.5, 1 / 3, 0.75]),
    conf=st.sampled_from([0.0, 0.3, 0.5]),
)
def test_confusion_equals_reference(data, iou, conf):
    got = detection_confusion_matrix(**data, num_classes=3, iou_threshold=iou, score_threshold=conf)
    want = reference.detection_confusion_matrix(*data.values(), 3, iou, conf)
    np.testing.assert_array_equal(got.matrix, want)
    n_gt = sum(len(b) for b in data["gt_boxes"])
    assert got.matrix[:, :].sum(axis=1)[:3].sum() == n_gt  # every ground truth counted once


@settings(deadline=None)
@given(data=_st_images(np.float32), iou=st.sampled_from([0.1, 0.45, 0.5]), conf=st.sampled_from([0.0, 0.3]))
def test_confusion_float32_equals_supervision(data, iou, conf):
    sv = pytest.importorskip("supervision")
    got = detection_confusion_matrix(**data, num_classes=3, iou_threshold=iou, score_threshold=conf)
    np.testing.assert_array_equal(got.matrix, _sv_matrix(sv, *data.values(), 3, iou, conf))


def test_confusion_normalized_and_counts():
    cm = detection_confusion_matrix(
        gt_boxes=[[[0, 0, 10, 10], [20, 0, 30, 10], [40, 0, 50, 10]]], gt_labels=[[0, 1, 1]],
        dt_boxes=[[[0, 0, 10, 10], [20, 0, 30, 10], [60, 0, 70, 10]]], dt_scores=[[0.9, 0.9, 0.9]],
        dt_labels=[[0, 0, 1]], num_classes=2,
    )  # fmt: skip
    np.testing.assert_array_equal(cm.matrix, [[1, 0, 0], [1, 0, 1], [0, 1, 0]])
    np.testing.assert_allclose(cm.normalized("true"), [[1, 0, 0], [0.5, 0, 0.5], [0, 1, 0]])
    np.testing.assert_allclose(cm.normalized("pred"), [[0.5, 0, 0], [0.5, 0, 1], [0, 1, 0]])
    np.testing.assert_allclose(cm.normalized("all"), cm.matrix / 4)
    assert cm.true_positives.tolist() == [1, 0]
    assert cm.false_positives.tolist() == [1, 1]
    assert cm.false_negatives.tolist() == [0, 2]
    empty = detection_confusion_matrix([[]], [[]], [[]], [[]], [[]], num_classes=2)
    np.testing.assert_array_equal(empty.normalized("true"), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="normalize"):
        cm.normalized("rows")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("change", "exc", "match"),
    [
        ({"gt_labels": [[0], [1]]}, ValueError, "gt_labels has 2 images"),
        ({"dt_scores": [[0.5, 0.5]]}, ValueError, r"dt_scores\[0\] has length 2"),
        ({"gt_boxes": [[[0, 0, -1, 1]]]}, ValueError, r"gt_boxes\[0\] row 0"),
        ({"dt_boxes": [[[0, 0, 1, np.nan]]]}, ValueError, r"dt_boxes\[0\] row 0"),
        ({"dt_labels": [[3]]}, ValueError, r"dt_labels\[0\] row 0"),
        ({"gt_labels": [[0.5]]}, ValueError, "integers"),
        ({"gt_boxes": [[0, 0, 1, 1]]}, ValueError, r"gt_boxes\[0\] must have shape"),
        ({"gt_boxes": np.zeros((1, 1, 4))}, TypeError, "one array per image"),
        (
            {"gt_boxes": [np.zeros((1, 4)), np.zeros((2, 3))], "gt_labels": [[0], [0, 0]]},
            ValueError,
            r"gt_boxes\[1\] must have shape",
        ),
        ({"gt_boxes": [np.zeros(4)]}, ValueError, r"gt_boxes\[0\] must have shape"),
        ({"dt_scores": [np.array([True])]}, TypeError, "dt_scores"),
        ({"dt_scores": [["a"]]}, TypeError, "dt_scores"),
        ({"iou_threshold": 2.0}, ValueError, "iou_threshold"),
    ],
)
def test_confusion_bad_input(change, exc, match):
    args = {"gt_boxes": [[[0, 0, 1, 1]]], "gt_labels": [[0]], "dt_boxes": [[[0, 0, 1, 1]]],
            "dt_scores": [[0.5]], "dt_labels": [[0]], "num_classes": 3, **change}  # fmt: skip
    with pytest.raises(exc, match=match):
        detection_confusion_matrix(**args)


def test_confusion_class_names():
    cm = detection_confusion_matrix([[[0, 0, 1, 1]]], [[1]], [[]], [[]], [[]])
    assert cm.class_names == ("0", "1")
    with pytest.raises(ValueError, match="class_names has 2"):
        detection_confusion_matrix([[]], [[]], [[]], [[]], [[]], num_classes=3, class_names=["a", "b"])


def test_confusion_coco_equals_per_image_lists():
    images, anns, results = _load(*FAKE100)
    cm = detection_confusion_matrix_coco(*FAKE100, iou_threshold=0.5, score_threshold=0.3)
    cats = sorted({c["id"] for c in json.loads(FAKE100[0].read_text())["categories"]})
    idx = {c: i for i, c in enumerate(cats)}
    per: dict[str, list] = {k: [] for k in ("gt_boxes", "gt_labels", "dt_boxes", "dt_scores", "dt_labels")}
    for img in images:
        g = [a for a in anns if a["image_id"] == img and not a["iscrowd"]]
        d = [r for r in results if r["image_id"] == img]
        per["gt_boxes"].append(
            np.array([[x, y, x + w, y + h] for x, y, w, h in (a["bbox"] for a in g)]).reshape(-1, 4)
        )
        per["gt_labels"].append([idx[a["category_id"]] for a in g])
        per["dt_boxes"].append(
            np.array([[x, y, x + w, y + h] for x, y, w, h in (r["bbox"] for r in d)]).reshape(-1, 4)
        )
        per["dt_scores"].append([r["score"] for r in d])
        per["dt_labels"].append([idx[r["category_id"]] for r in d])
    lists = detection_confusion_matrix(**per, num_classes=len(cats), iou_threshold=0.5, score_threshold=0.3)
    np.testing.assert_array_equal(cm.matrix, lists.matrix)
    np.testing.assert_array_equal(
        cm.matrix, reference.detection_confusion_matrix(*per.values(), len(cats), 0.5, 0.3)
    )
    assert cm.class_names[0] == "person"
    assert cm.matrix.sum() > 0


def test_confusion_plot(tmp_path):
    pytest.importorskip("matplotlib")
    cm = detection_confusion_matrix_coco(*FAKE100)
    for normalize in (None, "true"):
        out = cm.plot(tmp_path / f"cm_{normalize}.png", normalize=normalize)
        assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="normalize"):
        cm.plot(tmp_path / "x.png", normalize="cols")  # type: ignore[arg-type]


def test_where_tidecv_fails_fastdet_answers(tidecv):
    """tidecv raises KeyError for a Cls/Loc candidate scoring <= -1, ZeroDivisionError with no class."""
    anns = [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "iscrowd": 0}]
    low = [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 3], "score": -2.0}]
    with pytest.raises(KeyError, match="best_id"):
        _tidecv_run(tidecv, [1], anns, low)
    r = tide({"images": [{"id": 1}], "annotations": anns}, low)
    assert r.dt_error.tolist() == [ERROR_TYPES.index("Loc")]
    assert r.counts["Miss"] == 0  # the box is "usable": a Loc error points at it
    _assert_same(_as_dict(r), reference.tide([1], anns, low), "score <= -1")
    with pytest.raises(ZeroDivisionError):
        _tidecv_run(tidecv, [1], [], [])
    assert tide({"images": [{"id": 1}], "annotations": []}, []).ap == 0.0
