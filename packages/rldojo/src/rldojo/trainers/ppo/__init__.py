"""PPO trainer type; its settings and registration import without torch, the rest on first use."""

from typing import TYPE_CHECKING

from rldojo.lazy_imports import lazy_exports
from rldojo.trainers.ppo.settings import TRAINER_NAME, PPOSettings, get_type_and_setting

if TYPE_CHECKING:
    from rldojo.trainers.ppo.trainer import PPOOptimizer, PPOTrainer

__all__ = ["TRAINER_NAME", "PPOOptimizer", "PPOSettings", "PPOTrainer", "get_type_and_setting"]

__getattr__ = lazy_exports(
    __name__,
    {
        "PPOOptimizer": "rldojo.trainers.ppo.trainer",
        "PPOTrainer": "rldojo.trainers.ppo.trainer",
    },
)
