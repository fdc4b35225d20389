"""fastdet.losses against the NumPy references always, and torch / torchvision when importable."""

from __future__ import annotations

import math

import numpy as np
import pytest
import reference as ref
from conftest import BCE_ATOL, F32_ATOL, F32_RTOL, F64_ATOL, F64_RTOL
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.testing import assert_allclose, assert_array_equal

from fastdet.losses import l1_loss, mse_loss, sigmoid_focal_loss, smooth_l1_loss

REDUCTIONS = ("none", "mean", "sum")

finite = st.floats(-50, 50, allow_nan=False, allow_infinity=False)


@st.composite
def pairs(draw, elements=finite, second=None):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=5))
    a = draw(hnp.arrays(np.float64, shape, elements=elements))
    b = draw(hnp.arrays(np.float64, shape, elements=elements if second is None else second))
    return a, b


def reduce_ref(loss, reduction):
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.mean() if loss.size else math.nan


def check(got, expected, reduction, rtol=F64_RTOL, atol=F64_ATOL):
    expected = reduce_ref(expected, reduction)
    if reduction == "none":
        assert got.shape == np.shape(expected)
    assert_allclose(got, expected, rtol=rtol, atol=atol)


# --------------------------------------------------------------------------- NumPy references


@given(pairs(), st.sampled_from(REDUCTIONS))
def test_l1_and_mse_match_reference(xy, reduction):
    x, y = xy
    check(l1_loss(x, y, reduction=reduction), ref.l1_loss(x, y), reduction)
    check(mse_loss(x, y, reduction=reduction), ref.mse_loss(x, y), reduction)


@given(pairs(), st.sampled_from(REDUCTIONS), st.floats(0.01, 20))
def test_smooth_l1_matches_reference(xy, reduction, beta):
    x, y = xy
    check(smooth_l1_loss(x, y, beta=beta, reduction=reduction), ref.smooth_l1_loss(x, y, beta), reduction)


@given(
    pairs(second=st.sampled_from([0.0, 1.0, 0.3])),
    st.sampled_from(REDUCTIONS),
    st.sampled_from([0.25, 0.5, 0.0, 1.0, -1.0]),
    st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.5]),
)
def test_focal_matches_reference(xt, reduction, alpha, gamma):
    x, t = xt
    got = sigmoid_focal_loss(x, t, alpha, gamma, reduction)
    check(got, ref.sigmoid_focal_loss(x, t, alpha, gamma), reduction, rtol=F64_RTOL, atol=BCE_ATOL)


# --------------------------------------------------------------------------- documented properties


def test_focal_gamma0_alpha_negative_is_bce():
    rng = np.random.default_rng(0)
    x = rng.normal(scale=5, size=200)
    t = (rng.random(200) < 0.5).astype(float)
    assert_allclose(
        sigmoid_focal_loss(x, t, alpha=-1, gamma=0), ref.bce_with_logits(x, t), rtol=F64_RTOL, atol=BCE_ATOL
    )
    # alpha >= 0 with gamma = 0 is alpha-weighted BCE
    weight = 0.25 * t + 0.75 * (1 - t)
    assert_allclose(
        sigmoid_focal_loss(x, t, alpha=0.25, gamma=0),
        weight * ref.bce_with_logits(x, t),
        rtol=F64_RTOL,
        atol=BCE_ATOL,
    )


def test_focal_is_stable_for_large_logits():
    x = np.array([-1000.0, -40.0, 40.0, 1000.0])
    t = np.array([1.0, 0.0, 1.0, 0.0])
    loss = sigmoid_focal_loss(x, t, alpha=-1, gamma=0)
    assert np.isfinite(loss).all()
    # BCE is |x| when the logit is confidently wrong, log1p(exp(-40)) = 4.2e-18 when it is right
    # (x - log sigmoid(x) at x = -40 cancels to 0: BCE_ATOL)
    expected = [1000.0, 4.248354255291589e-18, 4.248354255291589e-18, 1000.0]
    assert_allclose(loss, expected, rtol=F64_RTOL, atol=BCE_ATOL)
    loss32 = sigmoid_focal_loss(x.astype(np.float32), t.astype(np.float32))
    assert loss32.dtype == np.float32
    # the defaults alpha 0.25, gamma 2: (1 - p_t)**2 = 1 when wrong, so 0.25 * 1000 and 0.75 * 1000;
    # when right, (1 - p_t)**2 = exp(-80) makes the loss ~1e-53, which float32 flushes to 0
    assert_array_equal(loss32, np.array([250.0, 0.0, 0.0, 750.0], np.float32))
    expected = ref.sigmoid_focal_loss(x, t, 0.25, 2.0)
    assert_allclose(loss32, expected.astype(np.float32), rtol=F32_RTOL, atol=F32_ATOL)


@pytest.mark.parametrize("beta", [0.5, 1.0, 3.0])
def test_smooth_l1_quadratic_below_linear_above_continuous_at_beta(beta):
    z = np.linspace(0, 3 * beta, 61)
    loss = smooth_l1_loss(np.zeros_like(z), z, beta=beta, reduction="none")
    below, above = z < beta, z >= beta
    assert_allclose(loss[below], 0.5 * z[below] ** 2 / beta, rtol=F64_RTOL)
    assert_allclose(loss[above], z[above] - 0.5 * beta, rtol=F64_RTOL)
    # value and slope meet at z = beta: both pieces give beta / 2 and slope 1
    # (finite differences with step h: the quadratic side's slope is off by h / (2 beta) = 5e-7
    # plus rounding ~eps * beta / h = 2e-10; the linear side's only by that rounding)
    h = 1e-6 * beta
    f = lambda v: float(smooth_l1_loss([0.0], [v], beta=beta))  # noqa: E731
    assert f(beta) == pytest.approx(beta / 2, rel=F64_RTOL)
    assert f(beta - h) == pytest.approx(beta / 2, abs=2 * h)
    left_slope = (f(beta) - f(beta - h)) / h
    right_slope = (f(beta + h) - f(beta)) / h
    assert left_slope == pytest.approx(1.0, abs=1e-5)
    assert right_slope == pytest.approx(1.0, abs=1e-9)


def test_smooth_l1_beta_zero_is_l1():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=50), rng.normal(size=50)
    for reduction in REDUCTIONS:
        assert_allclose(
            smooth_l1_loss(x, y, beta=0.0, reduction=reduction), l1_loss(x, y, reduction=reduction)
        )


def test_defaults_dtypes_and_empty():
    x = np.array([1.0, 2.0, 3.0])
    y = np.array([1.5, 2.0, 1.0])
    assert l1_loss(x, y) == pytest.approx(2.5 / 3)  # torch's default reduction is "mean"
    assert sigmoid_focal_loss(x, [1, 0, 1]).shape == (3,)  # torchvision's default is "none"
    out32 = mse_loss(x.astype(np.float32), y.astype(np.float32))
    assert isinstance(out32, np.float32)
    assert mse_loss(x.astype(np.float32), y).dtype == np.float64
    assert l1_loss([1, 2], [3, 4]) == 2.0  # integers are computed in float64
    assert l1_loss([], [], reduction="none").shape == (0,)
    assert l1_loss([], [], reduction="sum") == 0.0
    assert math.isnan(l1_loss([], []))
    assert math.isnan(sigmoid_focal_loss([], [], reduction="mean"))
    assert l1_loss(np.ones((2, 3)), np.zeros((2, 3)), reduction="none").shape == (2, 3)


@pytest.mark.parametrize("fn", [l1_loss, mse_loss, smooth_l1_loss, sigmoid_focal_loss])
def test_bad_input(fn):
    with pytest.raises(ValueError, match="same shape"):
        fn([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="NaN or inf"):
        fn([1.0, np.nan], [1.0, 0.0])
    with pytest.raises(ValueError, match="reduction"):
        fn([1.0], [1.0], reduction="avg")
    with pytest.raises(TypeError, match="real numeric"):
        fn(["a"], [1.0])


def test_bad_hyperparameters():
    with pytest.raises(ValueError, match="beta"):
        smooth_l1_loss([1.0], [0.0], beta=-1.0)
    with pytest.raises(ValueError, match="gamma"):
        sigmoid_focal_loss([1.0], [0.0], gamma=-1.0)
    with pytest.raises(ValueError, match="alpha"):
        sigmoid_focal_loss([1.0], [0.0], alpha=float("nan"))
    # above 1, alpha_t = alpha t + (1 - alpha)(1 - t) weighs negatives below 0 (torchvision raises too)
    with pytest.raises(ValueError, match="alpha must be in"):
        sigmoid_focal_loss([1.0], [0.0], alpha=1.5)
    with pytest.raises(TypeError, match="beta"):
        smooth_l1_loss([1.0], [0.0], beta="1")


# --------------------------------------------------------------------------- torch / torchvision


def _torch():
    return pytest.importorskip("torch")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("seed", range(2))
def test_regression_losses_match_torch(dtype, reduction, seed):
    torch = _torch()
    fnn = torch.nn.functional
    rng = np.random.default_rng(seed)
    x = (rng.normal(size=(7, 4)) * 3).astype(dtype)
    y = (rng.normal(size=(7, 4)) * 3).astype(dtype)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    rtol, atol = (F32_RTOL, F32_ATOL) if dtype == np.float32 else (F64_RTOL, F64_ATOL)
    pairs_ = [
        (l1_loss(x, y, reduction=reduction), fnn.l1_loss(tx, ty, reduction=reduction)),
        (mse_loss(x, y, reduction=reduction), fnn.mse_loss(tx, ty, reduction=reduction)),
    ]
    for beta in (0.0, 0.5, 1.0, 2.0):
        pairs_.append(
            (
                smooth_l1_loss(x, y, beta=beta, reduction=reduction),
                fnn.smooth_l1_loss(tx, ty, beta=beta, reduction=reduction),
            )
        )
    for ours, theirs in pairs_:
        assert np.asarray(ours).dtype == dtype
        assert_allclose(ours, theirs.numpy(), rtol=rtol, atol=atol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(("alpha", "gamma"), [(0.25, 2.0), (-1.0, 0.0), (0.5, 1.5), (0.75, 0.0)])
def test_focal_matches_torchvision(dtype, reduction, alpha, gamma):
    torch = _torch()
    ops = pytest.importorskip("torchvision.ops")
    rng = np.random.default_rng(7)
    x = (rng.normal(size=(9, 5)) * 4).astype(dtype)
    t = (rng.random((9, 5)) < 0.3).astype(dtype)
    ours = sigmoid_focal_loss(x, t, alpha, gamma, reduction)
    theirs = ops.sigmoid_focal_loss(torch.from_numpy(x), torch.from_numpy(t), alpha, gamma, reduction)
    # torch's BCE takes log(1 + exp(-|x|)) in the input dtype: F32_ATOL (conftest)
    rtol, atol = (F32_RTOL, F32_ATOL) if dtype == np.float32 else (F64_RTOL, BCE_ATOL)
    assert_allclose(ours, theirs.numpy(), rtol=rtol, atol=atol)
    if alpha < 0 and gamma == 0:
        bce = torch.nn.functional.binary_cross_entropy_with_logits(
            torch.from_numpy(x), torch.from_numpy(t), reduction=reduction
        )
        assert_allclose(ours, bce.numpy(), rtol=rtol, atol=atol)
