"""Error analysis of detections: TIDE's error breakdown and the detection confusion matrix.

- :func:`tide` splits the AP a detector misses into classification,
  localisation, both, duplicate, background and missed-ground-truth errors,
  with tidecv 1.0.1's numbers (Bolya et al., ECCV 2020).
- :func:`detection_confusion_matrix` counts, per pair of classes with a
  background row and column, how ground truth and detections match at an IoU
  and a score threshold, as supervision's ``ConfusionMatrix`` does.

Plots need matplotlib (``pip install "fastdet[plot]"``); it is imported only
when a plot is drawn.
"""

from fastdet.analysis.confusion import (
    DetectionConfusionMatrix,
    detection_confusion_matrix,
    detection_confusion_matrix_coco,
)
from fastdet.analysis.tide import ERROR_TYPES, SPECIAL_ERROR_TYPES, TideResult, tide

__all__ = [
    "ERROR_TYPES",
    "SPECIAL_ERROR_TYPES",
    "DetectionConfusionMatrix",
    "TideResult",
    "detection_confusion_matrix",
    "detection_confusion_matrix_coco",
    "tide",
]
