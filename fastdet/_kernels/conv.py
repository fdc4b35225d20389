"""Direct convolution and pooling loops that count the operations they perform.

Numba code only. The wrappers in ``fastdet.arch`` validate shapes, pad the
input, allocate the outputs and sum the per-iteration counts; the kernels
assume C-contiguous arrays of the documented shapes and never raise.

Each iteration ``t`` in ``lo:hi`` (chunked kernels, see ``fastdet._kernels``)
handles one ``(image, channel)`` plane: it writes only ``out[n, c]`` and
``counts[n * C + c]``, so the chunks are
race-free and the count reduction is a serial sum in the wrapper.
"""

from __future__ import annotations

import numpy as np

from fastdet._kernels import kernel


@kernel(chunked=True)
def _conv2d(lo, hi, xp, weight, bias, groups, sh, sw, dh, dw, out, counts):
    """Cross-correlate a zero-padded input with ``weight``, counting multiply-adds.

    xp: (N, C_in, Hp, Wp) already zero-padded; weight: (C_out, C_in // groups, KH, KW);
    bias: (C_out,); out: (N, C_out, OH, OW), overwritten; counts: (N * C_out,) int64.
    ``groups`` divides C_in and C_out. Every tap is executed,
    padding taps included (they multiply a zero), and each adds 1 to the count.
    """
    cin_per_group = weight.shape[1]
    c_out = weight.shape[0]
    cout_per_group = c_out // groups
    kh_size = weight.shape[2]
    kw_size = weight.shape[3]
    oh_size = out.shape[2]
    ow_size = out.shape[3]
    for t in range(lo, hi):
        n = t // c_out
        oc = t - n * c_out
        c0 = (oc // cout_per_group) * cin_per_group
        plane = out[n, oc]
        macs = 0
        # One output row at a time stays in cache while every tap adds into it.
        for oh in range(oh_size):
            orow = plane[oh]
            for ow in range(ow_size):
                orow[ow] = bias[oc]
            for ic in range(cin_per_group):
                for kh in range(kh_size):
                    row = xp[n, c0 + ic, oh * sh + kh * dh]
                    for kw in range(kw_size):
                        wv = weight[oc, ic, kh, kw]
                        base = kw * dw
                        if sw == 1:  # contiguous slice: lets LLVM vectorise
                            seg = row[base : base + ow_size]
                            for ow in range(ow_size):
                                orow[ow] += wv * seg[ow]
                                macs += 1
                        else:
                            for ow in range(ow_size):
                                orow[ow] += wv * row[base + ow * sw]
                                macs += 1
        counts[t] = macs


@kernel(chunked=True)
def _max_pool2d(lo, hi, x, kh_size, kw_size, sh, sw, ph, pw, dh, dw, out, counts):
    """Max over each window, skipping padding, counting the comparisons made.

    x: (N, C, H, W); out: (N, C, OH, OW), overwritten; counts: (N * C,) int64.
    Each input element read is compared with the running maximum (which
    starts at -inf): one comparison. A window that holds only padding gives
    -inf, as PyTorch does.
    """
    n_ch = x.shape[1]
    h = x.shape[2]
    w = x.shape[3]
    oh_size = out.shape[2]
    ow_size = out.shape[3]
    for t in range(lo, hi):
        n = t // n_ch
        c = t - n * n_ch
        src = x[n, c]
        plane = out[n, c]
        ops = 0
        for oh in range(oh_size):
            h0 = oh * sh - ph
            for ow in range(ow_size):
                w0 = ow * sw - pw
                best = -np.inf
                for kh in range(kh_size):
                    ih = h0 + kh * dh
                    if ih < 0 or ih >= h:
                        continue
                    for kw in range(kw_size):
                        iw = w0 + kw * dw
                        if iw < 0 or iw >= w:
                            continue
                        v = src[ih, iw]
                        ops += 1
                        if v > best:
                            best = v
                plane[oh, ow] = best
        counts[t] = ops


@kernel(chunked=True)
def _avg_pool2d(lo, hi, x, kh_size, kw_size, sh, sw, ph, pw, count_include_pad, out, counts):
    """Average over each window (PyTorch's divisor rule), counting the additions made.

    x: (N, C, H, W); out: (N, C, OH, OW), overwritten; counts: (N * C,) int64.
    Each input element read is added to the window sum: one addition.
    Padding is never read. The divisor is the window clipped to the padded
    input when ``count_include_pad``, else the number of input elements read.
    """
    n_ch = x.shape[1]
    h = x.shape[2]
    w = x.shape[3]
    oh_size = out.shape[2]
    ow_size = out.shape[3]
    for t in range(lo, hi):
        n = t // n_ch
        c = t - n * n_ch
        src = x[n, c]
        plane = out[n, c]
        ops = 0
        for oh in range(oh_size):
            h0 = oh * sh - ph
            h1 = min(h0 + kh_size, h + ph)
            hs = max(h0, 0)
            he = min(h1, h)
            for ow in range(ow_size):
                w0 = ow * sw - pw
                w1 = min(w0 + kw_size, w + pw)
                ws = max(w0, 0)
                we = min(w1, w)
                acc = 0.0
                for ih in range(hs, he):
                    for iw in range(ws, we):
                        acc += src[ih, iw]
                        ops += 1
                if count_include_pad:
                    divisor = (h1 - h0) * (w1 - w0)
                else:
                    divisor = (he - hs) * (we - ws)
                if divisor > 0:
                    plane[oh, ow] = acc / divisor
                else:
                    plane[oh, ow] = 0.0
        counts[t] = ops
