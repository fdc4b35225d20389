"""fastdet's confusion matrix, accuracy and precision / recall / F1 against scikit-learn and the references.

Modeled on scikit-learn's ``sklearn/metrics/tests/test_classification.py``: its toy cases
are ported with the numbers it states, and hypothesis compares fastdet with the live
scikit-learn over integer and string labels, ``labels``, ``pos_label`` and weights.
The ranking metrics are in ``test_metrics_ranking.py``.
"""

from __future__ import annotations

import warnings
from itertools import chain, permutations

import numpy as np
import pytest
import reference as ref
from conftest import F64_ATOL, F64_RTOL
from hypothesis import assume, given
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from fastdet.metrics import (
    UndefinedMetricWarning,
    accuracy,
    confusion_matrix,
    precision_recall_f1,
)

# scikit-learn accumulates float64 ratios (np.cumsum, np.trapezoid) where fastdet divides exact
# integer counts once: the results differ by the rounding of a float64 sum (conftest.F64_RTOL)
TEST_RTOL, ATOL = F64_RTOL, F64_ATOL


def sk():
    # scikit-learn 1.9 is the version whose behaviour fastdet follows
    pytest.importorskip("sklearn", minversion="1.9")
    return pytest.importorskip("sklearn.metrics")


def quiet(fn, *args, **kwargs):
    """Call ``fn`` with its warnings silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def close(a, b):
    for x, y in zip(a, b, strict=True) if isinstance(a, tuple) else [(a, b)]:
        assert np.shape(x) == np.shape(y), (x, y)
        assert_allclose(x, y, rtol=TEST_RTOL, atol=ATOL)


# --------------------------------------------------------------------------- strategies

INT_LABELS = st.integers(-2, 5)
STR_LABELS = st.sampled_from(["ant", "bee", "cat", "dog", "", "émeu"])
exact_weights = st.sampled_from([0.0, 0.25, 0.5, 1.0, 2.0, 3.0])  # exact sums: references agree bit for bit
weights_any = st.one_of(exact_weights, st.floats(0.001, 100.0), st.floats(-5.0, 5.0))


@st.composite
def label_problem(draw, weights=None, min_size=1):
    """(y_true list, y_pred list, sample_weight or None, the label strategy used)."""
    labels = draw(st.sampled_from([INT_LABELS, STR_LABELS]))
    n = draw(st.integers(min_size, 40))
    t = draw(st.lists(labels, min_size=n, max_size=n))
    p = draw(st.lists(labels, min_size=n, max_size=n))
    w = None
    if weights is not None and draw(st.booleans()):
        w = np.array(draw(st.lists(weights, min_size=n, max_size=n)))
        assume(w.any())
    return t, p, w, labels


def label_subset(labels):
    return st.lists(labels, min_size=1, max_size=5, unique=True)


# --------------------------------------------------------------------------- confusion matrix


@given(label_problem(weights=weights_any), st.sampled_from([None, "true", "pred", "all"]))
def test_confusion_matrix_matches_sklearn_and_reference(problem, normalize):
    t, p, w, _ = problem
    ours = quiet(confusion_matrix, t, p, sample_weight=w, normalize=normalize)
    theirs = quiet(sk().confusion_matrix, t, p, sample_weight=w, normalize=normalize)
    assert ours.dtype == theirs.dtype
    close(ours, theirs)
    if normalize is None:
        close(ours, ref.weighted_confusion_matrix(t, p, weights=w))


@given(label_problem(weights=exact_weights), st.data())
def test_confusion_matrix_labels_subset_and_order(problem, data):
    t, p, w, labels_strategy = problem
    labels = data.draw(label_subset(labels_strategy))
    if not set(labels) & set(t):
        with pytest.raises(ValueError, match="present in y_true"):
            confusion_matrix(t, p, labels=labels, sample_weight=w)
        return
    ours = quiet(confusion_matrix, t, p, labels=labels, sample_weight=w)
    close(ours, ref.weighted_confusion_matrix(t, p, labels, w))
    close(ours, quiet(sk().confusion_matrix, t, p, labels=labels, sample_weight=w))


@given(
    st.integers(1, 30).flatmap(
        lambda n: st.tuples(
            st.lists(st.sampled_from([-(2**40), -7, 0, 3, 2**40, 2**62]), min_size=n, max_size=n),
            st.lists(st.sampled_from([-(2**40), -7, 0, 3, 2**40, 2**62]), min_size=n, max_size=n),
            st.lists(exact_weights, min_size=n, max_size=n),
        )
    )
)
def test_confusion_matrix_wide_labels_match_sklearn(triple):
    # a label span far wider than the input takes the searchsorted path, not the lookup table
    t, p, w = triple
    assert_array_equal(quiet(confusion_matrix, t, p), quiet(sk().confusion_matrix, t, p))
    if any(w):
        close(
            quiet(confusion_matrix, t, p, sample_weight=w),
            quiet(sk().confusion_matrix, t, p, sample_weight=w),
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        ours = precision_recall_f1(t, p, average=None)
    theirs = quiet(sk().precision_recall_fscore_support, t, p, average=None)[:3]
    close(ours, tuple(theirs))


@pytest.mark.parametrize("scale", [1, 100, 10**12])  # dense matrix, lookup table, binary search
def test_weighted_confusion_matrix_bit_for_bit_with_sklearn(scale):
    """Every counting path adds the weights of a cell in input order: scikit-learn's sums exactly."""
    rng = np.random.default_rng(scale % 97)
    n = 20_000
    t = rng.integers(0, 80, n) * scale - 5
    p = np.where(rng.random(n) < 0.6, t, rng.integers(0, 80, n) * scale - 5)
    w = np.where(rng.random(n) < 0.1, 0.0, rng.exponential(size=n))
    w[::7] *= -1
    ours = confusion_matrix(t, p, sample_weight=w)
    assert_array_equal(ours, sk().confusion_matrix(t, p, sample_weight=w))
    assert_array_equal(confusion_matrix(t, p), sk().confusion_matrix(t, p))
    labels = np.unique(t)[::-3]
    assert_array_equal(
        confusion_matrix(t, p, sample_weight=w, labels=labels),
        sk().confusion_matrix(t, p, sample_weight=w, labels=labels),
    )


def test_confusion_matrix_strings_and_weights():
    # sklearn's test_confusion_matrix_binary: string labels give the integer labels' matrix
    y_true = [0, 1, 1, 0, 1, 2, 2]
    y_pred = [0, 1, 0, 0, 2, 2, 1]
    assert_array_equal(
        confusion_matrix([str(v) for v in y_true], [str(v) for v in y_pred]), confusion_matrix(y_true, y_pred)
    )
    assert_array_equal(
        confusion_matrix(np.array([str(v) for v in y_true], dtype=object), [str(v) for v in y_pred]),
        confusion_matrix(y_true, y_pred),
    )
    cm = confusion_matrix(
        ["cat", "dog", "dog", "cat"], ["cat", "cat", "dog", "eel"], labels=["dog", "cat", "fox"]
    )
    assert_array_equal(cm, [[1, 1, 0], [0, 1, 0], [0, 0, 0]])
    assert_array_equal(
        confusion_matrix([0, 1, 1], [0, 1, 0], sample_weight=[0.5, 1.0, 2.0]), [[0.5, 0.0], [2.0, 1.0]]
    )


def test_confusion_matrix_dtype():
    # sklearn's test_confusion_matrix_dtype: int64 for integer and bool weights, float64 for float
    y = [0, 1, 1]
    weight = np.ones(len(y))
    assert confusion_matrix(y, y).dtype == np.int64
    for dtype in (np.bool_, np.int32, np.uint64):
        assert confusion_matrix(y, y, sample_weight=weight.astype(dtype)).dtype == np.int64
    for dtype in (np.float32, np.float64):
        assert confusion_matrix(y, y, sample_weight=weight.astype(dtype)).dtype == np.float64
    cm = confusion_matrix(y, y, sample_weight=np.full(3, 4294967295, np.uint32))
    assert cm[0, 0] == 4294967295
    assert cm[1, 1] == 8589934590
    # scikit-learn wraps int64 overflow around (cm[1, 1] == -2); fastdet refuses inexact sums
    with pytest.raises(ValueError, match="too large"):
        confusion_matrix(y, y, sample_weight=np.full(3, np.iinfo(np.int64).max))


def test_object_arrays_of_numbers_are_float_weights_as_sklearn():
    # sklearn's test_confusion_matrix_dtype also passes np.ones(n).astype(object): float64 weights
    m = sk()
    y_true, y_pred = [0, 1, 1, 2, 0], [0, 1, 0, 2, 2]
    for weight in (np.ones(5).astype(object), np.array([1, 2, 3, 1, 2], dtype=object), [1, 2.5, True, 1, 2]):
        cm = confusion_matrix(y_true, y_pred, sample_weight=weight)
        expected = m.confusion_matrix(y_true, y_pred, sample_weight=weight)
        assert cm.dtype == expected.dtype
        assert_array_equal(cm, expected)
        assert accuracy(y_true, y_pred, sample_weight=weight) == m.accuracy_score(
            y_true, y_pred, sample_weight=weight
        )
        close(
            precision_recall_f1(y_true, y_pred, average="macro", sample_weight=weight),
            tuple(
                quiet(
                    m.precision_recall_fscore_support,
                    y_true,
                    y_pred,
                    average="macro",
                    sample_weight=np.asarray(weight, float),
                )[:3]
            ),
        )
    # strings and None in an object array are no numbers (scikit-learn turns them into numbers or NaN)
    for weight in (
        np.array(["1", "2", "1", "1", "1"], dtype=object),
        np.array([1, None, 1, 1, 1], dtype=object),
    ):
        with pytest.raises(TypeError, match="sample_weight must hold real numbers"):
            confusion_matrix(y_true, y_pred, sample_weight=weight)


@pytest.mark.parametrize(
    ("normalize", "kind", "value"),
    [("true", "f", 1 / 3), ("pred", "f", 1 / 3), ("all", "f", 1 / 9), (None, "i", 2)],
)
def test_confusion_matrix_normalize(normalize, kind, value):
    # sklearn's test_confusion_matrix_normalize
    y_test = [0, 1, 2] * 6
    y_pred = list(chain(*permutations([0, 1, 2])))
    cm = confusion_matrix(y_test, y_pred, normalize=normalize)
    assert_allclose(cm, value)
    assert cm.dtype.kind == kind


def test_confusion_matrix_normalize_single_class():
    # sklearn's: 0/0 rows are 0, no RuntimeWarning
    y_test = [0, 0, 0, 0, 1, 1, 1, 1]
    y_pred = [0, 0, 0, 0, 0, 0, 0, 0]
    assert confusion_matrix(y_test, y_pred, normalize="true").sum() == pytest.approx(2.0)
    assert confusion_matrix(y_test, y_pred, normalize="pred").sum() == pytest.approx(1.0)


def test_confusion_matrix_single_label_warns():
    # sklearn's test_confusion_matrix_single_label
    with pytest.warns(UserWarning, match="A single label was found in"):
        assert_array_equal(confusion_matrix([0, 0, 0, 0], [0, 0, 0, 0]), [[4]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        confusion_matrix([0, 0], [0, 0], labels=[0, 1])


def test_confusion_matrix_wide_label_range_and_empty():
    big = 10**15
    t = [0, big, -big, big]
    p = [big, big, 0, -big]
    assert_array_equal(confusion_matrix(t, p), ref.confusion_matrix(t, p))
    assert_array_equal(confusion_matrix(t, p, labels=[big, 0]), ref.confusion_matrix(t, p, [big, 0]))
    # empty input: an all-zero matrix (scikit-learn raises; documented)
    assert_array_equal(confusion_matrix([], []), np.zeros((0, 0), np.int64))
    assert_array_equal(confusion_matrix([], [], labels=[3, 1]), np.zeros((2, 2), np.int64))
    assert_array_equal(confusion_matrix([], [], labels=["a", "b"]), np.zeros((2, 2), np.int64))
    assert confusion_matrix([], [], normalize="all").dtype == np.float64
    assert confusion_matrix([], [], sample_weight=[]).dtype == np.float64  # [] is a float array
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
    with pytest.raises(ValueError, match=r"Mix of label input types \(string and number\)"):
        confusion_matrix(["a"], [0])
    with pytest.raises(ValueError, match=r"Mix of label input types.*labels"):
        confusion_matrix(["a", "b"], ["a", "b"], labels=[0, 1])
    with pytest.raises(ValueError, match=r"Mix of label input types.*labels"):
        confusion_matrix([0, 1], [0, 1], labels=["0", "1"])
    with pytest.raises(TypeError, match="bytes"):
        confusion_matrix([b"a"], [b"a"])
    with pytest.raises(TypeError, match="y_true must hold numbers or strings"):
        confusion_matrix(np.array([None, 1], dtype=object), [0, 1])
    with pytest.raises(ValueError, match="1-dimensional"):
        confusion_matrix([[0, 1]], [[0, 1]])
    with pytest.raises(ValueError, match="sample_weight has length 1 but y_true has length 2"):
        confusion_matrix([0, 1], [0, 1], sample_weight=[1])
    with pytest.raises(ValueError, match="at least one non-zero"):
        confusion_matrix([0, 1], [0, 1], sample_weight=[0, 0])
    with pytest.raises(ValueError, match="sample_weight contains NaN"):
        confusion_matrix([0, 1], [0, 1], sample_weight=[1, np.nan])
    with pytest.raises(TypeError, match="sample_weight"):
        confusion_matrix([0, 1], [0, 1], sample_weight=["a", "b"])


def test_confusion_matrix_multiclass_subset_labels():
    # sklearn's test_confusion_matrix_multiclass_subset_labels, on data of our own (numbers by hand)
    y_true = [0, 0, 1, 2, 2, 2, 1, 0]
    y_pred = [0, 1, 1, 2, 1, 2, 0, 0]
    assert_array_equal(confusion_matrix(y_true, y_pred, labels=[0, 1]), [[2, 1], [1, 1]])
    assert_array_equal(confusion_matrix(y_true, y_pred, labels=[2, 1]), [[2, 1], [0, 1]])
    assert_array_equal(confusion_matrix(y_true, y_pred, labels=[2, 3]), [[2, 0], [0, 0]])
    with pytest.raises(ValueError, match="present in y_true"):
        confusion_matrix(y_true, y_pred, labels=[3, 4])


# --------------------------------------------------------------------------- accuracy


@given(label_problem(weights=weights_any))
def test_accuracy_matches_sklearn_and_reference(problem):
    t, p, w, _ = problem
    m = sk()
    for normalize in (True, False):
        try:
            theirs = m.accuracy_score(t, p, normalize=normalize, sample_weight=w)
        except ZeroDivisionError:  # weights summing to 0: scikit-learn divides by zero, fastdet refuses
            with pytest.raises(ValueError, match="sums to 0"):
                accuracy(t, p, normalize=normalize, sample_weight=w)
            continue
        close(accuracy(t, p, normalize=normalize, sample_weight=w), theirs)
    ww = [1.0] * len(t) if w is None else list(w)
    if sum(ww) != 0:
        want = sum(wi for a, b, wi in zip(t, p, ww, strict=True) if a == b) / sum(ww)
        assert accuracy(t, p, sample_weight=w) == pytest.approx(want, rel=1e-9, abs=1e-9)


def test_accuracy_bad_input():
    with pytest.raises(ValueError, match="empty"):
        accuracy([], [])
    with pytest.raises(ValueError, match="same length"):
        accuracy([1], [1, 2])
    with pytest.raises(ValueError, match="Mix of label input types"):
        accuracy(["a", "b"], [0, 1])
    with pytest.raises(ValueError, match="sums to 0"):
        accuracy([0, 1], [0, 0], sample_weight=[1, -1])
    with pytest.raises(TypeError, match="normalize"):
        accuracy([0, 1], [0, 0], normalize=1)
    assert accuracy(["a", "b", "b"], ["a", "a", "b"], sample_weight=[2, 1, 1]) == 0.75
    assert accuracy(["a", "b", "b"], ["a", "a", "b"], sample_weight=[2, 1, 1], normalize=False) == 3.0


# --------------------------------------------------------------------------- precision, recall, F1

zero_divisions = st.sampled_from(["warn", 0.0, 1.0, np.nan])


@given(
    label_problem(weights=weights_any),
    st.sampled_from(["micro", "macro", "weighted", None]),
    zero_divisions,
    st.booleans(),
    st.data(),
)
def test_precision_recall_f1_matches_sklearn(problem, average, zero_division, with_labels, data):
    t, p, w, labels_strategy = problem
    labels = data.draw(label_subset(labels_strategy)) if with_labels else None
    kw = {"average": average, "zero_division": zero_division, "labels": labels, "sample_weight": w}
    ours = quiet(precision_recall_f1, t, p, **kw)
    theirs = quiet(sk().precision_recall_fscore_support, t, p, **kw)[:3]
    close(ours, tuple(theirs))
    if (
        average is None
        and zero_division != "warn"
        and (w is None or np.isin(w, [0, 0.25, 0.5, 1, 2, 3]).all())
    ):
        lab = labels if labels is not None else sorted(set(t) | set(p))
        close(ours, tuple(ref.weighted_precision_recall_f1(t, p, lab, w, zero_division)))


BINARY_PAIRS = [
    ((0, 1), 1),
    ((0, 1), 0),
    ((-1, 1), 1),
    (("no", "yes"), "yes"),
    ((False, True), True),
    ((3, 7), 7),
]


@given(st.sampled_from(BINARY_PAIRS), st.data(), zero_divisions)
def test_precision_recall_f1_binary_matches_sklearn(pair, data, zero_division):
    classes, pos_label = pair
    n = data.draw(st.integers(1, 30))
    t = data.draw(st.lists(st.sampled_from(classes), min_size=n, max_size=n))
    p = data.draw(st.lists(st.sampled_from(classes), min_size=n, max_size=n))
    w = data.draw(st.one_of(st.none(), st.lists(exact_weights, min_size=n, max_size=n)))
    assume(w is None or any(w))
    kw = {"pos_label": pos_label, "zero_division": zero_division, "sample_weight": w}
    theirs = quiet(sk().precision_recall_fscore_support, t, p, average="binary", **kw)
    ours = quiet(precision_recall_f1, t, p, **kw)
    close(ours, tuple(theirs[:3]))
    assert all(isinstance(v, float) for v in ours)


@pytest.mark.parametrize("classes", [(False, True), (0, 1), (0.0, 1.0), ("zero", "one")])
def test_classification_metric_pos_label_types(classes):
    # sklearn's test_classification_metric_pos_label_types
    rng = np.random.default_rng(42)
    y = rng.choice(np.array(classes, dtype=object), size=10).tolist()
    result = precision_recall_f1(y, y, pos_label=classes[-1])
    assert not np.isnan(result).any()


@pytest.mark.parametrize("scale", [1, 100, 10**12])  # the dense, lookup-table and wide label paths
def test_precision_recall_f1_weighted_bit_equal_to_sklearn(scale):
    # scikit-learn sums each class's weights in input order (np.bincount) and forms pred = tp + fp,
    # true = tp + fn; the confusion matrix's row and column sums differed in the last bits
    # (up to 6.7e-15 per class with 80 classes and 1e6 samples)
    m = sk()
    rng = np.random.default_rng(3)
    n, k = 5000, 40
    t = rng.integers(0, k, n)
    p = np.where(rng.random(n) < 0.7, t, rng.integers(0, k, n))
    w = rng.exponential(size=n)
    w[rng.random(n) < 0.1] = 0.0
    t, p = t * scale, p * scale
    for average in (None, "macro", "weighted", "micro"):
        for labels in (None, [3 * scale, 0, 7 * scale]):
            ours = precision_recall_f1(t, p, average=average, labels=labels, sample_weight=w)
            theirs = m.precision_recall_fscore_support(t, p, average=average, labels=labels, sample_weight=w)
            for a, b in zip(ours, theirs[:3], strict=True):
                assert np.array_equal(a, b), (average, labels)
    pair = (t == t[0]) | (p == t[0])
    bt, bp = (t[pair] == t[0]).astype(int), (p[pair] == t[0]).astype(int)
    ours = precision_recall_f1(bt, bp, sample_weight=w[pair])
    assert ours == m.precision_recall_fscore_support(bt, bp, average="binary", sample_weight=w[pair])[:3]


def test_precision_recall_f1_binary_single_class():
    # sklearn's test_precision_recall_f_binary_single_class
    assert precision_recall_f1([1, 1], [1, 1]) == (1.0, 1.0, 1.0)
    with pytest.warns(UndefinedMetricWarning):
        assert precision_recall_f1([-1, -1], [-1, -1]) == (0.0, 0.0, 0.0)
    with pytest.warns(UndefinedMetricWarning):
        assert precision_recall_f1(["a", "a"], ["a", "a"], pos_label="b") == (0.0, 0.0, 0.0)
    with pytest.warns(UndefinedMetricWarning):
        assert precision_recall_f1([1, 1], [1, 1], pos_label=1.5) == (0.0, 0.0, 0.0)


def test_precision_recall_f1_extra_and_ignored_labels():
    # sklearn's test_precision_recall_f_extra_labels / _ignored_labels, 1-D part, with its numbers
    y_true, y_pred = [1, 3, 3, 2], [1, 1, 3, 2]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        _, r, _ = precision_recall_f1(y_true, y_pred, labels=[0, 1, 2, 3, 4], average=None)
        assert_allclose(r, [0.0, 1.0, 1.0, 0.5, 0.0])
        _, r, _ = precision_recall_f1(y_true, y_pred, labels=[0, 1, 2, 3, 4], average="macro")
        assert r == pytest.approx(np.mean([0.0, 1.0, 1.0, 0.5, 0.0]))
        for average in ("micro", "weighted"):
            a = precision_recall_f1(y_true, y_pred, labels=[0, 1, 2, 3, 4], average=average)
            assert a == precision_recall_f1(y_true, y_pred, average=average)
    y_true, y_pred = [1, 1, 2, 3], [1, 3, 3, 3]
    assert_allclose(precision_recall_f1(y_true, y_pred, labels=[1, 3], average=None)[1], [0.5, 1.0])
    assert precision_recall_f1(y_true, y_pred, labels=[1, 3], average="macro")[1] == pytest.approx(0.75)
    assert precision_recall_f1(y_true, y_pred, labels=[1, 3], average="weighted")[1] == pytest.approx(2 / 3)
    assert precision_recall_f1(y_true, y_pred, labels=[1, 3], average="micro")[1] == pytest.approx(2 / 3)


def test_precision_recall_f1_unused_pos_label_warns():
    # sklearn's test_precision_recall_f_unused_pos_label
    with pytest.warns(UserWarning, match=r"pos_label \(set to 2\) is ignored when average != 'binary'"):
        precision_recall_f1([1, 2, 1], [1, 2, 2], pos_label=2, average="macro")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        precision_recall_f1([1, 2, 1], [1, 2, 2], pos_label=None, average="macro")
        precision_recall_f1([1, 2, 1], [1, 2, 2], pos_label=1.0, average="macro")


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
    with pytest.raises(ValueError, match="pos_label=1 is not a valid label"):
        precision_recall_f1(["a", "b"], ["a", "b"])
    with pytest.raises(ValueError, match="pos_label=None is not a valid label"):
        precision_recall_f1([0, 1], [0, 1], pos_label=None)
    with pytest.raises(ValueError, match="at most two classes"):
        precision_recall_f1([0, 1, 2], [0, 1, 2])
    with pytest.raises(ValueError, match="average"):
        precision_recall_f1([0, 1], [0, 1], average="samples")
    with pytest.raises(ValueError, match="zero_division"):
        precision_recall_f1([0, 1], [0, 1], zero_division=0.5)
    with pytest.raises(ValueError, match="empty"):
        precision_recall_f1([], [])
    with pytest.raises(TypeError, match="pos_label"):
        precision_recall_f1([0, 1], [0, 1], pos_label=[1])
    with pytest.raises(ValueError, match="Mix of label input types"):
        precision_recall_f1(["a", "b"], ["a", "b"], labels=[0], average="macro")


def test_precision_recall_f1_weighted_by_hand():
    # weights [1, 2, 0.5, 3]: class 1 has TP 2, FP 0.5 (a class-2 sample), FN 0;
    # class 2 has TP 3, FP 0, FN 0.5
    p, r, f = precision_recall_f1([0, 1, 2, 2], [0, 1, 1, 2], average=None, sample_weight=[1, 2, 0.5, 3])
    assert_allclose(p, [1.0, 2 / 2.5, 1.0])
    assert_allclose(r, [1.0, 1.0, 3 / 3.5])
    assert_allclose(f, [1.0, 4 / 4.5, 6 / 6.5])


def test_confusion_kernels_compile_one_signature_each():
    from fastdet._kernels import labels as k

    rng = np.random.default_rng(0)
    for t in (
        rng.integers(0, 3, 20),
        rng.integers(0, 3, 20).astype(np.uint8),
        rng.integers(0, 3, 20).astype(float),
    ):
        t_ro = t.copy()
        t_ro.flags.writeable = False
        for w in (None, rng.random(20), np.ones(20, np.int32)):
            confusion_matrix(t_ro, t[::-1].copy(), sample_weight=w)
            confusion_matrix(t, t[::-1].astype(np.int64) * 10**12, sample_weight=w)  # the wide-label path
            confusion_matrix(t, t[::-1].astype(np.int64) * 100, sample_weight=w)  # the lookup-table path
            precision_recall_f1(t, t[::-1].copy(), average="macro", sample_weight=w)
    for name in (
        "_confusion_lut",
        "_confusion_lut_weighted",
        "_confusion_index",
        "_confusion_index_weighted",
        "_mark_present",
        "_label_bounds",
        "_confusion_dense",
        "_confusion_dense_weighted",
        "_check_weights",
        "_class_sums_weighted",
    ):
        assert len(getattr(k, name).signatures) == 1, name
