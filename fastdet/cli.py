"""The ``fastdet`` command line: demo, eval, nms, fuse, arch, bench.

Every user error (missing file, invalid JSON, wrong shape, bad option) prints
one line on stderr and exits with status 2; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import threading
import time
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn

EXAMPLES = {
    "fastdet": """examples:
  fastdet demo                          run the whole pipeline on the bundled data
  fastdet eval gt.json dets.json        COCO summary as pycocotools prints it (--iou-type segm, keypoints)
  fastdet nms dets.json -o kept.json    per-image, per-class NMS of a COCO results file
  fastdet fuse a.json b.json -o f.json  weighted boxes fusion of several models' results
  fastdet arch resnet50                 per-layer shapes, parameters, MACs, receptive fields
  fastdet bench --quick                 fastdet beside the installed peer libraries
  fastdet warmup                        compile every kernel into the cache (Docker images, CI)""",
    "demo": """examples:
  fastdet demo
  fastdet demo --out /tmp/fastdet-demo""",
    "eval": """examples:
  fastdet eval data/coco-val2014-fake100/instances_val2014_100.json \\
               data/coco-val2014-fake100/instances_val2014_fakebbox100_results.json
  fastdet eval gt.json masks.json --iou-type segm
  fastdet eval gt.json dt.json --per-class --plot pr.png
  fastdet eval gt.json dt.json --tide --tide-plot tide.png
  fastdet eval gt.json dt.json --json > stats.json
  fastdet eval gt.json dt.json --iou-thrs 0.5,0.75 --max-dets 1,10,300 --no-cats
  fastdet eval --lvis data/lvis-val-100/lvis_val_100.json data/lvis-val-100/lvis_dets_derived.json""",
    "nms": """examples:
  fastdet nms dets.json -o kept.json
  fastdet nms dets.json -o kept.json --method soft-gaussian --sigma 0.5 --score-threshold 0.001
  fastdet nms dets.json -o kept.json --agnostic --iou 0.6 --max-dets 100 --force""",
    "fuse": """examples:
  fastdet fuse a.json b.json c.json -o fused.json
  fastdet fuse a.json b.json c.json --weights 2 1 1 -o fused.json --iou-thr 0.6 --skip-box-thr 0.01
  fastdet fuse a.json b.json --gt instances_val.json -o fused.json      normalise and clip by image size
  fastdet fuse a.json b.json --method nmw -o fused.json                 non-maximum weighted
  fastdet fuse a.json b.json --method soft_nms --soft-method linear -o fused.json""",
    "arch": """examples:
  fastdet arch vgg16
  fastdet arch resnet18 --input 3x320x320
  fastdet arch --conv 64,128,3 --input 64x224x224 --padding 1 --count
  fastdet arch --example""",
    "warmup": """examples:
  fastdet warmup                                      fill Numba's cache (default location)
  NUMBA_CACHE_DIR=/opt/numba-cache fastdet warmup     e.g. in a Dockerfile RUN step
  fastdet warmup --tasks coco,boxes --processes 2""",
    "bench": """examples:
  fastdet bench --quick
  fastdet bench --json > bench.json""",
}


class UsageError(Exception):
    """A problem with what the user asked for: reported in one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error instead of usage + error."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message} (see --help)")


@contextlib.contextmanager
def progress(label: str, *, enabled: bool = True) -> Iterator[None]:
    """Report ``label`` on stderr if the work inside takes more than a second.

    On a terminal a counter ticks on one line; otherwise (a log file, a pipe)
    nothing is written while the work runs and one line when it ends.
    """
    if not enabled:
        yield
        return
    start = time.perf_counter()
    if not _stderr_is_terminal():
        yield
        took = time.perf_counter() - start
        if took > 1.0:
            sys.stderr.write(f"{label} ... done in {took:.1f} s\n")
            sys.stderr.flush()
        return
    shown = threading.Event()
    stop = threading.Event()

    def ticker() -> None:
        if stop.wait(1.0):
            return
        shown.set()
        while not stop.is_set():
            sys.stderr.write(f"\r{label} ... {time.perf_counter() - start:5.1f} s")
            sys.stderr.flush()
            stop.wait(0.2)

    thread = threading.Thread(target=ticker, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        if shown.is_set():
            sys.stderr.write(f"\r{label} ... done in {time.perf_counter() - start:.1f} s\n")
            sys.stderr.flush()


def _stderr_is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # replaced or closed stderr
        return False


# ---------------------------------------------------------------- parsing helpers


def _floats(text: str, what: str) -> list[float]:
    """Parse ``a,b,c`` or ``start:stop:step`` (inclusive stop) into floats."""
    try:
        if ":" in text:
            start, stop, step = (float(x) for x in text.split(":"))
            if step <= 0:
                raise ValueError
            n = round((stop - start) / step) + 1
            return [round(start + i * step, 10) for i in range(n)]
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise UsageError(f"{what}: expected numbers like 0.5,0.75 or 0.5:0.95:0.05, got {text!r}") from None


def _ints(text: str, what: str) -> list[int]:
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise UsageError(f"{what}: expected integers like 1,10,100, got {text!r}") from None


def _area_ranges(text: str) -> dict[str, tuple[float, float]]:
    out: dict[str, tuple[float, float]] = {}
    for item in text.split(","):
        try:
            label, bounds = item.split("=")
            lo, hi = (float(x) for x in bounds.split(":"))
        except ValueError:
            raise UsageError(
                f"--area-rng: expected label=lo:hi[,label=lo:hi...] such as all=0:1e10,small=0:1024, "
                f"got {item!r}"
            ) from None
        out[label.strip()] = (lo, hi)
    if "all" not in out:
        raise UsageError("--area-rng must include an 'all' range, e.g. all=0:1e10")
    return out


def _shape(text: str) -> tuple[int, int, int]:
    try:
        c, h, w = (int(x) for x in text.lower().split("x"))
    except ValueError:
        raise UsageError(f"--input: expected CxHxW such as 3x224x224, got {text!r}") from None
    return c, h, w


# ---------------------------------------------------------------- eval


STAT_NAMES = ("AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl")


def cmd_eval(args: argparse.Namespace) -> int:
    """``fastdet eval GT.json DT.json``."""
    from fastdet._ahead import CompileAhead

    # on a first run, a second process compiles the accumulation while this one loads and matches
    with CompileAhead(["coco accumulate"]):
        return _eval(args)


def _eval(args: argparse.Namespace) -> int:
    import numpy as np

    from fastdet.coco import COCO, COCOeval, evaluate_coco

    show = not args.json or sys.stderr.isatty()
    if args.lvis:
        return _eval_lvis(args, show)
    iou_type = args.iou_type
    if iou_type not in ("bbox", "segm") and (args.tide or args.tide_plot):
        raise UsageError("--tide and --tide-plot work on boxes and masks only (--iou-type bbox or segm)")
    if args.plot:
        _check_plot_path(args.plot, "--plot")
    if args.tide_plot:
        _check_plot_path(args.tide_plot, "--tide-plot")
    with progress("loading ground truth", enabled=show):
        gt = COCO(args.gt, verbose=False)
    with progress("loading detections", enabled=show):
        dt = gt.loadRes(args.dt)
    options: dict[str, Any] = {"use_cats": not args.no_cats, "iou_type": iou_type}
    if args.iou_thrs:
        options["iou_thresholds"] = _floats(args.iou_thrs, "--iou-thrs")
    if args.max_dets:
        options["max_detections"] = sorted(_ints(args.max_dets, "--max-dets"))
    if args.area_rng:
        options["area_ranges"] = _area_ranges(args.area_rng)
    want_tide = args.tide or bool(args.tide_plot)
    if args.json:
        with progress("evaluating", enabled=show):
            result = evaluate_coco(gt, dt, **options)
        per_class = {str(k): v for k, v in result.per_class_ap.items()}
        payload: dict[str, Any] = {"stats": result.stats, "per_class": per_class}
        written = []  # the plots asked for are drawn as without --json; stdout holds only the JSON
        if args.plot:
            from fastdet.plot import plot_pr_curves

            written.append(f"PR curves written to {plot_pr_curves(result, args.plot)}")
        if want_tide:
            report = _tide(gt, args, show)
            payload["tide"] = report.to_dict()
            if args.tide_plot:
                written.append(f"TIDE plot written to {report.plot(args.tide_plot)}")
        print(json.dumps(payload, indent=2))
        for line in written:
            print(line, file=sys.stderr)
        return 0
    n_iou = len(options.get("iou_thresholds", range(10)))
    n_dets = len(options.get("max_detections", range(3)))
    pycocotools_text = n_iou == 10 and n_dets >= 3 and "area_ranges" not in options
    if iou_type == "keypoints":  # its summary reads maxDets=20 and the all / medium / large ranges
        wanted = options.get("max_detections", [20])
        pycocotools_text = n_iou == 10 and 20 in wanted and "area_ranges" not in options
    if pycocotools_text:  # its summary assumes the default parameter layout
        ev = COCOeval(gt, dt, iou_type)
        ev.params.useCats = int(options["use_cats"])
        if "iou_thresholds" in options:
            ev.params.iouThrs = np.asarray(options["iou_thresholds"], dtype=np.float64)
        if "max_detections" in options:
            ev.params.maxDets = options["max_detections"]
        with progress("evaluating", enabled=show), contextlib.redirect_stdout(sys.stderr):
            ev.evaluate()
            ev.accumulate()
        ev.summarize()
    if not pycocotools_text or args.per_class or args.plot:
        with progress("evaluating", enabled=show):
            result = evaluate_coco(gt, dt, **options)
        if not pycocotools_text:  # the named stats, each computed with the limits asked for
            for key, value in result.stats.items():
                print(f" {key:<12} = {value:.3f}")
        if args.per_class:
            print()
            print(_per_class_table(gt, result.per_class_ap))
        if args.plot:
            from fastdet.plot import plot_pr_curves

            path = plot_pr_curves(result, args.plot)
            print(f"\nPR curves written to {path}")
    if want_tide:
        report = _tide(gt, args, show)
        print()
        print(report.summary())
        if args.tide_plot:
            print(f"TIDE plot written to {report.plot(args.tide_plot)}")
    return 0


def _eval_lvis(args: argparse.Namespace, show: bool) -> int:
    """``fastdet eval --lvis GT.json DT.json``: LVIS's federated evaluation, printed as lvis-api prints it."""
    from fastdet.lvis import LVIS, LVISResults, evaluate_lvis

    if args.tide or args.tide_plot or args.plot:
        raise UsageError("--lvis: --tide, --tide-plot and --plot are for COCO evaluation only")
    options: dict[str, Any] = {"use_cats": not args.no_cats, "iou_type": getattr(args, "iou_type", "bbox")}
    if args.iou_thrs:
        options["iou_thresholds"] = _floats(args.iou_thrs, "--iou-thrs")
    if args.area_rng:
        options["area_ranges"] = _area_ranges(args.area_rng)
    cap = _ints(args.max_dets, "--max-dets") if args.max_dets else [300]
    if len(cap) != 1:
        raise UsageError(f"--max-dets with --lvis: one per-image cap such as 300, got {args.max_dets!r}")
    with progress("loading ground truth", enabled=show):
        gt = LVIS(args.gt)
    with progress("loading detections", enabled=show):
        dt = LVISResults(gt, args.dt, max_dets=cap[0])
    with progress("evaluating", enabled=show):
        result = evaluate_lvis(gt, dt, **options)
    if args.json:
        per_class = {str(k): v for k, v in result.per_class_ap.items()}
        print(json.dumps({"stats": result.stats, "per_class": per_class}, indent=2))
        return 0
    print(result.summary())
    if args.per_class:
        print()
        print(_per_class_table(gt, result.per_class_ap))
    return 0


def _check_plot_path(path: str, option: str) -> None:
    """Fail before any work when a plot cannot be written: no matplotlib, or a file where a folder must be."""
    import importlib.util

    if importlib.util.find_spec("matplotlib") is None:
        raise UsageError(f'{option}: plots need matplotlib: pip install "fastdet[plot]"')
    for parent in Path(path).resolve().parents:
        if parent.exists():
            if not parent.is_dir():
                raise UsageError(f"{option}: {str(parent)!r} is a file, not a folder")
            break


def _tide(gt: Any, args: argparse.Namespace, show: bool) -> Any:
    """TIDE's error breakdown of the detections file (tidecv's defaults: IoU 0.5, background 0.1)."""
    from fastdet.analysis import tide

    with progress("TIDE error analysis", enabled=show):
        return tide(gt, args.dt, iou_type=args.iou_type)


def _per_class_table(gt: Any, per_class_ap: dict[int, float]) -> str:
    cats = gt.load_cats(None) if hasattr(gt, "load_cats") else gt.loadCats(gt.getCatIds())  # LVIS or COCO
    names = {c["id"]: c.get("name", str(c["id"])) for c in cats}
    rows = sorted(per_class_ap.items(), key=lambda kv: -kv[1])
    width = max([len("category"), *(len(str(names.get(k, k))) for k, _ in rows)])
    lines = [f"{'category':<{width}}  {'id':>4}  {'AP':>6}", f"{'-' * width}  {'-' * 4}  {'-' * 6}"]
    for cat, ap in rows:
        shown = f"{ap:6.3f}" if ap >= 0 else "   n/a"
        lines.append(f"{names.get(cat, cat)!s:<{width}}  {cat:>4}  {shown}")
    return "\n".join(lines)


# ---------------------------------------------------------------- nms


def cmd_nms(args: argparse.Namespace) -> int:
    """``fastdet nms DETS.json -o OUT.json``."""
    from fastdet._io import read_json, write_atomic
    from fastdet.nms import nms_coco_results

    src = Path(args.dets)
    to_stdout = args.output == "-"
    dst = Path(args.output)
    if not to_stdout and dst.exists():
        if src.exists() and os.path.samefile(src, dst):
            raise UsageError("the output file is the input file; fastdet never overwrites its input")
        if dst.is_file() and not args.force:
            raise UsageError(f"{str(dst)!r} exists; pass --force to overwrite it")
    with progress("reading detections"):
        data = read_json(src)
    with progress("suppressing"):
        kept = nms_coco_results(
            data,
            method=args.method,
            iou_threshold=args.iou,
            sigma=args.sigma,
            score_threshold=args.score_threshold,
            max_detections=args.max_dets,
            class_agnostic=args.agnostic,
        )
    if to_stdout:
        sys.stdout.write(json.dumps(kept) + "\n")
        sys.stdout.flush()
        print(f"kept {len(kept)} of {len(data)} detections", file=sys.stderr)
        return 0
    write_atomic(dst, json.dumps(kept))
    print(f"kept {len(kept)} of {len(data)} detections -> {dst}")
    return 0


# ---------------------------------------------------------------- fuse


def cmd_fuse(args: argparse.Namespace) -> int:
    """``fastdet fuse A.json B.json ... -o OUT.json``."""
    from fastdet._io import read_json, write_atomic
    from fastdet.fusion import fuse_coco_results

    dst = Path(args.output)
    sources = [Path(x) for x in args.dets]
    for src in sources:
        if dst.exists() and src.exists() and os.path.samefile(src, dst):
            raise UsageError(
                f"the output file is the input file {str(src)!r}; fastdet never overwrites its input"
            )
    if dst.exists() and not args.force:
        raise UsageError(f"{str(dst)!r} exists; pass --force to overwrite it")
    if args.weights is not None and len(args.weights) != len(sources):
        raise UsageError(f"--weights: got {len(args.weights)} weights for {len(sources)} result files")
    results = []
    with progress("reading detections"):
        for src in sources:
            data = read_json(src)
            if not isinstance(data, list):
                raise ValueError(f"{src}: expected a COCO results list (a JSON array of dicts)")
            results.append(data)
    sizes = _image_sizes(Path(args.gt)) if args.gt else None
    soft_method: Any = int(args.soft_method) if args.soft_method.isdigit() else args.soft_method
    with progress("fusing"), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fused = fuse_coco_results(
            results,
            method=args.method,
            weights=args.weights,
            image_sizes=sizes,
            iou_thr=args.iou_thr,
            skip_box_thr=args.skip_box_thr,
            conf_type=args.conf_type,
            allows_overflow=args.allows_overflow,
            soft_method=soft_method,
            sigma=args.sigma,
            thresh=args.thresh,
        )
    for warning in caught:  # one line each, without the source line Python would show
        print(f"fastdet: warning: {warning.message}", file=sys.stderr)
    write_atomic(dst, json.dumps(fused))
    counts = ", ".join(str(len(r)) for r in results)
    print(f"fused {len(sources)} result files ({counts} detections) into {len(fused)} detections -> {dst}")
    return 0


def _image_sizes(gt: Path) -> dict[Any, tuple[float, float]]:
    """``image_id -> (height, width)`` from the ``images`` of a COCO annotation file."""
    from fastdet._io import read_json

    data = read_json(gt)
    images = data.get("images") if isinstance(data, dict) else None
    if not isinstance(images, list):
        raise ValueError(f"{gt}: expected a COCO annotation file with an 'images' list")
    sizes = {}
    for i, image in enumerate(images):
        try:
            sizes[image["id"]] = (image["height"], image["width"])
        except (KeyError, TypeError):
            raise ValueError(f"{gt}: images[{i}] needs 'id', 'height' and 'width'") from None
    return sizes


# ---------------------------------------------------------------- arch


def cmd_arch(args: argparse.Namespace) -> int:
    """``fastdet arch NAME`` or ``fastdet arch --conv C_IN,C_OUT,K``."""
    from fastdet import arch

    if args.example:
        print(worked_example())
        return 0
    if args.conv:
        parts = _ints(args.conv, "--conv")
        if len(parts) != 3:
            raise UsageError(f"--conv: expected C_IN,C_OUT,KERNEL such as 64,128,3, got {args.conv!r}")
        c_in, c_out, k = parts
        shape = _shape(args.input) if args.input else (c_in, 224, 224)
        if shape[0] != c_in:
            raise UsageError(f"--input has {shape[0]} channels but --conv says C_IN={c_in}")
        report = arch.conv2d_report(
            c_in,
            c_out,
            k,
            input_size=shape[1:],
            stride=args.stride,
            padding=args.padding,
            dilation=args.dilation,
            groups=args.groups,
            bias=not args.no_bias,
            count=args.count,
        )
        print(arch.format_conv_report(report))
        return 0
    if not args.name:
        raise UsageError("arch: give a network name (alexnet, vgg16, resnet18, resnet50) or --conv")
    shape = _shape(args.input) if args.input else (3, 224, 224)
    print(arch.format_summary(arch.summary(args.name, shape), max_depth=args.depth))
    return 0


def worked_example() -> str:
    """The 3x3, 64 -> 128 convolution on 224x224 that people check by hand, with and without padding."""
    from fastdet import arch

    lines = [
        "A 3x3 convolution from 64 to 128 channels on a 224x224 input.",
        "A common text says 'no padding' and then uses a 224x224 output; only padding 1 gives that:",
        "",
    ]
    for padding in (0, 1):
        lines.append(f"--- padding {padding} ---")
        lines.append(arch.format_conv_report(arch.conv2d_report(64, 128, 3, 224, padding=padding)))
        lines.append("")
    lines.append(
        "Parameters: (3*3*64 + 1) * 128 = 73,856."
        " The 73,792 sometimes quoted adds 64 biases (one per input channel) instead of 128."
    )
    return "\n".join(lines)


# ---------------------------------------------------------------- bench, demo


def cmd_bench(args: argparse.Namespace) -> int:
    """``fastdet bench``: fastdet beside the installed peers."""
    from fastdet.bench import run_benchmarks

    return run_benchmarks(quick=args.quick, as_json=args.json)


def cmd_demo(args: argparse.Namespace) -> int:
    """``fastdet demo``: the whole pipeline on the bundled data."""
    from fastdet.demo import run_demo

    return run_demo(Path(args.out), data_dir=Path(args.data) if args.data else None)


def cmd_warmup(args: argparse.Namespace) -> int:
    """``fastdet warmup``: compile every kernel into Numba's cache, on all cores."""
    from fastdet._kernels import cache_location
    from fastdet._warmup import TASKS, warmup

    tasks = [t.strip() for t in args.tasks.split(",") if t.strip()] if args.tasks else None
    unknown = [t for t in tasks or [] if t not in TASKS]
    if unknown:
        raise UsageError(f"--tasks: unknown {unknown}; choose from {', '.join(TASKS)}")
    if args.processes is not None and args.processes < 1:
        raise UsageError(f"--processes must be >= 1, got {args.processes}")
    report = warmup(tasks, processes=args.processes, progress=True)
    where = cache_location() or "none (no writable location: set NUMBA_CACHE_DIR)"
    print(
        f"fastdet warmup: {len(report['tasks'])} tasks in {report['seconds']:.1f} s, "
        f"{report['compiled']} functions compiled, {report['loaded']} already cached; cache: {where}"
    )
    return 0


# ---------------------------------------------------------------- main


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``fastdet`` command."""
    fmt = argparse.RawDescriptionHelpFormatter
    parser = _Parser(
        prog="fastdet",
        description="Numba-fast, peer-exact post-processing and evaluation for object detectors.",
        epilog=EXAMPLES["fastdet"],
        formatter_class=fmt,
    )
    from fastdet import __version__

    parser.add_argument("--version", action="version", version=f"fastdet {__version__}")
    parser.add_argument("--debug", action="store_true", help="show a traceback on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser(
        "demo", help="run the pipeline on the bundled data", epilog=EXAMPLES["demo"], formatter_class=fmt
    )
    p.add_argument("--out", default="fastdet-demo", help="output folder (default ./fastdet-demo)")
    p.add_argument(
        "--data", help="a folder laid out like the repository's data/ (default: the package's sample data)"
    )
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser(
        "eval", help="COCO bbox / segm / keypoints evaluation", epilog=EXAMPLES["eval"], formatter_class=fmt
    )
    p.add_argument("gt", help="ground-truth COCO json")
    p.add_argument("dt", help="detections: a COCO results json (list of dicts)")
    p.add_argument("--per-class", action="store_true", help="add a per-class AP table")
    p.add_argument("--plot", metavar="FILE.png", help="draw precision/recall curves")
    p.add_argument("--json", action="store_true", help="print only the stats as JSON")
    p.add_argument("--iou-thrs", help="IoU thresholds: 0.5,0.75 or 0.5:0.95:0.05")
    p.add_argument("--max-dets", help="detection limits, e.g. 1,10,100")
    p.add_argument("--area-rng", help="area ranges, e.g. all=0:1e10,small=0:1024")
    p.add_argument("--no-cats", action="store_true", help="pool categories (useCats=0)")
    p.add_argument(
        "--iou-type",
        choices=("bbox", "segm", "keypoints"),
        default="bbox",
        help="what is matched: boxes, masks or keypoints (default bbox)",
    )
    p.add_argument("--tide", action="store_true", help="add TIDE's error breakdown (tidecv's numbers)")
    p.add_argument("--tide-plot", metavar="FILE.png", help="draw TIDE's summary figure (implies --tide)")
    p.add_argument(
        "--lvis", action="store_true", help="LVIS federated evaluation (--max-dets: the per-image cap)"
    )
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser(
        "nms", help="NMS over a COCO results file", epilog=EXAMPLES["nms"], formatter_class=fmt
    )
    p.add_argument("dets", help="COCO results json")
    p.add_argument("-o", "--output", required=True, help="output COCO results json ('-': standard output)")
    p.add_argument("--method", choices=["nms", "soft-gaussian", "soft-linear"], default="nms")
    p.add_argument("--iou", type=float, default=0.5, help="IoU threshold (default 0.5)")
    p.add_argument("--sigma", type=float, default=0.5, help="soft-gaussian sigma (default 0.5)")
    p.add_argument("--score-threshold", type=float, default=0.001, help="drop scores below (default 0.001)")
    p.add_argument("--max-dets", type=int, default=100, help="keep at most this many per image (default 100)")
    p.add_argument("--agnostic", action="store_true", help="suppress across categories")
    p.add_argument("--force", action="store_true", help="overwrite an existing output file")
    p.set_defaults(func=cmd_nms)

    p = sub.add_parser(
        "fuse",
        help="fuse several models' COCO results (WBF and kin)",
        epilog=EXAMPLES["fuse"],
        formatter_class=fmt,
    )
    p.add_argument("dets", nargs="+", help="COCO results json files, one per model")
    p.add_argument("-o", "--output", required=True, help="output COCO results json")
    p.add_argument("--weights", type=float, nargs="+", help="one weight per results file (default 1 each)")
    p.add_argument("--method", choices=["wbf", "nmw", "nms", "soft_nms"], default="wbf")
    p.add_argument("--iou-thr", type=float, default=None, help="default 0.55 (wbf, nmw), 0.5 (nms, soft_nms)")
    p.add_argument("--skip-box-thr", type=float, default=0.0, help="wbf/nmw: drop scores below (default 0)")
    p.add_argument(
        "--conf-type", choices=["avg", "max", "box_and_model_avg", "absent_model_aware_avg"], default="avg"
    )
    p.add_argument("--allows-overflow", action="store_true", help="wbf avg: let scores exceed the average")
    p.add_argument("--soft-method", choices=["1", "2", "3", "linear", "gaussian", "hard"], default="gaussian")
    p.add_argument("--sigma", type=float, default=0.5, help="soft_nms gaussian sigma (default 0.5)")
    p.add_argument("--thresh", type=float, default=0.001, help="soft_nms: keep scores above (default 0.001)")
    p.add_argument("--gt", help="COCO annotations: normalise and clip boxes by image size, as ensemble-boxes")
    p.add_argument("--force", action="store_true", help="overwrite an existing output file")
    p.set_defaults(func=cmd_fuse)

    p = sub.add_parser(
        "arch", help="network / layer arithmetic", epilog=EXAMPLES["arch"], formatter_class=fmt
    )
    p.add_argument("name", nargs="?", help="alexnet, vgg16, resnet18 or resnet50")
    p.add_argument("--input", help="input shape CxHxW (default 3x224x224)")
    p.add_argument("--depth", type=int, default=None, help="show nested blocks down to this depth")
    p.add_argument("--conv", metavar="C_IN,C_OUT,K", help="one convolution layer instead of a network")
    p.add_argument("--stride", type=int, default=1)
    p.add_argument("--padding", type=int, default=0)
    p.add_argument("--dilation", type=int, default=1)
    p.add_argument("--groups", type=int, default=1)
    p.add_argument("--no-bias", action="store_true")
    p.add_argument("--count", action="store_true", help="also run the direct loop and check its count")
    p.add_argument("--example", action="store_true", help="the worked 3x3 64->128 conv example")
    p.set_defaults(func=cmd_arch)

    p = sub.add_parser(
        "warmup",
        help="compile every kernel into Numba's cache (for Docker images, CI caches)",
        epilog=EXAMPLES["warmup"],
        formatter_class=fmt,
    )
    p.add_argument("--processes", type=int, default=None, help="worker processes (default: all CPUs)")
    p.add_argument("--tasks", help="comma-separated subset: coco,nms float64,... (default: all)")
    p.set_defaults(func=cmd_warmup)

    p = sub.add_parser(
        "bench", help="fastdet beside installed peers", epilog=EXAMPLES["bench"], formatter_class=fmt
    )
    p.add_argument("--quick", action="store_true", help="small sizes, few repeats")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_bench)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``fastdet`` command; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if not getattr(args, "func", None):
            parser.print_help()
            return 2
        status = int(args.func(args))
        sys.stdout.flush()  # inside the try: a closed pipe is reported here, not at interpreter exit
        return status
    except UsageError as exc:
        if debug:
            raise
        print(f"fastdet: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `fastdet eval ... | head`: the reader left, so stop quietly, as Unix tools do
        _silence_stdout()
        return 128 + 13  # what a shell reports for a process ended by SIGPIPE
    except MemoryError as exc:
        if debug:
            raise
        detail = str(exc).splitlines()[0] if str(exc) else "the input is too large for this machine"
        print(f"fastdet: error: out of memory: {detail}", file=sys.stderr)
        return 2
    except (ValueError, TypeError, KeyError, OSError, NotImplementedError, ImportError) as exc:
        if debug:
            raise
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"fastdet: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("fastdet: interrupted", file=sys.stderr)
        return 130


def _silence_stdout() -> None:
    """Point file descriptor 1 at /dev/null so that Python's final flush of stdout cannot fail again."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
