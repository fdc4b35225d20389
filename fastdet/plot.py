"""Plots of evaluation results (needs matplotlib: ``pip install "fastdet[plot]"``)."""

from __future__ import annotations

import io
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fastdet._io import write_atomic

__all__ = ["mean_pr_curves", "plot_nms_sweep", "plot_pr_curves"]


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise ImportError('plots need matplotlib: pip install "fastdet[plot]"') from None
    matplotlib.use("Agg")  # files only; never needs a display
    import matplotlib.pyplot as plt

    return plt


def mean_pr_curves(result: Any) -> tuple[np.ndarray, np.ndarray]:
    """Class-averaged precision at each recall threshold, one curve per IoU threshold.

    Uses area range ``all`` and the largest detection limit, averaging over the
    categories that have ground truth (precision -1 marks "no ground truth").

    Returns
    -------
    recall : ndarray of shape (R,)
    precision : ndarray of shape (T, R)
        NaN where no category has ground truth.
    """
    p = np.asarray(result.precision)[:, :, :, 0, -1]  # (T, R, K)
    valid = p > -1
    total = np.where(valid, p, 0.0).sum(axis=2)
    count = valid.sum(axis=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    return np.asarray(result.rec_thresholds), mean


def plot_pr_curves(result: Any, path: str | os.PathLike[str], title: str = "Precision / recall") -> Path:
    """Draw the class-averaged PR curve of each IoU threshold of a COCO result into a PNG.

    Parameters
    ----------
    result : CocoEvalResult
        As returned by :func:`fastdet.evaluate_coco`.
    path : str or path-like
        Where to write the PNG (folders are created).
    title : str
        Figure title.

    Returns
    -------
    Path
        The written file.
    """
    plt = _pyplot()
    recall, precision = mean_pr_curves(result)
    fig, ax = plt.subplots(figsize=(6.4, 4.8), dpi=120)
    cmap = plt.get_cmap("viridis")
    thresholds = np.asarray(result.iou_thresholds)
    for t, thr in enumerate(thresholds):
        ap = np.nanmean(precision[t]) if np.isfinite(precision[t]).any() else float("nan")
        colour = cmap(t / max(len(thresholds) - 1, 1))
        ax.plot(recall, precision[t], color=colour, lw=1.6, label=f"IoU {thr:.2f}  AP {ap:.3f}")
    ax.set(xlabel="recall", ylabel="precision (mean over classes)", xlim=(0, 1), ylim=(0, 1.02), title=title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower left", ncol=2)
    return _save(fig, plt, path)


def plot_nms_sweep(
    thresholds: Sequence[float],
    series: Mapping[str, Sequence[float]],
    path: str | os.PathLike[str],
    *,
    ylabel: str = "mAP",
    title: str = "mAP against the NMS IoU threshold",
) -> Path:
    """Line plot of one or more metrics against the NMS IoU threshold; returns the PNG path."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=120)
    for label, values in series.items():
        ax.plot(thresholds, values, marker="o", lw=1.6, label=label)
    ax.set(xlabel="NMS IoU threshold", ylabel=ylabel, title=title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, plt, path)


def _save(fig: Any, plt: Any, path: str | os.PathLike[str]) -> Path:
    """Render ``fig`` in memory, then write it atomically: a failure leaves no file behind."""
    out = Path(path)
    fmt = out.suffix[1:].lower() or "png"
    buffer = io.BytesIO()
    try:
        fig.tight_layout()
        fig.savefig(buffer, format=fmt)
    finally:
        plt.close(fig)
    return write_atomic(out, buffer.getvalue())
