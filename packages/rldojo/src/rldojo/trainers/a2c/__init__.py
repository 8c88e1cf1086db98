"""A2C trainer type; its settings and registration import without torch, the rest on first use."""

from typing import TYPE_CHECKING

from rldojo.lazy_imports import lazy_exports
from rldojo.trainers.a2c.settings import TRAINER_NAME, A2CSettings, get_type_and_setting

if TYPE_CHECKING:
    from rldojo.trainers.a2c.trainer import A2COptimizer, A2CTrainer

__all__ = ["TRAINER_NAME", "A2COptimizer", "A2CSettings", "A2CTrainer", "get_type_and_setting"]

__getattr__ = lazy_exports(
    __name__,
    {
        "A2COptimizer": "rldojo.trainers.a2c.trainer",
        "A2CTrainer": "rldojo.trainers.a2c.trainer",
    },
)
