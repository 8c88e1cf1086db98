"""A2C with ML-Agents' semantics (its A2C plugin): policy gradient on advantages, squared value error,
entropy bonus; each experience used once."""

from __future__ import annotations

import torch

from rldojo.networks import Actor
from rldojo.policy import Policy
from rldojo.settings import TrainerSettings
from rldojo.trainers.a2c.settings import TRAINER_NAME, A2CSettings
from rldojo.trainers.on_policy import OnPolicyOptimizer, OnPolicyTrainer
from rldojo.trainers.optimizer import UpdateStats, mean_of
from rldojo.trainers.schedules import DecayedValue

__all__ = ["A2COptimizer", "A2CTrainer"]


class A2COptimizer(OnPolicyOptimizer[A2CSettings]):
    """Learning rate and beta follow their schedules over ``max_steps``."""

    def __init__(self, policy: Policy[Actor], trainer_settings: TrainerSettings):
        hp = trainer_settings.hyperparameters
        assert isinstance(hp, A2CSettings)
        super().__init__(policy, trainer_settings, hp.shared_critic, hp.max_grad_norm)
        self.decay_beta = DecayedValue(hp.beta_schedule, hp.beta, 1e-10, trainer_settings.max_steps)

    def update(self, batch: dict[str, torch.Tensor], step: int) -> UpdateStats:
        lr, beta = self.decay_learning_rate(step), self.decay_beta(step)
        obs, log_probs, entropy = self.evaluate_actions(batch)
        policy_loss = -self.masked_mean(log_probs.sum(dim=1) * batch["advantages"], batch)
        value_loss = mean_of(
            [
                self.masked_mean((batch[f"returns_{name}"] - values) ** 2, batch)
                for name, values in self.critic_values(obs, batch).items()
            ]
        )
        loss = (
            policy_loss + self.hyperparameters.vf_coef * value_loss - beta * self.masked_mean(entropy, batch)
        )
        self.apply_gradients(loss, lr)
        return {
            "Losses/Policy Loss": policy_loss.detach().abs(),
            "Losses/Value Loss": value_loss.detach(),
            "Policy/Learning Rate": lr,
            "Policy/Beta": beta,
        }


class A2CTrainer(OnPolicyTrainer[A2CSettings]):
    """Advantage actor-critic: an :class:`OnPolicyTrainer` with A2C's loss and one epoch per buffer."""

    optimizer: A2COptimizer

    def create_optimizer(self) -> A2COptimizer:
        assert self.policy is not None
        return A2COptimizer(self.policy, self.trainer_settings)

    @staticmethod
    def get_trainer_name() -> str:
        return TRAINER_NAME
