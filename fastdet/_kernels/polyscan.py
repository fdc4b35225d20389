"""Numba kernels that read the polygon segmentations of a COCO ground-truth file from its text.

A ground-truth annotation's ``segmentation`` is mostly a list of polygons,
``[[x0, y0, x1, y1, ...], ...]``. :func:`find_polygons` walks the annotations
array and, per entry, locates the value and checks its shape (lists of number
tokens); :func:`read_polygons` converts the numbers of the wanted entries into
one coordinate array. Numbers are converted as the JSON scanner does
(:func:`~fastdet._kernels.jsonscan._decimal_to_double`, correctly rounded), so
that each coordinate is the double Python's ``float()`` gives. Anything else (an
RLE dict, an empty list, a token that is not a JSON number) is left to a full
JSON parser: per entry, or for the whole file.
"""

from __future__ import annotations

import numpy as np

from fastdet._kernels import kernel
from fastdet._kernels.jsonscan import _decimal_to_double
from fastdet._kernels.segmscan import _NUMBER_BYTES, POLYGONS, segmentations


@kernel()
def find_polygons(buf, i, out):
    """Locate the ``segmentation`` of every entry of the JSON array of objects at ``buf[i]``.

    ``out`` (cap, 4) int64 receives, per entry, ``[start, stop, parts, numbers]``:
    the span of its ``segmentation`` value (start = -1: no such key) and, for a
    list of polygons of number tokens, its part and token counts (parts = -1:
    another value, for a full parser). Returns the number of entries, -1 when
    the text is not such an array (or has an escaped key, or a key twice), -2
    when ``out`` is too small. (:func:`~fastdet._kernels.segmscan.segmentations`.)
    """
    return segmentations(buf, i, np.int64(0), np.int64(POLYGONS), out)


@kernel()
def read_polygons(buf, starts, part_off, part_len, xy):
    """Convert the polygons found by :func:`find_polygons` (entry k's value at ``buf[starts[k]]``).

    Entry k's parts get ``part_len[part_off[k]:part_off[k + 1]]`` (numbers per
    part) and their numbers fill ``xy`` in order. A number of more than 18
    significant digits becomes NaN (the caller converts that entry with a full
    parser). Returns -1, or the first entry holding a token that is not a JSON
    number.
    """
    o = 0
    for k in range(starts.shape[0]):
        i = starts[k] + 1
        for p in range(part_off[k], part_off[k + 1]):
            while buf[i] != 91:
                i += 1
            i += 1
            count = 0
            while True:
                while buf[i] == 32 or buf[i] == 10 or buf[i] == 13 or buf[i] == 9 or buf[i] == 44:
                    i += 1
                c = buf[i]
                if c == 93:
                    i += 1
                    break
                neg = c == 45
                if neg:
                    i += 1
                    c = buf[i]
                w = 0
                digits = 0
                if c == 48:  # a leading zero stands alone
                    i += 1
                elif 49 <= c <= 57:
                    while 48 <= buf[i] <= 57:
                        w = w * 10 + (int(buf[i]) - 48)  # wraps past 18 digits: then NaN
                        digits += 1
                        i += 1
                else:
                    return k
                integral = True
                q = 0
                if buf[i] == 46:
                    integral = False
                    i += 1
                    f0 = i
                    while 48 <= buf[i] <= 57:
                        d = int(buf[i]) - 48
                        if w != 0 or d != 0:  # leading zeros are not significant
                            digits += 1
                        w = w * 10 + d
                        i += 1
                    if i == f0:
                        return k
                    q = f0 - i
                if buf[i] == 101 or buf[i] == 69:
                    integral = False
                    i += 1
                    eneg = buf[i] == 45
                    if buf[i] == 45 or buf[i] == 43:
                        i += 1
                    e0 = i
                    ex = 0
                    while 48 <= buf[i] <= 57:
                        if ex < 0x10000000:
                            ex = ex * 10 + (int(buf[i]) - 48)
                        i += 1
                    if i == e0:
                        return k
                    q += -ex if eneg else ex
                if _NUMBER_BYTES[buf[i]]:  # e.g. 01, 1.2.3, 1e5e5
                    return k
                if digits > 18:
                    xy[o] = np.nan
                else:  # JSON's integer "-0" is the integer 0, not -0.0
                    xy[o] = _decimal_to_double(np.uint64(w), q, neg and not (integral and w == 0))
                o += 1
                count += 1
            part_len[p] = count
    return -1
