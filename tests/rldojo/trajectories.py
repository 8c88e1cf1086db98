"""Trajectories of discrete-action agents for trainer tests, built without an environment."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rldojo.trajectory import Trajectory


def discrete_trajectory(
    obs: np.ndarray,
    rewards: np.ndarray,
    branches: Sequence[int],
    done: bool = False,
    agent_id: str = "agent_0",
    behavior_id: str = "Agent?team=0",
) -> Trajectory:
    """``len(rewards)`` steps of one agent with vector observations ``obs`` [T, size], always taking the
    first action of each discrete branch."""
    steps = len(rewards)
    return Trajectory(
        obs=[obs],
        next_obs=[obs[-1:]],
        continuous_actions=np.zeros((steps, 0), np.float32),
        discrete_actions=np.zeros((steps, len(branches)), np.int64),
        log_probs=np.zeros((steps, len(branches)), np.float32),
        action_masks=np.ones((steps, sum(branches)), np.float32),
        rewards=np.asarray(rewards, np.float32),
        done_reached=done,
        truncated=False,
        episode_return=float(np.sum(rewards)),
        episode_length=steps,
        agent_id=agent_id,
        behavior_id=behavior_id,
    )
