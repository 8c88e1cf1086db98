"""Every agent of every behavior of an mlagents_envs ``BaseEnv`` as a PettingZoo ``ParallelEnv`` / ``AECEnv``.

Agents are named ``<behavior>_<slot>`` (``Tennis?team=1_0``, PettingZoo's ``<descriptor>_<number>``
convention): slot ``i`` is the i-th agent of the behavior after a reset. One PettingZoo episode runs
from ``reset()`` until every agent has finished one Unity episode: an agent whose episode ends
reports ``terminated`` (or ``truncated`` for an interrupted one, Unity's max step) with its last
observation and leaves ``agents``. Unity starts its area again at once; that new episode gets
empty (all-zero) actions until the next ``reset()``. A step's reward is the agent's reward plus its
group reward (ML-Agents' agent groups). Discrete action masks are in ``infos[agent]["action_mask"]``
(1 = allowed), shaped as the action space's ``sample(mask)`` takes them (see ``_sample_mask``).

``parallel_env("Tennis")`` / ``aec_env("Tennis")`` build a catalogued scene (rldojo-sim's, ...);
``UnityParallelEnv(env)`` wraps any ``BaseEnv`` (or a factory ``seed -> BaseEnv``, so that
``reset(seed=...)`` reaches the environment), a Unity build included.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium import spaces
from mlagents_envs.base_env import ActionTuple, DecisionSteps, TerminalSteps
from mlagents_envs.side_channel import SideChannel
from pettingzoo import AECEnv, ParallelEnv
from pettingzoo.utils.conversions import parallel_to_aec

from rldojo_gym.behavior_link import RENDER_MODES, BehaviorLink, EnvSource, checked_render_mode
from rldojo_gym.errors import GymEnvError
from rldojo_gym.registration import scene_factory
from rldojo_gym.spaces import (
    DISCRETE_KEY,
    ActionLayout,
    ObservationLayout,
    VisualFormat,
    allowed_actions,
    behavior_layouts,
    take_row,
)
from rldojo_gym.unity_env import RENDER_FPS

__all__ = ["UnityParallelEnv", "aec_env", "parallel_env"]

AGENT_SEPARATOR = "_"
MAX_STEPS_PER_DECISION = 10_000
"""Simulation steps one ``step`` may take while waiting for every live agent to ask for a decision."""


class UnityParallelEnv(ParallelEnv):
    """Every agent of every behavior of a ``BaseEnv`` as a PettingZoo ``ParallelEnv``.

    Args:
        env: a ``BaseEnv`` or a factory ``seed -> BaseEnv``; only with a factory does
            ``reset(seed=...)`` reach the environment.
        seed: the seed the factory starts the first environment with.
        visual_format: ``"chw"`` (float ``[C, H, W]``) or ``"hwc_uint8"`` for visual observations.
        render_mode: ``None`` or ``"rgb_array"`` (the environment's picture, when its ``BaseEnv`` draws one).
    """

    metadata: dict[str, Any] = {
        "name": "rldojo_unity_parallel_v0",
        "render_modes": list(RENDER_MODES),
        "render_fps": RENDER_FPS,
        "is_parallelizable": True,
    }

    def __init__(
        self,
        env: EnvSource,
        *,
        seed: int = 0,
        visual_format: VisualFormat | str = VisualFormat.CHW,
        render_mode: str | None = None,
    ):
        checked_render_mode(render_mode)
        self._link = BehaviorLink(env, seed=seed, visual_format=visual_format)  # owns the env's lifecycle
        self.render_mode = self._link.usable_render_mode(render_mode)
        specs = self._link.env.behavior_specs
        self._layouts: dict[str, tuple[ObservationLayout, ActionLayout]] = {
            behavior: behavior_layouts(spec, VisualFormat(visual_format)) for behavior, spec in specs.items()
        }
        self._name_of: dict[tuple[str, int], str] = {}  # (behavior, Unity agent id) -> agent name
        self._decisions: dict[str, DecisionSteps] = {}
        self.possible_agents = self._take_agents(self._all_steps())
        self.agents: list[str] = []

    def observation_space(self, agent: str) -> spaces.Space:
        return self._layouts[_behavior(agent)][0].space

    def action_space(self, agent: str) -> spaces.Space:
        return self._layouts[_behavior(agent)][1].space

    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
        self._link.reset(seed)
        agents = self._take_agents(self._all_steps())
        if agents != self.possible_agents:
            raise GymEnvError(
                f"after reset the environment has agents {agents} instead of {self.possible_agents}; "
                "UnityParallelEnv needs a fixed set of agents per behavior"
            )
        self.agents = list(agents)
        observations: dict[str, Any] = {}
        infos: dict[str, dict[str, Any]] = {}
        for behavior, decisions in self._decisions.items():
            self._observe(behavior, decisions, observations, infos)
        return observations, infos

    def step(
        self, actions: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, float], dict[str, bool], dict[str, bool], dict[str, dict]]:
        acting = set(self.agents)
        for behavior, decisions in self._decisions.items():
            self._link.env.set_actions(behavior, self._action_tuple(behavior, decisions, actions))
        observations: dict[str, Any] = {}
        infos: dict[str, dict[str, Any]] = {}
        rewards = dict.fromkeys(acting, 0.0)
        terminated = dict.fromkeys(acting, False)
        truncated = dict.fromkeys(acting, False)
        waiting = set(acting)
        for _ in range(MAX_STEPS_PER_DECISION):
            self._link.env.step()
            for behavior, (decisions, terminals) in self._all_steps().items():
                self._end_episodes(behavior, terminals, observations, infos, rewards, terminated, truncated)
                self._decisions[behavior] = decisions
                answered = self._observe(behavior, decisions, observations, infos, rewards)
                waiting -= answered
            waiting -= {agent for agent in acting if terminated[agent] or truncated[agent]}
            if not waiting:
                self.agents = [a for a in self.agents if not (terminated[a] or truncated[a])]
                return observations, rewards, terminated, truncated, infos
        raise RuntimeError(
            f"agents {sorted(waiting)} did not ask for a decision within {MAX_STEPS_PER_DECISION} steps"
        )

    def render(self) -> np.ndarray | None:
        return self._link.render() if self.render_mode == "rgb_array" else None

    def close(self) -> None:
        self._link.close()

    def _all_steps(self) -> dict[str, tuple[DecisionSteps, TerminalSteps]]:
        return {behavior: self._link.env.get_steps(behavior) for behavior in self._layouts}

    def _take_agents(self, steps: dict[str, tuple[DecisionSteps, TerminalSteps]]) -> list[str]:
        """Name the agents asking for a decision after a reset, slot by slot, and remember their ids."""
        self._name_of.clear()
        self._decisions = {behavior: decisions for behavior, (decisions, _) in steps.items()}
        for behavior, decisions in self._decisions.items():
            for slot, agent_id in enumerate(decisions.agent_id):
                self._name_of[(behavior, int(agent_id))] = f"{behavior}{AGENT_SEPARATOR}{slot}"
        return list(self._name_of.values())

    def _action_tuple(self, behavior: str, decisions: DecisionSteps, actions: dict[str, Any]) -> ActionTuple:
        """The actions of the agents asking for a decision; agents not acting in this episode get zeros."""
        layout = self._layouts[behavior][1]
        action = layout.action_spec.empty_action(len(decisions))
        for row, agent_id in enumerate(decisions.agent_id):
            name = self._name_of.get((behavior, int(agent_id)))
            if name in self.agents and name in actions:
                one = layout.to_action_tuple(actions[name], num_agents=1)
                action.continuous[row] = one.continuous[0]
                action.discrete[row] = one.discrete[0]
        return action

    def _observe(
        self,
        behavior: str,
        decisions: DecisionSteps,
        observations: dict[str, Any],
        infos: dict[str, dict[str, Any]],
        rewards: dict[str, float] | None = None,
    ) -> set[str]:
        """Record the observations (and rewards) of this episode's agents that ask for a decision."""
        observation_layout, action_layout = self._layouts[behavior]
        batch = observation_layout.convert(decisions.obs)
        masks = allowed_actions(decisions, action_layout.action_spec)
        answered = set()
        for row, agent_id in enumerate(decisions.agent_id):
            name = self._name_of.get((behavior, int(agent_id)))
            if name is None or name not in self.agents:
                continue  # a new episode of a finished agent's area: not part of this PettingZoo episode
            observations[name] = take_row(batch, row)
            infos[name] = (
                {"action_mask": _sample_mask(masks[row], action_layout.space)} if masks.shape[1] else {}
            )
            if rewards is not None:
                rewards[name] += float(decisions.reward[row] + decisions.group_reward[row])
            answered.add(name)
        return answered

    def _end_episodes(
        self,
        behavior: str,
        terminals: TerminalSteps,
        observations: dict[str, Any],
        infos: dict[str, dict[str, Any]],
        rewards: dict[str, float],
        terminated: dict[str, bool],
        truncated: dict[str, bool],
    ) -> None:
        if not len(terminals):
            return
        batch = self._layouts[behavior][0].convert(terminals.obs)
        for row, agent_id in enumerate(terminals.agent_id):
            name = self._name_of.pop((behavior, int(agent_id)), None)
            if name is None or name not in rewards:
                continue
            observations[name] = take_row(batch, row)
            infos[name] = {}
            rewards[name] += float(terminals.reward[row] + terminals.group_reward[row])
            truncated[name] = bool(terminals.interrupted[row])
            terminated[name] = not truncated[name]


def _behavior(agent: str) -> str:
    return agent.rpartition(AGENT_SEPARATOR)[0]


def parallel_env(
    scene: str,
    *,
    launch: bool = False,
    seed: int = 0,
    side_channels: Sequence[SideChannel] = (),
    visual_format: VisualFormat | str = VisualFormat.CHW,
    render_mode: str | None = None,
    **options: Any,
) -> UnityParallelEnv:
    """A catalogued scene (``"Tennis"``) as a PettingZoo ``ParallelEnv``, in process or ``launch=True``.

    ``options`` are scene options (``num_areas``, ``max_steps``, ...) and, with ``launch=True``,
    ``UnityEnvironment`` options, as for the ``rldojo/<Scene>-v0`` Gymnasium ids.
    """
    factory = scene_factory(scene, launch, side_channels, **options)
    return UnityParallelEnv(factory, seed=seed, visual_format=visual_format, render_mode=render_mode)


def aec_env(scene: str, **options: Any) -> AECEnv:
    """A catalogued scene as a PettingZoo ``AECEnv`` (turn by turn); options as in :func:`parallel_env`."""
    return parallel_to_aec(parallel_env(scene, **options))


def _sample_mask(allowed: np.ndarray, space: spaces.Space) -> Any:
    """One agent's ``bool [sum(branches)]`` mask (True = allowed) in the form ``space.sample(mask)`` takes:
    int8 for ``Discrete``, a tuple of per-branch int8 arrays for ``MultiDiscrete``, and a dict with no
    mask for the continuous part of a hybrid ``Dict`` space."""
    if isinstance(space, spaces.Dict):
        return {
            key: _sample_mask(allowed, sub) if key == DISCRETE_KEY else None for key, sub in space.items()
        }
    mask = allowed.astype(np.int8)
    if isinstance(space, spaces.MultiDiscrete):
        return tuple(np.split(mask, np.cumsum(space.nvec)[:-1]))
    return mask
