"""Trainer API (ML-Agents' plugin tutorial names): subclass OnPolicyTrainer or OffPolicyTrainer.

The classes load on first use, so that a trainer type's settings module (``rldojo.trainers.ppo.settings``)
imports without torch.
"""

from typing import TYPE_CHECKING

from rldojo.lazy_imports import lazy_exports

if TYPE_CHECKING:
    from rldojo.trainers.off_policy import OffPolicyTrainer
    from rldojo.trainers.on_policy import OnPolicyOptimizer, OnPolicyTrainer
    from rldojo.trainers.optimizer import Optimizer, UpdateStats
    from rldojo.trainers.rl_trainer import RLTrainer
    from rldojo.trainers.schedules import DecayedValue

__all__ = [
    "DecayedValue",
    "OffPolicyTrainer",
    "OnPolicyOptimizer",
    "OnPolicyTrainer",
    "Optimizer",
    "RLTrainer",
    "UpdateStats",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "DecayedValue": "rldojo.trainers.schedules",
        "OffPolicyTrainer": "rldojo.trainers.off_policy",
        "OnPolicyOptimizer": "rldojo.trainers.on_policy",
        "OnPolicyTrainer": "rldojo.trainers.on_policy",
        "Optimizer": "rldojo.trainers.optimizer",
        "RLTrainer": "rldojo.trainers.rl_trainer",
        "UpdateStats": "rldojo.trainers.optimizer",
    },
)
