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


# ---------------------------------------------------------------- eval --tide (fastdet.analysis)


def test_eval_tide_prints_tidecv_table_and_plots(tmp_path):
    pytest.importorskip("matplotlib")
    plot = tmp_path / "tide.png"
    proc = run("eval", str(GT), str(DT), "--tide-plot", str(plot))
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    # the tidecv 1.0.1 numbers for this pair, in tidecv's table layout
    assert "bbox AP @ 50: 64.20" in out
    assert "   dAP    22.25     0.23     0.00     0.02     0.00     8.52  " in out
    assert "   dAP       6.82      17.68  " in out
    assert out.index("Average Precision") < out.index("Main Errors")  # after the COCO summary
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_eval_tide_json_equals_library():
    from fastdet.analysis import tide

    proc = run("eval", str(GT), str(DT), "--json", "--tide")
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)["tide"]
    want = tide(GT, DT)
    assert got["ap"] == want.ap
    assert got["main_errors"] == want.main_errors
    assert got["special_errors"] == want.special_errors
    assert got["counts"] == want.counts


def test_eval_tide_segm_json_equals_library():
    from fastdet.analysis import tide

    masks = GT.parent / "instances_val2014_fakesegm100_results.json"
    proc = run("eval", str(GT), str(masks), "--iou-type", "segm", "--json", "--tide")
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)["tide"]
    want = tide(GT, masks, iou_type="segm")
    assert got["ap"] == want.ap
    assert got["main_errors"] == want.main_errors
    assert got["counts"] == want.counts
    proc = run("eval", str(GT), str(masks), "--iou-type", "keypoints", "--tide")
    assert proc.returncode != 0
    assert "boxes and masks only" in proc.stderr


def test_eval_tide_plot_error_is_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    proc = run("eval", str(GT), str(DT), "--tide-plot", str(blocker / "sub" / "tide.png"))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr  # checked before any work
    assert "--tide-plot" in proc.stderr
    assert "is a file" in proc.stderr


def test_eval_plot_error_is_one_line_before_any_work(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    proc = run("eval", str(GT), str(DT), "--plot", str(blocker / "pr.png"))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr  # checked before any work
    assert "--plot" in proc.stderr
    assert "is a file" in proc.stderr
    assert proc.stdout == ""


def test_eval_json_still_draws_the_plots_asked_for(tmp_path):
    pytest.importorskip("matplotlib")
    pr, tide_png = tmp_path / "pr.png", tmp_path / "tide.png"
    proc = run("eval", str(GT), str(DT), "--json", "--plot", str(pr), "--tide-plot", str(tide_png))
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)  # stdout still holds the JSON and nothing else
    assert set(out) == {"stats", "per_class", "tide"}
    for png in (pr, tide_png):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", png


# ---------------------------------------------------------------- fuse


def _model_results(tmp_path: Path, n_models: int = 3) -> list[Path]:
    """The bundled detections, jittered once per model (float32 values, as detectors write them)."""
    dets = json.loads(DT.read_text())
    rng = np.random.default_rng(0)
    paths = []
    for k in range(n_models):
        out = []
        for d in dets:
            x, y, w, h = d["bbox"]
            j = rng.normal(0, 0.03, 4) * [w, h, w, h]
            bbox = [x + j[0], y + j[1], max(w + j[2], 0.0), max(h + j[3], 0.0)]
            score = min(1.0, d["score"] * rng.uniform(0.8, 1.1))
            out.append(
                {
                    "image_id": d["image_id"],
                    "category_id": d["category_id"],
                    "bbox": [float(np.float32(v)) for v in bbox],
                    "score": float(np.float32(score)),
                }
            )
        path = tmp_path / f"model{k}.json"
        path.write_text(json.dumps(out))
        paths.append(path)
    return paths


def test_fuse_command_equals_the_library(tmp_path):
    from fastdet.fusion import fuse_coco_results

    paths = _model_results(tmp_path)
    out = tmp_path / "fused.json"
    proc = run("fuse", *map(str, paths), "--weights", "2", "1", "1", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "fused 3 result files" in proc.stdout
    lists = [json.loads(p.read_text()) for p in paths]
    assert json.loads(out.read_text()) == fuse_coco_results(lists, weights=[2, 1, 1])
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left behind

    gt = json.loads(GT.read_text())
    sizes = {im["id"]: (im["height"], im["width"]) for im in gt["images"]}
    out2 = tmp_path / "fused_nmw.json"
    proc = run(
        "fuse", *map(str, paths[:2]), "--method", "nmw", "--gt", str(GT), "--iou-thr", "0.6", "-o", str(out2)
    )
    assert proc.returncode == 0, proc.stderr
    with pytest.warns(UserWarning, match="clipped"):
        expected = fuse_coco_results(lists[:2], method="nmw", image_sizes=sizes, iou_thr=0.6)
    assert json.loads(out2.read_text()) == expected
    # boxes jittered off the image are clipped, and said so in one line (besides the progress lines)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert any(line.startswith("fastdet: warning:") and "clipped" in line for line in lines), proc.stderr
    assert all(line.startswith("fastdet: warning:") or " ... " in line for line in lines), proc.stderr


def test_fuse_command_refuses_bad_requests(tmp_path):
    paths = _model_results(tmp_path, 2)
    out = tmp_path / "fused.json"
    assert run("fuse", *map(str, paths), "-o", str(out)).returncode == 0
    cases = [
        ((*map(str, paths), "-o", str(out)), "--force"),
        ((*map(str, paths), "-o", str(paths[1]), "--force"), "input"),
        ((*map(str, paths), "--weights", "1", "-o", str(out), "--force"), "--weights"),
        ((str(paths[0]), str(tmp_path / "missing.json"), "-o", str(out), "--force"), "does not exist"),
        ((*map(str, paths), "--method", "vote", "-o", str(out)), "invalid choice"),
        ((*map(str, paths), "--iou-thr", "2", "-o", str(out), "--force"), "iou_thr"),
        ((str(paths[0]), str(GT), "-o", str(out), "--force"), "results list"),
        ((*map(str, paths), "--gt", str(DT), "-o", str(out), "--force"), "'images'"),
    ]
    before = paths[1].read_bytes()
    for args, needle in cases:
        proc = run("fuse", *args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert "Traceback" not in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
        assert needle in proc.stderr, (needle, proc.stderr)
    assert paths[1].read_bytes() == before


def test_fuse_help_shows_examples():
    proc = run("fuse", "--help")
    assert proc.returncode == 0
    assert "examples:" in proc.stdout
    assert "--weights 2 1 1" in proc.stdout


# ---------------------------------------------------------------- progress in logs (issue 10, item 5)


class _Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


@pytest.mark.parametrize("tty", [False, True])
def test_progress_is_one_line_per_stage_unless_stderr_is_a_terminal(monkeypatch, tty):
    import time

    from fastdet.cli import progress

    stream = _Stream(tty)
    monkeypatch.setattr(sys, "stderr", stream)
    for label in ("loading ground truth", "loading detections"):
        with progress(label):
            time.sleep(1.6)
    with progress("quick"):  # under a second: nothing at all
        pass
    text = stream.getvalue()
    if tty:  # a ticking counter, rewritten in place, then a final line per stage
        assert "\rloading ground truth ... " in text
        assert text.count("\n") == 2
    else:
        lines = text.splitlines(keepends=True)
        assert "\r" not in text
        assert [line.split(" ... ")[0] for line in lines] == ["loading ground truth", "loading detections"]
        assert all(line.endswith(" s\n") and "done in" in line for line in lines)


def test_redirected_eval_writes_whole_lines_to_stderr():
    """Before: ``loading ground truth ...   1.0 sloading ground truth ...   1.2 s...`` on one line."""
    proc = run("eval", str(GT), str(DT))
    assert proc.returncode == 0, proc.stderr
    assert "\r" not in proc.stderr
    # progress lines (others are pycocotools' messages, sent to stderr by design) are whole lines
    staged = [line for line in proc.stderr.splitlines() if " ... " in line]
    assert all(re.fullmatch(r"[a-z ]+ \.\.\. done in [0-9.]+ s", line) for line in staged), proc.stderr


def test_warmup_command_rejects_unknown_tasks():
    proc = run("warmup", "--tasks", "nms float64,bogus")
    assert proc.returncode == 2
    assert "bogus" in proc.stderr
    assert len(proc.stderr.splitlines()) == 1
