"""fastdet.boxes against the naive reference, torchvision (when installed) and bad input."""

from __future__ import annotations

import numpy as np
import pytest
import reference as ref
from conftest import F32_CHAIN_TOL, F64_ATOL, F64_RTOL
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from strategies import st_boxes

import fastdet
from fastdet import boxes as B

any_boxes = st.one_of(
    st_boxes(max_n=12, grid=True, max_coord=6), st_boxes(max_n=12, grid=False, max_coord=1e3)
)
VARIANTS = [
    (B.box_iou, ref.iou_pair),
    (B.generalized_box_iou, ref.giou_pair),
    (B.distance_box_iou, ref.diou_pair),
    (B.complete_box_iou, ref.ciou_pair),
]


@pytest.mark.parametrize(("fn", "pair"), VARIANTS)
@given(a=any_boxes, b=any_boxes)
def test_iou_family_matches_reference(fn, pair, a, b):
    got = fn(a, b)
    assert got.shape == (len(a), len(b))
    assert got.dtype == np.float64
    assert_allclose(got, ref.pairwise(pair, a, b), rtol=F64_RTOL, atol=F64_ATOL)


@pytest.mark.parametrize(("fn", "pair"), VARIANTS)
@given(a=any_boxes)
def test_iou_family_is_symmetric_and_bounded(fn, pair, a):
    m = fn(a, a)
    assert_allclose(m, m.T, rtol=F64_RTOL, atol=F64_ATOL)
    assert np.all(m <= 1 + F64_ATOL)
    # IoU >= 0; GIoU, DIoU >= -1; CIoU subtracts alpha * v = v^2 / (1 + v) <= 1/2 more.
    lower = {B.box_iou: 0.0, B.complete_box_iou: -1.5}.get(fn, -1.0)
    assert np.all(m >= lower - F64_ATOL)


@given(a=st_boxes(max_n=12, grid=False, max_coord=1e3))
def test_iou_of_a_box_with_itself_is_one_unless_empty(a):
    diag = np.diag(B.box_iou(a, a))
    area = B.box_area(a)
    assert_allclose(diag[area > 0], 1.0)
    assert_array_equal(diag[area == 0], 0.0)


def test_iou_float32_stays_float32_and_mixed_is_float64():
    a = np.array([[0, 0, 2, 2]], np.float32)
    assert B.box_iou(a, a).dtype == np.float32
    assert B.generalized_box_iou(a, a).dtype == np.float32
    assert B.box_iou(a, a.astype(np.float64)).dtype == np.float64
    assert B.box_iou(a.astype(np.int32), a.astype(np.int16)).dtype == np.float64


def test_iou_known_values():
    # IoU of [0,0,2,2] and [1,1,3,3]: intersection 1, union 7.
    assert_allclose(B.box_iou([[0, 0, 2, 2]], [[1, 1, 3, 3]]), [[1 / 7]])
    # supervision's 0.25 / 0.26 boundary pair: [0,0,10,10] vs [0,0,10,2.5] has IoU exactly 0.25.
    assert B.box_iou([[0, 0, 10, 10]], [[0, 0, 10, 2.5]])[0, 0] == 0.25
    # GIoU of disjoint unit boxes two apart: hull area 3, union 2 -> 0 - 1/3.
    assert_allclose(B.generalized_box_iou([[0, 0, 1, 1]], [[2, 0, 3, 1]]), [[-1 / 3]])
    # zero-area boxes: IoU 0 with everything, itself included (0/0 := 0)
    assert_array_equal(B.box_iou([[1, 1, 1, 1]], [[1, 1, 1, 1], [0, 0, 2, 2]]), [[0, 0]])


def test_empty_inputs_give_empty_matrices():
    e = np.empty((0, 4))
    one = [[0, 0, 1, 1]]
    for fn, _ in VARIANTS:
        assert fn(e, one).shape == (0, 1)
        assert fn(one, e).shape == (1, 0)
        assert fn([], []).shape == (0, 0)
    assert B.box_area(e).shape == (0,)
    assert B.remove_small_boxes(e, 1).dtype == np.int64


@given(a=st_boxes(max_n=12, grid=False, max_coord=1e3))
def test_layouts_and_dtypes_do_not_change_results(a):
    expected = B.box_iou(a, a)
    fortran = np.asfortranarray(a)
    readonly = a.copy()
    readonly.setflags(write=False)
    strided = np.repeat(a, 2, axis=0)[::2]
    for x in (fortran, readonly, strided, a.astype(">f8")):
        assert_array_equal(B.box_iou(x, x), expected)


@pytest.mark.parametrize("fmt", ["xyxy", "xywh", "cxcywh"])
@pytest.mark.parametrize("out_fmt", ["xyxy", "xywh", "cxcywh"])
@given(a=st_boxes(max_n=12, grid=False, max_coord=1e3))
def test_box_convert_matches_reference_and_round_trips(fmt, out_fmt, a):
    got = B.box_convert(a, fmt, out_fmt)
    assert_allclose(got, ref.box_convert(a, fmt, out_fmt), rtol=F64_RTOL, atol=F64_ATOL)
    assert_allclose(B.box_convert(got, out_fmt, fmt), a, rtol=F64_RTOL, atol=F64_ATOL)


@pytest.mark.parametrize("fmt", ["xyxy", "xywh", "cxcywh"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_box_convert_same_format_is_an_exact_copy(fmt, dtype):
    # torchvision returns a clone when in_fmt == out_fmt; a round trip through xyxy would round
    a = np.array(
        [[-10.74364858, 8.73042153, -9.56287543, 17.81280123], [13.639093, 5.4630575, 18.521729, 7.239514]]
    )
    a = a.astype(dtype)
    got = B.box_convert(a, fmt, fmt)
    assert got.dtype == dtype
    assert_array_equal(got, a)
    assert not np.shares_memory(got, a)


def test_box_convert_keeps_float32():
    a = np.array([[1, 2, 3, 4]], np.float32)
    assert B.box_convert(a, "xyxy", "cxcywh").dtype == np.float32


@given(a=st_boxes(max_n=12, grid=False, max_coord=1e3))
def test_box_area_clip_and_remove_small(a):
    area = B.box_area(a)
    assert_allclose(area, [(x2 - x1) * (y2 - y1) for x1, y1, x2, y2 in a.tolist()])
    clipped = B.clip_boxes_to_image(a, (100, 50))
    assert np.all(clipped[:, 0::2] >= 0)
    assert np.all(clipped[:, 0::2] <= 50)
    assert np.all(clipped[:, 1::2] >= 0)
    assert np.all(clipped[:, 1::2] <= 100)
    inside = (a[:, 0] >= 0) & (a[:, 2] <= 50) & (a[:, 1] >= 0) & (a[:, 3] <= 100)
    assert_array_equal(clipped[inside], a[inside])
    keep = B.remove_small_boxes(a, 3.0)
    expected = [i for i, (x1, y1, x2, y2) in enumerate(a.tolist()) if x2 - x1 >= 3 and y2 - y1 >= 3]
    assert_array_equal(keep, expected)


def test_against_torchvision():
    torch = pytest.importorskip("torch")
    ops = pytest.importorskip("torchvision.ops")
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 100, (300, 2))
    wh = rng.uniform(0.5, 40, (300, 2))
    a = np.concatenate([xy, xy + wh], 1)
    for dtype in (np.float32, np.float64):
        x = a.astype(dtype)
        t = torch.from_numpy(x)
        # plain IoU is computed in the input dtype with torchvision's operation order: bit-equal
        assert_array_equal(B.box_iou(x, x), ops.box_iou(t, t).numpy())
        tol = F32_CHAIN_TOL if dtype == np.float32 else F64_RTOL
        for mine, theirs in [
            (B.generalized_box_iou, ops.generalized_box_iou),
            (B.distance_box_iou, ops.distance_box_iou),
            (B.complete_box_iou, ops.complete_box_iou),
        ]:
            assert_allclose(mine(x, x), theirs(t, t).numpy(), rtol=tol, atol=tol)
        for fmt in ("xywh", "cxcywh"):
            assert_allclose(B.box_convert(x, "xyxy", fmt), ops.box_convert(t, "xyxy", fmt).numpy(), rtol=tol)
        assert_array_equal(B.clip_boxes_to_image(x, (60, 80)), ops.clip_boxes_to_image(t, (60, 80)).numpy())
        assert_array_equal(B.remove_small_boxes(x, 10), ops.remove_small_boxes(t, 10).numpy())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_clip_and_remove_small_accept_degenerate_boxes_as_torchvision(dtype):
    # torchvision clips each coordinate on its own and removes a box whose (negative) width or
    # height is below min_size; both once raised ValueError here on x2 < x1 or y2 < y1
    torch = pytest.importorskip("torch")
    ops = pytest.importorskip("torchvision.ops")
    a = np.array([[5, 5, 1, 1], [0, 0, 3, 3], [-4, 2, -6, 9], [2, 8, 7, 1.5], [1, 1, 1, 1]], dtype)
    t = torch.from_numpy(a)
    for size in [(4, 6), (10, 10), (0, 3)]:
        got = B.clip_boxes_to_image(a, size)
        assert got.dtype == dtype
        assert_array_equal(got, ops.clip_boxes_to_image(t, size).numpy())
    for min_size in [-3.0, -1.0, 0.0, 1.0, 3.0, 5.0]:
        assert_array_equal(B.remove_small_boxes(a, min_size), ops.remove_small_boxes(t, min_size).numpy())


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (lambda: B.box_iou([[0, 0, 1]], [[0, 0, 1, 1]]), ValueError, r"boxes1 must have shape \(N, 4\)"),
        (lambda: B.box_iou([[0, 0, 1, 1]], [[np.nan, 0, 1, 1]]), ValueError, "boxes2 contains NaN"),
        (lambda: B.box_iou([[2, 0, 1, 1]], [[0, 0, 1, 1]]), ValueError, "boxes1 must be xyxy.*row 0"),
        (lambda: B.box_iou([["a", "b", "c", "d"]], [[0, 0, 1, 1]]), TypeError, "boxes1 must be a real"),
        (lambda: B.box_iou(np.ones((1, 4), bool), [[0, 0, 1, 1]]), TypeError, "boxes1.*bool"),
        (lambda: B.box_area([[0, 0, 1, 1j]]), TypeError, "boxes.*complex"),
        (lambda: B.box_convert([[0, 0, 1, 1]], "xyxy", "yolo"), ValueError, "out_fmt must be one of"),
        (lambda: B.box_convert([[0, 0, 1, 1]], "ltrb", "xyxy"), ValueError, "in_fmt must be one of"),
        (lambda: B.clip_boxes_to_image([[0, 0, 1, 1]], (10,)), ValueError, "size must be"),
        (lambda: B.clip_boxes_to_image([[0, 0, 1, 1]], (-1, 5)), ValueError, "size must be non-negative"),
        (lambda: B.remove_small_boxes([[0, 0, 1, 1]], float("nan")), ValueError, "min_size must be finite"),
        (lambda: B.distance_box_iou([[0, 0, 1, 1]], [[0, 0, 1, 1]], eps=-1), ValueError, "eps must be"),
    ],
)
def test_bad_input_is_rejected_with_a_clear_message(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_huge_iou_matrix_is_refused_before_allocating(monkeypatch):
    import fastdet._validate as v

    monkeypatch.setattr(v, "MAX_DENSE_ELEMENTS", 10)
    with pytest.raises(ValueError, match="IoU matrix of shape"):
        B.box_iou(np.zeros((4, 4)), np.zeros((4, 4)))


def test_public_reexports():
    for name in B.__all__:
        assert getattr(fastdet, name) is getattr(B, name)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_threaded_and_one_thread_iou_matrices_agree(monkeypatch: pytest.MonkeyPatch, dtype: type) -> None:
    """The pool's chunks and one call on this thread give the same bits (every IoU kind)."""
    import fastdet.boxes as fb

    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 200, (257, 2))
    a = np.concatenate([xy, xy + rng.uniform(0, 40, (257, 2))], axis=1).astype(dtype)
    b = a[::-1][:123].copy()
    fns = (fb.box_iou, fb.generalized_box_iou, fb.distance_box_iou, fb.complete_box_iou)
    monkeypatch.setattr(fb, "_PARALLEL_MIN_PAIRS", 0)
    monkeypatch.setattr(fb, "_PARALLEL_MIN_VARIANT_PAIRS", 0)
    threaded = [f(a, b) for f in fns]
    monkeypatch.setattr(fb, "_PARALLEL_MIN_PAIRS", 1 << 62)
    monkeypatch.setattr(fb, "_PARALLEL_MIN_VARIANT_PAIRS", 1 << 62)
    for f, t in zip(fns, threaded, strict=True):
        np.testing.assert_array_equal(f(a, b), t)
