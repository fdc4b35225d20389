"""The ``fastdet`` command end to end, in subprocesses, on the bundled data."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import reference as ref
from conftest import F64_ATOL, F64_RTOL

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
GT = DATA / "coco-val2014-fake100" / "instances_val2014_100.json"
DT = DATA / "coco-val2014-fake100" / "instances_val2014_fakebbox100_results.json"
STAT_NAMES = ["AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"]


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run(
        [sys.executable, "-m", "fastdet.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        env=env,
        timeout=600,
    )


def pycocotools_eval(gt: Path, dt: Path, **params):
    """pycocotools' evaluator after summarize() and the summary text it printed."""
    pytest.importorskip("pycocotools")
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        g = COCO(str(gt))
        e = COCOeval(g, g.loadRes(str(dt)), "bbox")
        for key, value in params.items():
            setattr(e.params, key, value)
        e.evaluate()
        e.accumulate()
    text = io.StringIO()
    with contextlib.redirect_stdout(text):
        e.summarize()
    return e, text.getvalue()


def pycocotools_stats(gt: Path, dt: Path) -> np.ndarray:
    return pycocotools_eval(gt, dt)[0].stats


def test_eval_json_equals_pycocotools():
    proc = run("eval", str(GT), str(DT), "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)  # stdout holds the JSON and nothing else
    assert list(out["stats"]) == STAT_NAMES
    expected = pycocotools_stats(GT, DT)
    got = np.array([out["stats"][k] for k in STAT_NAMES])
    assert np.abs(got - expected).max() <= 1e-12, f"fastdet {got}\npycocotools {expected}"
    assert len(out["per_class"]) == 80


def test_eval_text_summary_is_pycocotools_text(tmp_path):
    pytest.importorskip("matplotlib")
    plot = tmp_path / "pr.png"
    proc = run("eval", str(GT), str(DT), "--per-class", "--plot", str(plot))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    oracle, text = pycocotools_eval(GT, DT)
    assert lines[:12] == text.splitlines()  # pycocotools' 12 summary lines, character for character
    # the per-class table: pycocotools' per-category AP (IoU 0.50:0.95, all areas, 100 detections),
    # highest first, "n/a" for categories without ground truth
    table = lines[lines.index("category          id      AP") + 2 :][:80]
    names = {c["id"]: c["name"] for c in json.loads(GT.read_text())["categories"]}
    expected_rows = []
    for k, cat in enumerate(oracle.params.catIds):
        p = oracle.eval["precision"][:, :, k, 0, -1]
        ap = float(np.mean(p[p > -1])) if (p > -1).any() else -1.0
        expected_rows.append((names[cat], cat, ap))
    expected_rows.sort(key=lambda r: -r[2])
    assert len(table) == len(expected_rows) == 80
    for line, (name, cat, ap) in zip(table, expected_rows, strict=True):
        assert line.split() == [*name.split(), str(cat), f"{ap:.3f}" if ap >= 0 else "n/a"], line
    assert plot.stat().st_size > 1000
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_eval_custom_parameters_match_pycocotools():
    pytest.importorskip("pycocotools")
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    proc = run("eval", str(GT), str(DT), "--json", "--max-dets", "1,10,300", "--no-cats")
    assert proc.returncode == 0, proc.stderr
    stats = json.loads(proc.stdout)["stats"]
    with contextlib.redirect_stdout(io.StringIO()):
        g = COCO(str(GT))
        e = COCOeval(g, g.loadRes(str(DT)), "bbox")
        e.params.maxDets = [1, 10, 300]
        e.params.useCats = 0
        e.evaluate()
        e.accumulate()
        e.summarize()
    # pycocotools' stats[1:] use maxDets[2] (here 300); the CLI names that limit in its keys
    named = {"AP50@300": 1, "AP75@300": 2, "APs@300": 3, "AR1": 6, "AR10": 7, "AR300": 8, "ARl@300": 11}
    for key, index in named.items():
        assert abs(stats[key] - e.stats[index]) <= 1e-12, (key, stats[key], e.stats[index])


def test_eval_text_with_custom_iou_thresholds_prints_named_stats():
    proc = run("eval", str(GT), str(DT), "--iou-thrs", "0.5,0.75")
    assert proc.returncode == 0, proc.stderr
    # pycocotools with iouThrs = [0.5, 0.75]: its 12 stats, in the same order, rounded as printed
    oracle, _ = pycocotools_eval(GT, DT, iouThrs=np.array([0.5, 0.75]))
    rows = [line.split() for line in proc.stdout.splitlines()]
    assert [r[0] for r in rows] == STAT_NAMES
    assert [r[-1] for r in rows] == [f"{v:.3f}" for v in oracle.stats]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["eval", "missing.json", str(DT)], "does not exist"),
        (["eval", str(DATA), str(DT)], "is a directory"),
        (["eval", str(GT), str(DATA / "voc-padilla-7img" / "PROVENANCE.md")], "not valid JSON"),
        (["eval", str(GT), str(GT)], "results"),
        (["eval", str(GT), str(DT), "--max-dets", "ten"], "--max-dets"),
        (["eval", str(GT)], "required"),
        (["eval", str(GT), str(DT), "--frobnicate"], "unrecognized arguments"),
        (["nosuchcommand"], "invalid choice"),
        (["arch", "resnet9000"], "resnet9000"),
        (["arch", "vgg16", "--input", "224x224"], "--input"),
    ],
)
def test_user_errors_are_one_line_with_status_2(args, needle):
    proc = run(*args)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    # (on a loaded machine, loading can pass the 1 s after which the progress line appears)
    lines = [
        line
        for line in proc.stderr.strip().splitlines()
        if not re.search(r" \.\.\. +(done in )?[\d.]+ s$", line)
    ]
    assert len(lines) == 1, proc.stderr
    assert needle in proc.stderr


def test_debug_shows_the_traceback():
    proc = run("--debug", "eval", "missing.json", str(DT))
    assert proc.returncode != 0
    assert "Traceback" in proc.stderr


def test_help_shows_examples():
    for args in (["--help"], ["eval", "--help"], ["nms", "--help"], ["arch", "--help"], ["demo", "--help"]):
        proc = run(*args)
        assert proc.returncode == 0
        assert "examples:" in proc.stdout


def test_nms_command_writes_atomically_and_refuses_to_overwrite(tmp_path):
    out = tmp_path / "kept.json"
    proc = run("nms", str(DT), "-o", str(out), "--iou", "0.5")
    assert proc.returncode == 0, proc.stderr
    kept = json.loads(out.read_text())
    assert 0 < len(kept) <= len(json.loads(DT.read_text()))
    assert set(kept[0]) >= {"image_id", "category_id", "bbox", "score"}
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left behind
    again = run("nms", str(DT), "-o", str(out))
    assert again.returncode == 2
    assert "--force" in again.stderr
    assert run("nms", str(DT), "-o", str(out), "--force", "--method", "soft-gaussian").returncode == 0
    soft = json.loads(out.read_text())  # overwritten with the Soft-NMS result (defaults: IoU 0.5, 100)
    expected = reference_nms_results(json.loads(DT.read_text()), "soft-gaussian", 0.5, 100)
    assert [d["score"] for d in soft] == pytest.approx(
        [d["score"] for d in expected], rel=F64_RTOL, abs=F64_ATOL
    )
    before = DT.read_bytes()
    same = run("nms", str(DT), "-o", str(DT), "--force")
    assert same.returncode == 2
    assert "input" in same.stderr
    assert DT.read_bytes() == before


def reference_nms_results(dets, method, iou, max_dets, sigma=0.5, score_threshold=0.001):
    """The documented ``fastdet nms``, from tests/reference.py's naive NMS and Soft-NMS.

    Per image (in order of first appearance) and category: drop scores below the threshold, run
    NMS or Soft-NMS on the xyxy boxes; then each image's survivors by decreasing (new) score, ties
    in input order, at most ``max_dets``.
    """
    images: dict[int, dict[int, list[int]]] = {}
    for i, d in enumerate(dets):
        images.setdefault(d["image_id"], {}).setdefault(d["category_id"], []).append(i)
    out = []
    for cats in images.values():
        kept = []
        for members in cats.values():
            members = [i for i in members if dets[i]["score"] >= score_threshold]
            boxes = np.array([[x, y, x + w, y + h] for x, y, w, h in (dets[i]["bbox"] for i in members)])
            scores = np.array([dets[i]["score"] for i in members], np.float64)
            if method == "nms":
                keep = ref.nms(boxes.reshape(-1, 4), scores, iou)
                new = scores[keep]
            else:
                keep, new = ref.soft_nms(
                    boxes.reshape(-1, 4), scores, "gaussian", sigma, iou, score_threshold
                )
            kept += [(float(s), members[k]) for k, s in zip(keep, new, strict=True)]
        kept.sort(key=lambda t: (-t[0], t[1]))
        out += [dict(dets[i], score=s) for s, i in kept[:max_dets]]
    return out


@pytest.mark.parametrize(
    ("method", "iou", "max_dets"), [("nms", 0.6, 1000), ("nms", 0.5, 7), ("soft-gaussian", 0.3, 1000)]
)
def test_nms_command_matches_reference_on_every_group(tmp_path, method, iou, max_dets):
    out = tmp_path / "kept.json"
    args = (
        "nms",
        str(DT),
        "-o",
        str(out),
        "--iou",
        str(iou),
        "--max-dets",
        str(max_dets),
        "--method",
        method,
    )
    proc = run(*args)
    assert proc.returncode == 0, proc.stderr
    dets = json.loads(DT.read_text())
    kept = json.loads(out.read_text())
    expected = reference_nms_results(dets, method, iou, max_dets)
    assert len(kept) == len(expected)
    # not vacuous: NMS drops (or the cap cuts) results, Soft-NMS lowers scores
    assert len(expected) < len(dets) or sum(d["score"] for d in expected) < sum(d["score"] for d in dets)
    for got, want in zip(kept, expected, strict=True):
        assert {k: v for k, v in got.items() if k != "score"} == {
            k: v for k, v in want.items() if k != "score"
        }
        # the reference decays in Python floats, the kernel in float64 with Numba's exp: F64_RTOL
        assert got["score"] == pytest.approx(want["score"], rel=F64_RTOL, abs=F64_ATOL)


def test_arch_command_prints_table_and_conv_example():
    proc = run("arch", "resnet18")
    assert proc.returncode == 0, proc.stderr
    assert "11,689,512" in proc.stdout  # torchvision's published ResNet-18 parameter count
    conv = run("arch", "--conv", "64,128,3", "--input", "64x224x224", "--padding", "1")
    assert conv.returncode == 0, conv.stderr
    assert "73,856" in conv.stdout
    assert "7,398,752,256" in conv.stdout


def test_demo_runs_offline_and_writes_its_files(tmp_path):
    pytest.importorskip("matplotlib")
    proc = run("demo", "--out", str(tmp_path / "demo"))
    assert proc.returncode == 0, proc.stderr
    for name in ("pr_curves.png", "nms_sweep.png", "results.json"):
        assert (tmp_path / "demo" / name).exists(), name
    report = json.loads((tmp_path / "demo" / "results.json").read_text())
    assert report["nms"]["matches_mmcv_keep"] is True
    assert "SIMULATED" in proc.stdout
    expected = pycocotools_stats(GT, DT)
    assert abs(report["coco"]["stats"]["AP"] - expected[0]) <= 1e-12
