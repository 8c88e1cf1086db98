"""SAC hyperparameters: ML-Agents' names and defaults."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from rldojo.settings import OffPolicyHyperparamSettings, YamlFloat

__all__ = ["TRAINER_NAME", "SACSettings", "get_type_and_setting"]

TRAINER_NAME = "sac"


class SACSettings(OffPolicyHyperparamSettings):
    """``hyperparameters:`` of a ``trainer_type: sac`` behavior.

    The discount is ``reward_signals.extrinsic.gamma``, as for every ML-Agents trainer.
    """

    tau: YamlFloat = Field(0.005, gt=0.0, le=1.0)
    """Target value network update after every gradient step: target <- tau * online + (1 - tau) * target."""
    init_entcoef: YamlFloat = Field(1.0, gt=0.0)
    """Starting entropy coefficient (alpha) of every action part; it is then learned towards the target
    entropy (-1 per continuous action, 0.2 * log(size) per discrete branch)."""

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
