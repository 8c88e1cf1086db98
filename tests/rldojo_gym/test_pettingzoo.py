"""Multi-agent scenes as PettingZoo envs, checked by PettingZoo's own API tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from pettingzoo.test import api_test, parallel_api_test

import rldojo_sim
from rldojo_gym.pettingzoo_env import UnityParallelEnv, aec_env, parallel_env
from rldojo_unity.environment import open_unity_environment

pytestmark = pytest.mark.smoke


def _is_multi_agent(scene: str) -> bool:
    """Several behaviors, or several agents in one training area (agent groups)."""
    env = rldojo_sim.make_env(scene, num_areas=1)
    env.reset()
    agents = sum(len(env.get_steps(behavior)[0]) for behavior in env.behavior_specs)
    return agents > 1


MULTI_AGENT_SCENES = [scene for scene in rldojo_sim.scene_names() if _is_multi_agent(scene)]


def test_tennis_is_a_multi_agent_scene() -> None:
    assert "Tennis" in MULTI_AGENT_SCENES


@pytest.mark.parametrize("scene", MULTI_AGENT_SCENES)
def test_parallel_env_passes_pettingzoos_api_test(scene: str) -> None:
    env = parallel_env(scene, max_steps=20)
    parallel_api_test(env, num_cycles=100)
    env.close()


@pytest.mark.parametrize("scene", MULTI_AGENT_SCENES)
def test_aec_env_passes_pettingzoos_api_test(scene: str) -> None:
    env = aec_env(scene, max_steps=20)
    api_test(env, num_cycles=100)
    env.close()


def test_tennis_agents_rewards_and_episode_end() -> None:
    env = parallel_env("Tennis", num_areas=1, max_steps=500, render_mode="rgb_array")
    assert env.possible_agents == ["Tennis?team=0_0", "Tennis?team=1_0"]
    observations, _ = env.reset(seed=3)
    assert set(observations) == set(env.agents) == set(env.possible_agents)
    totals = dict.fromkeys(env.possible_agents, 0.0)
    for _ in range(500):  # still paddles: the first serve is missed, ending the rally for both teams
        _, rewards, terminated, truncated, _ = env.step(
            {agent: np.zeros(1, np.float32) for agent in env.agents}
        )
        for agent, reward in rewards.items():
            totals[agent] += reward
        if not env.agents:
            break
    assert all(terminated.values()) and not any(truncated.values())
    # the team that missed: -0.1 and group reward -1; the other team: group reward +1 (+0.1 per hit)
    low, high = sorted(totals.values())
    assert low <= -1.0 < 1.0 <= high
    assert env.render().shape == (64, 64, 3)
    env.close()


def test_reset_seed_reaches_the_scene() -> None:
    env = parallel_env("Tennis")
    first, _ = env.reset(seed=5)
    env.step({agent: env.action_space(agent).sample() for agent in env.agents})
    again, _ = env.reset(seed=5)
    other, _ = env.reset(seed=6)
    for agent in env.possible_agents:
        np.testing.assert_array_equal(first[agent], again[agent])
    assert any(not np.array_equal(first[agent], other[agent]) for agent in env.possible_agents)
    env.close()


def test_any_launched_build_as_a_parallel_env(sim_build: Callable[[str], Path]) -> None:
    tennis = sim_build("Tennis")

    def launch(seed: int):  # type: ignore[no-untyped-def]
        return open_unity_environment(str(tennis), seed=seed, no_graphics=True, timeout_wait=30)

    env = UnityParallelEnv(launch)
    assert len(env.possible_agents) == 4  # two areas, two teams
    env.reset(seed=1)
    _, rewards, _, _, _ = env.step({agent: env.action_space(agent).sample() for agent in env.agents})
    assert set(rewards) == set(env.possible_agents)
    env.close()
