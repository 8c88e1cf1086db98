"""OnPolicyTrainer values the trajectories waiting for an update or a summary in one critic pass, with GAE
vectorised across them: the same values, returns, advantages and stats as one critic pass and one GAE per
trajectory (the way it was done before), within 1e-6 (a batched matmul may round differently)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from rldojo.stats import StatsSummary, StatsWriter
from rldojo.trainers.on_policy import discounted_cumsum, gae, trajectories_gae

from .test_rlzoo_options import basic_trajectory, make_trainer

pytestmark = pytest.mark.smoke

GAMMA, LAMBD = 0.98, 0.8


def test_trajectories_gae_equals_gae_trajectory_by_trajectory_bit_for_bit():
    rng = np.random.default_rng(0)
    for _ in range(50):
        lengths = rng.integers(1, 40, size=rng.integers(1, 10))
        rewards = rng.normal(size=lengths.sum()).astype(np.float32)
        values = rng.normal(size=lengths.sum()).astype(np.float32)
        bootstraps = np.where(rng.random(len(lengths)) < 0.3, 0.0, rng.normal(size=len(lengths)))
        starts = np.cumsum(lengths) - lengths
        one_by_one = [
            gae(rewards[s : s + n], values[s : s + n], float(b), GAMMA, LAMBD)
            for s, n, b in zip(starts, lengths, bootstraps, strict=True)
        ]
        batched = trajectories_gae(rewards, values, bootstraps, lengths, GAMMA, LAMBD)
        assert batched.dtype == np.float32
        np.testing.assert_array_equal(batched, np.concatenate(one_by_one))


def test_gae_is_the_discounted_sum_of_deltas():
    rewards = np.array([1.0, -2.0, 0.5], np.float32)
    values = np.array([0.3, 0.1, -0.4], np.float32)
    deltas = rewards + GAMMA * np.append(values[1:], 0.7) - values
    np.testing.assert_allclose(
        gae(rewards, values, 0.7, GAMMA, LAMBD), discounted_cumsum(deltas, GAMMA * LAMBD), rtol=1e-6
    )


def mixed_trajectories() -> list:
    """Trajectories of several agents and lengths: terminated, truncated, and cut mid-episode."""
    rng = np.random.default_rng(1)
    pieces = []
    for index, (length, done) in enumerate([(32, False), (7, True), (32, False), (1, True), (19, False)]):
        trajectory = basic_trajectory(rng.normal(size=length), done=done, agent_id=f"agent_{index % 3}")
        trajectory.obs = [rng.normal(size=(length, 20)).astype(np.float32)]
        trajectory.next_obs = [rng.normal(size=(1, 20)).astype(np.float32)]
        pieces.append(trajectory)
    pieces.append(dataclasses.replace(pieces[0], done_reached=True, truncated=True, agent_id="agent_5"))
    return pieces


def one_by_one(trainer, trajectories) -> tuple[dict[str, np.ndarray], list[float]]:
    """Values, returns and advantages as computed before batching: per trajectory, a critic pass over its
    steps, another over the observation after them, and its GAE (the normaliser updated before each)."""
    critic, columns, estimates = trainer.optimizer.critic, {}, []
    gamma = trainer.optimizer.reward_signals["extrinsic"].gamma
    for trajectory in trajectories:
        obs = trainer.policy.to_tensors(trajectory.obs)
        trainer.policy.update_normalization(trajectory.obs)
        trainer.optimizer.update_normalization(obs)
        with torch.no_grad():
            values = critic(obs)["extrinsic"].numpy()
            after = float(critic(trainer.policy.to_tensors(trajectory.next_obs))["extrinsic"][0])
        advantages = gae(trajectory.rewards, values, 0.0 if trajectory.terminated else after, gamma, LAMBD)
        for key, column in [
            ("values_extrinsic", values),
            ("returns_extrinsic", advantages + values),
            ("advantages", advantages),
        ]:
            columns.setdefault(key, []).append(column)
        estimates.append(float(values.mean()))
    return {key: np.concatenate(parts) for key, parts in columns.items()}, estimates


@pytest.mark.parametrize("normalize", [False, True])
def test_batched_values_and_advantages_equal_per_trajectory_ones(tmp_path, normalize):
    def trainer():
        torch.manual_seed(0)
        made = make_trainer(
            tmp_path / str(len(list(tmp_path.iterdir()))),
            network={"normalize": normalize},
            buffer_size=4096,
            lambd=LAMBD,
        )
        return made

    batched, reference = trainer(), trainer()
    trajectories = mixed_trajectories()
    for trajectory in trajectories:
        batched.process_trajectory(trajectory)
    # valued together at the next summary or update; with normalize, each before the next one updates it
    waiting = trajectories[-1:] if normalize else trajectories
    assert batched.update_buffer.num_experiences == sum(len(t) for t in trajectories) - sum(map(len, waiting))
    assert batched._is_ready_update() is False
    batched.estimate_pending()
    expected, estimates = one_by_one(reference, trajectories)

    buffer = batched.update_buffer.arrays()
    assert batched.update_buffer.num_experiences == sum(len(t) for t in trajectories)
    for key, column in expected.items():
        np.testing.assert_allclose(buffer[key], column, rtol=0, atol=1e-6, err_msg=key)
    np.testing.assert_array_equal(buffer["rewards"], np.concatenate([t.rewards for t in trajectories]))
    np.testing.assert_array_equal(buffer["obs_0"], np.concatenate([t.obs[0] for t in trajectories]))
    stats = batched.stats_reporter.get_stats_summaries("Policy/Extrinsic Value Estimate").full_dist
    np.testing.assert_allclose(stats, estimates, rtol=0, atol=1e-6)


class SummaryRecorder(StatsWriter):
    def __init__(self) -> None:
        self.summaries: list[dict[str, StatsSummary]] = []

    def write_stats(self, category: str, values: dict[str, StatsSummary], step: int) -> None:
        self.summaries.append(values)


def test_a_summary_holds_the_value_estimates_of_every_trajectory_before_it(tmp_path):
    trainer = make_trainer(tmp_path, buffer_size=4096)
    recorder = SummaryRecorder()
    trainer.stats_reporter.add_writer(recorder)
    trajectories = mixed_trajectories()
    for trajectory in trajectories[:3]:
        trainer.process_trajectory(trajectory)
    trainer.write_summary(100)
    assert recorder.summaries[-1]["Policy/Extrinsic Value Estimate"].num == 3
    assert trainer.update_buffer.num_experiences == sum(len(t) for t in trajectories[:3])
