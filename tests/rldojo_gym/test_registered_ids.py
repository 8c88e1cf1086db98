"""Every registered ``rldojo/`` id through Gymnasium's and Stable-Baselines3's own entry points and checks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from stable_baselines3 import PPO
from stable_baselines3.common.env_checker import check_env as sb3_check_env
from stable_baselines3.common.env_util import make_vec_env

import rldojo_gym
import rldojo_sim
from rldojo_gym.sb3 import to_sb3_vec_env

from .conftest import only_expected_warnings

pytestmark = pytest.mark.smoke

gymnasium.register_envs(rldojo_gym)

REGISTERED_IDS = sorted(env_id for env_id in gymnasium.registry if env_id.startswith("rldojo/"))


def _agents_in_one_area(scene: str) -> int:
    env = rldojo_sim.make_env(scene, num_areas=1)
    env.reset()
    return len(env.get_steps(next(iter(env.behavior_specs)))[0])


GROUP_SCENES = [scene for scene in rldojo_sim.scene_names() if _agents_in_one_area(scene) > 1]
"""Scenes whose one area holds a group of agents (DungeonEscape): make_vec and PettingZoo only."""
SINGLE_AGENT_IDS = [env_id for env_id in REGISTERED_IDS if env_id[len("rldojo/") : -3] not in GROUP_SCENES]
SimBuild = Callable[[str], Path]


def test_every_sim_scene_has_an_id() -> None:
    assert {f"rldojo/{scene}-v0" for scene in rldojo_sim.scene_names()} | {"rldojo/Unity-v0"} == set(
        REGISTERED_IDS
    )


@pytest.fixture
def id_kwargs(sim_build: SimBuild) -> Callable[[str], dict[str, Any]]:
    """The options an id needs: ``rldojo/Unity-v0`` launches the Basic build; the scene ids need none."""

    def kwargs(env_id: str) -> dict[str, Any]:
        return (
            {"file_name": str(sim_build("Basic")), "timeout_wait": 30} if env_id == "rldojo/Unity-v0" else {}
        )

    return kwargs


def _policy(space: gymnasium.Space) -> str:
    return "MultiInputPolicy" if isinstance(space, gymnasium.spaces.Dict) else "MlpPolicy"


@pytest.mark.parametrize("env_id", SINGLE_AGENT_IDS)
def test_make_gives_one_agent_that_passes_both_checkers(env_id: str, id_kwargs: Callable) -> None:
    with only_expected_warnings():
        env = gymnasium.make(env_id, **id_kwargs(env_id))
        check_env(env.unwrapped)
        sb3_check_env(env.unwrapped)
    observation, _ = env.reset(seed=1)
    for _ in range(5):
        observation, _, terminated, truncated, _ = env.step(env.action_space.sample())
        assert observation in env.observation_space
        if terminated or truncated:
            env.reset()
    env.close()


@pytest.mark.parametrize("env_id", REGISTERED_IDS)
def test_make_vec_gives_every_agent(env_id: str, id_kwargs: Callable) -> None:
    env = gymnasium.make_vec(env_id, **id_kwargs(env_id))
    observations, _ = env.reset(seed=0)
    assert observations in env.observation_space
    _, rewards, terminated, _, _ = env.step(env.action_space.sample())
    assert rewards.shape == terminated.shape == (env.num_envs,)
    env.close()


@pytest.mark.parametrize("env_id", SINGLE_AGENT_IDS)
def test_sb3_ppo_learns_from_the_id(env_id: str, id_kwargs: Callable) -> None:
    # SB3 makes the env itself from a string, with render_mode="rgb_array"; Unity-v0 needs file_name
    env: Any = env_id if not id_kwargs(env_id) else gymnasium.make(env_id, **id_kwargs(env_id))
    space = gymnasium.spec(env_id).make(**id_kwargs(env_id))
    policy = _policy(space.observation_space)
    space.close()
    model = PPO(policy, env, n_steps=32, batch_size=32, n_epochs=1, seed=0, device="cpu")
    model.learn(64)
    assert model.num_timesteps == 64
    model.get_env().close()


@pytest.mark.parametrize("env_id", SINGLE_AGENT_IDS)
def test_sb3_make_vec_env_runs_four_copies(env_id: str, id_kwargs: Callable) -> None:
    venv = make_vec_env(env_id, n_envs=4, seed=0, env_kwargs=id_kwargs(env_id))
    observations = venv.reset()
    first = observations if not isinstance(observations, dict) else next(iter(observations.values()))
    assert len(first) == 4
    venv.step(np.stack([venv.action_space.sample() for _ in range(4)]))
    venv.close()


def test_multi_agent_scenes_default_to_one_area_and_the_first_behavior() -> None:
    ball = gymnasium.make("rldojo/3DBall-v0")
    assert ball.unwrapped.behavior_name == "3DBall?team=0"
    tennis = gymnasium.make("rldojo/Tennis-v0", behavior_name="Tennis?team=1")
    assert tennis.unwrapped.behavior_name == "Tennis?team=1"
    assert gymnasium.make("rldojo/Tennis-v0").unwrapped.behavior_name == "Tennis?team=0"


def test_several_agents_under_make_say_what_to_pass() -> None:
    with pytest.raises(ValueError, match=r"has 12: pass num_areas=1 .* or use gymnasium\.make_vec"):
        gymnasium.make("rldojo/3DBall-v0", num_areas=12)


@pytest.mark.parametrize("scene", GROUP_SCENES)
def test_a_scene_whose_area_holds_a_group_points_make_to_make_vec(scene: str) -> None:
    with pytest.raises(ValueError, match=r"has 3: .* use gymnasium\.make_vec"):
        gymnasium.make(f"rldojo/{scene}-v0")


def test_sb3_logs_episode_returns_of_the_vector_env() -> None:
    venv = to_sb3_vec_env(gymnasium.make_vec("rldojo/Basic-v0", num_areas=4, max_steps=5))
    model = PPO("MlpPolicy", venv, n_steps=16, batch_size=32, n_epochs=1, seed=0, device="cpu")
    model.learn(64)
    assert len(model.ep_info_buffer) >= 4 * 64 // (4 * 5)  # each slot's episodes end within 5 decisions
    episode = model.ep_info_buffer[0]
    assert 1 <= episode["l"] <= 5 and -0.06 <= episode["r"] <= 1.0
    venv.close()


def test_a_raw_vector_env_handed_to_sb3_names_the_adapter() -> None:
    venv = gymnasium.make_vec("rldojo/Basic-v0")
    with pytest.raises(
        ValueError, match=r"for Stable-Baselines3 pass rldojo_gym\.sb3\.to_sb3_vec_env\(env\)"
    ):
        PPO("MlpPolicy", venv)
    venv.close()
