"""PPOTrainer: updates follow the advantages; shared_critic; --initialize-from versus --resume."""

from __future__ import annotations

import pytest
import torch

import rldojo_sim
from rldojo.checkpoint import load_checkpoint, save_trainer_checkpoint
from rldojo.settings import TrainerSettings
from rldojo.trainers.ppo import PPOSettings, PPOTrainer

pytestmark = pytest.mark.smoke


def basic_spec():
    env = rldojo_sim.make_env("Basic")
    env.reset()
    spec = env.behavior_specs["Basic?team=0"]
    env.close()
    return spec


def make_trainer(path, resume=False, init_path=None, **hyperparameters) -> PPOTrainer:
    settings = TrainerSettings.model_validate(
        {
            "network_settings": {"hidden_units": 8, "num_layers": 1, "normalize": True},
            "init_path": init_path,
            "hyperparameters": hyperparameters,
        },
        context={"trainer_settings": {"ppo": PPOSettings}},
    )
    trainer = PPOTrainer("Basic", 1, settings, True, resume, 0, path)
    trainer.add_policy("Basic?team=0", trainer.create_policy("Basic?team=0", basic_spec()))
    return trainer


def test_initialize_from_copies_networks_but_not_steps_or_optimizer(tmp_path):
    source = make_trainer(tmp_path / "src" / "Basic")
    source.policy.actor.encoder.processors[0].normalizer.update(torch.rand(10, 20))
    source.optimizer.optimizer.state[next(iter(source.policy.actor.parameters()))] = {
        "step": torch.tensor(5.0)
    }
    source._step = 1234
    saved = save_trainer_checkpoint(source.artifact_path, "Basic", 1234, source.checkpoint_state(), 5, None)
    target = make_trainer(tmp_path / "dst" / "Basic", init_path=str(saved))
    assert target.get_step == 0
    assert target.optimizer.optimizer.state_dict()["state"] == {}
    for key, value in load_checkpoint(saved)["modules"]["Policy"].items():
        torch.testing.assert_close(target.policy.actor.state_dict()[key], value)
    critic = load_checkpoint(saved)["modules"]["Optimizer:critic"]
    torch.testing.assert_close(target.optimizer.critic.state_dict(), critic)

    resumed = make_trainer(tmp_path / "src" / "Basic", resume=True)
    assert resumed.get_step == 1234
    assert resumed.optimizer.optimizer.state_dict()["state"][0]["step"] == 5.0


def right_moves_batch(trainer: PPOTrainer, advantage: float) -> dict[str, torch.Tensor]:
    """64 decisions at cell 10 that all moved right (action 2), with the given advantage."""
    obs = torch.zeros(64, 20)
    obs[:, 10] = 1.0
    actions = torch.full((64, 1), 2, dtype=torch.long)
    masks = torch.ones(64, 3)
    with torch.no_grad():
        log_probs, _ = trainer.policy.actor.evaluate([obs], masks, torch.zeros(64, 0), actions)
    return {
        "obs_0": obs,
        "discrete_actions": actions,
        "continuous_actions": torch.zeros(64, 0),
        "action_masks": masks,
        "log_probs": log_probs,
        "advantages": torch.full((64,), advantage),
        "values_extrinsic": torch.zeros(64),
        "returns_extrinsic": torch.full((64,), advantage),
    }


@pytest.mark.parametrize(("advantage", "direction"), [(1.0, 1), (-1.0, -1)])
def test_update_makes_advantageous_actions_more_likely(tmp_path, advantage, direction):
    trainer = make_trainer(tmp_path / "Basic", learning_rate=1e-2, beta=0.0)
    batch = right_moves_batch(trainer, advantage)
    before = batch["log_probs"].mean()
    for _ in range(5):
        stats = trainer.optimizer.update(batch, step=0)
    with torch.no_grad():
        after, _ = trainer.policy.actor.evaluate(
            [batch["obs_0"]], batch["action_masks"], batch["continuous_actions"], batch["discrete_actions"]
        )
    assert direction * (after.mean() - before) > 0.01
    assert set(stats) == {
        "Losses/Policy Loss",
        "Losses/Value Loss",
        "Policy/Learning Rate",
        "Policy/Epsilon",
        "Policy/Beta",
    }


def test_shared_critic_puts_value_heads_on_the_policy_body(tmp_path):
    trainer = make_trainer(tmp_path / "Basic", shared_critic=True)
    assert trainer.optimizer.critic.encoder is trainer.policy.actor.encoder
    optimized = [p for group in trainer.optimizer.optimizer.param_groups for p in group["params"]]
    unique = {id(p) for p in [*trainer.policy.actor.parameters(), *trainer.optimizer.critic.parameters()]}
    assert len(optimized) == len(unique)


def test_schedules_decay_linearly_over_max_steps(tmp_path):
    trainer = make_trainer(tmp_path / "Basic", learning_rate_schedule="linear", epsilon_schedule="constant")
    stats = trainer.optimizer.update(right_moves_batch(trainer, 1.0), step=trainer.get_max_steps // 2)
    assert stats["Policy/Learning Rate"] == pytest.approx(1.5e-4, rel=1e-3)
    assert stats["Policy/Epsilon"] == 0.2
    assert stats["Policy/Beta"] == pytest.approx((5e-3 - 1e-5) / 2 + 1e-5)


def test_a_linear_beta_of_zero_keeps_the_entropy_bonus_off(tmp_path):
    """RL Zoo's ``ent_coef: 0`` is ``beta: 0``; ML-Agents' schedule would raise it towards its 1e-5 floor."""
    trainer = make_trainer(tmp_path / "Basic", beta=0.0, beta_schedule="linear")
    for step in (0, trainer.get_max_steps // 2, trainer.get_max_steps):
        assert trainer.optimizer.update(right_moves_batch(trainer, 1.0), step=step)["Policy/Beta"] == 0.0
