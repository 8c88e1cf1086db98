"""Reward normalisation as SB3's VecNormalize does it (``norm_reward``): rewards divided by the running
standard deviation of the discounted return, then clipped."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from rldojo.trajectory import Trajectory

__all__ = ["ReturnNormalizer"]

EPSILON = 1e-8
INITIAL_COUNT = 1e-4  # SB3's RunningMeanStd starts from a tiny pseudo-count at mean 0, variance 1


class ReturnNormalizer:
    """Tracks each agent's discounted return ``R_t = gamma * R_{t-1} + r_t`` (reset when its episode ends)
    and the running variance of all returns seen; scales rewards by 1 / sqrt(variance)."""

    def __init__(self, gamma: float, clip: float):
        self.gamma = gamma
        self.clip = clip
        self.count = INITIAL_COUNT
        self.mean = 0.0
        self.var = 1.0
        self.returns: dict[str, float] = {}
        """Discounted return so far of each agent whose episode goes on."""

    def normalize(self, trajectory: Trajectory) -> Trajectory:
        """The trajectory with its rewards scaled and clipped to [-clip, clip]; the statistics first take in
        the returns of its steps."""
        running = self.returns.pop(trajectory.agent_id, 0.0)
        returns = np.empty(len(trajectory.rewards), dtype=np.float64)
        for t, reward in enumerate(trajectory.rewards):
            running = self.gamma * running + float(reward)
            returns[t] = running
        if not trajectory.done_reached:
            self.returns[trajectory.agent_id] = running
        self._update(returns)
        scaled = np.clip(trajectory.rewards / np.sqrt(self.var + EPSILON), -self.clip, self.clip)
        return dataclasses.replace(trajectory, rewards=scaled.astype(np.float32))

    def _update(self, values: np.ndarray) -> None:
        """Merge ``values`` into the running mean and variance (Chan et al.'s parallel update)."""
        if not len(values):
            return
        batch_mean, batch_var, batch_count = float(values.mean()), float(values.var()), len(values)
        total = self.count + batch_count
        delta = batch_mean - self.mean
        self.mean += delta * batch_count / total
        m2 = self.var * self.count + batch_var * batch_count + delta**2 * self.count * batch_count / total
        self.var = m2 / total
        self.count = total

    def state_dict(self) -> dict[str, Any]:
        return {"count": self.count, "mean": self.mean, "var": self.var}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.count, self.mean, self.var = float(state["count"]), float(state["mean"]), float(state["var"])
