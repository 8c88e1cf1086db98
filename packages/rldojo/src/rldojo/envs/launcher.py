"""``EnvLauncher``: creates worker ``i``'s environment from a run's settings; picklable, so worker processes
can be handed one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlagents_envs.base_env import BaseEnv
from mlagents_envs.side_channel.side_channel import SideChannel

from rldojo.envs.factory import create_env
from rldojo.envs.side_channels import engine_configuration_channel
from rldojo.settings import EngineSettings, RunOptions
from rldojo.settings.environment_parameters import SamplerSettings

__all__ = ["EnvLauncher"]


@dataclass(frozen=True)
class EnvLauncher:
    """``launcher(worker_id, side_channels)`` -> the env of worker ``worker_id`` (seed: run seed + worker id).

    Every env gets its own engine-configuration channel; the worker adds the channels it serves while it
    runs (environment parameters, starting from ``environment_parameters``, and stats).
    """

    env_path: str | None
    seed: int
    engine_settings: EngineSettings
    environment_parameters: Mapping[str, SamplerSettings]
    """The value or sampler (seed resolved) each parameter starts with in a new env."""
    log_folder: Path
    options: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_options(
        cls,
        options: RunOptions,
        seed: int,
        log_folder: Path,
        environment_parameters: Mapping[str, SamplerSettings] | None = None,
    ) -> EnvLauncher:
        """The launcher of a run; ``environment_parameters`` default to every parameter's first lesson."""
        if environment_parameters is None:
            from rldojo.curriculum import EnvironmentParameterManager  # it imports torch

            manager = EnvironmentParameterManager(options.environment_parameters, seed)
            environment_parameters = manager.current_values()
        env = options.env_settings
        scene_options = {"num_areas": env.num_areas} if env.num_areas != 1 else {}
        return cls(
            env.env_path,
            seed,
            options.engine_settings,
            environment_parameters,
            log_folder.resolve(),
            {
                "timeout_wait": env.timeout_wait,
                "no_graphics": options.engine_settings.no_graphics,
                "additional_args": env.env_args,
                "base_port": env.base_port,
                **scene_options,
            },
        )

    def player_log(self, worker_id: int) -> Path:
        """Where a launched build of worker ``worker_id`` writes its log (mlagents-envs' naming)."""
        return self.log_folder / f"Player-{worker_id}.log"

    def __call__(self, worker_id: int, side_channels: Sequence[SideChannel] = ()) -> BaseEnv:
        return create_env(
            self.env_path,
            worker_id=worker_id,
            seed=self.seed + worker_id,
            side_channels=[engine_configuration_channel(self.engine_settings), *side_channels],
            log_folder=self.log_folder,
            **self.options,
        )
