"""Columnar run-length masks: many COCO RLEs in a few flat arrays, for evaluation code.

This is fastdet's internal batch API beneath :mod:`fastdet.mask` (which keeps
pycocotools' dict-per-mask interface). Every result equals what pycocotools'
``maskApi.c`` computes, run for run; nothing here decodes masks to pixels
except :func:`to_masks`.

Layout
------
:class:`Rles` holds ``n`` masks:

``runs`` : int64 ``(R,)``
    All run lengths, mask after mask. A mask's runs count pixels in column-major
    order (down the first column, then the next), alternate background and
    foreground, and start with background (a first run of 0 when pixel (0, 0) is
    set). Runs are kept as given, zero-length runs included.
``offsets`` : int64 ``(n + 1,)``
    CSR offsets: mask ``i`` is ``runs[offsets[i]:offsets[i + 1]]``.
``h``, ``w`` : int64 ``(n,)``
    Mask heights and widths; the runs of mask ``i`` add up to ``h[i] * w[i]``.

Groups (for :func:`merge_groups` and :func:`iou_groups`) are CSR offsets too:
group ``g`` is entries ``group_offsets[g]:group_offsets[g + 1]``.

Functions
---------
Building (validated: a bad entry raises ``ValueError`` naming ``name[i]``):

- ``from_counts(counts, h, w, name)``: compressed ``counts`` (bytes or str, one
  per mask) to :class:`Rles`. ``measure_counts(counts, h, w, name)`` returns
  ``(areas, bboxes)`` of compressed strings without storing their runs.
- ``from_dicts(objs, name)``: a list of ``{"size": [h, w], "counts": bytes|str}``.
- ``from_uncompressed(counts_lists, h, w, name)``: lists of ints (COCO crowd RLEs).
- ``from_polygons(xy, point_offsets, h, w)``: rleFrPoly of polygon ``i`` =
  points ``point_offsets[i]:point_offsets[i + 1]`` of the interleaved float64
  ``xy = [x0, y0, x1, y1, ...]``; ``h``, ``w`` per polygon (arrays) or shared
  (ints). Like pycocotools it takes any number of points (a polygon of fewer than
  3 points gives pycocotools' mask, usually empty); only the coordinates are
  checked (finite, ``|v| < 4e8``). ``from_boxes(boxes, h, w)``: rleFrBbox of
  ``(n, 4)`` xywh boxes.
- ``from_masks(masks)``: rleEncode of an ``(h, w, n)`` array (nonzero = foreground).

Reading:

- ``to_counts(rles)`` -> list of compressed ``bytes`` (byte-identical to
  pycocotools' ``rleToString``); ``to_dicts(rles)`` -> pycocotools dicts.
- ``to_masks(rles)`` -> uint8 ``(h, w, n)`` Fortran-ordered array (rleDecode).
- ``areas(rles)`` -> int64 ``(n,)``; ``bboxes(rles)`` -> float64 ``(n, 4)`` xywh
  (rleToBbox, including its wrap-around sides for masks whose only foreground
  runs are empty).
- ``take(rles, index)`` -> the masks ``index`` (int64 array) as a new :class:`Rles`.

Evaluating, on many independent groups in one parallel call:

- ``merge_groups(rles, group_offsets, intersect=False)`` -> :class:`Rles` with one
  mask per group: rleMerge (union, or intersection) of the group's masks, in
  order (as COCO's ``annToRLE`` merges the polygons of one annotation). An empty
  group gives a 0x0 mask with no runs. Sizes within a group must agree (not checked).
  Where pycocotools' walk stops early (two masks reaching empty runs at the same
  pixel: its result then misses pixels, and with 3+ masks it never returns), the
  group is merged from :func:`canonical` masks: the true union / intersection.
- ``canonical(rles)``: the same masks without empty runs after the first.
- ``iou_groups(dt, gt, iscrowd, dt_offsets, gt_offsets, dt_index=None,
  gt_index=None)`` -> ``(values, value_offsets)``: for each group ``g``, the
  pycocotools ``iou`` block of its detections against its ground truths,
  row-major ``(D_g, G_g)`` in ``values[value_offsets[g]:value_offsets[g + 1]]``.
  ``dt_index`` / ``gt_index`` (int64, default ``arange``) select and order the
  masks, so groups may share or reorder masks without copying; ``dt_offsets`` /
  ``gt_offsets`` are CSR offsets into those index arrays; ``iscrowd`` is one flag
  per entry of ``gt_index``. IoU is ``|d & g| / |d | g|``, or ``|d & g| / |d|``
  for a crowd ground truth; 0 when the boxes (``bboxes``) do not overlap or the
  intersection is empty, -1 for a pair of different sizes whose boxes overlap.

Helpers for :mod:`fastdet.mask` (dicts in, no :class:`Rles` built):
``measure_dicts(objs, name, store, boxes)`` validates a list of RLE dicts in one
pass and returns their areas, boxes, canonical flags and (``store``) runs or run
ends in place; ``merge_measured`` and ``iou_measured`` work on its result.

Kernels are in :mod:`fastdet._kernels.rlestring` (compressed strings),
:mod:`fastdet._kernels.mask` and :mod:`fastdet._kernels.mask_raster`; the batch
ones (:class:`~fastdet._kernels.ChunkedKernel`) run in one call on this thread
(``k.serial``) when the work is estimated below ``PARALLEL_WORK`` nanoseconds on
one thread, where starting threads costs more than it saves.
Batch kernels are called from here only (and from :mod:`fastdet.mask` and
:mod:`fastdet.coco.segm`).

Examples
--------
COCO's ``annToRLE`` for two polygon annotations (the first of two parts) of a
4 x 6 image, then the IoU of two detections with them, the second a crowd region:

>>> import numpy as np
>>> parts = [[0, 0, 3, 0, 3, 2], [4, 1, 6, 1, 6, 4], [0, 0, 6, 0, 6, 4, 0, 4]]
>>> xy = np.concatenate([np.array(p, float) for p in parts])
>>> point_offsets = np.cumsum([0] + [len(p) // 2 for p in parts])
>>> gt = merge_groups(from_polygons(xy, point_offsets, 4, 6), [0, 2, 3])
>>> areas(gt), to_counts(gt)
(array([ 6, 24]), [b'41314OL1N', b'0h0'])
>>> dt = from_dicts([{"size": [4, 6], "counts": b"022000<"}, {"size": [4, 6], "counts": "=31000"}])
>>> values, offsets = iou_groups(dt, gt, [0, 1], [0, 2], [0, 2])
>>> values.reshape(2, 2)
array([[0.33333333, 1.        ],
       [0.25      , 1.        ]])
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fastdet._kernels import mask as _k
from fastdet._kernels import mask_raster as _kr
from fastdet._kernels import rlestring as _ks

__all__ = [
    "MAX_COORD",
    "MAX_PIXELS",
    "PARALLEL_WORK",
    "Rles",
    "areas",
    "bboxes",
    "canonical",
    "from_boxes",
    "from_counts",
    "from_dicts",
    "from_masks",
    "from_polygons",
    "from_uncompressed",
    "iou_groups",
    "measure_counts",
    "merge_groups",
    "take",
    "to_counts",
    "to_dicts",
    "to_masks",
]

#: pycocotools keeps run lengths and areas in 32-bit unsigned ints: h * w must stay below 2**32.
MAX_PIXELS = 2**32 - 1
#: rleFrPoly casts 5 * coordinate to a C int; beyond this the cast is undefined.
MAX_COORD = 4.0e8
#: Estimated one-thread time (ns) from which kernels use threads. The estimates are rough
#: per-element costs measured on a 2-core x86 VM: a string byte 2.5, a run 3, a pixel 0.3,
#: a polygon vertex 500, an IoU pair 100.
PARALLEL_WORK = 300_000
_NS_BYTE, _NS_RUN, _NS_PIXEL, _NS_VERTEX, _NS_PAIR = 2.5, 3.0, 0.3, 500.0, 100.0
#: A union of masks whose image has at most this many 64-pixel words per input run is painted
#: into a bitmap (linear time); others fold foreground intervals (which rewrites the running
#: union at every mask, quadratic for many masks). Both give the same runs.
BITMAP_WORDS_PER_RUN = 4

_STATUS = {
    _ks.BAD_CHAR: "holds a byte outside the RLE alphabet (ASCII 48..111)",
    _ks.TRUNCATED: "ends in the middle of a value",
    _ks.LONG_VALUE: "holds a value longer than 7 characters",
    _ks.BAD_RUN: "decodes to a run length outside [0, 2**32)",
}

I64 = NDArray[np.int64]
_COUNTS, _SIZE = operator.itemgetter("counts"), operator.itemgetter("size")


class Rles(NamedTuple):
    """``n`` run-length masks in flat arrays (see the module docstring for the layout)."""

    runs: I64
    offsets: I64
    h: I64
    w: I64

    def __len__(self) -> int:
        """Number of masks (not the number of fields)."""
        return len(self.h)


class _Measured(NamedTuple):
    """Masks in a slotted layout (mask i = ``runs[start[i]:start[i] + count[i]]``) with their statistics."""

    runs: I64  # the runs, or their ends (prefix sums) when prepared for IoU
    start: I64
    lens: I64
    h: I64
    w: I64
    area: I64
    bbox: NDArray[np.float64]
    canon: I64


def _pick(module: Any, name: str, work: float, items: int) -> Callable[..., Any]:
    """The chunked kernel ``name`` for big inputs, else its one-thread call (``ChunkedKernel.serial``).

    Either is called as ``k(n, *args)``, ``n`` the extent of the kernel's outer loop.
    """
    k = getattr(module, name)
    return k if work >= PARALLEL_WORK and items > 1 else k.serial


def _check_offsets(offsets: I64, end: int, name: str) -> None:
    """Raise ``ValueError`` unless ``offsets`` are CSR offsets from 0 to ``end`` (kernels trust them)."""
    if (
        offsets.ndim != 1
        or len(offsets) < 1
        or offsets[0] != 0
        or offsets[-1] != end
        or (np.diff(offsets) < 0).any()
    ):
        raise ValueError(f"{name} must be non-decreasing offsets from 0 to {end}, got {offsets!r:.80}")


def _check_index(index: I64, n: int, name: str) -> None:
    """Raise ``ValueError`` unless every entry of ``index`` is in ``[0, n)``."""
    if index.ndim != 1 or (len(index) and (index.min() < 0 or index.max() >= n)):
        raise ValueError(f"{name} must be a 1-D array of indices in [0, {n})")


def _csr(lengths: I64) -> I64:
    out = np.zeros(len(lengths) + 1, np.int64)
    np.cumsum(lengths, out=out[1:])
    return out


def _sizes(h: ArrayLike, w: ArrayLike, n: int) -> tuple[I64, I64]:
    """Per-mask h, w as int64 arrays (a scalar is shared by all masks)."""
    hh = np.ascontiguousarray(np.broadcast_to(np.asarray(h, np.int64), (n,)))
    ww = np.ascontiguousarray(np.broadcast_to(np.asarray(w, np.int64), (n,)))
    return hh, ww


def check_size(h: Any, w: Any, name: str) -> tuple[int, int]:
    """``(h, w)`` as Python ints, or raise: non-negative integers (whole floats pass) with h*w < 2**32."""
    if type(h) is int and type(w) is int and h >= 0 and w >= 0 and h * w <= MAX_PIXELS:
        return h, w  # the usual case, without the checks below
    out = []
    for v, what in ((h, "height"), (w, "width")):
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer, float, np.floating)):
            raise TypeError(f"{name}: the {what} must be an integer, got {type(v).__name__}")
        if isinstance(v, (float, np.floating)) and not float(v).is_integer():
            raise ValueError(f"{name}: the {what} must be a whole number, got {v!r}")
        iv = int(v)
        if iv < 0:
            raise ValueError(f"{name}: the {what} must be >= 0, got {iv}")
        out.append(iv)
    if out[0] * out[1] > MAX_PIXELS:
        raise ValueError(f"{name}: size {out[0]} x {out[1]} has 2**32 pixels or more (pycocotools' limit)")
    return out[0], out[1]


def _check_sizes(hw: NDArray[np.float64], name: str) -> None:
    """Vectorised :func:`check_size` over the ``(n, 2)`` float sizes of ``name[i]['size']``."""
    if not len(hw):
        return
    bad = ~np.isfinite(hw).all(1)
    bad |= (hw != np.round(hw)).any(1) | (hw < 0).any(1)
    bad |= np.where(bad, 0.0, hw[:, 0] * hw[:, 1]) > MAX_PIXELS
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        h, w = hw[i].tolist()
        check_size(h, w, f"{name}[{i}]['size']")
        raise ValueError(f"{name}[{i}]['size'] is invalid: {[h, w]}")  # pragma: no cover


# ----------------------------------------------------------------------------- compressed strings
def _join_counts(counts: Sequence[Any], name: str) -> tuple[NDArray[np.uint8], I64]:
    """Concatenate compressed strings into one uint8 buffer and its CSR byte offsets."""
    try:
        blob = b"".join(counts)
    except TypeError:
        blob = None
    if blob is None:
        try:  # strings (as JSON gives them): one join, ASCII only
            blob = "".join(counts).encode("ascii")
        except (TypeError, UnicodeEncodeError):
            blob = None
    if blob is None:
        fixed = []
        for i, c in enumerate(counts):
            if isinstance(c, str):
                try:
                    c = c.encode("ascii")
                except UnicodeEncodeError:
                    raise ValueError(f"{name}[{i}]['counts'] holds a non-ASCII character") from None
            elif isinstance(c, (list, tuple, np.ndarray)):
                raise TypeError(
                    f"{name}[{i}]['counts'] is a {type(c).__name__}: an uncompressed RLE; "
                    "convert it with frPyObjects first"
                ) from None
            elif not isinstance(c, (bytes, bytearray, memoryview)):
                raise TypeError(
                    f"{name}[{i}]['counts'] must be bytes or str, got {type(c).__name__}"
                ) from None
            fixed.append(c)
        counts = fixed
        blob = b"".join(counts)
    lengths = np.fromiter(map(len, counts), np.int64, len(counts))
    return np.frombuffer(blob, np.uint8), _csr(lengths)


def _scan(
    counts: Sequence[Any],
    h: I64,
    w: I64,
    name: str,
    labels: Sequence[str] | None,
    store: int,
    boxes: bool = True,
) -> _Measured:
    """Validate and measure compressed strings; with ``store``, keep their runs (or ends) too."""
    buf, soff = _join_counts(counts, name)
    n = len(h)
    out = np.empty(len(buf) if store != _ks.STORE_NONE else 0, np.int64)
    n_runs, area, canon, status = np.empty((4, n), np.int64)  # one allocation: small calls add up
    bbox = np.empty((n, 4), np.float64)
    if n:
        if store == _ks.STORE_NONE:
            scan = _pick(_ks, "measure_strings", _NS_BYTE * len(buf), n)
            scan(n, buf, soff, h, w, boxes, out, n_runs, area, bbox, canon, status)
        else:
            scan = _pick(_ks, "scan_strings", _NS_BYTE * len(buf), n)
            scan(n, buf, soff, h, w, store, boxes, out, n_runs, area, bbox, canon, status)
    if status.any():
        i = int(np.flatnonzero(status)[0])
        where = f"{name}{labels[i] if labels is not None else f'[{i}]'}"
        code = int(status[i])
        if code == _ks.BAD_SUM:
            one = np.array([soff[i], soff[i + 1]], np.int64)
            runs = np.empty(len(buf), np.int64)
            n_runs_i, area_i, canon_i, status_i = np.empty((4, 1), np.int64)
            one_h, one_w, box = h[i : i + 1], w[i : i + 1], np.empty((1, 4), np.float64)
            stats_i = (n_runs_i, area_i, box, canon_i, status_i)
            _ks.scan_strings.serial(1, buf, one, one_h, one_w, _ks.STORE_RUNS, False, runs, *stats_i)
            total = int(runs[soff[i] : soff[i] + int(n_runs_i[0])].sum())
            raise ValueError(
                f"{where}: the runs of 'counts' add up to {total} pixels, but 'size' "
                f"{[int(h[i]), int(w[i])]} has {int(h[i]) * int(w[i])}"
            )
        raise ValueError(f"{where}['counts'] is not a valid compressed RLE: it {_STATUS[code]}")
    return _Measured(out, soff[:-1], n_runs, h, w, area, bbox, canon)


def _unmeasured(runs: I64, start: I64, lens: I64, h: I64, w: I64) -> _Measured:
    """Slotted masks whose statistics are not computed yet (``area``, ``bbox``, ``canon`` unset)."""
    return _Measured(runs, start, lens, h, w, lens, np.empty((0, 4)), lens)


def _slots(rles: Rles) -> _Measured:
    """An :class:`Rles` seen as slotted masks (statistics not set), without a copy."""
    return _unmeasured(rles.runs, rles.offsets[:-1], np.diff(rles.offsets), rles.h, rles.w)


def _to_rles(m: _Measured) -> Rles:
    """Copy slotted runs into a CSR :class:`Rles`."""
    roff = _csr(m.lens)
    runs = np.empty(int(roff[-1]), np.int64)
    n = len(m.lens)
    if n:
        _pick(_k, "gather", len(runs), n)(n, m.runs, m.start, m.lens, roff, runs)  # ~1 ns a run
    return Rles(runs, roff, m.h, m.w)


def from_counts(
    counts: Sequence[Any],
    h: ArrayLike,
    w: ArrayLike,
    name: str = "counts",
    *,
    labels: Sequence[str] | None = None,
) -> Rles:
    """Decode compressed RLE strings (validated) into an :class:`Rles`.

    ``h``, ``w``: per-mask arrays or shared ints, already checked by the caller
    (non-negative, ``h * w < 2**32``). ``labels[i]`` (default ``"[i]"``) names
    entry ``i`` in error messages, after ``name``.
    """
    hh, ww = _sizes(h, w, len(counts))
    return _to_rles(_scan(counts, hh, ww, name, labels, _ks.STORE_RUNS, boxes=False))


def measure_counts(
    counts: Sequence[Any],
    h: ArrayLike,
    w: ArrayLike,
    name: str = "counts",
    *,
    labels: Sequence[str] | None = None,
) -> tuple[I64, NDArray[np.float64]]:
    """Areas (int64) and rleToBbox boxes (float64 ``(n, 4)``) of compressed strings, validated."""
    hh, ww = _sizes(h, w, len(counts))
    m = _scan(counts, hh, ww, name, labels, _ks.STORE_NONE)
    return m.area, m.bbox


def _dict_fields(objs: Sequence[Any], name: str) -> tuple[list[Any], I64, I64]:
    """``counts`` list and validated ``h``, ``w`` arrays of a list of RLE dicts."""
    n = len(objs)
    try:
        counts = list(map(_COUNTS, objs))
        sizes = list(map(_SIZE, objs))
    except (TypeError, KeyError, IndexError):
        for i, o in enumerate(objs):
            if not isinstance(o, dict):
                raise TypeError(f"{name}[{i}] must be an RLE dict, got {type(o).__name__}") from None
            for key in ("size", "counts"):
                if key not in o:
                    raise ValueError(f"{name}[{i}] has no {key!r} key") from None
        raise
    if n and type(sizes[0]) in (list, tuple) and len(sizes[0]) == 2:
        try:
            one_size = sizes.count(sizes[0]) == n  # the usual case: masks of one image
        except (TypeError, ValueError):  # an ndarray size among lists
            one_size = False
        if one_size:
            h, w = check_size(sizes[0][0], sizes[0][1], f"{name}[0]['size']")
            return counts, np.full(n, h, np.int64), np.full(n, w, np.int64)
    try:
        lengths = set(map(len, sizes))
    except TypeError:
        lengths = set()
    if n and lengths != {2}:
        i = next(
            i for i, s in enumerate(sizes) if not isinstance(s, (list, tuple, np.ndarray)) or len(s) != 2
        )
        raise ValueError(f"{name}[{i}]['size'] must be [height, width], got {sizes[i]!r}")
    kinds = set(map(type, itertools.chain.from_iterable(sizes)))
    for t in kinds:
        if t is bool or not issubclass(t, (int, np.integer, float, np.floating)):
            i = next(i for i, s in enumerate(sizes) if any(type(v) is t for v in s))
            raise TypeError(f"{name}[{i}]['size'] must hold integers, got {sizes[i]!r}")
    hw = np.fromiter(itertools.chain.from_iterable(sizes), np.float64, 2 * n).reshape(n, 2)
    _check_sizes(hw, name)
    return counts, hw[:, 0].astype(np.int64), hw[:, 1].astype(np.int64)


def measure_dicts(
    objs: Sequence[Any], name: str, store: int = _ks.STORE_NONE, boxes: bool = True
) -> _Measured:
    """Validate a list of compressed RLE dicts; their statistics (boxes if ``boxes``), and runs or ends."""
    counts, h, w = _dict_fields(objs, name)
    return _scan(counts, h, w, name, None, store, boxes)


def from_dicts(objs: Sequence[Any], name: str = "rleObjs") -> Rles:
    """An :class:`Rles` from a list of compressed RLE dicts ``{"size": [h, w], "counts": bytes|str}``."""
    return _to_rles(measure_dicts(objs, name, _ks.STORE_RUNS, boxes=False))


def _encode(runs: I64, start: I64, count: I64) -> list[bytes]:
    n = len(start)
    if not n:
        return []
    work = _NS_RUN * int(count.sum())
    lengths = np.empty(n, np.int64)
    _pick(_k, "string_lengths", work, n)(n, runs, start, count, lengths)
    soff = _csr(lengths)
    buf = np.empty(int(soff[-1]), np.uint8)
    _pick(_k, "encode_strings", work, n)(n, runs, start, count, soff, buf)
    blob = buf.tobytes()
    return [blob[a:b] for a, b in itertools.pairwise(soff.tolist())]


def to_counts(rles: Rles) -> list[bytes]:
    """Compressed strings (pycocotools' rleToString), one ``bytes`` per mask."""
    return _encode(rles.runs, rles.offsets[:-1], np.diff(rles.offsets))


def to_dicts(rles: Rles) -> list[dict[str, Any]]:
    """pycocotools' RLE dicts: ``{"size": [h, w], "counts": bytes}`` with Python ints."""
    strings = to_counts(rles)
    return [
        {"size": [h, w], "counts": c}
        for h, w, c in zip(rles.h.tolist(), rles.w.tolist(), strings, strict=True)
    ]


# ----------------------------------------------------------------------------- other sources
def from_uncompressed(
    counts_lists: Sequence[Any],
    h: ArrayLike,
    w: ArrayLike,
    name: str = "counts",
    *,
    labels: Sequence[str] | None = None,
) -> Rles:
    """An :class:`Rles` from uncompressed run lists (integers in [0, 2**32) adding up to h*w)."""
    hh, ww = _sizes(h, w, len(counts_lists))
    arrays = []
    for i, c in enumerate(counts_lists):
        where = f"{name}{labels[i] if labels is not None else f'[{i}]'}['counts']"
        try:
            a = np.asarray(c)
        except (TypeError, ValueError) as exc:  # ragged
            raise ValueError(f"{where} could not be read as run lengths: {exc}") from None
        if a.ndim != 1:
            raise ValueError(f"{where} must be a flat list of run lengths, got shape {a.shape}")
        if a.size and a.dtype.kind not in "iuf":
            raise TypeError(f"{where} must hold integers, got {a.dtype}")
        if a.size and a.dtype.kind == "f" and not (np.isfinite(a).all() and (a == np.round(a)).all()):
            raise ValueError(f"{where} must hold whole numbers")
        if a.size and (a.min() < 0 or a.max() > MAX_PIXELS):
            raise ValueError(f"{where} holds a run length outside [0, 2**32)")
        a = a.astype(np.int64)
        if int(a.sum()) != int(hh[i]) * int(ww[i]):
            raise ValueError(
                f"{where}: the runs add up to {int(a.sum())} pixels, but the size "
                f"{[int(hh[i]), int(ww[i])]} has {int(hh[i]) * int(ww[i])}"
            )
        arrays.append(a)
    lengths = np.fromiter(map(len, arrays), np.int64, len(arrays))
    runs = np.concatenate(arrays) if arrays else np.empty(0, np.int64)
    return Rles(np.ascontiguousarray(runs, np.int64), _csr(lengths), hh, ww)


def from_polygons(xy: ArrayLike, point_offsets: ArrayLike, h: ArrayLike, w: ArrayLike) -> Rles:
    """rleFrPoly of each polygon (see the module docstring); ``h``, ``w`` per polygon or shared."""
    return _to_rles(_polygon_slots(xy, point_offsets, h, w))


def _polygon_slots(
    xy: ArrayLike, point_offsets: ArrayLike, h: ArrayLike, w: ArrayLike, spare: int = 0
) -> _Measured:
    """:func:`from_polygons` in the slotted layout of :class:`_Measured` (statistics not set), with
    ``spare`` unused entries at the end of ``runs`` (room for other masks' runs, copied there)."""
    coords = np.ascontiguousarray(xy, np.float64).reshape(-1)
    poff = np.ascontiguousarray(point_offsets, np.int64)
    n = len(poff) - 1
    if n < 0 or (n and (poff[0] != 0 or (np.diff(poff) < 0).any() or 2 * poff[-1] != len(coords))):
        raise ValueError("point_offsets must be CSR offsets (from 0, non-decreasing) ending at len(xy) / 2")
    if coords.size and not (np.isfinite(coords).all() and np.abs(coords).max() < MAX_COORD):
        raise ValueError(f"polygon coordinates must be finite with magnitude below {MAX_COORD:.0e}")
    hh, ww = _sizes(h, w, n)
    if not n:
        return _unmeasured(np.empty(spare, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64), hh, ww)
    work = _NS_VERTEX * len(coords) / 2
    cap = np.empty(n, np.int64)
    _pick(_kr, "poly_capacity", work, n)(n, coords, poff, ww, cap)
    cap_off = _csr(cap)
    out = np.empty(int(cap_off[-1]) + spare, np.int64)
    m = np.empty(n, np.int64)
    _pick(_kr, "poly_to_runs", work, n)(n, coords, poff, hh, ww, cap_off, out, m)
    empty = (hh * ww) == 0  # a 0-pixel image: the single run [0] (pycocotools: h == 0)
    if empty.any():
        out[cap_off[:-1][empty]] = 0
        m[empty] = 1
    return _unmeasured(out, cap_off[:-1], m, hh, ww)


def from_boxes(boxes: ArrayLike, h: ArrayLike, w: ArrayLike) -> Rles:
    """rleFrBbox: each xywh box as the polygon (x, y), (x, y+h), (x+w, y+h), (x+w, y)."""
    b = np.ascontiguousarray(boxes, np.float64).reshape(-1, 4)
    xs, ys = b[:, 0], b[:, 1]
    xe, ye = xs + b[:, 2], ys + b[:, 3]
    xy = np.stack([xs, ys, xs, ye, xe, ye, xe, ys], axis=1)
    return from_polygons(xy.reshape(-1), np.arange(0, 4 * len(b) + 1, 4, dtype=np.int64), h, w)


def from_masks(masks: NDArray[Any]) -> Rles:
    """rleEncode of an ``(h, w, n)`` integer or bool array (nonzero = foreground), any memory layout."""
    return _from_masks(masks, PARALLEL_WORK)


def _from_masks(masks: NDArray[Any], parallel_work: float) -> Rles:
    """:func:`from_masks`, with threads only from ``parallel_work`` estimated nanoseconds."""
    hgt, wid, n = masks.shape
    if masks.dtype != np.uint8 and masks.dtype != np.bool_:
        masks = masks != 0
    flat = np.ascontiguousarray(masks.T).reshape(-1)  # (n, w, h) C order: column-major pixels per mask
    if flat.dtype == np.bool_:
        flat = flat.view(np.uint8)
    if flat.ctypes.data % 8:
        flat = flat.copy()
    words = flat[: len(flat) // 8 * 8].view(np.uint64)
    p = hgt * wid
    m = np.empty(n, np.int64)
    hh, ww = _sizes(hgt, wid, n)
    if not n:
        return Rles(np.empty(0, np.int64), np.zeros(1, np.int64), hh, ww)
    parallel = _NS_PIXEL * n * p >= parallel_work and n > 1
    count = _kr.mask_run_counts if parallel else _kr.mask_run_counts.serial
    count(n, flat, words, p, m)
    roff = _csr(m)
    runs = np.empty(int(roff[-1]), np.int64)
    (_kr.mask_to_runs if parallel else _kr.mask_to_runs.serial)(n, flat, words, p, roff, runs)
    return Rles(runs, roff, hh, ww)


def _paint(runs: I64, start: I64, count: I64, hgt: int, wid: int) -> NDArray[np.uint8]:
    n = len(start)
    out = np.zeros((n, wid * hgt), np.uint8)
    if n:
        _pick(_kr, "runs_to_masks", _NS_PIXEL * n * hgt * wid, n)(n, runs, start, count, out)
    return out.reshape(n, wid, hgt).T


def to_masks(rles: Rles) -> NDArray[np.uint8]:
    """rleDecode of masks that share one size: uint8 ``(h, w, n)``, Fortran-ordered."""
    hgt, wid = (int(rles.h[0]), int(rles.w[0])) if len(rles) else (0, 0)
    return _paint(rles.runs, rles.offsets[:-1], np.diff(rles.offsets), hgt, wid)


# ----------------------------------------------------------------------------- statistics
def _measure(rles: Rles | _Measured, in_place: bool = False) -> _Measured:
    """Statistics of an :class:`Rles` (or slotted masks), with their run ends (for IoU) in place of
    the runs (``in_place``: written over the runs, for masks nobody else holds)."""
    s = rles if isinstance(rles, _Measured) else _slots(rles)
    n = len(s.h)
    ends = s.runs if in_place else np.empty_like(s.runs)
    area = np.empty(n, np.int64)
    bbox = np.empty((n, 4), np.float64)
    canon = np.empty(n, np.int64)
    if n:
        stats = _pick(_k, "run_stats", _NS_RUN * len(s.runs), n)
        stats(n, s.runs, s.start, s.lens, s.h, s.w, ends, area, bbox, canon)
    return _Measured(ends, s.start, s.lens, s.h, s.w, area, bbox, canon)


def areas(rles: Rles) -> I64:
    """Foreground pixels of each mask (rleArea)."""
    return _measure(rles).area


def bboxes(rles: Rles) -> NDArray[np.float64]:
    """rleToBbox: float64 ``(n, 4)`` ``[x, y, width, height]`` of each mask's foreground."""
    return _measure(rles).bbox


def canonical(rles: Rles) -> Rles:
    """The same masks without empty runs after the first (a leading 0 stays)."""
    start, count = rles.offsets[:-1], np.diff(rles.offsets)
    out = np.empty_like(rles.runs)
    m = np.empty(len(rles), np.int64)
    _k.canonicalize(rles.runs, start, count, out, m)
    return _to_rles(_unmeasured(out, start, m, rles.h, rles.w))


def take(rles: Rles, index: ArrayLike) -> Rles:
    """The masks ``index`` (in that order) as a new :class:`Rles`."""
    idx = np.ascontiguousarray(index, np.int64)
    _check_index(idx, len(rles), "index")
    start = np.ascontiguousarray(rles.offsets[idx])
    count = np.ascontiguousarray(np.diff(rles.offsets)[idx])
    h, w = rles.h[idx].copy(), rles.w[idx].copy()
    return _to_rles(_unmeasured(rles.runs, start, count, h, w))


# ----------------------------------------------------------------------------- merge and IoU
def _merge(
    runs: I64, start: I64, count: I64, goff: I64, intersect: bool, spare: int = 0
) -> tuple[I64, I64, I64]:
    """rleMerge of member groups (slotted input): slotted output ``(out, cap_start, m)`` (``spare``
    unused entries at the end of ``out``)."""
    n_groups = len(goff) - 1
    member_total = _csr(count)
    cap = member_total[goff[1:]] - member_total[goff[:-1]] + 1
    cap_off = _csr(cap)
    out = np.empty(int(cap_off[-1]) + spare, np.int64)
    m = np.zeros(n_groups, np.int64)
    if not n_groups:
        return out, cap_off[:-1], m
    canon = np.empty(len(count), np.int64)
    _k.canonical_flags(runs, start, count, canon)
    n_bad = np.add.reduceat(np.append(1 - canon, 0), goff[:-1]) * (goff[1:] - goff[:-1] > 0)
    exact = (n_bad > 0) & (goff[1:] - goff[:-1] > 1)  # groups with empty runs: pycocotools' own walk
    fast = np.flatnonzero(~exact)
    if len(fast):
        merge = _pick(_k, "merge_groups", _NS_RUN * int(member_total[-1]), len(fast))
        merge(
            len(fast), runs, start, count, goff, fast, bool(intersect), BITMAP_WORDS_PER_RUN, cap_off, out, m
        )
    if exact.any():
        _k.merge_groups_exact(
            runs, start, count, goff, np.flatnonzero(exact), bool(intersect), cap_off, out, m
        )
        stopped = np.flatnonzero(m < 0)
        if len(stopped):  # pycocotools' walk stops early there: merge the same pixels without empty runs
            c_runs, c_count = np.empty_like(runs), np.empty_like(count)
            _k.canonicalize(runs, start, count, c_runs, c_count)
            _k.merge_groups.serial(
                len(stopped), c_runs, start, c_count, goff, stopped, bool(intersect), BITMAP_WORDS_PER_RUN,
                cap_off, out, m,
            )  # fmt: skip
    return out, cap_off[:-1], m


def merge_groups(rles: Rles, group_offsets: ArrayLike, intersect: bool = False) -> Rles:
    """rleMerge of each group of masks, in order: one mask per group (see the module docstring)."""
    goff = np.ascontiguousarray(group_offsets, np.int64)
    _check_offsets(goff, len(rles), "group_offsets")
    return _to_rles(_merge_slots(_slots(rles), goff, intersect))


def _merge_slots(s: _Measured, goff: I64, intersect: bool = False, spare: int = 0) -> _Measured:
    """:func:`merge_groups` of slotted masks (``goff`` checked), slotted (statistics not set), with
    ``spare`` unused entries at the end of ``runs``."""
    out, cap_start, m = _merge(s.runs, s.start, s.lens, goff, intersect, spare)
    n = len(s.h)
    nonempty = goff[1:] > goff[:-1]
    first = np.minimum(goff[:-1], max(n - 1, 0))
    h = np.where(nonempty, s.h[first] if n else 0, 0).astype(np.int64)
    w = np.where(nonempty, s.w[first] if n else 0, 0).astype(np.int64)
    return _unmeasured(out, cap_start, m, h, w)


def merge_measured(meas: _Measured, intersect: bool) -> tuple[bytes, int, int]:
    """pycocotools.mask.merge of measured masks of one size (checked by the caller): ``(counts, h, w)``."""
    n = len(meas.h)
    if n > 1 and not meas.canon.all():
        out, cap_start, m = _merge(meas.runs, meas.start, meas.lens, np.array([0, n]), intersect)
    else:  # the usual case, without the bookkeeping for many groups
        total = int(meas.lens.sum())
        out, m = np.empty(total + 1, np.int64), np.empty(1, np.int64)
        cap_start = group = np.zeros(1, np.int64)  # one group (number 0) from slot 0
        merge = _pick(_k, "merge_groups", _NS_RUN * total, 1)
        merge(
            1,
            meas.runs,
            meas.start,
            meas.lens,
            np.array([0, n]),
            group,
            bool(intersect),
            BITMAP_WORDS_PER_RUN,
            np.array([0, total + 1]),
            out,
            m,
        )
    return _encode(out, cap_start, m)[0], int(meas.h[0]), int(meas.w[0])


def _iou(d: _Measured, g: _Measured, crowd: I64, d_sel: I64, g_sel: I64, d_off: I64, g_off: I64):  # type: ignore[no-untyped-def]
    sizes = np.diff(d_off) * np.diff(g_off)
    out_off = _csr(sizes)
    out = np.empty(int(out_off[-1]), np.float64)
    if not len(out):
        return out, out_off
    row_group = np.repeat(np.arange(len(d_off) - 1, dtype=np.int64), np.diff(d_off))
    work = _NS_PAIR * len(out)
    _pick(_k, "iou_groups", work, len(row_group))(
        len(row_group), d.runs, d.start, d.lens, d.h, d.w, d.bbox, d.area, d.canon, d_sel,
        g.runs, g.start, g.lens, g.h, g.w, g.bbox, g.area, g.canon, g_sel, crowd,
        row_group, d_off, g_off, out_off, out,
    )  # fmt: skip
    return out, out_off


def _iou_strings(  # type: ignore[no-untyped-def]
    buf: NDArray[np.uint8], spans: I64, hw: I64, g: _Measured, crowd: I64,
    d_sel: I64, g_sel: I64, d_off: I64, g_off: I64,
):  # fmt: skip
    """:func:`_iou` with detections as compressed strings in JSON text (``spans``: per detection
    ``[start, stop, h, w, escapes]``): ``(values, offsets, valid)``; not ``valid``: a string is bad."""
    sizes = np.diff(d_off) * np.diff(g_off)
    out_off = _csr(sizes)
    out = np.empty(int(out_off[-1]), np.float64)
    row_group = np.repeat(np.arange(len(d_off) - 1, dtype=np.int64), np.diff(d_off))
    status = np.zeros(len(row_group), np.int64)
    if len(row_group):
        first, stop = np.ascontiguousarray(spans[:, 0]), np.ascontiguousarray(spans[:, 1])
        esc = (spans[:, 4] > 0).astype(np.int64)
        h, w = np.ascontiguousarray(hw[:, 0]), np.ascontiguousarray(hw[:, 1])
        work = _NS_PAIR * len(out) + _NS_BYTE * float((stop - first).sum())
        _pick(_k, "iou_strings", work, len(row_group))(
            len(row_group), buf, first, stop, esc, h, w, d_sel,
            g.runs, g.start, g.lens, g.h, g.w, g.bbox, g.area, g.canon, g_sel, crowd,
            row_group, d_off, g_off, out_off, out, status,
        )  # fmt: skip
    return out, out_off, not status.any()


def iou_groups(
    dt: Rles,
    gt: Rles,
    iscrowd: ArrayLike,
    dt_offsets: ArrayLike,
    gt_offsets: ArrayLike,
    dt_index: ArrayLike | None = None,
    gt_index: ArrayLike | None = None,
) -> tuple[NDArray[np.float64], I64]:
    """pycocotools' mask IoU for many (detections, ground truths) groups (see the module docstring)."""
    d_sel = (
        np.arange(len(dt), dtype=np.int64) if dt_index is None else np.ascontiguousarray(dt_index, np.int64)
    )
    g_sel = (
        np.arange(len(gt), dtype=np.int64) if gt_index is None else np.ascontiguousarray(gt_index, np.int64)
    )
    crowd = np.ascontiguousarray(iscrowd, np.int64).reshape(-1)
    d_off = np.ascontiguousarray(dt_offsets, np.int64)
    g_off = np.ascontiguousarray(gt_offsets, np.int64)
    _check_index(d_sel, len(dt), "dt_index")
    _check_index(g_sel, len(gt), "gt_index")
    _check_offsets(d_off, len(d_sel), "dt_offsets")
    _check_offsets(g_off, len(g_sel), "gt_offsets")
    if len(d_off) != len(g_off):
        raise ValueError(
            "dt_offsets and gt_offsets must give the same number of groups, "
            f"got {len(d_off) - 1} and {len(g_off) - 1}"
        )
    if len(crowd) != len(g_sel):
        raise ValueError(f"iscrowd has length {len(crowd)} but there are {len(g_sel)} ground truth entries")
    return _iou(_measure(dt), _measure(gt), crowd, d_sel, g_sel, d_off, g_off)


def iou_measured(d: _Measured, g: _Measured, crowd: I64) -> NDArray[np.float64]:
    """The ``(D, G)`` IoU block of two measured sets (ends stored), one group."""
    nd, ng = len(d.h), len(g.h)
    out, _ = _iou(
        d, g, crowd, np.arange(nd, dtype=np.int64), np.arange(ng, dtype=np.int64),
        np.array([0, nd], np.int64), np.array([0, ng], np.int64),
    )  # fmt: skip
    return out.reshape(nd, ng)
