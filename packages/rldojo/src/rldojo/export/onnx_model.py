"""Wrappers that give a policy network the inputs and outputs of an ML-Agents (model API 3) ONNX model.

Inputs: ``obs_0..obs_{n-1}`` (visual ones NCHW, as the network takes them) and, with discrete actions,
``action_masks`` [batch, sum(branches)] with 1 = allowed. Outputs, in ML-Agents' order:
``version_number`` [3.0], ``memory_size`` [0.0], then for continuous actions ``continuous_actions``
(a sample), ``continuous_action_output_shape`` [size], ``deterministic_continuous_actions`` (the
distribution's mode), both clipped to [-3, 3] / 3 as the environment receives them; then for discrete
actions ``discrete_actions`` and ``deterministic_discrete_actions`` (int64 [batch, branches]) and
``discrete_action_output_shape`` [[branch sizes]].

A network with memory (``memory_size`` > 0, an LSTM) also takes ``recurrent_in`` [batch, 1, memory_size]
after the other inputs and gives ``recurrent_out`` (the same shape) last, and ``memory_size`` is
[memory_size]: ML-Agents' memory interface, where Unity feeds each agent's ``recurrent_out`` back in.
"""

from __future__ import annotations

import torch
from mlagents_envs.base_env import BehaviorSpec
from torch import nn

from rldojo.networks import clip_continuous

__all__ = ["MODEL_API_VERSION", "export_module", "input_names", "memory_size_of", "output_names"]

MODEL_API_VERSION = 3
"""``ModelApiVersion.MLAgents2_0`` of Unity's inference code."""


def memory_size_of(network: nn.Module) -> int:
    """Floats of memory per agent of a policy's export network (0 without memory)."""
    return int(getattr(network, "memory_size", 0))


def input_names(spec: BehaviorSpec, memory_size: int = 0) -> list[str]:
    names = [f"obs_{index}" for index in range(len(spec.observation_specs))]
    if spec.action_spec.discrete_branches:
        names.append("action_masks")
    return [*names, "recurrent_in"] if memory_size else names


def output_names(spec: BehaviorSpec, memory_size: int = 0) -> list[str]:
    names = ["version_number", "memory_size"]
    if spec.action_spec.continuous_size:
        names += ["continuous_actions", "continuous_action_output_shape", "deterministic_continuous_actions"]
    if spec.action_spec.discrete_branches:
        names += ["discrete_actions", "discrete_action_output_shape", "deterministic_discrete_actions"]
    return [*names, "recurrent_out"] if memory_size else names


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
        self.has_memory = memory_size_of(network) > 0
        branches = [float(size) for size in spec.action_spec.discrete_branches]
        self.register_buffer("version_number", torch.tensor([float(MODEL_API_VERSION)]))
        self.register_buffer("memory_size", torch.tensor([float(memory_size_of(network))]))
        self.register_buffer(
            "continuous_action_output_shape", torch.tensor([float(spec.action_spec.continuous_size)])
        )
        self.register_buffer("discrete_action_output_shape", torch.tensor([branches]))

    def forward(self, *inputs: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """``inputs``: the observations, then the action masks when there are discrete actions, then
        ``recurrent_in`` with memory."""
        observations = list(inputs[: self.num_observations])
        masks = inputs[self.num_observations] if self.has_discrete else None
        if self.has_memory:
            memories = {"memories": inputs[-1][:, 0, :]}
            deterministic = self.network(observations, masks, True, **memories)
            sampled = self.network(observations, masks, False, **memories)
        else:
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
        if self.has_memory:
            outputs.append(sampled.memories.unsqueeze(1))
        return tuple(outputs)


def export_module(network: nn.Module, spec: BehaviorSpec) -> PolicyExport:
    """The export wrapper for a policy's export network (``Policy.export_network()``)."""
    return PolicyExport(network, spec)
