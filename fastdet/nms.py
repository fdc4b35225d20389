"""Non-maximum suppression: greedy, per class, soft, multi-class and whole-batch post-processing.

Boxes are ``(N, 4)`` xyxy arrays. Every function here suppresses a box when its
IoU with a kept box is **strictly greater** than ``iou_threshold`` (torchvision
wording), computes that IoU as torchvision.ops.nms does (``inter / (area_i +
area_j - inter)`` in float32 when the boxes and scores are float32, else in
float64), gives zero-area boxes IoU 0 with everything (so they neither suppress
nor get suppressed), and breaks score ties by the lower input index.

The implementation lives in private sibling modules (``fastdet._nms_core``:
helpers, ``nms``, ``batched_nms``, ``soft_nms``, ``multiclass_nms``;
``fastdet._nms_post``: ``postprocess_detections``, ``nms_coco_results``;
``fastdet._nms_variants``: ``diou_nms``, ``matrix_nms``); every public name is
imported here, so ``from fastdet.nms import X`` and ``fastdet.X`` are unchanged.
"""

from __future__ import annotations

from fastdet._nms_core import (
    batched_nms,
    multiclass_nms,
    nms,
    soft_nms,
)
from fastdet._nms_post import nms_coco_results, postprocess_detections
from fastdet._nms_variants import diou_nms, matrix_nms

__all__ = [
    "batched_nms",
    "diou_nms",
    "matrix_nms",
    "multiclass_nms",
    "nms",
    "nms_coco_results",
    "postprocess_detections",
    "soft_nms",
]

for _f in (batched_nms, diou_nms, matrix_nms, multiclass_nms, nms, nms_coco_results, postprocess_detections,
           soft_nms):  # fmt: skip
    _f.__module__ = __name__  # documented (and shown in reprs) as fastdet.nms.<name>
del _f
