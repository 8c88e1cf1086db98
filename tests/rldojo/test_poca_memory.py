"""POCA with LSTM memory: sequences padded in the update buffer with each member's own memories, the value's
and the baseline's memories carried through an episode, memories reset when an agent changes group, and
the memory policy's update."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from rldojo.agent_processor import AgentProcessor
from rldojo.buffer import SEQUENCE_MASK
from rldojo.settings import TrainerSettings
from rldojo.stats import StatsReporter
from rldojo.trainers.poca import Groupmates, POCASettings, POCATrainer
from rldojo.trajectory import GroupSteps, Trajectory

from .test_agent_processor import actions, decisions, no_terminals
from .test_memory import with_memories
from .test_poca import SPEC

pytestmark = pytest.mark.smoke

MEMORY_SIZE, SEQUENCE_LENGTH = 8, 4


def memory_trainer(tmp_path, **hyperparameters) -> POCATrainer:
    settings = TrainerSettings.model_validate(
        {
            "trainer_type": "poca",
            "hyperparameters": hyperparameters,
            "network_settings": {
                "hidden_units": 16,
                "num_layers": 1,
                "memory": {"memory_size": MEMORY_SIZE, "sequence_length": SEQUENCE_LENGTH},
            },
        },
        context={"trainer_settings": {"poca": POCASettings}},
    )
    trainer = POCATrainer("Group", 1, settings, True, False, 0, tmp_path / "Group")
    trainer.add_policy("Group?team=0", trainer.create_policy("Group?team=0", SPEC))
    return trainer


def member_trajectory(
    agent: str, first_obs: float, steps: int, episode_length: int, mate: float
) -> Trajectory:
    """``steps`` steps of ``agent`` (observations ``first_obs``, ``first_obs + 1``, ...) next to one groupmate
    whose observations are ``mate``; its memories are its id's number in every float."""
    rng = np.random.default_rng(int(first_obs))
    obs = (first_obs + np.arange(steps, dtype=np.float32))[:, None].repeat(4, axis=1)
    return Trajectory(
        obs=[obs],
        next_obs=[obs[-1:] + 1.0],
        continuous_actions=rng.normal(size=(steps, 1)).astype(np.float32),
        discrete_actions=rng.integers(0, 3, (steps, 1)),
        log_probs=np.full((steps, 2), -1.0, np.float32),
        action_masks=np.ones((steps, 3), np.float32),
        rewards=np.zeros(steps, np.float32),
        done_reached=False,
        truncated=False,
        episode_return=0.0,
        episode_length=episode_length,
        agent_id=agent,
        behavior_id="Group?team=0",
        group=GroupSteps(
            rewards=np.ones(steps, np.float32),
            mate_obs=[np.full((steps, 1, 4), mate, np.float32)],
            mate_continuous_actions=np.zeros((steps, 1, 1), np.float32),
            mate_discrete_actions=np.ones((steps, 1, 1), np.int64),
            mates_present=np.ones((steps, 1), np.float32),
            next_mate_obs=[np.full((1, 4), mate, np.float32)],
            all_done=False,
            episode_group_return=float(steps),
        ),
        memories=np.full((steps, MEMORY_SIZE), float(agent), np.float32),
    )


def group_memories_after(trainer: POCATrainer, trajectory: Trajectory) -> tuple[torch.Tensor, torch.Tensor]:
    """The value's and the baseline's memory after ``trajectory``'s steps, run in one go from zeros."""
    critic = trainer.optimizer.critic
    assert trajectory.group is not None
    obs = [torch.from_numpy(trajectory.obs[0])]
    group = trajectory.group
    mates = Groupmates(
        [torch.from_numpy(group.mate_obs[0])],
        torch.from_numpy(group.mate_continuous_actions),
        torch.from_numpy(group.mate_discrete_actions),
        torch.from_numpy(group.mates_present),
    )
    zeros, steps = torch.zeros(1, MEMORY_SIZE), len(trajectory)
    with torch.no_grad():
        _, value_memory = critic.values_and_memories(obs, zeros, steps, mates)
        _, baseline_memory = critic.baseline_and_memories(obs, mates, zeros, steps)
    assert value_memory is not None and baseline_memory is not None
    return value_memory, baseline_memory


def test_poca_sequences_are_padded_with_each_members_memories_and_the_critics_carried(tmp_path):
    trainer = memory_trainer(tmp_path)
    first = member_trajectory("1", 0.0, steps=6, episode_length=6, mate=5.0)
    mate = member_trajectory("2", 5.0, steps=6, episode_length=6, mate=0.0)
    later = member_trajectory("1", 6.0, steps=3, episode_length=9, mate=5.0)  # the same episode goes on
    for trajectory in (first, mate, later):
        trainer.process_trajectory(trajectory)
    buffer = trainer.update_buffer.arrays()

    # 6 steps: two sequences of 4, the last 2 rows padding; then 6 more, then 3 steps: one padded sequence
    assert trainer.update_buffer.num_experiences == 8 + 8 + 4
    real = [1] * 6 + [0] * 2
    np.testing.assert_array_equal(buffer[SEQUENCE_MASK], real + real + [1, 1, 1, 0])
    # each member's rows hold the memories it acted with (its own), the padding zeros
    np.testing.assert_array_equal(
        buffer["memories"][:, 0], [1] * 6 + [0] * 2 + [2] * 6 + [0] * 2 + [1] * 3 + [0]
    )
    assert not buffer["mates_present"][6:8].any() and buffer["mates_present"][:6].all()
    np.testing.assert_array_equal(buffer["mate_obs_0"][:6, 0, 0], [5.0] * 6)

    value_memories, baseline_memories = buffer["critic_memories"], buffer["baseline_memories"]
    for memories in (value_memories, baseline_memories):  # one memory per sequence, zeros at episode start
        assert memories.shape == (20, MEMORY_SIZE)
        for start in range(0, 20, SEQUENCE_LENGTH):
            assert (memories[start : start + SEQUENCE_LENGTH] == memories[start]).all()
        assert not memories[0].any() and not memories[8].any()
    # the second sequence starts from the memory after the first 4 steps
    value_after_4, baseline_after_4 = group_memories_after(trainer, member_trajectory("1", 0.0, 4, 4, 5.0))
    np.testing.assert_allclose(value_memories[4], value_after_4[0].numpy(), atol=1e-6)
    np.testing.assert_allclose(baseline_memories[4], baseline_after_4[0].numpy(), atol=1e-6)
    assert not np.allclose(value_memories[4], baseline_memories[4])  # the baseline's memory is its own
    # the episode's next trajectory goes on from where the first one left the critic's memories
    value_after_6, baseline_after_6 = group_memories_after(trainer, first)
    np.testing.assert_allclose(value_memories[16], value_after_6[0].numpy(), atol=1e-6)
    np.testing.assert_allclose(baseline_memories[16], baseline_after_6[0].numpy(), atol=1e-6)


def test_the_critics_memories_restart_from_zeros_after_a_group_change(tmp_path):
    trainer = memory_trainer(tmp_path)
    trainer.process_trajectory(member_trajectory("1", 0.0, steps=4, episode_length=4, mate=5.0))
    carried_on = member_trajectory("1", 4.0, steps=4, episode_length=8, mate=5.0)
    trainer.process_trajectory(carried_on)
    moved = dataclasses.replace(
        member_trajectory("1", 8.0, steps=4, episode_length=12, mate=7.0), memory_reset=True
    )
    trainer.process_trajectory(moved)
    buffer = trainer.update_buffer.arrays()
    for key in ("critic_memories", "baseline_memories"):
        assert buffer[key][4].any()  # the episode's second trajectory goes on from the first one's memory
        assert not buffer[key][8].any(), key  # the one after the group change starts from zeros


def test_poca_with_memory_updates_over_sequences(tmp_path):
    trainer = memory_trainer(tmp_path, batch_size=8, buffer_size=16)
    for index in range(3):
        trainer.trajectory_queue.append(member_trajectory(str(index + 1), 4.0 * index, 7, 7, mate=1.0))
    before = [p.detach().clone() for p in trainer.optimizer.critic.memory.parameters()]
    trainer.advance()
    assert trainer.update_buffer.num_experiences == 0
    stats = trainer.stats_reporter.get_stats_summaries
    for key in ("Losses/Baseline Loss", "Losses/Value Loss", "Losses/Policy Loss"):
        assert np.isfinite(stats(key).mean), key
    after = list(trainer.optimizer.critic.memory.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(before, after, strict=True))  # the critic's LSTM learns


def test_an_agent_that_changes_group_ends_its_trajectory_and_starts_with_zero_memory():
    trajectories: list[Trajectory] = []
    processor = AgentProcessor("G?team=0", StatsReporter("G"), 100, trajectories.append)
    processor.add_steps(decisions([1, 2], [0.0, 0.0], [0.0, 0.0], group=1), no_terminals(), worker_id=0)
    processor.add_actions(with_memories(actions([1, 2], [0, 0]), [[1, 1], [2, 2]]), worker_id=0)
    # agent 2 moves to group 3 (its episode goes on); agent 1 stays in group 1
    both = decisions([1, 2], [1.0, 1.0], [0.0, 0.0])
    both.group_id[:] = [1, 3]
    processor.add_steps(both, no_terminals(), worker_id=0)
    np.testing.assert_array_equal(processor.memories(both, 0, 2), [[1, 1], [0, 0]])
    (moved,) = trajectories
    assert moved.agent_id == "agent_0-2" and not moved.done_reached and len(moved) == 1
    assert moved.group is not None and moved.group.mates_present.tolist() == [[1.0]]  # agent 1 acted with it
    assert not moved.memory_reset  # it had played in group 1 from its episode's start
    processor.add_actions(with_memories(actions([1, 2], [0, 0]), [[1, 1], [3, 3]]), worker_id=0)
    both_again = decisions([1, 2], [2.0, 2.0], [0.0, 0.0])
    both_again.group_id[:] = [1, 3]  # nobody moves this time
    processor.add_steps(both_again, no_terminals(), worker_id=0)
    processor.cut_trajectories()
    stayed, moved_on = trajectories[1:]
    assert (stayed.agent_id, moved_on.agent_id) == ("agent_0-1", "agent_0-2")
    assert not stayed.memory_reset and moved_on.memory_reset  # the critics restart their memories too
