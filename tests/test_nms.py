"""Tests for fastdet.nms: references, peers (torchvision, OpenCV), published data, edge cases."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import math
import os
import sys
from pathlib import Path

import numpy as np
import pytest
import reference as ref
from conftest import F32_CHAIN_TOL, F32_RTOL
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from strategies import (
    st_boxes,
    st_boxes_and_scores,
    st_dtype,
    st_iou_threshold,
    st_labels,
    st_scores,
)

from fastdet.nms import (
    batched_nms,
    diou_nms,
    matrix_nms,
    multiclass_nms,
    nms,
    postprocess_detections,
    soft_nms,
)


@pytest.fixture(autouse=True, params=["pairs", "grid"])
def nms_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run every test of this module on both greedy NMS kernels: all pairs (small inputs) and the grid."""
    import fastdet._nms_core

    monkeypatch.setattr(fastdet._nms_core, "_SMALL_NMS", 1 << 62 if request.param == "pairs" else -1)
    return str(request.param)


NMS_MODULE = sys.modules["fastdet.nms"]  # the attribute fastdet.nms is the function
NMS_CORE = sys.modules["fastdet._nms_core"]  # where the tunable constants live
NMS_POST = sys.modules["fastdet._nms_post"]


def test_public_import_paths_after_the_split():
    """``fastdet.nms`` is split into private modules; every public name keeps its paths."""
    import fastdet

    assert fastdet.nms is nms  # the attribute is the function, the module is sys.modules["fastdet.nms"]
    for name in NMS_MODULE.__all__:
        obj = getattr(NMS_MODULE, name)
        if name in fastdet.__all__:
            assert getattr(fastdet, name) is obj, name
        assert obj.__module__ == "fastdet.nms", name


@contextlib.contextmanager
def many_bands(on=True):
    """Make the kernels split even tiny inputs into many y-bands (normally only large ones)."""
    old = NMS_CORE._BANDS_PER_SQRT
    NMS_CORE._BANDS_PER_SQRT = 4.0 if on else old
    try:
        yield
    finally:
        NMS_CORE._BANDS_PER_SQRT = old


_GEN = Path(__file__).resolve().parent.parent / "bench" / "generate.py"
_spec = importlib.util.spec_from_file_location("fastdet_bench_generate", _GEN)
assert _spec is not None
assert _spec.loader is not None
_generate = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_generate)
clustered_boxes = _generate.clustered_boxes

METHODS = ("gaussian", "linear", "hard")


def _torchvision():
    tv = pytest.importorskip("torchvision")
    import torch

    return torch, tv


# ----------------------------------------------------------------------------- nms


@pytest.mark.parametrize("bands", [False, True])
@given(data=st_boxes_and_scores(0, 25), thr=st_iou_threshold())
def test_nms_matches_reference(bands, data, thr):
    boxes, scores = data
    with many_bands(bands):
        got = nms(boxes, scores, thr)
    assert got.dtype == np.int64
    assert_array_equal(got, ref.nms(boxes, scores, thr))


@given(boxes=st_boxes(0, 25, np.float32), dtype=st_dtype(), thr=st_iou_threshold(), data=st.data())
def test_nms_mixed_dtypes_compute_in_float64(boxes, dtype, thr, data):
    scores = data.draw(st_scores(len(boxes), dtype))
    assert_array_equal(nms(boxes, scores, thr), ref.nms(boxes, scores, thr))


@given(data=st_boxes_and_scores(1, 25, np.float64))
def test_nms_keeps_everything_at_threshold_one(data):
    boxes, scores = data
    assert_array_equal(np.sort(nms(boxes, scores, 1.0)), np.arange(len(boxes)))


@given(data=st_boxes_and_scores(0, 25))
def test_nms_output_is_ordered_and_unique(data):
    boxes, scores = data
    keep = nms(boxes, scores, 0.5)
    assert len(np.unique(keep)) == len(keep)
    s = scores.astype(np.float64)[keep]
    assert (np.diff(s) <= 0).all()


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("thr", [0.0, 0.3, 0.5, 0.7, 0.95])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nms_clustered_matches_reference(seed, thr, dtype):
    boxes, scores, labels = clustered_boxes(300, seed=seed, dtype=dtype, n_classes=3)
    expected = ref.nms(boxes, scores, thr)
    assert_array_equal(nms(boxes, scores, thr), expected)
    with many_bands():
        assert_array_equal(nms(boxes, scores, thr), expected)
        assert_array_equal(
            batched_nms(boxes, scores, labels, thr), ref.batched_nms(boxes, scores, labels, thr)
        )


def test_nms_empty_and_single():
    for dtype in (np.float32, np.float64, np.int64):
        out = nms(np.empty((0, 4), dtype), np.empty(0, dtype), 0.5)
        assert out.dtype == np.int64
        assert out.shape == (0,)
    assert_array_equal(nms([], [], 0.5), np.empty(0, np.int64))
    assert_array_equal(nms([[0, 0, 1, 1]], [0.3], 0.5), [0])
    assert_array_equal(nms([[0, 0, 0, 0]], [-1.0], 0.0), [0])


def test_nms_zero_area_boxes_never_suppress_or_get_suppressed():
    boxes = [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 5, 0], [0, 0, 5, 5], [0, 0, 5, 5]]
    assert_array_equal(nms(boxes, [0.9, 0.8, 0.7, 0.6, 0.5], 0.0), [0, 1, 2, 3])


def test_nms_ties_keep_lower_index_and_signed_zeros_tie():
    boxes = np.array([[0, 0, 10, 10]] * 4, np.float64)
    assert_array_equal(nms(boxes, [0.5, 0.5, 0.5, 0.5], 0.5), [0])
    assert_array_equal(nms(boxes, [-0.0, 0.0, -0.0, 0.0], 0.5), [0])
    assert_array_equal(nms(boxes, [0.0, -0.0, 1.0, 0.0], 0.5), [2])
    far = np.array([[0, 0, 1, 1], [5, 5, 6, 6], [9, 9, 10, 10]], np.float32)
    assert_array_equal(nms(far, np.array([0.0, -0.0, 0.0], np.float32), 0.5), [0, 1, 2])


def test_huge_float32_boxes_are_computed_in_float64():
    # Areas of these float32 boxes overflow float32 (torchvision: IoU inf / inf = NaN, so
    # nothing is suppressed); like fastdet.boxes, fastdet computes them in float64 instead.
    big = np.float32(1e30)
    boxes = np.array([[-big, -big, big, big], [-big, -big, big, big], [0, 0, 1, 1], [0, 0, 1, 1]], np.float32)
    scores = np.array([0.9, 0.8, 0.7, 0.6], np.float32)
    assert_array_equal(nms(boxes, scores, 0.5), [0, 2])
    assert_array_equal(nms(boxes, scores, 0.5), nms(boxes.astype(np.float64), scores, 0.5))
    assert_array_equal(batched_nms(boxes, scores, [0, 0, 0, 0], 0.5), [0, 2])
    for method in METHODS:
        keep, new = soft_nms(boxes, scores, method=method)
        # the naive reference in float64 (where the areas fit), rounded to float32 once at the end
        k64, n64 = ref.soft_nms(boxes.astype(np.float64), scores.astype(np.float64), method)
        assert new.dtype == np.float32
        assert_array_equal(keep, k64)
        assert_array_equal(new, n64.astype(np.float32))
        # by hand: each pair of equal boxes has IoU 1, the huge and the unit boxes IoU ~1e-61
        # (weight 1); gaussian decays the copies by exp(-1 / 0.5), linear and hard drop them
        assert_array_equal(keep, [0, 2, 1, 3] if method == "gaussian" else [0, 2])
        decayed = np.float32([0.9, 0.7, 0.8 * np.exp(-2.0), 0.6 * np.exp(-2.0)])
        assert_allclose(new, decayed if method == "gaussian" else decayed[:2], rtol=F32_RTOL)
    b, _, _ = multiclass_nms(boxes, scores[:, None], iou_threshold=0.5)
    assert b.dtype == np.float32
    assert_array_equal(b, boxes[[0, 2]])
    pred = np.concatenate([boxes, scores[:, None]], 1)[None]
    out = postprocess_detections(pred, box_format="xyxy", iou_threshold=0.5)
    assert_array_equal(out[0][:, :4], boxes[[0, 2]])


def test_boxes_too_large_even_for_float64_raise():
    big = np.finfo(np.float64).max / 4
    boxes = np.array([[-big, -big, big, big], [0, 0, 1, 1]])
    with pytest.raises(ValueError, match="too large for box areas"):
        nms(boxes, [0.9, 0.8], 0.5)
    with pytest.raises(ValueError, match="too large for box areas"):
        soft_nms(boxes, [0.9, 0.8])
    with pytest.raises(ValueError, match="too large for box areas"):
        multiclass_nms(boxes, [[0.9], [0.8]])
    with pytest.raises(ValueError, match="too large for box areas"):
        postprocess_detections(np.concatenate([boxes, [[0.9], [0.8]]], 1)[None], box_format="xyxy")
    pred = np.array([[[3e38, 0, 3e38, 1, 0.9]]], np.float32)  # cxcywh whose x2 overflows float32
    with pytest.raises(ValueError, match="overflow float32"):
        postprocess_detections(pred)


def test_nms_negative_scores_only_order():
    boxes = [[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]]
    assert_array_equal(nms(boxes, [-3.0, -1.0, -2.0], 0.5), [1, 2])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nms_exactly_at_just_above_and_just_below_threshold(dtype):
    # IoU([0,0,2,1], [0,0,1,1]) = 1/2 exactly: kept at 0.5 (strict >), suppressed below.
    boxes = np.array([[0, 0, 2, 1], [0, 0, 1, 1]], dtype)
    scores = np.array([0.9, 0.8], dtype)
    assert_array_equal(nms(boxes, scores, 0.5), [0, 1])
    assert_array_equal(nms(boxes, scores, np.nextafter(0.5, 0)), [0])
    assert_array_equal(nms(boxes, scores, np.nextafter(0.5, 1)), [0, 1])
    # supervision's 0.25/0.26 pair: IoU exactly 0.25
    boxes = np.array([[0, 0, 4, 1], [0, 0, 1, 1]], dtype)
    assert_array_equal(nms(boxes, scores, 0.25), [0, 1])
    assert_array_equal(nms(boxes, scores, 0.24), [0])
    assert_array_equal(nms(boxes, scores, 0.26), [0, 1])


def _iou32(a, b):
    return ref.iou(a, b, np.float32)


@pytest.mark.parametrize("seed", range(3))
def test_nms_float32_threshold_comparison_is_exact(seed):
    # The float32 kernel tests float32(inter / union) > thr without dividing; probe
    # thresholds at, just around, and at the float32 midpoints around the computed IoU.
    rng = np.random.default_rng(seed)
    for _ in range(150):
        a = np.sort(rng.uniform(0, 10, (2, 2)), axis=0).T.reshape(-1)[[0, 2, 1, 3]]
        b = a + rng.normal(0, 1.5, 4)
        b = np.array([min(b[0], b[2]), min(b[1], b[3]), max(b[0], b[2]), max(b[1], b[3])])
        boxes = np.array([a, b], np.float32)
        q = _iou32(boxes[0], boxes[1])
        if not 0 < q < 1:
            continue
        up = np.nextafter(q, np.float32(2))
        down = np.nextafter(q, np.float32(-1))
        probes = [
            float(q),
            np.nextafter(float(q), 0.0),
            np.nextafter(float(q), 1.0),
            (float(q) + float(up)) / 2,
            (float(q) + float(down)) / 2,
            np.nextafter((float(q) + float(down)) / 2, 0.0),
            np.nextafter((float(q) + float(up)) / 2, 1.0),
        ]
        scores = np.array([0.9, 0.8], np.float32)
        for t in probes:
            expected = [0] if float(q) > t else [0, 1]
            assert_array_equal(nms(boxes, scores, t), expected, err_msg=f"q={q!r} t={t!r}")


# ----------------------------------------------------------------------------- batched_nms


@pytest.mark.parametrize("bands", [False, True])
@given(data=st_boxes_and_scores(0, 25), thr=st_iou_threshold(), st_data=st.data())
def test_batched_nms_matches_reference(bands, data, thr, st_data):
    boxes, scores = data
    idxs = st_data.draw(st_labels(len(boxes)))
    with many_bands(bands):
        got = batched_nms(boxes, scores, idxs, thr)
    assert_array_equal(got, ref.batched_nms(boxes, scores, idxs, thr))


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("n_classes", [1, 5, 80])
def test_batched_nms_equals_per_class_nms(seed, n_classes):
    boxes, scores, labels = clustered_boxes(600, n_classes=n_classes, seed=seed)
    got = batched_nms(boxes, scores, labels, 0.5)
    parts = [
        np.flatnonzero(labels == c)[nms(boxes[labels == c], scores[labels == c], 0.5)]
        for c in np.unique(labels)
    ]
    merged = np.concatenate(parts)
    merged = merged[np.lexsort((merged, -scores[merged].astype(np.float64)))]
    assert_array_equal(got, merged)


def test_batched_nms_label_kinds():
    boxes = np.array([[0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10]], np.float32)
    scores = np.array([0.9, 0.8, 0.7], np.float32)
    assert_array_equal(batched_nms(boxes, scores, [0.0, 1.0, 0.0], 0.5), [0, 1])
    assert_array_equal(batched_nms(boxes, scores, [-5, 2**40, -5], 0.5), [0, 1])
    assert_array_equal(batched_nms(boxes, scores, np.array([3, 3, 3], np.uint8), 0.5), [0])
    assert batched_nms(np.empty((0, 4)), [], [], 0.5).dtype == np.int64


def test_batched_nms_mmcv_data(data_dir):
    d = json.loads((data_dir / "nms-mmcv-batched" / "batched_nms_data.json").read_text())
    boxes = np.array(d["boxes_xyxy_float32"], np.float32)
    scores = np.array(d["scores_float32"], np.float32)
    idxs = np.array(d["idxs"])
    keep = batched_nms(boxes, scores, idxs, 0.7)
    assert len(keep) == 554
    assert_array_equal(keep, d["keep"])
    assert_array_equal(keep, ref.batched_nms(boxes, scores, idxs, 0.7))


# ----------------------------------------------------------------------------- soft_nms


@pytest.mark.parametrize("method", METHODS)
@given(data=st_boxes_and_scores(0, 15), thr=st_iou_threshold(), st_data=st.data())
def test_soft_nms_matches_reference(method, data, thr, st_data):
    boxes, scores = data
    sigma = st_data.draw(st.sampled_from([0.5, 0.1, 2.0]))
    score_thr = st_data.draw(st.sampled_from([0.001, 0.0, -1.0, 0.3]))
    with many_bands(st_data.draw(st.booleans())):
        keep, new = soft_nms(
            boxes, scores, method=method, sigma=sigma, iou_threshold=thr, score_threshold=score_thr
        )
    rkeep, rnew = ref.soft_nms(boxes, scores, method, sigma, thr, score_thr)
    assert keep.dtype == np.int64
    assert new.dtype == rnew.dtype
    assert_array_equal(keep, rkeep)
    assert_allclose(new, rnew, rtol=F32_RTOL)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_soft_nms_clustered_matches_reference(method, dtype):
    boxes, scores, _ = clustered_boxes(200, seed=1, dtype=dtype)
    keep, new = soft_nms(boxes, scores, method=method)
    rkeep, rnew = ref.soft_nms(boxes, scores, method)
    assert_array_equal(keep, rkeep)
    assert_allclose(new, rnew, rtol=F32_RTOL)


def test_soft_nms_hard_equals_nms_above_score_threshold():
    boxes, scores, _ = clustered_boxes(400, seed=3)
    assert scores.min() > 1e-9
    keep, new = soft_nms(boxes, scores, method="hard", iou_threshold=0.5, score_threshold=1e-9)
    assert_array_equal(keep, nms(boxes, scores, 0.5))
    assert_array_equal(new, scores[keep])


def test_soft_nms_score_threshold_drops_at_start():
    boxes = [[0, 0, 1, 1], [5, 5, 6, 6], [9, 9, 10, 10]]
    keep, _new = soft_nms(boxes, [0.5, 0.0005, 0.001], score_threshold=0.001)
    assert_array_equal(keep, [0, 2])  # 0.001 itself is not below the threshold
    keep, _ = soft_nms(boxes, [-0.5, -0.1, -0.2], score_threshold=-0.15)
    assert_array_equal(keep, [1])


def test_soft_nms_empty_and_dtypes():
    keep, new = soft_nms(np.empty((0, 4), np.float32), np.empty(0, np.float32))
    assert keep.dtype == np.int64
    assert keep.shape == (0,)
    assert new.dtype == np.float32
    assert new.shape == (0,)
    _, new = soft_nms([[0, 0, 1, 1]], np.array([0.5], np.float32))
    assert new.dtype == np.float64


def test_soft_nms_mmcv_small_cases(data_dir):
    d = json.loads((data_dir / "nms-mmcv-batched" / "mmcv_small_cases.json").read_text())
    boxes = np.array(d["boxes_xyxy_float32"], np.float32)
    scores = np.array(d["scores_float32"], np.float32)
    for case in d["cases"]:
        if case["op"] == "nms":
            assert_array_equal(nms(boxes, scores, case["iou_threshold"]), case["expected_inds"])
            continue
        method = {"naive": "hard"}.get(case["method"], case["method"])
        keep, new = soft_nms(
            boxes,
            scores,
            method=method,
            sigma=case["sigma"],
            iou_threshold=case["iou_threshold"],
            score_threshold=case["min_score"],
        )
        assert_array_equal(keep, case["expected_inds"], err_msg=case["name"])
        expected = np.array(case["expected_dets"], np.float32)
        assert_allclose(new, expected[:, 4], rtol=F32_RTOL, err_msg=case["name"])
        assert_array_equal(boxes[keep], expected[:, :4])


# ----------------------------------------------------------------------------- ONNX cases


def _onnx_to_xyxy(b, center):
    b = np.asarray(b, np.float32)
    if center:
        half = b[:, 2:] / 2
        return np.concatenate([b[:, :2] - half, b[:, :2] + half], axis=1)
    y1 = np.minimum(b[:, 0], b[:, 2])
    y2 = np.maximum(b[:, 0], b[:, 2])
    x1 = np.minimum(b[:, 1], b[:, 3])
    x2 = np.maximum(b[:, 1], b[:, 3])
    return np.stack([x1, y1, x2, y2], axis=1)


def test_onnx_nms_cases(data_dir):
    d = json.loads((data_dir / "nms-onnx-cases" / "onnx_nms_cases.json").read_text())
    assert len(d["cases"]) == 9
    for case in d["cases"]:
        got = []
        for bi, batch in enumerate(case["boxes"]):
            boxes = _onnx_to_xyxy(batch, case["center_point_box"])
            for ci, cls_scores in enumerate(case["scores"][bi]):
                s = np.asarray(cls_scores, np.float32)
                cand = np.flatnonzero(s >= np.float32(case["score_threshold"]))
                keep = cand[nms(boxes[cand], s[cand], np.float32(case["iou_threshold"]))]
                got += [[bi, ci, int(k)] for k in keep[: case["max_output_boxes_per_class"]]]
        assert got == case["selected_indices"], case["name"]


# ----------------------------------------------------------------------------- OpenCV cases


def _rect_to_xyxy(r, dtype):
    r = np.asarray(r, np.float64)
    return np.concatenate([r[:, :2], r[:, :2] + r[:, 2:]], axis=1).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_opencv_nms_cases(data_dir, dtype):
    """OpenCV's own dnn NMS tests (TensorFlow references), and cv2.dnn live where installed."""
    cv2 = importlib.import_module("cv2") if importlib.util.find_spec("cv2") else None
    d = json.loads((data_dir / "nms-opencv-cases" / "opencv_nms_cases.json").read_text())
    assert len(d["cases"]) == 4
    for case in d["cases"]:
        rects, s32 = np.asarray(case["boxes"], np.float64), np.asarray(case["scores"], np.float32)
        boxes, scores = _rect_to_xyxy(rects, dtype), s32.astype(dtype)
        exp = np.asarray(case["expected_indices"], np.int64)
        if case["function"] == "softNMSBoxes":
            keep, new = soft_nms(
                boxes, scores, method=case["method"], sigma=case["sigma"],
                iou_threshold=case["nms_threshold"], score_threshold=case["score_threshold"],
            )  # fmt: skip
            assert_array_equal(keep, exp, case["name"])
            assert_allclose(new, case["expected_updated_scores"], rtol=0, atol=case["score_atol"])
            if cv2 is not None:
                new_cv, keep_cv = cv2.dnn.softNMSBoxes(
                    rects.astype(np.int32), s32, case["score_threshold"], case["nms_threshold"],
                    top_k=case["top_k"], sigma=case["sigma"],
                )  # fmt: skip
                assert_array_equal(keep, np.asarray(keep_cv).reshape(-1))
                assert_allclose(new, np.asarray(new_cv).reshape(-1), rtol=0, atol=case["score_atol"])
            continue
        cand = np.flatnonzero(s32 > case["score_threshold"])  # OpenCV keeps scores strictly above
        score_t, t = case["score_threshold"], case["nms_threshold"]
        if case["function"] == "NMSBoxesBatched":
            labels = np.asarray(case["class_ids"], np.int32)
            got = cand[batched_nms(boxes[cand], scores[cand], labels[cand], t)]
            cv_got = None if cv2 is None else cv2.dnn.NMSBoxesBatched(rects, s32, labels, score_t, t)
        else:
            got = cand[nms(boxes[cand], scores[cand], t)]
            cv_got = None if cv2 is None else cv2.dnn.NMSBoxes(rects, s32, score_t, t)
        if case["compare"] == "sorted":
            assert_array_equal(np.sort(got), np.sort(exp), case["name"])
        else:
            assert_array_equal(got, exp, case["name"])
        if cv_got is not None:
            assert_array_equal(got, np.asarray(cv_got).reshape(-1), case["name"])  # OpenCV's order too


# ----------------------------------------------------------------------------- multiclass


@st.composite
def _multiclass_input(draw):
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    n = draw(st.integers(0, 12))
    c = draw(st.integers(1, 3))
    per_class = draw(st.booleans())
    boxes = draw(st_boxes(n * c if per_class else n, n * c if per_class else n, dtype))
    if per_class:
        boxes = boxes.reshape(n, c, 4)
    scores = draw(st_scores(n * c, dtype)).reshape(n, c)
    return boxes, scores


@given(
    data=_multiclass_input(),
    score_thr=st.sampled_from([0.05, 0.0, -1.0, 0.5]),
    thr=st_iou_threshold(),
    cap=st.sampled_from([None, 0, 1, 3, 100]),
    agnostic=st.booleans(),
)
def test_multiclass_nms_matches_reference(data, score_thr, thr, cap, agnostic):
    boxes, scores = data
    kw = dict(score_threshold=score_thr, iou_threshold=thr, max_detections=cap, class_agnostic=agnostic)
    got = multiclass_nms(boxes, scores, **kw)
    exp = ref.multiclass_nms(boxes, scores, **kw)
    for g, e in zip(got, exp, strict=True):
        assert g.dtype == e.dtype
        assert_array_equal(g, e)


def test_multiclass_nms_order_score_box_class():
    boxes = [[0, 0, 1, 1], [5, 5, 6, 6]]
    scores = [[0.5, 0.5], [0.5, 0.9]]
    b, s, labels = multiclass_nms(boxes, scores)
    assert_array_equal(s, [0.9, 0.5, 0.5, 0.5])
    assert_array_equal(labels, [1, 0, 1, 0])
    assert_array_equal(b[:, 0], [5, 0, 0, 5])
    b, s, labels = multiclass_nms(np.empty((0, 4), np.float32), np.empty((0, 3), np.float32))
    assert b.shape == (0, 4)
    assert s.shape == (0,)
    assert labels.dtype == np.int64
    assert b.dtype == np.float32


# ----------------------------------------------------------------------------- postprocess


@st.composite
def _predictions(draw):
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    b = draw(st.integers(0, 3))
    n = draw(st.integers(0, 10))
    c = draw(st.integers(1, 3))
    obj = draw(st.booleans())
    fmt = draw(st.sampled_from(["cxcywh", "xyxy", "xywh"]))
    boxes = draw(st_boxes(b * n, b * n, np.float64))
    if fmt == "cxcywh":
        boxes = np.concatenate([(boxes[:, :2] + boxes[:, 2:]) / 2, boxes[:, 2:] - boxes[:, :2]], 1)
    elif fmt == "xywh":
        boxes = np.concatenate([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]], 1)
    cols = c + (1 if obj else 0)
    values = st.sampled_from([0.0, 0.1, 0.3, 0.3, 0.5, 0.9, 1.0])
    conf = np.array(draw(st.lists(values, min_size=b * n * cols, max_size=b * n * cols)))
    pred = np.concatenate([boxes, conf.reshape(b * n, cols)], 1).reshape(b, n, 4 + cols)
    return pred.astype(dtype), obj, fmt


@given(
    data=_predictions(),
    score_thr=st.sampled_from([0.25, 0.0, 0.3]),
    thr=st_iou_threshold(),
    caps=st.tuples(st.sampled_from([None, 0, 2, 300]), st.sampled_from([None, 1, 3, 30000])),
    agnostic=st.booleans(),
    multi=st.booleans(),
)
def test_postprocess_matches_reference(data, score_thr, thr, caps, agnostic, multi):
    pred, obj, fmt = data
    kw = dict(
        score_threshold=score_thr,
        iou_threshold=thr,
        max_detections=caps[0],
        max_candidates=caps[1],
        class_agnostic=agnostic,
        multi_label=multi,
        has_objectness=obj,
        box_format=fmt,
    )
    got = postprocess_detections(pred, **kw)
    exp = ref.postprocess_detections(pred, **kw)
    assert len(got) == len(exp) == len(pred)
    for g, e in zip(got, exp, strict=True):
        assert g.dtype == e.dtype
        assert g.shape[1] == 6
        assert_array_equal(g, e)


@pytest.mark.parametrize("parallel", [False, True])
def test_postprocess_clustered_batch_matches_reference(parallel):
    preds = []
    for seed in range(4):
        boxes, scores, labels = clustered_boxes(500, n_classes=6, seed=seed)
        cls = np.zeros((500, 6), np.float32)
        cls[np.arange(500), labels] = scores
        cxcywh = np.concatenate([(boxes[:, :2] + boxes[:, 2:]) / 2, boxes[:, 2:] - boxes[:, :2]], 1)
        preds.append(np.concatenate([cxcywh, cls], 1))
    pred = np.stack(preds)
    old = NMS_POST._PARALLEL_MIN_ELEMENTS
    NMS_POST._PARALLEL_MIN_ELEMENTS = 0 if parallel else 2**62
    try:
        for obj in (False, True):
            p = np.concatenate([pred[:, :, :4], pred[:, :, 4:5] ** 0.5, pred[:, :, 4:]], 2) if obj else pred
            kw = dict(score_threshold=0.1, iou_threshold=0.5, max_detections=50, has_objectness=obj)
            got = postprocess_detections(p, **kw)
            exp = ref.postprocess_detections(p, **kw)
            for g, e in zip(got, exp, strict=True):
                assert_array_equal(g, e)
    finally:
        NMS_POST._PARALLEL_MIN_ELEMENTS = old


def test_postprocess_empty_shapes():
    out = postprocess_detections(np.empty((2, 0, 7), np.float32))
    assert len(out) == 2
    assert all(o.shape == (0, 6) and o.dtype == np.float32 for o in out)
    assert postprocess_detections(np.empty((0, 5, 7))) == []
    out = postprocess_detections(np.zeros((1, 3, 6)))
    assert out[0].shape == (0, 6)


# ----------------------------------------------------------------------------- layouts


def test_non_contiguous_and_read_only_inputs():
    boxes, scores, labels = clustered_boxes(200, seed=5, dtype=np.float64)
    expected = nms(boxes, scores, 0.5)
    wide = np.zeros((200, 8))
    wide[:, ::2] = boxes
    strided = wide[:, ::2]
    assert not strided.flags.c_contiguous
    fortran = np.asfortranarray(boxes)
    ro_boxes = boxes.copy()
    ro_boxes.flags.writeable = False
    ro_scores = scores.copy()
    ro_scores.flags.writeable = False
    rev = scores[::-1].copy()[::-1]
    for b, s in [(strided, scores), (fortran, scores), (ro_boxes, ro_scores), (boxes, rev)]:
        assert_array_equal(nms(b, s, 0.5), expected)
        assert_array_equal(batched_nms(b, s, labels, 0.5), batched_nms(boxes, scores, labels, 0.5))
        assert_array_equal(soft_nms(b, s)[0], soft_nms(boxes, scores)[0])
    ro_labels = labels.copy()
    ro_labels.flags.writeable = False
    assert_array_equal(
        batched_nms(ro_boxes, ro_scores, ro_labels[::1], 0.5), batched_nms(boxes, scores, labels, 0.5)
    )


def test_integer_inputs():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]], np.int32)
    assert_array_equal(nms(boxes, np.array([3, 2, 1]), 0.5), [0, 2])
    keep, new = soft_nms(boxes, np.array([3, 2, 1]), method="hard", iou_threshold=0.5)
    assert new.dtype == np.float64
    assert_array_equal(keep, [0, 2])


# ----------------------------------------------------------------------------- peers


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("thr", [0.3, 0.5, 0.7])
def test_agrees_with_torchvision(seed, thr):
    torch, tv = _torchvision()
    boxes, scores, labels = clustered_boxes(3000, seed=seed, n_classes=20)
    tb, ts = torch.from_numpy(boxes), torch.from_numpy(scores)
    assert_array_equal(nms(boxes, scores, thr), tv.ops.nms(tb, ts, thr).numpy())
    # Per-class reference: torchvision's own nms per class (its batched_nms uses the
    # coordinate-offset trick below 1000 boxes on CPU, which rounds float32 boxes).
    got = batched_nms(boxes, scores, labels, thr)
    parts = [
        np.flatnonzero(labels == c)[tv.ops.nms(tb[labels == c], ts[labels == c], thr).numpy()]
        for c in np.unique(labels)
    ]
    exp = np.concatenate(parts)
    exp = exp[np.lexsort((exp, -scores[exp].astype(np.float64)))]
    assert_array_equal(got, exp)
    if len(boxes) > 1000:  # torchvision's own per-class path (no coordinate offsets) on CPU
        assert_array_equal(got, tv.ops.batched_nms(tb, ts, torch.from_numpy(labels), thr).numpy())
    b64, s64 = boxes.astype(np.float64), scores.astype(np.float64)
    assert_array_equal(
        nms(b64, s64, thr), tv.ops.nms(torch.from_numpy(b64), torch.from_numpy(s64), thr).numpy()
    )


def test_batched_nms_negative_coordinates_never_cross_categories():
    # torchvision's coordinate-offset trick (below 1000 boxes on CPU) shifts category 1 by
    # max coordinate + 1 = 1 here, so its copy overlaps category 0's box and is suppressed;
    # cv2.dnn.NMSBoxesBatched (offsets of max(0, max coordinate) + 1) does the same
    boxes = np.array([[-10, -10, 0, 0], [-10, -10, 0, 0]], np.float32)
    assert_array_equal(batched_nms(boxes, np.float32([0.9, 0.8]), [0, 1], 0.5), [0, 1])


@pytest.mark.parametrize("seed", range(3))
def test_agrees_with_torchvision_on_random_float32(seed):
    torch, tv = _torchvision()
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 50, (400, 2)).astype(np.float32)
    wh = rng.uniform(0, 20, (400, 2)).astype(np.float32)
    boxes = np.concatenate([xy, xy + wh], 1)
    scores = rng.choice(np.linspace(0, 1, 7), 400).astype(np.float32)  # many ties
    for thr in (0.0, 0.1, 0.5, 0.9, 1.0):
        assert_array_equal(
            nms(boxes, scores, thr),
            tv.ops.nms(torch.from_numpy(boxes), torch.from_numpy(scores), thr).numpy(),
        )


def _xywh(boxes):
    return np.concatenate([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]], 1)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("thr", [0.3, 0.5, 0.7])
def test_agrees_with_opencv_nms(seed, thr):
    cv2 = pytest.importorskip("cv2")
    boxes, scores, labels = clustered_boxes(2000, seed=seed, n_classes=10, dtype=np.float64)
    scores = scores + 1e-3  # OpenCV keeps only scores > score_threshold (>= 0)
    got = nms(boxes, scores, thr)
    exp = np.asarray(cv2.dnn.NMSBoxes(_xywh(boxes), scores.astype(np.float32), 0.0, thr))
    assert_array_equal(got, exp.reshape(-1))
    got = batched_nms(boxes, scores, labels, thr)
    exp = cv2.dnn.NMSBoxesBatched(_xywh(boxes), scores.astype(np.float32), labels.astype(np.int32), 0.0, thr)
    assert_array_equal(got, np.asarray(exp).reshape(-1))


@pytest.mark.parametrize("method", ["gaussian", "linear"])
@pytest.mark.parametrize("seed", range(2))
def test_agrees_with_opencv_soft_nms(method, seed):
    cv2 = pytest.importorskip("cv2")
    boxes, scores, _ = clustered_boxes(400, seed=seed, dtype=np.float32)
    boxes = np.round(boxes)  # OpenCV's softNMSBoxes takes integer rectangles
    enum = {
        "gaussian": cv2.dnn.SOFT_NMSMETHOD_SOFTNMS_GAUSSIAN,
        "linear": cv2.dnn.SOFT_NMSMETHOD_SOFTNMS_LINEAR,
    }[method]
    new_cv, keep_cv = cv2.dnn.softNMSBoxes(
        _xywh(boxes).astype(np.int32), scores, 0.001, 0.3, sigma=0.5, method=enum
    )
    keep, new = soft_nms(boxes, scores, method=method, sigma=0.5, iou_threshold=0.3, score_threshold=0.001)
    assert_array_equal(keep, np.asarray(keep_cv).reshape(-1))
    assert_allclose(new, np.asarray(new_cv).reshape(-1), rtol=F32_CHAIN_TOL)  # float32 weights


# ----------------------------------------------------------------------------- bad input


def test_bad_input_raises():
    good = np.array([[0, 0, 1, 1], [0, 0, 2, 2]], np.float64)
    s = np.array([0.5, 0.4])
    with pytest.raises(ValueError, match="boxes must have shape"):
        nms(np.zeros((2, 3)), s, 0.5)
    with pytest.raises(ValueError, match="scores has length 3 but boxes has length 2"):
        nms(good, [1, 2, 3], 0.5)
    with pytest.raises(ValueError, match="scores must be 1-dimensional"):
        nms(good, s[:, None], 0.5)
    with pytest.raises(ValueError, match="boxes contains NaN"):
        nms([[0, 0, np.nan, 1]], [1.0], 0.5)
    with pytest.raises(ValueError, match="scores contains NaN"):
        nms(good, [np.inf, 1.0], 0.5)
    with pytest.raises(ValueError, match="row 1"):
        nms([[0, 0, 1, 1], [2, 0, 1, 1]], [1, 2], 0.5)
    with pytest.raises(ValueError, match="iou_threshold must be in"):
        nms(good, s, 1.5)
    with pytest.raises(ValueError, match="iou_threshold must be in"):
        nms(good, s, -0.1)
    with pytest.raises(ValueError, match="iou_threshold must be finite"):
        nms(good, s, float("nan"))
    with pytest.raises(TypeError, match="iou_threshold must be a real number"):
        nms(good, s, "0.5")
    with pytest.raises(TypeError, match="boxes must be a real numeric array"):
        nms(np.array([["a", "b", "c", "d"]]), [1.0], 0.5)
    with pytest.raises(TypeError, match="scores must be a real numeric array"):
        nms(good, [True, False], 0.5)
    with pytest.raises(ValueError, match="idxs must hold integers"):
        batched_nms(good, s, [0, 0.5], 0.5)
    with pytest.raises(ValueError, match="idxs has length 1 but boxes has length 2"):
        batched_nms(good, s, [0], 0.5)
    with pytest.raises(ValueError, match="method must be one of"):
        soft_nms(good, s, method="quadratic")
    with pytest.raises(ValueError, match="sigma must be > 0"):
        soft_nms(good, s, sigma=0.0)
    with pytest.raises(TypeError, match="score_threshold must be a real number"):
        soft_nms(good, s, score_threshold=None)
    with pytest.raises(ValueError, match="scores must be 2-dimensional"):
        multiclass_nms(good, s)
    with pytest.raises(ValueError, match="scores has 2 rows but boxes has length 3"):
        multiclass_nms(np.zeros((3, 4)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"boxes of shape \(N, C, 4\)"):
        multiclass_nms(np.zeros((2, 3, 4)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="max_detections must be >= 0"):
        multiclass_nms(good, np.zeros((2, 2)), max_detections=-1)
    with pytest.raises(TypeError, match="max_detections must be an integer"):
        multiclass_nms(good, np.zeros((2, 2)), max_detections=1.5)
    with pytest.raises(TypeError, match="class_agnostic must be a bool"):
        multiclass_nms(good, np.zeros((2, 2)), class_agnostic=1)
    with pytest.raises(ValueError, match="predictions must be 3-dimensional"):
        postprocess_detections(np.zeros((3, 6)))
    with pytest.raises(ValueError, match="predictions must have shape"):
        postprocess_detections(np.zeros((1, 3, 4)))
    with pytest.raises(ValueError, match="predictions must have shape"):
        postprocess_detections(np.zeros((1, 3, 5)), has_objectness=True)
    with pytest.raises(ValueError, match="negative width or height"):
        postprocess_detections(np.array([[[5, 5, -2, 2, 0.9]]]))
    with pytest.raises(ValueError, match="box_format must be one of"):
        postprocess_detections(np.zeros((1, 3, 6)), box_format="yxyx")
    with pytest.raises(ValueError, match="predictions contains NaN"):
        postprocess_detections(np.full((1, 3, 6), np.nan))
    with pytest.raises(ValueError, match="max_candidates must be >= 0"):
        postprocess_detections(np.zeros((1, 3, 6)), max_candidates=-5)
    with pytest.raises(TypeError, match="multi_label must be a bool"):
        postprocess_detections(np.zeros((1, 3, 6)), multi_label="yes")


# ----------------------------------------------------------------------------- caching


def test_parallel_kernel_is_loaded_from_cache_in_a_fresh_process(tmp_path):
    # best_class is the one chunked kernel here (STYLE.md: prove the hit).
    import subprocess

    code = (
        "import sys, numpy as np\n"
        "from fastdet.nms import postprocess_detections\n"
        "from fastdet._kernels import nms as k\n"
        "sys.modules['fastdet._nms_post']._PARALLEL_MIN_ELEMENTS = 0\n"
        "postprocess_detections(np.zeros((1, 2, 6), np.float32))\n"
        "stats = k.best_class.dispatcher.stats\n"
        "print(sum(stats.cache_hits.values()), sum(stats.cache_misses.values()))\n"
    )
    if os.environ.get("NUMBA_DISABLE_JIT", "0") != "0":
        pytest.skip("needs the JIT")
    root = Path(__file__).resolve().parent.parent
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    env["PYTHONPATH"] = str(root) + os.pathsep + env.get("PYTHONPATH", "")
    first = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert first.stdout.split() == ["0", "1"]
    second = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert second.stdout.split() == ["1", "0"]


# ----------------------------------------------------------------------------- DIoU-NMS


@pytest.mark.parametrize("bands", [False, True])
@given(
    data=st_boxes_and_scores(0, 25),
    thr=st_iou_threshold(),
    beta=st.sampled_from([1.0, 0.6, 2.0]),
    grouped=st.booleans(),
    seed=st.integers(0, 3),
)
def test_diou_nms_matches_reference(bands, data, thr, beta, grouped, seed):
    boxes, scores = data
    idxs = np.random.default_rng(seed).integers(0, 3, len(boxes)) if grouped else None
    with many_bands(bands):
        got = diou_nms(boxes, scores, thr, idxs=idxs, beta=beta)
    assert got.dtype == np.int64
    assert_array_equal(got, ref.diou_nms(boxes, scores, thr, idxs, beta))


@given(data=st_boxes_and_scores(0, 25), thr=st_iou_threshold(), beta=st.sampled_from([1.0, 2.0]))
def test_diou_nms_matches_the_papers_formula_in_matrix_form(data, thr, beta):
    boxes, scores = data
    assert_array_equal(diou_nms(boxes, scores, thr, beta=beta), ref.diou_nms_matrix(boxes, scores, thr, beta))


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("thr", [0.3, 0.5, 0.7])
def test_diou_nms_clustered_matches_reference(seed, thr):
    boxes, scores, labels = clustered_boxes(300, seed=seed, n_classes=3)
    assert_array_equal(diou_nms(boxes, scores, thr), ref.diou_nms(boxes, scores, thr))
    with many_bands():
        assert_array_equal(
            diou_nms(boxes, scores, thr, idxs=labels, beta=0.6), ref.diou_nms(boxes, scores, thr, labels, 0.6)
        )


@pytest.mark.parametrize("seed", range(3))
def test_diou_nms_agrees_with_torchvision_distance_box_iou(seed):
    """Greedy NMS over torchvision's DIoU matrix (eps=0: the plain formula) keeps the same boxes."""
    torch, tv = _torchvision()
    boxes, scores, _ = clustered_boxes(400, seed=seed, dtype=np.float64)
    boxes = boxes[(boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])]
    scores = scores[: len(boxes)]
    d = tv.ops.distance_box_iou(torch.from_numpy(boxes), torch.from_numpy(boxes), eps=0.0).numpy()
    for thr in (0.3, 0.5, 0.7):
        keep = []
        for i in ref.descending(scores):
            if all(d[k, i] <= thr for k in keep):
                keep.append(i)
        assert_array_equal(diou_nms(boxes, scores, thr), keep)


def test_diou_nms_keeps_overlapping_boxes_whose_centres_lie_apart():
    boxes = [[0, 0, 10, 10], [1, 0, 11, 10], [4, 0, 14, 10]]
    # IoU(0, 2) = 60 / 140 = 0.43; centre distance 4, enclosing diagonal^2 = 14^2 + 10^2
    assert_array_equal(nms(boxes, [0.9, 0.8, 0.7], 0.4), [0])
    assert_array_equal(diou_nms(boxes, [0.9, 0.8, 0.7], 0.4), [0, 2])
    assert 60 / 140 - 16 / 296 < 0.4 < 60 / 140
    # concentric boxes: no distance penalty, DIoU = IoU
    concentric = [[0, 0, 10, 10], [1, 1, 9, 9]]
    assert_array_equal(diou_nms(concentric, [0.9, 0.8], 0.63), [0])
    assert_array_equal(diou_nms(concentric, [0.9, 0.8], 0.64), [0, 1])


def test_diou_nms_edges_and_errors():
    assert_array_equal(diou_nms(np.empty((0, 4)), [], 0.5), np.empty(0, np.int64))
    assert_array_equal(diou_nms([[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 5, 5]], [0.9, 0.8, 0.7], 0.0), [0, 1, 2])
    same = np.array([[0, 0, 4, 4]] * 3, np.float32)
    assert_array_equal(diou_nms(same, np.array([0.5, 0.5, 0.5], np.float32), 0.5), [0])
    assert_array_equal(diou_nms(same, [0.5, 0.5, 0.5], 0.5, idxs=[0, 1, 0]), [0, 1])
    with pytest.raises(ValueError, match="beta"):
        diou_nms(same, [1, 2, 3], 0.5, beta=0)
    with pytest.raises(ValueError, match="iou_threshold"):
        diou_nms(same, [1, 2, 3], 1.5)
    with pytest.raises(ValueError, match="idxs"):
        diou_nms(same, [1, 2, 3], 0.5, idxs=[0, 1])
    with pytest.raises(ValueError, match="boxes"):
        diou_nms([[0, 0, -1, 1]], [1], 0.5)


# ----------------------------------------------------------------------------- Matrix NMS


@pytest.mark.parametrize("kernel", ["gaussian", "linear"])
@given(
    data=st_boxes_and_scores(0, 20),
    sigma=st.sampled_from([0.5, 2.0]),
    grouped=st.booleans(),
    seed=st.integers(0, 3),
    thr=st.sampled_from([None, 0.0, 0.1, 0.5]),
    caps=st.tuples(st.sampled_from([None, 0, 3, 10]), st.sampled_from([None, 0, 2, 10])),
)
def test_matrix_nms_matches_the_papers_formula(kernel, data, sigma, grouped, seed, thr, caps):
    boxes, scores = data
    labels = np.random.default_rng(seed).integers(0, 3, len(boxes)) if grouped else None
    keep, new = matrix_nms(
        boxes, scores, labels, kernel=kernel, sigma=sigma, score_threshold=thr, max_candidates=caps[0],
        max_detections=caps[1],
    )  # fmt: skip
    e_keep, e_new = ref.matrix_nms(boxes, scores, labels, kernel, sigma, thr, caps[0], caps[1])
    assert keep.dtype == np.int64
    assert_array_equal(keep, e_keep)
    assert_allclose(new, e_new.astype(new.dtype), rtol=1e-12, atol=0)  # the same operations in float64
    assert new.dtype == (np.float32 if boxes.dtype == scores.dtype == np.float32 else np.float64)


@pytest.mark.parametrize("kernel", ["gaussian", "linear"])
@given(data=st_boxes_and_scores(0, 20, np.float64), grouped=st.booleans(), seed=st.integers(0, 3))
def test_matrix_nms_matches_mmdets_matrix_formulation(kernel, data, grouped, seed):
    """mmdet's mask_matrix_nms steps (triu IoU, label matrix, column max / min) on box IoU."""
    boxes, scores = data
    labels = np.random.default_rng(seed).integers(0, 3, len(boxes)) if grouped else None
    expected = ref.matrix_nms_mmdet_form(boxes, scores, labels, kernel, 2.0)
    keep, new = matrix_nms(boxes, scores, labels, kernel=kernel)
    got = np.full(len(boxes), np.nan)
    got[keep] = new
    ok = np.isfinite(expected)  # mmdet gets NaN (0 / 0) for a linear decay by an exact duplicate
    assert_allclose(got[ok], expected[ok], rtol=1e-12, atol=1e-300)
    assert np.isfinite(got).all()


def test_matrix_nms_decay_by_hand():
    # box 1 overlaps box 0 with IoU 90 / 110; box 2 is apart; box 3 duplicates box 1
    boxes = [[0, 0, 10, 10], [1, 0, 11, 10], [20, 20, 30, 30], [1, 0, 11, 10]]
    scores = [0.9, 0.8, 0.7, 0.6]
    iou = 90 / 110
    keep, new = matrix_nms(boxes, scores, kernel="linear")
    d3 = min(1 - iou, (1 - 1.0) / (1 - iou))  # by box 0: 1 - iou; by box 1 (comp iou): 0
    assert_allclose(new, [0.9, 0.7, 0.8 * (1 - iou), 0.6 * d3])
    assert_array_equal(keep, [0, 2, 1, 3])
    keep, new = matrix_nms(boxes, scores, kernel="gaussian", sigma=2.0)
    g = math.exp(-2 * iou * iou)
    assert_allclose(new[:3], [0.9, 0.7, 0.8 * g])
    # box 3: min(f(iou) / f(0), f(1) / f(iou)) with f(x) = exp(-2 x^2)
    assert_allclose(new[3], 0.6 * min(g, math.exp(-2) / g))


def test_matrix_nms_labels_options_and_errors():
    boxes = [[0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10]]
    keep, new = matrix_nms(boxes, [0.9, 0.8, 0.7], [0, 1, 0], kernel="linear")
    assert_array_equal(keep, [0, 1, 2])
    assert_allclose(new, [0.9, 0.8, 0.0])  # the label-1 box is not decayed by the label-0 box
    keep, new = matrix_nms(boxes, [0.9, 0.8, 0.7], [0, 1, 0], kernel="linear", score_threshold=0.0)
    assert_array_equal(keep, [0, 1, 2])  # >= keeps a 0 score
    keep, _ = matrix_nms(boxes, [0.7, 0.8, 0.9], max_candidates=2)
    assert_array_equal(keep, [2, 1])
    keep, _ = matrix_nms(boxes, [0.9, 0.8, 0.7], max_detections=1)
    assert_array_equal(keep, [0])
    keep, new = matrix_nms(np.empty((0, 4), np.float32), np.empty(0, np.float32))
    assert keep.shape == new.shape == (0,)
    assert new.dtype == np.float32
    with pytest.raises(ValueError, match="kernel"):
        matrix_nms(boxes, [1, 2, 3], kernel="box")
    with pytest.raises(ValueError, match="sigma"):
        matrix_nms(boxes, [1, 2, 3], sigma=-1)
    with pytest.raises(ValueError, match="labels"):
        matrix_nms(boxes, [1, 2, 3], [0, 1])
    with pytest.raises(ValueError, match="max_candidates"):
        matrix_nms(boxes, [1, 2, 3], max_candidates=-1)
