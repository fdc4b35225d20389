"""What a fresh page of memory costs on this machine: NumPy's 2 MiB pages against 4 KiB ones.

NumPy advises the kernel to back arrays of 4 MiB or more with 2 MiB pages. Where
the guest hands its free memory back to the host (a VM with free page
reporting), taking such a page again can cost many times what a page freed a
moment ago does, which shows up as bimodal benchmark figures for every kernel
that allocates large arrays. This script touches a fresh array of ``--mib`` MiB
a few times each way, in this process, and prints the time per 2 MiB with the
kernel's compaction counters (Linux only; other systems print the times alone);
then it frees an array and touches a new one after pauses of growing length
(``--pauses``), which shows how long freed memory stays cheap. The last line
says whether fastdet detects free page reporting here (``fastdet._memory``).

Usage::

    python bench/page_cost.py [--mib 200] [--rounds 3] [--pauses 0 0.2 1 4]
"""

from __future__ import annotations

import argparse
import mmap
import resource
import time
from pathlib import Path

import numpy as np

_COUNTERS = ("thp_fault_alloc", "compact_stall", "compact_success", "pgscan_direct")


def vmstat() -> dict[str, int]:
    path = Path("/proc/vmstat")
    if not path.exists():
        return {}
    pairs = (line.split() for line in path.read_text().splitlines())
    return {k: int(v) for k, v in pairs if k in _COUNTERS}


def numpy_pages(size: int) -> object:
    a = np.empty(size, np.uint8)
    a[::4096] = 1
    return a


def small_pages(size: int) -> object:
    m = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)  # no huge-page advice
    np.frombuffer(m, np.uint8)[::4096] = 1
    return m


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mib", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--pauses", type=float, nargs="*", default=[0.0, 0.2, 1.0, 4.0])
    args = ap.parse_args()
    size = args.mib << 20
    for _ in range(args.rounds):
        for name, touch in (
            ("NumPy array (2 MiB pages advised)", numpy_pages),
            ("mmap (4 KiB pages)", small_pages),
        ):
            before = vmstat()
            sys0 = resource.getrusage(resource.RUSAGE_SELF).ru_stime
            t0 = time.perf_counter()
            held = touch(size)
            wall = time.perf_counter() - t0
            sys1 = resource.getrusage(resource.RUSAGE_SELF).ru_stime
            after = vmstat()
            del held
            counts = " ".join(f"{k}={after[k] - before[k]}" for k in after)
            per_page = 1e3 * wall / (args.mib / 2)
            print(
                f"{name:34s} {args.mib} MiB first touched in {1e3 * wall:7.1f} ms"
                f" (system {1e3 * (sys1 - sys0):6.1f} ms) = {per_page:5.2f} ms per 2 MiB  {counts}"
            )
    for pause in args.pauses:
        times = []
        for _ in range(args.rounds):
            del_me = numpy_pages(size)
            del del_me
            time.sleep(pause)
            t0 = time.perf_counter()
            held = numpy_pages(size)
            times.append(1e3 * (time.perf_counter() - t0))
            del held
        shown = ", ".join(f"{t:.1f}" for t in times)
        print(f"NumPy array freed, then {args.mib} MiB touched after {pause:g} s: {shown} ms")
    from fastdet import _memory

    found = _memory._reports_free_pages()
    print(f"free page reporting detected: {found}; fastdet's small pages: {_memory.small_pages()}")


if __name__ == "__main__":
    main()
