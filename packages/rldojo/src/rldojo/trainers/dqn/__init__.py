"""DQN trainer type."""

from rldojo.trainers.dqn.optimizer import DQNOptimizer
from rldojo.trainers.dqn.q_network import QNetwork
from rldojo.trainers.dqn.settings import DQNSettings
from rldojo.trainers.dqn.trainer import TRAINER_NAME, DQNTrainer, get_type_and_setting

__all__ = ["TRAINER_NAME", "DQNOptimizer", "DQNSettings", "DQNTrainer", "QNetwork", "get_type_and_setting"]
