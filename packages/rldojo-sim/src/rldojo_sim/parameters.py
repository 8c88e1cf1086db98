"""Environment parameters as a Unity scene sees them: constants or seeded samplers, read by key."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Sampler = Callable[[], float]


class EnvironmentParameters:
    """The values received on the environment-parameters side channel.

    Like Unity's ``Academy.Instance.EnvironmentParameters``: a scene asks for a key with a default
    (usually when an episode begins); a sampler draws a fresh value on every read.
    """

    def __init__(self) -> None:
        self._samplers: dict[str, Sampler] = {}

    def set_float(self, key: str, value: float) -> None:
        """Make ``key`` read as the constant ``value``."""
        self._samplers[key] = lambda: value

    def set_uniform(self, key: str, seed: int, low: float, high: float) -> None:
        """Make ``key`` read as a uniform draw in [low, high)."""
        rng = np.random.default_rng(seed)
        self._samplers[key] = lambda: float(rng.uniform(low, high))

    def set_gaussian(self, key: str, seed: int, mean: float, stddev: float) -> None:
        """Make ``key`` read as a normal draw."""
        rng = np.random.default_rng(seed)
        self._samplers[key] = lambda: float(rng.normal(mean, stddev))

    def set_multirange_uniform(self, key: str, seed: int, intervals: list[float]) -> None:
        """Make ``key`` read as a uniform draw over the union of ``[a, b]`` pairs (flattened)."""
        rng = np.random.default_rng(seed)
        pairs = np.asarray(intervals, dtype=np.float64).reshape(-1, 2)
        widths = pairs[:, 1] - pairs[:, 0]

        def draw() -> float:
            index = rng.choice(len(pairs), p=widths / widths.sum())
            return float(rng.uniform(pairs[index, 0], pairs[index, 1]))

        self._samplers[key] = draw

    def get(self, key: str, default: float) -> float:
        """The current value of ``key``, or ``default`` when Python never set it."""
        sampler = self._samplers.get(key)
        return default if sampler is None else sampler()
