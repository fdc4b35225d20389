"""Detection confusion matrix: ``(C + 1) x (C + 1)`` counts with a background class.

Convention: supervision's (``sv.ConfusionMatrix.from_detections``, 0.31),
which :func:`detection_confusion_matrix` equals on float32 boxes. Rows are
true classes, columns predicted classes, index ``C`` is background. In each
image the detections with ``score >= score_threshold`` are kept; the
candidate pairs are the (ground truth, detection) pairs of any classes with
``IoU > iou_threshold``; they are taken greedily, same-class pairs first, then
by descending IoU (ties: ground truth index, then detection index), each box
at most once. A matched pair adds 1 at (true class, predicted class), so a
class confusion lands off the diagonal; an unmatched ground truth adds 1 at
(class, background), a missed object; an unmatched detection adds 1 at
(background, class), a false positive. (background, background) stays 0.

IoU is computed in float64 from the coordinates given. When every box array
is float32, it is rounded to float32 before it is compared and ordered, as
supervision does, so float32 input gives supervision's counts exactly.
supervision always casts coordinates to float32 first; float64 coordinates
that float32 cannot hold may therefore match differently there.

ultralytics (``ultralytics.utils.metrics.ConfusionMatrix.process_batch``)
counts differently: its matrix is indexed [predicted, true] (the transpose:
use ``result.matrix.T`` to compare), keeps detections with ``score > conf``
(strictly; 0.25 by default) and ``IoU > 0.45`` by default, and matches
class-agnostically: pairs sorted by IoU, each detection keeps its best ground
truth, then each ground truth its best remaining pair (deduplication with
``np.unique``, which is not the same as a greedy assignment); in an image
where no pair passes the IoU threshold, its detections are not counted as
background at all.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fastdet._kernels import analysis as _k
from fastdet._validate import check_choice, check_dense_size, check_int, check_threshold
from fastdet.analysis._inputs import read_detections, read_ground_truth

__all__ = ["DetectionConfusionMatrix", "detection_confusion_matrix", "detection_confusion_matrix_coco"]

Normalize = Literal["true", "pred", "all"]

#: Largest number of IoU values held at once; bigger inputs are processed in chunks of images.
_CHUNK_ELEMENTS = 1 << 22


@dataclass(frozen=True)
class DetectionConfusionMatrix:
    """Counts of (true class, predicted class) with background last; see the module docstring.

    Attributes
    ----------
    matrix : ndarray of shape (C + 1, C + 1), int64
        ``matrix[t, p]``: ground truth of class ``t`` matched by a detection of
        class ``p``; row ``C`` holds unmatched detections, column ``C``
        unmatched ground truth.
    class_names : tuple of str
        The ``C`` class names (``"0"``, ``"1"``, ... when none were given).
    iou_threshold, score_threshold : float
        The thresholds used.
    """

    matrix: NDArray[np.int64]
    class_names: tuple[str, ...]
    iou_threshold: float
    score_threshold: float

    @property
    def num_classes(self) -> int:
        """Number of classes ``C`` (without the background)."""
        return len(self.class_names)

    @property
    def true_positives(self) -> NDArray[np.int64]:
        """Per class: ground truth matched by a detection of its class, ``(C,)``."""
        return np.diagonal(self.matrix)[:-1].copy()

    @property
    def false_positives(self) -> NDArray[np.int64]:
        """Per class: detections of the class that are not true positives (column sum - diagonal)."""
        return np.asarray(self.matrix.sum(axis=0)[:-1] - self.true_positives, dtype=np.int64)

    @property
    def false_negatives(self) -> NDArray[np.int64]:
        """Per class: ground truth of the class not matched by its class (row sum - diagonal), ``(C,)``."""
        return np.asarray(self.matrix.sum(axis=1)[:-1] - self.true_positives, dtype=np.int64)

    def normalized(self, normalize: Normalize = "true") -> NDArray[np.float64]:
        """The matrix divided by its row sums ("true"), column sums ("pred") or total ("all"); 0/0 is 0."""
        check_choice(normalize, "normalize", ("true", "pred", "all"))
        m = self.matrix.astype(np.float64)
        if normalize == "true":
            total = m.sum(axis=1, keepdims=True)
        elif normalize == "pred":
            total = m.sum(axis=0, keepdims=True)
        else:
            total = np.full((1, 1), m.sum())
        out = np.zeros_like(m)
        np.divide(m, total, out=out, where=total > 0)
        return out

    def plot(
        self,
        path: str | os.PathLike[str],
        *,
        normalize: Normalize | None = None,
        title: str | None = None,
    ) -> Path:
        """Draw the matrix as a heat map into a PNG (rows true, columns predicted); returns its path.

        Needs matplotlib (``pip install "fastdet[plot]"``). With ``normalize``
        the cells show :meth:`normalized` values.
        """
        from fastdet.analysis._plot import plot_confusion

        if normalize is not None:
            check_choice(normalize, "normalize", ("true", "pred", "all"))
        return plot_confusion(self, path, normalize=normalize, title=title)


def _stack(seq: Any, name: str, width: int) -> tuple[NDArray[Any], NDArray[np.int64]]:
    """Concatenate one array per image; returns the rows and the per-image lengths."""
    if isinstance(seq, np.ndarray) or not isinstance(seq, Sequence):
        raise TypeError(f"{name} must be a list with one array per image, got {type(seq).__name__}")
    if seq and all(type(item) is np.ndarray for item in seq):  # the common case: one concatenation
        try:
            rows = np.concatenate(seq)
        except ValueError:  # mismatched shapes: the loop below names the image
            rows = None
        if (
            rows is not None
            and rows.dtype.kind in "iuf"
            and rows.ndim == (2 if width else 1)
            and (not width or rows.shape[1] == width)
        ):
            return rows, np.fromiter(map(len, seq), np.int64, len(seq))
    arrays = []
    for i, item in enumerate(seq):
        try:
            arr = np.asarray(item)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{name}[{i}] could not be converted to an array: {exc}") from None
        if arr.size == 0:
            arr = arr.reshape((0, width) if width else (0,))
        if (width and (arr.ndim != 2 or arr.shape[1] != width)) or (not width and arr.ndim != 1):
            want = f"(N, {width})" if width else "(N,)"
            raise ValueError(f"{name}[{i}] must have shape {want}, got {arr.shape}")
        if arr.dtype.kind not in "iuf" and arr.size:
            raise TypeError(f"{name}[{i}] must be a real numeric array, got dtype {arr.dtype}")
        arrays.append(arr)
    lengths = np.fromiter(map(len, arrays), np.int64, len(arrays))
    if not arrays:
        return np.empty((0, width) if width else (0,)), lengths
    return np.concatenate(arrays), lengths


def _locate(row: int, lengths: NDArray[np.int64]) -> str:
    ends = np.cumsum(lengths)
    img = int(np.searchsorted(ends, row, side="right"))
    return f"[{img}] row {row - (int(ends[img - 1]) if img else 0)}"


def _check_boxes(boxes: NDArray[Any], lengths: NDArray[np.int64], name: str) -> NDArray[np.float64]:
    out = np.ascontiguousarray(boxes, dtype=np.float64)
    bad = ~np.isfinite(out).all(axis=1) | (out[:, 2] < out[:, 0]) | (out[:, 3] < out[:, 1])
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{name}{_locate(row, lengths)} must be finite xyxy with x1 <= x2 and y1 <= y2, "
            f"got {out[row].tolist()}"
        )
    return out


def _check_labels(
    labels: NDArray[Any], lengths: NDArray[np.int64], n_classes: int, name: str
) -> NDArray[np.int64]:
    as_float = labels.astype(np.float64)
    bad = ~np.isfinite(as_float) | (as_float != np.round(as_float)) | (as_float < 0) | (as_float >= n_classes)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{name}{_locate(row, lengths)} is {labels[row]!r}; "
            f"class ids must be integers in [0, {n_classes - 1}]"
        )
    return labels.astype(np.int64)


def detection_confusion_matrix(
    gt_boxes: Sequence[ArrayLike],
    gt_labels: Sequence[ArrayLike],
    dt_boxes: Sequence[ArrayLike],
    dt_scores: Sequence[ArrayLike],
    dt_labels: Sequence[ArrayLike],
    *,
    num_classes: int | None = None,
    class_names: Sequence[str] | None = None,
    iou_threshold: float = 0.5,
    score_threshold: float = 0.3,
) -> DetectionConfusionMatrix:
    """Confusion matrix of detections against ground truth, with a background class (supervision's rule).

    Parameters
    ----------
    gt_boxes : list of array_like of shape (G_i, 4)
        Ground-truth boxes of each image, xyxy.
    gt_labels : list of array_like of shape (G_i,)
        Their class ids, integers in ``[0, C)``.
    dt_boxes : list of array_like of shape (D_i, 4)
        Detected boxes of each image, xyxy.
    dt_scores : list of array_like of shape (D_i,)
        Their scores.
    dt_labels : list of array_like of shape (D_i,)
        Their class ids.
    num_classes : int, optional
        ``C``; default ``len(class_names)``, else the largest class id + 1.
    class_names : sequence of str, optional
        Names for plots; default ``"0"``, ``"1"``, ...
    iou_threshold : float, default 0.5
        A pair is a candidate when its IoU is strictly greater.
    score_threshold : float, default 0.3
        Detections with a lower score are dropped (``score >= score_threshold`` kept).

    Returns
    -------
    DetectionConfusionMatrix

    Raises
    ------
    ValueError
        Lists of different lengths, a wrong shape, a box with x2 < x1 or y2 <
        y1 or a non-finite value, a class id outside ``[0, C)``, a threshold
        outside [0, 1]; the message names the list, the image and the row.
    TypeError
        Non-numeric input, or an argument that is not a list of per-image arrays.

    Notes
    -----
    The module docstring states the matching rule, the float32 policy and how
    ultralytics' matrix differs.

    Examples
    --------
    >>> cm = detection_confusion_matrix(
    ...     gt_boxes=[[[0, 0, 10, 10], [50, 50, 60, 60]]], gt_labels=[[0, 0]],
    ...     dt_boxes=[[[0, 0, 10, 10], [100, 100, 110, 110]]], dt_scores=[[0.9, 0.8]], dt_labels=[[0, 0]],
    ...     num_classes=1)
    >>> cm.matrix
    array([[1, 1],
           [1, 0]])
    """
    iou_thr = check_threshold(iou_threshold, "iou_threshold")
    score_thr = check_threshold(score_threshold, "score_threshold")
    g_box, g_len = _stack(gt_boxes, "gt_boxes", 4)
    g_lab, g_lab_len = _stack(gt_labels, "gt_labels", 0)
    d_box, d_len = _stack(dt_boxes, "dt_boxes", 4)
    d_score, d_score_len = _stack(dt_scores, "dt_scores", 0)
    d_lab, d_lab_len = _stack(dt_labels, "dt_labels", 0)
    n_img = len(g_len)
    for name, lens in (
        ("gt_labels", g_lab_len),
        ("dt_boxes", d_len),
        ("dt_scores", d_score_len),
        ("dt_labels", d_lab_len),
    ):
        if len(lens) != n_img:
            raise ValueError(f"{name} has {len(lens)} images but gt_boxes has {n_img}")
    for name, lens, ref, ref_name in (
        ("gt_labels", g_lab_len, g_len, "gt_boxes"),
        ("dt_scores", d_score_len, d_len, "dt_boxes"),
        ("dt_labels", d_lab_len, d_len, "dt_boxes"),
    ):
        if (lens != ref).any():
            i = int(np.flatnonzero(lens != ref)[0])
            raise ValueError(f"{name}[{i}] has length {lens[i]} but {ref_name}[{i}] has length {ref[i]}")
    names = _class_names(num_classes, class_names, g_lab, d_lab)
    n_cls = len(names)
    float32 = [a for a in (g_box, d_box) if a.size]
    round_f32 = bool(float32) and all(a.dtype == np.float32 for a in float32)
    gt_xyxy = _check_boxes(g_box, g_len, "gt_boxes")
    dt_xyxy = _check_boxes(d_box, d_len, "dt_boxes")
    gt_cls = _check_labels(g_lab, g_len, n_cls, "gt_labels")
    dt_cls = _check_labels(d_lab, d_len, n_cls, "dt_labels")
    if np.isnan(d_score.astype(np.float64)).any():
        row = int(np.flatnonzero(np.isnan(d_score.astype(np.float64)))[0])
        raise ValueError(f"dt_scores{_locate(row, d_len)} is NaN")
    keep = d_score >= score_thr  # in the scores' own dtype: float32 scores compare in float32, as supervision
    gt_img = np.repeat(np.arange(n_img, dtype=np.int64), g_len)
    dt_img = np.repeat(np.arange(n_img, dtype=np.int64), d_len)[keep]
    matrix = _confusion(
        gt_xyxy, gt_cls, gt_img, dt_xyxy[keep], dt_cls[keep], dt_img, n_img, n_cls, iou_thr, round_f32
    )
    return DetectionConfusionMatrix(matrix, names, iou_thr, score_thr)


def _class_names(
    num_classes: int | None, class_names: Sequence[str] | None, *labels: NDArray[Any]
) -> tuple[str, ...]:
    if class_names is not None:
        if isinstance(class_names, str) or not isinstance(class_names, Sequence):
            raise TypeError(f"class_names must be a sequence of str, got {type(class_names).__name__}")
        names = tuple(str(n) for n in class_names)
        if num_classes is not None and check_int(num_classes, "num_classes", minimum=0) != len(names):
            raise ValueError(f"num_classes is {num_classes} but class_names has {len(names)} names")
        return names
    if num_classes is None:
        tops = [float(np.max(lab)) for lab in labels if lab.size]
        num_classes = int(max(tops)) + 1 if tops and max(tops) >= 0 and np.isfinite(max(tops)) else 0
    n = check_int(num_classes, "num_classes", minimum=0)
    return tuple(str(i) for i in range(n))


def _confusion(
    gt_box: NDArray[np.float64],
    gt_cls: NDArray[np.int64],
    gt_img: NDArray[np.int64],
    dt_box: NDArray[np.float64],
    dt_cls: NDArray[np.int64],
    dt_img: NDArray[np.int64],
    n_img: int,
    n_cls: int,
    iou_thr: float,
    round_f32: bool,
) -> NDArray[np.int64]:
    """The matrix from boxes grouped by image (``gt_img``/``dt_img`` non-decreasing)."""
    check_dense_size((n_cls + 1, n_cls + 1), "the confusion matrix")
    matrix = np.zeros((n_cls + 1, n_cls + 1), np.int64)
    gt_off = np.zeros(n_img + 1, np.int64)
    np.cumsum(np.bincount(gt_img, minlength=n_img), out=gt_off[1:])
    dt_off = np.zeros(n_img + 1, np.int64)
    np.cumsum(np.bincount(dt_img, minlength=n_img), out=dt_off[1:])
    thr = float(np.float32(iou_thr)) if round_f32 else iou_thr  # float32 IoU > threshold, as NumPy compares
    sizes = np.diff(gt_off) * np.diff(dt_off)
    ends = np.cumsum(sizes)
    i0 = 0
    while i0 < n_img:
        done = int(ends[i0 - 1]) if i0 else 0
        i1 = max(int(np.searchsorted(ends, done + _CHUNK_ELEMENTS, side="right")), i0 + 1)
        iou_off = np.zeros(i1 - i0 + 1, np.int64)
        np.cumsum(sizes[i0:i1], out=iou_off[1:])
        iou = np.empty(int(iou_off[-1]), np.float64)
        _k.xyxy_iou_blocks(gt_box, gt_off, dt_box, dt_off, i0, i1, round_f32, iou_off, iou)
        _k.confusion_match(iou, iou_off, i0, i1, gt_off, gt_cls, dt_off, dt_cls, thr, n_cls, matrix)
        i0 = i1
    return matrix


def detection_confusion_matrix_coco(
    gt: Any,
    dt: Any,
    *,
    iou_threshold: float = 0.5,
    score_threshold: float = 0.3,
) -> DetectionConfusionMatrix:
    """:func:`detection_confusion_matrix` of COCO ground truth and results.

    Classes are the categories (those listed in ``categories`` and any other
    category id used) in increasing id order, named from ``categories``.
    Crowd regions (``iscrowd``) are left out; boxes go from xywh to xyxy as
    ``x + w``, ``y + h``. ``gt`` and ``dt`` are given as for :func:`fastdet.analysis.tide`.

    Raises
    ------
    ValueError
        Malformed input, a result on an image not in the ground truth, or a
        negative width or height.
    """
    iou_thr = check_threshold(iou_threshold, "iou_threshold")
    score_thr = check_threshold(score_threshold, "score_threshold")
    g = read_ground_truth(gt)
    d = read_detections(dt, g)
    for where, box in (("ground truth", g.bbox), ("detections", d.bbox)):
        if (box[:, 2:] < 0).any():
            row = int(np.flatnonzero((box[:, 2:] < 0).any(axis=1))[0])
            raise ValueError(
                f"{where}: entry {row} has bbox {box[row].tolist()}; width and height must be >= 0"
            )
    cat_ids = np.unique(
        np.concatenate([np.asarray(list(g.category_names), np.int64), g.category, d.category])
    )
    names = tuple(g.category_names.get(int(c), str(int(c))) for c in cat_ids)
    use = np.flatnonzero((g.image >= 0) & ~g.crowd)
    g_order = use[np.argsort(g.image[use], kind="stable")]
    d_order = np.argsort(d.image, kind="stable")
    d_order = d_order[d.score[d_order] >= score_thr]

    def xyxy(box: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.ascontiguousarray(np.concatenate([box[:, :2], box[:, :2] + box[:, 2:]], axis=1))

    matrix = _confusion(
        xyxy(g.bbox[g_order]),
        np.searchsorted(cat_ids, g.category[g_order]).astype(np.int64),
        g.image[g_order],
        xyxy(d.bbox[d_order]),
        np.searchsorted(cat_ids, d.category[d_order]).astype(np.int64),
        d.image[d_order],
        len(g.image_ids),
        len(cat_ids),
        iou_thr,
        False,
    )
    return DetectionConfusionMatrix(matrix, names, iou_thr, score_thr)
