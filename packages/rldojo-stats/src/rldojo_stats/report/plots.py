"""Learning-curve figures: one line per run group, mean over its seeds with a ± std band."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rldojo_stats.report.curves import Curve

__all__ = ["AXES", "mean_and_spread", "plot_rewards"]

AXES = {"steps": ("steps", "trainer steps"), "time": ("elapsed", "wall time (s)")}
"""Figure kind -> (Curve attribute on the x axis, axis label)."""

GRID_POINTS = 200


def mean_and_spread(curves: Sequence[Curve], x_attribute: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x grid over the range all curves cover, and the mean and std of their rewards on it."""
    xs = [getattr(curve, x_attribute) for curve in curves]
    if len(curves) == 1:
        return xs[0], curves[0].rewards, np.zeros_like(curves[0].rewards)
    low, high = max(x[0] for x in xs), min(x[-1] for x in xs)
    grid = np.linspace(low, high, GRID_POINTS) if high > low else np.asarray([low])
    values = np.stack([np.interp(grid, x, curve.rewards) for x, curve in zip(xs, curves, strict=True)])
    return grid, values.mean(axis=0), values.std(axis=0)


def plot_rewards(groups: dict[str, list[Curve]], behavior: str, kind: str, path: Path) -> Path:
    """Save the reward curves of ``behavior`` against ``kind`` (``steps`` or ``time``) as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x_attribute, x_label = AXES[kind]
    figure, axes = plt.subplots(figsize=(7, 4.5), dpi=120)
    for group, curves in sorted(groups.items()):
        x, mean, std = mean_and_spread(curves, x_attribute)
        label = f"{group} (mean ± std of {len(curves)} runs)" if len(curves) > 1 else group
        (line,) = axes.plot(x, mean, label=label)
        if len(curves) > 1:
            axes.fill_between(x, mean - std, mean + std, color=line.get_color(), alpha=0.25, linewidth=0)
    axes.set_xlabel(x_label)
    axes.set_ylabel("mean episode reward")
    axes.set_title(f"{behavior}: reward vs {x_label}")
    axes.grid(alpha=0.3)
    axes.legend(loc="lower right")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path
