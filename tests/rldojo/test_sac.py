"""SAC parts: ML-Agents' settings, squashed and masked actions, entropy coefficients moving towards their
targets, the soft-updated target network, and updates for continuous, discrete and hybrid actions."""

from __future__ import annotations

import logging
import math
import re

import numpy as np
import pytest
import torch
from mlagents_envs.base_env import (
    ActionSpec,
    BehaviorSpec,
    DecisionSteps,
)

from rldojo.buffer import as_tensors
from rldojo.checkpoint import rng_state, save_trainer_checkpoint
from rldojo.errors import RldojoError
from rldojo.settings import TrainerSettings
from rldojo.trainers.sac import SACSettings, SACTrainer
from rldojo.trajectory import Trajectory

from .specs import observation

pytestmark = pytest.mark.smoke

OBS = [observation(4)]
SPECS = {
    "continuous": BehaviorSpec(OBS, ActionSpec.create_continuous(2)),
    "discrete": BehaviorSpec(OBS, ActionSpec.create_discrete((3, 2))),
    "hybrid": BehaviorSpec(OBS, ActionSpec(2, (3,))),
}


def test_defaults_are_ml_agents_sac_defaults():
    hp = SACSettings()
    assert (hp.learning_rate, hp.batch_size, hp.buffer_size, hp.buffer_init_steps) == (3e-4, 128, 50000, 0)
    assert (hp.tau, hp.steps_per_update, hp.save_replay_buffer, hp.init_entcoef) == (0.005, 1, False, 1.0)
    assert hp.reward_signal_steps_per_update == hp.steps_per_update
    assert SACSettings(steps_per_update=10).reward_signal_steps_per_update == 10


def make_trainer(tmp_path, spec: BehaviorSpec, resume: bool = False, **hyperparameters) -> SACTrainer:
    settings = TrainerSettings.model_validate(
        {
            "trainer_type": "sac",
            "hyperparameters": {"batch_size": 8, **hyperparameters},
            "network_settings": {"hidden_units": 16, "num_layers": 1, "normalize": True},
        },
        context={"trainer_settings": {"sac": SACSettings}},
    )
    trainer = SACTrainer("Agent", 1, settings, True, resume, 0, tmp_path / "Agent")
    trainer.add_policy("Agent?team=0", trainer.create_policy("Agent?team=0", spec))
    return trainer


def decision_steps(n: int, disabled: list[np.ndarray]) -> DecisionSteps:
    obs = np.random.default_rng(0).normal(size=(n, 4)).astype(np.float32)
    return DecisionSteps([obs], np.zeros(n, np.float32), np.arange(n), disabled, np.zeros(n), np.zeros(n))


def test_continuous_actions_sent_to_the_environment_are_tanh_squashed_into_range(tmp_path):
    trainer = make_trainer(tmp_path, SPECS["hybrid"])
    assert trainer.policy is not None
    info = trainer.policy.get_action(decision_steps(500, [np.zeros((500, 3), bool)]))
    sent = info.env_action.continuous
    assert np.abs(sent).max() < 1.0 and sent.std() > 0.3  # a wide, squashed Gaussian, never clipped
    np.testing.assert_allclose(sent, info.continuous / 3.0, rtol=1e-6)


def test_disabled_discrete_actions_are_never_taken(tmp_path):
    trainer = make_trainer(tmp_path, SPECS["discrete"])
    assert trainer.policy is not None
    disabled = [np.tile([True, False, True], (300, 1)), np.tile([False, False], (300, 1))]
    info = trainer.policy.get_action(decision_steps(300, disabled))
    assert set(info.discrete[:, 0]) == {1}
    assert set(info.discrete[:, 1]) == {0, 1}


def replay_batch(trainer: SACTrainer, spec: BehaviorSpec, size: int = 8) -> dict[str, torch.Tensor]:
    rng = np.random.default_rng(1)
    branches = spec.action_spec.discrete_branches
    columns = {
        "obs_0": rng.normal(size=(size, 4)),
        "next_obs_0": rng.normal(size=(size, 4)),
        "continuous_actions": rng.uniform(-3, 3, size=(size, spec.action_spec.continuous_size)),
        "discrete_actions": np.stack([rng.integers(b, size=size) for b in branches] or [np.zeros(size)], 1),
        "action_masks": np.ones((size, sum(branches))),
        "rewards": rng.normal(size=size),
        "dones": (rng.random(size) < 0.2).astype(np.float32),
    }
    assert trainer.policy is not None
    batch = as_tensors(columns, trainer.policy.device)
    return {key: value if key == "discrete_actions" else value.float() for key, value in batch.items()}


@pytest.mark.parametrize("kind", sorted(SPECS))
def test_update_changes_every_network_and_moves_the_target_by_tau(tmp_path, kind):
    trainer = make_trainer(tmp_path, SPECS[kind], tau=0.25, init_entcoef=0.3)
    optimizer = trainer.optimizer
    assert optimizer.entropy.log_continuous.exp().item() == pytest.approx(0.3)
    actor, q, value = (
        [p.detach().clone() for p in m.parameters()]
        for m in (optimizer.actor, optimizer.q_networks, optimizer.value_network)
    )
    target = [p.detach().clone() for p in optimizer.target_network.parameters()]
    stats = optimizer.update(replay_batch(trainer, SPECS[kind]), step=0)
    assert all(math.isfinite(value) for value in stats.values()), stats  # 0-d tensors read back here
    for before, module in (
        (actor, optimizer.actor),
        (q, optimizer.q_networks),
        (value, optimizer.value_network),
    ):
        assert any(not torch.equal(b, p) for b, p in zip(before, module.parameters(), strict=True))
    for old, online, new in zip(
        target, optimizer.value_network.parameters(), optimizer.target_network.parameters(), strict=True
    ):
        torch.testing.assert_close(new, 0.75 * old + 0.25 * online.detach())


def test_entropy_coefficients_fall_while_the_policy_is_more_random_than_its_target(tmp_path):
    spec = SPECS["discrete"]  # a near-uniform policy: entropy log(3) > target 0.2 * log(3)
    trainer = make_trainer(tmp_path, spec, learning_rate=0.01)
    batch = replay_batch(trainer, spec)
    for _ in range(5):
        trainer.optimizer.update(batch, step=0)
    alphas = trainer.optimizer.entropy.log_discrete.exp()
    assert (alphas < 1.0).all(), alphas


def test_continuous_entropy_coefficient_falls_while_the_policy_is_more_random_than_minus_its_size(tmp_path):
    # a fresh tanh(N(mean ~ 0, std ~ 1)) policy has entropy ~0.5 per action, above the target of -1 per action
    spec = SPECS["continuous"]
    trainer = make_trainer(tmp_path, spec, learning_rate=0.01)
    batch = replay_batch(trainer, spec)
    for _ in range(5):
        trainer.optimizer.update(batch, step=0)
    assert trainer.optimizer.entropy.log_continuous.exp() < 1.0


def test_replay_buffer_is_in_the_checkpoint_state_only_when_asked(tmp_path):
    spec = SPECS["continuous"]
    assert make_trainer(tmp_path, spec)._trainer_state()["replay_buffer"] is None
    assert make_trainer(tmp_path, spec, save_replay_buffer=True)._trainer_state()["replay_buffer"] is not None


@pytest.mark.parametrize("kind", ["continuous", "discrete"])
def test_a_numeric_ent_coef_stays_fixed_while_the_policy_learns(tmp_path, kind):
    trainer = make_trainer(tmp_path, SPECS[kind], learning_rate=0.01, ent_coef=0.05)
    actor = [p.detach().clone() for p in trainer.optimizer.actor.parameters()]
    batch = replay_batch(trainer, SPECS[kind])
    for _ in range(5):
        stats = trainer.optimizer.update(batch, step=0)
    entropy = trainer.optimizer.entropy
    assert entropy.log_continuous.exp().item() == pytest.approx(0.05)
    alphas = entropy.log_discrete.exp()
    torch.testing.assert_close(alphas, torch.full_like(alphas, 0.05))
    assert stats["Policy/Continuous Entropy Coeff"] == pytest.approx(0.05)
    assert any(
        not torch.equal(b, p) for b, p in zip(actor, trainer.optimizer.actor.parameters(), strict=True)
    )


def test_auto_ent_coef_is_learned_from_its_initial_value(tmp_path):
    trainer = make_trainer(tmp_path, SPECS["continuous"], learning_rate=0.01, ent_coef="auto_0.1")
    assert trainer.optimizer.entropy.log_continuous.exp().item() == pytest.approx(0.1)
    batch = replay_batch(trainer, SPECS["continuous"])
    for _ in range(5):
        trainer.optimizer.update(batch, step=0)
    assert trainer.optimizer.entropy.log_continuous.exp().item() < 0.1  # entropy above -2: alpha falls


def test_a_target_entropy_above_the_policy_entropy_raises_alpha(tmp_path):
    spec = SPECS["continuous"]  # a fresh policy has entropy ~1 over its two actions, below 4
    assert make_trainer(tmp_path, spec, target_entropy="auto").optimizer.entropy.continuous_target == -2.0
    trainer = make_trainer(tmp_path, spec, learning_rate=0.01, target_entropy=4.0)
    batch = replay_batch(trainer, spec)
    for _ in range(5):
        trainer.optimizer.update(batch, step=0)
    assert trainer.optimizer.entropy.log_continuous.exp().item() > 1.0


@pytest.mark.parametrize(
    ("hyperparameters", "message"),
    [
        (
            {"ent_coef": "autom"},
            "ent_coef 'autom' is not a positive number, 'auto' or 'auto_<initial value>'",
        ),
        ({"ent_coef": -0.1}, "ent_coef '-0.1' is not a positive number"),
        (
            {"ent_coef": 0.1, "init_entcoef": 0.5},
            "init_entcoef and ent_coef both set the entropy coefficient",
        ),
        ({"target_entropy": "high"}, "Input should be a valid number"),
    ],
)
def test_bad_entropy_settings_are_errors(tmp_path, hyperparameters, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        make_trainer(tmp_path, SPECS["continuous"], **hyperparameters)


def test_q_networks_take_the_continuous_actions_at_the_input_of_their_dense_layers(tmp_path):
    """ML-Agents' Q network: observations and continuous actions into the dense stack, one linear head."""
    trainer = make_trainer(tmp_path, SPECS["hybrid"])
    q_networks = trainer.optimizer.q_networks  # the twin networks stacked: [networks, inputs, outputs]
    assert q_networks.body[0].weight.shape == (2, 4 + 2, 16)  # observation + continuous actions
    assert q_networks.head.weight.shape == (2, 16, 3)  # one stream, branch of 3


def test_a_checkpoint_whose_q_networks_do_not_fit_is_one_clear_error(tmp_path):
    """Checkpoints written before the Q networks took their actions at the input had a two-layer head."""
    trainer = make_trainer(tmp_path, SPECS["continuous"])
    state = trainer.checkpoint_state()
    q_state = dict(state["modules"]["Optimizer:q_network"])
    q_state["head.2.weight"] = q_state.pop("head.weight")
    state = {**state, "modules": {**state["modules"], "Optimizer:q_network": q_state}}
    with pytest.raises(RldojoError, match=r"^the checkpoint's 'Optimizer:q_network' of Agent does not fit"):
        make_trainer(tmp_path / "again", SPECS["continuous"]).load_state(state, full=False)


def episode(length: int, first_obs: float) -> Trajectory:
    """One whole episode of the continuous spec: observations ``first_obs``, ``first_obs + 1``, ..."""
    obs = (first_obs + np.arange(length, dtype=np.float32))[:, None].repeat(4, axis=1)
    return Trajectory(
        obs=[obs],
        next_obs=[obs[-1:] + 1.0],
        continuous_actions=np.zeros((length, 2), np.float32),
        discrete_actions=np.zeros((length, 0), np.int64),
        log_probs=np.zeros((length, 2), np.float32),
        action_masks=np.ones((length, 0), np.float32),
        rewards=np.ones(length, np.float32),
        done_reached=True,
        truncated=False,
        episode_return=float(length),
        episode_length=length,
        agent_id="agent_0-1",
        behavior_id="Agent?team=0",
    )


def test_a_replay_buffer_saved_before_group_rewards_existed_resumes_with_zeros_there(tmp_path, caplog):
    spec = SPECS["continuous"]
    trainer = make_trainer(tmp_path, spec, save_replay_buffer=True, buffer_init_steps=100)
    trainer.process_trajectory(episode(5, first_obs=0.0))
    state = trainer.checkpoint_state()
    del state["trainer_state"]["replay_buffer"]["columns"]["group_rewards"]  # the layout of older versions
    save_trainer_checkpoint(
        tmp_path / "Agent", "Agent", trainer.get_step, {**state, "rng": rng_state()}, 5, None
    )

    resumed = make_trainer(tmp_path, spec, resume=True, save_replay_buffer=True, buffer_init_steps=100)
    with caplog.at_level(logging.WARNING):
        resumed.process_trajectory(episode(3, first_obs=10.0))
    assert "saved without the column(s) group_rewards; its 5 stored transitions get zeros" in caplog.text
    columns = resumed.replay_buffer.state_dict()["columns"]
    assert columns["obs_0"][:, 0].tolist() == [0, 1, 2, 3, 4, 10, 11, 12]  # nothing stored was lost
    assert columns["group_rewards"].tolist() == [0.0] * 8
