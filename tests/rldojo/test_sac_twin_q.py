"""SAC's twin Q networks stacked into one ensemble, and the gradient step's single backward pass: the same
initial weights, values and gradients as two separate networks and one backward pass per optimizer (within
float tolerance: a batched matrix product may sum in another order, so results are not bit-identical), and
checkpoints written with separate networks still load and resume."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from mlagents_envs.base_env import ActionSpec, BehaviorSpec

from rldojo.buffer import as_tensors
from rldojo.checkpoint import rng_state, save_trainer_checkpoint
from rldojo.settings import NetworkSettings, TrainerSettings
from rldojo.trainers.sac import SACSettings, SACTrainer
from rldojo.trainers.sac import trainer as sac_trainer
from rldojo.trainers.sac.networks import TwinQEnsemble, TwinQNetworks, stack_members

from .specs import observation

pytestmark = pytest.mark.smoke

SPECS = {
    "continuous": BehaviorSpec([observation(3)], ActionSpec.create_continuous(1)),
    "hybrid": BehaviorSpec([observation(4), observation(2)], ActionSpec(2, (3, 2))),
}
NETWORK = {"hidden_units": 16, "num_layers": 2, "normalize": True, "activation": "relu"}


def make_trainer(tmp_path, spec: BehaviorSpec, resume: bool = False, hidden_units: int = 16) -> SACTrainer:
    network = NETWORK | {"hidden_units": hidden_units}
    settings = TrainerSettings.model_validate(
        {"trainer_type": "sac", "hyperparameters": {"batch_size": 32}, "network_settings": network},
        context={"trainer_settings": {"sac": SACSettings}},
    )
    torch.manual_seed(0)
    trainer = SACTrainer("Agent", 1, settings, True, resume, 0, tmp_path)
    trainer.add_policy("Agent?team=0", trainer.create_policy("Agent?team=0", spec))
    return trainer


def replay_batch(spec: BehaviorSpec, size: int = 32) -> dict[str, torch.Tensor]:
    rng = np.random.default_rng(1)
    branches = spec.action_spec.discrete_branches
    columns = {
        **{f"obs_{i}": rng.normal(size=(size, *o.shape)) for i, o in enumerate(spec.observation_specs)},
        **{f"next_obs_{i}": rng.normal(size=(size, *o.shape)) for i, o in enumerate(spec.observation_specs)},
        "continuous_actions": rng.uniform(-3, 3, size=(size, spec.action_spec.continuous_size)),
        "discrete_actions": np.stack([rng.integers(b, size=size) for b in branches] or [np.zeros(size)], 1),
        "action_masks": np.ones((size, sum(branches))),
        "rewards": rng.normal(size=size),
        "dones": (rng.random(size) < 0.2).astype(np.float32),
    }
    batch = as_tensors(columns, torch.device("cpu"))
    return {key: value if key == "discrete_actions" else value.float() for key, value in batch.items()}


def as_ensemble(separate: TwinQNetworks, gradients: bool = False) -> dict[str, torch.Tensor]:
    """The separate networks' weights (or their gradients) in the ensemble's layout."""
    layers = [
        [m for m in q.encoder.body if isinstance(m, torch.nn.Linear)] + [q.head]
        for q in (separate.q1, separate.q2)
    ]
    stacked = {}
    for index, pair in enumerate(zip(*layers, strict=True)):
        name = f"body.{index}" if index < len(layers[0]) - 1 else "head"
        for kind in ("weight", "bias"):
            tensors = [getattr(layer, kind) for layer in pair]
            tensor = stack_members([t.grad if gradients else t.detach() for t in tensors])
            stacked[f"{name}.{kind}"] = tensor.unsqueeze(1) if kind == "bias" else tensor
    return stacked


def separate_trainer(tmp_path, spec: BehaviorSpec, monkeypatch) -> SACTrainer:
    """A trainer whose twin Q networks are two separate networks, as before they were stacked."""
    with monkeypatch.context() as patch:
        patch.setattr(sac_trainer, "twin_q_networks", TwinQNetworks)
        return make_trainer(tmp_path, spec)


@pytest.mark.parametrize("kind", sorted(SPECS))
def test_the_ensemble_starts_computes_and_differentiates_as_two_separate_q_networks(kind):
    spec = SPECS[kind]
    settings = NetworkSettings.model_validate(NETWORK)
    streams = ["extrinsic", "curiosity"]
    torch.manual_seed(3)
    separate = TwinQNetworks(streams, spec.observation_specs, settings, spec.action_spec)
    torch.manual_seed(3)
    ensemble = TwinQEnsemble(streams, spec.observation_specs, settings, spec.action_spec)
    for name, weight in as_ensemble(separate).items():  # initialised exactly as two nn.Linear each
        assert torch.equal(ensemble.get_parameter(name), weight), name
    batch = replay_batch(spec)
    obs = [batch[f"obs_{i}"] for i in range(len(spec.observation_specs))]
    for module in (separate, ensemble):
        module.update_normalization(obs)
    actions = [batch["continuous_actions"].clone().requires_grad_() for _ in range(2)]
    outputs = [module(obs, a) for module, a in zip((separate, ensemble), actions, strict=True)]
    for q_separate, q_ensemble in zip(*outputs, strict=True):
        for stream in streams:
            torch.testing.assert_close(q_ensemble[stream], q_separate[stream])
    for q1, q2 in outputs:
        sum((q1[s] ** 2).sum() + (q2[s] * 3).sum() for s in streams).backward()
    torch.testing.assert_close(actions[1].grad, actions[0].grad)
    for name, grad in as_ensemble(separate, gradients=True).items():
        torch.testing.assert_close(ensemble.get_parameter(name).grad, grad, msg=name)


@pytest.mark.parametrize("kind", sorted(SPECS))
def test_one_backward_pass_gives_each_optimizer_the_gradients_of_its_own_losses(tmp_path, kind):
    """The update's single backward pass over the summed losses equals one backward pass per optimizer
    (policy loss -> actor, Q and value losses -> value networks, entropy loss -> coefficients)."""
    spec = SPECS[kind]
    optimizer = make_trainer(tmp_path, spec).optimizer
    batch = replay_batch(spec)
    torch.manual_seed(7)  # the policy's sample
    losses = optimizer.losses(batch)
    owners = [
        (optimizer.policy_optimizer, [losses.policy]),
        (optimizer.value_optimizer, [losses.q1 + losses.q2 + losses.value]),
        (optimizer.entropy_optimizer, [losses.entropy]),
    ]
    expected = {}
    for owner, (loss,) in owners:
        parameters = [p for group in owner.param_groups for p in group["params"]]
        others = [p for o, _ in owners if o is not owner for group in o.param_groups for p in group["params"]]
        grads = torch.autograd.grad(loss, parameters + others, retain_graph=True, allow_unused=True)
        assert all(g is None or not g.any() for g in grads[len(parameters) :])  # nothing reaches the others
        expected |= dict(zip(parameters, grads[: len(parameters)], strict=True))
    torch.manual_seed(7)
    optimizer.update(batch, step=0)
    for parameter, grad in expected.items():
        torch.testing.assert_close(parameter.grad, grad)


def test_a_checkpoint_written_with_separate_q_networks_resumes_into_the_ensemble(tmp_path, monkeypatch):
    """Weights, normalizer statistics and Adam's moments are stacked on load: the next gradient step is the
    one the separate networks would have taken."""
    spec = SPECS["hybrid"]
    batch = replay_batch(spec)
    before = separate_trainer(tmp_path / "separate", spec, monkeypatch)
    before.optimizer.update_normalization([batch["obs_0"], batch["obs_1"]])
    before.optimizer.update(batch, step=0)  # Adam has moments to carry over
    state = before.checkpoint_state()
    assert "q1.head.weight" in state["modules"]["Optimizer:q_network"]
    save_trainer_checkpoint(tmp_path / "separate", "Agent", 1, {**state, "rng": rng_state()}, 1, None)
    after = make_trainer(tmp_path / "separate", spec, resume=True)  # --resume
    assert isinstance(after.optimizer.q_networks, TwinQEnsemble)
    for name, weight in as_ensemble(before.optimizer.q_networks).items():
        assert torch.equal(after.optimizer.q_networks.get_parameter(name), weight), name
    for trainer in (before, after):
        torch.manual_seed(11)
        trainer.optimizer.update(batch, step=1)
    for name, weight in as_ensemble(before.optimizer.q_networks).items():
        torch.testing.assert_close(after.optimizer.q_networks.get_parameter(name), weight, msg=name)
    for module in ("actor", "value_network"):
        for b, a in zip(
            getattr(before.optimizer, module).parameters(),
            getattr(after.optimizer, module).parameters(),
            strict=True,
        ):
            torch.testing.assert_close(a, b)
