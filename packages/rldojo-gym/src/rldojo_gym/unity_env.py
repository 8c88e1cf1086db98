"""``UnityGymEnv``: a Gymnasium env over one agent of one behavior of an mlagents_envs ``BaseEnv``."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.error import ResetNeeded
from mlagents_envs.base_env import DecisionSteps, TerminalSteps

from rldojo_gym.behavior_link import RENDER_MODES, BehaviorLink, EnvSource, checked_render_mode
from rldojo_gym.errors import GymEnvError
from rldojo_gym.spaces import VisualFormat, allowed_actions, take_row

__all__ = ["UnityGymEnv"]

RENDER_FPS = 25
"""Frames per second of recorded videos (one frame per decision)."""

MAX_IDLE_STEPS = 10_000
"""Simulation steps to wait for the agent to report before giving up (it was removed from the scene)."""


class UnityGymEnv(gym.Env[Any, Any]):
    """A scene with one agent of one behavior, as a Gymnasium env.

    ``truncated`` comes from ``TerminalSteps.interrupted`` (max step reached), ``terminated``
    from every other episode end. Discrete action masks are in ``info["action_mask"]`` and from
    :meth:`action_masks` (True = allowed, as sb3-contrib's MaskablePPO expects).

    Args:
        env: a ``BaseEnv`` (a launched build, an in-process scene, ...) or a factory
            ``seed -> BaseEnv``; only with a factory does ``reset(seed=...)`` reach the environment.
        behavior_name: the behavior to drive; needed only when the scene has several.
        seed: the seed the factory starts the first environment with.
        visual_format: ``"chw"`` (float ``[C, H, W]``) or ``"hwc_uint8"`` for visual observations.
        render_mode: ``None`` or ``"rgb_array"``: :meth:`render` returns the environment's picture
            (all areas side by side), when its ``BaseEnv`` draws one (in-process rldojo-sim scenes do).
    """

    metadata: dict[str, Any] = {"render_modes": list(RENDER_MODES), "render_fps": RENDER_FPS}

    def __init__(
        self,
        env: EnvSource,
        *,
        behavior_name: str | None = None,
        seed: int = 0,
        visual_format: VisualFormat | str = VisualFormat.CHW,
        render_mode: str | None = None,
    ):
        checked_render_mode(render_mode)
        self._link = BehaviorLink(env, behavior_name=behavior_name, seed=seed, visual_format=visual_format)
        self.render_mode = self._link.usable_render_mode(render_mode)
        if self._link.num_agents != 1:
            self._link.close()
            raise GymEnvError(
                f"UnityGymEnv drives one agent, but behavior {self._link.behavior_name!r} has "
                f"{self._link.num_agents}: pass num_areas=1 (one training area) to a rldojo/<Scene>-v0 id, "
                "or use gymnasium.make_vec / rldojo_gym.UnityVectorEnv for every agent"
            )
        if not self._link.can_render:
            self.metadata = {**self.metadata, "render_modes": []}
        self.observation_space = self._link.observations.space
        self.action_space = self._link.actions.space
        self._mask = np.ones(self._link.actions.mask_size, dtype=bool)
        self._needs_reset = True

    @property
    def behavior_name(self) -> str:
        return self._link.behavior_name

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict]:
        super().reset(seed=seed)
        decision_steps = self._link.reset(seed)
        if len(decision_steps) != 1:
            raise RuntimeError(
                f"after reset, behavior {self.behavior_name!r} has {len(decision_steps)} agents asking "
                "for a decision instead of 1"
            )
        self._needs_reset = False
        return self._observe(decision_steps)

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict]:
        if self._needs_reset:
            raise ResetNeeded("the episode has ended: call reset() before step()")
        self._link.act(self._link.actions.to_action_tuple(action, num_agents=1))
        decision_steps, terminal_steps = self._wait_for_agent()
        if len(terminal_steps):
            return self._finish(terminal_steps)
        observation, info = self._observe(decision_steps)
        return observation, float(decision_steps.reward[0]), False, False, info

    def _wait_for_agent(self) -> tuple[DecisionSteps, TerminalSteps]:
        for _ in range(MAX_IDLE_STEPS):
            decision_steps, terminal_steps = self._link.advance()
            if len(decision_steps) or len(terminal_steps):
                return decision_steps, terminal_steps
        raise RuntimeError(
            f"the agent of behavior {self.behavior_name!r} did not report for {MAX_IDLE_STEPS} steps"
        )

    def _observe(self, decision_steps: DecisionSteps) -> tuple[Any, dict]:
        observation = take_row(self._link.observations.convert(decision_steps.obs), 0)
        self._mask = allowed_actions(decision_steps, self._link.actions.action_spec)[0]
        info = {"action_mask": self._mask.copy()} if self._mask.size else {}
        return observation, info

    def _finish(self, terminal_steps: TerminalSteps) -> tuple[Any, float, bool, bool, dict]:
        self._needs_reset = True
        self._mask = np.ones_like(self._mask)
        observation = take_row(self._link.observations.convert(terminal_steps.obs), 0)
        truncated = bool(terminal_steps.interrupted[0])
        return observation, float(terminal_steps.reward[0]), not truncated, truncated, {}

    def action_masks(self) -> np.ndarray:
        """Allowed discrete actions for the current decision, ``bool [sum(branch sizes)]``."""
        return self._mask.copy()

    def render(self) -> np.ndarray | None:
        """The scene's picture (``uint8 [H, W, 3]``) with ``render_mode="rgb_array"``, else ``None``."""
        return self._link.render() if self.render_mode == "rgb_array" else None

    def close(self) -> None:
        self._link.close()
