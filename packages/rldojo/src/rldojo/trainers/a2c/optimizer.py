"""A2C losses with ML-Agents' semantics: policy gradient on advantages, squared value error, entropy bonus."""

from __future__ import annotations

import torch

from rldojo.policy import Policy
from rldojo.settings import TrainerSettings
from rldojo.trainers.a2c.settings import A2CSettings
from rldojo.trainers.actor_critic import ActorCriticOptimizer
from rldojo.trainers.schedules import DecayedValue

__all__ = ["A2COptimizer"]


class A2COptimizer(ActorCriticOptimizer):
    """Learning rate and beta follow their schedules over ``max_steps``."""

    def __init__(self, policy: Policy, trainer_settings: TrainerSettings):
        hp: A2CSettings = trainer_settings.hyperparameters  # type: ignore[assignment]
        super().__init__(policy, trainer_settings, hp.shared_critic, hp.max_grad_norm)
        self.decay_beta = DecayedValue(hp.beta_schedule, hp.beta, 1e-10, trainer_settings.max_steps)

    def update(self, batch: dict[str, torch.Tensor], step: int) -> dict[str, float]:
        lr, beta = self.decay_learning_rate(step), self.decay_beta(step)
        obs, log_probs, entropy = self.evaluate_actions(batch)
        policy_loss = -(log_probs.sum(dim=1) * batch["advantages"]).mean()
        value_loss = torch.stack(
            [((batch[f"returns_{name}"] - values) ** 2).mean() for name, values in self.critic(obs).items()]
        ).mean()
        self.apply_gradients(policy_loss + 0.5 * value_loss - beta * entropy.mean(), lr)
        return {
            "Losses/Policy Loss": abs(policy_loss.item()),
            "Losses/Value Loss": value_loss.item(),
            "Policy/Learning Rate": lr,
            "Policy/Beta": beta,
        }
