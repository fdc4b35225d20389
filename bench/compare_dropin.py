"""Time COCOeval subclasses that override per-image methods, fastdet beside pycocotools.

On cocoapi's 100-image bbox set (``data/coco-val2014-fake100``), ``evaluate()`` and
``accumulate()`` medians for: pycocotools; fastdet with an ``evaluateImg`` override
(pycocotools' Python loop, then ``accumulate`` over ``evalImgs``); fastdet with a
``computeIoU`` override (called per cell, matched by the kernels); fastdet without
overrides. Every subclass calls ``super()``, so every row's stats equal pycocotools'
(checked). Kernels are compiled or loaded from cache by a warm-up run first.

Usage::

    python bench/compare_dropin.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
from pycocotools.coco import COCO as PyCOCO
from pycocotools.cocoeval import COCOeval as PyCOCOeval

from fastdet.coco import COCO, COCOeval

DATA = Path(__file__).resolve().parent.parent / "data" / "coco-val2014-fake100"


class LoopEval(COCOeval):
    def evaluateImg(self, imgId: Any, catId: Any, aRng: Any, maxDet: int) -> Any:
        return super().evaluateImg(imgId, catId, aRng, maxDet)


class IouEval(COCOeval):
    def computeIoU(self, imgId: Any, catId: Any) -> Any:
        return super().computeIoU(imgId, catId)


class PyIouEval(PyCOCOeval):  # type: ignore[misc]
    def computeIoU(self, imgId: Any, catId: Any) -> Any:
        return super().computeIoU(imgId, catId)


def timed(make: Any, repeat: int) -> tuple[float, float, Any]:
    ev_t, acc_t = [], []
    for _ in range(repeat):
        with contextlib.redirect_stdout(io.StringIO()):
            E = make()
            t0 = time.perf_counter()
            E.evaluate()
            t1 = time.perf_counter()
            E.accumulate()
            t2 = time.perf_counter()
            E.summarize()
        ev_t.append(t1 - t0)
        acc_t.append(t2 - t1)
    return statistics.median(ev_t), statistics.median(acc_t), E.stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    gt, dt = DATA / "instances_val2014_100.json", DATA / "instances_val2014_fakebbox100_results.json"
    with contextlib.redirect_stdout(io.StringIO()):
        pg = PyCOCO(str(gt))
        pd = pg.loadRes(str(dt))
    fg = COCO(gt, verbose=False)
    fd = fg.loadRes(dt, verbose=False)
    timed(lambda: IouEval(fg, fd, "bbox"), 1)  # warm-up: kernels compiled or read from cache
    rows = [
        ("pycocotools", lambda: PyCOCOeval(pg, pd, "bbox")),
        ("pycocotools, computeIoU subclass", lambda: PyIouEval(pg, pd, "bbox")),
        ("fastdet, evaluateImg subclass (loop)", lambda: LoopEval(fg, fd, "bbox")),
        ("fastdet, computeIoU subclass (kernels)", lambda: IouEval(fg, fd, "bbox")),
        ("fastdet, no override", lambda: COCOeval(fg, fd, "bbox")),
    ]
    ref_total = None
    ref_stats = None
    print(f"{'evaluator':40s} {'evaluate':>9s} {'accumulate':>11s} {'x pycocotools':>14s}  stats equal")
    for name, make in rows:
        ev, acc, stats = timed(make, args.repeat)
        if ref_total is None:
            ref_total, ref_stats = ev + acc, stats
        same = np.array_equal(stats, ref_stats)
        print(f"{name:40s} {ev:8.3f}s {acc:10.3f}s {ref_total / (ev + acc):13.1f}x  {same}")


if __name__ == "__main__":
    main()
