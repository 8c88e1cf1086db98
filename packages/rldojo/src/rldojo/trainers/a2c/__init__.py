"""A2C trainer type."""

from rldojo.trainers.a2c.optimizer import A2COptimizer
from rldojo.trainers.a2c.settings import A2CSettings
from rldojo.trainers.a2c.trainer import TRAINER_NAME, A2CTrainer, get_type_and_setting

__all__ = ["TRAINER_NAME", "A2COptimizer", "A2CSettings", "A2CTrainer", "get_type_and_setting"]
