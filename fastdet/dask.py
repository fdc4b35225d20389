"""COCO bbox evaluation of sharded results on a Dask cluster (``pip install "fastdet[dask]"``).

:func:`evaluate_coco` takes results split into shards (JSON files, in-memory
lists, a Dask bag of result dicts or a Dask DataFrame) and evaluates them with
``dask.distributed``: each shard is read and matched on a worker (where a bag
or DataFrame partition already lives, data stay put), and what travels to the
reduction is, per category, one compact record per kept detection (score,
image position, rank in its cell, the per-area-range outcome and, only for
detections whose outcome differs between IoU thresholds, the per-threshold
status). The reduction runs per group of categories on the workers and
accumulates with the same kernel as :func:`fastdet.coco.evaluate_coco`, after
putting the detections back in pycocotools' order (images ascending, then
score order within the cell, then a stable sort by descending score): the
numbers are those of one process, bit for bit, score ties across shards
included.

``distributed`` is imported when :func:`evaluate_coco` is called, never when
``fastdet`` or this module is imported.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike

from fastdet import _sharded
from fastdet._kernels import thread_limit
from fastdet.coco.functional import CocoEvalResult
from fastdet.coco.params import _check_iou_type

__all__ = ["evaluate_coco"]


def _distributed() -> Any:
    try:
        import distributed
    except ImportError:  # pragma: no cover - exercised only without the extra
        raise ImportError(
            'fastdet.dask needs dask.distributed: pip install "fastdet[dask]" (or dask distributed)'
        ) from None
    return distributed


def _one_thread(func: Any, *args: Any, **kwargs: Any) -> Any:
    """``func(*args, **kwargs)`` with fastdet's chunked kernels on one thread (in this thread only).

    A Dask worker thread is one core's worth of work; letting each task's kernels
    use a thread per core makes several workers' threads compete for the cores
    (measured with Numba's OpenMP kernels: matching 6x slower with 2 workers on
    2 cores). The limit is thread-local, and restored.
    """
    with thread_limit(1):
        return func(*args, **kwargs)


def _task(func: Any) -> Any:
    return functools.partial(_one_thread, func)


def _reduce(client: Any, plan: _sharded.Plan, plan_f: Any, matched: list[Any]) -> list[Any]:
    """One reduction task per category group, fed each shard's piece of the group."""
    reduced = []
    for g in range(plan.n_groups):
        group = [client.submit(_sharded.piece, m, g, pure=False) for m in matched]
        reduced.append(client.submit(_task(_sharded.reduce_group), plan_f, g, *group, pure=False))
    return reduced


def _client(distributed: Any, client: Any) -> Any:
    if client is None:
        try:
            return distributed.get_client()
        except ValueError:
            raise ValueError(
                "client: none given and no Dask client is running; pass client=distributed.Client(...)"
            ) from None
    if not isinstance(client, distributed.Client):
        raise TypeError(f"client must be a distributed.Client, got {type(client).__name__}")
    return client


def _is_frame(obj: Any) -> bool:
    pandas = sys.modules.get("pandas")
    return pandas is not None and isinstance(obj, pandas.DataFrame)


def _shards(distributed: Any, client: Any, results: Any) -> tuple[list[Any], list[str]]:
    """(sources as futures or paths, names for messages) of ``results``."""
    # a Dask collection's module is imported already when one is passed in: look, do not import
    bag_mod, frame_mod = sys.modules.get("dask.bag"), sys.modules.get("dask.dataframe")
    is_bag = bag_mod is not None and isinstance(results, bag_mod.Bag)
    if is_bag or (frame_mod is not None and isinstance(results, frame_mod.DataFrame)):
        what = "partition" if is_bag else "DataFrame partition"
        parts = results.to_delayed()
        if not len(parts):
            raise ValueError("results: the collection has no partitions")
        return client.compute(list(parts)), [f"results {what} {i}" for i in range(len(parts))]
    if isinstance(results, (str, os.PathLike)):
        results = [results]
    if not isinstance(results, (list, tuple)):
        raise TypeError(
            "results must be a list of shards (JSON paths, lists of result dicts, (N, 7) arrays, pandas "
            f"DataFrames or futures of them), a Dask bag or a Dask DataFrame; got {type(results).__name__}"
        )
    if not results:
        raise ValueError("results: no shards given (an empty list)")
    sources: list[Any] = []
    names: list[str] = []
    local: list[int] = []
    for i, item in enumerate(results):
        if isinstance(item, (str, os.PathLike)):
            sources.append(os.fspath(item))
            names.append(os.fspath(item))
            continue
        if isinstance(item, dict):
            raise TypeError(
                f"results[{i}] is a dict: results is a list of shards, each a list of result dicts "
                "(wrap a single results list as [results])"
            )
        if not isinstance(item, (list, tuple, np.ndarray, distributed.Future)) and not _is_frame(item):
            raise TypeError(
                f"results[{i}] must be a JSON path, a list of result dicts, an (N, 7) array, a pandas "
                f"DataFrame or a future of one; got {type(item).__name__}"
            )
        sources.append(item)
        names.append(f"results[{i}]")
        if not isinstance(item, distributed.Future):
            local.append(i)
    if local:  # in-memory shards: send each to a worker once, as data rather than inside the graph
        for i, fut in zip(local, client.scatter([sources[i] for i in local]), strict=True):
            sources[i] = fut
    return sources, names


def evaluate_coco(
    gt: Any,
    results: Any,
    *,
    client: Any = None,
    iou_type: Literal["bbox"] = "bbox",
    iou_thresholds: ArrayLike | None = None,
    rec_thresholds: ArrayLike | None = None,
    max_detections: Iterable[int] = (1, 10, 100),
    area_ranges: Mapping[str, tuple[float, float]] | None = None,
    use_cats: bool = True,
    img_ids: Iterable[int] | None = None,
    cat_ids: Iterable[int] | None = None,
    n_groups: int | None = None,
) -> CocoEvalResult:
    """Evaluate COCO bbox results split into shards, on a ``dask.distributed`` cluster.

    Parameters
    ----------
    gt : COCO, str, path-like or dict
        Ground truth, read on the client (as :func:`fastdet.coco.evaluate_coco`
        takes it); the evaluated part is sent to each worker once.
    results : list, dask.bag.Bag or dask.dataframe.DataFrame
        The shards: a list whose items are JSON results files (paths, read on
        the workers), lists of result dicts (``image_id``, ``category_id``,
        ``bbox`` xywh, ``score``), ``(N, 7)`` arrays as ``COCO.loadRes`` takes
        them, pandas DataFrames, or futures of those; or a Dask bag of result
        dicts; or a Dask DataFrame with columns ``image_id``, ``category_id``,
        ``score`` and ``bbox`` (4-sequences) or ``x``, ``y``, ``w``, ``h``.
        One process would concatenate the shards in this order.
    client : distributed.Client, optional
        Default: the running client (``distributed.get_client()``).
    iou_type, iou_thresholds, rec_thresholds, max_detections, area_ranges, use_cats, img_ids, cat_ids
        As in :func:`fastdet.coco.evaluate_coco` (``iou_type`` 'bbox' only).
    n_groups : int, optional
        Categories are accumulated in this many groups, each a task (default:
        the number of workers).

    Returns
    -------
    CocoEvalResult
        Equal, bit for bit, to ``fastdet.coco.evaluate_coco(gt, concatenated
        results, ...)`` (hence to pycocotools).

    Raises
    ------
    ValueError
        Malformed input; a problem in a shard names the file (or ``results[i]``,
        ``results partition i``), the entry and the field. No client running.
    TypeError
        ``results`` or one of its items of an unsupported type; ``client`` not
        a ``distributed.Client``.
    NotImplementedError
        ``iou_type`` 'segm' or 'keypoints'.
    ImportError
        ``distributed`` is not installed.

    Notes
    -----
    Keep each image's detections in one shard (partition by image id, as
    detectors writing one file per data loader shard do): then the shards are
    matched independently. An image found in several shards is handled too,
    but then every shard is read a second time: each is matched without those
    images, and their rows, gathered from every shard in shard order (the
    order of the concatenated list), are matched as one more shard.

    A worker holds the evaluated ground truth (about 72 bytes per box), the
    shard it is matching, the pieces it produced until they are reduced (about
    30 bytes per kept detection: that is what travels) and, for the category
    group it reduces, about 130 bytes per kept detection of the group. Numba's
    kernels run on one thread inside each task (a worker thread is one core).
    See the README ("Sharded evaluation on Dask") for measurements.

    Examples
    --------
    >>> from distributed import Client, LocalCluster  # doctest: +SKIP
    >>> client = Client(LocalCluster(n_workers=2, threads_per_worker=1))  # doctest: +SKIP
    >>> res = fastdet.dask.evaluate_coco("gt.json", [f"dt_{i}.json" for i in range(16)])  # doctest: +SKIP
    >>> res.stats["AP"]  # doctest: +SKIP
    """
    _check_iou_type(iou_type)
    if iou_type != "bbox":
        raise NotImplementedError(
            f"fastdet.dask evaluates iou_type 'bbox' only; for {iou_type!r} use fastdet.coco.evaluate_coco"
        )
    distributed = _distributed()
    client = _client(distributed, client)
    if n_groups is None:
        n_groups = max(1, len(client.scheduler_info().get("workers", {})))
    elif isinstance(n_groups, bool) or not isinstance(n_groups, (int, np.integer)) or n_groups < 1:
        raise ValueError(f"n_groups must be a positive integer, got {n_groups!r}")
    sources, names = _shards(distributed, client, results)
    # the workers read the shards (no plan needed) while the client reads the ground truth
    read = client.map(_task(_sharded.read_shard), sources, names, pure=False)
    try:
        plan = _sharded.make_plan(
            _sharded.as_coco(gt),
            iou_thresholds=iou_thresholds,
            rec_thresholds=rec_thresholds,
            max_detections=max_detections,
            area_ranges=area_ranges,
            use_cats=use_cats,
            img_ids=img_ids,
            cat_ids=cat_ids,
            n_groups=int(n_groups),
        )
    except BaseException:
        client.cancel(read)
        raise
    plan_f = client.scatter(plan, broadcast=True, hash=False)
    # one task per shard locates and matches it; the reduction starts at once, betting that no image
    # is split across shards (checked meanwhile from each shard's image positions)
    matched = client.map(_task(_sharded.match_read), read, [plan_f] * len(sources), names, pure=False)
    del read
    images = client.map(_sharded.matched_images, matched, pure=False)
    reduced = _reduce(client, plan, plan_f, matched)
    split = _sharded.split_images(client.gather(images))
    if len(split):  # read the shards again: their own images, then the split ones together
        client.cancel(reduced)
        loaded = client.map(_task(_sharded.load_shard), sources, [plan_f] * len(sources), names, pure=False)
        pieces = client.map(_task(_sharded.match_shard), loaded, plan=plan_f, exclude=split, pure=False)
        parts = client.map(_sharded.take_images, loaded, images=split, pure=False)
        joined = client.submit(_sharded.concat_shards, *parts, pure=False)
        pieces.append(client.submit(_task(_sharded.match_shard), joined, plan_f, pure=False))
        del loaded, parts, joined
        reduced = _reduce(client, plan, plan_f, pieces)
    del matched, sources
    groups = client.gather(reduced)
    return _sharded.assemble(plan, groups)
