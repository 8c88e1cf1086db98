"""Hand-derived gradients (rldojo.networks.mlp_gradients, PPO's and DQN's output gradients) against autograd:
the same gradients for random networks and batches of every covered kind, the same weights after many
updates, and autograd kept wherever the networks are not plain MLPs."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from mlagents_envs.base_env import ActionSpec, BehaviorSpec

import rldojo.trainers.on_policy
import rldojo.trainers.optimizer
from rldojo.networks import ObservationEncoder, PlainMLP
from rldojo.settings import NetworkSettings
from rldojo.trainers.dqn import DQNOptimizer, DQNTrainer, QNetwork
from rldojo.trainers.ppo import PPOOptimizer, PPOTrainer

from .specs import observation, trainer_for, vector_spec

pytestmark = pytest.mark.smoke

ROWS = 48


@pytest.mark.parametrize("activation", ["relu", "tanh", "swish"])
@pytest.mark.parametrize("num_layers", [1, 2, 3])
@pytest.mark.parametrize("normalize", [False, True])
def test_plain_mlp_gradients_equal_autograd(activation, num_layers, normalize):
    """Two vector observations (normalised or not), 1-3 dense layers and an output layer: the hand-written
    backward pass gives autograd's gradient of every parameter for a random output gradient."""
    torch.manual_seed(num_layers)
    settings = NetworkSettings(
        hidden_units=24, num_layers=num_layers, activation=activation, normalize=normalize
    )
    encoder = ObservationEncoder([observation(5), observation(3)], settings)
    head = torch.nn.Linear(24, 4)
    obs = [torch.randn(ROWS, 5) * 3, torch.randn(ROWS, 3)]
    encoder.update_normalization(obs)
    output_gradient = torch.randn(ROWS, 4)

    (head(encoder(obs)) * output_gradient).sum().backward()
    expected = [p.grad.clone() for p in [*encoder.parameters(), *head.parameters()]]
    mlp = PlainMLP.of(encoder, head)
    assert mlp is not None
    for parameter in mlp.parameters:
        parameter.grad = torch.full_like(parameter, float("nan"))  # every entry must be written
    output, saved = mlp.forward(obs)
    torch.testing.assert_close(output, head(encoder(obs)), rtol=1e-5, atol=1e-6)
    mlp.backward(saved, output_gradient)
    for parameter, gradient in zip(mlp.parameters, expected, strict=True):
        torch.testing.assert_close(parameter.grad, gradient, rtol=1e-5, atol=1e-6)


class GradientRecorder:
    """Replaces ``adam_step``: records the (clipped) gradients it would step on, and steps on nothing."""

    def __init__(self, monkeypatch):
        self.gradients: list[list[torch.Tensor]] = []
        for module in (rldojo.trainers.on_policy, rldojo.trainers.optimizer, rldojo.trainers.dqn.trainer):
            monkeypatch.setattr(module, "adam_step", self.record)

    def record(self, optimizer) -> None:
        params = [p for group in optimizer.param_groups for p in group["params"]]
        self.gradients.append([p.grad.clone() for p in params])


def ppo_settings(
    max_grad_norm: float, clip_value_updates: bool, beta: float = 0.05, signals: tuple[str, ...] = ()
) -> dict:
    """PPO settings; ``signals``: reward signals besides ``extrinsic`` (one more value head each)."""
    hyperparameters = {
        "batch_size": ROWS,
        "buffer_size": ROWS,
        "beta": beta,
        "vf_coef": 0.7,
        "clip_value_updates": clip_value_updates,
        "max_grad_norm": max_grad_norm,
    }
    network = {"hidden_units": 16, "num_layers": 2, "activation": "tanh"}
    reward_signals = {name: {} for name in ("extrinsic", *signals)}
    return {"hyperparameters": hyperparameters, "network_settings": network, "reward_signals": reward_signals}


def ppo_batch(trainer, branches: tuple[int, ...], seed: int, masked: bool) -> dict[str, torch.Tensor]:
    """Random PPO minibatch for ``trainer``'s policy: old log-probabilities around the current ones, so some
    ratios fall outside the clip range and some inside; returns and old values that clip some value losses;
    with ``masked``, a disallowed action in some rows; with no ``branches``, two continuous actions."""
    rng = np.random.default_rng(seed)
    obs = torch.from_numpy(rng.normal(size=(ROWS, 6)).astype(np.float32))
    masks = torch.ones(ROWS, sum(branches))
    if masked:
        masks[::3, 0] = 0.0
    chosen = [rng.integers(1, size, ROWS) for size in branches]
    actions = torch.from_numpy(np.stack(chosen, axis=1) if chosen else np.zeros((ROWS, 0), np.int64))
    continuous = torch.from_numpy(rng.normal(size=(ROWS, 0 if branches else 2)).astype(np.float32))
    with torch.no_grad():
        log_probs, _ = trainer.policy.actor.evaluate([obs], masks, continuous, actions.reshape(ROWS, -1))
        values = trainer.optimizer.critic([obs])
    noise = torch.from_numpy(rng.normal(scale=0.4, size=log_probs.shape).astype(np.float32))
    value_columns = {}
    for name, estimates in values.items():
        old_values, returns = (rng.normal(scale=scale, size=ROWS).astype(np.float32) for scale in (0.3, 1.0))
        value_columns[f"values_{name}"] = estimates + torch.from_numpy(old_values)
        value_columns[f"returns_{name}"] = estimates + torch.from_numpy(returns)
    return value_columns | {
        "obs_0": obs,
        "continuous_actions": continuous,
        "discrete_actions": actions.reshape(ROWS, -1),
        "log_probs": log_probs + noise,
        "action_masks": masks,
        "advantages": torch.from_numpy(rng.normal(0.5, 1.5, size=ROWS).astype(np.float32)),
    }


def ppo_gradients(trainer, batch, by_hand, monkeypatch) -> list[torch.Tensor]:
    recorder = GradientRecorder(monkeypatch)
    optimizer = trainer.optimizer
    optimizer.by_hand, kept = (optimizer.by_hand if by_hand else None), optimizer.by_hand
    optimizer.update(batch, step=0)
    optimizer.by_hand = kept
    (gradients,) = recorder.gradients
    return gradients


@pytest.mark.parametrize(
    ("branches", "signals", "masked"),
    [((3,), (), False), ((3,), (), True), ((2, 4), ("rnd",), True), ((), (), False)],
)
@pytest.mark.parametrize(("clip_value_updates", "beta"), [(False, 0.0), (True, 0.05)])
@pytest.mark.parametrize("max_grad_norm", [0.05, 100.0])
def test_ppo_hand_gradients_equal_autograd(
    tmp_path, monkeypatch, branches, signals, masked, clip_value_updates, beta, max_grad_norm
):
    """PPO's loss (clipped surrogate with clipped and unclipped ratios, with and without entropy bonus, value
    loss with and without clipping for one or two value heads, action masks, one or two branches or two
    continuous actions) differentiated by hand: autograd's gradients, also when max_grad_norm scales them
    down."""
    torch.manual_seed(len(branches))
    actions = ActionSpec.create_discrete(branches) if branches else ActionSpec.create_continuous(2)
    spec = vector_spec(6, actions)
    settings = ppo_settings(max_grad_norm, clip_value_updates, beta, signals)
    trainer = trainer_for(tmp_path, PPOTrainer, settings, spec)
    assert trainer.optimizer.by_hand is not None
    batch = ppo_batch(trainer, branches, seed=sum(branches), masked=masked)
    trainer.optimizer.actions_masked = masked

    with torch.no_grad():
        actions = batch["continuous_actions"], batch["discrete_actions"]
        log_probs, _ = trainer.policy.actor.evaluate([batch["obs_0"]], batch["action_masks"], *actions)
    ratios = torch.exp(log_probs - batch["log_probs"])
    assert ((ratios - 1).abs() > 0.2).any() and ((ratios - 1).abs() < 0.2).any()  # both kinds of ratio

    expected = ppo_gradients(trainer, batch, False, monkeypatch)
    by_hand = ppo_gradients(trainer, batch, True, monkeypatch)
    for ours, theirs in zip(by_hand, expected, strict=True):
        torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-7)


def dqn_settings(max_grad_norm: float, num_layers: int = 2) -> dict:
    hyperparameters = {"batch_size": ROWS, "max_grad_norm": max_grad_norm, "target_update_interval": 10}
    network = {"hidden_units": 32, "num_layers": num_layers, "activation": "relu"}
    return {"hyperparameters": hyperparameters, "network_settings": network}


def dqn_batch(branches: tuple[int, ...], seed: int) -> dict[str, torch.Tensor]:
    """Random transitions whose rewards put the TD errors on both sides of the Huber loss's bend."""
    rng = np.random.default_rng(seed)
    return {
        "obs_0": torch.from_numpy(rng.normal(size=(ROWS, 4)).astype(np.float32)),
        "next_obs_0": torch.from_numpy(rng.normal(size=(ROWS, 4)).astype(np.float32)),
        "discrete_actions": torch.from_numpy(
            np.stack([rng.integers(size, size=ROWS) for size in branches], axis=1)
        ),
        "rewards": torch.from_numpy(rng.normal(scale=1.5, size=ROWS).astype(np.float32)),
        "dones": torch.from_numpy((rng.random(ROWS) < 0.2).astype(np.float32)),
        "next_action_masks": torch.ones(ROWS, sum(branches)),
    }


@pytest.mark.parametrize("branches", [(2,), (3, 2)])
@pytest.mark.parametrize("max_grad_norm", [0.05, 100.0])
def test_dqn_hand_gradients_equal_autograd(tmp_path, monkeypatch, branches, max_grad_norm):
    """DQN's Huber TD loss (errors below and above 1, one or two branches) differentiated by hand:
    autograd's gradients, also when max_grad_norm scales them down."""
    torch.manual_seed(len(branches))
    spec = vector_spec(4, ActionSpec.create_discrete(branches))
    optimizer = trainer_for(tmp_path, DQNTrainer, dqn_settings(max_grad_norm), spec).optimizer
    assert optimizer.by_hand is not None
    batch = dqn_batch(branches, seed=len(branches))
    errors = torch.stack([optimizer.targets(batch)]).abs()
    assert (errors < 1).any() and (errors > 1).any()

    gradients = {}
    for by_hand in (False, True):
        recorder = GradientRecorder(monkeypatch)
        kept, optimizer.by_hand = optimizer.by_hand, (optimizer.by_hand if by_hand else None)
        optimizer.update(batch, step=0)
        optimizer.by_hand = kept
        gradients[by_hand] = recorder.gradients[0]
    for ours, theirs in zip(gradients[True], gradients[False], strict=True):
        torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-7)


def trained_parameters(optimizer) -> list[torch.Tensor]:
    return [p for group in optimizer.optimizer.param_groups for p in group["params"]]


@pytest.mark.parametrize("case", ["ppo discrete", "ppo continuous", "dqn"])
def test_many_updates_by_hand_end_at_autograds_weights(tmp_path, case):
    """Forty Adam steps on the hand path and on autograd from the same weights and batches end at the same
    weights: sums are taken in another order, so not bit for bit, and Adam's scaling lets the rounding of
    near-zero gradients grow, but each tensor ends within 1% of how far the steps moved it."""
    torch.manual_seed(3)
    if case.startswith("ppo"):
        branches = (3,) if case == "ppo discrete" else ()
        actions = ActionSpec.create_discrete(branches) if branches else ActionSpec.create_continuous(2)
        trainer = trainer_for(tmp_path, PPOTrainer, ppo_settings(0.5, True), vector_spec(6, actions))
        batches = [ppo_batch(trainer, branches, seed, masked=False) for seed in range(8)]
    else:
        spec = vector_spec(4, ActionSpec.create_discrete((2,)))
        trainer = trainer_for(tmp_path, DQNTrainer, dqn_settings(10.0), spec)
        batches = [dqn_batch((2,), seed) for seed in range(8)]
    by_hand = trainer.optimizer
    assert by_hand.by_hand is not None
    by_autograd = copy.deepcopy(by_hand)
    by_autograd.by_hand = None
    initial = [p.detach().clone() for p in trained_parameters(by_hand)]
    for step in range(40):
        for optimizer in (by_hand, by_autograd):
            optimizer.update(batches[step % len(batches)], step)
    parameters = zip(initial, trained_parameters(by_hand), trained_parameters(by_autograd), strict=True)
    for start, ours, theirs in parameters:
        moved = torch.linalg.vector_norm(theirs - start)
        assert moved > 0
        assert torch.linalg.vector_norm(ours - theirs) <= 0.01 * moved


@pytest.mark.parametrize(
    ("case", "network", "actions"),
    [
        ("memory", {"memory": {"memory_size": 8, "sequence_length": 4}}, (3,)),
        ("shared critic", {}, (3,)),
        ("hybrid actions", {}, None),
        ("visual observation", {}, (3,)),
    ],
)
def test_autograd_kept_where_networks_are_not_plain(tmp_path, case, network, actions):
    settings = ppo_settings(0.5, True)
    settings["network_settings"] |= network
    if case == "shared critic":
        settings["hyperparameters"]["shared_critic"] = True
    action_spec = ActionSpec(2, (3,)) if actions is None else ActionSpec.create_discrete(actions)
    observations = [observation(3, 36, 36)] if case == "visual observation" else [observation(6)]
    trainer = trainer_for(tmp_path, PPOTrainer, settings, BehaviorSpec(observations, action_spec))
    assert trainer.optimizer.by_hand is None


def test_autograd_kept_where_a_subclass_changes_what_the_loss_computes(tmp_path):
    """A PPO optimizer that evaluates actions its own way, an actor with a parameter of its own, or a
    Q-network that computes Q its own way keeps autograd: the hand path would skip the override or leave
    the parameter without a gradient."""
    spec = vector_spec(6, ActionSpec.create_discrete((3,)))
    trainer = trainer_for(tmp_path / "ppo", PPOTrainer, ppo_settings(0.5, True), spec)

    class OwnEvaluation(PPOOptimizer):
        def evaluate_actions(self, batch):
            return super().evaluate_actions(batch)

    assert PPOOptimizer(trainer.policy, trainer.trainer_settings).by_hand is not None
    assert OwnEvaluation(trainer.policy, trainer.trainer_settings).by_hand is None
    trainer.policy.actor.register_parameter("temperature", torch.nn.Parameter(torch.ones(1)))
    assert PPOOptimizer(trainer.policy, trainer.trainer_settings).by_hand is None

    class ScaledQ(QNetwork):
        def forward(self, observations):
            return 2.0 * super().forward(observations)

    trainer = trainer_for(tmp_path / "dqn", DQNTrainer, dqn_settings(10.0), spec)
    policy, settings = trainer.policy, trainer.trainer_settings
    assert DQNOptimizer(policy, settings).by_hand is not None
    network = settings.network_settings
    policy.actor = ScaledQ(spec.observation_specs, network, spec.action_spec)
    assert DQNOptimizer(policy, settings).by_hand is None
