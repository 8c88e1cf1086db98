"""The ``rldojo.trainer_type`` entry point: every available SB3 algorithm as an ``sb3_*`` trainer type."""

from __future__ import annotations

from rldojo_sb3.algorithms import Family, algorithms
from rldojo_sb3.settings import SB3HyperparamSettings, settings_class

__all__ = ["get_type_and_setting"]

TRAINER_CLASSES = {
    Family.ON_POLICY: "rldojo_sb3.trainer:SB3OnPolicyTrainer",
    Family.OFF_POLICY: "rldojo_sb3.trainer:SB3OffPolicyTrainer",
}
"""Each family's trainer class by import path: Stable-Baselines3 and torch load only when one is built."""


def get_type_and_setting() -> tuple[dict[str, str], dict[str, type[SB3HyperparamSettings]]]:
    """``({trainer_type: trainer class path}, {trainer_type: hyperparameters class})``."""
    available = algorithms()
    trainers = {name: TRAINER_CLASSES[algorithm.family] for name, algorithm in available.items()}
    return trainers, {name: settings_class(algorithm) for name, algorithm in available.items()}
