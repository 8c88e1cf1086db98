"""Training statistics: the reporter trainers write to, and the writers that publish them."""

from rldojo.stats.console import ConsoleWriter
from rldojo.stats.core import (
    StatsAggregationMethod,
    StatsPropertyType,
    StatsReporter,
    StatsSummary,
    StatsWriter,
)
from rldojo.stats.tensorboard import TensorboardWriter

__all__ = [
    "ConsoleWriter",
    "StatsAggregationMethod",
    "StatsPropertyType",
    "StatsReporter",
    "StatsSummary",
    "StatsWriter",
    "TensorboardWriter",
]
