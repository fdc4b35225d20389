"""``Params``: pycocotools' evaluation parameters."""

from __future__ import annotations

from typing import Any

import numpy as np

# fmt: off
_KPT_OKS_SIGMAS = np.array([.26, .25, .25, .35, .35, .79, .79, .72, .72, .62, .62, 1.07, 1.07, .87, .87,
                            .89, .89]) / 10.0
# fmt: on


class Params:
    """pycocotools' evaluation parameters, same attribute names and defaults.

    Attributes
    ----------
    imgIds, catIds : list
        Images and categories to evaluate (set by ``COCOeval`` from the ground truth).
    iouThrs : ndarray
        ``np.linspace(.5, 0.95, 10)``.
    recThrs : ndarray
        ``np.linspace(.0, 1.00, 101)``.
    maxDets : list of int
        ``[1, 10, 100]``.
    areaRng : list of [lo, hi]
        ``[[0, 1e10], [0, 32**2], [32**2, 96**2], [96**2, 1e10]]`` (inclusive bounds on ``area``).
    areaRngLbl : list of str
        ``['all', 'small', 'medium', 'large']``.
    useCats : int
        1: per-category evaluation; 0: categories are ignored (one pool per image).
    iouType : str
        ``'bbox'``, ``'segm'`` (both :meth:`setDetParams`) or ``'keypoints'``
        (:meth:`setKpParams`: ``maxDets=[20]``, three area ranges and ``kpt_oks_sigmas``).
        pycocotools' default is ``'segm'``; fastdet's is ``'bbox'`` (the same parameters).
        ``COCOeval`` evaluates 'bbox' and 'keypoints' ('segm' not yet).
    kpt_oks_sigmas : ndarray
        ``'keypoints'`` only: the per-keypoint OKS sigmas (COCO's 17; settable).
    """

    def __init__(self, iouType: str = "bbox"):
        if iouType not in ("segm", "bbox", "keypoints"):
            raise ValueError(f"iouType must be one of 'bbox', 'segm', 'keypoints'; got {iouType!r}")
        if iouType == "keypoints":
            self.setKpParams()
        else:
            self.setDetParams()
        self.iouType = iouType
        self.useSegm: Any = None  # deprecated in pycocotools; 1 means segm

    def setDetParams(self) -> None:
        """Reset to pycocotools' detection defaults (bbox and segm): 3 ``maxDets``, 4 area ranges."""
        self.imgIds: list[Any] = []
        self.catIds: list[Any] = []
        self.iouThrs = np.linspace(0.5, 0.95, int(np.round((0.95 - 0.5) / 0.05)) + 1, endpoint=True)
        self.recThrs = np.linspace(0.0, 1.00, int(np.round((1.00 - 0.0) / 0.01)) + 1, endpoint=True)
        self.maxDets: list[int] = [1, 10, 100]
        self.areaRng: list[list[float]] = [[0**2, 1e5**2], [0**2, 32**2], [32**2, 96**2], [96**2, 1e5**2]]
        self.areaRngLbl: list[str] = ["all", "small", "medium", "large"]
        self.useCats = 1

    def setKpParams(self) -> None:
        """Reset to pycocotools' keypoint defaults: ``maxDets=[20]``, 3 area ranges, COCO's sigmas."""
        self.imgIds = []
        self.catIds = []
        self.iouThrs = np.linspace(0.5, 0.95, int(np.round((0.95 - 0.5) / 0.05)) + 1, endpoint=True)
        self.recThrs = np.linspace(0.0, 1.00, int(np.round((1.00 - 0.0) / 0.01)) + 1, endpoint=True)
        self.maxDets = [20]
        self.areaRng = [[0**2, 1e5**2], [32**2, 96**2], [96**2, 1e5**2]]
        self.areaRngLbl = ["all", "medium", "large"]
        self.useCats = 1
        self.kpt_oks_sigmas = _KPT_OKS_SIGMAS.copy()


def _check_iou_type(iou_type: Any) -> None:
    if iou_type in ("bbox", "segm", "keypoints"):
        return
    raise ValueError(f"iouType must be 'bbox', 'segm' or 'keypoints'; got {iou_type!r}")
