"""Wrappers that give a policy network the inputs and outputs of an ML-Agents (model API 3) ONNX model.

Inputs: ``obs_0..obs_{n-1}`` (visual ones NCHW, as the network takes them) and, with discrete actions,
``action_masks`` [batch, sum(branches)] with 1 = allowed. Outputs, in ML-Agents' order:
``version_number`` [3.0], ``memory_size`` [0.0], then for continuous actions ``continuous_actions``
(a sample), ``continuous_action_output_shape`` [size], ``deterministic_continuous_actions`` (the
distribution's mode), both clipped to [-3, 3] / 3 as the environment receives them; then for discrete
actions ``discrete_actions`` and ``deterministic_discrete_actions`` (int64 [batch, branches]) and
``discrete_action_output_shape`` [[branch sizes]].
"""

from __future__ import annotations

import torch
from mlagents_envs.base_env import BehaviorSpec
from torch import nn

from rldojo.networks import clip_continuous

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


class PolicyExport(nn.Module):
    """A policy's export network (:meth:`rldojo.policy.Policy.export_network`), called like
    :class:`~rldojo.networks.Actor`: ``network(observations, masks, deterministic)`` returns an
    ``ActionSample`` whose continuous part :func:`clip_continuous` turns into the environment's action.

    The graph holds a sampling pass and a deterministic pass; the exporter merges their common part (the
    encoder). A value-based policy's export network is greedy in both (no epsilon branch is traced).
    """

    version_number: torch.Tensor
    memory_size: torch.Tensor
    continuous_action_output_shape: torch.Tensor
    discrete_action_output_shape: torch.Tensor

    def __init__(self, network: nn.Module, spec: BehaviorSpec):
        super().__init__()
        self.network = network
        self.num_observations = len(spec.observation_specs)
        self.has_continuous = spec.action_spec.continuous_size > 0
        self.has_discrete = len(spec.action_spec.discrete_branches) > 0
        branches = [float(size) for size in spec.action_spec.discrete_branches]
        self.register_buffer("version_number", torch.tensor([float(MODEL_API_VERSION)]))
        self.register_buffer("memory_size", torch.tensor([0.0]))
        self.register_buffer(
            "continuous_action_output_shape", torch.tensor([float(spec.action_spec.continuous_size)])
        )
        self.register_buffer("discrete_action_output_shape", torch.tensor([branches]))

    def forward(self, *inputs: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """``inputs``: the observations, then the action masks when there are discrete actions."""
        observations = list(inputs[: self.num_observations])
        masks = inputs[self.num_observations] if self.has_discrete else None
        deterministic = self.network(observations, masks, True)
        sampled = self.network(observations, masks, False)
        outputs = [self.version_number, self.memory_size]
        if self.has_continuous:
            outputs += [
                clip_continuous(sampled.continuous),
                self.continuous_action_output_shape,
                clip_continuous(deterministic.continuous),
            ]
        if self.has_discrete:
            outputs += [sampled.discrete, self.discrete_action_output_shape, deterministic.discrete]
        return tuple(outputs)


def export_module(network: nn.Module, spec: BehaviorSpec) -> PolicyExport:
    """The export wrapper for a policy's export network (``Policy.export_network()``)."""
    return PolicyExport(network, spec)
