"""Reading COCO JSON (fastdet.coco.reading and its Numba scanner) against Python's own parser.

Every number must come out bit-equal to what ``json.loads`` gives (``float()``
of the text; JSON integers exactly), on the fast path: the tests count the
numbers that leave compiled code. String ids, ids beyond 2**53, files split
into chunks, growing buffers and the fallbacks are compared with pycocotools
or the standard library.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import math
import tracemalloc
from collections.abc import Iterator
from decimal import Decimal, localcontext
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import pytest
import reference as ref
from hypothesis import example, given, settings
from hypothesis import strategies as st
from test_coco import coco_pairs

from fastdet._kernels import jsonscan, thread_limit
from fastdet.coco import COCO, COCOeval, evaluate_coco, reading

pc_coco = pytest.importorskip("pycocotools.coco")
pc_eval = pytest.importorskip("pycocotools.cocoeval")

ONE_FLOAT = reading._Spec.of([("v", 1, jsonscan.FLOAT)])


@contextlib.contextmanager
def counting_slow_paths() -> Iterator[dict[str, int]]:
    """Counts numbers that leave the hot loop: ``long`` (19+ significant digits, still compiled)
    and ``float`` (undecided after truncation: converted by Python's ``float``)."""
    counts = {"long": 0, "float": 0}
    real = jsonscan.convert_long_numbers

    def counting(buf: Any, spans: Any, out: Any, undecided: Any) -> None:
        real(buf, spans, out, undecided)
        counts["long"] += len(spans)
        counts["float"] += int(undecided.sum())

    with mock.patch.object(jsonscan, "convert_long_numbers", counting):
        yield counts


def scan_floats(texts: list[str]) -> np.ndarray:
    raw = ("[" + ", ".join(f'{{"v": {t}}}' for t in texts) + "]").encode()
    arr = reading._scan_array(raw, np.frombuffer(raw, np.uint8), 0, ONE_FLOAT)
    assert arr is not None, raw[:200]
    return arr.floats(0)


def assert_bit_equal(texts: list[str]) -> None:
    got = scan_floats(texts)
    want = np.array([ref.json_number(t) for t in texts])
    bad = [(t, g, w) for t, g, w in zip(texts, got.tolist(), want.tolist(), strict=True)
           if np.float64(g).view(np.uint64) != np.float64(w).view(np.uint64)]  # fmt: skip
    assert not bad, bad[:5]


# ------------------------------------------------------------------ numbers

finite = st.floats(allow_nan=False, allow_infinity=False)


@settings(deadline=None)
@given(values=st.lists(finite, min_size=1, max_size=40))
def test_doubles_written_by_repr_and_17g(values: list[float]) -> None:
    with counting_slow_paths() as slow_paths:
        assert_bit_equal(
            [repr(v) for v in values] + [f"{v:.17g}" for v in values] + [f"{v:.16e}" for v in values]
        )
    assert slow_paths == {"long": 0, "float": 0}  # at most 17 significant digits: all in the hot loop


@settings(deadline=None)
@given(values=st.lists(st.floats(width=32, allow_nan=False, allow_infinity=False), min_size=1, max_size=40))
def test_float32_values_written_as_python_floats(values: list[float]) -> None:
    texts = [repr(float(np.float32(v))) for v in values]  # detectron2: float32 tensor .tolist(), json.dump
    with counting_slow_paths() as slow_paths:
        assert_bit_equal(texts)
    assert slow_paths == {"long": 0, "float": 0}


@st.composite
def decimal_texts(draw: Any) -> str:
    """JSON numbers of any shape: 1 to 45 digits, a point anywhere, exponents past both ends of binary64."""
    digits = draw(st.text("0123456789", min_size=1, max_size=45))
    digits = digits.lstrip("0") or "0"
    sign = draw(st.sampled_from(["", "", "-"]))
    point = draw(st.integers(0, len(digits)))
    body = digits if point == 0 else f"{digits[:point] or '0'}.{digits[point:] or '0'}"
    if draw(st.booleans()):
        body += draw(st.sampled_from(["e", "E", "e+", "e-", "E-"])) + str(draw(st.integers(0, 420)))
    return sign + body


@settings(deadline=None)
@given(texts=st.lists(decimal_texts(), min_size=1, max_size=40))
def test_any_decimal_text_long_mantissas_and_exponents(texts: list[str]) -> None:
    with counting_slow_paths() as slow_paths:
        assert_bit_equal(texts)  # overflow gives inf and underflow 0, as float() does
    assert slow_paths["float"] <= slow_paths["long"]


def test_fraction_digits_read_eight_at_a_time() -> None:
    """Fractions of 1 to 24 digits (8 at a time while 8 digits follow, then one by one), before an
    exponent, a separator or the end of the array, with 18 or more significant digits too."""
    texts = []
    for k in range(1, 25):
        frac = "987654321012345678901234"[:k]
        texts += [f"1.{frac}", f"-0.{frac}e-3", f"12.{frac}E+2", f"0.{'0' * k}1", f"{frac}.5"]
    assert_bit_equal(texts)
    for text in texts:  # the number last in the array: the 8-byte reads stop before the end
        assert_bit_equal([text])


@settings(deadline=None)
@given(values=st.lists(st.floats(min_value=-2.3e-308, max_value=2.3e-308), min_size=1, max_size=40))
def test_subnormals(values: list[float]) -> None:
    assert_bit_equal([repr(v) for v in values] + [f"{v:.30e}" for v in values])


def _halfway_texts() -> list[str]:
    """Exact midpoints between neighbouring doubles near powers of two, and a hair above and below."""
    out = []
    with localcontext() as ctx:
        ctx.prec = 2000
        for e in (
            -1074,
            -1073,
            -1060,
            -1023,
            -1022,
            -1021,
            -500,
            -60,
            -1,
            0,
            1,
            52,
            53,
            54,
            63,
            64,
            500,
            1022,
            1023,
        ):
            x = math.ldexp(1.0, e)
            for y in (math.nextafter(x, 0.0), x, math.nextafter(x, math.inf)):
                up = math.nextafter(y, math.inf)
                if not math.isfinite(up):
                    continue
                mid = (Decimal(y) + Decimal(up)) / 2
                hair = Decimal(10) ** (mid.adjusted() - 60)
                out += [str(mid), str(mid + hair), str(mid - hair), f"{mid:.17e}", f"{mid:.25e}"]
    return out


HARD = [
    "0", "-0", "-0.0", "0.0", "0e0", "-0e-5", "1", "-1", "0.1", "0.2", "0.30000000000000004", "1e23", "1E23",
    "9007199254740993", "9007199254740993.0", "9007199254740993.00000000000000000001", "9007199254740995",
    "9007199254740994.99999999999999999999", "18014398509481985", "123456789012345678901234567890",
    "2.2250738585072012e-308", "2.2250738585072011e-308", "2.2250738585072014e-308", "4.9406564584124654e-324",
    "2.4703282292062327e-324", "2.4703282292062328e-324", "1.7976931348623157e308", "1.7976931348623158e308",
    "1.7976931348623159e308", "1e309", "-1e400", "1e-400", "7.2057594037927933e16", "8.98846567431158e307",
    "0.000000000000000000000000000000000000000000001", "1" + "0" * 400, "0." + "0" * 400 + "1",
    "1.00000000000000011102230246251565404236316680908203125",  # 1 + half an ulp: ties to even -> 1
    "1.00000000000000011102230246251565404236316680908203126",  # a hair above -> next double
    "796.0934448242188", "0.22904929306407318", "5e-324", "4.940656458412465441765687928682213723651e-324",
]  # fmt: skip


def test_hard_cases_powers_of_two_and_halfway_points() -> None:
    texts = HARD + _halfway_texts()
    with counting_slow_paths() as slow_paths:
        assert_bit_equal(texts)
    # the documented fallback (Python's float()) is reached, and only for truncated long numbers
    assert 0 < slow_paths["float"] <= slow_paths["long"] < len(texts)


def test_power_of_five_table_is_fast_floats() -> None:
    """Spot checks against fast_float's ``power_of_five_128`` (include/fast_float/fast_table.h)."""
    assert (int(jsonscan._POW5_HI[0]), int(jsonscan._POW5_LO[0])) == (0xEEF453D6923BD65A, 0x113FAA2906A13B3F)
    assert (int(jsonscan._POW5_HI[342]), int(jsonscan._POW5_LO[342])) == (1 << 63, 0)  # 5**0
    assert (int(jsonscan._POW5_HI[343]), int(jsonscan._POW5_LO[343])) == (0xA000000000000000, 0)  # 5**1
    # fast_float's entries for 5**-1 and 5**308 (rounded up / truncated to 128 bits)
    assert (int(jsonscan._POW5_HI[341]), int(jsonscan._POW5_LO[341])) == (
        0xCCCCCCCCCCCCCCCC,
        0xCCCCCCCCCCCCCCCD,
    )
    assert int(jsonscan._POW5_HI[650]) == 0x8E679C2F5E44FF8F
    for q in range(309):  # every non-negative power: 5**q truncated to its leading 128 bits
        p5 = 5**q
        w = (int(jsonscan._POW5_HI[q + 342]) << 64) | int(jsonscan._POW5_LO[q + 342])
        assert w == (
            p5 << (128 - p5.bit_length()) if p5.bit_length() <= 128 else p5 >> (p5.bit_length() - 128)
        )


def _detector_results(n: int, dtype: type, seed: int = 0) -> list[dict[str, Any]]:
    """Results as a detector writes them: a tensor's .tolist() (float32 or float64), json.dump."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 640, (n, 2))
    wh = rng.lognormal(3.5, 1.0, (n, 2))
    score = np.concatenate([rng.beta(1, 6, n // 2), rng.uniform(1e-5, 1e-2, n - n // 2)])
    boxes = np.concatenate([xy, wh], axis=1).astype(dtype).tolist()
    scores = score.astype(dtype).tolist()
    return [{"image_id": int(1 + i % 7), "category_id": int(1 + i % 3), "bbox": b, "score": s}
            for i, (b, s) in enumerate(zip(boxes, scores, strict=True))]  # fmt: skip


GT7 = {
    "images": [{"id": i} for i in range(1, 8)],
    "categories": [{"id": c, "name": str(c)} for c in (1, 2, 3)],
    "annotations": [
        {"id": i, "image_id": 1 + i % 7, "category_id": 1 + i % 3, "bbox": [10.0 * i, 5.0, 40.5, 30.25],
         "area": 1200.0, "iscrowd": 0}
        for i in range(1, 30)
    ],
}  # fmt: skip


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["detectron2-float32", "float64-repr"])
def test_detector_files_need_no_slow_path(tmp_path: Path, dtype: type) -> None:
    dets = _detector_results(3000, dtype)
    path = tmp_path / "dt.json"
    path.write_text(json.dumps(dets))
    with counting_slow_paths() as slow_paths:
        res = COCO(GT7, verbose=False).loadRes(str(path))
    cols = res._res.cols
    assert res._res.anns is None  # read by the scanner, not parsed into dicts
    assert slow_paths == {"long": 0, "float": 0}
    want_box = np.array([d["bbox"] for d in dets])
    want_score = np.array([d["score"] for d in dets])
    np.testing.assert_array_equal(cols.bbox.view(np.uint64), want_box.view(np.uint64))
    np.testing.assert_array_equal(cols.score.view(np.uint64), want_score.view(np.uint64))


def test_json_integer_minus_zero_is_zero_and_float_minus_zero_is_negative() -> None:
    got = scan_floats(["-0", "-0.0", "-0e3", "0"])
    assert [math.copysign(1, v) for v in got] == [1, -1, -1, 1]


# ------------------------------------------------------------------ structure, chunks, growth


def results_columns(raw: bytes) -> Any:
    cols = reading._scan_results(raw)
    assert cols is not None
    return cols


def assert_columns_equal(cols: Any, dets: list[dict[str, Any]]) -> None:
    np.testing.assert_array_equal(cols.image_id, [d["image_id"] for d in dets])
    np.testing.assert_array_equal(cols.category_id, [d["category_id"] for d in dets])
    np.testing.assert_array_equal(
        cols.bbox.view(np.uint64), np.array([d["bbox"] for d in dets]).view(np.uint64)
    )
    np.testing.assert_array_equal(
        cols.score.view(np.uint64), np.array([d["score"] for d in dets]).view(np.uint64)
    )


def _tricky_results(n: int, seed: int = 1) -> list[dict[str, Any]]:
    """Results whose extra fields hold strings and nested objects that look like entries."""
    dets = _detector_results(n, np.float32, seed)
    fake = '}, {"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1}, {'
    for i, d in enumerate(dets):
        if i % 3 == 0:
            d["note"] = fake * (1 + i % 4)
        if i % 5 == 0:
            d["parts"] = [{"bbox": [1, 2, 3, 4]}, {"score": 0.5}, {}]
    return dets


@pytest.mark.parametrize("workers", [2, 3, 7])
def test_chunks_split_inside_strings_and_nested_objects(
    monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    dets = _tricky_results(400)
    raw = json.dumps(dets).encode()
    monkeypatch.setattr(reading, "_SPLIT_BYTES", 64)
    monkeypatch.setattr(reading, "_workers", lambda: workers)
    missed = []
    real = reading._scan_chunk

    def watch(buf: Any, start: int, stop: int, inside: bool, spec: Any, first: Any) -> Any:
        out = real(buf, start, stop, inside, spec, first)
        missed.append(out.status == jsonscan.MISSED)
        return out

    monkeypatch.setattr(reading, "_scan_chunk", watch)
    assert_columns_equal(results_columns(raw), dets)
    assert len(missed) >= workers


def test_chunks_within_the_thread_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Under ``thread_limit(1)`` (a Dask task) a big array is scanned in one chunk, on this thread only."""
    dets = _tricky_results(400)
    raw = json.dumps(dets).encode()
    monkeypatch.setattr(reading, "_SPLIT_BYTES", 64)
    monkeypatch.setattr(reading, "_workers", lambda: 4)
    assert reading._chunk_count(len(raw)) == 4
    with thread_limit(1):
        assert reading._chunk_count(len(raw)) == 1
        with mock.patch.object(reading, "_run_threads", side_effect=AssertionError("threads started")):
            assert_columns_equal(results_columns(raw), dets)
    with thread_limit(2):
        assert reading._chunk_count(len(raw)) == 2


def test_chunks_past_the_end_of_the_annotations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Split points that fall in a big array after the annotations: the scan ends at the array's end."""
    gt = {
        "annotations": [dict(a, segmentation=[[1.5, 2.5, 3.5, 4.5]]) for a in GT7["annotations"]],
        "images": [
            {"id": i, "file_name": f"{i:012d}.jpg", "width": 640, "height": 480} for i in range(1, 500)
        ],
        "categories": GT7["categories"],
    }
    path = tmp_path / "gt.json"
    path.write_text(json.dumps(gt))
    monkeypatch.setattr(reading, "_SPLIT_BYTES", 64)
    monkeypatch.setattr(reading, "_workers", lambda: 5)
    coco = COCO(path, verbose=False)
    assert coco._scan is not None  # read by the scanner, not handed to the full parser
    assert coco.getImgIds() == list(range(1, 500))
    np.testing.assert_array_equal(coco._cols["gt"].ids, [a["id"] for a in gt["annotations"]])


@pytest.mark.parametrize("layout", ["compact", "indent", "crlf-tabs"])
def test_blocks_and_aux_grow_and_any_whitespace(monkeypatch: pytest.MonkeyPatch, layout: str) -> None:
    dets = _detector_results(500, np.float32, 2)
    longs = {}
    for i, d in enumerate(dets):
        d["image_id"] = f"img/{d['image_id']:03d}.jpg"
        if i % 7 == 0:  # a long number (26 digits): aux records
            longs[f'"@{i}@"'] = f"{d['bbox'][0]:.25e}"
            d["bbox"][0] = f"@{i}@"
    if layout == "compact":
        text = json.dumps(dets, separators=(",", ":"))
    elif layout == "indent":
        text = json.dumps(dets, indent=2)
    else:
        text = json.dumps(dets, indent="\t").replace("\n", "\r\n")
    for mark, number in longs.items():
        text = text.replace(mark, number)
    dets = json.loads(text)
    monkeypatch.setattr(reading, "_ROW_BYTES", 10**9)  # blocks of 16 rows, then sized from the first
    monkeypatch.setattr(reading, "_AUX_ROWS", 1)
    cols = results_columns(text.encode())
    assert cols.image_keys is not None
    assert [cols.image_keys[c] for c in cols.image_id] == [d["image_id"] for d in dets]
    np.testing.assert_array_equal(cols.bbox, np.array([d["bbox"] for d in dets]))


@pytest.mark.parametrize(
    "text",
    [
        '[{"image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4], "sc\\u006fre": 0.5}]',  # escaped key
        '[{"image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.5, "score": 0.7}]',  # repeated
        '[{"image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4], "score": NaN}]',  # not JSON's
        '[{"image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 01}]',  # leading zero
        '[{"image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 1.}]',
        '[{"image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4], "score": .5}]',
        '[{"image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 1e}]',
        '[{"image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4], "score": -}]',
        '[{"image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.5},]',  # trailing comma
        '[{"image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.5}] x',
        '[{"image_id": 1, "category_id": 1, "bbox": [1, 2, 3], "score": 0.5}]',
        '[{"image_id": "a", "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.5},'
        ' {"image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.5}]',  # mixed id kinds
        '[{"image_id": 1.5, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.5}]',
        '[{"image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4]}]',  # missing key
    ],
)
def test_scanner_refuses_what_it_does_not_read(text: str) -> None:
    """Each of these goes to the full parser (and its checks), never to a wrong fast answer."""
    assert reading._scan_results(text.encode()) is None


def test_whole_floats_and_exponents_are_integer_ids() -> None:
    text = '[{"image_id": 7.0, "category_id": 1e0, "bbox": [1, 2, 3, 4], "score": 5E-1}]'
    cols = results_columns(text.encode())
    assert cols.image_id.tolist() == [7]
    assert cols.category_id.tolist() == [1]
    assert cols.score.tolist() == [0.5]


# ------------------------------------------------------------------ ids: strings, big integers


def quiet(fn: Any, *args: Any, **kwargs: Any) -> Any:
    with contextlib.redirect_stdout(io.StringIO()):
        return fn(*args, **kwargs)


def _string_id_set(data_dir: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """fake100 with file names as image ids and names as category ids (with a quote and a non-ASCII one)."""
    gt = json.loads((data_dir / "coco-val2014-fake100/instances_val2014_100.json").read_text())
    dt = json.loads(
        (data_dir / "coco-val2014-fake100/instances_val2014_fakebbox100_results.json").read_text()
    )
    img = {i["id"]: i["file_name"] for i in gt["images"]}
    cat = {c["id"]: c["name"] for c in gt["categories"]}
    cat[1] = 'per"son/é'
    for i in gt["images"]:
        i["id"] = img[i["id"]]
    for c in gt["categories"]:
        c["id"] = cat[c["id"]]
    for a in gt["annotations"] + dt:
        a["image_id"] = img[a["image_id"]]
        a["category_id"] = cat[a["category_id"]]
    return gt, dt


def _run(coco_cls: Any, eval_cls: Any, gt: Any, dt: Any, params: dict[str, Any] | None = None) -> Any:
    cg = quiet(coco_cls, gt)
    e = quiet(eval_cls, cg, quiet(cg.loadRes, copy.deepcopy(dt) if isinstance(dt, list) else dt), "bbox")
    for key, value in (params or {}).items():
        setattr(e.params, key, copy.deepcopy(value))
    quiet(e.evaluate)
    quiet(e.accumulate)
    if len(e.params.maxDets) >= 3:
        quiet(e.summarize)
    return e


@pytest.mark.parametrize("form", ["files", "dicts"])
def test_string_ids_match_pycocotools(data_dir: Path, tmp_path: Path, form: str) -> None:
    gt, dt = _string_id_set(data_dir)
    gt_path, dt_path = tmp_path / "gt.json", tmp_path / "dt.json"
    gt_path.write_text(json.dumps(gt))
    dt_path.write_text(json.dumps(dt))
    oracle = _run(pc_coco.COCO, pc_eval.COCOeval, str(gt_path), str(dt_path))
    if form == "files":
        fast = _run(COCO, COCOeval, str(gt_path), str(dt_path))
    else:
        fast = _run(lambda d: COCO(d, verbose=False), COCOeval, copy.deepcopy(gt), dt)
    np.testing.assert_array_equal(fast.stats, oracle.stats)
    for key in ("precision", "recall", "scores"):
        np.testing.assert_array_equal(fast.eval[key], oracle.eval[key])
    assert list(fast.params.imgIds) == list(oracle.params.imgIds)
    assert list(fast.params.catIds) == list(oracle.params.catIds)
    got = [(e["image_id"], e["category_id"], e["dtIds"], e["gtIds"]) for e in fast.evalImgs if e]
    want = [(e["image_id"], e["category_id"], e["dtIds"], e["gtIds"]) for e in oracle.evalImgs if e]
    assert got == want
    result = evaluate_coco(str(gt_path), str(dt_path))
    assert set(result.per_class_ap) == {c["id"] for c in gt["categories"]}
    assert result.cat_ids == sorted(c["id"] for c in gt["categories"])
    assert all(type(c) is str for c in result.cat_ids)


@pytest.mark.parametrize("form", ["file", "list"])
def test_unknown_string_image_is_named(tmp_path: Path, form: str) -> None:
    gt = {"images": [{"id": "a.jpg"}], "categories": [{"id": 1, "name": "x"}], "annotations": []}
    dets = [{"image_id": "a.jpg", "category_id": 1, "bbox": [0, 0, 1, 1], "score": 0.5},
            {"image_id": "b.jpg", "category_id": 1, "bbox": [0, 0, 1, 1], "score": 0.5}]  # fmt: skip
    path = tmp_path / "dt.json"
    path.write_text(json.dumps(dets))
    with pytest.raises(
        ValueError, match=r"entry 1 is on image_id 'b\.jpg', which is not in the ground truth"
    ):
        COCO(gt, verbose=False).loadRes(str(path) if form == "file" else dets)


@pytest.mark.parametrize("form", ["file", "list"])
def test_numeric_string_image_is_not_the_integer(tmp_path: Path, form: str) -> None:
    # faster-coco-eval's gt_ignore_test.json: image id "2299" (a string), results on 2299 (an int).
    # pycocotools' set comparison keeps them apart and refuses the results; "2299" must not be
    # read as the integer 2299.
    gt = {"images": [{"id": "2299"}], "categories": [{"id": 1, "name": "x"}], "annotations": []}
    dets = [{"image_id": 2299, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 0.5}]
    path = tmp_path / "dt.json"
    path.write_text(json.dumps(dets))
    gt_path = tmp_path / "gt.json"
    gt_path.write_text(json.dumps(gt))
    with contextlib.redirect_stdout(io.StringIO()), pytest.raises(AssertionError, match="do not correspond"):
        pc_coco.COCO(str(gt_path)).loadRes(copy.deepcopy(dets))
    with pytest.raises(ValueError, match=r"entry 0 is on image_id 2299, which is not in the ground truth"):
        COCO(gt, verbose=False).loadRes(str(path) if form == "file" else dets)
    # an integral float id equals the int, as in Python's set comparison (pycocotools accepts it)
    gt_float = dict(gt, images=[{"id": 2299.0}])
    assert COCO(gt_float, verbose=False).loadRes(dets).getAnnIds() == [1]


BIG = 1234567890123456789  # 19 digits: beyond 2**53, inside int64


def test_ids_beyond_2_53_are_exact(tmp_path: Path) -> None:
    gt = {
        "images": [{"id": BIG}, {"id": BIG + 1}],
        "categories": [{"id": 9_000_000_000_000_000_001, "name": "x"}],
        "annotations": [
            {"id": BIG + k, "image_id": BIG + k % 2, "category_id": 9_000_000_000_000_000_001,
             "bbox": [k, k, 10, 10], "area": 100, "iscrowd": 0}
            for k in range(4)
        ],
    }  # fmt: skip
    dets = [{"image_id": BIG + k % 2, "category_id": 9_000_000_000_000_000_001, "bbox": [k + 0.5, k, 10, 10],
             "score": 0.1 * k} for k in range(6)]  # fmt: skip
    gt_path, dt_path = tmp_path / "gt.json", tmp_path / "dt.json"
    gt_path.write_text(json.dumps(gt))
    dt_path.write_text(json.dumps(dets))
    fast = _run(COCO, COCOeval, str(gt_path), str(dt_path))
    oracle = _run(pc_coco.COCO, pc_eval.COCOeval, str(gt_path), str(dt_path))
    np.testing.assert_array_equal(fast.stats, oracle.stats)
    assert COCO(gt_path, verbose=False).getImgIds() == [BIG, BIG + 1]


@pytest.mark.parametrize(
    ("where", "value", "match"),
    [
        ("dt", "18446744073709551616", r"entry 0 has image_id=18446744073709551616, outside int64's range"),
        ("dt", "-9223372036854775809", r"image_id=-9223372036854775809, outside int64's range"),
        ("dt", "1e20", r"image_id=1e\+20, a float beyond 2\*\*53"),
        ("gt", "9223372036854775808", r"entry 0 has image_id=9223372036854775808, outside int64's range"),
    ],
)
def test_ids_out_of_range_are_named_as_written(tmp_path: Path, where: str, value: str, match: str) -> None:
    gt = '{"images": [{"id": 1}], "categories": [{"id": 1}], "annotations": [{"id": 1, "image_id": %s,' \
         ' "category_id": 1, "bbox": [0, 0, 1, 1], "area": 1, "iscrowd": 0}]}'  # fmt: skip
    dt = '[{"image_id": %s, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 0.5}]'
    gt_path, dt_path = tmp_path / "gt.json", tmp_path / "dt.json"
    gt_path.write_text(gt % (value if where == "gt" else "1"))
    dt_path.write_text(dt % (value if where == "dt" else "1"))

    def load_and_evaluate() -> None:
        g = COCO(gt_path, verbose=False)
        COCOeval(g, g.loadRes(str(dt_path)), verbose=False).evaluate()

    with pytest.raises(ValueError, match=match):
        load_and_evaluate()


# ------------------------------------------------------------------ memory and compile budget


def test_scan_reserves_no_multiple_of_the_file(tmp_path: Path) -> None:
    """Peak allocations while reading a results file stay near its size (the old scan reserved ~4x)."""
    raw = json.dumps(_detector_results(40_000, np.float32, 3)).encode()
    results_columns(raw)  # compile / load first
    tracemalloc.start()
    try:
        cols = results_columns(raw)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(cols) == 40_000
    # rows (8 slots x 8 B, the first block sized at one row per 128 B) plus the columns made from
    # them: about 1x the file for ~150 B entries; the former scan reserved 5.4x
    assert peak < 1.25 * len(raw), (peak, len(raw))


def test_out_of_memory_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "big.json"
    path.write_text(json.dumps(_detector_results(10, np.float32)))

    def no_memory(raw: bytes) -> Any:
        raise MemoryError

    monkeypatch.setattr(reading, "_scan_results", no_memory)
    with pytest.raises(MemoryError, match=r"big\.json: not enough memory to load this 0 MiB JSON file"):
        COCO(GT7, verbose=False).loadRes(str(path))
    from fastdet.cli import main

    gt_path = tmp_path / "gt.json"
    gt_path.write_text(json.dumps(GT7))
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        assert main(["eval", str(gt_path), str(path)]) == 2
    assert err.getvalue().strip().splitlines()[-1].startswith("fastdet: error: ")
    assert "not enough memory" in err.getvalue()


def test_one_compiled_signature_for_every_file(data_dir: Path, tmp_path: Path) -> None:
    """Ground truth, results, string ids and long numbers all run the same scanner signature."""
    gt, dt = _string_id_set(data_dir)
    path = tmp_path / "dt.json"
    path.write_text(json.dumps(dt))
    COCO(data_dir / "coco-val2014-fake100/instances_val2014_100.json", verbose=False)
    COCO(gt, verbose=False).loadRes(str(path))
    scan_floats(["1.2345678901234567890123"])
    assert len(jsonscan.scan_objects.signatures) == 1
    assert len(jsonscan._skip_value.signatures) == 1


NAMES = st.sampled_from(
    ["a", "b.jpg", "000123.jpg", 'q"uote', "back\\slash", "é", "tab\tbed", "Z", "10", "9"]
)


@settings(deadline=None, max_examples=40)
@given(case=coco_pairs(), names=st.lists(NAMES, min_size=8, max_size=8, unique=True), files=st.booleans())
def test_hypothesis_string_ids_match_pycocotools(
    case: Any, names: list[str], files: bool, tmp_path_factory: Any
) -> None:
    """The edge-case pairs of test_coco with image and category ids replaced by strings."""
    gt, results, params = case
    params.pop("catIds", None)
    if not results:
        results = [
            {"image_id": 1, "category_id": gt["categories"][0]["id"], "bbox": [0, 0, 5, 5], "score": 0.4}
        ]
    img = {i["id"]: names[k] for k, i in enumerate(gt["images"])}
    cat = {c["id"]: names[-1 - k] for k, c in enumerate(gt["categories"])}
    for i in gt["images"]:
        i["id"] = img[i["id"]]
    for c in gt["categories"]:
        c["id"] = cat[c["id"]]
    for a in gt["annotations"] + results:
        a["image_id"] = img[a["image_id"]]
        a["category_id"] = cat[a["category_id"]]
    folder = tmp_path_factory.mktemp("ids")
    gt_path, dt_path = folder / "gt.json", folder / "dt.json"
    gt_path.write_text(json.dumps(gt))
    dt_path.write_text(json.dumps(results))
    oracle = _run(pc_coco.COCO, pc_eval.COCOeval, str(gt_path), str(dt_path), params)
    if files:
        fast = _run(COCO, COCOeval, str(gt_path), str(dt_path), params)
    else:
        fast = _run(lambda d: COCO(d, verbose=False), COCOeval, copy.deepcopy(gt), results, params)
    np.testing.assert_array_equal(fast.stats, oracle.stats)
    for key in ("precision", "recall", "scores"):
        np.testing.assert_allclose(fast.eval[key], oracle.eval[key], rtol=0, atol=1e-12)
    assert list(fast.params.imgIds) == list(oracle.params.imgIds)


@pytest.mark.parametrize(("iou_type", "files"), [
    ("bbox", ("coco-val2014-fake100/instances_val2014_100.json",
              "coco-val2014-fake100/instances_val2014_fakebbox100_results.json")),
    ("bbox", ("coco-val2017-img2299-crowd/gt_ignore_test_intids.json",
              "coco-val2017-img2299-crowd/dt_ignore_test.json")),
    ("bbox", ("d2-coco-tiny/gt_annotations.json", "d2-coco-tiny/detections.json")),
    ("keypoints", ("coco-keypoints-small/gt_dataset.json", "coco-keypoints-small/dt_dataset.json")),
])  # fmt: skip
def test_small_files_skip_the_scanner_with_the_same_result(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, iou_type: str, files: tuple[str, str]
) -> None:
    """Files under SCAN_MIN_BYTES are parsed by the standard library: nothing compiles, same numbers."""
    gt_path, dt_path = (str(data_dir / f) for f in files)

    def run() -> COCOeval:
        gt = COCO(gt_path, verbose=False)
        with contextlib.redirect_stdout(io.StringIO()):
            E = COCOeval(gt, gt.loadRes(dt_path), iou_type)
            E.evaluate()
            E.accumulate()
            E.summarize()
        return E

    scanned = run()  # the conftest fixture sets SCAN_MIN_BYTES to 0: everything is scanned
    monkeypatch.setattr(reading, "SCAN_MIN_BYTES", 1 << 20)
    assert max(Path(p).stat().st_size for p in (gt_path, dt_path)) < reading.SCAN_MIN_BYTES

    def no_scanning(*args: Any) -> Any:
        raise AssertionError("the scanner ran on a small file")

    monkeypatch.setattr(jsonscan, "scan_objects", no_scanning)
    parsed = run()
    assert parsed.stats.tolist() == scanned.stats.tolist()
    for key in ("precision", "recall", "scores"):
        np.testing.assert_array_equal(parsed.eval[key], scanned.eval[key])


_json_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),  # any size: orjson would make a float of one beyond 64 bits
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text('0123456789:[,x-\\"é\u2028', max_size=40),  # digit runs inside strings
)
_json_values = st.recursive(
    _json_leaves,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=12,
)


@given(
    value=_json_values,
    indent=st.sampled_from([None, 1, "\t"]),
    extra=st.sampled_from(["", "NaN", "1e400", "-Infinity"]),
)
@example(value=[2**64, -(2**70), 2**64 - 1, "1234567890123456789012"], indent=None, extra="")
def test_small_files_parse_as_the_standard_library(value: Any, indent: Any, extra: str) -> None:
    """Small files go to orjson unless an integer of 19+ digits (or a literal orjson refuses) needs
    the standard library: the same values and types as ``json.loads`` either way."""
    text = json.dumps([value, extra] if not extra else [value, 0], indent=indent)
    if extra:
        text = text[: text.rindex("0")] + extra + text[text.rindex("0") + 1 :]
    got = reading._loads_exact(text.encode(), "f.json")
    want = json.loads(text)
    assert repr(got) == repr(want)
    assert json.dumps(got) == json.dumps(want)


@pytest.mark.parametrize(
    ("text", "long"),
    [
        (b"12345678901234567890", True),  # the whole text
        (b"1234567890123456789", True),  # 19 digits, the whole text
        (b"[12345678901234567890123]", True),  # right after the text's first byte
        (b'["x:1234567890123456789012", 12345678901234567890]', True),  # one in a string, then one
        (b'{"id": -1234567890123456789}', True),
        (b"[1,\n1234567890123456789\t]", True),
        (b"[123456789012345678]", False),  # 18 digits: orjson keeps it exact
        (b"[0.12345678901234567890123]", False),  # a float's digits: orjson rounds as json does
        (b'["E:00000000000000000001O000"]', False),  # a compressed RLE's digits, not a number
        (b'["x:1234567890123456789]"]', None),  # looks like one inside a string: either parser
    ],
)
def test_long_integers_are_found_before_orjson(text: bytes, long: bool | None) -> None:
    if long is not None:
        assert reading._has_long_integer(text) is long
    assert repr(reading._loads_exact(text, "f.json")) == repr(json.loads(text))
