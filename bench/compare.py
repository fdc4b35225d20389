"""Time fastdet's NMS family and box_iou beside torchvision, OpenCV and ensemble-boxes.

Usage::

    python bench/compare.py                       # sizes 1k 5k 20k, 7 repeats, cold start
    python bench/compare.py --quick               # sizes 1k 5k, 3 repeats, 1 cold-start round
    python bench/compare.py --sizes 20000 --repeats 15 --only nms batched_nms
    python bench/compare.py --json results.json   # also write every figure as JSON

All peers run in this one process on the same float32 input: clustered boxes that
look like detector output (``bench/generate.py``: jittered boxes around objects
plus low-score background boxes in a 1024 x 1024 image). Each function is called
once to warm up (JIT compilation, caches), then ``--repeats`` times; the table
shows medians in milliseconds and ``peer / fastdet`` (> 1: fastdet is faster),
and whether the results agree. Peers that are not installed are skipped.

Peers get their input in the format they need, converted before timing:
OpenCV takes (x, y, w, h) rectangles (double for NMSBoxes, int for
softNMSBoxes), ensemble-boxes takes boxes normalised to [0, 1].

The cold-start section runs fresh interpreters: ``python -c "import numpy, numba"``,
then ``import fastdet`` plus the first call of every NMS function and box_iou,
with an empty ``NUMBA_CACHE_DIR`` (compiles everything) and with the cache that
run left behind (loads compiled code).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import clustered_boxes

import fastdet
from fastdet.boxes import box_iou
from fastdet.nms import (
    batched_nms,
    multiclass_nms,
    nms,
    postprocess_detections,
    soft_nms,
)

ROOT = Path(__file__).resolve().parent.parent


def _optional(name: str) -> Any:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return __import__(name)
    except Exception:  # not installed, or broken install
        return None


torch = _optional("torch")
torchvision = _optional("torchvision")
cv2 = _optional("cv2")
ensemble_boxes = _optional("ensemble_boxes")


#: Pause before timing each implementation. OpenMP runtimes (torch's among them) keep their worker
#: threads spinning for a while after a parallel region; on a 2-core machine that starves
#: whichever parallel code is timed next. The pause lets every implementation start on idle cores.
SETTLE_S = 1.0


def _median_ms(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    time.sleep(SETTLE_S)
    result = fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3, result


def _as_index(x: Any) -> np.ndarray:
    if hasattr(x, "numpy"):
        x = x.numpy()
    return np.asarray(x, np.int64).reshape(-1)


def _xywh(boxes: np.ndarray) -> np.ndarray:
    return np.concatenate([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]], axis=1)


# ----------------------------------------------------------------------------- cases


def case_nms(n: int, thr: float):
    boxes, scores, _ = clustered_boxes(n)
    impl: dict[str, Callable[[], Any]] = {"fastdet": lambda: nms(boxes, scores, thr)}
    if torchvision is not None:
        tb, ts = torch.from_numpy(boxes), torch.from_numpy(scores)
        impl["torchvision"] = lambda: torchvision.ops.nms(tb, ts, thr)
    if cv2 is not None:
        rects = _xywh(boxes).astype(np.float64)
        impl["opencv"] = lambda: cv2.dnn.NMSBoxes(rects, scores, 0.0, thr)
    if ensemble_boxes is not None:
        norm = boxes / 1024.0
        zeros = np.zeros(n)
        impl["ensemble-boxes"] = lambda: ensemble_boxes.nms([norm], [scores], [zeros], iou_thr=thr)

    def same(name, a, b):
        if name == "ensemble-boxes":  # returns boxes, not indices: compare counts
            return len(b[0]) == len(a)
        return np.array_equal(_as_index(a), _as_index(b))

    return impl, same


def case_batched(n: int, thr: float, n_classes: int):
    boxes, scores, labels = clustered_boxes(n, n_classes=n_classes)
    impl = {"fastdet": lambda: batched_nms(boxes, scores, labels, thr)}
    if torchvision is not None:
        tb, ts, tl = torch.from_numpy(boxes), torch.from_numpy(scores), torch.from_numpy(labels)
        impl["torchvision"] = lambda: torchvision.ops.batched_nms(tb, ts, tl, thr)
    if cv2 is not None:
        rects = _xywh(boxes).astype(np.float64)
        lab32 = labels.astype(np.int32)
        impl["opencv"] = lambda: cv2.dnn.NMSBoxesBatched(rects, scores, lab32, 0.0, thr)
    if ensemble_boxes is not None:
        norm = boxes / 1024.0
        impl["ensemble-boxes"] = lambda: ensemble_boxes.nms([norm], [scores], [labels], iou_thr=thr)

    def same(name, a, b):
        if name == "ensemble-boxes":
            return len(b[0]) == len(a)
        # torchvision uses its coordinate-offset trick below 1000 boxes on CPU: may differ
        return np.array_equal(_as_index(a), _as_index(b))

    return impl, same


def case_soft(n: int, sigma: float = 0.5):
    boxes, scores, _ = clustered_boxes(n)
    boxes = np.round(boxes)  # OpenCV's softNMSBoxes takes integer rectangles
    impl = {"fastdet": lambda: soft_nms(boxes, scores, method="gaussian", sigma=sigma, score_threshold=0.001)}
    if cv2 is not None:
        rects = _xywh(boxes).astype(np.int32)
        gauss = cv2.dnn.SOFT_NMSMETHOD_SOFTNMS_GAUSSIAN
        impl["opencv"] = lambda: cv2.dnn.softNMSBoxes(rects, scores, 0.001, 0.3, sigma=sigma, method=gauss)
    if ensemble_boxes is not None:
        norm = boxes / 1024.0
        zeros = np.zeros(n)
        impl["ensemble-boxes"] = lambda: ensemble_boxes.soft_nms(
            [norm], [scores], [zeros], method=2, sigma=sigma, thresh=0.001
        )

    def same(name, a, b):
        if name == "opencv":
            return np.array_equal(a[0], _as_index(b[1]))
        return len(b[0]) == len(a[0])

    return impl, same


def case_iou(n: int):
    boxes, _, _ = clustered_boxes(n)
    other, _, _ = clustered_boxes(n, seed=1)
    impl = {"fastdet": lambda: box_iou(boxes, other)}
    if torchvision is not None:
        ta, tb = torch.from_numpy(boxes), torch.from_numpy(other)
        impl["torchvision"] = lambda: torchvision.ops.box_iou(ta, tb)

    def same(name, a, b):
        b = b.numpy() if hasattr(b, "numpy") else b
        return bool(np.allclose(a, b, rtol=1e-6, atol=1e-7))

    return impl, same


def case_postprocess(batch: int, n: int, n_classes: int):
    preds = []
    for seed in range(batch):
        boxes, scores, labels = clustered_boxes(n, n_classes=n_classes, seed=seed)
        cls = np.random.default_rng(seed).uniform(0, 0.02, (n, n_classes)).astype(np.float32)
        cls[np.arange(n), labels] = scores
        cxcywh = np.concatenate([(boxes[:, :2] + boxes[:, 2:]) / 2, boxes[:, 2:] - boxes[:, :2]], 1)
        preds.append(np.concatenate([cxcywh, cls], 1))
    pred = np.stack(preds).astype(np.float32)
    impl = {"fastdet": lambda: postprocess_detections(pred, score_threshold=0.25, iou_threshold=0.45)}
    if torchvision is not None:
        tp = torch.from_numpy(pred)

        def tv_loop():  # ultralytics-style loop over images, torchvision.ops.batched_nms
            out = []
            for x in tp:
                conf, j = x[:, 4:].max(1)
                m = conf > 0.25
                b, conf, j = x[m, :4], conf[m], j[m]
                xyxy = torch.cat([b[:, :2] - b[:, 2:] / 2, b[:, :2] + b[:, 2:] / 2], 1)
                order = conf.argsort(descending=True)[:30000]
                xyxy, conf, j = xyxy[order], conf[order], j[order]
                k = torchvision.ops.batched_nms(xyxy, conf, j, 0.45)[:300]
                out.append(torch.cat([xyxy[k], conf[k, None], j[k, None].float()], 1))
            return out

        impl["torchvision loop"] = tv_loop

    def same(name, a, b):
        return [len(x) for x in a] == [len(x) for x in b]

    return impl, same


def case_multiclass(n: int, n_classes: int):
    boxes, scores, labels = clustered_boxes(n, n_classes=n_classes)
    cls = (0.01 * np.random.default_rng(0).exponential(size=(n, n_classes))).astype(np.float32)
    cls[np.arange(n), labels] = scores
    impl = {
        "fastdet": lambda: multiclass_nms(
            boxes, cls, score_threshold=0.05, iou_threshold=0.5, max_detections=100
        )
    }
    return impl, lambda name, a, b: True


# ----------------------------------------------------------------------------- runner


def run_case(title: str, made, repeats: int, rows: list[dict[str, Any]]) -> None:
    impl, same = made
    base_ms, base_res = _median_ms(impl["fastdet"], repeats)
    line = f"{title:<38} fastdet {base_ms:9.3f} ms"
    row: dict[str, Any] = {"case": title, "fastdet_ms": base_ms, "peers": {}}
    for name, fn in impl.items():
        if name == "fastdet":
            continue
        ms, res = _median_ms(fn, repeats)
        agree = same(name, base_res, res)
        row["peers"][name] = {"ms": ms, "ratio": ms / base_ms, "same_result": bool(agree)}
        line += f" | {name} {ms:9.3f} ms x{ms / base_ms:6.1f}{'' if agree else ' (differs)'}"
    print(line, flush=True)
    rows.append(row)


COLD_SCRIPT = r"""
import time
t0 = time.perf_counter()
import numpy as np
import fastdet
from fastdet.boxes import box_iou
from fastdet.nms import batched_nms, multiclass_nms, nms, postprocess_detections, soft_nms
t1 = time.perf_counter()
b = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]], np.float32)
s = np.array([0.9, 0.8, 0.7], np.float32)
nms(b, s, 0.5)
batched_nms(b, s, np.array([0, 1, 0]), 0.5)
soft_nms(b, s)
box_iou(b, b)
multiclass_nms(b, np.stack([s, s], 1))
postprocess_detections(np.concatenate([b, s[:, None]], 1)[None])
t2 = time.perf_counter()
print(f"{t1 - t0} {t2 - t1}")
"""


def _run_python(code: str, env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=ROOT, stdout=subprocess.PIPE)
    return time.perf_counter() - t0


def cold_start(rounds: int) -> dict[str, Any]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    base, cold, warm = [], [], []
    for _ in range(rounds):
        base.append(_run_python("import numpy, numba", env))
        with tempfile.TemporaryDirectory() as cache:
            e = dict(env, NUMBA_CACHE_DIR=cache)
            cold.append(_run_python(COLD_SCRIPT, e))
            warm.append(_run_python(COLD_SCRIPT, e))
            warm.append(_run_python(COLD_SCRIPT, e))
    out = {
        "import_numpy_numba_s": statistics.median(base),
        "fastdet_empty_cache_s": statistics.median(cold),
        "fastdet_warm_cache_s": statistics.median(warm),
    }
    out["warm_over_baseline"] = out["fastdet_warm_cache_s"] / out["import_numpy_numba_s"]
    return out


def _dist_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def machine() -> dict[str, Any]:
    def ver(mod: Any) -> str | None:
        return getattr(mod, "__version__", None) if mod is not None else None

    import numba

    info = {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "fastdet": fastdet.__version__,
        "torch": ver(torch),
        "torchvision": ver(torchvision),
        "opencv": ver(cv2),
        "ensemble_boxes": _dist_version("ensemble-boxes") if ensemble_boxes is not None else None,
    }
    if torch is not None:
        info["torch_threads"] = torch.get_num_threads()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        info["loadavg"] = os.getloadavg()
    except OSError:
        pass
    return info


SECTIONS = ("nms", "batched_nms", "soft_nms", "box_iou", "multiclass_nms", "postprocess", "cold")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 20000])
    p.add_argument(
        "--soft-sizes",
        type=int,
        nargs="+",
        default=None,
        help="sizes for soft_nms (default: the sizes up to 5000)",
    )
    p.add_argument("--iou-sizes", type=int, nargs="+", default=[1000, 3000])
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--classes", type=int, default=80)
    p.add_argument("--threshold", type=float, default=0.5)
    p.add_argument("--cold-rounds", type=int, default=3)
    p.add_argument("--only", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    p.add_argument(
        "--torch-threads",
        type=int,
        default=None,
        help="torch.set_num_threads(N) before timing (default: torch's own choice)",
    )
    p.add_argument("--quick", action="store_true", help="sizes 1k 5k, 3 repeats, 1 cold round")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON to PATH ('-' for stdout)")
    a = p.parse_args(argv)
    if a.quick:
        a.sizes, a.repeats, a.cold_rounds, a.iou_sizes = [1000, 5000], 3, 1, [1000]
    soft_sizes = a.soft_sizes or [n for n in a.sizes if n <= 5000]
    if a.torch_threads is not None and torch is not None:
        torch.set_num_threads(a.torch_threads)

    info = machine()
    print("machine: " + ", ".join(f"{k}={v}" for k, v in info.items()), flush=True)
    print(f"median of {a.repeats} runs after one warm-up; ratio = peer / fastdet; float32 clustered boxes")
    rows: list[dict[str, Any]] = []
    t = a.threshold
    if "nms" in a.only:
        for n in a.sizes:
            run_case(f"nms n={n} iou={t}", case_nms(n, t), a.repeats, rows)
    if "batched_nms" in a.only:
        for n in a.sizes:
            run_case(f"batched_nms n={n} classes={a.classes}", case_batched(n, t, a.classes), a.repeats, rows)
    if "soft_nms" in a.only:
        for n in soft_sizes:
            run_case(f"soft_nms gaussian n={n}", case_soft(n), a.repeats, rows)
    if "box_iou" in a.only:
        for n in a.iou_sizes:
            run_case(f"box_iou {n}x{n}", case_iou(n), a.repeats, rows)
    if "multiclass_nms" in a.only:
        for n in a.sizes:
            run_case(f"multiclass_nms n={n} C={a.classes}", case_multiclass(n, a.classes), a.repeats, rows)
    if "postprocess" in a.only:
        for batch in (1, 16):
            run_case(
                f"postprocess B={batch} N=8400 C={a.classes}",
                case_postprocess(batch, 8400, a.classes),
                a.repeats,
                rows,
            )
    result: dict[str, Any] = {"machine": info, "repeats": a.repeats, "cases": rows}
    if "cold" in a.only:
        cs = cold_start(a.cold_rounds)
        result["cold_start"] = cs
        print(
            "cold start (fresh process, import + first call of nms, batched_nms, soft_nms, box_iou, "
            f"multiclass_nms, postprocess_detections; median of {a.cold_rounds}): "
            f"python -c 'import numpy, numba' {cs['import_numpy_numba_s']:.2f} s | "
            f"empty cache {cs['fastdet_empty_cache_s']:.2f} s | "
            f"warm cache {cs['fastdet_warm_cache_s']:.2f} s "
            f"(x{cs['warm_over_baseline']:.2f} of the numpy+numba import)"
        )
    if a.json:
        text = json.dumps(result, indent=1)
        if a.json == "-":
            print(text)
        else:
            Path(a.json).write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
