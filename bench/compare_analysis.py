"""Time fastdet.analysis beside tidecv (TIDE) and supervision (confusion matrix), in one process.

On the synthetic COCO-val2017-scale set of ``bench/make_coco_synthetic.py``
(5000 images, ~37k ground truth, ~250k detections written as a detector
writes them), it measures:

- TIDE, tidecv 1.0.1: load = ``datasets.COCO`` + ``datasets.COCOResult``;
  analysis = ``TIDE().evaluate(mode=BOX)`` + ``get_main_errors()`` +
  ``get_special_errors()``. fastdet: analysis = ``tide(gt_dict, results_list)``
  on the parsed JSON (columns extracted inside); e2e = ``tide(gt.json, dt.json)``
  (the files read by the Numba JSON scanner, no Python object per annotation);
  the row "fastdet COCO" times ``tide(COCO(gt.json), gt.loadRes(dt.json))`` e2e.
  The numbers must agree to 1e-9 (AP, 6 main and 2 special dAP) and the error
  counts exactly.
- Confusion matrix at IoU 0.5 / score 0.3, supervision
  ``ConfusionMatrix.from_detections`` (its ``Detections`` built beforehand,
  untimed) against ``detection_confusion_matrix`` on the same per-image float32
  arrays; the matrices must be equal.

fastdet's kernels are loaded (compiled or read from the cache) by a warm-up on
a tiny set first; that first-call time is printed. ``--cold`` also times a
first call in a fresh process with an empty Numba cache (compile time).

Usage::

    python bench/compare_analysis.py                 # 5000 images, fastdet 3 repeats, peers once
    python bench/compare_analysis.py --images 1000 --skip tidecv --json out.json --cold
    python bench/compare_analysis.py --only tide     # TIDE alone (no confusion matrix)
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import make_coco_synthetic

from fastdet._io import read_json
from fastdet.analysis import ERROR_TYPES, SPECIAL_ERROR_TYPES, detection_confusion_matrix, tide


@contextlib.contextmanager
def tidecv_context() -> Iterator[Any]:
    """Import tidecv with ``np.float`` / ``np.int`` restored (NumPy 2 removed them); undo afterwards."""
    added = [name for name in ("float", "int") if not hasattr(np, name)]
    for name in added:
        setattr(np, name, float if name == "float" else int)
    try:
        import matplotlib

        with warnings.catch_warnings(), matplotlib.rc_context():  # tidecv restyles matplotlib globally
            warnings.simplefilter("ignore")
            import tidecv

            yield tidecv
    finally:
        for name in added:
            delattr(np, name)


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Median wall time of ``repeat`` calls, and the last result."""
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def numbers(ap: float, main: dict[str, float], special: dict[str, float]) -> np.ndarray:
    return np.array([ap, *(main[k] for k in ERROR_TYPES), *(special[k] for k in SPECIAL_ERROR_TYPES)])


def run_tidecv(gt: Path, dt: Path) -> dict[str, Any]:
    with tidecv_context() as tidecv, contextlib.redirect_stdout(io.StringIO()):
        t0 = time.perf_counter()
        g = tidecv.datasets.COCO(str(gt))
        d = tidecv.datasets.COCOResult(str(dt))
        t1 = time.perf_counter()
        t = tidecv.TIDE()
        run = t.evaluate(g, d, mode=tidecv.TIDE.BOX)
        main = t.get_main_errors()[d.name]
        special = t.get_special_errors()[d.name]
        t2 = time.perf_counter()
    counts = {e.short_name: len(v) for e, v in run.error_dict.items()}
    return {"version": tidecv.__version__, "load": t1 - t0, "analysis": t2 - t1, "e2e": t2 - t0,
            "numbers": numbers(run.ap, main, special), "counts": counts}  # fmt: skip


def run_fastdet_tide(gt: Path, dt: Path, repeat: int) -> dict[str, dict[str, Any]]:
    from fastdet.coco import COCO

    gt_dict, dt_list = read_json(gt), read_json(dt)
    analysis, r = timed(lambda: tide(gt_dict, dt_list), repeat)
    e2e, r2 = timed(lambda: tide(gt, dt), repeat)
    assert r2.main_errors == r.main_errors

    def objects() -> Any:
        g = COCO(gt, verbose=False)
        return tide(g, g.loadRes(str(dt), verbose=False))

    e2e_obj, r3 = timed(objects, repeat)
    assert r3.main_errors == r.main_errors
    row = {"analysis": analysis, "e2e": e2e, "load": e2e - analysis,
           "numbers": numbers(r.ap, r.main_errors, r.special_errors), "counts": r.counts}  # fmt: skip
    return {"fastdet": row, "fastdet COCO": {**row, "e2e": e2e_obj, "load": e2e_obj - analysis}}


def per_image_arrays(gt: Path, dt: Path) -> tuple[dict[str, list[np.ndarray]], list[str]]:
    """Per-image xyxy float32 boxes, class indices and float32 scores (crowd regions left out)."""
    g, d = read_json(gt), read_json(dt)
    cats = sorted(c["id"] for c in g["categories"])
    index = {c: i for i, c in enumerate(cats)}
    images = [im["id"] for im in g["images"]]
    rows: dict[int, dict[str, list]] = {i: {"gb": [], "gl": [], "db": [], "ds": [], "dl": []} for i in images}
    for a in g["annotations"]:
        if not a["iscrowd"]:
            x, y, w, h = a["bbox"]
            rows[a["image_id"]]["gb"].append([x, y, x + w, y + h])
            rows[a["image_id"]]["gl"].append(index[a["category_id"]])
    for r in d:
        x, y, w, h = r["bbox"]
        rows[r["image_id"]]["db"].append([x, y, x + w, y + h])
        rows[r["image_id"]]["ds"].append(r["score"])
        rows[r["image_id"]]["dl"].append(index[r["category_id"]])
    out: dict[str, list[np.ndarray]] = {
        k: [] for k in ("gt_boxes", "gt_labels", "dt_boxes", "dt_scores", "dt_labels")
    }
    for i in images:
        row = rows[i]
        out["gt_boxes"].append(np.array(row["gb"], np.float32).reshape(-1, 4))
        out["gt_labels"].append(np.array(row["gl"], np.int64))
        out["dt_boxes"].append(np.array(row["db"], np.float32).reshape(-1, 4))
        out["dt_scores"].append(np.array(row["ds"], np.float32))
        out["dt_labels"].append(np.array(row["dl"], np.int64))
    return out, [str(c) for c in cats]


def run_confusion(data: dict[str, list[np.ndarray]], names: list[str], repeat: int, skip: list[str]) -> dict:
    rows: dict[str, Any] = {}
    elapsed, cm = timed(lambda: detection_confusion_matrix(**data, class_names=names), repeat)
    rows["fastdet"] = {"time": elapsed, "matrix": cm.matrix}
    if "supervision" not in skip:
        try:
            import supervision as sv
        except ImportError as exc:
            print(f"supervision: not installed ({exc})")
            return rows
        targets = [
            sv.Detections(xyxy=b, class_id=c)
            for b, c in zip(data["gt_boxes"], data["gt_labels"], strict=True)
        ]
        dets = zip(data["dt_boxes"], data["dt_scores"], data["dt_labels"], strict=True)
        preds = [sv.Detections(xyxy=b, class_id=c, confidence=s) for b, s, c in dets]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            elapsed, ref = timed(
                lambda: sv.ConfusionMatrix.from_detections(
                    preds, targets, classes=names, conf_threshold=0.3, iou_threshold=0.5
                ),
                1,
            )
        rows["supervision"] = {"version": sv.__version__, "time": elapsed, "matrix": ref.matrix}
    return rows


def cold_start(gt: Path, dt: Path) -> float:
    """Seconds for import + first tide() + first confusion matrix in a fresh process, empty Numba cache."""
    code = (
        "import time; t = time.perf_counter()\n"
        "from fastdet.analysis import tide, detection_confusion_matrix as cm\n"
        f"tide({str(gt)!r}, {str(dt)!r})\n"
        "cm([[[0, 0, 1, 1]]], [[0]], [[[0, 0, 1, 1]]], [[1.0]], [[0]])\n"
        "print(time.perf_counter() - t)"
    )
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        root = Path(__file__).resolve().parent.parent
        out = subprocess.run([sys.executable, "-c", code], env=env, cwd=root, capture_output=True, text=True,
                             check=True)  # fmt: skip
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip", nargs="*", default=[], help="peers to leave out: tidecv, supervision")
    parser.add_argument(
        "--cold", action="store_true", help="also time a first call with an empty Numba cache"
    )
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    parser.add_argument("--only", choices=("tide", "confusion"), default=None, help="run one comparison")
    args = parser.parse_args()
    gt, dt = make_coco_synthetic.write(
        make_coco_synthetic.default_dir(args.seed, args.images), args.images, args.seed
    )
    n_gt = len(read_json(gt)["annotations"])
    n_dt = len(read_json(dt))
    print(f"data: {args.images} images, {n_gt} GT, {n_dt} detections ({gt.parent})")

    tiny_gt, tiny_dt = make_coco_synthetic.write(make_coco_synthetic.default_dir(1, 20), 20, 1)
    t = time.perf_counter()
    tide(tiny_gt, tiny_dt)
    tiny = per_image_arrays(tiny_gt, tiny_dt)
    detection_confusion_matrix(**tiny[0], class_names=tiny[1])
    report: dict[str, Any] = {"images": args.images, "gt": n_gt, "dt": n_dt,
                              "first_call_s": time.perf_counter() - t}  # fmt: skip
    print(f"fastdet first call (kernel load/compile, tiny set): {report['first_call_s']:.2f} s")
    if args.cold:
        report["cold_start_s"] = cold_start(tiny_gt, tiny_dt)
        print(
            f"fastdet cold start (import, compile, first calls; empty cache): {report['cold_start_s']:.2f} s"
        )

    if args.only != "confusion":
        report["tide"] = tide_table(gt, dt, args.repeat, args.skip)
    if args.only != "tide":
        report["confusion"] = confusion_table(gt, dt, args.repeat, args.skip)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


def tide_table(gt: Path, dt: Path, repeat: int, skip: list[str]) -> dict[str, Any]:
    """Time TIDE on both sides, print the table (median seconds, tidecv / fastdet); the rows."""
    print(f"\nTIDE (fastdet: median of {repeat}; tidecv: one run)")
    rows = run_fastdet_tide(gt, dt, repeat)
    if "tidecv" not in skip:
        try:
            rows["tidecv"] = run_tidecv(gt, dt)
        except ImportError as exc:
            print(f"tidecv: not installed ({exc})")
    print(
        f"{'implementation':<16}{'load s':>9}{'analysis s':>12}{'e2e s':>9}{'analysis x':>12}{'e2e x':>8}"
        "  numbers"
    )
    ref = rows.get("tidecv")
    for name, row in rows.items():
        label = name + (" " + row["version"] if "version" in row else "")
        if ref is not None:
            diff = float(np.max(np.abs(row["numbers"] - ref["numbers"])))
            same = "equal" if diff == 0 else f"max |diff| {diff:.1e}"
            same += "" if row["counts"] == ref["counts"] else ", COUNTS DIFFER"
            sp_a = f"{ref['analysis'] / row['analysis']:.0f}x"
            sp_e = f"{ref['e2e'] / row['e2e']:.0f}x"
        else:
            same, sp_a, sp_e = "-", "-", "-"
        print(
            f"{label:<16}{row['load']:>9.3f}{row['analysis']:>12.3f}{row['e2e']:>9.3f}{sp_a:>12}{sp_e:>8}"
            f"  {same}"
        )
    return {k: {**v, "numbers": v["numbers"].tolist()} for k, v in rows.items()}


def confusion_table(gt: Path, dt: Path, repeat: int, skip: list[str]) -> dict[str, Any]:
    """Time the confusion matrix beside supervision and print the table; the rows."""
    print("\nconfusion matrix (IoU 0.5, score 0.3)")
    data, names = per_image_arrays(gt, dt)
    conf = run_confusion(data, names, repeat, skip)
    base = conf.get("supervision")
    for name, row in conf.items():
        label = name + (" " + row["version"] if "version" in row else "")
        if base is not None:
            same = "equal" if np.array_equal(row["matrix"], base["matrix"]) else "DIFFERENT"
            sp = f"{base['time'] / row['time']:.0f}x"
        else:
            same, sp = "-", "-"
        print(f"{label:<22}{row['time']:>9.3f} s{sp:>8}  matrix {same}")
    return {k: {"time": v["time"], **({"version": v["version"]} if "version" in v else {})}
            for k, v in conf.items()}  # fmt: skip


if __name__ == "__main__":
    main()
