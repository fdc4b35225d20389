"""Time one COCO evaluation per fresh process: fastdet beside hotcoco and pycocotools.

What a script or a command line pays for one evaluation: each run is a new
Python process that imports the evaluator, loads the ground truth and the
results, evaluates, accumulates and summarizes (Numba's cache warm: run
``fastdet warmup`` or any fastdet evaluation once before). The time is taken
inside the child from before its first import to after ``summarize()``, so
the interpreter's own start-up (the same for every evaluator) is left out.
The evaluators take turns, ``--runs`` processes each; medians, and each
peer's median over fastdet's (> 1: fastdet is faster).

Usage::

    python bench/one_shot.py                     # the 5000-image bbox set of bench/compare_coco.py
    python bench/one_shot.py --set keypoints     # the keypoints set of bench/compare_coco_keypoints.py
    python bench/one_shot.py --gt GT.json --dt DT.json --iou-type segm
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

_CHILD = r"""
import contextlib, io, json, sys, time
t0 = time.perf_counter()
which, gt, dt, iou_type = sys.argv[1:5]
with contextlib.redirect_stdout(io.StringIO()):
    if which == "fastdet":
        from fastdet.coco import COCO, COCOeval
    elif which == "hotcoco":
        from hotcoco import COCO, COCOeval
    else:
        from pycocotools.coco import COCO
        from pycocotools.cocoeval import COCOeval
    g = COCO(gt)
    d = g.loadRes(dt)
    e = COCOeval(g, d, iou_type)
    e.evaluate()
    e.accumulate()
    e.summarize()
print(json.dumps({"seconds": time.perf_counter() - t0, "stats": [float(x) for x in e.stats]}))
"""


def _files(which: str) -> tuple[Path, Path, str]:
    """The synthetic 5000-image set of the COCO (bbox) or keypoints benchmark, made once."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    if which == "keypoints":
        import make_coco_keypoints_synthetic as mk

        gt, dt = mk.write(mk.default_dir())
        return gt, dt, "keypoints"
    import make_coco_synthetic as ms

    gt, dt = ms.write(ms.default_dir())
    return gt, dt, "bbox"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--set", choices=["bbox", "keypoints"], default="bbox")
    parser.add_argument("--gt", type=Path, help="ground truth (with --dt: instead of --set)")
    parser.add_argument("--dt", type=Path, help="results")
    parser.add_argument("--iou-type", default="bbox", choices=["bbox", "segm", "keypoints"])
    parser.add_argument("--runs", type=int, default=5, help="fresh processes per evaluator")
    parser.add_argument("--peers", nargs="*", default=["hotcoco"], help="also: pycocotools")
    args = parser.parse_args()
    gt, dt, iou_type = (args.gt, args.dt, args.iou_type) if args.gt and args.dt else _files(args.set)
    which = ["fastdet", *args.peers]
    seconds: dict[str, list[float]] = {w: [] for w in which}
    stats: dict[str, list[float]] = {}
    for _ in range(args.runs):
        for w in which:
            out = subprocess.run(
                [sys.executable, "-c", _CHILD, w, str(gt), str(dt), iou_type],
                capture_output=True, text=True, check=False,
            )  # fmt: skip
            if out.returncode != 0:
                print(f"{w}: failed ({out.stderr.strip().splitlines()[-1:]}); left out")
                which.remove(w)
                continue
            got = json.loads(out.stdout.strip().splitlines()[-1])
            seconds[w].append(got["seconds"])
            stats[w] = got["stats"]
    print(f"{gt.name} + {dt.name} ({iou_type}): one evaluation per fresh process, {args.runs} processes each")
    base = statistics.median(seconds["fastdet"])
    for w in which:
        med = statistics.median(seconds[w])
        same = "stats equal fastdet's" if stats[w] == stats["fastdet"] else "stats DIFFER"
        runs = ", ".join(f"{s:.3f}" for s in seconds[w])
        print(f"  {w:12s} median {med:.3f} s  x {med / base:5.2f}  ({runs})  {same}")


if __name__ == "__main__":
    main()
