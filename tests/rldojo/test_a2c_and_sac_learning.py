"""Whole runs of configs/a2c.yaml and configs/sac.yaml: reward on 3DBall (and Basic for SAC) rises clearly
above a random policy's within small step budgets."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

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


@pytest.mark.slow
def test_sac_learns_3dball(tmp_path):
    rewards = train("sac.yaml", tmp_path, **{"env_settings.env_path": "sim:3DBall"})
    steps = sorted(rewards)
    assert rewards[steps[0]] < RANDOM_3DBALL_REWARD, rewards
    assert max(rewards[step] for step in steps[-2:]) > 4 * RANDOM_3DBALL_REWARD, rewards


BASIC_SAC = {  # discrete actions: a small network, short trajectories, low initial entropy coefficient
    "behaviors": {
        "Basic": {
            "trainer_type": "sac",
            "hyperparameters": {
                "learning_rate": 0.001,
                "batch_size": 64,
                "buffer_size": 10000,
                "buffer_init_steps": 500,
                "tau": 0.01,
                "init_entcoef": 0.05,
            },
            "network_settings": {"hidden_units": 32, "num_layers": 2},
            "max_steps": 4000,
            "time_horizon": 10,
            "summary_freq": 1000,
        }
    },
    "env_settings": {"env_path": "sim:Basic"},
}


@pytest.mark.slow
def test_sac_learns_basic_with_discrete_actions(tmp_path):
    config = tmp_path / "basic_sac.yaml"
    config.write_text(yaml.safe_dump(BASIC_SAC))
    rewards = train(str(config), tmp_path)
    steps = sorted(rewards)
    assert rewards[steps[0]] < 0.5 and rewards[steps[-1]] >= 0.85, rewards  # optimum 0.93
