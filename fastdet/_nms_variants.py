"""DIoU-NMS (YOLOv4) and Matrix NMS (SOLOv2). Re-exported by :mod:`fastdet.nms`."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fastdet._kernels import nms as _k
from fastdet._nms_core import (
    _band_params,
    _boxes_and_scores,
    _check_max_detections,
    _compact_groups,
    _descending,
    _window_params,
)
from fastdet._validate import (
    as_boxes,
    as_labels,
    as_scores,
    check_box_magnitude,
    check_choice,
    check_real,
    check_threshold,
    to_numeric_array,
)


def diou_nms(
    boxes: ArrayLike,
    scores: ArrayLike,
    iou_threshold: float,
    *,
    idxs: ArrayLike | None = None,
    beta: float = 1.0,
) -> NDArray[np.int64]:
    """Greedy NMS that suppresses by DIoU: IoU minus the normalised distance of the box centres.

    Visits boxes by decreasing score and keeps each box that no kept box (of its
    category, with ``idxs``) suppresses: box j is suppressed by a kept box i when
    ``IoU(i, j) - (rho**2 / c**2) ** beta > iou_threshold``, where rho is the
    distance between the two box centres and c the diagonal of the smallest box
    enclosing both. Overlapping boxes whose centres lie apart (two adjacent
    objects) survive more often than with plain NMS.

    Parameters
    ----------
    boxes : array_like of shape (N, 4)
        Boxes as (x1, y1, x2, y2) with x1 <= x2 and y1 <= y2.
    scores : array_like of shape (N,)
        Scores; only their order matters.
    iou_threshold : float
        In [0, 1]; suppression when the DIoU is strictly greater.
    idxs : array_like of shape (N,), optional
        Integer categories: boxes of different categories never suppress each
        other (as :func:`batched_nms`).
    beta : float
        Exponent of the distance term, > 0: 1 is the paper's DIoU-NMS; darknet
        (YOLOv4) uses ``beta_nms``, 0.6 by default in its configs.

    Returns
    -------
    ndarray of int64, shape (K,)
        Kept indices by decreasing score; equal scores keep the lower index first.

    Raises
    ------
    ValueError
        Wrong shapes or lengths, NaN/inf, degenerate boxes, a threshold outside
        [0, 1], non-integer ``idxs`` or ``beta <= 0``.
    TypeError
        Non-numeric input.

    Notes
    -----
    Zheng, Wang, Liu, Li, Ye and Ren, "Distance-IoU Loss: Faster and Better
    Learning for Bounding Box Regression", AAAI 2020 (arXiv:1911.08287), eq. 9;
    used in YOLOv4 (Bochkovskiy et al. 2020). The paper keeps a box while
    ``IoU - R < eps`` (suppresses at equality); fastdet suppresses only when
    strictly greater, as every NMS here does. Everything is computed in float64
    (centres as ``(x1 + x2) / 2``); zero-area boxes have IoU 0 and so DIoU <= 0:
    they neither suppress nor are suppressed. Since DIoU <= IoU, the kernel
    visits only the boxes that plain NMS would compare (see :func:`nms`).

    Examples
    --------
    >>> boxes = [[0, 0, 10, 10], [1, 0, 11, 10], [4, 0, 14, 10]]
    >>> nms(boxes, [0.9, 0.8, 0.7], iou_threshold=0.4)
    array([0])
    >>> diou_nms(boxes, [0.9, 0.8, 0.7], iou_threshold=0.4)
    array([0, 2])
    """
    b = as_boxes(to_numeric_array(boxes, "boxes"), dtype=np.float64)
    check_box_magnitude(b, "boxes")
    s = as_scores(scores, len(b), dtype=np.float64)
    t = check_threshold(iou_threshold, "iou_threshold")
    be = check_real(beta, "beta")
    if be <= 0:
        raise ValueError(f"beta must be > 0, got {beta}")
    groups = None if idxs is None else as_labels(idxs, len(b), "idxs")
    n = len(b)
    if n == 0:
        return np.empty(0, np.int64)
    order = _descending(s)
    if groups is None:
        g, n_groups = np.zeros(n, np.int64), 1
    else:
        g, n_groups = _compact_groups(groups)
    n_bands, ymin, band_h = _band_params(b, n_groups)
    by_x1 = np.argsort(b[:, 0]).astype(np.int64, copy=False)
    span, shrink = _window_params(b, t)
    keep = np.zeros(n, np.uint8)
    _k.greedy_diou_nms(b, order, by_x1, g, n_groups, n_bands, ymin, band_h, span, shrink, t, be, keep)
    return order[keep[order].view(np.bool_)]


MatrixKernel = Literal["gaussian", "linear"]


def matrix_nms(
    boxes: ArrayLike,
    scores: ArrayLike,
    labels: ArrayLike | None = None,
    *,
    kernel: MatrixKernel = "gaussian",
    sigma: float = 2.0,
    score_threshold: float | None = None,
    max_candidates: int | None = None,
    max_detections: int | None = None,
) -> tuple[NDArray[np.int64], NDArray[np.floating[Any]]]:
    """Matrix NMS (SOLOv2): decay every score at once from the IoU matrix, on boxes.

    With boxes sorted by decreasing score, box j's score is multiplied by
    ``decay_j = min(1, min over i before j of f(iou_ij) / f(comp_i))``, where
    ``comp_i`` is box i's largest IoU with a box before it (how much box i is
    itself suppressed) and f is the kernel: ``exp(-sigma * iou**2)`` or
    ``1 - iou``. Nothing is removed unless ``score_threshold`` asks.

    Parameters
    ----------
    boxes : array_like of shape (N, 4)
        Boxes as (x1, y1, x2, y2) with x1 <= x2 and y1 <= y2.
    scores : array_like of shape (N,)
        Scores.
    labels : array_like of shape (N,), optional
        Integer classes: only boxes of the same class decay each other. None:
        all boxes are one class.
    kernel : {"gaussian", "linear"}
        The decay function f.
    sigma : float
        Gaussian strength, > 0 (as in mmdet and the SOLOv2 code: ``exp(-sigma *
        iou**2)``).
    score_threshold : float, optional
        Keep only boxes whose decayed score is >= this (mmdet's ``filter_thr``).
    max_candidates : int, optional
        Decay only the best this many boxes by score; the rest are dropped
        (mmdet's ``nms_pre``).
    max_detections : int, optional
        Return at most this many boxes, the highest decayed scores (mmdet's ``max_num``).

    Returns
    -------
    keep : ndarray of int64, shape (K,)
        Indices by decreasing decayed score; ties keep the initial order (higher
        original score, then lower index).
    new_scores : ndarray of shape (K,)
        The decayed scores; float32 when boxes and scores are float32, else float64.

    Raises
    ------
    ValueError
        Bad shapes, NaN/inf, degenerate boxes, an unknown ``kernel``, ``sigma <= 0``
        or negative limits.
    TypeError
        Non-numeric input.

    Notes
    -----
    Wang, Zhang, Kong, Li and Shen, "SOLOv2: Dynamic and Fast Instance
    Segmentation", NeurIPS 2020 (arXiv:2003.10152), section 3.3.2, eq. 4. The
    paper writes the gaussian as ``exp(-iou**2 / sigma)``; its code and mmdet's
    ``mask_matrix_nms`` use ``exp(-sigma * iou**2)`` with ``sigma=2.0``, as here.
    The semantics are those of mmdet's ``mask_matrix_nms`` with box IoU in place
    of mask IoU: the decay of the first box is 1; only boxes of the same label
    and a higher rank count; the score filter keeps ``>=``. Differences: ties in
    score are ordered stably (torch's sort is not stable); a linear term
    ``(1 - iou) / (1 - comp)`` with ``comp == 1`` is skipped (mmdet gets inf,
    which the min ignores, or NaN for 0 / 0, which poisons the min); IoU and
    decay are computed in float64. Per label the work is quadratic in the
    number of boxes, as in mmdet (which also builds the N x N matrices).

    Examples
    --------
    >>> boxes = [[0, 0, 10, 10], [1, 0, 11, 10], [20, 20, 30, 30]]
    >>> keep, new_scores = matrix_nms(boxes, [0.9, 0.8, 0.7])
    >>> keep, new_scores.round(4)
    (array([0, 2, 1]), array([0.9   , 0.7   , 0.2097]))
    """
    b, s, result_dtype = _boxes_and_scores(boxes, scores)
    b = b.astype(np.float64)
    s = s.astype(np.float64)
    k = check_choice(kernel, "kernel", ("gaussian", "linear"))
    sig = check_real(sigma, "sigma")
    if sig <= 0:
        raise ValueError(f"sigma must be > 0, got {sigma}")
    thr = None if score_threshold is None else check_real(score_threshold, "score_threshold")
    cand_cap = _check_max_detections(max_candidates, "max_candidates")
    cap = _check_max_detections(max_detections)
    lab = None if labels is None else as_labels(labels, len(b), "labels")
    order = _descending(s) if len(b) else np.empty(0, np.int64)
    if cand_cap is not None:
        order = order[:cand_cap]
    if len(order) == 0:
        return np.empty(0, np.int64), np.empty(0, result_dtype)
    grouped = order
    if lab is not None:
        grouped = order[np.argsort(lab[order], kind="stable")]
        bounds = np.flatnonzero(np.r_[True, lab[grouped][1:] != lab[grouped][:-1], True])
    else:
        bounds = np.array([0, len(order)], np.int64)
    decay = np.ones(len(b))
    _k.matrix_decay(b, grouped, bounds.astype(np.int64), k == "gaussian", sig, decay)
    new = s[order] * decay[order]
    picked = np.arange(len(order))
    if thr is not None:
        picked = picked[new >= thr]
    picked = picked[np.argsort(-new[picked], kind="stable")]
    if cap is not None:
        picked = picked[:cap]
    return order[picked], new[picked].astype(result_dtype)
