"""Trajectory: consecutive steps of one agent, stored column-wise as numpy arrays."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

__all__ = ["GroupSteps", "Trajectory", "next_obs_key", "obs_key"]


def obs_key(index: int) -> str:
    """Batch column of observation ``index``."""
    return f"obs_{index}"


def next_obs_key(index: int) -> str:
    """Batch column of the observation following observation ``index``."""
    return f"next_obs_{index}"


@dataclass
class GroupSteps:
    """What an agent's group did alongside its trajectory: the group reward of each step, and the groupmates
    that acted with it (padded to the most groupmates of any step; ``mates_present`` marks the real ones).

    Groupmates are the other agents of the same group id (and env worker) that acted on the same step; an
    agent that joins a group mid-episode is a groupmate from its first step on, one that leaves is one up to
    its last.
    """

    rewards: np.ndarray  # [T] float32, the group reward received after each step
    mate_obs: list[np.ndarray]  # per observation: [T, M, *shape]
    mate_continuous_actions: np.ndarray  # [T, M, continuous_size], unclipped
    mate_discrete_actions: np.ndarray  # [T, M, num_branches]
    mates_present: np.ndarray  # [T, M] float32, 1 = a groupmate acted in this slot
    next_mate_obs: list[
        np.ndarray
    ]  # per observation: [M', *shape], groupmates playing on after the last step
    all_done: bool  # the whole group's episode ended with the last step (nobody left to bootstrap from)
    episode_group_return: float  # the group reward of the agent's episode so far, this trajectory included


@dataclass
class Trajectory:
    """Up to ``time_horizon`` steps of one agent; row t holds the observation, the action taken on it
    and the reward received after it."""

    obs: list[np.ndarray]  # per observation: [T, *shape]
    next_obs: list[np.ndarray]  # per observation: [1, *shape], the observation after the last step
    continuous_actions: np.ndarray  # [T, continuous_size], unclipped
    discrete_actions: np.ndarray  # [T, num_branches]
    log_probs: np.ndarray  # [T, continuous_size + num_branches]
    action_masks: np.ndarray  # [T, sum(branch sizes)], 1 = allowed
    rewards: np.ndarray  # [T], float32
    done_reached: bool  # the last step ended the episode
    truncated: bool  # ... because it hit its maximum length (the value after it should be bootstrapped)
    episode_return: float  # the episode's total reward so far, this trajectory included
    episode_length: int  # the episode's steps so far, this trajectory included
    agent_id: str
    behavior_id: str
    group: GroupSteps | None = None  # the agent's group, when it belongs to one (group id other than 0)
    memories: np.ndarray | None = None  # [T, memory_size]: the memory each action was taken with (LSTM)
    memory_reset: bool = False  # the agent's memories restart from zeros here: it changed group mid-episode

    def __len__(self) -> int:
        return len(self.rewards)

    @property
    def terminated(self) -> bool:
        """The episode really ended: the return after the last step is zero."""
        return self.done_reached and not self.truncated

    @property
    def interrupted(self) -> bool:
        """Deprecated name of :attr:`truncated`."""
        warnings.warn("Trajectory.interrupted is now truncated", DeprecationWarning, stacklevel=2)
        return self.truncated

    def next_observations(self) -> list[np.ndarray]:
        """Per observation: [T, *shape], the observation following each step (for replay buffers)."""
        return [np.concatenate([obs[1:], nxt]) for obs, nxt in zip(self.obs, self.next_obs, strict=True)]

    def dones(self) -> np.ndarray:
        """[T] float32: 1 where the step terminated the episode (never for truncated episodes)."""
        dones = np.zeros(len(self), dtype=np.float32)
        dones[-1] = float(self.terminated)
        return dones

    def transitions(self, next_obs: bool = True) -> dict[str, np.ndarray]:
        """The trajectory as transition columns, each [T, ...]: ``obs_<i>``, ``next_obs_<i>`` (unless
        ``next_obs`` is False), ``continuous_actions``, ``discrete_actions``, ``action_masks``, ``rewards``,
        ``group_rewards`` (0 outside a group) and ``dones``."""
        columns = {obs_key(i): obs for i, obs in enumerate(self.obs)}
        if next_obs:
            columns |= {next_obs_key(i): obs for i, obs in enumerate(self.next_observations())}
        return columns | {
            "continuous_actions": self.continuous_actions,
            "discrete_actions": self.discrete_actions,
            "action_masks": self.action_masks,
            "rewards": self.rewards,
            "group_rewards": self.group.rewards if self.group else np.zeros_like(self.rewards),
            "dones": self.dones(),
        }
