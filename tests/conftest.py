"""Shared pytest configuration: hypothesis profiles and data paths."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# "dev" (default): quick random runs. "ci": derandomized, a fixed and larger example budget.
settings.register_profile("dev", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "ci",
    max_examples=150,
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

DATA = Path(__file__).resolve().parent.parent / "data"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The repository's bundled sample data (``data/``)."""
    return DATA


@pytest.fixture(autouse=True)
def _scan_small_files(monkeypatch: pytest.MonkeyPatch) -> None:
    """Read every JSON file with the compiled scanner, however small.

    The library parses files under ``SCAN_MIN_BYTES`` with the standard library (which
    compiles nothing); the bundled files are that small, and the tests are here to check
    the scanner on them. ``test_small_files_skip_the_scanner_with_the_same_result``
    checks the small-file path against it.
    """
    import fastdet.coco.reading

    monkeypatch.setattr(fastdet.coco.reading, "SCAN_MIN_BYTES", 0)


# ------------------------------------------------------------------------------------ tolerances
# Every tolerance of a comparison with a peer, a reference or a recorded answer comes from here,
# named after the reason for its size (import them: ``from conftest import F64_RTOL``). A new
# comparison that needs another size adds a constant here with its reason, not a bare number.
# float64 rounds each operation by at most eps/2 = 1.1e-16 relative, float32 by 6e-8.

#: float64, the same formula evaluated in another operation order, with fused steps, or with
#: ``log1p`` for ``log(1 + x)``: a few dozen roundings of at most 1.1e-16 each, so ~1e-15 in the
#: worst realistic case; 1e-12 keeps a 1000x margin and still fails on any change of formula.
F64_RTOL = 1e-12
#: The absolute floor that goes with ``F64_RTOL`` next to zero, where a relative bound means
#: nothing: cancellation of terms of size <= 100 leaves ~100 * eps = 2e-14.
F64_ATOL = 1e-12
#: Binary cross-entropy ``(1 - t) x - log sigmoid(x)`` cancels two terms of size up to |x| <= 50
#: (the tests' logits) when the loss is small: the result keeps an absolute error of ulp(50) = 7e-15
#: whatever formula evaluates it, so a relative tolerance alone cannot hold there.
BCE_ATOL = 1e-14

#: pycocotools: precision and recall are ratios of integer counts computed in the same order
#: (bit-equal); the 12 stats are means over at most 101 x 80 x 10 such values, whose summation
#: order can differ: n * eps = 1.8e-11 relative at worst, in practice a few ulps. 1e-12 absolute.
PYCOCOTOOLS_ATOL = 1e-12

#: float32 results against a float32 peer or reference (or fastdet's float64 result rounded once):
#: each float32 operation rounds by up to 6e-8; the losses and pools chain at most ~10-30 of them,
#: Soft-NMS rounds a score to float32 after every decay (and ``exp`` may differ by an ulp between
#: Numba's and Python's libm).
F32_RTOL = 2e-6
#: Next to zero in float32: torch evaluates ``log(1 + exp(-|x|))`` in float32, losing up to one
#: eps (1.2e-7) absolute where fastdet's ``log1p`` does not; 5e-7 is four of those.
F32_ATOL = 5e-7
#: float32 sums of about 20 products of N(0, 1) values (a small convolution or pooling window)
#: against the float64 result: ~n * 6e-8 * sum|terms| = 2e-5 absolute; 1e-4.
F32_SUM_TOL = 1e-4
#: A float32 peer running a long chain against fastdet's float64 evaluation rounded once. GIoU /
#: DIoU / CIoU of float32 boxes: torchvision runs ~30 operations in float32, among them an ``atan``
#: and a squared difference of two angles, which cancels: up to ~1e-6 absolute for values in
#: [-1.5, 1]. OpenCV's Soft-NMS decays scores by float32 Gaussian weights, several times per box.
#: 1e-5 leaves a margin of 10.
F32_CHAIN_TOL = 1e-5

#: torch's CPU ``conv2d`` picks its own algorithm (im2col + GEMM, blocked loops with FMA), so each
#: output sums its <= 100 products in another order: ~100 * eps * sum|terms| ~ 1e-13 here. 1e-10
#: does not depend on which algorithm a torch release picks.
TORCH_CONV_TOL = 1e-10
