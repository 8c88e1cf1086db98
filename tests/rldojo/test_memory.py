"""LSTM memory (``network_settings.memory``): ML-Agents' memory layout, memories carried per agent and reset
at episode start, sequences that replay what acting saw, and whole sequences sampled from a replay buffer."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import yaml
from mlagents_envs.base_env import ActionSpec, BehaviorSpec

from rldojo.agent_processor import AgentProcessor
from rldojo.buffer import SEQUENCE_MASK, ReplayBuffer, padded_sequences
from rldojo.checkpoint import LATEST_CHECKPOINT, load_checkpoint
from rldojo.networks import Actor
from rldojo.policy import Policy
from rldojo.settings import MemorySettings, NetworkSettings
from rldojo.stats import StatsReporter
from rldojo.trainers.sac.networks import SACActor

from .test_agent_processor import actions, decisions, terminals
from .test_onnx_export import obs
from .training_runs import train

pytestmark = pytest.mark.smoke

MEMORY = NetworkSettings(
    hidden_units=16, num_layers=1, memory=MemorySettings(memory_size=12, sequence_length=4)
)
SPEC = BehaviorSpec([obs(5)], ActionSpec(2, (3,)))


def with_memories(info, next_memories):
    info.memories = np.zeros((len(info.agent_ids), 2), np.float32)
    info.next_memories = np.asarray(next_memories, np.float32)
    return info


def test_memories_are_carried_per_agent_and_worker_and_reset_when_an_episode_starts():
    trajectories = []
    processor = AgentProcessor("B?team=0", StatsReporter("B"), 100, trajectories.append)
    processor.add_steps(decisions([1, 2], [0.0, 0.0], [0.0, 0.0]), terminals([], [], [], []), worker_id=0)
    processor.add_steps(decisions([1], [0.0], [0.0]), terminals([], [], [], []), worker_id=1)
    assert not processor.memories(decisions([1, 2], [0.0, 0.0], [0.0, 0.0]), 0, 2).any()  # a new episode
    processor.add_actions(with_memories(actions([1, 2], [0, 0]), [[1, 1], [2, 2]]), worker_id=0)
    processor.add_actions(with_memories(actions([1], [0]), [[9, 9]]), worker_id=1)

    # agent 1 of worker 0 finishes and starts again in the same step; agent 2 goes on
    processor.add_steps(decisions([1, 2], [0.0, 0.0], [0.0, 0.0]), terminals([1], [0.0], [1.0], [False]), 0)
    processor.add_steps(decisions([1], [0.0], [0.0]), terminals([], [], [], []), worker_id=1)
    np.testing.assert_array_equal(
        processor.memories(decisions([1, 2], [0.0] * 2, [0.0] * 2), 0, 2), [[0, 0], [2, 2]]
    )
    np.testing.assert_array_equal(processor.memories(decisions([1], [0.0], [0.0]), 1, 2), [[9, 9]])

    processor.end_episodes(worker_id=1)  # its env restarted
    assert not processor.memories(decisions([1], [0.0], [0.0]), 1, 2).any()
    (finished,) = trajectories
    assert finished.agent_id == "agent_0-1" and finished.memories is not None
    np.testing.assert_array_equal(finished.memories, [[0, 0]])  # the memory its one action was taken with


def test_memory_is_hidden_and_cell_state_concatenated_as_mlagents_lays_it_out():
    actor = Actor(SPEC.observation_specs, MEMORY, SPEC.action_spec)
    assert actor.memory_size == 12 and actor.memory is not None and actor.memory.lstm.hidden_size == 6
    observations = [torch.randn(3, 5)]
    sample = actor(observations, torch.ones(3, 3), memories=torch.randn(3, 12))
    assert sample.memories is not None and sample.memories.shape == (3, 12)
    _, (hidden, cell) = actor.memory.lstm(
        actor.encoder(observations).unsqueeze(1), tuple(torch.zeros(1, 3, 6) for _ in range(2))
    )
    zero_start = actor(observations, torch.ones(3, 3)).memories
    torch.testing.assert_close(zero_start, torch.cat([hidden[0], cell[0]], dim=1))


@pytest.mark.parametrize("network_class", [Actor, SACActor])
def test_a_sequence_from_its_first_memory_replays_what_acting_step_by_step_saw(network_class):
    torch.manual_seed(0)
    network = network_class(SPEC.observation_specs, MEMORY, SPEC.action_spec)
    policy = Policy(SPEC, network, torch.device("cpu"))
    steps = [torch.randn(2, 5) for _ in range(8)]  # two agents, 8 decisions
    memories = torch.zeros(2, 12)
    outputs, starts = [], []
    for t, observation in enumerate(steps):
        if t % 4 == 0:
            starts.append(memories)
        with torch.no_grad():
            sample = policy.sample_actions_with_memories([observation], torch.ones(2, 3), True, memories)
        outputs.append(sample)
        assert sample.memories is not None
        memories = sample.memories
    # the same steps as 4 sequences (agent 0: t 0-3, t 4-7; agent 1 likewise) from the stored memories
    rows = torch.stack(steps, dim=1).reshape(2, 2, 4, 5).reshape(16, 5)
    initial = torch.stack(starts, dim=1).reshape(4, 12)
    with torch.no_grad():
        if network_class is Actor:
            continuous = torch.stack([o.continuous for o in outputs], 1).reshape(16, 2)
            discrete = torch.stack([o.discrete for o in outputs], 1).reshape(16, 1)
            replayed, _ = network.evaluate([rows], torch.ones(16, 3), continuous, discrete, initial, 4)
            expected = torch.stack([o.log_probs for o in outputs], 1).reshape(16, 3)
        else:
            replayed = network.distribution([rows], None, True, initial, 4).continuous
            expected = torch.stack([o.continuous for o in outputs], 1).reshape(16, 2) / 3.0
    torch.testing.assert_close(replayed, expected)


def test_the_replay_buffer_samples_whole_sequences_of_one_trajectory_across_its_wraparound():
    length, capacity = 4, 24
    buffer = ReplayBuffer(capacity)
    for trajectory, size in enumerate([3, 6, 5, 7, 2, 9, 4]):  # 32 padded rows: the ring wraps
        steps = np.arange(size)
        buffer.add(padded_sequences({"trajectory": np.full(size, trajectory), "step": steps}, length))
    batch = buffer.sample_sequences(200, length, torch.Generator().manual_seed(0))
    assert set(batch) == {"trajectory", "step", SEQUENCE_MASK}
    seen = set()
    for trajectory, step, mask in zip(
        *(batch[k].reshape(200, length) for k in ("trajectory", "step", SEQUENCE_MASK)), strict=True
    ):
        real = int(mask.sum())
        assert real >= 1 and (mask[:real] == 1).all() and (mask[real:] == 0).all()
        assert (trajectory[:real] == trajectory[0]).all()
        assert step[0] % length == 0 and (np.diff(step[:real]) == 1).all()
        seen.add((int(trajectory[0]), int(step[0])))
    # the last 24 padded rows: trajectory 3's second sequence, then trajectories 4, 5 and 6
    assert seen == {(3, 4), (4, 0), (5, 0), (5, 4), (5, 8), (6, 0)}


SAC_HALLWAY = {
    "behaviors": {
        "Hallway": {
            "trainer_type": "sac",
            "hyperparameters": {"batch_size": 32, "buffer_size": 1000, "buffer_init_steps": 100},
            "network_settings": {
                "hidden_units": 16,
                "num_layers": 1,
                "memory": {"memory_size": 16, "sequence_length": 8},
            },
            "max_steps": 300,
            "time_horizon": 16,
            "summary_freq": 100,
        }
    },
    "env_settings": {"env_path": "sim:Hallway", "seed": 1},
}


@pytest.mark.slow
def test_sac_with_memory_trains_and_keeps_the_lstm_weights_but_no_agent_memories(tmp_path):
    config = tmp_path / "sac.yaml"
    config.write_text(yaml.safe_dump(SAC_HALLWAY))
    recorder = train(config, tmp_path / "results")
    assert "Losses/Q1 Loss" in recorder.summaries and "Policy/Learning Rate" in recorder.summaries
    assert all(np.isfinite(s.mean) for s in recorder.summaries["Losses/Q1 Loss"].values())
    state = load_checkpoint(tmp_path / "results" / "run" / "Hallway" / LATEST_CHECKPOINT)
    modules = state["modules"]
    assert "memory.lstm.weight_hh_l0" in modules["Policy"]
    assert "q1.memory.lstm.weight_hh_l0" in modules["Optimizer:q_network"]
    assert "memory.lstm.weight_hh_l0" in modules["Optimizer:value_network"]
    assert "memories" not in str(sorted(state["trainer_state"]))  # live agents' memories are not saved
