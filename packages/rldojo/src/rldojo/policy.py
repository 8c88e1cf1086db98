"""Policy: an actor on a device that turns a batch of ``DecisionSteps`` into actions in one forward pass."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from mlagents_envs.base_env import ActionTuple, BehaviorSpec, DecisionSteps

from rldojo.networks import Actor, clip_continuous

__all__ = ["ActionInfo", "Policy", "allowed_action_mask"]


@dataclass
class ActionInfo:
    """The policy's output for every agent of one ``DecisionSteps`` (row i belongs to ``agent_ids[i]``)."""

    env_action: ActionTuple  # what is sent to the environment (continuous clipped to [-1, 1])
    continuous: np.ndarray  # [n, continuous_size] unclipped samples, what PPO evaluates
    discrete: np.ndarray  # [n, num_branches]
    log_probs: np.ndarray  # [n, continuous_size + num_branches]
    action_masks: np.ndarray  # [n, sum(branch sizes)], 1 = allowed
    entropy: np.ndarray  # [n]
    agent_ids: np.ndarray  # [n]


def allowed_action_mask(decision_steps: DecisionSteps, branch_sizes: Sequence[int]) -> np.ndarray:
    """ML-Agents masks (True = disabled, one array per branch) as [n, sum(branches)], 1 = allowed."""
    if decision_steps.action_mask is None:
        return np.ones((len(decision_steps), sum(branch_sizes)), dtype=np.float32)
    return 1.0 - np.concatenate(decision_steps.action_mask, axis=1).astype(np.float32)


class Policy:
    """Wraps an :class:`Actor`; all agents of a behavior are evaluated together."""

    def __init__(
        self, behavior_spec: BehaviorSpec, actor: Actor, device: torch.device, deterministic: bool = False
    ):
        self.behavior_spec = behavior_spec
        self.device = device
        self.actor = actor.to(device)
        self.deterministic = deterministic
        self.branch_sizes = tuple(behavior_spec.action_spec.discrete_branches)

    def to_tensors(self, observations: Sequence[np.ndarray]) -> list[torch.Tensor]:
        return [torch.as_tensor(obs, dtype=torch.float32, device=self.device) for obs in observations]

    def mask_tensor(self, masks: np.ndarray) -> torch.Tensor | None:
        return torch.as_tensor(masks, device=self.device) if self.branch_sizes else None

    @torch.inference_mode()
    def get_action(self, decision_steps: DecisionSteps) -> ActionInfo:
        """Sample actions for all agents in ``decision_steps`` with one forward pass."""
        masks = allowed_action_mask(decision_steps, self.branch_sizes)
        sample = self.actor(self.to_tensors(decision_steps.obs), self.mask_tensor(masks), self.deterministic)
        continuous = sample.continuous.cpu().numpy()
        discrete = sample.discrete.cpu().numpy()
        env_action = ActionTuple(
            continuous=clip_continuous(sample.continuous).cpu().numpy(), discrete=discrete.astype(np.int32)
        )
        return ActionInfo(
            env_action=env_action,
            continuous=continuous,
            discrete=discrete,
            log_probs=sample.log_probs.cpu().numpy(),
            action_masks=masks,
            entropy=sample.entropy.cpu().numpy(),
            agent_ids=decision_steps.agent_id,
        )

    def update_normalization(self, observations: Sequence[np.ndarray]) -> None:
        self.actor.update_normalization(self.to_tensors(observations))
