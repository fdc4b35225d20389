"""First-call cost of each public entry point on an empty Numba cache.

Usage::

    python bench/compile_times.py                   # every entry point, one fresh process each
    python bench/compile_times.py nms box_iou       # only these (names from --list)
    python bench/compile_times.py --list            # the entry points and the call each one makes
    python bench/compile_times.py --top 8           # show the 8 costliest compiled functions per entry
    python bench/compile_times.py --warm            # also the first call on the cache that run filled
    python bench/compile_times.py --json out.json   # also write every figure as JSON
    python bench/compile_times.py --tree ../main    # measure another checkout

Each entry point runs in a fresh interpreter with ``NUMBA_CACHE_DIR`` set to a new
empty directory, so it pays for everything it compiles, and nothing compiled by
another entry point is reused. The child times ``import fastdet`` and the first
call, and records Numba's ``numba:compile`` events (``numba.core.event``): the
``compile`` column is the time spent in top-level compilations (nested ones, the
kernels a kernel calls, are inside it), ``functions`` counts every function
compiled (kernels and Numba's own generic implementations), and the list names
the costliest ones by inclusive time. ``cpu`` is the CPU time of the first call
(a steadier figure than wall time on a shared machine). ``total`` is the wall time of the whole
child process (interpreter start, imports, first call), as a user measures
``time python -c "import fastdet; fastdet.nms(...)"``.

Use it before and after a change to a kernel family: run the entries of that
family (``python bench/compile_times.py coco_eval``) and compare. Figures on a
loaded machine vary by 10-20 %; the function list does not.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

# name -> statement run after ``import numpy as np, fastdet`` (tiny inputs: compile time only)
_B = "[[0.0, 0.0, 10.0, 10.0], [1.0, 1.0, 11.0, 11.0], [20.0, 20.0, 30.0, 30.0]]"
_S = "[0.9, 0.8, 0.7]"
_COCO = "data/coco-val2014-fake100"
# the pycocotools mask API on two polygons (``mask[threads]``: every batch kernel on threads)
_MASK = (
    "import fastdet.mask as fm\n"
    "p = [[1.0, 1.0, 9.0, 2.0, 8.0, 9.0, 2.0, 7.0], [3.0, 3.0, 12.0, 4.0, 6.0, 11.0]]\n"
    "r = fm.frPyObjects(p, 16, 16)\n"
    "fm.area(r), fm.toBbox(r), fm.merge(r), fm.iou(r, r, [0, 1])\n"
    "fm.iou([[0, 0, 2, 2]], [[1, 1, 2, 2], [0, 0, 4, 4]], [0, 1])\n"
    "fm.encode(fm.decode(r))"
)
ENTRIES: dict[str, str] = {
    "nms": f"fastdet.nms({_B}, {_S}, 0.5)",
    "nms[f32]": f"fastdet.nms(np.array({_B}, np.float32), np.array({_S}, np.float32), 0.5)",
    "batched_nms": f"fastdet.batched_nms({_B}, {_S}, [0, 0, 1], 0.5)",
    "soft_nms": f"fastdet.soft_nms({_B}, {_S})",
    "multiclass_nms": f"fastdet.multiclass_nms({_B}, [[0.9, 0.1], [0.8, 0.2], [0.7, 0.3]])",
    "postprocess_detections": (
        "fastdet.postprocess_detections([[[5, 5, 10, 10, 0.1, 0.9], [6, 5, 10, 10, 0.8, 0.2]]])"
    ),
    "box_iou": f"fastdet.box_iou({_B}, {_B})",
    "box_iou[f32]": f"fastdet.box_iou(np.array({_B}, np.float32), np.array({_B}, np.float32))",
    "generalized_box_iou": f"fastdet.generalized_box_iou({_B}, {_B})",
    "complete_box_iou": f"fastdet.complete_box_iou({_B}, {_B})",
    "box_area": f"fastdet.box_area({_B})",
    "box_convert": f"fastdet.box_convert({_B}, 'xyxy', 'cxcywh')",
    "clip_boxes_to_image": f"fastdet.clip_boxes_to_image({_B}, (15, 15))",
    "remove_small_boxes": f"fastdet.remove_small_boxes({_B}, 1.0)",
    "voc_ap": "fastdet.voc_ap([0.1, 0.5, 0.9], [1.0, 0.8, 0.6])",
    "voc.evaluate": (
        "fastdet.voc.evaluate([{'image_id': 1, 'label': 0, 'bbox': [0, 0, 10, 10]}],"
        " [{'image_id': 1, 'label': 0, 'bbox': [0, 0, 9, 10], 'score': 0.9}])"
    ),
    "confusion_matrix": "fastdet.confusion_matrix([0, 1, 2, 1], [0, 2, 2, 1])",
    "accuracy": "fastdet.accuracy([0, 1, 2, 1], [0, 2, 2, 1])",
    "precision_recall_f1": "fastdet.precision_recall_f1([0, 1, 2, 1], [0, 2, 2, 1], average='macro')",
    "roc_curve": "fastdet.roc_curve([0, 1, 1, 0], [0.1, 0.8, 0.4, 0.3])",
    "roc_auc": "fastdet.roc_auc([0, 1, 1, 0], [0.1, 0.8, 0.4, 0.3])",
    "precision_recall_curve": "fastdet.precision_recall_curve([0, 1, 1, 0], [0.1, 0.8, 0.4, 0.3])",
    "average_precision": "fastdet.average_precision([0, 1, 1, 0], [0.1, 0.8, 0.4, 0.3])",
    "l1_loss": "fastdet.l1_loss([1.0, 2.0], [1.5, 2.0])",
    "mse_loss": "fastdet.mse_loss([1.0, 2.0], [1.5, 2.0])",
    "smooth_l1_loss": "fastdet.smooth_l1_loss([1.0, 2.0], [1.5, 2.0])",
    "sigmoid_focal_loss": "fastdet.sigmoid_focal_loss([0.3, -1.0], [1.0, 0.0])",
    "conv2d": "fastdet.conv2d(np.ones((1, 2, 5, 5)), np.ones((3, 2, 3, 3)))",
    "max_pool2d": "fastdet.max_pool2d(np.ones((1, 2, 5, 5)), 2)",
    "avg_pool2d": "fastdet.avg_pool2d(np.ones((1, 2, 5, 5)), 2)",
    "summary": "fastdet.summary('resnet18', (3, 224, 224))",
    "mask": _MASK,
    "mask[threads]": f"import fastdet._rle; fastdet._rle.PARALLEL_WORK = 0\n{_MASK}",
    "evaluate_coco[segm]": (
        f"g = fastdet.COCO('{_COCO}/instances_val2014_100.json', verbose=False); "
        "fastdet.evaluate_coco(g, g.loadRes('data/coco-val2014-fakesegm100/"
        "instances_val2014_fakesegm100_results.json'), iou_type='segm')"
    ),
    "coco_load": f"fastdet.COCO('{_COCO}/instances_val2014_100.json', verbose=False)",
    "evaluate_coco": (
        f"g = fastdet.COCO('{_COCO}/instances_val2014_100.json', verbose=False); "
        f"fastdet.evaluate_coco(g, g.loadRes('{_COCO}/instances_val2014_fakebbox100_results.json'))"
    ),
    "cli eval": (
        "import contextlib, io; from fastdet.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    main(['eval', '{_COCO}/instances_val2014_100.json',"
        f" '{_COCO}/instances_val2014_fakebbox100_results.json'])"
    ),
}
# Entries that take long on an empty cache (run only when named or with --all).
SLOW = {
    "demo": (
        "import contextlib, io, tempfile, pathlib; from fastdet.demo import run_demo\n"
        "with contextlib.redirect_stdout(io.StringIO()), tempfile.TemporaryDirectory() as d:\n"
        "    run_demo(pathlib.Path(d))"
    ),
}

_CHILD = r"""
import sys, time, json
t0 = time.perf_counter()
import numpy as np
import fastdet
t1 = time.perf_counter()
c1 = time.process_time()
from numba.core import event
events = []
class L(event.Listener):
    def on_start(self, ev):
        events.append((time.perf_counter(), True, ev.data["dispatcher"]))
    def on_end(self, ev):
        events.append((time.perf_counter(), False, ev.data["dispatcher"]))
with event.install_listener("numba:compile", L()):
    exec(compile(sys.argv[1], "<entry>", "exec"))
t2 = time.perf_counter()
c2 = time.process_time()
stack, top, incl, n = [], 0.0, {}, 0
for ts, start, d in events:
    if start:
        stack.append(ts)
        n += 1
        continue
    began = stack.pop()
    name = getattr(d, "py_func", d).__module__ + "." + getattr(d, "py_func", d).__qualname__
    incl[name] = incl.get(name, 0.0) + ts - began
    if not stack:
        top += ts - began
print(json.dumps({"import_s": t1 - t0, "call_s": t2 - t1, "call_cpu_s": c2 - c1, "compile_s": top,
                  "functions": n, "by_function": sorted(incl.items(), key=lambda kv: -kv[1])}))
"""


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_entry(name: str, code: str, *, warm: bool, root: str = ROOT) -> dict[str, object]:
    """Run one entry point in fresh interpreters on an empty cache (and, if asked, on the filled one).

    ``root``: the checkout whose fastdet is imported (the children run there).
    """
    with tempfile.TemporaryDirectory(prefix="fastdet-compile-") as cache:
        env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_")}
        env.update(NUMBA_CACHE_DIR=cache, PYTHONPATH=root)
        out: dict[str, object] = {"entry": name}
        for phase in ("cold", "warm") if warm else ("cold",):
            start = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, "-c", _CHILD, code], cwd=root, env=env, capture_output=True, text=True
            )
            total = time.perf_counter() - start
            if proc.returncode != 0:
                tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
                raise SystemExit(f"{name}: the child failed: {tail}")
            figures = json.loads(proc.stdout.strip().splitlines()[-1])
            figures["total_s"] = total
            out[phase] = figures
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("entries", nargs="*", help="entry points to measure (default: all but the slow ones)")
    parser.add_argument("--list", action="store_true", help="list the entry points and exit")
    parser.add_argument("--all", action="store_true", help="also the slow entries: " + ", ".join(SLOW))
    parser.add_argument("--warm", action="store_true", help="also time the first call on a filled cache")
    parser.add_argument("--top", type=int, default=3, help="costliest compiled functions to name (default 3)")
    parser.add_argument("--json", metavar="FILE", help="write every figure to FILE")
    parser.add_argument("--tree", default=ROOT, help="the checkout to measure (default: this one)")
    args = parser.parse_args(argv)
    every = {**ENTRIES, **SLOW}
    if args.list:
        for name, code in every.items():
            print(f"{name:<24} {code}")
        return 0
    names = args.entries or [*ENTRIES, *(SLOW if args.all else ())]
    unknown = [n for n in names if n not in every]
    if unknown:
        parser.error(f"unknown entry points {unknown}; see --list")

    import numba
    import numpy

    print(f"python {sys.version.split()[0]}, numpy {numpy.__version__}, numba {numba.__version__}, ", end="")
    print(f"{os.cpu_count()} CPUs; empty NUMBA_CACHE_DIR per entry; seconds")
    head = f"{'entry':<24} {'import':>6} {'1st call':>8} {'cpu':>5} {'compile':>7} {'funcs':>5} {'total':>6}"
    print(head + ("  warm:total" if args.warm else "") + "  costliest compiled functions (inclusive s)")
    rows = []
    for name in names:
        row = run_entry(name, every[name], warm=args.warm, root=args.tree)
        rows.append(row)
        c = row["cold"]
        assert isinstance(c, dict)
        line = (
            f"{name:<24} {c['import_s']:6.2f} {c['call_s']:8.2f} {c['call_cpu_s']:5.2f} "
            f"{c['compile_s']:7.2f} {c['functions']:5d} {c['total_s']:6.2f}"
        )
        if args.warm:
            w = row["warm"]
            assert isinstance(w, dict)
            line += f"  {w['total_s']:10.2f}"
        costly = ", ".join(f"{f.split('.')[-1]} {s:.2f}" for f, s in c["by_function"][: args.top])
        print(f"{line}  {costly}", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
