"""pytest-benchmark suite for fastdet.arch: the counting conv/pool loops and network summaries.

Run with ``pytest bench/test_arch.py --benchmark-only``. Each case makes one
warm-up call (JIT compilation) before ``benchmark(...)``. Implementations:
``fastdet`` (the direct Numba loop), ``numpy`` (im2col with
``sliding_window_view`` + ``einsum``) and ``torch`` (``torch.nn.functional``,
skipped when torch is not installed).
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from fastdet import arch

# name: (c_in, c_out, hw, kernel, stride, padding, groups)
CONV_CASES = {
    "3x3-64-56": (64, 64, 56, 3, 1, 1, 1),
    "3x3s2-128-28": (128, 128, 28, 3, 2, 1, 1),
    "stem7x7s2-3-224": (3, 64, 224, 7, 2, 3, 1),
    "dw3x3-128-56": (128, 128, 56, 3, 1, 1, 128),
}
IMPLS = ["fastdet", "numpy", "torch"]


def numpy_conv2d(x, w, stride, padding):
    """im2col convolution (groups=1) in plain NumPy."""
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    win = sliding_window_view(xp, w.shape[2:], axis=(2, 3))[:, :, ::stride, ::stride]
    return np.einsum("ncijkl,ockl->noij", win, w, optimize=True)


def _conv_inputs(case, dtype=np.float32):
    c_in, c_out, hw, k, _, _, groups = case
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, c_in, hw, hw)).astype(dtype)
    w = rng.standard_normal((c_out, c_in // groups, k, k)).astype(dtype)
    return x, w


def _conv_fn(impl, case):
    _, _, _, _, s, p, groups = case
    x, w = _conv_inputs(case)
    if impl == "fastdet":
        return lambda: arch.conv2d(x, w, None, s, p, 1, groups)
    if impl == "numpy":
        if groups != 1:
            pytest.skip("the NumPy im2col baseline handles groups=1 only")
        return lambda: numpy_conv2d(x, w, s, p)
    torch = pytest.importorskip("torch")
    tx, tw = torch.from_numpy(x), torch.from_numpy(w)
    return lambda: torch.nn.functional.conv2d(tx, tw, None, s, p, 1, groups)


@pytest.mark.benchmark(group="arch-conv2d")
@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("case", sorted(CONV_CASES))
def test_conv2d(benchmark, case, impl):
    fn = _conv_fn(impl, CONV_CASES[case])
    fn()  # warm-up: JIT compilation, page-in
    c_in, c_out, hw, k, s, p, groups = CONV_CASES[case]
    out = arch.conv2d_output_size(hw, k, s, p)
    benchmark.extra_info["macs"] = arch.conv2d_macs(c_in, c_out, k, out, groups)
    benchmark(fn)


@pytest.mark.benchmark(group="arch-pool2d")
@pytest.mark.parametrize("impl", ["fastdet", "torch"])
@pytest.mark.parametrize("op", ["max", "avg"])
def test_pool2d(benchmark, op, impl):
    x = np.random.default_rng(0).standard_normal((1, 64, 112, 112)).astype(np.float32)
    if impl == "fastdet":
        pool = arch.max_pool2d if op == "max" else arch.avg_pool2d
        fn = lambda: pool(x, 3, 2, 1)  # noqa: E731
    else:
        torch = pytest.importorskip("torch")
        f = torch.nn.functional.max_pool2d if op == "max" else torch.nn.functional.avg_pool2d
        tx = torch.from_numpy(x)
        fn = lambda: f(tx, 3, 2, 1)  # noqa: E731
    fn()
    benchmark(fn)


@pytest.mark.benchmark(group="arch-summary")
@pytest.mark.parametrize("name", arch.NETWORKS)
def test_summary(benchmark, name):
    arch.summary(name)
    benchmark(arch.summary, name)


@pytest.mark.benchmark(group="arch-conv2d-count")
def test_worked_example_counted(benchmark):
    """The worked example (64 -> 128, 3x3, 224x224, padding 1) with its loop count."""
    report = arch.conv2d_report(64, 128, 3, 224, padding=1, count=True)  # warm-up
    assert report.counted_macs == report.macs
    benchmark.pedantic(arch.conv2d_report, (64, 128, 3, 224, 1, 1), {"count": True}, rounds=3)
