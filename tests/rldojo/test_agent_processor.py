"""AgentProcessor: rewards paired with the decision they follow, time_horizon cuts, episode ends."""

from __future__ import annotations

import numpy as np
import pytest
from mlagents_envs.base_env import DecisionSteps, TerminalSteps

from rldojo.agent_processor import AgentProcessor
from rldojo.policy import ActionInfo
from rldojo.stats import StatsReporter
from rldojo.trajectory import Trajectory

pytestmark = pytest.mark.smoke


def decisions(ids: list[int], obs: list[float], rewards: list[float]):
    n = len(ids)
    return DecisionSteps(
        [np.array(obs, dtype=np.float32).reshape(n, 1)],
        np.array(rewards, dtype=np.float32),
        np.array(ids, dtype=np.int32),
        None,
        np.zeros(n, dtype=np.int32),
        np.zeros(n, dtype=np.float32),
    )


def terminals(ids: list[int], obs: list[float], rewards: list[float], interrupted: list[bool]):
    n = len(ids)
    return TerminalSteps(
        [np.array(obs, dtype=np.float32).reshape(n, 1)],
        np.array(rewards, dtype=np.float32),
        np.array(interrupted, dtype=bool),
        np.array(ids, dtype=np.int32),
        np.zeros(n, dtype=np.int32),
        np.zeros(n, dtype=np.float32),
    )


def no_terminals():
    return terminals([], [], [], [])


def actions(ids: list[int], values: list[int], masks: list[list[float]] | None = None) -> ActionInfo:
    n = len(ids)
    discrete = np.array(values, dtype=np.int64).reshape(n, 1)
    return ActionInfo(
        env_action=None,  # type: ignore[arg-type]
        continuous=np.zeros((n, 0), dtype=np.float32),
        discrete=discrete,
        log_probs=-np.ones((n, 1), dtype=np.float32) * discrete,
        action_masks=np.array(masks or [[1.0, 1.0, 1.0]] * n, dtype=np.float32),
        entropy=np.ones(n, dtype=np.float32),
        agent_ids=np.array(ids),
    )


@pytest.fixture
def emitted():
    return []


@pytest.fixture
def processor(emitted):
    return AgentProcessor("Basic?team=0", StatsReporter("processor-test"), 3, emitted.append)


def test_time_horizon_cuts_and_bootstraps_from_the_next_observation(processor, emitted):
    processor.add_steps(decisions([7], [0.0], [0.0]), no_terminals(), 0)
    for t in range(1, 5):
        processor.add_actions(actions([7], [t % 3]), 0)
        processor.add_steps(decisions([7], [float(t)], [t * 10.0]), no_terminals(), 0)
    assert len(emitted) == 1
    trajectory: Trajectory = emitted[0]
    np.testing.assert_array_equal(trajectory.obs[0][:, 0], [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(trajectory.rewards, [10.0, 20.0, 30.0])
    np.testing.assert_array_equal(trajectory.discrete_actions[:, 0], [1, 2, 0])
    np.testing.assert_array_equal(trajectory.next_obs[0], [[3.0]])
    assert not trajectory.done_reached and trajectory.agent_id == "agent_0-7"


def test_episode_end_emits_done_trajectory_with_terminal_observation(processor, emitted):
    processor.add_steps(decisions([1, 2], [0.0, 5.0], [0, 0]), no_terminals(), 0)
    processor.add_actions(actions([1, 2], [0, 2], masks=[[1.0, 0.0, 1.0]] * 2), 0)
    # agent 1 ends its episode (max step reached), agent 2 continues
    processor.add_steps(decisions([2], [6.0], [0.5]), terminals([1], [9.0], [-1.0], [True]), 0)
    assert len(emitted) == 1
    trajectory = emitted[0]
    assert trajectory.done_reached and trajectory.truncated and not trajectory.terminated
    np.testing.assert_array_equal(trajectory.rewards, [-1.0])
    np.testing.assert_array_equal(trajectory.next_obs[0], [[9.0]])
    np.testing.assert_array_equal(trajectory.action_masks, [[1.0, 0.0, 1.0]])
    np.testing.assert_array_equal(trajectory.dones(), [0.0])  # truncated: not a true terminal


def test_agents_terminating_before_acting_produce_nothing(processor, emitted):
    processor.add_steps(decisions([], [], []), terminals([4], [1.0], [1.0], [False]), 0)
    assert emitted == []


def test_episode_length_and_return_count_across_cuts_and_restart_after_a_restart(processor, emitted):
    def step(t: int, worker_steps=no_terminals) -> None:
        processor.add_actions(actions([7], [0]), 0)
        processor.add_steps(decisions([7], [float(t)], [1.0]), worker_steps(), 0)

    processor.add_steps(decisions([7], [0.0], [0.0]), no_terminals(), 0)
    for t in range(1, 7):  # two time_horizon cuts of one episode
        step(t)
    processor.end_episodes(0)  # the worker's env restarted: agent 7's partial episode is dropped
    processor.add_steps(decisions([7], [0.0], [0.0]), no_terminals(), 0)
    for t in range(1, 4):
        step(t)
    assert [(trajectory.episode_length, trajectory.episode_return) for trajectory in emitted] == [
        (3, 3.0),
        (6, 6.0),
        (3, 3.0),  # the dropped episode's steps and rewards are not carried over
    ]
