"""POCA hyperparameters: ML-Agents' names and defaults (PPO's, without ``shared_critic``)."""

from __future__ import annotations

from pydantic import Field, model_validator

from rldojo.settings import OnPolicyHyperparamSettings, ScheduleType, YamlFloat

__all__ = ["TRAINER_NAME", "POCASettings", "get_type_and_setting"]

TRAINER_NAME = "poca"


class POCASettings(OnPolicyHyperparamSettings):
    """``hyperparameters:`` of a ``trainer_type: poca`` behavior."""

    beta: YamlFloat = Field(5.0e-3, ge=0.0)
    """Entropy bonus strength."""
    epsilon: YamlFloat = Field(0.2, gt=0.0)
    """Clip range of the policy ratio and of value and baseline updates."""
    learning_rate_schedule: ScheduleType = ScheduleType.LINEAR
    beta_schedule: ScheduleType | None = None
    """Defaults to ``learning_rate_schedule``."""
    epsilon_schedule: ScheduleType | None = None
    """Defaults to ``learning_rate_schedule``."""

    @model_validator(mode="after")
    def _schedules_follow_learning_rate(self) -> POCASettings:
        self.beta_schedule = self.beta_schedule or self.learning_rate_schedule
        self.epsilon_schedule = self.epsilon_schedule or self.learning_rate_schedule
        return self


def get_type_and_setting() -> tuple[dict[str, str], dict[str, type[POCASettings]]]:
    """Registration function named by the core's ``rldojo.trainer_type`` entry point ``poca``.

    The trainer class is given by its import path: it (and torch) load only when a trainer is built.
    """
    return {TRAINER_NAME: "rldojo.trainers.poca.trainer:POCATrainer"}, {TRAINER_NAME: POCASettings}
