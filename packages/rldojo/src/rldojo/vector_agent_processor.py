"""VectorAgentProcessor: trajectories of a single-agent vectorised env, built in preallocated arrays.

The lean counterpart of :class:`~rldojo.agent_processor.AgentProcessor` for a behavior whose env reports
:class:`~rldojo_unity.vector_steps.VectorSteps` (``gym:``): one agent per env copy, every copy deciding on
every step. Each copy's current trajectory is a row of arrays [copies, time_horizon, ...]; a step writes
every copy's row with one assignment per column, with no per-agent Python objects. Trajectories are cut
where ``AgentProcessor`` cuts them (episode end, ``time_horizon``, ``rollout_length``), in the same order and
with the same stats, so a trainer gets the same trajectories from either. Agents with memory, groups or
self-play go through ``AgentProcessor``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from mlagents_envs.base_env import ActionTuple, DecisionSteps

from rldojo.agent_processor import TrajectoryProcessor
from rldojo.policy import ActionInfo, Policy
from rldojo.trajectory import Trajectory
from rldojo_unity.vector_steps import VectorSteps

__all__ = ["VectorAgentProcessor"]


@dataclass
class _Columns:
    """Every copy's current trajectory: [copies, time_horizon, ...] per column; row t of copy i is its
    step t (the observation, the action taken on it, the reward that followed)."""

    obs: list[np.ndarray]
    continuous: np.ndarray
    discrete: np.ndarray
    log_probs: np.ndarray
    masks: np.ndarray
    rewards: np.ndarray

    @classmethod
    def allocate(cls, horizon: int, obs: list[np.ndarray], action: ActionInfo) -> _Columns:
        """Columns shaped and typed like the rows of ``obs`` and ``action`` (one row per copy)."""

        def like(rows: np.ndarray) -> np.ndarray:
            return np.zeros((len(rows), horizon, *rows.shape[1:]), dtype=rows.dtype)

        return cls(
            obs=[like(column) for column in obs],
            continuous=like(action.continuous),
            discrete=like(action.discrete),
            log_probs=like(action.log_probs),
            masks=like(action.action_masks),
            rewards=np.zeros((len(action.continuous), horizon), dtype=np.float32),
        )


@dataclass(eq=False)
class VectorAgentProcessor(TrajectoryProcessor):
    """Builds the trajectories of every copy of one worker's single-agent vectorised env."""

    def __post_init__(self) -> None:
        self._columns: _Columns | None = None  # allocated at the first action, from its shapes and types
        self._decisions: VectorSteps | None = None  # the step whose decisions are acted on next
        self._acted = False  # the decisions of ``_decisions`` were acted on (the next step completes them)
        self._keys: list[str] = []  # per copy: its agent's key, as AgentProcessor names it
        self._copies = np.zeros(0, dtype=np.int64)  # 0 .. copies - 1
        self._lengths = np.zeros(0, dtype=np.int64)  # per copy: steps in its current trajectory
        self._episode_lengths = np.zeros(0, dtype=np.int64)
        self._episode_returns = np.zeros(0, dtype=np.float64)
        self._steps_reported = -1  # steps reported since the env's reset (which is step 0)
        self._no_groups: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # zeros DecisionSteps needs

    def add_vector_steps(self, steps: VectorSteps, worker_id: int) -> None:
        """Record what the env reported: the rewards of the actions taken (cutting trajectories that end
        here), then the copies' next decisions."""
        self._steps_reported += 1
        if self._acted:
            self._complete(steps, worker_id)
        else:  # the env's reset: every copy starts an episode
            copies = len(steps)
            self._keys = [f"agent_{worker_id}-{agent_id}" for agent_id in steps.agent_ids.tolist()]
            self._copies = np.arange(copies)
            self._lengths = np.zeros(copies, dtype=np.int64)
            self._episode_lengths = np.zeros(copies, dtype=np.int64)
            self._episode_returns = np.zeros(copies, dtype=np.float64)
        self._decisions = steps
        self._acted = False

    def _complete(self, steps: VectorSteps, worker_id: int) -> None:
        assert self._columns is not None
        self._columns.rewards[self._copies, self._lengths] = steps.rewards
        self._lengths += 1
        self._episode_lengths += 1
        self._episode_returns += steps.rewards
        if len(steps.ended_agent_ids):  # some episode ended (cheaper to ask than ended.any())
            for row, copy in enumerate(np.flatnonzero(steps.ended).tolist()):
                final_obs = [obs[row : row + 1] for obs in steps.final_obs]
                self._emit(copy, final_obs, done=True, truncated=bool(steps.truncated[copy]))
                self.stats_reporter.add_stat("Environment/Episode Length", int(self._episode_lengths[copy]))
                self._keys[copy] = f"agent_{worker_id}-{steps.agent_ids[copy]}"
                self._episode_lengths[copy] = 0
                self._episode_returns[copy] = 0.0
        rollout_ends = self.rollout_length is not None and self._steps_reported % self.rollout_length == 0
        # an ended copy's trajectory was emitted (length 0 now): only the others are cut
        cut = ~steps.ended if rollout_ends else self._lengths >= self.max_trajectory_length
        if cut.any():
            for copy in np.flatnonzero(cut).tolist():
                self._emit(copy, [obs[copy : copy + 1] for obs in steps.obs], done=False, truncated=False)

    def _emit(self, copy: int, next_obs: list[np.ndarray], done: bool, truncated: bool) -> None:
        """Hand copy ``copy``'s current trajectory on; its next one starts empty."""
        assert self._columns is not None
        length, columns = int(self._lengths[copy]), self._columns
        self._lengths[copy] = 0
        self.on_trajectory(
            Trajectory(
                obs=[column[copy, :length].copy() for column in columns.obs],
                next_obs=next_obs,
                continuous_actions=columns.continuous[copy, :length].copy(),
                discrete_actions=columns.discrete[copy, :length].copy(),
                log_probs=columns.log_probs[copy, :length].copy(),
                action_masks=columns.masks[copy, :length].copy(),
                rewards=columns.rewards[copy, :length].copy(),
                done_reached=done,
                truncated=truncated,
                episode_return=float(self._episode_returns[copy]),
                episode_length=int(self._episode_lengths[copy]),
                agent_id=self._keys[copy],
                behavior_id=self.behavior_id,
            )
        )

    def act(self, policy: Policy[Any]) -> ActionTuple:
        """Choose every copy's action with one forward pass of ``policy`` and record it; the env action."""
        steps = self._decisions
        assert steps is not None and not self._acted, "add_vector_steps() first"
        copies = len(steps)
        if self._no_groups is None or len(self._no_groups[0]) != copies:
            self._no_groups = (
                np.zeros(copies, np.float32),
                np.zeros(copies, np.int32),
                np.zeros(copies, np.float32),
            )
        rewards, group_ids, group_rewards = self._no_groups
        action = policy.get_action(
            DecisionSteps(steps.obs, rewards, steps.agent_ids, None, group_ids, group_rewards)
        )
        if self._columns is None:
            self._columns = _Columns.allocate(self.max_trajectory_length, steps.obs, action)
        columns, rows, at = self._columns, self._copies, self._lengths
        for column, obs in zip(columns.obs, steps.obs, strict=True):
            column[rows, at] = obs
        columns.continuous[rows, at] = action.continuous
        columns.discrete[rows, at] = action.discrete
        columns.log_probs[rows, at] = action.log_probs
        columns.masks[rows, at] = action.action_masks
        entropy = action.entropy
        if len(
            entropy
        ):  # one copy's entropy is its mean: numpy's mean costs more than the rest of a step's stats
            self.stats_reporter.add_stat(
                "Policy/Entropy", float(entropy[0] if len(entropy) == 1 else entropy.mean())
            )
        self._acted = True
        return action.env_action

    def end_episodes(self, worker_id: int) -> None:
        """Forget every copy's partial trajectory (the env was restarted; its next report is a reset)."""
        self._decisions, self._acted, self._steps_reported = None, False, -1
