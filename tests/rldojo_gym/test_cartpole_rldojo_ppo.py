"""rldojo's own PPO trains on a Gymnasium env through the gym: provider, end to end via `rldojo learn`:
the shipped configs/cartpole/ppo.yaml (RL Zoo's settings) solves CartPole-v1 and stays solved."""

from __future__ import annotations

import statistics
from pathlib import Path

import pytest
import yaml
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from rldojo.cli import main

CONFIG = Path(__file__).resolve().parents[2] / "configs" / "cartpole" / "ppo.yaml"


@pytest.mark.slow
def test_shipped_cartpole_ppo_config_reaches_475(tmp_path: Path) -> None:
    config = yaml.safe_load(CONFIG.read_text())
    config["behaviors"]["CartPole"]["summary_freq"] = 2000
    config["env_settings"]["seed"] = 1
    path = tmp_path / "cartpole_ppo.yaml"
    path.write_text(yaml.safe_dump(config))
    assert main(["learn", str(path), "--run-id", "cartpole", "--results-dir", str(tmp_path)]) == 0

    events = EventAccumulator(str(tmp_path / "cartpole" / "CartPole"))
    events.Reload()
    returns = [event.value for event in events.Scalars("Environment/Cumulative Reward")]
    summary = f"mean episode return per 2k steps: {[round(r) for r in returns]}"
    assert returns[0] < 100, f"CartPole started solved? {summary}"
    assert max(returns) >= 475, summary
    assert statistics.fmean(returns[-10:]) >= 450, summary  # and it stays solved over the last 20k steps
