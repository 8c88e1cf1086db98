"""GAE against hand-computed values, replay-buffer ring semantics and its weights_only round trip."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch

from rldojo.buffer import AgentBuffer, ReplayBuffer
from rldojo.settings import ScheduleType
from rldojo.trainers import DecayedValue
from rldojo.trainers.on_policy import discounted_cumsum, gae

pytestmark = pytest.mark.smoke


def test_gae_by_hand():
    rewards = np.array([1.0, 0.0, 2.0], dtype=np.float32)
    values = np.array([0.5, 1.0, 1.5], dtype=np.float32)
    gamma, lambd, bootstrap = 0.9, 0.8, 2.0
    deltas = [1 + 0.9 * 1.0 - 0.5, 0 + 0.9 * 1.5 - 1.0, 2 + 0.9 * 2.0 - 1.5]
    expected = [
        deltas[0] + 0.72 * deltas[1] + 0.72**2 * deltas[2],
        deltas[1] + 0.72 * deltas[2],
        deltas[2],
    ]
    np.testing.assert_allclose(gae(rewards, values, bootstrap, gamma, lambd), expected, rtol=1e-6)


def test_lambda_one_gives_discounted_returns_minus_values():
    rewards = np.ones(50, dtype=np.float32)
    values = np.zeros(50, dtype=np.float32)
    advantages = gae(rewards, values, 0.0, 0.99, 1.0)
    np.testing.assert_allclose(advantages, discounted_cumsum(rewards, 0.99), rtol=1e-6)
    assert advantages[0] == pytest.approx((1 - 0.99**50) / (1 - 0.99), rel=1e-5)


def test_linear_schedule_reaches_its_floor_at_max_steps():
    schedule = DecayedValue(ScheduleType.LINEAR, 1.0, 0.1, 100)
    assert [schedule(s) for s in (0, 50, 100, 1000)] == pytest.approx([1.0, 0.55, 0.1, 0.1])
    assert DecayedValue(ScheduleType.CONSTANT, 1.0, 0.1, 100)(50) == 1.0


def test_linear_schedule_from_below_its_floor_stays_constant():
    for initial in (0.0, 0.05):
        schedule = DecayedValue(ScheduleType.LINEAR, initial, 0.1, 100)
        assert [schedule(s) for s in (0, 50, 100, 1000)] == [initial] * 4


def test_agent_buffer_concatenates_trajectories_and_rejects_ragged_columns():
    buffer = AgentBuffer()
    buffer.append({"a": np.zeros(3), "b": np.ones((3, 2))})
    buffer.append({"a": np.ones(2), "b": np.ones((2, 2))})
    assert buffer.num_experiences == 5
    assert buffer.arrays()["b"].shape == (5, 2)
    with pytest.raises(ValueError, match="equal lengths"):
        buffer.append({"a": np.zeros(3), "b": np.ones((2, 2))})


def rows(start: int, count: int) -> dict[str, np.ndarray]:
    ids = np.arange(start, start + count)
    return {"id": ids.astype(np.int64), "obs": np.stack([ids, -ids], axis=1).astype(np.float32)}


def test_replay_buffer_overwrites_oldest_and_samples_only_stored_rows():
    buffer = ReplayBuffer(5)
    buffer.add(rows(0, 3))
    buffer.add(rows(3, 4))  # wraps around: keeps 2..6
    assert buffer.num_experiences == 5
    batch = buffer.sample(200, torch.Generator().manual_seed(0))
    assert set(batch["id"].tolist()) == {2, 3, 4, 5, 6}
    np.testing.assert_array_equal(batch["obs"][:, 0], batch["id"])
    buffer.add(rows(100, 12))  # more rows than capacity: the last 5 are kept
    assert set(buffer.sample(200)["id"].tolist()) == {107, 108, 109, 110, 111}


def test_replay_buffer_state_loads_with_weights_only():
    buffer = ReplayBuffer(4)
    buffer.add(rows(0, 6))
    file = io.BytesIO()
    torch.save(buffer.state_dict(), file)
    file.seek(0)
    restored = ReplayBuffer(4)
    restored.load_state_dict(torch.load(file, weights_only=True))
    assert restored.num_experiences == 4
    assert restored.state_dict()["columns"]["id"].tolist() == [2, 3, 4, 5]
    restored.add(rows(6, 1))  # the ring continues where it was: 2 is the oldest
    assert restored.state_dict()["columns"]["id"].tolist() == [3, 4, 5, 6]


def test_replay_buffer_samples_tensors_and_stores_float64_as_float32():
    buffer = ReplayBuffer(8)
    buffer.add({"id": np.arange(6), "reward": np.linspace(0.0, 1.0, 6)})  # float64 rewards
    batch = buffer.sample(50, torch.Generator().manual_seed(0))
    assert batch["reward"].dtype == torch.float32 and batch["id"].dtype == torch.int64
    torch.testing.assert_close(batch["reward"], batch["id"].float() / 5)
    assert buffer.state_dict()["columns"]["reward"].dtype == torch.float32
