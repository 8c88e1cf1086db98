"""DQN parts: masked epsilon-greedy actions, (double) DQN targets, target network updates, exploration."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from mlagents_envs.base_env import (
    ActionSpec,
    BehaviorSpec,
    DecisionSteps,
)

from rldojo.errors import ConfigError
from rldojo.settings import NetworkSettings, TrainerSettings
from rldojo.trainers.dqn import DQNSettings, DQNTrainer
from rldojo.trainers.dqn import trainer as dqn_trainer
from rldojo.trainers.dqn.q_network import QNetwork
from rldojo.trainers.dqn.trainer import TD_TARGETS, td_targets
from rldojo.trajectory import Trajectory

from .specs import observation, vector_spec
from .trajectories import discrete_trajectory

pytestmark = pytest.mark.smoke

BRANCHES = (3, 4)
SPEC = vector_spec(5, ActionSpec.create_discrete(BRANCHES))


def make_trainer(tmp_path, spec=SPEC, training=True, **hyperparameters) -> DQNTrainer:
    settings = TrainerSettings.model_validate(
        {
            "trainer_type": "dqn",
            "hyperparameters": hyperparameters,
            "network_settings": {"hidden_units": 16, "num_layers": 1, "normalize": True},
        },
        context={"trainer_settings": {"dqn": DQNSettings}},
    )
    trainer = DQNTrainer("Walker", 1, settings, training, False, 0, tmp_path / "Walker")
    trainer.add_policy("Walker?team=0", trainer.create_policy("Walker?team=0", spec))
    return trainer


def decision_steps(disabled: list[np.ndarray]) -> DecisionSteps:
    """Steps of ``len(disabled[0])`` agents; ``disabled``: ML-Agents' masks (True = not allowed)."""
    n = len(disabled[0])
    obs = np.random.default_rng(0).normal(size=(n, 5)).astype(np.float32)
    return DecisionSteps([obs], np.zeros(n, np.float32), np.arange(n), disabled, np.zeros(n), np.zeros(n))


def random_masks(n: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Per branch: a random set of disabled actions that leaves at least one allowed."""
    masks = []
    for size in BRANCHES:
        disabled = rng.random((n, size)) < 0.5
        disabled[np.arange(n), rng.integers(size, size=n)] = False
        masks.append(disabled)
    return masks


@pytest.mark.parametrize("epsilon", [0.0, 0.5, 1.0])
def test_masked_actions_are_never_chosen_greedy_or_random(tmp_path, epsilon):
    trainer = make_trainer(tmp_path)
    q_network = trainer.optimizer.q_network
    with torch.no_grad():  # Q-values rank actions by index; the highest is often masked
        q_network.q_head.weight.zero_()
        q_network.q_head.bias.copy_(torch.tensor([0.0, 1.0, 2.0, 0.0, 1.0, 2.0, 3.0]))
    trainer.policy.epsilon = epsilon
    disabled = random_masks(3000, np.random.default_rng(1))
    actions = trainer.policy.get_action(decision_steps(disabled)).discrete
    for branch, branch_disabled in enumerate(disabled):
        chosen = actions[:, branch]
        assert not branch_disabled[np.arange(len(chosen)), chosen].any()
        best_allowed = np.where(branch_disabled, -1, np.arange(BRANCHES[branch])).argmax(axis=1)
        greedy_share = (chosen == best_allowed).mean()
        if epsilon == 0.0:
            assert greedy_share == 1.0
        else:  # random actions are spread over every allowed action
            assert greedy_share < 1.0 - epsilon / 4
            assert set(chosen) == set(range(BRANCHES[branch]))


def test_continuous_actions_are_a_config_error(tmp_path):
    spec = BehaviorSpec(SPEC.observation_specs, ActionSpec(2, (3,)))
    expected = (
        "behavior Walker has 2 continuous action(s), but trainer_type dqn needs discrete actions only; "
        "use ppo or sac for it"
    )
    with pytest.raises(ConfigError, match=f"^{re.escape(expected)}$"):
        make_trainer(tmp_path, spec=spec)


def test_double_dqn_target_values_the_online_choice_with_the_target_network():
    # two transitions, branches of 3 and 2 actions; action 2 of branch 0 is masked in the next state
    next_q_online = torch.tensor([[1.0, 3.0, 9.0, 0.0, 1.0], [5.0, 0.0, 0.0, 2.0, 1.0]])
    next_q_target = torch.tensor([[4.0, 2.0, 7.0, 6.0, 8.0], [1.0, 3.0, 0.0, 5.0, 4.0]])
    next_masks = torch.tensor([[1.0, 1.0, 0.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0, 1.0]])
    rewards, dones = torch.tensor([1.0, 0.5]), torch.tensor([0.0, 1.0])

    double = td_targets(rewards, dones, 0.5, next_q_online, next_q_target, next_masks, (3, 2))
    # online picks (1, 1) for row 0 -> target values 2 and 8; row 1 is terminal
    torch.testing.assert_close(double, torch.tensor([[1.0 + 0.5 * 2.0, 1.0 + 0.5 * 8.0], [0.5, 0.5]]))
    plain = td_targets(rewards, dones, 0.5, None, next_q_target, next_masks, (3, 2))
    # the target network's own best allowed values: 4 (7 is masked) and 8
    torch.testing.assert_close(plain, torch.tensor([[1.0 + 0.5 * 4.0, 1.0 + 0.5 * 8.0], [0.5, 0.5]]))


def terminal_batch(trainer: DQNTrainer, size: int = 32) -> dict[str, torch.Tensor]:
    """Transitions that end the episode: the TD target of each branch is the reward (obs index + 1)."""
    generator = torch.Generator().manual_seed(0)
    obs = torch.randn(size, 5, generator=generator)
    trainer.policy.update_normalization([obs.numpy()])
    return {
        "obs_0": obs,
        "next_obs_0": torch.randn(size, 5, generator=generator),
        "discrete_actions": torch.stack(
            [torch.randint(n, (size,), generator=generator) for n in BRANCHES], dim=1
        ),
        "rewards": torch.arange(size, dtype=torch.float32) / size,
        "dones": torch.ones(size),
        "next_action_masks": torch.ones(size, sum(BRANCHES)),
    }


def test_updates_fit_q_values_of_taken_actions_to_their_targets(tmp_path):
    torch.manual_seed(0)  # the network's initial weights: the fit must not depend on earlier tests
    trainer = make_trainer(tmp_path, learning_rate=0.01)
    batch = terminal_batch(trainer)
    for _ in range(300):
        stats = trainer.optimizer.update(batch, step=0)
    q_values = trainer.optimizer.q_network([batch["obs_0"]])
    offsets = torch.tensor([0, BRANCHES[0]])
    taken = q_values.gather(1, batch["discrete_actions"] + offsets)
    torch.testing.assert_close(taken, batch["rewards"][:, None].expand(-1, 2), atol=0.05, rtol=0)
    assert stats["Losses/Value Loss"] < 1e-3


def parameters(module: torch.nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in module.state_dict().values()]


def walker_trajectory(length: int) -> Trajectory:
    obs = np.random.default_rng(length).normal(size=(length, 5)).astype(np.float32)
    return discrete_trajectory(obs, np.ones(length), BRANCHES, behavior_id="Walker?team=0")


def test_hard_copy_every_target_update_interval_environment_steps(tmp_path):
    # SB3's meaning: env steps, whatever the gradient updates do (here 64 steps pass before any update)
    trainer = make_trainer(tmp_path, tau=1.0, target_update_interval=10, buffer_init_steps=64, batch_size=4)
    optimizer = trainer.optimizer
    initial_target = parameters(optimizer.target_network)
    for _ in range(5):
        optimizer.update(terminal_batch(trainer), step=0)  # gradient updates alone leave the target alone
    for kept, now in zip(initial_target, parameters(optimizer.target_network), strict=True):
        torch.testing.assert_close(now, kept)
    trainer.trajectory_queue.append(walker_trajectory(9))
    trainer.advance()
    for kept, now in zip(initial_target, parameters(optimizer.target_network), strict=True):
        torch.testing.assert_close(now, kept)  # 9 steps: not yet
    trainer.trajectory_queue.append(walker_trajectory(1))
    trainer.advance()
    assert trainer.target_updates == 1
    for online, target in zip(
        parameters(optimizer.q_network), parameters(optimizer.target_network), strict=True
    ):
        assert torch.equal(online, target)  # an exact copy at step 10, normalizer statistics included


@pytest.mark.parametrize(
    ("settings", "in_one_pass"),
    [
        ({"target_update_interval": 10, "double_dqn": False}, True),
        ({"target_update_interval": 10, "double_dqn": True}, False),  # the online net chooses: per update
        ({}, False),  # the target follows every update
    ],
)
@pytest.mark.parametrize("target_rows", [1024, 10])  # 10: passes of 10, 10 and 4 rows across the batches
def test_a_burst_computes_its_td_targets_in_one_pass_only_when_its_updates_leave_them(
    tmp_path, settings, in_one_pass, target_rows, monkeypatch
):
    monkeypatch.setattr(dqn_trainer, "TARGET_ROWS", target_rows)
    trainer = make_trainer(tmp_path, **settings)
    burst = terminal_batch(trainer, size=24) | {"dones": torch.zeros(24)}
    prepared = trainer.optimizer.prepare_burst(burst, steps=3)
    assert (TD_TARGETS in prepared) == in_one_pass
    if in_one_pass:
        per_batch = [
            trainer.optimizer.targets({k: v[i : i + 8] for k, v in burst.items()}) for i in (0, 8, 16)
        ]
        torch.testing.assert_close(prepared[TD_TARGETS], torch.cat(per_batch), rtol=0, atol=0)


def test_soft_update_moves_the_target_by_tau_after_every_update(tmp_path):
    trainer = make_trainer(tmp_path, tau=0.25)
    optimizer, batch = trainer.optimizer, terminal_batch(trainer)
    before = dict(optimizer.target_network.named_parameters())
    before = {name: p.detach().clone() for name, p in before.items()}
    optimizer.update(batch, step=0)
    online = dict(optimizer.q_network.named_parameters())
    for name, target in optimizer.target_network.named_parameters():
        torch.testing.assert_close(target, 0.25 * online[name] + 0.75 * before[name])
    normalizer = "encoder.processors.0.normalizer.running_mean"
    torch.testing.assert_close(
        optimizer.target_network.state_dict()[normalizer], optimizer.q_network.state_dict()[normalizer]
    )


def test_exploration_schedule_and_greedy_inference(tmp_path):
    trainer = make_trainer(
        tmp_path, exploration_initial_eps=1.0, exploration_final_eps=0.1, exploration_steps=1000
    )
    policy = trainer.policy
    assert policy.epsilon == 1.0
    for step, epsilon in [(500, 0.55), (1000, 0.1), (5000, 0.1)]:
        trainer._step = step
        trainer._set_exploration()
        assert policy.epsilon == pytest.approx(epsilon)
    constant = make_trainer(tmp_path, exploration_schedule="constant", exploration_initial_eps=0.3)
    constant._step = 10**6
    constant._set_exploration()
    assert constant.policy.epsilon == 0.3
    assert make_trainer(tmp_path, training=False).policy.epsilon == 0.0


def test_actions_are_uniformly_random_until_buffer_init_steps(tmp_path):
    """SB3 acts at random before learning_starts; the epsilon schedule takes over from there."""
    trainer = make_trainer(
        tmp_path, buffer_init_steps=300, exploration_initial_eps=0.2, exploration_final_eps=0.2
    )
    assert trainer.policy.epsilon == 1.0
    trainer._step = 299
    trainer._set_exploration()
    assert trainer.policy.epsilon == 1.0
    trainer._step = 300
    trainer._set_exploration()
    assert trainer.policy.epsilon == pytest.approx(0.2)


@pytest.mark.parametrize("activation", ["relu", "tanh", "swish"])
def test_acting_forward_gives_the_q_networks_values_exactly(activation):
    spec = BehaviorSpec([observation(5), observation(3)], ActionSpec.create_discrete(BRANCHES))
    network = NetworkSettings(hidden_units=32, num_layers=2, normalize=True, activation=activation)
    q_network = QNetwork(spec.observation_specs, network, spec.action_spec)
    rng = np.random.default_rng(0)
    observations = [torch.as_tensor(rng.normal(size=(7, size)), dtype=torch.float32) for size in (5, 3)]
    q_network.update_normalization(observations)
    acting = q_network.acting_forward()
    assert torch.equal(acting(observations), q_network(observations))
    with torch.no_grad():  # the acting function follows weights changed in place (updates, checkpoints)
        for parameter in q_network.parameters():
            parameter.add_(0.5)
    assert torch.equal(acting(observations), q_network(observations))
