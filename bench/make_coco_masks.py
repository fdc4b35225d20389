"""Write a synthetic COCO-val2017-scale instance-segmentation set: polygon ground truth, RLE results.

The ground truth is :mod:`make_coco_synthetic`'s (5000 images of 400-640 x
300-480 pixels, about 36.8k annotations with COCO's small / medium / large mix:
star-shaped polygons of about 15 vertices at the median, about 1 % crowd regions
as uncompressed RLE). The results are its detections (a detector's top 100 per
image: jittered copies of the ground truth, duplicates, wrong categories and
background boxes), each with an instance mask written as Mask R-CNN writes it
(detectron2's ``instances_to_coco_json``, mmdetection's ``results2json``):
``{"image_id", "category_id", "bbox": [x, y, w, h] (float32 values written as
17-digit floats), "score", "segmentation": {"size": [h, w], "counts": "<compressed
RLE string>"}}``. Each mask is a smooth blob filling 50-75 % of its box (a star
polygon of 12-40 vertices, rasterised and compressed by pycocotools.mask, and
clipped to the image), so mask sizes follow the boxes.

Usage::

    python bench/make_coco_masks.py [--out DIR] [--seed 0] [--images 5000] [--max-per-image 100]

It prints the paths and a summary. ``DIR/gt.json`` is a dataset dict and
``DIR/dt_segm.json`` a loadRes list, both plain JSON that pycocotools reads.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import make_coco_synthetic

_VERSION = 1  # bump when the generated content changes (cached files are reused by path)


def default_dir(seed: int = 0, n_images: int = 5000, max_per_image: int = 100) -> Path:
    """Where the files go when ``--out`` is not given."""
    name = f"fastdet_coco_masks_v{_VERSION}_{n_images}_seed{seed}_top{max_per_image}"
    return Path(tempfile.gettempdir()) / name


def results(
    gt: dict[str, Any], dets: list[tuple[Any, ...]], seed: int, max_per_image: int
) -> list[dict[str, Any]]:
    """Mask R-CNN style results: float32 boxes and scores, a compressed RLE mask per detection."""
    import pycocotools.mask as mask_util

    rng = np.random.default_rng(seed + 1)
    size = {img["id"]: (img["height"], img["width"]) for img in gt["images"]}
    by_image: dict[Any, list[tuple[Any, ...]]] = {}
    for d in dets:
        by_image.setdefault(d[0], []).append(d)
    out = []
    for img_id, group in by_image.items():
        group = sorted(group, key=lambda d: -d[6])[:max_per_image]
        h, w = size[img_id]
        for _, cat, x, y, bw, bh, score in group:
            box = np.array([x, y, bw, bh], np.float32)
            n = int(rng.integers(12, 41))
            angle = np.sort(rng.uniform(0, 2 * np.pi, n))
            radius = np.clip(1.0 - np.abs(rng.normal(0, 0.12, n)), 0.55, 1.0)
            cx, cy = x + bw / 2, y + bh / 2
            poly = np.stack([cx + np.cos(angle) * radius * bw / 2, cy + np.sin(angle) * radius * bh / 2], 1)
            rle = mask_util.frPyObjects([poly.reshape(-1).tolist()], h, w)[0]
            out.append(
                {
                    "image_id": img_id,
                    "category_id": cat,
                    "bbox": box.tolist(),
                    "score": float(np.float32(score)),
                    "segmentation": {"size": [h, w], "counts": rle["counts"].decode("ascii")},
                }
            )
    return out


def write(out: Path, n_images: int = 5000, seed: int = 0, max_per_image: int = 100) -> tuple[Path, Path]:
    """Write (or reuse) ``gt.json`` and ``dt_segm.json`` under ``out``; their paths."""
    gt_path, dt_path = out / "gt.json", out / "dt_segm.json"
    if gt_path.exists() and dt_path.exists():
        return gt_path, dt_path
    out.mkdir(parents=True, exist_ok=True)
    gt, dets = make_coco_synthetic.make(n_images, seed)
    res = results(gt, dets, seed, max_per_image)
    gt_path.write_text(json.dumps(gt))
    dt_path.write_text(json.dumps(res))
    return gt_path, dt_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--images", type=int, default=5000)
    parser.add_argument("--max-per-image", type=int, default=100)
    args = parser.parse_args()
    out = args.out or default_dir(args.seed, args.images, args.max_per_image)
    gt_path, dt_path = write(out, args.images, args.seed, args.max_per_image)
    n_gt = len(json.loads(gt_path.read_text())["annotations"])
    n_dt = len(json.loads(dt_path.read_text()))
    print(f"{gt_path} ({gt_path.stat().st_size / 2**20:.1f} MiB, {n_gt} annotations)")
    print(f"{dt_path} ({dt_path.stat().st_size / 2**20:.1f} MiB, {n_dt} results)")


if __name__ == "__main__":
    main()
