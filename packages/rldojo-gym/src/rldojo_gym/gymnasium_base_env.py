"""``GymnasiumBaseEnv``: Gymnasium envs as an mlagents_envs ``BaseEnv``, one agent per env copy.

This is the reverse direction, for rldojo's own trainers: ``num_areas`` copies of a Gymnasium env
are the agents of one behavior (like ML-Agents' replicated training areas). Each episode gets a
new agent id, as Unity gives each episode a new id. When a copy's episode ends, the step reports
it in ``TerminalSteps`` (``interrupted`` = truncated and not terminated) and, in the same step,
the first decision of the copy's next episode, as Unity does for an agent that restarts at once.
The same step is also available as arrays (``get_vector_steps``, see :mod:`rldojo_unity.vector_steps`),
which rldojo's trainer loop reads without building the ML-Agents objects.
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
from rldojo_unity.vector_steps import VectorSteps

__all__ = ["GymnasiumBaseEnv", "area_seeds"]


def area_seeds(seed: int, worker_id: int, num_areas: int) -> list[int]:
    """Independent seeds for each env copy of each worker, derived from (seed, worker_id, area)."""
    sequences = (np.random.SeedSequence([seed, worker_id, area]) for area in range(num_areas))
    return [int(sequence.generate_state(1)[0]) for sequence in sequences]


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
        self._no_final_obs = self._encoder.encode_batch([])  # what a step where no episode ended reports
        self._no_agent_ids = np.zeros(0, dtype=np.int32)
        nothing = np.zeros(0, dtype=bool)
        self._steps = self._vector_steps([], np.zeros(0, dtype=np.float32), nothing, nothing, [], [])
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

    def _set_parameter(self, key: str, value: float) -> None:
        for env in self._envs:
            if not hasattr(env.unwrapped, key):
                logger.warn(f"environment parameter {key!r} is not an attribute of {env.unwrapped}; ignored")
                return
            setattr(env.unwrapped, key, value)

    def _start_episode(self, area: int) -> Any:
        """Reset copy ``area`` for a new episode (a new agent id); its first observation."""
        observation, _ = self._envs[area].reset(seed=self._pending_seeds[area])
        self._pending_seeds[area] = None
        self._agent_ids[area] = self._next_agent_id
        self._next_agent_id += 1
        return observation

    def _vector_steps(
        self,
        observations: list[Any],
        rewards: np.ndarray,
        ended: np.ndarray,
        truncated: np.ndarray,
        final_observations: list[Any],
        ended_agent_ids: list[int],
    ) -> VectorSteps:
        return VectorSteps(
            obs=self._encoder.encode_batch(observations),
            rewards=rewards,
            agent_ids=self._agent_ids[: len(observations)].astype(np.int32),
            ended=ended,
            truncated=truncated,
            final_obs=self._encoder.encode_batch(final_observations)
            if final_observations
            else self._no_final_obs,
            ended_agent_ids=np.asarray(ended_agent_ids, dtype=np.int32)
            if ended_agent_ids
            else self._no_agent_ids,
        )

    def reset(self) -> None:
        self._side_channels.deliver()
        count = len(self._envs)
        observations = [self._start_episode(area) for area in range(count)]
        no_ends = np.zeros(count, dtype=bool)
        self._steps = self._vector_steps(
            observations, np.zeros(count, dtype=np.float32), no_ends, no_ends, [], []
        )
        self._actions = None
        self._started = True

    def step(self) -> None:
        if not self._started:
            self.reset()
            return
        self._side_channels.deliver()
        count = len(self._envs)
        action = self._actions or self._specs[self._behavior_name].action_spec.empty_action(count)
        observations, final_observations, ended_agent_ids = [], [], []
        rewards = np.empty(count, dtype=np.float32)
        ended, truncated = np.zeros(count, dtype=bool), np.zeros(count, dtype=bool)
        gym_actions = self._decoder.decode_batch(action.continuous, action.discrete)
        for area, (env, gym_action) in enumerate(zip(self._envs, gym_actions, strict=True)):
            observation, rewards[area], terminated, truncated_now, _ = env.step(gym_action)
            if terminated or truncated_now:
                ended[area], truncated[area] = True, truncated_now and not terminated
                final_observations.append(observation)
                ended_agent_ids.append(int(self._agent_ids[area]))
                observation = self._start_episode(area)
            observations.append(observation)
        self._steps = self._vector_steps(
            observations, rewards, ended, truncated, final_observations, ended_agent_ids
        )
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
        return self._steps.to_steps()

    def get_vector_steps(self, behavior_name: BehaviorName) -> VectorSteps:
        """What :meth:`get_steps` reports, as arrays (see :mod:`rldojo_unity.vector_steps`)."""
        self._check_behavior(behavior_name)
        return self._steps

    def close(self) -> None:
        for env in self._envs:
            env.close()

    def __repr__(self) -> str:
        return f"GymnasiumBaseEnv({self._envs[0]}, num_areas={len(self._envs)})"
