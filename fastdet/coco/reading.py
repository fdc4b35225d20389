"""Reading COCO JSON: the Numba scanner's driver, from file bytes to columns of numbers.

The scanner (:mod:`fastdet._kernels.jsonscan`) reads arrays of objects into
blocks of rows; this module picks the keys, splits big arrays into chunks that
are scanned at once on several threads (the kernels release the GIL), grows
the blocks as entries come (no reservation proportional to the file), converts
the rare long numbers and string ids, and checks the columns. Whenever the
scanner cannot read a file, the callers parse it with a full JSON parser.
"""

from __future__ import annotations

import functools
import itertools
import json
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fastdet import _kernels, _memory
from fastdet._io import loads as _loads
from fastdet._io import read_bytes as _read_bytes
from fastdet._kernels import jsonscan as _scan
from fastdet.coco.columns import _Columns

try:  # see _loads_exact
    import orjson as _orjson
except ImportError:  # pragma: no cover - depends on the environment
    _orjson = None  # type: ignore[assignment]

PathLike = str | os.PathLike[str]

_SPLIT_BYTES = 1 << 20  # arrays are cut into chunks of at least this many bytes, one per core
_MAX_CHUNKS = 16
_ROW_BYTES = 128  # first block: one row per this many bytes of array (rows grow from what was read)
_AUX_ROWS = 64  # first capacity for long numbers and string ids
_NO_AUX = np.empty((0, 5), np.int64)
_IN_PLACE_SLACK = 4  # columns are read in place from a shared block of at most 4x the rows read


class ExactIntsNeeded(Exception):
    """An id is an integer literal beyond what the scanner converts (more than 18 digits)."""


@dataclass(frozen=True)
class _Spec:
    """The keys to read from each object: name, width (values, > 1: an array of them) and kind.

    ``packed`` is the scanner's form, one row per key: ``[length, first slot,
    width, kind, key bytes...]``; a row of values has ``n_slots`` slots plus the
    entry's key mask.
    """

    names: tuple[str, ...]
    packed: NDArray[np.int64]
    n_slots: int

    @classmethod
    def of(cls, keys: Sequence[tuple[str, int, int]]) -> _Spec:
        names = tuple(k for k, _, _ in keys)
        width = np.array([w for _, w, _ in keys], np.int64)
        packed = np.zeros((len(keys), 4 + max(map(len, names))), np.int64)
        packed[:, 0] = [len(n) for n in names]
        packed[:, 1] = np.concatenate([[0], np.cumsum(width)[:-1]])
        packed[:, 2] = width
        packed[:, 3] = [k for _, _, k in keys]
        for k, name in enumerate(names):
            packed[k, 4 : 4 + len(name)] = np.frombuffer(name.encode(), np.uint8)
        return cls(names, packed, int(width.sum()))

    @property
    def full(self) -> int:
        """The key mask of an entry that has every key."""
        return (1 << len(self.names)) - 1


_F, _I, _IS = _scan.FLOAT, _scan.INT, _scan.INT_OR_STR
_GT_SPEC = _Spec.of(
    [("id", 1, _I), ("image_id", 1, _IS), ("category_id", 1, _IS), ("bbox", 4, _F), ("area", 1, _F),
     ("iscrowd", 1, _F)]
)  # fmt: skip
_DT_SPEC = _Spec.of([("image_id", 1, _IS), ("category_id", 1, _IS), ("bbox", 4, _F), ("score", 1, _F)])
_ID_SPEC = _Spec.of([("id", 1, _IS)])
_TOP_KEYS = {b"annotations": 0, b"images": 1, b"categories": 2}


# ---------------------------------------------------------------- scanning one array


@dataclass
class _Piece:
    """Rows read into one block: values (the key mask last) and aux records (rows of the block).

    ``row0``: the row of ``vals[0]`` in the array's shared block (-1: a block of its own).
    """

    vals: NDArray[np.float64]
    aux: NDArray[np.int64]
    row0: int = -1


@dataclass
class _ChunkResult:
    status: int
    end: int
    pieces: list[_Piece]


def _scan_chunk(
    buf: NDArray[np.uint8], start: int, stop: int, inside: bool, spec: _Spec, first: _Piece
) -> _ChunkResult:
    """Scan from ``start`` until the array ends, ``stop`` or a failure, growing the blocks as needed.

    Rows go into ``first.vals`` (rows of the array's shared block), then into
    blocks sized from the bytes per entry read so far, so no reservation is a
    multiple of the file size.
    """
    limit = buf.shape[0] if stop < 0 else stop
    pieces: list[_Piece] = []
    vals, row0 = first.vals, first.row0
    rows = len(vals)
    ivals = vals.view(np.int64)
    aux = np.empty((_AUX_ROWS, 5), np.int64)
    used = aux_used = n_read = 0
    pos = start
    while True:
        status, count, n_aux, pos = _scan.scan_objects(
            buf, pos, stop, inside, spec.packed, vals[used:], ivals[used:], aux[aux_used:]
        )
        if status < 0:
            return _ChunkResult(status, pos, pieces)
        aux[aux_used : aux_used + n_aux, 1] += used  # rows of the block, not of the slice
        used += count
        aux_used += n_aux
        n_read += count
        inside = True
        if status != _scan.FULL or used == rows:
            pieces.append(_Piece(vals[:used], aux[:aux_used], row0))
            if status != _scan.FULL:
                return _ChunkResult(status, pos, pieces)
            # rows ran out: size the next block from the bytes per entry so far
            per_entry = max((pos - start) / n_read, 16.0)
            rows = int((limit - pos) / per_entry * 1.05) + 64
            vals = np.empty((rows, spec.n_slots + 1), np.float64)
            ivals = vals.view(np.int64)
            aux = np.empty((_AUX_ROWS, 5), np.int64)
            used = aux_used = 0
            row0 = -1
        else:  # aux ran out: double it
            aux = np.concatenate((aux[:aux_used], np.empty((2 * len(aux) - aux_used, 5), np.int64)))


def _split_points(raw: bytes, start: int, parts: int) -> list[int]:
    """Up to ``parts - 1`` likely entry starts (a ``{`` right after a comma) spread over ``raw[start:]``."""
    points: list[int] = []
    span = len(raw) - start
    for p in range(1, parts):
        j = raw.find(b"{", start + span * p // parts)
        for _ in range(16):
            if j < 0:
                break
            k = j - 1
            while k > start and raw[k] in b" \t\r\n":
                k -= 1
            if raw[k] == 44:  # ','
                break
            j = raw.find(b"{", j + 1)
        else:
            j = -1
        if j > (points[-1] if points else start):
            points.append(j)
    return points


def _workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - platforms without affinity
        return os.cpu_count() or 1


def _run_threads(jobs: Sequence[Callable[[], Any]]) -> list[Any]:
    """Run the jobs at once, the first in this thread; their results (an exception is re-raised)."""
    out: list[Any] = [None] * len(jobs)
    errors: list[BaseException] = []

    def run(j: int) -> None:
        try:
            out[j] = jobs[j]()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(j,), daemon=True) for j in range(1, len(jobs))]
    for t in threads:
        t.start()
    run(0)
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return out


def _chunk_count(span: int) -> int:
    """Chunks to scan at once: one per core, within this thread's ``thread_limit`` (a Dask task's 1)."""
    return max(1, min(_thread_budget(), _MAX_CHUNKS, span // _SPLIT_BYTES))


def _thread_budget() -> int:
    """Threads a call may use: one per core, within this thread's ``thread_limit``."""
    limit = getattr(_kernels._local, "threads", None)
    return _workers() if limit is None else max(1, min(_workers(), limit))


@dataclass
class _Array:
    """The rows of one scanned array, in the blocks they were read into (not copied into one).

    Columns are gathered from the blocks on demand, so that reading a file never
    holds a second copy of all its rows.
    """

    blocks: list[NDArray[np.float64]]  # (rows, slots + 1): INT / INT_OR_STR slots and the mask are int64
    aux: NDArray[np.int64]  # (A, 5) kind, row (of the array), slot, start, end
    end: int  # index after the array
    shared: NDArray[np.float64] | None = None  # the block that most blocks are rows of
    row0: list[int] | None = None  # the row of each block in ``shared`` (-1: not in it)

    def __len__(self) -> int:
        return sum(len(b) for b in self.blocks)

    def floats(self, first: int, stop: int | None = None) -> NDArray[np.float64]:
        """Slot ``first`` (1-D), or slots ``first:stop`` (2-D), as a contiguous array."""
        cols = [b[:, first] if stop is None else b[:, first:stop] for b in self.blocks]
        if not cols:
            return np.empty((0,) if stop is None else (0, stop - first))
        return np.concatenate(cols)

    def float_rows(self, first: int, width: int) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
        """Slots ``first:first + width`` of each row, in place where possible: ``(values, start)``.

        Row i's values are ``values[start[i]:start[i] + width]``: the flat shared
        block when every row is in it and it is at most ``_IN_PLACE_SLACK`` times
        the rows read (the values keep the whole reservation alive), else a packed copy.
        """
        shared, row0 = self.shared, self.row0
        if (
            shared is not None
            and row0 is not None
            and min(row0, default=0) >= 0
            and len(shared) <= _IN_PLACE_SLACK * len(self)
        ):
            stride = shared.shape[1]
            pairs = zip(row0, self.blocks, strict=True)
            rows = [np.arange(r, r + len(b), dtype=np.int64) for r, b in pairs]
            start = np.concatenate([np.empty(0, np.int64), *rows]) * stride + first
            return shared.reshape(-1), start
        packed = self.floats(first, first + width)
        return packed.reshape(-1), np.arange(len(packed), dtype=np.int64) * width

    def ints(self, slot: int) -> NDArray[np.int64]:
        """Slot ``slot`` read as int64 (-1: the key masks)."""
        cols = [b.view(np.int64)[:, slot] for b in self.blocks]
        return np.concatenate(cols) if cols else np.empty(0, np.int64)

    @property
    def seen(self) -> NDArray[np.int64]:
        """Key mask of each entry (bit k: key k present)."""
        return self.ints(-1)

    def set(self, rows: NDArray[np.int64], slots: NDArray[np.int64], values: NDArray[np.float64]) -> None:
        """Write ``values`` into the (row, slot) cells."""
        off = 0
        for b in self.blocks:
            here = (rows >= off) & (rows < off + len(b))
            b[rows[here] - off, slots[here]] = values[here]
            off += len(b)


def _scan_array(
    raw: bytes,
    buf: NDArray[np.uint8],
    start: int,
    spec: _Spec,
    *,
    big: bool = False,
    entry_bytes: int = 0,
) -> _Array | None:
    """The JSON array of objects at ``raw[start]``; None when it is not in the form the scanner reads.

    A ``big`` array (most of the rest of the file) is cut into chunks scanned at
    once; chunk h + 1 starts at a guessed entry start, which counts only if chunk
    h arrives there exactly (it might have been inside a string). Where it does
    not, the scan goes on from where chunk h stopped, in this thread.

    Every chunk's first rows go into one shared block (:func:`fastdet._memory.empty`),
    so that a column's rows can be read in place (:meth:`_Array.float_rows`):
    one row per ``_ROW_BYTES`` bytes, or, where the caller knows the size of a
    typical entry (``entry_bytes``: results files, whose entries are written
    alike), per half that.
    """
    points = _split_points(raw, start, _chunk_count(len(raw) - start)) if big else []
    starts = [start, *points]
    stops = [*points, -1]
    spans = [(len(buf) if e < 0 else e) - s for s, e in zip(starts, stops, strict=True)]
    row_bytes = max(16, entry_bytes // 2) if entry_bytes > 0 else _ROW_BYTES
    row0 = np.cumsum([0] + [n // row_bytes + 16 for n in spans]).tolist()
    shared = _memory.empty((row0[-1], spec.n_slots + 1), np.float64)
    firsts = [_Piece(shared[a:b], _NO_AUX, a) for a, b in itertools.pairwise(row0)]
    jobs = [
        functools.partial(_scan_chunk, buf, s, e, h > 0, spec, firsts[h])
        for h, (s, e) in enumerate(zip(starts, stops, strict=True))
    ]
    results: list[_ChunkResult] = _run_threads(jobs) if len(jobs) > 1 else [jobs[0]()]
    pieces: list[_Piece] = []
    h, cur = 0, results[0]
    while True:
        if cur.status in (_scan.FAIL, _scan.EXACT_INTS):
            if cur.status == _scan.EXACT_INTS:
                raise ExactIntsNeeded
            return None
        pieces.extend(cur.pieces)
        if cur.status == _scan.DONE:
            break
        if cur.status == _scan.STOPPED:  # exactly at the next chunk's start: it read real entries
            h += 1
            cur = results[h]
        else:  # MISSED: the next chunk's start was inside a value; go on from here (in its rows)
            h += 1
            cur = _scan_chunk(buf, cur.end, stops[h], True, spec, firsts[h])
    offsets = np.cumsum([0] + [len(p.vals) for p in pieces])
    aux_parts = [np.empty((0, 5), np.int64)]
    for p, off in zip(pieces, offsets.tolist(), strict=False):
        if len(p.aux):
            a = p.aux.copy()
            a[:, 1] += off  # rows of the array
            aux_parts.append(a)
    blocks = [p.vals for p in pieces]
    out = _Array(blocks, np.concatenate(aux_parts), cur.end, shared, [p.row0 for p in pieces])
    _convert_long_numbers(raw, buf, out)
    return out


def _convert_long_numbers(raw: bytes, buf: NDArray[np.uint8], arr: _Array) -> None:
    """Fill the slots of numbers with more than 18 significant digits (rare in JSON from Python)."""
    long = arr.aux[arr.aux[:, 0] == _scan.AUX_LONG]
    if not len(long):
        return
    values = np.empty(len(long), np.float64)
    undecided = np.empty(len(long), np.bool_)
    _scan.convert_long_numbers(buf, np.ascontiguousarray(long[:, 3:5]), values, undecided)
    for j in np.flatnonzero(undecided).tolist():  # the dropped digits decide the rounding: exact float()
        values[j] = float(raw[long[j, 3] : long[j, 4]])
    arr.set(long[:, 1], long[:, 2], values)


def _string_ids(raw: bytes, recs: NDArray[np.int64]) -> tuple[NDArray[np.int64], list[Any]] | None:
    """(codes, ids) of a column of string ids (one aux record per row): code c stands for ``ids[c]``."""
    codes = np.empty(len(recs), np.int64)
    table: dict[bytes, int] = {}
    for row, s, e in recs[:, [1, 3, 4]].tolist():
        codes[row] = table.setdefault(raw[s:e], len(table))
    try:
        texts = [t[1:-1].decode("utf-8") if b"\\" not in t else _loads(t, "id") for t in table]
    except (UnicodeDecodeError, ValueError):
        return None
    ids: list[Any] = []
    merged: dict[str, int] = {}  # two spellings of one string ("a" and "\u0061") are one id
    remap = np.empty(len(texts), np.int64)
    for c, text in enumerate(texts):
        remap[c] = merged.setdefault(text, len(merged))
        if remap[c] == len(ids):
            ids.append(text)
    return remap[codes], ids


def _id_column(raw: bytes, arr: _Array, slot: int) -> tuple[NDArray[np.int64], list[Any] | None] | None:
    """An id column: (int64 ids, None), or (codes, string ids); None when ints and strings mix."""
    is_str = (arr.aux[:, 0] == _scan.AUX_STR) & (arr.aux[:, 2] == slot)
    n_str = int(np.count_nonzero(is_str))
    if n_str == 0:
        return arr.ints(slot), None
    if n_str != len(arr):  # the full parser handles mixed ids
        return None
    return _string_ids(raw, arr.aux[is_str])


# ---------------------------------------------------------------- files


# ``text.translate(_NUMBER_SHAPES)`` maps digits to "0", what may come before a JSON number ("[", ",",
# ":", whitespace, "-") to "[", and "]" and "}" to themselves: an integer of 19+ digits then shows as
# _LONG_INTEGER followed by more "0"s and one of "[", "]", "}" (see _has_long_integer)
_NUMBER_SHAPES = bytes(
    48 if 48 <= c <= 57 else 91 if c in b"[,: \t\r\n-" else c if c in b"]}" else 120 for c in range(256)
)
_LONG_INTEGER = b"[" + b"0" * 19
_AFTER_NUMBER = frozenset(b"[]}")


def _has_long_integer(raw: bytes) -> bool:
    """Whether the JSON text may hold an integer of 19 or more digits (a run of digits inside a string,
    such as a compressed RLE's, can look like one: that only costs the slower parser)."""
    shapes = raw.translate(_NUMBER_SHAPES)
    if shapes.find(_LONG_INTEGER) < 0 and not shapes.startswith(_LONG_INTEGER[1:]):
        return False  # the usual case: no run of 19 digits at all, or none where a number starts
    shapes = b"[" + shapes  # a number may also start the text
    i = shapes.find(_LONG_INTEGER)
    while i >= 0:
        j = i + len(_LONG_INTEGER)
        while j < len(shapes) and shapes[j] == 48:
            j += 1
        if j == len(shapes) or shapes[j] in _AFTER_NUMBER:
            return True
        i = shapes.find(_LONG_INTEGER, j)
    return False


def _loads_exact(raw: bytes, where: str) -> Any:
    """Parse so that integers of any size stay exact and an id out of range is reported as written.

    orjson (several times faster) where the text has no integer of 19 or more digits (orjson makes
    floats of integers beyond 64 bits) and orjson accepts it; otherwise, and for what orjson
    refuses but the standard library reads (NaN, 1e400, a byte-order mark), the standard library.
    """
    if _orjson is not None and not _has_long_integer(raw):
        try:
            return _orjson.loads(raw)
        except ValueError:  # read again below: the standard library's rules and messages
            pass
    try:
        return json.loads(raw)
    except ValueError as exc:  # also UnicodeDecodeError
        raise ValueError(f"{where}: not valid JSON: {exc}") from None


@dataclass
class _Scan:
    """What the fast scan of a ground-truth file found (None: not scanned / not plain)."""

    img_ids: list[Any]
    cat_ids: list[Any]
    cols: _Columns | None
    ann_start: int = -1  # where the annotations array starts in the text (-1: none)
    # where the (last) ``categories`` array lies in the text: parse just it for the names
    categories_span: tuple[int, int] | None = None
    # where the (last) ``images`` array lies: ``imgs`` parses just it
    images_span: tuple[int, int] | None = None


def _id_list(raw: bytes, arr: _Array | None) -> list[Any] | None:
    if arr is None:
        return []
    if (arr.seen != 1).any():
        return None
    got = _id_column(raw, arr, 0)
    if got is None:
        return None
    codes, keys = got
    return codes.tolist() if keys is None else [keys[c] for c in codes.tolist()]


def _skip_space(raw: bytes, i: int) -> int:
    n = len(raw)
    while i < n and raw[i] in b" \t\r\n":
        i += 1
    return i


def _scan_ground_truth(raw: bytes) -> _Scan | None:
    """Image ids, category ids and annotation columns of a plain COCO file, or None.

    The top-level object is walked here (a handful of keys); the value of a key
    other than ``annotations``, ``images`` and ``categories`` is skipped by the
    scanner, and those three arrays are read where they are (the last
    occurrence of a key wins, as in JSON parsers).

    Raises
    ------
    ExactIntsNeeded
        An id needs more than 18 digits: parse the file with exact integers.
    """
    buf = np.frombuffer(raw, np.uint8)
    found: list[_Array | None] = [None, None, None]
    ann_start = -1
    categories_span: tuple[int, int] | None = None
    images_span: tuple[int, int] | None = None
    n = len(raw)
    i = _skip_space(raw, 0)
    if i >= n or raw[i] != 123:  # '{'
        return None
    i = _skip_space(raw, i + 1)
    if i < n and raw[i] == 125:  # '}'
        i += 1
    else:
        while True:
            if i >= n or raw[i] != 34:
                return None
            close = raw.find(b'"', i + 1)
            key = raw[i + 1 : close]
            if close < 0 or b"\\" in key or any(c < 32 for c in key):  # escapes: the full parser
                return None
            i = _skip_space(raw, close + 1)
            if i >= n or raw[i] != 58:  # ':'
                return None
            i = _skip_space(raw, i + 1)
            k = _TOP_KEYS.get(key, -1)
            if k < 0:
                i = _scan._skip_value(buf, i)
            else:
                got = _scan_array(raw, buf, i, _GT_SPEC if k == 0 else _ID_SPEC, big=k == 0)
                if got is None:
                    return None
                if k == 0:
                    ann_start = i
                if k == 1:
                    images_span = (i, got.end)
                if k == 2:
                    categories_span = (i, got.end)
                found[k], i = got, got.end
            i = _skip_space(raw, i) if i >= 0 else n
            if i < n and raw[i] == 44:  # ','
                i = _skip_space(raw, i + 1)
                continue
            if i < n and raw[i] == 125:
                i += 1
                break
            return None
    if _skip_space(raw, i) != n:
        return None
    img_ids = _id_list(raw, found[1])
    cat_ids = _id_list(raw, found[2])
    if img_ids is None or cat_ids is None:
        return None
    if found[0] is None:
        empty = np.empty(0, np.int64)
        cols: _Columns | None = _Columns(
            empty, empty, empty, np.empty((0, 4)), np.empty(0), crowd=np.empty(0, np.bool_),
            ignore=np.empty(0, np.bool_),
        )  # fmt: skip
    else:
        cols = _gt_columns(raw, found[0])
    return _Scan(img_ids, cat_ids, cols, ann_start, categories_span, images_span)


def _gt_columns(raw: bytes, arr: _Array) -> _Columns | None:
    """Ground-truth columns from scanned values, or None when an entry needs the full checks."""
    if not (arr.seen == _GT_SPEC.full).all():
        return None
    img = _id_column(raw, arr, 1)
    cat = _id_column(raw, arr, 2)
    if img is None or cat is None:
        return None
    bbox = arr.floats(3, 7)
    area = arr.floats(7)
    iscrowd = arr.floats(8)
    crowd_int = np.trunc(iscrowd)
    if not (
        np.isfinite(bbox).all()
        and (bbox[:, 2:] >= 0).all()
        and not np.isnan(area).any()
        and ((crowd_int >= 0) & (crowd_int <= 255)).all()
    ):
        return None
    ids = arr.ints(0)
    if len(ids) > 1 and not (ids[1:] > ids[:-1]).all() and len(np.unique(ids)) != len(ids):
        return None
    return _Columns(
        ids, img[0], cat[0], bbox, area, crowd=crowd_int != 0, ignore=iscrowd != 0,
        image_keys=img[1], category_keys=cat[1],
    )  # fmt: skip


def _scan_results(raw: bytes) -> _Columns | None:
    """Columns of a plain results file, or None.

    Raises
    ------
    ExactIntsNeeded
        An id needs more than 18 digits: parse the file with exact integers.
    """
    buf = np.frombuffer(raw, np.uint8)
    arr = _scan_array(raw, buf, 0, _DT_SPEC, big=True)
    if arr is None or raw[arr.end :].strip(b" \t\r\n"):
        return None
    if not (arr.seen == _DT_SPEC.full).all():
        return None
    img = _id_column(raw, arr, 0)
    cat = _id_column(raw, arr, 1)
    if img is None or cat is None:
        return None
    bbox = arr.floats(2, 6)
    score = arr.floats(6)
    if not (np.isfinite(bbox).all() and (bbox[:, 2:] >= 0).all()) or np.isnan(score).any():
        return None
    return _Columns(
        np.arange(1, len(score) + 1, dtype=np.int64), img[0], cat[0], bbox, bbox[:, 2] * bbox[:, 3],
        score=score, image_keys=img[1], category_keys=cat[1],
    )  # fmt: skip


# Files smaller than this are parsed by the standard library's C parser (with exact integers):
# about 5 ms for a 0.5 MB file, against 1 ms for the compiled scanner once it is compiled, but
# compiling the scanner takes about 3 s on a fresh install. Larger files use the scanner.
SCAN_MIN_BYTES = 1 << 20


def _read_file(path: PathLike, scan: Callable[[bytes], Any]) -> tuple[bytes, Any, Any]:
    """``(text, scanned, None)`` when the scanner reads the file, else ``(text, None, parsed JSON)``."""
    where = os.fspath(path)
    try:
        raw = _read_bytes(path)
        if len(raw) < SCAN_MIN_BYTES:
            return raw, None, _loads_exact(raw, where)
        try:
            scanned = scan(raw)
        except ExactIntsNeeded:  # an id of 19+ digits: parse with exact integers
            return raw, None, _loads_exact(raw, where)
        return raw, scanned, None if scanned is not None else _loads(raw, where)
    except MemoryError:
        try:
            size = f"{os.path.getsize(path) / 2**20:,.0f} MiB "
        except OSError:
            size = ""
        raise MemoryError(
            f"{where}: not enough memory to load this {size}JSON file (the fast reader needs about twice "
            "its size; a file it cannot read is parsed into Python objects, which takes several times more)"
        ) from None


def _read_annotations(path: PathLike) -> tuple[bytes, _Scan | None, Any]:
    """Read a ground-truth file: its text and the scan, or the parsed dataset (MemoryError named)."""
    return _read_file(path, _scan_ground_truth)


def _read_results(
    path: PathLike, other: Callable[[bytes], Any] | None = None
) -> tuple[bytes, _Columns | Any | None, Any]:
    """Read a results file: its text and the columns, or the parsed JSON (MemoryError named).

    ``other``: a scanner for another kind of results (keypoints), tried first
    (it declines quickly a file that is not its kind), then the bbox scanner,
    then the full parse.
    """
    if other is None:
        return _read_file(path, _scan_results)

    def scan(raw: bytes) -> Any:
        got = other(raw)
        return got if got is not None else _scan_results(raw)

    return _read_file(path, scan)
