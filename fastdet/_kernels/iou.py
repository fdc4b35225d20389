"""IoU-family kernels over xyxy boxes (Numba only, no validation)."""

from __future__ import annotations

import math

from fastdet._kernels import kernel

IOU, GIOU, DIOU, CIOU = 0, 1, 2, 3


@kernel(chunked=True, vectorize_division=True)
def iou_matrix(lo, hi, a, bt, b_area, zero, out, cancel):
    """Pairwise IoU in the boxes' own dtype (torchvision's operation order); a union of 0 gives 0.

    a: (N, 4) boxes; bt: (4, M) the second set's coordinates as rows (x1, y1, x2, y2)
    and b_area (M,) its areas, so that the inner loop reads contiguous memory;
    out: (N, M). The inner loop has no branches, so it vectorizes; ``zero`` keeps
    float32 math in float32. Rows not yet started when ``cancel[0]`` is set stay
    unwritten.
    """
    m = bt.shape[1]
    one = zero + 1
    bx1 = bt[0]
    by1 = bt[1]
    bx2 = bt[2]
    by2 = bt[3]
    for i in range(lo, hi):  # each i writes only row i
        if cancel[0]:
            continue
        ax1, ay1, ax2, ay2 = a[i, 0], a[i, 1], a[i, 2], a[i, 3]
        a_area = (ax2 - ax1) * (ay2 - ay1)
        row = out[i]
        for j in range(m):
            iw = max(min(ax2, bx2[j]) - max(ax1, bx1[j]), zero)
            ih = max(min(ay2, by2[j]) - max(ay1, by1[j]), zero)
            inter = iw * ih
            union = a_area + b_area[j] - inter
            positive = union > zero
            row[j] = (inter / (union if positive else one)) if positive else zero


@kernel(chunked=True)
def iou_variant_matrix(lo, hi, a, b, variant, eps, out, cancel):  # float64 (N, 4), (M, 4) -> out (N, M)
    """Pairwise GIoU / DIoU / CIoU (``variant`` = GIOU, DIOU or CIOU) in float64.

    The operations follow torchvision.ops in order, so results agree to rounding.
    Rows not yet started when ``cancel[0]`` is set stay unwritten.
    """
    m = b.shape[0]
    for i in range(lo, hi):
        if cancel[0]:
            continue
        ax1, ay1, ax2, ay2 = a[i, 0], a[i, 1], a[i, 2], a[i, 3]
        aw, ah = ax2 - ax1, ay2 - ay1
        a_area = aw * ah
        for j in range(m):
            bx1, by1, bx2, by2 = b[j, 0], b[j, 1], b[j, 2], b[j, 3]
            bw, bh = bx2 - bx1, by2 - by1
            iw = max(min(ax2, bx2) - max(ax1, bx1), 0.0)
            ih = max(min(ay2, by2) - max(ay1, by1), 0.0)
            inter = iw * ih
            union = a_area + bw * bh - inter
            iou = inter / union if union > 0 else 0.0
            # smallest enclosing box
            cw = max(ax2, bx2) - min(ax1, bx1)
            ch = max(ay2, by2) - min(ay1, by1)
            if variant == GIOU:
                enclosing = cw * ch
                out[i, j] = iou - (enclosing - union) / enclosing if enclosing > 0 else iou
                continue
            diagonal2 = cw**2 + ch**2 + eps
            dx = (ax1 + ax2) / 2 - (bx1 + bx2) / 2
            dy = (ay1 + ay2) / 2 - (by1 + by2) / 2
            centre2 = dx**2 + dy**2
            diou = iou - centre2 / diagonal2 if diagonal2 > 0 else iou
            if variant == DIOU:
                out[i, j] = diou
                continue
            v = (4 / math.pi**2) * (_aspect_angle(aw, ah) - _aspect_angle(bw, bh)) ** 2
            denom = 1 - iou + v + eps
            alpha = v / denom if denom > 0 else 0.0
            out[i, j] = diou - alpha * v


@kernel()
def _aspect_angle(w, h):
    """atan(w / h), with atan(w / 0) = pi/2 for w > 0 and 0 for an empty box."""
    if h > 0:
        return math.atan(w / h)
    return math.pi / 2 if w > 0 else 0.0
