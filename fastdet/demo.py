"""``fastdet demo``: the whole post-detection pipeline on the bundled sample data.

1. COCO evaluation of cocoapi's reference pair (100 val2014 images, fake results),
   timed beside pycocotools when it is installed.
2. NMS, batched NMS and Soft-NMS on mmcv's 949 real pre-NMS detector boxes.
3. A *simulated* raw detector output (seeded clusters of candidates around the
   ground truth) pushed through multi-class NMS and Soft-NMS and evaluated at
   several NMS IoU thresholds.

Results go to an output folder: PR curves (PNG), the sweep plot (PNG) and
``results.json``.
"""

from __future__ import annotations

import contextlib
import importlib.resources
import io
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from fastdet._ahead import CompileAhead

COCO_DIR = "coco-val2014-fake100"
GT_FILE = "instances_val2014_100.json"
DT_FILE = "instances_val2014_fakebbox100_results.json"
NMS_FILE = "nms-mmcv-batched/batched_nms_data.json"
SWEEP = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)


SAMPLE_FILES = (f"{COCO_DIR}/{GT_FILE}", f"{COCO_DIR}/{DT_FILE}", NMS_FILE)


@contextlib.contextmanager
def sample_files(data_dir: Path | None = None) -> Iterator[tuple[Path, ...]]:
    """Paths of the demo's three files (``SAMPLE_FILES``), valid inside the ``with`` block.

    From ``data_dir`` when given (a folder laid out like the repository's ``data/``),
    else from the copy shipped inside the package (``fastdet/sample_data``), read
    through :mod:`importlib.resources`, so that any installation runs the demo.
    """
    if data_dir is not None:
        paths = tuple(data_dir / rel for rel in SAMPLE_FILES)
        missing = [str(p) for p in paths if not p.is_file()]
        if missing:
            raise ValueError(f"--data {data_dir}: missing {', '.join(missing)}")
        yield paths
        return
    root = importlib.resources.files("fastdet").joinpath("sample_data")
    with contextlib.ExitStack() as stack:  # a real file for each, even from a zipped install
        yield tuple(stack.enter_context(importlib.resources.as_file(root.joinpath(r))) for r in SAMPLE_FILES)


def _say(text: str = "") -> None:
    print(text, flush=True)


def _timed(fn: Any, *args: Any, repeat: int = 5, **kwargs: Any) -> tuple[Any, float]:
    """Median wall time of ``repeat`` calls (after the caller has warmed ``fn`` up)."""
    times = []
    out = None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn(*args, **kwargs)
        times.append(time.perf_counter() - start)
    return out, float(np.median(times))


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:8.2f} ms"


def simulate_detections(gt: Any, *, seed: int = 0) -> list[dict[str, Any]]:
    """Simulated raw detector output on a ground-truth set (clearly not a real model).

    For every non-crowd ground-truth box, a cluster of 4-12 jittered candidates;
    the better a candidate overlaps, the higher its score. Each candidate also
    spreads some score over a random wrong category, and every image gets a few
    low-scoring background boxes. Returns one dict per candidate with a per-class
    score vector (``scores``, aligned with ``gt.getCatIds()``).
    """
    rng = np.random.default_rng(seed)
    cat_ids = sorted(gt.getCatIds())
    col = {c: i for i, c in enumerate(cat_ids)}
    out = []
    for img_id in sorted(gt.getImgIds()):
        img = gt.loadImgs([img_id])[0]
        width, height = float(img.get("width", 640)), float(img.get("height", 480))
        anns = [a for a in gt.loadAnns(gt.getAnnIds(imgIds=[img_id])) if not a.get("iscrowd", 0)]
        for ann in anns:
            x, y, w, h = ann["bbox"]
            for _ in range(int(rng.integers(4, 13))):
                jitter = rng.normal(0.0, 0.12, 4) * np.array([w, h, w, h])
                x1, y1 = x + jitter[0], y + jitter[1]
                x2, y2 = x + w + jitter[2], y + h + jitter[3]
                x1, x2 = sorted((float(np.clip(x1, 0, width)), float(np.clip(x2, 0, width))))
                y1, y2 = sorted((float(np.clip(y1, 0, height)), float(np.clip(y2, 0, height))))
                quality = float(np.exp(-np.abs(jitter).sum() / (w + h + 1e-9) * 4))
                scores = np.zeros(len(cat_ids))
                scores[col[ann["category_id"]]] = np.clip(quality * rng.uniform(0.6, 1.0), 0, 1)
                scores[rng.integers(len(cat_ids))] += rng.uniform(0.0, 0.3) * quality
                out.append({"image_id": img_id, "box": [x1, y1, x2, y2], "scores": scores})
        for _ in range(int(rng.integers(2, 8))):  # background clutter
            cx, cy = rng.uniform(0, width), rng.uniform(0, height)
            bw, bh = rng.uniform(10, width / 3), rng.uniform(10, height / 3)
            scores = np.zeros(len(cat_ids))
            scores[rng.integers(len(cat_ids))] = rng.uniform(0.05, 0.4)
            box = [
                max(cx - bw / 2, 0.0),
                max(cy - bh / 2, 0.0),
                min(cx + bw / 2, width),
                min(cy + bh / 2, height),
            ]
            out.append({"image_id": img_id, "box": box, "scores": scores})
    return out


def _postprocess(
    sim: list[dict[str, Any]], cat_ids: list[int], method: str, thr: float
) -> list[dict[str, Any]]:
    """Run multi-class NMS (or per-class Soft-NMS) on each simulated image; COCO results out."""
    from fastdet.nms import multiclass_nms, soft_nms

    by_image: dict[int, list[dict[str, Any]]] = {}
    for cand in sim:
        by_image.setdefault(cand["image_id"], []).append(cand)
    results = []
    for img_id, cands in by_image.items():
        boxes = np.array([c["box"] for c in cands], dtype=np.float64)
        scores = np.stack([c["scores"] for c in cands])
        if method == "nms":
            kb, ks, kl = multiclass_nms(
                boxes, scores, score_threshold=0.05, iou_threshold=thr, max_detections=100
            )
        else:  # Soft-NMS (linear) per class, then the best 100
            parts = []
            for k in np.flatnonzero((scores > 0.05).any(axis=0)):
                idx = np.flatnonzero(scores[:, k] > 0.05)
                keep, new = soft_nms(
                    boxes[idx], scores[idx, k], method="linear", iou_threshold=thr, score_threshold=0.05
                )
                parts += [(float(s), int(idx[i]), int(k)) for i, s in zip(keep, new, strict=True)]
            parts.sort(key=lambda t: (-t[0], t[1], t[2]))
            parts = parts[:100]
            kb = boxes[[p[1] for p in parts]].reshape(-1, 4)
            ks = np.array([p[0] for p in parts])
            kl = np.array([p[2] for p in parts], dtype=np.int64)
        for b, s, label in zip(kb.tolist(), ks.tolist(), kl.tolist(), strict=True):
            results.append(
                {
                    "image_id": img_id,
                    "category_id": cat_ids[label],
                    "bbox": [b[0], b[1], b[2] - b[0], b[3] - b[1]],
                    "score": s,
                }
            )
    return results


def run_demo(out_dir: Path, data_dir: Path | None = None) -> int:
    """Run the demo, write its files into ``out_dir``; returns the exit status.

    The data come from ``data_dir`` if given, else from the sample data shipped in the package.
    """
    from fastdet._ahead import CompileAhead

    # on a first run, a second process compiles what sections 1-3 need after the matching
    tasks = ["coco accumulate", "demo nms", "demo sweep"]
    with CompileAhead(tasks) as ahead, sample_files(data_dir) as (gt_path, dt_path, nms_path):
        return _run_demo(out_dir, gt_path, dt_path, nms_path, data_dir, ahead)


def _run_demo(
    out_dir: Path, gt_path: Path, dt_path: Path, nms_path: Path, data_dir: Path | None, ahead: CompileAhead
) -> int:
    import fastdet
    from fastdet.coco import COCO, COCOeval, evaluate_coco

    out_dir.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {"fastdet_version": fastdet.__version__}
    source = data_dir if data_dir is not None else "the sample data shipped with fastdet"
    _say(f"fastdet {fastdet.__version__} demo: data from {source}")
    _say("Loading kernels (compiled on the first run and cached; later runs take seconds) ...")
    start = time.perf_counter()
    gt = COCO(str(gt_path), verbose=False)
    dt = gt.loadRes(str(dt_path))
    first = evaluate_coco(gt, dt)
    boxes_w = np.array([[0, 0, 1, 1]], np.float32)
    fastdet.nms(boxes_w, np.ones(1, np.float32), 0.5)
    fastdet.batched_nms(boxes_w, np.ones(1, np.float32), np.zeros(1, np.int64), 0.5)
    fastdet.soft_nms(boxes_w, np.ones(1, np.float32))
    fastdet.multiclass_nms(boxes_w, np.ones((1, 2), np.float32))
    _say(f"  ready in {time.perf_counter() - start:.1f} s\n")

    # 1. COCO evaluation -----------------------------------------------------------
    _say("== 1. COCO bbox evaluation: cocoapi's 100 val2014 images and its fake results ==")
    ev = COCOeval(gt, dt, "bbox", verbose=False)
    ev.evaluate()
    ev.accumulate()
    ev.summarize()

    def fastdet_eval() -> Any:
        g = COCO(str(gt_path), verbose=False)
        return evaluate_coco(g, g.loadRes(str(dt_path)))

    result, t_fast = _timed(fastdet_eval)
    names = {c["id"]: c["name"] for c in gt.loadCats(gt.getCatIds())}
    ranked = sorted(((ap, c) for c, ap in result.per_class_ap.items() if ap >= 0), reverse=True)
    _say("\n  best classes:  " + ", ".join(f"{names[c]} {ap:.3f}" for ap, c in ranked[:5]))
    _say("  worst classes: " + ", ".join(f"{names[c]} {ap:.3f}" for ap, c in ranked[-5:]))
    timing = {"fastdet_s": t_fast}
    line = f"\n  load + evaluate + accumulate + summarize: fastdet {t_fast * 1e3:.1f} ms"
    try:
        from pycocotools.coco import COCO as PyCOCO
        from pycocotools.cocoeval import COCOeval as PyCOCOeval

        def pycocotools_eval() -> Any:
            with contextlib.redirect_stdout(io.StringIO()):
                g = PyCOCO(str(gt_path))
                e = PyCOCOeval(g, g.loadRes(str(dt_path)), "bbox")
                e.evaluate()
                e.accumulate()
                e.summarize()
            return e.stats

        py_stats, t_py = _timed(pycocotools_eval, repeat=3)
        same = bool(np.array_equal(np.asarray(py_stats), np.asarray(ev.stats)))
        timing.update(pycocotools_s=t_py, stats_identical=same)
        line += f", pycocotools {t_py * 1e3:.1f} ms ({t_py / t_fast:.1f}x); stats identical: {same}"
    except ImportError:
        line += " (pycocotools is not installed, so no comparison)"
    _say(line)
    report["coco"] = {
        "stats": first.stats,
        "per_class_ap": {names[c]: ap for c, ap in first.per_class_ap.items()},
        "timing": timing,
    }

    pr_paths = []
    try:
        from fastdet.plot import plot_pr_curves

        pr_paths.append(
            plot_pr_curves(result, out_dir / "pr_curves.png", title="COCO fake100: PR per IoU threshold")
        )
    except ImportError as exc:
        _say(f"  (no plots: {exc})")

    # 2. NMS on real detector output ------------------------------------------------
    _say("\n== 2. NMS on mmcv's real pre-NMS detector output (949 boxes, 5 classes) ==")
    ahead.wait("demo nms")
    raw = json.loads(nms_path.read_text())
    boxes = np.asarray(raw["boxes_xyxy_float32"], np.float32)
    scores = np.asarray(raw["scores_float32"], np.float32)
    idxs = np.asarray(raw["idxs"], np.int64)
    nms_rows = {}
    for label, fn in [
        ("nms (IoU 0.7, class-agnostic)", lambda: fastdet.nms(boxes, scores, 0.7)),
        ("batched_nms (IoU 0.7, per class)", lambda: fastdet.batched_nms(boxes, scores, idxs, 0.7)),
        ("soft_nms (gaussian, sigma 0.5)", lambda: fastdet.soft_nms(boxes, scores)[0]),
    ]:
        keep, t = _timed(fn, repeat=20)
        nms_rows[label] = {"kept": len(keep), "median_s": t}
        _say(f"  {label:<34} keeps {len(keep):4d} of {len(boxes)}  {_ms(t)}")
    same = bool(np.array_equal(fastdet.batched_nms(boxes, scores, idxs, 0.7), raw["keep"]))
    _say(f"  batched_nms equals mmcv's published 554 kept indices, in order: {same}")
    report["nms"] = {"rows": nms_rows, "matches_mmcv_keep": same}

    # 3. Simulated raw output: NMS threshold sweep --------------------------------------
    _say("\n== 3. SIMULATED raw detector output on the bundled ground truth: mAP vs NMS IoU ==")
    ahead.wait("demo sweep")
    sim = simulate_detections(gt, seed=0)
    cat_ids = sorted(gt.getCatIds())
    _say(f"  {len(sim)} simulated candidates on {len(gt.getImgIds())} images (seeded; not a real model)")
    sweep: dict[str, list[float]] = {
        "multiclass NMS: AP": [],
        "multiclass NMS: AP50": [],
        "Soft-NMS linear: AP": [],
    }
    _say(f"  {'IoU thr':>7}  {'NMS AP':>7}  {'NMS AP50':>8}  {'Soft AP':>7}  {'kept':>6}")
    for thr in SWEEP:
        hard = _postprocess(sim, cat_ids, "nms", thr)
        soft = _postprocess(sim, cat_ids, "soft", thr)
        r_hard = evaluate_coco(gt, hard).stats
        r_soft = evaluate_coco(gt, soft).stats
        sweep["multiclass NMS: AP"].append(r_hard["AP"])
        sweep["multiclass NMS: AP50"].append(r_hard["AP50"])
        sweep["Soft-NMS linear: AP"].append(r_soft["AP"])
        _say(f"  {thr:7.2f}  {r_hard['AP']:7.3f}  {r_hard['AP50']:8.3f}  {r_soft['AP']:7.3f}  {len(hard):6d}")
    report["simulation"] = {"note": "simulated candidates, seed 0", "iou_thresholds": list(SWEEP), **sweep}
    try:
        from fastdet.plot import plot_nms_sweep

        pr_paths.append(
            plot_nms_sweep(
                SWEEP, sweep, out_dir / "nms_sweep.png", title="SIMULATED detections: mAP vs NMS IoU"
            )
        )
    except ImportError:
        pass

    from fastdet._io import write_atomic

    results_path = write_atomic(out_dir / "results.json", json.dumps(report, indent=2, default=float))
    _say(f"\nFiles written to {out_dir.resolve()}:")
    for p in [*pr_paths, results_path]:
        _say(f"  {p.name}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run_demo(Path("fastdet-demo")))
