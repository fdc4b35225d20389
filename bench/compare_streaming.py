"""Time fastdet.MeanAveragePrecision beside torchmetrics' (faster_coco_eval and pycocotools backends).

Synthetic detector output, seeded: 640x480 images with about 7 ground-truth
boxes each (80 classes, a COCO-like long tail, COCO's small / medium / large
mix, 1 % crowd) and exactly 50 detections per image (jittered, duplicated and
mislabelled copies of the ground truth plus background boxes), xyxy float32
torch tensors on the CPU, scores float32 as a detector's sigmoid gives them.
Each implementation gets the same list of batches (16 images each) and is
timed for ``update`` over every batch plus ``compute``; every returned value
must be equal (``torch.equal``, same dtype and shape) to torchmetrics'.

fastdet's kernels are loaded (compiled or read from the Numba cache) by a
warm-up on a few images first; that first-call time is printed.

Usage::

    python bench/compare_streaming.py                    # 1000 and 5000 images
    python bench/compare_streaming.py --images 1000 --skip pycocotools --json out.json
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import fastdet

BATCH = 16
DETECTIONS = 50


def make_images(n_images: int, seed: int = 0) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Per-image (preds, target) dicts of NumPy arrays (float32 xyxy boxes, int64 labels)."""
    rng = np.random.default_rng(seed)
    freq = np.exp(rng.normal(0.0, 1.0, 80))
    freq[0] = 0.0
    freq *= 0.70 / freq.sum()
    freq[0] = 0.30  # "person"
    preds, target = [], []
    for _ in range(n_images):
        n_gt = int(min(rng.poisson(7.3), 40))
        lo, hi = np.array([(8.0, 32.0), (32.0, 96.0), (96.0, 400.0)])[
            rng.choice(3, n_gt, p=[0.41, 0.34, 0.25])
        ].T
        side = rng.uniform(lo, hi)
        aspect = np.exp(rng.normal(0.0, 0.5, n_gt))
        wh = np.stack([side * np.sqrt(aspect), side / np.sqrt(aspect)], axis=1)
        xy = rng.uniform(0, 1, (n_gt, 2)) * np.maximum(np.array([640.0, 480.0]) - wh, 1.0)
        gt = np.concatenate([xy, xy + wh], axis=1)
        gt_label = rng.choice(80, n_gt, p=freq)
        target.append({"boxes": gt.astype(np.float32), "labels": gt_label,
                       "iscrowd": (rng.random(n_gt) < 0.01).astype(np.int64)})  # fmt: skip
        # detections: up to 3 copies per object (the first close, later ones looser), the rest background
        copies = np.minimum(rng.poisson(1.6, n_gt), 3)
        src = np.repeat(np.arange(n_gt), copies)[:DETECTIONS]
        n_fp = DETECTIONS - len(src)
        jitter = rng.normal(0, 0.08, (len(src), 4)) * np.repeat(wh[src], 2, axis=1)
        tp_box = gt[src] + jitter
        tp_label = np.where(rng.random(len(src)) < 0.9, gt_label[src], rng.choice(80, len(src), p=freq))
        bg_wh = np.exp(rng.uniform(np.log(8), np.log(300), (n_fp, 2)))
        bg_xy = rng.uniform(0, 1, (n_fp, 2)) * np.maximum(np.array([640.0, 480.0]) - bg_wh, 1.0)
        boxes = np.concatenate([tp_box, np.concatenate([bg_xy, bg_xy + bg_wh], axis=1)])
        boxes[:, 2:] = np.maximum(boxes[:, 2:], boxes[:, :2] + 0.5)
        logits = np.concatenate([rng.normal(1.5, 1.5, len(src)), rng.normal(-2.5, 1.5, n_fp)])
        order = rng.permutation(DETECTIONS)
        preds.append({
            "boxes": boxes[order].astype(np.float32),
            "scores": (1 / (1 + np.exp(-logits[order]))).astype(np.float32),
            "labels": np.concatenate([tp_label, rng.choice(80, n_fp, p=freq)])[order],
        })  # fmt: skip
    return preds, target


def to_torch(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    import torch

    return [{k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in item.items()} for item in items]


def run(metric: Any, preds: list[Any], target: list[Any]) -> dict[str, Any]:
    for s in range(0, len(preds), BATCH):
        metric.update(preds[s : s + BATCH], target[s : s + BATCH])
    return metric.compute()  # type: ignore[no-any-return]


def timed(
    make: Callable[[], Any], preds: list[Any], target: list[Any], repeat: int
) -> tuple[float, float, Any]:
    """Median and best wall time of ``repeat`` runs of ``run(make(), preds, target)``, and the last result."""
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = run(make(), preds, target)
        times.append(time.perf_counter() - t)
    return float(np.median(times)), min(times), out


def same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    import torch

    return list(a) == list(b) and all(
        a[k].dtype == b[k].dtype and a[k].shape == b[k].shape and torch.equal(a[k], b[k]) for k in a
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", type=int, nargs="+", default=[1000, 5000])
    ap.add_argument("--repeat", type=int, default=7, help="fastdet repeats (median, best); peers run once")
    ap.add_argument("--skip", nargs="*", default=[], choices=["faster_coco_eval", "pycocotools"])
    ap.add_argument("--class-metrics", action="store_true", help="also per-class mAP / mAR")
    ap.add_argument("--json", type=Path, help="write the figures here")
    args = ap.parse_args()

    import numba
    import torch
    import torchmetrics
    from torchmetrics.detection import MeanAveragePrecision as TorchMetricsMAP

    torch.set_num_threads(1)  # the machine has 2 cores; torchmetrics' update is per image anyway
    kwargs = {"class_metrics": args.class_metrics}

    def ours() -> Any:
        return fastdet.MeanAveragePrecision(**kwargs)

    p0, t0 = make_images(8, seed=99)
    t = time.perf_counter()
    run(ours(), to_torch(p0), to_torch(t0))
    print(f"fastdet first call (kernels compiled or loaded from the cache): {time.perf_counter() - t:.2f} s")
    rows: list[dict[str, Any]] = []
    for n in args.images:
        preds_np, target_np = make_images(n)
        preds, target = to_torch(preds_np), to_torch(target_np)
        n_gt = sum(len(x["labels"]) for x in target_np)
        print(f"\n{n} images, {n * DETECTIONS} detections, {n_gt} ground truth, batches of {BATCH}")
        fd_time, fd_best, fd = timed(ours, preds, target, args.repeat)
        np_time, np_best, fd_np = timed(ours, preds_np, target_np, args.repeat)
        assert all(np.float32(fd_np[k]) == fd[k].numpy() for k in fd if k.startswith("ma")), "numpy != torch"
        row: dict[str, Any] = {"images": n, "detections": n * DETECTIONS, "fastdet_s": fd_time,
                               "fastdet_best_s": fd_best, "fastdet_numpy_s": np_time,
                               "fastdet_numpy_best_s": np_best, "map": float(fd["map"])}  # fmt: skip
        print(
            f"  fastdet (torch inputs)      {fd_time:8.3f} s (best {fd_best:.3f})  map={float(fd['map']):.6f}"
        )
        print(f"  fastdet (NumPy inputs)      {np_time:8.3f} s (best {np_best:.3f})")
        for backend in ("faster_coco_eval", "pycocotools"):
            if backend in args.skip:
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tm_time, _, tm = timed(
                    lambda b=backend: TorchMetricsMAP(backend=b, **kwargs), preds, target, 1
                )
            equal = same(fd, tm)
            row.update({f"torchmetrics_{backend}_s": tm_time, f"equal_{backend}": equal})
            ratio = tm_time / fd_time
            print(f"  torchmetrics+{backend:<16} {tm_time:8.3f} s   {ratio:6.1f}x   same numbers: {equal}")
            if not equal:
                print(f"    differ: {[k for k in tm if not torch.equal(tm[k], fd[k])]}")
        rows.append(row)
    if args.json:
        meta = {"python": platform.python_version(), "numpy": np.__version__, "numba": numba.__version__,
                "torch": torch.__version__, "torchmetrics": torchmetrics.__version__,
                "machine": platform.machine(), "class_metrics": args.class_metrics}  # fmt: skip
        args.json.write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
