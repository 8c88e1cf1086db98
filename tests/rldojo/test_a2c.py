"""A2C parts: ML-Agents' settings and defaults, num_epoch = 1 enforced, one gradient step per minibatch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from mlagents_envs.base_env import (
    ActionSpec,
)

from rldojo.errors import ConfigError
from rldojo.settings import ScheduleType, TrainerSettings, load_run_options
from rldojo.trainers.a2c import A2CSettings, A2CTrainer
from rldojo.trajectory import Trajectory

from .specs import vector_spec

pytestmark = pytest.mark.smoke

SPEC = vector_spec(4, ActionSpec(1, (3,)))


def test_defaults_are_ml_agents_a2c_defaults():
    hp = A2CSettings()
    assert (hp.batch_size, hp.buffer_size, hp.learning_rate, hp.num_epoch) == (1024, 10240, 3e-4, 1)
    assert (hp.beta, hp.lambd, hp.shared_critic) == (5e-3, 0.95, False)
    assert hp.learning_rate_schedule == hp.beta_schedule == ScheduleType.LINEAR


def test_num_epoch_other_than_one_is_a_one_line_config_error(tmp_path):
    config = tmp_path / "a2c.yaml"
    config.write_text(
        "behaviors:\n  3DBall:\n    trainer_type: a2c\n    hyperparameters:\n      num_epoch: 3\n"
    )
    with pytest.raises(ConfigError) as raised:
        load_run_options(config)
    assert str(raised.value) == (
        f"{config}: behaviors.3DBall.hyperparameters.num_epoch: A2C requires num_epoch = 1 (got 3); "
        "remove num_epoch or use trainer_type ppo"
    )


def make_trainer(tmp_path, **hyperparameters) -> A2CTrainer:
    settings = TrainerSettings.model_validate(
        {
            "trainer_type": "a2c",
            "hyperparameters": hyperparameters,
            "network_settings": {"hidden_units": 16, "num_layers": 1},
        },
        context={"trainer_settings": {"a2c": A2CSettings}},
    )
    trainer = A2CTrainer("Hybrid", 1, settings, True, False, 0, tmp_path / "Hybrid")
    trainer.add_policy("Hybrid?team=0", trainer.create_policy("Hybrid?team=0", SPEC))
    return trainer


def trajectory(agent: int, length: int, reward: float, discrete: int) -> Trajectory:
    """One finished episode that always took discrete action ``discrete`` and got ``reward`` per step."""
    obs = np.ones((length, 4), np.float32)
    return Trajectory(
        obs=[obs],
        next_obs=[obs[:1]],
        continuous_actions=np.zeros((length, 1), np.float32),
        discrete_actions=np.full((length, 1), discrete, np.int64),
        log_probs=np.full((length, 2), -1.0, np.float32),
        action_masks=np.ones((length, 3), np.float32),
        rewards=np.full(length, reward, np.float32),
        done_reached=True,
        truncated=False,
        episode_return=reward * length,
        episode_length=length,
        agent_id=str(agent),
        behavior_id="Hybrid?team=0",
    )


def discrete_probabilities(trainer: A2CTrainer) -> torch.Tensor:
    assert trainer.policy is not None
    obs = [torch.ones(1, 4)]
    with torch.no_grad():
        hidden = trainer.policy.actor.encoder(obs)
        return torch.softmax(trainer.policy.actor.action_head.logits(hidden), dim=1)[0]


def test_one_pass_of_minibatches_makes_the_rewarded_action_more_likely(tmp_path):
    trainer = make_trainer(tmp_path, batch_size=16, buffer_size=40, learning_rate=0.01)
    before = discrete_probabilities(trainer)
    for agent in range(6):  # action 2 earns 1 per step, action 0 nothing
        trainer.trajectory_queue.append(trajectory(agent, 8, float(agent % 2), 2 if agent % 2 else 0))
    trainer.advance()
    after = discrete_probabilities(trainer)
    assert trainer.update_buffer.num_experiences == 0  # the experience was used once, then dropped
    adam_steps = {int(state["step"]) for state in trainer.optimizer.optimizer.state.values()}
    assert adam_steps == {48 // 16}  # one gradient step per minibatch, a single epoch
    assert after[2] > before[2] and after[0] < before[0]
