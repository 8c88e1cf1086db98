"""Encoding and decoding of the ML-Agents messages a Unity player exchanges (communication 1.5.0).

Uses the message classes shipped in ``mlagents_envs.communicator_objects``. ``FrameEncoder`` turns an
``Academy`` frame into the ``UnityMessageProto`` a player sends; ``decode_actions`` reads the
actions of a ``UnityRLInputProto`` back into one ``ActionTuple`` per behavior.
"""

from __future__ import annotations

import io
import logging

import numpy as np
from mlagents_envs.base_env import ActionTuple, BehaviorSpec
from mlagents_envs.communicator_objects.agent_info_pb2 import AgentInfoProto
from mlagents_envs.communicator_objects.brain_parameters_pb2 import ActionSpecProto, BrainParametersProto
from mlagents_envs.communicator_objects.capabilities_pb2 import UnityRLCapabilitiesProto
from mlagents_envs.communicator_objects.header_pb2 import HeaderProto
from mlagents_envs.communicator_objects.observation_pb2 import NONE, PNG, ObservationProto
from mlagents_envs.communicator_objects.unity_message_pb2 import UnityMessageProto
from mlagents_envs.communicator_objects.unity_output_pb2 import UnityOutputProto
from mlagents_envs.communicator_objects.unity_rl_initialization_output_pb2 import (
    UnityRLInitializationOutputProto,
)
from mlagents_envs.communicator_objects.unity_rl_input_pb2 import UnityRLInputProto
from PIL import Image

from rldojo_sim.academy import AgentBatch, Frame

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


def png_bytes(image: np.ndarray) -> tuple[bytes, list[int]]:
    """Concatenated PNGs of a [C, H, W] image in [0, 1], three channels per PNG, and the channel mapping.

    The channel mapping tells Python which PNG channels make up which observation channel (-1: padding).
    """
    channels = image.shape[0]
    padded = -(-channels // 3) * 3
    pixels = np.zeros((padded, *image.shape[1:]), dtype=np.uint8)
    pixels[:channels] = np.rint(image * 255.0)
    out = io.BytesIO()
    for start in range(0, padded, 3):
        Image.fromarray(np.ascontiguousarray(pixels[start : start + 3].transpose(1, 2, 0))).save(
            out, format="PNG", compress_level=1
        )
    return out.getvalue(), list(range(channels)) + [-1] * (padded - channels)


class FrameEncoder:
    """Builds a player's step messages for the behaviors of one scene."""

    def __init__(self, specs: dict[str, BehaviorSpec], compress_visual: bool = True) -> None:
        self._specs = specs
        self._compress_visual = compress_visual
        self._announced: set[str] = set()

    def encode(self, frame: Frame) -> UnityMessageProto:
        """The message carrying ``frame``; behaviors appear with their BrainParameters the first time."""
        output = UnityOutputProto()
        rl_output = output.rl_output
        rl_output.side_channel = frame.side_channel
        for name, batch in frame.batches.items():
            rl_output.agentInfos[name].value.extend(self._agent_infos(name, batch))
            if name not in self._announced and len(batch.done):
                output.rl_initialization_output.brain_parameters.append(
                    brain_parameters(name, self._specs[name])
                )
                self._announced.add(name)
        return UnityMessageProto(header=HeaderProto(status=STATUS_OK), unity_output=output)

    def _agent_infos(self, name: str, batch: AgentBatch) -> list[AgentInfoProto]:
        spec = self._specs[name]
        observations = [
            self._observations(obs_spec, values)
            for obs_spec, values in zip(spec.observation_specs, batch.obs, strict=True)
        ]
        masks = batch.action_mask.tolist() if batch.action_mask is not None else [[]] * len(batch.done)
        rows = zip(
            batch.reward.tolist(),
            batch.done.tolist(),
            batch.interrupted.tolist(),
            batch.agent_id.tolist(),
            batch.group_id.tolist(),
            batch.group_reward.tolist(),
            strict=True,
        )
        return [
            AgentInfoProto(
                reward=reward,
                done=done,
                max_step_reached=interrupted,
                id=agent_id,
                group_id=group_id,
                group_reward=group_reward,
                action_mask=masks[row],
                observations=[obs[row] for obs in observations],
            )
            for row, (reward, done, interrupted, agent_id, group_id, group_reward) in enumerate(rows)
        ]

    def _observations(self, obs_spec, values: np.ndarray) -> list[ObservationProto]:
        common = {
            "shape": list(obs_spec.shape),
            "dimension_properties": [int(d) for d in obs_spec.dimension_property],
            "observation_type": obs_spec.observation_type.value,
            "name": obs_spec.name,
        }
        if len(obs_spec.shape) == 3 and self._compress_visual:
            protos = []
            for image in values:
                data, mapping = png_bytes(image)
                protos.append(
                    ObservationProto(
                        compression_type=PNG,
                        compressed_data=data,
                        compressed_channel_mapping=mapping,
                        **common,
                    )
                )
            return protos
        flat = values.reshape(len(values), -1).tolist()
        return [
            ObservationProto(compression_type=NONE, float_data=ObservationProto.FloatData(data=row), **common)
            for row in flat
        ]


def decode_actions(
    rl_input: UnityRLInputProto, specs: dict[str, BehaviorSpec], decisions: dict[str, int]
) -> dict[str, ActionTuple]:
    """One ActionTuple per behavior, row i for the i-th agent that requested a decision.

    Agents Python sent no action for get zeros, as Unity's actuators do.
    """
    actions = {}
    for name, spec in specs.items():
        count = decisions.get(name, 0)
        action_spec = spec.action_spec
        action = action_spec.empty_action(count)
        received = rl_input.agent_actions[name].value if name in rl_input.agent_actions else []
        if len(received) not in (0, count):
            logger.warning(
                "Behavior %s: %d actions for %d agents; extra/missing are zero", name, len(received), count
            )
        rows = min(len(received), count)
        if rows and action_spec.continuous_size:
            action.continuous[:rows] = [list(a.continuous_actions) for a in received[:rows]]
        if rows and action_spec.discrete_size:
            action.discrete[:rows] = [list(a.discrete_actions) for a in received[:rows]]
        actions[name] = action
    return actions
