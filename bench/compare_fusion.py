"""Time fastdet.fusion beside ensemble-boxes: WBF, non-maximum weighted, and a whole results set.

Usage::

    python bench/compare_fusion.py                 # every case, 5 repeats (ensemble-boxes: 3)
    python bench/compare_fusion.py --quick         # smaller sample of images for the per-image peer
    python bench/compare_fusion.py --only wbf nmw  # the one-image cases only
    python bench/compare_fusion.py --only variants   # DIoU-NMS and Matrix NMS beside plain NMS
    python bench/compare_fusion.py --json out.json

Input looks like an ensemble's: ``make_ensemble`` draws objects per image (COCO-like counts,
log-uniform sizes, 80 classes) and every model detects the same objects with its own jitter,
box bias and score calibration, then fills its box budget with low-score boxes, most of them
loosely on the objects with confused classes, as a detector's top-100 tail looks.
Coordinates are normalised to [0, 1] and rounded to float32, as detectors write them.

One image, 3 models x 1000 and x 5000 boxes: ``weighted_boxes_fusion`` and
``non_maximum_weighted`` against ensemble-boxes' functions of the same name.

Results set, 5000 images x 3 models x 100 boxes: fastdet's ``fuse_arrays`` (one call for
the whole set) and ``fuse_coco_results`` (COCO dicts in and out) against ensemble-boxes
called once per image on lists prepared before timing. ensemble-boxes takes about
0.05-0.2 s per image, so it is timed on a sample of images (``--peer-images``, default 500)
and its time scaled to the whole set; ``--peer-images 5000`` times it on all of them.

``variants`` times ``diou_nms`` and ``matrix_nms`` (no peer installed here) beside fastdet's
plain ``nms`` on the clustered float32 boxes of ``bench/generate.py``.

Each implementation is called once to warm up (compilation), then timed; the table shows
medians, ``peer / fastdet`` and the largest difference between the two results. ``--cpu``
times this process's CPU time instead of wall time: on a machine busy with other work, the
figures and their ratios then change far less (everything here runs on one thread).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from generate import clustered_boxes

import fastdet
from fastdet.fusion import fuse_arrays, fuse_coco_results, non_maximum_weighted, weighted_boxes_fusion

try:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import ensemble_boxes
except ImportError:  # the peer is optional
    ensemble_boxes = None


# ----------------------------------------------------------------------------- data


def make_ensemble(
    n_images: int, n_models: int, per_model: int, *, objects: float = 7.0, seed: int = 0
) -> list[np.ndarray]:
    """Per model an (N, 7) float64 array ``[image_id, x1, y1, x2, y2, score, label]``, rows by image.

    Each image has about ``objects`` objects (at least one); each model sees each object with
    probability 0.9 and emits 1-3 jittered boxes of its class for it (its own size bias and
    jitter, scores that fall with the jitter). The rest of its ``per_model`` boxes have low
    scores, as the tail of a detector's output: three in four lie loosely on an object (with
    its class or, more often, a confused one), one in four anywhere.
    """
    rng = np.random.default_rng(seed)
    bias = rng.normal(0.0, 0.02, (n_models, 4))
    jitter = rng.uniform(0.03, 0.08, n_models)
    calib = rng.uniform(0.8, 1.0, n_models)
    out: list[list[np.ndarray]] = [[] for _ in range(n_models)]
    for image in range(n_images):
        k = max(1, int(rng.poisson(objects)))
        size = np.exp(rng.uniform(np.log(0.02), np.log(0.6), (k, 2)))
        centre = rng.uniform(size / 2, 1 - size / 2)
        cls = rng.integers(0, 80, k)
        conf = rng.uniform(0.4, 1.0, k)
        for m in range(n_models):
            seen = np.flatnonzero(rng.uniform(size=k) < 0.9)
            reps = rng.integers(1, 4, len(seen))
            which = np.repeat(seen, reps)[:per_model]
            n_fg = len(which)
            shift = rng.normal(0.0, jitter[m], (n_fg, 2))
            c = centre[which] + (shift + bias[m, :2]) * size[which]
            s = size[which] * np.exp(rng.normal(0.0, jitter[m], (n_fg, 2)) + bias[m, 2:])
            fg_score = conf[which] * calib[m] * np.exp(-3.0 * np.sqrt((shift**2).sum(1)))
            fg_label = np.where(rng.uniform(size=n_fg) < 0.95, cls[which], rng.integers(0, 80, n_fg))
            n_low = per_model - n_fg
            near = rng.uniform(size=n_low) < 0.75
            on = rng.integers(0, k, n_low)
            far_size = np.exp(rng.uniform(np.log(0.01), np.log(0.3), (n_low, 2)))
            far_c = rng.uniform(far_size / 2, 1 - far_size / 2)
            near_size = size[on] * np.exp(rng.normal(0.0, 0.3, (n_low, 2)))
            near_c = centre[on] + rng.normal(0.0, 0.25, (n_low, 2)) * size[on]
            low_size = np.where(near[:, None], near_size, far_size)
            low_c = np.where(near[:, None], near_c, far_c)
            low_label = np.where(near & (rng.uniform(size=n_low) < 0.3), cls[on], rng.integers(0, 80, n_low))
            centres = np.concatenate([c, low_c])
            sizes = np.concatenate([s, low_size])
            boxes = np.clip(np.concatenate([centres - sizes / 2, centres + sizes / 2], axis=1), 0.0, 1.0)
            scores = np.concatenate([fg_score, rng.uniform(0.001, 0.3, n_low)])
            labels = np.concatenate([fg_label, low_label])
            rows = np.column_stack([np.full(per_model, image), boxes, scores, labels])
            rows[:, 1:6] = rows[:, 1:6].astype(np.float32)  # what a detector writes
            out[m].append(rows[np.argsort(-rows[:, 5], kind="stable")])
    return [np.concatenate(parts) for parts in out]


def split(arrays: list[np.ndarray]) -> list[tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]]:
    """Per image: ensemble-boxes' (boxes_list, scores_list, labels_list)."""
    n_images = int(max(a[:, 0].max() for a in arrays)) + 1
    bounds = [np.searchsorted(a[:, 0], np.arange(n_images + 1)) for a in arrays]
    images = []
    for i in range(n_images):
        parts = [a[b[i] : b[i + 1]] for a, b in zip(arrays, bounds, strict=True)]
        images.append(([p[:, 1:5] for p in parts], [p[:, 5] for p in parts], [p[:, 6] for p in parts]))
    return images


def as_coco(arrays: list[np.ndarray]) -> list[list[dict[str, Any]]]:
    """COCO results lists (bbox xywh, here in normalised units), one per model."""
    lists = []
    for a in arrays:
        xywh = np.column_stack([a[:, 1:3], a[:, 3:5] - a[:, 1:3]]).tolist()
        lists.append(
            [
                {"image_id": int(i), "category_id": int(c), "bbox": b, "score": float(s)}
                for i, b, s, c in zip(a[:, 0], xywh, a[:, 5], a[:, 6], strict=True)
            ]
        )
    return lists


# ----------------------------------------------------------------------------- timing


#: The clock: wall time (time.perf_counter), or with --cpu this process's CPU time
#: (time.process_time), which a busy machine inflates far less; every implementation here
#: runs on one thread.
CLOCK = time.perf_counter


def timed(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Median seconds of ``repeats`` calls after one warm-up call; and the last result."""
    result = fn()
    times = []
    for _ in range(repeats):
        t0 = CLOCK()
        result = fn()
        times.append(CLOCK() - t0)
    return statistics.median(times), result


def difference(a: tuple[Any, ...], b: tuple[Any, ...]) -> str:
    """Largest absolute difference of boxes and scores, or a count mismatch.

    Both results are put in one canonical order first (score, label, box): ensemble-boxes orders
    equal scores by NumPy's unstable sort, fastdet by input order.
    """

    def canonical(r: tuple[Any, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        boxes, scores, labels = (np.asarray(x, np.float64) for x in r)
        boxes = boxes.reshape(-1, 4)
        order = np.lexsort((boxes[:, 3], boxes[:, 2], boxes[:, 1], boxes[:, 0], labels, -scores))
        return boxes[order], scores[order], labels[order]

    ab, as_, al = canonical(a)
    bb, bs, bl = canonical(b)
    if len(ab) != len(bb):
        return f"count {len(ab)} vs {len(bb)}"
    if not np.array_equal(al, bl):
        return "labels differ"
    return f"{max(np.abs(ab - bb).max(initial=0), np.abs(as_ - bs).max(initial=0)):.1e}"


def one_image(name: str, per_model: int, n_models: int, repeats: int, peer_repeats: int) -> dict[str, Any]:
    arrays = make_ensemble(1, n_models, per_model, objects=per_model / 20, seed=per_model)
    (boxes, scores, labels) = split(arrays)[0]
    ours = weighted_boxes_fusion if name == "wbf" else non_maximum_weighted
    t_fd, r_fd = timed(lambda: ours(boxes, scores, labels), repeats)
    row: dict[str, Any] = {"case": f"{name} {n_models} models x {per_model} boxes", "fastdet_s": t_fd}
    if ensemble_boxes is not None:
        peer = ensemble_boxes.weighted_boxes_fusion if name == "wbf" else ensemble_boxes.non_maximum_weighted
        t_eb, r_eb = timed(lambda: peer(boxes, scores, labels), peer_repeats)
        row.update(ensemble_boxes_s=t_eb, ratio=t_eb / t_fd, max_diff=difference(r_fd, r_eb))
    return row


def results_set(
    name: str, n_images: int, n_models: int, per_model: int, peer_images: int, repeats: int
) -> list[dict[str, Any]]:
    arrays = make_ensemble(n_images, n_models, per_model, seed=1)
    method = "wbf" if name == "wbf" else "nmw"
    t_arr, fused = timed(lambda: fuse_arrays(arrays, method=method), repeats)
    coco = as_coco(arrays)
    t_coco, _ = timed(lambda: fuse_coco_results(coco, method=method), max(1, repeats // 2))
    case = f"{name} results set, {n_images} images x {n_models} models x {per_model} boxes"
    rows = [
        {"case": case + " (fuse_arrays)", "fastdet_s": t_arr},
        {"case": case + " (fuse_coco_results, dicts)", "fastdet_s": t_coco},
    ]
    if ensemble_boxes is not None:
        peer = ensemble_boxes.weighted_boxes_fusion if name == "wbf" else ensemble_boxes.non_maximum_weighted
        images = split(arrays)
        sample = images[: min(peer_images, n_images)]
        peer(*sample[0])  # warm-up (NMW's Numba functions compile)
        t0 = CLOCK()
        peer_out = [peer(*args) for args in sample]
        per_image = (CLOCK() - t0) / len(sample)
        total = per_image * n_images
        worst = "0"
        for i, got in enumerate(peer_out):
            mine = fused[fused[:, 0] == i]
            d = difference((mine[:, 1:5], mine[:, 5], mine[:, 6]), got)
            if d.startswith(("count", "labels")) or float(d) > float(worst):
                worst = d
        scaled = "" if len(sample) == n_images else f" (timed on {len(sample)} images, scaled)"
        for row, t in zip(rows, (t_arr, t_coco), strict=True):
            row.update(ensemble_boxes_s=total, ratio=total / t, max_diff=worst, note=scaled.strip())
    return rows


def nms_variants(n: int, repeats: int) -> list[dict[str, Any]]:
    """diou_nms and matrix_nms beside nms on n clustered boxes (80 classes for matrix_nms)."""
    boxes, scores, labels = clustered_boxes(n)
    t_nms, keep = timed(lambda: fastdet.nms(boxes, scores, 0.5), repeats)
    t_diou, keep_d = timed(lambda: fastdet.diou_nms(boxes, scores, 0.5), repeats)
    t_mat, _ = timed(lambda: fastdet.matrix_nms(boxes, scores, labels, max_candidates=min(n, 1000)), repeats)
    return [
        {"case": f"nms, {n} boxes (kept {len(keep)})", "fastdet_s": t_nms},
        {"case": f"diou_nms, {n} boxes (kept {len(keep_d)})", "fastdet_s": t_diou},
        {"case": f"matrix_nms, {n} boxes, 80 classes, best {min(n, 1000)}", "fastdet_s": t_mat},
    ]


def machine() -> dict[str, Any]:
    import numba

    info: dict[str, Any] = {
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "fastdet": fastdet.__version__,
    }
    try:
        info["ensemble_boxes"] = importlib.metadata.version("ensemble-boxes")
    except importlib.metadata.PackageNotFoundError:
        info["ensemble_boxes"] = None
    try:
        info["loadavg"] = os.getloadavg()
    except OSError:
        pass
    return info


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000], help="boxes per model, one image")
    p.add_argument("--models", type=int, default=3)
    p.add_argument("--images", type=int, default=5000, help="images in the results set")
    p.add_argument("--per-image", type=int, default=100, help="boxes per image per model in the results set")
    p.add_argument("--peer-images", type=int, default=500, help="images ensemble-boxes is timed on")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--peer-repeats", type=int, default=3)
    p.add_argument(
        "--only",
        nargs="+",
        choices=["wbf", "nmw", "set", "variants"],
        default=["wbf", "nmw", "set", "variants"],
    )
    p.add_argument("--quick", action="store_true", help="peer timed on 100 images, 3 repeats")
    p.add_argument("--cpu", action="store_true", help="time CPU time of this process instead of wall time")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    a = p.parse_args(argv)
    if a.quick:
        a.peer_images, a.repeats, a.peer_repeats = 100, 3, 1
    if a.cpu:
        global CLOCK
        CLOCK = time.process_time
    info = machine()
    info["clock"] = "process CPU time" if a.cpu else "wall time"
    print("machine: " + ", ".join(f"{k}={v}" for k, v in info.items()), flush=True)
    rows: list[dict[str, Any]] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ensemble-boxes warns about nothing here, but be safe
        for name in ("wbf", "nmw"):
            if name in a.only:
                for n in a.sizes:
                    rows.append(one_image(name, n, a.models, a.repeats, a.peer_repeats))
                    print(format_row(rows[-1]), flush=True)
        if "set" in a.only:
            for name in ("wbf", "nmw"):
                for row in results_set(name, a.images, a.models, a.per_image, a.peer_images, a.repeats):
                    rows.append(row)
                    print(format_row(row), flush=True)
    if "variants" in a.only:
        for n in (5000, 20000):
            for row in nms_variants(n, a.repeats):
                rows.append(row)
                print(format_row(row), flush=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"machine": info, "cases": rows}, f, indent=1)
    return 0


def format_row(row: dict[str, Any]) -> str:
    text = f"{row['case']:<72} fastdet {row['fastdet_s'] * 1e3:10.2f} ms"
    if "ensemble_boxes_s" in row:
        text += (
            f" | ensemble-boxes {row['ensemble_boxes_s'] * 1e3:11.1f} ms | x{row['ratio']:7.1f}"
            f" | max diff {row['max_diff']}"
        )
        if row.get("note"):
            text += f" {row['note']}"
    return text


if __name__ == "__main__":
    sys.exit(main())
