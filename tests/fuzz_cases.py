"""Hostile-input cases for every public array function of fastdet, with the outcome each must have.

Importable from the tests (``import fuzz_cases``) and runnable as a script:

    python tests/fuzz_cases.py            run every case, print a summary, exit 1 on any failure
    python tests/fuzz_cases.py --all      also run the KNOWN_FAILURES (skipped by default)
    python tests/fuzz_cases.py --table    print the policy table (markdown) for the README
    python tests/fuzz_cases.py -v         print every failure in full

Each case takes an otherwise valid call and replaces one argument by a hostile
variant: wrong rank or trailing dimension, NaN / +inf / -inf in each column,
empty or single-element input, extreme magnitudes (1e30, -1e30, the denormal
5e-324), every NumPy dtype, strided, Fortran-ordered, read-only and big-endian
arrays, Python lists, ``None``; plus malformed annotation dicts and files for
the COCO and VOC readers. The expected outcome is one of

- ``"result"``: the call returns, and the result equals that of the same call
  on the sanitised input (the same values as a C-contiguous native float64
  array, int64 for labels). Exactly, except where the function computes in
  float32 because its float input is float32: then to ``FLOAT32_RTOL``
  relative to the largest magnitude of the result;
- ``"ValueError"`` / ``"TypeError"``: the call raises that, with a message that
  names the argument (or, for files and records, the offending field);
- ``"result|ValueError"`` (extreme magnitudes): a clear ``ValueError``, or a
  result with no NaN or inf that the same call on ordinary input would not
  give; scale-invariant functions (IoU family, NMS) must also return what they
  return on the unscaled input.

Every case also checks that the caller's input is left unchanged, and runs with
warnings turned into errors (a NumPy ``RuntimeWarning`` such as an overflow
means garbage was computed), except fastdet's documented
``UndefinedMetricWarning``.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import faulthandler
import json
import math
import sys
import tempfile
import traceback
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

if __package__ in (None, ""):  # run as a script from anywhere: make `fastdet` importable from the checkout
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import fastdet
from fastdet import voc
from fastdet.metrics import UndefinedMetricWarning

__all__ = [
    "ALL_DTYPES",
    "CASES",
    "FLOAT32_RTOL",
    "KNOWN_FAILURES",
    "SPECS",
    "Case",
    "check_outcome",
    "run_case",
    "table",
]

#: Relative tolerance (to the largest magnitude in the result) when a function computes in float32.
FLOAT32_RTOL = 2e-5

RESULT, VALUE, TYPE, EXTREME = "result", "ValueError", "TypeError", "result|ValueError"

#: Every NumPy dtype family the suite feeds to array arguments.
ALL_DTYPES: dict[str, Any] = {
    name: np.dtype(name)
    for name in (
        "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
        "float16", "float32", "float64", "bool", "complex64", "object", "U8", "S8", "datetime64[s]",
    )
}  # fmt: skip
_NON_REAL = ("complex64", "object", "U8", "S8", "datetime64[s]")

#: Case ids that fail today in modules still being written (fastdet.nms, fastdet.coco).
#: They are skipped by the tests (never run in-process) and listed in the report;
#: remove an id once its module handles it.
# Case ids that fail today and are skipped by the tests until fixed (``--all`` runs them): none.
KNOWN_FAILURES: frozenset[str] = frozenset()


# --------------------------------------------------------------------------- specifications


@dataclass(frozen=True)
class Arg:
    """One array argument of a call: its valid value and how hostile variants of it must fare.

    ``role`` is ``"float"`` (any finite real), ``"boxes"`` (N, 4) xyxy,
    ``"prob"`` (finite, in [0, 1]), ``"labels"`` (integers), ``"binary"``
    (0 or 1), ``"nchw"`` (a 4-D image batch). Arguments with the same
    ``group`` must agree in length (axis 0); ``empty``/``single`` cut the whole
    group. ``rank``/``trailing``: whether a wrong rank / last dimension is an
    error. ``bool_ok``: bool arrays are accepted as 0/1 (labels, or scores).
    ``objects_ok``: object arrays of real numbers are accepted as float64 (the
    metrics' scores and weights, as scikit-learn takes them).
    """

    name: str
    value: Any
    role: str = "float"
    group: str | None = None
    rank: bool = True
    trailing: bool = True
    bool_ok: bool = False
    objects_ok: bool = False
    optional: bool = False
    nan_at: tuple[tuple[int, ...], ...] | None = None

    def __repr__(self) -> str:
        return f"Arg({self.name!r}, role={self.role!r})"


@dataclass(frozen=True)
class Scalar:
    """A scalar parameter: ``kind`` is ``"threshold"`` ([0, 1]), ``"real"``, ``"int"``, ``"bool"``, ``"choice"``."""

    name: str
    value: Any
    kind: str
    minimum: int = 1
    optional: bool = False
    pair: bool = False


@dataclass(frozen=True)
class Spec:
    """A public function and a valid call of it: ``call(**kwargs)`` with the arrays and scalars below."""

    family: str
    name: str
    call: Callable[..., Any]
    arrays: tuple[Arg, ...] = ()
    scalars: tuple[Scalar, ...] = ()
    empty: str = RESULT
    single: str = RESULT
    scale_invariant: bool = False
    # Outcome overrides by variant kind, e.g. {"float16": "ValueError"}.
    expect: Mapping[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"Spec({self.name!r})"

    def kwargs(self) -> dict[str, Any]:
        out: dict[str, Any] = {a.name: a.value for a in self.arrays}
        out.update({s.name: s.value for s in self.scalars})
        return out


@dataclass(frozen=True)
class Case:
    """One hostile call and the outcome it must have."""

    id: str
    family: str
    func: str
    arg: str
    kind: str
    expect: str
    call: Callable[[], Any]
    reference: Callable[[], Any] | None = None
    names: tuple[str, ...] = ()
    inputs: Callable[[], Any] | None = None  # the hostile objects, to check they are not modified
    scaled_reference: Callable[[], Any] | None = None  # unscaled call for scale-invariant functions


# --------------------------------------------------------------------------- valid base data

_BOXES = np.array(
    [[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 35], [50, 50, 50, 60], [5, 0, 15, 10]], np.float64
)
_BOXES2 = np.array([[0, 0, 10, 10], [25, 25, 40, 40], [2, 3, 8, 9]], np.float64)
_SCORES = np.array([0.9, 0.75, 0.6, 0.3, 0.8])
_IDXS = np.array([0, 1, 0, 1, 0], np.int64)
_CLS_SCORES = np.array([[0.9, 0.1, 0.3], [0.8, 0.7, 0.0], [0.2, 0.6, 0.4], [0.5, 0.5, 0.9], [0.1, 0.95, 0.2]])


def _predictions() -> np.ndarray:
    """(2, 5, 4 + 3) cxcywh predictions with class scores."""
    b = _BOXES
    cxcywh = np.stack(
        [(b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2, b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]], 1
    )
    one = np.concatenate([cxcywh, _CLS_SCORES], axis=1)
    two = np.concatenate([cxcywh + 3, _CLS_SCORES[::-1]], axis=1)
    return np.stack([one, two])


_Y_TRUE = np.array([0, 1, 2, 2, 0, 1, 1, 0], np.int64)
_Y_PRED = np.array([0, 2, 2, 2, 0, 1, 0, 0], np.int64)
_Y_BIN = np.array([0, 0, 1, 1, 0, 1, 0, 1], np.int64)
_Y_SCORE = np.array([0.1, 0.4, 0.35, 0.8, 0.2, 0.7, 0.5, 0.9])
#: Integer sample weights (a zero among them) keep their values under every dtype cast.
_WEIGHTS = np.array([1.0, 2.0, 0.0, 1.0, 3.0, 1.0, 2.0, 1.0])
#: Class probabilities exact in float16 (eighths), each row summing to 1.
_PROBS = np.array(
    [[0.75, 0.125, 0.125], [0.25, 0.5, 0.25], [0.125, 0.25, 0.625], [0.25, 0.125, 0.625],
     [0.5, 0.25, 0.25], [0.125, 0.75, 0.125], [0.375, 0.375, 0.25], [0.625, 0.25, 0.125]]
)  # fmt: skip
_RECALL = np.array([0.1, 0.2, 0.4, 0.4, 0.6, 0.8, 1.0])
_PRECISION = np.array([1.0, 1.0, 0.67, 0.5, 0.6, 0.5, 0.45])
_INPUT = np.array([[1.0, -2.0, 3.5], [0.0, 4.0, -1.25]])
_TARGET = np.array([[1.5, 2.0, 1.0], [0.0, 3.0, 2.0]])
_LOGITS = np.array([[0.0, 2.0, -1.5], [3.0, -0.5, 1.0]])
_BINARY_T = np.array([[1.0, 0.0, 0.0], [1.0, 1.0, 0.0]])
_X = np.arange(2 * 4 * 5 * 5, dtype=np.float64).reshape(2, 4, 5, 5) % 7
_W = np.arange(3 * 4 * 3 * 3, dtype=np.float64).reshape(3, 4, 3, 3) % 3
_B = np.array([1.0, 0.0, 2.0])


def _weights() -> Arg:
    """The optional ``sample_weight`` of the metrics: any real dtype, bool or object array of numbers, one per sample."""
    return Arg("sample_weight", _WEIGHTS, group="n", bool_ok=True, optional=True, objects_ok=True)


def _specs() -> list[Spec]:
    f = fastdet
    thr = Scalar("iou_threshold", 0.5, "threshold")
    boxes1 = Arg("boxes1", _BOXES, "boxes")
    boxes2 = Arg("boxes2", _BOXES2, "boxes")
    bx = Arg("boxes", _BOXES, "boxes", group="n")
    sc = Arg("scores", _SCORES, group="n")
    specs = [
        # ---- boxes
        Spec("boxes", "box_convert", lambda boxes, in_fmt, out_fmt: f.box_convert(boxes, in_fmt, out_fmt),
             (Arg("boxes", _BOXES, "boxes"),),
             (Scalar("in_fmt", "xyxy", "choice"), Scalar("out_fmt", "cxcywh", "choice")),
             expect={"boxes/degenerate": RESULT}),  # documented: a conversion makes no orientation check
        Spec("boxes", "box_area", lambda boxes: f.box_area(boxes), (Arg("boxes", _BOXES, "boxes"),)),
        Spec("boxes", "box_iou", lambda boxes1, boxes2: f.box_iou(boxes1, boxes2), (boxes1, boxes2),
             scale_invariant=True),
        Spec("boxes", "generalized_box_iou", lambda boxes1, boxes2: f.generalized_box_iou(boxes1, boxes2),
             (boxes1, boxes2), scale_invariant=True),
        Spec("boxes", "distance_box_iou",
             lambda boxes1, boxes2, eps: f.distance_box_iou(boxes1, boxes2, eps=eps),
             (boxes1, boxes2), (Scalar("eps", 1e-7, "real"),)),
        Spec("boxes", "complete_box_iou",
             lambda boxes1, boxes2, eps: f.complete_box_iou(boxes1, boxes2, eps=eps),
             (boxes1, boxes2), (Scalar("eps", 1e-7, "real"),)),
        Spec("boxes", "clip_boxes_to_image", lambda boxes: f.clip_boxes_to_image(boxes, (30, 40)),
             (Arg("boxes", _BOXES, "boxes"),),
             expect={"boxes/degenerate": RESULT}),  # as torchvision: clipped coordinate by coordinate
        Spec("boxes", "remove_small_boxes", lambda boxes, min_size: f.remove_small_boxes(boxes, min_size),
             (Arg("boxes", _BOXES, "boxes"),), (Scalar("min_size", 5.0, "real"),),
             expect={"boxes/degenerate": RESULT}),  # as torchvision: a negative width is removed
        # ---- nms
        Spec("nms", "nms", lambda boxes, scores, iou_threshold: f.nms(boxes, scores, iou_threshold),
             (bx, sc), (thr,), scale_invariant=True),
        Spec("nms", "batched_nms",
             lambda boxes, scores, idxs, iou_threshold: f.batched_nms(boxes, scores, idxs, iou_threshold),
             (bx, sc, Arg("idxs", _IDXS, "labels", group="n")), (thr,), scale_invariant=True),
        Spec("nms", "soft_nms",
             lambda boxes, scores, method, sigma, iou_threshold, score_threshold: f.soft_nms(
                 boxes, scores, method=method, sigma=sigma, iou_threshold=iou_threshold,
                 score_threshold=score_threshold),
             (bx, sc),
             (Scalar("method", "linear", "choice"), Scalar("sigma", 0.5, "real"),
              Scalar("iou_threshold", 0.3, "threshold"), Scalar("score_threshold", 0.001, "real")),
             scale_invariant=True),
        Spec("nms", "diou_nms",
             lambda boxes, scores, iou_threshold, idxs, beta: f.diou_nms(
                 boxes, scores, iou_threshold, idxs=idxs, beta=beta),
             (bx, sc, Arg("idxs", _IDXS, "labels", group="n", optional=True)), (thr, Scalar("beta", 0.6, "real")),
             scale_invariant=True),
        Spec("nms", "matrix_nms",
             lambda boxes, scores, labels, kernel, sigma, score_threshold, max_detections: f.matrix_nms(
                 boxes, scores, labels, kernel=kernel, sigma=sigma, score_threshold=score_threshold,
                 max_detections=max_detections),
             (bx, sc, Arg("labels", _IDXS, "labels", group="n", optional=True)),
             (Scalar("kernel", "linear", "choice"), Scalar("sigma", 2.0, "real"),
              Scalar("score_threshold", 0.1, "real", optional=True),
              Scalar("max_detections", 3, "int", minimum=0, optional=True)),
             scale_invariant=True),
        Spec("nms", "multiclass_nms",
             lambda boxes, scores, score_threshold, iou_threshold, max_detections, class_agnostic:
             f.multiclass_nms(boxes, scores, score_threshold=score_threshold, iou_threshold=iou_threshold,
                              max_detections=max_detections, class_agnostic=class_agnostic),
             (bx, Arg("scores", _CLS_SCORES, group="n", trailing=False)),
             (Scalar("score_threshold", 0.05, "real"), Scalar("iou_threshold", 0.5, "threshold"),
              Scalar("max_detections", 100, "int", minimum=0, optional=True),
              Scalar("class_agnostic", False, "bool"))),
        Spec("nms", "multiclass_nms[per_class_boxes]",
             lambda boxes, scores: f.multiclass_nms(boxes, scores),
             (Arg("boxes", np.repeat(_BOXES[:, None, :], 3, axis=1), "boxes3", group="n"),
              Arg("scores", _CLS_SCORES, group="n"))),
        Spec("nms", "postprocess_detections",
             lambda predictions, score_threshold, iou_threshold, max_detections, multi_label, box_format:
             f.postprocess_detections(predictions, score_threshold=score_threshold,
                                      iou_threshold=iou_threshold, max_detections=max_detections,
                                      multi_label=multi_label, box_format=box_format),
             (Arg("predictions", _predictions(), "pred", trailing=False),),
             (Scalar("score_threshold", 0.25, "real"), Scalar("iou_threshold", 0.45, "threshold"),
              Scalar("max_detections", 300, "int", minimum=0, optional=True),
              Scalar("multi_label", False, "bool"), Scalar("box_format", "cxcywh", "choice"))),
        # ---- metrics
        # strings are class labels too: a string array beside number labels is a mix (ValueError)
        Spec("metrics", "confusion_matrix",
             lambda y_true, y_pred, labels, normalize: f.confusion_matrix(
                 y_true, y_pred, labels=labels, normalize=normalize),
             (Arg("y_true", _Y_TRUE, "labels", group="n", bool_ok=True),
              Arg("y_pred", _Y_PRED, "labels", group="n", bool_ok=True),
              Arg("labels", np.array([2, 0, 1]), "labels", bool_ok=True, optional=True)),
             (Scalar("normalize", "true", "choice", optional=True),),
             # with labels=[2, 0, 1] given, shifting y_true or labels leaves no listed label in y_true
             expect={"labels/empty": VALUE, "labels/empty-list": VALUE, "labels/bool": VALUE,
                     "y_true/int64-huge": VALUE, "labels/int64-huge": VALUE,
                     "y_true/U8": VALUE, "y_pred/U8": VALUE, "labels/U8": VALUE}),
        Spec("metrics", "accuracy",
             lambda y_true, y_pred, sample_weight: f.accuracy(y_true, y_pred, sample_weight=sample_weight),
             (Arg("y_true", _Y_TRUE, "labels", group="n", bool_ok=True),
              Arg("y_pred", _Y_PRED, "labels", group="n", bool_ok=True), _weights()),
             empty=VALUE, expect={"y_true/U8": VALUE, "y_pred/U8": VALUE}),
        Spec("metrics", "precision_recall_f1",
             lambda y_true, y_pred, labels, sample_weight, average: f.precision_recall_f1(
                 y_true, y_pred, labels=labels, average=average, sample_weight=sample_weight,
                 zero_division=0.0),
             (Arg("y_true", _Y_TRUE, "labels", group="n", bool_ok=True),
              Arg("y_pred", _Y_PRED, "labels", group="n", bool_ok=True),
              Arg("labels", np.array([0, 1, 2, 5]), "labels", bool_ok=True, optional=True), _weights()),
             (Scalar("average", "macro", "choice", optional=True),), empty=VALUE,
             expect={"labels/empty": VALUE, "labels/empty-list": VALUE, "labels/bool": VALUE,
                     "y_true/U8": VALUE, "y_pred/U8": VALUE, "labels/U8": VALUE}),
        # "0"/"1" strings need a pos_label in the curves and are no pos_label=1 in average_precision;
        # roc_auc takes the greater of two labels as positive, strings included
        Spec("metrics", "roc_curve",
             lambda y_true, y_score, sample_weight: f.roc_curve(y_true, y_score, sample_weight=sample_weight),
             (Arg("y_true", _Y_BIN, "binary", group="n", bool_ok=True), Arg("y_score", _Y_SCORE, group="n", bool_ok=True, objects_ok=True),
              _weights()),
             empty=VALUE, expect={"y_true/U8": VALUE}),
        Spec("metrics", "roc_auc",
             lambda y_true, y_score, sample_weight, max_fpr: f.roc_auc(
                 y_true, y_score, sample_weight=sample_weight, max_fpr=max_fpr),
             (Arg("y_true", _Y_BIN, "binary", group="n", bool_ok=True), Arg("y_score", _Y_SCORE, group="n", bool_ok=True, objects_ok=True),
              _weights()),
             (Scalar("max_fpr", 0.5, "threshold", optional=True),),
             empty=VALUE, expect={"y_true/U8": RESULT}),  # one sample: NaN with an UndefinedMetricWarning
        Spec("metrics", "roc_auc[ovr]",
             lambda y_true, y_score, sample_weight, multi_class, average: f.roc_auc(
                 y_true, y_score, sample_weight=sample_weight, multi_class=multi_class, average=average),
             (Arg("y_true", _Y_TRUE, "labels", group="n", bool_ok=True),
              Arg("y_score", _PROBS, "prob", group="n", objects_ok=True), _weights()),
             (Scalar("multi_class", "ovr", "choice"), Scalar("average", "weighted", "choice", optional=True)),
             # one sample is one class for three columns; probabilities that no longer sum to 1
             # (integer or denormal casts) are refused; two bool classes do not fill three columns
             empty=VALUE, single=VALUE,
             expect={"y_true/U8": RESULT, "y_true/bool": VALUE, "y_score/x5e-324": VALUE, "y_score/bool": VALUE,
                     **{f"y_score/{d}": VALUE for d in ("int8", "int16", "int32", "int64", "uint8",
                                                        "uint16", "uint32", "uint64")}}),
        Spec("metrics", "precision_recall_curve",
             lambda y_true, y_score, sample_weight: f.precision_recall_curve(
                 y_true, y_score, sample_weight=sample_weight),
             (Arg("y_true", _Y_BIN, "binary", group="n", bool_ok=True), Arg("y_score", _Y_SCORE, group="n", bool_ok=True, objects_ok=True),
              _weights()),
             empty=VALUE, expect={"y_true/U8": VALUE}),
        Spec("metrics", "average_precision",
             lambda y_true, y_score, sample_weight: f.average_precision(
                 y_true, y_score, sample_weight=sample_weight),
             (Arg("y_true", _Y_BIN, "binary", group="n", bool_ok=True), Arg("y_score", _Y_SCORE, group="n", bool_ok=True, objects_ok=True),
              _weights()),
             empty=VALUE, expect={"y_true/U8": VALUE}),
        # ---- voc
        Spec("voc", "voc_ap",
             lambda recall, precision, use_07_metric: f.voc_ap(recall, precision, use_07_metric=use_07_metric),
             (Arg("recall", _RECALL, "prob", group="n"), Arg("precision", _PRECISION, "prob", group="n")),
             (Scalar("use_07_metric", False, "bool"),)),
        # ---- losses
        *(
            Spec("losses", name, (lambda fn: lambda input, target, reduction: fn(
                input, target, reduction=reduction))(getattr(f, name)),
                 (Arg("input", _INPUT, group="n", rank=False, trailing=False),
                  Arg("target", _TARGET, group="n", rank=False, trailing=False)),
                 (Scalar("reduction", "mean", "choice"),))
            for name in ("l1_loss", "mse_loss")
        ),
        Spec("losses", "smooth_l1_loss",
             lambda input, target, beta, reduction: f.smooth_l1_loss(input, target, beta=beta, reduction=reduction),
             (Arg("input", _INPUT, group="n", rank=False, trailing=False),
              Arg("target", _TARGET, group="n", rank=False, trailing=False)),
             (Scalar("beta", 1.0, "real"), Scalar("reduction", "none", "choice"))),
        Spec("losses", "sigmoid_focal_loss",
             lambda inputs, targets, alpha, gamma, reduction: f.sigmoid_focal_loss(
                 inputs, targets, alpha, gamma, reduction=reduction),
             (Arg("inputs", _LOGITS, group="n", rank=False, trailing=False),
              Arg("targets", _BINARY_T, group="n", rank=False, trailing=False)),
             (Scalar("alpha", 0.25, "real"), Scalar("gamma", 2.0, "real"), Scalar("reduction", "sum", "choice"))),
        # ---- arch, direct loops
        Spec("arch", "conv2d",
             lambda x, weight, bias, stride, padding, groups: f.conv2d(
                 x, weight, bias, stride=stride, padding=padding, groups=groups),
             (Arg("x", _X, "nchw", trailing=False), Arg("weight", _W, "nchw", group="c_out", trailing=False),
              Arg("bias", _B, group="c_out", optional=True)),
             (Scalar("stride", 1, "int", pair=True), Scalar("padding", 1, "int", minimum=0, pair=True),
              Scalar("groups", 1, "int"))),
        Spec("arch", "max_pool2d",
             lambda x, kernel, stride, padding, ceil_mode: f.max_pool2d(
                 x, kernel, stride=stride, padding=padding, ceil_mode=ceil_mode),
             (Arg("x", _X, "nchw", trailing=False),),
             (Scalar("kernel", 2, "int", pair=True), Scalar("stride", 2, "int", pair=True, optional=True),
              Scalar("padding", 1, "int", minimum=0, pair=True), Scalar("ceil_mode", True, "bool"))),
        Spec("arch", "avg_pool2d",
             lambda x, kernel, padding, count_include_pad: f.avg_pool2d(
                 x, kernel, padding=padding, count_include_pad=count_include_pad),
             (Arg("x", _X, "nchw", trailing=False),),
             (Scalar("kernel", 3, "int", pair=True), Scalar("padding", 1, "int", minimum=0, pair=True),
              Scalar("count_include_pad", False, "bool"))),
        # ---- arch, closed forms (scalar arguments only)
        Spec("arch", "conv2d_output_size",
             lambda input_size, kernel, stride, padding, dilation: f.conv2d_output_size(
                 input_size, kernel, stride, padding, dilation),
             (), (Scalar("input_size", 224, "int", pair=True), Scalar("kernel", 3, "int", pair=True),
                  Scalar("stride", 2, "int", pair=True), Scalar("padding", 1, "int", minimum=0, pair=True),
                  Scalar("dilation", 1, "int", pair=True))),
        Spec("arch", "pool2d_output_size",
             lambda input_size, kernel, stride, ceil_mode: f.pool2d_output_size(
                 input_size, kernel, stride, ceil_mode=ceil_mode),
             (), (Scalar("input_size", 112, "int", pair=True), Scalar("kernel", 3, "int", pair=True),
                  Scalar("stride", 2, "int", pair=True, optional=True), Scalar("ceil_mode", True, "bool"))),
        Spec("arch", "conv2d_params",
             lambda c_in, c_out, kernel, groups, bias: f.conv2d_params(c_in, c_out, kernel, groups, bias),
             (), (Scalar("c_in", 64, "int"), Scalar("c_out", 128, "int"), Scalar("kernel", 3, "int", pair=True),
                  Scalar("groups", 2, "int"), Scalar("bias", True, "bool"))),
        *(
            Spec("arch", name, (lambda fn: lambda c_in, c_out, kernel, output_size: fn(
                c_in, c_out, kernel, output_size))(getattr(f, name)),
                 (), (Scalar("c_in", 64, "int"), Scalar("c_out", 128, "int"),
                      Scalar("kernel", 3, "int", pair=True), Scalar("output_size", 224, "int", pair=True)))
            for name in ("conv2d_macs", "conv2d_flops")
        ),
        Spec("arch", "linear_params", lambda in_features, out_features, bias: f.linear_params(
            in_features, out_features, bias),
             (), (Scalar("in_features", 512, "int"), Scalar("out_features", 1000, "int"),
                  Scalar("bias", False, "bool"))),
        *(
            Spec("arch", name, (lambda fn: lambda in_features, out_features: fn(in_features, out_features))(
                getattr(f, name)),
                 (), (Scalar("in_features", 512, "int"), Scalar("out_features", 1000, "int")))
            for name in ("linear_macs", "linear_flops")
        ),
        *(
            Spec("arch", name, (lambda fn: lambda num_features: fn(num_features))(getattr(f, name)),
                 (), (Scalar("num_features", 64, "int"),))
            for name in ("batchnorm2d_params", "batchnorm2d_buffers")
        ),
        Spec("arch", "conv2d_report",
             lambda c_in, c_out, kernel, input_size, stride, padding: f.conv2d_report(
                 c_in, c_out, kernel, input_size, stride, padding),
             (), (Scalar("c_in", 8, "int"), Scalar("c_out", 16, "int"), Scalar("kernel", 3, "int", pair=True),
                  Scalar("input_size", 32, "int", pair=True), Scalar("stride", 1, "int", pair=True),
                  Scalar("padding", 1, "int", minimum=0, pair=True))),
        # ---- coco: detections as an (N, 7) array
        Spec("coco", "evaluate_coco[dt array]",
             lambda dt: _coco_stats(fastdet.evaluate_coco(_coco_gt(), dt)),
             (Arg("dt", _coco_dt_array(), "coco7"),),
             expect={"dt/rank-0": TYPE, "dt/list": VALUE}),
        Spec("coco", "COCO.loadRes[array]",
             lambda resFile: _coco_stats(fastdet.evaluate_coco(_coco_gt(), fastdet.COCO(
                 _coco_gt(), verbose=False).loadRes(resFile))),
             (Arg("resFile", _coco_dt_array(), "coco7"),),
             expect={"resFile/list": VALUE}),
    ]  # fmt: skip
    return specs


# --------------------------------------------------------------------------- COCO / VOC data


def _coco_gt() -> dict[str, Any]:
    boxes = [[0, 0, 10, 10], [20, 20, 15, 15], [5, 5, 30, 20], [40, 0, 8, 8], [0, 30, 12, 6]]
    anns = [
        {"id": i + 1, "image_id": 1 + i % 2, "category_id": 1 + i % 2, "bbox": b, "area": b[2] * b[3],
         "iscrowd": 0}
        for i, b in enumerate(boxes)
    ]  # fmt: skip
    return {
        "images": [{"id": 1}, {"id": 2}],
        "categories": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}],
        "annotations": anns,
    }


def _coco_dt() -> list[dict[str, Any]]:
    rows = _coco_dt_array()
    return [
        {"image_id": int(r[0]), "bbox": [float(v) for v in r[1:5]], "score": float(r[5]),
         "category_id": int(r[6])}
        for r in rows
    ]  # fmt: skip


def _coco_dt_array() -> np.ndarray:
    """(N, 7) rows [image_id, x, y, w, h, score, category_id]."""
    return np.array(
        [
            [1, 0, 0, 10, 9, 0.9, 1],
            [2, 21, 20, 15, 15, 0.8, 2],
            [1, 5, 6, 30, 20, 0.7, 1],
            [2, 40, 1, 8, 8, 0.6, 2],
            [1, 50, 50, 5, 5, 0.5, 1],
            [1, 0, 31, 12, 6, 0.4, 1],
        ],
        np.float64,
    )


def _coco_stats(result: Any) -> dict[str, float]:
    return dict(result.stats)


_VOC_GT = [
    {"image_id": 1, "label": "cat", "bbox": [0, 0, 10, 10]},
    {"image_id": 1, "label": "dog", "bbox": [20, 20, 30, 35], "difficult": True},
    {"image_id": 2, "label": "cat", "bbox": [5, 5, 15, 15]},
    {"image_id": 2, "label": "dog", "bbox": [0, 0, 8, 8]},
]
_VOC_DT = [
    {"image_id": 1, "label": "cat", "bbox": [1, 0, 10, 10], "score": 0.9},
    {"image_id": 2, "label": "cat", "bbox": [5, 6, 15, 15], "score": 0.7},
    {"image_id": 2, "label": "dog", "bbox": [0, 0, 8, 7], "score": 0.8},
    {"image_id": 1, "label": "cat", "bbox": [50, 50, 60, 60], "score": 0.3},
]


def _voc_summary(res: Any) -> dict[str, Any]:
    return {"ap": dict(res.ap), "map": res.map, "precision": dict(res.precision), "recall": dict(res.recall)}


# --------------------------------------------------------------------------- hostile array variants


def _sanitize(x: Any, role: str) -> Any:
    """The same values as a C-contiguous native float64 array (int64 for integer roles)."""
    arr = np.asarray(x)
    if role in ("labels", "binary") and arr.dtype.kind != "f":  # floats: as_labels checks whole numbers
        if arr.dtype.kind == "u" and arr.size and int(arr.max()) > np.iinfo(np.int64).max:
            return np.array(arr, dtype=np.float64, order="C")  # not an int64: keep the value
        return np.array(arr, dtype=np.int64, order="C")
    return np.array(arr, dtype=np.float64, order="C")  # (np.ascontiguousarray would make 0-d 1-d)


def _cast(value: np.ndarray, dtype: np.dtype[Any]) -> np.ndarray:
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if dtype.kind in "iu":
            return np.trunc(value).astype(dtype)
        if dtype.kind in "US":
            return value.astype(dtype)
        if dtype.kind == "M":
            return value.astype(np.int64).astype(dtype)
        return value.astype(dtype)


def _strided(arr: np.ndarray) -> np.ndarray:
    """A non-contiguous view of ``arr``'s values with NaN (or max) in the skipped slots."""
    big = np.empty(tuple(2 * s for s in arr.shape) or (2,), arr.dtype)
    fill: Any = (
        np.nan if arr.dtype.kind == "f" else (np.iinfo(arr.dtype).max if arr.dtype.kind in "iu" else 1)
    )
    big[...] = fill
    view = big[tuple(slice(None, None, 2) for _ in arr.shape)] if arr.ndim else big[::2].reshape(())
    view[...] = arr
    return view


def _readonly(arr: np.ndarray) -> np.ndarray:
    out = arr.copy()
    out.flags.writeable = False
    return out


def _nan_positions(arg: Arg) -> list[tuple[str, tuple[int, ...]]]:
    """Where to put NaN/inf: each column of a 2-D/3-D array, first and last of 1-D, a few NCHW spots."""
    v = np.asarray(arg.value)
    if arg.nan_at is not None:
        return [(str(p), p) for p in arg.nan_at]
    if v.ndim == 1:
        return [("[0]", (0,)), ("[-1]", (v.shape[0] - 1,))]
    if v.ndim == 4:
        spots = [(0, 0, 0, 0), tuple(n - 1 for n in v.shape), tuple(n // 2 for n in v.shape)]
        return [(str(p), p) for p in spots]
    lead = tuple(min(1, s - 1) for s in v.shape[:-1])
    return [(f"col{j}", (*lead, j)) for j in range(v.shape[-1])]


def _array_variants(arg: Arg, spec: Spec) -> Iterator[tuple[str, str, str, Any, dict[str, Any] | None]]:
    """Yield (kind, table row, expected outcome, hostile value, other replacements) for one argument.

    The other replacements (when not None) change the arguments of the same
    group (cut to the same length) in both the hostile and the reference call.
    """
    v = np.asarray(arg.value)
    role = arg.role
    numeric_label = role in ("labels", "binary")
    # -- shape
    if arg.rank:
        yield "rank-0", "wrong rank", VALUE, v.reshape(-1)[0].copy(), None
        yield "rank+1", "wrong rank", VALUE, v[None], None
        if v.ndim > 1:
            yield "rank-1", "wrong rank", VALUE, v.reshape(-1), None
    else:  # shape must only match the partner argument
        yield "rank+1", "wrong rank", VALUE, v[None], None
    if v.ndim >= 2 and arg.trailing:
        yield "trailing-1", "wrong trailing dimension", VALUE, v[..., :-1], None
        yield "trailing+1", "wrong trailing dimension", VALUE, np.concatenate([v, v[..., :1]], axis=-1), None
    if arg.group is not None and sum(a.group == arg.group for a in spec.arrays) > 1:
        yield "length-1", "wrong length", VALUE, v[:-1], None
    # -- non-finite values in each position
    for label, pos in _nan_positions(arg):
        for special, name, row in (
            (np.nan, "nan", "NaN"),
            (np.inf, "+inf", "+inf"),
            (-np.inf, "-inf", "-inf"),
        ):
            h = v.astype(np.float64)
            h[pos] = special
            yield f"{name}@{label}", row, VALUE, h, None
    # -- empty and single element (the whole group is cut)
    group = [a for a in spec.arrays if arg.group is not None and a.group == arg.group]
    for kind, cut, expect in (("empty", 0, spec.empty), ("single", 1, spec.single)):
        others = {a.name: np.asarray(a.value)[:cut] for a in group if a.name != arg.name}
        expect = spec.expect.get(f"{arg.name}/{kind}", expect)
        yield kind, "empty" if cut == 0 else "single element", expect, v[:cut], others
        if kind == "empty":
            if v.ndim == 1 or role == "boxes":  # [] is (0,): a valid (0, 4) box array, else a wrong rank
                lst: list[Any] = []
                yield "empty-list", "empty", spec.expect.get(f"{arg.name}/empty-list", expect), lst, others
    # -- extreme magnitudes
    extreme = VALUE if role in ("prob", "labels", "binary") else EXTREME
    boxes_too = None
    if spec.scale_invariant and role == "boxes":  # scale every box argument, so the answer must not change
        boxes_too = {
            a.name: np.asarray(a.value) * 1e30 for a in spec.arrays if a.role == "boxes" and a is not arg
        }
    with np.errstate(all="ignore"):
        yield "x1e30", "extreme 1e30", extreme, v * 1e30, boxes_too
        yield "shift-1e30", "extreme -1e30", extreme, v - 1e30, None
        denormal = RESULT if role == "prob" else extreme
        if numeric_label and not v.any():
            denormal = RESULT
        yield "x5e-324", "denormal 5e-324", denormal, v * 5e-324, None
        if not numeric_label:  # every float argument float32, so that the work is done in float32
            all32 = _all_float32(spec, arg, boxes_too)
            yield "float32-x1e30", "extreme 1e30", extreme, (v * 1e30).astype(np.float32), all32
    # -- labels beyond float64's exact integers, and beyond int64
    if role == "labels":
        yield "int64-huge", "integers past float64's exact range (2**62)", RESULT, v + 2**62, None
        yield (
            "uint64-huge",
            "integers past int64 (uint64 2**63)",
            VALUE,
            v.astype(np.uint64) + np.uint64(2**63),
            None,
        )
    if role == "boxes":
        flipped = v.copy()
        flipped[-1, [0, 2]] = flipped[-1, [2, 0]] + [1, 0]  # x2 < x1 in the last row
        yield "degenerate", "degenerate box (x2 < x1)", VALUE, flipped, None
    # -- dtypes
    for name, dt in ALL_DTYPES.items():
        if name in _NON_REAL:
            expect = RESULT if name == "object" and arg.objects_ok else TYPE
            h = _cast(v, dt)
        elif name == "bool":
            expect = RESULT if arg.bool_ok else TYPE
            h = v.astype(bool) if not numeric_label else (v != 0)
            if arg.bool_ok and role == "labels":
                h = v % 2 == 1
        else:
            expect = RESULT
            h = _cast(v, dt)
        yield name, f"dtype {name.split('[')[0]}", spec.expect.get(f"{arg.name}/{name}", expect), h, None
    if not numeric_label:
        yield "float32-all", "dtype float32", RESULT, v.astype(np.float32), _all_float32(spec, arg, None)
    # -- layout and containers
    yield "strided", "non-contiguous (strided)", RESULT, _strided(v), None
    yield "fortran", "Fortran-ordered", RESULT, np.asfortranarray(v), None
    yield "readonly", "read-only", RESULT, _readonly(v), None
    yield "big-endian", "big-endian ('>f8', '>i8')", RESULT, v.astype(v.dtype.newbyteorder(">")), None
    yield "list", "Python list", RESULT, v.tolist(), None
    yield "None", "None", RESULT if arg.optional else TYPE, None, None
    if v.ndim >= 2:
        ragged = v.tolist()
        ragged[0] = ragged[0][:-1]
        yield "ragged-list", "ragged nested list", VALUE, ragged, None


def _all_float32(spec: Spec, arg: Arg, extra: dict[str, Any] | None) -> dict[str, Any]:
    """The other float array arguments of ``spec`` as float32 (after ``extra`` replacements)."""
    out = dict(extra or {})
    for a in spec.arrays:
        if a is arg or a.role in ("labels", "binary"):
            continue
        base = np.asarray(out.get(a.name, a.value))
        out[a.name] = base.astype(np.float32)
    return out


def _scalar_variants(s: Scalar) -> Iterator[tuple[str, str, Any, Any]]:
    """Yield (kind, expected, hostile value, sanitised value) for one scalar parameter."""
    v = s.value
    if s.kind == "choice":
        yield "unknown", VALUE, "no-such-option", None
        if not s.optional:
            yield "None", VALUE, None, None
        yield "bytes", VALUE, v.encode(), None
        return
    if s.kind == "bool":
        yield "np.bool_", RESULT, np.bool_(v), bool(v)
        yield "int", TYPE, int(v), None
        yield "None", TYPE, None, None
        yield "str", TYPE, str(v), None
        return
    if s.kind == "int":
        yield "np.int64", RESULT, np.int64(v), int(v)
        yield "np.uint16", RESULT, np.uint16(v), int(v)
        yield "float", TYPE, float(v), None
        yield "nan", TYPE, math.nan, None
        yield "bool", TYPE, True, None
        yield "str", TYPE, str(v), None
        yield "0-d array", TYPE, np.array(v), None
        yield "below-minimum", VALUE, s.minimum - 1, None
        yield "huge", EXTREME, 10**30, 10**30
        yield "2**63", EXTREME, 2**63, 2**63
        yield "None", RESULT if s.optional else TYPE, None, None
        if s.pair:
            yield "pair", RESULT, (v, v), (v, v)
            yield "triple", VALUE, (v, v, v), None
            yield "pair-with-float", TYPE, (v, float(v)), None
        return
    # real and threshold
    yield "np.float32", RESULT, np.float32(v), float(np.float32(v))
    if float(v) == int(v):
        yield "int", RESULT, int(v), int(v)
    yield "nan", VALUE, math.nan, None
    yield "+inf", VALUE, math.inf, None
    yield "huge", VALUE if s.kind == "threshold" else EXTREME, 1e300, 1e300
    yield "str", TYPE, str(v), None
    yield "None", RESULT if s.optional else TYPE, None, None
    yield "bool", TYPE, True, None
    yield "complex", TYPE, complex(v), None
    if s.kind == "threshold":
        yield "below-0", VALUE, -0.1, None
        yield "above-1", VALUE, 1.5, None


# --------------------------------------------------------------------------- case generation


def _spec_cases(spec: Spec) -> Iterator[Case]:
    base = spec.kwargs()
    for arg in spec.arrays:
        for kind, row, expect, hostile, others in _array_variants(arg, spec):
            expect = spec.expect.get(f"{arg.name}/{kind}", expect)
            kw = {**base, **(others or {}), arg.name: hostile}
            ref_kw = None
            if expect in (RESULT, EXTREME):
                ref_kw = {**base, **(others or {}), arg.name: hostile}
                for a in spec.arrays:
                    if ref_kw[a.name] is not None:
                        ref_kw[a.name] = _sanitize(ref_kw[a.name], a.role)
                if arg.role == "labels" and kind == "bool" and arg.bool_ok:
                    ref_kw[arg.name] = np.asarray(hostile).astype(np.int64)
            scaled = None
            if spec.scale_invariant and arg.role == "boxes" and kind in ("x1e30", "float32-x1e30"):
                scaled = _bind(spec.call, base)
            yield Case(
                id=f"{spec.name}/{arg.name}/{kind}",
                family=spec.family,
                func=spec.name,
                arg=arg.name,
                kind=row,
                expect=expect,
                call=_bind(spec.call, kw),
                reference=None if ref_kw is None else _bind(spec.call, ref_kw),
                names=_names(spec, arg, kind),
                inputs=_const(hostile),
                scaled_reference=scaled,
            )
    for s in spec.scalars:
        for kind, expect, hostile, clean in _scalar_variants(s):
            kw = {**base, s.name: hostile}
            ref = _bind(spec.call, {**base, s.name: clean}) if expect in (RESULT, EXTREME) else None
            yield Case(
                id=f"{spec.name}/{s.name}/{kind}",
                family=spec.family,
                func=spec.name,
                arg=s.name,
                kind=f"scalar: {kind}",
                expect=expect,
                call=_bind(spec.call, kw),
                reference=ref,
                names=(s.name,),
            )


def _names(spec: Spec, arg: Arg, kind: str) -> tuple[str, ...]:
    """Names a message may use: the argument; for a cut group, any member; for COCO arrays, loadRes' names."""
    names = [arg.name]
    if kind in ("empty", "empty-list", "single") and arg.group is not None:
        names += [a.name for a in spec.arrays if a.group == arg.group and a is not arg]
    if arg.role == "coco7":
        names += ["resFile", "results"]
    return tuple(names)


def _bind(fn: Callable[..., Any], kw: dict[str, Any]) -> Callable[[], Any]:
    return lambda: fn(**kw)


def _const(x: Any) -> Callable[[], Any]:
    return lambda: x


def _record_cases() -> Iterator[Case]:
    """Malformed VOC records and COCO datasets, results and files."""

    def voc_case(kind: str, expect: str, gt: Any, dt: Any, names: tuple[str, ...], row: str) -> Case:
        call = (lambda g, d: lambda: _voc_summary(voc.evaluate(g, d)))(gt, dt)
        ref = None
        if expect == RESULT:
            g2, d2 = _plain(gt), _plain(dt)
            ref = (lambda g, d: lambda: _voc_summary(voc.evaluate(g, d)))(g2, d2)
        return Case(
            f"voc.evaluate/{kind}",
            "voc",
            "voc.evaluate",
            names[0],
            row,
            expect,
            call,
            ref,
            names,
            inputs=_const((gt, dt)),
        )

    def with_field(records: list[dict[str, Any]], i: int, key: str, value: Any) -> list[dict[str, Any]]:
        out = copy.deepcopy(records)
        if value is _DELETE:
            del out[i][key]
        else:
            out[i][key] = value
        return out

    gt, dt = _VOC_GT, _VOC_DT
    for col in range(4):
        for special, name in ((math.nan, "nan"), (math.inf, "+inf"), (-math.inf, "-inf")):
            row = {"nan": "NaN", "+inf": "+inf", "-inf": "-inf"}[name]
            bad = [0.0, 0.0, 10.0, 10.0]
            bad[col] = special
            yield voc_case(
                f"gt-bbox-{name}@col{col}", VALUE, with_field(gt, 2, "bbox", bad), dt, ("gt",), row
            )
            yield voc_case(
                f"dt-bbox-{name}@col{col}", VALUE, gt, with_field(dt, 1, "bbox", bad), ("dt",), row
            )
    yield voc_case("dt-score-nan", VALUE, gt, with_field(dt, 2, "score", math.nan), ("dt[2]", "score"), "NaN")
    yield voc_case(
        "dt-score-inf", VALUE, gt, with_field(dt, 2, "score", math.inf), ("dt[2]", "score"), "+inf"
    )
    yield voc_case(
        "dt-score-str",
        TYPE,
        gt,
        with_field(dt, 2, "score", "high"),
        ("dt[2]", "score"),
        "string for a number",
    )
    yield voc_case("dt-score-None", TYPE, gt, with_field(dt, 2, "score", None), ("dt[2]", "score"), "None")
    yield voc_case(
        "gt-bbox-3", VALUE, with_field(gt, 1, "bbox", [0, 0, 1]), dt, ("gt[1]",), "wrong trailing dimension"
    )
    yield voc_case(
        "gt-bbox-5",
        VALUE,
        with_field(gt, 1, "bbox", [0, 0, 1, 1, 1]),
        dt,
        ("gt[1]",),
        "wrong trailing dimension",
    )
    yield voc_case(
        "gt-bbox-str", VALUE, with_field(gt, 1, "bbox", "0 0 1 1"), dt, ("gt[1]",), "string for a number"
    )
    yield voc_case("gt-bbox-None", VALUE, with_field(gt, 1, "bbox", None), dt, ("gt[1]",), "None")
    yield voc_case(
        "gt-bbox-degenerate",
        VALUE,
        with_field(gt, 1, "bbox", [10, 0, 0, 10]),
        dt,
        ("gt",),
        "degenerate box (x2 < x1)",
    )
    yield voc_case(
        "gt-missing-bbox", VALUE, with_field(gt, 0, "bbox", _DELETE), dt, ("gt[0]",), "missing key"
    )
    yield voc_case(
        "dt-missing-score", VALUE, gt, with_field(dt, 3, "score", _DELETE), ("dt[3]",), "missing key"
    )
    yield voc_case("gt-entry-not-dict", TYPE, [*gt, [1, "cat", [0, 0, 1, 1]]], dt, ("gt[4]",), "wrong type")
    yield voc_case("gt-not-a-list", TYPE, gt[0], dt, ("gt",), "wrong type")
    yield voc_case("gt-None", TYPE, None, dt, ("gt",), "None")
    yield voc_case(
        "difficult-2", VALUE, with_field(gt, 0, "difficult", 2), dt, ("gt[0]", "difficult"), "wrong type"
    )
    yield voc_case(
        "image-id-unhashable",
        TYPE,
        with_field(gt, 0, "image_id", [1]),
        dt,
        ("gt[0]", "image_id"),
        "wrong type",
    )
    yield voc_case(
        "difficult-array",
        VALUE,
        with_field(gt, 0, "difficult", np.array([0, 1])),
        dt,
        ("gt[0]", "difficult"),
        "wrong type",
    )
    yield voc_case(
        "dt-score-2**64",
        RESULT,
        gt,
        with_field(dt, 0, "score", 2**64),
        ("dt[0]", "score"),
        "integers past int64 (uint64 2**63)",
    )
    yield voc_case("gt-empty", RESULT, [], dt, ("gt",), "empty")
    yield voc_case("dt-empty", RESULT, gt, [], ("dt",), "empty")
    yield voc_case("both-empty", RESULT, [], [], ("gt",), "empty")
    for name, dtype in ALL_DTYPES.items():
        if name in _NON_REAL or name == "bool":
            continue
        g = [{**r, "bbox": np.asarray(r["bbox"]).astype(dtype)} for r in gt]
        yield voc_case(f"gt-bbox-{name}", RESULT, g, dt, ("gt",), f"dtype {name}")
    g = [{**r, "bbox": np.asarray(r["bbox"]).astype(bool)} for r in gt]
    yield voc_case("gt-bbox-bool", TYPE, g, dt, ("gt",), "dtype bool")
    g = [{**r, "bbox": np.asarray(r["bbox"]).astype(np.complex64)} for r in gt]
    yield voc_case("gt-bbox-complex64", TYPE, g, dt, ("gt",), "dtype complex64")
    g = [{**r, "bbox": tuple(r["bbox"])} for r in gt]
    yield voc_case("gt-bbox-tuple", RESULT, g, dt, ("gt",), "Python list")
    with np.errstate(all="ignore"):
        g = [{**r, "bbox": [c * 1e30 for c in r["bbox"]]} for r in gt]
        d = [{**r, "bbox": [c * 1e30 for c in r["bbox"]]} for r in dt]
    yield voc_case("bbox-x1e30", EXTREME, g, d, ("gt",), "extreme 1e30")

    # ---- COCO: datasets (dicts), results (lists of dicts) and files
    def coco_case(
        kind: str,
        expect: str,
        gt: Any,
        dt: Any,
        names: tuple[str, ...],
        row: str,
        func: str = "evaluate_coco",
    ) -> Case:
        def call(g: Any = gt, d: Any = dt) -> Any:
            return _coco_stats(fastdet.evaluate_coco(g, d))

        ref = None
        if expect == RESULT:
            g2, d2 = _plain(gt), _plain(dt)
            ref = (lambda g, d: lambda: _coco_stats(fastdet.evaluate_coco(g, d)))(g2, d2)
        return Case(
            f"{func}/{kind}", "coco", func, names[0], row, expect, call, ref, names, inputs=_const((gt, dt))
        )

    cgt, cdt = _coco_gt(), _coco_dt()

    def ann(i: int, key: str, value: Any) -> dict[str, Any]:
        g = copy.deepcopy(cgt)
        if value is _DELETE:
            del g["annotations"][i][key]
        else:
            g["annotations"][i][key] = value
        return g

    def det(i: int, key: str, value: Any) -> list[dict[str, Any]]:
        return with_field(cdt, i, key, value)

    for col in range(4):
        for special, name in ((math.nan, "nan"), (math.inf, "+inf"), (-math.inf, "-inf")):
            row = {"nan": "NaN", "+inf": "+inf", "-inf": "-inf"}[name]
            bad = [1.0, 1.0, 5.0, 5.0]
            bad[col] = special
            yield coco_case(f"gt-bbox-{name}@col{col}", VALUE, ann(2, "bbox", bad), cdt, ("bbox",), row)
            yield coco_case(f"dt-bbox-{name}@col{col}", VALUE, cgt, det(2, "bbox", bad), ("bbox",), row)
    yield coco_case("dt-score-nan", VALUE, cgt, det(1, "score", math.nan), ("score",), "NaN")
    yield coco_case("dt-score-str", VALUE, cgt, det(1, "score", "0.5"), ("score",), "string for a number")
    yield coco_case("dt-score-None", VALUE, cgt, det(1, "score", None), ("score",), "None")
    yield coco_case("gt-bbox-3", VALUE, ann(1, "bbox", [0, 0, 1]), cdt, ("bbox",), "wrong trailing dimension")
    yield coco_case(
        "dt-bbox-5", VALUE, cgt, det(1, "bbox", [0, 0, 1, 1, 1]), ("bbox",), "wrong trailing dimension"
    )
    yield coco_case("gt-bbox-str", VALUE, ann(1, "bbox", "0 0 1 1"), cdt, ("bbox",), "string for a number")
    yield coco_case("dt-bbox-None", VALUE, cgt, det(0, "bbox", None), ("bbox",), "None")
    yield coco_case(
        "gt-negative-width",
        VALUE,
        ann(0, "bbox", [10, 10, -5, 5]),
        cdt,
        ("bbox",),
        "degenerate box (x2 < x1)",
    )
    yield coco_case(
        "dt-negative-height",
        VALUE,
        cgt,
        det(0, "bbox", [10, 10, 5, -5]),
        ("bbox",),
        "degenerate box (x2 < x1)",
    )
    yield coco_case("gt-missing-bbox", VALUE, ann(3, "bbox", _DELETE), cdt, ("bbox",), "missing key")
    yield coco_case(
        "gt-missing-image_id", VALUE, ann(3, "image_id", _DELETE), cdt, ("image_id",), "missing key"
    )
    yield coco_case("dt-missing-score", VALUE, cgt, det(3, "score", _DELETE), ("score",), "missing key")
    yield coco_case(
        "dt-missing-category_id", VALUE, cgt, det(3, "category_id", _DELETE), ("category_id",), "missing key"
    )
    dup = copy.deepcopy(cgt)
    dup["annotations"][1]["id"] = dup["annotations"][0]["id"]
    yield coco_case("gt-duplicate-ann-id", VALUE, dup, cdt, ("id",), "duplicate id")
    yield coco_case("gt-image_id-float", VALUE, ann(0, "image_id", 1.5), cdt, ("image_id",), "wrong type")
    yield coco_case("dt-image_id-absent", VALUE, cgt, det(0, "image_id", 99), ("image_id",), "unknown image")
    # pycocotools accepts string ids: a result on a category the ground truth lacks is not evaluated
    yield coco_case(
        "dt-category_id-str", RESULT, cgt, det(0, "category_id", "a"), ("category_id",), "wrong type"
    )
    yield coco_case(
        "dt-category_id-list", VALUE, cgt, det(0, "category_id", [1]), ("category_id",), "wrong type"
    )
    yield coco_case("dt-entry-not-dict", VALUE, cgt, [*cdt, [1, 2, 3]], ("entry",), "wrong type")
    yield coco_case("dt-dict-not-list", VALUE, cgt, {"image_id": 1}, ("list",), "wrong type")
    yield coco_case("gt-list-not-dict", TYPE, [cgt], cdt, ("gt",), "wrong type")
    no_anns = {k: v for k, v in cgt.items() if k != "annotations"}
    # pycocotools accepts a dataset without "annotations" (no ground truth): so does fastdet
    yield coco_case("gt-missing-annotations", RESULT, no_anns, cdt, ("annotations",), "missing key")
    yield coco_case(
        "gt-annotations-not-list",
        VALUE,
        {**cgt, "annotations": {"id": 1}},
        cdt,
        ("annotations",),
        "wrong type",
    )
    yield coco_case(
        "dt-image_id-2**62", VALUE, cgt, det(0, "image_id", 2**62), ("image_id",), "unknown image"
    )
    huge = _coco_dt_array()
    huge[0, 0] = 2.0**62
    yield Case(
        "COCO.loadRes[array]/resFile/image_id-2**62",
        "coco",
        "COCO.loadRes[array]",
        "resFile",
        "unknown image",
        VALUE,
        lambda: fastdet.COCO(cgt, verbose=False).loadRes(huge),
        None,
        ("image_id",),
        inputs=_const(huge),
    )
    yield coco_case("gt-id-inf", VALUE, ann(0, "id", math.inf), cdt, ("'id'", "id="), "+inf")
    yield coco_case(
        "gt-category_id-inf", VALUE, ann(0, "category_id", math.inf), cdt, ("category_id",), "+inf"
    )
    yield coco_case("dt-image_id-inf", VALUE, cgt, det(0, "image_id", math.inf), ("image_id",), "+inf")
    yield coco_case("gt-area-empty-list", VALUE, ann(0, "area", []), cdt, ("area",), "wrong type")
    yield coco_case(
        "dt-category_id-empty-list", VALUE, cgt, det(0, "category_id", []), ("category_id",), "wrong type"
    )
    yield coco_case("gt-area-2**64", RESULT, ann(0, "area", 2**64), cdt, ("area",), "extreme 1e30")
    yield coco_case("dt-score-2**64", RESULT, cgt, det(0, "score", 2**64), ("score",), "extreme 1e30")
    yield coco_case(
        "dt-bbox-numpy-scalar",
        VALUE,
        cgt,
        det(0, "bbox", np.float32(3)),
        ("bbox",),
        "wrong trailing dimension",
    )
    yield coco_case(
        "dt-bbox-ndarray",
        RESULT,
        cgt,
        det(0, "bbox", np.array([0.0, 0.0, 10.0, 9.0])),
        ("bbox",),
        "dtype float64",
    )
    yield coco_case("dt-empty", RESULT, cgt, [], ("dt",), "empty")
    yield coco_case(
        "gt-bbox-np-float32",
        RESULT,
        ann(0, "bbox", np.array([0, 0, 10, 10], np.float32)),
        cdt,
        ("bbox",),
        "dtype float32",
    )
    yield coco_case(
        "dt-bbox-tuple", RESULT, cgt, det(0, "bbox", (0.0, 0.0, 10.0, 9.0)), ("bbox",), "Python list"
    )

    # files: invalid / truncated JSON, wrong top level, absent file
    def file_case(kind: str, text: str | None, which: str, names: tuple[str, ...], row: str) -> Case:
        def call() -> Any:
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / f"{kind}.json"
                if text is not None:
                    path.write_text(text)
                good = Path(tmp) / "good.json"
                good.write_text(json.dumps(cgt if which == "dt" else cdt))
                gt_arg, dt_arg = (path, cdt) if which == "gt" else (cgt, path)
                before = path.read_bytes() if text is not None else None
                try:
                    return _coco_stats(fastdet.evaluate_coco(gt_arg, dt_arg))
                finally:
                    if before is not None and path.read_bytes() != before:
                        raise AssertionError(f"{path} was modified")

        return Case(
            f"evaluate_coco/file-{which}-{kind}",
            "coco",
            "evaluate_coco",
            names[0],
            row,
            VALUE,
            call,
            None,
            names,
        )

    full = json.dumps(cgt)
    yield file_case("truncated", full[: len(full) // 2], "gt", ("truncated.json",), "invalid JSON file")
    yield file_case("not-json", "images: []", "gt", ("not-json.json",), "invalid JSON file")
    yield file_case("empty-file", "", "gt", ("empty-file.json",), "invalid JSON file")
    yield file_case("top-level-list", "[1, 2]", "gt", ("top-level-list.json",), "wrong type")
    yield file_case(
        "nan-literal",
        full.replace('"bbox": [0, 0, 10, 10]', '"bbox": [NaN, 0, 10, 10]'),
        "gt",
        ("nan-literal.json",),
        "NaN",
    )
    dfull = json.dumps(cdt)
    yield file_case("truncated", dfull[: len(dfull) // 2], "dt", ("truncated.json",), "invalid JSON file")
    yield file_case("top-level-dict", '{"image_id": 1}', "dt", ("top-level-dict.json",), "wrong type")
    yield file_case(
        "score-nan", dfull.replace('"score": 0.8', '"score": NaN'), "dt", ("score-nan.json",), "NaN"
    )
    yield file_case(
        "absent-image",
        dfull.replace('"image_id": 2', '"image_id": 7', 1),
        "dt",
        ("absent-image.json",),
        "unknown image",
    )


class _Delete:
    def __repr__(self) -> str:
        return "<delete>"


_DELETE = _Delete()


def _plain(x: Any) -> Any:
    """Records with NumPy arrays and tuples replaced by float lists (the sanitised form)."""
    if isinstance(x, Mapping):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if isinstance(x, np.ndarray):
        return np.asarray(x, np.float64).tolist()
    return x


SPECS: list[Spec] = _specs()
CASES: list[Case] = [c for spec in SPECS for c in _spec_cases(spec)] + list(_record_cases())
_ids = [c.id for c in CASES]
if len(set(_ids)) != len(_ids):  # pragma: no cover - a broken table, caught at import
    raise RuntimeError(f"duplicate case ids: {sorted({i for i in _ids if _ids.count(i) > 1})}")
del _ids


# --------------------------------------------------------------------------- checking


def _quiet(fn: Callable[[], Any]) -> Any:
    """Call ``fn`` with every warning an error except fastdet's documented UndefinedMetricWarning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        return fn()


def _snapshot(x: Any) -> Any:
    if isinstance(x, np.ndarray):
        return ("array", x.dtype.str, x.shape, x.tobytes(), x.flags.writeable)
    if isinstance(x, Mapping):
        return {k: _snapshot(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x).__name__, [_snapshot(v) for v in x]
    if isinstance(x, (float, complex, np.inexact)) and x != x:  # NaN, also complex and NumPy scalars
        return ("nan", repr(x))
    return x


def _leaves(x: Any) -> Iterator[Any]:
    """Every array / number in a result, in a deterministic order."""
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        for f in dataclasses.fields(x):
            yield from _leaves(getattr(x, f.name))
    elif isinstance(x, Mapping):
        for k in x:
            yield ("key", repr(k))
            yield from _leaves(x[k])
    elif isinstance(x, (list, tuple)):
        yield ("len", len(x))
        for v in x:
            yield from _leaves(v)
    else:
        yield x


def compare(got: Any, want: Any, *, float32: bool = False) -> str | None:
    """Describe how ``got`` differs from ``want`` (None if equal; NaN equals NaN)."""
    a, b = list(_leaves(got)), list(_leaves(want))
    if len(a) != len(b):
        return f"different structure: {len(a)} vs {len(b)} leaves"
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        if isinstance(x, tuple) and x and x[0] in ("key", "len"):
            if x != y:
                return f"leaf {i}: {x} != {y}"
            continue
        if isinstance(x, (np.ndarray, np.generic)) or (
            isinstance(x, (int, float)) and not isinstance(x, bool)
        ):
            xa, ya = np.asarray(x), np.asarray(y)
            if xa.shape != ya.shape:
                return f"leaf {i}: shape {xa.shape} != {ya.shape}"
            loose = float32 or xa.dtype == np.float32 or ya.dtype == np.float32
            if not loose and xa.dtype != ya.dtype and (xa.dtype.kind in "fiu" or ya.dtype.kind in "fiu"):
                return f"leaf {i}: dtype {xa.dtype} != {ya.dtype}"
            if xa.dtype.kind in "fc" or ya.dtype.kind in "fc":
                xf, yf = xa.astype(np.float64), ya.astype(np.float64)
                if not np.array_equal(np.isnan(xf), np.isnan(yf)):
                    return f"leaf {i}: NaN in different places: {xf} vs {yf}"
                ok = ~np.isnan(xf)
                if loose:
                    finite = ok & np.isfinite(yf)
                    scale = max(1.0, float(np.abs(yf[finite]).max(initial=0)))
                    if not np.array_equal(xf[ok & ~finite], yf[ok & ~finite]) or not np.allclose(
                        xf[finite], yf[finite], rtol=0, atol=FLOAT32_RTOL * scale
                    ):
                        return f"leaf {i}: {xf} != {yf} (float32 tolerance)"
                elif not np.array_equal(xf[ok], yf[ok]):
                    return f"leaf {i}: {xf} != {yf}"
            elif not np.array_equal(xa, ya):
                return f"leaf {i}: {xa} != {ya}"
        elif x != y:
            return f"leaf {i}: {x!r} != {y!r}"
    return None


def _nonfinite(x: Any) -> tuple[bool, bool]:
    has_nan = has_inf = False
    for leaf in _leaves(x):
        if isinstance(leaf, (np.ndarray, np.generic, float)):
            arr = np.asarray(leaf)
            if arr.dtype.kind in "fc":
                has_nan |= bool(np.isnan(arr).any())
                has_inf |= bool(np.isinf(arr).any())
    return has_nan, has_inf


def _uses_float32(x: Any) -> bool:
    return any(isinstance(leaf, (np.ndarray, np.generic)) and leaf.dtype == np.float32 for leaf in _leaves(x))


def check_outcome(case: Case) -> str | None:
    """Run ``case``; return None if it behaved as expected, else a description of what went wrong."""
    before = _snapshot(case.inputs()) if case.inputs is not None else None
    try:
        got = _quiet(case.call)
    except (ValueError, TypeError) as exc:
        kind = (
            type(exc).__name__
            if type(exc) in (ValueError, TypeError)
            else ("ValueError" if isinstance(exc, ValueError) else "TypeError")
        )
        msg = str(exc)
        if case.expect not in (kind, EXTREME) or (case.expect == EXTREME and kind != VALUE):
            return f"expected {case.expect}, got {type(exc).__name__}: {msg}"
        if not msg.strip():
            return f"{type(exc).__name__} with an empty message"
        if case.names and not any(n in msg for n in case.names):
            return f"{type(exc).__name__} message does not name {' or '.join(case.names)}: {msg!r}"
        return _unchanged(case, before)
    except Exception as exc:  # a crash of another kind is always a failure
        return f"expected {case.expect}, got {type(exc).__name__}: {exc}"
    if case.expect in (VALUE, TYPE):
        return f"expected {case.expect}, got a result: {_short(got)}"
    if case.reference is not None:
        try:
            want = _quiet(case.reference)
        except Exception as exc:
            return f"the reference call on the sanitised input failed: {type(exc).__name__}: {exc}"
        if case.expect == EXTREME:
            base_nan, base_inf = _nonfinite(
                want if case.scaled_reference is None else _quiet(case.scaled_reference)
            )
            nan, inf = _nonfinite(got)
            if (nan and not base_nan) or (inf and not base_inf):
                return (
                    f"extreme input gave {'NaN' if nan else 'inf'} instead of a finite result: {_short(got)}"
                )
        diff = compare(got, want, float32=_uses_float32(got))
        if diff is not None:
            return f"result differs from the sanitised-input result: {diff}"
        if case.scaled_reference is not None:
            diff = compare(got, _quiet(case.scaled_reference), float32=True)
            if diff is not None:
                return f"scale-invariant result differs from the unscaled result: {diff}"
    return _unchanged(case, before)


def _unchanged(case: Case, before: Any) -> str | None:
    if case.inputs is not None and _snapshot(case.inputs()) != before:
        return "the input was modified"
    return None


def _short(x: Any) -> str:
    text = repr(x)
    return text if len(text) < 300 else text[:300] + "..."


def run_case(case: Case) -> None:
    """Run ``case`` and raise ``AssertionError`` with the reason if it misbehaves (for pytest)."""
    problem = check_outcome(case)
    if problem is not None:
        raise AssertionError(f"{case.id}: {problem}")


# --------------------------------------------------------------------------- table and script


_FAMILY_ORDER = ("boxes", "nms", "metrics", "voc", "losses", "arch", "coco")
_SHORT = {RESULT: "result", VALUE: "ValueError", TYPE: "TypeError", EXTREME: "result or ValueError"}


def table(cases: Sequence[Case] = ()) -> str:
    """The README table: per hostile input kind, what each function family gives."""
    cases = cases or CASES
    # kind -> family -> outcome -> argument names
    cells: dict[str, dict[str, dict[str, set[str]]]] = {}
    for c in cases:
        if c.kind.startswith("scalar"):
            continue
        by_outcome = cells.setdefault(c.kind, {}).setdefault(c.family, {})
        by_outcome.setdefault(_SHORT[c.expect], set()).add(c.arg)
    families = [f for f in _FAMILY_ORDER if any(f in row for row in cells.values())]
    lines = [
        "| hostile input | " + " | ".join(families) + " |",
        "|---|" + "---|" * len(families),
    ]
    order = list(_SHORT.values())
    for kind, row in cells.items():
        out = []
        for fam in families:
            got = row.get(fam, {})
            if len(got) <= 1:
                out.append(next(iter(got), ""))
                continue
            # several outcomes: name the arguments of all but the most common one
            common = max(got, key=lambda o: (len(got[o]), -order.index(o)))
            parts = [
                o if o == common else f"{o} ({', '.join(f'`{a}`' for a in sorted(got[o]))})"
                for o in sorted(got, key=order.index)
            ]
            out.append("; ".join(parts))
        lines.append(f"| {kind} | " + " | ".join(out) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run every case (or print the table); exit status 1 on any failure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", action="store_true", help="print the README policy table and exit")
    parser.add_argument("--all", action="store_true", help="also run the KNOWN_FAILURES")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every failure in full")
    parser.add_argument("-k", default="", help="run only the cases whose id contains this")
    args = parser.parse_args(argv)
    if args.table:
        print(table())
        return 0
    failures: list[tuple[str, str]] = []
    known_now_pass: list[str] = []
    ran = skipped = 0
    for case in CASES:
        if args.k and args.k not in case.id:
            continue
        known = case.id in KNOWN_FAILURES
        if known and not args.all:
            skipped += 1
            continue
        ran += 1
        try:
            problem = check_outcome(case)
        except Exception:  # a bug in the harness itself
            problem = "harness error:\n" + traceback.format_exc()
        if problem is None:
            if known:
                known_now_pass.append(case.id)
        elif not known or args.all:
            failures.append((case.id, problem))
        sys.stdout.flush()
    for cid, problem in failures:
        print(f"FAIL {cid}: {problem if args.verbose else problem.splitlines()[0][:200]}")
    for cid in known_now_pass:
        print(f"known failure now passes (remove it from KNOWN_FAILURES): {cid}")
    print(
        f"fuzz_cases: {ran} cases run, {len(failures)} failures, "
        f"{skipped} known failures skipped (of {len(CASES)} cases)"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    faulthandler.enable()  # a segfault prints the Python stack of the case that crashed
    sys.exit(main())
