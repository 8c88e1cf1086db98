"""PPO with ML-Agents' semantics and defaults: per-dimension clipped ratio, clipped value loss, entropy
bonus."""

from __future__ import annotations

import torch

from rldojo.buffer import observations
from rldojo.networks import Actor
from rldojo.policy import Policy
from rldojo.settings import TrainerSettings
from rldojo.trainers.on_policy import OnPolicyOptimizer, OnPolicyTrainer
from rldojo.trainers.optimizer import UpdateStats, mean_of
from rldojo.trainers.ppo.gradients import (
    gaussian_policy_loss_gradients,
    policy_loss_gradients,
    value_loss_gradients,
)
from rldojo.trainers.ppo.settings import TRAINER_NAME, PPOSettings
from rldojo.trainers.schedules import DecayedValue

__all__ = ["PPOOptimizer", "PPOTrainer", "approximate_kl"]


def approximate_kl(log_probs: torch.Tensor, old_log_probs: torch.Tensor) -> float:
    """KL(old || new) estimated from per-dimension log-probabilities [batch, dims] of the taken actions:
    the mean of (r - 1) - log r, r the joint probability ratio (unbiased, never negative)."""
    log_ratio = (log_probs - old_log_probs).sum(dim=1)
    return float((torch.expm1(log_ratio) - log_ratio).mean())


class PPOOptimizer(OnPolicyOptimizer[PPOSettings]):
    """Learning rate, epsilon and beta follow their schedules over ``max_steps``."""

    def __init__(self, policy: Policy[Actor], trainer_settings: TrainerSettings):
        hp = trainer_settings.hyperparameters
        assert isinstance(hp, PPOSettings)
        super().__init__(policy, trainer_settings, hp.shared_critic, hp.max_grad_norm)
        max_steps = trainer_settings.max_steps
        epsilon_schedule = hp.epsilon_schedule or hp.learning_rate_schedule
        beta_schedule = hp.beta_schedule or hp.learning_rate_schedule
        self.decay_epsilon = DecayedValue(epsilon_schedule, hp.epsilon, hp.epsilon_final, max_steps)
        self.decay_beta = DecayedValue(beta_schedule, hp.beta, 1e-5, max_steps)
        self.by_hand = self.hand_gradients()
        """Steps without autograd where the networks allow (:meth:`hand_gradients`); None: autograd."""

    def update(self, batch: dict[str, torch.Tensor], step: int) -> UpdateStats:
        lr, epsilon, beta = self.decay_learning_rate(step), self.decay_epsilon(step), self.decay_beta(step)
        if self.by_hand is not None:
            return self.update_by_hand(batch, lr, epsilon, beta)
        obs, log_probs, entropy = self.evaluate_actions(batch)
        # ratio per action dimension, as ML-Agents computes it
        ratio = torch.exp(log_probs - batch["log_probs"])
        advantages = batch["advantages"].unsqueeze(1)
        clipped = torch.clamp(ratio, 1.0 - epsilon, 1.0 + epsilon)
        policy_loss = -self.masked_mean(torch.min(ratio * advantages, clipped * advantages), batch)

        value_losses = []
        for name, values in self.critic_values(obs, batch).items():
            old_values, returns = batch[f"values_{name}"], batch[f"returns_{name}"]
            value_loss = (returns - values) ** 2
            if self.hyperparameters.clip_value_updates:
                clipped_values = old_values + torch.clamp(values - old_values, -epsilon, epsilon)
                value_loss = torch.max(value_loss, (returns - clipped_values) ** 2)
            value_losses.append(self.masked_mean(value_loss, batch))
        value_loss = mean_of(value_losses)

        stats = self.loss_stats(policy_loss, value_loss, log_probs, batch, lr, epsilon, beta)
        if self.stops_epochs(stats):
            return stats  # SB3's early stop (target_kl): this minibatch takes no step
        loss = (
            policy_loss + self.hyperparameters.vf_coef * value_loss - beta * self.masked_mean(entropy, batch)
        )
        self.apply_gradients(loss, lr)
        return stats

    def update_by_hand(
        self, batch: dict[str, torch.Tensor], lr: float, epsilon: float, beta: float
    ) -> UpdateStats:
        """:meth:`update`'s loss and step for plain MLPs, differentiated by hand (``ppo/gradients.py``)."""
        assert self.by_hand is not None
        actor, critic = self.by_hand.networks
        obs = observations(batch, self.num_obs)
        outputs, actor_saved = actor.forward(obs)
        values, critic_saved = critic.forward(obs)
        log_std = self.policy.actor.action_head.log_std
        loose_gradients = []
        if log_std is None:  # discrete actions: the outputs are logits
            masks = batch["action_masks"] if self.actions_masked else None
            outputs_gradient, policy_loss, log_probs = policy_loss_gradients(
                outputs,
                masks,
                batch["discrete_actions"],
                batch["log_probs"],
                batch["advantages"],
                self.policy.branch_sizes,
                epsilon,
                beta,
            )
        else:  # continuous actions: the outputs are the Gaussian's mean
            outputs_gradient, log_std_gradient, policy_loss, log_probs = gaussian_policy_loss_gradients(
                outputs,
                log_std.detach(),
                batch["continuous_actions"],
                batch["log_probs"],
                batch["advantages"],
                epsilon,
                beta,
            )
            loose_gradients.append(log_std_gradient)
        values_gradient, value_loss = value_loss_gradients(
            values,
            self.stream_columns(batch, "values"),
            self.stream_columns(batch, "returns"),
            epsilon if self.hyperparameters.clip_value_updates else None,
            self.hyperparameters.vf_coef,
        )
        stats = self.loss_stats(policy_loss, value_loss, log_probs, batch, lr, epsilon, beta)
        if self.stops_epochs(stats):
            return stats  # SB3's early stop (target_kl): this minibatch takes no step
        passes = [(actor_saved, outputs_gradient), (critic_saved, values_gradient)]
        self.by_hand.step(passes, lr, loose_gradients)
        return stats

    def stream_columns(self, batch: dict[str, torch.Tensor], prefix: str) -> torch.Tensor:
        """[batch, streams]: the batch's ``<prefix>_<signal>`` columns side by side, in the critic's order."""
        columns = [batch[f"{prefix}_{name}"] for name in self.critic.stream_names]
        return columns[0].unsqueeze(1) if len(columns) == 1 else torch.stack(columns, dim=1)

    def loss_stats(
        self,
        policy_loss: torch.Tensor,
        value_loss: torch.Tensor,
        log_probs: torch.Tensor,
        batch: dict[str, torch.Tensor],
        lr: float,
        epsilon: float,
        beta: float,
    ) -> dict[str, float | torch.Tensor]:
        """What one minibatch reports (with ``target_kl``, the approximate KL :meth:`stops_epochs` reads)."""
        stats: dict[str, float | torch.Tensor] = {
            "Losses/Policy Loss": policy_loss.detach().abs(),
            "Losses/Value Loss": value_loss.detach(),
            "Policy/Learning Rate": lr,
            "Policy/Epsilon": epsilon,
            "Policy/Beta": beta,
        }
        if self.hyperparameters.target_kl is not None:
            stats["Policy/Approximate KL"] = approximate_kl(log_probs.detach(), batch["log_probs"])
        return stats

    def stops_epochs(self, stats: UpdateStats) -> bool:
        """Past 1.5 x ``target_kl`` of approximate KL divergence from the policy that collected the buffer."""
        target_kl = self.hyperparameters.target_kl
        return target_kl is not None and float(stats["Policy/Approximate KL"]) > 1.5 * target_kl


class PPOTrainer(OnPolicyTrainer[PPOSettings]):
    """Proximal Policy Optimization: an :class:`OnPolicyTrainer` with PPO's loss."""

    optimizer: PPOOptimizer

    def create_optimizer(self) -> PPOOptimizer:
        assert self.policy is not None
        return PPOOptimizer(self.policy, self.trainer_settings)

    @staticmethod
    def get_trainer_name() -> str:
        return TRAINER_NAME
