"""Statistics over the seeds of a group: a mean with a bootstrapped 95% interval at each x, smoothing.

Intervals are percentile bootstraps over seeds (runs resampled with replacement), as rliable
recommends for few seeds; a fixed generator seed keeps a report reproducible.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["BOOTSTRAP_SAMPLES", "MeanBand", "bootstrap_interval", "mean_band", "smooth"]

BOOTSTRAP_SAMPLES = 2000
GRID_POINTS = 200
CONFIDENCE = 0.95


@dataclass(frozen=True)
class MeanBand:
    """The mean over seeds on an x grid, with the bootstrapped 95% interval of that mean."""

    x: np.ndarray
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray


def smooth(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing moving average over ``window`` summaries (the first points average what there is)."""
    if window <= 1 or len(values) == 0:
        return values
    sums = np.cumsum(np.insert(values.astype(float), 0, 0.0))
    counts = np.minimum(np.arange(1, len(values) + 1), window)
    return (sums[1:] - sums[np.maximum(np.arange(1, len(values) + 1) - window, 0)]) / counts


def bootstrap_interval(samples: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """95% percentile-bootstrap interval of the mean over axis 0 (seeds), for each remaining column."""
    generator = np.random.default_rng(seed)
    picks = generator.integers(0, len(samples), size=(BOOTSTRAP_SAMPLES, len(samples)))
    means = samples[picks].mean(axis=1)
    tail = (1 - CONFIDENCE) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail], axis=0)
    return low, high


def mean_band(xs: Sequence[np.ndarray], values: Sequence[np.ndarray]) -> MeanBand | None:
    """Mean and interval over the x range all seeds cover; None when their ranges do not overlap."""
    low, high = max(x[0] for x in xs), min(x[-1] for x in xs)
    if len(xs) > 1 and high <= low:
        return None
    grid = np.linspace(low, high, GRID_POINTS) if high > low else np.asarray([low], dtype=float)
    on_grid = np.stack([np.interp(grid, x, y) for x, y in zip(xs, values, strict=True)])
    interval = bootstrap_interval(on_grid) if len(xs) > 1 else (on_grid[0], on_grid[0])
    return MeanBand(grid, on_grid.mean(axis=0), *interval)
