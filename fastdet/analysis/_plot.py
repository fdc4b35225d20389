"""Figures of the analysis results (need matplotlib; pyplot and the global backend are left alone)."""

from __future__ import annotations

import io
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from fastdet._io import write_atomic

if TYPE_CHECKING:
    from fastdet.analysis.confusion import DetectionConfusionMatrix
    from fastdet.analysis.tide import TideResult

# TIDE's colours: seaborn's "muted" palette, indices as tidecv's Plotter picks them
_MAIN_COLOURS = ("#82c6e2", "#d5bb67", "#6acc64", "#dc7ec0", "#956cb4", "#d65f5f")
_SPECIAL_COLOURS = ("#4878d0", "#ee854a")


def _figure(**kwargs: Any) -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError('plots need matplotlib: pip install "fastdet[plot]"') from None
    return Figure(**kwargs)


def _write(fig: Any, path: str | os.PathLike[str]) -> Path:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return write_atomic(path, buf.getvalue())


def _round_up(value: float, floor: float, step: float = 5.0) -> float:
    """TIDE's axis limits: ``floor``, or the value rounded up to a multiple of ``step`` above it."""
    return floor if value <= floor else math.ceil(value / step) * step


def plot_tide(result: TideResult, path: str | os.PathLike[str], *, title: str | None = None) -> Path:
    """TIDE's summary figure: share of each main error (pie), main dAP bars, special dAP bars."""
    from fastdet.analysis.tide import ERROR_TYPES, SPECIAL_ERROR_TYPES

    main = [result.main_errors[k] for k in ERROR_TYPES]
    special = [result.special_errors[k] for k in SPECIAL_ERROR_TYPES]
    fig = _figure(figsize=(10.5, 4.2), dpi=120)
    grid = fig.add_gridspec(1, 3, width_ratios=(1.25, 1.35, 0.55), wspace=0.35)
    ax_pie, ax_main, ax_special = (fig.add_subplot(grid[0, i]) for i in range(3))
    total = sum(main)
    if total > 0:
        wedges = [v / total for v in main]
        labels = [k if w > 0.05 else "" for k, w in zip(ERROR_TYPES, wedges, strict=True)]
        ax_pie.pie(wedges, colors=_MAIN_COLOURS, labels=labels, labeldistance=0.6, startangle=90,
                   textprops={"fontsize": 9, "fontweight": "bold"})  # fmt: skip
    else:
        ax_pie.text(0.5, 0.5, "no error", ha="center", va="center", transform=ax_pie.transAxes)
        ax_pie.set_axis_off()
    ax_pie.set_aspect("equal")
    ax_pie.set_title("share of main dAP", fontsize=10)
    y = np.arange(len(ERROR_TYPES))
    ax_main.barh(y, main, color=_MAIN_COLOURS)
    ax_main.set_yticks(y, ERROR_TYPES)
    ax_main.invert_yaxis()
    ax_main.set_xlim(0, _round_up(max(main), 10.0))
    ax_main.set_xlabel("dAP")
    ax_main.set_title("main errors", fontsize=10)
    for i, v in enumerate(main):
        ax_main.text(v, i, f" {v:.2f}", va="center", fontsize=8)
    x = np.arange(len(SPECIAL_ERROR_TYPES))
    ax_special.bar(x, [max(v, 0.0) for v in special], color=_SPECIAL_COLOURS)
    ax_special.set_xticks(x, ["FP", "FN"])
    ax_special.set_ylim(0, _round_up(max(special), 25.0))
    ax_special.set_title("special", fontsize=10)
    for i, v in enumerate(special):
        ax_special.text(i, max(v, 0.0), f"{v:.2f}", ha="center", va="bottom", fontsize=8)
    for ax in (ax_main, ax_special):
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    mode = "bbox" if result.iou_type == "bbox" else "mask"
    fig.suptitle(title or f"TIDE: {result.name} ({mode} AP@{result.pos_threshold:g} = {result.ap:.2f})")
    fig.subplots_adjust(left=0.02, right=0.98, bottom=0.14, top=0.82)
    return _write(fig, path)


def plot_confusion(
    cm: DetectionConfusionMatrix,
    path: str | os.PathLike[str],
    *,
    normalize: str | None = None,
    title: str | None = None,
) -> Path:
    """Heat map of a detection confusion matrix, rows true classes, columns predicted, background last."""
    values = cm.matrix.astype(np.float64) if normalize is None else cm.normalized(normalize)  # type: ignore[arg-type]
    n = values.shape[0]
    side = min(max(4.0, 0.35 * n + 2.5), 0.12 * n + 4.0, 14.0)
    fig = _figure(figsize=(side + 1.0, side), dpi=120)
    ax = fig.add_subplot(1, 1, 1)
    shown = np.where(values > 0, values, np.nan)  # empty cells stay white
    image = ax.imshow(shown, cmap="Blues", vmin=0.0, interpolation="nearest")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    labels = [*cm.class_names, "background"]
    if n <= 100:
        ax.set_xticks(np.arange(n), labels, rotation=90, fontsize=7 if n > 30 else 9)
        ax.set_yticks(np.arange(n), labels, fontsize=7 if n > 30 else 9)
    if n <= 30:
        top = np.nanmax(shown) if np.isfinite(shown).any() else 1.0
        for (r, c), v in np.ndenumerate(values):
            if v > 0:
                text = f"{v:.2f}" if normalize else f"{int(v)}"
                ax.text(c, r, text, ha="center", va="center", fontsize=7,
                        color="white" if v > 0.6 * top else "black")  # fmt: skip
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    kind = {None: "counts", "true": "normalised by true class", "pred": "normalised by predicted class"}
    ax.set_title(
        title
        or f"Confusion matrix ({kind.get(normalize, 'normalised by total')}, "
        f"IoU > {cm.iou_threshold:g}, score >= {cm.score_threshold:g})",
        fontsize=10,
    )
    fig.tight_layout()
    return _write(fig, path)
