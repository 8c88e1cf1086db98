"""The bridge's own draw from an SB3 actor-critic policy is SB3's distribution: same log-probabilities and
entropy for the actions it draws, and samples that follow it."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest
import torch
from stable_baselines3 import PPO

from rldojo_sb3.sampling import sample_actor_critic


@pytest.mark.parametrize("env_id", ["Pendulum-v1", "CartPole-v1"])
def test_drawn_actions_follow_sb3s_distribution(env_id):
    model = PPO("MlpPolicy", gymnasium.make(env_id), policy_kwargs={"net_arch": [16]}, seed=1, device="cpu")
    policy = model.policy
    obs = np.repeat(model.observation_space.sample()[None], 20000, axis=0)
    sampled = sample_actor_critic(policy, obs)
    with torch.no_grad():
        distribution = policy.get_distribution(torch.as_tensor(obs))
        actions = torch.as_tensor(sampled.actions)
        expected_log_probs = distribution.log_prob(actions).numpy()
        expected_entropy = distribution.entropy().numpy()
    np.testing.assert_allclose(sampled.log_probs[:, 0], expected_log_probs, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(sampled.entropy, expected_entropy, rtol=1e-5)
    reference = distribution.get_actions().numpy()  # SB3's own draws for the same observations
    assert sampled.actions.shape == reference.shape
    np.testing.assert_allclose(sampled.actions.mean(0), reference.mean(0), atol=0.06)
    np.testing.assert_allclose(sampled.actions.std(0), reference.std(0), atol=0.06)
