"""Time fastdet's metrics beside scikit-learn (and losses beside torch) in one process.

Usage::

    python bench/compare_metrics.py                      # sizes 1e5 1e6 1e7, 5 repeats
    python bench/compare_metrics.py --sizes 1e5 1e6 --repeats 3 --json out.json
    python bench/compare_metrics.py --no-losses
    python bench/compare_metrics.py --sizes 1e6 1e7 --repeats 3 --no-losses --filter weighted

For every size it times ``roc_auc`` / ``average_precision`` against
``sklearn.metrics.roc_auc_score`` / ``average_precision_score`` (plain, with
``sample_weight``, with labels {-1, 1}, and the partial AUC ``max_fpr=0.1``),
``roc_curve`` with weights, ``confusion_matrix`` (``--classes`` classes, default
80; plain, weighted and with string labels) against
``sklearn.metrics.confusion_matrix``, weighted ``precision_recall_f1`` against
``precision_recall_fscore_support``, and, up to ``--multiclass-max`` samples
(default 1e6), the multiclass ``roc_auc`` (``--multiclass-k`` classes, default
10; one-vs-rest and one-vs-one); each function is called once to warm up
(JIT compilation, caches), then ``--repeats`` times, and the median is
reported with the ratio peer / fastdet (> 1 means fastdet is faster) and the
largest difference between the two results. Scores are rounded to 3
decimals so that ties occur, as in real classifier output; the rows marked
``continuous`` use unrounded scores (no ties, every bit of the float used), those marked
``float32 sigmoid`` a detector's float32 sigmoid outputs (crowded near 0 and 1).

Both the wall-clock time and the CPU time of the process (``time.process_time``)
are measured; on a machine shared with other jobs the wall time includes the
time other processes hold the cores, and the CPU-time ratio is the steadier
one (the metrics run on one thread on both sides). ``--filter`` keeps the rows
whose name contains one of the given substrings.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
import warnings
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

import fastdet.losses as fl
import fastdet.metrics as fm


def _median_time(fn: Callable[[], Any], repeats: int) -> tuple[float, float, Any]:
    """Median wall and CPU seconds of ``repeats`` calls after a warm-up call, and the last result."""
    result = fn()  # warm-up: JIT compile, page in
    times, cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(times), statistics.median(cpu), result


def _diff(a: Any, b: Any) -> float:
    """Largest absolute difference between two results (arrays, floats or tuples of them); inf - inf is 0."""
    if isinstance(a, tuple):
        return max((_diff(x, y) for x, y in zip(a, b, strict=True)), default=0.0)
    a, b = (np.asarray(v.numpy() if hasattr(v, "numpy") else v, np.float64) for v in (a, b))
    with np.errstate(invalid="ignore"):
        d = np.where(a == b, 0.0, np.abs(a - b))
    return float(np.max(d, initial=0.0))


def binary_data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(np.int64)
    s = np.round(1.0 / (1.0 + np.exp(-(rng.normal(size=n) + 1.5 * y))), 3)
    return y, s


def weights(n: int, seed: int = 1) -> np.ndarray:
    """Positive float weights, a tenth of them 0 (left out of the curves)."""
    rng = np.random.default_rng(seed)
    return np.where(rng.random(n) < 0.1, 0.0, rng.exponential(size=n))


def multiclass_data(n: int, k: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Labels and softmax probabilities leaning to the true class."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k))
    logits[np.arange(n), y] += 1.5
    p = np.exp(logits)
    p /= p.sum(axis=1, keepdims=True)
    return y, p


def class_data(n: int, k: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = rng.integers(0, k, n)
    p = np.where(rng.random(n) < 0.7, t, rng.integers(0, k, n))
    return t, p


def run(
    sizes: list[int],
    repeats: int,
    classes: int,
    losses: bool,
    multiclass_max: int = 10**6,
    multiclass_k: int = 10,
    filters: list[str] | None = None,
    peer_repeats: int | None = None,
) -> list[dict[str, Any]]:
    import sklearn.metrics as skm

    rows: list[dict[str, Any]] = []

    def record(name: str, n: int, ours: Callable[[], Any], peer: Callable[[], Any], peer_name: str) -> None:
        if filters and not any(f in name for f in filters):
            return
        t_ours, c_ours, r_ours = _median_time(ours, repeats)
        t_peer, c_peer, r_peer = _median_time(peer, repeats if peer_repeats is None else peer_repeats)
        row = {
            "function": name,
            "n": n,
            "fastdet_s": t_ours,
            f"{peer_name}_s": t_peer,
            "fastdet_cpu_s": c_ours,
            f"{peer_name}_cpu_s": c_peer,
            "peer": peer_name,
            "speedup": t_peer / t_ours,
            "speedup_cpu": c_peer / c_ours,
            "max_abs_diff": _diff(r_ours, r_peer),
        }
        rows.append(row)
        print(
            f"{name:<44} n={n:>10,d}  fastdet {t_ours * 1e3:9.2f} ms  {peer_name} "
            f"{t_peer * 1e3:9.2f} ms  x{t_peer / t_ours:6.1f}  (cpu {c_ours * 1e3:8.2f} / "
            f"{c_peer * 1e3:9.2f} ms  x{c_peer / c_ours:6.1f})  |diff| {row['max_abs_diff']:.1e}",
            flush=True,
        )

    for n in sizes:
        y, s = binary_data(n)
        record("roc_auc", n, partial(fm.roc_auc, y, s), partial(skm.roc_auc_score, y, s), "sklearn")
        record(
            "average_precision",
            n,
            partial(fm.average_precision, y, s),
            partial(skm.average_precision_score, y, s),
            "sklearn",
        )
        w = weights(n)
        record(
            "roc_auc/weighted",
            n,
            partial(fm.roc_auc, y, s, sample_weight=w),
            partial(skm.roc_auc_score, y, s, sample_weight=w),
            "sklearn",
        )
        record(
            "average_precision/weighted",
            n,
            partial(fm.average_precision, y, s, sample_weight=w),
            partial(skm.average_precision_score, y, s, sample_weight=w),
            "sklearn",
        )
        record(
            "roc_curve/weighted",
            n,
            partial(fm.roc_curve, y, s, sample_weight=w),
            partial(skm.roc_curve, y, s, sample_weight=w),
            "sklearn",
        )
        record("roc_curve", n, partial(fm.roc_curve, y, s), partial(skm.roc_curve, y, s), "sklearn")
        record(
            "precision_recall_curve",
            n,
            partial(fm.precision_recall_curve, y, s),
            partial(skm.precision_recall_curve, y, s),
            "sklearn",
        )
        record(
            "precision_recall_curve/weighted",
            n,
            partial(fm.precision_recall_curve, y, s, sample_weight=w),
            partial(skm.precision_recall_curve, y, s, sample_weight=w),
            "sklearn",
        )
        yes_no = np.array(["no", "yes"])[y]
        record(
            "roc_curve/weighted/strings,pos_label",
            n,
            partial(fm.roc_curve, yes_no, s, sample_weight=w, pos_label="yes"),
            partial(skm.roc_curve, yes_no, s, sample_weight=w, pos_label="yes"),
            "sklearn",
        )
        record(
            "average_precision/weighted/strings,pos_label",
            n,
            partial(fm.average_precision, yes_no, s, sample_weight=w, pos_label="yes"),
            partial(skm.average_precision_score, yes_no, s, sample_weight=w, pos_label="yes"),
            "sklearn",
        )
        y2 = y + 1  # labels {1, 2}
        record(
            "roc_auc/weighted/{1,2}",
            n,
            partial(fm.roc_auc, y2, s, sample_weight=w),
            partial(skm.roc_auc_score, y2, s, sample_weight=w),
            "sklearn",
        )
        s_cont = np.random.default_rng(2).random(n) + 0.3 * y  # continuous scores: no ties
        for name, ours_fn, peer_fn in (
            ("roc_auc", fm.roc_auc, skm.roc_auc_score),
            ("average_precision", fm.average_precision, skm.average_precision_score),
        ):
            record(
                f"{name}/continuous", n, partial(ours_fn, y, s_cont), partial(peer_fn, y, s_cont), "sklearn"
            )
            record(
                f"{name}/weighted/continuous",
                n,
                partial(ours_fn, y, s_cont, sample_weight=w),
                partial(peer_fn, y, s_cont, sample_weight=w),
                "sklearn",
            )
        # a detector's float32 sigmoid outputs: few exact ties, values crowded near 0 and 1
        z = np.random.default_rng(3).normal(size=n)
        s_f32 = (1.0 / (1.0 + np.exp(-(3.0 * z + 1.5 * y)))).astype(np.float32).astype(np.float64)
        for name, ours_fn, peer_fn in (
            ("roc_auc", fm.roc_auc, skm.roc_auc_score),
            ("average_precision", fm.average_precision, skm.average_precision_score),
        ):
            record(
                f"{name}/weighted/float32 sigmoid",
                n,
                partial(ours_fn, y, s_f32, sample_weight=w),
                partial(peer_fn, y, s_f32, sample_weight=w),
                "sklearn",
            )
        y_pm = 2 * y - 1
        record(
            "roc_auc/{-1,1}", n, partial(fm.roc_auc, y_pm, s), partial(skm.roc_auc_score, y_pm, s), "sklearn"
        )
        record(
            "roc_auc/max_fpr=0.1",
            n,
            partial(fm.roc_auc, y, s, max_fpr=0.1),
            partial(skm.roc_auc_score, y, s, max_fpr=0.1),
            "sklearn",
        )
        t, p = class_data(n, classes)
        record(
            f"confusion_matrix/{classes}",
            n,
            partial(fm.confusion_matrix, t, p),
            partial(skm.confusion_matrix, t, p),
            "sklearn",
        )
        record(
            f"confusion_matrix/{classes}/weighted",
            n,
            partial(fm.confusion_matrix, t, p, sample_weight=w),
            partial(skm.confusion_matrix, t, p, sample_weight=w),
            "sklearn",
        )
        record(
            f"precision_recall_f1/{classes}/weighted",
            n,
            partial(fm.precision_recall_f1, t, p, average="macro", sample_weight=w),
            lambda t=t, p=p, w=w: skm.precision_recall_fscore_support(t, p, average="macro", sample_weight=w)[
                :3
            ],
            "sklearn",
        )
        if n <= multiclass_max // 10:  # strings are slow on both sides: one size in ten
            names = np.array([f"class-{i:02d}" for i in range(classes)])
            ts, ps = names[t], names[p]
            record(
                f"confusion_matrix/{classes}/strings",
                n,
                partial(fm.confusion_matrix, ts, ps),
                partial(skm.confusion_matrix, ts, ps),
                "sklearn",
            )
            record(
                f"confusion_matrix/{classes}/strings/weighted",
                n,
                partial(fm.confusion_matrix, ts, ps, sample_weight=w),
                partial(skm.confusion_matrix, ts, ps, sample_weight=w),
                "sklearn",
            )
        if n <= multiclass_max:
            yk, pk = multiclass_data(n, multiclass_k)
            for mc in ("ovr", "ovo"):
                record(
                    f"roc_auc/{multiclass_k} classes/{mc}",
                    n,
                    partial(fm.roc_auc, yk, pk, multi_class=mc),
                    partial(skm.roc_auc_score, yk, pk, multi_class=mc),
                    "sklearn",
                )
        if losses:
            try:
                import torch
                import torchvision.ops
            except ImportError:
                continue
            rng = np.random.default_rng(1)
            x = rng.normal(size=n).astype(np.float32)
            tt = (rng.random(n) < 0.1).astype(np.float32)
            tx, tt_t = torch.from_numpy(x), torch.from_numpy(tt)
            record(
                "sigmoid_focal/mean",
                n,
                partial(fl.sigmoid_focal_loss, x, tt, reduction="mean"),
                partial(torchvision.ops.sigmoid_focal_loss, tx, tt_t, reduction="mean"),
                "torch",
            )
            record(
                "smooth_l1/mean",
                n,
                partial(fl.smooth_l1_loss, x, tt),
                partial(torch.nn.functional.smooth_l1_loss, tx, tt_t),
                "torch",
            )
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", nargs="+", type=float, default=[1e5, 1e6, 1e7])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--classes", type=int, default=80)
    parser.add_argument("--no-losses", action="store_true", help="skip the torch loss timings")
    parser.add_argument(
        "--multiclass-max", type=float, default=1e6, help="largest size for multiclass roc_auc"
    )
    parser.add_argument("--multiclass-k", type=int, default=10, help="classes of the multiclass roc_auc")
    parser.add_argument("--json", metavar="PATH", help="also write the rows as JSON")
    parser.add_argument(
        "--filter", nargs="*", default=None, help="run the rows whose name contains one of these"
    )
    parser.add_argument(
        "--peer-repeats", type=int, default=None, help="repeats for the peers (default: --repeats)"
    )
    args = parser.parse_args(argv)
    sizes = [int(v) for v in args.sizes]
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, "
        f"{os.cpu_count()} CPUs; medians of {args.repeats} after one warm-up call"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rows = run(
            sizes,
            args.repeats,
            args.classes,
            not args.no_losses,
            int(args.multiclass_max),
            args.multiclass_k,
            args.filter,
            args.peer_repeats,
        )
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=2)


if __name__ == "__main__":
    main()
