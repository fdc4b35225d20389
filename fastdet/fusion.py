"""Box fusion for model ensembles and test-time augmentation: the ensemble-boxes family.

:func:`weighted_boxes_fusion`, :func:`non_maximum_weighted`, :func:`nms` and
:func:`soft_nms` take ensemble-boxes' arguments (lists with one entry per model,
coordinates normalised to [0, 1]) and return its results (checked to 1e-6 against
ensemble-boxes 1.0.9; most results are bit-equal). :func:`fuse_arrays` and
:func:`fuse_coco_results` fuse a whole results set, many images at once, in one
kernel call (no Python loop over images).

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
   *first* (highest-scoring) box it overlaps most with IoU > ``iou_thr``; the
   fused box is the mean of the members weighted by ``score x IoU with the
   first box``, and its score is the first box's weighted score (no averaging).
7. ``nms`` / ``soft_nms``: with ``weights`` the scores become ``score x w /
   sum(weights)`` (so ``weights=[1, 1, 1]`` divides every score by 3, while
   ``weights=None`` leaves them alone). Results come grouped by label in
   ascending order, each label in suppression order: not sorted by score
   overall. ``soft_nms`` runs the swap-based Soft-NMS loop on each label's boxes
   in input order and keeps boxes whose final score is > ``thresh``, but returns
   the *original* (weighted) scores, not the decayed ones (``decayed_scores=True``
   returns the decayed ones); ``method=3`` is plain NMS (``thresh`` unused).

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

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fastdet._kernels import fusion as _k
from fastdet._validate import (
    as_float_array,
    as_labels,
    check_bool,
    check_choice,
    check_real,
    check_threshold,
    to_numeric_array,
)
from fastdet.nms import _compact_groups, _grouped_nms

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

_CONF_TYPES = ("avg", "max", "box_and_model_avg", "absent_model_aware_avg")
_METHODS = ("wbf", "nmw", "nms", "soft_nms")
_DEFAULT_IOU = {"wbf": 0.55, "nmw": 0.55, "nms": 0.5, "soft_nms": 0.5}
_SOFT_CODES = {"linear": 1, "gaussian": 2, "hard": 3}
_NAMES = {
    "wbf": "weighted_boxes_fusion",
    "nmw": "non_maximum_weighted",
    "nms": "nms",
    "soft_nms": "soft_nms",
}

Fused = tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]


@dataclass(frozen=True)
class _Options:
    """Validated options of one fusion call."""

    method: str
    iou_thr: float
    skip_box_thr: float = 0.0
    conf_type: int = 0
    allows_overflow: bool = False
    soft_method: int = 2
    sigma: float = 0.5
    thresh: float = 0.001
    decayed_scores: bool = False
    clip: bool = True


# --------------------------------------------------------------------------- validation


def _options(
    method: Any,
    *,
    iou_thr: Any,
    skip_box_thr: Any = 0.0,
    conf_type: Any = "avg",
    allows_overflow: Any = False,
    soft_method: Any = 2,
    sigma: Any = 0.5,
    thresh: Any = 0.001,
    decayed_scores: Any = False,
    clip: Any = True,
) -> _Options:
    m = check_choice(method, "method", _METHODS)
    thr = _DEFAULT_IOU[m] if iou_thr is None else check_threshold(iou_thr, "iou_thr")
    ct = check_choice(conf_type, "conf_type", _CONF_TYPES)
    if isinstance(soft_method, str):
        code = _SOFT_CODES.get(soft_method)
    elif isinstance(soft_method, (int, np.integer)) and not isinstance(soft_method, bool):
        code = int(soft_method) if int(soft_method) in (1, 2, 3) else None
    else:
        code = None
    if code is None:
        raise ValueError(
            f"soft-NMS method must be 1 or 'linear', 2 or 'gaussian', 3 or 'hard'; got {soft_method!r}"
        )
    sig = check_real(sigma, "sigma")
    if sig <= 0:
        raise ValueError(f"sigma must be > 0, got {sigma}")
    return _Options(
        method=m,
        iou_thr=thr,
        skip_box_thr=check_real(skip_box_thr, "skip_box_thr"),
        conf_type=_CONF_TYPES.index(ct),
        allows_overflow=check_bool(allows_overflow, "allows_overflow"),
        soft_method=code,
        sigma=sig,
        thresh=check_real(thresh, "thresh"),
        decayed_scores=check_bool(decayed_scores, "decayed_scores"),
        clip=check_bool(clip, "clip"),
    )


def _model_lists(
    boxes_list: Any, scores_list: Any, labels_list: Any
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64], NDArray[np.int64], int]:
    """Concatenate per-model lists; return ``(model, boxes (N, 4), scores, labels, n_models)``."""
    lists = {"boxes_list": boxes_list, "scores_list": scores_list, "labels_list": labels_list}
    for name, value in lists.items():
        if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, (Sequence, np.ndarray)):
            raise TypeError(f"{name} must be a list with one entry per model, got {type(value).__name__}")
    n_models = len(boxes_list)
    for name in ("scores_list", "labels_list"):
        if len(lists[name]) != n_models:
            raise ValueError(
                f"{name} has {len(lists[name])} entries but boxes_list has {n_models} (one per model)"
            )
    boxes, scores, labels = [], [], []
    for m in range(n_models):
        b = to_numeric_array(boxes_list[m], f"boxes_list[{m}]")
        if b.size == 0:
            b = b.reshape(0, 4)
        if b.ndim != 2 or b.shape[1] != 4:
            raise ValueError(f"boxes_list[{m}] must have shape (N, 4), got {b.shape}")
        b = as_float_array(b, f"boxes_list[{m}]", dtype=np.float64)
        s = as_float_array(scores_list[m], f"scores_list[{m}]", dtype=np.float64).reshape(-1)
        if len(s) != len(b):
            raise ValueError(f"scores_list[{m}] has length {len(s)} but boxes_list[{m}] has length {len(b)}")
        lab = to_numeric_array(labels_list[m], f"labels_list[{m}]").reshape(-1)
        labels.append(as_labels(lab, len(b), f"labels_list[{m}]", other=f"boxes_list[{m}]"))
        boxes.append(b)
        scores.append(s)
    model = np.repeat(np.arange(n_models, dtype=np.int64), [len(b) for b in boxes])
    if not n_models:
        return model, np.empty((0, 4)), np.empty(0), np.empty(0, np.int64), 0
    return model, np.concatenate(boxes), np.concatenate(scores), np.concatenate(labels), n_models


def _weights(weights: Any, n_models: int) -> NDArray[np.float64] | None:
    """``None`` or a float64 array of ``n_models`` finite weights >= 0 with a positive sum."""
    if weights is None:
        return None
    w = as_float_array(weights, "weights", dtype=np.float64).reshape(-1)
    if len(w) != n_models:
        raise ValueError(f"weights has {len(w)} entries but there are {n_models} models")
    if (w < 0).any():
        raise ValueError(f"weights must be >= 0, got {w.tolist()}")
    if n_models and not w.sum() > 0:
        raise ValueError(f"weights must have a positive sum, got {w.tolist()}")
    return w


def _warn_fixed(method: str, swapped: int, clipped: int, zero: int, stacklevel: int) -> None:
    """One warning for the boxes that were fixed or dropped, as ensemble-boxes warns per box."""
    notes = []
    if swapped:
        notes.append(f"{swapped} with x2 < x1 or y2 < y1 had their corners swapped")
    if clipped:
        notes.append(f"{clipped} with coordinates outside [0, 1] were clipped (normalise boxes to [0, 1])")
    if zero:
        notes.append(f"{zero} of zero area were skipped")
    if notes:
        warnings.warn(
            f"{_NAMES[method]}: of the input boxes, {'; '.join(notes)}",
            UserWarning,
            stacklevel=stacklevel + 1,
        )


# --------------------------------------------------------------------------- the engine


def _fuse(
    opts: _Options,
    img: NDArray[np.int64],
    n_img: int,
    model: NDArray[np.int64],
    boxes: NDArray[np.float64],
    scores: NDArray[np.float64],
    labels: NDArray[np.int64],
    weights: NDArray[np.float64] | None,
    n_models: int,
    stacklevel: int,
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
    """Fuse validated, concatenated boxes; return ``(image, boxes, scores, labels)`` of the results.

    Results are ordered by image index, then as ensemble-boxes orders one image's results.
    """
    method = opts.method
    w = np.ones(n_models) if weights is None else weights
    n = len(boxes)
    if method == "nmw" and n_models:
        wmul, wdiv = w / w.max(), 1.0
    elif method in ("nms", "soft_nms") and weights is not None:
        wmul, wdiv = w, float(w.sum())
    else:
        wmul, wdiv = w, 1.0
    fixed = np.empty((n, 4))
    ws = np.empty(n)
    keep = np.empty(n, np.bool_)
    use_skip = method in ("wbf", "nmw")
    counts = _k.prefilter(
        boxes, scores, model, wmul, wdiv, opts.skip_box_thr, use_skip, opts.clip, fixed, ws, keep
    )
    _warn_fixed(method, *counts[:3], stacklevel=stacklevel + 1)
    if counts[3] < n:
        img, model, fixed, ws, labels = img[keep], model[keep], fixed[keep], ws[keep], labels[keep]
    boxes = fixed
    if use_skip and (ws < 0).any():
        bad = float(ws[np.flatnonzero(ws < 0)[0]])
        raise ValueError(
            f"scores_list holds a negative score (weighted: {bad}) above skip_box_thr; weighted fusion "
            "needs scores >= 0 (a skip_box_thr >= 0 drops negative scores)"
        )
    n = len(boxes)
    if n == 0:
        return np.empty(0, np.int64), np.empty((0, 4)), np.empty(0), np.empty(0, np.int64)
    boxes = np.ascontiguousarray(boxes)
    lab, n_lab = _compact_groups(labels)
    by_score = not (method == "soft_nms" and opts.soft_method != 3)
    order, gstart, gfirst = _k.group_order(img, lab, n_img, n_lab, ws, by_score)

    if method in ("wbf", "nmw"):
        out_box = np.empty((n, 4))
        out_score = np.empty(n)
        out_group = np.empty(n, np.int64)
        t = opts.iou_thr
        inv_t = 0.0 if t < 1e-6 else 1.0 / (t * (1.0 - 1e-6))
        if method == "wbf":
            count = _k.wbf(
                boxes, ws, w[model], model, order, gstart, w, float(w.sum()), float(w.max()),
                opts.conf_type, opts.allows_overflow, t, inv_t, out_box, out_score, out_group,
            )  # fmt: skip
        else:
            count = _k.nmw(boxes, ws, order, gstart, t, inv_t, out_box, out_score, out_group)
        group = out_group[:count]
        head = order[gstart[group]]  # one box of each cluster's group
        final = _k.output_order(img[head], out_score[:count], gfirst[group], n_img)
        head = head[final]
        return img[head], out_box[:count][final], out_score[:count][final], labels[head]

    if by_score:  # nms, and soft_nms method 3: greedy NMS per (image, label)
        gid = np.empty(n, np.int64)
        gid[order] = np.repeat(np.arange(len(gstart) - 1, dtype=np.int64), np.diff(gstart))
        kept = _grouped_nms(boxes, ws, gid, opts.iou_thr, order=order)
        out_scores = ws[kept]
    else:
        keep_idx = np.empty(n, np.int64)
        decayed = np.empty(n)
        method_code = opts.soft_method
        count = _k.soft_nms_swap(
            boxes, ws, order, gstart, method_code, opts.iou_thr, opts.sigma, opts.thresh, keep_idx, decayed
        )
        kept = keep_idx[:count]
        out_scores = decayed[:count] if opts.decayed_scores else ws[kept]
    return img[kept], boxes[kept], out_scores, labels[kept]


def _fuse_lists(opts: _Options, boxes_list: Any, scores_list: Any, labels_list: Any, weights: Any) -> Fused:
    """One image: the per-model lists of ensemble-boxes."""
    model, boxes, scores, labels, n_models = _model_lists(boxes_list, scores_list, labels_list)
    w = _weights(weights, n_models)
    img = np.zeros(len(boxes), np.int64)
    _, b, s, lab = _fuse(opts, img, 1, model, boxes, scores, labels, w, n_models, stacklevel=3)
    return b, s, lab


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
    data = np.concatenate(parts) if parts else np.empty((0, 7))
    model = np.repeat(np.arange(n_models, dtype=np.int64), [len(p) for p in parts])
    ids = as_labels(data[:, 0], len(data), "arrays[...][:, 0] (image ids)", other="arrays")
    labels = as_labels(data[:, 6], len(data), "arrays[...][:, 6] (labels)", other="arrays")
    if len(data) == 0:
        return np.empty((0, 7))
    img, n_img = _compact_groups(ids)
    # _compact_groups offsets ids when their range is small, else ranks them: recover ids from either
    id_of = np.empty(n_img, np.int64)
    id_of[img] = ids
    out_img, boxes, scores, labs = _fuse(
        opts, img, n_img, model, np.ascontiguousarray(data[:, 1:5]), data[:, 5].copy(), labels, w, n_models, 2
    )
    out = np.empty((len(out_img), 7))
    out[:, 0] = id_of[out_img]
    out[:, 1:5] = boxes
    out[:, 5] = scores
    out[:, 6] = labs
    return out


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
    xy = out_boxes[:, :2].tolist()
    wh = (out_boxes[:, 2:] - out_boxes[:, :2]).tolist()
    return [
        {"image_id": ids[i], "category_id": c, "bbox": [*p, *q], "score": s}
        for i, c, p, q, s in zip(
            out_img.tolist(), out_cats.tolist(), xy, wh, out_scores.tolist(), strict=True
        )
    ]


def _coco_arrays(
    results: Any, name: str, index: dict[Any, int]
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
    """One model's COCO results -> ``(image index, xywh (N, 4), scores, categories)``."""
    if isinstance(results, (str, bytes, Mapping)) or not isinstance(results, Sequence):
        raise TypeError(f"{name} must be a list of COCO result dicts, got {type(results).__name__}")
    try:
        img = [index.setdefault(r["image_id"], len(index)) for r in results]
        cats = [r["category_id"] for r in results]
        scores = [r["score"] for r in results]
        bbox = [r["bbox"] for r in results]
    except (KeyError, TypeError):
        for i, r in enumerate(results):
            if not isinstance(r, Mapping):
                raise TypeError(f"{name}[{i}] must be a dict, got {type(r).__name__}") from None
            for key in ("image_id", "category_id", "bbox", "score"):
                if key not in r:
                    raise ValueError(f"{name}[{i}] has no {key!r} key") from None
        raise
    n = len(img)
    try:
        boxes = np.array(bbox, dtype=np.float64).reshape(n, 4)
        score_arr = np.array(scores, dtype=np.float64).reshape(n)
    except (TypeError, ValueError):
        for i, r in enumerate(results):
            try:
                np.array(r["bbox"], dtype=np.float64).reshape(4)
                float(r["score"])
            except (TypeError, ValueError):
                raise ValueError(
                    f"{name}[{i}]: bbox must be 4 numbers and score a number, "
                    f"got {r['bbox']!r}, {r['score']!r}"
                ) from None
        raise
    finite = np.isfinite(boxes).all(axis=1) & np.isfinite(score_arr)
    if not finite.all():
        raise ValueError(f"{name}[{int(np.flatnonzero(~finite)[0])}] has a NaN or infinite bbox or score")
    negative = (boxes[:, 2:] < 0).any(axis=1)
    if negative.any():
        i = int(np.flatnonzero(negative)[0])
        raise ValueError(f"{name}[{i}] has a negative bbox width or height: {bbox[i]!r}")
    try:
        cat_arr = np.array(cats)
    except (TypeError, ValueError):
        cat_arr = np.array([None])
    if cat_arr.dtype.kind not in "iuf" and n:
        raise ValueError(f"{name}: category_id must be an integer in every result")
    labels = as_labels(
        cat_arr.reshape(n) if n else np.empty(0, np.int64), n, f"{name} category_id", other=name
    )
    return np.array(img, dtype=np.int64).reshape(n), boxes, score_arr, labels


def _scales(image_sizes: Mapping[Any, tuple[float, float]], ids: list[Any]) -> NDArray[np.float64]:
    """``(n_img, 4)`` rows ``[width, height, width, height]`` for the images in ``ids``."""
    if not isinstance(image_sizes, Mapping):
        raise TypeError(
            f"image_sizes must be a mapping image_id -> (height, width), got {type(image_sizes).__name__}"
        )
    scale = np.empty((len(ids), 4))
    for k, image_id in enumerate(ids):
        if image_id not in image_sizes:
            raise ValueError(f"image_sizes has no entry for image_id {image_id!r}")
        size = image_sizes[image_id]
        try:
            h, w = (float(v) for v in size)
        except (TypeError, ValueError):
            raise ValueError(f"image_sizes[{image_id!r}] must be (height, width), got {size!r}") from None
        if not (0 < h < np.inf and 0 < w < np.inf):
            raise ValueError(f"image_sizes[{image_id!r}] must be positive and finite, got {size!r}")
        scale[k] = (w, h, w, h)
    return scale
