"""Throughput of the hot entry points in this checkout against an earlier commit, in one run.

Usage::

    python bench/before_after.py                  # against bfcaadd (fastdet 0.1.0), 5 rounds
    python bench/before_after.py --ref HEAD~3 --rounds 7

The earlier commit is checked out into a temporary git worktree. Every round runs one
fresh interpreter per tree (each with its own warm ``NUMBA_CACHE_DIR``, filled by a
first untimed round), alternating the trees so that a change in machine load hits both;
a child times each case (median of 7 calls after a warm-up call) on the same inputs.
The table gives the median over rounds in milliseconds and ``after / before``
(below 1: faster now). Cases: ``nms`` and ``batched_nms`` on 20k clustered float32
boxes (bench/generate.py), ``box_iou`` 3k x 3k, and COCO bbox evaluation
(``COCOeval`` evaluate + accumulate) on the bundled 100-image set.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import io, json, statistics, sys, time, contextlib
import numpy as np
sys.path.insert(0, BENCH)
from generate import clustered_boxes
import fastdet
from fastdet.coco import COCO, COCOeval

def timed(fn):
    fn()
    out = []
    for _ in range(7):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return statistics.median(out) * 1e3

boxes, scores, labels = clustered_boxes(20000, n_classes=80, seed=0)
b3 = np.ascontiguousarray(boxes[:3000])
gt = COCO(DATA + "/instances_val2014_100.json", verbose=False)
dt = gt.loadRes(DATA + "/instances_val2014_fakebbox100_results.json")

def coco():
    with contextlib.redirect_stdout(io.StringIO()):
        ev = COCOeval(gt, dt, "bbox")
        ev.evaluate()
        ev.accumulate()

res = {
    "nms 20k": timed(lambda: fastdet.nms(boxes, scores, 0.5)),
    "batched_nms 20k": timed(lambda: fastdet.batched_nms(boxes, scores, labels, 0.5)),
    "box_iou 3k x 3k": timed(lambda: fastdet.box_iou(b3, b3)),
    "COCO eval fake100": timed(coco),
}
res["file"] = fastdet.__file__
print(json.dumps(res))
"""


def _run(tree: Path, cache: Path) -> dict[str, float]:
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache), PYTHONPATH=str(tree))
    code = CHILD.replace("BENCH", repr(str(ROOT / "bench"))).replace(
        "DATA", repr(str(ROOT / "data" / "coco-val2014-fake100"))
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=tree, capture_output=True, text=True, check=True
    )
    res = json.loads(out.stdout.strip().splitlines()[-1])
    if not Path(res.pop("file")).resolve().is_relative_to(tree.resolve()):
        raise RuntimeError(f"the child imported fastdet from outside {tree}")
    return res


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ref", default="bfcaadd", help="the earlier commit (default: fastdet 0.1.0)")
    p.add_argument("--rounds", type=int, default=5)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        before = Path(tmp) / "before"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(before), args.ref],
            check=True, capture_output=True,
        )  # fmt: skip
        try:
            trees = {"before": before, "after": ROOT}
            caches = {name: Path(tmp) / f"cache-{name}" for name in trees}
            for name, tree in trees.items():  # fill each cache, untimed
                _run(tree, caches[name])
            rounds: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
            for r in range(args.rounds):
                for name in trees if r % 2 == 0 else reversed(list(trees)):
                    rounds[name].append(_run(trees[name], caches[name]))
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(before)], check=False
            )
    print(f"before = {args.ref}, after = this checkout; median of {args.rounds} rounds, ms")
    print("| case | before | after | after / before |\n|---|---|---|---|")
    for case in rounds["after"][0]:
        b = statistics.median(x[case] for x in rounds["before"])
        a = statistics.median(x[case] for x in rounds["after"])
        print(f"| {case} | {b:.2f} | {a:.2f} | {a / b:.2f} |")


if __name__ == "__main__":
    main()
