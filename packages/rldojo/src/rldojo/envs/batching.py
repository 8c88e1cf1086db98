"""One batch from the steps of several workers: the policy then runs one forward pass per behavior."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from mlagents_envs.base_env import DecisionSteps

__all__ = ["concatenate_decision_steps"]


def _masks(steps: Sequence[DecisionSteps]) -> list[np.ndarray] | None:
    """Per branch, every worker's masks stacked; a worker that sent none has all actions allowed."""
    first = next((s.action_mask for s in steps if s.action_mask is not None), None)
    if first is None:
        return None
    return [
        np.concatenate(
            [s.action_mask[b] if s.action_mask else np.zeros((len(s), m.shape[1]), bool) for s in steps]
        )
        for b, m in enumerate(first)
    ]


def concatenate_decision_steps(steps: Sequence[DecisionSteps]) -> DecisionSteps:
    """The rows of ``steps`` in order, as one ``DecisionSteps`` (agent ids may repeat across workers)."""
    if len(steps) == 1:
        return steps[0]
    return DecisionSteps(
        obs=[np.concatenate(column) for column in zip(*(s.obs for s in steps), strict=True)],
        reward=np.concatenate([s.reward for s in steps]),
        agent_id=np.concatenate([s.agent_id for s in steps]),
        action_mask=_masks(steps),
        group_id=np.concatenate([s.group_id for s in steps]),
        group_reward=np.concatenate([s.group_reward for s in steps]),
    )
