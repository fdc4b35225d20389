"""Ground-truth polygons read from a COCO file's text (``fastdet._kernels.polyscan``) against json.loads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import reference as ref
from hypothesis import event, given, settings
from hypothesis import strategies as st

from fastdet._kernels import polyscan
from fastdet.coco import COCO, segm

H, W = 7, 9


def _number(draw: Any, v: float) -> str:
    """``v`` written as a JSON number in one of the forms writers use."""
    if float(v).is_integer() and abs(v) < 1e15 and draw(st.booleans()):
        return str(int(v))  # an integer literal
    form = draw(st.sampled_from(["repr", "e", "E", "long", "zeros"]))
    if form == "e":
        return f"{v:.6e}"
    if form == "E":
        return f"{v:.17E}"
    if form == "long":  # more than 18 significant digits
        return f"{v:.22f}"
    if form == "zeros":  # leading zeros after the point are not significant
        return f"{v * 1e-5:.20f}"
    return repr(float(v))


@st.composite
def _value(draw: Any, kind: str) -> tuple[Any, str]:
    """A segmentation (object, text): polygons written by hand, a crowd RLE, or something invalid."""
    sp = st.sampled_from(["", " ", "\n  ", "\t"])
    if kind == "poly":
        parts = []
        texts = []
        for _ in range(draw(st.integers(1, 3))):
            bad = draw(st.integers(0, 9)) == 0  # invalid: 4 or 7 numbers, or one beyond MAX_COORD
            k = draw(st.sampled_from([4, 7] if bad else [6, 8, 10]))
            vals = draw(
                st.lists(
                    st.one_of(
                        st.integers(-3, 12).map(float),
                        st.floats(-3.0, 12.0, allow_nan=False),
                        st.sampled_from([-0.0, 0.0, 3.5e-320, 1e9 if bad else 1.0]),
                    ),
                    min_size=k,
                    max_size=k,
                )
            )
            nums = [_number(draw, v) for v in vals]
            texts.append("[" + draw(sp) + ("," + draw(sp)).join(nums) + draw(sp) + "]")
            parts.append(nums)
        text = "[" + draw(sp) + ("," + draw(sp)).join(texts) + draw(sp) + "]"
        return json.loads(text), text
    obj = {
        "crowd": {"size": [H, W], "counts": [5, H * W - 10, 5]},
        "empty": [],
        "str": [[0, 0, 1, "a", 2, 2]],
        "bad_counts": {"size": [H, W], "counts": [3]},
    }[kind]
    return obj, json.dumps(obj, indent=draw(st.sampled_from([None, 1])))


@st.composite
def gt_files(draw: Any) -> str:
    """A ground-truth file's text, its annotations' keys in varied order and spacing."""
    anns = []
    n = draw(st.integers(1, 6))
    for i in range(n):
        kind = draw(st.sampled_from(["poly"] * 8 + ["crowd"] * 2 + ["none", "empty", "str", "bad_counts"]))
        fields = [
            f'"id": {i + 1}', '"image_id": 1', '"category_id": 1', '"area": 4.0',
            f'"iscrowd": {1 if kind == "crowd" else 0}', '"bbox": [0, 0, 2, 2]',
        ]  # fmt: skip
        if kind != "none":
            fields.append('"segmentation"' + draw(st.sampled_from([":", " : "])) + draw(_value(kind))[1])
        if draw(st.booleans()):
            fields.append('"note": {"segmentation": [[1, 2]], "s": "]}"}')
        order = draw(st.permutations(fields))
        anns.append("{" + ", ".join(order) + "}")
    sep = draw(st.sampled_from([", ", ",\n", " ,"]))
    images = json.dumps([{"id": 1, "height": H, "width": W}])
    return (
        f'{{"info": {{"a": [1, 2]}}, "images": {images}, "annotations": [{sep.join(anns)}],'
        ' "categories": [{"id": 1, "name": "a"}]}'
    )


@settings(max_examples=80)
@given(gt_files())
def test_find_and_read_polygons_agree_with_the_json_parser(text: str) -> None:
    """Reference: json.loads; each entry's span, parts and numbers (bit for bit), or 'other'."""
    raw = text.encode()
    buf = np.frombuffer(raw, np.uint8)
    want = ref.gt_polygons(text)
    start = raw.index(b'"annotations": ') + len(b'"annotations": ')
    spans = np.empty((len(want), 4), np.int64)
    assert polyscan.find_polygons(buf, start, spans) == len(want)
    for (s, t, parts, numbers), w in zip(spans.tolist(), want, strict=True):
        if w is None:
            assert s == -1
            continue
        json.loads(raw[s:t])  # the span is the whole value
        if w == "other":
            assert parts == -1
            continue
        assert parts == len(w[0])
        assert numbers == sum(w[0])
        off = np.array([0, parts], np.int64)
        lens = np.empty(parts, np.int64)
        xy = np.empty(numbers, np.float64)
        assert polyscan.read_polygons(buf, np.array([s], np.int64), off, lens, xy) == -1
        assert lens.tolist() == w[0]
        got = np.array(w[1])
        long = np.isnan(xy)  # 19+ significant digits: left to the full parser
        assert np.array_equal(xy[~long].view(np.int64), got[~long].view(np.int64))


def _masks_or_error(gt: Any, rows: Any) -> Any:
    cols = gt._eval_columns("gt")
    try:
        return segm._masks_for(gt, rows, cols.bbox[rows], lambda r: None, "gt")
    except ValueError as exc:
        return str(exc)


@settings(max_examples=80)
@given(gt_files(), st.data())
def test_text_path_gives_the_masks_and_errors_of_the_dict_path(
    tmp_path_factory: Any, text: str, data: Any
) -> None:
    path = tmp_path_factory.mktemp("gt") / "gt.json"
    path.write_text(text)
    fast = COCO(str(path), verbose=False)
    slow = COCO(str(path), verbose=False)
    assert fast._scanned_ground_truth() is not None
    n = len(json.loads(text)["annotations"])
    rows = np.array(sorted(data.draw(st.sets(st.integers(0, n - 1), min_size=1))), np.int64)
    slow.dataset  # noqa: B018 - parsed: the dict path
    b = _masks_or_error(slow, rows)
    if isinstance(b, str):  # the text path declines; the dict path names the problem
        assert segm._gt_masks_from_text(fast, rows) is None
        assert _masks_or_error(fast, rows) == b
        event("an error")
        return
    a = segm._gt_masks_from_text(fast, rows)
    assert a is not None
    event("masks")
    for field in ("lens", "h", "w", "area", "bbox", "canon"):
        assert np.array_equal(getattr(a, field), getattr(b, field)), field
    for s1, s2, k in zip(a.start.tolist(), b.start.tolist(), a.lens.tolist(), strict=True):
        assert np.array_equal(a.runs[s1 : s1 + k], b.runs[s2 : s2 + k])


def test_images_read_from_the_text_become_the_datasets(tmp_path: Path) -> None:
    path = tmp_path / "gt.json"
    path.write_text(json.dumps({"images": [{"id": 1, "height": H, "width": W}], "annotations": [],
                                "categories": []}))  # fmt: skip
    gt = COCO(str(path), verbose=False)
    img = gt.imgs[1]
    assert gt._scanned_ground_truth() is not None  # imgs did not parse the whole file
    assert gt.dataset["images"][0] is img


@pytest.mark.parametrize(
    "text",
    ['{"a": 1}', '[{"segmentation": [[1]], "segmentation": [[2]]}]', '[{"seg\\u006dentation": 1}]', "[1]"],
)
def test_find_polygons_leaves_other_files_to_the_parser(text: str) -> None:
    spans = np.empty((4, 4), np.int64)
    assert polyscan.find_polygons(np.frombuffer(text.encode(), np.uint8), 0, spans) == -1
