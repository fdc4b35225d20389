"""Fused loss kernels: one pass per loss, no temporaries (Numba only, no validation).

Every loss has an elementwise helper, a kernel that writes it into ``out`` and a
kernel that returns its float64 sum (for the "mean" and "sum" reductions; ``acc``
is a float64 scratch array of ``_LANES`` elements, allocated by the caller so that
no NumPy allocation is compiled here). Arrays are 1-D, C-contiguous and of one
float dtype; scalars are Python floats.

The sums keep 8 independent accumulators (``_LANES``): without ``fastmath`` LLVM may
not reorder a floating-point sum, so a single accumulator serialises every
addition; 8 lanes let the loop body run in parallel (and pairwise-like lanes also
round less than one long running sum). The helpers are branch-free where the
branch would be data-dependent (smooth L1), which avoids mispredictions.
"""

from __future__ import annotations

import math

from fastdet._kernels import kernel

_LANES = 8


@kernel()
def _l1_one(a, b):
    """|a - b|."""
    return abs(a - b)


@kernel()
def _mse_one(a, b):
    """(a - b)**2."""
    d = a - b
    return d * d


@kernel()
def _smooth_l1_one(a, b, beta):
    """0.5 z**2 / beta if z < beta else z - 0.5 beta, with z = |a - b| (beta > 0).

    Written as ``0.5 q**2 / beta + (z - q)`` with ``q = min(z, beta)``: branch-free,
    bit-identical to torch's expression below beta, within one rounding above it.
    """
    z = abs(a - b)
    q = min(z, beta)
    return 0.5 * q * q / beta + (z - q)


@kernel()
def _focal_one(x, t, alpha, gamma):
    """alpha_t (1 - p_t)**gamma BCE(x, t) with a log-sigmoid that cannot overflow."""
    e = math.exp(-abs(x))
    p = 1.0 / (1.0 + e) if x >= 0 else e / (1.0 + e)
    log_sigmoid = min(x, 0.0) - math.log1p(e)
    ce = (1.0 - t) * x - log_sigmoid
    p_t = p * t + (1.0 - p) * (1.0 - t)
    q = 1.0 - p_t
    loss = ce * (q * q if gamma == 2.0 else q**gamma)  # the default gamma without pow()
    if alpha >= 0:
        loss *= alpha * t + (1.0 - alpha) * (1.0 - t)
    return loss


@kernel()
def _l1(x, y, out):
    """out[i] = |x[i] - y[i]|; x, y, out: (N,)."""
    for i in range(x.shape[0]):
        out[i] = _l1_one(x[i], y[i])


@kernel()
def _l1_sum(x, y, acc):
    """Sum of |x - y| in float64; x, y: (N,)."""
    n = x.shape[0]
    for k in range(_LANES):
        acc[k] = 0.0
    m = n - n % _LANES
    for i in range(0, m, _LANES):
        for k in range(_LANES):
            acc[k] += _l1_one(x[i + k], y[i + k])
    for i in range(m, n):
        acc[0] += _l1_one(x[i], y[i])
    total = 0.0
    for k in range(_LANES):  # in order, as ndarray.sum in Numba
        total += acc[k]
    return total


@kernel()
def _mse(x, y, out):
    """out[i] = (x[i] - y[i])**2; x, y, out: (N,)."""
    for i in range(x.shape[0]):
        out[i] = _mse_one(x[i], y[i])


@kernel()
def _mse_sum(x, y, acc):
    """Sum of (x - y)**2 in float64; x, y: (N,)."""
    n = x.shape[0]
    for k in range(_LANES):
        acc[k] = 0.0
    m = n - n % _LANES
    for i in range(0, m, _LANES):
        for k in range(_LANES):
            acc[k] += _mse_one(x[i + k], y[i + k])
    for i in range(m, n):
        acc[0] += _mse_one(x[i], y[i])
    total = 0.0
    for k in range(_LANES):  # in order, as ndarray.sum in Numba
        total += acc[k]
    return total


@kernel()
def _smooth_l1(x, y, beta, out):
    """Elementwise smooth L1 into out; x, y, out: (N,); beta > 0."""
    for i in range(x.shape[0]):
        out[i] = _smooth_l1_one(x[i], y[i], beta)


@kernel()
def _smooth_l1_sum(x, y, beta, acc):
    """Sum of the smooth L1 loss in float64; x, y: (N,); beta > 0."""
    n = x.shape[0]
    for k in range(_LANES):
        acc[k] = 0.0
    m = n - n % _LANES
    for i in range(0, m, _LANES):
        for k in range(_LANES):
            acc[k] += _smooth_l1_one(x[i + k], y[i + k], beta)
    for i in range(m, n):
        acc[0] += _smooth_l1_one(x[i], y[i], beta)
    total = 0.0
    for k in range(_LANES):  # in order, as ndarray.sum in Numba
        total += acc[k]
    return total


@kernel()
def _focal(x, t, alpha, gamma, out):
    """Elementwise sigmoid focal loss into out; x (logits), t, out: (N,)."""
    for i in range(x.shape[0]):
        out[i] = _focal_one(x[i], t[i], alpha, gamma)


@kernel()
def _focal_sum(x, y, alpha, gamma, acc):
    """Sum of the sigmoid focal loss in float64; x (logits), y (targets): (N,)."""
    n = x.shape[0]
    for k in range(_LANES):
        acc[k] = 0.0
    m = n - n % _LANES
    for i in range(0, m, _LANES):
        for k in range(_LANES):
            acc[k] += _focal_one(x[i + k], y[i + k], alpha, gamma)
    for i in range(m, n):
        acc[0] += _focal_one(x[i], y[i], alpha, gamma)
    total = 0.0
    for k in range(_LANES):  # in order, as ndarray.sum in Numba
        total += acc[k]
    return total
