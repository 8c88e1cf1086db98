"""Env managers: step every env worker and return what each reported.

``InProcessEnvManager`` runs one worker in this process; ``SubprocessEnvManager`` (subprocess_manager.py)
runs N worker processes behind the same methods.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import cast

from mlagents_envs.base_env import ActionTuple, BaseEnv, BehaviorSpec, DecisionSteps, TerminalSteps
from mlagents_envs.side_channel.environment_parameters_channel import EnvironmentParametersChannel
from mlagents_envs.side_channel.side_channel import SideChannel
from mlagents_envs.side_channel.stats_side_channel import EnvironmentStats, StatsSideChannel

from rldojo.envs.side_channels import queue_environment_parameters
from rldojo.envs.supervision import EnvFailedInProcess
from rldojo.envs.worker import check_observations, report_steps
from rldojo.errors import ConfigError
from rldojo.settings.environment_parameters import SamplerSettings
from rldojo_unity.vector_steps import VECTOR_STEPS_METHOD, VectorSteps, VectorStepsEnv

__all__ = ["EnvManager", "EnvironmentStep", "InProcessEnvManager"]

WorkerEnvFactory = Callable[[int, Sequence[SideChannel]], BaseEnv]
"""``factory(worker_id, side_channels) -> BaseEnv``."""


@dataclass
class EnvironmentStep:
    """What one worker reported after a reset or step."""

    worker_id: int
    steps: Mapping[str, tuple[DecisionSteps, TerminalSteps]]  # by behavior id ("Name?team=0")
    env_stats: EnvironmentStats = field(default_factory=dict)
    restarted: bool = False  # the worker failed and was restarted: its agents' earlier steps are void
    vector_steps: Mapping[str, VectorSteps] = field(default_factory=dict)
    """The same steps as arrays, for the behaviors of an env that reports them (a ``VectorStepsEnv``)."""


class _ConvertedSteps(Mapping[str, tuple[DecisionSteps, TerminalSteps]]):
    """Each behavior's ``VectorSteps`` as ``DecisionSteps`` and ``TerminalSteps``, converted when read."""

    def __init__(self, vector_steps: Mapping[str, VectorSteps]):
        self._vector_steps = vector_steps
        self._converted: dict[str, tuple[DecisionSteps, TerminalSteps]] = {}

    def __getitem__(self, behavior_id: str) -> tuple[DecisionSteps, TerminalSteps]:
        if behavior_id not in self._converted:
            self._converted[behavior_id] = self._vector_steps[behavior_id].to_steps()
        return self._converted[behavior_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._vector_steps)

    def __len__(self) -> int:
        return len(self._vector_steps)


class EnvManager(abc.ABC):
    """The env workers of a run."""

    @property
    @abc.abstractmethod
    def behavior_specs(self) -> Mapping[str, BehaviorSpec]:
        """Specs of every behavior seen so far, by behavior id."""

    @abc.abstractmethod
    def reset(self) -> list[EnvironmentStep]:
        """Reset all workers; one step per worker."""

    @abc.abstractmethod
    def start_step(self, actions: Mapping[int, Mapping[str, ActionTuple]]) -> None:
        """Send ``actions[worker_id][behavior_id]``; workers may step while the caller does other work."""

    @abc.abstractmethod
    def finish_step(self) -> list[EnvironmentStep]:
        """Wait for the step begun by :meth:`start_step`; one step per worker."""

    @abc.abstractmethod
    def set_environment_parameters(self, values: Mapping[str, SamplerSettings]) -> None:
        """Send new environment parameter values to every worker, with its next reset or step."""

    def step(self, actions: Mapping[int, Mapping[str, ActionTuple]]) -> list[EnvironmentStep]:
        """Send ``actions`` and advance every worker."""
        self.start_step(actions)
        return self.finish_step()

    @abc.abstractmethod
    def close(self) -> None:
        """Shut every worker down."""


class _EnvFailures:
    """Around a call of an env stepped in process: any error of the env, but a configuration error, as one
    EnvFailedInProcess naming ``env_spec``. Made once (a generator-based context manager built per step
    cost more than the rest of the manager's step)."""

    def __init__(self, env_spec: str):
        self.env_spec = env_spec

    def __enter__(self) -> None:
        pass

    def __exit__(self, kind: object, error: BaseException | None, traceback: object) -> None:
        if not isinstance(error, Exception) or isinstance(error, ConfigError):
            return
        cause = f"{type(error).__name__}: {error}".splitlines()[0]
        raise EnvFailedInProcess(
            f"{self.env_spec} failed in the trainer's process ({cause}); an env stepped in process "
            "is not restarted: set env_settings.in_process: false (--in-process false) to run it in a "
            "worker process that is restarted when it fails"
        ) from error


class InProcessEnvManager(EnvManager):
    """One env (worker id 0) stepped in this process; ``side_channels`` are served by it, besides its own
    environment-parameters and stats channels. An env that reports its steps as arrays (``gym:``) has
    them passed on as such too (``EnvironmentStep.vector_steps``).

    Nothing isolates the trainer from the env here: an env that raises (or sends a NaN observation) ends
    the run with :class:`EnvFailedInProcess` (the caller still saves its checkpoints), where a worker
    process would have been restarted. ``env_spec`` names the env in that error.
    """

    def __init__(
        self,
        factory: WorkerEnvFactory,
        side_channels: Sequence[SideChannel] = (),
        env_spec: str | None = None,
    ):
        self.parameters_channel = EnvironmentParametersChannel()
        self.stats_channel = StatsSideChannel()
        self._env_failures = _EnvFailures(env_spec or "the env")
        self.env = factory(0, [*side_channels, self.parameters_channel, self.stats_channel])
        reports_vectors = callable(getattr(self.env, VECTOR_STEPS_METHOD, None))
        self._vector_env = cast(VectorStepsEnv, self.env) if reports_vectors else None

    @property
    def behavior_specs(self) -> Mapping[str, BehaviorSpec]:
        return self.env.behavior_specs

    def _collect(self) -> list[EnvironmentStep]:
        if self._vector_env is not None:
            vector = {name: self._vector_env.get_vector_steps(name) for name in self.env.behavior_specs}
            for name, steps in vector.items():
                check_observations(
                    name, [*steps.obs, *steps.final_obs] if len(steps.ended_agent_ids) else steps.obs
                )
            stats = self.stats_channel.get_and_reset_stats()
            return [EnvironmentStep(0, _ConvertedSteps(vector), stats, vector_steps=vector)]
        report = report_steps(self.env, self.stats_channel)
        return [EnvironmentStep(0, report.steps, report.env_stats)]

    def reset(self) -> list[EnvironmentStep]:
        with self._env_failures:
            self.env.reset()
            return self._collect()

    def start_step(self, actions: Mapping[int, Mapping[str, ActionTuple]]) -> None:
        with self._env_failures:
            for behavior_id, action in actions.get(0, {}).items():
                self.env.set_actions(behavior_id, action)

    def finish_step(self) -> list[EnvironmentStep]:
        with self._env_failures:
            self.env.step()
            return self._collect()

    def set_environment_parameters(self, values: Mapping[str, SamplerSettings]) -> None:
        queue_environment_parameters(self.parameters_channel, values)

    def close(self) -> None:
        self.env.close()
