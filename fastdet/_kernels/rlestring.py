"""Compressed RLE strings (pycocotools' ``rleFrString``): decoding, validation, areas and boxes.

Strings are concatenated into one ``uint8`` buffer with CSR byte offsets ``soff``
(string ``i`` is ``buf[soff[i]:soff[i + 1]]``); runs follow the layout of
:mod:`fastdet._kernels.mask`. Each string is first decoded by a lean loop that
only gathers a flag for anything unusual (a byte outside the alphabet, a value
cut short or too long, a run out of range); a flagged string is decoded again
byte by byte to name its first problem, so valid input pays for no per-byte
checks beyond the flag.
"""

from __future__ import annotations

import numpy as np

from fastdet._kernels import kernel

#: ``status`` codes written by :func:`scan_strings` (0 is valid).
BAD_CHAR, TRUNCATED, LONG_VALUE, BAD_RUN, BAD_SUM = 1, 2, 3, 4, 5
#: ``store`` modes of :func:`scan_strings`: nothing, the runs, or their prefix sums (run ends).
STORE_NONE, STORE_RUNS, STORE_ENDS = 0, 1, 2
_UINT32 = 4294967296  # pycocotools stores counts and box sides as 32-bit unsigned ints
_MAX_CHARS = 7  # a delta in (-2**32, 2**32) never needs more than 7 characters of 5 bits


# ----------------------------------------------------------------------------- bounding boxes
@kernel()
def _advance(cx, cy, x, hi):
    """Column and row of pixel ``cx * hi + cy + x`` (mostly without a division: runs are short)."""
    cy += x
    if cy >= hi:
        if cy < 2 * hi:
            return cx + 1, cy - hi
        return cx + cy // hi, cy % hi
    return cx, cy


@kernel()
def _bbox_add(cx, cy, ex, ey, hi, xs, ys, xe, ye):
    """rleToBbox's update for a foreground run from pixel (cx, cy) to the one before (ex, ey)."""
    if ey == 0:  # the run ends at the bottom of the previous column
        ex, ey = ex - 1, hi - 1
    else:
        ey -= 1
    xs, xe = min(xs, cx), max(xe, ex)
    if cx < ex:  # the run wraps into the next column: every row is covered
        return xs, 0, xe, hi - 1
    return xs, min(ys, cy), xe, max(ye, ey)


@kernel()
def _bbox_finish(m, xs, ys, xe, ye, out, i):
    """Row ``i`` of ``out`` (n, 4): rleToBbox's result, with its uint32 wrap-around of the sides."""
    if m < 2:  # pycocotools rounds m down to even and returns zeros for m == 0
        out[i, 0] = 0.0
        out[i, 1] = 0.0
        out[i, 2] = 0.0
        out[i, 3] = 0.0
    else:
        out[i, 0] = xs
        out[i, 1] = ys
        out[i, 2] = (xe - xs + 1) % _UINT32  # no foreground pixel: xs = w, xe = 0
        out[i, 3] = (ye - ys + 1) % _UINT32


# ----------------------------------------------------------------------------- decoding
@kernel(inline=True)
def _bad_bytes(buf, p, end):
    """Nonzero if a byte of ``buf[p:end]`` is outside the RLE alphabet 48..111 (a vectorised loop)."""
    bad = np.uint8(0)
    for q in range(np.uint64(p), np.uint64(end)):
        bad |= buf[q] - np.uint8(48)  # wraps below 48: bit 6 or 7 set exactly outside 48..111
    return bad & np.uint8(0xC0)


@kernel()
def _scan_fast(i, buf, p, end, hi, wi, esc, store, boxes, out, o, n_runs, area, bbox, canon, status):
    """:func:`_scan_exact` of ``buf[p:end]`` (an ``hi`` x ``wi`` mask; runs or ends to ``out[o:]``,
    the rest to row ``i`` of the outputs), whose bytes the caller checked with :func:`_bad_bytes`,
    for a valid string; returns False (writing nothing
    final) on anything odd. ``esc`` 1: ``buf`` is JSON text, where byte 92 (a backslash) is
    written twice.

    One loop adds each byte's 5 bits to the value being read, and only a value's last byte (no
    continuation bit) goes on to the runs. The rest is checked in bulk: ``big`` ORs every
    run (one outside [0, 2**32) sets a bit from 32 up), ``long`` every continuation's
    5 x bytes so far (more than 7 bytes reach 35, setting a bit from 5 up), ``zeros``
    counts empty runs (less the first run's, if empty) and a value cut short leaves
    ``sh`` nonzero. Bytes are read at unsigned indices, which spares Numba's check for
    negative ones. Boxes follow only the row of each run; columns come from the first
    and last foreground pixels at the end.
    """
    boxes = boxes and hi > 0
    xs, ys, xe, ye = wi, hi, 0, 0
    cy, first, last = 0, -1, 0  # row of the next run's first pixel; first and last foreground pixel
    p0 = p
    m, total, fg, big, zeros, long = 0, 0, 0, 0, 0, 0
    prev1, prev2 = 0, 0
    acc, sh = 0, 0  # the value being read and 5 x its bytes so far
    while p < end:
        c = np.int64(buf[np.uint64(p)]) - 48
        p += 1 + (esc & np.int64(c == 44))
        acc |= (c & 0x1F) << (sh & 63)
        if (c & 0x20) != 0:  # more bytes follow
            sh += 5
            long |= sh
            continue
        x = acc - ((c & 0x10) << ((sh + 1) & 63))  # the sign bit of the last byte
        acc, sh = 0, 0
        if m > 2:
            x += prev2
        big |= x
        zeros += np.int64(x == 0)
        total += x
        if store == STORE_RUNS:
            out[np.uint64(o + m)] = x
        elif store == STORE_ENDS:
            out[np.uint64(o + m)] = total
        if boxes:
            if (m & 1) == 1 and x > 0:
                ys, ye = min(ys, cy), max(ye, cy + x - 1)  # ye >= hi: the run wraps into the next column
                first = total - x if first < 0 else first
                last = total - 1
            cy += x
            if cy >= hi:
                cy = cy - hi if cy < 2 * hi else cy % hi
        fg += x & -(m & 1)
        prev2, prev1 = prev1, x
        m += 1
    if sh != 0 or (big >> 32) != 0 or long >= 32:
        return False
    if first >= 0:  # columns only grow along the runs: the first and last foreground pixels bound them
        xs, xe = first // hi, last // hi
        if ye >= hi:
            ys, ye = 0, hi - 1
    status[i] = 0 if total == hi * wi else BAD_SUM
    n_runs[i] = m
    area[i] = fg % _UINT32
    canon[i] = np.int64(zeros == _first_empty(buf, p0, m))
    _bbox_finish(m, xs, ys, xe, ye, bbox, i)
    return True


@kernel(inline=True)
def _first_empty(buf, p, m):
    """1 if the valid string at ``buf[p:]``, of ``m`` runs, starts with an empty run (bytes 80* 48)."""
    if m == 0:
        return 0
    while buf[np.uint64(p)] == 80:  # a continuation byte of 5 zero bits
        p += 1
    return np.int64(buf[np.uint64(p)] == 48)


@kernel()
def _scan_one(i, buf, soff, h, w, store, boxes, out, n_runs, area, bbox, canon, status, checked):
    """Decode and measure string ``i`` (see :func:`scan_strings`); ``checked``: its bytes are in
    the alphabet (see :func:`_bad_bytes`), else it is decoded byte by byte."""
    if not checked:
        _scan_exact(i, buf, soff, h, w, store, boxes, out, n_runs, area, bbox, canon, status)
    elif not _scan_fast(i, buf, soff[i], soff[i + 1], h[i], w[i], 0, store, boxes, out, soff[i],
                        n_runs, area, bbox, canon, status):  # fmt: skip
        _scan_exact(i, buf, soff, h, w, store, boxes, out, n_runs, area, bbox, canon, status)


@kernel()
def _scan_exact(i, buf, soff, h, w, store, boxes, out, n_runs, area, bbox, canon, status):
    """:func:`_scan_fast`'s work byte by byte, naming the first problem in ``status[i]``."""
    hi, wi = h[i], w[i]
    boxes = boxes and hi > 0
    xs, ys, xe, ye = wi, hi, 0, 0
    cx, cy = 0, 0  # column and row of the next run's first pixel
    m, total, fg, bad, is_canon = 0, 0, 0, 0, 1
    prev1, prev2 = 0, 0  # runs m-1 and m-2
    p, end, o = soff[i], soff[i + 1], soff[i]
    while p < end:
        c = np.int64(buf[p]) - 48
        p += 1
        x = c & 0x1F
        if (c & 0x20) == 0:  # a one-byte value (no continuation bit); 0x10 is its sign
            if (c & ~63) != 0:
                bad = BAD_CHAR
                break
            if (c & 0x10) != 0:
                x -= 32
        else:
            if (c & ~63) != 0:
                bad = BAD_CHAR
                break
            k = 1
            while True:
                if p >= end:
                    bad = TRUNCATED
                    break
                if k == _MAX_CHARS:
                    bad = LONG_VALUE
                    break
                c = np.int64(buf[p]) - 48
                if (c & ~63) != 0:
                    bad = BAD_CHAR
                    break
                x |= (c & 0x1F) << (5 * k)
                p += 1
                k += 1
                if (c & 0x20) == 0:
                    if (c & 0x10) != 0:
                        x |= -1 << (5 * k)
                    break
            if bad != 0:
                break
        if m > 2:
            x += prev2
        if (x >> 32) != 0:  # outside [0, 2**32)
            bad = BAD_RUN
            break
        is_canon &= (x != 0) | (m == 0)
        total += x
        if store == STORE_RUNS:
            out[o + m] = x
        elif store == STORE_ENDS:
            out[o + m] = total
        if boxes:
            ex, ey = _advance(cx, cy, x, hi)
            if (m & 1) == 1 and x > 0:
                xs, ys, xe, ye = _bbox_add(cx, cy, ex, ey, hi, xs, ys, xe, ye)
            cx, cy = ex, ey
        fg += x & -(m & 1)
        prev2, prev1 = prev1, x
        m += 1
    if bad == 0 and total != hi * wi:
        bad = BAD_SUM
    status[i] = bad
    n_runs[i] = m
    area[i] = fg % _UINT32
    canon[i] = is_canon
    _bbox_finish(m, xs, ys, xe, ye, bbox, i)


@kernel(chunked=True)
def scan_strings(lo, hi, buf, soff, h, w, store, boxes, out, n_runs, area, bbox, canon, status):
    """Decode and validate compressed strings ``lo:hi`` in one pass (rleFrString, rleArea, rleToBbox).

    ``buf`` uint8 holds the strings (CSR ``soff``). Per string ``i``: ``n_runs``,
    ``area`` (sum of the odd runs), ``bbox`` (rleToBbox), ``canon`` (1 when no run
    after the first is empty) and ``status``: 0, or BAD_CHAR (a byte outside
    48..111), TRUNCATED (the last byte has the continuation bit), LONG_VALUE (more
    than 7 bytes), BAD_RUN (a run outside [0, 2**32)) or BAD_SUM (the runs do not
    add up to ``h[i] * w[i]``); ``bbox`` only if ``boxes``. With ``store`` STORE_RUNS / STORE_ENDS the runs /
    their prefix sums go to ``out[soff[i]:]`` (a string has at least as many bytes
    as runs). A value is deltas against the run two back from the fourth run on,
    5 bits a byte (``48 + bits``, ``| 0x20`` while more follow, the last byte's
    0x10 is the sign).
    """
    checked = _bad_bytes(buf, soff[lo], soff[hi]) == 0  # one vectorised check of the whole chunk
    for i in range(lo, hi):
        _scan_one(i, buf, soff, h, w, store, boxes, out, n_runs, area, bbox, canon, status, checked)


@kernel(chunked=True)
def measure_strings(lo, hi, buf, soff, h, w, boxes, out, n_runs, area, bbox, canon, status):
    """:func:`scan_strings` with ``store`` STORE_NONE (``out`` is not written).

    :func:`_scan_fast`'s loop less the stores, written out here: called as a function,
    as there, the same loop takes about a fifth longer (areas only: half).
    """
    checked = _bad_bytes(buf, soff[lo], soff[hi]) == 0
    for i in range(lo, hi):
        p, end, hgt = soff[i], soff[i + 1], h[i]
        box = boxes and hgt > 0
        ys, ye, cy, first, last = hgt, 0, 0, -1, 0
        m, total, fg, big, zeros, long = 0, 0, 0, 0, 0, 0
        prev1, prev2 = 0, 0
        acc, sh = 0, 0
        while p < end and checked:
            c = np.int64(buf[np.uint64(p)]) - 48
            p += 1
            acc |= (c & 0x1F) << (sh & 63)
            if (c & 0x20) != 0:
                sh += 5
                long |= sh
                continue
            x = acc - ((c & 0x10) << ((sh + 1) & 63))
            acc, sh = 0, 0
            if m > 2:
                x += prev2
            big |= x
            zeros += np.int64(x == 0)
            total += x
            if box:
                if (m & 1) == 1 and x > 0:
                    ys, ye = min(ys, cy), max(ye, cy + x - 1)
                    first = total - x if first < 0 else first
                    last = total - 1
                cy += x
                if cy >= hgt:
                    cy = cy - hgt if cy < 2 * hgt else cy % hgt
            fg += x & -(m & 1)
            prev2, prev1 = prev1, x
            m += 1
        if not checked or sh != 0 or (big >> 32) != 0 or long >= 32:
            _scan_exact(i, buf, soff, h, w, STORE_NONE, boxes, out, n_runs, area, bbox, canon, status)
            continue
        xs, xe = w[i], 0
        if first >= 0:
            xs, xe = first // hgt, last // hgt
            if ye >= hgt:
                ys, ye = 0, hgt - 1
        status[i] = 0 if total == hgt * w[i] else BAD_SUM
        n_runs[i] = m
        area[i] = fg % _UINT32
        canon[i] = np.int64(zeros == _first_empty(buf, soff[i], m))
        _bbox_finish(m, xs, ys, xe, ye, bbox, i)


_measure_range = measure_strings.dispatcher  # its serial loop, for the one-call kernels below


@kernel()
def measure_string(buf, h, w, boxes):
    """:func:`measure_strings` of one string: ``(status, area, x, y, width, height)`` (box if ``boxes``)."""
    soff = np.zeros(4, np.int64)  # soff (2), h, w
    soff[1], soff[2], soff[3] = len(buf), h, w
    stats = np.empty(4, np.int64)  # n_runs, area, canon, status
    bbox = np.zeros((1, 4))
    _measure_range(0, 1, buf, soff[:2], soff[2:3], soff[3:], boxes, stats[:0], stats[0:1], stats[1:2], bbox,
                   stats[2:3], stats[3:])  # fmt: skip
    return stats[3], stats[1], bbox[0, 0], bbox[0, 1], bbox[0, 2], bbox[0, 3]


@kernel()
def measure_few(buf, soff, h, w, boxes):
    """:func:`measure_strings` of a few strings of one ``h`` x ``w`` image in one call.

    Returns ``(status, area, bbox)``: the first nonzero status (0: all valid; the caller's batch
    path then names the problem), uint32 areas ``(n,)`` and boxes ``(n, 4)`` (zeros unless ``boxes``).
    """
    n = len(soff) - 1
    ints = np.empty((6, n), np.int64)  # h, w, n_runs, area, canon, status
    ints[0], ints[1] = h, w
    bbox = np.zeros((n, 4))
    _measure_range(
        0, n, buf, soff, ints[0], ints[1], boxes, ints[0, :0], ints[2], ints[3], bbox, ints[4], ints[5]
    )
    first = 0
    for i in range(n):
        if ints[5, i] != 0:
            first = ints[5, i]
            break
    return first, ints[3].astype(np.uint32), bbox
