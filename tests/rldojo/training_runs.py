"""Whole training runs for tests: a prepared run folder, ``run_training``, and what reached the writers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rldojo.settings import load_run_options
from rldojo.stats import STEPS_PER_SECOND_KEY, StatsSummary, StatsWriter
from rldojo.training import train_run

CONFIGS = Path(__file__).parents[2] / "configs"
REWARD = "Environment/Cumulative Reward"


class SummaryRecorder(StatsWriter):
    """Every summary as one text line per key (steps per second aside), the summaries by key and step, the
    mean reward per summary step, and every finished episode as ``(trainer step, return)``."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.summaries: dict[str, dict[int, StatsSummary]] = {}
        self.rewards: dict[int, float] = {}
        self.episodes: list[tuple[int, float]] = []

    def write_stats(self, category: str, values: dict[str, StatsSummary], step: int) -> None:
        for key in sorted(values):
            summary = values[key]
            if key != STEPS_PER_SECOND_KEY:  # wall-clock speed: no two runs agree on it
                self.lines.append(f"{category} {step} {key} {summary.full_dist!r}")
            self.summaries.setdefault(key, {})[step] = summary
        if REWARD in values:
            self.rewards[step] = values[REWARD].mean

    def on_episode_end(
        self, category: str, agent_id: str, episode_return: float, episode_length: int, step: int
    ) -> None:
        self.episodes.append((step, episode_return))


def train(config: Path, results: Path, run_id: str = "run", **overrides: Any) -> SummaryRecorder:
    """Train with ``config`` and ``overrides`` (dotted YAML paths) into ``results/run_id``, as
    ``rldojo learn`` does after parsing its flags."""
    options = load_run_options(
        config,
        {"checkpoint_settings.results_dir": str(results), "checkpoint_settings.run_id": run_id, **overrides},
    )
    recorder = SummaryRecorder()
    train_run(options, [recorder])
    return recorder
