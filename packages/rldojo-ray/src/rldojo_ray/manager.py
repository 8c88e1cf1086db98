"""``RayEnvManager``: the env workers of a run as Ray actors across a cluster (``rldojo learn --ray``).

Each :class:`~rldojo_ray.runner.EnvRunner` owns one env on the node Ray places it on (spread over the
nodes) and steps it there; the learner batches every runner's decisions into one forward pass per
behavior, as with worker processes, so every action comes from the current policy (no policy lag). A
runner that fails, or whose node dies, is replaced on the nodes left within the restart budget
(``max_lifetime_restarts``, ``restarts_rate_limit_*``); its agents' unfinished trajectories are dropped.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import ray
from mlagents_envs.base_env import ActionTuple, BehaviorSpec
from ray.actor import ActorHandle

from rldojo.envs import EnvironmentStep, EnvLauncher, EnvManager, EnvWorkerFailed
from rldojo.envs.supervision import RestartBudget, WorkerFailure
from rldojo.envs.worker import WorkerReport
from rldojo.errors import ConfigError
from rldojo.settings import EnvironmentSettings, RaySettings
from rldojo.settings.environment_parameters import SamplerSettings
from rldojo_ray.cluster import cluster_nodes, connect, record_cluster
from rldojo_ray.runner import EnvRunner

__all__ = ["RayEnvManager", "create_ray_env_manager"]

logger = logging.getLogger(__name__)

ANSWER_GRACE_S = 15.0  # a runner's env gives up after timeout_wait; its answer may take this much longer
CLOSE_TIMEOUT_S = 10.0


@dataclass
class _Runner:
    actor: ActorHandle
    worker_id: int  # the env's worker id: its seed offset and port offset
    node_id: str = "starting"


class RayEnvManager(EnvManager):
    """``ray_settings.num_runners`` env runners; slot ``i`` reports as worker ``i``. A replacement gets a
    fresh worker id (so a fresh seed and port), recorded with the node it runs on."""

    runner_class: type[EnvRunner] = EnvRunner
    lost = "the env step in flight and its agents' unfinished trajectories"
    """What a run loses with a runner, in the warning and in ``replacements``."""

    def __init__(self, launcher: EnvLauncher, env_settings: EnvironmentSettings, ray_settings: RaySettings):
        assert ray_settings.address is not None
        self.launcher = launcher
        self.address = ray_settings.address
        self.answer_timeout_s = env_settings.timeout_wait + ANSWER_GRACE_S
        self.budget = RestartBudget(env_settings)
        self._connected_here = connect(ray_settings.address)
        self._actor_class = ray.remote(
            num_cpus=ray_settings.num_cpus_per_runner, max_restarts=0, scheduling_strategy="SPREAD"
        )(self.runner_class)
        self._behavior_specs: dict[str, BehaviorSpec] = {}
        self._runners = [self._start(worker_id) for worker_id in range(ray_settings.num_runners)]
        self._next_worker_id = ray_settings.num_runners
        self._pending: list[Any] = []
        self.replacements: list[dict[str, Any]] = []

    @property
    def behavior_specs(self) -> Mapping[str, BehaviorSpec]:
        return self._behavior_specs

    def _start(self, worker_id: int) -> _Runner:
        actor: ActorHandle = self._actor_class.remote(self.launcher, worker_id)  # type: ignore[assignment]
        return _Runner(actor, worker_id)

    @staticmethod
    def _failure(slot: int, cause: str) -> WorkerFailure:
        return WorkerFailure(slot, cause, "env runner")

    def _get(self, slot: int, reference: Any, deadline: float) -> Any:
        """The runner's answer; WorkerFailure when it raised, died or missed ``deadline``."""
        try:
            return ray.get(reference, timeout=max(0.0, deadline - time.monotonic()))
        except ray.exceptions.GetTimeoutError:
            raise self._failure(slot, f"no answer within {self.answer_timeout_s:.0f} s") from None
        except ray.exceptions.RayTaskError as error:
            if isinstance(error.cause, ConfigError):
                raise error.cause from None
            raise self._failure(
                slot, f"{type(error.cause).__name__}: {error.cause}".splitlines()[0]
            ) from None
        except ray.exceptions.RayActorError as error:
            raise self._failure(slot, f"runner died ({str(error).splitlines()[0]})") from None

    def _answer(self, slot: int, reference: Any, deadline: float) -> WorkerReport:
        report: WorkerReport = self._get(slot, reference, deadline)
        self._behavior_specs.update(report.behavior_specs)
        return report

    def _gather(self, references: list[Any]) -> list[EnvironmentStep]:
        deadline = time.monotonic() + self.answer_timeout_s
        results = []
        for slot, reference in enumerate(references):
            try:
                report = self._answer(slot, reference, deadline)
                results.append(EnvironmentStep(slot, report.steps, report.env_stats))
            except WorkerFailure as failure:
                results.append(self._replace(failure))
                deadline = time.monotonic() + self.answer_timeout_s  # the replacement's time is not theirs
        return results

    def _replace(self, failure: WorkerFailure) -> EnvironmentStep:
        """A new runner in ``failure.worker_id``'s slot (on any node with room), reset; within the restart
        budget."""
        slot = failure.worker_id
        while True:
            refusal = self.budget.spend(slot)
            if refusal is not None:
                raise EnvWorkerFailed(f"env runner {slot} failed ({failure.cause}), not replaced: {refusal}")
            lost = self._runners[slot]
            logger.warning("%s; replacing it (lost: %s)", failure, self.lost)
            with contextlib.suppress(Exception):
                ray.kill(lost.actor, no_restart=True)
            self._runners[slot] = self._start(self._next_worker_id)
            self._next_worker_id += 1
            try:
                report = self._answer(
                    slot, self._runners[slot].actor.reset.remote(), time.monotonic() + self.answer_timeout_s
                )
            except WorkerFailure as next_failure:
                failure = next_failure
                continue
            self.replacements.append(
                {
                    "slot": slot,
                    "cause": failure.cause,
                    "lost_node": lost.node_id,
                    "lost_worker_id": lost.worker_id,
                    "lost": self.lost,
                }
            )
            self._record()
            return EnvironmentStep(slot, report.steps, report.env_stats, restarted=True)

    def _record(self) -> None:
        """Write the cluster's nodes, each runner's node and seed, and the replacements so far."""
        for runner in self._runners:
            with contextlib.suppress(Exception):
                runner.node_id = ray.get(runner.actor.node_id.remote(), timeout=CLOSE_TIMEOUT_S)
        record = {
            "address": self.address,
            "nodes": cluster_nodes(),
            "runners": [
                {
                    "slot": slot,
                    "worker_id": runner.worker_id,
                    "seed": self.launcher.seed + runner.worker_id,
                    "node_id": runner.node_id,
                }
                for slot, runner in enumerate(self._runners)
            ],
            "replacements": self.replacements,
        }
        record_cluster(self.launcher.log_folder, record)

    def reset(self) -> list[EnvironmentStep]:
        steps = self._gather([runner.actor.reset.remote() for runner in self._runners])
        self._record()
        return steps

    def start_step(self, actions: Mapping[int, Mapping[str, ActionTuple]]) -> None:
        self._pending = [
            runner.actor.step.remote(actions.get(slot, {})) for slot, runner in enumerate(self._runners)
        ]

    def finish_step(self) -> list[EnvironmentStep]:
        return self._gather(self._pending)

    def set_environment_parameters(self, values: Mapping[str, SamplerSettings]) -> None:
        values = dict(values)
        self.launcher = dataclasses.replace(self.launcher, environment_parameters=values)  # for replacements
        for runner in self._runners:
            runner.actor.set_environment_parameters.remote(values)

    def close(self) -> None:
        closing = [runner.actor.close.remote() for runner in self._runners]
        with contextlib.suppress(Exception):
            ray.wait(closing, num_returns=len(closing), timeout=CLOSE_TIMEOUT_S)
        for runner in self._runners:
            with contextlib.suppress(Exception):
                ray.kill(runner.actor, no_restart=True)
        if self._connected_here:
            ray.shutdown()


def create_ray_env_manager(
    launcher: EnvLauncher, env_settings: EnvironmentSettings, ray_settings: RaySettings
) -> RayEnvManager:
    """The ``rldojo.env_manager`` entry point ``ray``: runners that act themselves with ``acting: runner``."""
    if ray_settings.acting == "runner":
        from rldojo_ray.acting_manager import RayActingEnvManager  # it imports this module

        return RayActingEnvManager(launcher, env_settings, ray_settings)
    return RayEnvManager(launcher, env_settings, ray_settings)
