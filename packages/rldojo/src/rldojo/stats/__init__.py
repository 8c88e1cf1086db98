"""Training statistics: the reporter trainers write to, and the writers that publish them."""

from rldojo.stats.console import ConsoleWriter
from rldojo.stats.core import (
    STEPS_PER_SECOND_KEY,
    StatsAggregationMethod,
    StatsPropertyType,
    StatsReporter,
    StatsSummary,
    StatsWriter,
)
from rldojo.stats.tensorboard import TensorboardWriter

__all__ = [
    "STEPS_PER_SECOND_KEY",
    "ConsoleWriter",
    "StatsAggregationMethod",
    "StatsPropertyType",
    "StatsReporter",
    "StatsSummary",
    "StatsWriter",
    "TensorboardWriter",
]
