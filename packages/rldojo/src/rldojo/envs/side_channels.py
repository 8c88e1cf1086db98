"""Side channels every env worker serves: engine configuration and environment parameters."""

from __future__ import annotations

from collections.abc import Mapping

from mlagents_envs.side_channel.engine_configuration_channel import EngineConfigurationChannel
from mlagents_envs.side_channel.environment_parameters_channel import EnvironmentParametersChannel

from rldojo.errors import ConfigError
from rldojo.settings import (
    ConstantSettings,
    EngineSettings,
    EnvironmentParameterSettings,
    GaussianSettings,
    MultiRangeUniformSettings,
    UniformSettings,
)

__all__ = ["engine_configuration_channel", "environment_parameters_channel"]


def engine_configuration_channel(settings: EngineSettings) -> EngineConfigurationChannel:
    """The channel with ``engine_settings`` queued; they reach the env with the first reset."""
    channel = EngineConfigurationChannel()
    channel.set_configuration_parameters(
        width=settings.width,
        height=settings.height,
        quality_level=settings.quality_level,
        time_scale=settings.time_scale,
        target_frame_rate=settings.target_frame_rate,
        capture_frame_rate=settings.capture_frame_rate,
    )
    return channel


def environment_parameters_channel(
    parameters: Mapping[str, EnvironmentParameterSettings] | None, run_seed: int
) -> EnvironmentParametersChannel:
    """The channel with each parameter's value or sampler queued (sampler seed -1: run seed + index)."""
    channel = EnvironmentParametersChannel()
    for index, (name, settings) in enumerate((parameters or {}).items()):
        if len(settings.curriculum) > 1:
            raise ConfigError(f"not supported yet: curriculum lessons (environment_parameters: {name})")
        value = settings.curriculum[0].value
        seed = value.seed if value.seed != -1 else run_seed + index
        if isinstance(value, ConstantSettings):
            channel.set_float_parameter(name, value.value)
        elif isinstance(value, UniformSettings):
            channel.set_uniform_sampler_parameters(name, value.min_value, value.max_value, seed)
        elif isinstance(value, GaussianSettings):
            channel.set_gaussian_sampler_parameters(name, value.mean, value.st_dev, seed)
        elif isinstance(value, MultiRangeUniformSettings):
            channel.set_multirangeuniform_sampler_parameters(name, [list(i) for i in value.intervals], seed)
    return channel
