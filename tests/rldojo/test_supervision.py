"""Supervised env workers: a killed worker is replaced, a build that always crashes ends the run (exit 1)."""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import yaml
from mlagents_envs.base_env import (
    ActionSpec,
    BehaviorSpec,
    DecisionSteps,
    DimensionProperty,
    ObservationSpec,
    ObservationType,
    TerminalSteps,
)

from rldojo.agent_processor import AgentProcessor
from rldojo.checkpoint import load_checkpoint
from rldojo.policy import ActionInfo
from rldojo.settings import load_run_options
from rldojo.stats import StatsReporter, StatsSummary, StatsWriter
from rldojo.training import train_run

CONFIGS = Path(__file__).parents[2] / "configs"


class KillWorkerAtFirstSummary(StatsWriter):
    """SIGKILLs env worker 0's process when the first summary is written, i.e. mid-run."""

    def __init__(self) -> None:
        self.killed_pid: int | None = None

    def write_stats(self, category: str, values: dict[str, StatsSummary], step: int) -> None:
        if self.killed_pid is None:
            (worker,) = [p for p in multiprocessing.active_children() if p.name == "env-worker-0"]
            os.kill(worker.pid, signal.SIGKILL)
            self.killed_pid = worker.pid


def ball_config(tmp_path: Path, max_steps: int) -> Path:
    data = yaml.safe_load((CONFIGS / "ppo.yaml").read_text())
    data["behaviors"]["3DBall"].update(max_steps=max_steps, summary_freq=2000)
    config = tmp_path / "ball.yaml"
    config.write_text(yaml.safe_dump(data))
    return config


def test_a_worker_killed_mid_run_is_restarted_and_the_run_finishes(tmp_path, sim_build, caplog):
    options = load_run_options(
        ball_config(tmp_path, max_steps=8000),
        {
            "checkpoint_settings.results_dir": str(tmp_path),
            "checkpoint_settings.run_id": "kill",
            "env_settings.env_path": str(sim_build("3DBall")),
            "env_settings.num_envs": 2,
            "env_settings.seed": 1,
        },
    )
    killer = KillWorkerAtFirstSummary()
    with caplog.at_level(logging.WARNING, logger="rldojo.envs"):
        train_run(options, [killer])
    assert killer.killed_pid is not None
    assert "env worker 0: worker process ended (killed by SIGKILL); restarting it" in caplog.text
    assert load_checkpoint(tmp_path / "kill" / "3DBall" / "checkpoint.pt")["step"] >= 8000


def test_a_build_that_always_crashes_ends_the_run_with_exit_1_and_a_checkpoint(tmp_path, sim_build):
    build = sim_build("3DBall")
    result = subprocess.run(
        [
            *(sys.executable, "-m", "rldojo.cli", "learn", str(ball_config(tmp_path, max_steps=100_000))),
            *("--run-id", "crash", "--results-dir", str(tmp_path), "--env", str(build), "--num-envs", "2"),
            *("--env-args", "--crash-after", "40"),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 1, result.stderr
    (message,) = [line for line in result.stderr.splitlines() if line.startswith("rldojo: error:")]
    log = tmp_path / "crash" / "run_logs" / "Player-"
    assert message.startswith("rldojo: error: env worker ")
    assert "(UnityEnvironmentException: Environment shut down with return code 3.)" in message
    assert f"last lines of {log}" in message and "Fault injection: crashing with exit code 3" in message
    assert load_checkpoint(tmp_path / "crash" / "3DBall" / "checkpoint.pt")["step"] >= 40 * 12


def one_agent_steps(worker_reward: float, done: bool) -> tuple[DecisionSteps, TerminalSteps]:
    """Agent 7 either awaiting a decision or at its episode's end."""
    spec = BehaviorSpec(
        [ObservationSpec((2,), (DimensionProperty.NONE,), ObservationType.DEFAULT, "v")], ActionSpec(1, ())
    )
    obs, reward, agent = [np.zeros((1, 2), np.float32)], np.array([worker_reward], np.float32), np.array([7])
    groups = (np.zeros(1, np.int32), np.zeros(1, np.float32))
    if done:
        return DecisionSteps.empty(spec), TerminalSteps(obs, reward, np.array([False]), agent, *groups)
    return DecisionSteps(obs, reward, agent, None, *groups), TerminalSteps.empty(spec)


def test_a_restarted_workers_partial_trajectories_are_dropped():
    trajectories: list = []
    processor = AgentProcessor("B?team=0", StatsReporter("B"), 100, trajectories.append)
    no_discrete = np.zeros((1, 0))
    action = ActionInfo(
        None, np.zeros((1, 1)), no_discrete, np.zeros((1, 1)), no_discrete, np.zeros(1), np.array([7])
    )

    def step(worker_id: int, done: bool = False) -> None:
        processor.add_steps(*one_agent_steps(0.5, done), worker_id)
        if not done:
            processor.add_actions(action, worker_id)

    for worker_id in (0, 1):
        for _ in range(4):
            step(worker_id)
    processor.end_episodes(0)  # worker 0 was restarted: its agent's steps so far are void
    step(0)
    step(0, done=True)
    step(1, done=True)
    assert {t.agent_id: len(t.rewards) for t in trajectories} == {"agent_0-7": 1, "agent_1-7": 4}
