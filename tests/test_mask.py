"""fastdet.mask against the coco-mask-api cases, pycocotools.mask, the naive reference and bad input.

Every comparison is exact (bytes, integers, floats bit for bit): the kernels do the
same integer and floating-point operations as pycocotools' maskApi.c.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import reference as ref
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_array_equal
from strategies import st_masks, st_polygons, st_runs

import fastdet
from fastdet import _rle
from fastdet import mask as fm

pcm = pytest.importorskip("pycocotools.mask")


def _pc_decode(rles):
    """pycocotools.mask.decode without its NumPy 2 DeprecationWarning (``__array__`` lacks ``copy``)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return pcm.decode(rles)


def _cases(data_dir):
    with open(data_dir / "coco-mask-api" / "mask_cases.json") as f:
        return {c["id"]: c for c in json.load(f)["cases"]}


def _rle_in(r):
    return {"size": r["size"], "counts": r["counts"].encode("ascii")}


def _rle_out(r):
    return {"size": r["size"], "counts": r["counts"].decode("ascii")}


def _same_rle(a, b):
    assert (a["size"], a["counts"]) == (b["size"], b["counts"])
    assert type(a["counts"]) is bytes
    assert all(type(v) is int for v in a["size"])


# ----------------------------------------------------------------------------- the 33 cases
def test_the_case_file_has_33_cases(data_dir):
    assert len(_cases(data_dir)) == 33


def _check_poly_case(c):
    inp, exp = c["input"], c["expected"]
    rles = fm.frPyObjects(inp["polygons"], inp["h"], inp["w"])
    assert [_rle_out(r) for r in rles] == exp["rles"]
    assert fm.area(rles).tolist() == exp["areas"]
    assert fm.toBbox(rles).tolist() == exp["bboxes"]
    merged = fm.merge(rles)
    assert _rle_out(merged) == exp["merged"]
    assert int(fm.area(merged)) == exp["merged_area"]
    assert fm.toBbox(merged).tolist() == exp["merged_bbox"]


@pytest.mark.parametrize("cid", ["poly-1", "poly-2", "poly-3", "poly-4", "poly-5", "poly-6",
                                 "poly-outside", "poly-tiny", "poly-self-intersecting"])  # fmt: skip
def test_polygon_cases(data_dir, cid):
    _check_poly_case(_cases(data_dir)[cid])


def test_polygon_case_with_a_later_2_point_polygon(data_dir):
    """pycocotools rasterises the 2-point polygon (to an empty mask); fastdet.mask raises, while
    the columnar rasteriser (no point-count check, for evaluation code) reproduces pycocotools."""
    c = _cases(data_dir)["poly-quirk-4coords-later"]
    inp, exp = c["input"], c["expected"]
    with pytest.raises(
        ValueError, match=r"pyobj\[1\] is not a valid polygon: 4 numbers, fewer than 3 points"
    ):
        fm.frPyObjects(inp["polygons"], inp["h"], inp["w"])
    polys = inp["polygons"]
    xy = np.concatenate([np.array(p, float) for p in polys])
    offsets = np.cumsum([0] + [len(p) // 2 for p in polys])
    rles = _rle.from_polygons(xy, offsets, inp["h"], inp["w"])
    assert [_rle_out(r) for r in _rle.to_dicts(rles)] == exp["rles"]
    merged = _rle.merge_groups(rles, [0, len(polys)])
    assert _rle_out(_rle.to_dicts(merged)[0]) == exp["merged"]
    assert _rle.areas(merged).tolist() == [exp["merged_area"]]


def test_first_polygon_of_4_numbers_is_read_as_a_box(data_dir):
    """pycocotools takes its box branch and raises TypeError for a list; fastdet returns the box RLE."""
    c = _cases(data_dir)["poly-quirk-4coords-first"]
    inp, exp = c["input"], c["expected"]
    assert exp["raises"] == "TypeError"
    got = fm.frPyObjects(inp["polygons"], inp["h"], inp["w"])
    assert [_rle_out(r) for r in got] == [exp["same_numbers_as_bbox_ndarray"]]


@pytest.mark.parametrize("cid", ["crowd-rle-1", "crowd-rle-2"])
def test_crowd_rle_cases(data_dir, cid):
    c = _cases(data_dir)[cid]
    inp, exp = c["input"], c["expected"]
    r = fm.frPyObjects(inp["uncompressed_rle"], inp["h"], inp["w"])
    assert _rle_out(r) == exp["rle"]
    assert fm.area(r) == exp["area"]
    assert isinstance(fm.area(r), np.uint32)
    assert fm.toBbox(r).tolist() == exp["bbox"]


def test_bbox_case(data_dir):
    c = _cases(data_dir)["bbox-1"]
    inp, exp = c["input"], c["expected"]
    rles = fm.frPyObjects(np.array(inp["bboxes"]), inp["h"], inp["w"])
    assert [_rle_out(r) for r in rles] == exp["rles"]
    assert fm.area(rles).tolist() == exp["areas"]
    assert fm.toBbox(rles).tolist() == exp["bboxes"]
    # a list of boxes gives the same (pycocotools raises TypeError for a list)
    assert fm.frPyObjects(inp["bboxes"], inp["h"], inp["w"]) == rles


@pytest.mark.parametrize("cid", ["merge-union-2", "merge-intersect-2", "merge-union-3", "merge-intersect-3"])
def test_merge_cases(data_dir, cid):
    c = _cases(data_dir)[cid]
    inp, exp = c["input"], c["expected"]
    r = fm.merge([_rle_in(x) for x in inp["rles"]], intersect=inp["intersect"])
    assert _rle_out(r) == exp["rle"]
    assert int(fm.area(r)) == exp["area"]
    assert fm.toBbox(r).tolist() == exp["bbox"]
    assert _rle_out(fm.merge(inp["rles"], intersect=inp["intersect"])) == exp["rle"]  # str counts


@pytest.mark.parametrize("cid", ["iou-rle-crowd", "iou-rle-nocrowd", "iou-rle-allcrowd"])
def test_iou_rle_cases(data_dir, cid):
    c = _cases(data_dir)[cid]
    inp = c["input"]
    got = fm.iou([_rle_in(x) for x in inp["dt"]], [_rle_in(x) for x in inp["gt"]], inp["iscrowd"])
    assert got.dtype == np.float64
    assert got.flags.f_contiguous
    assert got.tolist() == c["expected"]["iou"]


@pytest.mark.parametrize("cid", ["iou-bbox-mixed", "iou-bbox-nocrowd"])
def test_iou_box_cases(data_dir, cid):
    c = _cases(data_dir)[cid]
    inp = c["input"]
    assert fm.iou(np.array(inp["dt"]), np.array(inp["gt"]), inp["iscrowd"]).tolist() == c["expected"]["iou"]
    assert fm.iou(inp["dt"], inp["gt"], inp["iscrowd"]).tolist() == c["expected"]["iou"]


def test_iou_empty_case(data_dir):
    c = _cases(data_dir)["iou-empty-dt"]
    inp = c["input"]
    got = fm.iou(inp["dt"], [_rle_in(x) for x in inp["gt"]], inp["iscrowd"])
    assert got == []
    assert isinstance(got, list)


@pytest.mark.parametrize("cid", ["mask-zeros", "mask-ones", "mask-first-pixel", "mask-last-pixel",
                                 "mask-checker", "mask-random", "mask-row", "mask-col", "mask-long-runs"])  # fmt: skip
def test_mask_cases(data_dir, cid):
    c = _cases(data_dir)[cid]
    m = np.asfortranarray(np.array(c["input"]["mask"], dtype=np.uint8))
    r = fm.encode(m)
    assert _rle_out(r) == c["expected"]["rle"]
    assert int(fm.area(r)) == c["expected"]["area"]
    assert fm.toBbox(r).tolist() == c["expected"]["bbox"]
    back = fm.decode(r)
    assert back.dtype == np.uint8
    assert back.flags.f_contiguous
    assert_array_equal(back, m)
    assert fm.encode(np.ascontiguousarray(m)) == r  # any layout
    assert fm.encode(m.astype(bool)) == r


# ----------------------------------------------------------------------------- against pycocotools
@given(masks=st_masks())
def test_encode_decode_area_bbox_match_pycocotools(masks):
    ours, theirs = fm.encode(masks), pcm.encode(masks)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs, strict=True):
        _same_rle(a, b)
    assert_array_equal(fm.encode(masks[:, :, 0])["counts"], pcm.encode(masks[:, :, :1])[0]["counts"])
    h, w, _ = masks.shape
    if h * w:  # pycocotools' decode of a 0-pixel mask reads past its buffer
        got = fm.decode(ours)
        assert got.shape == masks.shape
        assert got.flags.f_contiguous
        assert_array_equal(got, _pc_decode(theirs))
        assert_array_equal(fm.decode(ours[0]), _pc_decode(theirs[0]))
    area = fm.area(ours)
    assert area.dtype == np.uint32
    assert area.tolist() == pcm.area(theirs).tolist()
    assert fm.area(ours[0]) == pcm.area(theirs[0])
    assert type(fm.area(ours[0])) is np.uint32
    box = fm.toBbox(ours)
    assert box.dtype == np.float64
    assert box.shape == (len(ours), 4)
    assert box.tolist() == pcm.toBbox(theirs).tolist()
    assert fm.toBbox(ours[0]).tolist() == pcm.toBbox(theirs[0]).tolist()


@given(masks=st_masks(min_n=1, max_n=5), intersect=st.booleans())
def test_merge_matches_pycocotools(masks, intersect):
    rles = pcm.encode(masks)
    _same_rle(fm.merge(rles, intersect), pcm.merge(rles, intersect))
    _same_rle(fm.merge(rles[:1], intersect), pcm.merge(rles[:1], intersect))


@pytest.mark.parametrize("words_per_run", [0, 10**9])  # interval folding only, bitmap only
@given(masks=st_masks(min_n=2, max_n=6), intersect=st.booleans())
def test_merge_bitmap_and_interval_paths_both_match_pycocotools(words_per_run, masks, intersect):
    rles = pcm.encode(masks)
    saved = _rle.BITMAP_WORDS_PER_RUN
    _rle.BITMAP_WORDS_PER_RUN = words_per_run
    try:
        _same_rle(fm.merge(rles, intersect), pcm.merge(rles, intersect))
    finally:
        _rle.BITMAP_WORDS_PER_RUN = saved


@pytest.mark.parametrize("words_per_run", [0, 4, 10**9])
def test_merge_of_many_polygon_masks_matches_pycocotools(words_per_run):
    """60 overlapping polygons on a 97 x 131 image (bitmap words straddle columns), union and intersection."""
    rng = np.random.default_rng(5)
    h, w = 97, 131
    polys = []
    for _ in range(60):
        cx, cy, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(3, 60)
        ang = np.sort(rng.uniform(0, 2 * np.pi, 12))
        polys.append(np.stack([cx + r * np.cos(ang), cy + r * np.sin(ang)], 1).ravel().round(2).tolist())
    rles = [*pcm.frPyObjects(polys, h, w), pcm.encode(np.ones((h, w, 1), np.uint8, order="F"))[0]]
    saved = _rle.BITMAP_WORDS_PER_RUN
    _rle.BITMAP_WORDS_PER_RUN = words_per_run
    try:
        for sub in (rles[:60], rles, rles[55:], rles[:3]):
            for intersect in (0, 1):
                _same_rle(fm.merge(sub, intersect), pcm.merge(sub, intersect))
    finally:
        _rle.BITMAP_WORDS_PER_RUN = saved


@st.composite
def _uncompressed(draw, n_max=4):
    h, w = draw(st.integers(0, 6)), draw(st.integers(0, 6))
    n = draw(st.integers(1, n_max))
    return h, w, [{"size": [h, w], "counts": draw(st_runs(h, w))} for _ in range(n)]


@given(data=_uncompressed(), intersect=st.booleans())
def test_runs_with_zero_length_runs_match_pycocotools(data, intersect):
    """Uncompressed RLEs with empty runs anywhere: pycocotools keeps them, and so must every kernel."""
    h, w, objs = data
    ours = fm.frPyObjects(objs, h, w)
    theirs = pcm.frPyObjects(objs, h, w)
    for a, b in zip(ours, theirs, strict=True):
        _same_rle(a, b)
    _same_rle(fm.frPyObjects(objs[0], h, w), pcm.frPyObjects(objs[0], h, w))
    assert fm.area(ours).tolist() == pcm.area(theirs).tolist()
    assert fm.toBbox(ours).tolist() == pcm.toBbox(theirs).tolist()
    if h * w:
        walk, longest = ref.merge_walk([o["counts"] for o in objs], intersect)
        if walk is not None:  # else pycocotools' merge stops early, or never returns
            assert ref.rle_from_string(fm.merge(ours, intersect)["counts"]) == walk
            if longest <= h * w + 1:  # else pycocotools writes past its buffer
                _same_rle(fm.merge(ours, intersect), pcm.merge(theirs, intersect))
        else:  # fastdet merges the same pixels without empty runs: the true union / intersection
            pix = [ref.rle_decode(o["counts"], h, w).astype(bool) for o in objs]
            want = np.logical_and.reduce(pix) if intersect else np.logical_or.reduce(pix)
            assert_array_equal(fm.decode(fm.merge(ours, intersect)), want)
        crowd = [i % 2 for i in range(len(ours))]
        assert_array_equal(fm.iou(ours, ours, crowd), pcm.iou(theirs, theirs, crowd))
        assert_array_equal(fm.decode(ours), _pc_decode(theirs))


@given(masks=st_masks(min_n=0, max_n=5), gt=st_masks(max_n=4), data=st.data())
def test_iou_matches_pycocotools(masks, gt, data):
    h, w, _ = masks.shape
    gt = gt[: min(h, gt.shape[0]), : min(w, gt.shape[1])]
    gt_masks = np.zeros((h, w, gt.shape[2]), np.uint8, order="F")
    gt_masks[: gt.shape[0], : gt.shape[1]] = gt
    dt_rles, gt_rles = pcm.encode(masks), pcm.encode(gt_masks)
    crowd = data.draw(st.lists(st.integers(0, 1), min_size=len(gt_rles), max_size=len(gt_rles)))
    got, want = fm.iou(dt_rles, gt_rles, crowd), pcm.iou(dt_rles, gt_rles, crowd)
    if isinstance(want, list):
        assert got == want == []
    else:
        assert got.dtype == np.float64
        assert got.flags.f_contiguous
        assert_array_equal(got, want)


@given(data=st.data())
def test_polygons_match_pycocotools(data):
    h, w = data.draw(st.integers(1, 16)), data.draw(st.integers(1, 16))
    polys = data.draw(st_polygons(h, w))
    ours, theirs = fm.frPyObjects(polys, h, w), pcm.frPyObjects(polys, h, w)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs, strict=True):
        _same_rle(a, b)
    _same_rle(fm.merge(ours), pcm.merge(theirs))
    _same_rle(fm.frPyObjects(polys[0], h, w), pcm.frPyObjects(polys[:1], h, w)[0])


@given(data=st.data())
def test_degenerate_polygons_match_pycocotools_in_the_columnar_api(data):
    """0, 1 and 2-point polygons and repeated points, which fastdet.mask refuses, rasterise as in pycocotools."""
    h, w = data.draw(st.integers(1, 10)), data.draw(st.integers(1, 10))
    polys = data.draw(st_polygons(h, w, min_points=0))
    polys = [
        [12.0, 1.0, 3.0, 4.0, 5.0, 6.0],
        *polys,
    ]  # a long first polygon takes pycocotools' polygon branch
    theirs = [r["counts"] for r in pcm.frPyObjects(polys, h, w)]
    xy = np.array([c for p in polys for c in p], float)
    rles = _rle.from_polygons(xy, np.cumsum([0] + [len(p) // 2 for p in polys]), h, w)
    assert _rle.to_counts(rles) == theirs


@given(data=st.data())
def test_boxes_match_pycocotools(data):
    h, w = data.draw(st.integers(1, 20)), data.draw(st.integers(1, 20))
    n = data.draw(st.integers(1, 6))
    coord = st.one_of(st.integers(-4, 24).map(float), st.floats(-4, 24).map(lambda v: round(v, 2)))
    side = st.one_of(st.just(0.0), st.integers(0, 20).map(float), st.floats(0, 20).map(lambda v: round(v, 2)))
    rows = data.draw(st.lists(st.tuples(coord, coord, side, side), min_size=n, max_size=n))
    boxes = np.array(rows, np.float64)
    ours, theirs = fm.frPyObjects(boxes, h, w), pcm.frPyObjects(boxes, h, w)
    for a, b in zip(ours, theirs, strict=True):
        _same_rle(a, b)
    crowd = [i % 2 for i in range(n)]
    assert_array_equal(fm.iou(boxes, boxes[::-1], crowd), pcm.iou(boxes, boxes[::-1], crowd))


@given(data=st.data())
def test_compressed_strings_round_trip_byte_identical(data):
    h, w = data.draw(st.integers(1, 300)), data.draw(st.integers(1, 300))
    runs = data.draw(st_runs(h, w))
    s = pcm.frPyObjects({"size": [h, w], "counts": runs}, h, w)["counts"]
    assert s == ref.rle_to_string(runs)
    rles = _rle.from_counts([s, s.decode("ascii")], h, w)
    assert rles.runs.tolist() == runs + runs
    assert _rle.to_counts(rles) == [s, s]
    # frPyObjects re-encodes a compressed RLE (pycocotools refuses one)
    assert fm.frPyObjects({"size": [h, w], "counts": s}, h, w)["counts"] == s


def _padded(s):
    """A valid string ``s`` with each value's bytes re-encoded with extra continuation bytes (same runs)."""
    out, value = bytearray(), bytearray()
    for b in s:
        value.append(b)
        if not (b - 48) & 0x20:  # the last byte of a value: sign-extend it by one more 5-bit byte
            sign = 0x1F if (b - 48) & 0x10 else 0
            out += value[:-1] + bytes([48 + ((b - 48) | 0x20), 48 + sign])
            value.clear()
    return bytes(out)


@given(data=st.data(), boxes=st.booleans())
def test_measure_kernel_matches_the_exact_scan_and_the_reference(data, boxes):
    """measure_strings (areas and boxes without stored runs) against _scan_exact, string by string,
    on valid strings, valid ones with longer encodings of their values, and arbitrary bytes."""
    from fastdet._kernels import rlestring as ks

    h, w = data.draw(st.integers(0, 40)), data.draw(st.integers(1, 40))
    strings, valid = [], []
    for _ in range(data.draw(st.integers(1, 6))):
        kind = data.draw(st.sampled_from(["valid", "padded", "bytes"]))
        if kind == "bytes":
            strings.append(bytes(data.draw(st.lists(st.integers(40, 120), max_size=14))))
            valid.append(None)
        else:
            runs = data.draw(st_runs(h, w))
            s = ref.rle_to_string(runs)
            strings.append(_padded(s) if kind == "padded" else s)
            valid.append(runs)
    buf, soff = _rle._join_counts(strings, "x")
    n = len(strings)
    hh, ww = np.full(n, h, np.int64), np.full(n, w, np.int64)
    got = [np.empty((5, n), np.int64), np.empty((n, 4))]
    want = [np.empty((5, n), np.int64), np.empty((n, 4))]
    out = np.empty(0, np.int64)
    ks.measure_strings.serial(n, buf, soff, hh, ww, boxes, out, *got[0][:2], got[1], *got[0][2:4])
    for i in range(n):
        ks._scan_exact(i, buf, soff, hh, ww, ks.STORE_NONE, boxes, out, *want[0][:2], want[1], *want[0][2:4])
    assert_array_equal(got[0][:4], want[0][:4])  # n_runs, area, canon, status
    ok = want[0][3] == 0
    assert_array_equal(got[1][ok], want[1][ok])
    for i, runs in enumerate(valid):
        if runs is not None:
            assert ok[i]
            assert got[0][1, i] == ref.rle_area(runs, h, w)
            assert got[0][2, i] == int(all(r > 0 for r in runs[1:]))
            if boxes:
                assert got[1][i].tolist() == ref.rle_bbox(runs, h, w)
    # the chunked call (bytes checked a chunk at a time) gives the same
    again = [np.empty((5, n), np.int64), np.empty((n, 4))]
    ks.measure_strings(n, buf, soff, hh, ww, boxes, out, *again[0][:2], again[1], *again[0][2:4])
    assert_array_equal(again[0][:4], got[0][:4])
    assert_array_equal(again[1][ok], got[1][ok])


def test_large_mask_strings_and_stats_match_pycocotools():
    """Runs > 2**20 need 5- and 6-character values; the strings and stats must still agree."""
    rng = np.random.default_rng(0)
    h, w = 3000, 2500
    cuts = np.sort(rng.integers(0, h * w, 40))
    runs = np.diff(np.concatenate([[0], cuts, [h * w]])).tolist()
    theirs = pcm.frPyObjects([{"size": [h, w], "counts": runs}], h, w)
    ours = fm.frPyObjects([{"size": [h, w], "counts": runs}], h, w)
    assert ours == theirs
    assert fm.area(ours).tolist() == pcm.area(theirs).tolist()
    assert fm.toBbox(ours).tolist() == pcm.toBbox(theirs).tolist()


# ----------------------------------------------------------------------------- against the naive reference
@given(masks=st_masks(max_n=3))
def test_kernels_match_the_pixel_reference(masks):
    h, w, n = masks.shape
    rles = _rle.from_masks(masks)
    for i in range(n):
        runs = ref.rle_encode(masks[:, :, i])
        assert rles.runs[rles.offsets[i] : rles.offsets[i + 1]].tolist() == runs
        assert _rle.areas(rles)[i] == ref.rle_area(runs, h, w)
        assert _rle.bboxes(rles)[i].tolist() == ref.rle_bbox(runs, h, w)
    assert _rle.to_counts(rles) == [ref.rle_to_string(ref.rle_encode(masks[:, :, i])) for i in range(n)]
    assert_array_equal(_rle.to_masks(rles), masks)


@given(data=_uncompressed(n_max=5), intersect=st.booleans())
def test_stats_and_iou_of_uncompressed_runs_match_the_reference(data, intersect):
    h, w, objs = data
    runs = [o["counts"] for o in objs]
    rles = _rle.from_uncompressed(runs, h, w)
    assert _rle.areas(rles).tolist() == [ref.rle_area(r, h, w) for r in runs]
    assert _rle.bboxes(rles).tolist() == [ref.rle_bbox(r, h, w) for r in runs]
    crowd = np.arange(len(runs)) % 2
    canon = _rle.from_uncompressed([ref.canonical_runs(r, h, w) for r in runs], h, w)
    values, offsets = _rle.iou_groups(canon, canon, crowd, [0, len(runs)], [0, len(runs)])
    pix = [ref.rle_decode(r, h, w) for r in runs]
    want = [ref.mask_iou(d, g, c) for d in pix for g, c in zip(pix, crowd, strict=True)]
    assert values.tolist() == want
    assert offsets.tolist() == [0, len(want)]
    strings = [ref.rle_to_string(r) for r in runs]
    assert _rle.to_counts(rles) == strings
    assert [ref.rle_from_string(s) for s in strings] == runs


@given(data=st.data())
def test_polygon_kernel_matches_the_plain_python_rasteriser(data):
    h, w = data.draw(st.integers(0, 14)), data.draw(st.integers(1, 14))
    polys = data.draw(st_polygons(max(h, 1), w, min_points=0))
    xy = np.array([c for p in polys for c in p], float)
    rles = _rle.from_polygons(xy, np.cumsum([0] + [len(p) // 2 for p in polys]), h, w)
    for i, p in enumerate(polys):
        want = ref.poly_to_runs(p, h, w) if h else [0]
        assert rles.runs[rles.offsets[i] : rles.offsets[i + 1]].tolist() == want


@given(
    h=st.integers(1, 40),
    w=st.integers(1, 40),
    polys=st.lists(
        st.lists(
            st.floats(-300, 300, allow_nan=False).map(lambda v: round(v, 2)), min_size=0, max_size=16
        ).map(lambda p: p[: len(p) // 2 * 2]),
        min_size=1,
        max_size=4,
    ),
)
def test_polygon_capacity_holds_every_boundary_point(h, w, polys):
    """The slot poly_to_runs writes into is sized by poly_capacity (Numba does not check bounds):
    it must hold every point rleFrPoly keeps, for outlines anywhere, long edges, repeated vertices."""
    from fastdet._kernels import mask_raster

    xy = np.array([c for p in polys for c in p], float)
    poff = np.cumsum([0] + [len(p) // 2 for p in polys]).astype(np.int64)
    cap = np.empty(len(polys), np.int64)
    mask_raster.poly_capacity.serial(len(polys), xy, poff, np.full(len(polys), w, np.int64), cap)
    for i, p in enumerate(polys):
        assert cap[i] >= len(ref.poly_boundary_points(p, h, w))


@given(boxes_d=st.lists(st.tuples(*[st.floats(-5, 30).map(lambda v: round(v, 1))] * 4), max_size=5),
       boxes_g=st.lists(st.tuples(*[st.floats(-5, 30).map(lambda v: round(v, 1))] * 4), min_size=1, max_size=5),
       data=st.data())  # fmt: skip
def test_box_iou_matches_the_reference(boxes_d, boxes_g, data):
    crowd = data.draw(st.lists(st.booleans(), min_size=len(boxes_g), max_size=len(boxes_g)))
    got = fm.iou(np.array(boxes_d).reshape(-1, 4), np.array(boxes_g), crowd)
    if not boxes_d:
        assert got == []
        return
    want = [[ref.box_iou_xywh(d, g, c) for g, c in zip(boxes_g, crowd, strict=True)] for d in boxes_d]
    assert got.tolist() == want


# ----------------------------------------------------------------------------- the columnar API
@settings(max_examples=25)
@given(data=st.data())
def test_iou_groups_equal_pycocotools_per_group(data):
    h, w = 9, 7
    groups = data.draw(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=1, max_size=4))
    masks = data.draw(st_masks(min_n=12, max_n=12, h=h, w=w))
    rng = np.random.default_rng(data.draw(st.integers(0, 1000)))
    d_index = np.concatenate([rng.integers(0, 12, nd) for nd, _ in groups]).astype(np.int64)
    g_index = np.concatenate([rng.integers(0, 12, ng) for _, ng in groups]).astype(np.int64)
    crowd = rng.integers(0, 2, len(g_index))
    d_off = np.cumsum([0] + [nd for nd, _ in groups])
    g_off = np.cumsum([0] + [ng for _, ng in groups])
    rles = _rle.from_masks(masks)
    values, v_off = _rle.iou_groups(rles, rles, crowd, d_off, g_off, d_index, g_index)
    dicts = pcm.encode(masks)
    assert (h, w) == masks.shape[:2]
    for g, (nd, ng) in enumerate(groups):
        block = values[v_off[g] : v_off[g + 1]].reshape(nd, ng)
        want = pcm.iou([dicts[i] for i in d_index[d_off[g] : d_off[g + 1]]],
                       [dicts[i] for i in g_index[g_off[g] : g_off[g + 1]]],
                       crowd[g_off[g] : g_off[g + 1]].tolist())  # fmt: skip
        if nd and ng:
            assert_array_equal(block, want)
        else:
            assert block.size == 0


def test_merge_where_pycocotools_walk_stops_early_gives_the_true_union():
    """[3, 0, 3] twice: pycocotools' walk stops at the shared empty run and returns 3 of 6 pixels
    (b"3"); with a third RLE after that it never returns. fastdet merges the pixels: 6 background."""
    r = pcm.frPyObjects({"size": [2, 3], "counts": [3, 0, 3]}, 2, 3)
    empty = pcm.frPyObjects({"size": [2, 3], "counts": [6]}, 2, 3)
    assert pcm.merge([r, r])["counts"] == b"3"
    assert fm.merge([r, r])["counts"] == b"6"
    assert fm.merge([r, r, empty])["counts"] == b"6"  # pycocotools.mask.merge hangs here
    assert fm.merge([r, r, empty], intersect=True)["counts"] == b"6"


def test_iou_groups_give_minus_one_for_overlapping_masks_of_different_sizes():
    """pycocotools' rleIou: -1 where the boxes overlap but the sizes differ (fastdet.mask.iou raises)."""
    a = pcm.encode(np.ones((4, 4, 1), np.uint8, order="F"))
    b = pcm.encode(np.ones((5, 4, 1), np.uint8, order="F"))
    c = pcm.frPyObjects(np.array([[3.0, 4.0, 1.0, 1.0]]), 5, 5)  # box outside a's pixels: 0, not -1
    gt = b + c
    want = pcm.iou(a, gt, [0, 0])
    got, _ = _rle.iou_groups(_rle.from_dicts(a), _rle.from_dicts(gt), [0, 0], [0, 1], [0, 2])
    assert want.tolist() == [[-1.0, 0.0]]
    assert got.tolist() == [-1.0, 0.0]


@given(masks=st_masks(min_n=1, max_n=8), data=st.data(), intersect=st.booleans())
def test_merge_groups_and_take_match_pycocotools(masks, data, intersect):
    n = masks.shape[2]
    cuts = sorted(data.draw(st.lists(st.integers(0, n), max_size=4)))
    goff = np.array([0, *cuts, n], np.int64)
    rles = _rle.from_masks(masks)
    merged = _rle.to_dicts(_rle.merge_groups(rles, goff, intersect))
    dicts = pcm.encode(masks)
    for g in range(len(goff) - 1):
        members = dicts[goff[g] : goff[g + 1]]
        if members:
            _same_rle(merged[g], pcm.merge(members, intersect))
        else:
            assert merged[g] == {"size": [0, 0], "counts": b""}
    order = data.draw(st.permutations(range(n)))
    taken = _rle.take(rles, np.array(order, np.int64))
    assert _rle.to_counts(taken) == [dicts[i]["counts"] for i in order]


def test_measure_counts_and_from_dicts():
    m = np.zeros((6, 5, 2), np.uint8, order="F")
    m[1:4, 2:5, 0] = 1
    dicts = pcm.encode(m)
    area, box = _rle.measure_counts([d["counts"] for d in dicts], 6, 5)
    assert area.tolist() == pcm.area(dicts).tolist()
    assert box.tolist() == pcm.toBbox(dicts).tolist()
    rles = _rle.from_dicts(dicts)
    assert len(rles) == 2
    assert rles.h.tolist() == [6, 6]
    assert rles.w.tolist() == [5, 5]
    assert _rle.to_dicts(rles) == dicts


# ----------------------------------------------------------------------------- shapes, types, empties
def test_return_types_and_empty_inputs():
    assert fm.area([]).dtype == np.uint32
    assert fm.area([]).shape == (0,)
    assert fm.toBbox([]).shape == (0, 4)
    assert fm.merge([]) == pcm.merge([]) == {"size": [0, 0], "counts": b""}
    assert fm.iou([], [], []) == []
    assert fm.iou(np.zeros((0, 4)), [[1, 1, 2, 2]], [0]) == []
    assert fm.encode(np.zeros((3, 4, 0), np.uint8)) == []
    assert fm.encode(np.zeros((0, 5), np.uint8)) == pcm.encode(np.zeros((0, 5, 1), np.uint8, order="F"))[0]
    assert fm.frPyObjects([], 4, 4) == []
    assert fm.frPyObjects(np.zeros((0, 4)), 4, 4) == []
    assert fm.frPyObjects([[1, 1, 3, 1, 2, 3]], 0, 5) == pcm.frPyObjects([[1, 1, 3, 1, 2, 3]], 0, 5)
    assert fm.frPyObjects([[1, 1, 3, 1, 2, 3]], 4, 0) == [{"size": [4, 0], "counts": b"0"}]
    assert fm.frPyObjects([1.0, 1.0, 3.0, 2.0], 5, 6) == pcm.frPyObjects(np.array([[1.0, 1, 3, 2]]), 5, 6)[0]
    assert fm.frPyObjects(np.array([[1, 1, 3, 2]]), 5, 6) == pcm.frPyObjects(np.array([[1.0, 1, 3, 2]]), 5, 6)
    big = [{"size": [3, 3], "counts": b"9"}] * 300  # pycocotools' area fails above 255 RLEs with NumPy 2
    assert fm.area(big).tolist() == [0] * 300


def test_module_is_exported():
    assert fastdet.mask is fm
    assert "mask" in fastdet.__all__


# ----------------------------------------------------------------------------- bad input
GOOD = {"size": [2, 3], "counts": b"123"}


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (lambda: fm.area([GOOD, {"size": [2, 3], "counts": b"12"}]), ValueError,
         r"rleObjs\[1\]: the runs of 'counts' add up to 3 pixels, but 'size' \[2, 3\] has 6"),
        (lambda: fm.toBbox({"size": [2, 3], "counts": b"12 "}), ValueError,
         r"rleObjs\[0\]\['counts'\] is not a valid compressed RLE: it holds a byte outside"),
        (lambda: fm.area({"size": [2, 3], "counts": b"12"}), ValueError,
         r"rleObjs\[0\]: the runs of 'counts' add up to 3 pixels, but 'size' \[2, 3\] has 6"),
        (lambda: fm.toBbox({"size": [2, True], "counts": b"6"}), TypeError, "the width must be an integer"),
        (lambda: fm.decode([GOOD, {"size": [2, 3], "counts": b"1h"}]), ValueError,
         r"rleObjs\[1\]\['counts'\] is not a valid compressed RLE: it ends in the middle of a value"),
        (lambda: fm.area([{"size": [2, 3], "counts": b"h" * 8}]), ValueError, "longer than 7 characters"),
        (lambda: fm.area([{"size": [2, 3], "counts": b"@"}]), ValueError, r"outside \[0, 2\*\*32\)"),
        (lambda: fm.area([{"size": [2, 3], "counts": [1, 2, 3]}]), TypeError,
         r"rleObjs\[0\]\['counts'\] is a list: an uncompressed RLE"),
        (lambda: fm.area([{"size": [2, 3], "counts": 5}]), TypeError, r"rleObjs\[0\]\['counts'\] must be bytes"),
        (lambda: fm.area([{"counts": b"6"}]), ValueError, r"rleObjs\[0\] has no 'size' key"),
        (lambda: fm.area([{"size": [2, 3, 1], "counts": b"6"}]), ValueError, r"rleObjs\[0\]\['size'\] must be"),
        (lambda: fm.area([{"size": [2.5, 3], "counts": b"6"}]), ValueError, "whole number"),
        (lambda: fm.area([{"size": [-2, 3], "counts": b"6"}]), ValueError, ">= 0"),
        (lambda: fm.area([{"size": ["2", 3], "counts": b"6"}]), TypeError,
         r"rleObjs\[0\]\['size'\]: the height must be an integer, got str"),
        (lambda: fm.area([GOOD, {"size": ["2", 3], "counts": b"6"}]), TypeError, r"rleObjs\[1\]\['size'\] must hold"),
        (lambda: fm.area([GOOD, {"size": [2.5, 3], "counts": b"6"}]), ValueError, r"rleObjs\[1\]\['size'\]: the height"),
        (lambda: fm.area([GOOD, {"size": 6, "counts": b"6"}]), ValueError, r"rleObjs\[1\]\['size'\] must be"),
        (lambda: fm.area([GOOD, 7]), TypeError, r"rleObjs\[1\] must be an RLE dict"),
        (lambda: fm.area("abc"), TypeError, "rleObjs must be a list"),
        (lambda: fm.decode([]), ValueError, "rleObjs is empty"),
        (lambda: fm.decode([GOOD, {"size": [3, 2], "counts": b"123"}]), ValueError,
         r"rleObjs\[1\] has size \[3, 2\] but rleObjs\[0\] has \[2, 3\]"),
        (lambda: fm.merge([GOOD, {"size": [3, 2], "counts": b"123"}]), ValueError, "merge needs masks of one size"),
        (lambda: fm.merge(GOOD), TypeError, "rleObjs must be a list"),
        (lambda: fm.iou([GOOD], [{"size": [3, 2], "counts": b"123"}], [0]), ValueError,
         r"dt masks have size \[2, 3\] but gt masks \[3, 2\]"),
        (lambda: fm.iou([GOOD], [GOOD], [0, 1]), ValueError, "pyiscrowd has length 2 but gt has length 1"),
        (lambda: fm.iou([GOOD], [GOOD], None), TypeError, "pyiscrowd must be a 1-D sequence"),
        (lambda: fm.iou([GOOD], [[0, 0, 1, 1]], [0]), TypeError, "dt and gt must be of one kind"),
        (lambda: fm.iou([GOOD, [0, 0, 1, 1]], [GOOD], [0]), TypeError, "dt must be a list of RLE dicts or"),
        (lambda: fm.iou(np.zeros((2, 3)), np.zeros((1, 4)), [0]), ValueError, r"dt as an ndarray must hold boxes"),
        (lambda: fm.iou([[0, 0, np.nan, 1]], [[0, 0, 1, 1]], [0]), ValueError, r"dt\[0\] holds NaN"),
        (lambda: fm.encode(np.zeros((2, 3), np.float64)), TypeError, "bimask must hold bool or integer"),
        (lambda: fm.encode(np.zeros(3, np.uint8)), ValueError, r"bimask must have shape \(h, w\)"),
        (lambda: fm.encode([[0, 1]]), TypeError, "bimask must be a numpy array"),
        (lambda: fm.frPyObjects([[1, 2, 3, 4, 5, 6, 7]], 5, 5), ValueError,
         r"pyobj\[0\] is not a valid polygon: 7 numbers, an odd number of coordinates"),
        (lambda: fm.frPyObjects([[1, 2, 3, 4, 5, 6], [1, 2]], 5, 5), ValueError,
         r"pyobj\[1\] is not a valid polygon: 2 numbers, fewer than 3 points"),
        (lambda: fm.frPyObjects([[1, 2, 3, 4], [1, 2, 3, 4, 5, 6]], 5, 5), ValueError,
         r"pyobj\[0\] has 4 numbers, so pyobj is read as a list of \[x, y, w, h\] boxes, but pyobj\[1\] has 6"),
        (lambda: fm.frPyObjects([1, 2, 3, 4, 5], 5, 5), ValueError, "pyobj is not a valid polygon: 5 numbers"),
        (lambda: fm.frPyObjects([[1, 2, np.inf, 4, 5, 6]], 5, 5), ValueError, r"pyobj\[0\] must hold finite"),
        (lambda: fm.frPyObjects([[1, 2, 3, 4, 5, 6e9]], 5, 5), ValueError, r"pyobj\[0\] must hold finite"),
        (lambda: fm.frPyObjects(np.array([[0, 0, 1e12, 1e12]]), 5, 5), ValueError,
         r"pyobj\[0\] is a box with corners beyond 4e\+08"),  # pycocotools: a segfault
        (lambda: fm.frPyObjects([[0, 0, 1, 1], [3e8, 0, 2e8, 1]], 5, 5), ValueError,
         r"pyobj\[1\] is a box with corners beyond 4e\+08"),
        (lambda: fm.frPyObjects([3e8, 0, 2e8, 1], 5, 5), ValueError, r"pyobj is a box with corners beyond"),
        (lambda: fm.frPyObjects([[1, 2, 3, 4, 5, 6]], 5.5, 5), ValueError, r"frPyObjects\(h, w\): the height"),
        (lambda: fm.frPyObjects([[1, 2, 3, 4, 5, 6]], 5, "5"), TypeError, "the width must be an integer"),
        (lambda: fm.frPyObjects([[1, 2, 3, 4, 5, 6]], 2**16, 2**16), ValueError, "2\\*\\*32 pixels"),
        (lambda: fm.frPyObjects({"size": [2, 3], "counts": [1, 2]}, 2, 3), ValueError,
         r"pyobj\['counts'\]: the runs add up to 3 pixels, but the size \[2, 3\] has 6"),
        (lambda: fm.frPyObjects([{"size": [2, 3], "counts": [1, 2, 3]}], 3, 2), ValueError,
         r"pyobj\[0\]\['size'\] is \[2, 3\] but frPyObjects was given h, w = 3, 2"),
        (lambda: fm.frPyObjects([GOOD, {"size": [2, 3], "counts": [7, -1]}], 2, 3), ValueError,
         r"pyobj\[1\]\['counts'\] holds a run length outside"),
        (lambda: fm.frPyObjects([GOOD, {"size": [2, 3], "counts": b"12"}], 2, 3), ValueError,
         r"pyobj\[1\]: the runs of 'counts' add up to 3"),
        (lambda: fm.frPyObjects([GOOD, [1, 2, 3, 4, 5, 6]], 2, 3), TypeError, r"pyobj\[1\] must be an RLE dict"),
        (lambda: fm.frPyObjects("poly", 2, 3), TypeError, "pyobj must be a list, an ndarray or a dict"),
        (lambda: fm.frPyObjects(np.zeros((2, 5)), 2, 3), ValueError, r"pyobj as an ndarray must hold boxes"),
        (lambda: fm.frPyObjects([[1, 2, 3, 4, 5, 6], {"a": 1}], 2, 3), TypeError, r"pyobj\[1\] must be a polygon"),
        (lambda: _rle.from_polygons([1.0, 2.0, 3.0], [0, 2], 4, 4), ValueError, "point_offsets must be CSR"),
    ],
)  # fmt: skip
def test_bad_input_raises_a_clear_error(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


@pytest.mark.parametrize(
    "crowd", [[0.5, 1.7], np.array([0.5, 1.7]), [0.0, 2.9], np.array([1.2, 0.2], np.float32)]
)
def test_iou_float_crowd_flags_are_truncated_as_pycocotools(crowd):
    """pycocotools casts ``pyiscrowd`` to uint8: 0.5 is not a crowd, 1.7 is."""
    dt = np.array([[0.0, 0.0, 5.0, 5.0], [2.0, 2.0, 6.0, 6.0]])
    gt = np.array([[1.0, 0.0, 5.0, 5.0], [0.0, 0.0, 3.0, 3.0]])
    want = pcm.iou(dt, gt, crowd)
    assert_array_equal(fm.iou(dt, gt, crowd), want)
    rles_dt, rles_gt = pcm.frPyObjects(dt, 10, 10), pcm.frPyObjects(gt, 10, 10)
    assert_array_equal(fm.iou(rles_dt, rles_gt, crowd), pcm.iou(rles_dt, rles_gt, crowd))


# ----------------------------------------------------------------------------- the threaded kernels
def _star_polygons(rng, n, h, w):
    out = []
    for _ in range(n):
        k = int(rng.integers(3, 14))
        ang = np.sort(rng.uniform(0, 2 * np.pi, k))
        rad = rng.uniform(0.3, 1.0, k) * rng.uniform(2, max(h, w) / 2)
        cx, cy = rng.uniform(-5, w + 5), rng.uniform(-5, h + 5)
        out.append(
            np.round(np.stack([cx + rad * np.cos(ang), cy + rad * np.sin(ang)], 1).ravel(), 2).tolist()
        )
    return out


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("threads", [False, True])
def test_threaded_and_single_thread_kernels_match_pycocotools(seed, threads, monkeypatch):
    """Every batch kernel, on the thread pool and in one call on this thread, must equal pycocotools."""
    monkeypatch.setattr(_rle, "PARALLEL_WORK", 0 if threads else 1 << 62)
    rng = np.random.default_rng(seed)
    h, w = 37, 53
    polys = _star_polygons(rng, 40, h, w)
    ours, theirs = fm.frPyObjects(polys, h, w), pcm.frPyObjects(polys, h, w)
    assert ours == theirs
    boxes = pcm.toBbox(theirs)
    assert fm.frPyObjects(boxes, h, w) == pcm.frPyObjects(boxes, h, w)
    assert fm.area(ours).tolist() == np.concatenate([pcm.area(theirs[:20]), pcm.area(theirs[20:])]).tolist()
    assert fm.toBbox(ours).tolist() == pcm.toBbox(theirs).tolist()
    for intersect in (0, 1):
        assert fm.merge(ours, intersect) == pcm.merge(theirs, intersect)
    crowd = rng.integers(0, 2, 15).tolist()
    assert_array_equal(fm.iou(ours, ours[:15], crowd), pcm.iou(theirs, theirs[:15], crowd))
    assert_array_equal(fm.iou(boxes, boxes[:15], crowd), pcm.iou(boxes, boxes[:15], crowd))
    dense = _pc_decode(theirs)
    assert_array_equal(fm.decode(ours), dense)
    assert fm.encode(dense) == pcm.encode(dense)
    rles = _rle.from_dicts(ours)
    goff = np.array([0, 5, 5, 17, 40])
    merged = _rle.to_dicts(_rle.merge_groups(rles, goff))
    assert merged[0] == pcm.merge(theirs[:5])
    assert merged[2] == pcm.merge(theirs[5:17])
    values, v_off = _rle.iou_groups(rles, rles, crowd * 2, [0, 10, 40], [0, 15, 30], None, np.arange(30) % 20)
    assert_array_equal(values[: v_off[1]].reshape(10, 15), pcm.iou(theirs[:10], theirs[:15], crowd))


@pytest.mark.parametrize("seed", range(3))
def test_encode_reads_any_nonzero_value_as_foreground(seed):
    """Words of mixed nonzero bytes (1, 7, 255) are foreground words; pycocotools gets the 0/1 mask."""
    rng = np.random.default_rng(seed)
    values = rng.choice(np.array([1, 7, 255], np.uint8), size=(64, 48, 3))
    blocks = rng.random((64, 48, 3)) < 0.5
    blocks[:, 10:30] = True  # long foreground stretches of mixed values
    m = np.where(blocks, values, 0).astype(np.uint8)
    want = pcm.encode(np.asfortranarray((m != 0).astype(np.uint8)))
    assert fm.encode(m) == want
    assert fm.encode(np.asfortranarray(m)) == want
    assert fm.encode(m.astype(np.int32)) == want


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda r: _rle.iou_groups(r, r, [0, 0], [0, 2], [0, 2], [0, 2]),
            r"dt_index must be a 1-D array of indices in \[0, 2\)",
        ),
        (
            lambda r: _rle.iou_groups(r, r, [0, 0], [0, 1], [0, 2]),
            "dt_offsets must be non-decreasing offsets from 0 to 2",
        ),
        (lambda r: _rle.iou_groups(r, r, [0, 0], [0, 2], [0, 1, 2]), "same number of groups"),
        (lambda r: _rle.iou_groups(r, r, [0], [0, 2], [0, 2]), "iscrowd has length 1 but there are 2"),
        (lambda r: _rle.merge_groups(r, [0, 3]), "group_offsets must be non-decreasing offsets from 0 to 2"),
        (lambda r: _rle.take(r, [2]), r"index must be a 1-D array of indices in \[0, 2\)"),
    ],
)
def test_the_columnar_api_checks_indices_and_offsets(call, match):
    rles = _rle.from_masks(np.ones((3, 4, 2), np.uint8))
    with pytest.raises(ValueError, match=match):
        call(rles)


@given(
    h=st.integers(1, 12),
    w=st.sampled_from([1, 7, 3000]),
    xy=st.lists(
        st.tuples(st.floats(-5000.0, 8000.0).map(lambda v: round(v, 1)), st.floats(-20.0, 30.0)),
        min_size=3,
        max_size=8,
    ),
)
def test_polygons_far_outside_or_across_a_wide_image_match_pycocotools(h, w, xy):
    """Vertices far beyond the image's sides: rleFrPoly clips each column crossing, and the points go to
    per-column buckets that span only the polygon's own columns."""
    poly = [[c for p in xy for c in p]]
    _same_rle(fm.frPyObjects(poly, h, w)[0], pcm.frPyObjects(poly, h, w)[0])


def test_counts_as_str_bytes_or_both_and_non_ascii_named():
    rle = fm.encode(np.ones((2, 3, 1), np.uint8, order="F"))[0]
    text = rle["counts"].decode()
    for counts in ([text, text], [rle["counts"], text], [text, rle["counts"]]):
        assert fm.area([{"size": [2, 3], "counts": c} for c in counts]).tolist() == [6, 6]
    with pytest.raises(ValueError, match=r"rleObjs\[1\]\['counts'\] holds a non-ASCII character"):
        fm.area([{"size": [2, 3], "counts": text}, {"size": [2, 3], "counts": text + "é"}])


@given(
    seed=st.integers(0, 2**32 - 1),
    h=st.integers(1, 9),
    w=st.integers(1, 9),
    n=st.integers(17, 40),
    core=st.booleans(),
    density=st.sampled_from([0.05, 0.3, 0.7]),
)
def test_intersection_of_many_masks_matches_pycocotools(seed, h, w, n, core, density):
    """Past 16 masks an intersection first checks whether an empty mask or the boxes leave no pixel in
    common (the all-background result without a walk); with a shared core pixel the walk runs."""
    rng = np.random.default_rng(seed)
    masks = np.asfortranarray(rng.random((h, w, n)) < density).astype(np.uint8)
    if core:
        masks[rng.integers(h), rng.integers(w), :] = 1
    rles = pcm.encode(np.asfortranarray(masks))
    _same_rle(fm.merge(rles, intersect=True), pcm.merge(rles, intersect=True))
    with_empty_runs = [*rles[:-1], pcm.frPyObjects({"size": [h, w], "counts": [0, 0, h * w]}, h, w)]
    _same_rle(fm.merge(with_empty_runs, intersect=True), pcm.merge(with_empty_runs, intersect=True))


def _pad_value(counts: bytes, k: int) -> bytes:
    """``counts`` with value ``k`` (modulo their number) written in one byte more than rleToString
    writes: its last byte gets the continuation bit and a byte of sign extension follows (decoded alike)."""
    ends = [p for p, b in enumerate(counts) if not (b - 48) & 0x20]  # the last byte of each value
    if not ends:
        return counts
    p = ends[k % len(ends)]
    c = counts[p] - 48
    return counts[:p] + bytes([48 + (c | 0x20), 48 + (0x1F if c & 0x10 else 0)]) + counts[p + 1 :]


@settings(deadline=None)
@given(
    data=_uncompressed(n_max=3),
    intersect=st.booleans(),
    as_str=st.booleans(),
    pad=st.one_of(st.none(), st.integers(0, 20)),
)
def test_one_call_paths_for_one_or_two_rles_match_pycocotools(data, intersect, as_str, pad):
    """merge / area / toBbox / iou of a dict or a short list (the data-loader calls, one kernel call
    each): bytes or str counts, strings in more bytes than rleToString writes, empty images."""
    h, w, objs = data
    rles = pcm.frPyObjects(objs, h, w)
    if pad is not None:
        rles[0] = {"size": rles[0]["size"], "counts": _pad_value(rles[0]["counts"], pad)}
    ours = [
        {"size": list(r["size"]), "counts": r["counts"].decode() if as_str else r["counts"]} for r in rles
    ]
    for one, theirs in zip(ours, rles, strict=True):
        assert fm.area(one) == pcm.area(theirs)
        assert type(fm.area(one)) is np.uint32
        assert_array_equal(fm.toBbox(one), pcm.toBbox(theirs))
        _same_rle(fm.merge([one], intersect), pcm.merge([theirs], intersect))
    got = fm.area(ours)
    assert got.dtype == np.uint32
    assert got.tolist() == pcm.area(rles).tolist()
    got = fm.toBbox(ours)
    assert got.dtype == np.float64
    assert got.shape == (len(rles), 4)
    assert_array_equal(got, pcm.toBbox(rles))
    if h * w:
        walk, longest = ref.merge_walk([ref.rle_from_string(r["counts"]) for r in rles], intersect)
        if walk is not None and longest <= h * w + 1:  # else pycocotools stops early or overruns
            _same_rle(fm.merge(ours, intersect), pcm.merge(rles, intersect))
        for crowd in ([i % 2 for i in range(len(rles))], [bool(i % 2) for i in range(len(rles))]):
            got, want = fm.iou(ours, ours[::-1], crowd), pcm.iou(rles, rles[::-1], crowd)
            assert got.flags.f_contiguous
            assert got.dtype == np.float64
            assert_array_equal(got, want)


def test_one_call_paths_leave_bad_input_to_the_batch_path():
    """Invalid strings, mixed sizes and flags outside 0/1 in short lists get the batch path's errors
    and results."""
    a = {"size": [4, 5], "counts": b"5220003"}
    with pytest.raises(ValueError, match=r"rleObjs\[1\]\['counts'\] is not a valid"):
        fm.merge([a, {"size": [4, 5], "counts": b"52\x7f"}])
    with pytest.raises(ValueError, match=r"rleObjs\[0\]: the runs of 'counts' add up to 20 pixels"):
        fm.area([{"size": [4, 6], "counts": b"5220003"}])
    b = {"size": [5, 4], "counts": b"5220003"}
    assert_array_equal(fm.toBbox([a, b]), pcm.toBbox([a, b]))
    with pytest.raises(ValueError, match=r"rleObjs\[1\] has size \[5, 4\]"):
        fm.merge([a, b])
    with pytest.raises(ValueError, match="non-ASCII"):
        fm.area([{"size": [4, 5], "counts": "52é"}])
    with pytest.raises(ValueError, match="dt masks have size"):
        fm.iou([a], [{"size": [5, 4], "counts": b"5220003"}], [0])
    with pytest.raises(ValueError, match="pyiscrowd has length 2"):
        fm.iou([a], [a], [0, 1])
    assert_array_equal(fm.iou([a], [a], [0.5]), pcm.iou([a], [a], [0]))  # truncated, as pycocotools
    assert_array_equal(fm.iou([a], [a], [2]), pcm.iou([a], [a], [1]))
    assert fm.area([{"size": np.array([4, 5]), "counts": b"5220003"}]).tolist() == [6]
    for counts, exc, match in (
        ([1, 2], ValueError, r"pyobj\['counts'\]: the runs add up to 3 pixels"),
        ([-1, 21], ValueError, "outside"),
        ([1.5, 18.5], ValueError, "whole numbers"),
        ([2**70, 1], TypeError, "must hold integers"),
    ):
        with pytest.raises(exc, match=match):
            fm.frPyObjects({"size": [4, 5], "counts": counts}, 4, 5)
    with pytest.raises(TypeError, match="the height must be an integer, got bool"):
        fm.frPyObjects({"size": [True, 5], "counts": [5]}, 1, 5)
    for size, counts in (([4.0, 5], [20]), ([0, 5], []), ([4, 5], np.array([3, 17]))):
        h = int(size[0])
        _same_rle(
            fm.frPyObjects({"size": size, "counts": counts}, h, 5),
            pcm.frPyObjects([{"size": [h, 5], "counts": list(counts)}], h, 5)[0],
        )


@settings(deadline=None)
@given(data=st.data())
def test_few_polygons_and_boxes_match_pycocotools(data):
    """frPyObjects of a polygon (flat or in a list, several parts) or of boxes (a list or an array)."""
    # w = 0 < h is left out: pycocotools then gives runs that do not add up to h * w (fastdet: [0])
    h, w = data.draw(st.integers(0, 16)), data.draw(st.integers(1, 16))
    polys = data.draw(st_polygons(max(h, 1), w))
    for a, b in zip(fm.frPyObjects(polys, h, w), pcm.frPyObjects(polys, h, w), strict=True):
        _same_rle(a, b)
    _same_rle(fm.frPyObjects(polys[0], h, w), pcm.frPyObjects(polys[:1], h, w)[0])
    boxes = [p[:4] for p in polys]
    theirs = pcm.frPyObjects(np.array(boxes, np.float64), h, w)
    for ours in (fm.frPyObjects(boxes, h, w), fm.frPyObjects(np.array(boxes, np.float64), h, w)):
        for a, b in zip(ours, theirs, strict=True):
            _same_rle(a, b)
