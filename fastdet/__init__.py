"""fastdet: Numba-fast, peer-exact tools for what happens after an object detector runs.

The public API is re-exported here. Modules: ``fastdet.boxes``, ``fastdet.nms``,
``fastdet.coco``, ``fastdet.voc``, ``fastdet.metrics``, ``fastdet.losses``,
``fastdet.arch`` (whose layer-spec classes such as ``arch.Conv2d`` stay in that
module), ``fastdet.analysis`` (TIDE error analysis, detection confusion matrix), ``fastdet.lvis``
(LVIS's federated evaluation).
"""

from importlib.metadata import PackageNotFoundError, version

from fastdet import analysis, arch, coco, lvis, voc
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
from fastdet.nms import batched_nms, multiclass_nms, nms, postprocess_detections, soft_nms
from fastdet.voc import voc_ap

try:
    __version__ = version("fastdet")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

__all__ = [
    "COCO",
    "COCOeval",
    "CocoEvalResult",
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
    "distance_box_iou",
    "evaluate_coco",
    "evaluate_lvis",
    "generalized_box_iou",
    "l1_loss",
    "linear_flops",
    "linear_macs",
    "linear_params",
    "lvis",
    "max_pool2d",
    "mse_loss",
    "multiclass_nms",
    "nms",
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
    "summary",
    "voc",
    "voc_ap",
]
