"""Discounted returns and generalised advantage estimation for one trajectory."""

from __future__ import annotations

import numpy as np

__all__ = ["discounted_cumsum", "gae"]


def discounted_cumsum(values: np.ndarray, discount: float, last: float = 0.0) -> np.ndarray:
    """``out[t] = values[t] + discount * out[t + 1]``, with ``out[T] = last``."""
    out = np.empty(len(values), dtype=np.float32)
    running = last
    for t in range(len(values) - 1, -1, -1):
        running = values[t] + discount * running
        out[t] = running
    return out


def gae(rewards: np.ndarray, values: np.ndarray, bootstrap: float, gamma: float, lambd: float) -> np.ndarray:
    """Advantages A_t = sum_k (gamma * lambd)^k delta_{t+k}, delta_t = r_t + gamma V_{t+1} - V_t.

    ``bootstrap`` is V after the last step: 0 when the episode terminated, the critic's estimate otherwise.
    """
    next_values = np.append(values[1:], bootstrap)
    deltas = rewards + gamma * next_values - values
    return discounted_cumsum(deltas, gamma * lambd)
