"""Acting for the agents of one behavior across env workers: one forward pass, each worker's share of the
actions recorded by the agent processor. The learner acts this way for its workers, an env runner for its
own env (``ray.acting: runner``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
from mlagents_envs.base_env import ActionTuple, DecisionSteps

from rldojo.agent_processor import AgentProcessor
from rldojo.envs.batching import concatenate_decision_steps
from rldojo.policy import ActionInfo, Policy

__all__ = ["choose_actions"]


def _action_rows(action_info: ActionInfo, rows: slice) -> ActionInfo:
    """The part of ``action_info`` that belongs to ``rows`` of its batch."""
    action = action_info.env_action
    return dataclasses.replace(
        action_info,
        env_action=ActionTuple(continuous=action.continuous[rows], discrete=action.discrete[rows]),
        continuous=action_info.continuous[rows],
        discrete=action_info.discrete[rows],
        log_probs=action_info.log_probs[rows],
        action_masks=action_info.action_masks[rows],
        entropy=action_info.entropy[rows],
        agent_ids=action_info.agent_ids[rows],
        memories=None if action_info.memories is None else action_info.memories[rows],
        next_memories=None if action_info.next_memories is None else action_info.next_memories[rows],
    )


def choose_actions(
    policy: Policy[Any], processor: AgentProcessor, worker_steps: Sequence[tuple[int, DecisionSteps]]
) -> dict[int, ActionTuple]:
    """Actions for every agent awaiting a decision in ``worker_steps`` ((worker id, its decision steps)),
    with one forward pass of ``policy``; ``processor`` records them. The env actions by worker id."""
    memories = (
        np.concatenate([processor.memories(s, w, policy.memory_size) for w, s in worker_steps])
        if policy.memory_size
        else None
    )
    action_info = policy.get_action(
        concatenate_decision_steps([steps for _, steps in worker_steps]), memories
    )
    actions = {}
    start = 0
    for worker_id, steps in worker_steps:
        rows = slice(start, start + len(steps))
        worker_info = action_info if len(worker_steps) == 1 else _action_rows(action_info, rows)
        start += len(steps)
        processor.add_actions(worker_info, worker_id)
        actions[worker_id] = worker_info.env_action
    return actions
