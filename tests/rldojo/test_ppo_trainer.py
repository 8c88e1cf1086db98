"""--initialize-from loads network weights only: steps and optimizer state start fresh."""

from __future__ import annotations

import pytest
import torch

import rldojo_sim
from rldojo.checkpoint import load_checkpoint
from rldojo.settings import TrainerSettings
from rldojo.trainers.ppo import PPOSettings, PPOTrainer

pytestmark = pytest.mark.smoke


def basic_spec():
    env = rldojo_sim.make_env("Basic")
    env.reset()
    spec = env.behavior_specs["Basic?team=0"]
    env.close()
    return spec


def make_trainer(path, load=False, init_path=None) -> PPOTrainer:
    settings = TrainerSettings.model_validate(
        {"network_settings": {"hidden_units": 8, "num_layers": 1, "normalize": True}, "init_path": init_path},
        context={"trainer_settings": {"ppo": PPOSettings}},
    )
    trainer = PPOTrainer("Basic", 1, settings, True, load, 0, path)
    trainer.add_policy("Basic?team=0", trainer.create_policy("Basic?team=0", basic_spec()))
    return trainer


def test_initialize_from_copies_networks_but_not_steps_or_optimizer(tmp_path):
    source = make_trainer(tmp_path / "src" / "Basic")
    source.policy.actor.encoder.processors[0].normalizer.update(torch.rand(10, 20))
    source.optimizer.optimizer.state[next(iter(source.policy.actor.parameters()))] = {
        "step": torch.tensor(5.0)
    }
    source._step = 1234
    saved = source.save_model()
    target = make_trainer(tmp_path / "dst" / "Basic", init_path=str(saved))
    assert target.get_step == 0
    assert target.optimizer.optimizer.state_dict()["state"] == {}
    for key, value in load_checkpoint(saved)["modules"]["Policy"].items():
        torch.testing.assert_close(target.policy.actor.state_dict()[key], value)
    critic = load_checkpoint(saved)["modules"]["Optimizer:critic"]
    torch.testing.assert_close(target.optimizer.critic.state_dict(), critic)

    resumed = make_trainer(tmp_path / "src" / "Basic", load=True)
    assert resumed.get_step == 1234
    assert resumed.optimizer.optimizer.state_dict()["state"][0]["step"] == 5.0
