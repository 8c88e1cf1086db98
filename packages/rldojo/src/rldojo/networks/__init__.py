"""Neural networks: observation encoders, LSTM memory, action heads, actor and critic."""

from rldojo.networks.action_heads import ActionHead, ActionSample, PolicyDistribution, clip_continuous
from rldojo.networks.device import default_device, set_default_device
from rldojo.networks.encoders import ObservationEncoder
from rldojo.networks.memory import LSTMMemory, MemoryNetwork
from rldojo.networks.models import Actor, Critic
from rldojo.networks.normalizer import RunningNormalizer

__all__ = [
    "ActionHead",
    "ActionSample",
    "Actor",
    "Critic",
    "LSTMMemory",
    "MemoryNetwork",
    "ObservationEncoder",
    "PolicyDistribution",
    "RunningNormalizer",
    "clip_continuous",
    "default_device",
    "set_default_device",
]
