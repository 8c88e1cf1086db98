"""``RunnerActingController``: the loop of a run whose env runners act themselves (``ray.acting: runner``).

Runners send trajectory pieces; the learner feeds them to the trainers exactly as local trajectories
(summaries, checkpoints, curricula as with :class:`~rldojo.training.TrainerController`) and publishes each
policy again after an update, with its version counted up. On-policy trainers take only pieces acted by a
policy at most ``ray.policy_lag`` updates old (the older ones are dropped and counted); with lag 0 the
learner waits for every runner's piece, all acted by the current policy, before it updates (ML-Agents'
synchronous behaviour). Off-policy trainers take every piece as it arrives, while the other runners act on.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from mlagents_envs import timers

from rldojo.envs import EnvironmentStep
from rldojo.envs.runner_acting import ActingPolicy, RunnerActingManager, RunnerReport
from rldojo.errors import ConfigError
from rldojo.settings.run import behavior_name_of
from rldojo.stats import StatsAggregationMethod
from rldojo.trainers import OnPolicyTrainer
from rldojo.training import TrainerController
from rldojo.training_run import StopRequest

__all__ = ["PIECE_LAG_KEY", "STALE_STEPS_KEY", "RunnerActingController"]

logger = logging.getLogger(__name__)

PIECE_LAG_KEY = "Policy/Piece Lag"
"""Per trained piece: how many updates older than the trainer's policy the policy that acted it was."""
STALE_STEPS_KEY = "Policy/Stale Steps Dropped"
"""Steps of pieces an on-policy trainer dropped as older than ``policy_lag``."""


class RunnerActingController(TrainerController):
    """The loop with runners that act: pieces in, updated policies out. One behavior per run yet."""

    runners: RunnerActingManager
    policies: dict[str, Any]  # by behavior id: the trainer's policy
    versions: dict[str, int]  # by behavior id: the policy's updates so far

    def run(self, stop: StopRequest, env_steps: list[EnvironmentStep]) -> None:
        """Train from the runners' pieces (``env_steps``: their envs' reset) until every trainer reached
        ``max_steps`` or a stop was requested."""
        assert isinstance(self.env_manager, RunnerActingManager)
        self.runners = self.env_manager
        self._create_trainers(env_steps)
        self.versions = dict.fromkeys(self.policies, 0)
        self._publish()
        lag = self.options.ray.policy_lag
        synchronous = lag == 0 and any(isinstance(t, OnPolicyTrainer) for t in self.trainers.values())
        while True:
            with timers.hierarchical_timer("collect"):
                reports = self.runners.collect(wait_for_all=synchronous)
            for report in reports:
                self._take(report)
            if self.evaluator is not None:
                with timers.hierarchical_timer("evaluate"):
                    self.evaluator.maybe_evaluate(self.trainers, self.self_play.state)
            with timers.hierarchical_timer("trainer_advance"):
                updated = [name for name, trainer in self.trainers.items() if self._advance(name, trainer)]
            for behavior_id in self.versions:
                self.versions[behavior_id] += behavior_name_of(behavior_id) in updated
            if updated:
                with timers.hierarchical_timer("publish"):
                    self._publish()
            if self._finished() or stop:
                return
            if self.parameters.curriculum_parameters:
                self._update_lessons([])

    def _create_trainers(self, env_steps: Sequence[EnvironmentStep]) -> None:
        specs = self.runners.behavior_specs
        behavior_ids = sorted({behavior_id for step in env_steps for behavior_id in step.steps})
        if len(behavior_ids) != 1:
            raise ConfigError(
                f"ray.acting: runner serves one behavior yet; the environment has {len(behavior_ids)} "
                f"({', '.join(behavior_ids)}): use ray.acting: learner"
            )
        self.policies = {b: self._trainer(b, specs[b]).get_policy(b) for b in behavior_ids}

    def _publish(self) -> None:
        self.runners.publish(
            {
                behavior_id: ActingPolicy(
                    self.versions[behavior_id],
                    policy,
                    self.trainers[behavior_name_of(behavior_id)].trainer_settings.time_horizon,
                )
                for behavior_id, policy in self.policies.items()
            }
        )

    def _take(self, report: RunnerReport) -> None:
        """Queue the report's pieces for their trainers (on-policy: those within the policy lag), add its
        stats."""
        lag = self.options.ray.policy_lag
        for category, stats in report.stats.items():
            self.trainers[category].stats_reporter.add_pending(stats)
        dropped = 0
        for piece in report.pieces:
            trainer = self.trainers[behavior_name_of(piece.behavior_id)]
            piece_lag = self.versions[piece.behavior_id] - piece.policy_version
            if isinstance(trainer, OnPolicyTrainer) and piece_lag > lag:
                dropped += len(piece.trajectory)
                trainer.stats_reporter.add_stat(
                    STALE_STEPS_KEY, len(piece.trajectory), StatsAggregationMethod.SUM
                )
                continue
            trainer.stats_reporter.add_stat(PIECE_LAG_KEY, piece_lag, StatsAggregationMethod.HISTOGRAM)
            trainer.trajectory_queue.append(piece.trajectory)
        if dropped:
            logger.info(
                "runner %d: %d steps acted by a policy older than policy_lag %d dropped",
                report.runner,
                dropped,
                lag,
            )


def controller_class(env_manager: Any) -> type[TrainerController]:
    """The loop for ``env_manager``: runners that act, or workers the learner acts for."""
    return RunnerActingController if isinstance(env_manager, RunnerActingManager) else TrainerController
