"""``VectorSteps``: the steps of a single-agent vectorised env as arrays, and the envs that report them.

A ``BaseEnv`` reports each step as ``DecisionSteps`` and ``TerminalSteps``, which fit any number of agents
coming and going. An env of n copies with one agent each (``gym:``) has a simpler shape: every copy asks
for a decision on every step (a copy whose episode ended has started its next one), so the step is a few
arrays of n rows. Such an env can hand these arrays over directly (:class:`VectorStepsEnv`), and a trainer
loop that knows the shape skips building per-step ML-Agents objects; :meth:`VectorSteps.to_steps` gives
the same step as ``DecisionSteps`` and ``TerminalSteps`` for everything else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
from mlagents_envs.base_env import BehaviorName, DecisionSteps, TerminalSteps

__all__ = ["VECTOR_STEPS_METHOD", "VectorSteps", "VectorStepsEnv"]

VECTOR_STEPS_METHOD = "get_vector_steps"
"""An env with this method is a :class:`VectorStepsEnv` (checked by name: an env need not subclass it)."""


@dataclass
class VectorSteps:
    """What the n copies of a single-agent env reported on one reset or step; row i is copy i."""

    obs: list[np.ndarray]  # per observation: [n, *shape], each copy's next decision
    rewards: np.ndarray  # [n] float32: the reward for each copy's last action (0 after a reset)
    agent_ids: np.ndarray  # [n] int32: the agent that decides on ``obs`` (each episode has a new one)
    ended: np.ndarray  # [n] bool: the copy's episode ended on this step (``obs`` starts its next one)
    truncated: np.ndarray  # [n] bool: ... because it hit its time limit, not a terminal state
    final_obs: list[np.ndarray]  # per observation: [k, *shape], the last observation of each ended episode
    ended_agent_ids: np.ndarray  # [k] int32: the agent of each ended episode (k ended copies, in copy order)

    def __len__(self) -> int:
        return len(self.rewards)

    def to_steps(self) -> tuple[DecisionSteps, TerminalSteps]:
        """The same step as mlagents_envs reports it: ended episodes in ``TerminalSteps`` (``interrupted``:
        truncated), and every copy's next decision in ``DecisionSteps`` (reward 0 for a new episode)."""
        n, k = len(self), len(self.ended_agent_ids)
        decisions = DecisionSteps(
            self.obs,
            np.where(self.ended, np.float32(0.0), self.rewards),
            self.agent_ids,
            None,
            np.zeros(n, dtype=np.int32),
            np.zeros(n, dtype=np.float32),
        )
        terminals = TerminalSteps(
            self.final_obs,
            self.rewards[self.ended],
            self.truncated[self.ended],
            self.ended_agent_ids,
            np.zeros(k, dtype=np.int32),
            np.zeros(k, dtype=np.float32),
        )
        return decisions, terminals


class VectorStepsEnv(Protocol):
    """A ``BaseEnv`` whose behaviors are single-agent vectorised envs: after ``reset`` or ``step``,
    ``get_vector_steps(name)`` is what ``get_steps(name)`` reports, as :class:`VectorSteps`."""

    def get_vector_steps(self, behavior_name: BehaviorName) -> VectorSteps: ...
