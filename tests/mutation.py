"""Mutation check: plant plausible bugs in fastdet, one at a time, and see whether the tests notice.

Each mutation replaces one piece of source text in a *copy* of the repository
(in a temporary folder; the checkout is never touched) and runs a targeted
subset of the test suite against it. A mutation is *caught* when a test fails,
*missed* when the subset passes. Run from the repository root:

    python tests/mutation.py                  every mutation, then the score
    python tests/mutation.py --list           the mutations and their test subsets
    python tests/mutation.py --only coco-dt-area-hi,voc-gt-tie
    python tests/mutation.py --profile ci     hypothesis' CI profile instead of "dev"
    python tests/mutation.py --repeat 3       each mutation three times (the dev profile is random)

Exit status 0 when every mutation is caught, 1 otherwise. It is slow (each
mutation recompiles the kernels of the file it changes and runs its test
subset: minutes in all), so it is a script, not part of ``pytest``.

A shared Numba cache in the copy keeps the kernels of unchanged files compiled;
every mutant file gets a fresh modification time, so Numba never reuses a
compilation of other source text. The hypothesis example database is wiped
before every run, so one mutant's failing example cannot help catch the next.
The 12 mutations marked ``issue`` are the ones issue 15 lists.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Mutation:
    """Replace the ``occurrence``-th (0-based) exact ``old`` in ``path`` by ``new``; run ``tests``."""

    id: str
    path: str
    old: str
    new: str
    tests: tuple[str, ...]
    what: str
    occurrence: int = 0
    issue: bool = False


K = "fastdet/_kernels/"
T = "tests/"
COCO_TESTS = (T + "test_coco_edges.py", T + "test_coco.py")
NMS_TESTS = (T + "test_nms_ties.py", T + "test_nms.py", T + "test_golden.py")
MUTATIONS: tuple[Mutation, ...] = (
    # ---- the 12 of issue 15
    Mutation(
        "nms-suppress-ge",
        K + "nms.py",
        "if inter / (ap + area[k] - inter) > thr:",
        "if inter / (ap + area[k] - inter) >= thr:",
        NMS_TESTS,
        "NMS suppresses at IoU == threshold (float64 path)",
        issue=True,
    ),
    Mutation(
        "coco-recall-search",
        K + "coco.py",
        "while i < n_tp and float(i + 1) / n_pos < x:",
        "while i < n_tp and float(i + 1) / n_pos <= x:",
        COCO_TESTS,
        "COCO accumulate: a recall threshold is reached only above it",
        issue=True,
    ),
    Mutation(
        "coco-tie-order",
        K + "coco.py",
        "while j >= lo and score[order[j]] < s:",
        "while j >= lo and score[order[j]] <= s:",
        COCO_TESTS,
        "COCO: equal scores no longer keep file order (insertion sort)",
        issue=True,
    ),
    Mutation(
        "coco-gt-area-lo",
        K + "coco.py",
        "if not (gt_ignore[g0 + g] or gt_area[g0 + g] < lo or gt_area[g0 + g] > hi):",
        "if not (gt_ignore[g0 + g] or gt_area[g0 + g] <= lo or gt_area[g0 + g] > hi):",
        COCO_TESTS,
        "COCO: a ground truth exactly on an area range's lower bound is ignored",
        issue=True,
    ),
    Mutation(
        "coco-dt-area-hi",
        K + "coco.py",
        "out_of_range = dt_area[row] < lo or dt_area[row] > hi",
        "out_of_range = dt_area[row] < lo or dt_area[row] >= hi",
        COCO_TESTS,
        "COCO: an unmatched detection exactly on an area range's upper bound is ignored",
        issue=True,
    ),
    Mutation(
        "voc-11-point",
        K + "voc.py",
        "if recall[i] >= points[k] and precision[i] > p:",
        "if recall[i] > points[k] and precision[i] > p:",
        (T + "test_voc.py",),
        "VOC2007 11-point AP samples recall strictly above each point",
        issue=True,
    ),
    Mutation(
        "soft-nms-tie",
        K + "nms.py",
        "(cur[k] == cur[best] and by_cell[k] < by_cell[best])",
        "(cur[k] == cur[best] and by_cell[k] > by_cell[best])",
        NMS_TESTS,
        "Soft-NMS: equal current scores select the higher index",
        issue=True,
    ),
    Mutation(
        "best-class-tie",
        K + "nms.py",
        "            if v > best:\n                best = v\n                arg = c",
        "            if v >= best:\n                best = v\n                arg = c",
        NMS_TESTS,
        "best class of a prediction: equal class scores keep the highest class",
        issue=True,
    ),
    Mutation(
        "coco-crowd-reuse",
        K + "coco.py",
        "if taken[tk + j] and not crowd[j]:",
        "if taken[tk + j]:",
        COCO_TESTS,
        "COCO: a crowd region matches only one detection",
        issue=True,
    ),
    Mutation(
        "pool-divisor",
        K + "conv.py",
        "divisor = (h1 - h0) * (w1 - w0)",
        "divisor = kh_size * kw_size",
        (T + "test_golden.py", T + "test_arch.py"),
        "avg_pool2d count_include_pad divides by the full window, also past the padded input (ceil_mode)",
        issue=True,
    ),
    Mutation(
        "nms-bands",
        K + "nms.py",
        "for kb in range(_band(ylo, ymin, band_h, n_bands), _band(yhi, ymin, band_h, n_bands) + 1):",
        "for kb in range(_band(ylo, ymin, band_h, n_bands), _band(yhi, ymin, band_h, n_bands)):",
        NMS_TESTS,
        "greedy NMS skips the last band a suppressed box can start in",
        issue=True,
    ),
    Mutation(
        "voc-gt-tie",
        K + "voc.py",
        "            if iou > best:\n                best = iou",
        "            if iou >= best:\n                best = iou",
        (T + "test_voc.py",),
        "VOC matching takes the last of two equally good ground truths",
        issue=True,
    ),
    # ---- more
    Mutation(
        # (not `lhs > rhs` -> `lhs >= rhs` in _suppress_f32: inter / union of float32 values can never
        # equal the 25-bit midpoint exactly, so that mutant is equivalent)
        "nms-f32-threshold",
        "fastdet/_nms_core.py",
        "s = f if float(f) > t else",
        "s = f if float(f) >= t else",
        NMS_TESTS,
        "float32 NMS suppresses at IoU == threshold when the threshold is a float32 value",
    ),
    Mutation(
        "soft-nms-bands",
        K + "nms.py",
        "xlo = np.float64(bx1) - maxw - sx",
        "xlo = np.float64(bx1) - sx",
        NMS_TESTS,
        "Soft-NMS decays only boxes that start right of the selected box's left edge",
    ),
    Mutation(
        "coco-crowd-iou",
        K + "coco.py",
        "                union = da\n",
        "                union = da + ga - inter\n",
        COCO_TESTS,
        "COCO: crowd IoU with the ordinary union instead of the detection area",
    ),
    Mutation(
        "coco-iou-one",
        K + "coco.py",
        "thr = min(iou_thrs[t], 1 - 1e-10)",
        "thr = iou_thrs[t]",
        COCO_TESTS,
        "COCO: an IoU threshold of 1.0 used as is (pycocotools caps it)",
    ),
    Mutation(
        "coco-max-dets",
        K + "coco.py",
        "min(offsets[c + 1] - offsets[c], max_det)",
        "min(offsets[c + 1] - offsets[c], max_det + 1)",
        COCO_TESTS,
        "COCO keeps maxDets + 1 detections per image",
    ),
    Mutation(
        "coco-positives-hi",
        K + "coco.py",
        "if not (gt_ignore[g] or gt_area[g] < lo or gt_area[g] > hi):",
        "if not (gt_ignore[g] or gt_area[g] < lo or gt_area[g] >= hi):",
        COCO_TESTS,
        "COCO: ground truth on an upper area bound not counted as a positive",
    ),
    Mutation(
        "coco-radix-zero",
        K + "coco.py",
        "        if b == sign:  # -0.0 ties with 0.0\n            b = np.uint64(0)\n",
        "",
        COCO_TESTS,
        "radix sort orders -0.0 after 0.0",
    ),
    Mutation(
        "json-mantissa",
        K + "jsonscan.py",
        "if (mant << _U(shift)) == hi:",
        "if (mant << _U(shift)) == hi + _ONE:",
        (T + "test_coco_reading.py",),
        "JSON scanner rounds decimals exactly halfway between two doubles up, not to even",
    ),
    Mutation(
        "giou-union",
        K + "iou.py",
        "out[i, j] = iou - (enclosing - union) / enclosing",
        "out[i, j] = iou - (enclosing - inter) / enclosing",
        (T + "test_golden.py", T + "test_boxes.py"),
        "GIoU with the intersection in place of the union",
    ),
    Mutation(
        "ciou-angle",
        K + "iou.py",
        "return math.atan(w / h)",
        "return math.atan(h / max(w, 1e-300))",
        (T + "test_golden.py", T + "test_boxes.py"),
        "CIoU aspect angle atan(h / w)",
    ),
    Mutation(
        "roc-auc-ties",
        K + "ranking.py",
        "area += dn * (2 * tp + dp)",
        "area += dn * (2 * tp + 2 * dp)",
        (T + "test_metrics.py", T + "test_metrics_ranking.py"),
        "ROC AUC counts tied positive/negative pairs as wins",
    ),
    Mutation(
        "ap-step",
        K + "ranking.py",
        "total += (recall - prev_recall) * (tp / (tp + fp))",
        "total += (recall - prev_recall) * (tp / (tp + fp + 1.0))",
        (T + "test_metrics.py", T + "test_metrics_ranking.py"),
        "average precision with a biased precision",
    ),
    Mutation(
        "voc-all-point",
        K + "voc.py",
        "ap += (mrec[i + 1] - mrec[i]) * mpre[i + 1]",
        "ap += (mrec[i + 1] - mrec[i]) * mpre[i]",
        (T + "test_voc.py",),
        "VOC all-point AP takes the envelope on the wrong side of each step",
    ),
    Mutation(
        "conv-dilation",
        K + "conv.py",
        "row = xp[n, c0 + ic, oh * sh + kh * dh]",
        "row = xp[n, c0 + ic, oh * sh + kh]",
        (T + "test_golden.py", T + "test_arch.py"),
        "conv2d ignores the vertical dilation",
    ),
    Mutation(
        "max-pool-padding",
        K + "conv.py",
        "w0 = ow * sw - pw\n                best",
        "w0 = ow * sw\n                best",
        (T + "test_golden.py", T + "test_arch.py"),
        "max_pool2d ignores the horizontal padding",
    ),
    Mutation(
        "smooth-l1-beta",
        K + "losses.py",
        "return 0.5 * q * q / beta + (z - q)",
        "return 0.5 * q * q + (z - q)",
        (T + "test_golden.py", T + "test_losses.py"),
        "smooth L1 forgets to divide by beta",
    ),
    Mutation(
        "focal-alpha",
        K + "losses.py",
        "loss *= alpha * t + (1.0 - alpha) * (1.0 - t)",
        "loss *= alpha * t + (1.0 - alpha) * t",
        (T + "test_golden.py", T + "test_losses.py"),
        "focal loss weights negatives by (1 - alpha) t",
    ),
    Mutation(
        "loss-sum-tail",
        K + "losses.py",
        "    for i in range(m, n):\n        acc[0] += _mse_one(x[i], y[i])",
        "    for i in range(m + 1, n):\n        acc[0] += _mse_one(x[i], y[i])",
        (T + "test_golden.py", T + "test_losses.py"),
        "MSE sum drops the first element after the 8-lane blocks",
    ),
    Mutation(
        "confusion-skip",
        K + "labels.py",
        "        if a >= 0 and b >= 0:\n            out[a, b] += 1",
        "        if a >= 0:\n            out[a, b] += 1",
        (T + "test_metrics.py",),
        "confusion matrix counts predictions outside ``labels`` (in the last column)",
        occurrence=0,
    ),
)


def _apply(text: str, m: Mutation) -> str:
    """``text`` with the mutation applied; ValueError if its ``old`` text is not there."""
    start = -1
    for _ in range(m.occurrence + 1):
        start = text.find(m.old, start + 1)
        if start < 0:
            raise ValueError(f"{m.id}: {m.old!r} (occurrence {m.occurrence}) not found in {m.path}")
    return text[:start] + m.new + text[start + len(m.old) :]


def _copy_repo(dest: Path) -> None:
    ignore = shutil.ignore_patterns(".git", "__pycache__", ".hypothesis", ".pytest_cache", "*.nbi", "*.nbc",
                                    ".venv*", "build", "*.egg-info")  # fmt: skip
    for item in ("fastdet", "tests", "data", "bench", "pyproject.toml", "README.md"):
        src = ROOT / item
        if src.is_dir():
            shutil.copytree(src, dest / item, ignore=ignore)
        elif src.exists():
            shutil.copy2(src, dest / item)


def _run_tests(work: Path, tests: Sequence[str], profile: str, timeout: float) -> tuple[str, float, str]:
    """Run pytest on ``tests`` in the copy; return (outcome, seconds, last lines of output)."""
    shutil.rmtree(work / ".hypothesis", ignore_errors=True)
    env = {**os.environ, "HYPOTHESIS_PROFILE": profile, "NUMBA_CACHE_DIR": str(work / ".numba_cache"),
           "PYTHONDONTWRITEBYTECODE": "1"}  # fmt: skip
    env.pop("NUMBA_DISABLE_JIT", None)
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "--no-header", *tests]
    start = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout", time.perf_counter() - start, ""
    seconds = time.perf_counter() - start
    lines = (proc.stdout + proc.stderr).strip().splitlines()
    failed = [line.split(" - ")[0] for line in lines if line.startswith(("FAILED ", "ERROR "))]
    tail = "\n".join(failed[:1] or lines[-3:])
    outcome = {0: "missed", 1: "caught"}.get(proc.returncode, f"error (pytest exit {proc.returncode})")
    if proc.returncode < 0:
        outcome = f"caught (crash, signal {-proc.returncode})"
    return outcome, seconds, tail


def main(argv: Sequence[str] | None = None) -> int:
    """Run the mutations; print one line per mutation and the score."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--list", action="store_true", help="list the mutations and exit")
    parser.add_argument("--only", help="comma-separated mutation ids")
    parser.add_argument("--issue", action="store_true", help="only the 12 mutations of issue 15")
    parser.add_argument("--profile", default="dev", help="hypothesis profile (default: dev, as plain pytest)")
    parser.add_argument("--repeat", type=int, default=1, help="run each mutation this many times")
    parser.add_argument("--timeout", type=float, default=1200.0, help="seconds per test run")
    parser.add_argument("--no-baseline", action="store_true", help="skip the unmutated run of every subset")
    parser.add_argument("--keep", action="store_true", help="keep the temporary copy and print its path")
    args = parser.parse_args(argv)

    chosen = list(MUTATIONS)
    if args.only:
        wanted = [s.strip() for s in args.only.split(",") if s.strip()]
        unknown = sorted(set(wanted) - {m.id for m in MUTATIONS})
        if unknown:
            parser.error(f"unknown mutation ids: {', '.join(unknown)}")
        chosen = [m for m in MUTATIONS if m.id in wanted]
    if args.issue:
        chosen = [m for m in chosen if m.issue]
    if args.list:
        for m in chosen:
            print(f"{m.id:<22} {'issue' if m.issue else '     '} {m.path:<28} {' '.join(m.tests)}\n"
                  f"{'':<29}{m.what}")  # fmt: skip
        return 0
    for m in chosen:  # every mutation must apply to the current source before anything runs
        _apply((ROOT / m.path).read_text(), m)

    work = Path(tempfile.mkdtemp(prefix="fastdet-mutation-"))
    try:
        _copy_repo(work)
        if not args.no_baseline:
            subsets = sorted({t for m in chosen for t in m.tests})
            outcome, seconds, tail = _run_tests(work, subsets, args.profile, args.timeout)
            print(f"baseline (no mutation) {' '.join(subsets)}: {'pass' if outcome == 'missed' else outcome}"
                  f" in {seconds:.0f} s", flush=True)  # fmt: skip
            if outcome != "missed":
                print(tail)
                print("the unmutated tests do not pass: fix that first")
                return 2
        results: list[tuple[Mutation, list[str]]] = []
        for i, m in enumerate(chosen):
            target = work / m.path
            original = target.read_text()
            stat = target.stat()
            outcomes = []
            try:
                target.write_text(_apply(original, m))
                stamp = stat.st_mtime + 1000 + i  # a modification time no other text of this file had
                os.utime(target, (stamp, stamp))
                for _ in range(args.repeat):
                    outcome, seconds, tail = _run_tests(work, m.tests, args.profile, args.timeout)
                    outcomes.append(outcome)
                    print(f"{m.id:<22} {outcome:<8} {seconds:6.0f} s  {m.what}", flush=True)
                    print("    " + tail.replace("\n", "\n    "), flush=True)
            finally:
                target.write_text(original)
                os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))
            results.append((m, outcomes))
    finally:
        if args.keep:
            print(f"copy kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    def caught(outcomes: list[str]) -> bool:
        return all(o.startswith("caught") or o == "timeout" for o in outcomes)

    issue = [r for r in results if r[0].issue]
    print()
    print(f"caught {sum(caught(o) for _, o in results)}/{len(results)} mutations "
          f"({sum(caught(o) for _, o in issue)}/{len(issue)} of issue 15's), hypothesis profile "
          f"{args.profile!r}, {args.repeat} run(s) each")  # fmt: skip
    missed = [m.id for m, o in results if not caught(o)]
    if missed:
        print("missed or errored: " + ", ".join(missed))
    return 0 if not missed else 1


if __name__ == "__main__":
    sys.exit(main())
