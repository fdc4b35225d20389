"""Built-in networks: torchvision's AlexNet, VGG-16, ResNet-18 and ResNet-50 as layer specs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastdet._validate import check_int
from fastdet.arch.layers import (
    AdaptiveAvgPool2d,
    BasicBlock,
    BatchNorm2d,
    Bottleneck,
    Conv2d,
    Dropout,
    Flatten,
    Layer,
    Linear,
    MaxPool2d,
    ReLU,
    Sequential,
)

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
