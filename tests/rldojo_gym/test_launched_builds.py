"""The wrappers over real gRPC: rldojo-sim builds launched by mlagents_envs' UnityEnvironment."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import SubprocVecEnv

import rldojo_gym

from .conftest import only_expected_warnings

gymnasium.register_envs(rldojo_gym)

SimBuild = Callable[[str], Path]


def test_any_build_passes_the_checkers_single_form(sim_build: SimBuild) -> None:
    with only_expected_warnings():
        env = gymnasium.make("rldojo/Unity-v0", file_name=sim_build("Basic"), timeout_wait=30)
        check_env(env.unwrapped)
        sb3_check_env(env.unwrapped)
        env.close()


@pytest.mark.parametrize(("scene", "agents"), [("3DBall", 12), ("GridWorld", 9)])
def test_any_build_as_a_vector_env(sim_build: SimBuild, scene: str, agents: int) -> None:
    env = gymnasium.make_vec("rldojo/Unity-v0", file_name=sim_build(scene), timeout_wait=30)
    try:
        assert env.num_envs == agents
        first, info = env.reset(seed=4)
        assert first in env.observation_space
        env.action_space.seed(0)
        for _ in range(60):
            actions = env.action_space.sample()
            if "action_mask" in info:  # GridWorld: take the last allowed action of each agent
                actions = np.array([np.flatnonzero(mask)[-1] for mask in info["action_mask"]])
            observations, *_, info = env.step(actions)
            assert observations in env.observation_space  # PNG-compressed camera decoded into [0, 1]
        again, _ = env.reset(seed=4)  # relaunches the build with seed 4
        assert gymnasium.utils.env_checker.data_equivalence(first, again)
    finally:
        env.close()


def test_scene_ids_launch_builds_with_scene_options() -> None:
    env = gymnasium.make_vec("rldojo/3DBall-v0", launch=True, num_areas=2, max_steps=5, timeout_wait=30)
    try:
        assert env.num_envs == 2
        env.reset(seed=0)
        ended = [env.step(env.action_space.sample())[3] for _ in range(5)]  # truncations
        assert ended[-1].all()  # max_steps=5 reached the player
    finally:
        env.close()


def test_in_process_options_need_launch() -> None:
    with pytest.raises(
        ValueError, match=r"\['timeout_wait'\] apply to launched builds only: pass launch=True"
    ):
        gymnasium.make("rldojo/Basic-v0", timeout_wait=5)


def _players_of(build: Path) -> list[int]:
    """Process ids of running players of ``build`` (from /proc)."""
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if str(build) in cmdline.read_bytes().decode(errors="replace"):
                pids.append(int(cmdline.parent.name))
        except OSError:  # the process ended meanwhile
            continue
    return pids


def test_a_wrapper_that_fails_to_start_closes_the_build(sim_build: SimBuild) -> None:
    tennis = sim_build("Tennis")
    with pytest.raises(ValueError, match=r"has 2: pass num_areas=1"):  # two areas of team 0
        gymnasium.make("rldojo/Unity-v0", file_name=tennis, timeout_wait=30)
    assert _players_of(tennis) == []


@pytest.mark.slow
def test_sb3_subprocess_workers_each_launch_their_own_build() -> None:
    """SB3's SubprocVecEnv over launched builds: every worker leases its own port, none collide."""
    venv = make_vec_env(
        "rldojo_gym:rldojo/Basic-v0",
        n_envs=2,
        vec_env_cls=SubprocVecEnv,
        env_kwargs={"launch": True, "timeout_wait": 30},
    )
    try:
        venv.reset()
        for _ in range(7):  # 0 = stay, 2 = right: the second worker walks from 10 to the goal at 17
            observations, _, dones, infos = venv.step(np.array([0, 2]))
        assert observations.shape == (2, 20) and dones.tolist() == [False, True]
        assert np.argmax(infos[1]["terminal_observation"]) == 17
        assert infos[1]["episode"]["r"] == pytest.approx(0.93)  # Basic's optimal return
    finally:
        venv.close()


def test_launched_scenes_log_no_unknown_side_channel(caplog: pytest.LogCaptureFixture) -> None:
    env = gymnasium.make("rldojo/Basic-v0", launch=True, max_steps=2, timeout_wait=30)
    env.reset(seed=0)
    for _ in range(4):  # two episodes end: the player sends their custom stats on the stats channel
        _, _, terminated, truncated, _ = env.step(0)
        if terminated or truncated:
            env.reset()
    env.close()
    assert "Unknown side channel" not in caplog.text
