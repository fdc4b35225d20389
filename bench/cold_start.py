"""First-run and warm-cache start-up of fresh interpreters: the figures of issue 10's targets.

Usage::

    python bench/cold_start.py                     # 3 interleaved rounds of every case
    python bench/cold_start.py --rounds 5
    python bench/cold_start.py --tree /path/to/other/checkout   # the same for another fastdet

Cases, each a fresh ``python -c``:

- ``import numpy, numba``: the baseline;
- ``import fastdet`` + first ``nms`` on an empty ``NUMBA_CACHE_DIR`` (everything compiled);
- ``import fastdet`` + first call of ``nms``, ``batched_nms``, ``soft_nms``, ``box_iou``,
  ``multiclass_nms``, ``postprocess_detections`` (float32, as bench/compare.py), on an empty
  cache and then on the cache that run filled (warm).

Rounds interleave the cases so that a change in machine load hits all of them. The
table gives the median wall time and the median CPU time (user + system of the child):
on a shared machine the CPU time is the steadier figure.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

FIRST_NMS = """
import numpy as np
import fastdet
fastdet.nms(np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]], float), [0.9, 0.8, 0.7], 0.5)
"""

SIX_CALLS = """
import numpy as np
import fastdet
b = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]], np.float32)
s = np.array([0.9, 0.8, 0.7], np.float32)
fastdet.nms(b, s, 0.5)
fastdet.batched_nms(b, s, np.array([0, 1, 0]), 0.5)
fastdet.soft_nms(b, s)
fastdet.box_iou(b, b)
fastdet.multiclass_nms(b, np.stack([s, s], 1))
fastdet.postprocess_detections(np.concatenate([b, s[:, None]], 1)[None])
"""


def run(code: str, env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of ``python -c code``, run in the checkout (``python -c`` imports from there)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    cwd = env["PYTHONPATH"]
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=cwd, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tree", default=str(ROOT), help="the checkout whose fastdet to import")
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_")}
    env["PYTHONPATH"] = args.tree
    cases: dict[str, list[tuple[float, float]]] = {
        "import numpy, numba": [],
        "import fastdet + nms, empty cache": [],
        "import fastdet + 6 calls, empty cache": [],
        "import fastdet + 6 calls, warm cache": [],
    }
    for _ in range(args.rounds):
        cases["import numpy, numba"].append(run("import numpy, numba", env))
        with tempfile.TemporaryDirectory() as cache:
            e = {**env, "NUMBA_CACHE_DIR": cache}
            cases["import fastdet + nms, empty cache"].append(run(FIRST_NMS, e))
        with tempfile.TemporaryDirectory() as cache:
            e = {**env, "NUMBA_CACHE_DIR": cache}
            cases["import fastdet + 6 calls, empty cache"].append(run(SIX_CALLS, e))
            for _ in range(2):
                cases["import fastdet + 6 calls, warm cache"].append(run(SIX_CALLS, e))
    print(f"fastdet from {args.tree}; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    base_wall = statistics.median(w for w, _ in cases["import numpy, numba"])
    base_cpu = statistics.median(c for _, c in cases["import numpy, numba"])
    print(f"{'case':<40} {'wall s':>7} {'x base':>7} {'cpu s':>7} {'x base':>7}")
    for name, runs in cases.items():
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        print(f"{name:<40} {wall:7.2f} {wall / base_wall:7.2f} {cpu:7.2f} {cpu / base_cpu:7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
