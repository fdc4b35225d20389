"""Mask kernels for the calls on one or a few objects that data loaders make once per annotation
(``frPyObjects``, ``merge``, ``iou`` of one or two masks): one kernel call each, built from the
batch kernels' helpers (:mod:`fastdet._kernels.mask`, :mod:`fastdet._kernels.mask_raster`,
:mod:`fastdet._kernels.rlestring`), so that a call costs about what pycocotools' C does.
Each returns a status the wrapper checks: anything unusual goes to the batch path, whose
validation names the problem.
"""

from __future__ import annotations

import numpy as np

from fastdet._kernels import kernel
from fastdet._kernels.mask import _encode_one, _iou_columns
from fastdet._kernels.mask_raster import _capacity_one, _poly_one
from fastdet._kernels.rlestring import STORE_ENDS, _bad_bytes, _scan_one, measure_string


@kernel()
def runs_to_string(runs, pixels, max_run):
    """rleToString of one uncompressed RLE: ``(0, text)``, or ``(1, empty)`` when it has no run, a
    run is outside ``[0, max_run]`` or they do not add up to ``pixels`` (the caller's batch path
    names the problem)."""
    total = 0
    for x in runs:
        if x < 0 or x > max_run:
            return 1, np.empty(0, np.uint8)
        total += x
    if total != pixels or len(runs) == 0:
        return 1, np.empty(0, np.uint8)
    text = np.empty(7 * len(runs), np.uint8)
    return 0, text[: _encode_one(runs, 0, len(runs), text, 0)]


@kernel()
def shapes_to_strings(v, voff, boxes, h, w, max_coord):
    """rleFrPoly (``boxes``: rleFrBbox) and rleToString of a few shapes of one ``h`` x ``w`` image.

    Shape ``i`` is ``v[voff[i]:voff[i + 1]]``: interleaved polygon points ``x0, y0, x1, y1, ...``,
    or with ``boxes`` an ``[x, y, width, height]`` box, rasterised as the polygon (x, y),
    (x, y + height), (x + width, y + height), (x + width, y) (:func:`fastdet._rle.from_boxes`).
    Returns ``(0, text, toff)``, shape ``i``'s string being ``text[toff[i]:toff[i + 1]]``, or
    ``(1, ...)`` when a polygon has fewer than 6 numbers or an odd count, a box other than 4, a
    coordinate (a box corner) is not finite or reaches ``max_coord`` in magnitude, or the image has
    no pixel: the caller's batch path then names the problem or handles it.
    """
    n = len(voff) - 1
    toff = np.zeros(n + 1, np.int64)
    for i in range(n):
        k = voff[i + 1] - voff[i]
        if (k != 4) if boxes else (k < 6 or k % 2 == 1):
            return 1, np.empty(0, np.uint8), toff
    if boxes:
        xy = np.empty(8 * n)
        for i in range(n):
            x, y = v[voff[i]], v[voff[i] + 1]
            xe, ye = x + v[voff[i] + 2], y + v[voff[i] + 3]
            for j, c in enumerate((x, y, x, ye, xe, ye, xe, y)):  # from_boxes' polygon
                xy[8 * i + j] = c
        poff = np.arange(0, 4 * n + 1, 4)
    else:
        xy, poff = v, voff // 2
    if h * w == 0:
        return 1, np.empty(0, np.uint8), toff
    for c in xy:
        if not abs(c) < max_coord:  # NaN too
            return 1, np.empty(0, np.uint8), toff
    hh, ww = np.full(n, h, np.int64), np.full(n, w, np.int64)
    cap_off = np.zeros(n + 1, np.int64)
    k_max = 1
    for i in range(n):
        _capacity_one(i, xy, poff, ww, cap_off[1:])
        cap_off[i + 1] += cap_off[i]
        k_max = max(k_max, poff[i + 1] - poff[i])
    runs, m = np.empty(cap_off[n], np.int64), np.empty(n, np.int64)
    edges, slope = np.empty((k_max, 9), np.int64), np.empty(k_max)
    for i in range(n):
        _poly_one(i, xy, poff, hh, ww, cap_off, runs, m, edges, slope)
    text = np.empty(7 * (cap_off[n] - cap_off[0]), np.uint8)  # m[i] <= the slot's capacity
    for i in range(n):
        toff[i + 1] = _encode_one(runs, cap_off[i], m[i], text, toff[i])
    return 0, text[: toff[n]], toff


@kernel()
def string_is_canonical(buf, h, w):
    """``(status, same)`` of one compressed string: ``status`` as for
    :func:`~fastdet._kernels.rlestring.scan_strings`, ``same`` True when rleToString of its runs
    gives ``buf`` back, as pycocotools' merge of it then does.

    rleToString writes each value in the fewest bytes (it stops once the rest is the sign
    extension), and a value has one such encoding; so ``same`` holds unless a value of 2+ bytes
    ends in a byte that only extends the sign of the byte before (5 bits 0 after a byte with bit
    0x10 clear, or 0x1F after one with it set).
    """
    status = measure_string(buf, h, w, False)[0]
    longer = 0  # a value in more bytes than needed (one branch-free pass, which LLVM vectorises)
    for p in range(1, len(buf)):
        c, prev = np.int64(buf[p]) - 48, np.int64(buf[p - 1]) - 48
        ends = ((prev >> 5) & 1) & (1 - ((c >> 5) & 1))  # c ends a value of 2+ bytes
        longer |= ends & np.int64(c == ((prev >> 4) & 1) * 0x1F)  # and only extends the sign
    return status, status == 0 and longer == 0


@kernel()
def _scan_few(buf, soff, h, w, ends, stats, box):
    """Run ends, boxes and ``stats`` rows (n_runs, area, canon, status) of the strings of ``buf``
    (:func:`~fastdet._kernels.rlestring.scan_strings`); returns False at the first invalid one."""
    checked = _bad_bytes(buf, 0, len(buf)) == 0
    for i in range(len(soff) - 1):
        _scan_one(
            i, buf, soff, h, w, STORE_ENDS, True, ends, stats[0], stats[1], box, stats[2], stats[3], checked
        )
        if stats[3, i] != 0:
            return False
    return True


@kernel()
def iou_strings_few(d_buf, d_soff, g_buf, g_soff, hgt, wid, crowd):
    """pycocotools.mask.iou of a few compressed strings of one ``hgt`` x ``wid`` image in one call.

    ``*_buf``/``*_soff`` as for :func:`~fastdet._kernels.rlestring.scan_strings`, ``crowd`` one flag
    per ground truth. Returns ``(0, values)``, the ``(D, G)`` IoUs row-major as
    :func:`~fastdet._kernels.mask.iou_groups` computes them, or ``(1, ...)`` when a string is
    invalid (the caller's batch path names it).
    """
    nd, ng = len(d_soff) - 1, len(g_soff) - 1
    out = np.empty(nd * ng)
    h, w = np.full(max(nd, ng), hgt, np.int64), np.full(max(nd, ng), wid, np.int64)
    d_ends, d_stats, d_box = np.empty(len(d_buf), np.int64), np.empty((4, nd), np.int64), np.empty((nd, 4))
    g_ends, g_stats, g_box = np.empty(len(g_buf), np.int64), np.empty((4, ng), np.int64), np.empty((ng, 4))
    if not _scan_few(d_buf, d_soff, h, w, d_ends, d_stats, d_box):
        return 1, out
    if not _scan_few(g_buf, g_soff, h, w, g_ends, g_stats, g_box):
        return 1, out
    g_sel = np.arange(ng)
    for i in range(nd):
        _iou_columns(d_ends, d_soff[i], d_stats[0, i], hgt, wid, d_box[i, 0], d_box[i, 1], d_box[i, 2],
                     d_box[i, 3], d_stats[1, i], d_stats[2, i], g_ends, g_soff, g_stats[0], h, w, g_box,
                     g_stats[1], g_stats[2], g_sel, crowd, 0, ng, out, i * ng)  # fmt: skip
    return 0, out
