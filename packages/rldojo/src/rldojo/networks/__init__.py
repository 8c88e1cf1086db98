"""Neural networks: observation encoders, LSTM memory, action heads, actor and critic."""

from rldojo.networks.action_heads import (
    ActionHead,
    ActionSample,
    PolicyDistribution,
    clip_continuous,
    sample_categorical,
)
from rldojo.networks.device import default_device, set_default_device
from rldojo.networks.encoders import ObservationEncoder
from rldojo.networks.memory import LSTMMemory, MemoryNetwork
from rldojo.networks.mlp_gradients import PlainMLP, StackedMLP
from rldojo.networks.models import Actor, Critic
from rldojo.networks.normalizer import RunningNormalizer
from rldojo.networks.streams import StreamHeads, ordered_signal_names, reorder_streams

__all__ = [
    "ActionHead",
    "ActionSample",
    "Actor",
    "Critic",
    "LSTMMemory",
    "MemoryNetwork",
    "ObservationEncoder",
    "PlainMLP",
    "PolicyDistribution",
    "RunningNormalizer",
    "StackedMLP",
    "StreamHeads",
    "clip_continuous",
    "default_device",
    "ordered_signal_names",
    "reorder_streams",
    "sample_categorical",
    "set_default_device",
]
