"""Time fastdet's COCO keypoint evaluation (OKS) beside pycocotools and the native peers, in one process.

On the COCO-person-keypoints-val2017-scale set of
``bench/make_coco_keypoints_synthetic.py`` (5000 images, ~11.6k persons with 17
keypoints, 100k keypoint results written as float32 17-digit floats), for each
evaluator that imports and supports ``iouType="keypoints"`` (fastdet,
pycocotools, faster-coco-eval, hotcoco, ultrafast-pycocotools; one that fails
on keypoints is reported and left out), it measures:

- load: ``COCO(gt.json)`` + ``loadRes(dt.json)``
- eval: ``evaluate()`` + ``accumulate()``
- e2e: load + eval + ``summarize()``

after one untimed warm-up run for all but pycocotools (fastdet's Numba kernels
load from their cache, imports, allocator), ``--repeat`` rounds in which the
evaluators take turns (pycocotools and faster-coco-eval: the first round only),
and prints the medians, the ratios to fastdet, and whether the 10 stats equal
pycocotools'.

Usage::

    python bench/compare_coco_keypoints.py [--images 5000] [--repeat 3] [--skip pycocotools] [--json out.json]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import make_coco_keypoints_synthetic
from compare_coco import IMPLEMENTATIONS, NATIVE_PEERS

SLOW = ("pycocotools", "faster-coco-eval")  # timed once: tens of seconds per run


def run_once(coco_cls: Any, eval_cls: Any, gt: Path, dt: Path) -> tuple[dict[str, float], np.ndarray]:
    """One load / evaluate+accumulate / summarize pass; returns timings and stats."""
    with contextlib.redirect_stdout(io.StringIO()):
        t0 = time.perf_counter()
        cg = coco_cls(str(gt))
        cd = cg.loadRes(str(dt))
        t1 = time.perf_counter()
        e = eval_cls(cg, cd, "keypoints")
        e.evaluate()
        e.accumulate()
        t2 = time.perf_counter()
        e.summarize()
        t3 = time.perf_counter()
    return {"load": t1 - t0, "eval": t2 - t1, "e2e": t3 - t0}, np.asarray(e.stats, float)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip", nargs="*", default=[], help="evaluators to leave out")
    parser.add_argument(
        "--repeat", type=int, default=3, help="timed rounds (pycocotools, faster-coco-eval: 1)"
    )
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    args = parser.parse_args()
    folder = make_coco_keypoints_synthetic.default_dir(args.seed, args.images)
    gt, dt = make_coco_keypoints_synthetic.write(folder, args.images, args.seed)
    data = json.loads(gt.read_text())
    n_gt = len(data["annotations"])
    n_kp = sum(a["num_keypoints"] > 0 for a in data["annotations"])
    print(
        f"data: {len(data['images'])} images, {n_gt} person GTs ({n_kp} with keypoints), "
        f"results {dt.stat().st_size / 1e6:.0f} MB ({gt})"
    )
    del data
    loaded: dict[str, tuple[Any, Any, str]] = {}
    for name, load in IMPLEMENTATIONS.items():
        if name in args.skip:
            continue
        try:
            loaded[name] = load()
        except ImportError as exc:
            print(f"  {name}: not installed ({exc})")
            continue
        if name == "pycocotools":
            continue
        try:  # warm-up: imports, caches, allocator; a peer without keypoint support fails here
            run_once(loaded[name][0], loaded[name][1], gt, dt)
        except Exception as exc:
            why = f"{type(exc).__name__}: {exc}"
            print(f"  {name} {loaded[name][2]}: skipped, keypoints not supported ({why})")
            del loaded[name]
    # the evaluators take turns (one run of each per round), so that a change in the machine's load
    # falls on all of them alike; the slow ones run once
    times: dict[str, list[dict[str, float]]] = {name: [] for name in loaded}
    stats: dict[str, np.ndarray] = {}
    for round_ in range(args.repeat):
        for name, (coco_cls, eval_cls, _) in loaded.items():
            if round_ and name in SLOW:
                continue
            one, stats[name] = run_once(coco_cls, eval_cls, gt, dt)
            times[name].append(one)
    rows: dict[str, dict[str, Any]] = {}
    for name, (_, _, version) in loaded.items():
        med = {k: statistics.median(t[k] for t in times[name]) for k in times[name][0]}
        rows[name] = {"version": version, **med, "runs": len(times[name]), "stats": stats[name]}
        print(f"  {name} {version}: " + ", ".join(f"{k} {v:.3f} s" for k, v in med.items()))
    fast = rows["fastdet"]
    ref = rows.get("pycocotools")
    head = (
        f"{'evaluator':<30}{'load':>8}{'eval':>8}{'e2e':>8}{'load/fd':>9}{'eval/fd':>9}{'e2e/fd':>8}  stats"
    )
    print()
    print(head)
    print("-" * len(head))
    for name, row in rows.items():
        if ref is None:
            same = "(no pycocotools)"
        else:
            diff = float(np.max(np.abs(row["stats"] - ref["stats"])))
            row["stats_max_abs_diff"] = diff
            same = "equal" if diff == 0 else "within 1e-12" if diff <= 1e-12 else f"DIFFERENT {diff:.1e}"
        print(
            f"{name + ' ' + row['version']:<30}{row['load']:>8.3f}{row['eval']:>8.3f}{row['e2e']:>8.3f}"
            f"{row['load'] / fast['load']:>9.2f}{row['eval'] / fast['eval']:>9.2f}"
            f"{row['e2e'] / fast['e2e']:>8.2f}  {same}"
        )
    peers = [n for n in NATIVE_PEERS if n in rows]
    if peers:
        best = min(peers, key=lambda n: rows[n]["e2e"])
        best_eval = min(peers, key=lambda n: rows[n]["eval"])
        e2e, ev = rows[best]["e2e"] / fast["e2e"], rows[best_eval]["eval"] / fast["eval"]
        print(
            f"fastdet vs the fastest native peer: end to end {e2e:.2f}x ({best}), "
            f"evaluate+accumulate {ev:.2f}x ({best_eval})"
        )
    if ref is not None:
        e2e, ev = ref["e2e"] / fast["e2e"], ref["eval"] / fast["eval"]
        print(f"fastdet vs pycocotools: end to end {e2e:.1f}x, evaluate+accumulate {ev:.1f}x")
    if args.json:
        out = {
            n: {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in r.items()}
            for n, r in rows.items()
        }
        args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
