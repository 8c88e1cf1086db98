"""SAC trainer type; its settings and registration import without torch, the rest on first use."""

from typing import TYPE_CHECKING

from rldojo.lazy_imports import lazy_exports
from rldojo.trainers.sac.settings import TRAINER_NAME, SACSettings, get_type_and_setting

if TYPE_CHECKING:
    from rldojo.trainers.sac.trainer import SACOptimizer, SACTrainer

__all__ = ["TRAINER_NAME", "SACOptimizer", "SACSettings", "SACTrainer", "get_type_and_setting"]

__getattr__ = lazy_exports(
    __name__,
    {
        "SACOptimizer": "rldojo.trainers.sac.trainer",
        "SACTrainer": "rldojo.trainers.sac.trainer",
    },
)
