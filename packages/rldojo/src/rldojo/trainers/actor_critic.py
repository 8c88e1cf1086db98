"""What the on-policy actor-critic optimizers (PPO, A2C) share: the critic, one Adam, value estimates."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from rldojo.buffer import observations
from rldojo.networks import Critic
from rldojo.policy import Policy
from rldojo.settings import TrainerSettings
from rldojo.trainers.optimizer import Optimizer
from rldojo.trainers.schedules import DecayedValue

__all__ = ["ActorCriticOptimizer"]


class ActorCriticOptimizer(Optimizer):
    """A critic (its own encoder, or the actor's with ``shared_critic``) and one Adam over actor and critic,
    with the gradient clipped to ``max_grad_norm`` when one is given.

    Subclasses write the loss in :meth:`update`, using :meth:`evaluate_actions` and :meth:`apply_gradients`.
    """

    def __init__(
        self,
        policy: Policy,
        trainer_settings: TrainerSettings,
        shared_critic: bool,
        max_grad_norm: float | None = None,
    ):
        super().__init__(policy, trainer_settings)
        hp = trainer_settings.hyperparameters
        spec = policy.behavior_spec
        shared_encoder = policy.actor.encoder if shared_critic else None
        self._critic = Critic(
            self.reward_signal_names,
            spec.observation_specs,
            trainer_settings.network_settings,
            shared_encoder,
        ).to(policy.device)
        parameters = {id(p): p for p in [*policy.actor.parameters(), *self._critic.parameters()]}
        self.parameters = list(parameters.values())
        self.optimizer = torch.optim.Adam(self.parameters, lr=hp.learning_rate, fused=True)
        self.max_grad_norm = max_grad_norm
        self.decay_learning_rate = DecayedValue(
            hp.learning_rate_schedule, hp.learning_rate, 1e-10, trainer_settings.max_steps
        )
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

    def evaluate_actions(
        self, batch: dict[str, torch.Tensor]
    ) -> tuple[list[torch.Tensor], torch.Tensor, torch.Tensor]:
        """The batch's observations, and the current policy's log-probabilities and entropy of its actions."""
        obs = observations(batch, self.num_obs)
        masks = batch["action_masks"] if self.policy.branch_sizes else None
        log_probs, entropy = self.policy.actor.evaluate(
            obs, masks, batch["continuous_actions"], batch["discrete_actions"]
        )
        return obs, log_probs, entropy

    def apply_gradients(self, loss: torch.Tensor, learning_rate: float) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] = learning_rate
        self.optimizer.zero_grad()
        loss.backward()
        if self.max_grad_norm is not None:
            nn.utils.clip_grad_norm_(self.parameters, self.max_grad_norm)
        self.optimizer.step()

    def get_modules(self) -> dict[str, nn.Module | torch.optim.Optimizer]:
        return {"Optimizer:value_optimizer": self.optimizer, "Optimizer:critic": self._critic}
