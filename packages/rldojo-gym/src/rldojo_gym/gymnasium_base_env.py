"""``GymnasiumBaseEnv``: Gymnasium envs as an mlagents_envs ``BaseEnv``, one agent per env copy.

This is the reverse direction, for rldojo's own trainers: ``num_areas`` copies of a Gymnasium env
are the agents of one behavior (like ML-Agents' replicated training areas). Each episode gets a
new agent id, as Unity gives each episode a new id. When a copy's episode ends, the step reports
it in ``TerminalSteps`` (``interrupted`` = truncated and not terminated) and, in the same step,
the first decision of the copy's next episode, as Unity does for an agent that restarts at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import logger
from mlagents_envs.base_env import (
    ActionTuple,
    AgentId,
    BaseEnv,
    BehaviorMapping,
    BehaviorName,
    DecisionSteps,
    TerminalSteps,
)
from mlagents_envs.exception import UnityActionException
from mlagents_envs.side_channel import SideChannel

from rldojo_gym.env_side_channels import EnvSideChannels
from rldojo_gym.errors import GymEnvError
from rldojo_gym.gym_to_unity import GymActionDecoder, GymObservationEncoder, behavior_spec_of

__all__ = ["GymnasiumBaseEnv", "area_seeds"]


def area_seeds(seed: int, worker_id: int, num_areas: int) -> list[int]:
    """Independent seeds for each env copy of each worker, derived from (seed, worker_id, area)."""
    sequences = (np.random.SeedSequence([seed, worker_id, area]) for area in range(num_areas))
    return [int(sequence.generate_state(1)[0]) for sequence in sequences]


class _StepRecord:
    """Per-agent rows collected while stepping the copies, turned into Decision/TerminalSteps."""

    def __init__(self) -> None:
        self.observations: list[list[np.ndarray]] = []
        self.rewards: list[float] = []
        self.agent_ids: list[int] = []
        self.interrupted: list[bool] = []

    def add(
        self, observation: list[np.ndarray], reward: float, agent_id: int, interrupted: bool = False
    ) -> None:
        self.observations.append(observation)
        self.rewards.append(reward)
        self.agent_ids.append(agent_id)
        self.interrupted.append(interrupted)

    def _columns(self, encoder: GymObservationEncoder) -> list[np.ndarray]:
        if not self.observations:
            return [np.zeros((0, *spec.shape), dtype=np.float32) for spec in encoder.specs]
        return [np.stack(column) for column in zip(*self.observations, strict=True)]

    def decision_steps(self, encoder: GymObservationEncoder) -> DecisionSteps:
        count = len(self.agent_ids)
        return DecisionSteps(
            self._columns(encoder),
            np.asarray(self.rewards, dtype=np.float32),
            np.asarray(self.agent_ids, dtype=np.int32),
            None,
            np.zeros(count, dtype=np.int32),
            np.zeros(count, dtype=np.float32),
        )

    def terminal_steps(self, encoder: GymObservationEncoder) -> TerminalSteps:
        count = len(self.agent_ids)
        return TerminalSteps(
            self._columns(encoder),
            np.asarray(self.rewards, dtype=np.float32),
            np.asarray(self.interrupted, dtype=bool),
            np.asarray(self.agent_ids, dtype=np.int32),
            np.zeros(count, dtype=np.int32),
            np.zeros(count, dtype=np.float32),
        )


class GymnasiumBaseEnv(BaseEnv):
    """``num_areas`` copies of a Gymnasium env as the agents of one ML-Agents behavior.

    Args:
        make_env: builds one copy of the env.
        behavior_name: the behavior's name, without the ``?team=0`` suffix that is appended.
        num_areas: copies stepped together, one agent each.
        seeds: one seed per copy for its first reset (later resets continue its RNG).
        side_channels: mlagents_envs side channels; float environment parameters set the attribute of
            that name on every copy's unwrapped env.
    """

    def __init__(
        self,
        make_env: Callable[[], gym.Env],
        *,
        behavior_name: str,
        num_areas: int = 1,
        seeds: Sequence[int] | None = None,
        side_channels: Sequence[SideChannel] = (),
    ):
        if num_areas < 1:
            raise GymEnvError(f"num_areas must be at least 1, got {num_areas}")
        if seeds is not None and len(seeds) != num_areas:
            raise GymEnvError(f"expected one seed per area ({num_areas}), got {len(seeds)}")
        self._envs = [make_env() for _ in range(num_areas)]
        self._pending_seeds: list[int | None] = list(seeds) if seeds is not None else [None] * num_areas
        self._encoder = GymObservationEncoder(self._envs[0].observation_space)
        self._decoder = GymActionDecoder(self._envs[0].action_space)
        self._behavior_name = f"{behavior_name}?team=0"
        self._specs = BehaviorMapping({self._behavior_name: behavior_spec_of(self._encoder, self._decoder)})
        self._side_channels = EnvSideChannels(side_channels, self._set_parameter)
        self._agent_ids = np.full(num_areas, -1, dtype=np.int64)
        self._next_agent_id = 0
        self._actions: ActionTuple | None = None
        self._steps = (_StepRecord().decision_steps(self._encoder), self._no_terminals())
        self._started = False

    @property
    def envs(self) -> list[gym.Env[Any, Any]]:
        """The env copies, one per agent slot (area)."""
        return self._envs

    @property
    def behavior_specs(self) -> BehaviorMapping:
        return self._specs

    def _check_behavior(self, behavior_name: BehaviorName) -> None:
        if behavior_name != self._behavior_name:
            raise UnityActionException(
                f"unknown behavior {behavior_name!r}; this env has only {self._behavior_name!r}"
            )

    def _no_terminals(self) -> TerminalSteps:
        return _StepRecord().terminal_steps(self._encoder)

    def _set_parameter(self, key: str, value: float) -> None:
        for env in self._envs:
            if not hasattr(env.unwrapped, key):
                logger.warn(f"environment parameter {key!r} is not an attribute of {env.unwrapped}; ignored")
                return
            setattr(env.unwrapped, key, value)

    def _start_episode(self, area: int, record: _StepRecord) -> None:
        observation, _ = self._envs[area].reset(seed=self._pending_seeds[area])
        self._pending_seeds[area] = None
        self._agent_ids[area] = self._next_agent_id
        self._next_agent_id += 1
        record.add(self._encoder.encode(observation), 0.0, int(self._agent_ids[area]))

    def reset(self) -> None:
        self._side_channels.deliver()
        decisions = _StepRecord()
        for area in range(len(self._envs)):
            self._start_episode(area, decisions)
        self._steps = (decisions.decision_steps(self._encoder), self._no_terminals())
        self._actions = None
        self._started = True

    def step(self) -> None:
        if not self._started:
            self.reset()
            return
        self._side_channels.deliver()
        action = self._actions or self._specs[self._behavior_name].action_spec.empty_action(len(self._envs))
        decisions, terminals = _StepRecord(), _StepRecord()
        for area, env in enumerate(self._envs):
            gym_action = self._decoder.decode(action.continuous[area], action.discrete[area])
            observation, reward, terminated, truncated, _ = env.step(gym_action)
            encoded = self._encoder.encode(observation)
            agent_id = int(self._agent_ids[area])
            if terminated or truncated:
                interrupted = bool(truncated and not terminated)
                terminals.add(encoded, float(reward), agent_id, interrupted=interrupted)
                self._start_episode(area, decisions)
            else:
                decisions.add(encoded, float(reward), agent_id)
        self._steps = (decisions.decision_steps(self._encoder), terminals.terminal_steps(self._encoder))
        self._actions = None

    def set_actions(self, behavior_name: BehaviorName, action: ActionTuple) -> None:
        self._check_behavior(behavior_name)
        spec = self._specs[behavior_name].action_spec
        self._actions = spec._validate_action(action, len(self._envs), behavior_name)

    def set_action_for_agent(
        self, behavior_name: BehaviorName, agent_id: AgentId, action: ActionTuple
    ) -> None:
        self._check_behavior(behavior_name)
        spec = self._specs[behavior_name].action_spec
        action = spec._validate_action(action, 1, behavior_name)
        matches = np.flatnonzero(self._agent_ids == agent_id)
        if not len(matches):
            raise UnityActionException(f"agent {agent_id} of {behavior_name!r} is not asking for a decision")
        if self._actions is None:
            self._actions = spec.empty_action(len(self._envs))
        self._actions.continuous[matches[0]] = action.continuous[0]
        self._actions.discrete[matches[0]] = action.discrete[0]

    def get_steps(self, behavior_name: BehaviorName) -> tuple[DecisionSteps, TerminalSteps]:
        self._check_behavior(behavior_name)
        return self._steps

    def close(self) -> None:
        for env in self._envs:
            env.close()

    def __repr__(self) -> str:
        return f"GymnasiumBaseEnv({self._envs[0]}, num_areas={len(self._envs)})"
