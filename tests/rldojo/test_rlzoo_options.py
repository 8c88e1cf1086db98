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
from rldojo.trainers.reward_normalization import ReturnNormalizer
from rldojo.trainers.sac import SACSettings, SACTrainer
from rldojo.trajectory import Trajectory

from .trajectories import discrete_trajectory

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


def orthogonality(layer: torch.nn.Linear) -> torch.Tensor:
    """W W^T (or W^T W, the smaller one): gain^2 times the identity for an orthogonal init."""
    weight = layer.weight.detach()
    return weight @ weight.T if weight.shape[0] <= weight.shape[1] else weight.T @ weight


def test_ortho_init_uses_sb3_gains_and_zero_biases(tmp_path):
    trainer = make_trainer(tmp_path / "ortho", network={"ortho_init": True, "hidden_units": 16})
    actor, critic = trainer.policy.actor, trainer.optimizer.critic
    for layer, gain in (
        (actor.encoder.body[0], 2**0.5),
        (actor.action_head.logits, 0.01),
        (critic.encoder.body[0], 2**0.5),
        (critic.value_heads, 1.0),
    ):
        product = orthogonality(layer)
        torch.testing.assert_close(product, gain**2 * torch.eye(len(product)), atol=1e-5, rtol=1e-4)
        assert not layer.bias.any()
    default = make_trainer(tmp_path / "default", network={"hidden_units": 16}).policy.actor.encoder.body[0]
    assert not torch.allclose(orthogonality(default), 2 * torch.eye(16), atol=0.1)


def test_log_std_init_sets_the_initial_gaussian_spread(tmp_path):
    ball = scene_spec("3DBall")
    settings = TrainerSettings.model_validate(
        {"network_settings": {"log_std_init": -0.5}}, context={"trainer_settings": {"ppo": PPOSettings}}
    )
    trainer = PPOTrainer("3DBall", 1, settings, True, False, 0, tmp_path / "3DBall")
    trainer.add_policy("3DBall?team=0", trainer.create_policy("3DBall?team=0", ball))
    torch.testing.assert_close(trainer.policy.actor.action_head.log_std, torch.full((1, 2), -0.5))


@pytest.mark.parametrize("trainer_type", ["ppo", "sac"])
def test_critic_gets_its_own_size(tmp_path, trainer_type):
    critic_size = {"critic": {"hidden_units": 32, "num_layers": 3}}
    trainer = make_trainer(tmp_path, trainer_type, network=critic_size)
    optimizer = trainer.optimizer
    critic = optimizer.critic if trainer_type == "ppo" else optimizer.value_network
    layers = [m for m in critic.encoder.body if isinstance(m, torch.nn.Linear)]
    assert [layer.out_features for layer in layers] == [32, 32, 32]
    if trainer_type == "sac":  # the twin Q networks, stacked
        assert [layer.weight.shape[-1] for layer in optimizer.q_networks.body] == [32, 32, 32]
    assert trainer.policy.actor.encoder.output_size == 8  # the policy keeps hidden_units 8, one layer


def test_a_shared_critic_cannot_have_its_own_size(tmp_path):
    with pytest.raises(
        ConfigError, match=re.escape("network_settings.critic sizes a critic of its own, but shared_critic")
    ):
        make_trainer(tmp_path, network={"critic": {"hidden_units": 32}}, shared_critic=True)


def test_policy_initialisation_options_are_refused_where_unused(tmp_path):
    config = tmp_path / "sac.yaml"
    config.write_text(
        "behaviors:\n  Ball:\n    trainer_type: sac\n    network_settings: {ortho_init: true}\n"
    )
    message = (
        "behaviors.Ball.network_settings.ortho_init: network_settings.ortho_init sets up the policy and "
        "critic of ppo and a2c; trainer_type sac does not use it, so remove it"
    )
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_run_options(config)


def test_clip_obs_is_part_of_the_exported_model(tmp_path):
    import onnxruntime

    from rldojo.export import export_onnx
    from rldojo.networks import Actor
    from rldojo.settings import NetworkSettings

    ball = scene_spec("3DBall")
    size = ball.observation_specs[0].shape[0]
    far, farther = np.full((1, size), 1000.0, np.float32), np.full((1, size), 2000.0, np.float32)
    actions = {}
    for clip_obs in (2.0, 1.0e6):
        torch.manual_seed(0)
        actor = Actor(
            ball.observation_specs, NetworkSettings(normalize=True, clip_obs=clip_obs), ball.action_spec
        )
        actor.update_normalization([torch.randn(256, size)])
        path = export_onnx(actor, ball, tmp_path / f"{clip_obs}.onnx")
        session = onnxruntime.InferenceSession(str(path))
        actions[clip_obs] = [
            session.run(["deterministic_continuous_actions"], {"obs_0": o})[0] for o in (far, farther)
        ]
        with torch.no_grad():
            expected = actor([torch.as_tensor(far)], None, deterministic=True).continuous
        np.testing.assert_allclose(actions[clip_obs][0], np.clip(expected.numpy(), -3, 3) / 3, atol=1e-5)
    np.testing.assert_array_equal(*actions[2.0])  # both clipped to the same normalised observation
    assert not np.allclose(*actions[1.0e6])


@pytest.mark.parametrize("trainer_type", ["ppo", "a2c"])
@pytest.mark.parametrize(("rollout_cuts", "rows_to_update"), [(False, 17), (True, 16)])
def test_rollout_cuts_update_on_exactly_buffer_size_rows(
    tmp_path, trainer_type, rollout_cuts, rows_to_update
):
    """ML-Agents updates once the buffer holds more than buffer_size rows; with rollout_cuts, SB3's rule:
    once it holds buffer_size rows (one rollout of n_envs x n_steps)."""
    trainer = make_trainer(tmp_path, trainer_type, batch_size=16, buffer_size=16, rollout_cuts=rollout_cuts)
    fill_update_buffer(trainer, np.ones(rows_to_update - 1))
    assert not trainer._is_ready_update()
    fill_update_buffer(trainer, np.ones(1))
    assert trainer._is_ready_update()


def test_every_new_option_survives_a_dump_and_reload(tmp_path):
    """A run's configuration.yaml holds every key with its value; it must load again as it was."""
    import yaml

    config = tmp_path / "options.yaml"
    config.write_text(
        "behaviors:\n"
        "  Ball:\n    trainer_type: sac\n"
        "    hyperparameters: {ent_coef: 0.05, target_entropy: auto, train_freq: [1, episode],\n"
        "                      gradient_steps: -1}\n"
        "    network_settings: {critic: {hidden_units: 32}, clip_obs: 10}\n"
        "  Basic:\n    trainer_type: dqn\n    hyperparameters: {target_update_interval: 10, adam_eps: 1e-5}\n"
        "  Walker:\n    trainer_type: ppo\n    network_settings: {ortho_init: true, log_std_init: -0.5}\n"
        "    hyperparameters: {epsilon_final: 0, target_kl: 0.02, vf_coef: 1,\n"
        "                      advantage_normalization: minibatch, rollout_cuts: true}\n"
    )
    options = load_run_options(config)
    dumped = tmp_path / "configuration.yaml"
    dumped.write_text(yaml.safe_dump(options.model_dump(mode="json")))
    assert load_run_options(dumped).behaviors == options.behaviors


def basic_trajectory(rewards: np.ndarray, done: bool, agent_id: str = "agent_0") -> Trajectory:
    obs = np.eye(20, dtype=np.float32)[np.arange(len(rewards)) % 20]
    return discrete_trajectory(obs, rewards, (3,), done, agent_id, "Basic?team=0")


def test_reward_normalization_takes_out_the_reward_scale():
    rng = np.random.default_rng(3)
    pieces = [(rng.normal(1.0, 0.5, 32), index % 4 == 3) for index in range(40)]
    normalized = {}
    for scale in (1.0, 100.0):
        normalizer = ReturnNormalizer(gamma=0.99, clip=10.0)
        normalized[scale] = [normalizer.normalize(basic_trajectory(r * scale, d)).rewards for r, d in pieces]
    np.testing.assert_allclose(normalized[100.0][-1], normalized[1.0][-1], rtol=1e-3)
    assert 0.01 < float(np.abs(normalized[100.0][-1]).mean()) < 1.0  # rewards of ~100 scaled to below 1


def test_reward_normalization_resets_returns_at_episode_end_and_clips():
    normalizer = ReturnNormalizer(gamma=0.9, clip=2.0)
    normalizer.normalize(basic_trajectory(np.ones(5), done=False, agent_id="a"))
    assert normalizer.returns["a"] == pytest.approx(sum(0.9**k for k in range(5)))
    normalizer.normalize(basic_trajectory(np.ones(5), done=True, agent_id="a"))
    assert "a" not in normalizer.returns
    spike = normalizer.normalize(basic_trajectory(np.array([0.0, 1e6]), done=True, agent_id="b"))
    assert spike.rewards[1] == 2.0


def test_norm_reward_scales_what_the_trainer_learns_from_and_is_checkpointed(tmp_path):
    returns = {}
    for norm_reward in (False, True):
        trainer = make_trainer(tmp_path / str(norm_reward), norm_reward=norm_reward, buffer_size=4096)
        trainer.process_trajectory(basic_trajectory(np.full(64, 100.0), done=True))
        trainer.estimate_pending()  # the trajectory joins the update buffer with its advantages
        returns[norm_reward] = float(np.abs(trainer.update_buffer.arrays()["returns_extrinsic"]).max())
        assert trainer.reward_buffer[-1] == 6400.0  # the episode's return is reported as received
    assert returns[False] > 1000.0 > 20.0 > returns[True]
    state = trainer.checkpoint_state()["reward_normalizer"]
    resumed = make_trainer(tmp_path / "resumed", norm_reward=True)
    resumed.reward_normalizer.load_state_dict(state)
    assert resumed.reward_normalizer.state_dict() == state == trainer.reward_normalizer.state_dict()
    assert state["count"] > 64
