"""Streaming COCO mAP: torchmetrics' ``MeanAveragePrecision`` on fastdet's evaluation core.

:class:`MeanAveragePrecision` keeps what ``update`` receives as columns of NumPy
arrays (one chunk per call, concatenated when needed), builds the COCO ground
truth and results exactly as torchmetrics 1.9.0 builds them for pycocotools,
and evaluates them with the Numba kernels of :mod:`fastdet.coco`. The state is
picklable and mergeable (``merge``), and ``sync`` gathers it across the ranks
of a ``torch.distributed`` process group.

torch is never imported by this module unless tensors are passed in (or
``sync`` is called): the check is ``sys.modules``.

Masks (``iou_type='segm'``): ``(N, H, W)`` masks (bool or integers, nonzero =
foreground) become run-length columns (runs, runs per mask, heights, widths) at
``update`` (pycocotools' RLE, column-major); ground-truth areas default to the
mask area, detection areas are the mask areas, and ``_coco_evaluate`` passes the
mask IoU of those runs (``maskUtils.iou``) to the core as its ``cell_ious``. As
torchmetrics does with 'segm' alone, an image without masks leaves the data set
of its side (so only images with ground-truth masks are evaluated).
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from fastdet._batches import _Chunk, read_batch
from fastdet._validate import check_bool, check_choice
from fastdet.coco.columns import _Columns
from fastdet.coco.params import Params

__all__ = ["MeanAveragePrecision"]

_BOX_FORMATS = ("xyxy", "xywh", "cxcywh")
_AREAS = ("all", "small", "medium", "large")


def _torch_linspace32(start: float, end: float, steps: int) -> list[float]:
    """``torch.linspace(start, end, steps).tolist()`` (float32 values) without torch.

    torch fills the first half as ``start + i * step`` and the second half as
    ``end - (steps - 1 - i) * step``, each rounded once to float32 (a fused
    multiply-add); the product of a float32 step and a small integer is exact in
    float64, so one float64 operation then a float32 rounding gives the same
    values (checked against torch in the tests).
    """
    s, e = np.float32(start), np.float32(end)
    step = np.float32((e - s) / np.float32(steps - 1))
    i = np.arange(steps)
    lo = (np.float64(s) + np.float64(step) * i).astype(np.float32)
    hi = (np.float64(e) - np.float64(step) * (steps - 1 - i)).astype(np.float32)
    return [float(v) for v in np.where(i < steps // 2, lo, hi)]


# ---------------------------------------------------------------------------- evaluation


def _coco_evaluate(
    gt: _Columns, dt: _Columns, p: Params, want_ious: bool, masks: _MaskState | None = None
) -> tuple[dict[str, NDArray[np.float64]], dict[tuple[Any, Any], Any] | None]:
    """The one adapter to fastdet.coco's internals: ``eval`` arrays (``want_ious``: also ``scores``,
    and pycocotools' ``ious`` instead of None).

    ``p`` is normalised (sorted unique ``imgIds`` / ``catIds``, sorted
    ``maxDets``, ``useCats=1``), as ``COCOeval.evaluate`` would leave it.
    With ``masks`` (iou_type 'segm'), the IoU of each cell is the masks' (the
    ``cell_ious`` hook of ``_evaluate``).
    """
    from fastdet.coco.evaluation import _accumulate, _evaluate

    ev = _evaluate(gt, dt, p, masks.cell_ious if masks is not None else None)
    rec = np.ascontiguousarray(np.asarray(p.recThrs, dtype=np.float64))
    shape = (len(p.iouThrs), len(rec), len(p.catIds), len(p.areaRng), len(p.maxDets))
    precision, recall, scores = _accumulate(
        ev, range(shape[2]), range(shape[3]), range(len(p.imgIds)), list(p.maxDets), rec, shape, want_ious
    )
    ious = None
    if want_ious and hasattr(ev, "iou_block"):  # a core that keeps every cell's (D, G) IoU block
        n_img = len(ev.img_ids)
        ious = {}
        for k, cat in enumerate(ev.cat_ids):
            for i, img in enumerate(ev.img_ids):
                block = ev.iou_block(k * n_img + i)
                ious[img, cat] = block.copy() if block.size else []
    elif want_ious:
        from fastdet.coco.cocoeval import _build_ious

        ious = _build_ious(ev)
    e = {"precision": precision, "recall": recall}
    if scores is not None:
        e["scores"] = scores
    return e, ious


def _mean_valid(
    e: Mapping[str, NDArray[np.float64]], p: Params, ap: int, thr: float | None, area: str, max_det: int
) -> np.float64:
    """One pycocotools summary number (``COCOeval.summarize``'s ``_summarize``)."""
    from fastdet.coco.cocoeval import _summary_line

    return np.float64(_summary_line(e, p, ap, thr, area, max_det)[0])


# ---------------------------------------------------------------------------- the metric


class MeanAveragePrecision:
    """COCO mAP / mAR over a stream of batches; torchmetrics' class of the same name, on Numba kernels.

    Parameters
    ----------
    box_format : {'xyxy', 'xywh', 'cxcywh'}, default 'xyxy'
        Format of ``boxes`` in ``update``; converted to COCO's xywh in the
        input's dtype, as torchvision's ``box_convert`` does.
    iou_type : {'bbox', 'segm'} or tuple of them, default 'bbox'
        ``'segm'``: mask IoU on ``masks`` ``(N, H, W)`` (bool / integer NumPy
        arrays or tensors; ``boxes`` not needed). A tuple such as
        ``('bbox', 'segm')`` evaluates each type, keys prefixed ``bbox_`` /
        ``segm_`` (``classes`` unprefixed), with torchmetrics 1.9's data sets:
        every image kept, ground-truth areas the mask areas for both types
        (unless given), and -- its quirk, reproduced -- with ``class_metrics``
        and ``average='micro'`` the types after the first evaluated per label.
    iou_thresholds : sequence of float, optional
        Default: torchmetrics' ``torch.linspace(0.5, 0.95, 10).tolist()``,
        i.e. float32 values (0.550000011920929, ...), not pycocotools' float64
        ``np.linspace`` (an IoU of exactly 0.55 differs). An empty list means
        the default, as in torchmetrics.
    rec_thresholds : sequence of float, optional
        Default: ``torch.linspace(0.0, 1.0, 101).tolist()`` (float32 values).
    max_detection_thresholds : sequence of 3 int, optional
        Default ``[1, 10, 100]``; sorted. Whole floats (``100.0``) are taken as
        integers, as torchmetrics does.
    class_metrics : bool, default False
        Also return ``map_per_class`` and ``mar_{max}_per_class``.
    extended_summary : bool, default False
        Also return ``ious``, ``precision``, ``recall`` and ``scores``.
    average : {'macro', 'micro'}, default 'macro'
        'micro' evaluates every label as one class.
    backend : {'pycocotools', 'faster_coco_eval'}, default 'pycocotools'
        Whose summary to reproduce (the numbers are fastdet's in both cases):
        pycocotools reports ``map`` at 100 detections literally (-1 when 100 is
        not a threshold), faster-coco-eval at ``max_detection_thresholds[-1]``.
        Nothing is imported.
    sync_on_compute : bool, default True
        When a ``torch.distributed`` process group is initialised with more than
        one rank, ``compute`` evaluates the state of every rank (every rank must
        call it). The local state is left as it is.
    dist_sync_on_step : bool, default False
        ``forward`` syncs the batch's value too.
    process_group : optional
        The ``torch.distributed`` group to gather over (default: the world).
    compute_on_cpu : bool, default False
        Accepted for torchmetrics compatibility; the state always lives in host memory.

    Attributes
    ----------
    warn_on_many_detections : bool
        Warn (``UserWarning``) when an image has more detections than the
        largest detection threshold, as torchmetrics does. Default True.

    Notes
    -----
    The evaluation is pycocotools' (see :mod:`fastdet.coco`) on the data sets
    torchmetrics builds: image ids 0, 1, ... in update order (every image, even
    one without ground truth or detections), annotation ids from 1,
    categories = the sorted union of predicted and target labels (``[0]``
    with 'micro'), the target ``area`` where given and > 0 (else the box
    area), ``iscrowd`` (default 0), detection area = box area, and
    ``iouThrs`` / ``recThrs`` / ``maxDets`` as given. ``map_per_class`` and
    ``mar_{max}_per_class`` are the per-category summaries of that same
    evaluation; with 'micro' they come from a per-label evaluation, as in
    torchmetrics.

    Return types: with torch tensors in any ``update`` (of this metric or one
    merged into it), the values are CPU tensors exactly as torchmetrics
    returns them (float32, squeezed to 0-d when they hold one number;
    ``classes`` int32; extended summary ``precision`` float64, ``ious``
    float32). Otherwise NumPy: ``np.float64`` scalars (pycocotools' numbers
    before torchmetrics' float32 rounding), 1-d float64 arrays per class,
    ``classes`` int64.

    The state: per update, columns of NumPy arrays (boxes as float64 xywh,
    scores, labels, areas, crowd flags and image indices), concatenated
    lazily. ``merge`` appends other metrics' images after this one's;
    ``sync`` gathers every rank's state (``all_gather_object``, which works
    with gloo and, with ``torch.cuda.set_device`` called on each rank, nccl)
    and orders the images as torchmetrics does: image ``j`` of every rank in
    rank order, then image ``j + 1`` -- the order of the data set under
    ``DistributedSampler(shuffle=False)``. The order matters only for
    detections of equal score in different images.

    Examples
    --------
    >>> import numpy as np
    >>> metric = MeanAveragePrecision()
    >>> metric.update(
    ...     [{"boxes": np.array([[258.0, 41.0, 606.0, 285.0]]), "scores": np.array([0.536]),
    ...       "labels": np.array([0])}],
    ...     [{"boxes": np.array([[214.0, 41.0, 562.0, 285.0]]), "labels": np.array([0])}],
    ... )
    >>> result = metric.compute()
    >>> float(result["map"]), float(result["map_50"])  # pycocotools' tp / (tp + fp + eps)
    (0.5999999999999999, 0.9999999999999999)
    """

    warn_on_many_detections: bool = True

    def __init__(
        self,
        box_format: Literal["xyxy", "xywh", "cxcywh"] = "xyxy",
        iou_type: Literal["bbox", "segm"] | tuple[str, ...] = "bbox",
        iou_thresholds: Sequence[float] | None = None,
        rec_thresholds: Sequence[float] | None = None,
        max_detection_thresholds: Sequence[int] | None = None,
        class_metrics: bool = False,
        extended_summary: bool = False,
        average: Literal["macro", "micro"] = "macro",
        backend: Literal["pycocotools", "faster_coco_eval"] = "pycocotools",
        *,
        sync_on_compute: bool = True,
        dist_sync_on_step: bool = False,
        process_group: Any = None,
        compute_on_cpu: bool = False,
    ) -> None:
        self.box_format = check_choice(box_format, "box_format", _BOX_FORMATS)
        types = (iou_type,) if isinstance(iou_type, str) else tuple(iou_type)
        if not types or any(t not in ("bbox", "segm") for t in types):
            raise ValueError(f"iou_type must be 'bbox', 'segm' or a tuple of them; got {iou_type!r}")
        if len(set(types)) != len(types):
            raise ValueError(f"iou_type must not repeat a type; got {iou_type!r}")
        self.iou_type: tuple[str, ...] = types
        self.iou_thresholds = _thresholds(iou_thresholds, "iou_thresholds", (0.5, 0.95, 10))
        self.rec_thresholds = _thresholds(rec_thresholds, "rec_thresholds", (0.0, 1.0, 101))
        self.max_detection_thresholds = _max_dets(max_detection_thresholds)
        self.class_metrics = check_bool(class_metrics, "class_metrics")
        self.extended_summary = check_bool(extended_summary, "extended_summary")
        self.average = check_choice(average, "average", ("macro", "micro"))
        self.backend = check_choice(backend, "backend", ("pycocotools", "faster_coco_eval"))
        self.sync_on_compute = check_bool(sync_on_compute, "sync_on_compute")
        self.dist_sync_on_step = check_bool(dist_sync_on_step, "dist_sync_on_step")
        self.compute_on_cpu = check_bool(compute_on_cpu, "compute_on_cpu")
        self.process_group = process_group
        self.reset()

    # ---- state
    def reset(self) -> None:
        """Forget every update (the parameters stay)."""
        self._chunks: list[_Chunk] = []
        self._torch_out = False
        self._unsynced: tuple[list[_Chunk], bool] | None = None

    def _state(self) -> _Chunk:
        if len(self._chunks) != 1:
            self._chunks = [_Chunk.concat(self._chunks)]
        return self._chunks[0]

    @property
    def n_images(self) -> int:
        """Number of images updated so far."""
        return sum(c.n_images for c in self._chunks)

    def _params(self) -> dict[str, Any]:
        """What must agree for states to be merged (the box format does not: the state is xywh)."""
        return {
            "iou_type": self.iou_type,
            "iou_thresholds": tuple(self.iou_thresholds),
            "rec_thresholds": tuple(self.rec_thresholds),
            "max_detection_thresholds": tuple(self.max_detection_thresholds),
            "class_metrics": self.class_metrics,
            "extended_summary": self.extended_summary,
            "average": self.average,
            "backend": self.backend,
        }

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_chunks"] = [self._state()] if self._chunks else []
        state["process_group"] = None  # a process group is not picklable and means nothing elsewhere
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def update(self, preds: Sequence[Mapping[str, Any]], target: Sequence[Mapping[str, Any]]) -> None:
        """Add a batch: one dict per image in ``preds`` and in ``target``.

        Parameters
        ----------
        preds : list of dict
            ``boxes`` (N, 4) in ``box_format``, ``scores`` (N,), ``labels`` (N,)
            integers; NumPy arrays, torch tensors (any device) or lists.
        target : list of dict
            ``boxes`` (M, 4), ``labels`` (M,); optional ``iscrowd`` (M,) and
            ``area`` (M,) (an area <= 0 means "use the box area", or the mask
            area with 'segm'). With 'segm' in ``iou_type``, both also carry
            ``masks`` (N, H, W) (and need no ``boxes`` with 'segm' alone),
            encoded to run lengths here; the masks of one image share a size.

        Raises
        ------
        TypeError
            ``preds`` / ``target`` not lists of dicts, or non-numeric values.
        ValueError
            Different lengths, a missing key, a wrong shape, labels that are
            not integers, NaN scores, non-finite or negative-size boxes; the
            message names the argument, the image's index in the batch and the key.
        """
        chunk, dt_counts, tensors = read_batch(preds, target, self.box_format, self.iou_type)
        if chunk.n_images == 0:
            return
        if (
            self.warn_on_many_detections
            and dt_counts.size
            and dt_counts.max() > self.max_detection_thresholds[-1]
        ):
            limit = self.max_detection_thresholds[-1]
            warnings.warn(  # torchmetrics' opening words, so that filters written for its warning match
                f"Encountered more than {limit} detections in a single image: an image has "
                f"{int(dt_counts.max())} detections, more than max_detection_thresholds[-1]={limit}, "
                f"and only its {limit} best per class are evaluated (set warn_on_many_detections = False "
                "to silence this)",
                UserWarning,
                stacklevel=2,
            )
        self._chunks.append(chunk)
        self._torch_out = self._torch_out or tensors

    def merge(self, *others: MeanAveragePrecision) -> MeanAveragePrecision:
        """Append the images of ``others`` (in order) to this metric's; return ``self``.

        Evaluating shards separately and merging them gives the numbers of one
        metric that saw every update in that order, bit for bit.

        Raises
        ------
        TypeError
            An argument is not a ``MeanAveragePrecision``.
        ValueError
            Its evaluation parameters differ from this metric's.
        """
        mine = self._params()
        added: list[_Chunk] = []
        torch_out = self._torch_out
        for k, other in enumerate(others):
            if not isinstance(other, MeanAveragePrecision):
                raise TypeError(
                    f"merge() takes MeanAveragePrecision objects; argument {k} is {type(other).__name__}"
                )
            _check_same(mine, other._params(), f"argument {k} of merge()")
            added.extend(other._chunks)
            torch_out = torch_out or other._torch_out
        self._chunks = [*self._chunks, *added]
        self._torch_out = torch_out
        return self

    # ---- torch.distributed
    def sync(self, process_group: Any = None) -> MeanAveragePrecision:
        """Replace the state by the state of every rank of the process group; return ``self``.

        Every rank must call it. Does nothing when ``torch.distributed`` is not
        initialised or the group has one rank. ``unsync`` restores the local state.

        Raises
        ------
        ValueError
            On every rank, when the ranks' evaluation parameters differ.
        """
        gathered = _gather(self, process_group if process_group is not None else self.process_group)
        if gathered is not None:
            self._unsynced = (self._chunks, self._torch_out)
            self._chunks, self._torch_out = [gathered[0]], gathered[1]
        return self

    def unsync(self) -> MeanAveragePrecision:
        """Restore the local state that ``sync`` replaced (no-op when not synced)."""
        if self._unsynced is not None:
            self._chunks, self._torch_out = self._unsynced
            self._unsynced = None
        return self

    # ---- results
    def compute(self) -> dict[str, Any]:
        """pycocotools' statistics under torchmetrics' keys (see the class Notes for types).

        Keys: ``map``, ``map_50``, ``map_75``, ``map_small``, ``map_medium``,
        ``map_large``, ``mar_{m}`` for each detection threshold m,
        ``mar_small``, ``mar_medium``, ``mar_large``, (with ``extended_summary``:
        ``ious``, ``precision``, ``recall``, ``scores``), ``map_per_class``,
        ``mar_{max}_per_class`` (-1 unless ``class_metrics``), ``classes``.
        -1 marks "no ground truth". Without any image: the twelve statistics
        at -1 and an empty ``classes``, as torchmetrics.
        """
        state, torch_out = self._state() if self._chunks else _Chunk.empty(), self._torch_out
        if self.sync_on_compute and self._unsynced is None:
            gathered = _gather(self, self.process_group)
            if gathered is not None:
                state, torch_out = gathered
        return _output(self._evaluate(state), torch_out)

    def forward(
        self, preds: Sequence[Mapping[str, Any]], target: Sequence[Mapping[str, Any]]
    ) -> dict[str, Any]:
        """``update`` the state, and return the metric of this batch alone (torchmetrics' ``forward``)."""
        batch = MeanAveragePrecision.__new__(MeanAveragePrecision)
        batch.__dict__.update(self.__dict__)
        batch.reset()
        batch.sync_on_compute = self.dist_sync_on_step
        batch.warn_on_many_detections = False
        batch.update(preds, target)
        self.merge(batch)
        return batch.compute()

    __call__ = forward

    def _evaluate(self, st: _Chunk) -> dict[str, Any]:
        classes = np.unique(np.concatenate([st.dt_label, st.gt_label]))
        out: dict[str, Any] = {}
        for n, kind in enumerate(self.iou_type):
            prefix = "" if len(self.iou_type) == 1 else f"{kind}_"
            # torchmetrics 1.9 quirk: with class_metrics, the data sets it rebuilds per class (always
            # per label) are the ones the next iou type of the tuple evaluates: 'micro' applies only
            # to the first type then
            micro = self.average == "micro" and not (n > 0 and self.class_metrics)
            out.update({prefix + k: v for k, v in self._evaluate_kind(st, kind, classes, micro).items()})
        out["classes"] = classes
        return out

    def _evaluate_kind(
        self, st: _Chunk, kind: str, classes: NDArray[np.int64], micro: bool
    ) -> dict[str, Any]:
        mdt = self.max_detection_thresholds
        keys = ["map", "map_50", "map_75", "map_small", "map_medium", "map_large"]
        keys += [f"mar_{m}" for m in mdt] + ["mar_small", "mar_medium", "mar_large"]
        if kind == "segm" and len(self.iou_type) == 1:
            # torchmetrics leaves out of each side's data set the images without masks of that side
            img_ids = np.unique(st.gt_image)
            empty = not len(img_ids) or not len(st.dt_image)
        else:
            img_ids = np.arange(st.n_images, dtype=np.int64)
            empty = st.n_images == 0
        if empty:
            return {k: np.float64(-1.0) for k in keys}
        masks = _MaskState(st) if kind == "segm" else None
        p = self._coco_params(np.zeros(1, np.int64) if micro else classes, img_ids)
        e, ious = _coco_evaluate(*_columns(st, micro, masks), p, self.extended_summary, masks)
        map_at = 100 if self.backend == "pycocotools" else mdt[-1]
        plan = [(1, None, "all", map_at), (1, 0.5, "all", mdt[2]), (1, 0.75, "all", mdt[2])]
        plan += [(1, None, a, mdt[2]) for a in _AREAS[1:]]
        plan += [(0, None, "all", m) for m in mdt] + [(0, None, a, mdt[2]) for a in _AREAS[1:]]
        out: dict[str, Any] = {k: _mean_valid(e, p, *args) for k, args in zip(keys, plan, strict=True)}
        if self.extended_summary:
            out.update(ious=ious, **e)
        if self.class_metrics:
            if micro:
                p = self._coco_params(classes, img_ids)
                e, _ = _coco_evaluate(*_columns(st, False, masks), p, False, masks)
            per_ap, per_ar = [], []
            for k in range(len(classes)):
                ek = {"precision": e["precision"][:, :, k : k + 1], "recall": e["recall"][:, k : k + 1]}
                per_ap.append(_mean_valid(ek, p, 1, None, "all", map_at))
                per_ar.append(_mean_valid(ek, p, 0, None, "all", mdt[2]))
            out["map_per_class"] = np.array(per_ap, np.float64)
            out[f"mar_{mdt[-1]}_per_class"] = np.array(per_ar, np.float64)
        else:
            out["map_per_class"] = np.array([-1.0])
            out[f"mar_{mdt[-1]}_per_class"] = np.array([-1.0])
        return out

    def _coco_params(self, cat_ids: NDArray[np.int64], img_ids: NDArray[np.int64]) -> Params:
        p = Params("bbox")
        p.imgIds = img_ids.tolist()
        p.catIds = cat_ids.tolist()
        p.iouThrs = np.array(self.iou_thresholds, dtype=np.float64)
        p.recThrs = np.array(self.rec_thresholds, dtype=np.float64)
        p.maxDets = list(self.max_detection_thresholds)
        return p

    def __repr__(self) -> str:
        return (
            f"MeanAveragePrecision(box_format={self.box_format!r}, iou_type={self.iou_type!r}, "
            f"class_metrics={self.class_metrics}, average={self.average!r}, backend={self.backend!r}; "
            f"{self.n_images} images)"
        )


def _thresholds(values: Any, name: str, default: tuple[float, float, int]) -> list[float]:
    # torchmetrics takes `values or default`: an empty list means the default
    if values is None or (isinstance(values, Sequence) and len(values) == 0):
        return _torch_linspace32(*default)
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a list of numbers, got {values!r}") from None
    if arr.ndim != 1 or arr.size == 0 or not np.isfinite(arr).all():
        raise ValueError(f"{name} must be a non-empty list of finite numbers, got {values!r}")
    return [float(v) for v in arr]


def _max_dets(values: Any) -> list[int]:
    if values is None:
        return [1, 10, 100]
    try:
        arr = np.asarray(values)
    except (TypeError, ValueError):
        arr = np.empty(0)
    if arr.dtype.kind == "f" and (np.abs(arr) <= 2**53).all() and (arr == np.round(arr)).all():
        arr = arr.astype(np.int64)  # whole floats, as torchmetrics' torch.tensor(..., dtype=torch.int)
    if arr.shape != (3,) or arr.dtype.kind not in "iu" or (arr < 0).any():
        # torchmetrics' words for a wrong length (its test and users' `match=` look for them)
        length = (
            "When providing a list of max detection thresholds it should have length 3. "
            f"Got value {arr.size}. "
            if arr.ndim == 1 and arr.size != 3
            else ""
        )
        raise ValueError(
            f"{length}max_detection_thresholds must be a list of 3 non-negative integers, got {values!r}"
        )
    return sorted(int(v) for v in arr)


def _check_same(mine: Mapping[str, Any], theirs: Mapping[str, Any], who: str) -> None:
    diff = [k for k in mine if mine[k] != theirs[k]]
    if diff:
        k = diff[0]
        raise ValueError(
            f"{who} has {k}={theirs[k]!r} but this metric has {k}={mine[k]!r}; "
            f"metrics can only be merged when {', '.join(mine)} agree"
        )


class _MaskState:
    """The state's masks measured for IoU (run ends, areas, boxes), and the ``cell_ious`` hook."""

    def __init__(self, st: _Chunk) -> None:
        from fastdet import _rle

        self.dt = _rle._measure(st.masks("dt"))
        self.gt = _rle._measure(st.masks("gt"))

    def cell_ious(self, ev: Any) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """pycocotools' ``maskUtils.iou`` of every cell (rows of the columns are rows of the state)."""
        from fastdet import _rle

        crowd = np.ascontiguousarray(ev.gt_crowd, np.int64)
        d_sel = np.ascontiguousarray(ev.dt_rows, np.int64)
        g_sel = np.ascontiguousarray(ev.gt_rows, np.int64)
        values, off = _rle._iou(self.dt, self.gt, crowd, d_sel, g_sel, ev.dt_off, ev.gt_off)
        return off, values


def _columns(st: _Chunk, micro: bool, masks: _MaskState | None = None) -> tuple[_Columns, _Columns]:
    """Ground truth and results as torchmetrics hands them to pycocotools (ids from 1).

    With ``masks`` (iou_type 'segm'): detection areas and both sides' boxes are the masks'.
    """
    gt_cat = np.zeros_like(st.gt_label) if micro else st.gt_label
    dt_cat = np.zeros_like(st.dt_label) if micro else st.dt_label
    if masks is None:
        gt_box, dt_box, dt_area = st.gt_box, st.dt_box, st.dt_box[:, 2] * st.dt_box[:, 3]
    else:
        gt_box, dt_box, dt_area = masks.gt.bbox, masks.dt.bbox, masks.dt.area.astype(np.float64)
    gt = _Columns(
        np.arange(1, len(gt_cat) + 1, dtype=np.int64), st.gt_image, gt_cat, gt_box, st.gt_area,
        crowd=st.gt_crowd, ignore=st.gt_ignore,
    )  # fmt: skip
    dt = _Columns(
        np.arange(1, len(dt_cat) + 1, dtype=np.int64), st.dt_image, dt_cat, dt_box, dt_area,
        score=st.dt_score,
    )  # fmt: skip
    return gt, dt


def _output(values: dict[str, Any], torch_out: bool) -> dict[str, Any]:
    """NumPy values as they are, or tensors as torchmetrics returns them."""
    if not torch_out:
        return values
    import torch

    def tensor(v: Any, dtype: Any) -> Any:
        t = torch.tensor(np.asarray(v), dtype=dtype)
        return t.squeeze() if t.numel() == 1 else t

    out: dict[str, Any] = {}
    for k, v in values.items():
        base = k.removeprefix("bbox_").removeprefix("segm_")
        if k == "classes":
            out[k] = tensor(v, torch.int32)
        elif base == "ious":
            out[k] = {c: tensor(m, torch.float32) if isinstance(m, np.ndarray) else m for c, m in v.items()}
        elif base in ("precision", "recall", "scores"):
            out[k] = tensor(v, torch.float64)
        else:
            out[k] = tensor(v, torch.float32)
    return out


def _gather(metric: MeanAveragePrecision, group: Any) -> tuple[_Chunk, bool] | None:
    """Every rank's state, images interleaved as torchmetrics does; None when not distributed."""
    dist = sys.modules.get("torch.distributed")
    if dist is None or not dist.is_available() or not dist.is_initialized():
        return None
    world = dist.get_world_size(group=group)
    if world < 2:
        return None
    mine = metric._params()
    state = metric._state() if metric._chunks else _Chunk.empty()
    everyone: list[Any] = [None] * world
    dist.all_gather_object(everyone, (mine, state, metric._torch_out), group=group)
    for r, (params, _, _) in enumerate(everyone):
        diff = [k for k in mine if mine[k] != params[k]]
        if diff:
            k = diff[0]
            raise ValueError(
                f"MeanAveragePrecision.sync: rank {r} has {k}={params[k]!r} but rank "
                f"{dist.get_rank(group=group)} has {k}={mine[k]!r}; every rank must use the same parameters"
            )
    chunks = [s for _, s, _ in everyone]
    merged = _Chunk.concat(chunks)
    rank = np.repeat(np.arange(world), [c.n_images for c in chunks])
    local = (
        np.concatenate([np.arange(c.n_images) for c in chunks]) if merged.n_images else np.empty(0, np.int64)
    )
    new_id = np.empty(merged.n_images, np.int64)
    new_id[np.lexsort((rank, local))] = np.arange(merged.n_images)
    return merged.reorder_images(new_id), any(t for _, _, t in everyone)
