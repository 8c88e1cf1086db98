"""``hyperparameters`` of the sb3_* trainer types: the SB3 algorithm's constructor arguments.

Every key is checked against the algorithm's ``__init__`` signature; a wrong key is one error that names
it and lists the valid ones. Two rldojo keys are added: ``learning_rate_schedule`` (``constant`` or
``linear``, as in ML-Agents) and, for off-policy algorithms, ``save_replay_buffer`` (checkpoints hold the
replay buffer; default true).
"""

from __future__ import annotations

import inspect
from typing import Any, ClassVar

from pydantic import ConfigDict, model_validator
from pydantic_core import PydanticCustomError

from rldojo.settings import HyperparamSettings
from rldojo.settings.base import UNKNOWN_KEY, YamlFloat, YamlInt, closest
from rldojo.settings.trainer import ScheduleType
from rldojo_sb3.algorithms import Algorithm, Family

__all__ = ["SB3HyperparamSettings", "SB3OffPolicySettings", "settings_class"]

MANAGED_BY_RLDOJO = {
    "policy": "chosen from the behavior's observations",
    "env": "rldojo's env workers step the environment",
    "seed": "env_settings.seed / --seed",
    "device": "torch_settings.device / --device",
    "tensorboard_log": "rldojo's stats writers receive SB3's logger output",
    "verbose": "rldojo's stats writers receive SB3's logger output",
    "_init_setup_model": "rldojo builds the model",
}
"""Constructor arguments that rldojo sets itself, with where the user sets them instead."""


def algorithm_arguments(algorithm: Algorithm) -> dict[str, inspect.Parameter]:
    """The constructor arguments a user may give, by name."""
    parameters = inspect.signature(algorithm.algorithm_class.__init__).parameters
    return {
        name: parameter
        for name, parameter in parameters.items()
        if name != "self"
        and name not in MANAGED_BY_RLDOJO
        and parameter.kind is parameter.POSITIONAL_OR_KEYWORD
    }


def _number_from_yaml(value: Any) -> Any:
    """``3e-4`` and ``1.0e6`` as numbers (PyYAML reads them as strings)."""
    if not isinstance(value, str):
        return value
    try:
        number = float(value)
    except ValueError:
        return value
    return int(number) if number.is_integer() and "." not in value and "e" not in value.lower() else number


class SB3HyperparamSettings(HyperparamSettings):
    """Base of each sb3_* type's settings; the type's subclass names its :class:`Algorithm`."""

    model_config = ConfigDict(extra="allow", validate_default=True)
    algorithm: ClassVar[Algorithm]
    # rldojo's common hyperparameters, unset unless given (then passed to SB3 like any other argument)
    batch_size: YamlInt | None = None  # type: ignore[assignment]
    buffer_size: YamlInt | None = None  # type: ignore[assignment]
    learning_rate: YamlFloat | None = None  # type: ignore[assignment]
    learning_rate_schedule: ScheduleType = ScheduleType.CONSTANT
    rldojo_keys: ClassVar[tuple[str, ...]] = ("learning_rate_schedule",)
    builds_actor_critic: ClassVar[bool] = False  # SB3 builds its policy (``policy_kwargs``)
    extrinsic_reward_only: ClassVar[str | None] = "use ppo, a2c or sac, which take it"

    @model_validator(mode="before")
    @classmethod
    def _reject_unknown_keys(cls, data: Any) -> Any:
        """Every key must be an argument of the SB3 algorithm (or an rldojo key); numbers from YAML."""
        if not isinstance(data, dict):
            return data
        valid = [*algorithm_arguments(cls.algorithm), *cls.rldojo_keys]
        for key, value in data.items():
            if key in valid or (key in cls.model_fields and value is None):
                continue
            raise cls._unknown_key(str(key), valid)
        return {key: _number_from_yaml(value) for key, value in data.items()}

    @classmethod
    def _unknown_key(cls, key: str, valid: list[str]) -> PydanticCustomError:
        name = cls.algorithm.algorithm_class.__name__
        if key in MANAGED_BY_RLDOJO:
            reason = f"rldojo sets it ({MANAGED_BY_RLDOJO[key]})"
        else:
            suggestion = closest(key, valid)
            reason = f"did you mean '{suggestion}'?" if suggestion else "check the spelling"
        return PydanticCustomError(
            UNKNOWN_KEY,
            "'{key}' is not a hyperparameter of {trainer_type} ({name}): {reason} (valid: {valid})",
            {
                "key": key,
                "trainer_type": cls.algorithm.trainer_type,
                "name": name,
                "reason": reason,
                "valid": ", ".join(sorted(valid)),
                "at": (key,),
            },
        )

    def algorithm_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for the SB3 constructor: what the user gave, the schedule applied."""
        given = {
            key: getattr(self, key)
            for key in type(self).model_fields
            if key not in self.rldojo_keys and getattr(self, key) is not None
        }
        kwargs = given | dict(self.model_extra or {})
        if self.learning_rate_schedule is ScheduleType.LINEAR:
            from stable_baselines3.common.utils import LinearSchedule

            default = algorithm_arguments(self.algorithm)["learning_rate"].default
            initial = kwargs.get("learning_rate", default)
            kwargs["learning_rate"] = LinearSchedule(initial, 0.0, 1.0)
        return kwargs


class SB3OffPolicySettings(SB3HyperparamSettings):
    """Off-policy algorithms: checkpoints also hold the replay buffer unless ``save_replay_buffer: false``."""

    save_replay_buffer: bool = True
    rldojo_keys: ClassVar[tuple[str, ...]] = ("learning_rate_schedule", "save_replay_buffer")


def settings_class(algorithm: Algorithm) -> type[SB3HyperparamSettings]:
    """The hyperparameters class of ``algorithm``'s trainer type."""
    name = "".join(part.title() for part in algorithm.trainer_type.split("_")) + "Settings"
    base = SB3OffPolicySettings if algorithm.family is Family.OFF_POLICY else SB3HyperparamSettings
    return type(name, (base,), {"algorithm": algorithm, "__module__": __name__})
