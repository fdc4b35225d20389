"""fastdet.metrics against scikit-learn (when importable) and the naive references."""

from __future__ import annotations

import warnings
from contextlib import nullcontext

import numpy as np
import pytest
import reference as ref
from conftest import F64_ATOL, F64_RTOL
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from fastdet.metrics import (
    UndefinedMetricWarning,
    accuracy,
    average_precision,
    confusion_matrix,
    precision_recall_curve,
    precision_recall_f1,
    roc_auc,
    roc_curve,
)

# scikit-learn accumulates float64 ratios (np.cumsum, np.trapezoid) where fastdet divides exact
# integer counts once: the results differ by the rounding of a float64 sum (conftest.F64_RTOL)
TEST_RTOL, ATOL = F64_RTOL, F64_ATOL


def sk():
    return pytest.importorskip("sklearn.metrics")


def quiet(fn, *args, **kwargs):
    """Call a scikit-learn function with its warnings silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def assert_curves_equal(ours, theirs):
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs, strict=True):
        assert a.shape == b.shape, (a, b)
        assert_allclose(a, b, rtol=TEST_RTOL, atol=ATOL)


# Scores drawn from a few values produce many ties; the float strategy produces few.
tied_scores = st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.75, 1.0, -3.0])
any_scores = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)


@st.composite
def binary_problem(draw, scores=None, both_classes=True):
    n = draw(st.integers(2 if both_classes else 1, 40))
    y = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    if both_classes:
        y[0], y[1] = 0, 1
    s = draw(st.lists(scores or st.one_of(tied_scores, any_scores), min_size=n, max_size=n))
    return np.array(y), np.array(s, dtype=np.float64)


# --------------------------------------------------------------------------- ranking vs peers


@given(binary_problem(), st.booleans())
def test_roc_curve_matches_sklearn_and_reference(problem, drop):
    y, s = problem
    ours = roc_curve(y, s, drop_intermediate=drop)
    assert_curves_equal(ours, ref.roc_curve(y, s, drop_intermediate=drop))
    assert_curves_equal(ours, sk().roc_curve(y, s, drop_intermediate=drop))


@given(binary_problem())
def test_roc_auc_matches_sklearn_and_reference(problem):
    y, s = problem
    got = roc_auc(y, s)
    assert got == pytest.approx(ref.roc_auc(y, s), rel=TEST_RTOL, abs=ATOL)
    assert got == pytest.approx(sk().roc_auc_score(y, s), rel=TEST_RTOL, abs=ATOL)


@given(binary_problem(both_classes=False), st.booleans())
def test_precision_recall_curve_matches_sklearn(problem, drop):
    y, s = problem
    ctx = pytest.warns(UndefinedMetricWarning, match="No positive") if y.sum() == 0 else nullcontext()
    with ctx:
        ours = precision_recall_curve(y, s, drop_intermediate=drop)
    assert_curves_equal(ours, quiet(sk().precision_recall_curve, y, s, drop_intermediate=drop))
    if not drop:
        assert_curves_equal(ours, ref.precision_recall_curve(y, s))


@given(binary_problem(both_classes=False))
def test_average_precision_matches_sklearn_and_reference(problem):
    y, s = problem
    if y.sum() == 0:
        with pytest.warns(UndefinedMetricWarning, match="No positive"):
            got = average_precision(y, s)
    else:
        got = average_precision(y, s)
    assert got == pytest.approx(ref.average_precision(y, s), rel=TEST_RTOL, abs=ATOL)
    assert got == pytest.approx(quiet(sk().average_precision_score, y, s), rel=TEST_RTOL, abs=ATOL)


@pytest.mark.parametrize("seed", range(3))
def test_ranking_metrics_large_random_with_ties(seed):
    rng = np.random.default_rng(seed)
    n = 5000
    y = (rng.random(n) < 0.3).astype(np.int64)
    s = np.round(rng.normal(size=n) + y, 2)  # rounding creates many tied groups
    m = sk()
    assert_curves_equal(roc_curve(y, s), m.roc_curve(y, s))
    assert_curves_equal(precision_recall_curve(y, s), m.precision_recall_curve(y, s))
    assert roc_auc(y, s) == pytest.approx(m.roc_auc_score(y, s), rel=TEST_RTOL)
    assert average_precision(y, s) == pytest.approx(m.average_precision_score(y, s), rel=TEST_RTOL)


def test_ties_collapse_into_one_threshold():
    y = [1, 0, 1, 0, 1]
    s = [0.5, 0.5, 0.5, 0.2, 0.9]
    fpr, tpr, thr = roc_curve(y, s, drop_intermediate=False)
    assert_array_equal(thr, [np.inf, 0.9, 0.5, 0.2])
    assert_array_equal(tpr, [0, 1 / 3, 1, 1])
    assert_array_equal(fpr, [0, 0, 0.5, 1])
    # tied pair (pos 0.5, neg 0.5) counts one half
    assert roc_auc(y, s) == pytest.approx(ref.roc_auc(y, s))
    assert roc_auc(y, s) == pytest.approx((2 + 1.5 + 1.5) / 6)


def test_constant_scores():
    y = [0, 1, 1, 0, 1]
    s = [0.3] * 5
    assert roc_auc(y, s) == 0.5
    fpr, tpr, thr = roc_curve(y, s)
    assert_array_equal(thr, [np.inf, 0.3])
    assert_array_equal(fpr, [0, 1])
    assert_array_equal(tpr, [0, 1])
    assert average_precision(y, s) == pytest.approx(0.6)
    p, r, t = precision_recall_curve(y, s)
    assert_array_equal(p, [0.6, 1.0])
    assert_array_equal(r, [1.0, 0.0])
    assert_array_equal(t, [0.3])


def test_all_positive_and_all_negative():
    s = [0.1, 0.4, 0.8]
    with pytest.raises(ValueError, match="Only one class"):
        roc_auc([1, 1, 1], s)
    with pytest.raises(ValueError, match="Only one class"):
        roc_auc([0, 0, 0], s)
    with pytest.warns(UndefinedMetricWarning, match="No negative"):
        fpr, tpr, _ = roc_curve([1, 1, 1], s)
    assert np.isnan(fpr).all()
    assert_array_equal(tpr, [0, 1 / 3, 1])  # the collinear middle point is dropped
    with pytest.warns(UndefinedMetricWarning, match="No positive"):
        fpr, tpr, _ = roc_curve([0, 0, 0], s)
    assert np.isnan(tpr).all()
    assert average_precision([1, 1, 1], s) == 1.0
    with pytest.warns(UndefinedMetricWarning, match="No positive"):
        assert average_precision([0, 0, 0], s) == 0.0
    m = sk()
    assert_curves_equal(quiet(roc_curve, [1, 1, 1], s), quiet(m.roc_curve, [1, 1, 1], s))
    assert_curves_equal(quiet(roc_curve, [0, 0, 0], s), quiet(m.roc_curve, [0, 0, 0], s))
    assert average_precision([1, 1, 1], s) == m.average_precision_score([1, 1, 1], s)


def test_input_dtypes():
    y = np.array([True, False, True, False])
    s32 = np.array([0.9, 0.1, 0.4, 0.4], np.float32)
    assert roc_auc(y, s32) == roc_auc(y.astype(int), s32.astype(np.float64))
    assert roc_auc(y.astype(float), [9, 1, 4, 4]) == roc_auc(y, [9, 1, 4, 4])
    assert roc_curve(y, s32)[2].dtype == np.float64
    m = sk()
    assert_curves_equal(precision_recall_curve(y, s32), m.precision_recall_curve(y, s32))
    s_read_only = np.array([0.9, 0.1, 0.4, 0.4])
    s_read_only.flags.writeable = False
    assert roc_auc(y, s_read_only) == roc_auc(y, s_read_only.copy())
    assert roc_auc(y, np.array([0.9, 0, 0.1, 0, 0.4, 0, 0.4, 0])[::2]) == roc_auc(y, s_read_only)


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
    with pytest.raises(ValueError, match="only 0 and 1"):
        fn([0, 2], [0.5, 0.2])
    with pytest.raises(ValueError, match="only 0 and 1"):
        fn([-1, 1], [0.5, 0.2])
    with pytest.raises(ValueError, match="only 0 and 1"):
        fn([0.5, 1.0], [0.5, 0.2])
    with pytest.raises(ValueError, match="empty"):
        fn([], [])
    with pytest.raises(ValueError, match="y_score must be 1-dimensional"):
        fn([0, 1], [[0.5, 0.2]])
    with pytest.raises(ValueError, match="y_true must be 1-dimensional"):
        fn([[0, 1]], [0.5, 0.2])
    with pytest.raises(TypeError, match="y_score"):
        fn([0, 1], ["a", "b"])
    with pytest.raises(TypeError, match="y_true"):
        fn(["a", "b"], [0.5, 0.2])


def test_drop_intermediate_must_be_bool():
    with pytest.raises(TypeError, match="drop_intermediate"):
        roc_curve([0, 1], [0.1, 0.2], drop_intermediate="yes")


# --------------------------------------------------------------------------- confusion family


label_lists = st.integers(1, 40).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(-2, 5), min_size=n, max_size=n),
        st.lists(st.integers(-2, 5), min_size=n, max_size=n),
    )
)


@given(label_lists, st.sampled_from([None, "true", "pred", "all"]))
def test_confusion_matrix_matches_sklearn_and_reference(pair, normalize):
    t, p = pair
    ours = confusion_matrix(t, p, normalize=normalize)
    theirs = quiet(sk().confusion_matrix, t, p, normalize=normalize)
    assert ours.dtype == (np.int64 if normalize is None else np.float64)
    assert_allclose(ours, theirs, rtol=TEST_RTOL, atol=ATOL)
    if normalize is None:
        assert_array_equal(ours, ref.confusion_matrix(t, p))


@given(label_lists, st.lists(st.integers(-3, 7), min_size=1, max_size=6, unique=True))
def test_confusion_matrix_labels_subset_and_order(pair, labels):
    t, p = pair
    if not set(labels) & set(t):
        with pytest.raises(ValueError, match="present in y_true"):
            confusion_matrix(t, p, labels=labels)
        return
    assert_array_equal(confusion_matrix(t, p, labels=labels), ref.confusion_matrix(t, p, labels))
    assert_array_equal(
        confusion_matrix(t, p, labels=labels), quiet(sk().confusion_matrix, t, p, labels=labels)
    )


@given(
    st.integers(1, 30).flatmap(
        lambda n: st.tuples(
            st.lists(st.sampled_from([-(2**40), -7, 0, 3, 2**40, 2**62]), min_size=n, max_size=n),
            st.lists(st.sampled_from([-(2**40), -7, 0, 3, 2**40, 2**62]), min_size=n, max_size=n),
        )
    )
)
def test_confusion_matrix_wide_labels_match_sklearn(pair):
    # a label span far wider than the input takes the searchsorted path, not the lookup table
    t, p = pair
    assert_array_equal(confusion_matrix(t, p), quiet(sk().confusion_matrix, t, p))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        ours = precision_recall_f1(t, p, average=None)
    theirs = quiet(sk().precision_recall_fscore_support, t, p, average=None)[:3]
    for a, b in zip(ours, theirs, strict=True):
        assert_allclose(a, b, rtol=TEST_RTOL, atol=ATOL)


def test_confusion_matrix_wide_label_range_and_empty():
    big = 10**15
    t = [0, big, -big, big]
    p = [big, big, 0, -big]
    assert_array_equal(confusion_matrix(t, p), ref.confusion_matrix(t, p))
    assert_array_equal(confusion_matrix(t, p, labels=[big, 0]), ref.confusion_matrix(t, p, [big, 0]))
    assert_array_equal(confusion_matrix([], []), np.zeros((0, 0), np.int64))
    assert_array_equal(confusion_matrix([], [], labels=[3, 1]), np.zeros((2, 2), np.int64))
    assert confusion_matrix([], [], normalize="all").dtype == np.float64
    # whole-number floats and bools are labels too
    assert_array_equal(confusion_matrix([1.0, 0.0], [True, False]), [[1, 0], [0, 1]])


def test_confusion_matrix_bad_input():
    with pytest.raises(ValueError, match="same length"):
        confusion_matrix([0, 1], [0])
    with pytest.raises(ValueError, match="y_pred must hold integers"):
        confusion_matrix([0, 1], [0, 0.5])
    with pytest.raises(ValueError, match="normalize"):
        confusion_matrix([0, 1], [0, 1], normalize="rows")
    with pytest.raises(ValueError, match="at least one label"):
        confusion_matrix([0, 1], [0, 1], labels=[])
    with pytest.raises(ValueError, match="repeat"):
        confusion_matrix([0, 1], [0, 1], labels=[1, 1])
    with pytest.raises(TypeError, match="y_true"):
        confusion_matrix(["a"], [0])
    with pytest.raises(ValueError, match="1-dimensional"):
        confusion_matrix([[0, 1]], [[0, 1]])


@given(label_lists)
def test_accuracy_matches_sklearn(pair):
    t, p = pair
    m = sk()
    assert accuracy(t, p) == m.accuracy_score(t, p)
    assert accuracy(t, p, normalize=False) == m.accuracy_score(t, p, normalize=False)


def test_accuracy_bad_input():
    with pytest.raises(ValueError, match="empty"):
        accuracy([], [])
    with pytest.raises(ValueError, match="same length"):
        accuracy([1], [1, 2])


zero_divisions = st.sampled_from(["warn", 0.0, 1.0, np.nan])


@given(
    label_lists,
    st.sampled_from(["micro", "macro", "weighted", None]),
    zero_divisions,
    st.one_of(st.none(), st.lists(st.integers(-3, 7), min_size=1, max_size=5, unique=True)),
)
def test_precision_recall_f1_matches_sklearn(pair, average, zero_division, labels):
    t, p = pair
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        ours = precision_recall_f1(t, p, average=average, zero_division=zero_division, labels=labels)
    theirs = quiet(
        sk().precision_recall_fscore_support,
        t,
        p,
        average=average,
        zero_division=zero_division,
        labels=labels,
    )[:3]
    for a, b in zip(ours, theirs, strict=True):
        assert_allclose(a, b, rtol=TEST_RTOL, atol=ATOL)
    if average is None and zero_division != "warn":
        lab = labels if labels is not None else sorted(set(t) | set(p))
        for a, b in zip(ours, ref.precision_recall_f1_per_class(t, p, lab, zero_division), strict=True):
            assert_allclose(a, b, rtol=TEST_RTOL, atol=ATOL)


@given(
    st.integers(1, 30).flatmap(
        lambda n: st.tuples(
            st.lists(st.sampled_from([0, 1]), min_size=n, max_size=n),
            st.lists(st.sampled_from([0, 1]), min_size=n, max_size=n),
        )
    ),
    zero_divisions,
)
def test_precision_recall_f1_binary_matches_sklearn(pair, zero_division):
    t, p = pair
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        ours = precision_recall_f1(t, p, zero_division=zero_division)
    theirs = quiet(sk().precision_recall_fscore_support, t, p, average="binary", zero_division=zero_division)
    assert_allclose(ours, theirs[:3], rtol=TEST_RTOL, atol=ATOL)
    assert all(isinstance(v, float) for v in ours)


def test_precision_recall_f1_warnings_and_binary_rules():
    with pytest.warns(UndefinedMetricWarning, match="Precision is ill-defined"):
        assert precision_recall_f1([1, 0], [0, 0]) == (0.0, 0.0, 0.0)
    with pytest.warns(UndefinedMetricWarning, match="Recall is ill-defined"):
        precision_recall_f1([0, 0], [1, 0])
    assert precision_recall_f1([1, 0], [0, 0], zero_division=1.0) == (1.0, 0.0, 0.0)
    p, _r, _f = precision_recall_f1([1, 2], [1, 2], average=None)
    assert_array_equal(p, [1, 1])
    assert precision_recall_f1([1, 2, 2], [1, 2, 1], pos_label=2) == (1.0, 0.5, 2 / 3)
    with pytest.raises(ValueError, match="pos_label=1 is not a valid label"):
        precision_recall_f1([0, 2], [2, 0])
    with pytest.raises(ValueError, match="at most two classes"):
        precision_recall_f1([0, 1, 2], [0, 1, 2])
    with pytest.raises(ValueError, match="average"):
        precision_recall_f1([0, 1], [0, 1], average="samples")
    with pytest.raises(ValueError, match="zero_division"):
        precision_recall_f1([0, 1], [0, 1], zero_division=0.5)
    with pytest.raises(ValueError, match="empty"):
        precision_recall_f1([], [])
    with pytest.raises(TypeError, match="pos_label"):
        precision_recall_f1([0, 1], [0, 1], pos_label=1.5)
