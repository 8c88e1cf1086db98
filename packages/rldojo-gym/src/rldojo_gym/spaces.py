"""Gymnasium spaces for an ML-Agents behavior, and conversions between the two representations.

Observations: one observation becomes a ``Box``; several (vector + visual + goal signal) become a
``Dict`` keyed by sensor name. Visual observations stay ``[C, H, W]`` floats in ``[0, 1]`` as
ML-Agents decodes them, or become ``[H, W, C]`` ``uint8`` for libraries that expect images.
Actions: ``Box`` (continuous), ``Discrete`` (one branch), ``MultiDiscrete`` (several branches) or,
for hybrid behaviors, ``Dict(continuous=Box, discrete=Discrete|MultiDiscrete)``.

Every conversion works on a batch (leading agent dimension); single-agent callers index row 0.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

import numpy as np
from gymnasium import spaces
from mlagents_envs.base_env import ActionSpec, ActionTuple, BehaviorSpec, DecisionSteps, ObservationSpec

from rldojo_gym.errors import GymEnvError

__all__ = [
    "ActionLayout",
    "ObservationLayout",
    "VisualFormat",
    "allowed_actions",
    "behavior_layouts",
    "take_row",
]

CONTINUOUS_KEY = "continuous"
DISCRETE_KEY = "discrete"


class VisualFormat(str, Enum):
    """How visual (rank-3) observations are presented."""

    CHW = "chw"
    """``float32`` ``[C, H, W]`` in ``[0, 1]``, exactly as mlagents_envs decodes them."""
    HWC_UINT8 = "hwc_uint8"
    """``uint8`` ``[H, W, C]`` in ``[0, 255]``, for libraries that expect images (e.g. SB3's CNN)."""


def _is_visual(spec: ObservationSpec) -> bool:
    return len(spec.shape) == 3


def _observation_keys(specs: list[ObservationSpec]) -> list[str]:
    """Sensor names as keys; unnamed or repeated sensors get their index appended."""
    keys: list[str] = []
    for index, spec in enumerate(specs):
        key = spec.name or f"obs_{index}"
        keys.append(f"{key}_{index}" if key in keys else key)
    return keys


class ObservationLayout:
    """The Gymnasium observation space of a behavior and the conversion of its observations."""

    def __init__(self, specs: list[ObservationSpec], visual_format: VisualFormat = VisualFormat.CHW):
        if not specs:
            raise GymEnvError("the behavior has no observations; a Gymnasium env needs at least one")
        self.specs = list(specs)
        self.visual_format = VisualFormat(visual_format)
        self.keys = _observation_keys(self.specs)
        boxes = [self._box(spec) for spec in self.specs]
        self.space: spaces.Space = (
            boxes[0] if len(boxes) == 1 else spaces.Dict(dict(zip(self.keys, boxes, strict=True)))
        )

    def _box(self, spec: ObservationSpec) -> spaces.Box:
        if not _is_visual(spec):
            return spaces.Box(-np.inf, np.inf, shape=spec.shape, dtype=np.float32)
        if self.visual_format is VisualFormat.HWC_UINT8:
            channels, height, width = spec.shape
            return spaces.Box(0, 255, shape=(height, width, channels), dtype=np.uint8)
        return spaces.Box(0.0, 1.0, shape=spec.shape, dtype=np.float32)

    def _convert_one(self, spec: ObservationSpec, batch: np.ndarray) -> np.ndarray:
        if _is_visual(spec) and self.visual_format is VisualFormat.HWC_UINT8:
            scaled = np.rint(np.clip(batch, 0.0, 1.0) * 255.0).astype(np.uint8)
            return np.ascontiguousarray(scaled.transpose(0, 2, 3, 1))
        if _is_visual(spec):
            return np.clip(batch, 0.0, 1.0).astype(np.float32, copy=False)
        return np.asarray(batch, dtype=np.float32)

    def convert(self, observations: list[np.ndarray]) -> Any:
        """Convert mlagents_envs observations (one array per sensor, agents first) to a batch."""
        converted = [self._convert_one(spec, obs) for spec, obs in zip(self.specs, observations, strict=True)]
        return converted[0] if len(converted) == 1 else dict(zip(self.keys, converted, strict=True))


def take_row(batch: Any, row: int) -> Any:
    """Row ``row`` of a converted observation batch (array or dict of arrays)."""
    if isinstance(batch, dict):
        return {key: value[row] for key, value in batch.items()}
    return batch[row]


class ActionLayout:
    """The Gymnasium action space of a behavior and the conversion of actions to ``ActionTuple``."""

    def __init__(self, action_spec: ActionSpec):
        self.action_spec = action_spec
        continuous = (
            spaces.Box(-1.0, 1.0, shape=(action_spec.continuous_size,), dtype=np.float32)
            if action_spec.continuous_size
            else None
        )
        discrete: spaces.Space | None = None
        if len(action_spec.discrete_branches) == 1:
            discrete = spaces.Discrete(action_spec.discrete_branches[0])
        elif action_spec.discrete_branches:
            discrete = spaces.MultiDiscrete(list(action_spec.discrete_branches))
        if continuous is not None and discrete is not None:
            self.space: spaces.Space = spaces.Dict({CONTINUOUS_KEY: continuous, DISCRETE_KEY: discrete})
        elif continuous is not None or discrete is not None:
            self.space = continuous if continuous is not None else discrete  # type: ignore[assignment]
        else:
            raise GymEnvError("the behavior has no actions; a Gymnasium env needs at least one")

    @property
    def mask_size(self) -> int:
        """Length of an action mask: the sum of the discrete branch sizes."""
        return int(sum(self.action_spec.discrete_branches))

    def to_action_tuple(self, actions: Any, num_agents: int) -> ActionTuple:
        """Convert a batch of ``num_agents`` Gymnasium actions to an ``ActionTuple``."""
        spec = self.action_spec
        if isinstance(self.space, spaces.Dict):
            if not isinstance(actions, dict) or set(actions) != {CONTINUOUS_KEY, DISCRETE_KEY}:
                raise GymEnvError(
                    f"this behavior has hybrid actions: pass a dict with keys "
                    f"'{CONTINUOUS_KEY}' and '{DISCRETE_KEY}', got {actions!r}"
                )
            continuous, discrete = actions[CONTINUOUS_KEY], actions[DISCRETE_KEY]
        elif spec.continuous_size:
            continuous, discrete = actions, None
        else:
            continuous, discrete = None, actions
        action = ActionTuple()
        action.add_continuous(_as_rows(continuous, num_agents, spec.continuous_size, np.float32))
        action.add_discrete(_as_rows(discrete, num_agents, len(spec.discrete_branches), np.int32))
        return action


def _as_rows(values: Any, num_agents: int, width: int, dtype: type) -> np.ndarray:
    if values is None:
        return np.zeros((num_agents, width), dtype=dtype)
    array: np.ndarray = np.asarray(values, dtype=dtype)
    if array.size != num_agents * width:
        raise GymEnvError(
            f"expected {num_agents} action(s) of {width} value(s) each, got an array of shape {array.shape}"
        )
    return array.reshape(num_agents, width)


def allowed_actions(decision_steps: DecisionSteps, action_spec: ActionSpec) -> np.ndarray:
    """Masks of the agents in ``decision_steps`` as ``bool [n_agents, sum(branches)]``, True = allowed.

    ML-Agents marks *disabled* actions with True; sb3-contrib's MaskablePPO and ONNX models use
    True/1 for *allowed* ones, which is what this returns.
    """
    num_agents = len(decision_steps)
    if decision_steps.action_mask is None:
        return np.ones((num_agents, int(sum(action_spec.discrete_branches))), dtype=bool)
    return ~np.concatenate(decision_steps.action_mask, axis=1).astype(bool)


def behavior_layouts(
    spec: BehaviorSpec, visual_format: VisualFormat = VisualFormat.CHW
) -> tuple[ObservationLayout, ActionLayout]:
    """The observation and action layouts of one behavior."""
    return ObservationLayout(spec.observation_specs, visual_format), ActionLayout(spec.action_spec)
