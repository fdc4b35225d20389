"""fastdet.dask: sharded COCO evaluation on a dask.distributed cluster, against one process.

The reference is ``fastdet.coco.evaluate_coco`` on the shards concatenated in
order (itself tested bit for bit against pycocotools; the fake100 stats are
checked against pycocotools here too). Every comparison is exact: precision,
recall and scores arrays with ``np.array_equal``, stats and per-class AP with
``==``. The cluster (2 worker processes, one thread each) starts once for the
module; the core (``fastdet._sharded``) also runs in this process under
hypothesis, with shards that split images and scores that tie across shards.
"""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import reference
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import st_coco_case

from fastdet import _sharded
from fastdet.coco import COCO, evaluate_coco

FAKE100 = Path(__file__).resolve().parent.parent / "data" / "coco-val2014-fake100"
GT100 = FAKE100 / "instances_val2014_100.json"
DT100 = FAKE100 / "instances_val2014_fakebbox100_results.json"


def assert_same(res: Any, ref: Any) -> None:
    for name in ("precision", "recall", "scores"):
        a, b = getattr(res, name), getattr(ref, name)
        assert a.shape == b.shape, name
        diff = np.abs(a - b)
        assert np.array_equal(a, b), (
            f"{name} differs, max {diff.max()} at {np.unravel_index(diff.argmax(), a.shape)}"
        )
    assert res.stats == ref.stats, (res.stats, ref.stats)
    assert res.per_class_ap == ref.per_class_ap
    assert res.cat_ids == ref.cat_ids
    assert res.max_detections == ref.max_detections


def write_shards(tmp_path: Path, shards: list[list[dict[str, Any]]]) -> list[str]:
    paths = []
    for i, shard in enumerate(shards):
        p = tmp_path / f"dt_{i:02d}.json"
        p.write_text(json.dumps(shard))
        paths.append(str(p))
    return paths


def by_image(results: list[dict[str, Any]], n: int, seed: int = 0) -> list[list[dict[str, Any]]]:
    """Shards holding whole images, images assigned at random (so they interleave across shards)."""
    rng = np.random.default_rng(seed)
    imgs = sorted({d["image_id"] for d in results})
    shard_of = dict(zip(imgs, rng.integers(0, n, len(imgs)).tolist(), strict=True))
    return [[d for d in results if shard_of[d["image_id"]] == s] for s in range(n)]


def tie_set(
    seed: int, n_images: int = 60, n_files: int = 5
) -> tuple[dict[str, Any], list[list[dict[str, Any]]]]:
    """A generated set with scores on a 0.05 grid (ties within and across files), images interleaved."""
    rng = np.random.default_rng(seed)
    images = [
        {"id": int(i), "width": 200, "height": 200} for i in rng.permutation(np.arange(3, 3 + n_images))
    ]
    cats = [{"id": c, "name": f"c{c}"} for c in (2, 5, 7)]
    anns: list[dict[str, Any]] = []
    shards: list[list[dict[str, Any]]] = [[] for _ in range(n_files)]
    for img in images:
        gts = []
        for _ in range(int(rng.integers(0, 6))):
            w, h = rng.uniform(4, 120, 2).round(1)
            x, y = rng.uniform(0, 80, 2).round(1)
            cat = int(rng.choice([2, 5, 7]))
            crowd = int(rng.random() < 0.1)
            anns.append({"id": len(anns) + 1, "image_id": img["id"], "category_id": cat, "bbox": [x, y, w, h],
                         "area": float(w * h * rng.uniform(0.6, 1.0)), "iscrowd": crowd})  # fmt: skip
            gts.append((x, y, w, h, cat))
        dets = []
        for _ in range(int(rng.integers(0, 14))):
            if gts and rng.random() < 0.7:
                x, y, w, h, cat = gts[int(rng.integers(len(gts)))]
                x, y = x + rng.normal(0, 4), y + rng.normal(0, 4)
                w, h = max(w + rng.normal(0, 6), 0.0), max(h + rng.normal(0, 6), 0.0)
                if rng.random() < 0.2:
                    cat = int(rng.choice([2, 5, 7]))
            else:
                x, y, w, h = *rng.uniform(0, 100, 2), *rng.uniform(2, 90, 2)
                cat = int(rng.choice([2, 5, 7]))
            bbox = [float(np.float32(v)) for v in (x, y, w, h)]
            dets.append({"image_id": img["id"], "category_id": cat, "bbox": bbox,
                         "score": float(rng.integers(0, 21)) * 0.05})  # fmt: skip
        shards[img["id"] % n_files].extend(dets)
    return {"images": images, "annotations": anns, "categories": cats}, shards


@pytest.fixture(scope="module")
def client() -> Any:
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


# ------------------------------------------------------------------------------- on the cluster


def test_fake100_files_equal_one_process_and_pycocotools(client: Any, tmp_path: Path) -> None:
    results = json.loads(DT100.read_text())
    shards = by_image(results, 4)
    ref = evaluate_coco(str(GT100), [d for s in shards for d in s])
    res = __import__("fastdet.dask").dask.evaluate_coco(
        str(GT100), write_shards(tmp_path, shards), client=client
    )
    assert_same(res, ref)
    from pycocotools.coco import COCO as PyCOCO
    from pycocotools.cocoeval import COCOeval as PyEval

    with contextlib.redirect_stdout(io.StringIO()):
        gt = PyCOCO(str(GT100))
        ev = PyEval(gt, gt.loadRes(str(DT100)), "bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    assert list(res.stats.values()) == ev.stats.tolist()


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"max_detections": (1, 2, 5), "iou_thresholds": [0.3, 0.5, 0.7], "n_groups": 3},
        {"use_cats": False},
        {
            "img_ids": list(range(3, 40)),
            "cat_ids": [5, 7],
            "area_ranges": {"all": (0, 1e10), "big": (900, 1e10)},
        },
    ],
)
def test_score_ties_across_files(client: Any, tmp_path: Path, options: dict[str, Any]) -> None:
    import fastdet.dask

    gt, shards = tie_set(1)
    n_groups = options.pop("n_groups", None)
    ref = evaluate_coco(gt, [d for s in shards for d in s], **options)
    res = fastdet.dask.evaluate_coco(
        gt, write_shards(tmp_path, shards), client=client, n_groups=n_groups, **options
    )
    assert_same(res, ref)


def test_image_split_across_shards(client: Any, tmp_path: Path) -> None:
    import fastdet.dask

    gt, shards = tie_set(2)
    # every third detection of shard 0 moves to shard 3 (its images now live in both), and one
    # image of shard 1 is cut in half between shards 1 and 4
    moved = shards[0][::3]
    shards[0] = [d for i, d in enumerate(shards[0]) if i % 3]
    shards[3] = shards[3] + moved
    img = shards[1][0]["image_id"]
    half = [d for d in shards[1] if d["image_id"] == img][::2]
    shards[1] = [d for d in shards[1] if not any(d is h for h in half)]
    shards[4] = half + shards[4]
    ref = evaluate_coco(gt, [d for s in shards for d in s])
    res = fastdet.dask.evaluate_coco(gt, write_shards(tmp_path, shards), client=client)
    assert_same(res, ref)


def test_in_memory_shards_and_bag(client: Any) -> None:
    import dask.bag as db

    import fastdet.dask

    pd = pytest.importorskip("pandas")
    gt, shards = tie_set(3)
    flat = [d for s in shards for d in s]
    ref = evaluate_coco(gt, flat)
    # lists, an (N, 7) array and a pandas DataFrame as shards
    arr = np.array([[d["image_id"], *d["bbox"], d["score"], d["category_id"]] for d in shards[1]])
    mixed = [shards[0], arr, pd.DataFrame(shards[2]), *shards[3:]]
    assert_same(fastdet.dask.evaluate_coco(gt, mixed, client=client), ref)
    bag = db.from_sequence(flat, npartitions=4)
    assert_same(fastdet.dask.evaluate_coco(gt, bag, client=client), evaluate_coco(gt, bag.compute()))


def test_dask_dataframe(client: Any) -> None:
    import fastdet.dask

    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")  # needs pyarrow
    gt, shards = tie_set(3)
    flat = [d for s in shards for d in s]
    df = pd.DataFrame(
        {
            "image_id": [d["image_id"] for d in flat],
            "category_id": [d["category_id"] for d in flat],
            "score": [d["score"] for d in flat],
            **{k: [d["bbox"][j] for d in flat] for j, k in enumerate("xywh")},
        }
    )
    ddf = dd.from_pandas(df, npartitions=3)
    assert_same(fastdet.dask.evaluate_coco(gt, ddf, client=client), evaluate_coco(gt, flat))


def test_bad_input(client: Any, tmp_path: Path) -> None:
    import fastdet.dask

    gt, shards = tie_set(4, n_images=10, n_files=2)
    ev = fastdet.dask.evaluate_coco
    with pytest.raises(TypeError, match="results must be a list of shards"):
        ev(gt, 3, client=client)
    with pytest.raises(ValueError, match="results: no shards"):
        ev(gt, [], client=client)
    with pytest.raises(TypeError, match=r"results\[0\] is a dict"):
        ev(gt, shards[0], client=client)
    with pytest.raises(TypeError, match=r"results\[1\] must be a JSON path"):
        ev(gt, [shards[0], 7], client=client)
    missing = str(tmp_path / "nope.json")
    with pytest.raises(ValueError, match=r"nope\.json: file does not exist"):
        ev(gt, [missing], client=client)
    bad = [dict(d) for d in shards[1]]
    bad[2]["bbox"] = [1.0, 2.0, 3.0]
    paths = write_shards(tmp_path, [shards[0], bad])
    with pytest.raises(ValueError, match=r"dt_01.json: entry 2 has bbox=\[1.0, 2.0, 3.0\]"):
        ev(gt, paths, client=client)
    nokey = [{k: v for k, v in d.items() if k != "score"} for d in shards[1]]
    with pytest.raises(ValueError, match=r"results\[1\]: entry 0 has no 'score' field"):
        ev(gt, [shards[0], nokey], client=client)
    unknown = [*shards[1], {"image_id": 10**6, "category_id": 2, "bbox": [0, 0, 1, 1], "score": 0.5}]
    with pytest.raises(ValueError, match=r"results\[1\]: entry \d+ is on image_id 1000000, which is not in"):
        ev(gt, [shards[0], unknown], client=client)
    with pytest.raises(ValueError, match="missing column"):
        ev(gt, [__import__("pandas").DataFrame({"image_id": [3]})], client=client)
    with pytest.raises(TypeError, match=r"client must be a distributed\.Client"):
        ev(gt, [shards[0]], client="tcp://nowhere")
    with pytest.raises(NotImplementedError, match="segm"):
        ev(gt, [shards[0]], client=client, iou_type="segm")
    with pytest.raises(ValueError, match="n_groups"):
        ev(gt, [shards[0]], client=client, n_groups=0)
    with pytest.raises(ValueError, match="max_detections"):
        ev(gt, [shards[0]], client=client, max_detections=())
    with pytest.raises(TypeError, match="gt must be"):
        ev(3, [shards[0]], client=client)


def test_no_client_running(monkeypatch: pytest.MonkeyPatch) -> None:
    distributed = pytest.importorskip("distributed")
    import fastdet.dask

    def no_client() -> None:
        raise ValueError("No global client found and no address provided")

    monkeypatch.setattr(distributed, "get_client", no_client)
    with pytest.raises(ValueError, match="client: none given"):
        fastdet.dask.evaluate_coco(str(GT100), [str(DT100)])


def test_import_fastdet_does_not_import_dask() -> None:
    code = "import sys, fastdet, fastdet.dask; print(any(m.split('.')[0] in ('dask', 'distributed') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parent.parent)  # fmt: skip
    assert out.stdout.strip() == "False"


# ------------------------------------------------------------------------------- the core, in process


@settings(deadline=None, max_examples=40)
@given(case=st_coco_case(max_images=6), data=st.data())
def test_core_matches_one_process(case: dict[str, Any], data: Any) -> None:
    """Shards drawn per detection (images split) or per image, then one process on the concatenation."""
    n_shards = data.draw(st.integers(1, 4))
    results = case["results"]
    if data.draw(st.booleans()):
        where = [data.draw(st.integers(0, n_shards - 1)) for _ in results]
    else:
        per_img = {i: data.draw(st.integers(0, n_shards - 1)) for i in case["images"]}
        where = [per_img[d["image_id"]] for d in results]
    shards = [[d for d, w in zip(results, where, strict=True) if w == s] for s in range(n_shards)]
    anns = [{**a, "area": a["bbox"][2] * a["bbox"][3]} for a in case["annotations"]]
    gt = {"images": [{"id": i} for i in case["images"]], "annotations": anns,
          "categories": [{"id": c, "name": str(c)} for c in (1, 2, 3)]}  # fmt: skip
    maxd = (1, max(case["max_dets"], 1), case["max_dets"] + 2)
    use_cats = data.draw(st.sampled_from([True, True, False]))
    n_groups = data.draw(st.integers(1, 4))
    ref = evaluate_coco(gt, [d for s in shards for d in s], max_detections=maxd, use_cats=use_cats)
    plan = _sharded.make_plan(
        COCO(gt, verbose=False), iou_thresholds=None, rec_thresholds=None, max_detections=maxd,
        area_ranges=None, use_cats=use_cats, img_ids=None, cat_ids=None, n_groups=n_groups,
    )  # fmt: skip
    res = _sharded.evaluate_local(plan, shards, [f"shard {i}" for i in range(n_shards)])
    assert_same(res, ref)


@settings(deadline=None)
@given(
    sizes=st.lists(st.sampled_from([0, 1, 2, 5, 30, 600, 1500]), min_size=1, max_size=4),
    values=st.sampled_from([(0.0, -0.0, 0.5, 1.0), (0.25, 0.5), (-np.inf, np.inf, 0.0, 1e-300)]),
    seed=st.integers(0, 2**16),
)
def test_sort_segments_matches_reference(sizes: list[int], values: tuple[float, ...], seed: int) -> None:
    """The shard-side sort (radix from 512 rows, merge / insertion below) against Python's stable sort."""
    from fastdet._kernels.sharded import sort_segments_desc

    rng = np.random.default_rng(seed)
    score = rng.choice(np.array(values), sum(sizes))
    score[rng.random(len(score)) < 0.3] = rng.random()  # some distinct values among the ties
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    got = sort_segments_desc(offsets, np.ascontiguousarray(score))
    assert got.tolist() == reference.sort_segments_desc(offsets.tolist(), score.tolist())


def test_core_string_ids() -> None:
    """String image ids (file names) work as in one process."""
    gt, shards = tie_set(5, n_images=20, n_files=3)
    name = {img["id"]: f"img_{img['id']:04d}.jpg" for img in gt["images"]}
    gt = {**gt, "images": [{**i, "id": name[i["id"]]} for i in gt["images"]],
          "annotations": [{**a, "image_id": name[a["image_id"]]} for a in gt["annotations"]]}  # fmt: skip
    shards = [[{**d, "image_id": name[d["image_id"]]} for d in s] for s in shards]
    ref = evaluate_coco(gt, [d for s in shards for d in s])
    plan = _sharded.make_plan(
        COCO(gt, verbose=False), iou_thresholds=None, rec_thresholds=None, max_detections=(1, 10, 100),
        area_ranges=None, use_cats=True, img_ids=None, cat_ids=None, n_groups=2,
    )  # fmt: skip
    assert_same(_sharded.evaluate_local(plan, shards, ["a", "b", "c"]), ref)


def test_core_empty_shards(tmp_path: Path) -> None:
    """Empty files and lists are shards without detections; no detections at all is valid too."""
    empty = tmp_path / "empty.json"
    empty.write_text("[]")
    results = json.loads(DT100.read_text())
    plan = _sharded.make_plan(
        COCO(str(GT100), verbose=False), iou_thresholds=None, rec_thresholds=None,
        max_detections=(1, 10, 100), area_ranges=None, use_cats=True, img_ids=None, cat_ids=None, n_groups=2,
    )  # fmt: skip
    res = _sharded.evaluate_local(plan, [str(empty), results, []], ["empty.json", "results", "[]"])
    assert_same(res, evaluate_coco(str(GT100), results))
    assert_same(_sharded.evaluate_local(plan, [[]], ["[]"]), evaluate_coco(str(GT100), []))
