"""Time fastdet's COCO bbox evaluation beside pycocotools and the native peers, in one process.

For each evaluator that imports (fastdet, pycocotools, faster-coco-eval,
hotcoco, ultrafast-pycocotools) it measures, on the synthetic COCO-val2017-scale
set of ``bench/make_coco_synthetic.py``:

- load: ``COCO(gt.json)`` + ``loadRes(dt.json)``
- eval: ``evaluate()`` + ``accumulate()``
- e2e: load + eval + ``summarize()``

and prints medians, the speed-up over pycocotools, the ratio to fastdet, and
whether the 12 stats equal pycocotools' (max |difference|). fastdet's Numba
kernels are loaded (compiled or read from cache) by a warm-up call first; the
first-call time is printed separately. ``--rss`` runs every evaluator once more
in a fresh subprocess and reports its peak resident memory.

Usage::

    python bench/compare_coco.py                    # 5000 images, 3 repeats (pycocotools: 1)
    python bench/compare_coco.py --images 1000 --repeat 5 --json out.json --rss
    python bench/compare_coco.py --skip pycocotools  # without the ~1 minute pycocotools run
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import json
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import make_coco_synthetic


def _factory(module: str, coco: str, ev: str) -> Callable[[], tuple[Any, Any, str]]:
    def load() -> tuple[Any, Any, str]:
        mod = importlib.import_module(module)
        root = importlib.import_module(module.split(".")[0])
        version = getattr(root, "__version__", "?")
        if module.startswith("pycocotools"):
            from importlib.metadata import version as dist_version

            version = dist_version("pycocotools")
        coco_mod = importlib.import_module(coco) if coco != module else mod
        return coco_mod.COCO, getattr(mod, ev), version

    return load


IMPLEMENTATIONS: dict[str, Callable[[], tuple[Any, Any, str]]] = {
    "fastdet": _factory("fastdet.coco", "fastdet.coco", "COCOeval"),
    "pycocotools": _factory("pycocotools.cocoeval", "pycocotools.coco", "COCOeval"),
    "faster-coco-eval": _factory("faster_coco_eval", "faster_coco_eval", "COCOeval_faster"),
    "hotcoco": _factory("hotcoco", "hotcoco", "COCOeval"),
    "ultrafast-pycocotools": _factory("ultrafast_pycocotools", "ultrafast_pycocotools", "COCOeval"),
}


def run_once(coco_cls: Any, eval_cls: Any, gt: Path, dt: Path) -> tuple[dict[str, float], np.ndarray]:
    """One load / evaluate+accumulate / summarize pass; returns timings and stats."""
    with contextlib.redirect_stdout(io.StringIO()):
        t0 = time.perf_counter()
        cg = coco_cls(str(gt))
        cd = cg.loadRes(str(dt))
        t1 = time.perf_counter()
        e = eval_cls(cg, cd, "bbox")
        e.evaluate()
        e.accumulate()
        t2 = time.perf_counter()
        e.summarize()
        t3 = time.perf_counter()
    return {"load": t1 - t0, "eval": t2 - t1, "summarize": t3 - t2, "e2e": t3 - t0}, np.asarray(
        e.stats, float
    )


def child(name: str, gt: Path, dt: Path) -> None:
    """Subprocess entry for --rss: one end-to-end run, then print peak RSS (imports included)."""
    coco_cls, eval_cls, _ = IMPLEMENTATIONS[name]()
    run_once(coco_cls, eval_cls, gt, dt)
    print(json.dumps({"maxrss_mib": peak_rss_mib()}))


def peak_rss_mib() -> float:
    """Peak resident memory of this process (VmHWM; ru_maxrss can carry the parent's over exec)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pycocotools-repeat", type=int, default=1)
    parser.add_argument("--skip", nargs="*", default=[], help="evaluators to leave out")
    parser.add_argument(
        "--rss", action="store_true", help="also measure peak RSS per evaluator (subprocesses)"
    )
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    gt, dt = make_coco_synthetic.write(
        make_coco_synthetic.default_dir(args.seed, args.images), args.images, args.seed
    )
    if args.child:
        child(args.child, gt, dt)
        return
    n_gt = len(json.loads(gt.read_text())["annotations"])
    n_dt = len(json.loads(dt.read_text()))
    print(f"data: {args.images} images, {n_gt} GT, {n_dt} detections ({gt.parent})")

    # fastdet warm-up on a tiny set: loads (or compiles) the Numba kernels
    tiny_gt, tiny_dt = make_coco_synthetic.write(make_coco_synthetic.default_dir(1, 20), 20, 1)
    coco_cls, eval_cls, _ = IMPLEMENTATIONS["fastdet"]()
    t = time.perf_counter()
    run_once(coco_cls, eval_cls, tiny_gt, tiny_dt)
    print(f"fastdet first call (kernel load/compile, tiny set): {time.perf_counter() - t:.2f} s")

    rows: dict[str, dict[str, Any]] = {}
    for name, load in IMPLEMENTATIONS.items():
        if name in args.skip:
            continue
        try:
            coco_cls, eval_cls, version = load()
        except ImportError as exc:
            print(f"{name}: not installed ({exc})")
            continue
        repeat = args.pycocotools_repeat if name == "pycocotools" else args.repeat
        if name != "pycocotools":  # one untimed pass: imports, caches, allocator warm-up
            run_once(coco_cls, eval_cls, gt, dt)
        times: dict[str, list[float]] = {}
        stats = None
        for _ in range(repeat):
            one, stats = run_once(coco_cls, eval_cls, gt, dt)
            for key, value in one.items():
                times.setdefault(key, []).append(value)
        rows[name] = {
            "version": version,
            **{k: statistics.median(v) for k, v in times.items()},
            "stats": stats,
        }
        print(
            f"  {name} {version}: " + ", ".join(f"{k} {statistics.median(v):.3f} s" for k, v in times.items())
        )

    ref_name = "pycocotools" if "pycocotools" in rows else "fastdet"
    ref_stats = rows[ref_name]["stats"]
    base = rows.get("pycocotools")
    fast = rows["fastdet"]
    print()
    print(f"{'evaluator':<28}{'load s':>9}{'eval s':>9}{'e2e s':>9}{'eval x pyc':>12}{'e2e x pyc':>11}"
          f"{'eval/fastdet':>14}{'e2e/fastdet':>13}  stats == {ref_name}")  # fmt: skip
    for name, row in rows.items():
        diff = (
            float(np.max(np.abs(row["stats"] - ref_stats)))
            if row["stats"].shape == ref_stats.shape
            else np.inf
        )
        row["stats_max_abs_diff"] = diff
        sp_eval = f"{base['eval'] / row['eval']:.0f}x" if base else "-"
        sp_e2e = f"{base['e2e'] / row['e2e']:.1f}x" if base else "-"
        same = "equal" if diff == 0 else ("within 1e-12" if diff <= 1e-12 else f"DIFFERENT ({diff:.2e})")
        print(
            f"{name + ' ' + row['version']:<28}{row['load']:>9.3f}{row['eval']:>9.3f}{row['e2e']:>9.3f}"
            f"{sp_eval:>12}{sp_e2e:>11}{row['eval'] / fast['eval']:>14.2f}"
            f"{row['e2e'] / fast['e2e']:>13.2f}  {same}"
        )
    if args.rss:
        print("\npeak RSS, one end-to-end run in a fresh process:")
        for name in rows:
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--images",
                    str(args.images),
                    "--seed",
                    str(args.seed),
                    "--child",
                    name,
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            rows[name]["maxrss_mib"] = json.loads(out.stdout.strip().splitlines()[-1])["maxrss_mib"]
            print(f"  {name:<26}{rows[name]['maxrss_mib']:>8.0f} MiB")
    if args.json:
        for row in rows.values():
            row["stats"] = row["stats"].tolist()
        args.json.write_text(
            json.dumps({"images": args.images, "gt": n_gt, "dt": n_dt, "results": rows}, indent=2)
        )


if __name__ == "__main__":
    main()
