"""The ``rldojo.trainer_type`` entry point: every available SB3 algorithm as an ``sb3_*`` trainer type."""

from __future__ import annotations

from rldojo_sb3.algorithms import Family, algorithms
from rldojo_sb3.settings import SB3HyperparamSettings, settings_class
from rldojo_sb3.trainer import SB3OffPolicyTrainer, SB3OnPolicyTrainer, SB3Trainer

__all__ = ["get_type_and_setting"]


def get_type_and_setting() -> tuple[dict[str, type[SB3Trainer]], dict[str, type[SB3HyperparamSettings]]]:
    """``({trainer_type: trainer class}, {trainer_type: hyperparameters class})``."""
    available = algorithms()
    trainers: dict[str, type[SB3Trainer]] = {
        name: SB3OnPolicyTrainer if algorithm.family is Family.ON_POLICY else SB3OffPolicyTrainer
        for name, algorithm in available.items()
    }
    return trainers, {name: settings_class(algorithm) for name, algorithm in available.items()}
