"""A2C hyperparameters: ML-Agents' A2C plugin names and defaults."""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from rldojo.settings import OnPolicyHyperparamSettings, ScheduleType, YamlFloat, YamlInt

__all__ = ["TRAINER_NAME", "A2CSettings", "get_type_and_setting"]

TRAINER_NAME = "a2c"


class A2CSettings(OnPolicyHyperparamSettings):
    """``hyperparameters:`` of a ``trainer_type: a2c`` behavior: one pass over each ``buffer_size`` steps."""

    beta: YamlFloat = Field(5.0e-3, ge=0.0)
    """Entropy bonus strength."""
    vf_coef: YamlFloat = Field(0.5, ge=0.0)
    """Weight of the value loss in the total loss."""
    num_epoch: YamlInt = 1
    """Must be 1: A2C uses each experience for one gradient step only."""
    max_grad_norm: YamlFloat | None = Field(None, gt=0.0)
    """Clip each update's gradient (actor and critic together) to this L2 norm; none by default, as in
    ML-Agents (SB3 clips at 0.5)."""
    shared_critic: bool = False
    """Value heads on the policy's network body instead of a separate critic network."""
    learning_rate_schedule: ScheduleType = ScheduleType.LINEAR
    beta_schedule: ScheduleType = ScheduleType.LINEAR

    @field_validator("num_epoch")
    @classmethod
    def _one_epoch(cls, value: int) -> int:
        if value != 1:
            raise PydanticCustomError(
                "a2c_num_epoch",
                "A2C requires num_epoch = 1 (got {value}); remove num_epoch or use trainer_type ppo",
                {"value": value},
            )
        return value


def get_type_and_setting() -> tuple[dict[str, str], dict[str, type[A2CSettings]]]:
    """Registration function named by the core's ``rldojo.trainer_type`` entry point ``a2c``.

    The trainer class is given by its import path: it (and torch) load only when a trainer is built.
    """
    return {TRAINER_NAME: "rldojo.trainers.a2c.trainer:A2CTrainer"}, {TRAINER_NAME: A2CSettings}
