"""Numba kernels that read COCO JSON: numeric fields of arrays of objects, straight into columns.

A strict-enough reader for COCO files: it extracts numeric fields of arrays of
objects into columns without building Python objects. Whenever it meets
anything it does not handle (escaped keys, non-numeric values in the fields it
reads, numbers it cannot convert exactly) it reports failure (-1) and the
caller parses the file with a full JSON parser instead.
"""

from __future__ import annotations

import numba
import numpy as np

from fastdet._kernels import kernel

# 10**k for k <= 22, every one exact in float64 (Clinger's fast path). A module constant, which
# Numba freezes into the code: as an argument, each call of the number parser paid for reference
# counting the array (a third of the scanning time).
_EXACT_POW10 = np.array([float(10**k) for k in range(23)])
# bytes inside a JSON array or object value, for skipping one: 0 not allowed outside strings,
# 1 number / literal / separator / whitespace, 2 a quote, 3 '{' or '[', 4 '}' or ']'
_VALUE_BYTES = np.zeros(256, np.uint8)
_VALUE_BYTES[np.frombuffer(b",: \n\r\t-+.0123456789eEabcdefghijklmnopqrstuvwxyz", np.uint8)] = 1
_VALUE_BYTES[34] = 2
_VALUE_BYTES[[123, 91]] = 3
_VALUE_BYTES[[125, 93]] = 4


@kernel()
def skip_whitespace(buf, i):
    """Index of the first non-whitespace byte at or after ``i``."""
    n = buf.shape[0]
    while i < n and (buf[i] == 32 or buf[i] == 10 or buf[i] == 13 or buf[i] == 9):
        i += 1
    return i


@kernel()
def _skip_string(buf, i):
    """``buf[i]`` is a quote: index after the closing quote, or -1."""
    n = buf.shape[0]
    i += 1
    while i < n:
        c = buf[i]
        if c == 92:  # backslash escapes the next byte
            i += 2
            continue
        if c == 34:
            return i + 1
        if c < 32:
            return -1
        i += 1
    return -1


@kernel()
def _skip_value(buf, i):
    """Index after the JSON value starting at ``i`` (brackets and strings checked), or -1."""
    n = buf.shape[0]
    i = skip_whitespace(buf, i)
    if i >= n:
        return -1
    c = buf[i]
    if c == 34:
        return _skip_string(buf, i)
    if c == 123 or c == 91:
        braces = 0  # bit d: the bracket opened at depth d is '{' (no allocation per value)
        depth = 0
        while i < n:
            c = buf[i]
            cls = _VALUE_BYTES[c]  # one table look-up per byte (a module constant, see _EXACT_POW10)
            if cls == 1:
                i += 1
            elif cls == 2:
                i = _skip_string(buf, i)
                if i < 0:
                    return -1
            elif cls == 3:
                if depth == 62:  # deeper values go to the full parser
                    return -1
                if c == 123:
                    braces |= 1 << depth
                else:
                    braces &= ~(1 << depth)
                depth += 1
                i += 1
            elif cls == 4:
                if depth == 0 or ((braces >> (depth - 1)) & 1) != (1 if c == 125 else 0):
                    return -1
                depth -= 1
                if depth == 0:
                    return i + 1
                i += 1
            else:
                return -1
        return -1
    start = i
    while i < n:
        c = buf[i]
        if c == 44 or c == 125 or c == 93 or c == 32 or c == 10 or c == 13 or c == 9:
            break
        if not ((48 <= c <= 57) or c == 45 or c == 43 or c == 46 or c == 101 or c == 69 or (97 <= c <= 122)):
            return -1
        i += 1
    return i if i > start else -1


@kernel()
def _parse_number(buf, i):
    """JSON number at ``i`` -> (value, end, exact); end -1 if not a number.

    ``exact`` is True when the value was converted with one correctly rounded
    operation (mantissa <= 2**53, |decimal exponent| <= 22: Clinger's fast
    path); otherwise the caller converts the text itself.
    """
    n = buf.shape[0]
    neg = False
    if i < n and buf[i] == 45:
        neg = True
        i += 1
    if i >= n or not (48 <= buf[i] <= 57):
        return 0.0, -1, False
    m = 0
    exp10 = 0
    big = False
    integer = True  # "-0" is the integer 0 for a JSON parser, not -0.0
    if buf[i] == 48:
        i += 1
    else:
        while i < n and 48 <= buf[i] <= 57:
            if m < 100000000000000000:
                m = m * 10 + (int(buf[i]) - 48)
            else:
                big = True
            i += 1
    if i < n and buf[i] == 46:
        integer = False
        i += 1
        if i >= n or not (48 <= buf[i] <= 57):
            return 0.0, -1, False
        while i < n and 48 <= buf[i] <= 57:
            if m < 100000000000000000:
                m = m * 10 + (int(buf[i]) - 48)
                exp10 -= 1
            else:
                big = True
            i += 1
    if i < n and (buf[i] == 101 or buf[i] == 69):
        integer = False
        i += 1
        eneg = False
        if i < n and (buf[i] == 45 or buf[i] == 43):
            eneg = buf[i] == 45
            i += 1
        if i >= n or not (48 <= buf[i] <= 57):
            return 0.0, -1, False
        e = 0
        while i < n and 48 <= buf[i] <= 57:
            if e < 100000:
                e = e * 10 + (int(buf[i]) - 48)
            i += 1
        exp10 += -e if eneg else e
    if big or m > 9007199254740992 or exp10 > 22 or exp10 < -22:
        return 0.0, i, False
    v = float(m)
    if exp10 > 0:
        v = v * _EXACT_POW10[exp10]
    elif exp10 < 0:
        v = v / _EXACT_POW10[-exp10]
    if neg and not (integer and m == 0):
        v = -v
    return v, i, True


@kernel()
def _match_key(buf, s, e, keys, key_len):
    """Index of the key ``buf[s:e]`` in ``keys`` (rows padded with zeros), or -1."""
    for k in range(keys.shape[0]):
        if key_len[k] != e - s:
            continue
        same = True
        for j in range(e - s):
            if buf[s + j] != keys[k, j]:
                same = False
                break
        if same:
            return k
    return -1


@kernel()
def _scan_objects(
    buf, i, inside, stop, keys, key_len, key_slot, key_width, vals, seen, slow, row0, row1, slow0, slow1
):
    """:func:`scan_object_array` into rows ``row0:row1`` of ``vals``/``seen``, ``slow0:slow1`` of ``slow``.

    ``inside``: ``buf[i]`` is an entry of the array rather than its ``[``.
    ``stop`` >= 0: end when the next entry starts exactly there (an entry that
    starts later, or the end of the array first, is a failure). Returns
    (entries, slow count, end, stopped at ``stop``); entries -1 on failure.
    """
    n = buf.shape[0]
    n_slots = vals.shape[1]
    n_keys = keys.shape[0]
    i = skip_whitespace(buf, i)
    count = 0
    n_slow = 0
    if not inside:
        if i >= n or buf[i] != 91:
            return -1, 0, i, False
        i = skip_whitespace(buf, i + 1)
        if i < n and buf[i] == 93:
            return (0 if stop < 0 else -1), 0, i + 1, False
    while True:
        if stop >= 0 and i >= stop:
            if i == stop:
                return count, n_slow, i, True
            return -1, 0, i, False
        if i >= n or buf[i] != 123 or row0 + count >= row1:
            return -1, 0, i, False
        mask = 0
        i = skip_whitespace(buf, i + 1)
        if i < n and buf[i] == 125:
            i += 1
        else:
            while True:
                if i >= n or buf[i] != 34:
                    return -1, 0, i, False
                ks = i + 1
                # the wanted keys compared in place: one that matches and is followed by the
                # closing quote is that key (no second pass over its bytes)
                k = -1
                ke = -1
                for kk in range(n_keys):
                    length = key_len[kk]
                    if ks + length < n and buf[ks + length] == 34:
                        same = True
                        for j in range(length):
                            if buf[ks + j] != keys[kk, j]:
                                same = False
                                break
                        if same:
                            k = kk
                            ke = ks + length + 1
                            break
                if k < 0:
                    ke = _skip_string(buf, i)
                    if ke < 0:
                        return -1, 0, i, False
                    for j in range(ks, ke - 1):
                        if buf[j] == 92:  # an escaped key might spell a wanted one
                            return -1, 0, i, False
                i = skip_whitespace(buf, ke)
                if i >= n or buf[i] != 58:
                    return -1, 0, i, False
                i = skip_whitespace(buf, i + 1)
                if k < 0:
                    i = _skip_value(buf, i)
                    if i < 0:
                        return -1, 0, 0, False
                else:
                    width = key_width[k]
                    slot = key_slot[k]
                    if width > 1:
                        if i >= n or buf[i] != 91:
                            return -1, 0, i, False
                        i = skip_whitespace(buf, i + 1)
                    for w in range(width):
                        # one JSON number, parsed inline (a call per number costs reference
                        # counting of ``buf``); see _parse_number for the rules
                        start = i
                        neg = False
                        if i < n and buf[i] == 45:
                            neg = True
                            i += 1
                        if i >= n or not (48 <= buf[i] <= 57):
                            return -1, 0, i, False
                        m = 0
                        exp10 = 0
                        big = False
                        integer = True
                        if buf[i] == 48:
                            i += 1
                        else:
                            while i < n and 48 <= buf[i] <= 57:
                                if m < 100000000000000000:
                                    m = m * 10 + (int(buf[i]) - 48)
                                else:
                                    big = True
                                i += 1
                        if i < n and buf[i] == 46:
                            integer = False
                            i += 1
                            if i >= n or not (48 <= buf[i] <= 57):
                                return -1, 0, i, False
                            while i < n and 48 <= buf[i] <= 57:
                                if m < 100000000000000000:
                                    m = m * 10 + (int(buf[i]) - 48)
                                    exp10 -= 1
                                else:
                                    big = True
                                i += 1
                        if i < n and (buf[i] == 101 or buf[i] == 69):
                            v, end, exact = _parse_number(buf, start)  # exponents: the general parser
                            if end < 0:
                                return -1, 0, i, False
                            i = end
                        elif big or m > 9007199254740992 or exp10 < -22:
                            v = 0.0
                            exact = False
                        else:
                            v = float(m)
                            if exp10 < 0:
                                v = v / _EXACT_POW10[-exp10]
                            if neg and not (integer and m == 0):
                                v = -v
                            exact = True
                        vals[row0 + count, slot + w] = v
                        if not exact:
                            if slow0 + n_slow >= slow1:  # (repeated keys can outnumber the slots)
                                return -1, 0, i, False
                            slow[slow0 + n_slow, 0] = (row0 + count) * n_slots + slot + w
                            slow[slow0 + n_slow, 1] = start
                            slow[slow0 + n_slow, 2] = i
                            n_slow += 1
                        if width > 1:
                            i = skip_whitespace(buf, i)
                            if w < width - 1:
                                if i >= n or buf[i] != 44:
                                    return -1, 0, i, False
                                i = skip_whitespace(buf, i + 1)
                    if width > 1:
                        if i >= n or buf[i] != 93:
                            return -1, 0, i, False
                        i += 1
                    mask |= 1 << k
                i = skip_whitespace(buf, i)
                if i < n and buf[i] == 44:
                    i = skip_whitespace(buf, i + 1)
                    continue
                if i < n and buf[i] == 125:
                    i += 1
                    break
                return -1, 0, i, False
        seen[row0 + count] = mask
        count += 1
        i = skip_whitespace(buf, i)
        if i < n and buf[i] == 44:
            i = skip_whitespace(buf, i + 1)
            continue
        if i < n and buf[i] == 93:
            return (count if stop < 0 else -1), n_slow, i + 1, False
        return -1, 0, i, False


@kernel()
def scan_object_array(buf, i, keys, key_len, key_slot, key_width, vals, seen, slow):
    """Read the JSON array of objects at ``buf[i]`` into columns.

    Key ``k`` fills ``vals[:, key_slot[k]:key_slot[k] + key_width[k]]``: width 1
    takes a number, width w > 1 an array of exactly w numbers. ``seen[e]`` gets
    bit k set when entry e has key k. ``slow`` (S, 3) receives (flat index into
    ``vals``, text start, text end) of numbers that need an exact conversion.
    Returns (entries, slow count, index after the array); entries is -1 when
    the input is not in the expected form (or exceeds the capacity of ``vals``).
    """
    count, n_slow, end, _ = _scan_objects(
        buf, i, False, -1, keys, key_len, key_slot, key_width, vals, seen, slow,
        0, vals.shape[0], 0, slow.shape[0],
    )  # fmt: skip
    return count, n_slow, end


@kernel(parallel=True)
def scan_object_array_split(buf, i, split, keys, key_len, key_slot, key_width, vals, seen, slow, row_b, out):
    """:func:`scan_object_array` in two halves at once, the second from the entry at ``split``.

    The first half reads rows ``:row_b`` and must arrive at ``split`` exactly as
    the start of an entry, which proves that ``split`` is one (it might have been
    inside a string); the second reads rows ``row_b:``. ``out[h]`` gets (entries,
    slow count, end) of half h (entries -1: failure; slow rows of half 1 start at
    ``row_b * vals.shape[1]``).
    """
    n_slots = vals.shape[1]
    for h in numba.prange(2):
        if h == 0:
            count, n_slow, end, stopped = _scan_objects(
                buf, i, False, split, keys, key_len, key_slot, key_width, vals, seen, slow,
                0, row_b, 0, row_b * n_slots,
            )  # fmt: skip
            if not stopped:
                count = -1
        else:
            count, n_slow, end, stopped = _scan_objects(
                buf, split, True, -1, keys, key_len, key_slot, key_width, vals, seen, slow,
                row_b, vals.shape[0], row_b * n_slots, slow.shape[0],
            )  # fmt: skip
        out[h, 0] = count
        out[h, 1] = n_slow
        out[h, 2] = end


@kernel()
def _whole(v):
    """Whether ``v`` is a whole number below 2**53 in magnitude (exact as an int64; NaN/inf not)."""
    return abs(v) < 9007199254740992.0 and np.floor(v) == v


@kernel()
def results_columns(vals, seen, count, full):
    """Checked columns of scanned results (image_id, category_id, x, y, w, h, score per row).

    Returns ``(ok, image_id, category_id, bbox (N, 4), area, score)`` with
    ``area = w * h``; ``ok`` is False when an entry lacks a key (``seen != full``)
    or holds a value that the full checks must report (non-integer id, a box
    that is not 4 finite numbers with w, h >= 0, a NaN score).
    """
    img = np.empty(count, np.int64)
    cat = np.empty(count, np.int64)
    bbox = np.empty((count, 4), np.float64)
    area = np.empty(count, np.float64)
    score = np.empty(count, np.float64)
    for e in range(count):
        if seen[e] != full or not (_whole(vals[e, 0]) and _whole(vals[e, 1])):
            return False, img, cat, bbox, area, score
        img[e] = np.int64(vals[e, 0])
        cat[e] = np.int64(vals[e, 1])
        for j in range(4):
            if not np.isfinite(vals[e, 2 + j]):
                return False, img, cat, bbox, area, score
            bbox[e, j] = vals[e, 2 + j]
        if bbox[e, 2] < 0 or bbox[e, 3] < 0 or np.isnan(vals[e, 6]):
            return False, img, cat, bbox, area, score
        area[e] = bbox[e, 2] * bbox[e, 3]
        score[e] = vals[e, 6]
    return True, img, cat, bbox, area, score


@kernel()
def ground_truth_columns(vals, seen, count, full):
    """Checked columns of scanned ground truth (id, image_id, category_id, x, y, w, h, area, iscrowd).

    Returns ``(ok, increasing, ids, image_id, category_id, bbox (N, 4), area,
    crowd, ignore)``: ``crowd`` is ``trunc(iscrowd) != 0`` and ``ignore`` is
    ``iscrowd != 0`` (pycocotools' readings); ``increasing`` says the ids ascend
    strictly (so they are unique). ``ok`` is False when an entry lacks a key or
    holds a value that the full checks must report.
    """
    ids = np.empty(count, np.int64)
    img = np.empty(count, np.int64)
    cat = np.empty(count, np.int64)
    bbox = np.empty((count, 4), np.float64)
    area = np.empty(count, np.float64)
    crowd = np.empty(count, np.bool_)
    ignore = np.empty(count, np.bool_)
    increasing = True
    for e in range(count):
        ok = seen[e] == full and _whole(vals[e, 0]) and _whole(vals[e, 1]) and _whole(vals[e, 2])
        for j in range(4):
            ok = ok and np.isfinite(vals[e, 3 + j])
        ok = ok and vals[e, 5] >= 0 and vals[e, 6] >= 0 and not np.isnan(vals[e, 7])
        t = np.trunc(vals[e, 8])
        if not (ok and t >= 0 and t <= 255):  # NaN fails the comparisons
            return False, increasing, ids, img, cat, bbox, area, crowd, ignore
        ids[e] = np.int64(vals[e, 0])
        img[e] = np.int64(vals[e, 1])
        cat[e] = np.int64(vals[e, 2])
        for j in range(4):
            bbox[e, j] = vals[e, 3 + j]
        area[e] = vals[e, 7]
        crowd[e] = t != 0
        ignore[e] = vals[e, 8] != 0
        if e > 0 and ids[e] <= ids[e - 1]:
            increasing = False
    return True, increasing, ids, img, cat, bbox, area, crowd, ignore


@kernel()
def next_top_key(buf, i, after_value, keys, key_len):
    """Walk the top-level JSON object of ``buf`` to the value of the next key in ``keys``.

    Starts at ``i``: the beginning of ``buf`` (``after_value`` False) or just
    after the value of a key returned before (True); other values are skipped
    (brackets and strings checked). Returns ``(k, start)``: the key's index and
    the start of its value; k = -1 when the object ends (followed only by
    whitespace), -2 when ``buf`` is not such an object or a key has escapes.
    The caller reads each returned value itself and resumes after it, so the
    large arrays are read once (last occurrence wins, as in JSON parsers).
    """
    n = buf.shape[0]
    if after_value:
        i = skip_whitespace(buf, i)
        if i < n and buf[i] == 125:
            return (-1 if skip_whitespace(buf, i + 1) == n else -2), i
        if i >= n or buf[i] != 44:
            return -2, i
        i = skip_whitespace(buf, i + 1)
    else:
        i = skip_whitespace(buf, i)
        if i >= n or buf[i] != 123:
            return -2, i
        i = skip_whitespace(buf, i + 1)
        if i < n and buf[i] == 125:
            return (-1 if skip_whitespace(buf, i + 1) == n else -2), i
    while True:
        if i >= n or buf[i] != 34:
            return -2, i
        ks = i + 1
        ke = _skip_string(buf, i)
        if ke < 0:
            return -2, i
        i = skip_whitespace(buf, ke)
        if i >= n or buf[i] != 58:
            return -2, i
        i = skip_whitespace(buf, i + 1)
        k = _match_key(buf, ks, ke - 1, keys, key_len)
        if k >= 0:
            return k, i
        for j in range(ks, ke - 1):
            if buf[j] == 92:
                return -2, i
        i = _skip_value(buf, i)
        if i < 0:
            return -2, 0
        i = skip_whitespace(buf, i)
        if i < n and buf[i] == 44:
            i = skip_whitespace(buf, i + 1)
            continue
        if i < n and buf[i] == 125:
            return (-1 if skip_whitespace(buf, i + 1) == n else -2), i
        return -2, i
