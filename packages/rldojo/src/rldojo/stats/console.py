"""Console output: ML-Agents' per-summary line, plus a live progress bar when attached to a terminal."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)

from rldojo.stats.core import StatsAggregationMethod, StatsPropertyType, StatsSummary, StatsWriter

__all__ = ["ConsoleWriter", "summary_line", "wrap_phrases"]

REWARD_KEY = "Environment/Cumulative Reward"
GROUP_REWARD_KEY = "Environment/Group Cumulative Reward"


def summary_line(category: str, values: dict[str, StatsSummary], step: int, elapsed: float) -> str:
    """The line mlagents-learn logs at each summary, so users' log parsers keep working."""
    training = (
        "Training."
        if values.get("Is Training", StatsSummary([1.0], StatsAggregationMethod.AVERAGE)).mean > 0
        else "Not Training."
    )
    line = f"{category}. Step: {step}. Time Elapsed: {elapsed:.3f} s."
    reward = values.get(REWARD_KEY)
    group_reward = values.get(GROUP_REWARD_KEY)
    if reward is not None and reward.num > 0:
        line += f" Mean Reward: {reward.mean:.3f}."
        if group_reward is not None and group_reward.num > 0:  # POCA's groups: instead of the spread
            line += f" Mean Group Reward: {group_reward.mean:.3f}."
        else:
            line += f" Std of Reward: {reward.std:.3f}."
    else:
        line += " No episode was completed since last summary."
    return f"{line} {training}"


def wrap_phrases(line: str, width: int) -> list[str]:
    """``line`` cut between its phrases (after ``". "``) into lines of at most ``width`` characters where a
    phrase allows, continuation lines indented; a terminal would cut it mid-word."""
    lines: list[str] = []
    for phrase in re.split(r"(?<=\.) ", line):
        if lines and len(lines[-1]) + 1 + len(phrase) <= width:
            lines[-1] += " " + phrase
        else:
            lines.append(("  " if lines else "") + phrase)
    return lines


class ConsoleWriter(StatsWriter):
    """Prints the summary line per behavior; on a terminal also shows steps, steps/s and ETA. At the end of
    the run it prints what each behavior reached, how long it took and where the run folder is."""

    def __init__(self, console: Console | None = None, run_folder: Path | None = None):
        self.console = console or Console(highlight=False, soft_wrap=True)
        self.run_folder = run_folder
        self.start_time = time.perf_counter()
        self.last_summary: dict[str, tuple[int, float | None]] = {}
        """Per behavior: step of its last summary and the last mean reward reported."""
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]} steps/s"),
            TextColumn("{task.fields[elapsed]} s"),  # the summary lines' clock, not rich's own
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
            self.tasks[category] = self.progress.add_task(category, total=total, rate="-", elapsed="0")

    def on_add_stat(
        self,
        category: str,
        key: str,
        value: float,
        aggregation: StatsAggregationMethod = StatsAggregationMethod.AVERAGE,
    ) -> None:
        if key == "Step" and category in self.tasks and not self.progress.disable:
            task_id = self.tasks[category]
            total = self.progress.tasks[task_id].total
            # the last trajectories may take a trainer past max_steps (60220/60000): show it as done
            self.progress.update(task_id, completed=min(value, total) if total else value)
            speed = self.progress.tasks[task_id].speed
            elapsed = f"{time.perf_counter() - self.start_time:,.0f}"
            self.progress.update(task_id, rate=f"{speed:,.0f}" if speed else "-", elapsed=elapsed)

    def write_stats(self, category: str, values: dict[str, StatsSummary], step: int) -> None:
        elapsed = time.perf_counter() - self.start_time
        line = summary_line(category, values, step, elapsed)
        # one line for log parsers; on a terminal, cut between phrases to the terminal's width
        lines = wrap_phrases(line, self.console.width) if self.console.is_terminal else [line]
        self._print(lines)
        reward = values.get(REWARD_KEY)
        last_reward = reward.mean if reward is not None and reward.num > 0 else None
        self.last_summary[category] = (
            step,
            last_reward if last_reward is not None else self._last_reward(category),
        )

    def _last_reward(self, category: str) -> float | None:
        return self.last_summary.get(category, (0, None))[1]

    def closing_lines(self) -> list[str]:
        """What the run reached per behavior, its time, and where its files are."""
        lines = [f"Run ended after {time.perf_counter() - self.start_time:.1f} s."]
        for category, (step, reward) in sorted(self.last_summary.items()):
            reached = f"last mean reward {reward:.3f}" if reward is not None else "no episode completed"
            lines.append(f"  {category}: step {step}, {reached}")
        if self.run_folder is not None:
            lines.append(f"  run folder: {self.run_folder}")
            lines.append("    configuration.yaml, run_manifest.json, run_logs/, per behavior:")
            lines.append("    TensorBoard events and checkpoints")
        return lines

    def _print(self, lines: list[str]) -> None:
        self.console.print("\n".join(lines), markup=False, highlight=False, soft_wrap=True)

    def close(self) -> None:
        self.progress.stop()
        if self.last_summary:
            self._print(self.closing_lines())
