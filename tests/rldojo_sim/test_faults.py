"""Fault injection: crashes, hangs, slow starts, NaN observations, QUIT and a vanished trainer."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mlagents_envs.communicator_objects.command_pb2 import QUIT
from mlagents_envs.communicator_objects.unity_input_pb2 import UnityInputProto
from mlagents_envs.exception import UnityEnvironmentException, UnityTimeOutException


def _alive(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie counts as exited)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_crash_raises_unity_environment_exception_with_the_exit_code(sim_build, launch):
    env = launch(
        sim_build("Basic"), timeout_wait=10, additional_args=["--crash-after", "5", "--crash-exit-code", "7"]
    )
    env.reset()
    for _ in range(5):
        env.step()
    with pytest.raises(UnityEnvironmentException, match="return code 7"):
        env.step()


@pytest.mark.timing
def test_hang_raises_timeout_within_timeout_wait(sim_build, launch):
    # a short timeout_wait, yet long enough for the player to start on a busy machine
    env = launch(sim_build("Basic"), timeout_wait=4, additional_args=["--hang-after", "3"])
    env.reset()
    for _ in range(3):
        env.step()
    started = time.monotonic()
    with pytest.raises(UnityTimeOutException):
        env.step()
    assert 4.0 <= time.monotonic() - started < 6.0
    env.close()  # waits timeout_wait for the hung player, then kills it
    assert env._process is None


@pytest.mark.timing
def test_slow_start_within_timeout_connects(sim_build, launch):
    started = time.monotonic()
    env = launch(sim_build("Basic"), timeout_wait=10, additional_args=["--slow-start", "1"])
    env.reset()
    assert time.monotonic() - started >= 1.0
    assert "Basic?team=0" in env.behavior_specs


def test_slow_start_beyond_timeout_raises_timeout(sim_build, launch):
    with pytest.raises(UnityTimeOutException):
        launch(sim_build("Basic"), timeout_wait=1, additional_args=["--slow-start", "5"])


def test_nan_observation_is_rejected_by_mlagents_envs(sim_build, launch):
    env = launch(sim_build("3DBall"), timeout_wait=10, additional_args=["--nan-at", "3"])
    env.reset()
    env.step()
    env.step()
    with pytest.raises(RuntimeError, match="observations provided had NaN"):
        env.step()


def test_quit_command_ends_the_player_cleanly(sim_build, launch):
    env = launch(sim_build("Basic"), timeout_wait=10)
    env.reset()
    process = env._process
    quit_input = UnityInputProto()
    quit_input.rl_input.command = QUIT
    assert env._communicator.exchange(quit_input, env._poll_process) is None  # the player's goodbye
    assert process.wait(timeout=5) == 0


TRAINER = """
import sys, time
from mlagents_envs.environment import UnityEnvironment
env = UnityEnvironment(sys.argv[1], base_port=int(sys.argv[2]), no_graphics=True, timeout_wait=10)
env.reset()
print(env._process.pid, flush=True)
time.sleep(60)
"""


def test_player_exits_when_the_trainer_is_killed(sim_build, base_port):
    trainer = subprocess.Popen(
        [sys.executable, "-c", TRAINER, str(sim_build("Basic")), str(base_port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        player_pid = int(trainer.stdout.readline())
        assert _alive(player_pid)
        os.kill(trainer.pid, signal.SIGKILL)
        trainer.wait()
        deadline = time.monotonic() + 5
        while _alive(player_pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(player_pid), "the player outlived its trainer"
    finally:
        trainer.kill()


def test_bad_scene_option_ends_the_player_with_code_2_and_says_why_in_the_log(sim_build, launch, tmp_path):
    with pytest.raises(UnityEnvironmentException, match="return code 2"):
        launch(
            sim_build("Basic"),
            timeout_wait=10,
            log_folder=str(tmp_path),
            additional_args=["--num-areas", "0"],
        )
    assert "num_areas must be at least 1, got 0." in (tmp_path / "Player-0.log").read_text()


def test_step_delay_makes_every_step_take_that_long(sim_build, launch):
    env = launch(sim_build("Basic"), timeout_wait=10, additional_args=["--step-delay-ms", "200"])
    env.reset()
    started = time.monotonic()
    for _ in range(3):
        env.step()
    assert time.monotonic() - started >= 0.6
