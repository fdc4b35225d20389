"""fastdet's ranking metrics with scikit-learn's signatures, against scikit-learn and the naive references.

Modeled on scikit-learn's ``sklearn/metrics/tests/test_ranking.py``: its toy cases are
ported with the expected numbers it states, and hypothesis compares fastdet with the
live scikit-learn (a dev dependency) over labels, ``pos_label``, ties and weights.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import reference as ref
from conftest import F64_ATOL, F64_RTOL
from hypothesis import assume, example, given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from fastdet.metrics import (
    UndefinedMetricWarning,
    average_precision,
    confusion_matrix,
    precision_recall_curve,
    roc_auc,
    roc_curve,
)

# scikit-learn accumulates float64 ratios where fastdet divides exact counts once: the results differ
# by the rounding of a float64 sum (conftest.F64_RTOL); rates and areas are in [0, 1] (F64_ATOL)
TEST_RTOL, ATOL = F64_RTOL, F64_ATOL


def sk():
    # scikit-learn 1.9 is the version whose degenerate cases (NaN + warning) fastdet follows
    pytest.importorskip("sklearn", minversion="1.9")
    return pytest.importorskip("sklearn.metrics")


def quiet(fn, *args, **kwargs):
    """Call ``fn`` with its warnings silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def outcome(fn, *args, **kwargs):
    """The result of ``fn`` (warnings silenced), or the class of the ValueError/TypeError it raised."""
    try:
        return quiet(fn, *args, **kwargs)
    except NotImplementedError:  # scikit-learn's for ovo with average=None; fastdet's ValueError
        return ValueError
    except (ValueError, TypeError) as exc:
        return ValueError if isinstance(exc, ValueError) else TypeError


def assert_same(ours, theirs):
    """Equal outcomes: the same exception class, or equal results (NaN equals NaN)."""
    if isinstance(theirs, type) or isinstance(ours, type):
        assert ours is theirs, f"fastdet gave {ours!r}, scikit-learn {theirs!r}"
        return
    if isinstance(theirs, tuple):
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs, strict=True):
            assert np.shape(a) == np.shape(b), (a, b)
            assert_allclose(a, b, rtol=TEST_RTOL, atol=ATOL)
        return
    assert np.shape(ours) == np.shape(theirs), (ours, theirs)
    assert_allclose(ours, theirs, rtol=TEST_RTOL, atol=ATOL)


# --------------------------------------------------------------------------- strategies

tied_scores = st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.75, 1.0, -3.0])
any_scores = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
# exact binary fractions keep every partial sum exact, so the naive references (exactly rounded
# sums) and the kernels (sequential sums) agree bit for bit, drop_intermediate included
exact_weights = st.sampled_from([0.0, 0.25, 0.5, 1.0, 2.0, 3.0])
float_weights = st.one_of(exact_weights, st.floats(0.001, 100.0))
# (label pair, pos_label to pass to the curves): None means the default (1 among {0, 1} / {-1, 1})
LABEL_PAIRS = [
    ((0, 1), None),
    ((-1, 1), None),
    ((False, True), None),
    ((0.0, 1.0), None),
    ((1, 2), 2),
    ((2, 1), 1),
    (("neg", "pos"), "pos"),
    (("b", "a"), "a"),
    ((False, True), True),
]


@st.composite
def binary_problem(draw, weights=None, both=True):
    """(y_true list, y_score array, sample_weight or None, pos_label, positive mask)."""
    labels, pos_label = draw(st.sampled_from(LABEL_PAIRS))
    n = draw(st.integers(2 if both else 1, 30))
    bits = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    if both:
        bits[0], bits[1] = False, True
    scores = np.array(draw(st.lists(st.one_of(tied_scores, any_scores), min_size=n, max_size=n)))
    w = None
    if weights is not None and draw(st.booleans()):
        w = np.array(draw(st.lists(weights, min_size=n, max_size=n)))
        assume(w.any())
    positive_label = labels[1] if pos_label is None else pos_label
    negative_label = labels[0] if labels[1] == positive_label else labels[1]
    y = [positive_label if b else negative_label for b in bits]
    return y, scores, w, pos_label, np.array(bits)


# --------------------------------------------------------------------------- curves


@given(binary_problem(weights=float_weights), st.booleans())
def test_roc_curve_matches_sklearn(problem, drop):
    y, s, w, pos_label, _ = problem
    ours = outcome(roc_curve, y, s, pos_label=pos_label, sample_weight=w, drop_intermediate=drop)
    theirs = outcome(sk().roc_curve, y, s, pos_label=pos_label, sample_weight=w, drop_intermediate=drop)
    assert_same(ours, theirs)


@given(binary_problem(weights=exact_weights, both=False), st.booleans())
def test_roc_curve_matches_reference(problem, drop):
    y, s, w, pos_label, positive = problem
    want = ref.weighted_roc_curve(positive, s, w, drop)
    assert_same(quiet(roc_curve, y, s, pos_label=pos_label, sample_weight=w, drop_intermediate=drop), want)


@given(binary_problem(weights=float_weights, both=False), st.booleans())
def test_precision_recall_curve_matches_sklearn(problem, drop):
    y, s, w, pos_label, positive = problem
    kwargs = {"pos_label": pos_label, "sample_weight": w, "drop_intermediate": drop}
    ours = outcome(precision_recall_curve, y, s, **kwargs)
    assert_same(ours, outcome(sk().precision_recall_curve, y, s, **kwargs))
    if not drop and (w is None or np.isin(w, [0.0, 0.25, 0.5, 1.0, 2.0, 3.0]).all()):
        assert_same(ours, ref.weighted_precision_recall_curve(positive, s, w))


@given(
    binary_problem(weights=st.one_of(st.floats(-3.0, 3.0), float_weights)),
    st.booleans(),
)
def test_curves_with_negative_weights_match_sklearn(problem, drop):
    # scikit-learn accepts negative weights: the curves are computed all the same
    y, s, w, pos_label, _ = problem
    kw = {"pos_label": pos_label, "sample_weight": w, "drop_intermediate": drop}
    assert_same(outcome(roc_curve, y, s, **kw), outcome(sk().roc_curve, y, s, **kw))
    assert_same(outcome(precision_recall_curve, y, s, **kw), outcome(sk().precision_recall_curve, y, s, **kw))
    kw = {"pos_label": 1 if pos_label is None else pos_label, "sample_weight": w}
    assert_same(outcome(average_precision, y, s, **kw), outcome(sk().average_precision_score, y, s, **kw))


def test_roc_curve_toydata():
    # sklearn's test_roc_curve_toydata (tpr, fpr as it names them), expected numbers from there
    for y, s, fpr_want, tpr_want, auc_want in [
        ([0, 1], [0, 1], [0, 0, 1], [0, 1, 1], 1.0),
        ([0, 1], [1, 0], [0, 1, 1], [0, 0, 1], 0.0),
        ([1, 0], [1, 1], [0, 1], [0, 1], 0.5),
        ([1, 0], [1, 0], [0, 0, 1], [0, 1, 1], 1.0),
        ([1, 0], [0.5, 0.5], [0, 1], [0, 1], 0.5),
    ]:
        fpr, tpr, _ = roc_curve(y, s)
        assert_allclose(fpr, fpr_want)
        assert_allclose(tpr, tpr_want)
        assert roc_auc(y, s) == auc_want


@pytest.mark.parametrize(
    ("name", "y"),
    [
        ("roc_curve", [1] * 4),
        ("roc_curve", [0] * 4),
        ("precision_recall_curve", [0] * 4),
        ("average_precision", [0] * 4),
    ],
)
def test_degenerate_warnings_start_with_scikit_learns_text(name, y):
    """``warnings.filterwarnings(message=...)`` matches from a message's start: a filter written
    for scikit-learn's warning text silences fastdet's too."""
    import fastdet.metrics as fm

    sk_name = {"average_precision": "average_precision_score"}.get(name, name)
    s = [0.1, 0.4, 0.35, 0.8]
    with warnings.catch_warnings(record=True) as theirs:
        warnings.simplefilter("always")
        getattr(sk(), sk_name)(y, s)
    with warnings.catch_warnings(record=True) as mine:
        warnings.simplefilter("always")
        getattr(fm, name)(y, s)
    assert [str(w.message) for w in theirs], "scikit-learn warns here"
    for w in theirs:
        assert any(str(m.message).startswith(str(w.message)) for m in mine), (
            str(w.message),
            [str(m.message) for m in mine],
        )


def test_roc_curve_one_label():
    y = [1] * 10
    s = [0, 1] * 5
    with pytest.warns(UndefinedMetricWarning, match="No negative samples"):
        fpr, tpr, thr = roc_curve(y, s)
    assert np.isnan(fpr).all()
    assert fpr.shape == tpr.shape == thr.shape
    with pytest.warns(UndefinedMetricWarning, match="No positive samples"):
        fpr, tpr, thr = roc_curve([0] * 10, s)
    assert np.isnan(tpr).all()
    assert_allclose(fpr, [0, 0.5, 1])


def test_roc_curve_drop_intermediate():
    # sklearn's test_roc_curve_drop_intermediate
    _, _, thr = roc_curve([0, 0, 0, 0, 1, 1], [0.0, 0.2, 0.5, 0.6, 0.7, 1.0])
    assert_allclose(thr, [np.inf, 1.0, 0.7, 0.0])
    y = [0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]
    s = [0.0, 0.1, 0.6, 0.6, 0.7, 0.8, 0.9, 0.6, 0.7, 0.8, 0.9, 0.9, 1.0]
    _, _, thr = roc_curve(y, s)
    assert_allclose(thr, [np.inf, 1.0, 0.9, 0.7, 0.6, 0.0])


def test_roc_curve_fpr_tpr_increasing():
    # sklearn's edge case: float weights whose cumulative sums repeat values
    fpr, tpr, _ = roc_curve([0, 0, 1, 1, 1], [0.1, 0.7, 0.3, 0.4, 0.5], sample_weight=np.repeat(0.2, 5))
    assert (np.diff(fpr) >= 0).all()
    assert (np.diff(tpr) >= 0).all()


def test_precision_recall_curve_toydata():
    # sklearn's test_precision_recall_curve_toydata, binary part
    for y, s, p_want, r_want, ap_want in [
        ([0, 1], [0, 1], [0.5, 1, 1], [1, 1, 0], 1.0),
        ([0, 1], [1, 0], [0.5, 0.0, 1.0], [1.0, 0.0, 0.0], 0.5),
        ([1, 0], [1, 1], [0.5, 1], [1.0, 0], 0.5),
        ([1, 0], [1, 0], [0.5, 1, 1], [1, 1, 0], 1.0),
        ([1, 0], [0.5, 0.5], [0.5, 1], [1, 0.0], 0.5),
        ([1, 1], [0.25, 0.75], [1.0, 1.0, 1.0], [1, 0.5, 0.0], 1.0),
    ]:
        p, r, _ = precision_recall_curve(y, s)
        assert_allclose(p, p_want)
        assert_allclose(r, r_want)
        assert average_precision(y, s) == ap_want
    with pytest.warns(UserWarning, match="No positive"):  # UndefinedMetricWarning is a UserWarning
        p, r, _ = precision_recall_curve([0, 0], [0.25, 0.75])
    assert_allclose(p, [0, 0, 1])
    assert_allclose(r, [1, 1, 0])
    # labels [1, 0, 0, 1] scored 1..4, with and without drop_intermediate (sklearn's numbers)
    p, r, t = precision_recall_curve([1, 0, 0, 1], [1, 2, 3, 4], drop_intermediate=True)
    assert_allclose(p, [0.5, 1 / 3, 1.0, 1.0])
    assert_allclose(r, [1.0, 0.5, 0.5, 0.0])
    assert_allclose(t, [1, 2, 4])


def test_precision_recall_curve_drop_intermediate():
    # sklearn's test_precision_recall_curve_drop_intermediate
    cases = [
        ([0, 0, 0, 0, 1, 1], [0.0, 0.2, 0.5, 0.6, 0.7, 1.0], [0.0, 0.7, 1.0]),
        (
            [0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1],
            [0.0, 0.1, 0.6, 0.6, 0.7, 0.8, 0.9, 0.6, 0.7, 0.8, 0.9, 0.9, 1.0],
            [0.0, 0.6, 0.7, 0.8, 0.9, 1.0],
        ),
        ([1, 1, 1, 1], [0.0, 0.1, 0.2, 0.3], [0.0, 0.1, 0.2, 0.3]),
    ]
    for y, s, want in cases:
        assert_allclose(precision_recall_curve(y, s, drop_intermediate=True)[2], want)
    with pytest.warns(UndefinedMetricWarning):
        assert_allclose(
            precision_recall_curve([0, 0, 0, 0], [0.0, 0.1, 0.2, 0.3], drop_intermediate=True)[2], [0.0, 0.3]
        )


def test_zero_weights_drop_samples_and_thresholds():
    # sklearn's test_confusion_matrix_at_thresholds_zero_sample_weight: a zero weight is no sample
    y, s, w = [0, 0, 1, 1, 1], [0.1, 0.2, 0.3, 0.4, 0.5], [1, 1, 1, 0.5, 0]
    for fn in (roc_curve, precision_recall_curve):
        assert_same(fn(y, s, sample_weight=w), fn(y[:-1], s[:-1], sample_weight=w[:-1]))
    assert 0.5 not in roc_curve(y, s, sample_weight=w)[2]


def test_weighted_ties_are_summed_in_input_order():
    # tied positives whose float sum depends on the order: in input order (1 + 1e16) - 1e16 == 0,
    # in reverse order 1. scikit-learn adds them in input order (stable argsort + cumsum), and so
    # does fastdet (stable radix sort, ties summed forward), so both see no positive weight
    y, s, w = [1, 1, 1, 0], [0.5, 0.5, 0.5, 0.2], [1.0, 1e16, -1e16, 1.0]
    with pytest.warns(UndefinedMetricWarning, match="No positive"):
        fpr, tpr, _ = roc_curve(y, s, sample_weight=w)
    assert np.isnan(tpr).all()
    assert_same((fpr, tpr), quiet(sk().roc_curve, y, s, sample_weight=w)[:2])
    assert_same(
        quiet(precision_recall_curve, y, s, sample_weight=w),
        quiet(sk().precision_recall_curve, y, s, sample_weight=w),
    )


def test_pos_label_and_implicit_labels():
    s = [0.0, 1.0, 0.2, 0.42]
    for fn in (roc_curve, precision_recall_curve):
        # floats holding whole numbers are labels like integers; {-1, 1} needs no pos_label
        assert_same(fn([0, 1, 1, 0], s), fn([0.0, 1.0, 1.0, 0.0], s))
        assert_same(fn([0, 1, 1, 0], s), fn([-1, 1, 1, -1], s))
        assert_same(fn([0, 1, 1, 0], s), fn(["a", "b", "b", "a"], s, pos_label="b"))
        assert_same(fn([0, 1, 1, 0], s), fn(np.array(["a", "b", "b", "a"], dtype=object), s, pos_label="b"))
        assert_same(fn([0, 1, 1, 0], s), fn([5, 7, 7, 5], s, pos_label=7))
        for bad in (np.array(["a", "b"]), np.array(["a", "b"], dtype=object)):
            with pytest.raises(
                ValueError, match=r"y_true takes value in \{'a', 'b'\} and pos_label is not specified"
            ):
                fn(bad, [0.0, 1.0])
        with pytest.raises(ValueError, match="pos_label is not specified"):
            fn([0, 1, 2], [0.1, 0.2, 0.3])  # multiclass needs a pos_label
        with pytest.raises(TypeError, match="bytes"):
            fn([b"a", b"b"], [0.0, 1.0])
        with pytest.raises(ValueError, match="pos_label='b' is not a valid label"):
            fn([0, 1], [0.0, 1.0], pos_label="b")
    # a multiclass y_true with pos_label: one class against the rest, as scikit-learn
    y, s3 = [0, 1, 2, 2, 1], [0.1, 0.9, 0.4, 0.6, 0.3]
    assert_same(roc_curve(y, s3, pos_label=2), quiet(sk().roc_curve, y, s3, pos_label=2))


@pytest.mark.parametrize("classes", [(False, True), (0, 1), (0.0, 1.0), ("zero", "one")])
@pytest.mark.parametrize(
    "fn", [average_precision, precision_recall_curve, roc_curve], ids=lambda f: f.__name__
)
def test_ranking_metric_pos_label_types(fn, classes):
    # sklearn's test_ranking_metric_pos_label_types
    rng = np.random.default_rng(42)
    y = rng.choice(np.array(classes, dtype=object), size=10).tolist()
    y[0], y[1] = classes
    s = rng.random(10)
    got = fn(y, s, pos_label=classes[-1])
    parts = got if isinstance(got, tuple) else (got,)
    assert not any(np.isnan(p).any() for p in parts)
    name = "average_precision_score" if fn is average_precision else fn.__name__
    assert_same(got, quiet(getattr(sk(), name), y, s, pos_label=classes[-1]))


# --------------------------------------------------------------------------- binary AUC and AP


@given(binary_problem(weights=float_weights, both=False))
def test_roc_auc_matches_sklearn_and_reference(problem):
    y, s, w, _, _ = problem
    ours = outcome(roc_auc, y, s, sample_weight=w)
    assert_same(ours, outcome(sk().roc_auc_score, y, s, sample_weight=w))
    # roc_auc's positive class is the greater label: compare with the reference on that indicator
    greater = np.array(y) == sorted(set(y))[-1]
    keep = np.ones(len(y), bool) if w is None else w != 0
    want = (
        math.nan
        if len(set(y)) < 2
        else ref.weighted_roc_auc(greater[keep], s[keep], None if w is None else w[keep])
    )
    assert_same(ours, want)


@given(
    binary_problem(weights=exact_weights),
    st.sampled_from([1e-4, 0.05, 0.2, 1 / 3, 0.5, 0.75, 0.999, 1.0]),
)
def test_partial_roc_auc_matches_sklearn_and_reference(problem, max_fpr):
    y, s, w, _, _ = problem
    ours = outcome(roc_auc, y, s, sample_weight=w, max_fpr=max_fpr)
    theirs = outcome(sk().roc_auc_score, y, s, sample_weight=w, max_fpr=max_fpr)
    if isinstance(ours, float) and math.isnan(ours):
        return  # no weight left in a class: NaN + warning where scikit-learn fails (documented)
    assert_same(ours, theirs)
    greater = np.array(y) == sorted(set(y))[-1]
    assert_same(ours, ref.partial_roc_auc(greater, s, max_fpr, w) if max_fpr < 1 else theirs)


def test_partial_roc_auc_score():
    # sklearn's test_partial_roc_auc_score, with its expected numbers
    y = np.array([0, 0, 1, 1])
    assert roc_auc(y, y, max_fpr=1) == 1
    assert roc_auc(y, y, max_fpr=0.001) == 1
    for bad in (-0.1, 1.1, 0, math.nan):
        with pytest.raises(ValueError, match="max_fpr"):
            roc_auc(y, y, max_fpr=bad)
    with pytest.raises(TypeError, match="max_fpr"):
        roc_auc(y, y, max_fpr="0.5")
    s = np.array([0.1, 0, 0.1, 0.01])
    assert roc_auc(y, s, max_fpr=1) == roc_auc(y, s)
    assert roc_auc(y, s, max_fpr=0.3) == 0.5


@given(binary_problem(weights=float_weights, both=False))
def test_average_precision_matches_sklearn_and_reference(problem):
    y, s, w, pos_label, positive = problem
    pos_label = 1 if pos_label is None else pos_label
    ours = outcome(average_precision, y, s, pos_label=pos_label, sample_weight=w)
    assert_same(ours, outcome(sk().average_precision_score, y, s, pos_label=pos_label, sample_weight=w))
    if w is None or np.isin(w, [0.0, 0.25, 0.5, 1.0, 2.0, 3.0]).all():
        assert_same(ours, ref.weighted_average_precision(positive, s, w))


@given(
    st.integers(1, 700).flatmap(
        lambda n: st.tuples(
            st.lists(st.booleans(), min_size=n, max_size=n).filter(any),
            st.lists(st.integers(0, 500), min_size=n, max_size=n),
        )
    ),
    st.booleans(),
)
def test_unweighted_average_precision_is_sklearns_to_the_bit(data, threaded):
    """scikit-learn adds the AP's terms with ``np.sum`` (pairwise: halves, then blocks of up to 128
    in eight partial sums), not one running sum: so does fastdet, on the small-input path and on
    the bucketed one (from ``_THREADED_MIN`` samples), so the AP is the same float."""
    from unittest import mock

    from fastdet.metrics import _binary

    positive, ticks = data
    y = np.array(positive, np.int64)
    s = np.array(ticks, np.float64) / 7.0  # up to 501 distinct scores: trees of several levels
    with mock.patch.object(_binary, "_THREADED_MIN", 1 if threaded else _binary._THREADED_MIN):
        ours = average_precision(y, s)
    assert ours == sk().average_precision_score(y, s)


@given(
    st.lists(
        st.lists(
            st.floats(allow_nan=False, allow_infinity=False, width=64)
            | st.sampled_from([0.0, -0.0, 1e300, -1e-300]),
            max_size=300,
        ),
        min_size=1,
        max_size=4,
    ),
    st.lists(st.integers(0, 9), min_size=4, max_size=4),
    st.booleans(),
)
@example([[1e16, 1.0, -1e16] + [1.0] * 130], [0, 0, 0, 0], False)  # order-sensitive: 1 lost or kept
@example([[-0.0] * 9], [0, 0, 0, 0], False)  # np.sum adds 0.0 first: -0.0 sums to +0.0
def test_numpy_sum_of_pieces_is_np_sum_of_the_joined_pieces(values, gaps, threaded):
    """``numpy_sum`` adds pieces of an array, laid out in any order with gaps between them, as
    ``np.sum`` adds them joined: pieces that cross NumPy's blocks of 128 and its halves,
    empty pieces, sums that overflow to inf, signed zeros."""
    from fastdet.metrics._binary import numpy_sum

    joined = np.array([v for piece in values for v in piece], np.float64)
    layout = list(range(len(values)))[::-1]  # the last piece first in memory, as AP's terms lie
    out = np.full(sum(map(len, values)) + sum(gaps), np.nan)  # a gap read would give NaN
    pieces = np.empty((len(values), 2), np.int64)
    at = 0
    for p in layout:
        at += gaps[p]
        out[at : at + len(values[p])] = values[p]
        pieces[p] = at, len(values[p])
        at += len(values[p])
    with np.errstate(over="ignore", invalid="ignore"):
        expected = np.sum(joined)
        got = numpy_sum(out, pieces, threaded)
    assert np.array_equal(np.float64(got), expected, equal_nan=True)
    assert math.copysign(1.0, got) == math.copysign(1.0, expected)


def test_numpy_sum_of_pieces_at_every_tree_shape():
    """Lengths around NumPy's block (8, 128) and its halving (multiples of 8 either side), and a
    million values cut into three pieces at random points: the same bits as ``np.sum``."""
    from fastdet.metrics._binary import numpy_sum

    rng = np.random.default_rng(21)
    lengths = [*range(1, 300), 1023, 1024, 1025, 2047, 2056, 4097, 65_536 + 8, 1_000_003]
    for n in lengths:
        x = rng.normal(size=n) * 10.0 ** rng.integers(-8, 16, n)
        cuts = np.sort(rng.integers(0, n + 1, 2))
        pieces = np.array([[0, cuts[0]], [cuts[0], cuts[1] - cuts[0]], [cuts[1], n - cuts[1]]], np.int64)
        for threaded in (False, True):
            assert numpy_sum(x, pieces, threaded) == np.sum(x), n


@given(
    st.lists(st.integers(1, 40), max_size=60),
    st.lists(st.integers(1, 40), max_size=60),
    st.data(),
)
def test_merged_rank_key_is_the_key_of_that_row_of_the_merge(pos_keys, neg_keys, data):
    """The cut of the parts: the key of the merge's row k, either half possibly empty."""
    from fastdet._kernels.ranking import _merged_rank_key

    assume(pos_keys or neg_keys)
    merged = sorted(pos_keys + neg_keys)
    k = data.draw(st.integers(0, len(merged) - 1))
    pos = np.array(sorted(pos_keys), np.uint64).reshape(-1, 1)
    neg = np.array(sorted(neg_keys), np.uint64).reshape(-1, 1)
    assert _merged_rank_key(pos, neg, k) == merged[k]
    # keys at the top of the range (the largest a row can hold: 2**64 - 2): no overflow in the bisection
    top = 2**64 - 2
    pos_top = np.array([top - 40 + v for v in sorted(pos_keys)], np.uint64).reshape(-1, 1)
    neg_top = np.array([top - 40 + v for v in sorted(neg_keys)], np.uint64).reshape(-1, 1)
    assert int(_merged_rank_key(pos_top, neg_top, k)) == top - 40 + merged[k]


def test_single_class_roc_auc_is_nan_with_a_warning():
    # sklearn 1.9 (test_auc_score_non_binary_class): NaN and UndefinedMetricWarning
    s = np.random.default_rng(404).random(10)
    for y in (np.zeros(10, int), np.ones(10, int), np.full(10, -1), np.full(10, "a")):
        with pytest.warns(UndefinedMetricWarning, match="Only one class is present in y_true"):
            assert math.isnan(roc_auc(y, s))
    with pytest.warns(UndefinedMetricWarning, match="Only one class"):
        assert math.isnan(roc_auc([1, 1], [0.2, 0.4], max_fpr=0.5))
    # the warning points at the caller, not at fastdet's internals
    with pytest.warns(UndefinedMetricWarning) as record:
        roc_auc([0, 0], [0.1, 0.2])
    assert record[0].filename == __file__


def test_roc_auc_labels_are_sorted_the_greater_is_positive():
    s = [0.1, 0.4, 0.35, 0.8]
    for y in ([0, 0, 1, 1], [-1, -1, 1, 1], [1, 1, 2, 2], ["a", "a", "b", "b"], [False, False, True, True]):
        assert roc_auc(y, s) == 0.75
        assert roc_auc(y, s) == sk().roc_auc_score(y, s)
    assert average_precision([1, 1, 2, 2], s) == sk().average_precision_score([1, 1, 2, 2], s)  # pos_label 1


def test_average_precision_pos_label_errors():
    # sklearn's test_average_precision_score_{binary,multilabel,multiclass}_pos_label_errors
    with pytest.raises(ValueError, match=r"pos_label=2 is not a valid label"):
        average_precision([0, 1], [0, 1], pos_label=2)
    with pytest.raises(ValueError, match="pos_label=1 is not a valid label"):
        average_precision(["a", "b"], [0, 1])
    y = np.array([[1, 0], [0, 1], [0, 1], [1, 0]])
    with pytest.raises(ValueError, match="pos_label is fixed to 1 for multilabel"):
        average_precision(y, [[0.9, 0.1], [0.1, 0.9], [0.8, 0.2], [0.2, 0.8]], pos_label=0)
    with pytest.raises(ValueError, match="pos_label is fixed to 1 for multiclass"):
        average_precision([0, 1, 2, 0, 1, 2], np.full((6, 3), 1 / 3), pos_label=3)
    # a single class that is not pos_label: no positives, AP 0 with a warning (sklearn: UserWarning)
    with pytest.warns(UserWarning, match="No positive"):
        assert average_precision([2, 2, 2], [0.1, 0.2, 0.3]) == 0.0
    assert average_precision([2, 2, 2], [0.1, 0.2, 0.3], pos_label=2) == 1.0


def test_average_precision_constant_values():
    # sklearn's: a constant score's AP is the fraction of positives
    y = np.zeros(100, dtype=int)
    y[::4] = 1
    assert average_precision(y, np.ones(100)) == 0.25


def test_score_scale_invariance():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    s = rng.random(200)
    for fn in (roc_auc, average_precision):
        base = fn(y, s)
        assert fn(y, s * 1e-10) == pytest.approx(base, rel=TEST_RTOL)
        assert fn(y, s * 1e10) == pytest.approx(base, rel=TEST_RTOL)
        assert fn(y, s - 0.5) == pytest.approx(base, rel=TEST_RTOL)


def test_negative_weights_non_monotone_curve_raises_like_sklearn():
    y, s, w = [0, 1, 0, 1, 0], [0.9, 0.8, 0.7, 0.6, 0.5], [2.0, 1.0, -1.0, 1.0, 1.0]
    with pytest.raises(ValueError, match="not monotone"):
        roc_auc(y, s, sample_weight=w)
    with pytest.raises(ValueError, match="neither increasing nor decreasing"):
        sk().roc_auc_score(y, s, sample_weight=w)


# --------------------------------------------------------------------------- multiclass and multilabel

OVO_SCORES = np.array([[0.1, 0.8, 0.1], [0.3, 0.4, 0.3], [0.35, 0.5, 0.15], [0, 0.2, 0.8]])


@pytest.mark.parametrize(
    ("y_true", "labels"),
    [
        (np.array([0, 1, 0, 2]), [0, 1, 2]),
        (np.array([0, 1, 0, 2]), None),
        (["a", "b", "a", "c"], ["a", "b", "c"]),
        (["a", "b", "a", "c"], None),
    ],
)
def test_multiclass_ovo_roc_auc_toydata(y_true, labels):
    # sklearn's test_multiclass_ovo_roc_auc_toydata: Hand & Till by hand from binary AUCs
    a01 = (roc_auc([1, 0, 1], [0.1, 0.3, 0.35]) + roc_auc([0, 1, 0], [0.8, 0.4, 0.5])) / 2
    a02 = (roc_auc([1, 1, 0], [0.1, 0.35, 0]) + roc_auc([0, 0, 1], [0.1, 0.15, 0.8])) / 2
    a12 = (roc_auc([1, 0], [0.4, 0.2]) + roc_auc([0, 1], [0.3, 0.8])) / 2
    got = roc_auc(y_true, OVO_SCORES, labels=labels, multi_class="ovo")
    assert got == pytest.approx((a01 + a02 + a12) / 3, rel=TEST_RTOL)
    weighted = roc_auc(y_true, OVO_SCORES, labels=labels, multi_class="ovo", average="weighted")
    assert weighted == pytest.approx(np.average([a01, a02, a12], weights=[0.75, 0.75, 0.5]), rel=TEST_RTOL)
    with pytest.raises(ValueError, match="average must be one of"):
        roc_auc(y_true, OVO_SCORES, labels=labels, multi_class="ovo", average=None)


@pytest.mark.parametrize(
    ("y_true", "labels"),
    [(np.array([0, 2, 0, 2]), [0, 1, 2]), (np.array(["a", "d", "a", "d"]), ["a", "b", "d"])],
)
def test_multiclass_ovo_roc_auc_toydata_binary(y_true, labels):
    # sklearn's: two classes present, three columns: one pair only
    s = np.array([[0.2, 0.0, 0.8], [0.6, 0.0, 0.4], [0.55, 0.0, 0.45], [0.4, 0.0, 0.6]])
    want = (roc_auc([1, 0, 1, 0], [0.2, 0.6, 0.55, 0.4]) + roc_auc([0, 1, 0, 1], [0.8, 0.4, 0.45, 0.6])) / 2
    for average in ("macro", "weighted"):
        assert roc_auc(y_true, s, labels=labels, multi_class="ovo", average=average) == pytest.approx(want)


@pytest.mark.parametrize(
    ("y_true", "labels"),
    [(np.array([0, 1, 2, 2]), None), (["a", "b", "c", "c"], None), ([0, 1, 2, 2], [0, 1, 2])],
)
def test_multiclass_ovr_roc_auc_toydata(y_true, labels):
    # sklearn's test_multiclass_ovr_roc_auc_toydata (Provost & Domingos weights)
    s = np.array([[1.0, 0.0, 0.0], [0.1, 0.5, 0.4], [0.1, 0.1, 0.8], [0.3, 0.3, 0.4]])
    per = [roc_auc([1, 0, 0, 0], s[:, 0]), roc_auc([0, 1, 0, 0], s[:, 1]), roc_auc([0, 0, 1, 1], s[:, 2])]
    assert_allclose(roc_auc(y_true, s, multi_class="ovr", labels=labels, average=None), per)
    assert roc_auc(y_true, s, multi_class="ovr", labels=labels) == pytest.approx(sum(per) / 3)
    weighted = roc_auc(y_true, s, multi_class="ovr", labels=labels, average="weighted")
    assert weighted == pytest.approx(per[0] * 0.25 + per[1] * 0.25 + per[2] * 0.5)


@pytest.mark.parametrize(("multi_class", "average"), [("ovr", "macro"), ("ovr", "micro"), ("ovo", "macro")])
def test_perfect_imperfect_chance_multiclass_roc_auc(multi_class, average):
    y = np.array([3, 1, 2, 0])
    perfect = [[0, 0, 0, 1.0], [0, 1.0, 0, 0], [0, 0, 1.0, 0], [0.75, 0.05, 0.05, 0.15]]
    imperfect = [[0, 0, 0, 1.0], [0, 1.0, 0, 0], [0, 0, 1.0, 0], [0, 0, 0, 1.0]]
    assert roc_auc(y, perfect, multi_class=multi_class, average=average) == pytest.approx(1.0)
    assert roc_auc(y, imperfect, multi_class=multi_class, average=average) < 1.0
    assert roc_auc(y, np.full((4, 4), 0.25), multi_class=multi_class, average=average) == pytest.approx(0.5)


@st.composite
def multiclass_problem(draw):
    """(y_true, probability rows, labels or None, weights or None): ties from small integer counts."""
    k = draw(st.integers(3, 5))
    n = draw(st.integers(k, 25))
    codes = draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n))
    codes[:k] = range(k)  # every class present
    counts = np.array(
        draw(st.lists(st.lists(st.integers(0, 4), min_size=k, max_size=k), min_size=n, max_size=n)), float
    )
    counts[counts.sum(axis=1) == 0, 0] = 1.0
    probs = counts / counts.sum(axis=1, keepdims=True)
    names = draw(st.sampled_from([None, "str", "int"]))
    if names == "str":
        y = [f"class-{c}" for c in codes]
        labels = None
    else:
        y = [10 * c - 7 for c in codes]
        labels = [10 * c - 7 for c in range(k)] if names == "int" else None
    w = None
    if draw(st.booleans()):
        w = np.array(draw(st.lists(float_weights, min_size=n, max_size=n)))
        assume(w.any())
    return y, probs, labels, w, np.array(codes)


@given(multiclass_problem(), st.sampled_from(["macro", "weighted", "micro", None]))
def test_multiclass_ovr_matches_sklearn_and_reference(problem, average):
    y, s, labels, w, codes = problem
    kw = {"multi_class": "ovr", "average": average, "labels": labels, "sample_weight": w}
    ours = outcome(roc_auc, y, s, **kw)
    assert_same(ours, outcome(sk().roc_auc_score, y, s, **kw))
    indicator = np.eye(s.shape[1], dtype=int)[codes]
    metric = lambda m, sc, ww: ref.weighted_roc_auc(m, sc, ww)  # noqa: E731
    want = ref.average_columns(metric, indicator, s, average, w)
    assert_same(ours, want)


@given(multiclass_problem(), st.sampled_from(["macro", "weighted"]))
def test_multiclass_ovo_matches_sklearn_and_reference(problem, average):
    y, s, labels, _, codes = problem
    ours = roc_auc(y, s, multi_class="ovo", average=average, labels=labels)
    assert_same(ours, quiet(sk().roc_auc_score, y, s, multi_class="ovo", average=average, labels=labels))
    assert_same(ours, ref.ovo_roc_auc(codes.tolist(), s.tolist(), average))


@given(multiclass_problem(), st.sampled_from(["macro", "weighted", "micro", "samples", None]))
def test_multiclass_average_precision_matches_sklearn(problem, average):
    y, s, _, w, codes = problem
    ours = outcome(average_precision, y, s, average=average, sample_weight=w)
    assert_same(ours, outcome(sk().average_precision_score, y, s, average=average, sample_weight=w))
    if w is None or np.isin(w, [0.0, 0.25, 0.5, 1.0, 2.0, 3.0]).all():
        indicator = np.eye(s.shape[1], dtype=int)[codes]
        assert_same(ours, ref.average_columns(ref.weighted_average_precision, indicator, s, average, w))


@st.composite
def multilabel_problem(draw):
    n = draw(st.integers(1, 15))
    k = draw(st.integers(2, 4))
    y = np.array(draw(st.lists(st.lists(st.integers(0, 1), min_size=k, max_size=k), min_size=n, max_size=n)))
    s = np.array(draw(st.lists(st.lists(tied_scores, min_size=k, max_size=k), min_size=n, max_size=n)))
    w = None
    if draw(st.booleans()):
        w = np.array(draw(st.lists(float_weights, min_size=n, max_size=n)))
        assume(w.any())
    return y, s, w


@given(multilabel_problem(), st.sampled_from(["macro", "weighted", "micro", "samples", None]))
def test_multilabel_matches_sklearn(problem, average):
    y, s, w = problem
    kw = {"average": average, "sample_weight": w}
    assert_same(outcome(roc_auc, y, s, **kw), outcome(sk().roc_auc_score, y, s, **kw))
    assert_same(outcome(average_precision, y, s, **kw), outcome(sk().average_precision_score, y, s, **kw))
    if w is None:  # with weights a column can lose a class: NaN where scikit-learn fails (documented)
        kw["max_fpr"] = 0.5
        assert_same(outcome(roc_auc, y, s, **kw), outcome(sk().roc_auc_score, y, s, **kw))


def test_multilabel_toydata():
    # sklearn's test_roc_curve_toydata / test_precision_recall_curve_toydata, multilabel parts
    y = np.array([[0, 1], [0, 1]])
    with pytest.warns(UndefinedMetricWarning, match="Only one class"):
        assert math.isnan(roc_auc(y, [[0, 1], [0, 1]], average="macro"))
    assert roc_auc(y, [[0, 1], [0, 1]], average="samples") == 1.0
    assert roc_auc(y, [[0, 1], [0, 1]], average="micro") == 1.0
    assert roc_auc(y, [[0, 1], [1, 0]], average="samples") == 0.5
    for average in ("macro", "weighted", "samples", "micro"):
        assert roc_auc([[1, 0], [0, 1]], [[0, 1], [1, 0]], average=average) == 0
        assert roc_auc([[1, 0], [0, 1]], [[0.5, 0.5], [0.5, 0.5]], average=average) == 0.5
        assert average_precision([[1, 0], [0, 1]], [[0, 1], [1, 0]], average=average) == 0.5
    with pytest.warns(UserWarning, match="No positive"):
        assert average_precision(y, [[0, 1], [0, 1]], average="macro") == 0.5
    with pytest.warns(UserWarning, match="No positive"):
        assert average_precision(y, [[0, 1], [0, 1]], average="weighted") == 1.0
    assert average_precision(y, [[0, 1], [1, 0]], average="samples") == 0.75
    assert average_precision([[0, 0], [0, 0]], [[0, 1], [0, 1]], average="weighted") == 0.0
    with pytest.warns(UserWarning, match="No positive"):
        assert average_precision([[0, 0], [0, 1]], [[0, 0], [0, 1]], average="weighted") == 1.0


@pytest.mark.parametrize(
    ("match", "y_true", "labels"),
    [
        ("labels must be unique", np.array([0, 1, 2, 2]), [0, 2, 0]),
        ("labels must be unique", np.array(["a", "b", "c", "c"]), ["a", "a", "b"]),
        ("y_true has 2 classes but y_score has 3 columns", np.array([0, 2, 0, 2]), None),
        ("labels must be ordered", np.array(["a", "b", "c", "c"]), ["a", "c", "b"]),
        ("labels has 2 labels but y_score has 3 columns", np.array([0, 1, 2, 2]), [0, 1]),
        (
            "labels has 4 labels but y_score has 3 columns",
            np.array(["a", "b", "c", "c"]),
            ["a", "b", "c", "d"],
        ),
        ("y_true contains labels not in labels", np.array(["a", "b", "c", "e"]), ["a", "b", "c"]),
        ("y_true contains labels not in labels", np.array([0, 1, 2, 3]), [0, 1, 2]),
        ("Mix of label input types", np.array([0, 1, 2, 2]), ["a", "b", "c"]),
    ],
)
@pytest.mark.parametrize("multi_class", ["ovo", "ovr"])
def test_roc_auc_multiclass_labels_errors(match, y_true, labels, multi_class):
    # sklearn's test_roc_auc_score_multiclass_labels_error
    with pytest.raises(ValueError, match=match):
        roc_auc(y_true, OVO_SCORES, labels=labels, multi_class=multi_class)


def test_roc_auc_multiclass_errors():
    # sklearn's test_roc_auc_score_multiclass_error and shape checks
    rng = np.random.default_rng(404)
    e = np.exp(rng.random((20, 3)))
    prob = e / e.sum(axis=1, keepdims=True)
    y = rng.integers(0, 3, 20)
    y[:3] = [0, 1, 2]
    with pytest.raises(ValueError, match=r"average must be one of \('macro', 'weighted'\)"):
        roc_auc(y, prob, average="samples", multi_class="ovo")
    with pytest.raises(ValueError, match=r"average must be one of \('micro', 'macro', 'weighted', None\)"):
        roc_auc(y, prob, average="samples", multi_class="ovr")
    with pytest.raises(ValueError, match="sample_weight is not supported with multi_class='ovo'"):
        roc_auc(y, prob, multi_class="ovo", sample_weight=np.ones(20))
    with pytest.raises(ValueError, match="max_fpr"):
        roc_auc(y, prob, multi_class="ovo", max_fpr=0.5)
    with pytest.raises(ValueError, match="multi_class='ovr' or 'ovo'"):
        roc_auc(y, prob)
    with pytest.raises(ValueError, match="multi_class"):
        roc_auc(y, prob, multi_class="ovx")
    with pytest.raises(ValueError, match="sum to 1"):
        roc_auc(y, prob * 2, multi_class="ovr")
    with pytest.raises(ValueError, match=r"shape \(n_samples, n_classes\)"):
        roc_auc(y, prob[:, 0], multi_class="ovr")
    with pytest.raises(ValueError, match=r"shape \(n_samples, n_classes\)"):
        average_precision(y, prob[:, 0])
    with pytest.raises(ValueError, match="y_score must be 1-dimensional for binary y_true"):
        roc_auc([0, 1, 1], [[0.5, 0.5], [0.1, 0.9], [0.3, 0.7]])
    with pytest.raises(ValueError, match="average"):
        roc_auc(y, prob, average="binary", multi_class="ovr")
    with pytest.raises(ValueError, match="label indicator matrix"):
        roc_auc([[0, 1], [1, 0]], [[0.5, 0.5, 0.1], [0.1, 0.9, 0.1]])
    with pytest.raises(ValueError, match="must hold only 0 and 1"):
        roc_auc([[0, 2], [1, 0]], [[0.5, 0.5], [0.1, 0.9]])


@pytest.mark.parametrize("average", ["macro", "weighted", None, "micro"])
@pytest.mark.parametrize("multi_class", ["ovr", "ovo"])
def test_multiclass_with_a_listed_class_absent_matches_sklearn(multi_class, average):
    # labels name a class no sample has: its one-vs-rest AUC is NaN (with a warning), as scikit-learn
    y = [0, 1, 0, 3, 1, 3, 0]
    e = np.exp(np.random.default_rng(3).normal(size=(7, 4)))
    s = e / e.sum(axis=1, keepdims=True)
    kw = {"multi_class": multi_class, "average": average, "labels": [0, 1, 2, 3]}
    assert_same(outcome(roc_auc, y, s, **kw), outcome(sk().roc_auc_score, y, s, **kw))
    if multi_class == "ovr" and average == "macro":
        with pytest.warns(UndefinedMetricWarning, match="Only one class"):
            assert math.isnan(roc_auc(y, s, **kw))


def test_ovo_with_a_single_class_present_is_nan():
    # scikit-learn divides by zero (no class pair); fastdet warns and returns NaN (documented)
    s = np.array([[0.5, 0.25, 0.25], [0.2, 0.4, 0.4]])
    with pytest.warns(UndefinedMetricWarning, match="Only one class"):
        assert math.isnan(roc_auc([1, 1], s, labels=[0, 1, 2], multi_class="ovo"))


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "fn", [roc_curve, roc_auc, precision_recall_curve, average_precision], ids=lambda f: f.__name__
)
def test_ranking_bad_input(fn):
    with pytest.raises(ValueError, match="NaN or inf"):
        fn([0, 1], [0.5, np.nan])
    with pytest.raises(ValueError, match="NaN or inf"):
        fn([0, 1], [0.5, np.inf])
    with pytest.raises(ValueError, match="same length"):
        fn([0, 1, 1], [0.5, 0.2])
    with pytest.raises(ValueError, match="y_true must hold integers"):
        fn([0.5, 1.0], [0.5, 0.2])  # scikit-learn: "continuous format is not supported"
    with pytest.raises(ValueError, match="empty"):
        fn([], [])
    with pytest.raises(ValueError, match="y_score must be"):
        fn([0, 1], [[[0.5, 0.2]]])
    with pytest.raises(ValueError, match="y_true must be 1-dimensional"):
        fn([[[0, 1]]], [0.5, 0.2])
    with pytest.raises(TypeError, match="y_score"):
        fn([0, 1], ["a", "b"])
    with pytest.raises(TypeError, match="y_true"):
        fn(np.array([0, 1], dtype=complex), [0.5, 0.2])
    with pytest.raises(TypeError, match="y_true"):
        fn(np.array([None, 1], dtype=object), [0.5, 0.2])
    with pytest.raises(ValueError, match="sample_weight has length 1 but y_true has length 2"):
        fn([0, 1], [0.5, 0.2], sample_weight=[1.0])
    with pytest.raises(ValueError, match="sample_weight contains NaN or inf"):
        fn([0, 1], [0.5, 0.2], sample_weight=[1.0, np.nan])
    with pytest.raises(ValueError, match="at least one non-zero weight"):
        fn([0, 1], [0.5, 0.2], sample_weight=[0.0, 0.0])
    with pytest.raises(TypeError, match="sample_weight"):
        fn([0, 1], [0.5, 0.2], sample_weight=["a", "b"])
    if fn is not roc_auc:
        with pytest.raises(TypeError, match="pos_label"):
            fn([0, 1], [0.5, 0.2], pos_label=[1])


def test_column_vectors_are_one_dimensional():
    # scikit-learn's column_or_1d: (n, 1) is (n,)
    y, s = np.array([[0], [1], [1], [0]]), np.array([[0.1], [0.8], [0.3], [0.4]])
    assert roc_auc(y, s) == roc_auc(y.ravel(), s.ravel())
    assert_same(roc_curve(y, s, sample_weight=np.ones((4, 1))), roc_curve(y.ravel(), s.ravel()))


def test_input_dtypes():
    y = np.array([True, False, True, False])
    s32 = np.array([0.9, 0.1, 0.4, 0.4], np.float32)
    assert roc_auc(y, s32) == roc_auc(y.astype(int), s32.astype(np.float64))
    assert roc_auc(y.astype(float), [9, 1, 4, 4]) == roc_auc(y, [9, 1, 4, 4])
    assert roc_curve(y, s32)[2].dtype == np.float64
    assert_same(precision_recall_curve(y, s32), sk().precision_recall_curve(y, s32))
    s_read_only = np.array([0.9, 0.1, 0.4, 0.4])
    s_read_only.flags.writeable = False
    assert roc_auc(y, s_read_only) == roc_auc(y, s_read_only.copy())
    assert roc_auc(y, np.array([0.9, 0, 0.1, 0, 0.4, 0, 0.4, 0])[::2]) == roc_auc(y, s_read_only)
    assert roc_auc(y, s_read_only, sample_weight=np.array([1, 2, 3, 4], np.uint8)) == roc_auc(
        y, s_read_only, sample_weight=[1.0, 2.0, 3.0, 4.0]
    )
    # -0.0 and 0.0 are one threshold (as float comparison says)
    assert len(roc_curve([0, 1, 0], [-0.0, 0.0, 1.0], drop_intermediate=False)[2]) == 3


@pytest.mark.parametrize("seed", range(3))
def test_large_random_with_ties_and_weights(seed):
    rng = np.random.default_rng(seed)
    n = 5000
    y = (rng.random(n) < 0.3).astype(np.int64)
    s = np.round(rng.normal(size=n) + y, 2)  # rounding creates many tied groups
    w = np.where(rng.random(n) < 0.1, 0.0, rng.exponential(size=n))
    m = sk()
    for weights in (None, w):
        assert_same(roc_curve(y, s, sample_weight=weights), m.roc_curve(y, s, sample_weight=weights))
        assert_same(
            precision_recall_curve(y, s, sample_weight=weights),
            m.precision_recall_curve(y, s, sample_weight=weights),
        )
        assert_same(roc_auc(y, s, sample_weight=weights), m.roc_auc_score(y, s, sample_weight=weights))
        assert_same(
            roc_auc(y, s, sample_weight=weights, max_fpr=0.1),
            m.roc_auc_score(y, s, sample_weight=weights, max_fpr=0.1),
        )
        assert_same(
            average_precision(y, s, sample_weight=weights),
            m.average_precision_score(y, s, sample_weight=weights),
        )


# --------------------------------------------------------------------------- kernels: weighted sort, strings

float_keys = st.one_of(
    tied_scores,
    any_scores,
    st.sampled_from([-0.0, 5e-324, -5e-324, 1e308, -1e308, math.inf, -math.inf, 0.1 + 2**-55]),
)


@given(
    st.one_of(
        st.lists(float_keys, max_size=120).map(lambda xs: [ref.float_sort_key(x) for x in xs]),
        st.lists(st.integers(0, 2**64 - 1), max_size=120),
        st.lists(st.sampled_from([0, 1, 2**63, 2**64 - 1, 2**40 + 3, 2**40 + 4]), max_size=120),
        # keys sharing their low bits (float32 scores as float64 keys: 29 zeros, or ones after ~key),
        # now and then one that does not
        st.tuples(
            st.lists(st.integers(0, 2**34), max_size=120),
            st.sampled_from([(29, 0), (29, 2**29 - 1), (3, 5)]),
            st.sampled_from([None, 7, 2**64 - 2]),
        ).map(lambda t: [(x << t[1][0]) | t[1][1] for x in t[0]] + ([] if t[2] is None else [t[2]])),
    )
)
def test_msd_sort_is_a_stable_sort(keys):
    """``_sort_bucket_range`` with one bucket sorts (key, payload) rows by key, equal keys in input order."""
    from fastdet._kernels import scoresort as k

    n = len(keys)
    rec = np.zeros((n, 2), np.uint64)
    rec[:, 0] = np.array(keys, np.uint64)
    rec[:, 1] = np.arange(n, dtype=np.uint64)
    k._sort_bucket_range(rec, np.array([n], np.int64), 0, 1)
    want_keys, want_vals = ref.stable_sort_pairs(keys, list(range(n)))
    assert rec[:, 0].tolist() == want_keys
    assert rec[:, 1].tolist() == want_vals


@given(
    st.one_of(
        st.lists(float_keys, max_size=200),
        # keys sharing their leading bits (scores 1 ulp apart), with and without an outlier: the
        # insertion sort after the two leading-digit passes, and its way out to a full sort
        st.tuples(st.lists(st.integers(0, 10**6), max_size=200), st.sampled_from([None, 1e300, -2.0])).map(
            lambda t: [0.5 + i * 2.0**-53 for i in t[0]] + ([] if t[1] is None else [t[1]])
        ),
    )
)
@example([-0.0])  # one value: still -0.0 as +0.0
def test_radix_sort_sorts_like_python(values):
    """``_radix_sort`` orders floats as ``sorted`` does (-0.0 comes back as +0.0)."""
    from fastdet._kernels import scoresort as k

    arr = np.array(values, np.float64)
    k._radix_sort(arr, np.empty(arr.shape[0], np.uint64))
    want = [0.0 if v == 0 else v for v in sorted(values)]
    assert arr.tolist() == want
    assert not np.signbit(arr[arr == 0]).any()


@pytest.mark.parametrize("n", [100_000, 300_000])  # 11-bit first passes, and 8-bit ones (> _WIDE_SORT)
@pytest.mark.parametrize(
    "kind", ["uniform", "one_ulp_apart", "one_ulp_apart_outlier", "rounded", "signed_zeros", "softmax"]
)
def test_radix_sort_large_inputs(kind, n):
    from fastdet._kernels import scoresort as k

    rng = np.random.default_rng(9)
    logits = rng.normal(size=(n, 4)) * 3
    x = {
        "uniform": rng.random(n),
        "one_ulp_apart": 0.5 + rng.integers(0, 10**6, n) * 2.0**-53,
        "one_ulp_apart_outlier": np.append(0.5 + rng.integers(0, 10**6, n - 1) * 2.0**-53, 1e300),
        "rounded": np.round(rng.normal(size=n), 2),
        "signed_zeros": np.where(rng.random(n) < 0.3, -0.0, np.round(rng.normal(size=n), 1)),
        "softmax": (np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True))[:, 0],
    }[kind]
    assert (n > k._WIDE_SORT) == (n == 300_000)
    got = x.copy()
    k._radix_sort(got, np.empty(n, np.uint64))
    np.testing.assert_array_equal(got, np.sort(x + 0.0))  # -0.0 comes back as +0.0
    assert not np.signbit(got[got == 0]).any()


def _keys_of(scores):
    bits = scores.view(np.uint64)
    keys = np.where(bits >> np.uint64(63) == 1, ~bits, bits | np.uint64(1 << 63))
    keys[scores == 0] = np.uint64(1 << 63)
    assert keys[:300].tolist() == [ref.float_sort_key(x) for x in scores[:300]]
    return keys


def _large_scores(kind, n, rng):
    return {
        "uniform": rng.random(n),
        "rounded": np.round(rng.random(n), 3),
        "clustered": np.concatenate([1 + rng.random(n // 2) * 1e-12, rng.random(n - n // 2)]),
        "few": rng.integers(0, 5, n).astype(np.float64),
        "wide": rng.normal(size=n) * 10.0 ** rng.integers(-300, 300, n),
        "subnormal": rng.integers(0, 2**20, n) * 5e-324,
        # a detector's float32 sigmoid scores (29 low key bits shared), one float64 among them
        "float32": np.append(
            (1 / (1 + np.exp(-3 * rng.normal(size=n - 1)))).astype(np.float32).astype(np.float64), 0.1
        ),
    }[kind]


@pytest.mark.parametrize("kind", ["uniform", "rounded", "clustered", "few", "wide", "subnormal", "float32"])
@pytest.mark.parametrize("complement", [False, True])  # keys, or ~keys (the weighted rows' form)
def test_msd_sort_large_inputs(kind, complement):
    """Big skewed inputs (segments split several levels deep): the order of a stable argsort."""
    from fastdet._kernels import scoresort as k

    n = 200_000
    keys = _keys_of(_large_scores(kind, n, np.random.default_rng(7)))
    if complement:
        keys = ~keys
    rec = np.stack([keys, np.arange(n, dtype=np.uint64)], axis=1)
    k._sort_bucket_range(rec, np.array([n], np.int64), 0, 1)
    order = np.argsort(keys, kind="stable")
    np.testing.assert_array_equal(rec[:, 0], keys[order])
    np.testing.assert_array_equal(rec[:, 1], order)


@pytest.mark.parametrize("kind", ["uniform", "rounded", "clustered", "wide", "few"])
def test_weighted_halves_split_into_buckets_and_sort(kind):
    """Counting, bucketed split and per-bucket sorts: per label, the non-zero-weight samples by
    descending score (ascending ``~key``), ties in input order."""
    from fastdet.metrics._binary import _weighted_halves

    rng = np.random.default_rng(11)
    n = 100_000
    scores = _large_scores(kind, n, rng)
    mask = (rng.random(n) < 0.3).astype(np.uint8)
    w = np.where(rng.random(n) < 0.1, 0.0, rng.normal(size=n))
    keys = _keys_of(scores)
    for rec, label in zip(_weighted_halves(mask, scores, w), (1, 0), strict=True):
        idx = np.flatnonzero((mask == label) & (w != 0))
        idx = idx[np.argsort(~keys[idx], kind="stable")]
        np.testing.assert_array_equal(rec[:, 0], ~keys[idx])
        np.testing.assert_array_equal(rec[:, 1].view(np.float64), w[idx])


@pytest.mark.parametrize(
    ("kind", "weighted"),
    [(k, True) for k in ("rounded", "few", "uniform", "wide")]
    + [(k, False) for k in ("rounded", "few", "uniform", "wide", "subnormal")],
)
def test_threaded_path_equals_one_thread(kind, weighted, monkeypatch):
    """Large enough for threads (chunked split, buckets sorted in parallel): the same bits as one
    thread and as the small-input path, with ties (and zero weights); scikit-learn's to the bit."""
    from fastdet._kernels import thread_limit
    from fastdet.metrics import _binary

    rng = np.random.default_rng(5 if weighted else 6)
    n = 300_000
    assert n >= _binary._THREADED_MIN
    s = _large_scores(kind, n, rng)
    y = (rng.random(n) < 0.3).astype(np.int64)
    kw = {"sample_weight": np.where(rng.random(n) < 0.1, 0.0, rng.exponential(size=n))} if weighted else {}

    def results(m=None):  # fastdet's, or scikit-learn's with m = sklearn.metrics
        funcs = (roc_curve, precision_recall_curve, roc_auc, average_precision)
        if m is not None:
            funcs = (m.roc_curve, m.precision_recall_curve, m.roc_auc_score, m.average_precision_score)
        roc, pr, auc, ap = (f(y, s, **kw) for f in funcs)
        return (*roc, *pr, auc, ap)

    threaded = results()
    with thread_limit(1):
        one_thread = results()
    monkeypatch.setattr(_binary, "_THREADED_MIN", n + 1)
    serial = results()
    for a, b, c in zip(threaded, one_thread, serial, strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)
    if kind == "rounded":
        for a, b in zip(threaded, results(sk()), strict=True):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kind", ["uniform", "rounded", "few"])
def test_key_scores_in_parts_equal_one_walk(kind):
    """The unweighted merge cut into 1 to 7 parts at tied groups (parts empty when a group is
    larger than a part): the same twice-area integer and the same AP terms, and those are the
    exact rank count and scikit-learn's AP."""
    from fastdet.metrics._binary import _key_scores, _weighted_halves, numpy_sum

    rng = np.random.default_rng(13)
    n = 5000
    s = _large_scores(kind, n, rng)
    y = (rng.random(n) < 0.3).astype(np.uint8)
    pos, neg = _weighted_halves(y, s, None)
    got = []
    for parts in range(1, 8):
        terms = np.empty(n)
        area, pieces = _key_scores(pos, neg, True, terms, parts)
        joined = np.concatenate([terms[first : first + count] for first, count in pieces])
        got.append((area, joined.tolist()))
        assert numpy_sum(terms, pieces, parts % 2 == 0) == np.sum(joined)
        no_ap = _key_scores(pos, neg, False, np.empty(0), parts)
        assert no_ap[0] == area
        assert not no_ap[1].any()
    assert all(g == got[0] for g in got)
    area, terms = got[0]
    sp, sn = s[y == 1], s[y == 0]
    assert area == 2 * (sp[:, None] > sn[None, :]).sum() + (sp[:, None] == sn[None, :]).sum()
    assert -np.sum(terms) == sk().average_precision_score(y, s)


def test_unweighted_halves_are_key_rows_of_every_sample():
    """Without weights the bucketed split keeps every sample as a one-column row ``[~key]``,
    per label by descending score."""
    from fastdet.metrics._binary import _weighted_halves

    rng = np.random.default_rng(12)
    n = 50_000
    scores = np.concatenate([np.round(rng.normal(size=n - 4), 2), [0.0, -0.0, 5e-324, -1e308]])
    mask = (rng.random(n) < 0.4).astype(np.uint8)
    keys = _keys_of(scores)
    for rec, label in zip(_weighted_halves(mask, scores, None), (1, 0), strict=True):
        assert rec.shape[1] == 1
        np.testing.assert_array_equal(rec[:, 0], np.sort(~keys[mask == label]))


@pytest.mark.parametrize("kind", ["rounded", "uniform", "wide", "few", "mixed"])
@pytest.mark.parametrize("weights", ["exponential", "normal", "integer"])
def test_weighted_curves_bit_for_bit_with_sklearn(kind, weights):
    """The weighted curves are scikit-learn's to the bit: same sums in the same order."""
    m = sk()
    rng = np.random.default_rng(3)
    n = 30_000
    s = {
        "rounded": np.round(rng.random(n), 3),
        "uniform": rng.random(n),
        "wide": rng.normal(size=n) * 10.0 ** rng.integers(-200, 200, n),
        "few": rng.integers(0, 3, n).astype(np.float64),
        "mixed": np.where(
            rng.random(n) < 0.3, rng.choice([0.0, -0.0, 1.0, 5e-324, -1e308], n), rng.random(n)
        ),
    }[kind]
    y = (rng.random(n) < 0.3).astype(np.int64)
    w = {
        "exponential": np.where(rng.random(n) < 0.1, 0.0, rng.exponential(size=n)),
        "normal": rng.normal(size=n),
        "integer": rng.integers(0, 4, n).astype(np.float64),
    }[weights]
    for ours, theirs in [
        (quiet(roc_curve, y, s, sample_weight=w, drop_intermediate=False),
         quiet(m.roc_curve, y, s, sample_weight=w, drop_intermediate=False)),
        (quiet(roc_curve, y, s, sample_weight=w), quiet(m.roc_curve, y, s, sample_weight=w)),
        (quiet(precision_recall_curve, y, s, sample_weight=w),
         quiet(m.precision_recall_curve, y, s, sample_weight=w)),
    ]:  # fmt: skip
        for a, b in zip(ours, theirs, strict=True):
            np.testing.assert_array_equal(a, b)
    assert outcome(average_precision, y, s, sample_weight=w) == outcome(
        m.average_precision_score, y, s, sample_weight=w
    )
    assert_same_bits(outcome(roc_auc, y, s, sample_weight=w), outcome(m.roc_auc_score, y, s, sample_weight=w))


def assert_same_bits(ours, theirs):
    """The same exception class, or the same float (NaN equals NaN)."""
    if isinstance(ours, type) or isinstance(theirs, type):
        assert ours is theirs, (ours, theirs)
    else:
        assert ours == theirs or (math.isnan(ours) and math.isnan(theirs)), (ours, theirs)


@given(binary_problem(weights=float_weights), st.booleans(), st.sampled_from([0, 2, 3, 7]))
def test_weighted_area_terms_equal_the_curve_path_and_reference(problem, negative, parts):
    """``_weighted_area`` (the terms of the final sum, no curve arrays, the sorted rows cut into
    ``parts`` walked on threads) gives the bits of the curve path (``roc_from_counts`` + ``_auc``,
    ``pr_from_counts``), or None where that path warns."""
    from fastdet.metrics import _binary as b

    _, s, w, _, positive = problem
    if w is None:
        w = np.ones(s.shape[0])
    if negative:  # negative weights: curves that go back, or are not monotone
        w = w - 0.5
        assume(w.any())
    mask = positive.astype(np.uint8)
    counts = b.threshold_sums(mask, s, w)
    area = outcome(b._weighted_area, mask, s, w, False, parts)
    tp_total, fp_total = (float(c[-1]) if c.shape[0] else 0.0 for c in counts[1:])
    if tp_total <= 0 or fp_total <= 0:
        assert area is None
    else:
        fpr, tpr, _ = quiet(b.roc_from_counts, counts, True)
        assert_same_bits(outcome(b._weighted_area, mask, s, w, False, parts), outcome(b._auc, fpr, tpr))
        if not negative and np.isin(w, [0.0, 0.25, 0.5, 1.0, 2.0, 3.0]).all():
            assert_same(area, ref.weighted_roc_auc(positive[w != 0], s[w != 0], w[w != 0]))
    ap = b._weighted_area(mask, s, w, True, parts)
    if tp_total == 0 or not ((mask == 0) & (w != 0)).any():  # no positive weight, or no negative row
        assert ap is None
    else:
        precision, recall, _ = quiet(b.pr_from_counts, counts, False)
        assert ap == float(-np.sum(np.diff(recall) * precision[:-1]))
        if not negative and np.isin(w, [0.0, 0.25, 0.5, 1.0, 2.0, 3.0]).all():
            assert_same(max(0.0, ap), ref.weighted_average_precision(positive, s, w))


short_text = st.text(alphabet="ab\x00\u00e9\U0001f600", max_size=3)


@given(st.lists(short_text, min_size=1, max_size=40), short_text)
def test_string_labels_distinct_and_matches(values, label):
    from fastdet.metrics._common import distinct_upto_two, label_matches

    arr = np.array(values)
    uniq = np.unique(arr)
    got = distinct_upto_two(arr)
    if uniq.shape[0] > 2:
        assert got is None
    else:
        assert got is not None
        assert got.tolist() == uniq.tolist()
    np.testing.assert_array_equal(label_matches(arr, label, "y_true"), arr == label)


@given(st.lists(short_text, max_size=60), st.lists(short_text, max_size=60), st.integers(0, 2))
def test_string_label_codes_equal_the_reference(t_values, p_values, pad):
    """Strings are numbered by a hash table (``_factorize_rows``), then only the distinct ones sorted:
    the codes and classes of a sort of every string (NULs inside, code points past the BMP, widths)."""
    from fastdet._kernels import labels as k
    from fastdet.metrics._common import encode_labels

    n = min(len(t_values), len(p_values))  # y_true and y_pred have the same length
    t = np.array(t_values[:n], dtype=f"<U{4 + pad}")
    p = np.array(p_values[:n], dtype="<U3")
    if n == 0:
        return  # an empty side is not a string array after validation
    codes_t, codes_p, classes = encode_labels(t, p)
    want_t, want_p, want_classes = ref.encode_labels(t.tolist(), p.tolist())
    assert codes_t.tolist() == want_t
    assert codes_p.tolist() == want_p
    assert classes.tolist() == want_classes
    # the kernel alone, in chunks (a chunk numbers its rows of t, then of p)
    rows = t.astype("<U4").view(np.uint32).reshape(n, 4)
    rows_p = p.astype("<U4").view(np.uint32).reshape(n, 4)
    for n_chunks in (1, 3):
        bounds = np.linspace(0, n, n_chunks + 1).astype(np.int64)
        codes_t, codes_p = np.empty(n, np.int64), np.empty(n, np.int64)
        firsts, found = np.empty(2 * n, np.int64), np.empty(n_chunks, np.int64)
        k._factorize_rows.serial(
            n_chunks, rows.copy(), rows_p.copy(), bounds, codes_t, codes_p, firsts, found
        )
        for c in range(n_chunks):
            lo, hi = bounds[c], bounds[c + 1]
            chunk = t[lo:hi].tolist() + p[lo:hi].tolist()
            want_codes, want_firsts = ref.first_seen_numbers(chunk)
            assert codes_t[lo:hi].tolist() + codes_p[lo:hi].tolist() == want_codes
            m = hi - lo  # chunk index i: t's row lo + i (i < m), else p's row lo + i - m (index n + that)
            want = [lo + i if i < m else n + lo + i - m for i in want_firsts]
            assert firsts[2 * lo : 2 * lo + found[c]].tolist() == want


@pytest.mark.parametrize("n", [20_000, 300_000])
def test_string_label_codes_many_classes(n):
    """More distinct strings than the first hash table holds (it grows), on one thread and
    (from 200,000 rows) in chunks on threads: codes as np.unique's."""
    from fastdet.metrics._common import encode_labels

    rng = np.random.default_rng(3)
    t = np.array([str(v) for v in rng.integers(0, 5000, n)])
    p = np.array([f"x{v}" for v in rng.integers(0, 50, n)])
    classes, inverse = np.unique(np.concatenate((t, p)), return_inverse=True)
    got_t, got_p, got_classes = encode_labels(t, p)
    np.testing.assert_array_equal(got_classes, classes)
    np.testing.assert_array_equal(np.concatenate((got_t, got_p)), inverse)


@given(
    st.integers(1, 4).flatmap(
        lambda k: st.tuples(
            st.just(k),
            st.lists(
                st.tuples(
                    st.integers(0, k - 1),
                    st.lists(st.sampled_from([0.0, -0.0, 0.25, 0.5, 1.0, 3e-310]), min_size=k, max_size=k),
                ),
                max_size=30,
            ),
        )
    )
)
def test_class_pair_areas_equal_the_reference(problem):
    """The multiclass AUC counts (blocks grouped by class, radix-sorted, merged): ties, -0.0, absent classes."""
    from fastdet._kernels import ranking as k

    n_classes, rows = problem
    codes = np.array([c for c, _ in rows], np.int64)
    scores = np.array([r for _, r in rows], np.float64).reshape(len(rows), n_classes)
    counts = np.bincount(codes, minlength=n_classes)
    starts = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    expected = ref.class_pair_twice_areas(codes.tolist(), scores.tolist(), n_classes)
    for rest in (False, True):
        grouped = np.empty((n_classes, len(rows)), np.float64)
        k._group_columns.serial(1, 1, codes, starts[:-1], scores, grouped)
        areas = np.zeros((n_classes, n_classes), np.int64)
        k._class_pair_areas.serial(n_classes, grouped, starts, rest, areas)
        if rest:  # one-vs-rest: class j against all the others, on the diagonal
            assert np.diag(areas).tolist() == [sum(row) for row in expected]
        else:
            assert areas.tolist() == expected


@given(
    st.sampled_from(["int64", "int32", "uint8", "int8", "bool"]).flatmap(
        lambda dt: st.tuples(
            st.just(dt),
            st.lists(
                st.integers(*((0, 1) if dt == "bool" else (np.iinfo(dt).min, np.iinfo(dt).max)))
                | st.integers(0, 12),
                min_size=1,
                max_size=40,
            ),
        )
    )
)
def test_class_codes_equal_numpy_unique(case):
    """Multiclass labels are numbered through a lookup table when their range is narrow (from 0:
    no shift): the classes and codes of ``np.unique(y, return_inverse=True)``, dtype kept."""
    from fastdet.metrics._multiclass import _unique_codes

    dtype, values = case
    y = np.array(values).astype(dtype)
    classes, codes = _unique_codes(y)
    expected, inverse = np.unique(y, return_inverse=True)
    assert classes.dtype == expected.dtype
    np.testing.assert_array_equal(classes, expected)
    assert codes.dtype == np.int64
    np.testing.assert_array_equal(codes, inverse.reshape(-1))


@pytest.mark.parametrize("bad_at", [None, 0, 31_249, 31_250, 249_999])
def test_rows_sum_to_one_on_threads(bad_at):
    """From 200,000 rows the row-sum check runs in eight parts on threads: a row off by 1e-3
    anywhere (part edges included) fails it, as ``np.allclose``."""
    from fastdet.metrics._multiclass import _rows_sum_to_one

    p = np.random.default_rng(3).random((250_000, 4))
    p /= p.sum(axis=1, keepdims=True)
    if bad_at is not None:
        p[bad_at, 0] += 1e-3
    assert _rows_sum_to_one(p) == bool(np.allclose(1, p.sum(axis=1))) == (bad_at is None)


def test_class_pair_areas_threads_equal_serial():
    """From 200,000 samples the columns are grouped, sorted and merged on threads: the same counts."""
    from fastdet._kernels import ranking as k

    rng = np.random.default_rng(5)
    n, n_classes = 250_000, 5
    codes = rng.integers(0, n_classes, n)
    scores = np.round(rng.random((n, n_classes)), 3)
    counts = np.bincount(codes, minlength=n_classes)
    starts = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    for rest in (False, True):
        got = []
        for group, run in (
            (k._group_columns, k._class_pair_areas),
            (k._group_columns.serial, k._class_pair_areas.serial),
        ):
            grouped = np.empty((n_classes, n), np.float64)
            group(2, 2, codes, starts[:-1], scores, grouped)
            areas = np.zeros((n_classes, n_classes), np.int64)
            run(n_classes, grouped, starts, rest, areas)
            got.append(areas)
        np.testing.assert_array_equal(got[0], got[1])
        for j in range(n_classes):
            col = scores[:, j]
            pos = np.sort(col[codes == j])
            for b in [j] if rest else range(n_classes):
                if b != j or rest:
                    neg = np.sort(col[codes != j] if rest else col[codes == b])
                    below = np.searchsorted(neg, pos, "left").sum()  # negatives below each positive
                    upto = np.searchsorted(neg, pos, "right").sum()  # ... and up to it
                    assert got[0][j, b] == below + upto


@given(
    st.lists(
        st.floats(allow_nan=True, allow_infinity=True)
        | st.sampled_from([1.0, 1 + 1e-5, 1 - 1e-5, 1 + 1.1e-5]),
        max_size=5,
    )
)
def test_all_near_one_is_allclose(values):
    from fastdet._kernels import ranking as k

    arr = np.array(values, np.float64)
    assert k._all_near_one(arr) == np.allclose(1, arr)


@given(
    st.integers(1, 12).flatmap(
        lambda k: st.lists(
            st.tuples(
                st.lists(st.floats(0, 1) | st.floats(-1e300, 1e300), min_size=k, max_size=k),
                st.sampled_from([0.0, 1e-5, -1e-5, 1.0000001e-5, 1.00001e-5, 9.9999e-6, 1e-8, 0.5]),
            ),
            min_size=1,
            max_size=6,
        )
    )
)
def test_rows_near_one_is_allclose_of_the_row_sums(rows):
    """Decided rows agree with ``np.allclose(1, scores.sum(axis=1))`` (scikit-learn's check), in any
    number of parts; the check as a whole equals it."""
    from fastdet._kernels import ranking as k
    from fastdet.metrics._multiclass import _rows_sum_to_one

    scores = []
    for values, offset in rows:
        v = np.array(values, np.float64)
        total = v.sum()
        with np.errstate(over="ignore"):  # a tiny total can overflow the quotient: row left as is
            scaled = v / total if np.isfinite(total) and total != 0 else v
        if np.isfinite(scaled).all():
            v = scaled  # about 1, then moved to the tolerance's edge
        v[0] += offset
        scores.append(v)
    arr = np.array(scores)
    with np.errstate(over="ignore", invalid="ignore"):
        want = bool(np.allclose(1, arr.sum(axis=1)))
    for parts in (1, 2, len(arr) + 1):  # parts of one row, of several, and empty ones
        found = np.empty(parts, np.int64)
        k._rows_near_one.serial(parts, parts, arr, found)
        got = 0 if (found == 0).any() else -1 if (found < 0).any() else 1
        assert got == -1 or bool(got) == want
    assert _rows_sum_to_one(arr) == want


def test_ranking_kernels_compile_one_signature_each():
    # the wrappers convert to canonical dtypes, so each kernel compiles exactly once
    from fastdet._kernels import labels, ranking, scoresort

    rng = np.random.default_rng(0)
    for y in (
        rng.integers(0, 2, 20),
        rng.integers(0, 2, 20).astype(bool),
        rng.integers(0, 2, 20).astype(np.uint8),
    ):
        for s in (rng.random(20), rng.random(20).astype(np.float32), rng.integers(0, 9, 20)):
            for w in (None, rng.random(20), np.ones(20, np.int32)):
                roc_curve(y, s, sample_weight=w)
                roc_auc(y, s, sample_weight=w)
                average_precision(y, s, sample_weight=w)
        for names in (np.array(["a", "b"]), np.array(["no", "yes!"], object)):
            y_str = names[y.astype(np.int64)]
            roc_curve(y_str, rng.random(20), pos_label=str(names[1]))
            y_str.flags.writeable = False  # read-only labels: copied, not a second signature
            roc_auc(y_str, rng.random(20))
            average_precision(y_str, rng.random(20), pos_label=str(names[1]), sample_weight=rng.random(20))
            confusion_matrix(y_str, y_str[::-1], sample_weight=rng.random(20))  # a read-only, reversed view
        probs = rng.random((20, 3))
        probs /= probs.sum(axis=1, keepdims=True)
        for probs_in in (probs, probs.astype(np.float32), np.asfortranarray(probs)):
            roc_auc(rng.integers(0, 3, 20), probs_in, multi_class="ovr")
            roc_auc(rng.integers(0, 3, 20).astype(np.int8), probs_in, multi_class="ovo")
    for name in (
        "_split_by_label",
        "_key_bounds",
        "_bucket_counts",
        "_bucket_split",
        "_sort_buckets",
        "_sort_bucket_range",
        "_roc_points",
        "_two_distinct_rows",
        "_rows_equal",
        "_radix_sort",
        "_threshold_counts",
        "_weighted_threshold_sums",
        "_area_parts_plan",
        "_weight_sums_at",
        "_area_term_parts",
        "_join_area_parts",
        "_merged_rank_key",
        "_pairwise_sum",
        "_pairwise_halves",
        "_binary_indicator",
        "_check_weights",
        "_roc_auc_twice_area",
        "_average_precision",
        "_key_score_parts",
        "_group_columns",
        "_factorize_rows",
        "_renumber",
        "_class_pair_areas",
        "_all_near_one",
        "_rows_near_one",
    ):
        k = next(m for m in (labels, ranking, scoresort) if hasattr(m, name))
        assert len(getattr(k, name).signatures) == 1, name


@pytest.mark.parametrize("third_at", [None, 0, 1, 150_000, 299_999])
def test_string_label_scans_on_threads_equal_numpy(third_at):
    """String labels from 200,000 on are scanned in blocks on threads: at most two distinct
    values (a third anywhere, including block edges, is found) and the positive mask."""
    from fastdet.metrics._common import distinct_upto_two, label_matches

    rng = np.random.default_rng(7)
    labels = np.array(["no", "yes"])[(rng.random(300_000) < 0.3).astype(np.int64)]
    if third_at is not None:
        labels[third_at] = "maybe"
    found = distinct_upto_two(labels)
    expected = np.unique(labels)
    if len(expected) > 2:
        assert found is None
    else:
        np.testing.assert_array_equal(found, expected)
    np.testing.assert_array_equal(label_matches(labels, "yes", "y_true"), labels == "yes")
    one = np.full(300_000, "no", dtype="<U3")
    np.testing.assert_array_equal(distinct_upto_two(one), ["no"])
    one[-1] = "yes"  # the second value only in the last block
    np.testing.assert_array_equal(distinct_upto_two(one), ["no", "yes"])


def test_boolean_scores_are_zero_and_one_as_sklearn():
    """A thresholded prediction (bool ``y_score``) is scored as 0/1, as scikit-learn does."""
    m = sk()
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 50)
    s = rng.random(50) < 0.5
    for ours, theirs in (
        (roc_curve, m.roc_curve),
        (precision_recall_curve, m.precision_recall_curve),
    ):
        for a, b in zip(ours(y, s), theirs(y, s), strict=True):
            np.testing.assert_array_equal(a, b)
    assert_allclose(roc_auc(y, s.tolist()), m.roc_auc_score(y, s), rtol=TEST_RTOL, atol=ATOL)
    assert_allclose(average_precision(y, s), m.average_precision_score(y, s), rtol=TEST_RTOL, atol=ATOL)
    indicator = rng.integers(0, 2, (50, 3))
    scores = rng.random((50, 3)) < 0.5
    assert_allclose(roc_auc(indicator, scores), m.roc_auc_score(indicator, scores), rtol=TEST_RTOL, atol=ATOL)


def test_object_arrays_of_numbers_are_scores_and_weights_as_sklearn():
    """An object array of real numbers (``np.ones(n).astype(object)``) is float64, as scikit-learn takes it."""
    m = sk()
    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, 40)
    s = np.round(rng.random(40), 1)
    w = rng.integers(1, 4, 40)
    s_obj, w_obj = s.astype(object), w.astype(object)
    for ours, theirs in ((roc_curve, m.roc_curve), (precision_recall_curve, m.precision_recall_curve)):
        for a, b in zip(ours(y, s_obj, sample_weight=w_obj), theirs(y, s, sample_weight=w), strict=True):
            np.testing.assert_array_equal(a, b)
    assert_allclose(
        roc_auc(y, s_obj, sample_weight=w_obj), m.roc_auc_score(y, s, sample_weight=w), rtol=TEST_RTOL
    )
    assert_allclose(
        average_precision(y, s_obj, sample_weight=w_obj),
        m.average_precision_score(y, s, sample_weight=w),
        rtol=TEST_RTOL,
    )
    y3 = rng.integers(0, 3, 40)
    p = rng.random((40, 3))
    p /= p.sum(axis=1, keepdims=True)
    assert_allclose(
        roc_auc(y3, p.astype(object), multi_class="ovr"),
        m.roc_auc_score(y3, p, multi_class="ovr"),
        rtol=TEST_RTOL,
    )
    with pytest.raises(TypeError, match="y_score must hold real numbers"):
        roc_auc([0, 1], np.array(["0.1", "0.9"], dtype=object))
    with pytest.raises(ValueError, match="y_score contains NaN"):
        roc_auc([0, 1], np.array([np.nan, 0.9], dtype=object))
    with pytest.raises(ValueError, match="y_score holds a number too large for float64"):
        roc_auc([0, 1], np.array([10**400, 1], dtype=object))


# --------------------------------------------------------------------------- threaded paths: cuts, chunks, sums


def _binary_results(y, s, w, m=None):
    """Every binary ranking result of (y, s, w): both ROC curves, the PR curve, the AUC and the AP, each
    as its value or the class of the error it raised (fastdet's, or with m = sklearn.metrics scikit-learn's)."""
    kw = {} if w is None else {"sample_weight": w}
    if m is None:
        funcs = (roc_curve, roc_curve, precision_recall_curve, roc_auc, average_precision)
    else:
        funcs = (
            m.roc_curve,
            m.roc_curve,
            m.precision_recall_curve,
            m.roc_auc_score,
            m.average_precision_score,
        )
    extra = ({"drop_intermediate": False}, {}, {}, {}, {})
    return [outcome(f, y, s, **kw, **e) for f, e in zip(funcs, extra, strict=True)]


def _assert_results_equal(ours, theirs, exact_auc=True):
    """The same error classes, or the same arrays and floats bit for bit (NaN equals NaN); without
    ``exact_auc`` the AUC to the rounding of scikit-learn's sum (fastdet's unweighted AUC is the exact
    rank count divided once)."""
    for q, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        if q == 3 and not exact_auc and not isinstance(b, type):
            assert_same(a, b)
        elif isinstance(a, type) or isinstance(b, type):
            assert a is b, (a, b)
        elif isinstance(a, tuple):
            for x, z in zip(a, b, strict=True):
                np.testing.assert_array_equal(x, z)
        else:
            assert_same_bits(a, b)


def _stress_case(case, n, rng):
    """(y, s, w) of one of the inputs that stress the merge's cuts, the chunked checks and the sums."""
    y = (rng.random(n) < 0.4).astype(np.int64)
    s = np.round(rng.random(n), 3)
    w = None
    if case.startswith("middle_tie"):  # one tied group over the merge's middle rows (where the parts are cut)
        s[n // 4 : 3 * n // 4] = 0.5
        if case == "middle_tie_weighted":
            w = np.where(rng.random(n) < 0.2, 0.0, rng.exponential(size=n))
    elif case == "tie_at_the_cut_key":  # the middle row's key ends a group that starts in the first half
        s = np.sort(s)[::-1].copy()
        s[n // 2 - n // 8 : n // 2 + 1] = s[n // 2]
    elif case == "all_equal":
        s[:] = 0.25
    elif case == "two_groups":
        s = (rng.random(n) < 0.5).astype(np.float64)
    elif case == "one_positive":
        y[:] = 0
        y[n // 2] = 1
    elif case == "one_negative":
        y[:] = 1
        y[n - 3] = 0
    elif case == "all_positive":
        y[:] = 1
    elif case == "all_positive_weighted":
        y[:] = 1
        w = rng.exponential(size=n)
    elif case == "negative_weights":
        w = rng.normal(size=n)
    elif case == "positive_weights_summing_to_zero":  # AP: no tp total, the curve path's recall of 1
        w = np.where(y == 1, 0.0, rng.exponential(size=n))
        first, second = np.flatnonzero(y == 1)[[0, -1]]
        w[first], w[second] = 1.5, -1.5
    elif case == "negative_weights_positive_total":
        w = rng.normal(size=n) + 0.3
    elif case == "many_zero_weights":
        w = np.where(rng.random(n) < 0.9, 0.0, rng.exponential(size=n))
    elif case == "all_but_one_zero_weight":
        w = np.zeros(n)
        w[n // 3] = 2.5
    elif case == "one_weighted_per_class":
        w = np.zeros(n)
        y[n // 3], y[2 * n // 3] = 1, 0
        w[n // 3] = w[2 * n // 3] = 1.5
    elif case == "no_negative_weight":  # the negatives all weigh 0: AP of a curve with no fp
        w = np.where(y == 1, rng.exponential(size=n), 0.0)
    elif case == "signed_zeros":
        s = rng.choice([0.0, -0.0, 1.0, -1.0, 5e-324, -5e-324], n)
        w = rng.integers(0, 3, n).astype(np.float64)
    elif case == "signed_zeros_unweighted":
        s = rng.choice([0.0, -0.0, 0.5], n)
    elif case == "minus_one_labels":
        y = np.where(y == 1, 1, -1)
        w = rng.exponential(size=n)
    elif case == "wide_terms":  # AP terms of very different sizes: their order shows in the sum
        s = rng.random(n)
        w = 10.0 ** rng.integers(-12, 12, n)
    return y, s, w


STRESS_CASES = [
    "middle_tie",
    "middle_tie_weighted",
    "positive_weights_summing_to_zero",
    "tie_at_the_cut_key",
    "all_equal",
    "two_groups",
    "one_positive",
    "one_negative",
    "all_positive",
    "all_positive_weighted",
    "negative_weights",
    "negative_weights_positive_total",
    "many_zero_weights",
    "all_but_one_zero_weight",
    "one_weighted_per_class",
    "no_negative_weight",
    "signed_zeros",
    "signed_zeros_unweighted",
    "minus_one_labels",
    "wide_terms",
]


@pytest.mark.parametrize("case", STRESS_CASES)
def test_threaded_paths_at_small_thresholds_are_sklearns_to_the_bit(case):
    """The threaded paths forced on a few thousand samples (``_THREADED_MIN`` patched to 1: the checks
    in 8 chunks, the merge cut into parts, NumPy's sum in halves on threads): scikit-learn's results
    bit for bit, and those of one thread and of the serial path."""
    from unittest import mock

    from fastdet._kernels import thread_limit
    from fastdet.metrics import _binary, _common

    rng = np.random.default_rng(STRESS_CASES.index(case))
    y, s, w = _stress_case(case, 3001, rng)
    serial = _binary_results(y, s, w)
    with mock.patch.object(_binary, "_THREADED_MIN", 1), mock.patch.object(_common, "_THREADED_MIN", 1):
        threaded = _binary_results(y, s, w)
        with thread_limit(1):
            one_thread = _binary_results(y, s, w)
    _assert_results_equal(threaded, serial)
    _assert_results_equal(one_thread, serial)
    _assert_results_equal(threaded, _binary_results(y, s, w, sk()), exact_auc=w is not None)


@pytest.mark.parametrize(
    "case", ["middle_tie", "middle_tie_weighted", "all_positive", "all_positive_weighted", "negative_weights"]
)
def test_threaded_paths_at_full_size_are_sklearns_to_the_bit(case):
    """The same at 200,000 samples (the real thresholds), on threads and on one thread."""
    from fastdet._kernels import thread_limit
    from fastdet.metrics import _binary

    n = _binary._THREADED_MIN
    y, s, w = _stress_case(case, n, np.random.default_rng(8))
    threaded = _binary_results(y, s, w)
    with thread_limit(1):
        _assert_results_equal(_binary_results(y, s, w), threaded)
    _assert_results_equal(threaded, _binary_results(y, s, w, sk()), exact_auc=w is not None)


@pytest.mark.parametrize("n", [3, 9, 1000])
@pytest.mark.parametrize(("base", "intruder"), [((0, 1), -1), ((-1, 1), 0), ((0, 1), 2), ((-1, 1), -2)])
def test_chunked_label_check_sees_a_third_value_in_any_chunk(n, base, intruder):
    """{0, 1} labels with a -1 in one chunk only (or {-1, 1} with a 0, or any other value): not a binary
    indicator, refused as scikit-learn refuses it, wherever the chunks put it (8 chunks, some empty
    below 8 samples). With ``pos_label`` the outcome is scikit-learn's too."""
    from unittest import mock

    from fastdet.metrics import _binary
    from fastdet.metrics._binary import ones_of_binary

    rng = np.random.default_rng(n)
    y = np.array(base, np.int64)[rng.integers(0, 2, n)]
    y[0], y[1] = base
    s = rng.random(n)
    m = sk()
    with mock.patch.object(_binary, "_THREADED_MIN", 1):
        assert ones_of_binary(y) is not None
        np.testing.assert_array_equal(ones_of_binary(y), y == 1)
        for at in sorted({2, n // 2, n - 1}):
            bad = y.copy()
            bad[at] = intruder
            assert ones_of_binary(bad) is None
            for pos_label in (None, 1):
                ours = (
                    _binary_results(bad, s, None)
                    if pos_label is None
                    else [
                        outcome(roc_auc, bad, s),
                        outcome(roc_curve, bad, s, pos_label=1),
                        outcome(average_precision, bad, s, pos_label=1),
                    ]
                )
                theirs = (
                    _binary_results(bad, s, None, m)
                    if pos_label is None
                    else [
                        outcome(m.roc_auc_score, bad, s),
                        outcome(m.roc_curve, bad, s, pos_label=1),
                        outcome(m.average_precision_score, bad, s, pos_label=1),
                    ]
                )
                _assert_results_equal(ours, theirs, exact_auc=False)


@pytest.mark.parametrize("n", [10, 1000, 200_000])
def test_chunked_finite_checks_name_the_first_bad_index(n):
    """NaN or inf in the scores or the weights, in a late chunk or in two chunks: refused, the message
    naming the first bad index (the chunks' findings taken in order)."""
    from unittest import mock

    from fastdet.metrics import _binary, _common

    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, n)
    s = rng.random(n)
    w = rng.random(n)
    threshold = 1 if n < 200_000 else _common._THREADED_MIN
    with (
        mock.patch.object(_binary, "_THREADED_MIN", threshold),
        mock.patch.object(_common, "_THREADED_MIN", threshold),
    ):
        for bad_at in ([n - 1], [n - 2, n - 1], [n // 8 + 1, n - 1], [0, n // 2]):
            for value in (np.nan, np.inf, -np.inf):
                bad_s = s.copy()
                bad_s[bad_at] = value
                for fn in (roc_auc, average_precision, roc_curve, precision_recall_curve):
                    with pytest.raises(
                        ValueError, match=rf"y_score contains NaN or inf \(first at index \({bad_at[0]},\)\)"
                    ):
                        fn(y, bad_s)
                bad_w = w.copy()
                bad_w[bad_at] = value
                for fn in (roc_auc, average_precision, roc_curve, precision_recall_curve):
                    with pytest.raises(
                        ValueError, match=rf"sample_weight contains NaN or inf \(first at index {bad_at[0]}\)"
                    ):
                        fn(y, s, sample_weight=bad_w)
        zero = np.zeros(n)
        zero[n - 1] = -0.0
        assert outcome(roc_auc, y, s, sample_weight=zero) is ValueError  # all weights zero: refused
        zero[n - 1] = 5e-324  # a non-zero weight in the last chunk alone: accepted
        assert outcome(roc_auc, y, s, sample_weight=zero) is not ValueError


def test_read_only_and_strided_inputs_on_the_threaded_paths():
    """Read-only and non-contiguous labels, scores and weights at the threaded sizes: the results of
    contiguous writable copies, and scikit-learn's."""
    from fastdet.metrics import _binary

    n = _binary._THREADED_MIN
    rng = np.random.default_rng(4)
    y2 = rng.integers(0, 2, 2 * n)
    s2 = np.round(rng.random(2 * n), 2)
    w2 = np.where(rng.random(2 * n) < 0.3, 0.0, rng.exponential(size=2 * n))
    y, s, w = y2[::2], s2[::2], w2[::2]
    expected_w = _binary_results(y.copy(), s.copy(), w.copy())
    expected = _binary_results(y.copy(), s.copy(), None)
    for arr in (y2, s2, w2):
        arr.flags.writeable = False
    _assert_results_equal(_binary_results(y, s, w), expected_w)
    _assert_results_equal(_binary_results(y, s, None), expected)
    y_ro, s_ro = y.copy(), s.copy()
    y_ro.flags.writeable = False
    s_ro.flags.writeable = False
    _assert_results_equal(_binary_results(y_ro, s_ro, None), expected)
    _assert_results_equal(expected_w, _binary_results(y.copy(), s.copy(), w.copy(), sk()))
    _assert_results_equal(expected, _binary_results(y.copy(), s.copy(), None, sk()), exact_auc=False)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize(
    "case", ["middle_tie", "tie_at_the_cut_key", "two_groups", "wide_terms", "all_positive"]
)
def test_ap_terms_in_parts_are_sklearns_terms_in_order(case, weighted):
    """The AP's terms, cut into 1 to 7 parts (``_key_scores`` unweighted, ``_weighted_area``'s steps
    weighted) and joined in the order of ``pieces``: scikit-learn's ``np.diff(recall) * precision[:-1]``,
    term for term, so ``numpy_sum`` adds the same numbers in the same order."""
    from fastdet._kernels import ranking as k
    from fastdet.metrics import _binary as b

    rng = np.random.default_rng(17)
    y, s, w = _stress_case(case, 2000, rng)
    if weighted and w is None:
        w = rng.exponential(size=y.shape[0])
    if not weighted:
        w = None
    mask = (y == 1).astype(np.uint8)
    precision, recall, _ = quiet(sk().precision_recall_curve, y, s, sample_weight=w)
    expected = np.diff(recall) * np.array(precision)[:-1]
    pos, neg = b._weighted_halves(mask, s, w)
    for parts in range(1, 8):
        terms = np.full(mask.shape[0], np.nan)
        if w is None:
            _, pieces = b._key_scores(pos, neg, True, terms, parts)
        else:
            if neg.shape[0] == 0:
                continue  # _weighted_area's None: the curve path
            starts = np.empty((parts + 1, 4), np.int64)
            sums = np.zeros((parts, 4), np.float64)
            totals = np.empty(2, np.float64)
            n_cuts = k._area_parts_plan(pos, neg, starts)
            k._weight_sums_at.serial(2, pos, neg, starts, n_cuts, False, sums, totals)
            assert math.isnan(totals[1])
            res = np.empty((parts, 8), np.float64)
            k._area_term_parts.serial(
                parts, pos, neg, True, starts, sums, float(totals[0]), math.nan, terms, res
            )
            pieces = np.empty((parts, 2), np.int64)
            k._join_area_parts(True, starts, res, terms, pieces)
        joined = np.concatenate([terms[first : first + count] for first, count in pieces])
        np.testing.assert_array_equal(joined, expected)
        for threaded in (False, True):
            assert b.numpy_sum(terms, pieces, threaded) == np.sum(expected)


@given(
    st.integers(1, 400).flatmap(
        lambda n: st.tuples(
            st.lists(st.booleans(), min_size=n, max_size=n),
            st.lists(st.integers(0, 6) | st.sampled_from([-0.0, 0.0]), min_size=n, max_size=n),
            st.none()
            | st.lists(st.sampled_from([0.0, 0.0, 0.5, 1.0, 3.0, -1.0, 1e-9, 1e9]), min_size=n, max_size=n),
        )
    ),
    st.sampled_from([(0, 1), (-1, 1)]),
)
@example(([True] * 5, [1, 1, 1, 1, 1], None), (0, 1))  # all positive, all tied
@example(([False, True] * 3, [2, 2, 2, 2, 1, 1], [0.0, 0.0, 0.0, 1.0, 0.0, 0.0]), (-1, 1))
def test_threaded_paths_on_small_tied_inputs_are_sklearns_to_the_bit(data, labels):
    """Hypothesis over the threaded paths forced on small inputs (``_THREADED_MIN`` 1): few distinct
    scores (big tied groups wherever the merge is cut, signed zeros), one class, zero, tiny, huge and
    negative weights: scikit-learn's results bit for bit (the unweighted AUC to its rounding)."""
    from unittest import mock

    from fastdet.metrics import _binary, _common

    positive, ticks, weights = data
    y = np.where(np.array(positive), labels[1], labels[0]).astype(np.int64)
    s = np.array(ticks, np.float64) / 3.0
    w = None if weights is None else np.array(weights)
    assume(w is None or w.any())
    with mock.patch.object(_binary, "_THREADED_MIN", 1), mock.patch.object(_common, "_THREADED_MIN", 1):
        ours = _binary_results(y, s, w)
    _assert_results_equal(ours, _binary_results(y, s, w, sk()), exact_auc=w is not None)
