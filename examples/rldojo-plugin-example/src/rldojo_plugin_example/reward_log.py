"""A stats writer plugin: one tab-separated line per summary with the mean episode reward."""

from __future__ import annotations

from pathlib import Path

from rldojo.settings import RunOptions
from rldojo.stats import StatsSummary, StatsWriter

REWARD_KEY = "Environment/Cumulative Reward"
HEADER = "step\tbehavior\tmean_reward\tepisodes\n"


class RewardLogWriter(StatsWriter):
    """Appends ``step, behavior, mean reward, episodes`` to a TSV file at every summary."""

    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():  # a resumed run keeps appending below the same header
            path.write_text(HEADER)

    def write_stats(self, category: str, values: dict[str, StatsSummary], step: int) -> None:
        reward = values.get(REWARD_KEY)
        if reward is None or reward.num == 0:
            return
        with self.path.open("a") as log:
            log.write(f"{step}\t{category}\t{reward.mean:.4f}\t{reward.num}\n")


def get_reward_log_writer(run_options: RunOptions) -> list[StatsWriter]:
    """Registration function named by the ``rldojo.stats_writer`` entry point ``reward_log``."""
    return [RewardLogWriter(run_options.checkpoint_settings.write_path / "reward_log.tsv")]
