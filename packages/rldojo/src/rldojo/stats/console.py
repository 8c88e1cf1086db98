"""Console output: ML-Agents' per-summary line, plus a live progress bar when attached to a terminal."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from rldojo.stats.core import StatsAggregationMethod, StatsPropertyType, StatsSummary, StatsWriter

__all__ = ["ConsoleWriter", "summary_line"]

REWARD_KEY = "Environment/Cumulative Reward"


def summary_line(category: str, values: dict[str, StatsSummary], step: int, elapsed: float) -> str:
    """The line mlagents-learn logs at each summary, so users' log parsers keep working."""
    training = (
        "Training."
        if values.get("Is Training", StatsSummary([1.0], StatsAggregationMethod.AVERAGE)).mean > 0
        else "Not Training."
    )
    line = f"{category}. Step: {step}. Time Elapsed: {elapsed:.3f} s."
    reward = values.get(REWARD_KEY)
    if reward is not None and reward.num > 0:
        line += f" Mean Reward: {reward.mean:.3f}. Std of Reward: {reward.std:.3f}."
    else:
        line += " No episode was completed since last summary."
    return f"{line} {training}"


class ConsoleWriter(StatsWriter):
    """Prints the summary line per behavior; on a terminal also shows steps, steps/s and ETA."""

    def __init__(self, console: Console | None = None):
        self.console = console or Console(highlight=False, soft_wrap=True)
        self.start_time = time.perf_counter()
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]} steps/s"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=self.console,
            disable=not self.console.is_terminal,
        )
        self.tasks: dict[str, TaskID] = {}
        self.progress.start()

    def add_property(self, category: str, property_type: StatsPropertyType, value: Any) -> None:
        if property_type == StatsPropertyType.HYPERPARAMETERS and category not in self.tasks:
            total = value.get("max_steps") if isinstance(value, dict) else None
            self.tasks[category] = self.progress.add_task(category, total=total, rate="-")

    def on_add_stat(
        self,
        category: str,
        key: str,
        value: float,
        aggregation: StatsAggregationMethod = StatsAggregationMethod.AVERAGE,
    ) -> None:
        if key == "Step" and category in self.tasks:
            task_id = self.tasks[category]
            self.progress.update(task_id, completed=value)
            speed = self.progress.tasks[task_id].speed
            self.progress.update(task_id, rate=f"{speed:,.0f}" if speed else "-")

    def write_stats(self, category: str, values: dict[str, StatsSummary], step: int) -> None:
        elapsed = time.perf_counter() - self.start_time
        self.console.print(summary_line(category, values, step, elapsed), markup=False)

    def close(self) -> None:
        self.progress.stop()
