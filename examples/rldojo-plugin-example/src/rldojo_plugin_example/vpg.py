"""A trainer plugin: vanilla policy gradient (REINFORCE with a learned baseline and GAE).

Two parts: the settings class (``hyperparameters:`` in the YAML) and the loss (``VPGOptimizer.update``).
rldojo's ``OnPolicyTrainer`` does the rest: the Actor policy, value estimates, GAE, the update buffer and
the minibatch loop; its ``OnPolicyOptimizer`` brings the critic and one Adam over actor and critic.
"""

from __future__ import annotations

import torch
from pydantic import Field

from rldojo.settings import OnPolicyHyperparamSettings, YamlFloat, YamlInt
from rldojo.trainers import OnPolicyOptimizer, OnPolicyTrainer

TRAINER_NAME = "vpg"


class VPGSettings(OnPolicyHyperparamSettings):
    """``hyperparameters:`` of a ``trainer_type: vpg`` behavior (plus batch/buffer size, learning rate and
    ``lambd``, the GAE lambda: 1.0 gives Monte Carlo returns minus the baseline)."""

    beta: YamlFloat = Field(5.0e-3, ge=0.0)
    """Entropy bonus strength."""
    num_epoch: YamlInt = Field(1, gt=0)
    """Passes over each buffer; plain policy gradient is only unbiased for the first one."""


class VPGOptimizer(OnPolicyOptimizer[VPGSettings]):
    """Policy-gradient loss with an entropy bonus, and a squared-error loss for the baseline."""

    def update(self, batch: dict[str, torch.Tensor], step: int) -> dict[str, float]:
        """One gradient step on a minibatch of the update buffer's columns."""
        obs, log_probs, entropy = self.evaluate_actions(batch)
        policy_loss = -(log_probs.sum(dim=1) * batch["advantages"]).mean()
        value_loss = torch.stack(
            [((batch[f"returns_{name}"] - values) ** 2).mean() for name, values in self.critic(obs).items()]
        ).mean()
        learning_rate = self.decay_learning_rate(step)
        self.apply_gradients(
            policy_loss + 0.5 * value_loss - self.hyperparameters.beta * entropy.mean(), learning_rate
        )
        return {
            "Losses/Policy Loss": policy_loss.item(),
            "Losses/Value Loss": value_loss.item(),
            "Policy/Learning Rate": learning_rate,
        }


class VPGTrainer(OnPolicyTrainer[VPGSettings]):
    """Collects ``buffer_size`` steps with advantages per trajectory, then updates ``num_epoch`` times."""

    optimizer: VPGOptimizer

    def create_optimizer(self) -> VPGOptimizer:
        """The loss above, over the trainer's policy."""
        assert self.policy is not None
        return VPGOptimizer(self.policy, self.trainer_settings)

    @staticmethod
    def get_trainer_name() -> str:
        return TRAINER_NAME


def get_type_and_setting() -> tuple[dict[str, type[VPGTrainer]], dict[str, type[VPGSettings]]]:
    """Registration function named by the ``rldojo.trainer_type`` entry point ``vpg``."""
    return {TRAINER_NAME: VPGTrainer}, {TRAINER_NAME: VPGSettings}
