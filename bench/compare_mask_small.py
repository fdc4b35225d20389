"""Per-call time of fastdet.mask beside pycocotools.mask on one or two objects (data-loader calls).

Usage::

    python bench/compare_mask_small.py              # medians of 7 runs of n calls per row
    python bench/compare_mask_small.py --json out.json

Dataset classes call the mask API once per annotation (torchvision's
``convert_coco_poly_to_mask``, detectron2 / mmdet ``annToMask``: ``frPyObjects``
+ ``merge`` + ``decode`` or ``area``), so per-call overhead matters there, not
throughput. A 480 x 640 image; a 5-point polygon, a two-part polygon, a box, a
COCO crowd RLE and a 200 x 250 block mask. Ratio = pycocotools / fastdet (> 1:
fastdet is faster).
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pycocotools.mask as pm

import fastdet.mask as fm

H, W = 480, 640
POLY = [[100.5, 100.2, 300.1, 120.7, 320.4, 300.9, 150.3, 280.8, 90.1, 200.5]]
POLY2 = [*POLY, [400.0, 50.0, 500.0, 60.0, 450.0, 200.0]]
BOX = np.array([[10.0, 20, 30, 40]])
CROWD = {"size": [H, W], "counts": [1000, 200, H * W - 1200]}


def _per_call_us(f: Callable[[], Any], n: int) -> float:
    f()
    runs = []
    for _ in range(7):
        t0 = time.perf_counter()
        for _ in range(n):
            f()
        runs.append((time.perf_counter() - t0) / n)
    return statistics.median(runs) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="also write the rows to this file")
    args = parser.parse_args()
    block = np.zeros((H, W, 1), np.uint8, order="F")
    block[100:300, 150:400] = 1
    a = pm.merge(pm.frPyObjects(POLY, H, W))  # fastdet gives the same dicts (tests/test_mask.py)
    b = pm.encode(block)[0]
    a_str = {"size": [H, W], "counts": a["counts"].decode()}
    rows: list[tuple[str, Callable[[Any], Any], int]] = [
        ("frPyObjects(polygon list)", lambda m: m.frPyObjects(POLY, H, W), 2000),
        ("frPyObjects(2 polygons)", lambda m: m.frPyObjects(POLY2, H, W), 2000),
        ("frPyObjects(box array)", lambda m: m.frPyObjects(BOX, H, W), 2000),
        ("frPyObjects(crowd RLE)", lambda m: m.frPyObjects(CROWD, H, W), 2000),
        ("merge([one])", lambda m: m.merge([a]), 2000),
        ("merge([a, b])", lambda m: m.merge([a, b]), 2000),
        ("area(rle)", lambda m: m.area(a), 2000),
        ("area(rle, str counts)", lambda m: m.area(a_str), 2000),
        ("area([rle])", lambda m: m.area([a]), 2000),
        ("area([a, b])", lambda m: m.area([a, b]), 2000),
        ("toBbox(rle)", lambda m: m.toBbox(a), 2000),
        ("toBbox([rle])", lambda m: m.toBbox([a]), 2000),
        ("decode(rle)", lambda m: m.decode(a), 500),
        ("encode(mask h x w x 1)", lambda m: m.encode(block), 500),
        ("iou([a], [b], [0])", lambda m: m.iou([a], [b], [0]), 2000),
        ("annToRLE + area (2 polygons)", lambda m: m.area(m.merge(m.frPyObjects(POLY2, H, W))), 2000),
    ]
    print(f"{'call':30s} {'fastdet us':>10s} {'pycocotools us':>14s} {'ratio':>6s}")
    out = []
    for name, call, n in rows:
        t_f, t_p = _per_call_us(functools.partial(call, fm), n), _per_call_us(functools.partial(call, pm), n)
        print(f"{name:30s} {t_f:10.2f} {t_p:14.2f} {t_p / t_f:6.2f}", flush=True)
        out.append({"call": name, "fastdet_us": t_f, "pycocotools_us": t_p, "ratio": t_p / t_f})
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
