"""Per-call time of fastdet.mask beside pycocotools.mask on one or two objects (data-loader calls).

Usage::

    python bench/compare_mask_small.py              # medians of 7 passes over 200 objects per row
    python bench/compare_mask_small.py --json out.json

Dataset classes call the mask API once per annotation (torchvision's
``convert_coco_poly_to_mask``, detectron2 / mmdet ``annToMask``: ``frPyObjects``
+ ``merge`` + ``decode`` or ``area``), so per-call overhead matters there, not
throughput. A 480 x 640 image and 200 different COCO-like objects per row (the
star-shaped polygons of ``bench/compare_mask.py``: 8-40 vertices with 2
decimals, sides log-uniform from 8 px to 60 % of the image; their RLEs; boxes;
COCO crowd RLEs), each call on the next object. Ratio = pycocotools / fastdet
(> 1: fastdet is faster); "same": every object's result equal.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pycocotools.mask as pm

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from compare_mask import _same, coco_like_polygons

import fastdet.mask as fm

H, W = 480, 640
N_OBJECTS = 200


def _per_call_us(call: Callable[[Any, int], Any], m: Any) -> tuple[float, list[Any]]:
    """Median over 7 passes of the time per call, each pass calling once per object; the results."""
    results = [call(m, i) for i in range(N_OBJECTS)]
    runs = []
    for _ in range(7):
        t0 = time.perf_counter()
        for i in range(N_OBJECTS):
            call(m, i)
        runs.append((time.perf_counter() - t0) / N_OBJECTS)
    return statistics.median(runs) * 1e6, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="also write the rows to this file")
    args = parser.parse_args()
    polys = coco_like_polygons(2 * N_OBJECTS, H, W, seed=1)
    one = [[p] for p in polys[:N_OBJECTS]]
    two = [[p, q] for p, q in zip(polys[:N_OBJECTS], polys[N_OBJECTS:], strict=True)]
    a = [pm.merge(pm.frPyObjects(p, H, W)) for p in one]  # fastdet gives the same dicts (tests/test_mask.py)
    b = [pm.merge(pm.frPyObjects(p, H, W)) for p in [[q] for q in polys[N_OBJECTS:]]]
    a_str = [{"size": r["size"], "counts": r["counts"].decode()} for r in a]
    boxes = [np.asarray(pm.toBbox(r), np.float64).reshape(1, 4) for r in a]
    crowd = [{"size": [H, W], "counts": [int(v) for v in run]} for run in _runs(a)]
    blocks = [np.asfortranarray(pm.decode([r])) for r in a[:20]]
    rows: list[tuple[str, Callable[[Any, int], Any]]] = [
        ("frPyObjects(polygon list)", lambda m, i: m.frPyObjects(one[i], H, W)),
        ("frPyObjects(2 polygons)", lambda m, i: m.frPyObjects(two[i], H, W)),
        ("frPyObjects(box array)", lambda m, i: m.frPyObjects(boxes[i], H, W)),
        ("frPyObjects(crowd RLE)", lambda m, i: m.frPyObjects(crowd[i], H, W)),
        ("merge([one])", lambda m, i: m.merge([a[i]])),
        ("merge([a, b])", lambda m, i: m.merge([a[i], b[i]])),
        ("area(rle)", lambda m, i: m.area(a[i])),
        ("area(rle, str counts)", lambda m, i: m.area(a_str[i])),
        ("area([rle])", lambda m, i: m.area([a[i]])),
        ("area([a, b])", lambda m, i: m.area([a[i], b[i]])),
        ("toBbox(rle)", lambda m, i: m.toBbox(a[i])),
        ("toBbox([rle])", lambda m, i: m.toBbox([a[i]])),
        ("decode(rle)", lambda m, i: m.decode(a[i])),
        ("encode(mask h x w x 1)", lambda m, i: m.encode(blocks[i % len(blocks)])),
        ("iou([a], [b], [0])", lambda m, i: m.iou([a[i]], [b[i]], [0])),
        ("annToRLE + area (2 polygons)", lambda m, i: m.area(m.merge(m.frPyObjects(two[i], H, W)))),
    ]
    print(f"{'call':30s} {'fastdet us':>10s} {'pycocotools us':>14s} {'ratio':>6s}  same")
    out = []
    for name, call in rows:
        (t_f, got), (t_p, want) = _per_call_us(call, fm), _per_call_us(call, pm)
        same = all(_same(x, y) for x, y in zip(got, want, strict=True))
        print(f"{name:30s} {t_f:10.2f} {t_p:14.2f} {t_p / t_f:6.2f}  {'yes' if same else 'NO'}", flush=True)
        out.append({"call": name, "fastdet_us": t_f, "pycocotools_us": t_p, "ratio": t_p / t_f, "same": same})
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


def _runs(rles: list[Any]) -> list[np.ndarray]:
    """Uncompressed run lengths of ``rles`` (COCO's crowd form), from their decoded masks."""
    out = []
    for r in rles:
        flat = pm.decode([r])[:, :, 0].ravel(order="F")
        change = np.flatnonzero(np.diff(flat)) + 1
        edges = np.concatenate(([0], change, [flat.size]))
        runs = np.diff(edges)
        out.append(np.concatenate(([0], runs)) if flat[0] else runs)
    return out


if __name__ == "__main__":
    main()
