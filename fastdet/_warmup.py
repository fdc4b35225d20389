"""``fastdet warmup``: fill Numba's cache with every kernel the public API uses.

Each task calls a group of public entry points on small inputs of every dtype
class they dispatch to (float64 and float32 where the dtype is kept), and on
inputs that take the paths only large inputs take (a JSON file big enough for
the compiled scanner, a category long enough for the radix sort), so that no
later call compiles anything. Chunked kernels compile one function whether they
run on one thread or many, so forked workers find it in the cache too. Tasks run
in separate processes (spawn) on all cores. Cache files are written through a
temporary file and a rename and checked on load (``fastdet._kernels``), so two
warmups, or a warmup and a running program, can share one cache directory.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

__all__ = ["TASKS", "warmup"]

_COCO_GT = {
    "images": [{"id": 1, "width": 64, "height": 48}, {"id": 2, "width": 64, "height": 48}],
    "annotations": [
        {"id": 1, "image_id": 1, "category_id": 1, "bbox": [1.5, 2, 10, 12], "area": 120.0, "iscrowd": 0},
        {"id": 2, "image_id": 1, "category_id": 2, "bbox": [20.0, 5, 8, 8], "area": 64.0, "iscrowd": 1},
        {"id": 3, "image_id": 2, "category_id": 1, "bbox": [3.0, 3, 30, 20], "area": 600.0, "iscrowd": 0},
    ],
    "categories": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}],
}
_COCO_DT = [
    {"image_id": 1, "category_id": 1, "bbox": [1.0, 2.0, 10.5, 12.0], "score": 0.9},
    {"image_id": 1, "category_id": 2, "bbox": [19.0, 5.0, 8.0, 9.0], "score": 0.75},
    {"image_id": 2, "category_id": 1, "bbox": [4.0, 3.0, 28.0, 20.0], "score": 0.5},
    {"image_id": 2, "category_id": 2, "bbox": [4.0, 3.0, 28.0, 20.0], "score": 0.25},
]


def _boxes(dtype: Any) -> tuple[np.ndarray, np.ndarray]:
    b = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [21, 19, 29, 31]], dtype)
    return b, np.array([0.9, 0.8, 0.7, 0.6], dtype)


def _task_boxes() -> None:
    import fastdet

    for dtype in (np.float64, np.float32):
        b, _ = _boxes(dtype)
        fastdet.box_iou(b, b)
        fastdet.generalized_box_iou(b, b)
        fastdet.distance_box_iou(b, b)
        fastdet.complete_box_iou(b, b)
        fastdet.box_area(b)
        fastdet.box_convert(b, "xyxy", "cxcywh")
        fastdet.clip_boxes_to_image(b, (15, 15))
        fastdet.remove_small_boxes(b, 1.0)


def _many_boxes(dtype: Any, n: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """``n`` overlapping boxes (more than NMS's all-pairs limit of 200: its grid path) and scores."""
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 200, (n, 2))
    b = np.concatenate([xy, xy + rng.uniform(5, 40, (n, 2))], axis=1).astype(dtype)
    return b, rng.uniform(0, 1, n).astype(dtype)


def _nms(dtype: Any) -> None:
    import fastdet
    from fastdet.nms import nms_coco_results

    b, s = _many_boxes(dtype)
    fastdet.nms(b, s, 0.5)
    fastdet.batched_nms(b, s, np.arange(len(b)) % 3, 0.5)
    b, s = _boxes(dtype)
    fastdet.nms(b, s, 0.5)
    fastdet.batched_nms(b, s, np.array([0, 0, 1, 1]), 0.5)
    fastdet.multiclass_nms(b, np.stack([s, s[::-1]], axis=1))
    pred = np.concatenate([b, np.stack([s, s[::-1]], axis=1)], axis=1)[None]
    fastdet.postprocess_detections(pred, box_format="xyxy")
    with_objectness = np.concatenate([pred[..., :4], pred[..., 4:5], pred[..., 4:]], -1)
    fastdet.postprocess_detections(with_objectness, has_objectness=True)
    if dtype == np.float64:
        nms_coco_results(_COCO_DT)


def _task_nms_float64() -> None:
    _nms(np.float64)


def _task_nms_float32() -> None:
    _nms(np.float32)


def _task_soft_nms() -> None:
    import fastdet
    from fastdet.nms import nms_coco_results

    for dtype in (np.float64, np.float32):
        b, s = _boxes(dtype)
        for method in ("gaussian", "linear", "hard"):
            fastdet.soft_nms(b, s, method=method)
    nms_coco_results(_COCO_DT, method="soft-linear")


@contextlib.contextmanager
def _files_for_scanner(gt: Any, results: Any) -> Iterator[tuple[str, str]]:
    """Paths of temporary ``gt.json`` and ``dt.json`` holding ``gt`` and ``results`` as JSON, padded
    with spaces to the size the compiled scanner reads."""
    import json
    import tempfile

    from fastdet.coco.reading import SCAN_MIN_BYTES

    with tempfile.TemporaryDirectory(prefix="fastdet-warmup-") as tmp:
        paths = os.path.join(tmp, "gt.json"), os.path.join(tmp, "dt.json")
        for path, data in zip(paths, (gt, results), strict=True):
            text = json.dumps(data).encode()
            with open(path, "wb") as f:
                f.write(text + b" " * max(0, SCAN_MIN_BYTES - len(text)))
        yield paths


def _task_coco() -> None:
    import fastdet
    from fastdet._kernels.coco import RADIX_MIN

    # a category with enough detections for the accumulation's radix sort (at most 100 per image)
    wide = dict(_COCO_GT, images=[{"id": i} for i in range(1, 8)])
    many = [
        {
            "image_id": 1 + i % 7,
            "category_id": 1,
            "bbox": [1.0, 2.0, 10.5, 12.0],
            "score": (i + 1) / RADIX_MIN,
        }
        for i in range(RADIX_MIN)
    ]
    with _files_for_scanner(_COCO_GT, _COCO_DT) as (gt_path, dt_path):
        for gt in (fastdet.COCO(gt_path, verbose=False), fastdet.COCO(_COCO_GT, verbose=False)):
            for dt in (gt.loadRes(dt_path), gt.loadRes(_COCO_DT)):
                fastdet.evaluate_coco(gt, dt)
                ev = fastdet.COCOeval(gt, dt, "bbox", verbose=False)
                ev.evaluate()
                ev.accumulate()
                str(ev)  # the summary, without printing
                ev.params.useCats = 0
                ev.evaluate()
                ev.accumulate()
        wide_gt = fastdet.COCO(wide, verbose=False)
        fastdet.evaluate_coco(wide_gt, wide_gt.loadRes(many))


def _task_coco_keypoints() -> None:
    import io

    import fastdet

    kpts = [float(v) for k in range(17) for v in (10 + k, 20 + k, 2)]
    gt_data = {
        "images": [{"id": 1}, {"id": 2}],
        "categories": [{"id": 1, "name": "person"}],
        "annotations": [
            {"id": i + 1, "image_id": 1 + i % 2, "category_id": 1, "bbox": [5.0, 5.0, 40.0, 60.0],
             "area": 2000.0, "iscrowd": 0, "keypoints": kpts if i else [0] * 51,
             "num_keypoints": 17 if i else 0}
            for i in range(3)
        ],
    }  # fmt: skip
    dets = [
        {"image_id": 1 + i % 2, "category_id": 1, "keypoints": kpts, "score": 0.5 + i / 10} for i in range(3)
    ]
    with _files_for_scanner(gt_data, dets) as (gt_path, dt_path):
        gt = fastdet.COCO(gt_path, verbose=False)
        for dt in (gt.loadRes(dt_path, verbose=False), gt.loadRes(dets, verbose=False)):
            with contextlib.redirect_stdout(io.StringIO()):  # COCOeval prints as pycocotools does
                ev = fastdet.COCOeval(gt, dt, "keypoints")
                ev.evaluate()
                ev.accumulate()
                ev.summarize()


def _task_voc() -> None:
    import fastdet

    fastdet.voc_ap([0.1, 0.5, 0.9], [1.0, 0.8, 0.6])
    fastdet.voc_ap([0.1, 0.5, 0.9], [1.0, 0.8, 0.6], use_07_metric=True)
    gt = [
        {"image_id": 1, "label": 0, "bbox": [0, 0, 10, 10]},
        {"image_id": 1, "label": 1, "bbox": [5, 5, 9, 9], "difficult": True},
    ]
    dt = [{"image_id": 1, "label": 0, "bbox": [0, 0, 9, 10], "score": 0.9}]
    fastdet.voc.evaluate(gt, dt)
    fastdet.voc.evaluate(gt, dt, use_07_metric=True, pixel_offset=1)


def _task_metrics() -> None:
    import warnings

    import fastdet

    with warnings.catch_warnings():  # tiny inputs: undefined metrics are expected here
        warnings.simplefilter("ignore")
        for labels in ([0, 1, 2, 1], [0.0, 1.0, 2.0, 1.0]):
            fastdet.confusion_matrix(labels, [0, 2, 2, 1])
            fastdet.accuracy(labels, [0, 2, 2, 1])
            for average in ("binary", "macro", "micro", "weighted", None):
                if average == "binary":
                    fastdet.precision_recall_f1([0, 1, 1, 0], [0, 1, 0, 0], average=average)
                else:
                    fastdet.precision_recall_f1(labels, [0, 2, 2, 1], average=average)
        fastdet.confusion_matrix([0, 10**9], [10**9, 0])  # labels far apart: the lookup path
        for scores in ([0.1, 0.8, 0.4, 0.3], np.array([0.1, 0.8, 0.4, 0.3], np.float32)):
            for weights in (None, [1.0, 2.0, 0.5, 1.0]):
                fastdet.roc_curve([0, 1, 1, 0], scores, sample_weight=weights)
                fastdet.roc_auc([0, 1, 1, 0], scores, sample_weight=weights)
                fastdet.precision_recall_curve([0, 1, 1, 0], scores, sample_weight=weights)
                fastdet.average_precision([0, 1, 1, 0], scores, sample_weight=weights)
        # from 200,000 samples the ranking metrics split, sort and walk on threads (kernels of their own)
        n = 200_000
        y = np.arange(n) % 3 == 0
        s = (np.arange(n) * 7919 % 1000) / 1000.0
        w = 1.0 + np.arange(n) % 5
        for large_weights in (None, w):
            fastdet.roc_auc(y, s, sample_weight=large_weights)
            fastdet.average_precision(y, s, sample_weight=large_weights)


def _task_losses() -> None:
    import fastdet

    for dtype in (np.float64, np.float32):
        x = np.array([1.0, 2.0, -0.5], dtype)
        t = np.array([1.5, 2.0, 0.0], dtype)
        for reduction in ("none", "mean"):
            fastdet.l1_loss(x, t, reduction=reduction)
            fastdet.mse_loss(x, t, reduction=reduction)
            fastdet.smooth_l1_loss(x, t, reduction=reduction)
            fastdet.smooth_l1_loss(x, t, beta=0.0, reduction=reduction)
            fastdet.sigmoid_focal_loss(x, np.array([1.0, 0.0, 1.0], dtype), reduction=reduction)


def _task_arch() -> None:
    import fastdet

    for dtype in (np.float64, np.float32):
        x = np.ones((1, 2, 5, 5), dtype)
        fastdet.conv2d(x, np.ones((2, 2, 3, 3), dtype), np.zeros(2, dtype))
        fastdet.conv2d(x, np.ones((2, 1, 3, 3), dtype), groups=2, padding=1)
        fastdet.max_pool2d(x, 2)
        fastdet.avg_pool2d(x, 2)
        fastdet.avg_pool2d(x, 3, padding=1, count_include_pad=False)
    fastdet.summary("resnet18", (3, 64, 64))


_MASK_H, _MASK_W = 40, 50


def _masks_and_rles() -> tuple[np.ndarray, list[dict[str, Any]]]:
    from fastdet import mask as fm

    m = np.zeros((_MASK_H, _MASK_W, 2), np.uint8, order="F")
    m[5:25, 5:30, 0] = 1
    m[0:20, 0:10, 1] = 1
    rles = fm.encode(m)
    assert isinstance(rles, list)
    return m, rles


def _task_masks() -> None:
    """``fastdet.mask``: every function, on compressed, uncompressed and polygon input."""
    from fastdet import mask as fm

    m, rles = _masks_and_rles()
    fm.decode(rles)
    fm.decode(rles[0])
    fm.area(rles)
    fm.toBbox(rles)
    fm.area(rles[0])  # one dict, and a list of one, take kernels of their own
    fm.toBbox(rles[0])
    fm.merge(rles[:1])
    for intersect in (False, True):
        fm.merge(rles, intersect=intersect)
        fm.merge(rles + rles, intersect=intersect)
    fm.iou(rles, rles, [0, 1])
    fm.iou(np.array([[1.0, 2.0, 10.0, 12.0]]), np.array([[2.0, 2.0, 9.0, 12.0]]), [0])
    polygon = [[5.0, 5.0, 30.0, 5.0, 30.0, 25.0, 5.0, 25.0]]
    fm.frPyObjects(polygon, _MASK_H, _MASK_W)
    fm.frPyObjects([[1.0, 2.0, 10.0, 12.0]], _MASK_H, _MASK_W)
    fm.frPyObjects(
        {"size": [_MASK_H, _MASK_W], "counts": [100, 50, _MASK_H * _MASK_W - 150]}, _MASK_H, _MASK_W
    )
    fm.encode(np.asfortranarray(m.astype(bool)))


def _task_coco_segm() -> None:
    """COCO ``segm``: polygons, crowd RLEs, results with and without boxes, from files and lists."""
    import io

    import fastdet

    h, w = _MASK_H, _MASK_W
    square = [5.0, 5.0, 30.0, 5.0, 30.0, 25.0, 5.0, 25.0]
    gt_data = {
        "images": [{"id": 1, "height": h, "width": w}, {"id": 2, "height": h, "width": w}],
        "categories": [{"id": 1, "name": "a"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "segmentation": [square], "area": 500.0,
             "bbox": [5.0, 5.0, 25.0, 20.0], "iscrowd": 0},
            {"id": 2, "image_id": 1, "category_id": 1, "area": 540.0, "bbox": [5.0, 5.0, 40.0, 33.0],
             "segmentation": [square, [35.0, 30.0, 45.0, 30.0, 45.0, 38.0]], "iscrowd": 0},
            {"id": 3, "image_id": 2, "category_id": 1, "area": 50.0, "bbox": [2.0, 0.0, 1.0, 40.0],
             "segmentation": {"size": [h, w], "counts": [100, 50, h * w - 150]}, "iscrowd": 1},
        ],
    }  # fmt: skip
    _, rles = _masks_and_rles()
    dets = [
        {"image_id": 1 + i % 2, "category_id": 1, "score": 0.9 - i / 10, "bbox": [5.0, 5.0, 25.0, 20.0],
         "segmentation": {"size": [h, w], "counts": rles[i % 2]["counts"].decode()}}
        for i in range(4)
    ]  # fmt: skip
    unboxed = [{k: v for k, v in d.items() if k != "bbox"} for d in dets]
    with _files_for_scanner(gt_data, dets) as (gt_path, dt_path):
        for gt in (fastdet.COCO(gt_path, verbose=False), fastdet.COCO(gt_data, verbose=False)):
            for dt in (gt.loadRes(dt_path, verbose=False), gt.loadRes(dets, verbose=False),
                       gt.loadRes(unboxed, verbose=False)):  # fmt: skip
                with contextlib.redirect_stdout(io.StringIO()):
                    ev = fastdet.COCOeval(gt, dt, "segm")
                    ev.evaluate()
                    ev.accumulate()
                    ev.summarize()
            fastdet.analysis.tide(gt, gt.loadRes(dets, verbose=False), iou_type="segm")


def _task_fusion() -> None:
    """``fastdet.fusion`` (every method and confidence type, one image and results sets), DIoU-NMS,
    Matrix NMS."""
    import fastdet
    from fastdet import fusion

    boxes = [np.array([[0.1, 0.1, 0.5, 0.5], [0.2, 0.2, 0.6, 0.6]]), np.array([[0.12, 0.1, 0.5, 0.52]])]
    scores = [np.array([0.9, 0.8]), np.array([0.7])]
    labels = [np.array([0, 1]), np.array([0])]
    for conf_type in ("avg", "max", "box_and_model_avg", "absent_model_aware_avg"):
        fusion.weighted_boxes_fusion(boxes, scores, labels, weights=[2, 1], conf_type=conf_type)
    fusion.non_maximum_weighted(boxes, scores, labels, weights=[2, 1])
    fusion.nms(boxes, scores, labels, weights=[2, 1])
    for soft in (1, 2, 3):
        fusion.soft_nms(boxes, scores, labels, method=soft, weights=[2, 1])
    arrays = [
        np.column_stack([np.ones(len(b)), b, s, lab]) for b, s, lab in zip(boxes, scores, labels, strict=True)
    ]
    for method in ("wbf", "nmw", "nms", "soft_nms"):
        fusion.fuse_arrays(arrays, method=method, weights=[2, 1])
    fusion.fuse_arrays(arrays, method="wbf", conf_type="max", clip=False)
    many, many_scores = _many_boxes(np.float64)  # NMS's grid path (more than 200 boxes of a label)
    many = many / many.max()
    fusion.nms([many], [many_scores], [np.zeros(len(many))])
    fusion.soft_nms([many], [many_scores], [np.zeros(len(many))])
    for dtype in (np.float64, np.float32):
        b, s = _boxes(dtype)
        fastdet.diou_nms(b, s, 0.5)
        for kernel in ("gaussian", "linear"):
            fastdet.matrix_nms(b, s, np.zeros(len(s), np.int64), kernel=kernel)


def _task_streaming_lvis_analysis() -> None:
    """``MeanAveragePrecision`` (bbox and segm), LVIS evaluation, TIDE, the detection confusion matrix."""
    import fastdet
    from fastdet import analysis

    m, _ = _masks_and_rles()
    masks = np.ascontiguousarray(m.transpose(2, 0, 1)).astype(bool)
    pred = {"boxes": np.array([[5.0, 5.0, 30.0, 25.0], [0.0, 0.0, 10.0, 20.0]]),
            "scores": np.array([0.9, 0.4]), "labels": np.array([1, 2]), "masks": masks}  # fmt: skip
    target = {"boxes": np.array([[5.0, 5.0, 30.0, 26.0]]), "labels": np.array([1]), "masks": masks[:1]}
    for iou_type in ("bbox", "segm"):
        metric = fastdet.MeanAveragePrecision(iou_type=iou_type, class_metrics=True)
        metric.update([pred], [target])
        metric.compute()
    lvis_gt = {
        "images": [{"id": 1, "height": 50, "width": 50, "neg_category_ids": [2],
                    "not_exhaustive_category_ids": []}],
        "categories": [{"id": 1, "name": "a", "frequency": "f"}, {"id": 2, "name": "b", "frequency": "r"}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1.0, 1.0, 10.0, 10.0],
                         "area": 100.0}],
    }  # fmt: skip
    lvis_dt = [{"image_id": 1, "category_id": 1, "bbox": [1.0, 1.0, 10.0, 11.0], "score": 0.9},
               {"image_id": 1, "category_id": 2, "bbox": [20.0, 20.0, 5.0, 5.0], "score": 0.5}]  # fmt: skip
    fastdet.evaluate_lvis(lvis_gt, lvis_dt)
    gt = fastdet.COCO(_COCO_GT, verbose=False)
    analysis.tide(gt, gt.loadRes(_COCO_DT, verbose=False))
    analysis.detection_confusion_matrix_coco(gt, gt.loadRes(_COCO_DT, verbose=False))


# name -> task, the slowest first (so that the pool ends together)
TASKS: dict[str, Callable[[], None]] = {
    "coco": _task_coco,
    "coco segm": _task_coco_segm,
    "coco keypoints": _task_coco_keypoints,
    "masks": _task_masks,
    "fusion": _task_fusion,
    "streaming, lvis, analysis": _task_streaming_lvis_analysis,
    "nms float64": _task_nms_float64,
    "nms float32": _task_nms_float32,
    "soft_nms": _task_soft_nms,
    "boxes": _task_boxes,
    "arch": _task_arch,
    "metrics": _task_metrics,
    "losses": _task_losses,
    "voc": _task_voc,
}


def _task_coco_accumulate() -> None:
    """The accumulation kernels alone, called with the argument types of every evaluation."""
    from types import SimpleNamespace

    from fastdet._kernels.coco import MIXED, TP
    from fastdet.coco.evaluation import _accumulate
    from fastdet.coco.params import Params

    p = Params("bbox")
    n_dt, n_area, n_thr = 2, len(p.areaRng), len(p.iouThrs)
    ev = SimpleNamespace(  # one category on two images, one ground truth and one detection each
        img_ids=[1, 2],
        gt_off=np.array([0, 1, 2], np.int64),
        gt_area=np.array([100.0, 2000.0]),
        gt_ignore=np.zeros(2, np.bool_),
        area_rng=np.ascontiguousarray(p.areaRng, dtype=np.float64),
        dt_off=np.array([0, 1, 2], np.int64),
        dt_score=np.array([0.9, 0.8]),
        status=np.full((n_dt, n_area, n_thr), TP, np.int8),
        kind=np.full((n_dt, n_area), MIXED, np.int8),
    )
    rec = np.ascontiguousarray(p.recThrs, dtype=np.float64)
    shape = (n_thr, len(rec), 1, n_area, len(p.maxDets))
    _accumulate(ev, [0], range(n_area), range(2), list(p.maxDets), rec, shape)  # type: ignore[arg-type]


def _task_demo_nms() -> None:
    """``fastdet demo``'s section 2: NMS, batched NMS and Soft-NMS on float32 boxes."""
    import fastdet

    b, s = _many_boxes(np.float32)
    fastdet.nms(b, s, 0.7)
    fastdet.batched_nms(b, s, np.arange(len(b), dtype=np.int64) % 5, 0.7)
    fastdet.soft_nms(b, s)


def _task_demo_sweep() -> None:
    """``fastdet demo``'s section 3: multi-class NMS and linear Soft-NMS on float64 boxes."""
    import fastdet

    for n in (60, 256):  # images with few and with many candidates (NMS's two paths)
        b, s = _many_boxes(np.float64, n)
        scores = np.stack([s, s[::-1], s * 0.5], axis=1)
        fastdet.multiclass_nms(b, scores, score_threshold=0.05, iou_threshold=0.5, max_detections=100)
        fastdet.soft_nms(b, s, method="linear", iou_threshold=0.5, score_threshold=0.05)


# tasks that ``fastdet._ahead`` runs in a second process during a first run of the command
# line: name -> (task, the chunked kernels it compiles, which wait for it instead of compiling)
AHEAD_TASKS: dict[str, tuple[Callable[[], None], tuple[str, ...]]] = {
    "coco accumulate": (
        _task_coco_accumulate,
        ("fastdet._kernels.coco.gather_categories", "fastdet._kernels.coco.accumulate"),
    ),
    "demo nms": (_task_demo_nms, ()),
    "demo sweep": (_task_demo_sweep, ()),
}


def _run_task(name: str) -> tuple[str, float, int, int]:
    """Run one task; returns (name, seconds, functions compiled, functions loaded from the cache)."""
    from numba.core import event

    compiled = 0

    class Count(event.Listener):
        def on_start(self, ev: Any) -> None:
            nonlocal compiled
            compiled += 1

        def on_end(self, ev: Any) -> None:
            pass

    start = time.perf_counter()
    with event.install_listener("numba:compile", Count()):
        TASKS[name]()
    loaded = _count_cache_hits()
    return name, time.perf_counter() - start, compiled, loaded


def _count_cache_hits() -> int:
    from fastdet._kernels import ChunkedKernel

    hits = 0
    for name, module in list(sys.modules.items()):
        if not name.startswith("fastdet._kernels.") or module is None:
            continue
        for obj in vars(module).values():
            d = obj.dispatcher if isinstance(obj, ChunkedKernel) else obj
            stats = getattr(d, "_cache_hits", None)
            if stats is not None:
                hits += sum(stats.values())
    return hits


class _Progress:
    """A bar on a terminal, else one line per finished task (stderr)."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total = total
        self.done = 0
        self.enabled = enabled
        self.tty = enabled and sys.stderr.isatty()
        self.start = time.perf_counter()

    def update(self, name: str, seconds: float, compiled: int) -> None:
        self.done += 1
        if not self.enabled:
            return
        elapsed = time.perf_counter() - self.start
        what = f"{name}: {compiled} compiled" if compiled else f"{name}: cached"
        if self.tty:
            width = 24
            filled = width * self.done // self.total
            bar = "#" * filled + "-" * (width - filled)
            end = "\n" if self.done == self.total else ""
            sys.stderr.write(f"\r\x1b[Kwarmup [{bar}] {self.done}/{self.total} {elapsed:5.1f} s  {what}{end}")
        else:
            sys.stderr.write(f"warmup {self.done}/{self.total}: {what} in {seconds:.1f} s\n")
        sys.stderr.flush()


def _mark_warmed() -> None:
    """Say in the cache folder that every kernel is in it: a read-only copy of the package's own
    ``__pycache__`` is then still read (see ``fastdet._kernels``). Best effort: no folder, no mark."""
    from fastdet import __version__
    from fastdet._io import write_atomic
    from fastdet._kernels import WARMED_MARK, cache_location

    where = cache_location()
    if where is None:
        return
    with contextlib.suppress(OSError, ValueError):
        write_atomic(os.path.join(where, WARMED_MARK), f"fastdet {__version__}\n")


def warmup(
    tasks: list[str] | None = None, *, processes: int | None = None, progress: bool = False
) -> dict[str, Any]:
    """Compile every kernel and signature the public API uses into Numba's on-disk cache.

    Run it once after installing fastdet (in a Docker image build, a CI cache
    step) so that no later process compiles anything: ``fastdet warmup`` on the
    command line does the same with a progress bar.

    Parameters
    ----------
    tasks : list of str or None
        Names from ``fastdet._warmup.TASKS`` (default: all).
    processes : int or None
        Worker processes (default: the number of CPUs, at most one per task). With
        1, the tasks run in this process.
    progress : bool
        Report progress on stderr: a bar on a terminal, otherwise one line per task.

    Returns
    -------
    dict
        ``seconds`` (wall time), ``compiled`` and ``loaded`` (functions compiled,
        and loaded from an existing cache), ``tasks`` (name -> seconds) and
        ``cache_dir`` (``NUMBA_CACHE_DIR`` or None: Numba's default locations).

    Raises
    ------
    ValueError
        An unknown task name or ``processes < 1``.
    RuntimeError
        A task failed (the message names it).

    Notes
    -----
    A complete warmup (``tasks`` None) leaves a ``fastdet-warmup-done`` file in the
    cache folder: a read-only copy of the package's own ``__pycache__`` (an image
    built by root, run by another user) is then still read. Safe to run twice at
    once and beside programs that use the same cache: every
    cache file is written to a temporary name and renamed into place, and is
    checked (SHA-256, Numba version, source hash, signature) when loaded. Inputs
    that fastdet passes to kernels unchanged, such as read-only arrays, compile
    their own signature on first use.

    Examples
    --------
    >>> report = warmup(["voc"], processes=1)
    >>> sorted(report["tasks"])
    ['voc']
    """
    names = list(TASKS) if tasks is None else list(tasks)
    unknown = [n for n in names if n not in TASKS]
    if unknown:
        raise ValueError(f"unknown warmup tasks {unknown}; choose from {list(TASKS)}")
    n_proc = min(os.cpu_count() or 1, len(names)) if processes is None else processes
    if isinstance(n_proc, bool) or not isinstance(n_proc, int) or n_proc < 1:
        raise ValueError(f"processes must be an integer >= 1, got {processes!r}")
    bar = _Progress(len(names), progress)
    start = time.perf_counter()
    results: dict[str, tuple[float, int, int]] = {}

    def record(name: str, seconds: float, compiled: int, loaded: int) -> None:
        results[name] = (seconds, compiled, loaded)
        bar.update(name, seconds, compiled)

    if n_proc == 1:
        for name in names:
            try:
                record(*_run_task(name))
            except Exception as exc:
                raise RuntimeError(f"warmup task {name!r} failed: {exc}") from exc
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        context = multiprocessing.get_context("spawn")  # a clean interpreter: no forked threads or locks
        with ProcessPoolExecutor(max_workers=min(n_proc, len(names)), mp_context=context) as pool:
            futures = {pool.submit(_run_task, name): name for name in names}
            for future in as_completed(futures):
                try:
                    record(*future.result())
                except Exception as exc:
                    raise RuntimeError(f"warmup task {futures[future]!r} failed: {exc}") from exc
    if tasks is None:
        _mark_warmed()
    return {
        "seconds": time.perf_counter() - start,
        "compiled": sum(c for _, c, _ in results.values()),
        "loaded": sum(h for _, _, h in results.values()),
        "tasks": {name: results[name][0] for name in names},
        "cache_dir": os.environ.get("NUMBA_CACHE_DIR") or None,
    }
