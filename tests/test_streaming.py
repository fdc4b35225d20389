"""fastdet.MeanAveragePrecision against pycocotools (directly) and torchmetrics 1.9.0 (both backends).

The reference data sets are built one box at a time by ``reference.streaming_coco_datasets``
(torchmetrics' recipe) and evaluated by pycocotools; torchmetrics runs when installed. Merge,
pickle and ``torch.distributed`` sync (a real two-process gloo group) must reproduce one metric
that saw every update, bit for bit.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import os
import pickle
import socket
import subprocess
import sys
import time
import warnings
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import reference
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import st_detection_images

from fastdet import MeanAveragePrecision
from fastdet.streaming import _torch_linspace32

ROOT = Path(__file__).resolve().parent.parent

# ---------------------------------------------------------------------------- data


def detector_batch(
    rng: np.random.Generator,
    n_images: int,
    *,
    n_classes: int = 6,
    p_empty_preds: float = 0.1,
    p_empty_target: float = 0.15,
    crowd: float = 0.05,
    area: bool = False,
    dtype: Any = np.float32,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Detector-like xyxy batches: jittered, duplicated and mislabelled copies of the ground truth,
    background boxes, scores on a 0.01 grid (ties across images), object sizes from 4 to 400 px."""
    preds, target = [], []
    for _ in range(n_images):
        n_gt = 0 if rng.random() < p_empty_target else int(rng.integers(1, 9))
        side = np.exp(rng.uniform(np.log(4), np.log(400), (n_gt, 1))) * np.exp(rng.normal(0, 0.3, (n_gt, 2)))
        xy = rng.uniform(0, 640, (n_gt, 2))
        gt_box = np.concatenate([xy, xy + side], axis=1)
        gt_label = rng.integers(0, n_classes, n_gt)
        t: dict[str, Any] = {"boxes": gt_box.astype(dtype), "labels": gt_label}
        if crowd:
            t["iscrowd"] = (rng.random(n_gt) < crowd).astype(np.int64)
        if area:  # some given (the mask area), some 0 (torchmetrics then takes the box area)
            a = side.prod(axis=1) * rng.uniform(0.4, 0.9, n_gt)
            t["area"] = np.where(rng.random(n_gt) < 0.7, a, 0.0).astype(dtype)
        target.append(t)
        boxes, labels = [], []
        if rng.random() >= p_empty_preds:
            for g in range(n_gt):
                for _ in range(int(rng.integers(0, 4))):
                    jitter = rng.normal(0, 0.12, 4) * np.repeat(side[g], 2)
                    boxes.append(gt_box[g] + jitter)
                    labels.append(gt_label[g] if rng.random() < 0.85 else rng.integers(0, n_classes))
            for _ in range(int(rng.integers(0, 6))):
                x, y = rng.uniform(0, 640, 2)
                w, h = np.exp(rng.uniform(np.log(4), np.log(300), 2))
                boxes.append(np.array([x, y, x + w, y + h]))
                labels.append(rng.integers(0, n_classes))
        b = np.array(boxes, dtype=np.float64).reshape(-1, 4)
        b[:, 2:] = np.maximum(b[:, 2:], b[:, :2])  # jitter may invert a tiny box
        scores = np.round(rng.random(len(b)), 2)
        preds.append(
            {"boxes": b.astype(dtype), "scores": scores.astype(dtype), "labels": np.array(labels, np.int64)}
        )
    return preds, target


def convert(items: list[dict[str, Any]], fmt: str) -> list[dict[str, Any]]:
    """xyxy boxes to ``fmt``, in their dtype."""
    out = []
    for item in items:
        b = item["boxes"]
        if fmt == "xywh":
            b = np.concatenate([b[:, :2], b[:, 2:] - b[:, :2]], axis=1)
        elif fmt == "cxcywh":
            b = np.concatenate([(b[:, :2] + b[:, 2:]) / 2, b[:, 2:] - b[:, :2]], axis=1)
        out.append({**item, "boxes": b})
    return out


def to_torch(items: list[dict[str, Any]], device: str = "cpu") -> list[dict[str, Any]]:
    torch = pytest.importorskip("torch")
    return [{k: torch.from_numpy(np.asarray(v)).to(device) for k, v in item.items()} for item in items]


def batches(preds: list[Any], target: list[Any], size: int = 4) -> list[tuple[list[Any], list[Any]]]:
    return [(preds[s : s + size], target[s : s + size]) for s in range(0, len(preds), size)]


def fastdet_result(preds: list[Any], target: list[Any], **kwargs: Any) -> dict[str, Any]:
    m = MeanAveragePrecision(**kwargs)
    m.warn_on_many_detections = False
    for p, t in batches(preds, target):
        m.update(p, t)
    return m.compute()


SCENARIOS: dict[str, dict[str, Any]] = {
    "default": {},
    "class_metrics": {"metric": {"class_metrics": True}},
    "micro": {"metric": {"average": "micro", "class_metrics": True}},
    "custom_thresholds": {
        "metric": {
            "iou_thresholds": [0.3, 0.5, 0.55, 0.75, 0.9],
            "rec_thresholds": [0.0, 0.1, 0.25, 0.5, 0.55, 0.75, 1.0],
            "max_detection_thresholds": [1, 5, 20],  # no 100: pycocotools' map is -1
            "class_metrics": True,
        }
    },
    "max_dets_300": {"metric": {"max_detection_thresholds": [300, 10, 100], "class_metrics": True}},
    "xywh": {"metric": {"box_format": "xywh"}, "fmt": "xywh"},
    "cxcywh": {"metric": {"box_format": "cxcywh", "class_metrics": True}, "fmt": "cxcywh"},
    "crowd_area": {"data": {"crowd": 0.2, "area": True}, "metric": {"class_metrics": True}},
    "sparse": {"data": {"p_empty_preds": 0.5, "p_empty_target": 0.5, "n_classes": 3}},
    "float64": {"data": {"dtype": np.float64}, "metric": {"box_format": "cxcywh"}, "fmt": "cxcywh"},
    "extended": {"metric": {"extended_summary": True}},
}


def scenario_data(name: str, seed: int, n_images: int = 14) -> tuple[list[Any], list[Any], dict[str, Any]]:
    sc = SCENARIOS[name]
    preds, target = detector_batch(np.random.default_rng(seed), n_images, **sc.get("data", {}))
    fmt = sc.get("fmt", "xyxy")
    return convert(preds, fmt), convert(target, fmt), dict(sc.get("metric", {}))


# ---------------------------------------------------------------------------- pycocotools, directly


def pycocotools_result(preds: list[Any], target: list[Any], **kwargs: Any) -> dict[str, Any]:
    """pycocotools' numbers on the data sets torchmetrics builds (its recipe, run here by hand)."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    m = MeanAveragePrecision(**kwargs)  # only for the resolved parameters
    mdt = m.max_detection_thresholds
    gt, dt, classes = reference.streaming_coco_datasets(preds, target, m.box_format, m.average)
    keys = ["map", "map_50", "map_75", "map_small", "map_medium", "map_large"]
    keys += [f"mar_{d}" for d in mdt] + ["mar_small", "mar_medium", "mar_large"]
    if not gt["images"]:
        return {**dict.fromkeys(keys, -1.0), "classes": classes}

    def run(gt: dict[str, Any], dt: dict[str, Any], cat_ids: list[int] | None) -> Any:
        with contextlib.redirect_stdout(io.StringIO()):
            cg, cd = COCO(), COCO()
            cg.dataset, cd.dataset = gt, dt
            cg.createIndex()
            cd.createIndex()
            e = COCOeval(cg, cd, iouType="bbox")
            e.params.iouThrs = np.array(m.iou_thresholds, dtype=np.float64)
            e.params.recThrs = np.array(m.rec_thresholds, dtype=np.float64)
            e.params.maxDets = mdt
            if cat_ids is not None:
                e.params.catIds = cat_ids
            e.evaluate()
            e.accumulate()
            e.summarize()
        return e

    e = run(gt, dt, None)
    out: dict[str, Any] = dict(zip(keys, e.stats.tolist(), strict=True))
    if m.extended_summary:
        out.update(
            ious=e.ious, precision=e.eval["precision"], recall=e.eval["recall"], scores=e.eval["scores"]
        )
    if m.class_metrics:
        gt, dt, _ = reference.streaming_coco_datasets(preds, target, m.box_format, "macro")
        per = [run(gt, dt, [c]).stats for c in classes]
        out["map_per_class"] = [s[0] for s in per]
        out[f"mar_{mdt[-1]}_per_class"] = [s[8] for s in per]
    else:
        out["map_per_class"] = [-1.0]
        out[f"mar_{mdt[-1]}_per_class"] = [-1.0]
    out["classes"] = classes
    return out


def assert_same_as_pycocotools(ours: dict[str, Any], theirs: dict[str, Any]) -> None:
    assert list(ours) == list(theirs)
    for k, want in theirs.items():
        got = ours[k]
        if k == "ious":
            assert set(got) == set(want)
            for c, w in want.items():
                assert (isinstance(got[c], list) and got[c] == [] and len(w) == 0) or np.array_equal(
                    got[c], w
                ), c
        elif k == "classes":
            assert got.dtype == np.int64
            assert got.tolist() == want
        elif isinstance(want, (list, np.ndarray)):
            assert isinstance(got, np.ndarray)
            assert got.dtype == np.float64
            assert np.array_equal(got, np.asarray(want, np.float64)), (k, got, want)
        else:
            assert isinstance(got, np.float64), (k, type(got))
            assert got == want, (k, float(got), want, float(got) - want)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_matches_pycocotools(name: str, seed: int) -> None:
    preds, target, kwargs = scenario_data(name, seed)
    assert_same_as_pycocotools(
        fastdet_result(preds, target, **kwargs), pycocotools_result(preds, target, **kwargs)
    )


@settings(deadline=None)
@given(images=st_detection_images(), size=st.integers(1, 5), kind=st.sampled_from(["macro", "micro"]))
def test_matches_pycocotools_hypothesis(images: list[Any], size: int, kind: str) -> None:
    """Grid boxes (IoU exactly at thresholds), tied scores, zero-area boxes, crowd regions."""
    preds, target = [p for p, _ in images], [t for _, t in images]
    kwargs = {"class_metrics": True, "average": kind, "iou_thresholds": [0.5, 0.6, 0.75]}
    m = MeanAveragePrecision(**kwargs)
    for s in range(0, len(preds), size):
        m.update(preds[s : s + size], target[s : s + size])
    assert_same_as_pycocotools(m.compute(), pycocotools_result(preds, target, **kwargs))


# ---------------------------------------------------------------------------- torchmetrics


def torchmetrics_result(preds: list[Any], target: list[Any], backend: str, **kwargs: Any) -> dict[str, Any]:
    pytest.importorskip("torchvision")
    tm = pytest.importorskip("torchmetrics.detection")
    pytest.importorskip(backend)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torchmetrics' own deprecation / "compute before update" warnings
        m = tm.MeanAveragePrecision(backend=backend, **kwargs)
        m.warn_on_many_detections = False
        for p, t in batches(preds, target):
            m.update(p, t)
        return m.compute()


def assert_same_as_torchmetrics(ours: dict[str, Any], theirs: dict[str, Any], backend: str = "") -> None:
    import torch

    assert list(ours) == list(theirs)
    for k, want in theirs.items():
        got = ours[k]
        if k == "precision" and backend == "faster_coco_eval":
            # faster-coco-eval's precision is tp / (tp + fp); pycocotools' (and fastdet's) divides by
            # tp + fp + np.spacing(1): relative differences up to 2.3e-16, hidden by the float32 summaries
            assert got.dtype == want.dtype
            assert torch.allclose(got, want, rtol=4.5e-16, atol=0), k
        elif isinstance(want, dict):
            assert set(got) == set(want)
            for c, w in want.items():
                if isinstance(w, torch.Tensor):
                    assert got[c].dtype == w.dtype, (k, c)
                    assert torch.equal(got[c], w), (k, c)
                else:
                    assert got[c] == w, (k, c)
        else:
            assert isinstance(got, torch.Tensor), (k, type(got))
            assert got.dtype == want.dtype, (k, got, want)
            assert got.shape == want.shape, (k, got, want)
            assert torch.equal(got, want), (k, got, want)


@pytest.mark.parametrize("backend", ["pycocotools", "faster_coco_eval"])
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_matches_torchmetrics(name: str, seed: int, backend: str) -> None:
    preds, target, kwargs = scenario_data(name, seed)
    preds, target = to_torch(preds), to_torch(target)
    theirs = torchmetrics_result(preds, target, backend, **kwargs)
    ours = fastdet_result(preds, target, backend=backend, **kwargs)
    assert_same_as_torchmetrics(ours, theirs, backend)


@pytest.mark.parametrize("backend", ["pycocotools", "faster_coco_eval"])
def test_matches_torchmetrics_empty_and_degenerate(backend: str) -> None:
    """No update; only empty images; images without labels anywhere; one class (squeezed outputs)."""
    torch = pytest.importorskip("torch")
    empty_p = {
        "boxes": torch.zeros((0, 4)),
        "scores": torch.zeros(0),
        "labels": torch.zeros(0, dtype=torch.int64),
    }
    empty_t = {"boxes": torch.zeros((0, 4)), "labels": torch.zeros(0, dtype=torch.int64)}
    one_p = {"boxes": torch.tensor([[258.0, 41.0, 606.0, 285.0]]), "scores": torch.tensor([0.536]),
             "labels": torch.tensor([3])}  # fmt: skip
    one_t = {"boxes": torch.tensor([[214.0, 41.0, 562.0, 285.0]]), "labels": torch.tensor([3])}
    for preds, target in ([], []), ([empty_p] * 3, [empty_t] * 3), ([one_p, empty_p], [empty_t, one_t]):
        for kwargs in ({}, {"class_metrics": True}, {"average": "micro", "class_metrics": True}):
            theirs = torchmetrics_result(preds, target, backend, **kwargs)
            m = MeanAveragePrecision(backend=backend, **kwargs)
            if preds:
                m.update(preds, target)
            else:
                m._torch_out = True  # no tensor ever came in: ask for torchmetrics' types explicitly
            assert_same_as_torchmetrics(m.compute(), theirs)


def test_default_thresholds_are_torchmetrics() -> None:
    torch = pytest.importorskip("torch")
    m = MeanAveragePrecision()
    assert m.iou_thresholds == torch.linspace(0.5, 0.95, round((0.95 - 0.5) / 0.05) + 1).tolist()
    assert m.rec_thresholds == torch.linspace(0.0, 1.00, round(1.00 / 0.01) + 1).tolist()
    assert m.max_detection_thresholds == [1, 10, 100]
    for args in [(0.0, 1.0, 1001), (0.1, 0.9, 7), (0.3, 0.77, 33), (0.5, 0.95, 19)]:
        assert _torch_linspace32(*args) == torch.linspace(*args).tolist(), args


def test_box_conversion_in_the_input_dtype() -> None:
    """xyxy float32 -> xywh subtracts in float32 (torchvision), not in float64: the IoU sees the rounding."""
    box = np.array([[0.1, 0.2, 1000.3, 0.9]], np.float32)
    m = MeanAveragePrecision()
    m.update([{"boxes": box, "scores": np.ones(1), "labels": np.zeros(1, np.int64)}],
             [{"boxes": box, "labels": np.zeros(1, np.int64)}])  # fmt: skip
    w = m._state().dt_box[0, 2]
    assert w == float(box[0, 2] - box[0, 0])
    assert w != float(box[0, 2]) - float(box[0, 0])


def _bf16_boxes(torch: Any, n: int, seed: int) -> Any:
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g) * 600
    wh = torch.rand(n, 2, generator=g) * 200 + 0.01
    return torch.cat([xy, xy + wh], 1).to(torch.bfloat16)


@pytest.mark.parametrize("fmt", ["xyxy", "cxcywh", "xywh"])
def test_bfloat16_boxes_convert_in_bfloat16(fmt: str) -> None:
    """bfloat16 tensors: torchvision's box_convert computes (and rounds) each step in bfloat16;
    the state holds those values, also when a batch mixes bfloat16 with other dtypes."""
    torch = pytest.importorskip("torch")

    def torchvision_xywh(b: Any, fmt: str) -> Any:  # torchvision.ops.box_convert(b, fmt, "xywh")
        if fmt == "cxcywh":
            cx, cy, w, h = b.unbind(-1)
            b = torch.stack((cx - 0.5 * w, cy - 0.5 * h, cx + 0.5 * w, cy + 0.5 * h), dim=-1)
        if fmt != "xywh":
            x1, y1, x2, y2 = b.unbind(-1)
            b = torch.stack((x1, y1, x2 - x1, y2 - y1), dim=-1)
        return b.double().numpy()

    boxes = [_bf16_boxes(torch, n, seed) for seed, n in enumerate((200, 0, 37))]
    for mixed in (False, True):
        items = [{"boxes": b, "scores": torch.ones(len(b)), "labels": torch.zeros(len(b), dtype=torch.int64)}
                 for b in boxes]  # fmt: skip
        if mixed:  # float32 NumPy and float64 tensors around the bfloat16 one
            items[1] = {**items[1], "boxes": np.zeros((0, 4), np.float32)}
            items[2] = {**items[2], "boxes": boxes[2].double()}
        m = MeanAveragePrecision(box_format=fmt)
        m.warn_on_many_detections = False
        m.update(items, items)
        want = [torchvision_xywh(boxes[0], fmt), np.zeros((0, 4))]
        want.append(torchvision_xywh(boxes[2].double() if mixed else boxes[2], fmt))
        assert np.array_equal(m._state().dt_box, np.concatenate(want)), mixed
        assert np.array_equal(m._state().gt_box, np.concatenate(want)), mixed


@pytest.mark.parametrize("fmt", ["xyxy", "cxcywh"])
def test_bfloat16_boxes_match_torchmetrics(fmt: str) -> None:
    torch = pytest.importorskip("torch")
    g = torch.Generator().manual_seed(3)
    preds, target = [], []
    for seed in range(12):
        gt = _bf16_boxes(torch, 6, seed)
        xy = gt[:, :2].float() + torch.randn(6, 2, generator=g) * 3
        dt = torch.cat([xy, xy + (gt[:, 2:] - gt[:, :2]).float().abs()], 1).to(torch.bfloat16)
        labels = torch.randint(0, 3, (6,), generator=g)
        if fmt == "cxcywh":  # (x, y) as the centre
            gt, dt = (torch.cat([b[:, :2], b[:, 2:] - b[:, :2]], 1) for b in (gt, dt))
        preds.append({"boxes": dt, "scores": torch.rand(6, generator=g).to(torch.bfloat16), "labels": labels})
        target.append({"boxes": gt, "labels": labels})
    theirs = torchmetrics_result(preds, target, "pycocotools", box_format=fmt, class_metrics=True)
    assert_same_as_torchmetrics(fastdet_result(preds, target, box_format=fmt, class_metrics=True), theirs)


# ---------------------------------------------------------------------------- state: merge, pickle


def results_equal(a: dict[str, Any], b: dict[str, Any]) -> bool:
    if list(a) != list(b):
        return False
    for k in a:
        x, y = a[k], b[k]
        if isinstance(x, dict):
            if set(x) != set(y) or not all(np.array_equal(np.asarray(x[c]), np.asarray(y[c])) for c in x):
                return False
        elif not (type(x) is type(y) and np.array_equal(np.asarray(x), np.asarray(y))):
            return False
    return True


@pytest.mark.parametrize("seed", range(4))
def test_merge_and_pickle_equal_one_shot(seed: int) -> None:
    preds, target = detector_batch(np.random.default_rng(seed), 23)
    kwargs = {"class_metrics": True, "extended_summary": True}
    whole = fastdet_result(preds, target, **kwargs)
    shards = []
    for lo, hi in [(0, 5), (5, 6), (6, 6), (6, 23)]:
        m = MeanAveragePrecision(**kwargs)
        for p, t in batches(preds[lo:hi], target[lo:hi], 3):
            m.update(p, t)
        shards.append(pickle.loads(pickle.dumps(m)))
    merged = shards[0].merge(*shards[1:])
    assert merged is shards[0]
    assert merged.n_images == 23
    assert results_equal(merged.compute(), whole)
    again = pickle.loads(pickle.dumps(merged))
    assert results_equal(again.compute(), whole)
    assert len(again._chunks) == 1  # pickled consolidated


@settings(deadline=None)
@given(images=st_detection_images(max_images=8), data=st.data())
def test_any_split_and_merge_equals_one_shot(images: list[Any], data: st.DataObject) -> None:
    preds, target = [p for p, _ in images], [t for _, t in images]
    n = len(images)
    cuts = sorted(data.draw(st.lists(st.integers(0, n), max_size=4)))
    bounds = [0, *cuts, n]
    kwargs = {"class_metrics": True, "average": data.draw(st.sampled_from(["macro", "micro"]))}
    one = MeanAveragePrecision(**kwargs)
    one.update(preds, target)
    shards = []
    for lo, hi in itertools.pairwise(bounds):
        m = MeanAveragePrecision(**kwargs)
        step = data.draw(st.integers(1, 3))
        for s in range(lo, hi, step):
            m.update(preds[s : min(s + step, hi)], target[s : min(s + step, hi)])
        shards.append(m)
    merged = shards[0].merge(*shards[1:])
    assert results_equal(merged.compute(), one.compute())


def test_merge_refuses_other_parameters_and_types() -> None:
    a = MeanAveragePrecision()
    with pytest.raises(ValueError, match="iou_thresholds"):
        a.merge(MeanAveragePrecision(iou_thresholds=[0.5]))
    with pytest.raises(ValueError, match="class_metrics"):
        a.merge(MeanAveragePrecision(class_metrics=True))
    with pytest.raises(TypeError, match="argument 1"):
        a.merge(MeanAveragePrecision(), "state")  # type: ignore[arg-type]
    a.merge(MeanAveragePrecision(box_format="xywh"))  # the state is xywh: formats may differ


def test_reset_and_merge_with_itself() -> None:
    preds, target = detector_batch(np.random.default_rng(0), 5)
    m = MeanAveragePrecision()
    m.update(preds, target)
    first = m.compute()
    m.merge(m)
    assert m.n_images == 10
    m.reset()
    assert m.n_images == 0
    assert m.compute()["map"] == -1.0
    m.update(preds, target)
    assert results_equal(m.compute(), first)


def test_forward_returns_the_batch_and_accumulates() -> None:
    preds, target = detector_batch(np.random.default_rng(1), 12)
    m = MeanAveragePrecision()
    first = m(preds[:6], target[:6])
    assert results_equal(first, fastdet_result(preds[:6], target[:6]))
    m.forward(preds[6:], target[6:])
    assert results_equal(m.compute(), fastdet_result(preds, target))


# ---------------------------------------------------------------------------- types and torch


def test_numpy_results_and_no_torch_import() -> None:
    code = (
        "import sys, numpy as np, fastdet\n"
        "m = fastdet.MeanAveragePrecision(class_metrics=True)\n"
        "b = np.array([[0, 0, 10, 10]], np.float32)\n"
        "m.update([{'boxes': b, 'scores': np.array([0.9]), 'labels': np.array([1])}],\n"
        "         [{'boxes': b, 'labels': np.array([1]), 'iscrowd': np.array([0])}])\n"
        "r = m.compute(); m.sync()\n"
        "assert type(r['map']) is np.float64 and r['map'] == 0.9999999999999998, r\n"
        "assert r['map_per_class'].dtype == np.float64 and r['map_per_class'].shape == (1,)\n"
        "assert r['classes'].dtype == np.int64 and r['classes'].tolist() == [1]\n"
        "assert not any(k == 'torch' or k.startswith('torch.') for k in sys.modules), 'torch imported'\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr


def test_torch_inputs_give_torchmetrics_types() -> None:
    torch = pytest.importorskip("torch")
    preds, target = detector_batch(np.random.default_rng(3), 6)
    r = fastdet_result(to_torch(preds), to_torch(target), class_metrics=True)
    assert r["map"].dtype == torch.float32
    assert r["map"].shape == ()
    assert r["classes"].dtype == torch.int32
    # mixed containers: tensors with lists and arrays in one batch, requires_grad, float16
    p = [{"boxes": torch.tensor([[0.0, 0, 10, 10]], requires_grad=True), "scores": [0.5], "labels": np.array([1])},
         {"boxes": np.zeros((0, 4)), "scores": torch.zeros(0, dtype=torch.float16), "labels": torch.zeros(0)}]  # fmt: skip
    t = [{"boxes": [[0, 0, 10, 10]], "labels": torch.tensor([1])}, {"boxes": torch.zeros(0), "labels": []}]
    m = MeanAveragePrecision()
    m.update(p, t)
    assert float(m.compute()["map"]) == 1.0


def test_cuda_tensors() -> None:
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    preds, target = detector_batch(np.random.default_rng(4), 10)
    on_gpu = fastdet_result(to_torch(preds, "cuda"), to_torch(target, "cuda"), class_metrics=True)
    assert results_equal(on_gpu, fastdet_result(to_torch(preds), to_torch(target), class_metrics=True))


# ---------------------------------------------------------------------------- bad input


def _ok_pred() -> dict[str, Any]:
    return {
        "boxes": np.array([[0.0, 0, 5, 5], [1, 1, 4, 4]]),
        "scores": np.array([0.9, 0.1]),
        "labels": np.array([0, 1]),
    }


def _ok_target() -> dict[str, Any]:
    return {"boxes": np.array([[0.0, 0, 5, 5]]), "labels": np.array([0])}


def _bad(where: str, key: str, value: Any) -> tuple[list[Any], list[Any]]:
    preds, target = [_ok_pred(), _ok_pred()], [_ok_target(), _ok_target()]
    item = (preds if where == "preds" else target)[1]
    if value is _MISSING:
        del item[key]
    else:
        item[key] = value
    return preds, target


_MISSING = object()

BAD_INPUT = [
    ("preds", "boxes", _MISSING, ValueError, r"preds\[1\] has no 'boxes' key"),
    ("preds", "scores", _MISSING, ValueError, r"preds\[1\] has no 'scores' key"),
    ("target", "labels", _MISSING, ValueError, r"target\[1\] has no 'labels' key"),
    ("preds", "boxes", np.zeros((2, 5)), ValueError, r"preds\[1\]\['boxes'\] must have shape \(N, 4\), got \(2, 5\)"),
    ("target", "boxes", np.zeros(4), ValueError, r"target\[1\]\['boxes'\] must have shape \(N, 4\)"),
    ("preds", "scores", np.array([0.5]), ValueError, r"preds\[1\]\['scores'\] has length 1 but preds\[1\]\['boxes'\]"),
    ("preds", "scores", np.array([[0.5, 0.4]]), ValueError, r"preds\[1\]\['scores'\] must be 1-dimensional"),
    ("preds", "labels", np.array([0.0, 1.5]), ValueError, r"preds\[1\]\['labels'\] entry 1 is 1.5; labels must be integers"),
    ("target", "labels", np.array([np.nan]), ValueError, r"target\[1\]\['labels'\] entry 0 is nan"),
    ("preds", "labels", np.array([True, False]), TypeError, r"preds\[1\]\['labels'\] must be an integer array"),
    ("preds", "labels", np.array(["a", "b"]), TypeError, r"preds\[1\]\['labels'\] must be an integer array"),
    ("preds", "scores", np.array([0.5, np.nan]), ValueError, r"preds\[1\]\['scores'\] entry 1 is NaN"),
    ("preds", "boxes", np.array([[0.0, 0, 5, 5], [np.nan, 1, 4, 4]]), ValueError, r"preds\[1\]\['boxes'\] row 1 .*finite"),
    ("target", "boxes", np.array([[0.0, 0, np.inf, 5]]), ValueError, r"target\[1\]\['boxes'\] row 0 .*finite"),
    ("preds", "boxes", np.array([[0.0, 0, 5, 5], [4, 1, 1, 4]]), ValueError, r"preds\[1\]\['boxes'\] row 1 .*width and height"),
    ("preds", "boxes", [[0, 0, 1], [1, 2]], ValueError, r"preds\[1\]\['boxes'\] could not be converted"),
    ("preds", "boxes", np.array([[0, 0, 1, 1j]] * 2), TypeError, r"preds\[1\]\['boxes'\] must be a real numeric array"),
    ("target", "iscrowd", np.array([2.0**9]), ValueError, r"target\[1\]\['iscrowd'\] entry 0 .*expected 0 or 1"),
    ("target", "iscrowd", np.array([0, 1]), ValueError, r"target\[1\]\['iscrowd'\] has length 2 but target\[1\]\['boxes'\]"),
    ("target", "area", np.array([np.nan]), ValueError, r"target\[1\]\['area'\] entry 0 is NaN"),
]  # fmt: skip


@pytest.mark.parametrize(("where", "key", "value", "exc", "match"), BAD_INPUT)
def test_bad_input_names_argument_image_and_key(
    where: str, key: str, value: Any, exc: type, match: str
) -> None:
    m = MeanAveragePrecision()
    preds, target = _bad(where, key, value)
    with pytest.raises(exc, match=match):
        m.update(preds, target)
    assert m.n_images == 0  # a rejected batch leaves the state alone


def test_bad_batches_and_parameters() -> None:
    m = MeanAveragePrecision()
    with pytest.raises(ValueError, match=r"same length .* got 2 and 1"):
        m.update([_ok_pred(), _ok_pred()], [_ok_target()])
    with pytest.raises(TypeError, match="preds must be a list of dicts"):
        m.update(_ok_pred(), [_ok_target()])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"target\[0\] must be a dict"):
        m.update([_ok_pred()], [np.zeros((1, 4))])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="box_format"):
        MeanAveragePrecision(box_format="xyxyxy")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="average"):
        MeanAveragePrecision(average="weighted")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="backend"):
        MeanAveragePrecision(backend="hotcoco")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_detection_thresholds"):
        MeanAveragePrecision(max_detection_thresholds=[1, 10])
    for mdt in ([1, 10], [1, 10, 50, 100]):  # torchmetrics' test_with_more_and_less_detection_thresholds
        with pytest.raises(
            ValueError, match=r"When providing a list of max detection thresholds it should have length 3\."
        ):
            MeanAveragePrecision(max_detection_thresholds=mdt)
    assert MeanAveragePrecision(max_detection_thresholds=[300.0, 1.0, 10.0]).max_detection_thresholds == [
        1,
        10,
        300,
    ]
    with pytest.raises(ValueError, match="max_detection_thresholds"):
        MeanAveragePrecision(max_detection_thresholds=[1, 10, 99.5])
    with pytest.raises(ValueError, match="iou_thresholds"):
        MeanAveragePrecision(iou_thresholds=[0.5, float("nan")])
    with pytest.raises(TypeError, match="class_metrics"):
        MeanAveragePrecision(class_metrics=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="iou_type"):
        MeanAveragePrecision(iou_type="keypoints")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="iou_type"):
        MeanAveragePrecision(iou_type=("segm", "segm"))


def test_many_detections_warn_like_torchmetrics() -> None:
    boxes = np.tile(np.array([[0.0, 0, 5, 5]]), (3, 1))
    m = MeanAveragePrecision(max_detection_thresholds=[1, 2, 2])
    with pytest.warns(UserWarning, match="3 detections"):
        m.update([{"boxes": boxes, "scores": np.ones(3), "labels": np.zeros(3, int)}], [_ok_target()])
    # torchmetrics' own test's pattern (test_warning_on_many_detections), e.g. in a user's warning filter
    with pytest.warns(UserWarning, match="Encountered more than 2 detections in a single image.*"):
        m.update([{"boxes": boxes, "scores": np.ones(3), "labels": np.zeros(3, int)}], [_ok_target()])
    m.warn_on_many_detections = False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m.update([{"boxes": boxes, "scores": np.ones(3), "labels": np.zeros(3, int)}], [_ok_target()])


class _FakeDist:
    """A stand-in for ``torch.distributed`` whose all_gather_object returns the given ranks' payloads."""

    def __init__(self, ranks: list[MeanAveragePrecision], rank: int) -> None:
        self.ranks, self.rank = ranks, rank

    def is_available(self) -> bool:
        return True

    def is_initialized(self) -> bool:
        return True

    def get_world_size(self, group: Any = None) -> int:
        return len(self.ranks)

    def get_rank(self, group: Any = None) -> int:
        return self.rank

    def all_gather_object(self, out: list[Any], obj: Any, group: Any = None) -> None:
        for r, m in enumerate(self.ranks):
            out[r] = (
                obj if r == self.rank else pickle.loads(pickle.dumps((m._params(), m._state(), m._torch_out)))
            )


@pytest.mark.parametrize("counts", [(3, 0, 2), (0, 0, 1), (2, 2, 2), (0, 0, 0)])
def test_sync_interleaves_images_like_torchmetrics(
    monkeypatch: pytest.MonkeyPatch, counts: tuple[int, ...]
) -> None:
    """Image j of every rank in rank order, then image j + 1; ranks may hold no image at all."""
    preds, target = detector_batch(np.random.default_rng(5), sum(counts))
    ranks, order, start = [], [], 0
    for c in counts:
        m = MeanAveragePrecision(class_metrics=True)
        if c:
            m.update(preds[start : start + c], target[start : start + c])
        ranks.append(m)
        order.append(list(range(start, start + c)))
        start += c
    interleaved = [img[j] for j in range(max(counts)) for img in order if j < len(img)]
    single = fastdet_result(
        [preds[i] for i in interleaved], [target[i] for i in interleaved], class_metrics=True
    )
    monkeypatch.setitem(sys.modules, "torch.distributed", _FakeDist(ranks, 1))
    assert results_equal(ranks[1].compute(), single)
    assert ranks[1].n_images == counts[1]  # compute leaves the local state alone
    ranks[1].sync()
    assert ranks[1].n_images == sum(counts)
    assert results_equal(ranks[1].compute(), single)
    assert ranks[1].unsync().n_images == counts[1]


# ---------------------------------------------------------------------------- torch.distributed (gloo, two processes)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _dist_worker(rank: int, world: int, port: int, out_dir: str, mode: str) -> None:
    """One rank: update every ``world``-th image (DistributedSampler's split), compute, save the result."""
    import torch.distributed as dist

    dist.init_process_group(
        "gloo",
        init_method=f"tcp://127.0.0.1:{port}",
        rank=rank,
        world_size=world,
        timeout=timedelta(seconds=60),
    )
    try:
        preds, target = detector_batch(np.random.default_rng(11), 27)
        if mode == "torch":
            preds, target = to_torch(preds), to_torch(target)
        kwargs: dict[str, Any] = {"class_metrics": mode != "mismatch" or rank == 0}
        if mode == "segm":  # masks (tests/test_streaming_segm.py)
            from test_streaming_segm import _torch_data

            preds, target = _torch_data(11, 15)
            kwargs["iou_type"] = "segm"
        m = MeanAveragePrecision(**kwargs)
        mine_p, mine_t = preds[rank::world], target[rank::world]
        for p, t in batches(mine_p, mine_t, 3):
            m.update(p, t)
        try:
            auto = m.compute()  # sync_on_compute: every rank's images; the local state is kept
            local_images = m.n_images
            explicit = m.sync().compute()
            synced_images = m.n_images
            m.unsync()
            out: Any = ("ok", auto, explicit, local_images, synced_images, m.n_images)
        except ValueError as exc:
            out = ("ValueError", str(exc))
        with open(os.path.join(out_dir, f"rank{rank}.pkl"), "wb") as f:
            pickle.dump(out, f)
    finally:
        dist.destroy_process_group()


def _run_two_ranks(tmp_path: Path, mode: str) -> list[Any]:
    mp = pytest.importorskip("torch.multiprocessing")
    dist = pytest.importorskip("torch.distributed")
    if not dist.is_available() or not dist.is_gloo_available():
        pytest.skip("torch.distributed with gloo is not available")
    ctx = mp.start_processes(
        _dist_worker, args=(2, _free_port(), str(tmp_path), mode), nprocs=2, join=False, start_method="spawn"
    )
    deadline = time.monotonic() + 240
    try:
        while not ctx.join(timeout=5):
            if time.monotonic() > deadline:
                pytest.fail("the two-process gloo group did not finish in 240 s")
    finally:
        for p in ctx.processes:
            if p.is_alive():
                p.kill()
    out = []
    for r in range(2):
        with open(tmp_path / f"rank{r}.pkl", "rb") as f:
            out.append(pickle.load(f))
    return out


@pytest.mark.parametrize("mode", ["numpy", "torch"])
def test_sync_two_gloo_ranks_equals_one_process(tmp_path: Path, mode: str) -> None:
    outs = _run_two_ranks(tmp_path, mode)
    preds, target = detector_batch(np.random.default_rng(11), 27)
    if mode == "torch":
        preds, target = to_torch(preds), to_torch(target)
    single = fastdet_result(preds, target, class_metrics=True)
    for rank, (status, auto, explicit, local, synced, restored) in enumerate(outs):
        assert status == "ok"
        assert (local, synced, restored) == (14 - rank, 27, 14 - rank)
        assert results_equal(auto, single), rank
        assert results_equal(explicit, single), rank


def test_sync_ranks_with_different_parameters_raise_on_every_rank(tmp_path: Path) -> None:
    outs = _run_two_ranks(tmp_path, "mismatch")
    for status, message in outs:
        assert status == "ValueError"
        assert "class_metrics" in message
        assert "every rank must use the same parameters" in message
