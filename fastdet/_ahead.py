"""Compile kernels in a second process while this one works: the command line's first runs.

On an empty Numba cache most of a first ``fastdet eval`` or ``fastdet demo`` is
compilation, one function after another (Numba compiles under a process-wide
lock, so threads cannot share it). :class:`CompileAhead` starts one child
process that runs warm-up tasks (``fastdet._warmup``) into the shared on-disk
cache while this process goes on; ``wait(task)`` returns once the child has
finished that task, and this process then loads those kernels from the cache
instead of compiling them. A chunked kernel that a running task compiles waits
for it by itself (see ``fastdet._kernels.await_compile``).

Only ``fastdet eval`` and ``fastdet demo`` use it (never a library call), and only
where it pays: more than one CPU, compiled kernels (not ``NUMBA_DISABLE_JIT``), a
writable cache, tasks that no earlier run has done (one stamp file per task in
the cache folder, keyed by the Python, Numba and fastdet versions and the kernel
sources), and ``FASTDET_COMPILE_AHEAD`` not set to ``0``. A child that fails,
hangs or dies costs at most time: after ``timeout`` seconds, or at once when the
child has exited, ``wait`` returns and this process compiles what it does not
find in the cache. Cache files are written atomically and checked on load, so
the two processes can share the folder. The child is stopped when the
``with`` block ends.
"""

from __future__ import annotations

import functools
import hashlib
import os
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

import numba

from fastdet import _kernels

__all__ = ["CompileAhead"]

_CHILD = "from fastdet._ahead import _child; _child()"


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _jit_disabled() -> bool:
    return bool(getattr(numba.config, "DISABLE_JIT", False))


def _stamp(cache_dir: str, task: str) -> Path:
    """The file that says ``task`` is in the cache for these versions and kernel sources."""
    import fastdet

    key = hashlib.sha256()
    key.update(f"{sys.version}|{numba.__version__}|{fastdet.__version__}".encode())
    for src in sorted(Path(_kernels.__file__).parent.glob("*.py")):
        st = src.stat()
        key.update(f"|{src.name}:{st.st_mtime_ns}:{st.st_size}".encode())
    return Path(cache_dir) / f"fastdet-ahead-{task.replace(' ', '-')}-{key.hexdigest()[:16]}.done"


def _child() -> None:
    """Run the tasks named in ``sys.argv``; print each name when it is in the cache."""
    from fastdet._warmup import AHEAD_TASKS

    cache_dir = _kernels.cache_location()
    for task in sys.argv[1:]:
        try:
            AHEAD_TASKS[task][0]()
            if cache_dir is not None:
                _stamp(cache_dir, task).touch()
        except Exception:  # the parent compiles what it does not find
            pass
        print(task, flush=True)


class CompileAhead:
    """A child process compiling warm-up ``tasks`` (``fastdet._warmup.AHEAD_TASKS``), in order.

    Use as a context manager; the child is stopped on exit. Does nothing where
    it would not help (see the module docstring).
    """

    def __init__(self, tasks: Sequence[str], *, timeout: float = 300.0) -> None:
        from fastdet._warmup import AHEAD_TASKS

        self.timeout = timeout
        self._proc: subprocess.Popen[str] | None = None
        self._done: dict[str, threading.Event] = {}
        self._kernels: list[str] = []  # the chunked kernels that wait for the child
        self._reader: threading.Thread | None = None
        if os.environ.get("FASTDET_COMPILE_AHEAD") == "0" or _cpus() < 2 or _jit_disabled():
            return
        cache_dir = _kernels.cache_location()
        if cache_dir is None:
            return
        todo = [t for t in tasks if not _stamp(cache_dir, t).exists()]
        if not todo:
            return
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-c", _CHILD, *todo],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
        except OSError:  # no interpreter to start (embedded, frozen) or no resources: compile here
            return
        self._done = {t: threading.Event() for t in todo}
        for task in todo:
            for name in AHEAD_TASKS[task][1]:
                _kernels.await_compile[name] = functools.partial(self.wait, task)
                self._kernels.append(name)
        self._reader = threading.Thread(target=self._read, args=(self._proc,), daemon=True)
        self._reader.start()

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if (event := self._done.get(line.strip())) is not None:
                event.set()
        for event in self._done.values():  # the child exited: nothing more to wait for
            event.set()

    @property
    def running(self) -> bool:
        """Whether a child was started and has not exited."""
        return self._proc is not None and self._proc.poll() is None

    def wait(self, task: str) -> None:
        """Return when the child has finished ``task`` (or exited, or ``timeout`` passed)."""
        event = self._done.get(task)
        if event is not None:
            event.wait(self.timeout)

    def close(self) -> None:
        """Stop the child if it still runs, and forget the kernels it was compiling."""
        for name in self._kernels:
            _kernels.await_compile.pop(name, None)
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._reader is not None:
            self._reader.join(5)  # it ends at the pipe's end of file
        if proc.stdout is not None:
            proc.stdout.close()

    def __enter__(self) -> CompileAhead:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
