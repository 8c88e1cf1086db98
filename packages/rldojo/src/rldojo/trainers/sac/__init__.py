"""SAC trainer type."""

from rldojo.trainers.sac.optimizer import SACOptimizer
from rldojo.trainers.sac.settings import SACSettings
from rldojo.trainers.sac.trainer import TRAINER_NAME, SACTrainer, get_type_and_setting

__all__ = ["TRAINER_NAME", "SACOptimizer", "SACSettings", "SACTrainer", "get_type_and_setting"]
