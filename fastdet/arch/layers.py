"""Layer-spec dataclasses and receptive fields."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fastdet._validate import check_bool, check_int
from fastdet.arch.closed_forms import IntOrPair, Pair, _pair, conv2d_params, linear_params


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
