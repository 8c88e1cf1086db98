"""The environment's end of the mlagents_envs side channels, for environments that run in Python.

Messages that Python-side channels queue are packed into the side-channel byte format and
unpacked by environment-side receivers, exactly as between mlagents_envs and a Unity player.
Engine settings (time scale, resolution, ...) mean nothing to a Gymnasium env and are accepted
silently; float environment parameters go to a callback.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence

from gymnasium import logger
from mlagents_envs.side_channel import IncomingMessage, SideChannel
from mlagents_envs.side_channel.environment_parameters_channel import EnvironmentParametersChannel
from mlagents_envs.side_channel.side_channel_manager import SideChannelManager

__all__ = ["ENGINE_CONFIGURATION_CHANNEL_ID", "EnvSideChannels", "IgnoredChannel"]

ENGINE_CONFIGURATION_CHANNEL_ID = uuid.UUID("e951342c-4f7e-11ea-b238-784f4387d1f7")

ParameterSetter = Callable[[str, float], None]


class IgnoredChannel(SideChannel):
    """Receives and drops a channel's messages."""

    def on_message_received(self, msg: IncomingMessage) -> None:
        pass


class _EnvironmentParametersReceiver(SideChannel):
    """Unity's ``EnvironmentParametersChannel`` end: hands float parameters to ``set_parameter``."""

    def __init__(self, set_parameter: ParameterSetter):
        super().__init__(EnvironmentParametersChannel().channel_id)
        self._set_parameter = set_parameter

    def on_message_received(self, msg: IncomingMessage) -> None:
        key = msg.read_string()
        kind = msg.read_int32()
        if kind == EnvironmentParametersChannel.EnvironmentDataTypes.FLOAT:
            self._set_parameter(key, msg.read_float32())
        else:
            logger.warn(f"environment parameter {key!r}: samplers are not supported by gym: envs; ignored")


class EnvSideChannels:
    """Delivers what the Python-side channels queued to the environment's receivers."""

    def __init__(self, python_channels: Sequence[SideChannel], set_parameter: ParameterSetter):
        self._python_channels = list(python_channels)
        self._python_side = SideChannelManager(self._python_channels)
        self._env_side = SideChannelManager(
            [IgnoredChannel(ENGINE_CONFIGURATION_CHANNEL_ID), _EnvironmentParametersReceiver(set_parameter)]
        )

    def deliver(self) -> None:
        """Deliver the queued messages; call it on every reset and step, like a Unity exchange."""
        if any(channel.message_queue for channel in self._python_channels):
            self._env_side.process_side_channel_message(
                bytes(self._python_side.generate_side_channel_messages())
            )
