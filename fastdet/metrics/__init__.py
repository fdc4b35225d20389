"""Classification metrics with scikit-learn's numbers: confusion matrix, PRF, ROC, PR, AP.

Every function takes the arguments of the scikit-learn function of the same
family and returns what it returns (to 1e-12, tied scores included):

- class labels are numbers (integers, bools, floats holding whole numbers) or
  strings (``str`` or object arrays of ``str``), as scikit-learn;
- ``sample_weight`` everywhere; ``pos_label`` for the curves, the average
  precision and precision / recall / F1; ``labels`` and ``normalize`` for the
  confusion matrix;
- ``roc_auc``: binary, multiclass (``multi_class="ovr"`` or ``"ovo"``, Hand &
  Till), multilabel indicator matrices, ``average`` and the McClish-corrected
  partial AUC ``max_fpr``; ``average_precision``: binary, multiclass
  (one-vs-rest) and multilabel, with ``average``;
- undefined values follow scikit-learn 1.9: a single class in ``y_true``
  gives NaN for the ROC AUC with an :class:`UndefinedMetricWarning`, 0/0
  scores follow ``zero_division``.

Differences from scikit-learn are listed in each Notes section; the main
ones: thresholds are float64 whatever the dtype of the scores; fastdet's
warnings are :class:`UndefinedMetricWarning` (a ``UserWarning``) where
scikit-learn sometimes uses a plain ``UserWarning``; a few inputs that
scikit-learn accepts with a meaningless result raise ``ValueError`` (a string
``pos_label`` or ``labels`` for number labels, repeated ``labels``).

Speed: the ranking metrics never argsort. Scores are split by label, each
half is sorted by value with a least-significant-digit radix sort, and a Numba
kernel merges the halves from the top, consuming each tied group at once.
With ``sample_weight`` the split also distributes the (score, weight) pairs of
each label into buckets by the leading bits of the score (one pass through
memory), and each bucket is finished in cache by a most-significant-digit
radix sort; both are stable, so tied weights are summed in input order, as
scikit-learn sums them. String labels are compared on their code points in a
kernel (no ``np.unique``).
"""

from __future__ import annotations

from fastdet.metrics._classification import accuracy, confusion_matrix, precision_recall_f1
from fastdet.metrics._common import UndefinedMetricWarning
from fastdet.metrics._ranking import average_precision, precision_recall_curve, roc_auc, roc_curve

__all__ = [
    "UndefinedMetricWarning",
    "accuracy",
    "average_precision",
    "confusion_matrix",
    "precision_recall_curve",
    "precision_recall_f1",
    "roc_auc",
    "roc_curve",
]
