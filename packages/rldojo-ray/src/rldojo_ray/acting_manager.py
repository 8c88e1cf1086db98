"""``RayActingEnvManager``: env runners that act themselves (``ray.acting: runner``).

Each :class:`~rldojo_ray.acting_runner.ActingEnvRunner` acts ``time_horizon`` env steps with the policies
published last and answers with its trajectory pieces. A behavior's whole policy is put in the object store
once; each publication puts only the new weights (one ``ray.put`` per version, fetched by every runner).
Start-up, replacement within the restart budget and the cluster record are
:class:`~rldojo_ray.manager.RayEnvManager`'s; a replaced runner's piece in flight is lost (its replacement
fetches the whole policy).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import ray

from rldojo.envs.launcher import EnvLauncher
from rldojo.envs.runner_acting import ActingPolicy, RunnerActingManager, RunnerReport
from rldojo.envs.supervision import WorkerFailure
from rldojo.settings import EnvironmentSettings, RaySettings
from rldojo_ray.acting_runner import ActingEnvRunner, PolicyWeights, PublishedPolicy
from rldojo_ray.manager import RayEnvManager

__all__ = ["RayActingEnvManager"]

STEP_ALLOWANCE_S = 1.0
"""Time a piece may take per env step, besides the time-out of one answer: a runner past it counts as hung."""


class RayActingEnvManager(RunnerActingManager, RayEnvManager):
    """Env runners that act; at most one piece in flight per runner."""

    runner_class = ActingEnvRunner
    lost = "its trajectory piece in flight (up to time_horizon env steps of its agents)"

    def __init__(self, launcher: EnvLauncher, env_settings: EnvironmentSettings, ray_settings: RaySettings):
        super().__init__(launcher, env_settings, ray_settings)
        self._policies: dict[str, PublishedPolicy] = {}  # by behavior id: the version published last
        self._whole_policies: dict[str, Any] = {}  # by behavior id: the reference of its whole CPU policy
        self._piece_timeout_s = self.answer_timeout_s
        self._in_flight: dict[int, tuple[Any, float]] = {}  # slot -> (reference, deadline)

    def publish(self, policies: Mapping[str, ActingPolicy]) -> None:
        for behavior_id, acting in policies.items():
            if behavior_id not in self._whole_policies:
                self._whole_policies[behavior_id] = ray.put(acting.policy.cpu_copy())
            self._policies[behavior_id] = PublishedPolicy(
                acting.version,
                acting.time_horizon,
                self._whole_policies[behavior_id],
                ray.put(PolicyWeights.of(acting.policy)),
            )
        horizon = max(acting.time_horizon for acting in policies.values())
        self._piece_timeout_s = self.answer_timeout_s + horizon * STEP_ALLOWANCE_S

    def collect(self, wait_for_all: bool) -> list[RunnerReport]:
        for slot, runner in enumerate(self._runners):
            if slot not in self._in_flight:
                reference = runner.actor.collect.remote(self._policies)
                self._in_flight[slot] = (reference, time.monotonic() + self._piece_timeout_s)
        reports: list[RunnerReport] = []
        while self._in_flight and (wait_for_all or not reports):
            slots = {reference: slot for slot, (reference, _) in self._in_flight.items()}
            first_deadline = min(deadline for _, deadline in self._in_flight.values())
            ready, _ = ray.wait(
                list(slots), num_returns=1, timeout=max(0.0, first_deadline - time.monotonic())
            )
            if not ready:
                late = min(self._in_flight, key=lambda slot: self._in_flight[slot][1])
                del self._in_flight[late]
                self._replace(
                    self._failure(late, f"no trajectory piece within {self._piece_timeout_s:.0f} s")
                )
                continue
            slot = slots[ready[0]]
            del self._in_flight[slot]
            try:
                reports.append(self._get(slot, ready[0], time.monotonic() + self.answer_timeout_s))
            except WorkerFailure as failure:
                self._replace(failure)
        return reports
