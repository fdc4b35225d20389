"""Reading COCO JSON: the Numba scanner's driver, from file bytes to columns of numbers."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fastdet._kernels import jsonscan as _scan
from fastdet.coco.columns import _Columns

PathLike = str | os.PathLike[str]


def _key_table(names: Sequence[str]) -> tuple[NDArray[np.uint8], NDArray[np.int64]]:
    width = max(len(n) for n in names)
    table = np.zeros((len(names), width), np.uint8)
    for k, name in enumerate(names):
        table[k, : len(name)] = np.frombuffer(name.encode(), np.uint8)
    return table, np.array([len(n) for n in names], np.int64)


def _capacity(span: int, spec: Sequence[tuple[str, int]]) -> int:
    """Most entries that have every key of ``spec`` which ``span`` bytes of JSON array can hold.

    The shortest such entry is ``{"key":0,...,"box":[0,0,0,0]}`` plus a comma. An
    array with more entries than this lacks keys in some of them, and then the
    scan gives up (the full parser handles such files): counting ``{`` instead
    would cost a pass over the bytes.
    """
    shortest = 2 + sum(len(k) + 3 + (1 if w == 1 else 2 * w + 1) + 1 for k, w in spec)
    return span // shortest + 1


_SPLIT_BYTES = 1 << 20  # arrays longer than this are read in two halves at once


def _split_point(raw: bytes, start: int) -> int:
    """A ``{`` after the middle of ``raw[start:]`` right after a comma: likely an entry start, or -1."""
    j = raw.find(b"{", start + (len(raw) - start) // 2)
    for _ in range(16):
        if j < 0:
            return -1
        k = j - 1
        while k > start and raw[k] in b" \t\r\n":
            k -= 1
        if raw[k] == 44:  # ','
            return j
        j = raw.find(b"{", j + 1)
    return -1


def _scan_array(
    raw: bytes, start: int, spec: Sequence[tuple[str, int]], *, whole: bool = False, big: bool = False
) -> tuple[NDArray[np.float64], NDArray[np.int64], int] | None:
    """Columns of the JSON array of objects at ``raw[start]``; None if it is not plain numbers.

    ``spec`` lists (key, width); the result has one column per number, a bit
    mask per entry of the keys present, and the index after the array. A
    ``big`` array (most of the rest of the file) is read in two halves in
    parallel, split after the middle of the rest (the kernel checks the split).
    """
    buf = np.frombuffer(raw, np.uint8)
    keys, key_len = _key_table([k for k, _ in spec])
    widths = np.array([w for _, w in spec], np.int64)
    slots = np.concatenate([[0], np.cumsum(widths)[:-1]]).astype(np.int64)
    n_slots = int(widths.sum())
    split = _split_point(raw, start) if big and len(raw) - start > _SPLIT_BYTES else -1
    counts = None
    if split > 0:
        row_b = _capacity(split - start, spec)
        capacity = row_b + _capacity(len(raw) - split, spec)
        vals = np.empty((capacity, n_slots), np.float64)  # untouched pages cost no memory
        seen = np.empty(capacity, np.int64)
        slow = np.empty((capacity * n_slots, 3), np.int64)
        out = np.empty((2, 3), np.int64)
        _scan.scan_object_array_split(
            buf, start, split, keys, key_len, slots, widths, vals, seen, slow, row_b, out
        )
        if out[0, 0] >= 0:  # the split is an entry start: the halves are the whole array
            if out[1, 0] < 0:
                return None
            counts = out
    if counts is None:
        capacity = _capacity(len(raw) - start, spec)
        vals = np.empty((capacity, n_slots), np.float64)
        seen = np.empty(capacity, np.int64)
        slow = np.empty((capacity * n_slots, 3), np.int64)
        count, n_slow, end = _scan.scan_object_array(
            buf, start, keys, key_len, slots, widths, vals, seen, slow
        )
        if count < 0:
            return None
        row_b = 0
        counts = np.array([[count, n_slow, end], [0, 0, end]])
    end = int(counts[1, 2])
    if whole and _scan.skip_whitespace(buf, end) != len(buf):
        return None
    flat = vals.reshape(-1)
    for h, slow0 in ((0, 0), (1, row_b * n_slots)):
        # numbers beyond the exact fast path: Python's correctly rounded float()
        for slot, lo, hi in slow[slow0 : slow0 + counts[h, 1]].tolist():
            flat[slot] = float(buf[lo:hi].tobytes())
    n_a, n_b = int(counts[0, 0]), int(counts[1, 0])
    if n_b == 0:
        return vals[:n_a], seen[:n_a], end
    return (
        np.concatenate((vals[:n_a], vals[row_b : row_b + n_b])),
        np.concatenate((seen[:n_a], seen[row_b : row_b + n_b])),
        end,
    )


def _exact_ints(col: NDArray[np.float64]) -> NDArray[np.int64] | None:
    """``col`` as int64 when every value is a whole number below 2**53 in magnitude."""
    if col.size and not (np.all(col == np.round(col)) and np.abs(col).max() < 2**53):
        return None
    return col.astype(np.int64)


_GT_SPEC = (("id", 1), ("image_id", 1), ("category_id", 1), ("bbox", 4), ("area", 1), ("iscrowd", 1))
_DT_SPEC = (("image_id", 1), ("category_id", 1), ("bbox", 4), ("score", 1))
_ID_SPEC = (("id", 1),)
_TOP_KEYS = _key_table(["annotations", "images", "categories"])


@dataclass
class _Scan:
    """What the fast scan of a ground-truth file found (None: not scanned / not plain)."""

    img_ids: list[Any]
    cat_ids: list[Any]
    cols: _Columns | None


def _scan_ground_truth(raw: bytes) -> _Scan | None:
    buf = np.frombuffer(raw, np.uint8)
    keys, key_len = _TOP_KEYS
    found: list[tuple[NDArray[np.float64], NDArray[np.int64], int] | None] = [None, None, None]
    i, after_value = 0, False
    while True:  # one pass: the walk stops at each wanted key and its array is read in place
        k, start = _scan.next_top_key(buf, i, after_value, keys, key_len)
        if k == -2:
            return None
        if k == -1:
            break
        found[k] = got = _scan_array(raw, start, _GT_SPEC if k == 0 else _ID_SPEC, big=k == 0)
        if got is None:
            return None
        i, after_value = got[2], True
    ids: list[list[Any]] = []
    for got in found[1:]:
        if got is None:
            ids.append([])
            continue
        if (got[1] != 1).any():
            return None
        as_int = _exact_ints(got[0][:, 0])
        if as_int is None:
            return None
        ids.append(as_int.tolist())
    if found[0] is None:
        cols = _gt_columns_from_values(np.empty((0, 9)), np.empty(0, np.int64))
    else:
        cols = _gt_columns_from_values(found[0][0], found[0][1])
    return _Scan(ids[0], ids[1], cols)


def _gt_columns_from_values(vals: NDArray[np.float64], seen: NDArray[np.int64]) -> _Columns | None:
    """Ground-truth columns from scanned numbers, or None when an entry needs the full checks."""
    ok, increasing, ids, img, cat, bbox, area, crowd, ignore = _scan.ground_truth_columns(
        vals, seen, len(seen), 2 ** len(_GT_SPEC) - 1
    )
    if not ok or (not increasing and len(np.unique(ids)) != len(ids)):
        return None
    return _Columns(ids, img, cat, bbox, area, crowd=crowd, ignore=ignore)


def _scan_results(raw: bytes) -> tuple[_Columns, NDArray[np.float64]] | None:
    """(columns, score) of a plain results file, or None."""
    got = _scan_array(raw, 0, _DT_SPEC, whole=True, big=True)
    if got is None:
        return None
    vals, seen, _ = got
    ok, img, cat, bbox, area, score = _scan.results_columns(vals, seen, len(seen), 2 ** len(_DT_SPEC) - 1)
    if not ok:
        return None
    cols = _Columns(np.arange(1, len(score) + 1, dtype=np.int64), img, cat, bbox, area, score=score)
    return cols, score
