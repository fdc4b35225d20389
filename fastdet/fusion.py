"""Box fusion for model ensembles and test-time augmentation: the ensemble-boxes family.

:func:`weighted_boxes_fusion`, :func:`non_maximum_weighted`, :func:`nms` and
:func:`soft_nms` take ensemble-boxes' arguments (lists with one entry per model,
coordinates normalised to [0, 1]) and return its results (the tests check them
against ensemble-boxes 1.0.9 to 1e-12; most are bit-equal). :func:`fuse_arrays` and
:func:`fuse_coco_results` fuse a whole results set, many images at once, in one
pass of the kernels (no Python loop over images): boxes are grouped by (image,
label) with counting sorts, and clusters are found through a grid over each
group's box centres instead of comparing each box with every cluster.

Behaviour of ensemble-boxes 1.0.9 that is a quirk rather than a rule, kept here:

1. Input boxes are fixed before anything else: reversed corners are swapped,
   coordinates are clipped to [0, 1], and boxes of zero area (after clipping)
   are dropped. ensemble-boxes warns once per box (WBF, NMW) or prints to
   stdout (nms, soft_nms); fastdet emits one ``UserWarning`` per call with the
   counts.
2. ``skip_box_thr`` drops boxes whose raw score is strictly below it (before
   weighting). ``nms`` and ``soft_nms`` have no such filter.
3. WBF visits each label's boxes by decreasing weighted score (score x model
   weight) and puts each box into the cluster whose *current fused box* it
   overlaps most, if that IoU is > ``iou_thr`` (strict; equal IoUs: the earlier
   cluster), else starts a cluster. The fused box moves as boxes join, and a
   cluster may hold several boxes of the same model.
4. A WBF cluster of two or more boxes has its fused box, score and weight sum
   computed into a float32 array (the running sums in float32), so they are
   rounded to float32, and later matching uses the rounded box; a one-box
   cluster keeps the float64 box. NMW rounds every fused box and score to
   float32. Kept, so that results are bit-equal.
5. WBF confidence, from the cluster's weighted scores ``s_k`` (n of them), its
   models' weights ``w`` and all M model weights ``W``: ``avg``: ``mean(s) *
   min(M, n) / sum(W)`` (``allows_overflow``: ``mean(s) * n / sum(W)``, which
   can exceed 1; ``allows_overflow`` affects nothing else); ``max``: ``max(s) /
   max(W)``; ``box_and_model_avg``: ``mean(s) * n / sum(w) * sum(W of the
   models present) / sum(W)``; ``absent_model_aware_avg``: ``mean(s) * n /
   (sum(w) + sum(W of the models absent))``. Results are sorted by decreasing
   confidence over all labels.
6. NMW divides the weights by their maximum; a box joins the cluster whose
   *first* (highest-scoring) box it overlaps most with IoU > ``iou_thr``
   (equal IoUs: the earlier cluster); the fused box is the mean of the members
   weighted by ``score x IoU with the first box``, and its score is the first
   box's weighted score (no averaging).
7. ``nms`` / ``soft_nms``: with ``weights`` the scores become ``score x w /
   sum(weights)`` (so ``weights=[1, 1, 1]`` divides every score by 3, while
   ``weights=None`` leaves them alone). Results come grouped by label in
   ascending order, each label in suppression order: not sorted by score
   overall. ``soft_nms`` runs the swap-based Soft-NMS loop on each label's boxes
   in input order (at step i the box at position i stays unless a later box
   scores strictly higher, else the first of the highest moves up; every later
   box is decayed, also those already below ``thresh``), keeps the boxes whose
   final score is > ``thresh``, and returns their *original* (weighted) scores,
   not the decayed ones (``decayed_scores=True`` returns the decayed ones);
   ``method=3`` is plain NMS (``thresh`` unused).

Where fastdet differs, because ensemble-boxes' behaviour is undefined or a bug:

a. Equal scores. ensemble-boxes orders them with NumPy's default (unstable)
   ``argsort`` reversed, whose order depends on the NumPy version and the CPU
   (AVX-512 machines use SIMD sorts), and for ``nms`` on Numba's quicksort.
   fastdet is deterministic: equal scores keep input order (model by model,
   box by box), and equal fused scores keep label order of first appearance,
   then cluster creation order.
b. Labels are returned exactly, as int64. ensemble-boxes returns float labels
   and rounds the label of a multi-box WBF/NMW cluster to float32, so a label
   above 2**24 changes, and (WBF) such a cluster stops matching later boxes.
c. Bad input raises ``ValueError``/``TypeError``: ensemble-boxes prints and
   calls ``exit()`` (length mismatch, unknown ``conf_type``), prints and uses
   weights of 1 (wrong number of weights), or truncates non-integer labels with
   ``int()``. Negative weights raise; so do negative scores that pass
   ``skip_box_thr`` in WBF and NMW (weighted means need weights >= 0).
d. A cluster whose weighted scores are all 0 (zero scores, or zero weights):
   ensemble-boxes divides 0 by 0 (NaN boxes; a NaN WBF cluster then swallows
   every later box of its label, since ``np.argmax`` picks NaN). fastdet gives
   the plain mean of the member boxes (NMW: weighted by IoU alone), and
   ``box_and_model_avg`` a score of 0.
e. ``nms`` / ``soft_nms`` with ``weights`` overwrite the caller's score arrays in
   ensemble-boxes; fastdet never modifies its input. ensemble-boxes' ``nms``
   computes in float32 for float32 input; fastdet always in float64. The
   gaussian Soft-NMS weight uses Numba's ``exp``, which may differ from NumPy's
   in the last bit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fastdet._fusion import (
    Fused,
    _cluster_table,
    _coco_arrays,
    _fuse,
    _fuse_lists,
    _offset_or_rank,
    _options,
    _prefilter,
    _scales,
    _weights,
)
from fastdet._validate import as_float_array, to_numeric_array

__all__ = [
    "fuse_arrays",
    "fuse_coco_results",
    "nms",
    "non_maximum_weighted",
    "soft_nms",
    "weighted_boxes_fusion",
]

ConfType = Literal["avg", "max", "box_and_model_avg", "absent_model_aware_avg"]
FusionMethod = Literal["wbf", "nmw", "nms", "soft_nms"]
SoftMethod = Literal[1, 2, 3, "linear", "gaussian", "hard"]

# --------------------------------------------------------------------------- one image


def weighted_boxes_fusion(
    boxes_list: Sequence[ArrayLike],
    scores_list: Sequence[ArrayLike],
    labels_list: Sequence[ArrayLike],
    weights: ArrayLike | None = None,
    iou_thr: float = 0.55,
    skip_box_thr: float = 0.0,
    conf_type: ConfType = "avg",
    allows_overflow: bool = False,
) -> Fused:
    """Weighted boxes fusion of several models' detections on one image (ensemble-boxes' WBF).

    Per label, boxes are visited by decreasing weighted score; each joins the
    cluster whose fused box it overlaps most with IoU > ``iou_thr`` (or starts
    one), and the cluster's fused box becomes the score-weighted mean of its
    boxes.

    Parameters
    ----------
    boxes_list : list of array_like of shape (N_m, 4)
        One array per model: xyxy boxes normalised to [0, 1] (clipped to it,
        with a warning).
    scores_list : list of array_like of shape (N_m,)
        Scores, one array per model.
    labels_list : list of array_like of shape (N_m,)
        Integer labels, one array per model.
    weights : array_like of shape (M,), optional
        Model weights (>= 0, positive sum); default 1 each.
    iou_thr : float
        A box joins a cluster when its IoU with the fused box is strictly greater.
    skip_box_thr : float
        Boxes with a score below this are dropped first.
    conf_type : {"avg", "max", "box_and_model_avg", "absent_model_aware_avg"}
        How a cluster's confidence is computed (see the module notes, item 5).
    allows_overflow : bool
        With ``conf_type="avg"``: let a cluster with more boxes than models score
        above the average.

    Returns
    -------
    boxes : ndarray of float64, shape (K, 4)
    scores : ndarray of float64, shape (K,)
    labels : ndarray of int64, shape (K,)
        Fused boxes by decreasing score (ties: label order of first appearance,
        then cluster order).

    Raises
    ------
    ValueError
        Mismatched lengths, wrong shapes, NaN/inf, non-integer labels, a wrong
        number of weights or negative weights, an unknown ``conf_type``, or a
        negative score above ``skip_box_thr``.
    TypeError
        Non-numeric input, or lists that are not sequences.

    Warns
    -----
    UserWarning
        Once per call when boxes had reversed corners (swapped), coordinates
        outside [0, 1] (clipped) or zero area (skipped).

    Notes
    -----
    Solovyev, Wang and Gabruseva, "Weighted boxes fusion: Ensembling boxes from
    different object detection models", Image and Vision Computing 2021
    (arXiv:1910.13302). Same results as ``ensemble_boxes.weighted_boxes_fusion``
    1.0.9, quirks included; see the module docstring for the quirks and the few
    deliberate differences (ties, labels, bad input, all-zero scores).

    Examples
    --------
    >>> boxes = [[[0.10, 0.10, 0.50, 0.50]], [[0.12, 0.10, 0.52, 0.50], [0.6, 0.6, 0.9, 0.9]]]
    >>> scores = [[0.9], [0.7, 0.4]]
    >>> labels = [[0], [0, 1]]
    >>> b, s, lab = weighted_boxes_fusion(boxes, scores, labels, weights=[2, 1])
    >>> b.round(4), s.round(4), lab
    (array([[0.1056, 0.1   , 0.5056, 0.5   ],
           [0.6   , 0.6   , 0.9   , 0.9   ]]), array([0.8333, 0.1333]), array([0, 1]))
    """
    opts = _options(
        "wbf",
        iou_thr=iou_thr,
        skip_box_thr=skip_box_thr,
        conf_type=conf_type,
        allows_overflow=allows_overflow,
    )
    return _fuse_lists(opts, boxes_list, scores_list, labels_list, weights)


def non_maximum_weighted(
    boxes_list: Sequence[ArrayLike],
    scores_list: Sequence[ArrayLike],
    labels_list: Sequence[ArrayLike],
    weights: ArrayLike | None = None,
    iou_thr: float = 0.55,
    skip_box_thr: float = 0.0,
) -> Fused:
    """Non-maximum weighted fusion of several models' detections on one image (ensemble-boxes' NMW).

    Like NMS, each box goes to the cluster of the highest-scoring box it
    overlaps with IoU > ``iou_thr``; instead of discarding the others, the
    cluster's box is their mean weighted by score x IoU with that top box.

    Parameters
    ----------
    boxes_list, scores_list, labels_list : lists of array_like
        One entry per model, as for :func:`weighted_boxes_fusion`.
    weights : array_like of shape (M,), optional
        Model weights (>= 0, positive sum), divided by their maximum.
    iou_thr : float
        Matching needs IoU with the cluster's top box strictly greater than this.
    skip_box_thr : float
        Boxes with a score below this are dropped first.

    Returns
    -------
    boxes : ndarray of float64, shape (K, 4)
    scores : ndarray of float64, shape (K,)
    labels : ndarray of int64, shape (K,)
        By decreasing score; boxes and scores are float32 values (ensemble-boxes
        builds them in float32).

    Raises
    ------
    ValueError
        As :func:`weighted_boxes_fusion`.
    TypeError
        As :func:`weighted_boxes_fusion`.

    Warns
    -----
    UserWarning
        As :func:`weighted_boxes_fusion`.

    Notes
    -----
    Zhou, Ni, Zhou, Wang, Wu and Yang, "CAD: Scale Invariant Framework for
    Real-Time Object Detection", ICCV 2017 workshops. Same results as
    ``ensemble_boxes.non_maximum_weighted`` 1.0.9 (module docstring, item 6).

    Examples
    --------
    >>> boxes = [[[0.10, 0.10, 0.50, 0.50]], [[0.12, 0.10, 0.52, 0.50]]]
    >>> b, s, lab = non_maximum_weighted(boxes, [[0.9], [0.6]], [[0], [0]])
    >>> b.round(4), s.round(4), lab
    (array([[0.1075, 0.1   , 0.5075, 0.5   ]]), array([0.9]), array([0]))
    """
    opts = _options("nmw", iou_thr=iou_thr, skip_box_thr=skip_box_thr)
    return _fuse_lists(opts, boxes_list, scores_list, labels_list, weights)


def nms(
    boxes: Sequence[ArrayLike],
    scores: Sequence[ArrayLike],
    labels: Sequence[ArrayLike],
    iou_thr: float = 0.5,
    weights: ArrayLike | None = None,
) -> Fused:
    """Greedy NMS over the pooled boxes of several models, per label (ensemble-boxes' ``nms``).

    Parameters
    ----------
    boxes, scores, labels : lists of array_like
        One entry per model: (N_m, 4) xyxy boxes in [0, 1], (N_m,) scores,
        (N_m,) integer labels.
    iou_thr : float
        A box is suppressed when its IoU with a kept box is strictly greater.
    weights : array_like of shape (M,), optional
        If given, scores become ``score * w / sum(weights)`` (module docstring, item 7).

    Returns
    -------
    boxes : ndarray of float64, shape (K, 4)
    scores : ndarray of float64, shape (K,)
    labels : ndarray of int64, shape (K,)
        Grouped by label (ascending), each label by decreasing score (ties:
        input order).

    Raises
    ------
    ValueError
        Mismatched lengths, wrong shapes, NaN/inf, non-integer labels, bad weights.
    TypeError
        Non-numeric input.

    Warns
    -----
    UserWarning
        As :func:`weighted_boxes_fusion`.

    Examples
    --------
    >>> boxes = [[[0.1, 0.1, 0.5, 0.5]], [[0.12, 0.1, 0.52, 0.5]]]
    >>> b, s, lab = nms(boxes, [[0.9], [0.8]], [[0], [0]])
    >>> b, s, lab
    (array([[0.1, 0.1, 0.5, 0.5]]), array([0.9]), array([0]))
    """
    opts = _options("nms", iou_thr=iou_thr)
    return _fuse_lists(opts, boxes, scores, labels, weights)


def soft_nms(
    boxes: Sequence[ArrayLike],
    scores: Sequence[ArrayLike],
    labels: Sequence[ArrayLike],
    method: SoftMethod = 2,
    iou_thr: float = 0.5,
    sigma: float = 0.5,
    thresh: float = 0.001,
    weights: ArrayLike | None = None,
    *,
    decayed_scores: bool = False,
) -> Fused:
    """Soft-NMS over the pooled boxes of several models, per label (ensemble-boxes' ``soft_nms``).

    Parameters
    ----------
    boxes, scores, labels : lists of array_like
        One entry per model, as for :func:`nms`.
    method : {1, 2, 3, "linear", "gaussian", "hard"}
        1 / "linear": decay by ``1 - iou`` where iou > ``iou_thr``; 2 /
        "gaussian": by ``exp(-iou**2 / sigma)``; 3 / "hard": plain :func:`nms`.
    iou_thr : float
        Threshold of the linear decay (and of method 3).
    sigma : float
        Width of the gaussian, > 0.
    thresh : float
        Boxes whose final decayed score is not strictly above this are dropped.
    weights : array_like of shape (M,), optional
        As for :func:`nms`.
    decayed_scores : bool
        Return the decayed scores instead of the original (weighted) ones that
        ensemble-boxes returns.

    Returns
    -------
    boxes : ndarray of float64, shape (K, 4)
    scores : ndarray of float64, shape (K,)
    labels : ndarray of int64, shape (K,)
        Grouped by label (ascending), each label in selection order.

    Raises
    ------
    ValueError
        As :func:`nms`, an unknown ``method`` or ``sigma <= 0``.
    TypeError
        Non-numeric input.

    Warns
    -----
    UserWarning
        As :func:`weighted_boxes_fusion`.

    Notes
    -----
    Bodla et al., "Soft-NMS -- Improving Object Detection With One Line of
    Code", ICCV 2017, in ensemble-boxes' swap-based form (module docstring,
    item 7). :func:`fastdet.soft_nms` is the one-model Soft-NMS with decayed
    scores and the threshold applied during the loop.

    Examples
    --------
    >>> boxes = [[[0.1, 0.1, 0.5, 0.5]], [[0.12, 0.1, 0.52, 0.5]]]
    >>> b, s, lab = soft_nms(boxes, [[0.9], [0.8]], [[0], [0]], decayed_scores=True)
    >>> s.round(4)
    array([0.9   , 0.1556])
    """
    opts = _options(
        "soft_nms",
        iou_thr=iou_thr,
        soft_method=method,
        sigma=sigma,
        thresh=thresh,
        decayed_scores=decayed_scores,
    )
    return _fuse_lists(opts, boxes, scores, labels, weights)


# --------------------------------------------------------------------------- whole results sets


def fuse_arrays(
    arrays: Sequence[ArrayLike],
    *,
    method: FusionMethod = "wbf",
    weights: ArrayLike | None = None,
    iou_thr: float | None = None,
    skip_box_thr: float = 0.0,
    conf_type: ConfType = "avg",
    allows_overflow: bool = False,
    soft_method: SoftMethod = 2,
    sigma: float = 0.5,
    thresh: float = 0.001,
    decayed_scores: bool = False,
    clip: bool = True,
) -> NDArray[np.float64]:
    """Fuse the detections of several models on many images at once, image by image.

    The result equals calling the per-image function (``method``) on each image
    and stacking the results, but runs as one kernel call.

    Parameters
    ----------
    arrays : list of array_like of shape (N_m, 7)
        One array per model, one row per detection: ``[image_id, x1, y1, x2, y2,
        score, label]`` (integer image ids and labels; xyxy boxes in [0, 1]
        unless ``clip=False``).
    method : {"wbf", "nmw", "nms", "soft_nms"}
        :func:`weighted_boxes_fusion`, :func:`non_maximum_weighted`,
        :func:`nms` or :func:`soft_nms`.
    weights : array_like of shape (M,), optional
        Model weights.
    iou_thr : float, optional
        Default: the method's (0.55 for "wbf" and "nmw", 0.5 otherwise).
    skip_box_thr, conf_type, allows_overflow
        For "wbf" (``skip_box_thr`` also for "nmw"), as in :func:`weighted_boxes_fusion`.
    soft_method, sigma, thresh, decayed_scores
        For "soft_nms": its ``method``, ``sigma``, ``thresh`` and ``decayed_scores``.
    clip : bool
        Clip coordinates to [0, 1] (ensemble-boxes). ``False`` fuses boxes in any
        coordinates (pixels, say) without clipping; fusion is scale-invariant, so
        that equals normalising, fusing and scaling back (up to rounding).

    Returns
    -------
    ndarray of float64, shape (K, 7)
        ``[image_id, x1, y1, x2, y2, score, label]``, by increasing image id, each
        image's rows as the per-image function orders them.

    Raises
    ------
    ValueError
        A wrong shape, NaN/inf, non-integer image ids or labels, bad weights or options.
    TypeError
        Non-numeric input.

    Warns
    -----
    UserWarning
        Once per call, as :func:`weighted_boxes_fusion`.

    Examples
    --------
    >>> a = [[7, 0.10, 0.10, 0.50, 0.50, 0.9, 0], [8, 0.2, 0.2, 0.4, 0.4, 0.5, 1]]
    >>> b = [[7, 0.12, 0.10, 0.52, 0.50, 0.7, 0]]
    >>> fuse_arrays([a, b]).round(3)
    array([[7.   , 0.109, 0.1  , 0.509, 0.5  , 0.8  , 0.   ],
           [8.   , 0.2  , 0.2  , 0.4  , 0.4  , 0.25 , 1.   ]])
    """
    opts = _options(
        method,
        iou_thr=iou_thr,
        skip_box_thr=skip_box_thr,
        conf_type=conf_type,
        allows_overflow=allows_overflow,
        soft_method=soft_method,
        sigma=sigma,
        thresh=thresh,
        decayed_scores=decayed_scores,
        clip=clip,
    )
    if isinstance(arrays, (str, bytes, Mapping)) or not isinstance(arrays, (Sequence, np.ndarray)):
        raise TypeError(f"arrays must be a list with one array per model, got {type(arrays).__name__}")
    n_models = len(arrays)
    parts = []
    for m in range(n_models):
        a = to_numeric_array(arrays[m], f"arrays[{m}]")
        if a.size == 0:
            a = a.reshape(0, 7)
        if a.ndim != 2 or a.shape[1] != 7:
            raise ValueError(
                f"arrays[{m}] must have shape (N, 7): image_id, x1, y1, x2, y2, score, label; got {a.shape}"
            )
        parts.append(as_float_array(a, f"arrays[{m}]", dtype=np.float64))
    w = _weights(weights, n_models)
    model = np.repeat(np.arange(n_models, dtype=np.int64), [len(p) for p in parts])
    names = ("arrays[...][:, 0] (image ids)", "arrays[...][:, 6] (labels)")
    prep = _prefilter(opts, parts, (1, 5, 0, 6), model, w, n_models, stacklevel=2, names=names)
    if len(model) == 0:
        return np.empty((0, 7))
    img, img_lo, n_img, id_of = _offset_or_rank(prep.ids)
    return _cluster_table(opts, img, n_img, model, prep, w, n_models, id_of, img_lo)


def fuse_coco_results(
    results_list: Sequence[Sequence[Mapping[str, Any]]],
    *,
    method: FusionMethod = "wbf",
    weights: ArrayLike | None = None,
    image_sizes: Mapping[Any, tuple[float, float]] | None = None,
    iou_thr: float | None = None,
    skip_box_thr: float = 0.0,
    conf_type: ConfType = "avg",
    allows_overflow: bool = False,
    soft_method: SoftMethod = 2,
    sigma: float = 0.5,
    thresh: float = 0.001,
    decayed_scores: bool = False,
) -> list[dict[str, Any]]:
    """Fuse several models' COCO results lists (``bbox`` in pixels, xywh) image by image.

    Parameters
    ----------
    results_list : list of list of dict
        One COCO results list per model: dicts with ``image_id``,
        ``category_id``, ``bbox`` ``[x, y, width, height]`` and ``score`` (other
        keys are ignored).
    method : {"wbf", "nmw", "nms", "soft_nms"}
        The fusion, as for :func:`fuse_arrays`.
    weights : array_like of shape (M,), optional
        Model weights.
    image_sizes : mapping, optional
        ``image_id -> (height, width)``. Given, boxes are normalised by the image
        size and clipped to it, exactly as ensemble-boxes is used; omitted, boxes
        are fused in pixels without clipping (the same result up to rounding for
        boxes inside their image).
    iou_thr, skip_box_thr, conf_type, allows_overflow, soft_method, sigma, thresh, decayed_scores
        As for :func:`fuse_arrays`.

    Returns
    -------
    list of dict
        New results ``{"image_id", "category_id", "bbox", "score"}``, grouped by
        image (in order of first appearance), each image's results ordered as the
        per-image function orders them.

    Raises
    ------
    ValueError
        A result without the four keys, a bbox that is not four finite numbers
        with width and height >= 0, a non-integer category, an image missing from
        ``image_sizes``, bad weights or options.
    TypeError
        ``results_list`` is not a list of lists of dicts.

    Warns
    -----
    UserWarning
        Once per call, as :func:`weighted_boxes_fusion`.

    Examples
    --------
    >>> a = [{"image_id": 1, "category_id": 3, "bbox": [10, 10, 40, 40], "score": 0.9}]
    >>> b = [{"image_id": 1, "category_id": 3, "bbox": [12, 10, 40, 40], "score": 0.7}]
    >>> fused = fuse_coco_results([a, b], weights=[2, 1])
    >>> [(d["image_id"], [round(v, 3) for v in d["bbox"]], round(d["score"], 4)) for d in fused]
    [(1, [10.56, 10.0, 40.0, 40.0], 0.8333)]
    """
    opts = _options(
        method,
        iou_thr=iou_thr,
        skip_box_thr=skip_box_thr,
        conf_type=conf_type,
        allows_overflow=allows_overflow,
        soft_method=soft_method,
        sigma=sigma,
        thresh=thresh,
        decayed_scores=decayed_scores,
        clip=image_sizes is not None,
    )
    if isinstance(results_list, (str, bytes, Mapping)) or not isinstance(results_list, Sequence):
        raise TypeError(
            f"results_list must be a list of COCO results lists, got {type(results_list).__name__}"
        )
    n_models = len(results_list)
    w = _weights(weights, n_models)
    index: dict[Any, int] = {}
    img_parts, box_parts, score_parts, cat_parts = [], [], [], []
    for m, results in enumerate(results_list):
        img_m, box_m, score_m, cat_m = _coco_arrays(results, f"results_list[{m}]", index)
        img_parts.append(img_m)
        box_parts.append(box_m)
        score_parts.append(score_m)
        cat_parts.append(cat_m)
    if not n_models:
        return []
    img = np.concatenate(img_parts)
    xywh = np.concatenate(box_parts)
    scores = np.concatenate(score_parts)
    cats = np.concatenate(cat_parts)
    model = np.repeat(np.arange(n_models, dtype=np.int64), [len(s) for s in score_parts])
    ids = list(index)
    boxes = np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], axis=1)
    scale = None
    if image_sizes is not None:
        scale = _scales(image_sizes, ids)  # (n_img, 4): width, height, width, height
        boxes = boxes / scale[img]
    out_img, out_boxes, out_scores, out_cats = _fuse(
        opts, img, len(ids), model, boxes, scores, cats, w, n_models, stacklevel=2
    )
    if scale is not None:
        out_boxes = out_boxes * scale[out_img]
    x, y = out_boxes[:, 0], out_boxes[:, 1]
    w, h = out_boxes[:, 2] - x, out_boxes[:, 3] - y
    rows = zip(*(c.tolist() for c in (out_img, out_cats, x, y, w, h, out_scores)), strict=True)
    return [
        {"image_id": ids[i], "category_id": c, "bbox": [bx, by, bw, bh], "score": s}
        for i, c, bx, by, bw, bh, s in rows
    ]
