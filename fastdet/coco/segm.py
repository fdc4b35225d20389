"""Instance masks (``iouType='segm'``): COCO segmentations as run lengths, and mask IoU per cell.

pycocotools' rules, reproduced here:

- ``annToRLE``: a list of polygons (``[[x0, y0, x1, y1, ...], ...]``) becomes
  ``merge(frPyObjects(polygons, h, w))`` with ``h``, ``w`` the image's
  ``height`` / ``width``; an uncompressed RLE (``counts`` a list of ints, COCO's
  crowd regions) becomes ``frPyObjects(rle, h, w)``, which keeps the RLE's own
  ``size``; a compressed RLE (``counts`` a string) is used as is.
- ``loadRes`` of results with a ``bbox``: ``area = w * h`` and, when there is no
  ``segmentation``, the box as the polygon ``[x1, y1, x1, y2, x2, y2, x2, y1]``.
  Of results without ``bbox``: ``area`` is the mask area and ``bbox`` the mask's
  ``toBbox``.
- ``computeIoU``: ``maskUtils.iou`` of the score-sorted detections (at most
  ``maxDets[-1]``) against the ground truths, with ``iscrowd`` from the ground
  truth: ``|d & g| / |d | g|``, or ``|d & g| / |d|`` for a crowd region.

Stricter than pycocotools (which crashes, or silently computes -1 or a wrong
mask): a segmentation that is not polygons or an RLE dict, an empty polygon
list, a polygon with fewer than 3 points or an odd number of coordinates, or RLE
``counts`` that do not add up to ``h * w`` raise ``ValueError`` naming the file and
the entry. An RLE whose ``size`` is not its image's ``[height, width]`` keeps its
own size, as in pycocotools: masks of one size are compared as usual, a pair of
different sizes whose boxes overlap gets IoU -1 (``maskUtils.iou``), never a match.
pycocotools reads a first polygon of exactly 4 numbers as a box and then raises
``TypeError``; fastdet raises ``ValueError`` (fewer than 3 points). Polygon or
uncompressed-RLE results without ``bbox`` make pycocotools' ``loadRes`` crash;
fastdet converts them as ``annToRLE`` does and measures area and box on the mask.
Only the annotations that take part in the evaluation (images and categories in
``params``, the best ``maxDets[-1]`` detections of each cell) are converted, and
of the results only those in a cell (image, category) with ground truth, the
ones pycocotools' ``computeIoU`` reads: a result elsewhere (often half of a
detector's output) is not decoded, so a mask error there is not reported, as in
pycocotools (a results file without ``bbox`` is still decoded whole by
``loadRes``, for the areas and boxes).
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fastdet import _rle
from fastdet._io import loads as _loads
from fastdet._kernels import polyscan as _kp
from fastdet._kernels import rlestring as _krs
from fastdet._kernels import segmscan as _ks
from fastdet.coco.evaluation import _Evaluation

I64 = NDArray[np.int64]
_chain = itertools.chain.from_iterable


def _image_size(img: Any, image_id: Any, where: str, entry: int) -> tuple[int, int]:
    if type(img) is dict:  # the usual case first: plain ints in range
        h, w = img.get("height"), img.get("width")
        if type(h) is int and type(w) is int and h >= 0 and w >= 0 and h * w <= _rle.MAX_PIXELS:
            return h, w
    if not isinstance(img, dict) or "height" not in img or "width" not in img:
        raise ValueError(
            f"{where}: entry {entry} is on image {image_id!r}, which has no 'height' and 'width' "
            "(needed to rasterise masks)"
        )
    return _rle.check_size(img["height"], img["width"], f"{where}: image {image_id!r}")


def _bad_polygon(seg: Any) -> str | None:
    """Why ``seg`` is not a non-empty list of polygons of 3+ points, or None."""
    if not seg:
        return "is an empty list of polygons"
    for j, part in enumerate(seg):
        if not isinstance(part, (list, tuple)):
            return f"part {j} is a {type(part).__name__}, not a list of coordinates"
        if len(part) < 6:
            return f"part {j} has {len(part)} coordinates; a polygon needs at least 3 points (6 numbers)"
        if len(part) % 2:
            return f"part {j} has an odd number of coordinates ({len(part)})"
    return None


def _polygon_masks(polys: list[Any], hw: I64, where: str, entries: Sequence[int]) -> _rle._Measured:
    """annToRLE of polygon annotations: rasterise every part, then merge the parts of each."""
    parts = np.fromiter(map(len, polys), np.int64, len(polys))
    try:
        lens = np.fromiter(map(len, _chain(polys)), np.int64, int(parts.sum()))
    except TypeError:
        lens = np.zeros(0, np.int64)
    if len(lens) != int(parts.sum()) or (parts == 0).any() or (lens < 6).any() or (lens % 2).any():
        for seg, e in zip(polys, entries, strict=True):
            why = _bad_polygon(seg)
            if why is not None:
                raise ValueError(f"{where}: entry {e} has an invalid 'segmentation': {why}")
    total = int(lens.sum())
    try:
        xy = np.fromiter(_chain(_chain(polys)), np.float64, total)
    except (TypeError, ValueError):
        for seg, e in zip(polys, entries, strict=True):
            try:
                np.fromiter(_chain(seg), np.float64)
            except (TypeError, ValueError):
                raise ValueError(
                    f"{where}: entry {e} has a polygon coordinate that is not a number"
                ) from None
        raise  # pragma: no cover
    point_off = np.zeros(len(lens) + 1, np.int64)
    np.cumsum(lens // 2, out=point_off[1:])
    bad = ~np.isfinite(xy) | (np.abs(xy) >= _rle.MAX_COORD)
    if bad.any():
        part = int(np.searchsorted(point_off, np.flatnonzero(bad)[0] // 2, side="right")) - 1
        e = entries[int(np.searchsorted(np.cumsum(parts), part, side="right"))]
        raise ValueError(
            f"{where}: entry {e} has a polygon coordinate that is not finite or beyond {_rle.MAX_COORD:.0e}"
        )
    h = np.repeat(hw[:, 0], parts)
    w = np.repeat(hw[:, 1], parts)
    slots = _rle._polygon_slots(xy, point_off, h, w)  # slotted, not copied into CSR
    if (parts == 1).all():  # merge of one mask is the mask itself
        return slots
    group_off = np.zeros(len(parts) + 1, np.int64)
    np.cumsum(parts, out=group_off[1:])
    return _rle._merge_slots(slots, group_off)


def _dict_sizes(objs: Sequence[Any], hw: I64, where: str, entries: Sequence[int]) -> I64:
    """Each RLE's own ``size`` as ``[h, w]`` rows (``hw``, the images' sizes, in the usual case).

    pycocotools' ``annToRLE`` keeps an RLE's ``size`` whatever its image's (a compressed RLE
    as is; ``frPyObjects`` of an uncompressed one ignores ``h, w``), and ``maskUtils.iou`` gives
    -1 to a pair of masks of different sizes whose boxes overlap, which never matches.
    """
    expected = hw.tolist()
    try:
        if [o.get("size") for o in objs] == expected:  # the usual case: lists equal to the sizes
            return hw
    except (AttributeError, ValueError):  # not a dict, or an array's ambiguous truth: named below
        pass
    out = np.empty((len(objs), 2), np.int64)
    for i, (o, e) in enumerate(zip(objs, entries, strict=True)):
        size = o.get("size")
        if not isinstance(size, (list, tuple)) or len(size) != 2:
            raise ValueError(
                f"{where}: entry {e} has a 'segmentation' whose 'size' is {size!r}; expected [height, width]"
            )
        out[i] = _rle.check_size(size[0], size[1], f"{where}: entry {e} 'segmentation' size")
    return out


def _measure_buffer(
    buf: NDArray[np.uint8], soff: I64, h: I64, w: I64, name: str, labels: Any, ends: bool = True
) -> Any:
    """Decode compressed strings ``buf[soff[i]:soff[i + 1]]`` to run ends (unless not ``ends``: areas
    and boxes only, ``runs`` empty), areas and boxes (validated)."""
    n = len(h)
    out = np.empty(len(buf) if ends else 0, np.int64)
    n_runs, area, canon, status = np.empty((4, n), np.int64)
    bbox = np.empty((n, 4), np.float64)
    if n:
        scan = _rle._pick(_krs, "scan_strings", _rle._NS_BYTE * len(buf), n)
        store = _krs.STORE_ENDS if ends else _krs.STORE_NONE
        scan(n, buf, soff, h, w, store, True, out, n_runs, area, bbox, canon, status)
    if status.any():  # the message of the first bad entry
        i = int(np.flatnonzero(status)[0])
        _rle.from_counts(
            [buf[soff[i] : soff[i + 1]].tobytes()], h[i : i + 1], w[i : i + 1], name, labels=[labels[i]]
        )
        raise AssertionError("from_counts accepted a string scan_strings refused")  # pragma: no cover
    return _rle._Measured(out, np.ascontiguousarray(soff[:-1]), n_runs, h, w, area, bbox, canon)


def _concat(parts: Sequence[_rle._Measured]) -> _rle._Measured:
    """Slotted masks one after the other, in one ``runs`` array (statistics not set)."""
    shift = np.cumsum([0] + [len(p.runs) for p in parts[:-1]])
    return _rle._unmeasured(
        np.concatenate([p.runs for p in parts]),
        np.concatenate([p.start + k for p, k in zip(parts, shift.tolist(), strict=True)]),
        np.concatenate([p.lens for p in parts]),
        np.concatenate([p.h for p in parts]),
        np.concatenate([p.w for p in parts]),
    )


def segment_kinds(segs: Sequence[Any], where: str, entries: Sequence[int]) -> NDArray[np.int8]:
    """0 for polygons, 1 for an uncompressed RLE, 2 for a compressed RLE; ``ValueError`` otherwise."""
    n = len(segs)
    if set(map(type, segs)) == {dict} and {type(s.get("counts")) for s in segs} <= {str, bytes}:
        return np.full(n, 2, np.int8)  # the usual results: compressed RLEs only
    kinds = np.zeros(n, np.int8)  # 0 polygons, 1 uncompressed RLE, 2 compressed RLE
    for i, s in enumerate(segs):
        if isinstance(s, dict):
            c = s.get("counts")
            if isinstance(c, (str, bytes)):
                kinds[i] = 2
            elif isinstance(c, list):
                kinds[i] = 1
            else:
                raise ValueError(
                    f"{where}: entry {entries[i]} has a 'segmentation' dict whose 'counts' is "
                    f"{type(c).__name__}; expected a compressed string or a list of run lengths"
                )
        elif not isinstance(s, list):
            raise ValueError(
                f"{where}: entry {entries[i]} has 'segmentation' of type {type(s).__name__}; "
                "expected a list of polygons or an RLE dict"
            )
    return kinds


def segment_masks(
    segs: Sequence[Any],
    hw: I64,
    where: str,
    entries: Sequence[int],
    kinds: NDArray[np.int8] | None = None,
    ends: bool = True,
) -> Any:
    """pycocotools' ``annToRLE`` of many segmentations, measured for IoU (run ends, areas, boxes).

    Parameters
    ----------
    segs : sequence
        The ``segmentation`` values: polygon lists, uncompressed or compressed RLE dicts.
    hw : int64 ndarray of shape (n, 2)
        Each annotation's image ``[height, width]``.
    where : str
        The file (or source) named in error messages.
    entries : sequence of int
        The entry index of each segmentation, named in error messages.
    kinds : int8 ndarray, optional
        :func:`segment_kinds` of ``segs``, when already known.
    ends : bool
        Keep the run ends. False: only areas and boxes are needed, and where every
        segmentation is a compressed RLE none are stored (``runs`` is then empty).

    Returns
    -------
    fastdet._rle._Measured
        Run ends, ``area`` and ``bbox`` (rleArea, rleToBbox) of each mask, in order.

    Raises
    ------
    ValueError
        An invalid segmentation (see the module docstring).
    """
    if kinds is None:
        kinds = segment_kinds(segs, where, entries)
    name = f"{where}: entry "
    if len(segs) and (kinds == 2).all():  # compressed RLEs only (results): decoded straight to run ends
        hw = _dict_sizes(segs, hw, where, entries)
        buf, soff = _rle._join_counts([o["counts"] for o in segs], name)
        h, w = np.ascontiguousarray(hw[:, 0]), np.ascontiguousarray(hw[:, 1])
        return _measure_buffer(buf, soff, h, w, name, _Labels(entries), ends)
    pieces: list[_rle._Measured] = []
    order: list[I64] = []
    for kind in (0, 1, 2):
        idx = np.flatnonzero(kinds == kind)
        if not len(idx):
            continue
        sel = [segs[i] for i in idx.tolist()]
        ent = [entries[i] for i in idx.tolist()]
        sub_hw = hw[idx]
        labels = _Labels(ent)
        if kind == 0:
            pieces.append(_polygon_masks(sel, sub_hw, where, ent))
        else:
            sub_hw = _dict_sizes(sel, sub_hw, where, ent)
            counts = [o["counts"] for o in sel]
            if kind == 1:
                rles = _rle.from_uncompressed(counts, sub_hw[:, 0], sub_hw[:, 1], name, labels=labels)
            else:
                rles = _rle.from_counts(counts, sub_hw[:, 0], sub_hw[:, 1], name, labels=labels)
            pieces.append(_rle._slots(rles))
        order.append(idx)
    if not pieces:
        empty = np.empty(0, np.int64)
        return _rle._measure(_rle.Rles(empty, np.zeros(1, np.int64), empty, empty))
    m = _rle._measure(pieces[0] if len(pieces) == 1 else _concat(pieces), in_place=True)  # made here
    if len(pieces) == 1:
        return m
    # masks are slotted (mask i = runs[start[i]:][:lens[i]]): reorder the per-mask fields, not the runs
    perm = np.concatenate(order)
    inverse = np.empty_like(perm)
    inverse[perm] = np.arange(len(perm))
    fields: list[Any] = [np.ascontiguousarray(f[inverse]) for f in m[1:]]
    return _rle._Measured(m.runs, *fields)


def _sizes_of(image_ids: Sequence[Any], imgs: Any, where: str, entries: Sequence[int]) -> I64:
    """``[height, width]`` of each annotation's image (each image checked once)."""
    arr = np.asarray(image_ids) if len(image_ids) else np.empty(0, np.int64)
    if arr.ndim == 1 and arr.dtype.kind in "iu":
        uniq, first, inv = np.unique(arr, return_index=True, return_inverse=True)
        table = np.empty((len(uniq), 2), np.int64)
        for k, (u, f) in enumerate(zip(uniq.tolist(), first.tolist(), strict=True)):
            img = imgs.get(u) if hasattr(imgs, "get") else None
            table[k] = _image_size(img, u, where, entries[f])
        return table[inv.reshape(-1)]
    cache: dict[Any, tuple[int, int]] = {}
    out = np.empty((len(image_ids), 2), np.int64)
    for i, img_id in enumerate(image_ids):
        hw = cache.get(img_id)
        if hw is None:
            img = imgs.get(img_id) if hasattr(imgs, "get") else None
            hw = cache[img_id] = _image_size(img, img_id, where, entries[i])
        out[i] = hw
    return out


def _annotations(coco: Any) -> tuple[list[Any] | None, str]:
    """The annotation dicts behind ``coco``'s evaluation columns (None: rows of an array) and its name."""
    res = getattr(coco, "_res", None)
    source = getattr(coco, "_source", None)
    if res is not None:  # a fastdet loadRes object: the caller's list, or the file text parsed once
        if res.anns is None and res.raw is not None:
            from fastdet._io import loads

            res.anns, res.raw = loads(res.raw, str(source)), None
        if res.anns is None and res.rows is None:  # the text went into ``dataset`` (materialized)
            return coco.dataset.get("annotations", []), f"{source}"
        return res.anns, f"{source}"
    anns = coco.dataset.get("annotations", [])
    return anns, f"{source}" if source is not None else "annotations"


class _Labels(Sequence[str]):
    """Entry labels for error messages, made only when one is shown."""

    def __init__(self, entries: Sequence[int]):
        self._entries = entries

    def __len__(self) -> int:
        return len(self._entries)

    def __getitem__(self, i: Any) -> Any:
        return f"{self._entries[i]} 'segmentation'"


def _result_strings(coco: Any, rows: I64) -> tuple[NDArray[np.uint8], I64, I64, Any] | None:
    """Where the compressed-RLE masks of result ``rows`` lie in the results file's text, or None.

    ``(buf, spans, hw, where)``: the text, per row ``[start, stop, h, w, escapes]`` of
    its ``counts`` string (sizes checked against the images), the image sizes and
    the name for messages. None when ``coco`` was not read from a file's text, the
    file holds anything :func:`~fastdet._kernels.segmscan.find_counts` leaves to
    the full parser, or a needed entry has no RLE ``segmentation``.
    """
    res = getattr(coco, "_res", None)
    if res is None or res.anns is not None or res.raw is None:
        return None
    cols = res.cols
    if cols.image_keys is not None or not len(rows):
        return None
    where = f"{getattr(coco, '_source', 'results')} (results annotations)"
    buf = np.frombuffer(res.raw, np.uint8)
    spans = np.empty((len(cols), 5), np.int64)
    found = _ks.find_counts(buf, spans)
    if found != len(cols):
        return None
    spans = spans[rows]
    if (spans[:, 0] < 0).any():
        return None
    hw = _sizes_of(cols.image_id[rows], coco.imgs, where, rows.tolist())  # images without a size: named
    if (spans[:, 2] != hw[:, 0]).any() or (spans[:, 3] != hw[:, 1]).any():
        # an RLE of its own size (pycocotools keeps it): a sane size is used, anything else is
        # left to the dict path, which names it
        hw = np.ascontiguousarray(spans[:, 2:4])
        if (hw < 0).any() or (hw[:, 0].astype(np.float64) * hw[:, 1] > _rle.MAX_PIXELS).any():
            return None
    return buf, spans, hw, where


def _masks_from_text(found: tuple[NDArray[np.uint8], I64, I64, Any], rows: I64) -> Any:
    """The measured masks of :func:`_result_strings` (strings copied out, unescaped, and decoded)."""
    buf, spans, hw, where = found
    lengths = spans[:, 1] - spans[:, 0] - spans[:, 4]
    soff = np.zeros(len(rows) + 1, np.int64)
    np.cumsum(lengths, out=soff[1:])
    dst = np.empty(int(soff[-1]), np.uint8)
    _ks.gather_counts(buf, np.ascontiguousarray(spans), soff, dst)
    h, w = np.ascontiguousarray(hw[:, 0]), np.ascontiguousarray(hw[:, 1])
    return _measure_buffer(dst, soff, h, w, f"{where}: entry ", _Labels(rows.tolist()))


def _gt_masks_from_text(coco: Any, rows: I64) -> Any:
    """The measured masks of ground-truth ``rows``, read from the file's text, or None.

    Polygon segmentations are converted by :mod:`~fastdet._kernels.polyscan`
    without Python objects; any other segmentation (an RLE dict) is parsed on
    its own. None when ``coco`` was not read by the scanner, the text is not in
    the form the kernels read, or anything is wrong: the caller then takes the
    dict path, which raises the error.
    """
    scanned = coco._scanned_ground_truth() if hasattr(coco, "_scanned_ground_truth") else None
    if scanned is None or scanned[1].ann_start < 0 or scanned[1].cols is None or not len(rows):
        return None
    raw, scan = scanned
    cols = scan.cols
    buf = np.frombuffer(raw, np.uint8)
    spans = np.empty((len(cols), 4), np.int64)
    if _kp.find_polygons(buf, scan.ann_start, spans) != len(cols):
        return None
    spans = spans[rows]
    if (spans[:, 0] < 0).any():
        return None
    where = f"{coco._source} (ground truth annotations)"
    entries = rows.tolist()
    codes = cols.image_id[rows]
    keys = cols.image_keys
    try:
        hw = _sizes_of(
            codes if keys is None else [keys[c] for c in codes.tolist()], coco.imgs, where, entries
        )
        poly = np.flatnonzero(spans[:, 2] >= 0)
        other = np.flatnonzero(spans[:, 2] < 0)
        pieces: list[_rle._Measured] = []
        if len(other):  # RLE dicts (crowd regions), parsed on their own; first: their runs' room is kept
            segs = [_loads(raw[s:t], where) for s, t in spans[other, :2].tolist()]
            ent = [entries[i] for i in other.tolist()]
            pieces.append(segment_masks(segs, hw[other], where, ent))
        spare = len(pieces[0].runs) if pieces else 0
        if len(poly):
            sel = spans[poly]
            group_off = np.zeros(len(poly) + 1, np.int64)
            np.cumsum(sel[:, 2], out=group_off[1:])
            part_len = np.empty(int(group_off[-1]), np.int64)
            xy = np.empty(int(sel[:, 3].sum()), np.float64)
            if _kp.read_polygons(buf, np.ascontiguousarray(sel[:, 0]), group_off, part_len, xy) >= 0:
                return None
            if (part_len < 6).any() or (part_len % 2).any():
                return None
            coord_off = np.zeros(len(poly) + 1, np.int64)
            np.cumsum(sel[:, 3], out=coord_off[1:])
            for k in np.unique(
                np.searchsorted(coord_off, np.flatnonzero(np.isnan(xy)), "right") - 1
            ).tolist():
                seg = _loads(raw[sel[k, 0] : sel[k, 1]], where)  # a number of 19+ digits
                xy[coord_off[k] : coord_off[k + 1]] = np.fromiter(_chain(seg), np.float64)
            point_off = np.zeros(len(part_len) + 1, np.int64)
            np.cumsum(part_len // 2, out=point_off[1:])
            parts = sel[:, 2]
            h_part, w_part = np.repeat(hw[poly, 0], parts), np.repeat(hw[poly, 1], parts)
            multi = not (parts == 1).all()
            slots = _rle._polygon_slots(xy, point_off, h_part, w_part, 0 if multi else spare)  # no copies
            if multi:
                slots = _rle._merge_slots(slots, group_off, spare=spare)
            pieces.append(_rle._measure(slots, in_place=True))  # made here
    except (ValueError, TypeError):
        return None
    if len(pieces) == 1:
        return pieces[0]
    second, first = pieces  # the RLE dicts' runs go to the room left after the polygons'
    tail = len(first.runs) - spare
    first.runs[tail:] = second.runs
    perm = np.concatenate([poly, other])
    inverse = np.empty_like(perm)
    inverse[perm] = np.arange(len(perm))
    fields: list[Any] = [
        np.ascontiguousarray(np.concatenate([a, b])[inverse])
        for a, b in zip(first[1:], second[1:], strict=True)
    ]
    fields[0] = np.ascontiguousarray(np.concatenate([first.start, second.start + tail])[inverse])
    return _rle._Measured(first.runs, *fields)


def _masks_for(coco: Any, rows: I64, box: NDArray[np.float64], image_id_of: Any, role: str) -> Any:
    """annToRLE of annotation ``rows`` of ``coco`` (``box``: their bbox column, for box polygons)."""
    found = _result_strings(coco, rows) if role == "dt" else None
    if found is not None:
        return _masks_from_text(found, rows)
    if role == "gt":
        masks = _gt_masks_from_text(coco, rows)
        if masks is not None:
            return masks
    anns, source = _annotations(coco)
    where = f"{source} ({'ground truth' if role == 'gt' else 'results'} annotations)"
    entries = rows.tolist()
    if anns is None:
        segs: list[Any] = [None] * len(entries)
        ids = [image_id_of(r) for r in entries]
    else:
        try:
            picked = [anns[r] for r in entries]
            segs = [a.get("segmentation") for a in picked]
            ids = [a["image_id"] for a in picked]
        except (AttributeError, KeyError, TypeError):  # pragma: no cover - columns were validated
            raise ValueError(f"{where}: malformed annotations") from None
    if role == "dt":  # loadRes gives a bbox result without segmentation its box as a polygon
        for i, s in enumerate(segs):
            if s is None:
                x, y, w, h = box[i].tolist()
                segs[i] = [[x, y, x, y + h, x + w, y + h, x + w, y]]
    else:
        missing = [e for e, s in zip(entries, segs, strict=True) if s is None]
        if missing:
            raise ValueError(f"{where}: entry {missing[0]} has no 'segmentation' field")
    kinds = segment_kinds(segs, where, entries)
    hw = _sizes_of(ids, coco.imgs, where, entries)
    return segment_masks(segs, hw, where, entries, kinds)


def cell_ious(cocoGt: Any, cocoDt: Any) -> Any:
    """The ``cell_ious`` hook of :func:`~fastdet.coco.evaluation._evaluate` for masks."""

    def compute(ev: _Evaluation) -> tuple[I64, NDArray[np.float64]]:
        g_uniq, g_inv = np.unique(ev.gt_rows, return_inverse=True)
        # a result's mask is read only where its cell has ground truth, as pycocotools reads it
        # (half of a detector's results can lie in cells without: their strings stay undecoded)
        has_gt = np.repeat(np.diff(ev.gt_off) > 0, np.diff(ev.dt_off))
        d_uniq, d_inv = np.unique(ev.dt_rows[has_gt], return_inverse=True)
        gt_box = np.take(ev.gt.bbox, g_uniq, axis=0)
        dt_box = np.take(ev.dt.bbox, d_uniq, axis=0)
        gm, found = _gt_masks_and_result_strings(cocoGt, cocoDt, g_uniq, gt_box, d_uniq)
        crowd = np.ascontiguousarray(ev.gt_crowd, np.int64)
        d_sel = np.zeros(len(ev.dt_rows), np.int64)  # rows of cells without ground truth: not read
        d_sel[has_gt] = d_inv.reshape(-1)
        g_sel = np.ascontiguousarray(g_inv.reshape(-1), np.int64)
        if found is not None:  # Mask R-CNN-style files: each string decoded next to its IoUs
            buf, spans, hw, _ = found
            values, off, valid = _rle._iou_strings(
                buf, spans, hw, gm, crowd, d_sel, g_sel, ev.dt_off, ev.gt_off
            )
            if valid:
                return off, values
            _masks_from_text(found, d_uniq)  # names the first bad string
        dm = _masks_for(cocoDt, d_uniq, dt_box, _array_image_id(cocoDt), "dt")
        values, off = _rle._iou(dm, gm, crowd, d_sel, g_sel, ev.dt_off, ev.gt_off)
        return off, values

    return compute


def _gt_masks_and_result_strings(cocoGt: Any, cocoDt: Any, g_rows: I64, gt_box: Any, d_rows: I64) -> Any:
    """The ground truth's masks and :func:`_result_strings` of the results, the latter found in a
    second thread meanwhile (a scan of the results text, mostly without the GIL). The ground
    truth's errors come first, as in a sequential run."""
    found: list[Any] = []
    for coco in (cocoGt, cocoDt):  # their lazily built image tables: here, not by both threads at once
        getattr(coco, "imgs", None)

    def find() -> None:
        try:
            found.append(_result_strings(cocoDt, d_rows))
        except BaseException as exc:  # re-raised below, after the ground truth's
            found.append(exc)

    finder = threading.Thread(target=find, daemon=True)
    finder.start()
    try:
        gm = _masks_for(cocoGt, g_rows, gt_box, lambda r: None, "gt")
    finally:
        finder.join()
    if isinstance(found[0], BaseException):
        raise found[0]
    return gm, found[0]


def _array_image_id(coco: Any) -> Any:
    res = getattr(coco, "_res", None)
    rows = getattr(res, "rows", None)
    if rows is None:
        return lambda r: None
    return lambda r: int(rows[r, 0])


def _has_box(ann: dict[str, Any]) -> bool:
    return "bbox" in ann and not (isinstance(ann["bbox"], (list, tuple)) and not ann["bbox"])


def result_columns(
    anns: list[Any], imgs: Any, where: str
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
    """``(area, bbox, has_bbox)`` of segmentation results as pycocotools' ``loadRes`` sets them.

    ``area`` is the mask area and ``bbox`` its ``toBbox`` (an entry's own
    ``bbox``, where it has one, is kept by the caller).
    """
    entries = range(len(anns))
    try:
        segs = [a["segmentation"] for a in anns]
    except (KeyError, TypeError):
        for e, a in enumerate(anns):
            if not isinstance(a, dict):
                raise ValueError(
                    f"{where}: entry {e} must be an object (dict), got {type(a).__name__}"
                ) from None
            if "segmentation" not in a:
                raise ValueError(f"{where}: entry {e} has no 'segmentation' field") from None
        raise
    kinds = segment_kinds(segs, where, entries)
    ids = [a.get("image_id") for a in anns]
    hw = _sizes_of(ids, imgs, where, entries)
    masks = segment_masks(segs, hw, where, entries, kinds, ends=False)  # areas and boxes: no run ends kept
    # pycocotools keeps an entry's own ``bbox``, ``[]`` too (segm reads no box): the mask's box here
    has_bbox = np.fromiter((_has_box(a) for a in anns), np.bool_, len(anns))
    return masks.area.astype(np.float64), masks.bbox, has_bbox
