"""Policy: a network on a device that turns a batch of ``DecisionSteps`` into actions in one forward pass."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np
import torch
from mlagents_envs.base_env import ActionTuple, BehaviorSpec, DecisionSteps
from torch import nn

from rldojo.networks import ActionSample, Actor, clip_continuous

__all__ = ["ActionInfo", "NetworkT", "Policy", "allowed_action_mask"]

NetworkT = TypeVar("NetworkT", bound=nn.Module)
"""The network a policy acts with (an :class:`~rldojo.networks.Actor`, SAC's actor, a Q-network, ...)."""


@dataclass
class ActionInfo:
    """The policy's output for every agent of one ``DecisionSteps`` (row i belongs to ``agent_ids[i]``)."""

    env_action: ActionTuple  # what is sent to the environment (continuous clipped to [-1, 1])
    continuous: np.ndarray  # [n, continuous_size] unclipped samples, what PPO evaluates
    discrete: np.ndarray  # [n, num_branches]
    log_probs: np.ndarray  # [n, continuous_size + num_branches]
    action_masks: np.ndarray  # [n, sum(branch sizes)], 1 = allowed
    entropy: np.ndarray  # [n]
    agent_ids: np.ndarray  # [n]
    memories: np.ndarray | None = None  # [n, memory_size]: each agent's memory when it acted (with memory)
    next_memories: np.ndarray | None = None  # [n, memory_size]: its memory for its next decision


def allowed_action_mask(decision_steps: DecisionSteps, branch_sizes: Sequence[int]) -> np.ndarray:
    """ML-Agents masks (True = disabled, one array per branch) as [n, sum(branches)], 1 = allowed."""
    if decision_steps.action_mask is None:
        return np.ones((len(decision_steps), sum(branch_sizes)), dtype=np.float32)
    return 1.0 - np.concatenate(decision_steps.action_mask, axis=1).astype(np.float32)


class Policy(Generic[NetworkT]):
    """Acts with ``actor`` for all agents of a behavior together; ``actor`` is what checkpoints save as
    ``Policy``.

    The acting hook is :meth:`sample_actions`: by default ``actor(observations, masks, deterministic)``
    returns an :class:`~rldojo.networks.ActionSample` (an :class:`~rldojo.networks.Actor` does). A policy
    whose network is not called that way overrides it, and :meth:`export_network` (see
    :class:`~rldojo.value_based_policy.ValueBasedPolicy`).

    A network with memory (a :class:`~rldojo.networks.MemoryNetwork` with ``memory_size > 0``) acts through
    :meth:`sample_actions_with_memories`: it also takes ``memories=`` and returns the next ones in the
    sample. The policy holds no memories: whoever steps the agents passes each agent's memory to
    :meth:`get_action` and keeps the next ones (zeros start an episode).
    """

    def __init__(
        self, behavior_spec: BehaviorSpec, actor: NetworkT, device: torch.device, deterministic: bool = False
    ):
        self.behavior_spec = behavior_spec
        self.device = device
        self.actor = actor.to(device)
        self.deterministic = deterministic
        self.branch_sizes = tuple(int(size) for size in behavior_spec.action_spec.discrete_branches)

    def cpu_copy(self) -> Policy[NetworkT]:
        """A copy that acts on the CPU with its own copy of the network (an env runner's policy); what
        the policy keeps besides the network (a DQN's epsilon) comes along."""
        policy = copy.copy(self)
        policy.device = torch.device("cpu")
        policy.actor = copy.deepcopy(self.actor).to(policy.device)
        return policy

    def to_tensors(self, observations: Sequence[np.ndarray]) -> list[torch.Tensor]:
        return [torch.as_tensor(obs, dtype=torch.float32, device=self.device) for obs in observations]

    @property
    def memory_size(self) -> int:
        """Floats of memory per agent; 0 when the network has no memory."""
        return int(getattr(self.actor, "memory_size", 0))

    def mask_tensor(self, masks: np.ndarray) -> torch.Tensor | None:
        return torch.as_tensor(masks, device=self.device) if self.branch_sizes else None

    def sample_actions(
        self, observations: list[torch.Tensor], masks: torch.Tensor | None, deterministic: bool
    ) -> ActionSample:
        """The acting hook: actions for a batch of observations (``masks``: 1 = allowed, None without
        discrete actions); the distribution's mode when ``deterministic``. An
        :class:`~rldojo.networks.Actor` acts through :meth:`~rldojo.networks.Actor.act` (the same sample)."""
        if isinstance(self.actor, Actor):
            return self.actor.act(observations, masks, deterministic)
        sample: ActionSample = self.actor(observations, masks, deterministic)
        return sample

    def sample_actions_with_memories(
        self,
        observations: list[torch.Tensor],
        masks: torch.Tensor | None,
        deterministic: bool,
        memories: torch.Tensor,
    ) -> ActionSample:
        """The acting hook of a network with memory: as :meth:`sample_actions`, from each agent's
        ``memories`` [n, memory_size]; the sample carries the next ones."""
        sample: ActionSample = self.actor(observations, masks, deterministic, memories=memories)
        return sample

    def export_network(self) -> nn.Module:
        """The module ONNX export traces, called as ``network(observations, masks, deterministic)`` and
        returning an :class:`~rldojo.networks.ActionSample` (export asks for both a sampled and a
        deterministic pass)."""
        return self.actor

    @torch.inference_mode()
    def get_action(self, decision_steps: DecisionSteps, memories: np.ndarray | None = None) -> ActionInfo:
        """Choose actions for all agents in ``decision_steps`` with one forward pass; with memory,
        ``memories`` [n, memory_size] are theirs (zeros, an episode's start, when None)."""
        masks = allowed_action_mask(decision_steps, self.branch_sizes)
        observations = self.to_tensors(decision_steps.obs)
        # without masks from the environment every action is allowed: the network skips masking
        mask_tensor = None if decision_steps.action_mask is None else self.mask_tensor(masks)
        if not self.memory_size:
            sample = self.sample_actions(observations, mask_tensor, self.deterministic)
        else:
            if memories is None:
                memories = np.zeros((len(decision_steps), self.memory_size), dtype=np.float32)
            memory_tensor = torch.as_tensor(memories, dtype=torch.float32, device=self.device)
            sample = self.sample_actions_with_memories(
                observations, mask_tensor, self.deterministic, memory_tensor
            )
            assert sample.memories is not None, "a network with memory returns its next memories"
        continuous = sample.continuous.cpu().numpy()
        discrete = sample.discrete.cpu().numpy()
        clipped = clip_continuous(sample.continuous).cpu().numpy() if continuous.shape[1] else continuous
        env_action = ActionTuple(continuous=clipped, discrete=discrete.astype(np.int32))
        return ActionInfo(
            env_action=env_action,
            continuous=continuous,
            discrete=discrete,
            log_probs=sample.log_probs.cpu().numpy(),
            action_masks=masks,
            entropy=sample.entropy.cpu().numpy(),
            agent_ids=decision_steps.agent_id,
            memories=memories if self.memory_size else None,
            next_memories=sample.memories.cpu().numpy() if sample.memories is not None else None,
        )

    def update_normalization(self, observations: Sequence[np.ndarray]) -> None:
        """Update the network's observation normalizer, if it has one."""
        update = getattr(self.actor, "update_normalization", None)
        if update is not None:
            update(self.to_tensors(observations))
