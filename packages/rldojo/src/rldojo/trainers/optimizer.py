"""Optimizer: the part of a trainer that owns the losses, the critic and the torch optimizers."""

from __future__ import annotations

import abc

import torch
from torch import nn

from rldojo.policy import Policy
from rldojo.settings import TrainerSettings

__all__ = ["Optimizer"]


class Optimizer(abc.ABC):
    """Updates ``policy`` from batches; subclasses define the algorithm's loss in :meth:`update`."""

    def __init__(self, policy: Policy, trainer_settings: TrainerSettings):
        self.policy = policy
        self.trainer_settings = trainer_settings
        self.reward_signal_names = list(trainer_settings.reward_signals)

    @abc.abstractmethod
    def update(self, batch: dict[str, torch.Tensor], step: int) -> dict[str, float]:
        """One gradient step on ``batch`` (columns on the policy's device); returns stats to report."""

    def get_modules(self) -> dict[str, nn.Module | torch.optim.Optimizer]:
        """What a checkpoint stores besides the policy, by ML-Agents' names (``Optimizer:critic``, ...)."""
        return {}
