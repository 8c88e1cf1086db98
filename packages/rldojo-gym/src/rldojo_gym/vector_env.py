"""``UnityVectorEnv``: every agent of one behavior as one sub-environment of a Gymnasium ``VectorEnv``.

ML-Agents scenes replicate agents for throughput (3DBall has 12). Each agent fills a slot; when
its episode ends Unity starts a new episode with a new agent id, which takes over the free slot.
Unity resets agents by itself, so the env uses Gymnasium's ``SAME_STEP`` autoreset mode: the step
that ends an episode returns the first observation of the next one, with the last observation in
``info["final_obs"]`` (and ``info["final_info"]``), both masked by ``info["_final_obs"]``.

One ``step`` advances the simulation until every slot's agent asks for a decision in the same
simulation step. Agents that end an episode between decisions report only a terminal step; the env
keeps stepping until their next episode asks for its first decision. In scenes whose agents decide
at different periods, an agent that asks while others are still pending gets the empty action.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space
from mlagents_envs.base_env import ActionTuple, DecisionSteps, TerminalSteps

from rldojo_gym.behavior_link import RENDER_MODES, BehaviorLink, EnvSource, checked_render_mode
from rldojo_gym.errors import GymEnvError
from rldojo_gym.spaces import VisualFormat, allowed_actions, take_row
from rldojo_gym.unity_env import RENDER_FPS

__all__ = ["UnityVectorEnv"]

MAX_STEPS_PER_DECISION = 10_000
"""Simulation steps one ``step`` may take while waiting for every agent to ask for a decision."""


def _assign_rows(target: Any, slots: np.ndarray, source: Any, rows: np.ndarray) -> None:
    """``target[slots] = source[rows]`` for converted observation batches (arrays or dicts)."""
    if isinstance(target, dict):
        for key in target:
            target[key][slots] = source[key][rows]
    else:
        target[slots] = source[rows]


def _empty_like_batch(batch: Any, num_envs: int) -> Any:
    if isinstance(batch, dict):
        return {key: np.zeros((num_envs, *value.shape[1:]), value.dtype) for key, value in batch.items()}
    return np.zeros((num_envs, *batch.shape[1:]), batch.dtype)


class _VectorEnvClass(type):
    """Names the SB3 adapter in the class's repr.

    Stable-Baselines3, handed a raw ``VectorEnv``, says only ``The environment is of type <repr>, not
    a Gymnasium environment...``; the repr is the one place where rldojo can add what to do instead.
    """

    def __repr__(cls) -> str:
        return (
            f"<class '{cls.__module__}.{cls.__qualname__}'> (a Gymnasium VectorEnv: for Stable-Baselines3 "
            "pass rldojo_gym.sb3.to_sb3_vec_env(env), or the env id to SB3's make_vec_env)"
        )


class UnityVectorEnv(VectorEnv, metaclass=_VectorEnvClass):
    """All agents of one behavior of a ``BaseEnv`` as a Gymnasium vector env (``SAME_STEP`` autoreset).

    Args:
        env: a ``BaseEnv`` or a factory ``seed -> BaseEnv``; only with a factory does
            ``reset(seed=...)`` reach the environment.
        behavior_name: the behavior to drive; needed only when the scene has several.
        seed: the seed the factory starts the first environment with.
        visual_format: ``"chw"`` (float ``[C, H, W]``) or ``"hwc_uint8"`` for visual observations.
        autoreset_mode: only ``AutoresetMode.SAME_STEP``; Unity restarts agents itself, so the
            next-step and disabled modes cannot be honoured.
        render_mode: ``None`` or ``"rgb_array"``: :meth:`render` returns one picture of the whole
            scene (every slot's area side by side), when its ``BaseEnv`` draws one.
    """

    metadata: dict[str, Any] = {
        "autoreset_mode": AutoresetMode.SAME_STEP,
        "render_modes": list(RENDER_MODES),
        "render_fps": RENDER_FPS,
    }

    def __init__(
        self,
        env: EnvSource,
        *,
        behavior_name: str | None = None,
        seed: int = 0,
        visual_format: VisualFormat | str = VisualFormat.CHW,
        autoreset_mode: AutoresetMode | str = AutoresetMode.SAME_STEP,
        render_mode: str | None = None,
    ):
        self.render_mode = checked_render_mode(render_mode)
        if AutoresetMode(autoreset_mode) is not AutoresetMode.SAME_STEP:
            raise GymEnvError(
                f"UnityVectorEnv supports only AutoresetMode.SAME_STEP (Unity restarts agents itself), "
                f"got {autoreset_mode!r}"
            )
        self._link = BehaviorLink(env, behavior_name=behavior_name, seed=seed, visual_format=visual_format)
        if self._link.num_agents == 0:
            self._link.close()
            raise GymEnvError(f"behavior {self._link.behavior_name!r} has no agents asking for decisions")
        self.num_envs = self._link.num_agents
        self.single_observation_space = self._link.observations.space
        self.single_action_space = self._link.actions.space
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._slot_of_agent: dict[int, int] = {}
        self._decision_order = np.zeros(0, dtype=np.int64)  # slot of each row of the last DecisionSteps
        self._masks = np.ones((self.num_envs, self._link.actions.mask_size), dtype=bool)
        self._carried_rewards = np.zeros(self.num_envs, dtype=np.float32)

    @property
    def behavior_name(self) -> str:
        return self._link.behavior_name

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict]:
        super().reset(seed=seed)
        decision_steps = self._link.reset(seed)
        if len(decision_steps) != self.num_envs:
            raise RuntimeError(
                f"after reset, behavior {self.behavior_name!r} has {len(decision_steps)} agents asking for "
                f"a decision instead of {self.num_envs}; UnityVectorEnv needs a fixed number of agents"
            )
        self._slot_of_agent = {int(agent): slot for slot, agent in enumerate(decision_steps.agent_id)}
        self._decision_order = np.arange(self.num_envs)
        self._carried_rewards[:] = 0.0
        self._masks = allowed_actions(decision_steps, self._link.actions.action_spec)
        observations = self._link.observations.convert(decision_steps.obs)
        return observations, self._mask_info()

    def step(self, actions: Any) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, dict]:
        self._send(actions)
        observations: Any = None
        rewards = self._carried_rewards.copy()
        self._carried_rewards[:] = 0.0
        terminated = np.zeros(self.num_envs, dtype=bool)
        truncated = np.zeros(self.num_envs, dtype=bool)
        final_obs = np.full(self.num_envs, None, dtype=object)
        for _ in range(MAX_STEPS_PER_DECISION):
            decision_steps, terminal_steps = self._link.advance()
            self._end_episodes(terminal_steps, rewards, terminated, truncated, final_obs)
            batch = self._link.observations.convert(decision_steps.obs)
            if observations is None:
                observations = _empty_like_batch(batch, self.num_envs)
            slots = self._take_decisions(decision_steps, rewards, ended=terminated | truncated)
            _assign_rows(observations, slots, batch, np.arange(len(slots)))
            if len(slots) == self.num_envs:
                return observations, rewards, terminated, truncated, self._step_info(final_obs)
        raise RuntimeError(
            f"the agents of behavior {self.behavior_name!r} did not all ask for a decision within "
            f"{MAX_STEPS_PER_DECISION} steps; UnityVectorEnv needs a fixed number of agents"
        )

    def _send(self, actions: Any) -> None:
        action = self._link.actions.to_action_tuple(actions, num_agents=self.num_envs)
        order = self._decision_order
        self._link.act(ActionTuple(continuous=action.continuous[order], discrete=action.discrete[order]))

    def _end_episodes(
        self,
        terminal_steps: TerminalSteps,
        rewards: np.ndarray,
        terminated: np.ndarray,
        truncated: np.ndarray,
        final_obs: np.ndarray,
    ) -> None:
        if not len(terminal_steps):
            return
        batch = self._link.observations.convert(terminal_steps.obs)
        for row, agent in enumerate(terminal_steps.agent_id):
            slot = self._slot_of_agent.pop(int(agent))
            rewards[slot] += terminal_steps.reward[row]
            truncated[slot] = bool(terminal_steps.interrupted[row])
            terminated[slot] = not truncated[slot]
            final_obs[slot] = take_row(batch, row)

    def _take_decisions(
        self, decision_steps: DecisionSteps, rewards: np.ndarray, ended: np.ndarray
    ) -> np.ndarray:
        """Map the agents asking for a decision to slots (new episodes take free slots); book their rewards.

        Rewards of an episode that started during this step belong to it, so they are paid with the
        next step instead of the one that ends the previous episode.
        """
        free_slots = sorted(set(range(self.num_envs)) - set(self._slot_of_agent.values()))
        slots = np.empty(len(decision_steps), dtype=np.int64)
        for row, agent in enumerate(decision_steps.agent_id):
            slot = self._slot_of_agent.get(int(agent))
            if slot is None:
                if not free_slots:
                    raise RuntimeError(
                        f"behavior {self.behavior_name!r} now has more than {self.num_envs} agents; "
                        "UnityVectorEnv needs a fixed number of agents"
                    )
                slot = self._slot_of_agent[int(agent)] = free_slots.pop(0)
            slots[row] = slot
            (self._carried_rewards if ended[slot] else rewards)[slot] += decision_steps.reward[row]
        self._decision_order = slots
        self._masks[slots] = allowed_actions(decision_steps, self._link.actions.action_spec)
        return slots

    def _mask_info(self) -> dict[str, Any]:
        if not self._masks.shape[1]:
            return {}
        return {"action_mask": self._masks.copy(), "_action_mask": np.ones(self.num_envs, dtype=bool)}

    def _step_info(self, final_obs: np.ndarray) -> dict[str, Any]:
        info = self._mask_info()
        ended = np.array([obs is not None for obs in final_obs])
        if ended.any():
            info.update(
                final_obs=final_obs,
                _final_obs=ended,
                final_info={},
                _final_info=ended,
            )
        return info

    def action_masks(self) -> np.ndarray:
        """Allowed discrete actions for each slot's current decision, ``bool [num_envs, sum(branches)]``."""
        return self._masks.copy()

    def render(self) -> tuple[np.ndarray, ...] | None:
        """With ``render_mode="rgb_array"``: a 1-tuple holding the picture of the whole scene."""
        return (self._link.render(),) if self.render_mode == "rgb_array" else None

    def close_extras(self, **kwargs: Any) -> None:
        self._link.close()
