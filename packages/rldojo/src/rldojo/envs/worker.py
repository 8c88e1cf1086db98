"""The body of one env worker process: owns one env and answers reset/step/close requests over a pipe.

Requests are ``(command, payload)`` with command ``reset``, ``step`` (payload: actions by behavior id),
``parameters`` (payload: environment parameter values to send with the next reset or step; not answered)
or ``close``. Answers are ``("steps", WorkerReport)``, ``("error", cause)`` for a failure worth a restart, or
``("fatal", ConfigError)`` for a configuration no restart can fix; after either the worker exits.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

import numpy as np
from mlagents_envs.base_env import ActionTuple, BaseEnv, BehaviorSpec, DecisionSteps, TerminalSteps
from mlagents_envs.side_channel.environment_parameters_channel import EnvironmentParametersChannel
from mlagents_envs.side_channel.stats_side_channel import EnvironmentStats, StatsSideChannel

from rldojo.envs.launcher import EnvLauncher
from rldojo.envs.parent_death import end_with_parent
from rldojo.envs.side_channels import environment_parameters_channel, queue_environment_parameters
from rldojo.errors import ConfigError

__all__ = [
    "CLOSE",
    "PARAMETERS",
    "RESET",
    "STEP",
    "WorkerReport",
    "check_observations",
    "report_steps",
    "run_worker",
]

RESET, STEP, PARAMETERS, CLOSE = "reset", "step", "parameters", "close"

logger = logging.getLogger(__name__)


@dataclass
class WorkerReport:
    """What a worker's env reported after a reset or step."""

    steps: dict[str, tuple[DecisionSteps, TerminalSteps]]
    env_stats: EnvironmentStats
    behavior_specs: dict[str, BehaviorSpec]
    """At least the specs of the behaviors the worker reports for the first time (a process worker sends each
    spec once: they do not change, and pickling them every step was a fifth of a 3DBall report's cost)."""


class NanObservationError(RuntimeError):
    """The environment sent an observation containing NaN."""


def check_observations(behavior_name: str, observations: Sequence[np.ndarray]) -> None:
    """NanObservationError when one of ``observations`` (of behavior ``behavior_name``) holds a NaN."""
    for obs in observations:
        if np.issubdtype(obs.dtype, np.floating) and np.isnan(obs).any():
            raise NanObservationError(f"NaN observation from behavior {behavior_name}")


def report_steps(env: BaseEnv, stats_channel: StatsSideChannel) -> WorkerReport:
    """What ``env`` reports now; raises NanObservationError on a NaN observation."""
    steps = {name: env.get_steps(name) for name in env.behavior_specs}
    for name, (decision_steps, terminal_steps) in steps.items():
        check_observations(name, [*decision_steps.obs, *terminal_steps.obs])
    return WorkerReport(steps, stats_channel.get_and_reset_stats(), dict(env.behavior_specs))


def _serve(
    env: BaseEnv,
    stats_channel: StatsSideChannel,
    parameters_channel: EnvironmentParametersChannel,
    connection: Connection,
) -> None:
    specs_sent: set[str] = set()
    while True:
        command, payload = connection.recv()
        if command == CLOSE:
            return
        if command == PARAMETERS:
            queue_environment_parameters(parameters_channel, payload)
            continue
        if command == STEP:
            actions: Mapping[str, ActionTuple] = payload
            for behavior_id, action in actions.items():
                env.set_actions(behavior_id, action)
            env.step()
        else:
            env.reset()
        report = report_steps(env, stats_channel)
        report.behavior_specs = {
            name: spec for name, spec in report.behavior_specs.items() if name not in specs_sent
        }
        specs_sent.update(report.behavior_specs)
        connection.send(("steps", report))


def run_worker(connection: Connection, launcher: EnvLauncher, worker_id: int) -> None:
    """Create worker ``worker_id``'s env and serve requests until ``close`` or the first failure."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the trainer, which closes workers
    end_with_parent()
    env: Any = None
    try:
        stats_channel = StatsSideChannel()
        parameters_channel = environment_parameters_channel(launcher.environment_parameters)
        env = launcher(worker_id, [parameters_channel, stats_channel])
        _serve(env, stats_channel, parameters_channel, connection)
    except (EOFError, BrokenPipeError):  # the trainer is gone
        pass
    except ConfigError as error:
        connection.send(("fatal", error))
    except Exception as error:  # any env failure is reported to the trainer, which decides what to do
        cause = f"{type(error).__name__}: {error}".splitlines()[0]
        try:
            connection.send(("error", cause))
        except OSError:
            logger.warning("env worker %d failed (%s) and could not tell the trainer", worker_id, cause)
    finally:
        if env is not None:
            env.close()
        connection.close()
