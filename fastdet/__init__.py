"""fastdet: Numba-fast, peer-exact tools for what happens after an object detector runs.

The public API is re-exported here. Modules: ``fastdet.boxes``, ``fastdet.nms``,
``fastdet.fusion`` (ensemble-boxes' box fusion; its multi-model ``nms`` and
``soft_nms`` stay in that module), ``fastdet.coco``, ``fastdet.mask``
(pycocotools.mask's API), ``fastdet.lvis`` (lvis-api's federated evaluation),
``fastdet.voc``, ``fastdet.metrics``, ``fastdet.losses``, ``fastdet.arch`` (whose
layer-spec classes such as ``arch.Conv2d`` stay in that module),
``fastdet.analysis`` (TIDE error analysis, detection confusion matrix),
``fastdet.streaming`` (``MeanAveragePrecision``: torchmetrics' streaming COCO mAP)
and ``fastdet.dask`` (sharded COCO evaluation on a Dask cluster; needs the
``dask`` extra only when called).

Submodules are imported on first use of one of their names (PEP 562), so that
``import fastdet`` costs little more than importing NumPy and Numba; the NMS
family is imported at once because the name ``fastdet.nms`` is both a module
and a function. To add a public name: add it to ``_LAZY`` (name -> module), to
the ``TYPE_CHECKING`` imports and to ``__all__``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from fastdet.nms import (
    batched_nms,
    diou_nms,
    matrix_nms,
    multiclass_nms,
    nms,
    postprocess_detections,
    soft_nms,
)

if TYPE_CHECKING:
    from fastdet import analysis, arch, coco, dask, fusion, lvis, mask, streaming, voc
    from fastdet._kernels import CacheWarning
    from fastdet._warmup import warmup
    from fastdet.arch import (
        avg_pool2d,
        batchnorm2d_buffers,
        batchnorm2d_params,
        conv2d,
        conv2d_flops,
        conv2d_macs,
        conv2d_output_size,
        conv2d_params,
        conv2d_report,
        linear_flops,
        linear_macs,
        linear_params,
        max_pool2d,
        pool2d_output_size,
        receptive_field,
        summary,
    )
    from fastdet.boxes import (
        box_area,
        box_convert,
        box_iou,
        clip_boxes_to_image,
        complete_box_iou,
        distance_box_iou,
        generalized_box_iou,
        remove_small_boxes,
    )
    from fastdet.coco import COCO, COCOeval, CocoEvalResult, evaluate_coco
    from fastdet.fusion import non_maximum_weighted, weighted_boxes_fusion
    from fastdet.losses import l1_loss, mse_loss, sigmoid_focal_loss, smooth_l1_loss
    from fastdet.lvis import evaluate_lvis
    from fastdet.metrics import (
        UndefinedMetricWarning,
        accuracy,
        average_precision,
        confusion_matrix,
        precision_recall_curve,
        precision_recall_f1,
        roc_auc,
        roc_curve,
    )
    from fastdet.streaming import MeanAveragePrecision
    from fastdet.voc import voc_ap

    __version__: str

# public name -> the module that defines it (a module itself when the name is the module's)
_LAZY = {
    "analysis": "fastdet.analysis",
    "arch": "fastdet.arch",
    "coco": "fastdet.coco",
    "dask": "fastdet.dask",
    "fusion": "fastdet.fusion",
    "lvis": "fastdet.lvis",
    "evaluate_lvis": "fastdet.lvis",
    "mask": "fastdet.mask",
    "streaming": "fastdet.streaming",
    "voc": "fastdet.voc",
    **dict.fromkeys(
        [
            "avg_pool2d",
            "batchnorm2d_buffers",
            "batchnorm2d_params",
            "conv2d",
            "conv2d_flops",
            "conv2d_macs",
            "conv2d_output_size",
            "conv2d_params",
            "conv2d_report",
            "linear_flops",
            "linear_macs",
            "linear_params",
            "max_pool2d",
            "pool2d_output_size",
            "receptive_field",
            "summary",
        ],
        "fastdet.arch",
    ),
    **dict.fromkeys(
        [
            "box_area",
            "box_convert",
            "box_iou",
            "clip_boxes_to_image",
            "complete_box_iou",
            "distance_box_iou",
            "generalized_box_iou",
            "remove_small_boxes",
        ],
        "fastdet.boxes",
    ),
    **dict.fromkeys(["COCO", "COCOeval", "CocoEvalResult", "evaluate_coco"], "fastdet.coco"),
    **dict.fromkeys(["l1_loss", "mse_loss", "sigmoid_focal_loss", "smooth_l1_loss"], "fastdet.losses"),
    **dict.fromkeys(
        [
            "UndefinedMetricWarning",
            "accuracy",
            "average_precision",
            "confusion_matrix",
            "precision_recall_curve",
            "precision_recall_f1",
            "roc_auc",
            "roc_curve",
        ],
        "fastdet.metrics",
    ),
    "voc_ap": "fastdet.voc",
    **dict.fromkeys(["non_maximum_weighted", "weighted_boxes_fusion"], "fastdet.fusion"),
    "MeanAveragePrecision": "fastdet.streaming",
    "CacheWarning": "fastdet._kernels",
    "warmup": "fastdet._warmup",
}


def __getattr__(name: str) -> Any:
    """Import the submodule that defines ``name`` on first use (PEP 562)."""
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            value: Any = version("fastdet")
        except PackageNotFoundError:  # running from a source tree that was never installed
            value = "0.0.0"
    elif name in _LAZY:
        module = importlib.import_module(_LAZY[name])
        value = module if module.__name__ == f"{__name__}.{name}" else getattr(module, name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "COCO",
    "COCOeval",
    "CacheWarning",
    "CocoEvalResult",
    "MeanAveragePrecision",
    "UndefinedMetricWarning",
    "__version__",
    "accuracy",
    "analysis",
    "arch",
    "average_precision",
    "avg_pool2d",
    "batched_nms",
    "batchnorm2d_buffers",
    "batchnorm2d_params",
    "box_area",
    "box_convert",
    "box_iou",
    "clip_boxes_to_image",
    "coco",
    "complete_box_iou",
    "confusion_matrix",
    "conv2d",
    "conv2d_flops",
    "conv2d_macs",
    "conv2d_output_size",
    "conv2d_params",
    "conv2d_report",
    "dask",
    "diou_nms",
    "distance_box_iou",
    "evaluate_coco",
    "evaluate_lvis",
    "fusion",
    "generalized_box_iou",
    "l1_loss",
    "linear_flops",
    "linear_macs",
    "linear_params",
    "lvis",
    "mask",
    "matrix_nms",
    "max_pool2d",
    "mse_loss",
    "multiclass_nms",
    "nms",
    "non_maximum_weighted",
    "pool2d_output_size",
    "postprocess_detections",
    "precision_recall_curve",
    "precision_recall_f1",
    "receptive_field",
    "remove_small_boxes",
    "roc_auc",
    "roc_curve",
    "sigmoid_focal_loss",
    "smooth_l1_loss",
    "soft_nms",
    "streaming",
    "summary",
    "voc",
    "voc_ap",
    "warmup",
    "weighted_boxes_fusion",
]
