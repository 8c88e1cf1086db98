"""ML-Agents demonstrations (``.demo`` files): reading, spec checks and writing.

A ``.demo`` file is a sequence of length-delimited (varint) protobuf messages, as Unity's
``DemonstrationRecorder`` writes them for one agent:

1. a ``DemonstrationMetaProto`` (name, record and episode counts, mean reward) at offset 0, padded
   so that the next message starts at byte ``META_BYTES`` (33);
2. the behavior's ``BrainParametersProto``;
3. one ``AgentInfoActionPairProto`` per record: the agent's observations and the reward since its
   last decision, then the action it took. A record with ``done`` set holds an episode's final
   observation; its action is not a decision.

Files may carry bytes after ``number_steps`` records; like ML-Agents, reading stops there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from google.protobuf.message import DecodeError
from mlagents_envs.base_env import ActionTuple, BehaviorSpec
from mlagents_envs.communicator_objects.agent_action_pb2 import AgentActionProto
from mlagents_envs.communicator_objects.agent_info_action_pair_pb2 import AgentInfoActionPairProto
from mlagents_envs.communicator_objects.agent_info_pb2 import AgentInfoProto
from mlagents_envs.communicator_objects.brain_parameters_pb2 import ActionSpecProto, BrainParametersProto
from mlagents_envs.communicator_objects.demonstration_meta_pb2 import DemonstrationMetaProto
from mlagents_envs.communicator_objects.observation_pb2 import ObservationProto
from mlagents_envs.rpc_utils import behavior_spec_from_proto, steps_from_proto

from rldojo_unity.errors import ConfigError
from rldojo_unity.varint import decode_varint, encode_varint

__all__ = [
    "META_BYTES",
    "Demonstration",
    "DemonstrationError",
    "DemonstrationMeta",
    "DemonstrationWriter",
    "check_demonstration_spec",
    "demonstration_paths",
    "read_demonstrations",
]

META_BYTES = 33
"""Where the BrainParametersProto starts: the meta message is padded to this many bytes."""
SUPPORTED_API_VERSIONS = (0, 1)
API_VERSION = 1
MAX_NAME_LENGTH = 16
"""Longest demonstration name that keeps the meta message within ``META_BYTES`` (Unity's limit too)."""


class DemonstrationError(ConfigError, ValueError):
    """A demonstration path or file that cannot be used; the message says what to do."""


@dataclass(frozen=True)
class DemonstrationMeta:
    """The header of one ``.demo`` file."""

    path: Path
    name: str
    number_steps: int
    """Records in the file (decisions plus episode-final records)."""
    number_episodes: int
    mean_reward: float
    """Mean return of the recorded episodes, as the recorder computed it."""


@dataclass
class Demonstration:
    """The decisions of one or more ``.demo`` files of one behavior, in recorded order.

    Step ``i`` is one decision: ``observations[k][i]`` is what the agent saw, ``actions`` row ``i``
    what it did, ``rewards[i]`` the reward that action earned (up to the next decision) and
    ``dones[i]`` whether the action ended the episode (``interrupted[i]``: at max steps).
    """

    behavior_name: str
    behavior_spec: BehaviorSpec
    observations: list[np.ndarray]
    """One float32 [steps, *shape] array per observation spec."""
    actions: ActionTuple
    rewards: np.ndarray
    dones: np.ndarray
    interrupted: np.ndarray
    metas: list[DemonstrationMeta] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.rewards)

    def episode_returns(self) -> list[float]:
        """The return of every episode that ends within the demonstration."""
        ends = np.flatnonzero(self.dones)
        starts = np.concatenate([[0], ends[:-1] + 1])
        return [float(self.rewards[start : end + 1].sum()) for start, end in zip(starts, ends, strict=True)]


def demonstration_paths(path: str | Path) -> list[Path]:
    """The ``.demo`` files at ``path``: the file itself, or a folder's ``*.demo`` files in name order."""
    path = Path(path)
    if path.is_dir():
        files = sorted(path.glob("*.demo"))
        if not files:
            raise DemonstrationError(
                f"No .demo files in folder {path}; record some or point demo_path at a file."
            )
        return files
    if not path.is_file():
        raise DemonstrationError(f"Demonstration {path} does not exist; check demo_path.")
    return [path]


def read_demonstrations(path: str | Path) -> Demonstration:
    """Read a ``.demo`` file or a folder of them (all of one behavior spec) into one Demonstration."""
    parts = [_read_file(file) for file in demonstration_paths(path)]
    first = parts[0]
    for part in parts[1:]:
        check_demonstration_spec(part, first.behavior_spec, first.behavior_name)
    return Demonstration(
        behavior_name=first.behavior_name,
        behavior_spec=first.behavior_spec,
        observations=[np.concatenate(obs) for obs in zip(*(p.observations for p in parts), strict=True)],
        actions=ActionTuple(
            continuous=np.concatenate([p.actions.continuous for p in parts]),
            discrete=np.concatenate([p.actions.discrete for p in parts]),
        ),
        rewards=np.concatenate([p.rewards for p in parts]),
        dones=np.concatenate([p.dones for p in parts]),
        interrupted=np.concatenate([p.interrupted for p in parts]),
        metas=[meta for p in parts for meta in p.metas],
    )


def check_demonstration_spec(demo: Demonstration, spec: BehaviorSpec, behavior: str) -> None:
    """Raise DemonstrationError unless ``demo``'s observation shapes and action spec are ``spec``'s."""
    where = ", ".join(str(meta.path) for meta in demo.metas) or demo.behavior_name
    demo_shapes = [obs.shape for obs in demo.behavior_spec.observation_specs]
    shapes = [obs.shape for obs in spec.observation_specs]
    if demo_shapes != shapes:
        raise DemonstrationError(
            f"Demonstration {where} has observation shapes {demo_shapes}, but behavior {behavior} has "
            f"{shapes}; record the demonstration from the same scene as the behavior."
        )
    demo_action, action = demo.behavior_spec.action_spec, spec.action_spec
    if (demo_action.continuous_size, demo_action.discrete_branches) != (
        action.continuous_size,
        action.discrete_branches,
    ):
        raise DemonstrationError(
            f"Demonstration {where} has {_describe_actions(demo.behavior_spec)}, but behavior {behavior} "
            f"has {_describe_actions(spec)}; record the demonstration from the same scene as the behavior."
        )


def _describe_actions(spec: BehaviorSpec) -> str:
    action = spec.action_spec
    return (
        f"{action.continuous_size} continuous actions and discrete branches {list(action.discrete_branches)}"
    )


def _messages(data: bytes, start: int) -> tuple[bytes, int]:
    size, start = decode_varint(data, start)
    if start + size > len(data):
        raise DemonstrationError("truncated message")
    return data[start : start + size], start + size


def _read_file(path: Path) -> Demonstration:
    data = path.read_bytes()
    try:
        meta_bytes, _ = _messages(data, 0)
        meta_proto = DemonstrationMetaProto.FromString(meta_bytes)
        if meta_proto.api_version not in SUPPORTED_API_VERSIONS:
            raise DemonstrationError(f"unsupported api_version {meta_proto.api_version}")
        brain_bytes, position = _messages(data, META_BYTES)
        brain = BrainParametersProto.FromString(brain_bytes)
        records: list[AgentInfoActionPairProto] = []
        while position < len(data) and len(records) < meta_proto.number_steps:
            record_bytes, position = _messages(data, position)
            records.append(AgentInfoActionPairProto.FromString(record_bytes))
    except (DemonstrationError, DecodeError, IndexError) as error:
        raise DemonstrationError(
            f"{path} is not an ML-Agents demonstration file ({error}); record it again."
        ) from None
    if not records:
        raise DemonstrationError(f"Demonstration {path} holds no records; record it again.")
    spec = behavior_spec_from_proto(brain, records[0].agent_info)
    meta = DemonstrationMeta(
        path,
        meta_proto.demonstration_name,
        meta_proto.number_steps,
        meta_proto.number_episodes,
        meta_proto.mean_reward,
    )
    return _decisions(brain.brain_name, spec, records, meta)


def _decisions(
    behavior: str, spec: BehaviorSpec, records: Sequence[AgentInfoActionPairProto], meta: DemonstrationMeta
) -> Demonstration:
    """The decisions among ``records``: every non-final record that a later record follows."""
    steps = [i for i in range(len(records) - 1) if not records[i].agent_info.done]
    decisions, _ = steps_from_proto([records[i].agent_info for i in steps], spec)
    following = [records[i + 1].agent_info for i in steps]
    return Demonstration(
        behavior_name=behavior,
        behavior_spec=spec,
        observations=list(decisions.obs),
        actions=_actions(spec, [records[i].action_info for i in steps]),
        rewards=np.array([info.reward for info in following], dtype=np.float32),
        dones=np.array([info.done for info in following], dtype=bool),
        interrupted=np.array([info.done and info.max_step_reached for info in following], dtype=bool),
        metas=[meta],
    )


def _actions(spec: BehaviorSpec, actions: Sequence[AgentActionProto]) -> ActionTuple:
    """Actions as an ActionTuple; files written before the hybrid action spec only have the legacy field."""
    continuous_size = spec.action_spec.continuous_size
    branches = len(spec.action_spec.discrete_branches)
    continuous = np.zeros((len(actions), continuous_size), dtype=np.float32)
    discrete = np.zeros((len(actions), branches), dtype=np.int32)
    for row, action in enumerate(actions):
        if len(action.continuous_actions) or len(action.discrete_actions):
            continuous[row] = action.continuous_actions
            discrete[row] = action.discrete_actions
        elif continuous_size:
            continuous[row] = action.vector_actions_deprecated
        else:
            discrete[row] = action.vector_actions_deprecated
    return ActionTuple(continuous=continuous, discrete=discrete)


class DemonstrationWriter:
    """Collects one agent's records (``record`` per decision and per episode end) and writes a ``.demo``."""

    def __init__(self, behavior_name: str, spec: BehaviorSpec) -> None:
        self.behavior_name = behavior_name
        self.spec = spec
        self._records: list[bytes] = []
        self._episodes = 0
        self._total_reward = 0.0

    def record(
        self,
        observations: Sequence[np.ndarray],
        reward: float,
        action: ActionTuple | None = None,
        done: bool = False,
        interrupted: bool = False,
    ) -> None:
        """Add one record: one agent's observations (no batch axis), the reward since its last decision,
        and the action it decided on (``None`` for an episode's final record, ``done=True``)."""
        info = AgentInfoProto(reward=reward, done=done, max_step_reached=interrupted)
        for obs, obs_spec in zip(observations, self.spec.observation_specs, strict=True):
            info.observations.append(
                ObservationProto(
                    shape=list(obs_spec.shape),
                    float_data=ObservationProto.FloatData(data=np.asarray(obs, dtype=np.float32).ravel()),
                    dimension_properties=[int(d) for d in obs_spec.dimension_property],
                    observation_type=obs_spec.observation_type.value,
                    name=obs_spec.name,
                )
            )
        proto_action = AgentActionProto()
        if action is not None:
            proto_action.continuous_actions.extend(np.asarray(action.continuous, dtype=np.float32).ravel())
            proto_action.discrete_actions.extend(np.asarray(action.discrete, dtype=np.int32).ravel())
        pair = AgentInfoActionPairProto(agent_info=info, action_info=proto_action)
        self._records.append(pair.SerializeToString())
        self._total_reward += reward
        self._episodes += done

    def write(self, path: str | Path, name: str) -> DemonstrationMeta:
        """Write the records to ``path`` as demonstration ``name`` (at most 16 characters kept)."""
        name = name[:MAX_NAME_LENGTH]
        mean_reward = self._total_reward / self._episodes if self._episodes else 0.0
        meta = DemonstrationMetaProto(
            api_version=API_VERSION,
            demonstration_name=name,
            number_steps=len(self._records),
            number_episodes=self._episodes,
            mean_reward=mean_reward,
        ).SerializeToString()
        header = encode_varint(len(meta)) + meta
        if len(header) > META_BYTES:
            raise DemonstrationError(
                f"Demonstration {name!r} has too many records for one file; record fewer."
            )
        action = self.spec.action_spec
        brain = BrainParametersProto(
            brain_name=self.behavior_name,
            is_training=True,
            action_spec=ActionSpecProto(
                num_continuous_actions=action.continuous_size,
                num_discrete_actions=len(action.discrete_branches),
                discrete_branch_sizes=list(action.discrete_branches),
            ),
        ).SerializeToString()
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as out:
            out.write(header.ljust(META_BYTES, b"\0"))
            for message in (brain, *self._records):
                out.write(encode_varint(len(message)) + message)
        return DemonstrationMeta(
            path, name, len(self._records), self._episodes, float(np.float32(mean_reward))
        )
