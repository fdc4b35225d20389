"""``fastdet._ahead``: a second process compiles while a first run of the command line works.

The tasks are checked against the calls they stand for: after a task ran into a
fresh cache, a new process making those calls compiles none of the task's
kernels. The process handling (disabled, already done, a child that dies or
hangs) is checked with stand-in child programs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fastdet import _ahead, _kernels

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
FAKE100 = DATA / "coco-val2014-fake100"
GT = FAKE100 / "instances_val2014_100.json"
DT = FAKE100 / "instances_val2014_fakebbox100_results.json"


def env_for(cache: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NUMBA_", "FASTDET_"))}
    env.update(PYTHONPATH=str(ROOT), NUMBA_CACHE_DIR=str(cache), **extra)
    return env


def python(code: str, cache: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        env=env_for(cache),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


# runs argv[1] and prints the fastdet kernels it compiled (JSON list)
COMPILED = r"""
import json, sys
from numba.core import event
names = []
class Listener(event.Listener):
    def on_start(self, ev):
        f = getattr(ev.data["dispatcher"], "py_func", None)
        if f is not None and f.__module__.startswith("fastdet."):
            names.append(f"{f.__module__}.{f.__name__}")
    def on_end(self, ev):
        pass
with event.install_listener("numba:compile", Listener()):
    exec(sys.argv[1])
print(json.dumps(names))
"""

RUN_TASK = "import sys; from fastdet._warmup import AHEAD_TASKS; AHEAD_TASKS[sys.argv[1]][0]()"

ACCUMULATION = {
    f"fastdet._kernels.coco.{name}"
    for name in (
        "gather_categories",
        "accumulate",
        "_accumulate_category",
        "_fill_curves",
        "_count_positives",
    )
}

CALLS = {
    # what `fastdet eval` runs: matching (not in the task) and accumulation (in the task)
    "coco accumulate": f"""
import fastdet
gt = fastdet.COCO({str(GT)!r}, verbose=False)
ev = fastdet.COCOeval(gt, gt.loadRes({str(DT)!r}), "bbox", verbose=False)
ev.evaluate()
ev.accumulate()
""",
    # the demo's section 2, on its real data
    "demo nms": f"""
import json, numpy as np, fastdet
raw = json.loads(open({str(DATA / "nms-mmcv-batched" / "batched_nms_data.json")!r}).read())
boxes = np.asarray(raw["boxes_xyxy_float32"], np.float32)
scores = np.asarray(raw["scores_float32"], np.float32)
fastdet.nms(boxes, scores, 0.7)
fastdet.batched_nms(boxes, scores, np.asarray(raw["idxs"], np.int64), 0.7)
fastdet.soft_nms(boxes, scores)
""",
    # the demo's section 3 (its simulated candidates through both post-processings)
    "demo sweep": f"""
import fastdet
from fastdet.demo import _postprocess, simulate_detections
gt = fastdet.COCO({str(GT)!r}, verbose=False)
sim = simulate_detections(gt, seed=0)
_postprocess(sim, sorted(gt.getCatIds()), "nms", 0.5)
_postprocess(sim, sorted(gt.getCatIds()), "soft", 0.5)
""",
}


@pytest.mark.parametrize("task", sorted(CALLS))
def test_a_task_leaves_its_kernels_compiled(tmp_path, task):
    """After the task, the calls it stands for compile none of its kernels."""
    compiled_by_task = json.loads(python(COMPILED, tmp_path, RUN_TASK.replace("sys.argv[1]", repr(task))))
    assert compiled_by_task  # the fresh cache was empty: the task compiled something
    after = set(json.loads(python(COMPILED, tmp_path, CALLS[task])))
    if task == "coco accumulate":
        assert ACCUMULATION <= set(compiled_by_task)
        assert "fastdet._kernels.coco.match_cells" in after  # the matching is not in the task
        assert not after & ACCUMULATION, after
    else:
        assert not after, after


@pytest.mark.skipif(_ahead._cpus() < 2, reason="the second process starts only with 2+ CPUs")
def test_first_cli_eval_with_a_second_process_prints_the_same(tmp_path):
    """A first `fastdet eval` (empty cache) runs the task in a child; the output is unchanged."""
    cmd = [sys.executable, "-m", "fastdet.cli", "eval", str(GT), str(DT)]
    first = subprocess.run(cmd, env=env_for(tmp_path), cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stderr
    assert list(tmp_path.rglob("fastdet-ahead-coco-accumulate-*.done"))  # the child finished its task
    off = env_for(tmp_path, FASTDET_COMPILE_AHEAD="0")
    again = subprocess.run(cmd, env=off, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    assert first.stdout == again.stdout
    assert first.stdout.count("Average Precision") == 6


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A cache folder of this test's own, with the ahead process enabled."""
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("FASTDET_COMPILE_AHEAD", raising=False)
    monkeypatch.setattr(_ahead, "_cpus", lambda: 2)
    monkeypatch.setattr(_kernels, "cache_location", lambda: str(tmp_path))
    return tmp_path


def test_nothing_starts_when_disabled_on_one_cpu_or_already_done(cache, monkeypatch):
    monkeypatch.setattr(_ahead, "_CHILD", "import time; time.sleep(60)")
    monkeypatch.setenv("FASTDET_COMPILE_AHEAD", "0")
    with _ahead.CompileAhead(["coco accumulate"]) as ahead:
        assert not ahead.running
    monkeypatch.delenv("FASTDET_COMPILE_AHEAD")
    monkeypatch.setattr(_ahead, "_cpus", lambda: 1)
    with _ahead.CompileAhead(["coco accumulate"]) as ahead:
        assert not ahead.running
    monkeypatch.setattr(_ahead, "_cpus", lambda: 2)
    _ahead._stamp(str(cache), "coco accumulate").touch()
    with _ahead.CompileAhead(["coco accumulate"]) as ahead:
        assert not ahead.running
        ahead.wait("coco accumulate")  # nothing to wait for
    with _ahead.CompileAhead(["coco accumulate", "demo nms"]) as ahead:
        assert ahead.running  # one task left to do
    assert not _kernels.await_compile


def test_wait_returns_when_the_child_dies(cache, monkeypatch):
    monkeypatch.setattr(_ahead, "_CHILD", "import sys; sys.exit(3)")
    with _ahead.CompileAhead(["coco accumulate"], timeout=600) as ahead:
        proc = ahead._proc
        assert proc is not None
        ahead.wait("coco accumulate")  # returns at the child's exit, long before the timeout
        assert proc.wait(60) == 3
    assert not list(cache.glob("fastdet-ahead-*"))  # no stamp: the next run tries again


def test_a_hanging_child_costs_the_timeout_and_is_stopped(cache, monkeypatch):
    monkeypatch.setattr(_ahead, "_CHILD", "import time; time.sleep(600)")
    ahead = _ahead.CompileAhead(["coco accumulate"], timeout=0.2)
    proc = ahead._proc
    assert proc is not None
    assert ahead.running
    assert set(_kernels.await_compile) == {
        "fastdet._kernels.coco.gather_categories",
        "fastdet._kernels.coco.accumulate",
    }
    ahead.wait("coco accumulate")
    assert ahead.running  # wait returned on its timeout: the child still sleeps
    ahead.close()
    assert proc.poll() is not None  # stopped
    assert not ahead.running
    assert not _kernels.await_compile


def test_a_chunked_kernel_waits_for_the_other_process_once(monkeypatch):
    from fastdet._kernels import coco

    waits = []
    monkeypatch.setitem(_kernels.await_compile, "fastdet._kernels.coco.sort_cells", lambda: waits.append(1))
    order = np.array([0, 1, 2], np.int64)
    coco.sort_cells(1, order, np.array([0, 3], np.int64), np.array([0.1, 0.9, 0.5]))
    coco.sort_cells.serial(1, order, np.array([0, 3], np.int64), np.array([0.1, 0.9, 0.5]))
    assert waits == [1]
    assert order.tolist() == [1, 2, 0]
    assert "fastdet._kernels.coco.sort_cells" not in _kernels.await_compile


def test_no_child_when_it_cannot_start(cache, monkeypatch):
    """An interpreter that cannot be started (embedded, frozen) means compiling here, no error."""
    monkeypatch.setattr(_ahead.sys, "executable", str(cache / "no-such-python"))
    with _ahead.CompileAhead(["coco accumulate"]) as ahead:
        assert not ahead.running
        ahead.wait("coco accumulate")
    assert not _kernels.await_compile
