"""Time fastdet's COCO segm (mask) evaluation beside pycocotools and the native peers, in one process.

For each evaluator that imports (fastdet, pycocotools, faster-coco-eval,
hotcoco, ultrafast-pycocotools) it measures, on the synthetic set of
``bench/make_coco_masks.py`` (5000 images, polygon ground truth, Mask R-CNN-style
compressed-RLE results with boxes) and on cocoapi's fakesegm100 (``data/``):

- load: ``COCO(gt.json)`` + ``loadRes(results.json)``
- eval: ``COCOeval(gt, dt, "segm")``, ``evaluate()`` + ``accumulate()``
- e2e: load + eval + ``summarize()``

one timed run each (``--repeat`` for more; fakesegm100: at least 5; the median
is printed), after one untimed pass of every evaluator but pycocotools on the same
set (imports, caches, Numba kernels loaded; fastdet's first call, on 200 images,
is printed separately). It prints the times, the speed-up over pycocotools,
each evaluator's time over fastdet's, fastdet against the fastest native peer,
and whether the 12 stats equal pycocotools'.

Usage::

    python bench/compare_coco_segm.py                      # 5000 images and fakesegm100
    python bench/compare_coco_segm.py --images 1000 --repeat 3
    python bench/compare_coco_segm.py --skip pycocotools   # without the slow pycocotools run
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import make_coco_masks
from compare_coco import IMPLEMENTATIONS, NATIVE_PEERS

DATA = Path(__file__).resolve().parent.parent / "data"
FAKE100 = (
    DATA / "coco-val2014-fake100/instances_val2014_100.json",
    DATA / "coco-val2014-fakesegm100/instances_val2014_fakesegm100_results.json",
)


def run_once(coco_cls: Any, eval_cls: Any, gt: Path, dt: Path) -> tuple[dict[str, float], np.ndarray]:
    """One load / evaluate+accumulate / summarize pass; returns timings and stats."""
    with contextlib.redirect_stdout(io.StringIO()):
        t0 = time.perf_counter()
        cg = coco_cls(str(gt))
        cd = cg.loadRes(str(dt))
        t1 = time.perf_counter()
        e = eval_cls(cg, cd, "segm")
        e.evaluate()
        e.accumulate()
        t2 = time.perf_counter()
        e.summarize()
        t3 = time.perf_counter()
    return {"load": t1 - t0, "eval": t2 - t1, "e2e": t3 - t0}, np.asarray(e.stats, float)


def time_set(
    label: str, gt: Path, dt: Path, loaded: dict[str, tuple[Any, Any, str]], repeat: int
) -> dict[str, dict[str, Any]]:
    """Median timings and stats of every evaluator (taking turns, one run of each per round)."""
    times: dict[str, dict[str, list[float]]] = {name: {} for name in loaded}
    stats: dict[str, np.ndarray] = {}
    for _ in range(repeat):
        for name, (coco_cls, eval_cls, _) in loaded.items():
            one, stats[name] = run_once(coco_cls, eval_cls, gt, dt)
            for key, value in one.items():
                times[name].setdefault(key, []).append(value)
    rows: dict[str, dict[str, Any]] = {}
    for name, (_, _, version) in loaded.items():
        medians = {k: statistics.median(v) for k, v in times[name].items()}
        rows[name] = {"version": version, **medians, "stats": stats[name]}
        print(f"  [{label}] {name} {version}: " + ", ".join(f"{k} {v:.3f} s" for k, v in medians.items()))
    return rows


def print_table(label: str, rows: dict[str, dict[str, Any]]) -> None:
    head = (
        f"{'set':<12}{'evaluator':<30}{'load':>8}{'eval':>8}{'e2e':>8}{'e2e x pyc':>10}"
        f"{'eval/fastdet':>13}{'e2e/fastdet':>12}  stats vs pycocotools"
    )
    print(head)
    print("-" * len(head))
    ref = rows.get("pycocotools", rows["fastdet"])
    fast = rows["fastdet"]
    for name, row in rows.items():
        diff = float(np.max(np.abs(row["stats"] - ref["stats"])))
        same = "equal" if diff == 0 else "within 1e-12" if diff <= 1e-12 else f"DIFFERENT {diff:.1e}"
        if "pycocotools" not in rows:
            same = "(no pycocotools)"
        vs_pyc = f"{rows['pycocotools']['e2e'] / row['e2e']:.1f}x" if "pycocotools" in rows else "-"
        print(
            f"{label:<12}{name + ' ' + row['version']:<30}{row['load']:>8.3f}{row['eval']:>8.3f}"
            f"{row['e2e']:>8.3f}{vs_pyc:>10}{row['eval'] / fast['eval']:>13.2f}"
            f"{row['e2e'] / fast['e2e']:>12.2f}  {same}"
        )
    peers = [n for n in NATIVE_PEERS if n in rows]
    if peers:
        best = min(peers, key=lambda n: rows[n]["e2e"])
        best_eval = min(peers, key=lambda n: rows[n]["eval"])
        e2e, ev = rows[best]["e2e"] / fast["e2e"], rows[best_eval]["eval"] / fast["eval"]
        print(
            f"{label:<12}fastdet vs the fastest native peer: end to end {e2e:.2f}x ({best}), "
            f"evaluate+accumulate {ev:.2f}x ({best_eval})"
        )
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-per-image", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--skip", nargs="*", default=[], help="evaluators to leave out")
    parser.add_argument("--no-fake100", action="store_true", help="leave out cocoapi's fakesegm100")
    args = parser.parse_args()
    folder = make_coco_masks.default_dir(args.seed, args.images, args.max_per_image)
    gt, dt = make_coco_masks.write(folder, args.images, args.seed, args.max_per_image)
    print(
        f"data: {args.images} images, gt {gt.stat().st_size / 2**20:.1f} MiB, "
        f"results {dt.stat().st_size / 2**20:.1f} MiB in {folder}"
    )
    # warm-up (untimed for the table): 200 images, enough for the kernels' parallel paths
    tiny = make_coco_masks.write(make_coco_masks.default_dir(1, 200, 100), 200, 1, 100)
    coco_cls, eval_cls, _ = IMPLEMENTATIONS["fastdet"]()
    t = time.perf_counter()
    run_once(coco_cls, eval_cls, *tiny)
    print(f"fastdet first call (kernel load/compile, 200 images): {time.perf_counter() - t:.2f} s")
    loaded: dict[str, tuple[Any, Any, str]] = {}
    for name, load in IMPLEMENTATIONS.items():
        if name in args.skip:
            continue
        try:
            loaded[name] = load()
        except ImportError as exc:
            print(f"{name}: not installed ({exc})")
    sets = {f"synth{args.images}": (gt, dt)}
    if not args.no_fake100:
        sets["fakesegm100"] = FAKE100
    results = {}
    for label, (g, d) in sets.items():
        for name, (c, e, _) in loaded.items():  # untimed pass on the set itself: imports, caches, kernels
            if name != "pycocotools":
                run_once(c, e, g, d)
        repeat = args.repeat if label != "fakesegm100" else max(args.repeat, 5)
        results[label] = time_set(label, g, d, loaded, repeat)
    print()
    for label, rows in results.items():
        print_table(label, rows)


if __name__ == "__main__":
    main()
