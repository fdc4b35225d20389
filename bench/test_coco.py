"""pytest-benchmark: COCO bbox evaluation, fastdet beside pycocotools and the native peers.

Run with ``pytest bench/test_coco.py --benchmark-only``. The data set is the
synthetic one of ``bench/make_coco_synthetic.py``; its size is
``FASTDET_BENCH_COCO_IMAGES`` images (default 500, so that pycocotools finishes
in seconds; 5000 is COCO val2017 scale). Each benchmark makes one untimed call
first, so Numba compilation is excluded; ``test_cold_start`` measures a fresh
process with and without the kernel cache.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import make_coco_synthetic

N_IMAGES = int(os.environ.get("FASTDET_BENCH_COCO_IMAGES", "500"))

PEERS = {
    "fastdet": ("fastdet.coco", "fastdet.coco", "COCOeval"),
    "pycocotools": ("pycocotools.coco", "pycocotools.cocoeval", "COCOeval"),
    "faster-coco-eval": ("faster_coco_eval", "faster_coco_eval", "COCOeval_faster"),
    "hotcoco": ("hotcoco", "hotcoco", "COCOeval"),
    "ultrafast-pycocotools": ("ultrafast_pycocotools", "ultrafast_pycocotools", "COCOeval"),
}


@pytest.fixture(scope="module")
def files() -> tuple[Path, Path]:
    return make_coco_synthetic.write(make_coco_synthetic.default_dir(0, N_IMAGES), N_IMAGES, 0)


def classes(name: str) -> tuple[Any, Any]:
    coco_mod, eval_mod, eval_name = PEERS[name]
    try:
        return importlib.import_module(coco_mod).COCO, getattr(importlib.import_module(eval_mod), eval_name)
    except ImportError:
        pytest.skip(f"{name} is not installed")


def load(coco_cls: Any, gt: Path, dt: Path) -> tuple[Any, Any]:
    with contextlib.redirect_stdout(io.StringIO()):
        cg = coco_cls(str(gt))
        return cg, cg.loadRes(str(dt))


def evaluate(eval_cls: Any, cg: Any, cd: Any, summarize: bool = False) -> Any:
    with contextlib.redirect_stdout(io.StringIO()):
        e = eval_cls(cg, cd, "bbox")
        e.evaluate()
        e.accumulate()
        if summarize:
            e.summarize()
    return e


@pytest.mark.benchmark(group="coco-load")
@pytest.mark.parametrize("impl", list(PEERS))
def test_load(benchmark: Any, files: tuple[Path, Path], impl: str) -> None:
    coco_cls, _ = classes(impl)
    load(coco_cls, *files)  # warm-up
    benchmark(load, coco_cls, *files)


@pytest.mark.benchmark(group="coco-evaluate+accumulate")
@pytest.mark.parametrize("impl", list(PEERS))
def test_evaluate_accumulate(benchmark: Any, files: tuple[Path, Path], impl: str) -> None:
    coco_cls, eval_cls = classes(impl)
    cg, cd = load(coco_cls, *files)
    evaluate(eval_cls, cg, cd)  # warm-up
    if impl == "pycocotools":
        benchmark.pedantic(evaluate, args=(eval_cls, cg, cd), rounds=1, iterations=1)
    else:
        benchmark(evaluate, eval_cls, cg, cd)


@pytest.mark.benchmark(group="coco-end-to-end")
@pytest.mark.parametrize("impl", list(PEERS))
def test_end_to_end(benchmark: Any, files: tuple[Path, Path], impl: str) -> None:
    coco_cls, eval_cls = classes(impl)

    def run() -> Any:
        return evaluate(eval_cls, *load(coco_cls, *files), summarize=True)

    run()  # warm-up
    if impl == "pycocotools":
        benchmark.pedantic(run, rounds=1, iterations=1)
    else:
        benchmark(run)


@pytest.mark.benchmark(group="coco-cold-start")
@pytest.mark.parametrize("cache", ["warm-cache", "empty-cache"])
def test_cold_start(benchmark: Any, files: tuple[Path, Path], cache: str) -> None:
    """A fresh interpreter: import, load the kernels (from cache or by compiling), one evaluation."""
    script = (
        "import contextlib, io, sys\n"
        "from fastdet.coco import COCO, COCOeval\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    g = COCO(sys.argv[1]); e = COCOeval(g, g.loadRes(sys.argv[2]), 'bbox')\n"
        "    e.evaluate(); e.accumulate(); e.summarize()\n"
    )
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as empty:
        if cache == "empty-cache":
            env["NUMBA_CACHE_DIR"] = empty

        def run() -> None:
            subprocess.run([sys.executable, "-c", script, *map(str, files)], env=env, check=True)

        if cache == "warm-cache":
            run()
        benchmark.pedantic(run, rounds=1 if cache == "empty-cache" else 3, iterations=1)
