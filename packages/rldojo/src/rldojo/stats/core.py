"""StatsReporter, StatsWriter and StatsSummary with ML-Agents' names and semantics.

Trainers add values under a category (the behavior name); every ``summary_freq`` steps the reporter
summarises each key and hands the summaries to every writer of the run.
"""

from __future__ import annotations

import abc
import copy
import enum
import logging
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
from mlagents_envs.side_channel.stats_side_channel import StatsAggregationMethod

__all__ = [
    "STEPS_PER_SECOND_KEY",
    "StatsAggregationMethod",
    "StatsPropertyType",
    "StatsReporter",
    "StatsSummary",
    "StatsWriter",
]

logger = logging.getLogger(__name__)

STEPS_PER_SECOND_KEY = "Environment/Steps Per Second"
"""Trainer steps per second of wall time since the previous summary, added to every summary but the first."""


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


class _RunStats:
    """What all reporters of one run share: the writers (with where each comes from) and pending values."""

    def __init__(self) -> None:
        self.writers: list[tuple[StatsWriter, str]] = []
        self.values: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        self.aggregation: dict[str, dict[str, StatsAggregationMethod]] = defaultdict(dict)
        self.lock = threading.RLock()
        self.last_write: dict[str, tuple[int, float]] = {}
        """Per category: the step and clock of its last summary, for steps per second."""

    def call(self, hook: str, *args: Any) -> None:
        """Call ``hook(*args)`` on every writer; a writer that raises is named in one warning and dropped,
        the others still get the call."""
        for writer, source in list(self.writers):
            try:
                getattr(writer, hook)(*args)
            except Exception as error:
                self.writers.remove((writer, source))
                message = str(error).splitlines()[0] if str(error) else ""
                logger.warning(
                    "stats writer %s from %s raised %s in %s: %s; the run goes on without it",
                    type(writer).__name__,
                    source,
                    type(error).__name__,
                    hook,
                    message,
                )


class StatsReporter:
    """Collects the stats of one run under a category (a behavior name) and hands them to the run's writers.

    A run creates one reporter, adds its writers, and gives each trainer ``reporter.for_category(name)``;
    those share the writers and pending values, and nothing is shared between runs. A writer that raises
    in any hook is named in one warning line and dropped; the other writers still get that call.
    """

    def __init__(self, category: str = "") -> None:
        self.category = category
        self._run = _RunStats()

    def for_category(self, category: str) -> StatsReporter:
        """A reporter for ``category`` that shares this one's writers and pending values."""
        reporter = copy.copy(self)
        reporter.category = category
        return reporter

    def add_writer(self, writer: StatsWriter, source: str | None = None) -> None:
        """Publish to ``writer`` from now on; ``source`` (e.g. the plugin's distribution and entry point)
        names it if it fails."""
        with self._run.lock:
            self._run.writers.append((writer, source or type(writer).__module__))

    @property
    def writers(self) -> list[StatsWriter]:
        """The run's writers still in use."""
        return [writer for writer, _ in self._run.writers]

    def close_writers(self) -> None:
        """Close every writer (end of run) and stop publishing to them."""
        with self._run.lock:
            self._run.call("close")
            self._run.writers.clear()

    def add_property(self, property_type: StatsPropertyType, value: Any) -> None:
        with self._run.lock:
            self._run.call("add_property", self.category, property_type, value)

    def add_stat(
        self, key: str, value: float, aggregation: StatsAggregationMethod = StatsAggregationMethod.AVERAGE
    ) -> None:
        """Append ``value`` to ``key`` for the current summary period; writers get it as a float (a 0-d
        tensor or numpy scalar is read back here)."""
        value = float(value)
        with self._run.lock:
            self._run.values[self.category][key].append(value)
            self._run.aggregation[self.category][key] = aggregation
            self._run.call("on_add_stat", self.category, key, value, aggregation)

    def set_stat(self, key: str, value: float) -> None:
        """Replace ``key`` with ``value``: only the most recent value is reported (as a float)."""
        value = float(value)
        with self._run.lock:
            self._run.values[self.category][key] = [value]
            self._run.aggregation[self.category][key] = StatsAggregationMethod.MOST_RECENT
            self._run.call("on_add_stat", self.category, key, value, StatsAggregationMethod.MOST_RECENT)

    def add_episode(self, agent_id: str, episode_return: float, episode_length: int, step: int) -> None:
        """Tell every writer that ``agent_id`` finished an episode at trainer step ``step``."""
        with self._run.lock:
            self._run.call("on_episode_end", self.category, agent_id, episode_return, episode_length, step)

    def get_stats_summaries(self, key: str) -> StatsSummary:
        with self._run.lock:
            return StatsSummary(
                list(self._run.values[self.category].get(key, [])),
                self._run.aggregation[self.category].get(key, StatsAggregationMethod.AVERAGE),
            )

    def take_pending(self) -> dict[str, StatsSummary]:
        """This category's values of the current period, taken out (an env runner sends them on)."""
        with self._run.lock:
            pending = {
                key: StatsSummary(values, self._run.aggregation[self.category][key])
                for key, values in self._run.values[self.category].items()
                if values
            }
            self._run.values[self.category].clear()
            return pending

    def add_pending(self, pending: dict[str, StatsSummary]) -> None:
        """Add values another reporter took out with :meth:`take_pending` to the current period."""
        for key, summary in pending.items():
            if summary.aggregation_method == StatsAggregationMethod.MOST_RECENT:
                self.set_stat(key, summary.full_dist[-1])
                continue
            for value in summary.full_dist:
                self.add_stat(key, value, summary.aggregation_method)

    def write_stats(self, step: int) -> None:
        """Summarise every key of this category, hand the summaries to all writers, start a new period."""
        with self._run.lock:
            summaries = self.take_pending()
            now = time.perf_counter()
            last_step, last_time = self._run.last_write.get(self.category, (step, now))
            if step > last_step and now > last_time:  # from the second summary on (CleanRL's charts/SPS)
                rate = (step - last_step) / (now - last_time)
                summaries[STEPS_PER_SECOND_KEY] = StatsSummary([rate], StatsAggregationMethod.MOST_RECENT)
            self._run.last_write[self.category] = (step, now)
            self._run.call("write_stats", self.category, summaries, step)
