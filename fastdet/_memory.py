"""Large temporary arrays on the pages that are cheapest to fault in on this machine.

NumPy asks Linux for 2 MiB pages (``MADV_HUGEPAGE``) for every array of 4 MiB
or more. A huge page whose memory the machine still backs is zeroed in about
0.1 ms (measured here on pages freed a moment before), less than its 512 small
pages cost (0.65 ms). In a virtual machine with *free page reporting* (a virtio
balloon with ``VIRTIO_BALLOON_F_REPORTING``, as this project's Firecracker
benchmark machine has), pages that stay free are handed back to the host, and
faulting a 2 MiB page in again costs 2-10 ms, against 0.65-1 ms for 512 small
pages (``bench/page_cost.py``). There, an array that fastdet fills and keeps
(the JSON scanner's rows) or fills once (the OKS exponents) is put on 4 KiB
pages. Measured on 108 MB of keypoint results in the keypoint benchmark (other
evaluators run between fastdet's runs): loading took 105-114 ms in every run,
against 150-270 ms on huge pages; reloaded in a loop with nothing in between,
huge pages stay warm and are faster (107 against 122 ms).

``FASTDET_SMALL_PAGES=1`` or ``0`` forces the choice (default: detected once).
"""

from __future__ import annotations

import ctypes
import functools
import glob
import os
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import DTypeLike, NDArray

_VIRTIO_BALLOON = "0x0005"  # virtio device id
_F_REPORTING = 5  # VIRTIO_BALLOON_F_REPORTING: the feature bit
_MIN_BYTES = 1 << 22  # NumPy's huge-page threshold: smaller arrays get small pages anyway
_MADV_NOHUGEPAGE = 15  # Linux
_PAGE = 4096


@functools.cache
def _reports_free_pages(devices: str = "/sys/bus/virtio/devices") -> bool:
    """Whether this Linux guest hands its free pages back to the hypervisor (read once)."""
    for device in glob.glob(os.path.join(devices, "*")):
        try:
            with open(os.path.join(device, "device")) as f:
                if f.read().strip() != _VIRTIO_BALLOON:
                    continue
            with open(os.path.join(device, "features")) as f:
                bits = f.read().strip()  # one character per feature bit, bit 0 first
        except OSError:
            continue
        if len(bits) > _F_REPORTING and bits[_F_REPORTING] == "1":
            return True
    return False


def small_pages() -> bool:
    """Whether large temporaries go on 4 KiB pages (``FASTDET_SMALL_PAGES``, else detected)."""
    forced = os.environ.get("FASTDET_SMALL_PAGES", "").strip()
    if forced in ("0", "1"):
        return forced == "1"
    return sys.platform.startswith("linux") and _reports_free_pages()


@functools.cache
def _madvise() -> Callable[[int, int, int], int] | None:
    try:
        f = ctypes.CDLL(None, use_errno=True).madvise
    except (OSError, AttributeError):  # pragma: no cover - not a C library with madvise
        return None
    f.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    f.restype = ctypes.c_int
    return f


def empty(shape: int | tuple[int, ...], dtype: DTypeLike = np.float64) -> NDArray[Any]:
    """``np.empty``, advised to 4 KiB pages where new huge pages are slow (see the module docstring).

    The advice (``MADV_NOHUGEPAGE``) covers the whole pages inside the array, so
    no other allocation's pages. Memory the allocator hands out again keeps the
    advice until NumPy advises its next large array there; pages already in
    place stay as they are.
    """
    out = np.empty(shape, dtype)
    if out.nbytes >= _MIN_BYTES and small_pages() and (madvise := _madvise()) is not None:
        first = -(-out.ctypes.data // _PAGE) * _PAGE
        stop = (out.ctypes.data + out.nbytes) // _PAGE * _PAGE
        madvise(first, stop - first, _MADV_NOHUGEPAGE)  # a refusal only leaves NumPy's advice
    return out
