"""Write a synthetic ground truth and results at the scale of COCO's person keypoints val2017.

Scale, by default: 5000 images, about 54 % of them with people (2-10 each, a
long tail), about 11k ``person`` ground truths with 17 keypoints, as in
``person_keypoints_val2017.json`` (11,004 persons): small persons (area under
32**2) carry no keypoints (``num_keypoints == 0``, all zeros), the others have
each keypoint labelled visible (v=2, 70 %), occluded (v=1, 12 %) or not at all
(0, 0, 0); about 1 % crowd regions (``iscrowd=1``, no keypoints, RLE
segmentation). Each annotation has COCO's fields and key order (a polygon
``segmentation`` of about 15 vertices, ``num_keypoints``, ``area``, ``iscrowd``,
``keypoints``, ``image_id``, ``bbox``, ``category_id``, ``id``).

Results: 20 per image (100k), as a top-down pose model writes them with
mmpose / detectron2 (``{"image_id", "category_id", "keypoints", "score"}``,
no ``bbox``): for each labelled person one or two jittered copies of its
skeleton (the jitter scales with the person's size), the rest skeletons at
random places; every keypoint's x, y and confidence and the score are float32
values written as 17-digit Python floats (``.tolist()`` of a float32 tensor).

Usage::

    python bench/make_coco_keypoints_synthetic.py [--out DIR] [--seed 0] [--images 5000]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

KEYPOINT_NAMES = [
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee",
    "right_knee", "left_ankle", "right_ankle",
]  # fmt: skip
SKELETON = [[16, 14], [14, 12], [17, 15], [15, 13], [12, 13], [6, 12], [7, 13], [6, 7], [6, 8], [7, 9],
            [8, 10], [9, 11], [2, 3], [1, 2], [1, 3], [2, 4], [3, 5], [4, 6], [5, 7]]  # fmt: skip
# a standing person's keypoints in its box, (x, y) in [0, 1]
TEMPLATE = np.array([
    [0.50, 0.08], [0.46, 0.06], [0.54, 0.06], [0.42, 0.08], [0.58, 0.08], [0.35, 0.22], [0.65, 0.22],
    [0.28, 0.38], [0.72, 0.38], [0.25, 0.52], [0.75, 0.52], [0.40, 0.55], [0.60, 0.55], [0.40, 0.75],
    [0.60, 0.75], [0.40, 0.95], [0.60, 0.95],
])  # fmt: skip


def default_dir(seed: int = 0, n_images: int = 5000) -> Path:
    return Path(tempfile.gettempdir()) / f"fastdet-coco-keypoints-synthetic-{n_images}-{seed}"


def _polygon(rng: np.random.Generator, x: float, y: float, w: float, h: float) -> list[float]:
    n = int(np.clip(rng.lognormal(2.7, 0.4), 4, 60))
    t = np.sort(rng.random(n)) * 2 * np.pi
    r = 0.5 * (0.8 + 0.2 * rng.random(n))
    px = x + w * (0.5 + r * np.cos(t))
    py = y + h * (0.5 + r * np.sin(t))
    return np.round(np.stack([px, py], axis=1).reshape(-1), 2).tolist()


def make(n_images: int = 5000, seed: int = 0) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The ground-truth dataset dict and the result list."""
    rng = np.random.default_rng(seed)
    images, anns = [], []
    results: list[dict[str, Any]] = []
    for img_id in range(1, n_images + 1):
        width, height = int(rng.choice([640, 480, 500, 427])), int(rng.choice([480, 640, 375, 427]))
        images.append({
            "license": int(rng.integers(1, 9)), "file_name": f"{img_id:012d}.jpg",
            "coco_url": f"http://images.cocodataset.org/val2017/{img_id:012d}.jpg", "height": height,
            "width": width, "date_captured": "2013-11-14 17:02:52",
            "flickr_url": f"http://farm4.staticflickr.com/{img_id}.jpg", "id": img_id,
        })  # fmt: skip
        people = int(np.clip(rng.geometric(0.3) + 1, 2, 10)) if rng.random() < 0.54 else 0
        skeletons: list[tuple[np.ndarray, float]] = []  # labelled persons: (17, 2) keypoints, size
        for _ in range(people):
            side = float(np.exp(rng.normal(3.8, 1.0)))  # sqrt(box area), COCO-like spread
            w = float(np.clip(side * rng.uniform(0.4, 0.8), 2, width))
            h = float(np.clip(side * side / w, 2, height))
            x, y = float(rng.uniform(0, width - w)), float(rng.uniform(0, height - h))
            crowd = rng.random() < 0.01
            area = round(w * h * rng.uniform(0.45, 0.65), 4)
            kpts = np.zeros((17, 3))
            if not crowd and area >= 32**2:
                xy = TEMPLATE * [w, h] + [x, y] + rng.normal(0, 0.04, (17, 2)) * [w, h]
                v = rng.choice([2, 1, 0], size=17, p=[0.70, 0.12, 0.18])
                kpts[:, :2] = np.where(v[:, None] > 0, np.round(xy), 0)
                kpts[:, 2] = v
                if (v > 0).any():
                    skeletons.append((xy, side))
            segmentation: Any = [_polygon(rng, x, y, w, h)]
            if crowd:
                segmentation = {"counts": [int(c) for c in rng.integers(1, 400, 40)], "size": [height, width]}
            anns.append({
                "segmentation": segmentation, "num_keypoints": int((kpts[:, 2] > 0).sum()), "area": area,
                "iscrowd": int(crowd), "keypoints": kpts.astype(int).reshape(-1).tolist(), "image_id": img_id,
                "bbox": [round(x, 2), round(y, 2), round(w, 2), round(h, 2)], "category_id": 1,
                "id": 200000 + len(anns),
            })  # fmt: skip
        dets: list[tuple[np.ndarray, float]] = []
        for xy, side in skeletons:
            for _ in range(1 if rng.random() < 0.6 else 2):
                noise = rng.normal(0, 0.02 + 0.08 * rng.random(), (17, 2)) * side
                dets.append((xy + noise, float(rng.beta(5, 2))))
        while len(dets) < 20:
            side = float(np.exp(rng.normal(3.5, 0.8)))
            w, h = side * 0.6, side / 0.6
            base = TEMPLATE * [w, h] + [rng.uniform(0, width), rng.uniform(0, height)]
            dets.append((base + rng.normal(0, 0.05, (17, 2)) * side, float(rng.beta(1.2, 6))))
        for xy, score in dets[:20]:
            kp = np.empty((17, 3), np.float32)
            kp[:, :2] = xy
            kp[:, 2] = rng.uniform(0.05, 1.0, 17)
            results.append({
                "image_id": img_id, "category_id": 1,
                "keypoints": kp.reshape(-1).astype(np.float64).tolist(),  # float32 values, 17 digits
                "score": float(np.float32(score)),
            })  # fmt: skip
    gt = {
        "info": {"description": "synthetic COCO person keypoints (fastdet bench)", "version": "1.0"},
        "licenses": [{"url": "http://creativecommons.org/licenses/by/2.0/", "id": 1, "name": "CC BY 2.0"}],
        "images": images,
        "annotations": anns,
        "categories": [{"supercategory": "person", "id": 1, "name": "person", "keypoints": KEYPOINT_NAMES,
                        "skeleton": SKELETON}],
    }  # fmt: skip
    return gt, results


def write(out: Path, n_images: int = 5000, seed: int = 0) -> tuple[Path, Path]:
    """Write ``out/gt.json`` and ``out/dt.json`` (once; reused when present)."""
    out.mkdir(parents=True, exist_ok=True)
    gt_path, dt_path = out / "gt.json", out / "dt.json"
    if not (gt_path.exists() and dt_path.exists()):
        gt, results = make(n_images, seed)
        gt_path.write_text(json.dumps(gt))
        dt_path.write_text(json.dumps(results))
    return gt_path, dt_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--images", type=int, default=5000)
    args = parser.parse_args()
    out = args.out or default_dir(args.seed, args.images)
    gt_path, dt_path = write(out, args.images, args.seed)
    gt = json.loads(gt_path.read_text())
    n_kp = sum(a["num_keypoints"] > 0 for a in gt["annotations"])
    print(f"{gt_path}: {len(gt['images'])} images, {len(gt['annotations'])} persons ({n_kp} with keypoints)")
    print(f"{dt_path}: {dt_path.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
