"""Wrappers that give a policy network the inputs and outputs of an ML-Agents (model API 3) ONNX model.

Inputs: ``obs_0..obs_{n-1}`` (visual ones NCHW, as the network takes them) and, with discrete actions,
``action_masks`` [batch, sum(branches)] with 1 = allowed. Outputs, in ML-Agents' order:
``version_number`` [3.0], ``memory_size`` [0.0], then for continuous actions ``continuous_actions``
(a Gaussian sample), ``continuous_action_output_shape`` [size], ``deterministic_continuous_actions``
(the mean), both clipped to [-3, 3] / 3 as the environment receives them; then for discrete actions
``discrete_actions`` and ``deterministic_discrete_actions`` (int64 [batch, branches]) and
``discrete_action_output_shape`` [[branch sizes]].
"""

from __future__ import annotations

import torch
from mlagents_envs.base_env import BehaviorSpec
from torch import nn

from rldojo.errors import RldojoError
from rldojo.networks import Actor, clip_continuous
from rldojo.trainers.dqn.q_network import QNetwork, greedy_actions

__all__ = ["MODEL_API_VERSION", "export_module", "input_names", "output_names"]

MODEL_API_VERSION = 3
"""``ModelApiVersion.MLAgents2_0`` of Unity's inference code."""


def input_names(spec: BehaviorSpec) -> list[str]:
    names = [f"obs_{index}" for index in range(len(spec.observation_specs))]
    return [*names, "action_masks"] if spec.action_spec.discrete_branches else names


def output_names(spec: BehaviorSpec) -> list[str]:
    names = ["version_number", "memory_size"]
    if spec.action_spec.continuous_size:
        names += ["continuous_actions", "continuous_action_output_shape", "deterministic_continuous_actions"]
    if spec.action_spec.discrete_branches:
        names += ["discrete_actions", "discrete_action_output_shape", "deterministic_discrete_actions"]
    return names


class _ExportModule(nn.Module):
    """Holds the constant outputs and splits the flat ONNX inputs into observations and masks."""

    version_number: torch.Tensor
    memory_size: torch.Tensor
    continuous_action_output_shape: torch.Tensor
    discrete_action_output_shape: torch.Tensor

    def __init__(self, spec: BehaviorSpec):
        super().__init__()
        self.num_observations = len(spec.observation_specs)
        branches = [float(size) for size in spec.action_spec.discrete_branches]
        self.register_buffer("version_number", torch.tensor([float(MODEL_API_VERSION)]))
        self.register_buffer("memory_size", torch.tensor([0.0]))
        self.register_buffer(
            "continuous_action_output_shape", torch.tensor([float(spec.action_spec.continuous_size)])
        )
        self.register_buffer("discrete_action_output_shape", torch.tensor([branches]))

    def split(self, inputs: tuple[torch.Tensor, ...]) -> tuple[list[torch.Tensor], torch.Tensor | None]:
        observations = list(inputs[: self.num_observations])
        masks = inputs[self.num_observations] if len(inputs) > self.num_observations else None
        return observations, masks


class ActorExport(_ExportModule):
    """A PPO-style :class:`Actor` (continuous, discrete, or both)."""

    def __init__(self, actor: Actor, spec: BehaviorSpec):
        super().__init__(spec)
        self.actor = actor

    def forward(self, *inputs: torch.Tensor) -> tuple[torch.Tensor, ...]:
        observations, masks = self.split(inputs)
        head = self.actor.action_head
        hidden = self.actor.encoder(observations)
        outputs = [self.version_number, self.memory_size]
        if head.mean is not None and head.log_std is not None:
            mean = head.mean(hidden)
            sample = mean + torch.randn_like(mean) * head.log_std.exp()
            outputs += [clip_continuous(sample), self.continuous_action_output_shape, clip_continuous(mean)]
        if head.branch_sizes:
            branches = head._branch_log_probs(hidden, masks)
            sampled = torch.cat([torch.multinomial(branch.exp(), 1) for branch in branches], dim=1)
            greedy = torch.cat([branch.argmax(dim=1, keepdim=True) for branch in branches], dim=1)
            outputs += [sampled, self.discrete_action_output_shape, greedy]
        return tuple(outputs)


class QNetworkExport(_ExportModule):
    """DQN's :class:`QNetwork`: both discrete outputs are the greedy (argmax within masks) actions."""

    def __init__(self, q_network: QNetwork, spec: BehaviorSpec):
        super().__init__(spec)
        self.q_network = q_network

    def forward(self, *inputs: torch.Tensor) -> tuple[torch.Tensor, ...]:
        observations, masks = self.split(inputs)
        assert masks is not None, "a Q-network always has discrete actions"
        greedy = greedy_actions(self.q_network.q_values(observations), masks, self.q_network.branch_sizes)
        return (self.version_number, self.memory_size, greedy, self.discrete_action_output_shape, greedy)


def export_module(network: nn.Module, spec: BehaviorSpec) -> _ExportModule:
    """The export wrapper for a trainer's policy network (``Policy.actor``)."""
    if isinstance(network, Actor):
        return ActorExport(network, spec)
    if isinstance(network, QNetwork):
        return QNetworkExport(network, spec)
    raise RldojoError(
        f"cannot export a {type(network).__name__} to ONNX: rldojo exports Actor and QNetwork policies"
    )
