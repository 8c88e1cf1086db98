"""rldojo's own PPO trains on a Gymnasium env through the gym: provider, end to end via `rldojo learn`."""

from __future__ import annotations

from pathlib import Path

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from rldojo.cli import main

CARTPOLE_PPO = """
behaviors:
  CartPole:
    trainer_type: ppo
    hyperparameters:
      batch_size: 128
      buffer_size: 2048
      learning_rate: 0.001
      beta: 0.001
      epsilon: 0.2
      lambd: 0.95
      num_epoch: 8
      learning_rate_schedule: linear
    network_settings:
      normalize: false
      hidden_units: 64
      num_layers: 2
    reward_signals:
      extrinsic:
        gamma: 0.99
        strength: 1.0
    max_steps: 90000
    time_horizon: 256
    summary_freq: 10000
env_settings:
  env_path: gym:CartPole-v1
  seed: 1
"""


@pytest.mark.slow
def test_rldojo_ppo_reaches_475_on_cartpole(tmp_path: Path) -> None:
    config = tmp_path / "cartpole_ppo.yaml"
    config.write_text(CARTPOLE_PPO)
    assert main(["learn", str(config), "--run-id", "cartpole", "--results-dir", str(tmp_path)]) == 0

    events = EventAccumulator(str(tmp_path / "cartpole" / "CartPole"))
    events.Reload()
    returns = [event.value for event in events.Scalars("Environment/Cumulative Reward")]
    assert returns[0] < 100, f"CartPole started solved? {returns}"
    summary = f"mean episode return per 10k steps: {[round(r) for r in returns]}"
    assert max(returns) >= 475, summary
    assert returns[-1] >= 450, summary  # and it stays solved
