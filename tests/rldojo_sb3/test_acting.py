"""How the off-policy bridge acts: DQN epsilon-greedy as SB3's ``predict`` (no network pass while every agent
explores, the greedy action otherwise), with the policy in evaluation mode after each ``train()``."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rldojo.plugins import trainer_types
from rldojo.settings import TrainerSettings
from rldojo_sb3.trainer import SB3OffPolicyTrainer

from .core_helpers import onnx_checks

pytestmark = pytest.mark.smoke


@pytest.fixture
def dqn(tmp_path) -> SB3OffPolicyTrainer:
    """An sb3_dqn trainer of Basic's behavior (discrete actions), its policy created."""
    settings = TrainerSettings.model_validate(
        {"trainer_type": "sb3_dqn", "network_settings": {"hidden_units": 16, "num_layers": 1}}
    )
    trainer = trainer_types()["sb3_dqn"].trainer_class("Basic", 1, settings, True, False, 0, tmp_path)
    assert isinstance(trainer, SB3OffPolicyTrainer)
    trainer.add_policy("Basic", trainer.create_policy("Basic", onnx_checks.BASIC))
    return trainer


def observations(trainer: SB3OffPolicyTrainer, agents: int) -> np.ndarray:
    space = trainer.model.observation_space
    return np.stack([space.sample() for _ in range(agents)]).astype(np.float32)


def greedy(trainer: SB3OffPolicyTrainer, obs: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return trainer.model.q_net(torch.as_tensor(obs)).argmax(dim=1).numpy()


def count_network_passes(trainer: SB3OffPolicyTrainer) -> list[int]:
    passes = [0]
    trainer.model.q_net.register_forward_hook(lambda *_: passes.__setitem__(0, passes[0] + 1))
    return passes


def test_dqn_without_exploration_takes_the_greedy_action_of_every_agent(dqn):
    dqn.model.exploration_rate = 0.0
    obs = observations(dqn, 64)
    sampled = dqn.sample_actions(obs)
    assert sampled.actions.shape == (64, 1)
    np.testing.assert_array_equal(sampled.actions[:, 0], greedy(dqn, obs))


def test_dqn_runs_no_network_while_every_agent_explores(dqn):
    passes = count_network_passes(dqn)
    dqn.model.exploration_rate = 1.0
    drawn = np.concatenate([dqn.sample_actions(observations(dqn, 1)).actions[:, 0] for _ in range(300)])
    assert passes[0] == 0
    assert set(drawn) == set(range(dqn.model.action_space.n))  # uniform over the actions
    dqn.model.exploration_rate = 0.5
    for _ in range(50):
        dqn.sample_actions(observations(dqn, 1))
    assert 0 < passes[0] < 50  # one pass for each greedy draw, none for the exploring ones


def test_the_policy_acts_in_evaluation_mode_before_and_after_train(dqn):
    assert not dqn.model.policy.training
    dqn._train(lambda: dqn.model.policy.set_training_mode(True))  # SB3's train() leaves it training
    assert not dqn.model.policy.training
    assert not dqn.model.q_net.training
