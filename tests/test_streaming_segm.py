"""fastdet.MeanAveragePrecision with masks (iou_type 'segm', and ('bbox', 'segm')).

The reference is torchmetrics 1.9's ``MeanAveragePrecision(iou_type=..., backend="pycocotools")``
(skipped when torchmetrics / torchvision are absent): every key, dtype and value equal.
"""

from __future__ import annotations

import itertools
import pickle
import sys
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_streaming import (
    _FakeDist,
    _run_two_ranks,
    assert_same_as_torchmetrics,
    batches,
    fastdet_result,
    results_equal,
    to_torch,
    torchmetrics_result,
)

from fastdet import MeanAveragePrecision

# ---------------------------------------------------------------------------- data


def _blob(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A filled ellipse or rectangle, a few pixels flipped; sometimes empty."""
    m = np.zeros((h, w), bool)
    if rng.random() < 0.05:
        return m
    cy, cx = rng.uniform(0, h), rng.uniform(0, w)
    ry, rx = np.exp(rng.uniform(np.log(1), np.log(h / 2), 2))
    yy, xx = np.mgrid[:h, :w]
    if rng.random() < 0.5:
        m = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1
    else:
        m = (np.abs(yy - cy) <= ry) & (np.abs(xx - cx) <= rx)
    return m ^ (rng.random((h, w)) < 0.02)


def _shifted(rng: np.random.Generator, m: np.ndarray) -> np.ndarray:
    dy, dx = rng.integers(-3, 4, 2)
    out = np.roll(m, (int(dy), int(dx)), axis=(0, 1))
    return out ^ (rng.random(m.shape) < 0.03)


def _boxes(masks: np.ndarray) -> np.ndarray:
    out = np.zeros((len(masks), 4), np.float32)
    for k, m in enumerate(masks):
        ys, xs = np.nonzero(m)
        if len(xs):
            out[k] = [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]
    return out


def mask_batch(
    rng: np.random.Generator, n_images: int, n_classes: int = 3, crowd: float = 0.1, area: bool = True
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Images of 16..80 px, each its own size; detections: shifted / noisy copies of the ground truth
    (some mislabelled or duplicated) and random blobs; scores on a 0.01 grid (ties); images without
    ground truth or without detections; boxes = the masks' (xyxy)."""
    preds, target = [], []
    for _ in range(n_images):
        h, w = (int(v) for v in rng.integers(16, 81, 2))
        n_gt = 0 if rng.random() < 0.15 else int(rng.integers(1, 6))
        gm = np.stack([_blob(rng, h, w) for _ in range(n_gt)]) if n_gt else np.zeros((0, h, w), bool)
        gl = rng.integers(0, n_classes, n_gt)
        t: dict[str, Any] = {"masks": gm, "boxes": _boxes(gm), "labels": gl}
        if crowd:
            t["iscrowd"] = (rng.random(n_gt) < crowd).astype(np.int64)
        if area:  # some given, some 0 (torchmetrics then takes the mask area)
            t["area"] = np.where(rng.random(n_gt) < 0.5, rng.uniform(10, 3000, n_gt), 0.0).astype(np.float32)
        target.append(t)
        dm, dl = [], []
        if rng.random() >= 0.1:
            for g in range(n_gt):
                for _ in range(int(rng.integers(0, 3))):
                    dm.append(_shifted(rng, gm[g]))
                    dl.append(gl[g] if rng.random() < 0.85 else rng.integers(0, n_classes))
            for _ in range(int(rng.integers(0, 4))):
                dm.append(_blob(rng, h, w))
                dl.append(rng.integers(0, n_classes))
        masks = np.stack(dm) if dm else np.zeros((0, h, w), bool)
        scores = (rng.integers(1, 100, len(dm)) / 100).astype(np.float32)
        preds.append(
            {"masks": masks, "boxes": _boxes(masks), "scores": scores, "labels": np.array(dl, np.int64)}
        )
    return preds, target


def _torch_data(seed: int, n: int = 14, **kw: Any) -> tuple[list[Any], list[Any]]:
    preds, target = mask_batch(np.random.default_rng(seed), n, **kw)
    return to_torch(preds), to_torch(target)


IOU_TYPES: list[Any] = ["segm", ("bbox", "segm"), ("segm", "bbox")]
SCENARIOS: dict[str, dict[str, Any]] = {
    "default": {},
    "class_metrics": {"class_metrics": True},
    "micro": {"average": "micro", "class_metrics": True},
    "extended": {"extended_summary": True, "iou_thresholds": [0.3, 0.5, 0.55, 0.9]},
    "max_dets": {"max_detection_thresholds": [1, 2, 5], "rec_thresholds": [0.0, 0.25, 0.5, 1.0]},
}

# ---------------------------------------------------------------------------- torchmetrics


@pytest.mark.parametrize("seed", range(2))
@pytest.mark.parametrize("scenario", list(SCENARIOS))
@pytest.mark.parametrize("iou_type", IOU_TYPES, ids=str)
def test_segm_matches_torchmetrics(iou_type: Any, scenario: str, seed: int) -> None:
    preds, target = _torch_data(seed)
    kwargs = {"iou_type": iou_type, **SCENARIOS[scenario]}
    theirs = torchmetrics_result(preds, target, "pycocotools", **kwargs)
    ours = fastdet_result(preds, target, **kwargs)
    assert_same_as_torchmetrics(ours, theirs)


def test_segm_numpy_uint8_masks_give_the_same_numbers() -> None:
    """NumPy uint8 / bool / int masks (nonzero = foreground) and bool tensors: the same state."""
    preds, target = mask_batch(np.random.default_rng(3), 12)
    ref = fastdet_result(preds, target, iou_type="segm", class_metrics=True)
    for dtype in (np.uint8, np.int32):
        p2 = [{**p, "masks": (p["masks"] * 7).astype(dtype)} for p in preds]
        t2 = [{**t, "masks": t["masks"].astype(dtype)} for t in target]
        assert results_equal(fastdet_result(p2, t2, iou_type="segm", class_metrics=True), ref)
    torch = pytest.importorskip("torch")
    theirs = torchmetrics_result(
        to_torch(preds), to_torch(target), "pycocotools", iou_type="segm", class_metrics=True
    )
    for k, v in ref.items():
        assert np.array_equal(
            np.float32(v) if k != "classes" else v, theirs[k].numpy().reshape(np.shape(v))
        ), k
    assert torch is not None


def test_segm_empty_and_degenerate() -> None:
    """Images without any mask; ground truth only; detections only."""
    torch = pytest.importorskip("torch")

    def item(n: int, h: int = 9, w: int = 7, score: bool = True) -> dict[str, Any]:
        d = {
            "masks": torch.zeros((n, h, w), dtype=torch.bool),
            "boxes": torch.zeros((n, 4)),
            "labels": torch.zeros(n, dtype=torch.int64),
        }
        if n:
            d["masks"][:, 2:5, 1:4] = True
        if score:
            d["scores"] = torch.full((n,), 0.5)
        return d

    cases = [
        ([item(0)], [item(0, score=False)]),
        ([item(0), item(0)], [item(2, score=False), item(1, score=False)]),
        ([item(3), item(0)], [item(0, score=False), item(0, score=False)]),
        (
            [item(1), item(2)],
            [item(0, score=False), item(1, score=False)],
        ),  # detections on an image without gt
    ]
    for iou_type in IOU_TYPES:
        for preds, target in cases:
            theirs = torchmetrics_result(preds, target, "pycocotools", iou_type=iou_type, class_metrics=True)
            m = MeanAveragePrecision(iou_type=iou_type, class_metrics=True)
            m.update(preds, target)
            assert_same_as_torchmetrics(m.compute(), theirs)
        theirs = torchmetrics_result([], [], "pycocotools", iou_type=iou_type)
        ours = MeanAveragePrecision(iou_type=iou_type).compute()  # no update: NumPy values, same keys
        assert list(ours) == list(theirs)
        assert all(np.array_equal(np.asarray(v), theirs[k].numpy()) for k, v in ours.items())


def test_segm_empty_masks_of_any_dtype() -> None:
    """No masks as ``torch.Tensor([])`` (float32, shape (0,)): torchmetrics' own test input
    (``test_segm_iou_empty_gt_mask``); accepted, as torchmetrics encodes no mask of it."""
    torch = pytest.importorskip("torch")
    one = torch.zeros((1, 10, 10), dtype=torch.bool)
    one[0, 2:5, 3:7] = True
    cases = [
        ([{"masks": one, "scores": torch.tensor([0.5]), "labels": torch.tensor([4])}],
         [{"masks": torch.Tensor([]), "labels": torch.IntTensor([])}]),
        ([{"masks": torch.Tensor([]), "scores": torch.Tensor([]), "labels": torch.IntTensor([])}],
         [{"masks": one, "labels": torch.IntTensor([4])}]),
        ([{"masks": torch.zeros((0, 10, 10)), "scores": torch.Tensor([]), "labels": torch.IntTensor([])},
          {"masks": one, "scores": torch.tensor([0.5]), "labels": torch.tensor([4])}],
         [{"masks": one, "labels": torch.IntTensor([4])},
          {"masks": torch.Tensor([]), "labels": torch.IntTensor([])}]),
    ]  # fmt: skip
    for preds, target in cases:
        theirs = torchmetrics_result(preds, target, "pycocotools", iou_type="segm", class_metrics=True)
        m = MeanAveragePrecision(iou_type="segm", class_metrics=True)
        m.update(preds, target)
        assert_same_as_torchmetrics(m.compute(), theirs)
    m = MeanAveragePrecision(iou_type="segm")
    m.update(*cases[0])
    res = m.compute()
    assert all(float(v) == -1 for k, v in res.items() if k != "classes")
    assert res["classes"].tolist() == 4
    with pytest.raises(ValueError, match=r"must be a boolean or integer array"):
        m.update([{"masks": torch.ones((1, 10, 10)), "scores": torch.tensor([0.5]), "labels": torch.tensor([4])}],
                 [{"masks": one, "labels": torch.IntTensor([4])}])  # fmt: skip


# ---------------------------------------------------------------------------- merge, pickle, sync


def _state_equal(a: MeanAveragePrecision, b: MeanAveragePrecision) -> bool:
    sa, sb = a._state(), b._state()
    return all(np.array_equal(getattr(sa, f.name), getattr(sb, f.name)) for f in fields(sa))


@pytest.mark.parametrize("iou_type", IOU_TYPES[:2], ids=str)
def test_segm_merge_and_pickle_equal_one_shot(iou_type: Any) -> None:
    preds, target = mask_batch(np.random.default_rng(7), 17)
    kwargs = {"iou_type": iou_type, "class_metrics": True, "extended_summary": True}
    one = MeanAveragePrecision(**kwargs)
    for p, t in batches(preds, target, 5):
        one.update(p, t)
    shards = []
    for lo, hi in [(0, 4), (4, 4), (4, 9), (9, 17)]:
        m = MeanAveragePrecision(**kwargs)
        for p, t in batches(preds[lo:hi], target[lo:hi], 3):
            m.update(p, t)
        shards.append(pickle.loads(pickle.dumps(m)))
    merged = shards[0].merge(*shards[1:])
    assert _state_equal(merged, one)  # the columnar state itself, bit for bit
    assert results_equal(merged.compute(), one.compute())
    again = pickle.loads(pickle.dumps(merged))
    assert results_equal(again.compute(), one.compute())
    with pytest.raises(ValueError, match="iou_type"):
        one.merge(MeanAveragePrecision(class_metrics=True, extended_summary=True))


@settings(deadline=None, max_examples=15)
@given(seed=st.integers(0, 2**16), data=st.data())
def test_segm_any_split_and_merge_equals_one_shot(seed: int, data: st.DataObject) -> None:
    n = data.draw(st.integers(0, 8))
    preds, target = mask_batch(np.random.default_rng(seed), n)
    cuts = sorted(data.draw(st.lists(st.integers(0, n), max_size=3)))
    kwargs = {
        "iou_type": "segm",
        "class_metrics": True,
        "average": data.draw(st.sampled_from(["macro", "micro"])),
    }
    one = MeanAveragePrecision(**kwargs)
    one.update(preds, target)
    shards = []
    for lo, hi in itertools.pairwise([0, *cuts, n]):
        m = MeanAveragePrecision(**kwargs)
        if hi > lo:
            m.update(preds[lo:hi], target[lo:hi])
        shards.append(m)
    merged = shards[0].merge(*shards[1:])
    if n:
        assert _state_equal(merged, one)
    assert results_equal(merged.compute(), one.compute())


@pytest.mark.parametrize("counts", [(3, 0, 2), (2, 2, 2)])
def test_segm_sync_interleaves_images_like_torchmetrics(
    monkeypatch: pytest.MonkeyPatch, counts: tuple[int, ...]
) -> None:
    """The runs move with their rows when the gathered images are interleaved."""
    preds, target = mask_batch(np.random.default_rng(9), sum(counts))
    ranks, order, start = [], [], 0
    for c in counts:
        m = MeanAveragePrecision(iou_type="segm", class_metrics=True)
        if c:
            m.update(preds[start : start + c], target[start : start + c])
        ranks.append(m)
        order.append(list(range(start, start + c)))
        start += c
    interleaved = [img[j] for j in range(max(counts)) for img in order if j < len(img)]
    single = MeanAveragePrecision(iou_type="segm", class_metrics=True)
    single.update([preds[i] for i in interleaved], [target[i] for i in interleaved])
    want = single.compute()  # before the fake process group, which every compute would gather over
    monkeypatch.setitem(sys.modules, "torch.distributed", _FakeDist(ranks, 1))
    assert results_equal(ranks[1].compute(), want)
    ranks[1].sync()
    assert _state_equal(ranks[1], single)


def test_segm_sync_two_gloo_ranks_equals_one_process(tmp_path: Path) -> None:
    outs = _run_two_ranks(tmp_path, "segm")
    preds, target = _torch_data(11, 15)
    single = fastdet_result(preds, target, iou_type="segm", class_metrics=True)
    for rank, (status, auto, explicit, local, synced, restored) in enumerate(outs):
        assert status == "ok"
        assert (local, synced, restored) == (8 - rank, 15, 8 - rank)
        assert results_equal(auto, single), rank
        assert results_equal(explicit, single), rank


# ---------------------------------------------------------------------------- bad input


def _ok() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    m = np.zeros((2, 6, 5), bool)
    m[0, 1:3, 1:3] = m[1, 2:5, 0:4] = True
    p = {
        "masks": m,
        "boxes": np.array([[1.0, 1, 3, 3], [0, 2, 4, 5]]),
        "scores": np.array([0.9, 0.1]),
        "labels": np.array([0, 1]),
    }
    t = {"masks": m[:1].copy(), "boxes": np.array([[1.0, 1, 3, 3]]), "labels": np.array([0])}
    return [p, dict(p)], [t, dict(t)]


_MISSING = object()
BAD = [
    ("segm", "preds", "masks", _MISSING, r"preds\[1\] has no 'masks' key .*'masks', 'scores' and 'labels'"),
    ("segm", "target", "masks", _MISSING, r"target\[1\] has no 'masks' key"),
    ("segm", "preds", "scores", _MISSING, r"preds\[1\] has no 'scores' key .*'masks', 'scores' and 'labels'"),
    ("segm", "preds", "masks", np.zeros((2, 6)), r"preds\[1\]\['masks'\] must have shape \(N, H, W\), got \(2, 6\)"),
    ("segm", "target", "masks", np.zeros((1, 1, 6, 5)), r"target\[1\]\['masks'\] must have shape \(N, H, W\)"),
    ("segm", "preds", "masks", np.zeros((2, 6, 5), np.float32), r"preds\[1\]\['masks'\] must be a boolean or integer array"),
    ("segm", "preds", "masks", np.full((2, 6, 5), "a"), r"preds\[1\]\['masks'\] must be a boolean or integer array"),
    ("segm", "preds", "scores", np.array([0.5]), r"preds\[1\]\['scores'\] has length 1 but preds\[1\]\['masks'\] has 2 masks"),
    ("segm", "target", "labels", np.array([0, 1]), r"target\[1\]\['labels'\] has length 2 but target\[1\]\['masks'\] has 1"),
    ("segm", "preds", "masks", [[[0, 1], [1]]], r"preds\[1\]\['masks'\] could not be converted"),
    (("bbox", "segm"), "preds", "masks", np.zeros((3, 6, 5), bool), r"preds\[1\]\['masks'\] holds 3 masks but preds\[1\]\['boxes'\] has 2"),
    (("bbox", "segm"), "target", "boxes", _MISSING, r"target\[1\] has no 'boxes' key .*'boxes', 'masks' and 'labels'"),
]  # fmt: skip


@pytest.mark.parametrize(("iou_type", "where", "key", "value", "match"), BAD)
def test_segm_bad_input_names_argument_image_and_key(
    iou_type: Any, where: str, key: str, value: Any, match: str
) -> None:
    m = MeanAveragePrecision(iou_type=iou_type)
    preds, target = _ok()
    item = (preds if where == "preds" else target)[1]
    if value is _MISSING:
        del item[key]
    else:
        item[key] = value
    with pytest.raises(ValueError, match=match):
        m.update(preds, target)
    assert m.n_images == 0  # a rejected batch leaves the state alone
    m.update(*_ok())
    assert m.n_images == 2
