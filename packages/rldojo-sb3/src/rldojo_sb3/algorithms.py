"""The Stable-Baselines3 algorithms offered as trainer types, and what each accepts.

sb3-contrib's algorithms are offered only when it is installed (``pip install rldojo-sb3[contrib]``). Listing
them imports neither Stable-Baselines3 nor torch: an algorithm's class is imported when it is first used.
"""

from __future__ import annotations

import enum
import importlib
import importlib.util
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stable_baselines3.common.base_class import BaseAlgorithm

__all__ = ["ActionKind", "Algorithm", "Family", "algorithms"]


class Family(str, enum.Enum):
    """How an algorithm learns: which SB3 buffer it fills and when it trains."""

    ON_POLICY = "on_policy"  # RolloutBuffer, train() every n_steps rows
    OFF_POLICY = "off_policy"  # ReplayBuffer, train(gradient_steps) every train_freq after learning_starts


class ActionKind(str, enum.Enum):
    """The Gymnasium action space of a behavior, as rldojo_gym.spaces lays it out."""

    CONTINUOUS = "Box"
    DISCRETE = "Discrete"
    MULTI_DISCRETE = "MultiDiscrete"


@dataclass(frozen=True)
class Algorithm:
    """One trainer type: the SB3 class behind it and the action spaces it supports."""

    trainer_type: str
    module: str
    """The module holding the SB3 class (``stable_baselines3`` or ``sb3_contrib``)."""
    class_name: str
    family: Family
    action_kinds: tuple[ActionKind, ...]

    @property
    def algorithm_class(self) -> type[BaseAlgorithm]:
        """The SB3 class (imports Stable-Baselines3 and torch on first use)."""
        algorithm_class: type[BaseAlgorithm] = getattr(importlib.import_module(self.module), self.class_name)
        return algorithm_class


ALL_ACTIONS = (ActionKind.CONTINUOUS, ActionKind.DISCRETE, ActionKind.MULTI_DISCRETE)
CONTINUOUS_ONLY = (ActionKind.CONTINUOUS,)
SINGLE_DISCRETE = (ActionKind.DISCRETE,)

CORE = (
    Algorithm("sb3_ppo", "stable_baselines3", "PPO", Family.ON_POLICY, ALL_ACTIONS),
    Algorithm("sb3_a2c", "stable_baselines3", "A2C", Family.ON_POLICY, ALL_ACTIONS),
    Algorithm("sb3_dqn", "stable_baselines3", "DQN", Family.OFF_POLICY, SINGLE_DISCRETE),
    Algorithm("sb3_sac", "stable_baselines3", "SAC", Family.OFF_POLICY, CONTINUOUS_ONLY),
    Algorithm("sb3_td3", "stable_baselines3", "TD3", Family.OFF_POLICY, CONTINUOUS_ONLY),
)
CONTRIB = (
    Algorithm("sb3_qrdqn", "sb3_contrib", "QRDQN", Family.OFF_POLICY, SINGLE_DISCRETE),
    Algorithm("sb3_tqc", "sb3_contrib", "TQC", Family.OFF_POLICY, CONTINUOUS_ONLY),
)


def _contrib() -> tuple[Algorithm, ...]:
    return CONTRIB if importlib.util.find_spec("sb3_contrib") is not None else ()


def algorithms() -> dict[str, Algorithm]:
    """Every available trainer type by name."""
    return {algorithm.trainer_type: algorithm for algorithm in (*CORE, *_contrib())}
