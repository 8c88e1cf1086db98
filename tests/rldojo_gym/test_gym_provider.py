"""The gym: env provider: Gymnasium envs as an mlagents_envs BaseEnv for rldojo's trainers."""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path

import gymnasium
import numpy as np
import pytest
from mlagents_envs.base_env import ActionTuple
from mlagents_envs.side_channel.engine_configuration_channel import EngineConfigurationChannel
from mlagents_envs.side_channel.environment_parameters_channel import EnvironmentParametersChannel

from rldojo.envs import EnvLauncher, InProcessEnvManager, create_env_manager
from rldojo.envs.selection import runs_in_process
from rldojo.settings import RunOptions
from rldojo_gym.gym_to_unity import GymActionDecoder, GymObservationEncoder
from rldojo_gym.provider import env_providers, make_gym_base_env

pytestmark = pytest.mark.smoke

BEHAVIOR = "CartPole?team=0"


def test_gym_scheme_is_registered_with_rldojo() -> None:
    (entry,) = [ep for ep in entry_points(group="rldojo.env") if ep.name == "gym"]
    assert entry.load()() == {"gym": make_gym_base_env}
    assert env_providers()["gym"] is make_gym_base_env


@pytest.mark.parametrize(
    ("spec", "in_process"),
    [("gym:CartPole-v1", True), ("sim:Basic", True), ("builds/Basic/Basic.x86_64", False), (None, False)],
)
def test_gym_and_sim_envs_declare_that_they_run_in_process(spec: str | None, in_process: bool) -> None:
    assert runs_in_process(spec) is in_process


def test_one_gym_worker_steps_in_the_trainer_process(tmp_path: Path) -> None:
    options = RunOptions.model_validate(
        {
            "env_settings": {"env_path": "gym:CartPole-v1", "num_areas": 2},
            "environment_parameters": {"force_mag": 30.0},
        }
    )
    launcher = EnvLauncher.from_options(options, 1, tmp_path)
    env_manager = create_env_manager(launcher, options.env_settings)  # no worker process, no pipe per step
    try:
        assert isinstance(env_manager, InProcessEnvManager)
        (step,) = env_manager.reset()
        assert [env.unwrapped.force_mag for env in env_manager.env.envs] == [30.0, 30.0]
        decisions, _ = step.steps[BEHAVIOR]
        (step,) = env_manager.step({0: {BEHAVIOR: ActionTuple(discrete=np.zeros((2, 1), np.int32))}})
        assert len(step.steps[BEHAVIOR][0]) == 2 and not np.array_equal(
            step.steps[BEHAVIOR][0].obs[0], decisions.obs[0]
        )
    finally:
        env_manager.close()


def test_cartpole_as_a_behavior() -> None:
    env = make_gym_base_env("CartPole-v1", num_areas=3)
    spec = env.behavior_specs[BEHAVIOR]
    assert [o.shape for o in spec.observation_specs] == [(4,)]
    assert spec.action_spec.discrete_branches == (2,) and spec.action_spec.continuous_size == 0
    env.reset()
    decisions, terminals = env.get_steps(BEHAVIOR)
    assert len(decisions) == 3 and len(terminals) == 0
    assert len({tuple(row) for row in decisions.obs[0]}) == 3  # every copy has its own seed


def test_copies_are_seeded_by_seed_and_worker() -> None:
    def first_observations(seed: int, worker_id: int) -> np.ndarray:
        env = make_gym_base_env("CartPole-v1", seed=seed, worker_id=worker_id, num_areas=2)
        env.reset()
        return env.get_steps(BEHAVIOR)[0].obs[0]

    np.testing.assert_array_equal(first_observations(1, 0), first_observations(1, 0))
    assert not np.array_equal(first_observations(1, 0), first_observations(1, 1))
    assert not np.array_equal(first_observations(1, 0), first_observations(2, 0))


def test_episode_end_reports_terminal_and_next_episode_in_the_same_step() -> None:
    env = make_gym_base_env("CartPole-v1", env_kwargs={"max_episode_steps": 3})
    env.reset()
    first_id = env.get_steps(BEHAVIOR)[0].agent_id[0]
    for _ in range(3):
        env.set_actions(BEHAVIOR, ActionTuple(discrete=np.zeros((1, 1), np.int32)))
        env.step()
    decisions, terminals = env.get_steps(BEHAVIOR)
    assert terminals.agent_id.tolist() == [first_id] and terminals.interrupted.tolist() == [True]
    assert terminals.reward.tolist() == [1.0]
    assert len(decisions) == 1 and decisions.agent_id[0] != first_id and decisions.reward[0] == 0.0


def test_continuous_actions_are_rescaled_to_the_box() -> None:
    env = make_gym_base_env("Pendulum-v1")
    assert env.behavior_specs["Pendulum?team=0"].action_spec.continuous_size == 1
    env.reset()
    env.set_actions("Pendulum?team=0", ActionTuple(continuous=np.array([[1.0]], np.float32)))
    env.step()
    assert env.envs[0].unwrapped.last_u == pytest.approx(2.0)  # Pendulum's torque range is [-2, 2]


def test_side_channels_are_served_like_a_unity_player() -> None:
    parameters, engine = EnvironmentParametersChannel(), EngineConfigurationChannel()
    env = make_gym_base_env("CartPole-v1", side_channels=[parameters, engine], num_areas=2)
    engine.set_configuration_parameters(time_scale=20.0)
    parameters.set_float_parameter("force_mag", 3.5)
    env.reset()
    assert [copy.unwrapped.force_mag for copy in env.envs] == [3.5, 3.5]
    with pytest.warns(UserWarning, match="'gravity_x' is not an attribute"):
        parameters.set_float_parameter("gravity_x", 1.0)
        env.step()


def test_set_action_for_agent_targets_that_copy() -> None:
    env = make_gym_base_env("Pendulum-v1", num_areas=2)
    env.reset()
    second = int(env.get_steps("Pendulum?team=0")[0].agent_id[1])
    env.set_action_for_agent(
        "Pendulum?team=0", second, ActionTuple(continuous=np.array([[-1.0]], np.float32))
    )
    env.step()
    assert [copy.unwrapped.last_u for copy in env.envs] == pytest.approx([0.0, -2.0])


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"name": "CartPol-v1"}, gymnasium.error.Error, "Did you mean: `CartPole`"),
        ({"name": "CartPole-v1", "frame_skip": 4}, ValueError, r"unknown option\(s\) \['frame_skip'\]"),
        ({"name": "CartPole-v1", "num_areas": 0}, ValueError, "num_areas must be at least 1"),
    ],
)
def test_bad_input_says_what_to_do(kwargs: dict, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        make_gym_base_env(**kwargs)


def test_unity_launch_options_are_ignored() -> None:
    env = make_gym_base_env(
        "CartPole-v1", log_folder="/nonexistent", timeout_wait=1, no_graphics=True, base_port=9
    )
    env.reset()
    assert len(env.get_steps(BEHAVIOR)[0]) == 1


def test_unsupported_action_spaces_are_named() -> None:
    tuple_space = gymnasium.spaces.Tuple([gymnasium.spaces.Discrete(2), gymnasium.spaces.Discrete(3)])
    with pytest.raises(ValueError, match="need a Discrete, 1-D MultiDiscrete or Box action space"):
        GymActionDecoder(tuple_space)


def test_observations_are_encoded_for_ml_agents() -> None:
    image = gymnasium.spaces.Box(0, 255, (4, 5, 3), np.uint8)
    encoder = GymObservationEncoder(
        gymnasium.spaces.Dict({"camera": image, "cell": gymnasium.spaces.Discrete(3)})
    )
    assert [(spec.name, spec.shape) for spec in encoder.specs] == [("camera", (3, 4, 5)), ("cell", (3,))]
    pixels = np.zeros((4, 5, 3), np.uint8)
    pixels[1, 2, 0] = 255
    camera, cell = encoder.encode({"camera": pixels, "cell": 2})
    assert camera[0, 1, 2] == 1.0 and camera.sum() == 1.0
    assert cell.tolist() == [0.0, 0.0, 1.0]
