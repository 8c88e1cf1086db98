"""StatsReporter, StatsWriter and StatsSummary with ML-Agents' names and semantics.

Trainers add values under a category (the behavior name); every ``summary_freq`` steps the reporter
summarises each key and hands the summaries to every registered writer.
"""

from __future__ import annotations

import abc
import enum
import threading
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from mlagents_envs.side_channel.stats_side_channel import StatsAggregationMethod

__all__ = ["StatsAggregationMethod", "StatsPropertyType", "StatsReporter", "StatsSummary", "StatsWriter"]


class StatsPropertyType(enum.Enum):
    """Kinds of run-level properties a writer may record once (not time series)."""

    HYPERPARAMETERS = "hyperparameters"
    SELF_PLAY = "selfplay"


@dataclass(frozen=True)
class StatsSummary:
    """All values one key received during a summary period, and how to aggregate them."""

    full_dist: list[float]
    aggregation_method: StatsAggregationMethod

    @property
    def num(self) -> int:
        return len(self.full_dist)

    @property
    def mean(self) -> float:
        return float(np.mean(self.full_dist)) if self.full_dist else 0.0

    @property
    def std(self) -> float:
        return float(np.std(self.full_dist)) if self.full_dist else 0.0

    @property
    def sum(self) -> float:
        return float(np.sum(self.full_dist))

    @property
    def aggregated_value(self) -> float:
        """The single number a scalar writer reports: the sum for SUM, otherwise the mean."""
        return self.sum if self.aggregation_method == StatsAggregationMethod.SUM else self.mean


class StatsWriter(abc.ABC):
    """Publishes summaries somewhere (console, TensorBoard, W&B, ...). Subclass and register a plugin."""

    def on_add_stat(  # noqa: B027 (optional hook)
        self,
        category: str,
        key: str,
        value: float,
        aggregation: StatsAggregationMethod = StatsAggregationMethod.AVERAGE,
    ) -> None:
        """Called for every single value as it is added; most writers ignore it."""

    @abc.abstractmethod
    def write_stats(self, category: str, values: dict[str, StatsSummary], step: int) -> None:
        """Publish one summary period of ``category`` at ``step``."""

    def add_property(self, category: str, property_type: StatsPropertyType, value: Any) -> None:  # noqa: B027
        """Record a run-level property such as the hyperparameters; most writers ignore it."""

    def on_episode_end(  # noqa: B027 (optional hook)
        self, category: str, agent_id: str, episode_return: float, episode_length: int, step: int
    ) -> None:
        """Called when an agent finishes an episode (its total reward and length); most writers ignore it."""

    def close(self) -> None:  # noqa: B027 (optional hook)
        """Flush and release resources at the end of a run."""


class StatsReporter:
    """Collects stats for one category; writers are shared by all reporters (as in ML-Agents)."""

    writers: ClassVar[list[StatsWriter]] = []
    _values: ClassVar[dict[str, dict[str, list[float]]]] = defaultdict(lambda: defaultdict(list))
    _aggregation: ClassVar[dict[str, dict[str, StatsAggregationMethod]]] = defaultdict(dict)
    _lock: ClassVar[threading.RLock] = threading.RLock()

    def __init__(self, category: str):
        self.category = category

    @classmethod
    def add_writer(cls, writer: StatsWriter) -> None:
        with cls._lock:
            cls.writers.append(writer)

    @classmethod
    def remove_writer(cls, writer: StatsWriter) -> None:
        with cls._lock:
            cls.writers.remove(writer)

    @classmethod
    def discard_pending(cls) -> None:
        """Forget values not yet written, in every category (a new run starts from a clean slate)."""
        with cls._lock:
            cls._values.clear()
            cls._aggregation.clear()

    def add_property(self, property_type: StatsPropertyType, value: Any) -> None:
        with self._lock:
            for writer in self.writers:
                writer.add_property(self.category, property_type, value)

    def add_stat(
        self, key: str, value: float, aggregation: StatsAggregationMethod = StatsAggregationMethod.AVERAGE
    ) -> None:
        """Append ``value`` to ``key`` for the current summary period."""
        with self._lock:
            self._values[self.category][key].append(float(value))
            self._aggregation[self.category][key] = aggregation
            for writer in self.writers:
                writer.on_add_stat(self.category, key, value, aggregation)

    def set_stat(self, key: str, value: float) -> None:
        """Replace ``key`` with ``value``: only the most recent value is reported."""
        with self._lock:
            self._values[self.category][key] = [float(value)]
            self._aggregation[self.category][key] = StatsAggregationMethod.MOST_RECENT
            for writer in self.writers:
                writer.on_add_stat(self.category, key, value, StatsAggregationMethod.MOST_RECENT)

    def add_episode(self, agent_id: str, episode_return: float, episode_length: int, step: int) -> None:
        """Tell every writer that ``agent_id`` finished an episode at trainer step ``step``."""
        with self._lock:
            for writer in self.writers:
                writer.on_episode_end(self.category, agent_id, episode_return, episode_length, step)

    def get_stats_summaries(self, key: str) -> StatsSummary:
        with self._lock:
            return StatsSummary(
                list(self._values[self.category].get(key, [])),
                self._aggregation[self.category].get(key, StatsAggregationMethod.AVERAGE),
            )

    def write_stats(self, step: int) -> None:
        """Summarise every key of this category, hand the summaries to all writers, start a new period."""
        with self._lock:
            summaries = {
                key: StatsSummary(values, self._aggregation[self.category][key])
                for key, values in self._values[self.category].items()
                if values
            }
            self._values[self.category].clear()
            for writer in self.writers:
                writer.write_stats(self.category, summaries, step)
