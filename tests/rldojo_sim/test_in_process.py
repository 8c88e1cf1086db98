"""The in-process BaseEnv: specs, step semantics, side channels and seeding."""

import re

import numpy as np
import pytest
from mlagents_envs.base_env import ActionTuple
from mlagents_envs.exception import UnityActionException
from mlagents_envs.side_channel.environment_parameters_channel import EnvironmentParametersChannel
from mlagents_envs.side_channel.stats_side_channel import StatsSideChannel

import rldojo_sim
from rldojo_sim.provider import env_providers

pytestmark = pytest.mark.smoke


def test_specs_appear_with_first_reset_like_a_unity_player():
    env = rldojo_sim.make_env("Basic")
    assert list(env.behavior_specs) == []
    env.step()  # the first step is a reset, as in UnityEnvironment
    spec = env.behavior_specs["Basic?team=0"]
    assert spec.observation_specs[0].shape == (20,)
    assert spec.action_spec.discrete_branches == (3,)


def test_basic_scripted_optimal_policy_earns_0_93():
    env = rldojo_sim.make_env("Basic")
    env.reset()
    while True:
        decisions, terminals = env.get_steps("Basic?team=0")
        if len(terminals):
            break
        assert decisions.reward[0] in (np.float32(0.0), np.float32(-0.01))
        env.set_actions("Basic?team=0", ActionTuple(discrete=np.array([[2]], dtype=np.int32)))
        env.step()
    # rewards of the episode: -0.01 x 6, then -0.01 + 1.0 at the large goal
    assert terminals.reward[0] == pytest.approx(0.99)
    assert not terminals.interrupted[0]
    assert len(decisions) == 1 and decisions.agent_id[0] != terminals.agent_id[0]


def test_basic_episode_is_interrupted_at_max_steps():
    env = rldojo_sim.make_env("Basic", max_steps=5)
    env.reset()
    for _ in range(5):
        env.step()  # no actions: action 0 stays in place
    _, terminals = env.get_steps("Basic?team=0")
    assert terminals.interrupted.tolist() == [True]
    assert terminals.reward[0] == pytest.approx(-0.01)


def test_same_seed_same_trajectory_different_seed_differs():
    def rollout(seed):
        env = rldojo_sim.make_env("3DBall", seed=seed)
        env.reset()
        rng = np.random.default_rng(0)
        frames = []
        for _ in range(30):
            decisions, _ = env.get_steps("3DBall?team=0")
            frames.append(decisions.obs[0].copy())
            env.set_actions(
                "3DBall?team=0", ActionTuple(continuous=rng.uniform(-1, 1, (12, 2)).astype(np.float32))
            )
            env.step()
        return np.stack(frames)

    assert np.array_equal(rollout(7), rollout(7))
    assert not np.array_equal(rollout(7), rollout(8))


def test_environment_parameters_change_3dball_dynamics_and_stats_flow_back():
    def rollout(gravity):
        params, stats = EnvironmentParametersChannel(), StatsSideChannel()
        env = rldojo_sim.make_env("3DBall", seed=1, side_channels=[params, stats])
        if gravity is not None:
            params.set_float_parameter("gravity", gravity)
        env.reset()
        for _ in range(40):
            env.step()
        return env.get_steps("3DBall?team=0")[0].obs[0], stats.get_and_reset_stats()

    default_obs, stats = rollout(None)
    heavy_obs, _ = rollout(30.0)
    assert not np.allclose(default_obs, heavy_obs)
    assert "3DBall/Ball Dropped" in stats


def test_wrong_action_shape_is_rejected_with_the_unity_message():
    env = rldojo_sim.make_env("3DBall")
    env.reset()
    with pytest.raises(UnityActionException, match=re.escape("(12, 2)")):
        env.set_actions("3DBall?team=0", ActionTuple(continuous=np.zeros((3, 2), dtype=np.float32)))


def test_unknown_scene_and_option_errors_say_what_to_do():
    with pytest.raises(rldojo_sim.UnknownSceneError, match="Did you mean '3DBall'"):
        rldojo_sim.make_env("3DBal")
    with pytest.raises(rldojo_sim.SceneOptionError, match="options are: num_areas, max_steps"):
        rldojo_sim.make_env("Basic", areas=2)
    with pytest.raises(rldojo_sim.SceneOptionError, match="must be of type int"):
        rldojo_sim.make_env("Basic", num_areas="2")


def test_provider_ignores_build_only_options():
    factory = env_providers()["sim"]
    env = factory("Basic", worker_id=2, seed=5, log_folder="/tmp", timeout_wait=3, num_areas=3)
    env.reset()
    assert len(env.get_steps("Basic?team=0")[0]) == 3
