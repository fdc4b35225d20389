"""fastdet against torch's and torchvision's recorded answers (``tests/golden/torch.npz``), in every run.

CI does not install torch; ``tests/make_golden.py`` recorded its outputs on fixed
inputs where it is installed. Here fastdet must reproduce them, and, where torch
is installed, torch must still produce what the file says (a changed answer in a
new torch release fails ``test_live_torch_still_gives_the_recorded_answers``
with the versions: rerun ``python tests/make_golden.py`` after checking why).
"""

from __future__ import annotations

from typing import Any

import make_golden as golden
import numpy as np
import pytest
import reference as ref
from conftest import F32_ATOL, F32_CHAIN_TOL, F32_RTOL, F64_ATOL, F64_RTOL, TORCH_CONV_TOL
from numpy.testing import assert_allclose, assert_array_equal

import fastdet
from fastdet import arch

CASES, META = golden.load()


def names(family: str) -> list[str]:
    return sorted(n for n in CASES if n.startswith(family + "/"))


def test_golden_file_records_what_made_it() -> None:
    assert set(META["versions"]) >= {"torch", "torchvision", "numpy"}
    assert sorted(CASES) == META["cases"]
    assert golden.GOLDEN.stat().st_size < 400_000  # a few hundred KB at most
    for family in ("boxes", "losses", "conv", "pool", "nms", "arch"):
        assert names(family), family


# ----------------------------------------------------------------------------- boxes

VARIANTS = [
    ("giou", fastdet.generalized_box_iou, ref.giou_pair),
    ("diou", fastdet.distance_box_iou, ref.diou_pair),
    ("ciou", fastdet.complete_box_iou, ref.ciou_pair),
]


@pytest.mark.parametrize("name", names("boxes"))
def test_iou_family_equals_torchvision(name: str) -> None:
    case = CASES[name]
    a, b = case["in_a"], case["in_b"]
    iou = fastdet.box_iou(a, b)
    assert iou.dtype == a.dtype
    defined = ~np.isnan(case["iou"])
    # plain IoU runs torchvision's operations in the input dtype and order: bit-equal where torch's
    # is defined; where torch divides 0 by 0 (two empty boxes), fastdet's IoU is 0 (DESIGN.md)
    assert_array_equal(iou[defined], case["iou"][defined])
    assert_array_equal(iou[~defined], 0.0)
    if "degenerate" in name:
        assert (~defined).any()  # the degenerate case does reach torch's 0 / 0
    tol = F32_CHAIN_TOL if a.dtype == np.float32 else F64_RTOL
    for key, fn, pair in VARIANTS:
        got, theirs = fn(a, b), case[key]
        defined = ~np.isnan(theirs)
        assert_allclose(got[defined], theirs[defined], rtol=tol, atol=tol, err_msg=key)
        # the reference writes torch's formula out with one change, 0 / 0 := 0: it must equal
        # torch wherever torch is defined, and there it decides what fastdet gives instead of NaN
        expected = ref.pairwise(pair, a, b)
        assert_allclose(expected[defined], theirs[defined], rtol=tol, atol=tol, err_msg=f"reference {key}")
        # (fastdet computes float32 boxes in float64 and rounds once: F32_RTOL for float32)
        rtol = F32_RTOL if a.dtype == np.float32 else F64_RTOL
        assert_allclose(got[~defined], expected[~defined], rtol=rtol, atol=F64_ATOL, err_msg=key)


@pytest.mark.parametrize("name", names("boxes"))
def test_box_conversions_equal_torchvision(name: str) -> None:
    case = CASES[name]
    a = case["in_a"]
    # the same one or two operations per coordinate as torchvision: bit-equal
    assert_array_equal(fastdet.box_convert(a, "xyxy", "xywh"), case["xywh"])
    assert_array_equal(fastdet.box_convert(a, "xyxy", "cxcywh"), case["cxcywh"])
    assert_array_equal(fastdet.clip_boxes_to_image(a, (60, 80)), case["clip"])
    assert_array_equal(fastdet.remove_small_boxes(a, 10.0), case["small"])


# ----------------------------------------------------------------------------- losses


def _fastdet_losses(name: str, case: dict[str, np.ndarray]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "regression" in name:
        x, y = case["in_x"], case["in_y"]
        for r in golden.REDUCTIONS:
            out[f"l1_{r}"] = fastdet.l1_loss(x, y, reduction=r)
            out[f"mse_{r}"] = fastdet.mse_loss(x, y, reduction=r)
            for beta in golden.BETAS:
                out[f"smooth_l1_{beta}_{r}"] = fastdet.smooth_l1_loss(x, y, beta=beta, reduction=r)
        return out
    x, t = case["in_x"], case["in_t"]
    for r in golden.REDUCTIONS:
        for alpha, gamma in golden.FOCAL:
            out[f"focal_{alpha}_{gamma}_{r}"] = fastdet.sigmoid_focal_loss(x, t, alpha, gamma, r)
        out[f"bce_{r}"] = fastdet.sigmoid_focal_loss(x, t, alpha=-1.0, gamma=0.0, reduction=r)
    return out


@pytest.mark.parametrize("name", names("losses"))
def test_losses_equal_torch(name: str) -> None:
    case = CASES[name]
    f32 = case["in_x"].dtype == np.float32
    ours = _fastdet_losses(name, case)
    assert set(ours) == {k for k in case if not k.startswith("in_")}
    for key, got in ours.items():
        assert np.asarray(got).dtype == case[key].dtype, key
        assert np.shape(got) == case[key].shape, key
        rtol, atol = (F32_RTOL, F32_ATOL) if f32 else (F64_RTOL, F64_ATOL)
        assert_allclose(got, case[key], rtol=rtol, atol=atol, err_msg=key)


# ----------------------------------------------------------------------------- conv, pool


@pytest.mark.parametrize("name", names("conv"))
def test_conv2d_equals_torch(name: str) -> None:
    case = CASES[name]
    sh, sw, ph, pw, dh, dw, groups = (int(v) for v in case["in_params"])
    y, _ = arch.conv2d(case["in_x"], case["in_w"], case.get("in_b"), (sh, sw), (ph, pw), (dh, dw), groups)
    assert_allclose(y, case["y"], rtol=TORCH_CONV_TOL, atol=TORCH_CONV_TOL)


@pytest.mark.parametrize("name", names("pool"))
def test_pools_equal_torch(name: str) -> None:
    case = CASES[name]
    kh, kw, sh, sw, ph, pw, dh, dw, ceil = (int(v) for v in case["in_params"])
    x, k, s, p = case["in_x"], (kh, kw), (sh, sw), (ph, pw)
    out, _ = arch.max_pool2d(x, k, s, p, (dh, dw), bool(ceil))
    assert_array_equal(out, case["max"])  # a maximum is one of the inputs: exact
    if "avg_include_pad" in case:
        for include in (True, False):
            key = "avg_include_pad" if include else "avg_exclude_pad"
            out, _ = arch.avg_pool2d(x, k, s, p, bool(ceil), include)
            # a sum of <= 16 terms divided once, in another order than torch's: F64 tolerance
            assert_allclose(out, case[key], rtol=F64_RTOL, atol=F64_ATOL, err_msg=key)


# ----------------------------------------------------------------------------- nms


@pytest.mark.parametrize("name", names("nms"))
def test_nms_equals_torchvision(name: str) -> None:
    case = CASES[name]
    boxes, scores, labels = case["in_boxes"], case["in_scores"], case["in_labels"]
    thresholds = [float(k.split("_")[1]) for k in case if k.startswith("nms_")]
    assert thresholds
    for thr in thresholds:
        assert_array_equal(fastdet.nms(boxes, scores, thr), case[f"nms_{thr}"], err_msg=str(thr))
        assert_array_equal(
            fastdet.batched_nms(boxes, scores, labels, thr), case[f"per_class_{thr}"], err_msg=str(thr)
        )


# ----------------------------------------------------------------------------- arch


@pytest.mark.parametrize("name", names("arch"))
def test_network_counts_equal_torchvision(name: str) -> None:
    case = CASES[name]
    s = arch.summary(name.split("/")[1], tuple(int(v) for v in case["in_shape"]))
    assert s.total_params == case["params"]
    assert s.total_buffers == case["buffers"]
    assert s.total_flops == case["flops"]  # torch.utils.flop_counter: 2 FLOPs per multiply-add
    modules = {str(n): row for n, row in zip(case["module_names"], case["modules"], strict=True)}
    checked = 0
    for row in s.layers:
        if row.name not in modules:
            assert row.name == "flatten"  # torchvision flattens in forward(), not in a module
            continue
        params, buffers, *shape = (int(v) for v in modules[row.name])
        assert row.params == params, row.name
        assert row.buffers == buffers, row.name
        recorded = tuple(v for v in shape if v >= 0)
        if recorded and "relu" not in row.name:  # torchvision reuses ReLU modules: first call only
            assert row.output_shape == recorded, row.name
            checked += 1
    assert checked > 10


# ----------------------------------------------------------------------------- live torch


@pytest.mark.parametrize("name", [n for n in sorted(CASES) if not n.startswith("arch/")])
def test_live_torch_still_gives_the_recorded_answers(name: str) -> None:
    """Recompute torch's outputs from the stored inputs (test_arch checks the networks live)."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("torchvision")
    case = CASES[name]
    fresh = golden.torch_outputs(name, {k: v for k, v in case.items() if k.startswith("in_")})
    same_versions = golden.versions()["torch"] == META["versions"]["torch"]
    for key, value in fresh.items():
        msg = f"{key}: torch {torch.__version__} vs the file's {META['versions']}; rerun tests/make_golden.py"
        stored = case[key]
        assert value.shape == stored.shape, msg
        if same_versions or value.dtype.kind != "f":
            assert_array_equal(value, stored, err_msg=msg)  # NaN == NaN here
        else:  # another torch release may round differently, not compute something else
            tol = F32_CHAIN_TOL if value.dtype == np.float32 else F64_RTOL
            assert_allclose(value, stored, rtol=tol, atol=tol, err_msg=msg)
