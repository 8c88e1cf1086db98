"""SB3's logger output (``train/loss``, ``rollout/exploration_rate``, ...) into rldojo's StatsReporter.

Every writer of the run (console, TensorBoard, W&B, CSV, ...) then publishes it at ``summary_freq``, as
the mean of the values dumped since the last summary, under SB3's own key.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from stable_baselines3.common.logger import KVWriter, Logger

from rldojo.stats import StatsReporter

__all__ = ["StatsReporterOutput", "stats_reporter_logger"]


class StatsReporterOutput(KVWriter):
    """An SB3 output format that adds every numeric value to a StatsReporter."""

    def __init__(self, reporter: StatsReporter):
        self.reporter = reporter

    def write(
        self, key_values: dict[str, Any], key_excluded: dict[str, tuple[str, ...]], step: int = 0
    ) -> None:
        for key, value in key_values.items():
            if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
                self.reporter.add_stat(key, float(value))


def stats_reporter_logger(reporter: StatsReporter) -> Logger:
    """An SB3 Logger whose only output is ``reporter``."""
    return Logger(folder=None, output_formats=[StatsReporterOutput(reporter)])
