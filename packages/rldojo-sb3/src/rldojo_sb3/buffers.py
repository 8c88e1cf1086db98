"""Trajectories from rldojo's AgentProcessor into SB3's RolloutBuffer and ReplayBuffer.

RolloutBuffer (``n_envs=1``): trajectories are appended one after another. Each trajectory (or the part
of one that fills the buffer) is a self-contained segment: its first row is marked ``episode_start`` and,
unless the episode really terminated, ``gamma * V(next observation)`` is added to its last reward, as
SB3 does for time-limit truncation. ``compute_returns_and_advantage`` then never bootstraps across rows
of different agents.

ReplayBuffer: one transition per row; a truncated episode (max_step) is ``done`` with
``TimeLimit.truncated`` so SB3 bootstraps it when ``handle_timeout_termination`` is on (its default).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from stable_baselines3.common.buffers import ReplayBuffer, RolloutBuffer

from rldojo.trajectory import Trajectory

__all__ = [
    "RolloutSegment",
    "add_transitions",
    "buffer_actions",
    "fill_rollout_buffer",
    "load_replay_buffer_state",
    "replay_buffer_state",
    "rows",
]

REPLAY_ARRAYS = ("observations", "next_observations", "actions", "rewards", "dones", "timeouts")


def rows(batch: Any, start: int, stop: int) -> Any:
    """Rows ``start:stop`` of an observation batch (array or dict of arrays)."""
    if isinstance(batch, dict):
        return {key: value[start:stop] for key, value in batch.items()}
    return batch[start:stop]


def buffer_actions(trajectory: Trajectory) -> np.ndarray:
    """[T, action_dim]: the continuous actions, or the discrete branches."""
    if trajectory.continuous_actions.shape[1]:
        return trajectory.continuous_actions
    return trajectory.discrete_actions


@dataclass
class RolloutSegment:
    """Consecutive rows of one agent, ready for a RolloutBuffer; rewards already hold the bootstrap."""

    obs: Any  # [n, ...] array or dict of arrays
    actions: np.ndarray  # [n, action_dim]
    rewards: np.ndarray  # [n]
    values: np.ndarray  # [n]
    log_probs: np.ndarray  # [n]

    def __len__(self) -> int:
        return len(self.rewards)

    def split(self, size: int, gamma: float) -> tuple[RolloutSegment, RolloutSegment]:
        """The first ``size`` rows (bootstrapped from the value of row ``size``) and the rest."""
        head_rewards = self.rewards[:size].copy()
        head_rewards[-1] += gamma * self.values[size]
        head = RolloutSegment(
            rows(self.obs, 0, size),
            self.actions[:size],
            head_rewards,
            self.values[:size],
            self.log_probs[:size],
        )
        tail = RolloutSegment(
            rows(self.obs, size, len(self)),
            self.actions[size:],
            self.rewards[size:],
            self.values[size:],
            self.log_probs[size:],
        )
        return head, tail


def fill_rollout_buffer(buffer: RolloutBuffer, pending: deque[RolloutSegment], gamma: float) -> None:
    """Move rows from ``pending`` into ``buffer`` until it is full or nothing is pending."""
    while pending and not buffer.full:
        segment = pending.popleft()
        room = buffer.buffer_size - buffer.pos
        if len(segment) > room:
            segment, rest = segment.split(room, gamma)
            pending.appendleft(rest)
        _add_segment(buffer, segment)


def _add_segment(buffer: RolloutBuffer, segment: RolloutSegment) -> None:
    """All rows of ``segment`` at once, as ``len(segment)`` calls of SB3's ``RolloutBuffer.add`` with
    ``n_envs=1`` would store them (the first row starts an episode)."""
    start, stop = buffer.pos, buffer.pos + len(segment)

    def column(values: Any, shape: tuple[int, ...]) -> np.ndarray:
        return np.asarray(values).reshape((len(segment), 1, *shape))

    obs_shape: Any = buffer.obs_shape  # a dict of shapes for a DictRolloutBuffer
    if isinstance(buffer.observations, dict):
        for key, stored in buffer.observations.items():
            stored[start:stop] = column(segment.obs[key], obs_shape[key])
    else:
        buffer.observations[start:stop] = column(segment.obs, obs_shape)
    buffer.actions[start:stop] = column(segment.actions, (buffer.action_dim,))
    buffer.rewards[start:stop] = column(segment.rewards, ())
    buffer.episode_starts[start:stop] = 0.0
    buffer.episode_starts[start] = 1.0
    buffer.values[start:stop] = column(segment.values, ())
    buffer.log_probs[start:stop] = column(segment.log_probs, ())
    buffer.pos = stop
    buffer.full = stop == buffer.buffer_size


def add_transitions(
    buffer: ReplayBuffer, obs: Any, next_obs: Any, trajectory: Trajectory, on_row: Any = None
) -> None:
    """One transition per row of ``trajectory``; ``on_row()`` is called after each (SB3's per-step hook)."""
    actions = buffer_actions(trajectory)
    last = len(trajectory) - 1
    for row in range(len(trajectory)):
        ends = row == last and trajectory.done_reached
        buffer.add(
            rows(obs, row, row + 1),
            rows(next_obs, row, row + 1),
            actions[row : row + 1],
            trajectory.rewards[row : row + 1],
            np.array([ends], dtype=np.float32),
            [{"TimeLimit.truncated": ends and trajectory.truncated}],
        )
        if on_row is not None:
            on_row()


def replay_buffer_state(buffer: ReplayBuffer) -> dict[str, Any]:
    """The filled part of ``buffer`` as tensors (a checkpoint holds no pickled objects)."""
    size = buffer.buffer_size if buffer.full else buffer.pos
    state: dict[str, Any] = {"pos": int(buffer.pos), "full": bool(buffer.full)}
    for name in REPLAY_ARRAYS:
        array = getattr(buffer, name, None)
        if isinstance(array, dict):
            state[name] = {key: torch.from_numpy(value[:size].copy()) for key, value in array.items()}
        elif array is not None:
            state[name] = torch.from_numpy(array[:size].copy())
    return state


def load_replay_buffer_state(buffer: ReplayBuffer, state: dict[str, Any]) -> None:
    """Restore what :func:`replay_buffer_state` returned into a buffer of the same layout."""
    for name in REPLAY_ARRAYS:
        if name not in state:
            continue
        array = getattr(buffer, name)
        saved = state[name]
        if isinstance(array, dict):
            for key, value in saved.items():
                array[key][: len(value)] = value.numpy()
        else:
            array[: len(saved)] = saved.numpy()
    buffer.pos, buffer.full = int(state["pos"]), bool(state["full"])
