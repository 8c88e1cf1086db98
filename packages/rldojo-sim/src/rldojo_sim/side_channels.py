"""The Unity end of the side channels: engine configuration and environment parameters in, stats out.

Framing (``[GUID bytes_le][int32 length][payload]`` records) is done by mlagents_envs'
``SideChannelManager`` on both ends, so the in-process environment and the launched player read and
write exactly the bytes a Unity player would.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from mlagents_envs.side_channel.incoming_message import IncomingMessage
from mlagents_envs.side_channel.outgoing_message import OutgoingMessage
from mlagents_envs.side_channel.side_channel import SideChannel
from mlagents_envs.side_channel.side_channel_manager import SideChannelManager
from mlagents_envs.side_channel.stats_side_channel import StatsAggregationMethod

from rldojo_sim.parameters import EnvironmentParameters

ENGINE_CONFIGURATION_ID = uuid.UUID("e951342c-4f7e-11ea-b238-784f4387d1f7")
ENVIRONMENT_PARAMETERS_ID = uuid.UUID("534c891e-810f-11ea-a9d0-822485860400")
STATS_ID = uuid.UUID("a1d8f7b7-cec8-50f9-b78b-d3e165a78520")
TRAINING_ANALYTICS_ID = uuid.UUID("b664a4a9-d86f-5a5f-95cb-e8353a7e8356")

logger = logging.getLogger(__name__)


@dataclass
class EngineConfiguration:
    """The engine settings last received from Python (Unity's defaults until then)."""

    width: int = 84
    height: int = 84
    quality_level: int = 5
    time_scale: float = 1.0
    target_frame_rate: int = -1
    capture_frame_rate: int = 60


class _EngineConfigurationReceiver(SideChannel):
    def __init__(self, configuration: EngineConfiguration) -> None:
        super().__init__(ENGINE_CONFIGURATION_ID)
        self._configuration = configuration

    def on_message_received(self, msg: IncomingMessage) -> None:
        config = self._configuration
        kind = msg.read_int32()
        if kind == 0:
            config.width, config.height = msg.read_int32(), msg.read_int32()
        elif kind == 1:
            config.quality_level = msg.read_int32()
        elif kind == 2:
            config.time_scale = max(1.0, msg.read_float32())  # Unity clamps the time scale to >= 1
        elif kind == 3:
            config.target_frame_rate = msg.read_int32()
        elif kind == 4:
            config.capture_frame_rate = msg.read_int32()
        else:
            logger.warning("Ignoring unknown engine configuration type %d", kind)
            return
        logger.info("Engine configuration received: %s", config)


class _EnvironmentParametersReceiver(SideChannel):
    def __init__(self, parameters: EnvironmentParameters) -> None:
        super().__init__(ENVIRONMENT_PARAMETERS_ID)
        self._parameters = parameters

    def on_message_received(self, msg: IncomingMessage) -> None:
        key = msg.read_string()
        if msg.read_int32() == 0:
            value = msg.read_float32()
            self._parameters.set_float(key, value)
            logger.info("Environment parameter %s = %s", key, value)
            return
        seed, sampler = msg.read_int32(), msg.read_int32()
        if sampler == 0:
            self._parameters.set_uniform(key, seed, msg.read_float32(), msg.read_float32())
        elif sampler == 1:
            self._parameters.set_gaussian(key, seed, msg.read_float32(), msg.read_float32())
        elif sampler == 2:
            self._parameters.set_multirange_uniform(key, seed, msg.read_float32_list())
        else:
            logger.warning("Ignoring environment parameter %s with unknown sampler %d", key, sampler)
            return
        logger.info("Environment parameter %s sampled (sampler %d, seed %d)", key, sampler, seed)


class _TrainingAnalyticsReceiver(SideChannel):
    def __init__(self) -> None:
        super().__init__(TRAINING_ANALYTICS_ID)

    def on_message_received(self, msg: IncomingMessage) -> None:
        logger.debug("Training analytics message ignored (%d bytes)", len(msg.buffer))


class _StatsSender(SideChannel):
    def __init__(self) -> None:
        super().__init__(STATS_ID)

    def on_message_received(self, msg: IncomingMessage) -> None:
        logger.warning("Ignoring a stats message sent by Python; stats flow from the environment")


class UnitySideChannels:
    """The side channels a simulated Unity player serves.

    ``receive`` applies the bytes Python sent with a RESET or STEP; ``send_stat`` queues a stat for
    the stats channel; ``outgoing`` returns (and clears) the bytes to send with the next message.
    """

    def __init__(self, parameters: EnvironmentParameters) -> None:
        self.engine_configuration = EngineConfiguration()
        self._stats = _StatsSender()
        self._manager = SideChannelManager(
            [
                _EngineConfigurationReceiver(self.engine_configuration),
                _EnvironmentParametersReceiver(parameters),
                _TrainingAnalyticsReceiver(),
                self._stats,
            ]
        )

    def receive(self, data: bytes) -> None:
        """Dispatch every record in ``data`` to its channel."""
        if data:
            self._manager.process_side_channel_message(data)

    def send_stat(self, key: str, value: float, aggregation: StatsAggregationMethod) -> None:
        """Queue one stat, as Unity's ``StatsRecorder.Add`` does."""
        msg = OutgoingMessage()
        msg.write_string(key)
        msg.write_float32(value)
        msg.write_int32(aggregation.value)
        self._stats.queue_message_to_send(msg)

    def outgoing(self) -> bytes:
        """The framed records queued since the last call."""
        return bytes(self._manager.generate_side_channel_messages())
