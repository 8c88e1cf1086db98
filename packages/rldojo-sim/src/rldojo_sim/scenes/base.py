"""The contract every simulated scene implements: seeded numpy dynamics, vectorised over areas.

A scene has ``num_areas`` training areas; each area holds one agent per behavior, and an episode
always begins and ends for a whole area at once. The ``Academy`` (rldojo_sim.academy) adds what is
common to all scenes: episode ids, max-step interruption, full resets and side channels.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from mlagents_envs.base_env import (
    ActionTuple,
    BehaviorSpec,
    DecisionSteps,
    DimensionProperty,
    ObservationSpec,
    ObservationType,
)
from mlagents_envs.side_channel.stats_side_channel import StatsAggregationMethod

from rldojo_sim.drawing import Canvas, fit_image
from rldojo_sim.errors import SceneOptionError
from rldojo_sim.parameters import EnvironmentParameters


@dataclass(frozen=True)
class SceneOptions:
    """Options every scene accepts (as ``make_env`` keywords or ``--kebab-case`` build arguments)."""

    num_areas: int = 1
    """Independent training areas (agents per behavior)."""
    max_steps: int = 100
    """Decisions per episode before it is interrupted; 0 means no limit."""

    def __post_init__(self) -> None:
        if self.num_areas < 1:
            raise SceneOptionError(f"num_areas must be at least 1, got {self.num_areas}.")
        if self.max_steps < 0:
            raise SceneOptionError(f"max_steps must be 0 (no limit) or more, got {self.max_steps}.")


def check_minimum(option: str, value: int, minimum: int) -> None:
    """Raise SceneOptionError unless scene option ``option`` is at least ``minimum``."""
    if value < minimum:
        raise SceneOptionError(f"{option} must be at least {minimum}, got {value}.")


@dataclass
class Outcome:
    """What one decision step did, per area."""

    rewards: dict[str, np.ndarray]
    """Behavior name -> float32 [num_areas] reward earned by that behavior's agent."""
    terminated: np.ndarray
    """bool [num_areas]: the episode reached a terminal state."""
    group_rewards: dict[str, np.ndarray] | None = None
    """Behavior name -> float32 [num_areas] group reward, for scenes with agent groups."""
    interrupted: np.ndarray | None = None
    """bool [num_areas]: episodes the scene cuts short itself (besides the Academy's ``max_steps``)."""


ScriptedPolicy = Callable[[str, DecisionSteps], ActionTuple]
"""``policy(behavior, decisions) -> actions``: a scene's scripted player for one run."""


@dataclass(frozen=True)
class Stat:
    """One value for the stats side channel."""

    key: str
    value: float
    aggregation: StatsAggregationMethod = StatsAggregationMethod.AVERAGE


def clamp(values: np.ndarray, low: float | np.ndarray, high: float | np.ndarray) -> np.ndarray:
    """``np.clip`` without its argument checks, which cost more than the dynamics on small arrays."""
    return np.minimum(np.maximum(values, low), high)


def vector_observation(size: int, name: str) -> ObservationSpec:
    """The spec of a flat float observation, as a Unity VectorSensor reports it."""
    return ObservationSpec((size,), (DimensionProperty.NONE,), ObservationType.DEFAULT, name)


def visual_observation(channels: int, height: int, width: int, name: str) -> ObservationSpec:
    """The spec of a [C, H, W] camera observation."""
    spatial = DimensionProperty.TRANSLATIONAL_EQUIVARIANCE
    dims = (DimensionProperty.NONE, spatial, spatial)
    return ObservationSpec((channels, height, width), dims, ObservationType.DEFAULT, name)


def goal_signal(size: int, name: str) -> ObservationSpec:
    """The spec of a one-hot goal signal (observation type GOAL_SIGNAL)."""
    return ObservationSpec((size,), (DimensionProperty.NONE,), ObservationType.GOAL_SIGNAL, name)


class Scene(ABC):
    """One simulated Unity scene. Subclasses set ``name``, ``Options`` and ``behavior_specs``."""

    name: ClassVar[str]
    Options: ClassVar[type[SceneOptions]] = SceneOptions
    behavior_specs: dict[str, BehaviorSpec]
    """Fully qualified behavior name (``"Name?team=N"``) -> spec, in the order agents are sent."""

    def __init__(self, options: SceneOptions, rng: np.random.Generator, parameters: EnvironmentParameters):
        self.options = options
        self.rng = rng
        self.parameters = parameters

    @property
    def num_areas(self) -> int:
        return self.options.num_areas

    @abstractmethod
    def reset_areas(self, areas: np.ndarray) -> None:
        """Begin a new episode in every area where the bool [num_areas] mask is true."""

    @abstractmethod
    def act(self, actions: Mapping[str, ActionTuple]) -> Outcome:
        """Apply one decision's actions (one row per area, per behavior) and advance the world."""

    @abstractmethod
    def observe(self) -> dict[str, list[np.ndarray]]:
        """Behavior name -> one float32 [num_areas, *shape] array per observation spec."""

    @abstractmethod
    def episode_stats(self, ended: np.ndarray) -> list[Stat]:
        """Custom stats for the episodes ending in the areas where ``ended`` is true."""

    @staticmethod
    @abstractmethod
    def heuristic(behavior: str, obs: list[np.ndarray]) -> ActionTuple:
        """A scripted policy from observations alone (Unity's ``Agent.Heuristic``): near optimal."""

    @classmethod
    def scripted_policy(cls) -> ScriptedPolicy:
        """A new scripted player (for play and for recording demonstrations); it may keep state per
        agent id, e.g. remember a cue. By default: ``heuristic`` on each decision's observations."""
        return lambda behavior, decisions: cls.heuristic(behavior, decisions.obs)

    def action_masks(self) -> dict[str, np.ndarray]:
        """Behavior name -> bool [num_areas, sum(branches)], true where an action is disabled."""
        return {}

    def draw(self, area: int) -> np.ndarray:
        """A top-down picture of ``area``, ``uint8 [TILE, TILE, 3]`` (see ``rldojo_sim.drawing``).

        This default shows what the first behavior observes: its camera image, or its first vector
        observation as bars (up for positive values, down for negative); scenes override it with a
        drawing of their world.
        """
        observation = next(iter(self.observe().values()))[0][area]
        if observation.ndim == 3:
            return fit_image(
                np.rint(np.clip(observation, 0.0, 1.0) * 255).astype(np.uint8).transpose(1, 2, 0)
            )
        canvas = Canvas()
        width = 2.0 / len(observation)
        for index, value in enumerate(np.tanh(observation)):
            left = -1.0 + index * width
            canvas.rectangle(left, min(0.0, value), left + 0.8 * width, max(0.0, value), (90, 160, 230))
        return canvas.pixels

    def group_ids(self, behavior: str) -> np.ndarray:
        """int32 [num_areas] group id of the behavior's agents (0: no group); fixed for the scene's life."""
        return np.zeros(self.num_areas, dtype=np.int32)
