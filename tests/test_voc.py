"""fastdet.voc: the published Padilla table, the naive reference, and edge cases."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import reference as ref
from conftest import F64_ATOL
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from fastdet.voc import VocResult, evaluate, voc_ap

# --------------------------------------------------------------------------- Padilla's 7 images


def _read_padilla(root):
    """Padilla's xywh text files -> VOC dicts with xyxy boxes (x2 = x + w, as Padilla)."""
    gt, dt = [], []
    for path in sorted((root / "groundtruths").glob("*.txt")):
        for line in path.read_text().splitlines():
            if line.strip():
                label, x, y, w, h = line.split()
                x, y, w, h = map(float, (x, y, w, h))
                gt.append({"image_id": path.stem, "label": label, "bbox": [x, y, x + w, y + h]})
    for path in sorted((root / "detections").glob("*.txt")):
        for line in path.read_text().splitlines():
            if line.strip():
                label, score, x, y, w, h = line.split()
                x, y, w, h = map(float, (x, y, w, h))
                dt.append(
                    {
                        "image_id": path.stem,
                        "label": label,
                        "bbox": [x, y, x + w, y + h],
                        "score": float(score),
                    }
                )
    return gt, dt


@pytest.fixture(scope="module")
def padilla(data_dir):
    gt, dt = _read_padilla(data_dir / "voc-padilla-7img")
    assert (len(gt), len(dt)) == (15, 24)
    return gt, dt


# (IoU threshold, 11-point AP, all-point AP): review_object_detection_metrics'
# tests/test_eval_pascal.py, with the "+1" convention (PROVENANCE.md).
PUBLISHED = [
    (0.1, 0.3333333333, 0.3371980676),
    (0.3, 0.2683982683, 0.2456866804),
    (0.5, 0.0303030303, 0.0222222222),
    (0.75, 0.0, 0.0),
]
# The same without "+1" (continuous areas); computed in PROVENANCE.md, not published.
NO_OFFSET = [
    (0.1, 0.3024538867, 0.2801328502),
    (0.3, 0.2683982684, 0.2253968254),
    (0.5, 0.0303030303, 0.0222222222),
    (0.75, 0.0, 0.0),
]


@pytest.mark.parametrize(("pixel_offset", "table"), [(1, PUBLISHED), (0, NO_OFFSET)])
def test_padilla_published_table(padilla, pixel_offset, table):
    gt, dt = padilla
    for thr, ap11, ap_all in table:
        all_points = evaluate(gt, dt, iou_threshold=thr, pixel_offset=pixel_offset)
        eleven = evaluate(gt, dt, iou_threshold=thr, pixel_offset=pixel_offset, use_07_metric=True)
        assert all_points.ap["person"] == pytest.approx(ap_all, abs=1e-9)
        assert eleven.ap["person"] == pytest.approx(ap11, abs=1e-9)
        assert all_points.map == all_points.ap["person"]


def test_padilla_curves_match_published_results_txt(padilla, data_dir):
    # results/results.txt of Object-Detection-Metrics: pascalvoc.py -t 0.3, rounded to 2 decimals.
    text = (data_dir / "voc-padilla-7img" / "results_published.txt").read_text()
    lists = {}
    for line in text.splitlines():
        for key in ("Precision", "Recall"):
            if line.startswith(key + ":"):
                lists[key] = [
                    float(v) for v in line.split(":", 1)[1].strip(" []").replace("'", "").split(",")
                ]
    gt, dt = padilla
    res = evaluate(gt, dt, iou_threshold=0.3, pixel_offset=1)
    assert np.round(res.precision["person"], 2).tolist() == lists["Precision"]
    assert np.round(res.recall["person"], 2).tolist() == lists["Recall"]
    assert round(res.ap["person"] * 100, 2) == 24.57
    assert res.n_positives["person"] == 15
    # ties (0.95, 0.45, 0.44) keep file order: the ranked scores are non-increasing
    assert (np.diff(res.scores["person"]) <= 0).all()


def test_padilla_matches_reference(padilla):
    gt, dt = padilla
    for thr in (0.1, 0.3, 0.5):
        for use_07 in (False, True):
            ours = evaluate(gt, dt, iou_threshold=thr, use_07_metric=use_07, pixel_offset=1)
            ap, precision, recall = ref.voc_evaluate(gt, dt, thr, use_07, 1)["person"]
            assert ours.ap["person"] == pytest.approx(ap, abs=F64_ATOL)  # a sum in another order
            assert_array_equal(ours.precision["person"], precision)  # the same counts and divisions
            assert_array_equal(ours.recall["person"], recall)


# --------------------------------------------------------------------------- voc_ap


curve = st.integers(0, 30).flatmap(
    lambda n: st.tuples(
        st.lists(st.sampled_from([0.0, 0.1, 0.3, 0.5, 0.6, 0.7, 1.0]), min_size=n, max_size=n),
        st.lists(st.floats(0, 1), min_size=n, max_size=n),
    )
)


@given(curve, st.booleans())
def test_voc_ap_matches_reference(rp, use_07):
    recall, precision = rp
    recall = sorted(recall)
    got = voc_ap(recall, precision, use_07_metric=use_07)
    assert got == pytest.approx(ref.voc_ap(recall, precision, use_07), abs=F64_ATOL)  # summation order
    assert 0.0 <= got <= 1.0 + F64_ATOL


def test_voc_ap_small_cases():
    assert voc_ap([], []) == 0.0
    assert voc_ap([], [], use_07_metric=True) == 0.0
    assert voc_ap([1.0], [1.0]) == 1.0
    assert voc_ap([1.0], [1.0], use_07_metric=True) == pytest.approx(1.0)
    # the devkit's 4th point is 0.30000000000000004, so a recall of exactly 0.3 misses it
    assert voc_ap([0.3], [1.0], use_07_metric=True) == pytest.approx(3 / 11)
    # precision envelope: a later higher precision lifts earlier recall levels
    assert voc_ap([0.5, 1.0], [0.5, 1.0]) == 1.0


def test_voc_ap_bad_input():
    with pytest.raises(ValueError, match="same length"):
        voc_ap([0.1, 0.2], [1.0])
    with pytest.raises(ValueError, match="recall contains NaN"):
        voc_ap([np.nan], [1.0])
    with pytest.raises(ValueError, match=r"precision must lie in \[0, 1\]"):
        voc_ap([0.5], [1.5])
    with pytest.raises(ValueError, match="1-dimensional"):
        voc_ap([[0.5]], [[1.0]])
    with pytest.raises(TypeError, match="use_07_metric"):
        voc_ap([0.5], [1.0], use_07_metric=1)


# --------------------------------------------------------------------------- evaluate


@st.composite
def voc_problem(draw):
    coord = st.integers(0, 12)

    def box():
        x1, y1 = draw(coord), draw(coord)
        return [x1, y1, x1 + draw(st.integers(0, 6)), y1 + draw(st.integers(0, 6))]

    gt = [
        {
            "image_id": draw(st.integers(0, 2)),
            "label": draw(st.sampled_from([1, 2])),
            "bbox": box(),
            "difficult": draw(st.booleans()),
        }
        for _ in range(draw(st.integers(0, 8)))
    ]
    dt = [
        {
            "image_id": draw(st.integers(0, 3)),
            "label": draw(st.sampled_from([1, 2, 3])),
            "bbox": box(),
            "score": draw(st.sampled_from([0.1, 0.5, 0.9])),  # ties
        }
        for _ in range(draw(st.integers(0, 10)))
    ]
    return gt, dt


@given(
    voc_problem(),
    st.sampled_from([0.0, 0.1, 0.5, 0.7, 1.0]),
    st.booleans(),
    st.sampled_from([0, 1]),
)
def test_evaluate_matches_reference(problem, thr, use_07, offset):
    gt, dt = problem
    res = evaluate(gt, dt, iou_threshold=thr, use_07_metric=use_07, pixel_offset=offset)
    expected = ref.voc_evaluate(gt, dt, thr, use_07, offset)
    assert set(res.ap) == set(expected)
    for label, (ap, precision, recall) in expected.items():
        if math.isnan(ap):
            assert math.isnan(res.ap[label])
        else:
            assert res.ap[label] == pytest.approx(ap, abs=F64_ATOL)  # a sum in another order
        assert_array_equal(res.precision[label], precision)  # the same counts and divisions
        assert_array_equal(res.recall[label], recall)
    defined = [ap for ap, _, _ in expected.values() if not math.isnan(ap)]
    if defined:
        assert res.map == pytest.approx(np.mean(defined), abs=F64_ATOL)
    else:
        assert math.isnan(res.map)


def test_classes_without_ground_truth_or_detections():
    gt = [
        {"image_id": "a", "label": "cat", "bbox": [0, 0, 10, 10]},
        {"image_id": "a", "label": "dog", "bbox": [0, 0, 10, 10]},
        {"image_id": "a", "label": "cow", "bbox": [0, 0, 10, 10], "difficult": True},
    ]
    dt = [
        {"image_id": "a", "label": "cat", "bbox": [0, 0, 10, 10], "score": 0.9},
        {"image_id": "a", "label": "bird", "bbox": [0, 0, 10, 10], "score": 0.9},
        {"image_id": "a", "label": "cow", "bbox": [0, 0, 10, 10], "score": 0.9},
    ]
    res = evaluate(gt, dt)
    assert list(res.ap) == ["bird", "cat", "cow", "dog"]
    assert res.ap["cat"] == 1.0
    assert res.ap["dog"] == 0.0  # ground truth, no detections: AP 0, counted in map
    assert math.isnan(res.ap["bird"])  # no ground truth: undefined, left out of map
    assert math.isnan(res.ap["cow"])  # only difficult ground truth: likewise
    assert res.map == 0.5
    assert res.precision["dog"].shape == (0,)
    assert np.isnan(res.recall["bird"]).all()
    assert res.n_positives == {"bird": 0, "cat": 1, "cow": 0, "dog": 1}


def test_difficult_neither_rewarded_nor_penalised():
    gt = [
        {"image_id": 0, "label": 0, "bbox": [0, 0, 10, 10], "difficult": True},
        {"image_id": 0, "label": 0, "bbox": [20, 20, 30, 30]},
    ]
    dt = [
        {"image_id": 0, "label": 0, "bbox": [0, 0, 10, 10], "score": 0.9},  # difficult: ignored
        {"image_id": 0, "label": 0, "bbox": [20, 20, 30, 30], "score": 0.8},  # TP
        {"image_id": 0, "label": 0, "bbox": [20, 20, 30, 30], "score": 0.7},  # duplicate: FP
    ]
    res = evaluate(gt, dt)
    assert_allclose(res.recall[0], [0.0, 1.0, 1.0])
    assert_allclose(res.precision[0], [0.0, 1.0, 0.5])
    assert res.ap[0] == 1.0


def test_best_match_only_and_threshold_inclusive():
    # The detection overlaps box A best, but A is taken: it is an FP even though box B
    # would match (no fallback to the next-best ground truth).
    gt = [
        {"image_id": 0, "label": 0, "bbox": [0, 0, 10, 10]},
        {"image_id": 0, "label": 0, "bbox": [2, 0, 12, 10]},
    ]
    dt = [
        {"image_id": 0, "label": 0, "bbox": [0, 0, 10, 10], "score": 0.9},
        {"image_id": 0, "label": 0, "bbox": [0, 0, 10, 10], "score": 0.8},
    ]
    res = evaluate(gt, dt, iou_threshold=0.5)
    assert_allclose(res.recall[0], [0.5, 0.5])
    # IoU exactly at the threshold matches (>=): [0,0,10,10] vs [0,0,5,10] is exactly 0.5
    gt1 = [{"image_id": 0, "label": 0, "bbox": [0.0, 0.0, 10.0, 10.0]}]
    dt1 = [{"image_id": 0, "label": 0, "bbox": [0.0, 0.0, 5.0, 10.0], "score": 1.0}]
    assert evaluate(gt1, dt1, iou_threshold=0.5).ap[0] == 1.0
    assert evaluate(gt1, dt1, iou_threshold=0.5000001).ap[0] == 0.0


@pytest.mark.parametrize("offset", [0, 1])
def test_threshold_zero_never_matches_a_disjoint_box(offset):
    """At iou_threshold 0 a detection overlapping no ground truth is an FP, as in both devkits.

    VOCevaldet.m computes an overlap only when iw > 0 and ih > 0 (ovmax stays -inf
    otherwise); voc_eval.py's ``ovmax > 0`` fails on IoU 0; mean-average-precision gives
    AP 0 here as well. fastdet used to give this detection IoU 0 >= 0: a TP, AP 1.
    """
    gt = [{"image_id": 0, "label": 0, "bbox": [0, 0, 10, 10]}]
    far = {"image_id": 0, "label": 0, "bbox": [50, 50, 60, 60], "score": 0.9}
    res = evaluate(gt, [far], iou_threshold=0.0, pixel_offset=offset)
    assert res.ap[0] == 0.0
    assert_array_equal(res.recall[0], [0.0])
    # A shared edge overlaps only with the "+1" convention (iw = 0 + 1).
    touching = {**far, "bbox": [10, 0, 20, 10]}
    assert evaluate(gt, [touching], iou_threshold=0.0, pixel_offset=offset).ap[0] == float(offset)
    # The slightest overlap is a candidate; a disjoint box listed first does not take the match.
    gt2 = [{"image_id": 0, "label": 0, "bbox": [100, 100, 110, 110]}, *gt]
    near = {**far, "bbox": [9, 9, 30, 30]}
    res = evaluate(gt2, [near, near], iou_threshold=0.0, pixel_offset=offset)
    assert_array_equal(res.recall[0], [0.5, 0.5])  # the second copy is a duplicate of gt2[1]
    for label, (ap, precision, recall) in ref.voc_evaluate(gt2, [near, near], 0.0, False, offset).items():
        assert res.ap[label] == ap
        assert_array_equal(res.precision[label], precision)
        assert_array_equal(res.recall[label], recall)


def test_empty_inputs_and_result_is_read_only():
    res = evaluate([], [])
    assert dict(res.ap) == {}
    assert math.isnan(res.map)
    assert isinstance(res, VocResult)
    res = evaluate([{"image_id": 0, "label": 0, "bbox": [0, 0, 1, 1]}], [])
    assert res.ap[0] == 0.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.map = 1.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        res.ap[0] = 1.0  # type: ignore[index]
    with pytest.raises(ValueError, match="read-only"):
        res.precision[0][...] = 1.0


def test_evaluate_bad_input():
    good = {"image_id": 0, "label": 0, "bbox": [0, 0, 1, 1], "score": 0.5}
    with pytest.raises(ValueError, match=r"dt\[0\] has no 'score' key"):
        evaluate([], [{"image_id": 0, "label": 0, "bbox": [0, 0, 1, 1]}])
    with pytest.raises(ValueError, match=r"gt\[0\] has no 'bbox' key"):
        evaluate([{"image_id": 0, "label": 0}], [])
    with pytest.raises(ValueError, match="row 1"):
        evaluate([], [good, {**good, "bbox": [5, 5, 1, 1]}])
    with pytest.raises(ValueError, match=r"dt\[0\]\['bbox'\]"):
        evaluate([], [{**good, "bbox": [0, 0, 1]}])
    with pytest.raises(ValueError, match="NaN or inf"):
        evaluate([], [{**good, "bbox": [0, 0, np.nan, 1]}])
    with pytest.raises(ValueError, match="score"):
        evaluate([], [{**good, "score": float("nan")}])
    with pytest.raises(ValueError, match="iou_threshold"):
        evaluate([], [], iou_threshold=1.5)
    with pytest.raises(ValueError, match="pixel_offset"):
        evaluate([], [], pixel_offset=2)
    with pytest.raises(TypeError, match="must be a dict"):
        evaluate([[0, 0, 1, 1]], [])
    with pytest.raises(TypeError, match="sequence of dicts"):
        evaluate({"image_id": 0}, [])
    with pytest.raises(ValueError, match="difficult"):
        evaluate([{"image_id": 0, "label": 0, "bbox": [0, 0, 1, 1], "difficult": 2}], [])


# --------------------------------------------------------------------------- IoU ties between ground truths


def _tie_case(first_gt_left):
    """One detection exactly halfway between two ground truths (IoU 1/3 with each), then a copy of one.

    The devkit takes the first best ground truth (``np.argmax``): the tied detection
    takes the first listed box, so the copy of that box is a duplicate (FP) while a
    copy of the other box is a TP.
    """
    left = {"image_id": 0, "label": 0, "bbox": [0, 0, 10, 10]}
    right = {"image_id": 0, "label": 0, "bbox": [10, 0, 20, 10]}
    gt = [left, right] if first_gt_left else [right, left]
    dt = [
        {"image_id": 0, "label": 0, "bbox": [5, 0, 15, 10], "score": 0.9},  # IoU 1/3 with both
        {"image_id": 0, "label": 0, "bbox": [0, 0, 10, 10], "score": 0.8},  # a copy of `left`
    ]
    return gt, dt


@pytest.mark.parametrize("first_gt_left", [True, False])
@pytest.mark.parametrize("offset", [0, 1])
def test_iou_tie_between_ground_truths_takes_the_first(first_gt_left, offset):
    gt, dt = _tie_case(first_gt_left)
    iou = ref.box_iou_offset(dt[0]["bbox"], gt[0]["bbox"], offset)
    assert iou == ref.box_iou_offset(dt[0]["bbox"], gt[1]["bbox"], offset)  # an exact tie
    res = evaluate(gt, dt, iou_threshold=0.3, pixel_offset=offset)
    if first_gt_left:  # the tied detection took `left`: its copy is a duplicate
        assert_allclose(res.recall[0], [0.5, 0.5])
        assert_allclose(res.precision[0], [1.0, 0.5])
        assert res.ap[0] == 0.5
    else:  # it took `right`: the copy of `left` is a second TP
        assert_allclose(res.recall[0], [0.5, 1.0])
        assert_allclose(res.precision[0], [1.0, 1.0])
        assert res.ap[0] == 1.0
    ap, precision, recall = ref.voc_evaluate(gt, dt, 0.3, False, offset)[0]
    assert res.ap[0] == ap
    assert_allclose(res.precision[0], precision, rtol=0)
    assert_allclose(res.recall[0], recall, rtol=0)


def test_iou_ties_across_images_and_difficult_boxes():
    """Ties where the first best box is difficult (the detection is ignored) or on another image."""
    gt = [
        {"image_id": "a", "label": 0, "bbox": [0, 0, 10, 10], "difficult": True},
        {"image_id": "a", "label": 0, "bbox": [10, 0, 20, 10]},
        {"image_id": "b", "label": 0, "bbox": [10, 0, 20, 10]},
        {"image_id": "b", "label": 0, "bbox": [0, 0, 10, 10]},
    ]
    dt = [
        {"image_id": "a", "label": 0, "bbox": [5, 0, 15, 10], "score": 0.9},  # tie -> difficult: ignored
        {
            "image_id": "b",
            "label": 0,
            "bbox": [5, 0, 15, 10],
            "score": 0.8,
        },  # tie -> the first, [10, 0, 20, 10]
        {"image_id": "b", "label": 0, "bbox": [10, 0, 20, 10], "score": 0.7},  # its copy: FP
        {"image_id": "a", "label": 0, "bbox": [10, 0, 20, 10], "score": 0.6},  # TP
    ]
    res = evaluate(gt, dt, iou_threshold=0.3)
    assert res.n_positives[0] == 3
    assert_allclose(res.recall[0], [0.0, 1 / 3, 1 / 3, 2 / 3])
    assert_allclose(res.precision[0], [0.0, 1.0, 0.5, 2 / 3])
    ap, precision, recall = ref.voc_evaluate(gt, dt, 0.3, False, 0)[0]
    assert res.ap[0] == ap  # the same counts, divided the same way: exact
    assert_allclose(res.precision[0], precision, rtol=0)
    assert_allclose(res.recall[0], recall, rtol=0)
