"""Every scene launched as a build and driven by the real ``mlagents_envs`` UnityEnvironment over gRPC."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from mlagents_envs.base_env import ActionTuple, BaseEnv
from mlagents_envs.side_channel.engine_configuration_channel import EngineConfigurationChannel
from mlagents_envs.side_channel.environment_parameters_channel import EnvironmentParametersChannel
from mlagents_envs.side_channel.stats_side_channel import StatsSideChannel

import rldojo_sim
from rldojo_sim.play import random_actions

from .checks import EpisodeChecker


@dataclass(frozen=True)
class Case:
    scene: str
    max_steps: int
    """Short enough that random play sees both terminated and interrupted episodes."""
    parameter: tuple[str, float] | None
    """An environment parameter that changes the scene, for scenes that read one."""
    stat: str
    room_size: int | None = None
    """Pyramids' room, small enough that random play reaches the pyramid."""
    steps: int = 1000


CASES = [
    Case("Basic", 12, ("step_penalty", 0.05), "Basic/Large Goal Reached"),
    Case("3DBall", 15, ("gravity", 30.0), "3DBall/Ball Dropped"),
    Case("GridWorld", 6, ("step_penalty", 0.05), "GridWorld/Correct Goal"),
    Case("Tennis", 25, ("ball_speed", 0.15), "Tennis/Hits Per Rally"),
    Case("Pyramids", 20, None, "Pyramids/Goal Reached", room_size=3, steps=300),
    Case("Hallway", 8, None, "Hallway/Correct Door", steps=300),
    Case("DungeonEscape", 12, None, "DungeonEscape/Escaped", steps=300),
    Case("StrikersVsGoalie", 10, None, "StrikersVsGoalie/Goal Scored", steps=300),
]
SEED = 11


def _assert_same(a: BaseEnv, b: BaseEnv, name: str) -> None:
    for steps_a, steps_b in zip(a.get_steps(name), b.get_steps(name), strict=True):
        assert np.array_equal(steps_a.agent_id, steps_b.agent_id)
        assert np.array_equal(steps_a.reward, steps_b.reward)
        assert np.array_equal(np.asarray(steps_a.group_id), np.asarray(steps_b.group_id))
        assert np.array_equal(np.asarray(steps_a.group_reward), np.asarray(steps_b.group_reward))
        masks_a, masks_b = getattr(steps_a, "action_mask", None), getattr(steps_b, "action_mask", None)
        assert (masks_a is None) == (masks_b is None)
        for mask_a, mask_b in zip(masks_a or [], masks_b or [], strict=True):
            assert np.array_equal(mask_a, mask_b)
        for obs_a, obs_b in zip(steps_a.obs, steps_b.obs, strict=True):
            assert obs_a.dtype == obs_b.dtype == np.float32
            assert np.array_equal(obs_a, obs_b)


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[case.scene for case in CASES])
def test_launched_build_serves_the_protocol_like_the_in_process_env(case, sim_build, launch, tmp_path):
    engine, parameters, stats = (
        EngineConfigurationChannel(),
        EnvironmentParametersChannel(),
        StatsSideChannel(),
    )
    engine.set_configuration_parameters(time_scale=20.0)
    twin_parameters = EnvironmentParametersChannel()
    if case.parameter is not None:
        for channel in (parameters, twin_parameters):
            channel.set_float_parameter(*case.parameter)
    options = {"max_steps": case.max_steps} | ({"room_size": case.room_size} if case.room_size else {})
    twin = rldojo_sim.make_env(case.scene, seed=SEED, side_channels=[twin_parameters], **options)
    default = rldojo_sim.make_env(case.scene, seed=SEED, **options)
    env = launch(
        sim_build(case.scene),
        seed=SEED,
        side_channels=[engine, parameters, stats],
        log_folder=str(tmp_path),
        additional_args=[f"--{key.replace('_', '-')}={value}" for key, value in options.items()],
    )
    process = env._process
    for e in (env, twin, default):
        e.reset()
    assert dict(env.behavior_specs) == dict(twin.behavior_specs) != {}
    joins = case.scene == "DungeonEscape"
    checkers = {
        name: EpisodeChecker(len(env.get_steps(name)[0]), case.max_steps, agents_join_late=joins)
        for name in env.behavior_specs
    }
    rng = np.random.default_rng(0)
    differs_from_default = False
    for _ in range(case.steps):
        for name, spec in env.behavior_specs.items():
            checkers[name].check(*env.get_steps(name))
            _assert_same(env, twin, name)
            differs_from_default |= not np.array_equal(
                env.get_steps(name)[0].obs[0], default.get_steps(name)[0].obs[0]
            ) or not np.array_equal(env.get_steps(name)[0].reward, default.get_steps(name)[0].reward)
            actions = random_actions(spec, env.get_steps(name)[0], rng)
            for e in (env, twin, default):
                e.set_actions(name, actions)
        for e in (env, twin, default):
            e.step()
    received = stats.get_and_reset_stats()
    env.close()
    assert all(c.terminated and c.interrupted for c in checkers.values()), "saw both episode endings"
    assert differs_from_default or case.parameter is None, f"{case.parameter} changed nothing"
    assert case.stat in received
    assert "time_scale=20.0" in (tmp_path / "Player-0.log").read_text()
    assert process.returncode == 0
    with pytest.raises(ProcessLookupError):
        os.kill(process.pid, 0)


def test_two_builds_run_at_once_on_worker_ids_0_and_1(sim_build, launch):
    envs = [launch(sim_build("Basic"), worker_id=worker_id, seed=worker_id) for worker_id in (0, 1)]
    for env in envs:
        env.reset()
    for _ in range(20):
        for env in envs:
            env.step()
    assert all(env.get_steps("Basic?team=0")[0].obs[0].shape == (1, 20) for env in envs)


def test_build_launcher_is_an_executable_named_for_unity(tmp_path: Path):
    path = rldojo_sim.build("3DBall", tmp_path / "3DBall")
    assert path == tmp_path / "3DBall" / "3DBall.x86_64"
    assert os.access(path, os.X_OK)
    assert path.read_text().startswith("#!")


def test_gridworld_camera_as_raw_floats_matches_in_process(sim_build, launch):
    env = launch(sim_build("GridWorld"), seed=4, additional_args=["--visual-compression", "none"])
    twin = rldojo_sim.make_env("GridWorld", seed=4)
    rng = np.random.default_rng(1)
    for e in (env, twin):
        e.reset()
    for _ in range(50):
        _assert_same(env, twin, "GridWorld?team=0")
        actions = random_actions(
            env.behavior_specs["GridWorld?team=0"], env.get_steps("GridWorld?team=0")[0], rng
        )
        for e in (env, twin):
            e.set_actions("GridWorld?team=0", actions)
            e.step()


def test_reset_mid_run_starts_fresh_episodes_on_a_launched_build(sim_build, launch):
    env = launch(sim_build("Basic"), seed=2)
    env.reset()
    for _ in range(2):
        env.set_actions("Basic?team=0", ActionTuple(discrete=np.array([[1]], dtype=np.int32)))  # left
        env.step()
    before = env.get_steps("Basic?team=0")[0]
    assert before.obs[0][0].argmax() == 8  # two cells left of the start
    env.reset()
    decisions, terminals = env.get_steps("Basic?team=0")
    assert len(terminals) == 0
    assert decisions.obs[0][0].argmax() == 10  # back at the start cell
    assert decisions.agent_id[0] not in before.agent_id
