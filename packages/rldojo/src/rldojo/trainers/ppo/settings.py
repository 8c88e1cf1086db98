"""PPO hyperparameters, ML-Agents' names and defaults."""

from __future__ import annotations

from pydantic import Field, model_validator

from rldojo.settings import OnPolicyHyperparamSettings, ScheduleType, YamlFloat, YamlInt

__all__ = ["TRAINER_NAME", "PPOSettings", "get_type_and_setting"]

TRAINER_NAME = "ppo"


class PPOSettings(OnPolicyHyperparamSettings):
    """``hyperparameters:`` of a ``trainer_type: ppo`` behavior."""

    beta: YamlFloat = Field(5.0e-3, ge=0.0)
    """Entropy bonus strength."""
    epsilon: YamlFloat = Field(0.2, gt=0.0)
    """Clip range of the policy ratio and of value updates."""
    epsilon_final: YamlFloat = Field(0.1, ge=0.0)
    """Where a linear ``epsilon_schedule`` ends at ``max_steps``: ML-Agents' 0.1; 0 for SB3's linear
    ``clip_range`` schedule."""
    vf_coef: YamlFloat = Field(0.5, ge=0.0)
    """Weight of the value loss in the total loss."""
    target_kl: YamlFloat | None = Field(None, gt=0.0)
    """Stop an update's epochs at the first minibatch whose approximate KL divergence from the policy that
    collected the buffer exceeds 1.5 x ``target_kl`` (that minibatch takes no step); none: every epoch."""
    num_epoch: YamlInt = Field(3, gt=0)
    clip_value_updates: bool = True
    """Clip each value update to ``epsilon`` around the old estimate, as ML-Agents does; false: the plain
    squared error (SB3's and CleanRL's default), which lets the critic follow returns in the tens or
    hundreds (CartPole) instead of creeping towards them by ``epsilon`` per update."""
    max_grad_norm: YamlFloat | None = Field(None, gt=0.0)
    """Clip each update's gradient (actor and critic together) to this L2 norm; none by default, as in
    ML-Agents (SB3 and CleanRL clip at 0.5)."""
    shared_critic: bool = False
    """Value heads on the policy's network body instead of a separate critic network."""
    learning_rate_schedule: ScheduleType = ScheduleType.LINEAR
    beta_schedule: ScheduleType | None = None
    """Defaults to ``learning_rate_schedule``."""
    epsilon_schedule: ScheduleType | None = None
    """Defaults to ``learning_rate_schedule``."""

    @model_validator(mode="after")
    def _schedules_follow_learning_rate(self) -> PPOSettings:
        self.beta_schedule = self.beta_schedule or self.learning_rate_schedule
        self.epsilon_schedule = self.epsilon_schedule or self.learning_rate_schedule
        return self


def get_type_and_setting() -> tuple[dict[str, str], dict[str, type[PPOSettings]]]:
    """Registration function named by the core's ``rldojo.trainer_type`` entry point ``ppo``.

    The trainer class is given by its import path: it (and torch) load only when a trainer is built.
    """
    return {TRAINER_NAME: "rldojo.trainers.ppo.trainer:PPOTrainer"}, {TRAINER_NAME: PPOSettings}
