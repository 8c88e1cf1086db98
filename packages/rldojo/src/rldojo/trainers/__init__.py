"""Trainer API (ML-Agents' plugin tutorial names): subclass OnPolicyTrainer or OffPolicyTrainer."""

from rldojo.trainers.off_policy import OffPolicyTrainer
from rldojo.trainers.on_policy import OnPolicyTrainer
from rldojo.trainers.optimizer import Optimizer
from rldojo.trainers.rl_trainer import RLTrainer
from rldojo.trainers.schedules import DecayedValue

__all__ = ["DecayedValue", "OffPolicyTrainer", "OnPolicyTrainer", "Optimizer", "RLTrainer"]
