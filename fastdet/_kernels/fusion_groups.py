"""Numba kernels around ``fastdet.fusion``'s clustering (:mod:`fastdet._kernels.fusion`): the
input's checks (``prefilter``), its grouping by (image, label) (``group_order``), the sorts, and
the output rows, per image by decreasing score (``finish``, ``finish_table``).
"""

from __future__ import annotations

import numpy as np

from fastdet._kernels import kernel

# --------------------------------------------------------------------------- sorting


@kernel()
def _counting_sort(order, key, key_lo, n_keys):
    """Stable sort of ``order`` by ``key[order[k]] - key_lo`` in [0, n_keys)."""
    starts = np.zeros(n_keys + 1, np.int64)
    for k in range(order.shape[0]):
        starts[key[order[k]] - key_lo + 1] += 1
    for c in range(n_keys):
        starts[c + 1] += starts[c]
    out = np.empty(order.shape[0], np.int64)
    for k in range(order.shape[0]):
        c = key[order[k]] - key_lo
        out[starts[c]] = order[k]
        starts[c] += 1
    return out


@kernel()
def sort_pairs(key, idx, lo, hi, kbuf, ibuf):
    """Sort the pairs ``(key[k], idx[k])`` for k in [lo, hi) by key descending, then idx ascending.

    Insertion sort on runs of 16, then bottom-up merges through ``kbuf``/``ibuf`` (at least
    ``hi - lo`` long; position k goes to buffer position k - lo). The order is total, so the
    result does not depend on the algorithm.
    """
    for a in range(lo, hi, 16):
        e = min(a + 16, hi)
        for i in range(a + 1, e):
            kv = key[i]
            v = idx[i]
            j = i - 1
            while j >= a and (key[j] < kv or (key[j] == kv and idx[j] > v)):
                key[j + 1] = key[j]
                idx[j + 1] = idx[j]
                j -= 1
            key[j + 1] = kv
            idx[j + 1] = v
    n = hi - lo
    width = 16
    ks, is_, kd, id_ = key, idx, kbuf, ibuf
    so, do = lo, 0  # where relative position 0 lies in the source and in the destination
    swapped = False
    while width < n:
        for a in range(0, n, 2 * width):
            m = min(a + width, n)
            e = min(a + 2 * width, n)
            i = a
            j = m
            k = a
            while i < m and j < e:  # branch-free steps: random keys make the branch a coin toss
                ki = ks[so + i]
                kj = ks[so + j]
                vi = is_[so + i]
                vj = is_[so + j]
                take_j = (kj > ki) | ((kj == ki) & (vj < vi))
                kd[do + k] = kj if take_j else ki
                id_[do + k] = vj if take_j else vi
                j += take_j
                i += 1 - take_j
                k += 1
            while i < m:
                kd[do + k] = ks[so + i]
                id_[do + k] = is_[so + i]
                i += 1
                k += 1
            while j < e:
                kd[do + k] = ks[so + j]
                id_[do + k] = is_[so + j]
                j += 1
                k += 1
        ks, is_, kd, id_ = kd, id_, ks, is_
        so, do = do, so
        swapped = not swapped
        width *= 2
    if swapped:
        for k in range(n):
            key[lo + k] = kbuf[k]
            idx[lo + k] = ibuf[k]


@kernel(chunked=True)
def sort_groups(lo, hi, order, gstart, ws):
    """Sort each group g in lo..hi-1 (``order[gstart[g]:gstart[g + 1]]``) by decreasing ws, then index."""
    cap = 0
    for g in range(lo, hi):
        cap = max(cap, gstart[g + 1] - gstart[g])
    key, kbuf = np.empty(cap), np.empty(cap)
    idx, ibuf = np.empty(cap, np.int64), np.empty(cap, np.int64)
    for g in range(lo, hi):
        a, e = gstart[g], gstart[g + 1]
        if e - a <= 16:  # insertion sort in place (what sort_pairs does on 16 or fewer)
            for p in range(a + 1, e):
                v = order[p]
                kv = ws[v]
                j = p - 1
                while j >= a and (ws[order[j]] < kv or (ws[order[j]] == kv and order[j] > v)):
                    order[j + 1] = order[j]
                    j -= 1
                order[j + 1] = v
            continue
        for p in range(a, e):
            key[p - a] = ws[order[p]]
            idx[p - a] = order[p]
        sort_pairs(key, idx, 0, e - a, kbuf, ibuf)
        for p in range(a, e):
            order[p] = idx[p - a]


@kernel()
def _slots(gstart, gorder):
    """``(slot, cap)``: the running total of the groups' sizes in visiting order, the largest."""
    slot = np.empty(gorder.shape[0] + 1, np.int64)
    slot[0] = 0
    cap = 0
    for j in range(gorder.shape[0]):
        size = gstart[gorder[j] + 1] - gstart[gorder[j]]
        slot[j + 1] = slot[j] + size
        cap = max(cap, size)
    return slot, cap


@kernel()
def group_order(img, img_lo, lab, lab_lo, labels, n_img, n_lab, keep):
    """Boxes grouped by (image, label), in index order within a group; groups by first appearance.

    Image t is ``img == img_lo + t`` (t in [0, n_img)), label number u is ``lab == lab_lo + u``
    (u in [0, n_lab); ``labels`` (N,): the labels that lab numbers; the offsets spare the caller
    a shifted copy); only boxes with ``keep`` are placed (:func:`sort_groups` then orders each
    group by score). Returns ``(order (K,), gstart (G + 1,), gorder (G,), gimg (G,), glab
    (G,), slot (G + 1,), cap)``: group g is ``order[gstart[g]:gstart[g + 1]]``, and
    ``gorder`` lists the groups by image, then by where their label first appears in the
    image: the order in which ensemble-boxes meets an image's labels. The j-th group visited
    (``gorder[j]``) has image gimg[j] (t, from 0) and label glab[j] (from ``labels``), and its boxes'
    running total is ``slot[j]`` (its clusters' first slot); ``cap``: the most boxes of a group.

    Groups are numbered by (image, label), so an image's groups are consecutive numbers:
    ``gorder`` is filled image by image, each group in the slot after the previous group of
    its image when a pass in index order meets its first box.
    """
    n_all = img.shape[0]
    n = 0
    for i in range(n_all):
        n += keep[i]
    order = np.empty(n, np.int64)
    gnext = np.empty(n_img, np.int64)  # each image's next free place in gorder
    if n_img * n_lab <= 4 * n + 1024:  # one stable counting sort on the combined key
        starts = np.zeros(n_img * n_lab + 1, np.int64)
        for i in range(n_all):
            if keep[i]:
                starts[(img[i] - img_lo) * n_lab + lab[i] - lab_lo + 1] += 1
        n_groups = 0
        for c in range(n_img * n_lab):
            n_groups += starts[c + 1] > 0
            starts[c + 1] += starts[c]
        gstart = np.empty(n_groups + 1, np.int64)
        gof = np.empty(n_img * n_lab, np.int64)  # the group of each non-empty key (-1 once met)
        g = 0
        for t in range(n_img):
            gnext[t] = g
            for c in range(t * n_lab, (t + 1) * n_lab):  # the non-empty keys are the groups, in key order
                if starts[c + 1] > starts[c]:
                    gstart[g] = starts[c]
                    gof[c] = g
                    g += 1
        gstart[n_groups] = n
        gorder = np.empty(n_groups, np.int64)
        gimg = np.empty(n_groups, np.int64)
        glab = np.empty(n_groups, np.int64)
        for i in range(n_all):
            if keep[i]:
                k = (img[i] - img_lo) * n_lab + lab[i] - lab_lo
                if gof[k] >= 0:  # the group's first box; then marked as met
                    gimg[gnext[img[i] - img_lo]] = img[i] - img_lo
                    glab[gnext[img[i] - img_lo]] = labels[i]
                    gorder[gnext[img[i] - img_lo]] = gof[k]
                    gnext[img[i] - img_lo] += 1
                    gof[k] = -1
                order[starts[k]] = i
                starts[k] += 1
        slot, cap = _slots(gstart, gorder)
        return order, gstart, gorder, gimg, glab, slot, cap
    # least significant key first: stable by label, then by image
    n = 0
    for i in range(n_all):
        if keep[i]:
            order[n] = i
            n += 1
    order = _counting_sort(_counting_sort(order, lab, lab_lo, n_lab), img, img_lo, n_img)
    n_groups = 0
    for p in range(n):
        i = order[p]
        if p == 0 or img[i] != img[order[p - 1]] or lab[i] != lab[order[p - 1]]:
            n_groups += 1
    gstart = np.empty(n_groups + 1, np.int64)
    grp = np.empty(n_all, np.int64)  # each placed box's group
    g = -1
    for p in range(n):
        i = order[p]
        if p == 0 or img[i] != img[order[p - 1]] or lab[i] != lab[order[p - 1]]:
            g += 1
            gstart[g] = p
            if p == 0 or img[i] != img[order[p - 1]]:
                gnext[img[i] - img_lo] = g
        grp[i] = g
    gstart[n_groups] = n
    gorder = np.empty(n_groups, np.int64)
    gimg = np.empty(n_groups, np.int64)
    glab = np.empty(n_groups, np.int64)
    for i in range(n_all):
        if keep[i] and order[gstart[grp[i]]] == i:  # the group's first box (sorts are stable)
            gimg[gnext[img[i] - img_lo]] = img[i] - img_lo
            glab[gnext[img[i] - img_lo]] = labels[i]
            gorder[gnext[img[i] - img_lo]] = grp[i]
            gnext[img[i] - img_lo] += 1
    slot, cap = _slots(gstart, gorder)
    return order, gstart, gorder, gimg, glab, slot, cap


@kernel()
def _gather_image(jlo, jhi, slot, ncl, out_score, key, perm, jof, kbuf, ibuf, cnt):
    """The clusters of groups jlo..jhi-1 (one image's) by decreasing score, ties by creation.

    Group j's clusters are ``slot[j] : slot[j] + ncl[j]``; writes their scores and slots to
    key/perm[:n] (returns n) and, for each slot c, its group to ``jof[c - slot[jlo]]``.
    ``kbuf``, ``ibuf`` and ``cnt`` (at least n + 1 long) are work space.

    The sort: a stable scatter into n buckets of equal score width (the bucket is monotone in
    the score, so equal scores share one, in slot order), then an insertion sort that only
    moves clusters within their bucket. Where buckets are crowded (clustered scores), it is
    ``sort_pairs`` instead; the order is the same total order either way.
    """
    n = 0
    for j in range(jlo, jhi):
        for c in range(slot[j], slot[j] + ncl[j]):
            key[n] = out_score[c]
            perm[n] = c
            jof[c - slot[jlo]] = j
            n += 1
    if n <= 1:
        return n
    k_hi = key[0]
    k_lo = key[0]
    for k in range(1, n):
        k_hi = max(k_hi, key[k])
        k_lo = min(k_lo, key[k])
    if k_hi == k_lo:  # one score: already in slot order
        return n
    scale = n / (k_hi - k_lo)
    if scale < 1e300:
        for u in range(n + 1):
            cnt[u] = 0
        for k in range(n):
            cnt[min(max(np.int64((k_hi - key[k]) * scale), 0), n - 1) + 1] += 1
        moves = 0  # pairs within a bucket: a bound on the insertion sort's moves
        for u in range(n):
            moves += cnt[u + 1] * (cnt[u + 1] - 1)
            cnt[u + 1] += cnt[u]
        if moves <= 8 * n:
            for k in range(n):
                u = min(max(np.int64((k_hi - key[k]) * scale), 0), n - 1)
                kbuf[cnt[u]] = key[k]
                ibuf[cnt[u]] = perm[k]
                cnt[u] += 1
            for k in range(n):
                kv = kbuf[k]
                v = ibuf[k]
                i = k - 1
                while i >= 0 and key[i] < kv:
                    key[i + 1] = key[i]
                    perm[i + 1] = perm[i]
                    i -= 1
                key[i + 1] = kv
                perm[i + 1] = v
            return n
    sort_pairs(key, perm, 0, np.int64(n), kbuf, ibuf)  # int64: the signature the other callers use
    return n


@kernel()
def image_rows(gimg, slot, ncl):
    """Each image's groups and result rows: ``(jb, rb, cap, span)``.

    ``gimg[j]`` is the image of the j-th group visited (groups come image by image), ``ncl[j]``
    its number of clusters; image t's groups are ``jb[t]:jb[t + 1]``, its rows
    ``rb[t]:rb[t + 1]`` (both (n + 1,) int64). ``cap``: the most rows of an image; ``span``:
    the most slots of an image (``slot[jb[t + 1]] - slot[jb[t]]``).
    """
    n_j = gimg.shape[0]
    n = 0
    for j in range(n_j):
        n += j == 0 or gimg[j] != gimg[j - 1]
    jb = np.empty(n + 1, np.int64)
    rb = np.empty(n + 1, np.int64)
    n = 0
    rows = 0
    for j in range(n_j):
        if j == 0 or gimg[j] != gimg[j - 1]:
            jb[n] = j
            rb[n] = rows
            n += 1
        rows += ncl[j]
    jb[n] = n_j
    rb[n] = rows
    cap = 0
    span = 0
    for t in range(n):
        cap = max(cap, rb[t + 1] - rb[t])
        span = max(span, slot[jb[t + 1]] - slot[jb[t]])
    return jb, rb, cap, span


@kernel()
def finish(gimg, glab, out_box, out_score, slot, ncl):
    """The clusters in output order, as ``(image, boxes, scores, labels)`` arrays.

    Group j (in visiting order: by image, then label appearance) has image gimg[j], label
    glab[j] and clusters ``slot[j] : slot[j] + ncl[j]``. Each image's clusters are sorted by
    decreasing score, equal scores in creation order.
    """
    jb, rb, cap, span = image_rows(gimg, slot, ncl)
    count = rb[jb.shape[0] - 1]
    key, kbuf = np.empty(cap), np.empty(cap)
    perm, ibuf = np.empty(cap, np.int64), np.empty(cap, np.int64)
    jof = np.empty(span, np.int64)
    cnt = np.empty(cap + 1, np.int64)
    r_img = np.empty(count, np.int64)
    r_box = np.empty((count, 4))
    r_score = np.empty(count)
    r_label = np.empty(count, np.int64)
    for t in range(jb.shape[0] - 1):
        r0 = rb[t]
        base = slot[jb[t]]
        n = _gather_image(jb[t], jb[t + 1], slot, ncl, out_score, key, perm, jof, kbuf, ibuf, cnt)
        for k in range(n):
            c = perm[k]
            j = jof[c - base]
            r_img[r0 + k] = gimg[j]
            r_label[r0 + k] = glab[j]
            r_score[r0 + k] = key[k]
            for d in range(4):
                r_box[r0 + k, d] = out_box[c, d]
    return r_img, r_box, r_score, r_label


@kernel(chunked=True)
def finish_table(lo, hi, gid, glab, out_box, out_score, slot, ncl, jb, rb, cap, span, table):
    """The clusters as rows ``[gid[j], x1, y1, x2, y2, score, glab[j]]`` of table (count, 7).

    gid, glab (G,) int64 (written as float64); ``jb, rb, cap, span`` from :func:`image_rows`;
    iteration t (images ``lo:hi``) writes its image's rows, sorted by decreasing score, equal
    scores in creation order (label appearance, then cluster).
    """
    key, kbuf = np.empty(cap), np.empty(cap)
    perm, ibuf = np.empty(cap, np.int64), np.empty(cap, np.int64)
    jof = np.empty(span, np.int64)
    cnt = np.empty(cap + 1, np.int64)
    for t in range(lo, hi):
        r0 = rb[t]
        base = slot[jb[t]]
        n = _gather_image(jb[t], jb[t + 1], slot, ncl, out_score, key, perm, jof, kbuf, ibuf, cnt)
        for k in range(n):
            c = perm[k]
            j = jof[c - base]
            table[r0 + k, 0] = gid[j]
            for d in range(4):
                table[r0 + k, 1 + d] = out_box[c, d]
            table[r0 + k, 5] = key[k]
            table[r0 + k, 6] = glab[j]


# --------------------------------------------------------------------------- input


@kernel(chunked=True)
def prefilter(
    lo,
    hi,
    bounds,
    table,
    bc,
    sc,
    ic,
    lc,
    model,
    wmul,
    wdiv,
    skip_thr,
    use_skip,
    clip,
    out_boxes,
    ws,
    keep,
    ids,
    labs,
    counts,
):
    """Fix the input boxes of the chunks ``lo:hi`` of a table as ensemble-boxes does and weight the
    scores; chunk c is the rows ``bounds[c]:bounds[c + 1]``.

    table (N, C) float64: the box in columns bc .. bc + 3, the score in column sc and, when
    ic / lc >= 0, integer image ids and labels in columns ic / lc (copied to ids / labs as
    int64); model (N,) in [0, M); wmul (M,). Writes out_boxes (corners swapped where reversed,
    clipped to [0, 1] if ``clip``), ws = score * wmul[model] / wdiv and keep (N,) bool: False
    for a score < skip_thr (if ``use_skip``) or a zero area, and per chunk counts (C, 6) int64
    ``(n_swapped, n_clipped, n_zero_area, n_kept, bad_id_row, bad_label_row)``: boxes dropped
    by score count in none of the first three; a bad row (-1 if none) holds a value that is
    not a whole number within 2**53.
    """
    for c in range(lo, hi):
        n_swapped = 0
        n_clipped = 0
        n_zero = 0
        n_kept = 0
        bad_id = -1
        bad_lab = -1
        for i in range(bounds[c], bounds[c + 1]):
            if ic >= 0:
                v = table[i, ic]
                if abs(v) <= 9007199254740992.0 and v == np.floor(v):
                    ids[i] = np.int64(v)
                elif bad_id < 0:
                    bad_id = i
            if lc >= 0:
                v = table[i, lc]
                if abs(v) <= 9007199254740992.0 and v == np.floor(v):
                    labs[i] = np.int64(v)
                elif bad_lab < 0:
                    bad_lab = i
            keep[i] = False
            score = table[i, sc]
            if use_skip and score < skip_thr:
                continue
            x1 = min(table[i, bc], table[i, bc + 2])
            x2 = max(table[i, bc], table[i, bc + 2])
            y1 = min(table[i, bc + 1], table[i, bc + 3])
            y2 = max(table[i, bc + 1], table[i, bc + 3])
            if table[i, bc + 2] < table[i, bc] or table[i, bc + 3] < table[i, bc + 1]:
                n_swapped += 1
            if clip and not (x1 >= 0.0 and y1 >= 0.0 and x2 <= 1.0 and y2 <= 1.0):
                n_clipped += 1
                x1 = min(max(x1, 0.0), 1.0)
                y1 = min(max(y1, 0.0), 1.0)
                x2 = min(max(x2, 0.0), 1.0)
                y2 = min(max(y2, 0.0), 1.0)
            out_boxes[i, 0] = x1
            out_boxes[i, 1] = y1
            out_boxes[i, 2] = x2
            out_boxes[i, 3] = y2
            ws[i] = score * wmul[model[i]] / wdiv
            if (x2 - x1) * (y2 - y1) == 0.0:
                n_zero += 1
                continue
            keep[i] = True
            n_kept += 1
        counts[c, 0] = n_swapped
        counts[c, 1] = n_clipped
        counts[c, 2] = n_zero
        counts[c, 3] = n_kept
        counts[c, 4] = bad_id
        counts[c, 5] = bad_lab
