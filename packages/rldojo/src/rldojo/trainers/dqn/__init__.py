"""DQN trainer type; its settings and registration import without torch, the rest on first use."""

from typing import TYPE_CHECKING

from rldojo.lazy_imports import lazy_exports
from rldojo.trainers.dqn.settings import TRAINER_NAME, DQNSettings, get_type_and_setting

if TYPE_CHECKING:
    from rldojo.trainers.dqn.q_network import QNetwork
    from rldojo.trainers.dqn.trainer import DQNOptimizer, DQNTrainer

__all__ = ["TRAINER_NAME", "DQNOptimizer", "DQNSettings", "DQNTrainer", "QNetwork", "get_type_and_setting"]

__getattr__ = lazy_exports(
    __name__,
    {
        "DQNOptimizer": "rldojo.trainers.dqn.trainer",
        "QNetwork": "rldojo.trainers.dqn.q_network",
        "DQNTrainer": "rldojo.trainers.dqn.trainer",
    },
)
