"""Trajectory segments written into SB3's RolloutBuffer in one go store what SB3's own per-row add does."""

from __future__ import annotations

from collections import deque

import numpy as np
import pytest
import torch
from gymnasium import spaces
from stable_baselines3.common.buffers import DictRolloutBuffer, RolloutBuffer

from rldojo_sb3.buffers import RolloutSegment, fill_rollout_buffer

pytestmark = pytest.mark.smoke
GAMMA = 0.9


def segment(length: int, rng: np.random.Generator, dict_obs: bool) -> RolloutSegment:
    obs = rng.normal(size=(length, 3)).astype(np.float32)
    return RolloutSegment(
        {"vector": obs} if dict_obs else obs,
        rng.integers(0, 4, size=(length, 1)),
        rng.normal(size=length).astype(np.float32),
        rng.normal(size=length).astype(np.float32),
        rng.normal(size=length).astype(np.float32),
    )


def add_row_by_row(buffer: RolloutBuffer, pieces: list[RolloutSegment]) -> None:
    """SB3's own ``add``, one row at a time, each piece starting an episode."""
    for piece in pieces:
        for row in range(len(piece)):
            obs = {k: v[row : row + 1] for k, v in piece.obs.items()} if isinstance(piece.obs, dict) else None
            buffer.add(
                obs if obs is not None else piece.obs[row : row + 1],
                piece.actions[row : row + 1],
                piece.rewards[row : row + 1],
                np.array([row == 0], dtype=np.float32),
                torch.tensor([[piece.values[row]]]),
                torch.tensor([piece.log_probs[row]]),
            )


@pytest.mark.parametrize("dict_obs", [False, True])
def test_segments_fill_the_buffer_as_per_row_adds_do(dict_obs):
    box = spaces.Box(-np.inf, np.inf, (3,), np.float32)
    observation_space = spaces.Dict({"vector": box}) if dict_obs else box
    buffer_class = DictRolloutBuffer if dict_obs else RolloutBuffer
    fast, slow = (buffer_class(10, observation_space, spaces.Discrete(4), device="cpu") for _ in range(2))
    segments = [segment(n, np.random.default_rng(n), dict_obs) for n in (4, 9)]
    pending = deque(segments)
    fill_rollout_buffer(fast, pending, GAMMA)
    head, _ = segments[1].split(6, GAMMA)  # what fits of the second, bootstrapped from its 7th value
    add_row_by_row(slow, [segments[0], head])
    assert fast.full and slow.full and fast.pos == slow.pos == 10
    assert len(pending) == 1 and len(pending[0]) == 3  # the cut segment's tail waits for the next rollout
    for name in ("actions", "rewards", "episode_starts", "values", "log_probs"):
        np.testing.assert_array_equal(getattr(fast, name), getattr(slow, name), err_msg=name)
    if dict_obs:
        np.testing.assert_array_equal(fast.observations["vector"], slow.observations["vector"])
    else:
        np.testing.assert_array_equal(fast.observations, slow.observations)
    assert fast.episode_starts[[0, 4], 0].tolist() == [1.0, 1.0] and fast.episode_starts.sum() == 2
