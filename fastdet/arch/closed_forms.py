"""Closed forms with PyTorch's semantics: output sizes, parameters, MACs and FLOPs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from fastdet._validate import check_bool, check_int

IntOrPair = int | Sequence[int]
Pair = tuple[int, int]

# --------------------------------------------------------------------------------------
# private validation helpers (generic pair/bool checks that _validate.py does not have)
# --------------------------------------------------------------------------------------


def _pair(value: Any, name: str, minimum: int) -> Pair:
    """Return ``value`` (an int or a pair of ints, each ``>= minimum``) as a pair."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        v = check_int(value, name, minimum=minimum)
        return (v, v)
    if isinstance(value, np.ndarray) and value.ndim != 1:
        raise TypeError(f"{name} must be an int or a pair of ints, got an array of shape {value.shape}")
    if isinstance(value, (tuple, list, np.ndarray)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
        return (check_int(value[0], name, minimum=minimum), check_int(value[1], name, minimum=minimum))
    raise TypeError(f"{name} must be an int or a pair of ints, got {type(value).__name__}")


_AXES = ("height", "width")


def _conv_out_1d(size: int, k: int, s: int, p: int, d: int, axis: int) -> int:
    eff = d * (k - 1) + 1
    if size + 2 * p < eff:
        raise ValueError(
            f"kernel is larger than the padded input along {_AXES[axis]}: effective kernel "
            f"dilation*(kernel-1)+1 = {eff} > input {size} + 2*padding {p} = {size + 2 * p}"
        )
    return (size + 2 * p - eff) // s + 1


def _pool_out_1d(size: int, k: int, s: int, p: int, d: int, ceil_mode: bool, axis: int) -> int:
    if p > k // 2:
        raise ValueError(
            f"padding must be at most half the kernel for pooling (PyTorch's rule), got "
            f"padding {p} with kernel {k} along {_AXES[axis]}"
        )
    eff = d * (k - 1) + 1
    span = size + 2 * p - eff
    # ceil_mode keeps one partial window while the kernel exceeds the padded input by
    # less than the stride (ceil(span / s) + 1 >= 1), as PyTorch does
    if span < 0 and not (ceil_mode and span > -s):
        raise ValueError(
            f"kernel is larger than the padded input along {_AXES[axis]}: effective kernel "
            f"dilation*(kernel-1)+1 = {eff} > input {size} + 2*padding {p} = {size + 2 * p}"
        )
    if not ceil_mode:
        return span // s + 1
    out = -(-span // s) + 1
    # PyTorch: the last window must start inside the input or the left padding.
    if (out - 1) * s >= size + p:
        out -= 1
    return out


def _reads_1d(size: int, k: int, s: int, p: int, d: int, out: int) -> int:
    """Sum over the ``out`` windows of the taps that fall inside ``[0, size)``."""
    total = 0
    for o in range(out):
        start = o * s - p
        t_lo = (-start + d - 1) // d if start < 0 else 0  # first tap with start + t*d >= 0
        t_hi = min(k - 1, (size - 1 - start) // d)  # last tap with start + t*d <= size - 1
        total += max(0, t_hi - t_lo + 1)
    return total


def conv2d_output_size(
    input_size: IntOrPair,
    kernel: IntOrPair,
    stride: IntOrPair = 1,
    padding: IntOrPair = 0,
    dilation: IntOrPair = 1,
) -> Pair:
    """Output ``(height, width)`` of a 2-D convolution, as ``torch.nn.Conv2d`` computes it.

    Parameters
    ----------
    input_size : int or (int, int)
        Input height and width (an int means a square input).
    kernel : int or (int, int)
        Kernel height and width.
    stride : int or (int, int), default 1
        Step between windows, ``>= 1``.
    padding : int or (int, int), default 0
        Zeros added on each side, ``>= 0``.
    dilation : int or (int, int), default 1
        Spacing between kernel taps, ``>= 1``.

    Returns
    -------
    (int, int)
        Output height and width. Always a pair, even for int arguments.

    Raises
    ------
    ValueError
        If an argument is out of range (stride 0, negative padding, ...) or the
        dilated kernel is larger than the padded input.
    TypeError
        If an argument is not an int or a pair of ints.

    Notes
    -----
    Per axis, ``out = floor((in + 2*padding - dilation*(kernel-1) - 1) / stride) + 1``
    (PyTorch ``Conv2d`` documentation).

    Examples
    --------
    >>> conv2d_output_size(224, 3)             # no padding shrinks the map
    (222, 222)
    >>> conv2d_output_size(224, 3, padding=1)  # "same" size for a 3x3 kernel
    (224, 224)
    >>> conv2d_output_size((224, 100), 7, stride=2, padding=3)
    (112, 50)
    """
    size = _pair(input_size, "input_size", 1)
    k = _pair(kernel, "kernel", 1)
    s = _pair(stride, "stride", 1)
    p = _pair(padding, "padding", 0)
    d = _pair(dilation, "dilation", 1)
    return (
        _conv_out_1d(size[0], k[0], s[0], p[0], d[0], 0),
        _conv_out_1d(size[1], k[1], s[1], p[1], d[1], 1),
    )


def pool2d_output_size(
    input_size: IntOrPair,
    kernel: IntOrPair,
    stride: IntOrPair | None = None,
    padding: IntOrPair = 0,
    dilation: IntOrPair = 1,
    ceil_mode: bool = False,
) -> Pair:
    """Output ``(height, width)`` of max/average pooling, as ``torch.nn.MaxPool2d`` computes it.

    Parameters
    ----------
    input_size : int or (int, int)
        Input height and width.
    kernel : int or (int, int)
        Window height and width.
    stride : int or (int, int) or None, default None
        Step between windows; ``None`` means ``kernel`` (PyTorch's default).
    padding : int or (int, int), default 0
        Implicit padding on each side, at most ``kernel // 2`` (PyTorch's rule).
    dilation : int or (int, int), default 1
        Spacing between window taps (``MaxPool2d`` only; ``AvgPool2d`` has none).
    ceil_mode : bool, default False
        Round the window count up instead of down.

    Returns
    -------
    (int, int)
        Output height and width.

    Raises
    ------
    ValueError
        If an argument is out of range, ``padding > kernel // 2``, or the window
        is larger than the padded input (with ``ceil_mode``: by the stride or
        more, as PyTorch, which then keeps one partial window).
    TypeError
        If an argument has the wrong type.

    Notes
    -----
    Per axis, with ``span = in + 2*padding - dilation*(kernel-1) - 1``:
    ``out = floor(span / stride) + 1``, or with ``ceil_mode``
    ``out = ceil(span / stride) + 1``, minus one if that last window would start
    at or beyond ``in + padding`` (PyTorch's rule: the last window must start
    inside the input or the left padding; ``pooling_output_shape`` in ATen).

    Examples
    --------
    >>> pool2d_output_size(112, 3, stride=2, padding=1)   # ResNet's stem max-pool
    (56, 56)
    >>> pool2d_output_size(6, 3, stride=2), pool2d_output_size(6, 3, stride=2, ceil_mode=True)
    ((2, 2), (3, 3))
    >>> pool2d_output_size(5, 2, stride=2, padding=1, ceil_mode=True)   # last window dropped
    (3, 3)
    """
    size = _pair(input_size, "input_size", 1)
    k = _pair(kernel, "kernel", 1)
    s = k if stride is None else _pair(stride, "stride", 1)
    p = _pair(padding, "padding", 0)
    d = _pair(dilation, "dilation", 1)
    ceil = check_bool(ceil_mode, "ceil_mode")
    return (
        _pool_out_1d(size[0], k[0], s[0], p[0], d[0], ceil, 0),
        _pool_out_1d(size[1], k[1], s[1], p[1], d[1], ceil, 1),
    )


def pool2d_ops(
    input_size: IntOrPair,
    kernel: IntOrPair,
    stride: IntOrPair | None = None,
    padding: IntOrPair = 0,
    dilation: IntOrPair = 1,
    ceil_mode: bool = False,
) -> int:
    """Count the input elements a pooling loop reads for one ``(image, channel)`` plane.

    This is the operation count :func:`max_pool2d` (one comparison per element
    read) and :func:`avg_pool2d` (one addition per element read) report, per plane.

    Parameters
    ----------
    input_size, kernel, stride, padding, dilation, ceil_mode
        As in :func:`pool2d_output_size`.

    Returns
    -------
    int
        Window taps that land inside the input, summed over all output positions.
        Taps on padding are not read and not counted.

    Raises
    ------
    ValueError, TypeError
        As :func:`pool2d_output_size`.

    Notes
    -----
    Whether a tap is inside the input depends on the row and the column
    separately, so the count factorises:
    ``ops = (sum over output rows of the window rows inside the input)
    * (sum over output columns of the window columns inside the input)``.
    Without padding and without a ceil-mode overhang this is
    ``out_h * out_w * kernel_h * kernel_w``.

    Examples
    --------
    >>> pool2d_ops(4, 2)                  # 2x2 windows, 2x2 taps each
    16
    >>> pool2d_ops(3, 3, stride=1, padding=1)   # corners read 4 taps, edges 6, centre 9
    49
    """
    size = _pair(input_size, "input_size", 1)
    k = _pair(kernel, "kernel", 1)
    s = k if stride is None else _pair(stride, "stride", 1)
    p = _pair(padding, "padding", 0)
    d = _pair(dilation, "dilation", 1)
    out = pool2d_output_size(size, k, s, p, d, ceil_mode)
    rows = _reads_1d(size[0], k[0], s[0], p[0], d[0], out[0])
    cols = _reads_1d(size[1], k[1], s[1], p[1], d[1], out[1])
    return rows * cols


def _check_groups(c_in: int, c_out: int, groups: int) -> None:
    if c_in % groups:
        raise ValueError(f"c_in={c_in} must be divisible by groups={groups}")
    if c_out % groups:
        raise ValueError(f"c_out={c_out} must be divisible by groups={groups}")


def conv2d_params(c_in: int, c_out: int, kernel: IntOrPair, groups: int = 1, bias: bool = True) -> int:
    """Learnable parameters of a ``Conv2d(c_in, c_out, kernel, groups=groups, bias=bias)``.

    Parameters
    ----------
    c_in, c_out : int
        Input and output channels, both divisible by ``groups``.
    kernel : int or (int, int)
        Kernel height and width.
    groups : int, default 1
        Number of channel groups (``c_in`` for a depthwise convolution).
    bias : bool, default True
        Whether the layer has a bias (one per output channel).

    Returns
    -------
    int
        ``c_out * (c_in / groups) * kernel_h * kernel_w + (c_out if bias else 0)``.

    Raises
    ------
    ValueError
        If a count is below 1 or the channels are not divisible by ``groups``.

    Notes
    -----
    This is ``sum(p.numel() for p in torch.nn.Conv2d(...).parameters())``.

    Examples
    --------
    >>> conv2d_params(64, 128, 3)          # (3*3*64 + 1) * 128
    73856
    >>> conv2d_params(32, 32, 3, groups=32, bias=False)   # depthwise
    288
    """
    c_in = check_int(c_in, "c_in", minimum=1)
    c_out = check_int(c_out, "c_out", minimum=1)
    groups = check_int(groups, "groups", minimum=1)
    k = _pair(kernel, "kernel", 1)
    _check_groups(c_in, c_out, groups)
    has_bias = check_bool(bias, "bias")
    return c_out * (c_in // groups) * k[0] * k[1] + (c_out if has_bias else 0)


def conv2d_macs(c_in: int, c_out: int, kernel: IntOrPair, output_size: IntOrPair, groups: int = 1) -> int:
    """Multiply-adds (MACs) of one image through a 2-D convolution; bias not counted.

    Parameters
    ----------
    c_in, c_out : int
        Input and output channels, both divisible by ``groups``.
    kernel : int or (int, int)
        Kernel height and width.
    output_size : int or (int, int)
        Output height and width (see :func:`conv2d_output_size`).
    groups : int, default 1
        Number of channel groups.

    Returns
    -------
    int
        ``c_out * out_h * out_w * (c_in / groups) * kernel_h * kernel_w``: every
        kernel tap of every output element, taps on zero padding included.

    Raises
    ------
    ValueError
        If a count is below 1 or the channels are not divisible by ``groups``.

    Notes
    -----
    One MAC is one multiply-add; FLOPs = 2 x MACs (:func:`conv2d_flops`). fvcore,
    ptflops, thop and torchinfo report MACs; ``torch.utils.flop_counter`` reports
    FLOPs. The bias addition (``c_out * out_h * out_w`` adds) is not counted, as
    in those tools. :func:`conv2d` counts the same number by executing the loop.

    Examples
    --------
    >>> conv2d_macs(64, 128, 3, 224)
    3699376128
    """
    c_in = check_int(c_in, "c_in", minimum=1)
    c_out = check_int(c_out, "c_out", minimum=1)
    groups = check_int(groups, "groups", minimum=1)
    k = _pair(kernel, "kernel", 1)
    out = _pair(output_size, "output_size", 1)
    _check_groups(c_in, c_out, groups)
    return c_out * out[0] * out[1] * (c_in // groups) * k[0] * k[1]


def conv2d_flops(c_in: int, c_out: int, kernel: IntOrPair, output_size: IntOrPair, groups: int = 1) -> int:
    """FLOPs (= 2 x MACs) of one image through a 2-D convolution; bias not counted.

    Parameters
    ----------
    c_in, c_out, kernel, output_size, groups
        As in :func:`conv2d_macs`.

    Returns
    -------
    int
        ``2 * conv2d_macs(...)``: a multiply and an add per kernel tap.

    Raises
    ------
    ValueError
        As :func:`conv2d_macs`.

    Notes
    -----
    ``torch.utils.flop_counter.FlopCounterMode`` reports this number; fvcore,
    ptflops, thop and torchinfo report half of it (MACs).

    Examples
    --------
    >>> conv2d_flops(64, 128, 3, 224)    # 2 * (3*3*64) * 224*224 * 128
    7398752256
    """
    return 2 * conv2d_macs(c_in, c_out, kernel, output_size, groups)


def linear_params(in_features: int, out_features: int, bias: bool = True) -> int:
    """Learnable parameters of ``torch.nn.Linear(in_features, out_features, bias)``.

    Parameters
    ----------
    in_features, out_features : int
        Input and output sizes, ``>= 1``.
    bias : bool, default True
        Whether the layer has a bias.

    Returns
    -------
    int
        ``in_features * out_features + (out_features if bias else 0)``.

    Raises
    ------
    ValueError
        If a size is below 1.

    Examples
    --------
    >>> linear_params(512, 1000)
    513000
    """
    n_in = check_int(in_features, "in_features", minimum=1)
    n_out = check_int(out_features, "out_features", minimum=1)
    return n_in * n_out + (n_out if check_bool(bias, "bias") else 0)


def linear_macs(in_features: int, out_features: int) -> int:
    """Multiply-adds (MACs) of one sample through a linear layer; bias not counted.

    Parameters
    ----------
    in_features, out_features : int
        Input and output sizes, ``>= 1``.

    Returns
    -------
    int
        ``in_features * out_features``. FLOPs are twice this (:func:`linear_flops`).

    Raises
    ------
    ValueError
        If a size is below 1.

    Examples
    --------
    >>> linear_macs(4096, 1000)
    4096000
    """
    n_in = check_int(in_features, "in_features", minimum=1)
    n_out = check_int(out_features, "out_features", minimum=1)
    return n_in * n_out


def linear_flops(in_features: int, out_features: int) -> int:
    """FLOPs (= 2 x MACs) of one sample through a linear layer; bias not counted.

    Parameters
    ----------
    in_features, out_features : int
        Input and output sizes, ``>= 1``.

    Returns
    -------
    int
        ``2 * in_features * out_features``.

    Raises
    ------
    ValueError
        If a size is below 1.

    Examples
    --------
    >>> linear_flops(4096, 1000)
    8192000
    """
    return 2 * linear_macs(in_features, out_features)


def batchnorm2d_params(num_features: int) -> int:
    """Learnable parameters of ``torch.nn.BatchNorm2d(num_features)``: ``2 * C``.

    Parameters
    ----------
    num_features : int
        Channels ``C``, ``>= 1``.

    Returns
    -------
    int
        ``2 * C`` (the affine weight and bias). The running statistics are
        buffers, not parameters: see :func:`batchnorm2d_buffers`.

    Raises
    ------
    ValueError
        If ``num_features`` is below 1.

    Examples
    --------
    >>> batchnorm2d_params(64)
    128
    """
    return 2 * check_int(num_features, "num_features", minimum=1)


def batchnorm2d_buffers(num_features: int) -> int:
    """Elements of the buffers of ``torch.nn.BatchNorm2d(num_features)``: ``2 * C + 1``.

    Parameters
    ----------
    num_features : int
        Channels ``C``, ``>= 1``.

    Returns
    -------
    int
        ``running_mean`` (C) + ``running_var`` (C) + ``num_batches_tracked`` (1).
        Buffers are saved in a ``state_dict`` but are not learnable parameters.

    Raises
    ------
    ValueError
        If ``num_features`` is below 1.

    Examples
    --------
    >>> batchnorm2d_buffers(64)
    129
    """
    return 2 * check_int(num_features, "num_features", minimum=1) + 1
