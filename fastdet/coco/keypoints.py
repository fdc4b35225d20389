"""Keypoint evaluation (``iouType="keypoints"``): OKS per cell, keypoint results, pycocotools-exact.

pycocotools' semantics, reproduced bit for bit (tested against it):

- OKS (``COCOeval.computeOks``): ``var = (2 * sigma)**2``; per keypoint
  ``e = (dx**2 + dy**2) / var / (area + np.spacing(1)) / 2`` with the ground
  truth's ``area`` field; OKS = ``sum(exp(-e)) / n`` over the ground truth's
  keypoints with visibility ``v > 0``. A ground truth with no visible keypoint
  is compared on all K keypoints, ``dx``/``dy`` being how far each detected
  keypoint lies outside the ground-truth box expanded by its width / height on
  every side (``[x - w, x + 2w] x [y - h, y + 2h]``).
- A ground truth is ignored when ``num_keypoints == 0`` (the field, not a
  count of the visible keypoints) or ``iscrowd``; crowd regions can be matched
  by many detections, as in bbox evaluation.
- ``useCats=0``: pycocotools' ``computeOks`` reads the cell ``(image, -1)``,
  which is empty, so ``ious`` are all ``[]``, no detection matches and AP / AR
  are 0 wherever there is ground truth. fastdet reproduces this (the numbers of
  the trusted tool); evaluate per category for meaningful keypoint numbers.
- Results with ``keypoints`` and no ``bbox`` (pycocotools' ``loadRes``
  dispatches on the first entry): ``bbox`` is the box of all x / y values
  (``v = 0`` keypoints included), ``area = w * h`` of that box, ``id = 1..N``;
  results that carry a ``bbox`` load as bbox results (``area`` from the box)
  and keep their keypoints, as in pycocotools.
- Summary: pycocotools' 10 keypoint lines, all at ``maxDets=20``, area ranges
  all / medium / large.

The exponential is NumPy's (see :mod:`fastdet._kernels.keypoints`), the rest of
the arithmetic is done in the same order as pycocotools, so the OKS values are
bit-equal.

Stricter than pycocotools (which fails with a broadcasting or key error, or
silently broadcasts a single keypoint): every annotation taking part must hold
``3 * len(kpt_oks_sigmas)`` finite numbers, ground truths need ``num_keypoints``;
otherwise ``ValueError`` names the file and the entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fastdet._kernels import keypoints as _kk
from fastdet.coco.columns import _Columns, _float_column, _get_column, _is_real
from fastdet.coco.evaluation import CellIous, _Evaluation, cell_sizes

_MAX_KEYPOINTS = 1024  # the kernels sum up to 1024 values exactly as np.sum does

# pycocotools' keypoint summary: (is AP, IoU threshold or None = all, area label, maxDets)
SUMMARY_PLAN: list[tuple[int, float | None, str, int]] = [
    (1, None, "all", 20),
    (1, 0.5, "all", 20),
    (1, 0.75, "all", 20),
    (1, None, "medium", 20),
    (1, None, "large", 20),
    (0, None, "all", 20),
    (0, 0.5, "all", 20),
    (0, 0.75, "all", 20),
    (0, None, "medium", 20),
    (0, None, "large", 20),
]


@dataclass
class _Keypoints:
    """The ``keypoints`` of N annotations: flat numbers, entry i at ``values[off[i]:off[i + 1]]``."""

    values: NDArray[np.float64]
    off: NDArray[np.int64]
    where: str
    num_keypoints: NDArray[np.float64] | None = None  # ground truth only

    def __len__(self) -> int:
        return len(self.off) - 1

    def dense(self, rows: NDArray[np.int64], n_kpt: int) -> NDArray[np.float64]:
        """``(len(rows), 3 * n_kpt)`` keypoints of ``rows``, refusing any other length."""
        width = 3 * n_kpt
        lengths = self.off[rows + 1] - self.off[rows]
        bad = lengths != width
        if bad.any():
            row = int(rows[np.argmax(bad)])
            raise ValueError(
                f"{self.where}: entry {row} has {int(lengths[np.argmax(bad)])} keypoint numbers; "
                f"params.kpt_oks_sigmas has {n_kpt} sigmas, so {width} numbers (x, y, v per keypoint) "
                "are expected"
            )
        if not len(rows):
            return np.empty((0, width), np.float64)
        if len(self.values) == width * len(self):  # every entry has the same length: a reshape
            return np.take(self.values.reshape(-1, width), rows, axis=0)
        idx = self.off[rows][:, None] + np.arange(width)
        return self.values[idx]


def keypoint_values(values: list[Any], where: str) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Validate a column of ``keypoints`` lists: ``(flat values, offsets)``.

    Raises ``ValueError`` naming ``where`` and the entry for a value that is not
    a list of finite numbers whose length is a positive multiple of 3.
    """
    n = len(values)
    arr: Any = None
    if n:
        try:
            arr = np.array(values)  # one C pass when every entry has the same length
        except (ValueError, TypeError):
            arr = None
    if n == 0:
        return np.empty(0, np.float64), np.zeros(1, np.int64)
    rectangular = arr is not None and arr.ndim == 2 and arr.dtype.kind in "iuf"
    if rectangular and arr.shape[1] % 3 == 0 and arr.shape[1]:
        flat = np.ascontiguousarray(arr, dtype=np.float64).reshape(-1)
        if np.isfinite(flat).all():
            return flat, np.arange(n + 1, dtype=np.int64) * arr.shape[1]
    lengths = np.zeros(n + 1, np.int64)
    for i, kp in enumerate(values):
        if not isinstance(kp, (list, tuple, np.ndarray)) or not all(map(_is_real, kp)):
            raise ValueError(f"{where}: entry {i} has keypoints={_short(kp)}; expected a list of numbers")
        if len(kp) == 0 or len(kp) % 3:
            raise ValueError(
                f"{where}: entry {i} has {len(kp)} keypoint numbers; expected a positive multiple of 3 "
                "(x, y, v per keypoint)"
            )
        if not np.isfinite(np.asarray(kp, dtype=np.float64)).all():
            raise ValueError(f"{where}: entry {i} has keypoints={_short(kp)}; expected finite numbers")
        lengths[i + 1] = len(kp)
    off = np.cumsum(lengths)
    flat = np.fromiter((float(v) for kp in values for v in kp), np.float64, int(off[-1]))
    return flat, off


def _short(v: Any) -> str:
    text = repr(v)
    return text if len(text) <= 80 else text[:77] + "..."


def _annotations(coco: Any, role: str) -> tuple[Sequence[Any], str]:
    from fastdet.coco.dataset import COCO

    what = "ground truth" if role == "gt" else "results"
    if isinstance(coco, COCO):
        res = coco._res
        if res is not None and res.anns is not None:
            return res.anns, coco._source
        return coco.dataset.get("annotations", []), f"{coco._source} ({what} annotations)"
    dataset = getattr(coco, "dataset", None)
    if not isinstance(dataset, dict):
        name = "cocoGt" if role == "gt" else "cocoDt"
        raise TypeError(f"{name} must be a COCO object, got {type(coco).__name__}")
    return dataset.get("annotations", []), f"{what} annotations"


def _keypoints_of(coco: Any, role: str) -> _Keypoints:
    """The keypoints of a COCO object's annotations (cached on a fastdet ``COCO``)."""
    from fastdet.coco.dataset import COCO

    key = f"keypoints:{role}"
    if isinstance(coco, COCO):
        res = coco._res
        if role == "dt" and res is not None and isinstance(res.keypoints, _Keypoints):
            return res.keypoints
        if key in coco._index:
            cached: _Keypoints = coco._index[key]
            return cached
    anns, where = _annotations(coco, role)
    values, off = keypoint_values(_get_column(anns, "keypoints", where), where)
    kp = _Keypoints(values, off, where)
    if role == "gt":
        kp.num_keypoints = _float_column(_get_column(anns, "num_keypoints", where), "num_keypoints", where)
    if isinstance(coco, COCO):
        coco._index[key] = kp
    return kp


def result_columns(anns: list[Any], where: str) -> tuple[_Columns, _Keypoints]:
    """Columns of keypoint results (no ``bbox``): the box of the keypoints' x / y and its area.

    pycocotools' ``loadRes``: ``bbox = [x0, y0, x1 - x0, y1 - y0]`` over every
    keypoint (any visibility), ``area = (x1 - x0) * (y1 - y0)``, ``id = 1..N``.
    """
    from fastdet.coco.columns import _id_column

    values, off = keypoint_values(_get_column(anns, "keypoints", where), where)
    n = len(anns)
    image_id, image_keys = _id_column(_get_column(anns, "image_id", where), "image_id", where)
    category_id, category_keys = _id_column(_get_column(anns, "category_id", where), "category_id", where)
    score = _float_column(_get_column(anns, "score", where), "score", where, allow_inf=True)
    x_min = np.empty(n)
    x_max = np.empty(n)
    y_min = np.empty(n)
    y_max = np.empty(n)
    if n and len(values) == n * (off[1] - off[0]):  # all the same length
        xyv = values.reshape(n, -1)
        x_min[:], x_max[:] = xyv[:, 0::3].min(axis=1), xyv[:, 0::3].max(axis=1)
        y_min[:], y_max[:] = xyv[:, 1::3].min(axis=1), xyv[:, 1::3].max(axis=1)
    else:
        for i in range(n):
            one = values[off[i] : off[i + 1]]
            x_min[i], x_max[i] = one[0::3].min(), one[0::3].max()
            y_min[i], y_max[i] = one[1::3].min(), one[1::3].max()
    w = x_max - x_min
    h = y_max - y_min
    cols = _Columns(
        ids=np.arange(1, n + 1, dtype=np.int64),
        image_id=image_id,
        category_id=category_id,
        bbox=np.ascontiguousarray(np.stack([x_min, y_min, w, h], axis=1)),
        area=w * h,
        score=score,
        image_keys=image_keys,
        category_keys=category_keys,
    )
    return cols, _Keypoints(values, off, where)


def materialize_results(source: list[dict[str, Any]]) -> None:
    """Add pycocotools' ``area``, ``id`` and ``bbox`` to keypoint result dicts (in place)."""
    for i, ann in enumerate(source):
        s = ann["keypoints"]
        x = s[0::3]
        y = s[1::3]
        x0, x1, y0, y1 = min(x), max(x), min(y), max(y)
        ann["area"] = (x1 - x0) * (y1 - y0)
        ann["id"] = i + 1
        ann["bbox"] = [x0, y0, x1 - x0, y1 - y0]


def sigmas_of(p: Any) -> NDArray[np.float64]:
    """``params.kpt_oks_sigmas`` as a validated float64 vector."""
    raw = getattr(p, "kpt_oks_sigmas", None)
    try:
        sigmas = np.asarray(raw, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise ValueError(f"params.kpt_oks_sigmas must be a vector of numbers, got {raw!r}") from None
    if raw is None or not 0 < len(sigmas) <= _MAX_KEYPOINTS or not (np.isfinite(sigmas) & (sigmas > 0)).all():
        raise ValueError(
            f"params.kpt_oks_sigmas must be 1 to {_MAX_KEYPOINTS} finite positive numbers, got {raw!r}"
        )
    return sigmas


def prepare(cocoGt: Any, cocoDt: Any, gt: _Columns, p: Any) -> tuple[_Columns, CellIous]:
    """Ground-truth columns with keypoint ignore flags, and the OKS ``cell_ious`` for ``_evaluate``."""
    sigmas = sigmas_of(p)
    gk = _keypoints_of(cocoGt, "gt")
    dk = _keypoints_of(cocoDt, "dt")
    if len(gk) != len(gt):
        raise AssertionError("ground-truth keypoints and columns differ in length")
    assert gk.num_keypoints is not None
    assert gt.ignore is not None
    gt = replace(gt, ignore=gt.ignore | (gk.num_keypoints == 0))

    def cell_ious(ev: _Evaluation) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        if not p.useCats:
            # pycocotools' computeOks (unlike computeIoU) has no useCats=0 branch: it looks up the
            # cell (image, -1), finds nothing and returns [], so no detection ever matches
            iou_off, _ = cell_sizes(ev)
            ev.extra["no_ious"] = True
            return iou_off, np.full(int(iou_off[-1]), -np.inf)
        return oks_cells(ev, gk, dk, sigmas)

    return gt, cell_ious


def oks_cells(
    ev: _Evaluation, gk: _Keypoints, dk: _Keypoints, sigmas: NDArray[np.float64]
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Every cell's (D_c, G_c) OKS block, row-major (see :func:`fastdet.coco.evaluation.cell_sizes`)."""
    n_kpt = len(sigmas)
    iou_off, _ = cell_sizes(ev)
    out = np.zeros(int(iou_off[-1]), np.float64)
    n_g = np.diff(ev.gt_off)
    n_d = np.diff(ev.dt_off)
    both = (n_g > 0) & (n_d > 0)
    # only annotations in cells with both kinds are compared (pycocotools reads no others)
    g_take = np.repeat(both, n_g)
    d_take = np.repeat(both, n_d)
    g_rows = ev.gt_rows[g_take]
    d_rows = ev.dt_rows[d_take]
    g_dense = gk.dense(g_rows, n_kpt)
    d_dense = dk.dense(d_rows, n_kpt)
    if not len(out):
        return iou_off, out
    gt_off = np.zeros(len(n_g) + 1, np.int64)
    np.cumsum(np.where(both, n_g, 0), out=gt_off[1:])
    dt_off = np.zeros(len(n_d) + 1, np.int64)
    np.cumsum(np.where(both, n_d, 0), out=dt_off[1:])
    g_x = np.ascontiguousarray(g_dense[:, 0::3])
    g_y = np.ascontiguousarray(g_dense[:, 1::3])
    g_v = np.ascontiguousarray(g_dense[:, 2::3])
    visible = np.count_nonzero(g_v > 0, axis=1).astype(np.int64)
    g_count = np.where(visible > 0, visible, n_kpt).astype(np.int64)
    d_x = np.ascontiguousarray(d_dense[:, 0::3])
    d_y = np.ascontiguousarray(d_dense[:, 1::3])
    g_box = np.ascontiguousarray(ev.gt_box[g_take])
    g_area = np.ascontiguousarray(ev.gt_area[g_take])
    # exponents per detection in each cell: the sum of its ground truths' counts
    count_cs = np.zeros(len(g_count) + 1, np.int64)
    np.cumsum(g_count, out=count_cs[1:])
    per_dt = count_cs[gt_off[1:]] - count_cs[gt_off[:-1]]
    e_off = np.zeros(len(n_d) + 1, np.int64)
    np.cumsum(np.diff(dt_off) * per_dt, out=e_off[1:])
    var = (sigmas * 2) ** 2
    e_buf = np.empty(int(e_off[-1]), np.float64)
    eps = float(np.spacing(1))
    _kk.oks_exponents(gt_off, dt_off, g_x, g_y, g_v, g_count, g_box, g_area, d_x, d_y, var, eps, e_off, e_buf)
    ex = np.exp(-e_buf)  # NumPy's exp, as pycocotools' (out of place: the same SIMD path)
    _kk.oks_reduce(gt_off, dt_off, g_count, e_off, ex, iou_off, out)
    return iou_off, out
