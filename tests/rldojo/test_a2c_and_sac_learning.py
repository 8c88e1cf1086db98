"""Whole runs of configs/a2c.yaml and configs/sac.yaml: reward on 3DBall (and Basic for SAC) rises clearly
above a random policy's within small step budgets."""

from __future__ import annotations

from pathlib import Path

import pytest

from rldojo.run_directory import RunDirectory
from rldojo.settings import load_run_options
from rldojo.stats import StatsReporter, StatsSummary, StatsWriter
from rldojo.training import run_training

CONFIGS = Path(__file__).parents[2] / "configs"
REWARD = "Environment/Cumulative Reward"
RANDOM_3DBALL_REWARD = 2.5
"""Mean episode reward of a random policy on 3DBall (about 1-2 over the first summaries)."""


class RewardRecorder(StatsWriter):
    """Mean episode reward per summary step."""

    def __init__(self) -> None:
        self.rewards: dict[int, float] = {}

    def write_stats(self, category: str, values: dict[str, StatsSummary], step: int) -> None:
        if REWARD in values:
            self.rewards[step] = values[REWARD].mean


def train(config: str, results: Path, **overrides: object) -> dict[int, float]:
    """Train ``configs/<config>`` with ``overrides`` (dotted keys); mean reward per summary step."""
    options = load_run_options(
        CONFIGS / config,
        {
            "checkpoint_settings.results_dir": str(results),
            "checkpoint_settings.run_id": "run",
            "env_settings.seed": 1,
            **overrides,
        },
    )
    run_dir = RunDirectory.prepare(options)
    recorder = RewardRecorder()
    StatsReporter.add_writer(recorder)
    try:
        run_training(options, run_dir)
    finally:
        StatsReporter.remove_writer(recorder)
    return recorder.rewards


@pytest.mark.slow
def test_a2c_learns_3dball_over_grpc_from_a_launched_build(tmp_path, sim_build):
    rewards = train(
        "a2c.yaml",
        tmp_path,
        **{"env_settings.env_path": str(sim_build("3DBall")), "behaviors.3DBall.max_steps": 40000},
    )
    steps = sorted(rewards)
    assert rewards[steps[0]] < RANDOM_3DBALL_REWARD, rewards
    assert max(rewards[step] for step in steps[-2:]) > 8 * RANDOM_3DBALL_REWARD, rewards
