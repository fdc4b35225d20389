"""Write a synthetic COCO-val2017-scale ground truth and results files in the formats people have.

Scale, by default: 5000 images, 80 categories with COCO's ids (1..90 with gaps)
and a COCO-like category mix (person 30 %, a long tail), about 36.8k ground-truth
boxes with COCO's small / medium / large mix (about 41 % / 34 % / 25 % by the
``area`` field) and about 1 % crowd regions, and about 240k detections: a real
detector's top 100 per image (jittered copies of the ground truth at varied IoU,
duplicates, wrong-category copies and background boxes).

The ground truth looks like ``instances_val2017.json`` byte for byte in kind:
image records with COCO's fields, annotations in COCO's key order with the
polygon ``segmentation`` first (about 15 vertices at the median, a long tail,
two decimals), crowd regions as uncompressed RLE (``{"counts": [...], "size":
[h, w]}``), so that reading it costs what reading the real file costs.

The same detections are written in three styles (``dt_<style>.json``):

``float32``
    detectron2 / mmdetection: float32 tensors, ``.tolist()``, ``json.dump`` —
    every box value and score a float32 written as a 16-17 digit Python float
    (``796.0934448242188``, ``0.22904929306407318``).
``float64``
    code working in float64 (NumPy, torch.float64): ``repr`` of arbitrary
    doubles, up to 17 significant digits.
``short``
    exports that round: boxes to 2 decimals, scores to 3 (so ties occur).

Usage::

    python bench/make_coco_synthetic.py [--out DIR] [--seed 0] [--images 5000]

It prints the paths and a summary. The files are plain JSON a user could hand
to pycocotools: ``DIR/gt.json`` (a dataset dict) and ``DIR/dt_<style>.json``
(loadRes lists of ``{image_id, category_id, bbox, score}``).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

#: COCO's 80 category ids (1..90 with the ten unused ids left out).
COCO_CAT_IDS = [i for i in range(1, 91) if i not in (12, 26, 29, 30, 45, 66, 68, 69, 71, 83)]
#: The result file styles, see the module docstring.
STYLES = ("float32", "float64", "short")
_VERSION = 2  # bump when the generated content changes (cached files are reused by path)


def default_dir(seed: int = 0, n_images: int = 5000) -> Path:
    """Where the files go when ``--out`` is not given."""
    return Path(tempfile.gettempdir()) / f"fastdet_coco_synth_v{_VERSION}_{n_images}_seed{seed}"


def _polygon(rng: np.random.Generator, x: float, y: float, w: float, h: float, n: int) -> list[float]:
    """A star-shaped polygon of ``n`` vertices inside the box, as COCO's [x0, y0, x1, y1, ...]."""
    angle = np.sort(rng.uniform(0, 2 * np.pi, n))
    radius = np.clip(1.0 - np.abs(rng.normal(0, 0.15, n)), 0.3, 1.0)
    px = x + w / 2 + np.cos(angle) * radius * w / 2
    py = y + h / 2 + np.sin(angle) * radius * h / 2
    return np.round(np.stack([px, py], axis=1).reshape(-1), 2).tolist()


def _shoelace(poly: list[float]) -> float:
    p = np.asarray(poly).reshape(-1, 2)
    x, y = p[:, 0], p[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2)


def _box_rle(x: float, y: float, w: float, h: float, width: int, height: int) -> dict[str, Any]:
    """Uncompressed RLE (column-major, as COCO) of the pixels of a box: how COCO stores crowds."""
    x0, x1 = int(x), min(int(np.ceil(x + w)), width)
    y0, y1 = int(y), min(int(np.ceil(y + h)), height)
    counts = [x0 * height + y0]
    for col in range(x0, x1):
        counts.append(y1 - y0)
        counts.append(height - (y1 - y0) if col < x1 - 1 else height - y1 + (width - x1) * height)
    return {"counts": counts, "size": [height, width]}


def make(n_images: int = 5000, seed: int = 0) -> tuple[dict[str, Any], list[tuple[Any, ...]]]:
    """Return ``(gt_dataset, detections)``: the dataset dict and float64 detection tuples.

    A detection is ``(image_id, category_id, x, y, w, h, score)``; :func:`results`
    writes them in a style.
    """
    rng = np.random.default_rng(seed)
    cats = [{"supercategory": "thing", "id": c, "name": f"class_{c}"} for c in COCO_CAT_IDS]
    # category frequencies like COCO val2017: "person" about 30 %, the rest a long tail (<= ~6 % each)
    freq = np.exp(rng.normal(0.0, 1.0, len(COCO_CAT_IDS)))
    freq[0] = 0.0
    freq *= 0.70 / freq.sum()
    freq[0] = 0.30
    images: list[dict[str, Any]] = []
    anns: list[dict[str, Any]] = []
    dets: list[tuple[Any, ...]] = []
    ann_id = 1
    for img_id in range(1, n_images + 1):
        width, height = int(rng.integers(400, 641)), int(rng.integers(300, 481))
        name = f"{img_id:012d}.jpg"
        images.append(
            {
                "license": int(rng.integers(1, 9)),
                "file_name": name,
                "coco_url": f"http://images.cocodataset.org/val2017/{name}",
                "height": height,
                "width": width,
                "date_captured": "2013-11-14 17:02:52",
                "flickr_url": f"http://farm{int(rng.integers(1, 10))}.staticflickr.com/{name}",
                "id": img_id,
            }
        )
        n_gt = int(min(rng.poisson(7.3), 60))
        gts = []
        for _ in range(n_gt):
            size_class = rng.choice(3, p=[0.41, 0.34, 0.25])
            fill = rng.uniform(0.5, 0.72)  # mask area / box area of the star polygons below
            lo, hi = [(8.0, 32.0), (32.0, 96.0), (96.0, 400.0)][size_class]
            side = rng.uniform(lo, hi) / np.sqrt(fill)
            aspect = np.exp(rng.normal(0.0, 0.5))
            w = float(min(side * aspect, width - 1))
            h = float(min(side / aspect, height - 1))
            x = float(rng.uniform(0, width - w))
            y = float(rng.uniform(0, height - h))
            cat = int(rng.choice(COCO_CAT_IDS, p=freq))
            crowd = int(rng.random() < 0.01)
            if crowd:
                segm: Any = _box_rle(x, y, w, h, width, height)
                area = float(sum(segm["counts"][1::2]))
            else:
                n_vert = int(np.clip(np.exp(rng.normal(np.log(9 + side / 10), 0.5)), 4, 200))
                segm = [_polygon(rng, x, y, w, h, n_vert)]
                area = _shoelace(segm[0])
            anns.append(
                {
                    "segmentation": segm,
                    "area": round(area, 4),
                    "iscrowd": crowd,
                    "image_id": img_id,
                    "bbox": [round(x, 2), round(y, 2), round(w, 2), round(h, 2)],
                    "category_id": cat,
                    "id": ann_id,
                }
            )
            gts.append((x, y, w, h, cat))
            ann_id += 1
        img_dets = []
        for x, y, w, h, cat in gts:
            for _ in range(int(rng.integers(1, 4))):  # a hit, then duplicates
                s = rng.uniform(0.02, 0.25)
                dx, dy = rng.normal(0, s * w), rng.normal(0, s * h)
                dw, dh = w * np.exp(rng.normal(0, s)), h * np.exp(rng.normal(0, s))
                wrong = rng.random() < 0.1
                dcat = int(rng.choice(COCO_CAT_IDS)) if wrong else cat
                img_dets.append((img_id, dcat, x + dx, y + dy, dw, dh, float(rng.beta(4, 2))))
        for _ in range(int(rng.integers(15, 56))):  # background boxes, mostly low scores
            w = float(rng.uniform(4, width / 2))
            h = float(rng.uniform(4, height / 2))
            x, y = rng.uniform(0, width - w), rng.uniform(0, height - h)
            cat = int(rng.choice(COCO_CAT_IDS, p=freq))
            img_dets.append((img_id, cat, float(x), float(y), w, h, float(rng.beta(1, 6))))
        img_dets.sort(key=lambda d: -d[6])
        for d in img_dets[:100]:  # clipped to the image, as detectors do
            x1, y1 = min(max(d[2], 0.0), width), min(max(d[3], 0.0), height)
            x2, y2 = min(max(d[2] + d[4], 0.0), width), min(max(d[3] + d[5], 0.0), height)
            dets.append((d[0], d[1], x1, y1, x2 - x1, y2 - y1, d[6]))
    gt = {
        "info": {"description": f"fastdet synthetic COCO-scale set, seed {seed}", "version": "1.0"},
        "licenses": [{"url": "http://creativecommons.org/licenses/by/2.0/", "id": 4, "name": "Attribution"}],
        "images": images,
        "annotations": anns,
        "categories": cats,
    }
    return gt, dets


def results(dets: list[tuple[Any, ...]], style: str) -> list[dict[str, Any]]:
    """The detections as a loadRes list, their numbers as the ``style`` writes them."""
    arr = np.array([d[2:] for d in dets], np.float64).reshape(-1, 5)
    if style == "float32":  # a float32 tensor's .tolist(): float32 values as Python floats
        values = arr.astype(np.float32).astype(np.float64).tolist()
    elif style == "float64":
        values = arr.tolist()
    elif style == "short":
        values = np.column_stack([np.round(arr[:, :4], 2), np.round(arr[:, 4], 3)]).tolist()
    else:
        raise ValueError(f"style must be one of {STYLES}, got {style!r}")
    return [
        {"image_id": d[0], "category_id": d[1], "bbox": v[:4], "score": v[4]}
        for d, v in zip(dets, values, strict=True)
    ]


def write(out: Path, n_images: int = 5000, seed: int = 0, style: str = "float32") -> tuple[Path, Path]:
    """Generate ``gt.json`` and the results of every style into ``out`` (reused when present).

    Returns the paths of the ground truth and of the results in ``style``.
    """
    out.mkdir(parents=True, exist_ok=True)
    gt_path = out / "gt.json"
    paths = {s: out / f"dt_{s}.json" for s in STYLES}
    if style not in paths:
        raise ValueError(f"style must be one of {STYLES}, got {style!r}")
    if not (gt_path.exists() and all(p.exists() for p in paths.values())):
        gt, dets = make(n_images, seed)
        for s, path in paths.items():
            path.write_text(json.dumps(results(dets, s)))
        gt_path.write_text(json.dumps(gt))
    return gt_path, paths[style]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--images", type=int, default=5000)
    args = parser.parse_args()
    out = args.out or default_dir(args.seed, args.images)
    gt_path, _ = write(out, args.images, args.seed)
    gt = json.loads(gt_path.read_text())
    areas = np.array([a["area"] for a in gt["annotations"]])
    print(f"{gt_path} ({gt_path.stat().st_size / 2**20:.1f} MiB)")
    n_dt = 0
    for style in STYLES:
        path = out / f"dt_{style}.json"
        n_dt = len(json.loads(path.read_text()))
        print(f"{path} ({path.stat().st_size / 2**20:.1f} MiB)")
    print(
        f"{len(gt['images'])} images, {len(gt['categories'])} categories, "
        f"{len(areas)} GT (small {np.mean(areas < 32**2):.0%}, medium "
        f"{np.mean((areas >= 32**2) & (areas < 96**2)):.0%}, large {np.mean(areas >= 96**2):.0%}, "
        f"crowd {np.mean([a['iscrowd'] for a in gt['annotations']]):.1%}), {n_dt} detections"
    )


if __name__ == "__main__":
    main()
