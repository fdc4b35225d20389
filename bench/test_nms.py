"""pytest-benchmark: fastdet.nms beside torchvision.ops and OpenCV dnn on clustered boxes.

Run with ``pytest bench/test_nms.py --benchmark-only`` (add ``-k 'not cold'`` to skip
the cold-start rounds). The one-process comparison table with speed-up ratios is
``python bench/compare.py``. Input: float32 boxes clustered around objects like
detector output (``bench/generate.py``), IoU threshold 0.5.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from generate import clustered_boxes

from fastdet.nms import batched_nms, multiclass_nms, nms, postprocess_detections, soft_nms

SIZES = (1_000, 5_000, 20_000)
SOFT_SIZES = (1_000, 5_000)
ROOT = Path(__file__).resolve().parent.parent


def _xywh(boxes):
    return np.concatenate([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]], axis=1)


def _torchvision():
    tv = pytest.importorskip("torchvision")
    import torch

    return torch, tv


@pytest.mark.benchmark(group="nms")
@pytest.mark.parametrize("impl", ["fastdet", "torchvision", "opencv"])
@pytest.mark.parametrize("n", SIZES)
def test_nms(benchmark, impl, n):
    boxes, scores, _ = clustered_boxes(n)
    if impl == "fastdet":
        args, fn = (boxes, scores, 0.5), nms
    elif impl == "torchvision":
        torch, tv = _torchvision()
        args, fn = (torch.from_numpy(boxes), torch.from_numpy(scores), 0.5), tv.ops.nms
    else:
        cv2 = pytest.importorskip("cv2")
        args, fn = (_xywh(boxes).astype(np.float64), scores, 0.0, 0.5), cv2.dnn.NMSBoxes
    fn(*args)  # warm-up (JIT)
    benchmark(fn, *args)


@pytest.mark.benchmark(group="batched_nms")
@pytest.mark.parametrize("impl", ["fastdet", "torchvision", "opencv"])
@pytest.mark.parametrize("n", SIZES)
def test_batched_nms(benchmark, impl, n):
    boxes, scores, labels = clustered_boxes(n, n_classes=80)
    if impl == "fastdet":
        args, fn = (boxes, scores, labels, 0.5), batched_nms
    elif impl == "torchvision":
        torch, tv = _torchvision()
        args = (torch.from_numpy(boxes), torch.from_numpy(scores), torch.from_numpy(labels), 0.5)
        fn = tv.ops.batched_nms
    else:
        cv2 = pytest.importorskip("cv2")
        args = (_xywh(boxes).astype(np.float64), scores, labels.astype(np.int32), 0.0, 0.5)
        fn = cv2.dnn.NMSBoxesBatched
    fn(*args)
    benchmark(fn, *args)


@pytest.mark.benchmark(group="soft_nms")
@pytest.mark.parametrize("impl", ["fastdet", "opencv"])
@pytest.mark.parametrize("n", SOFT_SIZES)
def test_soft_nms_gaussian(benchmark, impl, n):
    boxes, scores, _ = clustered_boxes(n)
    boxes = np.round(boxes)  # OpenCV's softNMSBoxes takes integer rectangles
    if impl == "fastdet":

        def fn():
            return soft_nms(boxes, scores, method="gaussian", sigma=0.5, score_threshold=0.001)
    else:
        cv2 = pytest.importorskip("cv2")
        rects = _xywh(boxes).astype(np.int32)
        gauss = cv2.dnn.SOFT_NMSMETHOD_SOFTNMS_GAUSSIAN

        def fn():
            return cv2.dnn.softNMSBoxes(rects, scores, 0.001, 0.3, sigma=0.5, method=gauss)

    fn()
    benchmark(fn)


@pytest.mark.benchmark(group="multiclass_nms")
@pytest.mark.parametrize("n", SIZES)
def test_multiclass_nms(benchmark, n):
    boxes, scores, labels = clustered_boxes(n, n_classes=80)
    cls = (0.01 * np.random.default_rng(0).exponential(size=(n, 80))).astype(np.float32)
    cls[np.arange(n), labels] = scores
    multiclass_nms(boxes, cls)
    benchmark(multiclass_nms, boxes, cls)


@pytest.mark.benchmark(group="postprocess")
@pytest.mark.parametrize("batch", [1, 16])
def test_postprocess_detections(benchmark, batch):
    preds = []
    for seed in range(batch):
        boxes, scores, labels = clustered_boxes(8400, n_classes=80, seed=seed)
        cls = np.random.default_rng(seed).uniform(0, 0.02, (8400, 80)).astype(np.float32)
        cls[np.arange(8400), labels] = scores
        xywh = np.concatenate([(boxes[:, :2] + boxes[:, 2:]) / 2, boxes[:, 2:] - boxes[:, :2]], 1)
        preds.append(np.concatenate([xywh, cls], 1))
    pred = np.stack(preds).astype(np.float32)
    postprocess_detections(pred)
    benchmark(postprocess_detections, pred)


COLD = """
import numpy as np
import fastdet
from fastdet.nms import batched_nms, nms, soft_nms
b = np.array([[0, 0, 10, 10], [1, 1, 11, 11]], np.float32)
s = np.array([0.9, 0.8], np.float32)
nms(b, s, 0.5); batched_nms(b, s, np.array([0, 1]), 0.5); soft_nms(b, s)
"""


@pytest.mark.benchmark(group="cold_start")
@pytest.mark.parametrize("cache", ["warm", "baseline"])
def test_cold_start(benchmark, cache, tmp_path):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    code = COLD if cache == "warm" else "import numpy, numba"
    subprocess.run([sys.executable, "-c", COLD], check=True, env=env)  # fills the cache

    def run():
        subprocess.run([sys.executable, "-c", code], check=True, env=env)

    benchmark.pedantic(run, rounds=3, iterations=1)
