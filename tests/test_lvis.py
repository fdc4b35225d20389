"""fastdet.lvis against lvis-api: its GitHub source's semantics (tests/reference.py), its PyPI package, published numbers."""

from __future__ import annotations

import contextlib
import copy
import importlib.util
import io
import json
import logging
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import reference as ref
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import st_lvis_case

from fastdet.lvis import LVIS, LVISEval, LvisEvalResult, LVISResults, Params, evaluate_lvis

GT = "lvis-val-100/lvis_val_100.json"
DT = "lvis-val-100/lvis_dets_derived.json"

# lvis-api's numbers on lvis-val-100 (data/lvis-val-100/PROVENANCE.md, item 1: its GitHub source)
PUBLISHED = {
    "AP": 0.419528865267255,
    "AP50": 0.739384176370525,
    "AP75": 0.40114346842571225,
    "APs": 0.45856920690691494,
    "APm": 0.44859543334626295,
    "APl": 0.4287799825531207,
    "APr": 0.49999999999999994,
    "APc": 0.4451288045471213,
    "APf": 0.41419258027902406,
    "AR@300": 0.4770727910733038,
    "ARs@300": 0.4774119364651761,
    "ARm@300": 0.4948518572071204,
    "ARl@300": 0.4929261559696342,
}
PUBLISHED_CHECKSUM = 205305.34674379736  # sum of eval['precision'][precision > -1]


@contextlib.contextmanager
def lvis_api() -> Iterator[Any]:
    """The PyPI ``lvis`` 0.5.3 package, run under NumPy 2 with ``np.float = float`` for the call only.

    Its ``accumulate`` uses ``np.float`` (removed in NumPy 1.24; fixed on GitHub, not
    released) and its ``LVISResults`` calls the deprecated ``Logger.warn``.
    """
    lvis = pytest.importorskip("lvis")
    namespace = vars(np)
    had = "float" in namespace
    old = namespace.get("float")
    namespace["float"] = float
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            yield lvis
    finally:
        if had:
            namespace["float"] = old
        else:
            del namespace["float"]


def api_gt(lvis: Any, dataset: dict[str, Any]) -> Any:
    """An lvis-api ``LVIS`` over a dict (its constructor takes only paths)."""
    gt = lvis.LVIS.__new__(lvis.LVIS)
    gt.logger = logging.getLogger("lvis.test")
    gt.dataset = copy.deepcopy(dataset)
    gt._create_index()
    return gt


def api_run(
    dataset: dict[str, Any], results: list[dict[str, Any]], max_dets: int = 300, **params: Any
) -> Any:
    with lvis_api() as lvis:
        gt = api_gt(lvis, dataset)
        dt = lvis.LVISResults(gt, copy.deepcopy(results), max_dets=max_dets)
        ev = lvis.LVISEval(gt, dt, "bbox")
        for key, value in params.items():
            setattr(ev.params, key, value)
        if params:  # summarize() reads freq groups of params.cat_ids and all area labels: not needed
            ev.evaluate()
            ev.accumulate()
        else:
            ev.run()
        return ev


def fd_run(
    dataset: dict[str, Any], results: list[dict[str, Any]], max_dets: int = 300, **params: Any
) -> LVISEval:
    gt = LVIS(copy.deepcopy(dataset))
    ev = LVISEval(gt, LVISResults(gt, results, max_dets=max_dets), "bbox")
    for key, value in params.items():
        setattr(ev.params, key, value)
    ev.run()
    return ev


def assert_same_results(got: dict[str, Any], want: dict[str, Any]) -> None:
    assert list(got) == list(want)
    for key in want:
        assert got[key] == want[key], (key, got[key], want[key], got[key] - want[key])


# ---------------------------------------------------------------- lvis-val-100


def test_val_100_matches_published_numbers(data_dir: Path) -> None:
    ev = LVISEval(str(data_dir / GT), str(data_dir / DT), "bbox")
    ev.run()
    got = ev.get_results()
    for key, want in PUBLISHED.items():
        assert abs(got[key] - want) <= 1e-12, (key, got[key], want)  # the issue's tolerance
    p = ev.eval["precision"]
    assert p.shape == (10, 101, 1230, 4)
    assert ev.eval["recall"].shape == (10, 1230, 4)
    # a sum of 1,149,260 numbers: the same numbers summed in another order could move the last bits
    assert float(p[p > -1].sum()) == pytest.approx(PUBLISHED_CHECKSUM, rel=1e-12, abs=0)


def test_val_100_bit_identical_to_lvis_package(data_dir: Path) -> None:
    gt = json.loads((data_dir / GT).read_text())
    res = json.loads((data_dir / DT).read_text())
    want = api_run(gt, res)
    got = fd_run(gt, res)
    assert_same_results(got.results, want.results)
    np.testing.assert_array_equal(got.eval["precision"], want.eval["precision"])
    np.testing.assert_array_equal(got.eval["recall"], want.eval["recall"])
    assert got.freq_groups == want.freq_groups


def test_val_100_uncapped_equals_faster_coco_eval_figure(data_dir: Path) -> None:
    # PROVENANCE item 3: faster-coco-eval's AP 0.421087004857017 equals lvis-api with max_dets=-1
    # to 2 ulp (1.2e-16), so 1e-12 leaves room only for that
    res = evaluate_lvis(str(data_dir / GT), str(data_dir / DT), max_dets=-1)
    assert abs(res.stats["AP"] - 0.421087004857017) <= 1e-12
    assert "AR@-1" in res.stats  # lvis-api names the key after params.max_dets


def test_val_100_print_results_as_lvis_package(data_dir: Path) -> None:
    gt = json.loads((data_dir / GT).read_text())
    res = json.loads((data_dir / DT).read_text())
    want_ev = api_run(gt, res)
    got_ev = fd_run(gt, res)
    buf_w, buf_g = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(buf_w):
        want_ev.print_results()
    with contextlib.redirect_stdout(buf_g):
        got_ev.print_results()
    assert buf_g.getvalue() == buf_w.getvalue()
    assert len(buf_g.getvalue().splitlines()) == 13


def test_dataset_api_as_lvis_package(data_dir: Path) -> None:
    path = str(data_dir / GT)
    got = LVIS(path)
    with lvis_api() as lvis:
        want = lvis.LVIS(path)
        assert got.get_img_ids() == want.get_img_ids()
        assert got.get_cat_ids() == want.get_cat_ids()
        img = want.get_img_ids()[:7]
        cats = want.get_cat_ids()[100:900]
        assert got.get_ann_ids() == want.get_ann_ids()
        assert got.get_ann_ids(img_ids=img) == want.get_ann_ids(img_ids=img)
        assert got.get_ann_ids(img_ids=img, cat_ids=cats) == want.get_ann_ids(img_ids=img, cat_ids=cats)
        assert got.get_ann_ids(cat_ids=cats, area_rng=[100, 5000]) == want.get_ann_ids(
            cat_ids=cats, area_rng=[100, 5000]
        )
        ids = want.get_ann_ids(img_ids=img)
        assert got.load_anns(ids) == want.load_anns(ids)
        assert got.load_cats(cats) == want.load_cats(cats)
        assert got.load_imgs(img) == want.load_imgs(img)
        assert got.load_cats(None) == want.load_cats(None)
        assert dict(got.cat_img_map) == dict(want.cat_img_map)
        assert dict(got.img_ann_map) == dict(want.img_ann_map)


def test_results_dataset_as_lvis_package(data_dir: Path) -> None:
    res = json.loads((data_dir / DT).read_text())
    res_copy = copy.deepcopy(res)
    for source in (str(data_dir / DT), res):
        got = LVISResults(str(data_dir / GT), source)
        with lvis_api() as lvis:
            want = lvis.LVISResults(lvis.LVIS(str(data_dir / GT)), copy.deepcopy(res))
            assert got.dataset["annotations"] == want.dataset["annotations"]
            assert got.dataset["images"] == want.dataset["images"]
            assert got.get_ann_ids(img_ids=[378515]) == want.get_ann_ids(img_ids=[378515])
            assert got.get_top_results(378515, 0.5) == want.get_top_results(378515, 0.5)
    assert len(got.dataset["annotations"]) == 1522 - 133  # PROVENANCE: the cap drops 133 on image 378515
    assert res == res_copy  # the caller's dicts are not modified (lvis-api adds area, id, segmentation)


# ---------------------------------------------------------------- hypothesis


def _reference(case: dict[str, Any], **params: Any) -> tuple[np.ndarray, np.ndarray]:
    dts = ref.lvis_results(case["results"], case["max_dets"])
    return ref.lvis_evaluate(case["gt"], dts, **params)


@settings(deadline=None)
@given(case=st_lvis_case())
def test_hypothesis_matches_reference(case: dict[str, Any]) -> None:
    ev = fd_run(case["gt"], case["results"], case["max_dets"])
    precision, recall = _reference(case)
    np.testing.assert_array_equal(ev.eval["precision"], precision)
    np.testing.assert_array_equal(ev.eval["recall"], recall)
    want = ref.lvis_summary(precision, recall, case["gt"])
    assert_same_results(ev.results, want)


@settings(deadline=None)
@given(case=st_lvis_case(), data=st.data())
def test_hypothesis_parameters_match_reference(case: dict[str, Any], data: Any) -> None:
    gt = case["gt"]
    all_imgs = sorted(img["id"] for img in gt["images"])
    all_cats = sorted(c["id"] for c in gt["categories"])
    img_ids = data.draw(st.lists(st.sampled_from(all_imgs), min_size=1, unique=True))
    cat_ids = data.draw(st.lists(st.sampled_from(all_cats), min_size=1))  # any order, repeats allowed
    use_cats = data.draw(st.booleans())
    area_rng = data.draw(st.sampled_from([ref.LVIS_AREA_RNG, [[0, 1e10], [0, 20], [20, 1e10]], [[10, 60]]]))
    iou_thrs = data.draw(st.sampled_from([ref.LVIS_IOU_THRS, np.array([0.5]), np.array([0.75, 0.1, 1.0])]))
    rec_thrs = data.draw(
        st.sampled_from([ref.LVIS_REC_THRS, np.array([0.0, 0.5, 1.0]), np.array([0.9, 0.2])])
    )
    ev = fd_run(
        gt, case["results"], case["max_dets"],
        img_ids=img_ids, cat_ids=cat_ids, use_cats=int(use_cats), area_rng=area_rng,
        area_rng_lbl=[f"a{i}" for i in range(len(area_rng))], iou_thrs=iou_thrs, rec_thrs=rec_thrs,
    )  # fmt: skip
    precision, recall = _reference(
        case, img_ids=img_ids, cat_ids=cat_ids, use_cats=use_cats, area_rng=area_rng,
        iou_thrs=iou_thrs, rec_thrs=rec_thrs,
    )  # fmt: skip
    np.testing.assert_array_equal(ev.eval["precision"], precision)
    np.testing.assert_array_equal(ev.eval["recall"], recall)


@settings(deadline=None, max_examples=40)
@given(case=st_lvis_case())
def test_hypothesis_matches_lvis_package(case: dict[str, Any]) -> None:
    pytest.importorskip("lvis")
    kept = ref.lvis_results(case["results"], case["max_dets"])
    if not kept:  # lvis-api reads results[0]: it fails on an empty list
        return
    want = api_run(case["gt"], case["results"], case["max_dets"])
    got = fd_run(case["gt"], case["results"], case["max_dets"])
    np.testing.assert_array_equal(got.eval["precision"], want.eval["precision"])
    np.testing.assert_array_equal(got.eval["recall"], want.eval["recall"])
    assert_same_results(got.results, want.results)


@settings(deadline=None, max_examples=40)
@given(case=st_lvis_case(), data=st.data())
def test_hypothesis_parameters_match_lvis_package(case: dict[str, Any], data: Any) -> None:
    pytest.importorskip("lvis")
    if not ref.lvis_results(case["results"], case["max_dets"]):  # lvis-api fails on an empty list
        return
    all_cats = sorted(c["id"] for c in case["gt"]["categories"])
    params = {
        "img_ids": data.draw(st.lists(st.sampled_from(sorted(i["id"] for i in case["gt"]["images"])),
                                      min_size=1, unique=True)),
        "cat_ids": data.draw(st.lists(st.sampled_from(all_cats), min_size=1)),  # repeats allowed
        "use_cats": data.draw(st.sampled_from([0, 1])),
    }  # fmt: skip
    want = api_run(case["gt"], case["results"], case["max_dets"], **params)
    got = fd_run(case["gt"], case["results"], case["max_dets"], **params)
    np.testing.assert_array_equal(got.eval["precision"], want.eval["precision"])
    np.testing.assert_array_equal(got.eval["recall"], want.eval["recall"])


@settings(deadline=None)
@given(case=st_lvis_case(), max_dets=st.sampled_from([-1, 0, 1, 2, 3, 300]))
def test_hypothesis_cap_matches_reference(case: dict[str, Any], max_dets: int) -> None:
    got = LVISResults(case["gt"], case["results"], max_dets=max_dets)
    want = ref.lvis_results(case["results"], max_dets)
    anns = got.dataset["annotations"]
    assert [
        {k: a[k] for k in ("id", "image_id", "category_id", "bbox", "score", "area")} for a in anns
    ] == want
    with lvis_api() as lvis:
        if want:
            api = lvis.LVISResults(api_gt(lvis, case["gt"]), copy.deepcopy(case["results"]), max_dets)
            assert anns == api.dataset["annotations"]


# ---------------------------------------------------------------- protocol cases


def _one_image(neg: list[int], not_exhaustive: list[int]) -> dict[str, Any]:
    return {
        "images": [{"id": 1, "neg_category_ids": neg, "not_exhaustive_category_ids": not_exhaustive}],
        "categories": [{"id": 1, "frequency": "f"}, {"id": 2, "frequency": "c"}, {"id": 3, "frequency": "r"}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "area": 100}],
    }


def _det(cat: int, score: float, box: list[float] | None = None) -> dict[str, Any]:
    return {"image_id": 1, "category_id": cat, "bbox": box or [0, 0, 10, 10], "score": score}


def test_federated_rules() -> None:
    hit, miss = _det(1, 0.5), _det(1, 0.9, [50, 50, 10, 10])
    # a false positive of the positive category, above the hit: AP50 = 0.5 (precision 1/2 at recall 1)
    assert evaluate_lvis(_one_image([], []), [hit, miss]).stats["AP50"] == pytest.approx(0.5, abs=1e-15)
    # ... ignored when the category is not exhaustively annotated on the image
    assert evaluate_lvis(_one_image([], [1]), [hit, miss]).stats["AP50"] == pytest.approx(1.0, abs=1e-15)
    # a detection of a category neither positive nor negative is dropped; a negative one counts (no GT: -1)
    res = evaluate_lvis(_one_image([3], []), [hit, _det(2, 0.99), _det(3, 0.99)])
    assert res.stats["AP50"] == pytest.approx(1.0, abs=1e-15)
    assert res.per_class_ap == {1: pytest.approx(1.0, abs=1e-15), 2: -1.0, 3: -1.0}
    assert res.frequency_groups == {"r": [3], "c": [2], "f": [1]}


def test_cap_keeps_the_earlier_of_tied_scores() -> None:
    # two tied scores at the cut: the first in the list is kept, whatever its category
    res = [_det(2, 0.5), _det(1, 0.5), _det(1, 0.4)]
    assert evaluate_lvis(_one_image([2], []), res, max_dets=1).stats["AP"] == 0.0  # only the cat-2 one
    assert evaluate_lvis(_one_image([2], []), res[1:], max_dets=1).stats["AP50"] == pytest.approx(
        1.0, abs=1e-15
    )


def _pooled_case() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Images 1 and 2; on image 1 a ground truth of category -1 and two detections of it, one a hit."""
    gt = _one_image([], [])
    gt["images"].append({"id": 2, "neg_category_ids": [], "not_exhaustive_category_ids": []})
    gt["categories"].append({"id": -1, "frequency": "c"})
    gt["annotations"].append(
        {"id": 2, "image_id": 1, "category_id": -1, "bbox": [20, 0, 10, 10], "area": 100}
    )
    return gt, [_det(-1, 0.9, [20, 0, 10, 10]), _det(-1, 0.8, [0, 20, 10, 10]), _det(1, 0.7)]


@pytest.mark.parametrize("cat_ids", [[1], [1, 1], [1, 2, 3], [-1], [-1, -1], [1, -1, -1], [-1, 2, 1, 2]])
def test_use_cats_0_pools_category_minus_1_once_per_cat_ids_entry(cat_ids: list[int]) -> None:
    # lvis-api's _get_gt_dt reads self._gts[img_id, cat_id] with cat_id the placeholder -1 for every
    # entry of params.cat_ids: category -1's annotations, len(cat_ids) times; all -1 without it.
    # Regression: the repeated detections were cut at len(results) per cell (one TP where
    # lvis-api counts one per repeat: 1 / (1 + eps) instead of r / (r + eps)).
    gt, results = _pooled_case()
    got = fd_run(gt, results, use_cats=0, cat_ids=cat_ids)
    assert got.eval["precision"].shape == (10, 101, 1, 4)
    want_p, want_r = ref.lvis_evaluate(gt, ref.lvis_results(results), cat_ids=cat_ids, use_cats=False)
    np.testing.assert_array_equal(got.eval["precision"], want_p)
    np.testing.assert_array_equal(got.eval["recall"], want_r)
    assert (want_p[0, 0, 0, 0] > -1) == (-1 in cat_ids)
    if importlib.util.find_spec("lvis") is not None:
        api = api_run(gt, results, use_cats=0, cat_ids=cat_ids)
        np.testing.assert_array_equal(got.eval["precision"], api.eval["precision"])
        np.testing.assert_array_equal(got.eval["recall"], api.eval["recall"])


@pytest.mark.parametrize("repeats", [1, 2, 3])
def test_use_cats_0_repeats_are_not_cut(repeats: int) -> None:
    # a miss above a hit, each pooled r times: the cell holds 2r detections, more than the 2
    # results. The bug cut each cell at len(results): for r >= 2 it kept only the r copies of
    # the miss (recall 0 where lvis-api reaches recall 1 at precision r / (2r + eps)).
    gt, _ = _pooled_case()
    results = [_det(-1, 0.9, [0, 20, 10, 10]), _det(-1, 0.8, [20, 0, 10, 10])]
    cat_ids = [-1] * repeats
    got = fd_run(gt, results, use_cats=0, cat_ids=cat_ids)
    want_p, want_r = ref.lvis_evaluate(gt, ref.lvis_results(results), cat_ids=cat_ids, use_cats=False)
    np.testing.assert_array_equal(got.eval["precision"], want_p)
    np.testing.assert_array_equal(got.eval["recall"], want_r)
    assert want_r[0, 0, 0] == 1.0  # the hit is reached in every case
    if importlib.util.find_spec("lvis") is not None:
        api = api_run(gt, results, use_cats=0, cat_ids=cat_ids)
        np.testing.assert_array_equal(got.eval["precision"], api.eval["precision"])
        np.testing.assert_array_equal(got.eval["recall"], api.eval["recall"])


def test_unsorted_rec_thrs_stop_at_the_first_beyond_the_curve() -> None:
    # recall reaches 0.5 only: lvis-api's accumulate hits IndexError at threshold 0.9 inside a
    # bare try/except and leaves the later threshold 0.2 at 0, though the curve reaches it
    gt = _one_image([], [])
    gt["annotations"].append(
        {"id": 2, "image_id": 1, "category_id": 1, "bbox": [50, 50, 10, 10], "area": 100}
    )
    results = [_det(1, 0.9)]
    params = {"rec_thrs": np.array([0.9, 0.2])}
    got = fd_run(gt, results, **params)
    want_p, want_r = ref.lvis_evaluate(gt, ref.lvis_results(results), **params)
    np.testing.assert_array_equal(got.eval["precision"], want_p)
    np.testing.assert_array_equal(got.eval["recall"], want_r)
    assert want_p[0, 1, 0, 0] == 0.0
    if importlib.util.find_spec("lvis") is not None:
        api = api_run(gt, results, **params)
        np.testing.assert_array_equal(got.eval["precision"], api.eval["precision"])
        np.testing.assert_array_equal(got.eval["recall"], api.eval["recall"])


def test_evaluate_lvis_equals_lvis_eval(data_dir: Path) -> None:
    res = evaluate_lvis(str(data_dir / GT), str(data_dir / DT))
    assert isinstance(res, LvisEvalResult)
    assert list(res.stats) == list(PUBLISHED)
    assert res.stats == {k: float(v) for k, v in PUBLISHED.items()}  # float() keeps the value exactly
    assert res.precision.shape == (10, 101, 1230, 4)
    assert len(res.per_class_ap) == 1230
    assert sum(v > -1 for v in res.per_class_ap.values()) == 190  # PROVENANCE: 190 categories have GT
    assert res.max_dets == 300
    assert [len(res.frequency_groups[f]) for f in "rcf"] == [454, 461, 315]  # PROVENANCE counts
    res100 = evaluate_lvis(str(data_dir / GT), str(data_dir / DT), max_dets=100)
    assert "AR@100" in res100.stats
    assert res100.stats["AP"] < res.stats["AP"]


def test_empty_results_and_no_categories() -> None:
    res = evaluate_lvis(_one_image([], []), [])
    assert res.stats["AP"] == 0.0  # ground truth and no detection: precision 0 (lvis-api fails on [])
    assert res.stats["AR@300"] == 0.0
    res = evaluate_lvis(_one_image([], []), [_det(1, 0.5)], cat_ids=[])
    assert set(res.stats.values()) == {-1.0}


def test_params_defaults_as_lvis_api() -> None:
    p = Params("bbox")
    np.testing.assert_array_equal(p.iou_thrs, np.linspace(0.5, 0.95, 10))
    np.testing.assert_array_equal(p.rec_thrs, np.linspace(0.0, 1.0, 101))
    assert p.max_dets == 300
    assert p.area_rng == [[0, 1e10], [0, 1024], [1024, 9216], [9216, 1e10]]
    assert p.area_rng_lbl == ["all", "small", "medium", "large"]
    assert (p.use_cats, p.img_count_lbl, p.iou_type) == (1, ["r", "c", "f"], "bbox")


def test_v1_style_file_matches_reference(tmp_path: Path) -> None:
    # LVIS v1 files: categories with def / synonyms / image_count, images with coco_url, no file_name
    rng = np.random.default_rng(0)
    cats = [{"id": c, "name": f"n{c}", "def": "d", "synonyms": [f"n{c}"], "synset": f"s{c}.n.01",
             "image_count": int(rng.integers(0, 200)), "instance_count": 1,
             "frequency": "rcf"[c % 3]} for c in range(1, 41)]  # fmt: skip
    images, anns, results = [], [], []
    for i in range(1, 31):
        pos = sorted(set(rng.integers(1, 41, 3).tolist()))
        neg = [c for c in rng.integers(1, 41, 5).tolist() if c not in pos]
        images.append({"id": i, "coco_url": f"http://x/{i}.jpg", "height": 100, "width": 100,
                       "neg_category_ids": sorted(set(neg)), "not_exhaustive_category_ids": pos[:1]})  # fmt: skip
        for c in pos:
            x, y, w, h = (float(v) for v in rng.uniform(0, 50, 4).round(2))
            anns.append({"id": len(anns) + 1, "image_id": i, "category_id": c, "bbox": [x, y, w + 1, h + 1],
                         "area": (w + 1) * (h + 1), "segmentation": [[x, y, x + w, y, x + w, y + h]]})  # fmt: skip
            for _ in range(3):
                jit = rng.normal(0, 3, 4)
                results.append({"image_id": i, "category_id": int(rng.choice([c, *neg, 40])),
                                "bbox": [x + jit[0], y + jit[1], w + 1 + abs(jit[2]), h + 1 + abs(jit[3])],
                                "score": float(np.float32(rng.random()))})  # fmt: skip
    gt = {"info": {"year": 2020}, "licenses": [], "images": images, "categories": cats, "annotations": anns}
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    (tmp_path / "dt.json").write_text(json.dumps(results))
    ev = LVISEval(tmp_path / "gt.json", tmp_path / "dt.json")
    ev.run()
    precision, recall = ref.lvis_evaluate(gt, ref.lvis_results(results, 300))
    np.testing.assert_array_equal(ev.eval["precision"], precision)
    np.testing.assert_array_equal(ev.eval["recall"], recall)
    assert_same_results(ev.results, ref.lvis_summary(precision, recall, gt))
    assert ev.results["AP"] > 0


# ---------------------------------------------------------------- bad input


def _gt() -> dict[str, Any]:
    return copy.deepcopy(_one_image([2], []))


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda d: d["categories"][1].pop("frequency"), r"<dict> \(categories\): entry 1 has no 'frequency'"),
        (lambda d: d["categories"][2].update(frequency="x"), r"entry 2 \(category id 3\) has frequency='x'"),
        (
            lambda d: d["images"][0].update(neg_category_ids=[2, 7]),
            r"entry 0 \(image id 1\) has neg_category_ids"
            r" containing 7, which is not a category id",
        ),
        (
            lambda d: d["images"][0].update(not_exhaustive_category_ids=[9]),
            "not_exhaustive_category_ids containing 9",
        ),
        (lambda d: d["images"][0].pop("neg_category_ids"), r"\(images\): entry 0 has no 'neg_category_ids'"),
        (
            lambda d: d["images"][0].update(neg_category_ids=3),
            "entry 0 has neg_category_ids=3; expected a list",
        ),
        (lambda d: d["images"][0].update(neg_category_ids=[1.5]), "entry 0 has 1.5 in neg_category_ids"),
        (
            lambda d: d["annotations"][0].update(image_id=5),
            r"\(annotations\): entry 0 has image_id=5, which is not",
        ),
        (
            lambda d: d["annotations"][0].update(category_id=5),
            "entry 0 has category_id=5, which is not a category",
        ),
        (lambda d: d["annotations"][0].pop("area"), "entry 0 has no 'area' field"),
        (lambda d: d["annotations"].append(dict(d["annotations"][0])), "share annotation id 1"),
        (lambda d: d["images"].append(dict(d["images"][0])), "share image id 1"),
        (lambda d: d.pop("categories"), "'categories' must be a JSON list, got nothing"),
    ],
)
def test_bad_ground_truth(edit: Any, match: str) -> None:
    d = _gt()
    edit(d)
    with pytest.raises(ValueError, match=match):
        LVIS(d)


def test_bad_files_name_the_file(tmp_path: Path) -> None:
    d = _gt()
    del d["categories"][0]["frequency"]
    path = tmp_path / "v1.json"
    path.write_text(json.dumps(d))
    with pytest.raises(ValueError, match=r"v1\.json \(categories\): entry 0 has no 'frequency'"):
        LVIS(path)
    path.write_text("[1, 2]")
    with pytest.raises(ValueError, match=r"v1\.json: annotation file format list not supported"):
        LVIS(path)
    with pytest.raises(ValueError, match="does not exist"):
        LVIS(tmp_path / "missing.json")
    res = tmp_path / "res.json"
    res.write_text(json.dumps([_det(1, 0.5), {**_det(1, 0.5), "image_id": 42}]))
    with pytest.raises(ValueError, match=r"res\.json: entry 1 has image_id=42, which is not an image"):
        LVISResults(_gt(), res)


@pytest.mark.parametrize(
    ("results", "match"),
    [
        ([_det(1, 0.5), {**_det(1, 0.5), "image_id": 42}], "results list: entry 1 has image_id=42"),
        ([_det(1, float("nan"))], "entry 0 has score=nan"),
        ([_det(1, 0.5, [0, 0, -1, 4])], "width and height must be >= 0"),
        ([{"image_id": 1, "category_id": 1, "score": 0.5}], "entry 0 has no 'bbox' field"),
        ([_det(1, 0.5), {"image_id": 1, "category_id": 1, "score": 0.5}], "entry 1 has no 'bbox' field"),
        ([_det(1, 0.5), 3], "entry 1 must be an object"),
        ([{**_det(1, 0.5), "category_id": "a"}], "entry 0 has category_id='a'"),
    ],
)
def test_bad_results(results: list[Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        LVISResults(_gt(), results)


def test_other_errors() -> None:
    gt = LVIS(_gt())
    with pytest.raises(NotImplementedError, match="segm"):
        LVISEval(gt, [_det(1, 0.5)], "segm")
    with pytest.raises(NotImplementedError, match="segm"):
        evaluate_lvis(gt, [_det(1, 0.5)], iou_type="segm")
    with pytest.raises(ValueError, match="iou_type must be 'bbox'"):
        LVISEval(gt, [_det(1, 0.5)], "keypoints")
    with pytest.raises(NotImplementedError, match="segmentation results"):
        LVISResults(gt, [{"image_id": 1, "category_id": 1, "segmentation": {}, "score": 0.5}])
    with pytest.raises(TypeError, match="lvis_dt must be"):
        LVISEval(gt, 3)
    with pytest.raises(TypeError, match="results must be a json path or a list"):
        LVISResults(gt, {"a": 1})
    with pytest.raises(TypeError, match="max_dets must be an integer"):
        LVISResults(gt, [], max_dets=1.5)  # type: ignore[arg-type]
    ev = LVISEval(gt, [_det(1, 0.5)])
    with pytest.raises(RuntimeError, match="evaluate"):
        ev.accumulate()
    with pytest.raises(RuntimeError, match="accumulate"):
        ev.summarize()
    ev.params.img_ids = [1, 5]
    with pytest.raises(ValueError, match=r"params\.img_ids contains 5"):
        ev.evaluate()
    ev.params.img_ids = [1]
    ev.evaluate()
    ev.params.cat_ids = [1]
    with pytest.raises(ValueError, match="run evaluate"):
        ev.accumulate()
    dt = LVISResults(gt, [_det(1, 0.5)], max_dets=10)
    with pytest.raises(ValueError, match="max_dets=300 but dt was loaded with max_dets=10"):
        evaluate_lvis(gt, dt, max_dets=300)
    for name in ("ann_to_rle", "ann_to_mask"):
        with pytest.raises(NotImplementedError):
            getattr(gt, name)({})


# ---------------------------------------------------------------- command line


def test_cli_eval_lvis(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from fastdet.cli import main

    gt, dt = str(data_dir / GT), str(data_dir / DT)
    assert main(["eval", "--lvis", gt, dt]) == 0
    text = capsys.readouterr().out
    got = fd_run(json.loads(Path(gt).read_text()), json.loads(Path(dt).read_text()))
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        got.print_results()
    assert text == buf.getvalue()
    assert main(["eval", "--lvis", gt, dt, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["stats"] == {k: float(v) for k, v in PUBLISHED.items()}
    assert len(out["per_class"]) == 1230
    assert main(["eval", "--lvis", gt, dt, "--json", "--max-dets", "100"]) == 0
    assert "AR@100" in json.loads(capsys.readouterr().out)["stats"]
    assert main(["eval", "--lvis", gt, dt, "--per-class"]) == 0
    assert "baseball_glove" in capsys.readouterr().out


def test_cli_eval_lvis_errors(data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from fastdet.cli import main

    gt, dt = str(data_dir / GT), str(data_dir / DT)
    assert main(["eval", "--lvis", gt, dt, "--max-dets", "1,10"]) == 2
    assert "one per-image cap" in capsys.readouterr().err
    assert main(["eval", "--lvis", gt, dt, "--tide"]) == 2
    assert "COCO evaluation only" in capsys.readouterr().err
    bad = _gt()
    del bad["categories"][2]["frequency"]
    (tmp_path / "gt.json").write_text(json.dumps(bad))
    assert main(["eval", "--lvis", str(tmp_path / "gt.json"), dt]) == 2
    assert "gt.json (categories): entry 2 has no 'frequency'" in capsys.readouterr().err


def test_results_are_not_ground_truth() -> None:
    gt = LVIS(_gt())
    with pytest.raises(TypeError, match="lvis_gt must be the ground truth"):
        LVISEval(LVISResults(gt, [_det(1, 0.5)]), [_det(1, 0.5)])


@pytest.mark.parametrize("seed", range(3))
def test_cap_of_300_with_ties_at_the_cut(seed: int) -> None:
    # 340 results on one image (170 on another) with scores from three values, so that the 300th and
    # 301st results of the first image tie; categories positive, negative, neither and not exhaustive
    rng = np.random.default_rng(seed)
    gt = {
        "images": [{"id": i, "neg_category_ids": [2, 4], "not_exhaustive_category_ids": [3]} for i in (1, 2)],
        "categories": [{"id": c, "frequency": "rcfrc"[c - 1]} for c in (1, 2, 3, 4, 5)],
        "annotations": [
            {"id": j + 1, "image_id": 1 + j % 2, "category_id": 1 + j % 3, "area": 400.0,
             "bbox": [float(x), float(y), 20.0, 20.0]}
            for j, (x, y) in enumerate(rng.integers(0, 200, (40, 2)).tolist())
        ],
    }  # fmt: skip
    results = []
    for img, n in ((1, 340), (2, 170)):
        for _ in range(n):
            a = gt["annotations"][int(rng.integers(0, 40))]
            x, y = (v + float(rng.integers(-3, 4)) for v in a["bbox"][:2])
            box = [x, y, 20.0, float(rng.integers(15, 26))]
            results.append({"image_id": img, "category_id": int(rng.integers(1, 6)), "bbox": box,
                            "score": float(rng.choice([0.3, 0.6, 0.9]))})  # fmt: skip
    kept = ref.lvis_results(results, 300)
    assert len(kept) == 470
    got = fd_run(gt, results)
    precision, recall = ref.lvis_evaluate(gt, kept)
    np.testing.assert_array_equal(got.eval["precision"], precision)
    np.testing.assert_array_equal(got.eval["recall"], recall)
    assert LVISResults(gt, results).dataset["annotations"] == [
        {**r, "segmentation": [[r["bbox"][0], r["bbox"][1], r["bbox"][0], r["bbox"][1] + r["bbox"][3],
                                r["bbox"][0] + r["bbox"][2], r["bbox"][1] + r["bbox"][3],
                                r["bbox"][0] + r["bbox"][2], r["bbox"][1]]]}
        for r in kept
    ]  # fmt: skip
    if importlib.util.find_spec("lvis") is not None:
        want = api_run(gt, results)
        np.testing.assert_array_equal(got.eval["precision"], want.eval["precision"])
        assert_same_results(got.results, want.results)
