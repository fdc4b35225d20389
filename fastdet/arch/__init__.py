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
stride, padding or dilation means the same value on both ax

The package's parts: :mod:`~fastdet.arch.closed_forms`, :mod:`~fastdet.arch.loops`,
:mod:`~fastdet.arch.report`, :mod:`~fastdet.arch.layers`, :mod:`~fastdet.arch.networks`
and :mod:`~fastdet.arch.summary`; every public name is importable from ``fastdet.arch``.
"""

from __future__ import annotations

from fastdet.arch.closed_forms import (
    batchnorm2d_buffers,
    batchnorm2d_params,
    conv2d_flops,
    conv2d_macs,
    conv2d_output_size,
    conv2d_params,
    linear_flops,
    linear_macs,
    linear_params,
    pool2d_ops,
    pool2d_output_size,
)
from fastdet.arch.layers import (
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
    ReceptiveField,
    ReLU,
    Residual,
    Sequential,
    receptive_field,
)
from fastdet.arch.loops import avg_pool2d, conv2d, max_pool2d
from fastdet.arch.networks import NETWORKS, network
from fastdet.arch.report import ConvReport, conv2d_report, format_conv_report
from fastdet.arch.summary import LayerSummary, Summary, format_summary, summary

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
