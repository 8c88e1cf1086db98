"""Side channels every env worker serves: engine configuration and environment parameters."""

from __future__ import annotations

from collections.abc import Mapping

from mlagents_envs.side_channel.engine_configuration_channel import EngineConfigurationChannel
from mlagents_envs.side_channel.environment_parameters_channel import EnvironmentParametersChannel

from rldojo.settings import (
    ConstantSettings,
    EngineSettings,
    GaussianSettings,
    MultiRangeUniformSettings,
    UniformSettings,
)
from rldojo.settings.environment_parameters import SamplerSettings

__all__ = ["engine_configuration_channel", "environment_parameters_channel", "queue_environment_parameters"]


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


def environment_parameters_channel(values: Mapping[str, SamplerSettings]) -> EnvironmentParametersChannel:
    """A channel with ``values`` queued (see :func:`queue_environment_parameters`)."""
    channel = EnvironmentParametersChannel()
    queue_environment_parameters(channel, values)
    return channel


def queue_environment_parameters(
    channel: EnvironmentParametersChannel, values: Mapping[str, SamplerSettings]
) -> None:
    """Queue each parameter's constant or sampler (seeds resolved); they reach the env with its next reset
    or step."""
    for name, value in values.items():
        if isinstance(value, ConstantSettings):
            channel.set_float_parameter(name, value.value)
        elif isinstance(value, UniformSettings):
            channel.set_uniform_sampler_parameters(name, value.min_value, value.max_value, value.seed)
        elif isinstance(value, GaussianSettings):
            channel.set_gaussian_sampler_parameters(name, value.mean, value.st_dev, value.seed)
        elif isinstance(value, MultiRangeUniformSettings):
            channel.set_multirangeuniform_sampler_parameters(
                name, [list(i) for i in value.intervals], value.seed
            )
