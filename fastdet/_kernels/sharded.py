"""Numba kernels for COCO accumulation over detections matched in shards (fastdet.dask).

Each shard matched the (category, image) cells of its own images and sent, per
category, its kept detections in image order then rank within the cell (the
order of pycocotools' per-image concatenation), sorted stably by descending
score. Here the runs of all shards are merged, ties going to the lower image
position: the stable sort by score of the whole concatenation. Then
:func:`fastdet._kernels.coco._accumulate_category` runs on them: the same
sequence of detections and counts as in one process, hence the same floats.
"""

from __future__ import annotations

import numpy as np

from fastdet._kernels import kernel
from fastdet._kernels.coco import _accumulate_category, _radix_argsort_desc, _stable_sort_desc


@kernel()
def sort_segments_desc(offsets, score):
    """Permutation sorting each segment ``offsets[c]:offsets[c + 1]`` of ``score`` by descending value.

    Stable (ties keep their order; -0.0 ties with 0.0), as the accumulation's
    sort: a radix sort from 512 elements, a merge / insertion sort below.
    """
    n = score.shape[0]
    order = np.arange(n)
    for c in range(offsets.shape[0] - 1):
        lo = offsets[c]
        hi = offsets[c + 1]
        m = hi - lo
        if m >= 512:
            perm = _radix_argsort_desc(score[lo:hi])
            for q in range(m):
                order[lo + q] = lo + perm[q]
        elif m > 1:
            _stable_sort_desc(order, lo, hi, score, np.empty(m, np.int64))
    return order


@kernel()
def _merge_category(k, run_off, img, score, cat_off, cat_rows, buf):
    """Rows of category ``k`` in pycocotools' order: by descending score, ties by image position.

    ``run_off`` (S, K + 1): shard ``s`` holds category ``k`` in rows
    ``run_off[s, k]:run_off[s, k + 1]``, already stably sorted by descending
    score from image order (then rank within the cell). Images are disjoint
    between shards, so merging the runs, ties going to the lower image
    position, gives the stable sort by score of pycocotools' per-image
    concatenation. Bottom-up pairwise merges; ``buf`` is scratch of
    ``cat_rows``' size.
    """
    n_s = run_off.shape[0]
    base = cat_off[k]
    j = base
    bounds = np.empty(n_s + 1, np.int64)
    for s in range(n_s):
        bounds[s] = j - base
        for r in range(run_off[s, k], run_off[s, k + 1]):
            cat_rows[j] = r
            j += 1
    bounds[n_s] = j - base
    n_runs = n_s
    src = cat_rows[base:j]
    dst = buf[base:j]
    in_buf = False
    while n_runs > 1:
        out = 0
        for pair in range(0, n_runs, 2):
            lo = bounds[pair]
            if pair + 1 == n_runs:  # odd one out: copied as it is
                for q in range(lo, bounds[pair + 1]):
                    dst[q] = src[q]
                bounds[out] = lo
                out += 1
                continue
            mid = bounds[pair + 1]
            hi = bounds[pair + 2]
            a = lo
            b = mid
            q = lo
            while a < mid and b < hi:
                ra = src[a]
                rb = src[b]
                if score[rb] > score[ra] or (score[rb] == score[ra] and img[rb] < img[ra]):
                    dst[q] = rb
                    b += 1
                else:
                    dst[q] = ra
                    a += 1
                q += 1
            while a < mid:
                dst[q] = src[a]
                a += 1
                q += 1
            while b < hi:
                dst[q] = src[b]
                b += 1
                q += 1
            bounds[out] = lo
            out += 1
        bounds[out] = bounds[n_runs]
        n_runs = out
        tmp = src
        src = dst
        dst = tmp
        in_buf = not in_buf
    if in_buf:
        for q in range(j - base):
            cat_rows[base + q] = buf[base + q]


@kernel(chunked=True)
def accumulate_runs(
    lo,
    hi,
    run_off,
    img,
    rank,
    score,
    status,
    kind,
    n_pos,
    a_list,
    max_dets,
    rec_thrs,
    rec_sorted,
    eps,
    cat_off,
    cat_rows,
    cat_rank,
    buf,
    precision,
    recall,
    scores,
):
    """pycocotools' accumulate of categories ``lo:hi`` whose detections come in per-shard runs.

    ``run_off`` (S, K + 1) int64: run bounds (see :func:`_merge_category`);
    ``img`` (N,) int64 image position, ``rank`` (N,) int64 rank in the cell,
    ``score`` (N,) float64, ``status`` (N, A, T) and ``kind`` (N, A) int8 as
    :func:`fastdet._kernels.coco.match_cells` writes them; ``n_pos`` (K, A)
    non-ignored ground truths. Fills ``precision``/``scores`` (K, A, M, T, R),
    which may arrive uninitialised, and ``recall`` (T, K, A, M), which arrives
    set to -1. Scratch: ``cat_off``
    (K + 1,) each category's bounds in ``cat_rows``, ``cat_rank`` and ``buf``
    (cat_off[-1],).
    """
    for k in range(lo, hi):
        _merge_category(k, run_off, img, score, cat_off, cat_rows, buf)
        for q in range(cat_off[k], cat_off[k + 1]):
            cat_rank[q] = rank[cat_rows[q]]
        _accumulate_category(
            k,
            score,
            n_pos,
            a_list,
            max_dets,
            rec_thrs,
            rec_sorted,
            eps,
            cat_off,
            cat_rows,
            cat_rank,
            status,
            kind,
            precision,
            recall,
            scores,
        )
