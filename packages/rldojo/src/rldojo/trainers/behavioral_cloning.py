"""Behavioral cloning (ML-Agents' ``behavioral_cloning:`` block): after each policy update, supervised
epochs that pull the policy towards the demonstrated actions, with their own Adam over the policy's
weights at ``strength`` times the trainer's learning rate, annealed to zero over ``steps``.

With memory, as in ML-Agents, the demonstration is cut into consecutive sequences of ``sequence_length``
decisions (shuffled as wholes; the last partial one is left out), and each is replayed from zero memory:
the demonstration holds no memories, and a policy acting from a fresh memory must get its actions right
too."""

from __future__ import annotations

from typing import Any, Protocol

import torch

from rldojo.adam import Adam
from rldojo.errors import ConfigError
from rldojo.networks import PolicyDistribution
from rldojo.policy import Policy
from rldojo.settings import BehavioralCloningSettings, ScheduleType
from rldojo.trainers.demonstrations import ExpertDemonstration, load_expert_demonstration
from rldojo.trainers.schedules import DecayedValue

__all__ = ["BehavioralCloning", "DistributionNetwork"]

DEFAULT_NUM_EPOCH = 3
"""Epochs per update when ``num_epoch`` is not set (ML-Agents' code; its docs say the trainer's)."""
MIN_LEARNING_RATE = 1e-10
LOSS_STAT = "Losses/Pretraining Loss"


class DistributionNetwork(Protocol):
    """A policy network that behavioral cloning can fit: it gives a differentiable sample of its actions."""

    def distribution(
        self, observations: list[torch.Tensor], masks: torch.Tensor | None, sequence_length: int = 1
    ) -> PolicyDistribution:
        """``sequence_length`` is passed only to networks with memory: rows are sequences, each from zero
        memory."""
        ...


class BehavioralCloning:
    """Fits ``policy`` to a demonstration: mean squared error between the policy's continuous actions (as
    the environment receives them) and the expert's, plus the cross-entropy of the expert's choice in each
    discrete branch (averaged over branches)."""

    def __init__(
        self,
        settings: BehavioralCloningSettings,
        policy: Policy[Any],
        behavior_name: str,
        learning_rate: float,
        default_batch_size: int,
        trainer_type: str,
        sequence_length: int = 1,
    ):
        if not callable(getattr(policy.actor, "distribution", None)):
            raise ConfigError(
                f"behavioral_cloning of {behavior_name}: trainer_type {trainer_type} has no action "
                "distribution to fit; use ppo, a2c or sac, or remove behavioral_cloning"
            )
        self.network: DistributionNetwork = policy.actor
        self.demonstration = load_expert_demonstration(settings.demo_path, policy.device)
        self.sequence_length = sequence_length
        self.sequences = len(self.demonstration) // sequence_length
        if not self.sequences:
            raise ConfigError(
                f"behavioral_cloning of {behavior_name}: the demonstration has {len(self.demonstration)} "
                f"decisions, fewer than network_settings.memory.sequence_length {sequence_length}; record a "
                "longer one or shorten the sequences"
            )
        batch_size = min(settings.batch_size or default_batch_size, len(self.demonstration))
        self.sequences_per_batch = max(1, batch_size // sequence_length)
        self.batch_size = self.sequences_per_batch * sequence_length
        self.num_epoch = settings.num_epoch or DEFAULT_NUM_EPOCH
        self.batches_per_epoch = self.sequences // self.sequences_per_batch
        if settings.samples_per_update:
            self.batches_per_epoch = min(
                self.batches_per_epoch, max(1, settings.samples_per_update // self.batch_size)
            )
        schedule = ScheduleType.LINEAR if settings.steps > 0 else ScheduleType.CONSTANT
        self.learning_rate = DecayedValue(
            schedule, learning_rate * settings.strength, MIN_LEARNING_RATE, settings.steps
        )
        self.optimizer = Adam(policy.actor.parameters(), lr=self.learning_rate(0))

    def loss(self, expert: ExpertDemonstration) -> torch.Tensor:
        """The cloning loss of the policy on a batch of expert decisions."""
        if self.sequence_length > 1:
            policy = self.network.distribution(
                expert.observations, None, sequence_length=self.sequence_length
            )
        else:
            policy = self.network.distribution(expert.observations, None)
        terms = []
        if policy.continuous.shape[1]:
            terms.append(((policy.continuous - expert.continuous_actions) ** 2).mean())
        if policy.branch_log_probs:
            cross_entropies = [
                -branch.gather(1, expert.discrete_actions[:, index : index + 1]).mean()
                for index, branch in enumerate(policy.branch_log_probs)
            ]
            terms.append(torch.stack(cross_entropies).mean())
        return torch.stack(terms).sum()

    def update(self, step: int) -> dict[str, float]:
        """``num_epoch`` shuffled passes over (at most ``samples_per_update`` of) the demonstration at the
        learning rate of ``step``; returns the mean loss as ``Losses/Pretraining Loss``."""
        for group in self.optimizer.param_groups:
            group["lr"] = self.learning_rate(step)
        device = self.demonstration.dones.device
        steps = torch.arange(self.sequence_length, device=device)
        losses = []
        for _ in range(self.num_epoch):
            order = torch.randperm(self.sequences, device=device)
            for first in range(
                0, self.batches_per_epoch * self.sequences_per_batch, self.sequences_per_batch
            ):
                sequences = order[first : first + self.sequences_per_batch]
                rows = (sequences[:, None] * self.sequence_length + steps).reshape(-1)
                loss = self.loss(self.demonstration.rows(rows))
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
                losses.append(loss.detach())
        return {LOSS_STAT: torch.stack(losses).mean().item()}

    def state_dict(self) -> dict[str, Any]:
        """Its Adam's state, for checkpoints."""
        return self.optimizer.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.optimizer.load_state_dict(state)
