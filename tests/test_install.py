"""``pip install .`` then ``fastdet demo`` from any folder: the sample data ship inside the package.

The package is built and installed (``pip install --no-deps --target``) from a copy of the
sources into a temporary folder, and the demo runs from another temporary folder with only that
installation on the path, so neither the checkout nor its ``data/`` folder can be found.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ("coco-val2014-fake100/instances_val2014_100.json",
           "coco-val2014-fake100/instances_val2014_fakebbox100_results.json",
           "nms-mmcv-batched/batched_nms_data.json")  # fmt: skip


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A regular (not editable) installation of this checkout in a temporary folder."""
    pytest.importorskip("setuptools")  # the build backend, without network access (dev extra)
    tmp = tmp_path_factory.mktemp("install")
    src, target = tmp / "src", tmp / "site"
    ignore = shutil.ignore_patterns("__pycache__", "*.nbi", "*.nbc")
    shutil.copytree(ROOT / "fastdet", src / "fastdet", ignore=ignore)  # build/ stays out of the checkout
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    cmd = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index",
           "--disable-pip-version-check", "--quiet", "--target", str(target), str(src)]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    _reuse_compiled_kernels(target)
    return target


def _reuse_compiled_kernels(target: Path) -> None:
    """Let the installed copy load the checkout's cached Numba kernels (if any) instead of compiling.

    Numba keeps its cache next to the source (``__pycache__``) and accepts it when the
    source file has the same size and modification time; the sources are identical, so
    copying the cache and the times changes only how long the first call takes (a cold
    compile of everything the demo uses costs about a minute of CPU).
    """
    here, there = ROOT / "fastdet" / "_kernels", target / "fastdet" / "_kernels"
    cache = here / "__pycache__"
    if cache.is_dir():
        shutil.copytree(cache, there / "__pycache__", dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("*.pyc"))  # fmt: skip
    for source in here.glob("*.py"):
        st = source.stat()
        os.utime(there / source.name, ns=(st.st_atime_ns, st.st_mtime_ns))


def _run(installed: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    drop = ("NUMBA_CACHE_DIR", "NUMBA_DISABLE_JIT", "PYTHONPATH")  # the installed copy as a user runs it
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env["PYTHONPATH"] = str(installed)  # before site-packages (and any editable install's finder)
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=900, check=False)  # fmt: skip


def test_the_installation_holds_the_sample_data(installed: Path, tmp_path: Path) -> None:
    code = (
        "import fastdet, fastdet.demo as d\n"
        "with d.sample_files() as paths:\n"
        "    print(fastdet.__file__)\n"
        "    for p in paths: print(p)\n"
    )
    proc = _run(installed, tmp_path, "-c", code)
    assert proc.returncode == 0, proc.stderr
    module, *paths = proc.stdout.splitlines()
    assert Path(module).is_relative_to(installed)  # the installed copy, not the checkout
    assert len(paths) == len(SAMPLES)
    for path, name in zip(paths, SAMPLES, strict=True):
        assert Path(path).is_relative_to(installed), path
        # the very bytes the tests read from data/ (where they are links to fastdet/sample_data)
        assert Path(path).read_bytes() == (ROOT / "data" / name).read_bytes(), name
    assert (installed / "fastdet" / "py.typed").is_file()


def test_fastdet_demo_runs_from_an_installation(installed: Path, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    proc = _run(installed, cwd, "-m", "fastdet.cli", "demo", "--out", "out")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "data from the sample data shipped with fastdet" in proc.stdout
    for name in ("pr_curves.png", "nms_sweep.png", "results.json"):
        assert (cwd / "out" / name).is_file(), name
    import json

    report = json.loads((cwd / "out" / "results.json").read_text())
    assert report["nms"]["matches_mmcv_keep"] is True  # mmcv's published 554 kept indices
    # cocoapi's published bbox AP for these 100 images (data/coco-val2014-fake100/PROVENANCE.md)
    assert report["coco"]["stats"]["AP"] == 0.5045806987249628
