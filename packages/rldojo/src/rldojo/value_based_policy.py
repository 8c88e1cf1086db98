"""ValueBasedPolicy: acting from Q-values, greedy or epsilon-greedy, for DQN-like trainers.

The policy's network is a plain Q-function: ``q_network(observations)`` returns Q-values
[batch, sum(branch sizes)], one per action of every discrete branch. The policy chooses actions from
them within the action masks; ONNX export traces only the greedy (deterministic) choice.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Sequence

import numpy as np
import torch
from mlagents_envs.base_env import ActionTuple, BehaviorSpec, DecisionSteps
from torch import nn

from rldojo.networks import ActionSample
from rldojo.policy import ActionInfo, NetworkT, Policy, allowed_action_mask

__all__ = [
    "GreedyActions",
    "ValueBasedPolicy",
    "epsilon_greedy_entropy",
    "greedy_actions",
    "random_allowed_actions",
]


def _branches(values: torch.Tensor, branch_sizes: Sequence[int]) -> tuple[torch.Tensor, ...]:
    return torch.split(values, list(branch_sizes), dim=1)


def greedy_actions(
    q_values: torch.Tensor, masks: torch.Tensor | None, branch_sizes: Sequence[int]
) -> torch.Tensor:
    """[batch, num_branches] int64: per branch, the allowed action (mask 1; all without masks) with the
    highest Q-value."""
    masked = q_values if masks is None else q_values.masked_fill(masks < 0.5, -torch.inf)
    if len(branch_sizes) == 1:
        return masked.argmax(dim=1, keepdim=True)
    return torch.stack([branch.argmax(dim=1) for branch in _branches(masked, branch_sizes)], dim=1)


def _certain(greedy: torch.Tensor, q_values: torch.Tensor) -> ActionSample:
    """The greedy actions as a sample of probability 1 (log-probability 0, entropy 0)."""
    certain = q_values.new_zeros(greedy.shape)
    return ActionSample(q_values.new_zeros(len(greedy), 0), greedy, certain, certain.sum(dim=1))


class GreedyActions(nn.Module):
    """What ONNX export traces for a value-based policy: the greedy action within the masks, whatever
    ``deterministic`` asks for (Unity then acts greedily whichever output it reads)."""

    def __init__(self, q_network: nn.Module, branch_sizes: Sequence[int]):
        super().__init__()
        self.q_network = q_network
        self.branch_sizes = tuple(branch_sizes)

    def forward(
        self, observations: Sequence[torch.Tensor], masks: torch.Tensor | None, deterministic: bool = True
    ) -> ActionSample:
        q_values = self.q_network(observations)
        if masks is None:
            masks = torch.ones_like(q_values)
        return _certain(greedy_actions(q_values, masks, self.branch_sizes), q_values)


def random_allowed_actions(masks: np.ndarray, branch_sizes: tuple[int, ...]) -> np.ndarray:
    """[n, num_branches] int64: per branch, an allowed action (mask 1) drawn uniformly, from numpy's RNG."""
    scores = np.random.random(masks.shape) * masks  # the largest of uniform draws: uniform over allowed
    if len(branch_sizes) == 1:
        return scores.argmax(axis=1)[:, None]
    return np.stack([branch.argmax(axis=1) for branch in np.split(scores, _starts(branch_sizes)[1:], 1)], 1)


def epsilon_greedy_entropy(allowed: np.ndarray, epsilon: float) -> np.ndarray:
    """The entropy of the epsilon-greedy choice, summed over the last axis (branches); ``allowed`` counts each
    branch's allowed actions. With k of them the greedy one has probability 1 - epsilon + epsilon / k and
    every other epsilon / k, whichever is greedy."""
    if epsilon == 0.0:
        return np.zeros(allowed.shape[:-1], np.float32)
    allowed = np.maximum(allowed, 1.0)
    greedy, other = 1.0 - epsilon + epsilon / allowed, epsilon / allowed
    entropy = -greedy * np.log(greedy) - (allowed - 1.0) * other * np.log(other)
    return entropy.sum(axis=-1).astype(np.float32)


@functools.lru_cache(maxsize=1)  # epsilon stays the same once its schedule has ended
def _unmasked_entropy(branch_sizes: tuple[int, ...], epsilon: float) -> np.ndarray:
    """:func:`epsilon_greedy_entropy` when every action of every branch is allowed (a 0-d array)."""
    return epsilon_greedy_entropy(np.asarray(branch_sizes, dtype=np.float64), epsilon)


@functools.cache
def _starts(branch_sizes: tuple[int, ...]) -> list[int]:
    """Where each branch starts in a row of all branches."""
    return [0, *itertools.accumulate(branch_sizes[:-1])]


class ValueBasedPolicy(Policy[NetworkT]):
    """Acts from the Q-values of ``actor`` (a Q-network): a random allowed action with probability
    :attr:`epsilon` per agent and branch, otherwise the greedy one; always greedy when deterministic.

    Whether to explore is drawn first (numpy's global RNG, which the run seeds and checkpoints save), and
    the network runs only when some agent or branch acts greedily. ``log_probs`` are reported as 0: Q-learning
    does not use them, and knowing them would need the network on every exploring step.
    """

    def __init__(
        self, behavior_spec: BehaviorSpec, actor: NetworkT, device: torch.device, deterministic: bool = False
    ):
        super().__init__(behavior_spec, actor, device, deterministic)
        self.epsilon = 0.0
        """Exploration rate; the trainer sets it from its schedule (0 for ``--inference``)."""
        self._acting: tuple[nn.Module, Callable[[Sequence[torch.Tensor]], torch.Tensor]] | None = None
        self._greedy: GreedyActions | None = None

    def q_values(self, observations: Sequence[torch.Tensor]) -> torch.Tensor:
        """The actor's Q-values; through its ``acting_forward()`` when it has one (the same values by
        plain tensor operations, see :meth:`~rldojo.trainers.dqn.QNetwork.acting_forward`)."""
        if self._acting is None or self._acting[0] is not self.actor:  # a copy's actor is another
            acting_forward = getattr(self.actor, "acting_forward", None)
            self._acting = (self.actor, acting_forward() if acting_forward is not None else self.actor)
        return self._acting[1](observations)

    def choose_actions(
        self, observations: Sequence[np.ndarray | torch.Tensor], masks: np.ndarray, deterministic: bool
    ) -> tuple[np.ndarray, np.ndarray]:
        """Epsilon-greedy actions [n, num_branches] within ``masks`` ([n, sum(branch sizes)], 1 = allowed),
        and the entropy [n] of that choice."""
        return self._choose(observations, masks, bool(masks.all()), deterministic)

    def _choose(
        self,
        observations: Sequence[np.ndarray | torch.Tensor],
        masks: np.ndarray,
        unmasked: bool,
        deterministic: bool,
    ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`choose_actions`, told whether ``masks`` allow every action."""
        epsilon = 0.0 if deterministic else self.epsilon
        n = len(masks)
        explore = np.random.random((n, len(self.branch_sizes))) < epsilon if epsilon > 0.0 else None
        exploring = 0 if explore is None else int(np.count_nonzero(explore))
        if explore is not None and exploring == explore.size:
            actions = random_allowed_actions(masks, self.branch_sizes)
        else:
            with torch.inference_mode():
                q_values = self.q_values([self._tensor(obs) for obs in observations])
                mask_tensor = None if unmasked else self.mask_tensor(masks)
                greedy = greedy_actions(q_values, mask_tensor, self.branch_sizes)
            actions = greedy.numpy() if greedy.device.type == "cpu" else greedy.cpu().numpy()
            if explore is not None and exploring:
                actions = np.where(explore, random_allowed_actions(masks, self.branch_sizes), actions)
        if unmasked:  # the same for every agent
            return actions, np.full(n, _unmasked_entropy(self.branch_sizes, epsilon))
        allowed = np.add.reduceat(masks, _starts(self.branch_sizes), axis=1)
        return actions, epsilon_greedy_entropy(allowed, epsilon)

    def sample_actions(
        self, observations: list[torch.Tensor], masks: torch.Tensor | None, deterministic: bool
    ) -> ActionSample:
        """:meth:`choose_actions` as an :class:`~rldojo.networks.ActionSample` (the acting hook's form)."""
        n = len(observations[0])
        masks_array = (
            masks.cpu().numpy() if masks is not None else np.ones((n, sum(self.branch_sizes)), np.float32)
        )
        actions, entropy = self.choose_actions(observations, masks_array, deterministic)
        return ActionSample(
            continuous=torch.zeros(n, 0, device=self.device),
            discrete=torch.as_tensor(actions, device=self.device),
            log_probs=torch.zeros(n, len(self.branch_sizes), device=self.device),
            entropy=torch.as_tensor(entropy, device=self.device),
        )

    def _tensor(self, obs: np.ndarray | torch.Tensor) -> torch.Tensor:
        """``obs`` as a float32 tensor on the policy's device (a float32 array on the CPU: without a copy)."""
        if isinstance(obs, np.ndarray) and obs.dtype == np.float32 and self.device.type == "cpu":
            return torch.from_numpy(obs)
        return torch.as_tensor(obs, dtype=torch.float32, device=self.device)

    def get_action(self, decision_steps: DecisionSteps, memories: np.ndarray | None = None) -> ActionInfo:
        """Actions for all agents in ``decision_steps``: numpy in and out, the network run at most once
        (a Q-network has no memory: ``memories`` is always None)."""
        masks = allowed_action_mask(decision_steps, self.branch_sizes)
        unmasked = decision_steps.action_mask is None or bool(masks.all())
        actions, entropy = self._choose(decision_steps.obs, masks, unmasked, self.deterministic)
        n = len(actions)
        no_continuous = np.zeros((n, 0), np.float32)
        return ActionInfo(
            env_action=ActionTuple(continuous=no_continuous, discrete=actions.astype(np.int32)),
            continuous=no_continuous,
            discrete=actions,
            log_probs=np.zeros((n, len(self.branch_sizes)), np.float32),
            action_masks=masks,
            entropy=entropy,
            agent_ids=decision_steps.agent_id,
        )

    def export_network(self) -> nn.Module:
        """The greedy choice only: the epsilon-greedy branch is never traced. The same module while the actor
        is, so that exporting unchanged weights again reuses the model (:mod:`rldojo.export`)."""
        if self._greedy is None or self._greedy.q_network is not self.actor:
            self._greedy = GreedyActions(self.actor, self.branch_sizes)
        return self._greedy
