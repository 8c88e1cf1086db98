"""A2CTrainer."""

from __future__ import annotations

from rldojo.trainers.a2c.optimizer import A2COptimizer
from rldojo.trainers.a2c.settings import TRAINER_NAME, A2CSettings
from rldojo.trainers.ppo import PPOTrainer

__all__ = ["A2CTrainer"]


class A2CTrainer(PPOTrainer):
    """Advantage actor-critic (ML-Agents' A2C plugin). Policy, value estimates and per-signal GAE are
    PPO's (an OnPolicyTrainer); only the loss differs, and each experience is used once."""

    optimizer: A2COptimizer  # type: ignore[assignment]
    hyperparameters: A2CSettings

    def create_optimizer(self) -> A2COptimizer:  # type: ignore[override]
        assert self.policy is not None
        return A2COptimizer(self.policy, self.trainer_settings)

    @staticmethod
    def get_trainer_name() -> str:
        return TRAINER_NAME
