"""UnityVectorEnv over every agent of a behavior, and its Stable-Baselines3 adapter."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode
from stable_baselines3.common.vec_env import VecCheckNan

import rldojo_sim
from rldojo_gym import UnityVectorEnv
from rldojo_gym.sb3 import to_sb3_vec_env

from .conftest import only_expected_warnings

pytestmark = pytest.mark.smoke

SCENES = {"Basic": 1, "3DBall": 12, "GridWorld": 9, "Tennis": 2}


def _check_batch(env: UnityVectorEnv, observations: object) -> None:
    assert observations in env.observation_space
    for slot in range(env.num_envs):
        single = (
            {key: value[slot] for key, value in observations.items()}
            if isinstance(observations, dict)
            else observations[slot]
        )
        assert single in env.single_observation_space


@pytest.mark.parametrize(("scene", "agents"), SCENES.items())
def test_vector_form_conforms(scene: str, agents: int) -> None:
    with only_expected_warnings():
        env = gymnasium.make_vec(f"rldojo/{scene}-v0", max_steps=8, behavior_name=f"{scene}?team=0")
    assert env.num_envs == agents
    assert env.metadata["autoreset_mode"] is AutoresetMode.SAME_STEP
    observations, _ = env.reset(seed=0)
    _check_batch(env, observations)
    env.action_space.seed(0)
    ended = 0
    for _ in range(20):
        observations, rewards, terminated, truncated, info = env.step(env.action_space.sample())
        _check_batch(env, observations)
        assert rewards.shape == terminated.shape == truncated.shape == (agents,)
        assert rewards.dtype == np.float32 and terminated.dtype == truncated.dtype == bool
        done = terminated | truncated
        if done.any():
            np.testing.assert_array_equal(info["_final_obs"], done)
            for slot in np.flatnonzero(done):
                assert info["final_obs"][slot] in env.single_observation_space
        ended += int(done.sum())
    assert ended >= agents  # max_steps=8 ends every episode within 20 steps
    env.close()


def test_same_step_autoreset_returns_the_next_episodes_first_observation() -> None:
    env = gymnasium.make_vec("rldojo/Basic-v0", max_steps=3)
    first, _ = env.reset(seed=0)
    for _ in range(2):
        env.step(np.array([0]))
    observations, _, _, truncated, info = env.step(np.array([0]))  # third "stay": interrupted
    assert truncated[0]
    np.testing.assert_array_equal(info["final_obs"][0], first[0])  # stayed at the start position
    np.testing.assert_array_equal(observations[0], first[0])  # and the new episode starts there


def test_reset_seed_reaches_the_scene() -> None:
    env = gymnasium.make_vec("rldojo/3DBall-v0")
    first, _ = env.reset(seed=3)
    env.step(env.action_space.sample())
    again, _ = env.reset(seed=3)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, env.reset(seed=4)[0])


def test_only_same_step_autoreset_is_offered() -> None:
    with pytest.raises(ValueError, match=r"supports only AutoresetMode\.SAME_STEP"):
        UnityVectorEnv(rldojo_sim.make_env("Basic"), autoreset_mode=AutoresetMode.NEXT_STEP)


def test_make_vec_num_envs_must_match_the_agents() -> None:
    assert gymnasium.make_vec("rldojo/3DBall-v0", num_envs=12).num_envs == 12
    with pytest.raises(ValueError, match=r"has 12 agents .* leave num_envs out or pass num_envs=12"):
        gymnasium.make_vec("rldojo/3DBall-v0", num_envs=4)


def test_masks_per_slot() -> None:
    env = gymnasium.make_vec("rldojo/GridWorld-v0")
    _, info = env.reset(seed=0)
    masks = env.unwrapped.action_masks()
    assert masks.shape == (9, 5)
    np.testing.assert_array_equal(masks, info["action_mask"])
    assert not masks.all()


def test_sb3_vec_env_reports_episode_ends_like_sb3() -> None:
    venv = VecCheckNan(
        to_sb3_vec_env(gymnasium.make_vec("rldojo/Basic-v0", max_steps=2)), raise_exception=True
    )
    venv.seed(5)
    first = venv.reset()
    venv.step(np.array([0]))
    _, rewards, dones, infos = venv.step(np.array([0]))
    assert dones.tolist() == [True] and rewards.dtype == np.float32
    assert infos[0]["TimeLimit.truncated"] is True
    np.testing.assert_array_equal(infos[0]["terminal_observation"], first[0])
    np.testing.assert_array_equal(infos[0]["action_mask"], [True, True, True])


def test_sb3_vec_env_gives_maskable_ppo_a_mask_per_slot() -> None:
    venv = to_sb3_vec_env(gymnasium.make_vec("rldojo/GridWorld-v0"))
    venv.reset()
    masks = np.stack(venv.env_method("action_masks"))
    np.testing.assert_array_equal(masks, venv.env.action_masks())
    assert venv.has_attr("action_masks") and venv.get_attr("render_mode") == [None] * 9
    assert venv.env_method("action_masks", indices=[2])[0].tolist() == masks[2].tolist()


def test_sb3_adapter_needs_same_step_autoreset() -> None:
    next_step = gymnasium.make_vec("CartPole-v1", num_envs=2, vectorization_mode="sync")
    with pytest.raises(ValueError, match=r"AutoresetMode\.SAME_STEP .* not AutoresetMode\.NEXT_STEP"):
        to_sb3_vec_env(next_step)


def test_sb3_adapter_takes_any_same_step_vector_env() -> None:
    vector_kwargs = {"autoreset_mode": AutoresetMode.SAME_STEP}
    cartpoles = gymnasium.make_vec(
        "CartPole-v1", num_envs=2, vectorization_mode="sync", vector_kwargs=vector_kwargs
    )
    venv = to_sb3_vec_env(cartpoles)
    venv.reset()
    for _ in range(200):
        _, _, dones, infos = venv.step(np.zeros(2, dtype=np.int64))  # always push left: falls fast
        if dones.any():
            assert infos[int(np.argmax(dones))]["terminal_observation"].shape == (4,)
            return
    pytest.fail("CartPole never ended")
