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


def decisions(ids: list[int], obs: list[float], rewards: list[float], group: int = 0):
    n = len(ids)
    return DecisionSteps(
        [np.array(obs, dtype=np.float32).reshape(n, 1)],
        np.array(rewards, dtype=np.float32),
        np.array(ids, dtype=np.int32),
        None,
        np.full(n, group, dtype=np.int32),
        np.zeros(n, dtype=np.float32),
    )


def terminals(
    ids: list[int],
    obs: list[float],
    rewards: list[float],
    interrupted: list[bool],
    group: int = 0,
    group_reward: float = 0.0,
):
    n = len(ids)
    return TerminalSteps(
        [np.array(obs, dtype=np.float32).reshape(n, 1)],
        np.array(rewards, dtype=np.float32),
        np.array(interrupted, dtype=bool),
        np.array(ids, dtype=np.int32),
        np.full(n, group, dtype=np.int32),
        np.full(n, group_reward, dtype=np.float32),
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


def test_rollout_cuts_every_agent_of_a_worker_together(emitted):
    """SB3's rollouts: every 3 steps of the worker all trajectories end, whatever their length; together
    they hold exactly agents x rollout_length rows."""
    processor = AgentProcessor("Basic?team=0", StatsReporter("rollout-test"), 100, emitted.append, 3)
    processor.add_steps(decisions([1, 2], [0.0, 0.0], [0, 0]), no_terminals(), 0)  # the reset: step 0
    processor.add_actions(actions([1, 2], [0, 0]), 0)
    processor.add_steps(decisions([1, 2], [1.0, 1.0], [1, 1]), no_terminals(), 0)
    processor.add_actions(actions([1, 2], [0, 0]), 0)
    # step 2: agent 1's episode ends and agent 3 starts in its place
    processor.add_steps(decisions([2, 3], [2.0, 0.0], [1, 0]), terminals([1], [2.0], [1.0], [False]), 0)
    assert [len(t) for t in emitted] == [2]
    processor.add_actions(actions([2, 3], [0, 0]), 0)
    processor.add_steps(decisions([2, 3], [3.0, 1.0], [1, 1]), no_terminals(), 0)  # step 3 ends the rollout
    assert [(t.agent_id, len(t), t.done_reached) for t in emitted[1:]] == [
        ("agent_0-2", 3, False),
        ("agent_0-3", 1, False),
    ]
    assert sum(len(t) for t in emitted) == 2 * 3
    np.testing.assert_array_equal(emitted[2].next_obs[0], [[1.0]])  # bootstraps from where it stands


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


def test_group_trajectories_follow_members_leaving_and_joining_mid_episode(processor, emitted):
    # agents 1 and 2 form group 5; agent 1 leaves (its episode ends), agent 3 joins, then the group escapes
    processor.add_steps(decisions([1, 2], [10.0, 20.0], [0, 0], group=5), no_terminals(), 0)
    processor.add_actions(actions([1, 2], [0, 1]), 0)
    processor.add_steps(
        decisions([2, 3], [21.0, 30.0], [0, 0], group=5), terminals([1], [11.0], [0.0], [False], group=5), 0
    )
    assert [t.agent_id for t in emitted] == ["agent_0-1"]
    leaver = emitted[0].group
    assert leaver is not None and not leaver.all_done  # agent 2 plays on: agent 1 bootstraps from the group
    np.testing.assert_array_equal(leaver.mate_obs[0][:, :, 0], [[20.0]])
    np.testing.assert_array_equal(leaver.mate_discrete_actions[:, :, 0], [[1]])
    np.testing.assert_array_equal(leaver.next_mate_obs[0], [[21.0]])  # agent 3 did not act on that step

    processor.add_actions(actions([2, 3], [2, 0]), 0)
    processor.add_steps(
        decisions([], [], []), terminals([2, 3], [22.0, 31.0], [0.5, 0.0], [False, False], 5, 1.0), 0
    )
    by_agent = {t.agent_id: t for t in emitted}
    stayer, joiner = by_agent["agent_0-2"], by_agent["agent_0-3"]
    assert stayer.group is not None and joiner.group is not None
    # one groupmate slot per step: agent 1 on the first step, agent 3 (who joined) on the second
    np.testing.assert_array_equal(stayer.group.mate_obs[0][:, :, 0], [[10.0], [30.0]])
    np.testing.assert_array_equal(stayer.group.mate_discrete_actions[:, :, 0], [[0], [0]])
    np.testing.assert_array_equal(stayer.group.mates_present, [[1.0], [1.0]])
    np.testing.assert_array_equal(stayer.group.rewards, [0.0, 1.0])
    np.testing.assert_array_equal(stayer.transitions()["group_rewards"], [0.0, 1.0])
    assert stayer.group.all_done and stayer.group.episode_group_return == 1.0
    assert stayer.episode_return == 0.5  # the individual return leaves the group reward out, as in ML-Agents
    np.testing.assert_array_equal(joiner.group.mate_obs[0][:, :, 0], [[21.0]])
    np.testing.assert_array_equal(joiner.group.mate_discrete_actions[:, :, 0], [[2]])
    assert joiner.group.all_done and joiner.group.next_mate_obs[0].shape == (0, 1)


def test_agents_without_a_group_carry_no_group_columns(processor, emitted):
    processor.add_steps(decisions([1, 2], [0.0, 1.0], [0, 0]), no_terminals(), 0)
    processor.add_actions(actions([1, 2], [0, 0]), 0)
    processor.add_steps(decisions([], [], []), terminals([1, 2], [0.0, 1.0], [1.0, 1.0], [False, False]), 0)
    assert [t.group for t in emitted] == [None, None]
    np.testing.assert_array_equal(emitted[0].transitions()["group_rewards"], [0.0])
