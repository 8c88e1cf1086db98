"""Whole runs of configs/a2c.yaml and configs/sac.yaml: reward on 3DBall (and Basic for SAC) rises clearly
above a random policy's within small step budgets."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from .training_runs import CONFIGS, train

RANDOM_3DBALL_REWARD = 2.5
"""Mean episode reward of a random policy on 3DBall (about 1-2 over the first summaries)."""


def mean_rewards(config: Path, results: Path, **overrides: object) -> dict[int, float]:
    """Mean reward per summary step of ``config`` (seed 1) with ``overrides`` (dotted keys)."""
    return train(config, results, **{"env_settings.seed": 1, **overrides}).rewards


@pytest.mark.slow
def test_a2c_learns_3dball_over_grpc_from_a_launched_build(tmp_path, sim_build):
    rewards = mean_rewards(
        CONFIGS / "a2c.yaml",
        tmp_path,
        **{"env_settings.env_path": str(sim_build("3DBall")), "behaviors.3DBall.max_steps": 40000},
    )
    steps = sorted(rewards)
    assert rewards[steps[0]] < RANDOM_3DBALL_REWARD, rewards
    assert max(rewards[step] for step in steps[-2:]) > 8 * RANDOM_3DBALL_REWARD, rewards


@pytest.mark.slow
def test_sac_learns_3dball(tmp_path):
    rewards = mean_rewards(CONFIGS / "sac.yaml", tmp_path, **{"env_settings.env_path": "sim:3DBall"})
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
    rewards = mean_rewards(config, tmp_path)
    steps = sorted(rewards)
    assert rewards[steps[0]] < 0.5 and rewards[steps[-1]] >= 0.85, rewards  # optimum 0.93
