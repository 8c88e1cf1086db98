"""Behavior specs for tests that build policies, networks and trainers without an environment."""

from __future__ import annotations

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
