"""Numba kernels that find the compressed-RLE masks of a COCO results file in its text.

A results file is a JSON array of objects; Mask R-CNN-style writers give each a
``"segmentation": {"size": [h, w], "counts": "<string>"}``. These kernels locate
every ``counts`` string and ``size`` pair without building Python objects, so that
the masks decode straight from the file bytes. Anything else (a polygon
``segmentation``, an escape other than ``\\\\`` in ``counts``, a key twice, a
malformed value) makes :func:`find_counts` report failure; the caller then
parses the file with a full JSON parser.
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


@kernel()
def find_counts(buf, out):
    """Locate the ``segmentation`` RLE of every entry of a top-level JSON array of objects.

    ``out`` (cap, 5) int64 receives, per entry, [start, stop, h, w, escapes] of
    its ``counts`` string (start = -1: no ``segmentation`` key). Returns the
    number of entries, -1 when the text is not such an array (or uses anything
    these kernels leave to the full parser), -2 when ``out`` is too small.
    """
    n = buf.shape[0]
    i = skip_whitespace(buf, 0)
    if i >= n or buf[i] != 91:
        return -1
    i = skip_whitespace(buf, i + 1)
    e = 0
    if i < n and buf[i] == 93:
        return 0 if skip_whitespace(buf, i + 1) == n else -1
    while True:
        if i >= n or buf[i] != 123:
            return -1
        if e >= out.shape[0]:
            return -2
        out[e, 0] = -1
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
                    i = _segmentation(buf, i, e, out)
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
            return e if skip_whitespace(buf, i + 1) == n else -1
        return -1


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
