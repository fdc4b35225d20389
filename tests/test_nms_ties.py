"""Explicit ties for the NMS family: equal scores and equal class scores, decided by index.

DESIGN.md: ties in score are broken by the lower input index (a stable sort on
descending score); a prediction's best class is the lowest of its equal best
classes. The hypothesis tests reach ties by chance; these reach them every run.
"""

from __future__ import annotations

import numpy as np
import pytest
import reference as ref
from numpy.testing import assert_array_equal

from fastdet.nms import batched_nms, multiclass_nms, nms, postprocess_detections, soft_nms


@pytest.fixture(autouse=True, params=["pairs", "grid"])
def nms_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run every test of this module on both greedy NMS kernels: all pairs (small inputs) and the grid."""
    import fastdet._nms_core

    monkeypatch.setattr(fastdet._nms_core, "_SMALL_NMS", 1 << 62 if request.param == "pairs" else -1)
    return str(request.param)


FAR = np.array([[0, 0, 1, 1], [10, 0, 11, 1], [20, 0, 21, 1], [30, 0, 31, 1], [40, 0, 41, 1]], np.float64)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("method", ["gaussian", "linear", "hard"])
def test_soft_nms_selects_the_lowest_index_among_equal_scores(dtype, method):
    scores = np.array([0.5, 0.9, 0.5, 0.9, 0.5], dtype)
    keep, new = soft_nms(FAR.astype(dtype), scores, method=method)
    assert_array_equal(keep, [1, 3, 0, 2, 4])  # nothing overlaps: by score, then index
    assert_array_equal(new, scores[keep])
    # a tie made by a decay: box 1 has IoU 1/2 with box 0, so linear Soft-NMS halves its 0.8 to
    # exactly 0.4 (halving is exact), the score of boxes 2 and 3
    boxes = np.array([[0, 0, 10, 10], [0, 0, 10, 20], [50, 50, 60, 60], [80, 80, 90, 90]], dtype)
    keep, new = soft_nms(boxes, np.array([1.0, 0.8, 0.4, 0.4], dtype), method="linear", iou_threshold=0.3)
    assert_array_equal(keep, [0, 1, 2, 3])
    assert_array_equal(new, np.array([1.0, 0.4, 0.4, 0.4], dtype))
    for scores in (np.full(5, 0.5, dtype), np.array([0.3, 0.7, 0.7, 0.3, 0.7], dtype)):
        keep, new = soft_nms(FAR.astype(dtype), scores, method=method)
        rkeep, _ = ref.soft_nms(FAR.astype(dtype), scores, method)
        assert_array_equal(keep, rkeep)


def test_soft_nms_ties_across_many_blocks():
    """More boxes than one cached block (about sqrt(N) boxes each): ties resolved across blocks."""
    n = 400
    x = np.arange(n, dtype=np.float64) * 10
    boxes = np.stack([x, np.zeros(n), x + 1, np.ones(n)], 1)
    scores = np.tile([0.5, 0.25], n // 2)
    keep, _ = soft_nms(boxes, scores)
    assert_array_equal(keep, np.r_[np.arange(0, n, 2), np.arange(1, n, 2)])


@pytest.mark.parametrize("fn", ["nms", "batched_nms"])
def test_nms_equal_scores_keep_the_lower_index(fn):
    boxes = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [0, 0, 10, 10], [50, 0, 60, 10]], np.float64)
    scores = np.array([0.5, 0.5, 0.5, 0.5])
    got = nms(boxes, scores, 0.5) if fn == "nms" else batched_nms(boxes, scores, np.zeros(4, np.int64), 0.5)
    assert_array_equal(got, [0, 3])  # box 0 comes first and suppresses 1 (IoU 9/11) and 2 (IoU 1)
    reversed_boxes = boxes[::-1].copy()
    got = nms(reversed_boxes, scores, 0.5)
    assert_array_equal(got, [0, 1])  # now box 0 is [50, ...] and box 1 suppresses the rest


@pytest.mark.parametrize("has_objectness", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_best_class_ties_keep_the_lowest_class(has_objectness, dtype):
    # three far-apart boxes (xyxy) whose best class scores tie between two classes
    classes = np.array([[0.2, 0.7, 0.7], [0.6, 0.6, 0.1], [0.4, 0.4, 0.4]])
    obj = np.array([[1.0], [0.5], [1.0]])
    pred = np.concatenate([FAR[:3], obj, classes] if has_objectness else [FAR[:3], classes], 1)
    pred = pred[None].astype(dtype)
    (out,) = postprocess_detections(
        pred, score_threshold=0.1, box_format="xyxy", has_objectness=has_objectness
    )
    labels = dict(zip(out[:, 0].astype(int).tolist(), out[:, 5].astype(int).tolist(), strict=True))
    assert labels == {0: 1, 10: 0, 20: 0}  # box x1 -> the lowest of its tied classes
    (expected,) = ref.postprocess_detections(
        pred, score_threshold=0.1, box_format="xyxy", has_objectness=has_objectness
    )
    assert_array_equal(out, expected)


def test_multiclass_nms_equal_scores_order_by_box_then_class():
    boxes = FAR[:2]
    scores = np.array([[0.5, 0.5], [0.5, 0.5]])
    b, s, labels = multiclass_nms(boxes, scores, score_threshold=0.1)
    assert_array_equal(b, boxes[[0, 0, 1, 1]])
    assert_array_equal(labels, [0, 1, 0, 1])
    assert_array_equal(s, [0.5] * 4)
