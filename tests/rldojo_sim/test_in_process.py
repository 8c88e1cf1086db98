"""The in-process BaseEnv: specs, step semantics, side channels and seeding."""

import re

import numpy as np
import pytest
from mlagents_envs.base_env import ActionTuple, DimensionProperty, ObservationType
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


def test_scene_specs_match_their_unity_counterparts():
    specs = {}
    for name in rldojo_sim.scene_names():
        env = rldojo_sim.make_env(name)
        env.reset()
        specs.update(env.behavior_specs)
    image, goal = specs["GridWorld?team=0"].observation_specs
    assert image.shape == (3, 30, 36)  # [C, H, W] for a 5 x 6 grid of 6-pixel cells
    assert image.dimension_property == (
        DimensionProperty.NONE,
        DimensionProperty.TRANSLATIONAL_EQUIVARIANCE,
        DimensionProperty.TRANSLATIONAL_EQUIVARIANCE,
    )
    assert goal.observation_type == ObservationType.GOAL_SIGNAL and goal.shape == (2,)
    assert specs["GridWorld?team=0"].action_spec.discrete_branches == (5,)
    assert specs["3DBall?team=0"].observation_specs[0].shape == (8,)
    assert specs["3DBall?team=0"].action_spec.continuous_size == 2
    assert specs["Tennis?team=0"] == specs["Tennis?team=1"]


def test_gridworld_masks_moves_into_walls():
    env = rldojo_sim.make_env("GridWorld", num_areas=50, grid_rows=3, grid_columns=4)
    env.reset()
    decisions, _ = env.get_steps("GridWorld?team=0")
    image = decisions.obs[0]
    agent_rows = image[:, 2].max(axis=2).argmax(axis=1) // 6  # blue channel: the agent's square
    agent_columns = image[:, 2].max(axis=1).argmax(axis=1) // 6
    mask = decisions.action_mask[0]
    assert not mask[:, 0].any()  # staying is always allowed
    assert np.array_equal(mask[:, 1], agent_rows == 0)
    assert np.array_equal(mask[:, 2], agent_rows == 2)
    assert np.array_equal(mask[:, 3], agent_columns == 0)
    assert np.array_equal(mask[:, 4], agent_columns == 3)


def test_tennis_reports_group_ids_and_group_rewards():
    env = rldojo_sim.make_env("Tennis", num_areas=4)
    env.reset()
    group_rewards = []
    for _ in range(60):
        env.step()  # nobody moves: every rally ends with a miss
        for team in ("Tennis?team=0", "Tennis?team=1"):
            decisions, terminals = env.get_steps(team)
            offset = 0 if team.endswith("0") else 1
            assert np.asarray(decisions.group_id).tolist() == [1 + 2 * area + offset for area in range(4)]
            group_rewards.extend(terminals.group_reward.tolist())
    assert set(group_rewards) == {-1.0, 1.0}
