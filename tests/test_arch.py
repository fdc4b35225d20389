"""Tests for fastdet.arch: closed forms, counting loops, receptive fields and summaries."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import reference as ref
from conftest import F32_SUM_TOL, F64_ATOL, F64_RTOL, TORCH_CONV_TOL
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from fastdet import arch
from fastdet.arch import (
    AdaptiveAvgPool2d,
    AvgPool2d,
    BasicBlock,
    BatchNorm2d,
    Bottleneck,
    Conv2d,
    Dropout,
    Flatten,
    Linear,
    MaxPool2d,
    ReLU,
    Residual,
    Sequential,
)

# --------------------------------------------------------------------------------------
# strategies
# --------------------------------------------------------------------------------------


@st.composite
def conv_cases(draw):
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    cin_g = draw(st.integers(1, 2))
    cout_g = draw(st.integers(1, 2))
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    p = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    d = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    hw = []
    for axis in (0, 1):
        eff = d[axis] * (k[axis] - 1) + 1
        hw.append(draw(st.integers(max(1, eff - 2 * p[axis]), eff + 5)))
    n = draw(st.integers(1, 2))
    bias = draw(st.booleans())
    seed = draw(st.integers(0, 2**31))
    return dict(
        n=n, c_in=groups * cin_g, c_out=groups * cout_g, hw=tuple(hw), k=k, s=s, p=p, d=d,
        groups=groups, bias=bias, seed=seed,
    )  # fmt: skip


@st.composite
def pool_cases(draw, dilation=True):
    k = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    p = (draw(st.integers(0, k[0] // 2)), draw(st.integers(0, k[1] // 2)))
    d = (draw(st.integers(1, 3)), draw(st.integers(1, 3))) if dilation else (1, 1)
    hw = []
    for axis in (0, 1):
        eff = d[axis] * (k[axis] - 1) + 1
        hw.append(draw(st.integers(max(1, eff - 2 * p[axis]), eff + 6)))
    return dict(
        n=draw(st.integers(1, 2)), c=draw(st.integers(1, 3)), hw=tuple(hw), k=k, s=s, p=p, d=d,
        ceil_mode=draw(st.booleans()), seed=draw(st.integers(0, 2**31)),
    )  # fmt: skip


def _conv_arrays(case, dtype=np.float64):
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal((case["n"], case["c_in"], *case["hw"])).astype(dtype)
    w = rng.standard_normal((case["c_out"], case["c_in"] // case["groups"], *case["k"])).astype(dtype)
    b = rng.standard_normal(case["c_out"]).astype(dtype) if case["bias"] else None
    return x, w, b


def _pool_input(case):
    rng = np.random.default_rng(case["seed"])
    return rng.standard_normal((case["n"], case["c"], *case["hw"]))


# --------------------------------------------------------------------------------------
# closed forms
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "kwargs", "expected"),
    [
        ((224, 3), {}, (222, 222)),
        ((224, 3), {"padding": 1}, (224, 224)),
        ((224, 7), {"stride": 2, "padding": 3}, (112, 112)),
        ((224, 11), {"stride": 4, "padding": 2}, (55, 55)),
        (((7, 9), (3, 1)), {"stride": (2, 1), "padding": (0, 2), "dilation": (2, 1)}, (2, 13)),
        ((5, 5), {}, (1, 1)),
        ((1, 1), {}, (1, 1)),
    ],
)
def test_conv2d_output_size_examples(args, kwargs, expected):
    assert arch.conv2d_output_size(*args, **kwargs) == expected


@pytest.mark.parametrize(
    ("args", "kwargs", "expected"),
    [
        ((112, 3), {"stride": 2, "padding": 1}, (56, 56)),
        ((55, 3), {"stride": 2}, (27, 27)),
        ((6, 3), {"stride": 2}, (2, 2)),
        ((6, 3), {"stride": 2, "ceil_mode": True}, (3, 3)),
        # ceil mode would add a window starting in the right padding: PyTorch drops it
        ((5, 2), {"stride": 2, "padding": 1, "ceil_mode": True}, (3, 3)),
        ((4, 2), {}, (2, 2)),
        ((5, 2), {"ceil_mode": True}, (3, 3)),
        ((10, 3), {"stride": 1, "dilation": 2}, (6, 6)),
    ],
)
def test_pool2d_output_size_examples(args, kwargs, expected):
    assert arch.pool2d_output_size(*args, **kwargs) == expected


@given(
    size=st.integers(1, 40),
    k=st.integers(1, 7),
    s=st.integers(1, 5),
    p=st.integers(0, 4),
    d=st.integers(1, 3),
    ceil_mode=st.booleans(),
)
def test_pool2d_output_size_matches_enumeration(size, k, s, p, d, ceil_mode):
    p = min(p, k // 2)
    if not ref.window_starts(size, k, s, p, d, ceil_mode):
        with pytest.raises(ValueError, match="kernel"):
            arch.pool2d_output_size(size, k, s, p, d, ceil_mode)
        return
    expected = len(ref.window_starts(size, k, s, p, d, ceil_mode))
    assert arch.pool2d_output_size(size, k, s, p, d, ceil_mode) == (expected, expected)
    if not ceil_mode:
        assert arch.conv2d_output_size(size, k, s, p, d) == (expected, expected)


def test_pool2d_ops_closed_form_without_padding():
    # by hand: floor((9 - 3) / 2) + 1 = 4 rows and floor((7 - 2) / 2) + 1 = 3 columns of 3 x 2 windows
    assert arch.pool2d_ops((9, 7), (3, 2), (2, 2)) == 4 * 3 * (3 * 2) == 72
    # and by enumerating the windows' starts (tests/reference.py)
    rows = len(ref.window_starts(9, 3, 2, 0, 1, False))
    cols = len(ref.window_starts(7, 2, 2, 0, 1, False))
    assert arch.pool2d_ops((9, 7), (3, 2), (2, 2)) == rows * cols * 6


@pytest.mark.parametrize(
    ("c_in", "c_out", "k", "groups", "bias"),
    [(64, 128, 3, 1, True), (3, 64, 7, 1, False), (32, 32, 3, 32, False), (6, 4, (3, 1), 2, True)],
)
def test_conv2d_params_matches_formula_and_torch(c_in, c_out, k, groups, bias):
    kh, kw = (k, k) if isinstance(k, int) else k
    expected = c_out * (c_in // groups) * kh * kw + (c_out if bias else 0)
    assert arch.conv2d_params(c_in, c_out, k, groups, bias) == expected
    torch = pytest.importorskip("torch")
    layer = torch.nn.Conv2d(c_in, c_out, k, groups=groups, bias=bias)
    assert sum(p.numel() for p in layer.parameters()) == expected


def test_linear_and_batchnorm_counts():
    assert arch.linear_params(512, 1000) == 513_000
    assert arch.linear_params(512, 1000, bias=False) == 512_000
    assert arch.linear_macs(512, 1000) == 512_000
    assert arch.linear_flops(512, 1000) == 1_024_000
    assert arch.batchnorm2d_params(64) == 128
    assert arch.batchnorm2d_buffers(64) == 129


def test_linear_and_batchnorm_match_torch():
    torch = pytest.importorskip("torch")
    lin = torch.nn.Linear(7, 5)
    assert sum(p.numel() for p in lin.parameters()) == arch.linear_params(7, 5)
    bn = torch.nn.BatchNorm2d(13)
    assert sum(p.numel() for p in bn.parameters()) == arch.batchnorm2d_params(13)
    assert sum(b.numel() for b in bn.buffers()) == arch.batchnorm2d_buffers(13)


def test_flops_are_twice_macs():
    # by hand: 8 output channels x 5 x 6 positions x (3 x 3 x 3) taps = 6,480 MACs, 12,960 FLOPs
    assert arch.conv2d_macs(3, 8, 3, (5, 6), 1) == 8 * 5 * 6 * 3 * 3 * 3 == 6_480
    assert arch.conv2d_flops(3, 8, 3, (5, 6), 1) == 12_960
    assert arch.conv2d_macs(4, 6, (3, 2), (5, 7), 2) == 6 * 5 * 7 * 2 * 3 * 2


# --------------------------------------------------------------------------------------
# the worked example (issue 5, item 4)
# --------------------------------------------------------------------------------------


def test_worked_example_numbers():
    no_pad = arch.conv2d_report(64, 128, 3, 224)
    assert no_pad.output_size == (222, 222)
    # (3*3*64 + 1) * 128 = 577 * 128 = 73,856 (the "73,792" is an arithmetic slip)
    assert no_pad.params == (3 * 3 * 64 + 1) * 128 == 73_856
    same = arch.conv2d_report(64, 128, 3, 224, padding=1)
    assert same.output_size == (224, 224)
    assert same.flops == 2 * (3 * 3 * 64) * 224 * 224 * 128 == 7_398_752_256
    assert same.macs == same.flops // 2
    assert no_pad.macs == 3 * 3 * 64 * 222 * 222 * 128
    text = arch.format_conv_report(same)
    assert "7,398,752,256" in text
    assert "73,856" in text
    assert "224x224" in text


@pytest.mark.parametrize("padding", [0, 1])
def test_worked_example_counted_by_the_loop(padding):
    # The same layer with 16x fewer channels on each side keeps the test fast; the
    # count scales with c_in * c_out, so the loop count times 256 is the full layer's.
    small = arch.conv2d_report(4, 8, 3, 224, padding=padding, count=True)
    assert small.counted_macs == small.macs
    # README's table, by hand: 3 x 3 x 64 taps x 128 channels x 222**2 (no padding) or 224**2 positions
    full = {0: 3_633_610_752, 1: 3_699_376_128}[padding]
    assert full == 3 * 3 * 64 * 128 * (222 if padding == 0 else 224) ** 2
    assert small.counted_macs * 16 * 16 == full
    assert arch.conv2d_report(64, 128, 3, 224, padding=padding).macs == full
    assert "agrees" in arch.format_conv_report(small)


# --------------------------------------------------------------------------------------
# direct loops vs the naive reference, the closed forms and torch
# --------------------------------------------------------------------------------------


@given(case=conv_cases())
def test_conv2d_matches_reference_and_counts(case):
    x, w, b = _conv_arrays(case)
    out, macs = arch.conv2d(x, w, b, case["s"], case["p"], case["d"], case["groups"])
    expected, taps = ref.conv2d(x, w, b, case["s"], case["p"], case["d"], case["groups"])
    assert out.shape == expected.shape
    assert_allclose(out, expected, rtol=F64_RTOL, atol=F64_ATOL)
    out_hw = arch.conv2d_output_size(case["hw"], case["k"], case["s"], case["p"], case["d"])
    assert out.shape[2:] == out_hw
    closed = case["n"] * arch.conv2d_macs(case["c_in"], case["c_out"], case["k"], out_hw, case["groups"])
    assert macs == taps == closed


@given(case=conv_cases())
def test_conv2d_matches_torch(case):
    torch = pytest.importorskip("torch")
    x, w, b = _conv_arrays(case)
    out, _ = arch.conv2d(x, w, b, case["s"], case["p"], case["d"], case["groups"])
    expected = torch.nn.functional.conv2d(
        torch.from_numpy(x), torch.from_numpy(w), None if b is None else torch.from_numpy(b),
        case["s"], case["p"], case["d"], case["groups"],
    ).numpy()  # fmt: skip
    assert_allclose(out, expected, rtol=TORCH_CONV_TOL, atol=TORCH_CONV_TOL)


@given(case=pool_cases())
def test_max_pool2d_matches_reference_and_counts(case):
    x = _pool_input(case)
    args = (case["k"], case["s"], case["p"], case["d"], case["ceil_mode"])
    out, comparisons = arch.max_pool2d(x, *args)
    expected, reads = ref.max_pool2d(x, *args)
    np.testing.assert_array_equal(out, expected)
    assert out.shape[2:] == arch.pool2d_output_size(case["hw"], *args)
    assert comparisons == reads == case["n"] * case["c"] * arch.pool2d_ops(case["hw"], *args)


@given(case=pool_cases(dilation=False), include=st.booleans())
def test_avg_pool2d_matches_reference_and_counts(case, include):
    x = _pool_input(case)
    args = (case["k"], case["s"], case["p"], case["ceil_mode"])
    out, additions = arch.avg_pool2d(x, *args, count_include_pad=include)
    expected, reads = ref.avg_pool2d(x, *args, include)
    assert_allclose(out, expected, rtol=F64_RTOL, atol=F64_ATOL)
    closed = arch.pool2d_ops(case["hw"], case["k"], case["s"], case["p"], 1, case["ceil_mode"])
    assert additions == reads == case["n"] * case["c"] * closed


@given(case=pool_cases(), include=st.booleans())
def test_pools_match_torch(case, include):
    torch = pytest.importorskip("torch")
    f = torch.nn.functional
    x = _pool_input(case)
    t = torch.from_numpy(x)
    out, _ = arch.max_pool2d(x, case["k"], case["s"], case["p"], case["d"], case["ceil_mode"])
    expected = f.max_pool2d(t, case["k"], case["s"], case["p"], case["d"], case["ceil_mode"])
    np.testing.assert_array_equal(out, expected.numpy())
    out, _ = arch.avg_pool2d(x, case["k"], case["s"], case["p"], case["ceil_mode"], include)
    expected = f.avg_pool2d(t, case["k"], case["s"], case["p"], case["ceil_mode"], include)
    assert_allclose(out, expected.numpy(), rtol=F64_RTOL, atol=F64_ATOL)


@pytest.mark.parametrize(
    ("shape", "kernel", "stride", "padding", "dilation"),
    [
        ((1, 1, 2, 6), (3, 3), (2, 1), (1, 0), (2, 2)),  # span -1 along height, stride 2
        ((2, 1, 1, 2), (3, 1), None, 0, 1),  # span -2, stride 3
        ((1, 2, 2, 3), 5, 4, 1, 1),  # span -1 along height, 0 along width
    ],
)
def test_ceil_mode_window_larger_than_the_padded_input_as_torch(shape, kernel, stride, padding, dilation):
    # with ceil_mode PyTorch keeps one partial window when the kernel exceeds the padded input
    # by less than the stride (ceil(span / stride) + 1 = 1); without ceil_mode it is an error
    torch = pytest.importorskip("torch")
    f = torch.nn.functional
    x = np.random.default_rng(0).standard_normal(shape)
    t = torch.from_numpy(x)
    out, _ = arch.max_pool2d(x, kernel, stride, padding, dilation, ceil_mode=True)
    np.testing.assert_array_equal(out, f.max_pool2d(t, kernel, stride, padding, dilation, True).numpy())
    size = arch.pool2d_output_size(shape[2:], kernel, stride, padding, dilation, ceil_mode=True)
    assert out.shape[2:] == size
    with pytest.raises(ValueError, match="kernel is larger than the padded input"):
        arch.max_pool2d(x, kernel, stride, padding, dilation, ceil_mode=False)
    if dilation == 1:
        for include in (True, False):
            out, _ = arch.avg_pool2d(x, kernel, stride, padding, ceil_mode=True, count_include_pad=include)
            expected = f.avg_pool2d(t, kernel, stride, padding, True, include).numpy()
            assert_allclose(out, expected, rtol=F64_RTOL, atol=F64_ATOL)


def test_max_pool_window_of_only_padding_is_minus_inf():
    out, comparisons = arch.max_pool2d(np.ones((1, 1, 1, 1)), 2, stride=1, padding=1, dilation=2)
    assert out.shape == (1, 1, 1, 1)
    assert out[0, 0, 0, 0] == -np.inf
    assert comparisons == 0


@pytest.mark.parametrize("seed", range(3))
def test_float32_in_float32_out(seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, 4, 9, 8)).astype(np.float32)
    w = rng.standard_normal((6, 2, 3, 3)).astype(np.float32)
    out32, macs32 = arch.conv2d(x, w, stride=2, padding=1, groups=2)
    out64, macs64 = arch.conv2d(x.astype(np.float64), w, stride=2, padding=1, groups=2)
    assert out32.dtype == np.float32
    assert out64.dtype == np.float64
    assert macs32 == macs64
    assert_allclose(out32, out64, rtol=F32_SUM_TOL, atol=F32_SUM_TOL)
    for pool in (arch.max_pool2d, arch.avg_pool2d):
        pooled, _ = pool(x, 3, 2, 1)
        assert pooled.dtype == np.float32
        assert_allclose(pooled, pool(x.astype(np.float64), 3, 2, 1)[0], rtol=F32_SUM_TOL, atol=F32_SUM_TOL)


def test_integer_and_readonly_input():
    x = np.arange(2 * 3 * 5 * 5).reshape(2, 3, 5, 5)
    x.setflags(write=False)
    w = np.ones((1, 3, 2, 2), dtype=np.int32)
    out, macs = arch.conv2d(x, w)
    assert out.dtype == np.float64
    expected, taps = ref.conv2d(x.astype(float), w.astype(float), None, (1, 1), (0, 0), (1, 1), 1)
    assert_allclose(out, expected)
    assert macs == taps


def test_empty_batch():
    out, macs = arch.conv2d(np.zeros((0, 3, 8, 8)), np.zeros((4, 3, 3, 3)), padding=1)
    assert out.shape == (0, 4, 8, 8)
    assert macs == 0
    out, ops = arch.max_pool2d(np.zeros((0, 3, 8, 8)), 2)
    assert out.shape == (0, 3, 4, 4)
    assert ops == 0


# --------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------

X = np.zeros((1, 4, 6, 6))
W = np.zeros((2, 4, 3, 3))


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: arch.conv2d(X, W, stride=0), "stride"),
        (lambda: arch.conv2d(X, W, padding=-1), "padding"),
        (lambda: arch.conv2d(X, W, dilation=0), "dilation"),
        (lambda: arch.conv2d(X, np.zeros((2, 4, 7, 7))), "kernel is larger than the padded input"),
        (lambda: arch.conv2d(X, np.zeros((2, 4, 9, 3)), padding=1), "kernel is larger"),
        (lambda: arch.conv2d(X, np.zeros((2, 4, 3, 3)), dilation=3), "kernel is larger"),
        (lambda: arch.conv2d(np.zeros((1, 3, 6, 6)), np.zeros((2, 1, 3, 3)), groups=2), "groups"),
        (lambda: arch.conv2d(X, np.zeros((3, 2, 3, 3)), groups=2), "groups"),
        (lambda: arch.conv2d(X, np.zeros((2, 3, 3, 3))), "weight must have shape"),
        (lambda: arch.conv2d(X[0], W), "x must be 4-dimensional"),
        (lambda: arch.conv2d(X, W[0]), "weight must be 4-dimensional"),
        (lambda: arch.conv2d(X, W, bias=np.zeros(3)), "bias must have shape"),
        (lambda: arch.conv2d(np.zeros((1, 4, 0, 6)), W), "x must have non-empty"),
        (lambda: arch.conv2d(np.full((1, 4, 6, 6), np.nan), W), "x contains NaN"),
        (lambda: arch.conv2d(X, W, stride=(1, 2, 3)), "stride"),
        (lambda: arch.max_pool2d(X, 3, padding=2), "padding must be at most half"),
        (lambda: arch.max_pool2d(X, 7), "kernel is larger"),
        (lambda: arch.max_pool2d(X, 2, stride=0), "stride"),
        (lambda: arch.max_pool2d(X, 0), "kernel"),
        (lambda: arch.max_pool2d(X, 2, padding=-1), "padding"),
        (lambda: arch.max_pool2d(X[0, 0], 2), "x must be 4-dimensional"),
        (lambda: arch.avg_pool2d(X, (3, 1), padding=(1, 1)), "padding must be at most half"),
        (lambda: arch.avg_pool2d(X, 9, padding=1), "kernel is larger"),
        (lambda: arch.conv2d_output_size(4, 5), "kernel is larger"),
        (lambda: arch.conv2d_output_size(0, 1), "input_size"),
        (lambda: arch.pool2d_output_size(4, 2, padding=2), "padding"),
        (lambda: arch.conv2d_params(3, 4, 3, groups=2), "c_in=3 must be divisible by groups"),
        (lambda: arch.conv2d_params(4, 3, 3, groups=2), "c_out=3 must be divisible by groups"),
        (lambda: arch.conv2d_macs(4, 4, 3, 0), "output_size"),
        (lambda: arch.linear_params(0, 3), "in_features"),
        (lambda: arch.batchnorm2d_params(0), "num_features"),
        (lambda: arch.receptive_field([(3, 0)]), "stride"),
        (lambda: arch.receptive_field([(3,)]), "layers"),
        (lambda: arch.receptive_field([Flatten()]), "no fixed receptive field"),
        (lambda: Conv2d(3, 4, 3, groups=2), "divisible by groups"),
        (lambda: MaxPool2d(3, padding=2), "padding"),
    ],
)
def test_bad_input_raises_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: arch.conv2d(X, W, stride=1.5), "stride"),
        (lambda: arch.conv2d(np.zeros((1, 4, 6, 6), bool), W), "x must be a real numeric"),
        (lambda: arch.max_pool2d(X, 2, ceil_mode="yes"), "ceil_mode"),
        (lambda: arch.conv2d_params(3, 4, 3, bias=1), "bias"),
        (lambda: arch.summary([object()], (3, 8, 8)), "not a fastdet.arch layer"),
        (lambda: arch.summary(42, (3, 8, 8)), "layers_or_name"),
    ],
)
def test_bad_types_raise_type_error(call, match):
    with pytest.raises(TypeError, match=match):
        call()


# --------------------------------------------------------------------------------------
# receptive fields
# --------------------------------------------------------------------------------------


def _layer_1d(draw):
    k = draw(st.integers(1, 5))
    return (k, draw(st.integers(1, 3)), draw(st.integers(0, 2)), draw(st.integers(1, 2)))


@given(data=st.data(), n_layers=st.integers(1, 5))
def test_receptive_field_recursion_matches_index_propagation(data, n_layers):
    layers = [_layer_1d(data.draw) for _ in range(n_layers)]
    rf = arch.receptive_field(layers)
    size, jump, start = ref.rf_1d(layers)
    assert rf.size == (size, size)
    assert rf.jump == (jump, jump)
    assert rf.start == (start, start)
    # the unrolled form R = 1 + sum (k_eff - 1) * prod(previous strides)
    unrolled = 1 + sum(
        (d * (k - 1)) * math.prod(s for _, s, _, _ in layers[:i]) for i, (k, _, _, d) in enumerate(layers)
    )
    assert rf.size[0] == unrolled


@given(data=st.data(), n_main=st.integers(1, 3))
def test_residual_field_is_union_of_branches(data, n_main):
    pre = [_layer_1d(data.draw)]
    main = [_layer_1d(data.draw) for _ in range(n_main)]
    stride = math.prod(s for _, s, _, _ in main)
    shortcut = [(1, stride, data.draw(st.integers(0, 1)), 1)]

    def spec(items):
        return [Conv2d(1, 1, k, s, p, d) for k, s, p, d in items]

    rf = arch.receptive_field([*spec(pre), Residual(spec(main), spec(shortcut))])
    size, jump, start = ref.rf_1d([*pre, ("res", main, shortcut)])
    assert rf.size[0] == size
    assert rf.jump[0] == jump
    assert rf.start[0] == start


def test_receptive_field_accepts_pairs_and_layers():
    rf = arch.receptive_field([((3, 1), (1, 1), (1, 0)), MaxPool2d((2, 1)), BatchNorm2d(4), ReLU()])
    assert rf.size == (4, 1)
    assert rf.jump == (2, 1)
    assert rf.start == (0.5, 0.0)


def _resnet_1d(kind, depths, slim=False):
    """1-D geometry of a ResNet, written out independently of fastdet's block classes."""
    net = [(7, 2, 3, 1), (3, 2, 1, 1)]
    stages = []
    inplanes, expansion = 64, (1 if kind == "basic" else 4)
    for stage, (planes, n) in enumerate(zip((64, 128, 256, 512), depths, strict=True)):
        units = []
        for b in range(n):
            if slim:  # TF-Slim resnet_v1: stride on the last unit of stages 1-3, in the 3x3 conv
                stride = 2 if (stage < 3 and b == n - 1) else 1
            else:  # torchvision v1.5: stride on the first unit of stages 2-4
                stride = 2 if (stage > 0 and b == 0) else 1
            if kind == "basic":
                main = [(3, stride, 1, 1), (3, 1, 1, 1)]
            else:
                main = [(1, 1, 0, 1), (3, stride, 1, 1), (1, 1, 0, 1)]
            needs = stride != 1 or inplanes != planes * expansion
            units.append(("res", main, [(1, stride, 0, 1)] if needs else []))
            inplanes = planes * expansion
        stages.append(units)
    return net, stages


@pytest.mark.parametrize(
    ("name", "kind", "depths", "hand"),
    [
        # by hand: r_out = r_in + (k-1) j_in. Stem: 7 (j 2), maxpool 11 (j 4). ResNet-18 stage 1:
        # 4 convs 3x3 at j 4 -> 11 + 4*8 = 43; stage 2: 43 + 8 + 3*16 = 99; stage 3:
        # 99 + 16 + 3*32 = 211; stage 4: 211 + 32 + 3*64 = 435.
        ("resnet18", "basic", (2, 2, 2, 2), (43, 99, 211, 435)),
        # ResNet-50: one 3x3 per bottleneck. 11 + 3*8 = 35; 35 + 8 + 3*16 = 91;
        # 91 + 16 + 5*32 = 267; 267 + 32 + 2*64 = 427.
        ("resnet50", "bottleneck", (3, 4, 6, 3), (35, 91, 267, 427)),
    ],
)
def test_resnet_receptive_fields(name, kind, depths, hand):
    s = arch.summary(name)
    rows = {r.name: r for r in s.layers}
    assert rows["conv1"].receptive_field == (7, 7)
    assert rows["maxpool"].receptive_field == (11, 11)
    net, stages = _resnet_1d(kind, depths)
    for i, units in enumerate(stages):
        net = net + units
        for b in range(len(units)):
            size, jump, start = ref.rf_1d(net[: len(net) - len(units) + b + 1])
            row = rows[f"layer{i + 1}.{b}"]
            assert row.receptive_field == (size, size), row.name
            assert row.jump == (jump, jump)
            assert row.start == (start, start)
        assert rows[f"layer{i + 1}"].receptive_field == (hand[i], hand[i])
    assert s.receptive_field == (hand[-1], hand[-1])
    assert s.jump == (32, 32)


def test_slim_resnet_v1_50_strides_elsewhere():
    # TF-Slim's resnet_v1_50 puts each stage's stride in its last unit: 483 (Araujo et al. 2019).
    layers = [Conv2d(3, 64, 7, 2, 3), MaxPool2d(3, 2, 1)]
    inplanes = 64
    for stage, (planes, n) in enumerate(zip((64, 128, 256, 512), (3, 4, 6, 3), strict=True)):
        for b in range(n):
            stride = 2 if (stage < 3 and b == n - 1) else 1
            layers.append(Bottleneck(inplanes, planes, stride))
            inplanes = planes * 4
    assert arch.receptive_field(layers).size == (483, 483)
    net, stages = _resnet_1d("bottleneck", (3, 4, 6, 3), slim=True)
    assert ref.rf_1d(net + [u for units in stages for u in units])[0] == 483


def test_vgg16_and_alexnet_receptive_fields():
    vgg = arch.summary("vgg16")
    assert vgg.receptive_field == (212, 212)  # Araujo, Norris and Sim, Distill 2019
    assert {r.name: r for r in vgg.layers}["features.30"].receptive_field == (212, 212)
    assert arch.summary("alexnet").receptive_field == (195, 195)  # same paper
    vgg_1d = []
    for v in (2, 2, 3, 3, 3):
        vgg_1d += [(3, 1, 1, 1)] * v + [(2, 2, 0, 1)]
    assert ref.rf_1d(vgg_1d)[0] == 212


# --------------------------------------------------------------------------------------
# summaries
# --------------------------------------------------------------------------------------

# torchvision's model tables (https://pytorch.org/vision/stable/models.html): "Params" and
# "GFLOPS" (conv + linear multiply-adds at 3x224x224).
PUBLISHED = {
    "alexnet": (61_100_840, 0.71),
    "vgg16": (138_357_544, 15.47),
    "resnet18": (11_689_512, 1.81),
    "resnet50": (25_557_032, 4.09),
}


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_builtin_networks_reproduce_published_counts(name):
    s = arch.summary(name, (3, 224, 224))
    params, gflops = PUBLISHED[name]
    assert s.total_params == params
    assert round(s.total_macs / 1e9, 2) == gflops
    assert s.total_flops == 2 * s.total_macs
    assert s.output_shape == (1000,)
    assert s.total_params == sum(r.params for r in s.layers if r.depth == 0)


@pytest.fixture(scope="module")
def torchvision_models():
    tv = pytest.importorskip("torchvision")
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    return {name: getattr(tv.models, name)(weights=None).eval() for name in PUBLISHED}


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_builtin_networks_match_torchvision_modules(name, torchvision_models):
    import torch

    model = torchvision_models[name]
    shape = (3, 96, 112)  # small and non-square: fast, and exercises adaptive pooling
    s = arch.summary(name, shape)
    modules = dict(model.named_modules())
    assert s.total_params == sum(p.numel() for p in model.parameters())
    assert s.total_buffers == sum(b.numel() for b in model.buffers())
    shapes: dict[str, tuple[int, ...]] = {}

    def record(key):
        def hook(module, inputs, output):  # must return None: a value would replace the output
            shapes.setdefault(key, tuple(output.shape[1:]))

        return hook

    hooks = [m.register_forward_hook(record(key)) for key, m in modules.items() if key]
    with torch.no_grad():
        model(torch.zeros(1, *shape))
    for h in hooks:
        h.remove()
    checked = 0
    for row in s.layers:
        if row.name not in modules:
            assert row.name == "flatten"
            continue
        module = modules[row.name]
        assert row.params == sum(p.numel() for p in module.parameters()), row.name
        assert row.buffers == sum(b.numel() for b in module.buffers()), row.name
        if row.name in shapes and "relu" not in row.name:  # shared ReLU modules: first call only
            assert row.output_shape == shapes[row.name], row.name
            checked += 1
    assert checked > 10


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_total_flops_match_torch_flop_counter(name, torchvision_models):
    # torch.utils.flop_counter counts a multiply-add as 2 FLOPs (conv and matmul only)
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    shape = (3, 96, 112)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        torchvision_models[name](torch.zeros(1, *shape))
    s = arch.summary(name, shape)
    assert s.total_flops == counter.get_total_flops() == 2 * s.total_macs


def test_conv2d_flops_match_torch_flop_counter():
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode

    x, w = torch.zeros(1, 6, 17, 13), torch.zeros(4, 3, 3, 2)
    with FlopCounterMode(display=False) as counter:
        torch.nn.functional.conv2d(x, w, stride=(2, 1), padding=1, dilation=(1, 2), groups=2)
    out = arch.conv2d_output_size((17, 13), (3, 2), (2, 1), 1, (1, 2))
    assert counter.get_total_flops() == arch.conv2d_flops(6, 4, (3, 2), out, 2)


def test_summary_of_own_layers():
    layers = [
        ("stem", Conv2d(3, 16, 3, 2, 1, bias=False)),
        BatchNorm2d(16),
        ReLU(),
        BasicBlock(16, 32, stride=2),
        Bottleneck(32, 8),  # 32 == 8 * 4: identity shortcut
        AvgPool2d(2, ceil_mode=True),
        AdaptiveAvgPool2d(1),
        Flatten(),
        Dropout(),
        Linear(32, 10),
    ]
    s = arch.summary(layers, "3x31x29")
    rows = {r.name: r for r in s.layers}
    assert rows["stem"].output_shape == (16, 16, 15)
    assert rows["3"].output_shape == (32, 8, 8)
    assert rows["3.downsample.0"].output_shape == (32, 8, 8)
    assert "4.downsample" not in rows
    assert rows["5"].output_shape == (32, 4, 4)
    assert s.output_shape == (10,)
    # by hand: weights c_out * c_in * k * k (no biases), batch norms 2 C, the linear layer 32 * 10 + 10
    expected_params = (
        16 * 3 * 3 * 3  # stem
        + 2 * 16  # its batch norm
        + 32 * 16 * 3 * 3 + 32 * 32 * 3 * 3 + 32 * 16 * 1 * 1 + 3 * 2 * 32  # BasicBlock: 2 convs, shortcut, 3 BN
        + 8 * 32 + 8 * 8 * 3 * 3 + 32 * 8 + 2 * 2 * 8 + 2 * 32  # Bottleneck: 1x1, 3x3, 1x1, BN 8, 8, 32
        + 32 * 10 + 10  # Linear
    )  # fmt: skip
    assert expected_params == 16_506
    assert s.total_params == expected_params
    # the last layer with spatial extent before global pooling is the AvgPool2d
    assert s.receptive_field == rows["5"].receptive_field
    assert rows["6"].receptive_field is None
    text = arch.format_summary(s)
    assert "3.downsample.0: Conv2d" in text
    assert f"{s.total_params:,}" in text
    assert "3.conv1" not in arch.format_summary(s, max_depth=0)


def test_format_summary_depth_and_separators():
    s = arch.summary("resnet50")
    text = arch.format_summary(s)
    assert "25,557,032" in text
    assert "4,089,184,256" in text
    assert "layer4.2.conv3: Conv2d" in text
    top = arch.format_summary(s, max_depth=0)
    assert "layer4.2" not in top
    assert "layer4: Sequential" in top
    assert "receptive field  427" in top


def test_adaptive_pool_receptive_field():
    s = arch.summary([Conv2d(1, 1, 3), AdaptiveAvgPool2d(4)], (1, 10, 10))
    assert s.layers[1].receptive_field == (4, 4)  # 8 -> 4 is a 2x2 pool with stride 2
    s = arch.summary([Conv2d(1, 1, 3), AdaptiveAvgPool2d(3)], (1, 10, 10))
    assert s.layers[1].receptive_field is None  # 8 -> 3 has windows of different sizes
    assert s.receptive_field == (3, 3)


@pytest.mark.parametrize(
    ("layers", "shape", "match"),
    [
        ("resnet34", (3, 224, 224), "name must be one of"),
        ("resnet18", (3, 224), "input_shape"),
        ("resnet18", "3x224", "input_shape"),
        ("resnet18", "3xaxb", "CxHxW"),
        ("resnet18", (3, 0, 224), "input_shape"),
        ("resnet18", (4, 224, 224), r"layer 'conv1' \(Conv2d\): in_channels=3"),
        ("alexnet", (3, 32, 32), "layer 'features.12'"),
        ([Linear(3, 4)], (3, 4, 4), "Flatten"),
        ([Flatten(), Linear(3, 4)], (3, 4, 4), "in_features=3"),
        ([BatchNorm2d(4)], (3, 4, 4), "num_features=4"),
        ([Residual([Conv2d(3, 3, 3)])], (3, 8, 8), "main path gives shape"),
        ([BasicBlock(3, 8, downsample=False)], (3, 8, 8), "shortcut"),
        ([Flatten(), ReLU(), Conv2d(3, 3, 1)], (3, 4, 4), r"\(C, H, W\)"),
    ],
)
def test_summary_errors(layers, shape, match):
    with pytest.raises(ValueError, match=match):
        arch.summary(layers, shape)


def test_network_specs_are_sequential_compatible():
    layers = arch.network("resnet18", num_classes=10)
    s = arch.summary(list(layers), (3, 64, 64))
    assert s.output_shape == (10,)
    assert arch.summary(Sequential(tuple(layers)), (3, 64, 64)).total_params == s.total_params


def test_parallel_kernel_cache_is_reused_by_a_fresh_process():
    import subprocess
    import sys

    import numba

    if numba.config.DISABLE_JIT:
        pytest.skip("the JIT is disabled")
    # large enough for the thread pool (smaller inputs run in one call; the same compiled kernel)
    arch.conv2d(np.zeros((1, 1, 130, 130)), np.zeros((1, 1, 2, 2)))  # compiled and cached here
    code = (
        "import numpy as np\n"
        "from fastdet import arch\n"
        "from fastdet._kernels.conv import _conv2d\n"
        "arch.conv2d(np.zeros((1, 1, 130, 130)), np.zeros((1, 1, 2, 2)))\n"
        "print(sum(_conv2d.dispatcher.stats.cache_hits.values()))\n"
    )
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root, check=True)
    assert int(done.stdout.strip()) >= 1
