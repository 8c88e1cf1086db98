"""rldojo's update arithmetic against Stable-Baselines3's own, step for step: the same weights and the same
transitions in, the same weights out (RL Zoo's settings; what scripts/bench_trainers.py compares)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from mlagents_envs.base_env import ActionSpec

from rldojo.trainers.dqn import DQNTrainer
from rldojo.trainers.dqn.trainer import TD_TARGETS
from rldojo.trainers.ppo import PPOTrainer

from . import specs
from .specs import vector_spec

sb3 = pytest.importorskip("stable_baselines3")
pytest.importorskip("stable_baselines3.common.logger")

pytestmark = pytest.mark.smoke

OBS_SIZE, ACTIONS, HIDDEN, ROWS, BATCH = 4, 2, 32, 64, 24


def transitions(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """``ROWS`` CartPole-shaped transitions; some end the episode, some are cut by its time limit."""
    ends = rng.random(ROWS) < 0.2
    truncated = ends & (rng.random(ROWS) < 0.5)
    return {
        "obs": rng.normal(size=(ROWS, OBS_SIZE)).astype(np.float32),
        "next_obs": rng.normal(size=(ROWS, OBS_SIZE)).astype(np.float32),
        "actions": rng.integers(ACTIONS, size=ROWS),
        "rewards": rng.normal(size=ROWS).astype(np.float32),
        "terminated": ends & ~truncated,
        "truncated": truncated,
    }


def trainer_for(tmp_path, trainer_class, settings: dict, obs_size: int, actions: int):
    """A trainer of ``trainer_class`` with ``settings`` (a behavior's YAML) and its policy, for an agent with
    ``obs_size`` observations and one branch of ``actions``."""
    return specs.trainer_for(
        tmp_path, trainer_class, settings, vector_spec(obs_size, ActionSpec.create_discrete((actions,)))
    )


def sb3_model(algorithm: type[Any], env_id: str, **options: Any) -> Any:
    """SB3's ``algorithm`` with ``options`` on ``env_id``: an MLP of two ``HIDDEN`` layers on the CPU, its
    initial weights from torch seed 0."""
    torch.manual_seed(0)
    network = {"net_arch": [HIDDEN, HIDDEN]}
    return algorithm("MlpPolicy", env_id, policy_kwargs=network, device="cpu", **options)


def copy_weights(pairs: list[tuple[torch.nn.Module, torch.nn.Module]]) -> None:
    """Each (rldojo module, SB3 module) pair: SB3's weights into rldojo's."""
    with torch.no_grad():
        for ours, theirs in pairs:
            for our_tensor, their_tensor in zip(ours.parameters(), theirs.parameters(), strict=True):
                our_tensor.copy_(their_tensor)


def assert_same_weights(pairs: list[tuple[torch.nn.Module, torch.nn.Module]]) -> None:
    for ours, theirs in pairs:
        for our_tensor, their_tensor in zip(ours.parameters(), theirs.parameters(), strict=True):
            torch.testing.assert_close(our_tensor, their_tensor, rtol=1e-5, atol=1e-6)


def sb3_dqn_step(model, data: dict[str, np.ndarray], batches: list[np.ndarray]) -> None:
    """SB3's DQN.train on ``data`` as its whole replay buffer, one gradient step on the rows of each of
    ``batches`` in turn (its buffer drops the bootstrap of time-limit cuts, ``TimeLimit.truncated``)."""
    buffer = model.replay_buffer
    for row in range(ROWS):
        buffer.add(
            data["obs"][row : row + 1],
            data["next_obs"][row : row + 1],
            np.array([[data["actions"][row]]]),
            data["rewards"][row : row + 1],
            np.array([data["terminated"][row] or data["truncated"][row]]),
            [{"TimeLimit.truncated": bool(data["truncated"][row])}],
        )
    samples = iter([buffer._get_samples(rows) for rows in batches])
    buffer.sample = lambda batch_size, env=None: next(samples)
    model.set_logger(sb3.common.logger.configure(None, []))
    model.train(gradient_steps=len(batches), batch_size=len(batches[0]))


def rows_of(batch: dict[str, torch.Tensor], obs: np.ndarray) -> np.ndarray:
    """Which transitions (by their observations ``obs``, all distinct) ``batch`` holds, in its order."""
    matches = (batch["obs_0"].numpy()[:, None, :] == obs[None, :, :]).all(axis=2)
    assert (matches.sum(axis=1) == 1).all()
    return matches.argmax(axis=1)


@pytest.mark.parametrize("path", ["update", "burst"])
def test_dqn_update_matches_sb3(tmp_path, path):
    """RL Zoo's CartPole DQN (lr 2.3e-3, Huber loss, max_grad_norm 10, no double DQN, gamma 0.99): three
    gradient steps against a fixed target network leave rldojo's Q-network where SB3's leaves its own.
    ``update``: each step on all transitions, straight through ``optimizer.update``. ``burst``: as the
    off-policy trainer takes a burst, three batches of ``BATCH`` drawn from its replay buffer at once, their
    TD targets from one pass of the target network (``prepare_burst``); SB3 steps on the same rows."""
    model = sb3_model(
        sb3.DQN, "CartPole-v1", learning_rate=2.3e-3, batch_size=BATCH, gamma=0.99, learning_starts=0
    )
    hyperparameters = {
        "batch_size": BATCH,
        "learning_rate": 2.3e-3,
        "learning_rate_schedule": "constant",
        "double_dqn": False,
        "max_grad_norm": 10,
        "tau": 1.0,
        "target_update_interval": 10,
    }
    network = {"hidden_units": HIDDEN, "num_layers": 2, "activation": "relu"}
    settings = {"hyperparameters": hyperparameters, "network_settings": network}
    trainer = trainer_for(tmp_path, DQNTrainer, settings, OBS_SIZE, ACTIONS)
    optimizer = trainer.optimizer
    q_network = optimizer.q_network
    pairs = [(q_network.encoder.body, model.q_net.q_net[:4]), (q_network.q_head, model.q_net.q_net[4])]
    copy_weights(pairs)  # SB3's initial weights, in both networks and both targets
    optimizer.target_network.load_state_dict(q_network.state_dict())
    model.q_net_target.load_state_dict(model.q_net.state_dict())

    data = transitions(np.random.default_rng(1))
    transitions_in = {
        "obs_0": data["obs"],
        "next_obs_0": data["next_obs"],
        "discrete_actions": data["actions"][:, None],
        "rewards": data["rewards"],
        "dones": data["terminated"].astype(np.float32),
        "next_action_masks": np.ones((ROWS, ACTIONS), dtype=np.float32),
    }
    if path == "burst":
        trainer.replay_buffer.add(transitions_in)
        batches = trainer._sample_burst(3)
        assert all(TD_TARGETS in batch for batch in batches)  # the targets came with the burst
    else:
        batches = [{key: torch.from_numpy(column) for key, column in transitions_in.items()}] * 3
    for step, batch in enumerate(batches):
        optimizer.update(batch, step)
    sb3_dqn_step(model, data, [rows_of(batch, data["obs"]) for batch in batches])

    assert_same_weights(pairs)


def test_ppo_update_matches_sb3(tmp_path):
    """RL Zoo's Acrobot PPO (lr 3e-4, clip 0.2, vf_coef 0.5, no value clipping, advantages normalised per
    minibatch, max_grad_norm 0.5, Adam eps 1e-5, no entropy bonus): one minibatch step, its ratios partly
    clipped, leaves rldojo's actor and critic where SB3's step leaves its policy and value networks."""
    from stable_baselines3.common.type_aliases import RolloutBufferSamples

    model = sb3_model(sb3.PPO, "Acrobot-v1", n_steps=ROWS, batch_size=ROWS, n_epochs=1, ent_coef=0.0)
    hyperparameters = {
        "batch_size": ROWS,
        "buffer_size": ROWS,
        "learning_rate": 3e-4,
        "learning_rate_schedule": "constant",
        "epsilon_schedule": "constant",
        "beta": 0.0,
        "vf_coef": 0.5,
        "clip_value_updates": False,
        "max_grad_norm": 0.5,
        "adam_eps": 1e-5,
        "advantage_normalization": "minibatch",
    }
    network = {"hidden_units": HIDDEN, "num_layers": 2, "activation": "tanh"}
    settings = {"hyperparameters": hyperparameters, "network_settings": network}
    trainer = trainer_for(tmp_path, PPOTrainer, settings, 6, 3)
    actor, critic = trainer.policy.actor, trainer.optimizer.critic
    pairs = [
        (actor.encoder.body, model.policy.mlp_extractor.policy_net),
        (actor.action_head.logits, model.policy.action_net),
        (critic.encoder.body, model.policy.mlp_extractor.value_net),
        (critic.value_heads, model.policy.value_net),
    ]
    copy_weights(pairs)

    rng = np.random.default_rng(2)
    obs = torch.from_numpy(rng.normal(size=(ROWS, 6)).astype(np.float32))
    actions = torch.from_numpy(rng.integers(3, size=ROWS))
    with torch.no_grad():
        values, log_probs, _ = model.policy.evaluate_actions(obs, actions)
    old_log_probs = log_probs + torch.from_numpy(rng.normal(scale=0.3, size=ROWS).astype(np.float32))
    advantages = torch.from_numpy(rng.normal(1.0, 2.0, size=ROWS).astype(np.float32))
    returns = values.flatten() + torch.from_numpy(rng.normal(size=ROWS).astype(np.float32))
    samples = RolloutBufferSamples(
        obs, actions[:, None].float(), values.flatten(), old_log_probs, advantages, returns
    )
    model.rollout_buffer.get = lambda batch_size: iter([samples])
    model.set_logger(sb3.common.logger.configure(None, []))
    model.train()

    trainer.optimizer.actions_masked = False
    trainer.optimizer.update(
        {
            "obs_0": obs,
            "continuous_actions": torch.zeros(ROWS, 0),
            "discrete_actions": actions[:, None],
            "log_probs": old_log_probs[:, None],
            "action_masks": torch.ones(ROWS, 3),
            "advantages": (advantages - advantages.mean()) / (advantages.std() + 1e-8),
            "values_extrinsic": values.flatten(),
            "returns_extrinsic": returns,
        },
        step=0,
    )
    assert_same_weights(pairs)
