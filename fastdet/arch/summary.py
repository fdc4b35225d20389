"""Per-layer network summaries: output shapes, parameters, MACs and receptive fields."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fastdet._validate import check_int
from fastdet.arch.closed_forms import (
    Pair,
    _pair,
    batchnorm2d_buffers,
    batchnorm2d_params,
    conv2d_macs,
    conv2d_output_size,
    conv2d_params,
    linear_macs,
    linear_params,
    pool2d_output_size,
)
from fastdet.arch.layers import (
    _CONTAINERS,
    _RF_INPUT,
    AdaptiveAvgPool2d,
    BatchNorm2d,
    Conv2d,
    Dropout,
    Flatten,
    Linear,
    ReceptiveField,
    ReLU,
    Sequential,
    _branches,
    _named,
    _rf_step,
    _rf_union,
    _spatial,
)
from fastdet.arch.networks import network


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
    >>> from fastdet.arch import Conv2d, MaxPool2d, ReLU
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
    >>> from fastdet.arch import Conv2d, MaxPool2d, ReLU
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
