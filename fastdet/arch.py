"""Layer arithmetic: output sizes, parameters, MACs/FLOPs and receptive fields.

Three layers of tools, each checking the next:

* **Closed forms** with PyTorch's semantics: :func:`conv2d_output_size`,
  :func:`pool2d_output_size`, :func:`conv2d_params`, :func:`conv2d_macs`,
  :func:`conv2d_flops`, :func:`linear_params`, :func:`linear_macs`,
  :func:`linear_flops`, :func:`batchnorm2d_params`, :func:`batchnorm2d_buffers`,
  :func:`pool2d_ops`, :func:`receptive_field` and :func:`conv2d_report`.
* **Direct loops** (Numba) that count what they do: :func:`conv2d`,
  :func:`max_pool2d` and :func:`avg_pool2d` return ``(output, count)``, the
  count being accumulated inside the loop, so the closed forms are checked by
  counting rather than restated.
* **Network summaries**: :func:`summary` walks small layer-spec dataclasses
  (:class:`Conv2d`, :class:`MaxPool2d`, ..., :class:`BasicBlock`,
  :class:`Bottleneck`) or a built-in torchvision architecture and reports, per
  layer, the output shape, parameters, MACs and receptive field.

MACs and FLOPs
--------------
One **MAC** is one multiply-add. **FLOPs = 2 x MACs** (a multiply and an add).
fastdet always names which one it reports. fvcore, ptflops, thop and
torchinfo ("mult-adds") count a multiply-add as one, i.e. they report MACs,
even where they call it "FLOPs"; ``torch.utils.flop_counter`` counts it as
two, i.e. FLOPs. torchvision's published "GFLOPS" column counts the
multiply-adds of convolution and linear layers, i.e. GMACs. Bias additions,
batch-norm, activations, pooling and residual additions are not counted in
MACs, following those tools.

Sizes are ``(height, width)``; arrays are NCHW; an ``int`` for a size, kernel,
stride, padding or dilation means the same value on both axes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fastdet._kernels.conv import _avg_pool2d, _conv2d, _max_pool2d
from fastdet._validate import as_float_array, check_bool, check_dense_size, check_int, to_numeric_array

__all__ = [
    "NETWORKS",
    "AdaptiveAvgPool2d",
    "AvgPool2d",
    "BasicBlock",
    "BatchNorm2d",
    "Bottleneck",
    "Conv2d",
    "ConvReport",
    "Dropout",
    "Flatten",
    "LayerSummary",
    "Linear",
    "MaxPool2d",
    "ReLU",
    "ReceptiveField",
    "Residual",
    "Sequential",
    "Summary",
    "avg_pool2d",
    "batchnorm2d_buffers",
    "batchnorm2d_params",
    "conv2d",
    "conv2d_flops",
    "conv2d_macs",
    "conv2d_output_size",
    "conv2d_params",
    "conv2d_report",
    "format_conv_report",
    "format_summary",
    "linear_flops",
    "linear_macs",
    "linear_params",
    "max_pool2d",
    "network",
    "pool2d_ops",
    "pool2d_output_size",
    "receptive_field",
    "summary",
]

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
    if span < 0:
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


# --------------------------------------------------------------------------------------
# closed forms
# --------------------------------------------------------------------------------------


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
        is larger than the padded input.
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


# --------------------------------------------------------------------------------------
# one-layer report (the worked example)
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConvReport:
    """Shape, parameters, MACs and FLOPs of one convolution (see :func:`conv2d_report`)."""

    c_in: int
    c_out: int
    kernel: Pair
    input_size: Pair
    stride: Pair
    padding: Pair
    dilation: Pair
    groups: int
    bias: bool
    output_size: Pair
    params: int
    macs: int
    flops: int
    #: MACs counted by executing :func:`conv2d` on one image, or None if not asked for.
    counted_macs: int | None = None


def conv2d_report(
    c_in: int,
    c_out: int,
    kernel: IntOrPair,
    input_size: IntOrPair,
    stride: IntOrPair = 1,
    padding: IntOrPair = 0,
    dilation: IntOrPair = 1,
    groups: int = 1,
    bias: bool = True,
    count: bool = False,
) -> ConvReport:
    """Answer the usual questions about one convolution layer on one image.

    Parameters
    ----------
    c_in, c_out : int
        Input and output channels, both divisible by ``groups``.
    kernel : int or (int, int)
        Kernel height and width.
    input_size : int or (int, int)
        Input height and width.
    stride, padding, dilation : int or (int, int)
        As in :func:`conv2d_output_size`.
    groups : int, default 1
        Number of channel groups.
    bias : bool, default True
        Whether the layer has a bias (it adds parameters, not MACs).
    count : bool, default False
        Also run the direct loop :func:`conv2d` on one zero image and record the
        multiply-adds it counted in ``counted_macs``. This executes every MAC
        (seconds for the worked example below).

    Returns
    -------
    ConvReport
        ``output_size``, ``params``, ``macs``, ``flops`` (= 2 x MACs) and, when
        ``count``, ``counted_macs``.

    Raises
    ------
    ValueError, TypeError
        As :func:`conv2d_output_size` and :func:`conv2d_params`.

    Notes
    -----
    The worked example: a 3x3 convolution from 64 to 128 channels on 224x224
    has ``(3*3*64 + 1) * 128 = 73,856`` parameters (577 * 128; the figure 73,792
    sometimes quoted for it is an arithmetic slip). Without padding its output
    is 222x222, not 224x224; ``padding=1`` keeps 224x224, and then
    FLOPs = ``2 * (3*3*64) * 224*224 * 128 = 7,398,752,256`` (about 7.4 G).
    Use :func:`format_conv_report` to print a report.

    Examples
    --------
    >>> r = conv2d_report(64, 128, 3, 224)
    >>> r.output_size, r.params
    ((222, 222), 73856)
    >>> r = conv2d_report(64, 128, 3, 224, padding=1)
    >>> r.output_size, r.macs, r.flops
    ((224, 224), 3699376128, 7398752256)
    >>> conv2d_report(4, 8, 3, 16, padding=1, count=True).counted_macs == 9 * 4 * 16 * 16 * 8
    True
    """
    c_in = check_int(c_in, "c_in", minimum=1)
    c_out = check_int(c_out, "c_out", minimum=1)
    groups = check_int(groups, "groups", minimum=1)
    k = _pair(kernel, "kernel", 1)
    size = _pair(input_size, "input_size", 1)
    s = _pair(stride, "stride", 1)
    p = _pair(padding, "padding", 0)
    d = _pair(dilation, "dilation", 1)
    has_bias = check_bool(bias, "bias")
    do_count = check_bool(count, "count")
    out = conv2d_output_size(size, k, s, p, d)
    params = conv2d_params(c_in, c_out, k, groups, has_bias)
    macs = conv2d_macs(c_in, c_out, k, out, groups)
    counted = None
    if do_count:
        check_dense_size((1, c_in, size[0], size[1]), "input image for count=True", 4)
        check_dense_size((c_out, c_in // groups, k[0], k[1]), "weight for count=True", 4)
        x = np.zeros((1, c_in, size[0], size[1]), np.float32)
        w = np.zeros((c_out, c_in // groups, k[0], k[1]), np.float32)
        _, counted = conv2d(x, w, None, s, p, d, groups)
    return ConvReport(c_in, c_out, k, size, s, p, d, groups, has_bias, out, params, macs, 2 * macs, counted)


def _xy(p: Sequence[Any]) -> str:
    return f"{p[0]}x{p[1]}"


def format_conv_report(report: ConvReport) -> str:
    """Format a :class:`ConvReport` as aligned text with thousands separators.

    Parameters
    ----------
    report : ConvReport
        From :func:`conv2d_report`.

    Returns
    -------
    str
        Several lines, no trailing newline.

    Examples
    --------
    >>> print(format_conv_report(conv2d_report(64, 128, 3, 224, padding=1)))
    Conv2d(64 -> 128, kernel 3x3, stride 1x1, padding 1x1, dilation 1x1, groups 1, bias)
    input size    224x224
    output size   224x224
    parameters    73,856  = (64/1 * 3*3 + 1) * 128
    MACs          3,699,376,128  multiply-adds (fvcore, ptflops, thop, torchinfo count these)
    FLOPs         7,398,752,256  = 2 x MACs (torch.utils.flop_counter counts these)
    """
    r = report
    bias = "bias" if r.bias else "no bias"
    lines = [
        f"Conv2d({r.c_in} -> {r.c_out}, kernel {_xy(r.kernel)}, stride {_xy(r.stride)}, "
        f"padding {_xy(r.padding)}, dilation {_xy(r.dilation)}, groups {r.groups}, {bias})",
        f"input size    {_xy(r.input_size)}",
        f"output size   {_xy(r.output_size)}",
        f"parameters    {r.params:,}  = ({r.c_in}/{r.groups} * {r.kernel[0]}*{r.kernel[1]}"
        f"{' + 1' if r.bias else ''}) * {r.c_out}",
        f"MACs          {r.macs:,}  multiply-adds (fvcore, ptflops, thop, torchinfo count these)",
        f"FLOPs         {r.flops:,}  = 2 x MACs (torch.utils.flop_counter counts these)",
    ]
    if r.counted_macs is not None:
        verdict = "agrees" if r.counted_macs == r.macs else "DISAGREES"
        lines.append(f"counted MACs  {r.counted_macs:,}  by the direct loop ({verdict})")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------
# direct loops
# --------------------------------------------------------------------------------------


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
    _conv2d(xp, wf, bf, g, s[0], s[1], d[0], d[1], out, counts)
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
        window larger than the padded input, NaN/inf in ``x``, or a padded input
        or output too large for memory.
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
    _max_pool2d(xf, k[0], k[1], s[0], s[1], p[0], p[1], d[0], d[1], out, counts)
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
    _avg_pool2d(xf, k[0], k[1], s[0], s[1], p[0], p[1], include, out, counts)
    return out, int(counts.sum())


# --------------------------------------------------------------------------------------
# receptive fields
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceptiveField:
    """Receptive field of one unit of a feature map, per axis ``(height, width)``.

    ``size`` is the extent in input pixels; ``jump`` the distance in input pixels
    between neighbouring units (the product of the strides so far); ``start``
    the input coordinate of the centre of the first unit's field, in index
    coordinates (input pixel ``i`` is centred at ``i``; add 0.5 for the
    convention where pixel ``i`` spans ``[i, i + 1]``). Unit ``u`` is centred at
    ``start + u * jump``. The field is the theoretical one: it counts padding
    positions and may extend past the image.
    """

    size: Pair
    jump: Pair
    start: tuple[float, float]


_RF_INPUT = ReceptiveField((1, 1), (1, 1), (0.0, 0.0))


def _rf_step(rf: ReceptiveField, k: Pair, s: Pair, p: Pair, d: Pair) -> ReceptiveField:
    eff = (d[0] * (k[0] - 1) + 1, d[1] * (k[1] - 1) + 1)
    return ReceptiveField(
        size=(rf.size[0] + (eff[0] - 1) * rf.jump[0], rf.size[1] + (eff[1] - 1) * rf.jump[1]),
        jump=(rf.jump[0] * s[0], rf.jump[1] * s[1]),
        start=(
            rf.start[0] + ((eff[0] - 1) / 2 - p[0]) * rf.jump[0],
            rf.start[1] + ((eff[1] - 1) / 2 - p[1]) * rf.jump[1],
        ),
    )


def _rf_union(a: ReceptiveField, b: ReceptiveField, where: str) -> ReceptiveField:
    if a.jump != b.jump:
        raise ValueError(f"{where}: the residual branches have different jumps {a.jump} and {b.jump}")
    size = []
    start = []
    for axis in (0, 1):
        lo = min(a.start[axis] - (a.size[axis] - 1) / 2, b.start[axis] - (b.size[axis] - 1) / 2)
        hi = max(a.start[axis] + (a.size[axis] - 1) / 2, b.start[axis] + (b.size[axis] - 1) / 2)
        size.append(round(hi - lo) + 1)
        start.append((lo + hi) / 2)
    return ReceptiveField((size[0], size[1]), a.jump, (start[0], start[1]))


# --------------------------------------------------------------------------------------
# layer specs
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Conv2d:
    """A ``torch.nn.Conv2d`` (same argument names and defaults)."""

    in_channels: int
    out_channels: int
    kernel_size: IntOrPair
    stride: IntOrPair = 1
    padding: IntOrPair = 0
    dilation: IntOrPair = 1
    groups: int = 1
    bias: bool = True

    def __post_init__(self) -> None:
        """Validate the fields."""
        conv2d_params(self.in_channels, self.out_channels, self.kernel_size, self.groups, self.bias)
        _pair(self.stride, "stride", 1)
        _pair(self.padding, "padding", 0)
        _pair(self.dilation, "dilation", 1)


@dataclass(frozen=True)
class MaxPool2d:
    """A ``torch.nn.MaxPool2d`` (``stride=None`` means ``kernel_size``)."""

    kernel_size: IntOrPair
    stride: IntOrPair | None = None
    padding: IntOrPair = 0
    dilation: IntOrPair = 1
    ceil_mode: bool = False

    def __post_init__(self) -> None:
        """Validate the fields."""
        k = _pair(self.kernel_size, "kernel_size", 1)
        if self.stride is not None:
            _pair(self.stride, "stride", 1)
        p = _pair(self.padding, "padding", 0)
        _pair(self.dilation, "dilation", 1)
        check_bool(self.ceil_mode, "ceil_mode")
        if p[0] > k[0] // 2 or p[1] > k[1] // 2:
            raise ValueError(f"padding must be at most half the kernel_size, got {self.padding}")


@dataclass(frozen=True)
class AvgPool2d:
    """A ``torch.nn.AvgPool2d`` (``stride=None`` means ``kernel_size``)."""

    kernel_size: IntOrPair
    stride: IntOrPair | None = None
    padding: IntOrPair = 0
    ceil_mode: bool = False
    count_include_pad: bool = True

    def __post_init__(self) -> None:
        """Validate the fields."""
        k = _pair(self.kernel_size, "kernel_size", 1)
        if self.stride is not None:
            _pair(self.stride, "stride", 1)
        p = _pair(self.padding, "padding", 0)
        check_bool(self.ceil_mode, "ceil_mode")
        check_bool(self.count_include_pad, "count_include_pad")
        if p[0] > k[0] // 2 or p[1] > k[1] // 2:
            raise ValueError(f"padding must be at most half the kernel_size, got {self.padding}")


@dataclass(frozen=True)
class BatchNorm2d:
    """A ``torch.nn.BatchNorm2d``: 2C parameters, 2C + 1 buffer elements, no MACs counted."""

    num_features: int

    def __post_init__(self) -> None:
        """Validate the fields."""
        check_int(self.num_features, "num_features", minimum=1)


@dataclass(frozen=True)
class ReLU:
    """A ``torch.nn.ReLU`` (no parameters, no MACs, any shape)."""


@dataclass(frozen=True)
class Dropout:
    """A ``torch.nn.Dropout`` (no parameters, no MACs, any shape)."""

    p: float = 0.5


@dataclass(frozen=True)
class Flatten:
    """``torch.flatten(x, 1)``: ``(C, H, W)`` becomes ``(C * H * W,)``; ends the receptive field."""


@dataclass(frozen=True)
class Linear:
    """A ``torch.nn.Linear`` on a flattened input."""

    in_features: int
    out_features: int
    bias: bool = True

    def __post_init__(self) -> None:
        """Validate the fields."""
        linear_params(self.in_features, self.out_features, self.bias)


@dataclass(frozen=True)
class AdaptiveAvgPool2d:
    """A ``torch.nn.AdaptiveAvgPool2d``.

    When the output size equals the input size it is the identity; when it
    divides the input size it is an average pool with ``kernel = stride =
    input / output``; output ``(1, 1)`` is global pooling, which (like any
    other size) ends the receptive field.
    """

    output_size: IntOrPair

    def __post_init__(self) -> None:
        """Validate the fields."""
        _pair(self.output_size, "output_size", 1)


@dataclass(frozen=True)
class Sequential:
    """Layers applied in order; items are layers or ``(name, layer)`` pairs (default names "0", "1", ...)."""

    layers: tuple[Any, ...]

    def __post_init__(self) -> None:
        """Validate the fields."""
        object.__setattr__(self, "layers", tuple(self.layers))


@dataclass(frozen=True)
class Residual:
    """``main(x) + shortcut(x)``; an empty ``shortcut`` is the identity.

    Its receptive field is the union of the two branches' fields (which, for
    torchvision's blocks, is the field of the longer, main path).
    """

    main: tuple[Any, ...]
    shortcut: tuple[Any, ...] = ()

    def __post_init__(self) -> None:
        """Validate the fields."""
        object.__setattr__(self, "main", tuple(self.main))
        object.__setattr__(self, "shortcut", tuple(self.shortcut))


@dataclass(frozen=True)
class BasicBlock:
    """torchvision's ResNet ``BasicBlock``: two 3x3 convolutions, stride in the first.

    ``downsample=None`` adds torchvision's 1x1 conv + BatchNorm shortcut exactly
    when ``stride != 1`` or ``inplanes != planes`` (as ``ResNet._make_layer``).
    """

    inplanes: int
    planes: int
    stride: int = 1
    downsample: bool | None = None

    expansion = 1

    def __post_init__(self) -> None:
        """Validate the fields."""
        check_int(self.inplanes, "inplanes", minimum=1)
        check_int(self.planes, "planes", minimum=1)
        check_int(self.stride, "stride", minimum=1)


@dataclass(frozen=True)
class Bottleneck:
    """torchvision's ResNet v1.5 ``Bottleneck``: 1x1, 3x3 (carrying the stride), 1x1 x4.

    ``width = int(planes * base_width / 64) * groups``; ``downsample=None`` adds
    the 1x1 conv + BatchNorm shortcut when ``stride != 1`` or ``inplanes !=
    4 * planes``. The original ResNet (v1) puts the stride in the first 1x1
    convolution instead, and TF-Slim's ``resnet_v1_50`` strides in the last
    unit of each stage rather than the first, so their receptive fields differ
    (483 for Slim's ResNet-50 in Araujo et al. 2019; 427 for torchvision's).
    """

    inplanes: int
    planes: int
    stride: int = 1
    downsample: bool | None = None
    groups: int = 1
    base_width: int = 64
    dilation: int = 1

    expansion = 4

    def __post_init__(self) -> None:
        """Validate the fields."""
        for name in ("inplanes", "planes", "stride", "groups", "base_width", "dilation"):
            check_int(getattr(self, name), name, minimum=1)


Layer = (
    Conv2d
    | MaxPool2d
    | AvgPool2d
    | BatchNorm2d
    | ReLU
    | Dropout
    | Flatten
    | Linear
    | AdaptiveAvgPool2d
    | Sequential
    | Residual
    | BasicBlock
    | Bottleneck
)
_CONTAINERS = (Sequential, Residual, BasicBlock, Bottleneck)
_LEAVES = (Conv2d, MaxPool2d, AvgPool2d, BatchNorm2d, ReLU, Dropout, Flatten, Linear, AdaptiveAvgPool2d)


def _named(items: Sequence[Any], prefix: str = "") -> list[tuple[str, Any]]:
    out = []
    for i, item in enumerate(items):
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
            name, layer = item
        else:
            name, layer = f"{prefix}{i}", item
        if not isinstance(layer, _CONTAINERS + _LEAVES):
            raise TypeError(f"layer {name!r} is not a fastdet.arch layer spec: {layer!r}")
        out.append((name, layer))
    return out


def _branches(
    block: Residual | BasicBlock | Bottleneck,
) -> tuple[list[tuple[str, Any]], list[tuple[str, Any]]]:
    """Return the named layers of the main path and of the shortcut of a residual block."""
    if isinstance(block, Residual):
        return _named(block.main), _named(block.shortcut, "shortcut.")
    out = block.planes * block.expansion
    main: list[tuple[str, Any]]
    if isinstance(block, BasicBlock):
        main = [
            ("conv1", Conv2d(block.inplanes, block.planes, 3, block.stride, 1, bias=False)),
            ("bn1", BatchNorm2d(block.planes)),
            ("relu", ReLU()),
            ("conv2", Conv2d(block.planes, block.planes, 3, 1, 1, bias=False)),
            ("bn2", BatchNorm2d(block.planes)),
        ]
    else:
        width = int(block.planes * (block.base_width / 64.0)) * block.groups
        main = [
            ("conv1", Conv2d(block.inplanes, width, 1, bias=False)),
            ("bn1", BatchNorm2d(width)),
            ("relu", ReLU()),
            (
                "conv2",
                Conv2d(
                    width, width, 3, block.stride, block.dilation, block.dilation, block.groups, bias=False
                ),
            ),
            ("bn2", BatchNorm2d(width)),
            ("relu", ReLU()),
            ("conv3", Conv2d(width, out, 1, bias=False)),
            ("bn3", BatchNorm2d(out)),
        ]
    need = block.stride != 1 or block.inplanes != out
    shortcut: list[tuple[str, Any]] = []
    if block.downsample or (block.downsample is None and need):
        shortcut = [
            (
                "downsample",
                Sequential(
                    (("0", Conv2d(block.inplanes, out, 1, block.stride, bias=False)), ("1", BatchNorm2d(out)))
                ),
            )
        ]
    return main, shortcut


def _spatial(layer: Any) -> tuple[Pair, Pair, Pair, Pair] | None:
    """Return (kernel, stride, padding, dilation) of a sliding-window layer, None otherwise."""
    if isinstance(layer, Conv2d):
        return (
            _pair(layer.kernel_size, "kernel_size", 1),
            _pair(layer.stride, "stride", 1),
            _pair(layer.padding, "padding", 0),
            _pair(layer.dilation, "dilation", 1),
        )
    if isinstance(layer, (MaxPool2d, AvgPool2d)):
        k = _pair(layer.kernel_size, "kernel_size", 1)
        s = k if layer.stride is None else _pair(layer.stride, "stride", 1)
        d = _pair(layer.dilation, "dilation", 1) if isinstance(layer, MaxPool2d) else (1, 1)
        return k, s, _pair(layer.padding, "padding", 0), d
    return None


def _rf_through(items: Sequence[Any], rf: ReceptiveField, where: str) -> ReceptiveField:
    for name, layer in _named(items):
        full = f"{where}{name}"
        if isinstance(layer, Sequential):
            rf = _rf_through(layer.layers, rf, full + ".")
        elif isinstance(layer, (Residual, BasicBlock, Bottleneck)):
            main, shortcut = _branches(layer)
            rf = _rf_union(_rf_through(main, rf, full + "."), _rf_through(shortcut, rf, full + "."), full)
        elif isinstance(layer, (Flatten, Linear, AdaptiveAvgPool2d)):
            raise ValueError(
                f"layers: {full!r} is a {type(layer).__name__}, which has no fixed receptive field; "
                "use summary(), which knows the input size"
            )
        else:
            geometry = _spatial(layer)
            if geometry is not None:
                rf = _rf_step(rf, *geometry)
    return rf


def receptive_field(layers: Sequence[Any]) -> ReceptiveField:
    """Receptive field size, jump and start after a stack of layers.

    Parameters
    ----------
    layers : sequence
        Layer specs (:class:`Conv2d`, :class:`MaxPool2d`, :class:`AvgPool2d`,
        :class:`BatchNorm2d`, :class:`ReLU`, :class:`Dropout`, containers and
        residual blocks) and/or tuples ``(kernel, stride[, padding[, dilation]])``
        of ints or pairs.

    Returns
    -------
    ReceptiveField
        ``size``, ``jump`` and ``start`` per axis ``(height, width)``.

    Raises
    ------
    ValueError
        For a layer without a fixed receptive field (:class:`Flatten`,
        :class:`Linear`, :class:`AdaptiveAvgPool2d`: use :func:`summary`), or
        out-of-range tuple values.
    TypeError
        For an item that is neither a layer spec nor a tuple.

    Notes
    -----
    Layer by layer, with the effective kernel ``k = dilation * (kernel - 1) + 1``
    (Araujo, Norris and Sim, "Computing Receptive Fields of Convolutional
    Neural Networks", Distill, 2019)::

        r_out = r_in + (k - 1) * j_in
        j_out = j_in * stride
        start_out = start_in + ((k - 1) / 2 - padding) * j_in

    starting from ``r = 1, j = 1, start = 0``. Unrolled,
    ``r = 1 + sum_l (k_l - 1) * prod_{i<l} stride_i``. A residual block's
    field is the union of its branches' fields; for torchvision's blocks
    that is the field of the main (longer) path. The field is theoretical:
    it includes padding positions.

    Examples
    --------
    >>> receptive_field([(3, 1, 1)] * 2).size      # two 3x3 convs see 5x5
    (5, 5)
    >>> rf = receptive_field([Conv2d(3, 64, 7, 2, 3), MaxPool2d(3, 2, 1)])   # ResNet stem
    >>> rf.size, rf.jump, rf.start
    ((11, 11), (4, 4), (0.0, 0.0))
    """
    items: list[Any] = []
    for i, item in enumerate(layers):
        if isinstance(item, tuple) and item and not isinstance(item[0], str):
            if not 2 <= len(item) <= 4:
                raise ValueError(f"layers[{i}] must be (kernel, stride[, padding[, dilation]]), got {item!r}")
            k = _pair(item[0], f"layers[{i}] kernel", 1)
            s = _pair(item[1], f"layers[{i}] stride", 1)
            p = _pair(item[2] if len(item) > 2 else 0, f"layers[{i}] padding", 0)
            d = _pair(item[3] if len(item) > 3 else 1, f"layers[{i}] dilation", 1)
            items.append((str(i), Conv2d(1, 1, k, s, p, d)))
        else:
            items.append(item)
    return _rf_through(items, _RF_INPUT, "")


# --------------------------------------------------------------------------------------
# summaries
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LayerSummary:
    """One row of a :class:`Summary`.

    ``params``, ``buffers`` and ``macs`` of a container (Sequential, residual
    block) are the sums over its leaves; ``macs`` counts convolution and
    linear multiply-adds only. ``receptive_field``, ``jump`` and ``start`` are
    per axis ``(height, width)`` (see :class:`ReceptiveField`), or None once the
    spatial structure is gone (after :class:`Flatten`, :class:`Linear`, global
    or non-uniform adaptive pooling).
    """

    name: str
    kind: str
    depth: int
    container: bool
    layer: Any
    output_shape: tuple[int, ...]
    params: int
    buffers: int
    macs: int
    receptive_field: Pair | None
    jump: Pair | None
    start: tuple[float, float] | None


@dataclass(frozen=True)
class Summary:
    """Result of :func:`summary`: the rows and the totals for one image.

    ``total_macs`` is conv + linear multiply-adds (``total_flops`` is twice
    that). ``receptive_field``/``jump``/``start`` are those of the last
    top-level layer that still has spatial extent (before flatten or global
    pooling), or None if there is none.
    """

    name: str | None
    input_shape: tuple[int, int, int]
    output_shape: tuple[int, ...]
    layers: tuple[LayerSummary, ...]
    total_params: int
    total_buffers: int
    total_macs: int
    receptive_field: Pair | None
    jump: Pair | None
    start: tuple[float, float] | None

    @property
    def total_flops(self) -> int:
        """``2 * total_macs``."""
        return 2 * self.total_macs


def _leaf(
    layer: Any, shape: tuple[int, ...], rf: ReceptiveField | None
) -> tuple[tuple[int, ...], int, int, int, ReceptiveField | None]:
    """Return (output shape, params, buffers, MACs, receptive field) of one leaf layer."""
    if isinstance(layer, (ReLU, Dropout)):
        return shape, 0, 0, 0, rf
    if isinstance(layer, Flatten):
        return (math.prod(shape),), 0, 0, 0, None
    if isinstance(layer, Linear):
        if len(shape) != 1:
            raise ValueError(f"Linear needs a flattened input (add Flatten()), got shape {shape}")
        if shape[0] != layer.in_features:
            raise ValueError(f"in_features={layer.in_features} but the input has {shape[0]} features")
        params = linear_params(layer.in_features, layer.out_features, layer.bias)
        return (layer.out_features,), params, 0, linear_macs(layer.in_features, layer.out_features), None
    if len(shape) != 3:
        raise ValueError(f"{type(layer).__name__} needs a (C, H, W) input, got shape {shape}")
    c, h, w = shape
    if isinstance(layer, BatchNorm2d):
        if c != layer.num_features:
            raise ValueError(f"num_features={layer.num_features} but the input has {c} channels")
        return shape, batchnorm2d_params(c), batchnorm2d_buffers(c), 0, rf
    if isinstance(layer, AdaptiveAvgPool2d):
        oh, ow = _pair(layer.output_size, "output_size", 1)
        if (oh, ow) == (1, 1):
            new_rf = None
        elif (oh, ow) == (h, w):
            new_rf = rf
        elif rf is not None and h % oh == 0 and w % ow == 0:
            k = (h // oh, w // ow)
            new_rf = _rf_step(rf, k, k, (0, 0), (1, 1))
        else:
            new_rf = None
        return (c, oh, ow), 0, 0, 0, new_rf
    geometry = _spatial(layer)
    if geometry is None:  # unreachable: every other leaf slides a window
        raise TypeError(f"unsupported layer {layer!r}")
    k, s, p, d = geometry
    new_rf = None if rf is None else _rf_step(rf, k, s, p, d)
    if isinstance(layer, Conv2d):
        if c != layer.in_channels:
            raise ValueError(f"in_channels={layer.in_channels} but the input has {c} channels")
        out = conv2d_output_size((h, w), k, s, p, d)
        params = conv2d_params(c, layer.out_channels, k, layer.groups, layer.bias)
        macs = conv2d_macs(c, layer.out_channels, k, out, layer.groups)
        return (layer.out_channels, *out), params, 0, macs, new_rf
    out = pool2d_output_size((h, w), k, s, p, d, layer.ceil_mode)
    return (c, *out), 0, 0, 0, new_rf


def _row(
    name: str,
    layer: Any,
    depth: int,
    container: bool,
    shape: tuple[int, ...],
    params: int,
    buffers: int,
    macs: int,
    rf: ReceptiveField | None,
) -> LayerSummary:
    return LayerSummary(
        name=name,
        kind=type(layer).__name__,
        depth=depth,
        container=container,
        layer=layer,
        output_shape=shape,
        params=params,
        buffers=buffers,
        macs=macs,
        receptive_field=None if rf is None else rf.size,
        jump=None if rf is None else rf.jump,
        start=None if rf is None else rf.start,
    )


def _walk(
    items: Sequence[Any],
    shape: tuple[int, ...],
    rf: ReceptiveField | None,
    prefix: str,
    depth: int,
    rows: list[LayerSummary],
) -> tuple[tuple[int, ...], ReceptiveField | None]:
    for name, layer in _named(items):
        full = f"{prefix}{name}"
        if isinstance(layer, _CONTAINERS):
            children: list[LayerSummary] = []
            if isinstance(layer, Sequential):
                out_shape, out_rf = _walk(layer.layers, shape, rf, full + ".", depth + 1, children)
            else:
                main, shortcut = _branches(layer)
                m_shape, m_rf = _walk(main, shape, rf, full + ".", depth + 1, children)
                s_shape, s_rf = _walk(shortcut, shape, rf, full + ".", depth + 1, children)
                if m_shape != s_shape:
                    raise ValueError(
                        f"layer {full!r} ({type(layer).__name__}): the main path gives shape "
                        f"{m_shape} but the shortcut gives {s_shape}"
                    )
                out_shape = m_shape
                out_rf = None if m_rf is None or s_rf is None else _rf_union(m_rf, s_rf, full)
            leaves = [r for r in children if not r.container]
            rows.append(
                _row(
                    full,
                    layer,
                    depth,
                    True,
                    out_shape,
                    sum(r.params for r in leaves),
                    sum(r.buffers for r in leaves),
                    sum(r.macs for r in leaves),
                    out_rf,
                )
            )
            rows.extend(children)
        else:
            try:
                out_shape, params, buffers, macs, out_rf = _leaf(layer, shape, rf)
            except ValueError as exc:
                raise ValueError(f"layer {full!r} ({type(layer).__name__}): {exc}") from None
            rows.append(_row(full, layer, depth, False, out_shape, params, buffers, macs, out_rf))
        shape, rf = out_shape, out_rf
    return shape, rf


NETWORKS = ("alexnet", "vgg16", "resnet18", "resnet50")


def _alexnet(num_classes: int) -> list[tuple[str, Any]]:
    features = Sequential(
        (
            Conv2d(3, 64, 11, 4, 2),
            ReLU(),
            MaxPool2d(3, 2),
            Conv2d(64, 192, 5, padding=2),
            ReLU(),
            MaxPool2d(3, 2),
            Conv2d(192, 384, 3, padding=1),
            ReLU(),
            Conv2d(384, 256, 3, padding=1),
            ReLU(),
            Conv2d(256, 256, 3, padding=1),
            ReLU(),
            MaxPool2d(3, 2),
        )
    )
    classifier = Sequential(
        (
            Dropout(0.5),
            Linear(256 * 6 * 6, 4096),
            ReLU(),
            Dropout(0.5),
            Linear(4096, 4096),
            ReLU(),
            Linear(4096, num_classes),
        )
    )
    return [
        ("features", features),
        ("avgpool", AdaptiveAvgPool2d((6, 6))),
        ("flatten", Flatten()),
        ("classifier", classifier),
    ]


def _vgg16(num_classes: int) -> list[tuple[str, Any]]:
    cfg = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]
    layers: list[Any] = []
    c = 3
    for v in cfg:
        if isinstance(v, int):
            layers += [Conv2d(c, v, 3, padding=1), ReLU()]
            c = v
        else:  # "M"
            layers.append(MaxPool2d(2, 2))
    classifier = Sequential(
        (
            Linear(512 * 7 * 7, 4096),
            ReLU(),
            Dropout(0.5),
            Linear(4096, 4096),
            ReLU(),
            Dropout(0.5),
            Linear(4096, num_classes),
        )
    )
    return [
        ("features", Sequential(tuple(layers))),
        ("avgpool", AdaptiveAvgPool2d((7, 7))),
        ("flatten", Flatten()),
        ("classifier", classifier),
    ]


def _resnet(
    block: type[BasicBlock] | type[Bottleneck], depths: Sequence[int], num_classes: int
) -> list[tuple[str, Any]]:
    net: list[tuple[str, Any]] = [
        ("conv1", Conv2d(3, 64, 7, 2, 3, bias=False)),
        ("bn1", BatchNorm2d(64)),
        ("relu", ReLU()),
        ("maxpool", MaxPool2d(3, 2, 1)),
    ]
    inplanes = 64
    for stage, (planes, n_blocks) in enumerate(zip((64, 128, 256, 512), depths, strict=True)):
        blocks = []
        for b in range(n_blocks):
            stride = 2 if stage > 0 and b == 0 else 1
            blocks.append(block(inplanes, planes, stride))
            inplanes = planes * block.expansion
        net.append((f"layer{stage + 1}", Sequential(tuple(blocks))))
    net += [
        ("avgpool", AdaptiveAvgPool2d((1, 1))),
        ("flatten", Flatten()),
        ("fc", Linear(512 * block.expansion, num_classes)),
    ]
    return net


def network(name: str, num_classes: int = 1000) -> tuple[tuple[str, Layer], ...]:
    """Return the layer specs of a built-in torchvision architecture.

    Parameters
    ----------
    name : {"alexnet", "vgg16", "resnet18", "resnet50"}
        torchvision's ``alexnet``, ``vgg16`` (no batch norm), ``resnet18`` and
        ``resnet50`` (v1.5: stride in the 3x3 convolution of the bottleneck).
    num_classes : int, default 1000
        Outputs of the last linear layer.

    Returns
    -------
    tuple of (str, layer)
        Top-level ``(name, layer)`` pairs, named as torchvision's modules, plus a
        ``"flatten"`` step for the ``torch.flatten(x, 1)`` in ``forward``.

    Raises
    ------
    ValueError
        For an unknown name or ``num_classes < 1``.

    Examples
    --------
    >>> [name for name, _ in network("resnet18")]
    ['conv1', 'bn1', 'relu', 'maxpool', 'layer1', 'layer2', 'layer3', 'layer4', 'avgpool', 'flatten', 'fc']
    """
    if not isinstance(name, str) or name.lower() not in NETWORKS:
        raise ValueError(f"name must be one of {', '.join(map(repr, NETWORKS))}; got {name!r}")
    n = check_int(num_classes, "num_classes", minimum=1)
    key = name.lower()
    if key == "alexnet":
        return tuple(_alexnet(n))
    if key == "vgg16":
        return tuple(_vgg16(n))
    if key == "resnet18":
        return tuple(_resnet(BasicBlock, (2, 2, 2, 2), n))
    return tuple(_resnet(Bottleneck, (3, 4, 6, 3), n))


def _input_shape(value: Any) -> tuple[int, int, int]:
    if isinstance(value, str):
        parts = value.lower().split("x")
        try:
            value = tuple(int(v) for v in parts)
        except ValueError:
            raise ValueError(
                f"input_shape must look like 'CxHxW' (e.g. '3x224x224'), got {value!r}"
            ) from None
    if not isinstance(value, (tuple, list)) or len(value) != 3:
        raise ValueError(f"input_shape must be (C, H, W), got {value!r}")
    c, h, w = (check_int(v, "input_shape", minimum=1) for v in value)
    return (c, h, w)


def summary(
    layers_or_name: str | Sequence[Any] | Sequential, input_shape: Sequence[int] | str = (3, 224, 224)
) -> Summary:
    """Per-layer output shapes, parameters, MACs and receptive fields of a network.

    Parameters
    ----------
    layers_or_name : str or sequence of layers
        A built-in name (``"alexnet"``, ``"vgg16"``, ``"resnet18"``,
        ``"resnet50"``; see :func:`network`) or a sequence of layer specs
        (:class:`Conv2d`, :class:`MaxPool2d`, :class:`AvgPool2d`,
        :class:`BatchNorm2d`, :class:`ReLU`, :class:`Dropout`, :class:`Flatten`,
        :class:`Linear`, :class:`AdaptiveAvgPool2d`, :class:`Sequential`,
        :class:`Residual`, :class:`BasicBlock`, :class:`Bottleneck`), each
        optionally as a ``(name, layer)`` pair.
    input_shape : (int, int, int) or str, default (3, 224, 224)
        ``(C, H, W)`` of one image (no batch axis), or a string like ``"3x224x224"``.

    Returns
    -------
    Summary
        ``layers`` (one :class:`LayerSummary` per layer, containers first and
        then their children, depth-first), ``total_params``, ``total_buffers``,
        ``total_macs`` (conv + linear multiply-adds for one image),
        ``total_flops`` (= 2 x MACs), and the ``receptive_field``, ``jump`` and
        ``start`` of the last top-level layer with spatial extent.

    Raises
    ------
    ValueError
        For an unknown name, a bad ``input_shape``, or a layer that does not fit
        its input (channel mismatch, kernel larger than the map, residual branches
        of different shapes); the message names the layer.
    TypeError
        For an item that is not a layer spec.

    Notes
    -----
    Parameters match ``sum(p.numel() for p in model.parameters())``; buffers
    (BatchNorm running statistics and ``num_batches_tracked``) are reported
    separately. MACs count convolution and linear multiply-adds only, as
    torchvision's published "GFLOPS" column does (AlexNet 0.71, VGG-16 15.47,
    ResNet-18 1.81, ResNet-50 4.09 at 3x224x224). Receptive fields follow the
    recursion in :func:`receptive_field`; a residual block's field is the union
    of its branches, i.e. its main path for torchvision's blocks. VGG-16's last
    pooling layer sees 212 pixels (Araujo et al., Distill 2019);
    torchvision's ResNet-50 sees 427, not the 483 of TF-Slim's
    ``resnet_v1_50`` in that paper, because Slim strides in the last unit of
    each stage instead of the first.

    Examples
    --------
    >>> s = summary("vgg16")
    >>> s.total_params, s.total_macs, s.receptive_field
    (138357544, 15470264320, (212, 212))
    >>> s = summary([Conv2d(3, 8, 3, padding=1), ReLU(), MaxPool2d(2)], (3, 32, 32))
    >>> s.output_shape, s.total_params, s.total_macs, s.receptive_field
    ((8, 16, 16), 224, 221184, (4, 4))
    """
    if isinstance(layers_or_name, str):
        name: str | None = layers_or_name.lower()
        items: Sequence[Any] = network(layers_or_name)
    else:
        name = None
        if not isinstance(layers_or_name, (list, tuple, Sequential)):
            raise TypeError(
                f"layers_or_name must be a network name or a sequence of layers, got "
                f"{type(layers_or_name).__name__}"
            )
        items = [layers_or_name] if isinstance(layers_or_name, Sequential) else list(layers_or_name)
    shape = _input_shape(input_shape)
    rows: list[LayerSummary] = []
    out_shape, _ = _walk(items, shape, _RF_INPUT, "", 0, rows)
    leaves = [r for r in rows if not r.container]
    last = next((r for r in reversed(rows) if r.depth == 0 and r.receptive_field is not None), None)
    return Summary(
        name=name,
        input_shape=shape,
        output_shape=out_shape,
        layers=tuple(rows),
        total_params=sum(r.params for r in leaves),
        total_buffers=sum(r.buffers for r in leaves),
        total_macs=sum(r.macs for r in leaves),
        receptive_field=None if last is None else last.receptive_field,
        jump=None if last is None else last.jump,
        start=None if last is None else last.start,
    )


def _fmt_pair(p: Sequence[Any] | None) -> str:
    if p is None:
        return "-"
    a, b = (f"{v:g}" if isinstance(v, float) else f"{v:,}" for v in p)
    return a if a == b else f"{a}x{b}"


def _fmt_giga(n: int) -> str:
    return f"{n / 1e9:.2f} G" if n >= 1e8 else f"{n / 1e6:.2f} M"


def format_summary(result: Summary, max_depth: int | None = None) -> str:
    """Format a :class:`Summary` as a text table with thousands separators.

    Parameters
    ----------
    result : Summary
        From :func:`summary`.
    max_depth : int, optional
        Show rows only down to this nesting depth (0 = top level); totals are
        unaffected.

    Returns
    -------
    str
        The table, then the totals, no trailing newline. "RF" is the receptive
        field size, "jump" the effective stride and "start" the centre of the
        first unit's field (one number when height and width agree).

    Examples
    --------
    >>> s = summary([Conv2d(3, 8, 3, padding=1), ReLU(), MaxPool2d(2)], "3x32x32")
    >>> print(format_summary(s))
    layer         output shape  params     MACs  RF  jump  start
    0: Conv2d          8x32x32     224  221,184   3     1      0
    1: ReLU            8x32x32       0        0   3     1      0
    2: MaxPool2d       8x16x16       0        0   4     2    0.5
    <BLANKLINE>
    input shape      3x32x32
    output shape     8x16x16
    parameters       224
    buffers          0  (BatchNorm running statistics, not learnable)
    MACs             221,184  (0.22 M multiply-adds: conv + linear, one image)
    FLOPs            442,368  (= 2 x MACs)
    receptive field  4  (jump 2, start 0.5)
    """
    header = ("layer", "output shape", "params", "MACs", "RF", "jump", "start")
    table = []
    for r in result.layers:
        if max_depth is not None and r.depth > max_depth:
            continue
        table.append(
            (
                "  " * r.depth + f"{r.name}: {r.kind}",
                "x".join(str(v) for v in r.output_shape),
                f"{r.params:,}",
                f"{r.macs:,}",
                _fmt_pair(r.receptive_field),
                _fmt_pair(r.jump),
                _fmt_pair(r.start),
            )
        )
    widths = [max(len(row[i]) for row in (header, *table)) for i in range(7)]
    lines = []
    for row in (header, *table):
        cells = [row[0].ljust(widths[0])] + [row[i].rjust(widths[i]) for i in range(1, 7)]
        lines.append("  ".join(cells).rstrip())
    lines.append("")
    lines.append(f"input shape      {'x'.join(map(str, result.input_shape))}")
    lines.append(f"output shape     {'x'.join(map(str, result.output_shape))}")
    lines.append(f"parameters       {result.total_params:,}")
    lines.append(f"buffers          {result.total_buffers:,}  (BatchNorm running statistics, not learnable)")
    lines.append(
        f"MACs             {result.total_macs:,}  ({_fmt_giga(result.total_macs)} multiply-adds: "
        "conv + linear, one image)"
    )
    lines.append(f"FLOPs            {result.total_flops:,}  (= 2 x MACs)")
    if result.receptive_field is None:
        lines.append("receptive field  -")
    else:
        lines.append(
            f"receptive field  {_fmt_pair(result.receptive_field)}  (jump {_fmt_pair(result.jump)}, "
            f"start {_fmt_pair(result.start)})"
        )
    return "\n".join(lines)
