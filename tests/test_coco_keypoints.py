"""fastdet.coco keypoint evaluation (OKS) against pycocotools (the oracle), the naive OKS and published numbers."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import pytest
import reference as ref
from conftest import F64_RTOL, PYCOCOTOOLS_ATOL
from hypothesis import given, settings
from hypothesis import strategies as st

from fastdet._kernels import keypoints as _kk
from fastdet.coco import COCO, COCOeval, Params, evaluate_coco, reading
from fastdet.coco import keypoints as _keypoints

pc_coco = pytest.importorskip("pycocotools.coco")
pc_eval = pytest.importorskip("pycocotools.cocoeval")

SMALL = "coco-keypoints-small"
# data/coco-keypoints-small/PROVENANCE.md: faster_coco_eval's tests/test_keypoints.py asserts these
# exact floats for pycocotools (and pycocotools 2.0.11 printed them here); order AP, AP50, AP75, APm,
# APl, AR, AR50, AR75, ARm, ARl
PUBLISHED_SMALL = [0.5048844884488449, 0.7227722772277227, 0.6336633663366337, 0.46633663366336636,
                   0.7504950495049505, 0.5181818181818182, 0.7272727272727273, 0.6363636363636364,
                   0.4666666666666666, 0.75]  # fmt: skip
PUBLISHED_SMALL_PRECISION_SUM = 1738.9333333333334  # same PROVENANCE: sum of precision[precision > -1]
CROWDPOSE_SIGMAS = (
    np.array([0.79, 0.79, 0.72, 0.72, 0.62, 0.62, 1.07, 1.07, 0.87, 0.87, 0.89, 0.89, 0.79, 0.79]) / 10
)


def run_eval(cls_coco: Any, cls_eval: Any, gt: Any, dt: Any, setup: Any = None) -> tuple[Any, str]:
    """Load, evaluate, accumulate, summarize (keypoints); return the evaluator and the summary text."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        if isinstance(gt, dict):  # pycocotools' COCO takes a path only
            cg = cls_coco()
            cg.dataset = copy.deepcopy(gt)
            cg.createIndex()
        else:
            cg = cls_coco(gt)
        cd = cg.loadRes(copy.deepcopy(dt) if isinstance(dt, list) else dt)
        e = cls_eval(cg, cd, "keypoints")
        if setup is not None:
            setup(e.params)
        e.evaluate()
        e.accumulate()
        start = len(out.getvalue())
        e.summarize()
    return e, out.getvalue()[start:]


def assert_same(fast: Any, oracle: Any, label: str = "") -> None:
    """Stats to 1e-12; precision / recall / scores, ious and evalImgs bit for bit."""
    fs, os_ = np.asarray(fast.stats, float), np.asarray(oracle.stats, float)
    msg = f"{label}\nfastdet     {fs.tolist()}\npycocotools {os_.tolist()}"
    assert fs.shape == os_.shape, msg
    np.testing.assert_allclose(fs, os_, rtol=0, atol=PYCOCOTOOLS_ATOL, err_msg=msg)
    for key in ("precision", "recall", "scores"):
        np.testing.assert_array_equal(fast.eval[key], oracle.eval[key], err_msg=f"{label} {key}\n{msg}")
    assert fast.eval["counts"] == oracle.eval["counts"]
    assert set(fast.ious) == set(oracle.ious)
    for key, value in oracle.ious.items():
        np.testing.assert_array_equal(np.asarray(fast.ious[key]), np.asarray(value), err_msg=f"{label} {key}")
    assert len(fast.evalImgs) == len(oracle.evalImgs)
    for mine, theirs in zip(fast.evalImgs, oracle.evalImgs, strict=True):
        assert (mine is None) == (theirs is None)
        if theirs is None:
            continue
        for key in ("image_id", "category_id", "maxDet", "dtIds", "gtIds", "dtScores"):
            assert mine[key] == theirs[key], key
        assert list(mine["aRng"]) == list(theirs["aRng"])
        for key in ("dtMatches", "gtMatches", "gtIgnore", "dtIgnore"):
            np.testing.assert_array_equal(mine[key], theirs[key], err_msg=key)


def quiet(fn: Any, *args: Any, **kwargs: Any) -> Any:
    with contextlib.redirect_stdout(io.StringIO()):
        return fn(*args, **kwargs)


# ----------------------------------------------------------------- data sets


def test_keypoints_small_matches_pycocotools_and_published(data_dir: Path) -> None:
    gt, dt = str(data_dir / SMALL / "gt_dataset.json"), str(data_dir / SMALL / "dt_dataset.json")
    oracle, text_o = run_eval(pc_coco.COCO, pc_eval.COCOeval, gt, dt)
    fast, text_f = run_eval(COCO, COCOeval, gt, dt)
    assert_same(fast, oracle, SMALL)
    assert text_f == text_o  # the 10 printed lines, character for character
    assert len(text_f.splitlines()) == 10
    assert fast.stats.tolist() == PUBLISHED_SMALL
    prec = fast.eval["precision"]
    assert float(prec[prec > -1].sum()) == PUBLISHED_SMALL_PRECISION_SUM


def test_keypoint_only_results_load_as_pycocotools(data_dir: Path) -> None:
    """Results without ``bbox``: loadRes' keypoint branch (box and area of the keypoints' extent)."""
    gt = str(data_dir / SMALL / "gt_dataset.json")
    dets = json.loads((data_dir / SMALL / "dt_dataset.json").read_text())
    for d in dets:
        del d["bbox"]
    oracle, text_o = run_eval(pc_coco.COCO, pc_eval.COCOeval, gt, dets)
    fast, text_f = run_eval(COCO, COCOeval, gt, dets)
    assert_same(fast, oracle, "keypoint-only results")
    assert text_f == text_o
    mine, theirs = fast.cocoDt.dataset["annotations"], oracle.cocoDt.dataset["annotations"]
    assert [(a["id"], a["area"], a["bbox"]) for a in mine] == [
        (a["id"], a["area"], a["bbox"]) for a in theirs
    ]
    assert "bbox" not in dets[0]  # the caller's dicts are left alone


def test_crowdpose_as_plain_keypoints(data_dir: Path) -> None:
    """crowdpose-small: its PROVENANCE numbers are xtcocotools' ``keypoints_crowd`` (box scale, crowd
    index), which pycocotools does not have; with plain 'keypoints' pycocotools fails on the GT's
    missing ``area`` (KeyError) and fastdet raises ValueError naming the file and entry. Given an
    ``area`` (box w * h) and CrowdPose's 14 sigmas, both evaluate, bit for bit alike."""
    base = data_dir / "crowdpose-small"
    gt_path, dt_path = base / "example_crowdpose_val.json", base / "example_crowdpose_preds.json"
    gt = COCO(gt_path, verbose=False)
    e = COCOeval(gt, gt.loadRes(str(dt_path), verbose=False), "keypoints", verbose=False)
    e.params.kpt_oks_sigmas = CROWDPOSE_SIGMAS
    with pytest.raises(ValueError, match=r"example_crowdpose_val\.json.*entry 0 has no 'area' field"):
        e.evaluate()
    with pytest.raises(ValueError, match="iouType"):
        COCOeval(gt, gt, "keypoints_crowd")
    data = json.loads(gt_path.read_text())
    for ann in data["annotations"]:
        ann["area"] = ann["bbox"][2] * ann["bbox"][3]
    dets = json.loads(dt_path.read_text())

    def setup(p: Any) -> None:
        p.kpt_oks_sigmas = CROWDPOSE_SIGMAS.copy()

    oracle, text_o = run_eval(pc_coco.COCO, pc_eval.COCOeval, data, dets, setup)
    fast, text_f = run_eval(COCO, COCOeval, data, dets, setup)
    assert_same(fast, oracle, "crowdpose with area")
    assert text_f == text_o
    # default (COCO's 17) sigmas against 14 keypoints: pycocotools fails to broadcast; fastdet says why
    bad = COCOeval(
        COCO(data, verbose=False), COCO(data, verbose=False).loadRes(dets), "keypoints", verbose=False
    )
    with pytest.raises(ValueError, match=r"entry \d+ has 42 keypoint numbers; params.kpt_oks_sigmas has 17"):
        bad.evaluate()


def test_pycocotools_objects_accepted(data_dir: Path) -> None:
    gt, dt = str(data_dir / SMALL / "gt_dataset.json"), str(data_dir / SMALL / "dt_dataset.json")
    oracle, _ = run_eval(pc_coco.COCO, pc_eval.COCOeval, gt, dt)
    fast = COCOeval(oracle.cocoGt, oracle.cocoDt, "keypoints", verbose=False)
    fast.evaluate()
    fast.accumulate()
    quiet(fast.summarize)
    assert_same(fast, oracle, "pycocotools objects")


def test_evaluate_coco_keypoints(data_dir: Path) -> None:
    gt, dt = data_dir / SMALL / "gt_dataset.json", data_dir / SMALL / "dt_dataset.json"
    res = evaluate_coco(str(gt), str(dt), iou_type="keypoints")
    names = ["AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75", "ARm", "ARl"]
    assert list(res.stats) == names
    assert list(res.stats.values()) == PUBLISHED_SMALL
    assert res.max_detections == (20,)
    assert list(res.area_ranges) == ["all", "medium", "large"]
    res2 = evaluate_coco(
        str(gt), str(dt), iou_type="keypoints", kpt_oks_sigmas=Params("keypoints").kpt_oks_sigmas
    )
    assert res2.stats == res.stats
    wide = evaluate_coco(str(gt), str(dt), iou_type="keypoints", kpt_oks_sigmas=np.full(17, 0.2))
    assert wide.stats["AP"] > res.stats["AP"]  # larger sigmas: more lenient OKS
    assert "AP@10" in evaluate_coco(str(gt), str(dt), iou_type="keypoints", max_detections=[10]).stats


def test_params_set_methods() -> None:
    p = Params("bbox")
    p.setKpParams()
    ref_p = pc_eval.Params("keypoints")
    for key in ("maxDets", "areaRng", "areaRngLbl", "useCats"):
        assert getattr(p, key) == getattr(ref_p, key)
    for key in ("iouThrs", "recThrs", "kpt_oks_sigmas"):
        np.testing.assert_array_equal(getattr(p, key), getattr(ref_p, key))
    p.setDetParams()
    det = pc_eval.Params("bbox")
    for key in ("maxDets", "areaRng", "areaRngLbl"):
        assert getattr(p, key) == getattr(det, key)


def test_cli_keypoints_prints_pycocotools_summary(data_dir: Path) -> None:
    gt, dt = data_dir / SMALL / "gt_dataset.json", data_dir / SMALL / "dt_dataset.json"
    _, text_o = run_eval(pc_coco.COCO, pc_eval.COCOeval, str(gt), str(dt))
    cmd = [sys.executable, "-m", "fastdet.cli", "eval", str(gt), str(dt), "--iou-type", "keypoints"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=True)
    assert out.stdout == text_o
    out = subprocess.run([*cmd, "--json"], capture_output=True, text=True, timeout=600, check=True)
    assert list(json.loads(out.stdout)["stats"].values()) == PUBLISHED_SMALL


# ----------------------------------------------------------------- bad input


def _small_gt(data_dir: Path) -> dict[str, Any]:
    return json.loads((data_dir / SMALL / "gt_dataset.json").read_text())


def _small_dt(data_dir: Path) -> list[dict[str, Any]]:
    dets = json.loads((data_dir / SMALL / "dt_dataset.json").read_text())
    for d in dets:
        del d["bbox"]
    return dets


@pytest.mark.parametrize(
    ("keypoints", "needle"),
    [
        ([1.0, 2.0], r"entry 3 has 2 keypoint numbers; expected a positive multiple of 3"),
        ([], r"entry 3 has 0 keypoint numbers"),
        ("abc", r"entry 3 has keypoints='abc'; expected a list of numbers"),
        ([1.0, float("nan"), 2.0], r"entry 3 has keypoints=.*expected finite numbers"),
    ],
)
def test_bad_result_keypoints_name_file_and_entry(
    data_dir: Path, tmp_path: Path, keypoints: Any, needle: str
) -> None:
    gt = COCO(_small_gt(data_dir), verbose=False)
    dets = _small_dt(data_dir)
    dets[3]["keypoints"] = keypoints
    with pytest.raises(ValueError, match="results list: " + needle):
        gt.loadRes(dets)
    if "finite" in needle:
        return  # NaN is not JSON (the reader refuses the file as such)
    path = tmp_path / "kp_results.json"
    path.write_text(json.dumps(dets))
    with pytest.raises(ValueError, match=r"kp_results\.json: " + needle):
        gt.loadRes(str(path))


def test_wrong_keypoint_count_names_entry(data_dir: Path, tmp_path: Path) -> None:
    dets = _small_dt(data_dir)
    dets[5]["keypoints"] = dets[5]["keypoints"][:48]  # 16 keypoints, a multiple of 3
    gt = COCO(_small_gt(data_dir), verbose=False)
    e = COCOeval(gt, gt.loadRes(dets), "keypoints", verbose=False)
    with pytest.raises(ValueError, match=r"results list: entry 5 has 48 keypoint numbers; .*has 17 sigmas"):
        e.evaluate()
    data = _small_gt(data_dir)
    data["annotations"][2]["keypoints"] = data["annotations"][2]["keypoints"][:3]
    path = tmp_path / "gt.json"
    path.write_text(json.dumps(data))
    gt = COCO(str(path), verbose=False)
    e = COCOeval(gt, gt.loadRes(_small_dt(data_dir)), "keypoints", verbose=False)
    with pytest.raises(
        ValueError, match=r"gt\.json \(ground truth annotations\): entry 2 has 3 keypoint numbers"
    ):
        e.evaluate()
    e.params.kpt_oks_sigmas = [0.1, -0.2]
    with pytest.raises(ValueError, match="kpt_oks_sigmas must be 1 to 1024 finite positive numbers"):
        e.evaluate()


def test_missing_num_keypoints_names_entry(data_dir: Path) -> None:
    data = _small_gt(data_dir)
    del data["annotations"][4]["num_keypoints"]
    gt = COCO(data, verbose=False)
    e = COCOeval(gt, gt.loadRes(_small_dt(data_dir)), "keypoints", verbose=False)
    with pytest.raises(ValueError, match=r"entry 4 has no 'num_keypoints' field"):
        e.evaluate()


# ------------------------------------------------------ kernels


@settings(deadline=None, max_examples=60)
@given(
    n=st.integers(1, 200),
    n_kpt=st.integers(1, 6),
    workers=st.integers(1, 5),
    style=st.sampled_from(["float32", "ints", "mixed", "long first entry"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_scanned_keypoints_in_place_or_copied_are_the_text(
    n: int, n_kpt: int, workers: int, style: str, seed: int
) -> None:
    """Keypoint results scanned in chunks: each entry's values (read in place from the scanner's
    rows, or copied when the rows grew past the first estimate) and box are those of the text."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(-50, 700, (n, n_kpt, 2))
    if style == "float32":
        xy = xy.astype(np.float32)
    elif style == "ints":
        xy = np.round(xy)
    triples = np.concatenate([xy, rng.integers(0, 3, (n, n_kpt, 1))], axis=2).reshape(n, -1).tolist()
    if style == "ints":
        triples = [[int(v) for v in t] for t in triples]
    results = [
        {"image_id": int(i % 5), "category_id": 1, "keypoints": t, "score": float(rng.random())}
        for i, t in enumerate(triples)
    ]
    if style == "mixed":  # ints and 17-digit floats in one file
        for r in results[::2]:
            r["keypoints"] = [round(v) for v in r["keypoints"]]
    if style == "long first entry":  # rows reserved from its size run out: the rows are copied
        results[0]["note"] = "x" * 5000
    raw = json.dumps(results).encode()
    with (
        mock.patch.object(reading, "_SPLIT_BYTES", 64),
        mock.patch.object(reading, "_workers", return_value=workers),
    ):
        scanned = _keypoints.scan_results(raw, "dt.json")
    assert scanned is not None
    cols, kp = scanned
    assert _entries(kp) == [[float(v) for v in t] for t in (r["keypoints"] for r in results)]
    if style == "long first entry" and workers == 1 and n > 40:
        assert kp.values.size == 3 * n_kpt * n  # 20 rows reserved, more read: copied, packed
    elif style in ("float32", "ints") and n >= 100:  # entries alike: rows reserved about 2x, under 4x
        assert kp.values.size > 3 * n_kpt * n  # in place: the scanner's rows
    for box, r in zip(cols.bbox.tolist(), results, strict=True):
        x, y = r["keypoints"][0::3], r["keypoints"][1::3]
        assert box == [min(x), min(y), max(x) - min(x), max(y) - min(y)]


def test_exp_in_place_is_numpys_out_of_place() -> None:
    """The OKS terms' exponential, in place and on threads: NumPy's out-of-place values bit for bit."""
    rng = np.random.default_rng(0)
    for n in (1, 9, (1 << 18) + 3, (1 << 20) + 5):
        neg_e = -rng.exponential(8.0, n)
        edges = [0.0, -0.0, -1e-300, -5e-324, -708.4, -745.1, -745.2, -1000.0, _kk.UNDERFLOW]
        neg_e[: min(n, len(edges))] = edges[: min(n, len(edges))]
        want = np.exp(neg_e)
        got = _keypoints._exp_in_place(neg_e)
        assert got is neg_e
        np.testing.assert_array_equal(got.view(np.uint64), want.view(np.uint64))


def test_pairwise_sum_is_numpy_sum() -> None:
    """Every run length the kernels sum (1 to 1024 keypoints): np.sum's value bit for bit."""
    rng = np.random.default_rng(0)
    for n in range(1, 1025):
        values = np.exp(-rng.random(n) * 20)
        buf = np.concatenate([np.ones(3), values])
        assert 0.0 + _kk._pairwise_block(buf, 3, n, False) == np.sum(values), n
        # with ``clamp``, values > 1 (the exp of the underflow marker) count as exact zeros
        hit = rng.random(n) < 0.3
        buf[3:][hit] = np.exp(_kk.UNDERFLOW)
        assert 0.0 + _kk._pairwise_block(buf, 3, n, True) == np.sum(np.where(hit, 0.0, values)), n


# ------------------------------------------------------ hypothesis data sets


@st.composite
def keypoint_cases(draw: Any) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]]:
    """A tiny keypoint ground truth, results and parameters covering pycocotools' edge cases."""
    custom = draw(st.booleans())
    n_kpt = draw(st.sampled_from([1, 2, 5, 14])) if custom else 17
    sigmas = (
        np.array(
            draw(st.lists(st.sampled_from([0.025, 0.05, 0.079, 0.107, 0.3]), min_size=n_kpt, max_size=n_kpt))
        )
        if custom
        else None
    )
    n_img = draw(st.integers(1, 3))
    cat_ids = draw(st.lists(st.integers(1, 4), min_size=1, max_size=2, unique=True))
    coord = st.integers(0, 400).map(lambda v: v * 0.37)
    areas = st.sampled_from([0.0, 300.0, 1024.0, 3000.5, 9216.0, 20000.0])
    anns: list[dict[str, Any]] = []
    for img in range(1, n_img + 1):
        for _ in range(draw(st.integers(0, 4))):
            box = [draw(coord), draw(coord), draw(st.integers(0, 60)) * 1.5, draw(st.integers(0, 60)) * 1.5]
            kpts: list[float] = []
            for _k in range(n_kpt):
                v = draw(st.sampled_from([0, 1, 2]))
                if v == 0 and draw(st.booleans()):
                    kpts += [0, 0, 0]  # COCO writes unlabelled keypoints as zeros
                else:
                    kpts += [
                        box[0] + draw(st.integers(0, 40)) * 0.9,
                        box[1] + draw(st.integers(0, 40)) * 1.1,
                        v,
                    ]
            n_vis = sum(1 for k in range(n_kpt) if kpts[3 * k + 2] > 0)
            # pycocotools reads the field, not the flags: sometimes they disagree
            num = draw(st.sampled_from([n_vis, n_vis, n_vis, 0, 3]))
            anns.append(
                {
                    "id": len(anns) + 1,
                    "image_id": img,
                    "category_id": draw(st.sampled_from(cat_ids)),
                    "bbox": box,
                    "area": draw(areas),
                    "iscrowd": int(draw(st.integers(0, 6)) == 0),
                    "keypoints": kpts,
                    "num_keypoints": num,
                }
            )
    with_bbox = draw(st.booleans())
    results: list[dict[str, Any]] = []
    scores = st.sampled_from([0.2, 0.5, 0.5, 0.9, 0.9, 1.0])  # ties on purpose
    for img in range(1, n_img + 1):
        near = [a for a in anns if a["image_id"] == img]
        for _ in range(draw(st.integers(0, 6))):
            if near and draw(st.booleans()):
                g = draw(st.sampled_from(near))
                jitter = draw(st.sampled_from([0.0, 0.5, 2.3, 9.1]))
                kpts = []
                for k in range(n_kpt):
                    gx, gy = g["keypoints"][3 * k], g["keypoints"][3 * k + 1]
                    kpts += [
                        gx + jitter * draw(st.integers(-2, 2)),
                        gy + jitter * draw(st.integers(-2, 2)),
                        1.0,
                    ]
            else:
                kpts = [
                    v
                    for _k in range(n_kpt)
                    for v in (draw(coord), draw(coord), draw(st.sampled_from([0, 1, 2])))
                ]
            det: dict[str, Any] = {
                "image_id": img,
                "category_id": draw(st.sampled_from([*cat_ids, max(cat_ids) + 1])),
                "keypoints": kpts,
                "score": draw(scores),
            }
            if with_bbox:
                det["bbox"] = [draw(coord), draw(coord), draw(coord), draw(coord)]
            results.append(det)
    gt = {
        "images": [{"id": i} for i in range(1, n_img + 1)],
        "categories": [{"id": c, "name": str(c)} for c in [*cat_ids, max(cat_ids) + 1]],
        "annotations": anns,
    }
    params: dict[str, Any] = {"useCats": draw(st.sampled_from([1, 1, 0]))}
    if sigmas is not None:
        params["kpt_oks_sigmas"] = sigmas
    if draw(st.booleans()):
        params["maxDets"] = [draw(st.sampled_from([1, 2, 20]))]
    if draw(st.booleans()):
        params["iouThrs"] = np.array(
            sorted(
                draw(st.lists(st.sampled_from([0.1, 0.5, 0.75, 0.9]), min_size=1, max_size=3, unique=True))
            )
        )
    return gt, results, params


def apply(params: dict[str, Any]) -> Any:
    def setup(p: Any) -> None:
        for key, value in params.items():
            setattr(p, key, copy.deepcopy(value))

    return setup


@settings(deadline=None)
@given(case=keypoint_cases())
def test_hypothesis_matches_pycocotools(case: Any) -> None:
    gt, results, params = case
    if not results:  # pycocotools' loadRes cannot take an empty list
        n_kpt = len(params.get("kpt_oks_sigmas", Params("keypoints").kpt_oks_sigmas))
        results = [
            {
                "image_id": 1,
                "category_id": gt["categories"][0]["id"],
                "keypoints": [1.0, 2.0, 1] * n_kpt,
                "score": 0.4,
            }
        ]
    oracle, text_o = run_eval(pc_coco.COCO, pc_eval.COCOeval, gt, results, apply(params))
    fast, text_f = run_eval(COCO, COCOeval, gt, results, apply(params))
    assert_same(fast, oracle, json.dumps(params, default=str))
    assert text_f == text_o
    # the naive OKS agrees with every stored value
    sigmas = np.asarray(fast.params.kpt_oks_sigmas)
    gts = {a["id"]: a for a in gt["annotations"]}
    dts = fast.cocoDt.dataset["annotations"]
    for (img, cat), block in fast.ious.items():
        if len(block) == 0:
            continue
        ev = fast._ev
        k = ev.cat_ids.index(cat)
        c = k * len(ev.img_ids) + ev.img_ids.index(img)
        g_ids = ev.gt.ids[ev.gt_rows[ev.gt_off[c] : ev.gt_off[c + 1]]]
        d_rows = ev.dt_rows[ev.dt_off[c] : ev.dt_off[c + 1]]
        for i, d in enumerate(d_rows):
            for j, g_id in enumerate(g_ids):
                g = gts[int(g_id)]
                want = ref.oks(dts[d]["keypoints"], g["keypoints"], g["bbox"], g["area"], sigmas)
                np.testing.assert_allclose(block[i, j], want, rtol=F64_RTOL, atol=1e-300)


# ------------------------------------------------------ files: the JSON scanner against the full parser


def _write_case(folder: Path, gt: dict[str, Any], results: list[dict[str, Any]]) -> tuple[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "gt.json").write_text(json.dumps(gt))
    (folder / "dt.json").write_text(json.dumps(results))
    return str(folder / "gt.json"), str(folder / "dt.json")


def _entries(kp: Any) -> list[list[float]]:
    """Each annotation's keypoints, wherever they lie in ``kp.values``."""
    return [kp.values[s : s + n].tolist() for s, n in zip(kp.start, kp.length, strict=True)]


def test_scanned_files_equal_parsed_dicts(data_dir: Path, tmp_path: Path) -> None:
    """Keypoint results and ground-truth keypoints read from files by the scanner give the dict path's
    columns, values and numbers; the result dataset is pycocotools' (area, id, bbox)."""
    gt_data = _small_gt(data_dir)
    dets = _small_dt(data_dir)
    gt_path, dt_path = _write_case(tmp_path, gt_data, dets)
    from_file = COCO(gt_path, verbose=False)
    res_file = from_file.loadRes(dt_path, verbose=False)
    assert res_file._res is not None
    assert res_file._res.kind == "keypoints"
    assert res_file._res.anns is None  # scanned: no Python objects
    from_dict = COCO(copy.deepcopy(gt_data), verbose=False)
    res_dict = from_dict.loadRes(copy.deepcopy(dets), verbose=False)
    a, b = res_file._res.cols, res_dict._res.cols
    for key in ("ids", "image_id", "category_id", "bbox", "area", "score"):
        np.testing.assert_array_equal(getattr(a, key), getattr(b, key), err_msg=key)
    np.testing.assert_array_equal(_entries(res_file._res.keypoints), _entries(res_dict._res.keypoints))
    e_file = COCOeval(from_file, res_file, "keypoints", verbose=False)
    e_file.evaluate()
    assert from_file._dataset is None  # ground-truth keypoints scanned, the file never parsed in full
    e_file.accumulate()
    quiet(e_file.summarize)
    oracle, _ = run_eval(pc_coco.COCO, pc_eval.COCOeval, gt_path, dt_path)
    assert_same(e_file, oracle, "scanned files")
    mine, theirs = res_file.dataset["annotations"], oracle.cocoDt.dataset["annotations"]
    assert mine == theirs


@pytest.mark.parametrize(
    "edit",
    ["bbox-first", "segmentation-first", "ragged", "string-ids", "missing-score", "crowd-no-keypoints"],
)
def test_scanner_declines_what_it_does_not_read(data_dir: Path, tmp_path: Path, edit: str) -> None:
    """Files the scanner leaves to the full parser evaluate (or fail) exactly as the dicts do."""
    gt_data = _small_gt(data_dir)
    dets = _small_dt(data_dir)
    if edit == "bbox-first":  # pycocotools' bbox branch: area from the box
        for i, d in enumerate(dets):
            d["bbox"] = [10.0, 20.0, 30.0 + i, 40.0]
    elif edit == "segmentation-first":
        dets[0]["segmentation"] = [[0, 0, 1, 0, 1, 1]]
    elif edit == "ragged":
        dets[2]["keypoints"] = dets[2]["keypoints"][:3]
    elif edit == "string-ids":
        for a in gt_data["annotations"]:
            a["image_id"] = str(a["image_id"])
        gt_data["images"][0]["id"] = str(gt_data["images"][0]["id"])
        for d in dets:
            d["image_id"] = str(d["image_id"])
    elif edit == "missing-score":
        del dets[7]["score"]
    elif edit == "crowd-no-keypoints":
        del gt_data["annotations"][1]["keypoints"]
    gt_path, dt_path = _write_case(tmp_path, gt_data, dets)

    def outcome(gt: Any, dt: Any) -> Any:
        try:
            cg = COCO(gt, verbose=False)
            e = COCOeval(cg, cg.loadRes(dt, verbose=False), "keypoints", verbose=False)
            e.evaluate()
            e.accumulate()
            quiet(e.summarize)
            return e.stats.tolist()
        except (ValueError, NotImplementedError) as exc:  # the message names the source first
            return type(exc).__name__, str(exc).split(": ", 1)[1]

    got_file = outcome(gt_path, dt_path)
    got_dict = outcome(copy.deepcopy(gt_data), copy.deepcopy(dets))
    assert got_file == got_dict
    if edit in ("bbox-first", "string-ids"):
        assert isinstance(got_file, list)
        oracle, _ = run_eval(pc_coco.COCO, pc_eval.COCOeval, gt_path, dt_path)
        assert got_file == oracle.stats.tolist()


def test_many_keypoints_match_pycocotools() -> None:
    """133 keypoints (COCO-WholeBody's count): runs of more than 128 terms in np.sum's pairwise order."""
    rng = np.random.default_rng(3)
    n_kpt = 133
    sigmas = rng.uniform(0.01, 0.1, n_kpt)
    anns, dets = [], []
    for img in (1, 2):
        for _ in range(3):
            x, y = rng.uniform(0, 200, 2)
            v = rng.choice([0, 1, 2], n_kpt, p=[0.2, 0.3, 0.5]) if len(anns) != 2 else np.zeros(n_kpt, int)
            xy = rng.uniform(0, 80, (n_kpt, 2)) + np.array([x, y])
            kp = np.column_stack([xy, v]).reshape(-1).tolist()
            anns.append({"id": len(anns) + 1, "image_id": img, "category_id": 1, "bbox": [x, y, 80.0, 80.0],
                         "area": 5000.0, "iscrowd": 0, "keypoints": kp, "num_keypoints": int((v > 0).sum())})  # fmt: skip
            for _ in range(2):
                noisy = xy + rng.normal(0, 3, xy.shape)
                dets.append({"image_id": img, "category_id": 1, "score": float(rng.random()),
                             "keypoints": np.column_stack([noisy, np.ones(n_kpt)]).reshape(-1).tolist()})  # fmt: skip
    gt = {"images": [{"id": 1}, {"id": 2}], "categories": [{"id": 1, "name": "person"}], "annotations": anns}

    def setup(p: Any) -> None:
        p.kpt_oks_sigmas = sigmas.copy()

    oracle, text_o = run_eval(pc_coco.COCO, pc_eval.COCOeval, gt, dets, setup)
    fast, text_f = run_eval(COCO, COCOeval, gt, dets, setup)
    assert_same(fast, oracle, "133 keypoints")
    assert text_f == text_o


# ------------------------------------------------------ files scanned in chunks, keypoints read in place


def _raw_json(data: Any) -> str:
    """``json.dumps``, with each string ``"#T#"`` written as the bare token T (numbers as written)."""
    import re

    return re.sub(r'"#([^"#]*)#"', r"\1", json.dumps(data))


def _token(x: float, rng: np.random.Generator, long: bool) -> str:
    """``x`` as JSON; ``long``: with more than 18 significant digits (the scanner's long-number path)."""
    if not long:
        return repr(float(x))
    digits = "".join(str(d) for d in rng.integers(0, 10, int(rng.integers(4, 12))))
    return f"{x:.15f}{digits}"


def _keypoint_files(folder: Path, case: str, seed: int, n_kpt: int = 17) -> tuple[str, str]:
    """A ground-truth file and a keypoint results file written for ``case``."""
    rng = np.random.default_rng(seed)
    string_ids = case == "string-ids"
    long = case == "long-numbers"
    img_ids: list[Any] = [3, 8, 11, 20]
    cat_ids: list[Any] = [1, 4]
    if string_ids:
        img_ids = [f"img-{i}" for i in img_ids]
        cat_ids = [f"c{c}" for c in cat_ids]
    anns, dets = [], []
    for img in img_ids:
        for cat in cat_ids:
            for _ in range(int(rng.integers(0, 4))):
                x, y = rng.uniform(0, 300, 2)
                w, h = rng.uniform(20, 120, 2)
                xy = rng.uniform(0, 1, (n_kpt, 2)) * [w, h] + [x, y]
                v = rng.choice([0, 1, 2], n_kpt, p=[0.2, 0.3, 0.5])
                kp = np.column_stack([xy, v]).reshape(-1)
                tokens = [f"#{_token(t, rng, long and k % 3 != 2)}#" for k, t in enumerate(kp.tolist())]
                anns.append({"id": len(anns) + 1, "image_id": img, "category_id": cat,
                             "bbox": [x, y, w, h], "area": w * h, "iscrowd": int(rng.random() < 0.1),
                             "keypoints": tokens, "num_keypoints": int((v > 0).sum())})  # fmt: skip
                for _ in range(int(rng.integers(1, 4))):
                    noisy = xy + rng.normal(0, 4, xy.shape)
                    kd = np.column_stack([noisy, rng.uniform(0, 1, n_kpt)]).reshape(-1)
                    tokens = [f"#{_token(t, rng, long)}#" for t in kd.tolist()]
                    dets.append({"image_id": img, "category_id": cat, "keypoints": tokens,
                                 "score": float(rng.random())})  # fmt: skip
    if case == "fake-entries":  # strings holding what looks like entries: split points fall inside them
        fake = ', {"image_id": 3, "category_id": 1, "keypoints": [1, 2, 3], "score": 0.5}' * 6
        for i, d in enumerate(dets):
            if i % 3 == 0:
                d["note"] = fake[: int(rng.integers(10, len(fake)))]
        for i, a in enumerate(anns):
            if i % 4 == 1:
                a["note"] = fake
    elif case == "shorter-later":  # rows reserved from the first entry's size run out: copied rows
        dets = [dict(d) for _ in range(8) for d in dets]
        dets[0] = {**dets[0], "note": "x" * 40000}
    names = [f"k{k}" for k in range(n_kpt)]  # as in COCO files: keypoint names, after the annotations
    cats = [{"id": c, "name": str(c), "keypoints": names, "skeleton": [[1, 2]]} for c in cat_ids]
    images = [{"id": i, "width": 640, "height": 480} for i in img_ids]
    gt = {"images": images, "annotations": anns, "categories": cats}
    if seed % 2:
        gt = {"categories": cats, "images": images, "annotations": anns}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "gt.json").write_text(_raw_json(gt))
    (folder / "dt.json").write_text(_raw_json(dets))
    return str(folder / "gt.json"), str(folder / "dt.json")


def _fast_eval(gt_path: str, dt_path: str, workers: int, setup: Any = None) -> tuple[Any, str]:
    with (
        mock.patch.object(reading, "_SPLIT_BYTES", 64),
        mock.patch.object(reading, "_workers", return_value=workers),
    ):
        return run_eval(COCO, COCOeval, gt_path, dt_path, setup)


@pytest.mark.parametrize("case", ["plain", "string-ids", "long-numbers", "fake-entries", "shorter-later"])
@pytest.mark.parametrize("workers", [2, 3, 4, 5, 6, 7])
def test_chunked_scan_in_place_matches_pycocotools(tmp_path: Path, case: str, workers: int) -> None:
    """Ground truth and keypoint results scanned in chunks (keypoints read in place from the scanner's
    rows, or copied where the rows grew): pycocotools' evaluation, and each entry's keypoints, box and
    the lazily parsed dataset are those of the text."""
    gt_path, dt_path = _keypoint_files(tmp_path, case, seed=workers)
    oracle, text_o = run_eval(pc_coco.COCO, pc_eval.COCOeval, gt_path, dt_path)
    fast, text_f = _fast_eval(gt_path, dt_path, workers)
    assert_same(fast, oracle, f"{case}, {workers} workers")
    assert text_f == text_o
    assert fast.cocoGt._dataset is None  # ground-truth keypoints scanned, not parsed
    res = fast.cocoDt._res
    assert res.anns is None  # results scanned
    parsed = json.loads(Path(dt_path).read_text())
    assert _entries(res.keypoints) == [d["keypoints"] for d in parsed]
    gk = fast.cocoGt._index["keypoints:gt"]
    assert _entries(gk) == [a["keypoints"] for a in json.loads(Path(gt_path).read_text())["annotations"]]
    assert fast.cocoDt.dataset["annotations"] == oracle.cocoDt.dataset["annotations"]


@pytest.mark.parametrize(
    "variant",
    "useCats=0 sigmas thread_limit(1) small-pages-0 small-pages-1 pickle deepcopy twice evaluate_coco".split(),
)
@pytest.mark.parametrize("workers", [2, 5])
def test_chunked_scan_in_place_variants(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variant: str, workers: int
) -> None:
    """Keypoints read in place under other parameters, thread limits, page policies, and result objects
    that were pickled, deep-copied or evaluated before: pycocotools' evaluation bit for bit."""
    import pickle

    from fastdet import _kernels, _memory

    n_kpt = 5 if variant == "sigmas" else 17
    case = "fake-entries" if workers == 5 else "long-numbers"
    gt_path, dt_path = _keypoint_files(tmp_path, case, seed=10 + workers, n_kpt=n_kpt)
    params: dict[str, Any] = {}
    if variant == "useCats=0":
        params["useCats"] = 0
    elif variant == "sigmas":
        params["kpt_oks_sigmas"] = np.array([0.03, 0.9, 0.07, 0.2, 0.011])
    advised: list[int] = []
    if variant.startswith("small-pages"):
        monkeypatch.setenv("FASTDET_SMALL_PAGES", variant[-1])
        monkeypatch.setattr(_memory, "_MIN_BYTES", 1 << 13)  # advise these small arrays too
        real = _memory._madvise()
        assert real is not None

        def spy(addr: int, size: int, advice: int) -> int:
            assert size > 0
            assert addr % _memory._PAGE == 0
            advised.append(real(addr, size, advice))
            return advised[-1]

        monkeypatch.setattr(_memory, "_madvise", lambda: spy)
    oracle, text_o = run_eval(pc_coco.COCO, pc_eval.COCOeval, gt_path, dt_path, apply(params))
    with (
        mock.patch.object(reading, "_SPLIT_BYTES", 64),
        mock.patch.object(reading, "_workers", return_value=workers),
        _kernels.thread_limit(1) if variant == "thread_limit(1)" else contextlib.nullcontext(),
    ):
        if variant == "evaluate_coco":
            result = evaluate_coco(gt_path, dt_path, iou_type="keypoints")
            np.testing.assert_allclose(
                list(result.stats.values()), oracle.stats, rtol=0, atol=PYCOCOTOOLS_ATOL
            )
            for key in ("precision", "recall", "scores"):
                np.testing.assert_array_equal(getattr(result, key), oracle.eval[key], err_msg=key)
            return
        cg = COCO(gt_path, verbose=False)
        cd = cg.loadRes(dt_path, verbose=False)
        if variant == "pickle":
            cg, cd = pickle.loads(pickle.dumps((cg, cd)))
        elif variant == "deepcopy":
            cg, cd = copy.deepcopy((cg, cd))
        runs = 2 if variant == "twice" else 1
        for _ in range(runs):
            fast = COCOeval(cg, cd, "keypoints")
            apply(params)(fast.params)
            quiet(fast.evaluate)
            quiet(fast.accumulate)
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                fast.summarize()
            text_f = out.getvalue()
            assert_same(fast, oracle, variant)
            assert text_f == text_o
    if variant == "small-pages-1":
        assert advised
        assert all(r == 0 for r in advised)
    elif variant == "small-pages-0":
        assert not advised
    parsed = json.loads(Path(dt_path).read_text())
    assert _entries(cd._res.keypoints) == [d["keypoints"] for d in parsed]
    assert cd.dataset["annotations"] == oracle.cocoDt.dataset["annotations"]


def test_chunked_scan_short_ground_truth_rows_are_copied(tmp_path: Path) -> None:
    """Ground-truth entries shorter than the scanner's first estimate of a row (one keypoint, small
    integers): the rows grow past the shared block, the keypoints are copied; pycocotools' evaluation."""
    rng = np.random.default_rng(5)
    anns, dets = [], []
    for i in range(3000):
        img = int(i % 12) + 1
        x, y, v = int(rng.integers(0, 99)), int(rng.integers(0, 99)), int(rng.integers(0, 3))
        anns.append({"id": i + 1, "image_id": img, "category_id": 1, "bbox": [x, y, 9, 9], "area": 81,
                     "iscrowd": 0, "keypoints": [x, y, v], "num_keypoints": int(v > 0)})  # fmt: skip
        if i % 2:
            dets.append({"image_id": img, "category_id": 1, "keypoints": [x + 1, y, 1], "score": i / 3000})
    gt = {
        "images": [{"id": i} for i in range(1, 13)],
        "categories": [{"id": 1, "name": "p"}],
        "annotations": anns,
    }
    gt_path, dt_path = _write_case(tmp_path, gt, dets)
    Path(gt_path).write_text(json.dumps(gt, separators=(",", ":")))  # ~115 bytes an entry, under 128
    setup = apply({"kpt_oks_sigmas": np.array([0.3]), "maxDets": [20]})
    oracle, text_o = run_eval(pc_coco.COCO, pc_eval.COCOeval, gt_path, dt_path, setup)
    for workers in (2, 3, 7):
        fast, text_f = _fast_eval(gt_path, dt_path, workers, setup)
        assert_same(fast, oracle, f"{workers} workers")
        assert text_f == text_o
        gk = fast.cocoGt._index["keypoints:gt"]
        assert gk.values.size == 3 * len(anns)  # copied, packed
        assert _entries(gk) == [a["keypoints"] for a in anns]


def test_pickled_scanned_keypoints_are_packed(tmp_path: Path) -> None:
    """Keypoints read in place (the scanner's rows: other slots, spare rows never written) pickle and
    deep-copy as the entries only, packed; the copies evaluate as pycocotools."""
    import pickle

    gt_path, dt_path = _keypoint_files(tmp_path, "plain", seed=4)
    oracle, _ = run_eval(pc_coco.COCO, pc_eval.COCOeval, gt_path, dt_path)
    with (
        mock.patch.object(reading, "_SPLIT_BYTES", 64),
        mock.patch.object(reading, "_workers", return_value=3),
    ):
        cg = COCO(gt_path, verbose=False)
        cd = cg.loadRes(dt_path, verbose=False)
        quiet(COCOeval(cg, cd, "keypoints").evaluate)  # scans and caches the ground-truth keypoints
    assert cd._res.keypoints.values.size > cd._res.keypoints.length.sum()  # results: in place
    for kp in (cd._res.keypoints, cg._index["keypoints:gt"]):  # (the ground truth's: a 4x+ block, copied)
        in_place = kp.values.size > kp.length.sum()
        for copied in (pickle.loads(pickle.dumps(kp)), copy.deepcopy(kp)):
            assert copied.values.size == copied.length.sum()
            assert copied.start.tolist() == np.cumsum([0, *kp.length[:-1]]).tolist()
            assert _entries(copied) == _entries(kp)
            if kp.num_keypoints is not None:
                assert copied.num_keypoints.tolist() == kp.num_keypoints.tolist()
        assert (kp.values.size > kp.length.sum()) == in_place  # the original is left alone
    cg2, cd2 = pickle.loads(pickle.dumps((cg, cd)))
    fast = COCOeval(cg2, cd2, "keypoints")
    quiet(fast.evaluate)
    quiet(fast.accumulate)
    quiet(fast.summarize)
    assert_same(fast, oracle, "pickled")


def test_exp_in_place_keeps_the_thread_limit() -> None:
    """Under ``thread_limit(1)`` (a Dask task's) the OKS exponential runs on the calling thread only."""
    from fastdet import _kernels

    neg_e = -np.random.default_rng(1).exponential(8.0, (1 << 20) + 5)
    want = np.exp(neg_e)
    jobs: list[int] = []
    real = reading._run_threads

    def spy(batch: Any) -> Any:
        jobs.append(len(batch))
        return real(batch)

    with (
        mock.patch.object(reading, "_run_threads", spy),
        mock.patch.object(reading, "_workers", return_value=4),
    ):
        with _kernels.thread_limit(1):
            got = _keypoints._exp_in_place(neg_e.copy())
        np.testing.assert_array_equal(got, want)
        _keypoints._exp_in_place(neg_e.copy())
    assert jobs == [1, 4]
