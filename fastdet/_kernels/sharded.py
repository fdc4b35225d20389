"""Numba kernels for COCO accumulation over detections matched in shards (fastdet.dask).

Each shard matched the (category, image) cells of its own images and sent, per
category, its kept detections in image order then rank within the cell (the
order of pycocotools' per-image concatenation). Here the runs of all shards
are merged back into that order and sorted stably by descending score, then
:func:`fastdet._kernels.coco._accumulate_category` runs on them: the same
sequence of detections and counts as in one process, hence the same floats.
"""

from __future__ import annotations

import numba
import numpy as np

from fastdet._kernels import kernel
from fastdet._kernels.coco import _accumulate_category, _radix_argsort_desc, _stable_sort_desc


@kernel()
def _order_category(k, run_off, img, score, cat_off, cat_rows):
    """Rows of category ``k`` by image position, then stably by descending score.

    ``run_off`` (S, K + 1): shard ``s`` holds category ``k`` in rows
    ``run_off[s, k]:run_off[s, k + 1]``, already by image then rank. Images are
    disjoint between shards, so a stable sort by image restores pycocotools'
    concatenation order; the stable sort by score is then the one it does.
    """
    n_s = run_off.shape[0]
    j = cat_off[k]
    for s in range(n_s):
        for r in range(run_off[s, k], run_off[s, k + 1]):
            cat_rows[j] = r
            j += 1
    base = cat_off[k]
    n = j - base
    if n <= 1:
        return
    rows = cat_rows[base:j].copy()
    keys = np.empty(n, np.float64)
    if n_s > 1:
        for q in range(n):
            keys[q] = -float(img[rows[q]])  # exact: positions are below 2**53
        by_img = _radix_argsort_desc(keys) if n >= 512 else _small_sort(keys)
        tmp = rows.copy()
        for q in range(n):
            rows[q] = tmp[by_img[q]]
    for q in range(n):
        keys[q] = score[rows[q]]
    perm = _radix_argsort_desc(keys) if n >= 512 else _small_sort(keys)
    for q in range(n):
        cat_rows[base + q] = rows[perm[q]]


@kernel()
def _small_sort(keys):
    """Stable permutation ordering ``keys`` by descending value (merge / insertion sort)."""
    n = keys.shape[0]
    perm = np.arange(n)
    _stable_sort_desc(perm, 0, n, keys, np.empty(n, np.int64))
    return perm


@kernel(parallel=True)
def accumulate_runs(
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
    precision,
    recall,
    scores,
):
    """pycocotools' accumulate of K categories whose detections come in per-shard runs.

    ``run_off`` (S, K + 1) int64: run bounds (see :func:`_order_category`);
    ``img`` (N,) int64 image position, ``rank`` (N,) int64 rank in the cell,
    ``score`` (N,) float64, ``status`` (N, A, T) and ``kind`` (N, A) int8 as
    :func:`fastdet._kernels.coco.match_cells` writes them; ``n_pos`` (K, A)
    non-ignored ground truths. Fills ``precision``/``scores`` (T, R, K, A, M)
    and ``recall`` (T, K, A, M), which arrive set to -1.
    """
    n_k = run_off.shape[1] - 1
    cat_off = np.zeros(n_k + 1, np.int64)
    for k in range(n_k):
        total = 0
        for s in range(run_off.shape[0]):
            total += run_off[s, k + 1] - run_off[s, k]
        cat_off[k + 1] = cat_off[k] + total
    cat_rows = np.empty(cat_off[n_k], np.int64)
    cat_rank = np.empty(cat_off[n_k], np.int64)
    for k in numba.prange(n_k):
        _order_category(k, run_off, img, score, cat_off, cat_rows)
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
