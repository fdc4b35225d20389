"""Direct convolution and pooling loops that count the multiply-adds they perform."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fastdet._kernels.conv import _avg_pool2d, _conv2d, _max_pool2d
from fastdet._validate import as_float_array, check_bool, check_dense_size, check_int, to_numeric_array
from fastdet.arch.closed_forms import IntOrPair, Pair, _pair, conv2d_output_size, pool2d_output_size


def _loop_steps(out: Pair, k: Pair, s: Pair, d: Pair) -> tuple[Pair, Pair]:
    """Stride and dilation as the kernels receive them.

    Along an axis with one output position the stride is never used, and with a
    one-tap kernel the dilation is never used: pass 1 there, so that a huge
    irrelevant value (``stride=10**30``) never reaches Numba, whose int64
    arguments it would not fit. Every other value is bounded by the padded input,
    which ``check_dense_size`` has bounded.
    """
    s_out = (s[0] if out[0] > 1 else 1, s[1] if out[1] > 1 else 1)
    d_out = (d[0] if k[0] > 1 else 1, d[1] if k[1] > 1 else 1)
    return s_out, d_out


# Below this many inner-loop steps (about 1 ns each) the kernels run in one call on this
# thread: waking the pool's threads (60-100 us on the development VM) costs more than the work.
_PARALLEL_MIN_STEPS = 1 << 18


def _run(kern: Any, steps: int, *args: Any) -> None:
    """Call a chunked kernel: on the thread pool, or in one call for small inputs."""
    planes = len(args[-1])  # counts: one per (image, channel) plane, the kernels' loop
    (kern if steps >= _PARALLEL_MIN_STEPS else kern.serial)(planes, *args)


def _float_dtype(*arrays: NDArray[Any]) -> type[np.floating[Any]]:
    return np.float32 if all(a.dtype == np.float32 for a in arrays) else np.float64


def _as_nchw(x: ArrayLike, name: str) -> NDArray[Any]:
    arr = to_numeric_array(x, name)
    if arr.ndim != 4:
        raise ValueError(f"{name} must be 4-dimensional (N, C, H, W), got shape {arr.shape}")
    if arr.shape[2] == 0 or arr.shape[3] == 0:
        raise ValueError(f"{name} must have non-empty height and width, got shape {arr.shape}")
    return arr


def conv2d(
    x: ArrayLike,
    weight: ArrayLike,
    bias: ArrayLike | None = None,
    stride: IntOrPair = 1,
    padding: IntOrPair = 0,
    dilation: IntOrPair = 1,
    groups: int = 1,
) -> tuple[NDArray[np.floating[Any]], int]:
    """Direct 2-D convolution (cross-correlation, as PyTorch) that counts its multiply-adds.

    Parameters
    ----------
    x : array_like of shape (N, C_in, H, W)
        Input images, finite.
    weight : array_like of shape (C_out, C_in / groups, KH, KW)
        Filters, finite.
    bias : array_like of shape (C_out,), optional
        Added to every output element of a channel.
    stride : int or (int, int), default 1
    padding : int or (int, int), default 0
        Zero padding on each side.
    dilation : int or (int, int), default 1
    groups : int, default 1
        ``C_in`` and ``C_out`` must both be divisible by it.

    Returns
    -------
    out : ndarray of shape (N, C_out, OH, OW)
        float32 when ``x``, ``weight`` (and ``bias``) are all float32, else float64.
    macs : int
        Multiply-adds executed, counted one by one inside the loop.

    Raises
    ------
    ValueError
        Wrong ranks, channels not divisible by ``groups``, ``weight`` or ``bias``
        of the wrong shape, stride/dilation below 1, negative padding, a kernel
        larger than the padded input, NaN/inf in the arrays, or a padded input or
        output too large for memory (``fastdet._config.MAX_DENSE_ELEMENTS``).
    TypeError
        Non-numeric arrays or non-integer hyper-parameters.

    Notes
    -----
    The input is copied into a zero-padded buffer and every kernel tap is
    executed, taps on the padding included (they multiply a zero), just as an
    im2col implementation does. So ``macs == N * conv2d_macs(C_in, C_out,
    (KH, KW), (OH, OW), groups)`` exactly; the count is accumulated by the loop,
    not computed from that formula. Bias additions are not counted. Work runs
    in parallel over ``(image, output channel)`` planes.

    Examples
    --------
    >>> from fastdet.arch import conv2d_macs
    >>> x = np.ones((1, 2, 4, 4))
    >>> w = np.ones((3, 2, 3, 3))
    >>> out, macs = conv2d(x, w, padding=1)
    >>> out.shape, macs, conv2d_macs(2, 3, 3, (4, 4))
    ((1, 3, 4, 4), 864, 864)
    >>> out[0, 0]
    array([[ 8., 12., 12.,  8.],
           [12., 18., 18., 12.],
           [12., 18., 18., 12.],
           [ 8., 12., 12.,  8.]])
    """
    xa = _as_nchw(x, "x")
    wa = to_numeric_array(weight, "weight")
    if wa.ndim != 4:
        raise ValueError(f"weight must be 4-dimensional (C_out, C_in/groups, KH, KW), got shape {wa.shape}")
    ba = None if bias is None else to_numeric_array(bias, "bias")
    dtype = _float_dtype(xa, wa) if ba is None else _float_dtype(xa, wa, ba)
    g = check_int(groups, "groups", minimum=1)
    s = _pair(stride, "stride", 1)
    p = _pair(padding, "padding", 0)
    d = _pair(dilation, "dilation", 1)
    n, c_in, h, w = xa.shape
    c_out, cin_g, kh, kw = wa.shape
    if c_in % g:
        raise ValueError(f"x has {c_in} channels, which is not divisible by groups={g}")
    if c_out % g:
        raise ValueError(f"weight has {c_out} output channels, which is not divisible by groups={g}")
    if cin_g * g != c_in:
        raise ValueError(
            f"weight must have shape (C_out, C_in/groups, KH, KW) with C_in/groups = "
            f"{c_in}/{g} = {c_in // g}, got {wa.shape}"
        )
    if kh == 0 or kw == 0:
        raise ValueError(f"weight must have a non-empty kernel, got shape {wa.shape}")
    if ba is not None and ba.shape != (c_out,):
        raise ValueError(f"bias must have shape ({c_out},) to match weight, got {ba.shape}")
    oh, ow = conv2d_output_size((h, w), (kh, kw), s, p, d)
    padded = (n, c_in, h + 2 * p[0], w + 2 * p[1])
    check_dense_size(padded, f"input x padded by padding={p}")
    check_dense_size((n, c_out, oh, ow), "output of conv2d")
    xf = as_float_array(xa, "x", dtype=dtype)
    wf = as_float_array(wa, "weight", dtype=dtype)
    bf = np.zeros(c_out, dtype) if ba is None else as_float_array(ba, "bias", dtype=dtype)
    xp = np.zeros(padded, dtype)
    xp[:, :, p[0] : p[0] + h, p[1] : p[1] + w] = xf
    out = np.empty((n, c_out, oh, ow), dtype)
    counts = np.zeros(n * c_out, np.int64)
    s, d = _loop_steps((oh, ow), (kh, kw), s, d)
    _run(_conv2d, out.size * cin_g * kh * kw, xp, wf, bf, g, s[0], s[1], d[0], d[1], out, counts)
    return out, int(counts.sum())


def max_pool2d(
    x: ArrayLike,
    kernel: IntOrPair,
    stride: IntOrPair | None = None,
    padding: IntOrPair = 0,
    dilation: IntOrPair = 1,
    ceil_mode: bool = False,
) -> tuple[NDArray[np.floating[Any]], int]:
    """Direct 2-D max pooling that counts its comparisons.

    Parameters
    ----------
    x : array_like of shape (N, C, H, W)
        Input, finite.
    kernel, stride, padding, dilation, ceil_mode
        As in :func:`pool2d_output_size` (``stride=None`` means ``kernel``;
        ``padding <= kernel // 2``).

    Returns
    -------
    out : ndarray of shape (N, C, OH, OW)
        float32 for float32 input, else float64.
    comparisons : int
        Input elements compared with a window's running maximum, counted in the
        loop; equals ``N * C * pool2d_ops(...)``.

    Raises
    ------
    ValueError
        Wrong rank, out-of-range hyper-parameters, ``padding > kernel // 2``, a
        window larger than the padded input (see :func:`pool2d_output_size` for
        ``ceil_mode``), NaN/inf in ``x``, or a padded input or output too large
        for memory.
    TypeError
        Non-numeric input or non-integer hyper-parameters.

    Notes
    -----
    Padding acts as -inf: it is skipped, never read, and not counted. Each
    window's running maximum starts at -inf, so a window reading ``m`` elements
    makes ``m`` comparisons. A dilated window that covers only padding yields
    -inf, as in PyTorch. Parallel over ``(image, channel)`` planes.

    Examples
    --------
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> out, comparisons = max_pool2d(x, 2)
    >>> out[0, 0], comparisons
    (array([[ 5.,  7.],
           [13., 15.]]), 16)
    """
    xa = _as_nchw(x, "x")
    k = _pair(kernel, "kernel", 1)
    s = k if stride is None else _pair(stride, "stride", 1)
    p = _pair(padding, "padding", 0)
    d = _pair(dilation, "dilation", 1)
    oh, ow = pool2d_output_size(xa.shape[2:], k, s, p, d, ceil_mode)
    n, c = xa.shape[:2]
    check_dense_size((n, c, oh, ow), "output of max_pool2d")
    # the windows span the padded input: bounding it bounds kernel, padding and dilation
    check_dense_size((n, c, xa.shape[2] + 2 * p[0], xa.shape[3] + 2 * p[1]), f"input x padded by padding={p}")
    s, d = _loop_steps((oh, ow), k, s, d)
    xf = as_float_array(xa, "x", dtype=_float_dtype(xa))
    out = np.empty((n, c, oh, ow), xf.dtype)
    counts = np.zeros(n * c, np.int64)
    _run(_max_pool2d, out.size * k[0] * k[1], xf, k[0], k[1], s[0], s[1], p[0], p[1], d[0], d[1], out, counts)
    return out, int(counts.sum())


def avg_pool2d(
    x: ArrayLike,
    kernel: IntOrPair,
    stride: IntOrPair | None = None,
    padding: IntOrPair = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> tuple[NDArray[np.floating[Any]], int]:
    """Direct 2-D average pooling that counts its additions.

    Parameters
    ----------
    x : array_like of shape (N, C, H, W)
        Input, finite.
    kernel, stride, padding, ceil_mode
        As in :func:`pool2d_output_size` (no dilation, as ``torch.nn.AvgPool2d``).
    count_include_pad : bool, default True
        Divide by the window size including padding (PyTorch's default) or by
        the number of input elements in the window.

    Returns
    -------
    out : ndarray of shape (N, C, OH, OW)
        float32 for float32 input, else float64.
    additions : int
        Input elements added to a window sum, counted in the loop; equals
        ``N * C * pool2d_ops(...)``.

    Raises
    ------
    ValueError
        As :func:`max_pool2d`.
    TypeError
        As :func:`max_pool2d`.

    Notes
    -----
    Padding is never read (it would add zeros). As in PyTorch, with
    ``count_include_pad`` the divisor is the window clipped to the padded
    input, ``(min(h0 + kh, H + ph) - h0) * (min(w0 + kw, W + pw) - w0)``, so a
    ceil-mode window hanging past the right padding is not divided by the full
    kernel area. Sums accumulate in float64. Parallel over ``(image, channel)``.

    Examples
    --------
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> out, additions = avg_pool2d(x, 2)
    >>> out[0, 0], additions
    (array([[ 2.5,  4.5],
           [10.5, 12.5]]), 16)
    """
    xa = _as_nchw(x, "x")
    k = _pair(kernel, "kernel", 1)
    s = k if stride is None else _pair(stride, "stride", 1)
    p = _pair(padding, "padding", 0)
    include = check_bool(count_include_pad, "count_include_pad")
    oh, ow = pool2d_output_size(xa.shape[2:], k, s, p, 1, ceil_mode)
    n, c = xa.shape[:2]
    check_dense_size((n, c, oh, ow), "output of avg_pool2d")
    check_dense_size((n, c, xa.shape[2] + 2 * p[0], xa.shape[3] + 2 * p[1]), f"input x padded by padding={p}")
    s, _ = _loop_steps((oh, ow), k, s, (1, 1))
    xf = as_float_array(xa, "x", dtype=_float_dtype(xa))
    out = np.empty((n, c, oh, ow), xf.dtype)
    counts = np.zeros(n * c, np.int64)
    _run(_avg_pool2d, out.size * k[0] * k[1], xf, k[0], k[1], s[0], s[1], p[0], p[1], include, out, counts)
    return out, int(counts.sum())
