"""pycocotools' per-image Python surface, for code that reaches past ``evaluate()``.

``COCOeval._prepare``, ``computeIoU``, ``computeOks``, ``evaluateImg`` and an
``accumulate`` that reads ``evalImgs``; ``COCO.annToRLE``, ``annToMask``,
``showAnns`` and ``download``; and :func:`install_as_pycocotools`, which makes
``import pycocotools...`` resolve to fastdet in this process.

The per-image functions follow pycocotools 2.0.11 step by step (the same
stable sorts and the same floating-point operations in the same order;
``computeOks`` runs over all detections of a ground truth at once, which gives
the same bits), so their outputs equal pycocotools' bit for bit. They are what
``COCOeval.evaluate()`` runs, in pycocotools' Python loop, when a subclass
overrides one of them (the slow path); a bbox subclass overriding only
``computeIoU`` has its matrices matched by the kernels instead. Without
overrides ``evaluate()`` runs fastdet's kernels and these functions only serve
direct calls.

Where fastdet differs: ``showAnns`` draws its random colours from a generator of
its own (pycocotools uses NumPy's global state); ``download`` raises
``ValueError`` without ``tarDir`` (pycocotools prints and returns -1) and an
``OSError`` naming the URL when it cannot fetch; an unknown ``iouType`` or
dataset type raises ``ValueError`` (pycocotools: a bare ``Exception``).
"""

from __future__ import annotations

import copy
import importlib.machinery
import os
import sys
import time
import types
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np


# ----------------------------------------------------------------------------- COCOeval pieces
def group_annotations(E: Any, p: Any) -> tuple[defaultdict[Any, list[Any]], defaultdict[Any, list[Any]]]:
    """pycocotools' ``_gts`` and ``_dts``: annotation dicts by ``(image_id, category_id)``.

    As pycocotools does, this sets ``ignore`` on the ground-truth dicts (``iscrowd``, or for
    keypoints also ``num_keypoints == 0``) and, for ``segm``, replaces every ``segmentation`` of
    both objects by its compressed RLE (``annToRLE``); the dicts are changed in place.
    """
    gt_coco, dt_coco = E.cocoGt, E.cocoDt
    if p.useCats:
        gts = gt_coco.loadAnns(gt_coco.getAnnIds(imgIds=p.imgIds, catIds=p.catIds))
        dts = dt_coco.loadAnns(dt_coco.getAnnIds(imgIds=p.imgIds, catIds=p.catIds))
    else:
        gts = gt_coco.loadAnns(gt_coco.getAnnIds(imgIds=p.imgIds))
        dts = dt_coco.loadAnns(dt_coco.getAnnIds(imgIds=p.imgIds))
    if p.iouType == "segm":
        for anns, coco in ((gts, gt_coco), (dts, dt_coco)):
            for ann in anns:
                ann["segmentation"] = coco.annToRLE(ann)
    for g in gts:
        # pycocotools: the file's ``ignore`` is overwritten by ``iscrowd`` (a missing key: False)
        g["ignore"] = "iscrowd" in g and g["iscrowd"]
        if p.iouType == "keypoints":
            g["ignore"] = (g["num_keypoints"] == 0) or g["ignore"]
    out_g: defaultdict[Any, list[Any]] = defaultdict(list)
    out_d: defaultdict[Any, list[Any]] = defaultdict(list)
    for g in gts:
        out_g[g["image_id"], g["category_id"]].append(g)
    for d in dts:
        out_d[d["image_id"], d["category_id"]].append(d)
    return out_g, out_d


def _cell(E: Any, img_id: Any, cat_id: Any) -> tuple[list[Any], list[Any]]:
    """Ground truths and detections of one cell; without categories, the image's pool in ``catIds`` order."""
    p = E.params
    by_cell_g, by_cell_d = E._gts, E._dts
    if p.useCats:
        return by_cell_g[img_id, cat_id], by_cell_d[img_id, cat_id]
    gts = [g for c in p.catIds for g in by_cell_g[img_id, c]]
    dts = [d for c in p.catIds for d in by_cell_d[img_id, c]]
    return gts, dts


def _by_score(dts: list[Any], limit: int | None = None) -> list[Any]:
    """Detections by descending score, ties in input order (pycocotools' mergesort), first ``limit``."""
    order = np.argsort([-d["score"] for d in dts], kind="mergesort")
    if limit is not None:
        order = order[:limit]
    return [dts[i] for i in order]


def compute_iou(E: Any, img_id: Any, cat_id: Any) -> Any:
    """pycocotools' ``computeIoU``: (D, G) IoU of the best ``maxDets[-1]`` detections, or ``[]``.

    bbox: xywh boxes; segm: the RLEs ``_prepare`` made. Against a crowd ground truth the
    IoU is intersection over the detection's area (:func:`fastdet.mask.iou`).
    """
    from fastdet import mask

    p = E.params
    gts, dts = _cell(E, img_id, cat_id)
    if not gts and not dts:
        return []
    dts = _by_score(dts, p.maxDets[-1])
    if p.iouType == "segm":
        key = "segmentation"
    elif p.iouType == "bbox":
        key = "bbox"
    else:
        raise ValueError(f"computeIoU: unknown iouType for iou computation: {p.iouType!r}")
    crowd = [int(g["iscrowd"]) for g in gts]
    if key == "segmentation":  # RLEs keep their own size (annToRLE): two sizes give -1, as in pycocotools
        return mask._iou_any_size([d[key] for d in dts], [g[key] for g in gts], crowd)
    return mask.iou([d[key] for d in dts], [g[key] for g in gts], crowd)


def compute_oks(E: Any, img_id: Any, cat_id: Any) -> Any:
    """pycocotools' ``computeOks``: (D, G) object keypoint similarity, or ``[]``.

    ``OKS = mean_i exp(-d_i**2 / (2 * s**2 * (2 sigma_i)**2))`` over the ground truth's
    visible keypoints, ``s**2`` its ``area`` (+ eps); with none visible, ``d_i`` is the
    distance from the detection's keypoint to the ground-truth box grown by its size on
    every side, over all keypoints. Like pycocotools, cells are looked up as
    ``(imgId, catId)`` even when ``useCats`` is 0.
    """
    p = E.params
    gts = E._gts[img_id, cat_id]
    dts = _by_score(E._dts[img_id, cat_id], p.maxDets[-1])
    if len(gts) == 0 or len(dts) == 0:
        return []
    ious = np.zeros((len(dts), len(gts)))
    sigmas = p.kpt_oks_sigmas
    var = (sigmas * 2) ** 2
    k = len(sigmas)
    det = np.array([np.array(d["keypoints"]) for d in dts])
    xd, yd = det[:, 0::3], det[:, 1::3]
    for j, gt in enumerate(gts):
        g = np.array(gt["keypoints"])
        xg, yg, vg = g[0::3], g[1::3], g[2::3]
        visible = vg > 0
        if np.count_nonzero(visible) > 0:
            dx = xd - xg
            dy = yd - yg
        else:  # distance to the box (x0, y0)-(x1, y1): the ground truth's box, doubled on each side
            bb = gt["bbox"]
            x0, x1 = bb[0] - bb[2], bb[0] + bb[2] * 2
            y0, y1 = bb[1] - bb[3], bb[1] + bb[3] * 2
            z = np.zeros(k)
            dx = np.maximum(z, x0 - xd) + np.maximum(z, xd - x1)
            dy = np.maximum(z, y0 - yd) + np.maximum(z, yd - y1)
        e = (dx**2 + dy**2) / var / (gt["area"] + np.spacing(1)) / 2
        if np.count_nonzero(visible) > 0:
            e = np.ascontiguousarray(e[:, visible])
        ious[:, j] = np.sum(np.exp(-e), axis=1) / e.shape[1]
    return ious


def evaluate_img(E: Any, img_id: Any, cat_id: Any, a_rng: Any, max_det: int) -> dict[str, Any] | None:
    """pycocotools' ``evaluateImg``: greedy matching of one cell at every IoU threshold.

    Detections are taken by descending score (at most ``max_det``); each goes to the
    unmatched (or crowd) ground truth of highest IoU >= ``min(t, 1 - 1e-10)``, regular
    ground truths before ignored ones. Reads ``E.ious[img_id, cat_id]``; sets ``_ignore``
    on the ground-truth dicts, as pycocotools does. ``None`` for an empty cell.
    """
    p = E.params
    gts, dts = _cell(E, img_id, cat_id)
    if len(gts) == 0 and len(dts) == 0:
        return None
    for g in gts:
        g["_ignore"] = 1 if (g["ignore"] or g["area"] < a_rng[0] or g["area"] > a_rng[1]) else 0
    gtind = np.argsort([g["_ignore"] for g in gts], kind="mergesort")
    gts = [gts[i] for i in gtind]
    dts = _by_score(dts, max_det)
    crowd = [int(g["iscrowd"]) for g in gts]
    ious = E.ious[img_id, cat_id]
    if len(ious) > 0:
        ious = ious[:, gtind]
    n_t, n_g, n_d = len(p.iouThrs), len(gts), len(dts)
    gtm = np.zeros((n_t, n_g))
    dtm = np.zeros((n_t, n_d))
    gt_ig = np.array([g["_ignore"] for g in gts])
    dt_ig = np.zeros((n_t, n_d))
    if len(ious) != 0:
        rows = np.asarray(ious).tolist()
        ig = gt_ig.tolist()
        gt_ids = [g["id"] for g in gts]
        for t_i, t in enumerate(p.iouThrs):
            taken = [0.0] * n_g  # gtm[t_i] as Python numbers, for the inner loop
            for d_i, d in enumerate(dts):
                best, m = min([t, 1 - 1e-10]), -1
                row = rows[d_i]
                for g_i in range(n_g):
                    if taken[g_i] > 0 and not crowd[g_i]:
                        continue  # matched already, and not a crowd region
                    if m > -1 and ig[m] == 0 and ig[g_i] == 1:
                        break  # regular ground truths come first: keep the regular match
                    if row[g_i] < best:
                        continue
                    best, m = row[g_i], g_i
                if m == -1:
                    continue
                dt_ig[t_i, d_i] = gt_ig[m]
                dtm[t_i, d_i] = gt_ids[m]
                gtm[t_i, m] = d["id"]
                taken[m] = gtm[t_i, m]
    outside = np.array([d["area"] < a_rng[0] or d["area"] > a_rng[1] for d in dts]).reshape((1, n_d))
    dt_ig = np.logical_or(dt_ig, np.logical_and(dtm == 0, np.repeat(outside, n_t, 0)))
    return {
        "image_id": img_id,
        "category_id": cat_id,
        "aRng": a_rng,
        "maxDet": max_det,
        "dtIds": [d["id"] for d in dts],
        "gtIds": [g["id"] for g in gts],
        "dtMatches": dtm,
        "gtMatches": gtm,
        "dtScores": [d["score"] for d in dts],
        "gtIgnore": gt_ig,
        "dtIgnore": dt_ig,
    }


class NeedsLoop(Exception):
    """Raised by :func:`iou_blocks` when the IoUs do not fit the kernels' cells (run the loop)."""


def iou_blocks(ious: dict[tuple[Any, Any], Any], ev: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(iou_off, cell_iou)`` of the evaluation core from ``computeIoU``'s per-cell results.

    A cell's block is its first ``D_c`` rows (the best ``maxDets[-1]`` detections, as
    ``evaluateImg`` reads them). Raises :class:`NeedsLoop` for anything the matching kernel
    would read differently from ``evaluateImg``: not an ndarray, too few rows, another
    number of columns, or ``[]`` for a cell with detections and ground truths.
    """
    n_img = len(ev.img_ids)
    n_g = np.diff(ev.gt_off)
    n_d = np.diff(ev.dt_off)
    sizes = n_d * n_g
    off = np.zeros(len(sizes) + 1, np.int64)
    np.cumsum(sizes, out=off[1:])
    flat = np.empty(int(off[-1]), np.float64)
    for c in np.flatnonzero(sizes):
        block = ious[ev.img_ids[c % n_img], ev.cat_ids[c // n_img]]
        if not isinstance(block, np.ndarray) or block.ndim != 2 or block.dtype.kind not in "biuf":
            raise NeedsLoop
        if block.shape[0] < n_d[c] or block.shape[1] != n_g[c]:
            raise NeedsLoop
        flat[off[c] : off[c + 1]] = block[: n_d[c]].ravel()
    return off, flat


def cell_ious(E: Any) -> dict[tuple[Any, Any], Any]:
    """``{(imgId, catId): E.computeIoU(...) or E.computeOks(...)}`` over ``E.params``, as pycocotools."""
    p = E.params
    cat_ids = p.catIds if p.useCats else [-1]
    if p.iouType in ("segm", "bbox"):
        compute = E.computeIoU
    elif p.iouType == "keypoints":
        compute = E.computeOks
    else:
        raise ValueError(f"iouType must be 'bbox', 'segm' or 'keypoints'; got {p.iouType!r}")
    return {(i, c): compute(i, c) for i in p.imgIds for c in cat_ids}


def finish_with_loop(E: Any, ious: dict[tuple[Any, Any], Any], tic: float) -> None:
    """The rest of pycocotools' ``evaluate()``: ``evaluateImg`` on every cell and area range."""
    p = E.params
    E.ious = ious
    cat_ids = p.catIds if p.useCats else [-1]
    max_det = p.maxDets[-1]
    E.evalImgs = [E.evaluateImg(i, c, a, max_det) for c in cat_ids for a in p.areaRng for i in p.imgIds]
    E._paramsEval = copy.deepcopy(E.params)
    E._ev = None
    E._say(f"DONE (t={time.time() - tic:0.2f}s).")


def evaluate_with_overrides(E: Any) -> None:
    """pycocotools' ``evaluate()`` loop, calling ``E``'s (possibly overridden) methods."""
    tic = time.time()
    E._say("Running per image evaluation...")
    p = E.params
    if p.useSegm is not None:
        p.iouType = "segm" if p.useSegm == 1 else "bbox"
        E._say(f"useSegm (deprecated) is not None. Running {p.iouType} evaluation")
    E._say(f"Evaluate annotation type *{p.iouType}*")
    p.imgIds = list(np.unique(p.imgIds))
    if p.useCats:
        p.catIds = list(np.unique(p.catIds))
    p.maxDets = sorted(p.maxDets)
    E.params = p
    E._prepare()
    finish_with_loop(E, cell_ious(E), tic)


def accumulate_records(E: Any, p: Any) -> dict[str, Any]:
    """pycocotools' ``accumulate`` on the records in ``E.evalImgs``; returns ``E.eval``'s arrays.

    Per (category, area range, maxDets): the records' first ``maxDets`` detections are
    merged by descending score (stable), true and false positives counted cumulatively,
    ``precision = tp / (tp + fp + eps)`` made non-increasing from the right and read at
    the first rank reaching each recall threshold (0 from the first unreachable one on).
    """
    pe = E._paramsEval
    eval_imgs = E.evalImgs
    n_t, n_r = len(p.iouThrs), len(p.recThrs)
    n_k = len(p.catIds) if p.useCats else 1
    n_a, n_m = len(p.areaRng), len(p.maxDets)
    precision = -np.ones((n_t, n_r, n_k, n_a, n_m))
    recall = -np.ones((n_t, n_k, n_a, n_m))
    scores = -np.ones((n_t, n_r, n_k, n_a, n_m))
    set_k = set(pe.catIds if pe.useCats else [-1])
    set_a = set(map(tuple, pe.areaRng))
    set_m = set(pe.maxDets)
    set_i = set(pe.imgIds)
    k_list = [n for n, k in enumerate(p.catIds) if k in set_k]
    m_list = [m for m in p.maxDets if m in set_m]
    a_list = [n for n, a in enumerate(map(tuple, p.areaRng)) if a in set_a]
    i_list = [n for n, i in enumerate(p.imgIds) if i in set_i]
    n_i0, n_a0 = len(pe.imgIds), len(pe.areaRng)
    eps = np.spacing(1)
    for k, k0 in enumerate(k_list):
        for a, a0 in enumerate(a_list):
            base = k0 * n_a0 * n_i0 + a0 * n_i0
            recs = [eval_imgs[base + i] for i in i_list]
            recs = [e for e in recs if e is not None]
            if not recs:
                continue
            for m, max_det in enumerate(m_list):
                dt_scores = np.concatenate([e["dtScores"][0:max_det] for e in recs])
                order = np.argsort(-dt_scores, kind="mergesort")
                sorted_scores = dt_scores[order]
                dtm = np.concatenate([e["dtMatches"][:, 0:max_det] for e in recs], axis=1)[:, order]
                dt_ig = np.concatenate([e["dtIgnore"][:, 0:max_det] for e in recs], axis=1)[:, order]
                gt_ig = np.concatenate([e["gtIgnore"] for e in recs])
                npig = np.count_nonzero(gt_ig == 0)
                if npig == 0:
                    continue
                tps = np.logical_and(dtm, np.logical_not(dt_ig))
                fps = np.logical_and(np.logical_not(dtm), np.logical_not(dt_ig))
                tp_sum = np.cumsum(tps, axis=1).astype(dtype=float)
                fp_sum = np.cumsum(fps, axis=1).astype(dtype=float)
                n_d = tp_sum.shape[1]
                for t in range(n_t):
                    tp, fp = tp_sum[t], fp_sum[t]
                    rc = tp / npig
                    pr = tp / (fp + tp + eps)
                    recall[t, k, a, m] = rc[-1] if n_d else 0
                    pr = np.maximum.accumulate(pr[::-1])[::-1]  # max over ranks >= r
                    at = np.searchsorted(rc, p.recThrs, side="left")
                    reach = at >= n_d
                    stop = int(np.argmax(reach)) if reach.any() else len(at)  # first unreachable
                    q = np.zeros(n_r)
                    ss = np.zeros(n_r)
                    q[:stop] = pr[at[:stop]]
                    ss[:stop] = sorted_scores[at[:stop]]
                    precision[t, :, k, a, m] = q
                    scores[t, :, k, a, m] = ss
    return {"precision": precision, "recall": recall, "scores": scores, "counts": [n_t, n_r, n_k, n_a, n_m]}


# ----------------------------------------------------------------------------- COCO pieces
def ann_to_rle(coco: Any, ann: dict[str, Any]) -> Any:
    """pycocotools' ``annToRLE``: polygons (parts merged) or uncompressed RLE -> compressed RLE.

    A compressed RLE is returned as it is in the annotation (``counts`` may be ``str``).
    The image's ``height`` and ``width`` come from ``coco.imgs[ann['image_id']]``.
    """
    from fastdet import mask

    img = coco.imgs[ann["image_id"]]
    h, w = img["height"], img["width"]
    segm = ann["segmentation"]
    try:
        if isinstance(segm, list):
            return mask.merge(mask.frPyObjects(segm, h, w))  # type: ignore[arg-type]
        if isinstance(segm["counts"], list):
            size = segm.get("size")
            if isinstance(size, (list, tuple)) and len(size) == 2:  # pycocotools' frPyObjects ignores h, w
                h, w = size
            return mask.frPyObjects(segm, h, w)
    except (TypeError, ValueError) as exc:  # name the annotation, not frPyObjects' arguments
        where = f"annotation id={ann.get('id')!r} (image_id={ann['image_id']!r})"
        raise type(exc)(f"{where}: bad segmentation: {exc}") from None
    return segm


def show_anns(coco: Any, anns: Sequence[dict[str, Any]], draw_bbox: bool = False) -> None:
    """pycocotools' ``showAnns``: draw annotations on matplotlib's current axes.

    Polygons and boxes become translucent patches, RLE masks an RGBA image (crowd
    regions in one fixed colour), keypoints dots joined by the category's
    ``skeleton``; caption annotations are printed. Colours are random, from a
    generator of this call (the global NumPy random state is not touched).
    """
    if len(anns) == 0:
        return
    if "segmentation" in anns[0] or "keypoints" in anns[0]:
        kind = "instances"
    elif "caption" in anns[0]:
        kind = "captions"
    else:
        raise ValueError(
            "showAnns: datasetType not supported (annotations need segmentation, keypoints or caption)"
        )
    if kind == "captions":
        for ann in anns:
            print(ann["caption"])
        return
    import matplotlib.pyplot as plt
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import Polygon

    from fastdet import mask

    rng = np.random.default_rng()
    ax = plt.gca()
    ax.set_autoscale_on(False)
    polygons: list[Polygon] = []
    colors: list[list[float]] = []
    for ann in anns:
        c = (rng.random(3) * 0.6 + 0.4).tolist()
        segm = ann.get("segmentation")
        if isinstance(segm, list):
            for part in segm:
                polygons.append(Polygon(np.array(part).reshape((len(part) // 2, 2))))
                colors.append(c)
        elif segm is not None:
            img = coco.imgs[ann["image_id"]]
            if isinstance(segm["counts"], list):
                rles = mask.frPyObjects([segm], img["height"], img["width"])
            else:
                rles = [segm]
            m = mask.decode(rles)
            m = m[:, :, 0] if m.ndim == 3 else m
            color = np.array([2.0, 166.0, 101.0]) / 255 if ann.get("iscrowd") == 1 else rng.random(3)
            rgba = np.ones((m.shape[0], m.shape[1], 4))
            rgba[:, :, :3] = color
            rgba[:, :, 3] = m * 0.5
            ax.imshow(rgba)
        if "keypoints" in ann and isinstance(ann["keypoints"], list):
            skeleton = np.array(coco.loadCats(ann["category_id"])[0].get("skeleton", []), dtype=np.int64) - 1
            kp = np.array(ann["keypoints"])
            x, y, v = kp[0::3], kp[1::3], kp[2::3]
            for sk in skeleton.reshape(-1, 2):
                if np.all(v[sk] > 0):
                    ax.plot(x[sk], y[sk], linewidth=3, color=c)
            ax.plot(
                x[v > 0],
                y[v > 0],
                "o",
                markersize=8,
                markerfacecolor=c,
                markeredgecolor="k",
                markeredgewidth=2,
            )
            ax.plot(
                x[v > 1], y[v > 1], "o", markersize=8, markerfacecolor=c, markeredgecolor=c, markeredgewidth=2
            )
        if draw_bbox:
            bx, by, bw, bh = ann["bbox"]
            corners = [[bx, by], [bx, by + bh], [bx + bw, by + bh], [bx + bw, by]]
            polygons.append(Polygon(np.array(corners, dtype=np.float64)))
            colors.append(c)
    ax.add_collection(PatchCollection(polygons, facecolor=colors, linewidths=0, alpha=0.4))
    ax.add_collection(PatchCollection(polygons, facecolor="none", edgecolors=colors, linewidths=2))


def download(coco: Any, tarDir: Any, imgIds: Any, timeout: float) -> None:
    """pycocotools' ``download``: fetch each image's ``coco_url`` to ``tarDir/file_name``.

    Files already present are skipped; a file is written under a temporary name and
    renamed when complete. Raises ``OSError`` naming the URL when it cannot be fetched
    (no network, say) and ``ValueError`` when ``tarDir`` is missing or an image has no
    ``coco_url`` / ``file_name``.
    """
    import urllib.error
    import urllib.request

    if tarDir is None:
        raise ValueError("download: tarDir (the target directory) is required")
    imgs = list(coco.imgs.values()) if len(imgIds) == 0 else coco.loadImgs(imgIds)
    os.makedirs(tarDir, exist_ok=True)
    for n, img in enumerate(imgs):
        tic = time.time()
        if "coco_url" not in img or "file_name" not in img:
            raise ValueError(f"download: image {img.get('id')!r} has no 'coco_url' or 'file_name'")
        fname = os.path.join(tarDir, img["file_name"])
        if not os.path.exists(fname):
            url = img["coco_url"]
            part = fname + ".part"
            try:
                with urllib.request.urlopen(url, timeout=timeout) as response, open(part, "wb") as out:
                    while chunk := response.read(1 << 20):
                        out.write(chunk)
            except (urllib.error.URLError, OSError, ValueError) as err:
                if os.path.exists(part):
                    os.remove(part)
                reason = getattr(err, "reason", err)
                raise OSError(
                    f"download: could not fetch {url} for image {img.get('id')!r}: {reason} "
                    "(is the network reachable?)"
                ) from err
            os.replace(part, fname)
        coco._say(f"downloaded {n}/{len(imgs)} images (t={time.time() - tic:0.1f}s)")


# ----------------------------------------------------------------------------- import shim
_NAMES = ("pycocotools", "pycocotools.coco", "pycocotools.cocoeval", "pycocotools.mask")
_saved: dict[str, types.ModuleType | None] | None = None


def _shim_modules() -> dict[str, types.ModuleType]:
    from fastdet import mask
    from fastdet.coco.cocoeval import COCOeval as _COCOeval
    from fastdet.coco.dataset import COCO
    from fastdet.coco.params import Params as _Params

    class COCOeval(_COCOeval):
        """fastdet's ``COCOeval`` with pycocotools' default ``iouType='segm'``."""

        def __init__(self, cocoGt: Any = None, cocoDt: Any = None, iouType: str = "segm", **kwargs: Any):
            super().__init__(cocoGt, cocoDt, iouType, **kwargs)

    class Params(_Params):
        """fastdet's ``Params`` with pycocotools' default ``iouType='segm'``."""

        def __init__(self, iouType: str = "segm"):
            super().__init__(iouType)

    COCOeval.__module__ = Params.__module__ = "pycocotools.cocoeval"
    package = types.ModuleType("pycocotools", "fastdet standing in for pycocotools (install_as_pycocotools).")
    package.__spec__ = importlib.machinery.ModuleSpec("pycocotools", None, is_package=True)
    package.__path__ = []
    coco_mod = types.ModuleType("pycocotools.coco", "fastdet.coco.COCO as pycocotools.coco.")
    coco_mod.COCO = COCO  # type: ignore[attr-defined]
    coco_mod.maskUtils = mask  # type: ignore[attr-defined]
    eval_mod = types.ModuleType("pycocotools.cocoeval", "fastdet's COCOeval as pycocotools.cocoeval.")
    eval_mod.COCOeval = COCOeval  # type: ignore[attr-defined]
    eval_mod.Params = Params  # type: ignore[attr-defined]
    eval_mod.maskUtils = mask  # type: ignore[attr-defined]
    for mod in (coco_mod, eval_mod):
        mod.__spec__ = importlib.machinery.ModuleSpec(mod.__name__, None)
    package.coco = coco_mod  # type: ignore[attr-defined]
    package.cocoeval = eval_mod  # type: ignore[attr-defined]
    package.mask = mask  # type: ignore[attr-defined]
    return {"pycocotools": package, "pycocotools.coco": coco_mod, "pycocotools.cocoeval": eval_mod,
            "pycocotools.mask": mask}  # fmt: skip


def install_as_pycocotools() -> dict[str, types.ModuleType | None]:
    """Make ``import pycocotools``, ``pycocotools.coco``, ``.cocoeval`` and ``.mask`` give fastdet.

    Sets those four ``sys.modules`` entries, for this process only, so that a
    framework's evaluator written for pycocotools (torchmetrics, detectron2,
    mmdetection, YOLO, ...) runs on fastdet unchanged. ``pycocotools.coco.COCO`` is
    :class:`fastdet.coco.COCO`, ``pycocotools.mask`` is :mod:`fastdet.mask`, and
    ``pycocotools.cocoeval.COCOeval`` / ``Params`` are fastdet's with pycocotools'
    default ``iouType='segm'``. This is the one fastdet call that changes process-wide
    state, on request; :func:`uninstall_pycocotools` undoes it.

    Returns
    -------
    dict of str to module or None
        The modules these names had before the first installation (``None``: not
        imported). Calling again while installed changes nothing and returns the same.

    Notes
    -----
    Only later imports are affected: a module that already did ``from pycocotools.coco
    import COCO`` keeps pycocotools' class, so install before importing the framework's
    evaluator (torchmetrics imports it inside its functions, so any time works there).
    Tools that check the *installed distribution* (``importlib.metadata``, as
    torchmetrics' ``RequirementCache("pycocotools")`` does) still need pycocotools'
    package to be installed.

    Examples
    --------
    >>> from fastdet.coco import install_as_pycocotools, uninstall_pycocotools
    >>> _ = install_as_pycocotools()
    >>> from pycocotools.coco import COCO
    >>> COCO.__module__
    'fastdet.coco.dataset'
    >>> uninstall_pycocotools()
    """
    global _saved
    if _saved is not None:
        return dict(_saved)
    saved = {name: sys.modules.get(name) for name in _NAMES}
    sys.modules.update(_shim_modules())
    _saved = saved
    return dict(saved)


def uninstall_pycocotools() -> None:
    """Undo :func:`install_as_pycocotools`: restore (or remove) the four ``sys.modules`` entries."""
    global _saved
    if _saved is None:
        return
    for name, module in _saved.items():
        if module is None:
            sys.modules.pop(name, None)
        else:
            sys.modules[name] = module
    _saved = None
