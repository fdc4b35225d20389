"""``fastdet.warmup`` / ``fastdet warmup``: fill the cache; concurrent runs are safe.

Each test uses a cache directory of its own, in subprocesses (warmup spawns
workers, and the point is what a later fresh process finds in the cache).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# a subset that covers plain kernels, a chunked kernel called serially and on threads, two dtypes
TASKS = "nms float32,boxes,voc"


def env_for(cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_")}
    env.update(PYTHONPATH=str(ROOT), NUMBA_CACHE_DIR=str(cache))
    return env


def python(code: str, cache: Path, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        env=env_for(cache),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


CHECK_CACHED = """
import json
from fastdet._warmup import warmup
report = warmup({tasks!r}.split(","), processes=1)
print(json.dumps([report["compiled"], report["loaded"] > 0]))
"""


def test_two_warmups_at_once_then_everything_is_cached(tmp_path):
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "fastdet.cli", "warmup", "--tasks", TASKS, "--processes", "2"],
            env=env_for(tmp_path),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for p in procs:
        out, err = p.communicate(timeout=900)
        assert p.returncode == 0, err
        assert out.startswith("fastdet warmup: 3 tasks in ")
        assert str(tmp_path) in out
        # stderr is a pipe here: one line per task, no bar
        assert "\r" not in err
        lines = err.splitlines()
        assert len(lines) == 3
        assert all(line.startswith("warmup ") for line in lines)
    assert not [f for f in tmp_path.rglob("*") if ".tmp." in f.name]  # no temporary file left
    check = python(CHECK_CACHED.format(tasks=TASKS), tmp_path)
    assert check.returncode == 0, check.stderr
    assert check.stdout.split() == ["[0,", "true]"]  # nothing compiled: all loaded from the cache


def test_warmup_covers_threaded_calls_forked_workers_and_large_inputs(tmp_path):
    """After a warmup, a threaded call, a forked worker and the large-input paths load everything."""
    first = python("import fastdet; fastdet.warmup(['boxes', 'coco'], processes=1)", tmp_path)
    assert first.returncode == 0, first.stderr
    child = python(
        """
import os, numpy as np, fastdet
from fastdet._kernels import coco, iou
b = np.random.default_rng(0).uniform(0, 50, (600, 4)); b[:, 2:] += b[:, :2]
fastdet.box_iou(b, b)  # on the thread pool in the parent
pid = os.fork()
if pid == 0:
    fastdet.box_iou(b, b)  # and in a forked child
    s = iou.iou_matrix.dispatcher.stats
    os._exit(0 if not s.cache_misses else 3)
_, status = os.waitpid(pid, 0)
# a category of 600 detections: the radix sort the warmup compiled
gt = fastdet.COCO({"images": [{"id": i} for i in range(1, 8)], "categories": [{"id": 1}],
                   "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 9, 9],
                                    "area": 81, "iscrowd": 0}]}, verbose=False)
dt = [{"image_id": 1 + i % 7, "category_id": 1, "bbox": [0, 0, 9, 9], "score": i / 600} for i in range(600)]
fastdet.evaluate_coco(gt, gt.loadRes(dt))
hits = sum(d.stats.cache_hits[s] for d in (iou.iou_matrix.dispatcher, coco.radix_sort_categories.dispatcher)
           for s in d.stats.cache_hits)
misses = sum(len(d.stats.cache_misses) for d in (iou.iou_matrix.dispatcher, coco.radix_sort_categories.dispatcher))
print(os.waitstatus_to_exitcode(status), hits, misses)
""",
        tmp_path,
    )
    assert child.returncode == 0, child.stderr
    assert child.stdout.split() == ["0", "2", "0"]


def test_warmup_covers_the_weighted_and_threaded_ranking_metrics(tmp_path):
    """After the metrics warmup, weighted curves and a 300,000-sample AUC and AP (the threaded
    split, sort, walk and sum) load every ranking kernel from the cache: nothing compiles."""
    first = python("import fastdet; fastdet.warmup(['metrics'], processes=1)", tmp_path)
    assert first.returncode == 0, first.stderr
    child = python(
        """
import numpy as np, fastdet
from fastdet._kernels import labels, ranking, scoresort
rng = np.random.default_rng(1)
n = 300_000
y = (rng.random(n) < 0.4).astype(np.int64)
s = rng.random(n)
w = rng.exponential(size=n)
for weights in (None, w):
    fastdet.roc_auc(y, s, sample_weight=weights)
    fastdet.average_precision(y, s, sample_weight=weights)
    fastdet.roc_curve(y[:50], s[:50], sample_weight=None if weights is None else weights[:50])
kernels = [getattr(m, k) for m in (labels, ranking, scoresort) for k in dir(m)]
dispatchers = [getattr(k, "dispatcher", k) for k in kernels if hasattr(getattr(k, "dispatcher", k), "stats")]
used = [d for d in dispatchers if d.signatures]
missed = sorted(d.py_func.__name__ for d in used if d.stats.cache_misses)
print(len(used), ",".join(missed) or "-")
""",
        tmp_path,
    )
    assert child.returncode == 0, child.stderr
    n_used, missed = child.stdout.split()
    assert int(n_used) >= 15
    assert missed == "-"


def test_warmup_arguments():
    from fastdet import warmup

    with pytest.raises(ValueError, match="unknown warmup tasks"):
        warmup(["nms"])
    with pytest.raises(ValueError, match="processes"):
        warmup(["voc"], processes=0)


# calls of the kind users make with masks, fusion and streaming, at sizes that take the threaded and grid
# paths (run under test_ahead.COMPILED, which prints the fastdet kernels they compiled)
REAL_CALLS = """
import contextlib, io, json, os, tempfile
import numpy as np
import fastdet
from fastdet import fusion, mask as fm
import fastdet.coco.reading as reading
reading.SCAN_MIN_BYTES = 0  # the bundled files through the compiled scanner, as large files go
gt = fastdet.COCO("data/coco-val2014-fake100/instances_val2014_100.json", verbose=False)
with open("data/coco-val2014-fakesegm100/instances_val2014_fakesegm100_results.json") as f:
    res = json.load(f)
boxed = [dict(r, bbox=[float(v) for v in fm.toBbox(r["segmentation"])]) for r in res]
dt_path = os.path.join(tempfile.mkdtemp(), "dt.json")
with open(dt_path, "w") as f:
    json.dump(boxed, f)
with contextlib.redirect_stdout(io.StringIO()):
    for dt in (gt.loadRes(dt_path), gt.loadRes(res)):
        e = fastdet.COCOeval(gt, dt, "segm"); e.evaluate(); e.accumulate(); e.summarize()
rles = [r["segmentation"] for r in res if r["segmentation"]["size"] == res[0]["segmentation"]["size"]]
fm.area(rles); fm.toBbox(rles); fm.iou(rles, rles, [0] * len(rles))
fm.merge(rles[:50]); fm.merge(rles[:50], intersect=True)
rng = np.random.default_rng(0)
arrays = []
for m in range(3):
    xy = np.sort(rng.uniform(0, 1, (2000, 2, 2)), axis=1).reshape(2000, 4)  # x1, y1, x2, y2
    arrays.append(np.column_stack([rng.integers(0, 50, 2000), xy, rng.uniform(0, 1, 2000),
                                   rng.integers(0, 5, 2000)]))
for method in ("wbf", "nmw", "nms", "soft_nms"):
    fusion.fuse_arrays(arrays, method=method)
preds = [{"boxes": np.array([[1.0, 2, 30, 40]]), "scores": np.array([0.5]), "labels": np.array([3])}] * 20
targets = [{"boxes": np.array([[1.0, 2, 31, 40]]), "labels": np.array([3])}] * 20
metric = fastdet.MeanAveragePrecision(); metric.update(preds, targets); metric.compute()
"""


def test_warmup_covers_masks_segm_fusion_and_streaming(tmp_path):
    """The tasks added for masks, COCO segm, fusion, streaming, LVIS and analysis leave nothing to compile
    for such calls on other data (the bundled segm results, read from a file by the scanner, and larger
    random sets)."""
    from test_ahead import COMPILED
    from test_ahead import python as run_python

    tasks = ["masks", "coco segm", "fusion", "streaming, lvis, analysis"]
    first = python(f"import fastdet; fastdet.warmup({tasks!r}, processes=2)", tmp_path)
    assert first.returncode == 0, first.stderr
    compiled = run_python(COMPILED, tmp_path, REAL_CALLS)
    assert json.loads(compiled.splitlines()[-1]) == []


MARKED = """
import os
import fastdet._warmup as w
from fastdet._kernels import WARMED_MARK, cache_location
w.TASKS = {{name: w.TASKS[name] for name in {tasks!r}.split(",")}}  # a complete warmup of fewer tasks
w.warmup(["voc"], processes=1)
print(os.path.exists(os.path.join(cache_location(), WARMED_MARK)))
w.warmup(processes=1)
print(os.path.exists(os.path.join(cache_location(), WARMED_MARK)))
"""


def test_a_complete_warmup_marks_the_cache(tmp_path):
    """Only a warmup of every task marks the cache folder as warmed (a read-only in-tree cache is then
    still read: ``test_read_only_in_tree_cache_needs_the_warmup_mark``)."""
    proc = python(MARKED.format(tasks="voc"), tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["False", "True"]
