"""Numba kernels that read COCO JSON: numeric fields of arrays of objects, straight into columns.

A strict-enough reader for COCO files: it extracts the fields evaluation needs
from arrays of objects into columns without building Python objects. Whenever
it meets anything it does not handle (escaped keys, a value of the wrong kind,
a key twice in an object) it reports failure and the caller parses the file
with a full JSON parser instead.

Numbers are converted exactly: the result is the double Python's ``float()``
gives for the same text (round to nearest, ties to even), by Clinger's fast
path when the decimal significand and exponent are small, and otherwise by the
Eisel-Lemire algorithm (Lemire, "Number Parsing at a Gigabyte per Second",
Software: Practice and Experience 51(8), 2021; Mushtak and Lemire, "Fast Number
Parsing Without Fallback", 2023), as fast_float, Rust's ``core`` and Go's
``strconv`` do. Significands of more than 18 digits are rare in JSON written by
Python (``repr`` writes at most 17); their entries are recorded and converted by
:func:`convert_long_numbers`, which truncates them to 19 digits and, when the
truncation leaves the rounding undecided, asks the caller for ``float()``.
"""

from __future__ import annotations

import sys
from typing import Any

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from fastdet._kernels import kernel

# ---------------------------------------------------------------- number tables (module constants)
# Numba freezes module-level arrays into the compiled code: no argument passing, no reference counting.


def _pow5_128() -> tuple[np.ndarray, np.ndarray]:
    """5**q for q in [-342, 308] as 128-bit significands (high, low words), fast_float's table.

    Non-negative q: 5**q normalised to [2**127, 2**128) and truncated. Negative q:
    the reciprocal 2**b // 5**-q + 1 normalised the same way (rounded up), as in
    fast_float's ``script/table_generation.py``.
    """
    words = []
    for q in range(-342, 0):
        p5 = 5**-q
        z = p5.bit_length() if p5 & (p5 - 1) else p5.bit_length() - 1  # smallest z with 2**z >= 5**-q
        c = 2 ** (z + 127) // p5 + 1 if q >= -27 else 2 ** (2 * z + 128) // p5 + 1
        c >>= max(c.bit_length() - 128, 0)
        words.append(c)
    for q in range(309):
        p5 = 5**q
        words.append(
            p5 << (128 - p5.bit_length()) if p5.bit_length() <= 128 else p5 >> (p5.bit_length() - 128)
        )
    hi = np.array([w >> 64 for w in words], np.uint64)
    lo = np.array([w & (2**64 - 1) for w in words], np.uint64)
    return hi, lo


_POW5_HI, _POW5_LO = _pow5_128()
# 10**k for k <= 22, every one exact in float64 (Clinger's fast path)
_EXACT_POW10 = np.array([float(10**k) for k in range(23)])
# 2**(max(e, 1) - 1075): the scale of a double whose biased exponent is e (e = 0: subnormals)
_POW2 = np.ldexp(1.0, np.maximum(np.arange(2047), 1) - 1075)

_U = np.uint64  # buf[_U(i)]: an unsigned index needs no negative-index wraparound (about 10 % faster)
_U32 = np.uint64(32)
_M32 = np.uint64(0xFFFFFFFF)
_M64 = np.uint64(0xFFFFFFFFFFFFFFFF)
_MASK9 = np.uint64(0x1FF)  # the bits below binary64's 52 + 3 bits of interest in the product's high word
_ONE = np.uint64(1)
_THREE = np.uint64(3)
_NOT_ONE = np.uint64(0xFFFFFFFFFFFFFFFE)
_HIDDEN = np.uint64(1 << 52)
_NOT_HIDDEN = np.uint64((1 << 64) - 1 - (1 << 52))
_TWO53 = np.uint64(1 << 53)

# bytes inside a JSON array or object value, for skipping one: 0 not allowed outside strings,
# 1 number / literal / separator / whitespace, 2 a quote, 3 '{' or '[', 4 '}' or ']'
_VALUE_BYTES = np.zeros(256, np.uint8)
_VALUE_BYTES[np.frombuffer(b",: \n\r\t-+.0123456789eEabcdefghijklmnopqrstuvwxyz", np.uint8)] = 1
_VALUE_BYTES[34] = 2
_VALUE_BYTES[[123, 91]] = 3
_VALUE_BYTES[[125, 93]] = 4

# what scan_objects reports (first element of its result)
DONE = 0  # the array ended: position after its ']'
STOPPED = 1  # arrived exactly at ``stop``, the start of an entry
FULL = 2  # ``vals`` or ``aux`` is full: resume at the returned position (an entry start)
MISSED = 3  # passed ``stop`` without an entry starting there (it was inside a value)
FAIL = -1  # not in the form the scanner reads: use a full JSON parser
EXACT_INTS = -2  # an id is an integer literal of more than 18 digits: parse with exact integers

# key kinds (``key_kind``) and aux record kinds
FLOAT = 0  # a number, into ``vals``
INT = 1  # an integer (or a whole number below 2**53), into ``ivals``
INT_OR_STR = 2  # as INT, or a string: its span goes to ``aux``
AUX_LONG = 0  # a number of more than 18 significant digits: convert_long_numbers converts it
AUX_STR = 1  # a string id


# ---------------------------------------------------------------- decimal -> binary64


@intrinsic
def _mul128(typingctx: Any, a: Any, b: Any) -> Any:
    """``(high, low)`` words of the full 128-bit product of two uint64 (one ``mul`` instruction on x86-64)."""
    sig = types.UniTuple(types.uint64, 2)(types.uint64, types.uint64)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        i128 = ir.IntType(128)
        p = builder.mul(builder.zext(args[0], i128), builder.zext(args[1], i128))
        hi = builder.trunc(builder.lshr(p, ir.Constant(i128, 64)), ir.IntType(64))
        lo = builder.trunc(p, ir.IntType(64))
        return context.make_tuple(builder, signature.return_type, [hi, lo])

    return sig, codegen


@intrinsic
def _leading_zeros(typingctx: Any, a: Any) -> Any:
    """Leading zero bits of a non-zero uint64 (``lzcnt`` / ``bsr``)."""
    sig = types.int64(types.uint64)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        return builder.ctlz(args[0], ir.Constant(ir.IntType(1), 1))

    return sig, codegen


@kernel(vectorize_division=True)  # no division by a variable: nothing can raise
def _decimal_to_double(w, q, neg):
    """The double nearest to ``(-1)**neg * w * 10**q`` (ties to even), for a uint64 ``w``.

    Clinger's fast path when ``w <= 2**53`` and ``|q| <= 22`` (one correctly
    rounded operation on exact operands); otherwise fast_float's
    ``compute_float`` (Eisel-Lemire): the normalised ``w`` times a 128-bit
    approximation of 5**q (``_POW5_HI``, ``_POW5_LO``), whose high word holds the
    54 leading bits plus guard bits enough to always decide the rounding
    (Mushtak and Lemire, 2023); ties to even are recognised where 5**q is exact
    (-4 <= q <= 23). The 64 x 64 -> 128-bit products are LLVM ``i128``
    multiplications (:func:`_mul128`: one instruction on x86-64, about twice as
    fast here as building them from 32-bit halves).
    """
    if w == 0 or q < -342:
        return -0.0 if neg else 0.0
    if q > 308:
        return -np.inf if neg else np.inf
    if w <= _TWO53 and -22 <= q <= 22:
        v = float(w)
        if q >= 0:
            v = v * _EXACT_POW10[q]
        else:
            v = v / _EXACT_POW10[-q]
        return -v if neg else v
    lz = _leading_zeros(w)  # normalise: the leading bit of w set (w > 0)
    w = w << _U(lz)
    idx = q + 342
    hi, lo = _mul128(w, _POW5_HI[idx])
    if (hi & _MASK9) == _MASK9:  # the low word may carry into the bits that decide
        hi2, _ = _mul128(w, _POW5_LO[idx])
        if hi2 > _M64 - lo:
            lo = hi2 - (_M64 - lo) - _ONE
            hi += _ONE
        else:
            lo += hi2
    upper = np.int64(hi >> _U(63))
    shift = upper + 9
    mant = hi >> _U(shift)
    power2 = (((152170 + 65536) * q) >> 16) + 63 + upper - lz + 1023
    if power2 <= 0:  # subnormal (or zero)
        if 1 - power2 >= 64:
            mant = _U(0)
        else:
            mant = mant >> _U(1 - power2)
        mant += mant & _ONE
        mant = mant >> _ONE
        v = float(mant) * _POW2[0]  # exact: mant < 2**53 (2**52 rounds up to the least normal)
        return -v if neg else v
    if lo <= _ONE and -4 <= q <= 23 and (mant & _THREE) == _ONE:
        if (mant << _U(shift)) == hi:  # exactly halfway: round to even (down)
            mant &= _NOT_ONE
    mant += mant & _ONE
    mant = mant >> _ONE
    if mant >= _TWO53:
        mant = _HIDDEN
        power2 += 1
    mant &= _NOT_HIDDEN
    if power2 >= 2047:
        v = np.inf
    else:
        v = float(mant | _HIDDEN) * _POW2[power2]  # exact: a power-of-two scaling
    return -v if neg else v


# ---------------------------------------------------------------- 8 digits at a time


@intrinsic
def _load8(typingctx: Any, buf: Any, i: Any) -> Any:
    """The 8 bytes ``buf[i:i + 8]`` as one little-endian uint64 (an unaligned load; the caller checks
    ``i + 8 <= len(buf)``)."""
    sig = types.uint64(buf, types.intp)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        arr = context.make_array(signature.args[0])(context, builder, args[0])
        ptr = builder.bitcast(builder.gep(arr.data, [args[1]]), ir.IntType(64).as_pointer())
        return builder.load(ptr, align=1)

    return sig, codegen


@kernel(inline=True)
def _load8_bytes(buf, i):
    """:func:`_load8` byte by byte (big-endian machines, and Python when the JIT is disabled)."""
    v = np.uint64(0)
    for k in range(8):
        v |= np.uint64(buf[i + k]) << np.uint64(8 * k)
    return v


if sys.byteorder != "little":  # pragma: no cover - the machines we test on are little-endian
    _load8 = _load8_bytes

if numba.config.DISABLE_JIT:  # intrinsics have no Python form: plain stand-ins for kernels run as Python

    def _mul128(a: Any, b: Any) -> tuple[np.uint64, np.uint64]:
        p = int(a) * int(b)
        return np.uint64(p >> 64), np.uint64(p & 0xFFFFFFFFFFFFFFFF)

    def _leading_zeros(a: Any) -> int:
        return 64 - int(a).bit_length()

    _load8 = _load8_bytes


_ASCII_0 = np.uint64(0x3030303030303030)
_ABOVE_9 = np.uint64(0x4646464646464646)  # + this sets a byte's high bit above '9'
_HIGH_BITS = np.uint64(0x8080808080808080)
_LOW_NIBBLES = np.uint64(0x0F0F0F0F0F0F0F0F)
_PAIRS = np.uint64(0x00FF00FF00FF00FF)
_QUADS = np.uint64(0x0000FFFF0000FFFF)
_X2561 = np.uint64(2561)  # 10 * 2**8 + 1
_X6553601 = np.uint64(6553601)  # 100 * 2**16 + 1
_X42949672960001 = np.uint64(42949672960001)  # 10000 * 2**32 + 1
_U8, _U16 = np.uint64(8), np.uint64(16)


@kernel(inline=True)
def _eight_digits(v):
    """The value of 8 ASCII digits loaded by :func:`_load8` (first digit lowest), or -1 if any
    byte is not a digit (SWAR, as fast_float's ``parse_eight_digits_unrolled``)."""
    if ((v + _ABOVE_9) | (v - _ASCII_0)) & _HIGH_BITS:
        return -1
    v = ((v & _LOW_NIBBLES) * _X2561) >> _U8
    v = ((v & _PAIRS) * _X6553601) >> _U16
    return np.int64(((v & _QUADS) * _X42949672960001) >> _U32)


# ---------------------------------------------------------------- skipping values


@kernel()
def skip_whitespace(buf, i):
    """Index of the first non-whitespace byte at or after ``i``."""
    n = buf.shape[0]
    while i < n and (buf[_U(i)] == 32 or buf[_U(i)] == 10 or buf[_U(i)] == 13 or buf[_U(i)] == 9):
        i += 1
    return i


@kernel()
def _skip_string(buf, i):
    """``buf[_U(i)]`` is a quote: index after the closing quote, or -1."""
    n = buf.shape[0]
    i += 1
    while i < n:
        c = buf[_U(i)]
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
    c = buf[_U(i)]
    if c == 34:
        return _skip_string(buf, i)
    if c == 123 or c == 91:
        braces = 0  # bit d: the bracket opened at depth d is '{' (no allocation per value)
        depth = 0
        while i < n:
            c = buf[_U(i)]
            cls = _VALUE_BYTES[c]
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
        c = buf[_U(i)]
        if c == 44 or c == 125 or c == 93 or c == 32 or c == 10 or c == 13 or c == 9:
            break
        if not ((48 <= c <= 57) or c == 45 or c == 43 or c == 46 or c == 101 or c == 69 or (97 <= c <= 122)):
            return -1
        i += 1
    return i if i > start else -1


# ---------------------------------------------------------------- arrays of objects


@kernel()
def scan_objects(buf, i, stop, inside, spec, vals, ivals, aux):
    """Read entries of the JSON array of objects at ``buf[i]`` into rows.

    ``spec`` (K, 4 + L) describes key k as ``[length, slot, width, kind, bytes...]``:
    its value fills ``width`` slots of a row from ``slot`` on (width 1: one value;
    w > 1: an array of exactly w values). The kind is FLOAT (a number, into
    ``vals``), INT (an integer, into ``ivals``, the int64 view of ``vals``) or
    INT_OR_STR (as INT, or a string, whose span goes to ``aux``). The last column
    of ``ivals`` gets the entry's key mask (bit k set: key k present). ``aux``
    (A, 5) receives (kind, row, slot, start, end) of string ids and of numbers of
    more than 18 significant digits (for :func:`convert_long_numbers`).

    ``inside``: ``buf[i]`` starts an entry rather than the array's ``[``.
    ``stop`` >= 0: stop when the next entry starts exactly there (if the array
    ends first, that is DONE: ``stop`` was beyond it).

    Returns ``(status, entries, aux records, position)``; status is DONE (the
    position is after the array), STOPPED, FULL (rows or aux exhausted; the
    position is the next entry's start), MISSED, FAIL or EXACT_INTS.
    """
    n = buf.shape[0]
    n_keys = spec.shape[0]
    mask_col = ivals.shape[1] - 1
    cap = vals.shape[0]
    aux_cap = aux.shape[0]
    count = 0
    n_aux = 0
    i = skip_whitespace(buf, i)
    if not inside:
        if i >= n or buf[_U(i)] != 91:
            return FAIL, 0, 0, i
        i = skip_whitespace(buf, i + 1)
        if i < n and buf[_U(i)] == 93:
            return DONE, 0, 0, i + 1
    guess = 0  # the key expected next: objects usually list their keys in one order
    while True:
        if stop >= 0 and i >= stop:
            return (STOPPED if i == stop else MISSED), count, n_aux, i
        if count == cap:
            return FULL, count, n_aux, i
        if i >= n or buf[_U(i)] != 123:
            return FAIL, count, n_aux, i
        entry = i
        aux0 = n_aux
        mask = 0
        i = skip_whitespace(buf, i + 1)
        if i < n and buf[_U(i)] == 125:
            i += 1
        else:
            while True:
                if i >= n or buf[_U(i)] != 34:
                    return FAIL, count, n_aux, i
                ks = i + 1
                k = -1
                for t in range(n_keys):  # the wanted keys compared in place
                    kk = guess + t
                    if kk >= n_keys:
                        kk -= n_keys
                    length = spec[kk, 0]
                    if ks + length < n and buf[_U(ks + length)] == 34:
                        j = 0
                        while j < length and buf[_U(ks + j)] == spec[kk, 4 + j]:
                            j += 1
                        if j == length:
                            k = kk
                            i = ks + length + 1
                            break
                if k < 0:
                    ke = _skip_string(buf, i)
                    if ke < 0:
                        return FAIL, count, n_aux, i
                    for j in range(ks, ke - 1):
                        if buf[_U(j)] == 92:  # an escaped key might spell a wanted one
                            return FAIL, count, n_aux, i
                    i = ke
                while i < n and buf[_U(i)] == 32:
                    i += 1
                if i >= n or buf[_U(i)] != 58:
                    i = skip_whitespace(buf, i)
                    if i >= n or buf[_U(i)] != 58:
                        return FAIL, count, n_aux, i
                i = skip_whitespace(buf, i + 1)
                if k < 0:
                    i = _skip_value(buf, i)
                    if i < 0:
                        return FAIL, count, n_aux, 0
                else:
                    if (mask >> k) & 1:  # a repeated key: leave "last one wins" to the full parser
                        return FAIL, count, n_aux, i
                    mask |= 1 << k
                    guess = k + 1 if k + 1 < n_keys else 0
                    slot = spec[k, 1]
                    width = spec[k, 2]
                    kind = spec[k, 3]
                    if width > 1:
                        if i >= n or buf[_U(i)] != 91:
                            return FAIL, count, n_aux, i
                        i = skip_whitespace(buf, i + 1)
                    for s in range(slot, slot + width):
                        # ---- one value: a JSON number (or a string for INT_OR_STR)
                        start = i
                        if i >= n:
                            return FAIL, count, n_aux, i
                        c = buf[_U(i)]
                        if c == 34:
                            if kind != INT_OR_STR:
                                return FAIL, count, n_aux, i
                            i = _skip_string(buf, i)
                            if i < 0:
                                return FAIL, count, n_aux, 0
                            if n_aux == aux_cap:
                                return FULL, count, aux0, entry
                            aux[n_aux, 0] = AUX_STR
                            aux[n_aux, 1] = count
                            aux[n_aux, 2] = s
                            aux[n_aux, 3] = start
                            aux[n_aux, 4] = i
                            n_aux += 1
                            ivals[count, s] = 0
                        else:
                            neg = c == 45
                            if neg:
                                i += 1
                                if i >= n:
                                    return FAIL, count, n_aux, i
                                c = buf[_U(i)]
                            w = 0
                            digits = 0
                            if c == 48:  # a leading zero stands alone
                                i += 1
                                digits = 1
                            elif 49 <= c <= 57:
                                while i < n:
                                    d = int(buf[_U(i)]) - 48
                                    if d < 0 or d > 9:
                                        break
                                    w = w * 10 + d  # wraps past 18 digits: then re-read by the long path
                                    i += 1
                                    digits += 1
                            else:
                                return FAIL, count, n_aux, i
                            q = 0
                            integral = True
                            if i < n and buf[_U(i)] == 46:
                                integral = False
                                i += 1
                                f0 = i
                                while i + 8 <= n:  # 8 digits at a time (17-digit floats: 1 or 2 rounds)
                                    d8 = _eight_digits(_load8(buf, i))
                                    if d8 < 0:
                                        break
                                    w = w * 100000000 + d8
                                    i += 8
                                while i < n:
                                    d = int(buf[_U(i)]) - 48
                                    if d < 0 or d > 9:
                                        break
                                    w = w * 10 + d
                                    i += 1
                                if i == f0:
                                    return FAIL, count, n_aux, i
                                digits += i - f0
                                q = f0 - i
                            if i < n and (buf[_U(i)] == 101 or buf[_U(i)] == 69):
                                integral = False
                                i += 1
                                eneg = False
                                if i < n and (buf[_U(i)] == 45 or buf[_U(i)] == 43):
                                    eneg = buf[_U(i)] == 45
                                    i += 1
                                e0 = i
                                e = 0
                                while i < n:
                                    d = int(buf[_U(i)]) - 48
                                    if d < 0 or d > 9:
                                        break
                                    if e < 0x10000000:
                                        e = e * 10 + d
                                    i += 1
                                if i == e0:
                                    return FAIL, count, n_aux, i
                                q += -e if eneg else e
                            if digits > 18:  # leading zeros (0.000123) are not significant
                                j = start + 1 if neg else start
                                while j < i and (buf[_U(j)] == 48 or buf[_U(j)] == 46):
                                    if buf[_U(j)] == 48:
                                        digits -= 1
                                    j += 1
                            if kind == FLOAT:
                                if digits > 18:
                                    if n_aux == aux_cap:
                                        return FULL, count, aux0, entry
                                    aux[n_aux, 0] = AUX_LONG
                                    aux[n_aux, 1] = count
                                    aux[n_aux, 2] = s
                                    aux[n_aux, 3] = start
                                    aux[n_aux, 4] = i
                                    n_aux += 1
                                    vals[count, s] = 0.0
                                else:  # JSON's integer "-0" is the integer 0, not -0.0
                                    vals[count, s] = _decimal_to_double(
                                        np.uint64(w), q, neg and not (integral and w == 0)
                                    )
                            elif integral:
                                if digits > 18:
                                    return EXACT_INTS, count, n_aux, start
                                ivals[count, s] = -w if neg else w
                            else:  # 7.0 or 1e3 is the id 7 or 1000 for pycocotools' dicts
                                if digits > 18:
                                    return FAIL, count, n_aux, start
                                v = _decimal_to_double(np.uint64(w), q, neg)
                                if not (abs(v) < 9007199254740992.0 and np.floor(v) == v):
                                    return FAIL, count, n_aux, start
                                ivals[count, s] = np.int64(v)
                        if width > 1:
                            while i < n and buf[_U(i)] == 32:
                                i += 1
                            if s < slot + width - 1:
                                if i >= n or buf[_U(i)] != 44:
                                    i = skip_whitespace(buf, i)
                                    if i >= n or buf[_U(i)] != 44:
                                        return FAIL, count, n_aux, i
                                i = skip_whitespace(buf, i + 1)
                    if width > 1:
                        i = skip_whitespace(buf, i)
                        if i >= n or buf[_U(i)] != 93:
                            return FAIL, count, n_aux, i
                        i += 1
                while i < n and buf[_U(i)] == 32:
                    i += 1
                if i < n and buf[_U(i)] == 44:
                    i = skip_whitespace(buf, i + 1)
                    continue
                if i < n and buf[_U(i)] == 125:
                    i += 1
                    break
                i = skip_whitespace(buf, i)
                if i < n and buf[_U(i)] == 44:
                    i = skip_whitespace(buf, i + 1)
                    continue
                if i < n and buf[_U(i)] == 125:
                    i += 1
                    break
                return FAIL, count, n_aux, i
        ivals[count, mask_col] = mask
        count += 1
        i = skip_whitespace(buf, i)
        if i < n and buf[_U(i)] == 44:
            i = skip_whitespace(buf, i + 1)
            continue
        if i < n and buf[_U(i)] == 93:
            return DONE, count, n_aux, i + 1
        return FAIL, count, n_aux, i


@kernel()
def convert_long_numbers(buf, spans, out, undecided):
    """Doubles of JSON numbers with more than 18 significant digits (rows of ``spans``: start, end).

    fast_float's rule for long significands: keep the first 19 significant
    digits ``w``, so that the value lies in [w, w + 1) times 10**q; when ``w``
    and ``w + 1`` round to the same double, that is the answer; otherwise (rare:
    the dropped digits sit on a rounding boundary) ``undecided[j]`` is set and
    the caller converts the text with an exact method. The spans hold valid
    JSON numbers (checked by :func:`scan_objects`).
    """
    for j in range(spans.shape[0]):
        i = spans[j, 0]
        end = spans[j, 1]
        neg = buf[i] == 45
        if neg:
            i += 1
        w = np.uint64(0)
        kept = 0  # significant digits in w (leading zeros are not significant)
        after = 0  # digits after the kept ones
        n_frac = 0  # digits after the decimal point
        frac = False
        truncated = False  # a non-zero digit was dropped
        exp = 0
        while i < end:
            c = buf[i]
            if c == 46:
                frac = True
            elif c == 101 or c == 69:
                i += 1
                eneg = buf[i] == 45
                if buf[i] == 45 or buf[i] == 43:
                    i += 1
                while i < end:
                    if exp < 0x10000000:
                        exp = exp * 10 + (int(buf[i]) - 48)
                    i += 1
                if eneg:
                    exp = -exp
                break
            else:
                d = int(c) - 48
                if frac:
                    n_frac += 1
                if kept == 0 and d == 0:
                    pass
                elif kept < 19:
                    w = w * np.uint64(10) + np.uint64(d)
                    kept += 1
                else:
                    after += 1
                    if d != 0:
                        truncated = True
            i += 1
        q = after + exp - n_frac
        out[j] = _decimal_to_double(w, q, neg)
        # the first 19 digits and a dropped tail: [w, w + 1) must round to one double
        undecided[j] = truncated and _decimal_to_double(w + _ONE, q, neg) != out[j]
