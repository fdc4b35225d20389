"""Per-image detection batches (torchmetrics' list-of-dicts format) read into columns.

``read_batch`` validates one ``update`` batch of :class:`fastdet.MeanAveragePrecision`
and returns it as a :class:`_Chunk` of NumPy columns. Tensors are moved to the
host one key at a time for the whole batch (no Python loop per box); torch is
only touched when the input holds tensors (``sys.modules``, never an import).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from numpy.typing import NDArray

#: Estimated one-thread nanoseconds from which one image's masks are encoded with threads. Each
#: image is one kernel call, and a parallel region costs about 8 ms on a loaded 2-core machine
#: (see fastdet.coco.evaluation): measured there, 100 images of 128..640 px (575 masks) took
#: 0.25-0.55 s to update with _rle's PARALLEL_WORK, 0.10-0.15 s serial.
STREAM_PARALLEL_WORK = 20_000_000

# ---------------------------------------------------------------------------- state


@dataclass(frozen=True)
class _Chunk:
    """Columns of a run of images: image indices are local (0 .. n_images - 1), rows by image."""

    n_images: int
    dt_image: NDArray[np.int64]
    dt_label: NDArray[np.int64]
    dt_score: NDArray[np.float64]
    dt_box: NDArray[np.float64]  # (N, 4) xywh
    gt_image: NDArray[np.int64]
    gt_label: NDArray[np.int64]
    gt_box: NDArray[np.float64]  # (M, 4) xywh
    gt_area: NDArray[np.float64]  # the target's area where given and > 0, else w * h
    gt_crowd: NDArray[np.bool_]  # int(iscrowd) != 0: crowd IoU
    gt_ignore: NDArray[np.bool_]  # iscrowd != 0: ignored ground truth
    # masks (iou_type 'segm'), run-length encoded: row r's mask has *_mask_len[r] runs (0 rows and
    # no runs without masks), its runs follow those of row r - 1 in *_runs (column-major pixels,
    # starting with background, as pycocotools' RLE); *_mask_hw[r] is its (height, width)
    dt_mask_len: NDArray[np.int64]
    dt_mask_hw: NDArray[np.int64]  # (N, 2)
    gt_mask_len: NDArray[np.int64]
    gt_mask_hw: NDArray[np.int64]  # (M, 2)
    dt_runs: NDArray[np.int64]
    gt_runs: NDArray[np.int64]

    @staticmethod
    def empty() -> _Chunk:
        i, f = np.empty(0, np.int64), np.empty(0, np.float64)
        b, z, hw = np.empty((0, 4), np.float64), np.empty(0, np.bool_), np.empty((0, 2), np.int64)
        return _Chunk(0, i, i, f, b, i, i, b, f, z, z, i, hw, i, hw, i, i)

    @staticmethod
    def concat(chunks: Sequence[_Chunk]) -> _Chunk:
        """One chunk; the images of ``chunks[k]`` follow those of ``chunks[k - 1]``."""
        if len(chunks) == 1:
            return chunks[0]
        if not chunks:
            return _Chunk.empty()
        off = np.cumsum([0] + [c.n_images for c in chunks])
        cols: dict[str, Any] = {"n_images": int(off[-1])}
        for f in fields(_Chunk)[1:]:
            parts = [getattr(c, f.name) for c in chunks]
            if f.name.endswith("_image"):
                parts = [p + o for p, o in zip(parts, off[:-1].tolist(), strict=True)]
            cols[f.name] = np.concatenate(parts)
        return _Chunk(**cols)

    def reorder_images(self, new_id: NDArray[np.int64]) -> _Chunk:
        """Image ``i`` becomes ``new_id[i]``; rows are re-sorted by image (stable)."""
        cols: dict[str, Any] = {"n_images": self.n_images}
        for side in ("dt", "gt"):
            image = new_id[getattr(self, f"{side}_image")]
            order = np.argsort(image, kind="stable")
            for f in fields(_Chunk)[1:]:
                if f.name == f"{side}_runs":  # the runs of each row, moved with their row
                    lens = getattr(self, f"{side}_mask_len")
                    start = np.cumsum(lens) - lens
                    new_lens = lens[order]
                    pos = np.arange(int(new_lens.sum()), dtype=np.int64)
                    pos += np.repeat(start[order] - (np.cumsum(new_lens) - new_lens), new_lens)
                    cols[f.name] = getattr(self, f.name)[pos]
                elif f.name.startswith(side):
                    cols[f.name] = image[order] if f.name.endswith("_image") else getattr(self, f.name)[order]
        return _Chunk(**cols)

    def masks(self, side: str) -> Any:
        """The masks of ``side`` ('dt' or 'gt') as :class:`fastdet._rle.Rles` (one per row)."""
        from fastdet import _rle

        lens = getattr(self, f"{side}_mask_len")
        off = np.zeros(len(lens) + 1, np.int64)
        np.cumsum(lens, out=off[1:])
        hw = getattr(self, f"{side}_mask_hw")
        return _rle.Rles(
            getattr(self, f"{side}_runs"), off, np.ascontiguousarray(hw[:, 0]), np.ascontiguousarray(hw[:, 1])
        )


# ---------------------------------------------------------------------------- input


def _torch() -> Any:
    return sys.modules.get("torch")


def _is_tensor(x: Any) -> bool:
    torch = _torch()
    return torch is not None and isinstance(x, torch.Tensor)


def _is_bf16(v: Any) -> bool:
    torch = _torch()
    return torch is not None and isinstance(v, torch.Tensor) and v.dtype == torch.bfloat16


def _round_bf16(x: NDArray[np.float32]) -> NDArray[np.float32]:
    """float32 values rounded to the nearest bfloat16 (ties to even), as torch stores a bfloat16
    result computed in float32. For + - * of bfloat16 values this single float32 operation then
    the rounding equals the correctly rounded bfloat16 operation (24 >= 2 * 8 + 2 bits)."""
    u = np.ascontiguousarray(x, np.float32).view(np.uint32)
    r = (u + np.uint32(0x7FFF) + ((u >> np.uint32(16)) & np.uint32(1))) & np.uint32(0xFFFF0000)
    return r.view(np.float32)


def _tensor_to_numpy(t: Any) -> NDArray[Any]:
    torch = _torch()
    t = t.detach()
    if t.dtype == torch.bfloat16:  # NumPy has no bfloat16
        t = t.float()
    return np.asarray(t.cpu().numpy())


def _where(arg: str, i: int, key: str) -> str:
    return f"{arg}[{i}][{key!r}]"


def _image_of(row: int, counts: NDArray[np.int64]) -> tuple[int, int]:
    """(image, row within the image) of a row of the concatenated column."""
    off = np.concatenate(([0], np.cumsum(counts)))
    i = int(np.searchsorted(off, row, side="right")) - 1
    return i, row - int(off[i])


def _value(items: Sequence[Any], i: int, key: str, row: int) -> Any:
    """Row ``row`` of ``items[i][key]`` as a Python list / number, for error messages."""
    v = items[i][key]
    v = v.detach().cpu().tolist() if _is_tensor(v) else np.asarray(v).tolist()
    return v[row] if isinstance(v, list) and row < len(v) else v


_ABSENT = object()


def _array_like(v: Any, tensor: Any, arg: str, i: int, key: str) -> tuple[Any, bool]:
    """``v`` as an ndarray or a tensor (left on its device), and whether it is a tensor."""
    if isinstance(v, tensor):
        return v, True
    if isinstance(v, np.ndarray):
        return v, False
    try:
        return np.asarray(v), False
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{_where(arg, i, key)} could not be converted to an array: {exc}") from None


def _missing(arg: str, i: int, item: Any, key: str, types: Sequence[str] = ("bbox",)) -> ValueError:
    return ValueError(
        f"{arg}[{i}] has no {key!r} key (it has {sorted(map(str, item))}); "
        f"each {arg} entry needs {_required_keys(arg, types)}"
    )


def _box_column(
    items: Sequence[Any], arg: str, types: Sequence[str] = ("bbox",)
) -> tuple[list[NDArray[Any]], NDArray[np.int64], bool, list[bool]]:
    """Host arrays of every image's ``boxes`` (N, 4) (an empty 1-d array counts as (0, 4)),
    each image's N, whether tensors came in, and which arrays were bfloat16 tensors (now float32,
    exactly). See ``_to_host``."""
    torch = sys.modules.get("torch")
    tensor: Any = torch.Tensor if torch is not None else ()  # isinstance(x, ()) is False
    vals: list[Any] = []
    lens: list[int] = []
    n_tensors = 0
    for i, item in enumerate(items):
        v = item.get("boxes", _ABSENT)
        if type(v) is not np.ndarray:
            if v is _ABSENT:
                raise _missing(arg, i, item, "boxes", types)
            v, is_tensor = _array_like(v, tensor, arg, i, "boxes")
            n_tensors += is_tensor
        shape = v.shape
        if len(shape) != 2 or shape[1] != 4:
            if len(shape) != 1 or shape[0] != 0:
                raise ValueError(f"{_where(arg, i, 'boxes')} must have shape (N, 4), got {tuple(shape)}")
            v = v.reshape(0, 4)
        vals.append(v)
        lens.append(shape[0])
    counts = np.array(lens, dtype=np.int64)
    bf16 = [_is_bf16(v) for v in vals] if n_tensors else []
    if any(bf16) and not all(bf16):  # rare: each image keeps its own dtype (and flag)
        parts = [
            _tensor_to_numpy(v) if is_bf else _to_host([v], int(_is_tensor(v)))[0]
            for v, is_bf in zip(vals, bf16, strict=True)
        ]
        return parts, counts, True, bf16
    parts = _to_host(vals, n_tensors)
    return parts, counts, n_tensors > 0, [bool(bf16) and all(bf16)] * len(parts)


def _column(
    items: Sequence[Any],
    arg: str,
    key: str,
    counts: list[int],
    *,
    optional: bool = False,
    types: Sequence[str] = ("bbox",),
) -> tuple[list[NDArray[Any]] | None, bool]:
    """Host arrays of every image's ``key``, 1-d of length ``counts[i]``, and whether tensors came in.

    ``optional``: None when no image has the key; a missing entry is zeros.
    See ``_to_host``.
    """
    count_key = "boxes" if "bbox" in types else "masks"
    torch = sys.modules.get("torch")
    tensor: Any = torch.Tensor if torch is not None else ()
    vals: list[Any] = []
    absent: list[int] = []
    n_tensors = 0
    for i, item in enumerate(items):
        v = item.get(key, _ABSENT)
        if type(v) is not np.ndarray:
            if v is _ABSENT:
                if not optional:
                    raise _missing(arg, i, item, key, types)
                absent.append(i)
                vals.append(None)
                continue
            v, is_tensor = _array_like(v, tensor, arg, i, key)
            n_tensors += is_tensor
        shape = v.shape
        if len(shape) != 1:
            raise ValueError(f"{_where(arg, i, key)} must be 1-dimensional, got shape {tuple(shape)}")
        if shape[0] != counts[i]:
            raise ValueError(
                f"{_where(arg, i, key)} has length {shape[0]} but {_where(arg, i, count_key)} has "
                f"{counts[i]} {count_key}"
            )
        vals.append(v)
    if absent:
        if len(absent) == len(items):
            return None, False
        for i in absent:
            vals[i] = np.zeros(counts[i])
    return _to_host(vals, n_tensors), n_tensors > 0


def _to_host(vals: list[Any], n_tensors: int) -> list[NDArray[Any]]:
    """One host array (tensors of one dtype and device are concatenated on the device and copied
    once), or one per image when the dtypes differ, so that each keeps its dtype. The result may
    share memory with the input: callers copy."""
    if not vals:
        return []
    if n_tensors == len(vals):
        d0 = vals[0].dtype
        if all(v.dtype is d0 for v in vals):
            try:  # (no torch.no_grad(): entering it costs more than the cat; the result is detached)
                return [_tensor_to_numpy(sys.modules["torch"].cat(vals) if len(vals) > 1 else vals[0])]
            except RuntimeError:  # tensors on different devices: one at a time below
                pass
    arrays = [v if isinstance(v, np.ndarray) else _tensor_to_numpy(v) for v in vals] if n_tensors else vals
    d0 = arrays[0].dtype
    if all(a.dtype == d0 for a in arrays):
        return [np.concatenate(arrays) if len(arrays) > 1 else arrays[0]]
    return arrays


def _required_keys(arg: str, types: Sequence[str] = ("bbox",)) -> str:
    keys = [k for t, k in (("bbox", "boxes"), ("segm", "masks")) if t in types]
    keys += ["scores", "labels"] if arg == "preds" else ["labels"]
    return ", ".join(map(repr, keys[:-1])) + f" and {keys[-1]!r}"


def _check_kind(parts: list[NDArray[Any]], arg: str, key: str, kinds: str, expected: str) -> None:
    for i, a in enumerate(parts):
        if a.dtype.kind not in kinds:
            image = i if len(parts) > 1 else 0
            raise TypeError(f"{_where(arg, image, key)} must be {expected}, got dtype {a.dtype}")


def _to_xywh(b: NDArray[Any], fmt: str, bf16: bool = False) -> NDArray[np.float64]:
    """torchvision's ``box_convert(b, fmt, 'xywh')`` in the input's dtype, as float64.

    Integer boxes: xyxy / xywh are exact in float64; cxcywh is computed in
    float32, as torch promotes ``int_tensor * 0.5``. ``bf16``: ``b`` holds the
    float32 values of a bfloat16 tensor; each step is rounded to bfloat16, as torch computes.
    """
    if bf16 and fmt != "xywh":
        r = _round_bf16
        out = np.empty(b.shape, np.float64)
        if fmt == "xyxy":
            out[:, :2] = b[:, :2]
            out[:, 2:] = r(b[:, 2:] - b[:, :2])
        else:
            half32 = r(b[:, 2:] * np.float32(0.5))
            lo32 = r(b[:, :2] - half32)
            out[:, :2] = lo32
            out[:, 2:] = r(r(b[:, :2] + half32) - lo32)
        return out
    if b.dtype.kind in "iu":
        b = b.astype(np.float32 if fmt == "cxcywh" else np.float64)
    if fmt == "xywh":
        return np.ascontiguousarray(b, dtype=np.float64)
    out = np.empty(b.shape, np.float64)
    if fmt == "xyxy":
        out[:, :2] = b[:, :2]
        np.subtract(b[:, 2:], b[:, :2], out=out[:, 2:], dtype=b.dtype)  # in b's dtype, stored as float64
    else:  # cxcywh -> xyxy -> xywh, each step in the input dtype
        half = b[:, 2:] * 0.5
        lo = b[:, :2] - half
        out[:, :2] = lo
        np.subtract(b[:, :2] + half, lo, out=out[:, 2:], dtype=b.dtype)
    return out


def _boxes(
    items: Sequence[Any], arg: str, fmt: str, seen: list[bool], types: Sequence[str] = ("bbox",)
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    parts, counts, tensors, bf16 = _box_column(items, arg, types)
    seen.append(tensors)
    assert parts is not None
    _check_kind(parts, arg, "boxes", "iuf", "a real numeric array")
    flags = bf16 or [False] * len(parts)
    xywh = [_to_xywh(p, fmt, f) for p, f in zip(parts, flags, strict=True)]
    boxes = np.concatenate(xywh) if parts else np.empty((0, 4))
    bad = ~np.isfinite(boxes).all(axis=1) | (boxes[:, 2] < 0) | (boxes[:, 3] < 0)
    if bad.any():
        i, row = _image_of(int(np.flatnonzero(bad)[0]), counts)
        value = _value(items, i, "boxes", row)
        what = "finite" if not np.isfinite(boxes[bad][0]).all() else f"valid {fmt} (width and height >= 0)"
        raise ValueError(f"{_where(arg, i, 'boxes')} row {row} is {value}; boxes must be {what}")
    return boxes, counts


def _floats(
    items: Sequence[Any],
    arg: str,
    key: str,
    counts: NDArray[np.int64],
    seen: list[bool],
    *,
    optional: bool = False,
    types: Sequence[str] = ("bbox",),
) -> NDArray[np.float64] | None:
    parts, tensors = _column(items, arg, key, counts.tolist(), optional=optional, types=types)
    seen.append(tensors)
    if parts is None:
        return None
    kinds = "biuf" if key == "iscrowd" else "iuf"
    _check_kind(parts, arg, key, kinds, "a real numeric array")
    out = np.concatenate(parts).astype(np.float64) if parts else np.empty(0)
    nan = np.isnan(out)
    if nan.any():
        i, row = _image_of(int(np.flatnonzero(nan)[0]), counts)
        raise ValueError(f"{_where(arg, i, key)} entry {row} is NaN")
    return out


def _labels(
    items: Sequence[Any],
    arg: str,
    counts: NDArray[np.int64],
    seen: list[bool],
    types: Sequence[str] = ("bbox",),
) -> NDArray[np.int64]:
    parts, tensors = _column(items, arg, "labels", counts.tolist(), types=types)
    seen.append(tensors)
    assert parts is not None
    _check_kind(parts, arg, "labels", "iuf", "an integer array")
    if all(p.dtype.kind in "iu" for p in parts):
        out = np.concatenate(parts) if parts else np.empty(0, np.int64)
        if out.dtype == np.uint64 and out.size and out.max() > np.iinfo(np.int64).max:
            i, row = _image_of(int(np.argmax(out)), counts)
            raise ValueError(f"{_where(arg, i, 'labels')} entry {row} does not fit in int64")
        return out.astype(np.int64, copy=False)
    out = np.concatenate([p.astype(np.float64) for p in parts])
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(out) | (out != np.round(out)) | (np.abs(out) > 2**53)
    if bad.any():
        i, row = _image_of(int(np.flatnonzero(bad)[0]), counts)
        raise ValueError(
            f"{_where(arg, i, 'labels')} entry {row} is {float(out[bad][0])!r}; labels must be integers"
        )
    return out.astype(np.int64)


@dataclass(frozen=True)
class _Masks:
    counts: NDArray[np.int64]  # masks per image
    lens: NDArray[np.int64]  # runs per mask
    hw: NDArray[np.int64]  # (n, 2)
    runs: NDArray[np.int64]
    area: NDArray[np.int64]  # rleArea


def _masks(
    items: Sequence[Any], arg: str, counts: NDArray[np.int64] | None, seen: list[bool], types: Sequence[str]
) -> _Masks:
    """Every image's ``masks`` (N, H, W) (bool or integers, nonzero = foreground), run-length encoded.

    ``counts``: the number of boxes of each image, which must equal N (None: no boxes).
    """
    from fastdet import _rle

    torch = sys.modules.get("torch")
    tensor: Any = torch.Tensor if torch is not None else ()
    n_per: list[int] = []
    lens: list[NDArray[np.int64]] = []
    hws: list[NDArray[np.int64]] = []
    runs: list[NDArray[np.int64]] = []
    n_tensors = 0
    for i, item in enumerate(items):
        v = item.get("masks", _ABSENT)
        if v is _ABSENT:
            raise _missing(arg, i, item, "masks", types)
        if type(v) is not np.ndarray:
            v, is_tensor = _array_like(v, tensor, arg, i, "masks")
            if is_tensor:
                n_tensors += 1
                v = _tensor_to_numpy(v)
        if v.ndim == 1 and v.shape[0] == 0:
            v = v.reshape(0, 0, 0)
        if v.ndim != 3:
            raise ValueError(f"{_where(arg, i, 'masks')} must have shape (N, H, W), got {tuple(v.shape)}")
        if v.dtype.kind not in "biu" and v.size:  # no masks: any dtype (torchmetrics' Tensor([]))
            raise ValueError(
                f"{_where(arg, i, 'masks')} must be a boolean or integer array (nonzero = foreground), "
                f"got dtype {v.dtype}"
            )
        if counts is not None and v.shape[0] != counts[i]:
            raise ValueError(
                f"{_where(arg, i, 'masks')} holds {v.shape[0]} masks but {_where(arg, i, 'boxes')} has "
                f"{int(counts[i])} boxes"
            )
        if v.shape[0] and v.shape[1] * v.shape[2] > _rle.MAX_PIXELS:
            raise ValueError(
                f"{_where(arg, i, 'masks')} has masks of {v.shape[1]} x {v.shape[2]} pixels: too many"
            )
        n_per.append(v.shape[0])
        if v.shape[0]:
            r = _rle._from_masks(v.transpose(1, 2, 0), STREAM_PARALLEL_WORK)
            lens.append(np.diff(r.offsets))
            hws.append(np.stack([r.h, r.w], axis=1))
            runs.append(r.runs)
    seen.append(n_tensors > 0)
    cat_lens = np.concatenate(lens) if lens else np.empty(0, np.int64)
    cat_runs = np.concatenate(runs) if runs else np.empty(0, np.int64)
    hw = np.concatenate(hws) if hws else np.empty((0, 2), np.int64)
    off = np.zeros(len(cat_lens) + 1, np.int64)
    np.cumsum(cat_lens, out=off[1:])
    area = _rle.areas(
        _rle.Rles(cat_runs, off, np.ascontiguousarray(hw[:, 0]), np.ascontiguousarray(hw[:, 1]))
    )
    return _Masks(np.array(n_per, np.int64), cat_lens, hw, cat_runs, area)


def read_batch(
    preds: Any, target: Any, fmt: str, types: Sequence[str] = ("bbox",)
) -> tuple[_Chunk, NDArray[np.int64], bool]:
    """Validate one ``update`` batch: (its chunk, the detections per image, whether tensors came in).

    ``types``: the iou types; 'segm' reads ``masks`` too (and, alone, no ``boxes``).
    """
    for arg, value in (("preds", preds), ("target", target)):
        if isinstance(value, Mapping) or not isinstance(value, Sequence):
            raise TypeError(f"{arg} must be a list of dicts (one per image), got {type(value).__name__}")
        for i, item in enumerate(value):
            if type(item) is not dict and not isinstance(item, Mapping):
                raise TypeError(f"{arg}[{i}] must be a dict, got {type(item).__name__}")
    if len(preds) != len(target):
        raise ValueError(
            "preds and target must have the same length (one entry per image), "
            f"got {len(preds)} and {len(target)}"
        )
    seen: list[bool] = []
    bbox, segm = "bbox" in types, "segm" in types
    side: dict[str, Any] = {}
    for arg, items in (("preds", preds), ("target", target)):
        counts = box = None
        if bbox:
            box, counts = _boxes(items, arg, fmt, seen, types)
        m = _masks(items, arg, counts, seen, types) if segm else None
        if m is not None and counts is None:
            counts = m.counts
        assert counts is not None
        if box is None:
            box = np.zeros((int(counts.sum()), 4), np.float64)
        side[arg] = box, counts, m
        if arg == "preds":
            dt_score = _floats(preds, "preds", "scores", counts, seen, types=types)
            dt_label = _labels(preds, "preds", counts, seen, types=types)
        else:
            gt_label = _labels(target, "target", counts, seen, types=types)
    dt_box, dt_counts, dt_m = side["preds"]
    gt_box, gt_counts, gt_m = side["target"]
    crowd = _floats(target, "target", "iscrowd", gt_counts, seen, optional=True, types=types)
    area = _floats(target, "target", "area", gt_counts, seen, optional=True, types=types)
    # torchmetrics' rule: the given area where > 0, else the mask area (with masks) or the box area
    box_area = gt_m.area.astype(np.float64) if gt_m is not None else gt_box[:, 2] * gt_box[:, 3]
    gt_area = box_area if area is None else np.where(area > 0, area, box_area)
    if crowd is None:
        gt_crowd = gt_ignore = np.zeros(len(gt_box), np.bool_)
    else:
        trunc = np.trunc(crowd)
        bad = (trunc < 0) | (trunc > 255)
        if bad.any():
            i, row = _image_of(int(np.flatnonzero(bad)[0]), gt_counts)
            raise ValueError(
                f"{_where('target', i, 'iscrowd')} entry {row} is {float(crowd[bad][0])!r}; expected 0 or 1"
            )
        gt_crowd, gt_ignore = trunc != 0, crowd != 0  # pycocotools: int(iscrowd) and bool(iscrowd)
    n = len(preds)
    assert dt_score is not None
    chunk = _Chunk(
        n_images=n,
        dt_image=np.repeat(np.arange(n, dtype=np.int64), dt_counts),
        dt_label=dt_label,
        dt_score=dt_score,
        dt_box=dt_box,
        gt_image=np.repeat(np.arange(n, dtype=np.int64), gt_counts),
        gt_label=gt_label,
        gt_box=gt_box,
        gt_area=np.ascontiguousarray(gt_area, dtype=np.float64),
        gt_crowd=gt_crowd,
        gt_ignore=gt_ignore,
        **_mask_columns("dt", dt_m, len(dt_box)),
        **_mask_columns("gt", gt_m, len(gt_box)),
    )
    return chunk, dt_counts, any(seen)


def _mask_columns(side: str, m: _Masks | None, n: int) -> dict[str, NDArray[np.int64]]:
    if m is None:
        return {
            f"{side}_mask_len": np.zeros(n, np.int64),
            f"{side}_mask_hw": np.zeros((n, 2), np.int64),
            f"{side}_runs": np.empty(0, np.int64),
        }
    return {f"{side}_mask_len": m.lens, f"{side}_mask_hw": m.hw, f"{side}_runs": m.runs}
