"""Whole runs: PPO learns over gRPC, a seed gives the same stats, Ctrl-C saves and --resume continues."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
import yaml

from rldojo.checkpoint import load_checkpoint

from .training_runs import CONFIGS, train


def test_same_seed_twice_gives_identical_stats(tmp_path):
    overrides = {
        "env_settings.seed": 5,
        "behaviors.Basic.max_steps": 1500,
        "behaviors.Basic.summary_freq": 300,
    }
    first = train(CONFIGS / "basic_ppo.yaml", tmp_path, "a", **overrides)
    second = train(CONFIGS / "basic_ppo.yaml", tmp_path, "b", **overrides)
    assert len(first.lines) > 20
    assert first.lines == second.lines
    assert any("Basic/Large Goal Reached" in line for line in first.lines)  # from the StatsSideChannel
    for key in ("Environment/Cumulative Reward", "Environment/Episode Length", "Losses/Policy Loss"):
        assert any(f" {key} " in line for line in first.lines), key
    third = train(CONFIGS / "basic_ppo.yaml", tmp_path, "c", **{**overrides, "env_settings.seed": 6})
    assert third.lines != first.lines


def test_ppo_learns_basic_over_grpc_from_a_launched_build(tmp_path, sim_build):
    build = sim_build("Basic")
    recorder = train(
        CONFIGS / "basic_ppo.yaml",
        tmp_path,
        "grpc",
        **{"env_settings.env_path": str(build), "env_settings.seed": 1},
    )
    rewards = list(recorder.rewards.values())
    assert rewards[0] < 0.5 and rewards[-1] >= 0.9, recorder.rewards
    run = tmp_path / "grpc"
    assert (run / "run_logs" / "Player-0.log").is_file()
    assert (run / "run_logs" / "timers.json").is_file()
    assert list((run / "Basic").glob("events.out.tfevents.*"))
    assert load_checkpoint(run / "Basic" / "checkpoint.pt")["step"] >= 5000

    # --inference --initialize-from: the trained weights act greedily, nothing is trained or saved
    inference = train(
        CONFIGS / "basic_ppo.yaml",
        tmp_path,
        "play",
        **{
            "checkpoint_settings.initialize_from": "grpc",
            "checkpoint_settings.inference": True,
            "behaviors.Basic.network_settings.deterministic": True,
            "behaviors.Basic.max_steps": 1000,
        },
    )
    assert min(inference.rewards.values()) >= 0.9, inference.rewards
    assert any(line.startswith("Basic 1000 Is Training [0.0]") for line in inference.lines)
    assert not list((tmp_path / "play" / "Basic").glob("*.pt"))


@pytest.mark.slow
def test_ppo_learns_3dball_over_grpc_from_a_launched_build(tmp_path, sim_build):
    recorder = train(
        CONFIGS / "ppo.yaml",
        tmp_path,
        "ball",
        **{
            "env_settings.env_path": str(sim_build("3DBall")),
            "env_settings.seed": 1,
            "behaviors.3DBall.max_steps": 42000,
        },
    )
    rewards = list(recorder.rewards.values())
    assert rewards[-1] >= 10 and rewards[-1] > 4 * rewards[0], recorder.rewards


@pytest.mark.parametrize(
    ("env", "behavior", "network"),
    [
        ("sim:GridWorld", "GridWorld", {"vis_encode_type": "simple"}),  # pixels + goal signal, action masks
        ("sim:Tennis", "Tennis", {}),  # Tennis?team=0 and ?team=1 share one trainer
    ],
)
def test_visual_masked_and_two_team_behaviors_train(tmp_path, env, behavior, network):
    config = tmp_path / "config.yaml"
    settings = {
        "max_steps": 600,
        "summary_freq": 300,
        "time_horizon": 16,
        "network_settings": network,
        "hyperparameters": {"batch_size": 64, "buffer_size": 256},
    }
    config.write_text(yaml.safe_dump({"behaviors": {behavior: settings}, "env_settings": {"env_path": env}}))
    recorder = train(config, tmp_path, "run", **{"env_settings.seed": 3})
    assert [line.split()[0] for line in recorder.lines] == [behavior] * len(recorder.lines)
    assert any("Losses/Policy Loss" in line for line in recorder.lines)
    assert sorted(p.name for p in (tmp_path / "run").iterdir() if p.is_dir()) == sorted(
        [behavior, "run_logs"]
    )
    assert load_checkpoint(tmp_path / "run" / behavior / "checkpoint.pt")["step"] >= 600


def learn(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "rldojo.cli", "learn", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def adam_step(state: dict) -> float:
    return float(state["modules"]["Optimizer:value_optimizer"]["state"][0]["step"])


@pytest.mark.slow
def test_sigterm_saves_and_exits_130(tmp_path):
    process = learn(str(CONFIGS / "ppo.yaml"), "--run-id", "t", "--results-dir", str(tmp_path))
    for line in process.stdout:
        if line.startswith("3DBall. Step: 6000."):
            break
    process.send_signal(signal.SIGTERM)
    output = process.communicate(timeout=60)[0]
    assert process.returncode == 130, output
    assert "stopped by SIGTERM after saving" in output
    assert load_checkpoint(tmp_path / "t" / "3DBall" / "checkpoint.pt")["step"] >= 6000


@pytest.mark.slow
def test_ctrl_c_saves_exits_130_and_resume_continues(tmp_path):
    config = tmp_path / "ball.yaml"
    data = yaml.safe_load((CONFIGS / "ppo.yaml").read_text())
    data["behaviors"]["3DBall"].update(max_steps=10_000_000, summary_freq=3000)
    config.write_text(yaml.safe_dump(data))
    common = ("--run-id", "r", "--results-dir", str(tmp_path), "--seed", "2")
    process = learn(str(config), *common)
    for line in process.stdout:
        if line.startswith("3DBall. Step: 6000."):  # two updates done
            break
    process.send_signal(signal.SIGINT)
    output = process.communicate(timeout=60)[0]
    assert process.returncode == 130, output
    assert "stopped by SIGINT after saving" in output and "--resume" in output
    saved = load_checkpoint(tmp_path / "r" / "3DBall" / "checkpoint.pt")
    interrupted_at = saved["step"]
    assert interrupted_at > 6000 and adam_step(saved) > 0

    data["behaviors"]["3DBall"]["max_steps"] = interrupted_at + 7000  # more than one buffer_size
    config.write_text(yaml.safe_dump(data))
    process = learn(str(config), *common, "--resume")
    output = process.communicate(timeout=300)[0]
    assert process.returncode == 0, output
    steps = [
        int(line.split()[2].rstrip(".")) for line in output.splitlines() if line.startswith("3DBall. Step:")
    ]
    assert steps and steps[0] > interrupted_at, output  # the step counter continued
    final = load_checkpoint(tmp_path / "r" / "3DBall" / "checkpoint.pt")
    assert final["step"] >= interrupted_at + 7000
    # Adam's step count went on from the saved optimizer state: one more update of 3 epochs of minibatches
    assert adam_step(final) >= adam_step(saved) + 3 * (6000 // 64)
