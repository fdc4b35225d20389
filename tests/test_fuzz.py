"""Hostile input for every public array function: explicit cases, generated cases, a crash harness.

(a) every case of ``fuzz_cases.CASES`` in-process (KNOWN_FAILURES skipped, never run);
(b) hypothesis-generated hostile arrays (any dtype, shape, values, layout) per family,
    and hostile scalars for the hyper-parameters: a result equal to the sanitised-input
    result, or ``ValueError`` / ``TypeError`` with a message naming an argument;
(c) ``python tests/fuzz_cases.py --all`` in a subprocess, so that a segmentation
    fault fails a test (with the signal number) instead of killing pytest;
(d) size limits: a dense result that would not fit is refused with its size.
"""

from __future__ import annotations

import math
import signal
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import fuzz_cases as fc
import numpy as np
import pytest
from conftest import F64_ATOL, F64_RTOL, PYCOCOTOOLS_ATOL
from hypothesis import event, given
from hypothesis import strategies as st

import fastdet
import fastdet._validate

HERE = Path(__file__).resolve().parent

# --------------------------------------------------------------------------- (a) explicit cases


@pytest.mark.parametrize("case", fc.CASES, ids=[c.id for c in fc.CASES])
def test_hostile_case(case: fc.Case) -> None:
    if case.id in fc.KNOWN_FAILURES:
        pytest.skip(f"known failure in fastdet.{case.family} (fuzz_cases.KNOWN_FAILURES): {case.id}")
    fc.run_case(case)


def test_every_public_array_function_has_cases() -> None:
    covered = {c.func.split("[")[0].split(".")[-1] for c in fc.CASES}
    array_functions = {
        "box_convert", "box_area", "box_iou", "generalized_box_iou", "distance_box_iou", "complete_box_iou",
        "clip_boxes_to_image", "remove_small_boxes", "nms", "batched_nms", "soft_nms", "multiclass_nms",
        "postprocess_detections", "confusion_matrix", "accuracy", "precision_recall_f1", "roc_curve",
        "roc_auc", "precision_recall_curve", "average_precision", "voc_ap", "evaluate", "l1_loss",
        "mse_loss", "smooth_l1_loss", "sigmoid_focal_loss", "conv2d", "max_pool2d", "avg_pool2d",
        "conv2d_output_size", "pool2d_output_size", "conv2d_params", "conv2d_macs", "conv2d_flops",
        "linear_params", "linear_macs", "linear_flops", "batchnorm2d_params", "batchnorm2d_buffers",
        "conv2d_report", "evaluate_coco", "loadRes",
    }  # fmt: skip
    assert array_functions <= covered, sorted(array_functions - covered)
    assert all(name in fastdet.__all__ or name in ("evaluate", "loadRes") for name in array_functions)


def test_table_lists_every_hostile_kind() -> None:
    text = fc.table()
    for kind in ("wrong rank", "NaN", "dtype complex64", "Fortran-ordered", "big-endian", "None"):
        assert f"| {kind}" in text


# --------------------------------------------------------------------------- (b) generated cases

_SPECIALS = (math.nan, math.inf, -math.inf, 1e30, -1e30, 5e-324, -5e-324, 0.0, -1.0, 0.5, 2.0**62)
_LAYOUTS = ("C", "F", "strided", "readonly", "big-endian", "list", "None")
_REAL = "iuf"


def _layout(arr: np.ndarray, layout: str) -> Any:
    if layout == "F":
        return np.asfortranarray(arr)
    if layout == "strided" and arr.ndim:
        big = np.repeat(arr, 2, axis=-1)
        if big.dtype.kind == "f":
            big[..., 1::2] = np.nan  # garbage between the elements a kernel must not read
        return big[..., ::2]
    if layout == "readonly":
        out = arr.copy()
        out.flags.writeable = False
        return out
    if layout == "big-endian" and arr.dtype.kind in "iufc" and arr.dtype.itemsize > 1:
        return arr.astype(arr.dtype.newbyteorder(">"))
    if layout == "list":
        return arr.tolist()
    if layout == "None":
        return None
    return arr


@st.composite
def _hostile(draw: Any, arg: fc.Arg) -> tuple[Any, str, bool | None]:
    """(hostile value, description, whether it is real-valued input) for one array argument."""
    base = np.asarray(arg.value, np.float64)
    dtype_name = draw(st.sampled_from(list(fc.ALL_DTYPES)))
    if draw(st.integers(0, 3)):  # mostly the valid shape, so that results are common
        shape = base.shape
    else:
        rank = draw(st.integers(0, 4))
        shape = tuple(draw(st.lists(st.integers(0, 6), min_size=rank, max_size=rank)))
    specials = draw(st.lists(st.sampled_from(_SPECIALS), max_size=3))
    seed = draw(st.integers(0, 2**32 - 1))
    layout = draw(st.sampled_from(_LAYOUTS))
    rng = np.random.default_rng(seed)
    values = np.resize(base, shape).astype(np.float64)
    flat = values.reshape(-1)
    if flat.size and specials:
        flat[rng.integers(0, flat.size, len(specials))] = specials
    dtype = fc.ALL_DTYPES[dtype_name]
    arr = np.asarray((values != 0) if dtype.kind == "b" else fc._cast(values, dtype))
    hostile = _layout(arr, layout)
    kind = (
        np.asarray(hostile).dtype.kind if layout == "list" else dtype.kind
    )  # an object array's list is floats
    real: bool | None = layout != "None" and (
        kind in _REAL or (kind == "b" and arg.bool_ok) or (dtype_name == "object" and arg.objects_ok)
    )
    if kind == "O" and arr.size == 0:
        real = None  # an empty object array (e.g. from pandas) is accepted as empty float64
    if arg.role in ("labels", "binary") and kind == "U":
        real = None  # strings are class labels too (a result, or a ValueError beside number labels)
    if arg.role == "coco7" and layout == "list":
        real = None  # a list is loadRes' list-of-dicts form: no array reference to compare with
    return hostile, f"{arg.name}: dtype {dtype_name}, shape {shape}, specials {specials}, {layout}", real


def _outcome(fn: Any) -> tuple[str, Any]:
    try:
        return "result", fc._quiet(fn)
    except (ValueError, TypeError) as exc:
        return ("ValueError" if isinstance(exc, ValueError) else "TypeError"), exc


def _names(spec: fc.Spec) -> tuple[str, ...]:
    names = [a.name for a in spec.arrays] + [s.name for s in spec.scalars]
    if any(a.role == "coco7" for a in spec.arrays):
        names += ["resFile", "results"]
    return tuple(names)


def _check_generated(spec: fc.Spec, arg: fc.Arg, hostile: Any, what: str, real: bool | None) -> None:
    """Result equal to the sanitised-input result, or ValueError / TypeError naming an argument.

    ``real``: the input holds real numbers (a reference exists); False: it does not
    (no result allowed); None: undecided (any clear outcome, no reference).
    """
    kwargs = {**spec.kwargs(), arg.name: hostile}
    before = fc._snapshot(hostile)
    kind, got = _outcome(lambda: spec.call(**kwargs))
    assert fc._snapshot(hostile) == before, f"{spec.name} modified its input ({what})"
    if kind != "result":
        msg = str(got)
        assert msg.strip(), f"{spec.name}: {kind} with an empty message ({what})"
        names = _names(spec) + ((hostile,) if isinstance(hostile, str) else ())  # a str is a file name
        assert any(n in msg for n in names), f"{spec.name}: message names no argument: {msg!r} ({what})"
        if kind == "TypeError":
            zero_d = np.ndim(hostile) == 0 and arg.role == "coco7"  # a scalar is not a results container
            assert real is not True or zero_d, (
                f"{spec.name}: TypeError for real-valued input: {msg!r} ({what})"
            )
    elif hostile is not None:
        assert real is not False, f"{spec.name} accepted non-real input ({what}): {fc._short(got)}"
    if not real or hostile is None:
        return
    clean = {**spec.kwargs(), arg.name: fc._sanitize(hostile, arg.role)}
    ref_kind, want = _outcome(lambda: spec.call(**clean))
    float32 = np.asarray(hostile).dtype == np.float32
    if kind == "result":
        assert ref_kind == "result", f"{spec.name}: result, but the sanitised input raises {want!r} ({what})"
        diff = fc.compare(got, want, float32=fc._uses_float32(got))
        assert diff is None, f"{spec.name}: result differs from the sanitised-input result: {diff} ({what})"
    elif not float32:  # float32 work may refuse magnitudes that float64 handles
        assert ref_kind == kind, (
            f"{spec.name}: {kind} ({got}) but the sanitised input gives {ref_kind} ({what})"
        )


_ARRAY_SPECS = {s.name: s for s in fc.SPECS if s.arrays}


@pytest.mark.parametrize("function", list(_ARRAY_SPECS))
@given(data=st.data())
def test_generated_hostile_arrays(function: str, data: Any) -> None:
    spec = _ARRAY_SPECS[function]
    arg = spec.arrays[data.draw(st.sampled_from(range(len(spec.arrays))), label="argument index")]
    hostile, what, real = data.draw(_hostile(arg), label="hostile")
    _check_generated(spec, arg, hostile, what, real)


_SCALAR_POOL = st.one_of(
    st.integers(-3, 300),
    st.sampled_from(
        [10**30, -(10**30), 2**63, math.nan, math.inf, -0.0, 0.5, 3.0, None, "3", b"3", True, False]
    ),
    st.sampled_from(
        [np.int64(3), np.uint8(2), np.float32(0.5), np.bool_(True), np.array(3), np.array([2, 2])]
    ),
    st.tuples(st.integers(-1, 5), st.integers(-1, 5)),
    st.tuples(st.integers(1, 5), st.sampled_from([2.0, None, "2", np.int32(2)])),
    st.lists(st.integers(0, 4), max_size=3),
)


def _plain_scalar(value: Any) -> Any:
    """The plain Python value a NumPy scalar, 0-d array, array or tuple stands for."""
    if isinstance(value, np.ndarray):
        return value.tolist()  # a 0-d array gives its item
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return tuple(_plain_scalar(v) for v in value)
    return value


def _equivalents(value: Any, kind: str) -> list[Any]:
    """Plain values that must give the same answer as ``value`` for a parameter of ``kind``."""
    plain = _plain_scalar(value)
    out = [] if (type(plain) is type(value) and not isinstance(value, np.ndarray)) else [plain]
    if isinstance(plain, bool) or not isinstance(plain, (int, float)):
        return out
    if kind in ("real", "threshold") and isinstance(plain, int) and abs(plain) < 2**53:
        out.append(float(plain))  # 3 and 3.0 are the same real number
    if kind == "int" and isinstance(plain, float) and plain.is_integer() and abs(plain) < 2**53:
        out.append(int(plain))
    return out


@given(data=st.data())
def test_generated_hostile_scalars(data: Any) -> None:
    """A clear error naming an argument, or the answer the plain Python value gives."""
    specs = {s.name: s for s in fc.SPECS if s.scalars}
    spec = specs[data.draw(st.sampled_from(sorted(specs)), label="function")]
    param = spec.scalars[data.draw(st.sampled_from(range(len(spec.scalars))), label="parameter index")]
    value = data.draw(_SCALAR_POOL, label="value")
    kwargs = {**spec.kwargs(), param.name: value}
    kind, got = _outcome(lambda: spec.call(**kwargs))
    if kind != "result":
        msg = str(got)
        assert msg.strip(), f"{spec.name}({param.name}={value!r}): empty message"
        assert any(n in msg for n in _names(spec)), f"{spec.name}({param.name}={value!r}): {msg!r}"
        return
    event("result")
    for plain in _equivalents(value, param.kind):
        event("result compared with an equivalent plain value")
        plain_kind, want = _outcome(lambda plain=plain: spec.call(**{**kwargs, param.name: plain}))
        assert plain_kind == "result", (
            f"{spec.name}({param.name}={value!r}) gives a result, {plain!r}: {want!r}"
        )
        diff = fc.compare(got, want, float32=fc._uses_float32(got))
        assert diff is None, f"{spec.name}({param.name}={value!r}) differs from {plain!r}: {diff}"
    if _plain_scalar(value) == param.value and not isinstance(_plain_scalar(value), (list, tuple)):
        # the valid call's own value in another type: the clean answer itself
        diff = fc.compare(got, spec.call(**spec.kwargs()), float32=fc._uses_float32(got))
        assert diff is None, f"{spec.name}({param.name}={value!r}) differs from the clean call: {diff}"


_FIELD_POOL = st.one_of(
    st.sampled_from(
        [math.nan, math.inf, -math.inf, 1e30, -1e30, 5e-324, 2**62, 2**64, -5, 0, 1, 0.5, True, None]
    ),
    st.sampled_from(
        ["x", "", b"1", [], [1, 2, 3], [0, 0, 1, math.nan], [0, 0, -1, 1], {"a": 1}, (1, 2, 3, 4)]
    ),
    st.sampled_from(
        [
            np.float32(3),
            np.int8(1),
            np.array([0, 0, 2, 2], np.uint8),
            np.array([0, 0, 2, 2], "c8"),
            np.array([[0, 0, 2, 2]]),
            np.array(["0", "0", "2", "2"]),
            np.bool_(True),
        ]
    ),
)


def _records(kind: str) -> tuple[Any, Any, Any]:
    """(ground truth, detections, call) for the VOC or COCO evaluation of annotation records."""
    if kind == "voc":
        return [dict(r) for r in fc._VOC_GT], [dict(r) for r in fc._VOC_DT], fastdet.voc.evaluate
    return fc._coco_gt(), fc._coco_dt(), fastdet.evaluate_coco


@pytest.mark.parametrize("kind", ["voc", "coco"])
@given(data=st.data())
def test_generated_hostile_records(kind: str, data: Any) -> None:
    gt, dt, evaluate = _records(kind)
    which = data.draw(st.sampled_from(["gt", "dt"]), label="which")
    records = gt["annotations"] if (kind == "coco" and which == "gt") else (gt if which == "gt" else dt)
    i = data.draw(st.integers(0, len(records) - 1), label="record")
    key = data.draw(st.sampled_from(sorted(records[i])), label="field")
    value = data.draw(_FIELD_POOL, label="value")
    records[i][key] = value
    before = fc._snapshot((gt, dt))
    outcome, got = _outcome(lambda: evaluate(gt, dt))
    assert fc._snapshot((gt, dt)) == before, "the evaluation modified its input"
    where = f"{kind} {which}[{i}][{key!r}] = {value!r}"
    if outcome != "result":
        msg = str(got)
        names = (key, which, "entry", "results", "annotation", "bbox", "score")
        assert any(n in msg for n in names), f"{where}: message names nothing: {msg!r}"
        return
    event(f"{kind} result compared")
    if kind == "voc":
        _check_voc_against_reference(got, gt, dt, where)
    else:
        _check_coco_against_pycocotools(got, gt, dt, where)


def _plain_records(x: Any) -> Any:
    """Records with NumPy scalars and arrays as the Python numbers and lists they hold."""
    if isinstance(x, dict):  # a label stays what it is (a tuple is a valid, hashable label)
        return {
            k: (v if k == "label" and not isinstance(v, np.generic) else _plain_records(v))
            for k, v in x.items()
        }
    if isinstance(x, (list, tuple)):
        return [_plain_records(v) for v in x]
    if isinstance(x, (np.ndarray, np.generic)):
        return x.tolist()
    return x


def _check_voc_against_reference(got: Any, gt: Any, dt: Any, where: str) -> None:
    """An accepted record must give the naive devkit reference's answer on the same values."""
    import reference as ref

    def named(records: Any) -> Any:  # a NaN label is one class (a dict key); the reference compares with ==
        return [dict(r, label="<nan>") if r.get("label") != r.get("label") else r for r in records]

    expected = ref.voc_evaluate(named(_plain_records(gt)), named(_plain_records(dt)))
    mine = {("<nan>" if k != k else k): k for k in got.ap}
    assert set(mine) == set(expected), where
    for label, (ap, precision, recall) in expected.items():
        key = mine[label]
        assert got.ap[key] == pytest.approx(ap, nan_ok=True, abs=F64_ATOL), f"{where}: AP of {label!r}"
        np.testing.assert_allclose(got.precision[key], precision, rtol=F64_RTOL, err_msg=where)
        np.testing.assert_allclose(got.recall[key], recall, rtol=F64_RTOL, err_msg=where)


def _check_coco_against_pycocotools(got: Any, gt: Any, dt: Any, where: str) -> None:
    """An accepted record must give pycocotools' answer (where pycocotools takes the same values)."""
    pc_coco = pytest.importorskip("pycocotools.coco")
    pc_eval = pytest.importorskip("pycocotools.cocoeval")
    import contextlib
    import io

    try:
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            g = pc_coco.COCO()
            g.dataset = _plain_records(gt)
            g.createIndex()
            e = pc_eval.COCOeval(g, g.loadRes(_plain_records(dt)), "bbox")
            e.evaluate()
            e.accumulate()
            e.summarize()
    except Exception:  # pycocotools crashes on this record (fastdet documents what it accepts more)
        return
    np.testing.assert_allclose(
        list(got.stats.values()), e.stats, rtol=0, atol=PYCOCOTOOLS_ATOL, err_msg=where
    )


# --------------------------------------------------------------------------- (c) crash harness


def test_fuzz_cases_script_survives_every_case() -> None:
    proc = subprocess.run(
        [sys.executable, str(HERE / "fuzz_cases.py"), "--all"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    tail = (proc.stdout + proc.stderr)[-4000:]
    if proc.returncode < 0:
        sig = -proc.returncode
        pytest.fail(f"fuzz_cases.py died by signal {sig} ({signal.Signals(sig).name}):\n{tail}")
    failed = {line[5:].split(": ", 1)[0] for line in proc.stdout.splitlines() if line.startswith("FAIL ")}
    assert failed <= fc.KNOWN_FAILURES, f"unexpected failures {sorted(failed - fc.KNOWN_FAILURES)}:\n{tail}"
    assert "cases run" in proc.stdout, tail
    assert proc.returncode == (1 if failed else 0), tail


# --------------------------------------------------------------------------- regressions found by (b)


@pytest.mark.parametrize("loss", [fastdet.l1_loss, fastdet.mse_loss, fastdet.smooth_l1_loss])
def test_zero_d_losses_keep_their_shape_and_reject_a_1d_partner(loss: Any) -> None:
    out = loss(np.float64(1.0), np.array(2.5), reduction="none")
    assert out.shape == ()
    assert out == loss([1.0], [2.5], reduction="none")[0]
    with pytest.raises(ValueError, match=r"same shape, got \(\) and \(1,\)"):
        loss(1.0, [2.5], reduction="none")


def test_big_endian_binary_target_reaches_the_kernel_native() -> None:
    y = np.array([0, 1, 1, 0], ">i8")
    assert fastdet.roc_auc(y, [0.1, 0.8, 0.6, 0.3]) == 1.0


def test_float16_labels_do_not_warn() -> None:
    cm = fastdet.confusion_matrix(np.array([0, 1, 2], np.float16), [0, 1, 1])
    np.testing.assert_array_equal(cm, [[1, 0, 0], [0, 1, 0], [0, 1, 0]])


def test_float32_boxes_whose_area_overflows_float32_are_computed_in_float64() -> None:
    a = np.array([[0, 0, 2e30, 2e30]], np.float32)
    b = np.array([[1e30, 1e30, 3e30, 3e30]], np.float32)
    iou = fastdet.box_iou(a, b)
    assert iou.dtype == np.float32
    np.testing.assert_allclose(iou, [[1 / 7]], rtol=1e-6)
    with pytest.raises(ValueError, match=r"boxes has a coordinate of magnitude 3e\+30, too large .* float32"):
        fastdet.box_area(b)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_a_loss_that_overflows_float32_is_refused(reduction: str) -> None:
    x = np.full(3, 1e30, np.float32)
    with pytest.raises(ValueError, match="overflows float32"):
        fastdet.mse_loss(x, -x, reduction=reduction)
    assert np.isfinite(fastdet.mse_loss(x.astype(np.float64), -x, reduction=reduction)).all()


def test_huge_stride_or_dilation_that_changes_nothing_is_accepted() -> None:
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    w = np.ones((1, 1, 1, 1))
    out, _ = fastdet.conv2d(x, w, stride=10**30, dilation=2**70)
    np.testing.assert_array_equal(out, [[[[0.0]]]])
    pooled, _ = fastdet.max_pool2d(x, 4, stride=10**30)
    np.testing.assert_array_equal(pooled, [[[[15.0]]]])


def test_pair_arguments_reject_0d_arrays_by_name() -> None:
    with pytest.raises(
        TypeError, match=r"stride must be an int or a pair of ints, got an array of shape \(\)"
    ):
        fastdet.conv2d_output_size(8, 3, stride=np.array(2))


# --------------------------------------------------------------------------- (d) size limits

_DENSE = [
    ("box_iou", lambda: fastdet.box_iou(np.zeros((11, 4)), np.zeros((10, 4))), r"IoU matrix of shape \(11, 10\)"),
    ("generalized_box_iou", lambda: fastdet.generalized_box_iou(np.zeros((11, 4)), np.zeros((10, 4))),
     "IoU matrix"),
    ("distance_box_iou", lambda: fastdet.distance_box_iou(np.zeros((11, 4)), np.zeros((10, 4))), "IoU matrix"),
    ("complete_box_iou", lambda: fastdet.complete_box_iou(np.zeros((11, 4)), np.zeros((10, 4))), "IoU matrix"),
    ("confusion_matrix", lambda: fastdet.confusion_matrix(np.arange(11), np.arange(11)),
     r"confusion matrix of 11 distinct labels of shape \(11, 11\)"),
    ("confusion_matrix wide labels", lambda: fastdet.confusion_matrix(np.arange(11) * 10**12, np.zeros(11, int)),
     "confusion matrix of 11 distinct"),
    ("confusion_matrix labels=", lambda: fastdet.confusion_matrix([0], [0], labels=np.arange(11)),
     "confusion matrix of 11"),
    ("confusion_matrix empty", lambda: fastdet.confusion_matrix([], [], labels=np.arange(11)),
     "confusion matrix of 11"),
    ("precision_recall_f1", lambda: fastdet.precision_recall_f1(np.arange(11), np.arange(11), average=None),
     "confusion matrix of 11"),
    ("conv2d output", lambda: fastdet.conv2d(np.zeros((1, 1, 9, 9)), np.zeros((2, 1, 1, 1))),
     r"output of conv2d of shape \(1, 2, 9, 9\)"),
    ("conv2d padding", lambda: fastdet.conv2d(np.zeros((1, 1, 1, 1)), np.zeros((1, 1, 1, 1)), padding=5),
     r"padded by padding=\(5, 5\)"),
    ("max_pool2d", lambda: fastdet.max_pool2d(np.zeros((1, 1, 12, 12)), 1), "output of max_pool2d"),
    ("avg_pool2d", lambda: fastdet.avg_pool2d(np.zeros((1, 1, 12, 12)), 1), "output of avg_pool2d"),
    ("conv2d_report count", lambda: fastdet.conv2d_report(1, 1, 1, 12, count=True), "input image for count"),
]  # fmt: skip


@pytest.mark.parametrize(("call", "match"), [(c, m) for _, c, m in _DENSE], ids=[n for n, _, _ in _DENSE])
def test_dense_results_beyond_the_limit_are_refused(
    monkeypatch: pytest.MonkeyPatch, call: Any, match: str
) -> None:
    monkeypatch.setattr(fastdet._validate, "MAX_DENSE_ELEMENTS", 100)
    with pytest.raises(ValueError, match=match) as info:
        call()
    assert "would need" in str(info.value)
    assert "elements" in str(info.value)


def _eye_prf(r: Any) -> bool:
    return all(np.array_equal(v, np.ones(11)) for v in r)


_ZEROS_IOU = np.zeros((11, 10))
_WIDE = np.zeros((11, 11), np.int64)
_WIDE[:, 0] = 1  # every true label predicted as label 0
_ONE = np.zeros((11, 11), np.int64)
_ONE[0, 0] = 1
#: By hand: every box is the empty box at the origin (IoU 0 by the 0/0 := 0 rule, and so GIoU,
#: DIoU and CIoU), labels predicted perfectly, convolutions and pools of zeros.
_DENSE_EXPECTED = {
    "box_iou": lambda r: np.array_equal(r, _ZEROS_IOU),
    "generalized_box_iou": lambda r: np.array_equal(r, _ZEROS_IOU),
    "distance_box_iou": lambda r: np.array_equal(r, _ZEROS_IOU),
    "complete_box_iou": lambda r: np.array_equal(r, _ZEROS_IOU),
    "confusion_matrix": lambda r: np.array_equal(r, np.eye(11, dtype=np.int64)),
    "confusion_matrix wide labels": lambda r: np.array_equal(r, _WIDE),
    "confusion_matrix labels=": lambda r: np.array_equal(r, _ONE),
    "confusion_matrix empty": lambda r: np.array_equal(r, np.zeros((11, 11), np.int64)),
    "precision_recall_f1": _eye_prf,
    "conv2d output": lambda r: np.array_equal(r[0], np.zeros((1, 2, 9, 9))) and r[1] == 2 * 81,
    "conv2d padding": lambda r: np.array_equal(r[0], np.zeros((1, 1, 11, 11))) and r[1] == 121,
    "max_pool2d": lambda r: np.array_equal(r[0], np.zeros((1, 1, 12, 12))) and r[1] == 144,
    "avg_pool2d": lambda r: np.array_equal(r[0], np.zeros((1, 1, 12, 12))) and r[1] == 144,
    "conv2d_report count": lambda r: r.output_size == (12, 12) and r.macs == r.counted_macs == 144,
}


@pytest.mark.parametrize(("name", "call"), [(n, c) for n, c, _ in _DENSE], ids=[n for n, _, _ in _DENSE])
def test_dense_results_within_the_limit_are_computed(
    monkeypatch: pytest.MonkeyPatch, name: str, call: Any
) -> None:
    monkeypatch.setattr(fastdet._validate, "MAX_DENSE_ELEMENTS", 10**6)
    result = call()
    assert _DENSE_EXPECTED[name](result), f"{name}: {result!r}"


def test_real_limit_refuses_a_huge_iou_matrix_and_confusion_matrix_without_allocating() -> None:
    boxes = np.zeros((100_000, 4))
    with pytest.raises(ValueError, match=r"IoU matrix of shape \(100000, 100000\) would need 74\.5 GiB"):
        fastdet.box_iou(boxes, boxes)
    labels = np.arange(100_000)
    with pytest.raises(
        ValueError, match=r"confusion matrix of 100000 distinct labels .* would need 74\.5 GiB"
    ):
        fastdet.confusion_matrix(labels, labels)
