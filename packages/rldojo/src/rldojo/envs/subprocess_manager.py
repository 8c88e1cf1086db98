"""``SubprocessEnvManager``: N env worker processes stepped concurrently, restarted when they fail."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import multiprocessing
import signal
import time
from collections.abc import Mapping
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any

from mlagents_envs.base_env import ActionTuple, BehaviorSpec

from rldojo.envs.factory import env_provider
from rldojo.envs.launcher import EnvLauncher
from rldojo.envs.manager import EnvironmentStep, EnvManager
from rldojo.envs.supervision import EnvWorkerFailed, RestartBudget, WorkerFailure, last_lines
from rldojo.envs.worker import CLOSE, PARAMETERS, RESET, STEP, WorkerReport, run_worker
from rldojo.settings import EnvironmentSettings
from rldojo.settings.environment_parameters import SamplerSettings

__all__ = ["SubprocessEnvManager", "worker_modules"]

logger = logging.getLogger(__name__)

# A worker's env gives up after timeout_wait on its own; its first answer may come this much later.
ANSWER_GRACE_S = 15.0
CLOSE_TIMEOUT_S = 10.0


@dataclass
class _Worker:
    process: BaseProcess
    connection: Connection


class SubprocessEnvManager(EnvManager):
    """``num_envs`` worker processes (``forkserver`` context), each owning the env ``launcher(worker_id)``.

    A worker that exits, times out or reports an error (NaN observations included) is restarted within
    ``env_settings``' restart budget; its next step is a reset marked ``restarted``. Past the budget
    :class:`EnvWorkerFailed` names the worker, the cause and the last lines of its player log.
    """

    def __init__(self, launcher: EnvLauncher, env_settings: EnvironmentSettings):
        self.launcher = launcher
        self.startup_timeout_s = env_settings.timeout_wait + ANSWER_GRACE_S
        self.step_timeout_s = float(env_settings.step_timeout)
        self._answered: set[int] = set()
        """Workers whose current process has answered once (started); the others get the start-up time."""
        self._ever_answered = False
        self.budget = RestartBudget(env_settings)
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(worker_modules(launcher.env_path))  # restarts skip the imports
        self._behavior_specs: dict[str, BehaviorSpec] = {}
        self._workers: list[_Worker] = []
        try:
            for worker_id in range(env_settings.num_envs):
                self._workers.append(self._start(worker_id))
        except BaseException:
            self.close()
            raise

    @property
    def behavior_specs(self) -> Mapping[str, BehaviorSpec]:
        return self._behavior_specs

    def _start(self, worker_id: int) -> _Worker:
        parent_end, worker_end = self._context.Pipe()
        process = self._context.Process(
            target=run_worker,
            args=(worker_end, self.launcher, worker_id),
            name=f"env-worker-{worker_id}",
            daemon=True,  # ended (SIGTERM) rather than waited for when the trainer exits without closing it
        )
        process.start()
        worker_end.close()
        return _Worker(process, parent_end)

    def _send(self, worker_id: int, command: str, payload: Any = None) -> None:
        with contextlib.suppress(OSError):  # a worker that is gone is reported by _receive
            self._workers[worker_id].connection.send((command, payload))

    def _answer_timeout(self, worker_id: int) -> float:
        return self.step_timeout_s if worker_id in self._answered else self.startup_timeout_s

    def _receive(self, worker_id: int, since: float) -> WorkerReport:
        """Worker ``worker_id``'s answer to a request sent at ``since`` (``time.monotonic()``)."""
        worker = self._workers[worker_id]
        timeout = max(0.0, since + self._answer_timeout(worker_id) - time.monotonic())
        ready = wait([worker.connection, worker.process.sentinel], timeout=timeout)
        if worker.connection in ready:
            try:
                kind, payload = worker.connection.recv()
            except (EOFError, OSError):
                kind, payload = "error", None
            if kind == "steps":
                self._answered.add(worker_id)
                self._ever_answered = True
                return payload
            if kind == "fatal":
                raise payload
            if payload is not None:
                raise WorkerFailure(worker_id, payload)
        if not ready:
            what = "step" if worker_id in self._answered else "start-up (timeout_wait)"
            raise WorkerFailure(worker_id, f"no answer within the {what} time-out of {timeout:.0f} s")
        worker.process.join(CLOSE_TIMEOUT_S)
        raise WorkerFailure(worker_id, f"worker process ended ({_exit_description(worker.process.exitcode)})")

    def _send_all(self, command: str, payloads: Mapping[int, Any]) -> None:
        for worker_id in range(len(self._workers)):
            self._send(worker_id, command, payloads.get(worker_id, {}))

    def _gather(self) -> list[EnvironmentStep]:
        """Collect every worker's answer; restart the workers that failed."""
        since = time.monotonic()
        results = []
        for worker_id in range(len(self._workers)):
            try:
                results.append(self._environment_step(worker_id, self._receive(worker_id, since)))
            except WorkerFailure as failure:
                results.append(self._restart(failure))
                since = time.monotonic()  # the restart's time is not theirs
        return results

    def _environment_step(
        self, worker_id: int, report: WorkerReport, restarted: bool = False
    ) -> EnvironmentStep:
        self._behavior_specs.update(report.behavior_specs)
        return EnvironmentStep(worker_id, report.steps, report.env_stats, restarted=restarted)

    def _restart(self, failure: WorkerFailure) -> EnvironmentStep:
        """Replace the failed worker by a fresh one and reset it, as long as the restart budget allows."""
        while True:
            worker_id = failure.worker_id
            refusal = self.budget.spend(worker_id)
            if refusal is not None:
                raise EnvWorkerFailed(self._failure_message(failure, refusal))
            logger.warning("%s; restarting it", failure)
            self._stop(self._workers[worker_id], grace_s=0.0)
            self._answered.discard(worker_id)
            self._workers[worker_id] = self._start(worker_id)
            self._send(worker_id, RESET)
            try:
                report = self._receive(worker_id, time.monotonic())
            except WorkerFailure as next_failure:
                failure = next_failure
                continue
            return self._environment_step(worker_id, report, restarted=True)

    def _failure_message(self, failure: WorkerFailure, refusal: str) -> str:
        log = self.launcher.player_log(failure.worker_id)
        lines = last_lines(log)
        tail = f"; last lines of {log}: " + " | ".join(lines) if lines else f"; no player log at {log}"
        message = f"env worker {failure.worker_id} failed ({failure.cause}), not restarted: {refusal}{tail}"
        if not self._ever_answered:
            message = (
                "no env worker ever started, so the run gives up; if this machine is busy, raise "
                f"--timeout-wait (now {self.startup_timeout_s - ANSWER_GRACE_S:.0f} s). {message}"
            )
        return message

    def reset(self) -> list[EnvironmentStep]:
        self._send_all(RESET, {})
        return self._gather()

    def start_step(self, actions: Mapping[int, Mapping[str, ActionTuple]]) -> None:
        self._send_all(STEP, actions)

    def finish_step(self) -> list[EnvironmentStep]:
        return self._gather()

    def set_environment_parameters(self, values: Mapping[str, SamplerSettings]) -> None:
        values = dict(values)
        self.launcher = dataclasses.replace(self.launcher, environment_parameters=values)  # for restarts
        for worker_id in range(len(self._workers)):
            self._send(worker_id, PARAMETERS, values)

    def close(self) -> None:
        for worker_id in range(len(self._workers)):
            self._send(worker_id, CLOSE)
        for worker in self._workers:
            self._stop(worker)

    @staticmethod
    def _stop(worker: _Worker, grace_s: float = CLOSE_TIMEOUT_S) -> None:
        """Wait up to ``grace_s`` for the worker to close its env and exit, then SIGTERM it (it still closes
        its env, so a launched player does not outlive it), and kill it if that does not end it either."""
        worker.process.join(grace_s)
        if worker.process.is_alive():
            worker.process.terminate()
            worker.process.join(CLOSE_TIMEOUT_S)
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join()
        worker.connection.close()


def worker_modules(env_spec: str | None) -> list[str]:
    """What the forkserver imports once for every worker it forks: the worker's module, and mlagents-envs'
    gRPC side (``rldojo.envs.unity_build``) when the env is a Unity build, not a provider's."""
    modules = [run_worker.__module__]
    if env_spec and env_provider(env_spec) is None:
        modules.append("rldojo.envs.unity_build")
    return modules


def _exit_description(exit_code: int | None) -> str:
    if exit_code is not None and exit_code < 0:
        return f"killed by {signal.Signals(-exit_code).name}"
    return f"exit code {exit_code}"
