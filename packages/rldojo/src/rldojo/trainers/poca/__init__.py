"""POCA trainer type (MA-POCA, cooperative groups); its settings and registration import without torch, the
rest on first use."""

from typing import TYPE_CHECKING

from rldojo.lazy_imports import lazy_exports
from rldojo.trainers.poca.settings import TRAINER_NAME, POCASettings, get_type_and_setting

if TYPE_CHECKING:
    from rldojo.trainers.poca.networks import GroupCritic, Groupmates
    from rldojo.trainers.poca.trainer import POCAOptimizer, POCATrainer

__all__ = [
    "TRAINER_NAME",
    "GroupCritic",
    "Groupmates",
    "POCAOptimizer",
    "POCASettings",
    "POCATrainer",
    "get_type_and_setting",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "GroupCritic": "rldojo.trainers.poca.networks",
        "Groupmates": "rldojo.trainers.poca.networks",
        "POCAOptimizer": "rldojo.trainers.poca.trainer",
        "POCATrainer": "rldojo.trainers.poca.trainer",
    },
)
