"""The kernel machinery (fastdet._kernels): processes, threads, the on-disk cache, Ctrl-C.

Every case runs in a subprocess with a timeout, since a failure is a hang or an
abort. Subprocesses import this checkout's fastdet (PYTHONPATH) and use a cache
directory of their own unless the test is about the cache.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent

# Inputs every child builds the same way: 600 boxes in a 100 x 100 image (box_iou's
# 360,000 pairs run on the thread pool), their scores and labels.
PRELUDE = """
import numpy as np
import fastdet
rng = np.random.default_rng(0)
xy = rng.uniform(0, 100, (600, 2))
B = np.concatenate([xy, xy + rng.uniform(1, 30, (600, 2))], axis=1)
S = rng.uniform(0, 1, 600)
L = rng.integers(0, 3, 600)
"""


def run_child(code, *, cache, checks=False, timeout=240, env=None, cwd=None):
    """Run ``PRELUDE [+ CHECKS] + code`` in a fresh interpreter; return the CompletedProcess.

    ``code`` may be indented (it is dedented); a timeout raises.
    """
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_")}
    full_env.update(PYTHONPATH=str(ROOT), PYTHONFAULTHANDLER="1")
    if cache is not None:
        full_env["NUMBA_CACHE_DIR"] = str(cache)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-c", PRELUDE + (CHECKS if checks else "") + textwrap.dedent(code)],
        env=full_env,
        cwd=cwd or ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def check(proc):
    assert proc.returncode == 0, f"rc={proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    return proc.stdout


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """A Numba cache shared by the tests of this module that are not about the cache."""
    return tmp_path_factory.mktemp("numba-cache")


# Each child checks its results against the reference computed in the same child
# with NumPy only, so a wrong result is a failure, not only a hang or an abort.
CHECKS = """
def ref_iou(a, b):
    lt = np.maximum(a[:, None, :2], b[None, :, :2]); rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.clip(rb - lt, 0, None).prod(-1)
    area = lambda x: (x[:, 2] - x[:, 0]) * (x[:, 3] - x[:, 1])
    return inter / (area(a)[:, None] + area(b)[None, :] - inter)
IOU = ref_iou(B, B)
def ref_batched_nms(thr):
    keep = []
    for i in np.argsort(-S, kind="stable"):
        if all(L[k] != L[i] or IOU[k, i] <= thr for k in keep):
            keep.append(i)
    return np.array(keep)
KEEP = ref_batched_nms(0.5)
def ok_iou():
    return bool(np.allclose(fastdet.box_iou(B, B), IOU, rtol=1e-12, atol=0))  # same formula, float64
def ok_nms():
    return bool(np.array_equal(fastdet.batched_nms(B, S, L, 0.5), KEEP))
"""


# ----------------------------------------------------------------------------- fork


def test_fork_child_after_torch_openmp(cache):
    """Issue 13 (1a): torch used OpenMP in the parent; a forked child calling box_iou hung."""
    pytest.importorskip("torch")
    out = run_child(
        """
        import os, torch
        x = torch.randn(500, 500); x @ x
        pid = os.fork()
        if pid == 0:
            os._exit(0 if ok_iou() and ok_nms() else 3)
        _, status = os.waitpid(pid, 0)
        print("child", os.waitstatus_to_exitcode(status))
        """,
        checks=True,
        cache=cache,
    )
    assert check(out).strip() == "child 0"


def test_fork_pool_after_chunked_kernels_in_parent(cache, tmp_path):
    """Issue 13 (1b): the parent ran threaded kernels (a > 1 MB COCO json, box_iou), then a fork pool."""
    images = [{"id": i, "width": 640, "height": 480} for i in range(2000)]
    anns = [
        {"id": k, "image_id": k % 2000, "category_id": 1 + k % 5, "bbox": [1.5, 2.5, 30.25, 40.125],
         "area": 1210.0, "iscrowd": 0}
        for k in range(12000)
    ]  # fmt: skip
    gt = tmp_path / "gt.json"
    gt.write_text(
        json.dumps({"images": images, "annotations": anns, "categories": [{"id": c} for c in range(1, 6)]})
    )
    assert gt.stat().st_size > 1 << 20
    out = run_child(
        f"""
        import multiprocessing as mp
        coco = fastdet.COCO({str(gt)!r}, verbose=False)
        assert len(coco.getAnnIds()) == 12000
        assert ok_iou()
        def work(i):
            return ok_iou() and ok_nms()
        if __name__ == "__main__":
            with mp.get_context("fork").Pool(2) as pool:
                print(pool.map(work, range(4)))
        """,
        checks=True,
        cache=cache,
    )
    assert check(out).strip() == "[True, True, True, True]"


def test_fork_child_of_fresh_process(cache):
    """A plain os.fork child (no threaded kernel in the parent yet) gets correct results."""
    out = run_child(
        """
        import os
        pid = os.fork()
        if pid == 0:
            os._exit(0 if (ok_iou() and ok_nms()) else 3)
        _, status = os.waitpid(pid, 0)
        print("child", os.waitstatus_to_exitcode(status), ok_iou())
        """,
        checks=True,
        cache=cache,
    )
    assert check(out).strip() == "child 0 True"


# ----------------------------------------------------------------------------- threads


def test_eight_threads_at_once_and_no_threading_layer(cache, data_dir):
    """Issue 13 (2): with Numba's workqueue layer, 8 threads in parallel kernels aborted the process.

    fastdet's kernels no longer use Numba's threading layers at all (chunked kernels run
    on a pool of Python threads), so none is ever started, whatever NUMBA_THREADING_LAYER says.
    """
    coco = data_dir / "coco-val2014-fake100"
    proc = run_child(
        f"""
        import threading
        import fastdet.coco.reading
        fastdet.coco.reading.SCAN_MIN_BYTES = 0  # the compiled scanner, on the threads too
        gt = fastdet.COCO({str(coco / "instances_val2014_100.json")!r}, verbose=False)
        dt = gt.loadRes({str(coco / "instances_val2014_fakebbox100_results.json")!r})
        AP = fastdet.evaluate_coco(gt, dt).stats["AP"]
        results = []
        def work():
            for _ in range(5):
                results.append(ok_iou() and ok_nms() and fastdet.evaluate_coco(gt, dt).stats["AP"] == AP)
        threads = [threading.Thread(target=work) for _ in range(8)]
        for t in threads: t.start()
        for t in threads: t.join()
        from numba.np.ufunc import parallel
        print(len(results), all(results), parallel._is_initialized)
        """,
        checks=True,
        cache=cache,
        env={"NUMBA_THREADING_LAYER": "workqueue"},
    )
    assert check(proc).split() == ["40", "True", "False"]


# ----------------------------------------------------------------------------- chunked kernels


def test_chunked_kernel_loads_from_the_cache_and_agrees_with_one_thread(tmp_path):
    """One compiled function serves the threaded and the one-thread call, in a fresh process too."""
    code = """
        from fastdet._kernels import NEVER, iou
        args = (B, np.ascontiguousarray(B.T), (B[:, 2] - B[:, 0]) * (B[:, 3] - B[:, 1]), 0.0)
        out = np.empty((600, 600)); iou.iou_matrix.serial(600, *args, out, NEVER)
        out2 = np.empty((600, 600)); iou.iou_matrix(600, *args, out2, NEVER)
        stats = iou.iou_matrix.dispatcher.stats
        print(sum(stats.cache_hits.values()), len(stats.cache_misses), np.array_equal(out, out2))
        """
    assert check(run_child(code, cache=tmp_path)).split() == ["0", "1", "True"]  # compiled once
    assert check(run_child(code, cache=tmp_path)).split() == ["1", "0", "True"]  # loaded


def test_chunked_kernel_object_and_thread_limit(monkeypatch):
    import threading

    import numba

    from fastdet._kernels import ChunkedKernel, iou, kernel, thread_limit

    k = iou.iou_matrix
    assert isinstance(k, ChunkedKernel)
    assert k.__name__ == "iou_matrix"
    assert k.__doc__
    assert "IoU" in k.__doc__
    assert "chunked kernel" in repr(k)

    @kernel(chunked=True)
    def double(lo, hi, x, out):
        for i in range(lo, hi):
            out[i] = 2 * x[i]

    seen = []
    body = double.py_func

    def spy(lo, hi, *args):
        seen.append((lo, hi, threading.current_thread().name))
        body(lo, hi, *args)

    monkeypatch.setattr(double, "dispatcher", spy)
    monkeypatch.setattr(numba.config, "NUMBA_NUM_THREADS", 3)
    x = np.arange(10.0)
    out = np.zeros(10)
    double(10, x, out)
    assert out.tolist() == (2 * x).tolist()
    assert sorted((lo, hi) for lo, hi, _ in seen) == [(j, j + 1) for j in range(10)]  # 10 <= 4 x 3 chunks
    me = threading.current_thread().name
    assert all(name == me or name.startswith("fastdet") for _, _, name in seen)
    seen.clear()
    with thread_limit(1):
        double(10, x, out)
    assert seen == [(0, 10, me)]  # one thread: one call, in this thread
    seen.clear()
    double.serial(10, x, out)
    assert seen == [(0, 10, me)]
    assert double.py_func is body
    # the compiled kernel itself
    plain = kernel(chunked=True)(body)
    out2 = np.zeros(10)
    plain(10, x, out2)
    assert out2.tolist() == out.tolist()


# ----------------------------------------------------------------------------- the cache


def _all_files(root):
    return [p for p in Path(root).rglob("*") if p.is_file()]


def test_editing_a_helpers_module_recompiles_its_callers(tmp_path):
    """A kernel's cached code includes the helpers it inlines from other kernel modules
    (``ranking._class_pair_areas`` calls ``scoresort._radix_sort``): an edit to the helper's
    module alone is a cache miss for the caller, not stale code."""
    import shutil

    pkg = tmp_path / "pkg"
    shutil.copytree(ROOT / "fastdet", pkg / "fastdet", ignore=shutil.ignore_patterns("__pycache__"))
    code = """
        from fastdet._kernels import ranking as k
        grouped = np.array([[0.2, 0.1, 0.9, 0.3]])
        starts = np.array([0, 2, 4])
        areas = np.zeros((2, 2), np.int64)
        k._class_pair_areas.serial(1, grouped, starts, False, areas)
        stats = k._class_pair_areas.dispatcher.stats
        print(sum(stats.cache_hits.values()), len(stats.cache_misses), areas[0, 1], fastdet.__file__)
        """

    def run():
        *counts, where = check(
            run_child(code, cache=tmp_path / "c", env={"PYTHONPATH": str(pkg)}, cwd=pkg)
        ).split()
        assert where.startswith(str(pkg))  # the copy, not this checkout
        return counts

    assert run() == ["0", "1", "0"]  # compiled
    assert run() == ["1", "0", "0"]  # loaded
    helper = pkg / "fastdet" / "_kernels" / "scoresort.py"
    helper.write_text(helper.read_text() + "\n# edited\n")
    assert run() == ["0", "1", "0"]  # compiled again


def test_no_writable_cache_location_compiles_without_cache(tmp_path):
    """Issue 13 (5): read-only package, unwritable HOME, no NUMBA_CACHE_DIR: import raised."""
    pkg = tmp_path / "site"
    shutil.copytree(ROOT / "fastdet", pkg / "fastdet", ignore=shutil.ignore_patterns("__pycache__"))
    for d in [pkg / "fastdet", *[p for p in (pkg / "fastdet").rglob("*") if p.is_dir()]]:
        (d / "__pycache__").write_text("")  # a file where Numba wants a directory: unwritable even as root
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("")
    env = {
        "PYTHONPATH": str(pkg),
        "HOME": str(blocked / "home"),
        "XDG_CACHE_HOME": str(blocked / "cache"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    proc = run_child(
        """
        import warnings
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ok = ok_iou() and ok_nms() and ok_iou()
        print(fastdet.__file__)
        print(ok, len(caught))
        print(caught[0].category.__name__, caught[0].message)
        """,
        checks=True,
        cache=None,
        env=env,
        cwd=tmp_path,
    )
    lines = check(proc).splitlines()
    assert lines[0].startswith(str(pkg))
    assert lines[1] == "True 1"  # one warning for the whole process
    assert lines[2].startswith("CacheWarning")
    assert "NUMBA_CACHE_DIR" in lines[2]
    assert not [p for p in _all_files(tmp_path) if p.suffix in (".nbc", ".nbi")]  # nothing cached anywhere


CACHE_USE = (
    CHECKS
    + """
from fastdet._kernels import iou, nms as knms
print(ok_iou(), ok_nms(), sum(iou.iou_matrix.stats.cache_hits.values()),
      sum(knms.greedy_nms.stats.cache_hits.values()))
"""
)


# the cache folder refuses new files, as a read-only mount does (even for root, who may write anywhere)
READ_ONLY_CACHE = """
import builtins, os, tempfile
_cache = os.environ["NUMBA_CACHE_DIR"]
_temporary, _open = tempfile.TemporaryFile, builtins.open
def _refuse(path):
    if os.path.abspath(str(path)).startswith(_cache):
        raise OSError(30, "Read-only file system", str(path))
def _temporary_file(*args, dir=None, **kwargs):
    _refuse(dir or "")
    return _temporary(*args, dir=dir, **kwargs)
def _open_file(file, mode="r", *args, **kwargs):
    if any(c in mode for c in "wax+"):
        _refuse(file)
    return _open(file, mode, *args, **kwargs)
tempfile.TemporaryFile, builtins.open = _temporary_file, _open_file
"""


def test_read_only_warmed_cache_is_loaded(tmp_path):
    """A cache warmed at build time and read-only at run time (a container image): the kernels load
    from it instead of compiling again (into the package's folder, or nowhere)."""
    check(run_child(CACHE_USE, cache=tmp_path))  # warm it
    before = sorted(p.name for p in _all_files(tmp_path))
    proc = run_child(
        READ_ONLY_CACHE + CACHE_USE.split(CHECKS)[1] + "print(fastdet._kernels.cache_location())",
        cache=tmp_path,
        checks=True,
    )
    lines = check(proc).splitlines()
    assert lines[0].split() == ["True", "True", "1", "1"]  # loaded, not compiled
    assert lines[1].startswith(str(tmp_path))
    assert "Warning" not in proc.stderr
    assert sorted(p.name for p in _all_files(tmp_path)) == before


def test_read_only_in_tree_cache_needs_the_warmup_mark(tmp_path):
    """The package's ``__pycache__``, read-only, is read only after a complete ``fastdet warmup``
    (its mark); compiled kernels left there by chance are not enough (the user-wide cache is then
    used). ``NUMBA_CACHE_DIR``, the user's own choice, is read when it holds compiled kernels."""
    from fastdet._kernels import (
        WARMED_MARK,
        _ReadOnlyInTreeLocator,
        _ReadOnlyUserProvidedLocator,
    )

    source = tmp_path / "module.py"
    source.write_text("def f():\n    pass\n")
    folder = tmp_path / "__pycache__"
    folder.mkdir()

    def f():
        pass

    locator = _ReadOnlyInTreeLocator(f, str(source))
    with pytest.raises(OSError, match="no readable warmed cache"):
        locator.ensure_cache_path()  # empty
    (folder / "module.f-1.py311.0123.nbc").write_bytes(b"")
    with pytest.raises(OSError, match="no readable warmed cache"):
        locator.ensure_cache_path()  # compiled kernels, no mark
    (folder / WARMED_MARK).write_text("fastdet\n")
    locator.ensure_cache_path()
    assert _ReadOnlyInTreeLocator.from_function(f, str(source)) is not None
    user = tmp_path / "user"
    import numba

    old = numba.config.CACHE_DIR
    try:
        numba.config.CACHE_DIR = str(user)
        mine = _ReadOnlyUserProvidedLocator(f, str(source))
        with pytest.raises(OSError, match="no readable warmed cache"):
            mine.ensure_cache_path()  # no such folder
        Path(mine.get_cache_path()).mkdir(parents=True)
        (Path(mine.get_cache_path()) / "module.f-1.py311.0123.nbc").write_bytes(b"")
        mine.ensure_cache_path()
    finally:
        numba.config.CACHE_DIR = old


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty", "flip"])
def test_damaged_cache_files_are_recompiled_and_replaced(tmp_path, damage):
    """Issue 13 (5): a truncated or corrupt cache file raised EOFError / UnpicklingError / LLVM errors."""
    check(run_child(CACHE_USE, cache=tmp_path))
    files = _all_files(tmp_path)
    assert files
    for f in files:
        data = f.read_bytes()
        if damage == "truncate":
            f.write_bytes(data[: len(data) // 2])
        elif damage == "garbage":
            f.write_bytes(os.urandom(len(data)))
        elif damage == "empty":
            f.write_bytes(b"")
        else:  # one flipped bit in the last quarter (machine code or its bitcode)
            pos = len(data) * 3 // 4
            f.write_bytes(data[:pos] + bytes([data[pos] ^ 0x10]) + data[pos + 1 :])
    out = check(run_child(CACHE_USE, cache=tmp_path))
    assert out.split() == ["True", "True", "0", "0"]  # recompiled
    assert "Warning" not in run_child(CACHE_USE, cache=tmp_path).stderr
    out = check(run_child(CACHE_USE, cache=tmp_path))
    assert out.split() == ["True", "True", "1", "1"]  # and replaced


def test_full_disk_at_the_cache_is_a_warning(tmp_path):
    """Issue 13 (5): ENOSPC while saving raised OSError out of box_iou."""
    proc = run_child(
        """
        import errno, os
        real_replace = os.replace
        def full(*args, **kwargs):
            raise OSError(errno.ENOSPC, "No space left on device")
        os.replace = full
        import warnings
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            iou = fastdet.box_iou(B, B)
            keep = fastdet.nms(B, S, 0.5)
        os.replace = real_replace
        print(iou.shape, len(keep) > 0, len(caught))
        print(caught[0].category.__name__, caught[0].message)
        """,
        cache=tmp_path,
    )
    lines = check(proc).splitlines()
    assert lines[0] == "(600, 600) True 1"
    assert lines[1].startswith("CacheWarning")
    assert "No space left" in lines[1]
    assert not [p for p in _all_files(tmp_path) if ".tmp." in p.name]  # no temporary file left behind


def test_full_tmpfs_at_the_cache_is_a_warning(tmp_path):
    """The same on a real full file system: a 64 kB tmpfs (needs root; skipped elsewhere)."""
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    if subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)], capture_output=True
    ).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        proc = run_child(
            """
            import warnings
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                ok = ok_iou() and ok_nms()
            print(ok, len(caught), [str(w.message) for w in caught])
            """,
            checks=True,
            cache=mnt,
        )
        out = check(proc)
        assert out.startswith("True 1 ")
        assert "No space left" in out
        assert not [p for p in _all_files(mnt) if ".tmp." in p.name]
    finally:
        subprocess.run(["umount", str(mnt)], check=True)


def test_two_processes_filling_one_cache_at_once(tmp_path):
    """Cache files are written through a temporary file and a rename: concurrent writers are safe."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", PRELUDE + CACHE_USE],
            env={**os.environ, "PYTHONPATH": str(ROOT), "NUMBA_CACHE_DIR": str(tmp_path)},
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        assert out.split()[:2] == ["True", "True"]
    out = check(run_child(CACHE_USE, cache=tmp_path))
    assert out.split() == ["True", "True", "1", "1"]


# ----------------------------------------------------------------------------- Ctrl-C


def test_cancel_flag_stops_kernels_early():
    """Kernels given a set ``cancel`` flag return without doing the work (Ctrl-C support)."""
    from fastdet._kernels import iou

    b = np.array([[0.0, 0.0, 1.0, 1.0]] * 4)
    args = (b, np.ascontiguousarray(b.T), np.ones(4), 0.0)
    for kern in (iou.iou_matrix, iou.iou_matrix.serial):
        out = np.full((4, 4), -1.0)
        kern(4, *args, out, np.ones(1, np.uint8))
        assert (out == -1).all()
        kern(4, *args, out, np.zeros(1, np.uint8))
        assert (out == 1).all()


def test_call_interruptible_returns_and_raises():
    from fastdet._kernels import call_interruptible

    assert call_interruptible(lambda x, cancel: x + cancel[0], 41) == 41

    def boom(cancel):
        raise ZeroDivisionError("inside")

    with pytest.raises(ZeroDivisionError, match="inside"):
        call_interruptible(boom)


# Boxes anchored at the origin with sizes growing by 1: every box lies in every other
# box's candidate window and no IoU exceeds 0.9999999, so greedy NMS does N^2 / 2 IoUs.
SLOW_NMS = """
import signal, sys, time
signal.signal(signal.SIGINT, signal.default_int_handler)  # a shell's background job starts with it ignored
n = int(sys.argv[1]) if len(sys.argv) > 1 else 400_000
side = 1000.0 + np.arange(n)
slow = np.zeros((n, 4)); slow[:, 2] = side; slow[:, 3] = side
scores = np.linspace(1, 0, n)
{warm}
print("ready", flush=True)
t = time.perf_counter()
try:
    {call}
    print("finished", flush=True)
except KeyboardInterrupt:
    print(f"interrupted {{time.perf_counter() - t:.2f}}", flush=True)
"""


@pytest.mark.parametrize(
    ("warm", "call"),
    [
        ("fastdet.nms(slow[:10], scores[:10], 0.9999999)", "fastdet.nms(slow, scores, 0.9999999)"),
        (
            "fastdet.batched_nms(slow[:10], scores[:10], np.zeros(10, int), 0.9999999)",
            "fastdet.batched_nms(slow, scores, np.zeros(n, int), 0.9999999)",
        ),
        (
            "fastdet.soft_nms(slow[:10], scores[:10], method='hard', iou_threshold=0.9999999)",
            "fastdet.soft_nms(slow, scores, method='hard', iou_threshold=0.9999999, score_threshold=0.0)",
        ),
    ],
    ids=["nms", "batched_nms", "soft_nms"],
)
def test_ctrl_c_interrupts_a_long_kernel(cache, warm, call):
    """Issue 13 (7): Ctrl-C waited for the running kernel (33 s on a 10M-box nms)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_")}
    env.update(PYTHONPATH=str(ROOT), NUMBA_CACHE_DIR=str(cache))
    code = PRELUDE + SLOW_NMS.format(warm=warm, call=call)
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(1.0)  # inside the kernel by now
        sent = time.perf_counter()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        took = time.perf_counter() - sent
    finally:
        proc.kill()
        proc.communicate()  # reaped, pipes closed
    assert out.startswith("interrupted"), (out, err)
    # "within a second" on a quiet machine; this one may be shared, hence the slack
    assert took < 5.0, took


# ----------------------------------------------------------------------------- import and load costs


def test_import_compiles_nothing_and_imports_only_the_nms_family(tmp_path):
    """``import fastdet`` is cheap: no compilation, no cache access, other modules on first use."""
    out = run_child(
        """
        import sys
        heavy = sorted(m for m in ("fastdet.coco", "fastdet.arch", "fastdet.metrics", "fastdet.boxes",
                                   "numba.np.arraymath", "scipy.linalg", "matplotlib") if m in sys.modules)
        from fastdet._kernels import nms as k
        print(heavy, k.greedy_nms.signatures)
        fastdet.box_iou  # a lazy name imports its module
        print("fastdet.boxes" in sys.modules, "fastdet.coco" in sys.modules)
        """,
        cache=tmp_path,
    )
    lines = check(out).splitlines()
    assert lines == ["[] []", "True False"]
    assert not list(tmp_path.rglob("*"))  # the cache directory was not even touched


def test_loading_from_the_cache_skips_numbas_compiler_registries(tmp_path):
    """A warm start loads machine code without importing Numba's lowering registries (nor SciPy's BLAS)."""
    code = """
        import sys
        b32, s32 = B.astype(np.float32), S.astype(np.float32)
        fastdet.nms(B, S, 0.5); fastdet.soft_nms(b32, s32); fastdet.box_iou(B, B)
        fastdet.postprocess_detections(np.concatenate([b32, s32[:, None]], 1)[None])
        print("numba.np.arraymath" in sys.modules, "scipy.linalg" in sys.modules)
        """
    check(run_child(code, cache=tmp_path))  # compiles (and imports the registries)
    assert check(run_child(code, cache=tmp_path)).split() == ["False", "False"]


def test_call_interruptible_keeps_the_callers_thread_limit(monkeypatch):
    import threading

    import fastdet._kernels as K

    if threading.current_thread() is not threading.main_thread():
        pytest.skip("call_interruptible runs a worker thread from the main thread only")
    with K.thread_limit(1):
        assert K.call_interruptible(lambda cancel: K._threads()) == 1
    with K.thread_limit(2):
        assert K.call_interruptible(lambda cancel: getattr(K._local, "threads", None)) == 2


def test_kernels_run_as_python_with_the_jit_disabled():
    """``NUMBA_DISABLE_JIT=1`` (how the README measures kernel coverage): plain and chunked kernels
    run as Python functions and give the compiled results."""
    code = textwrap.dedent(
        """
        import numpy as np, fastdet
        b = np.random.default_rng(0).uniform(0, 50, (700, 4)); b[:, 2:] += b[:, :2]
        keep = fastdet.nms(b[:50], np.linspace(1, 0.1, 50), 0.5)
        iou = fastdet.box_iou(b, b)  # chunked, on the thread pool at this size
        print(keep.tolist(), float(iou.sum()))
        import fastdet.coco.reading as reading
        from fastdet.coco import COCO
        reading.SCAN_MIN_BYTES = 0  # the Numba JSON scanner (its 128-bit products, 8-digit loads)
        gt = COCO("data/coco-val2014-fake100/instances_val2014_100.json", verbose=False)
        import json, os, tempfile
        path = os.path.join(tempfile.mkdtemp(), "dt.json")
        with open(path, "w") as f:
            json.dump([{"image_id": gt.getImgIds()[0], "category_id": 1, "score": 0.22904929306407318,
                        "bbox": [796.0934448242188, 1e-7, 12345678.123456789012, 5e300]}], f)
        dt = gt.loadRes(path)
        print(dt.loadAnns(dt.getAnnIds())[0]["bbox"], dt.loadAnns(dt.getAnnIds())[0]["score"])
        """
    )
    outs = []
    for disabled in ("1", "0"):
        env = {**os.environ, "PYTHONPATH": str(ROOT), "NUMBA_DISABLE_JIT": disabled}
        done = subprocess.run(
            [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, done.stderr
        outs.append(done.stdout)
    assert outs[0] == outs[1]
