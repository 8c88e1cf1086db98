"""OffPolicyTrainer: replay buffer filling, steps_per_update cadence, replay buffer in checkpoints."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from mlagents_envs.base_env import (
    ActionSpec,
)

from rldojo.checkpoint import save_trainer_checkpoint
from rldojo.networks import Actor, Critic
from rldojo.policy import Policy
from rldojo.settings import OffPolicyHyperparamSettings, TrainerSettings
from rldojo.trainers import OffPolicyTrainer, Optimizer
from rldojo.trajectory import Trajectory

from .specs import vector_spec

pytestmark = pytest.mark.smoke

SPEC = vector_spec(2, ActionSpec.create_discrete((2,)))


class ValueRegression(Optimizer):
    """A real (if simple) off-policy update: regress a critic on one-step TD targets."""

    def __init__(self, policy, trainer_settings):
        super().__init__(policy, trainer_settings)
        self.critic = Critic(["extrinsic"], SPEC.observation_specs, trainer_settings.network_settings)
        self.adam = torch.optim.Adam(self.critic.parameters(), lr=1e-2)
        self.batches = []

    def update(self, batch, step):
        self.batches.append(batch)
        with torch.no_grad():
            target = (
                batch["rewards"]
                + 0.9 * (1 - batch["dones"]) * self.critic([batch["next_obs_0"]])["extrinsic"]
            )
        loss = ((self.critic([batch["obs_0"]])["extrinsic"] - target) ** 2).mean()
        self.adam.zero_grad()
        loss.backward()
        self.adam.step()
        return {"Losses/Value Loss": loss.item()}

    def get_modules(self):
        return {"Optimizer:critic": self.critic, "Optimizer:adam": self.adam}


class ValueTrainer(OffPolicyTrainer):
    def create_policy(self, parsed_behavior_id, behavior_spec):
        actor = Actor(
            behavior_spec.observation_specs, self.trainer_settings.network_settings, behavior_spec.action_spec
        )
        return Policy(behavior_spec, actor, torch.device("cpu"))

    def create_optimizer(self):
        return ValueRegression(self.policy, self.trainer_settings)


def make_trainer(tmp_path, resume=False, **hyperparameters) -> ValueTrainer:
    settings = TrainerSettings.model_validate(
        {
            "trainer_type": "value",
            "hyperparameters": {
                "batch_size": 4,
                "buffer_size": 16,
                "buffer_init_steps": 4,
                "save_replay_buffer": True,
                **(hyperparameters or {"steps_per_update": 2}),
            },
            "network_settings": {"hidden_units": 8, "num_layers": 1},
            "summary_freq": 1000,
        },
        context={"trainer_settings": {"value": OffPolicyHyperparamSettings}},
    )
    trainer = ValueTrainer("Walker", 1, settings, True, resume, 0, tmp_path / "Walker")
    trainer.add_policy("Walker?team=0", trainer.create_policy("Walker?team=0", SPEC))
    return trainer


def trajectory(start: int, length: int, done: bool) -> Trajectory:
    obs = np.arange(start, start + length, dtype=np.float32)[:, None].repeat(2, axis=1)
    return Trajectory(
        obs=[obs],
        next_obs=[np.full((1, 2), start + length, dtype=np.float32)],
        continuous_actions=np.zeros((length, 0), dtype=np.float32),
        discrete_actions=np.zeros((length, 1), dtype=np.int64),
        log_probs=np.zeros((length, 1), dtype=np.float32),
        action_masks=np.ones((length, 2), dtype=np.float32),
        rewards=np.ones(length, dtype=np.float32),
        done_reached=done,
        truncated=False,
        episode_return=float(start + length),  # one reward per step since the episode started
        episode_length=start + length,
        agent_id="agent_0-1",
        behavior_id="Walker?team=0",
    )


def test_updates_follow_steps_per_update_after_buffer_init_steps(tmp_path):
    trainer = make_trainer(tmp_path)
    trainer.trajectory_queue.append(trajectory(0, 4, done=False))
    trainer.advance()
    assert trainer.optimizer.batches == []  # 4 steps: (4 - 4) / 1 is not above 2
    trainer.trajectory_queue.append(trajectory(4, 16, done=True))
    trainer.advance()
    # 20 steps, 4 initial: updates while 16 / update_steps > 2, i.e. 7 updates
    assert len(trainer.optimizer.batches) == 7 and trainer.update_steps == 8
    batch = trainer.optimizer.batches[0]
    assert batch["obs_0"].shape == (4, 2)
    # transitions are consistent: next_obs is obs + 1, and only the episode's last step is terminal
    torch.testing.assert_close(batch["next_obs_0"], batch["obs_0"] + 1)
    torch.testing.assert_close(batch["dones"], (batch["obs_0"][:, 0] == 19).float())


@pytest.mark.parametrize(
    ("train_freq", "gradient_steps", "updates"),
    [
        (8, 3, [3, 6, 9, 12]),  # periods of 8 steps end at 8, 16, 24, 32: all past buffer_init_steps 4
        ([8, "step"], -1, [4, 12, 20, 28]),  # -1: one update per step since the last burst (or step 4)
        ([2, "episode"], 5, [0, 0, 5, 5]),  # episodes end at 16, 24 and 32
    ],
)
def test_train_freq_bursts_of_gradient_steps(tmp_path, train_freq, gradient_steps, updates):
    trainer = make_trainer(tmp_path, train_freq=train_freq, gradient_steps=gradient_steps, buffer_size=64)
    seen = []
    for start, length, done in [(0, 8, False), (8, 8, True), (0, 8, True), (0, 8, True)]:
        trainer.trajectory_queue.append(trajectory(start, length, done))
        trainer.advance()
        seen.append(len(trainer.optimizer.batches))
    assert seen == updates


def test_a_burst_draws_the_batches_that_one_draw_per_update_would(tmp_path):
    trainer = make_trainer(tmp_path, train_freq=8, gradient_steps=3, buffer_size=64)
    trainer.trajectory_queue.append(trajectory(0, 20, done=True))
    trainer.advance()
    torch.manual_seed(5)
    burst = trainer._sample_burst(3)
    torch.manual_seed(5)
    one_by_one = [trainer._sample() for _ in range(3)]
    assert len(burst) == 3 and set(burst[0]) == set(one_by_one[0])
    for together, alone in zip(burst, one_by_one, strict=True):
        for key, column in alone.items():
            assert torch.equal(together[key], column), key
    assert burst[0]["obs_0"].shape == (4, 2)


def test_gradient_steps_without_train_freq_is_one_line(tmp_path):
    with pytest.raises(ValueError, match="gradient_steps 4 needs train_freq"):
        make_trainer(tmp_path, gradient_steps=4)


def test_finished_episodes_reach_the_reward_buffer_with_their_whole_return(tmp_path):
    trainer = make_trainer(tmp_path)
    trainer.trajectory_queue.append(trajectory(0, 4, done=False))
    trainer.trajectory_queue.append(trajectory(4, 3, done=True))
    trainer.advance()
    assert list(trainer.reward_buffer) == [7.0]


def test_replay_buffer_and_update_count_survive_a_checkpoint(tmp_path):
    trainer = make_trainer(tmp_path)
    trainer.trajectory_queue.append(trajectory(0, 20, done=True))
    trainer.advance()
    state = trainer.checkpoint_state()
    save_trainer_checkpoint(trainer.artifact_path, "Walker", trainer.get_step, state, 5, None)
    resumed = make_trainer(tmp_path, resume=True)
    assert resumed.get_step == 20 and resumed.update_steps == trainer.update_steps
    assert resumed.replay_buffer.num_experiences == 16
    for key, column in trainer.replay_buffer.state_dict()["columns"].items():
        torch.testing.assert_close(resumed.replay_buffer.state_dict()["columns"][key], column)
    torch.testing.assert_close(
        resumed.optimizer.adam.state_dict()["state"][0]["exp_avg"],
        trainer.optimizer.adam.state_dict()["state"][0]["exp_avg"],
    )
