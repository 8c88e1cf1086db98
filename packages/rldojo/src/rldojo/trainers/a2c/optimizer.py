"""A2C losses with ML-Agents' semantics: policy gradient on advantages, squared value error, entropy bonus."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from rldojo.buffer import observations
from rldojo.networks import Critic
from rldojo.policy import Policy
from rldojo.settings import TrainerSettings
from rldojo.trainers.a2c.settings import A2CSettings
from rldojo.trainers.optimizer import Optimizer
from rldojo.trainers.schedules import DecayedValue

__all__ = ["A2COptimizer"]


class A2COptimizer(Optimizer):
    """One Adam optimizer over the actor and the critic; learning rate and beta follow schedules."""

    def __init__(self, policy: Policy, trainer_settings: TrainerSettings):
        super().__init__(policy, trainer_settings)
        hp: A2CSettings = trainer_settings.hyperparameters  # type: ignore[assignment]
        spec = policy.behavior_spec
        shared_encoder = policy.actor.encoder if hp.shared_critic else None
        self._critic = Critic(
            self.reward_signal_names,
            spec.observation_specs,
            trainer_settings.network_settings,
            shared_encoder,
        ).to(policy.device)
        parameters = {id(p): p for p in [*policy.actor.parameters(), *self._critic.parameters()]}
        self.optimizer = torch.optim.Adam(parameters.values(), lr=hp.learning_rate)
        max_steps = trainer_settings.max_steps
        self.decay_learning_rate = DecayedValue(hp.learning_rate_schedule, hp.learning_rate, 1e-10, max_steps)
        self.decay_beta = DecayedValue(hp.beta_schedule, hp.beta, 1e-10, max_steps)
        self.num_obs = len(spec.observation_specs)

    @property
    def critic(self) -> Critic:
        return self._critic

    @torch.no_grad()
    def value_estimates(
        self, obs: Sequence[torch.Tensor], next_obs: Sequence[torch.Tensor], terminated: bool
    ) -> tuple[dict[str, np.ndarray], dict[str, float]]:
        """Critic values [T] per reward signal, and the value after the last step (0 if it terminated)."""
        values = {name: v.cpu().numpy() for name, v in self._critic(obs).items()}
        bootstrap = {name: 0.0 if terminated else float(v[0]) for name, v in self._critic(next_obs).items()}
        return values, bootstrap

    def update(self, batch: dict[str, torch.Tensor], step: int) -> dict[str, float]:
        lr, beta = self.decay_learning_rate(step), self.decay_beta(step)
        obs = observations(batch, self.num_obs)
        masks = batch["action_masks"] if self.policy.branch_sizes else None
        log_probs, entropy = self.policy.actor.evaluate(
            obs, masks, batch["continuous_actions"], batch["discrete_actions"]
        )
        policy_loss = -(log_probs.sum(dim=1) * batch["advantages"]).mean()
        value_loss = torch.stack(
            [((batch[f"returns_{name}"] - values) ** 2).mean() for name, values in self._critic(obs).items()]
        ).mean()
        loss = policy_loss + 0.5 * value_loss - beta * entropy.mean()
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return {
            "Losses/Policy Loss": abs(policy_loss.item()),
            "Losses/Value Loss": value_loss.item(),
            "Policy/Learning Rate": lr,
            "Policy/Beta": beta,
        }

    def get_modules(self) -> dict[str, nn.Module | torch.optim.Optimizer]:
        return {"Optimizer:value_optimizer": self.optimizer, "Optimizer:critic": self._critic}
