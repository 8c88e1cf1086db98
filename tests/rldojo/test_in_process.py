"""``env_settings.in_process``: which envs step in the trainer's process, and what happens when one fails."""

from __future__ import annotations

import contextlib
import io
import os
import re

import gymnasium
import numpy as np
import pytest
import yaml
from gymnasium.envs.classic_control import CartPoleEnv

from rldojo.checkpoint import load_checkpoint
from rldojo.cli import main
from rldojo.envs import EnvLauncher, InProcessEnvManager, SubprocessEnvManager, create_env_manager
from rldojo.envs.selection import steps_in_process
from rldojo.errors import ConfigError
from rldojo.settings import RunOptions


def run_options(**settings) -> RunOptions:
    return RunOptions.model_validate({"env_settings": {"seed": 3, **settings}})


@pytest.mark.parametrize(
    ("settings", "in_process"),
    [
        ({"env_path": "sim:Basic"}, True),
        ({"env_path": "gym:CartPole-v1"}, True),
        ({"env_path": "sim:Basic", "in_process": False}, False),
        ({"env_path": "sim:Basic", "num_envs": 2}, False),
        ({"env_path": "unity_builds/Basic/Basic.x86_64"}, False),
        ({"env_path": "sim:Basic", "in_process": True}, True),
    ],
)
def test_auto_steps_one_sim_or_gym_env_in_process_and_the_rest_in_workers(settings, in_process):
    options = run_options(**settings)
    assert steps_in_process(options.env_settings, options.ray) is in_process


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"env_path": "unity_builds/Basic/Basic.x86_64"},
            "in_process: true (--in-process true): env unity_builds/Basic/Basic.x86_64 cannot step in the "
            "trainer's process (a Unity build always runs in its own); set it to auto or false, or use an "
            "in-process env such as sim:3DBall or gym:CartPole-v1",
        ),
        (
            {"env_path": "sim:Basic", "num_envs": 2},
            "in_process: true (--in-process true) steps one env in the trainer's process, but --num-envs 2; "
            "set in_process to auto or false, or use one env",
        ),
    ],
)
def test_true_where_the_env_cannot_step_in_process_is_one_line(settings, message):
    options = run_options(in_process=True, **settings)
    with pytest.raises(ConfigError, match=f"^{re.escape(message)}$"):
        steps_in_process(options.env_settings, options.ray)


def _first_steps(manager, count: int = 5) -> list[np.ndarray]:
    """The observations of Basic's agent after a reset and ``count`` steps of action 1."""
    try:
        (step,) = manager.reset()
        observations = [step.steps["Basic?team=0"][0].obs[0]]
        action = manager.behavior_specs["Basic?team=0"].action_spec.empty_action(1)
        action.discrete[:] = 1
        for _ in range(count):
            (step,) = manager.step({0: {"Basic?team=0": action}})
            decisions, terminals = step.steps["Basic?team=0"]
            observations.append(np.concatenate([decisions.obs[0], terminals.obs[0]]))
        return observations
    finally:
        manager.close()


def test_in_process_and_worker_process_step_the_same_env_alike(tmp_path):
    managers = {}
    for in_process in ("auto", False):
        options = run_options(env_path="sim:Basic", in_process=in_process)
        launcher = EnvLauncher.from_options(options, 3, tmp_path, {})
        managers[in_process] = create_env_manager(launcher, options.env_settings)
    assert isinstance(managers["auto"], InProcessEnvManager)
    worker = managers[False]
    assert isinstance(worker, SubprocessEnvManager)
    assert worker._workers[0].process.pid != os.getpid() and worker._workers[0].process.is_alive()
    in_process, in_worker = _first_steps(managers["auto"]), _first_steps(worker)
    for ours, theirs in zip(in_process, in_worker, strict=True):
        np.testing.assert_array_equal(ours, theirs)


class FailingCartPole(CartPoleEnv):
    """CartPole whose 40th step raises, as a buggy environment would."""

    steps = 0

    def step(self, action):
        FailingCartPole.steps += 1
        if FailingCartPole.steps == 40:
            raise RuntimeError("the pole broke")
        return super().step(action)


gymnasium.register("FailingCartPole-v0", entry_point=FailingCartPole, max_episode_steps=500)


def test_an_env_that_raises_in_process_ends_the_run_in_one_line_and_keeps_the_checkpoint(tmp_path):
    config = {
        "behaviors": {
            "FailingCartPole": {
                "trainer_type": "ppo",
                "hyperparameters": {"batch_size": 8, "buffer_size": 16},
                "network_settings": {"hidden_units": 8, "num_layers": 1},
                "max_steps": 1000,
                "time_horizon": 8,
            }
        },
        "env_settings": {"env_path": "gym:FailingCartPole-v0", "seed": 1},
    }
    (tmp_path / "run.yaml").write_text(yaml.safe_dump(config))
    stderr, cwd = io.StringIO(), os.getcwd()
    os.chdir(tmp_path)
    try:
        with contextlib.redirect_stderr(stderr):
            code = main(["learn", "run.yaml", "--run-id", "r"])
    finally:
        os.chdir(cwd)
    assert code == 1 and "Traceback" not in stderr.getvalue()
    assert stderr.getvalue().strip().splitlines()[-1] == (
        "rldojo: error: gym:FailingCartPole-v0 failed in the trainer's process (RuntimeError: the pole "
        "broke); an env stepped in process is not restarted: set env_settings.in_process: false "
        "(--in-process false) to run it in a worker process that is restarted when it fails "
        "(run with --debug for the traceback)"
    )
    saved = load_checkpoint(tmp_path / "results" / "r" / "FailingCartPole" / "checkpoint.pt")
    assert saved["step"] >= 30
