"""SAC's gradient step without autograd (StackedMLP, sac/gradients.py, SACOptimizer.update_by_hand) against
autograd: the same gradients for the stacked Q networks, the same weights and stats after many updates for
every covered configuration, and autograd kept where the hand path does not apply."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from mlagents_envs.base_env import ActionSpec, BehaviorSpec

from rldojo.buffer import as_tensors
from rldojo.settings import NetworkSettings, TrainerSettings
from rldojo.trainers.sac import SACOptimizer, SACSettings, SACTrainer
from rldojo.trainers.sac.networks import TwinQEnsemble

from .specs import observation

pytestmark = pytest.mark.smoke

ROWS = 40
CONTINUOUS = BehaviorSpec([observation(3), observation(2)], ActionSpec.create_continuous(2))


def make_optimizer(tmp_path, spec: BehaviorSpec, network: dict, hyperparameters: dict, signals: dict):
    settings = TrainerSettings.model_validate(
        {
            "trainer_type": "sac",
            "hyperparameters": {"batch_size": ROWS, "learning_rate": 3e-3} | hyperparameters,
            "network_settings": {"hidden_units": 24, "num_layers": 2} | network,
            "reward_signals": signals,
        },
        context={"trainer_settings": {"sac": SACSettings}},
    )
    torch.manual_seed(0)
    trainer = SACTrainer("Agent", 1, settings, True, False, 0, tmp_path)
    trainer.add_policy("Agent?team=0", trainer.create_policy("Agent?team=0", spec))
    return trainer.optimizer


def replay_batch(spec: BehaviorSpec, seed: int) -> dict[str, torch.Tensor]:
    rng = np.random.default_rng(seed)
    size = spec.action_spec.continuous_size
    columns = {
        **{f"obs_{i}": rng.normal(size=(ROWS, *o.shape)) * 2 for i, o in enumerate(spec.observation_specs)},
        **{f"next_obs_{i}": rng.normal(size=(ROWS, *o.shape)) for i, o in enumerate(spec.observation_specs)},
        "continuous_actions": rng.uniform(-4, 4, size=(ROWS, size)),
        "discrete_actions": np.zeros((ROWS, 1)),
        "action_masks": np.ones((ROWS, 0)),
        "rewards": rng.normal(size=ROWS),
        "dones": (rng.random(ROWS) < 0.2).astype(np.float32),
    }
    batch = as_tensors(columns, torch.device("cpu"))
    return {key: value if key == "discrete_actions" else value.float() for key, value in batch.items()}


@pytest.mark.parametrize("activation", ["relu", "tanh", "swish"])
def test_stacked_mlp_gradients_equal_autograd(activation):
    """Weight gradients from the first rows only, and input gradients for all rows, as autograd gives them
    for a loss on the trained rows' outputs plus one that only flows to the other rows' inputs."""
    settings = NetworkSettings(hidden_units=24, num_layers=2, activation=activation, normalize=True)
    torch.manual_seed(1)
    ensemble = TwinQEnsemble(
        ["extrinsic", "gail"], CONTINUOUS.observation_specs, settings, CONTINUOUS.action_spec
    )
    obs = [torch.randn(2 * ROWS, 3) * 3, torch.randn(2 * ROWS, 2)]
    ensemble.update_normalization(obs)
    actions = torch.randn(2 * ROWS, 2).requires_grad_()
    output_gradient = torch.randn(2, 2 * ROWS, 2)
    inputs = ensemble.body_inputs(obs, actions)
    hidden = inputs
    for layer in ensemble.body:
        hidden = ensemble.activation(layer(hidden))
    outputs = ensemble.head(hidden)
    trained = (outputs[:, :ROWS] * output_gradient[:, :ROWS]).sum()
    weights = torch.autograd.grad(trained, list(ensemble.parameters()), retain_graph=True)
    (outputs * output_gradient).sum().backward()

    mlp = ensemble.stacked_mlp()
    assert mlp is not None
    for parameter in mlp.parameters:
        parameter.grad = torch.full_like(parameter, float("nan"))  # every entry must be written
    hand_outputs, saved = mlp.forward(inputs.detach())
    torch.testing.assert_close(hand_outputs, outputs.detach(), rtol=1e-5, atol=1e-6)
    input_gradient = mlp.backward_through(saved, output_gradient, ROWS)
    for parameter, gradient in zip(mlp.parameters, weights, strict=True):
        torch.testing.assert_close(parameter.grad, gradient, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(input_gradient.sum(0)[:, -2:], actions.grad[ROWS:], rtol=1e-5, atol=1e-6)
    mlp.backward(saved, output_gradient)  # every row trains
    for parameter, autograd_parameter in zip(mlp.parameters, ensemble.parameters(), strict=True):
        torch.testing.assert_close(parameter.grad, autograd_parameter.grad, rtol=1e-5, atol=1e-5)


CASES = {
    "rl-zoo": ({"activation": "relu"}, {"ent_coef": "auto"}, {"extrinsic": {"gamma": 0.99}}),
    "normalized-tanh": ({"activation": "tanh", "normalize": True}, {}, {"extrinsic": {"gamma": 0.9}}),
    "ml-agents-defaults": ({}, {}, {"extrinsic": {"gamma": 0.99}}),
    "fixed-entropy": ({"activation": "relu"}, {"ent_coef": 0.05}, {"extrinsic": {"gamma": 0.99}}),
    "two-signals": (
        {"activation": "swish"},
        {},
        {"extrinsic": {"gamma": 0.99}, "curiosity": {"gamma": 0.9, "strength": 0.1, "encoding_size": 8}},
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_sac_update_by_hand_follows_autograd(tmp_path, case):
    """Thirty gradient steps on the same batches with the same noise: the hand path's weights, Adam moments,
    entropy coefficient and reported losses stay those of autograd's within float tolerance."""
    network, hyperparameters, signals = CASES[case]
    by_hand = make_optimizer(tmp_path / "hand", CONTINUOUS, network, hyperparameters, signals)
    by_autograd = make_optimizer(tmp_path / "autograd", CONTINUOUS, network, hyperparameters, signals)
    assert by_hand.by_hand is not None
    by_autograd.by_hand = None
    for step in range(30):
        batch = replay_batch(CONTINUOUS, step)
        obs = [batch["obs_0"], batch["obs_1"]]
        stats = []
        for optimizer in (by_hand, by_autograd):
            optimizer.policy.actor.update_normalization(obs)
            optimizer.update_normalization(obs)
            torch.manual_seed(step)  # the policy's sample
            stats.append(optimizer.update(batch, step))
        for key, value in stats[1].items():
            torch.testing.assert_close(
                torch.as_tensor(stats[0][key]), torch.as_tensor(value), rtol=1e-4, atol=1e-5
            )
    for name, module in by_hand.get_modules().items():
        expected = tensors_of(by_autograd.get_modules()[name].state_dict())
        for key, value in tensors_of(module.state_dict()).items():
            torch.testing.assert_close(value, expected[key], rtol=1e-4, atol=1e-5, msg=f"{name} {key}")
    for hand, autograd in zip(by_hand.actor.parameters(), by_autograd.actor.parameters(), strict=True):
        torch.testing.assert_close(hand, autograd, rtol=1e-4, atol=1e-5)
    alpha = by_hand.entropy.log_continuous.detach().exp().item()
    assert alpha == pytest.approx(0.05) if hyperparameters.get("ent_coef") == 0.05 else alpha != 1.0


def tensors_of(state: object, prefix: str = "") -> dict[str, torch.Tensor]:
    """Every tensor of a (nested) state dict, by its path: the weights, or Adam's moments and steps."""
    if torch.is_tensor(state):
        return {prefix: state}
    if isinstance(state, dict):
        return {k: v for key, value in state.items() for k, v in tensors_of(value, f"{prefix}/{key}").items()}
    if isinstance(state, list):
        return {k: v for i, value in enumerate(state) for k, v in tensors_of(value, f"{prefix}/{i}").items()}
    return {}


def test_autograd_is_kept_where_the_hand_path_does_not_apply(tmp_path):
    signals = {"extrinsic": {"gamma": 0.99}}
    hybrid = BehaviorSpec([observation(3)], ActionSpec(1, (2,)))
    discrete = BehaviorSpec([observation(3)], ActionSpec.create_discrete((3,)))
    assert make_optimizer(tmp_path / "a", hybrid, {}, {}, signals).by_hand is None
    assert make_optimizer(tmp_path / "b", discrete, {}, {}, signals).by_hand is None
    memory = {"memory": {"memory_size": 8, "sequence_length": 4}}
    assert make_optimizer(tmp_path / "d", CONTINUOUS, memory, {}, signals).by_hand is None

    class OwnLoss(SACOptimizer):
        def losses(self, batch):
            return super().losses(batch)

    plain = make_optimizer(tmp_path / "e", CONTINUOUS, {}, {}, signals)
    assert plain.by_hand is not None
    assert OwnLoss(plain.policy, plain.trainer_settings).by_hand is None


@pytest.mark.parametrize("deterministic", [False, True])
def test_acting_through_the_plain_mlp_gives_the_actors_own_sample(tmp_path, deterministic):
    """SACPolicy acts through SACActor.act: the same actions, log-probabilities and entropy as calling the
    actor, from the same noise."""
    optimizer = make_optimizer(tmp_path, CONTINUOUS, {"normalize": True}, {}, {"extrinsic": {}})
    actor = optimizer.actor
    obs = [torch.randn(5, 3) * 2, torch.randn(5, 2)]
    actor.update_normalization(obs)
    assert actor._acting_mlp is not None
    torch.manual_seed(4)
    acted = optimizer.policy.sample_actions(obs, None, deterministic)
    torch.manual_seed(4)
    called = actor(obs, None, deterministic)
    for field in ("continuous", "discrete", "log_probs", "entropy"):
        torch.testing.assert_close(getattr(acted, field), getattr(called, field), msg=field)
