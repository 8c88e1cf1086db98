"""Exploring actions of an SB3 actor-critic policy (PPO, A2C), drawn with plain tensor maths.

SB3 builds a ``torch.distributions`` object for every batch it acts on; for the small networks RL uses,
building it and asking it for a sample, log-probabilities and the entropy costs more than the network's
forward pass. For the two distributions most policies use, a diagonal Gaussian (continuous actions) and a
categorical (one discrete branch), :func:`sample_actor_critic` draws from the same distribution with a few
tensor operations; for any other it asks SB3's own distribution.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from stable_baselines3.common.distributions import CategoricalDistribution, DiagGaussianDistribution
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.utils import obs_as_tensor

from rldojo_sb3.policy import SampledActions

__all__ = ["sample_actor_critic"]

LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


@torch.no_grad()
def sample_actor_critic(policy: ActorCriticPolicy, observations: Any) -> SampledActions:
    """Actions, their log-probabilities [n, 1] and the entropy [n] for a batch of ``observations`` (numpy,
    SB3's layout), sampled from ``policy``'s action distribution as ``policy.get_distribution`` would."""
    obs = obs_as_tensor(observations, policy.device)
    if policy.use_sde or type(policy.action_dist) not in (DiagGaussianDistribution, CategoricalDistribution):
        distribution = policy.get_distribution(obs)
        actions = distribution.get_actions()
        log_probs, entropy = distribution.log_prob(actions), distribution.entropy()
    else:
        actions, log_probs, entropy = _draw(policy, obs)
    return SampledActions(
        actions=actions.cpu().numpy(),
        log_probs=log_probs.cpu().numpy().reshape(-1, 1),
        entropy=np.zeros(0) if entropy is None else entropy.cpu().numpy(),
    )


def _draw(policy: ActorCriticPolicy, obs: Any) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(actions, log-probabilities [n], entropy [n]) of a diagonal Gaussian or categorical policy."""
    features = policy.extract_features(obs, policy.pi_features_extractor)
    assert isinstance(features, torch.Tensor)  # one extractor given: one tensor
    output = policy.action_net(policy.mlp_extractor.forward_actor(features))
    if isinstance(policy.action_dist, DiagGaussianDistribution):  # output: the mean
        log_std = policy.log_std.expand_as(output)
        noise = torch.randn_like(output)
        log_probs = (-0.5 * noise.square() - log_std - LOG_SQRT_2PI).sum(dim=1)
        return output + noise * log_std.exp(), log_probs, (0.5 + LOG_SQRT_2PI + log_std).sum(dim=1)
    all_log_probs = torch.log_softmax(output, dim=1)  # output: the logits
    probabilities = all_log_probs.exp()
    actions = torch.multinomial(probabilities, 1).squeeze(1)
    log_probs = all_log_probs.gather(1, actions[:, None]).squeeze(1)
    return actions, log_probs, -(probabilities * all_log_probs).sum(dim=1)
