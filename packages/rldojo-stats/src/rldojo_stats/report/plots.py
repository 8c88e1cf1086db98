"""Learning-curve figures: each seed a thin line, each group's mean a thick one with a bootstrap 95% band."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

from rldojo_stats.report.aggregate import mean_band, smooth
from rldojo_stats.report.curves import Curve

__all__ = ["AXES", "FORMATS", "human_number", "plot_curves"]

logger = logging.getLogger(__name__)

AXES = {"steps": ("steps", "trainer steps"), "time": ("elapsed", "wall time since launch (s)")}
"""x choice -> (Curve attribute on the x axis, axis label)."""
FORMATS = ("png", "svg", "pdf")
PRINT_DPI = 300


def human_number(value: float, _position: object = None) -> str:
    """Tick labels people read: 7500 -> 7.5k, 10000 -> 10k, 1500000 -> 1.5M."""
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= scale:
            return f"{value / scale:.3g}{suffix}"
    return f"{value:.3g}"


def plot_curves(
    groups: Mapping[str, Sequence[Curve]],
    title: str,
    y_label: str,
    x: str,
    path_stem: Path,
    window: int = 1,
    formats: Sequence[str] = FORMATS,
) -> list[Path]:
    """Draw ``groups`` against ``x`` (``steps`` or ``time``); write ``<path_stem>.<format>`` files.

    Where the runs of a group share no x range (wall times of runs made at different times, on
    different machines) the mean is left out with a warning and only the seeds are drawn.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    x_attribute, x_label = AXES[x]
    figure, axes = plt.subplots(figsize=(7, 4.5))
    notes = []
    for index, (name, curves) in enumerate(groups.items()):
        color = f"C{index}"
        xs = [getattr(curve, x_attribute) for curve in curves]
        ys = [smooth(curve.values, window) for curve in curves]
        for number, (seed_x, seed_y) in enumerate(zip(xs, ys, strict=True)):
            seed_label = f"{name}: each run" if number == 0 and len(curves) > 1 else None
            axes.plot(
                seed_x, seed_y, color=color, linewidth=0.8, alpha=0.55, linestyle="--", label=seed_label
            )
        band = mean_band(xs, ys)
        if band is None:
            note = f"{name}: its {len(curves)} runs share no {x_label} range, so no mean is drawn"
            logger.warning("%s: %s", title, note)
            notes.append(note)
            axes.plot(
                [], [], color=color, linewidth=0.7, label=f"{name} ({len(curves)} runs, no common range)"
            )
            continue
        label = (
            f"{name}: mean of {len(curves)} runs (where all have data), 95% CI" if len(curves) > 1 else name
        )
        axes.plot(band.x, band.mean, color=color, linewidth=2, label=label)
        if len(curves) > 1:
            axes.fill_between(band.x, band.low, band.high, color=color, alpha=0.15, linewidth=0)
    axes.xaxis.set_major_formatter(FuncFormatter(human_number))
    axes.yaxis.set_major_formatter(FuncFormatter(human_number))
    axes.set_xlabel(x_label)
    axes.set_ylabel(y_label + (f" (moving average of {window})" if window > 1 else ""))
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend(loc="best", fontsize="small")
    if notes:
        axes.text(0.01, 0.01, "\n".join(notes), transform=axes.transAxes, fontsize="x-small", color="darkred")
    figure.tight_layout()
    written = []
    for extension in formats:
        path = path_stem.with_suffix(f".{extension}")
        figure.savefig(path, dpi=PRINT_DPI)
        written.append(path)
    plt.close(figure)
    return written
