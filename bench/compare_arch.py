"""Throughput (GMAC/s) of fastdet's counting conv loop beside torch.nn.functional.conv2d on CPU.

Usage::

    python bench/compare_arch.py                     # float32, 9 repeats
    python bench/compare_arch.py --dtype float64 --repeats 3 --json out.json
    python bench/compare_arch.py --quick             # skip the 3.7 GMAC worked example

For each layer shape, both implementations run in this one process on the
same input: one warm-up call (JIT compilation, page-in), then ``--repeats``
timed calls; the median is reported as milliseconds and GMAC/s (multiply-adds
per second, MACs from ``fastdet.arch.conv2d_macs``), and the best run as
GMAC/s too (on a shared machine the median of a multi-threaded library can be
dominated by other processes), with the ratio torch / fastdet median
throughput (> 1 means torch is faster), the largest absolute
difference between the two outputs, and whether the loop's own MAC count
equals the closed form. fastdet's loop exists to count operations, not to
compete with oneDNN; the comparison shows what the count costs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from fastdet import arch
from fastdet._kernels import _threads as _kernel_threads

# name: (c_in, c_out, hw, kernel, stride, padding, groups)
CASES: dict[str, tuple[int, int, int, int, int, int, int]] = {
    "resnet 3x3 64->64 @56": (64, 64, 56, 3, 1, 1, 1),
    "resnet 3x3/2 128->128 @56": (128, 128, 56, 3, 2, 1, 1),
    "resnet 1x1 256->64 @56": (256, 64, 56, 1, 1, 0, 1),
    "stem 7x7/2 3->64 @224": (3, 64, 224, 7, 2, 3, 1),
    "depthwise 3x3 128 @56": (128, 128, 56, 3, 1, 1, 128),
    "worked example 3x3 64->128 @224": (64, 128, 224, 3, 1, 1, 1),
}


def _time(fn: Callable[[], Any], repeats: int) -> tuple[float, float, Any]:
    """Return (median seconds, best seconds, result) after one warm-up call."""
    result = fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times), result


def run(repeats: int, dtype: str, quick: bool) -> dict[str, Any]:
    try:
        import torch
        import torch.nn.functional as tf
    except ImportError:  # pragma: no cover - depends on the environment
        torch = None
    rows = []
    for name, (c_in, c_out, hw, k, s, p, g) in CASES.items():
        if quick and name.startswith("worked"):
            continue
        rng = np.random.default_rng(0)
        x = rng.standard_normal((1, c_in, hw, hw)).astype(dtype)
        w = rng.standard_normal((c_out, c_in // g, k, k)).astype(dtype)
        out_hw = arch.conv2d_output_size(hw, k, s, p)
        macs = arch.conv2d_macs(c_in, c_out, k, out_hw, g)
        t_fd, b_fd, (out_fd, counted) = _time(
            lambda x=x, w=w, s=s, p=p, g=g: arch.conv2d(x, w, None, s, p, 1, g), repeats
        )
        row: dict[str, Any] = {
            "case": name,
            "macs": macs,
            "count_matches": counted == macs,
            "fastdet_ms": 1e3 * t_fd,
            "fastdet_gmacs": macs / t_fd / 1e9,
            "fastdet_best_gmacs": macs / b_fd / 1e9,
        }
        if torch is not None:
            tx, tw = torch.from_numpy(x), torch.from_numpy(w)
            t_pt, b_pt, out_pt = _time(
                lambda tx=tx, tw=tw, s=s, p=p, g=g: tf.conv2d(tx, tw, None, s, p, 1, g), repeats
            )
            row.update(
                torch_ms=1e3 * t_pt,
                torch_gmacs=macs / t_pt / 1e9,
                torch_best_gmacs=macs / b_pt / 1e9,
                torch_over_fastdet=t_fd / t_pt,
                max_abs_diff=float(np.max(np.abs(out_fd - out_pt.numpy()))),
            )
        rows.append(row)
    return {
        "dtype": dtype,
        "repeats": repeats,
        "kernel_threads": _kernel_threads(),
        "torch": None if torch is None else torch.__version__,
        "torch_threads": None if torch is None else torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "machine": platform.platform(),
        "rows": rows,
    }


def _print(result: dict[str, Any]) -> None:
    print(
        f"conv2d on CPU, {result['dtype']}, median of {result['repeats']}; kernel threads "
        f"{result['kernel_threads']}, torch {result['torch']} threads {result['torch_threads']}, "
        f"{result['cpu_count']} CPUs"
    )
    head = (
        f"{'case':34} {'MACs':>15} {'fastdet ms':>11} {'GMAC/s':>7} {'best':>6} {'torch ms':>9} "
        f"{'GMAC/s':>7} {'best':>6} {'torch/fd':>8} {'max|diff|':>10} count"
    )
    print(head)
    for r in result["rows"]:
        torch_part = (
            f"{r['torch_ms']:9.2f} {r['torch_gmacs']:7.2f} {r['torch_best_gmacs']:6.2f} "
            f"{r['torch_over_fastdet']:8.1f} "
            f"{r['max_abs_diff']:10.2e}"
            if "torch_ms" in r
            else f"{'-':>9} {'-':>7} {'-':>6} {'-':>8} {'-':>10}"
        )
        print(
            f"{r['case']:34} {r['macs']:15,} {r['fastdet_ms']:11.2f} {r['fastdet_gmacs']:7.2f} "
            f"{r['fastdet_best_gmacs']:6.2f} "
            f"{torch_part} {'ok' if r['count_matches'] else 'MISMATCH'}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    parser.add_argument("--quick", action="store_true", help="skip the 3.7 GMAC worked example")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = parser.parse_args(argv)
    result = run(args.repeats, args.dtype, args.quick)
    _print(result)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(result, fh, indent=2)
    return 0 if all(r["count_matches"] for r in result["rows"]) else 1


if __name__ == "__main__":
    raise SystemExit(main())
