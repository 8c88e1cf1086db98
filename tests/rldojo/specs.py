"""Behavior specs for tests that build policies, networks and trainers without an environment."""

from __future__ import annotations

from importlib import import_module
from pathlib import Path
from typing import Any

from mlagents_envs.base_env import (
    ActionSpec,
    BehaviorSpec,
    DimensionProperty,
    ObservationSpec,
    ObservationType,
)


def observation(*shape: int, name: str = "obs") -> ObservationSpec:
    """A default-type observation of ``shape`` with no dimension properties."""
    return ObservationSpec(shape, (DimensionProperty.NONE,) * len(shape), ObservationType.DEFAULT, name)


def vector_spec(size: int, actions: ActionSpec) -> BehaviorSpec:
    """One vector observation of ``size`` floats, acting with ``actions``."""
    return BehaviorSpec([observation(size)], actions)


def trainer_for(
    tmp_path: Path, trainer_class: type[Any], settings: dict[str, Any], spec: BehaviorSpec
) -> Any:
    """A training ``trainer_class`` (a core trainer type) of behavior ``Agent`` with ``settings`` (its YAML)
    and a policy for ``spec``."""
    from rldojo.settings import TrainerSettings

    trainer_type = trainer_class.get_trainer_name()
    settings_classes = import_module(f"rldojo.trainers.{trainer_type}").get_type_and_setting()[1]
    trainer_settings = TrainerSettings.model_validate(
        {"trainer_type": trainer_type, **settings}, context={"trainer_settings": settings_classes}
    )
    trainer = trainer_class("Agent", 1, trainer_settings, True, False, 0, tmp_path / "Agent")
    trainer.add_policy("Agent?team=0", trainer.create_policy("Agent?team=0", spec))
    return trainer
