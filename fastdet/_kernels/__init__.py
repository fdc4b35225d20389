"""Numba kernels only: no validation, no defaults, no Python objects.

Every public wrapper in ``fastdet`` validates and converts its input before
calling into this package; a kernel may assume C-contiguous arrays of the
documented shapes and dtypes.

This module also holds the machinery every kernel shares, all of it
per-kernel or per-call (no threading layer, ``numba.config`` or other
process-wide setting is ever changed):

- :func:`kernel`, the decorator: nogil, compiled lazily on first call, cached
  on disk through :class:`_KernelCache`, which never lets the cache break a
  call (no writable location, a corrupt or truncated file, a full disk).
- Chunked kernels (``kernel(chunked=True)``) are :class:`ChunkedKernel`
  objects: one serial compiled loop over ``range(lo, hi)``, whose chunks a
  call spreads over a pool of Python threads (the GIL released). Nothing uses
  Numba's ``parallel=True``: its compilation took about half of every first
  run, and its threading layers hang or abort in forked children (OpenMP) and
  under concurrent threads (``workqueue``). Call them only from Python.
- :func:`call_interruptible` runs a long kernel in a worker thread so that
  Ctrl-C is honoured within a second.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import pickle
import threading
import uuid
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, ClassVar, Literal, TypeVar, overload

import numba
import numpy as np
from numba.core.caching import (
    CompileResultCacheImpl,
    FunctionCache,
    InTreeCacheLocator,
    NullCache,
    UserProvidedCacheLocator,
    _Cache,
)
from numba.core.serialize import dumps

F = TypeVar("F", bound=Callable[..., Any])

__all__ = [
    "NEVER",
    "CacheWarning",
    "ChunkedKernel",
    "cache_location",
    "call_interruptible",
    "kernel",
    "thread_limit",
]


class CacheWarning(RuntimeWarning):
    """Numba's on-disk cache could not be used; fastdet compiles without it."""


# ----------------------------------------------------------------------------- the decorator


@overload
def kernel(
    *, chunked: Literal[False] = False, vectorize_division: bool = False, inline: bool = False
) -> Callable[[F], F]: ...
@overload
def kernel(
    *, chunked: Literal[True], vectorize_division: bool = False, inline: bool = False
) -> Callable[[Callable[..., Any]], ChunkedKernel]: ...
def kernel(
    *, chunked: bool = False, vectorize_division: bool = False, inline: bool = False
) -> Callable[[Any], Any]:
    """Compile a function with fastdet's uniform Numba options (cached, nogil).

    ``chunked=True`` returns a :class:`ChunkedKernel`: the function's first two
    arguments ``lo, hi`` bound its outer loop (``for i in range(lo, hi)``, every
    iteration independent), and a call ``k(n, *args)`` runs ``[0, n)`` in chunks
    on a pool of threads. It compiles one serial function, which costs about
    half of what a Numba ``parallel=True`` one does, and needs no threading layer.

    ``vectorize_division`` selects Numba's ``error_model="numpy"``: a division
    by zero gives inf/NaN instead of a Python exception check, which lets LLVM
    vectorize loops with a division. Use it only where every divisor is chosen
    non-zero by the kernel itself.

    ``inline=True``: Numba inlines the function into each kernel that calls it
    (``inline="always"``) instead of compiling it as a function of its own; for
    small helpers of a kernel whose first call should compile little.
    """
    options: dict[str, Any] = {"nogil": True, "error_model": "numpy" if vectorize_division else "python"}
    if inline:
        options["inline"] = "always"

    def decorate(func: Callable[..., Any]) -> Any:
        dispatcher = _jit(func, options)
        return ChunkedKernel(dispatcher) if chunked else dispatcher

    return decorate


def _jit(func: Callable[..., Any], options: dict[str, Any]) -> Any:
    """A Numba dispatcher for ``func`` with fastdet's safe on-disk cache."""
    dispatcher = numba.njit(**options)(func)
    # What ``cache=True`` does (Dispatcher.enable_caching), with a cache that cannot fail.
    dispatcher._cache = _LazyCache(func)
    return dispatcher


# ----------------------------------------------------------------------------- chunked kernels

# The pool that runs the chunks of chunked kernels; created on first use, and again
# in a forked child (whose copy of the parent's pool has no threads).
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
_local = threading.local()  # ``threads``: this thread's limit, set by :func:`thread_limit`

# "module.kernel" -> a function that returns once another process has put that chunked
# kernel in the cache (``fastdet._ahead``); the first call waits, then loads it from there
await_compile: dict[str, Callable[[], None]] = {}


def _threads() -> int:
    """Threads a chunked call may use: ``NUMBA_NUM_THREADS`` (default: the cores), or this thread's limit."""
    limit = getattr(_local, "threads", None)
    n = int(numba.config.NUMBA_NUM_THREADS)
    return max(1, min(n, limit) if limit is not None else n)


def _get_pool(workers: int) -> ThreadPoolExecutor:
    """The shared pool, grown (replaced) when a call wants more workers than it has."""
    global _pool
    with _pool_lock:
        if _pool is None or _pool._max_workers < workers:
            if _pool is not None:
                _pool.shutdown(wait=False)  # its idle threads exit; work already queued still runs
            _pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fastdet")
        return _pool


@contextmanager
def thread_limit(threads: int) -> Iterator[None]:
    """Run the chunked kernels called in this thread on at most ``threads`` threads (restored on exit)."""
    before = getattr(_local, "threads", None)
    _local.threads = threads
    try:
        yield
    finally:
        _local.threads = before


class ChunkedKernel:
    """A serial kernel over ``range(lo, hi)`` that a call spreads over threads in chunks.

    ``k(n, *args)`` splits ``[0, n)`` into up to four chunks per thread, which the
    calling thread and the pool's threads take in turn (so uneven chunks balance
    out) and run with the GIL released. ``k.serial(n, *args)`` runs it in one call
    on this thread: the wrappers use it where the work is too small for threads.
    Results do not depend on the chunking, as the iterations are independent.
    Any thread or forked child may call either; nothing process-wide is touched.
    """

    def __init__(self, dispatcher: Any) -> None:
        self.dispatcher = dispatcher
        func = getattr(dispatcher, "py_func", dispatcher)  # NUMBA_DISABLE_JIT: the function itself
        self.py_func = func
        self.__name__ = func.__name__
        self.__qualname__ = func.__qualname__
        self.__doc__ = func.__doc__
        self.__module__ = func.__module__
        self.__wrapped__ = func

    def serial(self, n: int, *args: Any) -> None:
        """Run all ``n`` iterations in this thread."""
        if await_compile:
            self._await_compile()
        self.dispatcher(0, n, *args)

    def _await_compile(self) -> None:
        wait = await_compile.pop(f"{self.__module__}.{self.__name__}", None)
        if wait is not None:
            wait()

    def __call__(self, n: int, *args: Any) -> None:
        if await_compile:
            self._await_compile()
        threads = min(_threads(), n)
        if threads <= 1 or getattr(_local, "in_pool", False):
            self.dispatcher(0, n, *args)
            return
        n_chunks = min(n, 4 * threads)
        bounds = [n * j // n_chunks for j in range(n_chunks + 1)]
        taken = itertools.count()  # next() is atomic under the GIL
        kern = self.dispatcher

        def work() -> None:
            _local.in_pool = True
            try:
                while (j := next(taken)) < n_chunks:
                    kern(bounds[j], bounds[j + 1], *args)
            finally:
                _local.in_pool = False

        helpers = [_get_pool(threads - 1).submit(work) for _ in range(threads - 1)]
        try:
            work()
        finally:
            for f in helpers:
                f.result()

    def __getattr__(self, name: str) -> Any:  # dispatcher attributes (stats, signatures, ...)
        return getattr(self.dispatcher, name)

    def __repr__(self) -> str:
        return f"<fastdet chunked kernel {self.__module__}.{self.__qualname__}>"


def _after_fork_in_child() -> None:
    global _pool, _pool_lock
    _pool = None  # the parent's pool threads do not exist in the child: start a new pool there
    _pool_lock = threading.Lock()


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_after_fork_in_child)


# ----------------------------------------------------------------------------- Ctrl-C

# Passed as ``cancel`` when no cancellation can happen (never written).
NEVER = np.zeros(1, np.uint8)


def call_interruptible(func: Callable[..., Any], *args: Any) -> Any:
    """``func(*args, cancel)`` in a worker thread, so that Ctrl-C interrupts it within a second.

    ``func`` is a nogil kernel whose last argument, ``cancel`` (a 1-element uint8
    array), it checks often enough to return within a fraction of a second once
    ``cancel[0]`` is set. The calling thread waits; a KeyboardInterrupt there
    sets the flag, waits for the kernel to return and is re-raised. Only the main
    thread receives Ctrl-C, so elsewhere this is a plain call. The thread costs
    about 0.1 ms: use it only for inputs that take far longer.
    """
    if threading.current_thread() is not threading.main_thread():
        return func(*args, NEVER)
    cancel = np.zeros(1, np.uint8)
    outcome: list[Any] = []
    limit = getattr(_local, "threads", None)  # the caller's thread_limit applies in the worker too

    def run() -> None:
        _local.threads = limit
        try:
            outcome.append((True, func(*args, cancel)))
        except BaseException as exc:  # handed to the caller
            outcome.append((False, exc))

    worker = threading.Thread(target=run, name=f"fastdet-{getattr(func, '__name__', 'kernel')}", daemon=True)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.25)  # a timed wait: Ctrl-C is delivered on every platform
    except KeyboardInterrupt:
        cancel[0] = 1
        worker.join()
        raise
    ok, value = outcome[0]
    if not ok:
        raise value
    return value


# ----------------------------------------------------------------------------- the on-disk cache

_warned: set[str] = set()
_warned_lock = threading.Lock()


def _warn_once(kind: str, message: str) -> None:
    with _warned_lock:
        if kind in _warned:
            return
        _warned.add(kind)
    warnings.warn(message, CacheWarning, stacklevel=2)


_MAGIC = b"fastdet-nbc-1\n"


def _probe() -> None:
    """Stands for every kernel here when asking Numba where the cache of this folder lives."""


def cache_location() -> str | None:
    """The directory where Numba caches fastdet's kernels, or None when there is none."""
    try:
        return str(_KernelCache(_probe).cache_path)
    except Exception:  # no writable location
        return None


WARMED_MARK = "fastdet-warmup-done"  # written into the cache folder by a complete ``fastdet warmup``


class _ReadOnlyWarmed:
    """A locator mixin: the folder is accepted when it can be read and holds a warmed cache, even if
    it cannot be written (a cache warmed when a container image was built, then mounted read-only
    or owned by another user). Kernels load from it; one that is missing is compiled, and saving it
    fails into the one-time warning. ``mark``: the file that says the cache is warmed (None: any
    compiled kernel will do)."""

    mark: ClassVar[str | None] = None

    def ensure_cache_path(self) -> None:
        path = self.get_cache_path()  # type: ignore[attr-defined]  # the locator's, mixed in after
        try:
            names = os.listdir(path) if os.access(path, os.R_OK | os.X_OK) else []
        except OSError:
            names = []
        if not (self.mark in names if self.mark else any(n.endswith(".nbc") for n in names)):
            raise OSError(f"{path} holds no readable warmed cache")


class _ReadOnlyUserProvidedLocator(_ReadOnlyWarmed, UserProvidedCacheLocator):
    """``NUMBA_CACHE_DIR`` (the user's choice), holding compiled kernels but read-only."""


class _ReadOnlyInTreeLocator(_ReadOnlyWarmed, InTreeCacheLocator):
    """The package's own ``__pycache__``, read-only, after a complete ``fastdet warmup`` (a cache
    filled by chance, by another user's calls, is left for the user-wide location instead)."""

    mark = WARMED_MARK


class _KernelCacheImpl(CompileResultCacheImpl):
    """Numba's locators, each writable one followed by its read-only warmed variant, so that a
    warmed cache that cannot be written is still read instead of compiling into the next
    location (or nowhere)."""

    _locator_classes: ClassVar[list[type]] = [
        UserProvidedCacheLocator,
        _ReadOnlyUserProvidedLocator,
        InTreeCacheLocator,
        _ReadOnlyInTreeLocator,
        *(
            c
            for c in CompileResultCacheImpl._locator_classes
            if c not in (UserProvidedCacheLocator, InTreeCacheLocator)
        ),
    ]


class _KernelCache(FunctionCache):
    """Numba's FunctionCache with one self-checking file per (kernel, signature).

    Numba's own format keeps one index per function, rewritten by every process
    that adds a signature (two writers can lose an entry or pair a signature with
    another's data file), and a truncated file raises EOFError, UnpicklingError
    or an LLVM error on every later call. Here each compiled signature is one
    file, named by a hash of its key and written through a temporary file and a
    rename; it holds a SHA-256 of its contents, the Numba version, the source
    file's hash and the full key, all checked on load. Anything that does not
    check out is a cache miss: the kernel is compiled again and the file
    replaced. A failure to save (read-only or full disk) is a warning.
    """

    _impl_class = _KernelCacheImpl

    def _stamp(self) -> tuple[Any, str]:
        """The kernel's own source file's stamp, and the digest of every kernel module's source."""
        return self._impl.locator.get_source_stamp(), _sources_digest()

    def _entry_path(self, key: Any) -> str:
        digest = hashlib.sha256(repr(key).encode()).hexdigest()[:20]
        return os.path.join(self._cache_path, f"{self._impl.filename_base}.{digest}.nbc")

    def load_overload(self, sig: Any, target_context: Any) -> Any:
        if not self._enabled:
            return None
        try:
            key = self._index_key(sig, target_context.codegen())
            with open(self._entry_path(key), "rb") as f:
                blob = f.read()
        except OSError:  # no entry yet (or unreadable): compile
            return None
        try:
            body = blob[len(_MAGIC) + 32 :]
            if not (blob.startswith(_MAGIC) and hashlib.sha256(body).digest() == blob[len(_MAGIC) :][:32]):
                return None
            version, stamp, stored_key, payload = pickle.loads(body)
            if version != numba.__version__ or stamp != self._stamp():
                return None
            if stored_key != key:
                return None
            _prepare_to_load(target_context)
            return self._impl.rebuild(target_context, payload)
        except Exception:  # a damaged entry is a miss, replaced by the next save
            return None

    def save_overload(self, sig: Any, data: Any) -> None:
        if not self._enabled:
            return
        path = ""
        try:
            if not self._impl.check_cachable(data):
                return
            self._impl.locator.ensure_cache_path()
            key = self._index_key(sig, data.codegen)
            body = dumps((numba.__version__, self._stamp(), key, self._impl.reduce(data)))
            path = self._entry_path(key)
            _write_atomic(path, _MAGIC + hashlib.sha256(body).digest() + body)
        except Exception as exc:  # the compiled kernel works; only saving it failed
            where = os.path.dirname(path) or self._cache_path
            _warn_once(
                "save",
                f"fastdet could not save a compiled kernel in Numba's cache at {where} ({exc}); "
                "kernels work but will be compiled again in the next process. Free space there "
                "or set NUMBA_CACHE_DIR to a writable directory.",
            )

    def flush(self) -> None:  # Numba's index file is not used
        pass


_digest: str | None = None


def _sources_digest() -> str:
    """SHA-256 of the source of every module in this package (read once per process).

    A kernel's machine code includes the helpers it calls from other kernel
    modules (``_class_pair_areas`` in ranking.py inlines scoresort's
    ``_radix_sort``), while Numba's stamp is its own file's time and size: an
    edit to a helper's module alone would leave the callers' cached code
    stale. Every kernel lives here and calls only kernels from here.
    """
    global _digest
    if _digest is None:
        h = hashlib.sha256()
        folder = os.path.dirname(os.path.abspath(__file__))
        try:
            for name in sorted(n for n in os.listdir(folder) if n.endswith(".py")):
                with open(os.path.join(folder, name), "rb") as f:
                    h.update(name.encode() + b"\0" + f.read() + b"\0")
            _digest = h.hexdigest()
        except OSError:  # unreadable sources (a zipped install): each kernel's own stamp only
            _digest = ""
    return _digest


_context_ready = False


def _prepare_to_load(target_context: Any) -> None:
    """Make compiled code loadable: the Numba runtime's symbols, without the compiler's registries.

    Numba's own cache calls ``target_context.refresh()`` before every load, which
    on first use imports every lowering registry (and, through
    ``numba.np.linalg``, SciPy's BLAS bindings when SciPy is installed): about
    0.4 s that loading machine code does not need. Loading needs only the
    symbols compiled code refers to: Numba's C helpers (registered when the
    context is created), the NRT (``rtsys.initialize``), the hash secret
    (``numba.cpython.hashing``). Compiling anything later in the
    process refreshes the context as usual. Falls back to the full refresh if
    this Numba lacks any of these.
    """
    global _context_ready
    if _context_ready:
        return
    try:
        import numba.cpython.hashing  # noqa: F401 - registers the hash secret symbols
        from numba.core.runtime import nrt

        nrt.rtsys.initialize(target_context)
    except Exception:  # another Numba: do what it does
        target_context.refresh()
    _context_ready = True


def _write_atomic(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same directory and a rename."""
    tmp = f"{path}.tmp.{uuid.uuid4().hex[:16]}"
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


class _LazyCache(_Cache):
    """Finds the cache location on first compilation, not at import; none found: no cache."""

    def __init__(self, py_func: Callable[..., Any]) -> None:
        self._py_func = py_func
        self._cache: _Cache | None = None
        self._enabled = True

    def _get(self) -> _Cache:
        if self._cache is None:
            try:
                cache: _Cache = _KernelCache(self._py_func)
            except Exception as exc:  # Numba: "no locator available"
                _warn_once(
                    "locate",
                    f"fastdet found no writable location for Numba's cache ({exc}); kernels are "
                    "compiled in every new process. Set NUMBA_CACHE_DIR to a writable directory "
                    "to keep them.",
                )
                cache = NullCache()
            if not self._enabled:
                cache.disable()
            self._cache = cache
        return self._cache

    @property
    def cache_path(self) -> Any:
        return self._get().cache_path

    def load_overload(self, sig: Any, target_context: Any) -> Any:
        return self._get().load_overload(sig, target_context)

    def save_overload(self, sig: Any, data: Any) -> None:
        self._get().save_overload(sig, data)

    def enable(self) -> None:
        self._enabled = True
        if self._cache is not None:
            self._cache.enable()

    def disable(self) -> None:
        self._enabled = False
        if self._cache is not None:
            self._cache.disable()

    def flush(self) -> None:
        if self._cache is not None:
            self._cache.flush()
