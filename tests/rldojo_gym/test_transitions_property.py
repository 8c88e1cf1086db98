"""Property: random action sequences give the same transitions through the wrappers as without them."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mlagents_envs.base_env import ActionTuple

import rldojo_sim
from rldojo_gym import GymnasiumBaseEnv, UnityGymEnv, UnityVectorEnv

pytestmark = pytest.mark.smoke

EXAMPLES = settings(max_examples=20, deadline=None)
seeds = st.integers(min_value=0, max_value=2**16)


@EXAMPLES
@given(seed=seeds, actions=st.lists(st.integers(0, 2), min_size=1, max_size=60))
def test_single_env_matches_the_raw_base_env(seed: int, actions: list[int]) -> None:
    raw = rldojo_sim.make_env("Basic", seed=seed, max_steps=20)
    wrapped = UnityGymEnv(lambda s: rldojo_sim.make_env("Basic", seed=s, max_steps=20), seed=seed)
    raw.reset()
    observation, _ = wrapped.reset()
    np.testing.assert_array_equal(observation, raw.get_steps("Basic?team=0")[0].obs[0][0])
    for action in actions:
        raw.set_actions("Basic?team=0", ActionTuple(discrete=np.array([[action]], np.int32)))
        raw.step()
        decisions, terminals = raw.get_steps("Basic?team=0")
        observation, reward, terminated, truncated, _ = wrapped.step(action)
        expected = terminals if len(terminals) else decisions
        np.testing.assert_array_equal(observation, expected.obs[0][0])
        assert reward == pytest.approx(float(expected.reward[0]))
        assert truncated == bool(len(terminals) and terminals.interrupted[0])
        assert terminated == bool(len(terminals) and not terminals.interrupted[0])
        if terminated or truncated:
            raw.reset()
            observation, _ = wrapped.reset()
            np.testing.assert_array_equal(observation, raw.get_steps("Basic?team=0")[0].obs[0][0])


@EXAMPLES
@given(seed=seeds, steps=st.integers(1, 40), action_seed=seeds)
def test_vector_env_matches_the_raw_base_env(seed: int, steps: int, action_seed: int) -> None:
    behavior = "3DBall?team=0"
    raw = rldojo_sim.make_env("3DBall", seed=seed, num_areas=3, max_steps=15)
    wrapped = UnityVectorEnv(
        lambda s: rldojo_sim.make_env("3DBall", seed=s, num_areas=3, max_steps=15), seed=seed
    )
    raw.reset()
    observations, _ = wrapped.reset()
    decisions = raw.get_steps(behavior)[0]
    np.testing.assert_array_equal(observations, decisions.obs[0])
    rng = np.random.default_rng(action_seed)
    for _ in range(steps):
        row_of_agent = {int(agent): row for row, agent in enumerate(decisions.agent_id)}
        actions = rng.uniform(-1, 1, size=(3, 2)).astype(np.float32)
        raw.set_actions(behavior, ActionTuple(continuous=actions))
        raw.step()
        decisions, terminals = raw.get_steps(behavior)
        observations, rewards, terminated, truncated, info = wrapped.step(actions)

        expected_rewards = decisions.reward.copy()
        expected_ended = np.zeros(3, dtype=bool)
        for index, agent in enumerate(terminals.agent_id):
            slot = row_of_agent[int(agent)]
            expected_rewards[slot] = terminals.reward[index]
            expected_ended[slot] = True
            assert truncated[slot] == terminals.interrupted[index]
            np.testing.assert_array_equal(info["final_obs"][slot], terminals.obs[0][index])
        np.testing.assert_array_equal(observations, decisions.obs[0])
        np.testing.assert_allclose(rewards, expected_rewards)
        np.testing.assert_array_equal(terminated | truncated, expected_ended)


@EXAMPLES
@given(seed=seeds, actions=st.lists(st.integers(0, 1), min_size=1, max_size=80))
def test_gym_provider_matches_the_gymnasium_env(seed: int, actions: list[int]) -> None:
    direct = gymnasium.make("CartPole-v1")
    base_env = GymnasiumBaseEnv(lambda: gymnasium.make("CartPole-v1"), behavior_name="CartPole", seeds=[seed])
    base_env.reset()
    observation, _ = direct.reset(seed=seed)
    decisions = base_env.get_steps("CartPole?team=0")[0]
    np.testing.assert_allclose(decisions.obs[0][0], observation)
    for action in actions:
        base_env.set_actions("CartPole?team=0", ActionTuple(discrete=np.array([[action]], np.int32)))
        base_env.step()
        decisions, terminals = base_env.get_steps("CartPole?team=0")
        observation, reward, terminated, truncated, _ = direct.step(action)
        reported = terminals if len(terminals) else decisions
        np.testing.assert_allclose(reported.obs[0][0], observation)
        assert reported.reward[0] == reward
        assert bool(len(terminals)) == (terminated or truncated)
        if terminated or truncated:
            assert terminals.interrupted[0] == (truncated and not terminated)
            break
