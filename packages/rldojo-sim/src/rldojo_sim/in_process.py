"""A simulated scene as an in-process ``mlagents_envs.base_env.BaseEnv`` (no gRPC, no subprocess).

It behaves like ``UnityEnvironment`` connected to the scene's build: behavior specs appear with the
first reset, ``step()`` before any reset performs the reset, actions are validated the same way,
and side channels travel as the same bytes (mlagents_envs' ``SideChannelManager`` on this side,
``rldojo_sim.side_channels`` on the scene's side).

A scene that neither masks actions nor groups agents has one plain agent per area and behavior, each
deciding on every step: its env (``VectorSimEnv``) also reports each step as arrays
(``get_vector_steps``, see :mod:`rldojo_unity.vector_steps`), which rldojo's trainer loop reads without
building the ML-Agents objects.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from mlagents_envs.base_env import (
    ActionTuple,
    AgentId,
    BaseEnv,
    BehaviorMapping,
    BehaviorName,
    BehaviorSpec,
    DecisionSteps,
    TerminalSteps,
)
from mlagents_envs.exception import UnityActionException, UnityEnvironmentException
from mlagents_envs.side_channel.incoming_message import IncomingMessage
from mlagents_envs.side_channel.side_channel import SideChannel
from mlagents_envs.side_channel.side_channel_manager import SideChannelManager

from rldojo_sim.academy import Academy, AgentBatch, Frame
from rldojo_sim.scenes.base import Scene
from rldojo_sim.side_channels import STATS_ID
from rldojo_unity.vector_steps import VectorSteps


class SimEnv(BaseEnv):
    """A BaseEnv over an ``Academy``; build one with ``rldojo_sim.make_env``."""

    def __init__(self, academy: Academy, side_channels: Sequence[SideChannel] = ()) -> None:
        self.academy = academy
        channels = list(side_channels)
        if STATS_ID not in {channel.channel_id for channel in channels}:
            channels.append(_StatsSink())
        self._side_channel_manager = SideChannelManager(channels)
        self._specs: dict[str, BehaviorSpec] = {}
        self._state: dict[str, tuple[DecisionSteps, TerminalSteps]] = {}
        self._frame: Frame | None = None
        self._actions: dict[str, ActionTuple] = {}
        self._closed = False

    def reset(self) -> None:
        self._check_open()
        self.academy.receive(self._outgoing_side_channel())
        self._receive(self.academy.reset())
        self._specs = dict(self.academy.behavior_specs)

    def step(self) -> None:
        self._check_open()
        if not self._specs:
            self.reset()
            return
        actions = {
            name: self._actions.get(name) or spec.action_spec.empty_action(len(self._state[name][0]))
            for name, spec in self._specs.items()
        }
        self.academy.receive(self._outgoing_side_channel())
        self._receive(self.academy.step(actions))

    def close(self) -> None:
        self._closed = True

    def render(self) -> np.ndarray:
        """A top-down picture of the scene, every area side by side: ``uint8 [H, W, 3]``."""
        return self.academy.render()

    @property
    def behavior_specs(self) -> Mapping[str, BehaviorSpec]:
        return BehaviorMapping(self._specs)

    def set_actions(self, behavior_name: BehaviorName, action: ActionTuple) -> None:
        spec = self._spec(behavior_name)
        num_agents = len(self._state[behavior_name][0])
        self._actions[behavior_name] = spec.action_spec._validate_action(action, num_agents, behavior_name)

    def set_action_for_agent(
        self, behavior_name: BehaviorName, agent_id: AgentId, action: ActionTuple
    ) -> None:
        spec = self._spec(behavior_name)
        action = spec.action_spec._validate_action(action, 1, behavior_name)
        decisions = self._state[behavior_name][0]
        index = np.flatnonzero(decisions.agent_id == agent_id)
        if index.size == 0:
            raise IndexError(f"agent_id {agent_id} did not request a decision at the previous step")
        pending = self._actions.setdefault(behavior_name, spec.action_spec.empty_action(len(decisions)))
        pending.continuous[index[0]] = action.continuous[0]
        pending.discrete[index[0]] = action.discrete[0]

    def get_steps(self, behavior_name: BehaviorName) -> tuple[DecisionSteps, TerminalSteps]:
        self._spec(behavior_name)
        return self._state[behavior_name]

    def _spec(self, behavior_name: str) -> BehaviorSpec:
        if behavior_name not in self._specs:
            raise UnityActionException(
                f"The group {behavior_name} does not correspond to an existing agent group in the "
                f"environment (known: {', '.join(self._specs) or 'none yet; call reset() first'})"
            )
        return self._specs[behavior_name]

    def _check_open(self) -> None:
        if self._closed:
            raise UnityEnvironmentException("This sim environment is closed; create a new one with make_env.")

    def _outgoing_side_channel(self) -> bytes:
        return bytes(self._side_channel_manager.generate_side_channel_messages())

    def _receive(self, frame: Frame) -> None:
        self._frame = frame
        specs = self.academy.behavior_specs
        self._state = {name: _split_steps(batch, specs[name]) for name, batch in frame.batches.items()}
        self._actions.clear()
        self._side_channel_manager.process_side_channel_message(frame.side_channel)


class VectorSimEnv(SimEnv):
    """A SimEnv of a scene with one plain agent per area (see :func:`reports_vector_steps`), which also
    reports its steps as arrays."""

    def get_vector_steps(self, behavior_name: BehaviorName) -> VectorSteps:
        """What :meth:`get_steps` reports, as arrays (see :mod:`rldojo_unity.vector_steps`)."""
        self._spec(behavior_name)
        assert self._frame is not None
        batch, ended = self._frame.batches[behavior_name], self._frame.ended
        terminal = batch.num_terminal
        rewards = batch.reward[terminal:].copy()  # a new episode's first decision has reward 0 ...
        rewards[ended] = batch.reward[:terminal]  # ... the ended one's last action had this one
        return VectorSteps(
            obs=[obs[terminal:] for obs in batch.obs],
            rewards=rewards,
            agent_ids=batch.agent_id[terminal:],
            ended=ended,
            truncated=self._frame.interrupted,
            final_obs=[obs[:terminal] for obs in batch.obs],
            ended_agent_ids=batch.agent_id[:terminal],
        )


def reports_vector_steps(scene: Scene) -> bool:
    """Whether every behavior of ``scene`` has one agent per area with no action masks and no group."""
    return type(scene).action_masks is Scene.action_masks and type(scene).group_ids is Scene.group_ids


class _StatsSink(SideChannel):
    """Takes the scene's stats when the caller registered no stats channel.

    Without it mlagents_envs warns about an unknown channel, and its ``get_logger`` adds a log
    handler on every warning, so the output grows quadratically.
    """

    def __init__(self) -> None:
        super().__init__(STATS_ID)

    def on_message_received(self, msg: IncomingMessage) -> None:
        pass


def _split_steps(batch: AgentBatch, spec: BehaviorSpec) -> tuple[DecisionSteps, TerminalSteps]:
    t = batch.num_terminal
    action_mask = None
    branches = spec.action_spec.discrete_branches
    if branches:
        mask = (
            batch.action_mask[t:]
            if batch.action_mask is not None
            else np.zeros((len(batch.done) - t, sum(branches)), dtype=bool)
        )
        action_mask = np.split(mask, np.cumsum(branches)[:-1], axis=1)
    decisions = DecisionSteps(
        [o[t:] for o in batch.obs],
        batch.reward[t:],
        batch.agent_id[t:],
        action_mask,
        batch.group_id[t:],
        batch.group_reward[t:],
    )
    terminals = TerminalSteps(
        [o[:t] for o in batch.obs],
        batch.reward[:t],
        batch.interrupted[:t],
        batch.agent_id[:t],
        batch.group_id[:t],
        batch.group_reward[:t],
    )
    return decisions, terminals
