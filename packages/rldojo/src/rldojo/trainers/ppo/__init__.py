"""PPO trainer type."""

from rldojo.trainers.ppo.optimizer import PPOOptimizer
from rldojo.trainers.ppo.settings import PPOSettings
from rldojo.trainers.ppo.trainer import TRAINER_NAME, PPOTrainer, get_type_and_setting

__all__ = ["TRAINER_NAME", "PPOOptimizer", "PPOSettings", "PPOTrainer", "get_type_and_setting"]
