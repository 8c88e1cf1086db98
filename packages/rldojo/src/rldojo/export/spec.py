"""A ``BehaviorSpec`` as plain data, so a checkpoint can rebuild its network without the environment."""

from __future__ import annotations

from typing import Any

from mlagents_envs.base_env import (
    ActionSpec,
    BehaviorSpec,
    DimensionProperty,
    ObservationSpec,
    ObservationType,
)

from rldojo.errors import RldojoError

__all__ = ["behavior_spec_from_state", "behavior_spec_state"]


def behavior_spec_state(spec: BehaviorSpec) -> dict[str, Any]:
    """Lists of ints and strings only (loadable with ``torch.load(weights_only=True)``)."""
    return {
        "observations": [
            {
                "name": obs.name,
                "shape": [int(size) for size in obs.shape],
                "dimension_property": [int(prop.value) for prop in obs.dimension_property],
                "observation_type": int(obs.observation_type.value),
            }
            for obs in spec.observation_specs
        ],
        "continuous_size": int(spec.action_spec.continuous_size),
        "discrete_branches": [int(size) for size in spec.action_spec.discrete_branches],
    }


def behavior_spec_from_state(state: dict[str, Any] | None, source: str) -> BehaviorSpec:
    """Inverse of :func:`behavior_spec_state`; ``source`` names the checkpoint in the error."""
    if state is None:
        raise RldojoError(
            f"{source} does not record its behavior's observation and action shapes (it was written "
            "before rldojo exported ONNX models); resume the run for one checkpoint to write a new one"
        )
    observations = [
        ObservationSpec(
            name=obs["name"],
            shape=tuple(obs["shape"]),
            dimension_property=tuple(DimensionProperty(prop) for prop in obs["dimension_property"]),
            observation_type=ObservationType(obs["observation_type"]),
        )
        for obs in state["observations"]
    ]
    actions = ActionSpec(state["continuous_size"], tuple(state["discrete_branches"]))
    return BehaviorSpec(observations, actions)
