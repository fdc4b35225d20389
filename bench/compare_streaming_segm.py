"""MeanAveragePrecision(iou_type='segm'): fastdet against torchmetrics 1.9 (both backends).

Masks from tests/test_streaming_segm.py's generator (images 16..80 px), optionally
upsampled by ``--scale`` (8: 128..640 px, detector-sized). ``update`` in batches of 8
plus ``compute``; median of 3 runs after one warm-up (Numba compiled).

    python bench/compare_streaming_segm.py --images 200 --scale 1
    python bench/compare_streaming_segm.py --images 100 --scale 8
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, default=200)
    ap.add_argument("--scale", type=int, default=1)
    args = ap.parse_args()
    from test_streaming import to_torch
    from test_streaming_segm import mask_batch
    from torchmetrics.detection import MeanAveragePrecision as TM

    from fastdet import MeanAveragePrecision as FD

    preds, target = mask_batch(np.random.default_rng(0), args.images)
    for item in preds + target:
        item["masks"] = np.repeat(np.repeat(item["masks"], args.scale, axis=1), args.scale, axis=2)
        item["boxes"] = item["boxes"] * args.scale
    preds, target = to_torch(preds), to_torch(target)
    n_dt = sum(len(p["labels"]) for p in preds)
    n_gt = sum(len(t["labels"]) for t in target)
    print(f"{len(preds)} images, {n_dt} detections, {n_gt} ground truths, scale {args.scale}")

    def run(cls: Any, **kw: Any) -> float:
        m = cls(iou_type="segm", **kw)
        m.warn_on_many_detections = False
        t0 = time.perf_counter()
        for s in range(0, len(preds), 8):
            m.update(preds[s : s + 8], target[s : s + 8])
        m.compute()
        return time.perf_counter() - t0

    run(FD)
    times = {}
    for name, cls, kw in [
        ("fastdet", FD, {}),
        ("torchmetrics (pycocotools)", TM, {"backend": "pycocotools"}),
        ("torchmetrics (faster_coco_eval)", TM, {"backend": "faster_coco_eval"}),
    ]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            times[name] = float(np.median([run(cls, **kw) for _ in range(3)]))
    for name, t in times.items():
        print(f"{name:34s} {t:8.3f} s   {t / times['fastdet']:6.2f}x fastdet's time")


if __name__ == "__main__":
    main()
