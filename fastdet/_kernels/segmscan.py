"""Numba kernels that find the ``segmentation`` values of COCO annotations in a file's text.

:func:`segmentations` walks a JSON array of objects once, without building
Python objects, and reads each entry's ``segmentation`` in one of two forms:

- a results file's compressed RLE (Mask R-CNN-style writers give each result
  ``"segmentation": {"size": [h, w], "counts": "<string>"}``; :func:`find_counts`):
  the ``counts`` string and ``size`` pair, so that the masks decode straight from
  the file bytes. Anything else (a polygon, an escape other than ``\\\\`` in
  ``counts``, a key twice, a malformed value) fails the walk, and the caller parses
  the file with a full JSON parser;
- a ground truth's polygons (:func:`~fastdet._kernels.polyscan.find_polygons`): the
  value's span and, for lists of number tokens, their shape; other values are
  left to a full parser entry by entry.
"""

from __future__ import annotations

import numpy as np

from fastdet._kernels import kernel
from fastdet._kernels.jsonscan import _skip_value, skip_whitespace

_SEGMENTATION = np.frombuffer(b"segmentation", np.uint8).copy()
_COUNTS = np.frombuffer(b"counts", np.uint8).copy()
_SIZE = np.frombuffer(b"size", np.uint8).copy()


@kernel()
def _key_is(buf, start, stop, word):
    """Whether ``buf[start:stop]`` equals ``word``."""
    if stop - start != word.shape[0]:
        return False
    for k in range(word.shape[0]):
        if buf[start + k] != word[k]:
            return False
    return True


@kernel()
def _key_end(buf, i):
    """Index of the closing quote of the key string opening at ``i`` (no escapes), or -1."""
    n = buf.shape[0]
    j = i + 1
    while j < n:
        c = buf[j]
        if c == 34:
            return j
        if c == 92 or c < 32:
            return -1
        j += 1
    return -1


@kernel()
def _small_int(buf, i, out, slot):
    """Parse a non-negative integer (up to 12 digits) at ``i`` into ``out[slot]``; index after it or -1."""
    n = buf.shape[0]
    v = 0
    k = 0
    while i < n and 48 <= buf[i] <= 57 and k < 13:
        v = v * 10 + (buf[i] - 48)
        i += 1
        k += 1
    if k == 0 or k > 12:
        return -1
    if i < n and (buf[i] == 46 or buf[i] == 101 or buf[i] == 69):  # 480.0 or 4.8e2: the full parser
        return -1
    out[slot] = v
    return i


@kernel()
def _segmentation(buf, i, row, out):
    """Read a ``{"size": [h, w], "counts": "..."}`` object at ``i`` into ``out[row]``; index after it or -1.

    ``out[row]``: [start, stop, h, w, escapes] of the counts string's bytes (between the quotes).
    """
    n = buf.shape[0]
    if i >= n or buf[i] != 123:
        return -1
    i = skip_whitespace(buf, i + 1)
    seen = 0
    if i < n and buf[i] == 125:
        return -1
    while True:
        if i >= n or buf[i] != 34:
            return -1
        close = _key_end(buf, i)
        if close < 0:
            return -1
        key0 = i + 1
        i = skip_whitespace(buf, close + 1)
        if i >= n or buf[i] != 58:
            return -1
        i = skip_whitespace(buf, i + 1)
        if i >= n:
            return -1
        if _key_is(buf, key0, close, _COUNTS):
            if seen & 1 or buf[i] != 34:
                return -1
            seen |= 1
            j = i + 1
            escapes = 0
            while j < n and buf[j] != 34:
                if buf[j] == 92:  # only an escaped backslash (RLE byte 92) is handled here
                    if j + 1 >= n or buf[j + 1] != 92:
                        return -1
                    escapes += 1
                    j += 2
                else:
                    j += 1
            if j >= n:
                return -1
            out[row, 0] = i + 1
            out[row, 1] = j
            out[row, 4] = escapes
            i = j + 1
        elif _key_is(buf, key0, close, _SIZE):
            if seen & 2 or buf[i] != 91:
                return -1
            seen |= 2
            i = _small_int(buf, skip_whitespace(buf, i + 1), out[row], 2)
            if i < 0:
                return -1
            i = skip_whitespace(buf, i)
            if i >= n or buf[i] != 44:
                return -1
            i = _small_int(buf, skip_whitespace(buf, i + 1), out[row], 3)
            if i < 0:
                return -1
            i = skip_whitespace(buf, i)
            if i >= n or buf[i] != 93:
                return -1
            i += 1
        else:
            i = _skip_value(buf, i)
            if i < 0:
                return -1
        i = skip_whitespace(buf, i)
        if i < n and buf[i] == 44:
            i = skip_whitespace(buf, i + 1)
            continue
        if i < n and buf[i] == 125 and seen == 3:
            return i + 1
        return -1


# bytes of a number token: digits, sign, point, exponent
_NUMBER_BYTES = np.zeros(256, np.bool_)
_NUMBER_BYTES[np.frombuffer(b"0123456789+-.eE", np.uint8)] = True


@kernel(inline=True)
def _polygon_shape(buf, i, out, e):
    """Check that the value at ``i`` is ``[[tokens], ...]``: ``out[e, 2:4]`` = (parts, tokens); end or -1.

    Returns -1 (and leaves ``out[e, 2]`` = -1) when the value has any other shape.
    """
    n = buf.shape[0]
    out[e, 2] = -1
    if i >= n or buf[i] != 91:
        return -1
    i = skip_whitespace(buf, i + 1)
    parts = 0
    tokens = 0
    while True:
        if i >= n or buf[i] != 91:
            return -1
        i = skip_whitespace(buf, i + 1)
        k = 0
        while True:
            t0 = i
            while i < n and _NUMBER_BYTES[buf[i]]:
                i += 1
            if i == t0:
                return -1
            k += 1
            i = skip_whitespace(buf, i)
            if i < n and buf[i] == 44:
                i = skip_whitespace(buf, i + 1)
                continue
            if i < n and buf[i] == 93:
                i = skip_whitespace(buf, i + 1)
                break
            return -1
        parts += 1
        tokens += k
        if i < n and buf[i] == 44:
            i = skip_whitespace(buf, i + 1)
            continue
        if i < n and buf[i] == 93:
            out[e, 2] = parts
            out[e, 3] = tokens
            return i + 1
        return -1


#: what :func:`segmentations` reads from each ``segmentation`` value
RLE_COUNTS, POLYGONS = 0, 1


@kernel()
def segmentations(buf, i, whole, what, out):
    """Walk the JSON array of objects at ``buf[i]`` and read each entry's ``segmentation`` into ``out[e]``.

    ``what`` RLE_COUNTS: ``out`` (cap, 5) gets :func:`_segmentation`'s
    ``[start, stop, h, w, escapes]``, and a value of another form fails the walk.
    POLYGONS: ``out`` (cap, 4) gets ``[start, stop, parts, numbers]``, the value's
    span and :func:`_polygon_shape`'s counts (parts = -1: another form). start = -1:
    the entry has no ``segmentation``. ``whole``: the array is the whole text (only
    whitespace may follow it; int64, as ``what``, so that both callers share one compiled
    signature). Returns the number of entries, -1 when the text is
    not such an array (or has an escaped key, or a key twice), -2 when ``out`` is
    too small.
    """
    n = buf.shape[0]
    i = skip_whitespace(buf, i)
    if i >= n or buf[i] != 91:
        return -1
    i = skip_whitespace(buf, i + 1)
    e = 0
    if i < n and buf[i] == 93:
        return 0 if not whole or skip_whitespace(buf, i + 1) == n else -1
    while True:
        if i >= n or buf[i] != 123:
            return -1
        if e >= out.shape[0]:
            return -2
        out[e, 0] = -1
        if what == POLYGONS:
            out[e, 2] = -1
        i = skip_whitespace(buf, i + 1)
        if i < n and buf[i] == 125:
            i += 1
        else:
            found = False
            while True:
                if i >= n or buf[i] != 34:
                    return -1
                close = _key_end(buf, i)
                if close < 0:
                    return -1
                key0 = i + 1
                i = skip_whitespace(buf, close + 1)
                if i >= n or buf[i] != 58:
                    return -1
                i = skip_whitespace(buf, i + 1)
                if _key_is(buf, key0, close, _SEGMENTATION):
                    if found:
                        return -1
                    found = True
                    if what == RLE_COUNTS:
                        i = _segmentation(buf, i, e, out)
                    else:
                        out[e, 0] = i
                        j = _polygon_shape(buf, i, out, e)
                        i = j if j >= 0 else _skip_value(buf, i)
                        out[e, 1] = i
                else:
                    i = _skip_value(buf, i)
                if i < 0:
                    return -1
                i = skip_whitespace(buf, i)
                if i < n and buf[i] == 44:
                    i = skip_whitespace(buf, i + 1)
                    continue
                if i < n and buf[i] == 125:
                    i += 1
                    break
                return -1
        e += 1
        i = skip_whitespace(buf, i)
        if i < n and buf[i] == 44:
            i = skip_whitespace(buf, i + 1)
            continue
        if i < n and buf[i] == 93:
            return e if not whole or skip_whitespace(buf, i + 1) == n else -1
        return -1


@kernel()
def find_counts(buf, out):
    """Locate the ``segmentation`` RLE of every entry of a top-level JSON array of objects.

    ``out`` (cap, 5) int64 receives, per entry, [start, stop, h, w, escapes] of
    its ``counts`` string (start = -1: no ``segmentation`` key). Returns the
    number of entries, -1 when the text is not such an array (or uses anything
    these kernels leave to the full parser), -2 when ``out`` is too small.
    """
    return segmentations(
        buf, np.int64(0), np.int64(1), np.int64(RLE_COUNTS), out
    )  # no literal types: one signature


@kernel()
def gather_counts(buf, spans, soff, dst):
    """Copy each counts string ``buf[spans[r, 0]:spans[r, 1]]`` to ``dst[soff[r]:]``, ``\\\\`` -> ``\\``."""
    for r in range(spans.shape[0]):
        o = soff[r]
        j = spans[r, 0]
        stop = spans[r, 1]
        if spans[r, 4] == 0:  # no escapes: a plain copy
            dst[o : o + stop - j] = buf[j:stop]
            continue
        while j < stop:
            c = buf[j]
            dst[o] = c
            o += 1
            j += 2 if c == 92 else 1
