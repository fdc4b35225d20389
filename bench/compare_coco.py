"""Time fastdet's COCO bbox evaluation beside pycocotools and the native peers, in one process.

For each evaluator that imports (fastdet, pycocotools, faster-coco-eval,
hotcoco, ultrafast-pycocotools) it measures, on the synthetic COCO-val2017-scale
set of ``bench/make_coco_synthetic.py``:

- COCO(gt): ``COCO(gt.json)``; loadRes: ``loadRes(dt_<style>.json)``
- eval: ``evaluate()`` + ``accumulate()``
- e2e: load + eval + ``summarize()``

for every results style (``float32``: detectron2 / mmdetection files,
``float64``: ``repr`` of doubles, ``short``: rounded decimals), and prints
medians, the speed-up over pycocotools, the ratio to fastdet, fastdet against
the fastest native peer, and whether the 12 stats equal pycocotools'. fastdet's Numba
kernels are loaded (compiled or read from cache) by a warm-up call first; the
first-call time is printed separately. ``--rss`` runs every evaluator once more
in a fresh subprocess and reports its peak resident memory.

Usage::

    python bench/compare_coco.py                    # 5000 images, 3 repeats (pycocotools: 1)
    python bench/compare_coco.py --images 1000 --repeat 5 --json out.json --rss
    python bench/compare_coco.py --skip pycocotools  # without the ~1 minute pycocotools runs
    python bench/compare_coco.py --styles float32    # one style
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
        t1 = time.perf_counter()
        cd = cg.loadRes(str(dt))
        t2 = time.perf_counter()
        e = eval_cls(cg, cd, "bbox")
        e.evaluate()
        e.accumulate()
        t3 = time.perf_counter()
        e.summarize()
        t4 = time.perf_counter()
    times = {"gt": t1 - t0, "res": t2 - t1, "eval": t3 - t2, "summarize": t4 - t3, "e2e": t4 - t0}
    return times, np.asarray(e.stats, float)


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


def time_style(
    style: str, gt: Path, dt: Path, loaded: dict[str, tuple[Any, Any, str]], args: argparse.Namespace
) -> dict[str, dict[str, Any]]:
    """Median timings and stats of every evaluator on one results style.

    The evaluators take turns (one run of each per round), so that a change in
    the machine's load falls on all of them alike.
    """
    times: dict[str, dict[str, list[float]]] = {name: {} for name in loaded}
    stats: dict[str, np.ndarray] = {}
    for name, (coco_cls, eval_cls, _) in loaded.items():
        if name != "pycocotools":  # one untimed pass: imports, caches, allocator warm-up
            run_once(coco_cls, eval_cls, gt, dt)
    for round_ in range(max(args.repeat, args.pycocotools_repeat)):
        for name, (coco_cls, eval_cls, _) in loaded.items():
            if round_ >= (args.pycocotools_repeat if name == "pycocotools" else args.repeat):
                continue
            one, stats[name] = run_once(coco_cls, eval_cls, gt, dt)
            for key, value in one.items():
                times[name].setdefault(key, []).append(value)
    rows: dict[str, dict[str, Any]] = {}
    for name, (_, _, version) in loaded.items():
        medians = {k: statistics.median(v) for k, v in times[name].items()}
        rows[name] = {"version": version, **medians, "stats": stats[name]}
        print(f"  [{style}] {name} {version}: " + ", ".join(f"{k} {v:.3f} s" for k, v in medians.items()))
    return rows


NATIVE_PEERS = ("hotcoco", "ultrafast-pycocotools", "faster-coco-eval")


def print_table(results: dict[str, dict[str, dict[str, Any]]]) -> None:
    """One table: every style, every evaluator; ratios against pycocotools and the fastest native peer."""
    head = (
        f"{'style':<9}{'evaluator':<30}{'COCO(gt)':>9}{'loadRes':>9}{'eval':>8}{'e2e':>8}"
        f"{'e2e x pyc':>10}{'e2e/fastdet':>12}  stats vs pycocotools"
    )
    print(head)
    print("-" * len(head))
    for style, rows in results.items():
        ref = rows.get("pycocotools", rows["fastdet"])
        fast = rows["fastdet"]
        for name, row in rows.items():
            same_shape = row["stats"].shape == ref["stats"].shape
            diff = float(np.max(np.abs(row["stats"] - ref["stats"]))) if same_shape else np.inf
            row["stats_max_abs_diff"] = diff
            if "pycocotools" not in rows:
                same = "(no pycocotools)"
            else:
                same = "equal" if diff == 0 else "within 1e-12" if diff <= 1e-12 else f"DIFFERENT {diff:.1e}"
            vs_pyc = f"{rows['pycocotools']['e2e'] / row['e2e']:.1f}x" if "pycocotools" in rows else "-"
            print(
                f"{style:<9}{name + ' ' + row['version']:<30}{row['gt']:>9.3f}{row['res']:>9.3f}"
                f"{row['eval']:>8.3f}{row['e2e']:>8.3f}{vs_pyc:>10}{row['e2e'] / fast['e2e']:>12.2f}  {same}"
            )
        peers = [n for n in NATIVE_PEERS if n in rows]
        if peers:
            best = min(peers, key=lambda n: rows[n]["e2e"])
            best_eval = min(peers, key=lambda n: rows[n]["eval"])
            e2e, ev = rows[best]["e2e"] / fast["e2e"], rows[best_eval]["eval"] / fast["eval"]
            print(
                f"{style:<9}fastdet vs the fastest native peer: end to end {e2e:.2f}x ({best}), "
                f"evaluate+accumulate {ev:.2f}x ({best_eval})"
            )
        print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pycocotools-repeat", type=int, default=1)
    styles = list(make_coco_synthetic.STYLES)
    parser.add_argument("--styles", nargs="*", default=styles, choices=styles, help="result file styles")
    parser.add_argument("--skip", nargs="*", default=[], help="evaluators to leave out")
    parser.add_argument(
        "--rss", action="store_true", help="also measure peak RSS per evaluator (subprocesses)"
    )
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--child-style", default="float32", help=argparse.SUPPRESS)
    args = parser.parse_args()
    folder = make_coco_synthetic.default_dir(args.seed, args.images)
    if args.child:
        child(args.child, *make_coco_synthetic.write(folder, args.images, args.seed, args.child_style))
        return
    files = {s: make_coco_synthetic.write(folder, args.images, args.seed, s) for s in args.styles}
    gt = files[args.styles[0]][0]
    n_gt = len(json.loads(gt.read_text())["annotations"])
    n_dt = len(json.loads(files[args.styles[0]][1].read_text()))
    sizes = ", ".join(f"{s} {p.stat().st_size / 2**20:.1f} MiB" for s, (_, p) in files.items())
    print(
        f"data: {args.images} images, {n_gt} GT ({gt.stat().st_size / 2**20:.1f} MiB), {n_dt} detections "
        f"({sizes}) in {folder}"
    )

    # fastdet warm-up on a tiny set: loads (or compiles) the Numba kernels
    tiny = make_coco_synthetic.default_dir(1, 20)
    coco_cls, eval_cls, _ = IMPLEMENTATIONS["fastdet"]()
    t = time.perf_counter()
    for s in args.styles:
        run_once(coco_cls, eval_cls, *make_coco_synthetic.write(tiny, 20, 1, s))
    print(f"fastdet first call (kernel load/compile, tiny set): {time.perf_counter() - t:.2f} s")

    loaded: dict[str, tuple[Any, Any, str]] = {}
    for name, load in IMPLEMENTATIONS.items():
        if name in args.skip:
            continue
        try:
            loaded[name] = load()
        except ImportError as exc:
            print(f"{name}: not installed ({exc})")
    results = {s: time_style(s, gt_path, dt_path, loaded, args) for s, (gt_path, dt_path) in files.items()}
    print()
    print_table(results)
    if args.rss:
        print("peak RSS, one end-to-end run in a fresh process:")
        for style in args.styles:
            for name in results[style]:
                cmd = [sys.executable, __file__, "--images", str(args.images), "--seed", str(args.seed)]
                cmd += ["--child", name, "--child-style", style]
                out = subprocess.run(cmd, capture_output=True, text=True, check=True)
                rss = json.loads(out.stdout.strip().splitlines()[-1])["maxrss_mib"]
                results[style][name]["maxrss_mib"] = rss
                print(f"  {style:<9}{name:<26}{rss:>8.0f} MiB")
    if args.json:
        for rows in results.values():
            for row in rows.values():
                row["stats"] = row["stats"].tolist()
        args.json.write_text(
            json.dumps({"images": args.images, "gt": n_gt, "dt": n_dt, "results": results}, indent=2)
        )


if __name__ == "__main__":
    main()
