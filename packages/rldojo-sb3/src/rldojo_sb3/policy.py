"""SB3Policy: rldojo's Policy acting with an SB3 model, one forward pass for all agents of a behavior."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from mlagents_envs.base_env import ActionTuple, BehaviorSpec, DecisionSteps

from rldojo.policy import ActionInfo, Policy, allowed_action_mask
from rldojo_gym.spaces import ObservationLayout
from rldojo_sb3.network import SB3PolicyNetwork

__all__ = ["SB3Policy", "SampledActions", "Sampler"]


@dataclass
class SampledActions:
    """What an algorithm chose for a batch of agents, as its buffer stores it."""

    actions: np.ndarray  # [n, action_dim]: Gaussian samples (PPO/A2C), scaled actions (off-policy), or ints
    log_probs: np.ndarray  # [n, 1] (on-policy) or [n, 0]
    entropy: np.ndarray  # [n] (on-policy) or [0]


Sampler = Callable[[Any], SampledActions]
"""``sampler(observations)``: exploring actions for a batch of observations (numpy, SB3's layout)."""


class SB3Policy(Policy[SB3PolicyNetwork]):
    """Acts through ``sampler`` while training, through the deterministic network when ``deterministic``."""

    def __init__(
        self,
        behavior_spec: BehaviorSpec,
        network: SB3PolicyNetwork,
        device: torch.device,
        layout: ObservationLayout,
        sampler: Sampler,
    ):
        super().__init__(behavior_spec, network, device)
        self.layout = layout
        self.sampler = sampler

    @torch.no_grad()
    def get_action(self, decision_steps: DecisionSteps, memories: np.ndarray | None = None) -> ActionInfo:
        """SB3's own sampling (``memories`` stay None: SB3 policies here have no memory)."""
        if self.deterministic:
            return super().get_action(decision_steps, memories)
        sampled = self.sampler(self.layout.convert(decision_steps.obs))
        n = len(decision_steps)
        if self.behavior_spec.action_spec.continuous_size:
            continuous = sampled.actions.astype(np.float32)
            discrete = np.zeros((n, 0), dtype=np.int64)
        else:
            continuous = np.zeros((n, 0), dtype=np.float32)
            discrete = sampled.actions.reshape(n, -1).astype(np.int64)
        return ActionInfo(
            env_action=ActionTuple(
                continuous=np.clip(continuous, -1.0, 1.0), discrete=discrete.astype(np.int32)
            ),
            continuous=continuous,
            discrete=discrete,
            log_probs=sampled.log_probs,
            action_masks=allowed_action_mask(decision_steps, self.branch_sizes),
            entropy=sampled.entropy,
            agent_ids=decision_steps.agent_id,
        )

    def update_normalization(self, observations: Any) -> None:
        """SB3 policies do not normalise observations (network_settings.normalize is rejected)."""
