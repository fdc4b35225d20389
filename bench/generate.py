"""Realistic synthetic detector output: boxes clustered around objects.

A detector emits many overlapping candidates per object (anchors / grid cells near
the object, each with a jittered box and a score that falls off with the jitter)
plus some scattered low-score background boxes. ``clustered_boxes`` imitates that,
deterministically from a seed, so benchmarks and tests see the same kind of input
that NMS meets in practice. Used by ``bench/compare.py``, ``bench/test_nms.py`` and,
at small sizes, ``tests/test_nms.py``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray


def clustered_boxes(
    n: int,
    *,
    n_objects: int | None = None,
    n_classes: int = 80,
    image_size: float = 1024.0,
    jitter: float = 0.12,
    background: float = 0.1,
    seed: int = 0,
    dtype: Any = np.float32,
) -> tuple[NDArray[Any], NDArray[Any], NDArray[np.int64]]:
    """Return ``(boxes (n, 4) xyxy, scores (n,), labels (n,) int64)``.

    ``n_objects`` defaults to ``max(1, n // 100)``; object sizes are log-uniform in
    [16, 256] pixels, candidate boxes jitter their centre by ``jitter`` x size and their
    size by ``exp(jitter * N(0, 1))``; a fraction ``background`` of the boxes is spread
    uniformly over the image with low scores. Each object has one class; background
    boxes get random classes. Boxes are clipped to the image.
    """
    rng = np.random.default_rng(seed)
    if n_objects is None:
        n_objects = max(1, n // 100)
    n_bg = round(n * background)
    n_fg = n - n_bg
    size = np.exp(rng.uniform(np.log(16.0), np.log(256.0), (n_objects, 2)))
    centre = rng.uniform(0.0, image_size, (n_objects, 2))
    conf = rng.uniform(0.3, 1.0, n_objects)
    obj_class = rng.integers(0, n_classes, n_objects)

    which = rng.integers(0, n_objects, n_fg)
    shift = rng.normal(0.0, jitter, (n_fg, 2))
    c = centre[which] + shift * size[which]
    s = size[which] * np.exp(rng.normal(0.0, jitter, (n_fg, 2)))
    err = np.sqrt((shift**2).sum(1))
    fg_scores = conf[which] * np.exp(-4.0 * err) * rng.uniform(0.7, 1.0, n_fg)

    bg_c = rng.uniform(0.0, image_size, (n_bg, 2))
    bg_s = np.exp(rng.uniform(np.log(8.0), np.log(128.0), (n_bg, 2)))
    bg_scores = rng.uniform(0.0, 0.3, n_bg)

    centres = np.concatenate([c, bg_c])
    sizes = np.concatenate([s, bg_s])
    boxes = np.concatenate([centres - sizes / 2, centres + sizes / 2], axis=1)
    np.clip(boxes, 0.0, image_size, out=boxes)
    scores = np.concatenate([fg_scores, bg_scores])
    labels = np.concatenate([obj_class[which], rng.integers(0, n_classes, n_bg)])
    perm = rng.permutation(n)
    return (
        np.ascontiguousarray(boxes[perm], dtype=dtype),
        np.ascontiguousarray(scores[perm], dtype=dtype),
        labels[perm].astype(np.int64),
    )
