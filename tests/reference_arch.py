"""Naive references for fastdet.arch: obvious loops, written independently of the kernels.

Output sizes here are found by enumerating window positions, not from the
closed forms; receptive fields by propagating sets of input indices backwards,
not from the recursion.
"""

from __future__ import annotations

import numpy as np


def window_starts(size, k, s, p, d, ceil_mode):
    """Left ends (in padded coordinates) of the windows along one axis, by enumeration."""
    length = size + 2 * p
    eff = d * (k - 1) + 1
    starts = []
    o = 0
    while True:
        start = o * s
        fits = start + eff <= length
        if ceil_mode:
            # a partial window is kept while the previous one did not reach the end
            # and it starts inside the input or the left padding
            keep = fits or (o > 0 and (o - 1) * s + eff < length and start - p < size)
        else:
            keep = fits
        if not keep:
            break
        starts.append(start)
        o += 1
    return starts


def conv2d(x, w, b, stride, padding, dilation, groups):
    """Zero-padded cross-correlation by loops over output elements; returns (out, taps)."""
    n, c_in, h, wd = x.shape
    c_out, cin_g, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    xp = np.zeros((n, c_in, h + 2 * ph, wd + 2 * pw))
    xp[:, :, ph : ph + h, pw : pw + wd] = x
    rows = window_starts(h, kh, sh, ph, dh, False)
    cols = window_starts(wd, kw, sw, pw, dw, False)
    out = np.zeros((n, c_out, len(rows), len(cols)))
    cout_g = c_out // groups
    taps = 0
    for i in range(n):
        for oc in range(c_out):
            g = oc // cout_g
            for a, r0 in enumerate(rows):
                for bb, c0 in enumerate(cols):
                    acc = 0.0 if b is None else float(b[oc])
                    for ic in range(cin_g):
                        for u in range(kh):
                            for v in range(kw):
                                acc += w[oc, ic, u, v] * xp[i, g * cin_g + ic, r0 + u * dh, c0 + v * dw]
                                taps += 1
                    out[i, oc, a, bb] = acc
    return out, taps


def _pool(x, kernel, stride, padding, dilation, ceil_mode, reduce):
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    rows = window_starts(h, kh, sh, ph, dh, ceil_mode)
    cols = window_starts(w, kw, sw, pw, dw, ceil_mode)
    out = np.zeros((n, c, len(rows), len(cols)))
    reads = 0
    for i in range(n):
        for ch in range(c):
            for a, r0 in enumerate(rows):
                for bb, c0 in enumerate(cols):
                    values = []
                    in_padded = 0  # taps inside the padded input (for count_include_pad)
                    for u in range(kh):
                        for v in range(kw):
                            r = r0 + u * dh - ph
                            q = c0 + v * dw - pw
                            if -ph <= r < h + ph and -pw <= q < w + pw:
                                in_padded += 1
                            if 0 <= r < h and 0 <= q < w:
                                values.append(x[i, ch, r, q])
                    reads += len(values)
                    out[i, ch, a, bb] = reduce(values, in_padded)
    return out, reads


def max_pool2d(x, kernel, stride, padding, dilation, ceil_mode):
    """Max over the input elements of each window (padding ignored); returns (out, reads)."""
    return _pool(x, kernel, stride, padding, dilation, ceil_mode, lambda v, _: max(v, default=-np.inf))


def avg_pool2d(x, kernel, stride, padding, ceil_mode, count_include_pad):
    """PyTorch-style average pooling (no dilation); returns (out, reads)."""

    def mean(values, in_padded):
        divisor = in_padded if count_include_pad else len(values)
        return sum(values) / divisor

    return _pool(x, kernel, stride, padding, (1, 1), ceil_mode, mean)


def field_1d(layers, unit=0):
    """Input indices (a set) that feed output ``unit`` of a 1-D stack, by backward propagation.

    ``layers`` holds ``(k, s, p, d)`` tuples and ``("res", main, shortcut)``
    entries whose branches are lists of the same form. Padding positions
    (negative or past the end) are kept: this is the theoretical field.
    """
    return _back(list(layers), {unit})


def _back(layers, units):
    for layer in reversed(layers):
        if layer[0] == "res":
            _, main, shortcut = layer
            units = _back(list(main), units) | _back(list(shortcut), units)
        else:
            k, s, p, d = layer
            units = {o * s - p + t * d for o in units for t in range(k)}
    return units


def rf_1d(layers):
    """(size, jump, start) of a 1-D stack from the index sets of units 0 and 1."""
    f0 = field_1d(layers, 0)
    f1 = field_1d(layers, 1)
    c0 = (min(f0) + max(f0)) / 2
    c1 = (min(f1) + max(f1)) / 2
    return max(f0) - min(f0) + 1, c1 - c0, c0
