"""The Stable-Baselines3 algorithms offered as trainer types, and what each accepts.

sb3-contrib's algorithms are offered only when it is importable (``pip install rldojo-sb3[contrib]``).
"""

from __future__ import annotations

import enum
import importlib
from dataclasses import dataclass

from stable_baselines3 import A2C, DQN, PPO, SAC, TD3
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
    algorithm_class: type[BaseAlgorithm]
    family: Family
    action_kinds: tuple[ActionKind, ...]


ALL_ACTIONS = (ActionKind.CONTINUOUS, ActionKind.DISCRETE, ActionKind.MULTI_DISCRETE)
CONTINUOUS_ONLY = (ActionKind.CONTINUOUS,)
SINGLE_DISCRETE = (ActionKind.DISCRETE,)

CORE = (
    Algorithm("sb3_ppo", PPO, Family.ON_POLICY, ALL_ACTIONS),
    Algorithm("sb3_a2c", A2C, Family.ON_POLICY, ALL_ACTIONS),
    Algorithm("sb3_dqn", DQN, Family.OFF_POLICY, SINGLE_DISCRETE),
    Algorithm("sb3_sac", SAC, Family.OFF_POLICY, CONTINUOUS_ONLY),
    Algorithm("sb3_td3", TD3, Family.OFF_POLICY, CONTINUOUS_ONLY),
)
CONTRIB = (  # trainer type, class name in sb3_contrib, family, action kinds
    ("sb3_qrdqn", "QRDQN", Family.OFF_POLICY, SINGLE_DISCRETE),
    ("sb3_tqc", "TQC", Family.OFF_POLICY, CONTINUOUS_ONLY),
)


def _contrib() -> tuple[Algorithm, ...]:
    try:
        module = importlib.import_module("sb3_contrib")
    except ImportError:
        return ()
    return tuple(Algorithm(name, getattr(module, cls), family, kinds) for name, cls, family, kinds in CONTRIB)


def algorithms() -> dict[str, Algorithm]:
    """Every available trainer type by name."""
    return {algorithm.trainer_type: algorithm for algorithm in (*CORE, *_contrib())}
