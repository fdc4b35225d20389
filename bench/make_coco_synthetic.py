"""Write a synthetic COCO-val2017-scale ground-truth / results pair (seeded, reproducible).

Scale, by default: 5000 images, 80 categories with COCO's ids (1..90 with gaps)
and a COCO-like category mix (person 30 %, a long tail), about 36k ground-truth
boxes with COCO's small / medium / large mix (about 41 % / 34 % / 25 % by the
``area`` field) and about 1 % crowd regions, and about
250k detections: jittered copies of the ground truth (true positives at varied
IoU), duplicates, wrong-category copies and background boxes, at most 100 per
image, scores rounded to 3 decimals so that ties occur, as they do in real
results files.

Usage::

    python bench/make_coco_synthetic.py [--out DIR] [--seed 0] [--images 5000]

It prints the two paths. The files are plain JSON a user could hand to
pycocotools: ``DIR/gt.json`` (a dataset dict with polygon segmentations) and
``DIR/dt.json`` (a loadRes list of ``{image_id, category_id, bbox, score}``).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np

#: COCO's 80 category ids (1..90 with the ten unused ids left out).
COCO_CAT_IDS = [i for i in range(1, 91) if i not in (12, 26, 29, 30, 45, 66, 68, 69, 71, 83)]


def default_dir(seed: int = 0, n_images: int = 5000) -> Path:
    """Where the files go when ``--out`` is not given."""
    return Path(tempfile.gettempdir()) / f"fastdet_coco_synth_{n_images}_seed{seed}"


def make(n_images: int = 5000, seed: int = 0) -> tuple[dict, list]:
    """Return ``(gt_dataset, results)`` as plain Python objects."""
    rng = np.random.default_rng(seed)
    cats = [{"id": c, "name": f"class_{c}", "supercategory": "thing"} for c in COCO_CAT_IDS]
    # category frequencies like COCO val2017: "person" about 30 %, the rest a long tail (<= ~6 % each)
    freq = np.exp(rng.normal(0.0, 1.0, len(COCO_CAT_IDS)))
    freq[0] = 0.0
    freq *= 0.70 / freq.sum()
    freq[0] = 0.30
    images, anns, results = [], [], []
    ann_id = 1
    for img_id in range(1, n_images + 1):
        width, height = int(rng.integers(400, 641)), int(rng.integers(300, 481))
        images.append({"id": img_id, "width": width, "height": height, "file_name": f"{img_id:012d}.jpg"})
        n_gt = int(min(rng.poisson(7.3), 60))
        gts = []
        for _ in range(n_gt):
            size_class = rng.choice(3, p=[0.41, 0.34, 0.25])
            fill = rng.uniform(0.45, 0.9)  # mask area / box area
            lo, hi = [(8.0, 32.0), (32.0, 96.0), (96.0, 400.0)][size_class]
            side = rng.uniform(lo, hi) / np.sqrt(fill)
            aspect = np.exp(rng.normal(0.0, 0.5))
            w = float(min(side * aspect, width - 1))
            h = float(min(side / aspect, height - 1))
            x = float(rng.uniform(0, width - w))
            y = float(rng.uniform(0, height - h))
            cat = int(rng.choice(COCO_CAT_IDS, p=freq))
            crowd = int(rng.random() < 0.01)
            area = round(w * h * fill, 2)
            poly = [x, y, x + w, y + 0.2 * h, x + 0.8 * w, y + h, x + 0.1 * w, y + 0.9 * h]
            anns.append(
                {
                    "id": ann_id,
                    "image_id": img_id,
                    "category_id": cat,
                    "bbox": [round(x, 2), round(y, 2), round(w, 2), round(h, 2)],
                    "area": area,
                    "iscrowd": crowd,
                    "segmentation": [[round(v, 2) for v in poly]],
                }
            )
            gts.append((x, y, w, h, cat))
            ann_id += 1
        dets = []
        for x, y, w, h, cat in gts:
            for _ in range(int(rng.integers(1, 4))):  # a hit, then duplicates
                s = rng.uniform(0.02, 0.25)
                dx, dy = rng.normal(0, s * w), rng.normal(0, s * h)
                dw, dh = w * np.exp(rng.normal(0, s)), h * np.exp(rng.normal(0, s))
                wrong = rng.random() < 0.1
                dcat = int(rng.choice(COCO_CAT_IDS)) if wrong else cat
                dets.append((x + dx, y + dy, dw, dh, dcat, rng.beta(4, 2)))
        n_bg = int(rng.integers(15, 56))  # background boxes, mostly low scores
        for _ in range(n_bg):
            w = float(rng.uniform(4, width / 2))
            h = float(rng.uniform(4, height / 2))
            dets.append(
                (
                    rng.uniform(0, width - w),
                    rng.uniform(0, height - h),
                    w,
                    h,
                    int(rng.choice(COCO_CAT_IDS, p=freq)),
                    rng.beta(1, 6),
                )
            )
        dets.sort(key=lambda d: -d[5])
        for x, y, w, h, cat, score in dets[:100]:
            results.append(
                {
                    "image_id": img_id,
                    "category_id": cat,
                    "bbox": [round(float(x), 2), round(float(y), 2), round(float(w), 2), round(float(h), 2)],
                    "score": round(float(score), 3),
                }
            )
    gt = {
        "info": {"description": f"fastdet synthetic COCO-scale set, seed {seed}"},
        "licenses": [],
        "images": images,
        "annotations": anns,
        "categories": cats,
    }
    return gt, results


def write(out: Path, n_images: int = 5000, seed: int = 0) -> tuple[Path, Path]:
    """Generate and write ``gt.json`` and ``dt.json`` into ``out`` (reused when present)."""
    out.mkdir(parents=True, exist_ok=True)
    gt_path, dt_path = out / "gt.json", out / "dt.json"
    if not (gt_path.exists() and dt_path.exists()):
        gt, dt = make(n_images, seed)
        gt_path.write_text(json.dumps(gt))
        dt_path.write_text(json.dumps(dt))
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
    dt = json.loads(dt_path.read_text())
    areas = np.array([a["area"] for a in gt["annotations"]])
    print(gt_path)
    print(dt_path)
    print(
        f"{len(gt['images'])} images, {len(gt['categories'])} categories, "
        f"{len(areas)} GT (small {np.mean(areas < 32**2):.0%}, medium "
        f"{np.mean((areas >= 32**2) & (areas < 96**2)):.0%}, large {np.mean(areas >= 96**2):.0%}, "
        f"crowd {np.mean([a['iscrowd'] for a in gt['annotations']]):.1%}), {len(dt)} detections"
    )


if __name__ == "__main__":
    main()
