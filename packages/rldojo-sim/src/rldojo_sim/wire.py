"""Encoding and decoding of the ML-Agents messages a Unity player exchanges (communication 1.5.0).

Uses the message classes shipped in ``mlagents_envs.communicator_objects``. ``FrameEncoder`` turns an
``Academy`` frame into the ``UnityMessageProto`` a player sends; ``decode_actions`` reads the
actions of a ``UnityRLInputProto`` back into one ``ActionTuple`` per behavior.
"""

from __future__ import annotations

import logging

import numpy as np
from mlagents_envs.base_env import ActionTuple, BehaviorSpec, ObservationSpec
from mlagents_envs.communicator_objects.brain_parameters_pb2 import ActionSpecProto, BrainParametersProto
from mlagents_envs.communicator_objects.capabilities_pb2 import UnityRLCapabilitiesProto
from mlagents_envs.communicator_objects.header_pb2 import HeaderProto
from mlagents_envs.communicator_objects.observation_pb2 import PNG, ObservationProto
from mlagents_envs.communicator_objects.unity_message_pb2 import UnityMessageProto
from mlagents_envs.communicator_objects.unity_output_pb2 import UnityOutputProto
from mlagents_envs.communicator_objects.unity_rl_initialization_output_pb2 import (
    UnityRLInitializationOutputProto,
)
from mlagents_envs.communicator_objects.unity_rl_input_pb2 import UnityRLInputProto

from rldojo_sim.academy import AgentBatch, Frame
from rldojo_sim.png import encode_rgb
from rldojo_unity.varint import encode_varint

COMMUNICATION_VERSION = "1.5.0"
PACKAGE_VERSION = "0.1.0"
STATUS_OK = 200
STATUS_CLOSE = 400

logger = logging.getLogger(__name__)


def ok_message() -> UnityMessageProto:
    """An empty message with status 200 (the handshake's second call)."""
    return UnityMessageProto(header=HeaderProto(status=STATUS_OK))


def close_message() -> UnityMessageProto:
    """A status-400 message: the player is shutting down (sent on QUIT, as Unity's Dispose does)."""
    return UnityMessageProto(header=HeaderProto(status=STATUS_CLOSE))


def initialization_message() -> UnityMessageProto:
    """The player's first call: academy name, communication version and capabilities."""
    capabilities = UnityRLCapabilitiesProto(
        baseRLCapabilities=True,
        concatenatedPngObservations=True,
        compressedChannelMapping=True,
        hybridActions=True,
        trainingAnalytics=True,
        variableLengthObservation=False,
        multiAgentGroups=True,
    )
    init = UnityRLInitializationOutputProto(
        name="AcademySingleton",
        communication_version=COMMUNICATION_VERSION,
        package_version=PACKAGE_VERSION,
        capabilities=capabilities,
    )
    return UnityMessageProto(
        header=HeaderProto(status=STATUS_OK), unity_output=UnityOutputProto(rl_initialization_output=init)
    )


def brain_parameters(name: str, spec: BehaviorSpec) -> BrainParametersProto:
    """The BrainParametersProto announcing behavior ``name``."""
    action = spec.action_spec
    return BrainParametersProto(
        brain_name=name,
        is_training=True,
        action_spec=ActionSpecProto(
            num_continuous_actions=action.continuous_size,
            num_discrete_actions=len(action.discrete_branches),
            discrete_branch_sizes=list(action.discrete_branches),
        ),
    )


def png_channel_mapping(channels: int) -> list[int]:
    """Which observation channel each channel of the PNGs holds (three per PNG; -1: padding)."""
    padded = -(-channels // 3) * 3
    return list(range(channels)) + [-1] * (padded - channels)


def png_bytes(image: np.ndarray) -> bytes:
    """Concatenated PNGs of a [C, H, W] image in [0, 1], three channels per PNG."""
    mapping = png_channel_mapping(image.shape[0])
    pixels = np.zeros((len(mapping), *image.shape[1:]), dtype=np.uint8)
    pixels[: image.shape[0]] = np.rint(image * 255.0)
    return b"".join(
        encode_rgb(pixels[start : start + 3].transpose(1, 2, 0)) for start in range(0, len(mapping), 3)
    )


def packed_floats(values: np.ndarray) -> list[bytes]:
    """Each row of ``values`` as a serialised ``ObservationProto.FloatData`` (field 1, packed float32).

    Merging these bytes into a message is ~40x faster than extending its repeated field from a list.
    """
    rows = np.ascontiguousarray(values.reshape(len(values), -1), dtype="<f4")
    size = rows.shape[1] * 4
    prefix = bytes([0x0A]) + encode_varint(size)
    return [prefix + row.tobytes() for row in rows]


def observation_template(spec: ObservationSpec, compress_visual: bool) -> ObservationProto:
    """An ObservationProto with everything but the data: shape, sensor name, type, compression."""
    template = ObservationProto(
        shape=list(spec.shape),
        dimension_properties=[int(d) for d in spec.dimension_property],
        observation_type=spec.observation_type.value,
        name=spec.name,
    )
    if len(spec.shape) == 3 and compress_visual:
        template.compression_type = PNG
        if spec.shape[0] % 3:  # padded channels need a mapping; whole PNGs decode faster without one
            template.compressed_channel_mapping.extend(png_channel_mapping(spec.shape[0]))
    return template


def _observation_data(template: ObservationProto, values: np.ndarray) -> list[bytes]:
    """Per row: the PNG bytes or the serialised FloatData of one observation."""
    if template.compression_type == PNG:
        return [png_bytes(image) for image in values]
    return packed_floats(values)


class FrameEncoder:
    """Builds a player's step messages for the behaviors of one scene."""

    def __init__(self, specs: dict[str, BehaviorSpec], compress_visual: bool = True) -> None:
        self._specs = specs
        self._templates = {
            name: [observation_template(obs, compress_visual) for obs in spec.observation_specs]
            for name, spec in specs.items()
        }
        self._announced: set[str] = set()

    def encode(self, frame: Frame) -> UnityMessageProto:
        """The message carrying ``frame``; behaviors appear with their BrainParameters the first time."""
        message = UnityMessageProto(header=HeaderProto(status=STATUS_OK))
        output = message.unity_output
        output.rl_output.side_channel = frame.side_channel
        for name, batch in frame.batches.items():
            self._add_agent_infos(output.rl_output.agentInfos[name].value, name, batch)
            if name not in self._announced and len(batch.done):
                output.rl_initialization_output.brain_parameters.append(
                    brain_parameters(name, self._specs[name])
                )
                self._announced.add(name)
        return message

    def _add_agent_infos(self, infos, name: str, batch: AgentBatch) -> None:
        templates = self._templates[name]
        data = [
            _observation_data(template, values) for template, values in zip(templates, batch.obs, strict=True)
        ]
        masks = batch.action_mask.tolist() if batch.action_mask is not None else None
        rows = zip(
            batch.reward.tolist(),
            batch.done.tolist(),
            batch.interrupted.tolist(),
            batch.agent_id.tolist(),
            batch.group_id.tolist(),
            batch.group_reward.tolist(),
            strict=True,
        )
        for row, (reward, done, interrupted, agent_id, group_id, group_reward) in enumerate(rows):
            info = infos.add(
                reward=reward,
                done=done,
                max_step_reached=interrupted,
                id=agent_id,
                group_id=group_id,
                group_reward=group_reward,
            )
            if masks is not None:
                info.action_mask.extend(masks[row])
            for template, values in zip(templates, data, strict=True):
                observation = info.observations.add()
                observation.CopyFrom(
                    template
                )  # copying a prepared message is faster than keyword construction
                if template.compression_type == PNG:
                    observation.compressed_data = values[row]
                else:
                    observation.float_data.MergeFromString(values[row])


def decode_actions(
    rl_input: UnityRLInputProto, specs: dict[str, BehaviorSpec], decisions: dict[str, int]
) -> dict[str, ActionTuple]:
    """One ActionTuple per behavior, row i for the i-th agent that requested a decision.

    Agents Python sent no action for get zeros, as Unity's actuators do.
    """
    actions = {}
    for name, spec in specs.items():
        count = decisions.get(name, 0)
        received = rl_input.agent_actions[name].value if name in rl_input.agent_actions else []
        if len(received) == count and count:
            actions[name] = ActionTuple(
                continuous=np.array([a.continuous_actions for a in received], dtype=np.float32).reshape(
                    count, -1
                ),
                discrete=np.array([a.discrete_actions for a in received], dtype=np.int32).reshape(count, -1),
            )
            continue
        if received:
            logger.warning(
                "%s: %d actions for %d agents; the missing ones are zero", name, len(received), count
            )
        actions[name] = spec.action_spec.empty_action(count)
        for row, action in enumerate(received[:count]):
            actions[name].continuous[row] = list(action.continuous_actions)
            actions[name].discrete[row] = list(action.discrete_actions)
    return actions
