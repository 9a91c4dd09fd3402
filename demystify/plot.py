"""The course's figures: learning curves, image grids, filters, feature maps, attention maps.

Each function draws and returns a matplotlib Figure; the notebook cell that calls it gives the
caption and alt text (cell metadata `mystnb.figure.caption` and `mystnb.image.alt`).

`fingerprint(fig)` summarises what a figure plots (per axes: the kinds and sizes of its lines,
images, collections, patches and texts, and a checksum of the plotted numbers);
`demystify.claims` records it for every figure a chapter shows and compares it with the
committed record, because nbval ignores images (see the claims module's docstring).
`mark_timed(fig_or_ax)` marks plotted data that are timings: their structure is compared, their
numbers are not. `mark_varying(fig_or_ax)` marks marks whose number comes from a trained
model's outputs (boxes a detector draws): on another machine only the pictures under them are
compared.
"""
from __future__ import annotations

import math
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure

from .train import History

_TIMED: weakref.WeakSet = weakref.WeakSet()     # axes whose plotted data are timings
_VARYING: weakref.WeakSet = weakref.WeakSet()   # axes whose marks are a model's outputs


def mark_timed(target: Figure | plt.Axes) -> Figure | plt.Axes:
    """Mark a figure's (or one axes') data as timings and return it unchanged.

    A figure's fingerprint is compared with the committed record (structure exactly, numbers
    within a tolerance); a timing changes from run to run on the same machine, so for a
    timed axes only the structure (how many lines, bars, points …) is compared. Mark the
    axes before the figure is shown, e.g. `mark_timed(ax)` in the cell that draws it.
    """
    _TIMED.update(_axes_of(target, "mark_timed", "timings"))
    return target


def mark_varying(target: Figure | plt.Axes) -> Figure | plt.Axes:
    """Mark a figure's (or one axes') marks as a trained model's outputs; return it unchanged.

    How many boxes a detector draws (or words a captioner writes) changes when the model
    trains along another path, as it does on another CPU (other vector kernels round
    differently), so on a machine other than the record's only its images (the scene under
    the boxes: their shapes and mean pixel) are compared with the record; on the record's own
    machine it is compared in full. Mark the axes before the figure is shown.
    """
    _VARYING.update(_axes_of(target, "mark_varying", "the model's outputs"))
    return target


def _axes_of(target: Figure | plt.Axes, caller: str, what: str) -> list[plt.Axes]:
    if isinstance(target, Figure):
        axes = list(target.axes)
    elif isinstance(target, plt.Axes):
        axes = [target]
    else:
        raise TypeError(f"{caller}() marks a matplotlib Figure or Axes, "
                        f"got {type(target).__name__}")
    if not axes:
        raise ValueError(f"{caller}() got a figure without axes: draw {what} first, "
                         f"then mark them")
    return axes


def _values(*arrays: Any) -> np.ndarray:
    """The finite numbers of `arrays`, flattened into one float array."""
    parts = []
    for array in arrays:
        if array is None:
            continue
        array = np.ma.filled(np.ma.asarray(array, dtype=float), np.nan).ravel()
        parts.append(array[np.isfinite(array)])
    return np.concatenate(parts) if parts else np.empty(0)


def fingerprint(fig: Figure) -> list[dict[str, Any]]:
    """What each axes of `fig` plots: structure and a rounded checksum, one dict per axes.

    Structure: `lines` (points per line), `images` (array shapes), `collections` (kind and
    number of points/paths, e.g. a scatter), `patches` (bars, rectangles), `texts`.
    Checksum of every finite plotted number (line and scatter coordinates, image pixels,
    bar geometry, colour values): `values` (how many), `mean` and `mean_abs`, rounded to
    6 significant digits; `pixels`, the mean of its images' pixels alone (what a
    `mark_varying` axes is compared on). `timed` and `varying` say the axes was marked with
    `mark_timed()` or `mark_varying()`. Legends, ticks and grid lines are not data and are
    left out.
    """
    if not isinstance(fig, Figure):
        raise TypeError(f"fingerprint() takes a matplotlib Figure, got {type(fig).__name__}")
    summary = []
    for ax in fig.axes:
        data = []
        lines = []
        for line in ax.lines:
            xy = line.get_xydata()
            lines.append(len(xy))
            data.append(xy)
        images = []
        for image in ax.images:
            array = image.get_array()
            images.append(list(np.shape(array)))
            data.append(array)
        pixels = _values(*(image.get_array() for image in ax.images))
        collections = []
        for collection in ax.collections:
            offsets = np.asarray(collection.get_offsets())
            paths = collection.get_paths()
            collections.append([type(collection).__name__, len(offsets), len(paths)])
            data += [offsets, collection.get_array()]
            if len(paths) <= 10_000:
                data += [path.vertices for path in paths]
        for patch in ax.patches:
            data.append(patch.get_patch_transform().transform(patch.get_path().vertices))
        values = _values(*data)
        summary.append({
            "lines": lines, "images": images, "collections": collections,
            "patches": len(ax.patches), "texts": len(ax.texts),
            "values": int(values.size),
            "mean": float(f"{values.mean():.6g}") if values.size else 0.0,
            "mean_abs": float(f"{np.abs(values).mean():.6g}") if values.size else 0.0,
            "pixels": float(f"{pixels.mean():.6g}") if pixels.size else 0.0,
            "timed": ax in _TIMED, "varying": ax in _VARYING})
    return summary


def _numpy(values) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        return values.detach().float().cpu().numpy()
    return np.asarray(values)


def plot_history(histories: History | Mapping[str, History], metrics: Sequence[str] = ("loss", "accuracy"),
                 title: str | None = None) -> Figure:
    """Learning curves: one panel per metric, train (solid) and validation (dashed) per run."""
    if isinstance(histories, History):
        histories = {"": histories}
    if not isinstance(histories, Mapping) or not histories or \
            not all(isinstance(h, History) for h in histories.values()):
        raise ValueError("plot_history expects a History or a non-empty mapping {name: History}, "
                         f"got {type(histories).__name__}")
    known = {key.split("_", 1)[1] for h in histories.values() for key in h.metrics
             if key.startswith(("train_", "val_"))}
    if not known & set(metrics):
        raise ValueError(f"no history has the metric(s) {', '.join(metrics)}; "
                         f"they have: {', '.join(sorted(known)) or 'nothing logged'}")
    fig, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 3.4), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        for i, (name, history) in enumerate(histories.items()):
            color = f"C{i}"
            for split, style in (("train", "-"), ("val", "--")):
                key = f"{split}_{metric}"
                if key in history.metrics:
                    values = history.metrics[key]
                    label = " ".join(part for part in (name, split) if part)
                    ax.plot(range(1, len(values) + 1), values, style, color=color, label=label)
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def show_images(images, labels: Sequence | None = None, ncols: int = 8, cmap: str = "gray",
                title: str | None = None, size: float = 1.2) -> Figure:
    """A grid of images (N, H, W), (N, 1, H, W) or (N, 3, H, W), each with an optional label."""
    images = _numpy(images)
    if images.ndim == 4:
        images = images[:, 0] if images.shape[1] == 1 else images.transpose(0, 2, 3, 1)
    if images.ndim not in (3, 4) or len(images) == 0:
        raise ValueError(f"show_images expects a non-empty batch of images, got shape {images.shape}")
    if ncols < 1:
        raise ValueError(f"ncols must be at least 1, got {ncols}")
    if labels is not None and len(labels) < len(images):
        raise ValueError(f"show_images got {len(images)} images but only {len(labels)} labels")
    fig, axes = _grid(len(images), ncols, size, title)
    for i, ax in enumerate(axes[:len(images)]):
        ax.imshow(images[i], cmap=cmap)
        if labels is not None:
            ax.set_title(str(labels[i]), fontsize=8)
    fig.tight_layout()
    return fig


def _grid(n: int, ncols: int, size: float, title: str | None) -> tuple[Figure, list[plt.Axes]]:
    """A figure of `n` axes in rows of at most `ncols`, axis lines off, with a title."""
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + 0.3), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    if title:
        fig.suptitle(title)
    return fig, list(axes.flat)


def show_filters(weight: torch.Tensor, ncols: int = 8, title: str | None = None) -> Figure:
    """First-layer convolution kernels (out, in, k, k) as a grid, diverging colours around 0."""
    weight = _numpy(weight)
    if weight.ndim != 4 or weight.shape[0] == 0:
        raise ValueError(f"show_filters expects conv weights (out, in, k, k), got {weight.shape}")
    if ncols < 1:
        raise ValueError(f"ncols must be at least 1, got {ncols}")
    kernels = weight[:, 0]
    limit = float(np.abs(kernels).max()) or 1.0
    fig, axes = _grid(len(kernels), ncols, 1.1, title)
    for kernel, ax in zip(kernels, axes):
        ax.imshow(kernel, cmap="RdBu_r", vmin=-limit, vmax=limit)
    fig.tight_layout()
    return fig


def show_feature_maps(maps: torch.Tensor, ncols: int = 8, title: str | None = None) -> Figure:
    """The channels of one feature map (C, H, W) — what each learned filter responds to."""
    maps = _numpy(maps)
    if maps.ndim == 4 and maps.shape[0] == 1:
        maps = maps[0]
    if maps.ndim != 3:
        raise ValueError(f"show_feature_maps expects (C, H, W), got {maps.shape}")
    return show_images(maps, ncols=ncols, cmap="viridis", title=title)


def plot_heatmap(values, row_labels: Sequence[str], col_labels: Sequence[str],
                 title: str | None = None, ax: plt.Axes | None = None) -> Figure:
    """A labelled heatmap of non-negative values (rows × columns), each cell printed.

    For any table of weights or probabilities, e.g. a classifier's class probabilities after
    each word of a sentence (chapter 04). `plot_attention` draws attention weights with it.
    """
    values = _numpy(values)
    if values.shape != (len(row_labels), len(col_labels)):
        raise ValueError(f"values of shape {values.shape} do not match "
                         f"{len(row_labels)} row and {len(col_labels)} column labels")
    if ax is None:
        fig, ax = plt.subplots(figsize=(0.6 * len(col_labels) + 2.5, 0.45 * len(row_labels) + 1.2))
    else:
        fig = ax.figure
    ax.imshow(values, cmap="Blues", vmin=0, vmax=max(float(values.max()), 1e-8), aspect="auto")
    ax.set_xticks(range(len(col_labels)), col_labels, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(row_labels)), row_labels, fontsize=8)
    for (r, c), value in np.ndenumerate(values):
        ax.text(c, r, f"{value:.2f}", ha="center", va="center", fontsize=7,
                color="white" if value > 0.6 * values.max() else "black")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_attention(weights, row_labels: Sequence[str], col_labels: Sequence[str],
                   title: str | None = None, ax: plt.Axes | None = None) -> Figure:
    """A heatmap of attention weights (rows × columns) with its labels and values."""
    if _numpy(weights).shape != (len(row_labels), len(col_labels)):
        raise ValueError(f"attention of shape {_numpy(weights).shape} does not match "
                         f"{len(row_labels)} row and {len(col_labels)} column labels")
    return plot_heatmap(weights, row_labels, col_labels, title=title, ax=ax)
