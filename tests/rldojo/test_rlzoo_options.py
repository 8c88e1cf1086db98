"""RL Zoo / SB3 options in rldojo's YAML: each changes what it says, and its absence keeps ML-Agents'
behaviour (scripts/default_stats.py compares whole runs before and after)."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

import rldojo_sim
from rldojo.errors import ConfigError
from rldojo.settings import TrainerSettings, load_run_options
from rldojo.trainers.a2c import A2CSettings, A2CTrainer
from rldojo.trainers.dqn import DQNSettings, DQNTrainer
from rldojo.trainers.ppo import PPOSettings, PPOTrainer
from rldojo.trainers.sac import SACSettings, SACTrainer

pytestmark = pytest.mark.smoke

TRAINERS = {
    "ppo": (PPOTrainer, PPOSettings, "Basic"),
    "a2c": (A2CTrainer, A2CSettings, "Basic"),
    "sac": (SACTrainer, SACSettings, "3DBall"),
    "dqn": (DQNTrainer, DQNSettings, "Basic"),
}
ROWS = 256


def scene_spec(scene: str):
    env = rldojo_sim.make_env(scene)
    env.reset()
    spec = env.behavior_specs[f"{scene}?team=0"]
    env.close()
    return spec


def make_trainer(tmp_path, trainer_type="ppo", network=None, max_steps=500000, **hyperparameters):
    trainer_class, settings_class, scene = TRAINERS[trainer_type]
    settings = TrainerSettings.model_validate(
        {
            "trainer_type": trainer_type,
            "network_settings": {"hidden_units": 8, "num_layers": 1, **(network or {})},
            "hyperparameters": hyperparameters,
            "max_steps": max_steps,
        },
        context={"trainer_settings": {trainer_type: settings_class}},
    )
    trainer = trainer_class(scene, 1, settings, True, False, 0, tmp_path / scene)
    trainer.add_policy(f"{scene}?team=0", trainer.create_policy(f"{scene}?team=0", scene_spec(scene)))
    return trainer


def fill_update_buffer(trainer, advantages: np.ndarray) -> None:
    """``len(advantages)`` decisions of Basic (random cells and moves) with the given advantages."""
    rng = np.random.default_rng(0)
    rows = len(advantages)
    obs = np.eye(20, dtype=np.float32)[rng.integers(0, 20, rows)]
    actions = rng.integers(0, 3, (rows, 1))
    masks = np.ones((rows, 3), dtype=np.float32)
    with torch.no_grad():
        log_probs, _ = trainer.policy.actor.evaluate(
            [torch.as_tensor(obs)], torch.as_tensor(masks), torch.zeros(rows, 0), torch.as_tensor(actions)
        )
    trainer.update_buffer.append(
        {
            "obs_0": obs,
            "continuous_actions": np.zeros((rows, 0), np.float32),
            "discrete_actions": actions,
            "log_probs": log_probs.numpy(),
            "action_masks": masks,
            "advantages": advantages.astype(np.float32),
            "values_extrinsic": np.zeros(rows, np.float32),
            "returns_extrinsic": advantages.astype(np.float32),
        }
    )


def adam_steps(optimizer: torch.optim.Optimizer) -> int:
    return max((int(state["step"]) for state in optimizer.state.values()), default=0)


@pytest.mark.parametrize("trainer_type", list(TRAINERS))
def test_adam_eps_reaches_every_adam_of_every_trainer(tmp_path, trainer_type):
    default = make_trainer(tmp_path / "default", trainer_type)
    given = make_trainer(tmp_path / "given", trainer_type, adam_eps=1e-5)
    for trainer, eps in ((default, 1e-8), (given, 1e-5)):
        adams = [module for module in trainer.get_modules().values() if isinstance(module, torch.optim.Adam)]
        assert adams
        assert {group["eps"] for adam in adams for group in adam.param_groups} == {eps}


def test_target_kl_stops_the_epochs_at_the_first_minibatch_past_it(tmp_path):
    advantages = np.random.default_rng(1).normal(size=ROWS)
    steps = {}
    for target_kl in (None, 1e-6):
        trainer = make_trainer(
            tmp_path / str(target_kl), batch_size=64, buffer_size=ROWS, num_epoch=4, learning_rate=0.01,
            target_kl=target_kl,
        )  # fmt: skip
        fill_update_buffer(trainer, advantages)
        trainer._update_policy()
        steps[target_kl] = adam_steps(trainer.optimizer.optimizer)
    # the first minibatch sees the collecting policy itself (KL 0) and steps; the second one is past it
    assert steps == {None: 4 * ROWS // 64, 1e-6: 1}


def test_clip_range_decays_to_epsilon_final(tmp_path):
    decayed = {}
    for final in (None, 0.0):
        extra = {} if final is None else {"epsilon_final": final}
        trainer = make_trainer(tmp_path / str(final), max_steps=1000, epsilon_schedule="linear", **extra)
        decayed[final] = [trainer.optimizer.decay_epsilon(step) for step in (0, 500, 1000, 2000)]
    assert decayed[None] == pytest.approx([0.2, 0.15, 0.1, 0.1])  # ML-Agents stops at 0.1
    assert decayed[0.0] == pytest.approx([0.2, 0.1, 0.0, 0.0])  # SB3's linear clip_range reaches 0


@pytest.mark.parametrize("trainer_type", ["ppo", "a2c"])
def test_vf_coef_zero_leaves_the_critic_alone(tmp_path, trainer_type):
    changed = {}
    for vf_coef in (0.5, 0.0):
        trainer = make_trainer(tmp_path / str(vf_coef), trainer_type, batch_size=64, buffer_size=64,
                               learning_rate=0.01, vf_coef=vf_coef)  # fmt: skip
        fill_update_buffer(trainer, np.linspace(-1.0, 3.0, 64))
        before = [p.clone() for p in trainer.optimizer.critic.parameters()]
        trainer._update_policy()
        after = list(trainer.optimizer.critic.parameters())
        changed[vf_coef] = any(not torch.equal(a, b) for a, b in zip(before, after, strict=True))
    assert changed == {0.5: True, 0.0: False}


@pytest.mark.parametrize("normalization", ["buffer", "minibatch", "none"])
def test_advantage_normalization(tmp_path, normalization):
    trainer = make_trainer(tmp_path, batch_size=64, buffer_size=ROWS, num_epoch=1,
                           advantage_normalization=normalization)  # fmt: skip
    raw = np.random.default_rng(2).normal(3.0, 2.0, size=ROWS)
    fill_update_buffer(trainer, raw)
    seen = []
    update = trainer.optimizer.update
    trainer.optimizer.update = lambda batch, step: seen.append(batch["advantages"]) or update(batch, step)
    trainer._update_policy()
    means = [float(advantages.mean()) for advantages in seen]
    epoch = torch.cat(seen)
    if normalization == "minibatch":
        assert means == pytest.approx([0.0] * 4, abs=1e-5)
    elif normalization == "buffer":
        assert float(epoch.mean()) == pytest.approx(0.0, abs=1e-5)
        assert float(epoch.std()) == pytest.approx(1.0, abs=1e-4)
        assert max(abs(mean) for mean in means) > 1e-3  # minibatches keep their own offsets
    else:
        assert sorted(epoch.tolist()) == pytest.approx(sorted(raw.tolist()), abs=1e-5)


BAD_OPTIONS = {
    "adam_eps: 0": "behaviors.Basic.hyperparameters.adam_eps: Input should be greater than 0",
    "epsilon_final: -0.1": "behaviors.Basic.hyperparameters.epsilon_final: Input should be greater than or "
    "equal to 0",
    "target_kl: 0": "behaviors.Basic.hyperparameters.target_kl: Input should be greater than 0",
    "vf_coef: -1": "behaviors.Basic.hyperparameters.vf_coef: Input should be greater than or equal to 0",
    "advantage_normalization: batch": "behaviors.Basic.hyperparameters.advantage_normalization: Input "
    "should be 'buffer', 'minibatch' or 'none'",
}


@pytest.mark.parametrize("option", list(BAD_OPTIONS))
def test_bad_values_are_one_line_naming_the_key(tmp_path, option):
    config = tmp_path / "bad.yaml"
    config.write_text(f"behaviors:\n  Basic:\n    hyperparameters: {{{option}}}\n")
    with pytest.raises(ConfigError) as error:
        load_run_options(config)
    message = str(error.value)
    assert "\n" not in message
    assert re.search(re.escape(BAD_OPTIONS[option]), message), message
