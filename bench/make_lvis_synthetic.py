"""Write a synthetic LVIS-v1-scale ground-truth / results pair (seeded, reproducible).

Scale, by default: 5000 images, 1203 categories with LVIS v1's frequency mix
(337 rare, 461 common, 405 frequent), about 3 positive categories and 10
annotations per image (88 % of them in frequent categories, 58 % small, 30 %
medium, 12 % large by the ``area`` field, as in lvis-val-100), per image
``neg_category_ids`` (0 to 18 drawn, about 9, over all frequencies) and, on about 12 %
of the images, ``not_exhaustive_category_ids``; then results as a detector run
with a low score threshold writes them: at most 300 per image (most images
exactly 300), jittered true positives and duplicates, confusions with other
categories, and a long tail of low-score boxes in arbitrary categories (most
of them neither positive nor negative on their image, which LVIS ignores).
Coordinates and scores are float32 values written as Python floats
(``float(np.float32(x))``), as a PyTorch detector's JSON holds them.

Usage::

    python bench/make_lvis_synthetic.py [--out DIR] [--seed 0] [--images 5000]

It prints the two paths: ``DIR/gt.json`` (an LVIS v1 dataset dict) and ``DIR/dt.json``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np

N_RARE, N_COMMON, N_FREQUENT = 337, 461, 405  # LVIS v1


def default_dir(seed: int = 0, n_images: int = 5000) -> Path:
    """Where the files go when ``--out`` is not given."""
    return Path(tempfile.gettempdir()) / f"fastdet_lvis_synth_{n_images}_seed{seed}"


def _f32(values: np.ndarray) -> list[float]:
    return [float(v) for v in np.asarray(values, np.float32)]


def make(n_images: int = 5000, seed: int = 0) -> tuple[dict, list]:
    """Return ``(gt_dataset, results)`` as plain Python objects."""
    rng = np.random.default_rng(seed)
    n_cat = N_RARE + N_COMMON + N_FREQUENT
    freq = np.array(["r"] * N_RARE + ["c"] * N_COMMON + ["f"] * N_FREQUENT)
    rng.shuffle(freq)
    cats = [
        {"id": c + 1, "name": f"class_{c + 1}", "synset": f"class_{c + 1}.n.01",
         "synonyms": [f"class_{c + 1}"], "def": "a synthetic category", "frequency": str(freq[c]),
         "image_count": 0, "instance_count": 0}
        for c in range(n_cat)
    ]  # fmt: skip
    # which categories carry annotations: 88 % frequent, 11 % common, 1 % rare (lvis-val-100's mix)
    share = {"f": 0.88, "c": 0.11, "r": 0.01}
    w_pos = np.array([share[f] for f in freq]) * np.exp(rng.normal(0, 1.0, n_cat))
    for f in "rcf":
        sel = freq == f
        w_pos[sel] *= share[f] / w_pos[sel].sum()
    w_pos /= w_pos.sum()
    w_neg = np.array([{"f": 0.36, "c": 0.47, "r": 0.17}[f] for f in freq])
    w_neg /= w_neg.sum()
    images, anns, results = [], [], []
    for img_id in range(1, n_images + 1):
        width, height = int(rng.integers(400, 641)), int(rng.integers(300, 481))
        n_pos = int(min(rng.poisson(2.0), 12)) + (rng.random() > 0.07)  # about 7 % without annotations
        pos = rng.choice(n_cat, size=n_pos, replace=False, p=w_pos) + 1 if n_pos else np.empty(0, int)
        gts = []
        for cat in pos:
            for _ in range(1 + int(min(rng.geometric(0.3) - 1, 30))):
                size_class = rng.choice(3, p=[0.58, 0.30, 0.12])
                fill = rng.uniform(0.45, 0.9)
                lo, hi = [(6.0, 32.0), (32.0, 96.0), (96.0, 380.0)][size_class]
                side = rng.uniform(lo, hi) / np.sqrt(fill)
                aspect = np.exp(rng.normal(0.0, 0.5))
                w = float(min(side * aspect, width - 1))
                h = float(min(side / aspect, height - 1))
                x, y = float(rng.uniform(0, width - w)), float(rng.uniform(0, height - h))
                box = [round(x, 2), round(y, 2), round(w, 2), round(h, 2)]
                poly = [x, y, x + w, y + 0.2 * h, x + 0.8 * w, y + h, x + 0.1 * w, y + 0.9 * h]
                segm = [[round(v, 2) for v in poly]]
                anns.append({"id": len(anns) + 1, "image_id": img_id, "category_id": int(cat), "bbox": box,
                             "area": round(w * h * fill, 2), "segmentation": segm})  # fmt: skip
                gts.append((x, y, w, h, int(cat)))
        neg = rng.choice(n_cat, size=int(rng.integers(0, 19)), replace=False, p=w_neg) + 1
        neg = sorted(set(neg.tolist()) - set(pos.tolist()))
        not_exhaustive = sorted(rng.choice(pos, size=1).tolist()) if len(pos) and rng.random() < 0.12 else []
        images.append({"id": img_id, "width": width, "height": height,
                       "coco_url": f"http://images.cocodataset.org/val2017/{img_id:012d}.jpg",
                       "neg_category_ids": neg, "not_exhaustive_category_ids": not_exhaustive})  # fmt: skip
        # detections: hits and duplicates, confusions, negatives, then a tail of low-score boxes
        dets = []
        for x, y, w, h, cat in gts:
            for _ in range(int(rng.integers(1, 4))):
                s = rng.uniform(0.02, 0.25)
                box = (x + rng.normal(0, s * w), y + rng.normal(0, s * h), w * np.exp(rng.normal(0, s)),
                       h * np.exp(rng.normal(0, s)))  # fmt: skip
                dcat = cat if rng.random() > 0.15 else int(rng.choice(n_cat, p=w_pos)) + 1
                dets.append((*box, dcat, rng.beta(4, 2)))
        for cat in neg:
            for _ in range(int(rng.integers(0, 3))):
                bw, bh = rng.uniform(8, width / 3), rng.uniform(8, height / 3)
                dets.append(
                    (rng.uniform(0, width - bw), rng.uniform(0, height - bh), bw, bh, cat, rng.beta(1.5, 4))
                )
        n_total = 300 if rng.random() < 0.7 else int(rng.integers(50, 301))
        n_tail = max(n_total - len(dets), 0)
        bw, bh = rng.uniform(4, width / 2, n_tail), rng.uniform(4, height / 2, n_tail)
        tail_cat = rng.choice(n_cat, size=n_tail, p=0.5 * w_pos + 0.5 / n_cat) + 1
        tail_score = rng.beta(1, 12, n_tail)
        for j in range(n_tail):
            dets.append((rng.uniform(0, width - bw[j]), rng.uniform(0, height - bh[j]), bw[j], bh[j],
                         int(tail_cat[j]), tail_score[j]))  # fmt: skip
        dets.sort(key=lambda d: -d[5])
        for x, y, w, h, cat, score in dets[:300]:
            results.append({"image_id": img_id, "category_id": int(cat), "bbox": _f32(np.array([x, y, w, h])),
                            "score": float(np.float32(score))})  # fmt: skip
    gt = {
        "info": {"description": f"fastdet synthetic LVIS-v1-scale set, seed {seed}"},
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
    print(gt_path)
    print(dt_path)
    freq = {c["id"]: c["frequency"] for c in gt["categories"]}
    n_ann = len(gt["annotations"])
    print(
        f"{len(gt['images'])} images, {len(freq)} categories "
        f"({sum(f == 'r' for f in freq.values())} r / {sum(f == 'c' for f in freq.values())} c / "
        f"{sum(f == 'f' for f in freq.values())} f), {n_ann} GT "
        f"({np.mean([freq[a['category_id']] == 'f' for a in gt['annotations']]):.0%} frequent), "
        f"{np.mean([len(i['neg_category_ids']) for i in gt['images']]):.1f} negative categories per image, "
        f"{len(dt)} detections"
    )


if __name__ == "__main__":
    main()
