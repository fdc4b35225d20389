"""Writing outputs: atomic replacement, symlinks, special files, permissions, pipes.

Every case runs in a temporary directory; nothing here touches the real ``/dev``.
"""

from __future__ import annotations

import errno
import json
import os
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from fastdet import _io

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
GT = DATA / "coco-val2014-fake100" / "instances_val2014_100.json"
DT = DATA / "coco-val2014-fake100" / "instances_val2014_fakebbox100_results.json"


def cli(*args: str, umask: int | None = None, stdin: int | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``fastdet`` in a subprocess (optionally under a given umask)."""
    prefix = (
        []
        if umask is None
        else [
            "-c",
            f"import os, sys, runpy; os.umask({umask:#o}); "
            "sys.argv = ['fastdet', *sys.argv[1:]]; "
            "runpy.run_module('fastdet.cli', run_name='__main__')",
        ]
    )
    cmd = [sys.executable, *(prefix or ["-m", "fastdet.cli"]), *args]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=300, stdin=stdin)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_new_file_written_and_no_temporary_left(tmp_path: Path) -> None:
    out = _io.write_atomic(tmp_path / "a.json", '{"x": 1}')
    assert out == tmp_path / "a.json"
    assert (tmp_path / "a.json").read_text() == '{"x": 1}'
    assert leftovers(tmp_path) == []


def test_symlink_is_followed_and_kept(tmp_path: Path) -> None:
    target = tmp_path / "real" / "target.json"
    target.parent.mkdir()
    target.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    _io.write_atomic(link, "new")
    assert link.is_symlink(), "the link was replaced by a regular file"
    assert target.read_text() == "new"
    assert leftovers(tmp_path) == []
    assert leftovers(target.parent) == []


def test_fifo_is_written_through_not_replaced(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    _io.write_atomic(fifo, b"through the pipe")
    reader.join(timeout=30)
    assert received == [b"through the pipe"]
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_character_device_is_written_through(tmp_path: Path) -> None:
    """A private copy of /dev/null (made with mknod where allowed) stays a device."""
    null = tmp_path / "null"
    try:
        os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except (PermissionError, OSError) as exc:
        pytest.skip(f"cannot create a device node here: {exc}")
    _io.write_atomic(null, "discarded")
    assert stat.S_ISCHR(os.stat(null).st_mode)


def test_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(IsADirectoryError, match="is a directory"):
        _io.write_atomic(tmp_path, "x")


def test_existing_mode_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "keep.json"
    path.write_text("old")
    path.chmod(0o640)
    _io.write_atomic(path, "new")
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert path.read_text() == "new"


def test_overwrite_false_refuses_existing_and_dangling_link(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text("old")
    with pytest.raises(FileExistsError, match="refusing"):
        _io.write_atomic(path, "new", overwrite=False)
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nowhere")
    with pytest.raises(FileExistsError):
        _io.write_atomic(dangling, "new", overwrite=False)
    assert path.read_text() == "old"


def test_failure_leaves_old_file_and_no_temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "x.json"
    path.write_text("old")

    def full_disk(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(_io.os, "fsync", full_disk)
    with pytest.raises(OSError, match="No space left"):
        _io.write_atomic(path, "new")
    assert path.read_text() == "old"
    assert leftovers(tmp_path) == []


def test_unwritable_folder_error_names_the_output_not_the_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "x.json"
    real_open = os.open

    def read_only_folder(name: str, flags: int, *args: int) -> int:
        if flags & os.O_EXCL:  # creating the temporary beside the output
            raise PermissionError(errno.EACCES, "Permission denied", name)
        return real_open(name, flags, *args)

    monkeypatch.setattr(_io.os, "open", read_only_folder)
    with pytest.raises(PermissionError) as info:
        _io.write_atomic(path, "new")
    assert info.value.filename == str(path)  # the user's path, not the hidden temporary's
    assert ".tmp" not in str(info.value)
    assert info.value.errno == errno.EACCES
    assert not path.exists()


def test_plot_failure_leaves_no_temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("matplotlib")

    from fastdet import plot

    def full_disk(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(_io.os, "fsync", full_disk)
    with pytest.raises(OSError, match="No space left"):
        plot.plot_nms_sweep([0.3, 0.5], {"mAP": [0.1, 0.2]}, tmp_path / "sweep.png")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_cli_output_respects_umask(tmp_path: Path, umask: int) -> None:
    out = tmp_path / "kept.json"
    proc = cli("nms", str(DT), "-o", str(out), umask=umask)
    assert proc.returncode == 0, proc.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~umask


def test_cli_output_to_symlink_replaces_target(tmp_path: Path) -> None:
    target = tmp_path / "target.json"
    target.write_text("[]")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    proc = cli("nms", str(DT), "-o", str(link), "--force")
    assert proc.returncode == 0, proc.stderr
    assert link.is_symlink()
    assert len(json.loads(target.read_text())) > 0


def test_cli_output_to_fifo_needs_no_force(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    proc = cli("nms", str(DT), "-o", str(fifo))
    reader.join(timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    direct = cli("nms", str(DT), "-o", "-")
    assert json.loads(received[0]) == json.loads(direct.stdout)


def test_cli_output_dash_writes_json_to_stdout() -> None:
    proc = cli("nms", str(DT), "-o", "-")
    assert proc.returncode == 0, proc.stderr
    kept = json.loads(proc.stdout)  # stdout holds the JSON and nothing else
    assert {"image_id", "category_id", "bbox", "score"} <= set(kept[0])
    assert "kept" in proc.stderr


def test_cli_closed_pipe_exits_quietly() -> None:
    """``fastdet eval ... | head``: no 'Broken pipe' error, the SIGPIPE status, no traceback.

    ``true`` exits without reading, so the pipe is closed before fastdet writes: deterministic.
    """
    cmd = f"{sys.executable} -m fastdet.cli eval {GT} {DT} | true; echo ${{PIPESTATUS[0]}}"
    proc = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.stdout.strip() == "141", proc.stderr
    assert "Broken pipe" not in proc.stderr
    assert "Traceback" not in proc.stderr


def test_cli_memory_error_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from fastdet import cli as cli_module

    def out_of_memory(args: object) -> int:
        raise MemoryError

    parser = cli_module.build_parser()
    monkeypatch.setattr(cli_module, "build_parser", lambda: parser)
    parser._subparsers._group_actions[0].choices["arch"].set_defaults(func=out_of_memory)  # type: ignore[union-attr]
    assert cli_module.main(["arch", "resnet18"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("fastdet: error: out of memory")
    assert err.count("\n") == 1


def test_evaluation_in_threads_never_touches_sys_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 13: evaluate_coco and COCOeval(verbose=False) print nothing and never swap sys.stdout.

    Four threads evaluate while the main thread prints: every line the main thread prints must
    arrive, and ``sys.stdout`` must be the same object throughout and afterwards.
    """
    import fastdet
    from fastdet.coco import COCO, COCOeval

    data = Path(__file__).resolve().parent.parent / "data" / "coco-val2014-fake100"
    gt = COCO(str(data / "instances_val2014_100.json"), verbose=False)
    dt = gt.loadRes(str(data / "instances_val2014_fakebbox100_results.json"), verbose=False)
    stdout = sys.stdout
    seen: list[object] = []
    done = [0]
    stop = threading.Event()

    def work() -> None:
        while not stop.is_set():
            fastdet.evaluate_coco(gt, dt)
            ev = COCOeval(gt, dt, "bbox", verbose=False)
            ev.evaluate()
            ev.accumulate()
            str(ev)
            seen.append(sys.stdout)
            done[0] += 1

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    n_lines = 0
    try:
        while done[0] < 8 and n_lines < 100_000:  # print for as long as the threads evaluate
            print(f"main line {n_lines}")
            seen.append(sys.stdout)
            n_lines += 1
            time.sleep(0.0005)
    finally:
        stop.set()
        for t in threads:
            t.join()
    out = capsys.readouterr().out
    assert done[0] >= 8
    assert out.splitlines() == [f"main line {i}" for i in range(n_lines)]
    assert all(s is stdout for s in seen)
    assert sys.stdout is stdout
