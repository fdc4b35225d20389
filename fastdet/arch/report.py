"""The one-layer report (the worked convolution example): closed forms beside a counted loop."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from fastdet._validate import check_bool, check_dense_size, check_int
from fastdet.arch.closed_forms import IntOrPair, Pair, _pair, conv2d_macs, conv2d_output_size, conv2d_params
from fastdet.arch.loops import conv2d


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
