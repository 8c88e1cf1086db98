"""UnityGymEnv over in-process rldojo-sim scenes: Gymnasium/SB3 checkers, seeding, truncation, masks."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest
from gymnasium.error import ResetNeeded
from gymnasium.utils.env_checker import check_env
from mlagents_envs.base_env import BaseEnv
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import rldojo_gym
import rldojo_sim
from rldojo_gym import UnityGymEnv

from .conftest import only_expected_warnings

pytestmark = pytest.mark.smoke

SCENES = ["Basic", "3DBall", "GridWorld", "Tennis"]


@pytest.mark.parametrize("scene", SCENES)
def test_gymnasium_and_sb3_checkers_pass(scene: str) -> None:
    with only_expected_warnings():
        # One area: one agent per behavior. Tennis has two teams; team 1's paddle gets empty actions.
        env = gymnasium.make(f"rldojo/{scene}-v0", num_areas=1, behavior_name=f"{scene}?team=0")
        check_env(env.unwrapped)
        sb3_check_env(env.unwrapped)
        env.reset(seed=0)
        for _ in range(120):
            _, _, terminated, truncated, _ = env.step(env.action_space.sample())
            if terminated or truncated:
                env.reset()
        env.close()


def test_spaces_follow_the_behavior_spec() -> None:
    env = gymnasium.make("rldojo/GridWorld-v0", num_areas=1)
    assert isinstance(env.observation_space, gymnasium.spaces.Dict)
    assert env.observation_space["CameraSensor"].shape == (3, 30, 36)
    assert env.observation_space["GoalSensor"].shape == (2,)
    assert env.action_space == gymnasium.spaces.Discrete(5)
    hwc = gymnasium.make("rldojo/GridWorld-v0", num_areas=1, visual_format="hwc_uint8")
    assert hwc.observation_space["CameraSensor"] == gymnasium.spaces.Box(0, 255, (30, 36, 3), np.uint8)
    observation, _ = hwc.reset(seed=0)
    assert observation in hwc.observation_space


def test_reset_seed_reaches_the_scene() -> None:
    env = gymnasium.make("rldojo/3DBall-v0", num_areas=1)
    first, _ = env.reset(seed=7)
    env.step(env.action_space.sample())
    again, _ = env.reset(seed=7)
    other, _ = env.reset(seed=8)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_reset_seed_on_a_running_env_warns_that_it_cannot_reach_it() -> None:
    env = UnityGymEnv(rldojo_sim.make_env("3DBall", num_areas=1))
    with pytest.warns(UserWarning, match="cannot reseed a BaseEnv that is already running"):
        env.reset(seed=1)


def test_max_step_ends_the_episode_as_truncated() -> None:
    env = gymnasium.make("rldojo/Basic-v0", max_steps=5)
    env.reset(seed=0)
    results = [env.step(0) for _ in range(5)]  # 0 = stay: never reaches a goal
    assert [r[2] or r[3] for r in results] == [False] * 4 + [True]
    _, _, terminated, truncated, _ = results[-1]
    assert truncated and not terminated


def test_reaching_a_goal_terminates() -> None:
    env = gymnasium.make("rldojo/Basic-v0")
    env.reset(seed=0)
    results = [env.step(2) for _ in range(7)]  # 2 = right: from 10 to the large goal at 17
    _, reward, terminated, truncated, _ = results[-1]
    assert terminated and not truncated
    assert reward == pytest.approx(1.0, abs=0.02)
    with pytest.raises(ResetNeeded, match="call reset"):
        env.step(0)


def test_action_masks_match_info_and_forbid_moves_into_walls() -> None:
    env = gymnasium.make("rldojo/GridWorld-v0", num_areas=1)
    seen_masked = False
    for seed in range(5):
        _, info = env.reset(seed=seed)
        for _ in range(10):
            masks = env.unwrapped.action_masks()
            np.testing.assert_array_equal(masks, info["action_mask"])
            assert masks.shape == (5,) and masks[0]  # 0 = stay is always allowed
            seen_masked |= not masks.all()
            action = int(np.flatnonzero(masks)[-1])
            _, _, terminated, truncated, info = env.step(action)
            if terminated or truncated:
                break
    assert seen_masked


def test_scenes_with_several_agents_point_to_the_vector_env() -> None:
    with pytest.raises(ValueError, match=r"has 12: pass num_areas=1"):
        UnityGymEnv(lambda seed: rldojo_sim.make_env("3DBall", seed=seed))


def test_scenes_with_several_behaviors_drive_the_first_or_the_named_one() -> None:
    def tennis(seed: int) -> BaseEnv:
        return rldojo_sim.make_env("Tennis", seed=seed, num_areas=1)

    assert UnityGymEnv(tennis).behavior_name == "Tennis?team=0"
    with pytest.raises(ValueError, match="behavior 'Nope' not found"):
        UnityGymEnv(tennis, behavior_name="Nope")
    assert UnityGymEnv(tennis, behavior_name="Tennis?team=1").behavior_name == "Tennis?team=1"


def test_module_prefixed_ids_register_on_demand() -> None:
    assert "rldojo/Unity-v0" in gymnasium.registry
    env = gymnasium.make("rldojo_gym:rldojo/Basic-v0")
    assert isinstance(env.unwrapped, rldojo_gym.UnityGymEnv)


def test_seeds_beyond_int32_wrap_into_unitys_seed_range() -> None:
    seeds: list[int] = []

    def start(seed: int) -> BaseEnv:
        seeds.append(seed)
        return rldojo_sim.make_env("Basic", seed=seed)

    env = UnityGymEnv(start)
    env.reset(seed=2**32 + 5)  # SB3 draws seeds up to 2**32 - 1
    env.reset(seed=7)
    assert seeds == [0, 5, 7]
