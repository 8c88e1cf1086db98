"""Whole DQN runs: Basic is learned over gRPC, --resume keeps the replay buffer and the reward level,
continuous actions stop ``rldojo learn`` with one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from rldojo.checkpoint import load_checkpoint

from .training_runs import CONFIGS, train

CONFIG = CONFIGS / "dqn.yaml"


def train_dqn(results: Path, run_id: str, **overrides: object) -> dict[int, float]:
    """Mean reward per summary step of configs/dqn.yaml (seed 1) with ``overrides``."""
    return train(CONFIG, results, run_id, **{"env_settings.seed": 1, **overrides}).rewards


@pytest.mark.slow
def test_dqn_learns_basic_over_grpc_from_a_launched_build(tmp_path, sim_build):
    rewards = train_dqn(
        tmp_path,
        "grpc",
        **{"env_settings.env_path": str(sim_build("Basic")), "behaviors.Basic.max_steps": 4000},
    )
    steps = sorted(rewards)
    assert rewards[steps[0]] < 0.5 and rewards[steps[-1]] >= 0.9, rewards


@pytest.mark.slow
def test_resume_keeps_the_replay_buffer_and_the_reward_level(tmp_path):
    in_process = {"env_settings.env_path": "sim:Basic"}
    before = train_dqn(tmp_path, "r", **in_process, **{"behaviors.Basic.max_steps": 4000})
    assert before[4000] >= 0.9, before
    saved = load_checkpoint(tmp_path / "r" / "Basic" / "checkpoint.pt")
    saved_buffer = saved["trainer_state"]["replay_buffer"]["columns"]
    assert len(saved_buffer["rewards"]) == saved["step"] >= 4000

    resumed = {"checkpoint_settings.resume": True, "behaviors.Basic.max_steps": 6000}
    after = train_dqn(tmp_path, "r", **in_process, **resumed)
    assert sorted(after) == [5000, 6000]  # the step count went on
    assert min(after.values()) >= 0.9, after  # exploring at the final epsilon, no relearning
    final = load_checkpoint(tmp_path / "r" / "Basic" / "checkpoint.pt")
    assert final["trainer_state"]["update_steps"] > saved["trainer_state"]["update_steps"]
    final_buffer = final["trainer_state"]["replay_buffer"]["columns"]
    assert len(final_buffer["rewards"]) == final["step"] >= 6000
    for key, column in saved_buffer.items():  # the old transitions are still there, oldest first
        torch.testing.assert_close(final_buffer[key][: len(column)], column)


def test_continuous_actions_stop_learn_with_one_line(tmp_path):
    config = tmp_path / "ball.yaml"
    data = yaml.safe_load(CONFIG.read_text())
    config.write_text(
        yaml.safe_dump({"behaviors": {"3DBall": data["behaviors"]["Basic"]}, "env_settings": {}})
    )
    command = [sys.executable, "-m", "rldojo.cli", "learn", str(config), "--env", "sim:3DBall"]
    command += ["--run-id", "ball", "--results-dir", str(tmp_path)]
    result = subprocess.run(command, capture_output=True, text=True, env=os.environ, timeout=120)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.splitlines() == [
        "rldojo: behavior 3DBall has 2 continuous action(s), but trainer_type dqn needs discrete actions "
        "only; use ppo or sac for it"
    ]


def test_the_loops_blocks_are_timed_once_per_step(tmp_path):
    """run_logs/timers.json times the loop's blocks as ML-Agents' hierarchical timers do: once per step."""
    train(
        CONFIGS / "cartpole" / "dqn.yaml",
        tmp_path,
        "timed",
        **{"behaviors.CartPole.max_steps": 300, "behaviors.CartPole.hyperparameters.buffer_init_steps": 100},
    )
    blocks = json.loads((tmp_path / "timed" / "run_logs" / "timers.json").read_text())["children"]
    counts = {name: blocks[name]["count"] for name in ("act", "trainer_advance", "env_step")}
    assert counts["act"] == counts["trainer_advance"] == counts["env_step"] + 1 >= 300, counts
    assert all(blocks[name]["total"] > 0.0 for name in counts)
