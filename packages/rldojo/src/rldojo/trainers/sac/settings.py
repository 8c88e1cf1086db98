"""SAC hyperparameters: ML-Agents' names and defaults."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from rldojo.settings import OffPolicyHyperparamSettings, YamlFloat

__all__ = ["TRAINER_NAME", "SACSettings", "get_type_and_setting"]

TRAINER_NAME = "sac"


class SACSettings(OffPolicyHyperparamSettings):
    """``hyperparameters:`` of a ``trainer_type: sac`` behavior.

    The discount is ``reward_signals.extrinsic.gamma``, as for every ML-Agents trainer.
    """

    builds_actor_critic: ClassVar[bool] = False

    tau: YamlFloat = Field(0.005, gt=0.0, le=1.0)
    """Target value network update after every gradient step: target <- tau * online + (1 - tau) * target."""
    init_entcoef: YamlFloat = Field(1.0, gt=0.0)
    """Starting entropy coefficient (alpha) of every action part; it is then learned towards the target
    entropy (``target_entropy`` for the continuous actions, 0.2 * log(size) per discrete branch)."""
    ent_coef: float | str | None = None
    """SB3's form of the entropy coefficient: a number fixes alpha (nothing is learned); ``auto`` learns it
    from 1.0 and ``auto_0.1`` from 0.1. None: learned from ``init_entcoef`` (ML-Agents)."""
    target_entropy: YamlFloat | None = None
    """Target entropy of the continuous actions; none (or SB3's ``auto``): -1 per continuous action
    (ML-Agents and SB3)."""

    @field_validator("target_entropy", mode="before")
    @classmethod
    def _auto_target_entropy(cls, value: Any) -> Any:
        return None if value == "auto" else value

    @field_validator("ent_coef", mode="before")
    @classmethod
    def _ent_coef_form(cls, value: Any) -> Any:
        number = value[len("auto_") :] if isinstance(value, str) and value.startswith("auto_") else value
        if value is None or value == "auto":
            return value
        try:
            valid = float(number) > 0.0
        except (TypeError, ValueError):
            valid = False
        if not valid:
            raise PydanticCustomError(
                "ent_coef",
                "ent_coef '{value}' is not a positive number, 'auto' or 'auto_<initial value>' such as "
                "'auto_0.1'",
                {"value": value},
            )
        return value if isinstance(value, str) else float(value)

    @model_validator(mode="after")
    def _one_initial_entropy_coefficient(self) -> SACSettings:
        # a value, not "was given": configuration.yaml (dumped with every default) must load again
        if self.ent_coef is not None and self.init_entcoef != type(self).model_fields["init_entcoef"].default:
            raise PydanticCustomError(
                "ent_coef_and_init_entcoef",
                "init_entcoef and ent_coef both set the entropy coefficient; keep one (init_entcoef: "
                "ML-Agents' starting value, ent_coef: SB3's fixed value or 'auto_<starting value>')",
                {"at": ("ent_coef",)},
            )
        return self

    @property
    def learns_entropy_coefficient(self) -> bool:
        return not isinstance(self.ent_coef, float)

    @property
    def initial_entropy_coefficient(self) -> float:
        """alpha at the first update: ``ent_coef``'s number (fixed or after ``auto_``) or ``init_entcoef``."""
        if isinstance(self.ent_coef, float):
            return self.ent_coef
        if self.ent_coef is not None and self.ent_coef.startswith("auto_"):
            return float(self.ent_coef[len("auto_") :])
        return 1.0 if self.ent_coef == "auto" else self.init_entcoef

    @model_validator(mode="before")
    @classmethod
    def _reward_signal_updates_follow_policy_updates(cls, data: Any) -> Any:
        """``reward_signal_steps_per_update`` defaults to ``steps_per_update`` (only ``extrinsic`` is built,
        which learns nothing, so the key is accepted for ML-Agents configs)."""
        if isinstance(data, dict) and data.get("reward_signal_steps_per_update") is None:
            return {**data, "reward_signal_steps_per_update": data.get("steps_per_update", 1.0)}
        return data


def get_type_and_setting() -> tuple[dict[str, str], dict[str, type[SACSettings]]]:
    """Registration function named by the core's ``rldojo.trainer_type`` entry point ``sac``.

    The trainer class is given by its import path: it (and torch) load only when a trainer is built.
    """
    return {TRAINER_NAME: "rldojo.trainers.sac.trainer:SACTrainer"}, {TRAINER_NAME: SACSettings}
