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

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fastdet import _memory
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
    """The ``keypoints`` of N annotations: entry i is ``values[start[i]:start[i] + length[i]]``.

    Entries need not be packed: keypoints read by the JSON scanner stay in the
    scanner's rows (``start`` steps by a row), so the values are never copied.
    """

    values: NDArray[np.float64]
    start: NDArray[np.int64]
    length: NDArray[np.int64]
    where: str
    num_keypoints: NDArray[np.float64] | None = None  # ground truth only

    @classmethod
    def packed(cls, values: NDArray[np.float64], off: NDArray[np.int64], where: str) -> _Keypoints:
        """Entries one after another: entry i is ``values[off[i]:off[i + 1]]``."""
        return cls(values, off[:-1], np.diff(off), where)

    @classmethod
    def rows(
        cls, values: NDArray[np.float64], start: NDArray[np.int64], width: int, where: str
    ) -> _Keypoints:
        """Entries of ``width`` values each, at ``start``."""
        return cls(values, start, np.full(len(start), width, np.int64), where)

    def __len__(self) -> int:
        return len(self.start)

    def __getstate__(self) -> dict[str, Any]:
        """Pickled and deep-copied packed: rows read in place also hold the scanner's other slots and
        its spare rows, whose memory was never written (it would travel in the pickle)."""
        state = dict(self.__dict__)
        off = np.zeros(len(self.length) + 1, np.int64)
        np.cumsum(self.length, out=off[1:])
        if len(self.values) != off[-1] or not (self.start == off[:-1]).all():
            at = np.arange(off[-1], dtype=np.int64) + np.repeat(self.start - off[:-1], self.length)
            state["values"] = self.values[at]
            state["start"] = off[:-1].copy()
        return state

    def starts(self, rows: NDArray[np.int64], used: NDArray[np.bool_], n_kpt: int) -> NDArray[np.int64]:
        """Where each of ``rows`` starts in ``values``, refusing a used row not of ``3 * n_kpt`` numbers."""
        width = 3 * n_kpt
        bad = used & (self.length[rows] != width)
        if bad.any():
            row = int(rows[int(np.argmax(bad))])
            raise ValueError(
                f"{self.where}: entry {row} has {int(self.length[row])} keypoint numbers; "
                f"params.kpt_oks_sigmas has {n_kpt} sigmas, so {width} numbers (x, y, v per keypoint) "
                "are expected"
            )
        return np.ascontiguousarray(self.start[rows])


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
    kp = None
    if isinstance(coco, COCO) and role == "gt" and coco._raw is not None and coco._dataset is None:
        start = coco._scan.ann_start if coco._scan is not None else -1
        if start >= 0:
            kp = _scan_ground_truth(coco._raw, start, f"{coco._source} (ground truth annotations)")
    if kp is None:
        anns, where = _annotations(coco, role)
        values, off = keypoint_values(_get_column(anns, "keypoints", where), where)
        kp = _Keypoints.packed(values, off, where)
        if role == "gt":
            kp.num_keypoints = _float_column(
                _get_column(anns, "num_keypoints", where), "num_keypoints", where
            )
    if isinstance(coco, COCO):
        coco._index[key] = kp
    return kp


def _scan_ground_truth(raw: bytes, start: int, where: str) -> _Keypoints | None:
    """``keypoints`` and ``num_keypoints`` of the annotations array at ``raw[start]``, by the JSON scanner.

    None (then the parsed dataset is read) unless every annotation has both, its
    keypoints as long as the first one's, finite.
    """
    from fastdet._kernels import jsonscan as _scan
    from fastdet.coco.reading import _scan_array, _Spec

    buf = np.frombuffer(raw, np.uint8)
    width = _first_width(raw, start)
    if width <= 0:
        return None
    spec = _Spec.of([("keypoints", width, _scan.FLOAT), ("num_keypoints", 1, _scan.FLOAT)])
    arr = _scan_array(raw, buf, start, spec, big=True)
    if arr is None or not (arr.seen == spec.full).all():
        return None
    values, row_start = arr.float_rows(0, width)
    if not _kk.keypoint_extent(values, row_start, width, np.empty((len(row_start), 4))):
        return None  # a value that is not finite (the box is not needed)
    kp = _Keypoints.rows(values, row_start, width, where)
    kp.num_keypoints = arr.floats(width)
    return kp


def _first_width(raw: bytes, start: int) -> int:
    """Length of the first ``"keypoints": [...]`` array at or after ``start`` (-1: none, or not plain)."""
    first = raw.find(b'"keypoints"', start)
    if first < 0:
        return -1
    open_ = raw.find(b"[", first)
    close = raw.find(b"]", open_)
    if open_ < 0 or close < 0 or raw[first + 11 : open_].strip(b" \t\r\n:") != b"":
        return -1
    width = raw.count(b",", open_, close) + 1
    return width if width % 3 == 0 and 3 <= width <= 3 * _MAX_KEYPOINTS else -1


def result_columns(anns: list[Any], where: str) -> tuple[_Columns, _Keypoints]:
    """Columns of keypoint results (no ``bbox``): the box of the keypoints' x / y and its area.

    pycocotools' ``loadRes``: ``bbox = [x0, y0, x1 - x0, y1 - y0]`` over every
    keypoint (any visibility), ``area = (x1 - x0) * (y1 - y0)``, ``id = 1..N``.
    """
    from fastdet.coco.columns import _id_column

    values, off = keypoint_values(_get_column(anns, "keypoints", where), where)
    image_id, image_keys = _id_column(_get_column(anns, "image_id", where), "image_id", where)
    category_id, category_keys = _id_column(_get_column(anns, "category_id", where), "category_id", where)
    score = _float_column(_get_column(anns, "score", where), "score", where, allow_inf=True)
    kps = _Keypoints.packed(values, off, where)
    cols = _result_columns(kps, (image_id, image_keys), (category_id, category_keys), score)
    narrow = np.asarray(anns[0]["keypoints"]).dtype if anns else np.dtype(np.float64)
    if narrow.kind == "f" and narrow.itemsize < 8:  # NumPy float32 values: pycocotools' np.min / np.max
        # keep them, so x1 - x0, y1 - y0 and their product round to float32 (decided from the first entry)
        triples = values.reshape(-1, 3)  # every entry is a positive multiple of 3 numbers
        x1 = np.maximum.reduceat(triples[:, 0], off[:-1] // 3).astype(narrow)
        y1 = np.maximum.reduceat(triples[:, 1], off[:-1] // 3).astype(narrow)
        w, h = x1 - cols.bbox[:, 0].astype(narrow), y1 - cols.bbox[:, 1].astype(narrow)
        cols.bbox[:, 2] = w
        cols.bbox[:, 3] = h
        cols.area = (w * h).astype(np.float64)
    return cols, kps


def scan_results(raw: bytes, where: str) -> tuple[_Columns, _Keypoints] | None:
    """Keypoint results read from the file text by the JSON scanner, or None (then parse in full).

    Only files whose entries all hold ``image_id``, ``category_id``, ``score`` and
    a ``keypoints`` array as long as the first one (finite numbers, a multiple of 3)
    and whose first entry has no ``bbox`` (pycocotools' bbox branch) are read
    here; anything else (and every malformed entry) goes to the full parser,
    whose checks name the entry.
    """
    from fastdet._kernels import jsonscan as _scan
    from fastdet.coco.reading import _id_column, _scan_array, _Spec

    start = raw.find(b"{")
    head = raw[start : raw.find(b"}", start)]  # the first entry, up to any nested object
    if start < 0 or b'"keypoints"' not in head or b'"bbox"' in head:  # not keypoint results, or bbox ones
        return None
    width = _first_width(raw, start)
    if width <= 0:
        return None
    f, i_s = _scan.FLOAT, _scan.INT_OR_STR
    spec = _Spec.of(
        [("image_id", 1, i_s), ("category_id", 1, i_s), ("keypoints", width, f), ("score", 1, f),
         ("bbox", 4, f), ("segmentation", 1, f), ("caption", 1, f)]
    )  # fmt: skip
    buf = np.frombuffer(raw, np.uint8)
    arr = _scan_array(raw, buf, 0, spec, big=True, entry_bytes=len(head) + 2)  # with '}' and ','
    if arr is None or raw[arr.end :].strip(b" \t\r\n") or not len(arr):
        return None
    seen = arr.seen
    if not ((seen & 15) == 15).all() or (seen[0] & 16) or (seen & 96).any():
        return None  # a missing field, a bbox first (bbox results), a segmentation or caption
    img = _id_column(raw, arr, 0)
    cat = _id_column(raw, arr, 1)
    if img is None or cat is None:
        return None
    values, row_start = arr.float_rows(2, width)
    score = arr.floats(2 + width)
    box = np.empty((len(row_start), 4), np.float64)
    if not _kk.keypoint_extent(values, row_start, width, box) or np.isnan(score).any():
        return None  # the full parser names the entry
    kp = _Keypoints.rows(values, row_start, width, where)
    return _result_columns(kp, img, cat, score, box), kp


def _result_columns(
    kp: _Keypoints,
    img: tuple[NDArray[np.int64], list[Any] | None],
    cat: tuple[NDArray[np.int64], list[Any] | None],
    score: NDArray[np.float64],
    box: NDArray[np.float64] | None = None,
) -> _Columns:
    """The columns of keypoint results; ``box``: their extent, when already computed."""
    n = len(kp)
    if box is None and n and (kp.length == kp.length[0]).all():  # all the same length
        box = np.empty((n, 4), np.float64)
        _kk.keypoint_extent(kp.values, kp.start, int(kp.length[0]), box)  # finite: checked already
    if box is None:  # keypoint lists of different lengths
        box = np.empty((n, 4), np.float64)
        for i in range(n):
            one = kp.values[kp.start[i] : kp.start[i] + kp.length[i]]
            x0, y0 = one[0::3].min(), one[1::3].min()
            box[i] = x0, y0, one[0::3].max() - x0, one[1::3].max() - y0
    image_id, image_keys = img
    category_id, category_keys = cat
    return _Columns(
        ids=np.arange(1, n + 1, dtype=np.int64),
        image_id=image_id,
        category_id=category_id,
        bbox=box,
        area=box[:, 2] * box[:, 3],
        score=score,
        image_keys=image_keys,
        category_keys=category_keys,
    )


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
    if gt.missing_area >= 0:  # pycocotools' computeOks reads the area of every ground truth
        raise ValueError(
            f"{gt.where}: entry {gt.missing_area} has no 'area' field (needed for iouType 'keypoints')"
        )
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
    g_start = gk.starts(ev.gt_rows, np.repeat(both, n_g), n_kpt)
    d_start = dk.starts(ev.dt_rows, np.repeat(both, n_d), n_kpt)
    if not len(out):
        return iou_off, out
    g_count = np.zeros(len(g_start), np.int64)
    e_off = np.zeros(len(n_g) + 1, np.int64)
    n_cells = len(ev.gt_off) - 1
    _kk.oks_counts(n_cells, ev.gt_off, ev.dt_off, g_start, gk.values, n_kpt, g_count, e_off[1:])
    np.cumsum(e_off, out=e_off)
    var = (sigmas * 2) ** 2
    e_buf = _memory.empty(int(e_off[-1]), np.float64)
    eps = float(np.spacing(1))
    # every exponent is >= 0 when every area + eps is > 0 (sigmas are): then exp(-e) = 0 for large e
    # is written as a marker, sparing NumPy's slow underflow path
    shortcut = bool(np.all(ev.gt_area + eps > 0))
    _kk.oks_exponents(
        n_cells, ev.gt_off, ev.dt_off, g_start, gk.values, g_count, ev.gt_box, ev.gt_area, d_start, dk.values,
        var, eps, shortcut, e_off, e_buf,
    )  # fmt: skip
    ex = _exp_in_place(e_buf)
    _kk.oks_reduce(n_cells, ev.gt_off, ev.dt_off, g_count, e_off, ex, shortcut, iou_off, out)
    return iou_off, out


def _exp_in_place(neg_e: NDArray[np.float64]) -> NDArray[np.float64]:
    """``np.exp`` of every element, in place and in chunks on several threads.

    pycocotools calls ``np.exp`` out of place; NumPy takes the same SIMD loop
    in place (its ``IS_OUTPUT_BLOCKABLE_UNARY`` accepts an output that is the
    input), so the bits are the same, without a second buffer of fresh pages.
    NumPy releases the GIL in ufunc loops, and each element's result depends on
    its value only, so chunking changes nothing but the time.
    """
    from fastdet.coco.reading import _run_threads, _thread_budget

    parts = min(_thread_budget(), max(1, len(neg_e) >> 18))
    bounds = np.linspace(0, len(neg_e), parts + 1).astype(np.int64).tolist()

    def job(a: int, b: int) -> Any:
        return lambda: np.exp(neg_e[a:b], out=neg_e[a:b])

    _run_threads([job(a, b) for a, b in itertools.pairwise(bounds)])
    return neg_e
