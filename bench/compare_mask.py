"""Time fastdet.mask beside pycocotools.mask in one process, on COCO-like masks.

Usage::

    python bench/compare_mask.py                  # 1000 objects on a 1000 x 1000 image, 25 repeats
    python bench/compare_mask.py --repeats 5 --objects 1000 --size 1000 --json out.json

The objects are random star-shaped polygons (8-40 vertices, coordinates with
2 decimals, as in COCO files) whose sides are log-uniform between 8 px and
60 % of the image, rasterised by pycocotools; detections are the same objects
with jittered vertices. Every call is made once to warm up (JIT compilation),
then ``--repeats`` times; the table gives medians, the ratio pycocotools /
fastdet (> 1: fastdet is faster) and whether both returned the same thing.
``--threads 1`` (or ``NUMBA_NUM_THREADS=1``) runs fastdet's one-thread kernels
only: on a 2-core machine that other processes share, starting a parallel
region can wait for a core for tens of milliseconds. ``--cpu`` (with
``--threads 1``) times this process's CPU time instead of wall time, which a
busy machine inflates far less (a call preempted for a time slice is not
charged for the wait).

pycocotools 2.0.11 with NumPy 2 cannot take ``area`` of more than 255 RLEs
(``np.array((n,), dtype=np.uint8)`` overflows), so its ``area`` row is four
calls of 250.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from fastdet import mask as fm
from fastdet._kernels import _threads as _kernel_threads


def coco_like_polygons(n: int, h: int, w: int, seed: int = 0, jitter: float = 0.0) -> list[list[float]]:
    """``n`` star-shaped polygons with COCO-like sizes; ``jitter`` moves vertices by that fraction."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        side = float(np.exp(rng.uniform(np.log(8), np.log(min(h, w) * 0.6))))
        ar = float(np.exp(rng.uniform(-0.7, 0.7)))
        rx, ry = side * np.sqrt(ar) / 2, side / np.sqrt(ar) / 2
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        k = int(rng.integers(8, 40))
        ang = np.sort(rng.uniform(0, 2 * np.pi, k))
        rad = rng.uniform(0.55, 1.0, k)
        xs = cx + rx * rad * np.cos(ang)
        ys = cy + ry * rad * np.sin(ang)
        if jitter:
            xs = xs + rng.normal(0, jitter * rx, k)
            ys = ys + rng.normal(0, jitter * ry, k)
        poly = np.stack([np.clip(xs, 0, w), np.clip(ys, 0, h)], 1).ravel()
        out.append(np.round(poly, 2).tolist())
    return out


#: The clock: wall time, or with --cpu this process's CPU time.
CLOCK = time.perf_counter


def _median_time(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    result = fn()
    times = []
    for _ in range(repeats):
        t0 = CLOCK()
        result = fn()
        times.append(CLOCK() - t0)
    return statistics.median(times), result


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return bool(np.array_equal(np.asarray(a), np.asarray(b)))
    return bool(a == b)


def run(n: int, size: int, repeats: int) -> list[dict[str, Any]]:
    import pycocotools.mask as pm

    warnings.simplefilter("ignore", DeprecationWarning)  # pycocotools' decode under NumPy 2
    h = w = size
    gt_polys = coco_like_polygons(n, h, w, seed=0)
    dt_polys = coco_like_polygons(n, h, w, seed=0, jitter=0.08)
    gt = pm.frPyObjects(gt_polys, h, w)
    dt = pm.frPyObjects(dt_polys, h, w)
    boxes = pm.toBbox(gt)
    few = 20
    dense = pm.decode(gt[:few])  # (h, w, 20) Fortran uint8, as pycocotools needs
    crowd = [int(i % 10 == 0) for i in range(n)]
    nd, ng = 100, 20  # one image's detections and ground truths, as COCO's maxDets
    pairs = range(0, n, 2)
    cases: list[tuple[str, str, Callable[[], Any], Callable[[], Any]]] = [
        ("frPyObjects", f"{n} polygons", lambda: fm.frPyObjects(gt_polys, h, w),
         lambda: pm.frPyObjects(gt_polys, h, w)),
        ("frPyObjects", f"{n} boxes", lambda: fm.frPyObjects(boxes, h, w),
         lambda: pm.frPyObjects(boxes, h, w)),
        ("encode", f"{few} masks", lambda: fm.encode(dense), lambda: pm.encode(dense)),
        ("decode", f"{few} RLEs", lambda: fm.decode(gt[:few]), lambda: pm.decode(gt[:few])),
        ("area", f"{n} RLEs", lambda: fm.area(gt),
         lambda: np.concatenate([pm.area(gt[i : i + 250]) for i in range(0, n, 250)])),
        ("toBbox", f"{n} RLEs", lambda: fm.toBbox(gt), lambda: pm.toBbox(gt)),
        ("merge", f"{n} RLEs, union", lambda: fm.merge(gt), lambda: pm.merge(gt)),
        ("merge", f"{n} RLEs, intersection", lambda: fm.merge(gt, 1), lambda: pm.merge(gt, 1)),
        ("merge", f"{n // 2} calls of 2 RLEs", lambda: [fm.merge(gt[i : i + 2]) for i in pairs],
         lambda: [pm.merge(gt[i : i + 2]) for i in pairs]),
        ("iou", f"{nd} x {ng} RLEs", lambda: fm.iou(dt[:nd], gt[:ng], crowd[:ng]),
         lambda: pm.iou(dt[:nd], gt[:ng], crowd[:ng])),
        ("iou", f"{n} x {n // 10} RLEs", lambda: fm.iou(dt, gt[: n // 10], crowd[: n // 10]),
         lambda: pm.iou(dt, gt[: n // 10], crowd[: n // 10])),
        ("iou", f"{n} x {n} RLEs", lambda: fm.iou(dt, gt, crowd), lambda: pm.iou(dt, gt, crowd)),
        ("iou", f"{n} x {n} boxes", lambda: fm.iou(boxes, boxes, crowd), lambda: pm.iou(boxes, boxes, crowd)),
    ]  # fmt: skip
    rows = []
    for name, what, ours, theirs in cases:
        reps = max(1, repeats // 3) if what == f"{n} x {n} RLEs" else repeats
        t_ours, r_ours = _median_time(ours, reps)
        time.sleep(0.2)  # let OpenMP's spinning threads go idle before the peer runs
        t_peer, r_peer = _median_time(theirs, reps)
        rows.append({
            "function": name, "input": what, "fastdet_ms": 1e3 * t_ours, "pycocotools_ms": 1e3 * t_peer,
            "ratio": t_peer / t_ours, "same": _same(r_ours, r_peer), "threads": _kernel_threads(),
        })  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=1000)
    parser.add_argument("--size", type=int, default=1000, help="image height and width")
    parser.add_argument("--repeats", type=int, default=25, help="timed calls per row (their median)")
    parser.add_argument(
        "--threads", type=int, help="kernel threads (default: all; 1 = everything on one thread)"
    )
    parser.add_argument("--cpu", action="store_true", help="time CPU time instead of wall time")
    parser.add_argument("--json", help="also write the rows to this file")
    args = parser.parse_args()
    from fastdet._kernels import thread_limit

    limit = thread_limit(args.threads) if args.threads else contextlib.nullcontext()
    limit.__enter__()  # for the whole run, in this (the only) calling thread
    if args.cpu:
        global CLOCK
        CLOCK = time.process_time
    from importlib.metadata import version

    print(
        f"fastdet.mask vs pycocotools.mask {version('pycocotools')}: {args.objects} COCO-like objects, "
        f"{args.size} x {args.size} image; medians of {args.repeats}; "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"{_kernel_threads()} kernel threads; {'CPU' if args.cpu else 'wall'} time, load average "
        f"{os.getloadavg()[0]:.1f}"
    )
    rows = run(args.objects, args.size, args.repeats)
    print(f"{'function':<12} {'input':<24} {'fastdet ms':>11} {'pycocotools ms':>15} {'ratio':>7}  same")
    for r in rows:
        print(
            f"{r['function']:<12} {r['input']:<24} {r['fastdet_ms']:>11.3f} {r['pycocotools_ms']:>15.3f} "
            f"{r['ratio']:>6.1f}x  {'yes' if r['same'] else 'NO'}"
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
