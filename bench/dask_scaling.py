"""Sharded COCO evaluation: one process (fastdet.coco) against fastdet.dask on local workers.

The data: a COCO-like ground truth (``--images`` images, about 7.3 boxes per image,
COCO's 80 category ids, ~1 % crowd) and ``--per-image`` detections per image
(jittered copies of the ground truth, some with the wrong category, and
background boxes), float32 values written as 17-digit floats as detectron2 writes
them, split by image over ``--files`` files (image ``i`` in file ``i % files``, so
images interleave across files), plus the same detections in one file for the
one-process baseline. Default: 20,000 images, 1,000,000 detections, 16 files.

Each configuration runs in its own fresh process, after a warm-up evaluation on
a small set (Numba's cache loaded, nothing compiled inside the timing):

* ``one process``: ``fastdet.coco.evaluate_coco(gt.json, all.json)``; its peak RSS.
* ``dask, N workers``: a ``distributed.LocalCluster(n_workers=N,
  threads_per_worker=1, processes=True)`` started before the timing;
  ``fastdet.dask.evaluate_coco(gt.json, [16 files])``; each worker's peak RSS
  (``resource.getrusage``) and its RSS before the run, and the client's peak.

Both compute the same numbers (checked: stats equal). Usage::

    python bench/dask_scaling.py [--images 20000] [--per-image 50] [--files 16] [--workers 2] [--repeat 3]
                                 [--no-malloc-trim]

CPU s is the CPU time of every process involved (workers and client), so it
shows the work apart from the machine's load; wall times on a shared machine vary.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

COCO_CAT_IDS = [i for i in range(1, 91) if i not in (12, 26, 29, 30, 45, 66, 68, 69, 71, 83)]
ROOT = Path(__file__).resolve().parent.parent


def generate(out: Path, n_images: int, per_image: int, n_files: int, seed: int = 0) -> None:
    """Write ``gt.json``, ``dt_XX.json`` (by image) and ``all.json`` (the same, one file) under ``out``."""
    rng = np.random.default_rng(seed)
    img_ids = np.arange(1, n_images + 1)
    n_gt = np.minimum(rng.poisson(7.3, n_images), 60)
    g_img = np.repeat(img_ids, n_gt)
    n_g = len(g_img)
    freq = np.exp(rng.normal(0.0, 1.0, len(COCO_CAT_IDS)))
    freq[0] = 0.0
    freq *= 0.70 / freq.sum()
    freq[0] = 0.30
    g_cat = rng.choice(COCO_CAT_IDS, n_g, p=freq)
    size_class = rng.choice(3, n_g, p=[0.41, 0.34, 0.25])
    lo = np.array([8.0, 32.0, 96.0])[size_class]
    hi = np.array([32.0, 96.0, 400.0])[size_class]
    fill = rng.uniform(0.5, 0.72, n_g)
    side = rng.uniform(lo, hi) / np.sqrt(fill)
    aspect = np.exp(rng.normal(0.0, 0.5, n_g))
    w = np.minimum(side * aspect, 639).round(2)
    h = np.minimum(side / aspect, 479).round(2)
    x = rng.uniform(0, 640 - w).round(2)
    y = rng.uniform(0, 480 - h).round(2)
    area = (w * h * fill).round(4)
    crowd = (rng.random(n_g) < 0.01).astype(int)
    gt = {
        "images": [
            {"id": int(i), "width": 640, "height": 480, "file_name": f"{i:012d}.jpg"} for i in img_ids
        ],
        "categories": [{"id": c, "name": f"class_{c}", "supercategory": "thing"} for c in COCO_CAT_IDS],
        "annotations": [
            {"id": k + 1, "image_id": int(g_img[k]), "category_id": int(g_cat[k]), "iscrowd": int(crowd[k]),
             "bbox": [float(x[k]), float(y[k]), float(w[k]), float(h[k])], "area": float(area[k])}
            for k in range(n_g)
        ],
    }  # fmt: skip
    (out / "gt.json").write_text(json.dumps(gt))
    # detections: per image, per_image boxes; 60 % near a ground truth of the image (15 % of those
    # with a wrong category), the rest background
    n_d = n_images * per_image
    d_img = np.repeat(img_ids, per_image)
    g_off = np.concatenate([[0], np.cumsum(n_gt)])
    has_gt = n_gt[d_img - 1] > 0
    near = has_gt & (rng.random(n_d) < 0.6)
    pick = g_off[d_img - 1] + np.floor(rng.random(n_d) * np.maximum(n_gt[d_img - 1], 1)).astype(np.int64)
    pick = np.minimum(pick, n_g - 1)
    jit = rng.normal(0, 0.12, (n_d, 4))
    bw, bh = np.where(near, w[pick], 0), np.where(near, h[pick], 0)
    dx = np.where(near, x[pick] + jit[:, 0] * bw, rng.uniform(0, 560, n_d))
    dy = np.where(near, y[pick] + jit[:, 1] * bh, rng.uniform(0, 400, n_d))
    dw = np.where(near, bw * np.exp(jit[:, 2]), rng.uniform(4, 300, n_d))
    dh = np.where(near, bh * np.exp(jit[:, 3]), rng.uniform(4, 300, n_d))
    d_cat = np.where(near & (rng.random(n_d) > 0.15), g_cat[pick], rng.choice(COCO_CAT_IDS, n_d, p=freq))
    score = np.where(near, rng.beta(5, 2, n_d), rng.beta(1, 4, n_d)).astype(np.float32)
    box = np.stack([dx, dy, dw, dh], axis=1).astype(np.float32)
    # detectron2: per image by descending score, values float32 -> .tolist() -> json (repr of the double)
    order = np.lexsort((-score, d_img))
    lines = [
        f'{{"image_id": {i}, "category_id": {c}, "bbox": [{bx!r}, {by!r}, {bw_!r}, {bh_!r}], "score": {s!r}}}'
        for i, c, (bx, by, bw_, bh_), s in zip(
            d_img[order].tolist(),
            d_cat[order].tolist(),
            box[order].tolist(),
            score[order].tolist(),
            strict=True,
        )
    ]
    file_of = d_img[order] % n_files
    for f in range(n_files):
        (out / f"dt_{f:02d}.json").write_text(
            "[" + ", ".join(lines[j] for j in np.flatnonzero(file_of == f)) + "]"
        )
    (out / "all.json").write_text(
        "[" + ", ".join(lines[j] for f in range(n_files) for j in np.flatnonzero(file_of == f)) + "]"
    )


_COMMON = """
import json, os, resource, sys, time
sys.path.insert(0, {root!r})
d, n_files, n_workers, repeat = {d!r}, {n_files}, {workers}, {repeat}

def peak_kb():
    # VmHWM: this process's peak RSS (ru_maxrss would carry the parent's peak across exec)
    try:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

def rss_kb():
    import psutil
    return psutil.Process().memory_info().rss // 1024

def cpu_s():
    import psutil
    t = psutil.Process().cpu_times()
    return t.user + t.system
"""

_ONE = (
    _COMMON
    + """
from fastdet.coco import evaluate_coco
evaluate_coco(d + "/small_gt.json", d + "/small_all.json")  # warm-up: Numba's cache
before = rss_kb()
walls, cpus = [], []
for _ in range(repeat):
    t, c = time.perf_counter(), cpu_s()
    res = evaluate_coco(d + "/gt.json", d + "/all.json")
    walls.append(time.perf_counter() - t)
    cpus.append(cpu_s() - c)
out = {{"walls": walls, "cpus": cpus, "peak_kb": peak_kb(), "before_kb": before, "stats": res.stats}}
print(json.dumps(out))
"""
)

_DASK = (
    _COMMON
    + """
from distributed import Client, LocalCluster
import fastdet.dask

if __name__ == "__main__":
    if {no_trim}:  # the nanny's default environment sets MALLOC_TRIM_THRESHOLD_=65536 in each worker
        import dask
        dask.config.set({{"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}})
    t0 = time.perf_counter()
    cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None,
                           silence_logs=40)
    client = Client(cluster)
    client.wait_for_workers(n_workers)
    startup = time.perf_counter() - t0
    small = [d + f"/small_dt_{{f:02d}}.json" for f in range(n_files)]
    fastdet.dask.evaluate_coco(d + "/small_gt.json", small, client=client)  # warm-up: Numba's cache
    before = client.run(rss_kb)
    files = [d + f"/dt_{{f:02d}}.json" for f in range(n_files)]
    trim = sorted(set(client.run(lambda: os.environ.get("MALLOC_TRIM_THRESHOLD_")).values()), key=str)
    walls, cpus = [], []
    for _ in range(repeat):
        c = sum(client.run(cpu_s).values()) + cpu_s()
        t = time.perf_counter()
        res = fastdet.dask.evaluate_coco(d + "/gt.json", files, client=client)
        walls.append(time.perf_counter() - t)
        cpus.append(sum(client.run(cpu_s).values()) + cpu_s() - c)
    out = {{"walls": walls, "cpus": cpus, "startup": startup,
            "worker_peak_kb": list(client.run(peak_kb).values()),
            "worker_before_kb": list(before.values()), "client_peak_kb": peak_kb(), "stats": res.stats,
            "trim": trim}}
    client.close()
    cluster.close()
    print(json.dumps(out))
"""
)


def _run(code: str) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(code)
    try:
        out = subprocess.run([sys.executable, f.name], capture_output=True, text=True, check=True)
    except subprocess.CalledProcessError as exc:
        sys.stderr.write(exc.stderr)
        raise
    finally:
        os.unlink(f.name)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _sizes(out: Path) -> tuple[float, float, float]:
    """Bytes per kept detection of the pieces shard 0 sends, per ground-truth box of the plan, and
    the one-process result columns' bytes per detection."""
    import pickle

    sys.path.insert(0, str(ROOT))
    from fastdet import _sharded
    from fastdet.coco import COCO

    gt = COCO(out / "gt.json", verbose=False)
    options = {"iou_thresholds": None, "rec_thresholds": None, "area_ranges": None, "img_ids": None}
    plan = _sharded.make_plan(
        gt, max_detections=(1, 10, 100), use_cats=True, cat_ids=None, n_groups=2, **options
    )
    m = _sharded.load_and_match(str(out / "dt_00.json"), plan, "dt_00")
    n_kept = sum(len(pc.score) for pc in m.pieces)
    piece_bytes = sum(len(pickle.dumps(pc, protocol=5)) for pc in m.pieces)
    return piece_bytes / n_kept, len(pickle.dumps(plan, protocol=5)) / len(plan.gt), n_kept


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--images", type=int, default=20_000)
    ap.add_argument("--per-image", type=int, default=50)
    ap.add_argument("--files", type=int, default=16)
    ap.add_argument("--workers", type=int, nargs="+", default=[2])
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per configuration (best is shown)")
    ap.add_argument(
        "--no-malloc-trim",
        action="store_true",
        help="start the workers without Dask's MALLOC_TRIM_THRESHOLD_=65536 (less system time)",
    )
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    out = (
        args.out or Path(tempfile.gettempdir()) / f"fastdet_dask_{args.images}_{args.per_image}_{args.files}"
    )
    out.mkdir(parents=True, exist_ok=True)
    if not (out / "all.json").exists():
        t = time.perf_counter()
        generate(out, args.images, args.per_image, args.files)
        small = out / "small"
        small.mkdir(exist_ok=True)
        generate(small, 200, 20, args.files, seed=1)
        for f in small.iterdir():
            f.rename(out / f"small_{f.name}")
        small.rmdir()
        print(f"generated {out} in {time.perf_counter() - t:.1f} s")
    size = sum((out / f"dt_{f:02d}.json").stat().st_size for f in range(args.files)) / 2**20
    print(f"{args.images:,} images, {args.images * args.per_image:,} detections in {args.files} files "
          f"({size:,.0f} MiB), gt {(out / 'gt.json').stat().st_size / 2**20:,.1f} MiB; "
          f"{os.cpu_count()} cores")  # fmt: skip
    fmt = {"root": str(ROOT), "d": str(out), "n_files": args.files, "repeat": args.repeat,
           "no_trim": args.no_malloc_trim}  # fmt: skip
    one = _run(_ONE.format(workers=1, **fmt))
    rows = [("one process (fastdet.coco, all.json)", one, one["peak_kb"])]
    for n in args.workers:
        r = _run(_DASK.format(workers=n, **fmt))
        if r["stats"] != one["stats"]:
            raise SystemExit(f"stats differ: {r['stats']} vs {one['stats']}")
        rows.append((f"fastdet.dask, {n} workers", r, max(r["worker_peak_kb"])))
    best = min(one["walls"])
    print(f"\nbest of {args.repeat} runs each; load average before: {os.getloadavg()[0]:.1f}")
    print(f"{'configuration':<40} {'wall s':>7} {'x one':>6} {'CPU s':>6} {'peak MiB':>9} {'% one':>6}")
    for name, r, peak in rows:
        wall = min(r["walls"])
        cpu = r["cpus"][int(np.argmin(r["walls"]))]
        print(
            f"{name:<40} {wall:7.2f} {best / wall:6.2f} {cpu:6.2f} {peak / 1024:9.0f} "
            f"{100 * peak / one['peak_kb']:5.0f}%"
        )
        if r is not one:
            print(f"{'':<4}startup {r['startup']:.1f} s (not timed); per worker: peak "
                  f"{[round(k / 1024) for k in r['worker_peak_kb']]} MiB, before the runs "
                  f"{[round(k / 1024) for k in r['worker_before_kb']]} MiB; client peak "
                  f"{r['client_peak_kb'] / 1024:.0f} MiB; "
                  f"all walls {[round(w, 2) for w in r['walls']]}; workers' "
                  f"MALLOC_TRIM_THRESHOLD_ {r['trim']}")  # fmt: skip
    per_det, per_gt, _ = _sizes(out)
    print(
        f"sent to the reduction: {per_det:.1f} bytes per kept detection; ground truth sent to each "
        f"worker: {per_gt:.1f} bytes per box"
    )
    print(
        f"one process: RSS {one['before_kb'] / 1024:.0f} MiB after imports and warm-up; "
        f"all walls {[round(w, 2) for w in one['walls']]}; stats equal, AP = {one['stats']['AP']!r}"
    )


if __name__ == "__main__":
    main()
