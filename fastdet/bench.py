"""``fastdet bench``: run the peer-comparison scripts of ``bench/`` and print their tables.

Each kernel family has one comparison script in the repository's ``bench/``
folder (NMS and IoU, COCO evaluation, classification metrics, direct conv);
each times fastdet beside the peer libraries that are installed, in one
process, and prints medians and ratios. This runner calls them in turn with a
progress line and collects their JSON. It needs a source checkout (the scripts
are not part of the installed package).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

#: (title, script, quick arguments, full arguments)
SUITES: tuple[tuple[str, str, list[str], list[str]], ...] = (
    ("NMS family and box_iou", "compare.py", ["--quick"], []),
    ("COCO evaluation", "compare_coco.py", ["--images", "500", "--repeat", "2"], []),
    ("classification metrics", "compare_metrics.py", ["--sizes", "1e5", "1e6", "--repeats", "3"], []),
    ("direct conv loop", "compare_arch.py", ["--quick", "--repeats", "3"], []),
)


def bench_dir() -> Path | None:
    """The repository's ``bench/`` folder, when running from a source checkout."""
    candidate = Path(__file__).resolve().parent.parent / "bench"
    return candidate if (candidate / "compare.py").exists() else None


def run_benchmarks(*, quick: bool = False, as_json: bool = False) -> int:
    """Run every comparison script; print their tables (or one JSON document). Returns the exit status."""
    folder = bench_dir()
    if folder is None:
        raise ValueError(
            "fastdet bench runs the scripts in the repository's bench/ folder; run it from a clone"
        )
    collected: dict[str, Any] = {}
    status = 0
    log = sys.stderr if as_json else sys.stdout
    with tempfile.TemporaryDirectory() as tmp:
        for i, (title, script, quick_args, full_args) in enumerate(SUITES, 1):
            out_json = Path(tmp) / f"{Path(script).stem}.json"
            cmd = [
                sys.executable,
                str(folder / script),
                *(quick_args if quick else full_args),
                "--json",
                str(out_json),
            ]
            print(f"[{i}/{len(SUITES)}] {title}: {' '.join(cmd[1:])}", file=sys.stderr, flush=True)
            start = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True, cwd=folder.parent)
            took = time.perf_counter() - start
            if proc.returncode != 0:
                status = 1
                tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
                print(f"    failed after {took:.0f} s: {tail}", file=sys.stderr, flush=True)
                continue
            print(f"    done in {took:.0f} s", file=sys.stderr, flush=True)
            if not as_json:
                print(f"\n### {title}\n", file=log)
                print(proc.stdout.rstrip(), file=log, flush=True)
            if out_json.exists():
                collected[title] = json.loads(out_json.read_text())
    if as_json:
        print(json.dumps(collected, indent=2, default=str))
    return status
