"""fastdet._memory: large temporaries on small pages where new huge pages are slow."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from fastdet import _memory


def _huge_kib(a: np.ndarray) -> int:
    """``AnonHugePages`` of the mappings that hold ``a`` (Linux ``/proc/self/smaps``)."""
    lo, hi = a.ctypes.data, a.ctypes.data + a.nbytes
    total, inside = 0, False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        head = line.split()[0]
        if "-" in head and not head.endswith(":"):
            start, stop = (int(x, 16) for x in head.split("-"))
            inside = start < hi and stop > lo
        elif inside and line.startswith("AnonHugePages:"):
            total += int(line.split()[1])
    return total


def _balloon(root: Path, name: str, device: str, features: str) -> None:
    (root / name).mkdir(parents=True)
    (root / name / "device").write_text(device + "\n")
    (root / name / "features").write_text(features + "\n")


def test_free_page_reporting_is_read_from_the_balloons_feature_bit(tmp_path: Path) -> None:
    _balloon(tmp_path, "virtio0", "0x0001", "1" * 64)  # a network device: its bit 5 means something else
    assert not _memory._reports_free_pages.__wrapped__(str(tmp_path))
    _balloon(tmp_path, "virtio1", "0x0005", "0" * 5 + "0" + "1" * 58)  # a balloon without reporting
    assert not _memory._reports_free_pages.__wrapped__(str(tmp_path))
    _balloon(tmp_path, "virtio2", "0x0005", "01100101" + "0" * 56)  # Firecracker's, bit 5 set
    assert _memory._reports_free_pages.__wrapped__(str(tmp_path))


@pytest.mark.parametrize("forced", ["0", "1"])
def test_empty_is_np_empty(monkeypatch: pytest.MonkeyPatch, forced: str) -> None:
    monkeypatch.setenv("FASTDET_SMALL_PAGES", forced)
    assert _memory.small_pages() is (forced == "1")
    for shape, dtype in [
        ((3, 4), np.float64),
        ((1 << 20, 3), np.int64),
        (5 << 20, np.uint8),
        (0, np.float32),
    ]:
        a = _memory.empty(shape, dtype)
        assert a.shape == ((shape,) if isinstance(shape, int) else shape)
        assert a.dtype == dtype
        assert a.flags.c_contiguous
        assert a.flags.writeable
        a.fill(7)
        assert (a == 7).all()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="transparent huge pages are Linux's")
def test_small_pages_keep_huge_pages_out(monkeypatch: pytest.MonkeyPatch) -> None:
    """Forced small pages: no huge page under the array, where NumPy's own array of its size gets some."""
    mode = Path("/sys/kernel/mm/transparent_hugepage/enabled")
    if not mode.exists() or "[never]" in mode.read_text():
        pytest.skip("no transparent huge pages here")
    control = np.empty(32 << 17)  # 32 MiB
    control.fill(1.0)
    if _huge_kib(control) == 0:
        pytest.skip("NumPy's arrays get no huge pages here either")
    monkeypatch.setenv("FASTDET_SMALL_PAGES", "1")
    a = _memory.empty(32 << 17)
    a.fill(1.0)
    assert _huge_kib(a) == 0
