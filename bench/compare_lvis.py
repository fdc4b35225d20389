"""Time fastdet's LVIS evaluation beside lvis-api and faster-coco-eval's LVIS mode, in one process.

On the synthetic LVIS-v1-scale set of ``bench/make_lvis_synthetic.py`` (5000
images, 1203 categories, up to 300 detections per image) it measures, for each
evaluator that imports:

- load: ground truth + results (``LVIS`` + ``LVISResults``; faster-coco-eval:
  ``COCO`` + ``loadRes``)
- eval: ``evaluate()`` + ``accumulate()``
- e2e: load + eval + ``summarize()``

and prints medians, the speed-up over lvis-api and whether the 13 numbers
equal lvis-api's (max |difference|). lvis-api is the PyPI package ``lvis``
0.5.3 run with ``np.float = float`` set for the call (its ``accumulate`` uses the
alias NumPy 1.24 removed; the GitHub source fixed it, unreleased);
faster-coco-eval runs as in its LVIS test (``COCOeval_faster(..., lvis_style=True)``,
``params.maxDets = [300]``). The set has at most 300 detections per image, so
LVIS's per-image cap, which faster-coco-eval does not apply, changes nothing.
fastdet's kernels are loaded (compiled or read from cache) by a warm-up call
on a tiny set first; that first-call time is printed separately.

Usage::

    python bench/compare_lvis.py                       # 5000 images; lvis-api once (minutes)
    python bench/compare_lvis.py --images 1000 --repeat 5 --json out.json
    python bench/compare_lvis.py --skip lvis-api       # without the slow reference
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import statistics
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import make_lvis_synthetic

KEYS = [
    "AP",
    "AP50",
    "AP75",
    "APs",
    "APm",
    "APl",
    "APr",
    "APc",
    "APf",
    "AR@300",
    "ARs@300",
    "ARm@300",
    "ARl@300",
]
FCE_KEYS = ["AP_all", "AP_50", "AP_75", "AP_small", "AP_medium", "AP_large", "APr", "APc", "APf",
            "AR_all", "AR_small", "AR_medium", "AR_large"]  # fmt: skip


@contextlib.contextmanager
def numpy_float_alias() -> Iterator[None]:
    """``np.float = float`` for lvis 0.5.3 under NumPy 2, removed again afterwards."""
    namespace = vars(np)
    had, old = "float" in namespace, namespace.get("float")
    namespace["float"] = float
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # its Logger.warn calls
            yield
    finally:
        if had:
            namespace["float"] = old
        else:
            del namespace["float"]


def run_fastdet(gt: Path, dt: Path) -> tuple[dict[str, float], list[float]]:
    from fastdet.lvis import LVIS, LVISEval, LVISResults

    t0 = time.perf_counter()
    g = LVIS(gt)
    d = LVISResults(g, dt)
    t1 = time.perf_counter()
    e = LVISEval(g, d, "bbox")
    e.evaluate()
    e.accumulate()
    t2 = time.perf_counter()
    e.summarize()
    t3 = time.perf_counter()
    return _times(t0, t1, t2, t3), [float(e.results[k]) for k in KEYS]


def run_lvis_api(gt: Path, dt: Path) -> tuple[dict[str, float], list[float]]:
    import lvis

    with numpy_float_alias():
        t0 = time.perf_counter()
        g = lvis.LVIS(str(gt))
        d = lvis.LVISResults(g, str(dt))
        t1 = time.perf_counter()
        e = lvis.LVISEval(g, d, "bbox")
        e.evaluate()
        e.accumulate()
        t2 = time.perf_counter()
        e.summarize()
        t3 = time.perf_counter()
    return _times(t0, t1, t2, t3), [float(e.results[k]) for k in KEYS]


def run_faster_coco_eval(gt: Path, dt: Path) -> tuple[dict[str, float], list[float]]:
    from faster_coco_eval import COCO, COCOeval_faster

    with contextlib.redirect_stdout(io.StringIO()):
        t0 = time.perf_counter()
        g = COCO(str(gt))
        d = g.loadRes(str(dt))
        t1 = time.perf_counter()
        e = COCOeval_faster(g, d, "bbox", lvis_style=True, print_function=lambda *a, **k: None)
        e.params.maxDets = [300]
        e.evaluate()
        e.accumulate()
        t2 = time.perf_counter()
        e.summarize()
        t3 = time.perf_counter()
    stats = e.stats_as_dict
    return _times(t0, t1, t2, t3), [float(stats[k]) for k in FCE_KEYS]


def _times(t0: float, t1: float, t2: float, t3: float) -> dict[str, float]:
    return {"load": t1 - t0, "eval": t2 - t1, "summarize": t3 - t2, "e2e": t3 - t0}


def _version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "?"


RUNNERS: dict[str, tuple[str, Callable[[Path, Path], tuple[dict[str, float], list[float]]]]] = {
    "fastdet": ("fastdet", run_fastdet),
    "lvis-api": ("lvis", run_lvis_api),
    "faster-coco-eval": ("faster-coco-eval", run_faster_coco_eval),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of fastdet and faster-coco-eval")
    parser.add_argument("--lvis-api-repeat", type=int, default=1)
    parser.add_argument("--skip", nargs="*", default=[], help="evaluators to leave out")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    args = parser.parse_args()
    gt, dt = make_lvis_synthetic.write(
        make_lvis_synthetic.default_dir(args.seed, args.images), args.images, args.seed
    )
    gt_data = json.loads(gt.read_text())
    n_gt, n_dt = len(gt_data["annotations"]), len(json.loads(dt.read_text()))
    del gt_data
    print(f"data: {args.images} images, 1203 categories, {n_gt} GT, {n_dt} detections ({gt.parent})")

    tiny_gt, tiny_dt = make_lvis_synthetic.write(make_lvis_synthetic.default_dir(1, 20), 20, 1)
    t = time.perf_counter()
    run_fastdet(tiny_gt, tiny_dt)
    print(f"fastdet first call (kernel load/compile, tiny set): {time.perf_counter() - t:.2f} s")

    rows: dict[str, dict[str, Any]] = {}
    for name, (dist, runner) in RUNNERS.items():
        if name in args.skip:
            continue
        try:
            __import__(
                {"fastdet": "fastdet", "lvis-api": "lvis", "faster-coco-eval": "faster_coco_eval"}[name]
            )
        except ImportError as exc:
            print(f"{name}: not installed ({exc})")
            continue
        repeat = args.lvis_api_repeat if name == "lvis-api" else args.repeat
        if name != "lvis-api":  # one untimed pass: imports, caches, allocator warm-up
            runner(gt, dt)
        times: dict[str, list[float]] = {}
        stats: list[float] = []
        for _ in range(repeat):
            one, stats = runner(gt, dt)
            for key, value in one.items():
                times.setdefault(key, []).append(value)
        rows[name] = {
            "version": _version(dist),
            **{k: statistics.median(v) for k, v in times.items()},
            "stats": stats,
        }
        print(f"  {name} {rows[name]['version']}: " + ", ".join(f"{k} {rows[name][k]:.3f} s" for k in times))

    ref_name = "lvis-api" if "lvis-api" in rows else "fastdet"
    ref = np.array(rows[ref_name]["stats"])
    base = rows.get("lvis-api")
    fast = rows["fastdet"]
    print()
    print(f"{'evaluator':<26}{'load s':>9}{'eval s':>9}{'e2e s':>9}{'eval x lvis':>13}{'e2e x lvis':>12}"
          f"{'e2e/fastdet':>13}  13 numbers vs {ref_name}")  # fmt: skip
    for name, row in rows.items():
        diff = float(np.max(np.abs(np.array(row["stats"]) - ref)))
        row["stats_max_abs_diff"] = diff
        sp_eval = f"{base['eval'] / row['eval']:.0f}x" if base else "-"
        sp_e2e = f"{base['e2e'] / row['e2e']:.0f}x" if base else "-"
        same = "equal" if diff == 0 else ("within 1e-12" if diff <= 1e-12 else f"DIFFERENT ({diff:.2e})")
        print(
            f"{name + ' ' + row['version']:<26}{row['load']:>9.3f}{row['eval']:>9.3f}{row['e2e']:>9.3f}"
            f"{sp_eval:>13}{sp_e2e:>12}{row['e2e'] / fast['e2e']:>13.2f}  {same}"
        )
    if args.json:
        args.json.write_text(
            json.dumps({"images": args.images, "gt": n_gt, "dt": n_dt, "results": rows}, indent=2)
        )


if __name__ == "__main__":
    main()
