"""An env runner that acts itself (``ray.acting: runner``), called directly (no cluster): it acts
``time_horizon`` env steps with the policy it is sent and answers with pieces that carry that policy's
version, with its stats; its own seed makes it reproducible."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rldojo.envs import EnvLauncher
from rldojo.envs.runner_acting import ActingPolicy
from rldojo.plugins import trainer_class
from rldojo.settings import load_run_options
from rldojo_ray.acting_runner import ActingEnvRunner

CONFIG = Path(__file__).parents[2] / "configs" / "ppo.yaml"
BEHAVIOR = "3DBall?team=0"
HORIZON = 20


@pytest.fixture
def setup(tmp_path):
    options = load_run_options(CONFIG, {"env_settings.env_path": "sim:3DBall"})
    launcher = EnvLauncher.from_options(options, seed=3, log_folder=tmp_path)
    settings = options.behaviors["3DBall"]
    trainer = trainer_class("ppo")("3DBall", 100, settings, True, False, 3, tmp_path)

    probe = ActingEnvRunner(launcher, 0)
    spec = probe.reset().behavior_specs[BEHAVIOR]
    probe.close()
    trainer.add_policy(BEHAVIOR, trainer.create_policy(BEHAVIOR, spec))

    def runner(worker_id: int) -> ActingEnvRunner:
        acting = ActingEnvRunner(launcher, worker_id)  # seeds the RNGs: after the policy's creation
        acting.reset()
        return acting

    return runner, trainer


def acting(trainer, version: int) -> dict[str, ActingPolicy]:
    return {BEHAVIOR: ActingPolicy(version, trainer.get_policy(BEHAVIOR).cpu_copy(), HORIZON)}


def test_a_runner_sends_time_horizon_steps_of_pieces_acted_by_the_policy_it_was_sent(setup):
    make_runner, trainer = setup
    runner = make_runner(0)
    agents = len(runner.unrecorded.steps[BEHAVIOR][0])
    first = runner.collect(acting(trainer, 0))
    second = runner.collect(acting(trainer, 1))
    runner.close()
    for report, version in ((first, 0), (second, 1)):
        # every agent asks for a decision every step: each piece is cut at the end, none spans two versions
        assert {piece.policy_version for piece in report.pieces} == {version}
        assert sum(len(piece.trajectory) for piece in report.pieces) == HORIZON * agents
        assert all(len(piece.trajectory) <= HORIZON for piece in report.pieces)
        assert report.stats["3DBall"]["Policy/Entropy"].num == HORIZON
    # the second piece of an agent starts where its first ended
    agent = first.pieces[-1].trajectory.agent_id
    before = next(p.trajectory for p in reversed(first.pieces) if p.trajectory.agent_id == agent)
    after = next(p.trajectory for p in second.pieces if p.trajectory.agent_id == agent)
    if not before.done_reached:
        np.testing.assert_array_equal(before.next_obs[0][0], after.obs[0][0])


def test_a_runner_acts_with_its_own_seed(setup):
    make_runner, trainer = setup
    pieces = {}
    for name, worker_id in (("first", 0), ("again", 0), ("other", 1)):
        runner = make_runner(worker_id)
        report = runner.collect(acting(trainer, 0))
        runner.close()
        pieces[name] = np.concatenate([piece.trajectory.continuous_actions for piece in report.pieces])
        # agents are named after their runner's worker id, apart from other runners' agents on the learner
        assert all(piece.trajectory.agent_id.startswith(f"agent_{worker_id}-") for piece in report.pieces)
    np.testing.assert_array_equal(pieces["first"], pieces["again"])
    assert not np.array_equal(pieces["first"], pieces["other"])
