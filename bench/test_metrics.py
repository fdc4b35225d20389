"""pytest-benchmark: fastdet.metrics / voc / losses beside scikit-learn and torch.

Run with ``pytest bench/test_metrics.py --benchmark-only``. The cross-library
comparison at 1e7 samples lives in ``bench/compare_metrics.py``; sizes here stay
at or below 1e6 so the suite finishes in a few minutes.
"""

from __future__ import annotations

import numpy as np
import pytest

import fastdet.losses as fl
import fastdet.metrics as fm
import fastdet.voc as fv

SIZES = (10_000, 100_000, 1_000_000)


def binary_data(n, seed=0):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(np.int64)
    s = np.round(1.0 / (1.0 + np.exp(-(rng.normal(size=n) + 1.5 * y))), 3)
    return y, s


def class_data(n, k=80, seed=0):
    rng = np.random.default_rng(seed)
    t = rng.integers(0, k, n)
    p = np.where(rng.random(n) < 0.7, t, rng.integers(0, k, n))
    return t, p


def _impl(name, ours, theirs_module, theirs_attr):
    if name == "fastdet":
        return ours
    module = pytest.importorskip(theirs_module)
    return getattr(module, theirs_attr)


@pytest.mark.benchmark(group="roc_auc")
@pytest.mark.parametrize("impl", ["fastdet", "sklearn"])
@pytest.mark.parametrize("n", SIZES)
def test_roc_auc(benchmark, impl, n):
    fn = _impl(impl, fm.roc_auc, "sklearn.metrics", "roc_auc_score")
    y, s = binary_data(n)
    fn(y, s)  # warm-up (JIT)
    benchmark(fn, y, s)


@pytest.mark.benchmark(group="average_precision")
@pytest.mark.parametrize("impl", ["fastdet", "sklearn"])
@pytest.mark.parametrize("n", SIZES)
def test_average_precision(benchmark, impl, n):
    fn = _impl(impl, fm.average_precision, "sklearn.metrics", "average_precision_score")
    y, s = binary_data(n)
    fn(y, s)
    benchmark(fn, y, s)


@pytest.mark.benchmark(group="roc_curve")
@pytest.mark.parametrize("impl", ["fastdet", "sklearn"])
@pytest.mark.parametrize("n", SIZES)
def test_roc_curve(benchmark, impl, n):
    fn = _impl(impl, fm.roc_curve, "sklearn.metrics", "roc_curve")
    y, s = binary_data(n)
    fn(y, s)
    benchmark(fn, y, s)


@pytest.mark.benchmark(group="roc_auc_weighted")
@pytest.mark.parametrize("impl", ["fastdet", "sklearn"])
@pytest.mark.parametrize("n", SIZES)
def test_roc_auc_weighted(benchmark, impl, n):
    fn = _impl(impl, fm.roc_auc, "sklearn.metrics", "roc_auc_score")
    y, s = binary_data(n)
    w = np.random.default_rng(1).exponential(size=n)
    fn(y, s, sample_weight=w)
    benchmark(fn, y, s, sample_weight=w)


@pytest.mark.benchmark(group="roc_auc_multiclass")
@pytest.mark.parametrize("impl", ["fastdet", "sklearn"])
@pytest.mark.parametrize("multi_class", ["ovr", "ovo"])
def test_roc_auc_multiclass(benchmark, impl, multi_class):
    fn = _impl(impl, fm.roc_auc, "sklearn.metrics", "roc_auc_score")
    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, 100_000)
    p = rng.random((100_000, 10))
    p /= p.sum(axis=1, keepdims=True)
    fn(y, p, multi_class=multi_class)
    benchmark(fn, y, p, multi_class=multi_class)


@pytest.mark.benchmark(group="confusion_matrix")
@pytest.mark.parametrize("impl", ["fastdet", "sklearn"])
@pytest.mark.parametrize("n", SIZES)
def test_confusion_matrix(benchmark, impl, n):
    fn = _impl(impl, fm.confusion_matrix, "sklearn.metrics", "confusion_matrix")
    t, p = class_data(n)
    fn(t, p)
    benchmark(fn, t, p)


@pytest.mark.benchmark(group="precision_recall_f1")
@pytest.mark.parametrize("impl", ["fastdet", "sklearn"])
def test_precision_recall_f1_macro(benchmark, impl):
    t, p = class_data(1_000_000)
    if impl == "fastdet":

        def fn():
            return fm.precision_recall_f1(t, p, average="macro")
    else:
        skm = pytest.importorskip("sklearn.metrics")

        def fn():
            return skm.precision_recall_fscore_support(t, p, average="macro")

    fn()
    benchmark(fn)


def _voc_problem(n_images, seed=0):
    rng = np.random.default_rng(seed)
    gt, dt = [], []
    for img in range(n_images):
        for _ in range(rng.integers(1, 8)):
            x, y = rng.uniform(0, 400, 2)
            w, h = rng.uniform(10, 100, 2)
            label = int(rng.integers(0, 20))
            gt.append({"image_id": img, "label": label, "bbox": [x, y, x + w, y + h]})
            for _ in range(3):
                jx, jy = rng.normal(0, 0.15 * w), rng.normal(0, 0.15 * h)
                dt.append(
                    {
                        "image_id": img,
                        "label": label,
                        "bbox": [x + jx, y + jy, x + jx + w, y + jy + h],
                        "score": float(rng.random()),
                    }
                )
    return gt, dt


@pytest.mark.benchmark(group="voc_evaluate")
def test_voc_evaluate(benchmark):
    gt, dt = _voc_problem(2000)
    fv.evaluate(gt, dt)
    benchmark(fv.evaluate, gt, dt)


@pytest.mark.benchmark(group="sigmoid_focal_loss")
@pytest.mark.parametrize("impl", ["fastdet", "torchvision"])
def test_sigmoid_focal_loss(benchmark, impl):
    rng = np.random.default_rng(0)
    x = rng.normal(size=1_000_000).astype(np.float32)
    t = (rng.random(1_000_000) < 0.1).astype(np.float32)
    if impl == "fastdet":

        def fn():
            return fl.sigmoid_focal_loss(x, t, reduction="mean")
    else:
        torch = pytest.importorskip("torch")
        ops = pytest.importorskip("torchvision.ops")
        tx, tt = torch.from_numpy(x), torch.from_numpy(t)

        def fn():
            return ops.sigmoid_focal_loss(tx, tt, reduction="mean")

    fn()
    benchmark(fn)
