"""The SB3 policy as a network called like rldojo's Actor: ``network(observations, masks, deterministic)``.

rldojo's ONNX exporter and ``rldojo evaluate`` use it unchanged. It gives the deterministic action (the
Gaussian mean, the tanh-squashed actor output, the most likely or greedy discrete action) for both
``deterministic`` values, so both ONNX action outputs are the deterministic action. Discrete actions
honour Unity's action masks (SB3 itself trains without masks).
"""

from __future__ import annotations

from typing import Any

import torch
from mlagents_envs.base_env import BehaviorSpec
from stable_baselines3.common.policies import BasePolicy
from torch import nn

from rldojo.networks.action_heads import CONTINUOUS_CLIP, ActionSample

__all__ = ["SB3PolicyNetwork", "observation_input"]

MASKED_SCORE = 1e9


def observation_input(
    observations: list[torch.Tensor], keys: list[str] | None
) -> torch.Tensor | dict[str, torch.Tensor]:
    """The SB3 policy's input: one tensor, or a dict by sensor key for several observations."""
    return observations[0] if keys is None else dict(zip(keys, observations, strict=True))


def deterministic_output(policy: Any, obs: torch.Tensor | dict[str, torch.Tensor]) -> torch.Tensor:
    """Continuous actions in [-1, 1] or discrete scores (logits, Q-values); ``policy`` is any SB3 policy."""
    if hasattr(policy, "mlp_extractor"):  # PPO, A2C: action_net gives the Gaussian mean or the logits
        features = policy.extract_features(obs, policy.pi_features_extractor)
        output = policy.action_net(policy.mlp_extractor.forward_actor(features))
        return torch.tanh(output) if policy.squash_output else output
    if hasattr(policy, "quantile_net"):  # QR-DQN: mean over quantiles
        return policy.quantile_net(obs).mean(dim=1)
    if hasattr(policy, "q_net"):  # DQN
        return policy.q_net(obs)
    actor = policy.actor
    if hasattr(actor, "get_action_dist_params"):  # SAC, TQC: the squashed mean
        mean, _, _ = actor.get_action_dist_params(obs)
        return torch.tanh(mean)
    return actor(obs)  # TD3


class SB3PolicyNetwork(nn.Module):
    """Wraps ``policy`` (its state dict is the checkpoint's ``Policy``)."""

    def __init__(self, policy: BasePolicy, spec: BehaviorSpec, observation_keys: list[str] | None):
        super().__init__()
        self.policy = policy
        self.observation_keys = observation_keys
        self.continuous_size = spec.action_spec.continuous_size
        self.branches = tuple(spec.action_spec.discrete_branches)

    def forward(
        self, observations: list[torch.Tensor], masks: torch.Tensor | None, deterministic: bool = True
    ) -> ActionSample:
        output = deterministic_output(self.policy, observation_input(observations, self.observation_keys))
        batch = output.shape[0]
        empty = output.new_zeros((batch, 0))
        if self.continuous_size:
            # rldojo's actors give actions that clip_continuous maps to the environment's [-1, 1]
            continuous = torch.clamp(output, -1.0, 1.0) * CONTINUOUS_CLIP
            discrete = torch.zeros((batch, 0), dtype=torch.int64, device=output.device)
        else:
            continuous, discrete = empty, self._masked_argmax(output, masks)
        return ActionSample(continuous, discrete, log_probs=empty, entropy=output.new_zeros(batch))

    def _masked_argmax(self, scores: torch.Tensor, masks: torch.Tensor | None) -> torch.Tensor:
        if masks is not None:
            scores = scores - (1.0 - masks) * MASKED_SCORE
        choices, start = [], 0
        for size in self.branches:
            choices.append(torch.argmax(scores[:, start : start + size], dim=1, keepdim=True))
            start += size
        return torch.cat(choices, dim=1)
